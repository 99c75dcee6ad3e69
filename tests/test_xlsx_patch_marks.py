"""`Package._style_cells` styles many cells as one `_style_cell` call per cell does, on
every shape of sheet data: cells that exist, cells a row lacks, rows the sheet lacks
(before the first row, between rows, after the last), self-closed rows, and rows out of
order (left to the one-by-one way)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import xlsxwriter

from etl.quality import xlsx_patch

SHEET_DATA = (
    '<row r="2" spans="1:3"><c r="A2" s="1" t="s"><v>0</v></c><c r="C2"><v>5</v></c></row>'
    '<row r="3"/>'
    "<row r='5'><c r='B5' t='n'><v>1</v></c></row>"
    '<row r="9" ht="20" customHeight="1"><c r="A9"/><c r="D9" s="1"/></row>'
)
SHEETS = {
    "ordered": SHEET_DATA,
    "out of order": '<row r="5"><c r="A5"/></row><row r="2"><c r="B2"/></row>',
    "empty": "",
}


def _package(tmp_path: Path, name: str) -> xlsx_patch.Package:
    path = tmp_path / f"{name}.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("HTX")
    sheet.write(0, 0, "x", workbook.add_format({"bold": True}))
    workbook.close()
    return xlsx_patch.Package.read(path, 200 << 20)


def _cells(seed: int) -> list[tuple[int, int, int]]:
    spots = [(r, c) for r in range(1, 12) for c in range(0, 5)]
    chosen = random.Random(seed).sample(spots, 12)
    return [(r, c, 1 + (r + c) % 2) for r, c in chosen]


@pytest.mark.parametrize("shape", SHEETS)
@pytest.mark.parametrize("seed", range(6))
def test_many_cells_styled_at_once_are_styled_as_one_by_one(tmp_path, shape, seed):
    xml = f'<worksheet xmlns="x"><sheetData>{SHEETS[shape]}</sheetData><pageMargins/></worksheet>'
    cells = _cells(seed)
    one, many = _package(tmp_path, "one"), _package(tmp_path, "many")
    expected = xml
    for row, column, fill in cells:
        expected = one._style_cell(expected, row, column, fill)
    assert many._style_cells(xml, cells) == expected
    assert many.parts["xl/styles.xml"] == one.parts["xl/styles.xml"]


def test_a_mark_made_again_counts_once_and_last(tmp_path):
    package = _package(tmp_path, "again")
    [sheet] = package.sheets
    package.mark(sheet, "B2", "FFFF0000", "first", 2, 2)
    package.mark(sheet, "C3", "FFFFFF00", "other", 2, 2)
    package.mark(sheet, "B2", "FFFFFF00", "again", 2, 2)
    marks = list(package._marks[sheet.part].values())
    assert [(m.row, m.column, m.rgb, m.comment) for m in marks] == [
        (3, xlsx_patch.split_address("C3")[1], "FFFFFF00", "other"),
        (2, xlsx_patch.split_address("B2")[1], "FFFFFF00", "again"),
    ]


def test_hidden_rows_and_columns_holding_a_mark_are_shown_and_only_they():
    """A hidden `<col>` range is cut around the marked columns (its width of 0, the clerk's
    way of hiding, becomes a width to see); a marked row loses `hidden` or its height of 0;
    rows and columns without a mark stay hidden."""
    xml = (
        '<worksheet><cols><col min="1" max="1" width="9"/>'
        '<col min="2" max="5" width="0" hidden="1" customWidth="1"/>'
        "<col min='7' max='7' hidden='true'/></cols><sheetData>"
        '<row r="2" hidden="1"><c r="B2"/></row><row r="3" ht="0" customHeight="1"><c r="C3"/>'
        '</row><row r="4" hidden="1"/></sheetData></worksheet>'
    )
    rows, columns = {2, 3, 9}, {2, 4, 7, 8}
    assert xlsx_patch.hidden_rows(xml, rows) == [2, 3]
    assert xlsx_patch.hidden_columns(xml, columns) == [2, 4, 7]
    shown = xlsx_patch.shown(xml, rows, columns)
    assert shown == (
        '<worksheet><cols><col min="1" max="1" width="9"/>'
        '<col min="2" max="2" width="13" customWidth="1"/>'
        '<col min="3" max="3" width="0" hidden="1" customWidth="1"/>'
        '<col min="4" max="4" width="13" customWidth="1"/>'
        '<col min="5" max="5" width="0" hidden="1" customWidth="1"/>'
        '<col min="7" max="7"/></cols><sheetData>'
        '<row r="2"><c r="B2"/></row><row r="3"><c r="C3"/>'
        '</row><row r="4" hidden="1"/></sheetData></worksheet>'
    )
    assert xlsx_patch.hidden_rows(shown, rows) == xlsx_patch.hidden_columns(shown, columns) == []
