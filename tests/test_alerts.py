"""Alerts: what they say, and that they reach real SMTP and HTTP servers on loopback."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import json
import subprocess
import sys
from types import SimpleNamespace

import pytest
from conftest import (
    HTX_HEADER,
    free_port,
    htx_env,
    htx_row,
    info_rows,
    query,
    run_htx,
    run_steps,
    write_xlsx,
)

from etl.quality import alerts, notify


def _landing_with_one_rejected(settings) -> None:
    good = [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "6400000002")]
    write_xlsx(settings.landing_dir / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": good})
    bad = [HTX_HEADER, htx_row(1, "6400000001", **{"Xếp loại": "Tốt", "Điểm": 40})]
    bad.append(htx_row(2, "6400000001"))
    write_xlsx(
        settings.landing_dir / "664_2023_loi.xlsx",
        {"ThongTin": info_rows(unit="664"), "HTX": bad},
    )


def _channels_env(smtp_port: int, webhook_url: str) -> dict[str, str]:
    return {
        "AIRFLOW_CONN_SMTP_DEFAULT": (
            f"smtp://127.0.0.1:{smtp_port}?disable_ssl=true&disable_tls=true"
            "&from_email=htx%40tinh.example"
        ),
        "AIRFLOW_CONN_HTX_ALERT_WEBHOOK": webhook_url,
        "AIRFLOW_VAR_HTX_ALERT_EMAILS": "lienminh@tinh.example, kinhte@huyen.example",
    }


def _email_only(monkeypatch, smtp_port: int) -> None:
    """The e-mail channel alone, on the loopback server at `smtp_port`, with no backoff
    between attempts."""
    monkeypatch.setattr(notify, "BACKOFF_SECONDS", 0)
    for name, value in _channels_env(smtp_port, "http://unused").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", raising=False)


def _ledger_alerts(settings, columns: str, order: str = "raised_at") -> list[tuple]:
    """`audit.quality_alert`'s rows as the ledger holds them (the build may not exist)."""
    from etl.warehouse import ledger

    con = ledger.connect(settings.ledger, read_only=True)
    try:
        return con.execute(f"select {columns} from audit.quality_alert order by {order}").fetchall()
    finally:
        con.close()


def _loaded_with_one_rejected(settings) -> None:
    """The landing of `_landing_with_one_rejected`, staged and loaded: one alert waits."""
    from etl.flow import tasks

    _landing_with_one_rejected(settings)
    files = tasks.discover_files(settings)
    tasks.load(settings, tasks.stage(settings, files, "run-1"), "run-1")


def test_alert_says_unit_year_file_status_rules_report_and_what_to_do():
    duplicate = {"severity": "error", "rule": "coop_code_unique", "message": "Trùng mã / dup"}
    rating = {"severity": "error", "rule": "rating_matches_score", "message": "Xếp loại / Rating"}
    outcome = {
        "file_id": 7,
        "file_name": "664_2023_loi.xlsx",
        "unit_code": "664",
        "report_year": 2023,
        "status": "quarantined",
        "reason": "Tệp bị từ chối… / File rejected…",
        "findings": [duplicate, duplicate, rating],
    }
    alert = alerts.compose([outcome], "run-1", "/srv/exports")
    assert alert.severity == "error"
    assert alert.subject == (
        "[HTX] 1 tệp bị từ chối, 0 tệp có cảnh báo / 1 file(s) quarantined, 0 with warnings: "
        "664_2023_loi.xlsx"
    )
    body = alert.body
    assert "664_2023_loi.xlsx" in body
    assert "đơn vị / unit 664 Huyện Krông Nô" in body  # named, as officials read units
    assert "năm / year 2023" in body
    assert "coop_code_unique ×2" in body
    assert "rating_matches_score ×1" in body
    assert "/srv/exports/quality/7.html" in body
    assert body.index("Việc cần làm") < body.index("To do")  # Vietnamese first


@pytest.mark.parametrize(
    ("rule", "excel_row", "column", "todo"),
    [
        ("unit_unknown", None, None, "To do: do what the reason above says"),
        ("sheet_missing", None, None, "To do: do what the reason above says"),
        # The header row is named, no cell: the reason says which columns to add.
        ("column_missing", 1, None, "To do: do what the reason above says"),
        ("coop_code_unique", 5, "Mã số HTX", "To do: correct the listed cells"),
    ],
)
def test_a_file_rejected_for_no_cell_is_not_told_to_correct_listed_cells(
    rule, excel_row, column, todo
):
    """A file rejected as a whole (unit or year not identified, a sheet or column missing,
    unreadable) has no cell listed anywhere: its clerk was told to correct "the listed
    cells", when the reason says what to do."""
    finding = {
        "severity": "error",
        "rule": rule,
        "message": "… / …",
        "excel_row": excel_row,
        "column_name": column,
    }
    outcome = {
        "file_id": 8,
        "file_name": "Báo cáo tổng hợp HTX.xlsx",
        "unit_code": None,
        "report_year": None,
        "status": "quarantined",
        "reason": "Không xác định được đơn vị… / The reporting unit cannot be identified…",
        "findings": [finding],
    }
    body = alerts.compose([outcome], "run-1", "/srv/exports").body
    assert todo in body
    assert body.count("To do") == 1
    assert body.index("Việc cần làm") < body.index("To do")


def test_a_rule_of_several_messages_is_counted_once_with_each_message():
    """`rating_matches_score` is one expectation per rating, each with its own message: the
    alert counts the rule once, as the file's reason does, and says every band it broke."""

    def band(message: str) -> dict:
        return {"severity": "error", "rule": "rating_matches_score", "message": message}

    duplicate = {"severity": "error", "rule": "coop_code_unique", "message": "Trùng mã / dup"}
    khá, tb = band("Khá cần 65-80 / Khá needs 65-80"), band("TB cần 50-65 / TB needs 50-65")
    outcome = {
        "file_id": 7,
        "file_name": "664_2023_loi.xlsx",
        "unit_code": "664",
        "report_year": 2023,
        "status": "quarantined",
        "reason": "… (rating_matches_score ×3, coop_code_unique ×2)",
        "findings": [khá, tb, band("Yếu cần <50 / Yếu needs <50"), khá, duplicate, duplicate],
    }
    lines = alerts.compose([outcome], "run-1", "/srv/exports").body.splitlines()
    [rule] = [n for n, line in enumerate(lines) if "• [Lỗi / error] rating_matches_score" in line]
    assert "rating_matches_score ×4: Khá cần 65-80" in lines[rule]
    assert lines[rule + 1].strip() == "TB cần 50-65 / TB needs 50-65"
    assert lines[rule + 2].strip() == "Yếu cần <50 / Yếu needs <50"
    assert rule < next(
        n for n, line in enumerate(lines) if "• [Lỗi / error] coop_code_unique ×2" in line
    )


def test_a_rejected_files_errors_lead_its_top_rules_whatever_its_warnings():
    """A file rejected for one negative count that also has many warnings (members under 5,
    unknown communes...): the alert's top rules name the error that rejected it first, not
    five warnings that push it out of the list."""

    def finding(severity: str, rule: str) -> dict:
        return {"severity": severity, "rule": rule, "message": f"{rule} vi / {rule} en"}

    rules = (
        "members_at_least_5",
        "commune_known",
        "sector_known",
        "certificate_valid_in_report_year",
        "product_group_known",
        "funding_source_known",
    )
    warnings = [finding("warning", rule) for rule in rules for _ in range(3)]
    outcome = {
        "file_id": 7,
        "file_name": "663_2023.xlsx",
        "unit_code": "663",
        "report_year": 2023,
        "status": "quarantined",
        "reason": "Tệp bị từ chối: 1 ô … / File rejected: 1 cell …",
        "findings": [*warnings, finding("error", "workers_not_negative")],
    }
    lines = alerts.compose([outcome], "run-1", "/srv/exports").body.splitlines()
    bullets = [line.strip() for line in lines if line.strip().startswith("•")]
    assert bullets[0].startswith("• [Lỗi / error] workers_not_negative ×1:")
    assert len(bullets) == alerts.TOP_RULES + 1  # five rules, then "… more rules"


