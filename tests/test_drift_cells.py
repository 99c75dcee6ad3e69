"""The contract's cell-level drift (rules 14, 15, 16 and 18) on the fixture corpus and through
the whole pipeline: what one cell may carry, and what it must not.

Each `d` file of `tests/corpus/` reads exactly as `TRUTH`; each `r` file is rejected for its
cells, and those cells reach `audit.rejected_row` and the clerk's feedback workbook.
"""

from __future__ import annotations

import datetime as dt
import shutil

import openpyxl
import pytest
from conftest import HTX_HEADER, SUPPORT_HEADER, htx_row, info_rows, query, run_steps, write_xlsx
from corpus.make_corpus import PARTIAL_READ
from test_drift import CORPUS, assert_truth

from etl.contract.reference import load_reference
from etl.quality.feedback import feedback_name
from etl.read import cells
from etl.read.headers import split_unit
from etl.read.identify import identify
from etl.read.reader import read_workbook, unparsed
from etl.text import clean, unquoted

# --- rule 15: invisible characters -----------------------------------------------------


def test_rule_15_invisible_characters_never_change_a_value():
    assert_truth("d15_invisible_characters.xlsx")
    read = read_workbook(CORPUS / "d15_invisible_characters.xlsx")
    assert not any(k.endswith("__unparsed") for r in read.sheets["htx"].rows for k in r)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTX\u00a0A", "HTX A"),
        ("HTX\u200b A\u200c\u200d\u2060", "HTX A"),
        ("\ufeffHTX A", "HTX A"),
        ("Nông\u00adnghiệp", "Nôngnghiệp"),
        ("６４００１２３４５６", "6400123456"),
        ("１２／０３／２０２１", "12/03/2021"),
        ("HTX\u3000A", "HTX A"),
        ("Đắk R'Lấp", "Đắk R'Lấp"),  # an apostrophe inside a name stays
    ],
)
def test_rule_15_clean_removes_what_no_one_sees(raw, expected):
    assert clean(raw) == expected


def test_rule_15_a_leading_apostrophe_marks_text_and_is_no_part_of_a_value():
    assert unquoted("'6400123456") == "6400123456"
    assert unquoted("\u2019 1.250") == "1.250"
    # In every typed cell, free text too ("every cell", rule 15); `clean` alone keeps it.
    assert cells.parse_text("'HTX Cà phê Đắk Mil") == "HTX Cà phê Đắk Mil"
    assert cells.parse_category("'Nông nghiệp", ("Nông nghiệp",)) == "Nông nghiệp"
    assert clean("'; DROP TABLE x; --") == "'; DROP TABLE x; --"


@pytest.mark.parametrize(
    ("raw", "parse", "expected"),
    [
        ("６４００１２３４５６", cells.parse_code, "6400123456"),
        ("\u200b6400123456", cells.parse_code, "6400123456"),
        ("'0100345678", cells.parse_code, "0100345678"),
        ("1\u00a0250,5", cells.parse_number, 1250.5),
        ("１２５", cells.parse_number, 125.0),
        ("\u200b-12,5\u200b", cells.parse_number, -12.5),
        ("１５／０３／２０１９", cells.parse_date, dt.date(2019, 3, 15)),
        ("x\u200b", cells.parse_yesno, True),
        # A leading apostrophe, as LibreOffice keeps before a dash or alone (helper CL).
        ("'x", cells.parse_yesno, True),
        ("'Có", cells.parse_yesno, True),
        ("'", cells.parse_yesno, False),
        ("'-", cells.parse_yesno, False),
        ("\u2019\u2013", cells.parse_yesno, False),
        ("' Không", cells.parse_yesno, False),
    ],
)
def test_rule_15_codes_numbers_dates_and_marks_read_through_invisible_characters(
    raw, parse, expected
):
    assert parse(raw) == expected


def test_rule_15_headers_with_invisible_characters_still_match(tmp_path):
    header = [f"\u200b{h}\u00a0" if h != "Mã số HTX" else "Mã\u00a0số\u00adHTX" for h in HTX_HEADER]
    header[1] = "Mã\u00a0số HTX\u200b"
    path = write_xlsx(tmp_path / "f.xlsx", {"HTX": [header, htx_row(1, "6400000001")]})
    read = read_workbook(path)
    assert read.rejection is None
    assert read.findings == []  # no column left unknown
    assert read.sheets["htx"].rows[0]["coop_code"] == "6400000001"


# --- rule 14: units in cells -------------------------------------------------------------


def test_a_loss_in_words_reads_in_the_profit_column_and_nowhere_else(tmp_path):
    """Under `Lợi nhuận trước thuế (nghìn đồng)`, `Lỗ 50 triệu` is −50 million VND (the
    cell's unit wins), `-50.000 (lỗ)` −50 (the header's); `Lỗ 50` under `Doanh thu` stays
    an error of the cell, never +50."""
    profit = "Lợi nhuận trước thuế"
    header = [f"{h} (nghìn đồng)" if h == profit else h for h in HTX_HEADER]
    rows = [
        header,
        htx_row(1, "6400000001", **{profit: "Lỗ 50 triệu"}),
        htx_row(2, "6400000002", **{profit: "-50.000 (lỗ)"}),
        htx_row(3, "6400000003", **{profit: "Lãi 50.000"}),
        htx_row(4, "6400000004", **{"Doanh thu": "Lỗ 50"}),
    ]
    sheets = {"ThongTin": info_rows(), "HTX": rows}
    got = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets)).sheets["htx"].rows
    assert [r["profit_before_tax_mvnd"] for r in got] == [-50.0, -50.0, 50.0, 0.12]
    assert not any(unparsed("profit_before_tax_mvnd") in r for r in got)
    assert got[3]["revenue_mvnd"] is None
    assert got[3][unparsed("revenue_mvnd")] == "Lỗ 50"


def test_a_sector_in_short_reads_as_the_listed_sector(tmp_path):
    """`NN`, `Quỹ TDND`, `GTVT`, `Nông, lâm nghiệp` in `Lĩnh vực` are sectors of the list;
    `Thương mại` stays as written (for `sector_known`'s warning)."""
    written = ["NN", "Quỹ TDND", "GTVT", "Nông, lâm nghiệp", "VSMT", "Thương mại"]
    rows = [HTX_HEADER] + [
        htx_row(n, f"640000000{n}", **{"Lĩnh vực": sector}) for n, sector in enumerate(written, 1)
    ]
    sheets = {"ThongTin": info_rows(), "HTX": rows}
    got = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets)).sheets["htx"].rows
    assert [r["sector"] for r in got] == [
        "Nông nghiệp", "Quỹ tín dụng nhân dân", "Vận tải", "Nông nghiệp", "Môi trường",
        "Thương mại",
    ]  # fmt: skip


def test_a_score_out_of_100_and_stars_with_their_year_read_through_the_reader(tmp_path):
    """`85/100` in `Điểm` is 85 (it agrees with `Tốt`); `8,5/10` stays an error of the cell;
    `4 sao (2023)` and `4 sao (QĐ 2023)` in `Số sao` are 4."""
    rows = [
        HTX_HEADER,
        htx_row(1, "6400000001", **{"Xếp loại": "Tốt", "Điểm": "85/100"}),
        htx_row(2, "6400000002", **{"Xếp loại": "Khá", "Điểm": "70 điểm/100"}),
        htx_row(3, "6400000003", **{"Xếp loại": "Tốt", "Điểm": "8,5/10"}),
    ]
    ocop = [
        ["Mã số HTX", "Tên sản phẩm", "Số sao"],
        ["6400000001", "Cà phê", "4 sao (2023)"],
        ["6400000002", "Tiêu", "4 sao (QĐ 2023)"],
    ]
    sheets = {"ThongTin": info_rows(), "HTX": rows, "OCOP": ocop}
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets))
    htx = read.sheets["htx"].rows
    assert [r["score"] for r in htx] == [85.0, 70.0, None]
    assert [unparsed("score") in r for r in htx] == [False, False, True]
    assert [r["stars"] for r in read.sheets["ocop"].rows] == [4, 4]


def test_rule_14_units_in_cells_scale_the_cell_and_win_over_the_header():
    assert_truth("d14_units_in_cells.xlsx")
    read = read_workbook(CORPUS / "d14_units_in_cells.xlsx")
    assert read.findings == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,2 tỷ", 1200.0),
        ("350 triệu", 350.0),
        ("350 tr", 350.0),
        ("350trđ", 350.0),
        ("350 tr.đ", 350.0),
        ("45.000.000 đ", 45.0),
        ("45.000.000 đồng", 45.0),
        ("45.000.000 VNĐ", 45.0),
        ("45.000.000 VND", 45.0),
        ("120 nghìn", 0.12),
        ("120 ngàn", 0.12),
        ("(125,5) triệu", -125.5),
        ("- 125,5 tr", -125.5),
        ("1\u00a0250\u00a0000 đ", 1.25),
        ("45.000.000 ₫", 45.0),
        ("45.000.000₫", 45.0),
        ("(2 triệu)", -2.0),
        ("(1,2 tỷ)", -1200.0),
        ("( 350 tr )", -350.0),
        ("2 tỷ 500 triệu", 2500.0),  # as the amount is said
        ("1 tỷ 250 triệu đồng", 1250.0),
        ("3 triệu 500 nghìn", 3.5),
        ("1,2 tỷ 50 tr", 1250.0),
        ("-2 tỷ 500 triệu", -2500.0),  # a loss said as an amount: negative as `-125,5`
        ("- 1 tỷ 250 triệu đồng", -1250.0),
        ("(2 tỷ 500 triệu)", -2500.0),
    ],
)
def test_rule_14_a_money_cell_carries_its_own_unit(raw, expected):
    assert cells.parse_money(raw, 1e-6) == pytest.approx(expected)  # header: (đồng)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("VNĐ 45.000.000", 45.0),
        ("VND 45,000,000", 45.0),
        ("₫45.000.000", 45.0),
        ("đ 1 250 000", 1.25),
        ("(VNĐ 45.000.000)", -45.0),
    ],
)
def test_rule_14_a_currency_written_before_the_amount_scales_it(raw, expected):
    assert cells.parse_money(raw, 1.0) == pytest.approx(expected)  # header: (triệu đồng)


