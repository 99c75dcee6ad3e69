"""The short summary `make run` prints: files by outcome, the run's alerts and whether each
channel delivered them, rows per table, the new geography (facts on the communes in force
since 01/07/2025, placement, the 2026–2030 phase by new commune), where things are.

The new geography's lines come from the tables that hold it when they exist: a warehouse
built before them prints the rest of the summary."""

from __future__ import annotations

from etl.config import Settings, no_warehouse
from etl.warehouse.models import scalar

# Facts of each report year that landed on a commune in force since 01/07/2025.
_ON_NEW_COMMUNES = """
select f.period_key, count(*), count(distinct g.commune_code)
from core.fact_cooperative_year as f
inner join core.dim_geography as g on f.geo_key = g.geo_key
where g.level = 'commune' and g.valid_from >= date '2025-07-01'
group by f.period_key
order by f.period_key
"""

# Cooperatives by how their new commune is known (one placement per cooperative).
_PLACEMENT = """
select placement, count(distinct coop_code)
from core.dim_cooperative
group by placement
order by placement
"""

# The 2026–2030 phase per year: cooperatives on new communes, the communes, under review.
_PHASE = """
select
    year,
    coalesce(sum(cooperatives) filter (where new_commune_code is not null), 0),
    count(distinct new_commune_code),
    coalesce(sum(cooperatives) filter (where new_commune_code is null), 0)
from marts.commune_year
where year >= 2026
group by year
order by year
"""

_TABLES = """
select table_schema || '.' || table_name
from information_schema.tables
where table_schema in ('core', 'marts', 'audit')
order by table_schema = 'audit', table_schema, table_name
"""


# What a run that failed before its files were published says in place of its line: the
# log above it names the failed task and why (the next run completes the work).
_FAILED = "the log above names the failed task and why; the next run completes the work"


def summary_lines(
    settings: Settings,
    run_id: str | None = None,
    landed: int | None = None,
    failed: bool = False,
    also: tuple[str, ...] = (),
) -> list[str]:
    """The run's summary. `landed`: how many files the landing folder held for the run;
    those the run did not record (seen before) are counted as skipped. `failed`: a DAG run
    of this run failed, so what it found may not be published."""
    import duckdb

    # The command's runs: the ingest run (`run_id`), then the publish run its load asked for.
    runs = [run_id, *also] if run_id is not None else []
    alerted = run_alerts(settings, runs) if runs else None
    if not settings.warehouse.exists():
        if failed:
            return [
                f"No warehouse published at {settings.warehouse}: this run failed ({_FAILED}).",
                *(alerted or []),
            ]
        return [no_warehouse(settings.warehouse), *(alerted or [])]
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        by_status = dict(
            con.execute(
                "select status, count(*) from audit.file_ingestion group by status"
            ).fetchall()
        )
        this_run = dict(
            con.execute(
                "select status, count(*) from audit.file_ingestion where run_id = ? "
                "group by status",
                [run_id or ""],
            ).fetchall()
        )
        counts = [
            (table, scalar(con, f"select count(*) from {table}"))  # noqa: S608  table names listed by DuckDB's catalogue
            for (table,) in con.execute(_TABLES).fetchall()
        ]
        # Earlier runs' files a file of this run replaced: their run_id stays their own.
        replaced = con.execute(
            "select old.file_name, new.file_name from audit.file_ingestion as old "
            "inner join audit.file_ingestion as new on old.superseded_by = new.file_id "
            "where old.status = 'superseded' and new.run_id = ? and old.run_id <> new.run_id "
            "order by old.file_name",
            [run_id or ""],
        ).fetchall()
        quarantined = con.execute(
            "select file_name, reason from audit.file_ingestion where status = 'quarantined' "
            "order by file_name"
        ).fetchall()
        geography = new_geography_lines(con)
        if alerted is None:  # the ledger could not be read: the warehouse's copy
            alerted = alert_lines(con, runs) if runs else []
    finally:
        con.close()

    def files(statuses: dict) -> str:
        return ", ".join(
            f"{statuses.get(s, 0)} {s}"
            for s in ("loaded", "quarantined", "duplicate", "superseded")
        )

    lines = ["", "HTX warehouse summary", "=" * 21]
    lines.append(f"Files in the warehouse: {files(by_status)}")
    # Under the warehouse's files, before this run's line: a rerun that found nothing new
    # would otherwise seem to have quarantined them again.
    for name, why in quarantined:
        lines.append(f"  quarantined {name}: {why}")
    if run_id is not None:
        new = sum(this_run.values())
        skipped = "" if landed is None else f"; {max(landed - new, 0)} skipped (seen before)"
        if new:
            lines.append(f"This run ({run_id}): {new} new file(s): {files(this_run)}{skipped}")
        elif failed:
            lines.append(
                f"This run ({run_id}) failed: what it found is not in the published warehouse "
                f"below ({_FAILED})."
            )
        else:
            lines.append(
                f"This run ({run_id}): nothing new; every landing file was already seen (skipped)."
            )
        lines += [f"  replaced {old} (by {new})" for old, new in replaced]
    lines += alerted
    lines += geography
    lines.append("Rows per table:")
    width = max(len(t) for t, _ in counts)
    lines += [f"  {table:<{width}}  {n:>9,}" for table, n in counts]
    lines.append(f"Warehouse:       {settings.warehouse}")
    return lines + output_lines(settings)


