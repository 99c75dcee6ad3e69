"""The name caches of `etl.text` keep short texts only: a long name reads as a short one."""

from __future__ import annotations

from etl import text


def test_long_names_read_as_short_ones():
    for name in ("Xã Đắk Gằn", "Xa Dak Gan", "Phường 1"):
        long = name + " " + "Đắk Gằn " * 40  # past the memo's length
        assert len(long) > text.MEMO_CHARS
        for value in (name, long):
            assert text.has_diacritics(value) == text._has_diacritics(value)
            assert text.plain_keys(value) == text._plain_keys(value)
            assert text.unquoted(value) == text._unquoted(value)
            assert text.strip_unit_prefix(value) == text._COMMUNE_PREFIX.sub("", text.clean(value))
