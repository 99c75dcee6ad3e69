"""`xlsx_patch`'s shortcuts give what the long way gives: `Package.rows_past(limit)` is
`row_bound() > limit` for every way a row or cell may be numbered, the parts of a package
stored as those of one read before are the same bytes (a damaged part still refused), a
part compressed once is stored as compressed whole, and workbooks of one template read
their sheets alike (each still checked for its own parts)."""

from __future__ import annotations

import io
import itertools
import zipfile
import zlib

import pytest

from etl.quality import xlsx_patch

SHEETS = [
    b'<worksheet><sheetData><row r="1"><c r="A1"/></row></sheetData></worksheet>',
    b'<worksheet><sheetData><row r="998"><c r="B998"><v>1</v></c></row></sheetData></worksheet>',
    b'<worksheet><sheetData><row r="999"><c r="B999"/></row></sheetData></worksheet>',
    b'<worksheet><sheetData><row r="1000"/><row r="1001"/></sheetData></worksheet>',
    b'<worksheet><sheetData><row><c r="C0999"/></row><row/></sheetData></worksheet>',
    b"<worksheet><sheetData><row r='1200'><c r='A1200'/></row></sheetData></worksheet>",
    b'<worksheet><sheetData><row r = "5000"/></sheetData></worksheet>',
    b'<worksheet><sheetData><row\tr="1002"/></sheetData></worksheet>',
    b'<worksheet><sheetData><row r="7" spr="123456"/><c xr="A99999"/></sheetData></worksheet>',
    b"<worksheet><sheetData><row r=\"1003'/></sheetData></worksheet>",
    b'<worksheet><sheetData><row r="a2000"/><c r="AAAA3000"/></sheetData></worksheet>',
    b'<worksheet><sheetData><row r="0"/><c r="A000"/><c r="A00001001"/></sheetData></worksheet>',
    b"<worksheet><sheetData>" + b'<row r="3">' * 1002 + b"</sheetData></worksheet>",
    b'<worksheet><sheetData><row r="1"/><c r= "B4000"/></sheetData></worksheet>',
    b'<worksheet><sheetData><c r="B1001"/><c r="B10001"/></sheetData></worksheet>',
]


def _package(*sheets: bytes) -> xlsx_patch.Package:
    parts = {f"xl/worksheets/sheet{i}.xml": data for i, data in enumerate(sheets, start=1)}
    parts["xl/workbook.xml"] = b'<workbook><row r="999999"/></workbook>'  # not a worksheet
    return xlsx_patch.Package(parts=parts, order=list(parts), sheets=[])


@pytest.mark.parametrize("limit", [0, 1, 7, 9, 10, 998, 999, 1000, 1001, 1002, 4999, 5000])
def test_rows_past_is_row_bound_past_the_limit(limit):
    for pair in itertools.combinations_with_replacement(SHEETS, 2):
        package = _package(*pair)
        assert package.rows_past(limit) == (package.row_bound() > limit), (limit, pair)


