-- Grain: one row per required reporting unit and report year (ref_reporting, from
-- config/reporting.toml): whether its report arrived by the due date, judged at the run's
-- logical date (judged_on, Asia/Ho_Chi_Minh). ref_reporting_arrivals holds every recorded
-- file of a unit and year with the Asia/Ho_Chi_Minh time and date its content first arrived
-- (etl/quality/deadlines.py, from audit.file_ingestion and audit.file_sighting); a report's
-- arrival is that of the first file of the unit and year that loaded. Only files arrived
-- by judged_on count: a run judging an earlier date (a backfill, a re-run) sees what had
-- arrived then, so two runs at the same date give the same statuses.
create or replace table marts.reporting_status as
with

required as (
    select * from ref_reporting
),

arrivals as (
    select * from ref_reporting_arrivals
),

arrived_by_then as (
    select a.*
    from arrivals as a
    where a.arrived_on <= (select max(r.judged_on) from required as r)
),

per_unit as (
    select
        unit_code,
        report_year,
        min(arrived_on) filter (where status in ('loaded', 'superseded')) as first_loaded_on,
        min(arrived_on) filter (where status = 'quarantined') as first_rejected_on,
        -- the file loaded now, else (judged before it arrived) the last one that had loaded;
        -- file ids are hashes, so the last is the latest to arrive (file_id breaks a tie)
        coalesce(
            max(file_id) filter (where status = 'loaded'),
            arg_max(file_id, (arrived_at, file_id)) filter (where status = 'superseded')
        ) as loaded_file_id
    from arrived_by_then
    group by unit_code, report_year
)

select
    r.unit_code,
    r.report_year,
    r.due_on,
    case
        when p.first_loaded_on is not null and p.first_loaded_on <= r.due_on then 'received'
        when p.first_loaded_on is not null then 'late'
        when p.first_rejected_on is not null then 'quarantined'
        when r.judged_on <= r.due_on then 'due'
        else 'missing'
    end as status,
    p.first_loaded_on as arrived_on,
    p.loaded_file_id,
    l.file_name as loaded_file_name,
    r.judged_on
from required as r
left join per_unit as p
    on r.unit_code = p.unit_code and r.report_year = p.report_year
left join arrivals as l
    on p.loaded_file_id = l.file_id
order by r.report_year, r.unit_code;

comment on table marts.reporting_status is 'Per required reporting unit (config/reporting.toml) and report year: its due date and whether the report arrived by then (received, late, quarantined, due, missing), judged at judged_on in Asia/Ho_Chi_Minh time';
comment on column marts.reporting_status.unit_code is 'Required reporting unit: a former district (3 digits) up to 2024, a province (2 digits) from 2025';
comment on column marts.reporting_status.report_year is 'Report year';
comment on column marts.reporting_status.due_on is 'Due date of the report (default 20 January of the next year)';
comment on column marts.reporting_status.status is 'received: loaded on or before due_on by its first arrival; late: loaded after it; quarantined: only rejected files so far; due: nothing yet, due_on not passed; missing: nothing loaded, due_on passed';
comment on column marts.reporting_status.arrived_on is 'First arrival (Asia/Ho_Chi_Minh date) of a file of the unit and year that loaded; NULL when none did';
comment on column marts.reporting_status.loaded_file_id is 'The file loaded for the unit and year (audit.file_ingestion); NULL when none';
comment on column marts.reporting_status.loaded_file_name is 'Name of the loaded file; NULL when none';
comment on column marts.reporting_status.judged_on is 'The date the status was judged at: the logical date of the run that built it, in Asia/Ho_Chi_Minh time';
