-- Grain: one row per offtake / value-chain contract reported in a year.
create table core.fact_offtake_contract (
    cooperative_key     bigint not null,
    coop_code           varchar not null,
    period_key          integer not null,
    partner             varchar not null,
    product             varchar,
    volume_tonnes       double,
    contract_value_mvnd decimal(18, 6),
    file_id             bigint not null,
    source_sheet        varchar not null,
    excel_row           integer not null
);
comment on table core.fact_offtake_contract is 'Offtake and value-chain contracts between cooperatives and enterprises. Money in million VND';
comment on column core.fact_offtake_contract.source_sheet is 'Sheet of the workbook the row came from, as the file names it';
