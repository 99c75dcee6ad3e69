-- Violations: cooperatives with facts but no scorecard or replication assessment.
-- An anti-join that selects nothing from the facts, hence noqa: ST11.
select count(*) as violations
from (select distinct coop_code from core.fact_cooperative_year) as f  -- noqa: ST11
left join marts.cooperative_scorecard as s using (coop_code)
left join marts.replication_candidates as r using (coop_code)
where s.coop_code is null or r.coop_code is null
