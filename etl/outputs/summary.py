"""The short summary `make run` prints: files by outcome, rows per table, where things are."""

from __future__ import annotations

from etl.config import Settings
from etl.warehouse.models import scalar

_TABLES = """
select table_schema || '.' || table_name
from information_schema.tables
where table_schema in ('core', 'marts', 'audit')
order by table_schema = 'audit', table_schema, table_name
"""


def summary_lines(settings: Settings, run_id: str | None = None) -> list[str]:
    import duckdb

    if not settings.warehouse.exists():
        return [f"No warehouse at {settings.warehouse} yet."]
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        by_status = dict(
            con.execute(
                "select status, count(*) from audit.file_ingestion group by status"
            ).fetchall()
        )
        this_run = dict(
            con.execute(
                "select status, count(*) from audit.file_ingestion where run_id = ? "
                "group by status",
                [run_id or ""],
            ).fetchall()
        )
        counts = [
            (table, scalar(con, f"select count(*) from {table}"))  # noqa: S608  table names listed by DuckDB's catalogue
            for (table,) in con.execute(_TABLES).fetchall()
        ]
        quarantined = con.execute(
            "select file_name, reason from audit.file_ingestion where status = 'quarantined' "
            "order by file_name"
        ).fetchall()
    finally:
        con.close()

    def files(statuses: dict) -> str:
        return ", ".join(
            f"{statuses.get(s, 0)} {s}"
            for s in ("loaded", "quarantined", "duplicate", "superseded")
        )

    lines = ["", "HTX warehouse summary", "=" * 21]
    lines.append(f"Files in the warehouse: {files(by_status)}")
    if run_id is not None:
        new = sum(this_run.values())
        lines.append(
            f"This run ({run_id}): {new} new file(s): {files(this_run)}"
            if new
            else f"This run ({run_id}): nothing new; every landing file was already seen (skipped)."
        )
    for name, why in quarantined:
        lines.append(f"  quarantined {name}: {why}")
    lines.append("Rows per table:")
    width = max(len(t) for t, _ in counts)
    lines += [f"  {table:<{width}}  {n:>9,}" for table, n in counts]
    lines += [
        f"Warehouse:       {settings.warehouse}",
        f"Exports:         {settings.export_dir}",
        f"Quality report:  {settings.quality_report}",
    ]
    return lines


def print_summary(settings: Settings, run_id: str | None = None) -> None:
    print("\n".join(summary_lines(settings, run_id)))
