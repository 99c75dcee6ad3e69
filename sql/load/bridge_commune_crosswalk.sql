-- Grain: one row per former commune and new commune it went to (etl/contract/crosswalk.py).
insert into core.bridge_commune_crosswalk (
    old_commune_code,
    old_district_code,
    old_province_code,
    new_commune_code,
    new_province_code,
    match,
    source_text
)
select
    old_commune_code,
    nullif(old_district_code, '') as old_district_code,
    old_province_code,
    new_commune_code,
    new_province_code,
    match,
    source_text
from ref_crosswalk
