"""Cell values to typed values: numbers, money units, dates, yes/no, codes and text."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest

from etl.contract.layout import RATINGS, SECTORS
from etl.read import cells
from etl.text import clean, match_key, split_unit


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.250", 1250.0),  # ambiguous: the Vietnamese reading wins, `.` groups thousands
        ("2.000", 2000.0),
        ("1.250.000", 1250000.0),
        ("1.250,5", 1250.5),
        ("1,250.5", 1250.5),
        ("1,250,000", 1250000.0),
        ("2,5", 2.5),
        ("2.5", 2.5),
        ("0.250", 0.25),  # not ambiguous: no group of thousands follows a lone 0
        ("-0.250", -0.25),
        ("0,250", 0.25),
        (" 1 650 ", 1650.0),
        ("-120", -120.0),
        ("(120)", -120.0),
        ("12%", 12.0),
        (1650, 1650.0),
        (16.5, 16.5),
    ],
)
def test_numbers_read_vietnamese_and_english_grouping(raw, expected):
    assert cells.parse_number(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "  ", "-", "–", "x", "X"])
def test_blank_and_dash_are_not_reported_never_zero(raw):
    assert cells.parse_number(raw) is None
    assert cells.parse_money(raw, 1e-6) is None


@pytest.mark.parametrize("raw", ["abc", "1.2.3,4,5", "12 triệu", "1,25,0"])
def test_text_that_is_no_number_raises(raw):
    with pytest.raises(ValueError, match="not a number"):
        cells.parse_number(raw)


@pytest.mark.parametrize(
    ("unit", "raw", "expected_mvnd"),
    [
        ("đồng", 12_000_000_000, 12_000.0),
        ("nghìn đồng", "1.500.000", 1500.0),
        ("triệu đồng", "1.650", 1650.0),
        ("tỷ đồng", "2,5", 2500.0),
        ("Trieu dong", 7, 7.0),
    ],
)
def test_money_units_scale_to_million_vnd(unit, raw, expected_mvnd):
    assert cells.parse_money(raw, cells.money_factor(unit)) == pytest.approx(expected_mvnd)


# Rule 14: "other spellings of the same units count too (`ngàn`, `nghìn`, `trđ`, `tr.đ`,
# `VNĐ`, `VND`)": a scale word and a currency word, in any combination, in a header's
# parentheses, in `ThongTin`'s `Đơn vị tính` and in the cell itself.
SPELLED_UNITS = [
    ("nghìn VNĐ", 1e-3),
    ("ngàn VNĐ", 1e-3),
    ("nghìn đ", 1e-3),
    ("Ngàn đồng", 1e-3),
    ("1.000 đồng", 1e-3),
    ("ĐVT: nghìn đồng", 1e-3),
    ("triệu đ", 1.0),
    ("tr đồng", 1.0),
    ("tr VNĐ", 1.0),
    ("Tr.đồng", 1.0),
    ("trđ", 1.0),
    ("tr.đ", 1.0),
    ("Tr.đ", 1.0),
    ("tỷ đ", 1e3),
    ("tỉ VNĐ", 1e3),
    ("tỉ", 1e3),
    ("VND", 1e-6),
    ("VNĐ", 1e-6),
    ("đ", 1e-6),
    ("đồng Việt Nam", 1e-6),
    ("Việt Nam đồng", 1e-6),
    ("VN đồng", 1e-6),
    ("nghìn đồng Việt Nam", 1e-3),
    ("tỷ đồng VN", 1e3),
]


def test_a_long_text_read_as_a_unit_is_not_kept_in_the_memos():
    """Units and headers recur in every file and are memoised; a cell of thousands of
    characters under a header is data, read once: a long-lived worker keeps none of it."""
    from etl.read import headers

    long_text = "(triệu đồng) " + "x" * 5_000
    kept = cells.money_factor.memo.cache_info().currsize
    assert cells.money_factor(long_text) is None
    assert cells.money_factor(long_text) is None
    assert cells.money_factor.memo.cache_info().currsize == kept
    assert cells.money_factor("triệu đồng") == pytest.approx(1.0)
    split = headers._split_unit.memo.cache_info().currsize
    assert headers._split_unit(f"{'x' * 5_000} (triệu đồng)") == ("x" * 5_000, "triệu đồng")
    assert headers._split_unit.memo.cache_info().currsize == split


@pytest.mark.parametrize(("unit", "factor"), SPELLED_UNITS)
def test_money_unit_spellings_scale_alike_in_headers_and_cells(unit, factor):
    assert cells.money_factor(unit) == pytest.approx(factor)
    assert cells.money_factor(f"{unit}/người/năm") == pytest.approx(factor)
    if not unit[0].isdigit() and not unit.startswith("ĐVT"):
        assert cells.parse_money(f"1.500 {unit}", 1.0) == pytest.approx(1500 * factor)


def test_a_percentage_is_no_amount():
    """Rule 5: a `%` sign on none of the money columns; a count may carry one."""
    with pytest.raises(ValueError, match="percentage"):
        cells.parse_money("12%", 1.0)
    assert cells.parse_number("12%") == 12.0


def test_unknown_unit_is_not_a_money_unit():
    assert cells.money_factor("người") is None
    assert cells.money_factor(None) is None
    # money or a country alone names no unit: no scale, no currency
    assert cells.money_factor("tiền") is None
    assert cells.money_factor("Việt Nam") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("05/03/2021", dt.date(2021, 3, 5)),  # dd/mm, never mm/dd
        ("5/3/2021", dt.date(2021, 3, 5)),
        ("13/12/2020", dt.date(2020, 12, 13)),
        ("05-03-2021", dt.date(2021, 3, 5)),
        ("2021-03-05", dt.date(2021, 3, 5)),
        (44260, dt.date(2021, 3, 5)),  # Excel serial number
        (dt.datetime(2021, 3, 5, 0, 0), dt.date(2021, 3, 5)),
        (dt.date(2021, 3, 5), dt.date(2021, 3, 5)),
        ("-", None),
    ],
)
def test_dates_are_day_first(raw, expected):
    assert cells.parse_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("15 / 03 / 2019", dt.date(2019, 3, 15)),  # spaces around the separators
        ("15 - 3 - 2019", dt.date(2019, 3, 15)),
        ("12/05/2021 00:00:00", dt.date(2021, 5, 12)),
    ],
)
def test_spaced_dates_read_whole(raw, expected):
    assert cells.parse_date(raw) == expected


@pytest.mark.parametrize("raw", [2109, "2109", 9999, 19, "19", 1899, 1.5])
def test_a_number_too_small_for_a_serial_date_and_no_year_is_unreadable(raw):
    """`2109` (2019 mistyped) is no year, and as Excel's serial day it would be 09/10/1905:
    no date a report holds (a founding, a decision, the report's own) is before 1927, serial
    10,000. Unreadable, so the clerk is told; before, 1905 was loaded without a word."""
    with pytest.raises(ValueError, match="not a date"):
        cells.parse_dated(raw, 2023)


def test_a_serial_day_from_1927_on_is_a_date():
    assert cells.parse_date(10_000) == dt.date(1927, 5, 18)
    assert cells.parse_date("21916") == dt.date(1960, 1, 1)


def test_several_numbers_are_no_serial_date():
    """`15 03 2019` is not day 15 of Excel's calendar (1900-01-14): unreadable, said so."""
    with pytest.raises(ValueError, match="not a date"):
        cells.parse_date("15 03 2019")


def test_month_thirteen_is_not_a_date():
    with pytest.raises(ValueError, match=r"month must be in 1\.\.12"):
        cells.parse_date("12/13/2021")


@pytest.mark.parametrize(
    "raw", ["x", "X", "Có", "có", "1", "Yes", 1, True, "✓", "✔", "√", " √ ", "×"]
)
def test_yes_values(raw):
    assert cells.parse_yesno(raw) is True


@pytest.mark.parametrize(
    "raw", [None, "", "  ", "Không", "không", "0", 0, "-", "–", "Ko", "ko", "KO", "Không có"]
)
def test_no_values(raw):
    """`Ko`: how `Không` is shortened when typed fast; `Không có`: none."""
    assert cells.parse_yesno(raw) is False


@pytest.mark.parametrize("raw", ["*", "+", "•", "?", "✗"])
def test_a_mark_that_is_neither_is_unreadable_never_a_silent_no(raw):
    with pytest.raises(ValueError, match="not yes/no"):
        cells.parse_yesno(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("6400 123 456", "6400123456"),
        ("6400.123.456", "6400123456"),
        (6400123456, "6400123456"),
        (6400123456.0, "6400123456"),
        (100123456, "0100123456"),  # a Hà Nội code stored as a number lost its leading 0
        ("6400123456-001", "6400123456-001"),
        # The dash of a branch's code as Word or a PDF writes it (‐ ‑ – −): the same `-`,
        # which the clerk cannot tell from it on screen.
        ("6400123456\u2010001", "6400123456-001"),
        ("6400123456\u2011001", "6400123456-001"),
        ("6400123456 \u2013 001", "6400123456-001"),
        ("6400123456\u2212001", "6400123456-001"),
    ],
)
def test_codes_lose_spaces_dots_and_regain_leading_zero(raw, expected):
    code = cells.parse_code(raw)
    assert code == expected
    assert cells.is_valid_coop_code(code)


