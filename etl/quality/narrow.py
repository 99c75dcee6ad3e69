"""The rows of a frame that a suite can find unexpected, read from the suite's own
expectations, so that GX validates those rows alone and a frame no row of which can fail is
not validated at all (GX's framework costs about 9 ms per expectation and call whatever the
rows: 0.6 s for the four sheet suites of one clean workbook).

Each expectation gives a superset of the rows it can find unexpected, computed by the same
pandas operations GX's pandas engine uses (`isin`, `str.contains` of the text, comparisons,
`duplicated`); a row outside every expectation's superset passes them all. Every expectation
here judges a row alone, except `expect_compound_columns_to_be_unique`, which judges the
rows that share a key: all of them are kept together (`duplicated(keep=False)`), so GX sees
each key's rows as in the whole frame. The findings are those of the whole frame, in the
same order: GX names rows by position in the frame it is given, and a finding reads its
file, row and value from the row itself (`etl.quality.validate._findings`).

Where in doubt, a row is kept: a null is kept where the expectation might judge it, a
`row_condition` other than a comparison of a column with a value is ignored (every row is
kept as if it held), a comparison pandas cannot make keeps every row, and an expectation of
another type or with other arguments (`mostly`, a date bound) keeps the whole frame
(`None`).
`tests/test_narrow.py` compares the findings of narrowed and whole frames on files breaking
every rule.

`can_fail` reads the same expectations as a SQL predicate, for the checks across files,
whose rows come from DuckDB (`etl.quality.validate._failing_rows`): the suites of those
checks are simpler (bounds and value sets), and a form it does not read keeps every row.
`tests/test_check_frames.py` compares its rows with those GX finds unexpected.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import cast

import numpy as np
import pandas as pd

# An expectation's kwargs read apart: a condition only ever removes rows from what GX
# judges, so the rows kept without it (or with a part of it) are a superset.
_CONDITION = {"row_condition", "condition_parser"}
_COMPARE = {
    "==": pd.Series.eq,
    "!=": pd.Series.ne,
    "<": pd.Series.lt,
    "<=": pd.Series.le,
    ">": pd.Series.gt,
    ">=": pd.Series.ge,
}


def rows_to_validate(frame: pd.DataFrame, document: dict) -> pd.DataFrame:
    """The rows of `frame` some expectation of the suite `document` can find unexpected,
    in frame order with their index; the whole frame when one cannot be read here."""
    if frame.empty:
        return frame
    keep = may_fail(frame, document)
    if keep is None:
        return frame
    return frame[keep]


def may_fail(frame: pd.DataFrame, document: dict) -> pd.Series | None:
    """True for each row some expectation of the suite can find unexpected; None when an
    expectation is not one read here (then every row is validated)."""
    keep = pd.Series(False, index=frame.index)
    for item in document["expectations"]:
        rule = _RULES.get(item["type"])
        kwargs = {k: v for k, v in item["kwargs"].items() if k not in _CONDITION}
        if rule is None or not set(kwargs) <= rule[0]:
            return None
        try:
            found = rule[1](frame, kwargs).fillna(True).astype(bool)
            found &= _held(frame, item["kwargs"].get("row_condition"))
        # A column missing, a comparison refused: pandas refuses some with an overflow (a bound
        # past int64) or NotImplementedError (a suite parameter, a dict), not a TypeError; a
        # pattern Python cannot compile is GX's to report.
        except (KeyError, TypeError, ValueError, ArithmeticError, NotImplementedError, re.error):
            return None
        keep |= found.to_numpy()
    return keep


def _held(frame: pd.DataFrame, condition: object) -> pd.Series:
    """The rows a `row_condition` can hold for: those a comparison of a column with a value
    (GX's `{'type': 'comparison', 'column': {'name': ...}, 'operator': ..., 'parameter':
    ...}`) is true or unknown for; every row for no condition, or another one."""
    everyone = pd.Series(True, index=frame.index)
    if not isinstance(condition, dict) or condition.get("type") != "comparison":
        return everyone
    column = condition.get("column")
    compare = _COMPARE.get(str(condition.get("operator")))
    if not isinstance(column, dict) or compare is None or "parameter" not in condition:
        return everyone
    values = frame[column["name"]]
    # A missing value: kept, whatever the comparison makes of it (pandas' text columns
    # compare it false, others unknown).
    return compare(values, condition["parameter"]).fillna(True).astype(bool) | values.isna()


def _known(column: pd.Series) -> pd.Series:
    """The cells a column map expectation judges: GX leaves nulls (and NaN) out."""
    return column.notna()


def _not_null(frame: pd.DataFrame, kwargs: dict) -> pd.Series:
    return frame[kwargs["column"]].isna()


def _null(frame: pd.DataFrame, kwargs: dict) -> pd.Series:
    return _known(frame[kwargs["column"]])


def _in_set(frame: pd.DataFrame, kwargs: dict) -> pd.Series:
    column = frame[kwargs["column"]]
    return _known(column) & ~column.isin(kwargs["value_set"]).fillna(False)


def _regex(frame: pd.DataFrame, kwargs: dict) -> pd.Series:
    column = frame[kwargs["column"]]
    matches = column.astype(str).str.contains(kwargs["regex"])
    return _known(column) & ~matches.fillna(False).astype(bool)


def _flag(kwargs: dict, name: str) -> bool:
    """A boolean kwarg as GX reads it: GX's pydantic model makes `"false"` False, which
    truthiness here would read as True (and drop a row GX finds): only a boolean is read."""
    value = kwargs.get(name)
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"{name} is not a boolean")  # every row kept
    return bool(value)


def _between(frame: pd.DataFrame, kwargs: dict) -> pd.Series:
    column = frame[kwargs["column"]]
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is None and high is None:
        raise ValueError("no bound")  # GX refuses it too
    if any(isinstance(b, bool | str) for b in (low, high)):
        raise TypeError("a date or a text bound")  # not compared here: every row kept
    # GX's own comparisons (`ColumnValuesBetween._pandas_vectorized`).
    inside = pd.Series(True, index=frame.index)
    if low is not None:
        above = column > low if _flag(kwargs, "strict_min") else column >= low
        inside &= above.fillna(False).astype(bool)
    if high is not None:
        below = column < high if _flag(kwargs, "strict_max") else column <= high
        inside &= below.fillna(False).astype(bool)
    return _known(column) & ~inside


def _pair(frame: pd.DataFrame, kwargs: dict) -> tuple[pd.Series, pd.Series]:
    """The two columns of a pair expectation. An object column against one that is not a
    NumPy column (Arrow-backed numbers, pandas' text) is refused (every row kept): pyarrow
    types the object column from all its values, so a row's comparison there depends on
    the other rows of the frame."""
    a, b = frame[kwargs["column_A"]], frame[kwargs["column_B"]]
    dtypes = (a.dtype, b.dtype)
    if object in dtypes and not all(isinstance(d, np.dtype) for d in dtypes):
        raise TypeError("an object column compared with an extension column")
    return a, b


def _pair_equal(frame: pd.DataFrame, kwargs: dict) -> pd.Series:
    a, b = _pair(frame, kwargs)
    return ~(a == b).fillna(False).astype(bool)  # a missing value: kept


def _pair_greater(frame: pd.DataFrame, kwargs: dict) -> pd.Series:
    a, b = _pair(frame, kwargs)
    passes = a >= b if _flag(kwargs, "or_equal") else a > b
    return ~passes.fillna(False).astype(bool)  # a missing value: kept


def _unique(frame: pd.DataFrame, kwargs: dict) -> pd.Series:
    # Every row of a key found twice, missing values included: GX judges them together.
    return frame[list(kwargs["column_list"])].duplicated(keep=False)


# Expectation type -> (the kwargs read here, the rows it can find unexpected).
_RULES: dict[str, tuple[set[str], Callable[[pd.DataFrame, dict], pd.Series]]] = {
    "expect_column_values_to_not_be_null": ({"column"}, _not_null),
    "expect_column_values_to_be_null": ({"column"}, _null),
    "expect_column_values_to_be_in_set": ({"column", "value_set"}, _in_set),
    "expect_column_values_to_match_regex": ({"column", "regex"}, _regex),
    "expect_column_values_to_be_between": (
        {"column", "min_value", "max_value", "strict_min", "strict_max"},
        _between,
    ),
    "expect_column_pair_values_to_be_equal": (
        {"column_A", "column_B", "ignore_row_if"},
        _pair_equal,
    ),
    "expect_column_pair_values_a_to_be_greater_than_b": (
        {"column_A", "column_B", "ignore_row_if", "or_equal"},
        _pair_greater,
    ),
    "expect_compound_columns_to_be_unique": ({"column_list", "ignore_row_if"}, _unique),
}


def can_fail(document: dict) -> str | None:
    """A SQL predicate true for the rows some expectation of the suite can find unexpected,
    read from its kwargs; None when one is of a type or form not read here. A null is no
    failure: GX's column map expectations leave nulls out (and NaN, pandas' null)."""
    terms = []
    for item in document["expectations"]:
        kwargs = item["kwargs"]
        column = '"' + str(kwargs.get("column", "")).replace('"', '""') + '"'
        known = "not isnan(" + column + "::double)"
        if item["type"] == "expect_column_values_to_be_between" and set(kwargs) <= {
            "column",
            "min_value",
            "max_value",
        }:
            bounds = [kwargs.get(b) for b in ("min_value", "max_value")]
            if any(isinstance(b, bool | str) for b in bounds):
                return None  # a date or a text bound: not compared here, every row kept
            outside = [
                f"{column} {op} {_literal(kwargs[bound])}::double"
                for bound, op in (("min_value", "<"), ("max_value", ">"))
                if kwargs.get(bound) is not None
            ]
            if not outside:
                continue  # no bound: nothing can fail
            terms.append(f"({column} is not null and {known} and ({' or '.join(outside)}))")
        elif item["type"] == "expect_column_values_to_be_in_set" and set(kwargs) == {
            "column",
            "value_set",
        }:
            values = [_literal(v) for v in kwargs["value_set"]]
            if any(v is None for v in values):
                return None
            allowed = f"{column} in ({', '.join(cast(list[str], values))})" if values else "false"
            terms.append(f"({column} is not null and not ({allowed}))")
        else:
            return None
    return " or ".join(terms) if terms else "false"


def _literal(value: object) -> str | None:
    """A suite's kwarg value as a SQL literal: a boolean, a number or a text; else None."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return None
