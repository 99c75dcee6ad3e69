-- Grain: one row per loaded HTX row, with how many units of the same rank report its code in
-- the same year. Units of different rank are no second unit: the workbook contract's order of
-- precedence decides between them (2025: the province over a district; from 2026: a commune
-- over the province) and report_outranked warns. Checked by
-- expectations/warehouse/coop_code_in_two_units.json (warning above 1).
-- Only the rows of files in check_run_files (every file, or this run's), counted over every
-- row of their cooperative and year.
with

run_rows as (
    select distinct
        coop_code,
        report_year
    from stg_report_precedence
    where file_id in (select r.file_id from check_run_files as r)
),

ranked as (
    select
        p.file_id,
        p.sheet_name,
        p.excel_row,
        p.coop_code,
        p.report_year,
        p.unit_code,
        case
            when p.report_year = 2025 and p.unit_level = 'province' then 0
            when p.report_year >= 2026 and p.unit_level = 'commune' then 0
            when p.report_year >= 2025 then 1
            else 0
        end as unit_rank
    from stg_report_precedence as p
    inner join run_rows as r on p.coop_code = r.coop_code and p.report_year = r.report_year
),

counted as (
    select
        file_id,
        sheet_name,
        excel_row,
        coop_code as value,
        count(distinct unit_code) over (
            partition by coop_code, report_year, unit_rank
        ) as units_reporting
    from ranked
)

select
    file_id,
    sheet_name,
    excel_row,
    value,
    units_reporting
from counted
where file_id in (select r.file_id from check_run_files as r)
