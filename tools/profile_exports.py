"""Times the exports task's parts when a warehouse changes: what each rewrites, what it costs.

    python -m tools.profile_exports BEFORE AFTER LEDGER OUT [--files ID ...]

BEFORE and AFTER are two published warehouses (say, before and after one new workbook, built
by `etl.warehouse.build` from the same ledger with and without its file); LEDGER the ledger
whose raw copies the feedback reads. In OUT (emptied first) every export is written from
BEFORE, then BEFORE is replaced by AFTER and each part of the exports task runs again, as
`etl.flow.tasks.write_exports` runs them: the table exports and the officials' workbook, the
HTML report, the quality report, and the feedback of `--files` (file_ids). For each it prints
CPU seconds (this process and its children: DuckDB's threads, forks) and wall seconds, and the
export files written. Data Docs are left out (etl.quality.data_docs: a child process of GX).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import time
from pathlib import Path

from etl.config import settings_under


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(name: str, function, *args):
    cpu, wall = _cpu(), time.perf_counter()
    result = function(*args)
    print(f"{name:16s} {_cpu() - cpu:6.2f} s CPU {time.perf_counter() - wall:6.2f} s wall")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.profile_exports")
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("ledger")
    parser.add_argument("out")
    parser.add_argument("--files", type=int, nargs="*", default=[])
    args = parser.parse_args(argv)
    import altair  # noqa: F401  imported before timing, as a task has them
    import duckdb  # noqa: F401
    import vl_convert  # noqa: F401

    from etl.outputs.exports import export
    from etl.outputs.officials_report import write_dashboard
    from etl.outputs.quality_report import write_quality_report
    from etl.quality.feedback import write_feedback

    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    (out / "warehouse").mkdir(parents=True)
    (out / "state").mkdir()
    shutil.copyfile(args.before, out / "warehouse" / "htx.duckdb")
    shutil.copyfile(args.ledger, out / "state" / "ledger.duckdb")
    settings = settings_under(out)
    print("every export from BEFORE:")
    _timed("exports", export, settings)
    _timed("report.html", write_dashboard, settings)
    _timed("quality report", write_quality_report, settings)
    shutil.copyfile(args.after, out / "warehouse" / "htx.duckdb")
    print("then AFTER:")
    cpu = _cpu()
    written = _timed("exports", export, settings)
    for path in written:
        print(f"  written: {path.relative_to(settings.export_dir)}")
    _timed("report.html", write_dashboard, settings)
    _timed("quality report", write_quality_report, settings)
    _timed("feedback", write_feedback, settings, args.files)
    print(f"total {_cpu() - cpu:.2f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
