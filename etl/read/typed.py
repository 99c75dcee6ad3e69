"""A sheet's cells typed a column at a time: the contract's cell rules (`cells`) over lists.

The reader hands each layout column's raw cells (as python-calamine returns them, blank
text already None) to `type_column` once per sheet. The rules stay those of `cells`, the
one place they are written; this module only decides how often they run:

- the cells calamine already typed take a fast path per kind (a float in a money column is
  `round(value * factor, 6)`, None is "not reported"), the same arithmetic `cells` does;
- text and every other cell run the rule once per distinct (type, value) and column
  setting, and a process-wide memo answers the repeats (communes, categories, sectors,
  yes/no marks, `-`, dates and numbers as text recur in every file);
- a cell that fails is reported by its position in the list: the reader gives the Excel
  address, the text and the finding for those cells only.

Rounding stays Python's `round`, correctly rounded: numpy's and Arrow's scaled rounding can
differ in the last bit, and the bar is the same typed value as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from etl.contract.layout import Column
from etl.read import cells

# Memo entries by column setting, then (type, value): (True, result) for a typed value,
# (False, unit) for a unit that does not fit its column (`UnitMismatch`), (False, None) for
# a cell the rule cannot read. A setting's memo is cleared whole past the limit, so a
# column of names never churns the memo of a column of categories.
_MEMO: dict[tuple, dict[tuple, tuple[bool, object]]] = {}
_MEMO_LIMIT = 100_000

_NUMERIC = frozenset({"int", "number", "money"})


@dataclass
class TypedColumn:
    values: list  # the typed value of every cell, None where it failed
    precisions: list | None = None  # date columns: day, month or year (None when blank)
    unparsed: dict[int, object] = field(default_factory=dict)  # position -> raw cell
    mismatched: dict[int, str] = field(default_factory=dict)  # position -> unit written


def _rule(column: Column, factor: float, report_year: int | None):
    """The cell rule of a column, as a function of the raw cell, and its memo key."""
    kind = column.kind
    if kind == "code":
        return cells.parse_code, ("code",)
    if kind == "text":
        return cells.parse_text, ("text",)
    if kind == "category":
        allowed = column.allowed
        return (lambda raw: cells.parse_category(raw, allowed)), ("category", allowed)
    if kind == "program":
        return cells.parse_program, ("program",)
    if kind == "int":
        units = column.units
        return (lambda raw: cells.parse_quantity(raw, units, whole=True)), ("int", units)
    if kind == "number":
        units = column.units
        return (lambda raw: cells.parse_quantity(raw, units)), ("number", units)
    if kind == "money":
        return (lambda raw: cells.parse_money(raw, factor)), ("money", factor)
    if kind == "date":
        return (lambda raw: cells.parse_dated(raw, report_year)), ("date", report_year)
    if kind == "yesno":
        return cells.parse_yesno, ("yesno",)
    raise AssertionError(f"unknown column kind {kind}")


def _outcome(rule, raw: object) -> tuple[bool, object]:
    try:
        return True, rule(raw)
    except cells.UnitMismatch as exc:
        return False, exc.unit
    except (ValueError, OverflowError):
        return False, None


def _memoised(rule, memo: dict, raw: object) -> tuple[bool, object]:
    key = (raw.__class__, raw)
    found = memo.get(key)
    if found is not None:
        return found
    outcome = _outcome(rule, raw)
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[key] = outcome
    return outcome


def type_column(
    column: Column, raws: list, factor: float = 1.0, report_year: int | None = None
) -> TypedColumn:
    """Every cell of one column typed by the contract's rule for its kind (see `cells`)."""
    kind = column.kind
    rule, setting = _rule(column, factor, report_year)
    memo = _MEMO.setdefault(setting, {})
    once = kind == "code"  # a code is its row's own: a memo would only fill
    values: list = [None] * len(raws)
    out = TypedColumn(values=values)
    if kind == "date":
        out.precisions = [None] * len(raws)
    blank: object = False if kind == "yesno" else None  # parse_yesno(None) is False
    for at, raw in enumerate(raws):
        if raw is None:
            values[at] = blank
            continue
        cls = raw.__class__
        if once and cls is str and raw.isdigit() and raw.isascii():
            values[at] = raw  # `cells.parse_code` of ASCII digits is the text itself
            continue
        if kind in _NUMERIC and (cls is float or cls is int):
            # `cells.parse_number` of a number is float(raw); the rest is the kind's own.
            number = float(raw)
            if kind == "money":
                values[at] = round(number * factor, 6)
                continue
            if kind == "number":
                values[at] = number
                continue
            if number.is_integer():  # int: a whole number
                values[at] = int(number)
                continue
        ok, result = _outcome(rule, raw) if once else _memoised(rule, memo, raw)
        if ok:
            if kind == "date":
                values[at], out.precisions[at] = result or (None, None)  # type: ignore[index,misc]
            else:
                values[at] = result
        elif result is not None:
            out.mismatched[at] = result  # type: ignore[assignment]
        else:
            out.unparsed[at] = raw
    return out
