"""A warehouse built run after run equals the warehouse built from scratch over the same files.

Issue 17, point 3. The build keeps its inputs between runs (`etl.warehouse.build`): the
reference tables (`state/cache/reference-<key>.duckdb`) and the staged store
(`state/cache/staged.duckdb`, the staged rows of every loaded file, updated by the files
that came, left or were staged again). Whatever a sequence of runs did to them, the warehouse
and its exports must be the ones a fresh state directory makes of the final landing folder
in one run: compared table by table, in every schema.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import HTX_HEADER, htx_row, info_rows, logged, query, run_steps, write_xlsx

from etl.config import settings_under
from etl.flow.tasks import Selection
from etl.quality.validate import cross_rules
from etl.warehouse import build, ledger, reference_tables

# Columns that name the run that wrote a row, not what the files say: left out of the
# comparison, and only these.
RUN_SPECIFIC = {
    "audit.build_info": ("built_at", "run_id"),  # when and by which run the build was made
    "audit.file_ingestion": (
        "run_id",  # the run that recorded the file last
        "ingested_at",  # when the file arrived
        "landed_at",  # when it landed in the landing folder (its modification time)
        "raw_path",  # the raw copy, under the state directory
    ),
    "audit.file_sighting": ("first_seen",),  # when the file was first seen
    # The day a required report arrived and the day the run judged the reports: the runs'
    # dates (both builds are made the same day, so the status they decide is compared).
    "marts.reporting_status": ("arrived_on", "judged_on"),
}
# Tables that are the history of the runs themselves: one alert per run that raised one.
RUN_HISTORY = ("audit.quality_alert",)
# Rows that are: the warnings across files and years (`cross_rules`), which each run stores
# for its own files only (a new file adds no warnings to files of earlier runs but where the
# contract names the file warned: `ledger.replace_cross_findings`), so which file carries one
# may depend on the order the files came in. Every other finding is compared.
RUN_HISTORY_ROWS = {"audit.rejected_row": "not list_contains($cross, rule)"}
# The same, in the exported Parquet files.
EXPORT_RUN_SPECIFIC = {"marts.reporting_status.parquet": RUN_SPECIFIC["marts.reporting_status"]}


def _settings(root: Path, cell_chars: int = 32_767):
    """Settings under `root`, batches of 10 files; `cell_chars` is a limit, part of the
    staging stamp: another value restages every recorded file, as an upgrade does."""
    return settings_under(root, HTX_BATCH_SIZE="10", HTX_MAX_CELL_CHARS=str(cell_chars))


def _contents(warehouse: Path) -> dict[str, list[tuple] | None]:
    """Every table of every schema: its rows, sorted, without the run-specific columns
    (None for the run history tables, whose presence alone is compared)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        columns: dict[str, list[str]] = {}
        for table, column in con.execute(
            "select schema_name || '.' || table_name, column_name from duckdb_columns() "
            "where database_name = current_database() order by table_name, column_index"
        ).fetchall():
            columns.setdefault(table, []).append(column)
        for table, left_out in RUN_SPECIFIC.items():
            assert set(left_out) <= set(columns[table]), f"{table} has no {left_out}"
        assert set(RUN_HISTORY) <= set(columns)
        found: dict[str, list[tuple] | None] = {}
        for table, names in sorted(columns.items()):
            if table in RUN_HISTORY:
                found[table] = None
                continue
            kept = [f'"{c}"' for c in names if c not in RUN_SPECIFIC.get(table, ())]
            rows = RUN_HISTORY_ROWS.get(table, "true")
            found[table] = con.execute(
                f"select {', '.join(kept)} from {table} where {rows} order by all",
                {"cross": cross_rules()} if "$cross" in rows else {},
            ).fetchall()
        return found
    finally:
        con.close()


def _exports(folder: Path) -> dict[str, object]:
    """The exported tables (Parquet, rows sorted, run-specific columns left out) and every
    sheet of the officials' workbook, cell by cell."""
    from python_calamine import CalamineWorkbook

    con = duckdb.connect()
    found: dict[str, object] = {}
    for path in sorted((folder / "parquet").glob("*.parquet")):
        names = [
            r[0] for r in con.execute(f"describe select * from read_parquet('{path}')").fetchall()
        ]
        kept = [f'"{c}"' for c in names if c not in EXPORT_RUN_SPECIFIC.get(path.name, ())]
        found[path.name] = con.execute(
            f"select {', '.join(kept)} from read_parquet('{path}') order by all"
        ).fetchall()
    book = CalamineWorkbook.from_path(str(folder / "marts.xlsx"))
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python()
        if name == "reporting_status":  # the run-specific dates, by their header
            header = rows[0]
            dates = [i for i, h in enumerate(header) if _is_run_date(h)]
            assert len(dates) == 2, header
            rows = [[v for i, v in enumerate(row) if i not in dates] for row in rows]
        found[f"marts.xlsx:{name}"] = rows
    return found


def _is_run_date(header: str) -> bool:
    from etl.config import labels_vi

    labels = labels_vi()
    return header in {labels.get(c, c) for c in RUN_SPECIFIC["marts.reporting_status"]}


