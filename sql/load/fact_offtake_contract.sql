-- Grain: one row per contract reported in a loaded LienKet sheet.
insert into core.fact_offtake_contract (
    cooperative_key, coop_code, period_key, partner, product, volume_tonnes,
    contract_value_mvnd, file_id, source_sheet, excel_row
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
contracts as (
    select r.*
    from stg_lienket as r
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
    l.coop_code,
    l.report_year as period_key,
    l.partner,
    l.product,
    l.volume_tonnes,
    l.contract_value_mvnd,
    l.file_id,
    l.sheet_name as source_sheet,
    l.excel_row
from contracts as l
inner join cooperatives as c
    on l.coop_code = c.coop_code
    and valid_in_year(l.report_year, c.valid_from_year, c.valid_to_year)
