"""Safe publishing: checks before the swap, and readers that are never disturbed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from conftest import HTX_HEADER, htx_row, info_rows, query, run_steps, write_xlsx

from etl.warehouse import swap
from etl.warehouse.build import build_path


def _workbook(settings, name, unit, year, codes):
    rows = [HTX_HEADER] + [htx_row(i, c) for i, c in enumerate(codes, 1)]
    write_xlsx(settings.landing_dir / name, {"ThongTin": info_rows(unit, year), "HTX": rows})


def test_a_build_that_breaks_an_integrity_check_is_not_published(settings, monkeypatch):
    _workbook(settings, "663_2022.xlsx", "663", 2022, ["6400000001"])
    run_steps(settings, "run-1")
    before = settings.warehouse.read_bytes()
    _workbook(settings, "663_2023.xlsx", "663", 2023, ["6400000001", "6400000002"])
    original_verify = swap.verify

    def corrupt_then_verify(build):
        con = duckdb.connect(str(build))
        con.execute("update core.fact_cooperative_year set geo_key = -1 where period_key = 2023")
        con.close()
        return original_verify(build)

    monkeypatch.setattr(swap, "verify", corrupt_then_verify)
    with pytest.raises(swap.BuildCheckFailed, match="facts_have_dimensions"):
        run_steps(settings, "run-2")
    assert settings.warehouse.read_bytes() == before
    monkeypatch.setattr(swap, "verify", original_verify)


def test_integrity_checks_pass_on_a_normal_build(settings):
    _workbook(settings, "663_2022.xlsx", "663", 2022, ["6400000001", "6400000002"])
    from etl.flow import tasks
    from etl.warehouse.build import build_marts

    files = tasks.discover_files(settings)
    staged = tasks.stage(settings, files, "run-1")
    assert tasks.load(settings, staged, "run-1")["changed"]
    build_marts(settings)
    assert set(swap.verify(build_path(settings)).values()) == {0}


_READER = textwrap.dedent(
    """
    import os, sys, time, duckdb, pathlib
    warehouse, ready, go = sys.argv[1:4]
    con = duckdb.connect(warehouse, read_only=True)
    first = con.execute("select count(*) from core.fact_cooperative_year").fetchone()[0]
    pathlib.Path(ready + ".part").write_text(str(first))
    os.replace(ready + ".part", ready)  # whole or absent: the test never reads it half written
    while not pathlib.Path(go).exists():
        time.sleep(0.05)
    again = con.execute("select count(*) from core.fact_cooperative_year").fetchone()[0]
    files = con.execute("select count(*) from audit.file_ingestion").fetchone()[0]
    print(first, again, files)
    """
)


def test_reader_holding_the_old_file_open_is_not_disturbed_and_does_not_block(settings, tmp_path):
    _workbook(settings, "663_2022.xlsx", "663", 2022, ["6400000001", "6400000002"])
    run_steps(settings, "run-1")
    ready, go = tmp_path / "ready", tmp_path / "go"
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(settings.warehouse), str(ready), str(go)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        while not ready.exists():  # wait for the reader to hold its connection
            assert reader.poll() is None, "reader died"
            time.sleep(0.05)
        assert ready.read_text() == "2"
        _workbook(
            settings, "663_2023.xlsx", "663", 2023, ["6400000001", "6400000002", "6400000003"]
        )
        result = run_steps(settings, "run-2")  # publishes while the reader holds the old file
        assert result["changed"] is True
        go.write_text("go")
        out, _ = reader.communicate(timeout=120)
    finally:
        reader.kill()
    assert out.split() == ["2", "2", "1"]  # the old file, whole, to the end of its session
    assert query(settings, "select count(*) from core.fact_cooperative_year") == [(5,)]


def test_officials_workbook_has_vietnamese_headers_and_no_formulas(settings):
    import zipfile

    from python_calamine import CalamineWorkbook

    rows = [HTX_HEADER, htx_row(1, "6400000001", **{"Tên HTX": '=HYPERLINK("x")'})]
    rows.append(htx_row(2, "6400000002", **{"Tên HTX": "@SUM(A1)"}))
    write_xlsx(settings.landing_dir / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": rows})
    run_steps(settings)
    path = settings.export_dir / "marts.xlsx"
    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names[0] == "Gioi_thieu"
    # The introduction describes each table in Vietnamese first, then in English (its
    # COMMENT ON): before, in English only.
    about = {r[0]: r[1] for r in book.get_sheet_by_name("Gioi_thieu").to_python()[1:] if r[0]}
    assert set(about) == set(book.sheet_names[1:])
    assert about["district_year"].startswith("Theo huyện cũ và năm: số HTX")
    assert about["district_year"].endswith(
        " / "
        + query(
            settings,
            "select comment from duckdb_tables() where schema_name = 'marts' "
            "and table_name = 'district_year'",
        )[0][0]
    )
    assert all(" / " in text and not text.startswith("Per ") for text in about.values())
    scorecard = book.get_sheet_by_name("cooperative_scorecard").to_python()
    header = scorecard[0]
    assert "Mã số HTX" in header
    assert "Doanh thu (triệu đồng)" in header
    names = {row[header.index("Tên HTX")] for row in scorecard[1:]}
    assert names == {'=HYPERLINK("x")', "@SUM(A1)"}
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert not any(b"<f>" in archive.read(n) for n in sheets)  # no formula anywhere


def test_exports_that_failed_are_written_by_the_next_run(settings, monkeypatch):
    """A publish swapped its warehouse in, then its exports failed: the next run, with
    nothing new, still runs the publish DAG, which writes them; the run after is quiet."""
    from etl.outputs import exports

    _workbook(settings, "663_2023.xlsx", "663", 2023, ["6400000001"])
    original = exports.write_all

    def failing(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(exports, "write_all", failing)
    with pytest.raises(OSError, match="disk full"):
        run_steps(settings, "run-1")
    assert settings.warehouse.exists()
    assert not list(settings.export_dir.rglob("*.parquet"))
    monkeypatch.setattr(exports, "write_all", original)

    second = run_steps(settings, "run-2")
    assert second["changed"] is True
    assert second["published"] is False  # nothing to build: only the exports were owed
    assert second["exports"] > 0
    exported = {p.name for p in settings.export_dir.rglob("*.parquet")}
    assert "core.fact_cooperative_year.parquet" in exported
    assert (settings.export_dir / "quality_report.html").exists()
    assert not (settings.state_dir / "exports_failed").exists()
    assert run_steps(settings, "run-3")["changed"] is False


def test_exports_still_running_are_not_redone(settings):
    """Between a publish's swap and its exports (another run's load may take the writer
    pool then), nothing asks for them again: only exports that failed are redone."""
    from etl.flow import tasks

    _workbook(settings, "663_2023.xlsx", "663", 2023, ["6400000001"])
    files = tasks.discover_files(settings)
    staged = tasks.stage(settings, files, "run-1")
    assert tasks.load(settings, staged, "run-1")["changed"] is True
    tasks.alert(settings)
    published = tasks.publish_build(settings)
    assert (settings.state_dir / "published_files.json").exists()  # handed to the exports
    again = tasks.load(settings, [], "run-2")  # an idle run, before the exports
    assert again["changed"] is False
    tasks.write_exports(settings, published)
    assert not (settings.state_dir / "published_files.json").exists()


def test_a_failed_copy_to_another_file_system_raises_its_own_error(tmp_path, monkeypatch):
    """The disk full while copying the build beside the warehouse, on a file system where the
    clean-up fails too (read-only since): the error raised is the copy's, which says what
    to fix, not the clean-up's. The build stays for the next publish."""
    import errno

    build = tmp_path / "state" / "build.duckdb"
    build.parent.mkdir()
    build.write_bytes(b"build")
    warehouse = tmp_path / "mount" / "htx.duckdb"
    warehouse.parent.mkdir()

    def disk_full(src, dst):
        Path(dst).write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    def read_only(self, missing_ok=False):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(swap.shutil, "copyfile", disk_full)
    monkeypatch.setattr(Path, "unlink", read_only)
    with pytest.raises(OSError, match="No space left on device"):
        swap._replace_from_another_file_system(build, warehouse)
    assert build.read_bytes() == b"build"


