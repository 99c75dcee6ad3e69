"""Annotated feedback for the clerk: a copy of a quarantined or warned workbook, every failing
cell marked, and a first sheet `Loi` that lists every problem.

Built only from what the pipeline recorded (`audit.file_ingestion`, `audit.rejected_row`) and
the immutable raw copy: it never re-validates, and never opens the landing file. A copy is
written to `HTX_EXPORT_DIR/feedback/<original name>_loi_<sha256[:8]>.xlsx` (the name the
content first arrived under, without its extension: a clerk recognises it); a workbook that
cannot be opened safely gets a `Loi`-only workbook instead. Feedback written by earlier
versions (`<unit>_<year>_<sha256[:12]>.xlsx`) is left where it is.

An .xlsx copy is made at the zip level (`xlsx_patch`): the original's parts as they are, plus
`Loi`, the marked cells' styles, their notes and the stamp, in milliseconds. A workbook that
way does not take (formulas, macros, a returned feedback copy, parts it does not know, .xls,
.ods) is rebuilt with openpyxl (`open_copy`), as before; both give the clerk the same copy.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path, PureWindowsPath

from etl.config import Settings
from etl.contract.findings import SEVERITY_LABELS, bilingual
from etl.forks import map_forked
from etl.quality import xlsx_patch
from etl.read import guard
from etl.text import match_key
from etl.warehouse import ledger

log = logging.getLogger(__name__)

FEEDBACK_DIR = "feedback"
LOI_SHEET = "Loi"
LOI_HEADER_ROW = 6  # the Excel row of the problem table's header in `Loi`
LOI_HEADER = (
    "Mức độ / Severity",
    "Trang / Sheet",
    "Ô / Cell",
    "Dòng / Row",
    "Cột / Column",
    "Giá trị / Value",
    "Quy tắc / Rule",
    "Nội dung / Message",
)
FILLS = {"error": "FFFF7C80", "warning": "FFFFFF00"}  # info is listed, never coloured
AUTHOR = "HTX kiểm tra / HTX check"

MAX_RAW_BYTES = 20 * 1024 * 1024  # larger submissions get a Loi-only workbook
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # an .xlsx's XML, unzipped: openpyxl holds it all
MAX_REBUILT_CELLS = 2_000_000  # cells of an .xls/.ods copied value by value

# Written into the copy's custom properties: same inputs, same fingerprint, nothing rewritten.
FINGERPRINT_PROPERTY = "htx_feedback_fingerprint"
# 2: Loi says what a copy lacks (images, formulas, formats); 3: a duplicate code's note names
# the other rows; 4: .ods sheets alike in their first 31 characters keep titles of their own;
# 5: hidden rows and columns holding a mark are shown, and `Loi` says so.
FORMAT_VERSION = "5"

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
_ADDRESS = re.compile(r"^([A-Z]{1,3})([1-9][0-9]{0,6})$")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class Submission:
    """A file as `audit.file_ingestion` recorded it."""

    file_id: int
    file_name: str
    sha256: str
    unit_code: str | None
    report_year: int | None
    status: str
    reason: str | None
    raw_path: str | None
    original_name: str | None = None  # the name of the content's first arrival
    # The unit a file gave but that identifies it for nothing (an invalid year beside it, a
    # `Tên đơn vị` of another unit): kept in its staged outcome, never as its unit_code,
    # which would count the rejected file as that unit's report.
    unit_read: str | None = None


@dataclass(frozen=True)
class Problem:
    """One row of `audit.rejected_row`, or the file-level reason (no sheet, no cell)."""

    severity: str
    rule: str
    message: str
    sheet: str | None = None
    excel_row: int | None = None
    column_name: str | None = None
    value: str | None = None
    cell: str | None = None


class Unopenable(Exception):
    """The raw copy cannot be annotated safely; the message says why, for the Loi sheet."""


# --- what to write -------------------------------------------------------------------------


NAME_LIMIT = 100  # characters of the original name kept in a feedback file's name
_NOT_NAME = re.compile(r"[^\w-]")  # \w: any letter (Vietnamese too), digit or `_`


def feedback_name(original: str, sha256: str) -> str:
    """`<original name without extension>_loi_<first 8 hex of the sha256>.xlsx`.

    Anything but letters, digits, `-` and `_` becomes `_` (tone marks are composed first, so
    `Báo cáo` keeps its letters); the name is cut at `NAME_LIMIT` characters.
    """
    base = PureWindowsPath(original).name  # a landing path in either separator
    stem = base.rsplit(".", 1)[0] if "." in base.strip(".") else base
    stem = unicodedata.normalize("NFC", stem)
    clean = _NOT_NAME.sub("_", stem)[:NAME_LIMIT] or "tep"
    return f"{clean}_loi_{sha256[:8]}.xlsx"


def feedback_path(export_dir: Path, submission: Submission) -> Path:
    original = submission.original_name or submission.file_name
    return export_dir / FEEDBACK_DIR / feedback_name(original, submission.sha256)


def fingerprint(submission: Submission, problems: list[Problem]) -> str:
    """What the feedback is made of: the file's content, outcome and recorded problems."""
    document = {
        "version": FORMAT_VERSION,
        "file": _fields(submission),
        "problems": [_fields(p) for p in problems],
    }
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _fields(record: Submission | Problem) -> dict:
    """`dataclasses.asdict` of a record of plain values, without its deep copies."""
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def is_up_to_date(path: Path, stamp: str) -> bool:
    """The feedback at `path` was written from the same inputs (read without opening it all)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return stamp in archive.read("docProps/custom.xml").decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False


_FILES = """
select file_id, file_name, sha256, unit_code, report_year, status, reason, raw_path,
    coalesce(
        -- the first run's copy that landed first: the original, as discovery takes it
        (select s.file_name from audit.file_sighting as s
         left join audit.file_ingestion as l on l.file_id = s.file_id
         where s.sha256 = f.sha256
         order by s.first_seen, l.landed_at nulls last, s.file_name, s.file_id limit 1),
        (select e.file_name from audit.file_ingestion as e where e.sha256 = f.sha256
         order by e.file_id limit 1),
        f.file_name
    ) as original_name
