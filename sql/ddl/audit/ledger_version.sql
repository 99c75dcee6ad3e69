-- Grain: one row per layout change applied to the ledger (the pipeline's own DuckDB under
-- the state directory; not a table of the warehouse). The highest version is the ledger's
-- layout; a ledger without this table was made by release 90c1f14 or before (version 0).
create table if not exists audit.ledger_version (
    version     integer primary key,
    applied_at  timestamptz not null,
    description varchar not null
);
comment on table audit.ledger_version is 'Layout versions of the ledger: which migrations brought it up to date, and when';
