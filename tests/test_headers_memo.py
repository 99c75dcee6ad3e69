"""`find_header` keeps a header naming every column by its block's rows: the kept answer must
be the one a fresh search gives, whatever follows the block or however its cells are typed."""

from __future__ import annotations

import pytest

from etl.contract.layout import DATA_SHEETS, HOTRO, HTX, LIENKET
from etl.read import headers


def _fresh(rows: list[list], sheet) -> headers.HeaderMatch | None:
    return headers._find_header(rows, sheet)


def _header(sheet) -> list:
    return [column.header for column in sheet.columns]


def _agrees(rows: list[list], sheet) -> headers.HeaderMatch | None:
    found = headers.find_header(rows, sheet)
    assert found == _fresh(rows, sheet)
    return found


@pytest.fixture(autouse=True)
def _empty_memo():
    headers._FOUND.clear()
    headers._ENDS.clear()
    yield
    headers._FOUND.clear()
    headers._ENDS.clear()


@pytest.mark.parametrize("sheet", DATA_SHEETS, ids=lambda s: s.key)
def test_kept_answer_is_the_fresh_one(sheet):
    head = _header(sheet)
    width = len(head)
    data = ["6400123456"] + ["x"] * (width - 1)
    numbers = [f"({n})" for n in range(1, width + 1)]
    cases = [
        [head, data],
        [head, data, data],  # the same block, the sheet goes on
        [head],  # the block is the whole sheet
        [head, numbers, data],  # a column-number row below the header
        [head, numbers],
        [["Báo cáo"], head, data],
        [["Báo cáo"], head, numbers, data],
    ]
    for rows in cases * 2:  # the second time, from the memo
        assert _agrees([list(r) for r in rows], sheet) is not None
    assert headers._FOUND  # the memo was used


def test_a_column_number_row_after_a_kept_block_is_read_again():
    head = _header(HOTRO)
    width = len(head)
    first = _agrees([head, ["6400123456"] + ["x"] * (width - 1)], HOTRO)
    assert first is not None
    assert first.data_start == 1
    assert headers._FOUND
    # Same block (the header row), but now a column-number row follows it.
    second = _agrees([head, [str(n) for n in range(1, width + 1)], ["6400123456"]], HOTRO)
    assert second is not None
    assert second.data_start == 2


def test_cells_equal_across_types_are_not_mixed_up():
    head = _header(LIENKET)
    title_float = [[1.0], head, ["6400123456"]]
    title_int = [[1], head, ["6400123456"]]
    title_bool = [[True], head, ["6400123456"]]
    for rows in (title_float, title_int, title_bool, title_float):
        _agrees(rows, LIENKET)


def test_zeros_are_never_kept():
    head = _header(LIENKET)
    for zero in (0.0, -0.0, 0, False):
        rows = [[zero, "Đơn vị tính: đồng"], head, ["6400123456"]]
        _agrees(rows, LIENKET)
    assert not headers._FOUND


def test_a_header_not_naming_every_column_is_not_kept():
    head = _header(HTX)[:-1]  # one column short: the search reads every scanned row
    rows = [head, ["6400123456"]]
    _agrees(rows, HTX)
    assert not headers._FOUND


def test_the_kept_answer_is_a_copy():
    head = _header(HOTRO)
    rows = [head, ["6400123456"]]
    first = headers.find_header(rows, HOTRO)
    assert first is not None
    first.columns.clear()
    first.extra.append("changed")
    assert headers.find_header(rows, HOTRO) == _fresh(rows, HOTRO)


def test_a_block_with_much_text_is_not_kept():
    head = _header(LIENKET)
    rows = [["Báo cáo " * 2000], head, ["6400123456"]]
    _agrees(rows, LIENKET)
    assert not headers._FOUND


def test_long_names_read_as_short_ones():
    from etl import text

    for name in ("Xã Đắk Gằn", "Xa Dak Gan", "Phường 1"):
        long = name + " " + "Đắk Gằn " * 40  # past the memo's length
        assert len(long) > text.MEMO_CHARS
        for value in (name, long):
            assert text.has_diacritics(value) == text._has_diacritics(value)
            assert text.plain_keys(value) == text._plain_keys(value)
            assert text.unquoted(value) == text._unquoted(value)
            assert text.strip_unit_prefix(value) == text._COMMUNE_PREFIX.sub("", text.clean(value))
