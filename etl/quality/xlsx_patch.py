"""An .xlsx package changed at the zip level: every part of the original is copied as it is,
and only what an annotation needs is added or replaced (a new first sheet, cell styles of
marked cells, comments and their VML drawing, a custom property).

Reading and writing a workbook with openpyxl costs about 0.1-0.2 s; this costs a few
milliseconds. It takes only packages it fully understands: anything else raises
`NotPatchable`, and the caller makes the copy another way (openpyxl). The original file is
only read.
"""

from __future__ import annotations

import bisect
import html
import io
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from xml.parsers import expat

from etl.outputs import zip_parts

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_REL_TYPE = REL_NS + "/"
WORKBOOK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
COMMENTS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
VML_TYPE = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CUSTOM_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"

MAX_COLUMN = 16_384
MAX_ROW = 1_048_576

# Parts copied as they are. Anything else (macros, external links, pivot tables, custom XML,
# threaded comments, custom properties, formulas' calcChain...) is left to openpyxl, which
# drops or rewrites them.
_ALLOWED = re.compile(
    r"\[Content_Types\]\.xml|_rels/\.rels|docProps/(core|app)\.xml|docProps/thumbnail\.\w+"
    r"|xl/workbook\.xml|xl/_rels/workbook\.xml\.rels|xl/styles\.xml|xl/sharedStrings\.xml"
    r"|xl/theme/[^/]+\.xml|xl/worksheets/[^/]+\.xml|xl/worksheets/_rels/[^/]+\.xml\.rels"
    r"|xl/chartsheets/[^/]+\.xml|xl/chartsheets/_rels/[^/]+\.xml\.rels"
    r"|xl/printerSettings/[^/]+\.bin|xl/drawings/[^/]+\.(xml|vml)|xl/drawings/_rels/[^/]+\.rels"
    r"|xl/media/[^/]+|xl/charts/[^/]+\.xml|xl/charts/_rels/[^/]+\.rels"
    r"|xl/comments[^/]*\.xml|xl/comments/[^/]+\.xml|xl/tables/[^/]+\.xml",
    re.IGNORECASE,
)
_ATTRIBUTE = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ADDRESS = re.compile(r"^([A-Z]{1,3})([1-9][0-9]{0,6})$")
# Elements a worksheet may have after <legacyDrawing>: it goes before the first of them.
_AFTER_LEGACY = ("<legacyDrawingHF", "<drawingHF", "<picture", "<webPublishItems", "<tableParts")
# Elements whose position or content this module does not handle in a marked sheet.
_UNHANDLED_IN_MARKED = ("<legacyDrawing", "<oleObjects", "<controls", "<extLst", "AlternateContent")


_ROW_REFERENCE = re.compile(rb"""\sr\s*=\s*["'][A-Z]{0,3}([0-9]+)["']""")
# As etl.read.guard scans: any row or cell reference, any row tag (prefixed or not).
_ANY_ROW_REFERENCE = re.compile(rb"\sr\s*=\s*[\"'][A-Za-z]{0,3}(\d+)[\"']")
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\b([^>]*)>")
_WORKSHEET_PART = re.compile(r"xl/worksheets/[^/]+\.xml")
# A cell in the default namespace: its attributes and its content.
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)
_CELL_REFERENCE = re.compile(rb"""\sr\s*=\s*["'][A-Za-z]{1,3}(\d+)["']""")
_CELL_TYPE = re.compile(rb"""\st\s*=\s*["']([A-Za-z]+)["']""")
_VALUE = re.compile(rb"<v\b[^>]*>([^<]+)</v>")
_TEXTS = re.compile(rb"<t\b[^>]*>([^<]*)</t>")
# A cell's formula (`<f>`, `<f t="shared" .../>`), not a rule's (`<formula1>` of a data
# validation, `<formula>` of a conditional format).
_CELL_FORMULA = re.compile(rb"<f[\s/>]")


def _real_from(data: bytes, rows: list[re.Match], first_row: int) -> bool:
    """Whether a cell at or below row `first_row` surely holds a real value (see
    `Package.tails_within`)."""
    if b"<worksheet " not in data[:4096] or b"<x:" in data or b"<main:" in data:
        return False  # another prefix: the cells are not `<c>`
    start = None
    for found in rows:
        number = _ANY_ROW_REFERENCE.search(found.group(1))
        if number is not None and int(number.group(1)) >= first_row:
            start = found.start()
            break
    if start is None:
        return False
    for cell in _CELL.finditer(data, start):
        attributes, content = cell.group(1), cell.group(2) or b""
        reference = _CELL_REFERENCE.search(attributes)
        if reference is None or int(reference.group(1)) < first_row:
            continue
        kind = _CELL_TYPE.search(attributes)
        kind_name = kind.group(1) if kind else b"n"
        if kind_name == b"s" or b"&" in content:
            continue  # not known without the shared strings, or escaped
        if kind_name in (b"str", b"inlineStr"):
            value = _VALUE.search(content)
            text = value.group(1) if value else b"".join(_TEXTS.findall(content))
            opens = content.lstrip().startswith((b"<v", b"<is"))
            if opens and text.decode("utf-8", "replace").strip():
                return True
            continue
        if content.lstrip().startswith(b"<v") and _VALUE.match(content.lstrip()):
            return True  # a number, boolean, date or error: real whatever its text
    return False


_CELL_COLUMN = re.compile(r"""<c\b[^>]*?\sr\s*=\s*["']([A-Z]+)\d+["']""")
_ROW_NUMBER = re.compile(r"""<row\b[^>]*?\sr\s*=\s*["'](\d+)["']""")
_ROW_OPENING = re.compile(r"<row\b[^>]*>")
_COL = re.compile(r"<col\b[^>]*>")
_ZERO_HEIGHT = re.compile(r"""\sht\s*=\s*["']0*(\.0*)?["']""")
# The width a shown column gets when the clerk hid it by making it 0 wide (openpyxl's
# default, so both copies give the same).
SHOWN_WIDTH = 13


