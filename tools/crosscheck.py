"""`make crosscheck`: issue 17's ratios measured a second way, on another national corpus.

`make bench` measures the pipeline on its own corpus (seed 2025, 2021–2025) with its own
harness. This is the independent check the issue asks for: a separate harness that shares
none of the bench's measuring code, on a corpus the bench never reads:

- **the corpus:** the national sample with another seed (7 by default) and another window,
  2022–2026, so that its last year is reported in the new geography (communes and the 34
  provinces in force) rather than by districts; one 2024 district workbook is held out of
  the full run and lands alone afterwards (a late report: the one-file run);
- **the floors:** python-calamine reading every sheet of every file into Python rows in one
  process, taken three times (the median is the floor, the spread is printed), and
  ``airflow dags test`` of a DAG with one task that does nothing, on a metadata DB
  migrated beforehand, with the project's DAG files beside it in the folder;
- **the runs:** the whole ``htx run`` command (what ``make run`` runs) as a child process,
  from an empty warehouse, then with nothing new, then with the held-out file; wall time
  and peak RSS (``wait4``: the child and everything it waited for);
- **the facts:** after the full run and again after the one-file run, every file must be
  ``loaded`` and each fact table must hold, per file, exactly the rows the generator wrote
  in the file's sheet; any difference is counted and shown.

It prints one line, last::

    crosscheck: seed=7 years=2022-2026 files=N rows=N floor_s=X airflow_floor_s=A full_s=F
    nothing_new_s=Z one_file_s=O marginal_ratio=(F-Z)/X one_file_ratio=O/Z
    fixed_ratio=Z/A peak_rss_mib=M facts=exact|<n> differ

and writes the same, with the runs' details, to ``docs/crosscheck.md`` (``--doc``). Never
part of ``make test``; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from etl.config import DAGS_DIR, PROJECT_ROOT, cores
from tools.aside import empty_trash, set_aside

ROOT = PROJECT_ROOT / "warehouse" / "crosscheck"
DOC = PROJECT_ROOT / "docs" / "crosscheck.md"
SEED = 7
YEARS = range(2022, 2027)
HELD_OUT_YEAR = 2024
FLOOR_REPEATS = 3
# Sheet key of the workbook (as the generator counts rows) → the fact table it loads.
FACT_TABLES = {
    "htx": "fact_cooperative_year",
    "hotro": "fact_program_support",
    "ocop": "fact_ocop_product",
    "lienket": "fact_offtake_contract",
}
NOOP = '''"""The crosscheck's Airflow floor: one task that does nothing."""

import datetime as dt

from airflow.sdk import dag, task


