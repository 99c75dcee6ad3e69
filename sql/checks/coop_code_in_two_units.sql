-- Grain: one row per loaded HTX row, with how many units report its code in the same year as
-- rivals of its unit: every unit reporting it but those the workbook contract's order of
-- precedence orders against it within their province (2025: the province over a district
-- merged into it; from 2026: a commune over its own province; unit_rank in
-- stg_report_precedence), which report_outranked warns. Units of two provinces, or of equal
-- rank in one, are rivals. Checked by expectations/warehouse/coop_code_in_two_units.json
-- (warning above 1).
-- Only the rows of files in check_run_files (every file, or this run's), counted over every
-- row of their cooperative and year. The value names the unit, its rivals and the unit whose
-- row counts (sql/staging/report_precedence.sql): `6400000001 (663, 664; tính/counted:
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

-- The unit that counts for each cooperative and year.
winners as (
    select distinct
        coop_code,
        report_year,
        winner_unit_code
    from stg_report_precedence
),

-- Each unit with every unit reporting the cooperative that year, and whether that one is its
-- rival: not one of its own province the order of precedence ranks apart from it.
pairs as (
    select
        u.coop_code,
        u.report_year,
        u.unit_code,
        v.unit_code as other_code,
        case
            when u.unit_rank = v.unit_rank then true
            when u.unit_province_code = v.unit_province_code then false
            -- two units of no known province: one province, as in the first-half view
            when u.unit_province_code is null and v.unit_province_code is null then false
            else true
        end as rival
    from unit_years as u
    inner join unit_years as v
        on u.coop_code = v.coop_code and u.report_year = v.report_year
),

-- Per unit: its rivals counted, and named with the unit that counts, which may be one of its
-- own province that outranks it (Hà Nội's 001 under its province 01, beside Lâm Đồng's 68).
rivals as (
    select
        p.coop_code,
        p.report_year,
        p.unit_code,
        count(distinct p.other_code) filter (where p.rival) as units_reporting,
        -- level first, as the order of precedence compares codes: 67 before 664
        string_agg(
            distinct p.other_code, ', ' order by length(p.other_code), p.other_code
        ) filter (where p.rival or p.other_code = w.winner_unit_code) as unit_codes
    from pairs as p
    inner join winners as w on p.coop_code = w.coop_code and p.report_year = w.report_year
    group by p.coop_code, p.report_year, p.unit_code
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
