"""The table-level drift of the workbook contract (rules 11, 12, 13 and 17): section rows,
merged cells, repeated headers and the HTX table on a sheet of another name.

Each drift file of `tests/corpus/` reads as `TRUTH`, also as LibreOffice saved it (.xls
and .ods); what the reader supplied or assumed is an `info` finding, which on its own
raises no alert and writes no feedback workbook.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from conftest import (
    HTX_HEADER,
    LINK_HEADER,
    OCOP_HEADER,
    SUPPORT_HEADER,
    htx_row,
    info_rows,
    query,
    run_steps,
    write_xlsx,
)
from corpus.make_corpus import TRUTH, template_rows
from test_drift import CORPUS, assert_truth

from etl.contract.layout import HTX
from etl.contract.reference import load_reference
from etl.quality.validate import validate_batch
from etl.read import guard
from etl.read.discover import file_id_for, sha256_of
from etl.read.frames import ReadFile
from etl.read.identify import identify
from etl.read.reader import read_workbook

FORMATS = ("xlsx", "xls", "ods")


def _infos(read, rule: str) -> list[tuple]:
    return [
        (f.severity, f.sheet, f.excel_row, f.column_name, f.value)
        for f in read.findings
        if f.rule == rule
    ]


def _htx(tmp_path: Path, rows: list[list]) -> list[dict]:
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": [HTX_HEADER, *rows]}))
    assert read.rejection is None, read.rejection
    return read.sheets["htx"].rows


def _title(marker: str | None, text: str | None = None) -> list:
    return [marker, None, text] + [None] * (len(HTX_HEADER) - 3)


def _bare(n: int, **overrides) -> list:
    """A cooperative whose commune and sector are left to its group titles."""
    return htx_row(n, f"64000000{n:02d}", **{"Xã/Phường": None, "Lĩnh vực": None, **overrides})


# --- rule 11: section rows --------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_rule_11_section_rows_are_not_cooperatives_and_supply_their_values(fmt):
    name = f"d11_section_rows.{fmt}"
    assert_truth(name)
    read = read_workbook(CORPUS / name)
    assert [r["excel_row"] for r in read.sheets["htx"].rows] == [4, 6, 11]
    supplied = _infos(read, "value_from_section")
    assert supplied == [
        ("info", "HTX", 4, "Xã/Phường", "Đức Mạnh"),
        ("info", "HTX", 4, "Lĩnh vực", "Nông nghiệp"),
        ("info", "HTX", 6, "Xã/Phường", "Thuận An"),
        ("info", "HTX", 6, "Lĩnh vực", "Nông nghiệp"),
        ("info", "HTX", 11, "Xã/Phường", "Đắk Sắk"),
        ("info", "HTX", 11, "Lĩnh vực", "Phi nông nghiệp"),
    ]
    message = next(f.message for f in read.findings if f.rule == "value_from_section")
    vi, en = message.split(" / ", 1)
    assert "dòng tiêu đề nhóm ở dòng 3" in vi
    assert "group title on row 3" in en
    assert all(f.severity == "info" for f in read.findings)


def test_rule_11_roman_numeral_title_ends_both_kinds_a_letter_title_only_its_own(tmp_path):
    rows = _htx(
        tmp_path,
        [
            _title("I", "Lĩnh vực nông nghiệp"),
            _title("a", "Xã Đức Mạnh:"),
            _bare(1),
            _title("b)", "Xã Thuận An"),  # a new commune; the sector goes on
            _bare(2),
            _bare(3, **{"Xã/Phường": "Đắk Gằn", "Lĩnh vực": "Khác"}),  # its own cells win
            _title("II", "HTX thành lập mới năm 2023"),  # names nothing, ends both
            _bare(4),
        ],
    )
    got = [(r["coop_code"], r["commune_name"], r["sector"]) for r in rows]
    assert got == [
        ("6400000001", "Đức Mạnh", "Nông nghiệp"),
        ("6400000002", "Thuận An", "Nông nghiệp"),
        ("6400000003", "Đắk Gằn", "Khác"),
        ("6400000004", None, None),
    ]


def _marked(where: str, marker: str, text: str) -> list:
    """A section title with its marker in `STT`, or leading its text in the name column."""
    return _title(marker, text) if where == "stt" else _title(None, f"{marker}. {text}")


@pytest.mark.parametrize("where", ["stt", "name"])
def test_rule_11_a_lower_case_roman_numeral_title_ends_both_kinds_too(tmp_path, where):
    """`ii.` is a Roman numeral written in lower case, as `II.` is in upper case: its title
    ends the commune and the sector before it, in `STT` or leading the title's text. Before,
    the commune of `i.` ran on under `ii`, and `ii. Lĩnh vực phi nông nghiệp` in the name
    column was no title, so the cooperative under it got `Nông nghiệp` from `i.`."""
    rows = _htx(
        tmp_path,
        [
            _marked(where, "i", "Lĩnh vực nông nghiệp"),
            _title(None, "Xã Đức Mạnh:"),
            _bare(1),
            _marked(where, "ii", "Lĩnh vực phi nông nghiệp"),
            _bare(2),
            _marked(where, "iii", "HTX thành lập mới năm 2023"),
            _bare(3),
        ],
    )
    got = [(r["coop_code"], r["commune_name"], r["sector"]) for r in rows]
    assert got == [
        ("6400000001", "Đức Mạnh", "Nông nghiệp"),
        ("6400000002", None, "Phi nông nghiệp"),
        ("6400000003", None, None),
    ]


@pytest.mark.parametrize("where", ["stt", "name"])
@pytest.mark.parametrize(
    ("before", "letter"), [("h", "i"), ("u", "v"), ("H", "I"), ("d", "đ"), ("D", "Đ")]
)
def test_rule_11_the_next_letter_of_a_lettered_list_is_a_letter_title(
    tmp_path, before, letter, where
):
    """A Vietnamese lettered list of communes under a Roman sector title runs `a.` … `d.`,
    `đ.`, `e.` … `h.`, `i.`: each is a letter title, in `STT` or leading the title, which
    names its commune and leaves the sector on. `i.` after `h.` (or `v.` after `u.`) is the
    next letter, not a Roman numeral that ends the sector (an `i.` that follows no `h.` is,
    the test above); `đ` is a letter as `d` is. Before, the cooperative under `i. Xã Thuận
    An` lost its sector (72edf64), and the one under `đ. Xã Thuận An` kept the commune of
    `d.` above."""
    rows = _htx(
        tmp_path,
        [
            _title("I", "Lĩnh vực nông nghiệp"),
            _marked(where, before, "Xã Đức Mạnh:"),
            _bare(1),
            _marked(where, letter, "Xã Thuận An:"),
            _bare(2),
        ],
    )
    got = [(r["coop_code"], r["commune_name"], r["sector"]) for r in rows]
    assert got == [
        ("6400000001", "Đức Mạnh", "Nông nghiệp"),
        ("6400000002", "Thuận An", "Nông nghiệp"),
    ]


@pytest.mark.parametrize(
    ("title", "sector"),
    [
        ("Lĩnh vực phi nông nghiệp", "Phi nông nghiệp"),
        ("NGÀNH PHI NÔNG NGHIỆP:", "Phi nông nghiệp"),
        ("Lĩnh vực nông nghiệp:", "Nông nghiệp"),
        ("Ngành Vận tải", "Vận tải"),
        ("Quỹ tín dụng nhân dân", "Quỹ tín dụng nhân dân"),
        # A title names a sector as a cell does (`cells.parse_sector`'s short forms).
        ("Lĩnh vực nông, lâm nghiệp", "Nông nghiệp"),
        ("Ngành GTVT:", "Vận tải"),
        ("Quỹ TDND", "Quỹ tín dụng nhân dân"),
        ("Lĩnh vực phi NN", "Phi nông nghiệp"),
        # After `HTX`, as a cell names it (`I | HTX NÔNG NGHIỆP`, `II | HTX PHI NÔNG NGHIỆP`).
        ("HTX PHI NÔNG NGHIỆP", "Phi nông nghiệp"),
        ("HTX nông nghiệp:", "Nông nghiệp"),
        ("Hợp tác xã vận tải (3 HTX)", "Vận tải"),
        # The words a group title puts before them (`Các HTX`, `Nhóm HTX`, both prefixes).
        ("Các HTX nông nghiệp", "Nông nghiệp"),
        ("Nhóm HTX phi nông nghiệp", "Phi nông nghiệp"),
        ("HTX lĩnh vực nông nghiệp", "Nông nghiệp"),
        ("Lĩnh vực HTX vận tải", "Vận tải"),
        ("Các hợp tác xã ngành xây dựng", "Xây dựng"),
    ],
)
def test_rule_11_a_sector_title_names_a_whole_label_the_longest(tmp_path, title, sector):
    [row] = _htx(tmp_path, [_title(None, title), _bare(1)])
    assert row["sector"] == sector


@pytest.mark.parametrize(
    ("title", "sector"),
    [
        ("Các HTX khác", None),
        ("HTX khác:", None),
        ("Nhóm hợp tác xã khác", None),
        ("Lĩnh vực khác", "Khác"),
        ("HTX ngành khác", "Khác"),
    ],
)
def test_rule_11_the_other_cooperatives_are_no_sector_title(tmp_path, title, sector):
    """`Các HTX khác` is the other cooperatives of any grouping (`I | HTX tham gia Đề án
    167`, `II | Các HTX khác`), not the sector `Khác`: only a title that says `Lĩnh vực` or
    `Ngành` (the contract's rule 11) names that one."""
    [row] = _htx(tmp_path, [_title(None, title), _bare(1)])
    assert row["sector"] == sector


@pytest.mark.parametrize(
    ("title", "commune"),
    [
        ("Thị trấn Đắk Mil", "Đắk Mil"),
        ("TT Đắk Mil", "Đắk Mil"),
        ("TT. Đắk Mil", "Đắk Mil"),
        ("TT.Đắk Mil:", "Đắk Mil"),
        ("tt. Đắk Mil", "Đắk Mil"),
        ("P. Nghĩa Đức", "Nghĩa Đức"),
        ("X. Đắk Sắk", "Đắk Sắk"),
    ],
)
def test_rule_11_an_abbreviated_unit_prefix_makes_a_commune_title(tmp_path, title, commune):
    """`TT Đắk Mil`, `TT. Đắk Mil` (thị trấn as reports abbreviate it), `P. …` and `X. …`:
    the prefixes a commune's name is compared without (etl.text) make a commune title
    as `Thị trấn Đắk Mil` does. It ends the commune title above it and leaves the sector
    on. Before, `TT Đắk Mil` named nothing, so the cooperative under it got `Đắk Gằn`."""
    rows = _htx(
        tmp_path,
        [
            _title("I", "Lĩnh vực nông nghiệp"),
            _title(None, "Xã Đắk Gằn"),
            _bare(1),
            _title(None, title),
            _bare(2),
        ],
    )
    got = [(r["coop_code"], r["commune_name"], r["sector"]) for r in rows]
    assert got == [
        ("6400000001", "Đắk Gằn", "Nông nghiệp"),
        ("6400000002", commune, "Nông nghiệp"),
    ]


@pytest.mark.parametrize("where", ["stt", "name"])
def test_rule_11_x_after_ix_is_the_tenth_group_not_an_abbreviated_xa(tmp_path, where):
    """`X.` after `IX` is the tenth Roman-numeral group, which ends both kinds, though a
    commune's bare name follows it; so is `X` alone in `STT`."""
    tenth = _title(None, "X. Đắk Sắk") if where == "name" else _title("X", "Đắk Sắk")
    rows = _htx(tmp_path, [_title("IX", "Lĩnh vực nông nghiệp"), _bare(1), tenth, _bare(2)])
    got = [(r["coop_code"], r["commune_name"], r["sector"]) for r in rows]
    assert got == [("6400000001", None, "Nông nghiệp"), ("6400000002", "Đắk Sắk", None)]


@pytest.mark.parametrize(
    ("title", "commune"),
    [
        ("Xã Đắk Gằn (05 HTX)", "Đắk Gằn"),
        ("Xã Đắk Gằn (5 hợp tác xã):", "Đắk Gằn"),
        ("Xã Đắk Gằn: 3 HTX", "Đắk Gằn"),
        ("Xã Đắk Gằn - 3 HTX", "Đắk Gằn"),
        ("XÃ ĐẮK GẰN (5 HOP TAC XA)", "ĐẮK GẰN"),
        ("Xa Dak Gan: 3 htx", "Dak Gan"),
        ("TT. Đắk Mil (2 HTX)", "Đắk Mil"),
        ("Đắk Gằn (4 HTX)", "Đắk Gằn"),
        ("Xã Đắk Gằn 3 HTX", "Đắk Gằn"),
        ("Xã Đắk Gằn (có 5 HTX)", "Đắk Gằn"),
        ("Xã Đắk Gằn (gồm 05 hợp tác xã)", "Đắk Gằn"),
        ("Phường 3", "3"),  # a number that counts nothing: the name
        # Parentheses that are no count of cooperatives are part of what the title says.
        ("Xã Đắk Gằn (cũ)", "Đắk Gằn (cũ)"),
        ("Xã Đắk Gằn (05 thành viên)", "Đắk Gằn (05 thành viên)"),
    ],
)
def test_rule_11_a_count_of_cooperatives_is_no_part_of_a_commune_title(tmp_path, title, commune):
    """`Xã Đắk Gằn (05 HTX)`, `Xã Đức Mạnh: 3 HTX`: the trailing count of the group's
    cooperatives is not the commune's name. Before, the commune read `Đắk Gằn (05 HTX)`
    and `Đắk Gằn: 3 HTX`, each then an unknown commune."""
    read = read_workbook(
        write_xlsx(tmp_path / "f.xlsx", {"HTX": [HTX_HEADER, _title(None, title), _bare(1)]})
    )
    [row] = read.sheets["htx"].rows
    assert row["commune_name"] == commune
    assert _infos(read, "value_from_section") == [("info", "HTX", 3, "Xã/Phường", commune)]


@pytest.mark.parametrize(
    ("marker", "title", "sector"),
    [
        ("I", "Nông nghiệp (15 HTX)", "Nông nghiệp"),
        ("II.", "LĨNH VỰC PHI NÔNG NGHIỆP (3 hợp tác xã)", "Phi nông nghiệp"),
        (None, "II. Phi nông nghiệp: 3 HTX", "Phi nông nghiệp"),
        (None, "Lĩnh vực nông nghiệp - 15 HTX:", "Nông nghiệp"),
    ],
)
def test_rule_11_a_count_of_cooperatives_is_no_part_of_a_sector_title(
    tmp_path, marker, title, sector
):
    """`I | Nông nghiệp (15 HTX)`: a Roman-numeral title that counts its cooperatives still
    names its sector. Before, the count stopped the match against the list of sectors and
    the group's cooperatives got none."""
    [row] = _htx(tmp_path, [_title(marker, title), _bare(1)])
    assert row["sector"] == sector


@pytest.mark.parametrize("number", [1, "1", "1.", "1)", "(1)"])
def test_rule_11_a_title_numbered_in_stt_supplies_as_the_number_or_its_text(tmp_path, number):
    """`1 | Xã Đắk Gằn`: a numbered group title supplies its commune whether `STT` holds the
    number or, in a column formatted as Text, `1` or `1.` (rule 8: the same number)."""
    [row] = _htx(tmp_path, [_title(number, "Xã Đắk Gằn"), _bare(1)])
    assert row["commune_name"] == "Đắk Gằn"


def test_rule_11_a_roman_title_in_one_merged_cell_supplies_and_its_subtotal_is_skipped(tmp_path):
    subtotal = [None] * len(HTX_HEADER)
    subtotal[7], subtotal[9] = 80, 3000
    rows = _htx(
        tmp_path,
        [
            ["II. LĨNH VỰC PHI NÔNG NGHIỆP", *[None] * 6, 80, None, 3000],
            _bare(1),
            _bare(2),
            subtotal,  # the group's sums: no code, no name
        ],
    )
    assert [(r["coop_code"], r["sector"]) for r in rows] == [
        ("6400000001", "Phi nông nghiệp"),
        ("6400000002", "Phi nông nghiệp"),
    ]


def test_rule_11_the_subtotal_of_a_title_that_names_nothing_is_skipped(tmp_path):
    """`HTX thành lập mới năm 2023`, the contract's own example of a title with no marker,
    no colon and no commune or sector: the sums under its group are its subtotal."""
    title = [None] * len(HTX_HEADER)
    title[HTX_HEADER.index("Tên HTX")] = "HTX thành lập mới năm 2023"
    subtotal = [None] * len(HTX_HEADER)
    subtotal[HTX_HEADER.index("Số thành viên")] = 80
    subtotal[HTX_HEADER.index("Doanh thu")] = 3300
    rows = _htx(tmp_path, [title, htx_row(1, "6400000001"), htx_row(2, "6400000002"), subtotal])
    assert [(r["excel_row"], r["coop_code"]) for r in rows] == [
        (3, "6400000001"),
        (4, "6400000002"),
    ]


@pytest.mark.parametrize(
    ("sheet", "header", "record", "sums"),
    [
        ("HoTro", SUPPORT_HEADER, ["6400000001", "NTM", "Kho", "Tỉnh", 20, 2023], {4: 20}),
        ("LienKet", LINK_HEADER, ["6400000001", "Công ty A", "Cà phê", 12, 300], {3: 12, 4: 300}),
    ],
)
@pytest.mark.parametrize("marker", ["I", "II.", "A", "b)"])
def test_rule_11_a_support_sheet_s_stt_marks_its_titles_and_their_subtotals(
    tmp_path, sheet, header, record, sums, marker
):
    """A clerk's `STT` column on HoTro or LienKet (the template has none there): a Roman
    numeral or a letter in it marks a group title, as on HTX, so the sums under that group
    with no code and no text are its subtotal, never a support row without its code."""
    title = [marker, None, "Chương trình nông thôn mới"]
    subtotal = [None] * (len(header) + 1)
    for at, value in sums.items():
        subtotal[at + 1] = value
    rows = [["STT", *header], title, [1, *record], [2, *record], subtotal]
    htx = [HTX_HEADER, htx_row(1, "6400000001")]
    read = read_workbook(write_xlsx(tmp_path / "f.xlsx", {"HTX": htx, sheet: rows}))
    assert read.rejection is None, read.rejection
    [rows_read] = [s.rows for s in read.sheets.values() if s.sheet_name == sheet]
    assert [(r["excel_row"], r["coop_code"]) for r in rows_read] == [
        (3, "6400000001"),
        (4, "6400000001"),
    ]


@pytest.mark.parametrize(
    "row",
    [
        [None, None, "Tổng cộng", None, "Tỉnh", 100, None],
        [None, None, "Cộng NTM", None, "Tỉnh", 100, None],
        [None, None, "NTM", "Cộng", "Tỉnh", 100, None],
        [None, None, "Ghi chú:", "Nguồn vốn", "Khác", None, None],
        [None, None, "NTM", "Chương trình MTQG xây dựng nông thôn mới", None, None, None],
    ],
)
def test_a_support_table_s_totals_and_legends_are_no_lines(tmp_path, row):
    """Under the support lines, a total, a programme's subtotal, a note or a legend of the
    programmes' codes: no line without its code (helper BV: a version of this session took
    them for lines lacking their code, and rejected the file)."""
    header = ["STT", "Mã số HTX", "Chương trình", "Nội dung", "Nguồn vốn", "Kinh phí", "Năm"]
    coop = "6400000001"
    support = [header, [1, coop, "NTM", "Máy sấy", "Tỉnh", 100, 2023], row]
    sheets = {"ThongTin": info_rows(), "HTX": [HTX_HEADER, htx_row(1, coop)], "HoTro": support}
    path = write_xlsx(tmp_path / "663_2023.xlsx", sheets)
    assert [r["excel_row"] for r in read_workbook(path).sheets["hotro"].rows] == [2]
    assert _errors(path) == set()


@pytest.mark.parametrize(
    "line", ["Ngày 15 tháng 01 năm 2024", "Đắk Mil, ngày 15 tháng 01 năm 2024"]
)
def test_a_dated_signature_line_under_the_table_is_no_cooperative(tmp_path, line):
    """`Đắk Mil, ngày 15 tháng 01 năm 2024` in the founding-date column reads as a date,
    but a row holding only that line is the signature block (rule 1)."""
    signed = [None] * len(HTX_HEADER)
    signed[HTX_HEADER.index("Ngày thành lập")] = line
    signer = [None] * len(HTX_HEADER)
    signer[HTX_HEADER.index("Ngày thành lập")] = "Người lập biểu"
    rows = _htx(tmp_path, [htx_row(1, "6400000001"), [None] * len(HTX_HEADER), signed, signer])
    assert [r["coop_code"] for r in rows] == ["6400000001"]


@pytest.mark.parametrize("line", ["Đắk Mil, ngày 15/01/2024", "Ngày: 15-01-2024"])
def test_a_signature_line_dated_in_figures_beside_its_signer_is_no_cooperative(tmp_path, line):
    """The dated line written in figures (`Đắk Mil, ngày 15/01/2024`), which the date columns
    read (rule 18), beside `Người lập biểu` on its row: the signature block (rule 1), in the
    HTX sheet and in OCOP, whose last column is a date, where the right signature stands."""
    signed = [None] * len(HTX_HEADER)
    signed[HTX_HEADER.index("Tên HTX")] = "Người lập biểu"
    signed[HTX_HEADER.index("Ngày thành lập")] = line
    alone = [None] * len(HTX_HEADER)
    alone[HTX_HEADER.index("Ngày thành lập")] = line
    rows = _htx(tmp_path, [htx_row(1, "6400000001"), [None] * len(HTX_HEADER), signed, alone])
    assert [r["coop_code"] for r in rows] == ["6400000001"]
    product = ["6400000001", "Cà phê", "Đồ uống", 4, "12/QĐ-UBND", "15/03/2022"]
    ocop = [OCOP_HEADER, product, [], [None, "Người lập biểu", None, None, None, line]]
    path = write_xlsx(
        tmp_path / "o.xlsx", {"HTX": [HTX_HEADER, htx_row(1, "6400000001")], "OCOP": ocop}
    )
    read = read_workbook(path)
    assert [r["excel_row"] for r in read.sheets["ocop"].rows] == [2]


def _at(**cells) -> list:
    """A row of the HTX template with only the given cells, by header."""
    row = [None] * len(HTX_HEADER)
    for header, value in cells.items():
        row[HTX_HEADER.index(header.replace("_", " "))] = value
    return row


@pytest.mark.parametrize(
    "line",
    [
        # The date in the code column, where the template puts the signer: eight digits,
        # but a date, never a code (helper CM: `coop_code_format`, the file rejected).
        _at(**{"Mã số HTX": "Ngày 15/01/2024"}),
        _at(**{"Mã số HTX": "15/01/2024"}),
        _at(**{"Mã số HTX": "15.01.2024"}),
        _at(**{"Mã số HTX": dt.datetime(2024, 1, 15)}),
        # The place then the date in the next cell, a date cell or a date typed.
        _at(**{"Xã/Phường": "Đắk Mil, ngày", "Ngày thành lập": dt.datetime(2024, 1, 15)}),
        _at(**{"Xã/Phường": "Đắk Mil, ngày", "Ngày thành lập": "15/01/2024"}),
        # The date alone in a date column.
        _at(**{"Ngày thành lập": "15/01/2024"}),
        _at(**{"Ngày thành lập": dt.datetime(2024, 1, 15)}),
        # `…, ngày | 15 | tháng | 01 | năm | 2024` across the figure columns.
        _at(
            **{"Tổng tài sản": "Đắk Mil, ngày", "Doanh thu": 15, "Lợi nhuận trước thuế": "tháng"},
            **{"Thu nhập bình quân": 1, "Xếp loại": "năm", "Điểm": 2024},
        ),
        # The place in a cell of its own.
        _at(**{"Vốn điều lệ": "Đắk Mil,", "Tổng tài sản": "ngày", "Doanh thu": "15/01/2024"}),
        # Split after a date's word, or beside the signer (helper CQ).
        _at(**{"Doanh thu": "Đắk Mil, ngày 15 tháng", "Lợi nhuận trước thuế": "01 năm"}, Điểm=2024),
        _at(
            **{"Tổng tài sản": "Đắk Mil, ngày", "Doanh thu": "15 tháng"},
            Xếp_loại="01 năm",
            Điểm=2024,
        ),
        _at(
            **{"Mã số HTX": "Người lập biểu", "Tổng tài sản": "Đắk Mil, ngày", "Doanh thu": 15},
            **{"Lợi nhuận trước thuế": "tháng", "Thu nhập bình quân": 1, "Xếp loại": "năm"},
            Điểm=2024,
        ),
    ],
)
def test_rule_1_a_signature_s_date_in_its_own_cells_is_no_cooperative(tmp_path, line):
    """The dated line of the signature block typed across cells, or the date alone under
    `Người lập biểu`, in any column: no cooperative (it was one whose code and name were
    missing, and the valid file was rejected: helper CM)."""
    signers = _at(**{"Mã số HTX": "Người lập biểu", "Xếp loại": "TRƯỞNG PHÒNG"})
    names = _at(**{"Mã số HTX": "Nguyễn Thị Lan", "Xếp loại": "Trần Văn Bình"})
    for rows in ([line, signers, names], [signers, line, names]):
        path = write_xlsx(
            tmp_path / "663_2023.xlsx",
            {"HTX": [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "6400000002"), [], *rows]},
        )
        read = read_workbook(path)
        assert [r["coop_code"] for r in read.sheets["htx"].rows] == ["6400000001", "6400000002"]
        assert _errors(path) == set()