def output_lines(settings: Settings) -> list[str]:
    """Where the exports and the quality report are, those that exist; or that the exports
    failed, whose files may be missing or older than the warehouse."""
    try:
        failed = settings.exports_failed.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        failed = None
    if failed is not None:
        why = failed[0] if failed else "no reason recorded"
        return [f"Exports:         failed ({why}); the next run writes them again"]
    lines = []
    if settings.export_dir.is_dir():
        lines.append(f"Exports:         {settings.export_dir}")
    if settings.quality_report.is_file():
        lines.append(f"Quality report:  {settings.quality_report}")
    return lines


def _has(con, table: str, column: str | None = None) -> bool:
    schema, name = table.split(".")
    sql = (
        "select count(*) from information_schema.columns "
        "where table_schema = ? and table_name = ? and (? is null or column_name = ?)"
    )
    row = con.execute(sql, [schema, name, column, column]).fetchone()
    return bool(row and row[0])


def new_geography_lines(con) -> list[str]:
    """The new geography in a few lines: facts on new communes per year, placement, and the
    2026–2030 phase by new commune (``marts.commune_year``); what a warehouse lacks is left
    out."""
    lines: list[str] = []
    if _has(con, "core.dim_geography", "valid_from") and _has(con, "core.fact_cooperative_year"):
        per_year = con.execute(_ON_NEW_COMMUNES).fetchall()
        if per_year:
            lines.append("Facts on new communes (in force since 01/07/2025), by report year:")
            lines += [
                f"  {year}: {facts:,} cooperative(s) in {communes:,} new commune(s)"
                for year, facts, communes in per_year
            ]
    if _has(con, "core.dim_cooperative", "placement"):
        placed = con.execute(_PLACEMENT).fetchall()
        if placed:
            lines.append(
                "Placement in the new geography: "
                + ", ".join(f"{n:,} {placement}" for placement, n in placed)
            )
    if _has(con, "marts.commune_year"):
        phase = con.execute(_PHASE).fetchall()
        if phase:
            lines.append("2026-2030 phase by new commune (marts.commune_year):")
            lines += [
                f"  {year}: {coops:,} cooperative(s) in {communes:,} new commune(s), "
                f"{review:,} under review"
                for year, coops, communes, review in phase
            ]
    return lines


# A subject past this many characters is cut (bilingual, it names the run's files); a
# channel lists this many alerts' errors, then how many more.
SUBJECT_WIDTH = 100
ERRORS_SHOWN = 5

# What a channel's column pair says of one alert (`ledger.record_delivery`): True, False
# (failed for good, never sent again), NULL with an error (failed, tried again at the next
# run), NULL without one: off, unless nothing was tried yet.
_STATES = {
    "delivered": "delivered",
    "failed": "not delivered (not sent again)",
    "waiting": "not delivered yet (the next run tries again)",
    "untried": "not tried yet (the next run sends it)",
    "off": "off (connection not configured)",
}


