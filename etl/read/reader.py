"""Reads one district workbook into typed rows, with the Excel row of every value.

The reader absorbs the drift the spec lists and records what it cannot read as findings.
It never judges the data: the rules are the GX suites' (see `validate.py`). A file that
cannot be opened, or lacks a required sheet or column, comes back with `rejection` set; a
missing sheet or column does not stop the reading, so `problems` holds every one.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import math
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, lru_cache
from itertools import chain, repeat
from multiprocessing import util as mp_util
from pathlib import Path, PurePosixPath

from etl.config import WORKBOOK_EXTENSIONS, Limits
from etl.contract.findings import (
    ERROR,
    INFO,
    WARNING,
    Finding,
    bilingual,
    cell_address,
    reason,
)
from etl.contract.layout import (
    DATA_SHEETS,
    HTX,
    SECTORS,
    THONGTIN_ALIASES,
    THONGTIN_FORM_LABELS,
    THONGTIN_KEYS,
    THONGTIN_NAMES,
    Column,
    Sheet,
)
from etl.read import cells, guard, headers
from etl.read import typed as typing
from etl.read.headers import HEADER_DEEP_SCAN_ROWS, find_header, header_unit
from etl.read.identify import report_year
from etl.read.workbook import SheetRows, WorkbookRead
from etl.text import clean, match_key, strip_unit_prefix

log = logging.getLogger(__name__)

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


@lru_cache(maxsize=4096)  # the layout's names and the same sheet names in every file
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
    size = path.stat().st_size
    if size > limits.file_bytes:
        return WorkbookRead(rejection=_limit(guard.LimitExceeded(
            "file_too_large", f"{size // (1024 * 1024)} MB"
        )))  # fmt: skip
    # One look at the file: what it is, and a zip's directory read once for every check.
    package = guard.Package(path)
    try:
        return _guarded(package, limits, file_name)
    finally:
        package.close()


def _guarded(package: guard.Package, limits: Limits, file_name: str | None) -> WorkbookRead:
    kind = package.kind
    if kind == "corrupt":
        return WorkbookRead(rejection=_unreadable(ValueError("damaged zip archive")))
    if kind in guard.SAVED_AS:
        what_vi, what_en = guard.SAVED_AS[kind]
        message = reason("saved_in_other_format", what_vi=what_vi, what_en=what_en)
        return WorkbookRead(
            rejection=Finding(rule="saved_in_other_format", severity=ERROR, message=message)
        )
    if kind == "archive":
        return WorkbookRead(rejection=_archive(package.names))
    if kind in _UNREADABLE:
        return WorkbookRead(
            rejection=Finding(
                rule=_UNREADABLE[kind], severity=ERROR, message=reason(_UNREADABLE[kind])
            )
        )
    # The bounded copy's folder is made only when a sheet needs trimming (rare): creating
    # and removing a folder for every file cost more than reading most of them.
    work_dir = _work_root() / secrets.token_hex(8)
    source: Path | None = None
    try:
        try:
            source = guard.bounded(
                package, work_dir, limits.rows, limits.expanded_bytes, limits.cells
            )
        except guard.LimitExceeded as exc:
            return WorkbookRead(rejection=_limit(exc))
        except Exception as exc:  # a broken zip or XML inside: calamine would fail too
            return WorkbookRead(rejection=_unreadable(exc))
        return _read(source, limits, kind, file_name, package)
    finally:
        # The file itself, unbounded, made no folder: no need to ask the disk.
        if source != package.path and work_dir.exists():
            shutil.rmtree(work_dir, ignore_errors=True)


_WORK_ROOT: list[tuple[int, Path]] = []  # (process id, private folder) of this process


def _work_root() -> Path:
    """A private folder (mode 0700) for this process's bounded copies, removed at exit; a
    forked child makes its own."""
    pid = os.getpid()
    if not _WORK_ROOT or _WORK_ROOT[0][0] != pid:
        root = Path(tempfile.mkdtemp(prefix="htx-read-"))
        atexit.register(shutil.rmtree, root, True)
        # A multiprocessing worker leaves by os._exit, after its own finalizers, not atexit.
        mp_util.Finalize(None, shutil.rmtree, args=(root, True), exitpriority=0)
        _WORK_ROOT[:] = [(pid, root)]
    root = _WORK_ROOT[0][1]
    if not root.is_dir():  # a cleaner emptied the temp folder under a long-lived worker
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


_ARCHIVE_NAMES = 5  # the files of an archive its rejection names, at most
_UNREADABLE = {"empty": "file_empty", "encrypted": "file_encrypted", "unknown": "not_a_spreadsheet"}


# Exceptions only a fault in this program raises, whatever the file holds (a name or an
# attribute that does not exist, a failed assertion): told apart from a file that cannot be
# decoded, so the clerk is not asked to fix a file that is fine, and logged as an error for
# the data team. The file is quarantined meanwhile; the release that fixes it restages it.
_PROGRAM_ERRORS = (NameError, AttributeError, ImportError, AssertionError)


def _archive(members: list[str]) -> Finding:
    """`file_is_archive`, naming the spreadsheets a zip holds (else its first files): the
    clerk sees the reports are inside and what to send instead."""
    files = [PurePosixPath(m).name for m in members if not m.endswith("/")]
    files = [n for n in files if not n.startswith(("._", "~$")) and n != ".DS_Store"]
    sheets = [n for n in files if n.lower().endswith(WORKBOOK_EXTENSIONS)]
    shown = sheets or files
    inside = ", ".join(shown[:_ARCHIVE_NAMES]) + (", …" if len(shown) > _ARCHIVE_NAMES else "")
    return Finding(
        rule="file_is_archive",
        severity=ERROR,
        message=reason(
            "file_is_archive",
            inside_vi=f" chứa {inside}" if inside else "",
            inside_en=f" holding {inside}" if inside else "",
        ),
    )


def _unreadable(exc: Exception) -> Finding:
    detail = _short(exc)
    if " " not in detail and detail != type(exc).__name__:
        # A bare word says nothing alone: python-calamine's `WorksheetNotFound('ThongTin')`
        # (a sheet the workbook lists at a part it cannot find) reads `WorksheetNotFound:
        # ThongTin`, not `ThongTin`.
        detail = f"{type(exc).__name__}: {detail}"
    return Finding(
        rule="file_unreadable",
        severity=ERROR,
        message=reason("file_unreadable", detail=detail),
    )


def _limit(exc: guard.LimitExceeded) -> Finding:
    return Finding(
        rule=exc.rule,
        severity=ERROR,
        message=reason(exc.rule, detail=exc.detail, **exc.fields),
    )


def _read(
    path: Path,
    limits: Limits,
    kind: str = "xlsx",
    file_name: str | None = None,
    package: guard.Package | None = None,
) -> WorkbookRead:
    from python_calamine import CalamineWorkbook

    result = WorkbookRead()
    try:
        workbook = _open(CalamineWorkbook, path, kind)
        shown = _shown(workbook)
        outshone = _outshone(workbook.sheet_names, shown)
        listed = [n for n in workbook.sheet_names if n not in outshone]
        names = {_sheet_key(n): n for n in listed}
    except Exception as exc:  # calamine raises many types for corrupt files
        result.rejection = _unreadable(exc)
        return result
    twice = _named_twice(listed)
    if twice is not None:
        result.rejection = twice
        return result
    try:
        ods_merges: dict[str, list] | None = None

        def ods_read() -> dict[str, list]:
            """An .ods file's content.xml, read once, when a sheet is read."""
            nonlocal ods_merges
            if ods_merges is None:
                ods_merges = guard.ods_content(package or path, limits.expanded_bytes)
            return ods_merges

        def merged(calamine_sheet, name: str) -> list:
            """Merged ranges (rule 12): calamine knows them for .xlsx and .xls; an .ods
            file's are read from its content.xml."""
            merges = calamine_sheet.merged_cell_ranges
            if merges is None and kind == "ods":
                merges = ods_read().get(name)
            return list(merges or ())

        def rows_of(calamine_sheet, name: str, nrows: int | None = None) -> list[list]:
            """A sheet's rows, an .ods cell's line breaks and tabs kept as in an .xlsx (rule
            3: `Tên↵HTX` is `Tên HTX`, never `TênHTX`)."""
            rows = calamine_sheet.to_python(skip_empty_area=False, nrows=nrows)
            if kind == "ods" and package is not None:
                ods_read()
                _ods_texts_into(rows, package.texts.get(name, {}))
            return rows

        def sheet_rows(name: str, nrows: int | None = None) -> list[list]:
            return rows_of(workbook.get_sheet_by_name(name), name, nrows)

        # calamine parses a whole sheet on every `get_sheet_by_name`: a sheet read whole
        # is asked for once, its rows and merged ranges from that one answer.

        thongtin = _find_sheet(names, THONGTIN_NAMES)
        if thongtin:
            info_sheet = workbook.get_sheet_by_name(thongtin)
            rows = rows_of(info_sheet, thongtin)
            result.rows_scanned += len(rows)
            result.info, result.info_rows, result.info_columns = _read_info(
                rows, merged(info_sheet, thongtin)
            )
            _date_in_epoch(result.info, _epoch(package))
            result.info_sheet = thongtin
            if thongtin not in shown and result.info:
                result.findings.append(_hidden_read(thongtin, "ThongTin"))
        named = {sheet.key: _find_sheet(names, sheet.names) for sheet in DATA_SHEETS}
        problems: list[Finding] = []  # a sheet's or column's absence: the others still read
        shown_money = _ShownMoneyOfFile()  # the money units formats show, settled at the end
        for sheet in DATA_SHEETS:
            actual = named[sheet.key]
            if sheet is HTX and (actual is None or actual not in shown):
                # A hidden `HTX` (a template's leftover) never outranks a visible sheet
                # the clerk filled in: it is read only when no visible sheet holds the list.
                claimed = {thongtin, *named.values(), *outshone}
                found = _sheet_by_header(
                    workbook.sheet_names,
                    sheet_rows,
                    claimed,
                    shown,
                    result,
                    actual,
                    report_year(result.info, file_name),
                )
                if isinstance(found, Finding):
                    problems.append(found)
                    continue
                actual = found
            if actual is None:
                if sheet.required:
                    problems.append(
                        Finding(
                            rule="sheet_missing",
                            severity=ERROR,
                            message=reason("sheet_missing", sheet=sheet.name),
                            sheet=sheet.name,
                        )
                    )
                continue
            calamine_sheet = workbook.get_sheet_by_name(actual)
            rows = rows_of(calamine_sheet, actual)
            result.rows_scanned += len(rows)
            if not sheet.required and all(_values_in(row) <= 1 for row in rows):
                # An optional sheet left empty, or holding only its title and notes (no row
                # with two values: no table), reports nothing, as one left out.
                if any(map(_values_in, rows)):
                    result.findings.append(
                        Finding(
                            rule="sheet_without_table",
                            severity=INFO,
                            message=reason("sheet_without_table", sheet=actual),
                            sheet=actual,
                        )
                    )
                continue
            if sheet is not HTX and actual not in shown:  # (HTX's: `sheet_found_hidden`)
                result.findings.append(_hidden_read(actual, sheet.name))
            if len(rows) > limits.rows:  # .xls: no cheaper way to know
                result.rejection = _limit(guard.too_many_rows(actual, len(rows), limits.rows))
                return result
            merges = merged(calamine_sheet, actual)
            if package is not None and actual in package.percent:  # found by either above
                _as_shown_percent(rows, package.percent[actual])
            money_unit = result.info.get("money_unit")
            year = report_year(result.info, file_name)  # two-digit years in dates (rule 18)
            uncached = package.uncached.get(actual, frozenset()) if package else frozenset()
            hidden = package.hidden_rows.get(actual, frozenset()) if package else frozenset()
            errors = package.errors.get(actual, {}) if package else {}
            money_units = package.money_units.get(actual, {}) if package else {}
            read = _read_sheet(
                sheet,
                actual,
                rows,
                money_unit,
                result.findings,
                limits,
                merges,
                year,
                uncached,
                hidden,
                errors,
                _epoch(package),  # known once the sheet's rows are: an .ods file's, with them
                money_units,
                shown_money,
            )
            if isinstance(read, Finding):
                problems.append(read)
                continue
            result.sheets[sheet.key] = read
        if problems:
            result.rejection, result.problems = problems[0], problems
            return result
        result.findings.extend(_settle_shown_money(shown_money))
        claimed = {thongtin, *named.values(), *(s.sheet_name for s in result.sheets.values())}
        result.findings.extend(
            _tables_not_read(workbook.sheet_names, sheet_rows, claimed, shown, result)
        )
    except _PROGRAM_ERRORS as exc:  # a fault of this program, never of the file
        log.exception("internal error reading %s", file_name or path.name)
        result.rejection = Finding(
            rule="internal_error",
            severity=ERROR,
            message=reason("internal_error", detail=f"{type(exc).__name__}: {_short(exc)}"),
        )
    except Exception as exc:  # a sheet calamine opened but cannot decode
        result.rejection = _unreadable(exc)
    finally:
        workbook.close()
    return result


