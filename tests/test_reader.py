"""The reader: header detection, drift absorbed, Excel row provenance, rejection reasons."""

from __future__ import annotations

import datetime as dt
import shutil
import unicodedata
from pathlib import Path

import pytest
from conftest import (
    HTX_HEADER,
    LINK_HEADER,
    OCOP_HEADER,
    SUPPORT_HEADER,
    htx_row,
    info_rows,
    write_xlsx,
)

from etl.contract.reference import load_reference
from etl.read.identify import Identity, identify, identify_read
from etl.read.reader import read_workbook, unparsed


def test_title_block_header_and_signature_are_found_and_rows_keep_excel_numbers(tmp_path):
    rows = [
        ["UBND HUYỆN ĐẮK MIL"],
        ["BÁO CÁO TÌNH HÌNH HOẠT ĐỘNG HỢP TÁC XÃ NĂM 2023"],
        [],
        HTX_HEADER,
        [f"({i})" for i in range(1, len(HTX_HEADER) + 1)],
        htx_row(1, "6400000001"),
        htx_row(2, "6400000002"),
        [],
        [None, "Người lập biểu", None, None, None, None, None, None, None, None, "TRƯỞNG PHÒNG"],
        [None, "Nguyễn Văn A"],
    ]
    path = write_xlsx(tmp_path / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": rows})
    read = read_workbook(path)
    assert read.rejection is None
    htx = read.sheets["htx"]
    assert [r["coop_code"] for r in htx.rows] == ["6400000001", "6400000002"]
    assert [r["excel_row"] for r in htx.rows] == [6, 7]
    assert htx.rows_skipped == 3


def test_total_row_is_not_a_cooperative(tmp_path):
    total = [None, None, "Tổng cộng", None, None, None, None, 80, 24, 3000, 5000, 3300]
    rows = [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "6400000002"), total]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": rows}))
    assert len(read.sheets["htx"].rows) == 2


def test_two_row_header_with_merged_group_cell(tmp_path):
    top = list(HTX_HEADER)
    bottom = [None] * len(HTX_HEADER)
    revenue, profit = HTX_HEADER.index("Doanh thu"), HTX_HEADER.index("Lợi nhuận trước thuế")
    top[revenue], top[profit] = "Kết quả SXKD", None
    bottom[revenue], bottom[profit] = "Doanh thu", "Lợi nhuận trước thuế"
    rows = [top, bottom, htx_row(1, "6400000001", **{"Doanh thu": 999, "Lợi nhuận trước thuế": 9})]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": rows}))
    row = read.sheets["htx"].rows[0]
    assert (row["revenue_mvnd"], row["profit_before_tax_mvnd"], row["excel_row"]) == (999, 9, 3)


def test_unaccented_upper_case_headers_in_any_order_with_units(tmp_path):
    header = ["DOANH THU\n(dong)", "MA SO HTX", "TEN HOP TAC XA", "Cột lạ"]
    rows = [header, [1_650_000_000, "6400 000 001", "HTX A", "?"]]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": rows}))
    assert read.rejection is None
    row = read.sheets["htx"].rows[0]
    assert row["coop_code"] == "6400000001"
    assert row["revenue_mvnd"] == 1650.0  # đồng scaled to million VND
    assert [f.column_name for f in read.findings if f.rule == "column_unknown"] == ["Cột lạ"]


def test_usual_header_variants_name_their_columns(tmp_path):
    """A column number after the unit (`Doanh thu (đồng) (12)`) is no unit; the commune
    column may say `Xã/Phường/Thị trấn`, the workers' `Số lao động thường xuyên`."""
    header = ["Mã số HTX", "Tên HTX", "Xã/Phường/Thị trấn", "Số lao động thường xuyên",
              "Doanh thu (đồng) (12)", "Số thành viên (8)"]  # fmt: skip
    rows = [header, ["6400000001", "HTX A", "Đắk Sắk", 12, 1_650_000_000, 40]]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": rows}))
    assert read.rejection is None
    row = read.sheets["htx"].rows[0]
    assert (row["commune_name"], row["workers"], row["revenue_mvnd"], row["members"]) == (
        "Đắk Sắk", 12, 1650.0, 40,
    )  # fmt: skip
    assert [f.column_name for f in read.findings if f.rule == "column_unknown"] == []


@pytest.mark.parametrize(
    ("column", "written"),
    [
        ("Ngày thành lập", "Ngày, tháng, năm thành lập"),
        ("Ngày thành lập", "Ngày tháng năm thành lập"),
        ("Ngày thành lập", "Thời gian thành lập"),
        ("Ngày thành lập", "Ngày thành lập HTX"),
        ("Số thành viên", "Số TV"),
        ("Số thành viên", "Số thành viên HTX"),
        ("Số lao động", "Số LĐ"),
        ("Số lao động", "Số LĐ thường xuyên"),
    ],
)
def test_report_forms_wordings_of_founding_members_and_workers_name_their_columns(
    tmp_path, column, written
):
    """Before, each was an unknown column (an `info` finding no alert carries): the
    founding dates, members or workers of every cooperative were lost in silence."""
    header = [written if h == column else h for h in HTX_HEADER]
    read = read_workbook(
        write_xlsx(tmp_path / "f.xlsx", {"HTX": [header, htx_row(1, "6400000001")]})
    )
    row = read.sheets["htx"].rows[0]
    assert (row["founded_on"], row["members"], row["workers"]) == (dt.date(2015, 3, 1), 40, 12)
    assert [f.rule for f in read.findings] == []


def test_a_founding_year_column_reads_each_year_as_that_year(tmp_path):
    header = ["Năm thành lập" if h == "Ngày thành lập" else h for h in HTX_HEADER]
    rows = [header, htx_row(1, "6400000001", **{"Ngày thành lập": 2015})]
    row = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": rows})).sheets["htx"].rows[0]
    assert (row["founded_on"], row["founded_on_precision"]) == (dt.date(2015, 1, 1), "year")


def test_a_header_naming_the_report_year_names_its_column(tmp_path):
    """Forms write the year a figure counts: `Doanh thu năm 2023`, `Lợi nhuận trước thuế
    2023`, `Số thành viên tính đến ngày 31/12/2023`. In a report of 2023 those are the
    columns; `Doanh thu năm 2022` beside them is the year before, for comparison, and is
    left unknown, not read as revenue."""
    header = ["Mã số HTX", "Tên HTX", "Doanh thu năm 2022 (triệu đồng)",
              "Doanh thu năm 2023 (triệu đồng)", "Lợi nhuận trước thuế 2023 (triệu đồng)",
              "Số thành viên tính đến ngày 31/12/2023"]  # fmt: skip
    rows = [header, ["6400000001", "HTX A", 1200, 1650, 120, 40]]
    path = write_xlsx(tmp_path / "f.xlsx", {"ThongTin": info_rows(year=2023), "HTX": rows})
    read = read_workbook(path)
    assert read.rejection is None
    row = read.sheets["htx"].rows[0]
    assert (row["revenue_mvnd"], row["profit_before_tax_mvnd"], row["members"]) == (
        1650.0, 120.0, 40,
    )  # fmt: skip
    assert [f.column_name for f in read.findings if f.rule == "column_unknown"] == [
        "Doanh thu năm 2022 (triệu đồng)"
    ]
    # In a report of 2024 the same headers name no year of its own: no column is guessed.
    path = write_xlsx(tmp_path / "g.xlsx", {"ThongTin": info_rows(year=2024), "HTX": rows})
    row = read_workbook(path).sheets["htx"].rows[0]
    assert "revenue_mvnd" not in row
    assert "members" not in row


def test_a_year_in_a_header_s_parentheses_is_the_year_its_figures_count(tmp_path):
    """`Doanh thu (năm 2022)` beside `Doanh thu (năm 2023)` is the comparison column, as
    `Doanh thu năm 2022` is: the parentheses hold no unit, but a year. Before, both read as
    `Doanh thu` and the first, 2022's, was loaded as the revenue of 2023. In a report of
    2024, `Doanh thu (năm 2023)` is last year's: not read, and the clerk is warned."""
    header = ["Mã số HTX", "Tên HTX", "Doanh thu (năm 2022)", "Doanh thu (năm 2023)"]
    rows = [header, ["6400000001", "HTX A", 1200, 1650]]
    path = write_xlsx(tmp_path / "f.xlsx", {"ThongTin": info_rows(year=2023), "HTX": rows})
    read = read_workbook(path)
    assert read.sheets["htx"].rows[0]["revenue_mvnd"] == 1650.0
    assert [f.column_name for f in read.findings if f.rule == "column_unknown"] == [
        "Doanh thu (năm 2022)"
    ]
    rows = [[*header[:2], "Doanh thu (năm 2023)"], ["6400000001", "HTX A", 1650]]
    path = write_xlsx(tmp_path / "g.xlsx", {"ThongTin": info_rows(year=2024), "HTX": rows})
    read = read_workbook(path)
    assert "revenue_mvnd" not in read.sheets["htx"].rows[0]
    assert [(f.rule, f.severity) for f in read.findings if f.sheet == "HTX"] == [
        ("column_like_missing", "warning")
    ]


def test_a_header_with_its_unit_before_the_year_names_its_column_in_that_unit(tmp_path):
    """`Doanh thu (đồng) năm 2023`: the unit's parentheses come before the year. In a report
    of 2023 that is the revenue, read in đồng (1,650,000,000 đồng = 1,650 triệu); 2022's
    beside it is the comparison column. Before, neither was read: the revenue and the
    members were empty, with only a warning."""
    header = ["Mã số HTX", "Tên HTX", "Doanh thu (đồng) năm 2022",
              "Doanh thu (đồng) năm 2023", "Số thành viên (người) tính đến 31/12/2023"]  # fmt: skip
    rows = [header, ["6400000001", "HTX A", 1_200_000_000, 1_650_000_000, 40]]
    path = write_xlsx(tmp_path / "f.xlsx", {"ThongTin": info_rows(year=2023), "HTX": rows})
    read = read_workbook(path)
    assert read.rejection is None
    row = read.sheets["htx"].rows[0]
    assert (row["revenue_mvnd"], row["members"]) == (1650.0, 40)
    assert [(f.rule, f.column_name) for f in read.findings if f.sheet == "HTX"] == [
        ("column_unknown", "Doanh thu (đồng) năm 2022")
    ]


def test_a_column_written_twice_reads_the_one_naming_the_year_and_warns_of_the_other(tmp_path):
    """`Doanh thu` beside `Doanh thu năm 2023` in a report of 2023: the column naming the
    year is read, whichever comes first, and the other is not. Where it holds another
    figure, that figure would be lost: a warning names both columns and its rows. The same
    header twice reads the first. Before, the leftmost was read and the other was an info
    line, whatever it held."""
    rows = [["Mã số HTX", "Tên HTX", "Doanh thu", "Doanh thu năm 2023"],
            ["6400000001", "HTX A", 1200, 1650], ["6400000002", "HTX B", 90, 90]]  # fmt: skip
    path = write_xlsx(tmp_path / "f.xlsx", {"ThongTin": info_rows(year=2023), "HTX": rows})
    read = read_workbook(path)
    assert [row["revenue_mvnd"] for row in read.sheets["htx"].rows] == [1650.0, 90.0]
    [finding] = read.findings
    assert (finding.rule, finding.severity, finding.cell) == ("column_repeated", "warning", "C2")
    assert finding.excel_row == 2  # the row of the figure not read, as `Loi` shows it
    assert finding.message.startswith(
        "Cột C 'Doanh thu' trùng với cột D 'Doanh thu năm 2023' ('Doanh thu' của mẫu): chỉ "
        "cột D được đọc. Cột C ghi số liệu khác ở dòng 2, không được đọc."
    )
    same = [[*rows[0][:2], "Doanh thu", "DOANH THU"], rows[2]]
    path = write_xlsx(tmp_path / "g.xlsx", {"ThongTin": info_rows(year=2023), "HTX": same})
    read = read_workbook(path)
    assert read.sheets["htx"].rows[0]["revenue_mvnd"] == 90.0
    assert [(f.rule, f.severity, f.column_name) for f in read.findings] == [
        ("column_repeated", "info", "DOANH THU")
    ]


