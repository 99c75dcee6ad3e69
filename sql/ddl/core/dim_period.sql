-- Grain: one row per reporting year.
create table core.dim_period (
    period_key              integer primary key,
    year                    integer not null unique,
    phase                   varchar not null,
    is_after_reorganisation boolean not null
);
comment on table core.dim_period is 'Reporting years and their phase: 2021-2025 (Decision 167) or 2026-2030';
comment on column core.dim_period.is_after_reorganisation is 'True from 2025 on: reports may come from the merged province and its communes';
comment on column core.dim_period.period_key is 'The report year, 2021-2030';
comment on column core.dim_period.phase is 'Phase: 2021-2025 (Decision 167: select and perfect the models) or 2026-2030 (replicate them)';
