-- Grain: one row per legacy district, and one per province for the unattributed cooperatives
-- (district_code NULL; province_code as in marts.district_year): the 2021-2025 phase against
-- the 2026-2030 targets of config/phase_targets.toml (loaded as ref_phase_targets).
create or replace table marts.phase_summary as
with

-- row_key: what a row of this table is for, a district (its code) or the unattributed
-- cooperatives of a province ('unattributed ' and the province_code): one join key, where
-- district_code alone is NULL for every province's unattributed row.
district_years as (
    select
        *,
        coalesce(district_code, 'unattributed ' || coalesce(province_code, '')) as row_key
    from marts.district_year
    where year between 2021 and 2025
),

candidates as (
    select
        *,
        coalesce(district_code, 'unattributed ' || coalesce(province_code, '')) as row_key
    from marts.replication_candidates
),

targets as (
    select * from ref_phase_targets
),

default_targets as (
    select * from targets
    where district_code is null
),

phase_bounds as (
    select
        row_key,
        min(year) as first_year,
        max(year) as last_year
    from district_years
    group by row_key
),

phase_start as (
    select d.*
    from district_years as d
    inner join phase_bounds as b on d.row_key = b.row_key and d.year = b.first_year
),

phase_end as (
    select d.*
    from district_years as d
    inner join phase_bounds as b on d.row_key = b.row_key and d.year = b.last_year
),

phase_totals as (
    select
        row_key,
        sum(support_total_mvnd) as support_total_mvnd,
        sum(support_da167_mvnd) as support_da167_mvnd,
        sum(new_cooperatives) as new_cooperatives
    from district_years
    group by row_key
),

candidate_counts as (
    select
        row_key,
        count(*) filter (where is_candidate) as replication_candidates
    from candidates
    group by row_key
),

district_targets as (
    select
        e.row_key,
        coalesce(t.cooperatives_growth, dflt.cooperatives_growth) as cooperatives_growth,
        coalesce(t.members_growth, dflt.members_growth) as members_growth,
        coalesce(t.revenue_growth, dflt.revenue_growth) as revenue_growth,
        coalesce(t.model_cooperatives, dflt.model_cooperatives) as model_cooperatives
    from phase_end as e
    cross join default_targets as dflt
    left join targets as t on e.district_code = t.district_code
)

select
    e.district_code,
    e.district_name,
    e.province_code,
    s.year as phase_first_year,
    e.year as phase_last_year,
    s.cooperatives as cooperatives_first_year,
    e.cooperatives as cooperatives_last_year,
    s.members as members_first_year,
    e.members as members_last_year,
    s.revenue_mvnd as revenue_first_year_mvnd,
    e.revenue_mvnd as revenue_last_year_mvnd,
    case
        when e.year > s.year and s.revenue_mvnd > 0
            then power(e.revenue_mvnd / s.revenue_mvnd, 1.0 / (e.year - s.year)) - 1
    end as revenue_cagr_phase1,
    p.new_cooperatives,
    p.support_total_mvnd,
    p.support_da167_mvnd,
    e.da167_cooperatives,
    coalesce(c.replication_candidates, 0) as replication_candidates,
    grown_count(e.cooperatives, t.cooperatives_growth) as target_cooperatives_2030,
    grown_count(e.members, t.members_growth) as target_members_2030,
    e.revenue_mvnd * (1 + t.revenue_growth) as target_revenue_2030_mvnd,
    t.model_cooperatives as target_model_cooperatives_2030,
    power(1 + t.revenue_growth, 1.0 / (2030 - e.year)) - 1 as required_revenue_growth_per_year,
    coalesce(c.replication_candidates, 0) >= t.model_cooperatives as has_enough_candidates
from phase_end as e
inner join phase_start as s on e.row_key = s.row_key
inner join phase_totals as p on e.row_key = p.row_key
inner join district_targets as t on e.row_key = t.row_key
left join candidate_counts as c on e.row_key = c.row_key
order by e.district_code, e.province_code;

comment on table marts.phase_summary is 'Per legacy district (the unattributed cooperatives, district_code NULL, per province): the 2021-2025 phase (first and last year, growth, support, candidates) against the 2026-2030 targets';
comment on column marts.phase_summary.district_code is 'Legacy district (before 01/07/2025); NULL: unattributed, one row per province_code';
comment on column marts.phase_summary.province_code is 'Province of the district''s phase_last_year row of marts.district_year; for an unattributed row, the province its cooperatives are in (marts.district_year.province_code)';
comment on column marts.phase_summary.has_enough_candidates is 'The district has at least as many replication candidates as new-model cooperatives it is to replicate by 2030';
comment on column marts.phase_summary.revenue_cagr_phase1 is 'Compound annual growth of the district''s revenue from phase_first_year to phase_last_year, its first and last reported years of 2021-2025 (0.05 = +5% a year; -1: fell to 0; NULL when the first year had no revenue, or one year only)';
comment on column marts.phase_summary.target_cooperatives_2030 is 'Cooperatives for 2030: cooperatives_last_year grown by cooperatives_growth of config/phase_targets.toml, rounded';
comment on column marts.phase_summary.target_members_2030 is 'Members for 2030: members_last_year grown by members_growth of config/phase_targets.toml, rounded';
comment on column marts.phase_summary.target_revenue_2030_mvnd is 'Revenue for 2030, million VND: revenue_last_year_mvnd grown by revenue_growth of config/phase_targets.toml';
comment on column marts.phase_summary.target_model_cooperatives_2030 is 'New-model cooperatives to replicate by 2030 (model_cooperatives of config/phase_targets.toml)';
comment on column marts.phase_summary.required_revenue_growth_per_year is 'Yearly revenue growth from phase_last_year to 2030 that reaches target_revenue_2030_mvnd (0.05 = +5% a year)';
comment on column marts.phase_summary.replication_candidates is 'Cooperatives attributed to the district by their latest report that meet every criterion (marts.replication_candidates.is_candidate); for an unattributed row, the unattributed ones of its province_code';
