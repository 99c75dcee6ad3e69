"""The bench's helpers, cheaply: no pipeline run and no timing asserted (`make bench` runs it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools import bench
from tools.sample import national_groups, national_units

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
        from tools.sample import SampleFile

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


def test_stage_phases_come_from_the_stage_timings_log_lines(tmp_path: Path):
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
        "[etl.warehouse.staging] loc=stage.py:84",
        "2026-11-25T15:00:14.000000Z [info     ] stage timings: 3 file(s) in 2 process(es), "
        "2.50s wall; set-up 0.50s; process-seconds: read 2.00s, validate 1.50s, write 0.50s "
        "[etl.warehouse.staging] loc=stage.py:1",
        "2026-11-25T15:00:14.500000Z [info     ] [DAG TEST] end task task_id=stage "
        "map_index=0 [airflow.sdk.definitions.dag] loc=dag.py:1",
        "2026-11-25T15:00:15.000000Z [info     ] stage timings: 1 file(s) in 1 process(es), "
        "1.00s wall; set-up 0.00s; process-seconds: read 0.50s, validate 0.50s, write 0.00s "
        "[etl.warehouse.staging] loc=stage.py:1",
        "2026-11-25T15:00:15.000000Z [info     ] feedback for 34_2025.xlsx: /x/34_2025_0a.xlsx "
        "[etl.quality.feedback] loc=feedback.py:1",
    ]
    log.write_text("\n".join(lines) + "\n")
    events = bench.log_events(log)
    assert len(events) == len(lines)
    phases = bench.stage_phases(events)
    # 2.5 s of wall, 0.5 s set-up, the rest shared 2 : 1.5 : 0.5; 1 s shared 0.5 : 0.5 : 0.
    assert phases["wall"] == pytest.approx(3.5)
    assert phases["setup"] == pytest.approx(0.5)
    assert phases["read"] == pytest.approx(1.0 + 0.5)
    assert phases["validate"] == pytest.approx(0.75 + 0.5)
    assert phases["write"] == pytest.approx(0.25)
    assert bench.stage_phases(events[:5])["read"] is None
    started = bench._epoch("2026-11-25T14:59:59.000000Z")
    run = bench.ChildRun(16.0, 0, 100.0, started, started + 16.0, str(log))
    whole = bench.run_phases(log, run)
    assert whole["init"] == pytest.approx(9.0)
    assert whole["dag_span"] == pytest.approx(4.5)
    assert whole["after_dag"] == pytest.approx(0.5)
    assert bench._feedback_written(run) == 1


def test_the_stage_step_writes_the_timings_line_the_bench_reads(tmp_path: Path, caplog):
    from etl.read.discover import LandedFile, file_id_for, sha256_of
    from etl.warehouse.staging import stage_batch
    from tools.sample import write_samples

    files = write_samples(tmp_path / "corpus", years=[2022], extras=False)[:3]
    landed = []
    for f in files:
        sha = sha256_of(f.path)
        landed.append(LandedFile(file_id_for(sha), f.path.name, sha, 0, str(f.path)))
    with caplog.at_level("INFO", logger="etl"):
        stage_batch(landed, tmp_path / "staging", "run")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("stage timings")]
    assert len(lines) == 1
    assert bench._TIMINGS.match(lines[0]), lines[0]
    assert lines[0].startswith("stage timings: 3 file(s) in 1 process(es), ")