def test_rule_9_a_total_without_its_label_is_no_cooperative(tmp_path):
    """`=SUM(…)` under the figure columns and `=AVERAGE(…)` under income and score, with no
    `Tổng cộng` beside them: a total row (an info finding says so), not a cooperative whose
    code and name are missing (helper CM: the valid file was rejected). Figures that are no
    sums stay a record, whose missing code is an error."""
    first = htx_row(1, "6400000001")
    second = htx_row(2, "6400000002", **{"Số thành viên": 25, "Doanh thu": 350.5, "Điểm": 75})
    sums = _at(
        **{"Số thành viên": 65, "Số lao động": 24, "Vốn điều lệ": 3000, "Tổng tài sản": 5000},
        **{"Doanh thu": 2000.5, "Lợi nhuận trước thuế": 240, "Thu nhập bình quân": 60},
        **{"Điểm": 72.5},
    )
    support = [
        ["STT", "Mã số HTX", "Chương trình", "Nội dung", "Nguồn vốn", "Kinh phí", "Năm"],
        [1, "6400000001", "NTM", "Máy sấy", "Tỉnh", 100, 2023],
        [2, "6400000002", "OCOP", "Bao bì", "Tỉnh", 50.5, 2023],
        [None, None, None, None, None, 150.5, None],
    ]
    path = write_xlsx(
        tmp_path / "663_2023.xlsx", {"HTX": [HTX_HEADER, first, second, sums], "HoTro": support}
    )
    read = read_workbook(path)
    assert [r["excel_row"] for r in read.sheets["htx"].rows] == [2, 3]
    assert [r["excel_row"] for r in read.sheets["hotro"].rows] == [2, 3]
    totals = [f for f in read.findings if f.rule == "total_without_label"]
    assert [(f.severity, f.sheet, f.excel_row) for f in totals] == [
        ("info", "HTX", 4),
        ("info", "HoTro", 4),
    ]
    assert "tổng cộng" in totals[0].message
    assert [f.rule for f in read.findings if f.severity != "info"] == []
    assert _errors(path) == set()
    # A figure that is neither its column's sum nor its average: a cooperative, no total.
    sums[HTX_HEADER.index("Số lao động")] = 30
    path = write_xlsx(tmp_path / "663_2023.xlsx", {"HTX": [HTX_HEADER, first, second, sums]})
    assert [r["excel_row"] for r in read_workbook(path).sheets["htx"].rows] == [2, 3, 4]
    assert {("coop_code_required", 4), ("name_required", 4)} <= _errors(path)


