"""Looks at a file before the reader opens it: what it really is, and how far its sheets reach.

- `sniff` tells an .xlsx, .ods or .xls from an encrypted workbook, an empty file or
  something that is no spreadsheet, by content, not by name, so the clerk gets a reason
  that says what is wrong.
- `bounded` protects memory: python-calamine holds a sheet as a dense grid from A1 to its
  last non-empty cell, so one stray space in row 1,048,576 would cost a million rows. For
  an .xlsx, a byte scan of each sheet's row and cell references first bounds its last
  row. A sheet that may reach past `EMPTY_TAIL_ROWS` is then streamed as XML to find the
  last row holding a real value; one that reaches much further is rewritten without the
  empty tail into a private copy, which the reader then opens. Row numbers are unchanged:
  only rows below the last real one go.
- The grid is rows × columns: one value in column XFD of row 150,000 would cost 2.5 billion
  cells. The same byte scan bounds each sheet's last column; a sheet whose grid may pass
  the cell limit is parsed, its empty far cells trimmed with the empty rows, and a real
  value that far out rejects the file (`too_many_cells`). Every part the workbook names as
  a sheet is checked, wherever in the zip it lies; for an .ods, repeated cells and rows
  are counted.
- Text copied into many cells: python-calamine copies a shared string into every cell that
  names it, and an .ods cell's text into every cell it repeats over. The text so held
  counts against the unpacked limit (`file_too_expanded`), so that a few KB never hold GBs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import posixpath
import re
import shutil
import zipfile
import zlib
from array import array
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import NamedTuple
from xml.etree import ElementTree as ET
from xml.parsers import expat
from xml.sax import handler, make_parser
from xml.sax.saxutils import XMLGenerator

from etl.read.cells import money_factor

log = logging.getLogger(__name__)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# The first bytes of a RAR (4 and 5) and a 7-Zip archive: reports a district packed to send.
ARCHIVE_MAGICS = (b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c")
# A zip with one of these members is an office document or another packaged format (a
# .docx, an .epub), not an archive a person packed.
_PACKAGE_MEMBERS = ("[Content_Types].xml", "mimetype", "META-INF/manifest.xml")
_ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
# An .ods saved with a password lists how each part is encrypted in its manifest (each
# part's, or from ODF 1.4 the one `encrypted-package`'s).
_ODF_MANIFEST = "META-INF/manifest.xml"
_ODF_ENCRYPTED = b"encryption-data"
# The attribute LibreOffice marks a cell showing a formula's error with.
_CALCEXT_VALUE_TYPE = (
    "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}value-type"
)
# What reading a damaged zip member raises besides BadZipFile: a member with a zip password
# (RuntimeError), an unknown compression method (NotImplementedError), a broken deflate
# stream (zlib.error), a member cut short (EOFError).
_DAMAGED_ZIP = (zipfile.BadZipFile, RuntimeError, NotImplementedError, zlib.error, EOFError)
_ROW_OF_CELL = re.compile(r"(\d+)$")
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\b([^>]*)>")
_REFERENCE = re.compile(rb"\sr\s*=\s*[\"'][A-Za-z]{0,3}(\d+)[\"']")

# A sheet may reach this many rows beyond its last real value before it is trimmed.
EMPTY_TAIL_ROWS = 1000
# Columns a reference of one or two letters can name (A to ZZ): the byte scan looks only at
# references of three letters or more, the rest cannot pass this.
TWO_LETTER_COLUMNS = 26 + 26 * 26
# The column letters that lead a cell reference.
_LETTERS = re.compile(r"[A-Za-z]+")


# A column named by more than three letters: past Excel's last (XFD), so it counts as this.
_PAST_ANY_COLUMN = 1 << 32


def column_number(letters: str | bytes) -> int:
    """1 for `A`, 16384 for `XFD`; 0 for no letters; `_PAST_ANY_COLUMN` for four or more."""
    if len(letters) > 3:
        return _PAST_ANY_COLUMN
    number = 0
    for letter in letters.upper():
        number = number * 26 + (letter if isinstance(letter, int) else ord(letter)) - 64
    return number


def _cell_column(reference: str, previous: int) -> int:
    """The column of a cell by its reference, else the one after the cell before it."""
    letters = _LETTERS.match(reference)
    return column_number(letters.group()) if letters else previous + 1


class LimitExceeded(Exception):
    """A file past one of the configured limits: `rule` names which, `detail` says how far;
    `fields`, what its message names besides (the sheet as the clerk sees its tab, the count
    and the limit)."""

    def __init__(self, rule: str, detail: str, **fields: object):
        super().__init__(f"{rule}: {detail}")
        self.rule, self.detail, self.fields = rule, detail, fields


def too_many_rows(sheet: str, rows: int, limit: int) -> LimitExceeded:
    """`too_many_rows` of the sheet named `sheet` (its tab's name)."""
    return LimitExceeded(
        "too_many_rows", f"{sheet}: {rows} rows", sheet=sheet, count=rows, limit=limit
    )


def too_many_cells(sheet: str, rows: int, columns: int, limit: int) -> LimitExceeded:
    """`too_many_cells` of the sheet named `sheet`: `rows` × `columns` past `limit` cells."""
    return LimitExceeded(
        "too_many_cells",
        f"{sheet}: {rows} × {columns}",
        sheet=sheet,
        count=rows,
        columns=columns,
        limit=limit,
    )


class _Counted:
    """A stream that refuses to give more than `limit` bytes: the guard against zip bombs."""

    def __init__(self, stream, limit: int, name: str):
        self.stream, self.left, self.name = stream, limit, name

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size if size and size > 0 else 1 << 16)
        self.left -= len(data)
        if self.left < 0:
            raise LimitExceeded("file_too_expanded", f"{self.name} unpacks past the limit")
        return data


class Package:
    """One file as the guard sees it: what it is (`sniff`) and, for a zip, its central
    directory parsed once, kept open and shared by every check and by the reader. Close it
    (or use it in a `with`) when done.

    Building one raises what `sniff` raises (a zip whose `mimetype` cannot be read).
    """

    def __init__(self, path: Path):
        self.path = path
        self.archive: zipfile.ZipFile | None = None
        self.names: list[str] = []
        # Sheet name -> cells (Excel row, 0-based column) holding a formula with no saved
        # value, found by `bounded`.
        self.uncached: dict[str, frozenset[tuple[int, int]]] = {}
        self.hidden_rows: dict[str, frozenset[int]] = {}  # by sheet name: Excel rows hidden
        # Sheet name -> number cells (Excel row, 0-based column) shown as a percentage.
        self.percent: dict[str, frozenset[tuple[int, int]]] = {}
        # Sheet name -> number cells (Excel row, 0-based column) shown with a money unit
        # (`#,##0 "đ"`, `#,##0 ₫`; an .ods currency cell in VND), with that unit as shown, or
        # scaled (`#,##0,,`: `Scaled`).
        self.money_units: dict[str, dict[tuple[int, int], str | Scaled]] = {}
        # Sheet name -> cells (Excel row, 0-based column) holding an error value (`#DIV/0!`),
        # with that error as Excel shows it.
        self.errors: dict[str, dict[tuple[int, int], str]] = {}
        # Sheet name -> .ods text cells (Excel row, 0-based column) whose line breaks or tabs
        # python-calamine drops (`<text:line-break/>`, `<text:tab/>`), with their text.
        self.texts: dict[str, dict[tuple[int, int], str]] = {}
        # Day 0 of the serial numbers in a cell formatted General, when the file counts from
        # another than Excel's usual 30/12/1899: 01/01/1904 for an .xlsx saved in the 1904
        # date system (read by `bounded`), an .ods file's `table:null-date` (`ods_content`).
        # python-calamine applies it to date cells itself; a number it leaves to the reader.
        self.date_epoch: dt.date | None = None
        self.kind = self._sniff()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()

    def _sniff(self) -> str:
        path = self.path
        with path.open("rb") as handle:
            head = handle.read(8)
        if not head:
            return "empty"
        if head.startswith(ZIP_MAGIC):
            try:
                archive = zipfile.ZipFile(path)
            except zipfile.BadZipFile:
                return "corrupt"
            try:
                self.names = archive.namelist()
                names = set(self.names)
                if any(info.flag_bits & 1 for info in archive.infolist()):
                    kind = "encrypted"  # zipped with a password (7-Zip, WinZip)
                elif "xl/workbook.xml" in names:
                    kind = "xlsx"
                elif "mimetype" in names and b"spreadsheet" in _head(archive, "mimetype", 100):
                    if _ODF_ENCRYPTED in _head(archive, _ODF_MANIFEST, 1 << 20):
                        kind = "encrypted"  # an .ods saved with a password
                    else:
                        kind = "ods" if "content.xml" in names else "unknown"
                elif names.isdisjoint(_PACKAGE_MEMBERS):
                    kind = "archive"  # a zip a person packed: its members are `names`
                else:
                    kind = "unknown"
            except _DAMAGED_ZIP:
                archive.close()
                return "corrupt"
            except BaseException:
                archive.close()
                raise
            if kind in ("xlsx", "ods"):
                self.archive = archive
            else:
                archive.close()
            return kind
        if head.startswith(ARCHIVE_MAGICS):
            return "archive"
        if head == OLE_MAGIC:
            # An encrypted .xlsx is an OLE container holding an `EncryptedPackage` stream.
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    if _ENCRYPTED_MARK in chunk:
                        return "encrypted"
            return "xls"
        return _saved_as(path)


