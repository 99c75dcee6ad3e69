"""What the checks across files hand to GX: only the rows their suite can find unexpected
(`narrow.can_fail`, read from the suite's own expectations), and that selection agrees with
GX on every warehouse suite, nulls, NaN, infinities and the bounds themselves included."""

from __future__ import annotations

import math

import duckdb
import pandas as pd
import pytest
from conftest import HTX_HEADER, htx_row, info_rows, run_steps, write_xlsx

import etl.quality.validate as validate
from etl.quality import narrow


def _workbook(settings, name, unit, year, coops) -> None:
    rows = [HTX_HEADER] + [htx_row(i, code, **v) for i, (code, v) in enumerate(coops, 1)]
    write_xlsx(settings.landing_dir / name, {"ThongTin": info_rows(unit, year), "HTX": rows})


def test_gx_is_handed_only_the_check_rows_their_suite_can_fail(settings, monkeypatch):
    handed: dict[str, pd.DataFrame] = {}
    run_all = validate._run_all

    def recording(items):
        handed.update({key: frame for key, frame, _, _ in items if key.startswith("warehouse/")})
        return run_all(items)

    monkeypatch.setattr(validate, "_run_all", recording)
    _workbook(settings, "663_2023.xlsx", "663", 2023, [("6400000001", {}), ("6400000002", {})])
    _workbook(settings, "664_2023.xlsx", "664", 2023, [("6400000001", {"Xã/Phường": "Nâm Nung"})])
    run_steps(settings)
    two_units = handed["warehouse/coop_code_in_two_units"]
    # 6400000002, reported by 663 alone, cannot fail: it is neither built nor validated.
    assert sorted(two_units["value"]) == ["6400000001 (663, 664; tính/counted: 663)"] * 2


def _values(item: dict) -> list[object]:
    """Values around an expectation's rule: nulls, NaN, infinities, its bounds and beyond."""
    kwargs = item["kwargs"]
    if item["type"] == "expect_column_values_to_be_in_set":
        return [True, False, None]
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    values: list[object] = [None, math.nan, -math.inf, math.inf, 0.0, -1.0]
    for bound in (low, high):
        if bound is not None:
            b = float(bound)
            values += [b, math.nextafter(b, -math.inf), math.nextafter(b, math.inf)]
    return values


@pytest.mark.parametrize("check", validate.WAREHOUSE_CHECKS)
def test_can_fail_selects_the_rows_gx_finds_unexpected(check):
    document = validate.load_suite_documents()[f"warehouse/{check}"]
    columns = [item["kwargs"]["column"] for item in document["expectations"]]
    rows = []
    for item in document["expectations"]:
        for value in _values(item):
            row = dict.fromkeys(columns)  # the other rules' columns null: no failure there
            row[item["kwargs"]["column"]] = value
            rows.append(row)
    frame = pd.DataFrame(rows)
    frame.insert(0, "excel_row", range(1, len(frame) + 1))
    frame.insert(0, "sheet_name", "HTX")
    frame.insert(0, "file_id", 1)
    where = narrow.can_fail(document)
    assert where is not None, f"{check}: its suite's rule is read for the selection"
    selected = {r for (r,) in duckdb.sql(f"select excel_row from frame where {where}").fetchall()}
    found = {finding.excel_row for _, finding, _ in validate._run(f"warehouse/{check}", frame, {})}
    assert found, f"{check}: some value breaks the rule"
    assert selected == found
    # Narrowed again before GX (`etl.quality.narrow`): every row GX finds is kept.
    kept = set(narrow.rows_to_validate(frame, document)["excel_row"])
    assert found <= kept


def test_a_suite_bounding_a_date_or_a_text_keeps_every_row():
    """`can_fail` compares numbers only: a bound written as a date or a text would make the
    check's query fail to run, so such a suite hands GX every row, as one it cannot read."""
    from etl.quality.narrow import can_fail

    for bound in ("2021-01-01", True):
        suite = {
            "expectations": [
                {
                    "type": "expect_column_values_to_be_between",
                    "kwargs": {"column": "founded_on", "min_value": bound},
                }
            ]
        }
        assert can_fail(suite) is None
