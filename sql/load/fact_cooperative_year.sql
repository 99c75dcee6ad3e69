-- Grain: one row per cooperative and reporting year, from the report that wins for the
-- cooperative that year (stg_report_precedence). The cooperative key is the version valid in
-- that year; the geography is the commune the row names (stg_htx_commune: a former commune,
-- or from 2025 a commune in force since 01/07/2025, the report year deciding which unit a
-- reused code means), else the reporting unit itself (commune unknown): a district, a
-- province, or from 2026 a commune unit.
insert into core.fact_cooperative_year (
    cooperative_key, geo_key, period_key, coop_code, unit_code, members, workers,
    charter_capital_mvnd, total_assets_mvnd, revenue_mvnd, profit_before_tax_mvnd,
    avg_income_mvnd, rating, score, has_offtake_contract, note, file_id, source_sheet, excel_row
)
with

winning_rows as (
    select
        file_id,
        excel_row
    from stg_report_precedence
    where first_winning_row
),

-- The row of the report that wins for the cooperative and year: its first row, when the
-- report names the cooperative twice (stg_report_precedence.first_winning_row).
winning as (
    select h.*
    from stg_htx as h
    semi join winning_rows as w on h.file_id = w.file_id and h.excel_row = w.excel_row
),

htx as (
    select * from winning
    where coop_code is not null
),

communes_named as (
    select * from stg_htx_commune
),

cooperatives as (
    select * from core.dim_cooperative
),

geography as (
    select * from core.dim_geography
),

-- A former commune is its row valid before 01/07/2025, a commune in force its row from then.
commune_match as (
    select
        n.file_id,
        n.excel_row,
        g.geo_key
    from communes_named as n
    inner join geography as g
        on n.commune_code = g.commune_code
        and g.level = 'commune'
        and (g.district_code is null) = n.commune_current
),

-- The reporting unit's row valid in the report year: a district or province by its own code,
-- or a commune unit (from 2026) by its commune code. Each unit row is keyed by the code that
-- names it, so the match is one equality (hash) join: a join on the disjunction of the two
-- conditions compares every row with every unit.
unit_keys as (
    select
        coalesce(district_code, province_code) as unit_code,
        geo_key,
        valid_from,
        valid_to
    from geography
    where level in ('district', 'province')
    union all
    select
        commune_code as unit_code,
        geo_key,
        valid_from,
        valid_to
    from geography
    where level = 'commune' and district_code is null
),

-- It depends on the unit and the year only: decided once per unit and year, not per row.
unit_years as (
    select distinct
        unit_code,
        report_year
    from htx
),

unit_candidates as (
    select
        y.unit_code,
        y.report_year,
        u.geo_key,
        u.valid_from,
        u.valid_to
    from unit_years as y
    inner join unit_keys as u on y.unit_code = u.unit_code
),

unit_match as (
    select
        unit_code,
        report_year,
        geo_key
    from unit_candidates
    where
        valid_from <= make_date(report_year, 12, 31)
        and open_end(valid_to) >= make_date(report_year, 1, 1)
    qualify row_number() over (
        partition by unit_code, report_year order by valid_from desc, geo_key asc
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
left join unit_match as um
    on h.unit_code = um.unit_code and h.report_year = um.report_year
