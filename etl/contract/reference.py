"""Administrative units (GSO codes): the former ones, before the 2025 reorganisation, and
the ones in force since 01/07/2025, with the province mergers between them.

Since 01/07/2025 local government has two levels, province and commune: 34 provinces and
3,321 communes (`vn_admin_units_2025.csv`). Most new communes reuse the code of a commune
they absorbed, and new provinces keep the code of one of the provinces they merged, so a
code alone does not say which unit is meant: the report year does.
- up to 2024: the former units (`vn_admin_units.csv`);
- 2025: a province in force at the end of the year, a former district (the first half),
  and communes of either list (the name decides);
- from 2026: the provinces and communes in force.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from etl.config import REFERENCE_DIR
from etl.text import match_key, name_key, slug

# The day the two-level local government took over (Nghị quyết 202/2025/QH15 and the
# resolutions on commune mergers).
REORGANISED_ON = dt.date(2025, 7, 1)
# The last report year in the former geography only, and the first in the new one only.
LAST_FORMER_YEAR = 2024
FIRST_NEW_YEAR = 2026

# Kept for readers of the first deployment: Đắk Nông (67) went into Lâm Đồng (68). The
# national mapping is `Reference.merged_into`.
MERGED_INTO = {"67": "68"}


@dataclass(frozen=True)
class Unit:
    level: str  # province | district | commune
    code: str
    name: str
    full_name: str
    name_en: str
    parent_code: str | None
    current: bool = False  # in force since 01/07/2025 (vn_admin_units_2025.csv)

    @property
    def era(self) -> str:
        return "current" if self.current else "former"


@dataclass(frozen=True, eq=False)  # hashed by identity, so the indexes below can be cached
class Reference:
    units: dict[str, Unit]  # former units by code; codes of different levels differ in width
    current_units: dict[str, Unit] | None = None  # units in force since 01/07/2025, by code
    province_merger: dict[str, str] | None = None  # former province code -> new code

    # -- the former units (the default everywhere a year is not given) -------------------

    def unit(self, code: str) -> Unit | None:
        return self.units.get(code)

    def current_unit(self, code: str) -> Unit | None:
        return (self.current_units or {}).get(code)

    def reporting_unit(self, code: str, year: int | None = None) -> Unit | None:
        """A unit that may send a workbook for `year` (see `reporting_units`); without a
        year, a former province or district, or a province created by the merger."""
        if year is None:
            unit = self.units.get(code) or self.current_unit(code)
            return unit if unit is not None and unit.level in ("province", "district") else None
        found = [u for u in self.in_force(code, year) if _may_report(u, year)]
        return found[0] if found else None

    def in_force(self, code: str, year: int) -> list[Unit]:
        """The units with this code in force during (part of) report year `year`: current
        units first."""
        found = []
        if year >= REORGANISED_ON.year and (unit := self.current_unit(code)) is not None:
            found.append(unit)
        if year <= REORGANISED_ON.year and (unit := self.units.get(code)) is not None:
            found.append(unit)
        return found

    def parent_of(self, unit: Unit) -> Unit:
        """The unit a district or commune belongs to, in its own list."""
        if unit.parent_code is None:
            raise KeyError(f"{unit.level} {unit.code} has no parent unit")
        parents = self.current_units if unit.current else self.units
        return (parents or {})[unit.parent_code]

    def province_of(self, unit: Unit) -> Unit:
        return unit if unit.level == "province" else self.province_of(self.parent_of(unit))

    def district_of(self, unit: Unit) -> Unit | None:
        """A former commune's district; None for a province, a district or a current unit."""
        if unit.current or unit.level != "commune":
            return None
        return self.parent_of(unit)

    # -- the 2025 province mergers ---------------------------------------------------------

    def merged_into(self, province_code: str) -> str:
        """The province in force since 01/07/2025 that a former province became part of."""
        return (self.province_merger or MERGED_INTO).get(province_code, province_code)

    def former_provinces(self, new_code: str) -> list[str]:
        """The former provinces merged into a province in force (itself included, when it
        kept its code)."""
        merger = self.province_merger or MERGED_INTO
        found = sorted(old for old, new in merger.items() if new == new_code)
        return found or [new_code]

    def province_in_force(self, unit: Unit, year: int) -> str:
        """The code of the province that held a unit's area at the end of report year
        `year`: a former province up to 2024, the province it merged into from 2025."""
        code = self.province_of(unit).code
        if unit.current or year < REORGANISED_ON.year:
            return code
        return self.merged_into(code)

    def region(self, code: str, year: int) -> str | None:
        """The province in force since 01/07/2025 whose area a unit reporting for `year`
        lies in (Đắk Nông's 67, its districts and its former communes: 68); None for a code
        of no unit of that year."""
        found = self.in_force(code, year)
        if not found:
            return None
        province = self.province_of(found[0])
        return province.code if province.current else self.merged_into(province.code)

    # -- lookups by name ---------------------------------------------------------------------

    def by_slug(self, text: str, year: int | None = None) -> list[Unit]:
        """Units whose file-name slug is `text`: without a year, the former provinces and
        districts; with one, every unit that may send a workbook for that year, plus (in
        2025) the communes in force at its end, so `dak_mil_2025` fits both the district
        and the new commune and identifies neither.

        A slug that is no unit's at all (of any level, before or since 01/07/2025) is
        tried again as the commune column compares names, spaces, hyphens and apostrophes
        not counting: `Huyện ĐắkMil` (`dakmil`) and `Huyện Đắk G'Long` (`dak_g_long`) name
        663 and 661 as `Đắk Mil` and `Đăk Glong` do. Only words joined or parted where a
        unit's name parts them: `cat_hanh` is never `Ca Thành`. A slug some unit has, such
        as a district's in 2026, is left to say why that unit may not report. The caller
        still checks the letters (`identify._fits`)."""
        found = self._by_slug(text, year, "slug")
        if found or ("any", "slug", text) in _slug_index(self) or _has_number_part(text):
            return found  # `1_1` is no `Quận 11`
        compact = self._by_slug(_compact(text), year, "compact")
        return [u for u in compact if any(_parted_alike(text, s) for s in _slugs(u))]

    def _by_slug(self, text: str, year: int | None, form: str) -> list[Unit]:
        index = _slug_index(self)
        if year is None:
            return index.get(("former", form, text), [])
        found = []
        if year <= REORGANISED_ON.year:
            found += [
                u
                for u in index.get(("former", form, text), [])
                if _may_report(u, year) or (year == 2025 and u.level == "district")
            ]
        if year >= REORGANISED_ON.year:
            found += index.get(("current", form, text), [])
        return found

    def communes_of(self, unit: Unit) -> dict[str, Unit]:
        """Former communes under a district or former province, by match key of the name and
        full name."""
        return _commune_index(self).get(unit.code, {})

    def current_communes(self, province_code: str) -> list[Unit]:
        """The communes in force since 01/07/2025 of a province, by code."""
        return sorted(
            (u for u in (self.current_units or {}).values() if u.parent_code == province_code),
            key=lambda u: u.code,
        )

    def former_communes(self, province_code: str) -> list[Unit]:
        """The former communes of a former province, by code."""
        return list(_former_communes(self).get(province_code, ()))

    def commune_names(self) -> dict[str, list[Unit]]:
        """Every commune of both lists by `name_key` of its name."""
        return _name_index(self)


