"""The published warehouse's exports: Parquet files of the marts (and the main core tables)
and one workbook for officials, with Vietnamese headers.

Written into a temporary folder beside the exports and moved in file by file, so a reader of
the export folder never sees a half-written file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from etl.config import CONFIG_DIR, Settings, labels_vi, tables_vi, values_vi
from etl.outputs.stamps import code_digest, read_json, tables_facts, write_json
from etl.warehouse.build import MART_MODELS

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Future

log = logging.getLogger(__name__)

EXPORTED_CORE = ("dim_cooperative", "fact_cooperative_year")
# The officials' workbook holds the summaries, one sheet each in this reading order; the
# row-per-cooperative-year mart (150,000 rows nationally) is in Parquet only.
# tests/test_models.py checks that these and that one are every mart the SQL builds.
XLSX_MARTS = (
    "district_year",
    "commune_year",
    "program_year",
    "cooperative_scorecard",
    "replication_candidates",
    "placement_review",
    "phase_summary",
    "commune_phase",
    "reporting_status",
)


def export(settings: Settings) -> list[Path]:
    """Parquet files of the marts (and the main core tables) and one XLSX of the marts.

    Only the files whose tables changed are written again: each file's fingerprint (of its
    tables' columns, comments and rows, and of the code that writes it) is kept beside the
    exports in `.fingerprints.json`, written after the files it describes. A file that is
    missing, or whose fingerprint is unknown or different, is written. The officials'
    workbook, when written, copies the chunks of rows that did not change from the workbook
    it replaces (`etl.outputs.xlsx.write_workbook`; where they are: `.marts.xlsx.parts.json`).
    Returns the files written.

    In three steps (`Export`: what to write; its `jobs`, each run by `run_job`; `finish`),
    which `write_all` runs with the workbook's jobs spread over forked processes: the same
    files.
    """
    return _export(settings)[0]


def _export(settings: Settings) -> tuple[list[Path], dict[str, str]]:
    """`export`, and the facts of the tables it read (`Export.facts`)."""
    try:
        _connection(str(settings.warehouse))  # before the plan (`_CONNECTIONS`)
        plan = Export(settings)
        results = [run_job(job) for job in plan.jobs]
    finally:
        _close_connections()
    return plan.finish(results), plan.facts


class Export:
    """What an export writes: the fingerprints of every file, the Parquet files and chunks
    of the workbook to build (`jobs`, independent of each other), and, once they ran,
    `finish` to move the files in place. Reads the warehouse once, then closes it; the
    workbook first, whose parts it passes to `hand_over`, if given, as soon as they are
    known (they are the last `jobs`)."""

    def __init__(
        self, settings: Settings, hand_over: Callable[[list[tuple]], None] | None = None
    ) -> None:
        import duckdb

        from etl.outputs import xlsx

        self.settings = settings
        target = settings.export_dir
        self.staging = target / ".export.tmp"
        shutil.rmtree(self.staging, ignore_errors=True)
        (self.staging / "parquet").mkdir(parents=True)
        before = _read_fingerprints(target)
        self.after: dict[str, str] = {}
        self.workbook: xlsx.Prepared | None = None
        warehouse = str(settings.warehouse)
        con = duckdb.connect(warehouse, read_only=True)
        try:
            code = _code_fingerprint()
            # The workbook first: its parts are handed over (`hand_over`) as soon as they
            # are known, before the Parquet files are looked at.
            sheets = [f"marts.{m}" for m in XLSX_MARTS]
            facts = _TableFacts(con, sheets)
            self.after[XLSX] = facts.fingerprint(sheets, code)
            parts: list[tuple] = []
            if before.get(XLSX) != self.after[XLSX] or not (target / XLSX).exists():
                # The rows that did not change are copied from the workbook being replaced.
                earlier = xlsx.Reuse(target / XLSX, read_json(target / XLSX_PARTS))
                self.workbook = xlsx.prepare_workbook(con, _xlsx_sheets(con, sheets), earlier)
                largest_first = xlsx.parts_to_render(self.workbook, CHUNKS_PER_JOB)
                parts = [("xlsx", warehouse, part) for part in reversed(largest_first)]
            if hand_over is not None:
                hand_over(parts)
            tables = [f"marts.{m}" for m in MART_MODELS] + [f"core.{t}" for t in EXPORTED_CORE]
            facts.load(tables)
            # Every table's, for the officials' report's stamp (`write_all`).
            self.facts: dict[str, str] = facts.known
            parquet = []
            for table in tables:
                name = f"parquet/{table}.parquet"
                self.after[name] = facts.fingerprint([table], code)
                if before.get(name) == self.after[name] and (target / name).exists():
                    continue
                parquet.append(("parquet", warehouse, table, str(self.staging / name)))
            rows = dict(
                con.execute(
                    " union all ".join(f"select '{j[2]}', count(*) from {j[2]}" for j in parquet)  # noqa: S608  table names are the project's own
                ).fetchall()
                if parquet
                else []
            )
        finally:
            con.close()
        # The Parquet files (fewest rows first), then the workbook's parts, smallest first:
        # `write_all` hands the parts to the forks, which take them from the first once the
        # reports are drawn, while this process writes the Parquet files, then takes the
        # parts no fork has taken yet, the largest first (`_take_over`).
        self.jobs: list[tuple] = sorted(parquet, key=lambda job: rows[job[2]]) + parts

    def finish(self, results: list) -> list[Path]:
        """Write the workbook from the chunks built (`results` of `run_job`, in the order
        of `jobs`), move every file in place, then the parts and the fingerprints."""
        from etl.outputs import xlsx, zip_parts

        target = self.settings.export_dir
        parts: dict | None = None
        if self.workbook is not None:
            fresh: dict[int, dict] = {}
            for job, result in zip(self.jobs, results, strict=True):
                if job[0] == "xlsx":
                    number, built = result
                    fresh.setdefault(number, {}).update(built)
            path = self.staging / XLSX
            try:
                parts = xlsx.assemble(path, self.workbook, fresh)
            except zip_parts.TooLarge:
                import duckdb

                con = duckdb.connect(str(self.settings.warehouse), read_only=True)
                try:
                    xlsx._write_whole(con, path, self.workbook.sheets)
                finally:
                    con.close()
        written = []
        (target / "parquet").mkdir(parents=True, exist_ok=True)
        for path in sorted(self.staging.rglob("*.*")):
            final = target / path.relative_to(self.staging)
            os.replace(path, final)
            written.append(final)
        if any(path.name == XLSX for path in written):
            # The parts of the workbook now in place; none (nothing to reuse) if too large.
            write_json(target / XLSX_PARTS, parts or {})
        _write_fingerprints(target, self.after)
        shutil.rmtree(self.staging, ignore_errors=True)
        log.info(
            "exported %d file(s) to %s (%d unchanged)",
            len(written),
            target,
            len(self.after) - len(written),
        )
        return written


# Chunks of the workbook's rows one job builds: a large sheet is shared between processes.
CHUNKS_PER_JOB = 12


def run_job(job: tuple):
    """One job of an `Export`, on a read-only connection of this process's own (a forked
    process opens its own, and keeps it for its next jobs: what it read of the warehouse
    stays in its cache): a Parquet file written into the staging folder, or chunks of the
    workbook built. Whoever runs jobs in its own process closes it (`_close_connections`)."""
    from etl.outputs import xlsx

    kind, warehouse, *rest = job
    con = _connection(warehouse)
    if kind == "parquet":
        table, path = rest
        con.execute(f"copy ({_parquet_select(con, table)}) to '{path}' (format parquet)")
        return path
    return xlsx.render_part(con, rest[0])


def _parquet_select(con, table: str) -> str:
    """The rows of `table` as its Parquet file holds them: a HUGEINT (DuckDB's sum of
    integers: members, new cooperatives) as BIGINT, since Parquet has no 128-bit integer and
    DuckDB would write it as DOUBLE (1600.0 members); a sum past BIGINT fails the export
    rather than lose digits."""
    huge = [
        '"' + name.replace('"', '""') + '"'
        for name, kind, *_ in con.execute(f"describe {table}").fetchall()
        if kind == "HUGEINT"
    ]
    cast = f" replace ({', '.join(f'{c}::bigint as {c}' for c in huge)})" if huge else ""
    return f"select *{cast} from {table}"  # noqa: S608  table and column names are the project's own


# Connections of `run_job`, by process and warehouse: a fork never uses its parent's.
# The process that plans an `Export` opens its own before the plan, so that the
# plan's reads (every row of every exported table, hashed) stay in the cache its jobs read
# (a process's connections to one DuckDB file share its database while one is open; the
# plan's own connection, closed, would otherwise take the cache with it).
_CONNECTIONS: dict[tuple[int, str], object] = {}


def _connection(warehouse: str):
    import duckdb

    key = (os.getpid(), warehouse)
    if key not in _CONNECTIONS:
        _CONNECTIONS[key] = duckdb.connect(warehouse, read_only=True)
    return _CONNECTIONS[key]


def _close_connections() -> None:
    """Close this process's connections of `run_job` (none is left open to be forked)."""
    for key in [key for key in _CONNECTIONS if key[0] == os.getpid()]:
        _CONNECTIONS.pop(key).close()  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Written:
    """What `write_all` wrote: the export files, the officials' report, the quality report
    (None when it was left to the caller)."""

    exports: list[Path]
    dashboard: Path
    report: Path | None


