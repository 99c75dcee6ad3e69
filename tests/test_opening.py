"""The memory guard before calamine: the byte scan that bounds a sheet's last row must never
under-count, or a stray far cell would reach calamine's dense grid untrimmed."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from conftest import HTX_HEADER, htx_row, write_xlsx

from etl.config import Limits
from etl.read import guard
from etl.read.reader import read_workbook

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _bound(tmp_path: Path, sheet_data: str) -> int:
    path = tmp_path / "sheet.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "s.xml", f"<worksheet {NS}><sheetData>{sheet_data}</sheetData></worksheet>"
        )
    with zipfile.ZipFile(path) as archive:
        return guard._row_bound(archive, "s.xml", 1 << 30)


@pytest.mark.parametrize(
    ("sheet_data", "at_least"),
    [
        # a cell's own reference lies past its row's
        ('<row r="2"><c r="A1048576"><v>1</v></c></row>', 1_048_576),
        # rows without `r` follow one another
        ("<row><c><v>1</v></c></row>" * 3, 3),
        ('<row r="10"/><row><c t="s"><v>0</v></c></row>', 11),
        # a namespace prefix and single quotes
        ("<x:row r='7' spans='1:3'><x:c r='C7'><x:v>1</x:v></x:c></x:row>", 7),
    ],
)
def test_row_bound_covers_every_way_a_row_is_numbered(tmp_path, sheet_data, at_least):
    assert _bound(tmp_path, sheet_data) >= at_least


def test_row_bound_is_exact_across_read_chunks(tmp_path):
    # About 3 MB of XML: tags straddle the 1 MB reads of the scan.
    rows = "".join(
        f'<row r="{i}" spans="1:2"><c r="B{i}"><v>{i}</v></c></row>' for i in range(1, 60_001)
    )
    assert _bound(tmp_path, rows) == 60_000


def _edit_sheet(path: Path, member: str, edit) -> None:
    with zipfile.ZipFile(path) as archive:
        items = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in items:
            archive.writestr(info, edit(data) if info.filename == member else data)


_SPACE = b'<c r="R1048576" t="inlineStr"><is><t xml:space="preserve"> </t></is></c>'


@pytest.mark.parametrize(
    "add_far_cell",
    [
        # A row with no `r`, after the real ones, holding a space in the last Excel row.
        lambda xml: xml.replace(b"</sheetData>", b"<row>" + _SPACE + b"</row></sheetData>"),
        # Row 2 also holds a cell whose own reference is the last Excel row.
        lambda xml: re.sub(rb"</row>", _SPACE + b"</row>", xml, count=2).replace(
            _SPACE + b"</row>", b"</row>", 1
        ),
    ],
    ids=["unnumbered_row", "cell_inside_a_near_row"],
)
def test_a_far_cell_is_trimmed_however_its_row_is_numbered(tmp_path, add_far_cell):
    rows = [HTX_HEADER] + [htx_row(i, f"64000000{i:02d}") for i in range(1, 11)]
    clean = read_workbook(write_xlsx(tmp_path / "clean.xlsx", {"HTX": rows}))
    path = write_xlsx(tmp_path / "far.xlsx", {"HTX": rows})
    _edit_sheet(path, "xl/worksheets/sheet1.xml", add_far_cell)
    read = read_workbook(path)
    assert read.rejection is None
    assert read.sheets["htx"].rows == clean.sheets["htx"].rows
    assert read.rows_scanned <= 2 * clean.rows_scanned


def test_row_limit_still_applies_to_a_short_limit(tmp_path):
    rows = [HTX_HEADER] + [htx_row(i, f"64000000{i:02d}") for i in range(1, 31)]
    path = write_xlsx(tmp_path / "f.xlsx", {"HTX": rows})
    read = read_workbook(path, Limits(rows=20))
    assert read.rejection is not None
    assert read.rejection.rule == "too_many_rows"


@pytest.mark.parametrize("kind", ["xlsx", "ods"])
def test_too_many_rows_names_the_sheet_as_its_tab_shows_it(tmp_path, kind):
    """The clerk is told which tab and how many rows, in each half in its own words: never
    a part of the zip (`xl/worksheets/sheet2.xml`) nor English in the Vietnamese half."""
    from test_feedback import write_ods

    rows = [HTX_HEADER] + [htx_row(i, f"64000000{i:02d}") for i in range(1, 31)]
    sheets = {"ThongTin": [["Năm báo cáo", 2023]], "Danh sách HTX": rows}
    if kind == "ods":
        path = write_ods(tmp_path / "663_2023.ods", sheets)
    else:
        path = write_xlsx(tmp_path / "663_2023.xlsx", sheets)
    read = read_workbook(path, Limits(rows=20))
    assert read.rejection is not None
    assert read.rejection.rule == "too_many_rows"
    vi, en = read.rejection.message.split(" / ", 1)
    assert vi.startswith("Trang 'Danh sách HTX' có quá nhiều dòng dữ liệu (")
    assert "dòng, giới hạn 20 dòng)" in vi
    assert "rows" not in vi
    assert en.startswith("Sheet 'Danh sách HTX' holds far too many rows (")
    assert "xml" not in read.rejection.message


def test_the_trim_keeps_a_real_cell_whose_row_is_numbered_further_down(tmp_path):
    from python_calamine import CalamineWorkbook

    rows = [HTX_HEADER] + [htx_row(i, f"64000000{i:02d}") for i in range(1, 11)]
    path = write_xlsx(tmp_path / "odd.xlsx", {"HTX": rows})

    def add_cells(xml: bytes) -> bytes:
        # A real value placed at A12 by its own reference, inside a row numbered 5000, and a
        # space in the last Excel row, which makes the sheet worth trimming.
        odd = b'<row r="5000"><c r="A12" t="inlineStr"><is><t>kept</t></is></c></row>'
        return xml.replace(b"</sheetData>", odd + b"<row>" + _SPACE + b"</row></sheetData>")

    _edit_sheet(path, "xl/worksheets/sheet1.xml", add_cells)
    trimmed = guard.bounded(path, tmp_path / "work")
    assert trimmed != path  # the far space went
    sheet = CalamineWorkbook.from_path(str(trimmed)).get_sheet_by_name("HTX").to_python()
    assert sheet[11][0] == "kept"
    assert len(sheet) < 100
