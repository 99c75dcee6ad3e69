"""Reads, validates and stages a batch of landed files; writes no DuckDB database.

For each file it writes `staging/outcomes/<file_id>.json` (status, identity, counts, every
finding, and where its rows are); for the batch's valid files together, one Parquet file
per sheet under `staging/batches/<key>/`, with typed columns and the provenance of every
row (`file_id`, sheet, Excel row). The load step reads only these.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import resource
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from etl.config import Limits
from etl.contract.findings import ERROR, WARNING, Finding, and_more, halves, reason
from etl.contract.layout import DATA_SHEETS, Sheet
from etl.contract.reference import load_reference
from etl.forks import imap_forked
from etl.quality.validate import prepare, sheet_columns, validate_frames, with_lookups
from etl.read.discover import LandedFile
from etl.read.frames import ReadFile, build_frames, concat_frames, frame_columns
from etl.read.identify import Identity, identify_read, report_year, unit_given
from etl.read.reader import precision, read_workbook
from etl.warehouse.stamp import staging_stamp

log = logging.getLogger(__name__)

DUCKDB_TYPES = {
    "text": "varchar",
    "code": "varchar",
    "category": "varchar",
    "program": "varchar",
    "int": "bigint",
    "number": "double",
    "money": "double",
    "date": "date",
    "yesno": "boolean",
}
PROVENANCE_TYPES = {
    "file_id": "bigint",
    "unit_code": "varchar",
    "report_year": "integer",
    "sheet_name": "varchar",
    "excel_row": "integer",
}
DERIVED_TYPES = {
    "file_coop": "varchar",
    "founded_year": "integer",
    "commune_key": "varchar",
    "unit_commune": "varchar",
    "valid_until": "date",
    "report_year_start": "date",
}


def staged_columns(sheet: Sheet) -> dict[str, str]:
    """Column name -> DuckDB type of a sheet's staging file."""
    kinds = {c.key: DUCKDB_TYPES[c.kind] for c in sheet.columns}
    precisions = {precision(c.key) for c in sheet.columns if c.kind == "date"}
    types = {}
    for name in frame_columns(sheet):
        if name in PROVENANCE_TYPES:
            types[name] = PROVENANCE_TYPES[name]
        elif name in DERIVED_TYPES:
            types[name] = DERIVED_TYPES[name]
        elif name.endswith("__unparsed") or name in precisions:
            types[name] = "varchar"
        else:
            types[name] = kinds[name]
    return types


REASON_RULES = 5  # messages a rejected file's reason quotes, the most frequent first

# Below this many files a chunk is not worth a process.
MIN_CHUNK = 25
# Files a forked process reads at a time: it takes the next chunk as soon as it is done,
# so that the processes stay busy while this one validates and writes.
CHUNK_FILES = 50
# Files validated and staged together, a part of a batch: one GX run per suite over all
# their rows (GX costs about 0.3 s a call whatever its rows) and one Parquet file per
# sheet. The frames of one part (and of the chunks read meanwhile) are all a batch holds
# in memory, whatever the batch's size.
PART_FILES = 700


