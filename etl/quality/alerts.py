"""Quality alerts: one per run that quarantined a file or accepted one with warnings.

The alert says, in Vietnamese then English, which unit, year and file; its status; the top
failing rules with counts; where the quality report is; and what the clerk must do. It is
recorded in `audit.quality_alert` whatever the channels; a channel whose Airflow
connection is not configured is off, and its delivery column stays NULL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from etl.contract.findings import SEVERITY_LABELS
from etl.contract.reference import load_reference

log = logging.getLogger(__name__)

TOP_RULES = 5
OUTBOX = "alerts_pending"  # under HTX_STATE_DIR: failure alerts not yet in the ledger
# How a file's block names it, on its first line: `- Tệp / File: … file_id 123)`, read back
# to find an alert's files (a reason naming another file's id is not one of them).
_FILE_ID = re.compile(r"^- Tệp / File: .*\bfile_id (\d+)\)$", re.MULTILINE)


@dataclass(frozen=True)
class Alert:
    alert_id: str
    severity: str  # error: a file was quarantined or a task failed; warning: warnings only
    subject: str
    body: str
    run_id: str | None = None
    # Annotated feedback workbooks of the alert's files (etl.quality.feedback), sent with it.
    attachments: tuple[str, ...] = ()


def _file_block(outcome: dict, report_url: str) -> list[str]:
    findings = [f for f in outcome["findings"] if f["severity"] in ("error", "warning")]
    rules = Counter((f["severity"], f["rule"]) for f in findings)
    # A rule of several expectations (a rating's score band) has a message for each.
    messages: dict[tuple[str, str], list[str]] = {}
    for f in findings:
        said = messages.setdefault((f["severity"], f["rule"]), [])
        if f["message"] not in said:
            said.append(f["message"])
    unit, year = _unit_and_year(outcome)
    quarantined = outcome["status"] == "quarantined"
    lines = [
        f"- Tệp / File: {outcome['file_name']} (đơn vị / unit {unit}, năm / year {year}, "
        f"file_id {outcome['file_id']})",
        "  Trạng thái / Status: "
        + (
            "BỊ TỪ CHỐI / quarantined"
            if quarantined
            else "đã nạp, có cảnh báo / loaded with warnings"
        ),
    ]
    if outcome.get("reason") and quarantined:
        lines.append(f"  Lý do / Reason: {outcome['reason']}")
    # The errors first (what rejected the file), then the warnings, each most cells first:
    # warnings never push an error out of the top rules.
    ranked = sorted(rules.most_common(), key=lambda item: item[0][0] != "error")
    for (severity, rule), count in ranked[:TOP_RULES]:
        first, *more = messages[severity, rule]
        lines.append(f"  • [{SEVERITY_LABELS[severity]}] {rule} ×{count}: {first}")
        lines.extend(f"      {message}" for message in more)
    if len(rules) > TOP_RULES:
        lines.append(f"  • … {len(rules) - TOP_RULES} quy tắc khác / more rules")
    lines.append(f"  Chi tiết từng ô / Every cell: {report_url}")
    # A cell is a row and a column: a missing column names only the header row.
    if quarantined and any(
        f.get("excel_row") is not None and f.get("column_name") is not None for f in findings
    ):
        lines.append(
            "  Việc cần làm: sửa các ô được liệt kê trong báo cáo rồi gửi lại cả tệp. / "
            "To do: correct the listed cells and send the whole file again."
        )
    elif quarantined:  # rejected as a whole (unit unknown, sheet missing…): no cell listed
        lines.append(
            "  Việc cần làm: làm theo phần Lý do ở trên rồi gửi lại cả tệp. / "
            "To do: do what the reason above says, then send the whole file again."
        )
    else:
        lines.append(
            "  Việc cần làm: kiểm tra các cảnh báo; nếu số liệu sai, gửi lại tệp đã sửa. / "
            "To do: check the warnings; if a figure is wrong, send a corrected file."
        )
    return lines


def compose(items: list[dict], run_id: str, report_dir: str) -> Alert | None:
    """The alert for a run, or None when nothing needs anyone's attention.

    `items` are files as dicts (file_id, file_name, unit_code, report_year, status,
    reason, findings): this run's outcomes, and files that checks across files and years
    found new warnings for, each with its status as recorded (`recorded`). A file of this
    run that a report of an earlier run outranks at once (`superseded`: an older Ngày lập
    than the report that counts) is named too, with why: its clerk learns that the file is
    not used, never from silence; so is one a file of the same run that arrived before it
    outranks. One a later file of the same run replaced is not: the clerk who sent the
    correction knows.
    """
    quarantined = [o for o in items if o["status"] == "quarantined"]
    run = {o["file_id"] for o in items}
    not_used = [
        o
        for o in items
        if o["status"] == "superseded"
        and (o.get("superseded_by") not in run or o.get("winner_came_first"))
    ]
    # A file another report replaced (`superseded`) is not loaded: its warnings need no one.
    warned = [
        o
        for o in items
        if o["status"] in ("valid", "loaded")
        and any(f["severity"] == "warning" for f in o["findings"])
    ]
    if not quarantined and not warned and not not_used:
        return None
    severity = "error" if quarantined else "warning"
    unused_vi, unused_en = (
        (f", {len(not_used)} tệp không được dùng", f", {len(not_used)} not used")
        if not_used
        else ("", "")
    )
    subject = (
        f"[HTX] {len(quarantined)} tệp bị từ chối, {len(warned)} tệp có cảnh báo{unused_vi} / "
        f"{len(quarantined)} file(s) quarantined, {len(warned)} with warnings{unused_en}"
        + _named(quarantined + warned + not_used)
    )
    body = [
        "Kết quả kiểm tra báo cáo HTX / HTX report check results",
        f"Lần chạy / Run: {run_id}",
        "",
    ]
    for outcome in quarantined + warned:
        body += _file_block(outcome, f"{report_dir}/quality/{outcome['file_id']}.html")
        body.append("")
    if not_used:
        body += _not_used_block(not_used)
        body.append("")
    body.append(f"Báo cáo chất lượng / Quality report: {report_dir}/quality_report.html")
    digest = hashlib.sha256(f"{run_id}|{subject}".encode()).hexdigest()[:16]
    return Alert(digest, severity, subject, "\n".join(body), run_id)


def _named(files: list[dict], most: int = 3) -> str:
    """The files an alert's subject names: one inbox may take every district's alerts, and
    a clerk looks for the name of the file sent. Up to `most`, then how many more."""
    names = list(dict.fromkeys(o["file_name"] for o in files))
    if not names:
        return ""
    more = f" (+{len(names) - most} tệp khác / more)" if len(names) > most else ""
    return ": " + ", ".join(names[:most]) + more


def _not_used_block(files: list[dict]) -> list[str]:
    """This run's files another report of their unit and year replaced at once, with the
    ledger's reason (which names the report that counts)."""
    lines = [
        "Tệp không được dùng (một báo cáo khác của cùng đơn vị và năm được tính) / "
        "Files not used (another report of the same unit and year counts):"
    ]
    for o in files:
        unit, year = _unit_and_year(o)
        lines.append(
            f"- {o['file_name']} (đơn vị / unit {unit}, năm / year {year}): "
            f"{o.get('reason') or 'đã được thay thế / superseded'}"
        )
        if "Ngày lập" in (o.get("reason") or "") and "muộn hơn" in o["reason"]:
            lines.append(
                "  Việc cần làm: nếu tệp này mới là báo cáo đúng, sửa Ngày lập trong trang "
                "ThongTin thành ngày lập thật (muộn hơn) rồi gửi lại. / To do: if this file is "
                "the right report, set its Ngày lập in the ThongTin sheet to the day it was "
                "really prepared (a later one) and send it again."
            )
    return lines


