"""`make bench`: the pipeline's cost against its floors, at 1×, 10×, 100× and 300× the province.

For each scale it writes (or, with ``--keep``, reuses) a corpus of sample workbooks under
``warehouse/bench/corpus-<scale>-<seed>/`` and measures, in one run, side by side:

- the parse floor: python-calamine reading every sheet of every file into Python rows, in
  this one process;
- Airflow's floor: ``airflow dags test`` of a one-task DAG on the same metadata database,
  with a bench-only dags folder holding that DAG and links to the project's DAG files;
- the whole pipeline through Airflow from an empty warehouse (``htx run`` in a subprocess,
  as ``make run`` runs it, with every ``HTX_*`` folder under ``warehouse/bench/run-<scale>``;
  an earlier bench's folder is set aside and deleted after the last measurement,
  :mod:`tools.aside`);
- a re-run that finds nothing new, and a re-run after one new workbook lands;
- the peak resident memory of each pipeline run (``wait4``: the child and its children);
- where the time goes, from what the runs record, never from log text: per task from
  Airflow's metadata DB (``task_instance``); inside the ``stage`` tasks read / validate /
  write, and around the tasks ``htx run``'s set-up and wrap-up, from the timing records
  under ``HTX_STATE_DIR/timings/`` (:mod:`etl.flow.timings`); file outcomes from the
  ledger (``audit.file_ingestion``).

It writes ``docs/benchmarks.md`` (the targets of issue 17, the stage table beside the
baseline's, ``docs/bench-baseline-9e2699a.json``, and the series of every scale measured)
and the raw numbers to ``warehouse/bench/results.json``, and prints, last, one line:

    bench: scale=100x files=N rows=N floor_s=X airflow_floor_s=A full_s=F
    nothing_new_s=Z one_file_s=O marginal_ratio=(F-Z)/X one_file_ratio=O/Z
    fixed_ratio=Z/A peak_rss_mib=M | 300x: files=N marginal_ratio=R peak_rss_mib=M
    | targets: marginal=met one_file=met fixed=met memory=met scale=met | all met
                                                                (on one line)

for the targets' scale (100×, else the largest measured), the 300× part when 300× ran.
Never part of ``make test``; nothing here asserts a time.
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

from etl.config import DAGS_DIR, PROJECT_ROOT, RUN_BATCH_SIZE, Settings, cores, settings_under
from etl.flow.timings import COMMAND_STEP, TASK_STEP, read_timings
from etl.flow.timings import folder as timings_folder
from tools.aside import empty_trash, set_aside

BENCH_ROOT = PROJECT_ROOT / "warehouse" / "bench"
DOC_PATH = PROJECT_ROOT / "docs" / "benchmarks.md"
DEFAULT_SCALES = (1, 10, 100, 300)
SCALES = DEFAULT_SCALES  # every scale the bench knows
TARGET_SCALE = 100  # issue 17: the ratios come from the 100× corpus, kept as the baseline
DEEP_SCALE = 300  # the national corpus ten years deep (2021–2030): about 8,500 workbooks
TEN_X_UNITS = 70  # the first 70 district units of the national list: about 10× the province
BASELINE_PATH = PROJECT_ROOT / "docs" / "bench-baseline-9e2699a.json"
# The one new workbook: a 2026 report of Hà Nội (01, the first unit's province), in no
# corpus. A 2026 report of a district would not do: the district level is abolished from
# 01/07/2025, and the load step fails on it (geo_key null) although validation passes it.
EXTRA_YEAR = 2026
# The 300× corpus holds 2026 reports, that one's unit and year among them: there the new
# workbook is the corpus's own first commune report of 2026 (Hà Nội's 00004, the same unit
# and year), held out of the full run and landed after the run with nothing new.
MANIFEST = ".manifest.json"
NOOP_DAG_ID = "bench_noop"
ATTEMPTS = 3  # a scale whose runs another process kills is started over, at most this often

# The targets of issue 17, as (key, text, limit). Marginal, one file and fixed are measured
# at TARGET_SCALE; memory there (≤ 1,024 MiB) and at DEEP_SCALE (≤ 1.5 × 1,024 MiB); scale
# compares the marginal ratio of the two (|300× / 100× − 1| ≤ 20%).
MEMORY_MIB = 1024.0
DEEP_MEMORY_FACTOR = 1.5
SCALE_TOLERANCE = 0.20
TARGETS = (
    ("marginal", "marginal: (full − nothing new) ≤ 2.0 × parse floor", 2.0),
    ("one_file", "one file: one-file re-run ≤ 1.25 × nothing new", 1.25),
    ("fixed", "fixed: nothing new (the whole `htx run`) ≤ 1.5 × Airflow's floor", 1.5),
    ("memory", "memory: peak RSS ≤ 1,024 MiB at 100×, ≤ 1.5 × that at 300×", MEMORY_MIB),
    ("scale", "scale: 300× marginal ratio within ±20% of 100×'s", SCALE_TOLERANCE),
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
    """One subprocess: wall time, exit code, peak RSS and when it ran (epoch s), and the CPU
    time it and the processes it waited for used (``wait4``'s user and system seconds; 0 in
    results written before they were recorded).

    ``peak_rss_mb`` is in MiB (``ru_maxrss``, KiB on Linux, / 1024); the name is the one
    the results files have always carried."""

    wall_s: float
    returncode: int
    peak_rss_mb: float
    started: float
    ended: float
    log: str
    cpu_user_s: float = 0.0
    cpu_system_s: float = 0.0

    @property
    def cpu_s(self) -> float:
        return self.cpu_user_s + self.cpu_system_s


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
    extra_name: str = ""  # the one new workbook ("": results written before it was recorded)
    # The parts the tasks time themselves (`etl.phases`): `parts[run]["<task>: <part>"]`, s.
    parts: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def peak_rss_mb(self) -> float:
        """The peak RSS of the three pipeline runs, MiB."""
        return max(self.full.peak_rss_mb, self.nothing_new.peak_rss_mb, self.one_file.peak_rss_mb)

    @property
    def marginal_ratio(self) -> float:
        return marginal_ratio(self.full.wall_s, self.nothing_new.wall_s, self.floor_s)

    @property
    def one_file_ratio(self) -> float:
        return _ratio(self.one_file.wall_s, self.nothing_new.wall_s)

    @property
    def fixed_ratio(self) -> float:
        return _ratio(self.nothing_new.wall_s, self.airflow_floor_s)

    def ratios(self) -> dict[str, float]:
        return {
            "marginal": self.marginal_ratio,
            "one_file": self.one_file_ratio,
            "fixed": self.fixed_ratio,
        }

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "peak_rss_mb": self.peak_rss_mb,
            "marginal_ratio": self.marginal_ratio,
            "one_file_ratio": self.one_file_ratio,
            "fixed_ratio": self.fixed_ratio,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ScaleResult:
        derived = ("peak_rss_mb", "marginal_ratio", "one_file_ratio", "fixed_ratio")
        fields = {k: v for k, v in data.items() if k not in derived}
        fields.setdefault("noop_task_s", 0.0)  # results written before it was measured
        for run in ("full", "nothing_new", "one_file"):
            fields[run] = ChildRun(**fields[run])
        return cls(**fields)


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole > 0 else float("inf")


def marginal_ratio(full_s: float, nothing_new_s: float, floor_s: float) -> float:
    """(full − nothing new) / parse floor."""
    return (full_s - nothing_new_s) / floor_s if floor_s > 0 else float("inf")


def result_line(result: ScaleResult) -> str:
    """One scale's figures as ``key=value`` pairs (seconds, ratios, MiB)."""
    return (
        f"scale={result.scale}x files={result.files} rows={result.rows} "
        f"floor_s={result.floor_s:.2f} airflow_floor_s={result.airflow_floor_s:.2f} "
        f"full_s={result.full.wall_s:.2f} nothing_new_s={result.nothing_new.wall_s:.2f} "
        f"one_file_s={result.one_file.wall_s:.2f} marginal_ratio={result.marginal_ratio:.2f} "
        f"one_file_ratio={result.one_file_ratio:.2f} fixed_ratio={result.fixed_ratio:.2f} "
        f"peak_rss_mib={result.peak_rss_mb:.0f}"
    )