def _head(archive: zipfile.ZipFile, member: str, size: int) -> bytes:
    """The first `size` bytes a member unpacks to (b"" when there is no such member): a
    member may unpack to gigabytes."""
    try:
        with archive.open(member) as stream:
            return stream.read(size)
    except KeyError:
        return b""


def _package(source: Path | Package) -> Package:
    return source if isinstance(source, Package) else Package(source)


def check_archive(path: Path | Package, expanded_limit: int) -> None:
    """Refuse a zip whose members declare more than `expanded_limit` bytes in all."""
    package = _package(path)
    try:
        if package.archive is None:  # not an .xlsx or .ods
            return
        declared = sum(info.file_size for info in package.archive.infolist())
    finally:
        if package is not path:
            package.close()
    if declared > expanded_limit:
        raise LimitExceeded("file_too_expanded", f"{declared // (1024 * 1024)} MB unpacked")


def sniff(path: Path) -> str:
    """`xlsx`, `ods`, `xls`, `encrypted`, `empty`, `corrupt` (a damaged zip), `archive` (a
    zip, RAR or 7-Zip archive a person packed) or `unknown`."""
    with Package(path) as package:
        return package.kind


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _blank_shared_strings(archive: zipfile.ZipFile) -> set[int]:
    """Indices of shared strings that are empty or only white space."""
    if "xl/sharedStrings.xml" not in archive.namelist():
        return set()
    blank, index = set(), 0
    with archive.open("xl/sharedStrings.xml") as stream:
        for _, element in ET.iterparse(stream, events=("end",)):  # noqa: S314  expat refuses external entities and entity blow-up
            if _local(element.tag) == "si":
                text = "".join(t.text or "" for t in element.iter() if _local(t.tag) == "t")
                if not text.strip():
                    blank.add(index)
                index += 1
                element.clear()
    return blank


class Extent(NamedTuple):
    """How far a worksheet reaches: its last row and last column (1-based) holding a real
    value, and the last ones holding any cell at all."""

    last_real: int
    last_row: int
    real_column: int
    last_column: int


def _extent(archive: zipfile.ZipFile, member: str, blank: set[int], expanded_limit: int) -> Extent:
    """How far one worksheet reaches, in rows and in columns, streamed."""
    last_real = last_row = real_column = last_column = 0
    row_number = column = 0
    with archive.open(member) as raw:
        stream = _Counted(raw, expanded_limit, member)
        parents = []
        for event, element in ET.iterparse(stream, events=("start", "end")):  # noqa: S314  expat refuses external entities and entity blow-up
            tag = _local(element.tag)
            if event == "start":
                parents.append(element)
                if tag == "row":
                    row_number = int(element.get("r") or row_number + 1)
                    last_row = max(last_row, row_number)
                    column = 0
                continue
            parents.pop()
            if tag == "c":
                # calamine places a cell by its own reference, whatever its row says; one
                # without a reference follows the cell before it.
                reference = element.get("r") or ""
                found = _ROW_OF_CELL.search(reference)
                cell_row = int(found.group(1)) if found else row_number
                column = _cell_column(reference, column)
                last_row = max(last_row, cell_row)
                last_column = max(last_column, column)
                if _is_real(element, blank):
                    # The trim drops whole rows by their own number: keep this one's too.
                    last_real = max(last_real, cell_row, row_number)
                    real_column = max(real_column, column)
                element.clear()
            elif tag == "row" and parents:
                parents[-1].remove(element)  # keep memory flat: drop finished rows
    return Extent(last_real, last_row, real_column, last_column)


# A text no spreadsheet program writes into one cell: Excel holds 32,767 characters a cell
# (under 200 KB of XML, escapes and all). A longer run of text with no tag in it is refused
# before python-calamine holds it several times over (a 300 KB file, 300 MB of text: 3 GB).
LONGEST_TEXT = 1 << 20


def _whole_tags(
    archive: zipfile.ZipFile, member: str, expanded_limit: int
) -> Generator[tuple[bytes, bytes], None, None]:
    """One part's unpacked bytes, streamed within `expanded_limit`: (each piece as read, the
    text of whole tags it completes), then (b"", the rest). A byte scan looks at whole tags
    only: a `>` may sit inside an attribute value, so only a `<` tells where a tag begins,
    and the text from the last `<` on waits for the next piece."""
    carry: list[bytes] = []  # joined only when a `<` ends it: a long text costs no copies
    held = 0  # bytes in carry
    with archive.open(member) as raw:
        stream = _Counted(raw, expanded_limit, member)
        while piece := stream.read(1 << 20):
            cut = piece.rfind(b"<")
            if cut < 0 and carry:
                carry.append(piece)
                held += len(piece)
                if held > LONGEST_TEXT:
                    raise LimitExceeded("text_too_long", f"{member}: over {held} bytes")
                yield piece, b""
                continue
            data = b"".join([*carry, piece[:cut] if cut >= 0 else piece])
            carry = [piece[cut:]] if cut >= 0 else []
            held = len(piece) - cut if cut >= 0 else 0
            yield piece, data
    yield b"", b"".join(carry)


def _row_bound(archive: zipfile.ZipFile, member: str, expanded_limit: int) -> int:
    """An upper bound on the last row of one worksheet, from its row and cell references.

    A byte scan in C (zlib and regular expressions), several times cheaper than parsing the
    XML: a sheet this bound keeps short needs no trim and cannot pass the row limit.
    """
    highest = count = 0
    numbered = True
    for _, data in _whole_tags(archive, member, expanded_limit):
        numbers = _REFERENCE.findall(data)  # `r` of rows and of cells
        if numbers:
            highest = max(highest, max(map(int, numbers)))
        for attributes in _ROW_TAG.findall(data):
            count += 1
            numbered = numbered and _REFERENCE.search(attributes) is not None
    # A row without `r` is the one after the previous row: at most `count` past the highest.
    return highest if numbered else highest + count


def _is_real(cell: ET.Element, blank: set[int]) -> bool:
    kind = cell.get("t")
    for child in cell:
        name = _local(child.tag)
        if name == "v" and child.text is not None:
            if kind == "s":
                return int(child.text) not in blank
            return bool(child.text.strip()) if kind in ("str", "inlineStr") else True
        if name == "is":
            text = "".join(t.text or "" for t in child.iter() if _local(t.tag) == "t")
            return bool(text.strip())
    return False


class _RowFilter(handler.ContentHandler):
    """Copies a worksheet's XML, leaving out every row (and cell) below `keep`, every cell
    right of `keep_column` (when given) and the dimension."""

    def __init__(self, out, keep: int, keep_column: int | None = None):
        super().__init__()
        self.out = XMLGenerator(out, "utf-8", short_empty_elements=True)
        self.keep = keep
        self.keep_column = keep_column
        self.skipping = 0
        self.row = 0
        self.column = 0

    def startDocument(self):
        self.out.startDocument()

    def startPrefixMapping(self, prefix, uri):
        self.out.startPrefixMapping(prefix, uri)

    def endPrefixMapping(self, prefix):
        self.out.endPrefixMapping(prefix)

    def startElementNS(self, name, qname, attrs):
        if self.skipping:
            self.skipping += 1
            return
        local = name[1]
        if local == "row":
            self.row = int(attrs.get((None, "r")) or self.row + 1)  # no `r`: the next row
            self.column = 0
            if self.row > self.keep:
                self.skipping = 1
                return
        if local == "c":
            reference = attrs.get((None, "r")) or ""
            found = _ROW_OF_CELL.search(reference)
            if found and int(found.group(1)) > self.keep:  # a stray cell in a kept row
                self.skipping = 1
                return
            self.column = _cell_column(reference, self.column)
            if self.keep_column is not None and self.column > self.keep_column:
                # An empty far cell. One without a reference is left out too: those after
                # it, also past `keep_column`, go the same way.
                self.skipping = 1
                return
        if local == "dimension":
            return  # the reader does not need it, and the old one is wrong now
        self.out.startElementNS(name, qname, attrs)

    def endElementNS(self, name, qname):
        if self.skipping:
            self.skipping -= 1
            return
        if name[1] == "dimension":
            return
        self.out.endElementNS(name, qname)

    def characters(self, content):
        if not self.skipping:
            self.out.characters(content)

    def ignorableWhitespace(self, content):
        self.characters(content)


def _trim_sheet(
    archive: zipfile.ZipFile,
    member: str,
    keep: int,
    target: zipfile.ZipFile,
    keep_column: int | None = None,
) -> None:
    parser = make_parser()  # noqa: S317  external entities off by default; expat limits expansion
    parser.setFeature(handler.feature_namespaces, True)
    parser.setFeature(handler.feature_external_ges, False)
    with archive.open(member) as source, target.open(member, "w") as out:
        parser.setContentHandler(_RowFilter(out, keep, keep_column))
        parser.parse(source)


