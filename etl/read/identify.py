"""Which unit and year a workbook reports on: the ThongTin sheet first, else the file name.

The year is decided first, since a code alone does not say which unit is meant (24611 was
Phường Nghĩa Đức until 2025 and is Phường Bắc Gia Nghĩa after): the units that may report
depend on the report year (the workbook contract, "Reports after the 2025 reorganisation"):
- up to 2024: a former province or district;
- 2025: a province in force at the end of 2025, or a former district (the first half);
- from 2026: a province in force, or one of its communes (5 digits).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING

from etl.contract.crosswalk import load_crosswalk
from etl.contract.findings import ERROR, REASONS, WARNING, Finding, cell_address, reason
from etl.contract.layout import FIRST_YEAR, LAST_YEAR, THONGTIN_KEYS, THONGTIN_NAMES
from etl.contract.reference import LAST_FORMER_YEAR, REORGANISED_ON, Reference, Unit
from etl.read import cells
from etl.text import (
    clean,
    has_diacritics,
    match_key,
    name_key,
    slug,
    toneless,
    unaccent,
    unit_code_text,
    without_toneless_prefix,
)

if TYPE_CHECKING:
    from etl.read.workbook import WorkbookRead

# The district level was abolished on 01/07/2025: no district reports for a later year.
DISTRICTS_ABOLISHED_AFTER = REORGANISED_ON.year
# The first report year a commune may send its own workbook.
COMMUNES_REPORT_FROM = REORGANISED_ON.year + 1

# `<unit>_<year>[_anything]`; a space or a hyphen parts them as `_` does: clerks save the
# file as they write the unit (`Đắk Mil 2023`), a download or a copy adds ` (1)`, ` - Copy`.
_FILE_NAME = re.compile(r"^(?P<unit>.+?)[_\s-]+(?P<year>\d{4})(?:[_\s-].*)?$")

# The words that say which kind of unit a name is, in `Tên đơn vị` (`Huyện Đắk Mil`,
# `UBND huyện Đắk Mil`, `huyen dak mil`), with the levels each may name. Longer words first:
# `thị xã` is not `xã`.
_LEVEL_WORDS: dict[str, frozenset[str]] = {
    "thành phố": frozenset({"province", "district"}),
    "thanh pho": frozenset({"province", "district"}),
    "tp": frozenset({"province", "district"}),
    "thị xã": frozenset({"district"}),
    "thi xa": frozenset({"district"}),
    "thị trấn": frozenset({"commune"}),
    "thi tran": frozenset({"commune"}),
    "đặc khu": frozenset({"commune"}),
    "dac khu": frozenset({"commune"}),
    "tỉnh": frozenset({"province"}),
    "tinh": frozenset({"province"}),
    "huyện": frozenset({"district"}),
    "huyen": frozenset({"district"}),
    "quận": frozenset({"district"}),
    "quan": frozenset({"district"}),
    "phường": frozenset({"commune"}),
    "phuong": frozenset({"commune"}),
    "xã": frozenset({"commune"}),
    "xa": frozenset({"commune"}),
    "tx": frozenset({"district"}),
    "tt": frozenset({"commune"}),
}
# Their usual one-letter shortenings, each with its dot (`H. Đắk Mil`, `X.Đắk Mil`, as the
# commune column reads `X.`, `P.`, `TT.`); the dot ends the word, a name may follow at once.
_SHORT_LEVEL_WORDS: dict[str, frozenset[str]] = {
    "t.p.": _LEVEL_WORDS["tp"],  # before `t.`: `T.P. Lào Cai` is no province `P. Lào Cai`
    "t.x.": _LEVEL_WORDS["tx"],
    "t.t.": _LEVEL_WORDS["tt"],
    "t.": frozenset({"province"}),
    "h.": frozenset({"district"}),
    "q.": frozenset({"district"}),
    "x.": frozenset({"commune"}),
    "p.": frozenset({"commune"}),
}
_LEVEL_WORD = re.compile(
    r"(?<![\w])(?:("
    + "|".join(re.escape(w) for w in _LEVEL_WORDS)
    + r")\.?(?![\w])|("
    + "|".join(re.escape(w) for w in _SHORT_LEVEL_WORDS)
    + "))",
    re.I,
)


def _levels_of(match: re.Match) -> frozenset[str]:
    """The levels the kind word `_LEVEL_WORD` found may name."""
    word = match.group(1)
    if word:
        return _LEVEL_WORDS[word.lower()]
    return _SHORT_LEVEL_WORDS[match.group(2).lower()]


_ANY_LEVEL = frozenset({"province", "district", "commune"})
_COMMUNE = frozenset({"commune"})
_LEVEL_VI = {"province": "tỉnh", "district": "huyện", "commune": "xã"}


@dataclass(frozen=True)
class Identity:
    unit: Unit
    report_year: int
    prepared_on: dt.date | None
    source: str  # "ThongTin" or "file name"
    # What identifying found that does not reject the file (an unreadable `Ngày lập`).
    findings: tuple[Finding, ...] = ()


class _Rejected(Exception):
    """Identification ends in this finding."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


# The rule each reason is recorded under in the audit trail: every unit that may not report
# for the year is `unit_not_in_year`, every code or name that fits no unit `unit_unknown`.
_RULE_OF_REASON = {
    "commune_not_in_year": "unit_not_in_year",
    "province_merged": "unit_not_in_year",
    "commune_merged": "unit_not_in_year",
    "commune_split": "unit_not_in_year",
    "commune_unmatched": "unit_not_in_year",
    "commune_former": "unit_not_in_year",
    "unit_unknown_in_year": "unit_unknown",
    "unit_name_mismatch_in_code": "unit_name_mismatch",
}