def _epoch(package: guard.Package | None) -> dt.date:
    """Day 0 of the file's serial numbers: the guard's finding, else Excel's usual one."""
    return (package.date_epoch if package else None) or cells.EXCEL_EPOCH


def _date_in_epoch(info: dict[str, object], epoch: dt.date) -> None:
    """`Ngày lập` given as a serial number in a file of another date system (1904): its
    date, as the file counts days. `identify` reads ThongTin's values without the file, so
    it is handed the date, which no date system reads otherwise."""
    value = info.get("prepared_on")
    if epoch == cells.EXCEL_EPOCH or value is None or isinstance(value, dt.date):
        return

    def dated(counted_from: dt.date) -> tuple[dt.date, str] | None:
        try:
            return cells.parse_dated(value, epoch=counted_from)
        except (ValueError, OverflowError):  # `identify` tells the clerk
            return None

    in_file = dated(epoch)
    if in_file is not None and in_file != dated(cells.EXCEL_EPOCH):  # a serial day
        info["prepared_on"] = in_file[0]


# What python-calamine takes a file for by its extension (it chooses its parser by the
# name); another extension, or none, it tells by the content.
_KIND_OF_SUFFIX = {
    **dict.fromkeys((".xlsx", ".xlsm", ".xlsb", ".xltx", ".xltm", ".xlam"), "xlsx"),
    **dict.fromkeys((".xls", ".xla"), "xls"),
    ".ods": "ods",
}


def _open(opener, path: Path, kind: str):
    """The workbook at `path`, read as what its content is (`kind`, from the guard's sniff):
    an .xls saved under an .xlsx name, or the other way round, is read as what it is, not
    rejected as damaged. The file's name is the parser's guide otherwise, as before."""
    named = _KIND_OF_SUFFIX.get(path.suffix.lower())
    if named is None or named == kind:
        return opener.from_path(str(path))
    with path.open("rb") as handle:
        return opener.from_filelike(handle)


def _shown(workbook) -> set[str]:
    """The names of the sheets Excel shows: not `hidden`, nor `veryHidden`."""
    from python_calamine import SheetVisibleEnum

    return {m.name for m in workbook.sheets_metadata if m.visible == SheetVisibleEnum.Visible}


def _outshone(sheet_names: list[str], shown: set[str]) -> set[str]:
    """The hidden sheets named as a layout sheet that a visible sheet is named as too (an old
    `Hợp tác xã` the clerk hid beside `HTX`): the visible one is the report, and the hidden
    ones are not read, as no hidden sheet is a table left unread (`_tables_not_read`)."""
    layout = [THONGTIN_NAMES, *(s.names for s in DATA_SHEETS)]
    hidden: set[str] = set()
    for aliases in layout:
        keys = {_sheet_key(alias) for alias in aliases}
        found = [sheet for sheet in sheet_names if _sheet_key(sheet) in keys]
        if any(sheet in shown for sheet in found):
            hidden.update(sheet for sheet in found if sheet not in shown)
    return hidden


def _hidden_read(name: str, template: str) -> Finding:
    """A sheet hidden in Excel read as the layout's `template` (no visible sheet is named
    so, `_outshone`): it may be an old copy the clerk hid, so it is never read in silence."""
    return Finding(
        rule="sheet_read_hidden",
        severity=WARNING,
        message=reason("sheet_read_hidden", sheet=name, template=template),
        sheet=name,
    )


def _sheet_by_header(
    sheet_names: list[str],
    sheet_rows: Callable[..., list[list]],
    claimed: set,
    shown: set[str],
    result: WorkbookRead,
    hidden_htx: str | None = None,
    year: int | None = None,
) -> str | Finding | None:
    """Rule 17: with no visible sheet named `HTX` or an alias, the one sheet whose header
    holds every required HTX column (`Sheet1`, `Biểu 01`), with an info finding; two such
    sheets make the file ambiguous. None when no sheet qualifies. A hidden sheet (an old copy
    the clerk hid) is a candidate only when no visible sheet is one, and is read with a
    warning; `hidden_htx`, a hidden sheet named `HTX`, is then the one, before the others,
    and beside visible ones it is named in what is said (`…_beside_hidden`). Of several
    (the visible ones first), a form's list beside its other tables is read: one candidate
    a list (`_kind_of`: two columns or more of a cooperative's own, `year` reading a header
    that names the report year), every other one another layout table (the support, OCOP
    or offtake table of a form's numbered sheets, naming `Tên HTX` too), each then a table
    not read, which a warning names (`_tables_not_read`). Any other mix stays ambiguous:
    setting sheets aside on a weaker sign read a wrong sheet (helpers BX, BY)."""
    candidates: list[str] = []
    kinds: dict[str, str | None] = {}
    for name in sheet_names:
        if name in claimed:
            continue
        rows = sheet_rows(name, nrows=HEADER_DEEP_SCAN_ROWS + 1)
        result.rows_scanned += len(rows)
        header = find_header(rows, HTX, year=year)
        if header is not None and not header.missing:
            candidates.append(name)
            kinds[name] = _kind_of(rows, header, year)
    visible = [name for name in candidates if name in shown]
    candidates = visible or ([hidden_htx] if hidden_htx else candidates)
    lists = [name for name in candidates if kinds.get(name) == "list"]
    if len(lists) == 1 and all(kinds.get(n) == "other" for n in candidates if n not in lists):
        candidates = lists  # `Biểu 01` beside `Biểu 02`…, its support, OCOP, offtake tables
    # A hidden `HTX` not read is named: the clerk does not see it, and it keeps its name.
    told = {"hidden": hidden_htx} if visible and hidden_htx else {}
    variant = "_beside_hidden" if told else ""
    if len(candidates) > 1:
        quoted = ", ".join(f"'{name}'" for name in candidates)
        return Finding(
            rule="sheet_ambiguous",
            severity=ERROR,
            message=reason("sheet_ambiguous" + variant, sheets=quoted, **told),
            sheet=candidates[0],
        )
    if not candidates:
        return None
    [name] = candidates
    rule, severity = (
        ("sheet_found_by_header", INFO) if name in shown else ("sheet_found_hidden", WARNING)
    )
    result.findings.append(
        Finding(
            rule=rule,
            severity=severity,
            message=reason(rule + variant, sheet=name, **told),
            sheet=name,
        )
    )
    return name


def _kind_of(rows: list[list], as_htx: headers.HeaderMatch, year: int | None) -> str | None:
    """What a sheet whose header holds every required HTX column (`as_htx`) is: `list`, a
    list of cooperatives, when it names two columns or more of a cooperative's own (beyond
    those any table may carry: `STT`, `Mã số HTX`, `Tên HTX`, `Xã`, `Ghi chú`); `other`,
    another layout table, when it names none and holds every required column of that
    table (`Chương trình`, `Kinh phí` beside `Mã số HTX`, `Tên HTX`); else None."""
    own = set(as_htx.columns) - _ANY_TABLE_CARRIES
    if own:
        return "list" if len(own) >= 2 else None
    another = any(
        (header := find_header(rows, sheet, year=year)) is not None and not header.missing
        for sheet in DATA_SHEETS
        if sheet is not HTX
    )
    return "other" if another else None


# The HTX columns any table of a form may carry beside its own: naming the cooperative,
# and a note.
_ANY_TABLE_CARRIES = frozenset(("stt", "coop_code", "name", "commune_name", "note"))


def _tables_not_read(
    sheet_names: list[str],
    sheet_rows: Callable[..., list[list]],
    claimed: set,
    shown: set[str],
    result: WorkbookRead,
) -> list[Finding]:
    """A visible sheet the layout does not name whose header holds every required column
    of a layout sheet (`HTX (2)`, `Hỗ trợ năm 2023`, `Sản phẩm OCOP`) is not read: a warning
    names it and the layout sheet it is most like (the one whose columns it names most),
    so that its rows are never dropped in silence. A hidden sheet (a template's list behind
    a drop-down) is no table the clerk filled in."""
    found = []
    for name in sheet_names:
        if name in claimed or name not in shown:
            continue
        rows = sheet_rows(name, nrows=HEADER_DEEP_SCAN_ROWS + 1)
        result.rows_scanned += len(rows)
        tables = [
            (len(header.columns), -n, sheet, header)
            for n, sheet in enumerate(DATA_SHEETS)
            if (header := find_header(rows, sheet)) is not None and not header.missing
        ]
        if tables:
            *_, sheet, header = max(tables, key=lambda table: table[:2])
            found.append(
                Finding(
                    rule="sheet_not_read",
                    severity=WARNING,
                    message=reason("sheet_not_read", sheet=name, template=sheet.name),
                    sheet=name,
                    excel_row=header.header_row + 1,
                )
            )
    return found


def _ods_texts_into(rows: list[list], cells: dict[tuple[int, int], str]) -> None:
    """An .ods text cell as written, where calamine dropped its line breaks or tabs."""
    for (excel_row, column), text in cells.items():
        if excel_row <= len(rows) and column < len(rows[excel_row - 1]):
            rows[excel_row - 1][column] = text


def _as_shown_percent(rows: list[list], cells: frozenset[tuple[int, int]]) -> None:
    """A number Excel shows as a percentage is read as the clerk wrote it, `45%`, not as its
    stored hundredth 0.45: a count or a score then reads 45 and an amount of money is
    unreadable, as `45%` typed as text is (rule 5)."""
    for excel_row, column in cells:
        row = rows[excel_row - 1] if excel_row <= len(rows) else []
        value = row[column] if column < len(row) else None
        if value.__class__ in (int, float) and math.isfinite(value):
            shown = format((Decimal(repr(value)) * 100).normalize(), "f").replace(".", ",")
            row[column] = f"{shown}%"


# Kinds whose cells are parsed, so that a value not read fails the column's `…_readable` rule.
_TEXT_KINDS = frozenset({"text", "code", "category", "program"})


def _parsed(column: Column) -> bool:
    """Whether a column's cells are parsed (a number, a date, Có/Không), not kept as text."""
    return column.kind not in _TEXT_KINDS


# Where a column's money unit is written (`_column_unit`), as the clerk is told to mend it.
_UNIT_PLACES = {
    "header": ("ở tiêu đề cột", "in the column's header"),
    "note": ("ở dòng ghi đơn vị phía trên bảng", "in the unit note above the table"),
    "file": ("ở mục 'Đơn vị tính' của trang ThongTin", "in 'Đơn vị tính' of the ThongTin sheet"),
}
# A money unit by its factor, as the note above a table says it (kept unaccented there).
_UNIT_NAMES = {1e-6: "đồng", 1e-3: "nghìn đồng", 1.0: "triệu đồng", 1e3: "tỷ đồng"}


def _column_unit(
    header_unit: str | None, note_unit: str | None, file_unit: object
) -> tuple[str, str] | None:
    """The money unit a column names of its own, as written, and where (`_UNIT_PLACES`): its
    header's, else the note above the table, else the file's `Đơn vị tính`, the first that
    is money (`Doanh thu (năm 2023)` names a year, no unit), as the column's factor takes
    them; None when none does (million VND, the contract's default)."""
    written = clean(file_unit) if file_unit else None
    for unit, place in ((header_unit, "header"), (note_unit, "note"), (written, "file")):
        factor = cells.money_factor(unit) if unit else None
        if factor is not None:
            shown = _UNIT_NAMES.get(factor, unit) if place == "note" else unit
            return str(shown), place
    return None


@dataclass
class ShownMoney:
    """The cells of one money column that Excel shows with one money unit, read in that
    unit where it differs from the column's reading (`_shown_money`)."""

    sheet: SheetRows
    column: Column
    position: int  # 0-based column index
    unit: str  # as the format shows it: `₫`, `đ`, `VND`, `nghìn đ`, `đ/tháng`
    own: tuple[str, str] | None  # the column's own unit and where it is written
    at: list[tuple[int, float]]  # (the record's position in the sheet's rows, value shown)
    first_shown: str  # the first cell as read, with its unit: `1650000000 ₫`
    header_text: str | None  # the column's header as written


@dataclass
class _ShownMoneyOfFile:
    """What a file's formats show of its money, gathered sheet by sheet and settled once
    every sheet is read (`_settle_shown_money`)."""

    groups: list[ShownMoney] = field(default_factory=list)
    # Whether an amount (a column not per person) shows a figure of one million đồng or
    # more: the file's amounts are in đồng, whatever its columns' units.
    in_dong: bool = False