@dag(dag_id="crosscheck_noop", schedule=None, start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
def crosscheck_noop():
    @task
    def noop() -> None:
        return None

    noop()


crosscheck_noop()
'''


@dataclass
class Run:
    wall_s: float
    peak_rss_mib: float
    returncode: int
    log: Path


def say(message: str) -> None:
    print(f"[crosscheck {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def child(command: list[str], env: dict[str, str], log: Path) -> Run:
    """Run `command` to its end; wall seconds and the peak RSS of it and its children."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        clock = time.perf_counter()
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - clock
    return Run(wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), log)


def checked(run: Run, what: str) -> Run:
    if run.returncode != 0:
        tail = "\n".join(run.log.read_text(errors="replace").splitlines()[-30:])
        raise SystemExit(
            f"crosscheck: {what} failed (exit {run.returncode}), see {run.log}\n{tail}"
        )
    return run


def corpus(root: Path, seed: int, limit: int | None) -> tuple[Path, list[dict], dict]:
    """The corpus folder, its files (name, unit, year, rows per sheet) and the held-out one.
    Written once per seed and limit; a folder is reused only when its manifest is complete."""
    from tools.sample import write_national_samples

    suffix = f"-{limit}" if limit else ""
    folder = root / f"corpus-{seed}-{YEARS.start}-{YEARS.stop - 1}{suffix}"
    manifest = folder / "manifest.json"
    if manifest.is_file():
        saved = json.loads(manifest.read_text())
        if all((folder / f["name"]).is_file() for f in saved["files"]):
            say(f"corpus reused: {folder}")
            return folder, saved["files"], saved["held_out"]
    partial = folder.with_name(folder.name + ".partial")
    set_aside(partial)
    clock = time.perf_counter()
    files = write_national_samples(partial, seed, YEARS, limit=limit)
    say(f"corpus written: {len(files)} workbooks in {time.perf_counter() - clock:.1f}s")
    entries = sorted(
        (
            {"name": f.path.name, "unit": f.unit_code, "year": f.report_year, "rows": f.rows}
            for f in files
        ),
        key=lambda e: e["name"],
    )
    late = max((e for e in entries if e["year"] == HELD_OUT_YEAR), key=lambda e: e["name"])
    (partial / "manifest.json").write_text(json.dumps({"files": entries, "held_out": late}))
    set_aside(folder)
    os.replace(partial, folder)
    return folder, entries, late


def parse_floor(paths: list[Path]) -> tuple[list[float], int]:
    """Seconds of each of FLOOR_REPEATS full reads of every sheet into Python rows."""
    from python_calamine import CalamineWorkbook

    times, rows = [], 0
    for _ in range(FLOOR_REPEATS):
        rows = 0
        clock = time.perf_counter()
        for path in paths:
            book = CalamineWorkbook.from_path(str(path))
            for sheet in book.sheet_names:
                rows += len(book.get_sheet_by_name(sheet).to_python())
        times.append(time.perf_counter() - clock)
    return times, rows


def environment(run_dir: Path) -> dict[str, str]:
    """The HTX_* folders under `run_dir`, and no other HTX_* setting of this shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HTX_", "AIRFLOW"))}
    return env | {
        "HTX_LANDING_DIR": str(run_dir / "landing"),
        "HTX_WAREHOUSE": str(run_dir / "warehouse" / "htx.duckdb"),
        "HTX_STATE_DIR": str(run_dir / "state"),
        "HTX_EXPORT_DIR": str(run_dir / "exports"),
    }


def airflow_floor(run_dir: Path, env: dict[str, str]) -> Run:
    """`airflow dags test` of the no-op DAG, with Airflow configured as `htx run` does it:
    its home and metadata DB under the state folder (migrated first, not timed)."""
    from etl.config import load_settings

    settings = load_settings(env)
    dags = run_dir / "floor-dags"
    dags.mkdir(parents=True, exist_ok=True)
    (dags / "crosscheck_noop.py").write_text(NOOP)
    for dag_file in sorted(DAGS_DIR.glob("*.py")):
        if not (dags / dag_file.name).exists():
            (dags / dag_file.name).symlink_to(dag_file)
    airflow_env = env | settings.airflow_environ() | {"AIRFLOW__CORE__DAGS_FOLDER": str(dags)}
    airflow = str(Path(sys.executable).with_name("airflow"))
    checked(
        child([airflow, "db", "migrate"], airflow_env, run_dir / "logs" / "migrate.log"),
        "db migrate",
    )
    command = [airflow, "dags", "test", "crosscheck_noop"]
    return checked(child(command, airflow_env, run_dir / "logs" / "floor.log"), "airflow floor")


def htx_run(env: dict[str, str], log: Path) -> Run:
    return checked(child([str(Path(sys.executable).with_name("htx")), "run"], env, log), "htx run")


def link(source: Path, landing: Path) -> None:
    landing.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, landing / source.name)
    except OSError:
        shutil.copyfile(source, landing / source.name)


def fact_differences(warehouse: Path, files: list[dict]) -> tuple[dict[str, int], list[str]]:
    """Statuses of the files in `audit.file_ingestion`, and every (file, table) whose fact
    rows differ from the rows written in its sheet, or whose file is not loaded."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        status = dict(con.execute("select file_name, status from audit.file_ingestion").fetchall())
        counts: dict[tuple[str, str], int] = {}
        for key, table in FACT_TABLES.items():
            query = (
                f"select i.file_name, count(*) from core.{table} f "  # noqa: S608 (constants)
                "join audit.file_ingestion i using (file_id) group by i.file_name"
            )
            for name, n in con.execute(query).fetchall():
                counts[(name, key)] = n
    finally:
        con.close()
    wrong = []
    for f in files:
        if status.get(f["name"]) != "loaded":
            wrong.append(f"{f['name']}: {status.get(f['name'], 'not recorded')}")
            continue
        for key in FACT_TABLES:
            want, got = f["rows"].get(key, 0), counts.get((f["name"], key), 0)
            if want != got:
                wrong.append(f"{f['name']} {FACT_TABLES[key]}: {got} rows, written {want}")
    tally: dict[str, int] = {}
    for value in status.values():
        tally[value] = tally.get(value, 0) + 1
    return tally, wrong


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=SEED, help=f"sample seed (default {SEED})")
    parser.add_argument("--root", type=Path, default=ROOT, help="working folder")
    parser.add_argument("--doc", type=Path, default=DOC, help="report to write")
    parser.add_argument("--limit", type=int, help="only the first N district units (a test)")
    args = parser.parse_args(argv)

    started = datetime.now(UTC)
    args.root.mkdir(parents=True, exist_ok=True)
    folder, files, late = corpus(args.root, args.seed, args.limit)
    full_files = [f for f in files if f["name"] != late["name"]]
    rows = sum(sum(f["rows"].values()) for f in files)
    floors, rows_read = parse_floor([folder / f["name"] for f in full_files])
    floor = statistics.median(floors)
    say(
        f"parse floor {floor:.2f}s (runs {', '.join(f'{t:.2f}' for t in floors)}; {rows_read} rows)"
    )

    run_dir = args.root / (f"run-{args.seed}" + (f"-{args.limit}" if args.limit else ""))
    set_aside(run_dir)  # deleted after the last measurement (tools.aside)
    env = environment(run_dir)
    af = airflow_floor(run_dir, env)
    say(f"Airflow floor {af.wall_s:.2f}s")
    for f in full_files:
        link(folder / f["name"], run_dir / "landing")
    full = htx_run(env, run_dir / "logs" / "full.log")
    say(f"full run {full.wall_s:.2f}s, peak RSS {full.peak_rss_mib:.0f} MiB")
    warehouse = run_dir / "warehouse" / "htx.duckdb"
    statuses, wrong = fact_differences(warehouse, full_files)
    nothing = htx_run(env, run_dir / "logs" / "nothing-new.log")
    say(f"nothing new {nothing.wall_s:.2f}s")
    link(folder / late["name"], run_dir / "landing")
    one = htx_run(env, run_dir / "logs" / "one-file.log")
    say(f"one file ({late['name']}) {one.wall_s:.2f}s")
    statuses, wrong_after = fact_differences(warehouse, files)
    wrong += [w for w in wrong_after if w not in wrong]

    peak = max(full.peak_rss_mib, nothing.peak_rss_mib, one.peak_rss_mib)
    years = f"{YEARS.start}-{YEARS.stop - 1}"
    line = (
        f"crosscheck: seed={args.seed} years={years} files={len(full_files)} rows={rows} "
        f"floor_s={floor:.2f} airflow_floor_s={af.wall_s:.2f} full_s={full.wall_s:.2f} "
        f"nothing_new_s={nothing.wall_s:.2f} one_file_s={one.wall_s:.2f} "
        f"marginal_ratio={(full.wall_s - nothing.wall_s) / floor:.2f} "
        f"one_file_ratio={one.wall_s / nothing.wall_s:.2f} "
        f"fixed_ratio={nothing.wall_s / af.wall_s:.2f} peak_rss_mib={peak:.0f} "
        f"facts={'exact' if not wrong else f'{len(wrong)} differ'}"
    )
    by_year: dict[int, int] = {}
    for f in files:
        by_year[f["year"]] = by_year.get(f["year"], 0) + 1
    empty_trash(args.root)  # the earlier run's folder, once nothing is measured any more
    write_doc(args, line, started, files, by_year, late, floors, statuses, wrong)
    print(line, flush=True)
    return 0 if not wrong else 1


def write_doc(args, line, started, files, by_year, late, floors, statuses, wrong) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=PROJECT_ROOT
    ).stdout.strip()
    text = [
        "# Cross-check of the benchmark",
        "",
        "Written by `make crosscheck` (`.venv/bin/python -m tools.crosscheck`); do not edit by",
        "hand. The ratios of issue 17 measured by a harness separate from `make bench`, on",
        "another national corpus (see the module's docstring for how each figure is taken).",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC, commit {commit or 'unknown'}, seed {args.seed}, "
        f"{cores()} cores, Python {platform.python_version()}, load average "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())} at the end.",
        "",
        "```",
        line,
        "```",
        "",
        f"- corpus: {len(files)} workbooks "
        + ", ".join(f"{y}: {n}" for y, n in sorted(by_year.items()))
        + f"; `{late['name']}` held out of the full run and landed alone for the one-file run",
        f"- parse floor runs (s): {', '.join(f'{t:.2f}' for t in floors)}; the median is the floor",
        "- files in `audit.file_ingestion` after the last run: "
        + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())),
        "- facts: "
        + (
            "every file loaded; every fact table holds exactly the rows written"
            if not wrong
            else f"{len(wrong)} difference(s)"
        ),
    ]
    text += [f"  - {w}" for w in wrong[:50]]
    args.doc.parent.mkdir(parents=True, exist_ok=True)
    args.doc.write_text("\n".join(text) + "\n")


if __name__ == "__main__":
    sys.exit(main())