from audit.file_ingestion as f
where {which}
    and ($ids is null or list_contains($ids, file_id))
order by file_id
"""
_WARNED = """exists (
    select 1 from audit.rejected_row as r
    where r.file_id = f.file_id and r.severity = 'warning')"""
# The files that get feedback: quarantined, or loaded with warnings.
_SELECT_FILES = _FILES.format(
    which=f"(status = 'quarantined' or (status = 'loaded' and {_WARNED}))"
)
# Loaded files with nothing to tell (their last warnings withdrawn: `ledger._withdraw`), of
# a content no other file holds: one of the same content and name would share the path.
_SELECT_CLEARED = _FILES.format(
    which=f"""status = 'loaded' and not {_WARNED}
    and not exists (
        select 1 from audit.file_ingestion as g
        where g.sha256 = f.sha256 and g.file_id <> f.file_id
            and g.status in ('quarantined', 'loaded'))"""  # noqa: S608  constant text
)

_SELECT_PROBLEMS = """
select file_id, severity, rule, message, sheet, excel_row, column_name, value, cell
from audit.rejected_row
where list_contains($ids, file_id)
"""


def submissions(con, file_ids: list[int] | None = None) -> list[Submission]:
    """Quarantined files and loaded files with warnings, of `file_ids` or all of them."""
    rows = con.execute(_SELECT_FILES, {"ids": file_ids}).fetchall()
    return [Submission(*row) for row in rows]


def _with_unit_read(settings: Settings, submission: Submission) -> Submission:
    """A file quarantined without a unit, with the unit its staged outcome says it gave."""
    if submission.unit_code is not None or submission.status != "quarantined":
        return submission
    from etl.warehouse import staging  # pandas and the suites: only for such a file

    try:
        read = staging.read_outcome(settings.staging_dir, submission.file_id).get("unit_read")
    except (OSError, ValueError):  # staged before outcomes kept it, or cleaned away
        return submission
    return replace(submission, unit_read=read) if read else submission


def recorded_problems(con, file_ids: list[int]) -> dict[int, list[Problem]]:
    found: dict[int, list[Problem]] = {i: [] for i in file_ids}
    for file_id, *fields in con.execute(_SELECT_PROBLEMS, {"ids": file_ids}).fetchall():
        found[file_id].append(Problem(*fields))
    return found


def problems_of(submission: Submission, recorded: list[Problem]) -> list[Problem]:
    """Every problem in the order `Loi` lists them: the file's reason first, then by severity,
    sheet, row and column."""
    ordered = sorted(recorded, key=_problem_order)
    messages = {p.message for p in recorded}
    if submission.reason and submission.reason not in messages:
        severity = "error" if submission.status == "quarantined" else "warning"
        ordered.insert(0, Problem(severity=severity, rule="file", message=submission.reason))
    return ordered


def _problem_order(p: Problem) -> tuple:
    column, row = _split_address(p.cell) or ("", 0)
    return (
        _SEVERITY_ORDER.get(p.severity, 3),
        p.sheet or "",
        p.excel_row or row or 0,
        len(column),
        column,
        p.rule,
        p.column_name or "",
        p.value or "",
    )


def _split_address(cell: str | None) -> tuple[str, int] | None:
    found = _ADDRESS.match(cell or "")
    return (found.group(1), int(found.group(2))) if found else None


# --- entry points --------------------------------------------------------------------------


def write_feedback(settings: Settings, file_ids: list[int] | None = None) -> list[Path]:
    """Feedback for the quarantined and warned files among `file_ids` (None: all of them),
    read from the ledger; a loaded file among them with nothing left to tell loses its own
    (`remove_cleared`). Returns every quarantined or warned file's feedback path; an
    up-to-date one is kept."""
    if not settings.ledger.exists():
        return []
    con = ledger.connect(settings.ledger, read_only=True)
    try:
        paths = write_from(con, settings, file_ids)
        remove_cleared(con, settings, file_ids)
        return paths
    finally:
        con.close()


def write_from(con, settings: Settings, file_ids: list[int] | None = None) -> list[Path]:
    """`write_feedback` on an open ledger (or warehouse) connection."""
    files = [_with_unit_read(settings, f) for f in submissions(con, file_ids)]
    recorded = recorded_problems(con, [f.file_id for f in files])
    paths, jobs = [], []
    stamps: dict[Path, str | None] = {}
    known = _read_stamps(settings)
    for submission in files:
        path = feedback_path(settings.export_dir, submission)
        problems = problems_of(submission, recorded[submission.file_id])
        stamp = fingerprint(submission, problems)
        if not _stamped(known, path, stamp) and not is_up_to_date(path, stamp):
            jobs.append((path, submission, problems, stamp))
        paths.append(path)
        # Two files of the same content and name share a path: which one it holds is known
        # only by opening it.
        stamps[path] = stamp if stamps.get(path, stamp) == stamp else None
    # A copy at the zip level costs milliseconds, one rebuilt by openpyxl about 0.2 s: many
    # workbooks (a check across years can warn on every unit at once) are written on every
    # core.
    processes = settings.task_processes if len(jobs) >= FORK_FROM else 1
    if jobs:
        (settings.export_dir / FEEDBACK_DIR).mkdir(parents=True, exist_ok=True)
    # A few batches a process, not a task a workbook: each task costs the pool a round trip.
    count = processes * BATCHES_PER_PROCESS if processes > 1 else 1
    batches = [jobs[i::count] for i in range(count) if jobs[i::count]]
    map_forked(_write_batch, batches, processes)
    if stamps:
        _write_stamps(settings, known, stamps)
    return paths


def remove_cleared(con, settings: Settings, file_ids: list[int] | None = None) -> list[Path]:
    """Remove the feedback of the loaded files among `file_ids` (None: all of them) left with
    no warning: their warnings across files were withdrawn, and a workbook still listing
    them would send the clerk to fix what the warehouse no longer holds. Nothing links to a
    feedback workbook but an alert's attachments, found again from the ledger when it is
    delivered. Returns the paths removed."""
    removed: dict[Path, str | None] = {}
    for row in con.execute(_SELECT_CLEARED, {"ids": file_ids}).fetchall():
        submission = Submission(*row)
        path = feedback_path(settings.export_dir, submission)
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed[path] = None
        log.info(
            "feedback for %s removed, its warnings withdrawn and nothing left to tell: %s",
            submission.file_name,
            path,
        )
    if removed:
        _write_stamps(settings, _read_stamps(settings), removed)
    return list(removed)


# --- what the feedback files hold, known without opening them ----------------------------
# Each workbook's stamp with the size and modification time it was seen with, kept in the
# state folder: a workbook whose entry holds its stamp and whose file still has that size and
# time is up to date without opening it; any other is checked by `is_up_to_date`.


def _stamps_path(settings: Settings) -> Path:
    return settings.state_dir / "cache" / "feedback_stamps.json"


def _read_stamps(settings: Settings) -> dict[str, list]:
    try:
        known = json.loads(_stamps_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def _stamped(known: dict[str, list], path: Path, stamp: str) -> bool:
    entry = known.get(str(path))
    if not isinstance(entry, list) or len(entry) != 3 or entry[0] != stamp:
        return False
    try:
        seen = path.stat()
    except OSError:
        return False
    return [seen.st_size, seen.st_mtime_ns] == entry[1:]


def _write_stamps(
    settings: Settings, known: dict[str, list], stamps: dict[Path, str | None]
) -> None:
    for path, stamp in stamps.items():
        try:
            seen = path.stat()
        except OSError:
            seen = None
        if stamp is None or seen is None:
            known.pop(str(path), None)
            continue
        known[str(path)] = [stamp, seen.st_size, seen.st_mtime_ns]
    target = _stamps_path(settings)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(known, sort_keys=True), encoding="utf-8")
        os.replace(temporary, target)
    except OSError as exc:  # only a cache: the next run opens the workbooks instead
        log.warning("feedback stamps not kept: %s", exc)


# Fewer workbooks than this are written in this process: a fork pool costs more.
FORK_FROM = 8
BATCHES_PER_PROCESS = 4


def _write_batch(jobs: list[tuple]) -> list[Path]:
    return [_write_job(job) for job in jobs]


def _write_job(job: tuple) -> Path:
    path, submission = job[0], job[1]
    written = write_one(*job)
    log.info("feedback for %s: %s", submission.file_name, path)
    return written


def for_alert(con, settings: Settings, file_ids: list[int]) -> tuple[str, ...]:
    """Feedback paths of an alert's files; a failure here never stops the alert."""
    if not file_ids:
        return ()
    try:
        return tuple(str(p) for p in write_from(con, settings, file_ids))
    except Exception as exc:  # the alert goes out without attachments
        log.warning("feedback for alert files %s not written: %s", file_ids, exc)
        return ()


