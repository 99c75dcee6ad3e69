"""Runs the GX suites of `expectations/` over a batch's sheet frames and returns findings.

Every rule of the workbook spec is an expectation in a JSON suite, with its severity and
its Vietnamese and English message in `meta`. This module only loads the suites, runs
them once per sheet for the whole batch, and maps each unexpected row back to its file,
sheet, Excel row, column and value.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import math
import re
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from typing import cast

import numpy as np
import pandas as pd

from etl.contract import rules
from etl.contract.findings import ERROR, Finding, bilingual, cell_address, sheets_named
from etl.contract.layout import DATA_SHEETS, HTX
from etl.contract.reference import Reference
from etl.read.cells import DAY, MONTH, YEAR
from etl.read.frames import ReadFile, build_frames, commune_known
from etl.read.reader import precision

log = logging.getLogger(__name__)


# Checks across files and years: `sql/checks/<name>.sql` makes the frame that
# `expectations/warehouse/<name>.json` validates. A check's frame may carry:
# - `causes`: JSON, the rows of other files that cause the warning, best first
#   (`[{"file_id": …, "sheet": …, "excel_row": …}]`): where it goes when its own file is
#   not of the run that found it (`for_run`).
WAREHOUSE_CHECKS = (
    "coop_code_in_two_units",
    "report_outranked",
    "empty_report_replaces",
    "year_over_year",
    "unit_count_change",
    "coop_continuity",
    "commune_ambiguous",
)


def load_suite_documents() -> dict[str, dict]:
    """The suites as data: sheet key (or `warehouse/<check>`) -> the JSON document, in the
    order of the sheets and of `WAREHOUSE_CHECKS`. A copy of the project's rules' documents
    (`rules.current()`, read once a process), the caller's to change: GX writes into the
    meta of a suite made from one. Callers that only read them read `rules.current()`'s."""
    documents = rules.current().documents
    names = [sheet.key for sheet in DATA_SHEETS] + [f"warehouse/{c}" for c in WAREHOUSE_CHECKS]
    return copy.deepcopy({name: documents[name] for name in names})


@cache
def _context():
    """The ephemeral GX context with one pandas data source: made once a process, when a
    suite is first needed (importing GX costs seconds)."""
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    # DataContextVariables.progress_bars: a tqdm bar per run is only noise in task logs.
    # GX reads the setting as a mapping; the setter's hint names an internal config class.
    context.variables.progress_bars = {"globally": False}  # type: ignore[assignment]
    return context, context.data_sources.add_pandas("htx_workbooks")


@cache
def _validation(key: str):
    """The validation definition (suite and batch definition) of a sheet key or
    `warehouse/<check>`, built once a process and only when a frame of it is validated:
    a run whose checks find no rows builds no warehouse suite (and imports no GX)."""
    import great_expectations as gx

    context, source = _context()
    document = copy.deepcopy(rules.current().documents[key])  # GX writes into its meta
    name = key.replace("/", "_")
    # The constructor keeps every expectation, also two rules on one column.
    suite = context.suites.add(
        gx.ExpectationSuite(
            name=document["name"],
            meta=document.get("meta", {}),
            expectations=[_expectation(item) for item in document["expectations"]],
        )
    )
    batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
    return context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch, suite=suite)
    )


def _expectation(item: dict):
    """The `gx.expectations` class named by the suite's snake_case `type`, with its kwargs
    and meta."""
    import great_expectations as gx

    class_name = "".join(word.capitalize() for word in item["type"].split("_"))
    expectation_class = getattr(gx.expectations, class_name, None)
    if expectation_class is None:
        raise ValueError(f"unknown GX expectation type {item['type']!r}")
    return expectation_class(**item["kwargs"], meta=item.get("meta"))


def prepare() -> None:
    """Build the GX context and the sheets' suites now: a process about to fork workers does
    it once. The warehouse checks' suites are built when a check has rows to validate.
    Nothing to do with a warm validator (`etl.quality.validator`): it built them."""
    from etl.quality import validator

    if validator.current() is not None:
        return
    for sheet in DATA_SHEETS:
        _validation(sheet.key)


