-- Grain: one row per staged HTX row with a cooperative code: the commune its `Xã/Phường`
-- cell names, as the temp table stg_htx_commune (commune_code NULL: unknown or empty). The
-- facts land on it (core.fact_cooperative_year) and placement reads it
-- (core.dim_cooperative), so both decide alike.
-- - Up to 2024: a former commune of the reporting unit (a district's own, or a former
--   province's), by the accent-free match key; where the name exists in several
--   districts, the cooperative's own district wins, then the spelling as typed. A cell the
--   key fits to none (typed plainly with its prefix: `Xa Dak Nia`; a code: `24611`,
--   `24611.0`, `24 611`, `103`) is asked of the contract's candidates, as validation asks
--   them: whether a cell is a code is decided there only.
-- - From 2025: the candidates of etl.contract.communes (ref_commune_candidates: the workbook
--   contract's name comparison, former or new communes). One candidate is the commune;
--   of several, in a report of a unit in force (the province, a commune), the new commune
--   the cooperative's own former commune went into, when exactly one of them is and its
--   own former commune is not one of them (a cooperative of Buôn Choah writing `Xã Nam Đà`
--   is in the new Xã Nam Đà, not in the former one; one of Đắk Gằn writing `Xã Đắk Mil`
--   in the new Xã Đắk Mil, not in Thị trấn Đắk Mil); else, in such a report, the new
--   commune when one fits and every candidate leads to it (`Nam Đà` in the province's
--   2025 report: the new Xã Nam Đà, which the former one went into whole, is the commune
--   the report names, whatever the cooperative's former commune); else the one of the cooperative's
--   own district before the merger (a former commune in it, or a new commune made of
--   former communes of it), unless a new commune of that district the former one did not
--   go into fits too; else, when they all lead to the same new commune (a commune kept
--   unchanged), that new commune; else the commune is unknown. A commune unit's row with
--   an empty commune column names that commune.
-- The cooperative's own district: a district of the row's province that reported it in the
-- same year from 2025 (the first half of 2025), or else the district that reported it in the
-- latest earlier year (the winning reports).
-- Its own former commune: the one its latest winning report up to 2024 names.
create or replace temp table stg_htx_commune as
with

htx as (
    select * from stg_htx
    where coop_code is not null
),

precedence as (
    select * from stg_report_precedence
),

candidates as (
    select * from ref_commune_candidates
),

units as (
    select * from ref_units
),

winning_districts as (
    select distinct
        coop_code,
        report_year,
        unit_code
    from precedence
    where wins and unit_level = 'district'
),

-- By province: a district of another province reporting the cooperative the same year (Hà
-- Nội's Ba Đình beside Lâm Đồng's report) is not the own district of a row of this one.
same_year_districts as (
    select
        coop_code,
        report_year,
        unit_province_code,
        arg_min(unit_code, file_id) as district_code
    from precedence
    where unit_level = 'district' and report_year >= 2025
    group by coop_code, report_year, unit_province_code
),

row_provinces as (
    select
        file_id,
        excel_row,
        unit_province_code
    from precedence
),

rows_with_history as (
    select
        h.file_id,
        h.excel_row,
        h.coop_code,
        h.report_year,
        h.unit_code,
        h.commune_name,
        h.commune_key,
        coalesce(
            s.district_code,
            (
                select arg_max(w.unit_code, w.report_year)
                from winning_districts as w
                where w.coop_code = h.coop_code and w.report_year < h.report_year
            )
        ) as previous_district
    from htx as h
    left join row_provinces as rp on h.file_id = rp.file_id and h.excel_row = rp.excel_row
    left join same_year_districts as s
        on
        h.coop_code = s.coop_code
        and h.report_year = s.report_year
        and s.unit_province_code is not distinct from rp.unit_province_code
),

-- Up to 2024: the former communes a unit may name, its own (a district's) or its
-- province's (a province report).
former_communes as (
    select
        c.code as commune_code,
        d.code as district_code,
        c.commune_key,
        lower(c.name) as short_name,
        lower(c.full_name) as full_name,
        surrogate_key('commune|' || c.code || '|1900-01-01') as geo_key,
        unnest(list_distinct([d.code, d.parent_code])) as unit_code
    from units as c
    inner join units as d on c.parent_code = d.code
    where c.level = 'commune' and d.level = 'district'
),

former_match as (
    select
        h.file_id,
        h.excel_row,
        c.commune_code,
        false as commune_current
    from rows_with_history as h
    inner join former_communes as c
        on
        h.unit_code = c.unit_code
        and h.commune_key = c.commune_key
    where h.report_year <= 2024
    qualify row_number() over (
        partition by h.file_id, h.excel_row
        order by
            c.district_code = h.previous_district desc nulls last,
            lower(h.commune_name) in (c.short_name, c.full_name) desc,
            c.geo_key asc
    ) = 1
),

-- Up to 2024, a name the key fits to no former commune of the unit: the workbook contract's
-- candidates (a name typed plainly with its prefix, `Xa Dak Nia`). One candidate is the
-- commune; of several, the own district's, else none (unknown, never guessed).
former_fit as (
    select
        h.file_id,
        h.excel_row,
        c.commune_code,
        false as commune_current
    from rows_with_history as h
    inner join candidates as c
        on
        h.unit_code = c.unit_code
        and h.report_year = c.report_year
        and h.commune_name = c.commune_name
    anti join former_match as m on h.file_id = m.file_id and h.excel_row = m.excel_row
    where h.report_year <= 2024 and not c.current
    qualify
        row_number() over (
            partition by h.file_id, h.excel_row
            order by c.district_code = h.previous_district desc nulls last, c.commune_code asc
        ) = 1
        and (
            count(*) over (partition by h.file_id, h.excel_row) = 1
            or coalesce(c.district_code = h.previous_district, false)
        )
),

-- The former commune each cooperative's latest winning report up to 2024 names.
former_named as (
    select * from former_match
    union all
    select * from former_fit
),

previous_communes as (
    select
        h.coop_code,
        arg_max(m.commune_code, h.report_year) as previous_commune
    from rows_with_history as h
    inner join former_named as m on h.file_id = m.file_id and h.excel_row = m.excel_row
    semi join precedence as p
        on h.file_id = p.file_id and h.excel_row = p.excel_row and p.wins
    group by h.coop_code
),

-- From 2025: every candidate of the row's cell.
fits as (
    select
        h.file_id,
        h.excel_row,
        c.commune_code,
        c.current as in_force,
        c.new_commune_code,
        c.district_code is not null and c.district_code = h.previous_district as own_district,
        -- a new commune made (wholly or in part) of former communes of the own district
        c.current and exists (
            select 1 from ref_crosswalk as x
            where
                x.new_commune_code = c.commune_code
                and x.old_district_code = h.previous_district
        ) as own_district_new,
        -- a new commune its own former commune went into, named in a report of a unit in
        -- force (a district's report of 2025 is of the first half: the former communes)
        c.current and length(h.unit_code) <> 3 and exists (
            select 1 from ref_crosswalk as x
            where
                x.new_commune_code = c.commune_code
                and x.old_commune_code = pc.previous_commune
        ) as own_commune_went_here,
        coalesce(not c.current and c.commune_code = pc.previous_commune, false) as own_commune,
        length(h.unit_code) <> 3 as by_unit_in_force
    from rows_with_history as h
    inner join candidates as c
        on h.unit_code = c.unit_code
        and h.report_year = c.report_year
        and h.commune_name = c.commune_name
    left join previous_communes as pc on h.coop_code = pc.coop_code
    where h.report_year >= 2025
),

-- A new commune of the own district that the own district's fitting former commune did not
-- go into, wholly or in part: where it fits too (`Đắk Mil` in 2025: the former Thị trấn
-- Đắk Mil and the new Xã Đắk Mil, both of district 663), the history does not decide.
fits_elsewhere as (
    select
        f.*,
        f.own_district_new and not exists (
            select 1
            from fits as g
            inner join ref_crosswalk as y
                on g.commune_code = y.old_commune_code
            where
                g.file_id = f.file_id
                and g.excel_row = f.excel_row
                and g.own_district
                and y.new_commune_code = f.commune_code
        ) as own_new_elsewhere
    from fits as f
),

weighed as (
    select
        file_id,
        excel_row,
        count(distinct commune_code || '|' || in_force) as fitting,
        any_value(commune_code) as commune_code,
        any_value(in_force) as in_force,
        count(distinct new_commune_code) as destinations,
        bool_and(new_commune_code is not null) as all_lead_somewhere,
        any_value(new_commune_code) as destination,
        count(distinct commune_code || '|' || in_force) filter (where own_district) as own,
        any_value(commune_code) filter (where own_district) as own_code,
        any_value(in_force) filter (where own_district) as own_in_force,
        list(distinct commune_code) filter (where own_new_elsewhere) as own_new,
        count(distinct commune_code) filter (where own_commune_went_here) as went_here,
        any_value(commune_code) filter (where own_commune_went_here) as went_here_code,
        bool_or(own_commune) as own_commune_fits,
        bool_or(in_force) as new_fits,
        bool_or(by_unit_in_force) as by_unit_in_force
    from fits_elsewhere
    group by file_id, excel_row
),

new_match as (
    select
        file_id,
        excel_row,
        case
            when fitting = 1 then commune_code
            when went_here = 1 and not own_commune_fits then went_here_code
            when by_unit_in_force and new_fits and all_lead_somewhere and destinations = 1
                then destination
            when own = 1 and own_new is null then own_code
            when own = 0 and len(own_new) = 1 then own_new[1]
            when all_lead_somewhere and destinations = 1 then destination
        end as commune_code,
        case
            when fitting = 1 then in_force
            when went_here = 1 and not own_commune_fits then true
            when by_unit_in_force and new_fits and all_lead_somewhere and destinations = 1
                then true
            when own = 1 and own_new is null then own_in_force
            when own = 0 and len(own_new) = 1 then true
            when all_lead_somewhere and destinations = 1 then true
        end as commune_current
    from weighed
),

-- A commune unit's row with an empty commune column: that commune.
unit_commune as (
    select
        file_id,
        excel_row,
        unit_code as commune_code,
        true as commune_current
    from rows_with_history
    where report_year >= 2025 and length(unit_code) = 5 and coalesce(commune_name, '') = ''
),

matched as (
    select * from former_match
    union all
    select * from former_fit
    union all
    select * from new_match
    where commune_code is not null
    union all
    select * from unit_commune
)

select
    h.file_id,
    h.excel_row,
    h.coop_code,
    h.report_year,
    h.unit_code,
    m.commune_code,
    m.commune_current
from rows_with_history as h
left join matched as m
    on h.file_id = m.file_id and h.excel_row = m.excel_row;
