-- The warehouse's schemas. core: the star schema; intermediate: tables that only feed the
-- marts (sql/intermediate/); marts: aggregates for replication analysis; audit: what
-- happened to every file and row.
create schema if not exists core;
create schema if not exists intermediate;
create schema if not exists marts;
create schema if not exists audit;