def _assert_same(ran: dict, scratch: dict) -> None:
    assert sorted(ran) == sorted(scratch)
    differ = []
    for table in sorted(scratch):
        if ran[table] == scratch[table]:
            continue
        if isinstance(ran[table], list) and isinstance(scratch[table], list):
            extra = [r for r in ran[table] if r not in scratch[table]][:3]
            missing = [r for r in scratch[table] if r not in ran[table]][:3]
            differ.append(f"{table}: only run by run {extra}; only from scratch {missing}")
        else:
            differ.append(table)
    assert not differ, "\n".join(differ)


def _loaded(settings) -> list[tuple[int, str]]:
    con = ledger.connect(settings.ledger, read_only=True)
    try:
        return ledger.loaded_files(con)
    finally:
        con.close()


def _assert_store_holds_the_loaded_files(settings) -> None:
    """The staged store holds the rows of exactly the loaded files, each with the digest and
    stamp the ledger records, and no row of any other file."""
    con = ledger.connect(settings.ledger, read_only=True)
    try:
        recorded = sorted(
            con.execute(
                "select file_id, staged_digest, staged_by from audit.file_ingestion "
                "where status = 'loaded' order by file_id"
            ).fetchall()
        )
    finally:
        con.close()
    store = duckdb.connect(str(build.store_path(settings)), read_only=True)
    try:
        held = store.execute(
            "select file_id, staged_digest, staged_by from files order by file_id"
        ).fetchall()
        with_rows = {
            file_id
            for sheet in ("htx", "hotro", "ocop", "lienket")
            for (file_id,) in store.execute(f"select distinct file_id from stg_{sheet}").fetchall()
        }
    finally:
        store.close()
    assert held == recorded
    assert with_rows <= {file_id for file_id, _, _ in recorded}


def _sample_by_year(sample_landing) -> tuple[Path, dict[int, list[Path]], set[str]]:
    """The province sample's folder, its files by report year, and the names of its two
    resubmissions (one superseding, one broken)."""
    source, files = sample_landing
    by_year: dict[int, list[Path]] = {}
    for item in files:
        by_year.setdefault(item.report_year, []).append(item.path)
    return source, by_year, {"663_2023_bosung.xlsx", "665_2024_sua.xlsx"}


def _lander(landing: Path):
    """A function that copies workbooks into the (new) landing folder."""
    landing.mkdir(parents=True)

    def land(paths) -> None:
        for path in paths:
            shutil.copy2(path, landing / path.name)

    return land


def test_runs_of_new_files_resubmissions_duplicates_and_reprocessing_build_what_one_run_builds(
    sample_landing, tmp_path, monkeypatch
):
    from etl.warehouse.staging import staged_folder

    source, by_year, resubmissions = _sample_by_year(sample_landing)
    settings = _settings(tmp_path / "runs")
    landing = settings.landing_dir
    land = _lander(landing)

    read: list[int] = []

    def reading(outcome: dict) -> str:
        read.append(outcome["file_id"])
        return staged_folder(outcome)

    # The store asks where a file's staged rows are once per file it reads them of.
    monkeypatch.setattr(build, "staged_folder", reading)

    def reads() -> int:
        """How many files' staged rows the builds since the last call read."""
        found = len(read)
        read.clear()
        return found

    def clean(year: int) -> list[Path]:
        return [p for p in by_year[year] if p.name not in resubmissions]

    # 1. The first two years.
    land(clean(2021) + clean(2022))
    assert run_steps(settings, "run-1")["changed"]
    assert reads() == 16
    _assert_store_holds_the_loaded_files(settings)
    # 2. Two more years, and a copy of a file already loaded under another name.
    land(clean(2023) + clean(2024))
    shutil.copy2(source / "663_2021.xlsx", landing / "663_2021_ban_sao.xlsx")
    assert run_steps(settings, "run-2")["changed"]
    assert reads() == 16
    # 3. A resubmission that supersedes a loaded file, one that is quarantined, and the
    # province report of 2025.
    land([source / name for name in sorted(resubmissions)] + by_year[2025])
    assert run_steps(settings, "run-3")["changed"]
    assert reads() == 2
    _assert_store_holds_the_loaded_files(settings)
    statuses = dict(query(settings, "select file_name, status from audit.file_ingestion"))
    assert statuses["663_2023.xlsx"] == "superseded"
    assert statuses["663_2023_bosung.xlsx"] == "loaded"
    assert statuses["665_2024_sua.xlsx"] == "quarantined"
    assert statuses["663_2021_ban_sao.xlsx"] == "duplicate"
    # 4. District 663 reprocessed on request: the same rows, staged again.
    run_steps(settings, "run-4", Selection(unit_code="663", force=True))
    assert reads() == 0  # the same rows (the same digests): every stored file kept
    _assert_store_holds_the_loaded_files(settings)
    # 5. The reports of 2026, with other limits: every recorded file is staged again by
    # other "rules" (an upgrade), so every stored file is replaced.
    land(by_year[2026])
    settings = _settings(tmp_path / "runs", cell_chars=32_000)
    assert run_steps(settings, "run-5")["changed"]
    assert reads() == len(_loaded(settings)) == 38
    _assert_store_holds_the_loaded_files(settings)
    # 6. A resubmission of one unit and year after all that: one file read.
    rows = [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "6400000002")]
    write_xlsx(
        landing / "663_2024_lan2.xlsx",
        {"ThongTin": info_rows("663", 2024, dt.date(2025, 3, 1)), "HTX": rows},
    )
    assert run_steps(settings, "run-6")["changed"]
    assert reads() == 1
    _assert_store_holds_the_loaded_files(settings)

    scratch = _settings(tmp_path / "scratch", cell_chars=32_000)
    shutil.copytree(landing, scratch.landing_dir)
    assert run_steps(scratch, "scratch")["changed"]
    _assert_same(_contents(settings.warehouse), _contents(scratch.warehouse))
    _assert_same(_exports(settings.export_dir), _exports(scratch.export_dir))