def _big_reference(short: int) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """`_REFERENCE` for the numbers that may pass `short` only (as many digits or more), and
    the same for references written `r="…"` only (led by a literal: several times faster).

    A reference whose column has three letters or more (past ZZ) is found whatever its
    number: (its letters, its number, '') where a row number alone gives ('', '', number).
    Letters, zeros, digits and the closing quote are disjoint, so giving a run back never
    makes a match: the possessive runs (`{0,2}+`) find the same, without trying (a third
    of the scan's cost, paid at every reference).
    """
    found = _BIG_REFERENCES.get(short)
    if found is None:
        digits = len(str(short)) - 1
        number = rb"(?:([A-Za-z]{3,})0*(\d+)|[A-Za-z]{0,2}+0*+([1-9]\d{%d,}+))" % digits
        found = _BIG_REFERENCES[short] = (
            re.compile(rb"\sr\s*=\s*[\"']" + number + rb"[\"']"),
            re.compile(rb'r="' + number + rb'"'),
        )
    return found


_BIG_REFERENCES: dict[int, tuple[re.Pattern[bytes], re.Pattern[bytes]]] = {}
# `r` written otherwise than `r="`: spaces around `=`, single quotes (the literal-led
# pattern misses them).
_LOOSE_R = re.compile(rb"r(?:\s+=|=\s|=')")
# A tag `<row…` that does not begin `<row r="` and a number (and `<rowBreaks`): the exact
# pattern then says whether every row has its number.
_ODD_ROW = re.compile(rb'<row(?! r="\d+")')
# A row tag without a row number (`_ROW_TAG` whose attributes `_REFERENCE` finds nothing in).
_UNNUMBERED_ROW = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?row\b(?![^>]*\sr\s*=\s*[\"'][A-Za-z]{0,3}\d+[\"'])[^>]*>"
)
# A cell whose first child is a `<v>` with text: what the last real row is looked for by.
_VALUE_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s([^>]*)>\s*<(?:[A-Za-z_][\w.-]*:)?v>[^<]+</")
_ATTRIBUTE = re.compile(rb"""([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_CELL_REFERENCE = re.compile(rb"[A-Za-z]{1,3}(\d+)")
_TAIL_BYTES = 1 << 16
# A tag `<c…` that does not begin `<c r="` and a letter: the exact pattern then says
# whether every cell has its own reference (one without is placed by its position).
_ODD_CELL = re.compile(rb'<c(?:[\t\n\r/>]| (?!r="[A-Za-z]))')
# A row or cell tag with a namespace prefix (led by a literal: cheaper than `in`, twice).
_PREFIXED = re.compile(rb":(?:row|c[\s/>])")
# A cell tag whose attributes hold no reference with a column.
_UNNUMBERED_CELL = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?c(?=[\s/>])(?![^>]*\sr\s*=\s*[\"'][A-Za-z]+\d)[^>]*>"
)
# The column letters of every reference (`_column_bound`).
_COLUMN_OF_REFERENCE = re.compile(rb"\sr\s*=\s*[\"']([A-Za-z]+)\d")
# A cell's `r`, `s` or `t` written otherwise than `name="…"`, which the cell patterns read
# (`t = "e"`, `s='1'`): the worksheet is then parsed for its cells' features.
_LOOSE_CELL_ATTRIBUTE = re.compile(rb"\s[rst](?:\s+=|=\s|=')")


def _loose_attribute(data: bytes) -> bool:
    """`_LOOSE_CELL_ATTRIBUTE` in `data`, the pattern run only where a literal it needs is
    (a sheet as Excel writes it has none: three substring tests, no regex pass)."""
    return (b" =" in data or b"= " in data or b"='" in data) and bool(
        _LOOSE_CELL_ATTRIBUTE.search(data)
    )


class _Reach:
    """What one byte scan of a worksheet says: whether its row bound passes `short`, that
    bound, the last bytes of its XML, whether it holds no `<!` (comment, CDATA, DTD), and a
    bound on its last column: the highest of three letters or more, else ZZ; None when a
    cell has no reference of its own (its column is its position)."""

    def __init__(
        self,
        long: bool,
        bound: int,
        tail: bytes,
        plain: bool,
        columns: int | None,
        uncached: list[bytes] | None = None,
        hidden: list[int] | None = None,
        errors: list[tuple[bytes, bytes]] | None = None,
        values: int = 0,
        exact: bool = True,
    ):
        self.long, self.bound, self.tail, self.plain = long, bound, tail, plain
        # Whether every cell and row is written as Excel writes it (`<c r="A1" …>`, no prefix,
        # double quotes): the byte patterns of the cells' features then see them all; else
        # `_parsed_cells` finds them (`_bounded`).
        self.exact = exact
        self.columns = columns
        # `v>` in its XML, or half its unpacked size when not counted: a bound on its cells
        # holding a value, twice
        self.values = values
        self.uncached = uncached or []  # references of formula cells with no saved value
        self.hidden = hidden or []  # the rows hidden in Excel (`<row r="5" hidden="1">`)
        self.errors = errors or []  # (reference, error) of the cells holding an error value


def _reach(
    archive: zipfile.ZipFile,
    member: str,
    expanded_limit: int,
    short: int,
    count_values: bool = True,
) -> _Reach:
    """`_row_bound(...) > short`, found by looking only at the numbers past `short` (most
    sheets have none: nothing to convert), and the sheet's tail for `_last_real_in`.

    Rows without a number need the full count: the exact `_row_bound` then answers. Without
    `count_values`, its `v>` are bounded by half its unpacked size (zipfile unpacks no more
    than the zip directory says), not counted.
    """
    big, fast = _big_reference(short)
    highest = wide = 0
    numbered = cells_numbered = plain = True
    tail = b""
    uncached: list[bytes] = []
    hidden: list[int] = []
    errors: list[tuple[bytes, bytes]] = []
    values = 0
    exact = True

    def scan(data: bytes) -> None:
        nonlocal highest, wide, numbered, cells_numbered, plain, values, exact
        if count_values:
            values += data.count(b"v>")
        # Every reference written `r="…"` and every row tag `<row r="` and a number: two
        # literal-led patterns tell the numbers and the rows. Any other spelling: the exact
        # patterns. The same for cells `<c r="` and a column.
        usual = _PREFIXED.search(data) is None and _LOOSE_R.search(data) is None
        for letters, number, row in (fast if usual else big).findall(data):
            highest = max(highest, int(number or row))
            if letters:
                wide = max(wide, column_number(letters))
        if numbered and not (usual and _ODD_ROW.search(data) is None):
            numbered = _UNNUMBERED_ROW.search(data) is None
        if cells_numbered and not (usual and _ODD_CELL.search(data) is None):
            cells_numbered = _UNNUMBERED_CELL.search(data) is None
        if plain and b"!" in data and b"<!" in data:  # `!` alone: one memchr
            plain = False
        if exact and (not usual or b"<![CDATA[" in data or _loose_attribute(data)):
            exact = False  # a prefix, an `r`, `s` or `t` written loosely or single-quoted
        if b"hidden" in data:
            hidden.extend(_hidden_rows(data))

    cells = b""  # the cell a piece ended in, for the formula scan: `_whole_cells`
    for piece, data in _whole_tags(archive, member, expanded_limit):
        if piece:
            tail = (
                piece[-_TAIL_BYTES:] if len(piece) >= _TAIL_BYTES else (tail + piece)[-_TAIL_BYTES:]
            )
        scan(data)
        whole, cells = _whole_cells(cells + data, last=not piece)
        if b"<f" in whole:  # a formula somewhere (or `<formula>` of a rule): which lack a value
            uncached.extend(_uncached_cells(whole))
        if b'"e"' in whole:  # an error value somewhere, `t="e"`
            errors.extend(_error_cells(whole))
    if not numbered:
        highest = _row_bound(archive, member, expanded_limit)
    columns = max(wide, TWO_LETTER_COLUMNS) if cells_numbered else None
    if not count_values:
        values = archive.getinfo(member).file_size // 2
    exact = exact and numbered and cells_numbered
    return _Reach(
        highest > short, highest, tail, plain, columns, uncached, hidden, errors, values, exact
    )


def _column_bound(archive: zipfile.ZipFile, member: str, expanded_limit: int) -> int:
    """The highest column any reference of one worksheet names (whose every cell has one):
    a byte scan, for a sheet long enough that ZZ may not do as a bound."""
    highest = 0
    for _, data in _whole_tags(archive, member, expanded_limit):
        for letters in set(_COLUMN_OF_REFERENCE.findall(data)):
            highest = max(highest, column_number(letters))
    return highest


def _last_real_in(tail: bytes) -> int:
    """A lower bound on a worksheet's last row with a real value, from the last bytes of its
    XML: the highest row of a cell there that `_extent` counts as real for certain (a
    number, boolean, error or date with a value, and a plain reference); 0 when none."""
    last = 0
    for attributes in _VALUE_CELL.findall(tail):
        if attributes.endswith(b"/") or b"&" in attributes:
            continue
        pairs = _ATTRIBUTE.findall(attributes)
        names = [name for name, _, _ in pairs]
        if len(set(names)) != len(names):
            continue
        values = {name: double or single for name, double, single in pairs}
        if values.get(b"t", b"n") not in (b"n", b"b", b"e", b"d"):
            continue
        found = _CELL_REFERENCE.fullmatch(values.get(b"r", b""))
        if found:
            last = max(last, int(found.group(1)))
    return last


# A cell holding a formula and no saved value (`<c r="D2"><f>2*6</f><v/></c>`), as a program
# that never computes writes it (openpyxl): python-calamine reads it as empty, so the value
# would be lost in silence. Excel and LibreOffice always save the value; an empty string
# (`=IF(C2="";"";…)`) they save as `t="str"` with an empty `<v></v>`: a value, no loss.
_UNCACHED_FORMULA = re.compile(
    rb'<c\s([^>]*?)\br="([A-Za-z]{1,3}\d+)"([^>]*)>\s*<f\b[^>]*(?:/>|>[^<]*</f>)\s*'
    rb"(<v\s*/>|<v>\s*</v>)?\s*</c>"
)
_STRING_RESULT = re.compile(rb'\bt\s*=\s*"str"')


_CELL_CARRY_LIMIT = 4 << 20  # one cell this long (a huge inline string) is scanned as it is


def _whole_cells(data: bytes, last: bool) -> tuple[bytes, bytes]:
    """`data` cut before its last cell's start: (the whole cells to scan, the rest to scan
    with the next piece). A cell's formula and its value are several tags, and a piece of
    the stream may end between them. The last piece, or a rest past `_CELL_CARRY_LIMIT`,
    is scanned whole."""
    if last or len(data) > _CELL_CARRY_LIMIT:
        return data, b""
    cut = len(data)
    while (cut := data.rfind(b"<c", 0, cut)) >= 0 and data[cut + 2 : cut + 3] not in _AFTER_C:
        pass  # `<col>`, `<cfRule>`: no cell
    if cut < 0:
        return data, b""
    return data[:cut], data[cut:]


_AFTER_C = frozenset([b" ", b"\t", b"\n", b"\r", b">", b"/"])


_HIDDEN = re.compile(rb"""\bhidden\s*=\s*["'](?:1|true)["']""")
_ROW_NUMBER = re.compile(rb"""\br\s*=\s*["'](\d+)["']""")


def _hidden_rows(data: bytes) -> list[int]:
    """The numbers of the rows `data` marks hidden (`<row r="5" hidden="1">`)."""
    return [
        int(number.group(1))
        for attributes in _ROW_TAG.findall(data)
        if _HIDDEN.search(attributes) and (number := _ROW_NUMBER.search(attributes))
    ]


# A cell holding an error value (`<c r="N2" t="e"><f>L2/I2</f><v>#DIV/0!</v></c>`), as Excel
# saves a formula that broke: python-calamine reads it as empty, so the figure would be lost
# in silence as *not reported*.
_ERROR_CELL = re.compile(rb"<c\s([^>]*)>\s*(?:<f\b[^>]*(?:/>|>[^<]*</f>)\s*)?<v>([^<]*)</v>")


def _error_cells(data: bytes) -> list[tuple[bytes, bytes]]:
    """(reference, error) of the cells in `data` whose value is an error (`t="e"`)."""
    return [
        (reference.group(1) + reference.group(2), value.strip())
        for attributes, value in _ERROR_CELL.findall(data)
        if (kind := _CELL_TYPE.search(attributes)) is not None
        and kind.group(1) == b"e"
        and (reference := _CELL_REF.search(attributes)) is not None
    ]


def _uncached_cells(data: bytes) -> list[bytes]:
    """The references of `_UNCACHED_FORMULA` cells in `data`, but a saved empty string."""
    return [
        reference
        for before, reference, after, value in _UNCACHED_FORMULA.findall(data)
        if not (value and _STRING_RESULT.search(before + after))
    ]


# What spreadsheet programs save that is no workbook, though named `.xls` (as accounting and
# reporting software exports it) or renamed: Excel opens each, and Save As makes it one.
# An Excel 2003 XML spreadsheet is told first: its sheets are `<Table>`s.
_OTHER_FORMATS = (
    ("xml2003", re.compile(r"urn:schemas-microsoft-com:office:spreadsheet|<\?mso-application")),
    ("html", re.compile(r"<(?:!doctype html|html|table|body)\b")),
)
# What each of those kinds (and a CSV) is, in each language: said in its rejection
# (`saved_in_other_format`) and in the note of its Loi-only feedback workbook.
SAVED_AS = {
    "html": ("một trang web (HTML)", "a web page (HTML)"),
    "xml2003": ("một tệp Excel 2003 XML", "an Excel 2003 XML file"),
    "csv": ("một tệp văn bản CSV", "a CSV text file"),
}
# Text of lines with a separator in most of them: a CSV (or tab-separated) export.
_CSV_LINE = re.compile(r"^[^\n]*[,;\t][^\n]*$", re.M)


def _saved_as(path: Path) -> str:
    """`html`, `xml2003` or `csv` when the file's first bytes are a web page, an Excel 2003
    XML spreadsheet or separated text; else `unknown`."""
    with path.open("rb") as handle:
        head = handle.read(8192)
    for bom, encoding in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            text = head[len(bom) :].decode(encoding, "ignore")
            break
    else:
        text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "ignore")
    if "\x00" in text or not text.strip():
        return "unknown"
    lowered = text.lower()
    for kind, pattern in _OTHER_FORMATS:
        if pattern.search(lowered):
            return kind
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text) >= 0.95 * len(text)
    separated = len(_CSV_LINE.findall("\n".join(lines)))
    if printable and len(lines) >= 2 and separated >= 0.8 * len(lines):
        return "csv"
    return "unknown"


