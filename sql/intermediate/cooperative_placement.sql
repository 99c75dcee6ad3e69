-- Grain: one row per cooperative (coop_code): where it stands in the geography in force since
-- 01/07/2025. Its placement, new commune and former commune come from core.dim_cooperative
-- (the same on every version): the former commune is the one the placement went by, which a
-- report that does not win may name (a district's report of 2025 beside the province's), so
-- what marts.placement_review says of it is what placed it. Its former district is that of
-- its latest fact that names one (a district's own report of 2025 names its district), else
-- that of its former commune (a district's report of 2025 that the province's outranks: no
-- fact, but the commune it names; as marts.cooperative_district_year carries it).
-- A cooperative under review has no new commune (never guessed); its new province is the
-- province in force that its former district's province went into (the crosswalk), or else
-- the province in force of its latest report. Feeds marts.commune_year,
-- marts.replication_candidates and marts.placement_review.
create or replace table intermediate.cooperative_placement as
with

cooperatives as (
    select * from core.dim_cooperative
),

facts as (
    select * from core.fact_cooperative_year
),

geography as (
    select * from core.dim_geography
),

bridge as (
    select * from core.bridge_commune_crosswalk
),

-- Placement belongs to the cooperative: the latest version's, the same on every version.
placed as (
    select
        coop_code,
        arg_max(name, valid_from_year) as name,
        arg_max(placement, valid_from_year) as placement,
        arg_max(new_commune_code, valid_from_year) as new_commune_code,
        arg_max(former_commune_code, valid_from_year) as former_commune_code
    from cooperatives
    group by coop_code
),

-- The former districts, by code.
districts as (
    select
        district_code,
        any_value(district_name) as district_name,
        any_value(province_code) as province_code
    from geography
    where level = 'district'
    group by district_code
),

-- The district whose report of the first half of 2025 names the cooperative, also where the
-- province's report outranks it (build._register_first_half).
first_half as (
    select * from ref_first_half_districts
),

located as (
    select
        f.coop_code,
        f.period_key as year,
        f.unit_code,
        g.level,
        g.province_code,
        g.district_code,
        g.commune_code,
        g.commune_name,
        -- a district's own report (2025, the first half) is of that district, even where it
        -- names the commune in force its commune went into (which has no district), and so
        -- is the province's fact of a cooperative a district's report of the first half names
        coalesce(
            g.district_code,
            case when length(f.unit_code) = 3 then f.unit_code end,
            h.district_code
        ) as report_district_code
    from facts as f
    inner join geography as g using (geo_key)
    left join first_half as h on f.coop_code = h.coop_code and f.period_key = h.year
),

latest as (
    select
        coop_code,
        year as last_reported_year,
        province_code as latest_province_code
    from located
    qualify row_number() over (partition by coop_code order by year desc) = 1
),

-- The former communes by code: a commune row with its former district (the communes in
-- force since 01/07/2025 have none), its latest version.
former_communes as (
    select
        commune_code as former_commune_code,
        commune_name as former_commune_name,
        district_code as commune_district_code
    from geography
    where level = 'commune' and district_code is not null
    qualify row_number() over (partition by commune_code order by valid_from desc) = 1
),

former_district as (
    select
        l.coop_code,
        d.district_code as former_district_code,
        d.district_name as former_district_name,
        d.province_code as former_province_code
    from located as l
    inner join districts as d on l.report_district_code = d.district_code
    qualify row_number() over (partition by l.coop_code order by l.year desc) = 1
),

-- The communes in force since 01/07/2025 (no district), their latest version.
new_communes as (
    select
        commune_code as new_commune_code,
        commune_name as new_commune_name,
        province_code as commune_province_code
    from geography
    where level = 'commune' and district_code is null
    qualify row_number() over (partition by commune_code order by valid_from desc) = 1
),

provinces_in_force as (
    select
        province_code,
        province_name
    from geography
    where level = 'province' and valid_to is null
    qualify row_number() over (partition by province_code order by valid_from desc) = 1
),

-- The province in force each former province went into, from where its communes went.
province_went_to as (
    select
        old_province_code,
        mode(new_province_code) as went_to_province_code
    from bridge
    group by old_province_code
),

-- A former or current province code in the province in force it is part of.
province_now as (
    select
        coalesce(w.old_province_code, p.province_code) as province_code,
        coalesce(w.went_to_province_code, p.province_code) as province_now_code
    from province_went_to as w
    full outer join provinces_in_force as p on w.old_province_code = p.province_code
),

joined as (
    select
        p.coop_code,
        p.name,
        coalesce(p.placement, 'review') as placement,
        n.new_commune_code,
        n.new_commune_name,
        coalesce(
            n.commune_province_code, by_district.province_now_code, by_report.province_now_code
        ) as new_province_code,
        p.former_commune_code,
        c.former_commune_name,
        coalesce(d.former_district_code, k.district_code) as former_district_code,
        coalesce(d.former_district_name, k.district_name) as former_district_name,
        coalesce(d.former_province_code, k.province_code) as former_province_code,
        l.last_reported_year
    from placed as p
    left join new_communes as n using (new_commune_code)
    left join former_communes as c using (former_commune_code)
    left join former_district as d using (coop_code)
    left join districts as k on c.commune_district_code = k.district_code
    left join latest as l using (coop_code)
    left join province_now as by_district
        on coalesce(d.former_province_code, k.province_code) = by_district.province_code
    left join province_now as by_report on l.latest_province_code = by_report.province_code
)

select
    j.*,
    p.province_name as new_province_name
from joined as j
left join provinces_in_force as p on j.new_province_code = p.province_code;

comment on table intermediate.cooperative_placement is 'Per cooperative: its placement in the communes in force since 01/07/2025 (reported, crosswalk or review), its new commune and province, and its former commune and district';
comment on column intermediate.cooperative_placement.placement is 'reported: a report of 2025 or later names its new commune; crosswalk: its former commune went whole into one new commune; review: not placed (never guessed)';
comment on column intermediate.cooperative_placement.new_commune_code is 'Commune in force since 01/07/2025; NULL under review';
comment on column intermediate.cooperative_placement.new_province_code is 'Province in force since 01/07/2025: its new commune''s, or under review the one its former district''s province went into, else its latest report''s';
comment on column intermediate.cooperative_placement.former_commune_code is 'Commune before 01/07/2025 the placement went by (core.dim_cooperative.former_commune_code): that of its latest report naming one, a report that does not win counted too; NULL when never known';
comment on column intermediate.cooperative_placement.former_district_code is 'District before 01/07/2025 of its latest report naming one, else of its former commune';
comment on column intermediate.cooperative_placement.former_province_code is 'Province before 01/07/2025 of its former district';
comment on column intermediate.cooperative_placement.last_reported_year is 'Its latest reported year';
