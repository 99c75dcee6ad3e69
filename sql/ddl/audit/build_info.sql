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
