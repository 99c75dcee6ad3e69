-- Grain: one row per support programme.
create table core.dim_program (
    program_key  integer primary key,
    program_code varchar not null unique,
    name_vi      varchar not null,
    name_en      varchar not null
);
comment on table core.dim_program is 'Support programmes: Decision 167 scheme, NTM, OCOP, CNNT and other support';
comment on column core.dim_program.program_key is 'Surrogate key of the programme';
