"""The SQL models as a graph: the build order comes from the models' own references, the
references are complete, and the warehouse built in that order has the tables it had."""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

import pytest
from conftest import (
    HTX_HEADER,
    OCOP_HEADER,
    SUPPORT_HEADER,
    htx_row,
    info_rows,
    run_mart,
    run_steps,
)
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
                build._register_first_half(con)
                build._register_ratings(con)
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
        build._register_ratings(con)
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


# Cooperative-years of two provinces: A1 in a former district of 67, A2 and A3 unattributed
# in 67, B1 unattributed in 01 (2025), C1 unattributed in 01 (2026 only).
TWO_PROVINCES_COOP_YEARS = (
    "create table marts.cooperative_district_year as select * from (values "
    "('A1', '663', 'Đắk Mil', '67', 2025, 10, 100.0), "
    "('A2', null, 'Không xác định / Unattributed', '67', 2025, 20, 200.0), "
    "('A3', null, 'Không xác định / Unattributed', '67', 2025, 30, 300.0), "
    "('B1', null, 'Không xác định / Unattributed', '01', 2025, 40, 400.0), "
    "('C1', null, 'Không xác định / Unattributed', '01', 2026, 50, 500.0)) "
    "t(coop_code, district_code, district_name, province_code, year, members, revenue_mvnd)"
)


def _district_year(con) -> None:
    """`marts.district_year` built on `TWO_PROVINCES_COOP_YEARS` (the other measures NULL)."""
    con.execute("create schema if not exists marts; create schema if not exists intermediate")
    con.execute(TWO_PROVINCES_COOP_YEARS)
    con.execute(
        "alter table marts.cooperative_district_year add column founded_year int;"
        "alter table marts.cooperative_district_year add column attribution_carried_forward bool;"
        "alter table marts.cooperative_district_year add column in_da167 bool;"
        "alter table marts.cooperative_district_year add column workers int;"
        "alter table marts.cooperative_district_year add column profit_before_tax_mvnd double;"
        "alter table marts.cooperative_district_year add column rating varchar;"
        "alter table marts.cooperative_district_year add column has_offtake_contract bool;"
        "create table intermediate.support_cooperative_year "
        "(coop_code varchar, year int, support_total_mvnd double, support_da167_mvnd double);"
        "create table intermediate.ocop_cooperative_year "
        "(coop_code varchar, year int, ocop_products int, ocop_valid_products int)"
    )
    build._register_ratings(con)
    run_sql_file(con, SQL_DIR / "marts" / "district_year.sql")


def test_the_unattributed_cooperatives_are_a_row_per_province_and_year():
    """`marts.district_year`'s unattributed cooperatives (district_code NULL) are a row of
    their own per province and year, with that province_code and their own sums, as
    `marts.commune_year` keeps those under review: summing a province's rows counts all its
    cooperatives. (They were one row per year for every province, its province_code NULL
    once two provinces were in it: province 67 and 01 each undercounted.)"""
    import duckdb

    con = duckdb.connect()
    _district_year(con)
    rows = con.execute(
        "select district_code, year, province_code, cooperatives, members, revenue_mvnd "
        "from marts.district_year order by year, district_code nulls last, province_code"
    ).fetchall()
    assert rows == [
        ("663", 2025, "67", 1, 10, 100.0),
        (None, 2025, "01", 1, 40, 400.0),
        (None, 2025, "67", 2, 50, 500.0),
        (None, 2026, "01", 1, 50, 500.0),
    ]
    by_province = con.execute(
        "select province_code, year, sum(cooperatives), sum(members) from marts.district_year "
        "group by all order by all"
    ).fetchall()
    assert by_province == [("01", 2025, 1, 40), ("01", 2026, 1, 50), ("67", 2025, 3, 60)]