def _shown_money(
    column: Column,
    position: int,
    typed: tuple[list[int], list, typing.TypedColumn],
    money_units: dict[tuple[int, int], str | guard.Scaled],
    filled: dict[int, dict[int, int]],
    own: tuple[str, str] | None,
    setting: tuple[float, int],
    header_row: list,
    out: SheetRows,
    of_file: _ShownMoneyOfFile,
) -> None:
    """The numbers of a money column that Excel shows with a money unit (a number format
    `#,##0 "đ"`, `#,##0 ₫`, the accounting and currency buttons of a Vietnamese Excel; an
    .ods currency cell in VND): `1650000000` shown as `1.650.000.000 ₫`. A cell merged down
    over rows (rule 12) shows its top cell's unit in each. Each is read as the same figure
    with its unit written in the cell would be (rule 14, `cells.parse_money` with the
    column's factor and period: `đ/tháng` in a yearly column is 12 months); kept in
    `of_file`, by unit shown, where that differs from the column's reading, for
    `_settle_shown_money` to decide. `typed`: the rows' indices, the column's raw cells and
    its typed values; `setting`: the column's factor and period."""
    data, raws, result = typed
    factor, period = setting
    by_unit: dict[str, list[tuple[int, float]]] = {}  # unit -> (position in `data`, value)
    for n, index in enumerate(data):
        raw = raws[n]
        if raw.__class__ not in (int, float) or not math.isfinite(raw):
            continue
        mark = money_units.get((filled.get(index, {}).get(position, index) + 1, position))
        unit = mark.unit if isinstance(mark, guard.Scaled) else mark  # scaled: `_as_shown_scaled`
        if unit is None:
            continue
        if not column.per_year and abs(raw) >= 1e6 and cells.money_factor(unit) == 1e-6:
            of_file.in_dong = True
        try:
            shown = cells.parse_money(
                f"{_as_read(raw)} {unit}", factor, period, column.per_year, column.says_loss
            )
        except ValueError:  # a unit the column cannot take: the column's reading stands
            continue
        if shown is not None and shown != result.values[n]:
            by_unit.setdefault(unit, []).append((n, shown))
    written = clean(header_row[position]) if position < len(header_row) else None
    of_file.groups.extend(
        ShownMoney(
            out, column, position, unit, own, at, f"{_as_read(raws[at[0][0]])} {unit}", written
        )
        for unit, at in by_unit.items()
    )


def _settle_shown_money(of_file: _ShownMoneyOfFile) -> list[Finding]:
    """The money units formats show, decided once every sheet is read (`_shown_money`):
    - where the column names a unit of its own (its header, a note above the table, the
      file's `Đơn vị tính`), it is read, as the contract says, and the warning
      `money_unit_format_differs` names both;
    - where it names none, the unit shown is the one the clerk saw beside the figure and
      is read, with the warning `money_unit_shown`; unless it is đồng and neither the
      column's figures nor the file's amounts show one million đồng (`1.250 ₫`, `500 ₫`:
      the template's figures in million under the accounting button; a file in đồng shows
      its revenue, capital or support in millions of đồng somewhere, and an income per
      person in đồng says so of its own column only), where the contract's million VND
      stands and `money_unit_format_differs` says so.
    Either way the clerk is told: one of the two is wrong, and figures a million times too
    large or too small must not pass in silence. One finding per column and unit shown, at
    its first cell."""
    found = []
    for group in of_file.groups:
        column, rows = group.column, group.sheet.rows
        own = group.own
        rule = key = "money_unit_format_differs"  # the column's unit stands
        in_dong = of_file.in_dong or any(abs(value) >= 1 for _, value in group.at)
        if own is None and cells.money_factor(group.unit) == 1e-6 and not in_dong:
            key = "money_unit_default_differs"  # the template's million stands
        elif own is None:
            rule = key = "money_unit_shown"
            for n, value in group.at:
                rows[n][column.key] = value
        first = int(rows[group.at[0][0]]["excel_row"])
        cell = cell_address(group.position, first)
        place_vi, place_en = _UNIT_PLACES[own[1] if own else "header"]
        found.append(
            Finding(
                rule=rule,
                severity=WARNING,
                message=reason(
                    key,
                    column=group.header_text or column.header,
                    unit=group.unit,
                    own=own[0] if own else "",
                    count=len(group.at),
                    cell=cell,
                    place_vi=place_vi,
                    place_en=place_en,
                    example=f"{column.header} (đồng)",
                ),
                sheet=group.sheet.sheet_name,
                excel_row=first,
                column_name=column.header,
                value=group.first_shown,
                cell=cell,
            )
        )
    return found


def _as_shown_scaled(
    column: Column,
    position: int,
    cells_of: tuple[list[int], list],
    money_units: dict[tuple[int, int], str | guard.Scaled],
    filled: dict[int, dict[int, int]],
    own: tuple[str, str] | None,
    header_row: list,
    sheet_name: str,
) -> list[Finding]:
    """The numbers of a money column whose format shows them scaled (a `,` after the format's
    last digit for each thousand: `#,##0,,` shows `1650000000` as `1.650`, `#,##0, "nghìn
    đ"` as `1.650.000 nghìn đ`; an accountant keeps figures in đồng and shows them in the
    header's unit) are read as the figure shown, as a percentage is (`_as_shown_percent`):
    in the column's unit, or in the unit shown beside it, written in the cell as the clerk
    sees it, which wins over the column's (rule 14: a scaling format is written by hand, not
    by Excel's accounting button, and says the amount whole). `cells_of`: the rows' indices
    and the column's raw cells, which are replaced. The stored figure and the one shown
    differ a thousand or a million times: the clerk is told which was read, with the warning
    `money_format_scaled`, one per divisor and unit shown, at its first cell. A negative
    number is scaled by the format's negative section (`#,##0;(#,##0,,)` scales only it)."""
    data, raws = cells_of
    by_shown: dict[tuple[int, str | None], list[tuple[int, float]]] = {}
    for n, index in enumerate(data):
        raw = raws[n]
        if raw.__class__ not in (int, float) or not math.isfinite(raw):
            continue
        mark = money_units.get((filled.get(index, {}).get(position, index) + 1, position))
        if not isinstance(mark, guard.Scaled):
            continue
        divisor = mark.negative if raw < 0 else mark.divisor
        if divisor == 1:  # a section that shows the number as it is: `_shown_money`
            continue
        # As if typed as shown: a unit shown is the cell's own, which wins (rule 14), and a
        # text that is no unit of the column makes it unreadable, as typed (`nghìn USD`).
        figure = raw / divisor
        raws[n] = f"{_as_read(figure)} {mark.unit}" if mark.unit else figure
        by_shown.setdefault((divisor, mark.unit), []).append((n, raw))
    if not by_shown:
        return []
    found = []
    header = clean(header_row[position]) if position < len(header_row) else None
    for (divisor, unit), at in by_shown.items():
        n, stored = at[0]
        first = data[n] + 1
        cell = cell_address(position, first)
        in_unit = (unit, unit) if unit else (own[0], own[0]) if own else _TEMPLATE_UNIT
        as_shown = _as_read(stored / divisor)
        found.append(
            Finding(
                rule="money_format_scaled",
                severity=WARNING,
                message=reason(
                    "money_format_scaled",
                    column=header or column.header,
                    count=len(at),
                    cell=cell,
                    divisor=f"{divisor:,}".replace(",", "."),
                    stored=_as_read(stored),
                    shown=f"{as_shown} {unit}" if unit else as_shown,
                    unit_vi=in_unit[0],
                    unit_en=in_unit[1],
                ),
                sheet=sheet_name,
                excel_row=first,
                column_name=column.header,
                value=f"{as_shown} {unit}" if unit else as_shown,
                cell=cell,
            )
        )
    return found


# The unit a column naming none is read in (`_as_shown_scaled`), in Vietnamese and English.
_TEMPLATE_UNIT = ("triệu đồng, đơn vị của mẫu", "million VND, the template's unit")


def _as_read(value: float) -> str:
    """A number as the reader writes one it read (`1250,5`): no grouping, `,` for decimals."""
    return format(Decimal(repr(value)).normalize(), "f").replace(".", ",")


def _as_shown_error(rows: list[list], cells: dict[tuple[int, int], str]) -> None:
    """A cell holding an error value (a formula that broke: `#DIV/0!`, `#REF!`) is read as
    Excel shows it, not as the empty cell calamine makes of it: a number column then fails
    its `…_readable` rule with the error as its value, never *not reported* in silence.
    Only the cells of parsed columns (`_parsed`): in a text, code or list column no rule
    would fail `#REF!`, which would load as a name, a code or a sector; there it stays
    empty, as calamine reads it (a missing name or code is an error of its own)."""
    for (excel_row, column), error in cells.items():
        row = rows[excel_row - 1] if excel_row <= len(rows) else []
        if column < len(row) and row[column] in ("", None):
            row[column] = error


def _values_in(row: list) -> int:
    """How many cells of a row hold a value."""
    return sum(1 for value in row if value is not None and clean(value) != "")


def _short(exc: Exception) -> str:
    text = clean(str(exc)) or type(exc).__name__
    return text[:200]


def _named_twice(sheet_names: list[str]) -> Finding | None:
    """A layout sheet named by two sheets of the workbook, the same name twice (a workbook
    edited by hand: Excel refuses it) or two of its equivalent names (`HTX` and `Hợp tác
    xã`, `HTX` and `Htx `): which one is the report is unknown, and reading one would drop
    the other in silence. The file is rejected, naming them."""
    layout = [("ThongTin", THONGTIN_NAMES), *((s.name, s.names) for s in DATA_SHEETS)]
    for name, aliases in layout:
        keys = {_sheet_key(alias) for alias in aliases}
        found = [sheet for sheet in sheet_names if _sheet_key(sheet) in keys]
        if len(found) > 1:
            quoted = ", ".join(f"'{sheet}'" for sheet in found)
            return Finding(
                rule="sheet_named_twice",
                severity=ERROR,
                message=reason("sheet_named_twice", name=name, sheets=quoted),
                sheet=found[0],
            )
    return None


def _find_sheet(names: dict[str, str], wanted: tuple[str, ...]) -> str | None:
    for name in wanted:
        actual = names.get(_sheet_key(name))
        if actual is not None:
            return actual
    return None


# A form's item number before a ThongTin label (`1. Mã đơn vị`, `2) Tên đơn vị`, `a. Ngày lập`,
# `II. Người lập`, `1.1 Người lập`), as its match key has it: `1 ma don vi`.
_ITEM_NUMBER = re.compile(r"^(?:(?:\d+|[a-z]|[ivx]+) )+")
# A ThongTin value left unfilled, as its match key has it: marks without a letter or digit
# (`-`, `…`, the template's dotted line), `x` (rule 6: not reported) and `(chưa có)`. It is
# an empty cell: the unit and year then come from the file name, as for an empty cell.
_UNFILLED = frozenset({"", "x", "chua co", "khong co", "n a"})


def _read_info(
    rows: list[list], merges: Iterable[tuple[tuple[int, int], tuple[int, int]]] = ()
) -> tuple[dict[str, object], dict[str, int], dict[str, int]]:
    """`ThongTin`'s values by key (label in column A, value in the cell right of it: B, or
    the cell after the label's merged range, `Mã đơn vị` merged over A:B), their Excel rows
    and their 0-based columns. Only a merge moves the value: the template's column C is a
    note (`Họ tên người lập.`), never the value of a label whose B was left blank. A label
    right of empty cells or of its item number (a form's `STT | Nội dung | Giá trị`) is read
    as one in column A: its value is the cell right of it. A row of labels alone, two of
    the keys' own or more, over a row of no label, is the labels laid out across: each
    one's value is the cell under it.

    A key's label with its value in the same cell after a colon (`Mã đơn vị: 663`, the
    cell right of it empty) and a value beside a report form's label of the key
    (`THONGTIN_FORM_LABELS`: `Kỳ báo cáo | Năm 2023`) count only where the value reads as
    one of that key (`_reads_as`: `Kỳ báo cáo | Quý IV/2023` is none) and no row of the
    sheet holds the key's own label beside a cell, filled or not (there the clerk's value
    goes; a line such as `Tên đơn vị: ghi đầy đủ, ví dụ Huyện Đắk Mil` is a note)."""
    own = {match_key(label): key for key, label in THONGTIN_KEYS.items()}
    own |= {match_key(label): key for label, key in THONGTIN_ALIASES.items()}
    form = {match_key(label): key for label, key in THONGTIN_FORM_LABELS.items()}
    label_ends = {(row, col): last_col for (row, col), (_, last_col) in merges}
    info: dict[str, object] = {}
    where: dict[str, int] = {}
    columns: dict[str, int] = {}
    labelled: set[str] = set()  # keys whose own label stands beside a cell
    weak: dict[str, tuple[object, int, int]] = {}  # the first other reading of each key

    def key_of(text: object) -> tuple[str, bool] | None:
        """The key a label names, and whether it is the key's own label."""
        label = match_key(text)
        label = label if label in own or label in form else _ITEM_NUMBER.sub("", label, count=1)
        if label in own:
            return own[label], True
        return (form[label], False) if label in form else None

    def put(named: tuple[str, bool] | None, value: object, number: int, at: int) -> None:
        """A value beside (or under) its label."""
        if named is None:
            return
        key, is_own = named
        if not is_own:
            put_weak(key, value, number, at)
            return
        labelled.add(key)
        if not _unfilled(value):
            info[key], where[key], columns[key] = value, number, at

    def put_weak(key: str, value: object, number: int, at: int) -> None:
        if key not in weak and not _unfilled(value) and _reads_as(key, value):
            weak[key] = (value, number, at)

    def labels_alone(row: list, number: int) -> dict[int, tuple[str, bool]]:
        """The labels of a row that holds labels only, side by side (each right after the
        one before or its merged range): else none. `Mã đơn vị | _ | Tên đơn vị | _` is two
        pairs whose values were left empty, not labels across."""
        named: dict[int, tuple[str, bool]] = {}
        after = None  # the column right after the last label (or its merged range)
        for at, cell in enumerate(row):
            if cell is None or (isinstance(cell, str) and not clean(cell)):
                continue
            found = key_of(cell) if isinstance(cell, str) else None
            if found is None or (after is not None and at != after):
                return {}
            named[at] = found
            after = label_ends.get((number - 1, at), at) + 1
        return named

    values_row = 0  # the Excel row of the values under labels laid out across
    for number, row in enumerate(rows, 1):
        if number == values_row:
            continue
        across = labels_alone(row, number)
        below = rows[number] if number < len(rows) else []
        if sum(is_own for _, is_own in across.values()) > 1 and not any(
            isinstance(cell, str) and key_of(cell) for cell in below
        ):  # `Mã đơn vị | Tên đơn vị | Năm báo cáo`, the values in the row below
            values_row = number + 1
            for at, named in across.items():
                put(named, below[at] if at < len(below) else None, values_row, at)
            continue
        first = _label_column(row)
        at = label_ends.get((number - 1, first), first) + 1
        value = row[at] if at < len(row) else None
        text = row[first] if first < len(row) else None
        if _unfilled(value) and isinstance(text, str) and ":" in text:
            text, _, written = text.partition(":")  # `Mã đơn vị: 663`, in one cell
            if (in_cell := key_of(text)) is not None:
                if in_cell[1] and _unfilled(clean(written) or None):
                    labelled.add(in_cell[0])  # `Tên đơn vị:` left empty: a later line is a note
                else:
                    put_weak(in_cell[0], clean(written) or None, number, first)
            continue
        put(key_of(text), value, number, at)
    for key, (value, number, at) in weak.items():
        if key not in labelled:
            info[key], where[key], columns[key] = value, number, at
    return info, where, columns