def test_rule_3_values_under_no_header_are_named_not_dropped_in_silence(tmp_path):
    """Notes typed in the second column under a `Ghi chú` merged over two, or a column whose
    header was deleted: not read (no column of the template names them), and an info
    finding says which column holds what on how many rows (helper CM: nothing was said)."""
    header = [*HTX_HEADER, None]
    rows = [
        header,
        [*htx_row(1, "6400000001", **{"Ghi chú": "ghi chú A"}), None],
        [*htx_row(2, "6400000002"), "ghi chú B"],
        [*htx_row(3, "6400000003"), "phần 2"],
    ]
    last = len(HTX_HEADER)  # 0-based: the column after the template's
    path = write_xlsx(
        tmp_path / "663_2023.xlsx",
        {"HTX": rows},
        then=lambda sheets: sheets["HTX"].merge_range(0, last - 1, 0, last, "Ghi chú"),
    )
    read = read_workbook(path)
    assert [r["note"] for r in read.sheets["htx"].rows] == ["ghi chú A", None, None]
    [found] = [f for f in read.findings if f.rule == "column_without_header"]
    assert (found.severity, found.sheet, found.excel_row, found.cell, found.value) == (
        "info",
        "HTX",
        1,
        "S3",
        "ghi chú B",
    )
    assert found.message.startswith("Cột S không có tiêu đề nhưng có số liệu ở 2 dòng")
    assert _errors(path) == set()
    # One value, years, ticks and FALSE are values (helper CQ: none was named).
    for values in ([None, 2500, None], [2019, 2020, 2021], ["x", None, "X"], [False] * 3):
        rows = [[*HTX_HEADER, None]] + [
            [*htx_row(n, f"640000000{n}"), value] for n, value in enumerate(values, 1)
        ]
        read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", {"HTX": rows}))
        assert [f.rule for f in read.findings if f.rule == "column_without_header"] == [
            "column_without_header"
        ], values
    # Row numbers without their header, a spacer of zeros or dashes: nothing to lose.
    numbered = [[None, *HTX_HEADER[1:], None]] + [
        [n, *htx_row(n, f"640000000{n}")[1:], 0 if n % 2 else "-"] for n in (1, 2, 3)
    ]
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", {"HTX": numbered}))
    assert [f.rule for f in read.findings if f.rule == "column_without_header"] == []
    assert len(read.sheets["htx"].rows) == 3


@pytest.mark.parametrize(
    ("title", "merged", "kind", "value"),
    [
        ("Thuận An", "F3:F6", "commune_name", "Thuận An"),
        ("Thuận An (05 HTX)", "F3:F6", "commune_name", "Thuận An"),
        ("Phi nông nghiệp", "D3:D6", "sector", "Phi nông nghiệp"),
        ("Các HTX phi nông nghiệp", "D3:D6", "sector", "Phi nông nghiệp"),
    ],
)
def test_rule_12_a_bare_title_under_a_merged_cell_still_supplies_its_value(
    tmp_path, title, merged, kind, value
):
    """A title without STT that names its place or sector bare (`Thuận An`, `Phi nông
    nghiệp`), under a cell merged down the other kind's column: a title, as it is without
    the merge (helper CQ: the rows below kept the previous group's value, in silence)."""
    other = "Lĩnh vực" if kind == "commune_name" else "Xã/Phường"
    first = {"commune_name": "Xã Đức Mạnh", "sector": "Lĩnh vực nông nghiệp"}[kind]
    rows = [_title(None, first), _bare(1), _bare(2), _title(None, title), _bare(3)]
    path = write_xlsx(
        tmp_path / "663_2023.xlsx",
        {"HTX": [HTX_HEADER, *rows]},
        then=lambda sheets: sheets["HTX"].merge_range(
            merged, {"Lĩnh vực": "Nông nghiệp", "Xã/Phường": "Đức Mạnh"}[other]
        ),
    )
    read = read_workbook(path)
    assert [r[kind] for r in read.sheets["htx"].rows][-1] == value
    assert _errors(path) == set()


@pytest.mark.parametrize("marker", [None, "2", "II"])
def test_rule_12_a_cell_merged_down_over_a_group_title_leaves_the_title_whole(tmp_path, marker):
    """`Nông nghiệp` merged down the sector column over one commune's cooperatives, the next
    commune's title and its cooperative: the title still supplies its commune (helper CM:
    the next cooperative kept the first commune, or the numbered title was read as a
    cooperative and the file rejected), and the merge its sector to every cooperative."""
    rows = [
        _title(None, "Xã Đức Mạnh"),
        _bare(1),
        _bare(2),
        _title(marker, "Xã Thuận An"),
        _bare(3),
    ]
    path = write_xlsx(
        tmp_path / "663_2023.xlsx",
        {"HTX": [HTX_HEADER, *rows]},
        then=lambda sheets: sheets["HTX"].merge_range("F3:F6", "Nông nghiệp"),
    )
    read = read_workbook(path)
    assert [(r["excel_row"], r["commune_name"], r["sector"]) for r in read.sheets["htx"].rows] == [
        (3, "Đức Mạnh", "Nông nghiệp"),
        (4, "Đức Mạnh", "Nông nghiệp"),
        (6, "Thuận An", "Nông nghiệp"),
    ]
    assert _errors(path) == set()


@pytest.mark.parametrize("name", ["Tân Tiến", "Đức Mạnh"])
def test_rule_12_a_cooperative_named_as_a_place_under_merged_cells_is_no_title(tmp_path, name):
    """`3 | | Tân Tiến` with no code and no figures, its commune and sector merged down over
    it: a cooperative named after a place, lacking its code (an error), not a commune's
    title that would give the rows below its name (helper CN)."""
    lacking = _at(**{"STT": 3, "Tên HTX": name})
    rows = [
        [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "6400000002"), lacking],
        [htx_row(4, "6400000004", **{"Xã/Phường": None, "Lĩnh vực": None})],
    ]

    def merge(sheets):
        sheets["HTX"].merge_range("D2:D5", "Đức Mạnh")
        sheets["HTX"].merge_range("F2:F5", "Nông nghiệp")

    path = write_xlsx(tmp_path / "663_2023.xlsx", {"HTX": [*rows[0], *rows[1]]}, then=merge)
    read = read_workbook(path)
    assert [r["excel_row"] for r in read.sheets["htx"].rows] == [2, 3, 4, 5]
    assert read.sheets["htx"].rows[-1]["commune_name"] == "Đức Mạnh"
    assert ("coop_code_required", 4) in _errors(path)


