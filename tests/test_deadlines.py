"""Reporting deadlines: `marts.reporting_status` and the daily check that alerts once per
unit and report year. The clock moves with the logical date, never with `sleep`."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from conftest import HTX_HEADER, htx_env, htx_row, info_rows, query, run_steps, write_xlsx

from etl.config import labels_vi
from etl.flow import tasks
from etl.quality import alerts, deadlines
from etl.warehouse import ledger

UTC = dt.UTC
DISTRICTS = [str(c) for c in range(660, 668)]


def _at(year: int, month: int, day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=UTC)


def _ledger(settings, sql: str, params: list | None = None) -> list[tuple]:
    con = ledger.connect(settings.ledger)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _deadline_alerts(settings) -> list[tuple]:
    return _ledger(
        settings,
        "select alert_id, severity, subject, body from audit.quality_alert "
        "where alert_id like 'deadline-%' order by alert_id",
    )


def _landing_663_loaded_664_rejected(settings) -> None:
    good = [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "6400000002")]
    write_xlsx(settings.landing_dir / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": good})
    bad = [HTX_HEADER, htx_row(1, "6400000001", **{"Xếp loại": "Tốt", "Điểm": 40})]
    bad.append(htx_row(2, "6400000001"))
    write_xlsx(
        settings.landing_dir / "664_2023_loi.xlsx",
        {"ThongTin": info_rows(unit="664"), "HTX": bad},
    )


def _arrived(settings, file_name: str, when: dt.datetime) -> None:
    """Pretend the file first arrived at `when` (the ledger's sighting)."""
    _ledger(
        settings,
        "update audit.file_sighting set first_seen = ? where sha256 = "
        "(select sha256 from audit.file_ingestion where file_name = ?)",
        [when, file_name],
    )


def test_the_config_defaults_follow_the_contract():
    config = deadlines.load_config()
    assert config.window_days == 60
    assert config.due_on(2025) == dt.date(2026, 1, 20)
    rows = config.rows(dt.date(2026, 3, 1))
    assert {(u, y) for u, y, _ in rows if y <= 2024} == {
        (u, y) for u in DISTRICTS for y in range(2021, 2025)
    }
    assert [(u, y) for u, y, _ in rows if y >= 2025] == [("68", 2025), ("68", 2026)]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[[required]]\nunits = "68"\nfrom_year = 2025\n', "units"),
        ('[[required]]\nunits = ["68"]\nform_year = 2025\n', "from_year"),
        ("[due]\nmonth = 2\nday = 30\n", "day is out of range"),
        ("[due\nmonth = 1\n", "Expected"),
        (
            '[[required]]\nunits = ["68"]\nfrom_year = 2026\nto_year = 2025\n',
            "to_year 2025 is before from_year 2026",
        ),
        ("[alert]\nwindow_days = -5\n", "window_days must be 0 or more"),
    ],
)
def test_a_malformed_reporting_config_is_an_error_naming_the_file(tmp_path, text, said):
    """A wrong config/reporting.toml stops the check with the file and what is wrong. Before,
    `units = "68"` (a string, not a list) silently required units "6" and "8"."""
    path = tmp_path / "reporting.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=said) as raised:
        deadlines.load_config(path)
    assert str(path) in str(raised.value)


def test_the_judging_date_is_the_logical_date_in_ho_chi_minh_time(monkeypatch):
    assert deadlines.judging_date(_at(2026, 1, 20, 18)) == dt.date(2026, 1, 21)
    assert deadlines.judging_date(_at(2026, 1, 20, 16)) == dt.date(2026, 1, 20)
    monkeypatch.setenv("AIRFLOW_CTX_LOGICAL_DATE", "2026-01-20T17:30:00+00:00")
    assert deadlines.judging_date() == dt.date(2026, 1, 21)


