"""The spec's drift (rules 1-10; 14, 15 and 18 in cells) applied to a generated report, for
the reader's property tests.

`write_drifted` writes a sample `UnitReport` the way district clerks fill the template in
(title blocks, merged headers, other money units, numbers as text, ...); `drifts()` draws
which drift to apply. Every drift here must read exactly like the clean file.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from hypothesis import strategies as st

from etl.contract.layout import (
    DATA_SHEETS,
    HTX,
    PROGRAMS,
    THONGTIN_KEYS,
    THONGTIN_NAMES,
    Column,
    Sheet,
)
from tools.sample import UnitReport

# How many of each unit make one million VND (rule 4).
UNIT_SCALE = {
    "đồng": Decimal(1_000_000),
    "nghìn đồng": Decimal(1_000),
    "triệu đồng": Decimal(1),
    "tỷ đồng": Decimal("0.001"),
}

TITLES = (
    "UBND HUYỆN ĐẮK MIL",
    "PHÒNG TÀI CHÍNH - KẾ HOẠCH",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "BÁO CÁO TÌNH HÌNH HOẠT ĐỘNG HỢP TÁC XÃ NĂM 2023",
    "Biểu số 01/HTX",
    "",  # a blank row
)
TOTAL_LABELS = ("Tổng cộng", "TỔNG CỘNG", "Cộng", "Tổng", "Tong cong")
EMPTY_ROWS = ("empty", "blank cells", "spaces")
GROUP_HEADER = "Kết quả SXKD"
EXTRA_HEADER = "Số điện thoại"
YES_MARKS = ("x", "X", "Có", "có", "1", "Yes", 1)
NO_MARKS = ("", "Không", "0", 0)
BLANK_MARKS = ("", "-", "–", "x")
NUMBER_STYLES = ("cell", "plain", "vn", "en")
DATE_STYLES = ("cell", "serial", "dd/mm/yyyy", "d/m/yyyy", "dd-mm-yyyy", "yyyy-mm-dd")
# Rule 18: in words, dotted, two-digit years (read against the report year).
WORD_DATE_STYLES = ("words", "dd.mm.yyyy", "d/m/yy")
# Rule 14: a money cell's own unit, as clerks spell it, and how many make one million VND.
CELL_MONEY_UNITS = (
    ("đ", Decimal(1_000_000)),
    ("đồng", Decimal(1_000_000)),
    ("VNĐ", Decimal(1_000_000)),
    ("nghìn", Decimal(1_000)),
    ("ngàn", Decimal(1_000)),
    ("tr", Decimal(1)),
    ("triệu", Decimal(1)),
    ("trđ", Decimal(1)),
    ("tr.đ", Decimal(1)),
    ("tỷ", Decimal("0.001")),
)
# Rule 15: what no one sees, put where a clerk's copy and paste puts it.
INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
CODE_STYLES = ("text", "spaced", "dotted", "int")
NUMBER_ROWS = ("(n)", "n", "int", "letter")
# Units a header may carry besides money (rule 3: a trailing unit in parentheses is ignored).
PLAIN_UNITS = {"members": "người", "workers": "người", "volume_tonnes": "tấn"}
# Columns a total row's label may sit in, by sheet key.
LABEL_COLUMNS = {
    "htx": ("stt", "coop_code", "name"),
    "hotro": ("coop_code", "program", "content"),
    "ocop": ("coop_code", "product_name"),
    "lienket": ("coop_code", "partner"),
}
_SUMMED = {"members", "workers", "volume_tonnes"}
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def unaccent(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _fold(text: str) -> str:
    return unaccent(text).lower()


def unit_spellings(unit: str) -> tuple[str, ...]:
    return (unit, unit.upper(), unit.capitalize(), unaccent(unit))


def canonical_unit(spelled: str) -> str:
    return next(u for u in UNIT_SCALE if _fold(u) == _fold(spelled))


MONEY_UNIT_SPELLINGS = tuple(s for u in UNIT_SCALE for s in unit_spellings(u))


def _plain(name: str, value: object) -> bool:
    """The template's order or spellings, which the strategies draw explicitly."""
    if name in ("order", "sheet_order"):
        return value == tuple(range(len(value)))
    return name == "spellings" and all(s == Spelling() for s in value)


class _Short:
    """A repr that names only the fields that differ from their defaults.

    Hypothesis prints the falsifying drift; the full repr of every column's spelling would
    bury the one field that matters.
    """

    def __repr__(self) -> str:
        changed = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            if getattr(self, f.name) != f.default and not _plain(f.name, getattr(self, f.name))
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # hypothesis's pretty printer
        printer.text(repr(self))