def test_rule_12_a_cooperative_without_code_under_a_merged_cell_is_still_an_error(tmp_path):
    """`3 | | HTX Cà phê` with no code and no figures, its sector from a merge down: a
    cooperative lacking its code, never taken for a title."""
    lacking = _bare(3, **{"Mã số HTX": None})
    figures = HTX_HEADER.index("Số thành viên")
    lacking[figures:] = [None] * (len(HTX_HEADER) - figures)
    lacking[HTX_HEADER.index("Tên HTX")] = "HTX Cà phê Thuận An"
    path = write_xlsx(
        tmp_path / "663_2023.xlsx",
        {"HTX": [HTX_HEADER, _bare(1, **{"Xã/Phường": "Đức Mạnh"}), lacking]},
        then=lambda sheets: sheets["HTX"].merge_range("F2:F3", "Nông nghiệp"),
    )
    assert ("coop_code_required", 3) in _errors(path)


def test_rule_1_a_row_with_figures_as_text_beside_a_dated_note_is_no_signature(tmp_path):
    """A cooperative without STT, code or `HTX` in its name whose figures are typed as text
    and whose note ends in a date; a support line whose content names a decision's date:
    each a record lacking its code, an error (helper CR: dropped in silence)."""
    lacking = _at(
        **{"Tên HTX": "Cà phê Thuận An", "Xã/Phường": "Đức Mạnh", "Lĩnh vực": "Nông nghiệp"},
        **{"Số thành viên": "40", "Vốn điều lệ": "1.500", "Ghi chú": "Giải thể ngày 15/3/2023"},
    )
    support = [
        ["STT", "Mã số HTX", "Chương trình", "Nội dung", "Nguồn vốn", "Kinh phí", "Năm"],
        [1, "6400000001", "NTM", "Máy sấy", "Tỉnh", 100, 2023],
        ["", None, "NTM", "Hỗ trợ kho lạnh theo QĐ ngày 15/3/2023", "Tỉnh", "50", "2023"],
    ]
    path = write_xlsx(
        tmp_path / "663_2023.xlsx",
        {
            "HTX": [HTX_HEADER, htx_row(1, "6400000001"), lacking, htx_row(3, "6400000003")],
            "HoTro": support,
        },
    )
    read = read_workbook(path)
    assert [r["excel_row"] for r in read.sheets["htx"].rows] == [2, 3, 4]
    assert [r["excel_row"] for r in read.sheets["hotro"].rows] == [2, 3]
    assert {("coop_code_required", 3)} <= _errors(path)


@pytest.mark.parametrize(
    "note", ["Giải thể ngày 15/3/2023", "Mới thành lập ngày 15 tháng 3 năm 2024"]
)
def test_rule_1_a_cooperative_whose_note_ends_in_a_date_is_no_signature(tmp_path, note):
    """A cooperative without STT, code or figures whose note ends in a date: its texts
    run on before `ngày`, so it is no dated line of the signature block but a cooperative
    lacking its code, an error (helper CN: it was dropped in silence)."""
    lacking = _at(
        **{"Tên HTX": "HTX Dịch vụ Bình An", "Xã/Phường": "Đức Mạnh", "Lĩnh vực": "Nông nghiệp"},
        **{"Tham gia Đề án 167": "Không", "Xếp loại": "Yếu", "Liên kết tiêu thụ": "Không"},
        **{"Ghi chú": note},
    )
    path = write_xlsx(
        tmp_path / "663_2023.xlsx",
        {"HTX": [HTX_HEADER, htx_row(1, "6400000001"), lacking, htx_row(3, "6400000003")]},
    )
    assert [r["excel_row"] for r in read_workbook(path).sheets["htx"].rows] == [2, 3, 4]
    assert ("coop_code_required", 3) in _errors(path)


def test_rule_1_a_cooperative_with_a_date_in_its_code_cell_is_still_one(tmp_path):
    """A date typed where the code goes, on a row with a name and figures: a cooperative
    whose code is wrong, an error of that cell, never a signature line."""
    path = write_xlsx(
        tmp_path / "663_2023.xlsx",
        {"HTX": [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "15/01/2024")]},
    )
    assert [r["excel_row"] for r in read_workbook(path).sheets["htx"].rows] == [2, 3]
    assert ("coop_code_format", 3) in _errors(path)


@pytest.mark.parametrize(
    "line",
    ["ĐT: 0912 345 678", "SĐT 0912.345.678", "Điện thoại: 0261 3544 123", "Fax: 02613544123"],
)
def test_rule_1_a_phone_line_in_the_signature_block_is_no_cooperative(tmp_path, line):
    """The preparer's phone under `Người lập biểu`, in the code column where the template
    puts the signer (column B): digits enough for a code, but a signature line (rule 1),
    not a cooperative whose name is missing, which would reject a valid file. A
    cooperative's row with such a cell and its figures is still a record."""
    signer = [None] * len(HTX_HEADER)
    signer[HTX_HEADER.index("Mã số HTX")] = "Người lập biểu"
    name = [None] * len(HTX_HEADER)
    name[HTX_HEADER.index("Mã số HTX")] = "Nguyễn Văn A"
    phone = [None] * len(HTX_HEADER)
    phone[HTX_HEADER.index("Mã số HTX")] = line
    rows = _htx(tmp_path, [htx_row(1, "6400000001"), [], signer, name, phone])
    assert [r["coop_code"] for r in rows] == ["6400000001"]
    coded = htx_row(2, line)
    rows = _htx(tmp_path, [htx_row(1, "6400000001"), coded])
    assert [r["excel_row"] for r in rows] == [2, 3]


def test_rule_2_a_group_cell_above_a_one_row_header_gives_its_money_unit(tmp_path):
    """`Kết quả SXKD (đồng)` over `Doanh thu` and `Lợi nhuận`, in a row that names no
    column: both are in đồng, scaled to million VND; a column with its own unit keeps it."""
    group = [None] * len(HTX_HEADER)
    group[HTX_HEADER.index("Doanh thu")] = "Kết quả SXKD (đồng)"
    header = list(HTX_HEADER)
    at = HTX_HEADER.index("Thu nhập bình quân")
    header[at] = "Thu nhập bình quân (triệu đồng/người/năm)"
    row = htx_row(
        1,
        "6400000001",
        **{"Doanh thu": 1_650_000_000, "Lợi nhuận trước thuế": 120_000_000},
        **{"Thu nhập bình quân": 60},
    )
    path = write_xlsx(tmp_path / "g.xlsx", {"HTX": [group, header, row]})
    from openpyxl import load_workbook

    book = load_workbook(path)
    first = HTX_HEADER.index("Doanh thu") + 1
    book["HTX"].merge_cells(start_row=1, start_column=first, end_row=1, end_column=first + 1)
    book.save(path)
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    [typed] = read.sheets["htx"].rows
    assert (typed["revenue_mvnd"], typed["profit_before_tax_mvnd"], typed["avg_income_mvnd"]) == (
        1650.0,
        120.0,
        60.0,
    )


def _two_row_header(tmp_path: Path, top: list, sub: list, row: list, group: str) -> dict:
    """The typed record under a two-row header (`top` over `sub`): every column of `top`
    merged down over both rows, except the merged group cell `group` (`E1:F1`)."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "HTX"
    for values in (top, sub, row):
        sheet.append(values)
    for c, text in enumerate(top, 1):
        if text is not None and get_column_letter(c) != group[0]:
            sheet.merge_cells(start_row=1, start_column=c, end_row=2, end_column=c)
    sheet.merge_cells(group)
    path = tmp_path / "g.xlsx"
    book.save(path)
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    [typed] = read.sheets["htx"].rows
    return typed


def test_rule_4_a_sub_column_s_own_unit_wins_over_its_group_cell_s(tmp_path):
    """`Doanh thu (triệu đồng)` under `Kết quả SXKD (nghìn đồng)`: the column's own unit
    counts, for the group's first sub-column as for the others. Before, the first one took
    the group's unit and 1,650 million VND read as 1.65."""
    top = ["STT", "Mã số HTX", "Tên HTX", None, "Kết quả SXKD (nghìn đồng)", None]
    sub = [None, None, None, None, "Doanh thu (triệu đồng)", "Lợi nhuận trước thuế (triệu đồng)"]
    typed = _two_row_header(
        tmp_path, top, sub, [1, "6400000001", "HTX A", None, 1650, 120], "E1:F1"
    )
    assert (typed["revenue_mvnd"], typed["profit_before_tax_mvnd"]) == (1650.0, 120.0)


def test_rule_4_a_group_cell_s_unit_covers_only_the_columns_it_is_merged_over(tmp_path):
    """`Kết quả SXKD (đồng)` merged over E:F gives its unit to `Doanh thu` and `Lợi nhuận`,
    not to `Thu nhập bình quân` in G, whose header the clerk typed in the second row only:
    it stays in million VND. Before, G took the group's đồng and 60 read as 0.00006."""
    top = ["STT", "Mã số HTX", "Tên HTX", None, "Kết quả SXKD (đồng)", None, None]
    sub = [None, None, None, None, "Doanh thu", "Lợi nhuận trước thuế", "Thu nhập bình quân"]
    row = [1, "6400000001", "HTX A", None, 1_650_000_000, 120_000_000, 60]
    typed = _two_row_header(tmp_path, top, sub, row, "E1:F1")
    assert (typed["revenue_mvnd"], typed["profit_before_tax_mvnd"], typed["avg_income_mvnd"]) == (
        1650.0,
        120.0,
        60.0,
    )


@pytest.mark.parametrize("numbers_first", [False, True])
def test_a_row_of_units_under_the_header_gives_each_column_its_unit(tmp_path, numbers_first):
    """`(đồng)` under `Doanh thu`, `(người)` under `Số thành viên`: a row of units, not a
    cooperative, before or after the `(1) (2) (3)` row; a column's own unit comes first."""
    header = list(HTX_HEADER)
    header[HTX_HEADER.index("Vốn điều lệ")] = "Vốn điều lệ (triệu đồng)"
    units = [None] * len(HTX_HEADER)
    units[HTX_HEADER.index("Doanh thu")] = "(đồng)"
    units[HTX_HEADER.index("Số thành viên")] = "(người)"
    units[HTX_HEADER.index("Vốn điều lệ")] = "(đồng)"
    numbers = [f"({n})" for n in range(1, len(HTX_HEADER) + 1)]
    below = [numbers, units] if numbers_first else [units, numbers]
    row = htx_row(1, "6400000001", **{"Doanh thu": 1_650_000_000, "Vốn điều lệ": 1500})
    path = write_xlsx(tmp_path / "u.xlsx", {"HTX": [header, *below, row]})
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    [typed] = read.sheets["htx"].rows
    assert typed["excel_row"] == 4
    assert (typed["revenue_mvnd"], typed["charter_capital_mvnd"], typed["members"]) == (
        1650.0,
        1500.0,
        40,
    )
    assert _infos(read, "column_unknown") == []