def test_a_missing_unit_alerts_exactly_once(settings):
    first = tasks.check_deadlines(settings, _at(2026, 2, 1), "day-1")
    # 2025 (due 20/01/2026) is in the window; the districts' years (due 2025 and before) not
    assert first["alerts"] == ["deadline-68-2025"]
    assert first["statuses"] == {"missing": 33, "due": 1}
    again = tasks.check_deadlines(settings, _at(2026, 2, 1, 12), "day-1-again")
    assert again["alerts"] == []
    later = tasks.check_deadlines(settings, _at(2026, 2, 2), "day-2")
    assert later["alerts"] == []
    [(alert_id, severity, subject, body)] = _deadline_alerts(settings)
    assert (alert_id, severity) == ("deadline-68-2025", "error")
    assert "Quá hạn báo cáo / Report overdue" in subject
    assert "đơn vị / unit 68 Tỉnh Lâm Đồng, năm / year 2025 (hạn / due 20/01/2026)" in subject
    assert body.index("chưa nhận được báo cáo") < body.index("no report received")


def test_before_the_due_date_a_report_is_due_and_nothing_alerts(settings):
    result = tasks.check_deadlines(settings, _at(2026, 1, 20, 16), "on-the-day")
    assert result["judged_on"] == "2026-01-20"
    assert result["alerts"] == []
    assert result["statuses"]["due"] == 2  # 2025 and 2026 of province 68


def test_years_outside_the_window_do_not_alert(settings):
    # due 20/01/2026; 60 days later is 21/03/2026
    assert tasks.check_deadlines(settings, _at(2026, 3, 21), "in")["alerts"] == ["deadline-68-2025"]
    _ledger(settings, "delete from audit.quality_alert")
    assert tasks.check_deadlines(settings, _at(2026, 3, 22), "out")["alerts"] == []
    assert tasks.check_deadlines(settings, _at(2026, 12, 2), "today")["alerts"] == []
    assert _deadline_alerts(settings) == []


def test_late_is_no_alert_and_quarantined_only_alerts(settings):
    _landing_663_loaded_664_rejected(settings)
    run_steps(settings)
    judged = _at(2024, 2, 1)  # 2023's reports were due on 20/01/2024
    _arrived(settings, "663_2023.xlsx", _at(2024, 1, 25, 3))
    _arrived(settings, "664_2023_loi.xlsx", _at(2024, 1, 10, 3))
    result = tasks.check_deadlines(settings, judged, "check")
    con = ledger.connect(settings.ledger)
    try:
        rows = {
            r["unit_code"]: r
            for r in deadlines.statuses(con, dt.date(2024, 2, 1))
            if r["report_year"] == 2023
        }
    finally:
        con.close()
    assert rows["663"]["status"] == "late"
    assert rows["663"]["arrived_on"] == dt.date(2024, 1, 25)
    assert rows["663"]["loaded_file_name"] == "663_2023.xlsx"
    assert rows["664"]["status"] == "quarantined"
    assert rows["664"]["loaded_file_id"] is None
    assert rows["660"]["status"] == "missing"
    # 663 is late: no alert; 664 has only a rejected file: alert; the others are missing
    expected = [f"deadline-{u}-2023" for u in DISTRICTS if u != "663"]
    assert sorted(result["alerts"]) == sorted(expected)
    [body] = [a[3] for a in _deadline_alerts(settings) if a[0] == "deadline-664-2023"]
    assert "chỉ có tệp bị từ chối" in body
    assert "only rejected files" in body
    assert tasks.check_deadlines(settings, judged, "check-again")["alerts"] == []


def test_received_on_or_before_the_due_date_by_first_arrival(settings):
    _landing_663_loaded_664_rejected(settings)
    run_steps(settings)
    _arrived(settings, "663_2023.xlsx", _at(2024, 1, 20, 16))  # 23:00 on the due date, HCM
    con = ledger.connect(settings.ledger)
    try:
        [row] = [
            r
            for r in deadlines.statuses(con, dt.date(2024, 6, 1))
            if (r["unit_code"], r["report_year"]) == ("663", 2023)
        ]
    finally:
        con.close()
    assert (row["status"], row["arrived_on"]) == ("received", dt.date(2024, 1, 20))