@dataclass(frozen=True, repr=False)
class Spelling(_Short):
    """How one header is written (rule 3)."""

    alias: int = 0  # index into Column.names
    upper: bool = False
    unaccented: bool = False
    spaces: bool = False  # doubled inner spaces, padded outside
    line_break: bool = False  # the last inner space becomes a line break
    unit: str | None = None  # trailing "(unit)": a money unit for money columns


@dataclass(frozen=True, repr=False)
class Insert(_Short):
    """A row that is not a cooperative, inserted before record `before` (modulo the count)."""

    before: int
    kind: str  # one of EMPTY_ROWS, or a total label from TOTAL_LABELS
    column: str = "coop_code"  # where a total's label goes
    sums: bool = True  # a total row carries sums in its numeric columns


@dataclass(frozen=True, repr=False)
class SheetDrift(_Short):
    """Drift of one data sheet; the defaults write the plain template."""

    name: str = ""  # as written; "" is the template name
    order: tuple[int, ...] = ()  # layout column index at each position; () keeps the template's
    spellings: tuple[Spelling, ...] = ()  # per layout column; () keeps the template's
    titles: tuple[str, ...] = ()  # rows above the header (rule 1)
    unit_note: bool = False  # a "(Đơn vị tính: …)" title row repeating the file's unit
    two_row_header: bool = False  # HTX only: "Kết quả SXKD" over revenue and profit (rule 2)
    number_row: str | None = None  # one of NUMBER_ROWS (rule 2)
    extra_column: int | None = None  # position of an unknown column (rule 3)
    inserts: tuple[Insert, ...] = ()  # empty and total rows (rule 9)
    signature: tuple[str, str, str] | None = None  # column keys: date line, left, right (rule 1)
    sections: bool = False  # HTX only: sector and commune titles, subtotals (rule 11)
    merged: bool = False  # equal cells of neighbouring records merged down (rule 12)
    repeat_header: int | None = None  # the header block again before this record (rule 13)


@dataclass(frozen=True, repr=False)
class Drift(_Short):
    """Which drift to apply; the defaults write the plain template without title blocks.

    Per-cell choices (which of the allowed number styles, date styles, ... a cell gets) come
    from `random.Random(seed)`, so the drift stays small enough for hypothesis to shrink.
    """

    seed: int = 0
    sheets: tuple[SheetDrift, ...] = (SheetDrift(),) * len(DATA_SHEETS)  # in layout order
    sheet_order: tuple[int, ...] = ()  # 0 = ThongTin, 1.. = DATA_SHEETS, 5 = an extra sheet
    info_name: str = ""  # the ThongTin sheet's name as written
    info_keys_upper: bool = False
    info_keys_unaccented: bool = False
    info_values: bool = False  # unit code as a number, year and prepared date as text
    file_unit: str | None = "triệu đồng"  # ThongTin `Đơn vị tính`, spelled; None leaves it out
    numbers: tuple[str, ...] = ("cell",)  # NUMBER_STYLES (rule 5)
    padded_numbers: bool = False  # spaces around numbers written as text
    blanks: tuple[str, ...] = ("",)  # BLANK_MARKS for a NULL number (rule 6)
    dates: tuple[str, ...] = ("cell",)  # DATE_STYLES (rule 7)
    nfd: bool = False  # every string decomposed, as from macOS (rule 8)
    text_spaces: bool = False  # extra inner and outer spaces in text (rule 8)
    codes: tuple[str, ...] = ("text",)  # CODE_STYLES (rule 8)
    program_names: bool = False  # programme written by its Vietnamese name, not its code
    yes: tuple[object, ...] = ("x",)  # YES_MARKS (rule 10)
    no: tuple[object, ...] = ("",)  # NO_MARKS (rule 10)
    invisible: bool = False  # zero-width, NBSP, soft hyphens, apostrophes, full-width (15)
    accounting: bool = False  # negative amounts as `(12,5)` or `- 12,5` text (rule 14)
    cell_units: bool = False  # `1,2 tỷ`, `350 tr`, `25 người` in the cells (rule 14)


# ---------------------------------------------------------------------------------------
# Writing

Written = dict[tuple[str, str, int], int]  # (sheet key, coop code, record index) -> Excel row