def test_rule_14_a_currency_before_the_amount_reads_in_a_workbook(tmp_path):
    path = write_xlsx(
        tmp_path / "663_2023.xlsx",
        {
            "ThongTin": info_rows(),
            "HTX": [HTX_HEADER, htx_row(1, "6400123456", **{"Vốn điều lệ": "VNĐ 45.000.000"})],
        },
    )
    read = read_workbook(path)
    assert read.rejection is None
    assert [r["charter_capital_mvnd"] for r in read.sheets["htx"].rows] == [45.0]
    assert read.findings == []


@pytest.mark.parametrize(("raw", "expected"), [("(125,5)", -125.5), ("- 125,5", -125.5)])
def test_rule_14_accounting_negatives_keep_the_header_unit(raw, expected):
    assert cells.parse_money(raw, 1.0) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\u2013125,5", -125.5),  # an en dash, as Word's autocorrect or a copied report writes it
        ("\u2013 125,5", -125.5),
        ("\u2014125,5", -125.5),  # an em dash
        ("\u2012 1.250", -1250.0),  # a figure dash
        ("\u2010125,5", -125.5),  # a hyphen
        ("\u2013350 tr", -350.0),
        ("\u2013 2 tỷ 500 triệu", -2500.0),
    ],
)
def test_rule_14_a_dash_before_a_number_is_its_minus(raw, expected):
    """A loss written with a typographic dash reads as written with `-`: before, `–125,5`
    rejected the file ("must be an amount"). A dash alone is still a blank (rule 6)."""
    assert cells.parse_money(raw, 1.0) == expected
    assert cells.parse_money(raw[0], 1.0) is None


def test_rule_14_a_count_written_with_a_dash_is_negative():
    """`–5` members is a negative count (rule `members_not_negative`), not unreadable."""
    assert cells.parse_quantity("\u20135") == -5.0


@pytest.mark.parametrize(
    "raw",
    [
        "(-2 triệu)",
        "((2 triệu))",
        "(2 triệu",
        "2 triệu)",
        "(-2 tỷ 500 triệu)",
        "1 triệu 2 tỷ",
        "2 tỷ 1.500 triệu",
    ],
)
def test_rule_14_a_unit_inside_parentheses_is_one_negative_or_nothing(raw):
    with pytest.raises(ValueError, match="not a number"):
        cells.parse_money(raw, 1.0)


def test_rule_14_the_dong_sign_in_a_header_is_dong():
    assert cells.money_factor("₫") == cells.money_factor("đồng") == 1e-6
    assert cells.money_factor("nghìn ₫") == 1e-3


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3tr5", 3.5),  # 3 triệu 5 (trăm nghìn), as clerks type it
        ("3 tr 5", 3.5),
        ("3 triệu 5", 3.5),
        ("1ty2", 1200.0),
        ("1tỷ2", 1200.0),
        ("1 tỷ 2", 1200.0),
        ("1 tỉ 2", 1200.0),
        ("12tr5", 12.5),
        ("-3tr5", -3.5),
        ("3 triệu 5 nghìn", 3.005),  # a unit after the digit: an amount said in parts
        ("(1 tỷ 2)", -1200.0),
        ("500k", 0.5),  # k: nghìn
        ("500K", 0.5),
        ("500 k", 0.5),
        ("500kđ", 0.5),
        ("500 nghìn", 0.5),
        ("1,5 tỉ", 1500.0),  # `tỉ`, the other spelling of `tỷ`
        ("2 tỷ 500 triệu", 2500.0),
        # Three digits after the scale are the next scale's: 3 triệu 500 (nghìn), the same
        # amount as the decimal 3,500 triệu, so neither reading can differ.
        ("3tr500", 3.5),
        ("3 triệu 500", 3.5),
        ("3tr050", 3.05),
        ("1 tỷ 200", 1200.0),
        ("2 tỷ 050", 2050.0),
        ("1ty200", 1200.0),
        ("-1 tỷ 200", -1200.0),
        ("(3tr500)", -3.5),
    ],
)
def test_rule_14_money_shorthand_reads_as_it_is_said(raw, expected):
    """`3tr5` is 3 triệu 5, 3.5 million VND: one digit after the scale is its tenth, as the
    amount is said (`ba triệu năm`). Before, `3tr5`, `1ty2`, `1 tỷ 2` and `500k` rejected the
    file (not a number)."""
    assert cells.parse_money(raw, 1.0) == pytest.approx(expected)
    assert cells.parse_money(raw, 1e-6) == pytest.approx(expected)  # the cell's unit wins


@pytest.mark.parametrize(
    "raw",
    [
        "3tr25",  # 3,25 or 3 triệu 25 nghìn: not guessed
        "3tr50",  # 3,5 or 3 triệu 50 nghìn (3,05)
        "1 tỷ 20",
        "3tr5000",
        "1 tỷ 2000",
        "1 tỷ 25",
        "3tr5tr",
        "3đ5",  # a currency is no scale
        "1,5tr2",
        "2 tỷ 500 triệu 5",
        "-3tr-5",
        "1tr2đ",  # 1,2 triệu đồng, or 1 triệu 2 đồng: before, 1.000002 without a word
        "1tr2 đồng",
        "1 triệu 250 đồng",
    ],
)
def test_rule_14_money_shorthand_that_could_mean_two_amounts_is_unreadable(raw):
    """Not guessed: two digits after the scale, and đồng alone after a scale (`1tr2đ` may be
    the shorthand with its currency, or 1 triệu and 2 đồng)."""
    with pytest.raises(ValueError, match="not a number"):
        cells.parse_money(raw, 1.0)


def test_rule_14_money_shorthand_in_a_count_is_a_unit_mismatch():
    with pytest.raises(cells.UnitMismatch):
        cells.parse_quantity("3tr5", ("người",), whole=True)
    with pytest.raises(cells.UnitMismatch):
        cells.parse_quantity("500k", ("người",), whole=True)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("500 (ước)", 500.0),  # as `2019 (ước)` is the year 2019 in a date column
        ("500 (ước tính)", 500.0),
        ("500 triệu (ước)", 500.0),
        ("khoảng 500", 500.0),
        ("Khoảng 1,2 tỷ", 1200.0),
        ("~500", 500.0),
        ("~ 500", 500.0),
        ("≈500", 500.0),
        ("xấp xỉ 500", 500.0),
        ("ước 500", 500.0),
        ("Ước tính: 500", 500.0),
        ("(125,5) (ước)", -125.5),
        ("khoảng 3tr5", 3.5),
        ("1.250 (trong đó vốn góp 800)", 1250.0),
        # A part in its own unit is compared in million VND: 300 triệu of 1 tỷ.
        ("1 tỷ (trong đó 300 triệu)", 1000.0),
        ("1 tỷ (trong đó vốn góp 300 triệu, vay 200 triệu)", 1000.0),
        ("1,2 tỷ (trong đó 800.000.000 đ)", 1200.0),
    ],
)
def test_rule_14_an_estimate_is_its_figure(raw, expected):
    """An estimate is the figure the clerk reports: `500 (ước)`, `khoảng 500`, `~500`. Before,
    unreadable (the file rejected)."""
    assert cells.parse_money(raw, 1.0) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("25 (trong đó 5 nữ)", 25),  # the whole, then a part of it
        ("25 (trong đó: 5 nữ)", 25),
        ("25 người (5 nữ)", 25),
        ("25 (nữ: 5)", 25),
        ("25 (5 lao động nữ)", 25),
        ("25 (trong đó 5 nữ, 3 người dân tộc thiểu số)", 25),
        ("khoảng 25 người", 25),
        ("25 (ước)", 25),
    ],
)
def test_rule_14_a_count_with_its_breakdown_is_the_whole(raw, expected):
    assert cells.parse_quantity(raw, ("người",), whole=True) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "500 (dự kiến)",  # a plan is no result (rule 2: the result rather than the plan)
        "500 (kế hoạch)",
        "500 (ước?)",
        "khoảng 400-500",
        "~400-500",
        "400~500",
        "trên 500",  # a bound, not a figure
        "gần 500",
        "hơn 500",
        "500 (năm 2022: 450)",  # another figure beside it
        "20 (sửa lại 25)",  # a correction: the figure is not the first number
        "25 (30 nữ)",  # a part larger than the whole: something is miswritten
        "25 (trong đó 30 nữ)",
        "25 (5)",
        "khoảng",
        "(ước)",
        "500 (ước) (ước)",
        "khoảng ~500",
    ],
)
def test_rule_14_a_figure_with_a_remark_that_may_change_it_is_unreadable(raw):
    """A plan, a range, a bound, another year's figure, a correction or a part larger than
    the whole: the first number may not be the figure, so the cell stays an error."""
    with pytest.raises(ValueError, match="not a number"):
        cells.parse_money(raw, 1.0)
    with pytest.raises(ValueError, match="not a number"):
        cells.parse_quantity(raw, ("người",), whole=True)