def test_a_file_that_arrived_after_the_judged_date_does_not_count(settings):
    """Judged at an earlier date (a backfill, a re-run of the daily DAG), a report is what
    had arrived by then: the same date gives the same statuses and alerts, whatever came
    later."""
    _landing_663_loaded_664_rejected(settings)
    run_steps(settings)
    _arrived(settings, "663_2023.xlsx", _at(2024, 3, 5, 3))
    _arrived(settings, "664_2023_loi.xlsx", _at(2024, 3, 5, 3))
    con = ledger.connect(settings.ledger)
    try:
        before = {
            r["unit_code"]: (r["status"], r["arrived_on"], r["loaded_file_id"])
            for r in deadlines.statuses(con, dt.date(2024, 2, 1))
            if r["report_year"] == 2023
        }
        after = {
            r["unit_code"]: (r["status"], r["arrived_on"])
            for r in deadlines.statuses(con, dt.date(2024, 3, 5))
            if r["report_year"] == 2023
        }
    finally:
        con.close()
    assert before["663"] == ("missing", None, None)
    assert before["664"] == ("missing", None, None)
    assert after["663"] == ("late", dt.date(2024, 3, 5))
    assert after["664"] == ("quarantined", None)
    # The alerts of a backfill are what is still to act on: 663's report, overdue at the
    # judged date, has loaded since, so nobody is told it is missing; 664 has still only a
    # rejected file.
    result = tasks.check_deadlines(settings, _at(2024, 2, 1), "backfill")
    assert sorted(result["alerts"]) == sorted(f"deadline-{u}-2023" for u in DISTRICTS if u != "663")
    assert result["arrived_since"] == ["deadline-663-2023"]
    assert "deadline-663-2023" not in {a[0] for a in _deadline_alerts(settings)}


def test_a_resubmission_after_the_due_date_leaves_an_on_time_report_received(settings):
    """663's 2023 report arrived on time and its resubmission (a later `Ngày lập`) after the
    due date: received by its first arrival, the file named the resubmission that replaced
    it. Province 68's 2025 report, on time, is received the same way."""
    rows = [HTX_HEADER, htx_row(1, "6400000001")]
    first = {"ThongTin": info_rows(prepared=dt.date(2024, 1, 5)), "HTX": rows}
    write_xlsx(settings.landing_dir / "663_2023.xlsx", first)
    rows = [*rows, htx_row(2, "6400000002")]
    again = {"ThongTin": info_rows(prepared=dt.date(2024, 2, 5)), "HTX": rows}
    write_xlsx(settings.landing_dir / "663_2023_bosung.xlsx", again)
    province = [HTX_HEADER, htx_row(1, "6400000003", **{"Xã/Phường": "Đức Lập"})]
    write_xlsx(
        settings.landing_dir / "68_2025.xlsx",
        {"ThongTin": info_rows("68", 2025), "HTX": province},
    )
    run_steps(settings)
    _arrived(settings, "663_2023.xlsx", _at(2024, 1, 10, 3))
    _arrived(settings, "663_2023_bosung.xlsx", _at(2024, 3, 1, 3))
    _arrived(settings, "68_2025.xlsx", _at(2026, 1, 5, 3))
    con = ledger.connect(settings.ledger)
    try:
        found = {
            (r["unit_code"], r["report_year"]): (
                r["status"],
                r["arrived_on"],
                r["loaded_file_name"],
            )
            for r in deadlines.statuses(con, dt.date(2026, 6, 1))
        }
    finally:
        con.close()
    assert found["663", 2023] == ("received", dt.date(2024, 1, 10), "663_2023_bosung.xlsx")
    assert found["68", 2025] == ("received", dt.date(2026, 1, 5), "68_2025.xlsx")
    assert ("663", 2025) not in found  # districts are required up to 2024 only


def test_judged_before_the_loaded_file_the_last_file_arrived_by_then_is_named(settings):
    """Three submissions of 663's 2023 report: judged between the second and the third, the
    report's file is the second (the last that had arrived), whatever the file ids."""
    for version, name in enumerate(("663_2023.xlsx", "663_2023_v2.xlsx", "663_2023_v3.xlsx")):
        rows = [HTX_HEADER, htx_row(1, "6400000001", **{"Số thành viên": 20 + version})]
        write_xlsx(settings.landing_dir / name, {"ThongTin": info_rows(), "HTX": rows})
        run_steps(settings)
    files = dict(
        _ledger(
            settings,
            "select file_name, file_id from audit.file_ingestion where unit_code = '663'",
        )
    )
    first, second = sorted(["663_2023.xlsx", "663_2023_v2.xlsx"], key=files.get, reverse=True)
    # the one with the larger id arrived first, the other one later, both before 1 February
    _arrived(settings, first, _at(2024, 1, 10, 3))
    _arrived(settings, second, _at(2024, 1, 15, 3))
    _arrived(settings, "663_2023_v3.xlsx", _at(2024, 3, 1, 3))
    con = ledger.connect(settings.ledger)
    try:
        [row] = [
            r
            for r in deadlines.statuses(con, dt.date(2024, 2, 1))
            if (r["unit_code"], r["report_year"]) == ("663", 2023)
        ]
    finally:
        con.close()
    assert (row["status"], row["arrived_on"]) == ("received", dt.date(2024, 1, 10))
    assert (row["loaded_file_id"], row["loaded_file_name"]) == (files[second], second)