def _may_report(unit: Unit, year: int) -> bool:
    """Whether a unit may send the workbook of a report year (the workbook contract)."""
    if year <= LAST_FORMER_YEAR:
        return not unit.current and unit.level in ("province", "district")
    if year == REORGANISED_ON.year:
        return (unit.current and unit.level == "province") or (
            not unit.current and unit.level == "district"
        )
    return unit.current and unit.level in ("province", "commune")


@cache
def _slug_index(ref: Reference) -> dict[tuple[str, str, str], list[Unit]]:
    """Units by (era, form, key): their slugs (`_slugs`), and the same without `_`."""
    index: dict[tuple[str, str, str], list[Unit]] = {}
    eras = (
        ("former", [u for u in ref.units.values() if u.level != "commune"]),
        ("current", list((ref.current_units or {}).values())),
    )
    for era, units in eras:
        for unit in units:
            slugs = _slugs(unit)
            for key in slugs:
                index.setdefault((era, "slug", key), []).append(unit)
            for key in {_compact(s) for s in slugs}:
                index.setdefault((era, "compact", key), []).append(unit)
    for unit in [*ref.units.values(), *(ref.current_units or {}).values()]:
        for key in _slugs(unit):  # every unit's, the former communes' too
            index.setdefault(("any", "slug", key), []).append(unit)
    return index


def _compact(key: str) -> str:
    """A slug without its `_`: `dak_mil` and `dakmil` are one."""
    return key.replace("_", "")


def _parted_alike(written: str, key: str) -> bool:
    """Whether two slugs of the same letters part them alike but for words joined or parted:
    one's cuts are all among the other's (`dakmil`, `dak_g_long` and `dak_glong`), never a
    letter moved across a cut (`cat_hanh`, `ca_thanh`)."""
    ours, theirs = _cuts(written), _cuts(key)
    return _compact(written) == _compact(key) and (ours <= theirs or theirs <= ours)


