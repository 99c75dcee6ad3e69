"""Writes the fixture corpus: one workbook per drift rule and per rejection cause of the spec.

Every drift file holds the same three cooperatives (`TRUTH`), each time written with one
kind of mess a district clerk really makes; the tests read each file and expect `TRUTH`.
The rejection files each carry one cause. The files are committed; run this script only
to change them, all of them or only those named (a new fixture leaves the others as they
are, byte for byte):

    .venv/bin/python tests/corpus/make_corpus.py [d11_section_rows.xlsx ...]

It needs LibreOffice (`soffice`, Debian's libreoffice-calc-nogui) for the .xls and .ods
copies, and msoffcrypto-tool (`ENCRYPT_PYTHON`, a Python that has it) for the encrypted one.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent

HEADER = [
    "STT", "Mã số HTX", "Tên HTX", "Xã/Phường", "Ngày thành lập", "Lĩnh vực",
    "Tham gia Đề án 167", "Số thành viên", "Số lao động", "Vốn điều lệ", "Tổng tài sản",
    "Doanh thu", "Lợi nhuận trước thuế", "Thu nhập bình quân", "Xếp loại", "Điểm",
    "Liên kết tiêu thụ", "Ghi chú",
]  # fmt: skip

# The three cooperatives every drift file describes, in the units the warehouse keeps.
TRUTH = [
    {
        "coop_code": "6400123456", "name": "HTX Cà phê Đắk Mil", "commune_name": "Đức Mạnh",
        "founded_on": dt.date(2018, 3, 5), "sector": "Nông nghiệp", "in_da167": True,
        "members": 1250, "workers": 40, "charter_capital_mvnd": 2000.0,
        "total_assets_mvnd": 3500.5, "revenue_mvnd": 1250.0, "profit_before_tax_mvnd": -12.5,
        "avg_income_mvnd": 72.0, "rating": "Tốt", "score": 85.5, "has_offtake_contract": True,
    },
    {
        "coop_code": "6400234567", "name": "HTX Hồ tiêu Thuận An", "commune_name": "Thuận An",
        "founded_on": dt.date(2020, 12, 13), "sector": "Nông nghiệp", "in_da167": False,
        "members": 35, "workers": None, "charter_capital_mvnd": 800.0,
        "total_assets_mvnd": None, "revenue_mvnd": 2000.0, "profit_before_tax_mvnd": 150.0,
        "avg_income_mvnd": 60.5, "rating": "Khá", "score": 70.0, "has_offtake_contract": False,
    },
    {
        "coop_code": "0100345678", "name": "HTX Dịch vụ tổng hợp Đắk Sắk",
        "commune_name": "Đắk Sắk", "founded_on": dt.date(2015, 1, 2),
        "sector": "Phi nông nghiệp", "in_da167": False, "members": 8, "workers": 5,
        "charter_capital_mvnd": 1.5, "total_assets_mvnd": 10.0, "revenue_mvnd": 0.0,
        "profit_before_tax_mvnd": 0.0, "avg_income_mvnd": None, "rating": "Trung bình",
        "score": 55.0, "has_offtake_contract": False,
    },
]  # fmt: skip

KEYS = [
    "coop_code", "name", "commune_name", "founded_on", "sector", "in_da167", "members",
    "workers", "charter_capital_mvnd", "total_assets_mvnd", "revenue_mvnd",
    "profit_before_tax_mvnd", "avg_income_mvnd", "rating", "score", "has_offtake_contract",
]  # fmt: skip


def info(unit="663", year=2023, extra=()):
    return [
        ["Thông tin", "Giá trị"],
        ["Mã đơn vị", unit],
        ["Tên đơn vị", "Huyện Đắk Mil"],
        ["Năm báo cáo", year],
        ["Ngày lập", dt.date(year + 1, 1, 15)],
        ["Người lập", "Nguyễn Thị Lan"],
        *extra,
    ]


def plain_row(i: int, coop: dict) -> list:
    """A template row: typed cells, money in million VND."""
    yes = {True: "x", False: ""}
    return [
        i, coop["coop_code"], coop["name"], coop["commune_name"], coop["founded_on"],
        coop["sector"], yes[coop["in_da167"]], coop["members"], coop["workers"],
        coop["charter_capital_mvnd"], coop["total_assets_mvnd"], coop["revenue_mvnd"],
        coop["profit_before_tax_mvnd"], coop["avg_income_mvnd"], coop["rating"],
        coop["score"], "Có" if coop["has_offtake_contract"] else "Không", None,
    ]  # fmt: skip


def write(path: Path, sheets: dict[str, list[list]], merges=()) -> None:
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_properties({"created": dt.datetime(2024, 1, 15)})
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
                elif isinstance(value, str):
                    sheet.write_string(r, c, value)
                elif value is not None:
                    sheet.write(r, c, value)
        for sheet_name, first_row, first_col, last_row, last_col, text in merges:
            if sheet_name == name:
                sheet.merge_range(first_row, first_col, last_row, last_col, text)
    workbook.close()


def signature(left: str | None, right: str) -> list:
    """A signature-block row: the preparer under the code column, the head of office far right."""
    return [None, left, *[None] * 9, right]


def template_rows() -> list[list]:
    return [HEADER, *[plain_row(i, c) for i, c in enumerate(TRUTH, 1)]]


def drift_files() -> dict[str, tuple[dict, tuple]]:
    files: dict[str, tuple[dict, tuple]] = {}
    base = template_rows()

    # 1. Title and signature blocks.
    files["d01_title_signature.xlsx"] = (
        {
            "ThongTin": info(),
            "HTX": [
                ["UBND HUYỆN ĐẮK MIL"],
                ["PHÒNG KINH TẾ"],
                ["BÁO CÁO TÌNH HÌNH HOẠT ĐỘNG HỢP TÁC XÃ NĂM 2023"],
                [],
                *base,
                [],
                signature(None, "Đắk Mil, ngày 15 tháng 01 năm 2024"),
                signature("Người lập biểu", "TRƯỞNG PHÒNG"),
                signature("(Ký, ghi rõ họ tên)", "(Ký tên, đóng dấu)"),
                signature("Nguyễn Thị Lan", "Trần Văn Bình"),
            ],
        },
        (),
    )

    # 2. Two-row header with merged group cells, and a column-number row.
    top = list(HEADER)
    bottom = [None] * len(HEADER)
    for i in range(9, 14):
        top[i], bottom[i] = None, HEADER[i]
    numbers = [f"({i})" for i in range(1, len(HEADER) + 1)]
    files["d02_two_row_header.xlsx"] = (
        {"ThongTin": info(), "HTX": [top, bottom, numbers, *base[1:]]},
        (("HTX", 0, 9, 0, 13, "Kết quả sản xuất kinh doanh (triệu đồng)"),),
    )

    # 3. Header spelling: unaccented, upper case, line breaks, units, any order, extra column.
    spelled = [
        "stt", "MA SO THUE", "Ten hop tac xa", "Dia chi xa", "NGAY THANH LAP", "Linh vuc",
        "Tham gia\nĐề án  167", "Số thành viên\n(người)", "SO LAO DONG", "Vốn điều lệ (triệu đồng)",
        "Tong tai san", "DOANH THU\n(trieu dong)", "Lợi nhuận trước thuế", "Thu nhap binh quan",
        "XẾP LOẠI", "Điểm", "Liên kết tiêu thụ", "Ghi chú",
    ]  # fmt: skip
    order = [1, 2, 0, 15, 14, 11, 12, 3, 4, 5, 6, 7, 8, 9, 10, 13, 16, 17]
    files["d03_header_spelling.xlsx"] = (
        {
            "ThongTin": info(),
            "HTX": [
                [spelled[i] for i in order] + ["Số điện thoại"],
                *[[row[i] for i in order] + ["0912 345 678"] for row in base[1:]],
            ],
        },
        (),
    )

    # 4. Money units: header units, and the file's `Đơn vị tính` where headers carry none.
    money = {9: 1e6, 10: 1e3, 11: 1e-3}  # đồng, nghìn đồng, tỷ đồng
    unit_names = {9: "đồng", 10: "nghìn đồng", 11: "tỷ đồng"}
    header4 = [f"{h} ({unit_names[i]})" if i in money else h for i, h in enumerate(HEADER)]
    rows4 = []
    for row in base[1:]:
        scaled = list(row)
        for i, factor in money.items():
            if scaled[i] is not None:
                scaled[i] = scaled[i] * factor
        # columns 12 and 13 carry no unit: the file says nghìn đồng
        for i in (12, 13):
            if scaled[i] is not None:
                scaled[i] = scaled[i] * 1e3
        rows4.append(scaled)
    files["d04_money_units.xlsx"] = (
        {"ThongTin": info(extra=[["Đơn vị tính", "nghìn đồng"]]), "HTX": [header4, *rows4]},
        (),
    )

    # 5. Numbers typed as text, Vietnamese and English grouping, spaces.
    def as_text(value, english=False):
        if value is None:
            return None
        if isinstance(value, float) and value != int(value):
            whole, frac = f"{value:,.1f}".split(".")
            return f" {whole}.{frac} " if english else whole.replace(",", ".") + "," + frac
        number = f"{int(value):,}"
        return number if english else number.replace(",", ".")

    rows5 = []
    for n, row in enumerate(base[1:]):
        text = list(row)
        for i in range(7, 14):
            text[i] = as_text(row[i], english=(n == 2 and i == 9))
        text[15] = as_text(row[15])
        rows5.append(text)
    files["d05_numbers_as_text.xlsx"] = ({"ThongTin": info(), "HTX": [HEADER, *rows5]}, ())

    # 6. Blanks: `-`, `–`, `x` and empty cells mean not reported.
    rows6 = [list(r) for r in base[1:]]
    rows6[1][8], rows6[1][10] = "-", "–"
    rows6[2][13] = "x"
    files["d06_blanks.xlsx"] = ({"ThongTin": info(), "HTX": [HEADER, *rows6]}, ())

    # 7. Dates: real cells, serial numbers, d/m/yyyy, dd-mm-yyyy, yyyy-mm-dd text.
    rows7 = [list(r) for r in base[1:]]
    rows7[0][4] = "05/03/2018"
    rows7[1][4] = (dt.date(2020, 12, 13) - dt.date(1899, 12, 30)).days  # serial number
    rows7[2][4] = "2/1/2015"
    files["d07_dates.xlsx"] = ({"ThongTin": info(), "HTX": [HEADER, *rows7]}, ())

    # 8. Text: NFD from macOS, stray spaces, codes with spaces, dots or as numbers.
    rows8 = [list(r) for r in base[1:]]
    for row in rows8:
        row[2] = "  " + unicodedata.normalize("NFD", row[2]).replace(" ", "   ") + " "
        row[3] = unicodedata.normalize("NFD", row[3])
        row[5] = unicodedata.normalize("NFD", row[5]).upper()
    rows8[0][1] = "6400 123 456"
    rows8[1][1] = "6400.234.567"
    rows8[2][1] = 100345678  # a 9-digit number: the code lost its leading 0
    files["d08_text_and_codes.xlsx"] = ({"ThongTin": info(), "HTX": [HEADER, *rows8]}, ())

    # 9. Total and subtotal rows and empty rows inside the table.
    total = [None, None, "Tổng cộng", None, None, None, None, 1293, 45, 2801.5]
    files["d09_total_rows.xlsx"] = (
        {
            "ThongTin": info(),
            "HTX": [
                HEADER,
                ["I", None, "Cộng nhóm nông nghiệp", None, None, None, None, 1285],
                base[1],
                [],
                base[2],
                [None, "Cộng", None, None, None, None, None, 1285],
                base[3],
                total,
            ],
        },
        (),
    )

    # 10. Yes/no spellings.
    rows10 = [list(r) for r in base[1:]]
    rows10[0][6], rows10[0][16] = "X", "1"
    rows10[1][6], rows10[1][16] = "Không", "0"
    rows10[2][6], rows10[2][16] = 0, "không"
    files["d10_yes_no.xlsx"] = ({"ThongTin": info(), "HTX": [HEADER, *rows10]}, ())
    files.update(structure_files())
    return files


def section(marker: str | None, title: str | None = None, sums: bool = False) -> list:
    """A group title row (rule 11): a marker in STT, the title under `Tên HTX`, and, on a
    subtotal, the group's members and charter capital."""
    row: list = [marker, None, title, *[None] * (len(HEADER) - 3)]
    if sums:
        row[7], row[9] = 1285, 2800.0
    return row


