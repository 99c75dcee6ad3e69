"""The bench's helpers, cheaply: no pipeline run and no timing asserted (`make bench` runs it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from etl import bench
from etl.sample import national_groups, national_units

LINE = re.compile(
    r"^bench: files=\d+ rows=\d+ floor_s=\d+\.\d\d airflow_floor_s=\d+\.\d\d full_s=\d+\.\d\d "
    r"nothing_new_s=\d+\.\d\d one_file_s=\d+\.\d\d marginal_ratio=\d+\.\d\d peak_rss_mb=\d+$"
)


def _line(**overrides) -> str:
    values = {
        "files": 2846,
        "rows": 244806,
        "floor_s": 4.0,
        "airflow_floor_s": 10.0,
        "full_s": 300.0,
        "nothing_new_s": 20.0,
        "one_file_s": 25.0,
        "peak_rss_mb": 1234.4,
    }
    return bench.final_line(**{**values, **overrides})


def test_final_line_has_the_agreed_format():
    line = _line()
    assert LINE.match(line), line
    assert line == (
        "bench: files=2846 rows=244806 floor_s=4.00 airflow_floor_s=10.00 full_s=300.00 "
        "nothing_new_s=20.00 one_file_s=25.00 marginal_ratio=70.00 peak_rss_mb=1234"
    )


def test_marginal_ratio_is_full_less_nothing_new_over_the_floor():
    assert "marginal_ratio=2.50" in _line(full_s=30.0, nothing_new_s=20.0, floor_s=4.0)
    assert bench.marginal_ratio(30.0, 20.0, 4.0) == pytest.approx(2.5)
    assert bench.marginal_ratio(30.0, 20.0, 0.0) == float("inf")


def test_scales_option():
    assert bench.parse_scales("100,1") == [1, 100]
    assert bench.parse_scales("1, 10") == [1, 10]
    assert bench.parse_scales("10x") == [10]
    with pytest.raises(Exception, match="scales"):
        bench.parse_scales("3")


def test_national_corpus_has_every_district_unit_and_one_2025_workbook_per_province():
    assert len(national_units()) == 696
    groups = national_groups()
    # 63 provinces; Đắk Nông (67) reports inside Lâm Đồng's (68) workbook from 2025 on.
    assert len(groups) == 62
    expected_files = 696 * 4 + len(groups)
    assert expected_files == 2846


def test_ten_times_corpus_is_about_ten_times_the_province():
    units = national_units(bench.TEN_X_UNITS)
    groups = national_groups(bench.TEN_X_UNITS)
    files = len(units) * 4 + len(groups)
    coop_years = (len(units) * 5) * 43
    assert 8 * 35 <= files <= 12 * 35
    assert 8 * 1500 <= coop_years <= 12 * 1500


def test_corpus_is_written_once_and_reused_with_keep(tmp_path, monkeypatch):
    calls = []

    def fake_corpus(scale, seed, out_dir):
        from etl.sample import SampleFile

        calls.append(scale)
        out_dir.mkdir(parents=True)
        path = out_dir / "660_2021.xlsx"
        path.write_bytes(b"x")
        return [SampleFile(path, "660", 2021, {"htx": 3, "hotro": 1, "ocop": 0, "lienket": 2})]

    monkeypatch.setattr(bench, "write_corpus", fake_corpus)
    folder, manifest, written = bench.ensure_corpus(tmp_path, 1, 7, keep=True)
    assert folder == tmp_path / "corpus-1-7" and written is not None
    assert bench.corpus_rows(manifest) == (6, 3)
    again, _manifest, written = bench.ensure_corpus(tmp_path, 1, 7, keep=True)
    assert again == folder and written is None and calls == [1]
    bench.ensure_corpus(tmp_path, 1, 7, keep=False)
    assert calls == [1, 1]


def test_stage_phases_come_from_the_reading_and_outcome_log_lines(tmp_path: Path):
    log = tmp_path / "run.log"
    lines = [
        "2026-11-25 15:00:00,000 INFO htx: setting up Airflow in /x",
        "2026-11-25 15:00:05,000 INFO htx: the Airflow metadata DB is up to date",
        "2026-11-25 15:00:09,000 INFO htx: Airflow ready: metadata DB migrated, pool p",
        "2026-11-25T15:00:10.000000Z [info     ] [DAG TEST] starting task_id=discover "
        "map_index=-1 [airflow.sdk.definitions.dag] loc=dag.py:1",
        "2026-11-25T15:00:11.000000Z [info     ] [DAG TEST] end task task_id=discover "
        "map_index=-1 [airflow.sdk.definitions.dag] loc=dag.py:1",
        "2026-11-25T15:00:11.500000Z [info     ] [DAG TEST] starting task_id=stage "
        "map_index=0 [airflow.sdk.definitions.dag] loc=dag.py:1",
        "2026-11-25T15:00:12.000000Z [info     ] reading a_2021.xlsx (0123456789ab) "
        "[etl.stage] loc=stage.py:84",
        "2026-11-25T15:00:12.100000Z [info     ] reading b_2021.xlsx (0123456789ac) "
        "[etl.stage] loc=stage.py:84",
        "2026-11-25T15:00:12.200000Z [info     ] reading c_2021.xlsx (0123456789ad) "
        "[etl.stage] loc=stage.py:84",
        "2026-11-25T15:00:14.000000Z [info     ] a_2021.xlsx: valid (ok) "
        "[etl.stage] loc=stage.py:1",
        "2026-11-25T15:00:14.001000Z [info     ] b_2021.xlsx: quarantined (Tệp bị từ chối) "
        "[etl.stage] loc=stage.py:1",
        "2026-11-25T15:00:14.500000Z [info     ] [DAG TEST] end task task_id=stage "
        "map_index=0 [airflow.sdk.definitions.dag] loc=dag.py:1",
    ]
    log.write_text("\n".join(lines) + "\n")
    events = bench.log_events(log)
    assert len(events) == len(lines)
    phases = bench.stage_phases(events)
    assert phases["read"] == pytest.approx(0.3)
    assert phases["validate_and_write"] == pytest.approx(1.7)
    assert phases["unsplit"] is None
    started = bench._epoch("2026-11-25T14:59:59.000000Z")
    run = bench.ChildRun(16.0, 0, 100.0, started, started + 16.0, str(log))
    whole = bench.run_phases(log, run)
    assert whole["init"] == pytest.approx(9.0)
    assert whole["dag_span"] == pytest.approx(4.5)
    assert whole["after_dag"] == pytest.approx(0.5)


def test_stage_profile_runs_the_stage_functions_on_one_batch(tmp_path: Path):
    from etl.sample import write_samples

    files = write_samples(tmp_path / "corpus", years=[2022], extras=False)[:3]
    profile = bench.profile_stage([f.path for f in files], tmp_path / "scratch")
    assert profile["files"] == 3
    assert {"read", "frames", "validate", "write"} <= set(profile)
    assert all(profile[phase] >= 0 for phase in ("read", "frames", "validate", "write"))
    # The batch's rows went to one Parquet file per sheet, as in the stage task.
    staged = tmp_path / "scratch" / "batch" / "htx.parquet"
    import duckdb

    with duckdb.connect() as con:
        rows = con.execute(f"select count(distinct file_id), count(*) from '{staged}'").fetchall()
    assert rows == [(3, sum(f.rows["htx"] for f in files))]
