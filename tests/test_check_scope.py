"""The checks across files restricted to a run's files (`check_warehouse(con, run_files)`)
give, after `for_run`, the same warnings as the checks over every file: on a sequence of new
files, late files, a resubmission and reports of 2025 and 2026. Real stages and builds."""

from __future__ import annotations

import pytest
from conftest import HTX_HEADER, htx_row, info_rows, query, run_steps, write_xlsx

import etl.quality.validate as validate

A, B, C, D, E = (f"640000000{i}" for i in range(1, 6))


def _workbook(settings, name, unit, year, coops) -> None:
    rows = [HTX_HEADER] + [htx_row(i, code, **v) for i, (code, v) in enumerate(coops, 1)]
    write_xlsx(settings.landing_dir / name, {"ThongTin": info_rows(unit, year), "HTX": rows})


def _coops(*codes, **values) -> list[tuple[str, dict]]:
    return [(code, dict(values)) for code in codes]


def _same(found: dict) -> dict[int, list]:
    """Per file, its warnings in one order (the checks' SQL gives rows in no set order)."""
    return {f: sorted(items, key=repr) for f, items in found.items() if items}


@pytest.fixture
def compared(monkeypatch):
    """Every build's checks run twice, restricted and over every file: `for_run` of both
    must agree. Yields (run files, restricted rows, all rows, the warnings) per build."""
    seen: list[tuple[list[int], int, int, dict]] = []
    checks = validate.check_warehouse

    def both(con, run_files=None):
        restricted = checks(con, run_files)
        everything = checks(con)
        if run_files is not None:
            mine = _same(validate.for_run(restricted, run_files))
            assert mine == _same(validate.for_run(everything, run_files))
            count = sum(map(len, restricted.values()))
            seen.append((sorted(run_files), count, sum(map(len, everything.values())), mine))
        return restricted

    monkeypatch.setattr(validate, "check_warehouse", both)
    return seen


def _rules(found: dict) -> set[str]:
    return {f.rule for items in found.values() for f in items}


def test_restricted_checks_give_the_same_warnings_for_the_run(settings, compared):
    # Run 1: two districts in 2022.
    _workbook(settings, "663_2022.xlsx", "663", 2022, _coops(A, B, C, D))
    _workbook(settings, "664_2022.xlsx", "664", 2022, _coops(E, **{"Xã/Phường": "Nâm Nung"}))
    run_steps(settings, "run-1")
    # Run 2: 2023: A's revenue jumps, C and D are missing (and the count drops), A is also
    # in 664's report.
    _workbook(settings, "663_2023.xlsx", "663", 2023, [(A, {"Doanh thu": 99999}), (B, {})])
    _workbook(settings, "664_2023.xlsx", "664", 2023, _coops(E, A, **{"Xã/Phường": "Nâm Nung"}))
    run_steps(settings, "run-2")
    # Run 3: a late 2021 report (warnings of 2022's files move to it) and a resubmitted
    # 663_2023 (B's members jump now).
    _workbook(settings, "663_2021.xlsx", "663", 2021, _coops(A, B, C, **{"Doanh thu": 10}))
    _workbook(
        settings,
        "663_2023.xlsx",
        "663",
        2023,
        [(A, {"Doanh thu": 99999}), (B, {"Số thành viên": 900}), (C, {})],
    )
    run_steps(settings, "run-3")
    # Run 4: 2025: the province over a district, and a name several communes fit.
    _workbook(settings, "663_2024.xlsx", "663", 2024, _coops(A, B, C))
    _workbook(settings, "68_2025.xlsx", "68", 2025, _coops(A, B, D, **{"Xã/Phường": "Tân Thành"}))
    _workbook(settings, "664_2025.xlsx", "664", 2025, _coops(E, D, **{"Xã/Phường": "Nâm Nung"}))
    run_steps(settings, "run-4")
    # Run 5: 2026: the province, then a commune naming one of its cooperatives.
    _workbook(settings, "68_2026.xlsx", "68", 2026, _coops(A, B, **{"Xã/Phường": None}))
    run_steps(settings, "run-5")
    _workbook(settings, "24611_2026.xlsx", "24611", 2026, _coops(C, A, **{"Xã/Phường": None}))
    run_steps(settings, "run-6")
    # Run 7: a late 2025 district report in the province's area: the province's 2026 row
    # (its total over 2025's reports, now 8, against 2026's 3) is caused by it.
    late = _coops(A, B, C, *(f"640000000{i}" for i in range(6, 9)))
    _workbook(settings, "663_2025.xlsx", "663", 2025, late)
    run_steps(settings, "run-7")

    assert len(compared) == 7
    province = [
        f
        for items in compared[-1][3].values()
        for f in items
        if f.rule == "unit_count_change" and f.value == "3 (2025: 8)"
    ]
    assert province, compared[-1][3]
    found = {rule for *_, mine in compared for rule in _rules(mine)}
    assert found >= {
        "revenue_jump",
        "members_jump",
        "coop_code_in_two_units",
        "coop_missing_next_year",
        "unit_count_change",
        "province_report_wins",
        "commune_report_wins",
        "commune_ambiguous",
    }
    # The restriction left out rows: fewer warnings found than over every file.
    assert any(restricted < everything for _, restricted, everything, _ in compared)
    # What was stored is what the restricted checks found.
    stored = query(settings, "select count(*) from audit.rejected_row where severity = 'warning'")
    assert stored[0][0] > 0


