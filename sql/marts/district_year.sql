-- Grain: one row per legacy district and year (district_code NULL: unattributed).
create or replace table marts.district_year as
with

coop_years as (
    select * from marts.cooperative_district_year
),

support as (
    select * from core.fact_program_support
),

programs as (
    select * from core.dim_program
),

ocop as (
    select * from core.fact_ocop_product
),

support_by_coop_year as (
    select
        s.coop_code,
        s.period_key as year,
        sum(s.amount_mvnd) filter (where p.program_code = 'DA167') as da167,
        sum(s.amount_mvnd) filter (where p.program_code = 'NTM') as ntm,
        sum(s.amount_mvnd) filter (where p.program_code = 'OCOP') as ocop,
        sum(s.amount_mvnd) filter (where p.program_code = 'CNNT') as cnnt,
        sum(s.amount_mvnd) filter (where p.program_code = 'KHAC') as khac,
        sum(s.amount_mvnd) as total
    from support as s
    inner join programs as p using (program_key)
    group by all
),

ocop_by_coop_year as (
    select
        coop_code,
        period_key as year,
        count(*) as products
    from ocop
    group by all
),

joined as (
    select
        c.*,
        s.da167,
        s.ntm,
        s.ocop,
        s.cnnt,
        s.khac,
        s.total as support_total,
        o.products as ocop_products
    from coop_years as c
    left join support_by_coop_year as s using (coop_code, year)
    left join ocop_by_coop_year as o using (coop_code, year)
)

select
    district_code,
    any_value(district_name) as district_name,
    any_value(province_code) as province_code,
    year,
    count(*) as cooperatives,
    count(*) filter (where founded_year = year) as new_cooperatives,
    count(*) filter (where attribution_carried_forward) as carried_forward_cooperatives,
    count(*) filter (where in_da167) as da167_cooperatives,
    sum(members) as members,
    sum(workers) as workers,
    sum(revenue_mvnd) as revenue_mvnd,
    sum(profit_before_tax_mvnd) as profit_before_tax_mvnd,
    avg(revenue_mvnd) as avg_revenue_mvnd,
    count(*) filter (where rating = 'Tốt') as rated_tot,
    count(*) filter (where rating = 'Khá') as rated_kha,
    count(*) filter (where rating = 'Trung bình') as rated_trung_binh,
    count(*) filter (where rating = 'Yếu') as rated_yeu,
    count(*) filter (where rating is null or rating = 'Chưa xếp loại') as unrated,
    count(*) filter (where has_offtake_contract) as with_offtake_contract,
    coalesce(sum(ocop_products), 0) as ocop_products,
    coalesce(sum(da167), 0) as support_da167_mvnd,
    coalesce(sum(ntm), 0) as support_ntm_mvnd,
    coalesce(sum(ocop), 0) as support_ocop_mvnd,
    coalesce(sum(cnnt), 0) as support_cnnt_mvnd,
    coalesce(sum(khac), 0) as support_khac_mvnd,
    coalesce(sum(support_total), 0) as support_total_mvnd
from joined
group by district_code, year
order by district_code, year;

comment on table marts.district_year is 'Per legacy district and year: cooperatives, members, finances, rating mix, OCOP products and support by programme (million VND)';
comment on column marts.district_year.new_cooperatives is 'Cooperatives founded in the year';
comment on column marts.district_year.carried_forward_cooperatives is 'Cooperatives attributed to the district from their last known legacy district (reports from 2025 on)';
