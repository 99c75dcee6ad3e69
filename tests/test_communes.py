"""The commune a `Xã/Phường` cell may mean, by the workbook contract's name comparison."""

from __future__ import annotations

import pytest

from etl.contract.communes import candidates, is_known
from etl.contract.reference import load_reference


@pytest.fixture(scope="module")
def ref():
    return load_reference()


def codes(ref, unit, year, name):
    return sorted((c.code, c.current) for c in candidates(ref, unit, year, name))


def test_a_code_means_the_commune_of_the_report_year(ref):
    # 24611 was Phường Nghĩa Đức (Gia Nghĩa) until 30/06/2025, Phường Bắc Gia Nghĩa after.
    assert codes(ref, "660", 2024, "24611") == [("24611", False)]
    assert codes(ref, "68", 2026, "24611") == [("24611", True)]
    assert codes(ref, "68", 2026, 24611.0) == [("24611", True)]  # a code stored as a number


def test_a_code_loses_its_spaces_and_dots(ref):
    """Rule 8: `24 611`, `24.611` (grouped as a Vietnamese number) and `24611.0` typed as
    text are the code 24611; a ward number stays a name (`Phường 1`)."""
    for typed in ("24 611", "24.611", " 24 611 ", "24611.0", "'24.611"):
        assert codes(ref, "68", 2026, typed) == [("24611", True)], typed
        assert codes(ref, "660", 2024, typed) == [("24611", False)], typed
    assert codes(ref, "68", 2026, "1") == []
    # A dot between no groups of three digits is no grouping: `246.11` is no code.
    assert codes(ref, "68", 2026, "246.11") == []
    # A group of zeros is a group (`.` groups thousands, rule 5), not a number's `.0`: Xã Di
    # Linh, 25000, typed `25.000`; `24611.000` has no groups, its `.000` a number's.
    assert codes(ref, "68", 2026, "25.000") == [("25000", True)]
    assert codes(ref, "68", 2026, "25 000") == [("25000", True)]
    assert codes(ref, "68", 2026, "24611.000") == [("24611", True)]


def test_a_code_that_lost_its_leading_zeros_is_that_code_unless_it_names_a_ward(ref):
    """Hà Nội's codes begin with zeros: 00103 (Phường Tây Hồ) stored as a number is 103. A
    number that names a ward of the unit (`4`: Phường 4 of Đà Lạt up to 2024) stays that
    ward."""
    for typed in (103, 103.0, "103", "00103"):
        assert codes(ref, "01", 2026, typed) == [("00103", True)], typed
    assert codes(ref, "672", 2024, 4) == [("24793", False)]  # Phường 4, Đà Lạt
    assert codes(ref, "68", 2026, 103) == []  # no 00103 in Lâm Đồng


def test_2025_reports_may_name_a_former_or_a_new_commune(ref):
    assert codes(ref, "68", 2025, "Phường Nghĩa Đức") == [("24611", False)]
    assert codes(ref, "68", 2025, "Bắc Gia Nghĩa") == [("24611", True)]
    # `Đắk Mil`: the former town of district 663 and the new commune 24670 both fit.
    assert codes(ref, "68", 2025, "Đắk Mil") == [("24664", False), ("24670", True)]


def test_before_2025_only_former_communes_and_from_2026_only_new_ones(ref):
    assert codes(ref, "660", 2024, "Bắc Gia Nghĩa") == []
    assert codes(ref, "68", 2026, "Nghĩa Đức") == []


def test_tone_marks_prefix_apostrophes_and_spaces_do_not_count(ref):
    expected = codes(ref, "68", 2025, "Xã Đắk R’Moan")
    assert expected
    assert codes(ref, "68", 2025, "Đăk R'Moan") == expected
    assert codes(ref, "68", 2025, "đắk rmoan") == expected


def test_the_prefix_s_tone_mark_does_not_count_either(ref):
    """`Xa Đắk Mil`, `Phương Bắc Gia Nghĩa`, `Thi trấn Đắk Mil`: the prefix typed without
    its tone mark is still the prefix (tone marks do not count); before, the name kept it
    and fitted no commune. A name that begins with such a word (`Xà Bang`) is itself."""
    assert codes(ref, "68", 2026, "Xa Đắk Mil") == [("24670", True)]
    assert codes(ref, "68", 2026, "XẢ ĐẮK MIL") == [("24670", True)]
    assert codes(ref, "68", 2026, "Phương Bắc Gia Nghĩa") == [("24611", True)]
    assert codes(ref, "663", 2024, "Thi trấn Đắk Mil") == [("24664", False)]
    assert codes(ref, "22", 2026, "Đăc khu Vân Đồn") == [("06994", True)]
    assert codes(ref, "68", 2026, "Phương Dak Mil") == [("24670", True)]  # then plain
    # The letters of the prefix still count: `Thi tran` (a for â) is no prefix.
    assert codes(ref, "663", 2024, "Thi tran Đắk Mil") == []
    assert codes(ref, "92", 2026, "Xà Phiên") == [("31495", True)]
    assert codes(ref, "01", 2026, "Phương Liệt") == [("00352", True)]
    assert codes(ref, "750", 2024, "Xà Bang") == [("26596", False)]


def test_an_eth_typed_for_the_letter_d_is_that_letter(ref):
    """`Ðắk Mil` with the eth `Ð`/`ð` (U+00D0/U+00F0), which some Vietnamese input methods
    and fonts type for `Đ`/`đ` and which looks the same, is `Đắk Mil`; before, it fitted
    nothing (its key lost the letter)."""
    assert codes(ref, "68", 2026, "\u00d0ắk Mil") == [("24670", True)]
    assert codes(ref, "68", 2026, "xã \u00f0ắk mil") == [("24670", True)]
    assert codes(ref, "663", 2024, "Thị trấn \u00d0ắk Mil") == [("24664", False)]
    assert codes(ref, "22", 2026, "\u00d0ặc khu Vân Đồn") == [("06994", True)]


