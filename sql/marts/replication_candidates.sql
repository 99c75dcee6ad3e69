-- Grain: one row per cooperative (coop_code), assessed against the replication criteria of
-- config/replication_criteria.toml (set as variables by the loader before this model runs).
create or replace table marts.replication_candidates as
with

scorecard as (
    select * from marts.cooperative_scorecard
),

assessed as (
    select
        coop_code,
        name,
        sector,
        district_code,
        district_name,
        in_da167,
        latest_year,
        consecutive_profitable_years,
        rating,
        score,
        revenue_mvnd,
        profit_before_tax_mvnd,
        members,
        has_offtake_contract,
        has_valid_ocop_product,
        consecutive_profitable_years >= getvariable('crit_profit_years')
            as meets_profit_criterion,
        coalesce(
            rating = getvariable('crit_rating') and score >= getvariable('crit_min_score'),
            false
        ) as meets_rating_criterion,
        not getvariable('crit_market_link') or has_offtake_contract or has_valid_ocop_product
            as meets_market_link_criterion
    from scorecard
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
)

select
    *,
    case
        when is_candidate then rank() over (
            partition by district_code, is_candidate
            order by score desc, revenue_mvnd desc, coop_code asc
        )
    end as district_rank
from judged
order by district_code, district_rank nulls last, coop_code;

comment on table marts.replication_candidates is 'Every cooperative assessed for replication in 2026-2030; criteria from config/replication_criteria.toml (Decision 167 defaults)';
comment on column marts.replication_candidates.meets_profit_criterion is 'A profit in each of the configured number of consecutive years ending with the latest reported year';
comment on column marts.replication_candidates.meets_rating_criterion is 'Rated as configured (default Tốt, score >= 80) in the latest reported year';
comment on column marts.replication_candidates.meets_market_link_criterion is 'An offtake contract or a valid OCOP product in the latest reported year';
comment on column marts.replication_candidates.is_candidate is 'All criteria met';
comment on column marts.replication_candidates.district_rank is 'Rank among the candidates of the district, by score then revenue; NULL for non-candidates';
