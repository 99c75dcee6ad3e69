"""The sample generator writes valid, realistic, deterministic district workbooks.

Up to 2024 one workbook per district; the 2025 report is one province-level workbook of
the new Lâm Đồng (unit 68), naming the real new communes (or, for some rows, the former
ones); in 2026 four new communes report themselves and the province reports the others.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from etl import config
from etl.contract import layout
from tools.sample import (
    COMMUNE_UNITS,
    DEFAULT_UNIT_SIZE,
    NATIONAL_SCALE,
    PROVINCE_SCALE,
    QUARANTINED,
    SUPERSEDED,
    SampleFile,
    dak_nong_new_communes,
    dak_nong_units,
    expected_counts,
    national_groups,
    national_units,
    new_commune_of,
    new_communes,
    rating_for,
    write_deep_national_samples,
    write_samples,
)

YEARS = range(2021, 2027)
DISTRICT_YEARS = range(2021, 2025)
UNIT_CODES = [f"{code}" for code in range(660, 668)]
PROVINCE = ("68", 2025)  # the one workbook of 2025, from the province
UNITS_2026 = [*COMMUNE_UNITS, "68"]  # four new communes and the province for the others
NEW_68 = new_communes("68")  # the communes of Lâm Đồng in force since 01/07/2025
COMMUNE_HEADER = layout.HTX.column("commune_name").header
CODE = re.compile(r"^64\d{8}$")
SHEETS = {s.key: s for s in layout.DATA_SHEETS}

Rows = list[dict[str, object]]


def _table(rows: list[list[object]], sheet: layout.Sheet) -> Rows:
    """Data rows under the sheet's header row, as dicts keyed by column key."""
    headers = [c.header for c in sheet.columns]
    start = next(i for i, row in enumerate(rows) if row[: len(headers)] == headers)
    code_col = headers.index(sheet.column("coop_code").header)
    return [
        {c.key: row[i] for i, c in enumerate(sheet.columns)}
        for row in rows[start + 1 :]
        if CODE.match(str(row[code_col]))
    ]


def _read(path: Path) -> dict[str, object]:
    book = CalamineWorkbook.from_path(str(path))
    info_rows = book.get_sheet_by_name(layout.THONGTIN_NAMES[0]).to_python()
    read = {"info": {row[0]: row[1] for row in info_rows}, "raw_htx": None}
    for key, sheet in SHEETS.items():
        rows = book.get_sheet_by_name(sheet.name).to_python()
        read[key] = _table(rows, sheet)
        if key == "htx":
            read["raw_htx"] = rows
    return read


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _legacy_communes() -> dict[str, set[str]]:
    """Names and full names of the communes of the legacy list, by district code."""
    path = config.REFERENCE_DIR / "dak_nong_admin_units.csv"
    with path.open(encoding="utf-8", newline="") as f:
        records = [r for r in csv.DictReader(f) if r["level"] == "commune"]
    communes: dict[str, set[str]] = {}
    for r in records:
        communes.setdefault(r["parent_code"], set()).update((r["name"], r["full_name"]))
    return communes


def _former_commune_names() -> set[tuple[str, str]]:
    """(district code, name) of the former communes of Đắk Nông, as the districts wrote them."""
    path = config.REFERENCE_DIR / "dak_nong_admin_units.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return {(r["parent_code"], r["name"]) for r in csv.DictReader(f) if r["level"] == "commune"}


LEGACY = _legacy_communes()
ALL_LEGACY = set().union(*LEGACY.values())


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> list[SampleFile]:
    """The 38 clean files: one per district and year to 2024, one province file of 2025, the
    2026 files of four communes and of the province."""
    return write_samples(tmp_path_factory.mktemp("samples"), seed=2025, extras=False)


@pytest.fixture(scope="module")
def everything(tmp_path_factory) -> list[SampleFile]:
    """The clean files and the two resubmissions."""
    return write_samples(tmp_path_factory.mktemp("everything"), seed=2025)


def _by_name(files: list[SampleFile]) -> dict[str, SampleFile]:
    return {f.path.name: f for f in files}


def _grid(path: Path, sheet: str) -> list[list[object]]:
    """A sheet's cells from A1 on: row index + 1 is the row number Excel shows."""
    book = CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def _at(path: Path, cell: tuple[str, int, str]) -> tuple[object, list[object]]:
    """The value of a (sheet, Excel row, column header) cell, and its whole row."""
    sheet, excel_row, header = cell
    grid = _grid(path, sheet)
    header_row = next(row for row in grid if header in row)
    row = grid[excel_row - 1]
    return row[header_row.index(header)], row


@pytest.fixture(scope="module")
def books(samples) -> dict[tuple[str, int], dict[str, object]]:
    return {(f.unit_code, f.report_year): _read(f.path) for f in samples}


def _rows(books, key: str, year: int | None = None) -> Rows:
    return [r for (_, y), book in books.items() if year in (None, y) for r in book[key]]


def test_writes_one_workbook_per_district_and_year_then_the_new_geographys(samples, everything):
    assert sorted(f.path.name for f in samples) == sorted(
        [f"{unit}_{year}.xlsx" for unit in UNIT_CODES for year in DISTRICT_YEARS]
        + ["68_2025.xlsx"]
        + [f"{unit}_2026.xlsx" for unit in UNITS_2026]
    )
    assert len(samples) == 8 * 4 + 1 + 5
    assert len(everything) == 40
    assert all(f.path.is_file() for f in samples)
    assert {f.unit_code for f in samples} == {u.code for u in dak_nong_units()} | {
        "68",
        *COMMUNE_UNITS,
    }
    assert [f.unit_code for f in samples if f.report_year == 2025] == ["68"]
    assert [f.unit_code for f in samples if f.report_year == 2026] == UNITS_2026


