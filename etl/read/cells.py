"""Cell values to typed values: Vietnamese numbers, money units, dates, yes/no and codes.

Every parser takes a raw cell as python-calamine returns it (str, int, float, bool,
date, datetime, time or None) and returns the typed value, ``None`` for "not reported",
or raises ``ValueError`` when the cell cannot mean anything of that kind.
"""

from __future__ import annotations

import datetime as dt
import re

from etl.text import clean, match_key

# An empty cell, a dash or an `x` in a numeric column means "not reported", never 0.
_BLANK_MARKS = {"", "-", "–", "—", "x", "X"}

# Money is in million VND unless a header or the file says otherwise.
MONEY_UNITS = {
    "dong": 1e-6,
    "vnd": 1e-6,
    "nghin dong": 1e-3,
    "ngan dong": 1e-3,
    "trieu dong": 1.0,
    "trieu": 1.0,
    "trieu vnd": 1.0,
    "ty dong": 1e3,
    "ti dong": 1e3,
    "ty": 1e3,
}

_YES = {"x", "co", "1", "yes", "true", "c"}
_NO = {"", "khong", "0", "no", "false", "k"}

_CODE_10 = re.compile(r"^\d{10}(-\d{3})?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def is_blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and clean(raw) in _BLANK_MARKS)


def money_factor(unit: str | None) -> float | None:
    """Factor that turns a value in `unit` into million VND; None when the unit is not money."""
    if unit is None:
        return None
    # `triệu đồng/người/năm`: the money unit is what comes before the first `/`.
    return MONEY_UNITS.get(match_key(unit.split("/")[0]))


def parse_number(raw: object) -> float | None:
    """A number from a cell. Text follows Vietnamese grouping first: `1.250` is 1250."""
    if is_blank(raw):
        return None
    if isinstance(raw, bool):
        raise ValueError("not a number")
    if isinstance(raw, int | float):
        return float(raw)
    if not isinstance(raw, str):
        raise ValueError("not a number")
    text = clean(raw).replace(" ", "").replace("%", "")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.startswith(("-", "−")):
        negative, text = True, text[1:]
    elif text.startswith("+"):
        text = text[1:]
    if not text or not re.fullmatch(r"[0-9.,]+", text) or not text[0].isdigit():
        raise ValueError("not a number")
    value = float(_normalise_separators(text))
    return -value if negative else value


def _normalise_separators(text: str) -> str:
    """Decide which of `.` and `,` is the decimal mark and return a Python float literal."""
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        decimal = "." if text.rfind(".") > text.rfind(",") else ","
        group = "," if decimal == "." else "."
        if text.count(decimal) > 1:
            raise ValueError("not a number")
        _check_groups(text.split(decimal)[0], group)
        return text.replace(group, "").replace(decimal, ".")
    if commas:
        if commas > 1:  # English grouping: 1,250,000
            _check_groups(text, ",")
            return text.replace(",", "")
        return text.replace(",", ".")  # Vietnamese decimal comma: 2,5
    if dots:
        if dots > 1:  # Vietnamese grouping: 1.250.000
            _check_groups(text, ".")
            return text.replace(".", "")
        whole, frac = text.split(".")
        # `1.250` is ambiguous and the Vietnamese reading wins: the dot groups thousands.
        if len(frac) == 3 and whole:
            return whole + frac
        return text
    return text


def _check_groups(text: str, group: str) -> None:
    parts = text.split(group)
    if not parts[0] or len(parts[0]) > 3 or any(len(p) != 3 for p in parts[1:]):
        raise ValueError("not a number")


def parse_int(raw: object) -> int | None:
    value = parse_number(raw)
    if value is None:
        return None
    if value != int(value):
        raise ValueError("not a whole number")
    return int(value)


def parse_money(raw: object, factor: float = 1.0) -> float | None:
    """Money scaled to million VND by `factor` (see `money_factor`)."""
    value = parse_number(raw)
    if value is None:
        return None
    return round(value * factor, 6)


_DATE_PATTERNS = (
    (re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), ("y", "m", "d")),
)


def parse_date(raw: object) -> dt.date | None:
    """A date from a date cell, an Excel serial number or day-first text."""
    if is_blank(raw):
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, bool):
        raise ValueError("not a date")
    if isinstance(raw, int | float):
        if not 1 <= raw < 2958466:
            raise ValueError("not a date")
        return _EXCEL_EPOCH + dt.timedelta(days=int(raw))
    text = clean(raw)
    if " " in text:  # `12/05/2021 00:00:00`
        text = text.split(" ")[0]
    for pattern, order in _DATE_PATTERNS:
        found = pattern.match(text)
        if found:
            parts = dict(zip(order, (int(g) for g in found.groups()), strict=True))
            return dt.date(parts["y"], parts["m"], parts["d"])
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return parse_date(float(text))
    raise ValueError("not a date")


def parse_yesno(raw: object) -> bool:
    """`x`, `Có`, `1`, `Yes` are yes; blank, `Không`, `0` are no."""
    if raw is None:
        return False
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float):
        if raw in (0, 1):
            return bool(raw)
        raise ValueError("not yes/no")
    key = match_key(raw)
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise ValueError("not yes/no")


def parse_code(raw: object) -> str | None:
    """A cooperative code: spaces and dots removed; a 9-digit number regains its leading 0.

    The result is returned even when it is not a valid code; `is_valid_coop_code` says.
    """
    if raw is None:
        return None
    if isinstance(raw, float) and raw == int(raw):
        raw = int(raw)
    text = clean(raw).replace(" ", "").replace(".", "")
    if not text:
        return None
    if isinstance(raw, int) and len(text) == 9:
        text = "0" + text
    return text


def is_valid_coop_code(code: str) -> bool:
    return bool(_CODE_10.match(code))


def parse_unit_code(raw: object, width: int) -> str | None:
    """A unit code zero-padded to its width: district 3 digits, province 2 digits."""
    if raw is None:
        return None
    if isinstance(raw, float) and raw == int(raw):
        raw = int(raw)
    text = clean(raw).replace(" ", "")
    if not text.isdigit():
        return None
    return text.zfill(width)


def parse_text(raw: object) -> str | None:
    text = clean(raw)
    if isinstance(raw, float) and raw == int(raw):
        text = str(int(raw))
    return text or None


def parse_category(raw: object, allowed: tuple[str, ...]) -> str | None:
    """The allowed value whose match key equals the cell's (`kha` -> `Khá`), else the text."""
    text = parse_text(raw)
    if text is None:
        return None
    key = match_key(text)
    for value in allowed:
        if match_key(value) == key:
            return value
    return text


def parse_program(raw: object) -> str | None:
    """A programme code from its code or its Vietnamese name (`Nông thôn mới` -> `NTM`)."""
    from etl.contract.layout import PROGRAMS

    text = parse_text(raw)
    if text is None:
        return None
    key = match_key(text)
    for code, name_vi, name_en in PROGRAMS:
        if key in (match_key(code), match_key(name_vi), match_key(name_en)):
            return code
    aliases = {"de an 167": "DA167", "167": "DA167", "nong thon moi": "NTM", "ocop": "OCOP"}
    return aliases.get(key, text)
