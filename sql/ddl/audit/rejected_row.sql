-- Grain: one row per failing cell (or per file-level problem, with no row or column).
create table if not exists audit.rejected_row (
    file_id     bigint not null,
    sheet       varchar,
    excel_row   integer,
    column_name varchar,
    value       varchar,
    rule        varchar not null,
    severity    varchar not null check (severity in ('error', 'warning', 'info')),
    message     varchar not null,
    cell        varchar
);
comment on table audit.rejected_row is 'Every failing cell of every file: errors reject the file, warnings do not';
comment on column audit.rejected_row.excel_row is 'Row number as Excel shows it, counting title rows and headers';
comment on column audit.rejected_row.message is 'What is wrong, in Vietnamese then English';
comment on column audit.rejected_row.severity is 'error: rejects the file; warning: recorded and alerted, not rejected. The ledger keeps info findings here too; a warehouse holds them in audit.info_finding';
comment on column audit.rejected_row.cell is 'Excel address of the failing cell, such as P37, where the problem belongs to one cell';
comment on column audit.rejected_row.file_id is 'The file (audit.file_ingestion.file_id)';
comment on column audit.rejected_row.sheet is 'Sheet name as written in the workbook; NULL for a problem of the whole file';
comment on column audit.rejected_row.column_name is 'Column header as in the template; NULL for a problem of a row or the file';
comment on column audit.rejected_row.value is 'The cell''s content as written (its first characters); a money number as staged, in million VND with its unit: -45 triệu đồng for a cell -45.000.000 đ';
comment on column audit.rejected_row.rule is 'Identifier of the rule or expectation that failed';
