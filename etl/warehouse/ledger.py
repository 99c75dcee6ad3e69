"""The pipeline's own audit trail across runs: a DuckDB file under the state directory.

It holds the `audit` tables of the contract. Each run records its files' outcomes here,
and the published warehouse gets a copy of them. Only the writer task opens it for writing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from etl.config import SQL_DIR
from etl.warehouse.models import rollback, run_sql_file

log = logging.getLogger(__name__)

AUDIT_TABLES = ("file_ingestion", "rejected_row", "quality_alert", "file_sighting")

# The ledger's layout changes, in order: (version, what, statements). Each statement is
# idempotent, so a ledger that already has a change (a fresh one from today's DDL, or one
# half-way between releases) passes through unharmed. Version 0 is a ledger without
# `audit.ledger_version`: the layout of release 90c1f14 and before. Append, never edit.
# A ledger at the last version is not given the DDL again (`connect`): a change to
# sql/ddl/audit that ledgers need (a column, a comment) is a migration.
MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "file_ingestion.staged_digest (before 90c1f14) and staged_by, the staging stamp",
        (
            "alter table audit.file_ingestion add column if not exists staged_digest varchar",
            "alter table audit.file_ingestion add column if not exists staged_by varchar",
        ),
    ),
    (
        2,
        "file_ingestion.landed_at, when a file landed: the later arrival within one run",
        ("alter table audit.file_ingestion add column if not exists landed_at timestamptz",),
    ),
)
LEDGER_VERSION = MIGRATIONS[-1][0]


def connect(path: Path, read_only: bool = False):
    """Open the ledger, creating its tables on first use and migrating an older layout."""
    import duckdb

    if read_only and not path.exists():
        read_only = False
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    if not read_only:
        try:
            if not _up_to_date(con):
                migrate(con)
        except Exception:
            con.close()
            raise
    return con


def _tables(con) -> set[str]:
    return {
        name
        for (name,) in con.execute(
            "select table_name from duckdb_tables() "
            "where schema_name = 'audit' and database_name = current_database()"
        ).fetchall()
    }


def _up_to_date(con) -> bool:
    """Whether the ledger has this release's layout and every table: then `migrate` has
    nothing to do, and its DDL (~40 ms) is not run again on each of a load's connections.
    A newer layout is not: `migrate` refuses it."""
    tables = _tables(con)
    return version(con, tables) == LEDGER_VERSION and tables >= {*AUDIT_TABLES, "ledger_version"}


def version(con, tables: set[str] | None = None) -> int | None:
    """The ledger's layout version: 0 for one made by 90c1f14 or before, None when empty.
    `tables`: the audit tables it holds, when the caller has read them."""
    if tables is None:
        tables = _tables(con)
    if "ledger_version" in tables:
        # fetchall: a result left unfinished would refuse the caller's next `register`
        (found,) = con.execute("select max(version) from audit.ledger_version").fetchall()[0]
        if found is not None:
            return found
    return 0 if "file_ingestion" in tables else None


def migrate(con) -> int | None:
    """Create a new ledger's tables, or bring an older one up to date, in one transaction.

    Returns the version the ledger had (None: it was new). A ledger made by a newer release
    is refused: this code would not know what its columns mean.
    """
    con.execute("begin transaction")
    try:
        found = version(con)
        if found is not None and found > LEDGER_VERSION:
            raise RuntimeError(
                f"the ledger is at layout version {found}, newer than this release knows "
                f"({LEDGER_VERSION}): run the release that made it, or a later one"
            )
        con.execute("create schema if not exists audit")
        # An older ledger's tables gain their columns first: the DDL's comments name them.
        pending = [m for m in MIGRATIONS if found is not None and m[0] > found]
        for number, what, statements in pending:
            for statement in statements:
                con.execute(statement)
            log.info("ledger migrated from version %d to %d: %s", found, number, what)
        for table in (*AUDIT_TABLES, "ledger_version"):
            run_sql_file(con, SQL_DIR / "ddl" / "audit" / f"{table}.sql")
        now = dt.datetime.now(dt.UTC)
        for number, what, _ in pending if found is not None else MIGRATIONS:
            description = what if found is not None else f"{what} (new ledger)"
            con.execute(
                "insert into audit.ledger_version values (?, ?, ?)", [number, now, description]
            )
        con.execute("commit")
    except Exception:
        rollback(con)
        raise
    return found


def sightings(con) -> tuple[set[tuple[str, str]], dict[str, int]]:
    """(sha256, file name) pairs already recorded, and the first file_id of each content."""
    seen = set(con.execute("select sha256, file_name from audit.file_sighting").fetchall())
    first = dict(
        con.execute(
            "select sha256, min(file_id) from audit.file_ingestion "
            "where status <> 'duplicate' group by sha256"
        ).fetchall()
    )
    return seen, first


_FILE_COLUMNS = {
    "file_id": "int64",
    "file_name": "string",
    "sha256": "string",
    "size_bytes": "int64",
    "unit_code": "string",
    "report_year": "int32",
    "status": "string",
    "rows_read": "int32",
    "rows_loaded": "int32",
    "rows_rejected": "int32",
    "reason": "string",
    "run_id": "string",
    "raw_path": "string",
    "prepared_on": "date32",
    "identified_by": "string",
    "warnings": "int32",
    "duplicate_of": "int64",
    "staged_digest": "string",
    "staged_by": "string",
    "landed_at": "timestamp[us, tz=UTC]",
}
_FINDING_COLUMNS = {
    "file_id": "int64",
    "sheet": "string",
    "excel_row": "int32",
    "column_name": "string",
    "value": "string",
    "rule": "string",
    "severity": "string",
    "message": "string",
    "cell": "string",
}


def _arrow_type(kind: str):
    """The Arrow type of a column kind above: a type alias, or a time in UTC."""
    import pyarrow as pa

    if kind == "timestamp[us, tz=UTC]":  # no alias names a time zone
        return pa.timestamp("us", tz="UTC")
    return pa.type_for_alias(kind)


@dataclass(frozen=True)
class StatusChange:
    """A recorded file whose status a run changed (restaged, or resolved against another)."""

    file_id: int
    file_name: str
    before: str
    after: str
    cause: str  # "after rules changed", "on reprocess" or "after ... was recorded"

    def __str__(self) -> str:
        return f"{self.file_name}: status {self.before} -> {self.after} {self.cause}"


def record(
    con,
    outcomes: list[dict],
    now: dt.datetime | None = None,
    keep_rules: list[str] | None = None,
) -> list[StatusChange]:
    """Record each processed file once, its findings, and where it was seen.

    Set-based: the outcomes become two Arrow tables, and a handful of statements replace
    the files' rows in one transaction (row by row, 3,000 files took 9 s; this takes well
    under one). Returns (and logs) the files already recorded whose status changed.

    Findings of `keep_rules` (the checks across files and years, which no outcome carries)
    stay: the next build replaces them, and only those it finds anew are alerted.
    """
    import pyarrow as pa

    now = now or dt.datetime.now(dt.UTC)
    latest = {o["file_id"]: o for o in outcomes}  # a file twice: its last outcome counts
    files, findings = [], []
    for o in latest.values():
        status = "loaded" if o["status"] == "valid" else o["status"]
        prepared, landed = o.get("prepared_on"), o.get("landed_at")
        files.append(
            {
                **{key: o.get(key) for key in _FILE_COLUMNS},
                "status": status,
                "rows_loaded": o["rows_read"] if status == "loaded" else 0,
                "prepared_on": dt.date.fromisoformat(prepared) if prepared else None,
                "landed_at": dt.datetime.fromisoformat(landed) if landed else None,
            }
        )
        findings += [{**f, "file_id": o["file_id"]} for f in o["findings"]]

    def table(rows: list[dict], columns: dict[str, str]):
        schema = pa.schema([(name, _arrow_type(kind)) for name, kind in columns.items()])
        return pa.Table.from_pylist([{k: r.get(k) for k in columns} for r in rows], schema)

    con.register("recorded_files", table(files, _FILE_COLUMNS))
    con.register("recorded_findings", table(findings, _FINDING_COLUMNS))
    con.execute("begin transaction")
    try:
        con.execute(
            "create or replace temp table before_record as "
            "select file_id, status, staged_by from audit.file_ingestion"
        )
        # A file reprocessed on request keeps its arrival time: which of two submissions
        # for a unit and year is the later one must not change because one was re-read.
        con.execute(
            """
            create or replace temp table recorded as
            select
                r.* replace (
                    coalesce(f.landed_at, r.landed_at) as landed_at,
                    -- the same rows staged again: as many in the facts as the last build
                    -- counted (`set_rows_loaded`), since no build need follow
                    case
                        when f.status = 'loaded' and r.status = 'loaded'
                            and f.staged_digest is not distinct from r.staged_digest
                            then f.rows_loaded
                        else r.rows_loaded
                    end as rows_loaded
                ),
                coalesce(f.ingested_at, ?::timestamptz) as ingested_at
            from recorded_files r left join audit.file_ingestion f using (file_id)
            """,
            [now],
        )
        con.execute(
            "delete from audit.file_ingestion where file_id in (select file_id from recorded)"
        )
        con.execute(
            "delete from audit.rejected_row where file_id in (select file_id from recorded) "
            "and not list_contains(?, rule)",
            [keep_rules or []],
        )
        # By name: the Arrow tables carry the audit tables' own columns (superseded_by is
        # left to resolve_resubmissions).
        con.execute("insert into audit.file_ingestion by name select * from recorded")
        con.execute("insert into audit.rejected_row by name select * from recorded_findings")
        con.execute(
            """
            insert or ignore into audit.file_sighting
            select distinct on (sha256, file_name) sha256, file_name, file_id, ?::timestamptz
            from recorded order by sha256, file_name, file_id
            """,
            [now],
        )
        resolve_resubmissions(con)
        changes = _status_changes(con)
        con.execute("commit")
    except Exception:
        rollback(con)
        raise
    finally:
        con.execute("drop table if exists recorded")
        con.execute("drop table if exists before_record")
        con.unregister("recorded_files")
        con.unregister("recorded_findings")
    for change in changes:
        log.info("%s", change)
    return changes


def _status_changes(con) -> list[StatusChange]:
    """Files recorded before this run whose status is not what it was."""
    rows = con.execute(
        """
        select
            f.file_id,
            f.file_name,
            b.status,
            f.status,
            case
                when r.file_id is null
                    then 'after another file for its unit and year was recorded'
                when b.staged_by is distinct from r.staged_by then 'after rules changed'
                else 'on reprocess'
            end
        from audit.file_ingestion as f
        join before_record as b on b.file_id = f.file_id
        left join recorded as r on r.file_id = f.file_id
        where b.status <> f.status
        order by f.file_name, f.file_id
        """
    ).fetchall()
    return [StatusChange(*row) for row in rows]


def resolve_resubmissions(con) -> None:
    """Of the accepted files for one unit and year, the latest counts; the others are superseded.

    Later means: a later `Ngày lập`, or, where that is equal or missing, the later arrival.
    The files of a unit and year are taken in the order they arrived, each replacing the one
    that counts so far unless both carry a `Ngày lập` and its own is the earlier: a file
    without one replaces a dated file that came before it, and is replaced by any file after
    it. (Arrival: `ingested_at`, the time of the run that found the file; within one run,
    `landed_at`, when the file landed in the landing folder; then the file name and id.)
    """
    rows = con.execute(
        """
        select file_id, unit_code, report_year, prepared_on
        from audit.file_ingestion
        where status in ('loaded', 'superseded')
        order by unit_code, report_year, ingested_at, landed_at nulls first, file_name, file_id
        """
    ).fetchall()
    winners: dict[tuple, tuple[int, object]] = {}  # (unit, year) -> (file_id, prepared_on)
    for file_id, unit_code, report_year, prepared_on in rows:
        current = winners.get((unit_code, report_year))
        if (
            current is None
            or prepared_on is None
            or current[1] is None
            or prepared_on >= current[1]
        ):
            winners[(unit_code, report_year)] = (file_id, prepared_on)
    ids = [file_id for file_id, _, _, _ in rows]
    winner_ids = [winners[(unit, year)][0] for _, unit, year, _ in rows]
    con.execute(
        "create or replace temp table ranked as select unnest($ids::bigint[]) as file_id, "
        "unnest($winners::bigint[]) as winner, unnest($positions::integer[]) as position",
        {
            "ids": ids,
            "winners": winner_ids,
            "positions": [1 if i == w else 2 for i, w in zip(ids, winner_ids, strict=True)],
        },
    )
    con.execute(
        """
        update audit.file_ingestion as f
        set status = case when r.position = 1 then 'loaded' else 'superseded' end,
            superseded_by = case when r.position = 1 then null else r.winner end,
            -- A file that stays loaded keeps the count its last build gave
            -- (`set_rows_loaded`); one loaded now has its rows read until the next build.
            rows_loaded = case
                when r.position <> 1 then 0
                when f.status = 'loaded' then f.rows_loaded
                else f.rows_read
            end,
            -- The file that counts by name, and why: its later Ngày lập, or its arrival.
            reason = case
                when r.position = 1 then null
                when w.prepared_on > f.prepared_on
                    then 'Đã được thay thế bởi tệp ''' || w.file_name || ''' (file_id '
                    || r.winner || ') của cùng đơn vị và năm, có Ngày lập '
                    || strftime(w.prepared_on, '%d/%m/%Y') || ' muộn hơn Ngày lập '
                    || strftime(f.prepared_on, '%d/%m/%Y') || ' của tệp này. / Replaced by '''
                    || w.file_name || ''' (file_id ' || r.winner || ') for the same unit and '
                    || 'year, which has a later Ngày lập (' || strftime(w.prepared_on, '%d/%m/%Y')
                    || ' against this file''s ' || strftime(f.prepared_on, '%d/%m/%Y') || ').'
                else 'Đã được thay thế bởi tệp gửi sau cho cùng đơn vị và năm: '''
                    || w.file_name || ''' (file_id ' || r.winner || '). / Replaced by a later '
                    || 'file for the same unit and year: ''' || w.file_name || ''' (file_id '
                    || r.winner || ').'
            end
        from ranked as r
        join audit.file_ingestion as w on w.file_id = r.winner
        where r.file_id = f.file_id
        """
    )
    con.execute("drop table ranked")


def set_rows_loaded(con, rows: dict[int, int]) -> int:
    """Store each loaded file's rows in the warehouse's facts (`build.rows_in_facts`) as its
    `rows_loaded`; a loaded file missing from `rows` has none there. `record` and
    `resolve_resubmissions` set it to the rows read, before a build says which of them a
    report of higher rank outranked. Returns how many files' count changed."""
    import pyarrow as pa

    con.register(
        "rows_in_facts",
        pa.table(
            {"file_id": list(rows), "n": list(rows.values())},
            pa.schema([("file_id", pa.int64()), ("n", pa.int32())]),
        ),
    )
    try:
        changed = con.execute(
            """
            update audit.file_ingestion as f
            set rows_loaded = coalesce(r.n, 0)
            from (
                select i.file_id, r.n from audit.file_ingestion as i
                left join rows_in_facts as r using (file_id)
                where i.status = 'loaded'
            ) as r
            where r.file_id = f.file_id and f.rows_loaded is distinct from coalesce(r.n, 0)
            """
        ).fetchone()
    finally:
        con.unregister("rows_in_facts")
    return int(changed[0]) if changed else 0


def states(con, file_ids: list[int]) -> dict[int, tuple[str | None, str]]:
    """The staging stamp and status each of these files is recorded with (recorded only)."""
    rows = con.execute(
        "select file_id, staged_by, status from audit.file_ingestion "
        "where list_contains(?, file_id)",
        [file_ids],
    ).fetchall()
    return {file_id: (stamp, status) for file_id, stamp, status in rows}


def superseded(con, file_ids: list[int]) -> dict[int, tuple[int, str, bool]]:
    """Of these files, those recorded superseded: the file that counts instead, why, and
    whether that file arrived first (it outranked this one at once, by its later Ngày lập;
    arrival as `resolve_resubmissions` orders it)."""
    rows = con.execute(
        """
        select
            f.file_id,
            f.superseded_by,
            f.reason,
            (
                select first(a.file_id order by
                    a.ingested_at, a.landed_at nulls first, a.file_name, a.file_id)
                from audit.file_ingestion as a
                where a.file_id in (f.file_id, f.superseded_by)
            ) = f.superseded_by as winner_came_first
        from audit.file_ingestion as f
        where list_contains(?, f.file_id) and f.status = 'superseded'
        """,
        [file_ids],
    ).fetchall()
    return {file_id: (winner, reason, bool(first)) for file_id, winner, reason, first in rows}


def recorded_files(con, year: int | None = None, unit_code: str | None = None) -> list[dict]:
    """Files already recorded, optionally of one report year and unit, for reprocessing.

    Their raw copies are read again, so a file reprocesses even after it left the landing folder.
    """
    return _landed(
        con,
        "($year is null or report_year = $year) and ($unit is null or unit_code = $unit)",
        {"year": year, "unit": unit_code},
    )


def stale_files(con, stamp: str) -> list[dict]:
    """Files recorded with another staging stamp than `stamp`, or none (release 90c1f14
    recorded none): an older reader or older rules staged them. Compared in SQL, so a run
    with nothing stale reads no outcome file."""
    return _landed(con, "staged_by is distinct from $stamp", {"stamp": stamp})


def _landed(con, where: str, params: dict) -> list[dict]:
    """Recorded files matching `where`, as the discover step's dicts, in arrival order."""
    cursor = con.execute(
        f"""
        select file_id, file_name, sha256, size_bytes, raw_path, duplicate_of
        from audit.file_ingestion
        where {where}
        order by ingested_at, file_id
        """,  # noqa: S608  `where` is one of this module's own conditions
        params,
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def loaded_files(con) -> list[tuple[int, str]]:
    """(file_id, sha256) of every file whose rows count now."""
    return con.execute(
        "select file_id, sha256 from audit.file_ingestion where status = 'loaded' order by file_id"
    ).fetchall()


def cross_warned(
    con,
    rules: list[str],
    run_files: list[int],
    region: Callable[[str, int], str | None] | None = None,
    anywhere: list[str] | None = None,
    anywhere_in_year: list[str] | None = None,
) -> list[int]:
    """The loaded files of earlier runs that hold warnings across files (of `rules`) a run's
    files may have changed: those it checks again, to withdraw what no longer holds
    (`replace_cross_findings`).

    A report of year N weighs in the checks of years N and N+1 (the year before: a jump, a
    missing cooperative, a count) and, as history, of later years; from 2025, where it
    places its cooperatives, of every year from 2025. So the files checked again are those
    of the year before the run's earliest, or from 2025 when the run has a report of 2025
    or later; every such file when no run file has a year. With `region` (a unit's
    province in force since 01/07/2025, by unit code and report year; None when unknown),
    only those of the run's provinces: the checks compare the reports of one province's
    units (a cooperative's years, a province's report and its communes'), and a province
    of 2026 does not change the warnings of another's 2025 report; but a file holding a
    warning of `anywhere` (rules comparing units of any province: a code two units report,
    a report another outranks) is checked again whatever its province, and so is a file
    holding a warning of `anywhere_in_year` of a report year of the run's files (a
    cooperative missing from its unit's report is no longer missing once a unit of another
    province reports it that year: it moved)."""
    from etl.contract.reference import LAST_FORMER_YEAR

    first_placing = LAST_FORMER_YEAR + 1
    rows = con.execute(
        """
        with run_years as (
            select min(report_year) - 1 as earliest, max(report_year) as latest
            from audit.file_ingestion where list_contains($files, file_id)
        ),

        since as (
            select case
                when latest >= $placing then least(earliest, $placing) else earliest
            end as year
            from run_years
        )

        select
            r.file_id,
            f.unit_code,
            f.report_year,
            bool_or(list_contains($anywhere, r.rule)) as anywhere,
            bool_or(list_contains($in_year, r.rule)) as anywhere_in_year
        from audit.rejected_row as r
        join audit.file_ingestion as f using (file_id)
        where f.status = 'loaded' and list_contains($rules, r.rule)
            and not list_contains($files, r.file_id)
            and f.report_year >= coalesce((select year from since), f.report_year)
        group by all
        order by r.file_id
        """,
        {
            "rules": rules,
            "files": run_files,
            "placing": first_placing,
            "anywhere": anywhere or [],
            "in_year": anywhere_in_year or [],
        },
    ).fetchall()
    if region is None or not rows:
        return [file_id for file_id, *_ in rows]

    def of(unit_code: str | None, year: int | None) -> str | None:
        return None if unit_code is None or year is None else region(unit_code, year)

    run = con.execute(
        "select unit_code, report_year from audit.file_ingestion "
        "where list_contains($files, file_id)",
        {"files": run_files},
    ).fetchall()
    mine = {of(unit_code, year) for unit_code, year in run}
    if None in mine:  # a run file of no known province: every candidate, when in doubt
        return [file_id for file_id, *_ in rows]
    years = {year for _, year in run}
    return [
        file_id
        for file_id, unit_code, year, anywhere_held, in_year in rows
        if anywhere_held
        or (in_year and year in years)
        or (where := of(unit_code, year)) is None
        or where in mine
    ]


# A warning of `cross_found` (c) stored already: its identity, NULLs compared as '' (-1 for
# the row).
_STORED = """
    select 1 from audit.rejected_row r
    where list_contains($rules, r.rule)
        and r.file_id = c.file_id and r.rule = c.rule
        and coalesce(r.sheet, '') = coalesce(c.sheet, '')
        and coalesce(r.excel_row, -1) = coalesce(c.excel_row, -1)
        and coalesce(r.column_name, '') = coalesce(c.column_name, '')
        and coalesce(r.value, '') = coalesce(c.value, '')
"""


@dataclass(frozen=True)
class CrossFindings:
    """What `replace_cross_findings` changed: the warnings not stored before, by file, the
    files that lost a stored warning (`_withdraw`) and those whose stored warning now says
    another value (`_refresh`), whose feedback is then out of date."""

    new: dict[int, list]
    withdrawn: list[int]
    changed: list[int] = field(default_factory=list)


def replace_cross_findings(
    con,
    cross: dict[int, list],
    rules: list[str],
    run_files: list[int] | None = None,
    holding: dict[int, set[tuple]] | None = None,
    current: dict[int, list[tuple]] | None = None,
    moved: dict[str, str] | None = None,
) -> CrossFindings:
    """Store the current warnings across files and years; return those not stored before
    and the files that lost one.

    With `run_files` (the files of this run), only those files' warnings are replaced, and
    `cross` should hold what the run records (`etl.quality.validate.for_run`). A file of an
    earlier run gains only those of `cross` on it not stored already (a rule whose warned
    file the contract names: `etl.quality.validate.on_warned_file_rules`); it loses those
    whose cause left the warehouse: every one when it is no longer loaded (superseded), and,
    on a file of `holding` (checked again by this run), each not among what holds on it now
    (`etl.quality.validate.holding`: rule, sheet, row, column, and the value of one on no
    row; `_withdraw`); one that still holds on its row with another value takes the value
    that holds now (`current`: those of the files checked again, `_refresh`); one moved to
    its cause (its text the rule's there, `moved`) goes unless its value still holds.
    Without `run_files`, every stored one is replaced.

    Set-based: the warnings become one Arrow table, which of them were stored before is one
    anti join on their identity (file, rule, sheet, row, column, value), and they are
    stored with one insert (row by row, 4,565 warnings took 5 s).
    """
    import pyarrow as pa

    scope = "list_contains($rules, rule)"
    params: dict = {"rules": rules}
    if run_files is not None:
        scope += " and list_contains($files, file_id)"
        params["files"] = sorted(run_files)
    found = [(file_id, f) for file_id, items in cross.items() for f in items]
    columns: dict[str, list] = {"position": list(range(len(found)))}
    columns["file_id"] = [file_id for file_id, _ in found]
    for name in _FINDING_COLUMNS:
        if name != "file_id":
            columns[name] = [getattr(f, name) for _, f in found]
    schema = pa.schema(
        [("position", pa.int64())]
        + [(name, pa.type_for_alias(kind)) for name, kind in _FINDING_COLUMNS.items()]
    )
    con.register("cross_found", pa.Table.from_pydict(columns, schema))
    con.execute("begin transaction")
    try:
        fresh = con.execute(
            f"""
            select c.position from cross_found c
            where not exists ({_STORED})
            order by c.position
            """,  # noqa: S608  constant condition
            {"rules": rules},
        ).fetchall()
        con.execute(f"delete from audit.rejected_row where {scope}", params)  # noqa: S608  constant scope
        # Refreshed first: a warning moved to its cause whose value changed is updated, not
        # withdrawn as one that no longer holds (`_withdraw` compares those by value).
        changed = (
            _refresh(con, rules, holding or {}, current or {}) if run_files is not None else []
        )
        gone = _withdraw(con, rules, holding or {}, moved) if run_files is not None else []
        # A file of an earlier run keeps what it holds: only what it lacks is added.
        con.execute(
            f"""
            insert into audit.rejected_row by name
            select * exclude (position) from cross_found c
            where $every or list_contains($files, c.file_id) or not exists ({_STORED})
            order by position
            """,  # noqa: S608  constant condition
            {"rules": rules, "every": run_files is None, "files": sorted(run_files or [])},
        )
        con.execute("commit")
    except Exception:
        rollback(con)
        raise
    finally:
        con.unregister("cross_found")
    if gone:
        _say_withdrawn(con, gone)
    if changed:
        _say_refreshed(con, changed)
    new: dict[int, list] = {}
    for (position,) in fresh:
        file_id, f = found[position]
        new.setdefault(file_id, []).append(f)
    return CrossFindings(
        new,
        sorted({file_id for file_id, _ in gone}),
        sorted({file_id for file_id, _ in changed}),
    )


def _withdraw(
    con, rules: list[str], holding: dict[int, set[tuple]], moved: dict[str, str] | None = None
) -> list[tuple[int, str]]:
    """Delete the warnings across files (of `rules`) stored on files no longer loaded, and
    on the files of `holding` those not among what holds on them now: by rule, sheet, row
    and column, and value too for a warning on no row (`B (2022: 663)`, a cooperative
    missing from the report), whose value says what it is of, and for one moved to the row
    that causes it (its text the rule's at a cause, `moved`: by rule): that row may hold a
    warning of the same rule found on it, which says nothing of the moved one's cause
    (`17000 (2023: 1650)`, the 2024 jump moved to the 2023 report, goes when the 2024
    report no longer jumps, though the 2023 row jumps from 2022). Within the caller's
    transaction; what was alerted stays in audit.quality_alert, a record of what was sent.
    Returns the (file_id, rule) of each warning deleted."""
    import pyarrow as pa

    held = [(file_id, *identity) for file_id, found in holding.items() for identity in found]
    names = ("file_id", "rule", "sheet", "excel_row", "column_name", "value")
    schema = pa.schema([(name, pa.type_for_alias(_FINDING_COLUMNS[name])) for name in names])
    con.register(
        "cross_holding",
        pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in held], schema),
    )
    try:
        gone = con.execute(
            """
            delete from audit.rejected_row as r
            where list_contains($rules, r.rule) and (
                r.file_id not in (
                    select file_id from audit.file_ingestion where status = 'loaded'
                )
                or (
                    list_contains($checked, r.file_id)
                    and not exists (
                        select 1 from cross_holding as h
                        where h.file_id = r.file_id and h.rule = r.rule
                            and coalesce(h.sheet, '') = coalesce(r.sheet, '')
                            and coalesce(h.excel_row, -1) = coalesce(r.excel_row, -1)
                            and coalesce(h.column_name, '') = coalesce(r.column_name, '')
                            -- on a row, its value only describes it (`… (24611, 24615; …)`
                            -- names a third unit later): the row is what the warning is of,
                            -- but for one moved to its cause (`_refresh` updated its value)
                            and (
                                (
                                    r.excel_row is not null
                                    and not list_contains(
                                        $moved, r.rule || chr(31) || coalesce(r.message, '')
                                    )
                                )
                                or coalesce(h.value, '') = coalesce(r.value, '')
                            )
                    )
                )
            )
            returning r.file_id, r.rule
            """,
            {
                "rules": rules,
                "checked": sorted(holding),
                "moved": [f"{rule}\x1f{text}" for rule, text in (moved or {}).items()],
            },
        ).fetchall()
    finally:
        con.unregister("cross_holding")
    return gone


def _refresh(
    con, rules: list[str], holding: dict[int, set[tuple]], current: dict[int, list[tuple]]
) -> list[tuple[int, str]]:
    """On the files checked again (`holding`), update each stored warning across files (of
    `rules`) that still holds on its row although what it says does not (before
    `_withdraw`, which would keep a warning found on the row, and not one moved there): the
    value that holds on that row now, of a warning with the same text, takes its place
    (`6400000001 (66, 24611; tính/counted: 66)` becomes `… tính/counted: 24611)` when a
    later report gives 24611's province the cooperative's history). `current`: by file, the
    (rule, sheet, excel_row, column_name, value, message) of the warnings that hold on it
    (`etl.quality.validate.current`); the text tells a warning found on the row from one a
    later file causes, moved to it. Only where the row's rule, sheet, column and text leave
    one stored value stale and one value new; a row with more is left as stored (the values
    are what tells its warnings apart). Within the caller's transaction; returns the
    (file_id, rule) of each warning updated."""
    found: dict[tuple, set[str | None]] = {}
    for file_id, identities in current.items():
        if file_id not in holding:
            continue
        for rule, sheet, row, column, value, message in identities:
            if rule in rules and row is not None:
                found.setdefault((file_id, rule, sheet, row, column, message), set()).add(value)
    if not found:
        return []
    stored: dict[tuple, set[str | None]] = {}
    for file_id, rule, sheet, row, column, message, value in con.execute(
        """
        select file_id, rule, sheet, excel_row, column_name, message, value
        from audit.rejected_row
        where list_contains($rules, rule) and list_contains($files, file_id)
            and excel_row is not null
        """,
        {"rules": rules, "files": sorted(holding)},
    ).fetchall():
        stored.setdefault((file_id, rule, sheet, row, column, message), set()).add(value)
    updates = []
    for key, values in stored.items():
        held = holding[key[0]]
        stale = {v for v in values if (*key[1:5], v) not in held}
        fresh = found.get(key, set()) - values
        if len(stale) == 1 and len(fresh) == 1:
            [old], [new] = stale, fresh
            updates.append((key, old, new))
    for (file_id, rule, sheet, row, column, message), old, new in updates:
        con.execute(
            """
            update audit.rejected_row set value = $value
            where file_id = $file and rule = $rule and excel_row = $row
                and coalesce(sheet, '') = coalesce($sheet, '')
                and coalesce(column_name, '') = coalesce($column, '')
                and coalesce(message, '') = coalesce($message, '')
                and coalesce(value, '') = coalesce($old, '')
            """,
            {
                "value": new,
                "file": file_id,
                "rule": rule,
                "row": row,
                "sheet": sheet,
                "column": column,
                "message": message,
                "old": old,
            },
        )
    return [(key[0], key[1]) for key, _, _ in updates]


def _say_refreshed(con, changed: list[tuple[int, str]]) -> None:
    """Log the warnings across files `_refresh` updated, per file and rule."""
    names = dict(
        con.execute(
            "select file_id, file_name from audit.file_ingestion where list_contains(?, file_id)",
            [sorted({file_id for file_id, _ in changed})],
        ).fetchall()
    )
    lines = [
        f"{names.get(file_id, file_id)} {rule} x{n}"
        for (file_id, rule), n in Counter(changed).items()
    ]
    log.info("warnings across files updated, their value changed: %s", "; ".join(sorted(lines)))


def _say_withdrawn(con, gone: list[tuple[int, str]]) -> None:
    """Log the warnings across files `_withdraw` deleted, per file and rule: on a file still
    loaded their cause left the warehouse, on another the file itself did (superseded)."""
    files = {
        file_id: (name, status)
        for file_id, name, status in con.execute(
            "select file_id, file_name, status from audit.file_ingestion "
            "where list_contains(?, file_id)",
            [sorted({file_id for file_id, _ in gone})],
        ).fetchall()
    }
    lines: dict[bool, list[str]] = {True: [], False: []}
    for (file_id, rule), n in Counter(gone).items():  # by file, not name: names may repeat
        name, status = files.get(file_id, (str(file_id), ""))
        lines[status == "loaded"].append(f"{name} {rule} x{n}")
    for loaded, why in ((True, "their cause gone"), (False, "their file no longer loaded")):
        if lines[loaded]:
            log.info(
                "warnings across files withdrawn, %s: %s", why, "; ".join(sorted(lines[loaded]))
            )


def files(con, file_ids: list[int]) -> list[dict]:
    """file_ingestion rows as dicts."""
    cursor = con.execute(
        "select * from audit.file_ingestion where list_contains(?, file_id) order by file_id",
        [file_ids],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def pending_alerts(con) -> list[tuple]:
    """Alerts not yet attempted to the end: (alert_id, severity, subject, body,
    email_delivered, webhook_delivered, email_error, webhook_error), the channels a try
    before delivered it on True, those it failed on for good False (`record_delivery`)."""
    return con.execute(
        "select alert_id, severity, subject, body, email_delivered, webhook_delivered, "
        "email_error, webhook_error "
        "from audit.quality_alert where attempted_at is null order by raised_at"
    ).fetchall()


def record_delivery(
    con, alert_id: str, results: dict, now: dt.datetime | None = None, final: bool = True
) -> None:
    """Each channel's result; not `final`: a channel that may deliver at a later try
    (`retried`) is tried again, NULL till then with its error (`attempted_at` stays NULL);
    one that failed for good (some recipients have the e-mail, the webhook may have it)
    stays False and is not sent again."""

    def delivered(result) -> bool | None:
        return None if not final and getattr(result, "retried", False) else result.delivered

    con.execute(
        """
        update audit.quality_alert
        set attempted_at = ?, email_delivered = ?, email_error = ?,
            webhook_delivered = ?, webhook_error = ?
        where alert_id = ?
        """,
        [
            (now or dt.datetime.now(dt.UTC)) if final else None,
            delivered(results["email"]),
            results["email"].error,
            delivered(results["webhook"]),
            results["webhook"].error,
            alert_id,
        ],
    )