def validate_batch(
    files: list[ReadFile], ref: Reference, frames: dict[str, pd.DataFrame] | None = None
) -> dict[int, list[Finding]]:
    """Findings per file_id: every failing cell of every rule, errors and warnings."""
    frames = with_lookups(build_frames(files) if frames is None else frames, files, ref)
    return validate_frames(frames, {f.file_id: sheet_columns(f) for f in files})


def sheet_columns(item: ReadFile) -> dict[str, dict[str, int]]:
    """Sheet key -> column key -> the column's index in the file: where a finding's cell is."""
    return {key: rows.columns for key, rows in item.read.sheets.items()}


def validate_frames(
    frames: dict[str, pd.DataFrame], columns: dict[int, dict[str, dict[str, int]]]
) -> dict[int, list[Finding]]:
    """Findings per file_id of the frames of many files, with their lookup columns
    (`with_lookups` of `build_frames`, or of several such frames concatenated in file order:
    every lookup looks within a row or a file): one GX validation per suite over all the
    rows it can find unexpected (`etl.quality.narrow`), none when no row can.

    `columns` holds every file of the frames (`sheet_columns`), also those without rows.
    """
    findings: dict[int, list[Finding]] = {file_id: [] for file_id in columns}
    items: list[_Item] = []
    for sheet in DATA_SHEETS:
        labels = {c.key: c.header for c in sheet.columns}
        positions = {
            file_id: sheets[sheet.key] for file_id, sheets in columns.items() if sheet.key in sheets
        }
        items.append((sheet.key, frames[sheet.key], labels, positions))
    for found in _run_all(items):
        for file_id, finding, _ in found:
            findings[file_id].append(finding)
    return findings


# One validation: `_run`'s arguments.
_Item = tuple[str, pd.DataFrame, dict[str, str], dict[int, dict[str, int]] | None]


def _run_all(items: list[_Item]) -> list[list[tuple[int, Finding, tuple[Cause, ...]]]]:
    """`list(_run(*item))` of each item, in order: by the warm validator of `htx run` when
    this process has one (`etl.quality.validator`), else here. Each frame is narrowed to
    the rows its suite can find unexpected first (`etl.quality.narrow`): the same findings.
    An empty frame is not validated (nor sent): GX is needed only for rows, and a clean
    workbook's are not validated at all."""
    from etl.quality import validator
    from etl.quality.narrow import rows_to_validate

    items = [
        (key, rows_to_validate(frame, rules.current().documents[key]), labels, positions)
        for key, frame, labels, positions in items
    ]
    found: list[list[tuple[int, Finding, tuple[Cause, ...]]]] = [[] for _ in items]
    wanted = [index for index, item in enumerate(items) if not item[1].empty]
    if not wanted:
        return found
    answers = validator.call(_run_each, [items[index] for index in wanted])
    for index, answer in zip(wanted, answers, strict=True):
        found[index] = answer
    return found


def _run_each(items: list[_Item]) -> list[list[tuple[int, Finding, tuple[Cause, ...]]]]:
    """`list(_run(*item))` of each item: what the warm validator is called with."""
    return [list(_run(*item)) for item in items]