@pytest.mark.parametrize(
    "raw",
    [
        "6400000001\u200e",  # a left-to-right mark, pasted from a web page
        "\u202a6400000001\u202c",  # a bidi embedding and its end
        "\u20666400000001\u2069",  # an isolate
        "64000\u200f00001",  # a right-to-left mark inside
        "\ufeff6400000001\u00ad",
    ],
)
def test_invisible_direction_marks_never_make_a_code_different(raw):
    """Rule 15: zero-width characters never make a value unreadable or a code different."""
    assert cells.parse_code(raw) == "6400000001"
    assert clean(raw) == "6400000001"


def test_unit_codes_are_padded_to_their_width():
    assert cells.parse_unit_code(1, 3) == "001"
    assert cells.parse_unit_code(663, 3) == "663"
    assert cells.parse_unit_code(1.0, 2) == "01"


def test_macos_decomposed_text_becomes_nfc_and_collapsed():
    nfd = unicodedata.normalize("NFD", "  Hợp tác xã   Đắk\nMil ")
    assert clean(nfd) == unicodedata.normalize("NFC", "Hợp tác xã Đắk Mil")


def test_headers_match_without_accents_case_or_unit():
    assert match_key("DOANH THU") == match_key("Doanh thu") == "doanh thu"
    assert split_unit("Doanh thu\n(triệu đồng)") == ("Doanh thu", "triệu đồng")


