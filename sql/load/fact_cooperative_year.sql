-- Grain: one row per cooperative and reporting year. The cooperative key is the version
-- valid in that year; the geography is the reported commune within the reporting unit,
-- else the reporting unit itself (commune unknown).
insert into core.fact_cooperative_year (
    cooperative_key, geo_key, period_key, coop_code, unit_code, members, workers,
    charter_capital_mvnd, total_assets_mvnd, revenue_mvnd, profit_before_tax_mvnd,
    avg_income_mvnd, rating, score, has_offtake_contract, note, file_id, source_sheet, excel_row
)
with

reported as (
    select * from stg_htx
    where coop_code is not null
    qualify row_number() over (
        partition by coop_code, report_year order by file_id, excel_row
    ) = 1
),

-- The district that last reported the cooperative: where a commune name exists in more
-- than one district of a province-level report, the cooperative's own district wins.
htx as (
    select
        *,
        last_value(case when length(unit_code) = 3 then unit_code end ignore nulls) over (
            partition by coop_code order by report_year
            rows between unbounded preceding and 1 preceding
        ) as previous_district
    from reported
),

cooperatives as (
    select * from core.dim_cooperative
),

geography as (
    select * from core.dim_geography
),

mergers as (
    select * from ref_mergers
),

-- Communes a unit may name: its own (a district's), or every commune of the province and
-- of the provinces merged into it (a province-level report).
unit_communes as (
    select
        unnest(list_distinct([g.district_code, g.province_code, m.new_code])) as unit_code,
        g.district_code,
        g.geo_key,
        g.commune_key,
        lower(g.commune_short_name) as short_name,
        lower(g.commune_name) as full_name,
        g.valid_from,
        g.valid_to
    from geography as g
    left join mergers as m on g.province_code = m.old_code
    where g.level = 'commune'
),

commune_match as (
    select
        h.file_id,
        h.excel_row,
        c.geo_key
    from htx as h
    inner join unit_communes as c
        on h.unit_code = c.unit_code
        and h.commune_key = c.commune_key
        and c.valid_from <= make_date(h.report_year, 12, 31)
        and open_end(c.valid_to) >= make_date(h.report_year, 1, 1)
    qualify row_number() over (
        partition by h.file_id, h.excel_row
        order by
            c.district_code = h.previous_district desc nulls last,
            lower(h.commune_name) in (c.short_name, c.full_name) desc,
            c.valid_from desc,
            c.geo_key asc
    ) = 1
),

unit_match as (
    select
        h.file_id,
        h.excel_row,
        g.geo_key
    from htx as h
    inner join geography as g
        on coalesce(g.district_code, g.province_code) = h.unit_code
        and g.level in ('district', 'province')
        and g.valid_from <= make_date(h.report_year, 12, 31)
        and open_end(g.valid_to) >= make_date(h.report_year, 1, 1)
    qualify row_number() over (
        partition by h.file_id, h.excel_row order by g.valid_from desc, g.geo_key asc
    ) = 1
)

select
    c.cooperative_key,
    coalesce(cm.geo_key, um.geo_key) as geo_key,
    h.report_year as period_key,
    h.coop_code,
    h.unit_code,
    h.members,
    h.workers,
    h.charter_capital_mvnd,
    h.total_assets_mvnd,
    h.revenue_mvnd,
    h.profit_before_tax_mvnd,
    h.avg_income_mvnd,
    h.rating,
    h.score,
    coalesce(h.has_offtake_contract, false) as has_offtake_contract,
    h.note,
    h.file_id,
    h.sheet_name as source_sheet,
    h.excel_row
from htx as h
inner join cooperatives as c
    on h.coop_code = c.coop_code
    and valid_in_year(h.report_year, c.valid_from_year, c.valid_to_year)
left join commune_match as cm using (file_id, excel_row)
left join unit_match as um using (file_id, excel_row)
