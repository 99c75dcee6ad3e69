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
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET
from xml.parsers import expat
from xml.sax import handler, make_parser
from xml.sax.saxutils import XMLGenerator

log = logging.getLogger(__name__)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
_ROW_OF_CELL = re.compile(r"(\d+)$")
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\b([^>]*)>")
_REFERENCE = re.compile(rb"\sr\s*=\s*[\"'][A-Za-z]{0,3}(\d+)[\"']")

# A sheet may reach this many rows beyond its last real value before it is trimmed.
EMPTY_TAIL_ROWS = 1000


class LimitExceeded(Exception):
    """A file past one of the configured limits: `rule` names which, `detail` says how far."""

    def __init__(self, rule: str, detail: str):
        super().__init__(f"{rule}: {detail}")
        self.rule, self.detail = rule, detail


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
                if "xl/workbook.xml" in names:
                    kind = "xlsx"
                elif "content.xml" in names and "mimetype" in names:
                    kind = "ods" if b"spreadsheet" in archive.read("mimetype")[:100] else "unknown"
                else:
                    kind = "unknown"
            except zipfile.BadZipFile:
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
        if head == OLE_MAGIC:
            # An encrypted .xlsx is an OLE container holding an `EncryptedPackage` stream.
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    if _ENCRYPTED_MARK in chunk:
                        return "encrypted"
            return "xls"
        return "unknown"


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
    """`xlsx`, `ods`, `xls`, `encrypted`, `empty`, `corrupt` (a damaged zip) or `unknown`."""
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


def _extent(
    archive: zipfile.ZipFile, member: str, blank: set[int], expanded_limit: int
) -> tuple[int, int]:
    """(last row with a real value, last row present) of one worksheet, streamed."""
    last_real = last_row = 0
    row_number = 0
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
                continue
            parents.pop()
            if tag == "c":
                # calamine places a cell by its own reference, whatever its row says.
                found = _ROW_OF_CELL.search(element.get("r") or "")
                cell_row = int(found.group(1)) if found else row_number
                last_row = max(last_row, cell_row)
                if _is_real(element, blank):
                    # The trim drops whole rows by their own number: keep this one's too.
                    last_real = max(last_real, cell_row, row_number)
                element.clear()
            elif tag == "row" and parents:
                parents[-1].remove(element)  # keep memory flat: drop finished rows
    return last_real, last_row


def _row_bound(archive: zipfile.ZipFile, member: str, expanded_limit: int) -> int:
    """An upper bound on the last row of one worksheet, from its row and cell references.

    A byte scan in C (zlib and regular expressions), several times cheaper than parsing the
    XML: a sheet this bound keeps short needs no trim and cannot pass the row limit.
    """
    highest = count = 0
    numbered = True
    carry = b""

    def scan(data: bytes) -> None:
        nonlocal highest, count, numbered
        numbers = _REFERENCE.findall(data)  # `r` of rows and of cells
        if numbers:
            highest = max(highest, max(map(int, numbers)))
        for attributes in _ROW_TAG.findall(data):
            count += 1
            numbered = numbered and _REFERENCE.search(attributes) is not None

    with archive.open(member) as raw:
        stream = _Counted(raw, expanded_limit, member)
        while data := stream.read(1 << 20):
            data = carry + data
            # Scan whole tags only: from the last `<` on, the text waits for the next read
            # (a `>` may sit inside an attribute value, so it cannot tell where a tag ends).
            cut = data.rfind(b"<")
            scan(data[:cut] if cut >= 0 else data)
            carry = data[cut:] if cut >= 0 else b""
        scan(carry)
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
    """Copies a worksheet's XML, leaving out every row (and cell) below `keep` and the
    dimension."""

    def __init__(self, out, keep: int):
        super().__init__()
        self.out = XMLGenerator(out, "utf-8", short_empty_elements=True)
        self.keep = keep
        self.skipping = 0
        self.row = 0

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
            if self.row > self.keep:
                self.skipping = 1
                return
        if local == "c":
            found = _ROW_OF_CELL.search(attrs.get((None, "r")) or "")
            if found and int(found.group(1)) > self.keep:  # a stray cell in a kept row
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


