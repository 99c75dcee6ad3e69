"""Webhook alerts through the providers' notifiers, against real HTTP servers on loopback.

The connection `htx_alert_webhook` is configured as Airflow allows (AIRFLOW_CONN_… as JSON
or as a URI): its extra headers and its login/password must reach the server; a Slack
connection goes through the Slack provider; a failing server is retried, then recorded.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import HTX_HEADER, htx_row, info_rows, query, run_steps, write_xlsx

from etl.quality import alerts, notify

ALERT = alerts.Alert(
    "a-42",
    "error",
    "[HTX] 1 tệp bị từ chối",
    "- Tệp / File: 664_2023_loi.xlsx (đơn vị / unit 664, năm / year 2023, file_id 7)",
    attachments=("/srv/exports/feedback/664_2023_abc.xlsx",),
)


class Receiver:
    """A real HTTP server on 127.0.0.1 that answers every POST with `status`; `hold`: only
    once the test is done with it (a server that read the alert and answers too late,
    whatever the machine's speed: no race with the client's time limit)."""

    def __init__(self, status: int = 200, hold: bool = False):
        self.status = status
        self.released = threading.Event()
        if not hold:
            self.released.set()
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                outer.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                outer.released.wait()
                self.send_response(outer.status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if outer.status == 200 else b"boom")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    with Receiver() as server:
        yield server


@pytest.fixture
def no_other_channel(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    monkeypatch.setattr(notify, "BACKOFF_SECONDS", 0)


def _json_conn(port: int, **fields) -> str:
    return json.dumps(
        {"conn_type": "http", "host": "127.0.0.1", "port": port, "schema": "hook/htx", **fields}
    )


def test_bearer_header_from_the_connection_s_extra_arrives_with_the_text(
    monkeypatch, receiver, no_other_channel
):
    monkeypatch.setenv(
        "AIRFLOW_CONN_HTX_ALERT_WEBHOOK",
        _json_conn(receiver.port, extra={"Authorization": "Bearer s3cret-token", "X-Htx": "1"}),
    )
    results = notify.deliver(ALERT)
    assert results["webhook"] == notify.Delivery(True)
    assert results["email"].delivered is None
    [request] = receiver.requests
    assert request["path"] == "/hook/htx"
    assert request["headers"]["Authorization"] == "Bearer s3cret-token"
    assert request["headers"]["X-Htx"] == "1"
    assert request["headers"]["Content-Type"] == "application/json"
    body = request["body"]
    assert body["text"] == (
        "[HTX] 1 tệp bị từ chối\n\n"
        "- Tệp / File: 664_2023_loi.xlsx (đơn vị / unit 664, năm / year 2023, file_id 7)\n\n"
        "Tệp phản hồi / Feedback workbooks:\n"
        "- /srv/exports/feedback/664_2023_abc.xlsx"
    )
    assert body["feedback"] == ["/srv/exports/feedback/664_2023_abc.xlsx"]
    assert (body["alert_id"], body["severity"]) == ("a-42", "error")


def test_login_and_password_are_sent_as_basic_auth_from_a_uri_connection(
    monkeypatch, receiver, no_other_channel
):
    # The URI form of the README: the path is the endpoint, query parameters are headers.
    monkeypatch.setenv(
        "AIRFLOW_CONN_HTX_ALERT_WEBHOOK",
        f"http://htx:p%40ss%2Fw0rd@127.0.0.1:{receiver.port}/alert?X-Htx-Unit=68",
    )
    assert notify.deliver(ALERT)["webhook"].delivered is True
    [request] = receiver.requests
    assert request["path"] == "/alert"
    expected = base64.b64encode(b"htx:p@ss/w0rd").decode()
    assert request["headers"]["Authorization"] == f"Basic {expected}"
    assert request["headers"]["X-Htx-Unit"] == "68"


def test_a_timeout_in_a_uri_connection_s_query_is_a_number_of_seconds(
    monkeypatch, receiver, no_other_channel
):
    """A URI's query gives every extra as text: `timeout=5` is 5 seconds, as in a JSON
    connection's extra, not a value requests refuses on every post."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_HTX_ALERT_WEBHOOK", f"http://127.0.0.1:{receiver.port}/alert?timeout=5"
    )
    assert notify.deliver(ALERT)["webhook"] == notify.Delivery(True)
    [request] = receiver.requests
    assert request["path"] == "/alert"
    assert "timeout" not in {name.lower() for name in request["headers"]}