def _book(
    path: Path, rows: list[list], merges=(), year: int = 2023, extra=None, hidden_rows=()
) -> Path:
    """An HTX sheet of `rows` with `merges` and `hidden_rows` (Excel rows), a ThongTin of
    `year`, and `extra` sheets (name -> (rows, hidden)), written by openpyxl."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "HTX"
    for row in rows:
        sheet.append(row)
    for cells in merges:
        sheet.merge_cells(cells)
    for excel_row in hidden_rows:
        sheet.row_dimensions[excel_row].hidden = True
    info = book.create_sheet("ThongTin")
    for row in info_rows(year=year):
        info.append(row)
    for name, (other, hidden) in (extra or {}).items():
        added = book.create_sheet(name)
        for row in other:
            added.append(row)
        added.sheet_state = "hidden" if hidden else "visible"
    book.save(path)
    return path


def _revenue(read) -> list:
    return [row.get("revenue_mvnd") for row in read.sheets["htx"].rows]


def _grouped(path: Path, year: int, subs: list[str], merged: bool) -> Path:
    """An HTX sheet whose `Doanh thu` is a group header over two sub-columns (C, D)."""
    rows = [
        ["Mã số HTX", "Tên HTX", "Doanh thu (triệu đồng)", None, "Số thành viên"],
        [None, None, *subs, None],
        ["6400000001", "HTX A", 1200, 1650, 12],
    ]
    merges = ("A1:A2", "B1:B2", "C1:D1", "E1:E2") if merged else ()
    return _book(path, rows, merges, year)


@pytest.mark.parametrize("merged", [True, False])
def test_a_group_header_over_years_reads_the_report_year_s_sub_column(tmp_path, merged):
    """`Doanh thu` over `Năm 2022 | Năm 2023` (merged, or over the empty cell to its right):
    in a report of 2023 the revenue is 2023's; 2022's is a comparison column. So for plan
    and result (`Kế hoạch | Thực hiện`): the result. Before, the leftmost sub-column was
    read (1,200, last year's) and the sub-headers' row was taken for a data row."""
    for subs in (["Năm 2022", "Năm 2023"], ["Kế hoạch", "Thực hiện"], ["KH 2023", "TH 2023"]):
        read = read_workbook(_grouped(tmp_path / "f.xlsx", 2023, subs, merged))
        assert read.rejection is None
        [row] = read.sheets["htx"].rows
        assert (row["revenue_mvnd"], row["members"]) == (1650.0, 12), subs
        assert [(f.rule, f.column_name) for f in read.findings] == [
            ("column_unknown", f"Doanh thu (triệu đồng) / {subs[0]}")
        ]


def test_a_group_header_whose_sub_columns_do_not_tell_is_a_warning(tmp_path):
    """`Doanh thu` over `Trồng trọt | Chăn nuôi`: which holds the year's revenue is not
    told. The leftmost is read and the clerk is warned, naming both; over `Năm 2022 | Năm
    2023` in a report of 2024, none is read. Before, the leftmost was read in silence."""
    read = read_workbook(_grouped(tmp_path / "f.xlsx", 2023, ["Trồng trọt", "Chăn nuôi"], True))
    assert read.sheets["htx"].rows[0]["revenue_mvnd"] == 1200.0
    [finding] = read.findings
    assert (finding.rule, finding.severity, finding.cell) == ("column_split", "warning", "D2")
    assert finding.message.startswith(
        "Cột 'Doanh thu (triệu đồng)' được chia thành các cột con (C 'Trồng trọt', D 'Chăn "
        "nuôi') mà không rõ cột nào là số liệu năm 2023: chỉ cột C được đọc, cột D không "
        "được đọc."
    )
    read = read_workbook(_grouped(tmp_path / "g.xlsx", 2024, ["Năm 2022", "Năm 2023"], True))
    assert "revenue_mvnd" not in read.sheets["htx"].rows[0]
    assert [(f.rule, f.severity) for f in read.findings] == [("column_split", "warning")]
    assert "không cột nào được đọc" in read.findings[0].message
    # The whole beside its parts tells: `Tổng số`, with no warning.
    read = read_workbook(_grouped(tmp_path / "h.xlsx", 2023, ["Tổng số", "Trong đó: nữ"], True))
    assert read.sheets["htx"].rows[0]["revenue_mvnd"] == 1200.0
    assert [(f.rule, f.severity) for f in read.findings] == [("column_unknown", "info")]


def test_an_unknown_header_like_a_missing_column_is_a_warning(tmp_path):
    """`Doanh thu thuần` where the sheet has no `Doanh thu`: the column is not read, so the
    revenue is empty, and the clerk is warned with both names (not an info line no one
    reads). An unknown header like a column the sheet has (`Doanh thu năm 2022` beside the
    year's) or like none (`Cột lạ`) stays information."""
    header = ["Mã số HTX", "Tên HTX", "Doanh thu thuần (triệu đồng)", "Số thành viên",
              "Số thành viên năm 2022", "Cột lạ"]  # fmt: skip
    rows = [header, ["6400000001", "HTX A", 1650, 40, 38, "?"]]
    path = write_xlsx(tmp_path / "f.xlsx", {"ThongTin": info_rows(year=2023), "HTX": rows})
    read = read_workbook(path)
    assert read.rejection is None
    found = {(f.rule, f.severity, f.column_name) for f in read.findings if f.sheet == "HTX"}
    assert found == {
        ("column_like_missing", "warning", "Doanh thu thuần (triệu đồng)"),
        ("column_unknown", "info", "Số thành viên năm 2022"),
        ("column_unknown", "info", "Cột lạ"),
    }
    [warning] = [f for f in read.findings if f.rule == "column_like_missing"]
    assert warning.message.startswith("Cột 'Doanh thu thuần (triệu đồng)' không có trong mẫu")
    assert "'Doanh thu'" in warning.message
    assert warning.excel_row == 1
    assert "revenue_mvnd" not in read.sheets["htx"].rows[0]


@pytest.mark.parametrize(
    ("written", "template"),
    [
        ("Tổng doanh thu", "Doanh thu"),
        ("Tổng số thành viên", "Số thành viên"),
        ("Lao động", "Số lao động"),
        ("Tài sản (triệu đồng)", "Tổng tài sản"),
        ("Lợi nhuận", "Lợi nhuận trước thuế"),
        ("Kết quả xếp loại", "Xếp loại"),
        ("Tổng điểm", "Điểm"),
    ],
)
def test_a_header_holding_a_missing_column_s_name_or_held_by_it_is_a_warning(
    tmp_path, written, template
):
    """The template's name anywhere among an unknown header's words (`Tổng doanh thu`), or
    an unknown header of two words or more within it (`Lao động` for `Số lao động`): the
    column is not read, so its figures would be empty for the whole file with only an info
    line that raises no alert. A one-word header within a name (`Thuế`) stays information."""
    header = ["Mã số HTX", "Tên HTX", written, "Thuế"]
    rows = [header, ["6400000001", "HTX A", 1650, 5]]
    path = write_xlsx(tmp_path / "f.xlsx", {"ThongTin": info_rows(year=2023), "HTX": rows})
    read = read_workbook(path)
    assert read.rejection is None
    found = {(f.rule, f.severity, f.column_name) for f in read.findings if f.sheet == "HTX"}
    assert found == {
        ("column_like_missing", "warning", written),
        ("column_unknown", "info", "Thuế"),
    }
    [warning] = [f for f in read.findings if f.rule == "column_like_missing"]
    assert f"'{template}'" in warning.message


def test_an_income_a_month_is_scaled_to_the_year(tmp_path):
    """`Thu nhập bình quân` is money per person per year: a header giving it a month
    (`triệu đồng/người/tháng`) is scaled by 12; a year's (`/người/năm`) is as written."""
    for unit, written, read_as in (
        ("triệu đồng/người/tháng", 5, 60.0),
        ("nghìn đồng/tháng", 5_000, 60.0),
        ("triệu đồng/người/năm", 60, 60.0),
        # The money unit left to the default (million VND), the period said alone.
        ("tháng", 5, 60.0),
        ("người/tháng", 5, 60.0),
        ("1 người/1 tháng", 5, 60.0),
        ("người/năm", 60, 60.0),
    ):
        header = ["Mã số HTX", "Tên HTX", f"Thu nhập bình quân ({unit})", "Doanh thu (tr.đ/tháng)"]
        rows = [header, ["6400000001", "HTX A", written, 1650]]
        read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": rows}))
        row = read.sheets["htx"].rows[0]
        assert row["avg_income_mvnd"] == read_as, unit
        assert row["revenue_mvnd"] == 1650.0  # only a yearly amount per person is scaled
        assert [f.rule for f in read.findings if f.severity != "info"] == [], unit


@pytest.mark.parametrize("name", ["Thu nhập BQ", "TNBQ", "Thu nhập bình quân/người"])
def test_an_income_under_its_short_names_reads(tmp_path, name):
    """`Thu nhập BQ (triệu đồng/tháng)`, `TNBQ`: the usual short forms of `bình quân`. Before,
    the column was not read, with only an info finding (no alert)."""
    header = ["Mã số HTX", "Tên HTX", f"{name} (triệu đồng/tháng)"]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": [header, ["6400000001", "A", 5]]}))
    assert read.sheets["htx"].rows[0]["avg_income_mvnd"] == 60.0


@pytest.mark.parametrize("name", ["Tham gia ĐA 167", "ĐA 167", "Đề án 167", "Thuộc Đề án 167"])
def test_the_scheme_column_under_its_short_names_reads(tmp_path, name):
    """`Tham gia ĐA 167`, `Đề án 167`: the scheme's column as clerks shorten it. Before, the
    column was not read, with only an info finding (no alert): every cooperative of the file
    counted as outside Decision 167."""
    header = ["Mã số HTX", "Tên HTX", name]
    rows = [header, ["6400000001", "A", "x"], ["6400000002", "B", "Không"]]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": rows}))
    assert [r["in_da167"] for r in read.sheets["htx"].rows] == [True, False]
    assert [f.rule for f in read.findings if f.rule.startswith("column_")] == []


def test_an_income_a_month_with_its_unit_in_the_cell_is_scaled_to_the_year(tmp_path):
    """A cell's own unit (`5 triệu`, `5.000.000 đ`) replaces the header's unit of money,
    not its month: under `(triệu đồng/tháng)` it is a month's income, as a bare 5 is."""
    header = ["Mã số HTX", "Tên HTX", "Thu nhập bình quân (triệu đồng/người/tháng)"]
    written = (5, "5 triệu", "5.000.000 đ", "5.000 nghìn đồng")
    rows = [header] + [[f"640000000{n}", "HTX A", cell] for n, cell in enumerate(written)]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": rows}))
    assert [r["avg_income_mvnd"] for r in read.sheets["htx"].rows] == [60.0] * len(written)
    assert [f for f in read.findings if f.severity != "info"] == []


def test_an_income_with_its_period_in_the_cell_reads_as_a_year_s(tmp_path):
    """`5 triệu/tháng` in `Thu nhập bình quân` (a year's income) is 60; `60 triệu/năm` is 60.
    Before, the cell was unreadable and the file rejected."""
    header = ["Mã số HTX", "Tên HTX", "Thu nhập bình quân", "Doanh thu"]
    written = ("5 triệu/tháng", "5tr/tháng", "5.000.000 đ/tháng", "60 triệu/năm")
    rows = [header] + [[f"640000000{n}", "HTX A", cell, 1650] for n, cell in enumerate(written)]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": rows}))
    assert [r["avg_income_mvnd"] for r in read.sheets["htx"].rows] == [60.0] * len(written)
    assert [f for f in read.findings if f.severity != "info"] == []


def test_file_money_unit_applies_where_headers_carry_none(tmp_path):
    rows = [["Mã số HTX", "Tên HTX", "Doanh thu"], ["6400000001", "HTX A", "1.650.000"]]
    for label in ("Đơn vị tính", "ĐVT", "Đvt:"):  # ĐVT: its usual short form
        info = [*info_rows(), [label, "nghìn đồng"]]
        read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"ThongTin": info, "HTX": rows}))
        assert read.sheets["htx"].rows[0]["revenue_mvnd"] == 1650.0, label


