-- Grain: one row per loaded HTX row, with how many units of the same rank report its code in
-- the same year. Units of different rank are no second unit: the workbook contract's order of
-- precedence decides between them (2025: the province over a district merged into it; from
-- 2026: a commune over its own province; the rank is stg_report_precedence's) and
-- report_outranked warns. A unit of another province is of the same rank. Checked by
-- expectations/warehouse/coop_code_in_two_units.json (warning above 1).
-- Only the rows of files in check_run_files (every file, or this run's), counted over every
-- row of their cooperative and year. The value names the units, and the one whose row counts
-- (sql/staging/report_precedence.sql): `6400000001 (663, 664; tính/counted: 663)`.
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
        p.winner_unit_code,
        p.unit_rank
    from stg_report_precedence as p
    inner join run_rows as r on p.coop_code = r.coop_code and p.report_year = r.report_year
),

units as (
    select
        coop_code,
        report_year,
        unit_rank,
        count(distinct unit_code) as units_reporting,
        -- level first, as the order of precedence compares codes: 67 before 664
        string_agg(distinct unit_code, ', ' order by length(unit_code), unit_code) as unit_codes
    from ranked
    group by coop_code, report_year, unit_rank
)

select
    r.file_id,
    r.sheet_name,
    r.excel_row,
    u.units_reporting,
    r.coop_code
    || ' ('
    || u.unit_codes
    || '; tính/counted: '
    || r.winner_unit_code
    || ')' as value
from ranked as r
inner join units as u
    on
    r.coop_code = u.coop_code
    and r.report_year = u.report_year
    and r.unit_rank = u.unit_rank
where r.file_id in (select f.file_id from check_run_files as f)
