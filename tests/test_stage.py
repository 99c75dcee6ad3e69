"""A stage task's batch split across forked processes stages exactly what one process does."""

from __future__ import annotations

import logging

import duckdb
from conftest import run_steps, snapshot, with_landing

from etl.flow.tasks import discover_files
from etl.read.discover import LandedFile
from etl.warehouse import staging
from etl.warehouse.staging import read_outcome, sheet_files, split, stage_batch


def test_split_keeps_order_and_a_minimum_chunk():
    files = list(range(10))
    assert split(files, 2, 5) == [files[:5], files[5:]]
    assert split(files, 2, 6) == [files]  # two chunks would be under the minimum
    assert split(files, 4, 3) == [files[:4], files[4:7], files[7:]]
    assert split(list(range(401)), 2, 25) == [list(range(201)), list(range(201, 401))]
    assert split([], 2, 1) == [[]]


def _rows(staging, outcome) -> list[tuple]:
    rows = []
    for key, path in sorted(sheet_files(staging, outcome).items()):
        found = duckdb.sql(
            f"select * exclude (file_id) from read_parquet('{path}') where file_id = "
            f"{outcome['file_id']} order by excel_row"
        ).fetchall()
        rows.append((key, found))
    return rows


def test_forked_processes_stage_what_one_process_stages(sample_landing, tmp_path, caplog):
    settings = with_landing(tmp_path / "w", sample_landing)
    files = [LandedFile(**f) for f in discover_files(settings)]
    alone = stage_batch(files, tmp_path / "one", "run", processes=1)
    caplog.clear()  # only the forked run's records below
    with caplog.at_level(logging.INFO, logger="etl"):
        forked = stage_batch(files, tmp_path / "two", "run", processes=3, min_chunk=5)
    assert forked == alone  # the same summaries, in the same order

    for summary in alone:
        one = read_outcome(tmp_path / "one", summary["file_id"])
        two = read_outcome(tmp_path / "two", summary["file_id"])
        assert (two["status"], two["reason"], two["findings"]) == (
            one["status"],
            one["reason"],
            one["findings"],
        )
        assert two.get("staged_digest") == one.get("staged_digest")
        if one["status"] == "valid":
            assert _rows(tmp_path / "two", two) == _rows(tmp_path / "one", one)
    # Three chunks, so three batch folders; the forks' log lines reach this process's log.
    folders = {read_outcome(tmp_path / "two", s["file_id"]).get("staged_in") for s in alone}
    assert len(folders - {None}) == 3
    reading = [r for r in caplog.records if r.getMessage().startswith("reading ")]
    assert len(reading) == len([f for f in files if f.duplicate_of is None])
    assert any("in 3 process(es)" in r.getMessage() for r in caplog.records)


def test_a_run_staged_in_processes_makes_the_single_run_warehouse(
    sample_landing, single_run, tmp_path, monkeypatch
):
    monkeypatch.setattr(staging, "MIN_CHUNK", 5)
    settings = with_landing(tmp_path / "w", sample_landing)
    from dataclasses import replace

    run_steps(replace(settings, processes=2))
    assert snapshot(settings) == single_run