def file_ids(body: str) -> list[int]:
    """The file_ids an alert's body names, in order: the files its feedback belongs to."""
    return list(dict.fromkeys(int(found) for found in _FILE_ID.findall(body)))


def failure_alert(
    dag_id: str,
    task_id: str | None,
    run_id: str,
    error: str,
    map_index: int | None = None,
    try_number: int | None = None,
) -> Alert:
    """The alert for a failed task: the pipeline itself, not a file, needs attention. Each
    failed instance is an alert of its own: a mapped task's (`stage[3]`), a cleared task's
    next failure (`try_number`)."""
    task = f"{task_id}[{map_index}]" if map_index is not None and map_index >= 0 else task_id
    subject = f"[HTX] Lỗi pipeline: tác vụ {task} thất bại / Pipeline failure: task {task} failed"
    body = "\n".join(
        [
            f"DAG: {dag_id}",
            f"Tác vụ / Task: {task}",
            f"Lần chạy / Run: {run_id}",
            f"Lỗi / Error: {error[:2000]}",
            "",
            "Việc cần làm: kỹ sư dữ liệu xem nhật ký của tác vụ trong Airflow rồi chạy lại. "
            "Các tệp đã nhận không bị mất. / To do: a data engineer reads the task log in "
            "Airflow and reruns it. No submitted file is lost.",
        ]
    )
    digest = hashlib.sha256(f"{run_id}|{task}|{try_number}|failure".encode()).hexdigest()[:16]
    return Alert(digest, "error", subject, body, run_id)