# An .xlsx is copied at the zip level (a few ms) when it can be; else, and for .xls and .ods,
# it is rebuilt with openpyxl (about 0.1-0.2 s). Both give the clerk the same marks and `Loi`.
ZIP_COPY = True


def write_one(path: Path, submission: Submission, problems: list[Problem], stamp: str) -> Path:
    """Write one feedback workbook atomically: the annotated copy, else `Loi` only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if ZIP_COPY and _zip_copy(path, submission, problems, stamp):
        return path
    with tempfile.TemporaryDirectory(prefix="htx-feedback-") as work_dir:
        try:
            workbook = open_copy(submission.raw_path, Path(work_dir))
            annotate(workbook, problems)
            note = _copy_lacks(Path(submission.raw_path or ""), workbook)
            shown = show_marked(workbook, problems)
            return _save(workbook, path, submission, problems, stamp, note, shown)
        except Unopenable as exc:
            note = str(exc)
        except Exception as exc:  # openpyxl or calamine choked on a hostile workbook
            note = _cannot_copy("tệp không mở được", f"{type(exc).__name__}: {exc}"[:200])
    return _save(_new_workbook(), path, submission, problems, stamp, note)


def _save(
    workbook,
    path: Path,
    submission: Submission,
    problems: list[Problem],
    stamp: str,
    note: str | None = None,
    shown: list[tuple[str, list[int], list[int]]] | None = None,
) -> Path:
    add_loi_sheet(workbook, submission, problems, note, shown)
    _stamp(workbook, stamp)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        workbook.save(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


# --- the copy at the zip level --------------------------------------------------------------


def _zip_copy(path: Path, submission: Submission, problems: list[Problem], stamp: str) -> bool:
    """The annotated copy of an .xlsx written at the zip level: the original's parts as they
    are, plus `Loi`, the marks and the stamp. False (nothing written) for anything else: a
    missing, large, damaged or unusual workbook is left to `open_copy`, which decides."""
    raw = Path(submission.raw_path or "")
    try:
        if not submission.raw_path or not raw.is_file() or raw.stat().st_size > MAX_RAW_BYTES:
            return False
        package = xlsx_patch.Package.read(raw, MAX_UNPACKED_BYTES)
        if package.has_formulas():  # values only, as openpyxl's data_only load gives them
            return False
        # Perhaps an empty tail to trim: the copy is the openpyxl one's, of the trimmed file.
        if package.rows_past(guard.EMPTY_TAIL_ROWS) and not package.tails_within(
            guard.EMPTY_TAIL_ROWS, _GUARD_MAX_ROWS
        ):
            work_dir = Path(tempfile.mkdtemp(prefix="htx-feedback-"))
            try:
                if guard.bounded(raw, work_dir) != raw:
                    return False
            finally:
                shutil.rmtree(work_dir, ignore_errors=True)
        _mark_package(package, problems)
        shown = package.hidden_marked()  # shown when the package is saved
        rows, links = _loi_package_rows(package, submission, problems, shown)
        package.insert_first_sheet(LOI_SHEET, rows, list(LOI_WIDTHS), LOI_HEADER_ROW, links)
        package.set_custom_property(FINGERPRINT_PROPERTY, stamp)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            package.save(temporary, AUTHOR)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    except Exception as exc:
        log.debug("feedback for %s not copied at the zip level: %s", submission.file_name, exc)
        return False
    return True


# The most real rows `guard.bounded` lets through (its default, which `open_copy` uses).
_GUARD_MAX_ROWS = inspect.signature(guard.bounded).parameters["max_rows"].default


def _package_sheet(sheets: list[xlsx_patch.Sheet], name: str | None):
    """`_find_sheet` over a package's sheets."""
    if not name:
        return None
    for sheet in sheets:
        if sheet.name == name:
            return sheet
    wanted = match_key(name).replace(" ", "")
    for sheet in sheets:
        if sheet.worksheet and match_key(sheet.name).replace(" ", "") == wanted:
            return sheet
    return None