def _dropped(tag: str, *names: str) -> str:
    """An opening tag without the attributes `names`."""
    for name in names:
        tag = re.sub(rf"""\s{name}\s*=\s*("[^"]*"|'[^']*')""", "", tag)
    return tag


def _hidden_row(tag: str) -> bool:
    """Whether a `<row>` tag hides its row: `hidden`, or a height of 0."""
    attrs = attributes(tag)
    return attrs.get("hidden") in ("1", "true") or _is_zero(attrs.get("ht"))


def _hidden_col(attrs: dict[str, str]) -> bool:
    return attrs.get("hidden") in ("1", "true") or _is_zero(attrs.get("width"))


def _is_zero(number: str | None) -> bool:
    try:
        return number is not None and float(number) == 0
    except ValueError:
        return False


def _col_span(attrs: dict[str, str]) -> tuple[int, int]:
    try:
        return int(attrs["min"]), int(attrs["max"])
    except (KeyError, ValueError) as exc:
        raise NotPatchable(f"<col> without its columns: {exc}") from exc


def hidden_rows(xml: str, rows: set[int]) -> list[int]:
    """Those of `rows` a worksheet hides."""
    if "hidden" not in xml and _ZERO_HEIGHT.search(xml) is None:
        return []
    found = []
    for tag in _ROW_OPENING.finditer(xml):
        number = _ROW_NUMBER.match(tag.group(0))
        if number and int(number.group(1)) in rows and _hidden_row(tag.group(0)):
            found.append(int(number.group(1)))
    return sorted(found)


def hidden_columns(xml: str, columns: set[int]) -> list[int]:
    """Those of `columns` a worksheet hides (`<col hidden="1">`, or 0 wide)."""
    found = []
    for tag in _COL.finditer(xml):
        attrs = attributes(tag.group(0))
        if _hidden_col(attrs):
            first, last = _col_span(attrs)
            found += [c for c in columns if first <= c <= last]
    return sorted(found)


def shown(xml: str, rows: set[int], columns: set[int]) -> str:
    """A worksheet with `rows` and `columns` shown, its other hidden rows and columns as they
    were: a hidden `<col>` range is cut around the columns shown."""
    if rows and hidden_rows(xml, rows):

        def show_row(found: re.Match) -> str:
            tag = found.group(0)
            number = _ROW_NUMBER.match(tag)
            if number is None or int(number.group(1)) not in rows or not _hidden_row(tag):
                return tag
            if _is_zero(attributes(tag).get("ht")):
                tag = _dropped(tag, "ht", "customHeight")
            return _dropped(tag, "hidden")

        xml = _ROW_OPENING.sub(show_row, xml)
    if columns and hidden_columns(xml, columns):

        def show_columns(found: re.Match) -> str:
            tag = found.group(0)
            attrs = attributes(tag)
            first, last = _col_span(attrs)
            inside = sorted(c for c in columns if first <= c <= last)
            if not inside or not _hidden_col(attrs):
                return tag
            visible = _dropped(tag, "hidden")
            if _is_zero(attrs.get("width")):
                visible = _dropped(visible, "width")
                visible = visible.replace("<col", f'<col width="{SHOWN_WIDTH}"', 1)
            pieces, start = [], first
            for column in inside:
                if start < column:
                    pieces.append(_spanning(tag, start, column - 1))
                pieces.append(_spanning(visible, column, column))
                start = column + 1
            if start <= last:
                pieces.append(_spanning(tag, start, last))
            return "".join(pieces)

        xml = _COL.sub(show_columns, xml)
    return xml


def _spanning(tag: str, first: int, last: int) -> str:
    """A `<col>` tag for columns `first` to `last`."""
    tag = _dropped(tag, "min", "max")
    return tag.replace("<col", f'<col min="{first}" max="{last}"', 1)


def _find_tag(xml: str, name: str, ref: str, start: int, end: int) -> tuple[int, int] | None:
    """(start, end) of the opening tag `<name ... r="ref" ...>` between start and end."""
    for quoted in (f' r="{ref}"', f" r='{ref}'"):
        at = xml.find(quoted, start, end)
        while at >= 0:
            tag_start = xml.rfind(f"<{name}", start, at)
            tag_end = xml.find(">", tag_start) + 1 if tag_start >= 0 else 0
            if tag_start >= 0 and tag_end > at and xml[tag_start + len(name) + 1] in " \t\r\n":
                return tag_start, tag_end
            at = xml.find(quoted, at + 1, end)
    # an unusual spelling (spaces around `=`): the slow way
    found = re.compile(rf"""<{name}\b[^>]*?\sr\s*=\s*["']{ref}["'][^>]*>""").search(xml, start, end)
    return (found.start(), found.end()) if found else None


# `_ROW_REFERENCE` for numbers of as many significant digits as a bound or more (the only
# ones that may pass it), exact and led by the literal `r="` (several times faster; right
# when `_LOOSE_R` finds no other spelling of `r`), by the bound's number of digits.
_BIG_ROW_REFERENCES: dict[int, tuple[re.Pattern[bytes], re.Pattern[bytes]]] = {}
_LOOSE_R = re.compile(rb"r(?:\s+=|=\s|=')")


def _big_row_references(bound: int) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    digits = len(str(bound)) - 1
    found = _BIG_ROW_REFERENCES.get(digits)
    if found is None:
        number = rb"[A-Z]{0,3}0*([1-9][0-9]{%d,})[\"']" % digits
        found = _BIG_ROW_REFERENCES[digits] = (
            re.compile(rb"\sr\s*=\s*[\"']" + number),
            re.compile(rb'r="' + number),
        )
    return found


# The structure of many workbooks made from one template (`Package._structure`), by the
# bytes of the parts it is read from.
_STRUCTURE_PARTS = ("[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels")
_STRUCTURES: dict[tuple[bytes, ...], tuple[str, list[tuple[str, str | None, str]]]] = {}