def test_same_seed_writes_byte_identical_files(everything, tmp_path):
    again = {f.path.name: _sha256(f.path) for f in write_samples(tmp_path, seed=2025)}
    assert again == {f.path.name: _sha256(f.path) for f in everything}


def test_extras_add_two_resubmissions_and_leave_the_clean_files_unchanged(samples, everything):
    clean = {f.path.name: _sha256(f.path) for f in samples}
    written = {f.path.name: _sha256(f.path) for f in everything}
    assert written.keys() - clean.keys() == {"663_2023_bosung.xlsx", "665_2024_sua.xlsx"}
    assert {name: written[name] for name in clean} == clean


def test_extras_need_2023_and_2024(tmp_path):
    files = write_samples(tmp_path, seed=2025, years=range(2024, 2026))
    assert all(f.path.name == f"{f.unit_code}_{f.report_year}.xlsx" for f in files)
    assert {f.expected_status for f in files} == {"loaded"}


def test_expected_statuses(everything):
    status = {name: f.expected_status for name, f in _by_name(everything).items()}
    assert status.pop("663_2023.xlsx") == SUPERSEDED
    assert status.pop("665_2024_sua.xlsx") == QUARANTINED
    assert set(status.values()) == {"loaded"}  # 665_2024 and the correction among them
    files = _by_name(everything)
    assert [n for n, f in files.items() if f.expected_errors] == ["665_2024_sua.xlsx"]
    # The new geography's names are all known communes of their year: no warning.
    assert [n for n, f in files.items() if f.expected_warnings] == ["663_2023_bosung.xlsx"]


def test_extras_record_the_rows_they_hold(everything):
    for name in ("663_2023_bosung.xlsx", "665_2024_sua.xlsx"):
        file = _by_name(everything)[name]
        book = _read(file.path)
        assert file.rows == {key: len(book[key]) for key in SHEETS}


def test_correction_is_later_and_has_the_same_cooperatives(everything):
    files = _by_name(everything)
    original, corrected = (
        files["663_2023.xlsx"],
        files["663_2023_bosung.xlsx"],
    )
    before, after = _read(original.path), _read(corrected.path)
    keys = layout.THONGTIN_KEYS
    for key in ("unit_code", "report_year", "prepared_by"):
        assert after["info"][keys[key]] == before["info"][keys[key]]
    prepared_before, prepared_after = (b["info"][keys["prepared_on"]] for b in (before, after))
    assert prepared_after > prepared_before
    assert (prepared_after.month - prepared_before.month) % 12 == 1
    assert prepared_after.day == prepared_before.day
    assert [r["coop_code"] for r in after["htx"]] == [r["coop_code"] for r in before["htx"]]
    for key in ("hotro", "ocop", "lienket"):
        assert after[key] == before[key]
    assert corrected.rows == original.rows


def test_correction_revises_two_results_and_leaves_one_cooperative_with_4_members(
    everything,
):
    files = _by_name(everything)
    before = _read(files["663_2023.xlsx"].path)["htx"]
    after = _read(files["663_2023_bosung.xlsx"].path)["htx"]
    changed = {
        i: {k for k in a if a[k] != b[k]}
        for i, (b, a) in enumerate(zip(before, after, strict=True))
        if a != b
    }
    revised = [
        i for i, keys in changed.items() if keys == {"revenue_mvnd", "profit_before_tax_mvnd"}
    ]
    assert len(revised) == 2
    for i in revised:
        assert after[i]["revenue_mvnd"] == pytest.approx(before[i]["revenue_mvnd"] * 1.05, abs=0.1)
        assert after[i]["profit_before_tax_mvnd"] == pytest.approx(
            before[i]["profit_before_tax_mvnd"] * 1.05, abs=0.1
        )
    (small,) = changed.keys() - set(revised)
    assert changed[small] <= {"members", "workers"}
    assert after[small]["members"] == 4
    assert 0 <= after[small]["workers"] <= 4
    assert after[small]["rating"] == before[small]["rating"]
    assert after[small]["score"] == before[small]["score"]
    assert rating_for(after[small]["score"]) == after[small]["rating"]


def test_correction_warns_at_the_recorded_cell_and_raises_no_errors(everything):
    file = _by_name(everything)["663_2023_bosung.xlsx"]
    assert file.expected_errors == ()
    (cell,) = file.expected_warnings
    assert cell[0] == "HTX"
    assert cell[2] == "Số thành viên"
    value, row = _at(file.path, cell)
    assert value == 4
    book = _read(file.path)
    assert row[1] == book["htx"][cell[1] - 7]["coop_code"]  # data starts in Excel row 7
    codes = [r["coop_code"] for r in book["htx"]]
    assert len(codes) == len(set(codes))
    for r in book["htx"]:
        assert r["workers"] >= 0
        assert r["members"] >= 0
        if r["rating"] != "Chưa xếp loại":
            assert rating_for(r["score"]) == r["rating"]
    for key in ("hotro", "ocop", "lienket"):
        assert {r["coop_code"] for r in book[key]} <= set(codes)


def test_botched_resubmission_is_later_than_its_original(everything):
    files = _by_name(everything)
    prepared = layout.THONGTIN_KEYS["prepared_on"]
    original = _read(files["665_2024.xlsx"].path)["info"]
    botched = _read(files["665_2024_sua.xlsx"].path)["info"]
    assert botched[prepared] > original[prepared]
    assert botched[layout.THONGTIN_KEYS["unit_code"]] == "665"


