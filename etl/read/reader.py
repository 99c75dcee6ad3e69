"""Reads one district workbook into typed rows, with the Excel row of every value.

The reader absorbs the drift the spec lists and records what it cannot read as findings.
It never judges the data: the rules are the GX suites' (see `validate.py`). A file that
cannot be opened, or lacks a required sheet or column, comes back with `rejection` set.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from etl.config import Limits
from etl.contract.findings import ERROR, INFO, Finding, bilingual, cell_address, reason
from etl.contract.layout import DATA_SHEETS, THONGTIN_KEYS, THONGTIN_NAMES, Column, Sheet
from etl.read import cells, guard
from etl.read.headers import find_header
from etl.text import clean, match_key

_TOTAL_WORDS = ("tong", "cong")
_NUMERIC_KINDS = {"int", "number", "money", "date"}

# Columns whose parse failures are recorded beside the typed value, for the GX suites.
PARSED_KINDS = {"int", "number", "money", "date", "yesno"}


def unparsed(key: str) -> str:
    """Name of the column that holds a cell's text when it could not be read as its kind."""
    return f"{key}__unparsed"


def precision(key: str) -> str:
    """Name of the column that says how much of a date the cell gave: day, month or year."""
    return f"{key}_precision"


@dataclass
class SheetRows:
    sheet: Sheet
    sheet_name: str  # as written in the workbook
    rows: list[dict]  # typed values by column key, plus `excel_row` and `*__unparsed`
    rows_skipped: int = 0  # empty, total and signature rows
    columns: dict[str, int] = field(default_factory=dict)  # column key -> 0-based index


@dataclass
class WorkbookRead:
    info: dict[str, object] = field(default_factory=dict)  # ThongTin values by key
    sheets: dict[str, SheetRows] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    rejection: Finding | None = None

    rows_scanned: int = 0  # rows taken from the file, blank ones included: the memory bound

    @property
    def rows_read(self) -> int:
        return sum(len(s.rows) for s in self.sheets.values())


def _sheet_key(name: str) -> str:
    return match_key(name).replace(" ", "")


def read_workbook(
    path: Path, limits: Limits | None = None, file_name: str | None = None
) -> WorkbookRead:
    """Read every sheet of the layout from a workbook; never raises for a bad file.

    `file_name`, the name the file arrived under, gives the report year when ThongTin does
    not: a two-digit year in a date cell is read against it (rule 18).
    """
    limits = limits or Limits()
    if path.stat().st_size > limits.file_bytes:
        return WorkbookRead(rejection=_limit(guard.LimitExceeded(
            "file_too_large", f"{path.stat().st_size // (1024 * 1024)} MB"
        )))  # fmt: skip
    kind = guard.sniff(path)
    if kind == "corrupt":
        return WorkbookRead(rejection=_unreadable(ValueError("tệp bị hỏng / damaged file")))
    if kind in _UNREADABLE:
        return WorkbookRead(
            rejection=Finding(
                rule=_UNREADABLE[kind], severity=ERROR, message=reason(_UNREADABLE[kind])
            )
        )
    with tempfile.TemporaryDirectory(prefix="htx-read-") as work_dir:
        try:
            source = guard.bounded(path, Path(work_dir), limits.rows, limits.expanded_bytes)
        except guard.LimitExceeded as exc:
            return WorkbookRead(rejection=_limit(exc))
        except Exception as exc:  # a broken zip or XML inside: calamine would fail too
            return WorkbookRead(rejection=_unreadable(exc))
        return _read(source, limits, file_name)


_UNREADABLE = {"empty": "file_empty", "encrypted": "file_encrypted", "unknown": "not_a_spreadsheet"}


def _unreadable(exc: Exception) -> Finding:
    return Finding(
        rule="file_unreadable",
        severity=ERROR,
        message=reason("file_unreadable", detail=_short(exc)),
    )


def _limit(exc: guard.LimitExceeded) -> Finding:
    return Finding(rule=exc.rule, severity=ERROR, message=reason(exc.rule, detail=exc.detail))