def stage_batch(
    files: list[LandedFile],
    staging_dir: Path,
    run_id: str,
    limits: Limits | None = None,
    processes: int = 1,
    min_chunk: int | None = None,
    timings_dir: Path | None = None,
    part_files: int | None = None,
) -> list[dict]:
    """Process a batch; returns one small outcome summary per file (details on disk).

    The batch is validated and staged in parts of at most `part_files` files (`PART_FILES`),
    in order: one GX run per suite over every row of a part, then one Parquet file per
    sheet for its valid files, and its files' outcomes. Every rule that looks across files
    looks within one file or at the warehouse later, so the parts are independent.

    With `processes` > 1 a pool of that many forked processes reads, identifies and makes
    into frames (with their lookup columns) the files of each part, a chunk of about
    `CHUNK_FILES` files (at least `min_chunk`, and as many chunks as processes) at a time;
    the chunks' frames come back here in order. While this process validates and writes a
    part, the forks read the next. GX is imported and its suites built while the forks
    read, and only when the batch has a file to validate. With one process (or one chunk)
    the parts are read here, one after the other, and GX is imported only when a frame has
    a row its suite can fail (`etl.quality.narrow`): never for clean workbooks.
    With `timings_dir`, the batch's timings are recorded there (see `etl.flow.timings`).
    """
    started = time.perf_counter()
    cpu = _cpu_seconds()
    load_reference()  # once, before any fork
    staging_stamp(limits)  # hashed once, before any fork
    setup = time.perf_counter() - started
    parts = split(files, -(-len(files) // (part_files or PART_FILES)), 1)
    smallest = MIN_CHUNK if min_chunk is None else min_chunk
    if processes > 1:
        plans = [
            split(part, max(processes, -(-len(part) // CHUNK_FILES)), smallest) for part in parts
        ]
    else:
        plans = [[part] for part in parts]
    jobs = [(chunk, limits) for plan in plans for chunk in plan]
    workers = max(1, min(processes, len(jobs)))
    validating = any(f.duplicate_of is None for f in files)
    prepared: list[float] = []

    def meanwhile() -> None:  # while the forks read: GX imported and built, timed apart
        if validating and not prepared:
            clock = time.perf_counter()
            prepare()
            prepared.append(time.perf_counter() - clock)

    # The chunks of the part being validated and of the next are handed out: the forks
    # read on meanwhile, and what waits here is at most about a part.
    ahead = max(len(plan) for plan in plans) + workers
    reads = imap_forked(_read_job, jobs, processes, meanwhile, ahead)
    timings = {"read": 0.0, "validate": 0.0, "write": 0.0}
    stamp = staging_stamp(limits)
    by_id = {f.file_id: f for f in files}
    summaries: list[dict] = []
    try:
        for plan in plans:
            done = [next(reads) for _ in plan]
            timings["read"] += sum(t for _, t in done)
            clock = time.perf_counter()
            read = _Read.merge([r for r, _ in done])
            if read.columns:
                findings = validate_frames(read.frames, read.columns)
                for file_id, own in read.own_findings.items():
                    _judge(read.outcomes[file_id], own + findings[file_id])
            timings["validate"] += time.perf_counter() - clock
            clock = time.perf_counter()
            _write_part(read, staging_dir, run_id, stamp)
            for file_id, outcome in read.outcomes.items():
                log.info(
                    "%s: %s (%s)",
                    by_id[file_id].file_name,
                    outcome["status"],
                    outcome["reason"] or "ok",
                )
                summaries.append(_summary(outcome))
            timings["write"] += time.perf_counter() - clock
    finally:
        reads.close()  # the forks end (and their CPU time is counted) before the summary
    setup += sum(prepared)
    wall = time.perf_counter() - started
    here, forks = (after - before for after, before in zip(_cpu_seconds(), cpu, strict=True))
    log.info(
        "stage timings: %d file(s) in %d process(es), %d part(s), %.2fs wall; set-up %.2fs; "
        "process-seconds: read %.2fs, validate %.2fs, write %.2fs; CPU-seconds: this "
        "process %.2fs, its forks %.2fs; peak RSS so far: this process %d MiB, a fork %d MiB",
        len(files),
        workers,
        len(plans),
        wall,
        setup,
        timings["read"],
        timings["validate"],
        timings["write"],
        here,
        forks,
        *_peak_rss_mib(),
    )
    if timings_dir is not None:
        from etl.flow.timings import record, step_timing

        ids = sorted(f.file_id for f in files)
        batch = hashlib.sha256(f"{run_id}|{ids}".encode()).hexdigest()[:20]
        record(
            timings_dir,
            step_timing(
                run_id,
                "stage",
                time.time() - wall,
                key=batch,
                files=len(files),
                processes=workers,
                phases={"setup": setup, **timings},
            ),
        )
    return summaries


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user and system) of this process and of its children that ended."""
    here = resource.getrusage(resource.RUSAGE_SELF)
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    return here.ru_utime + here.ru_stime, ended.ru_utime + ended.ru_stime


def _peak_rss_mib() -> tuple[int, int]:
    """The peak resident memory of this process, and of the largest of its children that
    ended, since each started (Linux gives KiB)."""
    here = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ended = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return here // 1024, ended // 1024


def _write_part(read: _Read, staging_dir: Path, run_id: str, stamp: str) -> None:
    """A validated part's Parquet files (its valid files' rows) and its files' outcomes."""
    valid = [i for i in read.columns if read.outcomes[i]["status"] == "valid"]
    if valid:
        folder = batch_dir(staging_dir, run_id, valid)
        digests = _write_sheets(read.frames, valid, folder)
        for file_id in valid:
            read.outcomes[file_id]["staged_in"] = folder.relative_to(staging_dir).as_posix()
            read.outcomes[file_id]["staged_digest"] = digests.get(file_id, "")
    for file_id, outcome in read.outcomes.items():
        outcome["run_id"] = run_id
        outcome["staged_by"] = stamp  # which reader and rules made this outcome
        _write_outcome(outcome_path(staging_dir, file_id), outcome)


def split(files: list, processes: int, min_chunk: int) -> list[list]:
    """`files` in order, in at most `processes` chunks of at least `min_chunk` files whose
    sizes differ by one at most (one chunk when there are too few for two)."""
    count = max(1, min(processes, len(files) // max(1, min_chunk)))
    size, extra = divmod(len(files), count)
    chunks, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        chunks.append(files[start:end])
        start = end
    return chunks


@dataclass
class _Read:
    """What reading a chunk gives validation: an outcome per file (in the chunk's order),
    and for the files read and identified, their findings so far, their columns' indices
    (`sheet_columns`) and their rows as frames with their lookups (`build_frames`,
    `with_lookups`)."""

    outcomes: dict[int, dict]
    own_findings: dict[int, list[Finding]]
    columns: dict[int, dict[str, dict[str, int]]]
    frames: dict[str, pd.DataFrame]

    @staticmethod
    def merge(parts: list[_Read]) -> _Read:
        """The chunks' reads as one, in order; frames of the chunks with readable files."""
        with_rows = [p for p in parts if p.columns]
        return _Read(
            outcomes={k: v for p in parts for k, v in p.outcomes.items()},
            own_findings={k: v for p in parts for k, v in p.own_findings.items()},
            columns={k: v for p in parts for k, v in p.columns.items()},
            frames=concat_frames([p.frames for p in with_rows]) if with_rows else {},
        )


def _read_job(job: tuple) -> tuple[_Read, float]:
    return _read_chunk(*job)


def _read_chunk(files: list[LandedFile], limits: Limits | None) -> tuple[_Read, float]:
    """Read and identify a chunk's files, and build the frames of those read: in a fork."""
    ref = load_reference()
    clock = time.perf_counter()
    read = _Read({}, {}, {}, {})
    readable: list[ReadFile] = []
    for landed in files:
        if landed.duplicate_of is not None:
            read.outcomes[landed.file_id] = _outcome(landed, "duplicate", reason=_duplicate(landed))
            continue
        log.info("reading %s (%s)", landed.file_name, landed.sha256[:12])
        workbook = read_workbook(Path(landed.raw_path), limits, Path(landed.file_name).name)
        who = identify_read(workbook, Path(landed.file_name).name, ref)
        if workbook.rejection is not None:  # unreadable, or no table: its unit and year if known
            problems = workbook.problems or [workbook.rejection]
            if workbook.problems and isinstance(who, Finding):
                problems = [*problems, who]  # read through: its unit or year is said too
            read.outcomes[landed.file_id] = _outcome(
                landed,
                "quarantined",
                reason=and_more(problems[0].message, len(problems) - 1),
                findings=problems,
                identity=None if isinstance(who, Finding) else who,
                read=workbook,
            )
            if isinstance(who, Finding):
                _year_read(read.outcomes[landed.file_id], workbook, landed, who)
            continue
        if isinstance(who, Finding):  # no unit and year: the suites cannot judge its rows
            # (their lists depend on both), but what the reader found in its cells is said
            # now, so the clerk does not mend the unit, resubmit, and only then hear of them.
            read.outcomes[landed.file_id] = _outcome(
                landed,
                "quarantined",
                reason=who.message,
                findings=[who, *_rejected(workbook.findings)],
                read=workbook,
            )
            _year_read(read.outcomes[landed.file_id], workbook, landed, who)
            continue
        item = ReadFile(file_id=landed.file_id, identity=who, read=workbook)
        readable.append(item)
        read.outcomes[landed.file_id] = _outcome(landed, "valid", identity=who, read=workbook)
        read.outcomes[landed.file_id]["columns"] = _columns(workbook)
        read.own_findings[landed.file_id] = [*workbook.findings, *who.findings]
        read.columns[landed.file_id] = sheet_columns(item)
    if readable:
        # The lookups look within a row or a file: made here, beside the reading.
        read.frames = with_lookups(build_frames(readable), readable, ref)
    return read, time.perf_counter() - clock


# Findings that reject a file whose unit was read: an invalid year beside it, or a
# `Tên đơn vị` naming another unit than its code.
_UNIT_READ_RULES = frozenset({"year_invalid", "unit_name_mismatch"})


def _year_read(outcome: dict, workbook, landed: LandedFile, found: Finding) -> None:
    """A file not identified keeps the report year it gave, when its unit was what failed:
    the clerk's feedback, the alert and the quality report say that year, not `?`. The unit
    it gave, when its year or its name was what failed, is kept as `unit_read` for the
    clerk's feedback, never as its unit_code: that would count the rejected file as the
    unit's report (`marts.reporting_status`)."""
    name = Path(landed.file_name).name
    outcome["report_year"] = report_year(workbook.info, name)
    if found.rule in _UNIT_READ_RULES:
        outcome["unit_read"] = unit_given(workbook.info, name)


def _columns(workbook) -> dict[str, dict[str, int]]:
    """Where the file has each column: sheet name as written -> column header (the
    contract's) -> 0-based index. The checks across files find warnings on the loaded rows,
    by sheet, row and column; this gives them their cell (`validate.with_cells`)."""
    return {
        rows.sheet_name: {
            rows.sheet.column(key).header: index for key, index in rows.columns.items()
        }
        for rows in workbook.sheets.values()
    }


def outcome_path(staging_dir: Path, file_id: int) -> Path:
    return staging_dir / "outcomes" / f"{file_id}.json"


def batch_dir(staging_dir: Path, run_id: str, file_ids: list[int]) -> Path:
    """Where one staged batch's Parquet files go: named by the run and the files it holds."""
    key = hashlib.sha256(f"{run_id}|{sorted(file_ids)}".encode()).hexdigest()[:20]
    return staging_dir / "batches" / key


def sheet_files(staging_dir: Path, outcome: dict) -> dict[str, Path]:
    """The Parquet file of each sheet holding a staged file's rows (with other files' rows:
    one file per sheet per batch)."""
    return folder_files(staging_dir, staged_folder(outcome))


def staged_folder(outcome: dict) -> str:
    """The folder under the staging folder that holds a staged file's Parquet: its batch's.
    Files staged before batches kept a folder of their own."""
    return outcome.get("staged_in") or outcome["sha256"]


def folder_files(staging_dir: Path, folder: str) -> dict[str, Path]:
    """The Parquet file of each sheet in a staged folder (`staged_folder`)."""
    return {s.key: staging_dir / folder / f"{s.key}.parquet" for s in DATA_SHEETS}


def _duplicate(landed: LandedFile) -> str:
    return (
        f"Tệp giống hệt tệp đã nhận trước đó (file_id {landed.duplicate_of}); không nạp lại. / "
        f"Identical to a file received before (file_id {landed.duplicate_of}); not loaded again."
    )


def _outcome(
    landed: LandedFile,
    status: str,
    *,
    reason: str | None = None,
    findings: list[Finding] | None = None,
    identity: Identity | None = None,
    read=None,
) -> dict:
    return {
        **landed.as_dict(),
        "status": status,
        "unit_code": identity.unit.code if identity else None,
        "report_year": identity.report_year if identity else None,
        "prepared_on": identity.prepared_on.isoformat()
        if identity and identity.prepared_on
        else None,
        "identified_by": identity.source if identity else None,
        "rows_read": read.rows_read if read is not None else 0,
        "rows_rejected": 0,
        "warnings": 0,
        "reason": reason,
        "findings": [asdict(f) for f in findings or []],
    }


def _judge(outcome: dict, findings: list[Finding]) -> None:
    """An error anywhere quarantines the whole file; warnings are recorded, not fatal. A
    cell with an error has no warning beside it. A cell written but unusable is not also
    missing: its `…_required` finding goes where the same cell is unreadable (`4,5` stars:
    `stars_readable`) or has a unit that does not fit (`12 tấn` in Kinh phí:
    `unit_mismatch`) or shows a formula's error (`#REF!` in Tên HTX: `formula_error`), so
    the clerk is not told the cell is empty; nor is any cell of a
    column whose header's unit refused it whole (`Kinh phí (USD)`: `header_unit_mismatch`).
    A score out of its range is not also judged against its rating's band. A rejected file
    is not told what loading it would do (`htx_sheet_empty`)."""
    written = {
        (f.sheet, f.excel_row, f.column_name)
        for f in findings
        if f.rule.endswith("_readable")
        or f.rule in ("unit_mismatch", "formula_without_value", "formula_error")
    }
    refused = {(f.sheet, f.column_name) for f in findings if f.rule == "header_unit_mismatch"}
    findings = [
        f
        for f in findings
        if not (
            f.rule.endswith("_required")
            and (
                (f.sheet, f.excel_row, f.column_name) in written
                or (f.sheet, f.column_name) in refused
            )
        )
    ]
    # A score out of its 0–100 range is that one error: judged against its rating's band as
    # well, 150 rated Tốt would be told Tốt needs 80 or more. Its rating is judged once the
    # score is mended.
    out_of_range = {
        (f.sheet, f.excel_row, f.column_name) for f in findings if f.rule == "score_0_100"
    }
    findings = [
        f
        for f in findings
        if not (
            f.rule == "rating_matches_score"
            and (f.sheet, f.excel_row, f.column_name) in out_of_range
        )
    ]
    # A cell that breaks a rule is not also warned about: `-1` members is an error, and the
    # clerk who mends it hears about fewer than 5 members when the mended value says so.
    broken = {
        (f.sheet, f.excel_row, f.column_name)
        for f in findings
        if f.severity == ERROR and f.excel_row is not None
    }
    findings = [
        f
        for f in findings
        if not (f.severity == WARNING and (f.sheet, f.excel_row, f.column_name) in broken)
    ]
    if any(f.severity == ERROR for f in findings):
        findings = _rejected(findings)
    errors = [f for f in findings if f.severity == ERROR]
    outcome["findings"] = [asdict(f) for f in findings]
    outcome["warnings"] = sum(1 for f in findings if f.severity == WARNING)
    outcome["rows_rejected"] = len({(f.sheet, f.excel_row) for f in errors})
    if errors:
        outcome["status"] = "quarantined"
        # Cells, as the clerk counts the red ones: a code `12345` given twice is two cells
        # that break two rules each.
        cells = len({(f.sheet, f.cell or (f.excel_row, f.column_name)) for f in errors})
        cells_en = "1 cell breaks" if cells == 1 else f"{cells} cells break"
        rules_vi, rules_en = _broken_rules(errors)
        outcome["reason"] = reason(
            "rule_errors",
            count=cells,
            cells_en=cells_en,
            rules_vi=rules_vi,
            rules_en=rules_en,
        )


# Warnings that say what loading the file does (an empty HTX sheet: it loads as a report
# of no cooperative and replaces the unit's report), false of a file that is rejected.
_SAID_OF_A_LOAD = frozenset({"htx_sheet_empty"})


def _rejected(findings: list[Finding]) -> list[Finding]:
    """A rejected file's findings: all but those only true of a file that loads."""
    return [f for f in findings if f.rule not in _SAID_OF_A_LOAD]


def _broken_rules(errors: list[Finding]) -> tuple[str, str]:
    """What the broken rules say, in the clerk's words (the findings' own messages, not the
    rule keys), each with its number of cells, the most frequent first. The messages left
    out are not hidden: their number is given."""
    counts = Counter(halves(f.message) for f in errors)
    vi, en = [], []
    for (message_vi, message_en), n in counts.most_common(REASON_RULES):
        vi.append(f"{message_vi.rstrip('.')} ({n} ô)")
        en.append(f"{message_en.rstrip('.')} ({n} cell{'' if n == 1 else 's'})")
    if len(counts) > REASON_RULES:
        vi.append(f"… (+{len(counts) - REASON_RULES} lỗi khác)")
        en.append(f"… (+{len(counts) - REASON_RULES} more)")
    return "; ".join(vi), "; ".join(en)


def _write_sheets(frames, valid: list[int], folder: Path) -> dict[int, str]:
    """One Parquet file per sheet for the batch's valid files (a `file_id` column tells them
    apart): four files a batch, not four a workbook. One in-memory DuckDB for the batch.

    Returns a digest of each file's staged rows (every sheet, every column, order-free):
    the warehouse is rebuilt when a reprocessed file's rows differ, and only then.
    """
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    digests: dict[int, list[str]] = {file_id: [] for file_id in valid}
    # In memory: staging writes Parquet, never the warehouse. One thread: the batch's other
    # chunks run in processes beside this one.
    con = duckdb.connect(config={"threads": 1})
    try:
        con.execute(
            "create temp table valid_files as select unnest(?::bigint[]) as file_id", [valid]
        )
        for sheet in DATA_SHEETS:
            con.register("batch_rows", frames[sheet.key])
            casts = ",\n".join(
                f'cast("{name}" as {kind}) as "{name}"'
                for name, kind in staged_columns(sheet).items()
            )
            path = folder / f"{sheet.key}.parquet"
            temporary = path.with_suffix(".parquet.tmp")
            con.execute(
                f"copy (select {casts} from batch_rows semi join valid_files using (file_id) "  # noqa: S608  casts from the layout
                f"order by file_id) to '{temporary}' (format parquet)"
            )
            os.replace(temporary, path)
            con.unregister("batch_rows")
            rows = con.execute(
                "select file_id, count(*), sum(hash(t))::varchar from read_parquet(?) t "
                "group by file_id",
                [str(path)],
            ).fetchall()
            found = {file_id: f"{sheet.key}:{n}:{digest}" for file_id, n, digest in rows}
            for file_id in valid:
                digests[file_id].append(found.get(file_id, f"{sheet.key}:0"))
    finally:
        con.close()
    return {file_id: "|".join(parts) for file_id, parts in digests.items()}


def _write_outcome(path: Path, outcome: dict) -> None:
    """Write a file's outcome whole. The temporary file is this writer's own: two stage
    tasks may stage the same new file at once (`htx_ingest` beside a backfill of
    `htx_ingest_yearly`, each DAG one run at a time), and a shared name would let one move
    the other's half-written file in place, or fail on finding it gone. Not named by the
    pid alone: stage tasks on other machines or in other pods (KubernetesExecutor) share
    this folder, and their pids may well be the same; a random part makes it this one's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_text(json.dumps(outcome, ensure_ascii=False, indent=1, default=str))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _summary(outcome: dict) -> dict:
    keys = ("file_id", "file_name", "status", "unit_code", "report_year")
    return {k: outcome[k] for k in keys}


def read_outcome(staging_dir: Path, file_id: int) -> dict:
    return json.loads(outcome_path(staging_dir, file_id).read_text())