def write_all(settings: Settings, processes: int, quality_report: bool = True) -> Written:
    """The exports (`export`), the officials' report and, if `quality_report`, the quality
    report, spread over `processes` forked processes.

    The forks start first, on the two reports, which need nothing of the exports'; this
    process meanwhile reads what the exports have to write (`Export`), and hands them the
    workbook's parts (Python's work, building XML) as soon as they are planned, before it
    looks at the Parquet files. It writes the Parquet files itself
    (DuckDB's work, on DuckDB's threads: in a fork each would first read the tables into
    that fork's own cache), then works on the parts no fork has taken yet, the last (the
    largest) first (`_take_over`).
    The officials' report is drawn in a fork unless a chart was drawn in this process
    before (vl-convert's thread, which a forked process would not have: then it is drawn
    here meanwhile, `etl.outputs.charts.drawn_here`). Every job reads the warehouse on a
    read-only connection of its process's own; this process opens its own only once the
    forks are made (all at the first submit), and closes it before it leaves. The forks'
    log records are logged here, job by job in this order (the reports, then the exports),
    as `etl.forks.map_forked` does; those of the jobs run here as they happen. The files
    are those `export` and the writers write one after the other.
    """
    from etl.forks import ForkPool
    from etl.outputs.charts import drawn_here
    from etl.outputs.officials_report import write_dashboard
    from etl.outputs.quality_report import write_quality_report

    if processes <= 1:
        exported, facts = _export(settings)
        report = write_quality_report(settings) if quality_report else None
        # The report's marts are among the tables the exports just read: not hashed again.
        return Written(exported, write_dashboard(settings, facts), report)
    here = drawn_here()
    first: list[tuple] = [] if here else [("dashboard", settings)]
    if quality_report:
        first.append(("quality", settings))
    with ForkPool(_job, processes) as forks:
        started = [forks.submit(job) for job in first]
        handed: list[Future] = []

        def hand_over(parts: list[tuple]) -> None:  # the workbook's, once planned
            handed.extend(forks.submit(("export", part)) for part in parts)

        # The forks are made at the first submit, and a fork must not inherit the plan's
        # open connection: with no report to start them, the parts wait for the plan (and
        # the plan's reads are not kept for this process's jobs: `_CONNECTIONS`).
        try:
            if started:
                _connection(str(settings.warehouse))
            plan = Export(settings, hand_over if started else None)
            if not started:
                hand_over([job for job in plan.jobs if job[0] == "xlsx"])
            jobs: list[Future | None] = [None] * (len(plan.jobs) - len(handed)) + handed
            drawn = write_dashboard(settings, plan.facts) if here else None
        except BaseException:
            _close_connections()
            raise
        done_here = _take_over(plan.jobs, jobs)
        reports = [forks.result(job) for job in started]
        results = [
            forks.result(job) if job is not None and i not in done_here else done_here[i]
            for i, job in enumerate(jobs)
        ]
    exported = plan.finish(results)
    if drawn is None:
        drawn = reports.pop(0)
    return Written(exported, drawn, reports[0] if quality_report else None)


