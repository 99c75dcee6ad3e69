-- Violations: facts from a file that is not `loaded`, or loaded files whose HTX rows are
-- missing from the facts (rows_loaded counts every sheet, so compare per HTX sheet rows).
-- Each count is an anti-join that selects nothing from the facts, hence noqa: ST11.
select
    (
        select count(*)
        from core.fact_cooperative_year  -- noqa: ST11
        left join audit.file_ingestion as i using (file_id)
        where i.status is distinct from 'loaded'
    )
    + (
        select count(*)
        from core.fact_program_support  -- noqa: ST11
        left join audit.file_ingestion as i using (file_id)
        where i.status is distinct from 'loaded'
    ) as violations
