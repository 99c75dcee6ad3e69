-- Grain: one row per alert raised.
create table if not exists audit.quality_alert (
    alert_id          varchar primary key,
    raised_at         timestamptz not null,
    severity          varchar not null,
    subject           varchar not null,
    body              varchar not null,
    email_delivered   boolean,
    webhook_delivered boolean,
    run_id            varchar
);
comment on table audit.quality_alert is 'Alerts raised by the pipeline and whether each channel delivered them (NULL: channel not configured)';
