"""The memos of `etl.text` keep short texts only: a long name reads as a short one, and is
not kept."""

from __future__ import annotations

import pytest

from etl import text

MEMOISED = (
    text.clean,
    text.unquoted,
    text.strip_unit_prefix,
    text.plain_keys,
    text.has_diacritics,
)


@pytest.mark.parametrize("function", MEMOISED, ids=lambda f: f.__name__)
def test_long_names_read_as_short_ones_and_are_not_kept(function):
    for name in ("Xã Đắk Gằn", "Xa Dak Gan", "Phường 1"):
        long = name + " " + "Đắk Gằn " * 40  # past the memo's length
        assert len(long) > text.MEMO_CHARS
        for value in (name, long):
            assert function(value) == function.__wrapped__(value)
        kept = function.memo.cache_info().currsize
        function(long + "x")
        assert function.memo.cache_info().currsize == kept


def test_a_value_that_is_not_text_is_read_and_not_kept():
    kept = text.clean.memo.cache_info().currsize
    assert text.clean(None) == ""
    assert text.clean(12.5) == "12.5"
    assert text.clean.memo.cache_info().currsize == kept
