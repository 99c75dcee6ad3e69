-- Grain: one row per product certification reported in a year.
create table core.fact_ocop_product (
    cooperative_key bigint not null,
    coop_code       varchar not null,
    product_name    varchar not null,
    product_group   varchar,
    stars           integer,
    decision_no     varchar,
    decision_date   date,
    valid_until     date,
    period_key      integer not null,
    file_id         bigint not null,
    source_sheet    varchar not null,
    excel_row       integer not null
);
comment on table core.fact_ocop_product is 'OCOP-certified products of cooperatives as reported each year';
comment on column core.fact_ocop_product.valid_until is 'Decision date plus 36 months: the certificate''s end of validity';
comment on column core.fact_ocop_product.source_sheet is 'Sheet of the workbook the row came from, as the file names it';
comment on column core.fact_ocop_product.cooperative_key is 'The cooperative version valid in the report year (core.dim_cooperative)';
comment on column core.fact_ocop_product.product_name is 'Product name as reported (Tên sản phẩm)';
comment on column core.fact_ocop_product.product_group is 'OCOP product group (Nhóm sản phẩm)';
comment on column core.fact_ocop_product.stars is 'OCOP stars, 3-5 (5: national level); NULL when the report left the cell blank (not reported, warning stars_required)';
comment on column core.fact_ocop_product.decision_no is 'Number of the certification decision (Số quyết định)';
comment on column core.fact_ocop_product.decision_date is 'Date of the certification decision (Ngày quyết định)';
comment on column core.fact_ocop_product.period_key is 'The report year (core.dim_period)';
