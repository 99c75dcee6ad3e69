"""Which unit and year a workbook reports on (the workbook contract, "Files" and "Reports
after the 2025 reorganisation"): real workbooks written here, read by the reader, then
identified. The year comes first: 24611 was Phường Nghĩa Đức until 2025 and is Phường Bắc
Gia Nghĩa after."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import HTX_HEADER, htx_row, write_xlsx

from etl.contract.findings import REASONS, Finding
from etl.contract.reference import load_reference
from etl.read.identify import Identity, identify
from etl.read.reader import read_workbook


@pytest.fixture(scope="module")
def ref():
    return load_reference()


def _workbook(folder: Path, file_name: str, **info: object) -> Path:
    """A report: ThongTin with the given keys (`code`, `name`, `year`; none: no ThongTin
    sheet at all), and one cooperative."""
    sheets: dict[str, list[list]] = {}
    if info:
        labels = {
            "code": "Mã đơn vị",
            "name": "Tên đơn vị",
            "year": "Năm báo cáo",
            "prepared": "Ngày lập",
        }
        rows: list[list] = [["Thông tin", "Giá trị"]]
        rows += [[labels[key], value] for key, value in info.items()]
        rows.append(["Người lập", "Nguyễn Văn A"])
        sheets["ThongTin"] = rows
    sheets["HTX"] = [HTX_HEADER, htx_row(1, "6630000001")]
    return write_xlsx(folder / file_name, sheets)


def _identify(folder: Path, file_name: str, ref, **info: object) -> Identity | Finding:
    path = _workbook(folder, file_name, **info)
    read = read_workbook(path, file_name=file_name)
    assert read.rejection is None
    return identify(read.info, file_name, ref, read.info_rows, read.info_sheet)


def _unit(found: Identity | Finding) -> tuple[str, str, int, str]:
    assert isinstance(found, Identity), found.message
    return (found.unit.code, found.unit.full_name, found.report_year, found.source)


def _rejected(found: Identity | Finding, rule: str) -> str:
    assert isinstance(found, Finding), f"identified as {found.unit.code}"
    assert found.rule == rule
    assert found.severity == "error"
    vi, en = found.message.split(" / ")  # Vietnamese first, English second
    assert vi.strip()
    assert en.strip()
    return found.message


# --- report year 2025: a province in force at its end, or a former district ----------------


def test_2025_report_comes_from_the_province_in_force_or_a_former_district(tmp_path, ref):
    assert _unit(_identify(tmp_path, "a.xlsx", ref, code="68", year=2025)) == (
        "68",
        "Tỉnh Lâm Đồng",
        2025,
        "ThongTin",
    )
    assert _unit(_identify(tmp_path, "68_2025.xlsx", ref))[:3] == ("68", "Tỉnh Lâm Đồng", 2025)
    assert _unit(_identify(tmp_path, "b.xlsx", ref, code="663", year=2025))[:2] == (
        "663",
        "Huyện Đắk Mil",
    )


def test_a_former_province_merged_in_2025_is_told_which_province_reports(tmp_path, ref):
    for found in (
        _identify(tmp_path, "a.xlsx", ref, code="67", year=2025),
        _identify(tmp_path, "67_2026.xlsx", ref),
        _identify(tmp_path, "dak_nong_2025.xlsx", ref),
        _identify(tmp_path, "b.xlsx", ref, code=67, year=2025),  # stored as a number
        _identify(tmp_path, "c.xlsx", ref, code=67.0, year=2026),
    ):
        message = _rejected(found, "unit_not_in_year")
        assert "Tỉnh Đắk Nông" in message
        assert "Tỉnh Lâm Đồng" in message
        assert "mã 68" in message
    # Up to 2024 Đắk Nông reports as before.
    assert _unit(_identify(tmp_path, "67_2024.xlsx", ref))[:2] == ("67", "Tỉnh Đắk Nông")


def test_a_former_province_whose_code_the_new_province_kept_is_told_it_merged(tmp_path, ref):
    """Kiên Giang's 91 is the new An Giang's code, Yên Bái's 15 the new Lào Cai's: named by
    its name, the former province is told where it went, not that it is no unit at all; and
    the advice, followed, identifies the new province (code and name)."""
    for found, merged in (
        (_identify(tmp_path, "kien_giang_2025.xlsx", ref), "Tỉnh Kiên Giang (mã 91)"),
        (_identify(tmp_path, "a.xlsx", ref, name="Tỉnh Kiên Giang", year=2025), "Kiên Giang"),
        (_identify(tmp_path, "b.xlsx", ref, name="Tỉnh Yên Bái", year=2026), "(mã 15)"),
    ):
        message = _rejected(found, "unit_not_in_year")
        assert merged in message
        assert "đã hợp nhất vào" in message
    message = _identify(tmp_path, "kien_giang_2025.xlsx", ref).message
    assert "Hãy đặt tên tệp theo mã 91, ví dụ 91_2025.xlsx" in message
    assert _unit(_identify(tmp_path, "91_2025.xlsx", ref))[:2] == ("91", "Tỉnh An Giang")
    message = _identify(tmp_path, "a.xlsx", ref, name="Tỉnh Kiên Giang", year=2025).message
    assert "Hãy ghi mã 91 trong 'Mã đơn vị' và 'Tỉnh An Giang' trong 'Tên đơn vị'" in message
    assert _unit(_identify(tmp_path, "c.xlsx", ref, code="91", name="Tỉnh An Giang", year=2025))[
        :2
    ] == ("91", "Tỉnh An Giang")
    # A province that kept its code and its name reports as itself; up to 2024, as before.
    assert _unit(_identify(tmp_path, "lam_dong_2025.xlsx", ref))[:2] == ("68", "Tỉnh Lâm Đồng")
    assert _unit(_identify(tmp_path, "kien_giang_2024.xlsx", ref))[:2] == ("91", "Tỉnh Kiên Giang")


# --- from 2026: a province or a commune of the 2025 list ------------------------------------


def test_2026_commune_by_thongtin_file_name_or_slug(tmp_path, ref):
    expected = ("24611", "Phường Bắc Gia Nghĩa", 2026)
    assert _unit(_identify(tmp_path, "x.xlsx", ref, code="24611", year=2026)) == (
        *expected,
        "ThongTin",
    )
    assert _unit(_identify(tmp_path, "24611_2026.xlsx", ref)) == (*expected, "file name")
    assert _unit(_identify(tmp_path, "24611_2026_bosung.xlsx", ref)) == (*expected, "file name")
    assert _unit(_identify(tmp_path, "bac_gia_nghia_2026.xlsx", ref)) == (*expected, "file name")
    assert _unit(_identify(tmp_path, "phuong_bac_gia_nghia_2026.xlsx", ref))[:3] == expected
    # ThongTin's year with the file name's unit.
    found = _identify(tmp_path, "24611_2026.xlsx", ref, year=2026)
    assert _unit(found)[:3] == expected
    assert found.unit.current
    assert found.unit.level == "commune"
    assert _unit(_identify(tmp_path, "y.xlsx", ref, code="68", year=2026))[:2] == (
        "68",
        "Tỉnh Lâm Đồng",
    )


def test_a_reused_code_means_the_unit_of_the_report_year(tmp_path, ref):
    # 24611: Phường Nghĩa Đức (a former commune, never a reporting unit) up to 2025,
    # Phường Bắc Gia Nghĩa from 2026.
    assert _unit(_identify(tmp_path, "24611_2026.xlsx", ref))[1] == "Phường Bắc Gia Nghĩa"
    message = _rejected(_identify(tmp_path, "24611_2024.xlsx", ref), "unit_not_in_year")
    assert "24611 Phường Nghĩa Đức" in message
    assert "Bắc Gia Nghĩa" not in message
    assert "Tỉnh Đắk Nông (67)" in message
    assert "Thành phố Gia Nghĩa (660)" in message  # its district reported then


def test_a_reused_commune_code_in_2025_is_told_by_its_name(tmp_path, ref):
    """24611 was Phường Nghĩa Đức until 30/06/2025 and is Phường Bắc Gia Nghĩa since: in a
    2025 report, `Tên đơn vị` says which is meant, and the reason (no commune reports
    2025) names that one alone; without a name that fits, both."""
    for name, named, other in (
        ("Phường Bắc Gia Nghĩa", "24611 Phường Bắc Gia Nghĩa", "Nghĩa Đức"),
        ("Phường Nghĩa Đức", "24611 Phường Nghĩa Đức", "Bắc Gia Nghĩa"),
    ):
        found = _identify(tmp_path, "x.xlsx", ref, code="24611", name=name, year=2025)
        message = _rejected(found, "unit_not_in_year")
        assert f"{named} là xã/phường" in message
        assert other not in message
        assert "Tỉnh Lâm Đồng (68)" in message
    message = _rejected(
        _identify(tmp_path, "x.xlsx", ref, code="24611", year=2025), "unit_not_in_year"
    )
    assert "24611 Phường Bắc Gia Nghĩa, 24611 Phường Nghĩa Đức là xã/phường" in message


def test_a_district_is_no_reporting_unit_after_2025(tmp_path, ref):
    """The reason names the district; the failing cell is the one that gave it, with what
    it holds (`663`, not the district's name)."""
    for found, cell in (
        (_identify(tmp_path, "a.xlsx", ref, code="663", year=2026), ("Mã đơn vị", "663", "B2")),
        # stored as a number
        (_identify(tmp_path, "b.xlsx", ref, code=663, year=2027), ("Mã đơn vị", "663", "B2")),
        (
            _identify(tmp_path, "c.xlsx", ref, name="Huyện Đắk Mil", year=2026),
            ("Tên đơn vị", "Huyện Đắk Mil", "B2"),
        ),
        (_identify(tmp_path, "663_2026.xlsx", ref), ("tên tệp", "663", None)),
    ):
        message = _rejected(found, "unit_not_in_year")
        assert "Huyện Đắk Mil" in message
        assert "cấp huyện đã bỏ từ 01/07/2025" in message
        assert "district level was abolished" in message
        assert isinstance(found, Finding)
        assert (found.column_name, found.value, found.cell) == cell


def test_a_former_commune_code_after_2025_is_told_the_code_of_its_commune_in_force(tmp_path, ref):
    """24679 was Xã Đắk Sắk of Đắk Mil; with Long Sơn and Nam Xuân it became the new Xã Đắk
    Sắk, which kept Long Sơn's 24678. A 2026 report under 24679 is told that code, the way
    its code was given (ThongTin as text or as a number, the file name); the advice,
    followed, identifies the commune."""
    for found, column, advice in (
        (
            _identify(tmp_path, "a.xlsx", ref, code="24679", year=2026),
            "Mã đơn vị",
            "Hãy ghi mã 24678 trong 'Mã đơn vị' và 'Xã Đắk Sắk' trong 'Tên đơn vị'",
        ),
        (
            _identify(tmp_path, "b.xlsx", ref, code=24679, year=2027),
            "Mã đơn vị",
            "Hãy ghi mã 24678 trong 'Mã đơn vị'",
        ),
        (_identify(tmp_path, "24679_2026.xlsx", ref), "tên tệp", "ví dụ 24678_2026.xlsx"),
    ):
        vi, en = _rejected(found, "unit_not_in_year").split(" / ")
        assert "Xã Đắk Sắk, Huyện Đắk Mil, Tỉnh Đắk Nông (mã 24679)" in vi, vi
        assert "là xã/phường cũ, nay thuộc" in vi, vi
        assert "Xã Đắk Sắk (mã 24678, Tỉnh Lâm Đồng)" in vi, vi
        assert advice in vi, vi
        assert "is a former commune" in en, en
        assert "Xã Đắk Sắk (code 24678, Tỉnh Lâm Đồng)" in en, en
        assert isinstance(found, Finding)
        assert (found.column_name, found.value) == (column, "24679")
    assert _unit(_identify(tmp_path, "c.xlsx", ref, code="24678", name="Xã Đắk Sắk", year=2026))[
        :2
    ] == ("24678", "Xã Đắk Sắk")
    # Phường Cống Vị (00007, Hà Nội) was split between Ngọc Hà and Giảng Võ: both are named.
    vi, en = _rejected(
        _identify(tmp_path, "d.xlsx", ref, code="00007", year=2026), "unit_not_in_year"
    ).split(" / ")
    assert "Phường Cống Vị, Quận Ba Đình, Thành phố Hà Nội (mã 00007) là xã/phường cũ" in vi, vi
    assert "00008 Phường Ngọc Hà" in vi, vi
    assert "00025 Phường Giảng Võ" in vi, vi
    assert "nay thuộc" not in vi, vi
    assert "00008 Phường Ngọc Hà" in en, en
    # Up to 2025 a former commune is told who reports instead, as before.
    message = _rejected(
        _identify(tmp_path, "e.xlsx", ref, code="24679", year=2024), "unit_not_in_year"
    )
    assert "xã/phường chỉ lập báo cáo riêng từ năm 2026" in message


def test_a_commune_report_before_2026_is_rejected_saying_who_reports(tmp_path, ref):
    for found in (
        _identify(tmp_path, "a.xlsx", ref, code="24611", year=2025),
        _identify(tmp_path, "24611_2025.xlsx", ref),
        _identify(tmp_path, "bac_gia_nghia_2025.xlsx", ref),
    ):
        message = _rejected(found, "unit_not_in_year")
        assert "24611 Phường Bắc Gia Nghĩa" in message
        assert "xã/phường chỉ lập báo cáo riêng từ năm 2026" in message
        assert "Tỉnh Lâm Đồng (68)" in message
        assert "communes send their own report from report year 2026" in message


def test_a_commune_named_before_2026_is_the_one_named_not_every_unit_of_its_code(tmp_path, ref):
    """24670 is the new Xã Đắk Mil and was the former Xã Đắk R'La; 24611 Bắc Gia Nghĩa and
    Nghĩa Đức. A name or a slug names one of them: the reason says that one; a code alone
    names both."""
    for found, named, other in (
        (
            _identify(tmp_path, "a.xlsx", ref, name="Xã Đắk Mil", year=2025),
            "24670 Xã Đắk Mil",
            "Đắk R'La",
        ),
        (
            _identify(tmp_path, "bac_gia_nghia_2025.xlsx", ref),
            "24611 Phường Bắc Gia Nghĩa",
            "Nghĩa Đức",
        ),
    ):
        message = _rejected(found, "unit_not_in_year")
        assert named in message
        assert other not in message
    message = _rejected(_identify(tmp_path, "24611_2025.xlsx", ref), "unit_not_in_year")
    assert "24611 Phường Nghĩa Đức" in message


def test_a_new_commune_named_in_a_report_before_2025_says_communes_report_from_2026(tmp_path, ref):
    """`Phường Bắc Gia Nghĩa` did not exist in 2024: the reason says it is a commune that
    reports from 2026, and who reported its area in 2024 (Gia Nghĩa, Đắk Nông), not that
    the unit is unknown."""
    found = _identify(tmp_path, "a.xlsx", ref, name="Phường Bắc Gia Nghĩa", year=2024)
    message = _rejected(found, "unit_not_in_year")
    assert "24611 Phường Bắc Gia Nghĩa" in message
    assert "xã/phường chỉ lập báo cáo riêng từ năm 2026" in message
    assert "Tỉnh Đắk Nông (67)" in message
    assert "Thành phố Gia Nghĩa (660)" in message
    assert "Lâm Đồng" not in message  # not a province yet for this area in 2024
    assert isinstance(found, Finding)
    assert (found.column_name, found.value) == ("Tên đơn vị", "Phường Bắc Gia Nghĩa")


# --- codes stored as numbers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "year", "code", "name"),
    [
        (4, 2026, "04", "Tỉnh Cao Bằng"),  # a province in force: 2 digits
        (4, 2025, "04", "Tỉnh Cao Bằng"),
        (4, 2024, "004", "Quận Long Biên"),  # up to 2024 `1` is district `001` (rule 8)
        (68, 2026, "68", "Tỉnh Lâm Đồng"),
        (103, 2025, "103", "Huyện Nậm Pồ"),  # otherwise 3 digits up to 2025
        (103, 2026, "00103", "Phường Tây Hồ"),  # and 5 digits from 2026
        (24611, 2026, "24611", "Phường Bắc Gia Nghĩa"),
        (663.0, 2025, "663", "Huyện Đắk Mil"),
    ],
)
def test_a_unit_code_stored_as_a_number_is_padded_by_the_report_year(
    tmp_path, ref, number, year, code, name
):
    found = _identify(tmp_path, "x.xlsx", ref, code=number, year=year)
    assert _unit(found)[:2] == (code, name)