def test_warnings_across_files_join_their_file_block():
    from etl.contract.findings import Finding

    outcome = {
        "file_id": 7,
        "file_name": "24611_2026.xlsx",
        "unit_code": "24611",
        "report_year": 2026,
        "status": "valid",
        "reason": None,
        "findings": [],
    }
    warning = Finding("coop_missing_next_year", "warning", "Thiếu / Missing", "HTX", None)
    restaged = {**outcome, "file_id": 9, "file_name": "68_2025.xlsx", "status": "loaded"}
    items = alerts.with_cross([outcome], [outcome, restaged], {7: [warning], 9: [warning]})
    # One block per file: this run's outcome with its new warning, then a file of the run
    # that is no outcome worth alerting on its own (restaged by an upgrade).
    assert [i["file_id"] for i in items] == [7, 9]
    assert [f["rule"] for f in items[0]["findings"]] == ["coop_missing_next_year"]
    alert = alerts.compose(items, "run-2", "/exports")
    assert alert is not None
    assert alert.body.count("24611_2026.xlsx") == 1
    assert alerts.file_ids(alert.body) == [7, 9]


def test_nothing_to_say_raises_no_alert():
    outcome = {"file_id": 1, "file_name": "a.xlsx", "status": "valid", "findings": []}
    assert alerts.compose([outcome], "run-1", "/x") is None


def test_rejected_workbook_alert_reaches_email_and_webhook_through_airflow(
    settings, smtp_server, webhook_receiver
):
    smtp_port, mails = smtp_server
    url, posts = webhook_receiver
    _landing_with_one_rejected(settings)
    env = {**htx_env(settings), **_channels_env(smtp_port, url)}
    first = run_htx("run", env=env, timeout=900)
    assert first.returncode == 0, first.stderr[-3000:]

    assert len(mails) == 1
    assert len(posts) == 1
    message = email.message_from_bytes(mails[0].content, policy=email.policy.default)
    assert sorted(mails[0].rcpt_tos) == ["kinhte@huyen.example", "lienminh@tinh.example"]
    assert "1 tệp bị từ chối" in message["subject"]
    html_body = message.get_body(("html",)).get_content()
    assert "664_2023_loi.xlsx" in html_body
    assert "rating_matches_score" in html_body
    assert "664_2023_loi.xlsx" in posts[0]["text"]
    assert posts[0]["severity"] == "error"
    [(email_ok, webhook_ok)] = query(
        settings, "select email_delivered, webhook_delivered from audit.quality_alert"
    )
    assert (email_ok, webhook_ok) == (True, True)
    # ...and the summary the command prints says so, under this run's line.
    assert "Alerts raised by this run: 1 (audit.quality_alert)" in first.stdout
    assert "  webhook (htx_alert_webhook): delivered" in first.stdout

    # The quality report opens from disk and shows the rejected file's failing cells.
    [(file_id,)] = query(
        settings, "select file_id from audit.file_ingestion where status = 'quarantined'"
    )
    page = (settings.export_dir / "quality" / f"{file_id}.html").read_text()
    assert "664_2023_loi.xlsx" in page
    assert "rating_matches_score" in page
    assert "Điểm" in page

    second = run_htx("run", env=env, timeout=900)
    assert second.returncode == 0, second.stderr[-3000:]
    assert len(mails) == 1
    assert len(posts) == 1


def test_refusing_channel_is_recorded_as_failed_and_the_run_goes_on(settings, monkeypatch):
    monkeypatch.setattr(notify, "BACKOFF_SECONDS", 0)
    monkeypatch.setenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", f"http://127.0.0.1:{free_port()}/x")
    _landing_with_one_rejected(settings)
    result = run_steps(settings)
    assert result["changed"] is True
    [(email_ok, webhook_ok, error)] = query(
        settings,
        "select email_delivered, webhook_delivered, webhook_error from audit.quality_alert",
    )
    assert email_ok is None  # channel off: no smtp_default connection
    assert webhook_ok is False
    assert "Connection refused" in error


def _alert_lines(lines: list[str]) -> list[str]:
    """The summary's lines on the run's alerts: from its `Alerts` line to the next section."""
    said = [n for n, line in enumerate(lines) if line.startswith("Alerts raised by")]
    assert said, lines
    start = said[0]
    end = next(n for n in range(start + 1, len(lines)) if not lines[n].startswith(" "))
    return lines[start:end]


def test_the_summary_names_the_run_s_alert_and_each_channel_that_delivered_it(
    settings, monkeypatch, smtp_server, webhook_receiver
):
    """The engineer who ran the command reads which alert the run raised and where it went;
    a run that raised none says nothing of alerts."""
    from etl.outputs.summary import summary_lines

    smtp_port, mails = smtp_server
    url, posts = webhook_receiver
    for name, value in _channels_env(smtp_port, url).items():
        monkeypatch.setenv(name, value)
    _landing_with_one_rejected(settings)
    run_steps(settings, "run-1")
    assert (len(mails), len(posts)) == (1, 1)
    said = _alert_lines(summary_lines(settings, run_id="run-1", landed=2))
    assert said[0] == "Alerts raised by this run: 1 (audit.quality_alert)"
    assert said[1].startswith("  1. [HTX] 1 tệp bị từ chối")
    assert said[2:] == [
        "  e-mail (smtp_default):       delivered",
        "  webhook (htx_alert_webhook): delivered",
    ]

    run_steps(settings, "run-2")  # nothing new: no alert
    lines = summary_lines(settings, run_id="run-2", landed=2)
    assert not any(line.startswith("Alerts") or "delivered" in line for line in lines)


def test_the_summary_says_a_channel_that_failed_with_its_error_and_one_off_as_off(
    settings, monkeypatch
):
    """An SMTP server down: the summary says the e-mail was not delivered, why (the error's
    first line), and what to do; the webhook, not configured, is off, not a failure."""
    from etl.outputs.summary import summary_lines

    port = free_port()  # nothing listens there
    _email_only(monkeypatch, port)
    _landing_with_one_rejected(settings)
    run_steps(settings, "run-1")
    [(error,)] = query(settings, "select email_error from audit.quality_alert")
    said = _alert_lines(summary_lines(settings, run_id="run-1", landed=2))
    assert said[0] == "Alerts raised by this run: 1 (audit.quality_alert)"
    assert said[2:] == [
        "  e-mail (smtp_default):       not delivered (not sent again)",
        f"    1. {error.splitlines()[0]}",
        "    To do: check the Airflow connection smtp_default and the variable htx_alert_emails; "
        "recorded in audit.quality_alert (why: email_error; the alert's text: body)",
        "  webhook (htx_alert_webhook): off (connection not configured)",
    ]
    assert f"smtp_default 127.0.0.1:{port}: ConnectionRefusedError" in said[3]


def test_failed_task_alerts_every_channel(settings, monkeypatch, webhook_receiver):
    url, posts = webhook_receiver
    monkeypatch.setenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", url)
    monkeypatch.setenv("HTX_STATE_DIR", str(settings.state_dir))
    context = {
        "ti": SimpleNamespace(dag_id="htx_ingest", task_id="load", run_id="manual__x"),
        "run_id": "manual__x",
        "exception": RuntimeError("disk full"),
    }
    notify.FailureNotifier().notify(context)
    assert len(posts) == 1
    assert "load" in posts[0]["subject"]
    assert "disk full" in posts[0]["text"]
    rows = _ledger_alerts(settings, "severity, webhook_delivered")
    assert rows == [("error", True)]


def test_a_failure_alert_a_channel_missed_is_sent_by_the_next_alert_task(
    settings, monkeypatch, smtp_server, webhook_receiver
):
    """The callback tries its channels for a few seconds only: one that is down meanwhile
    gets the failure alert from the next publish run's `alert` task, and the channel that
    had it is not sent to again."""
    from etl.flow import tasks

    smtp_port, mails = smtp_server
    url, posts = webhook_receiver
    monkeypatch.setattr(notify, "BACKOFF_SECONDS", 0)
    for name, value in _channels_env(smtp_port, f"http://127.0.0.1:{free_port()}/x").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HTX_STATE_DIR", str(settings.state_dir))
    ti = SimpleNamespace(dag_id="htx_ingest", task_id="load", run_id="r1")
    notify.FailureNotifier().notify({"ti": ti, "run_id": "r1", "exception": OSError("disk full")})
    assert (len(mails), len(posts)) == (1, 0)
    monkeypatch.setenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", url)  # the server is back
    assert tasks.alert(settings, {"ti": SimpleNamespace(try_number=1, max_tries=2)}) == {
        "alerts": 1
    }
    assert [p["subject"] for p in posts] == [
        "[HTX] Lỗi pipeline: tác vụ load thất bại / Pipeline failure: task load failed"
    ]
    assert len(mails) == 1
    delivered = _ledger_alerts(
        settings, "email_delivered, webhook_delivered, attempted_at is not null"
    )
    assert delivered == [(True, True, True)]