# How a task failure alert's body names its DAG, task and run (`failure_alert`), read back
# by the run's failure callback to tell which failed tasks have their alert already.
_FAILURE_LINES = re.compile(
    r"^DAG: (?P<dag>.+)\nTác vụ / Task: (?P<task>.+)\nLần chạy / Run: (?P<run>.+)$", re.M
)


def failure_of(alert: Alert) -> tuple[str, str, str] | None:
    """The DAG, task (`stage[3]`) and run a task failure alert names, or None for any other
    alert (a run's own failure alert names no single task)."""
    found = _FAILURE_LINES.search(alert.body)
    if alert.severity != "error" or found is None:
        return None
    return found["dag"], found["task"], found["run"]


def run_failure_alert(
    dag_id: str,
    run_id: str,
    failed: list[str],
    unalerted: list[str],
    reason: str | None,
    clear_number: int | None = None,
) -> Alert:
    """The alert for a failed DAG run whose failure no task alert told: a task killed with
    SIGKILL (the OOM killer) gets no failure callback from Airflow, and a run failed by its
    timeout may have no failed task. Names the run, its `failed` tasks, and those of them
    no alert reached anyone for (`unalerted`). One alert per run and clearing of it."""
    named = ", ".join(unalerted or failed) or "?"
    subject = (
        f"[HTX] Lỗi pipeline: lần chạy {dag_id} thất bại ({named}) / "
        f"Pipeline failure: run of {dag_id} failed ({named})"
    )
    body = "\n".join(
        [
            f"DAG: {dag_id}",
            f"Lần chạy / Run: {run_id}",
            f"Lý do / Reason: {reason or '?'}",
            "Tác vụ thất bại / Failed tasks: " + (", ".join(failed) or "không có / none"),
            "Chưa có cảnh báo nào cho / No alert was sent for: " + (", ".join(unalerted) or "-"),
            "",
            _run_failure_cause(reason, failed),
            "Việc cần làm: kỹ sư dữ liệu xem nhật ký của tác vụ trong Airflow rồi chạy lại. "
            "Các tệp đã nhận không bị mất. / To do: a data engineer reads the task log in "
            "Airflow and reruns it. No submitted file is lost.",
        ]
    )
    digest = hashlib.sha256(f"{dag_id}|{run_id}|{clear_number}|run failure".encode()).hexdigest()
    return Alert(digest[:16], "error", subject, body, run_id)


def _run_failure_cause(reason: str | None, failed: list[str]) -> str:
    """What most likely failed the run, for the engineer who reads its alert."""
    if reason == "timed_out":
        return (
            "Lần chạy vượt quá thời hạn (dagrun_timeout) và bị Airflow dừng. / The run "
            "passed its time limit (dagrun_timeout) and Airflow stopped it."
        )
    if not failed:
        return (
            "Không có tác vụ nào thất bại: Airflow đánh dấu lần chạy thất bại "
            f"({reason or '?'}). / No task failed: Airflow marked the run failed "
            f"({reason or '?'})."
        )
    return (
        "Không có lỗi nào đến được callback của tác vụ: tiến trình có thể đã bị hệ thống "
        "dừng (SIGKILL, hết bộ nhớ: nhật ký tác vụ khi đó ghi 'Process terminated by "
        "signal') hoặc mất nhịp tim (heartbeat). / No error reached the task's callback: its "
        "process was likely killed (SIGKILL, the OOM killer: its log then says 'Process "
        "terminated by signal'), or it stopped sending heartbeats."
    )