# --- Tên đơn vị ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["Huyện Đắk Mil", "Đắk Mil", "huyen dak mil", "HUYỆN ĐẮK MIL", "UBND huyện Đắk Mil"]
)
def test_the_unit_name_may_be_written_many_ways(tmp_path, ref, name):
    found = _identify(tmp_path, "x.xlsx", ref, code="663", name=name, year=2025)
    assert _unit(found)[0] == "663"


def test_a_blank_unit_name_is_fine(tmp_path, ref):
    assert _unit(_identify(tmp_path, "x.xlsx", ref, code="24611", name="", year=2026))[0] == (
        "24611"
    )
    found = _identify(tmp_path, "y.xlsx", ref, code="24611", name="Bắc Gia Nghĩa", year=2026)
    assert _unit(found)[0] == "24611"
    found = _identify(tmp_path, "z.xlsx", ref, code="68", name="tinh lam dong", year=2026)
    assert _unit(found)[0] == "68"
    # A name followed by its province names the unit, not the province.
    name = "UBND Phường Bắc Gia Nghĩa, tỉnh Lâm Đồng"
    found = _identify(tmp_path, "v.xlsx", ref, code="24611", name=name, year=2026)
    assert _unit(found)[0] == "24611"
    assert _unit(_identify(tmp_path, "w.xlsx", ref, name=name, year=2026))[:2] == (
        "24611",
        "Phường Bắc Gia Nghĩa",
    )


