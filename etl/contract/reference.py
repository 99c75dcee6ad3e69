"""Administrative units (GSO codes) before the 2025 reorganisation: the list of known units."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from etl.config import REFERENCE_DIR
from etl.text import match_key, slug

# Provinces created by the 2025 merger keep a code of one of the merged provinces (Lâm Đồng
# is 68); they are known units for reports from 2025 on.
MERGED_INTO = {"67": "68"}


@dataclass(frozen=True)
class Unit:
    level: str  # province | district | commune
    code: str
    name: str
    full_name: str
    name_en: str
    parent_code: str | None


@dataclass(frozen=True, eq=False)  # hashed by identity, so the indexes below can be cached
class Reference:
    units: dict[str, Unit]  # by code; codes of different levels have different widths

    def unit(self, code: str) -> Unit | None:
        return self.units.get(code)

    def reporting_unit(self, code: str) -> Unit | None:
        """A province or district: the units that may send a workbook."""
        unit = self.units.get(code)
        return unit if unit is not None and unit.level in ("province", "district") else None

    def parent_of(self, unit: Unit) -> Unit:
        """The unit a district or commune belongs to."""
        if unit.parent_code is None:
            raise KeyError(f"{unit.level} {unit.code} has no parent unit")
        return self.units[unit.parent_code]

    def province_of(self, unit: Unit) -> Unit:
        return unit if unit.level == "province" else self.province_of(self.parent_of(unit))

    def by_slug(self, text: str) -> list[Unit]:
        return _slug_index(self).get(text, [])

    def communes_of(self, unit: Unit) -> dict[str, Unit]:
        """Communes under a district or province, by match key of the name and full name."""
        return _commune_index(self).get(unit.code, {})


@cache
def _slug_index(ref: Reference) -> dict[str, list[Unit]]:
    index: dict[str, list[Unit]] = {}
    for unit in ref.units.values():
        if unit.level == "commune":
            continue
        for key in {slug(unit.name), slug(unit.full_name)}:
            index.setdefault(key, []).append(unit)
    return index


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


def read_units(path: Path) -> dict[str, Unit]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            row["code"]: Unit(
                level=row["level"],
                code=row["code"],
                name=row["name"],
                full_name=row["full_name"],
                name_en=row["name_en"],
                parent_code=row["parent_code"] or None,
            )
            for row in csv.DictReader(handle)
        }


@cache
def load_reference(path: Path | None = None) -> Reference:
    return Reference(units=read_units(path or REFERENCE_DIR / "vn_admin_units.csv"))