def _tab(archive: zipfile.ZipFile, member: str, expanded_limit: int) -> str:
    """The name of the sheet a worksheet part holds, as its tab shows it (the part's path
    when the workbook does not say)."""
    return _sheet_names(archive, expanded_limit).get(_key(member), member)


def _sheet_names(archive: zipfile.ZipFile, expanded_limit: int) -> dict[str, str]:
    """Each worksheet part's sheet name (by `_key`), from xl/workbook.xml and its
    relationships; parsed only for a workbook that needs it (one with formulas lacking a
    value, or with numbers shown as percentages)."""
    try:
        workbook = ET.fromstring(_small_part(archive, "xl/workbook.xml", expanded_limit))  # noqa: S314  expat refuses external entities and entity blow-up
        rels = ET.fromstring(_small_part(archive, "xl/_rels/workbook.xml.rels", expanded_limit))  # noqa: S314  the same
    except (KeyError, ET.ParseError):
        return {}
    targets = {}
    for element in rels.iter():
        if _local(element.tag) == "Relationship":
            named = {_local(k).lower(): v for k, v in element.attrib.items()}
            if "id" in named and "target" in named:
                path = named["target"].replace("\\", "/")
                targets[named["id"]] = posixpath.normpath(
                    path.lstrip("/") if path.startswith("/") else "xl/" + path
                ).lower()
    names = {}
    for element in workbook.iter():
        if _local(element.tag) == "sheet":
            named = {_local(k).lower(): v for k, v in element.attrib.items()}
            target = targets.get(named.get("id", ""))
            if target and "name" in named:
                names[target] = named["name"]
    return names


_SPLIT_REFERENCE = re.compile(r"([A-Za-z]{1,3})(\d+)$")
_STRINGS = "xl/sharedStrings.xml"
# What `_extent` may stumble on that the byte scan does not look at: attributes written
# otherwise than `name="…"`, prefixed tags, a row number that is no integer, a shared
# string cell whose value is no index. Any of them: the whole parse decides, as before.
_UNUSUAL = tuple(
    re.compile(pattern)  # each led by a literal: four scans cost less than one alternation
    for pattern in (
        rb"=(?:(?<=\s=)|\s|')",
        rb":(?:c\s|v>|row)",
        rb'<row r="(?!\d+")',
        rb't="s"[^>]*>(?!<v>\d+</v>)',
    )
)


def _unusual(data: bytes) -> bool:
    return any(pattern.search(data) is not None for pattern in _UNUSUAL)


def _parses_plainly(archive: zipfile.ZipFile, member: str, expanded_limit: int) -> bool:
    """Whether `_extent` (or `_blank_shared_strings`) would read this part without an error:
    expat, as ElementTree runs it, finds it well-formed, and it holds nothing unusual."""
    parser = expat.ParserCreate(None, "}")  # ElementTree's own settings
    with contextlib.closing(_whole_tags(archive, member, expanded_limit)) as pieces:
        for piece, data in pieces:
            if _unusual(data):
                return False
            try:
                parser.Parse(piece, not piece)  # the last, empty piece ends the document
            except expat.ExpatError:
                return False
    return True


# A number shown as a percentage: `45%` typed in Excel is stored as 0.45 with a style whose
# number format is built-in 9 (`0%`) or 10 (`0.00%`), or a format with a `%` of its own (not
# quoted, escaped or in brackets). calamine gives the stored hundredth, not what the clerk wrote.
_STYLES = "xl/styles.xml"
_PERCENT_FORMATS = {"9", "10"}
_FORMAT_LITERAL = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')
_CELL_OPEN = re.compile(rb"<c\s([^>]*)>")
_CELL_STYLE = re.compile(rb'(?<![\w:])s="(\d+)"')
_CELL_TYPE = re.compile(rb'(?<![\w:])t="(\w+)"')
_CELL_REF = re.compile(rb'(?<![\w:])r="([A-Za-z]{1,3})(\d+)"')
# What a style shows beside its numbers (`_shown_styles`): a percentage, or a money unit.
PERCENT = "%"
# A number format's pieces (`_format_shown`): a quoted text, an escaped character, a bracket
# (`[$₫-42A]` names a currency; `[Red]`, `[<0]`, `[$-42A]` show nothing), a space as wide as a
# character or a character repeated to fill (`_₫`, `* `: the character itself is not shown),
# or any one character.
_FORMAT_PIECE = re.compile(r'"([^"]*)"|\\(.)|\[\$([^\]-]*)[^\]]*\]|\[([^\]]*)\]|[_*].|(.)', re.S)
# A bracket that makes a section conditional (`[<0]`, `[>=1000000]`): the first section is
# then not that of the positive numbers.
_FORMAT_CONDITION = re.compile(r"^\s*[<>=]")
_DIGIT_PLACES = frozenset("0#?")


