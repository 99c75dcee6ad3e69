"""Writes DuckDB tables to one .xlsx workbook, the sheet XML built set-based by DuckDB.

A cell-by-cell writer (xlsxwriter) spends about 5 µs of Python on each cell: 9 s for the
officials' workbook of the national corpus, two million cells. Here one SQL statement a
sheet turns every row into its `<row>` element, so Python only zips the result.

What the workbook holds:
- text as inline strings, never formulas: a value starting with `=`, `+`, `-` or `@` stays
  text; control characters are escaped as Excel escapes them (`_x000D_`); at most 32,767
  characters a cell;
- numbers with a format by column: ratios (`growth`, `cagr`) as percentages, `*_mvnd`
  money with one decimal, a year (`is_year`) as it is, other whole numbers with thousands
  separators; NaN and infinities are left empty; an identifier (`*_id`, such as a file_id)
  is its digits as text, since a number in Excel keeps only 15 of its 18;
- dates as Excel dates (`dd/mm/yyyy`), booleans as `Có` / `Không`, NULL as an empty cell;
- a code of a column its sheet maps (`Sheet.values`) as the text the map gives it (a
  chunk's key holds the map: a chunk written under another map is not reused);
- a bold, shaded header row that stays in view (frozen), and one column width.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from etl.outputs import zip_parts

MAX_CELL_CHARS = 32_767
COLUMN_WIDTH = 16
HEADER_HEIGHT = 45

# Cell styles (indices into styles.xml's cellXfs).
HEAD, MONEY, INT, RATIO, DATE = 1, 2, 3, 4, 5
RATIO_COLUMNS = ("growth", "cagr")
# A year is a label, not a quantity: `2021`, never `2,021`. A column is a year when it is
# named `year`, or `*_year` after words that only say which year (`report_year`,
# `phase_first_year`); `members_first_year` counts members in a year.
YEAR_WORDS = frozenset(
    {"baseline", "first", "founded", "last", "latest", "phase", "report", "reported"}
)

_NUMERIC = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL",
)  # fmt: skip
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Text as Excel stores it (as xlsxwriter does): control characters other than tab and line
# feed become `_xHHHH_`, and text that already looks like such an escape gets its `_`
# escaped (`_x005F`), so that Excel gives back exactly what was written. U+FFFE and U+FFFF,
# which XML cannot carry at all, are dropped.
_CONTROL_CODES = [*range(0x00, 0x09), *range(0x0B, 0x20)]
_ESCAPE_LIKE = "(_x[0-9A-Fa-f]{4}_)"
_NEEDS_ESCAPES = "_x[0-9A-Fa-f]{4}_|[\\x00-\\x08\\x0B-\\x1F\\x{FFFE}\\x{FFFF}]"  # RE2
_CONTROL_PY = re.compile("[\x00-\x08\x0b-\x1f]")
_NONCHARACTERS_PY = re.compile("[\ufffe\uffff]")


@dataclass(frozen=True)
class Sheet:
    """A sheet: its title, and either a table of the connection or literal rows of text."""

    title: str
    table: str | None = None  # schema.table; its rows in insertion order
    labels: dict[str, str] | None = None  # column -> header text
    # column -> code -> what a cell shows in its place (a code an official would not read)
    values: dict[str, dict[str, str]] | None = None
    rows: tuple[tuple[str, ...], ...] = ()  # literal text rows (when `table` is None)
    widths: tuple[float, ...] = ()  # literal sheets: per column; tables: COLUMN_WIDTH
    title_row: str | None = None  # literal sheets: a bold first row


def is_year(name: str) -> bool:
    """Whether the column `name` holds a year (`YEAR_WORDS`), shown without separators."""
    *which, last = name.split("_")
    return last == "year" and set(which) <= YEAR_WORDS


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def write_workbook(con, path: Path, sheets: list[Sheet], reuse: Reuse | None = None) -> dict | None:
    """Write `sheets` to `path` (replaced whole: written beside it, then renamed).

    A table's rows are written in chunks of about `CHUNK_ROWS`, each compressed on its own
    and known by a key of what it shows (`_chunks`: its rows, in order, the columns and this
    writer's code). Where a chunk starts depends on its rows alone: a row starts one when its
    hash says so, and the XML of a row does not hold its number (`<row>` and `<c>` without
    `r`: cells in order, an empty `<c/>` for NULL). So rows inserted or deleted change the
    chunk they fall in, not the chunks after them. Returns the file's parts: its SHA-256 and
    where each chunk's compressed bytes are in it. Given `reuse` (an earlier workbook and the
    parts this returned for it), a chunk whose key is among them is copied from that file as
    it is instead of being built and compressed again: one changed unit-year rewrites a chunk,
    not the workbook. The file is the same either way, byte for byte.
    Returns None when the workbook is too large for a plain zip (written whole by
    zipfile's zip64; nothing to reuse next time).

    In three steps, which `etl.outputs.exports` runs apart to build the chunks in forked
    processes: `prepare_workbook` (what each sheet holds, the chunks to build), the chunks
    built (`render_part`), `assemble` (the file from both).
    """
    prepared = prepare_workbook(con, sheets, reuse)
    fresh = {
        number: _render_chunks(con, plan.sheet, plan.columns, plan.spans_of(plan.missing))
        for number, plan in prepared.tables.items()
    }
    try:
        return assemble(path, prepared, fresh)
    except zip_parts.TooLarge:
        _write_whole(con, path, sheets)
        return None


@dataclass
class TablePlan:
    """A table sheet to write: its columns, its head, its chunks' keys in order and where
    each starts (row index from 0, in row order) and how many rows it holds, the chunks an
    earlier workbook holds (by index) and those to build."""

    sheet: Sheet
    columns: list
    head: zip_parts.Segment
    keys: list[str]
    spans: list[tuple[int, int]]
    reused: dict[int, zip_parts.Segment]
    missing: list[int]

    def spans_of(self, chunks: list[int]) -> list[Span]:
        return [Span(i, *self.spans[i]) for i in chunks]


@dataclass(frozen=True)
class Span:
    """A chunk to build: its index, its first row's index (from 0, in row order), its rows."""

    chunk: int
    start: int
    rows: int


@dataclass
class Prepared:
    """A workbook ready to write but for the chunks of rows still to build."""

    sheets: list[Sheet]
    tables: dict[int, TablePlan]  # by sheet number (from 1)


@dataclass(frozen=True)
class Part:
    """Chunks of one table sheet to build (picklable: built in another process)."""

    number: int  # the sheet's
    sheet: Sheet
    columns: list
    spans: list[Span]


def prepare_workbook(con, sheets: list[Sheet], reuse: Reuse | None = None) -> Prepared:
    """Each table sheet's head, chunk keys and which chunks `reuse` holds."""
    earlier = _reusable(reuse)
    code = _writer_code()
    tables = {}
    for number, sheet in enumerate(sheets, start=1):
        if sheet.table:
            columns = con.execute(f"describe {sheet.table}").fetchall()
            head = zip_parts.segment(_sheet_head(con, sheet, columns).encode())
            chunks = _chunks(con, str(sheet.table), columns, code, _shown(sheet, columns))
            keys = [key for key, _, _ in chunks]
            spans = [(start, rows) for _, start, rows in chunks]
            reused = {i: earlier[key] for i, key in enumerate(keys) if key in earlier}
            missing = [i for i in range(len(keys)) if i not in reused]
            tables[number] = TablePlan(sheet, columns, head, keys, spans, reused, missing)
    return Prepared(sheets, tables)


def parts_to_render(prepared: Prepared, chunks_per_part: int) -> list[Part]:
    """The chunks still to build, as parts of at most `chunks_per_part` chunks (a sheet
    built whole stays one part unless it has more), largest first."""
    parts = []
    for number, plan in prepared.tables.items():
        if not plan.missing:
            continue
        for start in range(0, len(plan.missing), chunks_per_part):
            spans = plan.spans_of(plan.missing[start : start + chunks_per_part])
            parts.append(Part(number, plan.sheet, plan.columns, spans))
    return sorted(parts, key=lambda part: -sum(s.rows for s in part.spans) * len(part.columns))


def render_part(con, part: Part) -> tuple[int, dict[int, zip_parts.Segment]]:
    """The part's chunks, built and compressed: (its sheet's number, chunk -> segment)."""
    return part.number, _render_chunks(con, part.sheet, part.columns, part.spans)


def assemble(
    path: Path, prepared: Prepared, fresh: dict[int, dict[int, zip_parts.Segment]]
) -> dict:
    """Write the workbook from the chunks reused and those built (`fresh`, by sheet number
    then chunk); returns its parts (as `write_workbook`). Raises `zip_parts.TooLarge` when
    it needs zip64 (then `_write_whole` writes it)."""
    members: list[zip_parts.Member] = []
    chunks: dict[str, list[tuple[str, int, zip_parts.Segment]]] = {}
    sheets = prepared.sheets
    for number, sheet in enumerate(sheets, start=1):
        member = f"xl/worksheets/sheet{number}.xml"
        plan = prepared.tables.get(number)
        if plan is not None:
            built = fresh.get(number, {})
            segments, keyed = [plan.head], []
            position = len(plan.head.data)
            for i, key in enumerate(plan.keys):
                piece = plan.reused.get(i) or built[i]
                segments.append(piece)
                keyed.append((key, position, piece))
                position += len(piece.data)
            segments.append(zip_parts.segment(_SHEET_END.encode()))
            members.append(zip_parts.Member.of_segments(member, segments))
            chunks[member] = keyed
        else:
            members.append(zip_parts.Member.deflated(member, _literal_sheet(sheet).encode()))
    for name, text in (
        ("[Content_Types].xml", _content_types(len(sheets))),
        ("_rels/.rels", _ROOT_RELS),
        ("xl/workbook.xml", _workbook(sheets)),
        ("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets))),
        ("xl/styles.xml", _STYLES),
    ):
        members.append(zip_parts.Member.deflated(name, text.encode()))
    written = zip_parts.write(path, members)
    parts = {}
    for member, keyed in chunks.items():
        for key, position, piece in keyed:
            start = written.offsets[member] + position
            parts[key] = [start, len(piece.data), piece.size, piece.crc]
    return {"format": PARTS_FORMAT, "sha256": written.sha256, "chunks": parts}


@dataclass(frozen=True)
class Reuse:
    """An earlier workbook of `write_workbook` and the parts it returned for it."""

    path: Path
    parts: dict | None


# Rows a chunk holds on average: what one changed row costs to write again.
CHUNK_ROWS = 1_000
PARTS_FORMAT = 2


def _reusable(reuse: Reuse | None) -> dict[str, zip_parts.Segment]:
    """The earlier workbook's compressed chunks by key, if its parts describe that very
    file (its SHA-256); else none."""
    parts = reuse.parts if reuse is not None else None
    if not isinstance(parts, dict) or parts.get("format") != PARTS_FORMAT:
        return {}
    found = {}
    try:
        with reuse.path.open("rb") as handle:  # type: ignore[union-attr]
            digest = hashlib.sha256()
            while block := handle.read(1 << 20):
                digest.update(block)
            if digest.hexdigest() != parts.get("sha256"):
                return {}
            for key, (start, length, size, crc) in parts.get("chunks", {}).items():
                handle.seek(start)
                data = handle.read(length)
                if len(data) == length:
                    found[key] = zip_parts.Segment(data, size, crc)
    except OSError:
        return {}
    return found


def _writer_code() -> str:
    """What shapes a chunk's bytes besides its rows: this module, the zip writer, DuckDB's
    casts, zlib's compression."""
    import duckdb

    digest = hashlib.sha256(f"{duckdb.__version__}|{zlib.ZLIB_RUNTIME_VERSION}".encode())
    for module in (Path(__file__), Path(zip_parts.__file__)):
        digest.update(module.read_bytes())
    return digest.hexdigest()


def _shown(sheet: Sheet, columns: list) -> dict[str, dict[str, str]]:
    """The value maps of `sheet` (`Sheet.values`) for the columns it has."""
    values = sheet.values or {}
    return {name: values[name] for name, *_ in columns if name in values}


def _chunks(
    con, table: str, columns: list, code: str, shown: dict[str, dict[str, str]] | None = None
) -> list[tuple[str, int, int]]:
    """The table's chunks in row order: each one's key, first row (index from 0) and rows.

    A row starts a chunk when it is the first, or when its hash is a multiple of
    `CHUNK_ROWS` (one row in `CHUNK_ROWS` on average): where chunks end depends on the rows
    themselves, not on their numbers. A key is of the chunk's rows' values in order (DuckDB's
    hash of each row; -0.0 told from 0.0), the columns' names and types, the session's time
    zone, the writer's code and what the cells show in place of codes (`shown`)."""
    floats = [
        '"' + name.replace('"', '""') + '"'
        for name, kind, *_ in columns
        if kind.split("(")[0].upper() in ("FLOAT", "DOUBLE", "REAL")
    ]
    signs = f", [{', '.join(f'signbit({c})' for c in floats)}] as s" if floats else ""
    index, _ = _row_index(con, table)
    rows = con.execute(
        f"""
        select chunk, min(n), count(*), md5(string_agg(h::varchar, ',' order by n))
        from (
            select n, h,
                sum((n = 0 or h % {CHUNK_ROWS} = 0)::int)
                    over (order by n rows unbounded preceding) - 1 as chunk
            from (
                select n, hash(t{", s" if floats else ""}) as h
                from (
                    select {index} as n, t{signs}
                    from {table} t
                )
            )
        )
        group by chunk
        order by chunk
        """  # noqa: S608  the sheet's table and column names are the project's own
    ).fetchall()
    # A timestamp with time zone is written in the session's zone.
    zone = con.execute("select current_setting('TimeZone')").fetchone()[0]
    columns_shown = [
        (name, kind, sorted((shown or {}).get(name, {}).items())) for name, kind, *_ in columns
    ]
    base = repr((code, zone, columns_shown))
    return [
        (hashlib.sha256(f"{base}|{count}|{digest}".encode()).hexdigest()[:40], start, count)
        for _, start, count, digest in rows
    ]


def _row_index(con, table: str) -> tuple[str, int]:
    """The SQL of a row's index (from 0, in row order) in `table`, and its rows. Where the
    row ids are consecutive (a table created whole; or emptied and filled again in one
    insert, as an incremental build does `marts.cooperative_scorecard`), the index is the
    id less the first: no window sorting every row of every column; only the wanted
    chunks' rows are read."""
    first, last, count = con.execute(
        f"select min(rowid), max(rowid), count(*) from {table}"  # noqa: S608  the sheet's table is the project's own
    ).fetchone()
    if count and last - first == count - 1:
        return (f"rowid - {first}" if first else "rowid"), count
    return "row_number() over (order by rowid) - 1", count


def _render_chunks(
    con, sheet: Sheet, columns: list, spans: list[Span]
) -> dict[int, zip_parts.Segment]:
    """The `<row>` elements of the chunks `spans`, each compressed as a segment."""
    if not spans:
        return {}
    spans = sorted(spans, key=lambda span: span.start)
    index, count = _row_index(con, str(sheet.table))
    every = sum(span.rows for span in spans) == count
    numbered = f"select *, {index} as __xlsx_n from {sheet.table}"  # noqa: S608  the sheet's table is the project's own
    wanted = (
        ""
        if every
        else " or ".join(
            f"(__xlsx_n >= {span.start} and __xlsx_n < {span.start + span.rows})" for span in spans
        )
    )
    where = f"where {wanted}" if wanted else ""
    shown = _shown(sheet, columns)
    texts: list[list[str]] = [[] for _ in spans]
    escaped: dict[int, tuple[int, int]] = {}  # row -> where its text is in `texts`
    at = 0
    with _planned_plainly(con):
        plain, needs = _row_sql(columns, shown, escapes=False), _needs_escapes_sql(columns, shown)
        cursor = con.execute(
            f"""
            select __xlsx_n, {plain}, {needs}
            from ({numbered}) t
            {where}
            order by __xlsx_n
            """  # noqa: S608  the sheet's table and cell expressions are the project's own
        )
        while rows := cursor.fetchmany(ROWS_PER_WRITE):
            for n, text, escapes in rows:
                while n >= spans[at].start + spans[at].rows:  # the rows of a chunk end
                    at += 1
                if escapes:
                    escaped[n] = (at, len(texts[at]))
                texts[at].append(text)
        if escaped:
            _build_escaped(con, numbered, wanted, columns, shown, escaped, texts)
    return {
        span.chunk: zip_parts.segment("".join(rows).encode())
        for span, rows in zip(spans, texts, strict=True)
    }


def _build_escaped(
    con,
    numbered: str,
    wanted: str,
    columns: list,
    shown: dict[str, dict[str, str]],
    escaped: dict[int, tuple[int, int]],
    texts: list[list[str]],
) -> None:
    """The rows `escaped` (those `wanted` whose text needs escapes; `wanted` empty: of the
    whole table) built again with the escapes, in place in `texts` (by chunk, then row)."""
    needs = _needs_escapes_sql(columns, shown)
    cursor = con.execute(
        f"""
        select __xlsx_n, {_row_sql(columns, shown)}
        from ({numbered}) t
        where {f"({wanted}) and ({needs})" if wanted else needs}
        """  # noqa: S608  the sheet's table and cell expressions are the project's own
    )
    built = 0
    while rows := cursor.fetchmany(ROWS_PER_WRITE):
        for n, text in rows:
            chunk, row = escaped[n]
            texts[chunk][row] = text
            built += 1
    if built != len(escaped):
        raise RuntimeError(f"{len(escaped)} rows needed escapes, {built} were built again")


# DuckDB's optimizer pass that looks for expressions computed twice in one statement.
_CSE = "common_subexpressions"


@contextmanager
def _planned_plainly(con) -> Iterator[None]:
    """Statements on `con` planned without `_CSE`, then the connection's setting back.

    A row's SQL repeats each cell's cast (`x::double` four times, a text's `left(...)`
    three) inside deep expressions (a text's 30 escapes of control characters): that pass
    spends 0.1 s on a sheet of 37 columns, more than its rows take to build when only a
    chunk changed, and saves nothing measurable on a whole sheet. The rows are the same
    either way: it only decides what is computed once."""
    before = con.execute("select current_setting('disabled_optimizers')").fetchone()[0]
    off = [name for name in before.split(",") if name]
    if _CSE in off:
        yield
        return
    con.execute(f"set disabled_optimizers = {_literal(','.join([*off, _CSE]))}")
    try:
        yield
    finally:
        con.execute(f"set disabled_optimizers = {_literal(before)}")


def _write_whole(con, path: Path, sheets: list[Sheet]) -> None:
    """The workbook written by zipfile, streamed, zip64 where needed: for a workbook past
    what a plain zip holds."""
    temporary = path.with_name(f".{path.name}.tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for number, sheet in enumerate(sheets, start=1):
            member = f"xl/worksheets/sheet{number}.xml"
            if sheet.table:
                with archive.open(member, "w", force_zip64=True) as out:
                    _write_table_sheet(con, sheet, out)
            else:
                archive.writestr(member, _literal_sheet(sheet))
        archive.writestr("[Content_Types].xml", _content_types(len(sheets)))
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _workbook(sheets))
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        archive.writestr("xl/styles.xml", _STYLES)
    temporary.replace(path)


# Rows fetched from DuckDB and written at a time: memory stays flat however long the table.
ROWS_PER_WRITE = 5_000


def _sheet_head(con, sheet: Sheet, columns: list) -> str:
    """A table sheet's XML up to its first data row: the dimension, the frozen header."""
    names = [c[0] for c in columns]
    labels = sheet.labels or {}
    header = "".join(
        _text_cell(f"{column_letter(i)}1", labels.get(name, name), HEAD)
        for i, name in enumerate(names)
    )
    count = con.execute(f"select count(*) from {sheet.table}").fetchone()[0]  # noqa: S608  the sheet's table is the project's own
    last = f"{column_letter(max(len(names) - 1, 0))}{count + 1}"
    return (
        f'{_HEAD}<worksheet {_NS} {_REL_NS}><dimension ref="A1:{last}"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/>'
        '</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
        f'<cols><col min="1" max="{max(len(names), 1)}" '
        f'width="{COLUMN_WIDTH + 0.7109375}" customWidth="1"/></cols><sheetData>'
        f'<row r="1" ht="{HEADER_HEIGHT}" customHeight="1">{header}</row>'
    )


def _row_sql(
    columns: list, shown: dict[str, dict[str, str]] | None = None, escapes: bool = True
) -> str:
    """SQL for a data row's `<row>` element: no row number, cells in order (`_cell_sql`);
    a column of `shown` shows its codes' text in their place. One `concat` of the cells,
    not a chain of `||`, which copies the row so far at each cell (0.5 s of 1.2 s for a
    sheet of 35,000 rows of 37 columns); no cell is ever NULL, which `concat` would skip.
    Without `escapes`, text cells as `_cell_sql` writes them when no escape is needed: for
    the rows `_needs_escapes_sql` says need none."""
    shown = shown or {}
    cells = [_cell_sql(name, kind, shown.get(name), escapes) for name, kind, *_ in columns]
    return "concat(" + ", ".join(["'<row>'", *cells, "'</row>'"]) + ")"


def _write_table_sheet(con, sheet: Sheet, out) -> None:
    columns = con.execute(f"describe {sheet.table}").fetchall()
    out.write(_sheet_head(con, sheet, columns).encode())
    cursor = con.execute(
        f"""
        select {_row_sql(columns, _shown(sheet, columns))}
        from {sheet.table} t
        order by rowid
        """  # noqa: S608  the sheet's table and cell expressions are the project's own
    )
    while rows := cursor.fetchmany(ROWS_PER_WRITE):
        out.write("".join(row[0] for row in rows).encode())
    out.write(_SHEET_END.encode())


def _cell_sql(
    name: str, kind: str, shown: dict[str, str] | None = None, escapes: bool = True
) -> str:
    """SQL for one cell of a row: its `<c>` element, without its reference (cells are in
    column order), or an empty `<c/>` where the value is NULL or not finite. A text column
    with `shown` shows each code's text in its place (a code it lacks: as written). Without
    `escapes`, a text cell is written as it is when it needs no escapes (`_NEEDS_ESCAPES`):
    the caller builds the rows that need some with them (`_needs_escapes_sql`)."""
    column = _shown_column(name, kind, shown)
    ref = "'<c"
    base = kind.split("(")[0].upper()
    if base == "BOOLEAN":
        text = f"case when {column} then 'Có' when not {column} then 'Không' end"  # NULL: empty

        value = f"{ref} t=\"inlineStr\"><is><t>' || {text} || '</t></is></c>'"
        return f"coalesce({value}, '<c/>')"
    if _is_number(name, base):
        number = f"{column}::double"
        if any(part in name for part in RATIO_COLUMNS):
            style = f"'{RATIO}'"
        elif name.endswith("_mvnd"):
            style = f"'{MONEY}'"
        elif is_year(name):
            style = "'0'"  # General
        else:
            style = f"case when {number} = trunc({number}) then '{INT}' else '{MONEY}' end"
        value = f"{ref} s=\"' || {style} || '\"><v>' || {number}::varchar || '</v></c>'"
        return f"case when isfinite({number}) then {value} else '<c/>' end"
    # Excel's serial days count a 29 February 1900 that never was: one less before March.
    if base == "DATE":
        serial = (
            f"date_diff('day', date '1899-12-30', {column}) - ({column} < date '1900-03-01')::int"
        )
        return f"coalesce({ref} s=\"{DATE}\"><v>' || {serial} || '</v></c>', '<c/>')"
    if base.startswith("TIMESTAMP"):
        moment = f"{column}::timestamp"
        serial = (
            f"(epoch({moment}) - epoch(timestamp '1899-12-30')) / 86400.0 "
            f"- ({moment} < timestamp '1900-03-01')::int"
        )
        return f"coalesce({ref} s=\"{DATE}\"><v>' || {serial} || '</v></c>', '<c/>')"
    text = _text_sql(column)
    if escapes:
        escaped = f"regexp_replace({text}, '{_ESCAPE_LIKE}', '_x005F\\1', 'g')"
        for code in _CONTROL_CODES:
            escaped = f"replace({escaped}, chr({code}), '_x{code:04X}_')"
        escaped = f"regexp_replace({escaped}, '[\\x{{FFFE}}\\x{{FFFF}}]', '', 'g')"
        text = (
            f"case when regexp_matches({text}, '{_NEEDS_ESCAPES}') then {escaped} else {text} end"
        )
    text = f"replace(replace(replace({text}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"
    value = f'{ref} t="inlineStr"><is><t xml:space="preserve">\' || {text} || \'</t></is></c>\''
    return f"coalesce({value}, '<c/>')"


def _shown_column(name: str, kind: str, shown: dict[str, str] | None) -> str:
    """The column `name` quoted; a text column with `shown`: each code's text in its place."""
    column = '"' + name.replace('"', '""') + '"'
    if shown and kind.split("(")[0].upper() == "VARCHAR":
        cases = " ".join(f"when {_literal(c)} then {_literal(t)}" for c, t in shown.items())
        column = f"(case {column} {cases} else {column} end)"
    return column


def _is_number(name: str, base: str) -> bool:
    """Whether a column of type `base` is written as a number. An identifier is not a
    quantity: as a number it would lose digits (Excel keeps 15)."""
    return (base in _NUMERIC or base == "DECIMAL") and not name.endswith("_id")


def _is_text(name: str, base: str) -> bool:
    """Whether a column of type `base` is written as text (the last case of `_cell_sql`)."""
    special = base in ("BOOLEAN", "DATE") or base.startswith("TIMESTAMP")
    return not special and not _is_number(name, base)


def _text_sql(column: str) -> str:
    """The text a text cell of `column` holds, before its escapes."""
    return f"left({column}::varchar, {MAX_CELL_CHARS})"


def _needs_escapes_sql(columns: list, shown: dict[str, dict[str, str]] | None = None) -> str:
    """SQL true for a row where the text of one of its text cells needs escapes (what
    `_cell_sql` tests of each): the texts joined by line feeds, which no escape holds or
    needs, are tested at once."""
    shown = shown or {}
    texts = [
        _text_sql(_shown_column(name, kind, shown.get(name)))
        for name, kind, *_ in columns
        if _is_text(name, kind.split("(")[0].upper())
    ]
    if not texts:
        return "false"
    joined = f"concat_ws(chr(10), {', '.join(texts)})"
    return f"coalesce(regexp_matches({joined}, '{_NEEDS_ESCAPES}'), false)"


def _text_cell(ref: str, text: str, style: int = 0) -> str:
    clean = re.sub(_ESCAPE_LIKE, r"_x005F\1", text[:MAX_CELL_CHARS])
    clean = _CONTROL_PY.sub(lambda found: f"_x{ord(found.group()):04X}_", clean)
    clean = _NONCHARACTERS_PY.sub("", clean)
    styled = f' s="{style}"' if style else ""
    return (
        f'<c r="{ref}"{styled} t="inlineStr"><is><t xml:space="preserve">'
        f"{escape(clean)}</t></is></c>"
    )


def _literal(text: str) -> str:
    """A SQL string literal of `text`."""
    return "'" + text.replace("'", "''") + "'"


def _literal_sheet(sheet: Sheet) -> str:
    rows = []
    if sheet.title_row is not None:
        rows.append(f'<row r="1">{_text_cell("A1", sheet.title_row, HEAD)}</row>')
    start = 3 if sheet.title_row is not None else 1
    for r, values in enumerate(sheet.rows, start=start):
        cells = "".join(
            _text_cell(f"{column_letter(c)}{r}", value) for c, value in enumerate(values) if value
        )
        rows.append(f'<row r="{r}">{cells}</row>')
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{w + 0.7109375}" customWidth="1"/>'
        for i, w in enumerate(sheet.widths, start=1)
    )
    return (
        f'{_HEAD}<worksheet {_NS} {_REL_NS}><sheetViews><sheetView workbookViewId="0" '
        'tabSelected="1"/></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
        f"{f'<cols>{cols}</cols>' if cols else ''}<sheetData>{''.join(rows)}</sheetData>"
        f"{_MARGINS}</worksheet>"
    )


def _workbook(sheets: list[Sheet]) -> str:
    entries = "".join(
        f'<sheet name="{escape(s.title[:31], {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
        for i, s in enumerate(sheets, start=1)
    )
    return (
        f"{_HEAD}<workbook {_NS} {_REL_NS}><bookViews><workbookView/></bookViews>"
        f"<sheets>{entries}</sheets></workbook>"
    )


def _workbook_rels(count: int) -> str:
    kind = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    sheets = "".join(
        f'<Relationship Id="rId{i}" Type="{kind}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, count + 1)
    )
    styles = f'<Relationship Id="rId{count + 1}" Type="{kind}/styles" Target="styles.xml"/>'
    return (
        f'{_HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'relationships">{sheets}{styles}</Relationships>'
    )


def _content_types(count: int) -> str:
    main = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{main}.worksheet+xml"/>'
        for i in range(1, count + 1)
    )
    return (
        f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{main}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{main}.styles+xml"/>{sheets}</Types>'
    )


_ROOT_RELS = (
    f'{_HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_MARGINS = (
    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
)
_SHEET_END = f"</sheetData>{_MARGINS}</worksheet>"
_STYLES = (
    f"{_HEAD}<styleSheet {_NS}>"
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="#,##0.0"/>'
    '<numFmt numFmtId="165" formatCode="0.0%"/>'
    '<numFmt numFmtId="166" formatCode="dd/mm/yyyy"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/>'
    "</patternFill></fill></fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" '
    'applyFill="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