def _reads_as(key: str, value: object) -> bool:
    """Whether a ThongTin value found under another label of its key, or in its label's
    cell, reads as one of that key: a code of 2, 3 or 5 digits, a year of 2021–2030 (`Năm
    2023` too), a date, a name with a letter, a money unit."""
    if key == "unit_code":
        return _CODE_LIKE.fullmatch(clean(value).replace(" ", "").replace(".", "")) is not None
    if key == "report_year":
        return report_year({"report_year": value}, None) is not None
    if key == "prepared_on":
        try:
            return cells.parse_date(value) is not None
        except ValueError:
            return False
    if key == "money_unit":
        return isinstance(value, str) and cells.money_factor(value) is not None
    # A name or a person: letters, and not a hint in parentheses (`(ký, ghi rõ họ tên)`).
    text = clean(value) if isinstance(value, str) else ""
    return any(ch.isalpha() for ch in text) and not (text.startswith("(") and text.endswith(")"))


_CODE_LIKE = re.compile(r"'?(?:\d{2,3}|\d{5})")  # a province's, a district's, a commune's


def _unfilled(value: object) -> bool:
    """A ThongTin value cell left empty or unfilled (`_UNFILLED`)."""
    return value is None or match_key(value) in _UNFILLED


def _label_column(row: list) -> int:
    """The column of a ThongTin row's label: its first cell that is neither empty nor an
    item number alone (`1`, `2.`, `a)`, `II`); 0 for a row without one."""
    for at, cell in enumerate(row):
        if cell is None or isinstance(cell, bool):
            continue
        if isinstance(cell, int | float | str) and (
            not clean(cell) or _ITEM_NUMBER.fullmatch(match_key(cell) + " ")
        ):
            continue
        return at
    return 0


def _read_sheet(
    sheet: Sheet,
    actual_name: str,
    rows: list[list],
    file_unit: object,
    findings: list[Finding],
    limits: Limits,
    merges: Iterable[tuple[tuple[int, int], tuple[int, int]]] = (),
    report_year: int | None = None,
    uncached: frozenset[tuple[int, int]] = frozenset(),
    hidden: frozenset[int] = frozenset(),
    errors: dict[tuple[int, int], str] | None = None,
    epoch: dt.date = cells.EXCEL_EPOCH,
    money_units: dict[tuple[int, int], str | guard.Scaled] | None = None,
    shown_money: _ShownMoneyOfFile | None = None,
) -> SheetRows | Finding:
    """One data sheet's records, typed, and their findings (`uncached`: the cells, as (Excel
    row, 0-based column), that hold a formula with no saved value; `hidden`: the Excel rows
    hidden in Excel; `errors`: the cells holding an error value, with that error; `epoch`:
    day 0 of the file's serial numbers, 01/01/1904 in the 1904 date system; `money_units`:
    the number cells shown with a money unit, with that unit, see `_shown_money`, which
    gathers them in `shown_money`, or scaled, see `_as_shown_scaled`)."""
    merges = list(merges)
    header = find_header(rows, sheet, merges, report_year)
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
            column_name=None if header is None else labels,  # the columns the header lacks
        )
    findings.extend(
        _split_column(rows, header, sheet.column(key).header, actual_name, key, unread)
        for key, unread in header.unclear.items()
    )
    for text in header.extra:
        like = headers.missing_column_like(sheet, header, text)
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
            if like is None
            else Finding(
                rule="column_like_missing",
                severity=WARNING,
                message=reason("column_like_missing", column=text, template=like),
                sheet=actual_name,
                excel_row=header.header_row + 1,
                column_name=text,
            )
        )
    for column in sheet.columns:  # a header's unit the column cannot be read in
        index = header.columns.get(column.key)
        unit = header.units.get(column.key)
        if index is None or not cells.header_unit_misfits(column.kind, column.units, unit):
            continue
        row = _header_row_of(rows, header, index, unit)
        findings.append(
            Finding(
                rule="header_unit_mismatch",
                severity=ERROR,
                message=reason(
                    "header_unit_mismatch", unit=unit, column=column.header, **_fits(column)
                ),
                sheet=actual_name,
                excel_row=row + 1,
                column_name=column.header,
                value=clean(rows[row][index])[:200],
                cell=cell_address(index, row + 1),
            )
        )
        del header.columns[column.key]  # its numbers are not read in another unit
    if errors:
        read_as_values = {
            header.columns[c.key] for c in sheet.columns if c.key in header.columns and _parsed(c)
        }
        _as_shown_error(rows, {at: e for at, e in errors.items() if at[1] in read_as_values})
    filled = _fill_merged_down(rows, merges, header.data_start)
    default_factor = cells.money_factor(clean(file_unit) if file_unit else None)
    note_factor = cells.money_factor(header.note_unit)
    factors = {
        key: cells.money_factor(header.units.get(key)) or note_factor or default_factor or 1.0
        for key in header.columns
    }
    money_factors = dict(factors)  # a unit's own, before a month's amount is made a year's
    # A yearly amount given a month (`triệu đồng/người/tháng`): 12 of them make the year.
    periods = {
        column.key: 12
        for column in sheet.columns
        if column.per_year
        and column.key in factors
        and cells.per_month(header.units.get(column.key))
    }
    for key, period in periods.items():
        factors[key] *= period
    out = SheetRows(sheet=sheet, sheet_name=actual_name, rows=[], columns=dict(header.columns))
    by_key = {c.key: c for c in reversed(sheet.columns)}  # `sheet.column`: the first of a key
    columns = [(by_key[k], i) for k, i in header.columns.items()]
    # Pass 1, row by row: which rows are records, what the section titles above each supply
    # (rule 11), and the findings of the rows that are no data, in the order they come.
    scanned: list[Finding] = []
    data: list[int] = []  # 0-based indices of the record rows
    table = _Table(
        sheet,
        actual_name,
        header,
        columns,
        scanned,
        _stt_column(rows, header),
        money_factors,
        epoch,
        records=data,
        filled=filled,
    )
    sections = table.sections
    supplied: list[dict | None] = []  # the sections in force at each record, when any
    before: dict[int, list[Finding]] = {}  # record position -> findings of the rows above
    # The hot path of `_Table.not_data`, one expression over the sheet: a row whose code
    # cell is 8 digits or more is a record, whatever else it holds.
    coded = _coded_rows(rows, table.code_at)
    below = (
        _below_merged_code(
            rows, filled, table.code_at, {i for k, i in header.columns.items() if k != "stt"}
        )
        if sheet is HTX
        else {}
    )
    index = header.data_start
    while index < len(rows):
        if index in below:
            top, own = below[index]
            if own:
                findings.append(_on_two_rows(rows, index, top, columns, actual_name))
            out.rows_skipped += 1
            index += 1
            continue
        if not coded[index]:
            taken = table.not_data(rows, index)
            if taken:
                out.rows_skipped += taken
                index += taken
                continue
        if scanned:
            before[len(data)] = scanned[:]
            scanned.clear()
        data.append(index)
        supplied.append(dict(sections.current) if sections.active else None)
        index += 1
    sections.findings = findings  # what the titles supply is found with its record, below
    findings.extend(_unheaded(rows, header, data, actual_name, table.stt_at))
    # Pass 2, a column at a time: the contract's cell rules over each column's cells.
    typed = []
    by_column = _columns_of(rows, data, columns)
    # Blank text is None (`_cell`): the distinct strings of the table, found once for all its
    # columns, tell which cells are blank, and whether any is too long.
    distinct = set(filter(str.__instancecheck__, chain.from_iterable(by_column)))
    blank = {text: None for text in distinct if not text.strip()}
    longest = max(map(len, distinct), default=0)
    for (column, position), cells_of in zip(columns, by_column, strict=True):
        raws = list(map(blank.get, cells_of, cells_of)) if blank else list(cells_of)
        if money_units and column.kind == "money":  # cells a format shows with a unit, scaled
            column_unit = _column_unit(header.units.get(column.key), header.note_unit, file_unit)
            findings.extend(
                _as_shown_scaled(
                    column, position, (data, raws), money_units, filled, column_unit,
                    rows[header.header_row], actual_name,
                )
            )  # fmt: skip
        result = typing.type_column(
            column, raws, factors[column.key], report_year, periods.get(column.key, 1), epoch
        )
        long: set[int] = set()
        if longest > limits.cell_chars:
            long = {
                n for n, raw in enumerate(raws)
                if raw.__class__ is str and len(raw) > limits.cell_chars
            }  # fmt: skip
        if money_units and shown_money is not None and column.kind == "money":
            _shown_money(
                column, position, (data, raws, result), money_units, filled, column_unit,
                (factors[column.key], periods.get(column.key, 1)),
                rows[header.header_row], out, shown_money,
            )  # fmt: skip
        typed.append((column, position, raws, result, long))
    if filled:
        findings.extend(_merged_amounts(data, filled, typed, actual_name))
    # Pass 3: the rows, their keys in the layout's order; findings in the rows' order.
    keys: list[str] = ["excel_row"]
    lists: list[list] = [[i + 1 for i in data]]
    for column, _position, _raws, result, _long in typed:
        keys.append(column.key)
        lists.append(result.values)
        if result.precisions is not None:
            keys.append(precision(column.key))
            lists.append(result.precisions)
    odd = set(before) | {n for *_, r, long in typed for n in (*r.unparsed, *r.mismatched, *long)}
    odd |= {n for n, s in enumerate(supplied) if s is not None}
    out.rows = list(map(dict, map(zip, repeat(keys), zip(*lists, strict=True))))
    for n in sorted(odd):
        findings.extend(before.get(n, ()))
        out.rows[n] = _odd_row(
            n, data[n] + 1, typed, findings, actual_name, limits, supplied[n], sections
        )
    findings.extend(scanned)
    if uncached:
        findings.extend(_formulas_without_value(uncached, data, columns, actual_name))
    if errors:
        findings.extend(_formula_errors(errors, data, columns, actual_name))
    findings.extend(
        _repeated_column(rows, data, header, sheet.column(key).header, actual_name, index)
        for index, key in header.repeated.items()
    )
    if hidden and (shown := sorted(hidden & {index + 1 for index in data})):
        rows_text = ", ".join(map(str, shown[:20])) + (" …" if len(shown) > 20 else "")
        one = len(shown) == 1
        advice = ("", "") if sheet is not HTX else _HIDDEN_COOPERATIVE
        findings.append(
            Finding(
                rule="row_hidden",
                severity=INFO,
                message=reason(
                    "row_hidden",
                    sheet=actual_name,
                    rows_vi=("Dòng " if one else "Các dòng ") + rows_text,
                    rows_en=("Row " if one else "Rows ") + rows_text,
                    are_en="is" if one else "are",
                    advice_vi=advice[0],
                    advice_en=advice[1],
                ),
                sheet=actual_name,
                excel_row=shown[0],
            )
        )
    if sheet is HTX and not out.rows:
        # An empty template is a report of no cooperative: as a resubmission it replaces the
        # unit's report whole (the check `empty_report_replaces` names it), never in silence.
        # The code column's header is the cell marked, where the list should begin.
        code = sheet.column("coop_code")
        findings.append(
            Finding(
                rule="htx_sheet_empty",
                severity=WARNING,
                message=reason("htx_sheet_empty", sheet=actual_name),
                sheet=actual_name,
                excel_row=header.header_row + 1,
                column_name=code.header,
                cell=cell_address(header.columns[code.key], header.header_row + 1),
            )
        )
    return out