def test_the_phase_summary_has_an_unattributed_row_per_province(tmp_path):
    """`marts.phase_summary` keeps `marts.district_year`'s unattributed rows apart by
    province: each its own province_code, figures and replication candidates (the
    unattributed candidates of that province)."""
    import duckdb

    source = tmp_path / "district_year.duckdb"
    con = duckdb.connect(str(source))
    try:
        _district_year(con)
    finally:
        con.close()
    rows = run_mart(
        tmp_path / "phase.duckdb",
        "phase_summary",
        [
            f"attach '{source}' as source (read_only)",
            "create table marts.district_year as select * from source.marts.district_year",
            "create table marts.replication_candidates as select * from (values "
            "('A1', '663', '67', true), ('A2', null, '67', true), ('A3', null, '67', true), "
            "('B1', null, '01', true), ('C1', null, '01', false)) "
            "t(coop_code, district_code, province_code, is_candidate)",
        ],
        "select district_code, phase_first_year, phase_last_year, cooperatives_last_year, "
        "members_last_year, revenue_last_year_mvnd::double, replication_candidates "
        "from marts.phase_summary order by all",
    )
    assert rows == [
        ("663", 2025, 2025, 1, 10, 100.0, 1),
        (None, 2025, 2025, 1, 40, 400.0, 1),  # province 01
        (None, 2025, 2025, 2, 50, 500.0, 2),  # province 67
    ]
    con = duckdb.connect(str(tmp_path / "phase.duckdb"), read_only=True)
    try:
        provinces = con.execute(
            "select district_code, province_code, cooperatives_last_year "
            "from marts.phase_summary order by all"
        ).fetchall()
    finally:
        con.close()
    assert provinces == [("663", "67", 1), (None, "01", 1), (None, "67", 2)]


def test_unattributed_candidates_are_ranked_within_their_province():
    """`marts.replication_candidates.district_rank`: the unattributed candidates (no
    former district) of each province are ranked among themselves, as a district's are,
    not nationally; a district's candidates as before."""
    import duckdb

    con = duckdb.connect()
    con.execute("create schema marts; create schema intermediate")
    con.execute(
        "create table marts.cooperative_scorecard as select * from (values "
        "('D1', '663', '67', 95), ('D2', '663', '67', 90), "
        "('P1', null, '67', 99), ('P2', null, '67', 85), "
        "('Q1', null, '01', 97), ('Q2', null, '01', 81)) "
        "t(coop_code, district_code, province_code, score)"
    )
    con.execute(
        "alter table marts.cooperative_scorecard add column name varchar;"
        "alter table marts.cooperative_scorecard add column sector varchar;"
        "alter table marts.cooperative_scorecard add column district_name varchar;"
        "alter table marts.cooperative_scorecard add column in_da167 bool;"
        "alter table marts.cooperative_scorecard add column latest_year int default 2025;"
        "alter table marts.cooperative_scorecard "
        "add column consecutive_profitable_years int default 3;"
        "alter table marts.cooperative_scorecard add column rating varchar default 'Tốt';"
        "alter table marts.cooperative_scorecard add column revenue_mvnd double default 1;"
        "alter table marts.cooperative_scorecard "
        "add column profit_before_tax_mvnd double default 1;"
        "alter table marts.cooperative_scorecard add column members int;"
        "alter table marts.cooperative_scorecard "
        "add column has_offtake_contract bool default true;"
        "alter table marts.cooperative_scorecard "
        "add column has_valid_ocop_product bool default false;"
        "create table intermediate.cooperative_placement (coop_code varchar, "
        "new_province_code varchar, new_commune_code varchar, new_commune_name varchar, "
        "placement varchar)"
    )
    build._set_criteria(con, build.CONFIG_DIR / "replication_criteria.toml")
    run_sql_file(con, SQL_DIR / "marts" / "replication_candidates.sql")
    ranks = con.execute(
        "select coop_code, district_rank from marts.replication_candidates order by coop_code"
    ).fetchall()
    assert ranks == [("D1", 1), ("D2", 2), ("P1", 1), ("P2", 2), ("Q1", 1), ("Q2", 2)]
    rows = con.execute(
        "select coop_code, district_code, province_code, is_candidate, district_rank "
        "from marts.replication_candidates"
    ).fetchall()
    assert rows == [  # in table order: district, then the unattributed province by province
        ("D1", "663", "67", True, 1),
        ("D2", "663", "67", True, 2),
        ("Q1", None, "01", True, 1),
        ("Q2", None, "01", True, 2),
        ("P1", None, "67", True, 1),
        ("P2", None, "67", True, 2),
    ]