def with_cross(outcomes: list[dict], files: list[dict], new: dict[int, list]) -> list[dict]:
    """A run's alert items: its outcomes, each with the new warnings across files it got
    (`new`, by file_id), then the other files of the run that got some (`files`: their
    `audit.file_ingestion` rows), one block per file. `new` holds what the run recorded
    (`etl.quality.validate.for_run`): a file of an earlier run is alerted only for a warning
    the contract puts on it (a province report a later commune report outranks)."""
    items = []
    for outcome in outcomes:
        extra = _rows(outcome["file_id"], new.get(outcome["file_id"], []))
        items.append({**outcome, "findings": [*outcome["findings"], *extra]} if extra else outcome)
    told = {o["file_id"] for o in outcomes}
    for f in files:
        if f["file_id"] not in told and new.get(f["file_id"]):
            findings = _rows(f["file_id"], new[f["file_id"]])
            items.append({**f, "status": "loaded", "findings": findings})
    return items


def recorded(
    items: list[dict],
    states: dict[int, tuple[str | None, str]],
    superseded: dict[int, tuple[int, str, bool]] | None = None,
) -> list[dict]:
    """The items with the status the ledger recorded (`ledger.states`): a file staged valid
    may be `superseded` by a later report of its unit and year, and then has the file that
    counts instead (`superseded_by`), the reason recorded, and whether that file arrived
    first (`winner_came_first`; `ledger.superseded`)."""
    superseded = superseded or {}
    out = []
    for i in items:
        if i["file_id"] in states:
            i = {**i, "status": states[i["file_id"]][1]}
        if i["status"] == "superseded" and i["file_id"] in superseded:
            winner, why, first = superseded[i["file_id"]]
            i = {**i, "superseded_by": winner, "reason": why, "winner_came_first": first}
        out.append(i)
    return out


def _rows(file_id: int, found: list) -> list[dict]:
    """`Finding.as_row` of each finding, read field by field (`dataclasses.asdict` copies
    every value deeply: 1 s for the 4,565 warnings across files of a national run)."""
    if not found:
        return []
    names = [f.name for f in dataclasses.fields(found[0])]
    return [{"file_id": file_id, **{name: getattr(x, name) for name in names}} for x in found]


def record(con, alert: Alert, run_id: str | None, now: dt.datetime | None = None) -> None:
    con.execute(
        """
        insert or ignore into audit.quality_alert
            (alert_id, raised_at, severity, subject, body,
             email_delivered, webhook_delivered, run_id)
        values (?, ?, ?, ?, ?, null, null, ?)
        """,
        [
            alert.alert_id,
            now or dt.datetime.now(dt.UTC),
            alert.severity,
            alert.subject,
            alert.body,
            run_id,
        ],
    )


def unpublished(con, warehouse: Path) -> list[str]:
    """The alerts the ledger (`con`) holds that the published `warehouse` does not: a task's
    failure alert, which its callback records outside any build. Empty without a published
    warehouse, or when it cannot be read (the next build copies every alert anyway)."""
    import duckdb

    if not warehouse.exists():
        return []
    try:
        published = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return []
    try:
        there = {
            a for (a,) in published.execute("select alert_id from audit.quality_alert").fetchall()
        }
    except duckdb.Error:
        return []
    finally:
        published.close()
    held = con.execute("select alert_id from audit.quality_alert order by raised_at, alert_id")
    return [a for (a,) in held.fetchall() if a not in there]


def _unit_and_year(outcome: dict) -> tuple[str, object]:
    """A file's unit, named as the reference names it where known (`_unit_named`), and its
    report year; `?` for what the file did not say."""
    code, year = outcome.get("unit_code"), outcome.get("report_year")
    unit = _unit_named(code, int(year)) if code and year else code
    return unit or "?", year or "?"


