"""The column-at-a-time typing (`etl.read.typed`) gives exactly what the per-cell rules of
`etl.read.cells` give, cell by cell: value, type, date precision, unreadable cells and
units that do not fit. Run twice, so the second run answers from the memo."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from etl.contract.layout import DATA_SHEETS, Column
from etl.read import cells, typed

RAWS: list[object] = [
    None, 0.0, -0.0, 1.0, 2.0, 2.5, -3.25, 1e-7, 123456789.123, 1e20, 2**60, 7, 0, 1, -4,
    True, False, float("inf"), float("nan"), 1905.0, 2024.0, 45000.0, 3e6,
    "0", "1", "x", "X", "-", "–", "—", "có", "Có", "không", "k", "yes", "no", "true",
    "1.250", "1,5", "2,5", "1.250.000", "1,250,000", "(125,5)", "-12", "+3", "12%",
    "1,2 tỷ", "350 tr", "45.000.000 đ", "25 người", "12 tấn", "3 ha", "7 sao", "5 kg",
    "abc", "12abc", "'0612345678", "0612345678", "640022330", "6400223301.0",
    "6,40022E+09", "64 0022 3301", "０６１２", "12/05/2021", "12/05/21", "2021-05-12",
    "05/2021", "tháng 3/2019", "T3/2019", "2019/03/05", "2 tỷ 500 triệu", "1 triệu 2 tỷ",
    "ngày 15 tháng 3 năm 2019", "năm 2019", "31/02/2020", "15/03/2019.", "15/03/2019?",
    "Lỗ 50", "50 (lỗ)", "-50 (lỗ)", "Lãi 50", "Lãi -50", "Hòa vốn", "5 triệu/tháng",
    "Không xếp loại", "Không XL", "NN", "Quỹ TDND", "Nông, lâm nghiệp", "Lĩnh vực khác",
    "85/100", "85 điểm/100", "8,5/10", "4 sao (2023)", "4 sao (QĐ 2023)",
    "4 sao (2023 - 2026)", "4 sao (2023-2027)", "Lo 50", "Lai 50", "Lô 50", "3tr500",
    "1 tỷ 200", "3tr50", "1 tỷ (trong đó 300 triệu)", "Không (chưa ký)", "Không (có HĐ miệng)",
    "12/05/2021 00:00:00", "Khá", "kha", "Tốt", "Nông nghiệp", "NTM", "Nông thôn mới",
    "Đề án 167", "ocop", "HTX Cà phê Đắk Mil", "  padded  ", "a\u200bb",
    dt.date(2021, 5, 12), dt.datetime(2021, 5, 12, 8, 30), dt.time(8, 30),
]  # fmt: skip


def _expected(column: Column, raw: object, factor: float, year: int | None, period: int = 1):
    """What the row-by-row reader stored for one cell: (value, precision, failure)."""
    kind = column.kind
    try:
        if kind == "date":
            dated = cells.parse_dated(raw, year)
            return (dated or (None, None)) + (None,)
        own = {
            "stars": lambda: cells.parse_stars(raw),
            "year": lambda: cells.parse_year(raw),
            "funding_source": lambda: cells.parse_funding_source(raw, column.allowed),
            "rating": lambda: cells.parse_rating(raw, column.allowed),
            "sector": lambda: cells.parse_sector(raw, column.allowed),
            "score": lambda: cells.parse_score(raw),
        }
        value = {
            "code": lambda: cells.parse_code(raw),
            "text": lambda: cells.parse_text(raw),
            "category": lambda: cells.parse_category(raw, column.allowed),
            "program": lambda: cells.parse_program(raw),
            "int": lambda: cells.parse_quantity(raw, column.units, whole=True),
            "number": lambda: cells.parse_quantity(raw, column.units),
            "money": lambda: cells.parse_money(
                raw, factor, period, column.per_year, column.says_loss
            ),
            "yesno": lambda: cells.parse_yesno(raw),
        }[kind]
        value = (own[column.reads] if column.reads else value)()
        return value, None, None
    except cells.UnitMismatch as exc:
        return None, None, ("unit", exc.unit)
    except (ValueError, OverflowError):
        return None, None, ("unparsed", raw)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and repr(a) == repr(b)


COLUMNS = {
    (c.kind, c.units, c.allowed, c.reads, c.per_year, c.says_loss): c
    for s in DATA_SHEETS
    for c in s.columns
}


@pytest.mark.parametrize("column", list(COLUMNS.values()), ids=lambda c: c.key)
@pytest.mark.parametrize(
    ("factor", "year", "period"),
    [(1.0, 2024, 1), (1e-3, None, 1), (1e3, 2021, 1), (12.0, 2024, 12)],
)
def test_type_column_is_the_cell_rules(
    column: Column, factor: float, year: int | None, period: int
):
    for _ in range(2):  # the second pass reads from the memo
        got = typed.type_column(column, list(RAWS), factor, year, period)
        assert len(got.values) == len(RAWS)
        for at, raw in enumerate(RAWS):
            value, precision, failure = _expected(column, raw, factor, year, period)
            where = f"{column.key} {raw!r}"
            if failure is None:
                assert at not in got.unparsed, where
                assert at not in got.mismatched, where
                assert _same(got.values[at], value), (where, got.values[at], value)
                if column.kind == "date":
                    assert got.precisions is not None
                    assert got.precisions[at] == precision, where
            elif failure[0] == "unit":
                assert got.mismatched.get(at) == failure[1], where
                assert got.values[at] is None, where
            else:
                assert got.unparsed.get(at, RAWS) is raw, where
                assert got.values[at] is None, where


def test_memo_keeps_types_apart():
    """`1`, `1.0` and `True` are equal keys to a dict: the memo keys by type too."""
    text = next(c for c in COLUMNS.values() if c.kind == "text")
    got = typed.type_column(text, [True, 1, 1.0, "1"])
    assert [type(v) for v in got.values] == [str, str, str, str]
    assert got.values == [cells.parse_text(v) for v in (True, 1, 1.0, "1")]
    yesno = next(c for c in COLUMNS.values() if c.kind == "yesno")
    assert typed.type_column(yesno, [None, 1.0, True, 2.0]).unparsed == {3: 2.0}


def test_date_cells_calamine_typed_skip_the_rule(monkeypatch: pytest.MonkeyPatch):
    """A date or date-time cell of a date column is its day without running the rule: in
    most files every founding date differs, so the memo never answers them."""
    founded = next(c for c in COLUMNS.values() if c.kind == "date")
    raws = [dt.date(1999, 6, 8), dt.datetime(2020, 5, 10, 8, 30), None]
    expected = [cells.parse_dated(raw, 2024) for raw in raws]

    def no_rule(raw: object, year: int | None = None) -> None:
        raise AssertionError(f"the date rule ran for {raw!r}")

    monkeypatch.setattr(cells, "parse_dated", no_rule)
    monkeypatch.setattr(typed, "_MEMO", {})  # no earlier test's answer
    got = typed.type_column(founded, raws, 1.0, 2024)
    assert list(zip(got.values, got.precisions or [], strict=True)) == [
        (None, None) if e is None else e for e in expected
    ]
