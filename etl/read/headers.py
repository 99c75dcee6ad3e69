"""Finds a sheet's header row and maps its columns to the layout's, whatever the drift.

Handles title blocks above the header, two-row headers with merged group cells, a
column-number row `(1) (2) (3)` under the header, accents, case, line breaks and a trailing
unit in parentheses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain

from etl.contract.layout import Sheet
from etl.text import clean, match_key, split_unit

# How far down a title block may push the header row.
HEADER_SCAN_ROWS = 40

_COLUMN_NUMBER = re.compile(r"^\(?\s*[0-9]{1,2}\s*\)?$|^\(?[A-Z]\)?$")
_UNIT_NOTE = re.compile(r"don vi tinh\s*(.*)$")


@dataclass
class HeaderMatch:
    header_row: int  # 0-based index of the (first) header row
    data_start: int  # 0-based index of the first row below the header block
    columns: dict[str, int]  # layout column key -> 0-based column index
    units: dict[str, str] = field(default_factory=dict)  # column key -> unit in its header
    extra: list[str] = field(default_factory=list)  # unknown headers, reported as info
    missing: list[str] = field(default_factory=list)  # required column keys not found
    note_unit: str | None = None  # `Đơn vị tính: …` written in the title block
    top_row_columns: set[int] = field(default_factory=set)  # indices named by the first row


# A sheet's header names never change: built once a process, found by the sheet's identity
# (hashing a frozen Sheet hashes every column of it, on every call).
_LOOKUPS: dict[int, tuple[Sheet, dict[str, str], int]] = {}


def _lookup(sheet: Sheet) -> dict[str, str]:
    return _built(sheet)[1]


def _column_count(sheet: Sheet) -> int:
    """How many layout columns a header can name at most."""
    return _built(sheet)[2]


def _built(sheet: Sheet) -> tuple[Sheet, dict[str, str], int]:
    found = _LOOKUPS.get(id(sheet))
    if found is None or found[0] is not sheet:
        table = _build_lookup(sheet)
        found = _LOOKUPS[id(sheet)] = (sheet, table, len(set(table.values())))
    return found


def _build_lookup(sheet: Sheet) -> dict[str, str]:
    table: dict[str, str] = {}
    for column in sheet.columns:
        for name in column.names:
            table.setdefault(match_key(split_unit(name)[0]), column.key)
            table.setdefault(match_key(name), column.key)
    return table


@lru_cache(maxsize=65536)  # the same headers and title lines come in every file
def _header_keys(text: str) -> tuple[str, str]:
    """The match keys of a header cell: without its trailing unit, and whole."""
    return match_key(split_unit(text)[0]), match_key(text)


# The same header cells come in every file: `split_unit` once per distinct cell (by type too:
# `1` and `1.0` read differently).
_split_unit = lru_cache(maxsize=65536, typed=True)(split_unit)


def _map_row(row: list, lookup: dict[str, str], taken: dict[str, int]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(row):
        if not isinstance(cell, str) or not cell.strip():
            continue  # a header is text: numbers and dates are data or column numbers
        bare, whole = _header_keys(cell)
        key = lookup.get(bare) or lookup.get(whole)
        if key and key not in taken and key not in found and index not in taken.values():
            found[key] = index
    return found


# The same header block comes in every file of a template: a header naming every column is
# found once per distinct block. Such a header is read from the rows above its first data
# row alone, and that row (when there is one) as no column-number row: the block's rows (by
# type and value) are the memo's key, and the row below it is checked again on each use.
_FOUND: dict[tuple, tuple[Sheet, HeaderMatch]] = {}
_ENDS: dict[int, tuple[Sheet, list[int]]] = {}  # sheet id -> the block lengths kept
_FOUND_LIMIT = 1024
_BLOCK_CHARS = 8192  # blocks holding more text are not kept: the memo stays a few MB
_ENDS_MOST = 4  # block lengths tried per sheet
_BLOCK_MOST = 12  # longer blocks are not kept


def _block_key(sheet: Sheet, rows: list[list], end: int) -> tuple | None:
    """The memo key of `rows[:end]`; None when they hold a zero (`0.0` and `-0.0` are equal,
    their text is not) or a cell that cannot be hashed."""
    block = rows[:end]
    values = tuple(chain.from_iterable(block))
    if 0 in values:
        return None
    key = (
        id(sheet),
        end,
        len(rows) > end,
        tuple(map(len, block)),
        values,
        tuple(map(type, values)),
    )
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _copy(found: HeaderMatch) -> HeaderMatch:
    return HeaderMatch(
        header_row=found.header_row,
        data_start=found.data_start,
        columns=dict(found.columns),
        units=dict(found.units),
        extra=list(found.extra),
        missing=list(found.missing),
        note_unit=found.note_unit,
        top_row_columns=set(found.top_row_columns),
    )


def find_header(rows: list[list], sheet: Sheet) -> HeaderMatch | None:
    """The best header in the first rows: the one that maps the most layout columns."""
    ends = _ENDS.get(id(sheet))
    if ends is not None and ends[0] is sheet:
        for end in ends[1]:
            key = _block_key(sheet, rows, end)
            kept = None if key is None else _FOUND.get(key)
            if (
                kept is not None
                and kept[0] is sheet
                and (end >= len(rows) or not _is_column_number_row(rows[end]))
            ):
                return _copy(kept[1])
    found = _find_header(rows, sheet)
    if found is None or len(found.columns) < _column_count(sheet):
        return found  # the scan read rows below the block: not kept
    end = found.data_start
    key = _block_key(sheet, rows, end) if end <= _BLOCK_MOST else None
    if key is None or sum(map(len, filter(str.__instancecheck__, key[4]))) > _BLOCK_CHARS:
        return found
    if ends is None or ends[0] is not sheet:
        ends = _ENDS[id(sheet)] = (sheet, [])
    if end not in ends[1]:
        if len(ends[1]) >= _ENDS_MOST:
            return found
        ends[1].append(end)
    if len(_FOUND) >= _FOUND_LIMIT:
        _FOUND.clear()
    _FOUND[key] = (sheet, _copy(found))
    return found


def _find_header(rows: list[list], sheet: Sheet) -> HeaderMatch | None:
    lookup = _lookup(sheet)
    every = _column_count(sheet)
    best: HeaderMatch | None = None
    for r, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        if best is not None and len(best.columns) >= every:
            break  # a header naming every column: no row below can name more
        columns = _map_row(row, lookup, {})
        if not columns:
            continue
        top = set(columns.values())
        data_start = r + 1
        # A merged group cell leaves its sub-headers on the next row.
        if r + 1 < len(rows):
            below = _map_row(rows[r + 1], lookup, columns)
            if below:
                columns.update(below)
                data_start = r + 2
        if best is None or len(columns) > len(best.columns):
            best = HeaderMatch(
                header_row=r, data_start=data_start, columns=columns, top_row_columns=top
            )
    if best is None:
        return None
    while best.data_start < len(rows) and _is_column_number_row(rows[best.data_start]):
        best.data_start += 1
    header_rows = [
        r for r in rows[best.header_row : best.data_start] if not _is_column_number_row(r)
    ]
    for key, index in best.columns.items():
        for header_row in header_rows:
            cell = header_row[index] if index < len(header_row) else None
            unit = _split_unit(cell)[1] if cell is not None else None
            if unit and key not in best.units:
                best.units[key] = unit
    if len(header_rows) > 1:  # a merged group cell's unit covers its sub-columns
        group_row = header_rows[0]
        for key, index in best.columns.items():
            if key in best.units:
                continue
            for left in range(min(index, len(group_row) - 1), -1, -1):
                cell = group_row[left]
                if cell is None or not clean(cell):
                    continue
                unit = _split_unit(cell)[1]
                if left not in best.top_row_columns and unit:
                    best.units[key] = unit
                break
    mapped = set(best.columns.values())
    width = max((len(r) for r in header_rows), default=0)
    for index in range(width):
        if index in mapped:
            continue
        texts = [clean(r[index]) for r in header_rows if index < len(r) and clean(r[index])]
        texts = [t for t in texts if not _COLUMN_NUMBER.match(t)]
        if texts:
            best.extra.append(" / ".join(texts))
    best.missing = [c.key for c in sheet.columns if c.required and c.key not in best.columns]
    best.note_unit = _title_unit(rows[: best.header_row])
    return best


def _is_column_number_row(row: list, at_least: int = 1) -> bool:
    """`(1) (2) (3)`, `1 2 3` or `A B C` under the header: numbering, not data."""
    count = 0
    for cell in row:
        if cell is None or cell == "":
            continue
        text = clean(cell)
        if not text:
            continue
        if not _COLUMN_NUMBER.match(_as_text(cell, text)):
            return False  # a record's row fails at its first text: no need to clean the rest
        count += 1
    return count >= at_least


def is_column_number_row(row: list) -> bool:
    """A column-number row repeated inside the table (rule 13): three numbered cells at
    least, so a stray small number is never taken for one."""
    return _is_column_number_row(row, at_least=3)


def repeated_header(
    rows: list[list], index: int, sheet: Sheet, first: HeaderMatch
) -> tuple[dict[str, int], int] | None:
    """The header repeated at `rows[index]` inside the table (rule 13): its columns and how
    many rows it takes (two for a two-row header), or None when the row is no header.

    A row is a header when it names as many layout columns as the first header did, up to
    three: a group title such as `Lĩnh vực` names one at most.
    """
    lookup = _lookup(sheet)
    columns = _map_row(rows[index], lookup, {})
    if len(columns) < min(3, len(first.columns)):
        return None
    taken = 1
    if index + 1 < len(rows):
        below = _map_row(rows[index + 1], lookup, columns)
        if below:
            columns.update(below)
            taken = 2
    return columns, taken


def _as_text(cell: object, cleaned: str | None = None) -> str:
    if isinstance(cell, float) and cell == int(cell):
        return str(int(cell))
    return clean(cell) if cleaned is None else cleaned


def _title_unit(title_rows: list[list]) -> str | None:
    """`(Đơn vị tính: đồng)` in a title block sets the sheet's money unit."""
    for row in title_rows:
        for cell in row:
            if not isinstance(cell, str):
                continue
            found = _UNIT_NOTE.search(match_key(cell))
            if found and found.group(1).strip():
                return found.group(1).strip()
    return None