def test_botched_resubmission_holds_each_broken_cell_where_recorded(everything):
    file = _by_name(everything)["665_2024_sua.xlsx"]
    duplicate, misrated, stray, negative = file.expected_errors
    assert [c[2] for c in file.expected_errors] == [
        "Mã số HTX",
        "Điểm",
        "Mã số HTX",
        "Số lao động",
    ]
    assert [c[0] for c in file.expected_errors] == ["HTX", "HTX", "HoTro", "HTX"]

    # The code of the second data row (Excel row 8) pasted over the third's (row 9).
    assert duplicate[1] == 9
    code, _ = _at(file.path, duplicate)
    first, _ = _at(file.path, ("HTX", duplicate[1] - 1, "Mã số HTX"))
    assert code == first
    assert CODE.match(code)
    codes = [r["coop_code"] for r in _read(file.path)["htx"]]
    assert [c for c, n in Counter(codes).items() if n > 1] == [code]

    score, row = _at(file.path, misrated)
    assert score == 55
    assert row[[c.header for c in layout.HTX.columns].index("Xếp loại")] == "Tốt"

    code, _ = _at(file.path, stray)
    assert code == "6499999999"
    assert code not in codes

    workers, _ = _at(file.path, negative)
    assert isinstance(workers, float)
    assert workers < 0

    rows = {c[1] for c in file.expected_errors if c[0] == "HTX"}
    assert len(rows) == 3
    assert min(rows) >= 7


def test_botched_resubmission_has_no_other_error(everything):
    file = _by_name(everything)["665_2024_sua.xlsx"]
    book = _read(file.path)
    codes = {r["coop_code"] for r in book["htx"]}
    assert sum(r["workers"] < 0 for r in book["htx"]) == 1
    misrated = [
        r
        for r in book["htx"]
        if r["rating"] != "Chưa xếp loại" and rating_for(r["score"]) != r["rating"]
    ]
    assert len(misrated) == 1
    orphans = [
        r for key in ("hotro", "ocop", "lienket") for r in book[key] if r["coop_code"] not in codes
    ]
    assert [r["coop_code"] for r in orphans] == ["6499999999"]


def test_expected_counts_skip_superseded_and_quarantined_files(samples, everything):
    counts = expected_counts(everything)
    files = _by_name(everything)
    assert counts.keys() == expected_counts(samples).keys()  # one entry per unit and year
    assert counts[("663", 2023)] == files["663_2023_bosung.xlsx"].rows
    assert counts[("665", 2024)] == files["665_2024.xlsx"].rows
    skipped = [f for f in everything if f.expected_status in (SUPERSEDED, QUARANTINED)]
    assert {f.path.name for f in skipped} == {"663_2023.xlsx", "665_2024_sua.xlsx"}
    assert expected_counts(skipped) == {}


def test_different_seed_writes_different_cooperatives(books, tmp_path):
    other = write_samples(tmp_path, seed=7)
    other_codes = {r["coop_code"] for f in other for r in _read(f.path)["htx"]}
    assert other_codes != {r["coop_code"] for r in _rows(books, "htx")}


def test_province_has_280_to_320_cooperatives_each_year(books):
    for year in YEARS:
        assert 280 <= len(_rows(books, "htx", year)) <= 320, year


def test_rating_shares_match_published_figures(books):
    coops = _rows(books, "htx")
    share = {rating: n / len(coops) for rating, n in Counter(r["rating"] for r in coops).items()}
    assert 0.30 <= share["Khá"] <= 0.45
    assert 0.45 <= share["Trung bình"] <= 0.60
    assert share.get("Yếu", 0) < 0.07
    assert 0 < share["Tốt"] < 0.10


def test_every_rating_agrees_with_its_score(books):
    for row in _rows(books, "htx"):
        if row["rating"] == "Chưa xếp loại":
            assert row["score"] == ""
        else:
            assert 0 <= row["score"] <= 100
            assert round(row["score"], 1) == row["score"]
            assert rating_for(row["score"]) == row["rating"], row


def test_unrated_cooperatives_were_founded_in_the_report_year(books):
    for (_, year), book in books.items():
        for row in book["htx"]:
            if row["rating"] == "Chưa xếp loại":
                assert row["founded_on"].year == year


def test_exactly_five_cooperatives_are_in_decision_167_every_year(books):
    scheme_by_year = {
        year: {r["coop_code"] for r in _rows(books, "htx", year) if r["in_da167"] == "x"}
        for year in YEARS
    }
    scheme = scheme_by_year[2021]
    assert len(scheme) == 5
    assert all(codes == scheme for codes in scheme_by_year.values())
    others = {r["in_da167"] for r in _rows(books, "htx") if r["coop_code"] not in scheme}
    assert others == {""}


def test_decision_167_cooperatives_do_well(books):
    for year in YEARS:
        rows = [r for r in _rows(books, "htx", year) if r["in_da167"] == "x"]
        assert all(r["profit_before_tax_mvnd"] > 0 for r in rows)
        assert all(r["rating"] in ("Tốt", "Khá") for r in rows)
        if year >= 2024:
            leaders = [
                r for r in rows if r["rating"] == "Tốt" and r["has_offtake_contract"] == "Có"
            ]
            assert len(leaders) >= 3


def test_da167_support_goes_only_to_scheme_cooperatives(books):
    scheme = {r["coop_code"] for r in _rows(books, "htx") if r["in_da167"] == "x"}
    da167 = {r["coop_code"] for r in _rows(books, "hotro") if r["program"] == "DA167"}
    assert da167
    assert da167 <= scheme


def test_support_lines_number_30_to_60_a_year(books):
    for year in YEARS:
        assert 30 <= len(_rows(books, "hotro", year)) <= 60, year


def test_ocop_products_grow_to_50_to_60_in_2025(books):
    counts = [len(_rows(books, "ocop", year)) for year in YEARS]
    assert 50 <= counts[YEARS.index(2025)] <= 60
    assert 50 <= counts[-1] <= 60
    assert counts[0] < counts[-1]
    assert counts == sorted(counts)


