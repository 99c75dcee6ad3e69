"""Text normalisation: Unicode NFC, trimmed and collapsed, plus the accent-free match keys."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")
_TRAILING_UNIT = re.compile(r"\(([^()]*)\)\s*$")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def clean(value: object) -> str:
    """NFC text, trimmed, inner runs of white space (line breaks too) collapsed to one space."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    return _SPACES.sub(" ", text.replace("\u00a0", " ")).strip()


def unaccent(text: str) -> str:
    """Strip Vietnamese diacritics: `Đắk Mil` -> `Dak Mil`."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
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

    `Doanh thu\\n(triệu đồng)` -> (`Doanh thu`, `triệu đồng`); `STT` -> (`STT`, None).
    """
    text = clean(header)
    found = _TRAILING_UNIT.search(text)
    if not found:
        return text, None
    return text[: found.start()].strip(), found.group(1).strip()
