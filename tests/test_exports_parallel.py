"""The exports task with its writers in forked processes (`etl.outputs.exports.write_all`,
as `htx run` runs it with HTX_PROCESSES > 1): every file it writes, after a first run and
after one new file, is byte for byte what the writers write one after the other in one
process, from scratch."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from etl.config import settings_under
from etl.outputs import exports, xlsx


def _warned(settings, name: str, unit: str, year: int, first: int) -> None:
    """A workbook of `unit` and `year` whose HTX sheet warns (members below the minimum)."""
    from conftest import HTX_HEADER, htx_row, info_rows, write_xlsx

    rows = [HTX_HEADER]
    rows += [htx_row(i + 1, f"64000{first + i:05d}") for i in range(6)]
    rows.append(htx_row(7, f"64000{first + 6:05d}", **{"Số thành viên": 3}))
    write_xlsx(settings.landing_dir / name, {"ThongTin": info_rows(unit, year), "HTX": rows})


def _files(folder: Path) -> dict[str, bytes]:
    """Every file of an export folder but the state beside it (fingerprints, the
    workbook's parts) and the feedback and Data Docs, which these writers do not write."""
    skipped = {exports.FINGERPRINTS, exports.XLSX_PARTS}
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and path.name not in skipped
        and path.relative_to(folder).parts[0] not in ("feedback", "data_docs")
    }


def _from_scratch(settings, tmp_path: Path, name: str) -> dict[str, bytes]:
    """The same writers, one after the other in this process, into an empty folder."""
    from etl.outputs.officials_report import write_dashboard
    from etl.outputs.quality_report import write_quality_report

    fresh = dataclasses.replace(
        settings_under(tmp_path / name), warehouse=settings.warehouse, processes=None
    )
    docs = settings.export_dir / "data_docs"
    if docs.exists():  # the quality report links to them when they are there
        shutil.copytree(docs, fresh.export_dir / "data_docs")
    exports.export(fresh)
    write_dashboard(fresh)
    write_quality_report(fresh)
    return _files(fresh.export_dir)


@pytest.fixture
def small_parts(monkeypatch):
    """Chunks of 2 rows, one chunk a job: every sheet is shared between the forks."""
    monkeypatch.setattr(xlsx, "CHUNK_ROWS", 2)
    monkeypatch.setattr(exports, "CHUNKS_PER_JOB", 1)


def test_exports_written_by_forks_are_those_written_in_one_process(tmp_path, small_parts):
    from conftest import run_steps

    settings = settings_under(tmp_path / "run", HTX_PROCESSES="2")
    assert settings.task_processes == 2
    settings.landing_dir.mkdir(parents=True)
    _warned(settings, "663_2023.xlsx", "663", 2023, 1)
    _warned(settings, "664_2023.xlsx", "664", 2023, 11)
    first = run_steps(settings, "run-1")
    assert first["exports"] == len(exports.MART_MODELS) + len(exports.EXPORTED_CORE) + 1
    ours = _files(settings.export_dir)
    assert {"report.html", "quality_report.html", "marts.xlsx"} <= set(ours)
    assert ours == _from_scratch(settings, tmp_path, "fresh-1")

    # One new file: the files it changes written again (the workbook from reused chunks and
    # chunks built in the forks), the others kept; the same bytes as from scratch.
    _warned(settings, "665_2024.xlsx", "665", 2024, 21)
    second = run_steps(settings, "run-2")
    assert 0 < second["exports"] < first["exports"]
    ours = _files(settings.export_dir)
    assert ours == _from_scratch(settings, tmp_path, "fresh-2")


def test_write_all_in_one_process_writes_the_same(tmp_path, small_parts):
    """With one process nothing forks: the jobs, the report and the quality report run
    here one after the other."""
    from conftest import run_steps

    settings = settings_under(tmp_path / "run")
    settings.landing_dir.mkdir(parents=True)
    _warned(settings, "663_2023.xlsx", "663", 2023, 1)
    run_steps(settings, "run-1")
    again = dataclasses.replace(settings_under(tmp_path / "again"), warehouse=settings.warehouse)
    written = exports.write_all(again, 1)
    assert written.report == again.quality_report
    assert written.dashboard == again.export_dir / "report.html"
    assert _files(again.export_dir) == _from_scratch(again, tmp_path, "fresh")
    assert exports.write_all(again, 2).exports == []  # nothing changed: nothing written


