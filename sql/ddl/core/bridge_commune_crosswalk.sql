-- Grain: one row per former commune (before 01/07/2025) and new commune (in force since
-- 01/07/2025) it went to, read from the published merger text (reference/
-- commune_merger_2025.csv) by etl/contract/crosswalk.py. A former commune split between
-- new communes has one row for each, all `partial`. A former commune with no row here has
-- one in audit.crosswalk_unmatched.
create table core.bridge_commune_crosswalk (
    old_commune_code  varchar not null,
    old_district_code varchar,
    old_province_code varchar not null,
    new_commune_code  varchar not null,
    new_province_code varchar not null,
    match             varchar not null check (match in ('whole', 'partial')),
    source_text       varchar not null,
    primary key (old_commune_code, new_commune_code)
);
comment on table core.bridge_commune_crosswalk is 'Crosswalk from the former communes to the communes in force since 01/07/2025, from the published merger text (commune_merger_2025.csv)';
comment on column core.bridge_commune_crosswalk.old_commune_code is 'Former commune (GSO code of vn_admin_units.csv, until 30/06/2025)';
comment on column core.bridge_commune_crosswalk.old_district_code is 'Former district of the former commune';
comment on column core.bridge_commune_crosswalk.old_province_code is 'Former province of the former commune (67 Đắk Nông, 60 Bình Thuận, 68 Lâm Đồng before the merger)';
comment on column core.bridge_commune_crosswalk.new_commune_code is 'Commune in force since 01/07/2025 (vn_admin_units_2025.csv); may reuse the code of a former commune';
comment on column core.bridge_commune_crosswalk.new_province_code is 'Province in force since 01/07/2025 of the new commune';
comment on column core.bridge_commune_crosswalk.match is 'whole: the former commune went entirely into this one new commune; partial: it was split (named under several new communes, or described as một phần / phần còn lại)';
comment on column core.bridge_commune_crosswalk.source_text is 'The fragment(s) of the before_merger text the link was read from, verbatim';
