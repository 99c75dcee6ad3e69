"""Delivers alerts through the channels configured the Airflow way, with Airflow notifiers.

- e-mail: the SMTP provider's `SmtpNotifier` over the connection `smtp_default`, to the
  recipients in the Airflow variable `htx_alert_emails` (comma-separated), with the alert's
  annotated feedback workbooks attached while they fit in `MAX_ATTACHMENT_BYTES`;
- webhook: `WebhookNotifier`, a `BaseNotifier` that POSTs a Slack-compatible JSON body
  (`text`, plus the alert's fields and its `feedback` paths) to the connection
  `htx_alert_webhook`.

A channel whose connection is not configured is off (result None). A channel that fails
is retried a few times with backoff, then recorded as failed; it never fails the pipeline.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from airflow.sdk.bases.notifier import BaseNotifier

from etl.outputs.html import render
from etl.quality.alerts import Alert

if TYPE_CHECKING:
    from airflow.sdk import Context

log = logging.getLogger(__name__)

EMAIL_CONN_ID = "smtp_default"
WEBHOOK_CONN_ID = "htx_alert_webhook"
RECIPIENTS_VARIABLE = "htx_alert_emails"
ATTEMPTS = 3
BACKOFF_SECONDS = 1.0  # then 2 s: a server that restarts gets a few seconds
DEFAULT_SENDER = "htx-warehouse@localhost"
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024  # feedback workbooks attached to one e-mail, in all


@dataclass(frozen=True)
class Delivery:
    delivered: bool | None  # None: channel off
    error: str | None = None

    def describe(self) -> str:
        if self.delivered is None:
            return "off"
        return "delivered" if self.delivered else f"failed ({self.error})"


def _connection(conn_id: str):
    """The Airflow connection, or None when it is not configured."""
    from airflow.sdk import BaseHook

    try:
        return BaseHook.get_connection(conn_id)
    except Exception as exc:  # the SDK raises AirflowNotFoundException, or a client error
        log.info("alert channel %s is off: %s", conn_id, type(exc).__name__)
        return None


def _recipients() -> list[str]:
    from airflow.sdk import Variable

    try:
        value = Variable.get(RECIPIENTS_VARIABLE, default=None)
    except Exception:  # no such variable
        value = None
    return [v.strip() for v in (value or "").replace(";", ",").split(",") if v.strip()]


def webhook_url(conn) -> str:
    """The endpoint of an HTTP connection: `http://host:port/path` from its fields."""
    host = conn.host or ""
    if "://" in host:
        return host
    scheme = (conn.extra_dejson or {}).get("scheme") or (
        "https" if conn.conn_type == "https" else "http"
    )
    port = f":{conn.port}" if conn.port else ""
    path = f"/{conn.schema.lstrip('/')}" if conn.schema else ""
    return f"{scheme}://{host}{port}{path}"


class WebhookNotifier(BaseNotifier):
    """POST an alert as JSON with a Slack-compatible `text` field."""

    template_fields = ()

    def __init__(self, alert: Alert, conn_id: str = WEBHOOK_CONN_ID, timeout: float = 10.0):
        super().__init__()
        self.alert = alert
        self.conn_id = conn_id
        self.timeout = timeout

    def payload(self) -> dict:
        return {
            "text": f"{self.alert.subject}\n\n{self.alert.body}",
            "alert_id": self.alert.alert_id,
            "severity": self.alert.severity,
            "subject": self.alert.subject,
            "body": self.alert.body,
            "feedback": list(self.alert.attachments),
        }

    def notify(self, context) -> None:
        conn = _connection(self.conn_id)
        if conn is None:
            raise LookupError(f"connection {self.conn_id} is not configured")
        url = webhook_url(conn)
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"connection {self.conn_id}: only http(s) URLs are posted to")
        request = urllib.request.Request(  # noqa: S310  http(s) only, checked above
            url,
            data=json.dumps(self.payload(), ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310  http(s) only, checked above
            if response.status >= 300:
                raise RuntimeError(f"webhook answered HTTP {response.status}")


def email_html(alert: Alert) -> str:
    """The e-mail's HTML part: the alert's text as it is, escaped by the template."""
    return render("alert_email.html.j2", body=alert.body)


def email_notifier(alert: Alert, recipients: list[str], conn) -> BaseNotifier:
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    sender = (conn.extra_dejson or {}).get("from_email") or DEFAULT_SENDER
    return SmtpNotifier(
        to=recipients,
        from_email=sender,
        subject=alert.subject,
        html_content=email_html(alert),
        files=attachable(alert.attachments) or None,
        smtp_conn_id=EMAIL_CONN_ID,
    )


def attachable(paths: tuple[str, ...], limit: int | None = None) -> list[str]:
    """The feedback workbooks that fit in one e-mail, in order; the webhook names them all."""
    limit = MAX_ATTACHMENT_BYTES if limit is None else limit
    chosen, total = [], 0
    for path in paths:
        try:
            size = Path(path).stat().st_size
        except OSError:
            continue
        if total + size <= limit:
            chosen.append(path)
            total += size
    return chosen


def _attempt(name: str, send) -> Delivery:
    error = None
    for attempt in range(1, ATTEMPTS + 1):
        try:
            send()
            log.info("alert delivered through %s", name)
            return Delivery(True)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("alert via %s failed (attempt %d/%d): %s", name, attempt, ATTEMPTS, error)
            if attempt < ATTEMPTS:
                time.sleep(BACKOFF_SECONDS * attempt)
    return Delivery(False, error)


def deliver(alert: Alert, context: Context | None = None) -> dict[str, Delivery]:
    """Send one alert through every configured channel; never raises."""
    context = context or {}
    results = {"email": Delivery(None), "webhook": Delivery(None)}
    smtp = _connection(EMAIL_CONN_ID)
    if smtp is not None:
        recipients = _recipients()
        if recipients:
            notifier = email_notifier(alert, recipients, smtp)
            # notify() directly: the alert's text is data, never a Jinja template
            results["email"] = _attempt("e-mail", lambda: notifier.notify(context))
        else:
            results["email"] = Delivery(
                False, f"no recipients: set the Airflow variable {RECIPIENTS_VARIABLE}"
            )
    if _connection(WEBHOOK_CONN_ID) is not None:
        notifier = WebhookNotifier(alert)
        results["webhook"] = _attempt("webhook", lambda: notifier.notify(context))
    return results


class FailureNotifier(BaseNotifier):
    """Task and DAG failure callback: one alert through every channel, recorded in the ledger."""

    template_fields = ()

    def notify(self, context) -> None:
        from etl.config import load_settings
        from etl.quality import alerts
        from etl.warehouse import ledger

        ti = context.get("ti") or context.get("task_instance")
        alert = alerts.failure_alert(
            dag_id=getattr(ti, "dag_id", None) or str(context.get("dag")),
            task_id=getattr(ti, "task_id", None),
            run_id=context.get("run_id") or getattr(ti, "run_id", "?"),
            error=str(context.get("exception") or context.get("reason") or "unknown error"),
        )
        results = deliver(alert, context)
        try:
            con = ledger.connect(load_settings().ledger)
            try:
                alerts.record(con, alert, alert.run_id)
                ledger.record_delivery(con, alert.alert_id, results)
            finally:
                con.close()
        except Exception as exc:  # the ledger may be held by the writer; the alert went out
            log.warning("failure alert %s not recorded in the ledger: %s", alert.alert_id, exc)
