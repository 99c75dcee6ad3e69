-- Grain: one row per legacy district and year; the unattributed cooperatives (district_code
-- NULL) in a row of their own per province and year (province_code: the province of their
-- cooperative-year in marts.cooperative_district_year, where they are), so that summing the
-- rows of a province counts all its cooperatives. Support has one column per programme of
-- core.dim_program (intermediate.support_cooperative_year).
create or replace table marts.district_year as
with

coop_years as (
    select * from marts.cooperative_district_year
),

support as (
    select * from intermediate.support_cooperative_year
),

ocop as (
    select * from intermediate.ocop_cooperative_year
),

-- The rating mix's column of each rating of the suite (etl.contract.layout.RATING_MIX).
ratings as (
    select * from ref_ratings
),

-- Each cooperative-year with its support (one column per programme, and the total), its
-- OCOP products and the rating mix's column its rating counts in.
joined as (
    select
        c.*,
        -- 0 for a cooperative-year without support; NULL: its lines report no amount
        if(s.coop_code is null, 0, columns(s.* exclude (coop_code, year))),
        o.ocop_products,
        o.ocop_valid_products,
        r.mart_column as rating_column
    from coop_years as c
    left join support as s using (coop_code, year)
    left join ocop as o using (coop_code, year)
    left join ratings as r using (rating)
)

select
    district_code,
    any_value(district_name) as district_name,
    -- A district's province, an unattributed row's own: named when the row's cooperatives
    -- share one, never an arbitrary one of several.
    case when count(distinct province_code) = 1 then min(province_code) end as province_code,
    year,
    count(*) as cooperatives,
    count(*) filter (where founded_year = year) as new_cooperatives,
    count(*) filter (where attribution_carried_forward) as carried_forward_cooperatives,
    count(*) filter (where in_da167) as da167_cooperatives,
    sum(members) as members,
    sum(workers) as workers,
    sum(revenue_mvnd) as revenue_mvnd,
    sum(profit_before_tax_mvnd) as profit_before_tax_mvnd,
    avg(revenue_mvnd) as avg_revenue_mvnd,
    count(*) filter (where rating_column = 'rated_tot') as rated_tot,
    count(*) filter (where rating_column = 'rated_kha') as rated_kha,
    count(*) filter (where rating_column = 'rated_trung_binh') as rated_trung_binh,
    count(*) filter (where rating_column = 'rated_yeu') as rated_yeu,
    count(*) filter (where rating is null or rating_column = 'unrated') as unrated,
    count(*) filter (where has_offtake_contract) as with_offtake_contract,
    coalesce(sum(ocop_products), 0) as ocop_products,
    coalesce(sum(ocop_valid_products), 0) as ocop_valid_products,
    -- support_<code>_mvnd for each programme of core.dim_program, then support_total_mvnd:
    -- the amounts reported (0 without a line); NULL where its lines report none (rule 6)
    if(
        bool_or(columns('^support_.*_mvnd$') is null),
        nullif(sum(columns('^support_.*_mvnd$')), 0),
        sum(columns('^support_.*_mvnd$'))
    )
from joined
group by district_code, case when district_code is null then province_code end, year
order by district_code, case when district_code is null then province_code end, year;

comment on table marts.district_year is 'Per legacy district and year: cooperatives, members, finances, rating mix, OCOP products and support by programme (million VND); the unattributed cooperatives (district_code NULL) per province and year';
comment on column marts.district_year.district_code is 'Legacy district (before 01/07/2025); NULL: unattributed, one row per province_code and year';
comment on column marts.district_year.province_code is 'The district''s province; for an unattributed row, the province its cooperatives'' reports of the year place them in (marts.cooperative_district_year.province_code)';
comment on column marts.district_year.new_cooperatives is 'Cooperatives founded in the year';
comment on column marts.district_year.carried_forward_cooperatives is 'Cooperatives attributed to the district from their last known legacy district (reports from 2025 on)';
comment on column marts.district_year.ocop_products is 'OCOP product certifications reported in the year, expired ones included (see ocop_valid_products)';
comment on column marts.district_year.ocop_valid_products is 'OCOP product certifications reported in the year and valid at some time in it: decided by 31 December, expiring on or after 1 January';