def test_a_warehouse_on_another_file_system_than_the_state_is_published(settings, monkeypatch):
    """HTX_WAREHOUSE and HTX_STATE_DIR are two settings: a deployment may put the warehouse
    on another disk (a shared volume) than the build area. A rename cannot cross file
    systems (EXDEV), so the build is copied beside the warehouse first and renamed there:
    still one atomic replace, and a reader of the old file is not disturbed."""
    import errno
    import os
    from pathlib import Path

    real_replace = os.replace
    mount = settings.warehouse.parent  # the warehouse's folder: another file system

    def replace_within_one_file_system(src, dst):
        if Path(src).is_relative_to(mount) != Path(dst).is_relative_to(mount):
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), os.fspath(src), None, dst)
        real_replace(src, dst)

    _workbook(settings, "663_2022.xlsx", "663", 2022, ["6400000001", "6400000002"])
    monkeypatch.setattr(swap.os, "replace", replace_within_one_file_system)
    run_steps(settings, "run-1")
    assert query(settings, "select count(*) from core.fact_cooperative_year") == [(2,)]
    reader = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        _workbook(settings, "663_2023.xlsx", "663", 2023, ["6400000001", "6400000003"])
        run_steps(settings, "run-2")  # built upon the published file, then published again
        old = reader.execute("select count(*) from core.fact_cooperative_year").fetchone()
    finally:
        reader.close()
    assert old == (2,)  # the reader kept the old file, whole
    assert query(settings, "select count(*) from core.fact_cooperative_year") == [(4,)]
    assert not build_path(settings).exists()  # published, not left waiting
    swap.verify(settings.warehouse)
    assert sorted(p.name for p in settings.warehouse.parent.iterdir()) == [
        settings.warehouse.name
    ]  # no partial copy left beside the warehouse