# `write_all` in a fresh interpreter, which never drew a chart: the officials' report is
# drawn in one of its forks (vl-convert's thread starts there). Prints whether it drew here.
FRESH = """
import dataclasses, sys
from pathlib import Path
from etl.config import settings_under
from etl.outputs import charts, exports
root, warehouse = sys.argv[1:]
settings = dataclasses.replace(settings_under(Path(root)), warehouse=Path(warehouse))
written = exports.write_all(settings, 2)
print(written.dashboard, charts.drawn_here())
"""


def test_report_drawn_in_a_fork_is_the_one_drawn_here(tmp_path, monkeypatch):
    """A process that never drew hands the officials' report to a fork; one that drew (its
    forks could not: vl-convert's thread is not in them) draws it itself, meanwhile. The
    same files either way, and those the writers write one after the other (the workbook's
    chunks of their usual size: the fresh interpreter's)."""
    import os
    import subprocess
    import sys

    from conftest import run_steps

    from etl.outputs import charts

    settings = settings_under(tmp_path / "run")
    settings.landing_dir.mkdir(parents=True)
    _warned(settings, "663_2023.xlsx", "663", 2023, 1)
    _warned(settings, "664_2023.xlsx", "664", 2023, 11)
    run_steps(settings, "run-1")

    forked = dataclasses.replace(settings_under(tmp_path / "forked"), warehouse=settings.warehouse)
    fresh = subprocess.run(
        [sys.executable, "-c", FRESH, str(tmp_path / "forked"), str(settings.warehouse)],
        check=True,
        capture_output=True,
        text=True,
    )
    assert fresh.stdout.split() == [str(forked.export_dir / "report.html"), "False"]

    # This process: drawn here (as if it had drawn before, which it may have).
    monkeypatch.setattr(charts, "_DRAWN_BY", charts._DRAWN_BY or os.getpid())
    here = dataclasses.replace(settings_under(tmp_path / "here"), warehouse=settings.warehouse)
    written = exports.write_all(here, 2)
    assert written.dashboard == here.export_dir / "report.html"
    assert written.report == here.quality_report
    assert charts.drawn_here()

    assert _files(forked.export_dir) == _files(here.export_dir)
    assert _files(here.export_dir) == _from_scratch(here, tmp_path, "fresh")
    assert '<svg class="chart"' in _files(here.export_dir)["report.html"].decode()


def test_a_process_forked_after_drawing_does_not_draw(tmp_path):
    """vl-convert's thread is not in a process forked after it started: drawing there
    raises (instead of waiting forever), and `write_all` never asks a fork to."""
    from etl import forks
    from etl.outputs import charts

    charts.bar_chart("t", ["a"], {"s": [1.0]}, "u")  # this process draws
    assert charts.drawn_here()
    with pytest.raises(forks.ForkFailed, match="forked from one that drew"):
        forks.run_forked(charts.bar_chart, "t", ["b"], {"s": [2.0]}, "u")


def test_a_job_that_fails_in_a_fork_raises_here_with_its_traceback(tmp_path):
    from etl import forks

    settings = settings_under(tmp_path / "none")  # no warehouse to read
    with forks.ForkPool(exports._job, 2) as pool:
        submitted = pool.submit(("quality", settings))
        with pytest.raises(forks.ForkFailed, match="does not exist"):
            pool.result(submitted)


# Set before `write_all` forks; its forks inherit it (`_held`).
_RELEASE = None


def _held(item: tuple):
    """`exports._job`, once `_RELEASE` is set: the forks hold whatever they took."""
    _RELEASE.wait()
    return exports._run_job_or_report(item)


