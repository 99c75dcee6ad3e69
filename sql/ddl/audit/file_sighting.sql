-- Grain: one row per (content, landing path) the pipeline has seen. Lets a re-run know a
-- file it already recorded without re-reading it.
create table if not exists audit.file_sighting (
    sha256     varchar not null,
    file_name  varchar not null,
    file_id    bigint not null,
    first_seen timestamptz not null,
    primary key (sha256, file_name)
);
comment on table audit.file_sighting is 'Each landing path and content the pipeline has seen, and the file_ingestion row it produced';
comment on column audit.file_sighting.sha256 is 'SHA-256 of the content seen';
comment on column audit.file_sighting.file_name is 'The path the content was seen under, relative to the landing folder';
comment on column audit.file_sighting.file_id is 'The audit.file_ingestion row the sighting produced';
comment on column audit.file_sighting.first_seen is 'When a run first saw this content under this path';
