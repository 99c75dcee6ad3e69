-- Grain: one row per cooperative under review (placement 'review'): its new commune is not
-- known and is never guessed. Says what is known (its former commune and district, its last
-- reported year), which communes in force its former commune went to (the crosswalk), and
-- what would settle it. The former commune is the one the placement went by
-- (core.dim_cooperative.former_commune_code, through intermediate.cooperative_placement),
-- which a report that does not win may name: the review explains the placement made, from
-- the same evidence. A former commune with no row in the crosswalk is unmatched: it has
-- one in audit.crosswalk_unmatched, with why and the candidates, and its possible new
-- communes are those whose merger text may mean it (possible_new_codes).
create or replace table marts.placement_review as
with

placement as (
    select * from intermediate.cooperative_placement
),

bridge as (
    select * from core.bridge_commune_crosswalk
),

unmatched as (
    select * from ref_crosswalk_unmatched
),

geography as (
    select * from core.dim_geography
),

new_communes as (
    select
        commune_code,
        commune_name
    from geography
    where level = 'commune' and district_code is null
    qualify row_number() over (partition by commune_code order by valid_from desc) = 1
),

under_review as (
    select *
    from placement
    where placement = 'review'
),

links as (
    select
        old_commune_code,
        new_commune_code,
        match = 'partial' as in_part,
        false as is_unmatched
    from bridge
    union all
    select
        u.old_commune_code,
        trim(t.code) as new_commune_code,
        false as in_part,
        true as is_unmatched
    from unmatched as u
    cross join unnest(string_split(u.possible_new_codes, ';')) as t (code)
    where trim(t.code) <> ''
),

possible as (
    select
        l.old_commune_code as former_commune_code,
        count(distinct l.new_commune_code) as possible_new_commune_count,
        bool_or(l.in_part) as went_in_part,
        bool_and(l.is_unmatched) as is_unmatched,
        string_agg(
            distinct l.new_commune_code || ' ' || coalesce(n.commune_name, ''), '; '
            order by l.new_commune_code || ' ' || coalesce(n.commune_name, '')
        ) as possible_new_communes
    from links as l
    left join new_communes as n on l.new_commune_code = n.commune_code
    where l.old_commune_code in (select r.former_commune_code from under_review as r)
    group by l.old_commune_code
)

select
    r.coop_code,
    r.name,
    r.former_commune_code,
    r.former_commune_name,
    r.former_district_code,
    r.former_district_name,
    r.new_province_code,
    r.new_province_name,
    r.last_reported_year,
    coalesce(p.possible_new_commune_count, 0) as possible_new_commune_count,
    p.possible_new_communes,
    case
        when r.former_commune_code is null
            then
                'Không rõ xã cũ của HTX: báo cáo không ghi xã/phường nào trong danh mục, '
                || 'hoặc báo cáo sau đó của huyện khác không ghi xã/phường / Its former '
                || 'commune is not known: no report names a commune of the list, or a later '
                || 'report of another district names none'
        when p.former_commune_code is null or p.is_unmatched
            then
                'Xã cũ không khớp được với xã/phường mới nào trong văn bản sắp xếp '
                || '(audit.crosswalk_unmatched) / Its former commune is unmatched in the merger '
                || 'text (audit.crosswalk_unmatched)'
        when p.possible_new_commune_count > 1
            then
                'Xã cũ được chia cho nhiều xã/phường mới / '
                || 'Its former commune was split between new communes'
        -- A former commune that went whole into one new commune placed the cooperative
        -- (crosswalk): under review, one linked to a single new commune went there in part.
        else
            'Chỉ một phần xã cũ được sáp nhập vào xã/phường mới / '
            || 'Only part of its former commune went into the new commune'
    end as why_under_review,
    case
        when r.former_commune_code is not null and (p.former_commune_code is null or p.is_unmatched)
            then
                'Xã cũ chưa khớp với xã/phường mới nào (audit.crosswalk_unmatched); báo cáo '
                || 'năm tới ghi xã/phường mới của HTX / Its former commune is unmatched '
                || '(audit.crosswalk_unmatched); its next report naming its new commune'
        else
            'Báo cáo năm tới ghi xã/phường mới của HTX / Its next report naming its new commune'
    end as what_would_settle_it
from under_review as r
left join possible as p using (former_commune_code)
order by r.new_province_code, r.former_district_code, r.former_commune_code, r.coop_code;

comment on table marts.placement_review is 'One row per cooperative under review (placement review): its commune in force since 01/07/2025 is not known and never guessed; its former commune, the new communes that commune went to, and what would settle it';
comment on column marts.placement_review.former_commune_code is 'Commune before 01/07/2025 the placement went by: that of its latest report naming one, a report that does not win counted too (core.dim_cooperative.former_commune_code); NULL when never known';
comment on column marts.placement_review.former_commune_name is 'Full name of the former commune';
comment on column marts.placement_review.former_district_code is 'District before 01/07/2025 of its latest report naming one, else of its former commune';
comment on column marts.placement_review.former_district_name is 'Name of the former district';
comment on column marts.placement_review.new_province_code is 'Province in force since 01/07/2025 its former district''s province went into, else its latest report''s';
comment on column marts.placement_review.last_reported_year is 'Its latest reported year';
comment on column marts.placement_review.possible_new_commune_count is 'Communes in force since 01/07/2025 its former commune went to, whole or in part (core.bridge_commune_crosswalk); for a former commune the merger text links to none, those whose text may mean it (audit.crosswalk_unmatched.possible_new_codes)';
comment on column marts.placement_review.possible_new_communes is 'Those communes, code and full name, separated by semicolons; NULL when none is known';
comment on column marts.placement_review.why_under_review is 'Why it is not placed, Vietnamese then English';
comment on column marts.placement_review.what_would_settle_it is 'What would place it, Vietnamese then English: usually its next report naming its new commune';