@contextlib.contextmanager
def _writer_holding(settings, let_go_on: str):
    """Another process holds the writer lock, with the ledger open, until the block ends or
    the lock's log says `let_go_on` (a waiting callback): it then lets go. Yields the
    messages it let go on."""
    import logging

    from etl.warehouse import ledger

    ledger.connect(settings.ledger).close()
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from pathlib import Path\n"
            "from etl.warehouse import ledger\n"
            "from etl.warehouse.locking import exclusive\n"
            "with exclusive(Path(sys.argv[1]) / 'writer.lock'):\n"
            "    con = ledger.connect(Path(sys.argv[2]))\n"
            "    print('holding', flush=True)\n"
            "    sys.stdin.readline()\n"
            "    con.close()\n",
            str(settings.state_dir),
            str(settings.ledger),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout.readline() == "holding\n"
    let_go: list[str] = []

    class LetGo(logging.Handler):
        def emit(self, record):
            if let_go_on in record.getMessage() and not let_go:
                let_go.append(record.getMessage())
                writer.stdin.write("done\n")
                writer.stdin.flush()

    waits = LetGo()
    logging.getLogger("etl.warehouse.locking").addHandler(waits)
    try:
        yield let_go
    finally:
        logging.getLogger("etl.warehouse.locking").removeHandler(waits)
        if not let_go:
            writer.stdin.write("done\n")
        writer.stdin.close()
        writer.wait()


def test_a_failure_alert_waits_for_the_writer_to_record_itself(settings, monkeypatch):
    """A `stage` task (outside the writer pool) can fail while a writer holds the ledger,
    or beside another failing batch: its callback waits a little for the writer lock and
    records the alert. The writer here, another process, lets go when the callback says it
    waits (the bound is a hang guard here, not a speed assertion)."""
    monkeypatch.setenv("HTX_STATE_DIR", str(settings.state_dir))
    monkeypatch.delenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    monkeypatch.setattr(notify, "LOCK_WAIT_SECONDS", 600)
    with _writer_holding(settings, let_go_on="waiting") as let_go:
        ti = SimpleNamespace(dag_id="htx_ingest", task_id="stage", run_id="r1", map_index=0)
        notify.FailureNotifier().notify({"ti": ti, "run_id": "r1", "exception": OSError("x")})
    assert let_go
    subjects = _ledger_alerts(settings, "subject")
    assert subjects == [
        ("[HTX] Lỗi pipeline: tác vụ stage[0] thất bại / Pipeline failure: task stage[0] failed",)
    ]


def test_a_failure_callback_never_waits_out_a_long_writer_its_alert_waits_in_the_outbox(
    settings, monkeypatch, webhook_receiver
):
    """Under the scheduler, the callback of a task that lost its heartbeat runs in the DAG
    processor, which kills it after 50 s (`dag_file_processor_timeout`) and deactivates the
    DAG file's DAGs, and Airflow calls it twice. A load holds the writer lock for minutes.
    The callback delivers the alert, waits for the lock `LOCK_WAIT_SECONDS` only, and
    leaves the alert in the outbox; a second call for the same failure sends it to no one
    again; the next `alert` task records it with its deliveries, and sends nothing twice.
    The writer here holds the lock until the callback has returned, however long it takes."""
    from etl.flow import tasks

    url, posts = webhook_receiver
    monkeypatch.setenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", url)
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    monkeypatch.setenv("HTX_STATE_DIR", str(settings.state_dir))
    ti = SimpleNamespace(dag_id="htx_ingest", task_id="stage", run_id="r1", map_index=2)
    context = {"ti": ti, "run_id": "r1"}  # the DAG processor's context: no exception
    monkeypatch.setattr(notify, "LOCK_WAIT_SECONDS", 0)  # the lock tried once: no wait here
    alert_id = alerts.failure_alert("htx_ingest", "stage", "r1", "", 2).alert_id
    held = settings.state_dir / "alerts_pending" / f"{alert_id}.json"
    with _writer_holding(settings, let_go_on="waiting for it to finish") as let_go:
        notify.FailureNotifier().notify(context)
        assert let_go == []  # it returned while the writer still held the lock
        assert sorted(held.parent.glob("*.json")) == [held]
        notify.FailureNotifier().notify(context)  # Airflow's second call
    assert len(posts) == 1
    assert "the task process was killed or stopped sending heartbeats" in posts[0]["text"]
    assert _ledger_alerts(settings, "alert_id") == []

    assert tasks.alert(settings, {"ti": SimpleNamespace(try_number=1, max_tries=2)}) == {
        "alerts": 0
    }
    assert _ledger_alerts(settings, "alert_id, webhook_delivered, attempted_at is not null") == [
        (alert_id, True, True)
    ]
    assert list(held.parent.iterdir()) == []
    assert len(posts) == 1


def test_a_failure_alert_reaches_the_published_warehouse_at_the_next_run(settings, monkeypatch):
    """A failure alert is recorded by its callback, outside any build: the next run, with
    nothing new, builds again so that analysts find it in `audit.quality_alert`; the run
    after that has nothing to do."""
    monkeypatch.setenv("HTX_STATE_DIR", str(settings.state_dir))
    monkeypatch.delenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    _landing_with_one_rejected(settings)
    run_steps(settings, "run-1")
    [(first,)] = query(settings, "select subject from audit.quality_alert")
    context = {
        "ti": SimpleNamespace(dag_id="htx_publish", task_id="exports", run_id="manual__x"),
        "run_id": "manual__x",
        "exception": RuntimeError("disk full"),
    }
    notify.FailureNotifier().notify(context)
    assert query(settings, "select subject from audit.quality_alert") == [(first,)]
    assert run_steps(settings, "run-2")["changed"] is True
    subjects = sorted(s for (s,) in query(settings, "select subject from audit.quality_alert"))
    assert subjects == sorted(
        [
            first,
            "[HTX] Lỗi pipeline: tác vụ exports thất bại / Pipeline failure: task exports failed",
        ]
    )
    assert run_steps(settings, "run-3")["changed"] is False


def test_a_failure_alert_left_in_the_outbox_reaches_the_published_warehouse_at_the_next_run(
    settings, monkeypatch
):
    """The next `load` takes an alert its callback left in the outbox (the writer was busy)
    into the ledger, and builds again so that analysts find it."""
    monkeypatch.setenv("HTX_STATE_DIR", str(settings.state_dir))
    monkeypatch.delenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    monkeypatch.setattr(notify, "LOCK_WAIT_SECONDS", 0)  # try the lock once
    _landing_with_one_rejected(settings)
    run_steps(settings, "run-1")
    ti = SimpleNamespace(dag_id="htx_publish", task_id="exports", run_id="manual__x")
    with _writer_holding(settings, let_go_on="waiting for it to finish") as let_go:
        notify.FailureNotifier().notify({"ti": ti, "run_id": "manual__x"})
    assert let_go == []
    assert len(list(alerts.outbox(settings.state_dir).glob("*.json"))) == 1
    assert run_steps(settings, "run-2")["changed"] is True
    assert list(alerts.outbox(settings.state_dir).glob("*.json")) == []
    subjects = [s for (s,) in query(settings, "select subject from audit.quality_alert")]
    assert (
        "[HTX] Lỗi pipeline: tác vụ exports thất bại / Pipeline failure: task exports failed"
        in (subjects)
    )


