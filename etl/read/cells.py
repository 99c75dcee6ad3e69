"""Cell values to typed values: Vietnamese numbers, money units, dates, yes/no and codes.

Every parser takes a raw cell as python-calamine returns it (str, int, float, bool,
date, datetime, time or None) and returns the typed value, ``None`` for "not reported",
or raises ``ValueError`` when the cell cannot mean anything of that kind.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

from etl.text import match_key, short_memo, unaccent, unquoted

# An empty cell, a dash or an `x` in a numeric column means "not reported", never 0.
# The dashes a minus may be typed as (Word's autocorrect, a copied report): ‐ ‑ ‒ – — ― −.
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
# Not reported (rule 6): a dash of any kind alone, or `x`.
_BLANK_MARKS = {"", "-", "x", "X", *_DASHES}

# Money is in million VND unless a header or the file says otherwise. A money unit is a
# scale word and a currency word, either one alone, in any of the spellings clerks use
# (`nghìn đồng`, `ngàn VNĐ`, `trđ`, `tr.đ`, `Tr.đồng`, `tỷ`, `tỉ VND`, `đ`, `VNĐ`), compared
# on their unaccented letters (`_unit_key`); a leading multiplier counts too (`1.000 đồng`,
# as in `ĐVT: 1.000 đồng`). The factor turns a value in that unit into million VND.
MONEY_SCALES = {"nghin": 1e-3, "ngan": 1e-3, "trieu": 1.0, "tr": 1.0, "ty": 1e3, "ti": 1e3}
# The currency as clerks name it, by its key (letters only): `đồng`, `VNĐ`, `đ`, and with
# its country (`đồng Việt Nam`, `Việt Nam đồng`, `Đồng VN`, `VN đồng`, `Đồng (VNĐ)`, `VNĐ
# (đồng)`): read as no unit, such a header's đồng were taken for million VND (helper BS).
MONEY_CURRENCIES = (
    *("dong", "vnd", "d"),
    *("dongvietnam", "vietnamdong", "dongvn", "vndong", "dongvnd", "vnddong"),
)
# A money unit's key: a scale, a currency or both, after `tiền` (money: `Tiền: đồng`).
_MONEY_UNIT = re.compile(
    r"^(?:tien)?"
    rf"(?P<scale>{'|'.join(sorted(MONEY_SCALES, key=len, reverse=True))})?"
    rf"(?P<currency>{'|'.join(sorted(MONEY_CURRENCIES, key=len, reverse=True))})?$"
)
# `ĐVT:` / `Đơn vị tính:` before the unit, as a file's note or a header's parentheses say it.
_UNIT_LABEL = re.compile(r"^(?:dvt|don vi tinh|don vi)\b[\s:]*")
# The same label as written (NFC text), before a multiplied unit: `ĐVT: 1.000đ`.
_WRITTEN_LABEL = re.compile(r"^(?:đvt|dvt|đơn vị tính|don vi tinh|đơn vị|don vi)\b[\s:.]*", re.I)
# A multiplier may be written as one: `x1000đ`, `× 1.000 đồng`.
_MULTIPLIED_UNIT = re.compile(r"^(?:[x×*]\s*)?([0-9][0-9.,\s]*)\s*([^\W\d_].*)$", re.I)
# The đồng sign, another spelling of `đ` (rule 14: `45.000.000 ₫`, a header's `(₫)`).
DONG_SIGN = "\u20ab"


_YES = {"x", "co", "1", "yes", "true", "c", "y"}
_NO = {"", "khong", "0", "no", "false", "k", "ko", "khong co", "n"}  # `Ko`: `Không` typed fast
# A yes or a no said with the columns' verbs (`Có tham gia`, `Đã ký`, `Chưa ký`): its first
# word says which. `Chưa` (not yet) is a no at the report's date; `Đã` alone, `Chưa rõ` or
# `Dự kiến tham gia` say neither.
_YES_SAID = {"co", "da"}
_NO_SAID = {"khong", "chua"}
_SAID_VERBS = {
    *("tham gia", "ky", "ky ket", "lien ket", "lien ket tieu thu", "co"),
    # The contract said (`HĐ`, `hợp đồng`): `Có HĐ`, `Đã ký HĐ`, `Không có HĐ`.
    *("hd", "ky hd", "co hd", "hop dong", "ky hop dong", "co hop dong"),
}
# Marks without letters or digits: a tick is yes, and so is `×` (the sign Word's and Excel's
# symbols insert for an `x`); blank or a dash is no. A ballot cross (✗) may say either.
_TICK = re.compile("[\u2713\u2714\u221a\u2611\u2705\u00d7]")  # ✓ ✔ √ ☑ ✅ ×
_NO_MARK = re.compile("[-\u2010-\u2015\u2212]?")  # blank, -, ‐ ‒ – — ―, −

_CODE_10 = re.compile(r"^\d{10}(-\d{3})?$")
# Day 0 of Excel's serial numbers. A workbook saved in the 1904 date system (`date1904` in
# xl/workbook.xml: old Excel for Mac) counts its days from 1 January 1904 instead, and an
# .ods file from its own `table:null-date`: the guard learns a file's epoch
# (`guard.Package.date_epoch`), which the reader passes to the date rules.
EXCEL_EPOCH = dt.date(1899, 12, 30)


def money_unit_factor(key: str) -> float | None:
    """The factor of a money unit's key (its letters, unaccented, lower-case, nothing else:
    `trd`, `nghinvnd`), None when the key is no money unit."""
    found = _MONEY_UNIT.match(key)
    if found is None or not (found["scale"] or found["currency"]):
        return None
    scale = found["scale"]
    return MONEY_SCALES[scale] if scale else 1e-6


def is_blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and unquoted(raw) in _BLANK_MARKS)


@short_memo(4096)  # a sheet asks for its units over and over, the same in every file
def money_factor(unit: str | None) -> float | None:
    """Factor that turns a value in `unit` into million VND; None when the unit is not money.

    `triệu đồng/người/năm`: the money unit is what comes before the first `/`. A label
    before it (`ĐVT: nghìn đồng`) and a multiplier (`1.000 đồng`) count."""
    if unit is None:
        return None
    unit = unit.replace(DONG_SIGN, "đ")
    text = _UNIT_LABEL.sub("", match_key(unit.split("/")[0]))
    factor = money_unit_factor(text.replace(" ", ""))
    if factor is not None:
        return factor
    written = _WRITTEN_LABEL.sub("", unquoted(unit.split("/")[0]).strip())
    multiplied = _MULTIPLIED_UNIT.match(written)
    if multiplied is None:
        return None
    unit_factor = money_unit_factor(_unit_key(multiplied.group(2)))
    try:
        times = parse_number(multiplied.group(1).strip())
    except ValueError:
        return None
    if unit_factor is None or not times or times <= 0:
        return None
    return times * unit_factor


def _scaled(unit: str) -> tuple[float, str]:
    """A unit's scale and the key of what it scales: `nghìn USD` -> (1000, `usd`), `1.000
    tấn` -> (1000, `tan`), `tấn` -> (1, `tan`), `100 điểm` -> (1, `diem`): a multiplier
    scales only as a thousand, a million or a billion. A label before it (`ĐVT:`) does not
    count."""
    written = _WRITTEN_LABEL.sub("", unquoted(unit.split("/")[0]).strip())
    multiplied = _MULTIPLIED_UNIT.match(written)
    if multiplied is not None:
        try:
            times = parse_number(multiplied.group(1).strip())
        except ValueError:
            times = None
        if times in (1e3, 1e6, 1e9):  # `100 điểm` is a score out of 100, no scale
            return times, _unit_key(multiplied.group(2))
        return 1.0, _unit_key(multiplied.group(2))
    key = _unit_key(written)
    for word in _SCALE_WORDS:
        if key.startswith(word) and len(key) > len(word):
            return _SCALE_TIMES[word], key[len(word) :]
    return 1.0, key


def is_rate(unit: str) -> bool:
    """Whether a unit is a rate's whom and when alone (`tháng`, `người/tháng`, `người/năm`),
    its money unit left to the default."""
    return all(_per_key(part) in _PER_WHOM for part in unit.replace(DONG_SIGN, "đ").split("/"))


def without_unit_label(text: str) -> str:
    """`text` (a cell as written) without a leading `ĐVT:`, `Đơn vị tính:` or `Đơn vị`
    label: what is left of `ĐVT: nghìn đồng` is its unit, of `ĐVT` nothing."""
    return _WRITTEN_LABEL.sub("", text, count=1).strip()


def per_month(unit: str | None) -> bool:
    """Whether a unit gives an amount a month: `triệu đồng/người/tháng`, `tr.đ/tháng`, or
    the period alone, the money unit left to the default (`tháng`, `người/tháng`)."""
    if unit is None:
        return False
    parts = [_per_key(part) for part in unit.replace(DONG_SIGN, "đ").split("/")]
    return any(part == "thang" for part in parts[1:]) or parts[0] == "thang"


def _per_key(part: str) -> str:
    """A part of a rate's unit as its match key, without a leading `1`/`một`/`mỗi`."""
    return _ONE_OF.sub("", match_key(part))


_ONE_OF = re.compile(r"^(?:1|mot|moi)\s+")
# A rate's units that say per whom or per when, not the scale: `(người/tháng)` over money.
_PER_WHOM = {"nguoi", "thanh vien", "lao dong", "ho", "thang", "nam"}


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
    text = _as_minus(unquoted(raw).replace(" ", "").replace("%", ""))
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


def _as_minus(text: str) -> str:
    """`text` with a leading dash (`–125,5`, `— 125,5`) written as `-`: a minus (rule 14)."""
    return "-" + text[1:] if text[:1] in _DASHES else text


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
        # `1.250` is ambiguous and the Vietnamese reading wins: the dot groups thousands;
        # `0.250` is not: no group of thousands follows a lone 0.
        if len(frac) == 3 and whole and whole.lstrip("+-") != "0":
            return whole + frac
        return text
    return text


def _check_groups(text: str, group: str) -> None:
    parts = text.split(group)
    if not parts[0] or len(parts[0]) > 3 or any(len(p) != 3 for p in parts[1:]):
        raise ValueError("not a number")


# Units a clerk writes in the cell itself (rule 14), by their key (`_unit_key`): money
# units as `money_unit_factor` reads them; count units by what they measure.
CELL_COUNT_UNITS = {
    "nguoi": "people",
    "thanhvien": "people",
    "xavien": "people",
    "tv": "people",
    "laodong": "people",
    "ld": "people",
    # members may be households (thành viên là hộ gia đình), which count as members only
    "ho": "households",
    "hogiadinh": "households",
    "tan": "tonnes",
    "kg": "kilograms",
    "ta": "quintals",
    "sao": "stars",
    "diem": "points",
    "ha": "hectares",
    # Measures no column of the template takes, named so a volume in litres, cubic metres or
    # head is a unit that does not fit, never read as tonnes (helper CL).
    "lit": "litres",
    "m3": "cubic metres",
    "khoi": "cubic metres",
    "metkhoi": "cubic metres",
    "con": "head",
}
# A number, then words: `1,2 tỷ`, `(125,5) tr.đ`, `45.000.000 đ`, `25 người`.
_NUMBER_THEN_UNIT = re.compile(r"^([-−+(]?\s?[0-9][0-9.,\s]*\)?)\s*([^\W\d_][\w.\s]*)$")
# An amount as it is said, each part with its scale: `2 tỷ 500 triệu`, `3 triệu 500 nghìn
# đồng`, a loss `-2 tỷ 500 triệu`.
_SPOKEN_PART = re.compile(r"([0-9][0-9.,]*)\s*([^\W\d_][^\d]*?)\s*(?=[0-9]|$)")
_SPOKEN_AMOUNT = re.compile(r"(?P<minus>[-−]\s?)?(?:[0-9][0-9.,]*\s*[^\W\d_][^\d]*?\s*){2,}")
# An amount said short (`3tr5`, `1ty2`, `1 tỷ 2`): a whole number, a scale and one digit, the
# scale's tenth, as it is said (`ba triệu năm`, 3.5 triệu; a unit after the digit makes it an
# amount said in parts: `3 triệu 5 nghìn` is 3.005); or three digits, the next scale's (`3tr500`
# is 3 triệu 500 nghìn, `2 tỷ 050` 2 tỷ 50 triệu: the decimal reading is the same amount). Two
# digits (`3tr25`: 3.25, or 3 triệu 25 nghìn?) or four are not guessed.
_SHORTHAND = re.compile(
    r"(?P<minus>-\s?)?(?P<whole>[0-9]+)\s*(?P<scale>[^\W\d_]+)\s*(?P<tenth>[0-9](?:[0-9]{2})?)"
)
# `k` is nghìn in a cell (`500k`, `500kđ`), not in a header, where `(K)` may be a column's letter.
_THOUSAND = re.compile(r"^k(?=(?:dong|vnd|d)?$)")
# A currency before the amount, as English-style text writes it: `VNĐ 45.000.000`, `VND
# 45,000,000`, `₫45.000.000` (a scale word never comes first: `tỷ 1,2` is no amount).
_CURRENCY_THEN_NUMBER = re.compile(r"^([^\W\d_]+\.?)\s*([-−+]?\s?[0-9][0-9.,\s]*)$")


