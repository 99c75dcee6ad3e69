"""The project's settings: the contract's environment variables, read once, with defaults.

Nothing else in the project reads ``os.environ``. Paths are absolute, so tasks behave the
same whatever their working directory: a relative HTX_* path (and each default) resolves
against the checkout when the code runs from one, else against the working directory of the
process that reads the settings (an installed wheel: Docker, an Airflow deployment).
"""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

# The project's data folders. A checkout (running from it, or an editable install) keeps them
# beside etl/; a wheel carries copies inside the package (setup.py's build_py puts them there).
RESOURCE_FOLDERS = ("sql", "expectations", "config", "dags", "reference")
_PACKAGE_DIR = Path(__file__).resolve().parent
IN_CHECKOUT = all((_PACKAGE_DIR.parent / name).is_dir() for name in RESOURCE_FOLDERS)
# Where the data folders are: the checkout, else the installed package's `_resources`.
RESOURCE_ROOT = _PACKAGE_DIR.parent if IN_CHECKOUT else _PACKAGE_DIR / "_resources"
# The folder holding sql/, expectations/, config/, dags/ and reference/ (kept by that name
# for the modules and tools that import it): the checkout, or the packaged resources.
PROJECT_ROOT = RESOURCE_ROOT
SQL_DIR = PROJECT_ROOT / "sql"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
CONFIG_DIR = PROJECT_ROOT / "config"
DAGS_DIR = PROJECT_ROOT / "dags"
REFERENCE_DIR = PROJECT_ROOT / "reference"

# The Airflow pool every task that writes DuckDB runs in. One slot: one writer at a time.
WRITER_POOL = "htx_duckdb_writer"
# The DAGs (dags/): ingest on a clock, ingest by report year (for backfills), and publish on
# the asset the ingest DAGs emit.
INGEST_DAG_ID = "htx_ingest"
YEARLY_DAG_ID = "htx_ingest_yearly"
PUBLISH_DAG_ID = "htx_publish"
# Airflow assets, by name. Their URIs are `file://` URIs of the absolute HTX_* paths, made
# from the settings when the DAGs are parsed (etl/flow/dagkit.py `assets`): the star schema
# loaded in the build area, waiting to be published (the ingest DAGs emit it, the publish DAG
# runs on it); the published warehouse analysts query (HTX_WAREHOUSE); and, for lineage only
# (task inlets, no asset events), the landing folder and the staged files.
STAR_SCHEMA_ASSET = "htx_star_schema"
WAREHOUSE_ASSET = "htx_warehouse"
LANDING_ASSET = "htx_landing"
STAGING_ASSET = "htx_staging"
# Settings of the OpenLineage client itself that name where events go; when one is set, the
# default transport (a file under HTX_STATE_DIR) steps aside (`Settings.airflow_environ`).
OPENLINEAGE_CLIENT_VARIABLES = ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG", "OPENLINEAGE__TRANSPORT")
# Airflow's [openlineage] options that do the same, or turn lineage off.
OPENLINEAGE_AIRFLOW_OPTIONS = (
    "AIRFLOW__OPENLINEAGE__TRANSPORT",
    "AIRFLOW__OPENLINEAGE__CONFIG_PATH",
    "AIRFLOW__OPENLINEAGE__CONFIG_CONN_ID",
    "AIRFLOW__OPENLINEAGE__DISABLED",
)

# Files a mapped `stage` task takes when HTX_BATCH_SIZE is not set. Under a scheduler the
# tasks run side by side, one process each (HTX_PROCESSES 1): 400 keeps several of them
# busy (3,500 national workbooks make 9 tasks). `htx run` runs one task at a time with every
# core, where each task instance costs Airflow's overhead and GX calls of its own: one task
# for up to 10,000 files (the national corpus ten years deep is about 8,500).
SCHEDULER_BATCH_SIZE = 400
RUN_BATCH_SIZE = 10_000

# Workbook extensions the pipeline looks at in the landing folder.
WORKBOOK_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods")


_MB = 1024 * 1024


def _path(environ: dict[str, str], name: str, default: str) -> Path:
    path = Path(environ.get(name) or default)
    if path.is_absolute():
        return path
    # Installed, there is no project folder to write into (site-packages is not one).
    return (PROJECT_ROOT if IN_CHECKOUT else Path.cwd()) / path