def _finding(
    key: str,
    value: object,
    column: str = "Mã đơn vị",
    *,
    written: object = None,
    **fields: object,
) -> Finding:
    """The finding of a reason of `REASONS` (`key`), with the cell's value quoted (a whole
    number as one: `2035`, not `2035.0`). `written`: what the cell holds, when the reason
    quotes something else (`unit_not_in_year` names the district the code `663` is);
    the failing cell's value is then that."""
    shown = _shown(value)
    # Of the unit or year the file name gives, the advice is to rename the file (or add
    # ThongTin), where a reason has such a variant: the file may have no ThongTin to mend.
    variant = f"{key}_from_file_name"
    told = variant if column == _FILE_NAME_COLUMN and variant in REASONS else key
    return Finding(
        rule=_RULE_OF_REASON.get(key, key),
        severity=ERROR,
        message=reason(told, value=shown, **fields),
        sheet=None if column == _FILE_NAME_COLUMN else "ThongTin",  # a name is in no sheet
        column_name=column,
        value=shown if written is None else _shown(written),
    )


def _shown(value: object) -> str:
    if value.__class__ is float and value.is_integer():
        value = int(value)
    return clean(value)


def _named(unit: Unit) -> str:
    """`24611 Phường Bắc Gia Nghĩa`: a unit as a reason names it."""
    return f"{unit.code} {unit.full_name}"


def _named_in(unit: Unit, ref: Reference) -> str:
    """`24604 Xã Krông Nô (Tỉnh Đắk Lắk)`: a commune or district with its province."""
    if unit.level == "province" or unit.parent_code is None:
        return _named(unit)
    try:
        province = ref.province_of(unit)
    except KeyError:
        return _named(unit)
    return f"{_named(unit)} ({province.full_name})"


# --- the year ----------------------------------------------------------------------------


# `Năm 2023`, `năm 2023`: the year with its word, as a clerk may type it.
_YEAR_WORD = re.compile(r"^nam\s*(\d{4})$")


def _year(raw: object) -> int | None:
    try:
        year = cells.parse_int(raw)
    except ValueError:
        found = _YEAR_WORD.match(match_key(raw)) if isinstance(raw, str) else None
        year = int(found.group(1)) if found else _year_of_date(raw)
    return year if year is not None and FIRST_YEAR <= year <= LAST_YEAR else None


def _year_of_date(raw: object) -> int | None:
    """The year a date in `Năm báo cáo` stands for: its first or last day (`31/12/2023`, the
    end of the period reported) is that year. Another day (`15/01/2024`, often `Ngày lập` in
    the wrong row) says no year: the report year is never guessed from it. A date of 1905
    is a year typed into a cell formatted as a date (2023 shows as 15/07/1905, or 16/07/1909
    in the 1904 date system): its serial number is the year (`cells.typed_year`)."""
    if isinstance(raw, dt.date) and (typed := cells.typed_year(raw)):
        return typed if FIRST_YEAR <= typed <= LAST_YEAR else None
    try:
        dated = cells.parse_dated(raw)
    except ValueError:
        return None
    if dated is None:
        return None
    day, precision = dated
    if precision == cells.YEAR or (day.month, day.day) in ((1, 1), (12, 31)):
        return day.year
    return None


def report_year(info: dict[str, object], file_name: str | None) -> int | None:
    """The report year as `identify` decides it (ThongTin, else the file name), for the
    reader, which reads two-digit years against it; None when neither gives one."""
    year = _year(info.get("report_year"))
    if year is None and info.get("report_year") is None and file_name:
        from_name = _FILE_NAME.match(clean(file_name.rsplit(".", 1)[0]))
        if from_name:
            year = _year(from_name["year"])
    return year


def unit_given(info: dict[str, object], file_name: str | None) -> str | None:
    """What a file gives for its unit, as written: ThongTin's code, else its name, else the
    file name's unit part; None when nothing does. For a file that is not identified (an
    invalid year beside it, a name of another unit): the clerk's feedback quotes it."""
    for key in ("unit_code", "unit_name"):
        given = clean(info.get(key)) if info.get(key) is not None else ""
        if given:
            return _shown(info[key])
    from_name = _FILE_NAME.match(clean(file_name.rsplit(".", 1)[0])) if file_name else None
    return from_name["unit"] if from_name else None


# --- codes -------------------------------------------------------------------------------


def code_text(raw: object, year: int, ref: Reference) -> str | None:
    """The unit code a `Mã đơn vị` cell holds in report year `year`, or None when it holds
    no digits. A code stored as a number lost its leading zeros: from 2025 it is padded to
    2 digits when that is a province in force in the year, else to 3 digits (2025) or 5
    (from 2026); up to 2024 `1` is district `001` (drift rule 8), else province `01`."""
    if raw is None:
        return None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if isinstance(raw, float) and raw != int(raw):
            return None
        digits = str(int(raw))
        if year <= LAST_FORMER_YEAR:
            for width in (3, 2):
                code = cells.parse_unit_code(digits, width) or ""
                if ref.reporting_unit(code, year) is not None:
                    return code
            return digits.zfill(3)
        province = digits.zfill(2)
        unit = ref.reporting_unit(province, year)
        if unit is not None and unit.level == "province":
            return province
        padded = digits.zfill(3 if year <= DISTRICTS_ABOLISHED_AFTER else 5)
        former = ref.unit(province)
        if (
            len(digits) <= 2
            and former is not None
            and former.level == "province"
            and ref.reporting_unit(padded, year) is None
        ):
            return province  # a province merged on 01/07/2025: told so (`province_merged`)
        return padded
    text = unit_code_text(raw)  # `24611.0`, `24.611` typed as text
    return text if text.isdigit() else None


