"""Every drift rule and every rejection cause of the workbook spec, on the fixture corpus.

Each drift file of `tests/corpus/` describes the same three cooperatives (`TRUTH`) with
one kind of mess; each must read exactly as `TRUTH`. Each rejection file carries one cause
and must be rejected with a reason in Vietnamese and English.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import xlsxwriter
from conftest import HTX_HEADER, htx_row, info_rows, write_xlsx
from corpus.make_corpus import KEYS, TRUTH

from etl.contract.reference import load_reference
from etl.read.identify import Identity, identify
from etl.read.reader import read_workbook

CORPUS = Path(__file__).parent / "corpus"


def read_truth(name: str) -> list[dict]:
    read = read_workbook(CORPUS / name)
    assert read.rejection is None, read.rejection
    rows = read.sheets["htx"].rows
    return [{k: row.get(k) for k in KEYS} for row in rows]


def assert_truth(name: str) -> None:
    got = read_truth(name)
    assert len(got) == len(TRUTH)
    for row, truth in zip(got, TRUTH, strict=True):
        for key in KEYS:
            expected = truth[key]
            if isinstance(expected, float):
                assert row[key] == pytest.approx(expected, abs=1e-6), (name, key)
            else:
                assert row[key] == expected, (name, key, row[key])


def test_rule_1_title_and_signature_blocks_are_not_data():
    assert_truth("d01_title_signature.xlsx")
    read = read_workbook(CORPUS / "d01_title_signature.xlsx")
    assert [r["excel_row"] for r in read.sheets["htx"].rows] == [6, 7, 8]


def test_rule_2_two_row_header_with_merged_group_and_column_numbers():
    assert_truth("d02_two_row_header.xlsx")
    read = read_workbook(CORPUS / "d02_two_row_header.xlsx")
    assert [r["excel_row"] for r in read.sheets["htx"].rows] == [4, 5, 6]


def test_rule_3_header_matching_ignores_case_accents_spaces_breaks_units_and_order():
    assert_truth("d03_header_spelling.xlsx")
    read = read_workbook(CORPUS / "d03_header_spelling.xlsx")
    extra = [(f.rule, f.severity, f.column_name) for f in read.findings]
    assert extra == [("column_unknown", "info", "Số điện thoại")]


def test_rule_4_money_units_scale_to_million_vnd_by_header_and_by_file():
    assert_truth("d04_money_units.xlsx")


def test_rule_5_numbers_as_text_vietnamese_first():
    assert_truth("d05_numbers_as_text.xlsx")
    rows = read_truth("d05_numbers_as_text.xlsx")
    assert rows[0]["members"] == 1250  # written "1.250": one thousand two hundred and fifty


def test_rule_6_blank_dash_and_x_are_null_never_zero():
    assert_truth("d06_blanks.xlsx")
    rows = read_truth("d06_blanks.xlsx")
    assert rows[1]["workers"] is None
    assert rows[1]["total_assets_mvnd"] is None
    assert rows[2]["avg_income_mvnd"] is None
    assert rows[2]["revenue_mvnd"] == 0.0  # a real 0 stays 0


def test_rule_7_dates_in_every_form_are_day_first():
    assert_truth("d07_dates.xlsx")


def test_rule_8_text_is_nfc_trimmed_and_codes_are_normalised():
    assert_truth("d08_text_and_codes.xlsx")


def test_rule_9_total_subtotal_and_empty_rows_are_skipped():
    assert_truth("d09_total_rows.xlsx")


def test_rule_10_yes_no_spellings():
    assert_truth("d10_yes_no.xlsx")


@pytest.mark.parametrize("name", ["f_template.xls", "f_template.ods"])
def test_xls_and_ods_saved_by_libreoffice_read_like_xlsx(name):
    assert_truth(name)


def test_file_name_identifies_unit_and_year_without_thongtin():
    name = "dak_mil_2023_khong_thong_tin.xlsx"
    read = read_workbook(CORPUS / name)
    assert read.rejection is None
    assert read.info == {}
    found = identify(read.info, name, load_reference())
    assert isinstance(found, Identity)
    assert (found.unit.code, found.report_year, found.source) == ("663", 2023, "file name")


@pytest.mark.parametrize(
    ("name", "rule", "vietnamese"),
    [
        ("r_empty.xlsx", "file_empty", "Tệp rỗng"),
        ("r_corrupt.xlsx", "file_unreadable", "Không mở được tệp"),
        ("r_encrypted.xlsx", "file_encrypted", "đặt mật khẩu"),
        ("r_not_a_spreadsheet.xlsx", "not_a_spreadsheet", "không phải là bảng tính"),
        ("r_no_htx_sheet.xlsx", "sheet_missing", "Thiếu trang tính bắt buộc 'HTX'"),
        ("r_missing_column.xlsx", "column_missing", "thiếu các cột bắt buộc: Tên HTX"),
    ],
)
def test_rejection_cause_unreadable_or_incomplete_file(name, rule, vietnamese):
    read = read_workbook(CORPUS / name)
    assert read.rejection is not None
    assert read.rejection.rule == rule
    vi, en = read.rejection.message.split(" / ", 1)
    assert vietnamese in vi
    assert en.strip()  # English second


@pytest.mark.parametrize(
    ("name", "rule"),
    [("r_unknown_unit.xlsx", "unit_unknown"), ("r_year_out_of_range.xlsx", "year_invalid")],
)
def test_rejection_cause_unit_or_year_not_identified(name, rule):
    read = read_workbook(CORPUS / name)
    assert read.rejection is None
    assert identify(read.info, name, load_reference()).rule == rule


def test_rejection_cause_rule_errors_is_a_validation_matter():
    read = read_workbook(CORPUS / "r_rule_errors.xlsx")
    assert read.rejection is None  # the reader reads it; the GX suites reject it
    codes = [r["coop_code"] for r in read.sheets["htx"].rows]
    assert codes[0] == codes[1]


def _inflate(path: Path, rows: list[list], far_value: str | None) -> Path:
    """The same sheet, with a cell far down at the last Excel row (a space, or formatting)."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("HTX")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()))
            elif value is not None:
                sheet.write(r, c, value)
    last = 1_048_575
    if far_value is None:
        sheet.write_blank(last, 17, None, workbook.add_format({"bold": True}))
    else:
        sheet.write_string(last, 17, far_value)
    workbook.close()
    return path


