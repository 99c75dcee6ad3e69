"""The quality report: static HTML under the export folder, readable without a server.

`quality_report.html` lists every file with its status; `quality/<file_id>.html` shows one
file's failing rules with counts and its first failing cells (sheet, Excel row, column,
value, message). Built from the published warehouse's audit tables, rendered from the
templates `quality_report.html.j2` and `quality_file.html.j2` (etl.outputs.html escapes).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from etl.config import Settings
from etl.outputs.html import write_page
from etl.quality.data_docs import data_docs_index

log = logging.getLogger(__name__)

FIRST_CELLS = 200  # failing cells listed per rule on a file's page


def _records(cursor) -> list[dict]:
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def write_quality_report(settings: Settings) -> Path:
    import duckdb

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        files = _records(
            con.execute(
                """
                select file_id, file_name, unit_code, report_year, status, rows_read,
                       rows_loaded, rows_rejected, warnings, reason, ingested_at
                from audit.file_ingestion order by ingested_at desc, file_name
                """
            )
        )
        findings = _records(
            con.execute(
                """
                select file_id, rule, severity, any_value(message) as message,
                       count(*) as cells,
                       list(struct_pack(sheet, excel_row, column_name, value)
                            order by sheet, excel_row)[1:?] as first_cells
                from audit.rejected_row
                group by file_id, rule, severity
                order by file_id, severity, cells desc
                """,
                [FIRST_CELLS],
            )
        )
    finally:
        con.close()

    pages_dir = settings.export_dir / "quality"
    pages_dir.mkdir(parents=True, exist_ok=True)
    by_file: dict[int, list[dict]] = {}
    for finding in findings:
        by_file.setdefault(finding["file_id"], []).append(finding)
    for f in files:
        rules = by_file.get(f["file_id"], [])
        write_page(pages_dir / f"{f['file_id']}.html", "quality_file.html.j2", file=f, rules=rules)

    # GX Data Docs of the published warehouse (etl.quality.data_docs), once built.
    docs = data_docs_index(settings)
    data_docs = (
        Path(os.path.relpath(docs, settings.quality_report.parent)).as_posix()
        if docs.exists()
        else None
    )
    target = write_page(
        settings.quality_report, "quality_report.html.j2", files=files, data_docs=data_docs
    )
    log.info("quality report: %s (%d files)", target, len(files))
    return target