def structure_files() -> dict[str, tuple[dict, tuple]]:
    """The table-level drift of rules 11, 12, 13 and 17: each reads as `TRUTH`."""
    files: dict[str, tuple[dict, tuple]] = {}
    base = template_rows()

    # 11. Section rows: Roman numerals over sectors, letters and titles over communes,
    # subtotals; the rows leave commune and sector empty for their titles to supply.
    bare = [list(r) for r in base[1:]]
    for row in bare:
        row[3] = row[5] = None
    subtotal = [None] * len(HEADER)
    subtotal[7], subtotal[9] = 1285, 2800.0
    files["d11_section_rows.xlsx"] = (
        {
            "ThongTin": info(),
            "HTX": [
                HEADER,
                section("I", "Lĩnh vực nông nghiệp", sums=True),
                section("a)", "Xã Đức Mạnh:"),
                bare[0],
                section("b) Xã Thuận An"),
                bare[1],
                subtotal,
                section(None, "HTX thành lập mới năm 2023"),
                section("II.", "LĨNH VỰC PHI NÔNG NGHIỆP", sums=True),
                section(None, "Đắk Sắk"),
                bare[2],
            ],
        },
        (),
    )

    # 12. Merged cells in the data: a sector over two cooperatives, `Không` over two.
    rows12 = [list(r) for r in base[1:]]
    rows12[1][5] = rows12[2][16] = None
    files["d12_merged_cells.xlsx"] = (
        {"ThongTin": info(), "HTX": [HEADER, *rows12]},
        (("HTX", 1, 5, 2, 5, "Nông nghiệp"), ("HTX", 2, 16, 3, 16, "Không")),
    )

    # 13. Printed pages pasted together: the two-row header (merged down, as Excel prints
    # it) and its column-number row repeat inside the table.
    top = list(HEADER)
    bottom: list = [None] * len(HEADER)
    for i in range(9, 14):
        top[i], bottom[i] = None, HEADER[i]
    numbers = [f"({i})" for i in range(1, len(HEADER) + 1)]
    page = [top, bottom, numbers]
    header_merges = []
    for first in (0, 5):
        header_merges.append(("HTX", first, 9, first, 13, "Kết quả sản xuất kinh doanh"))
        header_merges += [
            ("HTX", first, c, first + 1, c, HEADER[c]) for c in range(len(HEADER)) if top[c]
        ]
    files["d13_repeated_headers.xlsx"] = (
        {"ThongTin": info(), "HTX": [*page, base[1], base[2], *page, base[3]]},
        tuple(header_merges),
    )

    # 17. The HTX table on a sheet of another name, beside an instructions sheet.
    files["d17_sheet_by_header.xlsx"] = (
        {
            "ThongTin": info(),
            "Hướng dẫn": [["Điền danh sách HTX vào trang sau, mỗi HTX một dòng."]],
            "Danh sách HTX năm 2023": [["DANH SÁCH HỢP TÁC XÃ NĂM 2023"], [], *base],
        },
        (),
    )
    return files


