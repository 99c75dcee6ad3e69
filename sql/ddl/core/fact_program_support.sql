-- Grain: one row per support line of a HoTro sheet.
create table core.fact_program_support (
    cooperative_key bigint not null,
    program_key     integer not null,
    period_key      integer not null,
    coop_code       varchar not null,
    funding_source  varchar,
    amount_mvnd     decimal(18, 6),
    content         varchar,
    file_id         bigint not null,
    source_sheet    varchar not null,
    excel_row       integer not null
);
comment on table core.fact_program_support is 'Support received by cooperatives under programmes, one row per support line. Money in million VND';
comment on column core.fact_program_support.source_sheet is 'Sheet of the workbook the row came from, as the file names it';
comment on column core.fact_program_support.cooperative_key is 'The cooperative version valid in the report year (core.dim_cooperative)';
comment on column core.fact_program_support.program_key is 'The programme (core.dim_program)';
comment on column core.fact_program_support.period_key is 'The report year (core.dim_period)';
comment on column core.fact_program_support.funding_source is 'Source of funds (Nguồn vốn) as reported: Trung ương, Tỉnh, Huyện, Xã, Lồng ghép, Khác';
comment on column core.fact_program_support.content is 'What was supported (Nội dung)';
comment on column core.fact_program_support.amount_mvnd is 'Amount of the support line (Kinh phí), million VND; NULL when the report left the cell blank (not reported, warning amount_required)';
