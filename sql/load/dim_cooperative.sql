-- Grain: one row per cooperative version (type-2). A version is a run of consecutive
-- reported years with the same name, sector, commune and Decision 167 membership; a change
-- opens a new version, and a change back opens another one; a name written in other capitals,
-- or with a tone mark on the other vowel of `oa`, `oe`, `uy` (`Hoà` / `Hòa`: coop_name_key), is the
-- same name (the version shows its first spelling). A blank sector or commune cell
-- is not reported, not a change: it opens no version, the next year's value is compared
-- with the last one reported, and a version keeps that value over its blank years (a blank
-- Decision 167 cell is "Không", a value). The founding date (and how much
-- of it was given: day, month or year) is the cooperative's latest one, on every version.
-- A year's attributes are those of the report that wins for the cooperative that year
-- (stg_report_precedence: from 2025 the province whose units won it most recently, within it
-- in 2025 the province's report over a district's, from 2026 a commune's over the province's;
-- else the unit whose report won it most recently, then the lower unit code).
-- Placement in the geography in force since 01/07/2025 belongs to the cooperative, the same
-- on every version (it opens none):
-- - reported: the new commune named by its latest report of 2025 or later (within a year,
--   the winning report first: a commune's before the province's); a commune unit's row with
--   an empty commune column names that commune;
-- - crosswalk: otherwise, its former commune (the latest one a report names: up to 2024, a
--   2025 district report, or a former commune named in 2025; not one a later report of
--   another district follows: it moved away) went whole into one new commune
--   (core.bridge_commune_crosswalk);
-- - review: otherwise (split, unmatched, unknown commune): no new commune, never guessed.
-- former_commune_code keeps the former commune the placement went by (NULL: no report names
-- one), so that what explains a placement (marts.placement_review) reads the same evidence.
insert into core.dim_cooperative (
    cooperative_key, coop_code, name, sector, commune_name, founded_on, founded_on_precision,
    in_da167, valid_from_year, valid_to_year, is_current, new_commune_code, placement,
    former_commune_code
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

-- The commune cells that give a commune by a number, not a name.
commune_numbers as (
    select * from ref_commune_numbers
),

-- A commune's name by its code: in force since 01/07/2025 (current) or former.
commune_names as (
    select
        true as in_force,
        code,
        any_value(full_name) as full_name
    from ref_units_current
    where level = 'commune'
    group by code
    union all
    select
        false as in_force,
        code,
        any_value(full_name) as full_name
    from ref_units
    where level = 'commune'
    group by code
),

-- The name of a commune cell as compared when no code resolves: no case, tone marks or
-- prefix; the eth (`ð`) some input methods type for `đ` is `d` as `đ` is
-- (etl.text.unaccent). Once a distinct cell, not once a row.
commune_texts as (
    select
        commune_name,
        regexp_replace(
            translate(lower(strip_accents(trim(commune_name))), 'đð', 'dd'),
            '^(xa|phuong|thi tran|dac khu)\s+',
            ''
        ) as commune_text
    from (select distinct commune_name from htx) as cells
),

-- A cooperative's name as compared across years (coop_name_key), once a distinct name.
name_keys as (
    select
        name,
        coop_name_key(name) as name_key
    from (select distinct name from htx) as spellings
),

-- One report per cooperative and year: the winning report's row (two units reporting the
-- same code in one year is a cross-file warning), with the commune its cell resolves to.
reported as (
    select
        h.coop_code,
        h.report_year as year,
        h.name,
        k.name_key,
        h.sector,
        case
            when
                c.commune_code is not null
                and (
                    -- an empty cell of a commune unit's row: that commune
                    h.commune_name is null
                    -- a number in the cell (ref_commune_numbers: a code, `24611`,
                    -- `24 611`, `103`, or a ward's number, `4`, as etl.contract.communes
                    -- says); a name (`Phường 4`) stays as written
                    or num.commune_name is not null
                )
                then coalesce(n.full_name, h.commune_name)
            else h.commune_name
        end as commune_name,
        c.commune_code,
        c.commune_current,
        t.commune_text,
        h.founded_on,
        h.founded_on_precision,
        coalesce(h.in_da167, false) as in_da167
    from htx as h
    left join communes_named as c on h.file_id = c.file_id and h.excel_row = c.excel_row
    left join commune_names as n on c.commune_current = n.in_force and c.commune_code = n.code
    left join commune_numbers as num on h.commune_name = num.commune_name
    left join commune_texts as t on h.commune_name = t.commune_name
    left join name_keys as k on h.name = k.name
    where h.coop_code is not null
),

