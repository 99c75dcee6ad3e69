-- Grain: one row per cooperative (coop_code), assessed against the replication criteria of
-- config/replication_criteria.toml (set as variables by the loader before this model runs),
-- ranked among the candidates of its legacy district (2021-2025 comparisons; an unattributed
-- cooperative, district_code NULL, among the unattributed candidates of its province_code,
-- as marts.district_year and marts.phase_summary count them) and of its commune in force
-- since 01/07/2025 (2026-2030 planning; none while under review).
create or replace table marts.replication_candidates as
with

scorecard as (
    select * from marts.cooperative_scorecard
),

placement as (
    select * from intermediate.cooperative_placement
),

assessed as (
    select
        s.coop_code,
        s.name,
        s.sector,
        s.district_code,
        s.district_name,
        s.province_code,
        p.new_province_code,
        p.new_commune_code,
        p.new_commune_name,
        p.placement,
        s.in_da167,
        s.latest_year,
        s.consecutive_profitable_years,
        s.rating,
        s.score,
        s.revenue_mvnd,
        s.profit_before_tax_mvnd,
        s.members,
        s.has_offtake_contract,
        s.has_valid_ocop_product,
        s.consecutive_profitable_years >= getvariable('crit_profit_years')
            as meets_profit_criterion,
        coalesce(
            s.rating = getvariable('crit_rating') and s.score >= getvariable('crit_min_score'),
            false
        ) as meets_rating_criterion,
        not getvariable('crit_market_link') or s.has_offtake_contract or s.has_valid_ocop_product
            as meets_market_link_criterion
    from scorecard as s
    left join placement as p using (coop_code)
),

judged as (
    select
        *,
        (
            meets_profit_criterion
            and meets_rating_criterion
            and meets_market_link_criterion
        ) as is_candidate
    from assessed
),

-- The ranks, among the candidates only (a rank is NULL for the others) and of the columns
-- they need only: a window sorts every column it carries, every row it is given.
ranked as (
    select
        coop_code,
        rank() over (
            partition by district_code, case when district_code is null then province_code end
            order by score desc, revenue_mvnd desc, coop_code asc
        ) as district_rank,
        case
            when new_commune_code is not null then rank() over (
                partition by new_commune_code
                order by score desc, revenue_mvnd desc, coop_code asc
            )
        end as commune_rank
    from judged
    where is_candidate
)

select
    j.*,
    r.district_rank,
    r.commune_rank
from judged as j
left join ranked as r using (coop_code)
order by
    j.district_code, case when j.district_code is null then j.province_code end,
    r.district_rank nulls last, j.coop_code;

comment on table marts.replication_candidates is 'Every cooperative assessed for replication in 2026-2030; criteria from config/replication_criteria.toml (Decision 167 defaults)';
comment on column marts.replication_candidates.meets_profit_criterion is 'A profit in each of the configured number of consecutive years ending with the latest reported year';
comment on column marts.replication_candidates.meets_rating_criterion is 'Rated as configured (default Tốt, score >= 80) in the latest reported year';
comment on column marts.replication_candidates.meets_market_link_criterion is 'An offtake contract or a valid OCOP product in the latest reported year';
comment on column marts.replication_candidates.is_candidate is 'All criteria met';
comment on column marts.replication_candidates.district_rank is 'Rank among the candidates of the district (unattributed: among the unattributed candidates of its province_code), by score, then revenue, then coop_code (no two share a rank); NULL for non-candidates';
comment on column marts.replication_candidates.province_code is 'Province of its latest reported year (marts.cooperative_scorecard): its legacy district''s, or for an unattributed cooperative the one its report places it in';
comment on column marts.replication_candidates.new_province_code is 'Province in force since 01/07/2025 (for a cooperative under review, the one its former district''s province went into)';
comment on column marts.replication_candidates.new_commune_code is 'Commune in force since 01/07/2025; NULL under review (marts.placement_review)';
comment on column marts.replication_candidates.new_commune_name is 'Full name of the commune in force since 01/07/2025';
comment on column marts.replication_candidates.placement is 'How the new commune is known: reported (a report of 2025 or later names it), crosswalk (its former commune went whole into it) or review (not placed, never guessed)';
comment on column marts.replication_candidates.commune_rank is 'Rank among the candidates of the commune in force since 01/07/2025, by score, then revenue, then coop_code (no two share a rank); NULL for non-candidates and under review';