def _trim_sheet(archive: zipfile.ZipFile, member: str, keep: int, target: zipfile.ZipFile) -> None:
    parser = make_parser()  # noqa: S317  external entities off by default; expat limits expansion
    parser.setFeature(handler.feature_namespaces, True)
    parser.setFeature(handler.feature_external_ges, False)
    with archive.open(member) as source, target.open(member, "w") as out:
        parser.setContentHandler(_RowFilter(out, keep))
        parser.parse(source)


def _big_reference(short: int) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """`_REFERENCE` for the numbers that may pass `short` only (as many digits or more), and
    the same for references written `r="…"` only (led by a literal: several times faster)."""
    found = _BIG_REFERENCES.get(short)
    if found is None:
        digits = len(str(short)) - 1
        number = rb"[A-Za-z]{0,3}0*([1-9]\d{%d,})" % digits
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


class _Reach:
    """What one byte scan of a worksheet says: whether its row bound passes `short`, that
    bound, the last bytes of its XML, and whether it holds no `<!` (comment, CDATA, DTD)."""

    def __init__(self, long: bool, bound: int, tail: bytes, plain: bool):
        self.long, self.bound, self.tail, self.plain = long, bound, tail, plain


def _reach(archive: zipfile.ZipFile, member: str, expanded_limit: int, short: int) -> _Reach:
    """`_row_bound(...) > short`, found by looking only at the numbers past `short` (most
    sheets have none: nothing to convert), and the sheet's tail for `_last_real_in`.

    Rows without a number need the full count: the exact `_row_bound` then answers.
    """
    big, fast = _big_reference(short)
    highest = 0
    numbered = plain = True
    carry = tail = b""

    def scan(data: bytes) -> None:
        nonlocal highest, numbered, plain
        # Every reference written `r="…"` and every row tag `<row r="` and a number: two
        # literal-led patterns tell the numbers and the rows. Any other spelling: the exact
        # patterns.
        usual = b":row" not in data and _LOOSE_R.search(data) is None
        numbers = (fast if usual else big).findall(data)
        if numbers:
            highest = max(highest, max(map(int, numbers)))
        if numbered and not (usual and _ODD_ROW.search(data) is None):
            numbered = _UNNUMBERED_ROW.search(data) is None
        if plain and b"!" in data and b"<!" in data:  # `!` alone: one memchr
            plain = False

    with archive.open(member) as raw:
        stream = _Counted(raw, expanded_limit, member)
        while piece := stream.read(1 << 20):
            tail = (
                piece[-_TAIL_BYTES:] if len(piece) >= _TAIL_BYTES else (tail + piece)[-_TAIL_BYTES:]
            )
            data = carry + piece
            cut = data.rfind(b"<")  # whole tags only, as `_row_bound` scans
            scan(data[:cut] if cut >= 0 else data)
            carry = data[cut:] if cut >= 0 else b""
        scan(carry)
    if not numbered:
        highest = _row_bound(archive, member, expanded_limit)
    return _Reach(highest > short, highest, tail, plain)


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
    carry = b""
    with archive.open(member) as raw:
        stream = _Counted(raw, expanded_limit, member)
        while piece := stream.read(1 << 20):
            data = carry + piece
            cut = data.rfind(b"<")
            if _unusual(data[:cut] if cut >= 0 else data):
                return False
            carry = data[cut:] if cut >= 0 else b""
            try:
                parser.Parse(piece, False)
            except expat.ExpatError:
                return False
        if _unusual(carry):
            return False
        try:
            parser.Parse(b"", True)
        except expat.ExpatError:
            return False
    return True


def bounded(
    path: Path | Package,
    work_dir: Path,
    max_rows: int = 200_000,
    expanded_limit: int = 500 << 20,
) -> Path:
    """`path`, or a copy in `work_dir` whose sheets end at their last real row.

    Raises LimitExceeded for a sheet with more than `max_rows` real rows or a file that
    unpacks past `expanded_limit`, before python-calamine ever holds it. Given a `Package`,
    it uses that package's open archive and leaves it open.
    """
    package = _package(path)
    try:
        return _bounded(package, work_dir, max_rows, expanded_limit)
    finally:
        if package is not path:
            package.close()