def test_ocop_product_keeps_its_decision_while_valid(books):
    seen = {
        year: {(r["coop_code"], r["product_name"]): r for r in _rows(books, "ocop", year)}
        for year in YEARS
    }
    kept = 0
    for year in YEARS[1:]:
        for key, before in seen[year - 1].items():
            now = seen[year].get(key)
            within_30_months = before["decision_date"] > date(year - 2, 6, 30)
            if now is not None and within_30_months:
                assert now["decision_no"] == before["decision_no"]
                kept += 1
    assert kept > 50


def test_support_ocop_and_offtake_codes_are_in_the_same_files_htx_sheet(books):
    for book in books.values():
        codes = {r["coop_code"] for r in book["htx"]}
        for key in ("hotro", "ocop", "lienket"):
            assert {r["coop_code"] for r in book[key]} <= codes


def test_offtake_flag_is_yes_exactly_for_cooperatives_with_a_contract(books):
    for book in books.values():
        with_contract = {r["coop_code"] for r in book["lienket"]}
        for row in book["htx"]:
            assert row["has_offtake_contract"] == (
                "Có" if row["coop_code"] in with_contract else "Không"
            )


def test_expected_counts_match_rows_in_files(samples, books):
    actual = {key: {k: len(book[k]) for k in SHEETS} for key, book in books.items()}
    assert expected_counts(samples) == actual


def test_thongtin_identifies_unit_and_year(books):
    keys = layout.THONGTIN_KEYS
    names = {u.code: u.full_name for u in dak_nong_units()} | {"68": "Tỉnh Lâm Đồng"}
    names |= {code: NEW_68[code].full_name for code in COMMUNE_UNITS}
    for (unit, year), book in books.items():
        info = book["info"]
        assert info[keys["unit_code"]] == unit  # stored as text
        assert info[keys["unit_name"]] == names[unit]
        assert info[keys["report_year"]] == year
        prepared = info[keys["prepared_on"]]
        assert isinstance(prepared, date)
        assert prepared.year == year + 1
        assert prepared.month <= 3
        assert info[keys["prepared_by"]]


def test_htx_sheet_follows_the_template_layout(books):
    book = books[("663", 2023)]
    rows = book["raw_htx"]
    assert rows[0][0] == "UBND HUYỆN ĐẮK MIL"
    assert rows[1][0] == "BÁO CÁO TÌNH HÌNH HOẠT ĐỘNG HỢP TÁC XÃ NĂM 2023"
    assert rows[2][0] == "(Đơn vị tính: triệu đồng)"
    assert rows[4] == [c.header for c in layout.HTX.columns]
    assert rows[5] == [f"({i})" for i in range(1, len(layout.HTX.columns) + 1)]
    assert rows[6][1] == book["htx"][0]["coop_code"]
    tail = rows[6 + len(book["htx"]) :]
    assert all(cell == "" for cell in tail[0])
    assert any(row[1] == "Người lập biểu" and row[10] == "TRƯỞNG PHÒNG" for row in tail)


def test_cells_have_real_types(books):
    row = books[("662", 2022)]["htx"][0]
    assert isinstance(row["founded_on"], date)
    assert isinstance(row["members"], float)
    assert isinstance(row["revenue_mvnd"], float)
    assert isinstance(row["coop_code"], str)
    assert all(isinstance(r["decision_date"], date) for r in _rows(books, "ocop"))


def _previous_revenue(books) -> dict[tuple[str, int], float]:
    return {(r["coop_code"], y): r["revenue_mvnd"] for (_, y), b in books.items() for r in b["htx"]}


def _names_a_commune_of_its_year(unit: str, year: int, name: object) -> bool:
    """The contract's comparison finds at least one commune the cell may mean."""
    from etl.contract.communes import is_known
    from etl.contract.reference import load_reference

    return is_known(load_reference(), unit, year, name)


def test_sample_raises_no_validation_warnings(books):
    communes = {u.code: set(u.communes) for u in dak_nong_units()}
    revenue = _previous_revenue(books)
    programs = {code for code, _vi, _en in layout.PROGRAMS}
    for (unit, year), book in books.items():
        codes = [r["coop_code"] for r in book["htx"]]
        assert len(codes) == len(set(codes))
        for r in book["htx"]:
            assert r["members"] >= 5
            assert r["workers"] >= 0
            money = ("charter_capital_mvnd", "total_assets_mvnd", "revenue_mvnd", "avg_income_mvnd")
            assert all(r[k] >= 0 for k in money)
            assert 40 <= r["avg_income_mvnd"] <= 120
            assert r["founded_on"].year <= year
            if year < 2025:
                assert r["commune_name"] in communes[unit]
            else:
                assert _names_a_commune_of_its_year(unit, year, r["commune_name"]), r
            assert r["sector"] in layout.SECTORS
            before = revenue.get((r["coop_code"], year - 1))
            if before:
                assert before / 10 <= r["revenue_mvnd"] <= before * 3
        for r in book["hotro"]:
            assert r["year"] == year
            assert r["amount_mvnd"] > 0
            assert r["program"] in programs
            assert r["funding_source"] in layout.FUNDING_SOURCES
            # The district's share is the commune's from 2025: Xã, not Huyện.
            assert r["funding_source"] != ("Huyện" if year >= 2025 else "Xã")
        for r in book["ocop"]:
            assert r["stars"] in (3, 4, 5)
            assert r["product_group"] in layout.OCOP_GROUPS
            issued = r["decision_date"]
            expires = date(issued.year + 3, issued.month, issued.day)
            assert expires >= date(year, 1, 1)
            assert issued <= date(year, 12, 31)
        for r in book["lienket"]:
            assert r["partner"].startswith("Công ty")
            assert r["volume_tonnes"] >= 0
            assert r["contract_value_mvnd"] >= 0


