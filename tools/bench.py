"""`make bench`: the pipeline's cost against its floors, at 1×, 10× and 100× the province.

For each scale it writes (or, with ``--keep``, reuses) a corpus of sample workbooks under
``warehouse/bench/corpus-<scale>-<seed>/`` and measures, in one run, side by side:

- the parse floor: python-calamine reading every sheet of every file into Python rows, in
  this one process;
- Airflow's floor: ``airflow dags test`` of a one-task DAG on the same metadata database,
  with a bench-only dags folder holding that DAG and links to the project's DAG files;
- the whole pipeline through Airflow from an empty warehouse (``htx run`` in a subprocess,
  as ``make run`` runs it, with every ``HTX_*`` folder under ``warehouse/bench/run-<scale>``);
- a re-run that finds nothing new, and a re-run after one new workbook lands;
- the peak resident memory of each pipeline run (``wait4``: the child and its children);
- where the time goes, from what the runs record, never from log text: per task from
  Airflow's metadata DB (``task_instance``); inside the ``stage`` tasks read / validate /
  write, and around the tasks ``htx run``'s set-up and wrap-up, from the timing records
  under ``HTX_STATE_DIR/timings/`` (:mod:`etl.flow.timings`); file outcomes from the
  ledger (``audit.file_ingestion``).

It writes ``docs/benchmarks.md`` and the raw numbers to ``warehouse/bench/results.json``,
and prints, last, one line:

    bench: files=N rows=N floor_s=X airflow_floor_s=A full_s=F nothing_new_s=Z
    one_file_s=O marginal_ratio=(F-Z)/X peak_rss_mb=M      (on one line)

for the largest scale measured. Never part of ``make test``; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from etl.config import DAGS_DIR, PROJECT_ROOT, Settings, cores, settings_under
from etl.flow.timings import COMMAND_STEP, read_timings
from etl.flow.timings import folder as timings_folder

BENCH_ROOT = PROJECT_ROOT / "warehouse" / "bench"
DOC_PATH = PROJECT_ROOT / "docs" / "benchmarks.md"
DEFAULT_SCALES = (1, 10, 100)
TEN_X_UNITS = 70  # the first 70 district units of the national list: about 10× the province
# The one new workbook: a 2026 report of Hà Nội (01, the first unit's province), in no
# corpus. A 2026 report of a district would not do: the district level is abolished from
# 01/07/2025, and the load step fails on it (geo_key null) although validation passes it.
EXTRA_YEAR = 2026
MANIFEST = ".manifest.json"
NOOP_DAG_ID = "bench_noop"
ATTEMPTS = 3  # a scale whose runs another process kills is started over, at most this often

# The targets of issue 8, as (key, text, limit).
TARGETS = (
    ("marginal", "marginal cost (full − nothing new) ≤ 2.0 × parse floor", 2.0),
    ("fixed", "fixed cost: nothing new ≤ 1.5 × Airflow floor", 1.5),
    ("one_file", "one-file re-run ≤ 1.25 × nothing new", 1.25),
    ("memory", "peak RSS of the pipeline ≤ 2 GB", 2048.0),
)

NOOP_DAG = '''"""Airflow's floor for `make bench`: one task that does nothing."""

import datetime as dt

from airflow.sdk import dag, task


@dag(
    dag_id="{dag_id}",
    schedule=None,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
)
def bench_noop():
    @task
    def noop() -> None:
        return None

    noop()


