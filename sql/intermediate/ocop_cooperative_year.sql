-- Grain: one row per cooperative and year with an OCOP product reported.
-- Feeds marts.district_year, marts.commune_year and marts.cooperative_scorecard.
create or replace table intermediate.ocop_cooperative_year as
with

ocop as (
    select * from core.fact_ocop_product
),

-- Valid at some time in the year (the macro ocop_valid_in_year, sql/macros/validity.sql).
judged as (
    select
        coop_code,
        period_key,
        stars,
        ocop_valid_in_year(valid_until, decision_date, period_key) as is_valid_in_year
    from ocop
)

select
    coop_code,
    period_key as year,
    count(*) as ocop_products,
    max(stars) as ocop_max_stars,
    count(*) filter (where is_valid_in_year) as ocop_valid_products,
    max(stars) filter (where is_valid_in_year) as ocop_valid_max_stars
from judged
group by coop_code, period_key;

comment on table intermediate.ocop_cooperative_year is 'OCOP product certifications reported per cooperative and year';
comment on column intermediate.ocop_cooperative_year.ocop_products is 'Product certifications reported in the year, expired ones included';
comment on column intermediate.ocop_cooperative_year.ocop_max_stars is 'Most stars among every certification reported in the year, expired ones included';
comment on column intermediate.ocop_cooperative_year.ocop_valid_products is 'Certifications valid at some time in the year: decided by 31 December, expiring on or after 1 January';
comment on column intermediate.ocop_cooperative_year.ocop_valid_max_stars is 'Most stars among the certifications valid at some time in the year (ocop_valid_products); NULL when none is';