def _core(warehouse: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            table: con.execute(f"select * from {table} order by all").fetchall()
            for table in (f"core.{name}" for name in build.CORE_MODELS)
        }
    finally:
        con.close()


def _workbook(settings, name: str, year: int, codes: list[str]) -> None:
    rows = [HTX_HEADER] + [htx_row(i, c) for i, c in enumerate(codes, 1)]
    write_xlsx(settings.landing_dir / name, {"ThongTin": info_rows("663", year), "HTX": rows})


def _damage(kind: str, settings) -> None:
    path = build.store_path(settings)
    if kind == "unreadable":
        path.write_bytes(b"not a DuckDB file" * 100)
        return
    con = duckdb.connect(str(path))
    try:
        if kind == "other key":
            con.execute("update store_info set key = 'another release'")
        elif kind == "stale digest":
            # A file's rows changed while its digest says they did not: a stored digest
            # unlike the ledger's makes the file be read again.
            con.execute("update stg_htx set members = members + 1")
            con.execute("update files set staged_digest = 'older'")
        elif kind == "rows of no file":
            con.execute(
                "insert into stg_htx select * replace (file_id + 1 as file_id) from stg_htx"
            )
        elif kind == "file missing":
            con.execute("delete from files")
    finally:
        con.close()


@pytest.mark.parametrize(
    "kind",
    ["missing", "unreadable", "other key", "stale digest", "rows of no file", "file missing"],
)
def test_a_missing_damaged_or_stale_store_never_changes_the_build(settings, kind):
    _workbook(settings, "663_2022.xlsx", 2022, ["6400000001", "6400000002"])
    _workbook(settings, "663_2023.xlsx", 2023, ["6400000001", "6400000003"])
    from etl.flow import tasks

    staged = tasks.stage(settings, tasks.discover_files(settings), "run-1")
    assert tasks.load(settings, staged, "run-1")["changed"]  # the build, not published
    expected = _core(build.build_path(settings))
    loaded = _loaded(settings)
    if kind == "missing":
        build.store_path(settings).unlink()
    else:
        _damage(kind, settings)
    build.load_star_schema(settings, loaded)
    assert _core(build.build_path(settings)) == expected
    _assert_store_holds_the_loaded_files(settings)