def _mark_package(package: xlsx_patch.Package, problems: list[Problem]) -> None:
    """`annotate` on a package: the same cells, fills and notes."""
    merged: dict[str, list] = {}
    groups: dict[tuple[str, int, int], tuple] = {}
    sheets = list(package.sheets)
    for (sheet_name, address), found in markable(problems).items():
        sheet = _package_sheet(sheets, sheet_name)
        if sheet is None or not sheet.worksheet:
            continue
        if sheet.part not in merged:
            merged[sheet.part] = package.merged(sheet)
        row, column = _anchor(xlsx_patch.split_address(address), merged[sheet.part])
        key = (sheet.part, row, column)  # two spellings of a sheet's name: one cell
        groups.setdefault(key, (sheet, []))[1].extend(found)
    for (_, row, column), (sheet, found) in groups.items():
        worst = min((p.severity for p in found), key=_SEVERITY_ORDER.__getitem__)
        height = min(90 + 60 * len(found), 400)
        address = f"{xlsx_patch.column_letters(column)}{row}"
        package.mark(sheet, address, FILLS[worst], comment_text(found), 420, height)


def _anchor(cell: tuple[int, int], ranges) -> tuple[int, int]:
    """The (row, column) a clerk sees a cell at: a cell inside a merged range is its top-left
    cell (Excel shows and keeps the value there), any other cell itself."""
    row, column = cell
    for r1, c1, r2, c2 in ranges:
        if r1 <= row <= r2 and c1 <= column <= c2:
            return r1, c1
    return row, column


LOI_WIDTHS = (20, 14, 8, 8, 24, 24, 30, 100)


def _loi_package_rows(
    package: xlsx_patch.Package,
    submission: Submission,
    problems,
    shown: list[tuple[str, list[int], list[int]]],
):
    """`add_loi_sheet`'s cells, styles and links for a package."""
    cell = xlsx_patch.NewCell
    title = package.style(font=package.font('<font><b val="1"/><sz val="13"/></font>'))
    bold = package.font('<font><b val="1"/></font>')
    header = package.style(font=bold, fill=package.fill("FFDDEBF7"))
    top = '<alignment vertical="top"/>'
    plain = package.style(alignment=top)
    wrapped = package.style(alignment='<alignment vertical="top" wrapText="1"/>')
    severity_styles: dict[str, int] = {}
    link_style = package.style(
        font=package.font('<font><color rgb="FF0563C1"/><u val="single"/></font>'),
        alignment=top,
    )
    colours = {"error": "FFC00000", "warning": "FF9A6700"}
    rows: dict[int, list] = {}
    for r, text in enumerate(_loi_head(submission, problems, None, shown), start=1):
        rows[r] = [cell(_ILLEGAL.sub("", text), title if r == 1 else None)]
    rows[LOI_HEADER_ROW] = [cell(t, header) for t in LOI_HEADER]
    sheets = [xlsx_patch.Sheet(LOI_SHEET, "", True), *package.sheets]
    links = {}
    for r, (problem, values) in enumerate(zip(problems, loi_rows(problems), strict=True), 1):
        excel_row = LOI_HEADER_ROW + r
        colour = colours.get(problem.severity, "FF444444")
        if colour not in severity_styles:
            font = package.font(f'<font><b val="1"/><color rgb="{colour}"/></font>')
            severity_styles[colour] = package.style(font=font, alignment=top)
        cells = []
        for c, value in enumerate(values, start=1):
            if isinstance(value, str):
                value = _ILLEGAL.sub("", value)
            style = wrapped if c == len(values) else plain
            cells.append(cell(value, severity_styles[colour] if c == 1 else style))
        target = _package_sheet(sheets, problem.sheet) if problem.cell else None
        if target is not None and target.name != LOI_SHEET and _split_address(problem.cell):
            links[f"C{excel_row}"] = "'{}'!{}".format(target.name.replace("'", "''"), problem.cell)
            cells[2] = cell(cells[2].value, link_style)
        rows[excel_row] = cells
    return rows, links


