-- Grain: one row per loaded HTX row of 2025 or later whose `Xã/Phường` fits several communes
-- (ref_commune_candidates: the workbook contract's comparison) that the cooperative's own
-- history does not decide between, and that do not all lead to one new commune
-- (stg_htx_commune left it without a commune). The workbook contract: the commune is then
-- unknown, a warning. A name that fits no commune is commune_known's (validation).
-- Checked by expectations/warehouse/commune_ambiguous.json.
-- Only the rows of a file of check_run_files (every file, or this run's): a row has no cause.
with

candidates as (
    select
        *,
        commune_code || case when current then ' mới/new' else ' cũ/former' end as labelled
    from ref_commune_candidates
),

fitting as (
    select
        unit_code,
        report_year,
        commune_name,
        -- a code both a former commune's and the new commune's that kept it: two communes,
        -- named as such
        case
            when count(distinct labelled) > count(distinct commune_code)
                then string_agg(distinct labelled, ', ' order by labelled asc)
            else string_agg(distinct commune_code, ', ' order by commune_code asc)
        end as candidates,
        count(distinct labelled) as fits
    from candidates
    group by unit_code, report_year, commune_name
)

select
    h.file_id,
    h.sheet_name,
    h.excel_row,
    c.commune_code is not null as commune_decided,
    h.commune_name || ' (' || f.candidates || ')' as commune_value
from stg_htx as h
inner join fitting as f
    on
    h.unit_code = f.unit_code
    and h.report_year = f.report_year
    and h.commune_name = f.commune_name
inner join stg_htx_commune as c
    on h.file_id = c.file_id and h.excel_row = c.excel_row
where
    h.report_year >= 2025
    and f.fits > 1
    and c.commune_code is null
    and h.file_id in (select r.file_id from check_run_files as r)