def with_lookups(
    frames: dict[str, pd.DataFrame], files: list[ReadFile], ref: Reference
) -> dict[str, pd.DataFrame]:
    """The frames plus the lookup columns the suites judge (see each expectation's
    `meta.lookup`): `coop_in_htx` on the HoTro, OCOP and LienKet sheets, `commune_known` on
    HTX, `funding_source_known` on HoTro. True, false, or empty where the row has nothing to
    look up. Beside `coop_in_htx`, `htx_sheet`: the title of the file's HTX sheet, which the
    messages of those rules name (`Danh sach HTX`, `Biểu 01`).

    Set-based here, so each suite's expectations stay small: a value set of every code in
    the batch would be copied by GX on every access and cost time growing with the batch.
    """
    # As Python objects: `isin` of an Arrow string column costs 30 times as much.
    htx_coops = frames["htx"]["file_coop"].dropna().astype(object).unique()
    # From the files, not the HTX frame: an HTX sheet without rows has a title too.
    htx_titles = {
        f.file_id: f.read.sheets["htx"].sheet_name for f in files if "htx" in f.read.sheets
    }
    code_form = rules.current().regex("htx", "coop_code")
    out = {}
    for key, frame in frames.items():
        if key == "htx":
            out[key] = frame.assign(commune_known=commune_known(frame, ref))
            continue
        # A code of the wrong form (`6,40012E+09`) is `coop_code_format`'s error alone: it
        # has nothing to look up, and "not in the HTX sheet" would send the clerk astray.
        formed = frame["coop_code"].astype(object).str.fullmatch(code_form).fillna(False)
        out[key] = frame.assign(
            coop_in_htx=_member(frame["file_coop"].where(formed.astype(bool)), htx_coops),
            htx_sheet=frame["file_id"].map(htx_titles).astype(object),
        )
        if key == "hotro":
            sources = rules.current().funding_sources()
            known = _in_force(frame["funding_source"], frame["report_year"], sources)
            out[key] = out[key].assign(funding_source_known=known)
    return out


def _in_force(values: pd.Series, years: pd.Series, entries) -> pd.Series:
    """True where the value is an entry (`YearLabel`) in force in the row's report year,
    empty where the row has no value."""
    pairs = pd.MultiIndex.from_arrays([years, values])
    allowed = [
        (year, entry.label)
        for year in years.dropna().unique().tolist()
        for entry in entries
        if entry.in_force(int(year))
    ]
    result = pd.Series(pairs.isin(allowed), index=values.index).astype("boolean")
    result[values.isna()] = pd.NA
    return result


def _member(values: pd.Series, allowed) -> pd.Series:
    result = values.astype(object).isin(allowed).astype("boolean")
    result[values.isna()] = pd.NA
    return result


# The checks that compare the reports of units of any province: a code two units report
# (of two provinces, say), a report outranked by another's (`stg_report_precedence`).
ACROSS_PROVINCES_CHECKS = ("coop_code_in_two_units", "report_outranked")
# The checks whose warning on a report a unit of another province's report of the same year
# may withdraw (a cooperative missing from its unit's report that another reports moved).
ACROSS_PROVINCES_IN_YEAR_CHECKS = ("coop_continuity",)


def cross_rules(checks: tuple[str, ...] = WAREHOUSE_CHECKS) -> list[str]:
    """The rule names of the checks across files and years (of `checks`: every one)."""
    documents = rules.current().documents
    return sorted(
        e["meta"]["rule"] for c in checks for e in documents[f"warehouse/{c}"]["expectations"]
    )


@cache
def cross_rule_texts() -> dict[str, tuple[str, str | None]]:
    """By rule of a check across files: its own text, and what it says when `for_run` moves
    it to the row that causes it (`message_vi_at_cause`, `message_en_at_cause`), where its
    own text would point the wrong way (a cooperative "missing from this year's report: add
    it", said on the row of last year's report that holds it); None for a rule without."""
    documents = rules.current().documents
    texts: dict[str, tuple[str, str | None]] = {}
    for check in WAREHOUSE_CHECKS:
        for expectation in documents[f"warehouse/{check}"]["expectations"]:
            meta = expectation["meta"]
            there = None
            if "message_vi_at_cause" in meta:
                there = bilingual(meta["message_vi_at_cause"], meta["message_en_at_cause"])
            texts[meta["rule"]] = (bilingual(meta["message_vi"], meta["message_en"]), there)
    return texts


@cache
def on_warned_file_rules() -> frozenset[str]:
    """The rules of checks across files whose warned file the contract names (`on_warned_file`
    in their meta: a province report a commune's outranks): `for_run` keeps their warning on
    that file, of whatever run, instead of moving it to the file that causes it."""
    documents = rules.current().documents
    return frozenset(
        e["meta"]["rule"]
        for c in WAREHOUSE_CHECKS
        for e in documents[f"warehouse/{c}"]["expectations"]
        if e["meta"].get("on_warned_file")
    )