def test_a_run_of_every_file_is_not_restricted(settings, monkeypatch):
    _workbook(settings, "663_2022.xlsx", "663", 2022, _coops(A, B))
    _workbook(settings, "663_2023.xlsx", "663", 2023, _coops(A))
    scopes: list = []
    prepare = validate._prepare_checks

    def spy(con, run_files=None):
        scope = prepare(con, run_files)
        scopes.append((run_files is None, scope))
        return scope

    monkeypatch.setattr(validate, "_prepare_checks", spy)
    run_steps(settings)
    assert scopes == [(False, None)]


def test_the_files_checked_again_are_those_of_the_run_s_provinces_and_years():
    """`ledger.cross_warned`: a run's 2026 commune report of Lâm Đồng (68) checks again the
    2025 report of Lâm Đồng that holds warnings across files (its warnings may lose their
    cause), never Đắk Lắk's (66), nor a 2023 report (two years before), nor a file that
    holds none, nor a superseded one; a unit of no known province: every candidate."""
    import duckdb

    from etl.contract.reference import load_reference
    from etl.warehouse import ledger

    con = duckdb.connect()
    con.execute(
        """
        create schema audit;
        create table audit.file_ingestion as
        select * from (values
            (1, '68', 2025, 'loaded'), (2, '66', 2025, 'loaded'), (3, '664', 2023, 'loaded'),
            (4, '67', 2025, 'loaded'), (5, '67', 2025, 'superseded'),
            (6, '24611', 2026, 'loaded'), (7, '999', 2026, 'loaded')
        ) as t(file_id, unit_code, report_year, status);
        create table audit.rejected_row as
        select * from (values
            (1, 'revenue_jump'), (2, 'revenue_jump'), (3, 'revenue_jump'),
            (5, 'coop_missing_next_year'), (6, 'revenue_jump'), (1, 'coop_code_required')
        ) as t(file_id, rule);
        """
    )
    rules = ["revenue_jump", "coop_missing_next_year"]
    region = load_reference().region
    assert ledger.cross_warned(con, rules, [6], region) == [1]
    assert ledger.cross_warned(con, rules, [6]) == [1, 2]  # without regions: every province
    assert ledger.cross_warned(con, rules, [7], region) == [1, 2, 6]  # unit 999: in doubt
    # A rule comparing units of any province (`anywhere`): its files, whatever their province.
    assert ledger.cross_warned(con, rules, [6], region, ["revenue_jump"]) == [1, 2]
    # A rule a report of another province may withdraw in the same year (`anywhere_in_year`:
    # a cooperative missing from 24611's report that Đắk Lắk's 24604 reports moved): the
    # files holding it of the run's report years, whatever their province; not of others.
    con.execute("insert into audit.file_ingestion values (8, '24604', 2026, 'loaded')")
    con.execute(
        "insert into audit.rejected_row values (8, 'coop_missing_next_year'), "
        "(2, 'coop_missing_next_year')"
    )
    assert ledger.cross_warned(con, rules, [6], region) == [1]
    assert ledger.cross_warned(con, rules, [6], region, [], ["coop_missing_next_year"]) == [1, 8]
