"""The pipeline's own audit trail across runs: a DuckDB file under the state directory.

It holds the `audit` tables of the contract. Each run records its files' outcomes here,
and the published warehouse gets a copy of them. Only the writer task opens it for writing.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from etl.config import SQL_DIR
from etl.sqlfiles import run_sql_file

log = logging.getLogger(__name__)

AUDIT_TABLES = ("file_ingestion", "rejected_row", "quality_alert", "file_sighting")


def connect(path: Path, read_only: bool = False):
    """Open the ledger, creating its tables on first use."""
    import duckdb

    if read_only and not path.exists():
        read_only = False
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    if not read_only:
        con.execute("create schema if not exists audit")
        for table in AUDIT_TABLES:
            run_sql_file(con, SQL_DIR / "ddl" / "audit" / f"{table}.sql")
        # Ledgers from before the column existed gain it (at the end, as in the DDL).
        con.execute(
            "alter table audit.file_ingestion add column if not exists staged_digest varchar"
        )
    return con


def sightings(con) -> tuple[set[tuple[str, str]], dict[str, int]]:
    """(sha256, file name) pairs already recorded, and the first file_id of each content."""
    seen = set(con.execute("select sha256, file_name from audit.file_sighting").fetchall())
    first = dict(
        con.execute(
            "select sha256, min(file_id) from audit.file_ingestion "
            "where status <> 'duplicate' group by sha256"
        ).fetchall()
    )
    return seen, first


def record(con, outcomes: list[dict], now: dt.datetime | None = None) -> None:
    """Record each processed file once, its findings, and where it was seen."""
    now = now or dt.datetime.now(dt.UTC)
    con.execute("begin transaction")
    try:
        for o in outcomes:
            status = "loaded" if o["status"] == "valid" else o["status"]
            loaded = status == "loaded"
            # A file reprocessed on request keeps its arrival time: which of two submissions
            # for a unit and year is the later one must not change because one was re-read.
            first = con.execute(
                "select ingested_at from audit.file_ingestion where file_id = ?", [o["file_id"]]
            ).fetchone()
            con.execute("delete from audit.file_ingestion where file_id = ?", [o["file_id"]])
            con.execute("delete from audit.rejected_row where file_id = ?", [o["file_id"]])
            con.execute(
                """
                insert into audit.file_ingestion (
                    file_id, file_name, sha256, size_bytes, unit_code, report_year, status,
                    rows_read, rows_loaded, rows_rejected, reason, run_id, ingested_at,
                    raw_path, prepared_on, identified_by, warnings, duplicate_of, staged_digest
                ) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    o["file_id"],
                    o["file_name"],
                    o["sha256"],
                    o["size_bytes"],
                    o["unit_code"],
                    o["report_year"],
                    status,
                    o["rows_read"],
                    o["rows_read"] if loaded else 0,
                    o["rows_rejected"],
                    o["reason"],
                    o["run_id"],
                    first[0] if first else now,
                    o["raw_path"],
                    o["prepared_on"],
                    o["identified_by"],
                    o["warnings"],
                    o["duplicate_of"],
                    o.get("staged_digest"),
                ],
            )
            if o["findings"]:
                con.executemany(
                    """
                    insert into audit.rejected_row (
                        file_id, sheet, excel_row, column_name, value, rule, severity, message,
                        cell
                    ) values (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        [
                            o["file_id"],
                            f["sheet"],
                            f["excel_row"],
                            f["column_name"],
                            f["value"],
                            f["rule"],
                            f["severity"],
                            f["message"],
                            f.get("cell"),
                        ]
                        for f in o["findings"]
                    ],
                )
            con.execute(
                "insert or ignore into audit.file_sighting values (?, ?, ?, ?)",
                [o["sha256"], o["file_name"], o["file_id"], now],
            )
        resolve_resubmissions(con)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def resolve_resubmissions(con) -> None:
    """Of the accepted files for one unit and year, the latest counts; the others are superseded.

    Latest: the later `Ngày lập`, or where that is equal or missing, the later arrival.
    """
    con.execute(
        """
        create or replace temp table ranked as
        select
            file_id,
            unit_code,
            report_year,
            first_value(file_id) over unit_year as winner,
            row_number() over unit_year as position
        from audit.file_ingestion
        where status in ('loaded', 'superseded')
        window unit_year as (
            partition by unit_code, report_year
            order by prepared_on desc nulls last, ingested_at desc, file_name desc, file_id desc
        )
        """
    )
    con.execute(
        """
        update audit.file_ingestion as f
        set status = case when r.position = 1 then 'loaded' else 'superseded' end,
            superseded_by = case when r.position = 1 then null else r.winner end,
            rows_loaded = case when r.position = 1 then f.rows_read else 0 end,
            reason = case
                when r.position = 1 then null
                else 'Đã được thay thế bởi tệp gửi sau cho cùng đơn vị và năm (file_id '
                    || r.winner || '). / Replaced by a later file for the same unit and year '
                    || '(file_id ' || r.winner || ').'
            end
        from ranked as r
        where r.file_id = f.file_id
        """
    )
    con.execute("drop table ranked")


def recorded_files(con, year: int | None = None, unit_code: str | None = None) -> list[dict]:
    """Files already recorded, optionally of one report year and unit, for reprocessing.

    Their raw copies are read again, so a file reprocesses even after it left the landing folder.
    """
    cursor = con.execute(
        """
        select file_id, file_name, sha256, size_bytes, raw_path, duplicate_of
        from audit.file_ingestion
        where ($year is null or report_year = $year)
          and ($unit is null or unit_code = $unit)
        order by ingested_at, file_id
        """,
        {"year": year, "unit": unit_code},
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def loaded_files(con) -> list[tuple[int, str]]:
    """(file_id, sha256) of every file whose rows count now."""
    return con.execute(
        "select file_id, sha256 from audit.file_ingestion where status = 'loaded' order by file_id"
    ).fetchall()


def replace_cross_findings(con, cross: dict[int, list], rules: list[str]) -> dict[int, list]:
    """Store the current warnings across files and years; return those not stored before."""
    key = "file_id, rule, coalesce(sheet, ''), coalesce(excel_row, -1), coalesce(column_name, '')"
    before = set(
        con.execute(
            f"select {key} from audit.rejected_row where list_contains(?, rule)", [rules]
        ).fetchall()
    )
    con.execute("begin transaction")
    con.execute("delete from audit.rejected_row where list_contains(?, rule)", [rules])
    rows = [f.as_row(file_id) for file_id, found in cross.items() for f in found]
    if rows:
        con.executemany(
            "insert into audit.rejected_row (file_id, sheet, excel_row, column_name, value, rule, "
            "severity, message, cell) values ($file_id, $sheet, $excel_row, $column_name, "
            "$value, $rule, $severity, $message, $cell)",
            rows,
        )
    con.execute("commit")
    new: dict[int, list] = {}
    for file_id, found in cross.items():
        for f in found:
            identity = (file_id, f.rule, f.sheet or "", f.excel_row or -1, f.column_name or "")
            if identity not in before:
                new.setdefault(file_id, []).append(f)
    return new


def files(con, file_ids: list[int]) -> list[dict]:
    """file_ingestion rows as dicts."""
    cursor = con.execute(
        "select * from audit.file_ingestion where list_contains(?, file_id) order by file_id",
        [file_ids],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def pending_alerts(con) -> list[tuple]:
    """Alerts not yet attempted: (alert_id, severity, subject, body)."""
    return con.execute(
        "select alert_id, severity, subject, body from audit.quality_alert "
        "where attempted_at is null order by raised_at"
    ).fetchall()


def record_delivery(con, alert_id: str, results: dict, now: dt.datetime | None = None) -> None:
    con.execute(
        """
        update audit.quality_alert
        set attempted_at = ?, email_delivered = ?, email_error = ?,
            webhook_delivered = ?, webhook_error = ?
        where alert_id = ?
        """,
        [
            now or dt.datetime.now(dt.UTC),
            results["email"].delivered,
            results["email"].error,
            results["webhook"].delivered,
            results["webhook"].error,
            alert_id,
        ],
    )
