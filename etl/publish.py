"""Publishes a finished build: the atomic swap of the warehouse file, then the exports.

Readers never see a half-finished load: the build is complete and checkpointed before
`os.replace` puts it in place in one step. A reader that opened the old file keeps
reading it, undisturbed, until it closes.
"""

from __future__ import annotations

import logging
import os
import shutil
from decimal import Decimal
from pathlib import Path

from etl.config import SQL_DIR, Settings
from etl.load import MART_MODELS, build_path

log = logging.getLogger(__name__)

EXPORTED_CORE = ("dim_cooperative", "fact_cooperative_year")


class BuildCheckFailed(RuntimeError):
    """The build breaks an integrity check; the published warehouse stays as it was."""


def verify(build: Path) -> dict[str, int]:
    """Run every `sql/integrity/*.sql` on the build: each counts violations, all must be 0."""
    import duckdb

    con = duckdb.connect(str(build), read_only=True)
    try:
        found = {
            path.stem: con.execute(path.read_text()).fetchone()[0]
            for path in sorted((SQL_DIR / "integrity").glob("*.sql"))
        }
    finally:
        con.close()
    broken = {name: n for name, n in found.items() if n}
    if broken:
        raise BuildCheckFailed(f"build {build} not published, integrity checks failed: {broken}")
    return found


def swap(settings: Settings) -> Path:
    """Check the build, then replace the published warehouse with it, atomically."""
    build = build_path(settings)
    if not build.exists():
        raise FileNotFoundError(f"no finished build at {build}")
    wal = build.with_name(build.name + ".wal")
    if wal.exists():
        raise RuntimeError(f"build {build} was not checkpointed; refusing to publish it")
    verify(build)
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    _fsync(build)
    os.replace(build, settings.warehouse)
    _fsync(settings.warehouse.parent)
    log.info("published %s", settings.warehouse)
    return settings.warehouse


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def export(settings: Settings) -> list[Path]:
    """Parquet files of the marts (and the main core tables) and one XLSX of the marts."""
    import duckdb

    target = settings.export_dir
    staging = target / ".export.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "parquet").mkdir(parents=True)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        tables = [f"marts.{m}" for m in MART_MODELS] + [f"core.{t}" for t in EXPORTED_CORE]
        for table in tables:
            path = staging / "parquet" / f"{table}.parquet"
            con.execute(f"copy (select * from {table}) to '{path}' (format parquet)")
        _write_xlsx(con, staging / "marts.xlsx", [f"marts.{m}" for m in MART_MODELS])
    finally:
        con.close()
    written = []
    (target / "parquet").mkdir(parents=True, exist_ok=True)
    for path in sorted(staging.rglob("*.*")):
        final = target / path.relative_to(staging)
        os.replace(path, final)
        written.append(final)
    shutil.rmtree(staging, ignore_errors=True)
    log.info("exported %d files to %s", len(written), target)
    return written


def _write_xlsx(con, path: Path, tables: list[str]) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        str(path), {"remove_timezone": True, "default_date_format": "dd/mm/yyyy"}
    )
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True})
    try:
        for table in tables:
            cursor = con.execute(f"select * from {table}")
            columns = [d[0] for d in cursor.description]
            sheet = workbook.add_worksheet(table.split(".")[1][:31])
            sheet.write_row(0, 0, columns, bold)
            sheet.freeze_panes(1, 0)
            for r, row in enumerate(cursor.fetchall(), start=1):
                sheet.write_row(r, 0, [float(v) if isinstance(v, Decimal) else v for v in row])
            sheet.set_column(0, max(len(columns) - 1, 0), 16)
    finally:
        workbook.close()