class UnitMismatch(ValueError):
    """A unit written in the cell that does not fit its column (`tấn` in money)."""

    def __init__(self, unit: str) -> None:
        super().__init__(f"unit {unit!r} does not fit the column")
        self.unit = unit


def _unit_key(unit: str) -> str:
    """`tr.đ` -> `trd`, `Triệu đồng` -> `trieudong`, `VNĐ` -> `vnd`, `₫` -> `d`."""
    return match_key(unit.replace(DONG_SIGN, "đ").replace("³", "3")).replace(" ", "")


def _cell_unit_key(unit: str) -> str:
    """`_unit_key`, with a cell's `k` for nghìn: `500k` -> `nghin`, `500kđ` -> `nghind`."""
    return _THOUSAND.sub("nghin", _unit_key(unit))


def _with_unit(raw: object, remarks: bool = True) -> tuple[float | None, str | None, str | None]:
    """(number, unit key, unit as written): the plain number first, the cell's own unit only
    for text that is no plain number (the hot path never reaches the pattern). An accounting
    negative may hold its unit inside the parentheses: `(1,2 tỷ)` is −1,200 million VND.
    Text that is no amount as it stands may be one with a remark (`_remarked`)."""
    try:
        return parse_number(raw), None, None
    except ValueError:
        if not isinstance(raw, str):
            raise
    try:
        return _written_with_unit(raw)
    except ValueError:
        if not remarks:
            raise
        return _remarked(unquoted(raw))


