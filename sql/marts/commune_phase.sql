-- Grain: one row per commune in force since 01/07/2025 that has cooperatives in
-- marts.commune_year, and one per province in force for its cooperatives under review
-- (new_commune_code NULL): the 2026-2030 phase judged in the new geography.
-- - Baseline: the commune's last year of 2021-2025 in marts.commune_year (2025 when its
--   cooperatives reported then), every earlier year expressed through each cooperative's new
--   commune, as marts.commune_year does.
-- - Latest: its last year of 2026-2030 so far (NULL until a report of the phase is loaded).
-- - Targets for 2030: the baseline grown by the rates of config/phase_targets.toml
--   (ref_commune_targets: [commune."<code>"] over [province."<code>"] over [commune_default],
--   key by key).
-- - On the path: where a straight line from the baseline year to the 2030 target stands in
--   the latest year; a measure is on track when the latest figure reaches it.
create or replace table marts.commune_phase as
with

commune_years as (
    select * from marts.commune_year
),

candidates as (
    select * from marts.replication_candidates
),

targets as (
    select * from ref_commune_targets
),

bounds as (
    select
        new_province_code,
        new_commune_code,
        max(year) filter (where year between 2021 and 2025) as baseline_year,
        max(year) filter (where year between 2026 and 2030) as latest_year,
        sum(new_cooperatives) filter (
            where year between 2026 and 2030
        ) as new_cooperatives_since_2026
    from commune_years
    group by new_province_code, new_commune_code
),

-- Each row of bounds with the commune_year rows of its baseline and of its latest year.
measured as (
    select
        b.*,
        coalesce(l.new_province_name, s.new_province_name) as new_province_name,
        coalesce(l.new_commune_name, s.new_commune_name) as new_commune_name,
        s.cooperatives as cooperatives_baseline,
        s.members as members_baseline,
        s.revenue_mvnd as revenue_baseline_mvnd,
        l.cooperatives as cooperatives_latest,
        l.members as members_latest,
        l.revenue_mvnd as revenue_latest_mvnd,
        l.da167_cooperatives as da167_cooperatives_latest
    from bounds as b
    left join commune_years as s
        on b.new_province_code is not distinct from s.new_province_code
        and b.new_commune_code is not distinct from s.new_commune_code
        and b.baseline_year = s.year
    left join commune_years as l
        on b.new_province_code is not distinct from l.new_province_code
        and b.new_commune_code is not distinct from l.new_commune_code
        and b.latest_year = l.year
),

default_targets as (
    select * from targets
    where level = 'default'
),

-- The rates of each row, key by key: the commune's own, its province's, the default.
rates as (
    select
        m.new_province_code,
        m.new_commune_code,
        coalesce(
            c.cooperatives_growth, p.cooperatives_growth, dflt.cooperatives_growth
        ) as cooperatives_growth,
        coalesce(c.members_growth, p.members_growth, dflt.members_growth) as members_growth,
        coalesce(c.revenue_growth, p.revenue_growth, dflt.revenue_growth) as revenue_growth,
        coalesce(
            c.model_cooperatives, p.model_cooperatives, dflt.model_cooperatives
        ) as model_cooperatives,
        case
            when c.unit_code is not null then 'commune'
            when p.unit_code is not null then 'province'
            else 'default'
        end as targets_from
    from measured as m
    cross join default_targets as dflt
    left join targets as p on p.level = 'province' and m.new_province_code = p.unit_code
    left join targets as c on c.level = 'commune' and m.new_commune_code = c.unit_code
),

candidate_counts as (
    select
        new_province_code,
        new_commune_code,
        count(*) filter (where is_candidate) as replication_candidates
    from candidates
    group by new_province_code, new_commune_code
),

planned as (
    select
        m.*,
        r.model_cooperatives,
        r.targets_from,
        coalesce(c.replication_candidates, 0) as replication_candidates,
        grown_count(m.cooperatives_baseline, r.cooperatives_growth) as target_cooperatives_2030,
        grown_count(m.members_baseline, r.members_growth) as target_members_2030,
        m.revenue_baseline_mvnd * (1 + r.revenue_growth) as target_revenue_2030_mvnd,
        -- how far along the straight line from the baseline year to 2030 the latest year is
        (m.latest_year - m.baseline_year) / (2030 - m.baseline_year) as path_share
    from measured as m
    inner join rates as r
        on m.new_province_code is not distinct from r.new_province_code
        and m.new_commune_code is not distinct from r.new_commune_code
    left join candidate_counts as c
        on m.new_province_code is not distinct from c.new_province_code
        and m.new_commune_code is not distinct from c.new_commune_code
),