# A code written with words (`Mã 663`, `Mã số: 663`, `H.663`, `660 - Huyện Cư Jút`, `24611
# (Bắc Gia Nghĩa)`): the one number, the words before it and those after it.
_CODE_IN_WORDS = re.compile(r"^(?P<before>[^\d]*?)(?P<code>\d+(?:[ .]\d+)*)(?P<after>[^\d]*)$")
_CODE_WORD = re.compile(r"^m[ãa](?:\s*(?:s[ốo]|đơn vị|don vi|đv|dv))?(?![\w])", re.I)
# The kind of unit a letter before the code says (`H.663`): those it may be.
_KIND_MARKS = {
    "t": frozenset({"province"}),
    "tp": frozenset({"province", "district"}),
    "tx": frozenset({"district"}),
    "h": frozenset({"district"}),
    "q": frozenset({"district"}),
    "x": frozenset({"commune"}),
    "p": frozenset({"commune"}),
}


def _code_in_words(raw: object) -> tuple[str, str] | None:
    """(the code, the words besides it: the name, or a kind mark) of a `Mã đơn vị` text
    holding one number among words; None for any other cell."""
    if not isinstance(raw, str):
        return None
    found = _CODE_IN_WORDS.match(clean(raw))
    if found is None:
        return None
    before = _CODE_WORD.sub("", found["before"].strip(_TRIM), count=1).strip(_TRIM)
    after = found["after"].strip(_TRIM + "()")
    if before and after:
        return None
    return unit_code_text(found["code"]), before or after


def _check_words(unit: Unit, words: str, raw: object, year: int, ref: Reference) -> None:
    """Words written beside the code must agree with its unit: a kind mark of its kind
    (`H.663`), or its name (`663 - Huyện Đắk Mil`). A name of another unit rejects naming
    both, as `Tên đơn vị` does; words that name no unit leave the cell unread."""
    if not words:
        return
    kinds = _KIND_MARKS.get(match_key(words).replace(" ", ""))
    if kinds is not None:
        if unit.level in kinds:
            return
        raise _Rejected(_unknown(raw, year, ref))
    if _fits(words, unit) and _in_province_named(words, unit, ref):
        return
    others = [_named_in(u, ref) for u in units_named(words, year, ref) if u is not unit]
    if not others:
        former = _former_named(words, ref)
        others = [f"{_named_in(u, ref)}, đến/until 30/06/2025" for u in former]
    if not others:
        raise _Rejected(_unknown(raw, year, ref))
    raise _Rejected(
        _finding(
            "unit_name_mismatch_in_code",
            raw,
            code=unit.code,
            unit=unit.full_name,
            named="; ".join(others),
        )
    )


def _reading_named(raw: object, year: int, ref: Reference, name: str) -> str | None:
    """The reading of a code stored as a number (`8`: province `08`, district `008`,
    commune `00008`) whose unit `Tên đơn vị` names, when the name settles it: Excel drops
    the leading zero of a province's `08` as of a district's `008`, and rule 8's default
    (`code_text`) must not reject a file whose name says which was meant. None for text,
    or when the name fits none of the readings."""
    if not isinstance(raw, int | float) or isinstance(raw, bool) or raw != int(raw):
        return None
    digits = str(int(raw))
    for width in (2, 3, 5):
        if len(digits) > width:
            continue
        unit = ref.reporting_unit(digits.zfill(width), year)
        if unit is not None and _fits(name, unit) and _in_province_named(name, unit, ref):
            return unit.code
    return None


def _unit_of_code(
    code: str,
    year: int,
    ref: Reference,
    shown: object,
    column: str = "Mã đơn vị",
    name: str | None = None,
) -> Unit:
    """The unit that may report for `year` under `code`, or the reason it may not: a
    finding on `column`, whose cell holds `shown`. `name` (`Tên đơn vị`) tells a reused
    commune code's units apart in the reason, as it does in 2025."""
    unit = ref.reporting_unit(code, year)
    if unit is not None:
        return unit
    former = ref.unit(code)
    if former is not None and former.level == "district" and year > DISTRICTS_ABOLISHED_AFTER:
        raise _Rejected(
            _finding("unit_not_in_year", former.full_name, column, written=shown, year=year)
        )
    communes = [u for u in ref.in_force(code, year) if u.level == "commune"]
    if not communes and year < REORGANISED_ON.year and (new := ref.current_unit(code)):
        communes = [new] if new.level == "commune" else []
    if communes and year < COMMUNES_REPORT_FROM:
        if name and len(communes) > 1:  # 24611 in 2025: Phường Bắc Gia Nghĩa or Nghĩa Đức
            communes = [u for u in communes if _fits(name, u)] or communes
        raise _Rejected(_commune_too_early(communes, year, ref, shown, column))
    if former is not None and former.level == "province" and year >= REORGANISED_ON.year:
        new = ref.current_unit(ref.merged_into(code))
        if new is not None and new.code != code:
            raise _province_merged(former, new, year, shown, column)
    if former is not None and former.level == "commune" and year >= COMMUNES_REPORT_FROM:
        _former_commune(former, year, ref, shown, column)
    raise _Rejected(_unknown(shown, year, ref, column))


def _former_commune(former: Unit, year: int, ref: Reference, shown: object, column: str) -> None:
    """Raise why a commune before 01/07/2025 may not report for `year` (from 2026): the
    commune in force it went into whole, or those it was split between (the crosswalk);
    for one the crosswalk could not match, the communes in force it may have gone to, if
    any (`possible_new_codes`)."""
    crosswalk = load_crosswalk(ref)
    new = [
        unit
        for link in crosswalk.destinations(former.code)
        if (unit := ref.current_unit(link.new_commune_code)) is not None
    ]
    where = [former, ref.district_of(former), ref.province_of(former)]
    fields = {
        "former": ", ".join(u.full_name for u in where if u is not None),
        "code": former.code,
        "year": year,
    }
    if not new:
        unmatched = crosswalk.unmatched_row(former.code)
        codes = unmatched.possible_new_codes.split("; ") if unmatched else []
        maybe = [unit for code in codes if code and (unit := ref.current_unit(code))]
        if maybe:
            units = "; ".join(_named(u) for u in maybe)
            raise _Rejected(_finding("commune_unmatched", shown, column, units=units, **fields))
        raise _Rejected(_finding("commune_former", shown, column, **fields))
    whole = crosswalk.whole_destination(former.code)
    if whole is not None and [u.code for u in new] == [whole]:
        raise _Rejected(
            _finding(
                "commune_merged",
                shown,
                column,
                new_name=new[0].full_name,
                new_code=whole,
                new_province=ref.province_of(new[0]).full_name,
                **fields,
            )
        )
    raise _Rejected(
        _finding("commune_split", shown, column, units="; ".join(_named(u) for u in new), **fields)
    )