# --- the copy ------------------------------------------------------------------------------


def _cannot_copy(why_vi: str, why_en: str) -> str:
    """The note of a `Loi`-only workbook: why no annotated copy was made, in each language
    (a program's exception text only in the English half, for the data team)."""
    return (
        f"Không tạo được bản sao đánh dấu của tệp ({why_vi}); các vấn đề được liệt kê dưới "
        f"đây. / No annotated copy could be made ({why_en}); the problems are listed below."
    )


def open_copy(raw_path: str | None, work_dir: Path):
    """The submitted workbook as an openpyxl Workbook, from its raw copy, or Unopenable."""
    if not raw_path or not Path(raw_path).is_file():
        raise Unopenable(_cannot_copy("không tìm thấy bản lưu của tệp", "raw copy not found"))
    raw = Path(raw_path)
    if raw.stat().st_size > MAX_RAW_BYTES:
        size = f"{raw.stat().st_size / 1024 / 1024:.0f} MB > {MAX_RAW_BYTES // 1024 // 1024} MB"
        raise Unopenable(_cannot_copy(f"tệp quá lớn: {size}", f"file too large: {size}"))
    kind = guard.sniff(raw)
    if kind == "xlsx":
        return _open_xlsx(raw, work_dir)
    if kind in ("xls", "ods"):
        return _rebuild(raw)
    labels = {
        "empty": ("tệp rỗng", "empty file"),
        "encrypted": ("tệp có mật khẩu", "password-protected"),
        "corrupt": ("tệp bị hỏng", "damaged file"),
        "unknown": ("không phải bảng tính", "not a spreadsheet"),
        "archive": ("tệp nén, không phải bảng tính", "compressed archive, no workbook"),
        # named as a workbook, but another format (`html`, `csv`): said as its rejection says
        **{
            kind: (f"tệp là {what_vi}, không phải bảng tính Excel", f"{what_en}, no workbook")
            for kind, (what_vi, what_en) in guard.SAVED_AS.items()
        },
    }
    raise Unopenable(_cannot_copy(*labels.get(kind, (kind, kind))))


def _copy_lacks(raw: Path, workbook) -> str | None:
    """What a copy made by `open_copy` does not have of the clerk's file, for `Loi`: an
    .xls/.ods rebuilt from its values; an .xlsx's images (openpyxl keeps none without Pillow)
    and its formulas (their values only)."""
    kind = guard.sniff(raw)
    if kind in ("xls", "ods"):
        return (
            f"Tệp .{kind} của bạn được chép lại chỉ với giá trị các ô: định dạng, ô gộp, công "
            "thức và hình ảnh không có trong bản sao này, tệp gốc của bạn vẫn giữ nguyên. "
            f"Hãy sửa trong tệp gốc. / Your .{kind} file was copied with its cells' values "
            "only: formats, merged cells, formulas and images are not in this copy; your own "
            "file keeps them. Correct your own file."
        )
    with zipfile.ZipFile(raw) as archive:
        names = archive.namelist()
        images = sum(
            n.lower().startswith("xl/media/") and not n.endswith("/") for n in names
        ) - sum(len(getattr(ws, "_images", ())) for ws in workbook.worksheets)
        formulas = any(
            xlsx_patch.has_cell_formula(archive.read(n))
            for n in names
            if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n)
        )
    lacks_vi = [f"{images} hình ảnh"] if images > 0 else []
    lacks_en = [f"the {images} image(s)"] if images > 0 else []
    if formulas:
        lacks_vi.append("các công thức (chỉ có giá trị của chúng)")
        lacks_en.append("the formulas (their values only)")
    if not lacks_vi:
        return None
    return (
        f"Bản sao này không có {' và '.join(lacks_vi)} của tệp của bạn; tệp gốc của bạn vẫn "
        f"giữ nguyên. Hãy sửa trong tệp gốc. / This copy lacks {' and '.join(lacks_en)} of "
        "your file; your own file keeps them. Correct your own file."
    )


def _open_xlsx(raw: Path, work_dir: Path):
    from openpyxl import load_workbook

    with zipfile.ZipFile(raw) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > MAX_UNPACKED_BYTES:
        raise Unopenable(
            _cannot_copy(
                f"nội dung quá lớn: {unpacked} byte", f"content too large: {unpacked} bytes"
            )
        )
    source = guard.bounded(raw, work_dir)  # a stray cell at row 1,048,576 costs nothing
    # Values only, as the pipeline read them: no formulas, macros or external links travel on.
    workbook = load_workbook(source, data_only=True, keep_vba=False, keep_links=False)
    workbook.template = False
    _clear_earlier_feedback(workbook)
    return workbook


def _rebuild(raw: Path):
    """An .xls or .ods, which openpyxl cannot open: its values at the same cell addresses."""
    from openpyxl import Workbook
    from python_calamine import CalamineWorkbook

    source = CalamineWorkbook.from_path(str(raw))
    workbook = Workbook()
    workbook.remove(workbook.active)
    titles = _sheet_titles(source.sheet_names)
    workbook.rebuilt_titles = titles  # for `_find_sheet`: the recorded names are the file's
    try:
        for name in source.sheet_names:
            rows = source.get_sheet_by_name(name).to_python(skip_empty_area=False)
            if sum(len(row) for row in rows) > MAX_REBUILT_CELLS:
                raise Unopenable(
                    _cannot_copy(f"trang '{name}' quá lớn", f"sheet '{name}' too large")
                )
            ws = workbook.create_sheet(titles[name])
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row, start=1):
                    if value is None or value == "":
                        continue
                    _set_value(ws.cell(row=r, column=c), value)
    finally:
        source.close()
    return workbook


