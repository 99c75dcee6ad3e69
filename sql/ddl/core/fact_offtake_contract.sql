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
comment on column core.fact_offtake_contract.cooperative_key is 'The cooperative version valid in the report year (core.dim_cooperative)';
comment on column core.fact_offtake_contract.period_key is 'The report year (core.dim_period)';
comment on column core.fact_offtake_contract.partner is 'Partner enterprise (Doanh nghiệp liên kết)';
comment on column core.fact_offtake_contract.product is 'Product contracted (Sản phẩm)';
comment on column core.fact_offtake_contract.volume_tonnes is 'Contracted volume in tonnes (Sản lượng)';
comment on column core.fact_offtake_contract.contract_value_mvnd is 'Contract value, million VND (Giá trị hợp đồng)';