def test_programme_names_map_to_codes():
    assert cells.parse_program("Nông thôn mới") == "NTM"
    assert cells.parse_program("da167") == "DA167"
    assert cells.parse_program("Chương trình mỗi xã một sản phẩm") == "OCOP"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        # The name without its decision in parentheses, or with it: "code or name".
        ("Đề án lựa chọn, hoàn thiện, nhân rộng mô hình HTX kiểu mới hiệu quả", "DA167"),
        (
            "Đề án lựa chọn, hoàn thiện, nhân rộng mô hình HTX kiểu mới hiệu quả "
            "(Quyết định 167/QĐ-TTg, 03/02/2021)",
            "DA167",
        ),
        ("DA 167", "DA167"),
        ("Đề án 167", "DA167"),
        ("Mỗi xã một sản phẩm", "OCOP"),
        ("Chương trình OCOP", "OCOP"),
        ("Xây dựng nông thôn mới", "NTM"),
        ("Sản phẩm công nghiệp nông thôn tiêu biểu", "CNNT"),
        ("Hỗ trợ khác", "KHAC"),
    ],
)
def test_programme_names_without_their_decision_or_prefix(raw, code):
    assert cells.parse_program(raw) == code


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        # MTQG / CT: the usual short forms of `mục tiêu quốc gia` and `Chương trình`.
        ("Chương trình MTQG xây dựng nông thôn mới", "NTM"),
        ("CT MTQG xây dựng NTM", "NTM"),
        ("MTQG NTM", "NTM"),
        # XD: the usual short form of `xây dựng`.
        ("CT MTQG XD NTM", "NTM"),
        ("Chương trình XD nông thôn mới", "NTM"),
        ("CT OCOP", "OCOP"),
        # The scheme by its decision's number: Quyết định 167/QĐ-TTg.
        ("Đề án 167/QĐ-TTg", "DA167"),
        ("Quyết định 167", "DA167"),
        ("Quyết định 167/QĐ-TTg", "DA167"),
        ("QĐ 167/QĐ-TTg", "DA167"),
        # `CTMTQG`: `CT MTQG` typed without its space.
        ("CTMTQG XD NTM", "NTM"),
        ("CTMTQG NTM", "NTM"),
        ("CT MTQG NTM", "NTM"),
        # The programme at a level of government: the national programme, as run there.
        ("Chương trình OCOP tỉnh", "OCOP"),
        ("OCOP tỉnh", "OCOP"),
        ("OCOP cấp huyện", "OCOP"),
        ("Chương trình MTQG XD NTM cấp xã", "NTM"),
        ("Đề án 167", "DA167"),
        ("ĐA 167", "DA167"),
        ("ĐA167", "DA167"),
        # Its period or year, and the programme's higher marks (helper BU).
        ("NTM 2021-2025", "NTM"),
        ("Chương trình Nông thôn mới giai đoạn 2021-2025", "NTM"),
        ("CT MTQG XD NTM giai đoạn 2021 - 2025", "NTM"),
        ("OCOP năm 2023", "OCOP"),
        ("Nông thôn mới nâng cao", "NTM"),
        ("NTM kiểu mẫu", "NTM"),
        # The rural industry programme as the warehouse's own reports and clerks shorten
        # it (helper CP: the file was rejected, `program_known`).
        ("CNNT tiêu biểu", "CNNT"),
        ("Công nghiệp nông thôn tiêu biểu", "CNNT"),
        ("Sản phẩm CNNT tiêu biểu", "CNNT"),
    ],
)
def test_programme_short_forms_clerks_write(raw, code):
    assert cells.parse_program(raw) == code


@pytest.mark.parametrize(
    "raw",
    [
        *("Chương trình khuyến công tỉnh", "Khuyến nông", "CTMTQG giảm nghèo", "Đề án 168"),
        *("tỉnh", "Đề án 168 giai đoạn 2021-2025", "2021-2025"),
    ],
)
def test_a_programme_that_is_none_of_the_list_stays_unknown(raw):
    assert cells.parse_program(raw) == raw


