-- Grain: one row per loaded HTX row, with how many units report its code in the same year.
-- Checked by expectations/warehouse/coop_code_in_two_units.json (warning above 1).
select
    file_id,
    sheet_name,
    excel_row,
    coop_code as value,
    count(distinct unit_code) over (partition by coop_code, report_year) as units_reporting
from stg_htx
where coop_code is not null
