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


def test_rule_4_per_person_unit_is_still_a_money_unit(tmp_path):
    info = [*info_rows(), ["Đơn vị tính", "đồng"]]
    rows = [
        ["Mã số HTX", "Tên HTX", "Thu nhập bình quân (triệu đồng/người/năm)", "Doanh thu"],
        ["6400000001", "HTX A", 72, 1_650_000_000],
    ]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"ThongTin": info, "HTX": rows}))
    row = read.sheets["htx"].rows[0]
    assert (row["avg_income_mvnd"], row["revenue_mvnd"]) == (72.0, 1650.0)