@cache
def at_cause_messages() -> dict[str, str]:
    """By rule of a check across files: its text at the row that causes it
    (`cross_rule_texts`); a rule without: its own text, not listed."""
    return {rule: there for rule, (_, there) in cross_rule_texts().items() if there}


@dataclass(frozen=True)
class Cause:
    """A row of another file that causes a warning across files."""

    file_id: int
    sheet: str | None
    excel_row: int | None


class CrossFindings(dict[int, list[Finding]]):
    """Warnings across files and years per file_id, as `check_warehouse` found them, and for
    each warning the rows of other files that cause it (`causes[(file_id, index)]`)."""

    def __init__(self) -> None:
        super().__init__()
        self.causes: dict[tuple[int, int], tuple[Cause, ...]] = {}

    def add(self, file_id: int, finding: Finding, causes: tuple[Cause, ...] = ()) -> None:
        found = self.setdefault(file_id, [])
        if causes:
            self.causes[(file_id, len(found))] = causes
        found.append(finding)


def check_warehouse(con, run_files: Collection[int] | None = None) -> CrossFindings:
    """Warnings across files and years, from the star schema of an open build connection.

    With `run_files` (the files of this run), only the warnings `for_run` keeps: those on
    these files and those whose causes name one of them. Each check's SQL looks only at the
    rows that can yield them where that is exact (`check_run_files`: the cooperatives and
    years these files report), and the frame keeps only such rows, so GX validates (and is
    imported) only when some row can. `for_run` of either gives the same warnings.

    Each check's frame holds only the rows its suite can find unexpected (`_failing_rows`):
    GX validates those, and the rows it passes are neither built nor handed over.
    """
    from etl.config import SQL_DIR

    run = _prepare_checks(con, run_files)
    documents = rules.current().documents
    findings = CrossFindings()
    items: list[_Item] = []
    for check in WAREHOUSE_CHECKS:
        sql = (SQL_DIR / "checks" / f"{check}.sql").read_text()
        frame = con.execute(_failing_rows(sql, documents[f"warehouse/{check}"])).df()
        if run is not None:
            frame = _in_run(frame, run)
        items.append((f"warehouse/{check}", frame, {}, None))
    for found in _run_all(items):
        for file_id, finding, causes in found:
            findings.add(int(file_id), finding, causes)
    return findings


def _failing_rows(sql: str, document: dict) -> str:
    """A check's query narrowed to the rows its suite can find unexpected: its `where` is
    `can_fail` of the suite's own expectations, so the rule stays in the suite, and GX
    still validates every row it could fail (the same findings: each expectation judges a
    row alone). Most rows of a check pass (every HTX row is counted for
    coop_code_in_two_units, every cooperative-year with one before for year_over_year):
    they were made, with their long `value` text, handed to pandas and validated only to
    pass, about half a second of a whole 100× build. A suite with an expectation `can_fail`
    cannot read keeps every row."""
    from etl.quality.narrow import can_fail

    where = can_fail(document)
    if where is None:
        return sql
    query = sql.strip().rstrip(";")
    return f"select * from (\n{query}\n) as checked\nwhere {where}"  # noqa: S608  the project's suite


def _in_run(frame: pd.DataFrame, run: set[int]) -> pd.DataFrame:
    """A check's rows `for_run` can keep: on a file of `run`, or caused by a row of one."""
    if frame.empty:
        return frame
    keep = frame["file_id"].isin(run).to_numpy(dtype=bool, copy=True)
    if "causes" in frame.columns:
        texts = frame["causes"].to_numpy()
        for position in (~keep).nonzero()[0]:  # the rows on files of earlier runs only
            keep[position] = _caused_by(texts[position], run)
    return frame[keep]


_NUMBERS = re.compile(r"\d+")


def _caused_by(text: object, run: set[int]) -> bool:
    """Whether a check row's `causes` names a row of a file of `run`. A cause's file_id is
    written in its JSON as digits: a text none of whose numbers is a run file's has no
    cause in the run, and is not parsed (one pass over the text, whatever the run's size)."""
    if not isinstance(text, str) or not any(int(n) in run for n in _NUMBERS.findall(text)):
        return False
    return any(c.file_id in run for c in _causes(text))


