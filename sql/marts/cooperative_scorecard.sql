-- Grain: one row per cooperative (coop_code), with its latest figures and its history.
create or replace table marts.cooperative_scorecard as
with

-- Not materialized: each reader scans the mart itself, not a copy of it.
coop_years as not materialized (
    select * from marts.cooperative_district_year
),

support_lines as (
    select * from core.fact_program_support
),

programs as (
    select * from core.dim_program
),

ocop as (
    select * from intermediate.ocop_cooperative_year
),

certifications as (
    select * from core.fact_ocop_product
),

offtake as (
    select * from core.fact_offtake_contract
),

latest as (
    select *
    from coop_years
    qualify row_number() over (partition by coop_code order by year desc) = 1
),

first_year as (
    select *
    from coop_years
    qualify row_number() over (partition by coop_code order by year) = 1
),

-- Profitable years counted back from the latest year, stopping at the first year that
-- was not profitable or not reported.
counted_back as (
    select
        coop_code,
        year,
        coalesce(profit_before_tax_mvnd > 0, false) as is_profitable,
        row_number() over (partition by coop_code order by year desc) as years_back,
        max(year) over (partition by coop_code) as latest_year
    from coop_years
),

streak as (
    select
        coop_code,
        bool_and(is_profitable and year = latest_year - years_back + 1) over (
            partition by coop_code order by years_back rows unbounded preceding
        ) as in_streak
    from counted_back
),

profit_streak as (
    select
        coop_code,
        count(*) filter (where in_streak) as consecutive_profitable_years
    from streak
    group by coop_code
),

history as (
    select
        coop_code,
        string_agg(year || ': ' || coalesce(rating, '-'), '; ' order by year) as rating_history,
        count(*) as years_reported,
        count(*) filter (where profit_before_tax_mvnd > 0) as profitable_years
    from coop_years
    group by coop_code
),

-- What its latest reported year's report lists.
ocop_latest as (
    select
        o.coop_code,
        o.ocop_products,
        o.ocop_max_stars
    from ocop as o
    inner join latest as l on o.coop_code = l.coop_code and o.year = l.year
),

-- Each product's latest certification any of its reports up to its latest reported year
-- listed (a product certified again, with other stars, by its new decision).
latest_certifications as (
    select c.*
    from certifications as c
    inner join latest as l on c.coop_code = l.coop_code and c.period_key <= l.year
    qualify row_number() over (
        partition by c.coop_code, lower(c.product_name)
        order by c.decision_date desc nulls last, c.period_key desc
    ) = 1
),

-- Those valid at some time in its latest reported year: the OCOP sheet is optional, and a
-- report without it ends no certificate (valid 36 months from its decision, the workbook
-- contract says), so one a 2024 report listed, decided in 2023, is a valid product in 2025.
ocop_valid as (
    select
        c.coop_code,
        max(c.stars) as ocop_valid_max_stars
    from latest_certifications as c
    inner join latest as l on c.coop_code = l.coop_code
    where ocop_valid_in_year(c.valid_until, c.decision_date, l.year)
    group by c.coop_code
),

offtake_latest as (
    select
        o.coop_code,
        count(*) as offtake_contracts,
        sum(o.contract_value_mvnd) as offtake_value_mvnd
    from offtake as o
    inner join latest as l on o.coop_code = l.coop_code and o.period_key = l.year
    group by o.coop_code
),

-- Support over every reported year: in all, and under the programmes the scorecard shows.
-- The amounts reported; 0 under a programme without a line, NULL where every line lacks its
-- amount (not reported is not 0).
support_total as (
    select
        s.coop_code,
        sum(s.amount_mvnd) as support_total_mvnd,
        if(
            bool_or(p.program_code = 'DA167'),
            sum(s.amount_mvnd) filter (where p.program_code = 'DA167'),
            0
        ) as support_da167_mvnd,
        if(
            bool_or(p.program_code = 'NTM'),
            sum(s.amount_mvnd) filter (where p.program_code = 'NTM'),
            0
        ) as support_ntm_mvnd,
        if(
            bool_or(p.program_code = 'OCOP'),
            sum(s.amount_mvnd) filter (where p.program_code = 'OCOP'),
            0
        ) as support_ocop_mvnd,
        string_agg(distinct p.program_code, ', ' order by p.program_code) as programs
    from support_lines as s
    inner join programs as p using (program_key)
    group by s.coop_code
)

