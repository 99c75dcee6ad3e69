-- Grain: one row per administrative unit version (province, district or commune), effective-dated.
-- A district row (commune_code null) stands for "somewhere in the district, commune unknown";
-- a province row (district_code null) for "somewhere in the province".
create table core.dim_geography (
    geo_key            bigint primary key,
    level              varchar not null,
    province_code      varchar not null,
    province_name      varchar not null,
    district_code      varchar,
    district_name      varchar,
    commune_code       varchar,
    commune_name       varchar,
    commune_key        varchar,
    commune_short_name varchar,
    valid_from         date not null,
    valid_to           date
);
comment on table core.dim_geography is 'Administrative units, effective-dated: legacy districts and communes until 30/06/2025, merged provinces after';
comment on column core.dim_geography.level is 'province, district or commune: the finest level the row names';
comment on column core.dim_geography.commune_key is 'Unaccented lower-case commune name used to match workbook text';
comment on column core.dim_geography.valid_to is 'Last day the unit existed in this form; NULL while current';
comment on column core.dim_geography.commune_short_name is 'Commune name without its kind (Xã, Phường), as clerks write it';