def write_drifted(path: Path, report: UnitReport, drift: Drift) -> Written:
    """Write `report` as a district workbook with `drift` applied.

    Returns the Excel row (1-based, as Excel shows it) each record was written to.
    """
    workbook = xlsxwriter.Workbook(str(path), {"in_memory": True})
    writer = _Writer(workbook, drift)
    writer.report_year = report.year  # two-digit years are read against it (rule 18)
    order = drift.sheet_order or tuple(range(len(DATA_SHEETS) + 1))
    written: Written = {}
    for index in order:
        if index == 0:
            ws = workbook.add_worksheet(writer.sheet_name(drift.info_name or THONGTIN_NAMES[0]))
            writer.info(ws, report)
        elif index <= len(DATA_SHEETS):
            sheet = DATA_SHEETS[index - 1]
            sd = drift.sheets[index - 1]
            ws = workbook.add_worksheet(writer.sheet_name(sd.name or sheet.name))
            records = _records(report, sheet)
            for i, excel_row in writer.table(ws, sheet, sd, records, report).items():
                written[(sheet.key, records[i].coop_code, i)] = excel_row
        else:
            ws = workbook.add_worksheet(writer.sheet_name("Hướng dẫn"))
            ws.write_string(0, 0, writer.text("Điền số liệu vào các sheet HTX, HoTro, OCOP"))
    workbook.close()
    return written


def _records(report: UnitReport, sheet: Sheet) -> tuple:
    return {
        "htx": report.coops,
        "hotro": report.support,
        "ocop": report.ocop,
        "lienket": report.offtake,
    }[sheet.key]


def _transform(text: str, spelling: Spelling) -> str:
    if spelling.unaccented:
        text = unaccent(text)
    if spelling.upper:
        text = text.upper()
    if spelling.line_break and " " in text:
        head, _, tail = text.rpartition(" ")
        text = f"{head}\n{tail}"
    if spelling.spaces:
        text = "  " + text.replace(" ", "  ") + " "
    return text


def header_text(column: Column, spelling: Spelling) -> str:
    name = column.names[spelling.alias % len(column.names)]
    name = re.sub(r"\s*\([^()]*\)\s*$", "", name)  # `Sản lượng (tấn)`: the unit is drawn
    if spelling.unit:
        name = f"{name} ({spelling.unit})"
    return _transform(name, spelling)


def written_columns(sheet: Sheet, sd: SheetDrift) -> list[Column | None]:
    """The sheet's columns in written order; None is the unknown extra column."""
    order = list(sd.order or range(len(sheet.columns)))
    if sd.two_row_header and sheet is HTX:  # a merged group cell spans neighbours
        keys = [c.key for c in sheet.columns]
        profit = keys.index("profit_before_tax_mvnd")
        order.remove(profit)
        order.insert(order.index(keys.index("revenue_mvnd")) + 1, profit)
    columns: list[Column | None] = [sheet.columns[i] for i in order]
    if sd.extra_column is not None:
        at = sd.extra_column % (len(columns) + 1)
        if sd.two_row_header and sheet is HTX and at and columns[at - 1].key == "revenue_mvnd":
            at -= 1
        columns.insert(at, None)
    return columns


def _group(whole: str, sep: str) -> str:
    head = len(whole) % 3 or 3
    return sep.join([whole[:head]] + [whole[i : i + 3] for i in range(head, len(whole), 3)])


def _ambiguous(text: str) -> bool:
    """One separator, once, before three digits: the spec reads it the Vietnamese way."""
    return bool(re.fullmatch(r"\d{1,3}[.,]\d{3}", text))


def number_text(value: Decimal, style: str) -> str:
    """`value` as text in `style` (plain, vn or en), never in an ambiguous English form."""
    sign = "-" if value < 0 else ""
    digits = format(abs(value).normalize(), "f")
    whole, _, frac = digits.partition(".")
    vn = _group(whole, ".") + ("," + frac if frac else "")
    if style == "plain":
        body = digits
    elif style == "en":
        body = _group(whole, ",") + ("." + frac if frac else "")
    else:
        body = vn
    if style != "vn" and (
        _ambiguous(body) or (style == "plain" and "." in body and len(frac) == 3)
    ):
        body = vn  # rule 5: the Vietnamese reading of `1.250` wins, so write it that way
    return sign + body