def test_a_unit_name_naming_another_unit_rejects_naming_both(tmp_path, ref):
    message = _rejected(
        _identify(tmp_path, "a.xlsx", ref, code="663", name="Huyện Krông Nô", year=2025),
        "unit_name_mismatch",
    )
    assert "663 là Huyện Đắk Mil" in message
    assert "664 Huyện Krông Nô" in message
    assert "names another unit" in message
    # The same place name at another level is another unit: commune 24670, not district 663.
    message = _rejected(
        _identify(tmp_path, "b.xlsx", ref, code="663", name="Xã Đắk Mil", year=2025),
        "unit_name_mismatch",
    )
    assert "24670 Xã Đắk Mil" in message
    # The former commune behind a reused code.
    message = _rejected(
        _identify(tmp_path, "c.xlsx", ref, code="24611", name="Phường Nghĩa Đức", year=2026),
        "unit_name_mismatch",
    )
    assert "24611 là Phường Bắc Gia Nghĩa" in message
    assert "Phường Nghĩa Đức" in message
    # Another province by name.
    message = _rejected(
        _identify(tmp_path, "d.xlsx", ref, code="68", name="Tỉnh Đắk Lắk", year=2026),
        "unit_name_mismatch",
    )
    assert "66 Tỉnh Đắk Lắk" in message
    assert "Tỉnh Lâm Đồng" in message


def test_a_commune_s_kind_word_typed_without_its_tone_mark_is_still_its_kind_word(tmp_path, ref):
    """`Xả Đắk Mil`, `Phương Bắc Gia Nghĩa`, `Đăc khu Vân Đồn`: tone marks do not count, the
    kind word's either, as in the commune column. Before, the name alone named no unit (the
    file rejected), and beside a code a name of another unit named none (the file taken)."""
    for i, (name, code) in enumerate(
        [
            ("Xả Đắk Mil", "24670"),
            ("XÀ ĐẮK MIL", "24670"),
            ("Phương Bắc Gia Nghĩa", "24611"),
            ("Đăc khu Vân Đồn", "06994"),
            ("Xả Đắk Mil, tỉnh Lâm Đồng", "24670"),
            ("Xà Phiên", "31495"),  # a name that begins with such a word is itself
        ]
    ):
        found = _identify(tmp_path, f"a{i}.xlsx", ref, name=name, year=2026)
        assert _unit(found)[0] == code, name
    message = _rejected(
        _identify(tmp_path, "b.xlsx", ref, code="24670", name="Xả Đắk Sắk", year=2026),
        "unit_name_mismatch",
    )
    assert "24678 Xã Đắk Sắk" in message
    # Before 2026 the commune is told who reports, as when typed with its tone mark.
    message = _rejected(
        _identify(tmp_path, "c.xlsx", ref, name="Thi trấn Đắk Mil", year=2024), "unit_not_in_year"
    )
    assert "24664 Thị trấn Đắk Mil" in message


def test_a_unit_name_without_its_spaces_or_with_an_apostrophe_names_its_unit(tmp_path, ref):
    """`Huyện ĐắkMil`, `Huyện Đắk G'Long`: spaces, hyphens and apostrophes do not count in a
    `Tên đơn vị` (nor in a file name's slug), as in the commune column; the letters still
    do. Before, such a name alone named no unit and the file was rejected."""
    for i, (name, code, year) in enumerate(
        [
            ("Huyện ĐắkMil", "663", 2023),
            ("Huyện KrôngNô", "664", 2023),
            ("Thành phố GiaNghĩa", "660", 2024),
            ("Huyện Đắk G'Long", "661", 2023),  # the reference writes `Đăk Glong`
            ("Huyện ĐắkGLong", "661", 2023),
            ("DakMil", "663", 2022),  # all plain letters: one unit fits
            ("Phường BắcGia Nghĩa", "24611", 2026),
        ]
    ):
        found, _name, found_year, _source = _unit(
            _identify(tmp_path, f"a{i}.xlsx", ref, name=name, year=year)
        )
        assert (found, found_year) == (code, year), name
    assert _unit(identify({}, "dakmil_2023.xlsx", ref))[0] == "663"
    assert _unit(identify({}, "DakGLong_2023.xlsx", ref))[0] == "661"
    # The letters count: `Đak` is not `Đắk`, and the name alone names no unit.
    _rejected(_identify(tmp_path, "b.xlsx", ref, name="Huyện ĐakMil", year=2023), "unit_unknown")
    # A slug two units fit without spaces fits both, as with them.
    message = _rejected(identify({}, "dakmil_2025.xlsx", ref), "unit_ambiguous")
    assert "663 Huyện Đắk Mil" in message
    assert "24670 Xã Đắk Mil" in message
    # Only words joined or parted: a letter moved across a space names no other place
    # (`Cát Hanh`, a former commune, is not `Ca Thành` of Cao Bằng).
    _rejected(_identify(tmp_path, "d.xlsx", ref, name="Xã Cát Hanh", year=2026), "unit_unknown")
    _rejected(identify({}, "cat_hanh_2026.xlsx", ref), "unit_unknown")
    # A name some unit has exactly is that unit's, told why it may not report, never another
    # unit's by its letters: the district Krông A Na in 2026 is not the commune Krông Ana,
    # the former commune Đạ M'Rong in 2024 not the district Đam Rông.
    for name, year, rule in (
        ("Krong A Na", 2026, "unit_not_in_year"),
        ("Da M'Rong", 2024, "unit_unknown"),
        ("Ea D'Rong", 2026, "unit_unknown"),  # the former Ea D'Rơng, not the new Ea Drông
    ):
        _rejected(_identify(tmp_path, "e.xlsx", ref, name=name, year=year), rule)
    _rejected(identify({}, "krong_a_na_2026.xlsx", ref), "unit_not_in_year")
    # Numbers are never joined: `1_1_2024.xlsx` is no `Quận 11`.
    _rejected(identify({}, "1_1_2024.xlsx", ref), "unit_unknown")
    # Beside a code, such a name of another unit still rejects the file naming both.
    message = _rejected(
        _identify(tmp_path, "c.xlsx", ref, code="664", name="Huyện ĐắkMil", year=2023),
        "unit_name_mismatch",
    )
    assert "664" in message
    assert "Đắk Mil" in message


