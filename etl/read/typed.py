"""A sheet's cells typed a column at a time: the contract's cell rules (`cells`) over lists.

The reader hands each layout column's raw cells (as python-calamine returns them, blank
text already None) to `type_column` once per sheet. The rules stay those of `cells`, the
one place they are written; this module only decides how often they run:

- the cells calamine already typed take a fast path per kind (a float in a money column is
  `round(value * factor, 6)`, a date in a date column is its day, None is "not reported"),
  the same arithmetic `cells` does;
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
from datetime import date, datetime
from itertools import compress, repeat
from operator import is_

from etl.contract.layout import Column
from etl.read import cells

# Memo entries by column setting, then (type, value): the typed value of a cell the rule
# read (a cell it could not read is not kept: it is rare, and its finding needs the rule's
# answer). A setting's memo is cleared whole past the limit, so a column of names never
# churns the memo of a column of categories.
_MEMO: dict[tuple, dict[tuple, object]] = {}
_MEMO_LIMIT = 50_000  # per setting: a few MB each in the worst case (a column of names)


@dataclass
class TypedColumn:
    values: list  # the typed value of every cell, None where it failed
    precisions: list | None = None  # date columns: day, month or year (None when blank)
    unparsed: dict[int, object] = field(default_factory=dict)  # position -> raw cell
    mismatched: dict[int, str] = field(default_factory=dict)  # position -> unit written


# The rules a layout column names as its own (`Column.reads`), beside its kind's fast path
# (a whole float in an int column is its int, as these rules read it too).
_OWN_RULES = {
    "stars": lambda column: cells.parse_stars,
    "year": lambda column: cells.parse_year,
    "funding_source": lambda column: lambda raw: cells.parse_funding_source(raw, column.allowed),
    "rating": lambda column: lambda raw: cells.parse_rating(raw, column.allowed),
    "sector": lambda column: lambda raw: cells.parse_sector(raw, column.allowed),
    "score": lambda column: cells.parse_score,
}


def _rule(
    column: Column,
    factor: float,
    report_year: int | None,
    period: int = 1,
    epoch: date = cells.EXCEL_EPOCH,
):
    """The cell rule of a column, as a function of the raw cell, and its memo key. The memo
    is process-wide: every setting a rule reads with is in its key, the file's date epoch
    too, so a serial day read in a 1904 workbook is never the answer in the next file."""
    kind = column.kind
    if column.reads is not None:  # the layout names the column's own rule
        return _OWN_RULES[column.reads](column), (column.reads, column.allowed)
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
        per_year, says_loss = column.per_year, column.says_loss
        return (
            (lambda raw: cells.parse_money(raw, factor, period, per_year, says_loss)),
            ("money", factor, period, per_year, says_loss),
        )
    if kind == "date":
        return (
            (lambda raw: cells.parse_dated(raw, report_year, epoch)),
            ("date", report_year, epoch),
        )
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


_SLOW = object()  # a cell the first pass leaves to the rule
# The last year a year typed into a date-formatted cell shows as (2100 days from the 1904
# epoch fall in 1909): such a date cell is the rule's (`cells.parse_dated`), not its day.
_TYPED_YEARS = 1909
_BLANK_KEY = (type(None), None)  # a blank cell's memo key


def _fast(kind: str, raws: list, factor: float, memo: dict) -> list:
    """The first pass, one list expression per kind: each cell's typed value, or `_SLOW`.

    Numbers calamine typed are `cells.parse_number`'s float(raw) and then the kind's own
    arithmetic; a date or date-time calamine typed is its day (in most files every founding
    date differs: the memo would miss); a code of ASCII digits is its text; any other cell
    is its memoised value when the rule read the same (type, value) before.
    """
    if kind == "money":  # a whole amount is its own rounding: `round` only for the rest
        return [
            None if r is None
            else (v if (v := r * factor).is_integer() else round(v, 6))
            if r.__class__ is float  # float(r) is r
            else (v if (v := float(r) * factor).is_integer() else round(v, 6))
            if r.__class__ is int
            else memo.get((r.__class__, r), _SLOW)
            for r in raws
        ]  # fmt: skip
    if kind == "number":
        return [
            None if r is None
            else float(r) if r.__class__ is float or r.__class__ is int
            else memo.get((r.__class__, r), _SLOW)
            for r in raws
        ]  # fmt: skip
    if kind == "int":  # a whole float: int(float(raw)); ints and the rest go to the rule
        return [
            None if r is None
            else int(r) if r.__class__ is float and r.is_integer()
            else _SLOW if r.__class__ is float or r.__class__ is int
            else memo.get((r.__class__, r), _SLOW)
            for r in raws
        ]  # fmt: skip
    if kind == "date":  # a date calamine typed is its own day, as `cells.parse_dated` reads it
        memo[_BLANK_KEY] = None  # but a year typed into a date cell (1905, 1909): the rule's
        return [
            (r, cells.DAY) if r.__class__ is date and r.year > _TYPED_YEARS
            else (r.date(), cells.DAY) if r.__class__ is datetime and r.year > _TYPED_YEARS
            else memo.get((r.__class__, r), _SLOW)
            for r in raws
        ]  # fmt: skip
    if kind == "code":  # `cells.parse_code` of ASCII digits is the text itself
        return [
            None if r is None
            else r if r.__class__ is str and r.isdigit() and r.isascii()
            else _SLOW
            for r in raws
        ]  # fmt: skip
    # Every other kind: the memo answers each (type, value), a blank cell included.
    memo[_BLANK_KEY] = False if kind == "yesno" else None  # parse_yesno(None) is False
    return list(map(memo.get, zip(map(type, raws), raws, strict=True), repeat(_SLOW)))


def type_column(
    column: Column,
    raws: list,
    factor: float = 1.0,
    report_year: int | None = None,
    period: int = 1,
    epoch: date = cells.EXCEL_EPOCH,
) -> TypedColumn:
    """Every cell of one column typed by the contract's rule for its kind (see `cells`);
    `factor` and `period` as `cells.parse_money` takes them, `epoch` (the file's date
    system) as `cells.parse_dated` does."""
    kind = column.kind
    rule, setting = _rule(column, factor, report_year, period, epoch)
    memo = _MEMO.setdefault(setting, {})
    values = _fast(kind, raws, factor, memo)
    out = TypedColumn(values=values)
    if _SLOW in values:
        for at in compress(range(len(values)), map(is_, values, repeat(_SLOW))):
            raw = raws[at]
            ok, result = _outcome(rule, raw)
            if ok:
                values[at] = result
                if kind != "code" and not (kind == "int" and raw.__class__ in (float, int)):
                    if len(memo) >= _MEMO_LIMIT:
                        memo.clear()
                    memo[(raw.__class__, raw)] = result
                continue
            values[at] = None
            if result is not None:
                out.mismatched[at] = result  # type: ignore[assignment]
            else:
                out.unparsed[at] = raw
    if kind == "date":  # (date, precision) or None, as `cells.parse_dated` gives them
        out.precisions = [None if v is None else v[1] for v in values]
        out.values = [None if v is None else v[0] for v in values]
    return out
