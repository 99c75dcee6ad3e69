-- Violations: cooperatives without exactly one current version, or with overlapping versions.
select count(*) as violations
from (
    select coop_code
    from core.dim_cooperative
    group by coop_code
    having
        count(*) filter (where is_current) <> 1
        or count(*) <> count(distinct valid_from_year)
) as inconsistent
