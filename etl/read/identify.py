"""Which unit and year a workbook reports on: the ThongTin sheet first, else the file name."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from etl.contract.findings import ERROR, Finding, reason
from etl.contract.layout import FIRST_YEAR, LAST_YEAR
from etl.contract.reference import Reference, Unit
from etl.read import cells
from etl.text import clean, slug, unquoted

# The district level was abolished on 01/07/2025: no district reports for a later year.
DISTRICTS_ABOLISHED_AFTER = 2025

_FILE_NAME = re.compile(r"^(?P<unit>.+?)_(?P<year>\d{4})(?:_.*)?$")


@dataclass(frozen=True)
class Identity:
    unit: Unit
    report_year: int
    prepared_on: dt.date | None
    source: str  # "ThongTin" or "file name"


def _unit_from_code(raw: object, ref: Reference) -> Unit | None:
    if raw is None:
        return None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        # A unit code stored as a number lost its leading zeros: `1` is district `001`.
        for width in (3, 2):
            unit = ref.reporting_unit(cells.parse_unit_code(raw, width) or "")
            if unit is not None:
                return unit
        return None
    text = unquoted(raw).replace(" ", "")
    return ref.reporting_unit(text) if text.isdigit() else None


def _unit_from_name(text: str, ref: Reference) -> Unit | None:
    if text.isdigit():
        return ref.reporting_unit(text)
    found = ref.by_slug(slug(text))
    return found[0] if len(found) == 1 else None


def _year(raw: object) -> int | None:
    try:
        year = cells.parse_int(raw)
    except ValueError:
        return None
    return year if year is not None and FIRST_YEAR <= year <= LAST_YEAR else None


def report_year(info: dict[str, object], file_name: str | None) -> int | None:
    """The report year as `identify` decides it (ThongTin, else the file name), for the
    reader, which reads two-digit years against it; None when neither gives one."""
    year = _year(info.get("report_year"))
    if year is None and info.get("report_year") is None and file_name:
        from_name = _FILE_NAME.match(clean(file_name.rsplit(".", 1)[0]))
        if from_name:
            year = _year(from_name["year"])
    return year


def identify(info: dict[str, object], file_name: str, ref: Reference) -> Identity | Finding:
    """The file's unit and year, or the finding that rejects it."""
    stem = file_name.rsplit(".", 1)[0]
    from_name = _FILE_NAME.match(clean(stem))
    source = "ThongTin"

    unit = _unit_from_code(info.get("unit_code"), ref)
    if unit is None and info.get("unit_name") and info.get("unit_code") is None:
        unit = _unit_from_name(clean(info["unit_name"]), ref)
    if unit is None and info.get("unit_code") is None and from_name:
        unit, source = _unit_from_name(from_name["unit"], ref), "file name"
    if unit is None:
        shown = info.get("unit_code") or (from_name["unit"] if from_name else stem)
        return Finding(
            rule="unit_unknown",
            severity=ERROR,
            message=reason("unit_unknown", value=clean(shown)),
            sheet="ThongTin",
            column_name="Mã đơn vị",
            value=clean(shown),
        )

    year = _year(info.get("report_year"))
    if year is None and info.get("report_year") is None and from_name:
        year, source = _year(from_name["year"]), "file name"
    if year is None:
        shown = info.get("report_year") or (from_name["year"] if from_name else "")
        return Finding(
            rule="year_invalid",
            severity=ERROR,
            message=reason("year_invalid", value=clean(shown)),
            sheet="ThongTin",
            column_name="Năm báo cáo",
            value=clean(shown),
        )
    if unit.level == "district" and year > DISTRICTS_ABOLISHED_AFTER:
        return Finding(
            rule="unit_not_in_year",
            severity=ERROR,
            message=reason("unit_not_in_year", value=unit.full_name, year=year),
            sheet="ThongTin",
            column_name="Mã đơn vị",
            value=unit.code,
        )
    try:
        prepared_on = cells.parse_date(info.get("prepared_on"), year)
    except ValueError:
        prepared_on = None
    return Identity(unit=unit, report_year=year, prepared_on=prepared_on, source=source)