# What a clerk who hid the rows of cooperatives that stopped should do instead.
_HIDDEN_COOPERATIVE = (
    " Nếu một HTX không còn hoạt động, hãy ghi rõ trong báo cáo thay vì ẩn dòng.",
    " If a cooperative is no longer active, say so in the report instead of hiding its row.",
)


def _formulas_without_value(
    uncached: frozenset[tuple[int, int]],
    data: list[int],
    columns: list[tuple[Column, int]],
    sheet_name: str,
) -> Iterable[Finding]:
    """A record's cell holding a formula with no saved value (a workbook a program wrote and
    no spreadsheet saved): calamine reads it as empty, so it is an error of that cell, never
    a value lost in silence. A total row's formula is no record's: nothing to say; nor is a
    row number's (`=ROW()-1` in STT), which is not read but for a group's Roman numeral."""
    records = {index + 1 for index in data}
    by_position = {position: column for column, position in columns}
    for excel_row, position in sorted(uncached):
        column = by_position.get(position)
        if column is None or column.key == "stt" or excel_row not in records:
            continue
        yield Finding(
            rule="formula_without_value",
            severity=ERROR,
            message=reason("formula_without_value", column=column.header),
            sheet=sheet_name,
            excel_row=excel_row,
            column_name=column.header,
            cell=cell_address(position, excel_row),
        )


def _formula_errors(
    errors: dict[tuple[int, int], str],
    data: list[int],
    columns: list[tuple[Column, int]],
    sheet_name: str,
) -> Iterable[Finding]:
    """A record's cell of a text, code or list column showing a formula's error (`#REF!`,
    `#N/A` of a broken VLOOKUP): calamine reads it as empty, and no rule of the column
    would fail the error's text, so it is an error of that cell, showing the error, never a
    name, code or sector missing without a word (a parsed column's cell fails its
    `…_readable` rule instead: `_as_shown_error`)."""
    records = {index + 1 for index in data}
    by_position = {position: column for column, position in columns}
    for (excel_row, position), error in sorted(errors.items()):
        column = by_position.get(position)
        if column is None or _parsed(column) or column.key == "stt" or excel_row not in records:
            continue
        yield Finding(
            rule="formula_error",
            severity=ERROR,
            message=reason("formula_error", column=column.header, error=error),
            sheet=sheet_name,
            excel_row=excel_row,
            column_name=column.header,
            value=error,
            cell=cell_address(position, excel_row),
        )


def _stt_column(rows: list[list], header: headers.HeaderMatch) -> int | None:
    """The `STT` column a clerk adds to a sheet whose template has none (HoTro, OCOP,
    LienKet), by HTX's names for it: its Roman numerals and letters mark group titles there
    too (rule 11), so that the sums under a group are its subtotal, not a row without code."""
    if "stt" in header.columns:
        return header.columns["stt"]
    names = {match_key(name) for name in HTX.column("stt").names}
    taken = set(header.columns.values())
    for row in rows[header.header_row : header.data_start]:
        for at, cell in enumerate(row):
            if at not in taken and isinstance(cell, str) and match_key(cell) in names:
                return at
    return None


def _coded_rows(rows: list[list], code_at: list[int]) -> list[bool]:
    """Per row: a code column holds 8 or more digits as text (`_looks_like_code`'s first
    answer, which makes the row a record)."""
    flags = [False] * len(rows)
    for at in code_at:
        found = [
            (v := (row[at] if at < len(row) else None)).__class__ is str
            and len(v) >= 8
            and v.isdigit()
            for row in rows
        ]
        flags = found if at == code_at[0] else [a or b for a, b in zip(flags, found, strict=True)]
    return flags


def _columns_of(rows: list[list], data: list[int], columns: list[tuple[Column, int]]) -> list:
    """The cells of each layout column over the record rows (None past a short row's end):
    one transposition when every record row reaches the last column."""
    records = [rows[i] for i in data]
    if not records:
        return [() for _ in columns]
    last = max((position for _, position in columns), default=-1)
    if min(map(len, records)) > last:
        across = list(zip(*records, strict=False))  # each row reaches `last`
        return [across[position] for _, position in columns]
    return [
        [row[position] if position < len(row) else None for row in records]
        for _, position in columns
    ]


def _odd_row(
    n: int,
    excel_row: int,
    typed: list,
    findings: list[Finding],
    sheet_name: str,
    limits: Limits,
    supplied: dict | None,
    sections: _Sections,
) -> dict:
    """A record with a failed cell, a value from a section title or a cell too long: its
    typed values and its findings, in the order the row-by-row reader wrote them."""
    row: dict[str, object] = {"excel_row": excel_row}
    for column, position, raws, result, _long in typed:
        key, header = column.key, column.header
        if n in result.unparsed:
            row[key] = None
            row[unparsed(key)] = shown(result.unparsed[n])[:500]
        elif n in result.mismatched:
            row[key] = None
            findings.append(
                Finding(
                    rule="unit_mismatch",
                    severity=ERROR,
                    message=reason("unit_mismatch", unit=result.mismatched[n], column=header),
                    sheet=sheet_name,
                    excel_row=excel_row,
                    column_name=column.header,
                    value=clean(raws[n])[:200],
                    cell=cell_address(position, excel_row),
                )
            )
        else:
            row[key] = result.values[n]
            if result.precisions is not None:
                row[precision(key)] = result.precisions[n]
    if supplied is not None:
        sections.current = supplied
        sections.supply(row)
    for column, position, raws, _result, long in typed:
        raw = raws[n]
        if n in long:
            row[column.key] = raw[: limits.cell_chars]
            findings.append(
                Finding(
                    rule="cell_too_long",
                    severity=ERROR,
                    message=reason("cell_too_long", chars=len(raw), limit=limits.cell_chars),
                    sheet=sheet_name,
                    excel_row=excel_row,
                    column_name=column.header,
                    value=raw[:200],
                    cell=cell_address(position, excel_row),
                )
            )
    return row


def _repeated_column(
    rows: list[list], data: list[int], header, template: str, sheet_name: str, index: int
) -> Finding:
    """A second header of a column already read (`Doanh thu` beside `Doanh thu năm 2023`):
    its cells are not read. A warning naming the Excel rows of records (`data`: their
    0-based rows) where one of them holds a value unlike the read column's, which would be
    lost in silence; else information. Signature and total rows are no records."""

    def header_text(column: int) -> str:
        cells = (clean(row[column]) for row in rows[header.header_row : header.data_start])
        return " / ".join(text for text in cells if text)

    read = header.columns[header.repeated[index]]
    differ = [
        r + 1
        for r in data
        if (value := _cell(rows[r], index)) is not None and value != _cell(rows[r], read)
    ]
    column, read_text = header_text(index), header_text(read)
    shown = ", ".join(map(str, differ[:10])) + (" …" if len(differ) > 10 else "")
    rule = "column_repeated" if differ else "column_repeated_same"
    return Finding(
        rule="column_repeated",
        severity=WARNING if differ else INFO,
        message=reason(
            rule,
            column=column,
            letter=_letters(index),
            read=read_text,
            read_letter=_letters(read),
            template=template,
            rows=shown,
        ),
        sheet=sheet_name,
        # The first record whose figure would be lost, as its cell says; else the header.
        excel_row=differ[0] if differ else header.header_row + 1,
        column_name=column,
        cell=cell_address(index, differ[0]) if differ else None,
    )


def _split_column(
    rows: list[list], header, template: str, sheet_name: str, key: str, unread: list[int]
) -> Finding:
    """A group header over sub-columns that do not tell which holds the report year's
    figures (`Doanh thu` over `Trồng trọt | Chăn nuôi`): a warning naming them, the one
    read (the leftmost) and those not read."""
    read = header.columns.get(key)
    indices = sorted([*unread, *([] if read is None else [read])])
    group, sub_row = rows[header.header_row], rows[header.header_row + 1]
    subs = ", ".join(f"{_letters(i)} '{clean(sub_row[i])}'" for i in indices)
    skipped = ", ".join(_letters(i) for i in unread)
    if read is None:
        read_vi, read_en = "không cột nào được đọc", "none was read"
    else:
        read_vi = f"chỉ cột {_letters(read)} được đọc, cột {skipped} không được đọc"
        read_en = f"only column {_letters(read)} was read, column {skipped} was not"
    return Finding(
        rule="column_split",
        severity=WARNING,
        message=reason(
            "column_split",
            column=clean(group[indices[0]]) or template,
            subs=subs,
            year_vi=f"năm {header.year}" if header.year is not None else "năm báo cáo",
            year_en=header.year if header.year is not None else "the report year",
            read_vi=read_vi,
            read_en=read_en,
            template=template,
        ),
        sheet=sheet_name,
        excel_row=header.header_row + 2,
        column_name=clean(group[indices[0]]) or template,
        cell=cell_address(unread[0], header.header_row + 2),
    )


def _letters(index: int) -> str:
    """A 0-based column's Excel letters: `D` for 3."""
    return cell_address(index, 1)[:-1]


# The units a column is read in, as the header_unit_mismatch reason names them.
_MONEY_UNITS = ("đồng, nghìn, triệu hoặc tỷ đồng", "đồng, thousand, million or billion đồng")
_UNIT_WORDS = {
    "tấn": "tonnes",
    "người": "persons",
    "thành viên": "members",
    "xã viên": "members",
    "lao động": "workers",
    "điểm": "points",
    "sao": "stars",
}


def _fits(column: Column) -> dict[str, str]:
    """The units `column` is read in, Vietnamese and English (`fits_vi`, `fits_en`)."""
    if column.kind == "money":
        return dict(zip(("fits_vi", "fits_en"), _MONEY_UNITS, strict=True))
    if not column.units:
        return {"fits_vi": "số, không có đơn vị", "fits_en": "a plain number, no unit"}
    english = dict.fromkeys(_UNIT_WORDS.get(unit, unit) for unit in column.units)
    return {"fits_vi": ", ".join(column.units), "fits_en": ", ".join(english)}


def _header_row_of(rows: list[list], header, index: int, unit: str | None) -> int:
    """The 0-based row of the header block whose cell in column `index` gives `unit` (the
    header's own cell, or a row of units under it); else the header's first row."""
    for r in range(header.header_row, header.data_start):
        cell = rows[r][index] if index < len(rows[r]) else None
        if isinstance(cell, str) and header_unit(cell) == unit:
            return r
    return header.header_row


def _fill_merged_down(
    rows: list[list], merges: Iterable[tuple[tuple[int, int], tuple[int, int]]], first: int
) -> dict[int, dict[int, int]]:
    """Rule 12: a cell merged down over data rows holds its value in every row it covers.

    Only the merge list says which cells are merged; an empty cell is never filled from
    the one above by guess. Ranges in the header block are the header's. Returns the cells
    filled: row -> {column: the range's top row}.
    """
    filled: dict[int, dict[int, int]] = {}
    for (top, left), (bottom, _right) in merges:
        if bottom <= top or top < first or top >= len(rows):
            continue
        value = rows[top][left] if left < len(rows[top]) else None
        if value is None or value == "":
            continue
        for r in range(top + 1, min(bottom, len(rows) - 1) + 1):
            if left < len(rows[r]):
                rows[r][left] = value
                filled.setdefault(r, {})[left] = top
    return filled


def _merged_amounts(
    data: list[int],
    filled: dict[int, dict[int, int]],
    typed: list[tuple[Column, int, list, typing.TypedColumn, set[int]]],
    sheet_name: str,
) -> list[Finding]:
    """A money cell merged down over several records holds its amount for each (rule 12), so
    the records of its range add up to that many times the amount: a grant of 300 merged
    over three support lines is 900 in the programme's total. That may be what the clerk
    meant (the same amount for each) or not (one amount for them all): the warning
    `amount_merged` at the range's top cell says how it was read, once per range, where the
    amount read is one (not a blank, a zero or a cell failing its own rule) and adds up (an
    average income per person merged over several cooperatives is each one's, and no sum)."""
    where = {index: n for n, index in enumerate(data)}  # a record's row -> its position
    found = []
    for column, position, _raws, result, _long in typed:
        if column.kind != "money" or column.per_year:  # an income per person adds up to none
            continue
        ranges: dict[int, list[int]] = {}  # the range's top row -> its records' rows
        for index in data:
            top = filled.get(index, {}).get(position)
            if top is not None:
                ranges.setdefault(top, [top] if top in where else []).append(index)
        for top, covered in sorted(ranges.items()):
            amount = result.values[where[covered[0]]]
            if len(covered) < 2 or not amount:  # None, 0: nothing adds up
                continue
            cell = cell_address(position, top + 1)
            value = f"{_as_read(amount)} triệu đồng"
            found.append(
                Finding(
                    rule="amount_merged",
                    severity=WARNING,
                    message=reason(
                        "amount_merged",
                        cell=cell,
                        column=column.header,
                        count=len(covered),
                        rows=f"{top + 1}–{covered[-1] + 1}",
                        amount=_as_read(amount),
                    ),
                    sheet=sheet_name,
                    excel_row=top + 1,
                    column_name=column.header,
                    value=value,
                    cell=cell,
                )
            )
    return found


