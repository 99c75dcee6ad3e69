"""The checks after the 2025 reorganisation (issue 15): funding sources by year, the order of
precedence between reports, continuity into the next year's reports, like-with-like counts,
and a new file never warning files of earlier runs but where the contract names the file
warned (a province report a commune's outranks). Real stages and builds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from conftest import (
    HTX_HEADER,
    SUPPORT_HEADER,
    htx_row,
    info_rows,
    logged,
    query,
    run_steps,
    write_xlsx,
)

from etl.flow.tasks import Selection
from etl.quality.feedback import LOI_HEADER_ROW
from etl.read.discover import LandedFile, file_id_for, sha256_of
from etl.warehouse import ledger
from etl.warehouse.staging import read_outcome, stage_batch

A, B, C, D = "6400000001", "6400000002", "6400000003", "6400000004"


def _workbook(settings, name, unit, year, coops, support=None) -> Path:
    rows = [HTX_HEADER] + [htx_row(i, code, **v) for i, (code, v) in enumerate(coops, 1)]
    sheets = {"ThongTin": info_rows(unit, year), "HTX": rows}
    if support:
        sheets["HoTro"] = [SUPPORT_HEADER, *support]
    return write_xlsx(settings.landing_dir / name, sheets)


def _coops(*codes, **values) -> list[tuple[str, dict]]:
    return [(code, dict(values)) for code in codes]


def _cross(settings, rules=None) -> set[tuple]:
    """(file, rule, excel_row, value) of the warnings across files and years."""
    rules = rules or [
        "coop_code_in_two_units",
        "commune_report_wins",
        "province_report_wins",
        "coop_missing_next_year",
        "unit_count_change",
        "revenue_jump",
        "members_jump",
    ]
    return set(
        query(
            settings,
            "select i.file_name, r.rule, r.excel_row, r.value from audit.rejected_row r "
            "join audit.file_ingestion i using (file_id) where list_contains(?, r.rule)",
            [rules],
        )
    )


def _statuses(settings) -> dict[str, str]:
    return dict(query(settings, "select file_name, status from audit.file_ingestion"))


def _rows(settings) -> dict[str, tuple[int, int]]:
    """(rows read, rows loaded) by file: a row another report outranks is read, not loaded."""
    found = query(settings, "select file_name, rows_read, rows_loaded from audit.file_ingestion")
    return {name: (read, loaded) for name, read, loaded in found}


# --- funding sources by report year ----------------------------------------------------


def _funding_findings(tmp_path: Path, name: str, unit: str, year: int, sources: list[str]):
    support = [[A, "NTM", f"Nội dung {i}", s, 100, year] for i, s in enumerate(sources)]
    sheets = {
        "ThongTin": info_rows(unit, year),
        "HTX": [HTX_HEADER, htx_row(1, A, **{"Xã/Phường": None})],
        "HoTro": [SUPPORT_HEADER, *support],
    }
    path = write_xlsx(tmp_path / "landing" / name, sheets)
    sha = sha256_of(path)
    landed = LandedFile(file_id_for(sha), name, sha, path.stat().st_size, str(path))
    [summary] = stage_batch([landed], tmp_path / "staging", "test-run")
    outcome = read_outcome(tmp_path / "staging", summary["file_id"])
    assert outcome["status"] == "valid", outcome.get("reason")
    return [
        (f["severity"], f["value"], f["cell"])
        for f in outcome["findings"]
        if f["rule"] == "funding_source_known"
    ]


def test_xa_is_a_funding_source_from_2025_and_huyen_up_to_2025(tmp_path):
    sources = ["Xã", "Huyện", "Tỉnh"]
    # 2024 (a district): Xã is not yet a source; Huyện is.
    assert _funding_findings(tmp_path / "a", "663_2024.xlsx", "663", 2024, sources) == [
        ("warning", "Xã", "D2")
    ]
    # 2025 (the province): both.
    assert _funding_findings(tmp_path / "b", "68_2025.xlsx", "68", 2025, sources) == []
    # 2026 (a commune): Xã is fine, Huyện no longer exists.
    assert _funding_findings(tmp_path / "c", "24611_2026.xlsx", "24611", 2026, sources) == [
        ("warning", "Huyện", "D3")
    ]


# --- the order of precedence between reports --------------------------------------------


def test_a_commune_report_wins_over_the_province_with_a_warning_on_the_province_file(settings):
    _workbook(settings, "68_2026.xlsx", "68", 2026, _coops(A, B, **{"Xã/Phường": None}))
    _workbook(settings, "24611_2026.xlsx", "24611", 2026, _coops(A, **{"Xã/Phường": None}))
    run_steps(settings)
    assert set(_statuses(settings).values()) == {"loaded"}
    found = _cross(settings, ["commune_report_wins", "province_report_wins"])
    assert found == {("68_2026.xlsx", "commune_report_wins", 2, f"{A} (24611)")}
    # The pair is not warned a second time as a code reported by two units.
    assert _cross(settings, ["coop_code_in_two_units"]) == set()
    [(message,)] = query(
        settings, "select message from audit.rejected_row where rule = 'commune_report_wins'"
    )
    assert message.startswith("HTX này có trong cả báo cáo của tỉnh và báo cáo của xã")
    assert "the commune's report counts for all of its rows" in message
    # A's province row is in no fact table: the province file loaded B's row only.
    assert _rows(settings) == {"68_2026.xlsx": (2, 1), "24611_2026.xlsx": (1, 1)}
    # Staged again on request, the same rows: nothing is built, and the ledger (which the
    # next build copies) keeps the count.
    assert not run_steps(settings, "run-2", Selection(force=True))["changed"]
    con = ledger.connect(settings.ledger, read_only=True)
    try:
        kept = con.execute("select file_name, rows_read, rows_loaded from audit.file_ingestion")
        assert {name: (r, n) for name, r, n in kept.fetchall()} == _rows(settings)
    finally:
        con.close()


def test_in_2025_the_province_report_wins_over_the_district_with_a_warning_on_the_district(
    settings,
):
    _workbook(settings, "68_2025.xlsx", "68", 2025, _coops(A, B, **{"Xã/Phường": None}))
    _workbook(settings, "663_2025.xlsx", "663", 2025, _coops(C, A))
    run_steps(settings)
    assert set(_statuses(settings).values()) == {"loaded"}
    found = _cross(settings, ["commune_report_wins", "province_report_wins"])
    assert found == {("663_2025.xlsx", "province_report_wins", 3, f"{A} (68)")}
    assert _cross(settings, ["coop_code_in_two_units"]) == set()
    assert _rows(settings) == {"68_2025.xlsx": (2, 2), "663_2025.xlsx": (2, 1)}


def test_two_units_of_equal_rank_still_warn_as_two_units(settings):
    _workbook(settings, "24611_2026.xlsx", "24611", 2026, _coops(A, **{"Xã/Phường": None}))
    _workbook(settings, "24615_2026.xlsx", "24615", 2026, _coops(A, **{"Xã/Phường": None}))
    run_steps(settings)
    found = {(f, r) for f, r, _, _ in _cross(settings)}
    assert found == {
        ("24611_2026.xlsx", "coop_code_in_two_units"),
        ("24615_2026.xlsx", "coop_code_in_two_units"),
    }


def test_a_commune_of_another_province_does_not_outrank_the_province(settings):
    """The contract orders a province and its own communes: Hà Nội's Phường Ba Đình (00004)
    naming a cooperative of Lâm Đồng's report is a second unit of equal rank, warned on both
    files as such, and the cooperative stays with 68 (the level first, with no history), not
    taken by the ward's report with a `commune_report_wins` on 68's file."""
    _workbook(settings, "68_2026.xlsx", "68", 2026, _coops(A, B, **{"Xã/Phường": None}))
    _workbook(settings, "00004_2026.xlsx", "00004", 2026, _coops(A, **{"Xã/Phường": None}))
    run_steps(settings)
    assert set(_statuses(settings).values()) == {"loaded"}
    assert _cross(settings, ["commune_report_wins", "province_report_wins"]) == set()
    assert {(f, r, row) for f, r, row, _ in _cross(settings, ["coop_code_in_two_units"])} == {
        ("68_2026.xlsx", "coop_code_in_two_units", 2),
        ("00004_2026.xlsx", "coop_code_in_two_units", 2),
    }
    assert _rows(settings) == {"68_2026.xlsx": (2, 2), "00004_2026.xlsx": (1, 0)}


def test_a_commune_wins_over_its_own_province_whatever_another_province_reports(settings):
    """68 reported A in 2025; in 2026 68, its commune 24611 and Đắk Lắk's 66 report it. 68's
    units keep it by its history, and within them the commune's report wins: 68's file is
    warned `commune_report_wins` naming 24611, and every file, 68's too, that a unit of
    another province reports the code (66 does not win A by outranking 68 with no commune)."""
    _workbook(settings, "68_2025.xlsx", "68", 2025, _coops(A, **{"Xã/Phường": None}))
    _workbook(settings, "68_2026.xlsx", "68", 2026, _coops(A, B, **{"Xã/Phường": None}))
    _workbook(settings, "24611_2026.xlsx", "24611", 2026, _coops(A, **{"Xã/Phường": None}))
    _workbook(settings, "66_2026.xlsx", "66", 2026, _coops(A, **{"Xã/Phường": None}))
    run_steps(settings)
    assert set(_statuses(settings).values()) == {"loaded"}
    assert _cross(settings, ["commune_report_wins", "province_report_wins"]) == {
        ("68_2026.xlsx", "commune_report_wins", 2, f"{A} (24611)")
    }
    assert _cross(settings, ["coop_code_in_two_units"]) == {
        ("68_2026.xlsx", "coop_code_in_two_units", 2, f"{A} (66, 68, 24611; tính/counted: 24611)"),
        ("24611_2026.xlsx", "coop_code_in_two_units", 2, f"{A} (66, 24611; tính/counted: 24611)"),
        ("66_2026.xlsx", "coop_code_in_two_units", 2, f"{A} (66, 68, 24611; tính/counted: 24611)"),
    }
    assert _rows(settings) == {
        "68_2025.xlsx": (1, 1),
        "68_2026.xlsx": (2, 1),
        "24611_2026.xlsx": (1, 1),
        "66_2026.xlsx": (1, 0),
    }


def test_a_losing_report_of_another_province_does_not_place_the_cooperative(settings):
    """A in 2026 in Lâm Đồng's commune 24611's report and in Đắk Lắk's 66 report, neither
    with history: 66 wins (its province's lowest code), and its row names no commune. A is
    under review in province 66, not placed in 24611 by the report that lost (it was, and
    counted in Lâm Đồng's commune with Đắk Lắk's figures: helper BQ)."""
    _workbook(settings, "24611_2026.xlsx", "24611", 2026, _coops(A, **{"Xã/Phường": None}))
    _workbook(settings, "66_2026.xlsx", "66", 2026, _coops(A, **{"Xã/Phường": None}))
    run_steps(settings)
    assert _rows(settings) == {"24611_2026.xlsx": (1, 0), "66_2026.xlsx": (1, 1)}
    assert query(
        settings,
        "select coop_code, placement, new_commune_code from intermediate.cooperative_placement",
    ) == [(A, "review", None)]
    assert query(
        settings,
        "select new_province_code, new_commune_code, cooperatives from marts.commune_year "
        "where year = 2026 and cooperatives > 0",
    ) == [("66", None, 1)]


def test_two_units_name_the_unit_that_counts_though_it_outranks_one_of_them(settings):
    """Hà Nội's report (01) and its district Ba Đình's (001, the first half) of 2025, and Lâm
    Đồng's (68), name A: 01 counts (its province's code is the lowest), outranks its own
    district (`province_report_wins`), and every file is told of the other province's unit;
    each value names the unit that counts (001's: 01, which is no rival of its own)."""
    _workbook(settings, "01_2025.xlsx", "01", 2025, _coops(A, **{"Xã/Phường": None}))
    _workbook(settings, "001_2025.xlsx", "001", 2025, _coops(A, **{"Xã/Phường": None}))
    _workbook(settings, "68_2025.xlsx", "68", 2025, _coops(A, **{"Xã/Phường": None}))
    run_steps(settings)
    assert _cross(settings, ["commune_report_wins", "province_report_wins"]) == {
        ("001_2025.xlsx", "province_report_wins", 2, f"{A} (01)")
    }
    assert _cross(settings, ["coop_code_in_two_units"]) == {
        ("01_2025.xlsx", "coop_code_in_two_units", 2, f"{A} (01, 68; tính/counted: 01)"),
        ("001_2025.xlsx", "coop_code_in_two_units", 2, f"{A} (01, 68, 001; tính/counted: 01)"),
        ("68_2025.xlsx", "coop_code_in_two_units", 2, f"{A} (01, 68, 001; tính/counted: 01)"),
    }


# --- continuity into the next year ------------------------------------------------------


def test_a_cooperative_missing_from_its_next_district_report_is_a_warning_on_that_report(
    settings,
):
    _workbook(settings, "663_2023.xlsx", "663", 2023, _coops(A, B))
    _workbook(settings, "663_2024.xlsx", "663", 2024, _coops(A))
    # 664 reported 2023 only: no 2024 report covers it, so nothing is missing there.
    _workbook(settings, "664_2023.xlsx", "664", 2023, _coops(C, **{"Xã/Phường": "Nâm Nung"}))
    run_steps(settings)
    found = _cross(settings, ["coop_missing_next_year"])
    assert found == {("663_2024.xlsx", "coop_missing_next_year", None, f"{B} (2023: 663)")}
    [(message, sheet)] = query(
        settings,
        "select message, sheet from audit.rejected_row where rule = 'coop_missing_next_year'",
    )
    assert sheet == "HTX"
    assert "missing from this year's report" in message


def test_the_province_in_force_covers_its_former_districts_and_a_district_may_stop(settings):
    # 2024: districts of the former Đắk Nông (67); 2025: the new Lâm Đồng (68) reports.
    _workbook(settings, "664_2024.xlsx", "664", 2024, _coops(C, D, **{"Xã/Phường": "Nâm Nung"}))
    _workbook(settings, "68_2025.xlsx", "68", 2025, _coops(C, **{"Xã/Phường": None}))
    # 2025 first half from district 663; the district no longer reports in 2026.
    _workbook(settings, "663_2025.xlsx", "663", 2025, _coops(A, B))
    _workbook(settings, "68_2026.xlsx", "68", 2026, _coops(A, C, **{"Xã/Phường": None}))
    run_steps(settings)
    found = _cross(settings, ["coop_missing_next_year"])
    assert found == {
        ("68_2025.xlsx", "coop_missing_next_year", None, f"{D} (2024: 664)"),
        ("68_2026.xlsx", "coop_missing_next_year", None, f"{B} (2025: 663)"),
    }
    # No warning on the district that stopped reporting after 2025.
    assert not {r for r in _cross(settings) if r[0] == "663_2025.xlsx"}


def test_a_commune_report_covers_the_cooperatives_placed_in_its_commune(settings):
    # 2025: A named in the new commune Bắc Gia Nghĩa (24611), D with no commune (not placed).
    _workbook(
        settings,
        "68_2025.xlsx",
        "68",
        2025,
        [
            (A, {"Xã/Phường": "Bắc Gia Nghĩa"}),
            (D, {"Xã/Phường": None}),
        ],
    )
    # 2025, first half: district 660 names B in the former Phường Nghĩa Đức, which went
    # whole into 24611 (placement by the crosswalk).
    _workbook(settings, "660_2025.xlsx", "660", 2025, _coops(B, **{"Xã/Phường": "Nghĩa Đức"}))
    # 2026: only commune 24611 reports, without A or B; nothing covers D's area.
    _workbook(settings, "24611_2026.xlsx", "24611", 2026, _coops(C, **{"Xã/Phường": None}))
    run_steps(settings)
    found = _cross(settings, ["coop_missing_next_year"])
    assert found == {
        ("24611_2026.xlsx", "coop_missing_next_year", None, f"{A} (2025: 68)"),
        ("24611_2026.xlsx", "coop_missing_next_year", None, f"{B} (2025: 660)"),
    }


def test_a_cooperative_another_commune_of_its_province_reports_the_next_year_moved(settings):
    """Named in Bắc Gia Nghĩa (24611) by the province's 2025 report, A is listed in 2026 by
    Xã Đắk Sắk (24678), not by 24611: it moved, and 24611's clerk has nothing to add. C,
    in no 2026 report, is still missing. The same whether Đắk Sắk's report comes with
    24611's or in a later run (the warning stored on 24611's report is then withdrawn)."""
    _workbook(
        settings,
        "68_2025.xlsx",
        "68",
        2025,
        _coops(A, B, C, **{"Xã/Phường": "Bắc Gia Nghĩa"}),
    )
    _workbook(settings, "24611_2026.xlsx", "24611", 2026, _coops(B, **{"Xã/Phường": None}))
    run_steps(settings, "run-1")
    assert _cross(settings, ["coop_missing_next_year"]) == {
        ("24611_2026.xlsx", "coop_missing_next_year", None, f"{A} (2025: 68)"),
        ("24611_2026.xlsx", "coop_missing_next_year", None, f"{C} (2025: 68)"),
    }
    _workbook(settings, "24678_2026.xlsx", "24678", 2026, _coops(A, D, **{"Xã/Phường": None}))
    run_steps(settings, "run-2")
    assert _cross(settings, ["coop_missing_next_year"]) == {
        ("24611_2026.xlsx", "coop_missing_next_year", None, f"{C} (2025: 68)")
    }


@pytest.mark.parametrize("together", [True, False], ids=["same run", "later run"])
def test_a_cooperative_a_unit_of_another_province_reports_the_next_year_moved(settings, together):
    """Named in Bắc Gia Nghĩa (24611, Lâm Đồng) by the province's 2025 report, A is listed
    in 2026 by Xã Krông Nô of Đắk Lắk (24604), another province: it moved there, and
    24611's clerk has nothing to add. C, in no 2026 report, is still missing. The same
    whether Đắk Lắk's report comes with 24611's or in a later run (the warning stored on
    24611's report, of another province than the run's file, is then withdrawn)."""
    _workbook(
        settings, "68_2025.xlsx", "68", 2025, _coops(A, B, C, **{"Xã/Phường": "Bắc Gia Nghĩa"})
    )
    _workbook(settings, "24611_2026.xlsx", "24611", 2026, _coops(B, **{"Xã/Phường": None}))
    moved = _coops(A, D, **{"Xã/Phường": None})
    if together:
        _workbook(settings, "24604_2026.xlsx", "24604", 2026, moved)
    run_steps(settings, "run-1")
    if not together:
        assert ("24611_2026.xlsx", "coop_missing_next_year", None, f"{A} (2025: 68)") in _cross(
            settings, ["coop_missing_next_year"]
        )
        _workbook(settings, "24604_2026.xlsx", "24604", 2026, moved)
        run_steps(settings, "run-2")
    assert _cross(settings, ["coop_missing_next_year"]) == {
        ("24611_2026.xlsx", "coop_missing_next_year", None, f"{C} (2025: 68)")
    }


def test_a_cooperative_another_district_reports_the_next_year_moved(settings):
    # 2023: B in district 663; 2024: 663 no longer lists it, 664 does. D is in no 2024 report.
    _workbook(settings, "663_2023.xlsx", "663", 2023, _coops(A, B, D))
    _workbook(settings, "663_2024.xlsx", "663", 2024, _coops(A))
    _workbook(settings, "664_2024.xlsx", "664", 2024, _coops(B, C, **{"Xã/Phường": "Nâm Nung"}))
    run_steps(settings)
    assert _cross(settings, ["coop_missing_next_year"]) == {
        ("663_2024.xlsx", "coop_missing_next_year", None, f"{D} (2023: 663)")
    }


def test_a_district_absent_in_2026_is_no_warning(settings):
    _workbook(settings, "663_2025.xlsx", "663", 2025, _coops(A, B))
    _workbook(settings, "24611_2026.xlsx", "24611", 2026, _coops(C, **{"Xã/Phường": None}))
    run_steps(settings)
    assert _cross(settings) == set()


# --- counts compared like with like -----------------------------------------------------


def test_a_province_total_counts_all_its_reports_of_the_year(settings):
    ten = [f"64000001{i:02d}" for i in range(10)]
    _workbook(settings, "68_2025.xlsx", "68", 2025, _coops(*ten, **{"Xã/Phường": None}))
    # 2026: the province sends four, commune 24611 the other six: ten in all.
    _workbook(settings, "68_2026.xlsx", "68", 2026, _coops(*ten[:4], **{"Xã/Phường": None}))
    _workbook(settings, "24611_2026.xlsx", "24611", 2026, _coops(*ten[4:], **{"Xã/Phường": None}))
    # 2027: the commune sends three of its six: -50% for the same unit.
    _workbook(settings, "24611_2027.xlsx", "24611", 2027, _coops(*ten[4:7], **{"Xã/Phường": None}))
    run_steps(settings)
    found = _cross(settings, ["unit_count_change"])
    assert found == {("24611_2027.xlsx", "unit_count_change", None, "3 (2026: 6)")}


def test_a_province_total_dropping_is_a_warning_on_its_report(settings):
    ten = [f"64000001{i:02d}" for i in range(10)]
    _workbook(settings, "68_2025.xlsx", "68", 2025, _coops(*ten, **{"Xã/Phường": None}))
    _workbook(settings, "68_2026.xlsx", "68", 2026, _coops(*ten[:3], **{"Xã/Phường": None}))
    _workbook(settings, "24611_2026.xlsx", "24611", 2026, _coops(*ten[3:5], **{"Xã/Phường": None}))
    run_steps(settings)
    found = {r for r in _cross(settings, ["unit_count_change"])}
    assert found == {("68_2026.xlsx", "unit_count_change", None, "5 (2025: 10)")}


def test_a_province_total_warning_moved_to_a_commune_report_of_its_year_says_so(settings):
    """A province's count of a year is the total of all its reports of that year: a commune
    report of the same year that arrives later causes it, and the warning moves there. It
    must not say the count of "the next year" changed from this report: it is the same
    year's count, and of the province, not of the commune."""
    ten = [f"64000001{i:02d}" for i in range(10)]
    _workbook(settings, "68_2025.xlsx", "68", 2025, _coops(*ten, **{"Xã/Phường": None}))
    _workbook(settings, "68_2026.xlsx", "68", 2026, _coops(*ten[:3], **{"Xã/Phường": None}))
    run_steps(settings, "run-1")
    _workbook(settings, "24611_2026.xlsx", "24611", 2026, _coops(ten[3], **{"Xã/Phường": None}))
    run_steps(settings, "run-2")
    [(value, message)] = query(
        settings,
        "select r.value, r.message from audit.rejected_row r join audit.file_ingestion i "
        "using (file_id) where i.file_name = '24611_2026.xlsx' and r.rule = 'unit_count_change'",
    )
    assert value == "4 (2025: 10)"
    # Not "the unit's count the next year changed from this report": this report is of
    # the warned year itself, and no base year of the change.
    vi, en = message.split(" / ")
    assert "so với báo cáo này" not in vi
    assert "from this report" not in en
    assert "This report counts toward a unit's number of cooperatives" in en


# --- a new file never warns files of earlier runs ---------------------------------------


def _feedback(settings) -> dict[str, int]:
    folder = settings.export_dir / "feedback"
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.xlsx")} if folder.exists() else {}


def _stored(settings, names) -> set[tuple]:
    return set(
        query(
            settings,
            "select i.file_name, r.rule, r.sheet, r.excel_row, r.value, r.message "
            "from audit.rejected_row r join audit.file_ingestion i using (file_id) "
            "where list_contains(?, i.file_name)",
            [names],
        )
    )


def test_one_new_2026_commune_report_adds_nothing_to_the_2025_province_reports(settings):
    earlier = ["68_2025.xlsx", "01_2025.xlsx", "79_2025.xlsx"]
    _workbook(settings, "68_2025.xlsx", "68", 2025, _coops(A, B, **{"Xã/Phường": "Bắc Gia Nghĩa"}))
    _workbook(settings, "01_2025.xlsx", "01", 2025, _coops(C))  # an unknown commune: warned
    _workbook(settings, "79_2025.xlsx", "79", 2025, _coops(D, **{"Xã/Phường": None}))
    run_steps(settings, "run-1")
    stored, feedback = _stored(settings, earlier), _feedback(settings)
    assert {r[:2] for r in stored} == {("01_2025.xlsx", "commune_known")}
    assert feedback
    assert set(feedback) == {n for n in feedback if n.startswith("01_2025_")}

    _workbook(settings, "24611_2026.xlsx", "24611", 2026, _coops(A, **{"Xã/Phường": None}))
    run_steps(settings, "run-2")
    assert _statuses(settings)["24611_2026.xlsx"] == "loaded"
    # Nothing stored, alerted or written anew for the files of run 1.
    assert _stored(settings, earlier) == stored
    bodies = [
        b for (b,) in query(settings, "select body from audit.quality_alert where run_id = 'run-2'")
    ]
    assert not any(name in body for body in bodies for name in earlier)
    after = _feedback(settings)
    assert {n: t for n, t in after.items() if n in feedback} == feedback
    assert not {n for n in after if n not in feedback and not n.startswith("24611_2026_")}


def test_a_warning_on_an_earlier_file_moves_to_the_file_of_this_run_that_causes_it(settings):
    # Run 1: 2023 alone. Run 2: the 2022 report arrives late.
    _workbook(settings, "663_2023.xlsx", "663", 2023, _coops(A, **{"Doanh thu": 17000}))
    run_steps(settings, "run-1")
    before = _stored(settings, ["663_2023.xlsx"])
    _workbook(settings, "663_2022.xlsx", "663", 2022, _coops(B) + _coops(A))
    run_steps(settings, "run-2")
    # The 2023 file keeps what it had; the late 2022 file gets what it causes, on its rows:
    # the revenue jump of A (row 3) and B missing from 2023 (row 2).
    assert _stored(settings, ["663_2023.xlsx"]) == before
    found = {(f, r, row) for f, r, row, _ in _cross(settings) if r != "unit_count_change"}
    assert found == {
        ("663_2022.xlsx", "revenue_jump", 3),
        ("663_2022.xlsx", "coop_missing_next_year", 2),
    }
    [(body,)] = query(settings, "select body from audit.quality_alert where run_id = 'run-2'")
    assert "663_2022.xlsx" in body
    assert "663_2023.xlsx" not in body
    # Said from the 2022 row's side: B is in this report and missing from the next year's;
    # never "missing from this year's report: add it" on the row that holds it.
    messages = dict(
        query(
            settings,
            "select r.rule, r.message from audit.rejected_row r join audit.file_ingestion i "
            "using (file_id) where i.file_name = '663_2022.xlsx' and r.rule in "
            "('coop_missing_next_year', 'revenue_jump')",
        )
    )
    assert messages == {
        "coop_missing_next_year": "HTX này có trong báo cáo này nhưng không có trong báo cáo "
        "năm sau của địa bàn: nếu HTX còn hoạt động, báo cáo năm sau cần bổ sung HTX; nếu HTX "
        "đã giải thể hay chuyển đi, ghi chú điều đó. / This cooperative is in this report but "
        "missing from the next year's report for its area: if it is still active, the next "
        "year's report should add it; if it was dissolved or moved, note that.",
        "revenue_jump": "Doanh thu năm sau của HTX này gấp hơn 10 lần hoặc dưới một phần mười "
        "năm nay: kiểm tra đơn vị tính hoặc lỗi gõ. / This cooperative's revenue the next year "
        "is more than 10 times or under a tenth of this year's: check the unit or a typing "
        "error.",
    }


def _cross_of(settings, name) -> set[tuple]:
    """(rule, excel_row, value) of the warnings across files stored on one file."""
    return {(r, row, v) for f, r, row, v in _cross(settings) if f == name}


def test_a_warning_whose_cause_a_resubmission_removed_is_withdrawn_and_the_rest_stay(settings):
    # Run 1: A and C jump tenfold from 2022 (1650) to 2023 (17000), B of 2022 is missing from
    # 2023: three warnings on the 2023 report (3 of 4 cooperatives: no unit_count_change).
    _workbook(settings, "663_2022.xlsx", "663", 2022, _coops(A, B, C, D))
    jumped = [(A, {"Doanh thu": 17000}), (C, {"Doanh thu": 17000}), (D, {})]
    _workbook(settings, "663_2023.xlsx", "663", 2023, jumped)
    run_steps(settings, "run-1")
    assert _cross_of(settings, "663_2023.xlsx") == {
        ("revenue_jump", 2, "17000 (2022: 1650)"),
        ("revenue_jump", 3, "17000 (2022: 1650)"),
        ("coop_missing_next_year", None, f"{B} (2022: 663)"),
    }
    sent = query(settings, "select * from audit.quality_alert order by alert_id")
    assert sent

    # Run 2: 2022 resubmitted with A's revenue at 16000: A's jump is gone from the warehouse,
    # and so from the 2023 report; C's jump and B's absence still hold and stay.
    _workbook(
        settings, "663_2022_v2.xlsx", "663", 2022, [(A, {"Doanh thu": 16000}), *_coops(B, C, D)]
    )
    with logged("etl.warehouse.ledger") as said:
        run_steps(settings, "run-2")
    assert _statuses(settings)["663_2022.xlsx"] == "superseded"
    # The log says what was withdrawn from where.
    assert (
        "warnings across files withdrawn, their cause gone: 663_2023.xlsx revenue_jump x1"
    ) in said
    assert _cross_of(settings, "663_2023.xlsx") == {
        ("revenue_jump", 3, "17000 (2022: 1650)"),
        ("coop_missing_next_year", None, f"{B} (2022: 663)"),
    }
    # What was sent stays a record of what was sent.
    assert query(
        settings, "select * from audit.quality_alert where run_id = 'run-1' order by alert_id"
    ) == [a for a in sent if a in query(settings, "select * from audit.quality_alert")]

    # Run 3: the 2023 report resubmitted: the superseded one keeps no warning across files
    # (its rows are no longer in the warehouse), the resubmission gets its own.
    _workbook(settings, "663_2023_v2.xlsx", "663", 2023, jumped)
    with logged("etl.warehouse.ledger") as said:
        run_steps(settings, "run-3")
    assert _statuses(settings)["663_2023.xlsx"] == "superseded"
    assert _cross_of(settings, "663_2023.xlsx") == set()
    assert (
        "warnings across files withdrawn, their file no longer loaded: "
        "663_2023.xlsx coop_missing_next_year x1; 663_2023.xlsx revenue_jump x1"
    ) in said
    assert _cross_of(settings, "663_2023_v2.xlsx") == {
        ("revenue_jump", 3, "17000 (2022: 1650)"),
        ("coop_missing_next_year", None, f"{B} (2022: 663)"),
    }


def test_a_warning_moved_to_its_cause_is_withdrawn_when_the_warned_report_is_resubmitted(
    settings,
):
    # Run 1: 2023 alone. Run 2: the 2022 report arrives late and takes, on its own rows, what
    # it causes: A's and C's revenue jumps and B missing from 2023.
    _workbook(
        settings, "663_2023.xlsx", "663", 2023, [*_coops(A, C, **{"Doanh thu": 17000}), (D, {})]
    )
    run_steps(settings, "run-1")
    _workbook(settings, "663_2022.xlsx", "663", 2022, _coops(A, B, C, D))
    run_steps(settings, "run-2")
    assert {(r, row) for r, row, _ in _cross_of(settings, "663_2022.xlsx")} == {
        ("revenue_jump", 2),
        ("coop_missing_next_year", 3),
        ("revenue_jump", 4),
    }
    # Run 3: 2023 resubmitted with C's revenue as in 2022 and B listed: of what the 2022
    # report was told, only A's jump still holds.
    _workbook(
        settings,
        "663_2023_v2.xlsx",
        "663",
        2023,
        [(A, {"Doanh thu": 17000}), *_coops(B, C, D)],
    )
    run_steps(settings, "run-3")
    assert {(r, row) for r, row, _ in _cross_of(settings, "663_2022.xlsx")} == {("revenue_jump", 2)}


# --- a commune name that fits several communes ------------------------------------------


def test_a_name_several_communes_fit_is_unknown_unless_the_history_decides(settings):
    # Tân Thành: former communes of 598, 664, 676, 678 and a new commune of 68.
    _workbook(settings, "664_2024.xlsx", "664", 2024, _coops(A, **{"Xã/Phường": "Tân Thành"}))
    _workbook(settings, "68_2025.xlsx", "68", 2025, _coops(A, B, **{"Xã/Phường": "Tân Thành"}))
    run_steps(settings)
    found = _cross(settings, ["commune_ambiguous"])
    # A was reported by district 664 the year before: its own district decides. B has no
    # history: the commune is unknown, a warning on its row.
    assert found == {
        (
            "68_2025.xlsx",
            "commune_ambiguous",
            3,
            "Tân Thành (23143, 23146, 24699, 24907, 24979)",
        )
    }
    # Not a name that fits no commune: commune_known stays quiet.
    assert not query(settings, "select 1 from audit.rejected_row where rule = 'commune_known'")


def test_another_province_s_first_half_district_does_not_decide_a_commune(settings):
    """As above, A's own district 664 (its 2024 report) decides `Tân Thành` in Lâm Đồng's
    report of 2025, though Hà Nội's district Ba Đình (001, the first half) reports A too:
    before, Ba Đình was taken for A's own district that year, and A's commune was unknown."""
    _workbook(settings, "664_2024.xlsx", "664", 2024, _coops(A, **{"Xã/Phường": "Tân Thành"}))
    _workbook(settings, "68_2025.xlsx", "68", 2025, _coops(A, **{"Xã/Phường": "Tân Thành"}))
    _workbook(settings, "001_2025.xlsx", "001", 2025, _coops(A, **{"Xã/Phường": None}))
    run_steps(settings)
    assert _cross(settings, ["commune_ambiguous"]) == set()
    assert _rows(settings)["68_2025.xlsx"] == (1, 1)
    assert query(
        settings,
        "select f.unit_code, g.commune_code, g.district_code from core.fact_cooperative_year f "
        "join core.dim_geography g using (geo_key) order by 1",
    ) == [("664", "24699", "664"), ("68", "24699", "664")]


def test_a_former_and_a_new_commune_that_share_a_code_are_two_communes(settings):
    """`Hòa Thắng` in 2025: the former Xã Hòa Thắng 23053 (district 596, split) and the new
    Xã Hoà Thắng that kept its code 23053. Without history to decide, the commune is unknown:
    a warning naming both, not a commune lost in silence."""
    _workbook(settings, "68_2025.xlsx", "68", 2025, _coops(A, **{"Xã/Phường": "Hòa Thắng"}))
    run_steps(settings)
    assert _cross(settings, ["commune_ambiguous"]) == {
        (
            "68_2025.xlsx",
            "commune_ambiguous",
            2,
            "Hòa Thắng (23053 cũ/former, 23053 mới/new)",
        )
    }


def _province_arrives_first(settings) -> None:
    """Run 1: the province's 2026 report (A, B). Run 2: commune 24611 names C and A."""
    _workbook(settings, "68_2026.xlsx", "68", 2026, _coops(A, B, **{"Xã/Phường": None}))
    run_steps(settings, "run-1")
    assert _rows(settings) == {"68_2026.xlsx": (2, 2)}
    assert _feedback(settings) == {}
    _workbook(settings, "24611_2026.xlsx", "24611", 2026, _coops(C, A, **{"Xã/Phường": None}))
    run_steps(settings, "run-2")


def test_a_later_commune_report_puts_the_precedence_warning_on_the_province_file(settings):
    # The contract names the file warned: the province's, whatever the order the reports
    # arrive in (over weeks of daily runs). The province's file is of run 1, yet gets it on
    # A's row, as when both arrive together; the commune's file gets none.
    _province_arrives_first(settings)
    # The province file's count follows its rows in the facts, though it is of run 1.
    assert _rows(settings) == {"68_2026.xlsx": (2, 1), "24611_2026.xlsx": (2, 2)}
    found = _cross(settings, ["commune_report_wins", "coop_code_in_two_units"])
    assert found == {("68_2026.xlsx", "commune_report_wins", 2, f"{A} (24611)")}
    [(sheet, message)] = query(
        settings, "select sheet, message from audit.rejected_row where rule = 'commune_report_wins'"
    )
    assert sheet == "HTX"
    assert "the commune's report counts for all of its rows" in message
    # Run 2's alert names the province's file, with the warning.
    [(body,)] = query(settings, "select body from audit.quality_alert where run_id = 'run-2'")
    assert "68_2026.xlsx" in body
    assert "commune_report_wins" in body
    # The quality report's page of the province's file shows it.
    [(file_id, sha)] = query(
        settings,
        "select file_id, sha256 from audit.file_ingestion where file_name = '68_2026.xlsx'",
    )
    page = (settings.export_dir / "quality" / f"{file_id}.html").read_text(encoding="utf-8")
    assert "commune_report_wins" in page
    # The province's clerk gets feedback that lists it, on A's row.
    feedback = openpyxl.load_workbook(
        settings.export_dir / "feedback" / f"68_2026_loi_{sha[:8]}.xlsx"
    )
    listed = {(row[3], row[6]) for row in feedback["Loi"].iter_rows(values_only=True)}
    assert (2, "commune_report_wins") in listed


def test_a_precedence_warning_on_an_earlier_province_file_is_withdrawn_when_the_commune_resubmits(
    settings,
):
    _province_arrives_first(settings)
    assert _cross(settings) == {("68_2026.xlsx", "commune_report_wins", 2, f"{A} (24611)")}
    # Run 3: the commune resubmits without A: the province's row of A counts again, and the
    # warning on the province's file lost its cause.
    _workbook(settings, "24611_2026_v2.xlsx", "24611", 2026, _coops(C, **{"Xã/Phường": None}))
    with logged("etl.warehouse.ledger") as said:
        run_steps(settings, "run-3")
    assert _statuses(settings)["24611_2026.xlsx"] == "superseded"
    assert _cross(settings) == set()
    assert (
        "warnings across files withdrawn, their cause gone: 68_2026.xlsx commune_report_wins x1"
    ) in said
    assert _rows(settings)["68_2026.xlsx"] == (2, 2)


def test_a_warning_on_another_province_s_report_whose_cause_left_is_withdrawn(settings):
    # Run 1: Xã Krông Nô of Đắk Lắk (24604, province 66) and Xã Krông Nô of Lâm Đồng (24688,
    # 68) both report A: a code reported by two units, warned on both files.
    _workbook(settings, "24604_2026.xlsx", "24604", 2026, _coops(A, **{"Xã/Phường": None}))
    _workbook(settings, "24688_2026.xlsx", "24688", 2026, _coops(A, **{"Xã/Phường": None}))
    run_steps(settings, "run-1")
    assert {(f, r) for f, r, _, _ in _cross(settings)} == {
        ("24604_2026.xlsx", "coop_code_in_two_units"),
        ("24688_2026.xlsx", "coop_code_in_two_units"),
    }
    # Run 2: Lâm Đồng's commune resubmits without A. Đắk Lắk's report, of another province,
    # no longer shares A with any unit: its warning lost its cause and is withdrawn.
    _workbook(settings, "24688_2026_v2.xlsx", "24688", 2026, _coops(B, **{"Xã/Phường": None}))
    run_steps(settings, "run-2")
    assert _statuses(settings)["24688_2026.xlsx"] == "superseded"
    assert _cross(settings, ["coop_code_in_two_units"]) == set()


def test_a_warning_that_still_holds_with_another_value_is_not_withdrawn(settings):
    # Run 1: two communes report A. Run 2: a third one too. A is still in the reports of
    # 24611 and 24615, whose warning's value now names three units: it still holds on
    # their rows, and stays, saying so (a file of an earlier run gains no new warning).
    _workbook(settings, "24611_2026.xlsx", "24611", 2026, _coops(A, **{"Xã/Phường": None}))
    _workbook(settings, "24615_2026.xlsx", "24615", 2026, _coops(A, **{"Xã/Phường": None}))
    run_steps(settings, "run-1")
    _workbook(settings, "24620_2026.xlsx", "24620", 2026, _coops(A, **{"Xã/Phường": None}))
    run_steps(settings, "run-2")
    # Each names the three now (the rows of run 1 too: their stored value is updated).
    named = f"{A} (24611, 24615, 24620; tính/counted: 24611)"
    assert _cross(settings) == {
        ("24611_2026.xlsx", "coop_code_in_two_units", 2, named),
        ("24615_2026.xlsx", "coop_code_in_two_units", 2, named),
        ("24620_2026.xlsx", "coop_code_in_two_units", 2, named),
    }


def test_a_warning_of_an_earlier_run_says_who_counts_after_a_later_report_changes_it(
    settings,
):
    """Run 1: Lâm Đồng's commune 24611 and Đắk Lắk's 66 report A in 2026, neither province
    with history of it: 66 counts, and both files are told so. Run 2: 68's report of 2025
    gives Lâm Đồng the history, and 24611 counts. The warnings stored on both files of run 1
    still hold on their rows, and now say who counts; their feedback lists the new value,
    and no alert goes to them (helper BQ: they kept `tính/counted: 66`)."""
    _workbook(settings, "24611_2026.xlsx", "24611", 2026, _coops(A, **{"Xã/Phường": None}))
    _workbook(settings, "66_2026.xlsx", "66", 2026, _coops(A, **{"Xã/Phường": None}))
    run_steps(settings, "run-1")
    before = f"{A} (66, 24611; tính/counted: 66)"
    assert _cross(settings, ["coop_code_in_two_units"]) == {
        ("24611_2026.xlsx", "coop_code_in_two_units", 2, before),
        ("66_2026.xlsx", "coop_code_in_two_units", 2, before),
    }
    _workbook(settings, "68_2025.xlsx", "68", 2025, _coops(A, **{"Xã/Phường": None}))
    with logged("etl.warehouse.ledger") as said:
        published = run_steps(settings, "run-2")
    assert _rows(settings) == {
        "24611_2026.xlsx": (1, 1),
        "66_2026.xlsx": (1, 0),
        "68_2025.xlsx": (1, 1),
    }
    after = f"{A} (66, 24611; tính/counted: 24611)"
    assert _cross(settings, ["coop_code_in_two_units"]) == {
        ("24611_2026.xlsx", "coop_code_in_two_units", 2, after),
        ("66_2026.xlsx", "coop_code_in_two_units", 2, after),
    }
    assert (
        "warnings across files updated, their value changed: "
        "24611_2026.xlsx coop_code_in_two_units x1; 66_2026.xlsx coop_code_in_two_units x1"
    ) in said
    for name in ("24611_2026.xlsx", "66_2026.xlsx"):
        assert _loi_of(settings, name) == {("coop_code_in_two_units", 2, after)}
    ids = dict(query(settings, "select file_name, file_id from audit.file_ingestion"))
    assert sorted(published["file_ids"]) == sorted(ids.values())
    bodies = query(settings, "select body from audit.quality_alert where run_id = 'run-2'")
    assert not any("2026" in body for (body,) in bodies)


def _jumps(settings, name, unit, year, revenue, prepared=None) -> None:
    """A report of A (its revenue) and B, written as `name`."""
    rows = [HTX_HEADER, htx_row(1, A, **{"Doanh thu": revenue}), htx_row(2, B)]
    sheets = {"ThongTin": info_rows(unit, year, prepared), "HTX": rows}
    write_xlsx(settings.landing_dir / name, sheets)


def test_a_jump_moved_to_its_cause_is_withdrawn_when_its_own_cause_no_longer_jumps(settings):
    """Run 1: 2024, A at 17000. Run 2: 2023 arrives late, A at 1650: the 2024 jump moves to
    the 2023 report's row (its text at a cause). Run 3: 2022 (A at 100) and 2024 resubmitted
    (A at 1700). The 2024 report no longer jumps: the moved warning goes from the 2023
    report, though its row now jumps from 2022 (that warning moves to the 2022 report). It
    stayed, and was then even rewritten as the 2022 jump (helper BT)."""
    _jumps(settings, "663_2024.xlsx", "663", 2024, 17000)
    run_steps(settings, "run-1")
    _jumps(settings, "663_2023.xlsx", "663", 2023, 1650)
    run_steps(settings, "run-2")
    assert _cross(settings, ["revenue_jump"]) == {
        ("663_2023.xlsx", "revenue_jump", 2, "17000 (2023: 1650)")
    }
    _jumps(settings, "663_2022.xlsx", "663", 2022, 100)
    _jumps(settings, "663_2024_v2.xlsx", "663", 2024, 1700, dt.date(2025, 3, 1))
    with logged("etl.warehouse.ledger") as said:
        run_steps(settings, "run-3")
    assert _statuses(settings)["663_2024.xlsx"] == "superseded"
    assert _cross(settings, ["revenue_jump"]) == {
        ("663_2022.xlsx", "revenue_jump", 2, "1650 (2022: 100)")
    }
    assert "warnings across files withdrawn, their cause gone: 663_2023.xlsx revenue_jump x1" in (
        said
    )
    assert not any("updated" in line for line in said)


def test_a_jump_moved_to_its_cause_says_the_resubmitted_figure(settings):
    """As above, but run 3 resubmits 2024 with A at 20000: it still jumps from 2023, and the
    warning moved to the 2023 report says the new figure, as the resubmission's own does
    (it kept 17000)."""
    _jumps(settings, "663_2024.xlsx", "663", 2024, 17000)
    run_steps(settings, "run-1")
    _jumps(settings, "663_2023.xlsx", "663", 2023, 1650)
    run_steps(settings, "run-2")
    _jumps(settings, "663_2024_v2.xlsx", "663", 2024, 20000, dt.date(2025, 3, 1))
    run_steps(settings, "run-3")
    assert _cross(settings, ["revenue_jump"]) == {
        ("663_2023.xlsx", "revenue_jump", 2, "20000 (2023: 1650)"),
        ("663_2024_v2.xlsx", "revenue_jump", 2, "20000 (2023: 1650)"),
    }
    assert _loi_of(settings, "663_2023.xlsx") == {("revenue_jump", 2, "20000 (2023: 1650)")}


# --- the feedback of a file whose warnings were withdrawn --------------------------------


def _loi_of(settings, name) -> set[tuple] | None:
    """(rule, row, value) of every problem the `Loi` sheet of a file's feedback lists; None
    when the file has no feedback workbook."""
    [(sha,)] = query(
        settings, "select sha256 from audit.file_ingestion where file_name = ?", [name]
    )
    path = settings.export_dir / "feedback" / f"{Path(name).stem}_loi_{sha[:8]}.xlsx"
    if not path.exists():
        return None
    rows = openpyxl.load_workbook(path, read_only=True)["Loi"].iter_rows(
        min_row=LOI_HEADER_ROW + 1, values_only=True
    )
    return {(row[6], row[3], row[5]) for row in rows}


def test_the_feedback_of_an_earlier_file_stops_listing_a_withdrawn_warning(settings):
    # Run 1: A and C of the 2023 report jump tenfold from 2022, B is missing from 2023.
    _workbook(settings, "663_2022.xlsx", "663", 2022, _coops(A, B, C, D))
    jumped = [(A, {"Doanh thu": 17000}), (C, {"Doanh thu": 17000}), (D, {})]
    _workbook(settings, "663_2023.xlsx", "663", 2023, jumped)
    run_steps(settings, "run-1")
    assert _loi_of(settings, "663_2023.xlsx") == {
        ("revenue_jump", 2, "17000 (2022: 1650)"),
        ("revenue_jump", 3, "17000 (2022: 1650)"),
        ("coop_missing_next_year", None, f"{B} (2022: 663)"),
    }
    # Run 2: 2022 resubmitted with A's revenue at 16000: A's jump is withdrawn from the 2023
    # report of run 1, whose clerk now reads only what still holds.
    _workbook(
        settings, "663_2022_v2.xlsx", "663", 2022, [(A, {"Doanh thu": 16000}), *_coops(B, C, D)]
    )
    published = run_steps(settings, "run-2")
    assert _loi_of(settings, "663_2023.xlsx") == {
        ("revenue_jump", 3, "17000 (2022: 1650)"),
        ("coop_missing_next_year", None, f"{B} (2022: 663)"),
    }
    # Only the file that lost a warning joins the run's file: not every file of run 1.
    ids = dict(query(settings, "select file_name, file_id from audit.file_ingestion"))
    assert sorted(published["file_ids"]) == sorted([ids["663_2022_v2.xlsx"], ids["663_2023.xlsx"]])


def test_an_earlier_file_left_with_no_warning_loses_its_feedback(settings):
    # Run 1: communes of two provinces both report A: warned on both files.
    _workbook(settings, "24604_2026.xlsx", "24604", 2026, _coops(A, **{"Xã/Phường": None}))
    _workbook(settings, "24688_2026.xlsx", "24688", 2026, _coops(A, **{"Xã/Phường": None}))
    run_steps(settings, "run-1")
    assert _loi_of(settings, "24604_2026.xlsx") == {
        ("coop_code_in_two_units", 2, f"{A} (24604, 24688; tính/counted: 24604)")
    }
    # Run 2: 24688 resubmits without A: 24604's only warning is withdrawn, and its clerk is
    # no longer sent to a workbook listing it.
    _workbook(settings, "24688_2026_v2.xlsx", "24688", 2026, _coops(B, **{"Xã/Phường": None}))
    with logged("etl.quality.feedback") as said:
        run_steps(settings, "run-2")
    assert _loi_of(settings, "24604_2026.xlsx") is None
    assert [n for n in _feedback(settings) if n.startswith("24604_")] == []
    assert any("24604_2026.xlsx" in line and "removed" in line for line in said)
