-- Grain: one row per loaded HTX row, with how many units of the same rank report its code in
-- the same year. Units of different rank are no second unit: the workbook contract's order of
-- precedence decides between them (2025: the province over a district; from 2026: a commune
-- over the province) and report_outranked warns. Checked by
-- expectations/warehouse/coop_code_in_two_units.json (warning above 1).
with

ranked as (
    select
        file_id,
        sheet_name,
        excel_row,
        coop_code,
        report_year,
        unit_code,
        case
            when report_year = 2025 and unit_level = 'province' then 0
            when report_year >= 2026 and unit_level = 'commune' then 0
            when report_year >= 2025 then 1
            else 0
        end as unit_rank
    from stg_report_precedence
)

select
    file_id,
    sheet_name,
    excel_row,
    coop_code as value,
    count(distinct unit_code) over (
        partition by coop_code, report_year, unit_rank
    ) as units_reporting
from ranked