def test_decomposed_text_and_vietnamese_numbers_as_text(tmp_path):
    name = unicodedata.normalize("NFD", "HTX Cà phê Đắk Mil")
    rows = [
        ["Mã số HTX", "Tên HTX", "Doanh thu", "Số thành viên"],
        ["6400000001", name, "1.250", "-"],
    ]
    row = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": rows})).sheets["htx"].rows[0]
    assert row["name"] == unicodedata.normalize("NFC", "HTX Cà phê Đắk Mil")
    assert row["revenue_mvnd"] == 1250.0
    assert row["members"] is None


def test_unreadable_value_is_kept_for_the_rules(tmp_path):
    rows = [["Mã số HTX", "Tên HTX", "Số thành viên"], ["6400000001", "HTX A", "nhiều"]]
    row = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": rows})).sheets["htx"].rows[0]
    assert row["members"] is None
    assert row[unparsed("members")] == "nhiều"


def test_an_unreadable_number_date_or_boolean_is_quoted_as_excel_shows_it(tmp_path):
    """A cell quoted in a finding is what the clerk sees: `2` in a yes/no column, not `2.0`;
    `TRUE` in a date column; a date cell in a count column as a date (helper CL)."""
    rows = [
        ["Mã số HTX", "Tên HTX", "Tham gia Đề án 167", "Ngày thành lập", "Số thành viên"],
        ["6400000001", "HTX A", 2, True, dt.datetime(1900, 2, 4)],
        ["6400000002", "HTX B", 2.5, 15032019, dt.datetime(2023, 5, 1, 7, 30)],
    ]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": rows}))
    quoted = [
        (r.get(unparsed("in_da167")), r.get(unparsed("founded_on")), r.get(unparsed("members")))
        for r in read.sheets["htx"].rows
    ]
    assert quoted == [("2", "TRUE", "04/02/1900"), ("2.5", "15032019", "01/05/2023")]


def test_missing_required_column_rejects_naming_it_in_both_languages(tmp_path):
    rows = [["STT", "Mã số HTX", "Doanh thu"], [1, "6400000001", 5]]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": rows}))
    assert read.rejection is not None
    assert read.rejection.rule == "column_missing"
    assert "thiếu các cột bắt buộc: Tên HTX" in read.rejection.message
    assert "lacks the required columns: Tên HTX" in read.rejection.message
    # the finding names the column and the header's row, as any failing cell's does
    assert (read.rejection.sheet, read.rejection.excel_row, read.rejection.column_name) == (
        "HTX",
        1,
        "Tên HTX",
    )


def test_missing_htx_sheet_rejects(tmp_path):
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"ThongTin": info_rows()}))
    assert read.rejection.rule == "sheet_missing"


def test_every_missing_sheet_and_column_is_found_in_one_pass(tmp_path):
    """A clerk hears of every structural problem at once, not of one per resubmission: each
    sheet's missing columns, with the header's row, and a missing HTX sheet. The first is
    the rejection, its message as when it is alone."""
    htx = [[h for h in HTX_HEADER if h != "Tên HTX"], htx_row(1, "6400000001")[:2]]
    ocop = [[h for h in OCOP_HEADER if h != "Số sao"], ["6400000001", "Cà phê"]]
    sheets = {"ThongTin": info_rows(), "HTX": htx, "OCOP": ocop}
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets))
    assert [(p.rule, p.sheet, p.excel_row) for p in read.problems] == [
        ("column_missing", "HTX", 1),
        ("column_missing", "OCOP", 1),
    ]
    assert read.rejection == read.problems[0]
    assert read.rejection.message == (
        "Trang 'HTX' thiếu các cột bắt buộc: Tên HTX. Hãy thêm các cột này vào dòng tiêu đề, "
        "ghi tên cột như mẫu báo cáo, rồi gửi lại. / "
        "Sheet 'HTX' lacks the required columns: Tên HTX. Add these columns to the header "
        "row, named as in the report template, and resubmit."
    )
    assert "thiếu các cột bắt buộc: Số sao" in read.problems[1].message
    del sheets["HTX"]
    read = read_workbook(write_xlsx(tmp_path / "663_2023_b.xlsx", sheets))
    assert [(p.rule, p.sheet) for p in read.problems] == [
        ("sheet_missing", "HTX"),
        ("column_missing", "OCOP"),
    ]
    # A file that cannot be read through has one problem: the rejection alone says it.
    (tmp_path / "bad.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    read = read_workbook(tmp_path / "bad.xlsx")
    assert read.rejection is not None
    assert read.problems == []


def test_an_optional_sheet_left_empty_is_read_as_left_out(tmp_path):
    """HoTro, OCOP and LienKet are optional: a unit with no support, product or contract may
    leave the sheet empty, as if it were not there; only a required column missing from a
    table, or no HTX sheet, rejects the file."""
    htx = [HTX_HEADER, htx_row(1, "6400000001")]
    sheets = {"ThongTin": info_rows(), "HTX": htx, "HoTro": [], "OCOP": [[None, ""]]}
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets))
    assert read.rejection is None
    assert set(read.sheets) == {"htx"}
    assert len(read.sheets["htx"].rows) == 1
    assert read.findings == []
    # Only a title and a note (no row with two values): left out too, and said so.
    sheets["LienKet"] = [["Bảng 3. Liên kết tiêu thụ"], [None], ["Đơn vị tính: triệu đồng"]]
    read = read_workbook(write_xlsx(tmp_path / "663_2023_t.xlsx", sheets))
    assert read.rejection is None
    assert set(read.sheets) == {"htx"}
    [said] = read.findings
    assert (said.rule, said.severity, said.sheet) == ("sheet_without_table", "info", "LienKet")
    assert said.message.startswith("Trang 'LienKet' chỉ có tiêu đề")
    # A sheet that holds something but no header still rejects: its rows would be lost.
    sheets["LienKet"] = [["Cty A", "Cà phê", 12]]
    read = read_workbook(write_xlsx(tmp_path / "663_2023_b.xlsx", sheets))
    assert read.rejection is not None
    assert (read.rejection.rule, read.rejection.sheet) == ("header_not_found", "LienKet")


def test_an_htx_sheet_with_its_header_and_no_cooperative_is_a_warning(tmp_path):
    """An empty template loads (the contract does not reject it), but never in silence: as a
    resubmission it would replace the unit's real report. The warning marks the header row
    of the sheet the clerk named; a title and a total row are no cooperative either."""
    title = ["BÁO CÁO TÌNH HÌNH HOẠT ĐỘNG HỢP TÁC XÃ NĂM 2023"]
    total = [None, None, "Tổng cộng"]
    sheets = {"ThongTin": info_rows(), "Danh sach HTX": [title, [], HTX_HEADER, total]}
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets))
    assert read.rejection is None
    assert read.sheets["htx"].rows == []
    [said] = read.findings
    assert (said.rule, said.severity, said.sheet, said.excel_row, said.cell) == (
        "htx_sheet_empty",
        "warning",
        "Danh sach HTX",
        3,
        "B3",
    )
    vi, en = said.message.split(" / ")
    assert "Trang 'Danh sach HTX' không liệt kê HTX nào" in vi
    assert "Sheet 'Danh sach HTX' lists no cooperative" in en
    # A list with a cooperative is no such warning.
    sheets["Danh sach HTX"] = [HTX_HEADER, htx_row(1, "6400000001")]
    read = read_workbook(write_xlsx(tmp_path / "663_2023_b.xlsx", sheets))
    assert read.findings == []


@pytest.mark.parametrize(
    ("name", "table", "like"),
    [
        ("HTX (2)", [HTX_HEADER, htx_row(2, "6400000002")], "HTX"),
        (
            "Hỗ trợ năm 2023",
            [SUPPORT_HEADER, ["6400000001", "NTM", "Máy sấy", "Tỉnh", 50, 2023]],
            "HoTro",
        ),
        (
            "Sản phẩm OCOP",
            [OCOP_HEADER, ["6400000001", "Cà phê", "Đồ uống", 4, "12/QĐ", None]],
            "OCOP",
        ),
        (
            "Liên kết tiêu thụ",
            [LINK_HEADER, ["6400000001", "Công ty A", "Cà phê", 12, 300]],
            "LienKet",
        ),
    ],
)
def test_a_table_on_a_sheet_the_layout_does_not_name_is_not_dropped_in_silence(
    tmp_path, name, table, like
):
    """A sheet copied or renamed by the clerk (`HTX (2)`, `Sản phẩm OCOP`) is not read, but
    its rows are never lost without a word: a warning names the sheet and the template's."""
    sheets = {"ThongTin": info_rows(), "HTX": [HTX_HEADER, htx_row(1, "6400000001")], name: table}
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets))
    assert read.rejection is None
    assert [r["coop_code"] for r in read.sheets["htx"].rows] == ["6400000001"]
    [said] = read.findings
    assert (said.rule, said.severity, said.sheet, said.excel_row) == (
        "sheet_not_read",
        "warning",
        name,
        1,
    )
    vi, en = said.message.split(" / ")
    assert f"Trang '{name}' có bảng giống trang '{like}' của mẫu" in vi
    assert f"Sheet '{name}' holds a table like the template's '{like}' sheet" in en


def test_sheet_names_match_without_accents_and_case(tmp_path):
    rows = [["Mã số HTX", "Tên HTX"], ["6400000001", "HTX A"]]
    read = read_workbook(
        write_xlsx(tmp_path / "f.xlsx", {"thong tin": info_rows(), "hop tac xa": rows})
    )
    assert read.info["unit_code"] == "663"
    assert len(read.sheets["htx"].rows) == 1


def test_corrupt_file_is_a_rejection_not_an_exception(tmp_path):
    path = tmp_path / "663_2023.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip")
    read = read_workbook(path)
    assert read.rejection.rule == "file_unreadable"
    assert "Không mở được tệp" in read.rejection.message


def test_a_fault_of_the_program_is_not_blamed_on_the_file(tmp_path, monkeypatch, caplog):
    """A bug (here a name that does not exist) while reading a good file: the clerk is told
    the file is not at fault, and the error is logged with its traceback."""
    from etl.read import reader

    def broken(*args, **kwargs):
        return undefined_name  # noqa: F821

    monkeypatch.setattr(reader, "_read_sheet", broken)
    path = write_xlsx(tmp_path / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": [HTX_HEADER]})
    with caplog.at_level("ERROR", logger="etl.read.reader"):
        read = read_workbook(path)
    assert read.rejection.rule == "internal_error"
    vi, en = read.rejection.message.split(" / ")
    assert "không phải lỗi của tệp" in vi
    assert "NameError" not in vi  # the program's words are the data team's, in English
    assert "NameError" in en
    assert "not at fault" in en
    assert "internal error reading 663_2023.xlsx" in caplog.text
    assert "Traceback" in caplog.text


def test_empty_file_is_a_rejection(tmp_path):
    path = tmp_path / "663_2023.xlsx"
    path.write_bytes(b"")
    assert read_workbook(path).rejection.rule == "file_empty"


def test_unit_and_year_come_from_thongtin():
    found = identify({"unit_code": "663", "report_year": 2023}, "whatever.xlsx", load_reference())
    assert isinstance(found, Identity)
    assert (found.unit.code, found.report_year, found.source) == ("663", 2023, "ThongTin")


def test_unit_and_year_fall_back_to_the_file_name():
    ref = load_reference()
    by_code = identify({}, "663_2023_bosung.xlsx", ref)
    by_slug = identify({}, "dak_mil_2023.xlsx", ref)
    assert (by_code.unit.code, by_code.report_year) == ("663", 2023)
    assert (by_slug.unit.code, by_slug.report_year, by_slug.source) == ("663", 2023, "file name")


def test_unit_code_stored_as_number_is_padded():
    found = identify({"unit_code": 1, "report_year": 2022}, "x.xlsx", load_reference())
    assert found.unit.code == "001"


def test_unknown_unit_or_year_out_of_range_rejects():
    ref = load_reference()
    assert identify({"unit_code": "999", "report_year": 2023}, "x.xlsx", ref).rule == "unit_unknown"
    assert identify({"unit_code": "663", "report_year": 2019}, "x.xlsx", ref).rule == "year_invalid"
    assert identify({}, "baocao.xlsx", ref).rule == "unit_unknown"


def test_province_code_is_a_known_reporting_unit():
    found = identify({"unit_code": "68", "report_year": 2025}, "x.xlsx", load_reference())
    assert (found.unit.level, found.unit.code) == ("province", "68")


def test_prepared_date_is_read():
    info = {"unit_code": "663", "report_year": 2023, "prepared_on": "15/01/2024"}
    assert identify(info, "x.xlsx", load_reference()).prepared_on == dt.date(2024, 1, 15)


def test_district_report_after_the_district_level_was_abolished_is_rejected():
    found = identify({"unit_code": "663", "report_year": 2026}, "x.xlsx", load_reference())
    assert found.rule == "unit_not_in_year"
    assert "cấp huyện đã bỏ từ 01/07/2025" in found.message
    assert identify({"unit_code": "663", "report_year": 2025}, "x.xlsx", load_reference()).unit
    assert identify({"unit_code": "68", "report_year": 2026}, "x.xlsx", load_reference()).unit


def test_a_workbook_saved_under_another_format_s_name_is_read_as_what_it_is(tmp_path):
    """The guard tells a file by its content; the reader reads it so: an .xls or an .ods
    named .xlsx, and an .xlsx named .xls, read the same rows as under their own names."""
    corpus = Path(__file__).parent / "corpus"
    xlsx = write_xlsx(tmp_path / "own.xlsx", {"ThongTin": info_rows(), "HTX": _two_rows()})
    sources = {
        "xls": corpus / "d11_section_rows.xls",
        "ods": corpus / "d11_section_rows.ods",
        "xlsx": xlsx,
    }
    for kind, source in sources.items():
        own = read_workbook(source)
        assert own.rejection is None, kind
        for suffix in {".xlsx", ".xls", ".ods"} - {source.suffix}:
            renamed = tmp_path / f"{kind}_as{suffix}"
            shutil.copyfile(source, renamed)
            read = read_workbook(renamed)
            assert read.rejection is None, (kind, suffix, read.rejection)
            assert read.sheets["htx"].rows == own.sheets["htx"].rows, (kind, suffix)


def _two_rows() -> list:
    return [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "6400000002")]