def _province_merged(former: Unit, new: Unit, year: int, shown: object, column: str) -> _Rejected:
    """Why a province before 01/07/2025 may not report for `year`: it went into `new`."""
    return _Rejected(
        _finding(
            "province_merged",
            shown,
            column,
            province=former.full_name,
            code=former.code,
            new_province=new.full_name,
            new_code=new.code,
            year=year,
        )
    )


def _former_unit(former: Unit, year: int, ref: Reference, shown: object, column: str) -> None:
    """Raise why a unit before 01/07/2025, named by its name, may not report for `year`: as
    its code would (`_unit_of_code`), and also for a province merged into one that kept its
    code under another name (`Tỉnh Kiên Giang`, 91, went into Tỉnh An Giang, 91; `Tỉnh Yên
    Bái`, 15, into Tỉnh Lào Cai), whose code alone would identify the new province."""
    unit = _unit_of_code(former.code, year, ref, shown, column)
    if (
        former.level == "province"
        and year >= REORGANISED_ON.year
        and name_key(strip_kind(unit.full_name)) != name_key(strip_kind(former.full_name))
    ):
        raise _province_merged(former, unit, year, shown, column)


def _commune_too_early(
    communes: list[Unit], year: int, ref: Reference, shown: object, column: str = "Mã đơn vị"
) -> Finding:
    """A commune code for a report year before communes report: who reports instead."""
    provinces: dict[str, None] = {}
    districts: dict[str, None] = {}
    for named in communes:
        # Before the merger a new commune's area was its former communes': told by the one
        # whose code it kept (Phường Bắc Gia Nghĩa 24611 was Phường Nghĩa Đức, Gia Nghĩa).
        former = ref.unit(named.code) if named.current and year < REORGANISED_ON.year else None
        unit = former if former is not None and former.level == "commune" else named
        code = ref.province_in_force(unit, year)
        province = (ref.current_unit(code) if year >= REORGANISED_ON.year else None) or ref.unit(
            code
        )
        if province is not None:
            provinces[f"{province.full_name} ({province.code})"] = None
        district = ref.district_of(unit)
        if district is not None:
            districts[f"{district.full_name} ({district.code})"] = None
    if year == REORGANISED_ON.year:
        also = "hoặc huyện cũ, cho 6 tháng đầu năm 2025"
        also_en = "or a former district, for the first half of 2025"
    else:
        also = f"hoặc {', '.join(districts)}" if districts else "hoặc huyện"
        also_en = f"or {', '.join(districts)}" if districts else "or the district"
    return _finding(
        "commune_not_in_year",
        shown,
        column,
        units=", ".join(_named(u) for u in communes),
        year=year,
        first=COMMUNES_REPORT_FROM,
        province=", ".join(provinces) or "tỉnh",
        also=also,
        also_en=also_en,
    )


def _unknown(shown: object, year: int, ref: Reference, column: str = "Mã đơn vị") -> Finding:
    return _finding("unit_unknown_in_year", shown, column, year=year, **who_reports(year))


def who_reports(year: int) -> dict[str, str]:
    """Which units may report for a year, for the reasons (`who`, `who_en`)."""
    if year <= LAST_FORMER_YEAR:
        return {
            "who": "mã tỉnh (2 chữ số) hoặc mã huyện (3 chữ số) trước 01/07/2025",
            "who_en": "a province (2 digits) or a district (3 digits) as before 01/07/2025",
        }
    if year == REORGANISED_ON.year:
        return {
            "who": "mã tỉnh có hiệu lực cuối năm 2025 (2 chữ số, ví dụ 68), hoặc mã huyện cũ "
            "(3 chữ số) cho 6 tháng đầu năm",
            "who_en": "a province in force at the end of 2025 (2 digits, e.g. 68), or a former "
            "district (3 digits) for the first half of the year",
        }
    return {
        "who": "mã tỉnh (2 chữ số, ví dụ 68) hoặc mã xã/phường mới từ 01/07/2025 (5 chữ số, "
        "ví dụ 24611)",
        "who_en": "a province (2 digits, e.g. 68) or a commune in force since 01/07/2025 "
        "(5 digits, e.g. 24611)",
    }


# --- names -------------------------------------------------------------------------------


def _readings(text: str) -> list[tuple[frozenset[str], str]]:
    """The ways to read a `Tên đơn vị`: (the levels its kind words allow, the place name),
    the unit itself first, then what follows (`Phường Bắc Gia Nghĩa, tỉnh Lâm Đồng`: its
    province). `UBND huyện Đắk Mil` -> [(any, whole), (district, `Đắk Mil`)]; a name that
    begins with a kind word is read whole for that kind only (`Xã Đắk Mil` names no
    district, while `Xa Bang` may still be `Xà Bang`)."""
    text = _town_word(clean(text))
    matches = list(_LEVEL_WORD.finditer(text))
    first = matches[0] if matches and matches[0].start() == 0 else None
    levels = _levels_of(first) if first else _ANY_LEVEL
    found = [(levels, text), (levels, _first_part(text))]
    if first is None and (rest := without_toneless_prefix(text)):
        # `Xả Đắk Mil`, `Phương Bắc Gia Nghĩa`: a commune's kind word without its tone mark,
        # as the commune column reads it; after the name as typed (`Xà Phiên`).
        found += [(_COMMUNE, rest), (_COMMUNE, _first_part(rest))]
    for i, match in enumerate(matches):
        levels = _levels_of(match)
        upto = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        found.append((levels, _first_part(text[match.end() : upto])))
        found.append((levels, text[match.end() :].strip(_TRIM)))
    kind_words = [(match.start(), match.end()) for match in matches]
    for word in _WORD.finditer(text):
        at = word.start()
        if at == 0 or any(start <= at < end for start, end in kind_words):
            continue  # the first word is read above; `thị xã` is a kind word of its own
        if rest := without_toneless_prefix(text[at:]):
            # `UBND xả Đắk Mil`: a commune's kind word without its tone mark after other
            # words, read as that word with its mark would be; after every other reading.
            found += [(_COMMUNE, _first_part(rest)), (_COMMUNE, rest.strip(_TRIM))]
    return list(dict.fromkeys((lv, rest) for lv, rest in found if rest))


