"""Delivers alerts through the channels configured the Airflow way, with Airflow notifiers.

- e-mail: the SMTP provider's `SmtpNotifier` over the connection `smtp_default`, to the
  recipients in the Airflow variable `htx_alert_emails` (separated by commas or semicolons,
  or a JSON list; a quoted display name keeps its commas), with the alert's
  annotated feedback workbooks attached while they fit in `MAX_ATTACHMENT_BYTES`, its text
  bounded by `EMAIL_TEXT_LIMIT` as the webhook's is. An entry that is no e-mail address is
  left out and named in the channel's error; a recipient the server refuses fails the
  channel, and only that recipient is tried again;
- webhook, over the connection `htx_alert_webhook`:
  - a Slack connection (conn_type `slackwebhook`, the token in its password): the Slack
    provider's `SlackWebhookNotifier` posts the alert's `text`;
  - any other (`http`, `https`): the HTTP provider's `HttpNotifier` on `HttpHook` POSTs a
    Slack-compatible JSON body (`text`, plus the alert's fields and its `feedback` paths).
    The hook applies the connection's login and password (basic auth) and sends its
    `extra` as headers (`{"Authorization": "Bearer …"}`); it retries with backoff.
  The text names the feedback workbooks (their paths): a webhook carries no file.

A channel whose connection is not configured is off (result None). A channel that fails
is retried a few times with backoff, then recorded as failed; it never fails the pipeline.
An error a channel records or logs names a URL's scheme and host only (`unnamed`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import smtplib
import time
from dataclasses import dataclass
from email import charset as email_charset
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import formataddr, formatdate, getaddresses, make_msgid, parseaddr
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import requests
import tenacity
from airflow.providers.http.hooks.http import HttpHook
from airflow.providers.http.notifications.http import HttpNotifier
from airflow.providers.smtp.hooks.smtp import SmtpHook
from airflow.providers.smtp.notifications.smtp import SmtpNotifier
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
WEBHOOK_TIMEOUT_SECONDS = 10.0  # unless the connection's extra sets `timeout`
SLACK_TEXT_LIMIT = 40_000  # characters of a message's `text`; Slack cuts the rest
# Characters of an e-mail's text (in its plain and its HTML part): Gmail clips a message
# past 102 KB ("[Message clipped]"), its end with the quality report's line; 30,000, a
# Vietnamese letter 2 or 3 bytes, stay under it. 400 rejected files wrote 200,000.
EMAIL_TEXT_LIMIT = 30_000
SLACK_CONN_TYPE = "slackwebhook"
_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class Delivery:
    delivered: bool | None  # None: channel off
    error: str | None = None
    partial: bool = False  # failed, but some recipients have it: never sent to them again
    lasting: bool = False  # failed for the configuration (no recipients): a retry cannot help
    unsure: bool = False  # sent, but not answered in time: the server may have it

    @property
    def retried(self) -> bool:
        """Whether a later try may deliver it: it failed, reached no one (as far as anyone
        knows), and a server (not the configuration) failed it."""
        return self.delivered is False and not self.partial and not self.lasting and not self.unsure

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


def unreadable_connection(conn_id: str) -> str | None:
    """Why the connection's `AIRFLOW_CONN_…` variable, set but not found by Airflow, cannot
    be read; None when it is not set (the channel is off). Airflow answers a value it cannot
    parse (JSON with a trailing comma or single quotes) with "isn't defined" and says
    nothing more: that is a channel configured wrong, not one switched off. The value is
    never quoted: it may hold a password."""
    variable = f"AIRFLOW_CONN_{conn_id.upper()}"
    value = os.environ.get(variable, "").strip()
    if not value:
        return None
    why = "it is no connection URI (scheme://login:password@host:port/path?extra=…)"
    if value.startswith("{"):
        try:
            json.loads(value)
        except ValueError as exc:
            why = f"it is not valid JSON ({exc}): double quotes, no trailing comma"
        else:
            why = (
                "its JSON is no connection (fields conn_type, host, port as a number, "
                "schema, login, password, extra)"
            )
    return f"{variable} is set, but Airflow cannot read it as a connection: {why}"


def _recipients() -> tuple[list[str], list[str]]:
    """The addresses of the Airflow variable `htx_alert_emails`: separated by commas or
    semicolons, or a JSON list of them (as the UI's JSON editor writes a list); a display
    name in quotes keeps its commas, and so does one in a JSON list's item. Then the
    entries that are no address a server can take (`is_address`), as written: left out."""
    from airflow.sdk import Variable

    try:
        value = Variable.get(RECIPIENTS_VARIABLE, default=None)
    except Exception:  # no such variable
        value = None
    text = (value or "").strip()
    fields: list = [text]
    listed = None
    if text.startswith("["):
        try:
            listed = json.loads(text)
        except ValueError:
            listed = None
        if isinstance(listed, list):
            fields = listed
    items = isinstance(listed, list)
    # Each as written: the provider's To header and smtplib's envelope read the address in it.
    found = (v.strip() for field in fields for v in _split(str(field), items))
    # An address listed twice (in another case, or once with its display name) once: a
    # server that does not drop the duplicate would deliver the alert twice.
    once: dict[str, str] = {}
    wrong: list[str] = []
    for recipient in filter(None, found):  # an empty item (a trailing comma) is no entry
        if not is_address(parseaddr(recipient)[1]):
            wrong.append(recipient)
            continue
        once.setdefault(parseaddr(recipient)[1].lower(), recipient)
    return list(once.values()), wrong


# An address as smtplib sends it: ASCII (it cannot send another letter, and the whole mail
# then reaches no one), no space, one `@` between a local part and a host name.
_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)


def is_address(address: str) -> bool:
    """Whether `address` (an address alone, no display name) is one a server can take:
    `lienminh` (no domain), `a@`, `x y@z` or `kinhtế@…` is not. smtplib sent each as
    written: a relay took `lienminh` for a local mailbox, `a@` went as `<>`, and a
    Vietnamese letter failed the whole mail."""
    return _ADDRESS.fullmatch(address) is not None


def _skipped(wrong: list[str]) -> str:
    return (
        f"not an e-mail address, skipped: {', '.join(repr(w) for w in wrong)} "
        f"(correct the Airflow variable {RECIPIENTS_VARIABLE})"
    )


def _split(field: str, item: bool) -> list[str]:
    """The recipients of one field: up to each comma or semicolon outside quotes. A JSON
    list's item whose parts are not all addresses is one recipient, its display name then
    quoted (`Phòng Kinh tế, huyện Đắk Mil <kinhte@…>`: the comma is the name's)."""
    parts = _RECIPIENT.findall(field)
    if item and len(parts) > 1 and not all("@" in part for part in parts):
        named = _NAMED_ADDRESS.fullmatch(field.strip())
        return [formataddr((named["name"], named["address"]))] if named else [field]
    return parts


# A display name, then its address in angle brackets.
_NAMED_ADDRESS = re.compile(r'"?(?P<name>[^"<>]+?)"?\s*<(?P<address>[^<>\s@]+@[^<>\s]+)>')


# One recipient: up to a comma or semicolon outside a quoted display name or a comment, as
# `getaddresses` reads them (`"Phòng Kinh tế, huyện Đắk Mil" <kinhte@…>` is one).
_RECIPIENT = re.compile(r'(?:"(?:\\.|[^"\\])*"?|\((?:\\.|[^)\\])*\)?|[^,;"(])+')


def webhook_url(conn) -> str:
    """The endpoint of an HTTP connection, from its fields.

    Both ways Airflow writes one are read: the URI `https://host:port/path` (the path is in
    `schema`, the scheme in `conn_type`) and HttpHook's own (`schema` = `http`/`https`, or
    a host that carries its scheme and path).
    """
    host = conn.host or ""
    if "://" in host:
        return f"{host}:{conn.port}" if conn.port else host
    schema = (conn.schema or "").strip("/")
    if schema in _SCHEMES:
        scheme, path = schema, ""
    else:
        scheme, path = ("https" if conn.conn_type == "https" else "http"), schema
    port = f":{conn.port}" if conn.port else ""
    return f"{scheme}://{host}{port}{'/' + path if path else ''}"


# A URL in an error's text, after urllib3's `url: ` or a scheme: its user and password, its
# host, and its path, query or fragment (`?token=…` alone too), up to a space or a quote.
_URL_PATH = re.compile(
    r"(?P<lead>\burl: |\bhttps?://)(?P<user>[^/\s'\"?#@]*@)?(?P<host>[^/\s'\"?#]*)"
    r"(?P<rest>[/?#][^\s'\"]*)?"
)


def unnamed(text: str) -> str:
    """`text` with every URL's user, password, path, query and fragment as `…`, its scheme
    and host kept: the server an engineer needs, never a webhook's token."""

    def hide(found: re.Match) -> str:
        user = "…@" if found["user"] else ""
        rest = "/…" if found["rest"] else ""
        return f"{found['lead']}{user}{found['host']}{rest}"

    return _URL_PATH.sub(hide, text)


# 4xx answers that say "not now" rather than "not this": a time-out, too early, too many.
_BUSY = frozenset({408, 425, 429})


class Refused(Exception):
    """The webhook answered 4xx: the request is wrong for it (a wrong path, token or body),
    and sent again it would be refused again, until someone fixes the connection."""

    def __init__(self, status: int, reason: str):
        super().__init__(
            f"{status}:{reason}; the server refuses the request: check the connection "
            f"{WEBHOOK_CONN_ID} (its URL, token, headers); not posted again"
        )


class _HiddenInLogs(logging.Filter):
    """Every record of a logger with the given texts as `/…`, at every level: urllib3 writes
    each request's path and query at DEBUG (`"POST /services/T000/B000/XXXX HTTP/1.1"`),
    and a webhook's path or query is often its token."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            said = shown = record.getMessage()
            for secret in sorted(self.secrets, key=len, reverse=True):  # `/hook?t=…` first
                shown = shown.replace(secret, "/…")
            if shown != said:
                record.msg, record.args = shown, ()
        return True


_HIDDEN = _HiddenInLogs()


def hide_in_logs(url: str) -> None:
    """Keep `url`'s path and query (where a webhook's token is) out of the logs that name a
    request's: urllib3's (stdlib logging, a filter) and the HTTP hook's (`Sending 'POST' to
    url: …` at DEBUG, through Airflow's task logs, which its secrets masker redacts)."""
    from urllib.parse import urlsplit

    from airflow.sdk.log import mask_secret

    parts = urlsplit(url)
    secret = parts.path + (f"?{parts.query}" if parts.query else "")
    if secret.strip("/"):
        _HIDDEN.secrets.add(secret)
        mask_secret(secret)
    requests_log = logging.getLogger("urllib3.connectionpool")
    if _HIDDEN not in requests_log.filters:
        requests_log.addFilter(_HIDDEN)


class AlertWebhookHook(HttpHook):
    """HttpHook on the alert connection, its URL read by `webhook_url` (either form)."""

    @classmethod
    def get_connection(cls, conn_id: str):
        conn = super().get_connection(conn_id)
        url = webhook_url(conn)
        hide_in_logs(url)
        return attrs.evolve(conn, host=url, port=None, schema=None)

    def get_conn(self, headers=None, extra_options=None):
        """The hook's session, whose errors name no URL path or query: requests writes the
        request's in them (`Max retries exceeded with url: /services/T000/B000/XXXX`), and a
        webhook's path or query is often its token; the hook logs the error, and it is
        recorded in audit.quality_alert, which analysts read."""
        session = super().get_conn(headers, extra_options)
        send = session.send

        def send_unnamed(request, **kwargs):
            try:
                return send(request, **kwargs)
            except requests.exceptions.RequestException as exc:
                said = unnamed(str(exc))
                if said == str(exc):
                    raise
                raise type(exc)(said, request=exc.request, response=exc.response) from exc

        session.send = send_unnamed  # type: ignore[method-assign]
        return session

    def check_response(self, response) -> None:
        status = response.status_code
        if 400 <= status < 500 and status not in _BUSY:
            log.error("webhook answered %s %s: %s", status, response.reason, response.text[:500])
            raise Refused(status, response.reason)
        super().check_response(response)


def webhook_text(alert: Alert) -> str:
    """The message: subject, body, then the feedback workbooks' paths. Past Slack's limit
    (a run with hundreds of files), its first lines, how many are left out, and the
    body's last line (the quality report): Slack would cut the end, silently."""
    text = f"{alert.subject}\n\n{alert.body}"
    if alert.attachments:
        text += "\n\nTệp phản hồi / Feedback workbooks:\n" + "\n".join(
            f"- {path}" for path in alert.attachments
        )
    if len(text) <= SLACK_TEXT_LIMIT:
        return text
    *lines, last = f"{alert.subject}\n\n{alert.body}".splitlines()
    lines += text.splitlines()[len(lines) + 1 :]  # the feedback workbooks' lines
    return _shortened(lines, last, SLACK_TEXT_LIMIT, alert.alert_id)


def _shortened(lines: list[str], last: str, limit: int, alert_id: str) -> str:
    """The first of `lines` that fit in `limit` characters, how many are left out and where
    the whole alert is, then `last` (the body's last line, the quality report): a message
    cut at its end by its reader (Slack, a mail client) hides it, silently."""
    room = limit - len(last) - 300  # the note below, with its numbers
    kept: list[str] = []
    for line in lines:
        room -= len(line) + 1
        if room < 0:
            break
        kept.append(line)
    left = len(lines) - len(kept)
    note = (
        f"… {left} dòng không hiện ở đây (toàn bộ cảnh báo: audit.quality_alert, alert_id "
        f"{alert_id}) / … {left} more lines not shown here (the whole alert: "
        f"audit.quality_alert, alert_id {alert_id})"
    )
    return "\n".join([*kept, note, last])


def webhook_payload(alert: Alert) -> dict[str, Any]:
    return {
        "text": webhook_text(alert),
        "alert_id": alert.alert_id,
        "severity": alert.severity,
        "subject": alert.subject,
        "body": alert.body,
        "feedback": list(alert.attachments),
    }


class NoAnswer(Exception):
    """The webhook read the alert but did not answer within the time limit. It may well have
    it: posted again, it would arrive twice (three times, nine at the task's retries)."""

    def __init__(self, timeout: float, cause: str = "ReadTimeout"):
        super().__init__(
            f"{cause}: no answer within {timeout:g} s; the server may have the alert, so "
            "it is not posted again (it would arrive twice)"
        )


def answer_awaited(exc: BaseException) -> bool:
    """Whether a requests `ReadTimeout` came while waiting for the answer to a request sent
    (`getresponse`), not in the TLS handshake (or a proxy's tunnel), which urllib3 reports
    as a read timeout too although the server never had the request. When unsure, not
    awaited: posted again, an alert may arrive twice, never not at all."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        frame = error.__traceback__
        while frame is not None:
            if frame.tb_frame.f_code.co_name == "getresponse":
                return True
            frame = frame.tb_next
        error = error.__cause__ or error.__context__
    return False


def _no_answer(exc: BaseException) -> bool:
    return isinstance(exc, requests.exceptions.ReadTimeout) and answer_awaited(exc)


class AlertHttpNotifier(HttpNotifier):
    """The HTTP provider's notifier, POSTing the alert as JSON, with the hook's retries.

    `notify` is called directly (never rendered: the alert's text is data, not a template).
    """

    def __init__(
        self, alert: Alert, conn_id: str = WEBHOOK_CONN_ID, timeout: float = WEBHOOK_TIMEOUT_SECONDS
    ):
        super().__init__(
            http_conn_id=conn_id,
            method="POST",
            json=webhook_payload(alert),
            extra_options={"timeout": timeout},  # wins over the connection's own extra
        )
        self.alert = alert

    @cached_property
    def hook(self) -> HttpHook:
        return AlertWebhookHook(method=self.method, http_conn_id=self.http_conn_id)

    def retry_args(self) -> dict[str, Any]:
        return {
            "stop": tenacity.stop_after_attempt(ATTEMPTS),
            "wait": tenacity.wait_incrementing(start=BACKOFF_SECONDS, increment=BACKOFF_SECONDS),
            # A request sent and not answered in time is not retried: the server has it
            # (see NoAnswer). A handshake that timed out is retried: nothing was sent. Nor is
            # a refusal (see Refused).
            "retry": tenacity.retry_if_exception(
                lambda exc: not (_no_answer(exc) or isinstance(exc, Refused))
            ),
            "reraise": True,  # the last error itself is recorded, not tenacity's RetryError
            "before_sleep": lambda state: log.warning(
                "alert via webhook failed (attempt %d/%d): %s",
                state.attempt_number,
                ATTEMPTS,
                state.outcome.exception() if state.outcome else "?",
            ),
        }

    def notify(self, context) -> None:
        try:
            self.hook.run_with_advanced_retry(
                self.retry_args(),
                endpoint=self.endpoint,
                json=self.json,
                headers=self.headers,
                extra_options=self.extra_options,
            )
        except requests.exceptions.ReadTimeout as exc:
            if not answer_awaited(exc):
                raise
            raise NoAnswer(self.extra_options["timeout"]) from exc


def webhook_notifier(alert: Alert, conn) -> BaseNotifier:
    """`SlackWebhookNotifier` for a Slack connection, else `AlertHttpNotifier`."""
    if conn.conn_type == SLACK_CONN_TYPE:
        from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

        return SlackWebhookNotifier(
            slack_webhook_conn_id=WEBHOOK_CONN_ID,
            text=webhook_text(alert),
            retry_handlers=[],  # retried by `_attempt`, as the e-mail is
        )
    return AlertHttpNotifier(alert, timeout=webhook_timeout(conn.extra_dejson or {}))


def webhook_timeout(extra: dict) -> float:
    """The connection's `timeout` extra in seconds, else WEBHOOK_TIMEOUT_SECONDS. A URI's
    query gives it as text ('5'), which requests refuses: every post would fail."""
    try:
        return float(extra.get("timeout", WEBHOOK_TIMEOUT_SECONDS))
    except (TypeError, ValueError):
        log.warning(
            "connection %s: timeout %r is no number of seconds; %g s used",
            WEBHOOK_CONN_ID,
            extra["timeout"],
            WEBHOOK_TIMEOUT_SECONDS,
        )
        return WEBHOOK_TIMEOUT_SECONDS


def email_html(alert: Alert, attached: list[str] | None = None) -> str:
    """The e-mail's HTML part: its text (`email_text`), escaped by the template."""
    return render("alert_email.html.j2", body=email_text(alert, attached))


def email_text(alert: Alert, attached: list[str] | None = None) -> str:
    """The e-mail's text: the alert's as it is, then what the `attached` feedback workbooks
    hold, by name, and those left out of them (over the mail's limit), by path. Past
    `EMAIL_TEXT_LIMIT` (a run with hundreds of files), its first lines, how many are left
    out, and the body's last line (the quality report), as the webhook's text
    (`webhook_text`)."""
    body = alert.body
    left = [path for path in alert.attachments if attached is not None and path not in attached]
    if attached:  # the clerk's way to every cell: the quality report's page is the server's
        body += (
            "\n\nTệp phản hồi đính kèm: mỗi ô có lỗi hay cảnh báo được tô màu và ghi chú ngay "
            "trong bản sao bảng tính của đơn vị, và trang 'Loi' liệt kê từng ô (trang, dòng, "
            "cột, giá trị, quy tắc). / Feedback workbooks attached: every cell with an error or "
            "a warning is coloured and noted in a copy of the unit's own workbook, and the "
            "'Loi' sheet lists each one (sheet, row, column, value, rule).\n"
            + "\n".join(f"- {Path(path).name}" for path in attached)
        )
    if left:
        limit = f"{MAX_ATTACHMENT_BYTES / 2**20:g} MB"
        body += (
            f"\n\nTệp phản hồi không đính kèm (quá giới hạn {limit} của thư) / "
            f"Feedback workbooks not attached (over the e-mail's {limit} limit):\n"
            + "\n".join(f"- {path}" for path in left)
        )
    if len(body) <= EMAIL_TEXT_LIMIT:
        return body
    *lines, last = alert.body.splitlines()
    lines += body.splitlines()[len(lines) + 1 :]  # the workbooks not attached
    return _shortened(lines, last, EMAIL_TEXT_LIMIT, alert.alert_id)


class RecipientsRefused(Exception):
    """The server refused some recipients of an alert; the others received it."""

    def __init__(self, refused: dict[str, tuple[int, bytes]], recipients: int):
        said = "; ".join(
            f"{address} ({code} {reply.decode(errors='replace')})"
            for address, (code, reply) in sorted(refused.items())
        )
        self.reached = recipients - len(refused)
        super().__init__(f"refused: {said}; {self.reached} of {recipients} recipients received it")


def _flag(value: object) -> bool:
    """A connection extra as a yes/no: JSON's true and false, or the text a URI gives."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


class RefusalsSmtpHook(SmtpHook):
    """SmtpHook that keeps the recipients the server refused while the others received the
    mail: smtplib's `sendmail` returns them, and `send_email_smtp` drops its return."""

    refused: dict[str, tuple[int, bytes]]  # of the last `sendmail`
    plain: str | None = None  # the alert's text, sent beside the HTML

    # A URI connection's extras are text: the provider takes `disable_ssl=false` as true (a
    # non-empty string) and sends in plain text what its author meant to encrypt.
    @property
    def use_ssl(self) -> bool:
        return not _flag(self.conn.extra_dejson.get("disable_ssl", False))

    @property
    def smtp_starttls(self) -> bool:
        return not _flag(self.conn.extra_dejson.get("disable_tls", False))

    # The provider retries a dropped connection, and `sendmail` on any error (a permanent
    # 554 too), `retry_limit` (5) more times, each connection after its `timeout` (30 s);
    # `_attempt` tries that ATTEMPTS times, and the `alert` task again at its retries: a
    # relay that accepts and hangs held the task 9 minutes per alert and try. Our attempts
    # are the retries, unless the connection sets its own `retry_limit`.
    @property
    def smtp_retry_limit(self) -> int:
        return int(self.conn.extra_dejson.get("retry_limit", 0))

    def _build_mime_message(self, *args, **kwargs) -> tuple[MIMEMultipart, list[str]]:
        """The provider's message, its HTML part made a multipart/alternative of the alert's
        text and that HTML, both quoted-printable: the provider's lone HTML part is base64,
        where a mail client without HTML, a filter that reads the text, or a search of the
        mail as stored finds no file name."""
        msg, recipients = super()._build_mime_message(*args, **kwargs)
        parts = [part for part in msg.get_payload() if isinstance(part, Message)]
        html_part = next(part for part in parts if part.get_content_type() == "text/html")
        raw = html_part.get_payload(decode=True)
        charset = html_part.get_content_charset() or "utf-8"
        html = raw.decode(charset) if isinstance(raw, bytes) else str(raw)
        alternative = MIMEMultipart("alternative")
        if self.plain is not None:
            alternative.attach(_quoted_printable(self.plain, "plain"))
        alternative.attach(_quoted_printable(html, "html"))
        msg.set_payload([alternative if part is html_part else part for part in parts])
        # The provider sets From and To as written: a Vietnamese display name made the whole
        # header one encoded word, addresses included, where no client finds an address.
        for name in ("From", "To"):
            if msg[name]:
                msg.replace_header(name, _addresses(msg[name]))
        # The provider writes no Message-ID: Gmail's servers refuse, or file as spam, mail
        # that no relay gave one. Its domain is the sender's: without one, `make_msgid` asks
        # the resolver for this host's name.
        if not msg["Message-ID"]:
            _, at, domain = parseaddr(msg["From"] or "")[1].rpartition("@")
            msg["Message-ID"] = make_msgid(domain=domain if at and domain else "localhost")
        if not msg["Date"]:
            msg["Date"] = formatdate(localtime=True)
        return msg, recipients

    def _build_client(self) -> smtplib.SMTP_SSL | smtplib.SMTP:
        client = super()._build_client()
        sendmail = client.sendmail

        def kept(*args, **kwargs):
            self.refused = sendmail(*args, **kwargs)
            return self.refused

        client.sendmail = kept  # type: ignore[method-assign]
        return client


def _addresses(value: str) -> str:
    """An address header's value with each display name encoded on its own (RFC 2047) and
    the addresses as written; as it is when it does not parse as addresses."""
    pairs = getaddresses([value])
    if not pairs or not all(address for _, address in pairs):
        return value
    return ", ".join(formataddr(pair, charset="utf-8") for pair in pairs)


def _quoted_printable(text: str, subtype: str) -> MIMENonMultipart:
    """A UTF-8 text part, quoted-printable: ASCII (file names, rule names) stays readable
    in the mail as stored, Vietnamese letters are escaped, and lines stay short."""
    utf8 = email_charset.Charset("utf-8")
    utf8.body_encoding = email_charset.QP
    part = MIMENonMultipart("text", subtype)
    part.set_payload(text, utf8)
    return part


class AlertSmtpNotifier(SmtpNotifier):
    """The SMTP provider's notifier that fails when the server refused a recipient. Tried
    again, it sends to the refused recipients only: the others have the alert already."""

    def __init__(self, to: list[str], plain: str | None = None, **kwargs):
        super().__init__(to=to, **kwargs)
        self.recipients = len(to)
        self.plain = plain

    @cached_property
    def hook(self) -> RefusalsSmtpHook:
        hook = RefusalsSmtpHook(smtp_conn_id=self.smtp_conn_id, auth_type=self.auth_type)
        hook.plain = self.plain
        return hook

    def notify(self, context) -> None:
        self.hook.refused = {}
        try:
            super().notify(context)
            refused = self.hook.refused
        except smtplib.SMTPRecipientsRefused as exc:  # every recipient of this attempt
            refused = exc.recipients
        if refused:
            self.to = sorted(refused)
            raise RecipientsRefused(refused, self.recipients)


def email_sender(conn) -> str:
    """The alert's From: the connection's `from_email`, else Airflow's `[email] from_email`
    (AIRFLOW__EMAIL__FROM_EMAIL), else the login when it is an address (a relay that asks
    for a login, Office 365 or Gmail, takes mail from that address only), else
    `DEFAULT_SENDER`."""
    from airflow.configuration import conf

    named = (conn.extra_dejson or {}).get("from_email") or conf.get(
        "email", "from_email", fallback=None
    )
    if named:
        return str(named)
    login = (getattr(conn, "login", None) or "").strip()
    _, address = parseaddr(login)
    return address if address and "@" in address and address == login else DEFAULT_SENDER


def email_notifier(alert: Alert, recipients: list[str], conn) -> BaseNotifier:
    sender = email_sender(conn)
    attached = attachable(alert.attachments)
    return AlertSmtpNotifier(
        to=recipients,
        from_email=sender,
        subject=alert.subject,
        html_content=email_html(alert, attached),
        plain=email_text(alert, attached),
        files=attached or None,
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


def _attempt(name: str, send, attempts: int = ATTEMPTS, where: str = "") -> Delivery:
    """Try `send` up to `attempts` times; `where` (the connection and its server) leads
    the error, which smtplib's ('Connection refused') does not name."""
    error, partial = None, False
    for attempt in range(1, attempts + 1):
        try:
            send()
            log.info("alert delivered through %s", name)
            return Delivery(True)
        except Exception as exc:
            # Unnamed here too: an error raised before the hook's session sends (a URL
            # requests cannot use: MissingSchema, InvalidURL) names it whole.
            error = unnamed(f"{where}{': ' if where else ''}{type(exc).__name__}: {exc}")[:500]
            if isinstance(exc, NoAnswer):  # never sent again: recorded as not known delivered
                log.warning("alert via %s not answered: %s", name, error)
                return Delivery(False, error, unsure=True)
            if isinstance(exc, Refused):  # the configuration's to fix: never sent again
                log.warning("alert via %s refused: %s", name, error)
                return Delivery(False, error, lasting=True)
            partial = partial or (isinstance(exc, RecipientsRefused) and exc.reached > 0)
            log.warning("alert via %s failed (attempt %d/%d): %s", name, attempt, attempts, error)
            if attempt < attempts:
                time.sleep(BACKOFF_SECONDS * attempt)
    return Delivery(False, error, partial)


def _with_skipped(result: Delivery, wrong: list[str]) -> Delivery:
    """The e-mail's result with the entries left out (`_recipients`) named in its error: a
    failure for good, as a recipient the server refuses is, unless the mail failed for a
    reason a later try may mend (it is then tried again, on the valid ones only)."""
    if not wrong:
        return result
    error = _skipped(wrong) + (f"; {result.error}" if result.error else "")
    if result.delivered:
        return Delivery(False, error[:1000], partial=True)
    return dataclasses.replace(result, error=error[:1000])


def _unreadable(conn_id: str) -> Delivery:
    """Off when the connection is not configured; failed, for good, when its variable is set
    but Airflow could not read it."""
    why = unreadable_connection(conn_id)
    if why is None:
        return Delivery(None)
    log.warning("alert channel %s: %s", conn_id, why)
    return Delivery(False, why, lasting=True)


def deliver(
    alert: Alert, context: Context | None = None, delivered: frozenset[str] = frozenset()
) -> dict[str, Delivery]:
    """Send one alert through every configured channel but those it was `delivered` on
    already ("email", "webhook"); never raises."""
    context = context or {}
    results = {"email": Delivery(None), "webhook": Delivery(None)}
    results.update({channel: Delivery(True) for channel in delivered})
    smtp = None if "email" in delivered else _connection(EMAIL_CONN_ID)
    if smtp is None and "email" not in delivered:
        results["email"] = _unreadable(EMAIL_CONN_ID)
    if smtp is not None:
        recipients, wrong = _recipients()
        if wrong:
            log.warning("alert e-mail, %s: %s", RECIPIENTS_VARIABLE, _skipped(wrong))
        if recipients:
            notifier = email_notifier(alert, recipients, smtp)
            # notify() directly: the alert's text is data, never a Jinja template
            server = f"{smtp.host}:{smtp.port}" if smtp.port else smtp.host
            results["email"] = _with_skipped(
                _attempt(
                    "e-mail", lambda: notifier.notify(context), where=f"{EMAIL_CONN_ID} {server}"
                ),
                wrong,
            )
        elif wrong:
            results["email"] = Delivery(
                False, f"no valid recipients: {_skipped(wrong)}", lasting=True
            )
        else:
            results["email"] = Delivery(
                False,
                f"no recipients: set the Airflow variable {RECIPIENTS_VARIABLE}",
                lasting=True,
            )
    webhook = None if "webhook" in delivered else _connection(WEBHOOK_CONN_ID)
    if webhook is None and "webhook" not in delivered:
        results["webhook"] = _unreadable(WEBHOOK_CONN_ID)
    if webhook is not None:
        hook = webhook_notifier(alert, webhook)
        # The HTTP notifier retries inside its hook; the Slack one through `_attempt`.
        if isinstance(hook, AlertHttpNotifier):
            results["webhook"] = _attempt("webhook", lambda: hook.notify(context), 1)
        else:
            results["webhook"] = _attempt("webhook", lambda: _slack_post(hook, context, webhook))
    return results


# slack_sdk's WebhookClient waits 30 s unless the connection's `timeout` extra says.
SLACK_TIMEOUT_SECONDS = 30.0


def _slack_post(notifier: BaseNotifier, context, conn) -> None:
    """Post through the Slack notifier. urllib raises a refused or timed-out connection as
    URLError, and a reply that does not come in time as a bare TimeoutError: the server
    has the message then, and must not get it again (NoAnswer)."""
    try:
        notifier.notify(context)
    except TimeoutError as exc:
        try:
            timeout = float((conn.extra_dejson or {}).get("timeout") or SLACK_TIMEOUT_SECONDS)
        except (TypeError, ValueError):
            timeout = SLACK_TIMEOUT_SECONDS
        raise NoAnswer(timeout, "TimeoutError") from exc


class FailureNotifier(BaseNotifier):
    """Task failure callback: one alert through every channel, recorded in the ledger.

    Where Airflow 3 runs it: in the task's own process when the task raised (also on its
    `execution_timeout`); in the DAG processor when the scheduler failed a task that lost
    its heartbeat, and there twice (two callback requests for one failure). The DAG
    processor kills a callback after `[dag_processor] dag_file_processor_timeout` (50 s),
    with the parse of the DAG file: its DAGs are deactivated as stale. So the alert goes to
    the outbox before anything else (`alerts.hold`), the channels a first call is done
    with (delivered, or failed for good) are not sent to again, and the writer lock is
    waited for `LOCK_WAIT_SECONDS` at most: a load holds it for minutes. Still held, the alert waits
    in the outbox for the next `load` or `alert` task, which records it and retries the
    channels that failed.
    """

    template_fields = ()

    def notify(self, context) -> None:
        from etl.quality import alerts

        ti = context.get("ti") or context.get("task_instance")
        alert = alerts.failure_alert(
            dag_id=getattr(ti, "dag_id", None) or str(context.get("dag")),
            task_id=getattr(ti, "task_id", None),
            run_id=context.get("run_id") or getattr(ti, "run_id", "?"),
            error=str(context.get("exception") or context.get("reason") or _NO_EXCEPTION),
            map_index=getattr(ti, "map_index", None),
            try_number=getattr(ti, "try_number", None),
        )
        send_failure(alert, context)


def send_failure(alert: Alert, context) -> None:
    """Hold a failure alert in the outbox, deliver it on the channels an earlier call is not
    done with (`alerts.held_deliveries`), hold it again with the results, and record it in
    the ledger if the writer lock comes within `LOCK_WAIT_SECONDS`: never blocks longer
    (see `FailureNotifier`)."""
    from etl.config import load_settings
    from etl.quality import alerts
    from etl.warehouse import ledger
    from etl.warehouse.locking import LockBusy, writer

    state_dir = load_settings().state_dir
    # Written before the channels are tried: a callback killed meanwhile loses no alert.
    earlier = alerts.held_deliveries(state_dir, alert.alert_id)
    if not earlier:
        alerts.hold(state_dir, alert)
    results = deliver(alert, context, frozenset(earlier))
    # A channel the earlier call failed for good keeps its failure: not sent again.
    results.update(
        {
            channel: Delivery(False, held.error, lasting=True)
            for channel, held in earlier.items()
            if held.delivered is False
        }
    )
    # A channel down for these few seconds is tried again by the next publish run's
    # `alert` task, on that channel only: the alert stays waiting (`pending_alerts`).
    failed = any(r.retried for r in results.values())
    held = alerts.hold(state_dir, alert, results, final=not failed)
    try:
        # A task outside the writer pool (`stage`) fails while a writer holds the ledger,
        # or beside another failing batch: wait for it a little, not as the tasks do.
        with writer(state_dir, wait=LOCK_WAIT_SECONDS):
            con = ledger.connect(load_settings().ledger)
            try:
                # Its file stays: a second call for the same failure reads what it sent.
                alerts.record_held(con, state_dir, remove=False)
            finally:
                con.close()
    except LockBusy:
        log.warning(
            "failure alert %s: a writer still holds %s after %g s; the alert waits in %s "
            "(channels: %s): the next load or alert task records it and retries what failed",
            alert.alert_id,
            state_dir / "writer.lock",
            LOCK_WAIT_SECONDS,
            held,
            "; ".join(f"{channel} {r.describe()}" for channel, r in results.items()),
        )
    except Exception as exc:
        log.warning(
            "failure alert %s not recorded in the ledger (%s): it waits in %s",
            alert.alert_id,
            exc,
            held,
        )


class RunFailureNotifier(BaseNotifier):
    """DAG failure callback: one alert for a failed run whose failed tasks no task alert
    told, and none when each has its own.

    Airflow 3.3 runs it in the DAG processor once the run is marked failed (context: `dag`,
    `run_id`, `reason` 'task_failure' or 'timed_out', `dag_run`, and as `ti` only the
    failed task that ended last). A task process killed with SIGKILL (the OOM killer) gets
    no task failure callback, so without this the run fails and no alert reaches anyone.
    An ordinary failure has its alert already: a task's callback runs in its process
    before the task is reported failed, so its alert is in the outbox or, taken by a
    writer since, in the ledger, before the run can fail. The failed tasks come from
    Airflow's API (`failed_tasks`); the outbox is read first (no lock), the ledger only when
    some failed task is not there, under the writer lock waited for `LOCK_WAIT_SECONDS`.
    When the ledger cannot be read, the run's alert is sent: twice told, never untold.
    """

    template_fields = ()

    def notify(self, context) -> None:
        from etl.config import load_settings
        from etl.quality import alerts

        dag = context.get("dag")
        dag_run = context.get("dag_run")
        dag_id = getattr(dag, "dag_id", None) or getattr(dag_run, "dag_id", None) or "?"
        run_id = context.get("run_id") or getattr(dag_run, "run_id", None) or "?"
        since = getattr(dag_run, "start_date", None)
        failed = failed_tasks(context, dag_id, run_id)
        state_dir = load_settings().state_dir
        told = alerts.alerted_tasks(alerts.held_alerts(state_dir), dag_id, run_id, since)
        if failed and not set(failed) <= told:  # a writer may have taken some since
            told |= _ledger_told(state_dir, dag_id, run_id, since, failed)
        if failed and set(failed) <= told:
            log.info("run %s failed; every failed task alerted already: %s", run_id, failed)
            return
        unalerted = [task for task in failed if task not in told]
        alert = alerts.run_failure_alert(
            dag_id,
            run_id,
            failed,
            unalerted,
            context.get("reason"),
            getattr(dag_run, "clear_number", None),
        )
        log.warning(
            "run %s failed with no alert for %s (failed: %s): alert %s",
            run_id,
            ", ".join(unalerted) or "no failed task",
            ", ".join(failed) or "none",
            alert.alert_id,
        )
        send_failure(alert, context)


def _ledger_told(state_dir: Path, dag_id: str, run_id: str, since, failed: list[str]) -> set[str]:
    """The failed tasks of the run whose alert a writer took from the outbox into the
    ledger; none when the writer lock does not come within `LOCK_WAIT_SECONDS`."""
    from etl.config import load_settings
    from etl.quality import alerts
    from etl.warehouse import ledger
    from etl.warehouse.locking import LockBusy, writer

    try:
        with writer(state_dir, wait=LOCK_WAIT_SECONDS):
            con = ledger.connect(load_settings().ledger)
            try:
                return alerts.alerted_tasks(
                    alerts.ledger_alerts(con, run_id), dag_id, run_id, since
                )
            finally:
                con.close()
    except LockBusy:
        log.warning(
            "run %s failed: a writer still holds %s after %g s, the ledger cannot say whether "
            "%s were alerted; the run's alert is sent",
            run_id,
            state_dir / "writer.lock",
            LOCK_WAIT_SECONDS,
            ", ".join(failed),
        )
    except Exception as exc:
        log.warning("run %s failed: the ledger could not be read (%s)", run_id, exc)
    return set()


def failed_tasks(context, dag_id: str, run_id: str) -> list[str]:
    """The run's failed task instances, named as their alerts name them (`stage[3]`), from
    Airflow's API (the DAG processor answers `get_task_states`), or under `dag.test` from
    the metadata DB; on an error, the one failed task the context carries."""
    try:
        states = _task_states(dag_id, run_id)
    except Exception as exc:
        log.warning(
            "run %s: the task states could not be read (%s): the failed task the callback's "
            "context names is taken",
            run_id,
            exc,
        )
        ti = context.get("ti") or context.get("task_instance")
        if ti is None or getattr(ti, "task_id", None) is None:
            return []
        index = getattr(ti, "map_index", None)
        return [f"{ti.task_id}[{index}]" if index is not None and index >= 0 else ti.task_id]
    dag = context.get("dag")
    return failed_labels(states, set(getattr(dag, "task_ids", None) or ()))


def _task_states(dag_id: str, run_id: str) -> dict[str, str]:
    from airflow.sdk.execution_time import task_runner

    if not hasattr(task_runner, "SUPERVISOR_COMMS"):
        # `dag.test` (`htx run`) calls the run's callback in its own process, with no
        # supervisor to ask; that process holds the metadata DB itself.
        return _task_states_in_db(dag_id, run_id)
    found = task_runner.RuntimeTaskInstance.get_task_states(dag_id=dag_id, run_ids=[run_id])
    return dict(found.get(run_id, {}))


def _task_states_in_db(dag_id: str, run_id: str) -> dict[str, str]:
    """The run's task states from the metadata DB, keyed as `get_task_states` keys them."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(TaskInstance.task_id, TaskInstance.map_index, TaskInstance.state).where(
                TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id
            )
        ).all()
    return {
        task_id if map_index < 0 else f"{task_id}_{map_index}": str(state)
        for task_id, map_index, state in rows
    }


def failed_labels(states: dict[str, str], task_ids: set[str]) -> list[str]:
    """The failed ones among Airflow's task states (keyed `task_id`, or `task_id_3` for map
    index 3), named `task_id` or `task_id[3]`; `task_ids`: the DAG's, to tell a mapped
    instance from a task whose id ends in `_3`."""
    failed = []
    for key, state in states.items():
        if getattr(state, "value", state) != "failed":
            continue
        base, _, index = key.rpartition("_")
        if key not in task_ids and base in task_ids and index.isdigit():
            failed.append(f"{base}[{index}]")
        else:
            failed.append(key)
    return sorted(failed)


# What a callback says when no exception reached it: the DAG processor's context has none.
_NO_EXCEPTION = (
    "no exception reached the callback: the task process was killed or stopped sending "
    "heartbeats (see the scheduler log)"
)
# How long a failure callback waits for the writer lock: well under the DAG processor's
# 50 s, with the channels' own tries, and with a second callback for the same failure.
LOCK_WAIT_SECONDS = 5.0