def _has_number_part(key: str) -> bool:
    """Whether a slug has a part of digits alone (`phuong_1`, `1_1`)."""
    return any(part.isdigit() for part in key.split("_"))


def _cuts(key: str) -> set[int]:
    """Where a slug's `_` fall among its letters: `dak_g_long` -> {3, 4}."""
    cuts, at = set(), 0
    for part in key.split("_")[:-1]:
        at += len(part)
        cuts.add(at)
    return cuts


_APOSTROPHES = re.compile("['\u2018\u2019\u02bc`]")


# The kind words of full names as they are usually shortened: `tp_gia_nghia_2023.xlsx`.
_SHORT_KINDS = {"thanh_pho_": "tp_", "thi_xa_": "tx_", "thi_tran_": "tt_"}


def _slugs(unit: Unit) -> set[str]:
    """A unit's file-name slugs, of its name and full name: an apostrophe makes a `_` or
    nothing (`Đắk R'Lấp`: `dak_r_lap` and `dak_rlap`), and a full name's kind word may be
    shortened (`Thành phố Gia Nghĩa`: `tp_gia_nghia`)."""
    names = (unit.name, unit.full_name)
    found = {slug(n) for n in names} | {slug(_APOSTROPHES.sub("", n)) for n in names}
    for long, short in _SHORT_KINDS.items():
        found |= {short + s.removeprefix(long) for s in found if s.startswith(long)}
    return found


@cache
def _former_communes(ref: Reference) -> dict[str, tuple[Unit, ...]]:
    """The former communes of each former province, by code: indexed once, as the crosswalk
    and the commune candidates ask for hundreds of provinces."""
    found: dict[str, list[Unit]] = {}
    for unit in ref.units.values():
        if unit.level == "commune":
            found.setdefault(ref.province_of(unit).code, []).append(unit)
    return {code: tuple(sorted(units, key=lambda u: u.code)) for code, units in found.items()}


@cache
def _commune_index(ref: Reference) -> dict[str, dict[str, Unit]]:
    index: dict[str, dict[str, Unit]] = {}
    for unit in ref.units.values():
        if unit.level != "commune":
            continue
        district = ref.parent_of(unit)
        for parent in (district.code, district.parent_code):
            if parent is None:  # a commune straight under a province
                continue
            names = index.setdefault(parent, {})
            for key in (match_key(unit.name), match_key(unit.full_name)):
                names.setdefault(key, unit)
    return index


@cache
def _name_index(ref: Reference) -> dict[str, list[Unit]]:
    index: dict[str, list[Unit]] = {}
    for unit in [*ref.units.values(), *(ref.current_units or {}).values()]:
        if unit.level == "commune":
            index.setdefault(name_key(unit.name), []).append(unit)
    return index


def read_units(path: Path, current: bool = False) -> dict[str, Unit]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            row["code"]: Unit(
                level=row["level"],
                code=row["code"],
                name=row["name"],
                full_name=row["full_name"],
                name_en=row["name_en"],
                parent_code=row["parent_code"] or None,
                current=current,
            )
            for row in csv.DictReader(handle)
        }


def read_province_merger(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["old_code"]: row["new_code"] for row in csv.DictReader(handle)}


@cache
def load_reference(path: Path | None = None) -> Reference:
    """The reference units. `path` replaces the former list only (tests of small worlds);
    the units in force and the mergers always come from the reference folder."""
    current = REFERENCE_DIR / "vn_admin_units_2025.csv"
    merger = REFERENCE_DIR / "province_merger_2025.csv"
    return Reference(
        units=read_units(path or REFERENCE_DIR / "vn_admin_units.csv"),
        current_units=read_units(current, current=True) if current.exists() else {},
        province_merger=read_province_merger(merger) if merger.exists() else dict(MERGED_INTO),
    )


def check_unit_frame(ref: Reference | None = None):
    """The units the checks across files read (`check_units` of
    `etl.quality.validate._prepare_checks`, kept by the build as `ref_check_units`): every
    unit of both lists with its province, and the province in force since 01/07/2025, as a
    pandas DataFrame. `ref`: the reference units (`load_reference()` when not given)."""
    import pandas as pd

    if ref is None:
        ref = load_reference()
    rows = [
        (unit.code, unit.level, False, province, ref.merged_into(province))
        for unit in ref.units.values()
        if (province := ref.province_of(unit).code)
    ]
    rows += [
        (unit.code, unit.level, True, province, province)
        for unit in (ref.current_units or {}).values()
        if (province := ref.province_of(unit).code)
    ]
    text = ("code", "level", "province_code", "province_2025")
    return pd.DataFrame(
        rows, columns=["code", "level", "current", "province_code", "province_2025"]
    ).astype(dict.fromkeys(text, "string"))
