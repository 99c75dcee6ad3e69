-- Violations: fact rows whose keys lead nowhere. Must be 0 before a build is published.
-- An anti-join that selects nothing from the facts, hence noqa: ST11.
select count(*) as violations
from core.fact_cooperative_year  -- noqa: ST11
left join core.dim_cooperative as c using (cooperative_key)
left join core.dim_geography as g using (geo_key)
left join core.dim_period as p using (period_key)
where c.cooperative_key is null or g.geo_key is null or p.period_key is null