def test_exports_that_keep_failing_are_retried_without_building_for_their_alerts(
    settings, monkeypatch
):
    """While exports fail, a run with nothing new asks the publish run to retry them, and
    builds nothing for the failure alerts they raise; the first run after they succeed
    publishes those alerts."""
    from etl.flow import tasks

    monkeypatch.setenv("HTX_STATE_DIR", str(settings.state_dir))
    monkeypatch.delenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    _landing_with_one_rejected(settings)
    run_steps(settings, "run-1")
    write_exports = tasks._write_exports

    def failing(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(tasks, "_write_exports", failing)
    # run-2: a new file, published, whose exports fail; run-3: nothing new, they fail again.
    write_xlsx(
        settings.landing_dir / "665_2023.xlsx",
        {"ThongTin": info_rows(unit="665"), "HTX": [HTX_HEADER, htx_row(1, "6400000009")]},
    )
    for run in ("run-2", "run-3"):
        published = settings.warehouse.stat()
        with pytest.raises(OSError, match="disk full"):
            run_steps(settings, run)
        context = {
            "ti": SimpleNamespace(dag_id="htx_publish", task_id="exports", run_id=run),
            "run_id": run,
            "exception": OSError("disk full"),
        }
        notify.FailureNotifier().notify(context)
        if run == "run-3":  # nothing new: the exports alone, no build, no swap
            assert settings.warehouse.stat().st_ino == published.st_ino
    monkeypatch.setattr(tasks, "_write_exports", write_exports)
    assert run_steps(settings, "run-4")["changed"] is True  # the exports, at last
    assert run_steps(settings, "run-5")["changed"] is True  # the alerts published
    subjects = [s for (s,) in query(settings, "select subject from audit.quality_alert")]
    assert sum("Pipeline failure: task exports failed" in s for s in subjects) == 2
    assert run_steps(settings, "run-6")["changed"] is False


@pytest.mark.parametrize(
    "listed",
    [
        "lienminh@tinh.example, kinhte@huyen.example",
        "lienminh@tinh.example; kinhte@huyen.example",
        '["lienminh@tinh.example", "kinhte@huyen.example"]',
    ],
)
def test_recipients_are_a_list_however_the_variable_writes_it(monkeypatch, smtp_server, listed):
    port, mails = smtp_server
    _email_only(monkeypatch, port)
    monkeypatch.setenv("AIRFLOW_VAR_HTX_ALERT_EMAILS", listed)
    results = notify.deliver(alerts.Alert("a1", "warning", "s", "b"))
    assert results["email"].delivered is True
    [mail] = mails
    assert sorted(mail.rcpt_tos) == ["kinhte@huyen.example", "lienminh@tinh.example"]
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert "[" not in message["To"]


@pytest.mark.parametrize(
    "listed",
    [
        "lienminh@tinh.example, kinhte@huyen.example, lienminh@tinh.example",
        "LienMinh@Tinh.example; lienminh@tinh.example; kinhte@huyen.example",
        '"Liên minh HTX" <lienminh@tinh.example>, lienminh@tinh.example, kinhte@huyen.example',
    ],
)
def test_a_recipient_listed_twice_gets_the_alert_once(monkeypatch, smtp_server, listed):
    """The same address twice in `htx_alert_emails` (in another case, or once with its
    display name): one envelope recipient and one in To. Before, two: a server that does not
    drop the duplicate delivers the alert twice."""
    port, mails = smtp_server
    _email_only(monkeypatch, port)
    monkeypatch.setenv("AIRFLOW_VAR_HTX_ALERT_EMAILS", listed)
    assert notify.deliver(alerts.Alert("a1", "warning", "s", "b"))["email"].delivered is True
    [mail] = mails
    assert sorted(a.lower() for a in mail.rcpt_tos) == [
        "kinhte@huyen.example",
        "lienminh@tinh.example",
    ]
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert len(message["To"].addresses) == 2


KINH_TE = '"Phòng Kinh tế, huyện Đắk Mil" <kinhte@dakmil.example>'


@pytest.mark.parametrize(
    "listed",
    [
        f"{KINH_TE}; lienminh@tinh.example",
        f"{KINH_TE}, lienminh@tinh.example,",
        json.dumps([KINH_TE, "lienminh@tinh.example"], ensure_ascii=False),
        # A JSON list's item is one recipient: its display name's comma needs no quotes.
        json.dumps([KINH_TE.replace('"', ""), "lienminh@tinh.example"], ensure_ascii=False),
    ],
)
def test_a_quoted_display_name_with_a_comma_is_one_recipient(monkeypatch, smtp_server, listed):
    """A recipient's display name in quotes keeps its comma (as `getaddresses` reads it),
    written in the variable's text or in its JSON list. Before, every comma split: the
    name made two addresses, `"Phòng Kinh tế` and `huyện Đắk Mil" <kinhte@…>`, smtplib
    could not send to the first (UnicodeEncodeError), and the alert reached no one."""
    port, mails = smtp_server
    _email_only(monkeypatch, port)
    monkeypatch.setenv("AIRFLOW_VAR_HTX_ALERT_EMAILS", listed)
    assert notify.deliver(alerts.Alert("a1", "warning", "s", "b"))["email"].delivered is True
    [mail] = mails
    assert mail.rcpt_tos == ["kinhte@dakmil.example", "lienminh@tinh.example"]
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert [(a.display_name, a.addr_spec) for a in message["To"].addresses] == [
        ("Phòng Kinh tế, huyện Đắk Mil", "kinhte@dakmil.example"),
        ("", "lienminh@tinh.example"),
    ]


@pytest.mark.parametrize(
    "wrong",
    ["lienminh", "a@", "x y@z", '"Liên minh HTX" <lienminh>', "kinhtế@huyen.example", "a@b@c"],
)
def test_an_entry_that_is_no_e_mail_address_is_skipped_and_named_and_the_others_get_it(
    monkeypatch, smtp_server, wrong
):
    """An entry of `htx_alert_emails` that is no address the server can take (no domain, a
    space, a letter smtplib cannot send) is left out, named in the channel's error (recorded
    in `audit.quality_alert.email_error`), and not tried again; the others get the alert. An
    empty item (a trailing comma) is no entry. Before, it went to the server as written: a
    relay took `lienminh` for a local mailbox, another refused the whole message."""
    port, mails = smtp_server
    _email_only(monkeypatch, port)
    listed = f"lienminh@tinh.example, {wrong}; kinhte@huyen.example,"
    monkeypatch.setenv("AIRFLOW_VAR_HTX_ALERT_EMAILS", listed)
    result = notify.deliver(alerts.Alert("a1", "warning", "s", "b"))["email"]
    [mail] = mails
    assert mail.rcpt_tos == ["lienminh@tinh.example", "kinhte@huyen.example"]
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert [a.addr_spec for a in message["To"].addresses] == [
        "lienminh@tinh.example",
        "kinhte@huyen.example",
    ]
    assert result.delivered is False
    assert not result.retried  # the configuration's to fix: the others have it already
    assert f"not an e-mail address, skipped: {wrong!r}" in result.error
    assert "htx_alert_emails" in result.error


def test_recipients_that_are_all_no_e_mail_address_send_nothing_and_say_so(
    monkeypatch, smtp_server
):
    port, mails = smtp_server
    _email_only(monkeypatch, port)
    monkeypatch.setenv("AIRFLOW_VAR_HTX_ALERT_EMAILS", "lienminh, a@,")
    result = notify.deliver(alerts.Alert("a1", "warning", "s", "b"))["email"]
    assert mails == []
    assert (result.delivered, result.lasting) == (False, True)
    assert "no valid recipients" in result.error
    assert "'lienminh', 'a@'" in result.error


@pytest.mark.parametrize("missing", ["AIRFLOW_CONN_SMTP_DEFAULT", "AIRFLOW_VAR_HTX_ALERT_EMAILS"])
def test_email_needs_connection_and_recipients(monkeypatch, smtp_server, missing):
    port, mails = smtp_server
    for name, value in _channels_env(port, "http://unused").items():
        if name != missing and name != "AIRFLOW_CONN_HTX_ALERT_WEBHOOK":
            monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing, raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", raising=False)
    results = notify.deliver(alerts.Alert("a1", "warning", "s", "b"))
    assert mails == []
    if missing == "AIRFLOW_CONN_SMTP_DEFAULT":
        assert results["email"].delivered is None
    else:
        assert results["email"].delivered is False
        assert "htx_alert_emails" in results["email"].error


def test_an_smtp_server_that_does_not_answer_is_named_in_the_error(monkeypatch):
    """A wrong port in smtp_default: the log and `email_error` say which connection and
    which server refused, not only 'Connection refused'."""
    port = free_port()
    _email_only(monkeypatch, port)
    result = notify.deliver(alerts.Alert("a1", "warning", "s", "b"))["email"]
    assert result.delivered is False
    assert result.error.startswith(f"smtp_default 127.0.0.1:{port}: ConnectionRefusedError")


@pytest.fixture
def silent_smtp_server():
    """A server on loopback that accepts connections and never says a word, as a hung mail
    relay does; yields (port, the number of connections it took so far)."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    taken: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                taken.append(listener.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1], lambda: len(taken)
    finally:
        listener.close()
        for connection in taken:
            connection.close()


@pytest.mark.parametrize(("retry_limit", "connections"), [("", 3), ("&retry_limit=1", 6)])
def test_a_hung_smtp_server_costs_the_three_attempts_not_the_provider_s_retries_as_well(
    monkeypatch, silent_smtp_server, retry_limit, connections
):
    """The provider's SmtpHook retries a connection the server drops `retry_limit` (5) more
    times, each after its `timeout` (30 s), and `_attempt` tried that 3 times: a relay that
    accepts and hangs held the alert task 9 minutes per alert and try, publication waiting.
    Our attempts are the retries, unless the connection sets its own `retry_limit`."""
    port, taken = silent_smtp_server
    _email_only(monkeypatch, port)
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT",
        f"smtp://127.0.0.1:{port}?disable_ssl=true&disable_tls=true&timeout=1{retry_limit}",
    )
    result = notify.deliver(alerts.Alert("a1", "warning", "s", "b"))["email"]
    assert result.delivered is False
    assert result.error.startswith(f"smtp_default 127.0.0.1:{port}:")
    assert taken() == connections


def test_a_message_the_server_refuses_is_sent_three_times_not_eighteen(monkeypatch):
    """The provider also retries `sendmail` 5 times on any error, a permanent 554 too."""
    from aiosmtpd.controller import Controller

    tries = []

    class Refusing:
        async def handle_DATA(self, server, session, envelope):
            tries.append(envelope)
            return "554 5.7.1 Message refused"

    controller = Controller(Refusing(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        _email_only(monkeypatch, controller.port)
        result = notify.deliver(alerts.Alert("a1", "warning", "s", "b"))["email"]
    finally:
        controller.stop()
    assert result.delivered is False
    assert "554" in result.error
    assert len(tries) == notify.ATTEMPTS


@pytest.fixture
def picky_smtp_server():
    """A real SMTP server on loopback that refuses some recipients: `refuse` maps an address
    to the replies it gets, one per attempt (the last one repeats). Yields (port, received
    envelopes, refuse)."""
    from aiosmtpd.controller import Controller

    received, refuse = [], {}

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            replies = refuse.get(address) or ["250 OK"]
            reply = replies.pop(0) if len(replies) > 1 else replies[0]
            if reply.startswith("250"):
                envelope.rcpt_tos.append(address)
            return reply

        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, received, refuse
    finally:
        controller.stop()


def test_a_refused_recipient_is_recorded_as_not_delivered_and_never_sent_twice(
    monkeypatch, picky_smtp_server
):
    """smtplib sends to the recipients a server accepts and only returns those it refused:
    a mistyped address must not be recorded as delivered, and the retries must not send the
    alert again to those who have it."""
    port, mails, refuse = picky_smtp_server
    refuse["kinhte@huyen.example"] = ["550 5.1.1 No such user"]
    _email_only(monkeypatch, port)
    results = notify.deliver(alerts.Alert("a1", "warning", "s", "b"))
    assert [mail.rcpt_tos for mail in mails] == [["lienminh@tinh.example"]]
    assert results["email"].delivered is False
    assert "kinhte@huyen.example" in results["email"].error
    assert "550" in results["email"].error
    assert "1 of 2" in results["email"].error


def test_a_recipient_refused_for_a_while_gets_the_alert_on_a_retry_and_no_one_twice(
    monkeypatch, picky_smtp_server
):
    port, mails, refuse = picky_smtp_server
    refuse["kinhte@huyen.example"] = ["450 4.2.1 Mailbox busy, try later", "250 OK"]
    _email_only(monkeypatch, port)
    results = notify.deliver(alerts.Alert("a1", "warning", "s", "b"))
    assert [mail.rcpt_tos for mail in mails] == [
        ["lienminh@tinh.example"],
        ["kinhte@huyen.example"],
    ]
    assert results["email"] == notify.Delivery(True)


def test_a_second_failure_callback_sends_no_one_the_e_mail_again(
    settings, monkeypatch, picky_smtp_server
):
    """Airflow calls a failure callback twice for a task that lost its heartbeat. The first
    e-mail reached one recipient and the server refused the other (a failure for good): the
    second call must not send it again, and the first call's result stands. Before, only a
    channel delivered to all was skipped: the recipient who had the alert got it twice, and
    the outbox then said the e-mail was delivered."""
    port, mails, refuse = picky_smtp_server
    refuse["kinhte@huyen.example"] = ["550 5.1.1 No such user"]
    _email_only(monkeypatch, port)
    monkeypatch.setenv("HTX_STATE_DIR", str(settings.state_dir))
    ti = SimpleNamespace(dag_id="htx_ingest", task_id="load", run_id="r1")
    context = {"ti": ti, "run_id": "r1"}  # the DAG processor's context: no exception
    notify.FailureNotifier().notify(context)
    notify.FailureNotifier().notify(context)  # Airflow's second call
    assert [mail.rcpt_tos for mail in mails] == [["lienminh@tinh.example"]]
    [(delivered, error)] = _ledger_alerts(settings, "email_delivered, email_error")
    assert delivered is False
    assert "kinhte@huyen.example" in error
    alert_id = alerts.failure_alert("htx_ingest", "load", "r1", "").alert_id
    held = json.loads((settings.state_dir / "alerts_pending" / f"{alert_id}.json").read_text())
    assert held["results"]["email"]["delivered"] is False


def test_a_file_a_later_report_replaced_in_the_same_run_is_not_alerted_as_loaded(settings):
    """Its rows are not in the warehouse: its warnings need no one, and the clerk who sent
    the correction must not be told to check a file that no longer counts."""
    few = [HTX_HEADER, htx_row(1, "6400000001", **{"Số thành viên": 3})]
    write_xlsx(
        settings.landing_dir / "663_2023.xlsx",
        {"ThongTin": info_rows(prepared=dt.date(2024, 1, 10)), "HTX": few},
    )
    write_xlsx(
        settings.landing_dir / "663_2023_sua.xlsx",
        {
            "ThongTin": info_rows(prepared=dt.date(2024, 1, 12)),
            "HTX": [HTX_HEADER, htx_row(1, "6400000001")],
        },
    )
    run_steps(settings)
    assert sorted(query(settings, "select file_name, status from audit.file_ingestion")) == [
        ("663_2023.xlsx", "superseded"),
        ("663_2023_sua.xlsx", "loaded"),
    ]
    assert query(settings, "select subject, body from audit.quality_alert") == []


def test_a_channel_down_for_a_moment_gets_the_alert_at_the_task_s_retry_and_no_one_twice(
    settings, monkeypatch, smtp_server, webhook_receiver
):
    """The `alert` task has Airflow retries for a channel that is down for a moment: while
    the task has tries left, a failed channel waits for the next try, which sends on that
    channel only; the last try records the failure and the pipeline goes on."""
    from etl.flow import tasks

    smtp_port, mails = smtp_server
    url, posts = webhook_receiver
    monkeypatch.setattr(notify, "BACKOFF_SECONDS", 0)
    down = f"http://127.0.0.1:{free_port()}/alert"
    for name, value in _channels_env(smtp_port, down).items():
        monkeypatch.setenv(name, value)
    _loaded_with_one_rejected(settings)

    def tried(number: int) -> dict:
        return {"ti": SimpleNamespace(try_number=number, max_tries=2)}

    with pytest.raises(RuntimeError, match="webhook"):
        tasks.alert(settings, tried(1))
    monkeypatch.setenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", url)  # the server is back
    assert tasks.alert(settings, tried(2)) == {"alerts": 1}
    assert (len(mails), len(posts)) == (1, 1)
    assert tasks.alert(settings, tried(1)) == {"alerts": 0}  # nothing waits any more
    delivered = _ledger_alerts(
        settings, "email_delivered, webhook_delivered, attempted_at is not null"
    )
    assert delivered == [(True, True, True)]


def test_an_e_mail_some_recipients_received_waits_for_no_retry_of_the_task(
    settings, monkeypatch, picky_smtp_server
):
    from etl.flow import tasks

    port, mails, refuse = picky_smtp_server
    refuse["kinhte@huyen.example"] = ["550 5.1.1 No such user"]
    _email_only(monkeypatch, port)
    _loaded_with_one_rejected(settings)
    ti = SimpleNamespace(try_number=1, max_tries=2)
    assert tasks.alert(settings, {"ti": ti}) == {"alerts": 1}  # recorded, not tried again
    assert tasks.alert(settings, {"ti": ti}) == {"alerts": 0}
    assert [mail.rcpt_tos for mail in mails] == [["lienminh@tinh.example"]]


def test_an_e_mail_some_recipients_received_is_not_sent_again_at_the_retry_for_the_webhook(
    settings, monkeypatch, picky_smtp_server, webhook_receiver
):
    """The webhook down for a moment holds the alert for the task's next try; that try posts
    the webhook only: those the e-mail reached must not get it a second time."""
    from etl.flow import tasks

    port, mails, refuse = picky_smtp_server
    refuse["kinhte@huyen.example"] = ["550 5.1.1 No such user"]
    url, posts = webhook_receiver
    monkeypatch.setattr(notify, "BACKOFF_SECONDS", 0)
    for name, value in _channels_env(port, f"http://127.0.0.1:{free_port()}/alert").items():
        monkeypatch.setenv(name, value)
    _loaded_with_one_rejected(settings)
    with pytest.raises(RuntimeError, match="webhook"):
        tasks.alert(settings, {"ti": SimpleNamespace(try_number=1, max_tries=2)})
    monkeypatch.setenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", url)  # the server is back
    assert tasks.alert(settings, {"ti": SimpleNamespace(try_number=2, max_tries=2)}) == {
        "alerts": 1
    }
    assert [mail.rcpt_tos for mail in mails] == [["lienminh@tinh.example"]]
    assert len(posts) == 1
    [(email, error, webhook, attempted)] = _ledger_alerts(
        settings, "email_delivered, email_error, webhook_delivered, attempted_at is not null"
    )
    assert (email, webhook, attempted) == (False, True, True)
    assert "kinhte@huyen.example" in error


def test_an_e_mail_without_recipients_waits_for_no_retry_of_the_task(
    settings, monkeypatch, smtp_server, webhook_receiver
):
    """No `htx_alert_emails` is the configuration, not a server down: the task's retries
    cannot help, and would hold the publish back in every run until someone sets it."""
    from etl.flow import tasks

    smtp_port, mails = smtp_server
    url, posts = webhook_receiver
    for name, value in _channels_env(smtp_port, url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AIRFLOW_VAR_HTX_ALERT_EMAILS")
    _loaded_with_one_rejected(settings)
    ti = SimpleNamespace(try_number=1, max_tries=2)
    assert tasks.alert(settings, {"ti": ti}) == {"alerts": 1}  # recorded on its first try
    assert (len(mails), len(posts)) == (0, 1)
    [(email, error, webhook, attempted)] = _ledger_alerts(
        settings, "email_delivered, email_error, webhook_delivered, attempted_at is not null"
    )
    assert (email, webhook, attempted) == (False, True, True)
    assert "htx_alert_emails" in error


def test_each_failed_instance_of_a_mapped_task_is_its_own_alert(
    settings, monkeypatch, webhook_receiver
):
    """Two `stage` batches that fail in one run send two alerts: each names its map index,
    and `audit.quality_alert` holds both, each with its own error and delivery."""
    url, posts = webhook_receiver
    monkeypatch.setenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", url)
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    monkeypatch.setenv("HTX_STATE_DIR", str(settings.state_dir))
    for index, error in ((0, "disk full"), (1, "corrupt parquet")):
        ti = SimpleNamespace(dag_id="htx_ingest", task_id="stage", run_id="r1", map_index=index)
        notify.FailureNotifier().notify({"ti": ti, "run_id": "r1", "exception": OSError(error)})
    assert [p["subject"] for p in posts] == [
        "[HTX] Lỗi pipeline: tác vụ stage[0] thất bại / Pipeline failure: task stage[0] failed",
        "[HTX] Lỗi pipeline: tác vụ stage[1] thất bại / Pipeline failure: task stage[1] failed",
    ]
    rows = _ledger_alerts(settings, "subject, body, webhook_delivered", "subject")
    assert [(subject, delivered) for subject, _, delivered in rows] == [
        (posts[0]["subject"], True),
        (posts[1]["subject"], True),
    ]
    assert "disk full" in rows[0][1]
    assert "corrupt parquet" in rows[1][1]


def test_a_feedback_workbook_over_the_mail_s_limit_is_named_in_the_mail(
    monkeypatch, smtp_server, tmp_path
):
    """The e-mail attaches the workbooks that fit in MAX_ATTACHMENT_BYTES; the others are
    named with their paths, so no one takes the attachments for all there is."""
    port, mails = smtp_server
    _email_only(monkeypatch, port)
    monkeypatch.setattr(notify, "MAX_ATTACHMENT_BYTES", 1000)
    fits, too_big = tmp_path / "663_2023_loi_a.xlsx", tmp_path / "664_2023_loi_b.xlsx"
    fits.write_bytes(b"x" * 600)
    too_big.write_bytes(b"x" * 500)
    alert = alerts.Alert("a1", "error", "s", "b", attachments=(str(fits), str(too_big)))
    assert notify.deliver(alert)["email"].delivered is True
    [mail] = mails
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert [part.get_filename() for part in message.iter_attachments()] == [fits.name]
    html_body = message.get_body(("html",)).get_content()
    assert str(too_big) in html_body
    assert str(fits) not in html_body
    assert html_body.index("không đính kèm") < html_body.index("not attached")


def test_the_subject_names_the_files_of_a_run_of_a_few(monkeypatch):
    """One inbox may take every district's alerts: the subject names the files when there
    are up to three (before: counts only), and how many more past three."""

    def outcome(n: int) -> dict:
        return {
            "file_id": n,
            "file_name": f"66{n}_2023.xlsx",
            "unit_code": f"66{n}",
            "report_year": 2023,
            "status": "quarantined",
            "reason": "r",
            "findings": [{"severity": "error", "rule": "x", "message": "m"}],
        }

    three = alerts.compose([outcome(n) for n in (1, 2, 3)], "run-1", "/srv")
    assert three.subject.endswith(
        " / 3 file(s) quarantined, 0 with warnings: 661_2023.xlsx, 662_2023.xlsx, 663_2023.xlsx"
    )
    five = alerts.compose([outcome(n) for n in range(1, 6)], "run-1", "/srv")
    assert five.subject.endswith(
        ": 661_2023.xlsx, 662_2023.xlsx, 663_2023.xlsx (+2 tệp khác / more)"
    )


def test_the_e_mail_says_what_its_attached_feedback_workbooks_are(
    monkeypatch, smtp_server, tmp_path
):
    """The body named the quality report's page, a path on the server a clerk cannot open,
    and never the workbooks attached, in which every failing cell is marked. It names
    them, and says what they hold, Vietnamese first."""
    port, mails = smtp_server
    _email_only(monkeypatch, port)
    book = tmp_path / "663_2023_loi_a.xlsx"
    book.write_bytes(b"x" * 100)
    alert = alerts.Alert("a1", "error", "s", "b", attachments=(str(book),))
    assert notify.deliver(alert)["email"].delivered is True
    [mail] = mails
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    vi = "Tệp phản hồi đính kèm: mỗi ô có lỗi hay cảnh báo được tô màu và ghi chú ngay trong"
    assert vi in text
    assert "Feedback workbooks attached: every cell with an error or a warning" in text
    assert text.index(vi) < text.index("Feedback workbooks attached")
    assert f"- {book.name}" in text
    assert str(book) not in text


def test_the_e_mail_of_hundreds_of_rejected_files_keeps_its_start_and_says_what_it_leaves_out(
    monkeypatch, smtp_server
):
    """400 rejected files made a mail of hundreds of kilobytes, which Gmail clips ("[Message
    clipped]") at 102 KB, the quality report's line with it. As the webhook's text, the mail
    keeps its first lines up to 30,000 characters, says how many it leaves out and where
    the whole alert is, and ends with the quality report."""
    port, mails = smtp_server
    _email_only(monkeypatch, port)
    finding = {"severity": "error", "rule": "coop_code_unique", "message": "Trùng mã / dup"}
    outcomes = [
        {
            "file_id": n,
            "file_name": f"664_2023_loi_{n}.xlsx",
            "unit_code": "664",
            "report_year": 2023,
            "status": "quarantined",
            "reason": "Tệp bị từ chối: có lỗi ở các ô / File rejected: cells in error",
            "findings": [{**finding, "excel_row": 5}],
        }
        for n in range(1, 401)
    ]
    alert = alerts.compose(outcomes, "run-1", "/srv/exports")
    assert len(alert.body) > 90_000
    assert notify.deliver(alert)["email"].delivered is True
    [mail] = mails
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert len(text) <= 30_000
    assert text.startswith(alert.body[:1000])
    shown = text.count("- Tệp / File: ")
    assert 0 < shown < 400
    whole = f"(the whole alert: audit.quality_alert, alert_id {alert.alert_id})"
    assert f"more lines not shown here {whole}" in text
    assert text.rstrip().endswith(
        "Báo cáo chất lượng / Quality report: /srv/exports/quality_report.html"
    )
    html_body = message.get_body(("html",)).get_content()
    assert html_body.count("- Tệp / File: ") == shown
    assert "more lines not shown here" in html_body


@pytest.mark.parametrize(
    ("extras", "ssl", "starttls"),
    [
        ("disable_ssl=false&disable_tls=false", True, True),
        ("disable_ssl=False&disable_tls=0", True, True),
        ("disable_ssl=true&disable_tls=true", False, False),
        ("", True, True),
    ],
)
def test_ssl_and_tls_extras_written_in_a_uri_mean_what_they_say(monkeypatch, extras, ssl, starttls):
    """`?disable_ssl=false` arrives as the text 'false', which the provider took as true:
    the mail went in plain text though its author asked for SSL."""
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", f"smtp://127.0.0.1:2525?{extras}")
    hook = notify.RefusalsSmtpHook(smtp_conn_id="smtp_default")
    hook.smtp_connection = hook.get_connection("smtp_default")
    assert (hook.use_ssl, hook.smtp_starttls) == (ssl, starttls)


def test_an_outbox_file_that_is_no_alert_stops_no_load(settings):
    """A file in the outbox that is JSON but no alert (a half-edited file, another tool's):
    `record_held` records the alerts beside it, leaves it for a person, and never fails
    the load or alert task that calls it."""
    from etl.warehouse import ledger

    alert = alerts.failure_alert("htx_ingest", "stage", "r1", "boom", 0)
    alerts.hold(settings.state_dir, alert)
    odd = alerts.outbox(settings.state_dir) / "odd.json"
    odd.write_text('{"alert": {"alert_id": "x"}}')
    con = ledger.connect(settings.ledger)
    try:
        assert alerts.record_held(con, settings.state_dir) == [alert.alert_id]
    finally:
        con.close()
    assert list(alerts.outbox(settings.state_dir).iterdir()) == [odd]
    assert _ledger_alerts(settings, "alert_id") == [(alert.alert_id,)]


# -- a failed run's own alert (the DAG failure callback) -------------------------------------


def _run_failed(
    monkeypatch,
    states: dict[str, str],
    task_ids=("discover", "stage", "load"),
    started: dt.datetime | None = None,
):
    """Call the DAG failure callback as Airflow's DAG processor does for run `r1` of
    htx_ingest (started a day ago unless `started`), the run's task states as Airflow's
    API gives them (`states`)."""
    monkeypatch.setattr(notify, "_task_states", lambda dag_id, run_id: dict(states))
    started = started or dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    context = {
        "dag": SimpleNamespace(dag_id="htx_ingest", task_ids=list(task_ids)),
        "run_id": "r1",
        "reason": "task_failure",
        "dag_run": SimpleNamespace(run_id="r1", start_date=started, clear_number=0),
    }
    notify.RunFailureNotifier().notify(context)


def _task_failed(task_id: str, map_index: int = -1, error: str = "disk full") -> None:
    ti = SimpleNamespace(dag_id="htx_ingest", task_id=task_id, run_id="r1", map_index=map_index)
    notify.FailureNotifier().notify({"ti": ti, "run_id": "r1", "exception": OSError(error)})


@pytest.fixture
def webhook_only(settings, monkeypatch, webhook_receiver):
    url, posts = webhook_receiver
    monkeypatch.setenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", url)
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    monkeypatch.setenv("HTX_STATE_DIR", str(settings.state_dir))
    return posts


def test_a_run_failed_by_a_task_that_alerted_sends_no_second_alert(
    settings, monkeypatch, webhook_only
):
    """An ordinary failure: the task's callback sent its alert before Airflow marked the
    task failed, so the run's failure callback finds it in the outbox and says nothing."""
    _task_failed("load")
    _run_failed(monkeypatch, {"discover": "success", "stage": "success", "load": "failed"})
    assert [p["subject"] for p in webhook_only] == [
        "[HTX] Lỗi pipeline: tác vụ load thất bại / Pipeline failure: task load failed"
    ]


def test_a_task_alert_a_writer_took_into_the_ledger_still_counts(
    settings, monkeypatch, webhook_only
):
    """A `load` or `alert` task of another run may take the alert from the outbox into the
    ledger before the run's callback runs: the ledger tells it then."""
    from etl.warehouse import ledger

    _task_failed("stage", 1)
    con = ledger.connect(settings.ledger)
    try:
        assert len(alerts.record_held(con, settings.state_dir)) == 1  # outbox emptied
    finally:
        con.close()
    assert alerts.held_alerts(settings.state_dir) == []
    _run_failed(monkeypatch, {"discover": "success", "stage_0": "success", "stage_1": "failed"})
    assert len(webhook_only) == 1


def test_a_killed_task_that_sent_no_alert_gets_the_run_s_alert_once(
    settings, monkeypatch, webhook_only
):
    """A task process killed with SIGKILL (the OOM killer) gets no task callback from
    Airflow 3.3: the run's failure callback sends one alert naming the run and the task;
    the batch that failed ordinarily and alerted is named among the failed, not again."""
    _task_failed("stage", 0)
    states = {"discover": "success", "stage_0": "failed", "stage_1": "failed"}
    states["load"] = "upstream_failed"
    _run_failed(monkeypatch, states)
    _run_failed(monkeypatch, states)  # called again: sent to no one twice
    subjects = [p["subject"] for p in webhook_only]
    assert subjects == [
        "[HTX] Lỗi pipeline: tác vụ stage[0] thất bại / Pipeline failure: task stage[0] failed",
        "[HTX] Lỗi pipeline: lần chạy htx_ingest thất bại (stage[1]) / "
        "Pipeline failure: run of htx_ingest failed (stage[1])",
    ]
    body = webhook_only[1]["body"]
    assert "Lần chạy / Run: r1" in body
    assert "Tác vụ thất bại / Failed tasks: stage[0], stage[1]" in body
    assert "No alert was sent for: stage[1]" in body
    assert "its process was likely killed (SIGKILL, the OOM killer: its log then says" in body
    # Recorded in the ledger like a task's alert, with its delivery.
    rows = _ledger_alerts(settings, "subject, run_id, webhook_delivered", "subject")
    assert rows[0] == (subjects[1], "r1", True)


def test_a_task_alert_of_an_earlier_clearing_does_not_tell_the_run_s_new_failure(
    settings, monkeypatch, webhook_only
):
    """The run was cleared and run again (its start date is later than the alert, in the
    outbox and the ledger): the task's earlier failure alert does not stand for its new,
    silent one."""
    _task_failed("load")
    states = {"discover": "success", "stage": "success", "load": "failed"}
    _run_failed(monkeypatch, states, started=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    assert len(webhook_only) == 2
    assert "No alert was sent for: load" in webhook_only[1]["body"]


def test_a_run_failure_whose_ledger_a_writer_holds_is_told_rather_than_lost(
    settings, monkeypatch, webhook_only
):
    """The outbox lacks the task's alert and a writer holds the ledger: the callback
    waits `LOCK_WAIT_SECONDS` only (it runs in the DAG processor) and sends the run's
    alert: told twice at worst, never untold."""
    monkeypatch.setattr(notify, "LOCK_WAIT_SECONDS", 0)  # the lock tried once: no wait here
    with _writer_holding(settings, let_go_on="waiting for it to finish") as let_go:
        _run_failed(monkeypatch, {"discover": "failed"})
        assert let_go == []
    assert [p["subject"] for p in webhook_only] == [
        "[HTX] Lỗi pipeline: lần chạy htx_ingest thất bại (discover) / "
        "Pipeline failure: run of htx_ingest failed (discover)"
    ]


def test_failed_task_states_are_named_as_their_alerts_name_them():
    states = {
        "stage_0": "success",
        "stage_12": "failed",
        "load_2": "failed",  # a task whose id ends in _2, not a mapped instance
        "load": "upstream_failed",
        "exports": "failed",
    }
    assert notify.failed_labels(states, {"stage", "load", "load_2", "exports"}) == [
        "exports",
        "load_2",
        "stage[12]",
    ]


def test_a_run_failure_s_alert_says_what_most_likely_failed_it():
    """A run that passed its time limit, or failed with no failed task, is not said to have
    had a task killed with SIGKILL."""
    timed_out = alerts.run_failure_alert("htx_ingest", "r1", ["load"], ["load"], "timed_out")
    assert "passed its time limit (dagrun_timeout)" in timed_out.body
    assert "SIGKILL" not in timed_out.body
    none = alerts.run_failure_alert("htx_ingest", "r1", [], [], "task_failure")
    assert "No task failed: Airflow marked the run failed (task_failure)." in none.body
    assert "SIGKILL" not in none.body


def test_the_email_carries_the_alert_as_text_beside_its_html(monkeypatch, smtp_server, tmp_path):
    """The alert's text travels as a text/plain part beside the HTML (multipart/alternative),
    both quoted-printable: a mail client without HTML, a filter that reads the text, or a
    search of the mail as stored finds the file names as written. Before, the only text was
    base64-encoded HTML, where `664_2023_loi.xlsx` could not be found without decoding."""
    port, mails = smtp_server
    _email_only(monkeypatch, port)
    feedback = tmp_path / "664_2023_loi_loi_0a1b2c3d.xlsx"
    feedback.write_bytes(b"PK fake workbook")
    body = (
        "quarantined 664_2023_loi.xlsx: Tệp bị từ chối: 1 ô vi phạm quy tắc bắt buộc "
        "(rating_matches_score ×1). / File rejected."
    )
    alert = alerts.Alert(
        "a1", "error", "[HTX] 1 tệp bị từ chối", body, attachments=(str(feedback),)
    )
    assert notify.deliver(alert)["email"].delivered is True
    [mail] = mails
    assert b"664_2023_loi.xlsx" in mail.content  # as stored: no decoding needed
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    plain = message.get_body(("plain",)).get_content().replace("\r\n", "\n").strip()
    assert plain.startswith(body + "\n\nTệp phản hồi đính kèm: ")
    assert plain.endswith(f"\n- {feedback.name}")
    assert "664_2023_loi.xlsx" in message.get_body(("html",)).get_content()
    kinds = [part.get_content_type() for part in message.walk()]
    assert kinds == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "application/octet-stream",
    ]
    texts = [p for p in message.walk() if p.get_content_maintype() == "text"]
    assert {p["Content-Transfer-Encoding"] for p in texts} == {"quoted-printable"}
    [attached] = message.iter_attachments()
    assert attached.get_filename() == feedback.name


def test_the_email_is_sent_from_the_address_the_deployment_names(monkeypatch, smtp_server):
    """From: the connection's `from_email`, else Airflow's `[email] from_email`, else the
    SMTP login when it is an address (an authenticated relay takes mail from its login
    only), else htx-warehouse@localhost. Before, only `from_email` counted: a relay with
    a login was sent mail from htx-warehouse@localhost, which it refuses."""
    port, mails = smtp_server
    _email_only(monkeypatch, port)
    plain = f"smtp://127.0.0.1:{port}?disable_ssl=true&disable_tls=true"

    def sender_of(uri: str) -> str:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", uri)
        mails.clear()
        assert notify.deliver(alerts.Alert("a1", "warning", "s", "b"))["email"].delivered
        [mail] = mails
        return mail.mail_from

    assert sender_of(plain) == notify.DEFAULT_SENDER
    monkeypatch.setenv("AIRFLOW__EMAIL__FROM_EMAIL", "canhbao@tinh.example")
    assert sender_of(plain) == "canhbao@tinh.example"
    assert sender_of(plain + "&from_email=htx%40tinh.example") == "htx@tinh.example"
    monkeypatch.delenv("AIRFLOW__EMAIL__FROM_EMAIL")
    # A login (the loopback server asks for none): the sender alone.
    assert notify.email_sender(SimpleNamespace(extra_dejson={}, login="lienminh@tinh.example")) == (
        "lienminh@tinh.example"
    )
    assert notify.email_sender(SimpleNamespace(extra_dejson={}, login="htxuser")) == (
        notify.DEFAULT_SENDER
    )


def test_vietnamese_display_names_leave_the_addresses_readable(monkeypatch, smtp_server):
    """A sender or recipients written with a Vietnamese display name (`Liên minh HTX Đắk
    Nông <htx@tinh.example>`) get each name encoded on its own (RFC 2047), the addresses as
    written. Before, the provider's From and To were each one encoded word, addresses and
    all: a mail client found no address to reply to nor the other recipients, and a relay
    that checks From refuses such mail."""
    from urllib.parse import quote

    port, mails = smtp_server
    _email_only(monkeypatch, port)
    sender = quote("Liên minh HTX Đắk Nông <htx@tinh.example>")
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT",
        f"smtp://127.0.0.1:{port}?disable_ssl=true&disable_tls=true&from_email={sender}",
    )
    monkeypatch.setenv(
        "AIRFLOW_VAR_HTX_ALERT_EMAILS",
        "Nguyễn Văn An <an@huyen.example>; lienminh@tinh.example",
    )
    assert notify.deliver(alerts.Alert("a1", "error", "[HTX] 1 tệp bị từ chối", "b"))["email"]
    [mail] = mails
    assert mail.mail_from == "htx@tinh.example"
    assert mail.rcpt_tos == ["an@huyen.example", "lienminh@tinh.example"]
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    sent = {
        name: [(a.display_name, a.addr_spec) for a in message[name].addresses]
        for name in ("From", "To")
    }
    assert sent == {
        "From": [("Liên minh HTX Đắk Nông", "htx@tinh.example")],
        "To": [("Nguyễn Văn An", "an@huyen.example"), ("", "lienminh@tinh.example")],
    }
    assert b"<htx@tinh.example>" in mail.content  # as stored: the address needs no decoding


def test_the_email_has_a_message_id_of_the_sender_s_domain_and_a_date(monkeypatch, smtp_server):
    """Each alert e-mail has its own Message-ID, made with the sender's domain (no look-up
    of this host's name), and a Date: Gmail's servers refuse or flag as spam mail without a
    Message-ID that no relay on the way gave one. Before, the mail had none."""
    from urllib.parse import quote

    port, mails = smtp_server
    _email_only(monkeypatch, port)
    plain = f"smtp://127.0.0.1:{port}?disable_ssl=true&disable_tls=true"
    sender = quote("Liên minh HTX <canhbao@tinh.example>")
    for uri in (f"{plain}&from_email={sender}", f"{plain}&from_email={sender}", plain):
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", uri)
        assert notify.deliver(alerts.Alert("a1", "warning", "s", "b"))["email"].delivered
    messages = [email.message_from_bytes(m.content, policy=email.policy.default) for m in mails]
    ids = [m["Message-ID"] for m in messages]
    assert [i.split("@")[-1] for i in ids] == ["tinh.example>", "tinh.example>", "localhost>"]
    assert all(i.startswith("<") for i in ids)
    assert len(set(ids)) == 3
    assert all(m["Date"].datetime.tzinfo is not None for m in messages)