def test_a_former_commune_s_name_several_communes_fit_is_told_by_the_closest(tmp_path, ref):
    """A commune may not report before 2026. Its name in `Tên đơn vị` is told so, naming the
    commune, also when the name (tone marks aside) fits several former communes: the one
    written with the same kind word and then the same tone marks. Before, `Phường Nghĩa
    Đức` (also Xã Nghĩa Đức of Nghệ An) was an unknown unit, and `Xã Đắk Ha` (also Xã Đắk
    Hà of Kon Tum) was told of Kon Tum's."""
    for i, (name, told, province) in enumerate(
        [
            ("Phường Nghĩa Đức", "24611 Phường Nghĩa Đức", "Tỉnh Đắk Nông (67)"),
            ("Xã Nghĩa Đức", "17020 Xã Nghĩa Đức", "Tỉnh Nghệ An (40)"),
            ("Xã Đắk Ha", "24622 Xã Đắk Ha", "Tỉnh Đắk Nông (67)"),
            ("Xã Đắk Hà", "23425 Xã Đắk Hà", "Tỉnh Kon Tum (62)"),
        ]
    ):
        found = _identify(tmp_path, f"a{i}.xlsx", ref, name=name, year=2024)
        message = _rejected(found, "unit_not_in_year")
        assert message.startswith(f"{told} là xã/phường"), name
        assert province in message, name
    # Neither closer than the other: no commune is named, the unit is unknown.
    _rejected(_identify(tmp_path, "b.xlsx", ref, name="Nghĩa Đức", year=2024), "unit_unknown")


def test_a_toneless_kind_word_after_other_words_is_still_its_kind_word(tmp_path, ref):
    """`UBND xả Đắk Mil`: the kind word without its tone mark after `UBND` (or `Ủy ban nhân
    dân`) reads as it does first (`Xả Đắk Mil`). Before, the name alone named no unit (the
    file rejected), and beside the code of another unit it named none (the file taken,
    though its name names another unit)."""
    for i, (name, code) in enumerate(
        [
            ("UBND xả Đắk Mil", "24670"),
            ("Ủy ban nhân dân phương Bắc Gia Nghĩa", "24611"),
            ("UBND Đăc khu Vân Đồn", "06994"),
            ("UBND xã Đắk Mil", "24670"),  # with its tone mark, as before
        ]
    ):
        found = _identify(tmp_path, f"a{i}.xlsx", ref, name=name, year=2026)
        assert _unit(found)[0] == code, name
    found = _identify(tmp_path, "b.xlsx", ref, code="24670", name="UBND xả Đắk Mil", year=2026)
    assert _unit(found)[0] == "24670"
    message = _rejected(
        _identify(tmp_path, "c.xlsx", ref, code="24670", name="UBND Xả Đắk Sắk", year=2026),
        "unit_name_mismatch",
    )
    assert "24678 Xã Đắk Sắk" in message
    message = _rejected(
        _identify(tmp_path, "d.xlsx", ref, name="UBND Thi trấn Đắk Mil", year=2024),
        "unit_not_in_year",
    )
    assert "24664 Thị trấn Đắk Mil" in message
    # `xã` of `Thị xã` is no commune's kind word, whatever its tone marks: the town, not
    # the ward of its name (24305 Phường Buôn Hồ since 01/07/2025).
    found = _identify(tmp_path, "e.xlsx", ref, name="UBND Thị xã Buôn Hồ", year=2024)
    assert _unit(found)[0] == "644"
    for i, name in enumerate(["Thị xả Buôn Hồ", "Thi xã Buôn Hồ", "UBND thị xá Buôn Hồ"]):
        assert _unit(_identify(tmp_path, f"f{i}.xlsx", ref, name=name, year=2024))[0] == "644"
        message = _rejected(
            _identify(tmp_path, f"g{i}.xlsx", ref, code="24305", name=name, year=2026),
            "unit_name_mismatch",
        )
        assert "644 Thị xã Buôn Hồ" in message


def test_a_kind_word_shortened_is_still_its_kind_word(tmp_path, ref):
    """`H. Đắk Mil`, `X.Đắk Mil`, `TX Buôn Hồ`: the usual shortenings of the kind words, as
    the commune column reads `X.`, `P.`, `TT.` (a one-letter one only with its dot). Before,
    such a name named no unit: the file was rejected, or beside a code it was taken whatever
    unit it named."""
    for i, (name, year, code) in enumerate(
        [
            ("H. Đắk Mil", 2024, "663"),
            ("UBND H.Krông Nô, T.Đắk Nông", 2023, "664"),
            ("TX. Buôn Hồ", 2024, "644"),
            ("TX Buôn Hồ", 2024, "644"),
            ("Q. Ba Đình", 2024, "001"),
            ("T. Lâm Đồng", 2025, "68"),
            ("X.Đắk Mil", 2026, "24670"),
            ("P. Bắc Gia Nghĩa", 2026, "24611"),
        ]
    ):
        found = _identify(tmp_path, f"a{i}.xlsx", ref, name=name, year=year)
        assert _unit(found)[0] == code, name
    message = _rejected(
        _identify(tmp_path, "b.xlsx", ref, code="663", name="H. Đắk Song", year=2024),
        "unit_name_mismatch",
    )
    assert "665 Huyện Đắk Song" in message
    message = _rejected(
        _identify(tmp_path, "c.xlsx", ref, name="TT. Đắk Mil", year=2024), "unit_not_in_year"
    )
    assert "24664 Thị trấn Đắk Mil" in message
    # `T.P.`, `T.X.`: one kind word each, no province `T.` before a commune `P.`/`X.` (a
    # ward of the city's name would be another unit than the code).
    for i, (name, code) in enumerate([("T.P. Lào Cai", "080"), ("T.X. Sa Pa", "088")]):
        found = _identify(tmp_path, f"d{i}.xlsx", ref, code=code, name=name, year=2024)
        assert _unit(found)[0] == code, name