def test_codes_are_unique_across_the_province(books):
    for year in YEARS:
        codes = [r["coop_code"] for r in _rows(books, "htx", year)]
        assert len(codes) == len(set(codes))


def test_names_are_unique_within_a_district(books):
    for (unit, _), book in books.items():
        if unit in UNIT_CODES:
            names = [r["name"] for r in book["htx"]]
            assert len(names) == len(set(names))
    # The province workbook joins eight districts: a name is unique within the former one.
    district = {r["coop_code"]: u for (u, y), b in books.items() if y == 2024 for r in b["htx"]}
    province = books[PROVINCE]["htx"]
    names = [(district[r["coop_code"]], r["name"]) for r in province if r["coop_code"] in district]
    assert len(names) == len(set(names))
    assert len(names) > 250


def test_cooperatives_persist_are_founded_dissolved_and_renamed(books):
    by_year = {year: {r["coop_code"]: r for r in _rows(books, "htx", year)} for year in YEARS}
    assert len(by_year[2021].keys() & by_year[2025].keys()) > 200
    changes = 0
    for year in YEARS[1:]:
        before, now = by_year[year - 1], by_year[year]
        founded = now.keys() - before.keys()
        assert founded
        assert all(now[c]["founded_on"].year == year for c in founded)
        assert before.keys() - now.keys()  # some dissolved
        for code in now.keys() & before.keys():
            a, b = before[code], now[code]
            if year < 2025:
                changes += (a["name"], a["commune_name"]) != (b["name"], b["commune_name"])
            else:  # the reorganisation renamed the communes: a move is in the note
                changes += a["name"] != b["name"] or b["note"].startswith("Chuyển trụ sở")
            assert abs(b["members"] - a["members"]) <= max(3, 0.1 * a["members"])
    assert 3 <= changes <= 6


def test_some_cooperatives_qualify_for_replication(books):
    by_year = {year: {r["coop_code"]: r for r in _rows(books, "htx", year)} for year in YEARS}
    ocop_2025 = {r["coop_code"] for r in _rows(books, "ocop", 2025)}
    candidates = [
        code
        for code, row in by_year[2025].items()
        if row["rating"] == "Tốt"
        and (row["has_offtake_contract"] == "Có" or code in ocop_2025)
        and all(
            code in by_year[y] and by_year[y][code]["profit_before_tax_mvnd"] > 0
            for y in (2023, 2024, 2025)
        )
    ]
    others = [c for c in candidates if by_year[2025][c]["in_da167"] != "x"]
    assert 10 <= len(others) <= 20


# ---------------------------------------------------------------------------------------
# The 2025 report after the reorganisation: one province workbook


def test_2025_workbook_is_the_province_report(samples, books):
    (file,) = [f for f in samples if f.report_year == 2025]
    assert (file.path.name, file.unit_code, file.expected_status) == (
        "68_2025.xlsx",
        "68",
        "loaded",
    )
    assert file.expected_errors == ()
    keys = layout.THONGTIN_KEYS
    info = books[PROVINCE]["info"]
    assert info[keys["unit_code"]] == "68"
    assert info[keys["unit_name"]] == "Tỉnh Lâm Đồng"
    assert info[keys["report_year"]] == 2025
    prepared = info[keys["prepared_on"]]
    assert isinstance(prepared, date)
    assert prepared.year == 2026
    assert prepared.month <= 3
    rows = books[PROVINCE]["raw_htx"]
    assert rows[0][0] == "UBND TỈNH LÂM ĐỒNG"
    assert rows[1][0] == "BÁO CÁO TÌNH HÌNH HOẠT ĐỘNG HỢP TÁC XÃ NĂM 2025 (khu vực Đắk Nông cũ)"
    assert rows[2][0] == "(Đơn vị tính: triệu đồng)"
    assert rows[4] == [c.header for c in layout.HTX.columns]
    assert file.rows == {key: len(books[PROVINCE][key]) for key in SHEETS}
    assert file.rows["hotro"]
    assert file.rows["ocop"]
    assert file.rows["lienket"]


def _former_district(books) -> dict[str, tuple[str, str]]:
    """Each cooperative's last district report: (district, former commune)."""
    last: dict[str, tuple[str, str]] = {}
    for (unit, year), book in sorted(books.items(), key=lambda item: item[0][1]):
        if year < 2025:
            last.update({r["coop_code"]: (unit, r["commune_name"]) for r in book["htx"]})
    return last


def test_former_dak_nong_communes_went_into_28_real_communes_of_68():
    placed = dak_nong_new_communes()
    assert len(placed) == 71  # every former commune of Đắk Nông
    assert len({c.code for c in placed.values()}) == 28
    assert all(NEW_68[c.code] == c for c in placed.values())
    into = {}
    for old, new in placed.items():
        into.setdefault(new.code, set()).add(old)
    assert into["24611"] == {"24611", "24612", "24619", "24622"}  # Phường Bắc Gia Nghĩa
    assert NEW_68["24611"].full_name == "Phường Bắc Gia Nghĩa"
    assert placed["24616"].full_name == "Xã Quảng Sơn"  # giữ nguyên
    assert placed["24699"].code == "24688"  # Xã Tân Thành (huyện Krông Nô), not Tân Thanh
    assert placed["24727"].code == "24717"  # Đắk N'Dung, spelled Đắk N’Drung in the text
    assert new_commune_of("663", "Đắk Gằn").full_name == "Xã Đắk Mil"