def test_a_title_note_dvt_sets_the_sheet_s_unit_as_don_vi_tinh_does(tmp_path):
    """`ĐVT: đồng` above a header without units, as `Đơn vị tính: đồng`: amounts in đồng."""
    header = [h.split(" (")[0] for h in HTX_HEADER]  # no unit in any header
    for note in ("ĐVT: đồng", "Đơn vị tính: đồng", "(ĐVT: 1.000đ)"):
        row = htx_row(1, "6400000001", **{"Doanh thu": 1_650_000_000})
        rows = [["BÁO CÁO HỢP TÁC XÃ"], [note], header, row]
        read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": rows}))
        [typed] = read.sheets["htx"].rows
        factor = 1e-6 if "1.000" not in note else 1e-3
        assert typed["revenue_mvnd"] == pytest.approx(1_650_000_000 * factor), note


def test_thongtin_keys_numbered_as_a_form_numbers_its_items_are_read(tmp_path):
    """`1. Mã đơn vị`, `2) Tên đơn vị`, `a. Ngày lập`, `II.1. Người lập` in column A are
    the keys the clerk numbered: before, none was read, so the unit came from the file name
    or rejected the file, and Ngày lập was lost for resubmissions."""
    info = [
        ["THÔNG TIN ĐƠN VỊ BÁO CÁO"],
        ["1. Mã đơn vị", "665"],
        ["2) Tên đơn vị", "Huyện Đắk Song"],
        ["3 - Năm báo cáo", 2022],
        ["a. Ngày lập", dt.date(2023, 1, 18)],
        ["II.1. Người lập", "Võ Thị Mai"],  # an item of a part: both numbers go
        ["5. ĐVT", "đồng"],
    ]
    read = read_workbook(
        write_xlsx(tmp_path / "bao_cao.xlsx", {"ThongTin": info, "HTX": _two_rows()})
    )
    assert read.info["unit_code"] == "665"
    assert read.info["unit_name"] == "Huyện Đắk Song"
    assert read.info["report_year"] == 2022
    assert read.info["prepared_on"] == dt.date(2023, 1, 18)
    assert read.info["prepared_by"] == "Võ Thị Mai"
    assert read.info["money_unit"] == "đồng"
    found = identify(read.info, "bao_cao.xlsx", load_reference())
    assert (found.unit.code, found.report_year, found.prepared_on) == (
        "665",
        2022,
        dt.date(2023, 1, 18),
    )


def test_thongtin_values_after_a_colon_and_the_forms_other_labels_are_read(tmp_path):
    """`Mã đơn vị: 665` in one cell, and the labels report forms use (`Mã đơn vị báo cáo`,
    `Kỳ báo cáo`, `Năm`, `Ngày lập báo cáo`): the unit and year the clerk
    wrote. Before, none was read, and the file was rejected as naming no unit or year (or
    took them from its file name). A key's own label wins over another label of it."""
    info = [
        ["THÔNG TIN ĐƠN VỊ BÁO CÁO"],
        ["Mã đơn vị: 665"],
        ["Tên đơn vị: Huyện Đắk Song"],
        ["Đơn vị báo cáo:", "Phòng Tài chính - Kế hoạch"],  # an office: no label of a key
        ["Kỳ báo cáo", "Năm 2022"],
        ["Ngày lập báo cáo: 18/01/2023", None],
        ["Người lập: Võ Thị Mai"],
        ["Đơn vị tính: ........"],  # the form's dotted line: nothing written
    ]
    read = read_workbook(
        write_xlsx(tmp_path / "bao_cao.xlsx", {"ThongTin": info, "HTX": _two_rows()})
    )
    assert read.info == {
        "unit_code": "665",
        "unit_name": "Huyện Đắk Song",
        "report_year": "Năm 2022",
        "prepared_on": "18/01/2023",
        "prepared_by": "Võ Thị Mai",
    }
    assert (read.info_rows["unit_code"], read.info_columns["unit_code"]) == (2, 0)
    found = identify_read(read, "bao_cao.xlsx", load_reference())
    assert (found.unit.code, found.report_year, found.prepared_on) == (
        "665",
        2022,
        dt.date(2023, 1, 18),
    )
    # `Năm báo cáo` is the year, wherever `Năm` or `Kỳ báo cáo` stands.
    info = [["Năm", 2021], ["Mã đơn vị", "665"], ["Năm báo cáo", 2022], ["Kỳ báo cáo", 2020]]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"ThongTin": info, "HTX": _two_rows()}))
    assert (read.info["report_year"], read.info_rows["report_year"]) == (2022, 3)
    # A note after a colon, or a period that is no year, is no value: it neither replaces
    # the value beside its label nor keeps the file name's year from counting.
    info = [
        ["Mã đơn vị", "663"],
        ["Năm báo cáo", 2023],
        ["Ghi chú:"],
        ["Năm báo cáo: ghi 4 chữ số, ví dụ 2023"],
        ["Mã đơn vị: mã huyện theo danh mục GSO"],
    ]
    read = read_workbook(write_xlsx(tmp_path / "g.xlsx", {"ThongTin": info, "HTX": _two_rows()}))
    assert read.info == {"unit_code": "663", "report_year": 2023}
    info = [["Mã đơn vị", "663"], ["Kỳ báo cáo", "Quý IV/2023"], ["Năm: 6 tháng đầu năm"]]
    path = write_xlsx(tmp_path / "663_2023.xlsx", {"ThongTin": info, "HTX": _two_rows()})
    read = read_workbook(path)
    assert read.info == {"unit_code": "663"}
    found = identify_read(read, path.name, load_reference())
    assert (found.unit.code, found.report_year, found.source) == ("663", 2023, "file name")
    # Where the key's own label stands beside a cell left empty, a line after a colon is a
    # note or an example, not the value: the file name gives the unit, as before.
    for info in (
        [["Tên đơn vị", None], ["Tên đơn vị: ghi đầy đủ, ví dụ Huyện Đắk Mil"]],
        [["Tên đơn vị:", None], ["Năm báo cáo:", 2024], ["Tên đơn vị: ví dụ Huyện Đắk Mil"]],
        [["Mã đơn vị", "...."], ["Năm báo cáo", 2024], ["Mã đơn vị: 663"]],
        [["Mã đơn vị: ....", None], ["Năm báo cáo", 2024], ["Mã đơn vị: 663"]],
        [["Mã đơn vị báo cáo", "1234"], ["Năm báo cáo", 2024]],  # no code of a unit
    ):
        path = write_xlsx(tmp_path / "664_2024.xlsx", {"ThongTin": info, "HTX": _two_rows()})
        found = identify_read(read_workbook(path), path.name, load_reference())
        assert (found.unit.code, found.report_year) == ("664", 2024), info


def _reads_as_dak_song_2022(path: Path) -> None:
    """The ThongTin of 665 Huyện Đắk Song's 2022 report, made on 18/01/2023, read whole."""
    read = read_workbook(path)
    assert read.info == {
        "unit_code": "665",
        "unit_name": "Huyện Đắk Song",
        "report_year": 2022,
        "prepared_on": dt.date(2023, 1, 18),
    }
    found = identify_read(read, path.name, load_reference())
    assert (found.unit.code, found.report_year, found.source) == ("665", 2022, "ThongTin")


def test_thongtin_labels_laid_out_across_are_read_with_the_values_under_them(tmp_path):
    """`Mã đơn vị | Tên đơn vị | Năm báo cáo` in a row, the values in the row under it: the
    unit and year the clerk wrote, a failing value named by its own cell. Before, the first
    label's value was read as the label right of it (`Tên đơn vị`), and the file was
    rejected for an unknown unit of that name."""
    info = [
        ["THÔNG TIN ĐƠN VỊ BÁO CÁO"],
        ["Mã đơn vị", "Tên đơn vị", "Năm báo cáo", "Ngày lập", "Người lập"],
        ["665", "Huyện Đắk Song", 2022, dt.date(2023, 1, 18), None],
    ]
    path = write_xlsx(tmp_path / "bao_cao.xlsx", {"ThongTin": info, "HTX": _two_rows()})
    _reads_as_dak_song_2022(path)
    info[2][2] = 2019
    read = read_workbook(write_xlsx(path, {"ThongTin": info, "HTX": _two_rows()}))
    found = identify_read(read, path.name, load_reference())
    assert not isinstance(found, Identity)
    assert (found.rule, found.excel_row, found.cell) == ("year_invalid", 3, "C3")
    # Rows of a label and its value, two pairs a row, or a label word in a note column,
    # are read as before: across means labels alone, over a row of no label.
    for info, read_as in (
        (
            [
                ["Mã đơn vị", "663", "Tên đơn vị", "Huyện Đắk Mil"],
                ["Năm báo cáo", 2023, "Người lập", "A"],
            ],
            {"unit_code": "663", "report_year": 2023},
        ),
        (
            [["Kỳ báo cáo", "Năm"], ["Mã đơn vị", "663"], ["Năm báo cáo", 2023]],
            {"unit_code": "663", "report_year": 2023},
        ),
        (
            [["Mã đơn vị", "663"], ["Năm báo cáo", 2023, "ĐVT"], ["Đơn vị tính", "nghìn đồng"]],
            {"unit_code": "663", "report_year": 2023, "money_unit": "nghìn đồng"},
        ),
        ([["Đơn vị tính", "ĐVT"], ["Người lập", "A"]], {"money_unit": "ĐVT", "prepared_by": "A"}),
        # Two pairs a row, their values left empty, over a note: no labels across.
        (
            [
                ["Mã đơn vị", None, "Năm báo cáo", None],
                ["(Ghi mã theo danh mục)", None, "(Ghi năm)"],
            ],
            {},
        ),
    ):
        read = read_workbook(write_xlsx(path, {"ThongTin": info, "HTX": _two_rows()}))
        assert read.info == read_as, info


