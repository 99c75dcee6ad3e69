-- Grain: one row per reporting year of the two phases, 2021-2030.
insert into core.dim_period (period_key, year, phase, is_after_reorganisation)
select
    years.year as period_key,
    years.year,
    case when years.year <= 2025 then '2021-2025' else '2026-2030' end as phase,
    years.year >= 2025 as is_after_reorganisation
from range(2021, 2031) as years (year)
