"""Text normalisation: Unicode NFC, trimmed and collapsed, plus the accent-free match keys."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, TypeVar

_SPACES = re.compile(r"\s+")
# What a cell may carry that no one sees (rule 15): zero-width characters, the soft hyphen and
# the byte-order mark vanish; full-width forms (`６４００`, `／`) and the ideographic space
# become their ASCII selves. A cheap search finds them first: most cells hold none.
# Soft hyphen, zero-width characters, the direction marks a web page or a right-to-left
# keyboard leaves (LRM, RLM, ALM, embeddings, overrides, isolates), invisible operators, the
# byte-order mark; the ideographic space and the full-width forms are made ASCII.
_ZERO_WIDTH = (
    0x00AD,
    0x061C,
    0x180E,
    0xFEFF,
    *range(0x200B, 0x2010),
    *range(0x202A, 0x202F),
    *range(0x2060, 0x2065),
    *range(0x2066, 0x206A),
)
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069"
    "\ufeff\u3000\uff01-\uff5e]"
)
_VISIBLE = {
    **dict.fromkeys(_ZERO_WIDTH),
    0x3000: " ",
    **{code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)},
}
# Excel's mark for "keep as text", when it arrives inside the value.
_APOSTROPHES = "'\u2018\u2019"
_TRAILING_UNIT = re.compile(r"\(([^()]*)\)\s*$")
# A column number after a header's name and unit (`Doanh thu (triệu đồng) (12)`): no unit.
_TRAILING_NUMBER = re.compile(r"\s*\(\s*\d{1,2}\s*\)\s*$")
_NON_WORD = re.compile(r"[^0-9a-z]+")
# Texts up to this long are answered from a memo by the functions that keep one.
MEMO_CHARS = 200

_F = TypeVar("_F", bound=Callable[[Any], Any])


def short_memo(maxsize: int, *, typed: bool = False, others: bool = False) -> Callable[[_F], _F]:
    """Memoise a function of one cell value for texts up to `MEMO_CHARS` long: headers,
    labels, units and names recur in every file and are worked out once per process, while
    a longer text is data, read once, and is not kept (a long-lived worker would hold it).
    With `others`, values that are not text (a header's column number) are kept too; with
    `typed`, by type (`1` and `1.0` read differently). The memo is the function's `memo`."""

    def decorate(function: _F) -> _F:
        memo = lru_cache(maxsize=maxsize, typed=typed)(function)

        @wraps(function)
        def memoised(value: Any) -> Any:
            if value.__class__ is str:
                return memo(value) if len(value) <= MEMO_CHARS else function(value)
            return memo(value) if others else function(value)

        memoised.memo = memo  # type: ignore[attr-defined]
        return memoised  # type: ignore[return-value]

    return decorate


@short_memo(65536)  # headers, labels, names recur
def clean(value: object) -> str:
    """NFC text, trimmed, inner runs of white space (line breaks too) collapsed to one space;
    invisible characters gone, full-width digits and punctuation ASCII (rule 15)."""
    if value is None:
        return ""
    return _clean(value if isinstance(value, str) else str(value))


def _clean(text: str) -> str:
    if not text.isascii():  # ASCII is NFC already, and holds nothing invisible
        text = unicodedata.normalize("NFC", text)
        if _INVISIBLE.search(text):
            text = text.translate(_VISIBLE)
    return _SPACES.sub(" ", text).strip()


@short_memo(65536)  # the same texts in every file
def unquoted(value: object) -> str:
    """`clean`, without the leading apostrophe that marks a typed value as text in Excel
    (`'6400123456`, `'1.250`, `'HTX Cà phê`): rule 15, for every cell the reader types."""
    text = clean(value)
    if text and text[0] in _APOSTROPHES:
        return text[1:].lstrip()
    return text


def unit_code_text(value: object) -> str:
    """A unit or commune code as typed: spaces gone, and dots where they group thousands (rule
    8: `24.611`, `24 611` are 24611; `25.000` is 25000, a group of zeros being a group, as
    rule 5 reads `2.000`; `6.63` keeps its dot, no code), else without a number's `.0`
    written as text (`24611.0`, `663.0`); it may still be no code, so the caller checks its
    digits."""
    text = unquoted(value).replace(" ", "")
    if _GROUPED.fullmatch(text):
        return text.replace(".", "")
    return re.sub(r"\.0+$", "", text)


# Digits grouped by thousands as Vietnamese numbers are: `24.611`, `1.234.567`.
_GROUPED = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+")


# `Đ`/`đ`, and the eth `Ð`/`ð` (U+00D0/U+00F0) that looks the same and that some Vietnamese
# input methods and fonts type for it: the letter a name is keyed by.
_AS_D = str.maketrans("\u00d0\u00f0", "\u0110\u0111")
_PLAIN_D = str.maketrans("\u0110\u0111\u00d0\u00f0", "DdDd")


def unaccent(text: str) -> str:
    """Strip Vietnamese diacritics: `Đắk Mil` (or `Ðắk Mil`, with an eth) -> `Dak Mil`."""
    decomposed = unicodedata.normalize("NFD", text.translate(_PLAIN_D))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def match_key(value: object) -> str:
    """Key for matching names: lower-case, unaccented, punctuation and spaces as one space."""
    if value is None:
        return ""
    return _text_key(value if isinstance(value, str) else str(value))


@lru_cache(maxsize=65536)  # headers, labels and communes repeat in every file
def _text_key(text: str) -> str:
    return _NON_WORD.sub(" ", unaccent(clean(text)).lower()).strip()


def slug(value: object) -> str:
    """File-name slug of a unit name: `Đắk R'Lấp` -> `dak_r_lap`."""
    return match_key(value).replace(" ", "_")


def split_unit(header: object) -> tuple[str, str | None]:
    """Split a header into its name and the unit in trailing parentheses.

    `Doanh thu\\n(triệu đồng)` -> (`Doanh thu`, `triệu đồng`); `STT` -> (`STT`, None). A
    column number after them is no unit: `Doanh thu (triệu đồng) (12)` is the same.
    """
    text = clean(header)
    text = _TRAILING_NUMBER.sub("", text) or text
    found = _TRAILING_UNIT.search(text)
    if not found:
        return text, None
    return text[: found.start()].strip(), found.group(1).strip()


# The five Vietnamese tone marks (huyền, sắc, hỏi, ngã, nặng) as combining characters. The
# vowel marks (breve, circumflex, horn) and đ are letters of their own: `ă â ê ô ơ ư đ` count.
_TONE_MARKS = frozenset("\u0300\u0301\u0309\u0303\u0323")
# Unit-type prefixes of commune-level names, and their usual abbreviations (`X.`, `P.`,
# `TT.`, `TT `); a name is compared without them.
_COMMUNE_PREFIX = re.compile(r"^(?:(?:xã|phường|thị trấn|[đð]ặc khu|tt)\s+|(?:x|p|tt)\.\s*)", re.I)
# What does not count in a unit name: apostrophes of every form, hyphens, spaces, punctuation.
_NOT_LETTER = re.compile(r"[^0-9a-zđăâêôơư]+")
_PLAIN_PREFIX = re.compile(r"^(?:xa|phuong|thi tran|dac khu|tt)\s+", re.I)
# The prefixes without their tone marks (`Xa`, `Xả`, `Phương`, `Thi trấn`, `Đăc khu`), matched
# on a toneless name: their letters still count (`Thi tran` is no prefix).
_TONELESS_PREFIX = re.compile(r"^(?:xa|phương|thi\s+trân|đăc\s+khu)\s+", re.I)


def toneless(text: str) -> str:
    """Vietnamese text without its tone marks, NFC: `Đắk R’Lấp` -> `Đăk R’Lâp`; `Hoà` and
    `Hòa` both -> `Hoa` (so the mark's placement does not count either); an eth is `Đ`."""
    decomposed = unicodedata.normalize("NFD", text.translate(_AS_D))
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONE_MARKS))