def test_an_eth_typed_for_the_letter_d_is_that_letter(tmp_path, ref):
    """`Ð`/`ð` (U+00D0/U+00F0, the eth), which some Vietnamese input methods and fonts type
    for `Đ`/`đ` and which looks the same: before, a name with it named no unit."""
    for i, (name, year, code) in enumerate(
        [
            ("Huyện \u00d0ắk Mil", 2024, "663"),
            ("Tỉnh Lâm \u00d0ồng", 2026, "68"),
            ("xã \u00f0ắk mil", 2026, "24670"),
            ("\u00d0ặc khu Vân Đồn", 2026, "06994"),
        ]
    ):
        found = _identify(tmp_path, f"a{i}.xlsx", ref, name=name, year=year)
        assert _unit(found)[0] == code, name
    assert _unit(_identify(tmp_path, "\u00d0ắk Mil_2023.xlsx", ref))[0] == "663"
    message = _rejected(
        _identify(tmp_path, "b.xlsx", ref, code="663", name="Huyện \u00d0ắk Song", year=2024),
        "unit_name_mismatch",
    )
    assert "665 Huyện Đắk Song" in message


def test_a_failing_thongtin_cell_names_its_row_and_cell(tmp_path, ref):
    """ "Every failing cell: sheet, row number as Excel shows it, column, value, rule": the
    year 2035 in B4 (header row 1, code, name, year), the other unit's name in B3."""
    found = _identify(tmp_path, "a.xlsx", ref, code="663", name="Huyện Đắk Mil", year=2035.0)
    assert isinstance(found, Finding)
    assert (found.rule, found.sheet, found.excel_row, found.cell) == (
        "year_invalid",
        "ThongTin",
        4,
        "B4",
    )
    assert (found.column_name, found.value) == ("Năm báo cáo", "2035")
    found = _identify(tmp_path, "b.xlsx", ref, code="663", name="Huyện Krông Nô", year=2025)
    assert isinstance(found, Finding)
    assert (found.rule, found.excel_row, found.cell, found.column_name) == (
        "unit_name_mismatch",
        3,
        "B3",
        "Tên đơn vị",
    )


def test_a_unit_or_year_of_the_file_name_is_mended_by_renaming_the_file(tmp_path, ref):
    """A file without ThongTin whose name gives a year out of range, or a unit that may not
    report, is told to rename the file (or add ThongTin), not to mend a `ThongTin` cell it
    does not have. The rule is the same as for the cell."""
    for name, rule, renamed in (
        ("663_2032.xlsx", "year_invalid", "663_2023.xlsx"),
        ("999_2023.xlsx", "unit_unknown", "<mã đơn vị>_2023.xlsx"),
        ("24611_2024.xlsx", "unit_not_in_year", "<mã tỉnh>_2024.xlsx"),
        ("67_2025.xlsx", "unit_not_in_year", "68_2025.xlsx"),
    ):
        found = _identify(tmp_path, name, ref)
        vi, en = _rejected(found, rule).split(" / ")
        assert "Hãy đặt tên tệp theo mã" in vi, vi
        assert f"ví dụ {renamed}" in vi, vi
        assert "Name the file by the" in en, en
        assert not vi.endswith("trong trang ThongTin."), vi
        assert (found.sheet, found.column_name) == (None, "tên tệp"), name
    # A year of ThongTin still says ThongTin.
    found = _identify(tmp_path, "x.xlsx", ref, code="663", year=2035)
    assert "Hãy ghi đúng 'Năm báo cáo' trong trang ThongTin." in _rejected(found, "year_invalid")


def test_a_reason_names_the_thongtin_sheet_by_the_title_the_file_gives_it(tmp_path, ref):
    """`Thông tin` is the ThongTin sheet (an alias): a reason that sends the clerk there
    names the tab they see, as the finding's sheet does. Every reason that names the sheet
    does so in the words that are retitled."""
    path = write_xlsx(
        tmp_path / "a.xlsx",
        {
            "Thông tin": [["Mã đơn vị", "999"], ["Năm báo cáo", 2023]],
            "HTX": [HTX_HEADER, htx_row(1, "6630000001")],
        },
    )
    read = read_workbook(path, file_name="a.xlsx")
    found = identify(read.info, "a.xlsx", ref, read.info_rows, read.info_sheet)
    vi, en = _rejected(found, "unit_unknown").split(" / ")
    assert (found.sheet, found.cell) == ("Thông tin", "B1")
    assert "'Mã đơn vị' trong trang 'Thông tin'" in vi, vi
    assert "'Mã đơn vị' in the 'Thông tin' sheet" in en, en
    for vi, en in REASONS.values():
        assert vi.count("ThongTin") == vi.count("trang ThongTin"), vi
        assert en.count("ThongTin") == en.count("the ThongTin sheet"), en


def test_a_unit_code_typed_as_text_loses_its_spaces_and_dots(tmp_path, ref):
    """Rule 8: `24.611` (grouped as a Vietnamese number), `24 611` and `24611.0` are the
    commune 24611; `663.0` is district 663."""
    for typed in ("24.611", "24 611", "24611.0"):
        found = _identify(tmp_path, "a.xlsx", ref, code=typed, year=2026)
        assert _unit(found)[:2] == ("24611", "Phường Bắc Gia Nghĩa"), typed
    found = _identify(tmp_path, "b.xlsx", ref, code="663.0", year=2023)
    assert _unit(found)[:2] == ("663", "Huyện Đắk Mil")
    # A group of zeros is a group (rule 5): Xã Di Linh, 25000, typed `25.000`, not 25.
    found = _identify(tmp_path, "d.xlsx", ref, code="25.000", year=2026)
    assert _unit(found)[:2] == ("25000", "Xã Di Linh")
    # Without a year, such a code still names a unit: the finding is the missing year.
    found = _identify(tmp_path, "c.xlsx", ref, code="24.611")
    assert isinstance(found, Finding)
    assert found.rule == "year_invalid"


def test_a_unit_code_whose_dots_group_no_thousands_is_no_code(tmp_path, ref):
    """A dot is dropped only between groups of three digits (`24.611`, a Vietnamese grouped
    number): `6.63` is no code, as `abc` is, never district 663. Before, it read as 663."""
    for typed in ("6.63", "66.3", "2.4611", "24.61.1"):
        found = _identify(tmp_path, "663_2023.xlsx", ref, code=typed, year=2023)
        assert _rejected(found, "unit_unknown"), typed
        assert (found.column_name, found.value) == ("Mã đơn vị", typed)
    assert _identify(tmp_path, "663_2023.xlsx", ref, code="abc", year=2023).rule == "unit_unknown"


def test_a_failing_file_name_or_unit_name_is_named_as_such_not_as_a_thongtin_code(tmp_path, ref):
    """A unit or year the file name gives is in no sheet: the failing "cell" is the file
    name, with no sheet (the file has no ThongTin to mark); a `Tên đơn vị` that names no
    unit is that cell, B3, not `Mã đơn vị`."""
    for name, rule, value in (
        ("999_2023.xlsx", "unit_unknown", "999"),  # a year, no unit
        ("663_2019.xlsx", "year_invalid", "2019"),  # a unit, no year of 2021-2030
        ("xyz_2019.xlsx", "unit_unknown", "xyz"),  # neither
        ("baocao.xlsx", "unit_unknown", "baocao"),  # no pattern at all
        ("HTX_663_2023.xlsx", "unit_unknown", "HTX_663"),  # a name no unit has
        ("663_2026.xlsx", "unit_not_in_year", "663"),
    ):
        found = _identify(tmp_path, name, ref)
        assert isinstance(found, Finding), name
        assert (found.rule, found.sheet, found.column_name, found.value, found.cell) == (
            rule,
            None,
            "tên tệp",
            value,
            None,
        ), name
        if not value.isdigit():  # a name is no code
            vi, en = found.message.split(" / ")
            assert f"mã '{value}'" not in vi, name
            assert f"code '{value}'" not in en, name
    found = _identify(tmp_path, "baocao.xlsx", ref, name="Phòng Kinh tế", year=2023)
    assert isinstance(found, Finding)
    assert (found.rule, found.sheet, found.column_name, found.value, found.cell) == (
        "unit_unknown",
        "ThongTin",
        "Tên đơn vị",
        "Phòng Kinh tế",
        "B2",
    )


