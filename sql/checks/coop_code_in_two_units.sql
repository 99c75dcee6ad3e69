-- Grain: one row per loaded HTX row, with how many units report its code in the same year as
-- rivals of its unit: every unit reporting it but those the workbook contract's order of
-- precedence orders against it within their province (2025: the province over a district
-- merged into it; from 2026: a commune over its own province; unit_rank in
-- stg_report_precedence), which report_outranked warns. Units of two provinces, or of equal
-- rank in one, are rivals. Checked by expectations/warehouse/coop_code_in_two_units.json
-- (warning above 1).
-- Only the rows of files in check_run_files (every file, or this run's), counted over every
-- row of their cooperative and year. The value names the unit and its rivals, and the one
-- whose row counts (sql/staging/report_precedence.sql): `6400000001 (663, 664; tính/counted:
-- 663)`.
with

run_rows as (
    select distinct
        coop_code,
        report_year
    from stg_report_precedence
    where file_id in (select r.file_id from check_run_files as r)
),

unit_years as (
    select distinct
        p.coop_code,
        p.report_year,
        p.unit_code,
        p.unit_province_code,
        p.unit_rank
    from stg_report_precedence as p
    inner join run_rows as r on p.coop_code = r.coop_code and p.report_year = r.report_year
),

rivals as (
    select
        u.coop_code,
        u.report_year,
        u.unit_code,
        count(distinct v.unit_code) as units_reporting,
        -- level first, as the order of precedence compares codes: 67 before 664
        string_agg(distinct v.unit_code, ', ' order by length(v.unit_code), v.unit_code)
            as unit_codes
    from unit_years as u
    inner join unit_years as v
        on u.coop_code = v.coop_code and u.report_year = v.report_year
    where
        not (
            u.unit_province_code is not distinct from v.unit_province_code
            and u.unit_rank <> v.unit_rank
        )
    group by u.coop_code, u.report_year, u.unit_code
)

select
    p.file_id,
    p.sheet_name,
    p.excel_row,
    r.units_reporting,
    p.coop_code
    || ' ('
    || r.unit_codes
    || '; tính/counted: '
    || p.winner_unit_code
    || ')' as value
from stg_report_precedence as p
inner join rivals as r
    on
    p.coop_code = r.coop_code
    and p.report_year = r.report_year
    and p.unit_code = r.unit_code
where p.file_id in (select f.file_id from check_run_files as f)
