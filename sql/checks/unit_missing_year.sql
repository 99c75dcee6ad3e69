-- Grain: one row per reporting unit and year it reported, before the latest year any unit
-- reported: whether it also reported the next year. Attached to the earlier year's file.
-- Checked by expectations/warehouse/unit_missing_year.json.
with

reported as (
    select distinct
        unit_code,
        period_key as year,
        file_id
    from core.fact_cooperative_year
),

latest as (
    select max(year) as latest_year from reported
)

select
    r.file_id,
    'ThongTin' as sheet_name,
    null::integer as excel_row,
    n.unit_code is not null as reported_next_year,
    (r.year + 1)::varchar as reported_next_year_value
from reported as r
cross join latest as l
left join reported as n on r.unit_code = n.unit_code and n.year = r.year + 1
where
    r.year < l.latest_year
    -- district reports end with the 2025 reorganisation; their absence is expected then
    and not (
        length(r.unit_code) = 3
        and r.year + 1 >= 2025
        and n.unit_code is null
        and exists (
            select 1
            from reported as p
            where length(p.unit_code) = 2 and p.year = r.year + 1
        )
    )
qualify row_number() over (partition by r.unit_code, r.year order by r.file_id) = 1