bench_noop()
'''


# ---------------------------------------------------------------------------------------
# Results


@dataclass
class ChildRun:
    """One subprocess: wall time, exit code, peak RSS (MB) and when it ran (epoch s)."""

    wall_s: float
    returncode: int
    peak_rss_mb: float
    started: float
    ended: float
    log: str


@dataclass
class ScaleResult:
    scale: int
    files: int
    rows: int  # data rows of the four data sheets in the corpus
    coop_years: int  # rows of the HTX sheets
    corpus_s: float | None  # time to write the corpus (None when reused)
    floor_s: float
    floor_rows: int  # every row calamine returned, headers and titles too
    init_s: float  # first `htx init` (Airflow DB migration), not part of any run below
    airflow_floor_s: float
    noop_task_s: float  # the one-task DAG's task, from task_instance
    full: ChildRun
    nothing_new: ChildRun
    one_file: ChildRun
    extra_status: str | None  # the new workbook's status in audit.file_ingestion
    statuses: dict[str, int] = field(default_factory=dict)  # after the full run
    stages: dict[str, dict[str, float | None]] = field(default_factory=dict)
    batch_size: int = 0  # files per stage task (0: results written before it was recorded)
    processes: int = 1  # processes `htx run` gave each stage task (HTX_PROCESSES)
    feedback_written: dict[str, int] = field(default_factory=dict)  # workbooks per run

    @property
    def peak_rss_mb(self) -> float:
        return max(self.full.peak_rss_mb, self.nothing_new.peak_rss_mb, self.one_file.peak_rss_mb)

    @property
    def marginal_ratio(self) -> float:
        return marginal_ratio(self.full.wall_s, self.nothing_new.wall_s, self.floor_s)

    def ratios(self) -> dict[str, float]:
        return {
            "marginal": self.marginal_ratio,
            "fixed": self.nothing_new.wall_s / self.airflow_floor_s,
            "one_file": self.one_file.wall_s / self.nothing_new.wall_s,
            "memory": self.peak_rss_mb,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ScaleResult:
        fields = {k: v for k, v in data.items() if k not in ("peak_rss_mb", "marginal_ratio")}
        fields.setdefault("noop_task_s", 0.0)  # results written before it was measured
        for run in ("full", "nothing_new", "one_file"):
            fields[run] = ChildRun(**fields[run])
        return cls(**fields)

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "peak_rss_mb": self.peak_rss_mb,
            "marginal_ratio": self.marginal_ratio,
        }


def marginal_ratio(full_s: float, nothing_new_s: float, floor_s: float) -> float:
    """(full − nothing new) / parse floor."""
    return (full_s - nothing_new_s) / floor_s if floor_s > 0 else float("inf")


def final_line(
    *,
    files: int,
    rows: int,
    floor_s: float,
    airflow_floor_s: float,
    full_s: float,
    nothing_new_s: float,
    one_file_s: float,
    peak_rss_mb: float,
) -> str:
    """The bench's last line of output, with the marginal ratio computed."""
    ratio = marginal_ratio(full_s, nothing_new_s, floor_s)
    return (
        f"bench: files={files} rows={rows} floor_s={floor_s:.2f} "
        f"airflow_floor_s={airflow_floor_s:.2f} full_s={full_s:.2f} "
        f"nothing_new_s={nothing_new_s:.2f} one_file_s={one_file_s:.2f} "
        f"marginal_ratio={ratio:.2f} peak_rss_mb={peak_rss_mb:.0f}"
    )


def result_line(result: ScaleResult) -> str:
    return final_line(
        files=result.files,
        rows=result.rows,
        floor_s=result.floor_s,
        airflow_floor_s=result.airflow_floor_s,
        full_s=result.full.wall_s,
        nothing_new_s=result.nothing_new.wall_s,
        one_file_s=result.one_file.wall_s,
        peak_rss_mb=result.peak_rss_mb,
    )


# ---------------------------------------------------------------------------------------
# Corpora


def corpus_dir(root: Path, scale: int, seed: int) -> Path:
    return root / f"corpus-{scale}-{seed}"


def write_corpus(scale: int, seed: int, out_dir: Path) -> list:
    """1×: the province sample (40 files); 10×: the first 70 national units; 100×: all."""
    from tools.sample import NATIONAL_SCALE, write_samples

    if scale == 1:
        return write_samples(out_dir, seed=seed)
    if scale == 10:
        return write_samples(out_dir, seed=seed, scale=NATIONAL_SCALE, limit=TEN_X_UNITS)
    if scale == 100:
        return write_samples(out_dir, seed=seed, scale=NATIONAL_SCALE)
    raise ValueError(f"unknown bench scale {scale}: expected one of {DEFAULT_SCALES}")


def ensure_corpus(root: Path, scale: int, seed: int, keep: bool) -> tuple[Path, dict, float | None]:
    """The corpus folder and its manifest; reused with ``keep`` when complete."""
    target = corpus_dir(root, scale, seed)
    manifest_path = target / MANIFEST
    if keep and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if all((target / f["name"]).is_file() for f in manifest["files"]):
            return target, manifest, None
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    started = time.perf_counter()
    files = write_corpus(scale, seed, partial)
    elapsed = time.perf_counter() - started
    manifest = {
        "scale": scale,
        "seed": seed,
        "written_s": elapsed,
        "files": [
            {"name": f.path.name, "unit": f.unit_code, "year": f.report_year, "rows": f.rows}
            for f in sorted(files, key=lambda f: f.path.name)
        ],
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)
    return target, manifest, elapsed


def ensure_extra_workbook(root: Path, seed: int) -> Path:
    """One valid workbook for a unit and year in no corpus: Hà Nội's 2026 report, which
    holds the cooperatives of its first district (001)."""
    from tools.sample import NATIONAL_SCALE, write_samples

    target = root / f"extra-{EXTRA_YEAR}-{seed}"
    done = list(target.glob(f"*_{EXTRA_YEAR}.xlsx")) if target.is_dir() else []
    if done:
        return done[0]
    with tempfile.TemporaryDirectory(dir=root) as scratch:
        files = write_samples(
            Path(scratch),
            seed=seed,
            years=range(2021, EXTRA_YEAR + 1),
            scale=NATIONAL_SCALE,
            limit=1,
            processes=1,
        )
        extra = next(f for f in files if f.report_year == EXTRA_YEAR)
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(extra.path, target / extra.path.name)
    return target / extra.path.name


def corpus_rows(manifest: dict) -> tuple[int, int]:
    """(data rows of all four sheets, HTX rows) over the corpus's files."""
    rows = sum(sum(f["rows"].values()) for f in manifest["files"])
    coop_years = sum(f["rows"].get("htx", 0) for f in manifest["files"])
    return rows, coop_years


def land(source: Path, landing: Path) -> None:
    """Put a file in the landing folder: a hard link (the pipeline skips symlinks)."""
    landing.mkdir(parents=True, exist_ok=True)
    target = landing / source.name
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


# ---------------------------------------------------------------------------------------
# Measurements


def parse_floor(paths: list[Path]) -> tuple[float, int]:
    """Seconds for calamine to read every sheet of every file into Python rows; rows read."""
    from python_calamine import CalamineWorkbook

    rows = 0
    started = time.perf_counter()
    for path in paths:
        book = CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            rows += len(book.get_sheet_by_name(name).to_python())
    return time.perf_counter() - started, rows


def run_child(command: list[str], env: dict[str, str], log: Path) -> ChildRun:
    """Run a command to completion; its wall time and the peak RSS of it and its children."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        started = time.time()
        clock = time.perf_counter()
        proc = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - clock
        proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux; wait4 reports the child and its waited-for children.
    return ChildRun(
        wall, proc.returncode, usage.ru_maxrss / 1024, started, started + wall, str(log)
    )


def bench_settings(run_dir: Path) -> Settings:
    return settings_under(run_dir, HTX_BATCH_SIZE=os.environ.get("HTX_BATCH_SIZE", ""))


def htx_environ(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HTX_")}
    return {**env, **settings.htx_environ()}


def floor_dags_folder(run_dir: Path) -> Path:
    """The bench-only dags folder: the one-task DAG and links to the project's DAG files,
    so that the floor parses as much as a pipeline run does."""
    folder = run_dir / "floor-dags"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{NOOP_DAG_ID}.py").write_text(NOOP_DAG.format(dag_id=NOOP_DAG_ID))
    for dag_file in sorted(DAGS_DIR.glob("*.py")):
        link = folder / dag_file.name
        if not link.is_symlink():
            link.symlink_to(dag_file)
    return folder


def airflow_floor(settings: Settings, run_dir: Path) -> ChildRun:
    """`airflow dags test` of the one-task DAG on the bench's metadata DB."""
    env = {
        **htx_environ(settings),
        **settings.airflow_environ(),
        "AIRFLOW__CORE__DAGS_FOLDER": str(floor_dags_folder(run_dir)),
    }
    airflow = str(Path(sys.executable).with_name("airflow"))
    return run_child([airflow, "dags", "test", NOOP_DAG_ID], env, run_dir / "logs" / "floor.log")


def htx(settings: Settings, command: str, log: Path) -> ChildRun:
    binary = str(Path(sys.executable).with_name("htx"))
    return run_child([binary, command], htx_environ(settings), log)


# ---------------------------------------------------------------------------------------
# Where the time goes: Airflow's metadata DB, the run's timing records and the ledger


def _epoch(text: str) -> float:
    """A timestamp of the metadata DB (SQLite, UTC; ISO with or without offset) in epoch s."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1]
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def dag_runs(airflow_db: Path) -> set[tuple[str, str]]:
    """(dag_id, run_id) of every DAG run in the metadata DB."""
    con = sqlite3.connect(f"file:{airflow_db}?mode=ro", uri=True)
    try:
        return set(con.execute("select dag_id, run_id from dag_run").fetchall())
    finally:
        con.close()


def task_times(
    airflow_db: Path, runs: set[tuple[str, str]] | None, dag_id: str | None = None
) -> dict[str, dict[str, float]]:
    """Per task id: number of task instances, summed duration, first start, last end, over
    the given (dag_id, run_id) pairs (an `htx run` makes an ingest and a publish run), from
    `task_instance` (its `duration`, else end − start).

    ``runs`` None: the latest run of ``dag_id``.
    """
    con = sqlite3.connect(f"file:{airflow_db}?mode=ro", uri=True)
    try:
        if runs is None:
            row = con.execute(
                "select run_id from dag_run where dag_id = ? order by id desc limit 1", [dag_id]
            ).fetchone()
            runs = {(dag_id, row[0] if row else "")}
        rows = []
        for one_dag, run_id in sorted(runs):
            rows += con.execute(
                "select task_id, start_date, end_date, duration from task_instance "
                "where dag_id = ? and run_id = ? and start_date is not null "
                "and end_date is not null",
                [one_dag, run_id],
            ).fetchall()
    finally:
        con.close()
    times: dict[str, dict[str, float]] = {}
    for task_id, start, end, duration in rows:
        s, e = _epoch(start), _epoch(end)
        t = times.setdefault(task_id, {"count": 0, "seconds": 0.0, "first": s, "last": e})
        t["count"] += 1
        t["seconds"] += duration if duration is not None else e - s
        t["first"], t["last"] = min(t["first"], s), max(t["last"], e)
    return times


def stage_phases(records: list[dict]) -> dict[str, float | None]:
    """Read, validate and write time inside the stage tasks, from their timing records.

    Each stage record gives a batch's wall time, its set-up (GX imported and built, the
    first batch of a process only) and the process-seconds of each phase, summed over the
    processes the batch was split across; the rest of the wall time is shared out in
    proportion.
    """
    totals = dict.fromkeys(("setup", "read", "validate", "write", "wall"), 0.0)
    found = False
    for row in records:
        if row["step"] != "stage":
            continue
        found = True
        wall, setup = row["wall_s"], row.get("setup_s", 0.0)
        phases = {key: row.get(f"{key}_s", 0.0) for key in ("read", "validate", "write")}
        spent = sum(phases.values())
        totals["wall"] += wall
        totals["setup"] += setup
        for key, value in phases.items():
            totals[key] += (wall - setup) * value / spent if spent else 0.0
    return {key: (value if found else None) for key, value in totals.items()}


def run_phases(
    run: ChildRun, records: list[dict], tasks: dict[str, dict[str, float]]
) -> dict[str, float | None]:
    """Start-up, Airflow set-up, DAG parse, the DAGs' span and wrap-up of one `htx run`: from
    the command's own timing record and the first start and last end in `task_instance`."""
    command = next((r for r in records if r["step"] == COMMAND_STEP), {})
    init_started, init_done = command.get("init_started"), command.get("init_done")
    first = min((t["first"] for t in tasks.values()), default=None)
    last = max((t["last"] for t in tasks.values()), default=None)
    phases: dict[str, float | None] = {
        "before_init": (init_started - run.started) if init_started else None,
        "init": (init_done - init_started) if init_started and init_done else None,
        "dag_parse": (first - init_done) if first is not None and init_done else None,
        "after_dag": (run.ended - last) if last is not None else None,
        "dag_span": (last - first) if first is not None and last is not None else None,
    }
    phases.update(stage_phases(records))
    return phases


def run_records(state_dir: Path, runs: set[tuple[str, str]]) -> list[dict]:
    """The timing records of the given DAG runs (`HTX_STATE_DIR/timings/`)."""
    return read_timings(timings_folder(state_dir), {run_id for _dag, run_id in runs})


def stage_breakdown(
    runs: dict[str, ChildRun],
    airflow_db: Path,
    run_ids: dict[str, set[tuple[str, str]]],
    state_dir: Path,
) -> dict[str, dict[str, float | None]]:
    """Seconds per stage of each run: `rows[stage][run]`."""
    rows: dict[str, dict[str, float | None]] = {}

    def put(stage: str, run: str, value: float | None) -> None:
        rows.setdefault(stage, {})[run] = value

    for name, run in runs.items():
        tasks = task_times(airflow_db, run_ids[name]) if run_ids.get(name) else {}
        phases = run_phases(run, run_records(state_dir, run_ids.get(name, set())), tasks)
        seconds = {t: v["seconds"] for t, v in tasks.items()}
        stage_total = seconds.get("stage", 0.0)
        put("htx start-up (imports, settings)", name, phases.get("before_init"))
        put("Airflow set-up in htx run (db migrate, pool)", name, phases.get("init"))
        put("DAG parse, DAG run created", name, phases.get("dag_parse"))
        put("discover (task)", name, seconds.get("discover"))
        put("stage: set-up (GX imported, context built)", name, phases.get("setup"))
        put("stage: read (calamine, headers, types, identify)", name, phases.get("read"))
        put("stage: validate (frames, lookups, GX suites)", name, phases.get("validate"))
        put("stage: write (Parquet, outcome files)", name, phases.get("write"))
        inside = phases.get("wall") or 0.0
        put(
            "stage: task overhead (Airflow, forks, log lines)",
            name,
            (stage_total - inside) if "stage" in tasks else None,
        )
        put("load (task)", name, seconds.get("load"))
        put("alert (task, publish DAG)", name, seconds.get("alert"))
        put("marts, checks and swap (publish task)", name, seconds.get("publish"))
        put("exports and reports (exports task)", name, seconds.get("exports"))
        span = phases.get("dag_span")
        put(
            "Airflow between tasks (dag.test)",
            name,
            (span - sum(seconds.values())) if span is not None else None,
        )
        put("after the DAG: run marked, summary, exit", name, phases.get("after_dag"))
        put("total (wall)", name, run.wall_s)
    mapped = {name: task_times(airflow_db, rid) for name, rid in run_ids.items() if rid}
    for name, tasks in mapped.items():
        put("stage task instances", name, tasks.get("stage", {}).get("count", 0))
    return rows


def feedback_written(export_dir: Path, run: ChildRun) -> int:
    """Annotated feedback workbooks a run wrote: those in the export folder's `feedback/`
    last written while it ran (an up-to-date one is kept, not written again)."""
    from etl.quality.feedback import FEEDBACK_DIR

    folder = export_dir / FEEDBACK_DIR
    if not folder.is_dir():
        return 0
    return sum(
        1 for path in folder.glob("*.xlsx") if run.started <= path.stat().st_mtime <= run.ended
    )


def file_status(ledger_path: Path, file_name: str | None = None) -> dict[str, int] | str | None:
    """Status counts of the ledger's audit.file_ingestion, or the status of one file."""
    import duckdb

    if not ledger_path.exists():
        return None
    con = duckdb.connect(str(ledger_path), read_only=True)
    try:
        if file_name is not None:
            row = con.execute(
                "select status from audit.file_ingestion where file_name = ?", [file_name]
            ).fetchone()
            return row[0] if row else None
        return dict(
            con.execute(
                "select status, count(*) from audit.file_ingestion group by 1 order by 1"
            ).fetchall()
        )
    finally:
        con.close()


# ---------------------------------------------------------------------------------------
# One scale


def say(message: str) -> None:
    print(f"[bench {datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def bench_scale(root: Path, scale: int, seed: int, keep: bool) -> ScaleResult:
    corpus, manifest, written_s = ensure_corpus(root, scale, seed, keep)
    rows, coop_years = corpus_rows(manifest)
    paths = [corpus / f["name"] for f in manifest["files"]]
    say(
        f"{scale}×: {len(paths)} files, {rows} rows in {corpus.name} "
        + (f"(written in {written_s:.1f}s)" if written_s is not None else "(reused)")
    )
    extra = ensure_extra_workbook(root, seed)

    floor_s, floor_rows = parse_floor(paths)
    say(f"{scale}×: parse floor {floor_s:.2f}s ({floor_rows} rows read)")

    run_dir = root / f"run-{scale}"
    shutil.rmtree(run_dir, ignore_errors=True)
    settings = bench_settings(run_dir)
    for path in paths:
        land(path, settings.landing_dir)
    logs = run_dir / "logs"
    init = htx(settings, "init", logs / "init.log")
    _check(init, "htx init")
    say(f"{scale}×: Airflow metadata DB migrated in {init.wall_s:.1f}s")
    floor = airflow_floor(settings, run_dir)
    _check(floor, "airflow dags test")
    noop = task_times(settings.airflow_home / "airflow.db", None, NOOP_DAG_ID)
    noop_task_s = sum(t["seconds"] for t in noop.values())
    say(f"{scale}×: Airflow floor {floor.wall_s:.2f}s (its one task {noop_task_s:.2f}s)")

    airflow_db = settings.airflow_home / "airflow.db"
    runs: dict[str, ChildRun] = {}
    run_ids: dict[str, set[tuple[str, str]]] = {}
    statuses: dict[str, int] = {}
    feedback: dict[str, int] = {}
    for name in ("full", "nothing_new", "one_file"):
        if name == "one_file":
            land(extra, settings.landing_dir)
        before = dag_runs(airflow_db)
        run = htx(settings, "run", logs / f"{name}.log")
        _check(run, f"htx run ({name})")
        runs[name] = run
        run_ids[name] = dag_runs(airflow_db) - before
        say(f"{scale}×: {name} {run.wall_s:.1f}s, peak RSS {run.peak_rss_mb:.0f} MB")
        if name == "full":
            statuses = file_status(settings.ledger) or {}
        feedback[name] = feedback_written(settings.export_dir, run)
    extra_status = file_status(settings.ledger, extra.name)

    stages = stage_breakdown(runs, airflow_db, run_ids, settings.state_dir)
    return ScaleResult(
        scale=scale,
        files=len(paths),
        rows=rows,
        coop_years=coop_years,
        corpus_s=written_s,
        floor_s=floor_s,
        floor_rows=floor_rows,
        init_s=init.wall_s,
        airflow_floor_s=floor.wall_s,
        noop_task_s=noop_task_s,
        full=runs["full"],
        nothing_new=runs["nothing_new"],
        one_file=runs["one_file"],
        extra_status=extra_status if isinstance(extra_status, str) else None,
        statuses=statuses,
        stages=stages,
        batch_size=settings.batch_size,
        processes=settings.processes or cores(),  # what `htx run` gives each task
        feedback_written=feedback,
    )


class Interrupted(RuntimeError):
    """A child ended by a signal it did not send itself (another user's kill)."""


def _check(run: ChildRun, what: str) -> None:
    if run.returncode < 0:
        raise Interrupted(f"{what} was ended by signal {-run.returncode}; see {run.log}")
    if run.returncode != 0:
        tail = "\n".join(Path(run.log).read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"{what} exited {run.returncode}; see {run.log}\n{tail}")


# ---------------------------------------------------------------------------------------
# The report


def machine() -> dict[str, object]:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    import airflow
    import duckdb

    return {
        **code_state(),
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "load_average": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "airflow": airflow.__version__,
        "duckdb": duckdb.__version__,
        "platform": platform.platform(),
    }


def code_state() -> dict[str, object]:
    """The commit measured and the files changed in the work tree (read-only git)."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout if done.returncode == 0 else ""

    changed = [line[3:] for line in git("status", "--porcelain").splitlines() if line[3:]]
    return {"commit": git("rev-parse", "--short", "HEAD").strip(), "changed": changed}


def _s(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _met(key: str, value: float, limit: float) -> str:
    return "met" if value <= limit else "**not met**"


def render(
    results: list[ScaleResult], before: dict, after: dict, seed: int, when: str | None = None
) -> str:
    main = results[-1]
    ratios = main.ratios()
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`.venv/bin/python -m tools.bench`); do not edit by hand. Each",
        "scale runs the whole pipeline through Airflow (`htx run`, as `make run` does) from an",
        "empty warehouse, then again with nothing new, then after one new workbook lands;",
        "beside it the parse floor (python-calamine reading every sheet of every file into",
        "Python rows, one process) and Airflow's floor (`airflow dags test` of a one-task DAG",
        "on the same metadata DB). Numbers are wall-clock seconds of one run, not averages.",
        "",
        f"Run {when or datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}, seed {seed}.",
        "",
        "## Machine",
        "",
        f"- {before['cores']} cores, {before['memory_gib']} GiB memory (`os.cpu_count()`, "
        "`/proc/meminfo`)",
        f"- Python {before['python']}, Airflow {before['airflow']}, DuckDB {before['duckdb']}, "
        f"{before['platform']}",
        f"- code: commit {before.get('commit') or '?'}"
        + (
            f" with {len(before.get('changed', []))} files changed or new in the work tree "
            f"({', '.join(before['changed'][:12])}{', …' if len(before['changed']) > 12 else ''})"
            if before.get("changed")
            else ""
        ),
        f"- load average (1, 5, 15 min) at start {before['load_average']}, at end "
        f"{after['load_average']}: the machine is shared with other work, so single runs",
        "  carry some noise.",
        "",
        "## Result",
        "",
        "```",
        result_line(main),
        "```",
        "",
        f"At {main.scale}× the province: {main.files} workbooks, {main.rows:,} data rows "
        f"({main.coop_years:,} cooperative-years in the HTX sheets; the others are support, "
        f"OCOP and offtake lines). After the full run `audit.file_ingestion` held "
        f"{_statuses(main.statuses)}; the one new workbook was `{main.extra_status}`.",
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "| --- | --- | --- |",
    ]
    for key, text, limit in TARGETS:
        value = ratios[key]
        shown = f"{value:.0f} MB" if key == "memory" else f"{value:.2f}×"
        lines.append(f"| {text} | {shown} | {_met(key, value, limit)} |")
    lines += [
        "",
        f"marginal = ({main.full.wall_s:.1f} − {main.nothing_new.wall_s:.1f}) / "
        f"{main.floor_s:.1f}; fixed = {main.nothing_new.wall_s:.1f} / "
        f"{main.airflow_floor_s:.1f}; one file = {main.one_file.wall_s:.1f} / "
        f"{main.nothing_new.wall_s:.1f}.",
        "",
        f"## Where the time goes ({main.scale}×)",
        "",
        "Seconds. Tasks from Airflow's metadata DB (`task_instance`, summed over mapped",
        "instances); inside `stage`, from each batch's timing record (`state/timings/`): its",
        "wall time shared out in proportion to the process-seconds of read, validate and write",
        f"(a batch is split across {main.processes} forked process(es)).",
        "The Airflow rows are what `htx run` spends outside the tasks. The first task of a",
        "`dag.test()` run also carries Airflow's in-process start-up: the one-task DAG's only",
        f"task, which does nothing, took {main.noop_task_s:.1f}s in `task_instance`, and",
        "`discover` is the first task here.",
        "",
        "| stage | full | nothing new | one file |",
        "| --- | ---: | ---: | ---: |",
    ]
    for stage, values in main.stages.items():
        if stage.startswith("_"):
            continue
        digits = 0 if stage == "stage task instances" else 2
        lines.append(
            f"| {stage} | {_s(values.get('full'), digits)} | "
            f"{_s(values.get('nothing_new'), digits)} | {_s(values.get('one_file'), digits)} |"
        )
    lines += ["", *_findings(main), ""]
    lines += [
        "## Scaling",
        "",
        "1× is the province sample (Đắk Nông, 40 files with its two resubmissions); 10× the",
        f"first {TEN_X_UNITS} district units of the national list; 100× every district unit",
        "(696 × 2021–2024, one province workbook per province for 2025).",
        "",
        "| scale | files | rows | corpus written s | parse floor s | Airflow floor s "
        "| full s | nothing new s | one file s | marginal ratio | ms per file (full − nothing "
        "new) | peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        per_file = 1000 * (r.full.wall_s - r.nothing_new.wall_s) / max(1, r.files)
        lines.append(
            f"| {r.scale}× | {r.files} | {r.rows:,} | {_s(r.corpus_s)} | {r.floor_s:.2f} | "
            f"{r.airflow_floor_s:.1f} | {r.full.wall_s:.1f} | {r.nothing_new.wall_s:.1f} | "
            f"{r.one_file.wall_s:.1f} | {r.marginal_ratio:.2f} | {per_file:.0f} | "
            f"{r.peak_rss_mb:.0f} |"
        )
    lines += ["", *_growth(results)]
    if len(results) > 1:
        lines += ["", "Per stage (full run, seconds):", ""]
        stage_names = [s for s in results[-1].stages if not s.startswith("_")]
        lines.append("| stage | " + " | ".join(f"{r.scale}×" for r in results) + " |")
        lines.append("| --- |" + " ---: |" * len(results))
        for stage in stage_names:
            digits = 0 if stage == "stage task instances" else 2
            cells = [_s(r.stages.get(stage, {}).get("full"), digits) for r in results]
            lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## How to run",
        "",
        "```sh",
        "make bench                                  # 1×, 10× and 100×: about 6 minutes here",
        "make bench BENCH_ARGS='--scales 1,10'       # a subset",
        "make bench BENCH_ARGS='--keep'              # reuse warehouse/bench/corpus-<scale>-<seed>",
        "```",
        "",
        "Everything the bench writes is under `warehouse/bench/` (git-ignored): the corpora,",
        "one `run-<scale>/` folder per scale with its landing folder, warehouse, state, Airflow",
        "home and the logs of every command, and `results.json` with the raw numbers.",
        "",
    ]
    return "\n".join(lines)


def _growth(results: list[ScaleResult]) -> list[str]:
    """How the full run's work beyond the fixed cost grows from one scale to the next."""
    lines = []
    for small, large in itertools.pairwise(results):
        work_small = small.full.wall_s - small.nothing_new.wall_s
        work_large = large.full.wall_s - large.nothing_new.wall_s
        lines.append(
            f"- {small.scale}× → {large.scale}×: files ×{large.files / small.files:.1f}, rows "
            f"×{large.rows / small.rows:.1f}; full run ×{large.full.wall_s / small.full.wall_s:.1f}"
            f", its work beyond a run with nothing new ×{work_large / work_small:.1f}; "
            f"the parse floor ×{large.floor_s / small.floor_s:.1f}."
        )
    if lines:
        lines.insert(0, "Growth:")
        lines.insert(1, "")
    return lines


def _statuses(statuses: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(statuses.items())) or "nothing"


def _top(values: dict[str, dict[str, float | None]], run: str, count: int = 4) -> str:
    items = [
        (stage, v[run])
        for stage, v in values.items()
        if not stage.startswith(("_", "total", "stage task")) and v.get(run) is not None
    ]
    items.sort(key=lambda item: -(item[1] or 0))
    return ", ".join(f"{stage} {value:.1f}s" for stage, value in items[:count])


def _deltas(values: dict[str, dict[str, float | None]], run: str, base: str, count: int = 6) -> str:
    """The stages that cost most more in ``run`` than in ``base``."""
    items = []
    for stage, v in values.items():
        if stage.startswith(("_", "total", "stage task")):
            continue
        delta = (v.get(run) or 0.0) - (v.get(base) or 0.0)
        if delta > 0:
            items.append((stage, delta))
    items.sort(key=lambda item: -item[1])
    return ", ".join(f"{stage} +{value:.1f}s" for stage, value in items[:count])


def _findings(r: ScaleResult) -> list[str]:
    ratios = r.ratios()
    lines = ["What dominates:", ""]
    lines.append(f"- full run ({r.full.wall_s:.1f}s): {_top(r.stages, 'full')}.")
    lines.append(f"- nothing new ({r.nothing_new.wall_s:.1f}s): {_top(r.stages, 'nothing_new')}.")
    lines.append(f"- one file ({r.one_file.wall_s:.1f}s): {_top(r.stages, 'one_file')}.")
    unmet = [(key, text) for key, text, limit in TARGETS if ratios[key] > limit]
    if unmet:
        lines += ["", "Targets not met, and what costs what:", ""]
    for key, text in unmet:
        if key == "marginal":
            lines.append(
                f"- {text}: the marginal {r.full.wall_s - r.nothing_new.wall_s:.1f}s against "
                f"a floor of {r.floor_s:.1f}s; what the full run spends beyond a run with "
                f"nothing new: {_deltas(r.stages, 'full', 'nothing_new')}."
            )
        elif key == "fixed":
            lines.append(
                f"- {text}: nothing new takes {r.nothing_new.wall_s:.1f}s against Airflow's "
                f"{r.airflow_floor_s:.1f}s: {_top(r.stages, 'nothing_new', 6)}."
            )
        elif key == "one_file":
            written = r.feedback_written.get("one_file", "?")
            lines.append(
                f"- {text}: one new file takes {r.one_file.wall_s:.1f}s against "
                f"{r.nothing_new.wall_s:.1f}s with nothing new. It wakes what a run with "
                "nothing new never starts: GX, the publish DAG (alert, marts and checks, "
                f"exports), and feedback workbooks ({written} written "
                "in this run); beyond a run with nothing new: "
                f"{_deltas(r.stages, 'one_file', 'nothing_new')}."
            )
        else:
            lines.append(f"- {text}: peak {r.peak_rss_mb:.0f} MB.")
    return lines


# ---------------------------------------------------------------------------------------
# Entry point


def parse_scales(text: str) -> list[int]:
    scales = sorted({int(part.strip().rstrip("×x")) for part in text.split(",") if part.strip()})
    unknown = [s for s in scales if s not in DEFAULT_SCALES]
    if unknown or not scales:
        raise argparse.ArgumentTypeError(f"scales must be among {DEFAULT_SCALES}: {text!r}")
    return scales


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--scales",
        type=parse_scales,
        default=list(DEFAULT_SCALES),
        help="comma-separated multiples of the province corpus among 1,10,100 (default all)",
    )
    parser.add_argument("--keep", action="store_true", help="reuse corpora already written")
    parser.add_argument("--seed", type=int, default=2025, help="sample seed (default 2025)")
    parser.add_argument("--root", type=Path, default=BENCH_ROOT, help="bench working folder")
    parser.add_argument("--doc", type=Path, default=DOC_PATH, help="report to write")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="measure nothing: write the report again from the last results.json",
    )
    args = parser.parse_args(argv)
    if args.report_only:
        saved = json.loads((args.root / "results.json").read_text())
        results = [ScaleResult.from_dict(r) for r in saved["results"]]
        text = render(
            results, saved["machine"], saved["machine_after"], saved["seed"], saved.get("finished")
        )
        args.doc.write_text(text, encoding="utf-8")
        print(result_line(results[-1]), flush=True)
        return 0

    args.root.mkdir(parents=True, exist_ok=True)
    before = machine()
    say(
        f"machine: {before['cores']} cores, {before['memory_gib']} GiB, "
        f"load {before['load_average']}"
    )
    results = []
    for scale in args.scales:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                results.append(bench_scale(args.root, scale, args.seed, args.keep or attempt > 1))
                break
            except Interrupted as exc:
                # A run killed from outside leaves a half-done state: start the scale over.
                say(f"{scale}×: {exc}; attempt {attempt} of {ATTEMPTS}")
                if attempt == ATTEMPTS:
                    raise
        say(result_line(results[-1]))
    after = machine()
    finished = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    (args.root / "results.json").write_text(
        json.dumps(
            {
                "machine": before,
                "machine_after": after,
                "seed": args.seed,
                "finished": finished,
                "results": [r.as_dict() for r in results],
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    args.doc.parent.mkdir(parents=True, exist_ok=True)
    args.doc.write_text(render(results, before, after, args.seed, finished), encoding="utf-8")
    say(f"wrote {args.doc}")
    print(result_line(results[-1]), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