@pytest.mark.parametrize(
    "raw",
    [
        "1 tỷ (trong đó 1.300 triệu)",  # a part larger than the whole
        "1 tỷ (trong đó 2 tỷ)",
        "1 tỷ (trong đó 300)",  # 300 of what: not the whole's tỷ, so no part of it
        "1 tỷ (trong đó 300 người)",
    ],
)
def test_rule_14_money_with_a_part_it_cannot_hold_is_unreadable(raw):
    with pytest.raises(ValueError, match="not a number"):
        cells.parse_money(raw, 1.0)


def test_rule_14_shorthand_estimates_and_breakdowns_read_in_a_workbook(tmp_path):
    row = htx_row(
        1,
        "6400123456",
        **{
            "Số thành viên": "25 người (trong đó 5 nữ)",
            "Số lao động": "khoảng 12",
            "Vốn điều lệ": "1ty2",
            "Doanh thu": "3tr5",
            "Tổng tài sản": "500 (ước)",
            "Liên kết tiêu thụ": "Có (HĐ với Cty ABC)",
        },
    )
    sheets = {"ThongTin": info_rows(), "HTX": [HTX_HEADER, row]}
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets))
    assert read.rejection is None
    (got,) = read.sheets["htx"].rows
    assert (
        got["members"],
        got["workers"],
        got["charter_capital_mvnd"],
        got["revenue_mvnd"],
        got["total_assets_mvnd"],
        got["has_offtake_contract"],
    ) == (25, 12, 1200.0, 3.5, 500.0, True)
    assert read.findings == []


def test_the_readings_ruled_on_read_through_the_reader_in_their_columns_units(tmp_path):
    """`3tr500` and `1 tỷ (trong đó 300 triệu)` keep their own units under a header in đồng;
    `Lo 50.000` is −50 under `(nghìn đồng)`; `Không (chưa ký)` is no; `4 sao (2023 - 2026)`
    4 stars. `Không (có HĐ miệng)` stays an error of its cell."""
    profit = "Lợi nhuận trước thuế"
    in_dong = {"Doanh thu", "Vốn điều lệ"}
    header = [
        f"{h} (nghìn đồng)" if h == profit else f"{h} (đồng)" if h in in_dong else h
        for h in HTX_HEADER
    ]
    rows = [
        header,
        htx_row(
            1,
            "6400000001",
            **{
                "Doanh thu": "3tr500",
                "Vốn điều lệ": "1 tỷ (trong đó 300 triệu)",
                profit: "Lo 50.000",
                "Liên kết tiêu thụ": "Không (chưa ký)",
            },
        ),
        htx_row(
            2, "6400000002", **{profit: "Lai 50.000", "Liên kết tiêu thụ": "Không (có HĐ miệng)"}
        ),
    ]
    ocop = [
        ["Mã số HTX", "Tên sản phẩm", "Số sao"],
        ["6400000001", "Cà phê", "4 sao (2023 - 2026)"],
    ]
    sheets = {"ThongTin": info_rows(), "HTX": rows, "OCOP": ocop}
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets))
    first, second = read.sheets["htx"].rows
    assert (
        first["revenue_mvnd"],
        first["charter_capital_mvnd"],
        first["profit_before_tax_mvnd"],
        first["has_offtake_contract"],
    ) == (3.5, 1000.0, -50.0, False)
    assert not any(k.endswith("__unparsed") for k in first)
    assert second["profit_before_tax_mvnd"] == 50.0
    assert second["has_offtake_contract"] is None
    assert second[unparsed("has_offtake_contract")] == "Không (có HĐ miệng)"
    assert [r["stars"] for r in read.sheets["ocop"].rows] == [4]


@pytest.mark.parametrize(
    ("raw", "units", "expected"),
    [
        ("25 người", ("người",), 25),
        ("25 thành viên", ("người", "thành viên"), 25),
        ("12 tấn", ("tấn",), 12),
        ("1.250 người", ("người",), 1250),
    ],
)
def test_rule_14_a_count_with_its_unit_reads_as_its_number(raw, units, expected):
    assert cells.parse_quantity(raw, units, whole=True) == expected


@pytest.mark.parametrize("raw", ["80 điểm", "80đ", "80 đ", "80 Đ", "80 đ."])
def test_rule_14_a_score_with_its_short_unit_reads_as_its_number(raw):
    """`80đ`: `đ` is how a score's `điểm` is shortened; in the score column (its unit
    `điểm`) it is no money unit. Before, a unit_mismatch error that named it money."""
    assert cells.parse_quantity(raw, ("điểm",)) == 80.0


def test_rule_14_a_short_dong_is_still_money_in_a_count_of_people():
    with pytest.raises(cells.UnitMismatch):
        cells.parse_quantity("80đ", ("người",))


def test_rule_14_members_counted_in_households_read_as_their_number():
    """A cooperative's members may be households (`thành viên là hộ gia đình`): `7 hộ` in
    Số thành viên is 7 members; a household is no worker, so in Số lao động it is a
    mismatch of that cell."""
    from etl.contract.layout import DATA_SHEETS

    columns = {c.key: c for s in DATA_SHEETS if s.key == "htx" for c in s.columns}
    members, workers = columns["members"].units, columns["workers"].units
    assert cells.parse_quantity("7 hộ", members, whole=True) == 7
    assert cells.parse_quantity("12 hộ gia đình", members, whole=True) == 12
    with pytest.raises(cells.UnitMismatch):
        cells.parse_quantity("7 hộ", workers, whole=True)


@pytest.mark.parametrize(
    ("raw", "parse"),
    [
        ("12 tấn", lambda raw: cells.parse_money(raw)),
        ("3 người", lambda raw: cells.parse_money(raw)),
        ("2 tỷ", lambda raw: cells.parse_quantity(raw, ("người",), whole=True)),
        ("350 triệu", lambda raw: cells.parse_quantity(raw, ("tấn",))),
        ("12 tấn", lambda raw: cells.parse_quantity(raw, ("người",), whole=True)),
        ("VNĐ 25", lambda raw: cells.parse_quantity(raw, ("người",), whole=True)),
    ],
)
def test_rule_14_a_unit_that_does_not_fit_its_column_is_a_mismatch(raw, parse):
    with pytest.raises(cells.UnitMismatch):
        parse(raw)


def test_rule_14_unit_mismatch_is_an_error_of_that_cell():
    read = read_workbook(CORPUS / "r_unit_mismatch.xlsx")
    assert read.rejection is None
    found = {
        (f.rule, f.severity, f.excel_row, f.column_name, f.value, f.cell) for f in read.findings
    }
    assert found == {
        ("unit_mismatch", "error", 2, "Doanh thu", "12 tấn", "L2"),
        ("unit_mismatch", "error", 3, "Số thành viên", "2 tỷ", "H3"),
        ("unit_mismatch", "error", 4, "Vốn điều lệ", "5 người", "J4"),
    }
    vi, en = read.findings[0].message.split(" / ", 1)
    assert "Đơn vị 'tấn'" in vi
    assert "does not fit" in en


# --- rule 16: codes Excel destroyed ------------------------------------------------------


@pytest.mark.parametrize("raw", ["6,40022E+09", "6.40022E+09", "6.4E+09", "6,4e+9"])
def test_rule_16_scientific_notation_text_is_kept_as_written_and_invalid(raw):
    code = cells.parse_code(raw)
    assert code == raw
    assert cells.is_destroyed_code(code)
    assert not cells.is_valid_coop_code(code)


@pytest.mark.parametrize("raw", [6400223301, 6400223301.0, "6400223301.0", "6400223301"])
def test_rule_16_a_code_stored_as_an_exact_number_is_fine(raw):
    assert cells.parse_code(raw) == "6400223301"