def cell_files() -> dict[str, tuple[dict, tuple]]:
    """Rules 14, 15, 16 and 18: what a single cell may carry. The `d` files read as `TRUTH`
    (rule 18's OCOP sheet as `PARTIAL_DATES`); the `r` files are rejected for their cells."""
    files: dict[str, tuple[dict, tuple]] = {}
    base = template_rows()

    # 14. Units written in the cells, which win over the header's (`Doanh thu (đồng)`).
    header14 = [f"{h} (đồng)" if h == "Doanh thu" else h for h in HEADER]
    units = {
        9: ("2 tỷ", "800.000 nghìn", "1.500.000 đ"),
        10: ("3.500,5 triệu", None, "10.000 ngàn"),
        11: ("1.250.000.000 đồng", "2 tỷ đồng", "0 VND"),
        12: ("(12,5) tr", "150 tr.đ", "- 0 trđ"),
        13: ("72 trđ", "60.500.000 VNĐ", None),
        7: ("1.250 người", "35 thành viên", "8 xã viên"),
        8: ("40 lao động", None, "5 người"),
        15: ("85,5 điểm", "70 điểm", "55"),
    }
    rows14 = [list(r) for r in base[1:]]
    for column, texts in units.items():
        for row, text in zip(rows14, texts, strict=True):
            row[column] = text
    files["d14_units_in_cells.xlsx"] = ({"ThongTin": info(), "HTX": [header14, *rows14]}, ())

    # 15. Invisible characters: NBSP, zero-width, soft hyphen, BOM, a leading apostrophe,
    # full-width digits and punctuation.
    wide = str.maketrans("0123456789/,.", "０１２３４５６７８９／，．")
    rows15 = [list(r) for r in base[1:]]
    rows15[0][1] = "\u200b6400123456\u200b"
    rows15[1][1] = "'6400234567"
    rows15[2][1] = "0100345678".translate(wide)
    rows15[0][2] = "HTX\u00a0Cà phê\u200d Đắk Mi\u00adl"
    rows15[1][2] = "\ufeffHTX Hồ tiêu Thuận\u2060 An"
    rows15[2][3] = "Đắk\u00a0Sắk\u200c"
    rows15[0][4] = "05/03/2018".translate(wide)
    rows15[1][4] = "\u200b13/12/2020"
    rows15[2][5] = "Phi\u00a0nông ngh\u00adiệp"
    rows15[0][6] = "x\u200b"
    rows15[0][7] = "1\u00a0250"
    rows15[0][9] = "2\u202f000"
    rows15[0][10] = "3.500,5".translate(wide)
    rows15[0][12] = "\u200b-12,5"
    rows15[1][14] = "Khá\u00ad"
    rows15[0][15] = "85,5".translate(wide)
    rows15[2][16] = "'Không"
    files["d15_invisible_characters.xlsx"] = ({"ThongTin": info(), "HTX": [HEADER, *rows15]}, ())

    # 18. Dates in words, dotted and with two-digit years; partial dates on the OCOP sheet.
    rows18 = [list(r) for r in base[1:]]
    rows18[0][4] = "ngày 5 tháng 3 năm 2018"
    rows18[1][4] = "13/12/20"  # 2020: not after the report year 2023
    rows18[2][4] = "02.01.2015"
    ocop = [["Mã số HTX", "Tên sản phẩm", "Nhóm sản phẩm", "Số sao", "Số quyết định",
             "Ngày quyết định"]]  # fmt: skip
    for code, product, decided in PARTIAL_DATES:
        ocop.append([code, product, "Đồ uống", 4, "12/QĐ-UBND", decided])
    files["d18_dates_in_words.xlsx"] = (
        {
            "ThongTin": [
                *info()[:4],
                ["Ngày lập", "ngày 15 tháng 1 năm 2024"],
                *info()[5:],
            ],
            "HTX": [HEADER, *rows18],
            "OCOP": ocop,
        },
        (),
    )

    # 14. A unit that does not fit its column: tonnes in money, money in a count.
    rows_u = [list(r) for r in base[1:]]
    rows_u[0][11] = "12 tấn"
    rows_u[1][7] = "2 tỷ"
    rows_u[2][9] = "5 người"
    files["r_unit_mismatch.xlsx"] = ({"ThongTin": info(), "HTX": [HEADER, *rows_u]}, ())

    # 16. Codes Excel destroyed into scientific notation (text), beside exact numbers.
    rows_e = [list(r) for r in base[1:]]
    rows_e[0][1] = "6,40012E+09"
    rows_e[1][1] = "6.40023E+09"
    rows_e[2][1] = "6.4E+09"
    exact = [list(r) for r in base[1:]]
    exact[0][1], exact[1][1], exact[2][1] = 6400223301, 6400223302.0, "6400223303.0"
    for i, row in enumerate(exact):
        row[0], row[2] = 4 + i, f"HTX số {4 + i}"
    files["r_destroyed_codes.xlsx"] = (
        {"ThongTin": info(), "HTX": [HEADER, *rows_e, *exact]},
        (),
    )
    return files


