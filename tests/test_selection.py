"""What a run takes on, from the DAG run's Params: a report year, a unit, `force`."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import HTX_HEADER, htx_row, info_rows, query, run_steps, write_xlsx

from etl.flow.tasks import Selection


def _workbook(settings, name, unit, year, code, prepared=None):
    sheets = {"ThongTin": info_rows(unit, year, prepared), "HTX": [HTX_HEADER, htx_row(1, code)]}
    write_xlsx(settings.landing_dir / name, sheets)


def _ledger(settings, sql, params=None):
    return query(dataclasses.replace(settings, warehouse=settings.ledger), sql, params)


def test_params_are_read_with_empty_values_meaning_any():
    assert Selection.from_params({"year": None, "unit_code": "", "force": False}) == Selection()
    chosen = Selection.from_params({"year": "2023", "unit_code": " 663 ", "force": True})
    assert chosen == Selection(year=2023, unit_code="663", force=True)
    assert str(chosen) == "year=2023 unit=663 force=true"


def test_a_narrowed_run_leaves_other_new_files_for_the_next_run(settings):
    _workbook(settings, "663_2022.xlsx", "663", 2022, "6400000001")
    _workbook(settings, "664_2022.xlsx", "664", 2022, "6400000002")
    _workbook(settings, "663_2023.xlsx", "663", 2023, "6400000001")
    # No ThongTin and a name that tells nothing: no run narrowed to a unit can take it.
    write_xlsx(
        settings.landing_dir / "baocao.xlsx", {"HTX": [HTX_HEADER, htx_row(1, "6400000003")]}
    )

    run_steps(settings, "run-663", Selection(unit_code="663"))
    assert query(settings, "select file_name from audit.file_ingestion order by 1") == [
        ("663_2022.xlsx",),
        ("663_2023.xlsx",),
    ]

    run_steps(settings, "run-any")  # the hourly run takes the rest
    found = query(settings, "select file_name, status, run_id from audit.file_ingestion order by 1")
    assert found == [
        ("663_2022.xlsx", "loaded", "run-663"),
        ("663_2023.xlsx", "loaded", "run-663"),
        ("664_2022.xlsx", "loaded", "run-any"),
        ("baocao.xlsx", "quarantined", "run-any"),
    ]


def test_force_reprocesses_recorded_files_of_one_unit_and_year_from_their_raw_copies(settings):
    _workbook(settings, "663_2022.xlsx", "663", 2022, "6400000001")
    _workbook(settings, "664_2022.xlsx", "664", 2022, "6400000002")
    run_steps(settings, "run-1")
    arrived = _ledger(
        settings, "select file_name, ingested_at from audit.file_ingestion order by 1"
    )
    # The clerk's copy is gone from the landing folder: the raw copy is what is re-read.
    (settings.landing_dir / "663_2022.xlsx").unlink()

    result = run_steps(settings, "run-2", Selection(year=2022, unit_code="663", force=True))
    assert result == {"changed": False, "files": 1}  # same file, same rules: same warehouse
    assert _ledger(settings, "select file_name, run_id from audit.file_ingestion order by 1") == [
        ("663_2022.xlsx", "run-2"),
        ("664_2022.xlsx", "run-1"),
    ]
    # Reprocessing does not make a file arrive later.
    assert (
        _ledger(settings, "select file_name, ingested_at from audit.file_ingestion order by 1")
        == arrived
    )


def test_force_keeps_which_resubmission_wins(settings):
    """Two files for one unit and year, same `Ngày lập`: the later arrival wins, and
    reprocessing the earlier one must not turn it into the later one."""
    _workbook(settings, "663_2022.xlsx", "663", 2022, "6400000001")
    run_steps(settings, "run-1")
    _workbook(settings, "663_2022_sua.xlsx", "663", 2022, "6400000002")
    run_steps(settings, "run-2")
    before = query(settings, "select file_name, status from audit.file_ingestion order by 1")
    assert before == [("663_2022.xlsx", "superseded"), ("663_2022_sua.xlsx", "loaded")]

    run_steps(settings, "run-3", Selection(force=True))
    after = _ledger(
        settings, "select file_name, status, run_id from audit.file_ingestion order by 1"
    )
    assert after == [
        ("663_2022.xlsx", "superseded", "run-3"),
        ("663_2022_sua.xlsx", "loaded", "run-3"),
    ]


@pytest.mark.parametrize("year", [2021, 2030])
def test_force_for_a_year_without_files_does_nothing(settings, year):
    _workbook(settings, "663_2022.xlsx", "663", 2022, "6400000001")
    run_steps(settings, "run-1")
    assert run_steps(settings, "run-2", Selection(year=year, force=True)) == {
        "changed": False,
        "files": 0,
    }


def _members(settings):
    return dict(
        query(
            settings,
            "select d.coop_code, f.members from core.fact_cooperative_year f "
            "join core.dim_cooperative d using (cooperative_key) order by 1",
        )
    )


def test_force_after_a_reader_change_republishes_only_when_the_rows_differ(settings, monkeypatch):
    """Two files staged in one batch; one is reprocessed after the reading changed: the
    warehouse takes its new rows from the new batch and the other file's from the old one,
    once each."""
    from etl.warehouse import staging

    _workbook(settings, "663_2022.xlsx", "663", 2022, "6400000001")
    _workbook(settings, "664_2022.xlsx", "664", 2022, "6400000002")
    assert run_steps(settings, "run-1")["changed"] is True
    assert _members(settings) == {"6400000001": 40, "6400000002": 40}
    published = settings.warehouse.read_bytes()

    # Reprocessing with the same reading: same rows, nothing rebuilt, nothing published.
    assert run_steps(settings, "run-2", Selection(unit_code="663", force=True))["changed"] is False
    assert settings.warehouse.read_bytes() == published

    # A corrected rule (here: the members column read ×10) changes the staged rows.
    original = staging.read_workbook

    def corrected(*args, **kwargs):
        read = original(*args, **kwargs)
        for row in read.sheets["htx"].rows:
            row["members"] = row["members"] * 10
        return read

    monkeypatch.setattr(staging, "read_workbook", corrected)
    assert run_steps(settings, "run-3", Selection(unit_code="663", force=True))["changed"] is True
    assert _members(settings) == {"6400000001": 400, "6400000002": 40}
    rows = query(settings, "select count(*) from core.fact_cooperative_year")
    assert rows == [(2,)]
