"""The short summary `make run` prints: files by outcome, rows per table, the new geography
(facts on the communes in force since 01/07/2025, placement, the 2026–2030 phase by new
commune), where things are.

The new geography's lines come from the tables that hold it when they exist: a warehouse
built before them prints the rest of the summary."""

from __future__ import annotations

from etl.config import Settings, no_warehouse
from etl.warehouse.models import scalar

# Facts of each report year that landed on a commune in force since 01/07/2025.
_ON_NEW_COMMUNES = """
select f.period_key, count(*), count(distinct g.commune_code)
from core.fact_cooperative_year as f
inner join core.dim_geography as g on f.geo_key = g.geo_key
where g.level = 'commune' and g.valid_from >= date '2025-07-01'
group by f.period_key
order by f.period_key
"""

# Cooperatives by how their new commune is known (one placement per cooperative).
_PLACEMENT = """
select placement, count(distinct coop_code)
from core.dim_cooperative
group by placement
order by placement
"""

# The 2026–2030 phase per year: cooperatives on new communes, the communes, under review.
_PHASE = """
select
    year,
    coalesce(sum(cooperatives) filter (where new_commune_code is not null), 0),
    count(distinct new_commune_code),
    coalesce(sum(cooperatives) filter (where new_commune_code is null), 0)
from marts.commune_year
where year >= 2026
group by year
order by year
"""

_TABLES = """
select table_schema || '.' || table_name
from information_schema.tables
where table_schema in ('core', 'marts', 'audit')
order by table_schema = 'audit', table_schema, table_name
"""


# What a run that failed before its files were published says in place of its line: the
# log above it names the failed task and why (the next run completes the work).
_FAILED = "the log above names the failed task and why; the next run completes the work"


def summary_lines(
    settings: Settings, run_id: str | None = None, landed: int | None = None, failed: bool = False
) -> list[str]:
    """The run's summary. `landed`: how many files the landing folder held for the run;
    those the run did not record (seen before) are counted as skipped. `failed`: a DAG run
    of this run failed, so what it found may not be published."""
    import duckdb

    if not settings.warehouse.exists():
        if failed:
            return [f"No warehouse published at {settings.warehouse}: this run failed ({_FAILED})."]
        return [no_warehouse(settings.warehouse)]
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
        # Earlier runs' files a file of this run replaced: their run_id stays their own.
        replaced = con.execute(
            "select old.file_name, new.file_name from audit.file_ingestion as old "
            "inner join audit.file_ingestion as new on old.superseded_by = new.file_id "
            "where old.status = 'superseded' and new.run_id = ? and old.run_id <> new.run_id "
            "order by old.file_name",
            [run_id or ""],
        ).fetchall()
        quarantined = con.execute(
            "select file_name, reason from audit.file_ingestion where status = 'quarantined' "
            "order by file_name"
        ).fetchall()
        geography = new_geography_lines(con)
    finally:
        con.close()

    def files(statuses: dict) -> str:
        return ", ".join(
            f"{statuses.get(s, 0)} {s}"
            for s in ("loaded", "quarantined", "duplicate", "superseded")
        )

    lines = ["", "HTX warehouse summary", "=" * 21]
    lines.append(f"Files in the warehouse: {files(by_status)}")
    # Under the warehouse's files, before this run's line: a rerun that found nothing new
    # would otherwise seem to have quarantined them again.
    for name, why in quarantined:
        lines.append(f"  quarantined {name}: {why}")
    if run_id is not None:
        new = sum(this_run.values())
        skipped = "" if landed is None else f"; {max(landed - new, 0)} skipped (seen before)"
        if new:
            lines.append(f"This run ({run_id}): {new} new file(s): {files(this_run)}{skipped}")
        elif failed:
            lines.append(
                f"This run ({run_id}) failed: what it found is not in the published warehouse "
                f"below ({_FAILED})."
            )
        else:
            lines.append(
                f"This run ({run_id}): nothing new; every landing file was already seen (skipped)."
            )
        lines += [f"  replaced {old} (by {new})" for old, new in replaced]
    lines += geography
    lines.append("Rows per table:")
    width = max(len(t) for t, _ in counts)
    lines += [f"  {table:<{width}}  {n:>9,}" for table, n in counts]
    lines.append(f"Warehouse:       {settings.warehouse}")
    return lines + output_lines(settings)


def output_lines(settings: Settings) -> list[str]:
    """Where the exports and the quality report are, those that exist; or that the exports
    failed, whose files may be missing or older than the warehouse."""
    try:
        failed = settings.exports_failed.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        failed = None
    if failed is not None:
        why = failed[0] if failed else "no reason recorded"
        return [f"Exports:         failed ({why}); the next run writes them again"]
    lines = []
    if settings.export_dir.is_dir():
        lines.append(f"Exports:         {settings.export_dir}")
    if settings.quality_report.is_file():
        lines.append(f"Quality report:  {settings.quality_report}")
    return lines


def _has(con, table: str, column: str | None = None) -> bool:
    schema, name = table.split(".")
    sql = (
        "select count(*) from information_schema.columns "
        "where table_schema = ? and table_name = ? and (? is null or column_name = ?)"
    )
    row = con.execute(sql, [schema, name, column, column]).fetchone()
    return bool(row and row[0])


def new_geography_lines(con) -> list[str]:
    """The new geography in a few lines: facts on new communes per year, placement, and the
    2026–2030 phase by new commune (``marts.commune_year``); what a warehouse lacks is left
    out."""
    lines: list[str] = []
    if _has(con, "core.dim_geography", "valid_from") and _has(con, "core.fact_cooperative_year"):
        per_year = con.execute(_ON_NEW_COMMUNES).fetchall()
        if per_year:
            lines.append("Facts on new communes (in force since 01/07/2025), by report year:")
            lines += [
                f"  {year}: {facts:,} cooperative(s) in {communes:,} new commune(s)"
                for year, facts, communes in per_year
            ]
    if _has(con, "core.dim_cooperative", "placement"):
        placed = con.execute(_PLACEMENT).fetchall()
        if placed:
            lines.append(
                "Placement in the new geography: "
                + ", ".join(f"{n:,} {placement}" for placement, n in placed)
            )
    if _has(con, "marts.commune_year"):
        phase = con.execute(_PHASE).fetchall()
        if phase:
            lines.append("2026-2030 phase by new commune (marts.commune_year):")
            lines += [
                f"  {year}: {coops:,} cooperative(s) in {communes:,} new commune(s), "
                f"{review:,} under review"
                for year, coops, communes, review in phase
            ]
    return lines


def print_summary(
    settings: Settings, run_id: str | None = None, landed: int | None = None, failed: bool = False
) -> None:
    print("\n".join(summary_lines(settings, run_id, landed, failed)))