class Scaled(NamedTuple):
    """What a number format shows of a money figure it scales (`_format_shown`): the stored
    number divided by `divisor` (a `,` after the last digit for each thousand: `#,##0,,`
    shows 1650000000 as 1.650), a negative one by `negative` (the format's second section's:
    `#,##0;(#,##0,,)` shows -120000000 as (120)), beside the text it shows, if any (`#,##0,
    "nghìn đ"` shows 1.650.000 nghìn đ)."""

    unit: str | None
    divisor: int
    negative: int


def _format_shown(code: str) -> str | Scaled | None:
    """What a number format shows that says what a money figure is in: the money unit beside
    a positive number, as written (`đ` of `#,##0 "đ"`, `₫` of `#,##0\\ [$₫-42A]` or
    `#,##0 ₫`, `VND`, `triệu đồng`), when the format shows the stored number as it is; or
    `Scaled` when a `,` after the last digit of its positive or negative numbers' section
    shows them in thousands or millions (`#,##0,`, `#,##0, "nghìn đ"`, `#,##0.0,, "triệu"`),
    with the text of its first section (but đồng, which the currency and accounting buttons
    leave there). None otherwise. The text is what the first section writes that is no part
    of its syntax (quoted, escaped, a bracket's currency, `$`, a character beyond ASCII); an
    unscaled one counts when `cells.money_factor` reads it as money. A format shows `₫` where
    Excel's currency and accounting buttons put it, in a Vietnamese Excel; its unit, and its
    figure, are what the clerk sees.

    None too where the format's sections may not be the positive and negative numbers'
    (`[<0]…;…`, `[>=1000000]…`): there what it shows does not say what the number is in,
    and the column's unit is read as before."""
    sections: list[tuple[list[str], list[str]]] = [([], [])]  # (syntax, texts) of each
    for found in _FORMAT_PIECE.finditer(code):
        quoted, escaped, currency, bracket, bare = found.groups()
        if bare == ";":  # the next section: negative numbers, zero, text
            if len(sections) == 2:
                break
            sections.append(([], []))
            continue
        if bracket is not None and _FORMAT_CONDITION.match(bracket):
            return None
        syntax, pieces = sections[-1]
        text = quoted if quoted is not None else escaped if escaped is not None else currency
        if text is None and bare is not None:
            if bare.isascii() and bare != "$":  # `$` is shown as it is, as `₫` is
                syntax.append(bare)
            else:
                text = bare
        if text:
            pieces.append(text)
    scales = [_scale(syntax) for syntax, _ in sections]
    written = " ".join(" ".join(sections[0][1]).split()) or None
    if max(scales) > 1:
        # đồng beside a figure shown in thousands or millions is a label left by Excel's
        # currency or accounting button (`#,##0,, ₫`): the figure is in the column's unit.
        if written is not None and money_factor(written) == 1e-6:
            written = None
        return Scaled(written, scales[0], scales[-1])
    return written if written and money_factor(written) is not None else None


def _scale(syntax: list[str]) -> int:
    """What a format's section divides the number by: a thousand for each `,` right after its
    last digit place (`#,##0,,`; `#,##0` groups, `0.0,` scales)."""
    places = [n for n, char in enumerate(syntax) if char in _DIGIT_PLACES]
    scaling = 0
    for char in syntax[places[-1] + 1 :] if places else ():
        if char != ",":
            break
        scaling += 1
    return 1000**scaling


# A styles part none of whose styles can show a percentage, a money unit or a scaled figure,
# told from its bytes: no scaling `,` (`_SCALING_COMMA`), no `%` (nor `&`, which may write
# one or a quote), no built-in format 9 or 10 (`numFmtId="9"`), no currency bracket (`[$`),
# no `\\` (an escaped character), no `₫`, `đ` or `Đ` in UTF-8, no format code in single
# quotes (whose quoted texts are then written as they are), no `<!` (a DTD may give an
# attribute a default), no NUL (UTF-16), and no encoding declared but UTF-8 or ASCII (in
# another, the bytes are not what they read).
_PERCENT_FORMAT_ID = re.compile(rb"""numFmtId\s*=\s*["']\s*(?:9|10)\s*["']""")
_SINGLE_QUOTED_CODE = re.compile(rb"formatCode\s*=\s*'")
# A `,` that no digit place follows: maybe a format that scales (`#,##0,`, `#,##0_),`), not
# the grouping of `#,##0`.
_SCALING_COMMA = re.compile(rb",(?![0#?,])")
_MONEY_MARKS = (b"[$", b"\\", "\u20ab".encode(), "đ".encode(), "Đ".encode())
_DECLARED_ENCODING = re.compile(
    rb"""\s*(?:\xef\xbb\xbf)?\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([^"']*)"""
)
_ASCII_ENCODINGS = frozenset({b"utf-8", b"us-ascii"})


def _may_mark_numbers(data: bytes) -> bool:
    """Whether a styles part may hold a style showing a percentage or a money unit
    (`_shown_styles`)."""
    if b"%" in data or b"&" in data or b"<!" in data or b"\x00" in data:
        return True
    if any(mark in data for mark in _MONEY_MARKS):
        return True
    if _PERCENT_FORMAT_ID.search(data) or _SINGLE_QUOTED_CODE.search(data):
        return True
    if _SCALING_COMMA.search(data):
        return True
    declared = _DECLARED_ENCODING.match(data)
    return declared is not None and declared.group(1).strip().lower() not in _ASCII_ENCODINGS


def _shown_styles(archive: zipfile.ZipFile, expanded_limit: int) -> dict[bytes, str | Scaled]:
    """The indices (as written in a cell's `s`) of the cell styles that show a percentage
    (`PERCENT`), a money unit or a scaled figure (`_format_shown`), with what they show."""
    data = _small_part(archive, _STYLES, expanded_limit)
    if not _may_mark_numbers(data):
        return {}  # most workbooks: the tree need not be built to find none
    try:
        root = ET.fromstring(data)  # noqa: S314  expat refuses external entities and entity blow-up
    except ET.ParseError:  # calamine says what it makes of such a file
        return {}
    # The formats of the cell styles: those of `numFmts`, not a conditional format's (`dxfs`),
    # whose `numFmtId` may be the same number and shows only while its condition holds.
    codes = {
        element.get("numFmtId"): element.get("formatCode") or ""
        for part in root
        if _local(part.tag) == "numFmts"
        for element in part
        if _local(element.tag) == "numFmt"
    }
    found: dict[bytes, str | Scaled] = {}
    for part in root:
        if _local(part.tag) != "cellXfs":
            continue
        styles = [xf for xf in part if _local(xf.tag) == "xf"]
        for index, xf in enumerate(styles):
            number_format = xf.get("numFmtId") or "0"
            code = codes.get(number_format, "")
            if number_format in _PERCENT_FORMATS or "%" in _FORMAT_LITERAL.sub("", code):
                found[str(index).encode()] = PERCENT
            elif (shown := _format_shown(code)) is not None:
                found[str(index).encode()] = shown
    return found


def _marked_cells(
    archive: zipfile.ZipFile, member: str, expanded_limit: int, styles: dict[bytes, str | Scaled]
) -> list[tuple[int, int, str | Scaled]]:
    """The number cells of one worksheet whose style shows a percentage or a money unit, as
    (Excel row, 0-based column, what the style shows)."""
    found = []
    needles = [b's="' + style + b'"' for style in styles]
    for _, data in _whole_tags(archive, member, expanded_limit):
        if not any(needle in data for needle in needles):
            continue  # no cell of such a style in this piece: no regex over it
        for attributes in _CELL_OPEN.findall(data):
            style = _CELL_STYLE.search(attributes)
            if style is None or style.group(1) not in styles:
                continue
            kind = _CELL_TYPE.search(attributes)
            reference = _CELL_REF.search(attributes)
            if reference is not None and (kind is None or kind.group(1) == b"n"):
                row, column = int(reference.group(2)), column_number(reference.group(1)) - 1
                found.append((row, column, styles[style.group(1)]))
    return found


def _keep_marked(package: Package, name: str, marked: list[tuple[int, int, str | Scaled]]) -> None:
    """A sheet's marked number cells kept in the package: those shown as a percentage in
    `percent`, those shown with a money unit or scaled in `money_units`."""
    percent = frozenset((row, column) for row, column, shown in marked if shown == PERCENT)
    money = {(row, column): shown for row, column, shown in marked if shown != PERCENT}
    if percent:
        package.percent[name] = percent
    if money:
        package.money_units[name] = money


class _ParsedCells(NamedTuple):
    """A worksheet's cell features found by parsing it (`_parsed_cells`), in the forms the
    byte scan gives them."""

    uncached: list[bytes]  # references (`K4`) of formula cells with no saved value
    hidden: list[int]  # the Excel rows hidden
    errors: list[tuple[bytes, bytes]]  # (reference, error) of the cells holding an error
    marked: list[tuple[int, int, str | Scaled]]  # numbers shown as a percentage, in a unit, scaled