# Rule 18's OCOP sheet: code, product, decision date as written -> (date, precision).
PARTIAL_DATES = (
    ("6400123456", "Cà phê rang xay", "03/2021"),
    ("6400123456", "Cà phê hạt", "tháng 6/2021"),
    ("6400234567", "Hồ tiêu", "2022"),
    ("6400234567", "Tiêu đỏ", "ngày 5 tháng 3 năm 2021"),
    ("0100345678", "Mật ong", "15/3/21"),
)
PARTIAL_READ = (
    (dt.date(2021, 3, 1), "month"),
    (dt.date(2021, 6, 1), "month"),
    (dt.date(2022, 1, 1), "year"),
    (dt.date(2021, 3, 5), "day"),
    (dt.date(2021, 3, 15), "day"),
)


def rejection_files() -> dict[str, tuple[dict, tuple]]:
    base = template_rows()
    rows = [list(r) for r in base]
    rows[2][1] = rows[1][1]  # duplicate code
    rows[3][15] = 95  # Trung bình with a score of 95
    # Page two's header swaps `Doanh thu` and `Lợi nhuận trước thuế` (rule 13).
    swapped = [11, 12]
    differs = [list(r) for r in base]
    for row in differs[3:]:
        row[11], row[12] = row[12], row[11]
    page_two = list(HEADER)
    page_two[swapped[0]], page_two[swapped[1]] = HEADER[12], HEADER[11]
    # A cooperative without its code: its note names a total (rule 11).
    uncoded = [list(r) for r in base]
    uncoded[2][1], uncoded[2][17] = None, "Tổng hợp theo báo cáo của xã"
    return {
        # No sheet is the HTX table, by name or by header (rule 17).
        "r_no_htx_sheet.xlsx": (
            {"ThongTin": info(), "GhiChu": [["Báo cáo gửi kèm Công văn số 12/UBND-KT"]]},
            (),
        ),
        "r_two_htx_sheets.xlsx": ({"ThongTin": info(), "Sheet1": base, "Biểu 01": base}, ()),
        "r_header_repeated_differs.xlsx": (
            {"ThongTin": info(), "HTX": [*differs[:3], page_two, *differs[3:]]},
            (),
        ),
        "r_coop_code_required.xlsx": ({"ThongTin": info(), "HTX": uncoded}, ()),
        "r_missing_column.xlsx": (
            {"ThongTin": info(), "HTX": [[h for h in HEADER if h != "Tên HTX"]]},
            (),
        ),
        "r_unknown_unit.xlsx": ({"ThongTin": info(unit="999"), "HTX": base}, ()),
        "r_year_out_of_range.xlsx": ({"ThongTin": info(year=2019), "HTX": base}, ()),
        "r_rule_errors.xlsx": ({"ThongTin": info(), "HTX": rows}, ()),
        # No ThongTin: unit and year come from the file name.
        "dak_mil_2023_khong_thong_tin.xlsx": ({"HTX": base}, ()),
    }