def for_run(
    cross: dict[int, list[Finding]], run_files: Collection[int]
) -> dict[int, list[Finding]]:
    """The warnings across files a run records: those on its own files as found; one on a
    file of an earlier run moves to the row of this run's file that causes it (the first
    of its causes in the run), or is dropped when no file of this run causes it, and says
    there what its rule says at a cause (`at_cause_messages`). A new file adds warnings to
    files of earlier runs only where the contract names the file warned
    (`on_warned_file_rules`): that warning stays on it, as found."""
    run = set(run_files)
    causes = getattr(cross, "causes", {})
    stays = on_warned_file_rules()
    out: dict[int, list[Finding]] = {}
    seen: set[tuple] = set()
    for file_id, found in cross.items():
        for index, finding in enumerate(found):
            target, kept = file_id, finding
            if file_id not in run:
                cause = next(
                    (c for c in causes.get((file_id, index), ()) if c.file_id in run), None
                )
                if cause is None:
                    continue
                if finding.rule not in stays:
                    target = cause.file_id
                    kept = replace(
                        finding,
                        message=at_cause_messages().get(finding.rule, finding.message),
                        sheet=cause.sheet or finding.sheet,
                        excel_row=cause.excel_row,
                        cell=None,
                    )
            identity = (target, kept.rule, kept.sheet, kept.excel_row, kept.value)
            if identity not in seen:
                seen.add(identity)
                out.setdefault(target, []).append(kept)
    return out


def holding(cross: dict[int, list[Finding]], files: Collection[int]) -> dict[int, set[tuple]]:
    """By file of `files`: the identities (rule, sheet, excel_row, column_name, value) of the
    warnings across files that hold on it now, found on it or at it as their cause (where
    `for_run` would move them). A warning stored on such a file with none of these is one
    whose cause left the warehouse (`etl.warehouse.ledger.replace_cross_findings`)."""
    wanted = set(files)
    causes = getattr(cross, "causes", {})
    out: dict[int, set[tuple]] = {f: set() for f in wanted}
    for file_id, found in cross.items():
        for index, f in enumerate(found):
            if file_id in wanted:
                out[file_id].add((f.rule, f.sheet, f.excel_row, f.column_name, f.value))
            for c in causes.get((file_id, index), ()):
                if c.file_id in wanted:
                    sheet = c.sheet or f.sheet
                    out[c.file_id].add((f.rule, sheet, c.excel_row, f.column_name, f.value))
    return out


def current(cross: dict[int, list[Finding]], files: Collection[int]) -> dict[int, list[tuple]]:
    """By file of `files`: the warnings across files that hold on it now as they would be
    stored there, (rule, sheet, excel_row, column_name, value, message): those found on it,
    and those it causes with their text at a cause (`at_cause_messages`; not of a rule whose
    warning stays on the warned file). A stored warning whose value changed is updated from
    these (`etl.warehouse.ledger.replace_cross_findings`): its text tells a warning found
    on a row from one moved to it, where both are of one rule."""
    wanted = set(files)
    causes = getattr(cross, "causes", {})
    there, stays = at_cause_messages(), on_warned_file_rules()
    out: dict[int, list[tuple]] = {f: [] for f in wanted}
    for file_id, found in cross.items():
        for index, f in enumerate(found):
            identity = (f.rule, f.sheet, f.excel_row, f.column_name, f.value)
            if file_id in wanted:
                out[file_id].append((*identity, f.message))
            if f.rule in stays:
                continue
            for c in causes.get((file_id, index), ()):
                if c.file_id in wanted:
                    moved = (f.rule, c.sheet or f.sheet, c.excel_row, f.column_name, f.value)
                    out[c.file_id].append((*moved, there.get(f.rule, f.message)))
    return out


def with_cells(
    found: dict[int, list[Finding]], outcomes: Mapping[int, dict]
) -> dict[int, list[Finding]]:
    """The warnings across files, each with the cell it names where the check gave none:
    its column in the file as read (the staged outcome's `columns`) on its Excel row. A
    file staged before outcomes kept its columns keeps its warnings without a cell."""
    out: dict[int, list[Finding]] = {}
    for file_id, findings in found.items():
        columns = (outcomes.get(file_id) or {}).get("columns") or {}
        out[file_id] = [
            replace(f, cell=cell_address(columns[f.sheet][f.column_name], f.excel_row))
            if f.cell is None
            and f.excel_row
            and f.sheet in columns
            and f.column_name in columns[f.sheet]
            else f
            for f in findings
        ]
    return out