def _written_with_unit(raw: str) -> tuple[float | None, str | None, str | None]:
    text = _as_minus(unquoted(raw).replace(DONG_SIGN, "đ"))
    negative = text.startswith("(") and text.endswith(")")
    body = text[1:-1].strip() if negative else text
    said = _SPOKEN_AMOUNT.fullmatch(body)
    if said:
        if negative and said["minus"]:
            raise ValueError("not a number")
        amount, key, unit = _spoken(body[said.end("minus") :] if said["minus"] else body)
        return -amount if negative or said["minus"] else amount, key, unit
    short = _SHORTHAND.fullmatch(body)
    if short and _cell_unit_key(short["scale"]) in MONEY_SCALES:
        if negative and short["minus"]:
            raise ValueError("not a number")
        amount = float(f"{short['whole']}.{short['tenth']}")
        key = _cell_unit_key(short["scale"])
        return -amount if negative or short["minus"] else amount, key, short["scale"]
    found = _NUMBER_THEN_UNIT.match(body)
    ahead = None if found else _CURRENCY_THEN_NUMBER.match(body)
    if found:
        number, unit = found.groups()
    elif ahead and _unit_key(ahead.group(1)) in MONEY_CURRENCIES:
        unit, number = ahead.groups()
    else:
        raise ValueError("not a number")
    if negative and number.lstrip()[:1] in "-−+(":
        raise ValueError("not a number")
    key = _cell_unit_key(unit)
    if money_unit_factor(key) is None and key not in CELL_COUNT_UNITS:
        raise ValueError("not a number")
    value = parse_number(number)
    if value is None:
        raise ValueError("not a number")
    return -value if negative else value, key, unit


def _spoken(body: str) -> tuple[float, str, str]:
    """`2 tỷ 500 triệu` as (2500, its last unit's key, that unit as written): every part a
    money scale, each smaller than the one before and less than one of it (`1 triệu 2 tỷ`
    and `2 tỷ 1.500 triệu`, a slip of the keyboard, are no amount). A currency alone after
    a scale is none either: `1tr2đ` may be 1,2 triệu đồng (`_SHORTHAND`) or 1 triệu 2 đồng."""
    parts = _SPOKEN_PART.findall(body)
    total, before = 0.0, float("inf")
    for number, unit in parts:
        key = _cell_unit_key(unit)
        factor = money_unit_factor(key)
        value = parse_number(number)
        if factor is None or value is None or factor >= before or value * factor >= before:
            raise ValueError("not a number")
        if key in MONEY_CURRENCIES:
            raise ValueError("not a number")
        total, before = total + value * factor, factor
    last = parts[-1][1]
    return total / before, _unit_key(last), last


# A figure the clerk says is an estimate, before it (`khoảng 500`, `~500`, `xấp xỉ 500`, `ước
# tính: 500`) or after it (`500 (ước)`, as `2019 (ước)` is the year 2019 in a date column).
# A bound (`trên 500`, `gần 500`), a range (`khoảng 400-500`) or a plan (`500 (dự kiến)`,
# rule 2's result rather than the plan) is no figure: not read.
_ESTIMATE_LEAD = re.compile(
    r"^(?:ước tính|ước khoảng|ước|khoảng|xấp xỉ|uoc tinh|uoc|khoang|xap xi|~|≈)\s*:?\s*"
    r"(?=[-(]?\s?[0-9])",
    re.IGNORECASE,
)
_ESTIMATE_NOTE = re.compile(r"(?:so (?:lieu )?)?uoc(?: tinh| dat| thuc hien| th)?|uth")
# A figure and, in parentheses after it, a part of it: `25 (trong đó 5 nữ)`, `25 người (5
# nữ)`, `1.250 (trong đó vốn góp 800)`. A part larger than the whole says something else
# (`20 (sửa lại 25)`, `500 (năm 2022: 450)` are no parts): not read.
_BREAKDOWN_NOTE = re.compile(
    r"trong do\b.*|\d+ (?:lao dong |ld |thanh vien |tv |nguoi )?nu|(?:lao dong |ld )?nu \d+"
)
_FIGURE_THEN_NOTE = re.compile(r"^(?P<figure>.*?\S)\s*\((?P<note>[^()]+)\)$")
# A part's number and the word after it, which may be its money unit (`300 triệu`).
_NOTE_NUMBER = re.compile(r"(?P<number>[0-9]+(?:[.,][0-9]+)*)\s*(?P<word>[^\W\d_][\w.]*)?")


def _remarked(text: str) -> tuple[float | None, str | None, str | None]:
    """The figure of a cell that says it is an estimate, or gives a part of it beside it: read
    as `_with_unit` reads the figure alone (one remark: `khoảng 500 (ước)` is not read)."""
    lead = _ESTIMATE_LEAD.match(text)
    if lead:
        return _with_unit(text[lead.end() :], remarks=False)
    noted = _FIGURE_THEN_NOTE.match(text)
    if noted is None or "?" in noted["note"]:
        raise ValueError("not a number")
    note = match_key(noted["note"])
    if _ESTIMATE_NOTE.fullmatch(note):
        return _with_unit(noted["figure"], remarks=False)
    if _BREAKDOWN_NOTE.fullmatch(note):
        figure = _with_unit(noted["figure"], remarks=False)
        if figure[0] is not None and all(
            _part_fits(part, figure) for part in _NOTE_NUMBER.finditer(noted["note"])
        ):
            return figure
    raise ValueError("not a number")


def _part_fits(part: re.Match, figure: tuple[float | None, str | None, str | None]) -> bool:
    """Whether a part is no larger than the whole: in million VND when both say their money
    unit (`1 tỷ (trong đó 300 triệu)`), else as the numbers are written."""
    value = parse_number(part["number"])
    whole, key = figure[0], figure[1]
    if value is None or whole is None:
        return False
    part_factor = money_unit_factor(_cell_unit_key(part["word"] or ""))
    whole_factor = money_unit_factor(key) if key else None
    if part_factor is not None and whole_factor is not None:
        return value * part_factor <= abs(whole) * whole_factor
    return value <= abs(whole)


# The scale words of money, longest first, and how many units each makes.
_SCALE_WORDS = sorted(MONEY_SCALES, key=len, reverse=True)
_SCALE_TIMES = {word: factor * 1e6 for word, factor in MONEY_SCALES.items()}
# A scaled measure that is a column's own (`nghìn kg` is tonnes): no scaling needed.
_SAME_MEASURE = {("kilograms", 1000.0): "tonnes"}

# Currencies that are not đồng, by their unit key: a money column counts VND only.
_FOREIGN_MONEY = frozenset({"usd", "eur", "euro", "dola", "dolamy", "do", "cny", "nhandante"})


def header_unit_misfits(kind: str, units: tuple[str, ...], unit: str | None) -> bool:
    """Whether a header's unit is a unit the column cannot be read in: a count or a foreign
    currency over money (`Giá trị hợp đồng (USD)`), another measure over a count
    (`Sản lượng (kg)` where the column is tonnes). Its numbers would be read 1,000 times
    off, or in another currency, without a word. A remark in the parentheses that is no
    unit (`Doanh thu (năm 2023)`, `Điểm (thang 100)`) fits: it says nothing of the scale."""
    if not unit:
        return False
    key = _unit_key(unit.split("/")[0])
    times, scaled = _scaled(unit)  # `nghìn USD`, `1.000 tấn`: a scale of another unit
    if kind == "money":
        if "/" in unit and is_rate(unit):
            return False  # `người/tháng`: a rate's whom and when, the money unit the default
        return money_factor(unit) is None and (
            any(k in CELL_COUNT_UNITS or k in _FOREIGN_MONEY for k in (key, scaled))
            or "$" in unit
            or "€" in unit
        )
    # A money unit over a count may be a group cell's, spread over the columns under it
    # (`Kết quả SXKD (đồng)`): only another measure says the count is in another unit, or
    # a scale (`nghìn tấn`: counts are never scaled, their numbers would be 1,000 times off).
    measure = CELL_COUNT_UNITS.get(scaled)
    if measure is None:
        return False
    fits = {CELL_COUNT_UNITS[_unit_key(u)] for u in units}
    if times != 1:
        measure = _SAME_MEASURE.get((measure, times), "")
    return measure not in fits


