"""The quality report: static HTML under the export folder, readable without a server.

`quality_report.html` totals the files by status, their rejected rows and warnings, then
lists every file with its status; `quality/<file_id>.html` shows one
file's failing rules with counts and its first failing cells (sheet, Excel row, column,
value, message). Built from the published warehouse's audit tables, rendered from the
templates `quality_report.html.j2` and `quality_file.html.j2` (etl.outputs.html escapes).
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from etl.config import Settings
from etl.contract.findings import SEVERITY_LABELS
from etl.outputs.html import compiled_in, write_page
from etl.outputs.stamps import code_digest, read_json, write_json
from etl.quality.data_docs import data_docs_index

if TYPE_CHECKING:
    from markupsafe import Markup

log = logging.getLogger(__name__)

FIRST_CELLS = 200  # failing cells listed per rule on a file's page

# A file's status as the clerk reads it, Vietnamese first (audit.file_ingestion's `status`).
STATUS_LABELS = {
    "loaded": "đã nạp / loaded",
    "quarantined": "BỊ TỪ CHỐI, không nạp số liệu nào / quarantined, nothing loaded",
    "duplicate": "trùng với tệp đã nhận, không nạp lại / duplicate, not loaded again",
    "superseded": "đã được thay bằng tệp gửi sau / superseded by a later file",
}


def _records(cursor) -> list[dict]:
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# A file's findings: errors and warnings, then what the reader absorbed and reports.
_FINDINGS = "from audit.rejected_row union all by name from audit.info_finding"


def _has_info_finding(con) -> bool:
    """Whether the warehouse has `audit.info_finding`: one an earlier release published (its
    exports retried after an upgrade) keeps every finding in `audit.rejected_row`."""
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() "
            "where schema_name = 'audit' and table_name = 'info_finding'"
        ).fetchone()[0]
    )


def write_quality_report(settings: Settings) -> Path:
    """Write the quality report: the listing of every file, and each file's page whose
    contents changed (or is missing)."""
    with compiled_in(settings.state_dir / "cache" / "templates"):
        return _write_quality_report(settings)


def _write_quality_report(settings: Settings) -> Path:
    import duckdb

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        source = _FINDINGS if _has_info_finding(con) else "from audit.rejected_row"
        # Every file's row of the listing, and a digest of what its page is made of (the row
        # and every finding of the file): the findings are read only for the pages written.
        files = _records(
            con.execute(
                f"""
                with listing as (
                    select f.file_id, f.file_name, f.unit_code, f.report_year, f.status,
                           f.rows_read, f.rows_loaded, f.rows_rejected,
                           -- the file's own warnings and those across files and years
                           coalesce(w.warnings, 0) as warnings, f.reason, f.ingested_at
                    from audit.file_ingestion as f
                    left join (
                        select file_id, count(*) as warnings from audit.rejected_row
                        where severity = 'warning' group by file_id
                    ) as w using (file_id)
                ),
                findings as ({source}),
                -- A digest without a sort or a JSON text of every finding: the count and
                -- two sums of a hash of each (as `etl.outputs.exports` fingerprints rows).
                shown as (
                    select file_id,
                           count(*) as findings,
                           sum(hash(findings)) as hashed,
                           bit_xor(hash(findings, 7)) as hashed_again
                    from findings
                    group by file_id
                )
                select listing.*,
                       concat_ws(
                           ':', hash(listing), hash(listing, 7),
                           shown.findings, shown.hashed, shown.hashed_again
                       ) as shows
                from listing
                left join shown using (file_id)
                order by listing.ingested_at desc, listing.file_name
                """  # noqa: S608  `source` is one of two constants
            )
        )
        # A file's page is rendered again only when what it shows changed (its stamp, kept
        # in `quality/.stamps.json`): a run that adds one file writes one page, not thousands.
        pages_dir = settings.export_dir / "quality"
        pages_dir.mkdir(parents=True, exist_ok=True)
        before = _read_stamps(pages_dir)
        code = _code_stamp()
        stamps = {str(f["file_id"]): _page_stamp(code, f.pop("shows")) for f in files}
        pages = {entry.name for entry in os.scandir(pages_dir)}  # one listing, not one a page
        changed = [
            f
            for f in files
            if before.get(str(f["file_id"])) != stamps[str(f["file_id"])]
            or f"{f['file_id']}.html" not in pages
        ]
        findings = _records(
            con.execute(
                f"""
                select file_id, rule, severity,
                       -- a rule of several expectations (a rating's score band) says each
                       list(distinct message order by message) as messages,
                       count(*) as cells,
                       list(struct_pack(sheet, excel_row, column_name, cell, value, message)
                            order by sheet, excel_row, column_name, value)[1:?] as first_cells
                from ({source})
                where file_id in (select unnest(?))
                group by file_id, rule, severity
                order by file_id, severity, cells desc, rule
                """,  # noqa: S608  `source` is one of two constants
                [FIRST_CELLS, [f["file_id"] for f in changed]],
            )
        )
    finally:
        con.close()

    by_file: dict[int, list[dict]] = {}
    for finding in findings:
        by_file.setdefault(finding["file_id"], []).append(finding)
    for f in changed:
        write_page(
            pages_dir / f"{f['file_id']}.html",
            "quality_file.html.j2",
            file=f,
            rules=by_file.get(f["file_id"], []),
            statuses=STATUS_LABELS,
            severities=SEVERITY_LABELS,
        )
    _write_stamps(pages_dir, stamps)
    log.info("quality report: %d of %d file page(s) written", len(changed), len(files))

    # GX Data Docs of the published warehouse (etl.quality.data_docs), once built.
    docs = data_docs_index(settings)
    data_docs = (
        Path(os.path.relpath(docs, settings.quality_report.parent)).as_posix()
        if docs.exists()
        else None
    )
    target = write_page(
        settings.quality_report,
        "quality_report.html.j2",
        rows=_listing(settings.state_dir / "cache" / ROWS, files, stamps),
        totals=_totals(files),
        data_docs=data_docs,
        statuses=STATUS_LABELS,
    )
    log.info("quality report: %s (%d files)", target, len(files))
    return target


# Each file's row of the listing as last drawn, with the page stamp it was drawn for: in the
# state folder, not among the published pages, as its rows are put back unescaped (anyone
# who may write the exports must not be able to plant markup that later reports keep).
ROWS = "quality_rows.json"
_ROW_END = "</tr>\n"  # ends every row drawn; an escaped value never holds `<`


def _listing(rows_path: Path, files: list[dict], stamps: dict[str, str]) -> Markup:
    """The listing's rows, in the order of `files`: a file's row is drawn again only when
    its page stamp changed (the stamp covers its row of the listing and the templates), the
    others are those kept in `ROWS`; a run that adds one file draws one row, not thousands."""
    from markupsafe import Markup

    from etl.outputs.html import render

    before = read_json(rows_path)
    kept: dict[str, list[str]] = {}
    fresh = []
    for f in files:
        key = str(f["file_id"])
        entry = before.get(key)
        if (
            isinstance(entry, list)
            and len(entry) == 2
            and entry[0] == stamps[key]
            and isinstance(entry[1], str)
        ):
            kept[key] = entry
        else:
            fresh.append(f)
    if fresh:
        drawn = render("quality_rows.html.j2", files=fresh, statuses=STATUS_LABELS)
        rows = [row + _ROW_END for row in drawn.split(_ROW_END)[:-1]]
        for f, row in zip(fresh, rows, strict=True):
            key = str(f["file_id"])
            kept[key] = [stamps[key], row]
    if fresh or kept.keys() != before.keys():
        rows_path.parent.mkdir(parents=True, exist_ok=True)
        write_json(rows_path, kept)
    return Markup("".join(kept[str(f["file_id"])][1] for f in files))  # noqa: S704  drawn escaped


def _totals(files: list[dict]) -> list[tuple[str, int]]:
    """The listing's totals, labelled Vietnamese first: the files, how many of each status
    (in `STATUS_LABELS`' order, those with any), their rejected rows and their warnings."""
    by_status = Counter(f["status"] for f in files)
    return [
        ("Tệp / Files", len(files)),
        *(
            (STATUS_LABELS.get(status, status), by_status[status])
            for status in [*STATUS_LABELS, *sorted(set(by_status) - set(STATUS_LABELS))]
            if by_status[status]
        ),
        ("Dòng lỗi / Rows rejected", sum(f["rows_rejected"] or 0 for f in files)),
        ("Cảnh báo / Warnings", sum(f["warnings"] or 0 for f in files)),
    ]


STAMPS = ".stamps.json"


def _code_stamp() -> str:
    """The templates and the code that render a file's page."""
    from etl.outputs import html

    paths = [*sorted(html.TEMPLATES.glob("*.j2")), Path(html.__file__), Path(__file__)]
    return code_digest(paths)


def _page_stamp(code: str, shows: str) -> str:
    """What a file's page is rendered from: the code, and the digest of its listing row and
    findings (`shows`, the warehouse's)."""
    import hashlib

    return hashlib.sha256(f"{code}:{shows}".encode()).hexdigest()


def _read_stamps(pages_dir: Path) -> dict[str, str]:
    return read_json(pages_dir / STAMPS)


def _write_stamps(pages_dir: Path, stamps: dict[str, str]) -> None:
    write_json(pages_dir / STAMPS, stamps)
