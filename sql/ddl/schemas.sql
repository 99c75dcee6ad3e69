-- The warehouse's schemas. core: the star schema; marts: aggregates for replication
-- analysis; audit: what happened to every file and row.
create schema if not exists core;
create schema if not exists marts;
create schema if not exists audit;
