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
    # 2025 is reported by the 34 provinces in force at its end (Đắk Nông inside Lâm Đồng's
    # 68, and so on for every merger); 2021-2024 by the 696 former districts.
    assert len(groups) == 34
    expected_files = 696 * 4 + len(groups)
    assert expected_files == 2818


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
    assert folder == tmp_path / "corpus-1-7"
    assert written is not None
    assert bench.corpus_rows(manifest) == (6, 3)
    again, _manifest, written = bench.ensure_corpus(tmp_path, 1, 7, keep=True)
    assert again == folder
    assert written is None
    assert calls == [1]
    bench.ensure_corpus(tmp_path, 1, 7, keep=False)
    assert calls == [1, 1]


def _stage_record(timings_dir: Path, key: str, wall: float, setup: float, r, v, w) -> None:
    from etl.flow.timings import Timing, record

    phases = {"setup": setup, "read": r, "validate": v, "write": w}
    record(timings_dir, Timing("run-1", "stage", key, 100.0, 100.0 + wall, 3, 2, phases=phases))


def test_stage_phases_share_each_batch_wall_time_by_its_recorded_process_seconds(tmp_path):
    from etl.flow.timings import read_timings

    _stage_record(tmp_path, "0", 2.5, 0.5, 2.0, 1.5, 0.5)
    _stage_record(tmp_path, "1", 1.0, 0.0, 0.5, 0.5, 0.0)
    rows = read_timings(tmp_path)
    assert [(r["step"], r["key"]) for r in rows] == [("stage", "0"), ("stage", "1")]
    phases = bench.stage_phases(rows)
    # 2.5 s of wall, 0.5 s set-up, the rest shared 2 : 1.5 : 0.5; 1 s shared 0.5 : 0.5 : 0.
    assert phases["wall"] == pytest.approx(3.5)
    assert phases["setup"] == pytest.approx(0.5)
    assert phases["read"] == pytest.approx(1.0 + 0.5)
    assert phases["validate"] == pytest.approx(0.75 + 0.5)
    assert phases["write"] == pytest.approx(0.25)
    assert bench.stage_phases([])["read"] is None
    assert read_timings(tmp_path, {"another-run"}) == []


def test_the_bench_reads_no_log_text():
    source = Path(bench.__file__).read_text()
    assert "import re\n" not in source
    assert "log_events" not in source
    assert "stage timings:" not in source


def test_the_stage_step_records_the_timings_the_bench_reads(tmp_path: Path):
    from etl.flow.timings import read_timings
    from etl.read.discover import LandedFile, file_id_for, sha256_of
    from etl.warehouse.staging import stage_batch
    from tools.sample import write_samples

    files = write_samples(tmp_path / "corpus", years=[2022], extras=False)[:3]
    landed = []
    for f in files:
        sha = sha256_of(f.path)
        landed.append(LandedFile(file_id_for(sha), f.path.name, sha, 0, str(f.path)))
    timings_dir = tmp_path / "state" / "timings"
    stage_batch(landed, tmp_path / "staging", "run:1+00", timings_dir=timings_dir)
    [row] = read_timings(timings_dir, {"run:1+00"})
    assert (row["run_id"], row["step"], row["files"], row["processes"]) == (
        "run:1+00",
        "stage",
        3,
        1,
    )
    assert row["map_index"] is None  # staged outside Airflow: keyed by its batch
    assert row["wall_s"] > 0
    assert row["read_s"] > 0
    assert row["validate_s"] > 0
    assert row["setup_s"] + row["read_s"] + row["validate_s"] + row["write_s"] <= row["wall_s"]
    assert bench.stage_phases([row])["wall"] == pytest.approx(row["wall_s"])
    # Staged again (a retry): the batch's record is replaced, not doubled.
    stage_batch(landed, tmp_path / "staging", "run:1+00", timings_dir=timings_dir)
    assert len(read_timings(timings_dir)) == 1


