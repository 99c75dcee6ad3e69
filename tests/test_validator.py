"""The warm validator of `htx run` (etl.quality.validator): the same findings as validating
in process, started only when the landing folder may hold something new, killed with its
parent, and a dead one leaves validation to the process itself."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from etl.cli import main
from etl.config import PROJECT_ROOT, settings_under
from etl.quality import validate, validator
from etl.read.discover import LandedFile, file_id_for, sha256_of
from etl.warehouse.staging import outcome_path, stage_batch

CORPUS = Path(__file__).parent / "corpus"


def _landed(folder: Path) -> list[LandedFile]:
    files = []
    for path in sorted(folder.glob("*.xlsx")):
        sha = sha256_of(path)
        files.append(LandedFile(file_id_for(sha), path.name, sha, path.stat().st_size, str(path)))
    return files


def _outcomes(staging: Path, files: list[LandedFile]) -> dict[int, dict]:
    return {
        f.file_id: json.loads(outcome_path(staging, f.file_id).read_text(encoding="utf-8"))
        for f in files
    }


def test_the_validator_finds_what_the_process_finds_on_the_test_corpus(tmp_path, warm, monkeypatch):
    """Every file of the test corpus staged twice, its frames validated by the validator and
    then in this process: the same outcomes, findings and staged rows."""
    files = _landed(CORPUS)
    assert len(files) > 30
    with monkeypatch.context() as here:
        here.setattr(validate, "_run", lambda *args: pytest.fail("validated in this process"))
        stage_batch(files, tmp_path / "remote", "run")
    assert not warm.broken
    validator.stop()  # the same code in this process
    stage_batch(files, tmp_path / "local", "run")
    remote = _outcomes(tmp_path / "remote", files)
    local = _outcomes(tmp_path / "local", files)
    assert remote == local
    assert sum(len(o["findings"]) for o in local.values()) > 20  # rules failed, rows named
    for outcome in local.values():
        if outcome.get("staged_in"):
            folder = outcome["staged_in"]
            for part in sorted((tmp_path / "local" / folder).glob("*.parquet")):
                other = tmp_path / "remote" / folder / part.name
                pd.testing.assert_frame_equal(pd.read_parquet(part), pd.read_parquet(other))


def test_a_validation_error_there_is_raised_here(warm):
    """A frame whose finding cannot be told (a failing code, and no `excel_row` to name
    its row by) fails there as it does in process: the same error, told the same way."""
    frame = pd.DataFrame({"file_id": [1], "sheet_name": ["HTX"], "coop_code": ["bad"]})
    items = [("htx", frame, {}, None)]
    with pytest.raises(KeyError, match="excel_row") as remote:
        validate._run_all(items)
    assert not warm.broken
    validator.stop()
    with pytest.raises(KeyError, match="excel_row") as local:
        validate._run_all(items)
    assert type(remote.value) is type(local.value)
    assert str(remote.value) == str(local.value)


def test_a_dead_validator_leaves_validation_to_this_process(tmp_path, warm, caplog):
    # Files with rows a rule can fail: only those are validated (`etl.quality.narrow`).
    files = _landed(CORPUS)
    warm.process.kill()
    warm.process.join()
    stage_batch(files, tmp_path / "fallback", "run")
    assert warm.broken
    assert "the warm validator is unavailable" in caplog.text
    validator.stop()
    stage_batch(files, tmp_path / "local", "run")
    local = _outcomes(tmp_path / "local", files)
    assert _outcomes(tmp_path / "fallback", files) == local
    assert sum(len(o["findings"]) for o in local.values()) > 20


def test_nothing_to_validate_sends_nothing(warm, monkeypatch):
    """Empty frames are not validated: no request, as no GX in process."""
    monkeypatch.setattr(validator, "call", lambda *args: pytest.fail("asked the validator"))
    assert validate._run_all([("htx", pd.DataFrame(), {}, None)]) == [[]]


_PARENT = """
import sys
from etl.quality import validator
print(validator.start().process.pid, flush=True)
sys.stdin.read()
"""


def test_the_validator_dies_with_its_parent():
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=PROJECT_ROOT,
        text=True,
    )
    try:
        pid = int(parent.stdout.readline())
        ended = os.pidfd_open(pid)
    finally:
        parent.kill()
        parent.wait()
    try:
        # The pidfd turns readable when the process ends (no polling of its state).
        readable, _, _ = select.select([ended], [], [], 120)
        assert readable == [ended], "the validator outlived its killed parent"
    finally:
        os.close(ended)


# `htx run`: when it starts a validator


@pytest.fixture
def command(tmp_path, monkeypatch):
    """`htx run` with Airflow's part replaced: what each run saw of the validator."""
    settings = settings_under(tmp_path)
    for name, value in settings.htx_environ().items():
        monkeypatch.setenv(name, value)
    seen: dict = {"started": [], "state": "success"}

    def run_dags(settings):
        seen["started"].append(validator.current() is not None)
        return [main.DagRunResult("htx_ingest", f"run{len(seen['started'])}", seen["state"])]

    class _Started:
        def stop(self) -> None:
            seen["stopped"] = True

    def start(*warm_ups):
        seen["warm_ups"] = [f"{w.__module__}.{w.__qualname__}" for w in warm_ups]
        validator._current = _Started()  # type: ignore[assignment]
        return validator._current

    monkeypatch.setattr(main, "init_airflow", lambda settings: None)
    monkeypatch.setattr(main, "run_dags", run_dags)
    monkeypatch.setattr(main, "_record_command", lambda *args: None)
    monkeypatch.setattr("etl.outputs.summary.print_summary", lambda *args, **kwargs: None)
    monkeypatch.setattr(validator, "start", start)
    seen["landing"] = settings.landing_dir
    seen["landing"].mkdir(parents=True)
    return seen