def _sheet_titles(names: list[str]) -> dict[str, str]:
    """Each sheet's title in the rebuilt .xlsx: its name as Excel takes one (31 characters,
    none of `[]:*?/\\`), and, where two names differ only past the cut, numbered as Excel
    numbers a copy, ` (2)`: a title Excel compares without case is never given twice."""
    titles: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        base = re.sub(r"[\[\]:*?/\\]", "_", name) or "Sheet"
        title, n = base[:31], 1
        while title.lower() in taken:
            n += 1
            title = f"{base[: 31 - len(f' ({n})')]} ({n})"
        taken.add(title.lower())
        titles[name] = title
    return titles


def _set_value(cell, value: object) -> None:
    """A value as data: text that starts with `=` stays text, never a formula."""
    import datetime as dt

    if isinstance(value, str):
        cell.value = _ILLEGAL.sub("", value)
        cell.data_type = "s"
        return
    cell.value = value
    if isinstance(value, dt.datetime):
        cell.number_format = "dd/mm/yyyy hh:mm"
    elif isinstance(value, dt.date):
        cell.number_format = "dd/mm/yyyy"


def _stamp(workbook, stamp: str) -> None:
    from openpyxl.packaging.custom import CustomPropertyList, StringProperty

    kept = [p for p in workbook.custom_doc_props.props if p.name != FINGERPRINT_PROPERTY]
    workbook.custom_doc_props = CustomPropertyList()
    for prop in kept:
        workbook.custom_doc_props.append(prop)
    workbook.custom_doc_props.append(StringProperty(name=FINGERPRINT_PROPERTY, value=stamp))


def _clear_earlier_feedback(workbook) -> None:
    """A clerk may send our feedback copy back: drop its old `Loi` sheet, marks and notes."""
    from openpyxl.styles import PatternFill

    if FINGERPRINT_PROPERTY not in workbook.custom_doc_props.names:
        return
    if LOI_SHEET in workbook.sheetnames:
        workbook.remove(workbook[LOI_SHEET])
    ours = set(FILLS.values())
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.comment is not None and cell.comment.author == AUTHOR:
                    cell.comment = None
                    if cell.fill is not None and cell.fill.fgColor.rgb in ours:
                        cell.fill = PatternFill()


def _new_workbook():
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


# --- the marks -----------------------------------------------------------------------------


def _find_sheet(workbook, name: str | None):
    if not name:
        return None
    if name in workbook.sheetnames:
        return workbook[name]
    wanted = match_key(name).replace(" ", "")
    for ws in workbook.worksheets:
        if match_key(ws.title).replace(" ", "") == wanted:
            return ws
    # An .ods sheet named past Excel's 31 characters: its rebuilt copy has the cut title.
    title = getattr(workbook, "rebuilt_titles", {}).get(name)
    return workbook[title] if title in workbook.sheetnames else None


def markable(problems: list[Problem]) -> dict[tuple[str, str], list[Problem]]:
    """Problems that colour a cell, by (sheet, cell): errors and warnings with an address."""
    marks: dict[tuple[str, str], list[Problem]] = {}
    for p in _naming_the_others(problems):
        if p.severity in FILLS and p.sheet and p.cell and _split_address(p.cell):
            marks.setdefault((p.sheet, p.cell), []).append(p)
    return marks


# Rules that fail on every row sharing one value (a code given twice): a cell's note names
# the other rows, which the clerk of a 300-row sheet would otherwise search for. Said after
# the recorded message, in the note only: the rejection reason counts that message once.
_SHARED_VALUE_RULES = frozenset({"coop_code_unique"})
ROWS_NAMED = 10  # the other rows a note names; more are counted


def _naming_the_others(problems: list[Problem]) -> list[Problem]:
    """`problems`, each of a shared-value rule saying on which other rows its value is."""
    rows: dict[tuple, set[int]] = {}
    for p in problems:
        if p.rule in _SHARED_VALUE_RULES and p.excel_row is not None:
            rows.setdefault((p.rule, p.sheet, p.value), set()).add(p.excel_row)
    if not rows:
        return problems
    named = []
    for p in problems:
        others = sorted(rows.get((p.rule, p.sheet, p.value), set()) - {p.excel_row})
        if p.rule in _SHARED_VALUE_RULES and others:
            listed = ", ".join(str(r) for r in others[:ROWS_NAMED])
            if len(others) > ROWS_NAMED:
                listed += f" (+{len(others) - ROWS_NAMED})"
            rows_en = "row" if len(others) == 1 else "rows"
            also = bilingual(f"Cũng ở dòng {listed}", f"also on {rows_en} {listed}.")
            p = replace(p, message=f"{p.message} {also}")
        named.append(p)
    return named


def comment_text(problems: list[Problem], earlier: str | None = None) -> str:
    """A marked cell's note. A merged cell's note (its problems on several cells) says each
    message once, with the cells it stands for."""
    cells: dict[tuple[str, str, str], list[str | None]] = {}
    for p in problems:
        cells.setdefault((p.severity, p.message, p.rule), []).append(p.cell)
    several = len({p.cell for p in problems}) > 1
    lines = [
        f"[{SEVERITY_LABELS.get(severity, severity)}] {message} ({rule})"
        + (f" Ô / Cells: {', '.join(c for c in dict.fromkeys(at) if c)}" if several else "")
        for (severity, message, rule), at in cells.items()
    ]
    if earlier:
        lines.append(f"Ghi chú trước đó / Earlier note: {earlier}")
    return "\n\n".join(lines)