# ---------------------------------------------------------------------------------------
# Targets


@dataclass(frozen=True)
class Check:
    """One row of the Targets table: a target measured at one scale (or two)."""

    key: str  # a TARGETS key
    at: str  # the scale(s) measured, "100×" or "100×, 300×"
    measured: str
    limit: str
    met: bool


def target_result(results: list[ScaleResult]) -> ScaleResult:
    """The scale the targets are measured at: 100× when measured, else the largest."""
    return next(
        (r for r in results if r.scale == TARGET_SCALE), max(results, key=lambda r: r.scale)
    )


def deep_result(results: list[ScaleResult]) -> ScaleResult | None:
    """The 300× result beside the targets' scale, when both were measured."""
    main = target_result(results)
    return next((r for r in results if r.scale == DEEP_SCALE and r is not main), None)


def memory_limit(scale: int) -> float:
    """Peak RSS allowed, MiB: 1,024 MiB, and 1.5 × that at 300×."""
    return MEMORY_MIB * (DEEP_MEMORY_FACTOR if scale == DEEP_SCALE else 1.0)


def checks(results: list[ScaleResult]) -> list[Check]:
    """Every target of issue 17 this run measured, one row per scale it is measured at."""
    main, deep = target_result(results), deep_result(results)
    at = f"{main.scale}×"
    limits = {key: limit for key, _text, limit in TARGETS}
    rows = [
        Check(key, at, f"{main.ratios()[key]:.2f}×", f"{limits[key]}×", main.ratios()[key] <= limit)
        for key, _text, limit in TARGETS
        if key in ("marginal", "one_file", "fixed")
    ]
    for r in (main, deep):
        if r is not None:
            limit = memory_limit(r.scale)
            rows.append(
                Check(
                    "memory",
                    f"{r.scale}×",
                    f"{r.peak_rss_mb:,.0f} MiB",
                    f"{limit:,.0f} MiB",
                    r.peak_rss_mb <= limit,
                )
            )
    if deep is not None:
        change = scale_change(main, deep)
        rows.append(
            Check(
                "scale",
                f"{main.scale}×, {deep.scale}×",
                f"{deep.marginal_ratio:.2f} / {main.marginal_ratio:.2f} = {change:+.1%}",
                f"±{SCALE_TOLERANCE:.0%}",
                abs(change) <= SCALE_TOLERANCE,
            )
        )
    return rows