def _take_over(jobs: list[tuple], submitted: list[Future | None]) -> dict:
    """This process runs the jobs not handed to the forks (`submitted` None: the Parquet
    files), then works on those no fork has taken yet, from the last (the largest part of
    the workbook: `Export` orders them smallest first), while the forks are busy (the
    reports first, then the first parts): each one it can still withdraw from the pool
    (`Future.cancel`) it runs here. Stops at the first one a fork has taken: the forks take
    them in order. Returns the results by the job's index."""
    done = {}
    try:
        for index, future in enumerate(submitted):
            if future is None:
                done[index] = run_job(jobs[index])
        for index in reversed(range(len(submitted))):
            future = submitted[index]
            if future is None:
                continue
            if not future.cancel():
                break
            done[index] = run_job(jobs[index])
    finally:
        _close_connections()
    return done


def _job(job: tuple):
    kind, what = job
    if kind == "export":
        return run_job(what)
    if kind == "dashboard":
        from etl.outputs.officials_report import write_dashboard

        return write_dashboard(what)
    from etl.outputs.quality_report import write_quality_report

    return write_quality_report(what)


class _TableFacts:
    """Each table's columns, comment and row digest, asked of DuckDB once (a table in two
    files' fingerprints is read once); those of `tables` all at once."""

    def __init__(self, con, tables: list[str] | None = None) -> None:
        self.con = con
        self.known: dict[str, str] = tables_facts(con, tables) if tables else {}

    def load(self, tables: list[str]) -> None:
        """The facts of those of `tables` not known yet, all at once."""
        wanted = [table for table in tables if table not in self.known]
        if wanted:
            self.known.update(tables_facts(self.con, wanted))

    def of(self, table: str) -> str:
        if table not in self.known:
            self.known[table] = _table_facts(self.con, table)
        return self.known[table]

    def fingerprint(self, tables: list[str], code: str) -> str:
        digest = hashlib.sha256(code.encode())
        for table in tables:
            digest.update(self.of(table).encode())
        return digest.hexdigest()


