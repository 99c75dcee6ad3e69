-- Grain: one row per cooperative-year that has a previous reported year: the ratio of its
-- revenue and members to that year's. `causes`: the previous year's row. Checked by
-- expectations/warehouse/year_over_year.json (between 0.1 and 10: a jump is more than 10x
-- or less than a tenth). Which side of a bound a ratio is on is decided on the exact
-- amounts (decimal, 10 * previous against current), not on their quotient in binary: as
-- doubles, 1000.7 / 100.07 is just above 10 and 100.1 / 1001 just under 0.1. The ratio
-- is then kept at the bound it reaches exactly, or one step past the bound it crosses.
-- Only the cooperatives with a row in a file of check_run_files (every file, or this run's):
-- a row and its cause are rows of one cooperative, whose years all stay.
with

run_coops as (
    select distinct coop_code
    from core.fact_cooperative_year
    where file_id in (select r.file_id from check_run_files as r)
),

facts as (
    select f.*
    from core.fact_cooperative_year as f
    inner join run_coops as r on f.coop_code = r.coop_code
),

with_previous as (
    select
        file_id,
        source_sheet as sheet_name,
        excel_row,
        revenue_mvnd,
        members,
        period_key,
        lag(revenue_mvnd) over by_year as previous_revenue_mvnd,
        lag(members) over by_year as previous_members,
        lag(period_key) over by_year as previous_year,
        lag(file_id) over by_year as previous_file_id,
        lag(source_sheet) over by_year as previous_sheet,
        lag(excel_row) over by_year as previous_excel_row
    from facts
    window by_year as (partition by coop_code order by period_key)
)

select
    file_id,
    sheet_name,
    excel_row,
    -- From 0, any amount is more than ten times it (infinity), and 0 again no change.
    case
        when previous_revenue_mvnd = 0 and revenue_mvnd = 0 then 1
        when previous_revenue_mvnd = 0 and revenue_mvnd > 0 then 'infinity'::double
        when revenue_quotient is null then null  -- not reported: no ratio (greatest skips NULL)
        when revenue_mvnd > 10 * previous_revenue_mvnd::decimal(38, 6)
            then greatest(revenue_quotient, nextafter(10::double, 'infinity'::double))
        when 10 * revenue_mvnd::decimal(38, 6) < previous_revenue_mvnd
            then least(revenue_quotient, nextafter(0.1::double, 0::double))
        else least(greatest(revenue_quotient, 0.1), 10)
    end as revenue_ratio,
    case
        when previous_members = 0 and members = 0 then 1
        when previous_members = 0 and members > 0 then 'infinity'::double
        when members_quotient is null then null  -- not reported: no ratio (greatest skips NULL)
        when members > 10 * previous_members::bigint
            then greatest(members_quotient, nextafter(10::double, 'infinity'::double))
        when 10 * members::bigint < previous_members
            then least(members_quotient, nextafter(0.1::double, 0::double))
        else least(greatest(members_quotient, 0.1), 10)
    end as members_ratio,
    number_text(revenue_mvnd) || ' (' || previous_year || ': '
    || number_text(previous_revenue_mvnd) || ')' as revenue_ratio_value,
    members::varchar || ' (' || previous_year || ': ' || previous_members || ')'
        as members_ratio_value,
    to_json([
        { 'file_id': previous_file_id, 'sheet': previous_sheet, 'excel_row': previous_excel_row }
    ])::varchar as causes
from (
    select
        *,
        revenue_mvnd::double / nullif(previous_revenue_mvnd, 0) as revenue_quotient,
        members::double / nullif(previous_members, 0) as members_quotient
    from with_previous
) as quotients
where previous_year = period_key - 1
