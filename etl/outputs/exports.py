"""The published warehouse's exports: Parquet files of the marts (and the main core tables)
and one workbook for officials, with Vietnamese headers.

Written into a temporary folder beside the exports and moved in file by file, so a reader of
the export folder never sees a half-written file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

from etl.config import CONFIG_DIR, Settings
from etl.outputs.xlsx import Reuse
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
    """Parquet files of the marts (and the main core tables) and one XLSX of the marts.

    Only the files whose tables changed are written again: each file's fingerprint (of its
    tables' columns, comments and rows, and of the code that writes it) is kept beside the
    exports in `.fingerprints.json`, written after the files it describes. A file that is
    missing, or whose fingerprint is unknown or different, is written. The officials'
    workbook, when written, copies the chunks of rows that did not change from the workbook
    it replaces (`etl.outputs.xlsx.write_workbook`; where they are: `.marts.xlsx.parts.json`).
    Returns the files written.
    """
    import duckdb

    target = settings.export_dir
    staging = target / ".export.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "parquet").mkdir(parents=True)
    before = _read_fingerprints(target)
    after: dict[str, str] = {}
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        code = _code_fingerprint()
        tables = [f"marts.{m}" for m in MART_MODELS] + [f"core.{t}" for t in EXPORTED_CORE]
        for table in tables:
            name = f"parquet/{table}.parquet"
            after[name] = _fingerprint(con, [table], code)
            if before.get(name) == after[name] and (target / name).exists():
                continue
            path = staging / name
            con.execute(f"copy (select * from {table}) to '{path}' (format parquet)")  # noqa: S608  table names are the project's own
        sheets = [f"marts.{m}" for m in XLSX_MARTS]
        after[XLSX] = _fingerprint(con, sheets, code)
        parts: dict | None = None
        if before.get(XLSX) != after[XLSX] or not (target / XLSX).exists():
            # The rows that did not change are copied from the workbook being replaced.
            earlier = Reuse(target / XLSX, _read_json(target / XLSX_PARTS))
            parts = _write_xlsx(con, staging / XLSX, sheets, earlier)
    finally:
        con.close()
    written = []
    (target / "parquet").mkdir(parents=True, exist_ok=True)
    for path in sorted(staging.rglob("*.*")):
        final = target / path.relative_to(staging)
        os.replace(path, final)
        written.append(final)
    if any(path.name == XLSX for path in written):
        # The parts of the workbook now in place; none (nothing to reuse) if too large.
        _write_json(target / XLSX_PARTS, parts or {})
    _write_fingerprints(target, after)
    shutil.rmtree(staging, ignore_errors=True)
    log.info(
        "exported %d file(s) to %s (%d unchanged)", len(written), target, len(after) - len(written)
    )
    return written


XLSX = "marts.xlsx"
FINGERPRINTS = ".fingerprints.json"
# Where each chunk of rows of marts.xlsx is in it (`etl.outputs.xlsx.write_workbook`).
XLSX_PARTS = ".marts.xlsx.parts.json"


def _code_fingerprint() -> str:
    """The code and configuration that shape the exported files."""
    import duckdb

    from etl.outputs import xlsx, zip_parts

    digest = hashlib.sha256(duckdb.__version__.encode())
    sources = (Path(__file__), Path(xlsx.__file__), Path(zip_parts.__file__))
    for path in (*sources, CONFIG_DIR / "labels_vi.csv"):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _fingerprint(con, tables: list[str], code: str) -> str:
    """A content fingerprint of `tables`: their columns and types, their comments, their
    row count and two sums of a hash of each row (the rows' order is the SQL's own)."""
    digest = hashlib.sha256(code.encode())
    for table in tables:
        schema, name = table.split(".")
        columns = con.execute(
            "select column_name, data_type, comment from duckdb_columns() "
            "where schema_name = ? and table_name = ? order by column_index",
            [schema, name],
        ).fetchall()
        comment = con.execute(
            "select comment from duckdb_tables() where schema_name = ? and table_name = ?",
            [schema, name],
        ).fetchall()
        hashed = f"select hash(t) as h from {table} t"  # noqa: S608  table names are the project's own
        totals = (
            "select count(*), coalesce(sum(h::hugeint), 0)::varchar, "
            "coalesce(bit_xor(hash(h, 7)), 0)::varchar from "
        )
        rows = con.execute(f"{totals}({hashed})").fetchone()
        digest.update(repr((table, columns, comment, rows)).encode())
    return digest.hexdigest()


def _read_fingerprints(target: Path) -> dict[str, str]:
    return _read_json(target / FINGERPRINTS)


def _write_fingerprints(target: Path, fingerprints: dict[str, str]) -> None:
    _write_json(target / FINGERPRINTS, fingerprints)


def _read_json(path: Path) -> dict:
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stored if isinstance(stored, dict) else {}


def _write_json(path: Path, value: dict) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(value, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)


def labels_vi() -> dict[str, str]:
    """Vietnamese column headers for the officials' workbook (config/labels_vi.csv)."""
    with (CONFIG_DIR / "labels_vi.csv").open(encoding="utf-8", newline="") as handle:
        return {row["column"]: row["label_vi"] for row in csv.DictReader(handle)}


def _write_xlsx(con, path: Path, tables: list[str], earlier: Reuse | None = None) -> dict | None:
    """One workbook for provincial officials: an introduction sheet naming each table,
    then one sheet a table with Vietnamese headers and formatted numbers (`etl/xlsx.py`:
    text is always text, never a formula). The chunks of rows `earlier` holds are copied
    from it; returns the new workbook's parts."""
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
    return write_workbook(con, path, sheets, earlier)
