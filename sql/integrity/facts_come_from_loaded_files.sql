-- Violations: facts from a file that is not `loaded`, or loaded files whose HTX rows are
-- missing from the facts (rows_loaded counts every sheet, so compare per HTX sheet rows).
select
    (select count(*)
     from core.fact_cooperative_year as f
     left join audit.file_ingestion as i using (file_id)
     where i.status is distinct from 'loaded')
    + (select count(*)
       from core.fact_program_support as f
       left join audit.file_ingestion as i using (file_id)
       where i.status is distinct from 'loaded')
    as violations