def parse_quantity(raw: object, units: tuple[str, ...] = (), whole: bool = False) -> float | None:
    """A count or measure, with or without its unit in the cell (`25 người`, `12 tấn`).

    `units` are the column's own units (the layout's `Column.units`); a unit of another
    measure, or money, raises `UnitMismatch`.
    """
    value, key, written = _with_unit(raw)
    if key is not None:
        fits = {CELL_COUNT_UNITS[_unit_key(u)] for u in units}
        # `80đ` in a score: `đ` shortens `điểm` there, not `đồng`.
        measure = "points" if key == "d" and "points" in fits else CELL_COUNT_UNITS.get(key)
        if measure not in fits:
            raise UnitMismatch(written or key)
    if whole and value is not None:
        if value != int(value):
            raise ValueError("not a whole number")
        return int(value)
    return value


# OCOP stars as clerks write them: `★★★★`, `***`, `4★`, `4*`, `4 sao (cấp tỉnh)`, `Bốn sao`.
_STAR_SIGNS = frozenset("★⭐*\ufe0f")  # `⭐` may carry its emoji variation selector
_NUMBER_THEN_STAR = re.compile(r"^(\d+)\s*[★⭐*]\ufe0f?$")
# The number (or its word) and `sao`, then at most a level (`cấp tỉnh`, `(quốc gia)`): any
# other text after it may say another number (`3 sao - 4 sao`), so it is not read past.
_STARS_THEN_WORDS = re.compile(
    r"^(?:(?:san pham )?ocop |(?:dat )?(?:xep )?hang |dat )?"  # `OCOP 4 sao`, `Hạng 4 sao`
    r"(\w+) sao(?: ocop)?(?: (?:cap |hang )?(?:huyen|tinh|trung uong|quoc gia))?$"
)
_STAR_WORDS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5}
# When the stars were given, in parentheses after them: a year (`4 sao (2023)`, `(năm 2023)`)
# or the decision (`(QĐ 2023)`, `(QĐ số 1234/QĐ-UBND)`, `(Quyết định 56/QĐ-UBND ngày …)`).
_STARS_DATED = re.compile(r"^(?P<stars>[^()]*\S)\s*\((?P<when>[^()]+)\)$")
_STARS_WHEN = re.compile(r"^(?:(?:nam )?(?:19|20)\d\d|(?:qd|quyet dinh)(?: .*)?)$")


# A certificate of OCOP is valid 36 months from its decision date. Its years may stand in
# the parentheses in place of the year given: `4 sao (2023-2026)`, `(2023 - 2026)`, or its
# years counted whole (`2023-2025`: 2023, 2024 and 2025). A longer, shorter or reversed range
# is no certificate's, and is not read.
OCOP_VALID_MONTHS = 36
_STARS_VALID = re.compile(r"^((?:19|20)\d\d)\s*[-\u2010-\u2015\u2212]\s*((?:19|20)\d\d)$")


def _stars_given_when(note: str) -> bool:
    """Whether parentheses say only when the stars were given: no stars of their own (`(QĐ
    nâng 4 sao)`)."""
    valid = _STARS_VALID.match(note.strip())
    if valid:
        years = int(valid[2]) - int(valid[1])
        return years * 12 in (OCOP_VALID_MONTHS, OCOP_VALID_MONTHS - 12)
    key = match_key(note)
    return bool(_STARS_WHEN.match(key)) and "sao" not in key.split() and not _STAR_SIGNS & set(note)


def parse_stars(raw: object) -> int | None:
    """A number of stars (`Số sao`): as `parse_quantity` reads a count of `sao`, and the star
    signs themselves (`★★★★` is 4, `4★`), the number in words (`Bốn sao`), the rank's words
    before it (`OCOP 4 sao`, `Hạng 4 sao`, `đạt 3 sao`), and a level after it (`3 sao cấp
    tỉnh`, `5 sao (quốc gia)`: the level is the number's, not another figure). An empty
    star `☆` is no star: such a cell stays unreadable."""
    if isinstance(raw, str):
        text = unquoted(raw).strip()
        dated = _STARS_DATED.match(text) if text.endswith(")") else None
        if dated and _stars_given_when(dated["when"]):
            return parse_stars(dated["stars"])
        if text and set(text) <= _STAR_SIGNS and set(text) - {"\ufe0f"}:
            return sum(1 for ch in text if ch != "\ufe0f")
        found = _NUMBER_THEN_STAR.match(text)
        if found:
            return int(found.group(1))
        found = _STARS_THEN_WORDS.fullmatch(match_key(text))
        if found:
            word = found.group(1)
            if word in _STAR_WORDS:
                return _STAR_WORDS[word]
            if word.isdigit():
                return int(word)
    return _whole(parse_quantity(raw, ("sao",), whole=True))


# A score out of 100 as a form writes it: `85/100`, `85 điểm/100`, `85/100 điểm`.
_OUT_OF_100 = re.compile(r"^(?P<points>.+?)\s*/\s*100\s*(?:điểm|đ)?$", re.IGNORECASE)


def parse_score(raw: object) -> float | None:
    """A rating score (`Điểm`, 0–100): as `parse_quantity` reads a count of `điểm`, and the
    points out of 100 (`85/100`, `85 điểm/100`). Out of any other total (`8,5/10`), it is
    unreadable: another scale is not rescaled."""
    try:
        return parse_quantity(raw, ("điểm",))
    except UnitMismatch:
        raise
    except ValueError:
        found = _OUT_OF_100.match(unquoted(raw)) if isinstance(raw, str) else None
        if found is None:
            raise
    points = parse_quantity(found["points"], ("điểm",))
    if points is None:
        raise ValueError("not a number")
    return points


_YEAR_WORD = re.compile(r"^nam (\d{4})$")


def parse_year(raw: object) -> int | None:
    """A year (`Năm` in HoTro, the year of a disbursement): `2023`, `Năm 2023` (as ThongTin's
    `Năm báo cáo` reads), the year of a date given in its place (a date cell,
    `15/06/2023`, `06/2023`), and the one 4-digit year of a text that is neither (`Quý
    II/2023`). Anything else as a count without a unit reads it."""
    if isinstance(raw, dt.date):  # a datetime too
        return typed_year(raw) or raw.year
    if isinstance(raw, str) and not is_blank(raw):
        found = _YEAR_WORD.match(match_key(raw))
        if found:
            return int(found.group(1))
        try:
            return _whole(parse_quantity(raw, whole=True))
        except UnitMismatch:
            raise
        except ValueError as not_a_year:
            try:
                dated = parse_dated(raw)
            except ValueError:
                return _one_year(raw, not_a_year)
            if dated is None:
                raise
            # The year must be written: `1.5` or `31.12` is no date of a year but an Excel
            # serial day parse_dated would take (1899, 1900), a year the clerk never wrote.
            if str(dated[0].year) not in _FOUR_DIGITS.findall(raw):
                raise not_a_year from None
            return dated[0].year
    return _whole(parse_quantity(raw, whole=True))


def typed_year(raw: dt.date) -> int | None:
    """The year typed into a cell formatted as a date (`2023`, which Excel shows as
    15/07/1905, or 16/07/1909 in a workbook of the 1904 date system: the two spans of days
    are years apart, so either system's tells), else None. No date of a report falls in
    them (`_FIRST_SERIAL`)."""
    day = raw.date() if isinstance(raw, dt.datetime) else raw
    if isinstance(raw, dt.datetime) and raw != dt.datetime.combine(day, dt.time()):
        return None
    for epoch in (EXCEL_EPOCH, _MAC_EPOCH):
        if _YEARS[0] <= (typed := (day - epoch).days) <= _YEARS[1]:
            return typed
    return None


