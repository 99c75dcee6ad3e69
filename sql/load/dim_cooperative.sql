-- Grain: one row per cooperative version (type-2). A version is a run of consecutive
-- reported years with the same name, sector, commune and Decision 167 membership; a change
-- opens a new version, and a change back opens another one. The founding date (and how much
-- of it was given: day, month or year) is the cooperative's latest one, on every version.
-- A year's attributes are those of the report that wins for the cooperative that year
-- (stg_report_precedence: 2025 a province's over a district's, from 2026 a commune's over
-- the province's, else the lowest file_id).
-- Placement in the geography in force since 01/07/2025 belongs to the cooperative, the same
-- on every version (it opens none):
-- - reported: the new commune named by its latest report of 2025 or later (within a year,
--   the winning report first: a commune's before the province's); a commune unit's row with
--   an empty commune column names that commune;
-- - crosswalk: otherwise, its former commune (the latest one a report names: up to 2024, a
--   2025 district report, or a former commune named in 2025) went whole into one new
--   commune (core.bridge_commune_crosswalk);
-- - review: otherwise (split, unmatched, unknown commune): no new commune, never guessed.
insert into core.dim_cooperative (
    cooperative_key, coop_code, name, sector, commune_name, founded_on, founded_on_precision,
    in_da167, valid_from_year, valid_to_year, is_current, new_commune_code, placement
)
with

precedence as (
    select * from stg_report_precedence
),

-- The row of the report that wins for each cooperative and year: its first row, when the
-- report names the cooperative twice (stg_report_precedence.first_winning_row).
htx as (
    select h.*
    from stg_htx as h
    semi join precedence as p
        on h.file_id = p.file_id and h.excel_row = p.excel_row and p.first_winning_row
),

communes_named as (
    select * from stg_htx_commune
),

bridge as (
    select * from core.bridge_commune_crosswalk
),

-- One report per cooperative and year: the winning report's row (two units reporting the
-- same code in one year is a cross-file warning).
reported as (
    select
        coop_code,
        report_year as year,
        name,
        sector,
        commune_name,
        founded_on,
        founded_on_precision,
        coalesce(in_da167, false) as in_da167
    from htx
    where coop_code is not null
),

flagged as (
    select
        *,
        case
            when lag(year) over by_year is null then 1
            when
                not (lag(name) over by_year is not distinct from name)
                or not (lag(sector) over by_year is not distinct from sector)
                or not (lag(commune_name) over by_year is not distinct from commune_name)
                or not (lag(in_da167) over by_year is not distinct from in_da167)
                then 1
            else 0
        end as opens_version
    from reported
    window by_year as (partition by coop_code order by year)
),

numbered as (
    select
        *,
        sum(opens_version) over (
            partition by coop_code order by year rows unbounded preceding
        ) as version_no
    from flagged
),

versions as (
    select
        coop_code,
        version_no,
        min(year) as valid_from_year,
        any_value(name) as name,
        any_value(sector) as sector,
        any_value(commune_name) as commune_name,
        any_value(in_da167) as in_da167
    from numbered
    group by coop_code, version_no
),

founding as (
    select
        coop_code,
        arg_max(founded_on, year) filter (where founded_on is not null) as founded_on,
        arg_max(founded_on_precision, year) filter (
            where founded_on is not null
        ) as founded_on_precision
    from reported
    group by coop_code
),

named as (
    select
        n.coop_code,
        n.report_year,
        n.commune_code,
        n.commune_current,
        p.wins,
        n.file_id,
        n.excel_row
    from communes_named as n
    inner join precedence as p using (file_id, excel_row)
    where n.commune_code is not null
),

latest_new_commune as (
    select
        coop_code,
        commune_code as new_commune_code
    from named
    where commune_current and report_year >= 2025
    qualify row_number() over (
        partition by coop_code
        order by report_year desc, wins desc, file_id asc, excel_row asc
    ) = 1
),

latest_former_commune as (
    select
        coop_code,
        commune_code as old_commune_code
    from named
    where not commune_current
    qualify row_number() over (
        partition by coop_code
        order by report_year desc, wins desc, file_id asc, excel_row asc
    ) = 1
),

-- A former commune that went whole into one new commune, and nowhere else.
whole_destination as (
    select
        old_commune_code,
        any_value(new_commune_code) as new_commune_code
    from bridge
    group by old_commune_code
    having count(distinct new_commune_code) = 1 and bool_and(match = 'whole')
),

placed as (
    select
        c.coop_code,
        coalesce(n.new_commune_code, w.new_commune_code) as new_commune_code,
        case
            when n.new_commune_code is not null then 'reported'
            when w.new_commune_code is not null then 'crosswalk'
            else 'review'
        end as placement
    from (select distinct coop_code from reported) as c
    left join latest_new_commune as n using (coop_code)
    left join latest_former_commune as f using (coop_code)
    left join whole_destination as w on f.old_commune_code = w.old_commune_code
)

select
    surrogate_key(coop_code || '|' || v.valid_from_year) as cooperative_key,
    coop_code,
    v.name,
    v.sector,
    v.commune_name,
    f.founded_on,
    f.founded_on_precision,
    v.in_da167,
    v.valid_from_year,
    lead(v.valid_from_year) over by_start - 1 as valid_to_year,
    lead(v.valid_from_year) over by_start is null as is_current,
    pl.new_commune_code,
    pl.placement
from versions as v
left join founding as f using (coop_code)
left join placed as pl using (coop_code)
window by_start as (partition by coop_code order by v.valid_from_year)