def _letters(column: int) -> str:
    """`A` for 1, `XFD` for 16384: `column_number`'s inverse."""
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _parsed_cells(
    archive: zipfile.ZipFile, member: str, expanded_limit: int, styles: dict[bytes, str | Scaled]
) -> _ParsedCells | None:
    """What the byte patterns find of a worksheet (formula cells without a saved value, error
    cells, hidden rows, numbers shown as a percentage or with a money unit), found by expat,
    whatever the prefix of its tags, the quotes of its attributes or the cells and rows
    without `r`: a row or cell without one is the one after the previous, as python-calamine
    places it. None when the part does not parse (calamine says what it makes of it)."""
    found = _ParsedCells([], [], [], [])
    state = {"row": 0, "next_row": 1, "next_column": 1}
    cell: dict = {}
    text: list[str] = []  # a `<v>`'s text, kept while one is open only

    def keep(data: str) -> None:
        if cell.get("in_v"):
            text.append(data)

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition("}")[2]
        if local == "row":
            number = attrs.get("r", "").strip()
            state["row"] = int(number) if number.isdigit() else state["next_row"]
            state["next_row"], state["next_column"] = state["row"] + 1, 1
            if attrs.get("hidden", "").strip().lower() in ("1", "true"):
                found.hidden.append(state["row"])
        elif local == "c":
            reference = _SPLIT_REFERENCE.match(attrs.get("r", "").strip())
            if reference:
                column, row = column_number(reference.group(1)), int(reference.group(2))
            else:
                column, row = state["next_column"], state["row"]
            state["next_column"] = column + 1
            cell.clear()
            cell.update(row=row, column=column, t=attrs.get("t"), s=attrs.get("s"), f=False)
            cell.update(v=None, inline=False)
        elif cell and local == "f":
            cell["f"] = True
        elif cell and local == "v":
            text.clear()
            cell["v"], cell["in_v"] = "", True
        elif cell and local == "is":
            cell["inline"] = True

    def end(name: str) -> None:
        local = name.rpartition("}")[2]
        if cell and local == "v":
            cell["v"], cell["in_v"] = "".join(text), False
            text.clear()
        elif cell and local == "c":
            value, kind = cell["v"], cell["t"]
            reference = f"{_letters(cell['column'])}{cell['row']}".encode()
            saved_empty_string = kind == "str" and value is not None
            unsaved = cell["f"] and not (value or "").strip() and not cell["inline"]
            if unsaved and not saved_empty_string:
                found.uncached.append(reference)
            if kind == "e" and (value or "").strip():
                found.errors.append((reference, value.strip().encode()))
            shown = styles.get((cell["s"] or "").encode())
            if shown is not None and kind in (None, "n"):
                found.marked.append((cell["row"], cell["column"] - 1, shown))
            cell.clear()

    parser = expat.ParserCreate(None, "}")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = keep
    try:
        with contextlib.closing(_whole_tags(archive, member, expanded_limit)) as pieces:
            for piece, _ in pieces:
                parser.Parse(piece, not piece)
    except expat.ExpatError:
        return None
    return found


# What python-calamine spends on one shared string besides its text (a Rust String).
_STRING_OVERHEAD = 32
_SHARED_ITEM = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si(?=[\s/>])")
# A cell of a shared string, written as Excel writes it or with a prefix (`<x:c t="s">`, as
# the Open XML SDK writes it): its index.
_SHARED_CELL = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\bt\s*=\s*[\"']s[\"'][^>]*>"
    rb"\s*<(?:[A-Za-z_][\w.-]*:)?v>(\d{1,9})</"
)
# Any cell of a shared string, however its type is written (a bound on them).
_SHARED_TYPE = re.compile(rb"""\bt\s*=\s*["']s["']""")


def _check_shared_text(package: Package, reaches: dict[str, _Reach], expanded_limit: int) -> None:
    """python-calamine copies a shared string into every cell that names it: one text of
    30,000 characters named by 100,000 cells is 3 GB held, from a file of 400 KB. Refuse a
    workbook whose shared strings, copied into their cells, pass `expanded_limit`.

    Bounds first, from the byte scan: each cell with a value (`v>`) holding a string as long
    as the whole strings part. Past the limit, each string's own size (its XML, never less
    than its text) and the cells that name it."""
    archive = package.archive
    values = sum(reach.values for reach in reaches.values())
    if archive is None or _strings_fit(package, values, expanded_limit):
        return
    for part in _strings_parts(package):
        sizes = _shared_sizes(archive, part, expanded_limit)
        longest = max(sizes, default=0)
        total = len(sizes) * _STRING_OVERHEAD + sum(sizes)
        if values * longest + total <= expanded_limit:
            continue
        for member in reaches:
            for _, data in _whole_tags(archive, member, expanded_limit):
                named = _SHARED_CELL.findall(data)
                total += sum(sizes[int(i)] for i in named if int(i) < len(sizes))
                total += (len(_SHARED_TYPE.findall(data)) - len(named)) * longest
                if total > expanded_limit:
                    break
        if total > expanded_limit:
            raise LimitExceeded("file_too_expanded", f"{total // (1024 * 1024)} MB")


def _strings_parts(package: Package) -> list[str]:
    """The parts python-calamine may read as the shared strings."""
    return [name for name in package.names if _key(name) == _STRINGS.lower()]


def _strings_fit(package: Package, values: int, expanded_limit: int) -> bool:
    """Whether `values` cells, each holding the whole shared strings part, stay within
    `expanded_limit` (true when there is none): `_check_shared_text`'s first bound."""
    parts = _strings_parts(package)
    if package.archive is None or not parts:
        return True
    size = max(package.archive.getinfo(name).file_size for name in parts)
    return (values + _STRING_OVERHEAD) * size <= expanded_limit


def _shared_sizes(archive: zipfile.ZipFile, part: str, expanded_limit: int) -> array:
    """The bytes of XML each shared string takes (its text takes no more), in order; cut
    short once their count alone passes `expanded_limit`."""
    sizes = array("L")
    start, offset = -1, 0  # where the last string began, and this piece
    for _, data in _whole_tags(archive, part, expanded_limit):
        for found in _SHARED_ITEM.finditer(data):
            if start >= 0:
                sizes.append(offset + found.start() - start)
            start = offset + found.start()
        offset += len(data)
        if len(sizes) * _STRING_OVERHEAD > expanded_limit:
            return sizes
    if start >= 0:
        sizes.append(offset - start)
    return sizes


def _small_part(archive: zipfile.ZipFile, member: str, expanded_limit: int) -> bytes:
    with archive.open(member) as raw:
        stream = _Counted(raw, expanded_limit, member)
        return b"".join(iter(lambda: stream.read(1 << 16), b""))


def _key(name: str) -> str:
    """A part's name as calamine matches it: case and `\\` aside."""
    return name.replace("\\", "/").lower()


