-- Grain: one row per cooperative version (type-2). A version is a run of consecutive
-- reported years with the same name, sector, commune and Decision 167 membership; a change
-- opens a new version, and a change back opens another one. The founding date (and how much
-- of it was given: day, month or year) is the cooperative's latest one, on every version.
insert into core.dim_cooperative (
    cooperative_key, coop_code, name, sector, commune_name, founded_on, founded_on_precision,
    in_da167, valid_from_year, valid_to_year, is_current
)
with

htx as (
    select * from stg_htx
),

-- One report per cooperative and year. Two units reporting the same code in one year is a
-- cross-file warning; the lowest file_id wins, deterministically.
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
    qualify row_number() over (
        partition by coop_code, report_year order by file_id, excel_row
    ) = 1
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
    lead(v.valid_from_year) over by_start is null as is_current
from versions as v
left join founding as f using (coop_code)
window by_start as (partition by coop_code order by v.valid_from_year)