@pytest.mark.parametrize(
    ("column", "beside"),
    [
        ("Liên kết tiêu thụ", "(Có/Không)"),
        ("Ngày thành lập", "(ngày/tháng/năm)"),
        ("Tham gia Đề án 167", "(x)"),
        ("Tham gia Đề án 167", "x"),
        ("Ngày thành lập", "dd/mm/yyyy"),
        ("Xếp loại", "Tốt/Khá/TB/Yếu"),
        ("STT", "ĐVT"),
        ("Mã số HTX", "Đơn vị tính:"),
    ],
)
def test_a_row_of_units_keeps_its_units_beside_a_label_or_a_hint(tmp_path, column, beside):
    """A form's row of units carries its label (`ĐVT`) or, under other columns, how to fill
    them (`(Có/Không)`). Before, one such cell made it no row of units: revenue in đồng
    was read as million VND, a million times too high, with nothing said."""
    units = [None] * len(HTX_HEADER)
    units[HTX_HEADER.index("Doanh thu")] = "(đồng)"
    units[HTX_HEADER.index("Vốn điều lệ")] = "Nghìn đồng"
    units[HTX_HEADER.index("Thu nhập bình quân")] = "Tr.đ/tháng"
    units[HTX_HEADER.index(column)] = beside
    row = htx_row(
        1,
        "6400000001",
        **{"Doanh thu": 1_650_000_000, "Vốn điều lệ": 1_500_000, "Thu nhập bình quân": 5},
    )
    read = read_workbook(write_xlsx(tmp_path / "u.xlsx", {"HTX": [HTX_HEADER, units, row]}))
    assert read.rejection is None, read.rejection
    [typed] = read.sheets["htx"].rows
    assert typed["excel_row"] == 3
    assert (typed["revenue_mvnd"], typed["charter_capital_mvnd"], typed["avg_income_mvnd"]) == (
        1650.0,
        1500.0,
        60.0,
    )
    assert [f.rule for f in read.findings if f.severity != "info"] == []


def test_a_row_with_a_unit_and_other_text_is_no_row_of_units(tmp_path):
    """Only labels and hints stand beside the units: a row that also holds other text (a
    name) gives no column a unit."""
    units = [None] * len(HTX_HEADER)
    units[HTX_HEADER.index("Tên HTX")] = "HTX Đắk Sắk"
    units[HTX_HEADER.index("Doanh thu")] = "đồng"
    rows = [HTX_HEADER, units, htx_row(1, "6400000001")]
    read = read_workbook(write_xlsx(tmp_path / "u.xlsx", {"HTX": rows}))
    [typed] = read.sheets["htx"].rows
    assert (typed["excel_row"], typed["revenue_mvnd"]) == (3, 1650.0)  # in million VND


def test_a_unit_merged_over_several_columns_gives_each_its_unit(tmp_path):
    """`(đồng)` merged across Vốn điều lệ … Lợi nhuận trước thuế, in the units row."""
    import xlsxwriter

    first, last = HTX_HEADER.index("Vốn điều lệ"), HTX_HEADER.index("Lợi nhuận trước thuế")
    row = htx_row(1, "6400000001")
    for c in range(first, last + 1):
        row[c] = 1_500_000_000 + c
    path = tmp_path / "u.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("HTX")
    for r, values in enumerate([HTX_HEADER, [], row]):
        for c, value in enumerate(values):
            if value is not None and not hasattr(value, "year"):
                sheet.write(r, c, value)
    sheet.merge_range(1, first, 1, last, "(đồng)")
    workbook.close()
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    [typed] = read.sheets["htx"].rows
    keys = [c.key for c in HTX.columns[first : last + 1]]
    assert [typed[k] for k in keys] == [
        round((1_500_000_000 + c) / 1e6, 6) for c in range(first, last + 1)
    ]


def test_rule_2_a_group_cell_merged_across_columns_in_an_ods_file(tmp_path):
    """The same in an .ods file, whose merges calamine does not read: a merge over one row
    and two columns (`table:number-columns-spanned`) is a merge too."""
    import zipfile

    from test_feedback import write_ods

    group = [None] * len(HTX_HEADER)
    group[HTX_HEADER.index("Doanh thu")] = "Kết quả SXKD (đồng)"
    row = htx_row(
        1, "6400000001", **{"Doanh thu": 1_650_000_000, "Lợi nhuận trước thuế": 120_000_000}
    )
    plain = write_ods(tmp_path / "plain.ods", {"HTX": [group, HTX_HEADER, row]})
    with zipfile.ZipFile(plain) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    cell = (
        '<table:table-cell office:value-type="string"><text:p>Kết quả SXKD (đồng)</text:p>'
        "</table:table-cell><table:table-cell/>"
    )
    merged = (
        '<table:table-cell table:number-columns-spanned="2" office:value-type="string">'
        "<text:p>Kết quả SXKD (đồng)</text:p></table:table-cell><table:covered-table-cell/>"
    )
    content = parts["content.xml"].decode()
    assert cell in content
    parts["content.xml"] = content.replace(cell, merged, 1).encode()
    path = tmp_path / "g.ods"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    at = HTX_HEADER.index("Doanh thu")
    assert guard.ods_content(path) == {"HTX": [((0, at), (0, at + 1))]}
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    [typed] = read.sheets["htx"].rows
    assert (typed["revenue_mvnd"], typed["profit_before_tax_mvnd"]) == (1650.0, 120.0)


def test_rule_11_a_row_with_a_name_and_figures_but_no_code_lacks_its_code():
    name = "r_coop_code_required.xlsx"
    path = CORPUS / name
    read = read_workbook(path)
    assert read.rejection is None
    rows = read.sheets["htx"].rows
    assert [(r["excel_row"], r["coop_code"]) for r in rows] == [
        (2, TRUTH[0]["coop_code"]),
        (3, None),
        (4, TRUTH[2]["coop_code"]),
    ]
    identity = identify(read.info, name, load_reference())
    item = ReadFile(file_id=file_id_for(sha256_of(path)), identity=identity, read=read)
    findings = validate_batch([item], load_reference())[item.file_id]
    errors = {(f.rule, f.excel_row) for f in findings if f.severity == "error"}
    assert errors == {("coop_code_required", 3)}


def test_rule_11_a_cooperative_whose_figures_carry_units_is_kept_without_its_code(tmp_path):
    figures = dict.fromkeys(
        ("Ngày thành lập", "Số lao động", "Tổng tài sản", "Doanh thu", "Lợi nhuận trước thuế"),
        None,
    )
    figures.update({"Thu nhập bình quân": None, "Điểm": None})
    row = htx_row(1, None, **figures, **{"Số thành viên": "25 người", "Vốn điều lệ": "1,2 tỷ"})
    [read] = _htx(tmp_path, [row])
    assert (read["coop_code"], read["members"], read["charter_capital_mvnd"]) == (None, 25, 1200.0)


# --- rule 12: merged cells --------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_rule_12_a_cell_merged_down_holds_its_value_in_every_row(fmt):
    assert_truth(f"d12_merged_cells.{fmt}")


def test_rule_12_an_empty_cell_without_a_merge_is_never_filled(tmp_path):
    rows = _htx(tmp_path, [htx_row(1, "6400000001"), _bare(2)])
    assert [(r["commune_name"], r["sector"]) for r in rows] == [
        ("Đức Mạnh", "Nông nghiệp"),
        (None, None),
    ]


def _merged_down(tmp_path: Path, rows: list[list], columns: tuple[str, ...], top: int) -> Path:
    """`663_2023.xlsx` with `rows` under the header, each of `columns` merged from Excel row
    `top` over the row below, holding the top row's value."""

    def merge(sheets):
        for header in columns:
            at = HTX_HEADER.index(header)
            sheets["HTX"].merge_range(top - 1, at, top, at, rows[top - 2][at])

    return write_xlsx(tmp_path / "663_2023.xlsx", {"HTX": [HTX_HEADER, *rows]}, then=merge)


def test_rule_12_a_cooperative_whose_code_and_name_are_merged_over_two_rows_is_one(tmp_path):
    """STT, code and name merged over rows 2-3 with the figures on row 2 (a long name given
    two rows' height): row 3 holds nothing of its own in the table (a remark beside it is
    none, nor is a row number), so it is no second cooperative. Before, the merged code
    filled it and both rows were `coop_code_unique`: the file rejected."""
    beside = [None] * len(HTX_HEADER) + [None, "xem dòng trên"]
    rows = [htx_row(1, "6400000001"), beside, htx_row(2, "6400000002")]
    path = _merged_down(tmp_path, rows, ("STT", "Mã số HTX", "Tên HTX"), top=2)
    read = read_workbook(path)
    assert [(r["excel_row"], r["coop_code"]) for r in read.sheets["htx"].rows] == [
        (2, "6400000001"),
        (4, "6400000002"),
    ]
    assert _errors(path) == set()
    # STT not merged, numbered on: a row number is ignored (the contract's STT), no value.
    beside[HTX_HEADER.index("STT")] = 2
    path = _merged_down(tmp_path, rows, ("Mã số HTX", "Tên HTX"), top=2)
    read = read_workbook(path)
    assert [(r["excel_row"], r["coop_code"]) for r in read.sheets["htx"].rows] == [
        (2, "6400000001"),
        (4, "6400000002"),
    ]
    assert _errors(path) == set()


def test_rule_12_a_cooperative_written_over_two_rows_under_one_merged_code_is_told_so(tmp_path):
    """The code merged over rows 2-3 and figures on both rows: one cooperative written on two
    rows, which the clerk is told in those words on row 3, not that the code is repeated."""
    second = htx_row(1, None, **{"STT": None, "Tên HTX": None, "Ghi chú": "Chi nhánh 2"})
    rows = [htx_row(1, "6400000001"), second, htx_row(2, "6400000002")]
    path = _merged_down(tmp_path, rows, ("Mã số HTX",), top=2)
    read = read_workbook(path)
    assert _errors(path) == {("coop_on_two_rows", 3)}
    [finding] = [f for f in read.findings if f.rule == "coop_on_two_rows"]
    assert (finding.sheet, finding.column_name, finding.cell, finding.value) == (
        "HTX",
        "Mã số HTX",
        "B3",
        "6400000001",
    )
    vi, en = finding.message.split(" / ", 1)
    assert "dòng 2–3" in vi
    assert "one cooperative" in en


def test_the_secondary_tables_headed_as_forms_head_them_are_read(tmp_path):
    """`Chương trình hỗ trợ`, `Nội dung hỗ trợ`, `Nguồn kinh phí`, `Kinh phí hỗ trợ`, `Năm
    hỗ trợ`; `Tên sản phẩm OCOP`, `Hạng sao`, `Số QĐ`, `Ngày QĐ`; `Tên doanh nghiệp`: each
    its column (helper BU: rejected as missing columns, or read without them, so that no
    certificate had a date and none was valid). A year typed into a date-formatted `Năm`
    cell (2023, shown as 15/07/1905) is 2023 (it was 1905, and rejected the file)."""
    import datetime as dt

    coop = "6400000001"
    typed_2023 = dt.date(1899, 12, 30) + dt.timedelta(days=2023)
    support = ["Mã số HTX", "Chương trình hỗ trợ", "Nội dung hỗ trợ", "Nguồn kinh phí"]
    support += ["Kinh phí hỗ trợ", "Năm hỗ trợ"]
    sheets = {
        "ThongTin": info_rows(),
        "HTX": [HTX_HEADER, htx_row(1, coop)],
        "HoTro": [support, [coop, "NTM", "Máy sấy", "Tỉnh", 100, typed_2023]],
        "OCOP": [
            ["Mã số HTX", "Tên sản phẩm OCOP", "Hạng sao", "Số QĐ", "Ngày QĐ"],
            [coop, "Cà phê", 4, "21/QĐ-UBND", dt.date(2022, 3, 15)],
        ],
        "LienKet": [["Mã số HTX", "Tên doanh nghiệp"], [coop, "Công ty A"]],
    }
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets))
    assert read.rejection is None
    [line] = read.sheets["hotro"].rows
    assert (line["program"], line["content"], line["funding_source"]) == ("NTM", "Máy sấy", "Tỉnh")
    assert (line["amount_mvnd"], line["year"]) == (100.0, 2023)
    [product] = read.sheets["ocop"].rows
    assert (product["product_name"], product["stars"], product["decision_no"]) == (
        "Cà phê",
        4,
        "21/QĐ-UBND",
    )
    assert product["decision_date"] == dt.date(2022, 3, 15)
    assert read.sheets["lienket"].rows[0]["partner"] == "Công ty A"
    assert [f for f in read.findings if f.severity != "info"] == []


