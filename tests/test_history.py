"""Type-2 history of cooperatives: renames, moves, resubmissions and late workbooks."""

from __future__ import annotations

import datetime as dt

from conftest import HTX_HEADER, htx_row, info_rows, query, run_steps, write_xlsx

CODE = "6400000001"
OTHER = "6400000002"


def _workbook(settings, name, year, coop_values, prepared=None):
    rows = [HTX_HEADER, htx_row(1, CODE, **coop_values), htx_row(2, OTHER)]
    sheets = {"ThongTin": info_rows("663", year, prepared), "HTX": rows}
    write_xlsx(settings.landing_dir / name, sheets)


def _versions(settings):
    return query(
        settings,
        "select cooperative_key, name, commune_name, valid_from_year, valid_to_year, is_current "
        "from core.dim_cooperative where coop_code = ? order by valid_from_year",
        [CODE],
    )


def _fact_names(settings):
    return query(
        settings,
        "select f.period_key, d.name, d.commune_name from core.fact_cooperative_year f "
        "join core.dim_cooperative d using (cooperative_key) where f.coop_code = ? order by 1",
        [CODE],
    )


def test_move_to_another_commune_opens_a_version(settings):
    _workbook(settings, "663_2021.xlsx", 2021, {})
    _workbook(settings, "663_2022.xlsx", 2022, {"Xã/Phường": "Thuận An"})
    run_steps(settings)
    assert [(v[2], v[3], v[4], v[5]) for v in _versions(settings)] == [
        ("Đức Mạnh", 2021, 2021, False),
        ("Thuận An", 2022, None, True),
    ]
    assert [r[2] for r in _fact_names(settings)] == ["Đức Mạnh", "Thuận An"]


def test_the_same_commune_spelled_otherwise_opens_no_version(settings):
    """The commune is the place, not its spelling: `Đức Mạnh`, `XÃ ĐỨC MẠNH`, its code
    24676 stored as a number, and `Duc Manh` are one commune; a move opens a version."""
    _workbook(settings, "663_2021.xlsx", 2021, {"Xã/Phường": "Đức Mạnh"})
    _workbook(settings, "663_2022.xlsx", 2022, {"Xã/Phường": "XÃ ĐỨC MẠNH"})
    _workbook(settings, "663_2023.xlsx", 2023, {"Xã/Phường": 24676})
    _workbook(settings, "663_2024.xlsx", 2024, {"Xã/Phường": "Duc Manh"})
    run_steps(settings, "run-1")
    assert [(v[2], v[3], v[4]) for v in _versions(settings)] == [("Đức Mạnh", 2021, None)]
    _workbook(
        settings, "663_2024_bosung.xlsx", 2024, {"Xã/Phường": "Thuận An"}, dt.date(2025, 2, 1)
    )
    run_steps(settings, "run-2")
    assert [(v[2], v[3], v[4]) for v in _versions(settings)] == [
        ("Đức Mạnh", 2021, 2023),
        ("Thuận An", 2024, None),
    ]


def test_a_commune_typed_with_an_eth_for_the_letter_d_is_that_commune(settings):
    """`\u00d0ức Mạnh` with the eth `\u00d0` (U+00D0), which looks like `Đ` and some
    input methods type for it, is Đức Mạnh: no version, no unknown-commune warning. An
    unknown commune typed so is the same name as with `Đ`: no version either."""
    _workbook(settings, "663_2021.xlsx", 2021, {"Xã/Phường": "Đức Mạnh"})
    _workbook(settings, "663_2022.xlsx", 2022, {"Xã/Phường": "\u00d0ức Mạnh"})
    _workbook(settings, "663_2023.xlsx", 2023, {"Xã/Phường": "Đồng Xanh Mới"})
    _workbook(settings, "663_2024.xlsx", 2024, {"Xã/Phường": "\u00f0ồng Xanh Mới"})
    run_steps(settings)
    assert [(v[2], v[3], v[4]) for v in _versions(settings)] == [
        ("Đức Mạnh", 2021, 2022),
        ("Đồng Xanh Mới", 2023, None),
    ]
    warned = query(settings, "select value from audit.rejected_row where rule = 'commune_known'")
    assert sorted(warned) == [("\u00f0ồng Xanh Mới",), ("Đồng Xanh Mới",)]


