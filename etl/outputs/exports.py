"""The published warehouse's exports: Parquet files of the marts (and the main core tables)
and one workbook for officials, with Vietnamese headers.

Written into a temporary folder beside the exports and moved in file by file, so a reader of
the export folder never sees a half-written file.
"""

from __future__ import annotations

import csv
import logging
import os
import shutil
from pathlib import Path

from etl.config import CONFIG_DIR, Settings
from etl.warehouse.build import MART_MODELS

log = logging.getLogger(__name__)

EXPORTED_CORE = ("dim_cooperative", "fact_cooperative_year")
# The officials' workbook holds the summaries, one sheet each in this reading order; the
# row-per-cooperative-year mart (150,000 rows nationally) is in Parquet only.
# tests/test_models.py checks that these and that one are every mart the SQL builds.
XLSX_MARTS = (
    "district_year",
    "commune_year",
    "program_year",
    "cooperative_scorecard",
    "replication_candidates",
    "placement_review",
    "phase_summary",
    "reporting_status",
)


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
            con.execute(f"copy (select * from {table}) to '{path}' (format parquet)")  # noqa: S608  table names are the project's own
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


def _write_xlsx(con, path: Path, tables: list[str]) -> None:
    """One workbook for provincial officials: an introduction sheet naming each table,
    then one sheet a table with Vietnamese headers and formatted numbers (`etl/xlsx.py`:
    text is always text, never a formula)."""
    from etl.outputs.xlsx import Sheet, write_workbook

    labels = labels_vi()
    about = []
    for table in tables:
        comment = con.execute(
            "select comment from duckdb_tables() where schema_name || '.' || table_name = ?",
            [table],
        ).fetchone()
        about.append((table.split(".")[1], (comment[0] if comment else "") or ""))
    sheets = [
        Sheet(
            "Gioi_thieu",
            rows=tuple(about),
            widths=(32, 110),
            title_row="Báo cáo HTX: các bảng tổng hợp / HTX marts",
        )
    ]
    sheets += [Sheet(table.split(".")[1][:31], table=table, labels=labels) for table in tables]
    write_workbook(con, path, sheets)