# The 1904 date system's day 0 (old Excel for Mac); a file's own epoch is the guard's.
_MAC_EPOCH = dt.date(1904, 1, 1)
_FOUR_DIGITS = re.compile(r"(?<!\d)\d{4}(?!\d)")
# A 4-digit number that is no part of a decimal or a grouped number (`2023.5`, `1.2023`).
_YEAR_IN_TEXT = re.compile(r"(?<![\d.,])\d{4}(?!\d|[.,]\d)")


def _one_year(raw: str, not_a_year: ValueError) -> int:
    """The year of a part of it or of a remark beside it (`Quý II/2023`, `6 tháng đầu năm
    2023`, `Đợt 2 - 2023`): the one 4-digit year written; two (`2022-2023`) or none is no
    year."""
    years = set(_YEAR_IN_TEXT.findall(raw))
    if len(years) != 1:
        raise not_a_year from None
    year = int(years.pop())
    if not _YEARS[0] <= year <= _YEARS[1]:
        raise not_a_year from None
    return year


def _whole(value: float | None) -> int | None:
    return None if value is None else int(value)


def parse_int(raw: object) -> int | None:
    value = parse_number(raw)
    if value is None:
        return None
    if value != int(value):
        raise ValueError("not a whole number")
    return int(value)


def parse_money(
    raw: object,
    factor: float = 1.0,
    period: int = 1,
    per_year: bool = False,
    says_loss: bool = False,
) -> float | None:
    """Money scaled to million VND by `factor` (see `money_factor`), or by the cell's own
    unit, which wins (`1,2 tỷ`, `350 tr`, `45.000.000 đ`); a count's unit raises
    `UnitMismatch`. A `%` is no amount (rule 5: never on a money column).

    `period` is how many of the header's periods make the column's (12: a month's income in
    a yearly column), already in `factor`: a cell's unit replaces the money unit, not the
    month (`5 triệu` under `(triệu đồng/tháng)` is 60 a year, as a bare 5 is). In a column
    of money a year (`per_year`), a cell may say its own period, which wins: `5 triệu/tháng`
    is 60, `60 triệu/năm` and `60 triệu/người` are 60.

    A column that may be negative (`says_loss`: the pre-tax profit) may say its sign in words
    (`Lỗ 50`, `50 (lỗ)`, `Lãi 50`; see `_said_profit`), read only when the cell is no
    amount as it stands."""
    if raw.__class__ is str and "%" in raw:
        raise ValueError("a percentage is not an amount")
    if says_loss and raw.__class__ is str:
        try:
            return parse_money(raw, factor, period, per_year)
        except UnitMismatch:
            raise
        except ValueError:
            return _said_profit(raw, factor, period, per_year)
    if per_year and raw.__class__ is str and "/" in raw:
        raw, cell_period = _cell_rate(raw)
        if cell_period is not None:
            factor, period = factor / period * cell_period, cell_period
    value, key, written = _with_unit(raw)
    if value is None:
        return None
    if key is not None:
        unit_factor = money_unit_factor(key)
        if unit_factor is None:
            raise UnitMismatch(written or key)
        factor = unit_factor * period
    return round(value * factor, 6)


# A profit or a loss said in words (`Lỗ 50`, `lỗ: 50 triệu`, `Thua lỗ 50`, `Âm 50`; `Lãi 50`,
# `Lời 50`), or its word in parentheses after the amount (`50 (lỗ)`, `50 (lãi)`). `lỗ` and
# `lãi` may be typed without tone marks (`Lo 50`, `Lai 50`: in a profit column a lot, `lô`, is
# no amount), and so may `âm` (`Am 50`); `lời` may not (`Loi 50` may be `lỗi`, a mistake), nor
# a wrong mark (`Lô 50`).
_SIGN_WORDS = {
    **{"lỗ": -1, "thua lỗ": -1, "bị lỗ": -1, "âm": -1, "lãi": 1, "có lãi": 1, "lời": 1},
    **{"lo": -1, "thua lo": -1, "bi lo": -1, "am": -1, "lai": 1, "co lai": 1},
}
_SIGN_WORD = "|".join(sorted(_SIGN_WORDS, key=len, reverse=True))
_WORD_THEN_AMOUNT = re.compile(rf"^(?P<word>{_SIGN_WORD})\s*:?\s*(?P<amount>.+)$", re.I)
_AMOUNT_THEN_WORD = re.compile(rf"^(?P<amount>.+?)\s*\((?P<word>{_SIGN_WORD})\)$", re.I)
# Break-even, no profit and no loss: 0.
_BREAK_EVEN = {"hoa von"}


def _said_profit(raw: str, factor: float, period: int, per_year: bool) -> float:
    """A profit said in words: a loss is the amount's negative whether or not the amount has
    its own minus (`-50 (lỗ)` says the loss twice: −50, never −(−50)); a profit with a
    minus (`Lãi -50`) says both, and is no amount."""
    text = unquoted(raw)
    if match_key(text) in _BREAK_EVEN:
        return 0.0
    said = _WORD_THEN_AMOUNT.match(text) or _AMOUNT_THEN_WORD.match(text)
    if said is None:
        raise ValueError("not a number")
    sign = _SIGN_WORDS[said["word"].lower()]
    value = parse_money(said["amount"], factor, period, per_year)
    if value is None or (sign > 0 and value < 0):
        raise ValueError("not a number")
    return (-abs(value) if sign < 0 else value) or 0.0


def _cell_rate(text: str) -> tuple[str, int | None]:
    """(the amount, the months in its period) of a rate a cell writes: `5 triệu/người/tháng`
    is (`5 triệu`, 12), `60 tr/năm` (`60 tr`, 1), `60 triệu/người` (`60 triệu`, None: the
    column's). Only whom and when may follow the amount; anything else is no amount."""
    amount, *per = text.split("/")
    keys = [_per_key(part) for part in per]
    if (
        is_blank(amount)
        or not all(key in _PER_WHOM for key in keys)
        or keys.count("thang") + keys.count("nam") > 1
    ):
        raise ValueError("not a number")
    return amount, 12 if "thang" in keys else 1 if "nam" in keys else None


# How much of a date the cell gave (rule 18): a month or a year alone is stored as its
# first day, with its precision beside it.
DAY, MONTH, YEAR = "day", "month", "year"
_DATE_PATTERNS = (
    re.compile(r"^(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4}|\d{2})$"),
    # Year first (`2019-03-05`, `2019/03/05`, `2019.3.5`): never day-first.
    re.compile(r"^(?P<y>\d{4})([/.-])(?P<m>\d{1,2})\2(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<m>\d{1,2})[/.-](?P<y>\d{4})$"),
)
# The same in words, on the unaccented lower-case text: `ngày 15 tháng 3 năm 2019`,
# `15 thg 3, 2019` (as Google Sheets writes it), `tháng 3/2019`, `năm 2019`; and English
# month names (`15 March 2019`, `Mar 15, 2019`, `15-Mar-2019`).
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAME = rf"(?P<name>{'|'.join(_MONTH_NAMES)})[a-z]*\.?"
_WORD_DATE_PATTERNS = (
    re.compile(
        r"^(?:ngay\s*)?(?P<d>\d{1,2})\s*(?:thang|thg)\s*(?P<m>\d{1,2})\s*(?:nam|[/.,-])\s*"
        r"(?P<y>\d{4}|\d{2})$"
    ),
    # `tháng 3/2019`, and shortened as clerks write it: `T3/2019`, `T.03/2019`.
    re.compile(r"^(?:thang|thg|t\.?)\s*(?P<m>\d{1,2})\s*(?:nam|[/.,-])\s*(?P<y>\d{4})$"),
    re.compile(r"^nam\s*(?P<y>\d{4})$"),
    re.compile(rf"^(?P<d>\d{{1,2}})(?:st|nd|rd|th)?[\s-]+{_MONTH_NAME}[\s,-]+(?P<y>\d{{4}})$"),
    re.compile(rf"^{_MONTH_NAME}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})$"),
    re.compile(rf"^{_MONTH_NAME}[\s,-]+(?P<y>\d{{4}})$"),
)
_SPACED_SEPARATOR = re.compile(r"(?<=\d)\s*([/.-])\s*(?=\d)")
# The lead-in of a date as a document writes it: `ngày 15/3/2019`, `Ngày: 15/03/2019`,
# `Đắk Mil, ngày 15 tháng 3 năm 2019` (a place, a comma, then `ngày`).
_DAY_LEAD_IN = re.compile(r"^(?:[^,\d]+,\s*)?ng(?:à|a\u0300)y\s*:?\s*(?=\d)", re.IGNORECASE)
# One `.`, `,`, `;` or `:` after the date's last digit or letter: not `?` (a doubt), not
# `...` (left unfinished), not `.5` (a number that goes on).
_END_MARK = re.compile(r"(?<=\w)\s*[.,;:]$")
_TIME = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?")
# A number in a date column that is a year, not an Excel serial day (1905 is no founding).
_YEARS = (1900, 2100)


