"""Times, profiles and compares feedback workbooks (`etl/quality/feedback.py`).

Works on a copy of a ledger (`audit.file_ingestion`, `audit.rejected_row`) whose raw copies
still exist, in one process:

    python -m tools.profile_feedback time LEDGER OUT [-n 50] [--openpyxl]
    python -m tools.profile_feedback profile LEDGER OUT [-n 20] [--openpyxl]
    python -m tools.profile_feedback compare A B      # two folders of feedback workbooks

`--openpyxl` writes every copy the old way (load, annotate, save with openpyxl) instead of
at the zip level. `compare` opens both sides with openpyxl and python-calamine and compares
every sheet's values, every fill, comment and the `Loi` rows, file by file.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import sys
import time
from pathlib import Path

from etl.quality import feedback
from etl.warehouse import ledger


def _jobs(ledger_path: str, out: Path, n: int) -> list[tuple]:
    con = ledger.connect(Path(ledger_path), read_only=True)
    try:
        files = feedback.submissions(con)
        recorded = feedback.recorded_problems(con, [f.file_id for f in files])
    finally:
        con.close()
    # the first n, half of them among files with a marked cell, half among the others
    marked = [f for f in files if feedback.markable(recorded[f.file_id])]
    plain = [f for f in files if not feedback.markable(recorded[f.file_id])]
    chosen = sorted(
        marked[: n // 2] + plain[: n - min(n // 2, len(marked))], key=lambda f: f.file_id
    )
    jobs = []
    for submission in chosen[:n]:
        problems = feedback.problems_of(submission, recorded[submission.file_id])
        stamp = feedback.fingerprint(submission, problems)
        jobs.append((feedback.feedback_path(out, submission), submission, problems, stamp))
    return jobs


def _run(jobs: list[tuple]) -> tuple[float, float]:
    """Wall and CPU seconds (this process) to write every job's workbook."""
    start, cpu = time.perf_counter(), time.process_time()
    for job in jobs:
        feedback.write_one(*job)
    return time.perf_counter() - start, time.process_time() - cpu


def _prepare(args) -> list[tuple]:
    out = Path(args.out)
    shutil.rmtree(out / feedback.FEEDBACK_DIR, ignore_errors=True)
    if args.openpyxl:
        feedback.ZIP_COPY = False
    jobs = _jobs(args.ledger, out, args.n)
    import openpyxl  # noqa: F401  imported before timing: a run imports it once

    return jobs


def _time(args) -> None:
    jobs = _prepare(args)
    wall, cpu = _run(jobs)
    way = "openpyxl" if args.openpyxl else "zip"
    print(
        f"{len(jobs)} workbooks ({way}): {wall:.2f} s wall, {1000 * wall / len(jobs):.1f} ms "
        f"each; {cpu:.2f} s CPU, {1000 * cpu / len(jobs):.1f} ms each"
    )


def _profile(args) -> None:
    jobs = _prepare(args)
    profiler = cProfile.Profile()
    profiler.enable()
    _run(jobs)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


def _sheets(path: Path) -> dict:
    """Everything a clerk sees of one workbook, by sheet, as openpyxl and calamine read it."""
    import openpyxl
    from python_calamine import CalamineWorkbook

    workbook = openpyxl.load_workbook(path)
    seen: dict = {"sheetnames": workbook.sheetnames, "active": workbook.active.title}
    for ws in workbook.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for cell in row:
                fill = cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None
                comment = cell.comment.text if cell.comment is not None else None
                link = cell.hyperlink.location if cell.hyperlink is not None else None
                if cell.value is not None or fill or comment or link:
                    cells[cell.coordinate] = (cell.value, fill, comment, link, cell.number_format)
        seen[ws.title] = {"cells": cells, "merged": sorted(map(str, ws.merged_cells.ranges))}
    calamine = CalamineWorkbook.from_path(str(path))
    try:
        seen["calamine"] = {
            n: calamine.get_sheet_by_name(n).to_python() for n in calamine.sheet_names
        }
    finally:
        calamine.close()
    return seen


def compare(a: Path, b: Path) -> list[str]:
    """Names of the workbooks that differ between two feedback folders (and those missing)."""
    left = {p.name for p in a.glob("*.xlsx")}
    right = {p.name for p in b.glob("*.xlsx")}
    differ = sorted(left ^ right)
    for name in sorted(left & right):
        one, two = _sheets(a / name), _sheets(b / name)
        if one != two:
            differ.append(name)
            for key in sorted(set(one) | set(two), key=str):
                if one.get(key) != two.get(key):
                    print(f"{name}: {key} differs", file=sys.stderr)
    print(f"{len(left & right)} compared, {len(differ)} differ")
    return differ


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.profile_feedback")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, n in (("time", 50), ("profile", 20)):
        sub = commands.add_parser(name)
        sub.add_argument("ledger")
        sub.add_argument("out")
        sub.add_argument("-n", type=int, default=n)
        sub.add_argument("--openpyxl", action="store_true")
    sub = commands.add_parser("compare")
    sub.add_argument("a")
    sub.add_argument("b")
    args = parser.parse_args(argv)
    if args.command == "time":
        _time(args)
    elif args.command == "profile":
        _profile(args)
    else:
        return 1 if compare(Path(args.a), Path(args.b)) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