def test_2025_rows_name_the_new_commune_or_for_some_the_former_one(books):
    htx = books[PROVINCE]["htx"]
    former = _former_district(books)
    new_names = {c.full_name for c in NEW_68.values()}
    named_new = [r for r in htx if r["commune_name"] in new_names]
    former_names = {n for (_district, n) in _former_commune_names()}
    named_former = [r for r in htx if r["commune_name"] in former_names]
    assert 0.6 <= len(named_new) / len(htx) <= 0.9
    assert 0.1 <= len(named_former) / len(htx) <= 0.4
    # Where a name would fit two communes of 2025 (Xã Đắk Mil, new, and Thị trấn Đắk Mil,
    # former), the sample writes the other name or the code: every cell leads to one place.
    for r in htx:
        assert _names_a_commune_of_its_year("68", 2025, r["commune_name"]), r
        if r["coop_code"] in former and r["commune_name"] in new_names:
            district, commune = former[r["coop_code"]]
            assert r["commune_name"] == new_commune_of(district, commune).full_name
    codes = [r for r in htx if r["commune_name"] not in new_names | former_names]
    assert all(re.fullmatch(r"\d{5}", r["commune_name"]) for r in codes)


def test_new_geography_files_expect_no_warning(samples):
    assert all(f.expected_warnings == () for f in samples if f.report_year >= 2025)


def test_cooperatives_keep_their_codes_into_2025_and_2026(books):
    by_year = {year: {r["coop_code"]: r for r in _rows(books, "htx", year)} for year in YEARS}
    for year in (2025, 2026):
        before, now = by_year[year - 1], by_year[year]
        continuing = before.keys() & now.keys()
        assert len(continuing) >= 0.9 * len(before)
        for code in continuing:
            assert now[code]["founded_on"] == before[code]["founded_on"]
            assert now[code]["sector"] == before[code]["sector"]
        # No cooperative reappears under a new code: whatever is new was founded that year.
        assert all(r["founded_on"].year == year for c, r in now.items() if c not in before)
        seen = set().union(*(by_year[y].keys() for y in range(2021, year)))
        assert all(now[c]["founded_on"].year == year for c in now.keys() - seen)


def test_province_workbook_holds_the_simulated_2025_population(books):
    import random

    from tools.sample import build_population

    simulated = {
        c.coop_code: (r.unit.code, c)
        for r in build_population(dak_nong_units(), range(2021, 2026), random.Random(2025))
        if r.year == 2025
        for c in r.coops
    }
    htx = books[PROVINCE]["htx"]
    assert {r["coop_code"] for r in htx} == simulated.keys()
    for row in htx:
        district, coop = simulated[row["coop_code"]]
        assert (row["name"], row["members"], row["revenue_mvnd"]) == (
            coop.name,
            coop.members,
            coop.revenue_mvnd,
        )
        new = new_commune_of(district, coop.commune_name)
        assert row["commune_name"] in (coop.commune_name, new.full_name, new.code)
    for key in ("hotro", "ocop", "lienket"):
        assert {r["coop_code"] for r in books[PROVINCE][key]} <= simulated.keys()


# ---------------------------------------------------------------------------------------
# 2026, the first year of the 2026–2030 phase: commune reports and the province's


def test_commune_reports_of_2026_are_the_communes_own(books):
    keys = layout.THONGTIN_KEYS
    for code in COMMUNE_UNITS:
        book = books[(code, 2026)]
        commune = NEW_68[code]
        assert book["info"][keys["unit_code"]] == code  # stored as text
        assert book["info"][keys["unit_name"]] == commune.full_name
        assert book["raw_htx"][0][0] == f"UBND {commune.full_name.upper()}"
        assert book["raw_htx"][1][0] == "BÁO CÁO TÌNH HÌNH HOẠT ĐỘNG HỢP TÁC XÃ NĂM 2026"
        assert book["htx"]
        assert {r["commune_name"] for r in book["htx"]} == {commune.full_name}
    assert books[("24611", 2026)]["info"][keys["unit_name"]] == "Phường Bắc Gia Nghĩa"


def test_province_report_of_2026_names_the_other_new_communes(books):
    htx = books[("68", 2026)]["htx"]
    named = {r["commune_name"] for r in htx}
    held = {c.full_name for c in dak_nong_new_communes().values()}
    assert named <= held
    assert not named & {NEW_68[code].full_name for code in COMMUNE_UNITS}
    assert len(named) >= 20
    assert all(_names_a_commune_of_its_year("68", 2026, name) for name in named)
    title = books[("68", 2026)]["raw_htx"][1][0]
    assert title.startswith("BÁO CÁO TÌNH HÌNH HOẠT ĐỘNG HỢP TÁC XÃ NĂM 2026 (")


def test_every_cooperative_of_2026_is_in_the_file_of_its_new_commune(books):
    former = _former_district(books)
    files_of: dict[str, list[str]] = {}
    for unit in UNITS_2026:
        for r in books[(unit, 2026)]["htx"]:
            files_of.setdefault(r["coop_code"], []).append(unit)
            if r["coop_code"] in former:
                district, commune = former[r["coop_code"]]
                assert r["commune_name"] == new_commune_of(district, commune).full_name
    assert all(len(units) == 1 for units in files_of.values())
    reported = {code for code, units in files_of.items() if units != ["68"]}
    assert 30 <= len(reported) <= 80  # the four communes' own cooperatives


def test_2026_support_ocop_and_offtake_follow_their_cooperative(books):
    for unit in UNITS_2026:
        book = books[(unit, 2026)]
        codes = {r["coop_code"] for r in book["htx"]}
        for key in ("hotro", "ocop", "lienket"):
            assert {r["coop_code"] for r in book[key]} <= codes
    sources = Counter(r["funding_source"] for r in _rows(books, "hotro", 2026))
    assert "Huyện" not in sources


def test_commune_funding_replaces_the_districts_from_2025(books):
    sources = {year: {r["funding_source"] for r in _rows(books, "hotro", year)} for year in YEARS}
    assert all("Xã" not in sources[year] for year in DISTRICT_YEARS)
    assert all("Huyện" not in sources[year] for year in (2025, 2026))
    assert "Xã" in sources[2025] | sources[2026]


