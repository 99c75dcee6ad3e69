"""How many files a mapped `stage` task takes: HTX_BATCH_SIZE when set; else 400 under a
scheduler (tasks side by side, one process each) and, in `htx run` (one task at a time,
every core), the whole landing folder up to RUN_BATCH_SIZE files."""

from __future__ import annotations

import pytest

from etl.cli import main
from etl.config import RUN_BATCH_SIZE, SCHEDULER_BATCH_SIZE, load_settings, settings_under
from etl.flow.tasks import batches
from etl.quality import validator


def test_unset_the_scheduler_default_applies(tmp_path):
    settings = settings_under(tmp_path)
    assert settings.batch_size is None
    assert settings.stage_batch_size == SCHEDULER_BATCH_SIZE == 400
    assert "HTX_BATCH_SIZE" not in settings.htx_environ()
    files = [{"file_id": i} for i in range(3500)]  # the national corpus, 5 years
    assert [len(b) for b in batches(files, settings.stage_batch_size)] == [400] * 8 + [300]


def test_a_set_size_is_kept_and_passed_on(tmp_path):
    settings = settings_under(tmp_path, HTX_BATCH_SIZE="25")
    assert settings.stage_batch_size == 25
    assert settings.htx_environ()["HTX_BATCH_SIZE"] == "25"
    assert load_settings(settings.htx_environ()).stage_batch_size == 25


@pytest.fixture
def command(tmp_path, monkeypatch):
    """`htx run` with Airflow's part replaced: the stage batch size its DAG runs would see."""
    settings = settings_under(tmp_path)
    for name, value in settings.htx_environ().items():
        monkeypatch.setenv(name, value)
    for name in ("HTX_BATCH_SIZE", "HTX_PROCESSES"):  # what htx run sets is undone after
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    seen: list[int] = []

    def run_dags(_settings):
        seen.append(load_settings().stage_batch_size)  # as the discover task reads it
        return [main.DagRunResult("htx_ingest", f"run{len(seen)}", "success")]

    monkeypatch.setattr(main, "init_airflow", lambda settings: None)
    monkeypatch.setattr(main, "run_dags", run_dags)
    monkeypatch.setattr(main, "_record_command", lambda *args: None)
    monkeypatch.setattr("etl.outputs.summary.print_summary", lambda *args, **kwargs: None)
    monkeypatch.setattr(validator, "start", lambda *warm_ups: None)
    settings.landing_dir.mkdir(parents=True)
    (settings.landing_dir / "663_2024.xlsx").write_bytes(b"not read here")
    return seen, monkeypatch


def test_htx_run_gives_one_stage_task_the_whole_landing(command):
    seen, _ = command
    assert main.cmd_run(None) == 0
    assert seen == [RUN_BATCH_SIZE]
    assert RUN_BATCH_SIZE >= 8500  # the national corpus ten years deep: one task


def test_htx_run_keeps_a_batch_size_that_is_set(command):
    seen, monkeypatch = command
    monkeypatch.setenv("HTX_BATCH_SIZE", "50")
    assert main.cmd_run(None) == 0
    assert seen == [50]


def test_no_file_is_one_empty_batch_that_stages_nothing(tmp_path):
    """With nothing new `stage` still runs once, on an empty batch (a mapped task over no
    batch is skipped, and `load` would wait for Airflow's next pass), and stages nothing."""
    from etl.flow.tasks import stage

    settings = settings_under(tmp_path)
    assert batches([], 400) == [[]]
    assert stage(settings, [], "run-1") == []
    assert not settings.staging_dir.exists()
