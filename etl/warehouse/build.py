"""Builds the next warehouse in the build area: the star schema, then the marts.

The build is the DuckDB file the reference data, the staged rows of every loaded file and
the ledger's audit trail make, the same whatever order the files came in. Its inputs are
kept between builds under `state/cache/`: the reference tables (`reference-<key>.duckdb`,
prepared by `htx init`) and the staged store (`staged.duckdb`), which holds the staged
rows of the files the last build loaded and is updated by the files that came, left or
were staged again since (`_update_store`): a build after one new file reads that file's
rows only. When the published warehouse was built with the same recipe from what the store
held before that update (`_published_base`), the build starts from a copy of it and
builds again only the cooperatives those files name (`_rebuild_cooperatives`: every core
model a staged table feeds is built cooperative by cooperative), and `build_marts` does the
same for the marts that hold each cooperative's own rows (`BY_COOPERATIVE`) and, for the
marts that sum them by district or commune (`BY_UNIT`), the units those cooperatives were
in or are in now; else it is made whole. `tests/test_incremental.py` compares a warehouse
built run after run with one built from scratch. The published warehouse is untouched until
`swap.swap` replaces it whole. The order the SQL models run in comes from their references
(`etl/warehouse/models.py`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import tomllib
from functools import cache
from pathlib import Path

from etl.config import CONFIG_DIR, EXPECTATIONS_DIR, REFERENCE_DIR, SQL_DIR, Settings, labels_vi
from etl.contract.layout import DATA_SHEETS, RATING_MIX, RATINGS
from etl.phases import phase
from etl.text import clean
from etl.warehouse import reference_tables
from etl.warehouse.models import (
    Model,
    build_order,
    create_from_frame,
    discover,
    rollback,
    run_sql_file,
    scalar,
)
from etl.warehouse.staging import folder_files, read_outcome, staged_columns, staged_folder

log = logging.getLogger(__name__)

# The temp tables computed from the staged rows before the core models run, one SQL file each
# (`sql/staging/<name>.sql` creates `stg_<name>`), in this order: which report wins for a
# cooperative and year (the workbook contract's precedence), then the commune each HTX row
# names.
STAGING_MODELS = ("report_precedence", "htx_commune")

# The tables the build registers in its connection before a step's models run, by the schema
# of the models that may read them: the load step's staged rows and reference data, the
# publish step's targets.
SOURCES = {
    "core": frozenset(
        [f"stg_{sheet.key}" for sheet in DATA_SHEETS]
        + ["ref_units", "ref_mergers", "ref_programs"]
        + ["ref_units_current", "ref_commune_candidates", "ref_commune_numbers"]
        + ["ref_crosswalk", "ref_crosswalk_unmatched"]
        + [f"stg_{name}" for name in STAGING_MODELS]
    ),
    "intermediate": frozenset(["ref_phase_targets", "ref_first_half_districts"]),
    "marts": frozenset(
        [
            "ref_phase_targets",
            "ref_commune_targets",
            "ref_reporting",
            "ref_reporting_arrivals",
            "ref_crosswalk_unmatched",
            "ref_ratings",
            "ref_first_half_districts",
        ]
    ),
}


def models() -> list[Model]:
    """Every SQL model, each after the models it reads (`etl/warehouse/models.py`)."""
    return build_order(discover(SQL_DIR), SOURCES)


# The models of core and of marts by name, in build order (the marts are what
# `exports.export` writes), derived from the SQL files.
CORE_MODELS = tuple(m.name for m in models() if m.schema == "core")
MART_MODELS = tuple(m.name for m in models() if m.schema == "marts")
AUDIT_TABLES = ("file_ingestion", "rejected_row", "info_finding", "quality_alert", "file_sighting")
# The audit tables the checks across files read in the build (sql/checks): copied from the
# ledger before they run (`load_star_schema`). `seal_build` copies the others once, after
# the checks' warnings and the run's alert are recorded in the ledger.
CHECKED_AUDIT = ("file_ingestion",)
# What a warehouse's audit table is copied from, where it is not the ledger's table of its
# name: the ledger keeps a file's findings in one table; a warehouse's `rejected_row` holds
# the errors and warnings (the severities the warehouse contract names), `info_finding` the
# information findings, in the ledger's order.
_AUDIT_SOURCES = {
    "rejected_row": "select * from ledger.audit.rejected_row where severity <> 'info'",
    "info_finding": "select * from ledger.audit.rejected_row where severity = 'info'",
}


def _ledger_rows(table: str) -> str:
    """The query of the attached ledger's rows that `audit.<table>` of a build holds."""
    return _AUDIT_SOURCES.get(table, f"select * from ledger.audit.{table}")  # noqa: S608  audit table names are constants


def build_path(settings: Settings) -> Path:
    return settings.build_dir / "htx.duckdb"


def cache_dir(settings: Settings) -> Path:
    """What builds keep between runs: what depends on the reference data and the code only
    (the national commune crosswalk, the candidates of commune names, the reference tables),
    each file named by its key, and the staged store (`store_path`)."""
    return settings.state_dir / "cache"


def fingerprint(ledger_con, loaded: list[tuple[int, str]]) -> str:
    """What a warehouse is built from: the audit trail (with a digest of each loaded file's
    staged rows), the loaded files, the SQL, the configuration, the reference units and the
    expectation suites."""
    digest = hashlib.sha256()
    audit = ledger_con.execute(
        """
        select coalesce(string_agg(
            concat_ws('|', file_id, status, unit_code, report_year, rows_read, rows_rejected,
                      warnings, superseded_by, reason, staged_digest, staged_by),
            ';' order by file_id), '')
        from audit.file_ingestion
        """
    ).fetchone()[0]
    digest.update(audit.encode())
    digest.update(repr(loaded).encode())
    inputs = [
        *SQL_DIR.rglob("*.sql"),
        *CONFIG_DIR.glob("*.toml"),
        CONFIG_DIR / "funding_sources.csv",  # the suites' year-dependent lookup list
        *REFERENCE_DIR.glob("*.csv"),
        *EXPECTATIONS_DIR.rglob("*.json"),
    ]
    for path in sorted(inputs):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def published_fingerprint(warehouse: Path) -> str | None:
    """The fingerprint of the published warehouse; None when there is none."""
    return _fingerprint_of(warehouse)


def remove_build(settings: Settings) -> None:
    """Delete the build file, its WAL and its list of changed cooperatives, if any."""
    target = build_path(settings)
    wal = target.with_name(target.name + ".wal")
    for stale in (target, wal, changed_cooperatives_path(settings)):
        stale.unlink(missing_ok=True)


def changed_cooperatives_path(settings: Settings) -> Path:
    """Beside a build started from the published warehouse: the cooperatives it built again
    (JSON), which `build_marts` builds again in the marts too. None there: all of them."""
    return settings.build_dir / "changed_cooperatives.json"


def build_fingerprint(settings: Settings) -> str | None:
    """The fingerprint of a finished build waiting to be published; None when there is none.

    A build is finished when it was checkpointed (no WAL left beside it).
    """
    build = build_path(settings)
    if build.with_name(build.name + ".wal").exists():
        return None
    return _fingerprint_of(build)


def _fingerprint_of(path: Path) -> str | None:
    import duckdb

    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        row = con.execute(
            "select fingerprint from audit.build_info order by built_at desc limit 1"
        ).fetchone()
        return row[0] if row else None
    except duckdb.Error:
        return None
    finally:
        con.close()