def parse_date(
    raw: object, report_year: int | None = None, epoch: dt.date = EXCEL_EPOCH
) -> dt.date | None:
    """A date from a date cell, an Excel serial number or day-first text (see `parse_dated`)."""
    dated = parse_dated(raw, report_year, epoch)
    return None if dated is None else dated[0]


def parse_dated(
    raw: object, report_year: int | None = None, epoch: dt.date = EXCEL_EPOCH
) -> tuple[dt.date, str] | None:
    """(date, precision) from a date cell, an Excel serial number, day-first text or words.

    A month or a year alone is its first day, with precision `month` or `year`. A two-digit
    year is 20xx when that is not after `report_year`, else 19xx; without a report year it
    cannot be read. A serial number counts days from the file's `epoch`: a date cell is
    already a date (python-calamine converts it with the workbook's own date system), a
    number formatted General is not, and in a 1904 workbook it is 1,462 days later.
    """
    if is_blank(raw):
        return None
    if isinstance(raw, dt.date):
        # A year typed into a cell formatted as a date (`2019`, which Excel shows as
        # 11/07/1905): the year, as the same number formatted General is (helper BS).
        if typed := typed_year(raw):
            return dt.date(typed, 1, 1), YEAR
        return (raw.date() if isinstance(raw, dt.datetime) else raw), DAY
    if isinstance(raw, bool):
        raise ValueError("not a date")
    if isinstance(raw, int | float):
        return _from_number(raw, epoch)
    # `15 / 03 / 2019`: spaces around a separator do not count; nor does the one mark that
    # ends a sentence or a list item after the date (`15/03/2019.`, `15/03/2019;`).
    text = _END_MARK.sub("", unquoted(raw))
    text = _SPACED_SEPARATOR.sub(r"\1", _DAY_LEAD_IN.sub("", text, count=1))
    head = text.split(" ")[0] if " " in text else text  # `12/05/2021 00:00:00`
    for pattern in _DATE_PATTERNS:
        found = pattern.match(head)
        if found:
            return _from_parts(found, report_year)
    if any(ch.isalpha() for ch in text):
        words = unaccent(text).lower()
        for pattern in _WORD_DATE_PATTERNS:
            found = pattern.match(words)
            if found:
                return _from_parts(found, report_year)
    # A serial number, or a year alone, perhaps with a time; never the first number of a
    # text that goes on (`15 03 2019`, `15 thg 3, 2019`: not serial day 15 of 1900).
    rest = text[len(head) :].strip()
    if re.fullmatch(r"\d+(\.\d+)?", head) and (not rest or _TIME.fullmatch(rest)):
        return _from_number(float(head), epoch)
    # A year and words without a number (`2019 (ước)`): that year.
    if re.fullmatch(r"\d{4}", head) and not any(ch.isdigit() for ch in rest):
        year = int(head)
        if _YEARS[0] <= year <= _YEARS[1]:
            return dt.date(year, 1, 1), YEAR
    raise ValueError("not a date")


def _from_number(raw: float, epoch: dt.date = EXCEL_EPOCH) -> tuple[dt.date, str]:
    if raw == int(raw) and _YEARS[0] <= raw <= _YEARS[1]:
        return dt.date(int(raw), 1, 1), YEAR
    # The bounds are days, whatever the epoch: the number as the 1900 system counts that day.
    if not _FIRST_SERIAL <= raw + (epoch - EXCEL_EPOCH).days < _PAST_LAST_SERIAL:
        raise ValueError("not a date")
    return epoch + dt.timedelta(days=int(raw)), DAY


# The first serial day read as a date (18/05/1927): no date of a report (a founding, a
# decision, the report's own) is earlier, and a smaller number that is no year is a typo
# (`2109` for 2019 would be 09/10/1905), unreadable, so the clerk is told.
_FIRST_SERIAL = 10_000
_PAST_LAST_SERIAL = 2_958_466  # 01/01/10000, past the last day a date can hold


def _from_parts(found: re.Match, report_year: int | None) -> tuple[dt.date, str]:
    parts = found.groupdict()
    if parts.get("name"):  # an English month name
        parts["m"] = str(_MONTH_NAMES.index(parts["name"]) + 1)
    year_text = parts["y"]
    year = int(year_text)
    if len(year_text) == 2:
        if report_year is None:
            raise ValueError("a two-digit year needs the report year")
        year += 2000 if 2000 + year <= report_year else 1900
    if parts.get("d") is not None:
        return dt.date(year, int(parts["m"]), int(parts["d"])), DAY
    if parts.get("m") is not None:
        return dt.date(year, int(parts["m"]), 1), MONTH
    return dt.date(year, 1, 1), YEAR


def parse_yesno(raw: object) -> bool:
    """`x`, `Có`, `1`, `Yes` (`Y`) and a tick (`✓`, `√`) are yes; blank, `Không` (`Ko`, `Không
    có`), `0`, `No` (`N`), `Chưa` and a dash are no; so are a yes and a no said with the
    column's verb (`Có tham gia`, `Đã ký`; `Không tham gia`, `Chưa ký`), and a no whose
    remark says the no again (`Không (chưa ký)`). Any other mark is not read as either (never
    a silent no)."""
    if raw is None:
        return False
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float):
        if raw in (0, 1):
            return bool(raw)
        raise ValueError("not yes/no")
    text = unquoted(raw)  # `'-`, `'x`: a typed text's apostrophe goes (rule 15)
    remarked = _MARK_THEN_REMARK.match(text) if text.endswith(")") else None
    if remarked and _reads_no(remarked["mark"]):
        if "?" not in remarked["remark"] and _says_no(match_key(remarked["remark"])):
            return False
        raise ValueError("not yes/no")
    key = match_key(text)
    if key in _YES:
        return True
    if key in _NO and (key or _NO_MARK.fullmatch(text)):
        return False
    if _TICK.fullmatch(text):
        return True
    said, _, verb = key.partition(" ")
    if verb in _SAID_VERBS and said in _YES_SAID | _NO_SAID:
        return said in _YES_SAID
    if key == "chua":
        return False
    if remarked and _names_a_contract(remarked["remark"]):
        try:
            if parse_yesno(remarked["mark"]) is True:
                return True
        except ValueError:
            pass
    raise ValueError("not yes/no")


