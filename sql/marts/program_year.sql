-- Grain: one row per programme and year of support.
-- Outcomes compare the 3-year growth (year Y to Y+3) of revenue and members of the
-- cooperatives supported in Y against those not supported by the programme in Y. A growth
-- is NULL until year Y+3 has been reported.
create or replace table marts.program_year as
with

-- Not materialized (here and below): each reader scans the table itself, not a copy.
support as not materialized (
    select * from core.fact_program_support
),

programs as (
    select * from core.dim_program
),

coop_years as not materialized (
    select * from marts.cooperative_district_year
),

supported as (
    select distinct
        program_key,
        period_key as year,
        coop_code
    from support
),

growth as (
    select
        base.coop_code,
        base.year,
        later.revenue_mvnd / nullif(base.revenue_mvnd, 0) - 1 as revenue_growth_3y,
        later.members / nullif(base.members, 0) - 1 as member_growth_3y
    from coop_years as base
    inner join coop_years as later
        on base.coop_code = later.coop_code
        and later.year = base.year + 3
),

program_years as (
    select distinct
        program_key,
        period_key as year
    from support
),

-- The program years that have cooperatives to compare: each has its outcomes (counts 0
-- where none has a growth yet).
compared as (
    select
        program_key,
        year
    from program_years
    where year in (select c.year from coop_years as c)
),

-- Only the cooperatives with a growth: a median or count skips the others (NULL), and every
-- program year pairs with each of its year's cooperatives.
outcomes as (
    select
        py.program_key,
        py.year,
        s.coop_code is not null as is_supported,
        g.revenue_growth_3y,
        g.member_growth_3y
    from program_years as py
    inner join growth as g on py.year = g.year
    left join supported as s
        on py.program_key = s.program_key
        and py.year = s.year
        and g.coop_code = s.coop_code
),

outcome_summary as (
    select
        program_key,
        year,
        median(revenue_growth_3y) filter (where is_supported) as supported_revenue_growth_3y,
        median(revenue_growth_3y) filter (where not is_supported) as unsupported_revenue_growth_3y,
        median(member_growth_3y) filter (where is_supported) as supported_member_growth_3y,
        median(member_growth_3y) filter (where not is_supported) as unsupported_member_growth_3y,
        count(revenue_growth_3y) filter (where is_supported) as supported_with_outcome,
        count(revenue_growth_3y) filter (where not is_supported) as unsupported_with_outcome
    from outcomes
    group by all
),

amounts as (
    select
        program_key,
        period_key as year,
        sum(amount_mvnd) as amount_mvnd,
        count(*) as support_lines,
        count(*) filter (where amount_mvnd is null) as support_lines_without_amount,
        count(distinct coop_code) as cooperatives_reached
    from support
    group by all
)

select
    p.program_code,
    p.name_vi,
    p.name_en,
    a.year,
    a.amount_mvnd,
    a.support_lines,
    a.support_lines_without_amount,
    a.cooperatives_reached,
    o.supported_revenue_growth_3y,
    o.unsupported_revenue_growth_3y,
    o.supported_member_growth_3y,
    o.unsupported_member_growth_3y,
    case when k.year is not null then coalesce(o.supported_with_outcome, 0) end
        as supported_with_outcome,
    case when k.year is not null then coalesce(o.unsupported_with_outcome, 0) end
        as unsupported_with_outcome
from amounts as a
inner join programs as p using (program_key)
left join compared as k using (program_key, year)
left join outcome_summary as o using (program_key, year)
order by p.program_key, a.year;

comment on table marts.program_year is 'Per programme and year: support paid, cooperatives reached, and 3-year growth of supported against unsupported cooperatives (medians)';
comment on column marts.program_year.amount_mvnd is 'Support paid, million VND: the sum of the amounts reported; NULL when no line of the programme and year reports one (see support_lines_without_amount)';
comment on column marts.program_year.support_lines_without_amount is 'Support lines whose amount (Kinh phí) was not reported: counted in support_lines and cooperatives_reached, not in amount_mvnd';
comment on column marts.program_year.supported_revenue_growth_3y is 'Median revenue growth from the year to three years later of the cooperatives supported that year (0.25 = +25%)';
comment on column marts.program_year.unsupported_revenue_growth_3y is 'Median revenue growth from the year to three years later of the cooperatives reported that year that this programme did not support that year (0.25 = +25%): the comparison group';
comment on column marts.program_year.supported_member_growth_3y is 'Median growth of members from the year to three years later of the cooperatives supported that year (0.1 = +10%)';
comment on column marts.program_year.unsupported_member_growth_3y is 'Median growth of members from the year to three years later of the cooperatives the programme did not support that year (0.1 = +10%)';
comment on column marts.program_year.supported_with_outcome is 'Supported cooperatives with a revenue growth to compare: revenue reported that year (not 0) and three years later (the count behind supported_revenue_growth_3y)';
comment on column marts.program_year.unsupported_with_outcome is 'Unsupported cooperatives with a revenue growth to compare (the count behind unsupported_revenue_growth_3y)';
