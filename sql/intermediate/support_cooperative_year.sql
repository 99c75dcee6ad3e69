-- Grain: one row per cooperative and year with support: the amount under each programme of
-- core.dim_program (a column support_<code>_mvnd each, in programme order; 0 without a line of
-- the programme, NULL when its lines report no amount: not reported is not 0) and in all.
-- Feeds marts.district_year and marts.commune_year.
-- The programme columns come from dim_program, not from this file: a pivot's columns must be
-- known before it runs, so an enum of their names, made from dim_program, sets them (and is
-- dropped once the table is made).
create or replace temp macro support_column(program_code) as
'support_' || lower(program_code) || '_mvnd';

-- An enum made from a query: its brackets are DuckDB's syntax, not a wrapped statement.
create or replace type support_column_name as enum (  -- noqa: CV07
    select support_column(program_code)
    from core.dim_program
    order by program_key
);

create or replace table intermediate.support_cooperative_year as
with

support as (
    select * from core.fact_program_support
),

programs as (
    select * from core.dim_program
),

support_lines as (
    select
        s.coop_code,
        s.period_key as year,
        support_column(p.program_code) as program_column,
        s.amount_mvnd
    from support as s
    inner join programs as p using (program_key)
),

-- The amounts of each programme's lines: a list with NULLs for those that report none, no
-- list where the cooperative has no line of the programme.
by_program_lines as (
    pivot support_lines
    on program_column in support_column_name
    using list(amount_mvnd)
    group by coop_code, year
),

by_program as (
    select
        coop_code,
        year,
        if(
            columns(* exclude (coop_code, year)) is null,
            0,
            list_sum(columns(* exclude (coop_code, year)))
        )
    from by_program_lines
),

totals as (
    select
        coop_code,
        period_key as year,
        sum(amount_mvnd) as support_total_mvnd
    from support
    group by coop_code, period_key
)

-- b.*: one column per programme of dim_program, so their number is not known here.
select
    b.*,  -- noqa: AM04
    t.support_total_mvnd
from by_program as b
inner join totals as t using (coop_code, year);

drop type support_column_name;

comment on table intermediate.support_cooperative_year is 'Support received per cooperative and year: one column per programme of core.dim_program (support_<code>_mvnd: 0 without a line of the programme, NULL when its lines report no amount) and the total (NULL when no line reports one). Million VND';
comment on column intermediate.support_cooperative_year.support_total_mvnd is 'Support under every programme in the year, million VND';
