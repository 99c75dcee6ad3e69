-- Grain: one row per cooperative and year, attributed to a legacy district.
-- Facts whose geography names a legacy district keep it, and so does a district's own report
-- (2025, the first half: it may name the commune in force its commune went into, which has
-- no district). A fact with no legacy district (a province-level report from 2025 on, commune
-- not in the legacy list) is attributed to the cooperative's last known legacy district,
-- flagged as carried forward; a cooperative never seen in a legacy district stays
-- unattributed (district_code NULL), never dropped.
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

located as (
    select
        f.*,
        g.province_code as geo_province_code,
        coalesce(g.district_code, case when length(f.unit_code) = 3 then f.unit_code end)
            as geo_district_code
    from facts as f
    inner join geography as g using (geo_key)
),

carried as (
    select
        *,
        last_value(geo_district_code ignore nulls) over (
            partition by coop_code order by period_key
            rows between unbounded preceding and current row
        ) as last_district_code
    from located
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