def _read(path: Path, limits: Limits, file_name: str | None = None) -> WorkbookRead:
    from python_calamine import CalamineWorkbook

    from etl.read.identify import report_year

    result = WorkbookRead()
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = {_sheet_key(n): n for n in workbook.sheet_names}
    except Exception as exc:  # calamine raises many types for corrupt files
        result.rejection = _unreadable(exc)
        return result
    try:
        thongtin = _find_sheet(names, THONGTIN_NAMES)
        if thongtin:
            rows = _sheet_rows(workbook, thongtin)
            result.rows_scanned += len(rows)
            result.info = _read_info(rows)
        for sheet in DATA_SHEETS:
            actual = _find_sheet(names, sheet.names)
            if actual is None:
                if sheet.required:
                    result.rejection = Finding(
                        rule="sheet_missing",
                        severity=ERROR,
                        message=reason("sheet_missing", sheet=sheet.name),
                        sheet=sheet.name,
                    )
                    return result
                continue
            rows = _sheet_rows(workbook, actual)
            result.rows_scanned += len(rows)
            if len(rows) > limits.rows:  # .xls: no cheaper way to know
                result.rejection = _limit(
                    guard.LimitExceeded("too_many_rows", f"{actual}: {len(rows)} rows")
                )
                return result
            money_unit = result.info.get("money_unit")
            year = report_year(result.info, file_name)  # two-digit years in dates (rule 18)
            read = _read_sheet(sheet, actual, rows, money_unit, result.findings, limits, year)
            if isinstance(read, Finding):
                result.rejection = read
                return result
            result.sheets[sheet.key] = read
    except Exception as exc:  # a sheet calamine opened but cannot decode
        result.rejection = _unreadable(exc)
    finally:
        workbook.close()
    return result


def _short(exc: Exception) -> str:
    text = clean(str(exc)) or type(exc).__name__
    return text[:200]


def _find_sheet(names: dict[str, str], wanted: tuple[str, ...]) -> str | None:
    for name in wanted:
        actual = names.get(_sheet_key(name))
        if actual is not None:
            return actual
    return None


def _sheet_rows(workbook, name: str) -> list[list]:
    sheet = workbook.get_sheet_by_name(name)
    return sheet.to_python(skip_empty_area=False)


def _read_info(rows: list[list]) -> dict[str, object]:
    by_label = {match_key(label): key for key, label in THONGTIN_KEYS.items()}
    info: dict[str, object] = {}
    for row in rows:
        if len(row) < 2:
            continue
        key = by_label.get(match_key(row[0]))
        if key and row[1] is not None and clean(row[1]) != "":
            info[key] = row[1]
    return info


def _read_sheet(
    sheet: Sheet,
    actual_name: str,
    rows: list[list],
    file_unit: object,
    findings: list[Finding],
    limits: Limits,
    report_year: int | None = None,
) -> SheetRows | Finding:
    header = find_header(rows, sheet)
    if header is None or header.missing:
        missing = header.missing if header else [c.key for c in sheet.columns if c.required]
        labels = ", ".join(sheet.column(k).header for k in missing)
        rule = "header_not_found" if header is None else "column_missing"
        return Finding(
            rule=rule,
            severity=ERROR,
            message=reason(rule, sheet=actual_name, columns=labels),
            sheet=actual_name,
            excel_row=None if header is None else header.header_row + 1,
        )
    for text in header.extra:
        findings.append(
            Finding(
                rule="column_unknown",
                severity=INFO,
                message=bilingual(
                    f"Cột '{text}' không có trong mẫu, đã bỏ qua.",
                    f"Column '{text}' is not in the template and was ignored.",
                ),
                sheet=actual_name,
                excel_row=header.header_row + 1,
                column_name=text,
            )
        )
    default_factor = cells.money_factor(clean(file_unit) if file_unit else None)
    note_factor = cells.money_factor(header.note_unit)
    factors = {
        key: cells.money_factor(header.units.get(key)) or note_factor or default_factor or 1.0
        for key in header.columns
    }
    out = SheetRows(sheet=sheet, sheet_name=actual_name, rows=[], columns=dict(header.columns))
    columns = [(sheet.column(k), i) for k, i in header.columns.items()]
    for index in range(header.data_start, len(rows)):
        row = rows[index]
        if _is_skipped(row, columns):
            out.rows_skipped += 1
            continue
        out.rows.append(
            _typed_row(row, index + 1, columns, factors, findings, actual_name, report_year)
        )
        for column, position in columns:
            raw = _cell(row, position)
            if isinstance(raw, str) and len(raw) > limits.cell_chars:
                out.rows[-1][column.key] = raw[: limits.cell_chars]
                findings.append(
                    Finding(
                        rule="cell_too_long",
                        severity=ERROR,
                        message=reason("cell_too_long", chars=len(raw), limit=limits.cell_chars),
                        sheet=actual_name,
                        excel_row=index + 1,
                        column_name=column.header,
                        value=raw[:200],
                        cell=cell_address(position, index + 1),
                    )
                )
    return out


