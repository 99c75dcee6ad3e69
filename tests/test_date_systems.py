"""A serial day is counted from the file's own day 0: an .xlsx saved in the 1904 date system
(old Excel for Mac) and an .ods file with its `table:null-date` read a number in a date
column as the day the clerk's spreadsheet shows, never 4 years and 1 day early; and no
file's epoch reaches the next file through the typing memo (rule 7)."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest
from conftest import HTX_HEADER, htx_row, info_rows

from etl.contract.reference import load_reference
from etl.read import guard
from etl.read.identify import identify_read
from etl.read.reader import read_workbook

FOUNDED = dt.date(2018, 3, 5)
PREPARED = dt.date(2024, 1, 15)
CORPUS = Path(__file__).parent / "corpus"


def _serial(day: dt.date, epoch: dt.date) -> int:
    return (day - epoch).days


def _book(path: Path, date1904: bool, serial_of: dict[str, int] | None = None) -> Path:
    """A district workbook written by openpyxl in the 1900 or the 1904 date system: the
    first cooperative's founding date a date cell, the second's (and `Ngày lập`) the number
    `serial_of` gives, formatted General, as a clerk pastes values."""
    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

    epoch = dt.date(1904, 1, 1) if date1904 else dt.date(1899, 12, 30)
    serials = serial_of or {}
    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
    info = book.active
    info.title = "ThongTin"
    for label, value in info_rows(prepared=PREPARED):
        prepared = serials.get("prepared", _serial(PREPARED, epoch))
        info.append([label, prepared if label == "Ngày lập" else value])
    htx = book.create_sheet("HTX")
    htx.append(HTX_HEADER)
    htx.append(htx_row(1, "6400000001", **{"Ngày thành lập": FOUNDED}))
    founded = serials.get("founded", _serial(FOUNDED, epoch))
    htx.append(htx_row(2, "6400000002", **{"Ngày thành lập": founded}))
    book.save(path)
    return path


def _with_workbook_pr(path: Path, written: bytes) -> Path:
    """`path` with xl/workbook.xml's `<workbookPr …/>` written as given (`date1904="true"`)."""
    copy = path.with_name(f"pr-{path.name}")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(copy, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/workbook.xml":
                data, found = re.subn(rb"<workbookPr\b[^>]*>", written, data)
                assert found == 1
            target.writestr(info.filename, data)
    return copy


def _founded(read) -> list[dt.date | None]:
    return [row["founded_on"] for row in read.sheets["htx"].rows]


@pytest.mark.parametrize("date1904", [False, True])
def test_a_serial_founding_date_reads_as_the_day_the_workbook_s_date_system_shows(
    tmp_path, date1904
):
    """In a workbook of the 1904 date system the founding date `Ngày thành lập` pasted as a
    number (41702, General) read as 04/03/2014, 4 years and a day before 05/03/2018, the
    day Excel for Mac shows for it, while the date cell beside it read right."""
    path = _book(tmp_path / f"663_2023_{int(date1904)}.xlsx", date1904)
    read = read_workbook(path)
    assert read.rejection is None
    assert _founded(read) == [FOUNDED, FOUNDED]
    assert [row["founded_on_precision"] for row in read.sheets["htx"].rows] == ["day", "day"]
    identity = identify_read(read, path.name, load_reference())  # `Ngày lập`, a number too
    assert identity.prepared_on == PREPARED  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("written", "date1904"),
    [
        (b'<workbookPr date1904="true"/>', True),
        (b"<workbookPr defaultThemeVersion='124226' date1904='1'/>", True),
        (b'<x:workbookPr xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
         b' date1904="1"/>', True),
        (b'<workbookPr date1904="false"/>', False),
        (b'<workbookPr date1904="0"/>', False),
        (b"<workbookPr/>", False),
    ],
)  # fmt: skip
def test_the_1904_flag_is_read_as_python_calamine_reads_it(tmp_path, written, date1904):
    """The date cells (calamine's reading) and the serial numbers (the reader's) are one
    date system: `true` and a prefixed tag say 1904 as `1` does, `false` and `0` do not."""
    path = _with_workbook_pr(_book(tmp_path / "663_2023.xlsx", date1904=True), written)
    with guard.Package(path) as package:
        guard.bounded(package, tmp_path / "work")
        assert package.date_epoch == (dt.date(1904, 1, 1) if date1904 else None)
    read = read_workbook(path)
    date_cell, serial = _founded(read)
    shift = dt.timedelta(days=0 if date1904 else -1462)  # the file's numbers, 1900's days
    assert (date_cell, serial) == (FOUNDED + shift, FOUNDED + shift)