def test_the_year_may_carry_its_word(tmp_path, ref):
    assert _unit(_identify(tmp_path, "a.xlsx", ref, code="663", year="Năm 2023")) == (
        "663",
        "Huyện Đắk Mil",
        2023,
        "ThongTin",
    )


def test_a_unit_name_that_names_no_unit_leaves_the_code_to_decide(tmp_path, ref):
    # The office that filled the form in, not a unit: nothing contradicts the code.
    found = _identify(tmp_path, "e.xlsx", ref, code="24611", name="Phòng Kinh tế", year=2026)
    assert _unit(found) == ("24611", "Phường Bắc Gia Nghĩa", 2026, "ThongTin")
    found = _identify(tmp_path, "f.xlsx", ref, code="663", name="Liên minh HTX", year=2024)
    assert _unit(found)[0] == "663"


def test_a_unit_name_alone_naming_no_unit_of_the_year_is_told_who_reports_that_year(tmp_path, ref):
    # Phường Nghĩa Đức went into 24611 Phường Bắc Gia Nghĩa on 01/07/2025: in 2026 it is no
    # unit, and the clerk is told which units report in 2026, not shown a district's file.
    found = _identify(tmp_path, "bao_cao.xlsx", ref, name="Phường Nghĩa Đức", year=2026)
    message = _rejected(found, "unit_unknown")
    assert found.column_name == "Tên đơn vị"
    assert "663_2023.xlsx" not in message
    assert "mã xã/phường mới từ 01/07/2025 (5 chữ số, ví dụ 24611)" in message
    assert "a commune in force since 01/07/2025 (5 digits, e.g. 24611)" in message


# --- slugs that fit several units ---------------------------------------------------------


def test_an_apostrophe_in_a_name_makes_a_slug_with_or_without_its_underscore(tmp_path, ref):
    """`Đắk R'Lấp`: `dak_r_lap_2023` and `dak_rlap_2023` both name district 666."""
    for name in ("dak_r_lap_2023.xlsx", "dak_rlap_2023.xlsx", "Dak_RLap_2023.xlsx"):
        assert _unit(_identify(tmp_path, name, ref))[:2] == ("666", "Huyện Đắk R'Lấp")


@pytest.mark.parametrize(
    ("name", "unit", "year"),
    [
        ("Đắk Mil 2023.xlsx", "663", 2023),  # saved as the unit is written
        ("dak-mil-2023.xlsx", "663", 2023),
        ("663_2023 (1).xlsx", "663", 2023),  # a browser's second download
        ("663_2023 - Copy.xlsx", "663", 2023),  # Windows' copy
        ("Krông Nô 2024 bổ sung.xlsx", "664", 2024),
    ],
)
def test_a_file_name_with_spaces_or_hyphens_for_underscores_names_its_unit(
    tmp_path, ref, name, unit, year
):
    """Without ThongTin, the file name names the unit and year. Clerks save it as they
    write the unit (`Đắk Mil 2023`), and a download or a copy adds ` (1)`, ` - Copy`: a
    space or a hyphen parts the unit, the year and the rest as `_` does. Before, only `_`
    did, and those files were rejected as naming no unit."""
    found = _identify(tmp_path, name, ref)
    assert (_unit(found)[0], found.report_year) == (unit, year)


def test_a_slug_may_shorten_the_kind_word_of_a_full_name(tmp_path, ref):
    """`tp_gia_nghia_2023`, `tx_buon_ho_2023`: the usual short forms of Thành phố, Thị xã."""
    assert _unit(_identify(tmp_path, "tp_gia_nghia_2023.xlsx", ref))[:2] == (
        "660",
        "Thành phố Gia Nghĩa",
    )
    assert _unit(_identify(tmp_path, "thanh_pho_gia_nghia_2023.xlsx", ref))[0] == "660"
    assert _unit(_identify(tmp_path, "tx_buon_ho_2023.xlsx", ref))[1] == "Thị xã Buôn Hồ"


def test_a_slug_fitting_several_units_identifies_nothing_and_names_them(tmp_path, ref):
    message = _rejected(_identify(tmp_path, "dak_mil_2025.xlsx", ref), "unit_ambiguous")
    assert "663 Huyện Đắk Mil" in message
    assert "24670 Xã Đắk Mil" in message
    message = _rejected(_identify(tmp_path, "krong_no_2026.xlsx", ref), "unit_ambiguous")
    assert "24604 Xã Krông Nô (Tỉnh Đắk Lắk)" in message
    assert "24688 Xã Krông Nô (Tỉnh Lâm Đồng)" in message
    assert "fits several units of 2026" in message


def test_thongtin_settles_an_ambiguous_slug(tmp_path, ref):
    by_code = _identify(tmp_path, "krong_no_2026.xlsx", ref, code="24688", year=2026)
    assert _unit(by_code) == ("24688", "Xã Krông Nô", 2026, "ThongTin")
    by_name = _identify(tmp_path, "dak_mil_2025.xlsx", ref, name="Huyện Đắk Mil", year=2025)
    assert _unit(by_name)[:3] == ("663", "Huyện Đắk Mil", 2025)
    # A name as ambiguous as the slug settles nothing.
    found = _identify(tmp_path, "krong_no_2026.xlsx", ref, name="Xã Krông Nô", year=2026)
    assert "24604" in _rejected(found, "unit_ambiguous")
    # Where the slug names one unit of the year, it identifies it: dak_mil in 2026.
    assert _unit(_identify(tmp_path, "dak_mil_2026.xlsx", ref))[:2] == ("24670", "Xã Đắk Mil")


def test_a_file_name_code_settles_a_unit_name_several_units_fit(tmp_path, ref):
    # `Xã Krông Nô` alone fits 24604 of Đắk Lắk and 24688 of Lâm Đồng; the reason would tell
    # the clerk to name the file by the code, which this file already is.
    found = _identify(tmp_path, "24688_2026.xlsx", ref, name="Xã Krông Nô", year=2026)
    assert _unit(found)[:3] == ("24688", "Xã Krông Nô", 2026)
    # A file name naming neither of them settles nothing.
    other = _identify(tmp_path, "24611_2026.xlsx", ref, name="Xã Krông Nô", year=2026)
    message = _rejected(other, "unit_ambiguous")
    assert "24688 Xã Krông Nô (Tỉnh Lâm Đồng)" in message


def test_a_unit_name_with_its_province_names_that_province_s_unit(tmp_path, ref):
    """`Xã Krông Nô, tỉnh Lâm Đồng` names one of the two Krông Nô of 2026: ThongTin settles
    the slug, and the same name under the other one's code names another unit than the
    code. The former province that went into it counts too (`tỉnh Đắk Nông`)."""
    for name in ("Xã Krông Nô, tỉnh Lâm Đồng", "UBND xã Krông Nô (tỉnh Đắk Nông)"):
        found = _identify(tmp_path, "krong_no_2026.xlsx", ref, name=name, year=2026)
        assert _unit(found) == ("24688", "Xã Krông Nô", 2026, "ThongTin"), name
    found = _identify(
        tmp_path, "a.xlsx", ref, code="24688", name="Xã Krông Nô, tỉnh Đắk Lắk", year=2026
    )
    message = _rejected(found, "unit_name_mismatch")
    assert "24604 Xã Krông Nô (Tỉnh Đắk Lắk)" in message
    assert "'Mã đơn vị' 24688 là Xã Krông Nô" in message
    found = _identify(
        tmp_path, "b.xlsx", ref, code="663", name="Huyện Đắk Mil, tỉnh Đắk Nông", year=2024
    )
    assert _unit(found)[:2] == ("663", "Huyện Đắk Mil")


