"""The pipeline's steps as plain functions, one per Airflow task, testable without Airflow.

landing → raw copy (`discover`) → read, validate, stage (`stage`) → record and load the
star schema (`load`) → marts (`marts`) → swap and exports (`publish`).
Steps pass only small JSON-able values; the data moves through files under the state dir.
"""

from __future__ import annotations

import logging

from etl import ledger
from etl.config import Settings
from etl.discover import LandedFile, discover

log = logging.getLogger(__name__)


def discover_files(settings: Settings) -> list[dict]:
    """New landing files with their raw copies, as dicts for XCom."""
    con = ledger.connect(settings.ledger)
    try:
        seen, first_ids = ledger.sightings(con)
    finally:
        con.close()
    found = discover(settings.landing_dir, settings.raw_dir, seen, first_ids)
    return [f.as_dict() for f in found]


def batches(files: list[dict], size: int) -> list[list[dict]]:
    """Files split into batches of `size`, in landing order."""
    return [files[i : i + size] for i in range(0, len(files), size)]


def stage(settings: Settings, batch: list[dict], run_id: str) -> list[dict]:
    from etl.stage import stage_batch

    return stage_batch(
        [LandedFile(**f) for f in batch], settings.staging_dir, run_id, settings.limits
    )


def load(settings: Settings, summaries: list[dict], run_id: str) -> dict:
    """Record this run's outcomes, build the star schema if anything changed, run the checks
    across files and years on it, and raise the run's alert (delivered by `alert`)."""
    from etl import alerts
    from etl.load import (
        fingerprint,
        load_star_schema,
        published_fingerprint,
        refresh_build_audit,
    )
    from etl.stage import read_outcome
    from etl.validate import cross_rules

    outcomes = [read_outcome(settings.staging_dir, s["file_id"]) for s in summaries]
    con = ledger.connect(settings.ledger)
    try:
        if outcomes:
            ledger.record(con, outcomes)
        loaded = ledger.loaded_files(con)
        build_fingerprint = fingerprint(con, loaded)
    finally:
        con.close()
    if build_fingerprint == published_fingerprint(settings.warehouse):
        log.info("nothing new: the published warehouse is up to date")
        return {"changed": False, "files": len(outcomes)}
    counts, cross = load_star_schema(settings, loaded, build_fingerprint, run_id)
    con = ledger.connect(settings.ledger)
    try:
        new = ledger.replace_cross_findings(con, cross, cross_rules())
        items = outcomes + alerts.cross_items(ledger.files(con, sorted(new)), new)
        alert = alerts.compose(items, run_id, str(settings.export_dir))
        if alert is not None:
            alerts.record(con, alert, run_id)
            log.warning("quality alert: %s", alert.subject)
    finally:
        con.close()
    refresh_build_audit(settings)
    return {"changed": True, "files": len(outcomes), "rows": counts}


def alert(settings: Settings, loaded: dict, context: dict | None = None) -> dict:
    """Deliver every alert not yet attempted through the configured channels."""
    from etl import feedback
    from etl.alerts import Alert, file_ids
    from etl.load import build_path, refresh_build_audit
    from etl.notify import deliver

    con = ledger.connect(settings.ledger)
    try:
        pending = ledger.pending_alerts(con)
        for alert_id, severity, subject, body in pending:
            # The annotated workbooks travel with the alert: written now, from the ledger.
            attachments = feedback.for_alert(con, settings, file_ids(body))
            alert = Alert(alert_id, severity, subject, body, attachments=attachments)
            results = deliver(alert, context)
            ledger.record_delivery(con, alert_id, results)
    finally:
        con.close()
    if pending and loaded.get("changed") and build_path(settings).exists():
        refresh_build_audit(settings)
    return {**loaded, "alerts": len(pending)}


def marts(settings: Settings, loaded: dict) -> dict:
    from etl.load import build_marts

    if not loaded["changed"]:
        return loaded
    return {**loaded, "rows": {**loaded["rows"], **build_marts(settings)}}


def publish(settings: Settings, built: dict) -> dict:
    """Swap the build in, then write the exports, the quality report and the clerks' annotated
    feedback workbooks (those already up to date are kept)."""
    from etl.dashboard import write_dashboard
    from etl.feedback import write_feedback
    from etl.publish import export, swap
    from etl.report import write_quality_report

    if not built["changed"]:
        if settings.warehouse.exists():  # the report is written on every run
            write_quality_report(settings)
        write_feedback(settings)
        return built
    swap(settings)
    exports = export(settings)
    dashboard = write_dashboard(settings)
    report = write_quality_report(settings)
    feedback = write_feedback(settings)
    return {
        **built,
        "exports": len(exports),
        "report": str(report),
        "dashboard": str(dashboard),
        "feedback": len(feedback),
    }