# A yes and, in parentheses after it, the contract or the partner it is with (`Có (HĐ với Cty
# ABC)`, `x (HĐ số 12/2023)`, `Có (Công ty TNHH ABC)`): still a yes. A remark that says the
# contract is not (yet, or any longer) in force (`Có (dự kiến)`: a plan is not a contract;
# `(HĐ đang đàm phán)`, `(HĐ đã hết hạn)`) or doubts it (`?`) is neither; so is a no beside
# a contract (`Không (HĐ với Cty ABC)` says both).
_MARK_THEN_REMARK = re.compile(r"^(?P<mark>[^()]+?)\s*\((?P<remark>[^()]+)\)$")
_CONTRACT_NAMED = re.compile(
    r"^(?:(?:hd|hop dong)(?: lien ket| tieu thu| bao tieu)* (?:so|voi|cung) "
    r"|(?:voi |cung )?(?:cty|cong ty|dn|doanh nghiep) )"
)
# Words that take the contract back, compared without tone marks where that is unambiguous,
# else as written (`đang`, not `Đăng`, a partner's name).
_NOT_IN_FORCE_KEYS = frozenset(
    {"du kien", "ke hoach", "chua", "khong", "het han", "thanh ly", "cham dut", "dam phan"}
)
_NOT_IN_FORCE_WORDS = re.compile(r"(?<!\w)(?:đang|sẽ|hủy|huỷ|tạm|ngừng|ngưng)(?!\w)")


# A no beside a remark (`Không (chưa ký)`) is read only when the remark says the no again,
# with the column's verb or alone, the contract possibly named first (`Không (HĐ chưa ký)`); a
# yes-word there (`Không (có HĐ miệng)`, `- (có HĐ)`) or anything else says both, and is not
# read (the words are never read across the parentheses).
_NO_WORDS = {"khong", "ko", "khong co", "chua"}
_CONTRACT_FIRST = re.compile(r"^(?:hd|hop dong) (?=\S)")


def _reads_no(mark: str) -> bool:
    try:
        return parse_yesno(mark) is False
    except ValueError:
        return False


def _says_no(key: str) -> bool:
    key = _CONTRACT_FIRST.sub("", key)
    said, _, verb = key.partition(" ")
    return key in _NO_WORDS or (said in _NO_SAID and verb in _SAID_VERBS)


def _names_a_contract(remark: str) -> bool:
    key = match_key(remark)
    spaced = f" {key} "
    return (
        "?" not in remark
        and bool(_CONTRACT_NAMED.match(key))
        and not any(f" {words} " in spaced for words in _NOT_IN_FORCE_KEYS)
        and not _NOT_IN_FORCE_WORDS.search(remark.lower())
    )


# A number Excel showed in scientific notation and a clerk then stored as text
# (`6,40022E+09`): its digits are gone (rule 16).
_SCIENTIFIC = re.compile(r"^[0-9]+(?:[.,][0-9]*)?E[+-]?[0-9]+$", re.IGNORECASE)
# A whole number written with a decimal zero (`6400223301.0`): not a dot that groups digits.
_DECIMAL_ZERO = re.compile(r"^([0-9]{9,})\.0+$")
# A branch's dash as Word or a PDF writes it (`6400123456–001`) is the `-` it looks like.
_AS_HYPHEN = str.maketrans(dict.fromkeys(_DASHES, "-"))


def parse_code(raw: object) -> str | None:
    """A cooperative code: spaces and dots removed, any dash a `-`; a 9-digit number regains
    its leading 0. Text that is no digits and dashes once so tidied is returned as written.

    The result is returned even when it is not a valid code; `is_valid_coop_code` says.
    A code Excel destroyed into scientific notation is returned as written, so the clerk
    sees the cell as it is; `is_destroyed_code` says.
    """
    if raw is None:
        return None
    if isinstance(raw, float) and raw == int(raw):
        raw = int(raw)
    text = unquoted(raw).replace(" ", "").translate(_AS_HYPHEN)
    if not text:
        return None
    if ("E" in text or "e" in text) and _SCIENTIFIC.match(text):
        return text
    whole = _DECIMAL_ZERO.match(text)
    if whole:  # the number 6400223301.0 as text: the code of the number, as rule 8 reads it
        raw, text = int(whole.group(1)), whole.group(1)
    text = text.replace(".", "")
    if isinstance(raw, int) and len(text) == 9:
        text = "0" + text
    if not text.replace("-", "").isdigit():
        # Words or marks (`Đang cập nhật`, `6400 000 001 x`): no code to tidy, and the
        # clerk's cell is shown as written, not run together (`Đangcậpnhật`).
        return unquoted(raw)
    return text


def is_destroyed_code(code: str) -> bool:
    """`6,40022E+09`: a code Excel turned into a number and showed in scientific notation."""
    return bool(_SCIENTIFIC.match(code))


def is_valid_coop_code(code: str) -> bool:
    return bool(_CODE_10.match(code))


def parse_unit_code(raw: object, width: int) -> str | None:
    """A unit code zero-padded to its width: district 3 digits, province 2 digits."""
    if raw is None:
        return None
    if isinstance(raw, float) and raw == int(raw):
        raw = int(raw)
    text = unquoted(raw).replace(" ", "")
    if not text.isdigit():
        return None
    return text.zfill(width)


def parse_text(raw: object) -> str | None:
    # Rule 15: a leading apostrophe (Excel's mark for "this is text") goes in every cell.
    text = unquoted(raw)
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


# `Xếp loại` as forms and clerks write it: `Loại Khá`, `Xếp loại: Tốt`, `XL Yếu`, `TB` and
# `T.Bình` for Trung bình, `CXL` and `Chưa XL` for Chưa xếp loại. Not rated this year (`Không
# xếp loại`, `Không XL`, `Chưa đánh giá`) is no rating, as not yet rated is.
_RATING_PREFIX = re.compile(r"^(?:xep loai|loai|xl)\s*")
_RATING_SHORT = {
    "tb": "trung binh",
    "t binh": "trung binh",
    **dict.fromkeys(
        ("cxl", "chua xl", "khong xep loai", "khong xl", "kxl", "chua danh gia", "khong danh gia"),
        "chua xep loai",
    ),
}


def parse_rating(raw: object, allowed: tuple[str, ...]) -> str | None:
    """A rating (`Xếp loại`): `parse_category`, and the rating a prefixed or shortened
    spelling names (`Loại Khá` → Khá, `TB` → Trung bình); anything else as written (the
    suite refuses it)."""
    found = parse_category(raw, allowed)
    if found is None or found in allowed:
        return found
    key = _RATING_PREFIX.sub("", match_key(found)).strip()
    key = _RATING_SHORT.get(key, key)
    return next((value for value in allowed if match_key(value) == key), found)


# `Lĩnh vực` as clerks shorten or name it, by compact key (match key without spaces) -> the
# listed sector's. `Nông nghiệp` is agriculture in the broad sense of the cooperative
# statistics (VSIC section A, HTX nông nghiệp): forestry, fishery, crops, livestock and
# the services to them too, so `Nông lâm nghiệp` is no other sector. Trade, crafts or
# services alone (`Thương mại dịch vụ`, `Dịch vụ`) may be `Phi nông nghiệp` or `Khác`: not
# guessed.
SECTOR_SHORT = {
    **dict.fromkeys(
        (
            *("nn", "nonglamnghiep", "nonglamngunghiep", "nonglamthuysan"),
            *("nonglamnghiepthuysan", "nonglamnghiepvathuysan", "nongnghieplamnghiepthuysan"),
            *("nongnghieplamnghiepvathuysan", "lamnghiep", "thuysan", "nuoitrongthuysan"),
            *("trongtrot", "channuoi", "dichvunongnghiep", "dvnn", "sxnn"),
            *("sanxuatnongnghiep", "nongnghieptonghop", "nongnghiepcongnghecao"),
        ),
        "nongnghiep",
    ),
    "phinn": "phinongnghiep",
    **dict.fromkeys(
        ("qtdnd", "quytdnd", "quytd", "qtd", "tdnd", "quytindung", "tindungnhandan"),
        "quytindungnhandan",
    ),
    **dict.fromkeys(
        ("gtvt", "giaothongvantai", "vantaihanghoa", "vantaihanhkhach", "dichvuvantai"),
        "vantai",
    ),
    "xd": "xaydung",
    **dict.fromkeys(("vsmt", "vesinhmoitruong"), "moitruong"),
}
# What may stand before a sector's name in its cell or a group title: `Lĩnh vực`, `Ngành`,
# `HTX`, in either order, after `Các` or `Nhóm` (`Các HTX nông nghiệp`, `HTX lĩnh vực vận
# tải`, `Lĩnh vực HTX vận tải`).
SECTOR_PREFIX = re.compile(
    r"^(?:(?:cac|nhom)\s+(?=htx|hop tac xa))?"
    r"(?:(?:htx|hop tac xa)\s+(?:(?:linh vuc|nganh)\s+)?"
    r"|(?:linh vuc|nganh)\s+(?:(?:htx|hop tac xa)\s+)?)"
)