@pytest.mark.parametrize(
    "lead",
    [[None], ["1"], [1]],
    ids=["table from column B", "STT column as text", "STT column as numbers"],
)
def test_thongtin_keys_right_of_an_empty_or_numbering_column_are_read(tmp_path, lead):
    """A ThongTin laid out as a form (`STT | Nội dung | Giá trị`) or moved one column right
    holds the unit and year as the template's does. Before, none was read, and a file named
    `663_2023.xlsx` whose ThongTin says 665, 2022 loaded silently as 663's 2023 report."""
    info = [
        ["THÔNG TIN ĐƠN VỊ BÁO CÁO"],
        [None if lead == [None] else "STT", "Nội dung", "Giá trị"],
        [*lead, "Mã đơn vị", "665"],
        [*lead, "Tên đơn vị", "Huyện Đắk Song"],
        [*lead, "Năm báo cáo", 2022],
        [*lead, "Ngày lập", dt.date(2023, 1, 18)],
        [*lead, "Người lập", None, "Họ tên người lập."],  # a note is never the value
    ]
    path = write_xlsx(tmp_path / "663_2023.xlsx", {"ThongTin": info, "HTX": _two_rows()})
    _reads_as_dak_song_2022(path)

    info[4][2] = 2019  # a failing value is named by its own cell
    read = read_workbook(write_xlsx(path, {"ThongTin": info, "HTX": _two_rows()}))
    found = identify_read(read, path.name, load_reference())
    assert not isinstance(found, Identity)
    assert (found.rule, found.sheet, found.excel_row, found.cell) == (
        "year_invalid",
        "ThongTin",
        5,
        "C5",
    )


@pytest.mark.parametrize("value", ["Giá trị (triệu đồng)", "Giá trị HĐ", "Giá trị hợp đồng"])
def test_an_offtake_contract_s_value_under_its_short_names_reads(tmp_path, value):
    """`Giá trị` under a group cell `Hợp đồng liên kết`, or `Giá trị HĐ`: in LienKet the
    only value there is the contract's. Before, the column was not read (a warning that a
    column like it is missing, and no contract value loaded)."""
    from conftest import LINK_HEADER

    header = [value if h == "Giá trị hợp đồng" else h for h in LINK_HEADER]
    links = [header, ["6400000001", "Công ty A", "Cà phê", 5, 300]]
    htx = [["Mã số HTX", "Tên HTX"], ["6400000001", "HTX A"]]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": htx, "LienKet": links}))
    assert read.sheets["lienket"].rows[0]["contract_value_mvnd"] == 300.0
    assert [f.rule for f in read.findings if f.sheet == "LienKet"] == []


def test_a_header_unit_the_column_cannot_be_read_in_fails_its_header_cell(tmp_path):
    """`Sản lượng (kg)` over the tonnes column, `Giá trị hợp đồng (USD)` over money: their
    numbers would land 1,000 times off, or in another currency, without a word. The header
    cell is an error naming its unit (rule 14, as a cell's unit that does not fit), and the
    column is not read; a remark that is no unit (`Doanh thu (năm 2023)`) is none."""
    from conftest import LINK_HEADER

    header = [h.replace("Sản lượng (tấn)", "Sản lượng (kg)") for h in LINK_HEADER]
    header = [h.replace("Giá trị hợp đồng", "Giá trị hợp đồng (USD)") for h in header]
    links = [["Bảng liên kết"], header, ["6400000001", "Công ty A", "Cà phê", 5000, 100]]
    htx = [["Mã số HTX", "Tên HTX", "Doanh thu (năm 2023)"], ["6400000001", "HTX A", 1650]]
    path = write_xlsx(tmp_path / "f.xlsx", {"HTX": htx, "LienKet": links})
    read = read_workbook(path)
    found = [(f.rule, f.severity, f.sheet, f.excel_row, f.cell, f.value) for f in read.findings]
    assert ("header_unit_mismatch", "error", "LienKet", 2, "D2", "Sản lượng (kg)") in found
    assert ("header_unit_mismatch", "error", "LienKet", 2, "E2", "Giá trị hợp đồng (USD)") in found
    [kg] = [f for f in read.findings if f.cell == "D2"]
    assert kg.message.startswith(
        "Tiêu đề cột 'Sản lượng (tấn)' ghi đơn vị 'kg', không phải đơn vị của cột (tấn): "
    )
    assert "which is not the column's (tonnes): " in kg.message  # its own units only
    [usd] = [f for f in read.findings if f.cell == "E2"]
    assert "không phải đơn vị của cột (đồng, nghìn, triệu hoặc tỷ đồng): " in usd.message
    row = read.sheets["lienket"].rows[0]
    assert "volume_tonnes" not in row
    assert "contract_value_mvnd" not in row
    assert read.sheets["htx"].rows[0]["revenue_mvnd"] == 1650.0


@pytest.mark.parametrize(
    ("volume", "value", "failing"),
    [
        ("Sản lượng (tấn)", "Giá trị hợp đồng (nghìn USD)", "E2"),
        ("Sản lượng (tấn)", "Giá trị hợp đồng (1.000 USD)", "E2"),
        ("Sản lượng (tấn)", "Giá trị hợp đồng (triệu USD)", "E2"),
        ("Sản lượng (tấn)", "Giá trị hợp đồng (nghìn đô la)", "E2"),
        ("Sản lượng (nghìn tấn)", "Giá trị hợp đồng", "D2"),
        ("Sản lượng (1.000 tấn)", "Giá trị hợp đồng", "D2"),
        # A volume in litres, cubic metres or head: no tonnes (helper CL: read as tonnes).
        ("Sản lượng (lít)", "Giá trị hợp đồng", "D2"),
        ("Sản lượng (m3)", "Giá trị hợp đồng", "D2"),
        ("Sản lượng (m³)", "Giá trị hợp đồng", "D2"),
        ("Sản lượng (con)", "Giá trị hợp đồng", "D2"),
    ],
)
def test_a_scaled_unit_the_column_cannot_be_read_in_fails_its_header_cell(
    tmp_path, volume, value, failing
):
    """A foreign currency with a scale (`nghìn USD`) is still no đồng, and a count is never
    scaled (`nghìn tấn`): before, their numbers were read as million VND or as tonnes, in
    silence. The header cell is an error and the column is not read."""
    links = [["Bảng liên kết"], ["Mã số HTX", "Doanh nghiệp liên kết", "Sản phẩm", volume, value]]
    links.append(["6400000001", "Công ty A", "Cà phê", 1200, 500])
    htx = [["Mã số HTX", "Tên HTX"], ["6400000001", "HTX A"]]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": htx, "LienKet": links}))
    assert [(f.rule, f.severity, f.cell) for f in read.findings if f.severity != "info"] == [
        ("header_unit_mismatch", "error", failing)
    ]
    row = read.sheets["lienket"].rows[0]
    assert ("volume_tonnes" in row, "contract_value_mvnd" in row) == (
        failing != "D2",
        failing != "E2",
    )


@pytest.mark.parametrize(
    ("header", "value", "read"),
    [
        ("Giá trị hợp đồng (x1000đ)", 500, 0.5),
        ("Giá trị hợp đồng (x 1.000 đồng)", 500, 0.5),
        ("Giá trị hợp đồng (× 1.000 đồng)", 500, 0.5),
        ("Sản lượng (nghìn kg)", 1200, 1200.0),  # thousand kilograms are tonnes
    ],
)
def test_a_multiplier_written_as_one_and_thousand_kilograms_read(tmp_path, header, value, read):
    links = [["Mã số HTX", "Doanh nghiệp liên kết", header], ["6400000001", "Công ty A", value]]
    htx = [["Mã số HTX", "Tên HTX"], ["6400000001", "HTX A"]]
    got = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": htx, "LienKet": links}))
    assert [f.rule for f in got.findings if f.severity != "info"] == []
    row = got.sheets["lienket"].rows[0]
    key = "volume_tonnes" if header.startswith("Sản lượng") else "contract_value_mvnd"
    assert row[key] == read


def test_rows_hidden_in_excel_are_read_and_said_so(tmp_path):
    """A clerk may hide the rows of cooperatives that stopped, thinking them left out. They
    are read like any other row (nothing in the file is dropped) and an information finding
    names them, so the quality report shows it. Before, nothing said so."""
    rows = [HTX_HEADER] + [htx_row(n, f"64000000{n:02d}") for n in range(1, 5)]
    _book(tmp_path / "hidden.xlsx", rows, hidden_rows=(3, 5))
    read = read_workbook(tmp_path / "hidden.xlsx")
    assert read.rejection is None
    assert [row["excel_row"] for row in read.sheets["htx"].rows] == [2, 3, 4, 5]
    assert [(f.rule, f.severity, f.sheet, f.excel_row) for f in read.findings] == [
        ("row_hidden", "info", "HTX", 3)
    ]
    assert read.findings[0].message.startswith(
        "Các dòng 3, 5 của trang 'HTX' bị ẩn trong Excel nhưng vẫn được đọc"
    )
    assert " / Rows 3, 5 of sheet 'HTX' are hidden in Excel, but read like any other row. " in (
        read.findings[0].message
    )
    _book(tmp_path / "one.xlsx", rows, hidden_rows=(4,))
    [one] = read_workbook(tmp_path / "one.xlsx").findings
    assert " / Row 4 of sheet 'HTX' is hidden in Excel, but read like any other row. " in (
        one.message
    )


def test_ratings_written_with_their_prefix_or_short_form_read_as_the_rating(tmp_path):
    """`Loại Khá`, `Xếp loại: Tốt`, `TB` (Trung bình) and `CXL` (Chưa xếp loại) are the
    ratings they name. Before, each was kept as written and the suite rejected the file.
    A word that names no rating (`Giỏi`) stays as written, for the suite to refuse."""
    written = ["Loại Khá", "Xếp loại: Tốt", "TB", "CXL", "Giỏi"]
    rows = [HTX_HEADER] + [
        htx_row(n, f"640000000{n}", **{"Xếp loại": rating}) for n, rating in enumerate(written, 1)
    ]
    path = write_xlsx(tmp_path / "f.xlsx", {"ThongTin": info_rows(year=2023), "HTX": rows})
    read = read_workbook(path)
    assert [row["rating"] for row in read.sheets["htx"].rows] == [
        "Khá", "Tốt", "Trung bình", "Chưa xếp loại", "Giỏi",
    ]  # fmt: skip


def test_sub_columns_are_told_from_data_units_parts_and_comparisons(tmp_path):
    """What the code review of the sub-column split found, each read right now:
    - a one-row header whose cell has an empty one to its right, over a data row: the
      row is data, not sub-headers (before, HTX A was dropped);
    - `Doanh thu (đồng)` over years: the group's unit stays (before, 1.65e9 million);
    - `Nông nghiệp | Công nghiệp | Dịch vụ`: `Công nghiệp` is no total (before, 300 was
      read with no warning);
    - `Năm 2022 | Năm 2023 | So sánh 2023/2022`: the comparison names two years, and is
      not the year's (before, nothing was read);
    - years typed as numbers, and the split under a two-row header that names other
      columns on its second row (before, 2022's was read)."""
    head, merged = ["Mã số HTX", "Tên HTX"], ("A1:A2", "B1:B2")
    data = _book(tmp_path / "a.xlsx", [
        ["STT", *head, None, "Doanh thu"],
        [1, "6400000001", "HTX A", "thôn 3", 100], [2, "6400000002", "HTX B", "thôn 4", 200],
    ])  # fmt: skip
    read = read_workbook(data)
    # The villages under no header are not read, and said to be (`column_without_header`).
    assert (_revenue(read), [f.rule for f in read.findings]) == (
        [100.0, 200.0],
        ["column_without_header"],
    )
    unit = _book(tmp_path / "b.xlsx", [
        [*head, "Doanh thu (đồng)", None], [None, None, "Năm 2022", "Năm 2023"],
        ["6400000001", "HTX A", 1_200_000_000, 1_650_000_000],
    ], (*merged, "C1:D1"))  # fmt: skip
    assert _revenue(read_workbook(unit)) == [1650.0]
    sectors = _book(tmp_path / "c.xlsx", [
        [*head, "Doanh thu", None, None], [None, None, "Nông nghiệp", "Công nghiệp", "Dịch vụ"],
        ["6400000001", "HTX A", 1200, 300, 150],
    ], (*merged, "C1:E1"))  # fmt: skip
    read = read_workbook(sectors)
    assert (_revenue(read), read.findings[0].rule) == ([1200.0], "column_split")
    compared = _book(tmp_path / "d.xlsx", [
        [*head, "Doanh thu", None, None],
        [None, None, "Năm 2022", "Năm 2023", "So sánh 2023/2022 (%)"],
        ["6400000001", "HTX A", 1200, 1650, 137.5],
    ], (*merged, "C1:E1"))  # fmt: skip
    assert _revenue(read_workbook(compared)) == [1650.0]
    numbers = _book(tmp_path / "e.xlsx", [
        [*head, "Doanh thu", None], [None, None, 2022, 2023], ["6400000001", "HTX A", 1200, 1650],
    ], (*merged, "C1:D1"))  # fmt: skip
    assert [
        (r["excel_row"], r["revenue_mvnd"]) for r in read_workbook(numbers).sheets["htx"].rows
    ] == [(3, 1650.0)]
    two_rows = _book(tmp_path / "f.xlsx", [
        [*head, "Thành viên", None, "Doanh thu", None],
        [None, None, "Số thành viên", "Số lao động", "Năm 2022", "Năm 2023"],
        ["6400000001", "HTX A", 40, 12, 1200, 1650],
    ], (*merged, "C1:D1", "E1:F1"))  # fmt: skip
    [row] = read_workbook(two_rows).sheets["htx"].rows
    assert (row["members"], row["workers"], row["revenue_mvnd"]) == (40, 12, 1650.0)