def test_an_unknown_programme_stays_as_written():
    assert cells.parse_program("Chương trình của xã") == "Chương trình của xã"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("NTM - Nông thôn mới", "NTM"),
        ("NTM – Chương trình MTQG xây dựng nông thôn mới", "NTM"),
        ("DA167: Đề án 167/QĐ-TTg", "DA167"),
        ("OCOP - Chương trình OCOP", "OCOP"),
        # Two programmes, or a programme and something else: as written (not known).
        ("NTM - OCOP", "NTM - OCOP"),
        ("NTM - hỗ trợ máy sấy", "NTM - hỗ trợ máy sấy"),
    ],
)
def test_a_programme_as_its_code_and_its_name_is_that_programme(raw, code):
    """`NTM - Nông thôn mới`: the code and the name of one programme, as a drop-down list of
    `code - name` writes it, is that programme; before, an unknown programme (an error)."""
    assert cells.parse_program(raw) == code


@pytest.mark.parametrize(
    ("raw", "stars"),
    [
        ("★★★★", 4),
        ("***", 3),
        ("⭐️⭐️⭐️", 3),  # with the emoji variation selector
        ("4★", 4),
        ("4 *", 4),
        ("Bốn sao", 4),
        ("ba sao", 3),
        ("5 sao (quốc gia)", 5),
        ("3 sao cấp tỉnh", 3),
        ("4 sao OCOP", 4),
        ("4 SAO", 4),
        # A word before the number, as certificates and reports say the rank.
        ("OCOP 4 sao", 4),
        ("Hạng 4 sao", 4),
        ("đạt 3 sao", 3),
        ("Đạt hạng 4 sao cấp tỉnh", 4),
        ("Xếp hạng: 5 sao", 5),
        ("Sản phẩm OCOP 3 sao", 3),
        ("4,0", 4),
        (5.0, 5),
    ],
)
def test_ocop_stars_as_clerks_write_them(raw, stars):
    assert cells.parse_stars(raw) == stars


@pytest.mark.parametrize(
    "raw",
    [
        "☆☆☆",
        "IV",
        "4,5",
        "nhiều sao",
        "3 sao - 4 sao",
        "4 sao, 3 sao",
        "3 sao (lên 4 sao)",
        "Chưa đạt 3 sao",  # a word before the number that changes what it says
        "Dự kiến 4 sao",
    ],
)
def test_stars_that_say_no_number_stay_unreadable(raw):
    with pytest.raises(ValueError, match=r"not a (whole )?number"):
        cells.parse_stars(raw)


@pytest.mark.parametrize(
    ("raw", "year"),
    [
        (2023, 2023),
        (2023.0, 2023),
        ("2023", 2023),
        ("Năm 2023", 2023),  # as ThongTin's `Năm báo cáo` reads
        (dt.datetime(2023, 6, 15), 2023),  # a date in place of its year
        ("15/06/2023", 2023),
        ("06/2023", 2023),
        ("6.2023", 2023),
    ],
)
def test_a_support_year_as_clerks_write_it(raw, year):
    assert cells.parse_year(raw) == year


def test_a_support_year_that_is_no_year_stays_unreadable():
    with pytest.raises(ValueError, match="not a number"):
        cells.parse_year("năm ngoái")
    with pytest.raises(ValueError, match="not a whole number"):
        cells.parse_year("2023,5")


@pytest.mark.parametrize(
    "raw",
    [
        "Quý II/2023",
        "Quý 2 năm 2023",
        "Q2/2023",
        "6 tháng đầu năm 2023",
        "6 tháng cuối năm 2023",
        "Năm 2023 (bổ sung)",
        "2023 (bổ sung)",
        "Đợt 2 - 2023",
    ],
)
def test_a_support_year_is_its_one_four_digit_year(raw):
    """A part of the year (`Quý II/2023`, `6 tháng đầu năm 2023`) or a remark beside it:
    the one 4-digit year written. Before, unreadable."""
    assert cells.parse_year(raw) == 2023


@pytest.mark.parametrize(
    "raw", ["2022-2023", "2022 và 2023", "Quý IV/2022 - Quý I/2023", "Năm 2.023", "Quý II"]
)
def test_a_support_year_of_two_years_or_none_stays_unreadable(raw):
    with pytest.raises(ValueError, match="not a number"):
        cells.parse_year(raw)


@pytest.mark.parametrize("raw", ["1.5", "31.12", "2023.5", "45000.5"])
def test_a_support_year_is_never_an_excel_serial_day(raw):
    """A decimal is no year, and not a date either: parse_dated reads `1.5` as Excel's
    serial day (31/12/1899), whose year the clerk never wrote. Only a date that spells its
    year (`15/06/2023`, `6.2023`) gives one."""
    with pytest.raises(ValueError, match="not a whole number"):
        cells.parse_year(raw)


