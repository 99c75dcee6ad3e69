-- Grain: one row per cooperative and year with an OCOP product reported.
-- Feeds marts.district_year and marts.cooperative_scorecard.
create or replace table intermediate.ocop_cooperative_year as
with

ocop as (
    select * from core.fact_ocop_product
)

select
    coop_code,
    period_key as year,
    count(*) as ocop_products,
    max(stars) as ocop_max_stars,
    -- valid at some time in the year: decided by its end, not expired before its start (a
    -- report made in January may list a certificate decided after the year)
    count(*) filter (
        where
        valid_until >= make_date(period_key, 1, 1)
        and decision_date <= make_date(period_key, 12, 31)
    ) as ocop_valid_products
from ocop
group by coop_code, period_key;

comment on table intermediate.ocop_cooperative_year is 'OCOP product certifications reported per cooperative and year';
comment on column intermediate.ocop_cooperative_year.ocop_products is 'Product certifications reported in the year';
comment on column intermediate.ocop_cooperative_year.ocop_max_stars is 'Most stars among them';
comment on column intermediate.ocop_cooperative_year.ocop_valid_products is 'Certifications valid at some time in the year: decided by 31 December, expiring on or after 1 January';