compared as (
    select
        *,
        lag(year) over by_year as previous_year,
        lag(name_key) over by_year as previous_name_key,
        lag(sector ignore nulls) over by_year as previous_sector,
        lag(in_da167) over by_year as previous_in_da167,
        -- the commune of the last year that reported one (a blank cell reports none)
        lag(
            case
                when commune_code is not null or commune_text is not null
                    then {
                        'code': commune_code,
                        'current': commune_current,
                        'text': commune_text,
                        'name': commune_name
                    }
            end ignore nulls
        ) over by_year as previous_commune
    from reported
    window by_year as (partition by coop_code order by year)
),

unpacked as (
    select
        c.*,
        c.previous_commune is not null as previous_reported,
        struct_extract(c.previous_commune, 'code') as previous_code,
        struct_extract(c.previous_commune, 'current') as previous_current,
        struct_extract(c.previous_commune, 'text') as previous_text,
        struct_extract(c.previous_commune, 'name') as previous_commune_name
    from compared as c
),

flagged as (
    select
        c.*,
        case
            when c.previous_year is null then 1
            when
                not (c.previous_name_key is not distinct from c.name_key)
                or c.previous_sector <> c.sector
                or not (c.previous_in_da167 is not distinct from c.in_da167)
                then 1
            -- a commune not reported this year, or never before: no change
            when
                (c.commune_code is null and c.commune_text is null)
                or not c.previous_reported
                then 0
            -- the same commune: the same code in the same geography...
            when
                c.previous_code is not null and c.commune_code is not null
                and c.previous_current = c.commune_current
                then (c.previous_code <> c.commune_code)::integer
            -- ...a former commune and a new one it went into (the former one first, by
            -- equalities: a hash join, not a nested loop over the bridge)...
            when c.previous_code is not null and c.commune_code is not null
                then (
                    not exists (
                        select 1 from bridge as b
                        where
                            b.old_commune_code = case
                                when not c.previous_current then c.previous_code
                                when c.previous_current then c.commune_code
                            end
                            and b.new_commune_code = case
                                when not c.previous_current then c.commune_code
                                when c.previous_current then c.previous_code
                            end
                    )
                )::integer
            -- ...or, unresolved, the same name
            when not (c.previous_text is not distinct from c.commune_text) then 1
            else 0
        end as opens_version
    from unpacked as c
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
        arg_min(name, year) as name,
        -- a version's blank cells keep the value last reported before it
        coalesce(any_value(sector), arg_min(previous_sector, year)) as sector,
        coalesce(arg_min(commune_name, year), arg_min(previous_commune_name, year))
            as commune_name,
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

-- The communes the reports name, of the winning report's province only: a report of the
-- same province that does not win may name the commune the winning one leaves blank (a
-- district's of the first half of 2025), a report of another province never places it.
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
    where
        n.commune_code is not null
        and p.unit_province_code is not distinct from p.winner_province_code
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

-- The former district of each former commune.
commune_districts as (
    select
        code as commune_code,
        any_value(parent_code) as district_code
    from ref_units
    where level = 'commune'
    group by code
),

-- A former commune named in a year that a later report of another district follows: the
-- cooperative moved away from it, so it is no longer its commune, even when that report
-- names none (its latest report before 01/07/2025 names none: never guessed).
left_behind as (
    select distinct
        n.coop_code,
        n.report_year,
        n.commune_code
    from named as n
    inner join commune_districts as d on n.commune_code = d.commune_code
    inner join precedence as p
        on
        n.coop_code = p.coop_code
        and p.unit_level = 'district'
        and n.report_year < p.report_year
        and d.district_code <> p.unit_code
        and p.unit_province_code is not distinct from p.winner_province_code
    where not n.commune_current
),

latest_former_commune as (
    select
        n.coop_code,
        n.commune_code as old_commune_code
    from named as n
    anti join left_behind as b
        on
        n.coop_code = b.coop_code
        and n.report_year = b.report_year
        and n.commune_code = b.commune_code
    where not n.commune_current
    qualify row_number() over (
        partition by n.coop_code
        order by n.report_year desc, n.wins desc, n.file_id asc, n.excel_row asc
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
        f.old_commune_code as former_commune_code,
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
    pl.placement,
    pl.former_commune_code
from versions as v
left join founding as f using (coop_code)
left join placed as pl using (coop_code)
window by_start as (partition by coop_code order by v.valid_from_year)