def test_rule_12_support_rows_under_one_merged_code_are_each_read(tmp_path):
    """In `HoTro` one cooperative has several rows: a code merged over them gives it each."""
    support = [
        ["6400000001", "NTM", "Máy sấy", "Tỉnh", 200, 2023],
        [None, "OCOP", "Bao bì", "Tỉnh", 50, 2023],
    ]

    def merge(sheets):
        sheets["HoTro"].merge_range(1, 0, 2, 0, "6400000001")

    path = write_xlsx(
        tmp_path / "663_2023.xlsx",
        {"HTX": [HTX_HEADER, htx_row(1, "6400000001")], "HoTro": [SUPPORT_HEADER, *support]},
        then=merge,
    )
    read = read_workbook(path)
    assert [r["coop_code"] for r in read.sheets["hotro"].rows] == ["6400000001"] * 2
    assert _errors(path) == set()


# --- rule 13: repeated headers ----------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_rule_13_repeated_header_and_column_numbers_are_not_data(fmt):
    name = f"d13_repeated_headers.{fmt}"
    assert_truth(name)
    read = read_workbook(CORPUS / name)
    assert [r["excel_row"] for r in read.sheets["htx"].rows] == [4, 5, 9]
    assert [f for f in read.findings if f.severity != "info"] == []


def test_rule_13_a_repeated_header_with_other_columns_is_an_error_of_its_row():
    read = read_workbook(CORPUS / "r_header_repeated_differs.xlsx")
    assert read.rejection is None
    [finding] = [f for f in read.findings if f.rule == "header_repeated_differs"]
    assert (finding.severity, finding.sheet, finding.excel_row) == ("error", "HTX", 4)
    assert (finding.column_name, finding.cell, finding.value) == ("Doanh thu", "M4", "Doanh thu")
    vi, en = finding.message.split(" / ", 1)
    assert "Dòng tiêu đề lặp lại ở dòng 4" in vi
    assert "Doanh thu (L → M)" in vi
    assert "header repeated on row 4" in en
    assert [r["excel_row"] for r in read.sheets["htx"].rows] == [2, 3, 5]


@pytest.mark.parametrize(
    ("first", "again", "detail"),
    [
        ("Doanh thu (triệu đồng)", "Doanh thu (đồng)", "Doanh thu (triệu đồng → đồng)"),
        ("Doanh thu", "Doanh thu (nghìn đồng)", "Doanh thu (triệu đồng → nghìn đồng)"),
        (
            "Thu nhập bình quân (triệu đồng)",
            "Thu nhập bình quân (triệu đồng/tháng)",
            "Thu nhập bình quân (triệu đồng → triệu đồng/tháng)",
        ),
    ],
)
def test_rule_13_a_repeated_header_with_another_unit_is_an_error_of_its_row(
    tmp_path, first, again, detail
):
    """Page two pasted under page one with its figures in đồng where page one's were in
    million VND: before, page two's rows were read in page one's unit, a million times off,
    with nothing said. Now the repeated header is an error of its row, naming both units."""
    column = first.split(" (")[0]
    header, repeated = list(HTX_HEADER), list(HTX_HEADER)
    header[HTX_HEADER.index(column)], repeated[HTX_HEADER.index(column)] = first, again
    rows = [
        header,
        htx_row(1, "6400000001"),
        repeated,
        htx_row(2, "6400000002", **{column: 1_650_000_000}),
    ]
    read = read_workbook(write_xlsx(tmp_path / "r.xlsx", {"HTX": rows}))
    [finding] = [f for f in read.findings if f.severity == "error"]
    assert (finding.rule, finding.sheet, finding.excel_row, finding.value) == (
        "header_repeated_unit_differs",
        "HTX",
        3,
        again,
    )
    assert finding.cell == f"{chr(ord('A') + HTX_HEADER.index(column))}3"
    vi, en = finding.message.split(" / ", 1)
    assert f"ở dòng 3 ghi đơn vị khác với dòng tiêu đề đầu tiên (dòng 1): {detail}." in vi
    assert (
        f"The header repeated on row 3 gives other units than the first header (row 1): {detail}."
        in en
    )


def test_rule_13_units_in_rows_under_headers_are_compared_and_named_in_their_cell(tmp_path):
    """Each page with its row of units: page two's `(triệu đồng)` under page one's `(đồng)`
    is the error, on the cell of page two's unit, not read silently in either unit. A
    remark that is no unit (`(*)`) on page two's header keeps page one's, silently."""
    units, other = [None] * len(HTX_HEADER), [None] * len(HTX_HEADER)
    units[HTX_HEADER.index("Doanh thu")] = "(đồng)"
    other[HTX_HEADER.index("Doanh thu")] = "(triệu đồng)"
    rows = [
        HTX_HEADER,
        units,
        htx_row(1, "6400000001", **{"Doanh thu": 1_650_000_000}),
        HTX_HEADER,
        other,
        htx_row(2, "6400000002"),
    ]
    read = read_workbook(write_xlsx(tmp_path / "u.xlsx", {"HTX": rows}))
    [finding] = [f for f in read.findings if f.severity == "error"]
    assert (finding.rule, finding.cell, finding.value) == (
        "header_repeated_unit_differs",
        "L5",
        "(triệu đồng)",
    )
    assert "Doanh thu (đồng → triệu đồng)" in finding.message
    income = "Thu nhập bình quân"
    monthly = [f"{income} (triệu đồng/tháng)" if h == income else h for h in HTX_HEADER]
    remark = [f"{income} (*)" if h == income else h for h in HTX_HEADER]
    rows = [monthly, htx_row(1, "6400000001", **{income: 5}), remark, htx_row(2, "6400000002")]
    read = read_workbook(write_xlsx(tmp_path / "r.xlsx", {"HTX": rows}))
    assert [f.rule for f in read.findings if f.severity != "info"] == []
    assert [r["avg_income_mvnd"] for r in read.sheets["htx"].rows] == [60.0, 720.0]


def test_rule_2_a_rate_in_a_row_of_units_is_the_column_s_unit(tmp_path):
    """`(người/tháng)` under `Thu nhập bình quân`: an income a month, as in the header; it
    was taken for a fill hint, and the income read as a year's, 12 times too low."""
    units = [None] * len(HTX_HEADER)
    units[HTX_HEADER.index("Thu nhập bình quân")] = "(người/tháng)"
    units[HTX_HEADER.index("Doanh thu")] = "(đồng)"
    row = htx_row(1, "6400000001", **{"Thu nhập bình quân": 5, "Doanh thu": 1_650_000_000})
    read = read_workbook(write_xlsx(tmp_path / "u.xlsx", {"HTX": [HTX_HEADER, units, row]}))
    [typed] = read.sheets["htx"].rows
    assert (typed["avg_income_mvnd"], typed["revenue_mvnd"]) == (60.0, 1650.0)


def test_rule_13_a_repeated_header_without_units_or_with_the_same_keeps_the_first_s(tmp_path):
    header = [h if h != "Doanh thu" else "Doanh thu (đồng)" for h in HTX_HEADER]
    same = [h if h != "Doanh thu" else "DOANH THU (Đồng)" for h in HTX_HEADER]
    rows = [
        header,
        htx_row(1, "6400000001", **{"Doanh thu": 1_650_000_000}),
        HTX_HEADER,
        htx_row(2, "6400000002", **{"Doanh thu": 1_650_000_000}),
        same,
        htx_row(3, "6400000003", **{"Doanh thu": 1_650_000_000}),
    ]
    read = read_workbook(write_xlsx(tmp_path / "r.xlsx", {"HTX": rows}))
    assert [f.rule for f in read.findings if f.severity != "info"] == []
    assert [r["revenue_mvnd"] for r in read.sheets["htx"].rows] == [1650.0] * 3


# --- rule 17: the HTX table on another sheet --------------------------------------------


def test_rule_17_the_sheet_whose_header_holds_the_htx_columns_is_the_htx_sheet():
    name = "d17_sheet_by_header.xlsx"
    assert_truth(name)
    read = read_workbook(CORPUS / name)
    assert read.sheets["htx"].sheet_name == "Danh sách HTX năm 2023"
    [finding] = [f for f in read.findings if f.rule == "sheet_found_by_header"]
    assert (finding.severity, finding.sheet) == ("info", "Danh sách HTX năm 2023")
    assert "'Danh sách HTX năm 2023'" in finding.message.split(" / ")[0]


def test_rule_17_two_candidate_sheets_reject_the_file_naming_both():
    read = read_workbook(CORPUS / "r_two_htx_sheets.xlsx")
    assert read.rejection is not None
    assert read.rejection.rule == "sheet_ambiguous"
    vi, en = read.rejection.message.split(" / ", 1)
    assert "'Sheet1', 'Biểu 01'" in vi
    assert "'Sheet1', 'Biểu 01'" in en


def test_rule_17_a_form_s_numbered_sheets_read_the_htx_one_and_name_the_others(tmp_path):
    """A form's sheets `Biểu 01` (the cooperatives) to `Biểu 04`, whose support, OCOP and
    offtake tables name `STT`, `Tên HTX` and `Xã` too: each of those holds every required
    HTX column, but of the HTX table's only those naming the cooperative, and every one of
    another table, so `Biểu 01` is the HTX sheet (they made the file ambiguous: helpers BS
    and BV); the others are tables not read, each named in a warning."""
    coop = "6400000001"

    def with_name(header: list, row: list) -> list[list]:  # `STT`, `Tên HTX`, `Xã`, `Ghi chú`
        return [
            ["STT", header[0], "Tên HTX", "Xã", *header[1:], "Ghi chú"],
            [1, row[0], "HTX A", "Đức Mạnh", *row[1:], None],
        ]

    sheets = {
        "ThongTin": info_rows(),
        "Biểu 01": [HTX_HEADER, htx_row(1, coop)],
        "Biểu 02": with_name(SUPPORT_HEADER, [coop, "NTM", "Máy sấy", "Tỉnh", 100, 2023]),
        "Biểu 03": with_name(OCOP_HEADER, [coop, "Cà phê", 4, "Thực phẩm", 2022, 2025]),
        "Biểu 04": with_name(LINK_HEADER, [coop, "Công ty A", "Cà phê", 2022, 2025]),
    }
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets))
    assert read.rejection is None
    assert read.sheets["htx"].sheet_name == "Biểu 01"
    assert [r["coop_code"] for r in read.sheets["htx"].rows] == [coop]
    assert {(f.rule, f.sheet) for f in read.findings if f.rule.startswith("sheet_")} == {
        ("sheet_found_by_header", "Biểu 01"),
        ("sheet_not_read", "Biểu 02"),
        ("sheet_not_read", "Biểu 03"),
        ("sheet_not_read", "Biểu 04"),
    }