# --- rule 18: dates in words and partial dates --------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ngày 15 tháng 3 năm 2019", (dt.date(2019, 3, 15), "day")),
        ("Ngày 05 tháng 03 năm 2019", (dt.date(2019, 3, 5), "day")),
        ("ngày 15/3/2019", (dt.date(2019, 3, 15), "day")),  # as a document dates itself
        ("Ngày: 15/03/2019", (dt.date(2019, 3, 15), "day")),
        ("Đắk Mil, ngày 15 tháng 3 năm 2019", (dt.date(2019, 3, 15), "day")),
        ("15.03.2019", (dt.date(2019, 3, 15), "day")),
        ("15/3/19", (dt.date(2019, 3, 15), "day")),
        ("15/3/23", (dt.date(2023, 3, 15), "day")),  # the report year itself: 20xx
        ("15/3/24", (dt.date(1924, 3, 15), "day")),  # after the report year: 19xx
        ("1/7/98", (dt.date(1998, 7, 1), "day")),
        ("03/2019", (dt.date(2019, 3, 1), "month")),
        ("tháng 3/2019", (dt.date(2019, 3, 1), "month")),
        ("T3/2019", (dt.date(2019, 3, 1), "month")),  # tháng shortened, as clerks write it
        ("t03/2019", (dt.date(2019, 3, 1), "month")),
        ("T.3/2019", (dt.date(2019, 3, 1), "month")),
        ("2019/03/05", (dt.date(2019, 3, 5), "day")),  # year first: never day-first
        ("2019.3.5", (dt.date(2019, 3, 5), "day")),
        ("Tháng 3 năm 2019", (dt.date(2019, 3, 1), "month")),
        ("2019", (dt.date(2019, 1, 1), "year")),
        ("năm 2019", (dt.date(2019, 1, 1), "year")),
        (2019, (dt.date(2019, 1, 1), "year")),  # a year typed as a number, not serial day 2019
        ("15 thg 3, 2019", (dt.date(2019, 3, 15), "day")),  # as Google Sheets writes it
        ("15 March 2019", (dt.date(2019, 3, 15), "day")),
        ("Mar 15, 2019", (dt.date(2019, 3, 15), "day")),
        ("15-Mar-2019", (dt.date(2019, 3, 15), "day")),
        ("March 2019", (dt.date(2019, 3, 1), "month")),
        ("2019 (ước)", (dt.date(2019, 1, 1), "year")),
        ("43000 12:00", (dt.date(2017, 9, 22), "day")),
        (44260, (dt.date(2021, 3, 5), "day")),
        (dt.date(2021, 3, 5), (dt.date(2021, 3, 5), "day")),
    ],
)
def test_rule_18_dates_in_words_and_partial_dates(raw, expected):
    assert cells.parse_dated(raw, report_year=2023) == expected


@pytest.mark.parametrize("raw", ["15 thg ba 2019", "15 Xyz 2019", "15 abc", "15 03 2019"])
def test_rule_18_a_number_that_text_goes_on_from_is_no_serial_day(raw):
    """`15 …` is never serial day 15 (14/01/1900): a text it does not read is unreadable."""
    with pytest.raises(ValueError, match="not a date"):
        cells.parse_dated(raw, report_year=2023)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("15/03/2019.", (dt.date(2019, 3, 15), "day")),
        ("15/03/2019;", (dt.date(2019, 3, 15), "day")),
        ("15/03/2019,", (dt.date(2019, 3, 15), "day")),
        ("15/03/2019 .", (dt.date(2019, 3, 15), "day")),
        ("15.03.2019.", (dt.date(2019, 3, 15), "day")),
        ("15/3/19.", (dt.date(2019, 3, 15), "day")),
        ("ngày 15 tháng 3 năm 2019.", (dt.date(2019, 3, 15), "day")),
        ("03/2019;", (dt.date(2019, 3, 1), "month")),
        ("tháng 3/2019.", (dt.date(2019, 3, 1), "month")),
        ("2019.", (dt.date(2019, 1, 1), "year")),
        ("15/03/2019 00:00:00.", (dt.date(2019, 3, 15), "day")),
    ],
)
def test_rule_18_a_date_ending_a_sentence_is_that_date(raw, expected):
    """A date a clerk ends with a full stop or a list's `;`/`,` is the date before it."""
    assert cells.parse_dated(raw, report_year=2023) == expected


@pytest.mark.parametrize("raw", ["15/03/2019?", "15/03/2019...", "15/03/2019.5", ".", ";"])
def test_rule_18_a_date_with_a_question_or_more_stays_unreadable(raw):
    """A `?` doubts the date; `...` leaves it unfinished; `.5` goes on: none is end
    punctuation after a whole date, so the cell stays an error, never a guessed date."""
    with pytest.raises(ValueError, match="not a date"):
        cells.parse_dated(raw, report_year=2023)


def test_rule_18_a_year_typed_into_a_date_formatted_cell_is_that_year(tmp_path):
    """`2019` typed into a cell formatted `dd/mm/yyyy` (Excel shows 11/07/1905) is the year
    2019, as the number formatted General is; it read as 11/07/1905 (helper BS). A real
    date, and a year's number in a General cell, read as before."""
    typed = dt.date(1899, 12, 30) + dt.timedelta(days=2019)  # the cell as its format shows it
    rows = [
        HTX_HEADER,
        htx_row(1, "6400000001", **{"Ngày thành lập": typed}),
        htx_row(2, "6400000002", **{"Ngày thành lập": 2019}),
        htx_row(3, "6400000003", **{"Ngày thành lập": dt.date(2019, 3, 15)}),
    ]
    sheets = {"ThongTin": info_rows("663", 2023), "HTX": rows}
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets))
    assert [(r["founded_on"], r["founded_on_precision"]) for r in read.sheets["htx"].rows] == [
        (dt.date(2019, 1, 1), "year"),
        (dt.date(2019, 1, 1), "year"),
        (dt.date(2019, 3, 15), "day"),
    ]
    assert cells.parse_dated(dt.datetime(1905, 7, 11, 12, 0)) == (dt.date(1905, 7, 11), "day")


def test_rule_18_a_date_ending_a_sentence_reads_in_every_date_column(tmp_path):
    """Ngày thành lập, Ngày quyết định and ThongTin's Ngày lập read `15/03/2019.` alike."""
    info = info_rows("663", 2023)
    info[4][1] = "20/01/2024;"  # Ngày lập
    htx = [HTX_HEADER, htx_row(1, "6400000001", **{"Ngày thành lập": "15/03/2019."})]
    ocop = [
        ["Mã số HTX", "Tên sản phẩm", "Số sao", "Ngày quyết định"],
        ["6400000001", "Cà phê", 4, "tháng 3/2022."],
    ]
    sheets = {"ThongTin": info, "HTX": htx, "OCOP": ocop}
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets))
    [coop] = read.sheets["htx"].rows
    [product] = read.sheets["ocop"].rows
    assert (coop["founded_on"], coop["founded_on_precision"]) == (dt.date(2019, 3, 15), "day")
    assert (product["decision_date"], product["decision_date_precision"]) == (
        dt.date(2022, 3, 1),
        "month",
    )
    assert unparsed("founded_on") not in coop
    assert unparsed("decision_date") not in product
    identity = identify(read.info, "663_2023.xlsx", load_reference())
    assert identity.prepared_on == dt.date(2024, 1, 20)


def test_rule_18_a_resubmission_s_ngay_lap_in_words_orders_it(tmp_path):
    """A later Ngày lập written `20 thg 1, 2023` is that date, not one of 1900 that loses."""
    info = info_rows("662", 2022)
    info[4][1] = "20 thg 1, 2023"  # Ngày lập, as text
    sheets = {"ThongTin": info, "HTX": [HTX_HEADER, htx_row(1, "6400000001")]}
    read = read_workbook(write_xlsx(tmp_path / "662_2022_sua.xlsx", sheets))
    identity = identify(read.info, "662_2022_sua.xlsx", load_reference())
    assert identity.prepared_on == dt.date(2023, 1, 20)


def test_rule_18_a_two_digit_year_needs_the_report_year():
    with pytest.raises(ValueError, match="report year"):
        cells.parse_dated("15/3/19")


def test_rule_18_dates_in_words_read_like_the_template_with_their_precision():
    assert_truth("d18_dates_in_words.xlsx")
    read = read_workbook(CORPUS / "d18_dates_in_words.xlsx")
    assert [r["founded_on_precision"] for r in read.sheets["htx"].rows] == ["day"] * 3
    ocop = read.sheets["ocop"].rows
    assert [(r["decision_date"], r["decision_date_precision"]) for r in ocop] == list(PARTIAL_READ)
    identity = identify(read.info, "d18_dates_in_words.xlsx", load_reference())
    assert identity.prepared_on == dt.date(2024, 1, 15)  # `ngày 15 tháng 1 năm 2024`


def test_rule_18_two_digit_years_follow_the_report_year_of_the_file_name(tmp_path):
    rows = [HTX_HEADER, htx_row(1, "6400000001", **{"Ngày thành lập": "15/3/22"})]
    path = write_xlsx(tmp_path / "raw.xlsx", {"HTX": rows})  # no ThongTin
    early = read_workbook(path, file_name="663_2021.xlsx").sheets["htx"].rows[0]
    late = read_workbook(path, file_name="663_2023.xlsx").sheets["htx"].rows[0]
    assert (early["founded_on"], late["founded_on"]) == (dt.date(1922, 3, 15), dt.date(2022, 3, 15))