def test_a_split_header_repeated_inside_the_table_is_the_same_header(tmp_path):
    """Rule 13 with a group over years: the header pasted again on the next page splits as
    the first one did. Before, it differed (`Doanh thu (D → C)`) and rejected the file."""
    top = ["Mã số HTX", "Tên HTX", "Doanh thu (triệu đồng)", None, "Số thành viên"]
    sub = [None, None, "Năm 2022", "Năm 2023", None]
    rows = [top, sub, ["6400000001", "HTX A", 1200, 1650, 12],
            top, sub, ["6400000002", "HTX B", 100, 150, 9]]  # fmt: skip
    merges = ("A1:A2", "B1:B2", "C1:D1", "E1:E2", "A4:A5", "B4:B5", "C4:D4", "E4:E5")
    read = read_workbook(_book(tmp_path / "f.xlsx", rows, merges))
    assert read.rejection is None
    assert _revenue(read) == [1650.0, 150.0]
    assert [f.rule for f in read.findings] == ["column_unknown"]


def test_new_warnings_keep_quiet_on_ordinary_files(tmp_path):
    """`Địa điểm trụ sở` and `Số xã viên` are not like `Điểm` or `Xã/Phường` (a one-word
    name only begins a header); a hidden list sheet behind a drop-down is no table left
    unread; a support table on another sheet is like `HoTro`, not `HTX`; a second `Ghi
    chú` differs from the first only in the signature block, which is no record. Before,
    each was a warning, or named the wrong sheet."""
    from conftest import SUPPORT_HEADER

    rows = [["Mã số HTX", "Tên HTX", "Địa điểm trụ sở", "Số xã viên", "Ghi chú", "Ghi chú"],
            ["6400000001", "HTX A", "thôn 1", 12, "a", "a"], [None, None, None, None, None,
            "Người lập biểu"]]  # fmt: skip
    lists = [["Mã số HTX", "Tên HTX"], ["6400000001", "HTX A"]]
    support = [SUPPORT_HEADER, ["6400000001", "NTM", "Kho", "Tỉnh", 20, 2023]]
    extra = {"DanhMuc": (lists, True), "Hỗ trợ năm 2023": (support, False)}
    read = read_workbook(_book(tmp_path / "f.xlsx", rows, extra=extra))
    found = [(f.rule, f.severity, f.sheet) for f in read.findings]
    assert found == [
        ("column_unknown", "info", "HTX"),
        ("column_unknown", "info", "HTX"),
        ("column_repeated", "info", "HTX"),
        ("sheet_not_read", "warning", "Hỗ trợ năm 2023"),
    ]
    assert "giống trang 'HoTro' của mẫu" in read.findings[-1].message


def test_a_cell_showing_a_formula_error_is_unreadable_never_not_reported(tmp_path):
    """A computed column whose formula broke (`=L2/I2` over no workers: `#DIV/0!`, a
    deleted source: `#REF!`) is saved as an error value (`t="e"`), which python-calamine
    reads as empty: the figure would be lost in silence as *not reported* (rule 6 names
    only blanks and dashes). It is read as Excel shows it, so it fails its `…_readable`
    rule with the error as its value; a total row's error is no record's."""
    import zipfile

    total = [None, None, "Tổng cộng", None, None, None, None, 80, 24, "#DIV/0!"]
    rows = [
        HTX_HEADER,
        htx_row(1, "6400000001", **{"Thu nhập bình quân": "#DIV/0!"}),
        htx_row(2, "6400000002", **{"Doanh thu": "#N/A", "Lợi nhuận trước thuế": "#REF!"}),
        htx_row(3, "6400000003"),
        total,
    ]
    path = _book(tmp_path / "f.xlsx", rows)  # openpyxl writes `#…` text as an error value
    # As Excel saves it: the formula beside its error value.
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    part = "xl/worksheets/sheet1.xml"
    assert b'<c r="N2" t="e"><v>#DIV/0!</v></c>' in members[part]
    members[part] = members[part].replace(
        b'<c r="N2" t="e"><v>', b'<c r="N2" t="e"><f>L2/I2</f><v>'
    )
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    read = read_workbook(path)
    assert read.rejection is None
    htx = read.sheets["htx"].rows
    assert [r["coop_code"] for r in htx] == ["6400000001", "6400000002", "6400000003"]
    assert [
        (r.get(unparsed("avg_income_mvnd")), r.get(unparsed("revenue_mvnd")),
         r.get(unparsed("profit_before_tax_mvnd")))
        for r in htx
    ] == [("#DIV/0!", None, None), (None, "#N/A", "#REF!"), (None, None, None)]  # fmt: skip
    assert htx[2]["revenue_mvnd"] == 1650.0


@pytest.mark.parametrize("label", ["TT", "Số TT", "Số thứ tự"])
def test_the_row_number_column_headed_tt_tells_section_rows(tmp_path, label):
    """Forms head the row-number column `TT` or `Số TT` (số thứ tự) as often as `STT`. It is
    the STT column, so a group row with a Roman numeral there and its subtotals is a section
    row (rule 11), which supplies its sector, not a cooperative lacking its code."""
    sums = {"Số thành viên": 80, "Doanh thu": 3300}
    section = [None] * len(HTX_HEADER)
    section[0], section[2] = "I", "LĨNH VỰC NÔNG NGHIỆP"
    for header, value in sums.items():
        section[HTX_HEADER.index(header)] = value
    rows = [
        [label, *HTX_HEADER[1:]],
        section,
        htx_row(1, "6400000001", **{"Lĩnh vực": None}),
        htx_row(2, "6400000002", **{"Lĩnh vực": None}),
    ]
    read = read_workbook(_book(tmp_path / "f.xlsx", rows))
    assert read.rejection is None
    htx = read.sheets["htx"].rows
    assert [(r["excel_row"], r.get("coop_code"), r.get("sector")) for r in htx] == [
        (3, "6400000001", "Nông nghiệp"),
        (4, "6400000002", "Nông nghiệp"),
    ]
    assert [f.rule for f in read.findings if f.rule == "column_unknown"] == []


