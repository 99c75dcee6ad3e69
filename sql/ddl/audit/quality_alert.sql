-- Grain: one row per alert raised.
create table if not exists audit.quality_alert (
    alert_id          varchar primary key,
    raised_at         timestamptz not null,
    severity          varchar not null,
    subject           varchar not null,
    body              varchar not null,
    email_delivered   boolean,
    webhook_delivered boolean,
    run_id            varchar,
    attempted_at      timestamptz,
    email_error       varchar,
    webhook_error     varchar
);
comment on table audit.quality_alert is 'Alerts raised by the pipeline and whether each channel delivered them (NULL: channel not configured)';
comment on column audit.quality_alert.email_delivered is 'True: sent through smtp_default; false: every attempt failed (see email_error); NULL: channel off';
comment on column audit.quality_alert.webhook_delivered is 'True: POSTed to htx_alert_webhook; false: every attempt failed (see webhook_error); NULL: channel off';
comment on column audit.quality_alert.attempted_at is 'When delivery was attempted; NULL: not yet (the next run delivers it)';
