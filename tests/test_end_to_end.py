"""The whole pipeline through Airflow: `htx run` migrates a SQLite metadata DB in a temporary
AIRFLOW_HOME and runs the DAG with `dag.test()`; the warehouse is then checked row by row."""

from __future__ import annotations

import hashlib
import re
import subprocess

import pytest
from conftest import htx_env, query, run_htx

from tools.sample import expected_counts, write_samples

CONTRACT_TABLES = [
    "core.dim_geography",
    "core.dim_cooperative",
    "core.dim_program",
    "core.dim_period",
    "core.fact_cooperative_year",
    "core.fact_program_support",
    "core.fact_ocop_product",
    "core.fact_offtake_contract",
    "marts.district_year",
    "marts.program_year",
    "marts.cooperative_scorecard",
    "marts.replication_candidates",
    "marts.phase_summary",
    "audit.file_ingestion",
    "audit.rejected_row",
    "audit.quality_alert",
]


def htx_run(settings) -> subprocess.CompletedProcess:
    return run_htx("run", env=htx_env(settings))


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory):
    """Sample workbooks (one of them broken) run twice through Airflow."""
    from etl.config import settings_under

    settings = settings_under(tmp_path_factory.mktemp("e2e"))
    files = write_samples(settings.landing_dir)
    first = htx_run(settings)
    assert first.returncode == 0, first.stderr[-5000:]
    digest = hashlib.sha256(settings.warehouse.read_bytes()).hexdigest()
    tables = {t: query(settings, f"select * from {t} order by all") for t in CONTRACT_TABLES}
    second = htx_run(settings)
    return settings, files, first, second, digest, tables


def test_airflow_home_and_metadata_db_live_under_the_state_dir(pipeline_run):
    settings = pipeline_run[0]
    assert (settings.state_dir / "airflow" / "airflow.db").exists()
    assert (settings.state_dir / "airflow" / "logs").is_dir()


def test_rows_per_unit_and_year_equal_what_the_generator_wrote(pipeline_run):
    settings, files = pipeline_run[:2]
    expected = expected_counts(files)
    tables = {
        "htx": "core.fact_cooperative_year",
        "hotro": "core.fact_program_support",
        "ocop": "core.fact_ocop_product",
        "lienket": "core.fact_offtake_contract",
    }
    for sheet, table in tables.items():
        loaded = dict(
            ((unit, year), n)
            for unit, year, n in query(
                settings,
                f"select i.unit_code, i.report_year, count(*) from {table} "
                "join audit.file_ingestion i using (file_id) group by all",
            )
        )
        wanted = {key: rows[sheet] for key, rows in expected.items() if rows[sheet]}
        assert loaded == wanted, sheet
    # 8 districts x 2021-2024, the province for 2025, four communes and the province for 2026
    assert len(expected) == 38


def test_every_file_has_the_status_the_generator_intended(pipeline_run):
    settings, files = pipeline_run[:2]
    statuses = dict(query(settings, "select file_name, status from audit.file_ingestion"))
    assert statuses == {f.path.name: f.expected_status for f in files}


def test_broken_file_is_quarantined_with_its_cells_listed(pipeline_run):
    settings, files = pipeline_run[:2]
    [broken] = [f for f in files if f.expected_status == "quarantined"]
    [(reason, rows_loaded)] = query(
        settings,
        "select reason, rows_loaded from audit.file_ingestion where file_name = ?",
        [broken.path.name],
    )
    assert rows_loaded == 0
    assert reason.startswith("Tệp bị từ chối")
    assert "File rejected" in reason
    cells = set(
        query(
            settings,
            "select sheet, excel_row, column_name from audit.rejected_row r "
            "join audit.file_ingestion i using (file_id) "
            "where i.file_name = ? and r.severity = 'error'",
            [broken.path.name],
        )
    )
    assert set(broken.expected_errors) <= cells
    assert query(
        settings,
        "select count(*) from core.fact_cooperative_year f join audit.file_ingestion i "
        "using (file_id) where i.file_name = ?",
        [broken.path.name],
    ) == [(0,)]


def test_warnings_are_recorded_and_alerted(pipeline_run):
    settings, files = pipeline_run[:2]
    warned = [f for f in files if f.expected_warnings]
    from etl.quality.validate import cross_rules

    for f in warned:
        cells = set(
            query(
                settings,
                "select sheet, excel_row, column_name from audit.rejected_row r "
                "join audit.file_ingestion i using (file_id) "
                "where i.file_name = ? and r.severity = 'warning' "
                "and not list_contains(?, r.rule)",
                [f.path.name, cross_rules()],
            )
        )
        assert set(f.expected_warnings) == cells
    [(severity, subject, body)] = query(
        settings, "select severity, subject, body from audit.quality_alert"
    )
    assert severity == "error"
    assert "1 tệp bị từ chối" in subject
    assert "665_2024_sua.xlsx" in body
    assert "quality_report.html" in body