def test_a_blank_commune_or_sector_opens_no_version(settings):
    """A cell left blank is not reported, not a move nor a change of sector: the year keeps
    the version before it, and the next year is compared with the last value reported."""
    _workbook(settings, "663_2021.xlsx", 2021, {})
    _workbook(settings, "663_2022.xlsx", 2022, {"Xã/Phường": "  ", "Lĩnh vực": None})
    _workbook(settings, "663_2023.xlsx", 2023, {"Xã/Phường": "Thuận An", "Lĩnh vực": None})
    _workbook(settings, "663_2024.xlsx", 2024, {"Xã/Phường": "Thuận An", "Lĩnh vực": "Vận tải"})
    run_steps(settings)
    assert query(
        settings,
        "select commune_name, sector, valid_from_year, valid_to_year from core.dim_cooperative "
        "where coop_code = ? order by valid_from_year",
        [CODE],
    ) == [
        ("Đức Mạnh", "Nông nghiệp", 2021, 2022),
        ("Thuận An", "Nông nghiệp", 2023, 2023),
        ("Thuận An", "Vận tải", 2024, None),
    ]
    assert [r[2] for r in _fact_names(settings)] == ["Đức Mạnh", "Đức Mạnh", "Thuận An", "Thuận An"]


def test_a_commune_first_named_in_a_later_year_of_the_version_is_its_commune(settings):
    """A cooperative first reported with its commune blank, then named in Đức Mạnh: the
    commune is reported once, which opens no version, so the version is in Đức Mạnh."""
    _workbook(settings, "663_2021.xlsx", 2021, {"Xã/Phường": "  "})
    _workbook(settings, "663_2022.xlsx", 2022, {"Xã/Phường": "Đức Mạnh"})
    run_steps(settings)
    assert [(v[2], v[3], v[4]) for v in _versions(settings)] == [("Đức Mạnh", 2021, None)]


def test_a_name_in_other_capitals_is_the_same_name(settings):
    _workbook(settings, "663_2021.xlsx", 2021, {"Tên HTX": "HTX Nông nghiệp Đức Mạnh"})
    _workbook(settings, "663_2022.xlsx", 2022, {"Tên HTX": "HTX NÔNG NGHIỆP ĐỨC MẠNH"})
    _workbook(settings, "663_2023.xlsx", 2023, {"Tên HTX": "HTX Nông nghiệp Đức Mạnh Mới"})
    run_steps(settings)
    assert [(v[1], v[3], v[4]) for v in _versions(settings)] == [
        ("HTX Nông nghiệp Đức Mạnh", 2021, 2022),
        ("HTX Nông nghiệp Đức Mạnh Mới", 2023, None),
    ]


def test_a_name_with_its_tone_mark_on_the_other_vowel_is_the_same_name(settings):
    """Old and new Vietnamese tone placement (`Hoà`/`Hòa`, `Thuý`/`Thúy`, `Khoẻ`/`Khỏe`:
    the clerk's keyboard setting, not a rename) open no version; a real rename does."""
    _workbook(settings, "663_2021.xlsx", 2021, {"Tên HTX": "HTX Hoà Bình Thuý Khoẻ"})
    _workbook(settings, "663_2022.xlsx", 2022, {"Tên HTX": "HTX Hòa Bình Thúy Khỏe"})
    _workbook(settings, "663_2023.xlsx", 2023, {"Tên HTX": "HTX HOÀ BÌNH THUÝ KHOẺ"})
    _workbook(settings, "663_2024.xlsx", 2024, {"Tên HTX": "HTX Hóa Bình Thúy Khỏe"})
    run_steps(settings)
    assert [(v[1], v[3], v[4]) for v in _versions(settings)] == [
        ("HTX Hoà Bình Thuý Khoẻ", 2021, 2023),
        ("HTX Hóa Bình Thúy Khỏe", 2024, None),
    ]
    assert [r[1] for r in _fact_names(settings)] == ["HTX Hoà Bình Thuý Khoẻ"] * 3 + [
        "HTX Hóa Bình Thúy Khỏe"
    ]