def test_earlier_years_do_not_depend_on_2026(everything, tmp_path):
    without = {
        f.path.name: _sha256(f.path) for f in write_samples(tmp_path, years=range(2021, 2026))
    }
    written = {f.path.name: _sha256(f.path) for f in everything}
    assert without == {name: digest for name, digest in written.items() if name in without}
    assert written.keys() - without.keys() == {f"{unit}_2026.xlsx" for unit in UNITS_2026}


# ---------------------------------------------------------------------------------------
# The national scale: the benchmark corpus

# The first 16 national units: Hà Nội's first 15 districts and Hà Giang's first, so that
# the subset spans two provinces (two simulations, two 2025 workbooks).
NATIONAL_SUBSET = 16


def _national_reference() -> list[dict[str, str]]:
    path = config.REFERENCE_DIR / "vn_admin_units.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def national(tmp_path_factory) -> list[SampleFile]:
    out = tmp_path_factory.mktemp("national")
    return write_samples(out, seed=2025, scale=NATIONAL_SCALE, limit=NATIONAL_SUBSET, processes=2)


def test_province_scale_is_the_default(everything, tmp_path):
    again = write_samples(tmp_path, seed=2025, scale=PROVINCE_SCALE)
    assert [_sha256(f.path) for f in again] == [_sha256(f.path) for f in everything]


def test_unknown_scale_is_refused(tmp_path):
    with pytest.raises(ValueError, match="scale"):
        write_samples(tmp_path, scale="world")


def test_national_units_are_every_district_unit_with_its_province_as_tax_prefix():
    records = _national_reference()
    province_of = {r["code"]: r["parent_code"] for r in records if r["level"] == "district"}
    units = national_units()
    assert len(units) == 696 == len(province_of)
    assert [u.code for u in units] == list(province_of)
    assert all(u.tax_prefix == province_of[u.code] for u in units)
    assert all(u.size == DEFAULT_UNIT_SIZE for u in units)
    assert national_units(NATIONAL_SUBSET) == units[:NATIONAL_SUBSET]


def test_national_2025_is_one_workbook_per_province_in_force_at_the_end_of_2025():
    provinces = [r["code"] for r in _national_reference() if r["level"] == "province"]
    groups = national_groups()
    assert len(provinces) == 63
    assert len(groups) == 34  # the provinces in force since 01/07/2025
    assert [code for code, _units in next(g for g in groups if g.code == "08").provinces] == [
        "02",
        "08",
    ]  # Hà Giang inside Tuyên Quang
    assert sorted(code for g in groups for code, _units in g.provinces) == sorted(provinces)
    assert [code for code, _units in next(g for g in groups if g.code == "68").provinces] == [
        "60",
        "67",
        "68",
    ]
    assert sum(len(units) for g in groups for _code, units in g.provinces) == 696


def test_national_subset_writes_district_files_then_one_file_per_province(national):
    units = national_units(NATIONAL_SUBSET)
    assert sorted(f.path.name for f in national) == sorted(
        [f"{u.code}_{year}.xlsx" for u in units for year in DISTRICT_YEARS]
        + ["01_2025.xlsx", "08_2025.xlsx"]  # Hà Giang (02) reports inside Tuyên Quang (08)
    )
    rows_2025 = {f.unit_code: f.rows["htx"] for f in national if f.report_year == 2025}
    assert rows_2025["01"] > 10 * DEFAULT_UNIT_SIZE
    assert rows_2025["08"] < 2 * DEFAULT_UNIT_SIZE


def test_national_2026_comes_from_new_communes_and_the_provinces(tmp_path):
    files = write_samples(
        tmp_path, scale=NATIONAL_SCALE, limit=NATIONAL_SUBSET, years=range(2024, 2027)
    )
    later = {f.path.name: f for f in files if f.report_year == 2026}
    communes = [f for f in later.values() if len(f.unit_code) == 5]
    assert {"01_2026.xlsx", "08_2026.xlsx"} <= later.keys()
    assert len(communes) >= 5
    ha_noi = new_communes("01")
    assert all(f.unit_code in ha_noi or f.unit_code in new_communes("08") for f in communes)
    same_2025 = {f.path.name: _sha256(f.path) for f in files if f.report_year < 2026}
    without = write_samples(
        tmp_path / "without", scale=NATIONAL_SCALE, limit=NATIONAL_SUBSET, years=range(2024, 2026)
    )
    assert {f.path.name: _sha256(f.path) for f in without} == same_2025
    for f in communes:
        rows = _read_national(f.path)["htx"]
        assert {r["commune_name"] for r in rows} == {
            (ha_noi.get(f.unit_code) or new_communes("08")[f.unit_code]).full_name
        }


def test_national_2025_and_2026_files_are_valid_without_a_finding(tmp_path):
    files = write_samples(
        tmp_path / "corpus", scale=NATIONAL_SCALE, limit=NATIONAL_SUBSET, years=range(2024, 2027)
    )
    # Names in plain letters (Minh Khai) or fitting two communes are written as codes:
    # no commune is unknown, nor any other finding.
    staged = _staged_without_a_finding([f for f in files if f.report_year >= 2025], tmp_path)
    assert staged >= 9


def _staged_without_a_finding(files: list[SampleFile], tmp_path: Path) -> int:
    """Stage `files` as one batch; every one must be valid without a finding. Returns how
    many were staged."""
    import json

    from etl.read.discover import LandedFile, file_id_for, sha256_of
    from etl.warehouse.staging import stage_batch

    landed = []
    for f in files:
        sha = sha256_of(f.path)
        landed.append(LandedFile(file_id_for(sha), f.path.name, sha, 0, str(f.path)))
    summaries = stage_batch(landed, tmp_path / "staging", "test-run")
    assert {s["status"] for s in summaries} == {"valid"}
    assert len(summaries) == len(landed)
    for outcome in (tmp_path / "staging" / "outcomes").glob("*.json"):
        assert json.loads(outcome.read_text()).get("findings") in (None, []), outcome
    return len(summaries)