# `thị xã` however its tone marks are typed (`Thị xả`, `Thi xã`, `thi xa`), on a toneless name.
_TOWN = re.compile(r"(?<![\w])thi\s+xa(?![\w])", re.I)


def _town_word(text: str) -> str:
    """`text` with the kind word `thị xã` written as it should be where a tone mark of it is
    missing or misplaced (`Thị xả Buôn Hồ`), so that its `xã` is never read as a commune's
    kind word (`Phường Buôn Hồ`)."""
    plain = toneless(text)
    if len(plain) != len(text):  # a letter the tone marks' removal did not keep whole
        return text
    for found in reversed(list(_TOWN.finditer(plain))):
        text = text[: found.start()] + "thị xã" + text[found.end() :]
    return text


_TRIM = " :-–,.;"
_WORD = re.compile(r"\S+")
_PARTS = re.compile(r"[,;(/]| - | – ")


def _first_part(text: str) -> str:
    """A name up to its first comma, bracket or dash: `Đắk Mil, Đắk Nông` -> `Đắk Mil`."""
    return _PARTS.split(text.strip(_TRIM))[0].strip(_TRIM)


def strip_kind(name: str) -> str:
    """A reference full name without its kind word: `Thị xã Buôn Hồ` -> `Buôn Hồ`."""
    match = _LEVEL_WORD.match(clean(name))
    return clean(name)[match.end() :].strip() if match else clean(name)


def _keys(text: str) -> set[str]:
    return {name_key(text)} - {""}