def _xlsx(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _unpacked_all(blob: bytes) -> dict[str, bytes]:
    from etl.outputs import zip_parts

    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        stored = zip_parts.raw_members(blob, archive)
        return {n: xlsx_patch._unpacked(archive, n, stored[n], blob) for n in archive.namelist()}


def test_parts_stored_alike_are_unpacked_alike_and_a_damaged_one_is_refused():
    theme = b"<theme>" + b"<a/>" * 500 + b"</theme>"
    good = {"xl/theme/theme1.xml": theme, "xl/worksheets/sheet1.xml": b"<worksheet/>"}
    first, second = _unpacked_all(_xlsx(good)), _unpacked_all(_xlsx(good))
    assert first == second == good
    assert second["xl/theme/theme1.xml"] is first["xl/theme/theme1.xml"]  # not unpacked again
    assert second["xl/worksheets/sheet1.xml"] is not first["xl/worksheets/sheet1.xml"]
    damaged = {"xl/theme/theme1.xml": theme[:-3]}
    for _ in range(2):  # a refused part is never kept as well-formed
        with pytest.raises(xlsx_patch.NotPatchable):
            _unpacked_all(_xlsx(damaged))
    # The same bytes under a name that is not checked (no XML) are not taken as checked.
    binary = {"xl/media/image1.png": theme[:-3]}
    assert _unpacked_all(_xlsx(binary)) == binary


def test_a_shared_part_compressed_once_is_stored_as_compressed_whole():
    styles = b"<styleSheet>" + b"<xf/>" * 300 + b"</styleSheet>"
    for _ in range(2):
        member = xlsx_patch._deflated("xl/styles.xml", styles)
        fresh = xlsx_patch.zip_parts.Member.deflated("xl/styles.xml", styles)
        assert (member.pieces, member.size, member.crc) == (fresh.pieces, fresh.size, fresh.crc)
        assert zlib.decompress(b"".join(member.pieces), -15) == styles


def test_parts_are_inflated_as_zipfile_reads_them_and_refused_where_zipfile_refuses():
    from etl.outputs import zip_parts

    parts = {"xl/styles.xml": b"<styleSheet/>" * 50, "xl/media/a.bin": bytes(range(256)) * 9}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/styles.xml", parts["xl/styles.xml"], zipfile.ZIP_DEFLATED)
        archive.writestr("xl/media/a.bin", parts["xl/media/a.bin"], zipfile.ZIP_STORED)
    blob = buffer.getvalue()
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        stored = zip_parts.raw_members(blob, archive)
        for name in parts:
            inflated = xlsx_patch._inflated(archive.getinfo(name), stored[name], blob)
            assert inflated == archive.read(name) == parts[name]
    # The local header names another part: zipfile refuses it, and so does the copy.
    renamed = blob.replace(b"xl/styles.xml", b"xl/styles.xmX", 1)
    with zipfile.ZipFile(io.BytesIO(renamed)) as archive:
        stored = zip_parts.raw_members(renamed, archive)
        assert (
            xlsx_patch._inflated(archive.getinfo("xl/styles.xml"), stored["xl/styles.xml"], renamed)
            is None
        )
        with pytest.raises(zipfile.BadZipFile):
            xlsx_patch._unpacked(archive, "xl/styles.xml", stored["xl/styles.xml"], renamed)
    # Data that is not its CRC-32: left to zipfile, which says so.
    crc = zlib.crc32(parts["xl/media/a.bin"]).to_bytes(4, "little")
    damaged = blob.replace(crc, bytes(4))
    with zipfile.ZipFile(io.BytesIO(damaged)) as archive:
        stored = zip_parts.raw_members(damaged, archive)
        with pytest.raises(zipfile.BadZipFile):
            xlsx_patch._unpacked(archive, "xl/media/a.bin", stored["xl/media/a.bin"], damaged)


def test_workbooks_of_one_template_are_read_alike_and_still_checked(tmp_path):
    template = {
        "[Content_Types].xml": (
            '<Types><Override PartName="/xl/workbook.xml" '
            f'ContentType="{xlsx_patch.WORKBOOK_TYPE}"/></Types>'
        ).encode(),
        "xl/workbook.xml": (
            f'<workbook xmlns="{xlsx_patch.MAIN_NS}" xmlns:r="{xlsx_patch.REL_NS}"><sheets>'
            '<sheet name="HTX" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships><Relationship Id="rId1" Type="{xlsx_patch.REL_NS}/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'
        ).encode(),
    }
    sheet = f'<worksheet xmlns="{xlsx_patch.MAIN_NS}"><sheetData/></worksheet>'.encode()
    (tmp_path / "a.xlsx").write_bytes(_xlsx({**template, "xl/worksheets/sheet1.xml": sheet}))
    (tmp_path / "b.xlsx").write_bytes(_xlsx(template))  # the template's sheet part missing
    for _ in range(2):  # read again: the structure the template's parts gave the first time
        package = xlsx_patch.Package.read(tmp_path / "a.xlsx", 1 << 20)
        assert package.sheets == [xlsx_patch.Sheet("HTX", "xl/worksheets/sheet1.xml", True)]
        assert package._rel_prefix == "r"
        with pytest.raises(xlsx_patch.NotPatchable, match="sheet of type worksheet"):
            xlsx_patch.Package.read(tmp_path / "b.xlsx", 1 << 20)