def parse_sector(raw: object, allowed: tuple[str, ...]) -> str | None:
    """A sector (`Lĩnh vực`): `parse_category`, and the listed sector a short form or a name
    gives (`NN`, `Quỹ TDND`, `GTVT`, `Nông, lâm nghiệp`, `Lĩnh vực nông nghiệp`; see
    `sector_named`); anything else as written (the suite warns)."""
    found = parse_category(raw, allowed)
    if found is None or found in allowed:
        return found
    return sector_named(SECTOR_PREFIX.sub("", match_key(found), count=1), allowed) or found


def sector_named(key: str, allowed: tuple[str, ...]) -> str | None:
    """The listed sector a match key names, itself or by a short form (`SECTOR_SHORT`)."""
    compact = key.replace(" ", "")
    compact = SECTOR_SHORT.get(compact, compact)
    return next((s for s in allowed if match_key(s).replace(" ", "") == compact), None)


# `Nguồn vốn` as budgets are named: `Ngân sách tỉnh`, `NS tỉnh`, `Vốn tỉnh`, `Vốn ngân sách
# cấp tỉnh` are `Tỉnh`; `TW`, `NSTW`, `TƯ`, `NSTƯ`, `Ngân sách trung ương` are `Trung ương`.
_BUDGET_PREFIX = re.compile(
    r"^(?:(?:ngan sach|nguon von|von)\s+)*(?:ngan sach|nguon von|von|ns)\s*(?:cap\s+)?"
)
_BUDGET_SHORT = {"tw": "trung uong", "ttw": "trung uong", "tu": "trung uong"}


def parse_funding_source(raw: object, allowed: tuple[str, ...]) -> str | None:
    """A funding source (`Nguồn vốn`): `parse_category`, and the listed source a budget's
    name gives (`Ngân sách tỉnh`, `NS TW`); anything else as written (the suite warns)."""
    found = parse_category(raw, allowed)
    if found is None or found in allowed:
        return found
    key = _BUDGET_PREFIX.sub("", match_key(found), count=1)
    key = _BUDGET_SHORT.get(key.replace(" ", ""), key)
    for value in allowed:
        if match_key(value) == key:
            return value
    return found


def parse_program(raw: object) -> str | None:
    """A programme code from its code or its name (`Nông thôn mới` -> `NTM`), the name
    with or without its decision in parentheses and its leading `Chương trình` / `Đề án`;
    spaces do not count (`DA 167`); its code and its name together (`NTM - Nông thôn mới`).
    Anything else is returned as written (not a known programme: the suite says so)."""
    text = parse_text(raw)
    if text is None:
        return None
    code = _program_code(text)
    if code is None:
        # Its code and its name (`NTM - Nông thôn mới`, `DA167: Đề án 167`), as a drop-down
        # list may write it: one programme when every part names the same one.
        parts = {_program_code(part) for part in _CODE_THEN_NAME.split(text)}
        code = parts.pop() if len(parts) == 1 else None
    return text if code is None else code


def _program_code(text: str) -> str | None:
    keys = _program_keys()
    plain = _PROGRAM_PERIOD.sub("", match_key(_TRAILING_PARENTHESES.sub("", text)))
    national = _PROGRAM_LEVEL.sub("", plain)
    for candidate in (
        text,
        plain,
        _PROGRAM_PREFIX.sub("", plain),
        _PROGRAM_PREFIX.sub("", national),
    ):
        code = keys.get(_program_key(candidate))
        if code is not None:
            return code
    return None


# The separator of a programme's code and its name: ` - `, ` – `, `: `.
_CODE_THEN_NAME = re.compile(r"\s+[-\u2013\u2014]\s+|\s*:\s+")
_TRAILING_PARENTHESES = re.compile(r"\s*\([^()]*\)\s*$")
# The period or the year a programme's name ends with (`NTM 2021-2025`, `Nông thôn mới giai
# đoạn 2021-2025`, `OCOP năm 2023`), as its match key has it: the same programme (helper BU:
# the file was rejected, `program_known`).
_PROGRAM_PERIOD = re.compile(r"\s+(?:giai doan\s+|nam\s+)?20\d\d(?:\s+20\d\d)?$")
# The level a programme is run at (`OCOP tỉnh`, `NTM cấp xã`): the same programme.
_PROGRAM_LEVEL = re.compile(r"\s+(?:cap\s+)?(?:tinh|huyen|xa|trung uong|quoc gia)$")
# `Chương trình` / `CT`, with `mục tiêu quốc gia` / `MTQG` (`CTMTQG` typed as one word);
# `Đề án`; `Quyết định` / `QĐ`.
_PROGRAM_PREFIX = re.compile(
    r"^(?:(?:chuong trinh|ct)(?: muc tieu quoc gia| ?mtqg)?|mtqg|de an|quyet dinh|qd"
    r"|programme|program)\s+"
)
_PROGRAM_ALIASES = {
    "de an 167": "DA167",
    "167": "DA167",
    "qd 167": "DA167",
    "167 qd ttg": "DA167",  # `Đề án 167/QĐ-TTg`, `Quyết định 167/QĐ-TTg`
    "nong thon moi": "NTM",
    "xay dung ntm": "NTM",
    "xd ntm": "NTM",  # `XD`: xây dựng, as documents shorten it
    "xd nong thon moi": "NTM",
    # the programme's higher marks, as communes report them: still the programme
    "nong thon moi nang cao": "NTM",
    "nong thon moi kieu mau": "NTM",
    "ntm nang cao": "NTM",
    "ntm kieu mau": "NTM",
    "ocop": "OCOP",
    # the rural industry programme without `Sản phẩm` or with its code (helper CP: rejected)
    "cong nghiep nong thon tieu bieu": "CNNT",
    "san pham cnnt tieu bieu": "CNNT",
}


def _program_key(text: str) -> str:
    return match_key(text).replace(" ", "")


@cache
def _program_keys() -> dict[str, str]:
    """Every accepted spelling's key -> programme code."""
    from etl.contract.layout import PROGRAM_SHORT_NAMES, PROGRAMS

    keys = {_program_key(alias): code for alias, code in _PROGRAM_ALIASES.items()}
    for code, *names in PROGRAMS:
        keys[_program_key(code)] = code
        # The short name the warehouse's own reports use (`CNNT tiêu biểu`, `Đề án 167`).
        for name in (*names, PROGRAM_SHORT_NAMES[code]):
            plain = match_key(_TRAILING_PARENTHESES.sub("", name))
            for spelling in (name, plain, _PROGRAM_PREFIX.sub("", plain)):
                keys.setdefault(_program_key(spelling), code)
    return keys
