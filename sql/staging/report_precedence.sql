-- Grain: one row per staged HTX row with a cooperative code: which report of its year wins
-- for that cooperative (the workbook contract's order of precedence), as the temp table
-- stg_report_precedence. Every core model keeps only the winning report's rows of a
-- cooperative and year, in every sheet; the checks read it to warn the losing file.
-- - 2025: a province's report wins over a district's (first half of the year);
-- - from 2026: a commune's report wins over the province's;
-- - otherwise (units of equal rank, and every report up to 2024): the unit that reported the
--   cooperative in the latest earlier year (its own history: the contract's "the
--   cooperative's own history decides"), then the lowest unit code, then the lowest file_id
--   (one unit's two files of a year), so that the choice never rests on a file's hash.
-- `first_winning_row`: the winning report's first row for the cooperative and year (its
-- lowest excel_row; a file's rows share its unit, so the winning file's rows come first in
-- the order of precedence), the one row core.dim_cooperative and core.fact_cooperative_year
-- take when a report names a cooperative twice.
create or replace temp table stg_report_precedence as
with

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

ranked as (
    select
        *,
        case
            when report_year = 2025 and unit_level = 'province' then 0
            when report_year >= 2026 and unit_level = 'commune' then 0
            when report_year >= 2025 then 1
            else 0
        end as unit_rank,
        -- the latest earlier year this unit reported the cooperative
        max(report_year) over (
            partition by coop_code, unit_code
            order by report_year
            range between unbounded preceding and 1 preceding
        ) as unit_reported_before
    from htx
),

decided as (
    select
        *,
        first_value(file_id) over by_precedence as winner_file_id,
        first_value(unit_code) over by_precedence as winner_unit_code,
        row_number() over by_precedence = 1 as first_winning_row
    from ranked
    window by_precedence as (
        partition by coop_code, report_year
        order by
            unit_rank asc,
            unit_reported_before desc nulls last,
            unit_code asc,
            file_id asc,
            excel_row asc
    )
)

select
    file_id,
    sheet_name,
    excel_row,
    coop_code,
    report_year,
    unit_code,
    unit_level,
    file_id = winner_file_id as wins,
    winner_file_id,
    winner_unit_code,
    first_winning_row
from decided;
