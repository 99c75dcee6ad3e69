-- Grain: one row per support line of a loaded HoTro sheet.
insert into core.fact_program_support (
    cooperative_key, program_key, period_key, coop_code, funding_source, amount_mvnd,
    content, file_id, source_sheet, excel_row
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
support as (
    select r.*
    from stg_hotro as r
    semi join winning_reports as w
        on r.file_id = w.file_id
        and r.coop_code = w.coop_code
        and r.report_year = w.report_year
),

cooperatives as (
    select * from core.dim_cooperative
),

programs as (
    select * from core.dim_program
)

select
    c.cooperative_key,
    p.program_key,
    s.report_year as period_key,
    s.coop_code,
    s.funding_source,
    s.amount_mvnd,
    s.content,
    s.file_id,
    s.sheet_name as source_sheet,
    s.excel_row
from support as s
inner join cooperatives as c
    on s.coop_code = c.coop_code
    and valid_in_year(s.report_year, c.valid_from_year, c.valid_to_year)
inner join programs as p on s.program = p.program_code
