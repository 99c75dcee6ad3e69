"""Narrowing a frame to the rows its suite can find unexpected (`etl.quality.narrow`) gives
every finding GX gives on the whole frame, in order, and skips GX for a clean workbook."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from conftest import (
    HTX_HEADER,
    LINK_HEADER,
    OCOP_HEADER,
    SUPPORT_HEADER,
    htx_row,
    info_rows,
    write_xlsx,
)

from etl.quality import narrow, validate
from etl.quality.narrow import may_fail, rows_to_validate
from etl.read.discover import LandedFile, file_id_for, sha256_of
from etl.warehouse.staging import read_outcome, stage_batch


def _stage(folder, workbooks: dict[str, dict]) -> list[dict]:
    landed = []
    for name, sheets in workbooks.items():
        path = write_xlsx(folder / "landing" / name, sheets)
        sha = sha256_of(path)
        landed.append(LandedFile(file_id_for(sha, name), name, sha, path.stat().st_size, str(path)))
    staging = folder / "staging"
    summaries = stage_batch(landed, staging, "test-run")
    return [read_outcome(staging, s["file_id"]) for s in summaries]


def _breaking_every_rule() -> dict:
    """A workbook whose rows break each kind of expectation the sheet suites hold, with
    values at the bounds (which pass or fail by strictness) beside them."""
    rows = [
        HTX_HEADER,
        htx_row(1, "6400000001"),
        htx_row(2, "6400000001"),  # a code twice: compound unique
        htx_row(3, "12345"),  # regex
        htx_row(4, "6400000004", **{"Xếp loại": "Tốt", "Điểm": 55}),  # a row condition
        htx_row(5, "6400000005", **{"Xếp loại": "Khá", "Điểm": 80}),  # strict max, at it
        htx_row(6, "6400000006", **{"Xếp loại": "Khá", "Điểm": 65}),  # min, at it: passes
        htx_row(7, "6400000007", **{"Xếp loại": "Yếu", "Điểm": 0}),
        htx_row(8, "6400000008", **{"Số lao động": -3, "Số thành viên": 2}),  # between
        htx_row(9, "6400000009", **{"Số thành viên": 5}),  # at the warning's bound: passes
        htx_row(10, "6400000010", **{"Ngày thành lập": dt.date(2024, 5, 1)}),  # a > b
        htx_row(11, "6400000011", **{"Doanh thu": "nhiều"}),  # unreadable: not null
        htx_row(12, "6400000012", **{"Lĩnh vực": "Du lịch", "Xếp loại": "Rất tốt"}),  # sets
        htx_row(13, "6400000013", **{"Xã/Phường": "Xã Không Có"}),  # a lookup
        htx_row(14, None),
    ]
    support = [
        SUPPORT_HEADER,
        ["6400000001", "NTM", "Máy sấy", "Tỉnh", 100, 2023],
        ["6499999999", "NTM", "Kho", "Tỉnh", 50, 2023],
        ["6400000004", "XYZ", "Kho", "Nguồn lạ", 0, 2022],  # set, strict min, pair equal
    ]
    ocop = [
        OCOP_HEADER,
        ["6400000001", "Cà phê", "Đồ uống", 6, "1/QĐ", dt.date(2022, 1, 1)],
        ["6400000004", "Tiêu", "Thực phẩm", 3, "2/QĐ", dt.date(2019, 1, 1)],
        ["6400000005", "Mật ong", "Thực phẩm", 5, "3/QĐ", dt.date(2026, 1, 1)],
    ]
    links = [
        LINK_HEADER,
        ["6400000001", "Công ty A", "Cà phê", -5, 100, "2023"],
        ["6499999999", "Công ty B", "Tiêu", 10, -1, "2023"],
    ]
    return {"ThongTin": info_rows(), "HTX": rows, "HoTro": support, "OCOP": ocop, "LienKet": links}


def _clean(year: int) -> dict:
    rows = [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "6400000002")]
    return {"ThongTin": info_rows(year=year), "HTX": rows}


def test_narrowed_frames_give_every_finding_of_the_whole_frames_in_order(tmp_path, monkeypatch):
    workbooks = {
        "663_2021.xlsx": _clean(2021),
        "663_2023.xlsx": _breaking_every_rule(),
        "663_2022.xlsx": _clean(2022),
    }
    narrowed = _stage(tmp_path / "narrowed", workbooks)
    monkeypatch.setattr(narrow, "rows_to_validate", lambda frame, document: frame)
    whole = _stage(tmp_path / "whole", workbooks)
    assert [o["status"] for o in narrowed] == ["valid", "quarantined", "valid"]
    rules = {f["rule"] for f in narrowed[1]["findings"]}
    assert rules >= {
        "coop_code_unique",
        "coop_code_format",
        "rating_matches_score",
        "workers_not_negative",
        "members_at_least_5",
        "founded_not_after_report_year",
        "revenue_mvnd_readable",
        "sector_known",
        "program_known",
        "amount_positive",
        "stars_3_to_5",
        "rating_known",
        "commune_known",
        "coop_in_htx_sheet",
        "support_year_is_report_year",
        "funding_source_known",
        "certificate_valid_in_report_year",
        "contract_value_mvnd_not_negative",
    }, rules
    assert len(narrowed[1]["findings"]) >= 15
    for mine, theirs in zip(narrowed, whole, strict=True):
        assert mine["findings"] == theirs["findings"]
        assert mine["status"] == theirs["status"]


def test_a_clean_workbook_is_not_handed_to_gx(tmp_path, monkeypatch):
    called = []
    run = validate._run

    def spy(key, frame, *args):
        called.append((key, len(frame)))
        return run(key, frame, *args)

    monkeypatch.setattr(validate, "_run", spy)
    [outcome] = _stage(tmp_path, {"663_2023.xlsx": _clean(2023)})
    assert outcome["status"] == "valid"
    assert outcome["findings"] == []
    assert outcome["rows_read"] == 2
    assert called == []
    # A broken one is: only its rows that can fail.
    [broken] = _stage(tmp_path / "broken", {"663_2023.xlsx": _breaking_every_rule()})
    assert broken["status"] == "quarantined"
    htx = dict(called)["htx"]
    assert 0 < htx < 14


def _suite(*expectations: tuple[str, dict]) -> dict:
    return {"expectations": [{"type": t, "kwargs": k} for t, k in expectations]}


def test_a_value_at_a_bound_is_kept_only_where_the_bound_is_strict():
    frame = pd.DataFrame({"score": [50, 65, 80, None, 70]})
    strict = _suite(
        (
            "expect_column_values_to_be_between",
            {"column": "score", "min_value": 65, "max_value": 80, "strict_max": True},
        )
    )
    assert may_fail(frame, strict).tolist() == [True, False, True, False, False]
    loose = _suite(
        (
            "expect_column_values_to_be_between",
            {"column": "score", "min_value": 65, "max_value": 80, "strict_min": True},
        )
    )
    assert may_fail(frame, loose).tolist() == [True, True, False, False, False]


def test_a_row_condition_narrows_only_when_it_is_a_comparison_read_here():
    frame = pd.DataFrame({"score": [55, 55, 55], "rating": ["Tốt", "Khá", None]})
    between = {"column": "score", "min_value": 80, "max_value": 100}
    compared = {
        "type": "comparison",
        "column": {"name": "rating"},
        "operator": "==",
        "parameter": "Tốt",
    }
    suite = _suite(("expect_column_values_to_be_between", {**between, "row_condition": compared}))
    # Khá cannot hold the condition; an empty rating is kept (unknown).
    assert may_fail(frame, suite).tolist() == [True, False, True]
    other = {"type": "and", "conditions": [compared]}
    suite = _suite(("expect_column_values_to_be_between", {**between, "row_condition": other}))
    assert may_fail(frame, suite).tolist() == [True, True, True]


def test_every_row_of_a_key_found_twice_is_kept_together():
    frame = pd.DataFrame({"file_id": [1, 1, 1, 2], "coop_code": ["a", "b", "a", "a"]})
    suite = _suite(
        (
            "expect_compound_columns_to_be_unique",
            {"column_list": ["file_id", "coop_code"], "ignore_row_if": "any_value_is_missing"},
        )
    )
    assert may_fail(frame, suite).tolist() == [True, False, True, False]


@pytest.mark.parametrize(
    "expectation",
    [
        ("expect_column_values_to_be_unique", {"column": "n"}),  # a type not read here
        ("expect_column_values_to_be_between", {"column": "n", "min_value": 0, "mostly": 0.9}),
        ("expect_column_values_to_be_between", {"column": "n", "min_value": "2021-01-01"}),
        ("expect_column_values_to_be_between", {"column": "text", "min_value": 0}),  # refused
        ("expect_column_values_to_not_be_null", {"column": "absent"}),
    ],
)
def test_what_is_not_read_here_keeps_the_whole_frame(expectation):
    frame = pd.DataFrame({"n": [1, 2], "text": pd.Series(["a", "b"], dtype=object)})
    assert may_fail(frame, _suite(expectation)) is None
    assert rows_to_validate(frame, _suite(expectation)) is frame


def test_nulls_are_kept_only_where_the_expectation_judges_them():
    frame = pd.DataFrame({"code": ["6400000001", None, "x"], "known": [True, None, False]})
    assert may_fail(
        frame, _suite(("expect_column_values_to_not_be_null", {"column": "code"}))
    ).tolist() == [False, True, False]
    assert may_fail(
        frame,
        _suite(("expect_column_values_to_match_regex", {"column": "code", "regex": r"^\d{10}$"})),
    ).tolist() == [False, False, True]
    assert may_fail(
        frame,
        _suite(("expect_column_values_to_be_in_set", {"column": "known", "value_set": [True]})),
    ).tolist() == [False, False, True]


@pytest.mark.parametrize(
    "expectation",
    [
        # GX reads the flag as a boolean ("false" is False): a > b, so a == b fails there.
        (
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "n", "column_B": "m", "or_equal": "false"},
        ),
        ("expect_column_values_to_be_between", {"column": "n", "min_value": 1, "strict_min": "no"}),
        # pandas refuses these other than with a TypeError: an overflow, a suite parameter.
        ("expect_column_values_to_be_between", {"column": "flag", "min_value": 10**30}),
        (
            "expect_column_values_to_be_between",
            {"column": "text", "min_value": {"$PARAMETER": "x"}},
        ),
    ],
)
def test_a_flag_or_bound_not_read_here_keeps_the_whole_frame(expectation):
    frame = pd.DataFrame(
        {
            "n": [1, 2],
            "m": [1, 1],
            "flag": [True, False],
            "text": pd.Series(["a", "b"], dtype="str"),
        }
    )
    assert may_fail(frame, _suite(expectation)) is None


@pytest.mark.parametrize("dtype", ["int64[pyarrow]", "str"])
def test_an_extension_column_paired_with_an_object_column_keeps_the_whole_frame(dtype):
    """pyarrow types the object column from all its values: whether a row passes would
    depend on the rows beside it, so nothing is narrowed."""
    values = [1, None, 3, 0, 5] if dtype != "str" else ["1", None, "3", "0", "5"]
    frame = pd.DataFrame(
        {
            "a": pd.Series(values, dtype=dtype),
            "b": pd.Series([1, None, 2.5, True, float("nan")], dtype=object),
        }
    )
    pair = {"column_A": "a", "column_B": "b", "ignore_row_if": "either_value_is_missing"}
    for kind in (
        "expect_column_pair_values_to_be_equal",
        "expect_column_pair_values_a_to_be_greater_than_b",
    ):
        assert may_fail(frame, _suite((kind, pair))) is None


def test_the_staging_stamp_covers_the_narrowing():
    """Which rows GX judges decides a file's findings: a release that changes it stages the
    recorded files again (`etl.warehouse.stamp`)."""
    from etl.warehouse.stamp import stamp_sources

    assert "etl/quality/narrow.py" in dict(stamp_sources())


_STAGE_ONE = """
import sys
from pathlib import Path
from etl.read.discover import LandedFile, file_id_for, sha256_of
from etl.warehouse.staging import read_outcome, stage_batch

path = Path(sys.argv[1])
sha = sha256_of(path)
landed = LandedFile(file_id_for(sha), path.name, sha, path.stat().st_size, str(path))
[summary] = stage_batch([landed], Path(sys.argv[2]), "run", processes=2)
print(read_outcome(Path(sys.argv[2]), summary["file_id"])["status"])
print("great_expectations" in sys.modules)
"""


@pytest.mark.parametrize(("sheets", "expected"), [(_clean(2023), "valid"), (None, "quarantined")])
def test_gx_is_imported_only_for_a_workbook_with_a_row_to_validate(tmp_path, sheets, expected):
    """A stage task of a scheduler's worker (no warm validator) staging one clean workbook
    never imports GX (seconds); one breaking a rule does."""
    import subprocess
    import sys

    from etl.config import PROJECT_ROOT

    path = write_xlsx(tmp_path / "663_2023.xlsx", sheets or _breaking_every_rule())
    done = subprocess.run(
        [sys.executable, "-c", _STAGE_ONE, str(path), str(tmp_path / "staging")],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == [expected, str(sheets is None)]
