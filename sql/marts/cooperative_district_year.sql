-- Grain: one row per cooperative and year, attributed to a legacy district.
-- Facts whose geography names a legacy district keep it, and so does a district's own report
-- (2025, the first half: it may name the commune in force its commune went into, which has
-- no district), and the province's fact of 2025 of a cooperative a district's report of the
-- first half names, though the province's outranks it (ref_first_half_districts). A fact
-- with no legacy district (a province-level report from 2025 on, commune not in the legacy
-- list) is attributed to the cooperative's last known legacy district,
-- flagged as carried forward. From 2025 on, a cooperative with no earlier fact in a legacy
-- district has for last known district that of the former commune its placement went by
-- (core.dim_cooperative.former_commune_code: a report that does not win counts too, such as
-- a district's report of the first half of 2025 that the province's outranks). A cooperative
-- never seen in a legacy district stays unattributed (district_code NULL), never dropped.
create or replace table marts.cooperative_district_year as
with

facts as (
    select * from core.fact_cooperative_year
),

geography as (
    select * from core.dim_geography
),

cooperatives as (
    select * from core.dim_cooperative
),

-- The district whose report of the first half of 2025 names the cooperative, also where the
-- province's report outranks it (build._register_first_half).
first_half as (
    select * from ref_first_half_districts
),

located as (
    select
        f.*,
        g.province_code as geo_province_code,
        coalesce(
            g.district_code,
            case when length(f.unit_code) = 3 then f.unit_code end,
            h.district_code
        ) as geo_district_code
    from facts as f
    inner join geography as g using (geo_key)
    left join first_half as h on f.coop_code = h.coop_code and f.period_key = h.year
),

-- The legacy district of each cooperative's former commune (the same on every version).
former_districts as (
    select
        k.coop_code,
        g.district_code as former_district_code
    from cooperatives as k
    inner join geography as g
        on
        g.level = 'commune'
        and g.district_code is not null
        and k.former_commune_code = g.commune_code
    qualify row_number() over (partition by k.coop_code order by g.valid_from desc) = 1
),

carried as (
    select
        l.*,
        coalesce(
            last_value(l.geo_district_code ignore nulls) over (
                partition by l.coop_code order by l.period_key
                rows between unbounded preceding and current row
            ),
            case when l.period_key >= 2025 then d.former_district_code end
        ) as last_district_code
    from located as l
    left join former_districts as d using (coop_code)
),

districts as (
    select distinct
        district_code,
        district_name,
        province_code,
        province_name
    from geography
    where level = 'district'
)

select
    c.coop_code,
    c.period_key as year,
    coalesce(c.geo_district_code, c.last_district_code) as district_code,
    coalesce(d.district_name, 'Không xác định / Unattributed') as district_name,
    coalesce(d.province_code, c.geo_province_code) as province_code,
    c.geo_district_code is null and c.last_district_code is not null as attribution_carried_forward,
    c.unit_code,
    k.name,
    k.sector,
    k.in_da167,
    year(k.founded_on) as founded_year,
    c.members,
    c.workers,
    c.charter_capital_mvnd,
    c.total_assets_mvnd,
    c.revenue_mvnd,
    c.profit_before_tax_mvnd,
    c.avg_income_mvnd,
    c.rating,
    c.score,
    c.has_offtake_contract,
    c.file_id,
    c.excel_row
from carried as c
inner join cooperatives as k using (cooperative_key)
left join districts as d
    on d.district_code = coalesce(c.geo_district_code, c.last_district_code);

comment on table marts.cooperative_district_year is 'Each cooperative-year attributed to a legacy district; from 2025 on, carried forward from the last known district where needed';
comment on column marts.cooperative_district_year.attribution_carried_forward is 'True when the district is the cooperative''s last known legacy district, not one named by the report';
comment on column marts.cooperative_district_year.district_code is 'Legacy district (before 01/07/2025); NULL: unattributed';