XLSX = "marts.xlsx"
FINGERPRINTS = ".fingerprints.json"
# Where each chunk of rows of marts.xlsx is in it (`etl.outputs.xlsx.write_workbook`).
XLSX_PARTS = ".marts.xlsx.parts.json"


def _code_fingerprint() -> str:
    """The code and configuration that shape the exported files."""
    from etl.outputs import xlsx, zip_parts

    sources = (Path(__file__), Path(xlsx.__file__), Path(zip_parts.__file__))
    config = ("labels_vi.csv", "tables_vi.csv", "values_vi.csv")
    paths = (*sources, *(CONFIG_DIR / name for name in config))
    return code_digest(paths, packages=("duckdb",))


def _table_facts(con, table: str) -> str:
    """What a fingerprint holds of one table (`_TableFacts.fingerprint`)."""
    return tables_facts(con, [table])[table]


def _read_fingerprints(target: Path) -> dict[str, str]:
    return read_json(target / FINGERPRINTS)


def _write_fingerprints(target: Path, fingerprints: dict[str, str]) -> None:
    write_json(target / FINGERPRINTS, fingerprints)


def _xlsx_sheets(con, tables: list[str]) -> list:
    """The officials' workbook: an introduction sheet naming each table, described in
    Vietnamese first (config/tables_vi.csv), then in English (its `COMMENT ON`), then one
    sheet a table with Vietnamese headers, formatted numbers, and codes in Vietnamese
    (config/values_vi.csv: `late` shows `Nộp muộn (late)`; `etl/outputs/xlsx.py`: text is
    always text, never a formula). The Parquet files keep the codes, as SQL has them."""
    from etl.outputs.xlsx import Sheet

    labels = labels_vi()
    described = tables_vi()
    about = []
    for table in tables:
        comment = con.execute(
            "select comment from duckdb_tables() where schema_name || '.' || table_name = ?",
            [table],
        ).fetchone()
        english = (comment[0] if comment else "") or ""
        about.append(
            (table.split(".")[1], " / ".join(filter(None, (described.get(table), english))))
        )
    sheets = [
        Sheet(
            "Gioi_thieu",
            rows=tuple(about),
            widths=(32, 110),
            title_row="Báo cáo HTX: các bảng tổng hợp / HTX marts",
        )
    ]
    shown = values_vi()
    sheets += [
        Sheet(table.split(".")[1][:31], table=table, labels=labels, values=shown)
        for table in tables
    ]
    return sheets