def test_a_load_counts_each_files_rows_in_the_facts_on_the_open_build(settings, monkeypatch):
    """The rows each file has in the facts (`audit.file_ingestion.rows_loaded`) are counted
    on the connection that loads the star schema, not on another open of the build file
    (issue 17: on the one-file path an open of the build costs 30-70 ms)."""
    _workbook(settings, "663_2022.xlsx", 2022, ["6400000001", "6400000002"])
    _workbook(settings, "663_2023.xlsx", 2023, ["6400000001", "6400000002", "6400000003"])
    from etl.flow import tasks

    staged = tasks.stage(settings, tasks.discover_files(settings), "run-1")
    opened: list[str] = []
    connect = duckdb.connect

    def spied(database=":memory:", *args, **kwargs):
        opened.append(str(database))
        return connect(database, *args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", spied)
    assert tasks.load(settings, staged, "run-1")["changed"]
    monkeypatch.undo()
    # Loaded, sealed, and read for the Data Docs (in this process: no warm validator).
    assert opened.count(str(build.build_path(settings))) == 3
    con = duckdb.connect(str(build.build_path(settings)), read_only=True)
    try:
        in_facts = con.execute(
            "select file_id, count(*) from core.fact_cooperative_year group by all order by all"
        ).fetchall()
    finally:
        con.close()
    con = ledger.connect(settings.ledger, read_only=True)
    try:
        # By name: a file id comes from the content's hash (the workbook's save time in it).
        recorded = con.execute(
            "select file_id, file_name, rows_loaded from audit.file_ingestion order by file_name"
        ).fetchall()
    finally:
        con.close()
    assert sorted((file_id, n) for file_id, _, n in recorded) == in_facts
    assert [(name, n) for _, name, n in recorded] == [("663_2022.xlsx", 2), ("663_2023.xlsx", 3)]


def test_the_reference_tables_from_the_cache_are_the_computed_ones(settings):
    cache = build.cache_dir(settings)

    def tables(cached: bool) -> dict[str, list[tuple]]:
        con = duckdb.connect()
        try:
            reference_tables.register(con, cache if cached else None)
            return {
                name: (
                    con.execute(f"describe {name}").fetchall(),
                    con.execute(f"select * from {name}").fetchall(),
                )
                for name in reference_tables.REFERENCE_TABLES
            }
        finally:
            con.close()

    computed = tables(cached=False)
    assert not list(cache.glob("reference-*.duckdb"))
    assert tables(cached=True) == computed  # computed, then stored
    (stored,) = cache.glob("reference-*.duckdb")
    assert tables(cached=True) == computed  # read back
    stored.write_bytes(b"garbage")
    assert tables(cached=True) == computed  # unreadable: computed again
    assert list(cache.glob("reference-*.duckdb")) == [stored]


def test_the_crosswalk_match_rates_are_one_line_whether_computed_or_cached(settings):
    """A build logs the national match rate once, with the former provinces that have
    unmatched communes (how many each); one line per province only at debug. Before: 65
    lines at info on every build."""
    cache = build.cache_dir(settings)

    def register(level: int) -> list[str]:
        con = duckdb.connect()
        try:
            with logged("etl.warehouse.reference_tables", level) as said:
                reference_tables.register(con, cache)
        finally:
            con.close()
        return said

    computed = register(logging.INFO)  # computed and stored
    assert register(logging.INFO) == computed  # read back
    [line] = computed
    assert line.startswith("crosswalk: ")
    assert " former communes matched nationally (" in line
    assert "(by former province 02: 4, 04: 2, " in line  # Hà Giang 189 of 193, Cao Bằng …
    assert line.endswith("; audit.crosswalk_unmatched)")
    detail = register(logging.DEBUG)
    assert "crosswalk: province 02, 189 of 193 former communes matched" in detail
    assert detail[-1] == line


def test_htx_init_prepares_the_reference_tables_a_build_then_reads(settings, monkeypatch, caplog):
    """`htx init` computes the reference tables into the cache (they depend on no
    workbook); a second init and the build find them there and compute nothing."""
    import logging

    from etl.cli import main

    monkeypatch.setattr(main, "init_airflow", lambda s: None)  # Airflow's part: its own tests
    monkeypatch.setattr(main, "load_settings", lambda: settings)
    cache = build.cache_dir(settings)
    assert not list(cache.glob("reference-*.duckdb"))
    with caplog.at_level(logging.INFO):
        assert main.cmd_init(None) == 0
    (stored,) = cache.glob("reference-*.duckdb")
    assert "reference tables computed into" in caplog.text
    made = stored.stat().st_mtime_ns
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert main.cmd_init(None) == 0
        assert build.prepare_reference(settings) is False
    assert "reference tables ready in" in caplog.text
    monkeypatch.setattr(
        reference_tables, "_compute", lambda *a: pytest.fail("computed again by the build")
    )
    _workbook(settings, "663_2022.xlsx", 2022, ["6400000001", "6400000002"])
    from etl.flow import tasks

    staged = tasks.stage(settings, tasks.discover_files(settings), "run-1")
    assert tasks.load(settings, staged, "run-1")["changed"]
    assert list(cache.glob("reference-*.duckdb")) == [stored]
    assert stored.stat().st_mtime_ns == made


def test_a_build_from_the_published_warehouse_equals_one_built_whole_after_every_run(
    sample_landing, tmp_path, monkeypatch
):
    """Issue 17, point 3: a build that starts from the published warehouse and builds only
    the cooperatives of the files that came, left or were staged again (the core tables,
    `build._rebuild_cooperatives`, and the marts of `BY_COOPERATIVE`) holds, after every
    run of a sequence of new files, resubmissions, a new cooperative version, a cooperative
    that leaves and forced reprocessing, what a fresh state directory builds whole of the
    same landing folder, and exports the same files."""
    source, by_year, resubmissions = _sample_by_year(sample_landing)
    settings = _settings(tmp_path / "runs")
    landing = settings.landing_dir
    land = _lander(landing)
    rebuilt: list[int] = []
    rebuild = build._rebuild_cooperatives
    marts_of: list[int] = []
    by_cooperative = build._build_by_cooperative

    def spied(con, core):
        rebuilt.append(rebuild(con, core))
        return rebuilt[-1]

    def spied_marts(con, wanted, changed):
        marts_of.append(len(changed))
        return by_cooperative(con, wanted, changed)

    monkeypatch.setattr(build, "_rebuild_cooperatives", spied)
    monkeypatch.setattr(build, "_build_by_cooperative", spied_marts)

    def clean(year: int) -> list[Path]:
        return [p for p in by_year[year] if p.name not in resubmissions]

    def same_as_whole(step: str) -> None:
        scratch = _settings(tmp_path / f"scratch-{step}")
        shutil.copytree(landing, scratch.landing_dir)
        assert run_steps(scratch, "scratch")["changed"]
        _assert_same(_contents(settings.warehouse), _contents(scratch.warehouse))
        # The officials' workbook too, row by row in each sheet's order.
        _assert_same(_exports(settings.export_dir), _exports(scratch.export_dir))

    def coops() -> int:
        return query(settings, "select count(distinct coop_code) from core.dim_cooperative")[0][0]

    land(clean(2021) + clean(2022))
    assert run_steps(settings, "run-1")["changed"]
    assert rebuilt == []  # nothing published yet: built whole
    land(clean(2023))
    assert run_steps(settings, "run-2")["changed"]
    assert len(rebuilt) == 1
    assert 0 < rebuilt[-1] <= coops()
    same_as_whole("2")
    # A resubmission that supersedes a loaded file (its rows leave, the new ones come), a
    # broken one, and the province report of 2025.
    land([source / name for name in sorted(resubmissions)] + by_year[2025])
    assert run_steps(settings, "run-3")["changed"]
    assert len(rebuilt) == 2
    same_as_whole("3")
    # One unit's 2024 report again: a cooperative renamed (a new version), one gone, one new.
    rows = [
        HTX_HEADER,
        htx_row(1, "6400000001", **{"Tên HTX": "HTX Đổi Tên"}),
        htx_row(2, "6400000777"),
    ]
    write_xlsx(
        landing / "663_2024_lan2.xlsx",
        {"ThongTin": info_rows("663", 2024, dt.date(2025, 3, 1)), "HTX": rows},
    )
    assert run_steps(settings, "run-4")["changed"]
    assert len(rebuilt) == 3
    assert rebuilt[-1] < coops()
    same_as_whole("4")
    # District 663 reprocessed on request: the same rows, nothing to build.
    assert not run_steps(settings, "run-5", Selection(unit_code="663", force=True))["changed"]
    # The reports of 2024 and 2026: many units at once.
    land(clean(2024) + by_year[2026])
    assert run_steps(settings, "run-6")["changed"]
    assert len(rebuilt) == 4
    same_as_whole("6")
    # A 2026 report of a commune that names a cooperative the crosswalk placed in another
    # commune: it moves, so marts.commune_year changes in the commune it leaves (a unit of
    # no changed row of the new build) and in the one it joins.
    moved, left, province = query(
        settings,
        "select coop_code, new_commune_code, new_province_code "
        "from intermediate.cooperative_placement where placement = 'crosswalk' "
        "order by coop_code limit 1",
    )[0]
    reported = {p.name.split("_")[0] for p in landing.glob("*_2026*.xlsx")}
    joined = query(
        settings,
        "select min(new_commune_code) from marts.commune_year where new_province_code = ? "
        "and new_commune_code <> ? and not list_contains(?, new_commune_code)",
        [province, left, sorted(reported)],
    )[0][0]
    _htx_workbook(settings, f"{joined}_2026.xlsx", joined, 2026, [moved], None)
    assert run_steps(settings, "run-7")["changed"]
    assert query(
        settings,
        "select new_commune_code, placement from intermediate.cooperative_placement "
        "where coop_code = ?",
        [moved],
    ) == [(joined, "reported")]
    same_as_whole("7")
    assert marts_of == rebuilt  # the marts of the same cooperatives built again


def _count_rebuilds(monkeypatch) -> list[int]:
    """A list that gets a 1 each time a build rebuilds cooperatives of the published
    warehouse (`build._rebuild_cooperatives`) instead of building whole."""
    calls: list[int] = []
    rebuild = build._rebuild_cooperatives
    monkeypatch.setattr(
        build, "_rebuild_cooperatives", lambda con, core: calls.append(1) or rebuild(con, core)
    )
    return calls


def test_a_published_warehouse_of_another_recipe_is_not_built_upon(settings, monkeypatch):
    """Another recipe (SQL, configuration, reference, suites or code changed), a store
    that is not the published warehouse's inputs, or a store made again whole: the star
    schema is built whole."""
    calls = _count_rebuilds(monkeypatch)
    _workbook(settings, "663_2022.xlsx", 2022, ["6400000001", "6400000002"])
    assert run_steps(settings, "run-1")["changed"]
    _workbook(settings, "663_2023.xlsx", 2023, ["6400000001", "6400000003"])
    monkeypatch.setattr(build, "_recipe", lambda: "another recipe")
    assert run_steps(settings, "run-2")["changed"]
    assert calls == []  # built whole
    assert query(settings, "select recipe from audit.build_info") == [("another recipe",)]
    _workbook(settings, "663_2024.xlsx", 2024, ["6400000001", "6400000004"])
    store = duckdb.connect(str(build.store_path(settings)))
    try:
        store.execute("update files set staged_digest = 'not what was built'")
    finally:
        store.close()
    assert run_steps(settings, "run-3")["changed"]
    assert calls == []  # built whole
    _workbook(settings, "663_2021.xlsx", 2021, ["6400000005"])
    assert run_steps(settings, "run-4")["changed"]
    assert calls == [1]  # the published warehouse is the store's again: built upon
    assert query(settings, "select count(distinct coop_code) from core.dim_cooperative") == [(5,)]


def test_a_store_made_again_during_a_build_from_the_published_one_builds_whole(
    settings, monkeypatch
):
    """The store passed for the published warehouse's inputs, then could not be updated
    (made again whole): what changed is unknown, so the star schema is built whole, and
    holds what a fresh build holds."""
    _workbook(settings, "663_2022.xlsx", 2022, ["6400000001", "6400000002"])
    assert run_steps(settings, "run-1")["changed"]
    _workbook(settings, "663_2023.xlsx", 2023, ["6400000001", "6400000003"])
    bases: list[bool] = []
    published_base = build._published_base
    monkeypatch.setattr(
        build, "_published_base", lambda s: bases.append(published_base(s)) or bases[-1]
    )
    calls = _count_rebuilds(monkeypatch)
    sync = build._sync_store
    failed: list[bool] = []

    def once(con, settings, whole, known=None):
        if not failed:
            failed.append(True)
            raise build._StoreMismatch("1 file(s) not as loaded")
        return sync(con, settings, whole, known)

    monkeypatch.setattr(build, "_sync_store", once)
    assert run_steps(settings, "run-2")["changed"]
    assert bases == [True]  # the published warehouse was the store's inputs
    assert failed == [True]
    assert calls == []  # then built whole
    assert not build.changed_cooperatives_path(settings).exists()
    scratch = _settings(settings.state_dir.parent / "scratch")
    shutil.copytree(settings.landing_dir, scratch.landing_dir)
    assert run_steps(scratch, "scratch")["changed"]
    _assert_same(_contents(settings.warehouse), _contents(scratch.warehouse))


def test_a_published_warehouse_written_to_since_its_swap_is_not_built_upon(settings, monkeypatch):
    """Someone changed a fact in the published file (it is the analysts' to read only): the
    next build does not start from it, and the change is gone."""
    calls = _count_rebuilds(monkeypatch)
    _workbook(settings, "663_2022.xlsx", 2022, ["6400000001", "6400000002"])
    assert run_steps(settings, "run-1")["changed"]
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute("update core.fact_cooperative_year set members = members + 1000")
    finally:
        con.close()
    _workbook(settings, "663_2023.xlsx", 2023, ["6400000001", "6400000003"])
    assert run_steps(settings, "run-2")["changed"]
    assert calls == []  # built whole
    scratch = _settings(settings.state_dir.parent / "scratch")
    shutil.copytree(settings.landing_dir, scratch.landing_dir)
    assert run_steps(scratch, "scratch")["changed"]
    _assert_same(_contents(settings.warehouse), _contents(scratch.warehouse))
    _workbook(settings, "663_2024.xlsx", 2024, ["6400000001", "6400000004"])
    assert run_steps(settings, "run-3")["changed"]
    assert calls == [1]  # the file published by run 2, unchanged: built upon


def test_marts_of_a_build_loaded_with_another_recipe_are_built_whole(settings, monkeypatch):
    """Code deployed between a build's load (from the published warehouse) and its publish:
    the marts are built whole by the new code, not merged with rows of the old."""
    calls: list[int] = []
    by_cooperative = build._build_by_cooperative
    monkeypatch.setattr(
        build,
        "_build_by_cooperative",
        lambda con, wanted, changed: calls.append(1) or by_cooperative(con, wanted, changed),
    )
    _workbook(settings, "663_2022.xlsx", 2022, ["6400000001", "6400000002"])
    assert run_steps(settings, "run-1")["changed"]
    _workbook(settings, "663_2023.xlsx", 2023, ["6400000001", "6400000003"])
    from etl.flow import tasks

    staged = tasks.stage(settings, tasks.discover_files(settings), "run-2")
    assert tasks.load(settings, staged, "run-2")["changed"]
    assert build.changed_cooperatives_path(settings).exists()  # loaded from the published one
    monkeypatch.setattr(build, "_recipe", lambda: "the next release")
    tasks.alert(settings)
    assert tasks.publish_build(settings)["published"]
    assert calls == []  # built whole
    scratch = _settings(settings.state_dir.parent / "scratch")
    shutil.copytree(settings.landing_dir, scratch.landing_dir)
    assert run_steps(scratch, "scratch")["changed"]
    ran, whole = _contents(settings.warehouse), _contents(scratch.warehouse)
    assert {t: r for t, r in ran.items() if t.startswith("marts.")} == {
        t: r for t, r in whole.items() if t.startswith("marts.")
    }


def test_htx_init_without_a_writable_cache_still_sets_up_airflow(settings, monkeypatch):
    """The reference tables are only a head start: `htx init` that cannot prepare them
    (a state folder it cannot write, say) warns and succeeds."""
    from etl.cli import main

    airflow: list[bool] = []
    monkeypatch.setattr(main, "init_airflow", lambda s: airflow.append(True))
    monkeypatch.setattr(main, "load_settings", lambda: settings)

    def refused(_settings):
        raise PermissionError("read-only state folder")

    monkeypatch.setattr(build, "prepare_reference", refused)
    assert main.cmd_init(None) == 0
    assert airflow == [True]


def _htx_workbook(settings, name: str, unit: str, year: int, coops: list[str], commune) -> None:
    rows = [HTX_HEADER] + [
        htx_row(i, code, **{"Xã/Phường": commune}) for i, code in enumerate(coops, 1)
    ]
    write_xlsx(settings.landing_dir / name, {"ThongTin": info_rows(unit, year), "HTX": rows})


def _warnings(cross) -> list[tuple]:
    """The warnings across files of a build, with their causes, in one order."""
    causes = getattr(cross, "causes", {})
    return sorted(
        (file_id, repr(finding), causes.get((file_id, index), ()))
        for file_id, found in cross.items()
        for index, finding in enumerate(found)
    )


def test_a_build_from_the_published_warehouse_asks_the_commune_names_it_reads_only(
    settings, monkeypatch
):
    """A build copied from the published warehouse asks the candidates of a commune name
    (`ref_commune_candidates`) for the rows of the cooperatives it builds again and of the
    files whose warnings across files are wanted only, not for every staged row, and finds
    the warnings a build made whole finds: the 2025 province report, checked again with a
    2026 commune report, keeps its warning on a name several communes fit, on a cooperative
    the 2026 report does not name."""
    coops = [f"640000000{i}" for i in range(1, 5)]
    _htx_workbook(settings, "68_2025.xlsx", "68", 2025, coops, "Tân Thành")
    _htx_workbook(settings, "663_2024.xlsx", "663", 2024, coops, "Nâm Nung")
    _htx_workbook(settings, "664_2025.xlsx", "664", 2025, ["6400000009"], "Nâm Nung")
    assert run_steps(settings, "run-1")["changed"]
    _htx_workbook(settings, "24611_2026.xlsx", "24611", 2026, coops[:1], None)
    calls = _count_rebuilds(monkeypatch)
    asked: list[int] = []
    cached = reference_tables.candidates_cached

    def spied(triples, cache):
        asked.append(len(triples))
        return cached(triples, cache)

    monkeypatch.setattr(reference_tables, "candidates_cached", spied)
    found: list = []
    load = build.load_star_schema

    def both(settings, loaded, run_files=None, outcomes=None):
        found.append(load(settings, loaded, run_files, outcomes))
        found.append(load(settings, loaded, run_files, outcomes, whole=True))
        return found[-1]

    monkeypatch.setattr(build, "load_star_schema", both)
    assert run_steps(settings, "run-2")["changed"]
    assert calls == [1]  # the first of the two built upon the published warehouse
    (_, from_published, in_facts), (_, whole, in_facts_whole) = found
    assert _warnings(from_published) == _warnings(whole)
    assert in_facts == in_facts_whole
    province = query(settings, "select file_id from audit.file_ingestion where unit_code = '68'")
    rules = {f.rule for f in from_published.get(province[0][0], [])}
    assert "commune_ambiguous" in rules
    assert len(asked) == 2
    assert asked[0] < asked[1]  # fewer names asked than every staged row gives


def test_a_new_report_in_warnings_across_files_finds_what_the_checks_over_every_file_find(
    settings, tmp_path, monkeypatch
):
    """The bench's one-file case: after a whole run, one new unit-year (a 2026 commune
    report) that takes part in warnings across files of other files' rows: a cooperative
    another commune of the same year reports (coop_code_in_two_units), and its province's
    2026 total against 2025 (unit_count_change, counted over every report of the province's
    area). Its build, from the published warehouse, checks only what the new file can
    change; the warnings the run records (`for_run`) are those of the checks over every
    file, and the warehouse is the one a whole build of the same files makes."""
    from etl.quality import validate

    A, B, C, D, E = (f"640000000{i}" for i in range(1, 6))
    _htx_workbook(settings, "68_2025.xlsx", "68", 2025, [A, B, C, D], None)
    _htx_workbook(settings, "68_2026.xlsx", "68", 2026, [A], None)
    _htx_workbook(settings, "24604_2026.xlsx", "24604", 2026, [E], None)
    assert run_steps(settings, "run-1")["changed"]
    _htx_workbook(settings, "24611_2026.xlsx", "24611", 2026, [A, E], None)
    calls = _count_rebuilds(monkeypatch)
    runs: list[tuple[dict, dict]] = []  # per build: what the run records, restricted or not
    checks = validate.check_warehouse

    def both(con, run_files=None):
        restricted = checks(con, run_files)
        assert run_files is not None
        everything = checks(con)
        runs.append(
            (validate.for_run(restricted, run_files), validate.for_run(everything, run_files))
        )
        return restricted

    monkeypatch.setattr(validate, "check_warehouse", both)
    assert run_steps(settings, "run-2")["changed"]
    assert calls == [1]  # built upon the published warehouse
    [(mine, over_every_file)] = runs
    assert _warnings(mine) == _warnings(over_every_file)

    def found(unit: str) -> set[tuple]:
        sql = "select file_id from audit.file_ingestion where unit_code = ? and report_year = 2026"
        [(file_id,)] = query(settings, sql, [unit])
        return {(f.rule, f.value) for f in mine.get(file_id, [])}

    assert ("coop_code_in_two_units", f"{E} (24604, 24611; tính/counted: 24604)") in found("24611")
    # 68's 2026 total, over its report and the new commune's (checked again with this run)
    assert ("unit_count_change", "2 (2025: 4)") in found("68")
    scratch = _settings(tmp_path / "scratch")
    shutil.copytree(settings.landing_dir, scratch.landing_dir)
    assert run_steps(scratch, "scratch")["changed"]
    _assert_same(_contents(settings.warehouse), _contents(scratch.warehouse))
    # The warnings across files the new file stores: those a whole build stores on it, and
    # those of earlier files' rows it causes, moved to it (`for_run`).
    assert _stored_across(scratch, "24611") <= _stored_across(settings, "24611")
    assert "coop_code_in_two_units" in {r[0] for r in _stored_across(scratch, "24611")}


def _stored_across(settings, unit: str) -> set[tuple]:
    """The warnings across files stored on `unit`'s reports (rule, sheet, row, value)."""
    return set(
        query(
            settings,
            "select rule, sheet, excel_row, value from audit.rejected_row "
            "join audit.file_ingestion using (file_id) "
            "where unit_code = ? and list_contains(?, rule)",
            [unit, cross_rules()],
        )
    )


def _places(settings, table: str, key: str) -> list[tuple]:
    """Each row's id and key in `table`, in row order."""
    return query(settings, f"select rowid, {key} from {table} order by rowid")


def test_a_resubmission_that_changes_figures_only_rewrites_its_rows_in_place(tmp_path, monkeypatch):
    """Issue 17: a resubmitted workbook whose figures change and whose cooperatives, units
    and years do not leaves every row of the marts kept in an order where it was (the
    changed rows updated in place, `build._update_in_place`, not every row written again),
    and the warehouse and its exports are those a build from scratch makes."""
    settings = _settings(tmp_path / "runs")
    settings.landing_dir.mkdir(parents=True)
    coops = [f"640000000{i}" for i in range(1, 5)]
    _htx_workbook(settings, "663_2024.xlsx", "663", 2024, coops[:3], "Nâm Nung")
    _htx_workbook(settings, "664_2024.xlsx", "664", 2024, coops[3:], "Nâm Nung")
    assert run_steps(settings, "run-1")["changed"]
    keys = {
        "marts.cooperative_scorecard": "coop_code",
        "marts.district_year": "district_code, province_code, year",
        "marts.commune_year": "new_province_code, new_commune_code, year",
    }
    before = {table: _places(settings, table, key) for table, key in keys.items()}
    rows = [HTX_HEADER] + [
        htx_row(i, code, **{"Xã/Phường": "Nâm Nung", "Số thành viên": 40 + i})
        for i, code in enumerate(coops[:3], 1)
    ]
    write_xlsx(
        settings.landing_dir / "663_2024_lan2.xlsx",
        {"ThongTin": info_rows("663", 2024, dt.date(2025, 3, 1)), "HTX": rows},
    )
    calls = _count_rebuilds(monkeypatch)
    assert run_steps(settings, "run-2")["changed"]
    assert calls == [1]  # built upon the published warehouse
    assert query(
        settings, "select members from marts.cooperative_scorecard where coop_code = ?", [coops[0]]
    ) == [(41,)]
    after = {table: _places(settings, table, key) for table, key in keys.items()}
    assert after == before
    scratch = _settings(tmp_path / "scratch")
    shutil.copytree(settings.landing_dir, scratch.landing_dir)
    assert run_steps(scratch, "scratch")["changed"]
    _assert_same(_contents(settings.warehouse), _contents(scratch.warehouse))
    _assert_same(_exports(settings.export_dir), _exports(scratch.export_dir))


@pytest.mark.parametrize("kind", ["VARIANT", "GEOMETRY", "VARCHAR[]", "MAP(VARCHAR, INTEGER)"])
def test_a_table_whose_update_moves_its_rows_is_not_updated_in_place(kind):
    """DuckDB updates a row of a table with a column of these types by deleting it and
    inserting it last (not only the nested types: VARIANT and GEOMETRY too): such a table's
    rows cannot keep their places (`build._same_places`), though their keys are the same."""
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        f"create table marts.t as select i as k, null::{kind} as v from range(3) r(i) order by k"
    )
    con.execute("create table new as select * from marts.t where k = 1")
    con.execute("update marts.t set v = null where k = 1")  # what an update in place does
    moved = [k for (k,) in con.execute("select k from marts.t").fetchall()] != [0, 1, 2]
    assert moved  # DuckDB's own behaviour, which `_same_places` has to know
    assert not build._same_places(con, "marts.t", "where k = 1", "new", "k")