def test_national_subset_is_deterministic_in_any_number_of_processes(national, tmp_path):
    again = write_samples(
        tmp_path, seed=2025, scale=NATIONAL_SCALE, limit=NATIONAL_SUBSET, processes=1
    )
    assert {f.path.name: _sha256(f.path) for f in again} == {
        f.path.name: _sha256(f.path) for f in national
    }


def test_a_province_does_not_depend_on_the_provinces_written_with_it(national, tmp_path):
    """Hà Nội alone (the first 15 units) writes the same files as with Hà Giang's unit."""
    alone = write_samples(tmp_path, seed=2025, scale=NATIONAL_SCALE, limit=15, processes=1)
    written = {f.path.name: _sha256(f.path) for f in national}
    assert {f.path.name: _sha256(f.path) for f in alone} == {
        name: digest for name, digest in written.items() if name in {f.path.name for f in alone}
    }


def test_national_codes_carry_the_province_prefix_and_are_unique_each_year(national):
    codes: dict[int, list[str]] = {}
    for f in national:
        for row in _read_national(f.path)["htx"]:
            code = row["coop_code"]
            assert re.fullmatch(r"\d{10}", code)
            if f.report_year < 2025:
                assert code[:3] == f"{_province(f)}0"
            else:  # a province in force: the prefixes of the provinces merged into it
                assert code[:2] in {"01", "02", "08"}
                assert code[2] == "0"
            codes.setdefault(f.report_year, []).append(code)
    for year, found in codes.items():
        assert len(found) == len(set(found)), year


def test_national_files_pass_every_error_rule(national, tmp_path):
    from etl.read.discover import LandedFile, file_id_for, sha256_of
    from etl.warehouse.staging import stage_batch

    chosen = [f for f in national if f.unit_code in ("001", "024") or f.report_year == 2025]
    landed = []
    for f in chosen:
        sha = sha256_of(f.path)
        landed.append(LandedFile(file_id_for(sha), f.path.name, sha, 0, str(f.path)))
    summaries = stage_batch(landed, tmp_path / "staging", "test-run")
    assert {s["status"] for s in summaries} == {"valid"}
    assert {(s["unit_code"], s["report_year"]) for s in summaries} == {
        (f.unit_code, f.report_year) for f in chosen
    }


# The deep national corpus: the bench's 300×


@pytest.fixture(scope="module")
def deep(tmp_path_factory) -> list[SampleFile]:
    out = tmp_path_factory.mktemp("deep")
    return write_deep_national_samples(out, seed=2025, limit=NATIONAL_SUBSET, processes=2)


def test_deep_corpus_is_the_national_corpus_then_2026_to_2030(deep, national):
    assert sorted({f.report_year for f in deep}) == list(range(2021, 2031))
    earlier = {f.path.name: _sha256(f.path) for f in deep if f.report_year <= 2025}
    assert earlier == {f.path.name: _sha256(f.path) for f in national}  # 100×'s, byte for byte
    for year in range(2026, 2031):
        units = {f.unit_code for f in deep if f.report_year == year}
        assert {"01", "08"} <= units, year  # Hà Giang (02) inside Tuyên Quang (08)
        assert not units & {u.code for u in national_units(NATIONAL_SUBSET)}  # no district


def test_deep_corpus_has_one_commune_in_three_report_itself_and_no_row_twice(deep):
    provinces = ("01", "08")
    communes = {code: c for p in provinces for code, c in new_communes(p).items()}
    code_of = {c.full_name: code for code, c in communes.items()} | {c: c for c in communes}
    for year in range(2026, 2031):
        files = [f for f in deep if f.report_year == year]
        rows = {f.unit_code: _read_national(f.path)["htx"] for f in files}
        # Every cooperative of the year in exactly one report.
        codes = [r["coop_code"] for found in rows.values() for r in found]
        assert len(codes) == len(set(codes)), year
        placed: dict[str, set[str]] = {p: set() for p in provinces}
        for unit, found in rows.items():
            province = (
                unit if unit in provinces else next(p for p in provinces if unit in new_communes(p))
            )
            placed[province] |= {code_of[r["commune_name"]] for r in found}
        own = {code for p in provinces for code in sorted(placed[p])[::3]}
        assert {f.unit_code for f in files if len(f.unit_code) == 5} == own, year
        assert len(own) >= 10


def test_deep_corpus_later_years_are_valid_without_a_finding(deep, tmp_path):
    later = [
        f
        for f in deep
        if f.report_year in (2027, 2030) and (f.unit_code == "08" or f.unit_code < "00300")
    ]
    assert _staged_without_a_finding(later, tmp_path) >= 6


def _province(f: SampleFile) -> str:
    """The province of a national district file: its unit's tax prefix."""
    prefixes = {u.code: u.tax_prefix for u in national_units()}
    return prefixes[f.unit_code]


def _read_national(path: Path) -> dict[str, Rows]:
    book = CalamineWorkbook.from_path(str(path))
    sheet = layout.HTX
    rows = book.get_sheet_by_name(sheet.name).to_python()
    headers = [c.header for c in sheet.columns]
    start = next(i for i, row in enumerate(rows) if row[: len(headers)] == headers)
    code_col = headers.index(sheet.column("coop_code").header)
    return {
        "htx": [
            {c.key: row[i] for i, c in enumerate(sheet.columns)}
            for row in rows[start + 1 :]
            if re.fullmatch(r"\d{10}", str(row[code_col]))
        ]
    }