def test_this_process_runs_the_jobs_no_fork_has_taken(tmp_path, small_parts, monkeypatch):
    """While the forks are busy (here held until this process has taken over), this process
    writes the Parquet files and runs the workbook's parts still waiting, the last ones (the
    largest), and the files are those of one process."""
    import multiprocessing

    from conftest import run_steps

    global _RELEASE
    settings = settings_under(tmp_path / "run")
    settings.landing_dir.mkdir(parents=True)
    _warned(settings, "663_2023.xlsx", "663", 2023, 1)
    run_steps(settings, "run-1")
    again = dataclasses.replace(settings_under(tmp_path / "again"), warehouse=settings.warehouse)

    _RELEASE = multiprocessing.get_context("fork").Event()
    monkeypatch.setattr(exports, "_run_job_or_report", exports._job, raising=False)
    monkeypatch.setattr(exports, "_job", _held)
    take_over, taken = exports._take_over, {}

    def taking(jobs, submitted):
        try:
            done = take_over(jobs, submitted)
        finally:
            _RELEASE.set()  # the forks go on only now
        taken.update(kinds=[job[0] for job in jobs], here=sorted(done))
        return done

    monkeypatch.setattr(exports, "_take_over", taking)
    try:
        written = exports.write_all(again, 2)
    finally:
        _RELEASE = None
    kinds, here = taken["kinds"], taken["here"]
    parquet = [i for i, kind in enumerate(kinds) if kind == "parquet"]
    parts = [i for i, kind in enumerate(kinds) if kind == "xlsx"]
    assert len(parquet) == len(exports.MART_MODELS) + len(exports.EXPORTED_CORE)
    assert len(parts) > 5  # chunks of 2 rows, one a job
    assert kinds == ["parquet"] * len(parquet) + ["xlsx"] * len(parts)
    # The Parquet files are never the forks'. Two forks hold what they took, a report at
    # least (the quality report; the officials' too unless this process drew a chart
    # before), and the pool queues three more at most, the first parts: the others ran here.
    parts_here = [i for i in here if i in parts]
    assert [i for i in here if i in parquet] == parquet
    assert parts_here == parts[len(parts) - len(parts_here) :]
    assert len(parts_here) >= len(parts) - 4
    assert written.exports
    assert _files(again.export_dir) == _from_scratch(again, tmp_path, "fresh")


def test_with_no_report_for_the_forks_the_parts_wait_for_the_plan(
    tmp_path, small_parts, monkeypatch
):
    """Drawn here, and no quality report (the export builds the Data Docs first): no report
    makes the forks before the plan, and a fork must not inherit the plan's open DuckDB
    connection, so the workbook's parts are handed over once the plan is made. The same
    files as one process writes."""
    import os

    from conftest import run_steps

    from etl.outputs import charts

    settings = settings_under(tmp_path / "run")
    settings.landing_dir.mkdir(parents=True)
    _warned(settings, "663_2023.xlsx", "663", 2023, 1)
    run_steps(settings, "run-1")
    monkeypatch.setattr(charts, "_DRAWN_BY", charts._DRAWN_BY or os.getpid())
    handed = []

    class Recorded(exports.Export):
        def __init__(self, settings, hand_over=None) -> None:
            handed.append(hand_over)
            super().__init__(settings, hand_over)

    monkeypatch.setattr(exports, "Export", Recorded)
    here = dataclasses.replace(settings_under(tmp_path / "here"), warehouse=settings.warehouse)
    written = exports.write_all(here, 2, quality_report=False)
    assert handed == [None]
    assert written.report is None
    assert written.dashboard == here.export_dir / "report.html"
    ours = _files(here.export_dir)
    assert sum(path.startswith("parquet/") for path in ours) == len(exports.MART_MODELS) + len(
        exports.EXPORTED_CORE
    )
    expected = {
        path: data
        for path, data in _from_scratch(here, tmp_path, "fresh").items()
        if path != "quality_report.html" and not path.startswith("quality/")
    }
    assert ours == expected


def test_the_plan_reads_into_the_cache_the_jobs_read(tmp_path, monkeypatch):
    """The plan hashes every row of every exported table; the Parquet files and the
    workbook's parts read those rows again. This process's jobs' connection is open while
    the plan reads, so that they share one DuckDB database (and its cache) rather than
    read the file twice; none is left open after. With forks to make after the plan (no
    report to start them), none is open during it (`test_with_no_report_...`)."""
    import os

    from conftest import run_steps

    from etl.outputs import charts

    settings = settings_under(tmp_path / "run")
    settings.landing_dir.mkdir(parents=True)
    _warned(settings, "663_2023.xlsx", "663", 2023, 1)
    run_steps(settings, "run-1")
    open_during_plan = []

    class Recorded(exports.Export):
        def __init__(self, settings, hand_over=None) -> None:
            key = (os.getpid(), str(settings.warehouse))
            open_during_plan.append(key in exports._CONNECTIONS)
            super().__init__(settings, hand_over)

    monkeypatch.setattr(exports, "Export", Recorded)

    def fresh(name: str):
        return dataclasses.replace(settings_under(tmp_path / name), warehouse=settings.warehouse)

    assert exports.export(fresh("one"))
    assert exports.write_all(fresh("forks"), 2).exports
    monkeypatch.setattr(charts, "_DRAWN_BY", charts._DRAWN_BY or os.getpid())
    assert exports.write_all(fresh("no-report"), 2, quality_report=False).exports
    assert open_during_plan == [True, True, False]
    assert not [key for key in exports._CONNECTIONS if key[0] == os.getpid()]