# --- through the pipeline: staging, warehouse, audit, feedback --------------------------


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    from etl.config import settings_under

    settings = settings_under(tmp_path_factory.mktemp("cells"))
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    for name in ("r_unit_mismatch.xlsx", "r_destroyed_codes.xlsx"):
        shutil.copy(CORPUS / name, settings.landing_dir / name)
    # 18: founding months and years kept with their precision; OCOP validity from them.
    founded = {
        "6400000001": "03/2019",
        "6400000002": "2018",
        "6400000003": "ngày 5 tháng 3 năm 2017",
    }
    rows = [HTX_HEADER] + [
        htx_row(i, code, **{"Ngày thành lập": text})
        for i, (code, text) in enumerate(founded.items(), 1)
    ]
    ocop = [
        [
            "Mã số HTX",
            "Tên sản phẩm",
            "Nhóm sản phẩm",
            "Số sao",
            "Số quyết định",
            "Ngày quyết định",
        ],
        ["6400000001", "Cà phê", "Đồ uống", 4, "1/QĐ", "03/2020"],  # valid to 01/03/2023
        ["6400000002", "Tiêu", "Thực phẩm", 3, "2/QĐ", "tháng 12/2019"],  # to 01/12/2022
    ]
    write_xlsx(
        settings.landing_dir / "663_2023.xlsx",
        {"ThongTin": info_rows(), "HTX": rows, "OCOP": ocop},
    )
    run_steps(settings)
    return settings


def _rejected(settings, file_name: str) -> set[tuple]:
    return set(
        query(
            settings,
            "select r.sheet, r.excel_row, r.column_name, r.value, r.rule, r.cell "
            "from audit.rejected_row r join audit.file_ingestion f using (file_id) "
            "where f.file_name = ? and r.severity = 'error'",
            [file_name],
        )
    )


def _feedback_marks(settings, file_name: str) -> set[tuple[str, str]]:
    [(sha,)] = query(
        settings, "select sha256 from audit.file_ingestion where file_name = ?", [file_name]
    )
    path = settings.export_dir / "feedback" / feedback_name(file_name, sha)
    workbook = openpyxl.load_workbook(path)
    return {
        (ws.title, cell.coordinate)
        for ws in workbook.worksheets
        if ws.title != "Loi"
        for row in ws.iter_rows()
        for cell in row
        if cell.fill.fill_type == "solid"
    }


def test_rule_14_unit_mismatch_reaches_the_audit_and_the_feedback_workbook(pipeline):
    assert _rejected(pipeline, "r_unit_mismatch.xlsx") == {
        ("HTX", 2, "Doanh thu", "12 tấn", "unit_mismatch", "L2"),
        ("HTX", 3, "Số thành viên", "2 tỷ", "unit_mismatch", "H3"),
        ("HTX", 4, "Vốn điều lệ", "5 người", "unit_mismatch", "J4"),
    }
    [(status,)] = query(
        pipeline,
        "select status from audit.file_ingestion where file_name = 'r_unit_mismatch.xlsx'",
    )
    assert status == "quarantined"
    assert {("HTX", "L2"), ("HTX", "H3"), ("HTX", "J4")} <= _feedback_marks(
        pipeline, "r_unit_mismatch.xlsx"
    )


def test_rule_16_destroyed_codes_are_errors_of_their_rows_telling_how_to_fix(pipeline):
    assert _rejected(pipeline, "r_destroyed_codes.xlsx") == {
        ("HTX", 2, "Mã số HTX", "6,40012E+09", "coop_code_format", "B2"),
        ("HTX", 3, "Mã số HTX", "6.40023E+09", "coop_code_format", "B3"),
        ("HTX", 4, "Mã số HTX", "6.4E+09", "coop_code_format", "B4"),
    }  # the exact numbers of rows 5-7 are fine
    [(message,)] = query(
        pipeline,
        "select distinct message from audit.rejected_row where rule = 'coop_code_format'",
    )
    vi, en = message.split(" / ", 1)
    assert "Văn bản (Text)" in vi
    assert "nhập lại" in vi
    assert "format the Mã số HTX column as Text and type the codes again" in en
    assert {("HTX", "B2"), ("HTX", "B3"), ("HTX", "B4")} <= _feedback_marks(
        pipeline, "r_destroyed_codes.xlsx"
    )


def test_rule_16_destroyed_codes_on_the_other_sheets_are_coop_code_format(settings):
    """A code Excel turned into `6,40012E+09` on HoTro, OCOP or LienKet is rule 16's error of
    that row, telling the clerk to format the column as Text, not "not in the HTX sheet"
    (the clerk sees the code there)."""
    rows = [HTX_HEADER, htx_row(1, "6400123456"), htx_row(2, "6400234567")]
    support = [
        ["Mã số HTX", "Chương trình", "Nội dung", "Nguồn vốn", "Kinh phí", "Năm"],
        ["6400123456", "NTM", "Máy", "Tỉnh", 100, 2023],
        ["6,40012E+09", "NTM", "Kho", "Tỉnh", 50, 2023],
    ]
    ocop = [
        ["Mã số HTX", "Tên sản phẩm", "Nhóm sản phẩm", "Số sao", "Số quyết định"],
        ["6.40023E+09", "Cà phê", "Thực phẩm", 4, "1/QĐ"],
    ]
    link = [
        ["Mã số HTX", "Doanh nghiệp liên kết", "Sản phẩm", "Sản lượng (tấn)"],
        ["6.4E+09", "Công ty A", "Cà phê", 12],
    ]
    name = "663_2023.xlsx"
    sheets = {"ThongTin": info_rows(), "HTX": rows, "HoTro": support, "OCOP": ocop}
    write_xlsx(settings.landing_dir / name, {**sheets, "LienKet": link})
    run_steps(settings)
    assert _rejected(settings, name) == {
        ("HoTro", 3, "Mã số HTX", "6,40012E+09", "coop_code_format", "A3"),
        ("OCOP", 2, "Mã số HTX", "6.40023E+09", "coop_code_format", "A2"),
        ("LienKet", 2, "Mã số HTX", "6.4E+09", "coop_code_format", "A2"),
    }
    messages = query(
        settings, "select distinct message from audit.rejected_row where rule = 'coop_code_format'"
    )
    for (message,) in messages:
        vi, en = message.split(" / ", 1)
        assert "Văn bản (Text)" in vi
        assert "format the Mã số HTX column as Text and type the codes again" in en
    assert {("HoTro", "A3"), ("OCOP", "A2"), ("LienKet", "A2")} <= _feedback_marks(settings, name)


def test_rule_18_founding_precision_reaches_the_warehouse(pipeline):
    got = query(
        pipeline,
        "select coop_code, founded_on, founded_on_precision from core.dim_cooperative "
        "order by coop_code",
    )
    assert got == [
        ("6400000001", dt.date(2019, 3, 1), "month"),
        ("6400000002", dt.date(2018, 1, 1), "year"),
        ("6400000003", dt.date(2017, 3, 5), "day"),
    ]


def test_rule_18_a_month_only_decision_is_valid_36_months_from_its_first_day(pipeline):
    got = query(
        pipeline,
        "select coop_code, decision_date, valid_until from core.fact_ocop_product order by 1",
    )
    assert got == [
        ("6400000001", dt.date(2020, 3, 1), dt.date(2023, 3, 1)),
        ("6400000002", dt.date(2019, 12, 1), dt.date(2022, 12, 1)),
    ]
    warned = query(
        pipeline,
        "select r.value from audit.rejected_row r join audit.file_ingestion f using (file_id) "
        "where f.file_name = '663_2023.xlsx' and r.rule = 'certificate_valid_in_report_year'",
    )
    assert warned == [("12/2019",)]  # expired before 2023, shown as the month it gave


def test_rule_5_a_number_excel_shows_as_a_percentage_reads_as_written(tmp_path):
    """`45%` typed in Excel is stored as 0.45 in a `0%` style: the score reads 45, as the
    text `45%` does, never 0.45 (which a rating `Yếu` would take without a word); a money
    cell shown as a percentage is unreadable, as `12%` typed in a money column is."""
    path = tmp_path / "663_2023.xlsx"
    workbook, sheet = _htx_book(HTX_HEADER)
    score, revenue = HTX_HEADER.index("Điểm") + 1, HTX_HEADER.index("Doanh thu") + 1
    rows = [("Yếu", 0.45, "0%"), ("Tốt", 0.855, "0.0%"), ("Khá", 0.7, '0.0" điểm"')]
    for n, (rating, value, shown) in enumerate(rows, start=1):
        sheet.append(htx_row(n, f"640000000{n}", **{"Xếp loại": rating, "Điểm": value}))
        sheet.cell(row=n + 1, column=score).number_format = shown
    sheet.cell(row=2, column=revenue).value = 0.12
    sheet.cell(row=2, column=revenue).number_format = "0%"
    workbook.save(path)
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    typed = read.sheets["htx"].rows
    assert [r["score"] for r in typed] == [45.0, 85.5, 0.7]  # a quoted word is no percent
    assert typed[0]["revenue_mvnd"] is None
    assert typed[0][unparsed("revenue_mvnd")] == "12%"


def _htx_book(header: list[str]):
    """A workbook of a valid ThongTin sheet and an HTX sheet holding `header` alone, for a
    test to write its rows and their number formats into: (workbook, HTX sheet)."""
    workbook = openpyxl.Workbook()
    info = workbook.active
    info.title = "ThongTin"
    for row in info_rows():
        info.append(row)
    sheet = workbook.create_sheet("HTX")
    sheet.append(header)
    return workbook, sheet