def annotate(workbook, problems: list[Problem]) -> int:
    """Colour every recorded failing cell (red: error, yellow: warning) and attach its
    messages as a comment. A cell inside a merged range is marked on the range's top-left
    cell, where Excel shows its value. Returns the number of cells marked."""
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    groups = _marked_cells(workbook, problems)
    for (_, row, column), (ws, found) in groups.items():
        cell = ws.cell(row=row, column=column)
        worst = min((p.severity for p in found), key=_SEVERITY_ORDER.__getitem__)
        color = FILLS[worst]
        cell.fill = PatternFill(fill_type="solid", start_color=color, end_color=color)
        earlier = cell.comment.text if cell.comment is not None else None
        comment = Comment(comment_text(found, earlier), AUTHOR)
        comment.width = 420
        comment.height = min(90 + 60 * len(found), 400)
        cell.comment = comment
    return len(groups)


def _marked_cells(workbook, problems: list[Problem]) -> dict[tuple[int, int, int], tuple]:
    """(sheet id, row, column) -> (sheet, its problems) of every cell `annotate` marks."""
    groups: dict[tuple[int, int, int], tuple] = {}
    for (sheet_name, address), found in markable(problems).items():
        ws = _find_sheet(workbook, sheet_name)
        if ws is None or not hasattr(ws, "cell"):  # a chartsheet has no cells
            continue
        ranges = [(r.min_row, r.min_col, r.max_row, r.max_col) for r in ws.merged_cells.ranges]
        row, column = _anchor(xlsx_patch.split_address(address), ranges)
        groups.setdefault((id(ws), row, column), (ws, []))[1].extend(found)
    return groups


def show_marked(workbook, problems: list[Problem]) -> list[tuple[str, list[int], list[int]]]:
    """Show the hidden rows and columns that hold a marked cell, as `xlsx_patch` does: a red
    cell the clerk cannot see, and a `Loi` link to it, would tell nothing. Returns (sheet,
    rows, columns) shown, for `Loi`."""
    marked: dict[int, tuple] = {}
    for (key, row, column), (ws, _) in _marked_cells(workbook, problems).items():
        marked.setdefault(key, (ws, set(), set()))
        marked[key][1].add(row)
        marked[key][2].add(column)
    found = []
    for ws, rows, columns in marked.values():
        hidden_rows = sorted(
            r
            for r in rows
            if r in ws.row_dimensions
            and (ws.row_dimensions[r].hidden or ws.row_dimensions[r].ht == 0)
        )
        for r in hidden_rows:
            ws.row_dimensions[r].hidden = False
            if ws.row_dimensions[r].ht == 0:
                ws.row_dimensions[r].ht = None
        hidden_columns = []
        for dimension in list(ws.column_dimensions.values()):
            first, last = dimension.min, dimension.max
            if not (dimension.hidden or dimension.width == 0) or first is None or last is None:
                continue
            inside = sorted(c for c in columns if first <= c <= last)
            if not inside:
                continue
            hidden_columns += inside
            # cut the range around the columns shown, as Excel would keep it
            del ws.column_dimensions[dimension.index]
            start = first
            for column in inside:
                if start < column:
                    _column_range(ws, dimension, start, column - 1, hidden=True)
                _column_range(ws, dimension, column, column, hidden=False)
                start = column + 1
            if start <= last:
                _column_range(ws, dimension, start, last, hidden=True)
        if hidden_rows or hidden_columns:
            found.append((ws.title, hidden_rows, sorted(hidden_columns)))
    return found


def _column_range(ws, dimension, first: int, last: int, hidden: bool) -> None:
    """A copy of column dimension `dimension` for columns `first` to `last`."""
    import copy

    from openpyxl.utils import get_column_letter

    part = copy.copy(dimension)
    part.index, part.min, part.max = get_column_letter(first), first, last
    if not hidden:
        part.hidden = False
        if part.width == 0:
            part.width = xlsx_patch.SHOWN_WIDTH
    ws.column_dimensions[part.index] = part


def _shown_note(shown: list[tuple[str, list[int], list[int]]] | None) -> str:
    """`Loi`'s line on the hidden rows and columns the copy shows, in each language."""
    if not shown:
        return ""
    said_vi, said_en = [], []
    for sheet, rows, columns in shown:
        letters = ", ".join(xlsx_patch.column_letters(c) for c in columns)
        numbers = ", ".join(str(r) for r in rows)
        where_vi = [f"dòng {numbers}"] if rows else []
        where_vi += [f"cột {letters}"] if columns else []
        where_en = [f"{'row' if len(rows) == 1 else 'rows'} {numbers}"] if rows else []
        where_en += [f"{'column' if len(columns) == 1 else 'columns'} {letters}"] if columns else []
        said_vi.append(f"trang '{sheet}': {'; '.join(where_vi)}")
        said_en.append(f"sheet '{sheet}': {'; '.join(where_en)}")
    vi, en = "; ".join(said_vi), "; ".join(said_en)
    return (
        f"Ô được đánh dấu nằm ở dòng hoặc cột bạn đã ẩn; bản sao này hiện chúng ra ({vi}), "
        f"tệp gốc của bạn vẫn giữ nguyên. / A marked cell is on a row or in a column you hid; "
        f"this copy shows them ({en}), your own file is unchanged."
    )


# --- the Loi sheet -------------------------------------------------------------------------