def test_the_validator_starts_only_when_something_may_be_new(command):
    landing = command["landing"]
    shutil.copyfile(CORPUS / "d01_title_signature.xlsx", landing / "663_2023.xlsx")
    main.cmd_run(None)  # the first run: nothing seen yet
    main.cmd_run(None)  # nothing new
    shutil.copyfile(CORPUS / "d02_two_row_header.xlsx", landing / "663_2022.xlsx")
    main.cmd_run(None)  # a new file
    main.cmd_run(None)
    path = landing / "663_2022.xlsx"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1))
    main.cmd_run(None)  # a file written again
    assert command["started"] == [True, False, True, False, True]
    assert validator.current() is None  # stopped with each run
    # It builds the suites and starts the charts' renderer while Airflow starts.
    assert command["warm_ups"] == ["etl.quality.validate.prepare", "etl.outputs.charts.warm"]


def test_after_a_failed_run_the_validator_starts_again(command):
    shutil.copyfile(CORPUS / "d01_title_signature.xlsx", command["landing"] / "663_2023.xlsx")
    command["state"] = "failed"
    main.cmd_run(None)
    main.cmd_run(None)
    command["state"] = "success"
    main.cmd_run(None)
    main.cmd_run(None)
    assert command["started"] == [True, True, True, False]


def test_new_rules_start_the_validator(command, monkeypatch):
    shutil.copyfile(CORPUS / "d01_title_signature.xlsx", command["landing"] / "663_2023.xlsx")
    main.cmd_run(None)
    monkeypatch.setattr("etl.warehouse.stamp.staging_stamp", lambda limits=None: "other rules")
    main.cmd_run(None)
    assert command["started"] == [True, True]


def test_the_validator_is_stopped_when_the_run_raises(command, monkeypatch):
    shutil.copyfile(CORPUS / "d01_title_signature.xlsx", command["landing"] / "663_2023.xlsx")
    monkeypatch.setattr(main, "run_dags", lambda settings: (_ for _ in ()).throw(OSError("no DAG")))
    with pytest.raises(OSError, match="no DAG"):
        main.cmd_run(None)
    assert command.get("stopped")
    assert validator.current() is None


def test_other_gx_work_is_called_there_and_raises_here(warm):
    assert validator.call(os.getpid) == warm.process.pid
    with pytest.raises(ValueError, match="invalid literal"):
        validator.call(int, "not a number")
    validator.stop()
    assert validator.call(os.getpid) == os.getpid()


def test_the_data_docs_site_built_there_is_the_one_built_here(tmp_path, warm):
    import duckdb

    from etl.quality.data_docs import build_site

    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute(
        "create schema audit; "
        "create table audit.rejected_row (file_id bigint, rule varchar, severity varchar); "
        "insert into audit.rejected_row values (1, 'coop_code_format', 'error'), "
        "(1, 'coop_code_format', 'error'), (2, 'coop_missing_next_year', 'warning'); "
        "alter table audit.rejected_row add column sheet varchar"
    )
    con.close()
    build_site(warehouse, tmp_path / "there")
    assert not warm.broken
    validator.stop()
    build_site(warehouse, tmp_path / "here")

    def pages(site: Path) -> list[str]:
        return sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())

    there, here = pages(tmp_path / "there"), pages(tmp_path / "here")
    assert len(here) > 10
    # The stored results are named by their run's time: the same pages otherwise.
    assert [re.sub(r"\d{8}T\d{6}\.\d+Z", "T", p) for p in there] == [
        re.sub(r"\d{8}T\d{6}\.\d+Z", "T", p) for p in here
    ]
    for name in ("htx_content_key.txt", "index.html"):
        assert (tmp_path / "there" / name).is_file()
    key = (tmp_path / "there" / "htx_content_key.txt").read_text()
    assert key == (tmp_path / "here" / "htx_content_key.txt").read_text()


def test_a_failed_submitted_job_is_told_at_the_settle_though_more_came_after(warm):
    """Work handed over (`submit`) runs there while this process goes on; `settle` waits for
    all of it and tells the first failure since the last settle, even when work submitted
    after it succeeded (the load hands over the Data Docs, the publish the report's charts:
    the exports settle once)."""
    assert validator.submit(int, "not a number")
    assert validator.submit(float, "nor this")
    assert validator.submit(os.getpid)
    failure = validator.settle()
    assert failure is not None
    assert "invalid literal for int()" in failure  # the first failure, not the last
    assert "could not convert string to float" not in failure
    assert validator.settle() is None  # told once
    assert validator.submit(os.getpid)
    assert validator.settle() is None
    assert validator.call(os.getpid) == warm.process.pid  # it serves on