def _money_shown_book(path, header: str, cells_shown: list[tuple[object, str | None]]):
    """An HTX sheet whose revenue column is headed `header` and whose n-th cooperative's
    revenue is `cells_shown[n]`: (value, number format or None)."""
    head = list(HTX_HEADER)
    revenue = head.index("Doanh thu")
    head[revenue] = header
    workbook, sheet = _htx_book(head)
    members = head.index("Số thành viên") + 1
    for n, (value, shown) in enumerate(cells_shown, start=1):
        sheet.append(htx_row(n, f"640000000{n}", **{"Doanh thu": value}))
        if shown:
            sheet.cell(row=n + 1, column=revenue + 1).number_format = shown
            sheet.cell(row=n + 1, column=members).number_format = shown  # a count: as it is
    workbook.save(path)
    return path


def test_rule_14_an_amount_shown_in_dong_by_its_format_reads_in_dong_where_the_column_names_no_unit(
    tmp_path,
):
    """`1650000000` shown as `1.650.000.000 ₫` (Excel's currency and accounting buttons in a
    Vietnamese Excel, or `#,##0 "đ"`) under a header that names no unit is 1,650 million VND,
    as the clerk sees it and as `1.650.000.000 đ` typed would read (rule 14), with an
    information finding per unit shown. Before, it loaded as 1,650,000,000 million VND, a
    million times too large, in silence. A format that only leaves room for ₫ (`_₫`) shows
    none; a count shown with ₫ is a count."""
    accounting = '_-* #,##0 ₫_-;-* #,##0 ₫_-;_-* "-" ₫_-;_-@_-'
    path = _money_shown_book(
        tmp_path / "663_2023.xlsx",
        "Doanh thu",
        [
            (1_650_000_000, '#,##0 "đ"'),
            (900_000_000, accounting),
            (450_000_000, "#,##0\\ [$₫-42A]"),
            (1250, "_-* #,##0 _₫_-"),
            (1300, None),
        ],
    )
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    rows = read.sheets["htx"].rows
    assert [r["revenue_mvnd"] for r in rows] == [1650.0, 900.0, 450.0, 1250.0, 1300.0]
    assert [r["members"] for r in rows] == [40] * 5
    shown = [(f.rule, f.severity, f.cell, f.value) for f in read.findings]
    assert shown == [
        ("money_unit_shown", "warning", "L2", "1650000000 đ"),
        ("money_unit_shown", "warning", "L3", "900000000 ₫"),
    ]
    message = read.findings[1].message
    assert "2 ô, từ ô L3" in message
    assert "hãy ghi đơn vị ở tiêu đề cột (ví dụ 'Doanh thu (đồng)')" in message
    assert "read in '₫'. If that is right, write the unit in the column's header" in message


def test_rule_14_a_format_s_unit_is_read_as_a_unit_written_in_the_cell(tmp_path):
    """The unit shown reads as the same unit typed in the cell would (rule 14): a cell merged
    down over two cooperatives (rule 12) shows its top cell's unit in both; `đ/tháng` in a
    yearly column is twelve months' (`Thu nhập bình quân`); a format whose first section is
    for negative numbers says nothing of the stored number, and the column's unit is read
    (helper BZ). A figure shown scaled: `test_rule_14_a_figure_a_format_shows_scaled_…`."""
    path = _money_shown_book(
        tmp_path / "663_2023.xlsx",
        "Doanh thu",
        [
            (1_650_000_000, '#,##0 "đ"'),
            (None, None),
            (1_650_000_000, "#,##0"),
            (1300, '[<0]-#,##0 "đ";#,##0'),
        ],
    )
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["HTX"]
    revenue = HTX_HEADER.index("Doanh thu") + 1
    sheet.merge_cells(start_row=2, start_column=revenue, end_row=3, end_column=revenue)
    income = HTX_HEADER.index("Thu nhập bình quân") + 1
    sheet.cell(row=2, column=income).value = 5_000_000
    sheet.cell(row=2, column=income).number_format = '#,##0 "đ/tháng"'
    workbook.save(path)
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    rows = read.sheets["htx"].rows
    assert [r["revenue_mvnd"] for r in rows] == [1650.0, 1650.0, 1_650_000_000.0, 1300.0]
    assert rows[0]["avg_income_mvnd"] == 60.0
    shown = [(f.rule, f.cell, f.value) for f in read.findings if f.rule.startswith("money")]
    assert shown == [
        ("money_unit_shown", "L2", "1650000000 đ"),
        ("money_unit_shown", "N2", "5000000 đ/tháng"),
    ]
    money = [f for f in read.findings if f.rule.startswith("money")]
    assert "(định dạng số của ô; 2 ô, từ ô L2)" in money[0].message
    # The revenue merged over two cooperatives is each one's: rule 12, and a warning.
    merged = [(f.rule, f.cell) for f in read.findings if not f.rule.startswith("money")]
    assert merged == [("amount_merged", "L2")]


@pytest.mark.parametrize(
    ("header", "expected", "read_in"),
    [
        ("Doanh thu", [1650.0, 1650.0, 25.0, 1300.0], "triệu đồng, đơn vị của mẫu"),
        ("Doanh thu (nghìn đồng)", [1.65, 1650.0, 0.025, 1.3], "nghìn đồng"),
        ("Doanh thu (đồng)", [0.00165, 1650.0, 0.000025, 0.0013], "đồng"),
    ],
)
def test_rule_14_a_figure_a_format_shows_scaled_reads_as_shown(tmp_path, header, expected, read_in):
    """A `,` after a format's last digit shows the stored figure in thousands, two in
    millions: an accountant keeps `1650000000` đồng and shows `1.650` under a header in
    million VND (`#,##0,,`). The figure reads as shown, in the column's unit, and a unit the
    format shows with it is the cell's own (`#,##0, "nghìn đ"`: `1.650.000 nghìn đ`, 1,650
    million VND under any header), as `_as_shown_percent` reads `45%`; each divisor is the
    warning `money_format_scaled`, naming the figure stored and the one shown. Before, the
    stored figure loaded in the column's unit, a million times too large, in silence."""
    path = _money_shown_book(
        tmp_path / "663_2023.xlsx",
        header,
        [
            (1_650_000_000, "#,##0,,"),
            (1_650_000_000, '#,##0, "nghìn đ"'),
            (25_000, "#,##0.0,"),
            (1300, None),
        ],
    )
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    rows = read.sheets["htx"].rows
    assert [r["revenue_mvnd"] for r in rows] == pytest.approx(expected)
    assert [r["members"] for r in rows] == [40] * 4  # a count is as it is
    found = [(f.rule, f.severity, f.cell, f.value) for f in read.findings]
    assert found == [
        ("money_format_scaled", "warning", "L2", "1650"),
        ("money_format_scaled", "warning", "L3", "1650000 nghìn đ"),
        ("money_format_scaled", "warning", "L4", "25"),
    ]
    message = read.findings[0].message
    assert "ô L2 ghi 1650000000, được đọc là 1650" in message
    assert f"đọc theo số hiển thị, tính bằng {read_in}" in message
    assert "chia cho 1.000.000" in message
    assert "L2 holds 1650000000, read as 1650" in message
    assert "tính bằng nghìn đ." in read.findings[1].message


def test_rule_14_a_format_scales_a_negative_number_by_its_own_section(tmp_path):
    """A format's second section is the negative numbers': `#,##0;(#,##0,,)` shows a loss of
    `-120000000` as `(120)`, and a profit as it is; a text that is no money unit shown with a
    scaled figure (`#,##0, "nghìn USD"`) makes the cell unreadable, as the same text typed
    would (rule 14), never an amount in VND (helper CG)."""
    header = list(HTX_HEADER)
    workbook, sheet = _htx_book(header)
    profit = header.index("Lợi nhuận trước thuế") + 1
    revenue = header.index("Doanh thu") + 1
    for n, (value, shown) in enumerate(
        [(-120_000_000, "#,##0;(#,##0,,)"), (250, "#,##0;(#,##0,,)"), (900, "#,##0,,;-#,##0")],
        start=1,
    ):
        sheet.append(htx_row(n, f"640000000{n}", **{"Lợi nhuận trước thuế": value}))
        sheet.cell(row=n + 1, column=profit).number_format = shown
    sheet.cell(row=2, column=revenue).value = 1_650_000_000
    sheet.cell(row=2, column=revenue).number_format = '#,##0, "nghìn USD"'
    path = tmp_path / "663_2023.xlsx"
    workbook.save(path)
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    rows = read.sheets["htx"].rows
    assert [r["profit_before_tax_mvnd"] for r in rows] == [-120.0, 250.0, 0.0009]
    assert rows[0]["revenue_mvnd"] is None
    assert rows[0][unparsed("revenue_mvnd")] == "1650000 nghìn USD"
    found = [(f.rule, f.cell, f.value) for f in read.findings if f.rule.startswith("money")]
    assert found == [
        ("money_format_scaled", "L2", "1650000 nghìn USD"),
        ("money_format_scaled", "M2", "-120"),  # and M4: one per column and divisor
    ]
    assert "Định dạng số của 2 ô cột 'Lợi nhuận trước thuế' (từ ô M2)" in read.findings[-1].message