def test_the_mart_is_built_and_documented(settings):
    _landing_663_loaded_664_rejected(settings)
    run_steps(settings)
    rows = query(
        settings,
        "select unit_code, report_year, due_on, status, loaded_file_name "
        "from marts.reporting_status where report_year = 2023 order by unit_code",
    )
    assert [r[0] for r in rows] == DISTRICTS
    status = {r[0]: r[3] for r in rows}
    # arrived today (after 20/01/2024): late; judged today, nothing else loaded
    assert status["663"] == "late"
    assert status["664"] == "quarantined"
    assert status["660"] == "missing"
    assert {r[2] for r in rows} == {dt.date(2024, 1, 20)}
    [(table_comment,)] = query(
        settings,
        "select comment from duckdb_tables() where schema_name = 'marts' "
        "and table_name = 'reporting_status'",
    )
    assert "received, late, quarantined, due, missing" in table_comment
    columns = query(
        settings,
        "select column_name, comment from duckdb_columns() where schema_name = 'marts' "
        "and table_name = 'reporting_status'",
    )
    assert all(comment for _, comment in columns), columns
    labels = labels_vi()
    assert [c for c, _ in columns if c not in labels] == []


def test_a_run_with_nothing_new_judges_the_mart_again_when_a_due_date_passed(settings, monkeypatch):
    """ "Judged at the run's logical date, so two runs at the same date leave it unchanged":
    when a due date passes between runs, the next run builds the mart again though nothing
    new arrived; a later run with the same statuses builds nothing, and a run at an earlier
    logical date (a backfill over past years) never takes the published mart back in time."""
    good = [HTX_HEADER, htx_row(1, "6400000001")]
    write_xlsx(settings.landing_dir / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": good})
    sql = (
        "select status, judged_on from marts.reporting_status "
        "where unit_code = '660' and report_year = 2023"
    )

    def run_at(day: str, run_id: str) -> bool:
        monkeypatch.setenv("AIRFLOW_CTX_LOGICAL_DATE", f"{day}T03:00:00+00:00")
        return run_steps(settings, run_id)["changed"]

    assert run_at("2024-01-10", "run-1") is True
    assert query(settings, sql) == [("due", dt.date(2024, 1, 10))]
    assert run_at("2024-01-10", "run-2") is False  # the same date
    assert run_at("2024-01-11", "run-3") is False  # a later date, the same statuses
    assert query(settings, sql) == [("due", dt.date(2024, 1, 10))]
    assert run_at("2024-01-25", "run-4") is True  # 20/01 passed: due turns missing
    assert query(settings, sql) == [("missing", dt.date(2024, 1, 25))]
    assert run_at("2024-01-26", "run-5") is False
    assert run_at("2024-01-05", "run-6") is False  # earlier: the mart stays as judged
    assert query(settings, sql) == [("missing", dt.date(2024, 1, 25))]
    [(loaded,)] = _ledger(settings, "select count(*) from audit.file_ingestion")
    assert loaded == 1  # nothing was read again


def test_the_first_run_on_the_sample_raises_no_deadline_alert(settings):
    from tools.sample import write_samples

    write_samples(settings.landing_dir)
    run_steps(settings)
    assert _deadline_alerts(settings) == []
    today = dt.datetime.now(UTC)
    assert tasks.check_deadlines(settings, today, "first")["alerts"] == []


_PROBE = """
import datetime as dt, json, sys
from pathlib import Path
from etl.cli.main import _dagbag, init_airflow
from etl.config import load_settings
from etl.flow.lineage import stop_listeners
from etl.warehouse import ledger

settings = load_settings()
init_airflow(settings)
dag = _dagbag(settings).get_dag("htx_deadlines")
out = []
try:
    for day in sys.argv[2:]:
        # "after:<time>": a manual run without a logical date (REST API, UI), made at <time>
        if day.startswith("after:"):
            after = dt.datetime.fromisoformat(day.removeprefix("after:"))
            run = dag.test(logical_date=None, run_after=after)
        else:
            run = dag.test(logical_date=dt.datetime.fromisoformat(day))
        con = ledger.connect(settings.ledger, read_only=True)
        n = con.execute("select count(*) from audit.quality_alert where alert_id like 'deadline-%'")
        out.append([str(run.state), n.fetchone()[0]])
        con.close()
finally:
    stop_listeners()  # as htx run does: the OpenLineage DAG-run events written, its pool ended
Path(sys.argv[1]).write_text(json.dumps(out))
"""


def _probe(settings, tmp_path, *runs: str) -> list:
    """Each run's state and the deadline alerts after it, from `_PROBE` in a subprocess.
    The probe writes its result to a file: its stdout also carries the log lines of
    OpenLineage's process pool, which may come after anything the probe prints."""
    result = tmp_path / "states.json"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(result), *runs],
        env=htx_env(settings),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(result.read_text(encoding="utf-8"))


