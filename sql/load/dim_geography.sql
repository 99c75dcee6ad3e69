-- Grain: one row per administrative unit version. Former units come from the GSO reference
-- (state before the 2025 reorganisation, valid "since before the first report", 1900-01-01).
-- From 01/07/2025 the district level and the former communes are abolished everywhere, and
-- the former provinces end: the 34 provinces and 3,321 communes in force since then
-- (ref_units_current) open on the day of the province merger, with no district. A code may
-- name a former and a current unit (22978: Xã Phong Phú until 30/06/2025, Xã Tuy Phong
-- after): two rows, and the report year decides which one a fact means.
insert into core.dim_geography (
    geo_key, level, province_code, province_name, district_code, district_name,
    commune_code, commune_name, commune_key, commune_short_name, valid_from, valid_to
)
with

units as (
    select * from ref_units
),

units_in_force as (
    select * from ref_units_current
),

mergers as (
    select * from ref_mergers
),

reorganised as (
    select min(effective_from) as on_day from mergers
),

provinces as (
    select
        code as province_code,
        full_name as province_name
    from units
    where level = 'province'
),

districts as (
    select
        code as district_code,
        full_name as district_name,
        parent_code as province_code
    from units
    where level = 'district'
),

communes as (
    select
        code as commune_code,
        full_name as commune_name,
        commune_key,
        name as commune_short_name,
        parent_code as district_code
    from units
    where level = 'commune'
),

province_rows as (
    select
        'province' as level,
        province_code,
        province_name,
        null as district_code,
        null as district_name,
        null as commune_code,
        null as commune_name,
        null as commune_key,
        null as commune_short_name,
        date '1900-01-01' as valid_from,
        case
            when
                province_code in (select m.old_code from mergers as m)
                or province_code in (select m.new_code from mergers as m)
                then (select min(m.effective_from) from mergers as m) - 1
        end as valid_to
    from provinces
),

province_in_force_rows as (
    select
        'province' as level,
        p.code as province_code,
        p.full_name as province_name,
        null as district_code,
        null as district_name,
        null as commune_code,
        null as commune_name,
        null as commune_key,
        null as commune_short_name,
        r.on_day as valid_from,
        null::date as valid_to
    from units_in_force as p
    cross join reorganised as r
    where p.level = 'province'
),

commune_in_force_rows as (
    select
        'commune' as level,
        p.code as province_code,
        p.full_name as province_name,
        null as district_code,
        null as district_name,
        c.code as commune_code,
        c.full_name as commune_name,
        c.commune_key,
        c.name as commune_short_name,
        r.on_day as valid_from,
        null::date as valid_to
    from units_in_force as c
    inner join units_in_force as p on c.parent_code = p.code and p.level = 'province'
    cross join reorganised as r
    where c.level = 'commune'
),

district_rows as (
    select
        'district' as level,
        d.province_code,
        p.province_name,
        d.district_code,
        d.district_name,
        null as commune_code,
        null as commune_name,
        null as commune_key,
        null as commune_short_name,
        date '1900-01-01' as valid_from,
        date '2025-06-30' as valid_to
    from districts as d
    inner join provinces as p using (province_code)
),

commune_rows as (
    select
        'commune' as level,
        d.province_code,
        p.province_name,
        d.district_code,
        d.district_name,
        c.commune_code,
        c.commune_name,
        c.commune_key,
        c.commune_short_name,
        date '1900-01-01' as valid_from,
        date '2025-06-30' as valid_to
    from communes as c
    inner join districts as d using (district_code)
    inner join provinces as p using (province_code)
),

all_rows as (
    select * from province_rows
    union all
    select * from province_in_force_rows
    union all
    select * from district_rows
    union all
    select * from commune_rows
    union all
    select * from commune_in_force_rows
)

select
    surrogate_key(
        level || '|' || coalesce(commune_code, district_code, province_code) || '|' || valid_from
    ) as geo_key,
    level,
    province_code,
    province_name,
    district_code,
    district_name,
    commune_code,
    commune_name,
    commune_key,
    commune_short_name,
    valid_from,
    valid_to
from all_rows