def _plain(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", unaccent(text).lower())


def _fits(text: str, unit: Unit) -> bool:
    """Whether `Tên đơn vị` names this unit: case, tone marks, the kind word, apostrophes,
    hyphens and spaces do not count (`Huyện Đắk Mil`, `Đắk Mil`, `huyen dak mil`)."""
    names = [unit.name, unit.full_name, strip_kind(unit.full_name)]
    for levels, rest in _readings(text):
        if unit.level not in levels:
            continue
        if has_diacritics(rest):
            if _keys(rest) & {k for n in names for k in _keys(n)}:
                return True
        elif _plain(rest) and _plain(rest) in {_plain(n) for n in names}:
            return True
    return False


def _provinces_named(text: str, ref: Reference, unit: Unit | None = None) -> list[Unit]:
    """The provinces a `Tên đơn vị` names after the unit: with their kind word (`Xã Krông Nô,
    tỉnh Lâm Đồng`), or a later part of the name, after a comma, a bracket or a dash, that is
    a province's name whole (`Huyện Châu Thành, Bến Tre`, `Xã Krông Nô (Đắk Lắk)`; helper
    CK: such a province was not read). Former provinces and those in force since
    01/07/2025, both where a name is both (`Lâm Đồng`).

    A part without its kind word names a province only with the province's own tone marks
    (or none at all): `Thạnh Hóa`, `Phù Yên`, `Quang Bình` are districts, not Thanh Hóa, Phú
    Yên or Quảng Bình; and never when a former district of the `unit`'s province is so
    named (`Xã Vĩnh Mỹ, Hòa Bình`: Hòa Bình of Bạc Liêu, not the province; helper CO)."""
    places = [(rest, False) for levels, rest in _readings(text) if "province" in levels]
    places += [(part.strip(_TRIM + ")"), True) for part in _PARTS.split(clean(text))[1:]]
    near = _district_keys(ref, _provinces_around(unit, ref)) if unit is not None else frozenset()
    named: dict[tuple[str, bool], Unit] = {}
    for place, bare in places:
        if not place or (bare and name_key(place) in near):
            continue
        for found in (*ref.by_slug(slug(place)), *ref.by_slug(slug(place), COMMUNES_REPORT_FROM)):
            if found.level != "province" or not _fits(f"tỉnh {strip_kind(place)}", found):
                continue
            if bare and has_diacritics(place) and _toned(place) != _toned(found.name):
                continue
            named.setdefault((found.code, found.current), found)
    return list(named.values())


def _toned(name: str) -> str:
    """A place name's letters with their tone marks, case aside (`Thạnh Hóa` -> `thạnhhóa`)."""
    return _place_of(name).casefold()


def _provinces_around(unit: Unit, ref: Reference) -> frozenset[str]:
    """The former provinces a unit's area lay in: its own for a former unit; for a unit in
    force, those merged into its province."""
    own = ref.province_of(unit).code
    return frozenset([own] if not unit.current else [own, *ref.former_provinces(own)])


@cache
def _district_keys(ref: Reference, provinces: frozenset[str]) -> frozenset[str]:
    """The names (`name_key`) of the former districts of these former provinces."""
    return frozenset(
        key
        for district in ref.units.values()
        if district.level == "district" and district.parent_code in provinces
        for key in (name_key(district.name), name_key(strip_kind(district.full_name)))
    )


def _in_province_named(text: str, unit: Unit, ref: Reference) -> bool:
    """Whether the unit lies in the province its `Tên đơn vị` names, when it names one:
    `Xã Krông Nô, tỉnh Lâm Đồng` is 24688, not 24604 of Đắk Lắk. A former unit lies in its
    own former province, or the province in force that took it over (`Huyện Đắk Mil, tỉnh
    Lâm Đồng`, as a clerk may write it today); never in another former province merged
    into the same one (`Huyện Châu Thành, tỉnh Sóc Trăng` is no district of Hậu Giang:
    helper CK). A unit in force lies in its province, or in a former province merged into
    it."""
    named = _provinces_named(text, ref, unit)
    if not named:
        return True
    own = ref.province_of(unit).code
    for province in named:
        if unit.current and ref.merged_into(province.code) == own:
            return True
        if not unit.current and (
            province.code == own or (province.current and ref.merged_into(own) == province.code)
        ):
            return True
    return False


def units_named(text: str, year: int, ref: Reference) -> list[Unit]:
    """The units in force in `year` (the reporting ones and, in 2025, the new communes)
    that a `Tên đơn vị` names; several when the name alone cannot tell."""
    found: dict[str, Unit] = {}
    readings = _readings(text)
    # The unit itself first: a name says it before its parents.
    for levels, rest in readings:
        for unit in ref.by_slug(slug(rest), year):
            if unit.level in levels and _fits(text, unit) and _in_province_named(text, unit, ref):
                found.setdefault(f"{unit.era}{unit.code}", unit)
        if found:
            break
    return list(found.values())


def _former_named(text: str, ref: Reference) -> list[Unit]:
    """Units before 01/07/2025 that a name names, for a reason that says which."""
    found: dict[str, Unit] = {}
    for levels, rest in _readings(text):
        units = [*ref.by_slug(slug(rest)), *ref.commune_names().get(name_key(rest), [])]
        for unit in units:
            if not unit.current and unit.level in levels and _fits(text, unit):
                found.setdefault(unit.code, unit)
        if found:
            break
    return list(found.values())


def _closest(text: str, units: list[Unit]) -> list[Unit]:
    """Of several units a name fits, those it names most closely: with the kind word it is
    written with (`Phường Nghĩa Đức` is 24611 of Gia Nghĩa, not Xã Nghĩa Đức of Nghệ
    An), then with its tone marks as written (`Xã Đắk Ha` is 24622 of Đắk Nông, not Xã
    Đắk Hà of Kon Tum); all of them when none is closer. Only for the reason a name that
    may not report is told: a name several units fit identifies none of them."""
    written = clean(text).casefold()
    for closer in (
        lambda u: written.startswith(_kind_of(u.full_name) + " "),
        lambda u: _place_of(written) in {_place_of(n.casefold()) for n in (u.name, u.full_name)},
    ):
        if len(units) > 1 and (kept := [u for u in units if closer(u)]):
            units = kept
    return units


def _kind_of(full_name: str) -> str:
    """A reference full name's kind word, lower-case: `Phường Nghĩa Đức` -> `phường`."""
    match = _LEVEL_WORD.match(clean(full_name))
    return match.group(0).casefold() if match else ""


def _place_of(name: str) -> str:
    """A name without its kind word, its spaces, hyphens and apostrophes: its letters with
    their tone marks (`xã đắk ha` -> `đắkha`)."""
    return re.sub(r"[\W_]+", "", strip_kind(name))


def _former_may_not_report(text: str, year: int, ref: Reference) -> None:
    """Raise the reason why the one former unit a `Tên đơn vị` names may not report for
    `year` (a district after 2025, a merged province, a commune before 2026); nothing when
    it names none, or several none of which it names more closely (`_closest`), or when
    that unit may report."""
    former = _closest(text, _former_named(text, ref))
    if len(former) == 1:
        _former_unit(former[0], year, ref, text, "Tên đơn vị")


def _new_commune_too_early(text: str, year: int, ref: Reference) -> None:
    """Raise why the one commune in force since 01/07/2025 that a `Tên đơn vị` names may
    not report for `year` (`Phường Bắc Gia Nghĩa` in 2024: communes report from 2026);
    nothing from 2026 on, or when it names none or several."""
    if year >= COMMUNES_REPORT_FROM:
        return
    communes = [u for u in units_named(text, COMMUNES_REPORT_FROM, ref) if u.level == "commune"]
    if len(communes) == 1:
        raise _Rejected(_commune_too_early(communes, year, ref, text, "Tên đơn vị"))


def _check_name(unit: Unit, info: dict[str, object], year: int, ref: Reference) -> None:
    """A `Tên đơn vị` that names another unit than the code rejects the file."""
    text = clean(info.get("unit_name"))
    if not text or (_fits(text, unit) and _in_province_named(text, unit, ref)):
        return
    others = [_named_in(u, ref) for u in units_named(text, year, ref) if u is not unit]
    if not others and _fits(text, unit):
        # The unit's own name in a province it is not in: the province is the other unit
        # (`Huyện Đắk Mil, Bình Thuận`, where it named 663 itself: helper CO).
        others = list(dict.fromkeys(_named_in(u, ref) for u in _provinces_named(text, ref, unit)))
    if not others:
        former = _former_named(text, ref)
        province = ref.province_of(unit).code
        near = [u for u in former if ref.province_in_force(u, REORGANISED_ON.year) == province]
        others = [f"{_named_in(u, ref)}, đến/until 30/06/2025" for u in near or former]
    if not others:
        # A name that names no unit (`Phòng Kinh tế`, `Liên minh HTX`) names no other one:
        # the code decides.
        return
    raise _Rejected(
        _finding(
            "unit_name_mismatch",
            text,
            column="Tên đơn vị",
            code=unit.code,
            unit=unit.full_name,
            named="; ".join(others),
        )
    )


def _unit_of_slug(text: str, year: int, ref: Reference, shown: str, column: str) -> Unit:
    """The one unit a name or file-name slug fits in `year`, or the reason it fits none or
    several (`dak_mil_2025`: district 663 and commune 24670)."""
    candidates = ref.by_slug(slug(text), year)
    if len(candidates) > 1:
        raise _Rejected(
            _finding(
                "unit_ambiguous",
                shown,
                column=column,
                year=year,
                units="; ".join(_named_in(u, ref) for u in candidates),
            )
        )
    if not candidates:
        # A former province or district by name says why it may not report this year.
        former = ref.by_slug(slug(text))
        if len(former) == 1:
            _former_unit(former[0], year, ref, shown, column)
        raise _Rejected(_unknown(shown, year, ref, column))
    return _named_unit(candidates[0], year, ref, shown, column)


def _named_unit(unit: Unit, year: int, ref: Reference, shown: str, column: str) -> Unit:
    """The unit a name or slug names, or the reason it may not report for `year`: of a
    commune before communes report, that commune alone, not every unit of its code (`Xã Đắk
    Mil` in 2025 is 24670 Xã Đắk Mil, not also the former Xã Đắk R'La that had 24670)."""
    if unit.level == "commune" and year < COMMUNES_REPORT_FROM:
        raise _Rejected(_commune_too_early([unit], year, ref, shown, column))
    return _unit_of_code(unit.code, year, ref, shown, column)


def _unit_of_name(text: str, year: int, ref: Reference) -> Unit | None:
    """The unit `Tên đơn vị` alone identifies (no `Mã đơn vị`), None when it names none."""
    candidates = units_named(text, year, ref)
    if not candidates:
        return None
    if len(candidates) > 1:
        raise _Rejected(
            _finding(
                "unit_ambiguous",
                text,
                column="Tên đơn vị",
                year=year,
                units="; ".join(_named_in(u, ref) for u in candidates),
            )
        )
    return _named_unit(candidates[0], year, ref, text, "Tên đơn vị")


def _settled_by_file_name(
    rejected: _Rejected, text: str, from_name: re.Match | None, year: int, ref: Reference
) -> Unit | None:
    """Of the units a `Tên đơn vị` fits (`Xã Krông Nô`: 24604 of Đắk Lắk, 24688 of Lâm
    Đồng), the one the file name names (`24688_2026.xlsx`), as the reason advises; None
    when the name was rejected for another reason, or the file name names none of them."""
    if rejected.finding.rule != "unit_ambiguous" or not from_name:
        return None
    try:
        unit = _unit_of_file_name(from_name["unit"], year, ref)
    except _Rejected:
        return None
    return unit if unit in units_named(text, year, ref) else None


def _unit_of_file_name(unit_part: str, year: int, ref: Reference) -> Unit:
    if unit_part.isdigit():
        return _unit_of_code(unit_part, year, ref, unit_part, _FILE_NAME_COLUMN)
    return _unit_of_slug(unit_part, year, ref, unit_part, _FILE_NAME_COLUMN)


_FILE_NAME_COLUMN = "tên tệp"  # a finding on the unit the file name gives


def _identifiable(info: dict[str, object], from_name: re.Match | None, ref: Reference) -> bool:
    """Whether anything names a unit of any year: without a year, which finding comes first."""
    raw = info.get("unit_code")
    if raw is not None:
        digits = unit_code_text(raw)
        return digits.isdigit() and any(
            ref.in_force(digits.zfill(w), y) for w in (2, 3, 5) for y in (2024, 2026)
        )
    if info.get("unit_name") and any(
        units_named(clean(info["unit_name"]), y, ref) for y in (2024, 2025, 2026)
    ):
        return True
    if from_name:
        part = from_name["unit"]
        if part.isdigit():
            return bool(ref.in_force(part, 2024) or ref.in_force(part, 2026))
        return any(ref.by_slug(slug(part), y) for y in (2024, 2025, 2026))
    return False


# --- the file ----------------------------------------------------------------------------


def identify(
    info: dict[str, object],
    file_name: str,
    ref: Reference,
    rows: dict[str, int] | None = None,
    sheet: str | None = None,
    columns: dict[str, int] | None = None,
) -> Identity | Finding:
    """The file's unit and year, or the finding that rejects it. `rows`: the Excel row of
    each `ThongTin` value by key, `sheet` that sheet's name as the file spells it and
    `columns` each value's 0-based column, B when not given (`WorkbookRead.info_rows`,
    `.info_sheet`, `.info_columns`): a finding on a `ThongTin` cell then names its row and
    its cell, as every failing cell's does."""
    found = _identify(info, file_name, ref)
    if isinstance(found, Finding):
        return _titled(_in_cell(found, rows, sheet, columns), sheet)
    return replace(
        found,
        findings=tuple(_titled(_in_cell(f, rows, sheet, columns), sheet) for f in found.findings),
    )


def _titled(found: Finding, sheet: str | None) -> Finding:
    """A finding whose reason names the ThongTin sheet (`trang ThongTin`, `the ThongTin
    sheet`) names it by the title the file gives it (`Thông tin`): the tab the clerk looks
    for. A file without the sheet keeps the contract's name, the sheet to add."""
    if not sheet or sheet == THONGTIN_NAMES[0]:
        return found
    message = found.message.replace("trang ThongTin", f"trang '{sheet}'")
    message = message.replace("the ThongTin sheet", f"the '{sheet}' sheet")
    return replace(found, message=message)


def _in_cell(
    found: Finding,
    rows: dict[str, int] | None,
    sheet: str | None,
    columns: dict[str, int] | None = None,
) -> Finding:
    """A finding on a `ThongTin` value, with that value's row and cell (column B, unless
    `columns` says otherwise)."""
    if found.sheet == "ThongTin" and found.excel_row is None:
        key = _KEY_OF_LABEL.get(found.column_name or "") or ""
        row = (rows or {}).get(key)
        if row is not None:
            cell = cell_address((columns or {}).get(key, 1), row)
            found = replace(found, sheet=sheet or found.sheet, excel_row=row, cell=cell)
    return found


def identify_read(read: WorkbookRead, file_name: str, ref: Reference) -> Identity | Finding:
    """`identify` for a workbook as the reader returned it: its `ThongTin` values, their
    rows and the sheet's name as the file spells it."""
    return identify(read.info, file_name, ref, read.info_rows, read.info_sheet, read.info_columns)


_KEY_OF_LABEL = {label: key for key, label in THONGTIN_KEYS.items()}


def _identify(info: dict[str, object], file_name: str, ref: Reference) -> Identity | Finding:
    stem = file_name.rsplit(".", 1)[0]
    from_name = _FILE_NAME.match(clean(stem))
    source = "ThongTin"

    year = _year(info.get("report_year"))
    if year is None and info.get("report_year") is None and from_name:
        year, source = _year(from_name["year"]), "file name"
    if year is None:
        if not _identifiable(info, from_name, ref):
            if info.get("unit_code") is not None:
                return _finding("unit_unknown", info["unit_code"])
            return _finding(
                "unit_unknown", from_name["unit"] if from_name else stem, _FILE_NAME_COLUMN
            )
        if info.get("report_year") is None and from_name:
            return _finding("year_invalid", from_name["year"], _FILE_NAME_COLUMN)
        return _finding("year_invalid", info.get("report_year") or "", column="Năm báo cáo")

    unit_column: str | None = "Mã đơn vị"  # the ThongTin key that gave the unit, if any
    try:
        raw = info.get("unit_code")
        if raw is not None:
            code = code_text(raw, year, ref)
            if code is not None and (unit_name := clean(info.get("unit_name"))):
                code = _reading_named(raw, year, ref, unit_name) or code
            words = None
            if code is None and (in_words := _code_in_words(raw)) is not None:
                code, words = in_words
            if code is None:
                raise _Rejected(_unknown(raw, year, ref))
            try:
                unit = _unit_of_code(
                    code,
                    year,
                    ref,
                    raw if isinstance(raw, str) else code,
                    name=clean(info.get("unit_name")) or None,
                )
            except _Rejected as rejected:
                # `663` stored as a number in a 2026 report: a district, no longer a unit.
                district = ref.unit(clean(code).lstrip("0").zfill(3))
                if rejected.finding.rule != "unit_unknown" or district is None:
                    raise
                if district.level != "district" or year <= DISTRICTS_ABOLISHED_AFTER:
                    raise
                raise _Rejected(
                    _finding("unit_not_in_year", district.full_name, written=raw, year=year)
                ) from None
            if words is not None:
                _check_words(unit, words, raw, year, ref)
        else:
            named = info.get("unit_name")
            try:
                unit_or_none = _unit_of_name(clean(named), year, ref) if named else None
            except _Rejected as rejected:
                settled = _settled_by_file_name(rejected, clean(named), from_name, year, ref)
                if settled is None:
                    raise
                unit_or_none, source, unit_column = settled, "file name", None
            unit_column = "Tên đơn vị"
            if unit_or_none is None:
                unit_column = None
                if not from_name:
                    if named:  # `Huyện Đắk Mil` in 2026: why that unit may not report
                        _former_may_not_report(clean(named), year, ref)
                        _new_commune_too_early(clean(named), year, ref)
                        raise _Rejected(_unknown(named, year, ref, "Tên đơn vị"))
                    raise _Rejected(_finding("unit_unknown", stem, _FILE_NAME_COLUMN))
                unit_or_none = _unit_of_file_name(from_name["unit"], year, ref)
                source = "file name"
            unit = unit_or_none
        _check_name(unit, info, year, ref)
    except _Rejected as rejected:
        return rejected.finding
    said = _file_name_differs(
        unit, year, unit_column, info.get("report_year") is not None, from_name, file_name, ref
    )

    try:
        # A report is made after its year, often early in the next: a two-digit year of
        # Ngày lập is read against that year (rule 18), so `15/01/24` of 2023 is 2024.
        prepared_on = cells.parse_date(info.get("prepared_on"), year + 1)
    except ValueError:  # loaded as without a date, and the clerk told what counts then
        unreadable = _finding("prepared_on_unreadable", info["prepared_on"], "Ngày lập")
        return Identity(
            unit=unit,
            report_year=year,
            prepared_on=None,
            source=source,
            findings=(*said, replace(unreadable, severity=WARNING)),
        )
    return Identity(
        unit=unit, report_year=year, prepared_on=prepared_on, source=source, findings=said
    )


def _file_name_differs(
    unit: Unit,
    year: int,
    unit_column: str | None,
    year_in_info: bool,
    from_name: re.Match | None,
    file_name: str,
    ref: Reference,
) -> tuple[Finding, ...]:
    """A warning when the file name says another unit or year than ThongTin, which wins
    (`663_2022.xlsx` whose ThongTin says 2023: last year's file copied, its name kept). Said
    on the ThongTin cell that decided, so that a stale ThongTin does not replace another
    year's report unnoticed. A name that names no unit or year says nothing."""
    if from_name is None:
        return ()
    named_year = _year(from_name["year"])
    try:
        named_unit = _unit_of_file_name(from_name["unit"], named_year or year, ref)
    except _Rejected:
        named_unit = None
    year_differs = year_in_info and named_year is not None and named_year != year
    unit_differs = bool(unit_column and named_unit and named_unit.code != unit.code)
    if not (year_differs or unit_differs):
        return ()
    if year_differs or unit_column is None:
        column, value = "Năm báo cáo", str(year)
    else:
        column = unit_column
        value = unit.code if unit_column == "Mã đơn vị" else unit.full_name
    shown = named_unit if unit_differs and named_unit else unit
    finding = _finding(
        "file_name_differs",
        value,
        column,
        file=file_name,
        named=f"{shown.code} {shown.full_name}, {named_year or year}",
        said=f"{unit.code} {unit.full_name}, {year}",
    )
    return (replace(finding, severity=WARNING),)