def _bounded(package: Package, work_dir: Path, max_rows: int, expanded_limit: int) -> Path:
    path = package.path
    check_archive(package, expanded_limit)
    if package.kind == "ods":
        _check_ods_rows(package, max_rows, expanded_limit)
        return path
    if package.kind != "xlsx":
        return path
    archive = package.archive
    if archive is None:  # an .xlsx always has one
        return path
    sheets = [n for n in package.names if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n)]
    short = min(EMPTY_TAIL_ROWS, max_rows)
    # Most sheets end early: their row tags alone show no trim and no limit can apply.
    reaches = {m: _reach(archive, m, expanded_limit, short) for m in sheets}
    long = [m for m in sheets if reaches[m].long]
    blank: set[int] | None = None
    strings_plain = _STRINGS not in package.names
    trims = {}
    for member in long:
        reach = reaches[member]
        # A real value near the end, within the empty tail's allowance of the bound:
        # no trim, and no more rows than the bound (the whole parse is then not needed).
        if reach.plain and reach.bound <= max_rows:
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
        last_real, last_row = _extent(archive, member, blank, expanded_limit)
        if last_real > max_rows:
            raise LimitExceeded("too_many_rows", f"{member}: {last_real} rows")
        if last_row > last_real + EMPTY_TAIL_ROWS:
            trims[member] = last_real
    if not trims:
        return path
    work_dir.mkdir(parents=True, exist_ok=True)
    copy = work_dir / f"bounded-{path.stem}.xlsx"
    with zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as target:
        for info in archive.infolist():
            if info.filename in trims:
                _trim_sheet(archive, info.filename, trims[info.filename], target)
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


def ods_merged_ranges(
    path: Path | Package, expanded_limit: int = 500 << 20
) -> dict[str, list[Merge]]:
    """The cells an .ods file merges (over several rows or several columns), by sheet
    name, as python-calamine gives them for .xlsx and .xls: ((first row, first column),
    (last row, last column)), 0-based. calamine does not read an .ods file's merges; its
    content.xml says them (`table:number-rows-spanned`, `-columns-spanned`), and counts
    repeated rows and cells."""
    merges: dict[str, list[Merge]] = {}
    with _zip(path) as archive, archive.open("content.xml") as raw:
        stream = _Counted(raw, expanded_limit, "content.xml")
        sheet: list[Merge] = []
        row = column = depth = 0  # depth: tables nested in a cell are not the sheet's
        for event, element in ET.iterparse(stream, events=("start", "end")):  # noqa: S314  expat refuses external entities and entity blow-up
            tag = _local(element.tag)
            attributes = {_local(k): v for k, v in element.attrib.items()}
            if event == "start":
                if tag == "table":
                    depth += 1
                    if depth == 1:
                        sheet = merges.setdefault(attributes.get("name", ""), [])
                        row = 0
                elif depth == 1 and tag == "table-row":
                    column = 0
                elif depth == 1 and tag in ("table-cell", "covered-table-cell"):
                    spanned = int(attributes.get("number-rows-spanned", 1))
                    across = int(attributes.get("number-columns-spanned", 1))
                    if tag == "table-cell" and (spanned > 1 or across > 1):
                        sheet.append(((row, column), (row + spanned - 1, column + across - 1)))
                    column += int(attributes.get("number-columns-repeated", 1))
                continue
            if tag == "table":
                depth -= 1
            elif depth == 1 and tag == "table-row":
                row += int(attributes.get("number-rows-repeated", 1))
                element.clear()
    return {name: ranges for name, ranges in merges.items() if ranges}


def _check_ods_rows(path: Path | Package, max_rows: int, expanded_limit: int) -> None:
    """Count an .ods file's real rows (repeated rows included) without expanding them."""
    with _zip(path) as archive, archive.open("content.xml") as raw:
        stream = _Counted(raw, expanded_limit, "content.xml")
        rows, has_value = 0, False
        for event, element in ET.iterparse(stream, events=("start", "end")):  # noqa: S314  expat refuses external entities and entity blow-up
            tag = _local(element.tag)
            if event == "start":
                if tag == "table":
                    rows = 0
                elif tag == "table-row":
                    has_value = False
                continue
            if tag == "table-cell" and (
                any(_local(k) == "value" for k in element.attrib)
                or (element.text or "").strip()
                or any(_local(c.tag) == "p" and "".join(c.itertext()).strip() for c in element)
            ):
                has_value = True
            elif tag == "table-row":
                if has_value:
                    repeated = next(
                        (int(v) for k, v in element.attrib.items()
                         if _local(k) == "number-rows-repeated"), 1
                    )  # fmt: skip
                    rows += repeated
                    if rows > max_rows:
                        raise LimitExceeded("too_many_rows", f"content.xml: over {max_rows} rows")
                element.clear()
