"""Publishes a finished build: the atomic swap of the warehouse file, then the exports.

Readers never see a half-finished load: the build is complete and checkpointed before
`os.replace` puts it in place in one step. A reader that opened the old file keeps
reading it, undisturbed, until it closes.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import os
import shutil
from decimal import Decimal
from pathlib import Path

from etl.config import CONFIG_DIR, SQL_DIR, Settings
from etl.load import MART_MODELS, build_path

log = logging.getLogger(__name__)

EXPORTED_CORE = ("dim_cooperative", "fact_cooperative_year")
# The officials' workbook holds the summaries; the row-per-cooperative-year mart (150,000
# rows nationally) is in Parquet only.
XLSX_MARTS = tuple(m for m in MART_MODELS if m != "cooperative_district_year")


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
        _write_xlsx(con, staging / "marts.xlsx", [f"marts.{m}" for m in XLSX_MARTS])
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


def labels_vi() -> dict[str, str]:
    """Vietnamese column headers for the officials' workbook (config/labels_vi.csv)."""
    with (CONFIG_DIR / "labels_vi.csv").open(encoding="utf-8", newline="") as handle:
        return {row["column"]: row["label_vi"] for row in csv.DictReader(handle)}


_RATIO_COLUMNS = ("growth", "cagr")


def _write_xlsx(con, path: Path, tables: list[str]) -> None:
    """One workbook for provincial officials: Vietnamese headers, formatted numbers.

    Every text cell is written as text, so a value starting with `=`, `+`, `-` or `@` can
    never become a formula.
    """
    import xlsxwriter

    labels = labels_vi()
    workbook = xlsxwriter.Workbook(
        str(path),
        {"remove_timezone": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    formats = {
        "head": workbook.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "top"}
        ),
        "money": workbook.add_format({"num_format": "#,##0.0"}),
        "int": workbook.add_format({"num_format": "#,##0"}),
        "ratio": workbook.add_format({"num_format": "0.0%"}),
        "date": workbook.add_format({"num_format": "dd/mm/yyyy"}),
        "text": workbook.add_format({}),
    }
    try:
        about = workbook.add_worksheet("Gioi_thieu")
        about.write_string(0, 0, "Báo cáo HTX: các bảng tổng hợp / HTX marts", formats["head"])
        about.set_column(0, 0, 32)
        about.set_column(1, 1, 110)
        for r, table in enumerate(tables, start=2):
            comment = con.execute(
                "select comment from duckdb_tables() where schema_name || '.' || table_name = ?",
                [table],
            ).fetchone()
            about.write_string(r, 0, table.split(".")[1])
            about.write_string(r, 1, (comment[0] if comment else "") or "")
        for table in tables:
            _write_table(con, workbook, table, labels, formats)
    finally:
        workbook.close()


def _write_table(con, workbook, table: str, labels: dict[str, str], formats: dict) -> None:
    cursor = con.execute(f"select * from {table}")
    columns = [d[0] for d in cursor.description]
    sheet = workbook.add_worksheet(table.split(".")[1][:31])
    for c, name in enumerate(columns):
        sheet.write_string(0, c, labels.get(name, name), formats["head"])
    sheet.freeze_panes(1, 0)
    sheet.set_row(0, 45)
    sheet.set_column(0, max(len(columns) - 1, 0), 16)
    for r, row in enumerate(cursor.fetchall(), start=1):
        for c, value in enumerate(row):
            _write_cell(sheet, r, c, columns[c], value, formats)


def _write_cell(sheet, r: int, c: int, column: str, value, formats: dict) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_string(r, c, "Có" if value else "Không")
    elif isinstance(value, int | float | Decimal):
        number = float(value)
        if any(part in column for part in _RATIO_COLUMNS):
            kind = "ratio"
        elif column.endswith("_mvnd"):
            kind = "money"
        else:
            kind = "int" if number == int(number) else "money"
        sheet.write_number(r, c, number, formats[kind])
    elif isinstance(value, dt.date | dt.datetime):
        sheet.write_datetime(r, c, value, formats["date"])
    else:
        sheet.write_string(r, c, str(value))