def test_rule_17_a_list_of_cooperatives_with_a_partner_column_stays_the_htx_sheet(tmp_path):
    """`Biểu 01`, the cooperatives with a `Doanh nghiệp liên kết` column (every required
    column of the offtake table too), beside `Biểu 02`, a support table naming `Tên HTX`:
    the list is the HTX sheet, being more like it than like the offtake table; the support
    table is not (its rows were read as the cooperatives: helper BT)."""
    coop = "6400000001"
    support = ["Mã số HTX", "Tên HTX", "Chương trình hỗ trợ", "Nội dung", "Kinh phí"]
    sheets = {
        "ThongTin": info_rows(),
        "Biểu 01": [[*HTX_HEADER, "Doanh nghiệp liên kết"], [*htx_row(1, coop), "Công ty A"]],
        "Biểu 02": [support, [coop, "HTX A", "NTM", "Máy sấy", 100]],
    }
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets))
    assert read.rejection is None
    assert read.sheets["htx"].sheet_name == "Biểu 01"
    assert read.sheets["htx"].rows[0]["revenue_mvnd"] == 1650.0
    assert ("sheet_not_read", "Biểu 02") in {(f.rule, f.sheet) for f in read.findings}


@pytest.mark.parametrize(
    ("own", "read_from"),
    [
        # Two columns of a cooperative's own or more beside offtake or OCOP columns: a list,
        # also where its headers name the report year.
        (["Ngày thành lập", "Số thành viên", "Doanh nghiệp liên kết", "Sản phẩm"], "Biểu 01"),
        (["Lĩnh vực", "Số thành viên", "Tên sản phẩm", "Số sao", "Số quyết định"], "Biểu 01"),
        (["Số thành viên năm 2023", "Doanh thu năm 2023", "Doanh nghiệp liên kết"], "Biểu 01"),
        # One, or naming columns and a partner only: it may be an offtake table as much as
        # the other is a support table, so the file stays ambiguous (rule 17), naming both.
        (["Ngày thành lập", "Doanh nghiệp liên kết", "Sản phẩm", "Giá trị hợp đồng"], None),
        (["Doanh nghiệp liên kết"], None),
    ],
)
def test_rule_17_a_list_with_other_tables_columns_beside_a_support_table(tmp_path, own, read_from):
    """`Biểu 01`, two cooperatives with columns of the offtake or OCOP table too; `Biểu 02`,
    a support table naming `Tên HTX` and `Ghi chú`. A list holding two columns of a
    cooperative's own is the list; with fewer, the file is ambiguous, as before this
    session. (Versions of this session read the support table's line as the only
    cooperative, or a dissolved cooperatives' list: helpers BW, BX and BY.)"""
    first = ["STT", "Mã số HTX", "Tên HTX", "Xã", *own]
    support = ["STT", "Mã số HTX", "Tên HTX", "Chương trình", "Nội dung", "Nguồn vốn"]
    support += ["Kinh phí", "Năm", "Ghi chú"]
    a, b = "6400000001", "6400000002"
    filler = [None] * len(own)
    sheets = {
        "ThongTin": info_rows(),
        "Biểu 01": [first, [1, a, "HTX A", "Đức Mạnh", *filler], [2, b, "HTX B", None, *filler]],
        "Biểu 02": [support, [1, a, "HTX A", "NTM", "Máy sấy", "Tỉnh", 100, 2023, None]],
    }
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets))
    if read_from is None:
        assert read.rejection is not None
        assert read.rejection.rule == "sheet_ambiguous"
        assert "'Biểu 01', 'Biểu 02'" in read.rejection.message
        return
    assert read.rejection is None
    assert read.sheets["htx"].sheet_name == read_from
    assert [r["coop_code"] for r in read.sheets["htx"].rows] == [a, b]


def test_rule_17_a_short_list_beside_a_list_of_dissolved_cooperatives_is_ambiguous(tmp_path):
    """A short list with a partner column beside `HTX giải thể` (founded, dissolved, why):
    neither is clearly the list, and the file stays ambiguous; a version of this session
    read the dissolved cooperatives as this year's (helper BY)."""
    first = ["STT", "Mã số HTX", "Tên HTX", "Xã", "Doanh nghiệp liên kết", "Ghi chú"]
    gone = ["STT", "Mã số HTX", "Tên HTX", "Ngày thành lập", "Ngày giải thể", "Lý do"]
    sheets = {
        "ThongTin": info_rows(),
        "Biểu 01": [first, [1, "6400000001", "HTX A", None, None, None]],
        "HTX giải thể": [gone, [1, "6400000003", "HTX C", "01/03/2015", "01/06/2023", "Nợ"]],
    }
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets))
    assert read.rejection is not None
    assert read.rejection.rule == "sheet_ambiguous"


def test_rule_17_a_visible_list_wins_over_a_hidden_full_one(tmp_path):
    """This year's list, visible, with naming columns and a partner only, beside last year's
    full list the clerk hid: the visible one is read (a version of this session dropped it
    as an offtake table first, and read the hidden copy: helper BX)."""
    first = ["STT", "Mã số HTX", "Tên HTX", "Xã", "Doanh nghiệp liên kết", "Ghi chú"]
    a, b = "6400000001", "6400000002"
    sheets = {
        "ThongTin": info_rows(),
        "Biểu 01": [first, [1, a, "HTX A", None, None, None], [2, b, "HTX B", None, None, None]],
        "DS 2022": [HTX_HEADER, htx_row(1, "6400000003")],
    }

    def hide(written):
        written["DS 2022"].hide()

    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets, then=hide))
    assert read.rejection is None
    assert read.sheets["htx"].sheet_name == "Biểu 01"
    assert [r["coop_code"] for r in read.sheets["htx"].rows] == [a, b]


def test_rule_17_a_sheet_named_htx_wins_over_a_header_elsewhere(tmp_path):
    table = [HTX_HEADER, htx_row(1, "6400000001")]
    path = write_xlsx(tmp_path / "f.xlsx", {"Sheet1": table, "HTX": table})
    read = read_workbook(path)
    assert read.sheets["htx"].sheet_name == "HTX"
    assert not [f for f in read.findings if f.rule == "sheet_found_by_header"]


# --- info findings through the pipeline -------------------------------------------------


def test_info_findings_alone_raise_no_alert_and_no_feedback_but_are_reported(settings):
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(CORPUS / "d11_section_rows.xlsx", settings.landing_dir / "663_2023.xlsx")
    write_xlsx(  # the same cooperatives a year before, on a sheet found by its header
        settings.landing_dir / "663_2022.xlsx",
        {"ThongTin": info_rows(year=2022), "Biểu 01": template_rows()},
    )
    run_steps(settings)
    statuses = query(settings, "select file_name, status from audit.file_ingestion order by 1")
    assert statuses == [("663_2022.xlsx", "loaded"), ("663_2023.xlsx", "loaded")]
    # The warehouse's rejected_row holds errors and warnings only (the contract's
    # severities); the information findings are the file's in audit.info_finding.
    assert query(settings, "select count(*) from audit.rejected_row") == [(0,)]
    found = query(
        settings,
        "select rule, severity, count(*) from audit.info_finding group by all order by 1",
    )
    assert found == [("sheet_found_by_header", "info", 1), ("value_from_section", "info", 6)]
    assert query(settings, "select count(*) from audit.quality_alert") == [(0,)]
    assert not (settings.export_dir / "feedback").exists() or not any(
        (settings.export_dir / "feedback").iterdir()
    )
    [(file_id,)] = query(
        settings, "select file_id from audit.file_ingestion where file_name = '663_2023.xlsx'"
    )
    page = (settings.export_dir / "quality" / f"{file_id}.html").read_text(encoding="utf-8")
    assert "value_from_section" in page
    communes = query(
        settings,
        "select coop_code, sector from core.dim_cooperative where coop_code like '640%' order by 1",
    )
    assert ("6400234567", "Nông nghiệp") in communes


def _findings(path: Path) -> list:
    """Every finding of one workbook, read, identified and validated as staging does."""
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    identity = identify(read.info, path.name, load_reference())
    item = ReadFile(file_id=file_id_for(sha256_of(path)), identity=identity, read=read)
    return [*read.findings, *validate_batch([item], load_reference())[item.file_id]]


def _errors(path: Path) -> set[tuple]:
    """The error findings of one workbook: (rule, Excel row)."""
    return {(f.rule, f.excel_row) for f in _findings(path) if f.severity == "error"}


@pytest.mark.parametrize(
    "numbers",
    [
        [f"({n})" for n in range(1, 13)] + ["(13)=(12)-(11)"],
        [str(n) for n in range(1, 13)] + ["13=12-11"],
        [f"({n})" for n in range(1, 12)] + ["(12) = (11) x 100", "(13)=(12)/(11)*100"],
    ],
)
def test_rule_2_a_column_number_row_with_the_forms_formulas_is_numbering(tmp_path, numbers):
    """`(13)=(12)-(11)` under a column, as Vietnamese forms print it: still numbering."""
    row = htx_row(1, "6400000001")
    numbering = (numbers + [f"({n})" for n in range(14, 40)])[: len(HTX_HEADER)]
    path = write_xlsx(
        tmp_path / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": [HTX_HEADER, numbering, row]}
    )
    [typed] = read_workbook(path).sheets["htx"].rows
    assert (typed["excel_row"], typed["coop_code"]) == (3, "6400000001")
    assert _errors(path) == set()


@pytest.mark.parametrize("sheet", ["HTX", "Biểu 01"])
def test_rule_1_a_header_below_a_long_title_block_is_found(tmp_path, sheet):
    """ "Any number of rows before the header": 45 title rows, then the header; also on a
    sheet found by its header (rule 17)."""
    titles = [[f"Dòng tiêu đề {n}"] for n in range(1, 46)]
    path = write_xlsx(
        tmp_path / "663_2023.xlsx",
        {"ThongTin": info_rows(), sheet: [*titles, HTX_HEADER, htx_row(1, "6400000001")]},
    )
    read = read_workbook(path)
    assert read.rejection is None, read.rejection
    [typed] = read.sheets["htx"].rows
    assert (typed["excel_row"], typed["coop_code"]) == (47, "6400000001")
    found = [f.sheet for f in read.findings if f.rule == "sheet_found_by_header"]
    assert found == ([] if sheet == "HTX" else [sheet])


