"""Feedback copies at the zip level, the cheaper way (etl.quality.xlsx_patch): the parts a
copy does not change keep the clerk's compressed bytes, and the byte scan that spares
`guard.bounded` only ever says "no trim" when guard would not trim."""

from __future__ import annotations

import struct
import zipfile

import openpyxl
import pytest

from etl.quality import xlsx_patch
from etl.read import guard

TAIL = guard.EMPTY_TAIL_ROWS


def _workbook(path, last_rows, stray=None, text_last=False):
    """A sheet of numbers in rows 1..last_rows (of text only, shared strings, if
    `text_last`), and perhaps a stray cell far below: "space" a blank text, "styled" no
    value."""
    if text_last:  # xlsxwriter keeps text in shared strings
        import xlsxwriter

        with xlsxwriter.Workbook(path) as book:
            sheet = book.add_worksheet("HTX")
            for r in range(last_rows):
                sheet.write_string(r, 0, f"tên {r}")
        return path
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "HTX"
    for r in range(1, last_rows + 1):
        ws.cell(row=r, column=1, value=r)
        ws.cell(row=r, column=2, value=r * 1.5)
    if stray == "styled":
        ws.cell(row=last_rows + 3 * TAIL, column=1).font = openpyxl.styles.Font(bold=True)
    elif stray == "space":
        ws.cell(row=last_rows + 3 * TAIL, column=1, value="   ")
    workbook.save(path)
    return path


@pytest.mark.parametrize(
    ("rows", "stray", "text_last", "sure"),
    [
        (40, None, False, True),  # short: nothing to look at
        (1500, None, False, True),  # long, numbers to the end
        (1500, "styled", False, False),  # an empty tail: guard trims it
        (1500, "space", False, False),
        (1500, None, True, False),  # shared strings only: not known, guard asked
    ],
)
def test_no_trim_is_said_only_when_guard_keeps_the_file(tmp_path, rows, stray, text_last, sure):
    path = _workbook(tmp_path / "w.xlsx", rows, stray, text_last)
    package = xlsx_patch.Package.read(path, 200 << 20)
    assert package.tails_within(TAIL, 200_000) is sure
    kept = guard.bounded(path, tmp_path / "work") == path
    if sure:
        assert kept
    if stray:
        assert not kept


def test_rows_past_the_limit_are_left_to_guard(tmp_path):
    path = _workbook(tmp_path / "w.xlsx", 1500)
    package = xlsx_patch.Package.read(path, 200 << 20)
    assert package.tails_within(TAIL, 200_000)
    assert not package.tails_within(TAIL, 1200)


def _stored(handle, info) -> bytes:
    """A member's data as stored, after its local header."""
    handle.seek(info.header_offset + 26)
    name_length, extra_length = struct.unpack("<2H", handle.read(4))
    handle.seek(info.header_offset + 30 + name_length + extra_length)
    return handle.read(info.compress_size)


def test_unchanged_parts_keep_their_compressed_bytes(tmp_path):
    original = _workbook(tmp_path / "w.xlsx", 30)
    with zipfile.ZipFile(original) as archive:
        raw = {
            info.filename: (info.compress_type, info.CRC, archive.read(info.filename))
            for info in archive.infolist()
        }

    def copy(name, recompress):
        package = xlsx_patch.Package.read(original, 200 << 20)
        if recompress:
            package._stored = {}
        sheet = package.sheets[0]
        package.mark(sheet, "A3", "FFFF7C80", "Lỗi / error", 420, 150)
        cells = {1: [xlsx_patch.NewCell("Loi"), xlsx_patch.NewCell(3)]}
        package.insert_first_sheet("Loi", cells, [20, 10], 1, {"A1": "'HTX'!A3"})
        package.set_custom_property("stamp", "abc")
        package.save(tmp_path / name, "HTX")
        with zipfile.ZipFile(tmp_path / name) as archive:
            assert archive.testzip() is None
            return {i.filename: (i.CRC, archive.read(i.filename)) for i in archive.infolist()}

    kept, recompressed = copy("kept.xlsx", False), copy("recompressed.xlsx", True)
    assert kept == recompressed  # the same parts, the same content
    unchanged = [name for name in raw if name.startswith(("xl/theme/", "docProps/core"))]
    assert unchanged
    with (
        zipfile.ZipFile(original) as before,
        zipfile.ZipFile(tmp_path / "kept.xlsx") as after,
        open(original, "rb") as one,
        open(tmp_path / "kept.xlsx", "rb") as two,
    ):
        for name in unchanged:
            a, b = before.getinfo(name), after.getinfo(name)
            assert (a.compress_type, a.compress_size, a.CRC) == (
                b.compress_type,
                b.compress_size,
                b.CRC,
            )
            assert _stored(one, a) == _stored(two, b)
    workbook = openpyxl.load_workbook(tmp_path / "kept.xlsx")
    assert workbook.sheetnames == ["Loi", "HTX"]
    assert workbook["HTX"]["A3"].comment.text == "Lỗi / error"


def test_stamps_kept_in_the_state_folder_are_trusted_only_for_the_same_file(tmp_path):
    from etl.config import settings_under
    from etl.quality import feedback

    settings = settings_under(tmp_path)
    one, two = tmp_path / "one.xlsx", tmp_path / "two.xlsx"
    one.write_bytes(b"first")
    two.write_bytes(b"second")
    feedback._write_stamps(settings, {}, {one: "s1", two: None, tmp_path / "gone.xlsx": "s3"})
    known = feedback._read_stamps(settings)
    assert set(known) == {str(one)}  # a shared path and a missing file are not kept
    assert feedback._stamped(known, one, "s1")
    assert not feedback._stamped(known, one, "other")
    assert not feedback._stamped(known, two, "s2")
    one.write_bytes(b"changed, longer")  # written since by something else
    assert not feedback._stamped(known, one, "s1")
    one.unlink()
    assert not feedback._stamped(known, one, "s1")