# The parts of many workbooks made from one template (theme, styles, relationships...), as
# stored: their unpacked bytes, already found well-formed. Worksheets are each their own.
_UNPACKED: dict[tuple[str, int, int, int, bytes], bytes] = {}
_UNPACKED_ENTRIES = 256
_UNPACKED_PART_BYTES = 1 << 18


def _unpacked(archive: zipfile.ZipFile, name: str, raw: zip_parts.Raw, blob: bytes) -> bytes:
    """Part `name` unpacked; NotPatchable if it is XML and not well-formed (a damaged part:
    openpyxl says how it fails). A part stored as one already seen is not unpacked again."""
    checked = name.lower().endswith((".xml", ".rels", ".vml"))
    key = (name if checked else "", raw.method, raw.crc, raw.size, raw.data)
    kept = _UNPACKED.get(key)
    if kept is not None:
        return kept
    data = _inflated(archive.getinfo(name), raw, blob)
    if data is None:  # anything unusual: zipfile reads it, or says what is wrong
        data = archive.read(name)
    if checked:
        try:
            expat.ParserCreate().Parse(data, True)
        except expat.ExpatError as exc:
            raise NotPatchable(f"{name}: {exc}") from exc
    if raw.size <= _UNPACKED_PART_BYTES and not _WORKSHEET_PART.fullmatch(name):
        if len(_UNPACKED) >= _UNPACKED_ENTRIES:
            _UNPACKED.clear()
        _UNPACKED[key] = data
    return data


def _inflated(info: zipfile.ZipInfo, raw: zip_parts.Raw, blob: bytes) -> bytes | None:
    """What `ZipFile.read` gives for a plain stored or deflated member, read from its stored
    bytes with zlib (zipfile's reading costs more than the inflating); None for anything
    zipfile would check further or refuse: encryption or patch flags, a local header whose
    name is not the directory's, data that is not its size and CRC-32."""
    if info.flag_bits & 0x61 or raw.method not in (zip_parts.STORED, zip_parts.DEFLATED):
        return None
    at = info.header_offset
    flags, name_length = struct.unpack("<H", blob[at + 6 : at + 8])[0], blob[at + 26 : at + 28]
    local = blob[at + 30 : at + 30 + struct.unpack("<H", name_length)[0]]
    try:
        if local.decode("utf-8" if flags & 0x800 else "cp437") != info.orig_filename:
            return None
        data = raw.data if raw.method == zip_parts.STORED else zlib.decompress(raw.data, -15)
    except (UnicodeDecodeError, zlib.error):
        return None
    return data if len(data) == raw.size and zlib.crc32(data) == raw.crc else None


def has_cell_formula(worksheet: bytes) -> bool:
    """Whether a worksheet part holds a cell's formula."""
    return _CELL_FORMULA.search(worksheet) is not None


class NotPatchable(Exception):
    """The package has something this module does not handle: copy it another way."""


def attributes(tag: str) -> dict[str, str]:
    """An element's attributes (XML entities resolved), from its opening tag."""
    return {
        m.group(1): html.unescape(m.group(2) if m.group(2) is not None else m.group(3))
        for m in _ATTRIBUTE.finditer(tag)
    }


def escape(text: str) -> str:
    if _NOT_XML.search(text):
        raise NotPatchable("text with characters XML cannot hold")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attribute(text: str) -> str:
    return escape(text).replace('"', "&quot;")


def column_index(letters: str) -> int:
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index


