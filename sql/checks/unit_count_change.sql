-- Grain: one row per report whose number of cooperatives can be compared like with like with
-- the year before: the ratio of the two. Checked by expectations/warehouse/unit_count_change.json.
-- - A district's or a commune's report: against the same unit's report of the year before.
-- - A province's report: the province's total over all its reports of the year (its own,
--   its communes', its districts') against its total the year before, over the same area
--   (the province in force in the later year), only when both years have a report from the
--   province code itself.
-- Counted as reported (every loaded report's HTX rows, won or outranked), each cooperative
-- once. `causes`: the reports of both years, the later year's first.
-- `province_in_force`: sql/macros/geography.sql; `check_units`: validate._prepare_checks.
-- Only the rows a file of check_run_files (every file, or this run's) can be or cause: a
-- unit's rows are of its reports alone, so only the units of those files are counted; a
-- province's row of year Y has causes of Y and Y - 1 only, so only the province reports of
-- those files' years and the year after are compared, from the reports of their area in
-- those two years alone (none when no such province report has one the year before). The
-- rows kept are computed as over every file.
with

reports as (
    select
        file_id,
        unit_code,
        report_year
    from audit.file_ingestion
    where status = 'loaded'
),

run_reports as (
    select
        file_id,
        unit_code,
        report_year
    from reports
    where file_id in (select c.file_id from check_run_files as c)
),

unit_reports as (
    select
        file_id,
        unit_code,
        report_year
    from reports
    where
        length(unit_code) <> 2
        and unit_code in (select x.unit_code from run_reports as x)
),

province_reports as (
    select
        file_id,
        unit_code as province_code,
        report_year
    from reports
    where length(unit_code) = 2
),

-- The province reports compared: those of the years a file of check_run_files can be or
-- cause a row of (its year and the next) with a report of the province code the year before.
compared_provinces as (
    select
        p.file_id,
        p.province_code,
        p.report_year
    from province_reports as p
    inner join province_reports as q
        on p.province_code = q.province_code and p.report_year = q.report_year + 1
    where
        p.report_year in (
            select x.report_year from run_reports as x
            union all
            select x.report_year + 1 from run_reports as x
        )
),

-- Each report with its province: up to 2024 a former province, from 2025 the one in force.
report_area as (
    select
        r.file_id,
        r.unit_code,
        r.report_year,
        u.province_code,
        u.province_2025
    from reports as r
    inner join check_units as u
        on
        r.unit_code = u.code
        and u.current = case length(r.unit_code)
            when 5 then r.report_year >= 2026
            when 2 then r.report_year >= 2025
            else false
        end
    where
        exists (
            select 1
            from compared_provinces as c
            where
                r.report_year in (c.report_year, c.report_year - 1)
                and c.province_code
                = province_in_force(u.province_code, u.province_2025, c.report_year)
        )
),

reported as (
    select distinct
        file_id,
        coop_code
    from stg_htx
    where
        coop_code is not null
        and file_id in (
            select u.file_id from unit_reports as u
            union all
            select a.file_id from report_area as a
        )
),

unit_counts as (
    select
        r.file_id,
        r.unit_code,
        r.report_year,
        count(x.coop_code) as cooperatives
    from unit_reports as r
    left join reported as x on r.file_id = x.file_id
    group by r.file_id, r.unit_code, r.report_year
),

unit_compared as (
    select
        file_id,
        report_year,
        cooperatives,
        lag(cooperatives) over by_unit as previous,
        lag(report_year) over by_unit as previous_year,
        lag(file_id) over by_unit as previous_file_id
    from unit_counts
    window by_unit as (partition by unit_code order by report_year asc)
),

-- A cooperative in a report of a year, with the province its report's area belongs to in
-- that year and in the next one.
area_coops as (
    select distinct
        a.report_year,
        x.coop_code,
        province_in_force(a.province_code, a.province_2025, a.report_year) as province_now,
        province_in_force(a.province_code, a.province_2025, a.report_year + 1)
            as province_next
    from report_area as a
    inner join reported as x on a.file_id = x.file_id
),

current_totals as (
    select
        report_year,
        province_now as province_code,
        count(distinct coop_code) as cooperatives
    from area_coops
    group by report_year, province_now
),

previous_totals as (
    select
        province_next as province_code,
        report_year + 1 as report_year,
        count(distinct coop_code) as cooperatives
    from area_coops
    group by report_year + 1, province_next
),

province_compared as (
    select
        p.file_id,
        p.province_code,
        p.report_year,
        coalesce(c.cooperatives, 0) as cooperatives,
        coalesce(b.cooperatives, 0) as previous
    from compared_provinces as p
    left join current_totals as c
        on p.province_code = c.province_code and p.report_year = c.report_year
    left join previous_totals as b
        on p.province_code = b.province_code and p.report_year = b.report_year
),

province_causes as (
    select
        p.file_id,
        list(
            { 'file_id': a.file_id, 'sheet': 'HTX', 'excel_row': null::integer }
            order by a.report_year desc, a.file_id asc
        ) as causes
    from province_compared as p
    inner join report_area as a
        on
        a.report_year in (p.report_year, p.report_year - 1)
        and p.province_code = province_in_force(
            a.province_code, a.province_2025, greatest(a.report_year, p.report_year)
        )
    where a.file_id <> p.file_id
    group by p.file_id
)

select
    u.file_id,
    'HTX' as sheet_name,
    null::integer as excel_row,
    u.cooperatives::double / nullif(u.previous, 0) as count_ratio,
    u.cooperatives || ' (' || u.previous_year || ': ' || u.previous || ')' as count_ratio_value,
    to_json(
        [{ 'file_id': u.previous_file_id, 'sheet': 'HTX', 'excel_row': null::integer }]
    )::varchar
        as causes
from unit_compared as u
where u.previous_year = u.report_year - 1

union all

select
    p.file_id,
    'HTX' as sheet_name,
    null::integer as excel_row,
    p.cooperatives::double / nullif(p.previous, 0) as count_ratio,
    p.cooperatives || ' (' || (p.report_year - 1) || ': ' || p.previous || ')'
        as count_ratio_value,
    to_json(c.causes)::varchar as causes
from province_compared as p
left join province_causes as c on p.file_id = c.file_id