@pytest.mark.parametrize(
    ("raw", "source"),
    [
        ("TW", "Trung ương"),
        ("NSTW", "Trung ương"),
        ("TƯ", "Trung ương"),  # TƯ, as documents shorten Trung ương, and NSTƯ
        ("NSTƯ", "Trung ương"),
        ("Ngân sách TƯ", "Trung ương"),
        ("Ngân sách trung ương", "Trung ương"),
        ("NS tỉnh", "Tỉnh"),
        ("Ngân sách Tỉnh", "Tỉnh"),
        ("Vốn lồng ghép", "Lồng ghép"),
        ("Ngân sách xã", "Xã"),  # the suite judges whether its year knows it
        ("Ngân sách cấp huyện", "Huyện"),  # a budget named by its level
        ("NS cấp tỉnh", "Tỉnh"),
        ("Vốn ngân sách cấp tỉnh", "Tỉnh"),
        # Two sources: as written, and warned. `Lồng ghép` in budget reports is money
        # integrated from other programmes, listed beside the central and local budgets,
        # so two budgets are not read as it; the clerk chooses (or writes a row each).
        ("Trung ương + Tỉnh", "Trung ương + Tỉnh"),
        ("TW + Tỉnh", "TW + Tỉnh"),
        ("Ngân sách TW và tỉnh", "Ngân sách TW và tỉnh"),
        ("Doanh nghiệp", "Doanh nghiệp"),  # no budget: as written, and warned
    ],
)
def test_a_funding_source_named_as_its_budget_is_that_source(raw, source):
    from etl.contract.layout import FUNDING_SOURCES

    assert cells.parse_funding_source(raw, FUNDING_SOURCES) == source


@pytest.mark.parametrize(
    ("raw", "read_as"),
    [
        ("5 triệu/tháng", 60.0),
        ("5tr/tháng", 60.0),
        ("5.000.000 đ/tháng", 60.0),
        ("5 triệu đồng/người/tháng", 60.0),
        ("5 tr / tháng", 60.0),
        ("5/tháng", 60.0),  # the header's money unit (here the default), the cell's month
        ("60 triệu/năm", 60.0),
        ("60tr/người/năm", 60.0),
        ("60 triệu/người", 60.0),  # per person, no period: the column's year
    ],
)
def test_an_income_with_its_period_in_the_cell_is_a_year_s(raw, read_as):
    """`Thu nhập bình quân` is money per person per year: a cell giving a month's (`5
    triệu/tháng`) is 12 of them, a year's (`/năm`) as written. Before, unreadable."""
    assert cells.parse_money(raw, per_year=True) == read_as


def test_an_income_cell_s_period_wins_over_the_header_s():
    """Under `(nghìn đồng/tháng)` (factor 0.012, period 12) a cell saying its own period
    and unit is read by them; a bare `/tháng` keeps the header's money unit."""
    assert cells.parse_money("60 triệu/năm", 0.012, 12, per_year=True) == 60.0
    assert cells.parse_money("5 triệu/tháng", 0.012, 12, per_year=True) == 60.0
    assert cells.parse_money("5.000/năm", 0.012, 12, per_year=True) == 5.0
    assert cells.parse_money("5.000/tháng", 0.012, 12, per_year=True) == 60.0


@pytest.mark.parametrize(
    "raw", ["5 triệu/tháng/năm", "5 triệu/ha", "5/6", "1.250/1.300 triệu", "5 triệu/quý", "/tháng"]
)
def test_an_income_cell_with_another_rate_stays_unreadable(raw):
    with pytest.raises(ValueError, match="not a number"):
        cells.parse_money(raw, per_year=True)


def test_a_period_in_a_cell_of_money_that_is_no_rate_stays_unreadable():
    """Revenue (`Doanh thu`) is no amount a month: `5 triệu/tháng` there is not guessed."""
    with pytest.raises(ValueError, match="not a number"):
        cells.parse_money("5 triệu/tháng")


@pytest.mark.parametrize(
    ("raw", "answer"),
    [
        ("Y", True),
        ("y", True),
        ("N", False),
        ("n", False),
        ("Có tham gia", True),
        ("Đã tham gia", True),
        ("Không tham gia", False),
        ("Chưa tham gia", False),
        ("Đã ký", True),
        ("Đã ký kết", True),
        ("Có liên kết", True),
        ("Chưa ký", False),
        ("Chưa", False),
        ("Chưa có", False),
        ("Không liên kết", False),
        ("Có HĐ", True),
        ("Có hợp đồng", True),
        ("Đã ký HĐ", True),
        ("Có liên kết tiêu thụ", True),
        ("Không có HĐ", False),
        ("Chưa có hợp đồng", False),
    ],
)
def test_a_yes_or_no_said_in_words_is_read(raw, answer):
    """`Y`/`N`, and a yes or a no the clerk says with the column's verb (`Có tham gia`,
    `Đã ký`, `Chưa`: not yet, so not at the report's date). Before, not yes/no."""
    assert cells.parse_yesno(raw) is answer


