-- Grain: one row per cooperative of a year N that is missing from every report of year N + 1
-- covering its area, listed under that N + 1 report (the most precise one: a commune's, then
-- a district's, then the province's; equal ones by lowest file_id). Only areas some N + 1
-- report covers are looked at: a unit that has not reported yet, or a district that stopped
-- reporting after 2025, is no warning. Checked by expectations/warehouse/coop_continuity.json.
-- What covers a cooperative of year N in year N + 1:
-- - its district's report (up to 2025): its year-N report's district, or its commune's;
-- - the report of the province in force in N + 1 over its area (a 2025 report of 68 covers
--   the districts of the former 67, 60 and 68);
-- - from 2026, the report of the commune it is placed in: the commune that reported it, the
--   new commune its row names, or the warehouse's placement (dim_cooperative).
-- A cooperative the winning report of N + 1 (stg_report_precedence) of another unit names
-- is not missing: it moved, and that unit reports it, in its province or another.
-- `causes`: the cooperative's year-N row.
-- `province_in_force`: sql/macros/geography.sql; `check_units`: validate._prepare_checks.
-- Only the cooperative-years of a file of check_run_files (every file, or this run's) and
-- those of the year before such a file's report year: a row's report and its cause are of
-- one cooperative and year, the report of the year after the cause's, so every row on a
-- file of check_run_files or caused by one is among them, computed as over every file.
with

reports as (
    select
        file_id,
        unit_code,
        report_year
    from audit.file_ingestion
    where status = 'loaded'
),

run_years as (
    select distinct r.report_year - 1 as year
    from reports as r
    where r.file_id in (select c.file_id from check_run_files as c)
),

-- Placement belongs to the cooperative: the same on every version.
placement as (
    select
        coop_code,
        any_value(new_commune_code) as new_commune_code
    from core.dim_cooperative
    where new_commune_code is not null
    group by coop_code
),

located as (
    select
        f.coop_code,
        f.period_key as year,
        f.unit_code,
        f.file_id,
        f.source_sheet,
        f.excel_row,
        g.province_code,
        g.valid_from >= date '2025-07-01' as geo_current,
        case when length(f.unit_code) = 3 then f.unit_code else g.district_code end
            as district_code,
        case
            when length(f.unit_code) = 5 then f.unit_code
            when g.valid_from >= date '2025-07-01' and g.level = 'commune' then g.commune_code
            else p.new_commune_code
        end as new_commune_code
    from core.fact_cooperative_year as f
    inner join core.dim_geography as g on f.geo_key = g.geo_key
    left join placement as p on f.coop_code = p.coop_code
    where
        f.file_id in (select c.file_id from check_run_files as c)
        or f.period_key in (select y.year from run_years as y)
),

with_province as (
    select
        l.*,
        case
            when l.geo_current then l.province_code
            else province_in_force(
                l.province_code, coalesce(u.province_2025, l.province_code), l.year + 1
            )
        end as province_next
    from located as l
    left join check_units as u
        on l.province_code = u.code and u.level = 'province' and not u.current
),

-- Three equi-joins, not one join on OR: codes of each width name one level only.
covering as (
    select
        l.coop_code,
        l.year,
        r.file_id,
        0 as precision_rank
    from with_province as l
    inner join reports as r
        on l.year + 1 = r.report_year and l.new_commune_code = r.unit_code
    where length(r.unit_code) = 5

    union all

    select
        l.coop_code,
        l.year,
        r.file_id,
        1 as precision_rank
    from with_province as l
    inner join reports as r
        on l.year + 1 = r.report_year and l.district_code = r.unit_code
    where length(r.unit_code) = 3

    union all

    select
        l.coop_code,
        l.year,
        r.file_id,
        2 as precision_rank
    from with_province as l
    inner join reports as r
        on l.year + 1 = r.report_year and l.province_next = r.unit_code
    where length(r.unit_code) = 2
),

present as (
    select distinct
        file_id,
        coop_code
    from stg_htx
    where coop_code is not null
),

found as (
    select distinct
        c.coop_code,
        c.year
    from covering as c
    inner join present as p on c.file_id = p.file_id and c.coop_code = p.coop_code
),

-- The cooperatives of with_province whose report of N + 1 that wins is some unit's: a
-- cooperative missing from the reports covering its area moved, wherever that unit is (a
-- commune of another province), and that unit reports it.
moved as (
    select distinct
        p.coop_code,
        p.report_year - 1 as year
    from stg_report_precedence as p
    where
        p.wins
        and p.report_year - 1 in (select distinct l.year from with_province as l)
),

missing as (
    select c.*
    from covering as c
    where
        not exists (
            select 1
            from found as f
            where c.coop_code = f.coop_code and c.year = f.year
        )
        and not exists (
            select 1
            from moved as m
            where c.coop_code = m.coop_code and c.year = m.year
        )
    qualify row_number() over (
        partition by c.coop_code, c.year order by c.precision_rank asc, c.file_id asc
    ) = 1
),

-- The sheet the N + 1 report holds its HTX table on (`Danh sách HTX`, rule 17), as its
-- clerk named it; of the reports that list a missing cooperative only.
missing_reports as (
    select distinct file_id
    from missing
),

htx_sheets as (
    select
        r.file_id,
        coalesce(min(h.sheet_name), 'HTX') as sheet_name
    from missing_reports as r
    left join stg_htx as h on r.file_id = h.file_id
    group by r.file_id
)

select
    m.file_id,
    s.sheet_name,
    null::integer as excel_row,
    false as in_next_report,
    m.coop_code || ' (' || l.year || ': ' || l.unit_code || ')' as in_next_report_value,
    to_json([
        { 'file_id': l.file_id, 'sheet': l.source_sheet, 'excel_row': l.excel_row }
    ])::varchar as causes
from missing as m
inner join with_province as l on m.coop_code = l.coop_code and m.year = l.year
inner join htx_sheets as s on m.file_id = s.file_id
order by m.file_id asc, m.coop_code asc, m.year asc