def test_a_name_typed_with_an_eth_for_the_letter_d_is_the_same_name(settings):
    """`HTX \u00d0ắk Sắk` with the eth `\u00d0` (U+00D0), which looks like `Đ` and some
    input methods type for it, is `HTX Đắk Sắk`: no version; the shown name keeps what the
    year's report wrote."""
    _workbook(settings, "663_2021.xlsx", 2021, {"Tên HTX": "HTX Đắk Sắk"})
    _workbook(settings, "663_2022.xlsx", 2022, {"Tên HTX": "HTX \u00d0ắk Sắk"})
    _workbook(settings, "663_2023.xlsx", 2023, {"Tên HTX": "htx \u00f0ắk sắk"})
    run_steps(settings)
    assert [(v[1], v[3], v[4]) for v in _versions(settings)] == [("HTX Đắk Sắk", 2021, None)]


def test_a_commune_written_as_its_code_is_named(settings):
    _workbook(settings, "663_2021.xlsx", 2021, {"Xã/Phường": "24676"})
    run_steps(settings)
    assert [v[2] for v in _versions(settings)] == ["Xã Đức Mạnh"]


def test_a_commune_code_typed_with_a_dot_or_a_space_is_that_commune(settings):
    """Rule 8, codes lose spaces and dots: `24.676` and `24 676` are Xã Đức Mạnh, named and
    placed as `24676` is; before, an unknown commune and a cooperative under review."""
    _workbook(settings, "663_2021.xlsx", 2021, {"Xã/Phường": "24.676"})
    _workbook(settings, "663_2022.xlsx", 2022, {"Xã/Phường": "24 676"})
    run_steps(settings)
    assert [(v[2], v[3], v[4]) for v in _versions(settings)] == [("Xã Đức Mạnh", 2021, None)]
    assert query(settings, "select rule from audit.rejected_row where rule = 'commune_known'") == []
    assert query(
        settings, "select placement from core.dim_cooperative where coop_code = ?", [CODE]
    ) == [("crosswalk",)]


def test_a_commune_code_with_a_space_elsewhere_is_named_as_it_is_placed(settings):
    """`246 76` and `2 4676` are 24676 to the contract (rule 8: spaces gone), which places the
    cooperative in Xã Đức Mạnh; the dimension names it so too. Before, its own pattern of a
    code took a space after the first two digits only and kept `246 76` as written."""
    _workbook(settings, "663_2021.xlsx", 2021, {"Xã/Phường": "246 76"})
    _workbook(settings, "663_2022.xlsx", 2022, {"Xã/Phường": "2 4676"})
    run_steps(settings)
    assert [(v[2], v[3], v[4]) for v in _versions(settings)] == [("Xã Đức Mạnh", 2021, None)]
    assert query(
        settings, "select placement from core.dim_cooperative where coop_code = ?", [CODE]
    ) == [("crosswalk",)]


def test_a_commune_code_that_lost_its_leading_zeros_is_that_commune(settings):
    """Hà Nội's 2026 report with 00103 (Phường Tây Hồ) stored as the number 103: the
    cooperative is in Phường Tây Hồ, named and placed so, with no unknown-commune warning."""
    rows = [HTX_HEADER, htx_row(1, CODE, **{"Xã/Phường": 103})]
    sheets = {"ThongTin": info_rows("01", 2026), "HTX": rows}
    write_xlsx(settings.landing_dir / "01_2026.xlsx", sheets)
    run_steps(settings)
    assert query(
        settings,
        "select commune_name, new_commune_code, placement from core.dim_cooperative "
        "where coop_code = ?",
        [CODE],
    ) == [("Phường Tây Hồ", "00103", "reported")]
    assert query(settings, "select rule from audit.rejected_row where rule = 'commune_known'") == []


