"""The quality report: static HTML under the export folder, readable without a server.

`quality_report.html` lists every file with its status; `quality/<file_id>.html` shows one
file's failing rules with counts and its first failing cells (sheet, Excel row, column,
value, message). Built from the published warehouse's audit tables.
"""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path

from etl.config import Settings

log = logging.getLogger(__name__)

FIRST_CELLS = 200  # failing cells listed per rule on a file's page

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#eef}.loaded{color:#176f2c}
.quarantined{color:#b00020;font-weight:bold}.duplicate,.superseded{color:#777}
.error{color:#b00020}.warning{color:#9a6700}
"""


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title><style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}"
        "</body></html>\n"
    )


def _table(header: list[str], rows: list[list], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        css = f' class="{classes[i]}"' if classes else ""
        cells = "".join(f"<td>{c}</td>" for c in row)
        body.append(f"<tr{css}>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _e(value: object) -> str:
    return "" if value is None else html.escape(str(value))


def write_quality_report(settings: Settings) -> Path:
    import duckdb

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        files = con.execute(
            """
            select file_id, file_name, unit_code, report_year, status, rows_read, rows_loaded,
                   rows_rejected, warnings, reason, ingested_at
            from audit.file_ingestion order by ingested_at desc, file_name
            """
        ).fetchall()
        findings = con.execute(
            """
            select file_id, rule, severity, any_value(message), count(*) as cells,
                   list(struct_pack(sheet, excel_row, column_name, value)
                        order by sheet, excel_row)[1:?]
            from audit.rejected_row
            group by file_id, rule, severity
            order by file_id, severity, cells desc
            """,
            [FIRST_CELLS],
        ).fetchall()
    finally:
        con.close()

    pages_dir = settings.export_dir / "quality"
    pages_dir.mkdir(parents=True, exist_ok=True)
    by_file: dict[int, list] = {}
    for row in findings:
        by_file.setdefault(row[0], []).append(row[1:])

    rows, classes = [], []
    for f in files:
        file_id, name, unit, year, status = f[:5]
        page = f"quality/{file_id}.html"
        rows.append(
            [
                f'<a href="{page}">{_e(name)}</a>',
                _e(unit),
                _e(year),
                _e(status),
                _e(f[5]),
                _e(f[6]),
                _e(f[7]),
                _e(f[8]),
                _e(f[9]),
            ]
        )
        classes.append(status)
        _write(pages_dir / f"{file_id}.html", _file_page(f, by_file.get(file_id, [])))

    header = [
        "Tệp / File",
        "Đơn vị / Unit",
        "Năm / Year",
        "Trạng thái / Status",
        "Dòng đọc / Rows read",
        "Dòng nạp / Rows loaded",
        "Dòng lỗi / Rows rejected",
        "Cảnh báo / Warnings",
        "Lý do / Reason",
    ]
    body = _table(header, rows, classes)
    target = settings.quality_report
    _write(target, _page("Báo cáo chất lượng dữ liệu HTX / HTX data quality report", body))
    log.info("quality report: %s (%d files)", target, len(files))
    return target


def _file_page(f: tuple, rules: list) -> str:
    file_id, name, unit, year, status, read, loaded, rejected, warnings, reason = f[:10]
    parts = [
        "<p><a href='../quality_report.html'>← Tất cả các tệp / All files</a></p>",
        _table(
            ["", ""],
            [
                ["Tệp / File", _e(name)],
                ["Đơn vị / Unit", _e(unit)],
                ["Năm / Year", _e(year)],
                ["Trạng thái / Status", f"<span class='{_e(status)}'>{_e(status)}</span>"],
                ["Lý do / Reason", _e(reason)],
                ["Dòng đọc / Rows read", _e(read)],
                ["Dòng lỗi / Rows rejected", _e(rejected)],
                ["Cảnh báo / Warnings", _e(warnings)],
            ],
        ),
    ]
    if not rules:
        parts.append("<p>Không có lỗi hay cảnh báo. / No errors or warnings.</p>")
    for rule, severity, message, count, cells in rules:
        parts.append(
            f"<h2 class='{_e(severity)}'>{_e(rule)} ({_e(severity)}): {count} ô / cells</h2>"
            f"<p>{_e(message)}</p>"
        )
        parts.append(
            _table(
                ["Trang / Sheet", "Dòng Excel / Excel row", "Cột / Column", "Giá trị / Value"],
                [
                    [_e(c["sheet"]), _e(c["excel_row"]), _e(c["column_name"]), _e(c["value"])]
                    for c in cells
                ],
            )
        )
        if count > len(cells):
            parts.append(f"<p>… {count - len(cells)} ô khác / more cells</p>")
    return _page(f"{name}", "".join(parts))


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
