-- Grain: one row per staged HTX row with a cooperative code: which report of its year wins
-- for that cooperative (the workbook contract's order of precedence), as the temp table
-- stg_report_precedence. Every core model keeps only the winning report's rows of a
-- cooperative and year, in every sheet; the checks read it to warn the losing file.
-- - 2025: a province's report wins over a district's (first half of the year) merged into
--   it;
-- - from 2026: a commune's report wins over its own province's.
--   The contract orders a province and its own units: a report of another province's unit
--   (a Hà Nội ward naming a cooperative of Lâm Đồng) is of equal rank, and the rules below
--   decide, with the warning that two units report the code. Each unit's province in force
--   is `ref_unit_regions`'s; a unit of none there (no such unit that year) is ranked by its
--   level alone;
-- - otherwise (units of equal rank, and every report up to 2024): the unit whose report won
--   the cooperative most recently, in an earlier year (its own history: the contract's "the
--   cooperative's own history decides"). Only a winning report is history: a unit whose
--   report lost a year gains nothing from it, or two units reporting a cooperative year
--   after year would both have "reported it before", and the lower code would take it from
--   the unit it was with. Each year's winners decide the next year's, so `unit_history`
--   walks the report years in order (at most 2021-2030);
-- - then the lowest unit code, level first: a province's (2 digits), a district's (3), a
--   commune's (5). Up to 2024 a province and its districts are of equal rank (the contract
--   orders them from 2025 on only). As text, Đắk Nông's 67 came after its districts 660-667
--   but Hà Giang's 02 before its 024; as numbers, Hà Nội's 01 equals its 001. Level first is
--   the numeric order without that tie: every other province's code is below its districts';
-- - then, within the winning unit, the lowest file_id (one unit's two files of a year), so
--   that the choice never rests on a file's hash.
-- `first_winning_row`: the winning report's first row for the cooperative and year (its
-- lowest excel_row), the one row core.dim_cooperative and core.fact_cooperative_year take
-- when a report names a cooperative twice.
create or replace temp table stg_report_precedence as
with recursive

htx as (
    select
        file_id,
        sheet_name,
        excel_row,
        coop_code,
        report_year,
        unit_code,
        case length(unit_code)
            when 2 then 'province'
            when 3 then 'district'
            else 'commune'
        end as unit_level
    from stg_htx
    where coop_code is not null
),

-- The units whose report outranks another's when both name a cooperative: in 2025 a
-- province's, from 2026 a commune's; each with its province in force.
outranking as (
    select distinct
        h.coop_code,
        h.report_year,
        r.province_code
    from htx as h
    left join ref_unit_regions as r
        on h.unit_code = r.unit_code and h.report_year = r.report_year
    where
        (h.report_year = 2025 and h.unit_level = 'province')
        or (h.report_year >= 2026 and h.unit_level = 'commune')
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
        on h.coop_code = o.coop_code and h.report_year = o.report_year
    left join ref_unit_regions as r
        on h.unit_code = r.unit_code and h.report_year = r.report_year
    where
        (
            (h.report_year = 2025 and h.unit_level = 'district')
            or (h.report_year >= 2026 and h.unit_level = 'province')
        )
        and coalesce(o.province_code = r.province_code, true)
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

-- Per contested cooperative, every unit that ever reports it, at step 0 (before the first
-- year).
unit_history_start as (
    select distinct
        u.coop_code,
        u.unit_code
    from unit_reports as u
    semi join contested as c on u.coop_code = c.coop_code
),

-- One row per cooperative, unit and report year: `unit_rank` (NULL: the unit does not report
-- the cooperative that year), `won_before` (the latest earlier year the unit's report won it)
-- and `wins` (whether the unit wins it this year).
unit_history (step, coop_code, unit_code, report_year, unit_rank, won_before, wins) as (
    select
        0,
        coop_code,
        unit_code,
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
        report_year,
        unit_rank,
        won_before,
        unit_rank is not null
        and row_number() over (
            partition by coop_code, unit_rank is null
            order by
                unit_rank asc,
                won_before desc nulls last,
                length(unit_code) asc,
                unit_code asc
        ) = 1 as wins
    from (
        select
            y.step,
            h.coop_code,
            h.unit_code,
            y.report_year,
            r.unit_rank,
            case when h.wins then h.report_year else h.won_before end as won_before
        from unit_history as h
        inner join report_years as y on h.step + 1 = y.step
        left join unit_reports as r
            on
            h.coop_code = r.coop_code
            and h.unit_code = r.unit_code
            and y.report_year = r.report_year
    ) as carried
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
    unit_rank,
    file_id = winner_file_id as wins,
    winner_file_id,
    winner_unit_code,
    first_winning_row
from decided;