@pytest.mark.parametrize("far_value", [None, " "])
def test_inflated_used_range_reads_only_the_real_rows(tmp_path, far_value):
    rows = [HTX_HEADER] + [htx_row(i, f"64000000{i:02d}") for i in range(1, 31)]
    clean = read_workbook(write_xlsx(tmp_path / "clean.xlsx", {"HTX": rows}))
    inflated = read_workbook(_inflate(tmp_path / "inflated.xlsx", rows, far_value))
    assert inflated.rejection is None
    assert inflated.sheets["htx"].rows == clean.sheets["htx"].rows
    # The memory bound, by rows taken from the file rather than by time.
    assert inflated.rows_scanned <= 2 * clean.rows_scanned


def test_thongtin_sheet_is_bounded_too(tmp_path):
    path = tmp_path / "f.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    info = workbook.add_worksheet("ThongTin")
    for r, row in enumerate(info_rows()):
        for c, value in enumerate(row):
            if not isinstance(value, dt.date):
                info.write(r, c, value)
    info.write_string(1_048_575, 5, " ")
    htx = workbook.add_worksheet("HTX")
    htx.write_row(0, 0, HTX_HEADER)
    htx.write_row(1, 0, [1, "6400000001", "HTX A"])
    workbook.close()
    read = read_workbook(path)
    assert read.info["unit_code"] == "663"
    assert read.rows_scanned < 20


def test_rule_4_unit_on_a_merged_group_header_covers_its_sub_columns(tmp_path):
    top = ["Mã số HTX", "Tên HTX", "Kết quả SXKD (đồng)", None]
    bottom = [None, None, "Doanh thu", "Lợi nhuận trước thuế"]
    rows = [top, bottom, ["6400000001", "HTX A", 1_650_000_000, -12_500_000]]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": rows}))
    row = read.sheets["htx"].rows[0]
    assert (row["revenue_mvnd"], row["profit_before_tax_mvnd"]) == (1650.0, -12.5)


@pytest.mark.parametrize("header", ["Lãi trước thuế", "LN trước thuế (triệu đồng)"])
def test_rule_3_profit_before_tax_in_other_words_is_the_profit_column(tmp_path, header):
    rows = [["Mã số HTX", "Tên HTX", header], ["6400000001", "HTX A", "-2,5"]]
    sheets = {"ThongTin": info_rows(), "HTX": rows}
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets))
    assert read.sheets["htx"].rows[0]["profit_before_tax_mvnd"] == -2.5
    assert [f.rule for f in read.findings] == []