def test_every_contract_table_is_filled(pipeline_run):
    tables = pipeline_run[5]
    assert {t: len(rows) for t, rows in tables.items() if not rows} == {}


def test_replication_marts_find_decision_167_models(pipeline_run):
    settings = pipeline_run[0]
    [(candidates, in_da167)] = query(
        settings,
        "select count(*) filter (where is_candidate), "
        "count(*) filter (where is_candidate and in_da167) from marts.replication_candidates",
    )
    assert candidates >= 10
    assert in_da167 >= 3


def test_province_report_of_2025_stays_attributable_to_legacy_districts(pipeline_run):
    settings = pipeline_run[0]
    rows = dict(
        query(
            settings,
            "select coalesce(district_code, 'unattributed'), cooperatives "
            "from marts.district_year where year = 2025",
        )
    )
    assert set(rows) == {"660", "661", "662", "663", "664", "665", "666", "667", "unattributed"}
    assert rows["unattributed"] >= 2  # first seen in 2025 in a new commune: counted, not dropped
    [(carried,)] = query(
        settings,
        "select count(*) from marts.cooperative_district_year "
        "where year = 2025 and attribution_carried_forward",
    )
    assert carried >= 20
    [(total,)] = query(
        settings, "select count(*) from core.fact_cooperative_year where period_key = 2025"
    )
    assert sum(rows.values()) == total


def test_summary_and_exports_are_written(pipeline_run):
    settings, _, first = pipeline_run[:3]
    assert "HTX warehouse summary" in first.stdout
    # 40 files: one superseded by its resubmission, one resubmission quarantined
    assert "38 loaded, 1 quarantined, 0 duplicate, 1 superseded" in first.stdout
    # "files loaded, quarantined and skipped": all 40 are new in the first run.
    assert "40 new file(s): 38 loaded, 1 quarantined, 0 duplicate, 1 superseded; 0 skipped" in (
        first.stdout
    )
    assert "core.fact_cooperative_year" in first.stdout
    # The publish handed the report's charts to the warm validator before the swap.
    handed = re.search(r"(\d+) chart\(s\) of the report handed", first.stdout + first.stderr)
    assert handed is not None
    assert int(handed[1]) >= 4
    assert (settings.export_dir / "quality_report.html").exists()
    assert (settings.export_dir / "parquet" / "marts.replication_candidates.parquet").exists()
    assert (settings.export_dir / "marts.xlsx").exists()


def test_the_run_log_carries_no_noise(pipeline_run):
    """GX, imported by the warm validator while Airflow starts, logs some 220 INFO lines of
    its own ("Skipping registering function ..."); the run's log keeps only its warnings.
    `load` reads the mapped `stage` results in one slice: iterating them made Airflow's
    client log an error for the item past the last in every run."""
    first = pipeline_run[2]
    said = first.stdout + first.stderr
    assert "warm validator started" in said  # GX was imported during this run
    assert "great_expectations" not in said
    assert "[DAG TEST] end task task_id=load" in said
    assert "XCom not found" not in said
    assert not re.search(r"\[error\s*\]|\bERROR\b", said), said[-3000:]


def test_second_run_changes_nothing(pipeline_run):
    settings, _, _, second, digest, tables = pipeline_run
    assert second.returncode == 0, second.stderr[-5000:]
    assert "nothing new" in second.stdout
    # One task staged an empty batch: no mapped task was skipped, so `dag.test` never found
    # itself with no task to run (it then waits a second for its next pass).
    said = second.stdout + second.stderr
    assert "staged 0 file(s): nothing new" in said
    assert "No tasks to run" not in said
    assert hashlib.sha256(settings.warehouse.read_bytes()).hexdigest() == digest
    assert {
        t: query(settings, f"select * from {t} order by all") for t in CONTRACT_TABLES
    } == tables


def test_every_core_and_mart_column_is_described(pipeline_run):
    """README: every table, and every column of core, marts and audit, carries a description
    (its meaning in the DDL, else its Vietnamese label), shown by any SQL tool."""
    settings = pipeline_run[0]
    bare = query(
        settings,
        "select schema_name || '.' || table_name || '.' || column_name from duckdb_columns() "
        "where schema_name in ('core', 'marts', 'audit') and coalesce(comment, '') = '' "
        "order by 1",
    )
    assert bare == []
    untitled = query(
        settings,
        "select schema_name || '.' || table_name from duckdb_tables() "
        "where schema_name in ('core', 'marts', 'audit') and coalesce(comment, '') = ''",
    )
    assert untitled == []
    [(label,)] = query(
        settings,
        "select comment from duckdb_columns() where schema_name = 'marts' "
        "and table_name = 'cooperative_scorecard' and column_name = 'coop_code'",
    )
    assert label == "Mã số HTX"