def _cell(row: list, index: int) -> object:
    value = row[index] if index < len(row) else None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _is_skipped(row: list, columns: list[tuple[Column, int]]) -> bool:
    """Empty rows, total and subtotal rows and the signature block are not data."""
    row_cells = [_cell(row, i) for i in range(len(row))]
    if all(c is None for c in row_cells):
        return True
    # `Người lập biểu` or `Đắk Mil, ngày 15 tháng 1 năm 2024` in the code column is the
    # signature block, not a cooperative.
    if any(c.key == "coop_code" and _looks_like_code(_cell(row, i)) for c, i in columns):
        return False
    labels = [match_key(c) for c in row_cells if isinstance(c, str)]
    if any(_is_total_label(label) for label in labels):
        return True
    for column, index in columns:
        if column.kind in _NUMERIC_KINDS:
            try:
                parsed: object
                if column.kind == "date":
                    parsed = cells.parse_date(_cell(row, index))
                else:
                    parsed = cells.parse_number(_cell(row, index))
            except (ValueError, OverflowError):
                continue
            if parsed is not None:
                return False
    return True


def _is_total_label(label: str) -> bool:
    """`Tổng cộng`, `Cộng`, `Tổng`, `Cộng nhóm nông nghiệp`, `Tổng số`…"""
    return any(label == word or label.startswith(word + " ") for word in _TOTAL_WORDS)


def _looks_like_code(value: object) -> bool:
    """Mostly digits, at least 8 of them: a code, even a mistyped one; or a code Excel
    destroyed into scientific notation (`6.4E+09`, rule 16), an error of its row."""
    if value is None:
        return False
    text = "".join(str(value).split())
    digits = sum(ch.isdigit() for ch in text)
    return (digits >= 8 and digits * 2 >= len(text)) or cells.is_destroyed_code(text)


def _typed_row(
    row: list,
    excel_row: int,
    columns: list[tuple[Column, int]],
    factors: dict[str, float],
    findings: list[Finding],
    sheet_name: str,
    report_year: int | None = None,
) -> dict:
    typed: dict[str, object] = {"excel_row": excel_row}
    for column, index in columns:
        raw = _cell(row, index)
        try:
            if column.kind == "date":
                dated = cells.parse_dated(raw, report_year)
                typed[column.key], typed[precision(column.key)] = dated or (None, None)
            else:
                typed[column.key] = _convert(column, raw, factors[column.key])
        except cells.UnitMismatch as exc:  # a unit that does not fit: an error of the cell
            typed[column.key] = None
            findings.append(
                Finding(
                    rule="unit_mismatch",
                    severity=ERROR,
                    message=reason("unit_mismatch", unit=exc.unit, column=column.header),
                    sheet=sheet_name,
                    excel_row=excel_row,
                    column_name=column.header,
                    value=clean(raw)[:200],
                    cell=cell_address(index, excel_row),
                )
            )
        except (ValueError, OverflowError):
            typed[column.key] = None
            typed[unparsed(column.key)] = clean(raw)[:500]
    return typed


def _convert(column: Column, raw: object, factor: float) -> object:
    kind = column.kind
    if kind == "code":
        return cells.parse_code(raw)
    if kind == "text":
        return cells.parse_text(raw)
    if kind == "category":
        return cells.parse_category(raw, column.allowed)
    if kind == "program":
        return cells.parse_program(raw)
    if kind == "int":
        return cells.parse_quantity(raw, column.units, whole=True)
    if kind == "number":
        return cells.parse_quantity(raw, column.units)
    if kind == "money":
        return cells.parse_money(raw, factor)
    if kind == "date":
        return cells.parse_date(raw)
    if kind == "yesno":
        return cells.parse_yesno(raw)
    raise AssertionError(f"unknown column kind {kind}")