def _prepare_checks(con, run_files: Collection[int] | None = None) -> set[int] | None:
    """The temp tables of the build connection the checks read besides the star schema and
    the build's staged tables (`stg_htx`, `stg_report_precedence`):
    - `check_units`: every unit of both lists with its province, and the province in force
      since 01/07/2025 (`province_2025`: the province a former one merged into);
    - `check_run_files`: the files whose warnings are wanted, every file of the warehouse
      without `run_files` (then no check leaves out a row).

    The checks also use the build's macros (`sql/macros/`: `province_in_force`).

    `check_units` is copied from the build's `ref_check_units` when the connection has it
    (`etl.warehouse.reference_tables` keeps it with the reference tables), else computed here
    (`check_unit_frame`): the same rows either way.

    Returns the run's files, or None when every file is wanted."""
    # An execute first: it completes whatever result the build left open, which register
    # refuses to run beside.
    con.execute("drop table if exists check_units")
    if con.execute(
        "select 1 from duckdb_tables() where temporary and table_name = 'ref_check_units'"
    ).fetchall():
        con.execute("create temp table check_units as select * from ref_check_units")
    else:
        from etl.contract.reference import check_unit_frame

        con.register("check_units_frame", check_unit_frame())
        try:
            con.execute("create temp table check_units as select * from check_units_frame")
        finally:
            con.unregister("check_units_frame")
    con.execute("drop table if exists check_run_files")
    con.execute(
        "create temp table check_run_files as "
        "select file_id from audit.file_ingestion union "
        "select file_id from core.fact_cooperative_year union "
        "select file_id from stg_report_precedence union "
        "select file_id from stg_htx"
    )
    if run_files is None:
        return None
    run = {int(f) for f in run_files}
    every = {int(f) for (f,) in con.execute("select file_id from check_run_files").fetchall()}
    if every <= run:
        return None  # every file is of this run: the same as no restriction
    con.execute("delete from check_run_files where not list_contains(?, file_id)", [sorted(run)])
    return run


def _run(
    key: str,
    frame: pd.DataFrame,
    labels: dict[str, str],
    positions: dict[int, dict[str, int]] | None = None,
) -> Iterator[tuple[int, Finding, tuple[Cause, ...]]]:
    """Validate one frame with its suite; yield (file_id, finding, causes) per unexpected row.

    `positions` maps a file to its columns' indices, so a finding can name its cell.
    """
    if frame.empty:
        return
    # GX names each unexpected row by its index label (`unexpected_index_list`): with the
    # default index, its position. Asked for key columns instead, GX reads them a cell at a
    # time (`DataFrame.at`), about 30 µs a row: 0.4 s for the checks of a whole 100× build.
    index = frame.index
    default = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    if not default or index.name is not None:  # GX names rows of a named index otherwise
        frame = frame.reset_index(drop=True)
    validation = _validation(key)
    # Not `validation.run(...)`: it also stores every result, as indented JSON, in the
    # context's in-memory store for the life of the process (slower, and memory grows).
    with _unfingerprinted(), _configurations_kept():
        batch = validation.batch_definition.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(
            validation.suite,
            result_format={"result_format": "COMPLETE", "return_unexpected_index_query": False},
        )
    rows = _RowFinder(frame)
    for outcome in result.results:
        if not outcome.success:
            yield from _findings(outcome, rows, key, labels, positions or {})