def column_letters(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def split_address(address: str) -> tuple[int, int]:
    """(row, column), 1-based; NotPatchable outside Excel's grid."""
    found = _ADDRESS.match(address)
    if not found:
        raise NotPatchable(f"address {address!r}")
    row, column = int(found.group(2)), column_index(found.group(1))
    if row > MAX_ROW or column > MAX_COLUMN:
        raise NotPatchable(f"address {address!r} outside the grid")
    return row, column


def _text_run(text: str, checked: bool = True) -> str:
    """A `<t>` element; `checked=False` leaves the check for characters XML cannot hold to
    the caller."""
    space = ' xml:space="preserve"' if text != text.strip() else ""
    if checked:
        escape(text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<t{space}>{text}</t>"


def _resolve(base_dir: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(base_dir, target))


def _rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


@dataclass
class Sheet:
    name: str
    part: str  # the zip member, e.g. xl/worksheets/sheet2.xml
    worksheet: bool  # False: a chartsheet (no cells)


@dataclass
class _Mark:
    row: int
    column: int
    rgb: str
    comment: str
    width: int
    height: int


@dataclass
class NewCell:
    """A cell of a new sheet: a str (inline text, `None` and "" written empty), an int or
    float, or nothing; `style` names a style from `Package.style`."""

    value: object
    style: int | None = None


@dataclass
class Package:
    parts: dict[str, bytes]
    order: list[str]
    sheets: list[Sheet]
    # sheet part -> (row, column) -> its mark, in the order marked (marked again: moved last)
    _marks: dict[str, dict[tuple[int, int], _Mark]] = field(default_factory=dict)
    _styles: dict[str, list[str]] = field(default_factory=dict)
    _new_xfs: dict[tuple, int] = field(default_factory=dict)
    _rel_prefix: str = "r"  # workbook.xml's prefix of the relationships namespace
    # The original's parts as stored (compressed): a part not changed is copied as it is.
    _stored: dict[str, zip_parts.Raw] = field(default_factory=dict)
    _originals: dict[str, bytes] = field(default_factory=dict)

    # --- reading ---------------------------------------------------------------------------

    @classmethod
    def read(cls, path: Path, max_unpacked: int) -> Package:
        """The package at `path`, NotPatchable if it unpacks past `max_unpacked` bytes or has
        a part this module does not copy."""
        blob = path.read_bytes()
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            infos = archive.infolist()
            if sum(info.file_size for info in infos) > max_unpacked:
                raise NotPatchable("content too large")
            names = [info.filename for info in infos]
            if len({n.lower() for n in names}) != len(names):
                raise NotPatchable("duplicate part names")
            for name in names:
                if not name.endswith("/") and not _ALLOWED.fullmatch(name):
                    raise NotPatchable(f"part {name}")
            stored = zip_parts.raw_members(blob, archive)
            parts = {
                n: _unpacked(archive, n, stored[n], blob) for n in names if not n.endswith("/")
            }
        package = cls(parts=parts, order=[n for n in names if n in parts], sheets=[])
        package._stored, package._originals = stored, dict(parts)
        package._read_structure()
        return package

    def has_formulas(self) -> bool:
        return any(has_cell_formula(self.parts[s.part]) for s in self.sheets if s.worksheet)

    def row_bound(self) -> int:
        """At least the highest row any worksheet part reaches (rows without `r` counted)."""
        highest = 0
        for name, data in self.parts.items():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                numbers = _ROW_REFERENCE.findall(data)
                highest = max(highest, max(map(int, numbers), default=0) + data.count(b"<row"))
        return highest

    def rows_past(self, limit: int) -> bool:
        """`row_bound() > limit`, found by looking only at the numbers that may pass it (as
        many digits or more): most sheets have none, and nothing is converted."""
        for name, data in self.parts.items():
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            below = limit - data.count(b"<row")  # a number past this passes `limit`
            if below < 0:
                return True
            loose, plain = _big_row_references(below)
            if _LOOSE_R.search(data) is None:
                # Every reference is written `r="`: the literal-led pattern, the `\s` before
                # `r` checked on its matches alone.
                numbers = (
                    m.group(1)
                    for m in plain.finditer(data)
                    if data[m.start() - 1 : m.start()].isspace()
                )
            else:
                numbers = (m.group(1) for m in loose.finditer(data))
            # Found as the scan goes: a long sheet passes at its first row past `below`, not
            # after every cell of every row of as many digits.
            if any(int(number) > below for number in numbers):
                return True
        return False

    def tails_within(self, tail_rows: int, max_rows: int) -> bool:
        """True when no worksheet can reach more than `tail_rows` rows below its last cell
        with a real value, nor past `max_rows` rows: `guard.bounded` (whose rules these
        are) would keep the file as it is. False when that is not certain from a byte scan:
        the caller asks `guard.bounded`. A value is real as `guard` judges it (a number, or
        text that is not blank); a shared string or an escaped text counts as not known."""
        for name, data in self.parts.items():
            if not _WORKSHEET_PART.fullmatch(name):
                continue
            numbers = _ANY_ROW_REFERENCE.findall(data)
            highest = max(map(int, numbers), default=0)
            rows = list(_ROW_TAG.finditer(data))
            if any(not _ANY_ROW_REFERENCE.search(found.group(1)) for found in rows):
                highest += len(rows)  # a row without `r`: the one after the previous row
            if highest > max_rows:
                return False
            if highest > tail_rows and not _real_from(data, rows, highest - tail_rows):
                return False
        return True

    def text(self, part: str) -> str:
        try:
            return self.parts[part].decode("utf-8")
        except (KeyError, UnicodeDecodeError) as exc:
            raise NotPatchable(f"part {part}: {exc}") from exc

    def _read_structure(self) -> None:
        if "docProps/custom.xml" in self.parts:
            raise NotPatchable("custom properties")  # a returned feedback copy, perhaps
        # The workbooks of one template share these parts (the same bytes, `_unpacked`): their
        # structure is read from them once.
        key = tuple(self.parts.get(name, b"") for name in _STRUCTURE_PARTS)
        found = _STRUCTURES.get(key)
        if found is None:
            found = self._structure()
            if len(_STRUCTURES) >= _UNPACKED_ENTRIES:
                _STRUCTURES.clear()
            _STRUCTURES[key] = found
        self._rel_prefix, listed = found
        for name, kind, part in listed:
            if kind is None:
                raise NotPatchable("a sheet without its part")
            if kind not in ("worksheet", "chartsheet") or part not in self.parts:
                raise NotPatchable(f"sheet of type {kind}")
            self.sheets.append(Sheet(name, part, kind == "worksheet"))
        if not self.sheets:
            raise NotPatchable("no sheets")

    def _structure(self) -> tuple[str, list[tuple[str, str | None, str]]]:
        """The relationships' prefix in workbook.xml, and each sheet's (name, type, part) as
        workbook.xml lists them (type None: a sheet without its part), from the parts
        `_STRUCTURE_PARTS` alone."""
        types = self.text("[Content_Types].xml")
        overrides = {
            attributes(m.group(0)).get("PartName", "").lstrip("/").lower(): attributes(
                m.group(0)
            ).get("ContentType")
            for m in re.finditer(r"<Override\b[^>]*>", types)
        }
        if overrides.get("xl/workbook.xml") != WORKBOOK_TYPE:
            raise NotPatchable("not a plain workbook (template or macro-enabled)")
        workbook = self.text("xl/workbook.xml")
        if f'xmlns="{MAIN_NS}"' not in workbook[:2000] or not re.search(r"<workbook\b", workbook):
            raise NotPatchable("workbook.xml in another namespace or prefix")
        prefix = re.search(rf'xmlns:(\w+)="{re.escape(REL_NS)}"', workbook)
        if prefix is None:
            raise NotPatchable("workbook.xml without the relationships namespace")
        rels = self._relationships("xl/_rels/workbook.xml.rels", "xl")
        sheets = re.search(r"<sheets\b[^>]*>(.*?)</sheets>", workbook, re.DOTALL)
        if sheets is None:
            raise NotPatchable("no <sheets>")
        listed: list[tuple[str, str | None, str]] = []
        for tag in re.findall(r"<sheet\b[^>]*>", sheets.group(1)):
            attrs = attributes(tag)
            rel = rels.get(attrs.get(f"{prefix.group(1)}:id", ""))
            if rel is None or "name" not in attrs:
                listed.append(("", None, ""))
                continue
            kind, part = rel
            listed.append((attrs["name"], kind, part))
        return prefix.group(1), listed

    def _relationships(self, rels_part: str, base_dir: str) -> dict[str, tuple[str, str]]:
        """Id -> (type's last word, resolved internal target)."""
        found = {}
        for tag in re.findall(r"<Relationship\b[^>]*>", self.text(rels_part)):
            attrs = attributes(tag)
            if attrs.get("TargetMode") == "External":
                continue
            kind = attrs.get("Type", "").rsplit("/", 1)[-1]
            found[attrs.get("Id", "")] = (kind, _resolve(base_dir, attrs.get("Target", "")))
        return found

    def merged(self, sheet: Sheet) -> list[tuple[int, int, int, int]]:
        """(first row, first column, last row, last column) of every merged range."""
        ranges = []
        for tag in re.findall(r"<mergeCell\b[^>]*>", self.text(sheet.part)):
            ref = attributes(tag).get("ref", "")
            first, _, last = ref.partition(":")
            (r1, c1), (r2, c2) = split_address(first), split_address(last or first)
            ranges.append((r1, c1, r2, c2))
        return ranges

    # --- styles ----------------------------------------------------------------------------

    def _style_section(self, tag: str, child: str) -> list[str]:
        if tag not in self._styles:
            styles = self.text("xl/styles.xml")
            section = re.search(rf"<{tag}\b[^>]*?>(.*?)</{tag}>", styles, re.DOTALL)
            if section is None:
                raise NotPatchable(f"styles.xml without <{tag}>")
            entries = re.findall(
                rf"<{child}\b[^>]*?/>|<{child}\b[^>]*?[^/]>.*?</{child}>|<{child}>.*?</{child}>",
                section.group(1),
                re.DOTALL,
            )
            self._styles[tag] = entries
        return self._styles[tag]

    def _add(self, tag: str, child: str, xml: str) -> int:
        entries = self._style_section(tag, child)
        entries.append(xml)
        return len(entries) - 1

    def font(self, xml: str) -> int:
        return self._add("fonts", "font", xml)

    def fill(self, rgb: str) -> int:
        return self._add(
            "fills",
            "fill",
            f'<fill><patternFill patternType="solid"><fgColor rgb="{rgb}"/>'
            f'<bgColor rgb="{rgb}"/></patternFill></fill>',
        )

    def style(self, font: int = 0, fill: int = 0, alignment: str = "") -> int:
        """A new cell style (cellXfs entry) on the default number format and border."""
        xfs = self._style_section("cellXfs", "xf")
        applied = "".join(
            (
                ' applyFont="1"' if font else "",
                ' applyFill="1"' if fill else "",
                ' applyAlignment="1"' if alignment else "",
            )
        )
        head = f'<xf numFmtId="0" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"{applied}'
        xfs.append(f"{head}>{alignment}</xf>" if alignment else f"{head}/>")
        return len(xfs) - 1

    def _filled(self, style: int, fill: int) -> int:
        """A copy of cell style `style` with fill `fill`: the number format stays."""
        key = (style, fill)
        if key not in self._new_xfs:
            xfs = self._style_section("cellXfs", "xf")
            if style >= len(xfs):
                raise NotPatchable(f"cell style {style} not in styles.xml")
            xf = xfs[style]
            head_end = xf.index(">")
            head = xf[:head_end].rstrip("/")
            head = re.sub(r"""\s(fillId|applyFill)\s*=\s*("[^"]*"|'[^']*')""", "", head)
            head += f' fillId="{fill}" applyFill="1"'
            rest = xf[head_end:]
            xfs.append(head + ("/>" if rest.startswith("/>") or xf[head_end - 1] == "/" else rest))
            self._new_xfs[key] = len(xfs) - 1
        return self._new_xfs[key]

    def _write_styles(self) -> None:
        if not self._styles:
            return
        styles = self.text("xl/styles.xml")
        for tag, entries in self._styles.items():
            section = re.search(rf"(<{tag}\b[^>]*?)>(.*?)</{tag}>", styles, re.DOTALL)
            if section is None:
                raise NotPatchable(f"styles.xml without <{tag}>")
            opening = re.sub(r"""\scount\s*=\s*("[^"]*"|'[^']*')""", "", section.group(1))
            replaced = f'{opening} count="{len(entries)}">{"".join(entries)}</{tag}>'
            styles = styles[: section.start()] + replaced + styles[section.end() :]
        self.parts["xl/styles.xml"] = styles.encode("utf-8")

    # --- marks -----------------------------------------------------------------------------

    def mark(self, sheet: Sheet, address: str, rgb: str, comment: str, width: int, height: int):
        """Fill cell `address` of `sheet` with `rgb` and attach `comment` to it."""
        row, column = split_address(address)
        escape(comment)  # NotPatchable now, not when saving
        marks = self._marks.setdefault(sheet.part, {})
        marks.pop((row, column), None)  # marked again: the last mark counts
        marks[(row, column)] = _Mark(row, column, rgb, comment, width, height)

    def hidden_marked(self) -> list[tuple[str, list[int], list[int]]]:
        """(sheet name, rows, columns) the sheets hide and a mark is in, sheet by sheet: the
        copy shows them (`save`), so that the clerk sees the mark and `Loi`'s link lands on
        a cell in view."""
        names = {s.part: s.name for s in self.sheets}
        found = []
        for part, marked in self._marks.items():
            xml = self.text(part)
            rows = hidden_rows(xml, {row for row, _ in marked})
            columns = hidden_columns(xml, {column for _, column in marked})
            if rows or columns:
                found.append((names[part], rows, columns))
        return found

    def _apply_marks(self, author: str) -> None:
        fills: dict[str, int] = {}
        for number, (part, marked) in enumerate(self._marks.items(), start=1):
            marks = list(marked.values())
            xml = self.text(part)
            rels = self.parts.get(_rels_path(part), b"")
            if b"/comments" in rels or b"/vmlDrawing" in rels:
                raise NotPatchable(f"{part}: has notes already")
            if any(tag in xml for tag in _UNHANDLED_IN_MARKED):
                raise NotPatchable(f"{part}: elements not handled")
            if not re.search(rf'<worksheet\b[^>]*\sxmlns="{MAIN_NS}"', xml):
                raise NotPatchable(f"{part}: not a worksheet in the main namespace")
            if re.search(r"<c\b(?![^>]*\sr\s*=)[^>]*>", xml) or re.search(
                r"<row\b(?![^>]*\sr\s*=)[^>]*>", xml
            ):
                raise NotPatchable(f"{part}: cells or rows without an address")
            for mark in marks:
                if mark.rgb not in fills:
                    fills[mark.rgb] = self.fill(mark.rgb)
            cells = [(m.row, m.column, fills[m.rgb]) for m in marks]
            xml = self._style_cells(xml, cells)
            xml = shown(xml, {m.row for m in marks}, {m.column for m in marks})
            xml = self._add_comments(part, xml, marks, author, number)
            self.parts[part] = xml.encode("utf-8")

    def _style_cells(self, xml: str, cells: list[tuple[int, int, int]]) -> str:
        """`_style_cell` of every (row, column, fill), as many calls in turn would make it,
        in time that grows with the sheet plus the cells, not their product: the sheet data
        is cut before each row, and a cell is styled within the piece of its row (a row the
        sheet lacks: the piece of the row before it, or the first piece), as a sheet of its
        own. Rows out of order, or no rows: one call per cell, as before."""
        opening = re.search(r"<sheetData\b[^>]*?(/?)>", xml)
        if opening is None or opening.group(1) == "/" or len(cells) < 2:
            for row, column, fill in cells:
                xml = self._style_cell(xml, row, column, fill)
            return xml
        start, end = opening.end(), xml.index("</sheetData>", opening.end())
        rows = list(_ROW_NUMBER.finditer(xml, start, end))
        numbers = [int(found.group(1)) for found in rows]
        if not rows or any(a >= b for a, b in pairwise(numbers)):
            for row, column, fill in cells:
                xml = self._style_cell(xml, row, column, fill)
            return xml
        cuts = [start, *(found.start() for found in rows[1:]), end]
        pieces = [xml[a:b] for a, b in pairwise(cuts)]
        for row, column, fill in cells:
            at = max(bisect.bisect_right(numbers, row) - 1, 0)
            styled = self._style_cell(f"<sheetData>{pieces[at]}</sheetData>", row, column, fill)
            pieces[at] = styled[len("<sheetData>") : -len("</sheetData>")]
        return xml[:start] + "".join(pieces) + xml[end:]

    def _style_cell(self, xml: str, row: int, column: int, fill: int) -> str:
        """`xml` with cell (row, column) in a copy of its style filled with `fill`; a cell
        the sheet does not have yet is added to its row (a row to the sheet)."""
        opening = re.search(r"<sheetData\b[^>]*?(/?)>", xml)
        if opening is None:
            raise NotPatchable("no <sheetData>")
        address = f"{column_letters(column)}{row}"
        if opening.group(1) == "/":
            new_cell = f'<c r="{address}" s="{self._filled(0, fill)}"/>'
            filled = f'<sheetData><row r="{row}">{new_cell}</row></sheetData>'
            return xml[: opening.start()] + filled + xml[opening.end() :]
        start, end = opening.end(), xml.index("</sheetData>", opening.end())
        cell = _find_tag(xml, "c", address, start, end)
        if cell is not None:
            tag = xml[cell[0] : cell[1]]
            found = re.search(r"""\ss\s*=\s*["'](\d+)["']""", tag)
            style = int(found.group(1)) if found else 0
            attribute = f' s="{self._filled(style, fill)}"'
            tag = (
                tag[: found.start()] + attribute + tag[found.end() :]
                if found
                else "<c" + attribute + tag[2:]
            )
            return xml[: cell[0]] + tag + xml[cell[1] :]
        new_cell = f'<c r="{address}" s="{self._filled(0, fill)}"/>'
        row_tag = _find_tag(xml, "row", str(row), start, end)
        if row_tag is not None:
            tag_start, tag_end = row_tag
            if xml[tag_end - 2 : tag_end] == "/>":
                opened = xml[tag_start : tag_end - 2].rstrip() + ">"
                return xml[:tag_start] + f"{opened}{new_cell}</row>" + xml[tag_end:]
            close = xml.index("</row>", tag_end)
            at = close
            for other in _CELL_COLUMN.finditer(xml, tag_end, close):
                if column_index(other.group(1)) > column:
                    at = other.start()
                    break
            return xml[:at] + new_cell + xml[at:]
        at = end
        for other in _ROW_NUMBER.finditer(xml, start, end):
            if int(other.group(1)) > row:
                at = other.start()
                break
        return xml[:at] + f'<row r="{row}">{new_cell}</row>' + xml[at:]

    def _free(self, pattern: str) -> str:
        taken = {n.lower() for n in self.parts}
        n = 1
        while (pattern % n).lower() in taken:
            n += 1
        return pattern % n

    def _add_comments(self, part: str, xml: str, marks: list[_Mark], author: str, n: int) -> str:
        comments_part = self._free("xl/comments/comment%d.xml")
        records = "".join(
            f'<comment ref="{column_letters(m.column)}{m.row}" authorId="0" shapeId="0">'
            f"<text>{_text_run(m.comment)}</text></comment>"
            for m in marks
        )
        self.parts[comments_part] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<comments xmlns="{MAIN_NS}">'
            f"<authors><author>{escape(author)}</author></authors>"
            f"<commentList>{records}</commentList></comments>"
        ).encode()
        vml_part = self._free("xl/drawings/commentsDrawing%d.vml")
        block = 100 + n  # shape ids of this drawing: block * 1024 + 1 ...
        shapes = "".join(
            f'<v:shape id="_x0000_s{block * 1024 + i}" type="#_x0000_t202" '
            'style="position:absolute; margin-left:59.25pt;margin-top:1.5pt;'
            f'width:{m.width}px;height:{m.height}px;z-index:{i};visibility:hidden" '
            'fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
            '<v:shadow color="black" obscured="t"/><v:path o:connecttype="none"/>'
            '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"/>'
            '</v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:AutoFill>False</x:AutoFill><x:Row>{m.row - 1}</x:Row>"
            f"<x:Column>{m.column - 1}</x:Column></x:ClientData></v:shape>"
            for i, m in enumerate(marks, start=1)
        )
        self.parts[vml_part] = (
            '<xml xmlns:v="urn:schemas-microsoft-com:vml" '
            'xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:x="urn:schemas-microsoft-com:office:excel">'
            f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{block}"/></o:shapelayout>'
            '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
            'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
            f'<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>{shapes}</xml>'
        ).encode()
        self._add_type(comments_part, COMMENTS_TYPE)
        self._add_default("vml", VML_TYPE)
        rels_part = _rels_path(part)
        folder = posixpath.dirname(part)
        self._add_relationship(
            rels_part, "htxComments", "comments", posixpath.relpath(comments_part, folder)
        )
        self._add_relationship(
            rels_part, "htxVml", "vmlDrawing", posixpath.relpath(vml_part, folder)
        )
        legacy = f'<legacyDrawing xmlns:r="{REL_NS}" r:id="htxVml"/>'
        positions = [xml.find(tag, xml.find("</sheetData")) for tag in _AFTER_LEGACY]
        found = [p for p in positions if p > 0]
        at = min(found) if found else xml.rindex("</worksheet>")
        return xml[:at] + legacy + xml[at:]

    # --- package bookkeeping ---------------------------------------------------------------

    def _add_type(self, part: str, content_type: str) -> None:
        types = self.text("[Content_Types].xml")
        override = f'<Override PartName="/{part}" ContentType="{content_type}"/>'
        at = types.rindex("</Types>")
        self.parts["[Content_Types].xml"] = (types[:at] + override + types[at:]).encode("utf-8")

    def _add_default(self, extension: str, content_type: str) -> None:
        types = self.text("[Content_Types].xml")
        for tag in re.findall(r"<Default\b[^>]*>", types):
            if attributes(tag).get("Extension", "").lower() == extension:
                return
        default = f'<Default Extension="{extension}" ContentType="{content_type}"/>'
        at = types.index(">", types.index("<Types")) + 1
        self.parts["[Content_Types].xml"] = (types[:at] + default + types[at:]).encode("utf-8")

    def _add_relationship(self, rels_part: str, rel_id: str, kind: str, target: str) -> None:
        if rels_part not in self.parts:
            self.parts[rels_part] = (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<Relationships xmlns="{PKG_REL_NS}"></Relationships>'
            ).encode()
        rels = self.text(rels_part)
        if f'Id="{rel_id}"' in rels or f"Id='{rel_id}'" in rels:
            raise NotPatchable(f"{rels_part}: {rel_id} taken")
        relationship = (
            f'<Relationship Id="{rel_id}" Type="{_REL_TYPE}{kind}" '
            f'Target="{escape_attribute(target)}"/>'
        )
        at = rels.rindex("</Relationships>")
        self.parts[rels_part] = (rels[:at] + relationship + rels[at:]).encode("utf-8")

    def set_custom_property(self, name: str, value: str) -> None:
        """docProps/custom.xml with one text property (the package had none)."""
        part = "docProps/custom.xml"
        self.parts[part] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            'custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/'
            '2006/docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" '
            f'pid="2" name="{escape_attribute(name)}"><vt:lpwstr>{escape(value)}</vt:lpwstr>'
            "</property></Properties>"
        ).encode()
        self._add_type(part, CUSTOM_TYPE)
        self._add_relationship(
            "_rels/.rels", "htxCustom", "custom-properties", "docProps/custom.xml"
        )

    def insert_first_sheet(
        self,
        name: str,
        rows: dict[int, list[NewCell]],
        widths: list[float],
        frozen_rows: int,
        links: dict[str, str],
    ) -> None:
        """A new worksheet `name` before all others, active and the only one selected.

        `rows`: cells by Excel row, from column A; `links`: cell address -> location in the
        workbook (`'Sheet'!A1`); the first `frozen_rows` stay in view."""
        if any(s.name.lower() == name.lower() for s in self.sheets):
            raise NotPatchable(f"a sheet named {name} already")
        part = self._free("xl/worksheets/sheet%d.xml")
        self.parts[part] = self._sheet_xml(rows, widths, frozen_rows, links).encode("utf-8")
        self._add_type(part, WORKSHEET_TYPE)
        self._add_relationship(
            "xl/_rels/workbook.xml.rels", "htxLoi", "worksheet", posixpath.relpath(part, "xl")
        )
        workbook = self.text("xl/workbook.xml")
        ids = [
            int(v) for v in re.findall(r"""<sheet\b[^>]*?\ssheetId\s*=\s*["'](\d+)["']""", workbook)
        ]
        opening = re.search(r"<sheets\b[^>]*>", workbook)
        if opening is None:
            raise NotPatchable("no <sheets>")
        sheet = (
            f'<sheet name="{escape_attribute(name)}" sheetId="{max(ids, default=0) + 1}" '
            f'{self._rel_prefix}:id="htxLoi"/>'
        )
        workbook = workbook[: opening.end()] + sheet + workbook[opening.end() :]
        # The new sheet is the first and active one: tab indices move up by one.
        workbook = re.sub(
            r"(<workbookView\b[^>]*?)\s(activeTab|firstSheet)\s*=\s*(\"[^\"]*\"|'[^']*')",
            r"\1",
            workbook,
        )
        workbook = re.sub(
            r"(<workbookView\b[^>]*?)\s(activeTab|firstSheet)\s*=\s*(\"[^\"]*\"|'[^']*')",
            r"\1",
            workbook,
        )
        workbook = re.sub(
            r"""(\slocalSheetId\s*=\s*["'])(\d+)(["'])""",
            lambda m: f"{m.group(1)}{int(m.group(2)) + 1}{m.group(3)}",
            workbook,
        )
        self.parts["xl/workbook.xml"] = workbook.encode("utf-8")
        for other in self.sheets:
            xml = self.parts[other.part]
            if b"tabSelected" in xml:
                text = re.sub(
                    r"""(<sheetView\b[^>]*?)\stabSelected\s*=\s*("[^"]*"|'[^']*')""",
                    r"\1",
                    self.text(other.part),
                )
                self.parts[other.part] = text.encode("utf-8")
        self.sheets.insert(0, Sheet(name, part, True))

    def _sheet_xml(
        self,
        rows: dict[int, list[NewCell]],
        widths: list[float],
        frozen_rows: int,
        links: dict[str, str],
    ) -> str:
        body = []
        last_column = 1
        for r in sorted(rows):
            cells = []
            for c, cell in enumerate(rows[r], start=1):
                last_column = max(last_column, c)
                address = f"{column_letters(c)}{r}"
                style = f' s="{cell.style}"' if cell.style else ""
                value = cell.value
                if isinstance(value, str):
                    run = _text_run(value, checked=False) if value else ""
                    inner = f"<is>{run}</is>" if run else ""
                    cells.append(
                        f'<c r="{address}"{style} t="inlineStr">{inner}</c>'
                        if inner
                        else f'<c r="{address}"{style} t="inlineStr"/>'
                    )
                elif isinstance(value, bool) or value is None:
                    if value is not None:
                        raise NotPatchable("a boolean value")
                    cells.append(f'<c r="{address}"{style}/>')
                elif isinstance(value, int | float):
                    cells.append(f'<c r="{address}"{style} t="n"><v>{value!r}</v></c>')
                else:
                    raise NotPatchable(f"a value of type {type(value).__name__}")
            body.append(f'<row r="{r}">{"".join(cells)}</row>')
        last_row = max(rows, default=1)
        top = f"A{frozen_rows + 1}"
        pane = (
            f'<pane ySplit="{frozen_rows}" topLeftCell="{top}" activePane="bottomLeft" '
            'state="frozen"/><selection pane="bottomLeft" activeCell="A1" sqref="A1"/>'
            if frozen_rows
            else ""
        )
        cols = "".join(
            f'<col min="{c}" max="{c}" width="{w}" customWidth="1"/>'
            for c, w in enumerate(widths, start=1)
        )
        hyperlinks = "".join(
            f'<hyperlink ref="{ref}" location="{escape_attribute(location)}"/>'
            for ref, location in links.items()
        )
        xml = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
            f'<dimension ref="A1:{column_letters(last_column)}{last_row}"/>'
            f'<sheetViews><sheetView tabSelected="1" workbookViewId="0">{pane}</sheetView>'
            '</sheetViews><sheetFormatPr defaultRowHeight="15"/>'
            + (f"<cols>{cols}</cols>" if cols else "")
            + f"<sheetData>{''.join(body)}</sheetData>"
            + (f"<hyperlinks>{hyperlinks}</hyperlinks>" if hyperlinks else "")
            + '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" '
            'footer="0.5"/></worksheet>'
        )
        if _NOT_XML.search(xml):
            raise NotPatchable("text with characters XML cannot hold")
        return xml

    # --- writing ---------------------------------------------------------------------------

    def save(self, path: Path, author: str) -> None:
        """Write the package to `path`: the original's parts in their order, then new ones.
        A part this copy does not change keeps the original's compressed bytes; the others
        are compressed here. `path` is written in place: the caller renames it."""
        self._apply_marks(author)
        self._write_styles()
        kept = set(self.order)
        order = self.order + [n for n in self.parts if n not in kept]
        members = []
        for name in order:
            data, stored = self.parts[name], self._stored.get(name)
            if (
                stored is not None
                and data is self._originals.get(name)
                and stored.method in (zip_parts.STORED, zip_parts.DEFLATED)
            ):
                members.append(
                    zip_parts.Member(name, stored.method, [stored.data], stored.size, stored.crc)
                )
            else:
                members.append(_deflated(name, data))
        try:
            zip_parts.write(path, members, replace=False, hashed=False)
        except zip_parts.TooLarge as exc:
            raise NotPatchable(str(exc)) from exc


# The package-level parts a copy changes, compressed: many copies of one template's
# workbooks end with the same bytes in them (the same styles, types and relationships).
_SHARED_PARTS = frozenset(
    ("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
     "xl/styles.xml")
)  # fmt: skip
_DEFLATED: dict[tuple[str, bytes], tuple[bytes, int, int]] = {}
_DEFLATED_ENTRIES = 256


def _deflated(name: str, data: bytes) -> zip_parts.Member:
    """`zip_parts.Member.deflated`, compressed once for bytes already compressed here."""
    if name not in _SHARED_PARTS or len(data) > _UNPACKED_PART_BYTES:
        return zip_parts.Member.deflated(name, data)
    kept = _DEFLATED.get((name, data))
    if kept is None:
        member = zip_parts.Member.deflated(name, data)
        if len(_DEFLATED) >= _DEFLATED_ENTRIES:
            _DEFLATED.clear()
        _DEFLATED[(name, data)] = (member.pieces[0], member.size, member.crc)
        return member
    compressed, size, crc = kept
    return zip_parts.Member(name, zip_parts.DEFLATED, [compressed], size, crc)
