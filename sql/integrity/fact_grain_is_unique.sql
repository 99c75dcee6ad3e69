-- Violations: more than one fact row for a cooperative and year.
select count(*) as violations
from (
    select
        coop_code,
        period_key
    from core.fact_cooperative_year
    group by all
    having count(*) > 1
) as repeated