# Any attribute named `id` (`r:id` of a `<sheet>` among them) and each `<Relationship>` tag,
# whose quoted values may hold a `>`.
_ID_VALUE = re.compile(rb"""\s(?:[\w.-]+:)?id\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_RELATIONSHIP = re.compile(rb"""<(?:[\w.-]+:)?Relationship\s((?:[^>"']+|"[^"]*"|'[^']*')*)>""")


def _sheet_targets(workbook: bytes, relationships: bytes) -> list[str]:
    """The targets of the relationships xl/workbook.xml may name as its sheets: those of
    any `id` attribute there (a few more than the sheets' own, never fewer)."""
    if b"&" in workbook or b"&" in relationships:  # entities: the parser decodes them
        ids = {
            value
            for element in ET.fromstring(workbook).iter()  # noqa: S314  expat refuses external entities and entity blow-up
            for name, value in element.attrib.items()
            if _local(name).lower() == "id"
        }
        targets = []
        for element in ET.fromstring(relationships).iter():  # noqa: S314  the same
            if _local(element.tag) == "Relationship":
                named = {_local(name).lower(): value for name, value in element.attrib.items()}
                if named.get("id") in ids and "target" in named:
                    targets.append(named["target"])
        return targets
    raw_ids = {double or single for double, single in _ID_VALUE.findall(workbook)}
    targets = []
    for attributes in _RELATIONSHIP.findall(relationships):
        values = {
            name.rsplit(b":", 1)[-1].lower(): double or single
            for name, double, single in _ATTRIBUTE.findall(attributes)
        }
        if values.get(b"id") in raw_ids and b"target" in values:
            targets.append(values[b"target"].decode("utf-8", "replace"))
    return targets


# `<workbookPr date1904="1"/>`: the 1904 date system (old Excel for Mac), its attribute read
# as python-calamine reads it, which dates the date cells by it: the last `workbookPr` (its
# tag prefixed or not) decides, by `date1904` unprefixed, its value `1` or `true` as written.
_WORKBOOK_PR = re.compile(rb"""<(?:[\w.-]+:)?workbookPr\b((?:[^>"']+|"[^"]*"|'[^']*')*)>""")
_DATE_1904 = re.compile(rb"""\sdate1904\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_XML_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)
_EPOCH_1904 = dt.date(1904, 1, 1)


def _in_1904_system(workbook: bytes) -> bool:
    """Whether xl/workbook.xml says the 1904 date system: a search of a few KB, once per file."""
    if b"date1904" not in workbook:  # nearly every workbook: no pattern need run
        return False
    if b"<!--" in workbook:
        workbook = _XML_COMMENT.sub(b"", workbook)
    tags = _WORKBOOK_PR.findall(workbook)
    if not tags:
        return False
    found = _DATE_1904.search(tags[-1])
    return found is not None and (found.group(1) or found.group(2)) in (b"1", b"true")


def _sheet_parts(package: Package, expanded_limit: int) -> list[str]:
    """Every part python-calamine may read as a worksheet: each one xl/workbook.xml names
    (a `<sheet>`'s relationship in xl/_rels/workbook.xml.rels, its target taken from xl/ or
    from the root), and every XML part under xl/worksheets/, however deep. When those two
    parts cannot be read, or a target is no part, every XML part under xl/.

    The workbook's date system comes with the same read of xl/workbook.xml, into
    `package.date_epoch`: every .xlsx passes here once, and no other part says it."""
    archive = package.archive
    if archive is None:
        return []
    keys = {_key(name) for name in package.names}
    chosen = {key for key in keys if key.startswith("xl/worksheets/") and key.endswith(".xml")}
    try:
        workbook = _small_part(archive, "xl/workbook.xml", expanded_limit)
        if _in_1904_system(workbook):
            package.date_epoch = _EPOCH_1904
        targets = _sheet_targets(
            workbook, _small_part(archive, "xl/_rels/workbook.xml.rels", expanded_limit)
        )
    except (KeyError, ET.ParseError):
        targets = None
    for target in targets or ():
        path = target.replace("\\", "/")
        found = {posixpath.normpath(name).lower() for name in (path.lstrip("/"), "xl/" + path)}
        found &= keys
        if not found:  # calamine may find it otherwise
            targets = None
            break
        chosen |= found
    if targets is None:
        chosen |= {key for key in keys if key.startswith("xl/") and key.endswith(".xml")}
    return [name for name in dict.fromkeys(package.names) if _key(name) in chosen]


def bounded(
    path: Path | Package,
    work_dir: Path,
    max_rows: int = 200_000,
    expanded_limit: int = 500 << 20,
    max_cells: int = 5_000_000,
) -> Path:
    """`path`, or a copy in `work_dir` whose sheets end at their last real row and column.

    Raises LimitExceeded for a sheet with more than `max_rows` real rows, a sheet whose
    grid up to its last real row and column passes `max_cells`, or a file that unpacks
    past `expanded_limit`, before python-calamine ever holds it. Given a `Package`, it uses
    that package's open archive and leaves it open.
    """
    package = _package(path)
    try:
        return _bounded(package, work_dir, max_rows, expanded_limit, max_cells)
    finally:
        if package is not path:
            package.close()


def _bounded(
    package: Package, work_dir: Path, max_rows: int, expanded_limit: int, max_cells: int
) -> Path:
    path = package.path
    check_archive(package, expanded_limit)
    if package.kind == "ods":
        _check_ods_rows(package, max_rows, expanded_limit, max_cells)
        return path
    if package.kind != "xlsx":
        return path
    archive = package.archive
    if archive is None:  # an .xlsx always has one
        return path
    sheets = _sheet_parts(package, expanded_limit)
    short = min(EMPTY_TAIL_ROWS, max_rows)
    # A sheet of n bytes holds at most n // 2 `v>`: where that bound keeps the shared strings
    # within the limit (most workbooks), the scan need not count them.
    bound = sum(archive.getinfo(member).file_size // 2 for member in sheets)
    count = not _strings_fit(package, bound, expanded_limit)
    # Most sheets end early: their row tags alone show no trim and no limit can apply.
    reaches = {m: _reach(archive, m, expanded_limit, short, count) for m in sheets}
    _check_shared_text(package, reaches, expanded_limit)
    styles = _shown_styles(archive, expanded_limit) if _STYLES in package.names else {}
    marked: dict[str, list[tuple[int, int, str | Scaled]]] = {}
    for member, reach in reaches.items():
        if reach.exact:
            continue
        # Cells written otherwise than Excel writes them (an Open XML SDK's `<x:c>`, cells or
        # rows without `r`, single quotes): the byte patterns miss their features, the parse
        # finds them where python-calamine puts the cells.
        parsed = _parsed_cells(archive, member, expanded_limit, styles)
        if parsed is None:  # not well-formed (an unbound prefix): calamine says what it reads
            log.warning("%s: %s does not parse; its cells' features unchecked", path.name, member)
        else:
            reach.uncached, reach.hidden, reach.errors = (
                parsed.uncached,
                parsed.hidden,
                parsed.errors,
            )
            marked[member] = parsed.marked
    if any(reach.uncached or reach.hidden or reach.errors for reach in reaches.values()):
        names = _sheet_names(archive, expanded_limit)
        for member, reach in reaches.items():
            name = names.get(_key(member))
            if name is not None and reach.uncached:
                package.uncached[name] = frozenset(
                    (int(found.group(2)), column_number(found.group(1)) - 1)
                    for ref in reach.uncached
                    if (found := _SPLIT_REFERENCE.match(ref.decode("ascii")))
                )
            if name is not None and reach.hidden:
                package.hidden_rows[name] = frozenset(reach.hidden)
            if name is not None and reach.errors:
                package.errors[name] = {
                    (int(found.group(2)), column_number(found.group(1)) - 1): error.decode(
                        "ascii", "replace"
                    )
                    for ref, error in reach.errors
                    if (found := _SPLIT_REFERENCE.match(ref.decode("ascii")))
                }
    if styles:
        names = _sheet_names(archive, expanded_limit)
        for member in sheets:
            name = names.get(_key(member))
            cells = marked.get(member)
            if cells is None:
                cells = _marked_cells(archive, member, expanded_limit, styles)
            if name is not None and cells:
                _keep_marked(package, name, cells)
    blank: set[int] | None = None
    strings_plain = _STRINGS not in package.names
    trims: dict[str, tuple[int, int | None]] = {}
    for member, reach in reaches.items():
        # calamine's grid: up to the last row times the last column. ZZ bounds the columns
        # of a sheet with no reference of three letters, unless it is long enough to pass
        # the cell limit that way: its references then tell.
        rows, columns = max(reach.bound, short), reach.columns
        if columns == TWO_LETTER_COLUMNS and rows * columns > max_cells:
            columns = _column_bound(archive, member, expanded_limit)
        wide = columns is None or rows * columns > max_cells
        if not (reach.long or wide):
            continue
        # A real value near the end, within the empty tail's allowance of the bound:
        # no trim, and no more rows than the bound (the whole parse is then not needed).
        if reach.plain and reach.bound <= max_rows and not wide:
            known = _last_real_in(reach.tail)
            if (
                known
                and reach.bound <= known + EMPTY_TAIL_ROWS
                and _parses_plainly(archive, member, expanded_limit)
                and (strings_plain or _parses_plainly(archive, _STRINGS, expanded_limit))
            ):
                strings_plain = True
                continue
        if blank is None:
            blank = _blank_shared_strings(archive)
        extent = _extent(archive, member, blank, expanded_limit)
        if extent.last_real > max_rows:
            raise too_many_rows(_tab(archive, member, expanded_limit), extent.last_real, max_rows)
        if extent.last_real * extent.real_column > max_cells:
            raise too_many_cells(
                _tab(archive, member, expanded_limit),
                extent.last_real,
                extent.real_column,
                max_cells,
            )
        # Empty far cells: every one right of the last real column goes with the empty rows.
        far_right = extent.last_row * extent.last_column > max_cells
        if far_right or extent.last_row > extent.last_real + EMPTY_TAIL_ROWS:
            trims[member] = (extent.last_real, extent.real_column if far_right else None)
    if not trims:
        return path
    work_dir.mkdir(parents=True, exist_ok=True)
    copy = work_dir / f"bounded-{path.stem}.xlsx"
    with zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as target:
        for info in archive.infolist():
            if info.filename in trims:
                keep, keep_column = trims[info.filename]
                _trim_sheet(archive, info.filename, keep, target, keep_column)
            else:
                with archive.open(info) as source, target.open(info.filename, "w") as out:
                    shutil.copyfileobj(source, out)
    log.info("%s: empty tails trimmed from %s", path.name, ", ".join(sorted(trims)))
    return copy


Merge = tuple[tuple[int, int], tuple[int, int]]


@contextlib.contextmanager
def _zip(source: Path | Package) -> Iterator[zipfile.ZipFile]:
    """A package's open archive (left open), or the file's, opened for the `with`."""
    if isinstance(source, Package) and source.archive is not None:
        yield source.archive
        return
    with zipfile.ZipFile(source.path if isinstance(source, Package) else source) as archive:
        yield archive


# The rows of one repeated hidden .ods row kept in `hidden_rows`: more than an .xls sheet
# holds, and few enough that a hidden block of a million empty rows costs little.
_HIDDEN_RUN = 65_536


def ods_content(path: Path | Package, expanded_limit: int = 500 << 20) -> dict[str, list[Merge]]:
    """What python-calamine does not read of an .ods file's content.xml. Returned: the
    cells it merges (over several rows or several columns), by sheet name, as calamine
    gives them for .xlsx and .xls: ((first row, first column), (last row, last column)),
    0-based (`table:number-rows-spanned`, `-columns-spanned`, counting repeated rows and
    cells). Given a Package, it also keeps each sheet's cells of type
    `percentage` in `percent`, those of type `currency` in đồng (`office:currency="VND"`)
    in `money_units`, those showing a formula's error in `errors` (LibreOffice
    saves one as an empty string marked `calcext:value-type="error"`, which calamine reads
    as empty), its hidden or filtered-out rows in `hidden_rows` (Excel rows, at most
    `_HIDDEN_RUN` of one repeated row: LibreOffice may hide every unused row below the
    table in one), as `bounded` does for an .xlsx file, and in `texts` the text of the cells
    whose line break or tab inside a paragraph calamine drops (`Tên<text:line-break/>HTX`
    reads `TênHTX`), and in `date_epoch` the file's `table:null-date`, day 0 of its serial
    numbers (01/01/1904 in a workbook Excel for Mac began), when it names one."""
    merges: dict[str, list[Merge]] = {}
    percent: dict[str, list[tuple[int, int]]] = {}
    money_units: dict[str, dict[tuple[int, int], str | Scaled]] = {}
    errors: dict[str, dict[tuple[int, int], str]] = {}
    texts: dict[str, dict[tuple[int, int], str]] = {}
    hidden_rows: dict[str, list[int]] = {}
    failed: list[tuple[int, int]] = []  # the error cell being read: its (Excel row, column)s
    # The text cell being read: its first (Excel row, column), rows and columns repeated.
    written: tuple[int, int, int, int] | None = None
    null_date: dt.date | None = None
    with _zip(path) as archive, archive.open("content.xml") as raw:
        stream = _Counted(raw, expanded_limit, "content.xml")
        sheet: list[Merge] = []
        shown: list[tuple[int, int]] = []
        money_of: dict[tuple[int, int], str | Scaled] = {}
        errors_of: dict[tuple[int, int], str] = {}
        texts_of: dict[tuple[int, int], str] = {}
        hidden_of: list[int] = []
        row = column = depth = 0  # depth: tables nested in a cell are not the sheet's
        rows_repeated = 1
        for event, element in ET.iterparse(stream, events=("start", "end")):  # noqa: S314  expat refuses external entities and entity blow-up
            tag = _local(element.tag)
            attributes = {_local(k): v for k, v in element.attrib.items()}
            if event == "start":
                if tag == "table":
                    depth += 1
                    if depth == 1:
                        name = attributes.get("name", "")
                        sheet = merges.setdefault(name, [])
                        shown = percent.setdefault(name, [])
                        money_of = money_units.setdefault(name, {})
                        errors_of = errors.setdefault(name, {})
                        texts_of = texts.setdefault(name, {})
                        hidden_of = hidden_rows.setdefault(name, [])
                        row = 0
                elif depth == 1 and tag == "table-row":
                    column = 0
                    rows_repeated = int(attributes.get("number-rows-repeated", 1))
                    if attributes.get("visibility") in ("collapse", "filter"):
                        hidden_of.extend(range(row + 1, row + 1 + min(rows_repeated, _HIDDEN_RUN)))
                elif depth == 1 and tag in ("table-cell", "covered-table-cell"):
                    spanned = int(attributes.get("number-rows-spanned", 1))
                    across = int(attributes.get("number-columns-spanned", 1))
                    if tag == "table-cell" and (spanned > 1 or across > 1):
                        sheet.append(((row, column), (row + spanned - 1, column + across - 1)))
                    repeated = int(attributes.get("number-columns-repeated", 1))
                    error = tag == "table-cell" and element.get(_CALCEXT_VALUE_TYPE) == "error"
                    # An error first: `office:` and `calcext:value-type` share the local
                    # name, so `attributes` keeps whichever the file writes last.
                    if error or attributes.get("value-type") == "percentage":
                        places = [
                            (row + 1 + down, column + right)
                            for down in range(rows_repeated)
                            for right in range(repeated)
                        ]
                        if error:
                            failed.extend(places)
                        else:
                            shown.extend(places)
                    elif (
                        attributes.get("value-type") == "currency"
                        and money_factor(currency := attributes.get("currency", "")) is not None
                    ):
                        money_of.update(
                            ((row + 1 + down, column + right), currency)
                            for down in range(rows_repeated)
                            for right in range(repeated)
                        )
                    elif tag == "table-cell" and attributes.get("value-type") == "string":
                        written = (row + 1, column, rows_repeated, repeated)
                    column += repeated
                elif depth == 0 and tag == "null-date":  # in the settings, before the tables
                    with contextlib.suppress(ValueError):
                        null_date = dt.date.fromisoformat(attributes.get("date-value", "")[:10])
                continue
            if tag == "table":
                depth -= 1
            elif depth == 1 and tag == "table-cell" and failed:
                # its text, once read: `#DIV/0!` as the clerk sees it
                shown_text = "\n".join(
                    "".join(p.itertext()) for p in element if _local(p.tag) == "p"
                )
                errors_of.update(dict.fromkeys(failed, shown_text.strip()))
                failed.clear()
            elif depth == 1 and tag == "table-cell" and written:
                paragraphs = [p for p in element if _local(p.tag) == "p"]
                if any(_local(e.tag) in _DROPPED for p in paragraphs for e in p.iter()):
                    first, at, down, across = written
                    whole = "\n".join(map(_as_written, paragraphs))
                    texts_of.update(
                        ((first + r, at + c), whole) for r in range(down) for c in range(across)
                    )
                written = None
            elif depth == 1 and tag == "table-row":
                row += int(attributes.get("number-rows-repeated", 1))
                element.clear()
    if isinstance(path, Package):
        path.date_epoch = null_date
        path.percent.update((name, frozenset(cells)) for name, cells in percent.items() if cells)
        path.money_units.update((name, cells) for name, cells in money_units.items() if cells)
        path.errors.update((name, cells) for name, cells in errors.items() if cells)
        path.texts.update((name, cells) for name, cells in texts.items() if cells)
        path.hidden_rows.update(
            (name, frozenset(rows)) for name, rows in hidden_rows.items() if rows
        )
    return {name: ranges for name, ranges in merges.items() if ranges}


# What calamine leaves out of an .ods paragraph's text, as the clerk sees it.
_DROPPED = {"line-break": "\n", "tab": "\t"}


def _as_written(element: ET.Element) -> str:
    """An .ods paragraph's (or span's) text with its line breaks, tabs and repeated spaces
    (`<text:s text:c="3"/>`)."""
    pieces = [element.text or ""]
    for child in element:
        tag = _local(child.tag)
        if tag == "s":
            pieces.append(" " * _repeated(child, "c"))
        elif tag in _DROPPED:
            pieces.append(_DROPPED[tag])
        else:
            pieces.append(_as_written(child))
        pieces.append(child.tail or "")
    return "".join(pieces)


def _repeated(element: ET.Element, name: str) -> int:
    """A row's or cell's repeat count: 1 when not given, never less."""
    return max(1, next((int(v) for k, v in element.attrib.items() if _local(k) == name), 1))


def _check_ods_rows(
    path: Path | Package, max_rows: int, expanded_limit: int, max_cells: int = 5_000_000
) -> None:
    """Count an .ods file's real rows (repeated rows included) and the cells of each sheet
    up to its last real row and column (repeated cells included), without expanding them;
    and the text python-calamine holds once it repeats each cell's text: a few KB of
    content.xml may repeat a long text over thousands of cells (`file_too_expanded`)."""
    with _zip(path) as archive, archive.open("content.xml") as raw:
        stream = _Counted(raw, expanded_limit, "content.xml")
        rows, has_value = 0, False
        depth = position = column = row_end = last_real = real_column = 0
        text = row_text = 0
        sheet = "content.xml"
        for event, element in ET.iterparse(stream, events=("start", "end")):  # noqa: S314  expat refuses external entities and entity blow-up
            tag = _local(element.tag)
            if event == "start":
                if tag == "table":
                    depth += 1  # a table nested in a cell is not the sheet's
                    if depth == 1:
                        rows = position = last_real = real_column = 0
                        sheet = next(
                            (v for k, v in element.attrib.items() if _local(k) == "name"),
                            "content.xml",
                        )
                elif depth == 1 and tag == "table-row":
                    has_value = False
                    column = row_end = row_text = 0
                continue
            if tag == "table":
                depth -= 1
            elif depth != 1:
                continue
            elif tag in ("table-cell", "covered-table-cell"):
                across = _repeated(element, "number-columns-repeated")
                column += across
                row_text += across * _text_size(element)
                if (
                    any(_local(k) == "value" for k in element.attrib)
                    or (element.text or "").strip()
                    or any(_local(c.tag) == "p" and "".join(c.itertext()).strip() for c in element)
                ):
                    has_value = True
                    row_end = column  # a repeated cell holds its value in every column
            elif tag == "table-row":
                repeated = _repeated(element, "number-rows-repeated")
                position += repeated
                text += repeated * row_text
                if text > expanded_limit:
                    raise LimitExceeded("file_too_expanded", f"{text // (1024 * 1024)} MB")
                if has_value:
                    rows += repeated
                    if rows > max_rows:
                        raise too_many_rows(sheet, rows, max_rows)
                    last_real, real_column = position, max(real_column, row_end)
                    if last_real * real_column > max_cells:
                        raise too_many_cells(sheet, last_real, real_column, max_cells)
                element.clear()


def _text_size(cell: ET.Element) -> int:
    """The bytes of text an .ods cell holds, its repeated spaces (`<text:s text:c="…"/>`)
    included."""
    size = sum(len(piece.encode()) for piece in cell.itertext())
    for element in cell.iter():
        if _local(element.tag) == "s":
            size += _repeated(element, "c")
    return size
