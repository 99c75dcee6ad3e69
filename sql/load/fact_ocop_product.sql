-- Grain: one row per product certification reported in a loaded OCOP sheet.
insert into core.fact_ocop_product (
    cooperative_key, coop_code, product_name, product_group, stars, decision_no,
    decision_date, valid_until, period_key, file_id, source_sheet, excel_row
)
with

winning_reports as (
    select distinct
        file_id,
        coop_code,
        report_year
    from stg_report_precedence
    where wins
),

-- Only the rows of the report that wins for the cooperative and year (stg_report_precedence).
products as (
    select r.*
    from stg_ocop as r
    semi join winning_reports as w
        on r.file_id = w.file_id
        and r.coop_code = w.coop_code
        and r.report_year = w.report_year
),

cooperatives as (
    select * from core.dim_cooperative
)

select
    c.cooperative_key,
    o.coop_code,
    o.product_name,
    o.product_group,
    o.stars,
    o.decision_no,
    o.decision_date,
    o.valid_until,
    o.report_year as period_key,
    o.file_id,
    o.sheet_name as source_sheet,
    o.excel_row
from products as o
inner join cooperatives as c
    on o.coop_code = c.coop_code
    and valid_in_year(o.report_year, c.valid_from_year, c.valid_to_year)