@dataclass(frozen=True)
class Limits:
    """What one submitted file may cost. A file past a limit is quarantined with a reason.

    Each has an environment variable: HTX_MAX_FILE_MB, HTX_MAX_EXPANDED_MB, HTX_MAX_ROWS,
    HTX_MAX_CELLS, HTX_MAX_CELL_CHARS.
    """

    file_bytes: int = 50 * 1024 * 1024  # the workbook as sent
    expanded_bytes: int = 500 * 1024 * 1024  # its sheets unzipped: stops zip bombs
    rows: int = 200_000  # real rows in one sheet (a district has hundreds)
    # One sheet's grid up to its last real row and column, which python-calamine holds
    # whole: one value at XFD150000 would be 2.5 billion cells. 200,000 rows of 25 columns.
    cells: int = 5_000_000
    cell_chars: int = 32_767  # Excel's own limit for one cell


# `htx sql`'s prompt history, unless HTX_SQL_HISTORY moves it.
SQL_HISTORY = "~/.htx_sql_history"
# Seconds before a retried task's first retry (HTX_RETRY_DELAY_SECONDS): time for a share or
# a mail server to come back, short enough that a clerk's run is not held long.
RETRY_DELAY_SECONDS = 30
# The longest first delay HTX_RETRY_DELAY_SECONDS takes: a day (a longer wait is no retry).
LONGEST_RETRY_DELAY_SECONDS = 86_400


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse: Path
    state_dir: Path
    export_dir: Path
    # Files staged by one mapped `stage` task; None: HTX_BATCH_SIZE not set, and the mode
    # decides (`stage_batch_size`). A task validates and writes its files in parts of up to
    # 700 (one GX call per suite a part, about 0.4 s whatever its rows) while its
    # HTX_PROCESSES forks read the next part, so memory grows with the part, not the
    # batch; each task instance costs Airflow's overhead and one pipeline's start and end.
    batch_size: int | None = None
    # Forked processes one task spreads independent work across (the files of a stage
    # batch, feedback workbooks). None: one, in the task's own process, since a scheduler
    # runs tasks side by side; `htx run`, which runs one task at a time, gives each task
    # every core. Set HTX_PROCESSES to choose.
    processes: int | None = None
    limits: Limits = field(default_factory=Limits)
    # Airflow settings the deployment sets itself (AIRFLOW__SECTION__KEY variables: the
    # executor, a PostgreSQL metadata DB, the Celery broker...). They win over the defaults
    # of `airflow_environ`.
    airflow_overrides: tuple[tuple[str, str], ...] = ()
    # The OpenLineage client's own variables that are set (OPENLINEAGE_URL...), by name.
    openlineage_variables: tuple[str, ...] = ()
    # Where `htx sql`'s interactive prompt keeps its history (HTX_SQL_HISTORY).
    sql_history: Path = field(default_factory=lambda: Path(SQL_HISTORY).expanduser())
    # Seconds a task that touches shared storage or a channel (`dagkit.retries`) waits
    # before its first retry; the second waits twice as long (HTX_RETRY_DELAY_SECONDS).
    retry_delay_seconds: int = RETRY_DELAY_SECONDS

    @property
    def raw_dir(self) -> Path:
        return self.state_dir / "raw"

    @property
    def staging_dir(self) -> Path:
        return self.state_dir / "staging"

    @property
    def build_dir(self) -> Path:
        return self.state_dir / "build"

    @property
    def ledger(self) -> Path:
        """The pipeline's own DuckDB: the audit trail it keeps across runs."""
        return self.state_dir / "ledger.duckdb"

    @property
    def airflow_home(self) -> Path:
        return self.state_dir / "airflow"

    @property
    def lineage_events(self) -> Path:
        """Where OpenLineage events go by default: one JSON event a line."""
        return self.state_dir / "lineage" / "events.jsonl"

    @property
    def quality_report(self) -> Path:
        return self.export_dir / "quality_report.html"

    @property
    def exports_failed(self) -> Path:
        """Left by exports that failed (its first line says why), until exports succeed."""
        return self.state_dir / "exports_failed"

    def htx_environ(self) -> dict[str, str]:
        """These settings as the HTX_* variables that give them to another process."""
        return {
            "HTX_LANDING_DIR": str(self.landing_dir),
            "HTX_WAREHOUSE": str(self.warehouse),
            "HTX_STATE_DIR": str(self.state_dir),
            "HTX_EXPORT_DIR": str(self.export_dir),
            "HTX_MAX_FILE_MB": str(self.limits.file_bytes / _MB),
            "HTX_MAX_EXPANDED_MB": str(self.limits.expanded_bytes / _MB),
            "HTX_MAX_ROWS": str(self.limits.rows),
            "HTX_MAX_CELLS": str(self.limits.cells),
            "HTX_MAX_CELL_CHARS": str(self.limits.cell_chars),
            "HTX_RETRY_DELAY_SECONDS": str(self.retry_delay_seconds),
        } | (
            ({"HTX_BATCH_SIZE": str(self.batch_size)} if self.batch_size else {})
            | ({"HTX_PROCESSES": str(self.processes)} if self.processes else {})
        )

    @property
    def task_processes(self) -> int:
        return self.processes or 1

    @property
    def stage_batch_size(self) -> int:
        """Files a mapped `stage` task takes: HTX_BATCH_SIZE, else the scheduler's default.
        (`htx run` sets HTX_BATCH_SIZE to `RUN_BATCH_SIZE` when it is not set.)"""
        return self.batch_size or SCHEDULER_BATCH_SIZE

    def airflow_environ(self) -> dict[str, str]:
        """Environment for Airflow processes: home, metadata DB and logs under the state dir
        by default (SQLite, LocalExecutor); `AIRFLOW__...` variables already set win."""
        home = self.airflow_home
        defaults = {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # As many task processes as cores (Airflow's default, 32, starts 32 LocalExecutor
            # workers): the stage batches use every core, nothing waits on memory.
            "AIRFLOW__CORE__PARALLELISM": str(max(2, cores())),
            # SQLite waits up to 60 s for a lock held by another Airflow process.
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}?timeout=60",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            # A changed DAG file is serialized at its next parse, however soon (Airflow skips
            # it for 30 s after the last write by default): `htx run` right after an upgrade
            # otherwise runs the previous release's serialized tasks (their old assets).
            "AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL": "0",
            # Run time is loopback only: no telemetry, no version checks.
            "SCARF_ANALYTICS": "false",
            "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
            "GX_ANALYTICS_ENABLED": "False",
            # Pass the contract's settings on to the task processes.
            **self.htx_environ(),
            **self._lineage_environ(),
        }
        return {**defaults, **dict(self.airflow_overrides)}

    def _lineage_environ(self) -> dict[str, str]:
        """OpenLineage events (apache-airflow-providers-openlineage) of every DAG and task, by
        default appended to `lineage_events` on this machine: nothing goes to the network.
        An operator's own transport (AIRFLOW__OPENLINEAGE__TRANSPORT, CONFIG_PATH,
        CONFIG_CONN_ID, or the client's OPENLINEAGE_URL for Marquez) or
        AIRFLOW__OPENLINEAGE__DISABLED wins: then nothing is set here."""
        named = {name for name, _ in self.airflow_overrides}
        # The namespace of the jobs (DAGs and tasks) in the events, unless one is chosen.
        # Task events are emitted from a thread of the task's process, bounded by the
        # provider's execution_timeout, rather than from a fork of it per event: no copy of
        # a task process that holds DuckDB files and the supervisor's socket.
        namespace = {"AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True"} | (
            {}
            if "OPENLINEAGE_NAMESPACE" in self.openlineage_variables
            else {"AIRFLOW__OPENLINEAGE__NAMESPACE": "htx"}
        )
        if named & set(OPENLINEAGE_AIRFLOW_OPTIONS) or any(
            name.startswith(OPENLINEAGE_CLIENT_VARIABLES) for name in self.openlineage_variables
        ):
            return namespace
        transport = {
            "type": "file",
            "log_file_path": str(self.lineage_events),
            "append": True,  # one file, one event a line (each event written at once)
            # fsspec's local file system creates the lineage folder on the first event.
            "filesystem": "fsspec.implementations.local.LocalFileSystem",
            "fs_kwargs": {"auto_mkdir": True},
        }
        return {**namespace, "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport)}


def no_warehouse(warehouse: Path) -> str:
    """What a command that reads the warehouse says before any run built it (`htx sql`,
    `htx tables`, `htx summary`): Vietnamese first."""
    return (
        f"Chưa có kho dữ liệu tại {warehouse}: hãy chạy `htx run` trước (`make run` trong "
        f"thư mục dự án). / No warehouse at {warehouse}: run `htx run` first (`make run` "
        "in a checkout)"
    )


def settings_under(root: Path, **environ: str) -> Settings:
    """Settings whose every folder lives under `root` (tests, the benchmark's runs), with
    further HTX_* variables given by name."""
    return load_settings(
        {
            "HTX_LANDING_DIR": str(root / "landing"),
            "HTX_WAREHOUSE": str(root / "warehouse" / "htx.duckdb"),
            "HTX_STATE_DIR": str(root / "state"),
            "HTX_EXPORT_DIR": str(root / "exports"),
            **environ,
        }
    )


def cores() -> int:
    """CPU cores this process may use: its affinity, within a container's CPU limit."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        count = os.cpu_count() or 1
    try:  # cgroup v2: "max 100000" (no limit) or "<quota> <period>"
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            count = min(count, max(1, -(-int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return count


class SettingError(ValueError):
    """An HTX_* variable whose value is not what it must be: its message names both."""


def _number(env: dict[str, str], name: str, kind: type[float], default: float | None = None):
    """The variable's value as `kind` (int or float), `default` when unset or empty. A
    mistyped value stops the command with the variable named: Python's own error names
    neither it nor the fix."""
    value = env.get(name)
    if not value:
        return default
    try:
        number = kind(value)
        # `float` also takes `inf` and `nan` ("no limit"?), which no size in bytes can be.
        if kind is float and not math.isfinite(number):
            raise ValueError(value)
    except ValueError:
        what = "a whole number" if kind is int else "a number of MB, such as 50 or 0.5"
        raise SettingError(f"{name}={value!r}: must be {what}, or unset for its default") from None
    return number


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    batch_size = _number(env, "HTX_BATCH_SIZE", int)
    processes = _number(env, "HTX_PROCESSES", int)
    retry_delay = _number(env, "HTX_RETRY_DELAY_SECONDS", int, RETRY_DELAY_SECONDS)
    if not 0 <= retry_delay <= LONGEST_RETRY_DELAY_SECONDS:
        raise SettingError(
            f"HTX_RETRY_DELAY_SECONDS={env['HTX_RETRY_DELAY_SECONDS']!r}: must be 0 to "
            f"{LONGEST_RETRY_DELAY_SECONDS} seconds, or unset for its default "
            f"({RETRY_DELAY_SECONDS})"
        )
    return Settings(
        landing_dir=_path(env, "HTX_LANDING_DIR", "data/landing"),
        warehouse=_path(env, "HTX_WAREHOUSE", "warehouse/htx.duckdb"),
        state_dir=_path(env, "HTX_STATE_DIR", "warehouse/state"),
        export_dir=_path(env, "HTX_EXPORT_DIR", "warehouse/exports"),
        batch_size=None if batch_size is None else max(1, batch_size),
        processes=None if processes is None else max(1, processes),
        airflow_overrides=tuple(
            sorted((k, v) for k, v in env.items() if k.startswith("AIRFLOW__"))
        ),
        openlineage_variables=tuple(
            sorted(k for k, v in env.items() if k.startswith("OPENLINEAGE") and v)
        ),
        sql_history=Path(env.get("HTX_SQL_HISTORY") or SQL_HISTORY).expanduser(),
        retry_delay_seconds=retry_delay,
        limits=Limits(
            file_bytes=int(_number(env, "HTX_MAX_FILE_MB", float, 50) * _MB),
            expanded_bytes=int(_number(env, "HTX_MAX_EXPANDED_MB", float, 500) * _MB),
            rows=_number(env, "HTX_MAX_ROWS", int, 200_000),
            cells=_number(env, "HTX_MAX_CELLS", int, 5_000_000),
            cell_chars=_number(env, "HTX_MAX_CELL_CHARS", int, 32_767),
        ),
    )


# GX sends anonymous usage statistics unless told not to; run time is loopback only.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def tables_vi() -> dict[str, str]:
    """Vietnamese descriptions of the published tables (config/tables_vi.csv), before the
    English of their `COMMENT ON` on the officials' workbook's introduction sheet."""
    return _vietnamese("tables_vi.csv", "table")


def labels_vi() -> dict[str, str]:
    """Vietnamese column headers (config/labels_vi.csv): the officials' workbook's headers,
    and the description of every core and marts column its SQL leaves without one."""
    return _vietnamese("labels_vi.csv", "column")


def values_vi() -> dict[str, dict[str, str]]:
    """What the officials' workbook shows in place of a code (config/values_vi.csv): by
    column, each code's Vietnamese text (the code kept after it, as SQL has it)."""
    shown: dict[str, dict[str, str]] = {}
    with (CONFIG_DIR / "values_vi.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            shown.setdefault(row["column"], {})[row["value"]] = row["label_vi"]
    return shown


def _vietnamese(name: str, key: str) -> dict[str, str]:
    """A config CSV of Vietnamese text (`label_vi`) by its `key` column."""
    with (CONFIG_DIR / name).open(encoding="utf-8", newline="") as handle:
        return {row[key]: row["label_vi"] for row in csv.DictReader(handle)}
