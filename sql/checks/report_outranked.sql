-- Grain: one row per loaded HTX row whose cooperative a report of higher rank of the same year
-- also names (stg_report_precedence: the workbook contract's order of precedence). That
-- report wins for all of the cooperative's rows; the outranked file gets the warning:
-- - from 2026, a province's row when one of its communes' reports names the cooperative;
-- - in 2025, a district's row when the report of the province it merged into names it.
-- A unit of another province is of equal rank (coop_code_in_two_units warns).
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
        p.winner_file_id,
        p.winner_unit_code,
        p.unit_rank = 1
        and p.report_year >= 2026
        and p.unit_level = 'province' as commune_wins,
        p.unit_rank = 1
        and p.report_year = 2025
        and p.unit_level = 'district' as province_wins
    from precedence as p
    where
        not p.wins
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
        excel_row
    from precedence
    where wins
)

select
    o.file_id,
    o.sheet_name,
    o.excel_row,
    o.commune_wins as commune_report_wins,
    o.province_wins as province_report_wins,
    o.coop_code || ' (' || o.winner_unit_code || ')' as winner_value,
    to_json([
        { 'file_id': w.file_id, 'sheet': w.sheet_name, 'excel_row': w.excel_row }
    ])::varchar as causes
from outranked as o
left join winning_rows as w
    on
    o.winner_file_id = w.file_id
    and o.coop_code = w.coop_code
    and o.report_year = w.report_year
where o.commune_wins or o.province_wins
