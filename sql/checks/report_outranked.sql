-- Grain: one row per loaded HTX row whose cooperative a report of higher rank of the same year
-- also names (stg_report_precedence: the workbook contract's order of precedence). That
-- report wins for all of the cooperative's rows; the outranked file gets the warning:
-- - from 2026, a province's row when one of its communes' reports names the cooperative;
-- - in 2025, a district's row when the report of the province it merged into names it.
-- A unit of another province never outranks (coop_code_in_two_units warns).
-- `causes`: the winning report's row. Checked by expectations/warehouse/report_outranked.json.
-- Only the rows of a file of check_run_files (every file, or this run's) or whose winning
-- report is one: those `for_run` keeps.
with

precedence as (
    select * from stg_report_precedence
),

outranked as (
    select
        p.file_id,
        p.sheet_name,
        p.excel_row,
        p.coop_code,
        p.report_year,
        p.unit_level,
        p.unit_province_code,
        p.winner_file_id,
        p.winner_unit_code
    from precedence as p
    where
        not p.wins
        and p.unit_rank = 1
        and (
            p.file_id in (select c.file_id from check_run_files as c)
            or p.winner_file_id in (select c.file_id from check_run_files as c)
        )
),

winning_rows as (
    select
        file_id,
        coop_code,
        report_year,
        sheet_name,
        excel_row,
        unit_province_code
    from precedence
    where wins and first_winning_row
),

-- Outranked by the winning report's unit itself: one of its own province's. A unit
-- outranked in its province whose cooperative another province's report wins is a second
-- unit reporting the code (coop_code_in_two_units), not this warning.
judged as (
    select
        o.*,
        w.sheet_name as winner_sheet,
        w.excel_row as winner_row,
        w.unit_province_code as winner_province_code
    from outranked as o
    left join winning_rows as w
        on
        o.winner_file_id = w.file_id
        and o.coop_code = w.coop_code
        and o.report_year = w.report_year
)

select
    file_id,
    sheet_name,
    excel_row,
    report_year >= 2026 and unit_level = 'province' as commune_report_wins,
    report_year = 2025 and unit_level = 'district' as province_report_wins,
    coop_code || ' (' || winner_unit_code || ')' as winner_value,
    to_json([
        { 'file_id': winner_file_id, 'sheet': winner_sheet, 'excel_row': winner_row }
    ])::varchar as causes
from judged
where unit_province_code is not distinct from winner_province_code
