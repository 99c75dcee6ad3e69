-- The geography before and after the reorganisation of 01/07/2025, as temporary macros in
-- each build connection (every file of sql/macros/ runs before the models and the checks).

-- The province over a unit's area at the end of a report year: its former province up to
-- 2024, from 2025 the province in force that the former one merged into (the columns
-- province_code and province_2025 of check_units and ref_check_units;
-- etl.contract.reference.Reference.province_in_force says the same in Python).
create or replace temp macro province_in_force(province_code, province_2025, year) as
case when year >= 2025 then province_2025 else province_code end;