@pytest.mark.parametrize(
    ("code", "name", "year", "other"),
    [
        # The province after a comma, a bracket or a dash, without its kind word (helper CK:
        # the province was not read, and the other province's unit loaded).
        ("821", "Huyện Châu Thành, Bến Tre", 2023, "831 Huyện Châu Thành (Tỉnh Bến Tre)"),
        ("821", "Huyện Châu Thành (Bến Tre)", 2023, "831 Huyện Châu Thành (Tỉnh Bến Tre)"),
        ("24604", "Xã Krông Nô, Lâm Đồng", 2026, "24688 Xã Krông Nô (Tỉnh Lâm Đồng)"),
        ("24688", "Xã Krông Nô (Đắk Lắk)", 2026, "24604 Xã Krông Nô (Tỉnh Đắk Lắk)"),
        # A former province is compared as it was, not as the province it went into:
        # Hậu Giang and Sóc Trăng both went into Cần Thơ (helper CK: both loaded).
        ("933", "Huyện Châu Thành, tỉnh Sóc Trăng", 2024, "942 Huyện Châu Thành"),
        ("942", "Huyện Châu Thành, tỉnh Hậu Giang", 2024, "933 Huyện Châu Thành"),
        ("663", "Huyện Đắk Mil, tỉnh Bình Thuận", 2023, "60 Tỉnh Bình Thuận"),
        # The province without its kind word is the other unit the reason names (helper
        # CO: it named 663 itself), once however many eras name it.
        ("663", "Huyện Đắk Mil, Bình Thuận", 2023, "60 Tỉnh Bình Thuận"),
        ("24670", "Xã Đắk Mil, Đắk Lắk", 2026, "66 Tỉnh Đắk Lắk"),
    ],
)
def test_a_unit_name_s_province_as_written_or_as_it_was_names_another_unit(
    tmp_path, ref, code, name, year, other
):
    found = _identify(tmp_path, "a.xlsx", ref, code=code, name=name, year=year)
    message = _rejected(found, "unit_name_mismatch")
    assert other in message
    assert f"'Mã đơn vị' {code} là " in message


@pytest.mark.parametrize(
    ("code", "name", "year"),
    [
        ("831", "Huyện Châu Thành, Bến Tre", 2023),
        ("942", "Huyện Châu Thành - Sóc Trăng", 2024),
        ("24688", "Xã Krông Nô (Lâm Đồng)", 2026),
        ("24611", "Phường Bắc Gia Nghĩa, Lâm Đồng", 2026),
        # A former unit in the province that took its own over, as a clerk writes it today.
        ("663", "Huyện Đắk Mil, tỉnh Lâm Đồng", 2023),
        ("663", "Huyện Đắk Mil, Đắk Nông", 2023),
    ],
)
def test_a_unit_name_with_its_own_province_names_the_unit(tmp_path, ref, code, name, year):
    found = _identify(tmp_path, "a.xlsx", ref, code=code, name=name, year=year)
    assert _unit(found)[0] == code


@pytest.mark.parametrize(
    ("code", "name"),
    [
        # A former district named like a province elsewhere, after a 2026 commune's name:
        # its district, not the province (helper CO: each was rejected).
        ("31918", "Xã Vĩnh Mỹ, Hòa Bình"),  # Hòa Bình of Bạc Liêu, not the province
        ("19204", "Xã Trường Sơn (Quảng Ninh)"),  # Quảng Ninh of Quảng Bình
        # Only the province's own tone marks name it: Thạnh Hóa, Phù Yên, Quang Bình are
        # districts, not Thanh Hóa, Phú Yên, Quảng Bình.
        ("27889", "Xã Tân Tây, Thạnh Hóa"),
        ("03958", "Xã Tường Hạ, Phù Yên"),
        ("01234", "Xã Yên Thành, Quang Bình"),
        (None, "Xã Vĩnh Mỹ, Hòa Bình"),
        (None, "Xã Tân Tây, Thạnh Hóa"),
    ],
)
def test_a_district_named_like_a_province_after_the_unit_is_no_province(tmp_path, ref, code, name):
    given = {"code": code} if code else {}
    found = _identify(tmp_path, "a.xlsx", ref, **given, name=name, year=2026)
    named = {"Xã Vĩnh Mỹ": "31918", "Xã Tân Tây": "27889"}
    assert _unit(found)[0] == (code or named[name.split(",")[0]])


# --- what worked before keeps working -----------------------------------------------------


def test_unknown_unit_or_year_is_rejected_naming_the_year(tmp_path, ref):
    message = _rejected(_identify(tmp_path, "a.xlsx", ref, code="99999", year=2026), "unit_unknown")
    assert "năm 2026" in message
    assert "5 chữ số" in message
    assert _rejected(_identify(tmp_path, "baocao.xlsx", ref), "unit_unknown")
    assert _rejected(_identify(tmp_path, "b.xlsx", ref, code="663", year=2019), "year_invalid")
    assert _unit(_identify(tmp_path, "dak_mil_2023.xlsx", ref))[:3] == (
        "663",
        "Huyện Đắk Mil",
        2023,
    )


def test_a_two_digit_year_of_ngay_lap_may_be_the_year_after_the_report_year(tmp_path, ref):
    """A report is made after its year: `15/01/24` in a 2023 report is 2024 (rule 18's
    century, read against the year a report may be made in), not 1924, which would lose to
    any earlier date written in full."""
    for written, day in (("15/01/24", dt.date(2024, 1, 15)), ("20/12/23", dt.date(2023, 12, 20))):
        found = _identify(tmp_path, "f.xlsx", ref, code="663", year=2023, prepared=written)
        assert isinstance(found, Identity), found.message
        assert found.prepared_on == day, written


@pytest.mark.parametrize(
    ("number", "year", "unit_name", "code"),
    [
        # Excel drops the leading zero of a province's `08`: without a name `8` of 2024 is
        # district 008 (rule 8), but `Tên đơn vị` says which reading the clerk meant.
        (8, 2024, "Tỉnh Tuyên Quang", "08"),
        (2, 2023, "Tỉnh Hà Giang", "02"),
        (89, 2022, "Tỉnh An Giang", "89"),
        (1, 2023, "Quận Ba Đình", "001"),  # the district reading, named
        (1, 2025, "Quận Ba Đình", "001"),  # a former district's report of the first half
        (1, 2025, "Thành phố Hà Nội", "01"),
        (691, 2026, "Phường Hà Giang 2", "00691"),
    ],
)
def test_a_unit_code_stored_as_a_number_takes_the_reading_its_unit_name_names(
    tmp_path, ref, number, year, unit_name, code
):
    found = _identify(tmp_path, "x.xlsx", ref, code=number, name=unit_name, year=year)
    assert _unit(found)[0] == code


def test_a_number_whose_readings_the_name_fits_none_of_still_rejects_naming_both(tmp_path, ref):
    message = _rejected(
        _identify(tmp_path, "x.xlsx", ref, code=8, name="Tỉnh Hà Giang", year=2024),
        "unit_name_mismatch",
    )
    assert "008 là Quận Hoàng Mai" in message
    assert "02 Tỉnh Hà Giang" in message


