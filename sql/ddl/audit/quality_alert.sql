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
comment on column audit.quality_alert.email_delivered is 'True: sent through smtp_default; false: every attempt failed (see email_error); NULL: channel off, or failed and waiting for the next try (attempted_at NULL, see email_error)';
comment on column audit.quality_alert.webhook_delivered is 'True: POSTed to htx_alert_webhook; false: every attempt failed (see webhook_error); NULL: channel off, or failed and waiting for the next try (attempted_at NULL, see webhook_error)';
comment on column audit.quality_alert.attempted_at is 'When delivery was attempted; NULL: not yet (the next run delivers it)';
comment on column audit.quality_alert.alert_id is 'Identifier of the alert: the same alert raised again is not sent twice';
comment on column audit.quality_alert.raised_at is 'When the alert was raised';
comment on column audit.quality_alert.severity is 'error (a file quarantined, a task failed) or warning (files with warnings, a report overdue)';
comment on column audit.quality_alert.subject is 'Subject line, in Vietnamese then English';
comment on column audit.quality_alert.body is 'The text sent, in Vietnamese then English';
comment on column audit.quality_alert.run_id is 'The Airflow run that raised the alert';
comment on column audit.quality_alert.email_error is 'Why the last e-mail attempt failed; NULL when delivered or off';
comment on column audit.quality_alert.webhook_error is 'Why the last webhook attempt failed; NULL when delivered or off';
