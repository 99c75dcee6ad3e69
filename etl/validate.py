"""Runs the GX suites of `expectations/` over a batch's sheet frames and returns findings.

Every rule of the workbook spec is an expectation in a JSON suite, with its severity and
its Vietnamese and English message in `meta`. This module only loads the suites, runs
them once per sheet for the whole batch, and maps each unexpected row back to its file,
sheet, Excel row, column and value.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path

import pandas as pd

from etl.config import EXPECTATIONS_DIR
from etl.findings import ERROR, Finding, bilingual
from etl.frames import ReadFile, build_frames, known_communes
from etl.layout import DATA_SHEETS
from etl.reference import Reference

log = logging.getLogger(__name__)


def load_suite_documents(directory: Path = EXPECTATIONS_DIR) -> dict[str, dict]:
    """The suites as data: sheet key -> the JSON document."""
    return {
        sheet.key: json.loads((directory / f"{sheet.key}.json").read_text(encoding="utf-8"))
        for sheet in DATA_SHEETS
    }


@cache
def _gx():
    """An ephemeral GX context with one pandas datasource per sheet (built once a process)."""
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("htx_workbooks")
    suites, batches = {}, {}
    for key, document in load_suite_documents().items():
        # The constructor keeps every expectation; add_expectation_configuration would upsert
        # by domain and silently drop a second rule on the same column.
        suites[key] = ExpectationSuite(
            name=document["name"],
            meta=document.get("meta", {}),
            expectations=[ExpectationConfiguration(**item) for item in document["expectations"]],
        )
        batches[key] = source.add_dataframe_asset(key).add_batch_definition_whole_dataframe(key)
    return suites, batches


def validate_batch(files: list[ReadFile], ref: Reference) -> dict[str, list[Finding]]:
    """Findings per file_id: every failing cell of every rule, errors and warnings."""
    frames = build_frames(files)
    parameters = {
        "htx_coops": sorted(set(frames["htx"]["file_coop"].dropna())),
        "known_communes": known_communes(files, ref),
    }
    findings: dict[str, list[Finding]] = {f.file_id: [] for f in files}
    suites, batches = _gx()
    for sheet in DATA_SHEETS:
        frame = frames[sheet.key]
        if frame.empty:
            continue
        batch = batches[sheet.key].get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(
            suites[sheet.key],
            expectation_parameters=parameters,
            result_format={"result_format": "COMPLETE", "return_unexpected_index_query": False},
        )
        for outcome in result.results:
            if outcome.success:
                continue
            for file_id, finding in _findings(outcome, frame, sheet):
                findings[file_id].append(finding)
    return findings


def _findings(outcome, frame: pd.DataFrame, sheet) -> list[tuple[str, Finding]]:
    config = outcome.expectation_config
    meta = config.meta or {}
    kwargs = config.kwargs
    column_key = meta.get("report_column") or kwargs.get("column") or kwargs.get("column_A")
    severity = meta.get("severity", ERROR)
    message = bilingual(meta.get("message_vi", config.type), meta.get("message_en", config.type))
    if outcome.exception_info and outcome.exception_info.get("raised_exception"):
        # A suite that cannot run is a defect of the project, not of the file.
        raise RuntimeError(
            f"GX expectation {config.type} on {sheet.key} failed to run: "
            f"{outcome.exception_info.get('exception_message')}"
        )
    header = next((c.header for c in sheet.columns if c.key == column_key), column_key)
    raw_column = f"{column_key}__unparsed"
    out = []
    for index in outcome.result.get("unexpected_index_list") or []:
        row = frame.iloc[int(index)]
        value = row.get(raw_column) if raw_column in frame.columns else None
        if value is None or pd.isna(value):
            value = row.get(column_key) if column_key in frame.columns else None
        out.append(
            (
                row["file_id"],
                Finding(
                    rule=meta.get("rule", config.type),
                    severity=severity,
                    message=message,
                    sheet=row["sheet_name"],
                    excel_row=int(row["excel_row"]),
                    column_name=header,
                    value=None if value is None or _isna(value) else str(value)[:500],
                ),
            )
        )
    return out


def _isna(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