# Workbooks also committed as LibreOffice saved them (.xls and .ods), by the .xlsx they
# are converted from: the stem the copies take.
LIBREOFFICE_COPIES = {
    "d01_title_signature.xlsx": "f_template",
    "d11_section_rows.xlsx": "d11_section_rows",
    "d12_merged_cells.xlsx": "d12_merged_cells",
    "d13_repeated_headers.xlsx": "d13_repeated_headers",
}


def main(only: tuple[str, ...] = ()) -> None:
    """Write every corpus file, or only the files named (`.xlsx` names; their copies too)."""
    wanted = set(only)
    for name, (sheets, merges) in {**drift_files(), **cell_files(), **rejection_files()}.items():
        if not wanted or name in wanted:
            write(HERE / name, sheets, merges)
    if not wanted:
        (HERE / "r_empty.xlsx").write_bytes(b"")
        (HERE / "r_corrupt.xlsx").write_bytes(
            (HERE / "d01_title_signature.xlsx").read_bytes()[:900]
        )
        (HERE / "r_not_a_spreadsheet.xlsx").write_bytes(
            b"%PDF-1.4\n% Bao cao HTX nam 2023 (a PDF renamed to .xlsx)\n"
        )
    # The same workbooks saved by LibreOffice as .xls and .ods.
    with tempfile.TemporaryDirectory() as out:
        for source, stem in LIBREOFFICE_COPIES.items():
            if wanted and source not in wanted:
                continue
            for fmt in ("xls", "ods"):
                subprocess.run(
                    ["soffice", "--headless", "--convert-to", fmt, "--outdir", out,
                     str(HERE / source)],
                    check=True, capture_output=True,
                )  # fmt: skip
                shutil.copy(Path(out) / f"{Path(source).stem}.{fmt}", HERE / f"{stem}.{fmt}")
    encrypt = os.environ.get("ENCRYPT_PYTHON")
    if encrypt and not wanted:
        subprocess.run(
            [encrypt, "-c", "import msoffcrypto,sys;from msoffcrypto.format.ooxml import OOXMLFile;"
             "f=OOXMLFile(open(sys.argv[1],'rb'));f.encrypt('matkhau',open(sys.argv[2],'wb'))",
             str(HERE / "d01_title_signature.xlsx"), str(HERE / "r_encrypted.xlsx")],
            check=True,
        )  # fmt: skip


if __name__ == "__main__":
    main(tuple(sys.argv[1:]))
