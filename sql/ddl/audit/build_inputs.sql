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
comment on column audit.build_inputs.file_id is 'A file the star schema was built from (audit.file_ingestion.file_id)';
comment on column audit.build_inputs.staged_digest is 'Digest of the file''s staged rows the build used (audit.file_ingestion.staged_digest then)';
comment on column audit.build_inputs.staged_by is 'Stamp of the reader, rules and reference data that staged those rows';