def _unit_named(code: str, year: int) -> str:
    """`663 Huyện Đắk Mil`: the unit that reports under `code` in `year`, as the reference
    names it (officials read names); its code alone when the reference has no such unit."""
    unit = load_reference().reporting_unit(code, year)
    return f"{code} {unit.full_name}" if unit is not None else code


def deadline_alert(alert_id: str, row: dict, judged_on: dt.date) -> Alert:
    """A required report past its due date with nothing loaded (`marts.reporting_status`
    `missing` or `quarantined`), in Vietnamese then English."""
    year, due = row["report_year"], row["due_on"]
    unit = _unit_named(row["unit_code"], year)
    if row["status"] == "quarantined":
        what_vi, what_en = "chỉ có tệp bị từ chối", "only rejected files"
    else:
        what_vi, what_en = "chưa nhận được báo cáo", "no report received"
    subject = (
        f"[HTX] Quá hạn báo cáo / Report overdue: đơn vị / unit {unit}, năm / year {year} "
        f"(hạn / due {due:%d/%m/%Y})"
    )
    body = "\n".join(
        [
            f"Đơn vị {unit}, năm báo cáo {year}: {what_vi} sau hạn {due:%d/%m/%Y} "
            f"(xét ngày {judged_on:%d/%m/%Y}).",
            f"Unit {unit}, report year {year}: {what_en} after the due date {due:%Y-%m-%d} "
            f"(judged on {judged_on:%Y-%m-%d}).",
            "Việc cần làm: gửi báo cáo (hoặc sửa và gửi lại tệp bị từ chối). / "
            "To do: send the report (or correct and resend the rejected file).",
            "Trạng thái / Status: marts.reporting_status",
        ]
    )
    return Alert(alert_id, "error", subject, body)


# -- failure alerts held outside the ledger ------------------------------------------------
#
# A failure callback may run in Airflow's DAG processor (a task that lost its heartbeat),
# where `[dag_processor] dag_file_processor_timeout` (50 s) kills it with the parse of the
# DAG file, whose DAGs are then deactivated as stale. It cannot wait there for the writer
# lock a long load holds. So it writes its alert to a file of its own in the outbox first
# (no lock: one file per alert, renamed into place), with the channels' results once it has
# them; the ledger takes it when the callback gets the lock within a few seconds, else at
# the next `load` or `alert` task, which hold the lock anyway (`record_held`).


@dataclass(frozen=True)
class Held:
    """A channel's result as the outbox keeps it: what `ledger.record_delivery` reads."""

    delivered: bool | None
    error: str | None = None
    retried: bool = False  # failed, and a later try may deliver it (`notify.Delivery`)


def outbox(state_dir: Path) -> Path:
    return state_dir / OUTBOX