def _below_merged_code(
    rows: list[list], filled: dict[int, dict[int, int]], code_at: list[int], read: set[int]
) -> dict[int, tuple[int, bool]]:
    """The rows of the HTX sheet under a cooperative's code merged down over them: row ->
    (the range's top row, whether the row holds a value of its own in a column of the table,
    `read`: a remark beside the table is none, nor is a row number in STT, which the
    contract ignores). A cooperative has one
    row, so such a row is never a second one: with nothing of its own it is the lower part
    of the merged cells (a long name given two rows' height), else one cooperative written
    over two rows. (Rule 12 fills a code merged over several rows of `HoTro`, `OCOP` or
    `LienKet`, where one cooperative has many rows.)"""
    below = {}
    for r, columns in filled.items():
        tops = [columns[at] for at in code_at if at in columns]
        if tops:
            own = any(
                v is not None and not (v.__class__ is str and not v.strip())
                for c, v in enumerate(rows[r])
                if c in read and c not in columns
            )
            below[r] = (tops[0], own)
    return below


def _on_two_rows(
    rows: list[list], index: int, top: int, columns: list[tuple[Column, int]], sheet: str
) -> Finding:
    """The error of a row that goes on with the cooperative of the merged code above it."""
    code_column, at = next((c, i) for c, i in columns if c.key == "coop_code")
    excel_row = index + 1
    span = f"{top + 1}–{excel_row}"
    return Finding(
        rule="coop_on_two_rows",
        severity=ERROR,
        message=reason("coop_on_two_rows", row=excel_row, rows=span, column=code_column.header),
        sheet=sheet,
        excel_row=excel_row,
        column_name=code_column.header,
        value=clean(rows[index][at])[:200],
        cell=cell_address(at, excel_row),
    )


def shown(raw: object) -> str:
    """A cell that could not be read, as the clerk sees it in Excel, for the findings that
    quote it: `2`, not `2.0`; `TRUE`; a date as `04/02/1900` (helper CL)."""
    if raw.__class__ is str:
        return clean(raw)
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime):
        when = raw.strftime("%d/%m/%Y")
        return when if raw.time() == dt.time() else f"{when} {raw:%H:%M:%S}"
    if isinstance(raw, dt.date):
        return raw.strftime("%d/%m/%Y")
    return clean(raw)


def _unheaded(
    rows: list[list],
    header: headers.HeaderMatch,
    data: list[int],
    sheet_name: str,
    stt_at: int | None,
) -> list[Finding]:
    """A column of the table with values in its records but no header at all (the second
    column under a merged `Ghi chú`, a column whose header was deleted): not read, and an
    info finding names it, so no value is dropped in silence (rule 3 reports the columns it
    does not read; helper CM). Not the row numbers of an `STT` column without its header,
    nor a column of zeros or dashes (a spacer's formulas): nothing there is lost (CN)."""
    block = rows[header.header_row : header.data_start]
    width = max((len(rows[i]) for i in data), default=0)
    named = {*header.columns.values(), stt_at}
    found = []
    for index in range(width):
        if index in named or any(_cell(r, index) is not None for r in block):
            continue
        filled = [i for i in data if _holds_value(_cell(rows[i], index))]
        if not filled or _row_numbers([rows[i][index] for i in filled]):
            continue
        column = cell_address(index, 1)[:-1]
        found.append(
            Finding(
                rule="column_without_header",
                severity=INFO,
                message=reason(
                    "column_without_header", column=column, rows=len(filled), first=filled[0] + 1
                ),
                sheet=sheet_name,
                excel_row=header.header_row + 1,
                column_name=column,
                value=shown(rows[filled[0]][index])[:200],
                cell=cell_address(index, filled[0] + 1),
            )
        )
    return found


# A spacer cell's text that holds no value: nothing, or a dash of any length.
_NO_VALUE = frozenset(
    {"", "-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212"}
)


def _row_numbers(values: list) -> bool:
    """Whether values are the row numbers 1, 2, 3, … (an `STT` column without its header);
    one value alone is not (helper CQ)."""
    if len(values) < 2 or not all(
        v.__class__ in (int, float) and float(v).is_integer() for v in values
    ):
        return False
    return [int(v) for v in values] == list(range(1, len(values) + 1))


def _holds_value(cell: object) -> bool:
    """Whether a cell holds anything but blank, a dash or a number zero (a tick `x` and a
    `FALSE` are values: helper CQ)."""
    if cell is None or (isinstance(cell, str) and clean(cell) in _NO_VALUE):
        return False
    return not (cell.__class__ in (int, float) and cell == 0)


def _cell(row: list, index: int) -> object:
    value = row[index] if index < len(row) else None
    if isinstance(value, str) and not value.strip():
        return None
    return value


# A section marker in `STT` (rule 11): `I`, `II.`, `A`, `b)`, `(c)`, `đ)` (a Vietnamese list
# runs `d`, `đ`, `e`), `I. Lĩnh vực …`.
_MARKER = re.compile(r"^\(?([A-Za-zĐđ]|[IVXivx]{1,7})\s*[.):]?(?:\s+(.*))?$", re.DOTALL)
# The same marker leading a title in another column needs its `.` or `)`: `I. Lĩnh vực …`,
# `ii. Lĩnh vực …`.
_TEXT_MARKER = re.compile(r"^\(?([A-Za-zĐđ]|[IVXivx]{1,7})\s*[.)]\s*(.+)$", re.DOTALL)
# A Roman numeral, in either case (`II`, `ii`): matched on the marker in upper case.
_ROMAN = re.compile(r"^(?=[IVX])X{0,3}(IX|IV|V?I{0,3})$")
# A one-letter numeral (`i`, `v`, either case) right after the letter before it in the
# alphabet (`h.` then `i.`: the ninth group of a lettered list) is that letter, not a Roman
# numeral: a letter title ends only its own kind.
_LETTER_BEFORE = {"I": "H", "V": "U"}
# `Xa Dak Gan:`: a commune title typed without accents, by the prefixes of the reference's
# full names (`strip_unit_prefix` takes them, and `TT.`, `X.`, `P.`, with their accents).
_COMMUNE_PREFIXES = ("xa", "phuong", "thi tran", "dac khu")
# A title's trailing count of its group's cooperatives: `(05 HTX)`, `(có 5 HTX)`, `(gồm 5
# hợp tác xã)`, `: 3 HTX`, `- 3 HTX`, `3 HTX`; the words are checked on their match key
# (`_title_text`).
_COUNT = re.compile(
    r"\s*(?:\(\s*(?:(?:có|co|gồm|gom)\s+)?\d+\s*([^()]*?)\s*\)|(?:[:\-–]\s*|\s)\d+\s*(\D*?))"
    r"\s*:?\s*$",
    re.IGNORECASE,
)
_COOPERATIVES = ("htx", "hop tac xa")
# `khác` (other) after `HTX` alone, and the words that make it the sector `Khác`.
_OTHER = "khac"
_FIELD_WORD = re.compile(r"\b(?:linh vuc|nganh)\b")


# An Arabic `STT` number (`2`, `2.0`, `2.`, `2)`, `(2)`), and a cooperative's name, by its
# match key.
# The longest word a legend writes where a line's code goes (`NTM`, `OCOP`, `DA167`, `KHAC`).
_LEGEND_WORD = 5
# What a code cell holds to say a line has no code (`_numbered_line`), as match keys: `Không`,
# `Không có`, `Chưa có`, `N/A`, `NA`. A dash is not (a form's empty line may show one).
_NO_CODE = frozenset({"khong", "khong co", "chua co", "n a", "na"})
_STT_NUMBER = re.compile(r"^\s*\(?\d{1,5}(?:\.0)?[.)]?\s*$")
# A line numbered under its group's number (`1.1`, `2.3.`; not `1.2.23`, a date): a line as `1`
# is in the support, OCOP and offtake tables (`_numbered_line`).
_STT_SUB_NUMBER = re.compile(r"^\s*\d{1,3}\.\d{1,3}\.?\s*$")
_COOP_NAME = re.compile(r"^(?:htx|hop tac xa|lien hiep htx|lien hiep hop tac xa|quy tin dung)\b")
# The dated line of a signature block: `Đắk Mil, ngày 15 tháng 01 năm 2024`, `Ngày 15 tháng 1
# năm 2024`, `Đắk Mil, ngày 15/01/2024` (on match keys: unaccented, lower-case, punctuation
# as spaces).
_SIGNED_ON = re.compile(r"^(?:[a-z ]+ )?ngay \d{1,2} (?:thang )?\d{1,2} (?:nam )?\d{4}$")


class _Sections:
    """Rule 11: the commune and the sector the group titles above a row supply to its empty
    cells, each recorded as an info finding."""

    def __init__(self, sheet: Sheet, sheet_name: str, columns: dict[str, int], findings):
        self.sheet_name, self.findings = sheet_name, findings
        self.keys = tuple(c.key for c in sheet.columns if c.key in ("commune_name", "sector"))
        self.headers = {k: sheet.column(k).header for k in self.keys}
        self.columns = columns
        self.current: dict[str, tuple[str, int]] = {}  # key -> (value, title's Excel row)
        self.seen = False  # a section title came before: rows of sums are its subtotals

    @property
    def active(self) -> bool:
        return bool(self.current)

    def title(self, excel_row: int, roman: bool, names: dict[str, str]) -> None:
        self.seen = True
        if roman:  # a Roman-numeral title ends both kinds
            self.current.clear()
        for key, value in names.items():
            if key in self.keys:
                self.current[key] = (value, excel_row)

    def supply(self, typed: dict) -> None:
        for key in self.keys:  # in the layout's column order
            if key not in self.current or typed.get(key) is not None:
                continue
            value, title_row = self.current[key]
            typed[key] = value
            header = self.headers[key]
            position = self.columns.get(key)
            self.findings.append(
                Finding(
                    rule="value_from_section",
                    severity=INFO,
                    message=reason(
                        "value_from_section", column=header, value=value, title_row=title_row
                    ),
                    sheet=self.sheet_name,
                    excel_row=typed["excel_row"],
                    column_name=header,
                    value=value,
                    cell=None if position is None else cell_address(position, typed["excel_row"]),
                )
            )


# What a form's empty row shows beside its zeros (`_Table._template_row`).
_TEMPLATE_DASHES = frozenset(("-", "\u2013", "\u2014"))