def test_a_former_commune_code_the_crosswalk_could_not_place_is_told_it_is_former(tmp_path, ref):
    """24727 Xã Đắk N'Dung (Đắk Song) is unmatched: the merger text spells it `Đắk N’Drung`
    under Xã Đức An. A 2026 report under 24727 is told the code is a former commune's, which
    commune in force it may now be part of, and to give its own commune's code; 05083 Xã Mi
    Hòa, named in no commune's text, is told it is former without a guess."""
    for found, advice in (
        (
            _identify(tmp_path, "a.xlsx", ref, code="24727", year=2026),
            "hãy ghi trong 'Mã đơn vị' mã của xã/phường lập báo cáo này",
        ),
        (_identify(tmp_path, "24727_2026.xlsx", ref), "hãy đặt tên tệp theo mã"),
    ):
        vi, en = _rejected(found, "unit_not_in_year").split(" / ")
        assert "Xã Đắk N'Dung, Huyện Đắk Song, Tỉnh Đắk Nông (mã 24727)" in vi, vi
        assert "là xã/phường cũ, trước 01/07/2025" in vi, vi
        assert "có thể nay thuộc: 24717 Xã Đức An" in vi, vi
        assert advice in vi, vi
        assert "is a former commune" in en, en
        assert "may now be part of: 24717 Xã Đức An" in en, en
        assert isinstance(found, Finding)
        assert found.value == "24727"
    vi, en = _rejected(
        _identify(tmp_path, "b.xlsx", ref, code="05083", year=2026), "unit_not_in_year"
    ).split(" / ")
    assert "Xã Mi Hòa" in vi, vi
    assert "(mã 05083) là xã/phường cũ" in vi, vi
    assert "có thể" not in vi, vi
    assert "is a former commune" in en, en


@pytest.mark.parametrize("mark", ["-", "–", "x", "…", "..........", "(chưa có)", "Chưa có"])
def test_a_unit_code_left_as_a_blank_mark_is_an_empty_cell(tmp_path, ref, mark):
    """`-`, `x` (rule 6: not reported), the template's dotted placeholder or `(chưa có)` in
    `Mã đơn vị` say the clerk wrote no code: the file name (or `Tên đơn vị`) identifies the
    unit as it does for an empty cell, and a file name that names none still rejects."""
    assert _unit(_identify(tmp_path, "663_2023.xlsx", ref, code=mark, year=2023)) == (
        "663",
        "Huyện Đắk Mil",
        2023,
        "file name",
    )
    named = _identify(tmp_path, "a.xlsx", ref, code=mark, name="Huyện Đắk Mil", year=2023)
    assert _unit(named)[:3] == ("663", "Huyện Đắk Mil", 2023)
    empty = _identify(tmp_path, "baocao.xlsx", ref, year=2023)
    found = _identify(tmp_path, "baocao.xlsx", ref, code=mark, year=2023)
    assert _rejected(found, "unit_unknown") == empty.message
    assert _unit(_identify(tmp_path, "663_2023.xlsx", ref, code="663", year=mark))[2] == 2023


@pytest.mark.parametrize(
    "written",
    [
        dt.datetime(2023, 12, 31),
        dt.datetime(2023, 1, 1),
        "31/12/2023",
        "Năm 2023",
        "2023.0",
        2023.0,
        dt.datetime(1905, 7, 15),  # 2023 typed in a cell formatted as a date
        dt.datetime(1909, 7, 16),  # the same in a workbook of the 1904 date system
    ],
)
def test_the_report_year_may_be_written_as_its_first_or_last_day(tmp_path, ref, written):
    assert _unit(_identify(tmp_path, "a.xlsx", ref, code="663", year=written))[2] == 2023


@pytest.mark.parametrize("written", [dt.datetime(2024, 1, 15), "15/01/2024", "30/06/2023"])
def test_a_report_year_written_as_another_day_is_no_year(tmp_path, ref, written):
    """A day inside a year (`15/01/2024`, often the report's `Ngày lập` in the wrong row)
    does not say which year is reported: rejected, never the year of that day."""
    _rejected(_identify(tmp_path, "a.xlsx", ref, code="663", year=written), "year_invalid")


@pytest.mark.parametrize(
    ("written", "year", "code"),
    [
        ("662 - Huyện Cư Jút", 2023, "662"),
        ("Mã 663", 2023, "663"),
        ("Mã số: 663", 2023, "663"),
        ("H.663", 2023, "663"),
        ("663 (Đắk Mil)", 2023, "663"),
        ("24611 (Bắc Gia Nghĩa)", 2026, "24611"),
        ("24611 - Phường Bắc Gia Nghĩa", 2026, "24611"),
    ],
)
def test_a_unit_code_written_with_its_name_or_a_word_is_that_code(
    tmp_path, ref, written, year, code
):
    assert _unit(_identify(tmp_path, "a.xlsx", ref, code=written, year=year))[0] == code


@pytest.mark.parametrize(
    ("written", "year", "rule"),
    [
        ("660 - Huyện Cư Jút", 2023, "unit_name_mismatch"),  # 660 is Gia Nghĩa, Cư Jút 662
        ("24611 (Nghĩa Đức)", 2026, "unit_name_mismatch"),  # the former commune of 24611
        ("X.663", 2023, "unit_unknown"),  # a commune's mark on a district's code
        ("663 Phòng Kinh tế", 2023, "unit_unknown"),  # words that name no unit
        ("663/664", 2023, "unit_unknown"),  # two codes
        ("Mã 663 năm 2023", 2023, "unit_unknown"),
        ("999 - Huyện Đắk Mil", 2023, "unit_unknown"),  # the name does not mend the code
    ],
)
def test_a_unit_code_with_words_that_do_not_agree_still_rejects(tmp_path, ref, written, year, rule):
    found = _rejected(_identify(tmp_path, "a.xlsx", ref, code=written, year=year), rule)
    assert f"'{written}'" in found
    if rule == "unit_name_mismatch":  # naming both units
        assert "660 là Thành phố Gia Nghĩa" in found or "24611 là Phường Bắc Gia Nghĩa" in found
        assert "662 Huyện Cư Jút" in found or "Phường Nghĩa Đức" in found


# --- a file name that says another unit or year than ThongTin --------------------------------


def test_thongtin_wins_over_a_file_name_that_says_otherwise_with_a_warning(tmp_path, ref):
    """Last year's file copied and ThongTin updated, the name not (or the reverse): the
    report loads as ThongTin says, and the clerk is told, on the ThongTin cell, that the
    name says another unit or year, so a stale ThongTin does not replace another year's
    report unnoticed."""
    found = _identify(tmp_path, "663_2022.xlsx", ref, code="663", year=2023)
    assert _unit(found) == ("663", "Huyện Đắk Mil", 2023, "ThongTin")
    assert isinstance(found, Identity)
    [warning] = found.findings
    assert (warning.rule, warning.severity) == ("file_name_differs", "warning")
    assert (warning.sheet, warning.column_name, warning.cell) == ("ThongTin", "Năm báo cáo", "B3")
    assert warning.value == "2023"
    vi, en = warning.message.split(" / ")
    assert vi.startswith("Tên tệp '663_2022.xlsx' ghi 663 Huyện Đắk Mil, 2022")
    assert "trang ThongTin ghi 663 Huyện Đắk Mil, 2023" in vi
    assert "loaded as the ThongTin sheet says" in en

    found = _identify(tmp_path, "662_2023.xlsx", ref, code="663", year=2023)
    [warning] = found.findings
    assert (warning.column_name, warning.value) == ("Mã đơn vị", "663")
    assert (
        "ghi 662 Huyện Cư Jút, 2023, nhưng trang ThongTin ghi 663 Huyện Đắk Mil" in warning.message
    )

    found = _identify(tmp_path, "cu_jut_2023.xlsx", ref, name="Huyện Đắk Mil", year=2023)
    [warning] = found.findings
    assert warning.column_name == "Tên đơn vị"
    assert "Huyện Cư Jút" in warning.message

    # Names that agree, or say nothing of a unit or year, are no finding.
    for name in ("663_2023.xlsx", "663_2023_bosung.xlsx", "dak_mil_2023.xlsx", "bao_cao.xlsx"):
        assert _identify(tmp_path, name, ref, code="663", year=2023).findings == ()
    assert _identify(tmp_path, "bao_cao_htx_2023.xlsx", ref, code="663", year=2023).findings == ()
