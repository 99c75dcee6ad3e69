-- Grain: one row per reporting unit and year after its first: the ratio of its number of
-- cooperatives to the year before. Checked by expectations/warehouse/unit_count_change.json.
with

counts as (
    select
        unit_code,
        period_key as year,
        any_value(file_id) as file_id,
        count(*) as cooperatives
    from core.fact_cooperative_year
    group by unit_code, period_key
),

compared as (
    select
        *,
        lag(cooperatives) over (partition by unit_code order by year) as previous,
        lag(year) over (partition by unit_code order by year) as previous_year
    from counts
)

select
    file_id,
    'HTX' as sheet_name,
    null::integer as excel_row,
    cooperatives::double / previous as count_ratio,
    cooperatives || ' (' || previous_year || ': ' || previous || ')' as count_ratio_value
from compared
where previous_year = year - 1