def test_the_daily_dag_alerts_once_at_the_logical_date(settings, tmp_path):
    states = _probe(
        settings,
        tmp_path,
        "2026-01-20T00:00:00+00:00",  # due today: nothing
        "2026-02-01T00:00:00+00:00",  # missing: one alert
        "2026-02-01T06:00:00+00:00",  # the same date again: none
    )
    assert states == [["success", 0], ["success", 1], ["success", 1]]


def test_a_manual_run_without_a_logical_date_judges_at_the_time_it_was_made(settings, tmp_path):
    """Airflow 3 makes a manual run without a logical date (REST API, UI): the task's context
    then has no `logical_date`. The check judges at the run's `run_after` (when it was
    made), as it judges a scheduled run at its logical date; a second such run that day
    raises nothing more."""
    states = _probe(
        settings,
        tmp_path,
        "after:2026-01-20T00:00:00+00:00",  # due that day: nothing
        "after:2026-02-01T00:00:00+00:00",  # 68's 2025 report missing: one alert
        "after:2026-02-01T09:00:00+00:00",  # the same date again: none
    )
    assert states == [["success", 0], ["success", 1], ["success", 1]]
    [(alert_id, *_)] = _deadline_alerts(settings)
    assert alert_id == "deadline-68-2025"


@pytest.mark.parametrize("status", ["missing", "quarantined"])
def test_only_overdue_reports_in_the_window_alert(status):
    row = {"unit_code": "68", "report_year": 2025, "due_on": dt.date(2026, 1, 20)}
    judged = dt.date(2026, 1, 21)
    assert deadlines.alerting([{**row, "status": status}], judged, 60) == [
        {**row, "status": status}
    ]
    for other in ("received", "late", "due"):
        assert deadlines.alerting([{**row, "status": other}], judged, 60) == []
    assert deadlines.alerting([{**row, "status": status}], dt.date(2026, 1, 20), 60) == []


@pytest.mark.parametrize(
    ("code", "year", "named"),
    [
        ("663", 2023, "663 Huyện Đắk Mil"),
        ("68", 2025, "68 Tỉnh Lâm Đồng"),
        ("24670", 2026, "24670 Xã Đắk Mil"),  # a commune reports from 2026
        ("999", 2023, "999"),  # not in the reference: its code alone
    ],
)
def test_a_deadline_alert_names_the_unit_as_the_reference_does(code, year, named):
    """Officials read names: an overdue report's unit is named as the reference names it in
    that report year, as the file alerts' reasons do. Before, the code alone (`unit 663`)."""
    row = {"unit_code": code, "report_year": year, "due_on": dt.date(year + 1, 1, 20)}
    alert = alerts.deadline_alert(
        deadlines.alert_id(code, year), {**row, "status": "missing"}, dt.date(year + 1, 2, 1)
    )
    assert f"đơn vị / unit {named}, năm / year {year} (hạn / due" in alert.subject
    assert f"Đơn vị {named}, năm báo cáo {year}: chưa nhận được" in alert.body
    assert f"Unit {named}, report year {year}: no report received" in alert.body
