-- Grain: one row per staged HTX row with a cooperative code: which report of its year wins
-- for that cooperative (the workbook contract's order of precedence), as the temp table
-- stg_report_precedence. Every core model keeps only the winning report's rows of a
-- cooperative and year, in every sheet; the checks read it to warn the losing file.
-- The contract orders a province and its own units from 2025; each unit's province is the
-- province in force since 01/07/2025 its area lies in (`ref_unit_regions`: 663 and 67 are in
-- 68, so is the commune 24611). So from 2025 a report is chosen in two steps, the province
-- first, then the unit within it, and another report of a province's own units never hands
-- the cooperative to another province; up to 2024 (and for a unit of no known province)
-- each unit is a province of its own, as before:
-- 1. The province whose units won the cooperative most recently, in an earlier year (its own
--    history: the contract's "the cooperative's own history decides"; Đắk Nông's districts'
--    wins are Lâm Đồng's 68's). Only a winning report is history: a unit whose report lost
--    a year gains nothing from it, or two units reporting a cooperative year after year
--    would both have "reported it before", and the lower code would take it from the unit it
--    was with. Each year's winners decide the next year's, so `unit_history` walks the
--    report years in order (at most 2021-2030). With no history, the province with the
--    lowest code, level first (below), among its units reporting the cooperative, outranked
--    or not: a province's own report that its commune's outranks still weighs for its
--    province (68 and 24611 against Hà Nội's ward 00004: 24611, where 24611 alone against
--    00004 loses on its code), as a commune's report never weakens its province. A unit of
--    another province never outranks: a Hà Nội ward naming a cooperative of Lâm Đồng is a
--    second unit reporting the code (coop_code_in_two_units), not a commune over 68.
-- 2. Within it, the rank: 2025 a province's report over a district's (first half of the
--    year) merged into it; from 2026 a commune's report over its own province's (unit_rank
--    1: outranked); then the unit that won the cooperative most recently; then the lowest
--    unit code, level first: a province's (2 digits), a district's (3), a commune's (5). Up
--    to 2024 a province and its districts are of equal rank (the contract orders them from
--    2025 on only). As text, Đắk Nông's 67 came after its districts 660-667 but Hà Giang's 02
--    before its 024; as numbers, Hà Nội's 01 equals its 001. Level first is the numeric
--    order without that tie: every other province's code is below its districts'.
-- 3. Within the winning unit, the lowest file_id (one unit's two files of a year), so that
--    the choice never rests on a file's hash.
-- `first_winning_row`: the winning report's first row for the cooperative and year (its
-- lowest excel_row), the one row core.dim_cooperative and core.fact_cooperative_year take
-- when a report names a cooperative twice.
create or replace temp table stg_report_precedence as
with recursive

-- Each unit's province (a code is one unit's, of one province, in every year it reports).
unit_regions as (
    select
        unit_code,
        min(province_code) as province_code
    from ref_unit_regions
    group by unit_code
),

htx as (
    select
        h.file_id,
        h.sheet_name,
        h.excel_row,
        h.coop_code,
        h.report_year,
        h.unit_code,
        case length(h.unit_code)
            when 2 then 'province'
            when 3 then 'district'
            else 'commune'
        end as unit_level,
        r.province_code as unit_province_code
    from stg_htx as h
    left join unit_regions as r on h.unit_code = r.unit_code
    where h.coop_code is not null
),

-- The units whose report outranks another's of their province when both name a
-- cooperative: in 2025 a province's, from 2026 a commune's.
outranking as (
    select distinct
        coop_code,
        report_year,
        unit_province_code
    from htx
    where
        (report_year = 2025 and unit_level = 'province')
        or (report_year >= 2026 and unit_level = 'commune')
),

-- The units outranked for a cooperative and year: in 2025 a district whose province reports
-- the cooperative too, from 2026 a province one of whose communes does.
outranked as (
    select distinct
        h.coop_code,
        h.report_year,
        h.unit_code
    from htx as h
    inner join outranking as o
        on
        h.coop_code = o.coop_code
        and h.report_year = o.report_year
        and h.unit_province_code = o.unit_province_code
    where
        (h.report_year = 2025 and h.unit_level = 'district')
        or (h.report_year >= 2026 and h.unit_level = 'province')
),

ranked as (
    select
        h.*,
        case when o.unit_code is null then 0 else 1 end as unit_rank
    from htx as h
    left join outranked as o
        on
        h.coop_code = o.coop_code
        and h.report_year = o.report_year
        and h.unit_code = o.unit_code
),

-- Each unit that reports a cooperative in a year, once.
unit_reports as (
    select distinct
        coop_code,
        report_year,
        unit_code,
        unit_province_code,
        unit_rank
    from ranked
),

-- The report years in order: the steps of unit_history.
report_years as (
    select
        report_year,
        row_number() over (order by report_year) as step
    from unit_reports
    group by report_year
),