def hold(state_dir: Path, alert: Alert, results: dict | None = None, final: bool = False) -> Path:
    """Write the alert to the outbox, with each channel's result (`delivered`, `error`) once
    tried; `final`: no channel is to be tried again. Replaces the alert's earlier file."""
    folder = outbox(state_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{alert.alert_id}.json"
    earlier = _read_held(path)
    data = {
        "alert": {
            "alert_id": alert.alert_id,
            "severity": alert.severity,
            "subject": alert.subject,
            "body": alert.body,
            "run_id": alert.run_id,
        },
        "raised_at": (earlier or {}).get("raised_at") or dt.datetime.now(dt.UTC).isoformat(),
        "results": None
        if results is None
        else {
            c: {"delivered": r.delivered, "error": r.error, "retried": r.retried}
            for c, r in results.items()
        },
        "final": final,
    }
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    part.write_text(json.dumps(data, ensure_ascii=False))
    os.replace(part, path)
    return path


def _read_held(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except ValueError as exc:
        log.warning("outbox file %s is not JSON (%s): left for a person to read", path, exc)
        return None


def held_deliveries(state_dir: Path, alert_id: str) -> dict[str, Held]:
    """The channels an earlier callback for the same failure is done with, and its result
    on each: Airflow may call the callback twice for one task that lost its heartbeat. Done:
    delivered, or failed for good (some recipients have the e-mail, the webhook may have
    it, the configuration is wrong): sent again, the alert would reach someone twice."""
    data = _read_held(outbox(state_dir) / f"{alert_id}.json") or {}
    results = data.get("results") or {}
    done = {}
    for channel, r in results.items():
        # An outbox file of an earlier version says nothing of retries (`record_held`).
        held = Held(r.get("delivered"), r.get("error"), r.get("retried", True))
        if held.delivered is True or (held.delivered is False and not held.retried):
            done[channel] = held
    return done


def _held(path: Path) -> tuple[Alert, dt.datetime, dict] | None:
    """One outbox file: its alert, when it was raised, and the rest of what it holds; None
    for a file that is no alert (left for a person to read, and logged)."""
    data = _read_held(path)
    if data is None:
        return None
    try:
        fields = data["alert"]
        alert = Alert(
            fields["alert_id"],
            fields["severity"],
            fields["subject"],
            fields["body"],
            fields["run_id"],
        )
        return alert, dt.datetime.fromisoformat(data["raised_at"]), data
    except (KeyError, TypeError, ValueError) as exc:  # one odd file must not stop a task
        log.warning("outbox file %s is no alert (%r): left for a person to read", path, exc)
        return None


def held_alerts(state_dir: Path) -> list[tuple[Alert, dt.datetime]]:
    """The alerts waiting in the outbox, each with when it was raised; a file that is no
    alert is left out (and for a person to read)."""
    found = []
    for path in sorted(outbox(state_dir).glob("*.json")):
        held = _held(path)
        if held is not None:
            found.append(held[:2])
    return found


def alerted_tasks(
    alerts: list[tuple[Alert, dt.datetime]],
    dag_id: str,
    run_id: str,
    since: dt.datetime | None = None,
) -> set[str]:
    """The tasks (`stage[3]`) of the run that have a task failure alert among `alerts`
    (each with when it was raised), raised at `since` or later: a run cleared and run again
    starts anew, and its earlier failures' alerts do not tell its new ones."""
    told = set()
    for alert, raised_at in alerts:
        failure = failure_of(alert)
        if failure is None or failure[0] != dag_id or failure[2] != run_id:
            continue
        if since is not None and raised_at.tzinfo is None:
            raised_at = raised_at.replace(tzinfo=dt.UTC)  # DuckDB gives naive UTC
        if since is None or raised_at >= since:
            told.add(failure[1])
    return told


def ledger_alerts(con, run_id: str) -> list[tuple[Alert, dt.datetime]]:
    """The ledger's (`con`) alerts of a run, each with when it was raised."""
    rows = con.execute(
        "select alert_id, severity, subject, body, run_id, raised_at "
        "from audit.quality_alert where run_id = ?",
        [run_id],
    ).fetchall()
    return [(Alert(*row[:5]), row[5]) for row in rows]


def record_held(con, state_dir: Path, remove: bool = True) -> list[str]:
    """Record the outbox's alerts in the ledger (`con`, under the writer lock), with their
    channels' results unless a task tried them since; then remove their files (`remove`).
    Returns the alert_ids recorded."""
    from etl.warehouse import ledger

    recorded = []
    for path in sorted(outbox(state_dir).glob("*.json")):
        held = _held(path)
        if held is None:
            continue
        alert, raised_at, data = held
        record(con, alert, alert.run_id, raised_at)
        [(attempted,)] = con.execute(
            "select attempted_at is not null from audit.quality_alert where alert_id = ?",
            [alert.alert_id],
        ).fetchall()
        if data.get("results") is not None and not attempted:
            # An outbox file of an earlier version says nothing of retries: a failed channel
            # was tried again then.
            results = {
                c: Held(r["delivered"], r["error"], r.get("retried", r["delivered"] is False))
                for c, r in data["results"].items()
            }
            ledger.record_delivery(con, alert.alert_id, results, final=bool(data.get("final")))
        if remove:
            path.unlink(missing_ok=True)
        recorded.append(alert.alert_id)
    if recorded and remove:
        log.info("failure alert(s) taken from the outbox into the ledger: %s", ", ".join(recorded))
    return recorded