def test_rule_12_an_amount_merged_over_several_lines_is_each_line_s_and_is_warned(tmp_path):
    """Rule 12: a cell merged down holds its value for every row it covers, an amount too: a
    grant of 300 merged over three support lines reads 300 on each, 900 in all, which the
    clerk may not mean, so it is the warning `amount_merged` at the top cell, once per range,
    naming the amount read (here shown in millions by its format). A commune or a year merged
    down says nothing, nor does an amount merged that reads none (`x`, `0`), nor an income
    per person merged over two cooperatives: nothing adds up (helper CH)."""
    workbook, sheet = _htx_book(HTX_HEADER)
    sheet.append(htx_row(1, "6400000001"))
    sheet.append(htx_row(2, "6400000002"))
    income = HTX_HEADER.index("Thu nhập bình quân") + 1
    sheet.merge_cells(start_row=2, start_column=income, end_row=3, end_column=income)
    support = workbook.create_sheet("HoTro")
    support.append(SUPPORT_HEADER)
    amount = SUPPORT_HEADER.index("Kinh phí") + 1
    year = SUPPORT_HEADER.index("Năm") + 1
    for content in ("Máy sấy", "Kho lạnh", "Tập huấn"):
        support.append(["6400000001", "NTM", content, "Tỉnh", 300_000_000, 2023])
    support.append(["6400000001", "OCOP", "Bao bì", "Tỉnh", 50, 2023])
    for content, amount_written in (("Sân phơi", "x"), ("Nhà kho", "x"), ("Lò sấy", 0), ("Kho", 0)):
        support.append(["6400000001", "KHAC", content, "Tỉnh", amount_written, 2023])
    support.cell(row=2, column=amount).number_format = "#,##0,,"
    support.merge_cells(start_row=2, start_column=amount, end_row=4, end_column=amount)
    support.merge_cells(start_row=2, start_column=year, end_row=5, end_column=year)
    support.merge_cells(start_row=6, start_column=amount, end_row=7, end_column=amount)
    support.merge_cells(start_row=8, start_column=amount, end_row=9, end_column=amount)
    path = tmp_path / "663_2023.xlsx"
    workbook.save(path)
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    incomes = [r["avg_income_mvnd"] for r in read.sheets["htx"].rows]
    assert incomes[0] is not None
    assert incomes == [incomes[0]] * 2  # each one's
    amounts = [r["amount_mvnd"] for r in read.sheets["hotro"].rows]
    assert amounts == [300.0, 300.0, 300.0, 50.0, None, None, 0.0, 0.0]
    found = [(f.rule, f.severity, f.sheet, f.cell, f.value) for f in read.findings]
    assert found == [
        ("money_format_scaled", "warning", "HoTro", "E2", "300"),
        ("amount_merged", "warning", "HoTro", "E2", "300 triệu đồng"),
    ]
    message = read.findings[1].message
    assert "Ô E2 của cột 'Kinh phí' được gộp qua các dòng 2–4: 3 dòng được đọc" in message
    assert "mỗi dòng với số tiền 300 triệu đồng của ô, tức 3 lần số tiền" in message
    assert "each with its amount of 300 million VND, 3 times the amount in all" in message


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Doanh thu, đồng", 1650.0),
        ("Doanh thu - đồng", 1650.0),
        ("Doanh thu: nghìn đồng", 1_650_000.0),
        ("Doanh thu [đồng]", 1650.0),
        ("Doanh thu\nĐVT: đồng", 1650.0),
        ("Doanh thu – triệu đồng", 1_650_000_000.0),
    ],
)
def test_rule_3_a_money_unit_after_a_header_without_parentheses_is_its_unit(
    tmp_path, header, expected
):
    """Rule 3 drops a trailing unit in parentheses; a money unit after a comma, a dash, a
    colon, in brackets or after `ĐVT:` is the same header's unit (rule 4), not a column
    `column_like_missing` whose figures are lost. Only a money unit or one a count column
    takes (`Số thành viên, người`): `Lợi nhuận - Lỗ` stays a header of its own."""
    path = _money_shown_book(tmp_path / "663_2023.xlsx", header, [(1_650_000_000, None)])
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    assert [r["revenue_mvnd"] for r in read.sheets["htx"].rows] == [expected]
    assert [f.rule for f in read.findings] == []
    assert split_unit("Lợi nhuận - Lỗ") == ("Lợi nhuận - Lỗ", None)
    assert split_unit("Số thành viên, người") == ("Số thành viên", "người")  # a count's unit
    assert split_unit("Xếp loại, điểm") == ("Xếp loại, điểm", None)  # a hint (helper CJ)


@pytest.mark.parametrize(
    ("notes", "expected"),
    [
        (["Đơn vị: đồng"], 1650.0),
        (["Đơn vị: nghìn đồng"], 1_650_000.0),
        (["ĐVT: đồng; người"], 1650.0),
        (["Đơn vị tính: đồng"], 1650.0),
        (["ĐVT: 1.000 đồng"], 1_650_000.0),
        (["Đơn vị: Phòng Kinh tế huyện Đắk Mil", "ĐVT: đồng"], 1650.0),  # an office first
        (["Đơn vị: Phòng Kinh tế huyện Đắk Mil"], 1_650_000_000.0),  # no unit: million
        (["ĐVT: người, đồng"], 1650.0),
        (["Biểu 01 - Đơn vị: đồng"], 1650.0),
        (["Đơn vị: đồng/người/tháng"], 1650.0),
        (["Don vi tinh: dong"], 1650.0),
        ([("Đơn vị tính:", "đồng")], 1650.0),  # the label, its value in the next cell
    ],
)
def test_rule_4_a_note_of_the_unit_above_the_table_is_the_sheet_s(tmp_path, notes, expected):
    """A note above the table names the money unit of its columns that name none (rule 4, as
    `Đơn vị tính` in ThongTin does for the file): `Đơn vị: đồng` as `Đơn vị tính: đồng` and
    `ĐVT: đồng` do, and `ĐVT: đồng; người` names đồng for the money. Before, the first two
    and the last loaded 1,650,000,000 đồng as that many million VND, in silence. A note
    naming the reporting office (`Đơn vị: Phòng Kinh tế …`) is no unit (helper CI)."""
    workbook, sheet = _htx_book(HTX_HEADER)
    sheet.insert_rows(1, amount=len(notes))
    for n, note in enumerate(notes, start=1):
        for at, text in enumerate(note if isinstance(note, tuple) else (note,)):
            sheet.cell(row=n, column=(1 if n == 1 else 12) + at).value = text
    sheet.append(htx_row(1, "6400000001", **{"Doanh thu": 1_650_000_000}))
    path = tmp_path / "663_2023.xlsx"
    workbook.save(path)
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    assert [r["revenue_mvnd"] for r in read.sheets["htx"].rows] == [expected]


def test_rule_14_the_unit_a_column_names_is_the_first_of_its_header_note_and_file(tmp_path):
    """`Doanh thu (năm 2023)` names a year, no unit: the note `Đơn vị tính: triệu đồng` above
    the table is the column's unit, and a `₫` cell is the warning, telling the clerk where
    that unit is written (helper BZ: the remark hid the note, and the cell was read in
    đồng as if the column named none)."""
    path = _money_shown_book(
        tmp_path / "663_2023.xlsx", "Doanh thu (năm 2023)", [(1_650_000_000, "#,##0 ₫")]
    )
    workbook = openpyxl.load_workbook(path)
    workbook["HTX"].insert_rows(1)
    workbook["HTX"]["A1"] = "Đơn vị tính: triệu đồng"
    workbook.save(path)
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    assert [r["revenue_mvnd"] for r in read.sheets["htx"].rows] == [1_650_000_000.0]
    [finding] = [f for f in read.findings if f.rule.startswith("money")]
    assert (finding.rule, finding.cell) == ("money_unit_format_differs", "L3")
    assert "tính bằng 'triệu đồng'" in finding.message
    assert "hãy sửa đơn vị ở dòng ghi đơn vị phía trên bảng" in finding.message
    assert "correct the unit in the unit note above the table" in finding.message


@pytest.mark.parametrize(
    ("header", "info_unit"),
    [("Doanh thu (triệu đồng)", None), ("Doanh thu", "triệu đồng")],
)
def test_rule_14_an_amount_shown_in_another_unit_than_its_column_s_is_a_warning(
    tmp_path, header, info_unit
):
    """Where the column names its unit (its header, or the file's `Đơn vị tính`), that unit
    is read, as the contract says, and a format showing another (`1.250 ₫` under `(triệu
    đồng)`: the accounting button pressed on figures in million) is a warning at its first
    cell, telling the clerk both ways to mend it: one of the two is wrong. A format showing
    the column's own unit (`tr.đ`) is no finding."""
    path = _money_shown_book(
        tmp_path / "663_2023.xlsx",
        header,
        [(1250, '#,##0 "₫"'), (1300, '#,##0 "tr.đ"'), (1400, '#,##0 "₫"'), (5, '#,##0 "tỷ"')],
    )
    if info_unit:
        workbook = openpyxl.load_workbook(path)
        workbook["ThongTin"].append(["Đơn vị tính", info_unit])
        workbook.save(path)
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    assert [r["revenue_mvnd"] for r in read.sheets["htx"].rows] == [1250.0, 1300.0, 1400.0, 5.0]
    shown = [(f.rule, f.severity, f.cell, f.value) for f in read.findings]
    assert shown == [
        ("money_unit_format_differs", "warning", "L2", "1250 ₫"),
        ("money_unit_format_differs", "warning", "L5", "5 tỷ"),
    ]
    message = read.findings[0].message
    assert f"Cột '{header}' tính bằng 'triệu đồng', nhưng 2 ô (từ ô L2)" in message
    place = "ở tiêu đề cột" if info_unit is None else "ở mục 'Đơn vị tính' của trang ThongTin"
    assert f"hãy sửa đơn vị {place}" in message
    assert "remove the cells' '₫' format" in message


