-- Grain: one row per administrative unit version (province, district or commune), effective-dated.
-- A district row (commune_code null) stands for "somewhere in the district, commune unknown";
-- a province row (district_code null) for "somewhere in the province". The units in force since
-- 01/07/2025 (34 provinces, 3,321 communes) have no district and start on 2025-07-01.
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
comment on table core.dim_geography is 'Administrative units, effective-dated: former provinces, districts and communes until 30/06/2025; the provinces and communes in force since 01/07/2025 after';
comment on column core.dim_geography.level is 'province, district or commune: the finest level the row names';
comment on column core.dim_geography.district_code is 'Former district (before 01/07/2025); NULL for a province row and for every unit in force since 01/07/2025';
comment on column core.dim_geography.commune_code is 'GSO commune code; a code may name a former commune and, from 01/07/2025, a new one: valid_from tells them apart';
comment on column core.dim_geography.valid_from is 'First day the unit existed in this form: 1900-01-01 for the former units, 2025-07-01 for the units in force since the reorganisation';
comment on column core.dim_geography.commune_key is 'Unaccented lower-case commune name used to match workbook text';
comment on column core.dim_geography.valid_to is 'Last day the unit existed in this form; NULL while current';
comment on column core.dim_geography.commune_short_name is 'Commune name without its kind (Xã, Phường), as clerks write it';
comment on column core.dim_geography.geo_key is 'Surrogate key of the unit version (level, code, valid_from)';
comment on column core.dim_geography.province_name is 'Name of the province of the unit (itself for a province)';