@pytest.mark.parametrize("header", ["Lợi nhuận", "Lợi nhuận 2023", "Lợi nhuận năm 2023"])
def test_rule_3_profit_alone_is_a_warning_naming_profit_before_tax(tmp_path, header):
    """`Lợi nhuận` alone may be after tax: not read, and a warning names the column the
    header lacks, with the report year too (helper BR: `Lợi nhuận 2023` was information
    only, no alert, and the cooperative failed the profit criterion unheard)."""
    rows = [["Mã số HTX", "Tên HTX", header], ["6400000001", "HTX A", "-2,5"]]
    sheets = {"ThongTin": info_rows(), "HTX": rows}
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets))
    assert "profit_before_tax_mvnd" not in read.sheets["htx"].rows[0]
    [warning] = [f for f in read.findings if f.sheet == "HTX"]
    assert (warning.rule, warning.severity, warning.column_name) == (
        "column_like_missing",
        "warning",
        header,
    )
    assert "'Lợi nhuận trước thuế'" in warning.message


@pytest.mark.parametrize("merged", [True, False])
@pytest.mark.parametrize("unit", [None, "(triệu đồng)"])
@pytest.mark.parametrize("order", [("Sau thuế", "Trước thuế"), ("Trước thuế", "Sau thuế")])
def test_rule_2_profit_over_before_and_after_tax_reads_the_before_tax_column(
    tmp_path, order, unit, merged
):
    """`Lợi nhuận` over `Sau thuế | Trước thuế`, merged or typed in its first cell: the
    group's name and a sub-header together name the column (rule 2), in either order, also
    beside a unit under another column (helper BV); after tax is another figure."""
    figures = {"Trước thuế": 14, "Sau thuế": 11}
    top = ["Mã số HTX", "Tên HTX", "Vốn điều lệ", "Lợi nhuận (triệu đồng)", None]
    under = [None, None, unit, *order]
    rows = [top, under, ["6400000001", "HTX A", 1500, *(figures[o] for o in order)]]
    path = write_xlsx(
        tmp_path / "f.xlsx",
        {"HTX": rows},
        then=(lambda sheets: sheets["HTX"].merge_range("D1:E1", top[3])) if merged else None,
    )
    read = read_workbook(path)
    assert read.sheets["htx"].rows[0]["profit_before_tax_mvnd"] == 14.0
    assert "column_split" not in {f.rule for f in read.findings}


def test_rule_2_profit_split_beside_a_named_column_split_of_its_own(tmp_path):
    """`Lợi nhuận` over `Trước thuế | Sau thuế` beside `Xếp loại` merged over `Loại |
    Điểm`: a column the header row names may be a group of its own, and what stands under
    it is sub-headers, not a data row (helper CM: the profit was not read)."""
    top = ["Mã số HTX", "Tên HTX", "Lợi nhuận", None, "Xếp loại", None]
    under = [None, None, "Trước thuế", "Sau thuế", "Loại", "Điểm"]
    rows = [top, under, ["6400000001", "HTX A", 14, 11, "Khá", 70]]

    def merge(sheets):
        sheets["HTX"].merge_range("C1:D1", top[2])
        sheets["HTX"].merge_range("E1:F1", top[4])

    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": rows}, then=merge))
    [row] = read.sheets["htx"].rows
    assert (row["profit_before_tax_mvnd"], row["rating"], row["score"]) == (14.0, "Khá", 70.0)
    assert [f.rule for f in read.findings if f.severity != "info"] == []


def test_rule_2_workers_over_regular_and_seasonal_reads_the_regular_column(tmp_path):
    """`Số lao động` merged over `Thời vụ | Thường xuyên`: the sub-header that, after the
    group's name, names the column (`Số lao động thường xuyên`) is read, not the leftmost,
    and no warning says the sub-columns do not tell."""
    top = ["Mã số HTX", "Tên HTX", "Số lao động", None]
    rows = [top, [None, None, "Thời vụ", "Thường xuyên"], ["6400000001", "HTX A", 30, 12]]
    path = write_xlsx(
        tmp_path / "f.xlsx",
        {"HTX": rows},
        then=lambda sheets: sheets["HTX"].merge_range("C1:D1", top[2]),
    )
    read = read_workbook(path)
    assert read.sheets["htx"].rows[0]["workers"] == 12
    assert "column_split" not in {f.rule for f in read.findings}