def load_star_schema(
    settings: Settings,
    loaded: list[tuple[int, str]],
    run_files: list[int] | None = None,
    outcomes: dict[int, dict] | None = None,
    whole: bool = False,
) -> tuple[dict[str, int], dict[int, list], dict[int, int]]:
    """Create the build file and load dimensions and facts in one transaction. The build is
    not finished until `seal_build` records its fingerprint and copies from the ledger the
    audit tables the checks do not read (`CHECKED_AUDIT`). `outcomes`: staged outcomes the
    caller already read, by file_id (the store reads the others from the staging folder).

    The build starts from a copy of the published warehouse when that was built with the
    same recipe from what the staged store holds (`_published_base`): then only the
    cooperatives of the files that came, left or were staged again since are built again
    (`_rebuild_cooperatives`); `whole`, or no such warehouse: everything is built.

    Returns the row counts, the warnings of the checks across files and years, which
    run on the loaded star schema: with `run_files`, those `for_run` keeps for these files
    (`etl.quality.validate.check_warehouse`), and each file's rows in the facts
    (`rows_in_facts`, counted on this open of the build: another costs as much again).
    """
    import shutil

    import duckdb

    from etl.quality.validate import check_warehouse

    target = build_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_build(settings)
    with phase(STARTED):
        base = not whole and bool(loaded) and _published_base(settings)
        if base:
            shutil.copyfile(settings.warehouse, target)
        con = duckdb.connect(str(target))
    try:
        core = [m for m in models() if m.schema == "core"]
        with phase(STARTED):
            remade = _start_build(con, settings, loaded, outcomes, core, base)
            if base and not remade:
                # The staged rows of the cooperatives to build again, and what staging
                # derives of them (temp tables: made before the transaction that writes the
                # build).
                _candidates_of_changed(con, settings, run_files)
                _stage_views(con, loaded, only="changed_coops")
                run_staging(con)
        if base and remade:
            # The store was not what it said (made again whole): what changed is unknown.
            con.close()
            log.warning("the staged store was made again: the star schema is built whole")
            return load_star_schema(settings, loaded, run_files, outcomes, whole=True)
        with phase("build: star schema written"):
            con.execute("begin transaction")
            copy_audit(con, settings.ledger, changed_only=base, tables=CHECKED_AUDIT)
            if base:
                con.execute("delete from audit.build_info")  # this build's row: `seal_build`
                rebuilt = _rebuild_cooperatives(con, core)
            else:
                for model in core:
                    run_sql_file(con, model.path)
                con.execute(
                    "insert into audit.crosswalk_unmatched select * from ref_crosswalk_unmatched"
                )
            _keep_staging(con, changed_only=base)
            _record_inputs(con, loaded)
            con.execute("commit")
        with phase("build: checks across files"):
            if base:
                # Every cooperative again, for the checks: the staged rows, and what staging
                # derived from them as the build now keeps it.
                _stage_views(con, loaded)
                _kept_staging_views(con)
                changed = [
                    c for (c,) in con.execute("select * from changed_coops order by all").fetchall()
                ]
                changed_cooperatives_path(settings).write_text(
                    json.dumps(changed), encoding="utf-8"
                )
                log.info("star schema: %d cooperative(s) built again, the others kept", rebuilt)
            counts = _row_counts(con, core)
            cross = check_warehouse(con, run_files)
            in_facts = rows_in_facts(con)
    finally:
        con.close()
    log.info("star schema loaded: %s", counts)
    return counts, cross, in_facts


# The part of a build before its tables are written (`etl.phases`: `make bench` shows it).
STARTED = "build: started, rows staged"


def _start_build(con, settings: Settings, loaded, outcomes, core: list, base: bool) -> bool:
    """An empty build's tables (not for one `base`d on the published warehouse), the
    reference tables, the macros and the staged tables (`_stage_tables`: returns whether
    the staged store was made again whole)."""
    if not base:
        # The empty tables in one transaction: one commit (and WAL sync), not one a statement.
        con.execute("begin transaction")
        run_sql_file(con, SQL_DIR / "ddl" / "schemas.sql")
        for table in AUDIT_TABLES:
            run_sql_file(con, SQL_DIR / "ddl" / "audit" / f"{table}.sql")
        for table in BUILD_TABLES:
            run_sql_file(con, SQL_DIR / "ddl" / "audit" / f"{table}.sql")
        for model in core:
            run_sql_file(con, SQL_DIR / "ddl" / "core" / f"{model.name}.sql")
        con.execute("commit")
    reference_tables.register(con, cache_dir(settings))
    _create_macros(con)
    return _stage_tables(con, settings, loaded, outcomes, staging=not base)


# The audit tables of a build that the ledger does not keep: what it was made of.
BUILD_TABLES = ("build_info", "crosswalk_unmatched", "build_inputs")
# The staged tables (`stg_<sheet>`): a core model that reads one is built from the rows of
# each cooperative alone (every such table has `coop_code`; `tests/test_incremental.py`
# compares a warehouse built cooperative by cooperative with one built whole).
STAGED = frozenset(f"stg_{sheet.key}" for sheet in DATA_SHEETS)


def _published_base(settings: Settings) -> bool:
    """Whether the published warehouse may be the start of the next build: it was built
    with this recipe (`_recipe`: the SQL, configuration, reference files, suites and code)
    from exactly the files, staged rows and stamps the staged store holds now
    (`audit.build_inputs`), in a store of this key, and it is the file `swap` put in place,
    unchanged since (`record_published`: written to, it might hold what no build made).
    Anything unreadable or missing: no."""
    import duckdb

    store = store_path(settings)
    if not settings.warehouse.exists() or not store.exists():
        return False
    if _file_state(settings.warehouse) != _published_state(settings):
        log.info("the star schema is built whole: the warehouse is not the one last published")
        return False
    try:
        con = duckdb.connect(str(settings.warehouse), read_only=True)
        try:
            row = con.execute(
                "select recipe from audit.build_info order by built_at desc limit 1"
            ).fetchone()
            inputs = con.execute("select * from audit.build_inputs order by all").fetchall()
        finally:
            con.close()
        con = duckdb.connect(str(store), read_only=True)
        try:
            key = con.execute("select max(key) from store_info").fetchone()
            held = con.execute(
                "select file_id, staged_digest, staged_by from files order by all"
            ).fetchall()
        finally:
            con.close()
    except duckdb.Error as exc:
        log.info("the star schema is built whole: %s", exc)
        return False
    if not row or row[0] != _recipe():
        log.info("the star schema is built whole: the published one has another recipe")
        return False
    if not key or key[0] != _store_key() or held != inputs:
        log.info("the star schema is built whole: the staged store is not its inputs")
        return False
    return True


def record_published(settings: Settings) -> None:
    """After `swap` put a build in place: the published file's size, time and inode, which
    `_published_base` compares with the file's before it builds upon it. Never raises: the
    swap is done whatever happens here."""
    path = cache_dir(settings) / "published.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_file_state(settings.warehouse)), encoding="utf-8")
    except OSError:  # the swap is done: the next build is then made whole, that is all
        log.warning("could not record the published warehouse in %s", path, exc_info=True)
        with contextlib.suppress(OSError):  # left: it names another file (inode), never this
            path.unlink(missing_ok=True)