def test_a_host_with_its_scheme_and_path_is_posted_to_as_it_is(
    monkeypatch, receiver, no_other_channel
):
    monkeypatch.setenv(
        "AIRFLOW_CONN_HTX_ALERT_WEBHOOK",
        json.dumps({"conn_type": "http", "host": f"http://127.0.0.1:{receiver.port}/a/b"}),
    )
    assert notify.deliver(ALERT)["webhook"].delivered is True
    assert [r["path"] for r in receiver.requests] == ["/a/b"]


def test_a_webhook_url_with_its_own_query_in_a_json_host_keeps_it(
    monkeypatch, receiver, no_other_channel
):
    """A URI's query is the connection's extras, sent as headers (Airflow's reading, pinned
    above): a webhook URL that carries its key in its query goes whole into the JSON
    form's host, as the README says, and reaches the server with that query."""
    url = f"http://127.0.0.1:{receiver.port}/v1/messages?key=abc&token=xyz"
    monkeypatch.setenv(
        "AIRFLOW_CONN_HTX_ALERT_WEBHOOK", json.dumps({"conn_type": "http", "host": url})
    )
    assert notify.deliver(ALERT)["webhook"].delivered is True
    [request] = receiver.requests
    assert request["path"] == "/v1/messages?key=abc&token=xyz"
    assert "key" not in {name.lower() for name in request["headers"]}


def test_a_failing_server_is_retried_then_recorded_as_failed(monkeypatch, no_other_channel):
    with Receiver(status=500) as server:
        monkeypatch.setenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", _json_conn(server.port))
        results = notify.deliver(ALERT)
        assert len(server.requests) == notify.ATTEMPTS
    assert results["webhook"].delivered is False
    assert "500" in results["webhook"].error
    assert results["webhook"].describe().startswith("failed (")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_a_webhook_that_refuses_the_request_is_not_posted_again(
    monkeypatch, no_other_channel, status
):
    """A 4xx answer says the request is wrong for the server (a wrong path, token or body):
    sent again it is refused again. Before, it was posted three times with backoff, and the
    `alert` task's retries held the publish for minutes on every run, until someone fixed
    the connection. It is recorded as failed, with the answer, for good."""
    with Receiver(status=status) as server:
        monkeypatch.setenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", _json_conn(server.port))
        result = notify.deliver(ALERT)["webhook"]
        assert len(server.requests) == 1
    assert result.delivered is False
    assert not result.retried
    assert str(status) in result.error
    assert "connection" in result.error  # what to fix


@pytest.mark.parametrize("status", [408, 429, 502])
def test_a_webhook_busy_or_down_for_a_moment_is_tried_again(monkeypatch, no_other_channel, status):
    with Receiver(status=status) as server:
        monkeypatch.setenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", _json_conn(server.port))
        result = notify.deliver(ALERT)["webhook"]
        assert len(server.requests) == notify.ATTEMPTS
    assert result.retried


def test_a_webhook_that_answers_too_late_has_the_alert_once_and_is_not_posted_again(
    monkeypatch, no_other_channel
):
    """A server slower than the time limit has read the alert already: each new post
    (the hook's three attempts, then the `alert` task's retries) was a copy more in the
    channel (nine in a run), while the ledger said it never arrived."""
    with Receiver(hold=True) as server:
        monkeypatch.setenv(
            "AIRFLOW_CONN_HTX_ALERT_WEBHOOK",
            f"http://127.0.0.1:{server.port}/hook?timeout=1",
        )
        result = notify.deliver(ALERT)["webhook"]
        assert len(server.requests) == 1
    assert result.delivered is False
    assert not result.retried  # the `alert` task's retries do not post it again either
    assert "1 s" in result.error
    assert "ReadTimeout" in result.error


