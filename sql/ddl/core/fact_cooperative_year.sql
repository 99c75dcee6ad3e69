-- Grain: one row per cooperative and reporting year.
create table core.fact_cooperative_year (
    cooperative_key        bigint not null,
    geo_key                bigint not null,
    period_key             integer not null,
    coop_code              varchar not null,
    unit_code              varchar not null,
    members                integer,
    workers                integer,
    charter_capital_mvnd   decimal(18, 6),
    total_assets_mvnd      decimal(18, 6),
    revenue_mvnd           decimal(18, 6),
    profit_before_tax_mvnd decimal(18, 6),
    avg_income_mvnd        decimal(18, 6),
    rating                 varchar,
    score                  double,
    has_offtake_contract   boolean not null,
    note                   varchar,
    file_id                bigint not null,
    source_sheet           varchar not null,
    excel_row              integer not null
);
comment on table core.fact_cooperative_year is 'One row per cooperative and year: size, finances and rating as reported. Money in million VND';
comment on column core.fact_cooperative_year.unit_code is 'The reporting unit whose workbook the row came from: a district (3 digits) up to 2025, a province (2 digits: the one in force in the report year, such as 67 Đắk Nông up to 2024 and 68 Lâm Đồng from 2025), a commune (5 digits) from 2026';
comment on column core.fact_cooperative_year.geo_key is 'The commune the row names (a former one, or from 2025 one in force since 01/07/2025, as the report year says), else the reporting unit (commune unknown)';
comment on column core.fact_cooperative_year.excel_row is 'Row of the HTX sheet, as Excel shows it, the values came from';
comment on column core.fact_cooperative_year.revenue_mvnd is 'Revenue, million VND';
comment on column core.fact_cooperative_year.source_sheet is 'Sheet of the workbook the row came from, as the file names it';
comment on column core.fact_cooperative_year.cooperative_key is 'The cooperative version valid in the report year (core.dim_cooperative)';
comment on column core.fact_cooperative_year.period_key is 'The report year (core.dim_period)';