def _state(alert: dict, channel: str) -> str:
    """One alert on one channel: a key of `_STATES`."""
    delivered, error = alert[f"{channel}_delivered"], alert[f"{channel}_error"]
    if delivered is not None:
        return "delivered" if delivered else "failed"
    if error:
        return "waiting"
    # Off, unless no channel has a result yet: the alert waits for its first try.
    tried = alert["attempted"] or any(
        alert[f"{c}_delivered"] is not None or alert[f"{c}_error"] for c in ("email", "webhook")
    )
    return "off" if tried else "untried"


def run_alerts(settings: Settings, run_ids: list[str]) -> list[str] | None:
    """`alert_lines` from the ledger, where the load, the `alert` task and the failure
    callbacks record the alerts and what each channel did: the warehouse holds a copy as of
    its last publish, which a run that failed before publishing never reached. None when
    the ledger cannot be read (not there, or a writer of another process holds it)."""
    import duckdb

    if not settings.ledger.exists():
        return None
    try:
        con = duckdb.connect(str(settings.ledger), read_only=True)
    except duckdb.Error:
        return None
    try:
        return alert_lines(con, run_ids)
    finally:
        con.close()


def alert_lines(con, run_ids: list[str]) -> list[str]:
    """The alerts the runs `run_ids` raised (`audit.quality_alert`): their subjects,
    shortened, then per channel whether they were delivered, each undelivered one's error
    (its first line) and what to do. Nothing when the runs raised none, or the warehouse
    predates the errors."""
    if not _has(con, "audit.quality_alert", "webhook_error"):
        return []
    cursor = con.execute(
        "select subject, email_delivered, email_error, webhook_delivered, webhook_error, "
        "attempted_at is not null as attempted from audit.quality_alert "
        "where list_contains(?, run_id) "
        "order by raised_at, alert_id",
        [run_ids],
    )
    names = [d[0] for d in cursor.description]
    alerts = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    if not alerts:
        return []
    # Only here: the channels' names live with the notifiers, which import Airflow's providers.
    from etl.quality.notify import EMAIL_CONN_ID, RECIPIENTS_VARIABLE, WEBHOOK_CONN_ID

    lines = [f"Alerts raised by this run: {len(alerts)} (audit.quality_alert)"]
    for n, alert in enumerate(alerts, 1):
        subject = alert["subject"]
        if len(subject) > SUBJECT_WIDTH:
            subject = subject[: SUBJECT_WIDTH - 1] + "…"
        lines.append(f"  {n}. {subject}")
    channels = (
        (
            "email",
            f"e-mail ({EMAIL_CONN_ID}):",
            f"{EMAIL_CONN_ID} and the variable {RECIPIENTS_VARIABLE}",
        ),
        ("webhook", f"webhook ({WEBHOOK_CONN_ID}):", WEBHOOK_CONN_ID),
    )
    width = max(len(label) for _, label, _ in channels)
    for channel, label, check in channels:
        states = [_state(alert, channel) for alert in alerts]
        if len(set(states)) == 1:
            said = _STATES[states[0]]
        else:
            said = ", ".join(f"{states.count(s)} {_STATES[s]}" for s in _STATES if s in states)
        lines.append(f"  {label:<{width}} {said}")
        undelivered = [
            (n, (alert[f"{channel}_error"] or "").strip().splitlines())
            for n, (alert, state) in enumerate(zip(alerts, states, strict=True), 1)
            if state in ("failed", "waiting")
        ]
        for n, error in undelivered[:ERRORS_SHOWN]:
            lines.append(f"    {n}. {error[0].rstrip() if error else 'no error recorded'}")
        if len(undelivered) > ERRORS_SHOWN:
            lines.append(f"    … and {len(undelivered) - ERRORS_SHOWN} more")
        if undelivered:
            lines.append(
                f"    To do: check the Airflow connection {check}; recorded in "
                f"audit.quality_alert (why: {channel}_error; the alert's text: body)"
            )
    return lines


def print_summary(
    settings: Settings,
    run_id: str | None = None,
    landed: int | None = None,
    failed: bool = False,
    also: tuple[str, ...] = (),
) -> None:
    print("\n".join(summary_lines(settings, run_id, landed, failed, also)))
