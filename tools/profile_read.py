"""Times and profiles the read step alone, and checks that two versions of the reader agree.

The read step is what staging runs per file before validation: `read_workbook` and
`identify`, in one process, without GX. The parse floor is calamine reading every sheet of
every file into Python rows (`tools.bench.parse_floor`).

    python -m tools.profile_read time FOLDER...          # read time and parse floor
    python -m tools.profile_read stages FOLDER...        # CPU of the guard, calamine, the rest
    python -m tools.profile_read profile FOLDER... [-n 40]
    python -m tools.profile_read dump OUT.json FOLDER...  # every file's read, as text
    python -m tools.profile_read compare A.json B.json     # the files whose reads differ

`dump` writes each file's whole read (ThongTin values, typed rows, findings, rejection,
rows scanned, identity) as its `repr`, which tells `1` from `1.0` and `True` from `1`; run it
with an old copy of `etl/` first on `sys.path` to compare the old reader with the new.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path

_SUFFIXES = {".xlsx", ".xls", ".ods", ".xlsm"}


def workbooks(folders: list[str]) -> list[Path]:
    files: list[Path] = []
    for folder in folders:
        root = Path(folder)
        if root.is_file():
            files.append(root)
            continue
        files += sorted(p for p in root.rglob("*") if p.suffix.lower() in _SUFFIXES)
    return files


def floor_cpu(paths: list[Path]) -> tuple[float, float]:
    """The parse floor as (wall, CPU) seconds: CPU time is steadier on a shared machine."""
    from python_calamine import CalamineWorkbook

    wall, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        book = CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            book.get_sheet_by_name(name).to_python()
    return time.perf_counter() - wall, time.process_time() - cpu


def read_all(paths: list[Path]) -> tuple[float, float]:
    from etl.contract.reference import load_reference
    from etl.read.identify import identify
    from etl.read.reader import read_workbook

    ref = load_reference()
    wall, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        read = read_workbook(path, None, path.name)
        if read.rejection is None:
            identify(read.info, path.name, ref)
    return time.perf_counter() - wall, time.process_time() - cpu


def guard_cpu(paths: list[Path]) -> float:
    """CPU seconds of the guard alone: what a file is, its limits and its sheets' reach."""
    from etl.config import Limits
    from etl.read import guard

    limits, work = Limits(), Path(tempfile.mkdtemp(prefix="htx-profile-"))
    cpu = time.process_time()
    for path in paths:
        with guard.Package(path) as package:
            try:
                guard.bounded(package, work, limits.rows, limits.expanded_bytes, limits.cells)
            except Exception:  # noqa: S112  a rejection costs what it cost
                continue
    return time.process_time() - cpu


def canonical(path: Path) -> str:
    from etl.contract.reference import load_reference
    from etl.read.identify import identify
    from etl.read.reader import read_workbook

    read = read_workbook(path, None, path.name)
    who = read.rejection or identify(read.info, path.name, load_reference())
    sheets = {
        key: (s.sheet.key, s.sheet_name, s.rows, s.rows_skipped, s.columns)
        for key, s in read.sheets.items()
    }
    whole = (
        read.info,
        sheets,
        [dataclasses.asdict(f) for f in read.findings],
        None if read.rejection is None else dataclasses.asdict(read.rejection),
        read.rows_scanned,
        dataclasses.asdict(who) if dataclasses.is_dataclass(who) else repr(who),
    )
    return repr(whole)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.profile_read")
    sub = parser.add_subparsers(dest="command", required=True)
    timed = sub.add_parser("time")
    timed.add_argument("folders", nargs="+")
    timed.add_argument("--repeat", type=int, default=1)
    prof = sub.add_parser("profile")
    prof.add_argument("folders", nargs="+")
    prof.add_argument("-n", type=int, default=40)
    stages = sub.add_parser("stages")
    stages.add_argument("folders", nargs="+")
    dump = sub.add_parser("dump")
    dump.add_argument("out")
    dump.add_argument("folders", nargs="+")
    compare = sub.add_parser("compare")
    compare.add_argument("a")
    compare.add_argument("b")
    args = parser.parse_args(argv)

    if args.command == "time":
        paths = workbooks(args.folders)
        read_all(paths[:5])  # imports, reference, caches: not the per-file cost
        for _ in range(args.repeat):
            floor, floor_cpu_s = floor_cpu(paths)
            read, read_cpu = read_all(paths)
            print(
                f"{len(paths)} files: read {read:.2f} s wall / {read_cpu:.2f} s CPU, "
                f"parse floor {floor:.2f} s wall / {floor_cpu_s:.2f} s CPU, "
                f"ratio {read / floor:.2f}x wall / {read_cpu / floor_cpu_s:.2f}x CPU"
            )
    elif args.command == "stages":
        paths = workbooks(args.folders)
        read_all(paths[:5])
        guard_s = guard_cpu(paths)
        _, floor_s = floor_cpu(paths)
        _, read_s = read_all(paths)
        rest = read_s - guard_s - floor_s
        print(
            f"{len(paths)} files, CPU s: read {read_s:.2f} = guard {guard_s:.2f} + calamine "
            f"(parse floor) {floor_s:.2f} + the rest (headers, typing, identify) {rest:.2f}"
        )
    elif args.command == "profile":
        paths = workbooks(args.folders)
        read_all(paths[:5])
        profiler = cProfile.Profile()
        profiler.enable()
        read_all(paths)
        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(args.n)
        stats.sort_stats("cumulative").print_stats(args.n)
    elif args.command == "dump":
        paths = workbooks(args.folders)
        reads = {str(p): canonical(p) for p in paths}
        Path(args.out).write_text(json.dumps(reads))
        print(f"{len(reads)} files dumped to {args.out}")
    else:
        a = json.loads(Path(args.a).read_text())
        b = json.loads(Path(args.b).read_text())
        differ = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        for name in differ[:20]:
            left, right = a.get(name, ""), b.get(name, "")
            at = next((i for i, (x, y) in enumerate(zip(left, right, strict=False)) if x != y), 0)
            print(f"DIFFERS {name}\n  a: …{left[max(0, at - 150) : at + 150]}\n"
                  f"  b: …{right[max(0, at - 150) : at + 150]}")  # fmt: skip
        print(f"{len(set(a) & set(b))} files in both, {len(differ)} differ")
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