def test_an_https_webhook_whose_handshake_times_out_never_had_the_alert_and_is_retried(
    monkeypatch, no_other_channel
):
    """urllib3 reports a TLS handshake that does not finish in time as a read timeout too,
    though no request was sent: that server never had the alert, so it is tried again (the
    hook's three attempts, then the `alert` task's retries), not recorded as perhaps
    delivered and dropped."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    taken: list[socket.socket] = []

    def accept() -> None:
        try:
            while True:
                taken.append(listener.accept()[0])
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    port = listener.getsockname()[1]
    monkeypatch.setenv(
        "AIRFLOW_CONN_HTX_ALERT_WEBHOOK",
        json.dumps(
            {"conn_type": "http", "host": f"https://127.0.0.1:{port}", "extra": {"timeout": 1}}
        ),
    )
    try:
        result = notify.deliver(ALERT)["webhook"]
    finally:
        listener.close()
        for connection in taken:
            connection.close()
    assert result.delivered is False
    assert result.retried  # never reached the server: the task's retries try it again
    assert "NoAnswer" not in result.error
    assert len(taken) == notify.ATTEMPTS


def _slack_conn(monkeypatch, host: str, token: str = "T1/B1/Y", **fields) -> None:  # noqa: S107  a test token
    """`htx_alert_webhook` as a Slack incoming-webhook connection to `host` (the test's
    server), its token in the password, other fields (`extra`) as given."""
    conn = {"conn_type": "slackwebhook", "host": host, "password": token, **fields}
    monkeypatch.setenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", json.dumps(conn))


def test_a_long_alert_s_text_fits_slack_and_says_how_much_it_leaves_out():
    """Slack cuts a message's `text` past 40,000 characters, silently: a run with hundreds
    of rejected files lost its end, the quality report's link among it. The text keeps its
    start, says how many lines it leaves out and where the whole alert is, and ends with
    the quality report; the JSON's `body` and `feedback` keep everything."""
    files = [
        {
            "file_id": i,
            "file_name": f"Báo cáo HTX {i}.xlsx",
            "unit_code": "663",
            "report_year": 2023,
            "status": "quarantined",
            "reason": "Thiếu trang HTX / HTX sheet missing",
            "findings": [
                {"severity": "error", "rule": "members_min", "message": "m", "excel_row": 5}
            ],
        }
        for i in range(400)
    ]
    alert = alerts.compose(files, "run-1", "/srv/exports")
    full = f"{alert.subject}\n\n{alert.body}"
    text = notify.webhook_text(alert)
    assert len(text) <= 40_000 < len(full)
    assert text.startswith(full[:2000])
    left_out = len(full.splitlines()) - len(text.splitlines()) + 1  # the note is no line of it
    assert f"{left_out} dòng không hiện ở đây" in text
    assert f"{left_out} more lines not shown here" in text
    assert text.endswith("Báo cáo chất lượng / Quality report: /srv/exports/quality_report.html")
    paths = tuple(f"/srv/exports/feedback/{i}.xlsx" for i in range(400))
    attached = alerts.Alert(alert.alert_id, alert.severity, alert.subject, alert.body, None, paths)
    assert len(notify.webhook_text(attached)) <= 40_000
    assert notify.webhook_payload(attached)["body"] == alert.body
    assert notify.webhook_payload(attached)["feedback"] == list(paths)


def test_slack_connection_goes_through_the_slack_provider(monkeypatch, receiver, no_other_channel):
    _slack_conn(monkeypatch, f"http://127.0.0.1:{receiver.port}/services", "T0000/B0000/XXXXXXXX")
    notifier = notify.webhook_notifier(ALERT, notify._connection(notify.WEBHOOK_CONN_ID))
    from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

    assert isinstance(notifier, SlackWebhookNotifier)
    assert notify.deliver(ALERT)["webhook"].delivered is True
    [request] = receiver.requests
    assert request["path"] == "/services/T0000/B0000/XXXXXXXX"
    assert request["body"]["text"] == notify.webhook_text(ALERT)
    assert "/srv/exports/feedback/664_2023_abc.xlsx" in request["body"]["text"]


def test_slack_server_refusing_is_retried_then_recorded(monkeypatch, no_other_channel):
    with Receiver(status=500) as server:
        _slack_conn(monkeypatch, f"http://127.0.0.1:{server.port}")
        result = notify.deliver(ALERT)["webhook"]
        assert len(server.requests) == notify.ATTEMPTS
    assert result.delivered is False
    assert result.error


