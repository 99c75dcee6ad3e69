-- Grain: one row per file seen (a further copy of a seen file is its own row, `duplicate`).
create table if not exists audit.file_ingestion (
    file_id       bigint primary key,
    file_name     varchar not null,
    sha256        varchar not null,
    size_bytes    bigint not null,
    unit_code     varchar,
    report_year   integer,
    status        varchar not null check (
        status in ('loaded', 'quarantined', 'duplicate', 'superseded')
    ),
    rows_read     integer not null default 0,
    rows_loaded   integer not null default 0,
    rows_rejected integer not null default 0,
    reason        varchar,
    run_id        varchar not null,
    ingested_at   timestamptz not null,
    -- additions beyond the contract
    raw_path      varchar,
    prepared_on   date,
    identified_by varchar,
    warnings      integer not null default 0,
    duplicate_of  bigint,
    superseded_by bigint,
    staged_digest varchar,
    staged_by     varchar,
    landed_at     timestamptz
);
comment on table audit.file_ingestion is 'One row per file seen, with its outcome: loaded, quarantined, duplicate or superseded';
comment on column audit.file_ingestion.file_id is 'Identifier of the file, referenced by every fact row';
comment on column audit.file_ingestion.sha256 is 'SHA-256 of the file content: the file''s identity';
comment on column audit.file_ingestion.status is 'loaded, quarantined (rejected, nothing loaded), duplicate (identical to an earlier file) or superseded (replaced by a later file for the same unit and year)';
comment on column audit.file_ingestion.rows_loaded is 'Rows of the file in the fact tables: those read, less any another report wins (a commune''s over its province''s; in 2025 the province''s over a district''s merged into it; a unit''s of another province); 0 unless loaded';
comment on column audit.file_ingestion.reason is 'Why the file has its status, in Vietnamese then English';
comment on column audit.file_ingestion.raw_path is 'The immutable copy of the file kept by the pipeline, named by hash';
comment on column audit.file_ingestion.staged_digest is 'Digest of the rows staged from the file (per sheet: row count and an order-free hash); a reprocessed file whose rows differ rebuilds the warehouse';
comment on column audit.file_ingestion.staged_by is 'Stamp of the reader, rules and reference data that staged the file; a file staged by others is staged again from its raw copy';
comment on column audit.file_ingestion.landed_at is 'When the file landed: its modification time in the landing folder when a run found it. Of two files for one unit and year with the same Ngày lập found by the same run, the one that landed later counts';
comment on column audit.file_ingestion.file_name is 'Name of the file as it arrived, relative to the landing folder';
comment on column audit.file_ingestion.size_bytes is 'Size of the file in bytes';
comment on column audit.file_ingestion.unit_code is 'Reporting unit: GSO code of the district (3 digits), province (2) or, from 2026, commune (5); NULL when not identified';
comment on column audit.file_ingestion.report_year is 'Year the report covers; NULL when not identified';
comment on column audit.file_ingestion.rows_read is 'Data rows read from the file''s sheets (titles, totals and blank rows not counted)';
comment on column audit.file_ingestion.rows_rejected is 'Rows with at least one error (a file with any is quarantined)';
comment on column audit.file_ingestion.run_id is 'The Airflow run (or htx command) that last processed the file';
comment on column audit.file_ingestion.ingested_at is 'When the file was last processed';
comment on column audit.file_ingestion.prepared_on is 'Ngày lập: the date the report was prepared, from ThongTin; of two reports of one unit and year the later one counts';
comment on column audit.file_ingestion.identified_by is 'Where the unit and year came from: the ThongTin sheet, the file name, or both';
comment on column audit.file_ingestion.warnings is 'Warnings found in the file itself when it was staged (recorded and alerted, not rejecting); those across files and years are in audit.rejected_row, and the quality report counts both';
comment on column audit.file_ingestion.duplicate_of is 'For a duplicate: the file_id of the identical file received first';
comment on column audit.file_ingestion.superseded_by is 'For a superseded file: the file_id of the report that replaced it';