def _renamed_sheet(path: Path, old: str, new: str) -> Path:
    """The workbook at `path` with the sheet `old` renamed `new` in xl/workbook.xml, as a
    hand edit can (Excel itself refuses two sheets of one name)."""
    import zipfile

    edited = path.with_name(f"edited_{path.name}")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(edited, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/workbook.xml":
                data = data.replace(f'name="{old}"'.encode(), f'name="{new}"'.encode())
            target.writestr(item, data)
    return edited


@pytest.mark.parametrize("second", ["HTX", "Htx ", "Hợp tác xã"])
def test_two_sheets_that_are_both_the_htx_sheet_reject_the_file_naming_both(tmp_path, second):
    """`HTX` twice (a hand-edited file), or beside an equivalent name: which is the report is
    unknown, and reading one would drop the other's cooperatives in silence."""
    rows = [HTX_HEADER, htx_row(1, "6400000001")]
    others = [HTX_HEADER, htx_row(1, "6400000002")]
    named = "HTX2" if second == "HTX" else second
    path = write_xlsx(
        tmp_path / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": rows, named: others}
    )
    if second == "HTX":
        path = _renamed_sheet(path, "HTX2", "HTX")
    read = read_workbook(path)
    assert read.rejection is not None
    assert read.rejection.rule == "sheet_named_twice"
    assert f"trang '{'HTX'}': 'HTX', '{second}'" in read.rejection.message
    assert f"are the 'HTX' sheet: 'HTX', '{second}'" in read.rejection.message


def test_a_row_number_formula_without_a_saved_value_is_no_error(tmp_path):
    """`=ROW()-1` in STT, in a workbook a program wrote and no spreadsheet saved: the row
    number is not read (rule 11 looks only for a group's Roman numeral there), so a formula
    without its value there loses nothing and rejects nothing. Elsewhere it is an error."""
    rows = [
        HTX_HEADER,
        htx_row(1, "6400000001", **{"STT": "=ROW()-1"}),
        htx_row(2, "6400000002", **{"STT": "=ROW()-1", "Doanh thu": "=1000+650"}),
    ]
    read = read_workbook(_book(tmp_path / "663_2023.xlsx", rows))
    assert read.rejection is None
    assert [r["coop_code"] for r in read.sheets["htx"].rows] == ["6400000001", "6400000002"]
    assert [(f.rule, f.cell) for f in read.findings if f.rule == "formula_without_value"] == [
        ("formula_without_value", f"{chr(ord('A') + HTX_HEADER.index('Doanh thu'))}3")
    ]


def test_a_formula_error_in_a_text_column_is_never_read_as_its_text(tmp_path):
    """An error value read as Excel shows it is for a column whose `…_readable` rule fails
    it. In a text, code or list column (`Tên HTX` =VLOOKUP(…) showing `#REF!`) no rule
    reads it: `#REF!` would pass `name_required` and load as the cooperative's name, `#N/A`
    as its sector or commune (a warning only). There it stays empty, as before: the clerk
    is told the name or the code is missing."""
    rows = [
        HTX_HEADER,
        htx_row(1, "6400000001", **{"Tên HTX": "#REF!", "Xã/Phường": "#N/A"}),
        htx_row(2, "#N/A", **{"Lĩnh vực": "#N/A", "Doanh thu": "#VALUE!"}),
    ]
    read = read_workbook(_book(tmp_path / "f.xlsx", rows))  # openpyxl: `#…` is an error
    assert read.rejection is None
    htx = read.sheets["htx"].rows
    assert [
        (r.get("coop_code"), r.get("name"), r.get("commune_name"), r.get("sector"))
        for r in htx
    ] == [
        ("6400000001", None, None, "Nông nghiệp"),
        (None, "HTX Nông nghiệp số 2", "Đức Mạnh", None),
    ]  # fmt: skip
    assert htx[1].get(unparsed("revenue_mvnd")) == "#VALUE!"  # a number column: unreadable
    # ...and each such cell is an error of its own, showing the error, never "missing" alone
    errors = [(f.rule, f.severity, f.cell, f.value) for f in read.findings]
    assert errors == [
        ("formula_error", "error", "C2", "#REF!"),
        ("formula_error", "error", "D2", "#N/A"),
        ("formula_error", "error", "B3", "#N/A"),
        ("formula_error", "error", "F3", "#N/A"),
    ]
    message = next(f.message for f in read.findings if f.cell == "C2")
    assert message.startswith("Ô 'Tên HTX' hiện lỗi công thức #REF!")


def _ods_edited(path: Path, rows: list[list], edits: dict[str, str]) -> Path:
    """The HTX sheet of `rows` and a ThongTin, as an .ods file whose content.xml has each
    piece of `edits` replaced by its value: a cell or a row as LibreOffice saves it."""
    import zipfile

    from test_feedback import write_ods

    plain = write_ods(path.with_name(f"plain_{path.name}"), {"HTX": rows, "ThongTin": info_rows()})
    with zipfile.ZipFile(plain) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    content = (
        parts["content.xml"]
        .decode()
        .replace(
            "<office:document-content ",
            '<office:document-content xmlns:calcext="urn:org:documentfoundation:names:'
            'experimental:calc:xmlns:calcext:1.0" ',
        )
    )
    for piece, replacement in edits.items():
        assert piece in content, piece
        content = content.replace(piece, replacement)
    parts["content.xml"] = content.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def test_rows_hidden_in_an_ods_file_are_said_so_as_in_an_xlsx(tmp_path):
    """LibreOffice hides a row with `table:visibility="collapse"` (hidden) or `"filter"`
    (filtered out), and may hide every unused row below the table in one repeated row: the
    rows of cooperatives are read and an information finding names them, as for an .xlsx
    file (`test_rows_hidden_in_excel_are_read_and_said_so`); the empty ones are no row."""
    rows = [HTX_HEADER] + [htx_row(n, f"64000000{n:02d}") for n in range(1, 5)]
    xlsx = read_workbook(_book(tmp_path / "hidden.xlsx", rows, hidden_rows=(3, 5)))
    stt = '<table:table-cell office:value-type="float" office:value="{}">'
    row = "<table:table-row>" + stt
    hidden = '<table:table-row table:visibility="{}">' + stt
    below = (
        '<table:table-row table:visibility="collapse" table:number-rows-repeated="1048570">'
        "<table:table-cell/></table:table-row></table:table>"
    )
    edits = {row.format(2): hidden.format("collapse", 2), row.format(4): hidden.format("filter", 4)}
    edits["</table:table>"] = below  # the HTX table comes first
    ods = read_workbook(_ods_edited(tmp_path / "hidden.ods", rows, edits))
    assert ods.rejection is None
    assert [r["excel_row"] for r in ods.sheets["htx"].rows] == [2, 3, 4, 5]
    assert ods.sheets["htx"].rows == xlsx.sheets["htx"].rows
    assert [(f.rule, f.severity, f.sheet, f.excel_row, f.message) for f in ods.findings] == [
        (f.rule, f.severity, f.sheet, f.excel_row, f.message) for f in xlsx.findings
    ]
    assert [f.rule for f in ods.findings] == ["row_hidden"]


def test_an_ods_cell_showing_a_formula_error_reads_as_in_an_xlsx(tmp_path):
    """LibreOffice saves a formula's error as an empty string marked
    `calcext:value-type="error"`, the error shown in its text; python-calamine reads it as
    empty, so `#DIV/0!` in a number column was *not reported* (NULL) in silence and `#REF!`
    in a name column a name missing without a word. It reads as the same .xlsx cell does."""
    rows = [
        HTX_HEADER,
        htx_row(1, "6400000001", **{"Thu nhập bình quân": "#DIV/0!", "Tên HTX": "#REF!"}),
        htx_row(2, "6400000002", **{"Doanh thu": "#N/A", "Xã/Phường": "#N/A"}),
    ]
    xlsx = read_workbook(_book(tmp_path / "f.xlsx", rows))  # openpyxl: `#…` is an error
    cell = '<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>'
    saved = (
        '<table:table-cell table:formula="of:=1/0" office:value-type="string" '
        'office:string-value="" calcext:value-type="error"><text:p>{}</text:p></table:table-cell>'
    )
    ods = read_workbook(
        _ods_edited(
            tmp_path / "f.ods",
            rows,
            {cell.format(e): saved.format(e) for e in ("#DIV/0!", "#REF!", "#N/A")},
        )
    )
    assert ods.rejection is None
    htx = ods.sheets["htx"].rows
    assert htx[0].get(unparsed("avg_income_mvnd")) == "#DIV/0!"
    assert htx == xlsx.sheets["htx"].rows
    assert [(f.rule, f.cell, f.value) for f in ods.findings] == [
        (f.rule, f.cell, f.value) for f in xlsx.findings
    ]


def test_an_ods_error_cell_is_one_whatever_the_order_of_its_attributes(tmp_path):
    """XML attributes have no order: an error cell whose `calcext:value-type="error"` comes
    before `office:value-type="string"` (both named `value-type`) shows its error as the one
    LibreOffice writes the other way round does, never taken for a text cell."""
    rows = [HTX_HEADER, htx_row(1, "6400000001", **{"Thu nhập bình quân": "#DIV/0!"})]
    cell = '<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>'
    saved = (
        '<table:table-cell calcext:value-type="error" table:formula="of:=1/0" '
        'office:value-type="string" office:string-value=""><text:p>#DIV/0!</text:p>'
        "</table:table-cell>"
    )
    ods = read_workbook(_ods_edited(tmp_path / "f.ods", rows, {cell.format("#DIV/0!"): saved}))
    assert ods.rejection is None
    assert ods.sheets["htx"].rows[0].get(unparsed("avg_income_mvnd")) == "#DIV/0!"


def _sheets_in_states(path: Path, sheets: dict[str, tuple[list[list], str]]) -> Path:
    """A workbook of `sheets` (name -> (rows, state)), a state as Excel saves it: `visible`,
    `hidden` (Unhide lists it) or `veryHidden` (only the VBA editor shows it), by openpyxl."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, (rows, state) in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        sheet.sheet_state = state
    book.save(path)
    return path


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_hidden_old_copy_of_the_htx_table_does_not_compete_with_the_visible_one(tmp_path, state):
    """Rule 17: a clerk who hid last year's list (`Sheet1 (2)`) beside this year's `Sheet1`
    sends one list, the visible one. Before, both were candidates and the file was rejected
    as ambiguous (`sheet_ambiguous`)."""
    current = [HTX_HEADER, htx_row(1, "6400000001")]
    old = [HTX_HEADER, htx_row(1, "6400000009")]
    sheets = {"ThongTin": (info_rows(), "visible"), "Sheet1 (2)": (old, state),
              "Sheet1": (current, "visible")}  # fmt: skip
    read = read_workbook(_sheets_in_states(tmp_path / "663_2023.xlsx", sheets))
    assert read.rejection is None
    assert read.sheets["htx"].sheet_name == "Sheet1"
    assert [r["coop_code"] for r in read.sheets["htx"].rows] == ["6400000001"]
    assert [(f.rule, f.severity, f.sheet) for f in read.findings] == [
        ("sheet_found_by_header", "info", "Sheet1")
    ]


def test_a_hidden_sheet_named_as_a_layout_sheet_does_not_compete_with_the_visible_one(tmp_path):
    """An old `Hợp tác xã` (or `Thông tin`) the clerk hid beside the visible `HTX` (and
    `ThongTin`): the visible sheets are the report. Before: `sheet_named_twice`."""
    current = [HTX_HEADER, htx_row(1, "6400000001")]
    old = [HTX_HEADER, htx_row(1, "6400000009")]
    sheets = {"Thông tin": (info_rows(unit="664"), "hidden"),
              "Hợp tác xã": (old, "hidden"), "ThongTin": (info_rows(), "visible"),
              "HTX": (current, "visible")}  # fmt: skip
    read = read_workbook(_sheets_in_states(tmp_path / "663_2023.xlsx", sheets))
    assert read.rejection is None
    assert (read.info_sheet, read.info["unit_code"]) == ("ThongTin", "663")
    assert read.sheets["htx"].sheet_name == "HTX"
    assert [r["coop_code"] for r in read.sheets["htx"].rows] == ["6400000001"]
    assert read.findings == []


def test_the_only_htx_table_on_a_hidden_sheet_is_read_with_a_warning(tmp_path):
    """No visible sheet holds the list: the hidden one is read (nothing the clerk wrote is
    dropped, as hidden rows are read), and a warning says so, since a hidden sheet may be
    an old copy. Two hidden candidates and no visible one stay ambiguous."""
    table = [HTX_HEADER, htx_row(1, "6400000001")]
    sheets = {"ThongTin": (info_rows(), "visible"), "Sheet1": (table, "hidden"),
              "Ghi chú": ([["Người lập biểu"]], "visible")}  # fmt: skip
    read = read_workbook(_sheets_in_states(tmp_path / "663_2023.xlsx", sheets))
    assert read.rejection is None
    assert [r["coop_code"] for r in read.sheets["htx"].rows] == ["6400000001"]
    [said] = read.findings
    assert (said.rule, said.severity, said.sheet) == ("sheet_found_hidden", "warning", "Sheet1")
    vi, en = said.message.split(" / ")
    assert "trang 'Sheet1', một trang bị ẩn trong Excel" in vi
    assert "sheet 'Sheet1', which is hidden in Excel" in en

    sheets["Biểu 01"] = (table, "veryHidden")
    read = read_workbook(_sheets_in_states(tmp_path / "two.xlsx", sheets))
    assert read.rejection is not None
    assert read.rejection.rule == "sheet_ambiguous"
    assert "'Sheet1', 'Biểu 01'" in read.rejection.message


def test_a_programme_column_headed_ten_chuong_trinh_is_the_programme_column(tmp_path):
    """`Tên chương trình` (the programme's name) heads the column of `Chương trình`, as
    `Tên hợp tác xã` heads `Tên HTX`'s: before, the sheet lacked its required column."""
    support = [["Mã số HTX", "Tên chương trình", "Nội dung", "Nguồn vốn", "Kinh phí", "Năm"],
               ["6400000001", "Nông thôn mới", "Kho", "Tỉnh", 20, 2023],
               ["6400000001", "DA167", "Máy sấy", "Trung ương", 50, 2023]]  # fmt: skip
    sheets = {"ThongTin": info_rows(), "HTX": [HTX_HEADER, htx_row(1, "6400000001")],
              "HoTro": support}  # fmt: skip
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets))
    assert read.rejection is None
    assert [r["program"] for r in read.sheets["hotro"].rows] == ["NTM", "DA167"]
    assert read.findings == []