class _Table:
    """Tells the rows of one sheet's table that are no data: empty rows, totals, signature
    blocks, repeated headers and column numbers, section titles and their subtotals."""

    def __init__(
        self,
        sheet: Sheet,
        sheet_name: str,
        header: headers.HeaderMatch,
        columns: list[tuple[Column, int]],
        findings: list[Finding],
        stt_at: int | None = None,
        factors: dict[str, float] | None = None,
        epoch: dt.date = cells.EXCEL_EPOCH,
        records: list[int] | None = None,
        filled: dict[int, dict[int, int]] | None = None,
    ):
        self.sheet, self.sheet_name, self.header = sheet, sheet_name, header
        self.factors = factors or {}  # column key -> its money unit's factor (`_read_sheet`)
        self.epoch = epoch  # a serial day in a date column is a figure as the cells read it
        self.columns, self.findings = columns, findings
        self.code_at = [i for c, i in columns if c.key == "coop_code"]
        self.stt_at = stt_at
        self.name_at = header.columns.get("name")
        self.note_at = header.columns.get("note")  # free text: `Tổng hợp …` is no total
        # A cooperative's own texts, which a title row never holds (`_lacks_code`).
        self.own_at = {
            header.columns[k] for k in ("commune_name", "sector", "rating") if k in header.columns
        }
        self.numeric = [(c, i) for c, i in columns if c.kind in _NUMERIC_KINDS]

        self.sections = _Sections(sheet, sheet_name, header.columns, findings)
        self.last_marker: str | None = None  # of the latest section title (`h`, `II`)
        # The record rows so far (the caller's list, filled as it reads, 0-based) and the
        # last total without its label: what such a total sums (`_sums_above`).
        self.records = [] if records is None else records
        self.last_total = -1
        # Cells a merge down filled from a row above (row -> {column: top row}): a title's
        # own cells are the others (`not_data`).
        self.filled = filled or {}

    def not_data(self, rows: list[list], index: int) -> int:
        """How many rows from `index` on are no data (0 when `rows[index]` is a record)."""
        row = rows[index]
        # The hot path: a record has a code (`Người lập biểu` or a dated signature line in
        # the code column is the signature block, not a cooperative).
        if any(_looks_like_code(row[i] if i < len(row) else None) for i in self.code_at):
            return 0
        row_cells = [None if isinstance(c, str) and not c.strip() else c for c in row]  # _cell
        if all(c is None for c in row_cells):
            return 1
        if headers.is_column_number_row(row):
            return 1
        repeated = headers.repeated_header(rows, index, self.sheet, self.header)
        if repeated is not None:
            self._check_repeated(rows, index, repeated[0])
            self._check_repeated_units(rows, index, *repeated)
            return repeated[1]
        if self._dated_line(row, row_cells):
            return 1
        texts = [
            (i, c) for i, c in enumerate(row_cells) if isinstance(c, str) and i != self.note_at
        ]
        # A numbered name with its own commune, sector or rating is a cooperative even when a
        # text of it begins as a total does (`Tổng hợp Đức Mạnh`, commune `Cộng Hòa`).
        if any(_is_total_label(c) for _, c in texts) and not self._lacks_code(row, texts):
            return 1
        if self._section_title(row, texts, index + 1):
            return 1
        merged = self.filled.get(index)
        if merged and self._merged_over_title(row, merged, index):
            return 1
        # `Đắk Mil, ngày 15 tháng 01 năm 2024` under the table, any column, alone or beside
        # `Người lập biểu`: the signature block, though a date column reads its date.
        signed = {i for i, c in texts if _SIGNED_ON.match(match_key(c))}
        if (
            signed
            and all(c is None or c.__class__ is str for c in row_cells)
            and not self._has_figures([None if i in signed else c for i, c in enumerate(row)])
            and not self._lacks_code(row, texts)  # `HTX …` founded `ngày 15/3/2019`, no code
        ):
            return 1
        if self._template_row(row_cells):
            return 1
        if not self._has_figures(row):
            if self._lacks_code(row, texts):
                return 0  # a cooperative, not a title: its missing code is an error
            if self.name_at is None and self._numbered_line(row, texts):
                self._line_without_code(row, index)
                return 1
            if len(texts) == 1:
                # Only a group title that names nothing (`HTX thành lập mới năm 2023`): the
                # sums below it are its subtotal, as under any title (rule 11).
                self.sections.seen = True
            return 1
        # Sums without a code or a name under a section title: that group's subtotal. A sheet
        # without a name column (HoTro, OCOP, LienKet): sums without a code or any text.
        if self.sections.seen and (
            _cell(row, self.name_at) is None if self.name_at is not None else not texts
        ):
            return 1
        if not texts and self._sums_above(rows, row):
            self._unlabelled_total(index)
            return 1
        return 0

    def _sums_above(self, rows: list[list], row: list) -> bool:
        """A total row without its label (rule 9): no text and no `STT` number, and each of
        its figures the sum of its column over the records above (since the last such row),
        or their average (`Thu nhập bình quân`, `Điểm`), as `=SUM(…)` and `=AVERAGE(…)`
        leave them; one at least the sum of two records or more. Any other row of figures
        without code or name stays a record, whose missing code is an error."""
        if self.stt_at is not None and _cell(row, self.stt_at) is not None:
            return False
        above = [i for i in self.records if i > self.last_total]
        summed = False
        figures = 0
        for column, at in self.numeric:
            value = _cell(row, at)
            if value is None:
                continue
            if column.kind == "date" or value.__class__ not in (int, float):
                return False  # a bool, a date or a text: not what a sum gives
            figures += 1
            values = [v for v in (_cell(rows[i], at) for i in above) if v.__class__ in (int, float)]
            total = math.fsum(values)
            if len(values) >= 2 and math.isclose(value, total, rel_tol=1e-9, abs_tol=1e-6):
                summed = True
            elif not (
                (values and math.isclose(value, total / len(values), rel_tol=1e-9, abs_tol=1e-6))
                or (not values and value == 0)
            ):
                return False
        return summed and figures > 0

    def _unlabelled_total(self, index: int) -> None:
        """Says which row was taken for a total without its label (`_sums_above`)."""
        self.last_total = index
        self.findings.append(
            Finding(
                rule="total_without_label",
                severity=INFO,
                message=reason("total_without_label", row=index + 1),
                sheet=self.sheet_name,
                excel_row=index + 1,
            )
        )

    def _merged_over_title(self, row: list, merged: dict[int, int], index: int) -> bool:
        """A group title that a cell merged down over the rows around it reaches into (`Nông
        nghiệp` merged over a commune's cooperatives and the next commune's title): the
        title is its own cells, the merged value is the rows' it covers (rule 12; helper
        CM: the title was lost, or taken for a cooperative and the file rejected)."""
        own = [None if i in merged else c for i, c in enumerate(row)]
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in own):
            return False  # only the merge: the rows around it decide, as before
        texts = [
            (i, c)
            for i, c in enumerate(own)
            if isinstance(c, str) and c.strip() and i != self.note_at
        ]
        if self._has_figures(own) or (texts and self._lacks_code(own, texts)):
            return False
        name = _cell(own, self.name_at) if self.name_at is not None else None
        if isinstance(name, str) and _COOP_NAME.match(match_key(name)):
            return False  # `3 | HTX Cà phê` without its code: a cooperative, an error
        words = [c for i, c in texts if not (i == self.stt_at and _STT_NUMBER.match(clean(c)))]
        if len(words) == 1:
            # A title names no kind a merge covers on its row (a commune's title under a
            # commune merged across it is none).
            columns = self.header.columns
            if any(columns.get(key) in merged for key in _title_names(words[0])):
                return False
        stt = _cell(own, self.stt_at) if self.stt_at is not None else None
        if stt is not None and _STT_NUMBER.match(clean(stt)):
            # Numbered as a cooperative is: a title only as one says it (`2 | Xã Thuận An`,
            # `2 | Lĩnh vực dịch vụ`, `2 | Tân Tiến:`); a bare place (`3 | Tân Tiến` under a
            # merged commune and sector) is a cooperative's name, and its missing code an
            # error (helpers CN, CQ).
            if len(words) != 1:
                return False
            said = words[0].rstrip().endswith(":") or _SAID_TITLE.match(match_key(words[0]))
            if not said:
                return False
        return self._section_title(own, texts, index + 1)

    def _dated_line(self, row: list, row_cells: list) -> bool:
        """The dated line of a signature block written across cells (rule 1): `Đắk Mil, ngày`
        then a date cell, `ngày | 15 | tháng | 01 | năm | 2024` with the numbers in the
        table's figure columns, `Đắk Mil, ngày 15 tháng | 01 năm | 2024`; beside it only
        texts (`Người lập biểu`, `TRƯỞNG PHÒNG`), as for the line in one cell, and never on
        a cooperative's row (`_lacks_code`: `HTX Bình An | Đức Mạnh | … | Giải thể ngày
        15/3/2023`, helper CN). Or a date alone on its row: a date cell, or a date typed in a
        date column (`15/01/2024` under `Ngày thành lập`; helper CM)."""
        parts: list[tuple[int, str, bool]] = []  # (column, match key, a text cell)
        for i, c in enumerate(row_cells):
            if c is None:
                continue
            if isinstance(c, dt.date):  # a datetime is a date
                parts.append((i, f"{c.day} {c.month} {c.year}", False))
            elif isinstance(c, bool):
                return False
            elif isinstance(c, int | float):
                if not float(c).is_integer():
                    return False
                parts.append((i, str(int(c)), False))
            else:
                parts.append((i, match_key(c), True))
        if len(parts) == 1:
            index, _key, text = parts[0]
            cell = row_cells[index]
            if not text:
                return isinstance(cell, dt.date)
            if self._date_column(index):
                try:
                    return cells.parse_date(cell, epoch=self.epoch) is not None
                except (ValueError, OverflowError):
                    return False
            return False
        run = _signed_run([key for _i, key, _text in parts])
        if run is None:
            return False
        start, end = run
        if any(not text for _i, _key, text in parts[:start] + parts[end + 1 :]):
            return False  # a figure of the row's own beside the line
        inside = {i for i, _key, _text in parts[start : end + 1]}
        if self._has_figures([None if i in inside else c for i, c in enumerate(row)]):
            return False  # `"40"`, `"1.500"` typed as text beside a dated note (helper CR)
        texts = [(i, row_cells[i]) for i, _key, text in parts if text and i != self.note_at]
        return not self._lacks_code(row, texts)

    def _date_column(self, index: int) -> bool:
        return any(i == index and c.kind == "date" for c, i in self.numeric)

    def _template_row(self, row_cells: list) -> bool:
        """A form's row left empty (rule 9): its `STT` and zeros alone, as the form's
        formulas show them under a table (`=SUM(…)` of nothing, `FALSE`), or dashes; no
        code, no name, no other text. It holds no cooperative, and failed
        `coop_code_required` (helper BS)."""
        zero = False
        for i, c in enumerate(row_cells):
            if c is None or i == self.stt_at:
                continue
            text = c.strip() if c.__class__ is str else None
            if text in _TEMPLATE_DASHES:
                continue
            if text == "0" or (text is None and isinstance(c, int | float) and c == 0):
                zero = True  # a bool's False is an int's 0
                continue
            return False
        return zero

    def _lacks_code(self, row: list, texts: list[tuple[int, str]]) -> bool:
        """A cooperative's row with neither code nor figures, which no title is (rule 11: a
        title is "only a group title"): a name with a commune, a sector or a rating of its
        own (not `-` or `x`), and an Arabic `STT` number or a cooperative's name (`HTX …`,
        `Hợp tác xã …`). Never dropped in silence: it fails `coop_code_required`. A numbered
        name alone (`1 | HTX thành lập mới năm 2023`) stays a title."""
        if self.name_at is None or not isinstance(_cell(row, self.name_at), str):
            return False
        if not any(i in self.own_at and not cells.is_blank(c) for i, c in texts):
            return False
        # Not `1.1`: on the HTX sheet a sub-number is a sub-section's title (`1.1 | Trồng trọt
        # | Nông nghiệp`), which a line numbered so in another table is not (helper CJ).
        numbered = self.stt_at is not None and bool(
            _STT_NUMBER.match(str(_cell(row, self.stt_at) or ""))
        )
        return numbered or bool(_COOP_NAME.match(match_key(row[self.name_at])))

    def _numbered_line(self, row: list, texts: list[tuple[int, str]]) -> bool:
        """A line of a support, OCOP or offtake table (no name column) without a code or a
        figure, which no title, total or legend is: an Arabic `STT` number (`2`, or under its
        group's, `1.2`) and two texts of its own or more in the table's columns (`1 | Cà phê
        bột | Đồ uống`, `2 | NTM | Kho lạnh | Tỉnh`, `3 | Chưa có mã | Kho lạnh`). One text
        alone is a title, as a numbered
        name alone is in HTX (`1 | Chương trình NTM`, a form's `2 | DA167` left empty), and so
        is a legend that writes its word where the code goes (`1 | NTM | Chương trình MTQG
        …`): a word of five letters or fewer in the code cell is not counted, unless it says
        the code is missing (`2 | Không | Kho lạnh`, `3 | N/A | Kho lạnh`: one text of the
        line's own then makes it a line)."""
        stt = str(_cell(row, self.stt_at) or "") if self.stt_at is not None else ""
        if not (_STT_NUMBER.match(stt) or _STT_SUB_NUMBER.match(stt)):
            return False
        own = {i for _, i in self.columns} - {self.stt_at, *self.code_at}
        count = sum(1 for i, c in texts if i in own and not cells.is_blank(c))
        # The code cell counts when it holds what may be a code or the line's own words (a
        # short code `6400001`, `Chưa có mã`, the name written there), not a legend's word.
        code = next((_cell(row, i) for i in self.code_at if _cell(row, i) is not None), None)
        if code is not None and (code.__class__ is not str or len(clean(code)) > _LEGEND_WORD):
            count += 1
        elif code is not None and match_key(code) in _NO_CODE:
            return count >= 1  # `2 | Không | Kho lạnh`: the code said to be missing
        return count >= 2

    def _line_without_code(self, row: list, index: int) -> None:
        """The warning of a numbered line without a code or a figure (`_numbered_line`): it
        is not read (with no code, it belongs to no cooperative), and never in silence."""
        stt = self.stt_at or 0  # known: `_numbered_line` found the number there
        raw = _cell(row, stt)
        number = str(int(raw)) if isinstance(raw, float) and raw.is_integer() else clean(str(raw))
        at = self.code_at[0] if self.code_at else stt
        self.findings.append(
            Finding(
                rule="line_without_code",
                severity=WARNING,
                message=reason(
                    "line_without_code", row=index + 1, sheet=self.sheet_name, number=number
                ),
                sheet=self.sheet_name,
                excel_row=index + 1,
                column_name=self.sheet.column("coop_code").header,
                value=" | ".join(
                    clean(str(int(c) if isinstance(c, float) and c.is_integer() else c))
                    for i, c in enumerate(row)
                    if i != stt and c is not None and not (isinstance(c, str) and not c.strip())
                )[:200],
                cell=cell_address(at, index + 1),
            )
        )

    def _has_figures(self, row: list) -> bool:
        for column, index in self.numeric:
            raw = _cell(row, index)
            if raw is None:  # every rule reads a blank cell as no figure
                continue
            try:
                parsed: object
                if column.kind == "date":
                    parsed = cells.parse_date(raw, epoch=self.epoch)
                elif column.kind == "money":
                    # `1,2 tỷ`, `5 triệu/tháng` are figures (rule 14)
                    parsed = cells.parse_money(
                        raw, per_year=column.per_year, says_loss=column.says_loss
                    )
                else:
                    parsed = cells.parse_quantity(raw, column.units)  # `25 người`
            except cells.UnitMismatch:  # a figure with a unit that does not fit: still one
                return True
            except (ValueError, OverflowError):
                continue
            if parsed is not None:
                return True
        return False

    def _section_title(self, row: list, texts: list[tuple[int, str]], excel_row: int) -> bool:
        """A group title (rule 11): a marker in `STT` (or leading the row's first text), or
        a row's one text naming a commune or a sector, or ending in `:`. Records what it
        supplies to the rows below."""
        roman = marked = False
        titles: list[str] = []
        for n, (index, cell) in enumerate(texts):
            text = clean(cell)
            if index == self.stt_at and _STT_NUMBER.match(text):
                continue  # `1`, `1.` as text: the number a number cell holds, no title text
            if not marked and (index == self.stt_at or n == 0):
                found = (_MARKER if index == self.stt_at else _TEXT_MARKER).match(text)
                if found:
                    marked, marker = True, found.group(1)
                    rest = found.group(2) or ""
                    roman = (
                        bool(_ROMAN.match(marker.upper()))
                        and not self._next_letter(marker)
                        and not self._abbreviated_xa(text, rest)
                    )
                    self.last_marker = marker
                    text = rest
            if text:
                titles.append(text)
        # Without a marker, a title is the row's only text: a cooperative's row has more.
        if not marked and len(titles) != 1:
            return False
        names = _title_names(titles[0]) if titles else {}
        if not (marked or names or titles[0].endswith(":")):
            return False
        self.sections.title(excel_row, roman, names)
        return True

    def _abbreviated_xa(self, text: str, rest: str) -> bool:
        """Whether `X.` abbreviates `Xã` (etl.text compares names without it): before a
        commune's bare name (`X. Đắk Sắk`), unless it follows `IX`, as the tenth group."""
        return (
            text[:2] in ("X.", "x.")
            and (self.last_marker or "").upper() != "IX"
            and match_key(_title_text(rest)) in _commune_keys()
        )

    def _next_letter(self, marker: str) -> bool:
        """Whether a one-letter marker follows the letter before it, in the same case."""
        before = self.last_marker
        return (
            len(marker) == 1
            and before is not None
            and before.isupper() == marker.isupper()
            and before.upper() == _LETTER_BEFORE.get(marker.upper())
        )

    def _check_repeated(self, rows: list[list], index: int, columns: dict[str, int]) -> None:
        """Rule 13: a header repeated inside the table must name the first one's columns."""
        first = self.header.columns
        if columns == first:
            return
        moved = [k for k in self.sheet.columns if first.get(k.key) != columns.get(k.key)]
        detail = ", ".join(
            f"{c.header} ({_letter(first.get(c.key))} → {_letter(columns.get(c.key))})"
            for c in moved
        )
        where = next(
            (columns[c.key] for c in moved if c.key in columns),
            first.get(moved[0].key, 0),
        )
        self._repeated_finding(
            "header_repeated_differs", rows, index, detail, moved[0], index, where
        )

    def _check_repeated_units(
        self, rows: list[list], index: int, columns: dict[str, int], taken: int
    ) -> None:
        """A header repeated inside the table that gives a money column another unit than
        the first header does (page one's `Doanh thu (triệu đồng)`, page two's `Doanh thu
        (đồng)`, in the header or in a row of units under it; a month's income where page
        one's was a year's): an error of that row. The rows under it are not read in either
        unit silently; a repeated header without units keeps the first one's, and a remark
        that is no unit (`(*)`, `(ước tính)`) is none."""
        below = _units_below(rows, index + taken)
        changed: list[tuple[Column, int, str, int]] = []  # column, index, unit, its row
        for column, at in self.columns:
            if column.kind != "money" or columns.get(column.key) != at:
                continue
            unit, where = next(
                (
                    (found, r)
                    for r in range(index, min(index + taken, len(rows)))
                    if at < len(rows[r]) and (found := headers.header_unit(rows[r][at]))
                ),
                below.get(at, (None, index)),
            )
            if unit is None:
                continue
            factor, first = cells.money_factor(unit), self.factors.get(column.key)
            rate = factor is not None or cells.is_rate(unit)  # not a footnote's `(*)`
            if (factor is not None and first is not None and not math.isclose(factor, first)) or (
                column.per_year
                and rate
                and cells.per_month(unit) != cells.per_month(self.header.units.get(column.key))
            ):
                changed.append((column, at, unit, where))
        if not changed:
            return
        column, at, _, where = changed[0]
        stated = self.header.units
        detail = ", ".join(
            f"{c.header} ({stated.get(c.key) or _in_million(self.factors[c.key])} → {unit})"
            for c, _, unit, _ in changed
        )
        self._repeated_finding(
            "header_repeated_unit_differs", rows, index, detail, column, where, at
        )

    def _repeated_finding(
        self,
        rule: str,
        rows: list[list],
        index: int,
        detail: str,
        column: Column,
        row: int,
        at: int,
    ) -> None:
        """The error of the header repeated at `rows[index]`, on the cell (`row`, `at`)."""
        raw = rows[row][at] if at < len(rows[row]) else None
        self.findings.append(
            Finding(
                rule=rule,
                severity=ERROR,
                message=reason(
                    rule, row=index + 1, first=self.header.header_row + 1, detail=detail
                ),
                sheet=self.sheet_name,
                excel_row=row + 1,
                column_name=column.header,
                value=None if raw is None or raw == "" else clean(raw)[:200],
                cell=cell_address(at, row + 1),
            )
        )