def test_a_slack_webhook_that_answers_too_late_is_not_posted_again(monkeypatch, no_other_channel):
    """As for the HTTP notifier: the Slack server that read the message and answers late
    got it 3 times (`_attempt`), 9 with the task's retries."""
    with Receiver(hold=True) as server:
        _slack_conn(monkeypatch, f"http://127.0.0.1:{server.port}", extra={"timeout": 1})
        result = notify.deliver(ALERT)["webhook"]
        assert len(server.requests) == 1
    assert result.delivered is False
    assert not result.retried
    assert "no answer within 1 s" in result.error


@pytest.mark.parametrize(
    ("variable", "value", "channel"),
    [
        ("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", '{"conn_type": "http", "host": "h",}', "webhook"),
        ("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", "{'conn_type': 'http', 'host': 'h'}", "webhook"),
        ("AIRFLOW_CONN_SMTP_DEFAULT", '{"conn_type": "smtp", "host": "127.0.0.1"', "email"),
    ],
)
def test_a_connection_airflow_cannot_read_is_a_failed_channel_not_an_off_one(
    monkeypatch, no_other_channel, variable, value, channel
):
    """Airflow answers a connection variable it cannot parse (a trailing comma, single
    quotes) with 'isn't defined', saying nothing else: the channel was recorded as off
    (NULL in audit.quality_alert) and nobody learnt that the alerts went nowhere."""
    monkeypatch.setenv("AIRFLOW_VAR_HTX_ALERT_EMAILS", "lienminh@tinh.example")
    monkeypatch.setenv(variable, value)
    result = notify.deliver(ALERT)[channel]
    assert result.delivered is False
    assert not result.retried  # the configuration is wrong: a retry cannot help
    assert variable in result.error
    assert "JSON" in result.error
    assert value not in result.error  # a connection may hold a password


def test_an_empty_connection_variable_is_an_off_channel(monkeypatch, no_other_channel):
    monkeypatch.setenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", "")
    assert notify.deliver(ALERT)["webhook"] == notify.Delivery(None)


def _landing_with_one_rejected(settings) -> None:
    bad = [HTX_HEADER, htx_row(1, "6400000001", **{"Xếp loại": "Tốt", "Điểm": 40})]
    bad.append(htx_row(2, "6400000001"))
    write_xlsx(
        settings.landing_dir / "664_2023_loi.xlsx",
        {"ThongTin": info_rows(unit="664"), "HTX": bad},
    )


def test_pipeline_alert_carries_the_token_is_audited_and_sent_once(
    settings, monkeypatch, receiver, no_other_channel
):
    monkeypatch.setenv(
        "AIRFLOW_CONN_HTX_ALERT_WEBHOOK",
        _json_conn(receiver.port, extra={"Authorization": "Bearer tinh-68"}),
    )
    _landing_with_one_rejected(settings)
    run_steps(settings)
    [request] = receiver.requests
    assert request["headers"]["Authorization"] == "Bearer tinh-68"
    text = request["body"]["text"]
    assert "664_2023_loi.xlsx" in text
    feedback = request["body"]["feedback"]
    assert feedback
    assert all(path in text for path in feedback)  # the workbooks' paths are in the text
    [(email_ok, webhook_ok, error)] = query(
        settings,
        "select email_delivered, webhook_delivered, webhook_error from audit.quality_alert",
    )
    assert (email_ok, webhook_ok, error) == (None, True, None)
    run_steps(settings, run_id="rerun")  # nothing new: no second post
    assert len(receiver.requests) == 1


def test_pipeline_goes_on_when_the_webhook_fails(settings, monkeypatch, no_other_channel):
    with Receiver(status=503) as server:
        monkeypatch.setenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", _json_conn(server.port))
        _landing_with_one_rejected(settings)
        result = run_steps(settings)
        assert len(server.requests) == notify.ATTEMPTS
    assert result["changed"] is True
    [(webhook_ok, error)] = query(
        settings, "select webhook_delivered, webhook_error from audit.quality_alert"
    )
    assert webhook_ok is False
    assert "503" in error