@pytest.mark.parametrize(
    "raw",
    ["Đã", "Chưa rõ", "Chưa xác định", "Dự kiến tham gia", "Đang đàm phán", "Có tham gia 2022"],
)
def test_a_yes_or_no_in_words_that_says_neither_is_unreadable(raw):
    """Not sure, planned or qualified: neither, so the cell stays an error (never a silent
    value)."""
    with pytest.raises(ValueError, match="not yes/no"):
        cells.parse_yesno(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "Có (HĐ với Cty ABC)",
        "x (HĐ số 12/2023)",
        "X (hợp đồng số 05/HĐ-2023)",
        "Có (Công ty TNHH ABC)",
        "Có (với DN Minh Phát)",
        "Có HĐ (với Cty ABC)",
        "Có(HĐ với Cty ABC)",
    ],
)
def test_a_yes_with_its_contract_beside_it_is_yes(raw):
    """`Liên kết tiêu thụ`: a yes whose remark names the contract or the partner is a yes.
    Before, not yes/no (the file rejected)."""
    assert cells.parse_yesno(raw) is True


@pytest.mark.parametrize(
    "raw",
    [
        "Có (dự kiến)",  # a plan is not a contract
        "Có (dự kiến HĐ với Cty ABC)",
        "Có (HĐ đang đàm phán)",
        "Có (HĐ đã hết hạn)",
        "Có (HĐ đã thanh lý)",
        "Có (HĐ chưa ký)",
        "Có (HĐ với Cty ABC?)",
        "Có (2022)",
        "Có (miệng)",
        "Không (HĐ với Cty ABC)",  # a no beside a contract says both
        "Có (HĐ với Cty ABC) (hết hạn)",
        "Có (kế hoạch ký HĐ với Cty ABC)",
        "Có (HĐ sẽ ký với Cty ABC)",
        "Có (HĐ với Cty ABC, đã hết hạn)",
        "Có (HĐ số 12, đang chờ ký)",
        "Co (HD voi Cty ABC, du kien)",
    ],
)
def test_a_yes_with_a_remark_that_is_no_contract_is_unreadable(raw):
    with pytest.raises(ValueError, match="not yes/no"):
        cells.parse_yesno(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "Không (chưa có HĐ)",
        "Không (chưa ký)",
        "Không (chưa có)",
        "Ko (chưa ký HĐ)",
        "Chưa (chưa ký)",
        "- (chưa ký)",  # read so before too
        "Không (HĐ chưa ký)",  # the contract named first, then the no
        "Không (hợp đồng chưa ký)",
        "Không (HĐ: chưa ký)",
    ],
)
def test_a_no_whose_remark_only_says_the_no_again_is_no(raw):
    """`Không (chưa ký)`: the parentheses restate the no with the column's verb. Before,
    not yes/no (the file rejected)."""
    assert cells.parse_yesno(raw) is False


@pytest.mark.parametrize(
    "raw",
    [
        "Không (có HĐ miệng)",  # a yes-word in the remark: an oral contract, or none?
        "Không (có HĐ)",  # before, a no: the words were read across the parentheses
        "Không (có)",
        "Chưa (có HĐ)",
        "- (có HĐ)",  # before, a yes
        "Không (đã ký)",
        "Không (chưa rõ)",
        "Không (chưa ký?)",
        "Có (chưa ký)",  # a yes beside a no
        "x (chưa có HĐ)",
        "Không (chưa ký) (chưa ký)",
        "Không (HĐ đã ký)",  # the contract named first, then a yes
        "Không (HĐ)",
    ],
)
def test_a_no_with_a_remark_that_does_not_only_say_no_is_unreadable(raw):
    with pytest.raises(ValueError, match="not yes/no"):
        cells.parse_yesno(raw)


@pytest.mark.parametrize(
    ("raw", "read_as"),
    [
        ("Lỗ 50", -50.0),
        ("lỗ 50 triệu", -50.0),
        ("LỖ 50", -50.0),
        ("Lỗ: 1,2 tỷ", -1200.0),
        ("Thua lỗ 50", -50.0),
        ("50 (lỗ)", -50.0),
        ("50 triệu (lỗ)", -50.0),
        # The minus and the word say the same loss twice: never -(-50), a profit.
        ("-50 (lỗ)", -50.0),
        ("Lỗ -50", -50.0),
        ("Lỗ (50)", -50.0),
        ("Lỗ 0", 0.0),
        ("Lãi 50", 50.0),
        ("lãi 50 triệu", 50.0),
        ("Lời 50", 50.0),  # `lời`: lãi as the South says it
        ("50 (lãi)", 50.0),
        ("Âm 50", -50.0),  # `âm`: negative
        ("Am 50", -50.0),  # `âm` without its marks: no other word in a profit column
        ("Lo 50", -50.0),  # typed without tone marks, as clerks do: `lỗ`
        ("lo 50 triệu", -50.0),
        ("Thua lo 50", -50.0),
        ("50 (lo)", -50.0),
        ("Lai 50", 50.0),  # `lãi`
        ("LAI 50", 50.0),
        ("Co lai 50", 50.0),
        ("Hòa vốn", 0.0),  # break-even: no profit, no loss
        ("Hoà vốn", 0.0),
        ("-50", -50.0),
        ("120", 120.0),
    ],
)
def test_a_profit_or_a_loss_said_in_words_is_its_signed_amount(raw, read_as):
    """`Lợi nhuận trước thuế` may be negative: a loss written `Lỗ 50` or `50 (lỗ)` is −50,
    a profit `Lãi 50` +50. Before, each was unreadable."""
    value = cells.parse_money(raw, says_loss=True)
    assert value == read_as
    assert repr(value) == repr(read_as)  # never -0.0