def test_rule_2_a_data_row_under_a_one_row_header_is_never_a_sub_header(tmp_path):
    """`Liên kết` (unmerged) over a first cooperative whose cell says `Tiêu thụ`: together
    they name `Liên kết tiêu thụ`, but the row is data, not sub-headers, and both
    cooperatives are read (the first was taken for the header and lost: helper BT)."""
    rows = [
        ["STT", "Mã số HTX", "Tên HTX", "Doanh thu", "Liên kết"],
        [1, "6400000001", "HTX A", 100, "Tiêu thụ"],
        [2, "6400000002", "HTX B", 200, "Không"],
    ]
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", {"HTX": rows}))
    assert [r["coop_code"] for r in read.sheets["htx"].rows] == ["6400000001", "6400000002"]
    assert [(f.rule, f.column_name) for f in read.findings if f.severity == "warning"] == [
        ("column_like_missing", "Liên kết")
    ]


def test_rule_2_a_sub_header_split_again_by_year_is_not_read_as_this_year_s(tmp_path):
    """Three header rows: `Lợi nhuận` over `Trước thuế | Sau thuế`, each over `Năm 2022 |
    Năm 2023`. `Trước thuế` spans two years: its left one is not this report's profit
    (it was read, 2022's figure as 2023's: helper BT); not read, and a warning says so."""
    top = ["Mã số HTX", "Tên HTX", "Lợi nhuận (triệu đồng)", None, None, None]
    middle = [None, None, "Trước thuế", None, "Sau thuế", None]
    bottom = [None, None, "Năm 2022", "Năm 2023", "Năm 2022", "Năm 2023"]
    rows = [top, middle, bottom, ["6400000001", "HTX A", 5, 14, 4, 11]]

    def merge(sheets):
        sheets["HTX"].merge_range("C1:F1", top[2])
        sheets["HTX"].merge_range("C2:D2", middle[2])
        sheets["HTX"].merge_range("E2:F2", middle[4])

    sheets = {"ThongTin": info_rows(), "HTX": rows}
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets, then=merge))
    assert "profit_before_tax_mvnd" not in read.sheets["htx"].rows[0]
    assert "column_like_missing" in {f.rule for f in read.findings}


def test_rule_3_profit_after_tax_alone_is_no_profit_before_tax(tmp_path):
    rows = [["Mã số HTX", "Tên HTX", "Lợi nhuận sau thuế"], ["6400000001", "HTX A", 11]]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": rows}))
    assert "profit_before_tax_mvnd" not in read.sheets["htx"].rows[0]
    assert [(f.rule, f.column_name) for f in read.findings] == [
        ("column_unknown", "Lợi nhuận sau thuế")
    ]


# Đồng with its country, as clerks write it: in a header's parentheses and as the file's
# `Đơn vị tính` (they were read as no unit: đồng figures loaded as million VND, helper BS).
DONG_SPELLED = ["đồng Việt Nam", "Đồng VN", "VN đồng", "tiền đồng", "Việt Nam đồng"]


@pytest.mark.parametrize("unit", [*DONG_SPELLED, "ĐVT: đồng Việt Nam", "VNĐ"])
def test_rule_4_dong_named_with_its_country_in_a_header_is_dong(tmp_path, unit):
    rows = [
        ["Mã số HTX", "Tên HTX", f"Doanh thu ({unit})", "Vốn điều lệ"],
        ["6400000001", "HTX A", 800_000_000, 1_550],
    ]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": rows}))
    row = read.sheets["htx"].rows[0]
    assert (row["revenue_mvnd"], row["charter_capital_mvnd"]) == (800.0, 1550.0)


@pytest.mark.parametrize("unit", [*DONG_SPELLED, "Đồng (VNĐ)", "VNĐ (đồng)", "Tiền: đồng"])
def test_rule_4_dong_named_with_its_country_as_the_file_s_unit_is_dong(tmp_path, unit):
    info = [*info_rows(), ["Đơn vị tính", unit]]
    rows = [["Mã số HTX", "Tên HTX", "Doanh thu"], ["6400000001", "HTX A", 800_000_000]]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"ThongTin": info, "HTX": rows}))
    assert read.sheets["htx"].rows[0]["revenue_mvnd"] == 800.0


def test_rule_4_per_person_unit_is_still_a_money_unit(tmp_path):
    info = [*info_rows(), ["Đơn vị tính", "đồng"]]
    rows = [
        ["Mã số HTX", "Tên HTX", "Thu nhập bình quân (triệu đồng/người/năm)", "Doanh thu"],
        ["6400000001", "HTX A", 72, 1_650_000_000],
    ]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"ThongTin": info, "HTX": rows}))
    row = read.sheets["htx"].rows[0]
    assert (row["avg_income_mvnd"], row["revenue_mvnd"]) == (72.0, 1650.0)
