"""The `htx` command: Airflow set-up, the whole pipeline run, and its summary.

htx init                          migrate Airflow's metadata DB, create the writer pool,
                                  prepare the reference tables; make data/landing when
                                  HTX_LANDING_DIR is not set and it is not there
htx run                           init, run the DAGs on the landing folder (never written to)
htx airflow [--port N]            init Airflow, then `airflow standalone`: UI and scheduler
htx env                           print the environment Airflow's processes need (export ...)
htx summary                       print what the warehouse holds
htx tables                        describe every table
htx sql [QUERY | -f FILE] [--format table|csv|markdown|json]
                                  read-only SQL on the warehouse; no QUERY: a prompt
htx template --unit CODE --year YYYY --out FILE [--prefill]
                                  write the official workbook for one unit and year
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from etl.config import (
    INGEST_DAG_ID,
    PUBLISH_DAG_ID,
    RUN_BATCH_SIZE,
    WRITER_POOL,
    SettingError,
    Settings,
    cores,
    load_settings,
)

log = logging.getLogger("htx")


def _airflow(settings: Settings, *args: str) -> None:
    """Run an `airflow` CLI command with the project's Airflow environment."""
    binary = Path(sys.executable).with_name("airflow")
    env = {**os.environ, **settings.airflow_environ()}
    subprocess.run([str(binary), *args], env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603  the venv's own airflow, an argument list


def init_airflow(settings: Settings) -> None:
    """Migrate Airflow's metadata DB when it is not at this Airflow's schema, and create the
    one-slot writer pool. Both checks run in this process; `airflow db migrate` (the
    official path) runs only when the schema is behind, e.g. on the first run."""
    log.info("setting up Airflow in %s", settings.airflow_home)
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    os.environ.update(settings.airflow_environ())
    from airflow.models.pool import Pool
    from airflow.utils.db import check_migrations

    try:
        check_migrations(timeout=0)
    except TimeoutError:
        log.info("migrating the Airflow metadata DB (airflow db migrate)")
        _airflow(settings, "db", "migrate")
    else:
        log.info("the Airflow metadata DB is up to date")
    _sqlite_wal(settings.airflow_environ()["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    pool = Pool.get_pool(WRITER_POOL)
    if pool is None or pool.slots != 1:
        Pool.create_or_update_pool(
            WRITER_POOL, 1, "One writer at a time for DuckDB files", include_deferred=False
        )
        log.info("created the pool %s with one slot", WRITER_POOL)
    from etl.flow.lineage import retire_replaced_assets

    retire_replaced_assets(settings)  # an asset whose URI changed (upgrade, moved paths)
    log.info("Airflow ready: metadata DB migrated, pool %s", WRITER_POOL)


def _sqlite_wal(url: str) -> None:
    """Put a SQLite metadata DB in WAL mode (it stays so): the scheduler's reads no longer
    block the CLI's and the API's writes, e.g. `airflow backfill create`."""
    import contextlib
    import sqlite3

    if not url.startswith("sqlite:///"):
        return
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    with contextlib.closing(sqlite3.connect(path, timeout=60)) as db:
        mode = db.execute("pragma journal_mode=wal").fetchone()[0]
    log.info("Airflow metadata DB journal mode: %s", mode)


def landing_key(settings: Settings, landed: list[Path]) -> str | None:
    """What a run would find in the landing folder, without reading a file: each file's
    path, size and modification time, and the staging stamp (new rules restage every
    file). None when a file cannot be looked at (then anything may be new)."""
    import hashlib
    import json

    from etl.warehouse.stamp import staging_stamp

    listing = []
    for path in landed:  # below the landing folder (`landing_files`): its path names it
        try:
            seen = path.stat()
        except OSError:
            return None
        listing.append((str(path), seen.st_size, seen.st_mtime_ns))
    text = json.dumps([staging_stamp(settings.limits), listing])
    return hashlib.sha256(text.encode()).hexdigest()


def _landing_file(settings: Settings) -> Path:
    return settings.state_dir / "cache" / "landing_seen.json"


def _landing_seen(settings: Settings) -> str | None:
    """The `landing_key` of the last `htx run` whose DAG runs all succeeded: the same key
    now means that nothing landed or changed since, so there is nothing to validate."""
    import json

    try:
        return str(json.loads(_landing_file(settings).read_text(encoding="utf-8"))["key"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _remember_landing(settings: Settings, key: str) -> None:
    import json

    if key == _landing_seen(settings):
        return
    path = _landing_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps({"key": key}), encoding="utf-8")
    os.replace(partial, path)


def _dagbag(settings: Settings):
    os.environ.update(settings.airflow_environ())
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=settings.airflow_environ()["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag


class OneLinePerWait(logging.Filter):
    """While a task waits for its retry (an alert channel down: about 30 s, then 60 s),
    `dag.test` logs "No tasks to run" once a second. The first line of a wait says it, and a
    reminder each `every` seconds shows it goes on; the other lines are dropped."""

    def __init__(self, every: float = 60.0):
        super().__init__()
        self.every = every
        self._waiting: tuple[str, float] | None = None  # the tasks waiting, since when shown

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("No tasks to run"):
            return True
        tasks = repr(record.args)
        if (
            self._waiting
            and self._waiting[0] == tasks
            and record.created - self._waiting[1] < self.every
        ):
            return False
        self._waiting = (tasks, record.created)
        return True


def quiet_waits() -> None:
    """`OneLinePerWait` on the logger of `dag.test`'s loop, once per process."""
    logger = logging.getLogger("airflow.sdk.definitions.dag")
    if not any(isinstance(f, OneLinePerWait) for f in logger.filters):
        logger.addFilter(OneLinePerWait())


def run_dags(settings: Settings, conf: dict | None = None) -> list[DagRunResult]:
    """Run the ingest DAG once through Airflow (`dag.test`), then, as the scheduler would on
    its asset event, the publish DAG. Returns the runs, ingest first.

    The ingest run is made in a forked process (`etl.forks.run_forked`), as a scheduler runs
    each task in a process of its own: what staging and loading leave behind (GX imported
    and its suites built, the batches' frames, DuckDB's buffers; hundreds of MB, which a
    process does not give back) ends with that fork, and the publish DAG runs here on a
    process holding no more than Airflow. The DAGs are parsed once, before the fork."""
    import gc

    from etl.forks import quiet_gc, run_forked

    bag = _dagbag(settings)
    quiet_waits()
    # What the tasks of both DAGs import (DuckDB, pandas, the build's modules), imported once
    # here, before the fork, rather than by the fork and again by this process.
    import duckdb  # noqa: F401

    import etl.warehouse.build  # noqa: F401

    _execution_api()
    _dag_test_ready(bag)
    # What Airflow built so far lives until the command ends: never collected again, and
    # shared with the fork. The garbage of the warm-ups (the DAGs deserialized above) is
    # collected first, not frozen with it.
    gc.collect(1)
    quiet_gc()
    ingest, emitted = run_forked(_ingest_run, bag, conf)
    runs = [ingest]
    if emitted:
        from etl.flow.lineage import stop_listeners

        try:
            runs.append(DagRunResult.of(bag.get_dag(PUBLISH_DAG_ID).test()))
        finally:
            stop_listeners()  # as a scheduler does when it stops: OpenLineage's DAG-run events
    else:
        log.info("ingest emitted no asset event (nothing new): the publish DAG does not run")
    return runs


def _execution_api() -> None:
    """Make Airflow's in-process execution API, through which `dag.test` runs its tasks,
    ready here, before the fork: its FastAPI app, and what its first request builds (about
    4 s of CPU, paid by the first task of each process's first `dag.test`). The fork and then
    this process inherit it ready instead of each building it. The request goes through a
    throwaway event loop: no thread is left running across the fork (the transport `dag.test`
    uses, a thread with its loop, is made by each process on first use)."""
    import asyncio
    import threading

    import httpx
    from airflow.sdk.execution_time.supervisor import in_process_api_server

    app = in_process_api_server().app

    async def first_request() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://in-process/") as client:
            (await client.get("/health")).raise_for_status()

    before = set(threading.enumerate())
    try:
        asyncio.run(first_request())
        for thread in set(threading.enumerate()) - before:
            thread.join(timeout=10)  # e.g. a worker of AnyIO's pool, ending with the loop
    except Exception:  # only time is lost: each process then builds what it lacks
        log.warning("Airflow's in-process execution API not ready before the fork", exc_info=True)


def _dag_test_ready(bag) -> None:
    """Pay here, before the fork, what each process's first `dag.test` pays once: loading
    Airflow's plugins (OpenLineage's listener, with `requests`), which deserializing a DAG's
    operators does, and reading the metrics registry, which creating a DAG run does (about
    0.5 s). The fork and then this process, which runs the publish DAG, inherit them instead
    of each paying again. Nothing here starts a thread (`_execution_api`)."""
    try:
        from airflow._shared.observability.metrics.stats import _get_registry
        from airflow.serialization.serialized_objects import DagSerialization

        for dag_id in (INGEST_DAG_ID, PUBLISH_DAG_ID):
            DagSerialization.deserialize_dag(DagSerialization.serialize_dag(bag.dags[dag_id]))
        _get_registry()
    except Exception:  # only time is lost: each process then loads what it lacks
        log.warning("Airflow's plugins not loaded before the fork", exc_info=True)


@dataclass(frozen=True)
class DagRunResult:
    """What `htx run` keeps of a DAG run: its DAG, id and final state (as text)."""

    dag_id: str
    run_id: str
    state: str

    @classmethod
    def of(cls, run) -> DagRunResult:
        return cls(str(run.dag_id), str(run.run_id), str(run.state))


def _ingest_run(bag, conf: dict | None) -> tuple[DagRunResult, bool]:
    """In the fork: the ingest DAG's run, and whether it emitted the star schema's asset."""
    from etl.flow.lineage import stop_listeners

    try:
        run = bag.get_dag(INGEST_DAG_ID).test(run_conf=conf)
        return DagRunResult.of(run), _asset_emitted(run)
    finally:
        stop_listeners()  # this process's OpenLineage DAG-run events written before it ends


def _asset_emitted(run) -> bool:
    """Whether the run's `load` task succeeded, emitting the star-schema asset."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    with create_session() as session:
        state = (
            session.query(TaskInstance.state)
            .filter_by(dag_id=run.dag_id, run_id=run.run_id, task_id="load")
            .scalar()
        )
    return state == TaskInstanceState.SUCCESS


def default_landing(settings: Settings, environ: Mapping[str, str] = os.environ) -> None:
    """Make the project's own landing folder (no HTX_LANDING_DIR: `data/landing`) when it
    is not there, empty: a fresh clone's scheduler or run then finds nothing new, instead
    of failing `discover` and alerting every hour. A folder a deployment names is never
    made (nor written to): one that is not there is an error (`LandingMissing`)."""
    if environ.get("HTX_LANDING_DIR") or settings.landing_dir.exists():
        return
    try:
        settings.landing_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file in its way, a project folder closed: `landing_files` says it
        log.warning("landing folder %s not made: %s", settings.landing_dir, exc)


def cmd_init(_args: argparse.Namespace) -> int:
    """Set up what runs need before any workbook: Airflow's metadata DB and pool, and the
    reference tables of the builds (the national commune crosswalk and the units, which
    depend on the reference files and the code only)."""
    from etl.warehouse.build import cache_dir, prepare_reference

    settings = load_settings()
    default_landing(settings)
    init_airflow(settings)
    try:
        computed = prepare_reference(settings)
    except Exception:  # only time is lost: the first build computes them itself
        log.warning("reference tables not prepared: the first build computes them", exc_info=True)
        return 0
    if computed:
        log.info("reference tables computed into %s", cache_dir(settings))
    else:
        log.info("reference tables ready in %s", cache_dir(settings))
    return 0


def cmd_run(_args: argparse.Namespace) -> int:
    """Run the DAGs on what the landing folder holds. The folder is only ever read (the
    project's own default one is made when it is not there): an empty one is said so, and
    nothing runs (`make run` puts the sample in the default
    folder for a newcomer; `python -m tools.sample` writes it anywhere); one that does not
    exist is an error (exit 2)."""
    from etl.flow.tasks import owe_interrupted_exports
    from etl.outputs.summary import print_summary
    from etl.quality import validator
    from etl.read.discover import landing_files
    from etl.warehouse.locking import exclusive

    started = time.time()
    settings = load_settings()
    default_landing(settings)
    # One that is not there (a mistyped HTX_LANDING_DIR, a share not mounted) is not an
    # empty one: `LandingMissing`, a SettingError, ends the command with exit 2 (`main`).
    landed = landing_files(settings.landing_dir)
    if not landed:
        print(f"landing folder {settings.landing_dir} holds no workbook: nothing to do")
        return 0
    cannot = unwritable(settings)
    if cannot:
        print(cannot, file=sys.stderr)
        return 2
    marks = {}
    with exclusive(settings.state_dir / "pipeline.lock"):
        # A run killed after its swap, before its exports were written: this run writes them.
        owe_interrupted_exports(settings)
        seen = landing_key(settings, landed)
        if seen is None or seen != _landing_seen(settings):
            # Maybe something to validate: GX imported and its suites built on the other
            # core while Airflow starts here, and the charts' renderer started
            # (`etl.quality.validator`).
            from etl.outputs import charts
            from etl.quality import validate

            validator.start(validate.prepare, charts.warm)
        try:
            marks["init_started"] = time.time()
            init_airflow(settings)
            marks["init_done"] = time.time()
            if settings.processes is None:
                # dag.test runs one task at a time, in this process: each may use every core.
                os.environ["HTX_PROCESSES"] = str(cores())
            if settings.batch_size is None:
                # ...and each stage task costs its own overhead: one for the whole landing.
                os.environ["HTX_BATCH_SIZE"] = str(RUN_BATCH_SIZE)
            runs = run_dags(settings)
            marks["dags_done"] = time.time()
        finally:
            validator.stop()
        if seen is not None and all(str(run.state) == "success" for run in runs):
            _remember_landing(settings, seen)
    failed = [run for run in runs if str(run.state) != "success"]
    print_summary(
        settings,
        run_id=runs[0].run_id,
        landed=len(landed),
        failed=bool(failed),
        also=tuple(run.run_id for run in runs[1:]),
    )
    _record_command(settings, runs, started, marks)
    for run in failed:
        print(f"{run.dag_id} run {run.run_id} ended {run.state}", file=sys.stderr)
    return 1 if failed else 0


def unwritable(settings: Settings) -> str | None:
    """What `htx run` says, before any work, when a folder it must write cannot be (made
    and) written: the folder and its variable. Found later, it is a traceback at the lock
    (HTX_STATE_DIR), or a publish that fails after the whole load (HTX_WAREHOUSE)."""
    for name, folder in (
        ("HTX_STATE_DIR", settings.state_dir),
        ("HTX_WAREHOUSE", settings.warehouse.parent),
        ("HTX_EXPORT_DIR", settings.export_dir),
    ):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            why = "a file is where a folder should be (itself or one above it)"
        except OSError as exc:
            why = exc.strerror or str(exc)
        else:
            if os.access(folder, os.W_OK):  # also False on a read-only mount, even as root
                continue
            why = "not writable by this user, or on a read-only file system"
        return (
            f"cannot write {folder} ({name}): {why}. Make it a writable folder, or point "
            f"{name} elsewhere"
        )
    return None


def _record_command(settings: Settings, runs: list, started: float, marks: dict) -> None:
    """Record what this command spent around the tasks, under the ingest run's id."""
    from etl.flow import timings

    timing = timings.Timing(
        run_id=runs[0].run_id,
        step=timings.COMMAND_STEP,
        key="0",
        started=started,
        ended=time.time(),
        marks=marks,
    )
    timings.record(timings.folder(settings.state_dir), timing)


def cmd_airflow(args: argparse.Namespace) -> int:
    """Set up, then hand over to `airflow standalone` on the project's settings: the UI,
    the scheduler, the dag-processor and the triggerer, on loopback by default."""
    settings = load_settings()
    default_landing(settings)
    init_airflow(settings)
    env = standalone_environ({**os.environ, **settings.airflow_environ()}, args.port)
    url = f"http://{env['AIRFLOW__API__HOST']}:{env['AIRFLOW__API__PORT']}"
    print(
        f"Airflow UI: {url}  (admin password: printed below, and kept in "
        f"{settings.airflow_home / 'simple_auth_manager_passwords.json.generated'})",
        flush=True,
    )
    binary = Path(sys.executable).with_name("airflow")
    # standalone starts its components as `airflow ...` from PATH: this environment's.
    env["PATH"] = os.pathsep.join([str(binary.parent), env.get("PATH", "")])
    os.execve(str(binary), [str(binary), "standalone"], env)  # noqa: S606  hands over to the venv's own airflow
    return 0  # not reached


def standalone_environ(environ: dict[str, str], port: int | None) -> dict[str, str]:
    """`airflow standalone`'s environment: the API on loopback, on `port` when the command
    line names one (over an AIRFLOW__API__PORT exported before), else the environment's,
    else 8080. The public URL is this server's unless the environment sets one (a proxy's);
    so is the URL its tasks reach it by, which follows a `port` given (an exported one,
    of another server, would send them elsewhere)."""
    env = dict(environ)
    env.setdefault("AIRFLOW__API__HOST", "127.0.0.1")
    if port is not None:
        env["AIRFLOW__API__PORT"] = str(port)
    env.setdefault("AIRFLOW__API__PORT", str(DEFAULT_UI_PORT))
    url = f"http://{env['AIRFLOW__API__HOST']}:{env['AIRFLOW__API__PORT']}"
    env.setdefault("AIRFLOW__API__BASE_URL", url)
    if port is not None:
        env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = f"{url}/execution/"
    env.setdefault("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", f"{url}/execution/")
    return env


DEFAULT_UI_PORT = 8080


def cmd_env(_args: argparse.Namespace) -> int:
    """Print the environment every Airflow process of this deployment needs, as shell
    `export` lines: `eval "$(htx env)"` before `airflow scheduler`, `airflow celery worker`..."""
    import shlex

    for name, value in sorted(load_settings().airflow_environ().items()):
        print(f"export {name}={shlex.quote(value)}")
    return 0


def cmd_summary(_args: argparse.Namespace) -> int:
    """Exit 0; 2 when there is no warehouse yet or it cannot be opened (one line, as
    `htx sql` says it)."""
    from etl.cli import analyst
    from etl.outputs.summary import print_summary

    settings = load_settings()
    try:
        analyst.connect(settings.warehouse).close()  # there, and a DuckDB file
    except (analyst.WarehouseUnreadable, FileNotFoundError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print_summary(settings)
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    """Exit 0; 1 on a SQL error (one line, no traceback); 2 on a refused write, no
    warehouse or one DuckDB cannot open."""
    import duckdb

    from etl.cli import analyst

    warehouse = load_settings().warehouse
    query = args.query
    if args.file:
        try:
            query = sys.stdin.read() if args.file == "-" else Path(args.file).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"Không đọc được tệp / Cannot read {args.file}: {exc}", file=sys.stderr)
            return 2
    out = analyst.excel_bom(print) if args.format == "csv" else print
    try:
        if query is not None:
            analyst.run(warehouse, query, out, args.format)
        else:
            analyst.repl(warehouse, out=out, fmt=args.format)
    except (analyst.WriteRefused, analyst.WarehouseUnreadable, FileNotFoundError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except duckdb.Error as exc:
        print(f"Lỗi SQL / SQL error: {analyst.sql_error_line(exc)}", file=sys.stderr)
        return 1
    return 0


def cmd_tables(_args: argparse.Namespace) -> int:
    """Exit 0; 2 when there is no warehouse yet or it cannot be opened (one line, as
    `htx sql` says it)."""
    from etl.cli import analyst

    try:
        lines = analyst.describe_tables(load_settings().warehouse)
    except (analyst.WarehouseUnreadable, FileNotFoundError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from etl.outputs import template

    try:
        year = template.check_year(args.year)
        unit = template.reporting_unit(args.unit, year)
        cooperatives, source = None, ""
        if args.prefill:
            latest, cooperatives = template.latest_cooperatives(
                load_settings().warehouse, unit, year
            )
            source = f", {len(cooperatives)} HTX của năm / cooperatives of {latest}"
        path = template.write_template(Path(args.out), unit.code, year, cooperatives)
    except template.TemplateError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"đã ghi / wrote {path} ({unit.full_name}, {year}{source})")
    return 0


# Shown under `htx --help` and `htx run --help`: what configures a deployment (README.md,
# "Settings" and "Alerts", says more).
SETTINGS_HELP = """\
settings (environment variables; a relative path is taken from the checkout):
  HTX_LANDING_DIR   the district workbooks, read only     default data/landing
  HTX_WAREHOUSE     the DuckDB file analysts query         default warehouse/htx.duckdb
  HTX_STATE_DIR     raw copies, staging, builds, Airflow   default warehouse/state
  HTX_EXPORT_DIR    Parquet, XLSX, reports, feedback       default warehouse/exports
  HTX_BATCH_SIZE, HTX_PROCESSES                            files a stage task, processes
  HTX_MAX_FILE_MB, HTX_MAX_EXPANDED_MB, HTX_MAX_ROWS, HTX_MAX_CELLS, HTX_MAX_CELL_CHARS
                                                           limits one file may not pass
  HTX_SQL_HISTORY   htx sql's prompt history               default ~/.htx_sql_history
  HTX_RETRY_DELAY_SECONDS a retry's wait, then twice       default 30 s
alerts (Airflow connections and variables; a channel not configured is off):
  smtp_default (connection) with the recipients in the variable htx_alert_emails
  htx_alert_webhook (connection): an HTTP endpoint that receives the JSON alert
"""


def main(argv: list[str] | None = None) -> int:
    from etl.forks import quiet_gc

    quiet_gc(freeze=False)  # before Airflow's imports, which build millions of objects
    parser = argparse.ArgumentParser(
        prog="htx",
        description=__doc__.splitlines()[0],
        epilog=SETTINGS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "init", help="set up Airflow and the reference tables of the builds"
    ).set_defaults(func=cmd_init)
    commands.add_parser(
        "run",
        help="run the whole pipeline",
        epilog=SETTINGS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).set_defaults(func=cmd_run)
    commands.add_parser(
        "env", help='print the Airflow environment (eval "$(htx env)")'
    ).set_defaults(func=cmd_env)
    standalone = commands.add_parser("airflow", help="the Airflow UI and scheduler (standalone)")
    standalone.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"UI port (default: AIRFLOW__API__PORT if set, else {DEFAULT_UI_PORT})",
    )
    standalone.set_defaults(func=cmd_airflow)
    commands.add_parser("summary", help="print the summary").set_defaults(func=cmd_summary)
    sql = commands.add_parser("sql", help="run read-only SQL on the warehouse")
    given = sql.add_mutually_exclusive_group()
    given.add_argument("query", nargs="?", help="SQL to run; none: an interactive prompt")
    given.add_argument("-f", "--file", help="run the SQL in this file ('-': standard input)")
    sql.add_argument(
        "--format",
        choices=("table", "csv", "markdown", "json"),
        default="table",
        help="output: table (default), or every row as csv, markdown or json",
    )
    sql.set_defaults(func=cmd_sql)
    commands.add_parser("tables", help="describe every table").set_defaults(func=cmd_tables)
    blank = commands.add_parser("template", help="write the official workbook for a unit and year")
    blank.add_argument(
        "--unit",
        required=True,
        help="unit code: a province (68), a former district up to 2025 (663), "
        "a commune in force since 01/07/2025 from 2026 (24611)",
    )
    blank.add_argument("--year", required=True, type=int, help="reporting year, 2021-2030")
    blank.add_argument("--out", required=True, help="the .xlsx file to write")
    blank.add_argument(
        "--prefill",
        action="store_true",
        help="list the unit's cooperatives of the latest year in the warehouse (a new "
        "commune: the cooperatives placed there)",
    )
    blank.set_defaults(func=cmd_template)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return args.func(args)
    except SettingError as exc:  # a mistyped HTX_* variable: the variable to fix, one line
        print(exc, file=sys.stderr)
        return 2


def entry() -> None:
    """The `htx` command: `main`, then leave without tearing the interpreter down.

    Once Airflow, pandas and DuckDB are loaded, Python's own finalisation (every module and
    object freed one by one) takes about 2 s, a quarter of a run with nothing new. Nothing
    is left to do by then: the exit handlers run (Airflow's, temporary folders), the output
    is flushed, and the process ends.
    """
    try:
        code = main()
    except BrokenPipeError:
        # The reader stopped early (`htx sql … | head`): end as a Unix tool does on SIGPIPE,
        # with nothing more written to the closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 128 + signal.SIGPIPE
    try:
        atexit._run_exitfuncs()
        logging.shutdown()
    finally:
        for stream in (sys.stdout, sys.stderr):
            # A closed pipe (`htx sql … | head`) has nothing left to be told.
            with contextlib.suppress(OSError):
                stream.flush()
        os._exit(code)


if __name__ == "__main__":
    entry()
