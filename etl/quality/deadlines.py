"""Reporting deadlines: which unit must report which year by when (`config/reporting.toml`),
whether it did (`marts.reporting_status`), and the daily check that alerts once per unit and
report year when a required report is `missing` or only `quarantined` after its due date.

The status is judged at a run's logical date in Asia/Ho_Chi_Minh time, so two runs at the
same date give the same status. Design: the daily check (`check`, DAG `htx_deadlines`)
computes the status from the ledger with the mart's own SQL at its logical date, records its
alerts in `audit.quality_alert` and never rebuilds the warehouse. The published
`marts.reporting_status` is built with the warehouse, judged at the date of the run that
built it (column `judged_on`). The judging date is NOT part of the warehouse fingerprint: a
run with nothing new judges the statuses at its own date and rebuilds only when its date is
later than the published mart's and a status differs (`rejudged`: a due date passed, a new
report year became required). A run at an earlier logical date (a backfill over past years)
never takes the published mart back in time, and two runs at one date leave it unchanged.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from etl.config import CONFIG_DIR, SQL_DIR

log = logging.getLogger(__name__)

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
CONFIG_PATH = CONFIG_DIR / "reporting.toml"
MART_SQL = SQL_DIR / "marts" / "reporting_status.sql"
ALERTING = ("missing", "quarantined")
ALERT_PREFIX = "deadline"
STATUS_COLUMNS = (
    "unit_code",
    "report_year",
    "due_on",
    "status",
    "arrived_on",
    "loaded_file_id",
    "loaded_file_name",
    "judged_on",
)


@dataclass(frozen=True)
class Requirement:
    units: tuple[str, ...]
    from_year: int
    to_year: int | None = None  # None: still required


@dataclass(frozen=True)
class ReportingConfig:
    due_month: int = 1
    due_day: int = 20
    window_days: int = 60
    required: tuple[Requirement, ...] = ()
    due_years: dict[int, dt.date] = field(default_factory=dict)

    def due_on(self, year: int) -> dt.date:
        """The due date of report year `year`: the configured day of the next year."""
        return self.due_years.get(year) or dt.date(year + 1, self.due_month, self.due_day)

    def rows(self, judged_on: dt.date) -> list[tuple[str, int, dt.date]]:
        """(unit, report year, due date) of every required report up to the judging year."""
        found: set[tuple[str, int, dt.date]] = set()
        for req in self.required:
            last = judged_on.year if req.to_year is None else min(req.to_year, judged_on.year)
            for year in range(req.from_year, last + 1):
                found.update((unit, year, self.due_on(year)) for unit in req.units)
        return sorted(found, key=lambda r: (r[1], r[0]))


def load_config(path: Path = CONFIG_PATH) -> ReportingConfig:
    """The reporting config at `path`; a malformed one is a ValueError naming the file."""
    try:
        return _parse(tomllib.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:  # TOMLDecodeError is a ValueError
        raise ValueError(f"{path}: {exc}") from exc


def _parse(config: dict) -> ReportingConfig:
    due = config.get("due", {})
    years = {int(y): _date(d) for y, d in due.get("years", {}).items()}
    required = []
    for n, r in enumerate(config.get("required", []), 1):
        # a string would be taken character by character: units "6" and "8" for "68"
        if not isinstance(r.get("units"), list):
            raise ValueError(f'[[required]] #{n}: units must be a list, e.g. units = ["68"]')
        if r.get("from_year") is None:
            raise ValueError(f"[[required]] #{n}: from_year is missing")
        from_year, to_year = int(r["from_year"]), r.get("to_year")
        if to_year is not None and int(to_year) < from_year:
            # it would require nothing, in silence
            raise ValueError(
                f"[[required]] #{n}: to_year {to_year} is before from_year {from_year}"
            )
        required.append(
            Requirement(
                tuple(str(u) for u in r["units"]),
                from_year,
                int(to_year) if to_year is not None else None,
            )
        )
    # a day not in its month every year (30 or 29 February) fails here, not at a check
    dt.date(2001, int(due.get("month", 1)), int(due.get("day", 20)))
    window_days = int(config.get("alert", {}).get("window_days", 60))
    if window_days < 0:  # no due date would ever fall in it: deadline alerts off, in silence
        raise ValueError(f"[alert] window_days must be 0 or more, not {window_days}")
    return ReportingConfig(
        due_month=int(due.get("month", 1)),
        due_day=int(due.get("day", 20)),
        window_days=window_days,
        required=tuple(required),
        due_years=years,
    )


def _date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def judging_date(logical_date: dt.datetime | dt.date | str | None = None) -> dt.date:
    """The date a status is judged at: the run's logical date in Asia/Ho_Chi_Minh time.

    Without one, the logical date Airflow gives the running task (`AIRFLOW_CTX_LOGICAL_DATE`),
    else today in Asia/Ho_Chi_Minh (a run by hand, or an asset-triggered run without one).
    """
    value = logical_date or os.environ.get("AIRFLOW_CTX_LOGICAL_DATE") or None
    if value is None:
        return dt.datetime.now(TIMEZONE).date()
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(TIMEZONE).date()
    return value


def register(con, judged_on: dt.date, config: ReportingConfig | None = None) -> None:
    """What the mart reads, in `con`: `ref_reporting` (unit_code, report_year, due_on,
    judged_on) and `ref_reporting_arrivals` (from the audit tables of `con`; empty without
    them)."""
    config = config or load_config()
    con.execute(
        "create or replace temp table ref_reporting (unit_code varchar, report_year integer, "
        "due_on date, judged_on date)"
    )
    rows = [(u, y, d, judged_on) for u, y, d in config.rows(judged_on)]
    if rows:
        con.executemany("insert into ref_reporting values (?, ?, ?, ?)", rows)
    has_audit = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'audit' "
        "and table_name in ('file_ingestion', 'file_sighting')"
    ).fetchone()[0]
    con.execute(_ARRIVALS if has_audit == 2 else _NO_ARRIVALS)


# Every recorded file of a unit and year, with the time and date (Asia/Ho_Chi_Minh) its
# content first arrived: its first sighting, else its ingestion.
_ARRIVALS = """
create or replace temp table ref_reporting_arrivals as
select *, arrived_at::date as arrived_on
from (
    select
        f.file_id,
        f.file_name,
        f.unit_code,
        f.report_year,
        f.status,
        timezone(
            'Asia/Ho_Chi_Minh',
            coalesce(
                (select min(s.first_seen) from audit.file_sighting as s where s.sha256 = f.sha256),
                f.ingested_at
            )
        ) as arrived_at
    from audit.file_ingestion as f
    where f.unit_code is not null and f.report_year is not null
)
"""
_NO_ARRIVALS = """
create or replace temp table ref_reporting_arrivals (
    file_id bigint, file_name varchar, unit_code varchar, report_year integer,
    status varchar, arrived_at timestamp, arrived_on date
)
"""


def _status_query() -> str:
    """The select of `sql/marts/reporting_status.sql`, to run on the ledger."""
    text = "\n".join(
        line
        for line in MART_SQL.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("--")
    )
    body = re.split(r"create or replace table marts\.reporting_status as", text, flags=re.I)[1]
    return body.split(";", 1)[0]


def statuses(con, judged_on: dt.date, config: ReportingConfig | None = None) -> list[dict]:
    """Every required report's status at `judged_on`, on a connection holding the audit
    tables (the ledger or a warehouse)."""
    register(con, judged_on, config)
    rows = con.execute(_status_query()).fetchall()
    return [dict(zip(STATUS_COLUMNS, row, strict=True)) for row in rows]


def rejudged(con, warehouse: Path, judged_on: dt.date) -> bool:
    """Whether the published `marts.reporting_status` of `warehouse` is out of date at
    `judged_on`: judged at an earlier date, with a status (or a required report) that differs
    from those judged now from the ledger connection `con`. False without a published mart.
    """
    import duckdb

    if not warehouse.exists():
        return False
    kept = [c for c in STATUS_COLUMNS if c != "judged_on"]
    columns = ", ".join(kept)
    try:
        published = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return False
    try:
        last = published.execute("select max(judged_on) from marts.reporting_status").fetchone()
        if last is None or last[0] is None or last[0] >= judged_on:
            return False  # judged at this date or later: never taken back in time
        rows = published.execute(f"select {columns} from marts.reporting_status").fetchall()  # noqa: S608  STATUS_COLUMNS
    except duckdb.Error:
        return False
    finally:
        published.close()
    now = [tuple(row[c] for c in kept) for row in statuses(con, judged_on)]
    if sorted(now, key=repr) == sorted(rows, key=repr):
        return False
    log.info(
        "marts.reporting_status was judged on %s; at %s a status differs: it is judged again",
        last[0],
        judged_on,
    )
    return True


def alerting(rows: list[dict], judged_on: dt.date, window_days: int) -> list[dict]:
    """The reports past due with nothing loaded whose due date is within the window."""
    since = judged_on - dt.timedelta(days=window_days)
    return [r for r in rows if r["status"] in ALERTING and since <= r["due_on"] < judged_on]


def alert_id(unit_code: str, report_year: int) -> str:
    """One alert per unit and report year, ever: recording it twice does nothing."""
    return f"{ALERT_PREFIX}-{unit_code}-{report_year}"


def check(con, judged_on: dt.date, run_id: str, config: ReportingConfig | None = None) -> dict:
    """Judge every required report at `judged_on` on the ledger connection `con` and record
    a deadline alert for each newly overdue one (delivered by the `alert` task).

    The statuses are those at `judged_on`, whatever arrived later; the alerts are what is
    still to act on: a report overdue at `judged_on` (a backfill, a re-run of a past day)
    whose file has loaded since raises none (`arrived_since`)."""
    from etl.quality.alerts import deadline_alert, record

    config = config or load_config()
    rows = statuses(con, judged_on, config)
    loaded = set(
        con.execute(
            "select distinct unit_code, report_year from audit.file_ingestion "
            "where status in ('loaded', 'superseded')"
        ).fetchall()
    )
    overdue: list[dict] = []
    arrived_since: list[dict] = []
    for row in alerting(rows, judged_on, config.window_days):
        late = (row["unit_code"], row["report_year"]) in loaded
        (arrived_since if late else overdue).append(row)
    for row in arrived_since:
        log.info(
            "deadline: %s %s was %s at %s and has loaded since: no alert",
            row["unit_code"],
            row["report_year"],
            row["status"],
            judged_on,
        )
    known = {
        r[0]
        for r in con.execute(
            "select alert_id from audit.quality_alert where alert_id like ?", [f"{ALERT_PREFIX}-%"]
        ).fetchall()
    }
    raised = []
    for row in overdue:
        ident = alert_id(row["unit_code"], row["report_year"])
        if ident in known:
            continue
        record(con, deadline_alert(ident, row, judged_on), run_id)
        raised.append(ident)
        log.warning("deadline alert: %s", ident)
    counts = Counter(r["status"] for r in rows)
    log.info(
        "reporting status at %s: %s; %d new deadline alert(s)",
        judged_on,
        ", ".join(f"{s} {n}" for s, n in sorted(counts.items())) or "nothing required",
        len(raised),
    )
    return {
        "judged_on": judged_on.isoformat(),
        "statuses": dict(counts),
        "alerts": raised,
        "arrived_since": [alert_id(r["unit_code"], r["report_year"]) for r in arrived_since],
    }