def test_rule_14_a_currency_cell_of_an_ods_file_in_vnd_reads_in_dong(tmp_path):
    """The same in an .ods file: a `currency` cell in VND (`office:currency="VND"`) is an
    amount in đồng where the column names no unit; one in another currency is as it is."""
    import zipfile

    from test_feedback import write_ods

    rows = [
        htx_row(1, "6400000001", **{"Doanh thu": 1_650_000_000}),
        htx_row(2, "6400000002", **{"Doanh thu": 1250}),
    ]
    plain = write_ods(tmp_path / "plain.ods", {"ThongTin": info_rows(), "HTX": [HTX_HEADER, *rows]})
    with zipfile.ZipFile(plain) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    content = parts["content.xml"].decode()
    for value, currency in (("1650000000", "VND"), ("1250", "USD")):
        number = (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p>"
        )
        assert content.count(number) == 1
        content = content.replace(
            number,
            f'<table:table-cell office:value-type="currency" office:currency="{currency}" '
            f'office:value="{value}"><text:p>{value} {currency}</text:p>',
        )
    parts["content.xml"] = content.encode()
    path = tmp_path / "663_2023.ods"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    assert [r["revenue_mvnd"] for r in read.sheets["htx"].rows] == [1650.0, 1250.0]
    assert [(f.rule, f.cell) for f in read.findings] == [("money_unit_shown", "L2")]


def test_rule_5_a_percentage_cell_of_an_ods_file_reads_as_written(tmp_path):
    """The same in an .ods file (`office:value-type="percentage"`, 0.45 shown as 45%)."""
    import zipfile

    from test_feedback import write_ods

    row = htx_row(1, "6400000001", **{"Xếp loại": "Yếu", "Điểm": 0.45})
    plain = write_ods(tmp_path / "plain.ods", {"ThongTin": info_rows(), "HTX": [HTX_HEADER, row]})
    with zipfile.ZipFile(plain) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    number = '<table:table-cell office:value-type="float" office:value="0.45"><text:p>0.45</text:p>'
    shown = (
        '<table:table-cell office:value-type="percentage" office:value="0.45"><text:p>45%</text:p>'
    )
    content = parts["content.xml"].decode()
    assert content.count(number) == 1
    parts["content.xml"] = content.replace(number, shown).encode()
    path = tmp_path / "663_2023.ods"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    [typed] = read.sheets["htx"].rows
    assert typed["score"] == 45.0


def test_rule_4_the_template_s_million_under_the_accounting_button_stays_million(tmp_path):
    """The template's headers name no unit: figures in million VND, formatted by the
    accounting or currency button of a Vietnamese Excel, show `1.250 ₫`. Read in đồng, every
    one of them would be under one million VND, which no amount of a cooperative's is: the
    contract's million stands, and the warning tells the clerk the cells show another unit
    (helper BZ: they read 0.00125)."""
    accounting = '_-* #,##0 ₫_-;-* #,##0 ₫_-;_-* "-" ₫_-;_-@_-'
    path = _money_shown_book(
        tmp_path / "663_2023.xlsx", "Doanh thu", [(1250, accounting), (1300.5, accounting)]
    )
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    assert [r["revenue_mvnd"] for r in read.sheets["htx"].rows] == [1250.0, 1300.5]
    [finding] = read.findings
    assert (finding.rule, finding.severity, finding.cell) == (
        "money_unit_format_differs",
        "warning",
        "L2",
    )
    assert finding.message.startswith(
        "Cột 'Doanh thu' không ghi đơn vị nên được tính bằng triệu đồng, đơn vị của mẫu, "
        "nhưng 2 ô (từ ô L2) hiển thị số tiền bằng '₫'"
    )
    assert "write the unit in the column's header (for example 'Doanh thu (đồng)')" in (
        finding.message
    )


def test_rule_4_a_file_in_dong_is_in_dong_in_every_column_and_sheet(tmp_path):
    """Whether the cells a format shows in đồng are in đồng is the file's: its revenue in
    millions of đồng says so for a small profit beside it and a small support line of
    another sheet (helper CD: each column decided alone, `850.000 ₫` of profit and `800.000
    ₫` of support were read as 850,000 and 800,000 million VND)."""
    dong = "#,##0 ₫"
    path = _money_shown_book(tmp_path / "663_2023.xlsx", "Doanh thu", [(1_650_000_000, dong)])
    workbook = openpyxl.load_workbook(path)
    profit = HTX_HEADER.index("Lợi nhuận trước thuế") + 1
    workbook["HTX"].cell(row=2, column=profit).value = 850_000
    workbook["HTX"].cell(row=2, column=profit).number_format = dong
    support = workbook.create_sheet("HoTro")
    support.append(SUPPORT_HEADER)
    support.append(["6400000001", "NTM", "Tập huấn", "Tỉnh", 800_000, 2023])
    support.cell(row=2, column=SUPPORT_HEADER.index("Kinh phí") + 1).number_format = dong
    workbook.save(path)
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    [row] = read.sheets["htx"].rows
    assert (row["revenue_mvnd"], row["profit_before_tax_mvnd"]) == (1650.0, 0.85)
    assert read.sheets["hotro"].rows[0]["amount_mvnd"] == 0.8
    assert {(f.rule, f.sheet, f.cell) for f in read.findings} == {
        ("money_unit_shown", "HTX", "L2"),
        ("money_unit_shown", "HTX", "M2"),
        ("money_unit_shown", "HoTro", "E2"),
    }


def test_rule_4_an_income_in_dong_speaks_for_its_own_column_only(tmp_path):
    """An income per person typed in đồng (`54.000.000 ₫`) beside amounts in million under
    the accounting button (`500 ₫`, `1.250 ₫`) is in đồng, and says nothing of them: they
    keep the template's million (helper CE: the whole file was then read in đồng, capital
    500 đồng). An amount in đồng under a header naming đồng (`Doanh thu (đồng)`) says the
    file is in đồng for a support line shown `800.000 ₫` under a header naming none."""
    accounting = '_-* #,##0 ₫_-;-* #,##0 ₫_-;_-* "-" ₫_-;_-@_-'
    path = _money_shown_book(tmp_path / "663_2023.xlsx", "Doanh thu", [(1250, accounting)])
    workbook = openpyxl.load_workbook(path)
    income = HTX_HEADER.index("Thu nhập bình quân") + 1
    workbook["HTX"].cell(row=2, column=income).value = 54_000_000
    workbook["HTX"].cell(row=2, column=income).number_format = accounting
    workbook.save(path)
    read = read_workbook(path)
    [row] = read.sheets["htx"].rows
    assert (row["revenue_mvnd"], row["avg_income_mvnd"]) == (1250.0, 54.0)
    assert {(f.rule, f.cell) for f in read.findings} == {
        ("money_unit_format_differs", "L2"),
        ("money_unit_shown", "N2"),
    }

    dong = "#,##0 ₫"
    path = _money_shown_book(
        tmp_path / "664_2023.xlsx", "Doanh thu (đồng)", [(1_650_000_000, dong)]
    )
    workbook = openpyxl.load_workbook(path)
    support = workbook.create_sheet("HoTro")
    support.append(SUPPORT_HEADER)
    support.append(["6400000001", "NTM", "Tập huấn", "Tỉnh", 800_000, 2023])
    support.cell(row=2, column=SUPPORT_HEADER.index("Kinh phí") + 1).number_format = dong
    workbook.save(path)
    read = read_workbook(path)
    assert read.sheets["htx"].rows[0]["revenue_mvnd"] == 1650.0
    assert read.sheets["hotro"].rows[0]["amount_mvnd"] == 0.8
    assert [(f.rule, f.sheet, f.cell) for f in read.findings] == [
        ("money_unit_shown", "HoTro", "E2")
    ]


@pytest.mark.parametrize("raw", ["500 lít", "20 m3", "20 m³", "15 khối", "30 con"])
def test_rule_14_a_volume_or_head_in_tonnes_or_money_is_a_unit_mismatch(raw):
    """Litres, cubic metres and head fit no column of the template: the cell's error names
    its unit (`unit_mismatch`), as `tấn` in money does, rather than an unreadable figure."""
    with pytest.raises(cells.UnitMismatch):
        cells.parse_quantity(raw, ("tấn",))
    with pytest.raises(cells.UnitMismatch):
        cells.parse_money(raw, 1.0)