@contextmanager
def _unfingerprinted() -> Iterator[None]:
    """Within this block GX makes a batch of a DataFrame without fingerprinting it.

    GX's pandas engine hashes every DataFrame under 1 GB it makes a batch of
    (`hash_pandas_dataframe`, for the batch marker `pandas_data_fingerprint`), and a
    validation makes its batch twice (`get_batch`, then `validate` gets it again): about
    0.08 s of CPU for the frames of 700 workbooks, 0.27 s for the frames of the checks
    across files of a whole 100× build. Nothing here reads a batch marker (the findings come
    from the unexpected rows), so its size threshold is 0 during the validation, and back
    after. Data Docs, which show the markers, make their batches outside this block; each
    process validates one frame at a time (`etl.quality.validator` serves one request at a
    time). A GX without that threshold is left as it is."""
    from great_expectations.execution_engine import pandas_execution_engine as engine

    threshold = getattr(engine, "HASH_THRESHOLD", None)
    if threshold is None:
        yield
        return
    engine.HASH_THRESHOLD = 0
    try:
        yield
    finally:
        engine.HASH_THRESHOLD = threshold


@contextmanager
def _configurations_kept() -> Iterator[None]:
    """Within this block a GX expectation builds its `configuration` once, not on every use.

    GX 1.x makes an expectation's `configuration` afresh each time it is read (a pydantic
    `dict()` of the expectation, then an `ExpectationConfiguration`), and one validation
    reads it about 130 times per expectation: on a one-file batch that was more than half
    of the 0.6 s the four suites took, paid again by every validation whatever its rows.
    The validation makes its expectation objects from the suite and does not change them;
    nothing in GX writes to a configuration it read. So the first one made for an object
    serves that object until the block ends, which drops them all. The results are the
    same (`tests/test_validate.py` compares every finding of a batch breaking every rule).
    A GX whose `configuration` is not such a property is left as it is.
    """
    from great_expectations.expectations.expectation import Expectation

    made = Expectation.__dict__.get("configuration")
    if not isinstance(made, property) or made.fget is None:
        yield
        return
    build = made.fget
    kept: dict[int, tuple[object, object]] = {}  # id -> (the expectation, its configuration)

    def configuration(self):
        found = kept.get(id(self))
        if found is None or found[0] is not self:  # an id reused by another object
            found = kept[id(self)] = (self, build(self))
        return found[1]

    Expectation.configuration = property(configuration, doc=made.__doc__)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        Expectation.configuration = made  # type: ignore[method-assign,assignment]
        kept.clear()


class _RowFinder:
    """The row a failure names by its position (GX's index label of a frame indexed
    0..n-1) and its cells' values, read a column at a time on first use."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self._columns: dict[str, list] = {}
        # A set, asked once per finding and column: `name in frame.columns` costs ~4 µs (a
        # pandas Index lookup), 0.07 s of the checks of a whole 100× build.
        self._names = set(frame.columns)

    def position(self, label: object) -> int:
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)):
            raise RuntimeError(f"GX named an unexpected row {label!r}, not a position")
        position = int(label)
        if not 0 <= position < len(self.frame):
            raise RuntimeError(f"GX named row {position} of a frame of {len(self.frame)} rows")
        return position

    def cell(self, position: int, column: str) -> object:
        if column not in self._columns:
            self._columns[column] = self.frame[column].tolist()
        return self._columns[column][position]

    def first_value(self, position: int, columns: list[str]) -> object:
        """The first of `columns` the frame has that is not empty in this row."""
        for column in columns:
            if column in self._names:
                value = self.cell(position, column)
                if not _isna(value):
                    return value
        return None


def _findings(outcome, rows: _RowFinder, key: str, labels: dict[str, str], positions: dict):
    config = outcome.expectation_config
    meta = config.meta or {}
    kwargs = config.kwargs
    if outcome.exception_info and outcome.exception_info.get("raised_exception"):
        # A suite that cannot run is a defect of the project, not of the file.
        raise RuntimeError(
            f"GX expectation {config.type} of suite {key} failed to run: "
            f"{outcome.exception_info.get('exception_message')}"
        )
    column_key = meta.get("report_column") or kwargs.get("column") or kwargs.get("column_A")
    header = meta.get("column_label") or labels.get(column_key, column_key)
    value_columns = [meta["value_column"]] if meta.get("value_column") else []
    value_columns += [f"{column_key}__unparsed", column_key]
    message = bilingual(meta.get("message_vi", config.type), meta.get("message_en", config.type))
    money = not meta.get("value_column") and (key, column_key) in _MONEY
    for label in outcome.result.get("unexpected_index_list") or []:
        position = rows.position(label)
        value = rows.first_value(position, value_columns)
        given = rows.first_value(position, [precision(column_key)])
        row = rows.cell(position, "excel_row")
        excel_row = None if _isna(row) else int(cast(int, row))
        file_id = int(cast(int, rows.cell(position, "file_id")))
        causes = _causes(rows.first_value(position, ["causes"]))
        index = positions.get(file_id, {}).get(column_key)
        sheet = cast(str, rows.cell(position, "sheet_name"))  # provenance: the sheet read
        htx_sheet = rows.first_value(position, ["htx_sheet"]) or HTX.name
        yield (
            file_id,
            Finding(
                rule=meta.get("rule", config.type),
                severity=meta.get("severity", ERROR),
                message=sheets_named(message, sheet, str(htx_sheet)),
                sheet=sheet,
                excel_row=excel_row,
                column_name=header,
                value=None if value is None else _shown(value, given, money)[:500],
                cell=None if index is None or excel_row is None else cell_address(index, excel_row),
            ),
            causes,
        )


def _causes(text: object) -> tuple[Cause, ...]:
    """A check row's `causes` JSON as `Cause`s, best first."""
    if not isinstance(text, str) or not text:
        return ()
    return tuple(
        Cause(
            int(item["file_id"]),
            item.get("sheet"),
            None if item.get("excel_row") is None else int(item["excel_row"]),
        )
        for item in json.loads(text)
        if item.get("file_id") is not None
    )