class _Writer:
    def __init__(self, workbook: xlsxwriter.Workbook, drift: Drift) -> None:
        self.drift = drift
        self.rng = random.Random(drift.seed)
        self.date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
        self.border = workbook.add_format({"border": 1})
        self.file_unit = canonical_unit(drift.file_unit) if drift.file_unit else "triệu đồng"
        self.report_year = 2030

    # Cells ------------------------------------------------------------------------------

    def sheet_name(self, value: str) -> str:
        return unicodedata.normalize("NFD", value) if self.drift.nfd else value

    def text(self, value: str) -> str:
        value = self.sheet_name(value)
        return self.invisible(value) if self.drift.invisible else value

    def invisible(self, value: str) -> str:
        """Rule 15: the same text with what no one sees, in one or two of its places."""
        if not value.strip() or self.rng.random() < 0.3:
            return value
        for _ in range(1 + self.rng.randrange(2)):
            how = self.rng.randrange(4)
            if how == 0:
                at = self.rng.choice((0, len(value)))
                value = value[:at] + self.pick(INVISIBLE) + value[at:]
            elif how == 1 and " " in value.strip():
                at = value.index(" ", len(value) - len(value.lstrip()))
                value = value[:at] + "\u00a0" + value[at + 1 :]
            elif how == 2:
                inside = [i for i in range(1, len(value)) if value[i - 1 : i + 1].isalnum()]
                if inside:
                    at = self.pick(tuple(inside))
                    value = value[:at] + "\u00ad" + value[at:]
            else:
                value = value.translate(_FULL_WIDTH)
        return value

    def put(self, ws, r: int, c: int, value: object) -> None:
        if value is None or value == "":
            ws.write_blank(r, c, None, self.border)
        elif isinstance(value, str):
            ws.write_string(r, c, self.text(value))
        elif isinstance(value, dt.date):
            ws.write_datetime(
                r, c, dt.datetime(value.year, value.month, value.day), self.date_format
            )
        else:
            ws.write_number(r, c, value)

    def pick(self, options: tuple):
        return options[self.rng.randrange(len(options))]

    def spaced(self, text: str) -> str:
        if not self.drift.text_spaces or self.rng.random() < 0.3:
            return text
        return " " + text.replace(" ", "  ") + "  "

    def number(self, value: Decimal, integral: bool) -> object:
        style = self.pick(self.drift.numbers)
        if self.drift.accounting and value < 0 and self.rng.random() < 0.8:
            text = number_text(-value, "vn" if style == "cell" else style)
            return f"({text})" if self.rng.random() < 0.5 else f"- {text}"
        if style == "cell":
            return int(value) if integral or value == value.to_integral() else float(value)
        text = number_text(value, style)
        if self.drift.padded_numbers and self.rng.random() < 0.7:
            text = f"  {text} "
        return text

    def value(self, column: Column, value: object, unit: str) -> object:
        """The cell for a clean value; `unit` is the money unit the column is written in."""
        cell = self._value(column, value, unit)
        typed = column.kind in ("int", "number", "money", "date", "code")
        marked = self.drift.invisible and typed and isinstance(cell, str) and cell.strip()
        if marked and self.rng.random() < 0.3:  # Excel's text mark, pasted in (rule 15)
            return "'" + str(cell)
        return cell

    def _value(self, column: Column, value: object, unit: str) -> object:
        kind = column.kind
        if kind in ("int", "number", "money"):
            if value is None:
                return self.pick(self.drift.blanks)
            amount = Decimal(str(value))
            if self.drift.cell_units and self.rng.random() < 0.6:
                if kind == "money":  # the cell's own unit wins over the column's
                    spelled, scale = self.pick(CELL_MONEY_UNITS)
                    return f"{self.number_as_text(amount * scale)} {spelled}"
                if column.units:
                    return f"{self.number_as_text(amount)} {self.pick(column.units)}"
            if kind == "money":
                amount *= UNIT_SCALE[unit]
            return self.number(amount, kind == "int")
        if kind == "date":
            return None if value is None else self.date(value)
        if kind == "yesno":
            return self.pick(self.drift.yes if value else self.drift.no)
        if kind == "code":
            return self.code(value)
        if kind == "program" and self.drift.program_names:
            value = next(vi for code, vi, _en in PROGRAMS if code == value)
        if value is None or value == "":
            return "   " if self.drift.text_spaces else None
        if isinstance(value, int):
            return value  # STT
        return self.spaced(str(value))

    def number_as_text(self, value: Decimal) -> str:
        style = self.pick(self.drift.numbers)
        return number_text(value, "vn" if style == "cell" else style)

    def date(self, value: dt.date) -> object:
        style = self.pick(self.drift.dates)
        if style == "d/m/yy":
            yy = value.year % 100
            read_as = 2000 + yy if 2000 + yy <= self.report_year else 1900 + yy
            if read_as != value.year:
                style = "dd/mm/yyyy"  # its two digits would read as another century
        if style == "cell":
            return value
        if style == "serial":
            return (value - _EXCEL_EPOCH).days
        d, m, y = value.day, value.month, value.year
        return {
            "dd/mm/yyyy": f"{d:02d}/{m:02d}/{y}",
            "d/m/yyyy": f"{d}/{m}/{y}",
            "dd-mm-yyyy": f"{d:02d}-{m:02d}-{y}",
            "yyyy-mm-dd": f"{y}-{m:02d}-{d:02d}",
            "words": f"ngày {d} tháng {m} năm {y}",
            "dd.mm.yyyy": f"{d:02d}.{m:02d}.{y}",
            "d/m/yy": f"{d}/{m}/{y % 100:02d}",
        }[style]

    def code(self, code: str) -> object:
        style = self.pick(self.drift.codes)
        if style == "int" and code.isdigit():
            return int(code)
        if style == "spaced":
            code = f"{code[:4]} {code[4:7]} {code[7:]}"
        elif style == "dotted":
            code = f"{code[:4]}.{code[4:7]}.{code[7:]}"
        return self.spaced(code) if self.drift.text_spaces else code

    # Sheets -----------------------------------------------------------------------------

    def info(self, ws, report: UnitReport) -> None:
        drift = self.drift

        def key(name: str) -> str:
            label = unaccent(THONGTIN_KEYS[name]) if drift.info_keys_unaccented else None
            label = label or THONGTIN_KEYS[name]
            return label.upper() if drift.info_keys_upper else label

        d = report.prepared_on
        drifted = drift.info_values
        rows: list[tuple[str, object]] = [
            ("Thông tin", "Giá trị"),
            (key("unit_code"), int(report.unit.code) if drifted else report.unit.code),
            (key("unit_name"), report.unit.full_name),
            (key("report_year"), str(report.year) if drifted else report.year),
            (key("prepared_on"), f"{d.day}/{d.month}/{d.year}" if drifted else d),
            (key("prepared_by"), report.prepared_by),
        ]
        if drift.file_unit:
            rows.append((key("money_unit"), drift.file_unit))
        for r, (label, value) in enumerate(rows):
            self.put(ws, r, 0, label)
            self.put(ws, r, 1, value)

    def table(self, ws, sheet: Sheet, sd: SheetDrift, records: tuple, report) -> dict[int, int]:
        """Write one data sheet; returns the Excel row of each record by its index."""
        two_rows = sd.two_row_header and sheet is HTX
        columns = written_columns(sheet, sd)
        spellings = dict(
            zip(sheet.columns, sd.spellings or (Spelling(),) * len(sheet.columns), strict=True)
        )
        units = {
            c.key: canonical_unit(s.unit) if c.kind == "money" and s.unit else self.file_unit
            for c, s in spellings.items()
        }
        width = len(columns)
        r = 0
        for title in sd.titles:
            self._title(ws, r, width, title)
            r += 1
        if sd.unit_note:
            self._title(ws, r, width, f"(Đơn vị tính: {self.drift.file_unit or 'triệu đồng'})")
            r += 1
        r = self._header(ws, r, sheet, columns, spellings, two_rows)
        r = self._number_row(ws, r, width, sd)
        inserts: dict[int, list[Insert]] = {}
        for insert in sd.inserts:
            inserts.setdefault(insert.before % (len(records) + 1), []).append(insert)
        rows: dict[int, int] = {}
        sections = _Sections() if sd.sections and sheet is HTX else None
        order = list(range(len(records)))
        if sections is not None:  # grouped by sector, then commune, as such reports are
            order.sort(key=lambda i: (records[i].sector or "", records[i].commune_name or ""))
        cells: dict[tuple[int, int], object] = {}  # (row, column) -> a record's cell
        for n in range(len(records) + 1):
            for insert in inserts.get(n, []):
                self._insert(ws, r, columns, insert, records, units)
                r += 1
            if n == len(records):
                break
            i = order[n]
            if sd.repeat_header is not None and n and n == sd.repeat_header % len(records):
                r = self._header(ws, r, sheet, columns, spellings, two_rows)  # a page break
                r = self._number_row(ws, r, width, sd)
            supplied: set[str] = set()
            if sections is not None:
                r, supplied = self._section(ws, r, columns, records[i], sections, units)
            for c, column in enumerate(columns):
                if column is None:
                    self.put(ws, r, c, f"0261 3{self.rng.randrange(10**5, 10**6)}")
                    continue
                clean = i + 1 if column.key == "stt" else getattr(records[i], column.key)
                value = (
                    None if column.key in supplied else self.value(column, clean, units[column.key])
                )
                self.put(ws, r, c, value)
                cells[(r, c)] = value
            rows[i] = r + 1
            r += 1
        if sd.merged:
            self._merge_down(ws, columns, cells)
        if sd.signature:
            self._signature(ws, r + 1, columns, sd.signature, report)
        return rows

    def _number_row(self, ws, r: int, width: int, sd: SheetDrift) -> int:
        if not sd.number_row:
            return r
        for c in range(width):
            number = {"(n)": f"({c + 1})", "n": str(c + 1), "int": c + 1}.get(sd.number_row)
            self.put(ws, r, c, number or chr(ord("A") + c))
        return r + 1

    def _section(self, ws, r, columns, record, state: _Sections, units) -> tuple[int, set[str]]:
        """Group titles before `record` where its sector or commune changes (rule 11): a
        Roman numeral over a sector (ending both kinds, after the group's subtotal), a letter
        or a bare `Xã …` over a commune. Returns the next row and the keys the titles supply."""
        position = {c.key: i for i, c in enumerate(columns) if c is not None}
        sector, commune = record.sector or None, record.commune_name or None
        if sector != state.sector or (commune is None and state.commune is not None):
            if state.roman and state.members is not None:  # the group before: its sums
                self.put(ws, r, position["members"], self.number(Decimal(state.members), True))
                r += 1
            state.roman += 1
            numeral = _roman(state.roman)
            title = f"Lĩnh vực {sector}" if sector else "HTX chưa phân loại"
            if self.rng.random() < 0.5:
                self.put(ws, r, position["stt"], f"{numeral}. {title.upper()}")
            else:
                self.put(ws, r, position["stt"], numeral)
                self.put(ws, r, position["name"], title + self.pick(("", ":")))
            r += 1
            state.sector, state.commune, state.letter, state.members = sector, None, 0, None
        if commune is not None and commune != state.commune:
            state.letter += 1
            if self.rng.random() < 0.5:
                self.put(ws, r, position["stt"], f"{chr(ord('a') + (state.letter - 1) % 26)})")
                self.put(ws, r, position["name"], f"Xã {commune}:")
            else:
                self.put(ws, r, position["name"], f"Xã {commune}")
            r += 1
            state.commune = commune
        if record.members is not None:
            state.members = (state.members or 0) + record.members
        supplied = {k for k, v in (("sector", sector), ("commune_name", commune)) if v is not None}
        return r, supplied

    def _merge_down(self, ws, columns, cells: dict[tuple[int, int], object]) -> None:
        """Equal cells of records on neighbouring rows merged into one (rule 12): a commune,
        a sector, a rating, a yes/no mark."""
        for c, column in enumerate(columns):
            if column is None or not (
                column.kind in ("category", "yesno", "program") or column.key == "commune_name"
            ):
                continue
            run: list[int] = []
            for r in [*sorted(row for row, col in cells if col == c), -1]:
                value = cells.get((r, c))
                if run and (r != run[-1] + 1 or value != cells[(run[0], c)]):
                    first = cells[(run[0], c)]
                    if len(run) > 1 and first is not None and first != "":
                        text = self.text(first) if isinstance(first, str) else first
                        ws.merge_range(run[0], c, run[-1], c, text, self.border)
                    run = []
                run.append(r)

    def _title(self, ws, r: int, width: int, title: str) -> None:
        if not title:
            return
        where = self.rng.randrange(3)
        if where == 0:
            ws.merge_range(r, 0, r, width - 1, self.text(title), self.border)
        else:
            self.put(ws, r, 0 if where == 1 else width // 2, title)

    def _header(self, ws, r, sheet, columns, spellings, two_rows: bool) -> int:
        for c, column in enumerate(columns):
            text = EXTRA_HEADER if column is None else header_text(column, spellings[column])
            if two_rows and column is not None and column.key == "revenue_mvnd":
                ws.merge_range(r, c, r, c + 1, self.text(GROUP_HEADER), self.border)
                self.put(ws, r + 1, c, text)
            elif two_rows and column is not None and column.key == "profit_before_tax_mvnd":
                self.put(ws, r + 1, c, text)
            elif two_rows:
                ws.merge_range(r, c, r + 1, c, self.text(text), self.border)
            else:
                self.put(ws, r, c, text)
        return r + (2 if two_rows else 1)

    def _insert(self, ws, r, columns, insert: Insert, records: tuple, units) -> None:
        if insert.kind == "empty":
            return
        for c, column in enumerate(columns):
            value: object = None
            if insert.kind == "spaces":
                value = " " * (1 + c % 3)
            elif insert.kind in TOTAL_LABELS and column is not None:
                if column.key == insert.column:
                    value = insert.kind
                elif insert.sums and (column.kind == "money" or column.key in _SUMMED):
                    known = [getattr(x, column.key) for x in records]
                    total = sum(Decimal(str(v)) for v in known if v is not None)
                    if column.kind == "money":
                        total *= UNIT_SCALE[units[column.key]]
                    value = self.number(total, column.kind == "int")
            self.put(ws, r, c, value)

    def _signature(self, ws, r, columns, keys: tuple[str, str, str], report: UnitReport) -> None:
        position = {c.key: i for i, c in enumerate(columns) if c is not None}
        date_col, left, right = (position[k] for k in keys)
        d = report.prepared_on
        self.put(ws, r, date_col, f"{report.unit.name}, ngày {d.day} tháng {d.month} năm {d.year}")
        lines = [
            ("Người lập biểu", "TRƯỞNG PHÒNG"),
            ("(Ký, ghi rõ họ tên)", "(Ký, ghi rõ họ tên)"),
            (None, None),
            (None, None),
            (report.prepared_by, report.head_of_office),
        ]
        for offset, (a, b) in enumerate(lines, start=1):
            if a:
                self.put(ws, r + offset, left, a)
            if b and right != left:
                self.put(ws, r + offset, right, b)


@dataclass
class _Sections:
    """Where the section titles written so far leave the rows below (rule 11)."""

    sector: str | None = None
    commune: str | None = None
    roman: int = 0
    letter: int = 0
    members: int | None = None  # the group's sum so far, for its subtotal row


def _roman(n: int) -> str:
    tens, ones = divmod(n, 10)
    return "X" * tens + ("", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX")[ones]


# ---------------------------------------------------------------------------------------
# Strategies


def _subset(options: tuple) -> st.SearchStrategy[tuple]:
    """A non-empty selection of `options`, in their order, shrinking towards the first."""
    return st.lists(st.sampled_from(options), min_size=1, max_size=len(options), unique=True).map(
        lambda chosen: tuple(o for o in options if o in chosen)
    )


@st.composite
def sheet_names(draw, names: tuple[str, ...]) -> str:
    """A sheet name from the layout's names, drifted in case, accents and spaces."""
    name = draw(st.sampled_from(names))
    case = draw(st.sampled_from(("as is", "lower", "upper", "title")))
    name = {"lower": name.lower(), "upper": name.upper(), "title": name.title()}.get(case, name)
    if draw(st.booleans()):
        name = unaccent(name)
    spaces = draw(st.sampled_from(("as is", "none", "doubled")))
    return {"none": name.replace(" ", ""), "doubled": name.replace(" ", "  ")}.get(spaces, name)


@st.composite
def spellings(draw, column: Column) -> Spelling:
    if column.kind == "money":
        unit = draw(st.none() | st.sampled_from(MONEY_UNIT_SPELLINGS))
    elif column.key in PLAIN_UNITS:
        unit = draw(st.sampled_from((None, PLAIN_UNITS[column.key])))
    else:
        unit = None
    return Spelling(
        alias=draw(st.integers(0, len(column.names) - 1)),
        upper=draw(st.booleans()),
        unaccented=draw(st.booleans()),
        spaces=draw(st.booleans()),
        line_break=draw(st.booleans()),
        unit=unit,
    )


@st.composite
def sheet_drifts(draw, sheet: Sheet) -> SheetDrift:
    keys = [c.key for c in sheet.columns]
    inserts = st.builds(
        Insert,
        before=st.integers(0, 200),
        kind=st.sampled_from(EMPTY_ROWS + TOTAL_LABELS),
        column=st.sampled_from(LABEL_COLUMNS[sheet.key]),
        sums=st.booleans(),
    )
    return SheetDrift(
        name=draw(sheet_names(sheet.names)),
        order=tuple(draw(st.permutations(range(len(sheet.columns))))),
        spellings=tuple(draw(spellings(c)) for c in sheet.columns),
        titles=tuple(draw(st.lists(st.sampled_from(TITLES), max_size=6))),
        unit_note=draw(st.booleans()),
        two_row_header=sheet is HTX and draw(st.booleans()),
        number_row=draw(st.none() | st.sampled_from(NUMBER_ROWS)),
        extra_column=draw(st.none() | st.integers(0, 30)),
        inserts=tuple(draw(st.lists(inserts, max_size=4))),
        signature=draw(st.none() | st.tuples(*[st.sampled_from(keys)] * 3)),
        sections=sheet is HTX and draw(st.booleans()),
        merged=draw(st.booleans()),
        repeat_header=draw(st.none() | st.integers(0, 200)),
    )


@st.composite
def drifts(draw) -> Drift:
    """Random combinations of the spec's drift (rules 1-10, 14, 15 and 18)."""
    order = list(range(len(DATA_SHEETS) + 1))
    if draw(st.booleans()):
        order.append(len(DATA_SHEETS) + 1)
    return Drift(
        seed=draw(st.integers(0, 2**16)),
        sheets=tuple(draw(sheet_drifts(s)) for s in DATA_SHEETS),
        sheet_order=tuple(draw(st.permutations(order))),
        info_name=draw(sheet_names(THONGTIN_NAMES)),
        info_keys_upper=draw(st.booleans()),
        info_keys_unaccented=draw(st.booleans()),
        info_values=draw(st.booleans()),
        file_unit=draw(st.none() | st.sampled_from(MONEY_UNIT_SPELLINGS)),
        numbers=draw(_subset(NUMBER_STYLES)),
        padded_numbers=draw(st.booleans()),
        blanks=draw(_subset(BLANK_MARKS)),
        dates=draw(_subset(DATE_STYLES + WORD_DATE_STYLES)),
        nfd=draw(st.booleans()),
        text_spaces=draw(st.booleans()),
        codes=draw(_subset(CODE_STYLES)),
        program_names=draw(st.booleans()),
        yes=draw(_subset(YES_MARKS)),
        no=draw(_subset(NO_MARKS)),
        invisible=draw(st.booleans()),
        accounting=draw(st.booleans()),
        cell_units=draw(st.booleans()),
    )


# ---------------------------------------------------------------------------------------
# Fixed drift for the deterministic examples


def on_sheet(sheet: Sheet, sheet_drift: SheetDrift) -> tuple[SheetDrift, ...]:
    """`sheet_drift` for `sheet`, the plain template for the other data sheets."""
    return tuple(sheet_drift if s is sheet else SheetDrift() for s in DATA_SHEETS)


def respelled(sheet: Sheet, **by_key: Spelling) -> tuple[Spelling, ...]:
    """The template's headers except the columns named."""
    return tuple(by_key.get(c.key, Spelling()) for c in sheet.columns)


def moved_last(sheet: Sheet, key: str) -> tuple[int, ...]:
    """The template's column order with one column moved to the end."""
    keys = [c.key for c in sheet.columns]
    at = keys.index(key)
    return (*(i for i in range(len(keys)) if i != at), at)


def every_drift() -> Drift:
    """Every kind of drift at once, each in several of its forms."""
    sheets = []
    for sheet in DATA_SHEETS:
        money = [c for c in sheet.columns if c.kind == "money"]
        spelled_units = ("đồng", "TỶ ĐỒNG", None, "nghin dong", None)
        units = dict(zip((c.key for c in money), spelled_units, strict=False))
        spelled = tuple(
            Spelling(
                alias=len(c.names) - 1,
                upper=i % 2 == 0,
                unaccented=i % 3 == 0,
                spaces=i % 2 == 1,
                line_break=True,
                unit=units.get(c.key) or PLAIN_UNITS.get(c.key),
            )
            for i, c in enumerate(sheet.columns)
        )
        n = len(sheet.columns)
        money_key = money[0].key if money else sheet.columns[-1].key
        sheets.append(
            SheetDrift(
                name=unaccent(sheet.names[-1]).upper(),
                order=tuple(reversed(range(n))),
                spellings=spelled,
                titles=TITLES[:6],
                unit_note=True,
                two_row_header=sheet is HTX,
                number_row="(n)",
                extra_column=2,
                inserts=(
                    Insert(0, "empty"),
                    Insert(2, "Cộng", column=LABEL_COLUMNS[sheet.key][-1]),
                    Insert(3, "spaces"),
                    Insert(3, "blank cells"),
                    Insert(4, "Tổng", column="coop_code", sums=False),
                    Insert(200, "TỔNG CỘNG", column=LABEL_COLUMNS[sheet.key][0]),
                    Insert(200, "empty"),
                ),
                signature=(money_key, "coop_code", money_key),
                sections=sheet is HTX,
                merged=True,
                repeat_header=3,
            )
        )
    return Drift(
        seed=2023,
        sheets=tuple(sheets),
        sheet_order=(5, 2, 4, 0, 3, 1),
        info_name="thong  tin",
        info_keys_upper=True,
        info_keys_unaccented=True,
        info_values=True,
        file_unit="nghìn đồng",
        numbers=NUMBER_STYLES,
        padded_numbers=True,
        blanks=BLANK_MARKS,
        dates=DATE_STYLES + WORD_DATE_STYLES,
        nfd=True,
        text_spaces=True,
        codes=CODE_STYLES,
        program_names=True,
        yes=YES_MARKS,
        no=NO_MARKS,
        invisible=True,
        accounting=True,
        cell_units=True,
    )


def ty_dong_as_text() -> Drift:
    """Only this: money in tỷ đồng for the whole file, every number written as text."""
    return Drift(file_unit="tỷ đồng", numbers=("plain", "vn", "en"))


def cell_drift(**only: object) -> Drift:
    """Only rules 14, 15 and 18, on every sheet: what one cell may carry."""
    return Drift(seed=16, numbers=("cell", "plain", "vn", "en"), **only)  # type: ignore[arg-type]
