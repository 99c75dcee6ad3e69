"""Which commune a workbook's `Xã/Phường` cell may mean: the workbook contract's comparison.

A cell names a commune in force in the report year, within the reporting unit's area:
- up to 2024: a former commune (of the district, or of the former province);
- from 2026: a commune in force since 01/07/2025 (of the province, or the commune unit's
  province);
- 2025: either.

Names are compared by `etl.text.name_key`: case, tone marks, the unit prefix, apostrophes,
hyphens and spaces do not count; the letters do (`ă â ê ô ơ ư đ` included). A name typed
entirely without diacritics is compared in plain letters and counts only when exactly one
candidate fits, or its candidates all lead to one new commune (in 2025, `Nam Da`: the former
Nam Đà and the new one it went into). A 5-digit code in the cell is accepted too.

This module says which communes *may* be meant. Where several fit, the cooperative's own
history decides (its former district), which only the warehouse knows: the build registers
`candidate_frame` as `ref_commune_candidates` and `sql/load/fact_cooperative_year.sql`
chooses. Candidates that all lead to the same new commune are no conflict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from etl.contract.reference import FIRST_NEW_YEAR, LAST_FORMER_YEAR, Reference, Unit
from etl.text import (
    has_diacritics,
    name_key,
    plain_keys,
    unit_code_text,
    unquoted,
    without_toneless_prefix,
)

if TYPE_CHECKING:
    import pandas as pd

_QUALIFIER = re.compile(r"\s*\([^()]*\)\s*$")
# A commune code as the qualifier (`Xã Đắk Mil (24670)`, as the template lists a name that
# fits several communes): it decides among the name's candidates.
_CODE_QUALIFIER = re.compile(r"\s*\((\d{5})\)\s*$")
# A commune code typed in the cell, maybe stored as a number (its leading zero lost). Ward
# numbers (`1`, `12`: Phường 1) are names first: a shorter number is a code (`103`: Hà
# Nội's 00103, stored as a number) only when it names no commune of the pool.
_CODE = re.compile(r"^\d{4,5}$")
_SHORT_CODE = re.compile(r"^\d{1,3}$")


@dataclass(frozen=True)
class Candidate:
    """A commune a cell may mean."""

    code: str
    current: bool  # a commune in force since 01/07/2025 (else a former one)
    district_code: str | None  # a former commune's district
    new_commune_code: str | None  # itself (current), or where a former commune went whole


def candidates(ref: Reference, unit_code: str, report_year: int, name: object) -> list[Candidate]:
    """The communes a cell may mean in a report of `unit_code` for `report_year`; empty when
    none fits (an unknown commune) or the cell is empty."""
    return [_candidate(ref, u) for u in _fitting(ref, unit_code, report_year, name)]


def _fitting(ref: Reference, unit_code: str, report_year: int, name: object) -> list[Unit]:
    unit = ref.reporting_unit(unit_code, report_year)
    text = unquoted(name)
    if unit is None or not text:
        return []
    # Every year up to 2024 has the pool of 2024, every year from 2026 that of 2026: one pool
    # per unit and era, not per unit and year.
    pool = _pool(ref, unit, min(max(report_year, LAST_FORMER_YEAR), FIRST_NEW_YEAR))
    code = unit_code_text(text)
    if _CODE.match(code):  # `24611`, `24611.0`, `24 611`, `24.611` (rule 8)
        found = list(pool.by_code.get(code.zfill(5), ()))
    else:
        coded = _CODE_QUALIFIER.search(text)
        if coded:
            named = pool.by_name(text[: coded.start()])
            found = [u for u in named if u.code == coded[1]]
            if len(found) > 1:  # a former commune whose code its new one kept (Hoà Thắng)
                found = [u for u in found if u.current]
            if found:
                return found
        found = pool.by_name(text)
        if not found and _QUALIFIER.search(text):  # `Phường 1 (Bảo Lộc)`
            found = pool.by_name(_QUALIFIER.sub("", text))
        if not found and _SHORT_CODE.match(code):
            found = list(pool.by_code.get(code.zfill(5), ()))
        if not found and "," in text:  # an address: `Xã Đắk Mil, huyện Đắk Mil, tỉnh Đắk Nông`
            found = _addressed(ref, pool, text)
    return found


def _addressed(ref: Reference, pool: _Pool, text: str) -> list[Unit]:
    """The commune an address names by its first part, where every later part names a unit
    the commune lies in: `Xã Đắk Mil, tỉnh Lâm Đồng`, `xã Đắk Sắk, huyện Đắk Mil, tỉnh Đắk
    Nông` (a former commune's province may be the one it went into)."""
    first, *rest = (part.strip() for part in text.split(","))
    said = [part for part in rest if part]
    if not first or not said:
        return []
    return [
        unit
        for unit in pool.by_name(first)
        if all(_names_any(part, _around(ref, unit)) for part in said)
    ]


def _around(ref: Reference, unit: Unit) -> list[Unit]:
    """The units a commune lies in: its district and province, and for a former commune the
    province in force its province went into."""
    around, at = [], unit
    while at.parent_code is not None:
        at = ref.parent_of(at)
        around.append(at)
    if not unit.current and around:
        went = ref.current_unit(ref.merged_into(around[-1].code))
        around += [went] if went is not None else []
    return around


def _names_any(part: str, units: list[Unit]) -> bool:
    """Whether an address part names one of the units, by its name or its full name
    (`Đắk Mil`, `huyện Đắk Mil`), compared as commune names are."""
    if has_diacritics(part):
        return name_key(part) in {name_key(n) for u in units for n in (u.name, u.full_name)}
    return bool(
        plain_keys(part) & {k for u in units for n in (u.name, u.full_name) for k in plain_keys(n)}
    )


def is_number(name: object) -> bool:
    """Whether a cell gives a commune by a number, not a name: a code (`24611`, `24611.0`,
    `24 611`, `24.611`), one whose leading zeros were lost (`103`, `70`), or a ward's number
    (`4`: Phường 4). The warehouse names the commune such a cell resolves to
    (`ref_commune_numbers`, read by `sql/load/dim_cooperative.sql`)."""
    code = unit_code_text(unquoted(name))  # as `_fitting` reads it
    return bool(_CODE.match(code) or _SHORT_CODE.match(code))


def is_known(ref: Reference, unit_code: str, report_year: int, name: object) -> bool:
    """Whether a non-empty cell names a commune the unit may name in the year (without the
    crosswalk: validation never needs to know where a former commune went)."""
    return bool(_fitting(ref, unit_code, report_year, name))


def candidate_frame(ref: Reference, triples) -> pd.DataFrame:
    """One row per candidate of each distinct `(unit_code, report_year, commune_name)`:
    `unit_code, report_year, commune_name, commune_code, current, district_code,
    new_commune_code`. The build registers it as `ref_commune_candidates`."""
    rows = [
        (unit_code, int(year), name, c.code, c.current, c.district_code, c.new_commune_code)
        for unit_code, year, name in triples
        for c in candidates(ref, unit_code, int(year), name)
    ]
    return candidate_rows_frame(rows)


# The columns of `candidate_frame` and their types, in order.
CANDIDATE_FRAME = {
    "unit_code": "string",
    "report_year": "int64",
    "commune_name": "string",
    "commune_code": "string",
    "current": "boolean",
    "district_code": "string",
    "new_commune_code": "string",
}


def candidate_rows_frame(rows: list[tuple]) -> pd.DataFrame:
    """The frame `candidate_frame` makes, from rows in `CANDIDATE_FRAME`'s column order."""
    import pandas as pd

    return pd.DataFrame(rows, columns=list(CANDIDATE_FRAME)).astype(CANDIDATE_FRAME)


@dataclass(frozen=True)
class _Pool:
    """The communes a unit's report of a year may name, indexed by code and by name keys."""

    by_code: dict[str, tuple[Unit, ...]]
    by_key: dict[str, tuple[Unit, ...]]
    by_plain: dict[str, tuple[Unit, ...]]
    # In a pool of both geographies (2025), the units sharing a plain key with another: a
    # plain name fitting several of them counts when they lead to one new commune.
    shared: frozenset[Unit]
    ref: Reference

    def leads_to(self, unit: Unit) -> Unit | str:
        """The new commune a shared unit is, or went whole into (else the unit itself).
        Asked only when a plain name fits several units: the crosswalk it needs is built
        (most of a second, once per process) only then, not with every 2025 pool."""
        if unit not in self.shared:
            return unit
        return _candidate(self.ref, unit).new_commune_code or unit

    def by_name(self, text: str) -> list[Unit]:
        exact = self.by_key.get(name_key(text), ())
        if not exact and has_diacritics(text):
            # `Xa Đắk Mil`, `Phương Dak Mil`: a prefix without its tone mark, then the name
            # compared as any other (`Xà Phiên` fitted as typed).
            rest = without_toneless_prefix(text)
            return self.by_name(rest) if rest else []
        if exact or has_diacritics(text):
            # A name without diacritics that is spelled so in the reference (`Di Linh`, `Nam
            # Dong`, `B'Lao`) is that name, not one typed plainly.
            return list(exact)
        found = {u for key in plain_keys(text) for u in self.by_plain.get(key, ())}
        # Candidates that all lead to the same new commune are no conflict: in 2025 `Nam Da`
        # fits the former Nam Đà and the new Nam Đà it went into.
        if len(found) < 2:
            return list(found)
        places = {self.leads_to(u) for u in found}
        return list(found) if len(places) == 1 else []


def _candidate(ref: Reference, unit: Unit) -> Candidate:
    if unit.current:
        return Candidate(unit.code, True, None, unit.code)
    district = ref.district_of(unit)
    return Candidate(
        unit.code,
        False,
        district.code if district else None,
        _whole_destination(ref, unit.code),
    )


def _whole_destination(ref: Reference, old_code: str) -> str | None:
    try:
        from etl.contract.crosswalk import load_crosswalk
    except ImportError:  # the crosswalk is optional for readers of the former geography
        return None
    return load_crosswalk(ref).whole_destination(old_code)


@cache
def _children(ref: Reference) -> dict[str, tuple[Unit, ...]]:
    """The former units of each former unit code, in the reference's order: a pool is built
    per unit and year, and a scan of every unit for each cost most of the lookups."""
    found: dict[str, list[Unit]] = {}
    for u in ref.units.values():
        if u.parent_code is not None:
            found.setdefault(u.parent_code, []).append(u)
    return {code: tuple(units) for code, units in found.items()}


@cache
def _pool(ref: Reference, unit: Unit, year: int) -> _Pool:
    """The communes a unit's report of `year` may name."""
    units: list[Unit] = []
    if year <= LAST_FORMER_YEAR + 1 and not (unit.current and unit.level == "commune"):
        if unit.current:  # a province in force: the former communes of what merged into it
            for old in ref.former_provinces(unit.code):
                units += ref.former_communes(old)
        elif unit.level == "district":
            units += _children(ref).get(unit.code, ())
        else:
            units += ref.former_communes(unit.code)
    if year >= FIRST_NEW_YEAR - 1:
        province = ref.province_of(unit) if unit.current else None
        if province is None:  # a former district or province in 2025: where it went
            province = ref.current_unit(ref.merged_into(ref.province_of(unit).code))
        if province is not None:
            units += ref.current_communes(province.code)
    by_code: dict[str, list[Unit]] = {}
    by_key: dict[str, list[Unit]] = {}
    by_plain: dict[str, list[Unit]] = {}
    for u in units:
        by_code.setdefault(u.code, []).append(u)
        by_key.setdefault(name_key(u.name), []).append(u)
        for key in plain_keys(u.name):
            by_plain.setdefault(key, []).append(u)
    # Only a 2025 pool holds both geographies: there candidates leading to one new commune
    # are settled by the build as no conflict (up to 2024 a plain name needs one commune).
    both = {u.current for u in units} == {True, False}
    shared = {u for same in by_plain.values() if len(same) > 1 for u in same} if both else ()
    return _Pool(
        {k: tuple(v) for k, v in by_code.items()},
        {k: tuple(v) for k, v in by_key.items()},
        {k: tuple(v) for k, v in by_plain.items()},
        frozenset(shared),
        ref,
    )
