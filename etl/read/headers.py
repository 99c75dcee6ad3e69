"""Finds a sheet's header row and maps its columns to the layout's, whatever the drift.

Handles title blocks above the header, two-row headers with merged group cells, a
column-number row `(1) (2) (3)` under the header, accents, case, line breaks and a trailing
unit in parentheses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache

from etl.contract.layout import DATA_SHEETS, Sheet
from etl.read import cells
from etl.text import clean, match_key, short_memo, unaccent
from etl.text import split_unit as split_parenthesized

# Where the header is looked for: the best of the first rows. When none of them names a
# column (a long title block, rule 1), the first row further down that names every required
# column, up to a bound: a sheet of 200,000 rows without a header is not read row by row.
HEADER_SCAN_ROWS = 40
HEADER_DEEP_SCAN_ROWS = 400

# A column number `(1)`, `1` or `A`, alone or with the formula the form gives the column:
# `(13)=(12)-(11)`, `7 = 5 x 6`, `(9)=(8)/(7)*100`.
_NUMBERED = r"\(?\s*(?:[0-9]{1,2}|[A-Z])\s*\)?"
_OPERAND = r"\(?\s*(?:[0-9]{1,4}|[A-Z])\s*\)?"
_COLUMN_NUMBER = re.compile(rf"^{_NUMBERED}(?:\s*=\s*{_OPERAND}(?:\s*[-+x*/:×.]\s*{_OPERAND})*)?$")
# A note of the money unit above a table (`_title_unit`), on match keys: `Đơn vị tính: …`,
# `ĐVT: …` anywhere in its cell, `Đơn vị: …` leading it (`(Đơn vị: đồng)`).
# A unit after a header without parentheses (`split_unit`): after a comma, a colon, a dash, a
# bracket or `ĐVT:`, the header's last words.
_TRAILING_BARE_UNIT = re.compile(
    r"(?:\s*[,;:\-–—]\s*|\s+(?:đvt|đơn vị tính|đơn vị)\s*:?\s*|\s*\[)([^,;:\[\]()\-–—]+?)\]?\s*$",
    re.I,
)


def split_unit(header: object) -> tuple[str, str | None]:
    """A header's name and unit (`etl.text.split_unit`: `Doanh thu↵(triệu đồng)`), or its unit
    written after it without parentheses: `Doanh thu, đồng`, `Doanh thu - triệu đồng`,
    `Doanh thu: đồng`, `Doanh thu [đồng]`, `Doanh thu↵ĐVT: đồng`, `Số thành viên, người`.
    Only a money unit or one a count column of the template takes is split off so (`Lợi
    nhuận - Lỗ` stays whole)."""
    name, unit = split_parenthesized(header)
    if unit is not None or len(name) > _BARE_UNIT_CHARS:  # a long text is no header: data
        return name, unit
    found = _TRAILING_BARE_UNIT.search(name)
    if found is None:
        return name, None
    unit = found.group(1).strip()
    if not unit or (cells.money_factor(unit) is None and match_key(unit) not in _count_units()):
        return name, None
    return name[: found.start()].strip(), unit


# Texts longer than this are not searched for a unit without parentheses: the search may go
# over the text once from each separator (a cell of `đvt` repeated thousands of times).
_BARE_UNIT_CHARS = 120


@cache
def _count_units() -> frozenset[str]:
    """The units the template's count columns take (`người`, `hộ`, `tấn`), as match keys; not
    a score's or stars' (`Xếp loại, điểm` names the rating by its points: no unit)."""
    columns = [column for sheet in DATA_SHEETS for column in sheet.columns]
    counted = {match_key(unit) for column in columns for unit in column.units}
    return frozenset(counted - {"diem", "sao"})


_UNIT_NOTE = re.compile(r"(?:\b(?:don vi tinh|dvt)|^don vi)\b\s*(.*)$")


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
    year: int | None = None  # the report year its headers may name (`Doanh thu năm 2023`)
    # Sub-columns of a group header left unread: `Năm 2022` under `Doanh thu`, beside the
    # report year's `Năm 2023` (reported as unknown columns, for comparison).
    compared: set[int] = field(default_factory=set)
    # A group header whose sub-columns do not tell which is the report year's (`Doanh thu`
    # over `Trồng trọt | Chăn nuôi`): column key -> the sub-columns not read (the leftmost
    # is, unless they name years none of which is the report's: then none).
    unclear: dict[str, list[int]] = field(default_factory=dict)
    # A second header of a column already read (index -> column key): `Doanh thu` beside
    # `Doanh thu năm 2023`, or one header written twice. Its cells are not read.
    repeated: dict[int, str] = field(default_factory=dict)


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


# The same header cells come in every file: `split_unit` once per distinct cell, a column
# number too (by type: `1` and `1.0` read differently); a long cell is data, not kept.
_split_unit = short_memo(65536, typed=True, others=True)(split_unit)


# A header that names the year it counts (`Doanh thu năm 2023`, `Vốn điều lệ 2023`, `Số thành
# viên tính đến ngày 31/12/2023`), as its match key has it: the year is the group's last.
_YEAR_QUALIFIER = re.compile(
    r" (?:(?:nam|(?:tinh )?den(?: ngay)?(?: \d{1,2}){0,2}|(?:tai )?thoi diem(?: \d{1,2}){0,2}) )?"
    r"(\d{4})$"
)


@lru_cache(maxsize=65536)
def _without_year(key: str, year: int) -> str | None:
    """`doanh thu` for `doanh thu nam 2023` in a report of 2023; None when the key names no
    year, or another one (a form's `năm 2022` beside `năm 2023` is a comparison column)."""
    found = _YEAR_QUALIFIER.search(key)
    if found is None or int(found.group(1)) != year:
        return None
    return key[: found.start()]


@lru_cache(maxsize=65536)
def _remark_year(text: str) -> int | None:
    """The year a header's parentheses name (`Doanh thu (năm 2022)`), else None: the
    parentheses are no unit, so `bare` alone would take the column whatever the year."""
    remark = split_unit(text)[1]
    found = _YEAR_QUALIFIER.fullmatch(" " + match_key(remark)) if remark else None
    return None if found is None else int(found.group(1))


# A header whose unit comes before the year it names: `Doanh thu (triệu đồng) năm 2023`,
# `Số thành viên (người) tính đến 31/12/2023`: the unit's parentheses, then the year.
_UNIT_THEN_YEAR = re.compile(r"^(.*\([^()]*\))[\s,;:–-]*([^()]*\d{4})$", re.DOTALL)


@lru_cache(maxsize=65536)
def _unit_then_year(text: str) -> tuple[str, int] | None:
    """(`Doanh thu (triệu đồng)`, 2023) for `Doanh thu (triệu đồng) năm 2023`; None for a
    header whose unit is not followed by the year it names."""
    found = _UNIT_THEN_YEAR.match(clean(text))
    named = found and _YEAR_QUALIFIER.fullmatch(" " + match_key(found.group(2)))
    return None if not (found and named) else (found.group(1).strip(), int(named.group(1)))


def header_unit(cell: object) -> str | None:
    """The unit a header cell gives its column: in its trailing parentheses (`Doanh thu
    (triệu đồng)`), or in those before the year it names (`Doanh thu (triệu đồng) năm 2023`)."""
    split = _unit_then_year(cell) if isinstance(cell, str) else None
    return _split_unit(split[0] if split else cell)[1]


def _map_row(
    row: list, lookup: dict[str, str], taken: dict[str, int], year: int | None = None
) -> dict[str, int]:
    """The layout columns a row names (column key -> index), leaving out those `taken`. A
    header that names the report `year` names its column (rule 3), its unit before the
    year or after it; one that names another year, in its parentheses too (`Doanh thu (năm
    2022)` in a report of 2023), names none."""
    found: dict[str, int] = {}
    dated: set[str] = set()  # columns read from a header naming the year
    for index, cell in enumerate(row):
        if not isinstance(cell, str) or not cell.strip():
            continue  # `_column_of` names no column for it: most cells of a row are no text
        named = _column_of(cell, lookup, year)
        if named is None:
            continue
        key, names_year = named
        if key in taken or index in taken.values() or (key in found and key in dated):
            continue
        if key not in found or names_year:  # the header naming the year wins over the bare
            found[key] = index
            if names_year:
                dated.add(key)
    return found


def _at(row: list, index: int) -> object:
    return row[index] if index < len(row) else None


def _column_of(cell: object, lookup: dict[str, str], year: int | None) -> tuple[str, bool] | None:
    """The layout column a header cell names, and whether it names the report `year`; None
    for a cell that names none (or another year's)."""
    if not isinstance(cell, str) or not cell.strip():
        return None  # a header is text: numbers and dates are data or column numbers
    named = _remark_year(cell)
    if named is None and year is not None and (split := _unit_then_year(cell)):
        cell, named = split  # the year after the unit: the header is what comes before
    if named is not None and year is not None and named != year:
        return None  # a comparison column, or last year's figures: never this report's
    bare, whole = _header_keys(cell)
    key = lookup.get(bare) or lookup.get(whole)
    if key is None and year is not None:
        key = lookup.get(_without_year(bare, year) or "")
        named = year if key else named
    return None if key is None else (key, named is not None and named == year)


def find_header(
    rows: list[list],
    sheet: Sheet,
    merges: Iterable[tuple[tuple[int, int], tuple[int, int]]] = (),
    year: int | None = None,
) -> HeaderMatch | None:
    """The best header in the first rows: the one that maps the most layout columns.
    `merges`: the sheet's merged ranges ((top, left), (bottom, right)), 0-based; `year`:
    the report year, which a header may name."""
    merges = list(merges)
    lookup = _lookup(sheet)
    every = _column_count(sheet)
    required = {c.key for c in sheet.columns if c.required}
    best: HeaderMatch | None = None
    for r in range(min(len(rows), HEADER_SCAN_ROWS)):
        if best is not None and len(best.columns) >= every:
            break  # a header naming every column: no row below can name more
        found = _header_at(rows, r, lookup, year, merges)
        if found is not None and (best is None or len(found.columns) > len(best.columns)):
            best = found
    if best is None:  # no column named in the first rows: a title block longer than that
        for r in range(HEADER_SCAN_ROWS, min(len(rows), HEADER_DEEP_SCAN_ROWS)):
            found = _header_at(rows, r, lookup, year, merges)
            if found is not None and required <= found.columns.keys():
                best = found
                break
    if best is None:
        return None
    told: dict[int, tuple[bool, dict[int, str] | None]] = {}  # the rows under the header
    if best.header_row + 1 < len(rows) and best.data_start <= best.header_row + 2:
        _split_by_year(rows, best, merges, told, lookup)
    # Under the header: column numbers `(1) (2) (3)`, and a row of units only (`(đồng)`,
    # `(người)` under their columns), in either order.
    row_units: dict[str, str] = {}
    units_rows = set()
    while best.data_start < len(rows):
        numbers, units = _under_header(rows, best.data_start, told)
        if not numbers:
            if units is None:
                break
            units_rows.add(best.data_start)
            for (top, left), (bottom, right) in merges:  # `(đồng)` merged over columns
                if top <= best.data_start <= bottom and left in units:
                    for index in range(left + 1, right + 1):
                        units.setdefault(index, units[left])
            for key, index in best.columns.items():
                if index in units:
                    row_units.setdefault(key, units[index])
        best.data_start += 1
    header_rows = [
        r
        for n, r in enumerate(rows[best.header_row : best.data_start], best.header_row)
        if n not in units_rows and not _is_column_number_row(r)
    ]
    for key, index in best.columns.items():
        # A sub-column's own header first: the cell above it is its group's (rule 4).
        own_first = header_rows if index in best.top_row_columns else header_rows[::-1]
        for header_row in own_first:
            cell = header_row[index] if index < len(header_row) else None
            unit = header_unit(cell) if cell is not None else None
            if unit and key not in best.units:
                best.units[key] = unit
    for key, unit in row_units.items():  # a column's own header unit first, then the row's
        best.units.setdefault(key, unit)
    if len(header_rows) > 1:  # a merged group cell's unit covers its sub-columns
        group_row = header_rows[0]
        spans = {left: right for (top, left), (_, right) in merges if top == best.header_row}
        for key, index in best.columns.items():
            if key in best.units:
                continue
            for left in range(min(index, len(group_row) - 1), -1, -1):
                cell = group_row[left]
                if cell is None or not clean(cell):
                    continue
                unit = _split_unit(cell)[1]
                # A merged group cell covers its range only; an unmerged one, the empty cells
                # to its right.
                if left not in best.top_row_columns and unit and spans.get(left, index) >= index:
                    best.units[key] = unit
                break
    if len(header_rows) == 1 and best.header_row > 0:
        _group_units_above(rows, best, lookup, merges)
    mapped = set(best.columns.values())
    width = max((len(r) for r in header_rows), default=0)
    split = {index for unread in best.unclear.values() for index in unread}
    for index in range(width):
        if index in mapped or index in split:  # a split group's: its own warning tells
            continue
        texts = [_as_text(r[index]) for r in header_rows if index < len(r) and clean(r[index])]
        texts = [t for t in texts if not _COLUMN_NUMBER.match(t)]
        named = [hit for r in header_rows if (hit := _column_of(_at(r, index), lookup, best.year))]
        if named and named[0][0] in best.columns and index not in best.compared:
            best.repeated[index] = named[0][0]
        elif texts:
            best.extra.append(" / ".join(texts))
    best.missing = [c.key for c in sheet.columns if c.required and c.key not in best.columns]
    best.note_unit = _title_unit(rows[: best.header_row])
    return best


def missing_column_like(sheet: Sheet, header: HeaderMatch, text: str) -> str | None:
    """The template header of a column the header lacks whose name is among an unknown
    header's words (`Doanh thu thuần`, `Tổng doanh thu` where `Doanh thu` is missing), or
    whose name holds the unknown header of two words or more (`Lao động` where `Số lao
    động` is missing): its values are not read, and the clerk must hear it, not find the
    figures empty. None when there is none."""
    lacking = [c for c in sheet.columns if c.key not in header.columns]
    if not lacking:
        return None
    # Whole keys: a year in parentheses (`Doanh thu (năm 2023)` in a report of 2024) is no
    # unit, and the header is as like its column as `Doanh thu năm 2023` is; and without a
    # unit, which the header's key must lose to lie within a name (`Tài sản (triệu đồng)`).
    parts = [key for part in text.split(" / ") for key in _header_keys(part)]
    if header.year is not None:  # `Lợi nhuận năm 2023` is as like its column as `Lợi nhuận`
        parts += [bare for part in parts if (bare := _without_year(part, header.year))]
    for column in lacking:
        for name in column.names:
            key = match_key(split_unit(name)[0])
            if key and any(_words_within(key, part) for part in parts):
                return column.header
    return None


def _words_within(key: str, part: str) -> bool:
    """`part` begins with `key`; or `key` of two words or more among the words of `part`
    (`Tổng doanh thu`), or `part` of two words or more among `key`'s (`Lao động`). A name
    of one word (`Điểm`, `Xã`) only begins a header, or follows `Tổng` (`Tổng điểm`):
    `Địa điểm trụ sở` is not like it."""
    if part.startswith(key + " ") or f"{part} ".startswith(f"tong {key} "):
        return True
    if " " not in key:
        return False
    return f" {key} " in f" {part} " or (" " in part and f" {part} " in f" {key} ")


def _header_at(
    rows: list[list],
    r: int,
    lookup: dict[str, str],
    year: int | None,
    merges: list[tuple[tuple[int, int], tuple[int, int]]] | None = None,
) -> HeaderMatch | None:
    """The header whose (first) row is `rows[r]`, with the sub-headers a merged group cell
    leaves on the next row; None when the row names no layout column."""
    columns = _map_row(rows[r], lookup, {}, year)
    if not columns:
        return None
    top = set(columns.values())
    data_start = r + 1
    if r + 1 < len(rows):
        below = _map_row(rows[r + 1], lookup, columns, year)
        below.update(_under_group(rows, r, lookup, columns, below, year, merges or []))
        if below:
            columns.update(below)
            data_start = r + 2
    return HeaderMatch(
        header_row=r, data_start=data_start, columns=columns, top_row_columns=top, year=year
    )


def _under_group(
    rows: list[list],
    r: int,
    lookup: dict[str, str],
    above: dict[str, int],
    beneath: dict[str, int],
    year: int | None,
    merges: list[tuple[tuple[int, int], tuple[int, int]]],
) -> dict[str, int]:
    """The columns a group cell of the header row and a sub-header under it name together
    (rule 2): `Lợi nhuận` over `Trước thuế | Sau thuế` names `Lợi nhuận trước thuế` (the
    first), where neither names a column alone. A group cell is merged across the columns
    it covers, or reaches over the empty cells to its right (typed in the first cell, or
    centred across them). Not a sub-header merged across columns itself (a third row splits
    it, by year perhaps: `_split_by_year` reads the top row's groups only); none when the
    row under the header is a data row, a value under a column the header row names (its
    first cooperative is no sub-header: helper BT), where a unit or a column number is no
    value (`(triệu đồng)` under `Vốn điều lệ`: helper BV)."""
    top, below = rows[r], rows[r + 1]
    named = set(above.values())
    merged = {left: right for (t, left), (b, right) in merges if t == r == b and right > left}
    inside = {i for left, right in merged.items() for i in range(left + 1, right + 1)}
    groups: dict[int, int] = {}
    for left, cell in enumerate(top):
        if left in named or left in inside or not isinstance(cell, str) or not cell.strip():
            continue
        right = merged.get(left, left)
        if left not in merged:  # typed in its first cell: it reaches over the empty ones
            while (step := right + 1) < len(top) and not (
                step in named or step in inside or clean(top[step])
            ):
                right = step
        if right > left:
            groups[left] = right
    if not groups:
        return {}
    within = {i for left, right in groups.items() for i in range(left, right + 1)}
    # A column the header row names whose cell is merged over sub-headers of its own is a
    # group too (`Xếp loại` over `Loại | Điểm`): what stands under it is no data.
    within |= {i for left, right in merged.items() if left in named for i in range(left, right + 1)}
    if any(not _furniture(_at(below, i), _at(top, i)) for i in named - within):
        return {}
    taken = {**above, **beneath}
    split = {left for (t, left), (_, right) in merges if t == r + 1 and right > left}
    found: dict[str, int] = {}
    for left, right in groups.items():
        group = split_unit(top[left])[0]
        for index in range(left, right + 1):
            sub = _at(below, index)
            if index in split or not isinstance(sub, str) or not sub.strip():
                continue
            if index in taken.values() or index in found.values():
                continue
            hit = _column_of(f"{group} {sub}", lookup, year)
            if hit is not None and hit[0] not in taken and hit[0] not in found:
                found[hit[0]] = index
    return found


def _furniture(cell: object, above: object) -> bool:
    """Whether a cell under a header cell is no value: empty, the header's own text filled
    down a merge, a unit (`(triệu đồng)`), a hint of how to fill the column (`(Có/Không)`)
    or a column number (`(5)`)."""
    if cell is None or cell == above or (isinstance(cell, str) and not cell.strip()):
        return True
    if not isinstance(cell, str):
        return _is_column_number_row([cell])
    if units_row([cell]) is not None or _is_column_number_row([cell]):
        return True
    hint = unaccent(split_unit(f"x {cell.strip()}")[1] or cell).lower().strip()
    return bool(_FILL_HINT.fullmatch(hint))


# A sub-header's year (`Năm 2023`, `2023`, `TH 2023`, `Thực hiện năm 2023 (triệu đồng)`),
# and its words for figures done and figures planned.
_SUB_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
_DONE = re.compile(r"\b(?:thuc hien|th|uoc th|uoc thuc hien)\b")
_PLANNED = re.compile(r"\b(?:ke hoach|kh|chi tieu|du kien)\b")
# The whole beside its parts (`Tổng số | Trong đó: nữ`): the whole is the column.
_TOTAL = re.compile(r"^(?:(?:tong so|tong cong|tong|tat ca)\b.*|cong)$")


def _sub_header(cell: object) -> str:
    """A sub-header's match key: its text, or a year typed as a number (`2023`); else ``."""
    if isinstance(cell, str):
        return match_key(cell)
    if isinstance(cell, int | float) and cell == int(cell) and 2000 <= cell <= 2099:
        return str(int(cell))
    return ""


def _split_by_year(
    rows: list[list],
    best: HeaderMatch,
    merges: Iterable[tuple[tuple[int, int], tuple[int, int]]],
    told: dict[int, tuple[bool, dict[int, str] | None]] | None = None,
    lookup: dict[str, str] | None = None,
) -> None:
    """A column's header over sub-columns of years or of plan and result: `Doanh thu`
    merged (or over empty cells) above `Năm 2022 | Năm 2023`, or `Kế hoạch | Thực hiện`.
    The column is the sub-column of the report year alone (not `So sánh 2023/2022`), of
    those the figures done rather than planned, or the whole beside its parts (`Tổng số |
    Trong đó: nữ` under `Số thành viên`); the others are comparison columns, reported as
    unknown. The group's unit is the chosen sub-column's, unless it has its own. Before, the
    leftmost sub-column was read: last year's revenue as this year's. A group whose
    sub-columns do not tell (`Trồng trọt | Chăn nuôi`) is read from the leftmost (of other
    years only, not at all), and the others are `unclear`, for the reader to warn of. With
    `lookup`, a sub-column whose header after the group's name names the column itself
    tells first (`Lợi nhuận` over `Sau thuế | Trước thuế`: `Lợi nhuận trước thuế`).

    The row under a one-row header is its sub-headers' only when it holds nothing under
    the columns outside the groups (a data row holds a code, a name): it then joins the
    header."""
    two_rows = best.data_start == best.header_row + 2
    top, below = rows[best.header_row], rows[best.header_row + 1]
    numbers, units = _under_header(rows, best.header_row + 1, {} if told is None else told)
    if numbers or units is not None:
        return
    spans = {left: right for (t, left), (_, right) in merges if t == best.header_row}
    taken = set(best.columns.values())
    groups: dict[str, dict[int, str]] = {}
    for key, index in best.columns.items():
        if index not in best.top_row_columns:
            continue  # a sub-column of a two-row header's group cell: a column itself
        right = spans.get(index, index)
        if right == index:  # no merge: the group reaches over the empty top cells to its right
            while right + 1 < len(top) and right + 1 not in taken and not clean(top[right + 1]):
                right += 1
        subs = {
            i: text
            for i in range(index, right + 1)
            if (i == index or i not in taken) and (text := _sub_header(_at(below, i)))
        }
        if len(subs) >= 2:
            groups[key] = subs
    inside = {i for subs in groups.values() for i in subs} | {best.columns[k] for k in groups}
    # The row under a one-row header is data when it holds a value outside the groups (a
    # merged header cell filled down into it, rule 12, holds the header's own text).
    if not groups or (
        not two_rows
        and any(clean(_at(below, i)) and _at(below, i) != _at(top, i) for i in taken - inside)
    ):
        return
    for key, subs in groups.items():
        index = best.columns[key]
        years = {i: [int(y) for y in _SUB_YEAR.findall(text)] for i, text in subs.items()}
        fitting = [i for i in subs if best.year and years[i] == [best.year]]
        if not fitting and not any(years.values()):
            fitting = list(subs)
        if len(fitting) > 1 and lookup is not None:
            group = split_unit(top[index])[0]
            whole = [
                i
                for i in fitting
                if (hit := _column_of(f"{group} {_as_text(below[i])}", lookup, best.year))
                and hit[0] == key
            ]
            fitting = whole if len(whole) == 1 else fitting
        if len(fitting) > 1:
            done = [i for i in fitting if _DONE.search(subs[i]) and not _PLANNED.search(subs[i])]
            fitting = done or [i for i in fitting if _TOTAL.search(subs[i])]
        if len(fitting) == 1:
            chosen: int | None = fitting[0]
        else:  # the sub-columns do not tell: the leftmost, or none of other years only
            chosen = None if any(years.values()) else min(subs)
            best.unclear[key] = [i for i in sorted(subs) if i != chosen]
        best.compared |= set(subs) - {chosen}
        if chosen is None:
            del best.columns[key]
            continue
        best.columns[key] = chosen
        unit = header_unit(below[chosen]) or header_unit(top[index])
        if unit:
            best.units[key] = unit
    if not two_rows:
        best.data_start += 1  # the sub-headers' row is the header's


def _under_header(
    rows: list[list], at: int, told: dict[int, tuple[bool, dict[int, str] | None]]
) -> tuple[bool, dict[int, str] | None]:
    """Whether `rows[at]`, under a header, is a row of column numbers, and else its units
    (`units_row`), told once a row: `_split_by_year` and `find_header` both ask."""
    if at not in told:
        numbers = _is_column_number_row(rows[at])
        told[at] = numbers, None if numbers else units_row(rows[at])
    return told[at]


def units_row(row: list) -> dict[int, str] | None:
    """A row of units under the header: each cell that is not empty a unit alone (`(đồng)`,
    `triệu đồng`, `(người)`, `(%)`), by column, or no unit of any column: the row's label
    (`ĐVT`, `Đơn vị tính:`, a unit after it counting as the unit) or a hint of how to fill
    a column (`(Có/Không)`, `(ngày/tháng/năm)`, `x`). None for any other row, and for a
    row with no unit: one hint does not throw away the units beside it (a column then read
    in the default unit, a million times off, with nothing said)."""
    from etl.read.cells import CELL_COUNT_UNITS, is_rate, money_factor, without_unit_label

    found: dict[int, str] = {}
    for index, cell in enumerate(row):
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            continue
        if not isinstance(cell, str):
            return None
        labelled = without_unit_label(cell.strip())
        if not labelled:
            continue  # `ĐVT`, `Đơn vị tính:`: the row's label
        name, unit = _split_unit(labelled)
        text = (unit if unit and not name.strip() else name).strip()
        key = match_key(text.split("/")[0]).replace(" ", "")  # `người/tháng`: its first part
        if (
            text == "%"
            or money_factor(text) is not None
            or key in CELL_COUNT_UNITS
            or is_rate(text)  # `tháng`, `người/tháng`: a rate, its money unit the default
        ):
            found[index] = text
        elif not _FILL_HINT.fullmatch(unaccent(text).lower()) and (name.strip() or not unit):
            return None  # neither a unit nor a hint in parentheses or of a form's words
    return found or None


# How to fill a column, written under its header in a row of units: yes or no (`Có/Không`,
# `x`), a date's form (`ngày/tháng/năm`, `dd/mm/yyyy`), a rating's grades (`Tốt/Khá/TB/Yếu`).
_FILL_HINT = re.compile(r"x|[a-z]+(?: [a-z]+)?(?: ?/ ?[a-z]+(?: [a-z]+)?)+")


def _group_units_above(
    rows: list[list],
    best: HeaderMatch,
    lookup: dict[str, str],
    merges: Iterable[tuple[tuple[int, int], tuple[int, int]]],
) -> None:
    """A group cell in the row above a one-row header (`Kết quả SXKD (đồng)` merged over
    `Doanh thu` and `Lợi nhuận`, in a row that names no column itself): its money unit
    covers the columns under it, those its merged range spans (one, unmerged), that carry
    none of their own, as a two-row header's group cell does (rule 2). A unit that is no
    money unit is a title's remark, not a column's unit."""
    from etl.read.cells import money_factor

    row_index = best.header_row - 1
    above = rows[row_index]
    if _map_row(above, lookup, {}, best.year) or _is_column_number_row(above):
        return
    spans = {left: right for (top, left), (_bottom, right) in merges if top == row_index}
    for left, cell in enumerate(above):
        if cell is None or not isinstance(cell, str) or not clean(cell):
            continue
        unit = _split_unit(cell)[1]
        if not unit or money_factor(unit) is None:
            continue
        right = spans.get(left, left)
        for key, index in best.columns.items():
            if left <= index <= right and key not in best.units:
                best.units[key] = unit


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
    columns = _map_row(rows[index], lookup, {}, first.year)
    if len(columns) < min(3, len(first.columns)):
        return None
    taken = 1
    if index + 1 < len(rows):
        below = _map_row(rows[index + 1], lookup, columns, first.year)
        top = set(columns.values())
        if below:
            columns.update(below)
            taken = 2
        # Sub-columns split as the first header's were (`Năm 2022 | Năm 2023`).
        again = HeaderMatch(index, index + taken, columns, top_row_columns=top, year=first.year)
        _split_by_year(rows, again, (), lookup=lookup)
        columns, taken = again.columns, again.data_start - index
    return columns, taken


def _as_text(cell: object, cleaned: str | None = None) -> str:
    if isinstance(cell, float) and cell == int(cell):
        return str(int(cell))
    return clean(cell) if cleaned is None else cleaned


def _title_unit(title_rows: list[list]) -> str | None:
    """`(Đơn vị tính: đồng)`, `ĐVT: nghìn đồng`, `Đơn vị: đồng`, `Biểu 01 - Đơn vị: đồng`,
    `Đơn vị tính:` with `đồng` in the next cell, in a title block set the sheet's money unit:
    the first such note that names money, whole or one of its parts (`ĐVT: đồng; người`,
    `ĐVT: người, đồng`: đồng for the money, people for the counts). `Đơn vị: Phòng Kinh tế
    huyện` names the reporting office, no unit."""
    for row in title_rows:
        for n, cell in enumerate(row):
            if not isinstance(cell, str):
                continue
            rest = _note_rest(clean(cell))
            if rest is None:
                continue
            if not rest:  # the label alone: its value in the next cell
                rest = next((clean(c) for c in row[n + 1 :] if isinstance(c, str)), "")
            for part in (rest, *_NOTE_PARTS.split(rest)):
                unit = part.strip(" .)")
                if unit and cells.money_factor(unit) is not None:
                    return unit
    return None


def _note_rest(text: str) -> str | None:
    """What follows a unit note's label (`ĐVT:`, `Đơn vị tính`, a leading `Đơn vị:`), or None
    when the text has none; typed without accents too (`DVT: dong`)."""
    found = _NOTE_LABEL.search(text)
    if found is not None:
        return text[found.end() :].strip()
    keyed = _UNIT_NOTE.search(match_key(text))
    return keyed.group(1).strip() if keyed is not None else None


# A unit note's label as written (`_note_rest`): `Đơn vị tính`, `ĐVT` anywhere, `Đơn vị` leading
# the text or after a dash, comma or parenthesis (`Biểu 01 - Đơn vị: đồng`), then a colon.
_NOTE_LABEL = re.compile(
    r"(?:\b(?:đơn vị tính|đvt)\b|(?:^|[(\-–—,;]\s*)đơn vị\b)\s*[:\-–]?\s*", re.I
)
_NOTE_PARTS = re.compile(r"[;,]")