@pytest.fixture(scope="module")
def measured_run(tmp_path_factory):
    """One real `htx run` the way the bench runs it (three workbooks, one of them broken),
    and what the bench reads of it."""
    from etl.config import settings_under
    from tools.sample import write_samples

    root = tmp_path_factory.mktemp("bench-run")
    settings = settings_under(root / "run", HTX_BATCH_SIZE="2")
    written = write_samples(root / "corpus", years=[2023, 2024])
    chosen = [f for f in written if f.path.name.startswith(("660_", "665_2024"))]
    for f in chosen:
        bench.land(f.path, settings.landing_dir)
    airflow_db = settings.airflow_home / "airflow.db"
    init = bench.htx(settings, "init", root / "logs" / "init.log")
    assert init.returncode == 0, Path(init.log).read_text()[-3000:]
    before = bench.dag_runs(airflow_db)
    run = bench.htx(settings, "run", root / "logs" / "full.log")
    assert run.returncode == 0, Path(run.log).read_text()[-3000:]
    run_ids = bench.dag_runs(airflow_db) - before
    return settings, chosen, run, run_ids


def test_a_run_records_its_tasks_batches_and_command_for_the_bench(measured_run):
    settings, chosen, run, run_ids = measured_run
    assert {dag for dag, _ in run_ids} == {"htx_ingest", "htx_publish"}
    records = bench.run_records(settings.state_dir, run_ids)
    stage_rows = [r for r in records if r["step"] == "stage"]
    # Batches of two: one record per mapped stage task, keyed by its map index.
    assert sorted(r["map_index"] for r in stage_rows) == [0, 1]
    assert {r["task_id"] for r in stage_rows} == {"stage"}
    assert sum(r["files"] for r in stage_rows) == len(chosen) == 4
    [command] = [r for r in records if r["step"] == "htx-run"]
    assert run.started <= command["init_started"] <= command["init_done"]
    assert command["init_done"] <= command["dags_done"] <= command["ended"] <= run.ended

    tasks = bench.task_times(settings.airflow_home / "airflow.db", run_ids)
    assert {t: v["count"] for t, v in tasks.items()} == {
        "discover": 1,
        "stage": 2,
        "load": 1,
        "alert": 1,
        "publish": 1,
        "exports": 1,
    }
    phases = bench.run_phases(run, records, tasks)
    assert all(phases[k] is not None and phases[k] >= 0 for k in phases), phases
    assert phases["wall"] == pytest.approx(sum(r["wall_s"] for r in stage_rows))


def test_the_bench_breakdown_and_outcomes_come_from_recorded_facts(measured_run):
    settings, _chosen, run, run_ids = measured_run
    rows = bench.stage_breakdown(
        {"full": run}, settings.airflow_home / "airflow.db", {"full": run_ids}, settings.state_dir
    )
    assert rows["stage task instances"]["full"] == 2
    assert rows["total (wall)"]["full"] == run.wall_s
    for stage in (
        "htx start-up (imports, settings)",
        "Airflow set-up in htx run (db migrate, pool)",
        "DAG parse, DAG run created",
        "stage: read (calamine, headers, types, identify)",
        "stage: validate (frames, lookups, GX suites)",
        "load (task)",
        "exports and reports (exports task)",
        "after the DAG: run marked, summary, exit",
    ):
        assert rows[stage]["full"] is not None, stage
        assert rows[stage]["full"] >= 0, stage
    # The ledger's outcomes: the broken resubmission quarantined, the rest loaded.
    assert bench.file_status(settings.ledger) == {"loaded": 3, "quarantined": 1}
    assert bench.file_status(settings.ledger, "665_2024_sua.xlsx") == "quarantined"
    # The first run wrote every feedback workbook there is, the broken file's among them.
    written = sorted((settings.export_dir / "feedback").glob("*.xlsx"))
    assert any(p.name.startswith("665_2024_") for p in written)
    assert bench.feedback_written(settings.export_dir, run) == len(written)