-- The cooperatives two units report in some year: for any other, each year's only unit wins.
contested as (
    select coop_code
    from unit_reports
    group by coop_code
    having count(*) > count(distinct report_year)
),

-- Per contested cooperative, every unit that ever reports it, with its province, at step 0
-- (before the first year).
unit_history_start as (
    select distinct
        u.coop_code,
        u.unit_code,
        u.unit_province_code
    from unit_reports as u
    semi join contested as c on u.coop_code = c.coop_code
),

-- One row per cooperative, unit and report year: `unit_rank` (NULL: the unit does not report
-- the cooperative that year), `won_before` (the latest earlier year the unit's report won it)
-- and `wins` (whether the unit wins it this year): the first by its province's latest win
-- (`province_won_before`, over all its units), its province's lowest code, then its own
-- rank, history and code within the province.
unit_history (
    step, coop_code, unit_code, unit_province_code, report_year, unit_rank, won_before, wins
) as (
    select
        0,
        coop_code,
        unit_code,
        unit_province_code,
        null::integer,
        null::integer,
        null::integer,
        false
    from unit_history_start
    union all
    select
        step,
        coop_code,
        unit_code,
        unit_province_code,
        report_year,
        unit_rank,
        won_before,
        unit_rank is not null
        and row_number() over (
            partition by coop_code, unit_rank is null
            order by
                province_won_before desc nulls last,
                province_first_length asc,
                province_first_code asc,
                unit_rank asc,
                won_before desc nulls last,
                length(unit_code) asc,
                unit_code asc
        ) = 1 as wins
    from (
        select
            *,
            max(won_before) over (partition by coop_code, province) as province_won_before,
            first_value(length(unit_code)) over by_code as province_first_length,
            first_value(unit_code) over by_code as province_first_code
        from (
            select
                y.step,
                h.coop_code,
                h.unit_code,
                h.unit_province_code,
                y.report_year,
                r.unit_rank,
                case when h.wins then h.report_year else h.won_before end as won_before,
                -- up to 2024 every unit is a province of its own (the choice is the unit's
                -- history, then its code), as is a unit of no known province
                case
                    when y.report_year >= 2025 and h.unit_province_code is not null
                        then 'province ' || h.unit_province_code
                    else 'unit ' || h.unit_code
                end as province
            from unit_history as h
            inner join report_years as y on h.step + 1 = y.step
            left join unit_reports as r
                on
                h.coop_code = r.coop_code
                and h.unit_code = r.unit_code
                and y.report_year = r.report_year
        ) as carried
        -- a province's lowest code, level first, of its units reporting the cooperative,
        -- whatever their rank: another of its units' report does not weaken it
        window by_code as (
            partition by coop_code, province, unit_rank is null
            order by length(unit_code) asc, unit_code asc
        )
    ) as within_province
),

unit_wins as (
    select
        coop_code,
        report_year,
        unit_code,
        wins
    from unit_history
    where unit_rank is not null
),

-- Each row with whether its unit wins the cooperative that year (not contested: it does).
rows_unit_wins as (
    select
        r.*,
        coalesce(w.wins, true) as unit_wins
    from ranked as r
    left join unit_wins as w
        on
        r.coop_code = w.coop_code
        and r.report_year = w.report_year
        and r.unit_code = w.unit_code
),

-- The cooperative-years that more than one row names (two reports, or one report naming the
-- cooperative twice): the only ones where precedence has to choose. Nearly every
-- cooperative-year is one row, and a window over all of them sorts each.
disputed as (
    select
        coop_code,
        report_year
    from rows_unit_wins
    group by coop_code, report_year
    having count(*) > 1
),

-- A cooperative-year of one row: that row wins it.
undisputed as (
    select
        r.*,
        r.file_id as winner_file_id,
        r.unit_code as winner_unit_code,
        r.unit_province_code as winner_province_code,
        true as first_winning_row
    from rows_unit_wins as r
    anti join disputed as d
        on
        r.coop_code = d.coop_code
        and r.report_year is not distinct from d.report_year
),

decided_disputed as (
    select
        r.*,
        first_value(r.file_id) over by_precedence as winner_file_id,
        first_value(r.unit_code) over by_precedence as winner_unit_code,
        first_value(r.unit_province_code) over by_precedence as winner_province_code,
        row_number() over by_precedence = 1 as first_winning_row
    from rows_unit_wins as r
    semi join disputed as d
        on
        r.coop_code = d.coop_code
        and r.report_year is not distinct from d.report_year
    window by_precedence as (
        partition by r.coop_code, r.report_year
        order by
            r.unit_wins desc,
            r.file_id asc,
            r.excel_row asc
    )
),

decided as (
    select * from undisputed
    union all
    select * from decided_disputed
)

select
    file_id,
    sheet_name,
    excel_row,
    coop_code,
    report_year,
    unit_code,
    unit_level,
    unit_province_code,
    unit_rank,
    file_id = winner_file_id as wins,
    winner_file_id,
    winner_unit_code,
    winner_province_code,
    first_winning_row
from decided;
