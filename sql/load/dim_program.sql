-- Grain: one row per programme, in the order the workbook spec lists them.
insert into core.dim_program (program_key, program_code, name_vi, name_en)
select
    program_key,
    program_code,
    name_vi,
    name_en
from ref_programs
