-- Grain: one row per file whose staged rows the warehouse's star schema was built from, with
-- the digest of those rows and the reader and rules that staged them (as the ledger recorded
-- them). A later build starts from this warehouse and rebuilds only the cooperatives of the
-- files that came, left or were staged again when these are what the build cache still
-- holds (etl/warehouse/build.py); else it builds everything again.
create table if not exists audit.build_inputs (
    file_id       bigint primary key,
    staged_digest varchar,
    staged_by     varchar
);
comment on table audit.build_inputs is 'The files (and the digest of their staged rows) this warehouse was built from';
