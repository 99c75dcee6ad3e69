-- Grain: one row per loaded report whose HTX sheet lists no cooperative (an empty template)
-- and a report of the same unit and year with cooperatives that it replaced (superseded):
-- the resubmission rule lets it replace that report whole, so the unit's cooperatives of the
-- year leave the warehouse. The template gets the warning, naming the report it replaced.
-- Checked by expectations/warehouse/empty_report_replaces.json.
-- A report that is not quarantined reads no row when its HTX sheet has none: a row of
-- another sheet names a cooperative of the HTX sheet, or is an error.
-- Only the rows of a file of check_run_files (every file, or this run's).
with

files as (
    select
        file_id,
        file_name,
        status,
        rows_read,
        superseded_by
    from audit.file_ingestion
    where status in ('loaded', 'superseded')
),

empty_reports as (
    select file_id
    from files
    where
        status = 'loaded'
        and rows_read = 0
        and file_id in (select c.file_id from check_run_files as c)
),

replaced as (
    select
        file_id,
        file_name,
        superseded_by
    from files
    where status = 'superseded' and rows_read > 0
)

select
    e.file_id,
    'HTX' as sheet_name,
    null::integer as excel_row,
    true as replaces_report,
    r.file_name || ' (file_id ' || r.file_id || ')' as replaced_value
from empty_reports as e
inner join replaced as r on e.file_id = r.superseded_by