def test_the_prefix_may_be_abbreviated(ref):
    """`X.`, `P.` and `TT.` are the usual short forms of Xã, Phường and Thị trấn."""
    assert codes(ref, "68", 2026, "P. Bắc Gia Nghĩa") == [("24611", True)]
    assert codes(ref, "68", 2026, "X.Đắk Mil") == [("24670", True)]
    assert codes(ref, "663", 2024, "TT. Đắk Mil") == [("24664", False)]
    assert codes(ref, "663", 2024, "tt.Đắk Mil") == [("24664", False)]
    assert codes(ref, "663", 2024, "TT Đắk Mil") == [("24664", False)]
    assert codes(ref, "663", 2024, "TT Dak Mil") == [("24664", False)]


def test_an_address_names_its_commune_when_the_rest_is_where_the_commune_lies(ref):
    """`Địa chỉ xã` invites an address: its first part is the commune, each later part must
    name the commune's district or province (a former one's may be the one it went into)."""
    assert codes(ref, "68", 2026, "Xã Đắk Mil, tỉnh Lâm Đồng") == [("24670", True)]
    assert codes(ref, "68", 2026, "xa Dak Mil, tinh Lam Dong") == [("24670", True)]
    sak = [("24679", False)]
    assert codes(ref, "663", 2024, "xã Đắk Sắk, huyện Đắk Mil, tỉnh Đắk Nông") == sak
    assert codes(ref, "663", 2024, "xã Đắk Sắk, Đắk Mil") == sak
    assert codes(ref, "663", 2025, "xã Đắk Sắk, huyện Đắk Mil, tỉnh Lâm Đồng") == sak
    # A part that names somewhere else is no address of that commune: still unknown.
    assert codes(ref, "663", 2024, "xã Đắk Sắk, huyện Cư Jút") == []
    assert codes(ref, "68", 2026, "Xã Đắk Mil, tỉnh Đắk Lắk") == []


def test_the_letters_count(ref):
    # `Đắk Nang` (Krông Nô) is not `Đạ K’Nàng` (Đam Rông, former Lâm Đồng).
    nang = codes(ref, "68", 2025, "Đắk Nang")
    knang = codes(ref, "68", 2025, "Đạ K’Nàng")
    assert nang
    assert knang
    assert not set(nang) & set(knang)


def test_a_name_without_diacritics_counts_only_with_one_candidate(ref):
    # Plain `Dak Nang` fits both `Đắk Nang` and `Đạ K’Nàng` in plain letters: nothing.
    assert codes(ref, "68", 2025, "Dak Nang") == []
    # In a district report only one fits.
    assert codes(ref, "664", 2024, "Dak Nang") == codes(ref, "664", 2024, "Đắk Nang")


def test_a_name_without_diacritics_counts_when_its_candidates_lead_to_one_new_commune(ref):
    """In 2025 a former commune and the commune in force of its name both fit (`Nam Đà` went
    whole into the new `Nam Đà`): no conflict, typed plainly as typed with its marks."""
    nam_da = [("24697", False), ("24697", True)]
    assert codes(ref, "68", 2025, "Xã Nam Đà") == nam_da
    assert codes(ref, "68", 2025, "Nam Da") == nam_da
    assert codes(ref, "664", 2025, "xa nam da") == nam_da
    assert is_known(ref, "68", 2025, "Dak Sak")
    # Plain names of communes that went to different new communes still find none.
    assert codes(ref, "68", 2025, "Dak Nang") == []
    # Up to 2024 a plain name still needs one commune: Thị trấn and Xã Yên Viên (Gia Lâm).
    assert codes(ref, "018", 2024, "Yen Vien") == []


def test_a_commune_unit_names_the_communes_in_force(ref):
    assert codes(ref, "24611", 2026, "Phường Bắc Gia Nghĩa") == [("24611", True)]
    assert not is_known(ref, "24611", 2026, "")
    assert not is_known(ref, "24611", 2026, "Xã Không Có")


def test_a_bare_group_title_may_name_a_new_commune():
    """Rule 11: a section row `Bắc Gia Nghĩa` (no prefix) above a 2026 group names the commune."""
    from etl.read.reader import _title_names

    assert _title_names("Bắc Gia Nghĩa:") == {"commune_name": "Bắc Gia Nghĩa"}
    assert _title_names("Nghĩa Đức") == {"commune_name": "Nghĩa Đức"}


def test_a_name_spelled_without_diacritics_in_the_reference_is_that_name(ref):
    # `Di Linh`, `Nam Dong`: the official names carry no diacritics. In 2025 the former and
    # the new commune of the name both fit (they lead to the same new commune).
    assert codes(ref, "68", 2025, "Xã Di Linh") == [("25000", False), ("25000", True)]
    assert codes(ref, "662", 2025, "Nam Dong") == [("24649", False), ("24649", True)]
    assert is_known(ref, "68", 2025, "Phường B'Lao")


def test_a_code_in_parentheses_decides_among_the_name_s_communes(ref):
    assert codes(ref, "68", 2025, "Xã Đắk Mil (24670)") == [("24670", True)]
    assert codes(ref, "663", 2025, "Đắk Mil (24664)") == [("24664", False)]
    # A former commune whose code the new one kept (split Hòa Thắng): the code means the new.
    assert codes(ref, "68", 2025, "Xã Hoà Thắng (23053)") == [("23053", True)]
    # A code that is none of the name's communes does not decide.
    assert codes(ref, "68", 2025, "Xã Đắk Mil (99999)") == codes(ref, "68", 2025, "Xã Đắk Mil")
