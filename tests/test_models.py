"""The SQL models as a graph: the build order comes from the models' own references, the
references are complete, and the warehouse built in that order has the tables it had."""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

import pytest
from conftest import HTX_HEADER, OCOP_HEADER, SUPPORT_HEADER, htx_row, info_rows, run_steps
from conftest import write_xlsx as write_workbook

from etl.config import SQL_DIR, settings_under
from etl.contract.layout import PROGRAMS
from etl.outputs import exports
from etl.warehouse import build, reference_tables
from etl.warehouse.models import ModelGraphError, build_order, discover, references, run_sql_file

CODE = "6400000001"
# The tables of core and marts before the SQL became a model graph (41697f3): the same ones,
# and those of the geography in force since 01/07/2025 (issue 15).
TABLES = {
    "core.bridge_commune_crosswalk",
    "core.dim_cooperative",
    "core.dim_geography",
    "core.dim_period",
    "core.dim_program",
    "core.fact_cooperative_year",
    "core.fact_ocop_product",
    "core.fact_offtake_contract",
    "core.fact_program_support",
    "marts.commune_phase",  # the 2026-2030 phase judged by commune in force
    "marts.commune_year",
    "marts.cooperative_district_year",
    "marts.cooperative_scorecard",
    "marts.district_year",
    "marts.phase_summary",
    "marts.placement_review",
    "marts.program_year",
    "marts.replication_candidates",
    "marts.reporting_status",  # issue 18: the reporting deadline
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A warehouse built from two years of one district: support under two programmes, an
    OCOP product."""
    settings = settings_under(tmp_path_factory.mktemp("models"))
    for year, support in (
        (2022, [[CODE, "DA167", "Tư vấn", "Trung ương", 200, 2022]]),
        (2023, [[CODE, "NTM", "Máy", "Tỉnh", 100, 2023], [CODE, "DA167", "Máy", "Tỉnh", 5, 2023]]),
    ):
        write_workbook(
            settings.landing_dir / f"663_{year}.xlsx",
            {
                "ThongTin": info_rows("663", year),
                "HTX": [HTX_HEADER, htx_row(1, CODE), htx_row(2, "6400000002")],
                "HoTro": [SUPPORT_HEADER, *support],
                "OCOP": [OCOP_HEADER, [CODE, "Cà phê", "Đồ uống", 4, "9/QĐ", dt.date(2022, 6, 1)]],
            },
        )
    run_steps(settings)
    return settings


def _tables(con, schemas: tuple[str, ...]) -> set[str]:
    rows = con.execute(
        "select schema_name || '.' || table_name from duckdb_tables() "
        "where schema_name in (select unnest(?::varchar[]))",
        [list(schemas)],
    ).fetchall()
    return {name for (name,) in rows}


def _model_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, sql in files.items():
        path = tmp_path / "sql" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql)
    return tmp_path / "sql"


def test_every_model_comes_after_every_model_it_reads():
    order = build.models()
    position = {m.table: i for i, m in enumerate(order)}
    assert len(order) == len(discover(SQL_DIR)) == len(position)
    for model in order:
        for read in model.reads:
            assert position[read] < position[model.table], (model.table, read)
    # what the marts are known to read, as a check on the references themselves
    reads = {m.table: m.reads for m in order}
    assert reads["marts.phase_summary"] == {"marts.district_year", "marts.replication_candidates"}
    assert reads["marts.replication_candidates"] == {
        "marts.cooperative_scorecard",
        "intermediate.cooperative_placement",
    }
    assert {"intermediate.support_cooperative_year", "marts.cooperative_district_year"} <= reads[
        "marts.district_year"
    ]
    assert [m.name for m in order if m.schema == "core"] == list(build.CORE_MODELS)
    assert [m.name for m in order if m.schema == "marts"] == list(build.MART_MODELS)


def test_each_model_runs_with_only_the_tables_it_is_found_to_read(built):
    """The references are complete: each model, alone in an empty database holding only the
    models it reads (copied from a real build) and the tables the build registers for its
    step, runs; a reference the parser missed would be a missing table."""
    import duckdb

    for model in build.models():
        con = duckdb.connect()
        try:
            run_sql_file(con, SQL_DIR / "ddl" / "schemas.sql")
            con.execute(f"attach '{built.warehouse}' as built (read_only)")
            for read in sorted(model.reads):
                con.execute(f"create table {read} as select * from built.{read}")
            con.execute("detach built")
            build._create_macros(con)
            if model.schema == "core":
                run_sql_file(con, SQL_DIR / "ddl" / "core" / f"{model.name}.sql")
                reference_tables.register(con)
                build._stage_tables(con, built, [])  # the staged sheets, empty
            else:
                build._set_criteria(con, build.CONFIG_DIR / "replication_criteria.toml")
                build._register_targets(con, build.CONFIG_DIR / "phase_targets.toml")
                build._register_reporting(con)
                build._register_unmatched(con)
            run_sql_file(con, model.path)
            assert _tables(con, (model.schema,)) >= {model.table}
        finally:
            con.close()


def test_the_order_is_the_same_whatever_order_the_files_are_found_in():
    models = discover(SQL_DIR)
    expected = [m.table for m in build_order(models, build.SOURCES)]
    for seed in range(5):
        shuffled = random.Random(seed).sample(models, len(models))
        assert [m.table for m in build_order(shuffled, build.SOURCES)] == expected
    # ties go by name among the models ready to build: the crosswalk first, then the
    # cooperatives' dimension (ready once the crosswalk it reads for placement is built)
    assert expected[:5] == [
        "core.bridge_commune_crosswalk",
        "core.dim_cooperative",
        "core.dim_geography",
        "core.dim_period",
        "core.dim_program",
    ]


def test_a_cycle_is_reported_with_the_models_in_it(tmp_path):
    sql = _model_dir(
        tmp_path,
        {
            "load/base.sql": "insert into core.base select 1",
            "marts/a.sql": "create table marts.a as select * from marts.c join core.base on true",
            "marts/b.sql": "create table marts.b as select * from marts.a",
            "marts/c.sql": "create table marts.c as select * from marts.b",
            "marts/d.sql": "create table marts.d as select * from marts.c",
        },
    )
    with pytest.raises(ModelGraphError, match="cycle") as raised:
        build_order(discover(sql))
    assert "marts.a -> marts.c -> marts.b -> marts.a" in str(raised.value)


def test_a_model_reading_a_table_no_model_builds_is_an_error(tmp_path):
    sql = _model_dir(tmp_path, {"marts/a.sql": "create table marts.a as select * from core.nope"})
    with pytest.raises(ModelGraphError, match=r"a\.sql: core\.nope is not a model"):
        build_order(discover(sql))


def test_a_core_model_cannot_read_what_the_publish_step_builds_later(tmp_path):
    sql = _model_dir(
        tmp_path,
        {
            "load/f.sql": "insert into core.f select * from intermediate.i",
            "intermediate/i.sql": "create table intermediate.i as select 1 as x",
        },
    )
    with pytest.raises(ModelGraphError, match=r"core\.f reads intermediate\.i, which is built"):
        build_order(discover(sql))


def test_a_table_the_build_does_not_register_for_the_step_is_an_error(tmp_path):
    sql = _model_dir(tmp_path, {"marts/a.sql": "create table marts.a as select * from stg_htx"})
    with pytest.raises(ModelGraphError, match="stg_htx is not a table the build registers"):
        build_order(discover(sql), build.SOURCES)


def test_comments_and_strings_name_no_table():
    sql = """
    -- reads marts.old, once
    /* and core.gone */
    create table marts.a as
    select 'marts.text' as note, x from core.real join ref_units using (code)
    """
    assert references(sql) == ({"core.real"}, {"ref_units"})


def test_what_a_model_creates_for_itself_is_not_a_reference():
    sql = """
    create or replace type intermediate.columns as enum (select code from core.dim_program);
    create or replace table intermediate.wide as
    pivot core.fact on code in intermediate.columns using sum(amount);
    comment on table intermediate.wide is 'x';
    drop type intermediate.columns;
    """
    assert references(sql) == ({"core.dim_program", "core.fact"}, set())


def test_the_exports_cover_every_mart_and_the_workbook_keeps_its_sheets():
    assert set(build.MART_MODELS) == {t.split(".")[1] for t in TABLES if t.startswith("marts.")}
    assert set(exports.XLSX_MARTS) | {"cooperative_district_year"} == set(build.MART_MODELS)
    assert len(exports.XLSX_MARTS) == len(set(exports.XLSX_MARTS)) == len(build.MART_MODELS) - 1


def test_the_built_warehouse_has_the_same_tables_and_each_intermediate_one(built):
    import duckdb

    con = duckdb.connect(str(built.warehouse), read_only=True)
    try:
        assert _tables(con, ("core", "marts")) == TABLES
        assert _tables(con, ("intermediate",)) == {
            m.table for m in build.models() if m.schema == "intermediate"
        }
        undescribed = con.execute(
            "select table_name from duckdb_tables() "
            "where schema_name = 'intermediate' and coalesce(comment, '') = ''"
        ).fetchall()
        assert undescribed == []
    finally:
        con.close()


def test_support_by_programme_has_a_column_per_programme_of_dim_program(built, tmp_path):
    import duckdb

    expected = [f"support_{code.lower()}_mvnd" for code, _, _ in PROGRAMS]
    con = duckdb.connect(str(built.warehouse), read_only=True)
    try:
        columns = [
            c
            for (c,) in con.execute(
                "select column_name from (describe marts.district_year)"
            ).fetchall()
        ]
        assert [c for c in columns if c.startswith("support_")] == [*expected, "support_total_mvnd"]
        by_year = con.execute(
            "select year, support_da167_mvnd, support_ntm_mvnd, support_ocop_mvnd, "
            "support_total_mvnd from marts.district_year order by year"
        ).fetchall()
        assert [(y, float(a), float(b), float(c), float(t)) for y, a, b, c, t in by_year] == [
            (2022, 200, 0, 0, 200),
            (2023, 5, 100, 0, 105),
        ]
    finally:
        con.close()

    # A programme added to dim_program becomes a column of the marts' pivot, zero here.
    copy = tmp_path / "htx.duckdb"
    shutil.copy(built.warehouse, copy)
    con = duckdb.connect(str(copy))
    try:
        before = con.execute("select * from marts.district_year order by all").fetchall()
        con.execute("insert into core.dim_program values (99, 'VCAP', 'Vốn', 'Capital')")
        for model in build.models():
            if model.table in ("intermediate.support_cooperative_year", "marts.district_year"):
                run_sql_file(con, model.path)
        columns = [
            c
            for (c,) in con.execute(
                "select column_name from (describe marts.district_year)"
            ).fetchall()
        ]
        assert [c for c in columns if c.startswith("support_")] == [
            *expected,
            "support_vcap_mvnd",
            "support_total_mvnd",
        ]
        after = con.execute(
            "select * exclude (support_vcap_mvnd) from marts.district_year order by all"
        ).fetchall()
        assert after == before
        assert con.execute("select sum(support_vcap_mvnd) from marts.district_year").fetchone() == (
            0,
        )
    finally:
        con.close()


def test_the_unattributed_row_names_a_province_only_when_all_its_cooperatives_share_it():
    """`marts.district_year`'s unattributed row (district_code NULL) gathers cooperatives of
    every province: its province_code is theirs when they share one, else NULL, never one
    of them picked arbitrarily (it changed from run to run at national scale)."""
    import duckdb

    con = duckdb.connect()
    con.execute("create schema marts; create schema intermediate")
    con.execute(
        "create table marts.cooperative_district_year as select * from (values "
        "('A1', '663', 'Đắk Mil', '67', 2025), ('A2', null, 'Không xác định / Unattributed', "
        "'67', 2025), ('B1', null, 'Không xác định / Unattributed', '01', 2025), "
        "('C1', null, 'Không xác định / Unattributed', '01', 2026)) "
        "t(coop_code, district_code, district_name, province_code, year)"
    )
    con.execute(
        "alter table marts.cooperative_district_year add column founded_year int;"
        "alter table marts.cooperative_district_year add column attribution_carried_forward bool;"
        "alter table marts.cooperative_district_year add column in_da167 bool;"
        "alter table marts.cooperative_district_year add column members int;"
        "alter table marts.cooperative_district_year add column workers int;"
        "alter table marts.cooperative_district_year add column revenue_mvnd double;"
        "alter table marts.cooperative_district_year add column profit_before_tax_mvnd double;"
        "alter table marts.cooperative_district_year add column rating varchar;"
        "alter table marts.cooperative_district_year add column has_offtake_contract bool;"
        "create table intermediate.support_cooperative_year "
        "(coop_code varchar, year int, support_total_mvnd double);"
        "create table intermediate.ocop_cooperative_year "
        "(coop_code varchar, year int, ocop_products int)"
    )
    run_sql_file(con, SQL_DIR / "marts" / "district_year.sql")
    rows = con.execute(
        "select district_code, year, province_code, cooperatives from marts.district_year "
        "order by year, district_code nulls last"
    ).fetchall()
    assert rows == [("663", 2025, "67", 1), (None, 2025, None, 2), (None, 2026, "01", 1)]