def scale_change(small: ScaleResult, large: ScaleResult) -> float:
    """How far the larger scale's marginal ratio is from the smaller's: 300× / 100× − 1."""
    if small.marginal_ratio <= 0 or small.marginal_ratio == float("inf"):
        return float("inf")
    return large.marginal_ratio / small.marginal_ratio - 1.0


def verdicts(results: list[ScaleResult]) -> dict[str, bool | None]:
    """Per target: met (at every scale it was measured at), not met, or None: not measured
    (the scale target needs 100× and 300× in the same run)."""
    found = checks(results)
    return {
        key: (
            all(c.met for c in found if c.key == key) if any(c.key == key for c in found) else None
        )
        for key, _text, _limit in TARGETS
    }


def final_line(results: list[ScaleResult]) -> str:
    """The bench's last line: the targets' scale, 300× beside it, and every target."""
    main, deep = target_result(results), deep_result(results)
    parts = [f"bench: {result_line(main)}"]
    if deep is not None:
        parts.append(
            f"{deep.scale}x: files={deep.files} rows={deep.rows} "
            f"marginal_ratio={deep.marginal_ratio:.2f} peak_rss_mib={deep.peak_rss_mb:.0f}"
        )
    found = verdicts(results)
    word = {True: "met", False: "not-met", None: "not-measured"}
    parts.append("targets: " + " ".join(f"{key}={word[met]}" for key, met in found.items()))
    unmet = [key for key, met in found.items() if met is False]
    unmeasured = [key for key, met in found.items() if met is None]
    if not unmet and not unmeasured:
        parts.append("all met")
    else:
        parts.append(
            "; ".join(
                text
                for text in (
                    f"not met: {', '.join(unmet)}" if unmet else "",
                    f"not measured: {', '.join(unmeasured)}" if unmeasured else "",
                )
                if text
            )
        )
    return " | ".join(parts)


# ---------------------------------------------------------------------------------------
# Corpora


def corpus_dir(root: Path, scale: int, seed: int) -> Path:
    return root / f"corpus-{scale}-{seed}"


def write_corpus(scale: int, seed: int, out_dir: Path) -> list:
    """1×: the province sample (40 files); 10×: the first 70 national units to 2025; 100×:
    every national unit to 2025 (2,818 files, the baseline corpus); 300×: the same country
    ten years deep, to 2030 (about 8,500 files; its files to 2025 are 100×'s)."""
    from tools.sample import NATIONAL_SCALE, write_deep_national_samples, write_samples

    if scale == 1:
        return write_samples(out_dir, seed=seed)
    if scale == 10:
        return write_samples(out_dir, seed=seed, scale=NATIONAL_SCALE, limit=TEN_X_UNITS)
    if scale == 100:
        return write_samples(out_dir, seed=seed, scale=NATIONAL_SCALE)
    if scale == DEEP_SCALE:
        return write_deep_national_samples(out_dir, seed=seed)
    raise ValueError(f"unknown bench scale {scale}: expected one of {SCALES}")


def held_out(scale: int, files: list) -> str | None:
    """The corpus file landed only for the one-file run, or None (the extra workbook is).

    At 300× (which holds the 2026 reports) the first commune report of 2026 by name: Hà
    Nội's 00004, the unit and year of the extra workbook of the other scales."""
    if scale != DEEP_SCALE:
        return None
    return min(f.path.name for f in files if f.report_year == EXTRA_YEAR and len(f.unit_code) == 5)


