-- Grain: one row per commune in force since 01/07/2025 and year, 2021-2030: every year, the
-- earlier ones too, expressed in the new geography through each cooperative's new commune
-- (intermediate.cooperative_placement). The cooperatives under review are counted in a row of
-- their own per province in force (new_commune_code NULL), never guessed into a commune.
-- Same measures as marts.district_year: support has one column per programme of
-- core.dim_program (intermediate.support_cooperative_year).
create or replace table marts.commune_year as
with

coop_years as (
    select * from marts.cooperative_district_year
),

placement as (
    select * from intermediate.cooperative_placement
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

-- Each cooperative-year of the phases with its new commune, its support (one column per
-- programme, and the total), its OCOP products and the rating mix's column its rating
-- counts in.
joined as (
    select
        c.*,
        p.new_province_code,
        p.new_province_name,
        p.new_commune_code,
        p.new_commune_name,
        p.placement,
        -- 0 for a cooperative-year without support; NULL: its lines report no amount
        if(s.coop_code is null, 0, columns(s.* exclude (coop_code, year))),
        o.ocop_products,
        o.ocop_valid_products,
        r.mart_column as rating_column
    from coop_years as c
    inner join placement as p using (coop_code)
    left join support as s using (coop_code, year)
    left join ocop as o using (coop_code, year)
    left join ratings as r using (rating)
    where c.year between 2021 and 2030
)

select
    new_province_code,
    any_value(new_province_name) as new_province_name,
    new_commune_code,
    coalesce(
        any_value(new_commune_name), 'Chưa xác định xã/phường mới / New commune under review'
    ) as new_commune_name,
    year,
    count(*) as cooperatives,
    count(*) filter (where placement = 'crosswalk') as placed_by_crosswalk,
    count(*) filter (where founded_year = year) as new_cooperatives,
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
group by new_province_code, new_commune_code, year
order by new_province_code, new_commune_code nulls last, year;

comment on table marts.commune_year is 'Per commune in force since 01/07/2025 and year, 2021-2030, every year through each cooperative''s new commune: cooperatives, members, finances, rating mix, OCOP products and support by programme (million VND); cooperatives under review in one row per province (new_commune_code NULL)';
comment on column marts.commune_year.new_province_code is 'Province in force since 01/07/2025';
comment on column marts.commune_year.new_province_name is 'Name of the province in force since 01/07/2025';
comment on column marts.commune_year.new_commune_code is 'Commune in force since 01/07/2025; NULL: the province''s cooperatives under review (marts.placement_review), never guessed';
comment on column marts.commune_year.new_commune_name is 'Full name of the commune in force since 01/07/2025';
comment on column marts.commune_year.placed_by_crosswalk is 'Cooperatives placed in the commune because their former commune went into it whole, not by a report naming it';
comment on column marts.commune_year.new_cooperatives is 'Cooperatives founded in the year';
comment on column marts.commune_year.rated_tot is 'Cooperatives rated Tốt in the year';
comment on column marts.commune_year.unrated is 'Cooperatives not rated, or rated Chưa xếp loại';
comment on column marts.commune_year.ocop_products is 'OCOP product certifications reported in the year, expired ones included (see ocop_valid_products)';
comment on column marts.commune_year.ocop_valid_products is 'OCOP product certifications reported in the year and valid at some time in it: decided by 31 December, expiring on or after 1 January';
comment on column marts.commune_year.support_total_mvnd is 'Support received under every programme in the year, million VND';