def loi_rows(problems: list[Problem]) -> list[list[object]]:
    """The problem table of `Loi`, one row per problem, in LOI_HEADER's order."""
    return [
        [
            SEVERITY_LABELS.get(p.severity, p.severity),
            p.sheet,
            p.cell,
            p.excel_row,
            p.column_name,
            p.value,
            p.rule,
            p.message,
        ]
        for p in problems
    ]


def add_loi_sheet(
    workbook,
    submission: Submission,
    problems: list[Problem],
    note: str | None,
    shown: list[tuple[str, list[int], list[int]]] | None = None,
):
    """Insert `Loi` as the first sheet: the file, its status, and every problem; `shown`:
    the hidden rows and columns the copy shows (`show_marked`)."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.hyperlink import Hyperlink

    for other in workbook:  # the clerk's own sheet of that name (any case) keeps its data
        if other.title.lower() == LOI_SHEET.lower():
            other.title = _free_title(workbook, f"{LOI_SHEET}_goc")
    ws = workbook.create_sheet(LOI_SHEET, 0)
    workbook.active = 0
    for other in workbook.worksheets[1:]:
        other.sheet_view.tabSelected = False
    for r, text in enumerate(_loi_head(submission, problems, note, shown), start=1):
        _write_text(ws.cell(row=r, column=1), text)
    ws.cell(row=1, column=1).font = Font(bold=True, size=13)
    bold = Font(bold=True)
    for c, title in enumerate(LOI_HEADER, start=1):
        cell = ws.cell(row=LOI_HEADER_ROW, column=c, value=title)
        cell.font = bold
        cell.fill = PatternFill(fill_type="solid", start_color="FFDDEBF7", end_color="FFDDEBF7")
    colours = {"error": "FFC00000", "warning": "FF9A6700"}
    for r, (problem, row) in enumerate(zip(problems, loi_rows(problems), strict=True), start=1):
        excel_row = LOI_HEADER_ROW + r
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=excel_row, column=c)
            if isinstance(value, str):
                _write_text(cell, value)
            elif value is not None:
                cell.value = value
            cell.alignment = Alignment(wrap_text=c == len(row), vertical="top")
        ws.cell(row=excel_row, column=1).font = Font(
            bold=True, color=colours.get(problem.severity, "FF444444")
        )
        target = _find_sheet(workbook, problem.sheet) if problem.cell else None
        if target is not None and target is not ws and _split_address(problem.cell):
            link = ws.cell(row=excel_row, column=3)
            location = "'{}'!{}".format(target.title.replace("'", "''"), problem.cell)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=location)
            link.font = Font(color="FF0563C1", underline="single")
    for c, width in enumerate(LOI_WIDTHS, start=1):
        ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = width
    ws.freeze_panes = ws.cell(row=LOI_HEADER_ROW + 1, column=1)
    return ws


# The rules that reject a file whose unit or year was not identified, with what the file
# gave for it (the value the finding quotes: a code, a name, a file name, a year).
_UNIT_RULES = frozenset({"unit_unknown", "unit_not_in_year", "unit_ambiguous"})
_YEAR_RULES = frozenset({"year_invalid"})


def _as_read(
    known: object,
    problems: list[Problem],
    rules: frozenset[str],
    why: str,
    read: str | None = None,
) -> str:
    """The unit or year `Loi` shows: as identified, else what the file gave for it (quoted by
    a finding of `rules`, else `read`), quoted and said to be unusable, else `?`."""
    if known:
        return str(known)
    for problem in problems:
        if problem.rule in rules and problem.value:
            return f"'{problem.value}' ({why})"
    if read:
        return f"'{read}' ({why})"
    return "?"


def _loi_head(
    submission: Submission,
    problems: list[Problem],
    note: str | None,
    shown: list[tuple[str, list[int], list[int]]] | None = None,
) -> list[str]:
    """The five lines above `Loi`'s table: the file, its status, how to read, the note, the
    hidden rows and columns shown."""
    status = {
        "quarantined": "BỊ TỪ CHỐI, không nạp số liệu nào / quarantined, nothing loaded",
        "loaded": "đã nạp, có cảnh báo / loaded with warnings",
    }.get(submission.status, submission.status)
    unit_why = (
        "mã và tên không khớp / code and name disagree"
        if any(p.rule == "unit_name_mismatch" for p in problems)
        else "không xác định / not identified"
    )
    unit = _as_read(submission.unit_code, problems, _UNIT_RULES, unit_why, submission.unit_read)
    year = _as_read(submission.report_year, problems, _YEAR_RULES, "không hợp lệ / invalid")
    return [
        f"Danh sách vấn đề của tệp / Problems of the file: {submission.file_name}",
        f"Đơn vị / Unit: {unit}   Năm / Year: {year}   Trạng thái / Status: {status}",
        "Ô tô đỏ là lỗi (tệp bị từ chối), ô tô vàng là cảnh báo; di chuột vào ô để xem ghi chú. "
        "Sửa trong tệp gốc của bạn rồi gửi lại cả tệp. / Red cells are errors (the file is "
        "rejected), yellow cells warnings; hover a cell for its note. Correct your own file "
        "and send the whole file again.",
        note or "",
        _shown_note(shown),
    ]


def _write_text(cell, text: str) -> None:
    cell.value = _ILLEGAL.sub("", text)
    cell.data_type = "s"  # a value such as `=1+1` from a clerk's cell stays text


def _free_title(workbook, base: str) -> str:
    taken = {name.lower() for name in workbook.sheetnames}
    title, n = base, 1
    while title.lower() in taken:
        n += 1
        title = f"{base}{n}"
    return title