def _info_with_merged_labels(path: Path, info: list[list], merges: list[str]) -> Path:
    """A workbook whose ThongTin holds `info` with the ranges `merges` merged (openpyxl keeps
    only the first cell of a range), and an HTX sheet of one cooperative."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "HTX"
    for row in _two_rows():
        book.active.append(row)
    sheet = book.create_sheet("ThongTin")
    for row in info:
        sheet.append(row)
    for cells in merges:
        sheet.merge_cells(cells)
    book.save(path)
    return path


def test_a_thongtin_value_beside_a_label_merged_over_column_b_is_read(tmp_path):
    """A label merged over A:B (or wider) puts its value in the next cell, C (or beyond):
    the value is the cell right of the label, as column B is right of an unmerged one.
    Before, none was read and the unit and year came from the file name or rejected it."""
    info = [
        ["THÔNG TIN ĐƠN VỊ BÁO CÁO"],
        ["Mã đơn vị", None, "665"],
        ["Tên đơn vị", None, "Huyện Đắk Song"],
        ["Năm báo cáo", None, None, 2022],
        ["Ngày lập", dt.date(2023, 1, 18), "Ngày lập báo cáo (dd/mm/yyyy)."],
        ["Người lập", None, "Họ tên người lập."],  # the template's note: B is not merged
    ]
    path = tmp_path / "bao_cao.xlsx"
    read = read_workbook(_info_with_merged_labels(path, info, ["A2:B2", "A3:B3", "A4:C4"]))
    assert read.rejection is None
    assert read.info["unit_code"] == "665"
    assert read.info["unit_name"] == "Huyện Đắk Song"
    assert read.info["report_year"] == 2022
    assert read.info["prepared_on"] == dt.date(2023, 1, 18)
    assert "prepared_by" not in read.info

    info[3][3] = 2019  # a failing value is named by its own cell
    read = read_workbook(_info_with_merged_labels(path, info, ["A2:B2", "A3:B3", "A4:C4"]))
    found = identify_read(read, "bao_cao.xlsx", load_reference())
    assert not isinstance(found, Identity)
    assert (found.sheet, found.excel_row, found.cell) == ("ThongTin", 4, "D4")


@pytest.mark.parametrize(
    ("name", "state", "table"),
    [("HTX", "hidden", "Sheet1"), ("Hợp tác xã", "veryHidden", "Biểu 01"),
     ("Danh sach HTX", "hidden", "Sheet1")],
)  # fmt: skip
def test_a_hidden_sheet_named_htx_does_not_outrank_a_visible_sheet_holding_the_list(
    tmp_path, name, state, table
):
    """A template's leftover `HTX`, hidden, beside the visible sheet the clerk filled in: the
    visible one is the report (rule 17), and nothing is said of the hidden one. Before: the
    hidden `HTX` was read by its name, with no warning, and the visible list `sheet_not_read`.
    Two visible sheets holding the list still make the file ambiguous."""
    current = [HTX_HEADER, htx_row(1, "6400000001")]
    old = [HTX_HEADER, htx_row(1, "6400000009")]
    sheets = {"ThongTin": (info_rows(), "visible"), name: (old, state),
              table: (current, "visible")}  # fmt: skip
    read = read_workbook(_sheets_in_states(tmp_path / "663_2023.xlsx", sheets))
    assert read.rejection is None
    assert read.sheets["htx"].sheet_name == table
    assert [r["coop_code"] for r in read.sheets["htx"].rows] == ["6400000001"]
    assert [(f.rule, f.severity, f.sheet) for f in read.findings] == [
        ("sheet_found_by_header", "info", table)
    ]

    sheets["Danh sách HTX năm 2023"] = (current, "visible")
    read = read_workbook(_sheets_in_states(tmp_path / "two.xlsx", sheets))
    assert read.rejection is not None
    assert read.rejection.rule == "sheet_ambiguous"
    assert f"'{table}', 'Danh sách HTX năm 2023'" in read.rejection.message


def test_what_is_said_beside_a_hidden_htx_is_true_and_its_advice_can_be_followed(tmp_path):
    """Beside a hidden `HTX` a visible sheet holding the list is read (rule 17), but the
    finding must not say that no sheet is named `HTX`: one is, hidden. And when two visible
    sheets hold the list, renaming one to `HTX` is what Excel refuses while the hidden
    `HTX` keeps the name: the rejection names the hidden sheet and says to delete it."""
    current = [HTX_HEADER, htx_row(1, "6400000001")]
    old = [HTX_HEADER, htx_row(1, "6400000009")]
    sheets = {"ThongTin": (info_rows(), "visible"), "HTX": (old, "hidden"),
              "Sheet1": (current, "visible")}  # fmt: skip
    read = read_workbook(_sheets_in_states(tmp_path / "663_2023.xlsx", sheets))
    [said] = read.findings
    assert (said.rule, said.severity, said.sheet) == ("sheet_found_by_header", "info", "Sheet1")
    vi, en = said.message.split(" / ")
    assert "Không có trang tên 'HTX'" not in vi, vi
    assert "No sheet is named 'HTX'" not in en, en
    assert "Trang 'HTX' bị ẩn trong Excel nên không được đọc" in vi, vi
    assert "Sheet 'HTX' is hidden in Excel, so it was not read" in en, en

    sheets["Biểu 01"] = (current, "visible")
    read = read_workbook(_sheets_in_states(tmp_path / "two.xlsx", sheets))
    assert read.rejection is not None
    assert read.rejection.rule == "sheet_ambiguous"
    vi, en = read.rejection.message.split(" / ")
    assert "Không có trang tên 'HTX'" not in vi, vi
    assert "No sheet is named 'HTX'" not in en, en
    assert "'Sheet1', 'Biểu 01'" in vi, vi
    assert "hãy xoá trang ẩn 'HTX'" in vi, vi
    assert "delete the hidden sheet 'HTX'" in en, en


def test_a_hidden_sheet_named_htx_holding_the_only_list_is_read_with_a_warning(tmp_path):
    """No visible sheet holds the list (`Sheet1` lacks `Mã số HTX`): the hidden `HTX` is
    read, as a hidden sheet found by its header is, with `sheet_found_hidden`; it comes
    before a hidden sheet that only its header names (`HTX (2)`)."""
    table = [HTX_HEADER, htx_row(1, "6400000001")]
    notes = [[column for column in HTX_HEADER if column != "Mã số HTX"]]
    sheets = {"ThongTin": (info_rows(), "visible"), "HTX": (table, "hidden"),
              "Sheet1": (notes, "visible"), "HTX (2)": (table, "hidden")}  # fmt: skip
    read = read_workbook(_sheets_in_states(tmp_path / "663_2023.xlsx", sheets))
    assert read.rejection is None
    assert read.sheets["htx"].sheet_name == "HTX"
    [said] = read.findings
    assert (said.rule, said.severity, said.sheet) == ("sheet_found_hidden", "warning", "HTX")
    vi, en = said.message.split(" / ")
    assert "trang 'HTX', một trang bị ẩn trong Excel" in vi
    assert "sheet 'HTX', which is hidden in Excel" in en
    assert "No sheet is named 'HTX'" not in en


@pytest.mark.parametrize("old", ["Sheet1 (2)", "HTX"])
def test_a_hidden_old_copy_in_an_ods_file_does_not_compete_with_the_visible_one(tmp_path, old):
    """LibreOffice hides a sheet by its table style (`table:display="false"`), which calamine
    reports as `Hidden`: an .ods is read as the .xlsx above."""
    from test_feedback import write_ods

    current = [HTX_HEADER, htx_row(1, "6400000001")]
    stale = [HTX_HEADER, htx_row(1, "6400000009")]
    sheets = {"ThongTin": info_rows(), old: stale, "Sheet1": current}
    read = read_workbook(write_ods(tmp_path / "663_2023.ods", sheets, hidden=[old]))
    assert read.rejection is None
    assert read.sheets["htx"].sheet_name == "Sheet1"
    assert [r["coop_code"] for r in read.sheets["htx"].rows] == ["6400000001"]
    assert [(f.rule, f.severity, f.sheet) for f in read.findings] == [
        ("sheet_found_by_header", "info", "Sheet1")
    ]


@pytest.mark.parametrize(
    ("name", "header", "row", "other", "key", "template"),
    [("HoTro", SUPPORT_HEADER, ["6400000001", "NTM", "Kho", "Tỉnh", 20, 2023], "Hỗ trợ năm 2023",
      "hotro", "HoTro"),
     ("OCOP", OCOP_HEADER, ["6400000001", "Cà phê", "Đồ uống", 4, "12/QĐ", None],
      "Sản phẩm OCOP", "ocop", "OCOP"),
     ("Liên kết", LINK_HEADER, ["6400000001", "Công ty A", "Cà phê", 12, 300],
      "Liên kết tiêu thụ", "lienket", "LienKet")],
)  # fmt: skip
def test_a_hidden_optional_sheet_is_read_with_a_warning_beside_the_visible_table(
    tmp_path, name, header, row, other, key, template
):
    """A hidden `HoTro` (a template's leftover, or an old year's copy) beside the visible
    `Hỗ trợ năm 2023` the clerk filled in: only the layout's names are read, so the hidden
    one still is, but never in silence: a warning names it as hidden, and the visible one
    keeps its `sheet_not_read`, so the clerk learns both. Before: the hidden sheet was read
    without a word. A hidden sheet left empty is left out, and says nothing."""
    old = [header, row]
    sheets = {"ThongTin": (info_rows(), "visible"),
              "HTX": ([HTX_HEADER, htx_row(1, "6400000001")], "visible"),
              name: (old, "hidden"), other: ([header, row], "visible")}  # fmt: skip
    read = read_workbook(_sheets_in_states(tmp_path / "663_2023.xlsx", sheets))
    assert read.rejection is None
    assert read.sheets[key].sheet_name == name
    assert [(f.rule, f.severity, f.sheet) for f in read.findings] == [
        ("sheet_read_hidden", "warning", name),
        ("sheet_not_read", "warning", other),
    ]
    vi, en = read.findings[0].message.split(" / ")
    assert f"Trang '{name}' bị ẩn trong Excel nhưng vẫn được đọc làm trang '{template}'" in vi
    assert f"Sheet '{name}' is hidden in Excel but was read as the template's '{template}'" in en

    del sheets[other]
    read = read_workbook(_sheets_in_states(tmp_path / "alone.xlsx", sheets))
    assert [(f.rule, f.sheet) for f in read.findings] == [("sheet_read_hidden", name)]

    sheets[name] = ([], "veryHidden")
    read = read_workbook(_sheets_in_states(tmp_path / "empty.xlsx", sheets))
    assert read.rejection is None
    assert key not in read.sheets
    assert read.findings == []


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_a_hidden_thongtin_is_read_with_a_warning_and_a_visible_one_outranks_it(tmp_path, fmt):
    """The unit and year are needed, so a lone hidden `ThongTin` is still read, but a
    warning names it as hidden (it may be a copy holding last year's values). Beside a
    visible `Thông tin`, the visible one is read and nothing is said. Before: the hidden
    `ThongTin` was read without a word."""
    from test_feedback import write_ods

    def book(path: Path, sheets: dict[str, list[list]], hidden: list[str]) -> Path:
        if fmt == "ods":
            return write_ods(path, sheets, hidden=hidden)
        states = {n: (rows, "hidden" if n in hidden else "visible") for n, rows in sheets.items()}
        return _sheets_in_states(path, states)

    htx = [HTX_HEADER, htx_row(1, "6400000001")]
    read = read_workbook(book(tmp_path / f"a.{fmt}", {"ThongTin": info_rows(), "HTX": htx},
                              ["ThongTin"]))  # fmt: skip
    assert read.rejection is None
    assert (read.info_sheet, read.info["unit_code"]) == ("ThongTin", "663")
    [said] = read.findings
    assert (said.rule, said.severity, said.sheet) == ("sheet_read_hidden", "warning", "ThongTin")
    vi, en = said.message.split(" / ")
    assert "Trang 'ThongTin' bị ẩn trong Excel" in vi
    assert "Sheet 'ThongTin' is hidden in Excel" in en
    assert isinstance(identify_read(read, f"a.{fmt}", load_reference()), Identity)

    sheets = {"ThongTin": info_rows(unit="664"), "Thông tin": info_rows(), "HTX": htx}
    read = read_workbook(book(tmp_path / f"b.{fmt}", sheets, ["ThongTin"]))
    assert read.rejection is None
    assert (read.info_sheet, read.info["unit_code"]) == ("Thông tin", "663")
    assert read.findings == []


def test_a_row_without_code_reads_no_rule_for_its_blank_figure_cells(tmp_path, monkeypatch):
    """Whether a row without a code holds figures is asked of its numeric cells: a blank one
    holds none, without running the rules (the signature block's are all blank)."""
    from etl.read import cells

    blank: list[str] = []  # the rules run for a blank cell
    for name in ("parse_money", "parse_quantity", "parse_date"):
        rule = getattr(cells, name)

        def noted(raw, *args, rule=rule, name=name, **kwargs):
            if raw is None:
                blank.append(name)
            return rule(raw, *args, **kwargs)

        monkeypatch.setattr(cells, name, noted)
    rows = [
        HTX_HEADER,
        htx_row(1, "6400000001"),
        [None, "Người lập biểu", None, None, None, None, None, None, None, None, "TRƯỞNG PHÒNG"],
    ]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": rows}))
    assert [r["coop_code"] for r in read.sheets["htx"].rows] == ["6400000001"]
    assert read.sheets["htx"].rows_skipped == 1
    assert blank == []


def test_each_sheet_is_parsed_once(tmp_path, monkeypatch):
    """calamine parses a whole sheet on every `get_sheet_by_name`: the reader asks once per
    sheet it reads (a second ask doubled the parse, the read's largest cost; issue 17)."""
    import python_calamine

    real, asked = python_calamine.CalamineWorkbook, []

    class Counted:
        def __init__(self, workbook):
            self._workbook = workbook

        def __getattr__(self, name):
            return getattr(self._workbook, name)

        def get_sheet_by_name(self, name):
            asked.append(name)
            return self._workbook.get_sheet_by_name(name)

    class Opener:
        @staticmethod
        def from_path(path):
            return Counted(real.from_path(path))

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Opener)
    rows = [HTX_HEADER, htx_row(1, "6400000001")]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"ThongTin": info_rows(), "HTX": rows}))
    assert read.rejection is None, read.rejection
    assert len(read.sheets["htx"].rows) == 1
    assert sorted(asked) == ["HTX", "ThongTin"]


def test_row_under_the_header_is_told_once(tmp_path, monkeypatch):
    """Whether the row under a one-row header holds its units is asked once: the year split
    (`_split_by_year`) and the header's units both want it, and a second look at the same
    row was a fifth of finding the header (issue 17)."""
    from etl.read import headers

    real, asked = headers.units_row, []

    def counted(row):
        asked.append(row)
        return real(row)

    monkeypatch.setattr(headers, "units_row", counted)
    rows = [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "6400000002")]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"ThongTin": info_rows(), "HTX": rows}))
    assert read.rejection is None, read.rejection
    assert len(read.sheets["htx"].rows) == 2
    assert len(asked) == 1
