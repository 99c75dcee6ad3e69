-- Grain: one row per former commune the merger text links to no new commune, with why
-- (not named in any text of its new province, or named by a name that fits several former
-- communes that no qualifier tells apart) and the candidates a person may choose from.
-- Built from the reference by the build (etl/contract/crosswalk.py), not from the ledger.
create table if not exists audit.crosswalk_unmatched (
    old_commune_code   varchar primary key,
    old_commune_name   varchar not null,
    old_district_code  varchar,
    old_province_code  varchar not null,
    why                varchar not null,
    candidates         varchar,
    possible_new_codes varchar
);
comment on table audit.crosswalk_unmatched is 'Former communes the commune crosswalk could not link to a commune in force since 01/07/2025, with the reason and the candidates';
comment on column audit.crosswalk_unmatched.old_commune_name is 'Full name of the former commune (Xã/Phường/Thị trấn ...)';
comment on column audit.crosswalk_unmatched.why is 'Why it is unmatched, in Vietnamese then English';
comment on column audit.crosswalk_unmatched.candidates is 'Ambiguous name: the former communes it fits (code full name; ...). Not named: text fragments of the province spelled nearly like it (new commune: fragment; ...); NULL when none';
comment on column audit.crosswalk_unmatched.possible_new_codes is 'The communes in force since 01/07/2025 whose merger text may mean it (codes separated by semicolons): named by a name several former communes share, or by a spelling nearly like its own; empty when none';
comment on column audit.crosswalk_unmatched.old_commune_code is 'GSO code of the former commune (before 01/07/2025)';
comment on column audit.crosswalk_unmatched.old_district_code is 'GSO code of its former district';
comment on column audit.crosswalk_unmatched.old_province_code is 'GSO code of its former province';
