"""Turns read workbooks into one DataFrame per sheet: typed values, provenance, derived columns.

A batch of many files becomes one frame per sheet with a `file_id` column, so the GX suites
run once per batch, and the same frames are what staging writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from etl.contract.layout import DATA_SHEETS, Sheet
from etl.contract.reference import Reference
from etl.read.cells import OCOP_VALID_MONTHS
from etl.read.identify import Identity
from etl.read.reader import PARSED_KINDS, precision, unparsed
from etl.read.workbook import WorkbookRead
from etl.text import match_key, strip_unit_prefix

PROVENANCE = ("file_id", "unit_code", "report_year", "sheet_name", "excel_row")


@dataclass(frozen=True)
class ReadFile:
    """A workbook that was read and identified: what validation and staging work on."""

    file_id: int
    identity: Identity
    read: WorkbookRead


def frame_columns(sheet: Sheet) -> list[str]:
    columns = list(PROVENANCE)
    for column in sheet.columns:
        columns.append(column.key)
        if column.kind in PARSED_KINDS:
            columns.append(unparsed(column.key))
        if column.kind == "date":  # day, month or year: how much of the date the cell gave
            columns.append(precision(column.key))
    return columns + list(DERIVED[sheet.key])


DERIVED = {
    "htx": ("file_coop", "founded_year", "commune_key", "unit_commune"),
    "hotro": ("file_coop",),
    "ocop": ("file_coop", "valid_until", "report_year_start"),
    "lienket": ("file_coop",),
}


def build_frames(files: list[ReadFile]) -> dict[str, pd.DataFrame]:
    """One frame per data sheet over all files, indexed 0..n-1.

    Built as `DataFrame.from_records` of each row's record (provenance, the row's values,
    the derived columns) would build it: pandas infers each column's type from that
    column's values alone, so the rows' own dicts are read as they are, and the provenance
    and derived columns, made a column at a time, are inferred the same way on their own.
    """
    frames = {}
    for sheet in DATA_SHEETS:
        columns = frame_columns(sheet)
        derived = DERIVED[sheet.key]
        own = columns[len(_BASE) : len(columns) - len(derived)]  # `excel_row` and the values
        rows: list[dict] = []
        base: list[list] = [[] for _ in _BASE]
        for item in files:
            sheet_rows = item.read.sheets.get(sheet.key)
            if sheet_rows is None or not sheet_rows.rows:
                continue
            n = len(sheet_rows.rows)
            rows.extend(sheet_rows.rows)
            for values, value in zip(
                base,
                (
                    item.file_id,
                    item.identity.unit.code,
                    item.identity.report_year,
                    sheet_rows.sheet_name,
                ),
                strict=True,
            ):
                values.extend([value] * n)
        if not rows:
            frame = pd.DataFrame.from_records([], columns=columns)
            frames[sheet.key] = frame.reset_index(drop=True)
            continue
        made = _derived(sheet.key, rows, base)
        # Put side by side in the frame's order (given, own, derived): no copy to reorder.
        parts = [
            pd.DataFrame.from_records(list(zip(*base, strict=True)), columns=_BASE),
            pd.DataFrame.from_records(rows, columns=own),
            pd.DataFrame.from_records(list(zip(*made, strict=True)), columns=derived),
        ]
        frames[sheet.key] = pd.concat(parts, axis=1)
    return frames


_BASE = PROVENANCE[:4]  # the provenance a file gives its rows; `excel_row` is the row's own


def _derived(sheet_key: str, rows: list[dict], base: list[list]) -> list[list]:
    """The derived columns of `DERIVED[sheet_key]`, in order, a list of values each."""
    file_ids, units, years = base[0], base[1], base[2]
    codes = [row.get("coop_code") for row in rows]
    out: list[list] = [
        [f"{fid}|{code}" if code else None for fid, code in zip(file_ids, codes, strict=True)]
    ]
    if sheet_key == "htx":
        founded = [row.get("founded_on") for row in rows]
        out.append([day.year if day else None for day in founded])
        # `Xã Đắk Gằn` and `Đắk Gằn` are one commune: the key leaves the unit prefix out.
        keys = [match_key(strip_unit_prefix(row.get("commune_name") or "")) for row in rows]
        out.append([key or None for key in keys])
        out.append(
            [f"{unit}|{key}" if key else None for unit, key in zip(units, keys, strict=True)]
        )
    elif sheet_key == "ocop":
        # A certificate of OCOP is valid `OCOP_VALID_MONTHS` from its decision date: from the
        # first day of its month (or year) when the cell gave no day (rule 18), as stored.
        decided = [row.get("decision_date") for row in rows]
        out.append([add_months(day, OCOP_VALID_MONTHS) if day else None for day in decided])
        out.append([dt.date(year, 1, 1) for year in years])
    return out


def concat_frames(parts: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """The frames of several `build_frames` calls, in order, as one call over all their
    files would make them (indexed 0..n-1). A column whose type differs between parts (all
    empty in one, numbers in another) is inferred again from all its values, as
    `build_frames` infers it from the records."""
    if len(parts) == 1:
        return parts[0]
    out = {}
    for sheet in DATA_SHEETS:
        # Empty parts left out: their columns' types are no types (pandas 3 would keep them).
        frames = [part[sheet.key] for part in parts if len(part[sheet.key])]
        if len(frames) < 2:
            out[sheet.key] = (frames or [parts[0][sheet.key]])[0].reset_index(drop=True)
            continue
        frame = pd.concat(frames, ignore_index=True)
        for column in frame.columns:
            if len({str(f[column].dtype) for f in frames}) > 1:
                values = [v for f in frames for v in f[column].astype(object).tolist()]
                frame[column] = pd.Series(
                    [None if _missing(v) else v for v in values], index=frame.index
                )
        out[sheet.key] = frame
    return out


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def commune_known(frame: pd.DataFrame, ref: Reference) -> pd.Series:
    """`commune_known` of the HTX frame: whether each row's `Xã/Phường` names a commune its
    unit may name in its report year, by the workbook contract's comparison
    (`etl.contract.communes.is_known`: former communes up to 2024, new ones from 2026,
    either in 2025; tone marks, prefix, apostrophes and spaces do not count, the letters
    do; a plain-letter name only with exactly one candidate; a 5-digit code). Empty where
    the row names no commune. Set-based: one lookup per distinct (unit, year, name)."""
    from etl.contract.communes import is_known

    result = pd.Series(pd.NA, index=frame.index, dtype="boolean")
    named = frame["commune_name"].notna() & frame["commune_name"].astype("string").str.strip().ne(
        ""
    )
    if not named.any():
        return result
    # One lookup per distinct (unit, year, name), over plain lists: no frame per row.
    rows = zip(
        frame["unit_code"][named].tolist(),
        frame["report_year"][named].tolist(),
        frame["commune_name"][named].tolist(),
        strict=True,
    )
    known: dict[tuple, bool] = {}
    values = []
    for unit, year, name in rows:
        key = (unit, int(year), name)
        hit = known.get(key)
        if hit is None:
            hit = known[key] = is_known(ref, str(unit), int(year), name)
        values.append(hit)
    result[named] = values
    return result