def test_a_one_or_two_digit_commune_code_stored_as_a_number_is_named(settings):
    """Hà Nội's 00070 (Phường Hoàn Kiếm) stored as the number 70 is named as 103 is, not
    kept as `70`; before, only codes of three digits or more were named. A ward written by
    its number (`4`, Đà Lạt's Phường 4 up to 2024) is named too; `Phường 4` stays as written."""
    rows = [HTX_HEADER, htx_row(1, CODE, **{"Xã/Phường": 70})]
    sheets = {"ThongTin": info_rows("01", 2026), "HTX": rows}
    write_xlsx(settings.landing_dir / "01_2026.xlsx", sheets)
    rows = [
        HTX_HEADER,
        htx_row(1, OTHER, **{"Xã/Phường": 4}),
        htx_row(2, "6400000003", **{"Xã/Phường": "Phường 4"}),
    ]
    sheets = {"ThongTin": info_rows("672", 2024), "HTX": rows}
    write_xlsx(settings.landing_dir / "672_2024.xlsx", sheets)
    run_steps(settings)
    assert query(
        settings,
        "select coop_code, commune_name, new_commune_code, placement from core.dim_cooperative "
        "order by coop_code",
    ) == [
        (CODE, "Phường Hoàn Kiếm", "00070", "reported"),
        (OTHER, "Phường 4", "24781", "crosswalk"),
        ("6400000003", "Phường 4", "24781", "crosswalk"),
    ]
    assert query(settings, "select rule from audit.rejected_row where rule = 'commune_known'") == []


def test_resubmission_that_undoes_a_rename_rewrites_only_the_affected_versions(settings):
    _workbook(settings, "663_2021.xlsx", 2021, {"Tên HTX": "HTX A"})
    _workbook(settings, "663_2022.xlsx", 2022, {"Tên HTX": "HTX B"}, dt.date(2023, 1, 10))
    _workbook(settings, "663_2023.xlsx", 2023, {"Tên HTX": "HTX B"})
    run_steps(settings, "run-1")
    first = _versions(settings)
    assert [(v[1], v[3], v[4]) for v in first] == [("HTX A", 2021, 2021), ("HTX B", 2022, None)]
    other_before = query(
        settings, "select * from core.dim_cooperative where coop_code = ?", [OTHER]
    )

    # The 2022 rename was a typo: the district resubmits 2022 with the old name.
    _workbook(settings, "663_2022_bosung.xlsx", 2022, {"Tên HTX": "HTX A"}, dt.date(2023, 3, 1))
    run_steps(settings, "run-2")
    second = _versions(settings)
    assert [(v[1], v[3], v[4]) for v in second] == [("HTX A", 2021, 2022), ("HTX B", 2023, None)]
    assert second[0][0] == first[0][0]  # the 2021 version keeps its key
    assert query(settings, "select * from core.dim_cooperative where coop_code = ?", [OTHER]) == (
        other_before
    )  # untouched cooperatives keep everything
    assert _fact_names(settings) == [
        (2021, "HTX A", "Đức Mạnh"),
        (2022, "HTX A", "Đức Mạnh"),
        (2023, "HTX B", "Đức Mạnh"),
    ]


def test_late_workbook_for_an_earlier_year_slots_into_history(settings):
    _workbook(settings, "663_2021.xlsx", 2021, {"Tên HTX": "HTX A"})
    _workbook(settings, "663_2023.xlsx", 2023, {"Tên HTX": "HTX C"})
    run_steps(settings, "run-1")
    assert [(v[1], v[3], v[4]) for v in _versions(settings)] == [
        ("HTX A", 2021, 2022),
        ("HTX C", 2023, None),
    ]
    _workbook(settings, "663_2022.xlsx", 2022, {"Tên HTX": "HTX B"})  # arrives last
    run_steps(settings, "run-2")
    assert [(v[1], v[3], v[4]) for v in _versions(settings)] == [
        ("HTX A", 2021, 2021),
        ("HTX B", 2022, 2022),
        ("HTX C", 2023, None),
    ]
    assert [r[1] for r in _fact_names(settings)] == ["HTX A", "HTX B", "HTX C"]


def test_joining_decision_167_opens_a_version(settings):
    _workbook(settings, "663_2021.xlsx", 2021, {})
    _workbook(settings, "663_2022.xlsx", 2022, {"Tham gia Đề án 167": "x"})
    run_steps(settings)
    flags = query(
        settings,
        "select in_da167, valid_from_year from core.dim_cooperative where coop_code = ? order by 2",
        [CODE],
    )
    assert flags == [(False, 2021), (True, 2022)]