def ensure_corpus(root: Path, scale: int, seed: int, keep: bool) -> tuple[Path, dict, float | None]:
    """The corpus folder and its manifest; reused with ``keep`` when complete.

    The manifest's ``files`` are those of the full run; a ``held_out`` file (300×, see
    :func:`held_out`) is in the folder too, for the one-file run."""
    target = corpus_dir(root, scale, seed)
    manifest_path = target / MANIFEST
    if keep and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        listed = manifest["files"] + ([manifest["held_out"]] if manifest.get("held_out") else [])
        if all((target / f["name"]).is_file() for f in listed):
            return target, manifest, None
    partial = target.with_name(target.name + ".partial")
    set_aside(partial)
    started = time.perf_counter()
    files = write_corpus(scale, seed, partial)
    elapsed = time.perf_counter() - started
    late = held_out(scale, files)

    def entry(f) -> dict:
        return {"name": f.path.name, "unit": f.unit_code, "year": f.report_year, "rows": f.rows}

    manifest = {
        "scale": scale,
        "seed": seed,
        "written_s": elapsed,
        "files": [
            entry(f) for f in sorted(files, key=lambda f: f.path.name) if f.path.name != late
        ],
        "held_out": next((entry(f) for f in files if f.path.name == late), None),
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    set_aside(target)
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
        clock = time.perf_counter()
        started = time.time()
        proc = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        # The child stamps its records with the wall clock: read it again after the child
        # ended, never derive the end from the monotonic interval (the two clocks drift
        # apart by milliseconds over a run, and the end would fall before the child's own).
        ended = time.time()
        wall = time.perf_counter() - clock
        proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux; wait4 reports the child and its waited-for children.
    return ChildRun(
        wall,
        proc.returncode,
        usage.ru_maxrss / 1024,
        started,
        ended,
        str(log),
        usage.ru_utime,
        usage.ru_stime,
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

    Each stage record gives a batch's wall time, its set-up (the reference and the stamp;
    GX imported and built while forks read, the first batch of a process only; without
    forks GX is imported when first needed, in validate) and the process-seconds of each
    phase, summed over the processes the batch was split across; the rest of the wall time
    is shared out in proportion.
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
        records = run_records(state_dir, run_ids.get(name, set()))
        phases = run_phases(run, records, tasks)
        seconds = {t: v["seconds"] for t, v in tasks.items()}
        stage_total = seconds.get("stage", 0.0)
        put("htx start-up (imports, settings)", name, phases.get("before_init"))
        put("Airflow set-up in htx run (db migrate, pool)", name, phases.get("init"))
        put("DAG parse, DAG run created", name, phases.get("dag_parse"))
        put("discover (task)", name, seconds.get("discover"))
        # The label is the baseline's (docs/bench-baseline-*.json): without forks GX is now
        # imported when first needed, in validate.
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
        # Not a row of the table (it is inside the task rows): `_airflow_part`.
        put(AIRFLOW_IN_TASKS, name, airflow_in_tasks(seconds, records, stage_total - inside))
    mapped = {name: task_times(airflow_db, rid) for name, rid in run_ids.items() if rid}
    for name, tasks in mapped.items():
        put("stage task instances", name, tasks.get("stage", {}).get("count", 0))
    return rows


def task_parts(records: list[dict]) -> dict[str, float]:
    """`<task>: <part>` -> seconds of the parts the tasks of a run time themselves
    (`etl.phases`, in their timing records), in the order the tasks ran, each task's with
    the rest of its own work after them (`REST`)."""
    found: dict[str, float] = {}
    for row in sorted(records, key=lambda r: r["started"]):
        parts = row.get("parts")
        if row["step"] != TASK_STEP or not parts:
            continue
        task = row.get("task_id") or row["key"]
        for name, seconds in parts.items():
            found[f"{task}: {name}"] = found.get(f"{task}: {name}", 0.0) + seconds
        rest = f"{task}: {REST}"
        found[rest] = found.get(rest, 0.0) + max(0.0, row["wall_s"] - sum(parts.values()))
    return found


REST = "the rest of its work"


def by_part(runs: dict[str, dict[str, float]]) -> dict[str, dict[str, float | None]]:
    """`task_parts` of each run turned around: part -> run -> seconds (None: not timed in
    that run), in the order the runs timed them (a part only one run timed comes after the
    part that run timed before it)."""
    labels: list[str] = []
    for parts in runs.values():
        previous = None
        for label in parts:
            if label not in labels:
                labels.insert(labels.index(previous) + 1 if previous else 0, label)
            previous = label
    return {label: {run: parts.get(label) for run, parts in runs.items()} for label in labels}


# What Airflow spends inside the task instances of a run, besides the tasks' own work: a
# stage (hidden: "_") of `ScaleResult.stages`, part of the task rows.
AIRFLOW_IN_TASKS = "_airflow inside the tasks"


def airflow_in_tasks(
    seconds: dict[str, float], records: list[dict], stage_overhead: float
) -> float | None:
    """Seconds of the run's task instances (`task_instance`) that are not the tasks' own
    work: for each task that records its work (`etl.flow.timings.task_work`), its duration
    less that work; for `stage`, its overhead (duration less its batches' wall time). None
    when no task recorded its work (results of an older release)."""
    work: dict[str, float] = {}
    for row in records:
        if row["step"] == TASK_STEP and row.get("task_id"):
            work[row["task_id"]] = work.get(row["task_id"], 0.0) + row["wall_s"]
    if not work:
        return None
    inside = sum(max(0.0, seconds[t] - spent) for t, spent in work.items() if t in seconds)
    return inside + (max(0.0, stage_overhead) if "stage" in seconds else 0.0)


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
    late = manifest.get("held_out")
    extra = corpus / late["name"] if late else ensure_extra_workbook(root, seed)

    floor_s, floor_rows = parse_floor(paths)
    say(f"{scale}×: parse floor {floor_s:.2f}s ({floor_rows} rows read)")

    run_dir = root / f"run-{scale}"
    set_aside(run_dir)  # deleted after the last measurement (tools.aside)
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
        say(f"{scale}×: {name} {run.wall_s:.1f}s, peak RSS {run.peak_rss_mb:.0f} MiB")
        if name == "full":
            statuses = file_status(settings.ledger) or {}
        feedback[name] = feedback_written(settings.export_dir, run)
    extra_status = file_status(settings.ledger, extra.name)

    stages = stage_breakdown(runs, airflow_db, run_ids, settings.state_dir)
    parts = {
        name: task_parts(run_records(settings.state_dir, run_ids.get(name, set()))) for name in runs
    }
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
        batch_size=settings.batch_size or RUN_BATCH_SIZE,
        processes=settings.processes or cores(),  # what `htx run` gives each task
        feedback_written=feedback,
        extra_name=extra.name,
        parts=parts,
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


def _met(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "not measured"}[met]


def load_baseline(path: Path | None) -> tuple[dict, list[ScaleResult]] | None:
    """A earlier run's results.json (its machine block and results), or None."""
    if path is None or not path.is_file():
        return None
    saved = json.loads(path.read_text(encoding="utf-8"))
    return saved, [ScaleResult.from_dict(r) for r in saved["results"]]


def render(
    results: list[ScaleResult],
    before: dict,
    after: dict,
    seed: int,
    when: str | None = None,
    baseline: tuple[dict, list[ScaleResult]] | None = None,
    baseline_name: str = "",
) -> str:
    main = target_result(results)
    deep = deep_result(results)
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`.venv/bin/python -m tools.bench`); do not edit by hand. Each",
        "scale runs the whole pipeline through Airflow (`htx run`, as `make run` does) from an",
        "empty warehouse, then again with nothing new, then after one new workbook lands;",
        "beside it the parse floor (python-calamine reading every sheet of every file into",
        "Python rows, one process) and Airflow's floor (`airflow dags test` of a one-task DAG",
        "on the same metadata DB). Numbers are wall-clock seconds of one run, not averages;",
        "peak RSS is the largest `ru_maxrss` of a pipeline run and its children, in MiB.",
        "",
        f"Run {when or datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}, seed {seed}, scales "
        f"{', '.join(f'{r.scale}×' for r in results)}.",
        "",
        "## Machine",
        "",
        *_machine_lines(before, after),
        "",
        "## Result",
        "",
        "```",
        final_line(results),
        "```",
        "",
        f"At {main.scale}× the province: {main.files} workbooks, {main.rows:,} data rows "
        f"({main.coop_years:,} cooperative-years in the HTX sheets; the others are support, "
        f"OCOP and offtake lines). After the full run `audit.file_ingestion` held "
        f"{_statuses(main.statuses)}; the one new workbook"
        + (f", `{main.extra_name}`," if main.extra_name else "")
        + f" was `{main.extra_status}`.",
        "",
        *_targets_table(results),
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
    lines += ["", *_airflow_part(main), *_parts_table(main)]
    cores = after.get("cores")
    lines += [*_cpu_table(main, cores if isinstance(cores, int) else 1)]
    lines += [*_findings(main, results), ""]
    lines += _before_after(main, results, baseline, baseline_name)
    lines += [
        "## Scaling",
        "",
        "All from this run. 1× is the province sample (Đắk Nông, 40 files with its two",
        f"resubmissions); 10× the first {TEN_X_UNITS} district units of the national list to",
        "2025; 100× every district unit (696 × 2021–2024, one province workbook per province",
        "in force for 2025): the baseline corpus. 300× is the same country ten years deep, to",
        "2030, the contract's benchmark size: its files to 2025 are 100×'s, and for each year",
        "2026–2030 every third new commune with cooperatives sends its own report and the 34",
        "provinces one for their other communes. At 300× the one new workbook is the corpus's",
        "own first commune report of 2026, held out of the full run; at the other scales a",
        "2026 report of the same commune, in no corpus.",
        "",
        "| scale | files | rows | corpus written s | parse floor s | Airflow floor s "
        "| full s | nothing new s | one file s | marginal ratio | one-file ratio "
        "| fixed ratio | ms per file (full − nothing new) | peak RSS MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: |",
    ]
    for r in results:
        per_file = 1000 * (r.full.wall_s - r.nothing_new.wall_s) / max(1, r.files)
        lines.append(
            f"| {r.scale}× | {r.files} | {r.rows:,} | {_s(r.corpus_s)} | {r.floor_s:.2f} | "
            f"{r.airflow_floor_s:.1f} | {r.full.wall_s:.1f} | {r.nothing_new.wall_s:.1f} | "
            f"{r.one_file.wall_s:.1f} | {r.marginal_ratio:.2f} | {r.one_file_ratio:.2f} | "
            f"{r.fixed_ratio:.2f} | {per_file:.0f} | {r.peak_rss_mb:.0f} |"
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
    if deep is None:
        lines += [
            "",
            "The scale target needs 100× and 300× in one run (`make bench`, or",
            "`BENCH_ARGS='--scales 100,300'`).",
        ]
    lines += [
        "",
        "## How to run",
        "",
        "```sh",
        "make bench                             # 1×, 10×, 100× and 300×: about 15 minutes here",
        "make bench BENCH_ARGS='--scales 1,10'  # a subset",
        "make bench BENCH_ARGS='--keep'         # reuse warehouse/bench/corpus-<scale>-<seed>",
        "make bench BENCH_ARGS='--report-only'  # this page again from results.json",
        "```",
        "",
        "Everything the bench writes is under `warehouse/bench/` (git-ignored): the corpora,",
        "one `run-<scale>/` folder per scale with its landing folder, warehouse, state, Airflow",
        "home and the logs of every command, and `results.json` with the raw numbers. The",
        "`run-<scale>/` folder of an earlier bench is moved to `.trash/` and deleted after the",
        "last measurement, not before the runs: on a file system without a journal, files",
        "created within about 30 s of thousands deleted cost several times as much",
        "(`tools/aside.py`), which the full run would pay for the bench's clean-up.",
        "",
    ]
    return "\n".join(lines)


def _machine_lines(before: dict, after: dict) -> list[str]:
    return [
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
    ]


def _targets_table(results: list[ScaleResult]) -> list[str]:
    main = target_result(results)
    texts = {key: text for key, text, _limit in TARGETS}
    lines = [
        "## Targets",
        "",
        "The targets of issue 17. Marginal, one file and fixed are measured at "
        f"{TARGET_SCALE}×, the baseline corpus"
        + (
            f" (this run has no {TARGET_SCALE}×: shown at {main.scale}×, which is not the "
            "targets' corpus)"
            if main.scale != TARGET_SCALE
            else ""
        )
        + f"; memory at {TARGET_SCALE}× (≤ {MEMORY_MIB:,.0f} MiB) and at {DEEP_SCALE}× "
        f"(≤ {DEEP_MEMORY_FACTOR} × {MEMORY_MIB:,.0f} = "
        f"{memory_limit(DEEP_SCALE):,.0f} MiB); scale compares the marginal ratios of "
        f"{DEEP_SCALE}× and {TARGET_SCALE}×.",
        "",
        "| target | at | measured | limit | |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    found = checks(results)
    for key, _text, _limit in TARGETS:
        rows = [c for c in found if c.key == key]
        for c in rows:
            lines.append(f"| {texts[key]} | {c.at} | {c.measured} | {c.limit} | {_met(c.met)} |")
        if not rows:
            lines.append(f"| {texts[key]} | – | – | – | {_met(None)} |")
    r = main
    lines += [
        "",
        f"At {r.scale}×: marginal = ({r.full.wall_s:.1f} − {r.nothing_new.wall_s:.1f}) / "
        f"{r.floor_s:.1f}; one file = {r.one_file.wall_s:.1f} / {r.nothing_new.wall_s:.1f}; "
        f"fixed = {r.nothing_new.wall_s:.1f} / {r.airflow_floor_s:.1f}.",
    ]
    deep = deep_result(results)
    if deep is not None:
        lines.append(
            f"At {deep.scale}×: marginal = ({deep.full.wall_s:.1f} − "
            f"{deep.nothing_new.wall_s:.1f}) / {deep.floor_s:.1f}; peak RSS "
            f"{deep.peak_rss_mb:,.0f} MiB, {_ratio(deep.peak_rss_mb, r.peak_rss_mb):.2f} × "
            f"{r.scale}×'s."
        )
    return lines


# The summary rows of the before-and-after table: (label, value of a result, digits).
_SUMMARY = (
    ("workbooks", lambda r: float(r.files), 0),
    ("parse floor s", lambda r: r.floor_s, 2),
    ("Airflow floor s", lambda r: r.airflow_floor_s, 2),
    ("marginal ratio", lambda r: r.marginal_ratio, 2),
    ("one-file ratio", lambda r: r.one_file_ratio, 2),
    ("fixed ratio", lambda r: r.fixed_ratio, 2),
    ("peak RSS MiB", lambda r: r.peak_rss_mb, 0),
)


def _before_after(
    main: ScaleResult,
    results: list[ScaleResult],
    baseline: tuple[dict, list[ScaleResult]] | None,
    name: str,
) -> list[str]:
    """The baseline's stage table beside this run's, at the baseline's scale."""
    if baseline is None:
        return []
    saved, earlier = baseline
    old = next((r for r in earlier if r.scale == TARGET_SCALE), None)
    if old is None:
        return []
    lines = [f"## Before and after ({old.scale}×)", ""]
    new = next((r for r in results if r.scale == old.scale), None)
    commit = saved.get("machine", {}).get("commit") or "?"
    source = f"`{name}`" if name else "the baseline results"
    if new is None:
        return [
            *lines,
            f"Before: commit {commit}, run {saved.get('finished', '?')} ({source}). This run "
            f"has no {old.scale}×, so no after: run `make bench`.",
            "",
        ]
    if new.as_dict() == old.as_dict():
        return [
            *lines,
            f"This page is the baseline itself: commit {commit}, run "
            f"{saved.get('finished', '?')} ({source}). `make bench` puts the current code "
            "beside it.",
            "",
        ]
    lines += [
        f"Before: commit {commit}, run {saved.get('finished', '?')} ({source}); after: this "
        f"run, on the same corpus ({old.files} and {new.files} workbooks). Seconds, as above.",
        "",
        "| stage | full before | full after | nothing new before | nothing new after "
        "| one file before | one file after |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    names = [s for s in new.stages if not s.startswith("_")]
    names += [s for s in old.stages if not s.startswith("_") and s not in names]
    for stage in names:
        digits = 0 if stage == "stage task instances" else 2
        cells = [
            _s(r.stages.get(stage, {}).get(run), digits)
            for run in ("full", "nothing_new", "one_file")
            for r in (old, new)
        ]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines += ["", "| | before | after |", "| --- | ---: | ---: |"]
    for label, value, digits in _SUMMARY:
        lines.append(f"| {label} | {value(old):,.{digits}f} | {value(new):,.{digits}f} |")
    return [*lines, ""]


def _growth(results: list[ScaleResult]) -> list[str]:
    """How the full run's work beyond the fixed cost grows from one scale to the next."""
    lines = []
    for small, large in itertools.pairwise(results):
        work_small = small.full.wall_s - small.nothing_new.wall_s
        work_large = large.full.wall_s - large.nothing_new.wall_s
        lines.append(
            f"- {small.scale}× → {large.scale}×: files ×{large.files / small.files:.1f}, rows "
            f"×{large.rows / small.rows:.1f}; full run ×{large.full.wall_s / small.full.wall_s:.1f}"
            f", its work beyond a run with nothing new ×{_ratio(work_large, work_small):.1f}; "
            f"the parse floor ×{large.floor_s / small.floor_s:.1f}; marginal ratio "
            f"{small.marginal_ratio:.2f} → {large.marginal_ratio:.2f}."
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


# Airflow's own part of a run: the rows of the stage table that are Airflow's, and what it
# spends inside the task instances besides the tasks' work.
_AIRFLOW_ROWS = (
    ("set-up in htx run (db migrate, pool)", "Airflow set-up in htx run (db migrate, pool)"),
    ("DAG parse, DAG run created", "DAG parse, DAG run created"),
    ("inside the tasks (start, rendered fields, XCom, lineage, state)", AIRFLOW_IN_TASKS),
    (
        "between tasks (dag.test: the publish DAG parsed, its run made)",
        "Airflow between tasks (dag.test)",
    ),
)


def airflow_seconds(r: ScaleResult, run: str) -> float | None:
    """Airflow's own seconds in one of the three runs (`_AIRFLOW_ROWS`); None when a part was
    not measured."""
    values = [r.stages.get(stage, {}).get(run) for _label, stage in _AIRFLOW_ROWS]
    return None if any(v is None for v in values) else sum(values)  # type: ignore[arg-type]


def one_file_floor(r: ScaleResult) -> tuple[float, float] | None:
    """What a new file adds of Airflow's own to a run with nothing new, and the one-file
    ratio a run would have whose pipeline work cost nothing: (seconds, ratio). Only the
    parts a new file changes count: Airflow's set-up and the ingest DAG's parse are the same
    work in both runs (their difference is the machine's noise, or the warm validator
    starting beside them)."""
    added = 0.0
    for stage in (AIRFLOW_IN_TASKS, "Airflow between tasks (dag.test)"):
        values = r.stages.get(stage, {})
        one, nothing = values.get("one_file"), values.get("nothing_new")
        if one is None or nothing is None:
            return None
        added += one - nothing
    added = max(0.0, added)
    return added, _ratio(r.nothing_new.wall_s + added, r.nothing_new.wall_s)


def _airflow_part(r: ScaleResult) -> list[str]:
    """The table of Airflow's own seconds in each run, and the one-file ratio it alone makes."""
    floor = one_file_floor(r)
    if floor is None:
        return []
    lines = [
        "Airflow's own part of each run, in the rows above: each task records its own work",
        "(`state/timings/`), the rest of its instance's duration is Airflow's.",
        "",
        "| Airflow | full | nothing new | one file |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, stage in _AIRFLOW_ROWS:
        values = r.stages.get(stage, {})
        cells = " | ".join(_s(values.get(run), 2) for run in ("full", "nothing_new", "one_file"))
        lines.append(f"| {label} | {cells} |")
    totals = " | ".join(
        _s(airflow_seconds(r, run), 2) for run in ("full", "nothing_new", "one_file")
    )
    lines.append(f"| total | {totals} |")
    added, ratio = floor
    limit = next(limit for key, _text, limit in TARGETS if key == "one_file")
    nothing = r.nothing_new.wall_s
    budget = max(0.0, limit * nothing - nothing - added)
    work = r.one_file.wall_s - nothing - added
    lines += [
        "",
        f"A new file adds {added:.2f}s of Airflow's own to a run with nothing new, inside and "
        "between the tasks (the publish DAG's run and the tasks a new file starts): were the "
        f"pipeline's own work free, the one-file run would take {nothing + added:.1f}s, "
        f"{ratio:.2f}× nothing new. The target ({limit}×) leaves {budget:.2f}s for the work a "
        f"new file causes; it took {work:.2f}s.",
        "",
    ]
    return lines


def _parts_table(r: ScaleResult) -> list[str]:
    """The parts of the tasks' own work, as each task times them (`etl.phases`)."""
    if not r.parts:
        return []
    lines = [
        "Inside the tasks' own work, the parts each times itself (`etl.phases`, in its timing",
        "record), wall seconds; the rest of a task's work is what falls outside them.",
        "",
        "| task: part | full | nothing new | one file |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, values in by_part(r.parts).items():
        cells = " | ".join(_s(values.get(run), 2) for run in ("full", "nothing_new", "one_file"))
        lines.append(f"| {label} | {cells} |")
    return [*lines, ""]


def _cpu_table(r: ScaleResult, cores: int) -> list[str]:
    """The CPU each run used against the wall time of every core: whether a run waits or
    works, and what the marginal target asks of the work. Nothing for results written
    before the CPU time was recorded."""
    runs = {"full": r.full, "nothing new": r.nothing_new, "one file": r.one_file}
    if not all(run.cpu_s for run in runs.values()):
        return []
    lines = [
        "CPU of each run: the user and system seconds of `htx run` and every process it",
        f"waited for (`wait4`), and how many of the {cores} core(s) it kept busy on average.",
        "",
        "| | " + " | ".join(runs) + " |",
        "| --- |" + " ---: |" * len(runs),
        "| wall s | " + " | ".join(f"{run.wall_s:.2f}" for run in runs.values()) + " |",
        "| CPU user s | " + " | ".join(f"{run.cpu_user_s:.2f}" for run in runs.values()) + " |",
        "| CPU system s | " + " | ".join(f"{run.cpu_system_s:.2f}" for run in runs.values()) + " |",
        "| cores busy (CPU ÷ wall) | "
        + " | ".join(f"{_ratio(run.cpu_s, run.wall_s):.2f}" for run in runs.values())
        + " |",
        "",
    ]
    work = r.full.cpu_s - r.nothing_new.cpu_s
    limit = next(limit for key, _text, limit in TARGETS if key == "marginal")
    if work > 0 and r.floor_s > 0:
        spread = work / max(1, cores)
        lines += [
            f"Beyond a run with nothing new the full run used {work:.1f} CPU-seconds, "
            f"{work / r.floor_s:.1f} × the parse floor (itself one process). Spread over all "
            f"{cores} core(s) with no wait at all, that work alone would take {spread:.1f}s: "
            f"a marginal ratio of {spread / r.floor_s:.2f}, against the target's "
            f"{limit:.1f}. Below that takes less work, not more parallelism.",
            "",
        ]
    return lines


def _findings(r: ScaleResult, results: list[ScaleResult]) -> list[str]:
    lines = ["What dominates:", ""]
    lines.append(f"- full run ({r.full.wall_s:.1f}s): {_top(r.stages, 'full')}.")
    lines.append(f"- nothing new ({r.nothing_new.wall_s:.1f}s): {_top(r.stages, 'nothing_new')}.")
    lines.append(f"- one file ({r.one_file.wall_s:.1f}s): {_top(r.stages, 'one_file')}.")
    texts = {key: text for key, text, _limit in TARGETS}
    unmet = [c for c in checks(results) if not c.met]
    if unmet:
        lines += ["", "Targets not met, and what costs what:", ""]
    for c in unmet:
        text = f"{texts[c.key]} (at {c.at})"
        if c.key == "marginal":
            lines.append(
                f"- {text}: the marginal {r.full.wall_s - r.nothing_new.wall_s:.1f}s against "
                f"a floor of {r.floor_s:.1f}s; what the full run spends beyond a run with "
                f"nothing new: {_deltas(r.stages, 'full', 'nothing_new')}."
            )
        elif c.key == "fixed":
            lines.append(
                f"- {text}: nothing new takes {r.nothing_new.wall_s:.1f}s against Airflow's "
                f"{r.airflow_floor_s:.1f}s: {_top(r.stages, 'nothing_new', 6)}."
            )
        elif c.key == "one_file":
            written = r.feedback_written.get("one_file", "?")
            lines.append(
                f"- {text}: one new file takes {r.one_file.wall_s:.1f}s against "
                f"{r.nothing_new.wall_s:.1f}s with nothing new ({written} feedback "
                "workbook(s) written in that run); beyond a run with nothing new: "
                f"{_deltas(r.stages, 'one_file', 'nothing_new')}."
            )
            floor = one_file_floor(r)
            if floor is not None:
                lines.append(
                    f"  Of that, Airflow's own: +{floor[0]:.1f}s, which alone makes "
                    f"{floor[1]:.2f}× nothing new."
                )
        elif c.key == "memory":
            lines.append(f"- {text}: peak {c.measured} against {c.limit}.")
        else:
            # The change's sign: a smaller ratio at 300× is work growing more slowly than
            # the floor (a fixed part spread wider), a larger one faster.
            slower = "= -" in c.measured
            lines.append(
                f"- {text}: marginal ratio {c.measured}; the work grows "
                f"{'more slowly' if slower else 'faster'} than the parse floor (see Scaling)."
            )
    return lines


# ---------------------------------------------------------------------------------------
# Entry point


def parse_scales(text: str) -> list[int]:
    scales = sorted({int(part.strip().rstrip("×x")) for part in text.split(",") if part.strip()})
    unknown = [s for s in scales if s not in SCALES]
    if unknown or not scales:
        raise argparse.ArgumentTypeError(f"scales must be among {SCALES}: {text!r}")
    return scales


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--scales",
        type=parse_scales,
        default=list(DEFAULT_SCALES),
        help="comma-separated multiples of the province corpus among 1,10,100,300 (default all)",
    )
    parser.add_argument("--keep", action="store_true", help="reuse corpora already written")
    parser.add_argument("--seed", type=int, default=2025, help="sample seed (default 2025)")
    parser.add_argument("--root", type=Path, default=BENCH_ROOT, help="bench working folder")
    parser.add_argument("--doc", type=Path, default=DOC_PATH, help="report to write")
    parser.add_argument(
        "--baseline",
        type=Path,
        default=BASELINE_PATH,
        help="results.json of the run to show as 'before' (default: 9e2699a's 100×)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="measure nothing: write the report again from the last results.json",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help="with --report-only: the results.json to read (default ROOT/results.json)",
    )
    args = parser.parse_args(argv)
    baseline = load_baseline(args.baseline)
    baseline_name = _shown_path(args.baseline)
    if args.report_only:
        saved = json.loads((args.results or args.root / "results.json").read_text())
        results = [ScaleResult.from_dict(r) for r in saved["results"]]
        text = render(
            results,
            saved["machine"],
            saved["machine_after"],
            saved["seed"],
            saved.get("finished"),
            baseline,
            baseline_name,
        )
        args.doc.write_text(text, encoding="utf-8")
        print(final_line(results), flush=True)
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
    args.doc.write_text(
        render(results, before, after, args.seed, finished, baseline, baseline_name),
        encoding="utf-8",
    )
    say(f"wrote {args.doc}")
    empty_trash(args.root)  # the earlier runs' folders, once nothing is measured any more
    print(final_line(results), flush=True)
    return 0


def _shown_path(path: Path | None) -> str:
    """A path as the report names it: relative to the project when inside it."""
    if path is None:
        return ""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    raise SystemExit(main())