def test_a_webhook_down_never_writes_its_url_s_path_or_query(
    monkeypatch, no_other_channel, caplog, capfd
):
    """A webhook's path or query is often its token (`/services/T000/B000/XXXX`,
    `?key=…&token=…`). requests names it in the error of a server that cannot be reached
    (`Max retries exceeded with url: …`): it was logged at each attempt, by the hook and
    here, and recorded in audit.quality_alert's `webhook_error`, which analysts read."""
    import socket

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens: connection refused
    host = f"http://127.0.0.1:{port}/services/T000/B000/s3cretpath?key=k3y&token=t0ken"
    monkeypatch.setenv(
        "AIRFLOW_CONN_HTX_ALERT_WEBHOOK", json.dumps({"conn_type": "http", "host": host})
    )
    caplog.set_level("INFO")
    result = notify.deliver(ALERT)["webhook"]
    out, err = capfd.readouterr()  # the hook logs through structlog
    assert result.retried
    assert "ConnectionError" in result.error
    assert f"127.0.0.1:{port}" in result.error or f"port={port}" in result.error  # which server
    said = "\n".join([result.error, caplog.text, out, err])
    assert "attempt 2/3" in caplog.text  # the logs were read: ours, and the hook's
    assert "Tenacity will retry" in out + err
    for secret in ("s3cretpath", "k3y", "t0ken"):
        assert secret not in said


def test_debug_logs_of_a_delivered_alert_never_write_its_url_s_path_or_query(
    monkeypatch, no_other_channel, caplog, capfd
):
    """An engineer who turns logging to DEBUG to see a webhook's traffic meets urllib3's line
    of each request (`"POST /services/T000/B000/XXXX?token=… HTTP/1.1" 200`) and the hook's
    (`Sending 'POST' to url: …`): its path and query are hidden there too."""
    with Receiver() as server:
        monkeypatch.setenv(
            "AIRFLOW_CONN_HTX_ALERT_WEBHOOK",
            json.dumps(
                {
                    "conn_type": "http",
                    "host": f"http://127.0.0.1:{server.port}/services/T0/B0/s3cretpath"
                    "?key=k3y&token=t0ken",
                }
            ),
        )
        caplog.set_level("DEBUG")
        result = notify.deliver(ALERT)["webhook"]
    out, err = capfd.readouterr()
    assert result.delivered
    assert server.requests[0]["path"] == "/services/T0/B0/s3cretpath?key=k3y&token=t0ken"
    said = "\n".join([caplog.text, out, err])
    assert '"POST /… HTTP/1.1" 200' in said  # urllib3's request line was read, hidden
    for secret in ("s3cretpath", "k3y", "t0ken"):
        assert secret not in said


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        (
            "Max retries exceeded with url: /services/T0/B0/s3cret?token=t0ken (Caused by X)",
            "Max retries exceeded with url: /… (Caused by X)",
        ),
        (
            "Invalid URL 'https://chat.example?token=t0ken': x",
            "Invalid URL 'https://chat.example/…': x",
        ),
        ("url: /a(b)c?tok=t0ken end", "url: /… end"),
        ("https://bot:p4ss@chat.example:8443/hook failed", "https://…@chat.example:8443/… failed"),
        ("http://127.0.0.1:9/ refused", "http://127.0.0.1:9/… refused"),
        ("no address here", "no address here"),
    ],
)
def test_an_error_names_a_url_s_server_never_its_user_path_or_query(said, shown):
    """What a delivery error may say of a webhook's URL: its scheme and host (which server),
    never a user or password, path, query or fragment, where tokens live."""
    assert notify.unnamed(said) == shown


def test_a_secret_that_begins_another_hides_none_of_the_longer_one(monkeypatch):
    """Two webhooks on one server (`/hook`, `/hook?token=…`): the longer path is hidden
    whole, never cut after its shorter prefix, which would leave its query in the log."""
    import logging

    hidden = notify._HiddenInLogs()
    hidden.secrets.update({"/hook", "/hook?token=t0ken"})
    record = logging.LogRecord(
        "urllib3", logging.DEBUG, "x", 1, '"POST %s HTTP/1.1"', ("/hook?token=t0ken",), None
    )
    assert hidden.filter(record)
    assert record.getMessage() == '"POST /… HTTP/1.1"'