def test_rule_1_a_header_lacking_a_column_is_not_replaced_by_one_further_down(tmp_path):
    """A header in the first rows that lacks `Mã số HTX` rejects the file (column_missing),
    though a header further down, on a pasted page, names every column: the rows between
    are never dropped in silence."""
    bad = ["Mã định danh" if h == "Mã số HTX" else h for h in HTX_HEADER]
    rows = [bad, *(htx_row(n, f"64000000{n:02d}") for n in range(1, 50))]
    rows += [HTX_HEADER, htx_row(50, "6400000050")]
    path = write_xlsx(tmp_path / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": rows})
    read = read_workbook(path)
    assert read.rejection is not None
    assert read.rejection.rule == "column_missing"


@pytest.mark.parametrize(
    "overrides",
    [
        {},  # numbered, with its commune, sector and rating
        {"STT": None},  # a cooperative's name with its commune, sector and rating
        {"STT": None, "Xã/Phường": None, "Lĩnh vực": None},  # its name and its rating
    ],
)
def test_rule_11_a_cooperative_without_code_or_figures_is_not_dropped(tmp_path, overrides):
    """A row of a name with its own commune, sector or rating, numbered or named as a
    cooperative, with no code and no figure, is no group title: a cooperative lacking its
    code, never dropped in silence."""
    figures = {h: None for h in HTX_HEADER if h not in ("STT", "Tên HTX", "Xã/Phường", "Lĩnh vực")}
    figures["Xếp loại"] = "Khá"
    bare = htx_row(2, None, **{**figures, "Tên HTX": "HTX Dịch vụ Đắk Sắk", **overrides})
    path = write_xlsx(
        tmp_path / "663_2023.xlsx",
        {"ThongTin": info_rows(), "HTX": [HTX_HEADER, htx_row(1, "6400000001"), bare]},
    )
    assert ("coop_code_required", 3) in _errors(path)


@pytest.mark.parametrize(
    ("code", "overrides", "rule"),
    [
        (None, {"Tên HTX": "Tổng hợp Đức Mạnh"}, "coop_code_required"),
        (None, {"Tên HTX": "Cộng đồng Đắk Sắk"}, "coop_code_required"),
        (None, {"Xã/Phường": "Cộng Hòa"}, "coop_code_required"),
        ("640012", {"Tên HTX": "Cộng đồng Đắk Sắk"}, "coop_code_format"),  # digits lost
    ],
)
def test_a_cooperative_whose_name_or_commune_begins_as_a_total_is_not_a_total(
    tmp_path, code, overrides, rule
):
    """A numbered row with a name, its commune and figures is a cooperative although a text
    of it begins with `Tổng` or `Cộng` (a name typed without `HTX`, commune `Cộng Hòa`): it
    lacks its code, or its code is short, an error of its row. Before, it was skipped as a
    total row (rule 9), and the file loaded without that cooperative, without a word."""
    row = htx_row(2, code, **overrides)
    path = write_xlsx(
        tmp_path / "663_2023.xlsx",
        {"ThongTin": info_rows(), "HTX": [HTX_HEADER, htx_row(1, "6400000001"), row]},
    )
    assert [t["excel_row"] for t in read_workbook(path).sheets["htx"].rows] == [2, 3]
    assert (rule, 3) in _errors(path)


def test_rule_9_a_form_s_empty_rows_with_their_formulas_zeros_are_skipped(tmp_path):
    """Under the cooperatives, the form's rows left empty: their `STT`, and the zeros their
    formulas show (a number, a text `0`, `FALSE`) or a dash. They hold no cooperative: not
    errors of rows without a code or a name, which rejected the file (helper BS). A row
    with a name, or with a figure other than 0, still is one."""
    header = HTX_HEADER
    at = {h: i for i, h in enumerate(header)}

    def template(stt, **cells):
        row = [None] * len(header)
        row[at["STT"]] = stt
        for name, value in cells.items():
            row[at[name]] = value
        return row

    profit = "Lợi nhuận trước thuế"
    rows = [
        header,
        htx_row(1, "6400000001"),
        template(2, **{profit: 0, "Doanh thu": 0}),
        template(3, **{profit: "0", "Liên kết tiêu thụ": False, "Doanh thu": "-"}),
        template(4),
    ]
    path = write_xlsx(tmp_path / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": rows})
    read = read_workbook(path)
    assert read.rejection is None
    assert [t["excel_row"] for t in read.sheets["htx"].rows] == [2]
    assert _errors(path) == set()
    rows.append(template(5, **{profit: 12}))
    path = write_xlsx(tmp_path / "663_2023_v2.xlsx", {"ThongTin": info_rows(), "HTX": rows})
    assert ("coop_code_required", 6) in _errors(path)


@pytest.mark.parametrize(
    "label", ["Toàn huyện", "TOÀN HUYỆN", "Toàn tỉnh (25 HTX)", "Cả huyện", "Toan huyen"]
)
def test_rule_9_the_unit_s_whole_is_a_total_row(tmp_path, label):
    """`Toàn huyện` under the cooperatives, with their sums: the district's total, as
    `Tổng cộng` is. Before, it was a cooperative named `Toàn huyện` lacking its code, an
    error that rejected the file. A name that only begins so (`Toàn Thắng`) is no total."""
    total = [None] * len(HTX_HEADER)
    total[HTX_HEADER.index("Tên HTX")] = label
    total[HTX_HEADER.index("Số thành viên")] = 80
    total[HTX_HEADER.index("Doanh thu")] = 3300
    rows = [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "6400000002"), total]
    path = write_xlsx(tmp_path / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": rows})
    assert [t["excel_row"] for t in read_workbook(path).sheets["htx"].rows] == [2, 3]
    assert _errors(path) == set()
    named = htx_row(3, "", **{"Tên HTX": "Toàn Thắng"})
    path = write_xlsx(tmp_path / "b.xlsx", {"ThongTin": info_rows(), "HTX": [HTX_HEADER, named]})
    assert ("coop_code_required", 2) in _errors(path)


def test_rule_11_titles_and_signatures_without_figures_stay_skipped(tmp_path):
    """What the rule above must not catch: a title alone (even `HTX thành lập mới năm
    2023`, also with `-` in the other cells), numbered titles (`1 | HTX nông nghiệp`), the
    signature block and numbered notes under it."""
    signature = [None] * len(HTX_HEADER)
    signature[2], signature[6] = "Người lập biểu", "Chủ tịch UBND huyện"
    rows = [
        HTX_HEADER,
        _title(None, "HTX thành lập mới năm 2023"),
        htx_row(1, "6400000001"),
        _title(1, "Xã Đức Mạnh"),
        htx_row(2, "6400000002"),
        _title(2, "HTX nông nghiệp"),
        _title(3, "HTX thành lập mới năm 2023"),
        [None, None, "HTX thành lập mới năm 2023"] + ["-"] * (len(HTX_HEADER) - 3),
        signature,
        _title(None, "Ghi chú:"),
        _title(1, "HTX Đắk Sắk đã giải thể năm 2023, không tổng hợp"),
    ]
    path = write_xlsx(tmp_path / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": rows})
    typed = read_workbook(path).sheets["htx"].rows
    assert [t["coop_code"] for t in typed] == ["6400000001", "6400000002"]
    assert _errors(path) == set()


def test_rule_3_a_line_break_inside_an_ods_paragraph_reads_as_in_an_xlsx(tmp_path):
    """A line break typed inside an .ods cell's paragraph (`<text:line-break/>`, beside the
    paragraphs Ctrl+Enter makes) separates the words as `\\n` does in an .xlsx cell: the
    headers `Mã số↵HTX`, `Tên↵HTX` (before: `Mã sốHTX`, `TênHTX`, the file rejected for
    missing columns, on the sheet found by its header too), a name and ThongTin's unit name."""
    import zipfile

    from test_feedback import write_ods

    broken = {
        "Mã số HTX": "Mã số|HTX",
        "Tên HTX": "Tên|hợp tác xã",
        "Số thành viên": "Số|thành viên",
    }
    header = [broken.get(h, h) for h in HTX_HEADER]
    row = htx_row(1, "6400000001", **{"Tên HTX": "HTX Nông nghiệp|Đức Mạnh", "Ghi chú": "a|\tb"})
    info = [
        [v.replace(" Đắk", "|Đắk") if isinstance(v, str) else v for v in r] for r in info_rows()
    ]
    sheets = {"ThongTin": info, "Biểu 01": [["BÁO CÁO HTX NĂM 2023"], header, row]}
    xlsx = write_xlsx(
        tmp_path / "663_2023.xlsx",
        {name: [[v.replace("|", "\n") if isinstance(v, str) else v for v in r] for r in rows]
         for name, rows in sheets.items()},
    )  # fmt: skip
    plain = write_ods(tmp_path / "plain.ods", sheets)
    with zipfile.ZipFile(plain) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    content = parts["content.xml"].decode()
    assert content.count("|") == 6
    parts["content.xml"] = (
        content.replace("|", "<text:line-break/>").replace("\t", "<text:tab/>").encode()
    )
    path = tmp_path / "663_2023.ods"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    read, expected = read_workbook(path), read_workbook(xlsx)
    assert expected.rejection is None, expected.rejection
    assert read.rejection is None, read.rejection
    assert read.info == expected.info
    assert identify(read.info, path.name, load_reference()).unit.code == "663"
    [typed] = read.sheets["htx"].rows
    assert typed == expected.sheets["htx"].rows[0]
    assert (typed["name"], typed["members"]) == ("HTX Nông nghiệp Đức Mạnh", 40)


def test_rule_11_a_numbered_line_without_code_or_figures_in_another_table_is_a_warning(
    tmp_path,
):
    """In the support, OCOP and offtake tables a line with an Arabic STT number and a text of
    its own but neither code nor figure (a product and its group; a programme and its
    content) belongs to no cooperative: it is not read, with the warning
    `line_without_code` naming it, never dropped in silence as a group title (helper BU). A
    total, a Roman-numbered title and a legend under the table stay skipped, with no word;
    so do a numbered line of one text (a title, or a form's line left empty) and a numbered
    legend that writes its word where the code goes (helper CC); a placeholder where the
    code goes (`Chưa có mã`) is the line's own (helper CD), and a word saying the code is
    missing (`Không`, `N/A`; not a dash) makes a line of one text of its own."""
    sheets = {
        "ThongTin": info_rows(),
        "HTX": [HTX_HEADER, htx_row(1, "6400000001")],
        "HoTro": [
            ["STT", *SUPPORT_HEADER],
            [1, "6400000001", "NTM", "Máy sấy", "Tỉnh", 120, 2023],
            [2, None, "NTM", "Kho lạnh", "Tỉnh", None, None],
            ["Tổng cộng", None, None, None, "Tỉnh", 120, None],
            [None, "NTM", "Chương trình MTQG xây dựng nông thôn mới", None, None, None, None],
            [3, None, "Chương trình NTM", None, None, None, None],  # a numbered title
            [4, None, "DA167", None, None, None, None],  # a form's line left empty
            [1, "NTM", "Chương trình MTQG xây dựng nông thôn mới", None, None, None, None],
            [5, "Chưa có mã", None, "Kho lạnh", None, None, None],  # a placeholder for it
            [6, "Không", None, "Máy sấy", None, None, None],  # the code said to be missing
            [7, "N/A", None, "Nhà kho", None, None, None],
            ["7.1", None, "NTM", "Sân phơi", "Tỉnh", None, None],  # numbered under its group's
            ["1.2.23", None, "NTM", "Sân phơi", "Tỉnh", None, None],  # a date: no number
            [8, "-", None, "DA167", None, None, None],  # a form's, as dashes may show
        ],
        "OCOP": [
            ["STT", *OCOP_HEADER],
            ["I", "Sản phẩm 4 sao", None, None, None, None, None],
            [1, None, "Cà phê bột", "Đồ uống", None, None, None],
        ],
        "LienKet": [["STT", *LINK_HEADER], [1, None, "Công ty A", "Cà phê", None, None]],
    }
    read = read_workbook(write_xlsx(tmp_path / "663_2023.xlsx", sheets))
    assert read.rejection is None, read.rejection
    assert [len(read.sheets[k].rows) for k in ("hotro", "ocop", "lienket")] == [1, 0, 0]
    warned = [
        (f.sheet, f.excel_row, f.cell, f.value)
        for f in read.findings
        if f.rule == "line_without_code" and f.severity == "warning"
    ]
    assert warned == [
        ("HoTro", 3, "B3", "NTM | Kho lạnh | Tỉnh"),
        ("HoTro", 9, "B9", "Chưa có mã | Kho lạnh"),
        ("HoTro", 10, "B10", "Không | Máy sấy"),
        ("HoTro", 11, "B11", "N/A | Nhà kho"),
        ("HoTro", 12, "B12", "NTM | Sân phơi | Tỉnh"),
        ("OCOP", 3, "B3", "Cà phê bột | Đồ uống"),
        ("LienKet", 2, "B2", "Công ty A | Cà phê"),
    ]
    message = next(f.message for f in read.findings if f.rule == "line_without_code")
    assert message.startswith("Dòng 3 của trang 'HoTro' có số thứ tự 2 nhưng không có mã số HTX")
    assert "it was not read. If it is a line of the table, write the" in message