on_path as (
    select
        *,
        cooperatives_baseline
        + (target_cooperatives_2030 - cooperatives_baseline) * path_share
            as cooperatives_on_path,
        members_baseline + (target_members_2030 - members_baseline) * path_share
            as members_on_path,
        revenue_baseline_mvnd
        + (target_revenue_2030_mvnd - revenue_baseline_mvnd) * path_share
            as revenue_on_path_mvnd
    from planned
)

select
    new_province_code,
    new_province_name,
    new_commune_code,
    new_commune_name,
    baseline_year,
    cooperatives_baseline,
    members_baseline,
    revenue_baseline_mvnd,
    latest_year,
    cooperatives_latest,
    members_latest,
    revenue_latest_mvnd,
    coalesce(new_cooperatives_since_2026, 0) as new_cooperatives_since_2026,
    da167_cooperatives_latest,
    replication_candidates,
    target_cooperatives_2030,
    target_members_2030,
    target_revenue_2030_mvnd,
    model_cooperatives as target_model_cooperatives_2030,
    cooperatives_on_path,
    members_on_path,
    revenue_on_path_mvnd,
    cooperatives_latest >= cooperatives_on_path as cooperatives_on_track,
    members_latest >= members_on_path as members_on_track,
    revenue_latest_mvnd >= revenue_on_path_mvnd as revenue_on_track,
    replication_candidates >= model_cooperatives as has_enough_candidates,
    targets_from
from on_path
order by new_province_code, new_commune_code nulls last;

comment on table marts.commune_phase is 'Per commune in force since 01/07/2025 (and per province for its cooperatives under review): the 2026-2030 phase judged in the new geography, its baseline (last year of 2021-2025), its latest year, the 2030 targets and whether it is on track';
comment on column marts.commune_phase.baseline_year is 'The commune''s last year of 2021-2025 in marts.commune_year (every year expressed through each cooperative''s new commune): the base of its 2030 targets';
comment on column marts.commune_phase.latest_year is 'The commune''s last year of 2026-2030 loaded so far; NULL until a report of the phase is loaded';
comment on column marts.commune_phase.new_cooperatives_since_2026 is 'Cooperatives founded in 2026-2030, each counted in the year it was founded (sum of marts.commune_year.new_cooperatives, founded_year = year)';
comment on column marts.commune_phase.da167_cooperatives_latest is 'Cooperatives in the Decision 167 scheme in the latest year';
comment on column marts.commune_phase.replication_candidates is 'Cooperatives placed in the commune that meet every criterion (marts.replication_candidates.is_candidate)';
comment on column marts.commune_phase.target_cooperatives_2030 is 'Cooperatives for 2030: cooperatives_baseline grown by cooperatives_growth of config/phase_targets.toml, rounded';
comment on column marts.commune_phase.target_members_2030 is 'Members for 2030: members_baseline grown by members_growth of config/phase_targets.toml, rounded';
comment on column marts.commune_phase.target_revenue_2030_mvnd is 'Revenue for 2030, million VND: revenue_baseline_mvnd grown by revenue_growth of config/phase_targets.toml';
comment on column marts.commune_phase.target_model_cooperatives_2030 is 'New-model cooperatives to replicate in the commune by 2030 (model_cooperatives of config/phase_targets.toml)';
comment on column marts.commune_phase.cooperatives_on_path is 'Cooperatives a straight line from the baseline year to the 2030 target reaches in the latest year';
comment on column marts.commune_phase.members_on_path is 'Members a straight line from the baseline year to the 2030 target reaches in the latest year';
comment on column marts.commune_phase.revenue_on_path_mvnd is 'Revenue (million VND) a straight line from the baseline year to the 2030 target reaches in the latest year';
comment on column marts.commune_phase.cooperatives_on_track is 'The latest year''s cooperatives reach cooperatives_on_path (NULL: no baseline, or no year of 2026-2030 yet)';
comment on column marts.commune_phase.members_on_track is 'The latest year''s members reach members_on_path (NULL: no baseline, or no year of 2026-2030 yet)';
comment on column marts.commune_phase.revenue_on_track is 'The latest year''s revenue reaches revenue_on_path_mvnd (NULL: no baseline, or no year of 2026-2030 yet)';
comment on column marts.commune_phase.has_enough_candidates is 'The commune has at least as many replication candidates as new-model cooperatives it is to replicate by 2030';
comment on column marts.commune_phase.targets_from is 'Where the rates come from: commune ([commune."<code>"] of config/phase_targets.toml), province ([province."<code>"]) or default ([commune_default]); a key an override leaves out comes from the next';
