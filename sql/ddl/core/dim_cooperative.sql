-- Grain: one row per cooperative version (type-2): a new version opens when the name, sector,
-- commune or Decision 167 membership changes. The founding date and the placement in the new
-- geography (and the former commune it went by) belong to the cooperative: the same on
-- every version (they open none).
create table core.dim_cooperative (
    cooperative_key      bigint primary key,
    coop_code            varchar not null,
    name                 varchar not null,
    sector               varchar,
    commune_name         varchar,
    founded_on           date,
    founded_on_precision varchar,
    in_da167             boolean not null,
    valid_from_year      integer not null,
    valid_to_year        integer,
    is_current           boolean not null,
    new_commune_code     varchar,
    placement            varchar not null,
    former_commune_code  varchar
);
comment on table core.dim_cooperative is 'Cooperatives with type-2 history: one row per version';
comment on column core.dim_cooperative.coop_code is 'Registration / tax code (Mã số HTX): the durable identity of a cooperative';
comment on column core.dim_cooperative.founded_on is 'Founding date (Ngày thành lập); a month or a year alone is its first day';
comment on column core.dim_cooperative.founded_on_precision is 'How much of the founding date the workbook gave: day, month or year';
comment on column core.dim_cooperative.valid_to_year is 'Last reporting year of this version; NULL for the current version';
comment on column core.dim_cooperative.new_commune_code is 'Commune in force since 01/07/2025 the cooperative is placed in (the same on every version); NULL when under review';
comment on column core.dim_cooperative.placement is 'How the new commune is known: reported (named by its latest report of 2025 or later), crosswalk (its former commune went whole into one new commune), review (split, unmatched or unknown: not placed, never guessed)';
comment on column core.dim_cooperative.cooperative_key is 'Surrogate key of the cooperative version (coop_code and valid_from_year); facts point to the version valid in their year';
comment on column core.dim_cooperative.valid_from_year is 'First report year of this version';
comment on column core.dim_cooperative.former_commune_code is 'Commune before 01/07/2025 the placement went by (the same on every version): the one its latest report naming a former commune names (up to 2024, a 2025 district report, or a former commune named in 2025; within a year the winning report first, a report that does not win counted too; not one a later report of another district follows); NULL when no report names one';