@pytest.mark.parametrize(
    "raw",
    [
        "Lãi -50",  # a profit of minus 50: the word and the sign disagree
        "-50 (lãi)",
        "Lãi (50)",
        "Lỗ",  # no amount
        "Lỗ -",
        "Lỗ lãi 50",
        "Lỗ 50 (lỗ)",
        "Lô 50",  # a lot, written with its mark: no loss
        "Lai -50",
        "Loi 50",  # `lời` (a profit) or `lỗi` (a mistake): not guessed
        "Lo",
        "50 lỗ 20",
        "Lỗ 50 người",
    ],
)
def test_a_profit_or_a_loss_in_words_that_says_no_one_amount_stays_unreadable(raw):
    with pytest.raises(ValueError, match=r"not a number|does not fit"):
        cells.parse_money(raw, says_loss=True)


@pytest.mark.parametrize(
    "raw", ["Lỗ 50", "50 (lỗ)", "Lãi 50", "Hòa vốn", "Lo 50", "Lai 50", "Am 50"]
)
def test_a_loss_in_words_is_read_in_the_profit_column_only(raw):
    """Revenue, capital or assets are never a loss: there `Lỗ 50` stays unreadable."""
    with pytest.raises(ValueError, match="not a number"):
        cells.parse_money(raw)


@pytest.mark.parametrize(
    ("raw", "rating"),
    [
        ("Không xếp loại", "Chưa xếp loại"),
        ("không xếp loại", "Chưa xếp loại"),
        ("Không XL", "Chưa xếp loại"),
        ("KXL", "Chưa xếp loại"),
        ("Chưa XL", "Chưa xếp loại"),
        ("Chưa đánh giá", "Chưa xếp loại"),
        ("Không đánh giá", "Chưa xếp loại"),
        ("Chưa xếp loại", "Chưa xếp loại"),
        ("T.Bình", "Trung bình"),
        ("Loại T.bình", "Trung bình"),
    ],
)
def test_a_rating_not_given_is_chua_xep_loai(raw, rating):
    """`Không xếp loại` (not rated) and `Chưa xếp loại` (not yet rated) both say the
    cooperative has no rating for the year: the list's `Chưa xếp loại`."""
    assert cells.parse_rating(raw, RATINGS) == rating


@pytest.mark.parametrize("raw", ["Không", "Chưa", "Không đạt", "Giỏi", "Loại A"])
def test_a_rating_word_that_names_no_rating_stays_as_written(raw):
    """`Không`, `Chưa` alone or `Không đạt` (failed: Yếu?) are not guessed: kept as written,
    the suite's `rating_known` refuses them."""
    assert cells.parse_rating(raw, RATINGS) == raw


@pytest.mark.parametrize(
    ("raw", "sector"),
    [
        ("NN", "Nông nghiệp"),
        ("Phi NN", "Phi nông nghiệp"),
        ("phi nn", "Phi nông nghiệp"),
        ("QTDND", "Quỹ tín dụng nhân dân"),
        ("Quỹ TDND", "Quỹ tín dụng nhân dân"),
        ("Quỹ TD", "Quỹ tín dụng nhân dân"),
        ("Quỹ tín dụng", "Quỹ tín dụng nhân dân"),
        # `Nông nghiệp` in the cooperative statistics is the whole of VSIC section A:
        # agriculture, forestry and fishery (HTX nông nghiệp, Luật HTX 2023, art. 4).
        ("Nông lâm nghiệp", "Nông nghiệp"),
        ("Nông, lâm nghiệp", "Nông nghiệp"),
        ("Nông - lâm nghiệp", "Nông nghiệp"),
        ("Nông lâm ngư nghiệp", "Nông nghiệp"),
        ("Nông, lâm, ngư nghiệp", "Nông nghiệp"),
        ("Nông nghiệp, lâm nghiệp và thủy sản", "Nông nghiệp"),
        ("Nông, lâm nghiệp và thuỷ sản", "Nông nghiệp"),
        ("Lâm nghiệp", "Nông nghiệp"),
        ("Thủy sản", "Nông nghiệp"),
        ("Trồng trọt", "Nông nghiệp"),
        ("Chăn nuôi", "Nông nghiệp"),
        ("Dịch vụ nông nghiệp", "Nông nghiệp"),
        ("DVNN", "Nông nghiệp"),
        ("GTVT", "Vận tải"),
        ("Giao thông vận tải", "Vận tải"),
        ("Vận tải hàng hóa", "Vận tải"),
        ("Vận tải hàng hoá", "Vận tải"),
        ("Vận tải hành khách", "Vận tải"),
        ("VSMT", "Môi trường"),
        ("Vệ sinh môi trường", "Môi trường"),
        ("XD", "Xây dựng"),
        ("Lĩnh vực nông nghiệp", "Nông nghiệp"),  # as a section title names it
        ("Ngành vận tải", "Vận tải"),
        ("Lĩnh vực khác", "Khác"),
        ("HTX nông nghiệp", "Nông nghiệp"),
        ("nông nghiệp", "Nông nghiệp"),
    ],
)
def test_a_sector_as_clerks_shorten_or_name_it_is_the_listed_sector(raw, sector):
    assert cells.parse_sector(raw, SECTORS) == sector