@short_memo(65536)  # once per distinct name
def strip_unit_prefix(text: str) -> str:
    """A commune name without its `Xã`/`Phường`/`Thị trấn`/`Đặc khu` prefix (or `X.`, `P.`,
    `TT.`)."""
    return _COMMUNE_PREFIX.sub("", clean(text))


def without_toneless_prefix(value: str) -> str | None:
    """A commune name without a prefix typed with its tone mark left out or misplaced (`Xa
    Đắk Mil` -> `Đắk Mil`), or None when it begins with none. Tone marks do not count, the
    prefix's either; but a name may begin with such a word (`Xà Phiên`, `Phương Liệt`), so
    this is a second reading, for a name that fits nothing as typed."""
    text = clean(value)
    found = _TONELESS_PREFIX.match(toneless(text))
    if not found:
        return None
    words = len(found.group().split())
    return text.split(None, words)[words]


@lru_cache(maxsize=65536)
def name_key(value: str) -> str:
    """The key the workbook contract compares commune names by: case, tone marks, the unit
    prefix, apostrophes, hyphens and spaces do not count; the letters do, `ă â ê ô ơ ư đ`
    included. `Xã Đăk R'Moan` and `Đắk R’Moan` -> `đăkrmoan`; `Đắk Nang` -> `đăknang` but
    `Đạ K’Nàng` -> `đaknang`."""
    return _NOT_LETTER.sub("", toneless(strip_unit_prefix(value)).lower())


@short_memo(65536)  # names repeat in every file
def plain_keys(value: str) -> frozenset[str]:
    """`name_key` in plain letters, for a name typed without any diacritics (`Dak Nang` ->
    `daknang`), which counts only where exactly one candidate fits. A plain name's first
    word may be a prefix typed plainly (`Xa Dak Nang`) or part of the name (`Xa Bang` for
    `Xà Bang`): both readings are returned."""
    text = strip_unit_prefix(value)
    keys = {_NOT_LETTER.sub("", unaccent(text).lower())}
    plain = _PLAIN_PREFIX.match(text)
    if plain and not has_diacritics(text):
        keys.add(_NOT_LETTER.sub("", text[plain.end() :].lower()))
    return frozenset(keys)


@short_memo(65536)
def has_diacritics(value: str) -> bool:
    """Whether a name (without its unit prefix) carries any Vietnamese letter or mark."""
    text = strip_unit_prefix(value)
    return unaccent(text) != text