@pytest.mark.parametrize("kind", ["UUID", "INTERVAL", "BLOB", "TIME", "ENUM('a', 'b')"])
def test_a_table_with_a_column_of_a_type_not_known_to_stay_in_place_is_rewritten_whole(kind):
    """Only the types known to keep a row in its place when DuckDB updates it
    (`build._STAY_IN_PLACE`, the marts' types) let a mart be updated in place: a column of
    any other type, even one DuckDB might update in place, has its table written again whole
    (a new DuckDB may move a row of a type it updated in place before, as 2.0 did VARIANT)."""
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        f"create table marts.t as select i as k, null::{kind} as v from range(3) r(i) order by k"
    )
    con.execute("create table new as select * from marts.t where k = 1")
    assert not build._same_places(con, "marts.t", "where k = 1", "new", "k")


# One type of each pattern of `build._STAY_IN_PLACE`, to check them with.
STAY_IN_PLACE_EXAMPLES = (
    "BOOLEAN",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "DOUBLE",
    "DECIMAL(18,6)",
    "VARCHAR",
    "DATE",
)


def test_the_types_known_to_stay_in_place_are_updated_in_place():
    """Each type of `build._STAY_IN_PLACE` is one DuckDB updates in place (the row keeps its
    place in the table's order), which `build._same_places` then lets keep its place."""
    assert all(
        any(re.fullmatch(pattern, kind) for kind in STAY_IN_PLACE_EXAMPLES)
        for pattern in build._STAY_IN_PLACE
    )  # a pattern added to the list is checked here too
    con = duckdb.connect()
    con.execute("create schema marts")
    for kind in STAY_IN_PLACE_EXAMPLES:
        con.execute(
            "create or replace table marts.t as "
            f"select i as k, null::{kind} as v from range(3) r(i) order by k"
        )
        con.execute("create or replace table new as select * from marts.t where k = 1")
        assert build._same_places(con, "marts.t", "where k = 1", "new", "k"), kind
        con.execute("update marts.t set v = null where k = 1")
        assert [k for (k,) in con.execute("select k from marts.t").fetchall()] == [0, 1, 2], kind
