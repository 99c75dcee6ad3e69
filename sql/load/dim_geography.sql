-- Grain: one row per administrative unit version. Legacy units come from the GSO reference
-- (state before the 2025 reorganisation, valid "since before the first report", 1900-01-01).
-- From 01/07/2025 the district level and the legacy communes are abolished everywhere, and
-- merged provinces end; the province they merged into opens a new version.
insert into core.dim_geography (
    geo_key, level, province_code, province_name, district_code, district_name,
    commune_code, commune_name, commune_key, commune_short_name, valid_from, valid_to
)
with

units as (
    select * from ref_units
),

mergers as (
    select * from ref_mergers
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

merged_province_rows as (
    select distinct
        'province' as level,
        m.new_code as province_code,
        p.province_name,
        null as district_code,
        null as district_name,
        null as commune_code,
        null as commune_name,
        null as commune_key,
        null as commune_short_name,
        m.effective_from as valid_from,
        null::date as valid_to
    from mergers as m
    inner join provinces as p on m.new_code = p.province_code
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
    select * from merged_province_rows
    union all
    select * from district_rows
    union all
    select * from commune_rows
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