def test_no_file_s_date_system_reaches_the_next_file(tmp_path):
    """The same number in the same column, in files of both systems read one after the
    other in one process: each reads its own day. A memo keyed on the cell alone would hand
    the second file the first one's day."""
    number = 41702  # 05/03/2018 in the 1904 system, 03/03/2014 in the 1900 one
    mac = _book(tmp_path / "mac.xlsx", True, {"founded": number, "prepared": number})
    windows = _book(tmp_path / "windows.xlsx", False, {"founded": number, "prepared": number})
    days = {"mac": dt.date(2018, 3, 5), "windows": dt.date(2014, 3, 4)}
    prepared = {"mac": dt.date(2018, 3, 5), "windows": number}  # `identify` reads the number
    for name, path in [("mac", mac), ("windows", windows), ("mac", mac), ("windows", windows)]:
        read = read_workbook(path)
        assert _founded(read)[1] == days[name], name
        assert read.info["prepared_on"] == prepared[name], name


def _ods_1904(path: Path) -> Path:
    """The committed .ods of rule 11 as LibreOffice saves a workbook begun in Excel for Mac:
    `table:null-date` 01/01/1904, and its first founding date and `Ngày lập` numbers of that
    system (float cells) instead of date cells."""
    source = CORPUS / "d11_section_rows.ods"
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(path, "w") as target:
        for info in archive.infolist():
            data = archive.read(info.filename)
            if info.filename == "content.xml":
                data = data.replace(
                    b"<table:iteration ",
                    b'<table:null-date table:date-value="1904-01-01"/><table:iteration ',
                )
                for day in (FOUNDED, PREPARED):
                    written = f'office:value-type="date" office:date-value="{day}"'.encode()
                    assert data.count(written) == 1
                    serial = _serial(day, dt.date(1904, 1, 1))
                    data = data.replace(
                        written + b' calcext:value-type="date"',
                        f'office:value-type="float" office:value="{serial}" '
                        'calcext:value-type="float"'.encode(),
                    )
            target.writestr(info, data)
    return path


def test_an_ods_serial_day_is_counted_from_its_null_date(tmp_path):
    """An .ods file names its day 0 in `table:null-date`: a number in its date column is
    that many days after it, as LibreOffice shows it."""
    path = _ods_1904(tmp_path / "663_2023.ods")
    read = read_workbook(path)
    assert read.rejection is None
    assert FOUNDED in _founded(read)
    assert read.info["prepared_on"] == PREPARED
    plain = read_workbook(CORPUS / "d11_section_rows.ods")  # no null date: Excel's day 0
    assert _founded(plain) == _founded(read)


def test_an_xls_date_cell_is_dated_by_its_datemode(tmp_path):
    """An .xls of the 1904 system (its DATEMODE record 1): python-calamine dates its date
    cells by it. (A number formatted General in such a file is read in the 1900 system:
    python-calamine does not tell the reader the flag; docs/drift.md, rule 7.)"""
    data = bytearray((CORPUS / "d11_section_rows.xls").read_bytes())
    at = data.find(b"\x22\x00\x02\x00\x00\x00")  # DATEMODE, 2 bytes: 0, the 1900 system
    assert at > 0
    assert data.count(b"\x22\x00\x02\x00") == 1
    data[at + 4] = 1
    path = tmp_path / "663_2023.xls"
    path.write_bytes(data)
    read = read_workbook(path)
    # 15/01/2024 in the 1900 system is the number 45306: 16/01/2028 counted from 1904.
    assert read.info["prepared_on"] == dt.date(2028, 1, 16)
