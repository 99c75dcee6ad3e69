-- Grain: one row per warehouse build. The fingerprint says what the build was made from
-- (audit trail, loaded files, SQL and configuration); a run whose fingerprint equals the
-- published one has nothing to publish. The recipe says what the build was made with (the
-- SQL, configuration, reference files, suites and code, not the files): a later build may
-- start from this one only with the same recipe.
create table if not exists audit.build_info (
    fingerprint  varchar not null,
    built_at     timestamptz not null,
    run_id       varchar not null,
    files_loaded integer not null,
    recipe       varchar
);
comment on table audit.build_info is 'When this warehouse was built, by which run, from how many files';
comment on column audit.build_info.fingerprint is 'What the build was made from (audit trail, loaded files, SQL and configuration): a run whose fingerprint equals the published one has nothing to publish';
comment on column audit.build_info.built_at is 'When the build was made';
comment on column audit.build_info.run_id is 'The Airflow run (or htx command) that made the build';
comment on column audit.build_info.files_loaded is 'How many files with status loaded the build holds';
comment on column audit.build_info.recipe is 'What the build was made with (SQL, configuration, reference files, suites and code): a later build starts from this one only with the same recipe';