@pytest.mark.parametrize(
    "raw",
    [
        "Nông nghiệp, phi nông nghiệp",  # two sectors
        "Nông nghiệp - dịch vụ",
        "Thương mại dịch vụ",  # Phi nông nghiệp or Khác: the list does not say
        "Tiểu thủ công nghiệp",
        "Dịch vụ",
        "Tín dụng",
        "N",
        "VT",
    ],
)
def test_a_sector_that_names_no_one_listed_sector_stays_as_written(raw):
    """Kept as written: the suite's `sector_known` warns, nothing is guessed."""
    assert cells.parse_sector(raw, SECTORS) == raw


def test_every_sector_short_form_names_a_listed_sector():
    """The short forms name the suite's sectors: a renamed sector fails here, not silently."""
    keys = {match_key(s).replace(" ", "") for s in SECTORS}
    assert set(cells.SECTOR_SHORT.values()) <= keys


@pytest.mark.parametrize(
    ("raw", "score"),
    [
        ("85/100", 85.0),
        ("85 / 100", 85.0),
        ("85 điểm/100", 85.0),
        ("85/100 điểm", 85.0),
        ("85/100đ", 85.0),
        ("85,5/100", 85.5),
        ("85 điểm", 85.0),
        ("85", 85.0),
        (85, 85.0),
    ],
)
def test_a_score_out_of_100_is_its_points(raw, score):
    """`Điểm` is out of 100 (Thông tư 01/2020/TT-BKHĐT): `85/100` says so and is 85."""
    assert cells.parse_score(raw) == score


@pytest.mark.parametrize(
    "raw", ["8,5/10", "85/150", "85/1000", "85/100/100", "/100", "-/100", "85/100 sao", "100/85"]
)
def test_a_score_out_of_another_total_stays_unreadable(raw):
    """Out of 10 or 150 the scale is another's: never rescaled, never read as 8,5 or 85."""
    with pytest.raises(ValueError, match=r"not a number|does not fit"):
        cells.parse_score(raw)


@pytest.mark.parametrize(
    ("raw", "stars"),
    [
        ("4 sao (2023)", 4),
        ("4 sao (QĐ 2023)", 4),
        ("4 sao (năm 2023)", 4),
        ("4 sao (QĐ năm 2023)", 4),
        ("4 sao (QĐ số 1234/QĐ-UBND)", 4),
        ("3 sao (Quyết định 56/QĐ-UBND ngày 15/3/2023)", 3),
        ("Bốn sao (2022)", 4),
        ("4★ (2023)", 4),
        # The certificate's validity, 36 months from the year given: 4 stars of 2023.
        ("4 sao (2023-2026)", 4),
        ("4 sao (2023 - 2026)", 4),
        ("4 sao (2023\u20132026)", 4),
        ("4 sao (2023-2025)", 4),  # its three years counted whole
    ],
)
def test_ocop_stars_with_the_year_or_decision_beside_them(raw, stars):
    """The year or the decision in parentheses says when the stars were given, not how many."""
    assert cells.parse_stars(raw) == stars


@pytest.mark.parametrize(
    "raw",
    [
        "3 sao (QĐ nâng 4 sao)",
        "3 sao (QĐ nâng 4 SAO)",
        "3 sao (QĐ 2023: 4★)",
        "4 sao (2023) (2024)",
        "4 sao (2023-2027)",  # longer than a certificate's 36 months
        "4 sao (2026-2023)",  # reversed
        "4 sao (2023-2024)",  # shorter: no certificate's validity either
        "4 sao (2023-2023)",
        "4 sao (2023-26)",
        "4 sao (2023-2026) (2023)",
        "4 sao (dự kiến)",
        "4 sao (3)",
    ],
)
def test_ocop_stars_with_other_parentheses_stay_unreadable(raw):
    with pytest.raises(ValueError, match=r"not a (whole )?number"):
        cells.parse_stars(raw)