# A date as the clerk writes it (rule 7: dd/mm/yyyy), to the precision the cell gave (rule 18).
_DATE_FORMATS = {DAY: "%d/%m/%Y", MONTH: "%m/%Y", YEAR: "%Y"}
# Money is staged in million VND whatever unit the cell gave (`-45.000.000 đ` is -45): a
# failing money value says its unit, so the clerk does not read -45 đồng.
_MONEY = {(s.key, c.key) for s in DATA_SHEETS for c in s.columns if c.kind == "money"}
MONEY_UNIT = "triệu đồng"


def _text(value: object, given: object = None) -> str:
    """A failing cell's value as the clerk reads it, the same whatever files share the batch:
    a column of whole numbers is float in one batch and integer in another, so a whole
    number never shows `.0`; any other number has a decimal comma (`79,5`, not `79.5`, a
    Vietnamese reader's 795); a date shows as the clerk wrote it, `15/03/2030` or `03/2025`,
    not `2030-03-15`."""
    if isinstance(value, dt.date):  # a pandas Timestamp too
        return value.strftime(_DATE_FORMATS.get(cast(str, given), _DATE_FORMATS[DAY]))
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float) and math.isfinite(value):
        return _vietnamese(value)
    return str(value)


def _shown(value: object, given: object, money: bool) -> str:
    """`_text`, with the unit of a money column's number (its unreadable text stays as
    written). A money number is written as a Vietnamese reader reads it (`_vietnamese`):
    staged in million VND, it is often a part of a million, which Python would write
    `-1.234567` (read as -1,234,567 million) or `-5e-06`."""
    if money and not isinstance(value, str | bool):
        number = value.item() if hasattr(value, "item") else value
        if isinstance(number, int | float) and math.isfinite(number):
            return f"{_vietnamese(number)} {MONEY_UNIT}"
        return f"{_text(value, given)} {MONEY_UNIT}"
    return _text(value, given)


def _vietnamese(number: float) -> str:
    """A number with thousands dots and a decimal comma, never in exponent notation, as
    short as its value allows: -1.234567 -> `-1,234567`, 12345.6 -> `12.345,6`, -5e-06 ->
    `-0,000005`."""
    text = format(Decimal(repr(float(number))), "f")
    whole, _, part = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    grouped = f"{int(whole.lstrip('-')):,}".replace(",", ".")
    part = part.rstrip("0")
    return f"{sign}{grouped},{part}" if part else f"{sign}{grouped}"


def _isna(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