select
    l.coop_code,
    l.name,
    l.sector,
    l.district_code,
    l.district_name,
    l.province_code,
    l.attribution_carried_forward,
    l.in_da167,
    f.year as first_year,
    l.year as latest_year,
    h.years_reported,
    l.members,
    l.workers,
    l.charter_capital_mvnd,
    l.total_assets_mvnd,
    l.revenue_mvnd,
    l.profit_before_tax_mvnd,
    l.avg_income_mvnd,
    l.rating,
    l.score,
    f.revenue_mvnd as first_revenue_mvnd,
    case
        when l.year > f.year and f.revenue_mvnd > 0 and l.revenue_mvnd >= 0
            then power(l.revenue_mvnd / f.revenue_mvnd, 1.0 / (l.year - f.year)) - 1
    end as revenue_cagr,
    l.members - f.members as members_change,
    coalesce(p.consecutive_profitable_years, 0) as consecutive_profitable_years,
    h.profitable_years,
    h.rating_history,
    coalesce(o.ocop_products, 0) as ocop_products,
    o.ocop_max_stars,
    v.coop_code is not null as has_valid_ocop_product,
    v.ocop_valid_max_stars,
    l.has_offtake_contract or coalesce(k.offtake_contracts, 0) > 0 as has_offtake_contract,
    coalesce(k.offtake_contracts, 0) as offtake_contracts,
    -- A cooperative without support has 0; one whose support lacks every amount, NULL.
    if(s.coop_code is null, 0, s.support_total_mvnd) as support_total_mvnd,
    if(s.coop_code is null, 0, s.support_da167_mvnd) as support_da167_mvnd,
    if(s.coop_code is null, 0, s.support_ntm_mvnd) as support_ntm_mvnd,
    if(s.coop_code is null, 0, s.support_ocop_mvnd) as support_ocop_mvnd,
    s.programs as support_programs
from latest as l
inner join first_year as f using (coop_code)
inner join history as h using (coop_code)
left join profit_streak as p using (coop_code)
left join ocop_latest as o using (coop_code)
left join ocop_valid as v using (coop_code)
left join offtake_latest as k using (coop_code)
left join support_total as s using (coop_code)
order by l.district_code, l.coop_code;

comment on table marts.cooperative_scorecard is 'One row per cooperative: latest figures, growth since first report, consecutive profitable years, rating history, OCOP, offtake contracts and support received';
comment on column marts.cooperative_scorecard.consecutive_profitable_years is 'Consecutive reported years with a profit, ending with the latest reported year';
comment on column marts.cooperative_scorecard.revenue_cagr is 'Compound annual revenue growth from the first to the latest reported year (-1: fell to 0; NULL when the first year had no revenue, or one year only)';
comment on column marts.cooperative_scorecard.province_code is 'Province of its latest reported year (marts.cooperative_district_year): its legacy district''s, or for an unattributed cooperative the one its report places it in';
comment on column marts.cooperative_scorecard.ocop_products is 'OCOP product certifications its latest reported year''s report lists, expired ones included';
comment on column marts.cooperative_scorecard.ocop_max_stars is 'Most stars among every OCOP certification its latest reported year''s report lists, expired ones included (see ocop_valid_max_stars)';
comment on column marts.cooperative_scorecard.has_valid_ocop_product is 'An OCOP certification valid at some time in the latest reported year (decided by 31 December, expiring on or after 1 January), of each product''s latest certification any of its reports up to that year listed: a report without an OCOP sheet ends no certificate';
comment on column marts.cooperative_scorecard.ocop_valid_max_stars is 'Most stars among the OCOP certifications valid at some time in the latest reported year (those of has_valid_ocop_product, listed by any of its reports); NULL when none is';