def _units_below(rows: list[list], at: int) -> dict[int, tuple[str, int]]:
    """The row of units under a repeated header (`headers.units_row`), maybe after its column
    numbers: column index -> (unit, row index); empty when there is none."""
    for r in range(at, min(at + 2, len(rows))):
        if headers.is_column_number_row(rows[r]):
            continue
        units = headers.units_row(rows[r]) or {}
        return {column: (unit, r) for column, unit in units.items()}
    return {}


def _in_million(factor: float) -> str:
    """The unit a factor reads money in, as the first header's finding names it."""
    return {1e-6: "đồng", 1e-3: "nghìn đồng", 1.0: "triệu đồng", 1e3: "tỷ đồng"}.get(
        factor, f"× {factor:g} triệu đồng"
    )


def _letter(index: int | None) -> str:
    return "–" if index is None else cell_address(index, 1)[:-1]


def _title_names(text: str) -> dict[str, str]:
    """What a group title names: `Xã Đắk Gằn:` the commune `Đắk Gằn`, `Lĩnh vực phi nông
    nghiệp` the sector `Phi nông nghiệp` (a whole label: never `Nông nghiệp`), `TT. Đắk Mil
    (05 HTX)` the commune `Đắk Mil`."""
    text = _title_text(text)
    key = match_key(text)
    if not key:
        return {}
    # The prefixes a sector's cell may carry (`Lĩnh vực`, `Ngành`, `HTX`), as rule 11 reads a
    # title as a cell: `II | HTX PHI NÔNG NGHIỆP` names `Phi nông nghiệp`. But `Các HTX khác`
    # is the other cooperatives of any grouping (after `I | HTX tham gia Đề án 167`): only
    # `Lĩnh vực khác`, `Ngành khác` name the sector.
    before = cells.SECTOR_PREFIX.match(key)
    rest = key[before.end() :] if before else key
    sector = cells.sector_named(rest, SECTORS)
    if rest == _OTHER and before and not _FIELD_WORD.search(before.group()):
        sector = None
    if sector is not None:
        return {"sector": sector}
    name = strip_unit_prefix(text)
    if name != text:
        return {"commune_name": name} if name else {}
    for prefix in _COMMUNE_PREFIXES:
        if key.startswith(prefix + " "):
            words = len(prefix.split())
            return {"commune_name": " ".join(text.split()[words:])}
    if key in _commune_keys():
        return {"commune_name": text}
    return {}


def _title_text(text: str) -> str:
    """A title without its trailing `:` and count of cooperatives (`Xã Đức Mạnh: 3 HTX` ->
    `Xã Đức Mạnh`); parentheses that count nothing else stay (`Xã Đắk Gằn (cũ)`)."""
    text = text.rstrip(": ").strip()
    found = _COUNT.search(text)
    if found and match_key(found.group(1) or found.group(2)) in _COOPERATIVES:
        text = text[: found.start()].rstrip(": ").strip()
    return text


@cache
def _commune_keys() -> frozenset[str]:
    """Every commune name of the reference, former or in force since 01/07/2025, as match
    keys: a bare title `Đắk Gằn` or `Bắc Gia Nghĩa` names one."""
    from etl.contract.reference import load_reference

    ref = load_reference()
    units = [*ref.units.values(), *(ref.current_units or {}).values()]
    return frozenset(match_key(u.name) for u in units if u.level == "commune")


def _is_total_label(text: str) -> bool:
    """`Tổng cộng`, `Cộng`, `Tổng`, `Cộng nhóm nông nghiệp`, `Tổng số`… (or typed without
    accents, `Tong cong`), and the unit's whole, `Toàn huyện`, `Toàn tỉnh`; never a company
    or a word of its own (`Công ty TNHH …`, `Tổng công ty Cà phê Việt Nam`, `Tổng đại lý …`:
    LienKet partners; `Cộng tác viên`, `Cộng đồng`, `Cộng Hòa`; `Tổng kết mô hình HTX`, a
    HoTro content: a review), nor `Công …`, `Tông …`, which are `cong`, `tong` without
    accents too (`Công trình thủy lợi`: a HoTro content)."""
    label = match_key(text)
    if _AREA_TOTAL.match(label):  # `Toàn huyện`, `Toàn tỉnh`, `Cả huyện`: the unit's total
        return True
    if not any(label == word or label.startswith(word + " ") for word in _TOTAL_WORDS):
        return False
    if _NOT_TOTAL.match(label):
        return False
    first = _FIRST_WORD.match(clean(text).lower())
    return first is None or first.group().isascii() or first.group() in ("tổng", "cộng")


_NOT_TOTAL = re.compile(r"^(?:tong (?:cong ty|dai ly|kho|ket)|cong (?:ty|tac|dong|hoa))\b")
# The whole of the reporting unit, as forms write a total: `Toàn huyện`, `Toàn tỉnh (25 HTX)`,
# `Cả huyện`; never a name that begins so (`Toàn Thắng`: a commune, a cooperative).
_AREA_TOTAL = re.compile(
    r"^(?:toan|ca) (?:huyen|tinh|thanh pho|thi xa|quan|xa|phuong|thi tran|don vi|khu vuc)\b"
)
_FIRST_WORD = re.compile(r"\w+")


def _looks_like_code(value: object) -> bool:
    """Mostly digits, at least 8 of them: a code, even a mistyped one; or a code Excel
    destroyed into scientific notation (`6.4E+09`, rule 16), an error of its row."""
    if value is None:
        return False
    if value.__class__ is str and value.isdigit():  # the hot path: every digit a digit
        return len(value) >= 8
    if isinstance(value, dt.date) or (
        value.__class__ is str and (_DATE_TEXT.match(value) or _SIGNED_ON.match(match_key(value)))
    ):
        return False  # `Ngày 15/01/2024`, `15.01.2024`, a date cell: a signature's date, no code
    text = "".join(str(value).split())
    digits = sum(ch.isdigit() for ch in text)
    if digits >= 8 and _CONTACT.match(match_key(value)):
        return False  # `ĐT: 0912 345 678` under `Người lập biểu`: the signature block's
    return (digits >= 8 and digits * 2 >= len(text)) or cells.is_destroyed_code(text)


def _signed_run(keys: list[str]) -> tuple[int, int] | None:
    """The cells (first, last) whose texts together are a dated line (`_SIGNED_ON`): from
    the one holding `ngày` (or the place in the cell before it) to the year; None when no
    run of them is one."""
    for at, key in enumerate(keys):
        words = key.split()
        if "ngay" not in words:
            continue
        starts = [at - 1, at] if words[0] == "ngay" and at > 0 else [at]
        for start in starts:
            for end in range(len(keys) - 1, at - 1, -1):
                if _SIGNED_ON.match(" ".join(k for k in keys[start : end + 1] if k)):
                    return start, end
    return None


# A title as it says itself (`_Table._merged_over_title`), by its match key: a commune's or a
# sector's kind word first, or a `:` last.
_SAID_TITLE = re.compile(r"^(?:xa|phuong|thi tran|tt|linh vuc|nganh)\b|:$")

# A date as typed (`15/01/2024`, `15.01.2024`, `15-1-2024`, `2024-01-15`): never a code, though
# it has eight digits.
_DATE_TEXT = re.compile(r"^\s*(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}|\d{4}-\d{1,2}-\d{1,2})\s*$")

# A phone or fax line of the signature block (rule 1), as its match key begins: `ĐT:`,
# `SĐT`, `Điện thoại`, `DĐ`, `Di động`, `Tel`, `Fax`, `Mobile`. Its digits are no code; a
# row that holds figures beside it is still a record (`_Table.not_data`).
_CONTACT = re.compile(r"^(?:s?dt|dien thoai|dd|di dong|tel|phone|fax|mobile)\b")
