-- Grain: one information finding (a sheet found by its header, a section title's value
-- supplied to a row, an unknown extra column): what the reader absorbed and says so.
-- The ledger keeps these with the file's errors and warnings (its audit.rejected_row); a
-- warehouse holds them here, so that its audit.rejected_row has errors and warnings only.
create table if not exists audit.info_finding (
    file_id     bigint not null,
    sheet       varchar,
    excel_row   integer,
    column_name varchar,
    value       varchar,
    rule        varchar not null,
    severity    varchar not null check (severity = 'info'),
    message     varchar not null,
    cell        varchar
);
comment on table audit.info_finding is 'Information findings of every file: drift the reader absorbed and reports (never an alert, never a rejection)';
comment on column audit.info_finding.file_id is 'The file (audit.file_ingestion.file_id)';
comment on column audit.info_finding.sheet is 'Sheet name as written in the workbook; NULL for a finding of the whole file';
comment on column audit.info_finding.excel_row is 'Row number as Excel shows it, counting title rows and headers';
comment on column audit.info_finding.column_name is 'Column header as in the template, or as written for an unknown column';
comment on column audit.info_finding.value is 'The cell''s content as written (its first characters), or the value supplied';
comment on column audit.info_finding.rule is 'Identifier of the finding, such as column_unknown or sheet_found_by_header';
comment on column audit.info_finding.severity is 'Always info (the same columns as audit.rejected_row)';
comment on column audit.info_finding.message is 'What the reader did, in Vietnamese then English';
comment on column audit.info_finding.cell is 'Excel address of the cell, such as P37, where the finding belongs to one cell';