def _published_state(settings: Settings) -> list[int] | None:
    try:
        found = json.loads((cache_dir(settings) / "published.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, list) else None


def _file_state(path: Path) -> list[int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def _rebuild_cooperatives(con, core: list) -> int:
    """In a build copied from the published warehouse: the rows of the cooperatives the
    changed files name (`changed_coops`, `_sync_store`) deleted from every core table a
    staged table feeds, and built again by the same models from those cooperatives' staged
    rows only (the `stg_*` the connection holds now). The other core tables depend on the
    reference data alone (the recipe is the published one's), and are kept. Returns how
    many cooperatives were built again."""
    per_cooperative = _per_cooperative(core)
    for model in per_cooperative:
        _delete_changed(con, model.table)
    for model in per_cooperative:
        run_sql_file(con, model.path)
    return int(scalar(con, "select count(*) from changed_coops"))


def _keep_staging(con, changed_only: bool) -> None:
    """Keep what staging derived (`STAGING_MODELS`: `stg_<name>`, one row per staged HTX row
    of a cooperative) in the build as `audit.<name>`, so that a later build copied from it
    computes it again for the cooperatives it builds again only (`changed_only`: those of
    `changed_coops`, whose rows the temp tables hold now), as it does the core tables."""
    for name in STAGING_MODELS:
        if changed_only:
            _delete_changed(con, f"audit.{name}")
            con.execute(f"insert into audit.{name} by name select * from stg_{name}")  # noqa: S608  as above
            continue
        con.execute(f"create or replace table audit.{name} as select * from stg_{name}")  # noqa: S608  as above
        con.execute(f"comment on table audit.{name} is '{KEPT_STAGING[name]}'")
        for column, meaning in KEPT_STAGING_COLUMNS[name].items():
            text = meaning.replace("'", "''")
            con.execute(f"comment on column audit.{name}.{column} is '{text}'")


# What `_keep_staging` keeps, described as analysts see it.
KEPT_STAGING = {
    "report_precedence": "For each staged HTX row of a cooperative: which report of its year "
    "wins for that cooperative (the workbook contract order of precedence)",
    "htx_commune": "For each staged HTX row of a cooperative: the commune its Xã/Phường cell "
    "names (NULL: unknown or empty)",
}
_ROW = {
    "file_id": "The file of the row (audit.file_ingestion)",
    "excel_row": "Row number as Excel shows it",
    "coop_code": "The cooperative's 10-digit code (Mã số HTX)",
    "report_year": "Year of the report",
    "unit_code": "Reporting unit of the file: district (3 digits), province (2) or commune (5)",
}
KEPT_STAGING_COLUMNS = {
    "report_precedence": {
        **_ROW,
        "sheet_name": "The HTX sheet's name as the file spells it",
        "unit_level": "district, province or commune: the reporting unit's level",
        "unit_province_code": "The province in force since 01/07/2025 the reporting unit's area "
        "lies in (its districts' and communes' reports are ranked against each other); NULL: "
        "no unit of that code in the year",
        "unit_rank": "The unit's rank within its province in the order of precedence for the "
        "cooperative and year: 1 outranked (2025: a district whose province's report names the "
        "cooperative too; from 2026: a province one of whose communes' reports names it), else 0",
        "wins": "Whether this report wins for the cooperative and year (its rows are loaded)",
        "winner_file_id": "The file whose report wins for the cooperative and year",
        "winner_unit_code": "The unit of the winning report",
        "winner_province_code": "The province (in force since 01/07/2025) of the winning "
        "report's unit",
        "first_winning_row": "The winning report's first row for the cooperative and year: the "
        "row the dimension and the facts take",
    },
    "htx_commune": {
        **_ROW,
        "commune_code": "GSO code of the commune the cell names; NULL: unknown or empty",
        "commune_current": "True: a commune in force since 01/07/2025; false: a former commune",
    },
}


def _kept_staging_views(con) -> None:
    """`stg_<name>` of `STAGING_MODELS` as temp views of what the build keeps (every
    cooperative), in place of the temp tables computed for the cooperatives built again."""
    for name in STAGING_MODELS:
        con.execute(f"drop table if exists stg_{name}")
        con.execute(f"create temp view stg_{name} as select * from audit.{name}")  # noqa: S608  names of this module


def _delete_changed(con, table: str) -> None:
    """Delete the rows of the cooperatives built again (`changed_coops`) from `table`."""
    con.execute(
        f"delete from {table} where coop_code in (select coop_code from changed_coops)"  # noqa: S608  tables of this project
    )


def _per_cooperative(core: list) -> list:
    """The core models built cooperative by cooperative: those that read a staged table, or
    a model that is (in build order, so what they read comes first)."""
    found: list = []
    for model in core:
        if model.sources & STAGED or model.reads & {m.table for m in found}:
            found.append(model)
    return found


def _build_recipe(con) -> str | None:
    """The recipe the open build was sealed with (`seal_build`), if any."""
    latest = "select recipe from audit.build_info order by built_at desc limit 1"
    row = con.execute(latest).fetchone()
    return row[0] if row else None


def _record_inputs(con, loaded: list) -> None:
    """`audit.build_inputs`: the files the star schema is built from, as the store holds
    them (the loaded files, their digests and stamps); none without a loaded file."""
    con.execute("delete from audit.build_inputs")
    if loaded:
        con.execute(
            "insert into audit.build_inputs select file_id, staged_digest, staged_by "
            "from staged.files order by file_id"
        )


@cache
def _recipe() -> str:
    """What a build is made with besides its files: every file of the SQL, configuration,
    reference, expectations and `etl` folders, and the DuckDB release. Two builds of the
    same recipe from the same staged rows are the same."""
    import duckdb

    import etl

    digest = hashlib.sha256(f"build recipe\n{duckdb.__version__}\n".encode())
    package = Path(str(etl.__file__)).parent
    folders = (SQL_DIR, CONFIG_DIR, REFERENCE_DIR, EXPECTATIONS_DIR, package)
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            if path.suffix == ".pyc":
                continue
            digest.update(f"{folder.name}/{path.relative_to(folder)}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def seal_build(settings: Settings, build_fingerprint: str, run_id: str, files: int) -> None:
    """Mark the build finished: the last step of a load, after the checks across files and
    the alerts. A build without this row is never taken for an up-to-date one. Its audit
    tables are first brought up to date with what those recorded in the ledger (as
    `refresh_build_audit`), in the same transaction: one open of the build file, not two."""
    import duckdb

    con = duckdb.connect(str(build_path(settings)))
    try:
        con.execute("begin transaction")
        copied = copy_audit(con, settings.ledger, changed_only=True)
        con.execute(
            "insert into audit.build_info (fingerprint, built_at, run_id, files_loaded, recipe) "
            "values (?, now(), ?, ?, ?)",
            [build_fingerprint, run_id, files, _recipe()],
        )
        con.execute("commit")
    finally:
        con.close()
    log.debug("build audit refreshed: %s", ", ".join(copied) or "nothing changed")


def copy_audit(
    con, ledger: Path, changed_only: bool = False, tables: tuple[str, ...] = AUDIT_TABLES
) -> list[str]:
    """Replace the audit tables of an open warehouse connection (`tables`, all by default)
    with the ledger's rows (`_ledger_rows`); returns the tables replaced. `changed_only`: a
    table that already holds those rows in the ledger's order (`_same_rows`) is left as it
    is."""
    con.execute(f"attach '{ledger}' as ledger (read_only)")
    copied = []
    try:
        for table in tables:
            if changed_only and _same_rows(con, table):
                continue
            con.execute(f"delete from audit.{table}")  # noqa: S608  audit table names are constants
            con.execute(f"insert into audit.{table} {_ledger_rows(table)}")
            copied.append(table)
    finally:
        con.execute("detach ledger")
    return copied


def _same_rows(con, table: str) -> bool:
    """Whether `audit.<table>` holds the rows of the attached ledger's, row for row in the
    order a scan reads them (what a copy would make): the same count, and no position where
    the two rows differ (NULLs equal, as a copy keeps them)."""
    return bool(
        scalar(
            con,
            f"select (select count(*) from ({_ledger_rows(table)})) "  # noqa: S608  audit table names are constants
            f"= (select count(*) from audit.{table}) "
            f"and not exists (select 1 from (select l as r from ({_ledger_rows(table)}) as l) "
            f"positional join (select b as s from audit.{table} as b) "
            "where r is distinct from s)",
        )
    )


def rows_in_facts(con) -> dict[int, int]:
    """Each file's rows in the fact tables of an open build connection (every `core.fact_*`
    table with a `file_id`): what `audit.file_ingestion.rows_loaded` says. A loaded file's
    row another report wins (a commune's report over its province's, the province's over a
    district's merged into it in 2025, a unit's of another province) is in no fact table, so
    it is not counted."""
    tables = [
        name
        for (name,) in con.execute(
            "select table_name from duckdb_columns() where schema_name = 'core' "
            "and table_name like 'fact\\_%' escape '\\' and column_name = 'file_id' "
            "and database_name = current_database() order by table_name"
        ).fetchall()
    ]
    if not tables:
        return {}
    # The build's own table names, from its catalogue.
    rows = " union all ".join(f"select file_id from core.{t}" for t in tables)  # noqa: S608
    found = con.execute(f"select file_id, count(*) from ({rows}) group by file_id").fetchall()  # noqa: S608
    return {int(file_id): int(n) for file_id, n in found}


def refresh_build_audit(settings: Settings) -> list[str]:
    """Bring the unpublished build's audit tables up to date with the ledger: only those
    whose rows changed since (after a load, the warnings across files and the alert; after
    the alert's delivery, the alert) are copied again. Returns the tables copied."""
    import duckdb

    con = duckdb.connect(str(build_path(settings)))
    try:
        con.execute("begin transaction")
        copied = copy_audit(con, settings.ledger, changed_only=True)
        con.execute("commit")
    finally:
        con.close()
    log.debug("build audit refreshed: %s", ", ".join(copied) or "nothing changed")
    return copied


def prepare_reference(settings: Settings) -> bool:
    """Compute the reference tables into the build cache (`cache_dir`) unless they are
    there already; True when they were computed (`reference_tables.prepare`). They depend
    on the reference files and the code only, no workbook: `htx init` prepares them, and a
    build finds them ready (a build that does not computes them itself, as before)."""
    return reference_tables.prepare(cache_dir(settings))


def _create_macros(con) -> None:
    """The temporary macros every model may use (`sql/macros/`)."""
    for path in sorted((SQL_DIR / "macros").glob("*.sql")):
        run_sql_file(con, path)


def _stage_tables(
    con,
    settings: Settings,
    loaded: list[tuple[int, str]],
    outcomes: dict[int, dict] | None = None,
    staging: bool = True,
) -> bool:
    """`stg_<sheet>` holding the staged rows of every loaded file, then (`staging`) what
    the core models derive from them first (`STAGING_MODELS`, after
    `ref_commune_candidates`). Returns whether the store was made again whole.

    The rows come from the staged store (`cache/staged.duckdb`, `_update_store`), attached
    to the connection as `staged` until it closes: `stg_<sheet>` is a temp view of its
    table. With no file loaded, the tables are empty and the store is left as it is.
    """
    remade = False
    if loaded:
        remade = _update_store(con, settings, loaded, outcomes)
    _stage_views(con, loaded)
    if staging:
        reference_tables.register_commune_candidates(con, cache_dir(settings))
        run_staging(con)
    return remade


def _candidates_of_changed(con, settings: Settings, run_files: list[int] | None) -> None:
    """In a build copied from the published warehouse: `ref_commune_candidates` of the HTX
    rows that read it only, not of every staged row: those of the cooperatives built again
    (`sql/staging/htx_commune.sql`) and those of the files whose warnings across files are
    wanted (`sql/checks/commune_ambiguous.sql` looks at the files of `check_run_files`
    only; every file without `run_files`)."""
    if run_files is None:
        reference_tables.register_commune_candidates(con, cache_dir(settings))
        return
    con.execute(
        "create or replace temp table candidate_files as select unnest($ids::bigint[]) as file_id",
        {"ids": sorted(set(run_files))},
    )
    con.execute(
        "create or replace temp view candidate_htx as select * from staged.stg_htx "
        "where coop_code in (select coop_code from changed_coops) "
        "or file_id in (select file_id from candidate_files)"
    )
    reference_tables.register_commune_candidates(con, cache_dir(settings), htx="candidate_htx")


def _stage_views(con, loaded: object = True, only: str | None = None) -> None:
    """`stg_<sheet>`: a temp view of the store's rows (`only`: of the cooperatives the
    temp table of that name lists), or an empty table when no file is `loaded`."""
    for sheet in DATA_SHEETS:
        if not loaded:
            con.execute(f"create or replace temp table stg_{sheet.key} ({_ddl(sheet)})")
            continue
        where = f" where coop_code in (select coop_code from {only})" if only else ""  # noqa: S608  a temp table of this module
        con.execute(
            f"create or replace temp view stg_{sheet.key} as "  # noqa: S608  stg_<sheet> from the layout
            f"select * from staged.stg_{sheet.key}{where}"
        )


def run_staging(con) -> None:
    """The staging models (`STAGING_MODELS`) over `stg_htx`, after the provinces their order
    of precedence ranks units within (`ref_unit_regions`)."""
    reference_tables.register_unit_regions(con)
    for name in STAGING_MODELS:
        run_sql_file(con, SQL_DIR / "staging" / f"{name}.sql")


# Bump when the staged store's tables change; the staged columns and this module's text are
# in its key anyway.
STORE_FORMAT = 1


def store_path(settings: Settings) -> Path:
    """The staged store: the staged rows of the files the last build loaded (`_update_store`)."""
    return cache_dir(settings) / "staged.duckdb"


def _ddl(sheet) -> str:
    return ", ".join(f'"{name}" {kind}' for name, kind in staged_columns(sheet).items())


def _store_key() -> str:
    """What the store's rows are kept in: its format, each sheet's staged columns, this
    module and the DuckDB release. Another key: the store is made again whole."""
    import duckdb

    digest = hashlib.sha256(f"staged store {STORE_FORMAT}\n{duckdb.__version__}\n".encode())
    for sheet in DATA_SHEETS:
        digest.update(f"{sheet.key}: {_ddl(sheet)}\n".encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:32]


def _update_store(
    con, settings: Settings, loaded: list[tuple[int, str]], outcomes: dict[int, dict] | None = None
) -> bool:
    """Attach the staged store as `staged` and make it hold the staged rows of exactly the
    `loaded` files, reading only what changed.

    A file's rows are kept while the ledger records the same `staged_digest` (a digest of
    every staged row of the file, every column) and `staged_by` (the reader and rules that
    staged it) as when they were read; any other stored file (it left: superseded, say)
    goes, and a file that is new or staged again (reprocessed, restaged by an upgrade, no
    digest recorded) is read from the batch Parquet its outcome names: only that file's rows
    of that batch. A store that is missing, unreadable, of another key or not what it should
    be after the update is made again whole. One transaction: a store is never half-updated.

    Leaves `changed_coops`, the cooperatives named by a row that left the store or came
    into it, and returns whether the store was made again whole.
    """
    import duckdb

    path = store_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        "create or replace temp table loaded_now as select unnest($ids::bigint[]) as file_id",
        {"ids": sorted({file_id for file_id, _ in loaded})},
    )
    _recorded_stamps(con, settings.ledger)
    for attempt in (1, 2):
        try:
            con.execute(f"attach '{path}' as staged")
        except duckdb.Error as exc:
            log.warning("staged store unreadable (%s): made again", exc)
            _remove_store(path)
            con.execute(f"attach '{path}' as staged")
        try:
            return _sync_store(con, settings, whole=attempt == 2, known=outcomes)
        except (duckdb.Error, _StoreMismatch) as exc:
            if attempt == 2:
                raise
            log.warning("staged store not usable (%s): made again whole", exc)
            con.execute("detach staged")
            _remove_store(path)
    raise AssertionError("the second attempt returns or raises")


class _StoreMismatch(RuntimeError):
    """The store does not hold what it should after an update."""


def _remove_store(path: Path) -> None:
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)


def _recorded_stamps(con, ledger: Path) -> None:
    """`recorded_now`: each loaded file's `staged_digest` and `staged_by` in the ledger (none
    for a file the ledger does not hold, which is then always read again)."""
    con.execute(
        "create or replace temp table recorded_now "
        "(file_id bigint, staged_digest varchar, staged_by varchar)"
    )
    if not ledger.exists():
        return
    con.execute(f"attach '{ledger}' as ledger (read_only)")
    try:
        con.execute(
            "insert into recorded_now select f.file_id, f.staged_digest, f.staged_by "
            "from ledger.audit.file_ingestion f semi join loaded_now using (file_id)"
        )
    finally:
        con.execute("detach ledger")


def _sync_store(con, settings: Settings, whole: bool, known: dict[int, dict] | None = None) -> bool:
    """The update of `_update_store` on the attached store (`whole`: every file read;
    `known`: outcomes already read, by file_id, not read again); True when it made the
    store again whole.

    The temp tables it needs are made before its transaction, which writes the store only
    (DuckDB writes one database per transaction)."""
    key = _store_key()
    tables = {
        name
        for (name,) in con.execute(
            "select table_name from duckdb_tables() where database_name = 'staged'"
        ).fetchall()
    }
    found = None
    if "store_info" in tables:
        row = con.execute("select max(key) from staged.store_info").fetchone()
        found = row[0] if row else None
    remade = whole or found != key
    if remade:
        if found is not None:
            log.info("staged store of another key: made again whole")
        con.execute("begin transaction")
        for name in sorted(tables):
            con.execute(f"drop table staged.{name}")
        con.execute("create table staged.store_info (key varchar)")
        con.execute("insert into staged.store_info values (?)", [key])
        con.execute(
            "create table staged.files (file_id bigint, staged_in varchar, "
            "staged_digest varchar, staged_by varchar)"
        )
        for sheet in DATA_SHEETS:
            con.execute(f"create table staged.stg_{sheet.key} ({_ddl(sheet)})")
        con.execute("commit")
    # The stored files still good: the same digest and stamp as the ledger records now.
    con.execute(
        "create or replace temp table kept as select s.file_id from staged.files s "
        "join recorded_now r on r.file_id = s.file_id "
        "and r.staged_digest = s.staged_digest and r.staged_by = s.staged_by"
    )
    wanted = [
        file_id
        for (file_id,) in con.execute(
            "select file_id from loaded_now anti join kept using (file_id) order by file_id"
        ).fetchall()
    ]
    staging = settings.staging_dir
    known = known or {}
    outcomes = [known.get(file_id) or read_outcome(staging, file_id) for file_id in wanted]
    folders = [staged_folder(o) for o in outcomes]
    # Each sheet's Parquet once per staged folder (a batch's, shared by its files), and the
    # file, sheet and Parquet of every wanted row made by a join: a full load names thousands
    # of files in a few batches.
    where = [
        (folder, sheet, str(path))
        for folder in sorted(set(folders))
        for sheet, path in folder_files(staging, folder).items()
    ]
    con.execute(
        "create or replace temp table wanted as select w.file_id, p.sheet, p.path "
        "from (select unnest($ids::bigint[]) as file_id, unnest($folders::varchar[]) as folder) w "
        "join (select unnest($in::varchar[]) as folder, unnest($sheets::varchar[]) as sheet, "
        "unnest($paths::varchar[]) as path) p using (folder)",
        {
            "ids": [o["file_id"] for o in outcomes],
            "folders": folders,
            "in": [f for f, _, _ in where],
            "sheets": [s for _, s, _ in where],
            "paths": [p for _, _, p in where],
        },
    )
    # The cooperatives of the rows about to leave; those of the rows that come, after.
    leaving = " union ".join(
        f"select coop_code from staged.stg_{sheet.key} "  # noqa: S608  stg_<sheet> from the layout
        "where file_id not in (select file_id from kept)"
        for sheet in DATA_SHEETS
    )
    con.execute(f"create or replace temp table changed_coops as {leaving}")
    con.execute("begin transaction")
    try:
        # Every row of a file not kept goes, even one the files table no longer names.
        for sheet in DATA_SHEETS:
            con.execute(
                f"delete from staged.stg_{sheet.key} "  # noqa: S608  stg_<sheet> from the layout
                "where file_id not in (select file_id from kept)"
            )
        con.execute("delete from staged.files where file_id not in (select file_id from kept)")
        if outcomes:
            con.execute(
                "insert into staged.files select unnest($ids::bigint[]), "
                "unnest($folders::varchar[]), unnest($digests::varchar[]), "
                "unnest($stamps::varchar[])",
                {
                    "ids": [o["file_id"] for o in outcomes],
                    "folders": folders,
                    "digests": [o.get("staged_digest") or None for o in outcomes],
                    "stamps": [o.get("staged_by") for o in outcomes],
                },
            )
        for sheet in DATA_SHEETS if outcomes else ():
            files = sorted({p for _, s, p in where if s == sheet.key})
            con.execute(
                f"insert into staged.stg_{sheet.key} by name "  # noqa: S608  stg_<sheet> from the layout
                "select p.* exclude (filename) from read_parquet(?, filename = true) p "
                "semi join wanted w on p.file_id = w.file_id and p.filename = w.path "
                "and w.sheet = ?",
                [files, sheet.key],
            )
        mismatch = con.execute(
            "select count(*) from (select file_id from staged.files "
            "union all select file_id from loaded_now) "
            "group by file_id having count(*) <> 2"
        ).fetchall()
        if mismatch:
            raise _StoreMismatch(f"{len(mismatch)} file(s) not as loaded")
        con.execute("commit")
    except Exception:
        rollback(con)
        raise
    coming = " union all ".join(
        f"select coop_code from staged.stg_{sheet.key} semi join wanted using (file_id)"  # noqa: S608  stg_<sheet> from the layout
        for sheet in DATA_SHEETS
    )
    con.execute(
        "create or replace temp table changed_coops as select distinct coop_code from "  # noqa: S608  built above from the layout
        f"(select coop_code from changed_coops union all {coming}) where coop_code is not null"
    )
    log.info(
        "staged store: %d file(s) kept, %d read from their staged Parquet%s",
        len(con.execute("select 1 from kept").fetchall()),
        len(wanted),
        " (made whole)" if remade else "",
    )
    return remade


# The intermediate tables and marts whose rows are each cooperative's own (they have
# `coop_code`), made from that cooperative's rows of the tables they read and from tables
# of the reference data alone: a build started from the published warehouse builds only the
# changed cooperatives' rows of these again (`_build_by_cooperative`). Each with the ORDER
# BY its SQL writes it in ("": none; its columns identify a row), kept when its rows
# change: the officials' workbook writes a mart's rows in table order.
# `tests/test_incremental.py` compares the warehouse and its exports with those built whole.
BY_COOPERATIVE = {
    "intermediate.cooperative_placement": "",
    "intermediate.ocop_cooperative_year": "",
    "intermediate.support_cooperative_year": "",
    "marts.cooperative_district_year": "",
    "marts.cooperative_scorecard": "district_code, coop_code",
}

# The marts that sum the rows of `BY_COOPERATIVE` tables by a unit (and year), each with the
# table whose rows give a cooperative's unit, the unit (an expression both tables can use;
# with the year, it identifies a row) and the ORDER BY its SQL writes it in. A build started
# from the published warehouse builds again only the units (every year) that a changed
# cooperative's rows were in or are in now (`_build_by_unit`): a cooperative moved to another
# district or commune changes both.
BY_UNIT = {
    "marts.district_year": (
        "marts.cooperative_district_year",
        "district_code, case when district_code is null then province_code end",
        "district_code, case when district_code is null then province_code end, year",
    ),
    "marts.commune_year": (
        "intermediate.cooperative_placement",
        "new_province_code, new_commune_code",
        "new_province_code, new_commune_code nulls last, year",
    ),
}


def build_marts(settings: Settings) -> dict[str, int]:
    """Compute the intermediate tables and every mart from the star schema of the build
    file, each after the models it reads. In a build started from the published warehouse
    (`load_star_schema`), the tables of `BY_COOPERATIVE` are built again for the changed
    cooperatives only, those of `BY_UNIT` for the units those were in or are in now
    (`_build_by_unit`); every other one is built whole."""
    import duckdb

    changed = _changed(settings)
    with phase("marts: build opened"):
        con = duckdb.connect(str(build_path(settings)))
    try:
        with phase("marts: build opened"):
            if changed is not None and _build_recipe(con) != _recipe():
                # Code deployed since the load: its rows of other cooperatives are the old
                # code's.
                log.info("the marts are built whole: the build was loaded with another recipe")
                changed = None
            _set_criteria(con, CONFIG_DIR / "replication_criteria.toml")
            _register_targets(con, CONFIG_DIR / "phase_targets.toml")
            _register_reporting(con)
            _register_unmatched(con)
            _register_first_half(con)
            _register_ratings(con)
            _create_macros(con)
        later = [m for m in models() if m.schema != "core"]
        moved: set[str] = set()
        if changed is not None:
            with phase("marts: changed cooperatives and units built"):
                moved |= _build_by_cooperative(
                    con, [m for m in later if m.table in BY_COOPERATIVE], changed
                )
                moved |= _build_by_unit(con, [m for m in later if m.table in BY_UNIT])
            later = [m for m in later if m.table not in BY_COOPERATIVE and m.table not in BY_UNIT]
        with phase("marts: written"):
            con.execute("begin transaction")
            if changed is not None:
                _merge_by_cooperative(con, moved)
                _merge_by_unit(con, moved)
            for model in later:
                run_sql_file(con, model.path)
            _describe_columns(con)
            con.execute("commit")
        with phase("marts: counted, checkpointed"):
            if changed is not None:
                con.execute("detach part")
                con.execute("detach units")
            counts = _row_counts(con, [m for m in models() if m.schema == "marts"])
            con.execute("checkpoint")
    finally:
        with phase("marts: counted, checkpointed"):
            con.close()
    log.info("marts built: %s", counts)
    return counts


def _describe_columns(con) -> None:
    """Every column of `core`, `intermediate` and `marts` that its SQL leaves without a
    description gets its Vietnamese label (`config/labels_vi.csv`, the officials' workbook
    headers), so any SQL tool (and `htx tables`) shows what each column is."""
    labels = labels_vi()
    bare = con.execute(
        "select schema_name, table_name, column_name from duckdb_columns() "
        "where database_name = current_database() "
        "and schema_name in ('core', 'intermediate', 'marts') "
        "and comment is null"
    ).fetchall()
    for schema, table, column in bare:
        label = labels.get(column)
        if label:
            # Names from DuckDB's catalogue, the text from the project's own labels.
            text = label.replace("'", "''")
            con.execute(f"comment on column {schema}.{table}.\"{column}\" is '{text}'")


def _changed(settings: Settings) -> list[str] | None:
    """The cooperatives a build started from the published warehouse built again; None
    when it was built whole (or the list cannot be read: then everything is built)."""
    try:
        found = json.loads(changed_cooperatives_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return [str(code) for code in found] if isinstance(found, list) else None


def _build_by_cooperative(con, wanted: list, changed: list[str]) -> set[str]:
    """The rows of the changed cooperatives of the `wanted` models (`BY_COOPERATIVE`), built
    by the models themselves in an in-memory database `part` that holds the core tables'
    rows of those cooperatives and the reference-only core tables whole; and, for a table
    kept in an order whose new rows do not take the places of the old ones
    (`_same_places`: returned), all its rows as they will be, in that order
    (`part.main.ordered_<n>`). Before the transaction that writes the build (DuckDB writes
    one database a transaction); `_merge_by_cooperative` then writes them in."""
    con.execute(
        "create or replace temp table changed_coops as "
        "select unnest($codes::varchar[]) as coop_code",
        {"codes": changed},
    )
    con.execute("attach ':memory:' as part")
    for schema in ("core", "intermediate", "marts"):
        con.execute(f"create schema part.{schema}")
    changed_only = " where coop_code in (select coop_code from changed_coops)"
    core = [m for m in models() if m.schema == "core"]
    per_cooperative = {m.table for m in _per_cooperative(core)}
    for model in core:
        where = changed_only if model.table in per_cooperative else ""
        con.execute(f"create table part.{model.table} as select * from {model.table}{where}")  # noqa: S608  model names from sql/
    _run_in(con, "part", wanted)
    moved = set()
    for n, (table, order) in enumerate(BY_COOPERATIVE.items()):
        if order and not _same_places(con, table, CHANGED_ROWS, f"part.{table}", order):
            moved.add(table)
            con.execute(
                f"create table part.main.ordered_{n} as select * from ("  # noqa: S608  tables of this module
                f"select * from {table} anti join changed_coops using (coop_code) "
                f"union all select * from part.{table}) order by {order}"
            )
    return moved


# The rows of the changed cooperatives in a table of `BY_COOPERATIVE`: what follows its name.
CHANGED_ROWS = "semi join changed_coops using (coop_code)"


# The column types a row keeps its place in when DuckDB updates it (the marts' types, each
# checked: `tests/test_incremental.py`), as `duckdb_columns()` spells them. A table with a
# column of any other type is written again whole: DuckDB updates the nested types (lists,
# arrays, STRUCT, MAP, UNION) and, since 2.0, VARIANT and GEOMETRY by deleting the row and
# inserting it last, and a type not checked may be one more.
_STAY_IN_PLACE = (
    "BOOLEAN",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "DOUBLE",
    r"DECIMAL\(\d+,\d+\)",
    "VARCHAR",
    "DATE",
)


def _same_places(con, table: str, rows: str, new: str, key: str) -> bool:
    """Whether the rows `new` can each take the place of the row of `table` `rows` picks
    (what follows its name in a query) that has its `key`: the same keys, no two rows
    alike, where `key` is what orders `table`'s rows (so every row keeps its place in that
    order); and every column of `table` of a type DuckDB is known to update in place
    (`_STAY_IN_PLACE`)."""
    keyed = f"row({key})"
    old = f"(select * from {table} {rows})"  # noqa: S608  tables and keys of this module
    differ = scalar(
        con,
        f"select count(*) from ((select {keyed} from {old} except all select {keyed} from {new}) "  # noqa: S608  tables and keys of this module
        f"union all (select {keyed} from {new} except all select {keyed} from {old}))",
    )
    if differ or scalar(con, f"select count(*) - count(distinct {keyed}) from {new}"):  # noqa: S608  as above
        return False
    schema, name = table.split(".")
    moving = con.execute(
        "select count(*) from duckdb_columns() where database_name = current_database() "
        "and schema_name = ? and table_name = ? and not regexp_full_match(data_type, ?)",
        [schema, name, "|".join(_STAY_IN_PLACE)],
    ).fetchone()[0]
    return not moving


def _update_in_place(con, table: str, rows: str, new: str, key: str) -> None:
    """In the build's transaction: each row of `table` that `rows` picks made the row of
    `new` with its `key` (`_same_places`), where it is: the table's order and row ids stay,
    and only those rows are written again, not every row of the table."""
    columns = [d[0] for d in con.execute(f"select * from {table} limit 0").description]  # noqa: S608  tables of this module
    values = ", ".join(f'"{c}" = n."{c}"' for c in columns)
    con.execute(
        f"update {table} set {values} from ("  # noqa: S608  tables and keys of this module
        f"select o.__row, n.* from (select rowid as __row, row({key}) as __key "
        f"from {table} {rows}) o "
        f"inner join (select *, row({key}) as __key from {new}) n "
        "on o.__key is not distinct from n.__key"
        f") n where {table}.rowid = n.__row"
    )


def _run_in(con, attached: str, wanted: list) -> None:
    """Run the `wanted` models' SQL with the `attached` database current (their tables are
    made there), then make the build's current again."""
    database = scalar(con, "select current_database()")
    con.execute(f"use {attached}")
    try:
        for model in wanted:
            run_sql_file(con, model.path)
    finally:
        con.execute(f"use {database}")


def _merge_by_cooperative(con, moved: set[str]) -> None:
    """In the build's transaction: the changed cooperatives' rows of each `BY_COOPERATIVE`
    table replaced by those built in `part` (a table kept in an order: each row in its
    place, or where rows of it are `moved`, every row again, in it, so that its row ids
    follow it)."""
    for n, (table, order) in enumerate(BY_COOPERATIVE.items()):
        if table in moved:
            con.execute(f"delete from {table}")  # noqa: S608  tables of this module
            # Made in that order (`_build_by_cooperative`), read in it: not sorted again.
            con.execute(f"insert into {table} select * from part.main.ordered_{n}")  # noqa: S608  tables of this module
            continue
        if order:
            _update_in_place(con, table, CHANGED_ROWS, f"part.{table}", order)
            continue
        _delete_changed(con, table)
        con.execute(f"insert into {table} select * from part.{table}")  # noqa: S608  tables of this module


def _merged(table: str) -> str:
    """The rows `table` (of `BY_COOPERATIVE`) holds once `_merge_by_cooperative` has run."""
    return (
        f"(select * from {table} anti join changed_coops using (coop_code) "  # noqa: S608  tables of this module
        f"union all select * from part.{table})"
    )


def _build_by_unit(con, wanted: list) -> set[str]:
    """The rows of the `wanted` models (`BY_UNIT`) of the units a changed cooperative's rows
    were in before (the published build) or are in after (`part`), every year: built by the
    models themselves in an in-memory database `units` that holds the `BY_COOPERATIVE` rows,
    as they will be, of every cooperative in those units, so that each of those units is
    whole; then, for a table whose new rows of those units do not take the places of the
    old ones (`_same_places`: returned), all its rows as they will be, in its order
    (`units.main.ordered_<n>`). After `_build_by_cooperative`, before the build's
    transaction; `_merge_by_unit` writes them in."""
    con.execute("attach ':memory:' as units")
    for schema in ("intermediate", "marts"):
        con.execute(f"create schema units.{schema}")
    con.execute("create or replace temp table unit_coops (coop_code varchar)")
    for n, (source, unit, _) in enumerate(BY_UNIT.values()):
        # The units a changed cooperative's rows were in, or are in now.
        con.execute(
            f"create or replace temp table affected_{n} as "  # noqa: S608  tables of this module
            f"select distinct row({unit}) as unit from {source} "
            "semi join changed_coops using (coop_code) "
            f"union select distinct row({unit}) from part.{source}"
        )
        # Every cooperative in those units now: the units are built again of all their rows.
        con.execute(
            f"insert into unit_coops select distinct coop_code from {_merged(source)} "  # noqa: S608  as above
            f"semi join affected_{n} a on row({unit}) is not distinct from a.unit"
        )
    reads = {table for model in wanted for table in model.reads}
    for table in sorted(reads):
        if table not in BY_COOPERATIVE:
            raise AssertionError(f"{table}: a mart of BY_UNIT reads only BY_COOPERATIVE tables")
        con.execute(
            f"create table units.{table} as select * from {_merged(table)} "  # noqa: S608  as above
            "semi join unit_coops using (coop_code)"
        )
    _run_in(con, "units", wanted)
    moved = set()
    for n, (table, (_, unit, order)) in enumerate(BY_UNIT.items()):
        new = f"(select * from units.{table} {_affected_rows(n, unit)})"  # noqa: S608  as above
        if _same_places(con, table, _affected_rows(n, unit), new, f"{unit}, year"):
            continue
        moved.add(table)
        con.execute(
            f"create table units.main.ordered_{n} as select * from ("  # noqa: S608  as above
            f"select * from {table} anti join affected_{n} a "
            f"on row({unit}) is not distinct from a.unit "
            f"union all select * from units.{table} semi join affected_{n} a "
            f"on row({unit}) is not distinct from a.unit) order by {order}"
        )
    return moved


def _affected_rows(n: int, unit: str) -> str:
    """The rows of the units built again in the `n`th table of `BY_UNIT`: what follows its
    name in a query."""
    return f"semi join affected_{n} a on row({unit}) is not distinct from a.unit"


def _merge_by_unit(con, moved: set[str]) -> None:
    """In the build's transaction: the rows of the units built again in each `BY_UNIT`
    table made those built in `units`, each in its place; where rows of the table are
    `moved`, every row again, in its order (its row ids follow it, as a whole build's)."""
    for n, (table, (_, unit, _)) in enumerate(BY_UNIT.items()):
        if table not in moved:
            rows = _affected_rows(n, unit)
            new = f"(select * from units.{table} {rows})"  # noqa: S608  tables of this module
            _update_in_place(con, table, rows, new, f"{unit}, year")
            continue
        con.execute(f"delete from {table}")  # noqa: S608  tables of this module
        # Made in that order (`_build_by_unit`), read in it: not sorted again.
        con.execute(f"insert into {table} select * from units.main.ordered_{n}")  # noqa: S608  tables of this module


def read_criteria(path: Path) -> dict[str, object]:
    """The criteria of config/replication_criteria.toml as the build's SQL variables. The
    rating is NFC text (an editor on macOS may save `Tốt` decomposed, which no rating would
    equal), and one of the contract's ratings, else an error naming the file and key rather
    than a criterion nobody meets."""
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    rating = clean(config["rating"]["required"])
    if rating not in RATINGS:
        raise ValueError(
            f"{path.name}: [rating] required = {config['rating']['required']!r} is no rating "
            f"(ratings: {', '.join(RATINGS)})"
        )
    return {
        "crit_profit_years": int(config["profit"]["consecutive_years"]),
        "crit_rating": rating,
        "crit_min_score": float(config["rating"]["min_score"]),
        "crit_market_link": bool(config["market_link"]["required"]),
    }


def _set_criteria(con, path: Path) -> None:
    for name, value in read_criteria(path).items():
        con.execute(f"set variable {name} = ?", [value])


TARGET_FIELDS = ("cooperatives_growth", "members_growth", "revenue_growth", "model_cooperatives")
_TARGET_CASTS = (
    "cooperatives_growth::double as cooperatives_growth, "
    "members_growth::double as members_growth, "
    "revenue_growth::double as revenue_growth, "
    "model_cooperatives::integer as model_cooperatives"
)


def _register_targets(con, path: Path) -> None:
    """The 2026-2030 targets of config/phase_targets.toml: `ref_phase_targets` per legacy
    district (`[default]`, `[district."<code>"]`; marts.phase_summary) and
    `ref_commune_targets` in the geography in force (`[commune_default]`, else `[default]`;
    `[province."<code>"]`, `[commune."<code>"]`; marts.commune_phase)."""
    import pandas as pd

    config = tomllib.loads(path.read_text(encoding="utf-8"))
    default = _targets(config.get("default", {}), "default", path, whole=True)
    rows = [{"district_code": None, **default}]
    for code, override in config.get("district", {}).items():
        rows.append({"district_code": code, **_targets(override, f"district.{code}", path)})
    frame = pd.DataFrame(rows, columns=["district_code", *TARGET_FIELDS]).astype(
        {"district_code": "object"}
    )
    create_from_frame(
        con,
        "ref_phase_targets",
        frame,
        f"district_code::varchar as district_code, {_TARGET_CASTS}",
    )
    own = _targets(config.get("commune_default", {}), "commune_default", path)
    communes = {**default, **{key: value for key, value in own.items() if value is not None}}
    rows = [{"level": "default", "unit_code": None, **communes}]
    for level in ("province", "commune"):
        for code, override in config.get(level, {}).items():
            found = _targets(override, f"{level}.{code}", path)
            rows.append({"level": level, "unit_code": str(code), **found})
    frame = pd.DataFrame(rows, columns=["level", "unit_code", *TARGET_FIELDS]).astype(
        {"level": "object", "unit_code": "object"}
    )
    create_from_frame(
        con,
        "ref_commune_targets",
        frame,
        f"level::varchar as level, unit_code::varchar as unit_code, {_TARGET_CASTS}",
    )


def _targets(found: object, table: str, path: Path, whole: bool = False) -> dict:
    """The targets a table of phase_targets.toml sets, the others None (`whole`: it must set
    every one, as `[default]` does). A key it does not know, or a value not a number, is an
    error naming the file and the table, rather than a target silently left out."""
    if not isinstance(found, dict):
        raise ValueError(f"{path.name}: [{table}] must be a table of targets")
    unknown = sorted(set(found) - set(TARGET_FIELDS))
    if unknown:
        raise ValueError(
            f"{path.name}: [{table}] sets {', '.join(unknown)}, which is no target "
            f"(targets: {', '.join(TARGET_FIELDS)})"
        )
    missing = [f for f in TARGET_FIELDS if f not in found] if whole else []
    if missing:
        raise ValueError(f"{path.name}: [{table}] lacks {', '.join(missing)}")
    for key, value in found.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{path.name}: [{table}] {key} = {value!r} is not a number")
    return {f: found.get(f) for f in TARGET_FIELDS}


def _register_ratings(con, mix: tuple[tuple[str, str], ...] = RATING_MIX) -> None:
    """`ref_ratings` (rating, mart_column): the column of the marts' rating mix that counts
    each rating of the suite (`etl.contract.layout.RATING_MIX`), so that no SQL spells one."""
    con.execute("create or replace temp table ref_ratings (rating varchar, mart_column varchar)")
    con.executemany(
        "insert into ref_ratings values (?, ?)", [(rating, column) for column, rating in mix]
    )


def _register_reporting(con) -> None:
    """`ref_reporting`: the required reports of config/reporting.toml, judged at the logical
    date of the run that builds (etl.quality.deadlines; not part of the fingerprint), and
    `ref_reporting_arrivals`: when each recorded file first arrived."""
    from etl.quality import deadlines

    deadlines.register(con, deadlines.judging_date())


def _register_unmatched(con) -> None:
    """`ref_crosswalk_unmatched` for the marts: the former communes the crosswalk links to no
    new commune, as the load step kept them in the build (`audit.crosswalk_unmatched`, made
    empty where a database has none)."""
    run_sql_file(con, SQL_DIR / "ddl" / "audit" / "crosswalk_unmatched.sql")
    con.execute(
        "create or replace temp view ref_crosswalk_unmatched as "
        "select * from audit.crosswalk_unmatched"
    )


def _register_first_half(con) -> None:
    """`ref_first_half_districts` for the marts: per cooperative, the district whose report of
    the first half of 2025 names it (the lowest code of several, of the winning report's
    province), also where the province's report outranks it, from what the load step kept of
    staging (`audit.report_precedence`; none where a database has no such table)."""
    kept = scalar(
        con,
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'audit' and table_name = 'report_precedence'",
    )
    # Named with its database: the view is read while another one may be the default.
    database = scalar(con, "select current_database()").replace('"', '""')
    source = f'"{database}".audit.report_precedence' if kept else _NO_PRECEDENCE
    con.execute(_FIRST_HALF.format(source=source))


# `_register_first_half`'s view, and its source in a database without the kept staging.
# A district of the winning report's province only: a Hà Nội district's report naming a
# cooperative Lâm Đồng's report wins gives it no district of 2025.
_FIRST_HALF = (
    "create or replace temp view ref_first_half_districts as "
    "select p.coop_code, p.report_year as year, min(p.unit_code) as district_code "
    "from {source} as p inner join (select distinct coop_code, report_year, "
    "unit_province_code from {source} where wins) as w on p.coop_code = w.coop_code "
    "and p.report_year = w.report_year "
    "and p.unit_province_code is not distinct from w.unit_province_code "
    "where p.report_year = 2025 and p.unit_level = 'district' "
    "group by p.coop_code, p.report_year"
)
_NO_PRECEDENCE = (
    "(select null::varchar as coop_code, null::integer as report_year, "
    "null::varchar as unit_code, null::varchar as unit_level, "
    "null::varchar as unit_province_code, null::boolean as wins where false)"
)


def _row_counts(con, built: list) -> dict[str, int]:
    """Rows in each of these models' tables, for the log and the task's result (one query)."""
    if not built:
        return {}
    counts = ", ".join(f"(select count(*) from {m.table})" for m in built)  # noqa: S608  model names from sql/
    row = con.execute(f"select {counts}").fetchone()
    return {m.table: int(n) for m, n in zip(built, row, strict=True)}
