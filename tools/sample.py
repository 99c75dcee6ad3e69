"""Deterministic, realistic sample district workbooks: the fixtures, demo data and benchmark.

A population of cooperatives is simulated in memory first (founding, growth, ratings,
dissolution, support, OCOP certificates, offtake contracts), calibrated to Đắk Nông's
published figures, then written as one workbook per unit and year in the template layout
of :mod:`etl.contract.layout`. All randomness of a seed is determined by it.

The reports after the 2025 reorganisation are written the way they are made in the new
geography (``reference/vn_admin_units_2025.csv``). 2025: one workbook of the new Lâm Đồng
province (unit 68) for the former Đắk Nông, whose rows name the real new communes their
cooperatives are in, or, for some, their former commune, as clerks do in 2025. 2026, the
first year of the 2026–2030 phase: a few new communes send their own report
(``24611_2026.xlsx``, Phường Bắc Gia Nghĩa), the province reports for the other communes.
Cooperatives keep their codes across the years, so their history flows through.

That is the province scale, the default. The national scale (``scale="national"``) is the
benchmark corpus: every district unit of the country to 2024, one workbook per province in
force at the end of 2025 from 2025 on, and in 2026 reports from some new communes (see
:func:`write_national_samples`). The bench's 100× corpus stops at 2025; its 300× corpus
(:func:`write_deep_national_samples`) is the same country ten years deep, to 2030.

Command line: ``python -m tools.sample --out DIR [--seed N] [--scale national]``.
"""

from __future__ import annotations

import csv
import math
import multiprocessing
import os
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache
from itertools import accumulate
from pathlib import Path

import xlsxwriter

from etl import config
from etl.contract import layout
from etl.contract.layout import HOTRO, HTX, LIENKET, OCOP, Sheet
from etl.contract.reference import FIRST_NEW_YEAR, MERGED_INTO, load_reference
from etl.contract.rules import current as current_rules
from etl.text import has_diacritics, name_key

# Expected cooperatives per Đắk Nông unit in the first year, about 300 in all: the city is
# small, the coffee and pepper districts large.
DAK_NONG_SIZES = {
    "660": 24,
    "661": 30,
    "662": 44,
    "663": 48,
    "664": 44,
    "665": 34,
    "666": 46,
    "667": 26,
}
# About 30,000 cooperatives over about 700 district units.
DEFAULT_UNIT_SIZE = 43

SCHEME_SIZE = 5  # cooperatives of a province in the Decision 167 scheme
MODEL_SHARE = 0.04  # share of cooperatives run as replication candidates (Tốt, profitable)
DISSOLVE_RATE = 0.04  # share of cooperatives dissolved each year

# Category values come from the layout; unpacking fails loudly if the layout changes.
AGRI, NON_AGRI, CREDIT, TRANSPORT, BUILDING, ENVIRONMENT, OTHER = layout.SECTORS
GOOD, FAIR, AVERAGE, WEAK, UNRATED = layout.RATINGS
# The funding sources of the former geography, as the sample has always drawn them (a list
# of its own, so that a source the rules add does not change the earlier years' draws). From
# report year 2025 the district's share is the commune's: `Xã`, not `Huyện`.
FUNDS = CENTRAL, PROVINCIAL, DISTRICT, BLENDED, OTHER_FUNDS = (
    "Trung ương", "Tỉnh", "Huyện", "Lồng ghép", "Khác"
)  # fmt: skip
COMMUNE_FUNDS = "Xã"
DA167, NTM, OCOP_PROGRAM, CNNT, OTHER_SUPPORT = (code for code, _vi, _en in layout.PROGRAMS)

# The first row of the signature block in the HTX sheet ("TRƯỞNG PHÒNG" goes in column K).
SIGNATURE_HEAD_COL = 10
# The HTX sheet's header row (0-based): below three title rows and a blank one. The other
# data sheets have their header in the first row.
HTX_HEADER_ROW = 4

# How much sample data to write: Đắk Nông's 8 units (the fixtures and demo data), or every
# district-level unit of the country (the benchmark corpus).
PROVINCE_SCALE, NATIONAL_SCALE = "province", "national"
SCALES = (PROVINCE_SCALE, NATIONAL_SCALE)

# The report years each scale writes by default: the province sample reaches into the
# 2026–2030 phase; the benchmark corpus stops at 2025 (the bench's extra workbook is 2026).
PROVINCE_YEARS = range(2021, 2027)
NATIONAL_YEARS = range(2021, 2026)
# The deep national corpus (the bench's 300×): every report year the contract knows
# (2021–2030), "that scale, 10 years deep", in district-workbook.md's words.
DEEP_YEARS = range(2021, 2031)

# What a correct pipeline does with a sample file.
LOADED, SUPERSEDED, QUARANTINED = "loaded", "superseded", "quarantined"

# The resubmissions written next to the clean files: a correction of 663's 2023 report that
# replaces it, and a botched resubmission of 665's 2024 report that must be rejected.
CORRECTED = ("663", 2023, "bosung")
BOTCHED = ("665", 2024, "sua")
# Not a cooperative of any file: generated codes are the tax prefix, 0 and 7 digits.
UNKNOWN_CODE = "6499999999"

# From the 2025 report on, the former Đắk Nông reports as part of the new Lâm Đồng (68): one
# province-level workbook instead of one per district.
PROVINCE_YEAR = 2025
PROVINCE_CODE = MERGED_INTO["67"]
PROVINCE_SCOPE = "(khu vực Đắk Nông cũ)"  # appended to the report title
# In 2025 a clerk names a cooperative's former commune for about a quarter of the rows, its
# new commune for the others.
FORMER_NAME_SHARE = 0.25
# From 2026 these new communes of 68 report themselves (the Gia Nghĩa wards and Kiến Đức);
# the province reports for the others.
COMMUNE_UNITS = ("24611", "24615", "24617", "24733")
COMMUNE_SCOPE = "(các xã, phường khu vực Đắk Nông cũ chưa tự báo cáo)"


@dataclass(frozen=True)
class Unit:
    """A reporting unit with its communes and the size of its cooperative population."""

    code: str
    name: str
    full_name: str
    communes: tuple[str, ...]
    size: int = DEFAULT_UNIT_SIZE
    tax_prefix: str = "64"  # Đắk Nông's tax codes begin with 64


@dataclass(frozen=True)
class CoopYear:
    """One row of the HTX sheet; field names are the layout's column keys."""

    coop_code: str
    name: str
    commune_name: str
    founded_on: date
    sector: str
    in_da167: bool
    members: int
    workers: int
    charter_capital_mvnd: float
    total_assets_mvnd: float
    revenue_mvnd: float
    profit_before_tax_mvnd: float
    avg_income_mvnd: float
    rating: str
    score: float | None
    has_offtake_contract: bool
    note: str


@dataclass(frozen=True)
class SupportLine:
    coop_code: str
    program: str
    content: str
    funding_source: str
    amount_mvnd: float
    year: int


@dataclass(frozen=True)
class OcopLine:
    coop_code: str
    product_name: str
    product_group: str
    stars: int
    decision_no: str
    decision_date: date


@dataclass(frozen=True)
class OfftakeLine:
    coop_code: str
    partner: str
    product: str
    volume_tonnes: float
    contract_value_mvnd: float


@dataclass(frozen=True)
class UnitReport:
    """Everything one workbook holds: a unit's report for one year."""

    unit: Unit
    year: int
    prepared_on: date
    prepared_by: str
    head_of_office: str
    coops: tuple[CoopYear, ...]
    support: tuple[SupportLine, ...]
    ocop: tuple[OcopLine, ...]
    offtake: tuple[OfftakeLine, ...]
    title_note: str = ""  # after the report title, e.g. the area a province report covers

    def rows(self) -> dict[str, int]:
        return {
            HTX.key: len(self.coops),
            HOTRO.key: len(self.support),
            OCOP.key: len(self.ocop),
            LIENKET.key: len(self.offtake),
        }


# A cell as a finding names it: sheet name, row number as Excel shows it, column header.
Cell = tuple[str, int, str]


@dataclass(frozen=True)
class SampleFile:
    path: Path
    unit_code: str
    report_year: int
    rows: dict[str, int]  # data rows written per sheet key
    expected_status: str = LOADED  # LOADED, SUPERSEDED or QUARANTINED
    expected_errors: tuple[Cell, ...] = ()  # the deliberately broken cells
    expected_warnings: tuple[Cell, ...] = ()  # the deliberately suspicious cells


# ---------------------------------------------------------------------------------------
# Units


def read_units(
    path: Path,
    parent_codes: Iterable[str] | None = None,
    sizes: Mapping[str, int] | None = None,
) -> list[Unit]:
    """District-level units of an admin-units CSV, with their communes, in file order."""
    with path.open(encoding="utf-8", newline="") as f:
        records = list(csv.DictReader(f))
    parents = set(parent_codes) if parent_codes is not None else None
    communes: dict[str, list[str]] = {}
    for r in records:
        if r["level"] == "commune":
            communes.setdefault(r["parent_code"], []).append(r["name"])
    sizes = sizes or {}
    return [
        Unit(
            code=r["code"],
            name=r["name"],
            full_name=r["full_name"],
            communes=tuple(communes.get(r["code"], [r["name"]])),
            size=sizes.get(r["code"], DEFAULT_UNIT_SIZE),
        )
        for r in records
        if r["level"] == "district" and (parents is None or r["parent_code"] in parents)
    ]


def dak_nong_units() -> list[Unit]:
    """Đắk Nông's 8 district-level units (660–667), sized by plausibility."""
    path = config.REFERENCE_DIR / "dak_nong_admin_units.csv"
    return read_units(path, parent_codes=("67",), sizes=DAK_NONG_SIZES)


def province_unit() -> Unit:
    """Lâm Đồng (68), which reports for the former Đắk Nông from 2025 on.

    Its communes are the new communes that hold former Đắk Nông communes.
    """
    path = config.REFERENCE_DIR / "dak_nong_admin_units.csv"
    with path.open(encoding="utf-8", newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["code"] == PROVINCE_CODE)
    districts = dak_nong_units()
    held = sorted({c.code: c for c in dak_nong_new_communes().values()}.items())
    return Unit(
        code=row["code"],
        name=row["name"],
        full_name=row["full_name"],
        communes=tuple(c.full_name for _code, c in held),
        size=sum(u.size for u in districts),
    )


def commune_unit(code: str) -> Unit:
    """A new commune of 68 as a reporting unit (from 2026): its one commune is itself."""
    commune = new_communes(PROVINCE_CODE)[code]
    return Unit(
        code=commune.code,
        name=commune.name,
        full_name=commune.full_name,
        communes=(commune.full_name,),
        tax_prefix="64",
    )


# ---------------------------------------------------------------------------------------
# The new geography (since 01/07/2025): where the former Đắk Nông communes went

# The published merger text spells one former commune of Đắk Song differently from the
# former list: `Xã Đắk N’Drung` (24717 Xã Đức An) is the list's `Đắk N'Dung` (24727). The
# sample's clerks know where their cooperatives are; the warehouse's crosswalk need not.
_MERGER_SPELLINGS = {"24727": "Đắk N'Drung"}


@dataclass(frozen=True)
class NewCommune:
    """A commune in force since 01/07/2025 (``vn_admin_units_2025.csv``)."""

    code: str
    name: str
    full_name: str


@cache
def _merger_rows(province_code: str) -> tuple[dict[str, str], ...]:
    path = config.REFERENCE_DIR / "commune_merger_2025.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return tuple(r for r in csv.DictReader(f) if r["province_code"] == province_code)


@cache
def new_communes(province_code: str = PROVINCE_CODE) -> dict[str, NewCommune]:
    """The communes in force since 01/07/2025 of a province, by code."""
    path = config.REFERENCE_DIR / "vn_admin_units_2025.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return {
            r["code"]: NewCommune(r["code"], r["name"], r["full_name"])
            for r in csv.DictReader(f)
            if r["level"] == "commune" and r["parent_code"] == province_code
        }


_QUALIFIED = re.compile(r"^(?P<name>[^()]*?)\s*(?:\((?P<qualifier>[^()]*)\))?\s*$")


@cache
def dak_nong_new_communes() -> dict[str, NewCommune]:
    """Former Đắk Nông commune code -> the new commune of Lâm Đồng (68) it went into.

    Read from the merger text of the new communes of 68 by the contract's name comparison
    (:func:`etl.text.name_key`): a fragment names a former commune; ``giữ nguyên`` keeps the
    commune of the same name. Where a name fits several new communes, the one whose
    qualifier names the former district wins (``Xã Tân Thành (huyện Krông Nô)``). This is
    the sample's own knowledge of where its cooperatives are, not the warehouse's crosswalk.
    """
    path = config.REFERENCE_DIR / "dak_nong_admin_units.csv"
    with path.open(encoding="utf-8", newline="") as f:
        records = list(csv.DictReader(f))
    found = _went_into(PROVINCE_CODE, records)
    lost = [r["code"] for r in records if r["level"] == "commune" and r["code"] not in found]
    if lost:
        raise ValueError(f"former communes {lost} are in no new commune of {PROVINCE_CODE}")
    return found


def _went_into(province_code: str, records: Sequence[Mapping[str, str]]) -> dict[str, NewCommune]:
    """Former commune code -> new commune of ``province_code``, for the former communes of
    ``records`` (rows of an admin-units CSV) that its merger text names."""
    districts = {r["code"]: r["name"] for r in records if r["level"] == "district"}
    former = [r for r in records if r["level"] == "commune"]
    parent = {r["code"]: r["parent_code"] for r in former}
    by_key: dict[str, list[Mapping[str, str]]] = {}
    for r in former:
        by_key.setdefault(name_key(_MERGER_SPELLINGS.get(r["code"], r["name"])), []).append(r)
    communes = new_communes(province_code)
    hits: dict[str, list[tuple[str, str]]] = {}  # former code -> (new code, qualifier)
    for row in _merger_rows(province_code):
        fragments = (
            [(communes[row["new_code"]].name, "")]
            if row["before_merger"].strip().lower() == "giữ nguyên"
            else [
                (m["name"], m["qualifier"] or "")
                for part in row["before_merger"].split(",")
                if (m := _QUALIFIED.match(part.strip()))
            ]
        )
        for name, qualifier in fragments:
            for r in by_key.get(name_key(name), ()):
                hits.setdefault(r["code"], []).append((row["new_code"], qualifier))
    found = {}
    for code, options in hits.items():
        district = name_key(districts.get(parent[code], ""))
        named = [new for new, qualifier in options if qualifier and district in name_key(qualifier)]
        found[code] = communes[(named or [new for new, _qualifier in options])[0]]
    return found


@cache
def _former_commune_codes() -> dict[tuple[str, str], str]:
    """(district code, commune name) -> former commune code, for Đắk Nông."""
    path = config.REFERENCE_DIR / "dak_nong_admin_units.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return {
            (r["parent_code"], r["name"]): r["code"]
            for r in csv.DictReader(f)
            if r["level"] == "commune"
        }


def new_commune_of(district_code: str, commune_name: str) -> NewCommune:
    """The new commune a cooperative of a former Đắk Nông commune is in since 01/07/2025."""
    return dak_nong_new_communes()[_former_commune_codes()[(district_code, commune_name)]]


# ---------------------------------------------------------------------------------------
# Vocabulary

_FAMILY = (
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
    "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Điểu", "Y",
)  # fmt: skip
_MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Quang", "Ngọc", "Thanh", "Hữu", "Xuân", "Thị Thu", "Công")
_GIVEN = (
    "An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hạnh", "Hiền", "Hòa", "Hùng", "Hương",
    "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phong", "Phương", "Quân", "Sơn", "Tâm",
    "Thảo", "Thắng", "Thủy", "Trang", "Tuấn", "Vinh", "Yến", "K'Rơi", "Bình Minh",
)  # fmt: skip

# Name stems per sector (the text after "HTX"), most common first.
_KINDS = {
    AGRI: (
        ("Nông nghiệp", 20), ("Dịch vụ nông nghiệp", 12), ("Nông nghiệp dịch vụ tổng hợp", 8),
        ("Cà phê", 8), ("Hồ tiêu", 5), ("Sầu riêng", 4), ("Mắc ca", 3), ("Rau an toàn", 3),
        ("Nông nghiệp hữu cơ", 3), ("Nông nghiệp công nghệ cao", 2), ("Chăn nuôi", 3),
        ("Dược liệu", 2), ("Nông lâm nghiệp", 2), ("Thủy sản", 1),
    ),
    NON_AGRI: (
        ("Dệt thổ cẩm", 2), ("Thủ công mỹ nghệ", 2), ("Chế biến nông sản", 3), ("Mộc dân dụng", 1),
    ),
    CREDIT: ((CREDIT, 1),),
    TRANSPORT: (("Vận tải", 2), ("Dịch vụ vận tải", 1)),
    BUILDING: (("Xây dựng", 2), ("Xây dựng và thương mại", 1)),
    ENVIRONMENT: (("Môi trường", 2), ("Dịch vụ môi trường", 2)),
    OTHER: (("Dịch vụ tổng hợp", 3), ("Du lịch cộng đồng", 1), ("Thương mại dịch vụ", 2)),
}  # fmt: skip
_SECTOR_WEIGHTS = {
    AGRI: 75,
    NON_AGRI: 6,
    CREDIT: 3,
    TRANSPORT: 5,
    BUILDING: 3,
    ENVIRONMENT: 4,
    OTHER: 4,
}
_RENAMES = {
    "Nông nghiệp": "Dịch vụ nông nghiệp",
    "Dịch vụ nông nghiệp": "Nông nghiệp dịch vụ tổng hợp",
    "Cà phê": "Nông nghiệp cà phê",
    "Dịch vụ tổng hợp": "Nông nghiệp dịch vụ tổng hợp",
    "Vận tải": "Dịch vụ vận tải",
    "Môi trường": "Dịch vụ môi trường",
}
_BRANDS = (
    "Tân Lập", "Thành Công", "Đoàn Kết", "Hưng Thịnh", "Phú Thịnh", "Bình Minh", "Hòa Bình",
    "Tiến Đạt", "Thịnh Phát", "Đồng Tiến", "Thống Nhất", "Tân Tiến", "Quyết Thắng",
    "Bon Bu Prăng", "Buôn Ol", "Bon Ja Ráh", "Trường Sơn", "Hợp Nhất", "Phúc Lộc", "An Phú",
    "Minh Tâm", "Sơn Lâm", "Xanh", "Đại Ngàn", "Tây Nguyên", "Cao Nguyên", "Ánh Dương",
    "Hợp Lực", "Thắng Lợi", "Nam Tiến", "Đồng Xanh", "Kim Phát", "Phước Lộc",
)  # fmt: skip

# Offtake products: price in million VND per tonne.
_CROPS = {
    "cà phê nhân": 55.0,
    "hồ tiêu": 90.0,
    "sầu riêng": 60.0,
    "mắc ca": 45.0,
    "bơ": 20.0,
    "chanh dây": 12.0,
    "lúa gạo": 8.0,
    "rau an toàn": 10.0,
    "lợn thịt": 55.0,
    "ca cao": 50.0,
}
_CROP_OF_KIND = {
    "Cà phê": "cà phê nhân",
    "Nông nghiệp cà phê": "cà phê nhân",
    "Hồ tiêu": "hồ tiêu",
    "Sầu riêng": "sầu riêng",
    "Mắc ca": "mắc ca",
    "Rau an toàn": "rau an toàn",
    "Chăn nuôi": "lợn thịt",
}
_PARTNER_FORMS = ("Công ty TNHH", "Công ty CP", "Công ty TNHH MTV")
_PARTNER_TRADES = ("Nông sản", "Cà phê", "Xuất nhập khẩu", "Thực phẩm", "Đầu tư nông nghiệp")
_PARTNER_NAMES = (
    "Tây Nguyên Xanh", "Nam Tây Nguyên", "Phú Thịnh", "An Phát", "Hưng Long", "Việt Xanh",
    "Đại Ngàn", "Minh Phát", "Thành Đạt", "Kim Long", "Sao Việt", "Đắk Nông", "Trường Phát",
)  # fmt: skip

# OCOP product name templates with their group; the place of the cooperative completes them.
_FOOD, _DRINK, _HERBAL, _TEXTILE, _CRAFT, _TOURISM = layout.OCOP_GROUPS
_OCOP_AGRI = (
    ("Cà phê rang xay", _DRINK), ("Cà phê bột", _DRINK), ("Hồ tiêu đen", _FOOD),
    ("Hạt mắc ca sấy", _FOOD), ("Sầu riêng", _FOOD), ("Bơ sáp", _FOOD), ("Gạo", _FOOD),
    ("Mật ong", _FOOD), ("Chanh dây", _FOOD), ("Trà mãng cầu", _DRINK), ("Rượu cần", _DRINK),
    ("Tinh bột nghệ", _HERBAL), ("Sâm dây", _HERBAL), ("Đông trùng hạ thảo", _HERBAL),
)  # fmt: skip
_OCOP_OTHER = (
    ("Thổ cẩm", _TEXTILE), ("Khăn thổ cẩm M'nông", _TEXTILE), ("Mây tre đan", _CRAFT),
    ("Tượng gỗ", _CRAFT), ("Du lịch cộng đồng", _TOURISM),
)  # fmt: skip

# Programme: contents, funding sources, amount range in million VND.
_SUPPORT = {
    DA167: (
        ("Hỗ trợ xây dựng kho bảo quản", "Hỗ trợ máy móc chế biến", "Tư vấn quản trị HTX"),
        (CENTRAL, BLENDED, PROVINCIAL),
        (200.0, 800.0),
    ),
    NTM: (
        ("Hỗ trợ giống cây trồng", "Hỗ trợ hệ thống tưới tiết kiệm", "Hỗ trợ mô hình liên kết"),
        (CENTRAL, PROVINCIAL, DISTRICT, BLENDED),
        (30.0, 500.0),
    ),
    OCOP_PROGRAM: (
        ("Hỗ trợ thiết kế bao bì, nhãn mác", "Hỗ trợ xúc tiến thương mại", "Hỗ trợ chứng nhận"),
        (PROVINCIAL, DISTRICT),
        (20.0, 150.0),
    ),
    CNNT: (
        ("Hỗ trợ máy móc thiết bị", "Hỗ trợ chuyển giao công nghệ"),
        (PROVINCIAL, CENTRAL),
        (50.0, 400.0),
    ),
    OTHER_SUPPORT: (
        ("Đào tạo nguồn nhân lực", "Đưa cán bộ trẻ về làm việc tại HTX", "Tín dụng ưu đãi"),
        FUNDS,
        (20.0, 200.0),
    ),
}

# Base quality bands and their shares; the score of a year is quality plus a little noise.
_RATING_MIX = (
    (GOOD, 0.005, (81.5, 90.0)),
    (FAIR, 0.42, (67.0, 78.0)),
    (AVERAGE, 0.54, (52.0, 63.0)),
    (WEAK, 0.035, (38.0, 48.0)),
)
_GOOD_BAND = (80.5, 98.0)  # Tốt: scheme leaders and replication models stay here
_FAIR_BAND = (65.5, 79.5)  # Khá: the other scheme members


def funding_in(source: str, year: int) -> str:
    """The source as a clerk of ``year`` writes it: the district's share is the commune's
    (`Xã`) from 2025, when districts are gone."""
    return COMMUNE_FUNDS if source == DISTRICT and year >= PROVINCE_YEAR else source


def rating_for(score: float) -> str:
    """The rating a score earns: the suite's bands (Thông tư 01/2020/TT-BKHĐT)."""
    return current_rules().rating_for(score)


# ---------------------------------------------------------------------------------------
# The simulated population


@dataclass
class _Contract:
    partner: str
    product: str
    revenue_share: float  # contract value as a share of the cooperative's revenue


@dataclass
class _Product:
    owner: str
    name: str
    group: str
    stars: int
    decision_no: str
    decision_date: date


@dataclass
class _Coop:
    code: str
    unit: Unit
    kind: str
    place: str
    name: str
    commune: str
    founded_on: date
    sector: str
    quality: float
    members: int
    worker_ratio: float
    revenue: float
    capital: float
    asset_ratio: float
    band: tuple[float, float] | None = None  # a score band the cooperative never leaves
    in_scheme: bool = False
    contracts: list[_Contract] = field(default_factory=list)
    note: str = ""

    @property
    def protected(self) -> bool:
        return self.band is not None


@dataclass
class _Registry:
    """What must stay unique: codes province-wide, names per unit, decisions per year."""

    codes: set[str] = field(default_factory=set)
    names: dict[str, set[str]] = field(default_factory=dict)
    decisions: dict[int, list[tuple[str, date]]] = field(default_factory=dict)


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"


def _lognormal_with_mean(rng: random.Random, mean: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)


def _clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _new_code(unit: Unit, rng: random.Random, registry: _Registry) -> str:
    while True:
        code = f"{unit.tax_prefix}0{rng.randrange(10**7):07d}"
        if code not in registry.codes:
            registry.codes.add(code)
            return code


def _new_name(
    unit: Unit, kind: str, commune: str, rng: random.Random, registry: _Registry
) -> tuple[str, str]:
    """A name unique within the unit, and the place part of it."""
    taken = registry.names.setdefault(unit.code, set())
    for attempt in range(40):
        roll = rng.random()
        place = commune if roll < 0.45 else unit.name if roll < 0.55 else rng.choice(_BRANDS)
        if attempt >= 20:
            place = f"{commune} {rng.choice(_BRANDS)}"
        name = _full_name(kind, place)
        if name not in taken:
            taken.add(name)
            return name, place
    raise RuntimeError(f"no free cooperative name left in unit {unit.code}")


def _full_name(kind: str, place: str) -> str:
    if kind == CREDIT:
        return f"{CREDIT} {place}"
    return f"HTX {kind} {place}"


def _founding_date(rng: random.Random, first_year: int) -> date:
    # Most cooperatives date from after the 2012 Law on Cooperatives; a few were converted
    # from the old model in the late 1990s.
    years = list(range(1997, first_year))
    weights = [1 if y < 2013 else 4 for y in years]
    year = rng.choices(years, weights)[0]
    return _date_in(rng, year)


def _date_in(rng: random.Random, year: int, first_month: int = 1, last_month: int = 12) -> date:
    return date(year, rng.randint(first_month, last_month), rng.randint(1, 28))


def _quality(rng: random.Random) -> float:
    band = rng.choices([m[2] for m in _RATING_MIX], [m[1] for m in _RATING_MIX])[0]
    return rng.uniform(*band)


def _qualities(count: int, rng: random.Random) -> list[float]:
    """Qualities for a whole population, in the exact shares of the rating mix."""
    quotas = [round(share * count) for _, share, _ in _RATING_MIX]
    quotas[2] += count - sum(quotas)  # Trung bình, the largest group, absorbs rounding
    bands = [band for _, _, band in _RATING_MIX]
    qualities = [
        rng.uniform(*band) for band, n in zip(bands, quotas, strict=True) for _ in range(n)
    ]
    rng.shuffle(qualities)
    return qualities


def _new_coop(
    unit: Unit,
    year: int,
    rng: random.Random,
    registry: _Registry,
    *,
    initial: bool,
    quality: float | None = None,
) -> _Coop:
    sector = rng.choices(list(_SECTOR_WEIGHTS), list(_SECTOR_WEIGHTS.values()))[0]
    kinds = _KINDS[sector]
    kind = rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
    commune = rng.choice(unit.communes)
    name, place = _new_name(unit, kind, commune, rng, registry)
    if initial:
        founded = _founding_date(rng, year)
        members = round(_clip(_lognormal_with_mean(rng, 58, 0.75), 7, 300))
        revenue = _lognormal_with_mean(rng, 1500, 0.85)
    else:
        founded = _date_in(rng, year)
        members = round(_clip(_lognormal_with_mean(rng, 20, 0.5), 7, 80))
        revenue = _lognormal_with_mean(rng, 450, 0.8)
    revenue = _clip(revenue, 40, 15_000)
    coop = _Coop(
        code=_new_code(unit, rng, registry),
        unit=unit,
        kind=kind,
        place=place,
        name=name,
        commune=commune,
        founded_on=founded,
        sector=sector,
        quality=_quality(rng) if quality is None else quality,
        members=members,
        worker_ratio=rng.uniform(0.35, 0.7),
        revenue=revenue,
        capital=max(30.0, revenue * _lognormal_with_mean(rng, 1.0, 0.35)),
        asset_ratio=rng.uniform(1.1, 1.9),
        note="" if initial else "Thành lập mới",
    )
    if sector == AGRI and rng.random() < _offtake_chance(coop.quality):
        coop.contracts = _contracts(coop, rng)
    return coop


# The chance of an offtake contract, by the rating a cooperative's quality earns.
_OFFTAKE_CHANCE = {GOOD: 0.9, FAIR: 0.5, AVERAGE: 0.2, WEAK: 0.05}


def _offtake_chance(quality: float) -> float:
    return _OFFTAKE_CHANCE[rating_for(quality)]


def _contracts(coop: _Coop, rng: random.Random) -> list[_Contract]:
    """One offtake contract, sometimes two; a crop cooperative sells its own crop first."""
    crops = rng.sample(list(_CROPS), 1 if rng.random() < 0.85 else 2)
    own = _CROP_OF_KIND.get(coop.kind)
    if own is not None and own not in crops:
        crops[0] = own
    return [
        _Contract(
            partner=" ".join(
                (
                    rng.choice(_PARTNER_FORMS),
                    rng.choice(_PARTNER_TRADES),
                    rng.choice(_PARTNER_NAMES),
                )
            ),
            product=crop,
            revenue_share=rng.uniform(0.25, 0.7) / len(crops),
        )
        for crop in crops
    ]


def _assign_roles(
    coops: Sequence[_Coop], rng: random.Random, scheme_size: int, model_count: int
) -> None:
    """Put a few farming cooperatives in the Decision 167 scheme and make a few models.

    Scheme members are spread over units where possible; the first three are rated Tốt,
    the others Khá. Models stay Tốt and profitable: the replication mart's candidates.
    """
    farms = [c for c in coops if c.sector == AGRI]
    by_unit: dict[str, list[_Coop]] = {}
    for c in farms:
        by_unit.setdefault(c.unit.code, []).append(c)
    scheme: list[_Coop] = []
    units = rng.sample(sorted(by_unit), len(by_unit))
    while len(scheme) < min(scheme_size, len(farms)):
        for code in units:
            pool = [c for c in by_unit[code] if c not in scheme]
            if pool and len(scheme) < scheme_size:
                scheme.append(rng.choice(pool))
    for i, coop in enumerate(scheme):
        coop.in_scheme = True
        coop.band = _GOOD_BAND if i < 3 else _FAIR_BAND
        coop.quality = rng.uniform(84, 90) if i < 3 else rng.uniform(70, 75)
    rest = [c for c in farms if c not in scheme]
    for coop in rng.sample(rest, min(model_count, len(rest))):
        coop.band = _GOOD_BAND
        coop.quality = rng.uniform(83, 91)
    for coop in [*scheme, *(c for c in rest if c.protected)]:
        coop.revenue = max(coop.revenue, rng.uniform(1500, 4000))
        if not coop.contracts:
            coop.contracts = _contracts(coop, rng)


def _evolve(coop: _Coop, rng: random.Random) -> None:
    """One year on: figures move by a few percent, at most about a fifth."""
    growth = rng.lognormvariate(0.06 if coop.protected else 0.03, 0.08)
    coop.revenue = _clip(coop.revenue * _clip(growth, 0.8, 1.25), 40, 60_000)
    coop.members = round(_clip(coop.members * rng.uniform(0.97, 1.05), 7, 300))
    if rng.random() < 0.12:
        coop.capital *= rng.uniform(1.05, 1.4)
    coop.asset_ratio = _clip(coop.asset_ratio * rng.uniform(0.97, 1.04), 1.05, 2.5)
    coop.quality += rng.gauss(0, 0.8)
    if coop.band is not None:
        coop.quality = _clip(coop.quality, coop.band[0] + 2, coop.band[1] - 2)
    coop.note = ""
    if coop.sector == AGRI and not coop.contracts and rng.random() < 0.04:
        coop.contracts = _contracts(coop, rng)
    elif coop.contracts and not coop.protected and rng.random() < 0.04:
        coop.contracts = []


def _turn_over(
    unit: Unit,
    active: list[_Coop],
    year: int,
    rng: random.Random,
    registry: _Registry,
) -> list[_Coop]:
    """Dissolve a few cooperatives and found new ones, keeping the unit near its size."""
    survivors = [c for c in active if c.protected or rng.random() >= DISSOLVE_RATE]
    for coop in survivors:
        _evolve(coop, rng)
    target = unit.size + rng.randint(-2, 2)
    founded = [
        _new_coop(unit, year, rng, registry, initial=False)
        for _ in range(max(0, target - len(survivors)))
    ]
    return survivors + founded


def _change_identity(coop: _Coop, change: str, rng: random.Random, registry: _Registry) -> bool:
    """Rename a cooperative or move it to another commune; False when it cannot."""
    if change == "rename" and coop.kind in _RENAMES:
        name = _full_name(_RENAMES[coop.kind], coop.place)
        taken = registry.names.setdefault(coop.unit.code, set())
        if name in taken:
            return False
        taken.add(name)
        coop.note = f"Đổi tên từ {coop.name}"
        coop.kind, coop.name = _RENAMES[coop.kind], name
        return True
    others = [c for c in coop.unit.communes if c != coop.commune]
    if change == "move" and others:
        coop.note = f"Chuyển trụ sở từ {coop.commune}"
        coop.commune = rng.choice(others)
        return True
    return False


def _plan_identity_changes(years: Sequence[int], rng: random.Random) -> dict[int, list[str]]:
    """3–6 renames or moves over the years after the first, at least one of each."""
    if len(years) < 2:
        return {}
    changes = ["rename", "move"] + [
        rng.choice(("rename", "move")) for _ in range(rng.randint(1, 4))
    ]
    plan: dict[int, list[str]] = {}
    for change in changes:
        plan.setdefault(rng.choice(years[1:]), []).append(change)
    return plan


def _decisions(year: int, rng: random.Random, registry: _Registry) -> list[tuple[str, date]]:
    """The province's OCOP certification decisions of a year: a few batches."""
    if year not in registry.decisions:
        numbers = sorted(rng.sample(range(150, 3200), 3))
        dates = sorted(_date_in(rng, year, 3, 11) for _ in numbers)
        registry.decisions[year] = [
            (f"{n}/QĐ-UBND", d) for n, d in zip(numbers, dates, strict=True)
        ]
    return registry.decisions[year]


def _still_reported(decision_date: date, year: int) -> bool:
    # Reported while dated within the 30 months before the end of the report year, so a
    # certificate (valid 36 months) never expires before the year it is reported in.
    return decision_date > date(year - 2, 6, 30)


def _ocop_share(index: int) -> float:
    """OCOP products per cooperative: about 24 province-wide at first, 50–60 later."""
    return min(0.185, 0.08 + 0.03 * index)


# The stars a product may have are the suite's (3 to 5); these are their shares.
STARS = current_rules().bounds("ocop", "stars").whole_numbers()
_STAR_WEIGHTS = (72, 25, 3)


def _stars(rng: random.Random) -> int:
    return rng.choices(STARS, _STAR_WEIGHTS)[0]


def _certify(
    products: list[_Product],
    active: Sequence[_Coop],
    year: int,
    index: int,
    rng: random.Random,
    registry: _Registry,
) -> tuple[list[_Product], list[_Product]]:
    """Products still reported this year, and those (re)certified during it."""
    alive = {c.code: c for c in active}
    kept = [p for p in products if p.owner in alive]
    certified: list[_Product] = []
    for product in kept:
        if not _still_reported(product.decision_date, year):
            product.decision_no, product.decision_date = rng.choice(_decisions(year, rng, registry))
            if product.stars == 3 and rng.random() < 0.2:
                product.stars = 4
            certified.append(product)
    if index == 0:
        batches = [
            d
            for y in (year - 2, year - 1, year)
            for d in _decisions(y, rng, registry)
            if _still_reported(d[1], year)
        ]
    else:
        batches = _decisions(year, rng, registry)
    owned: dict[str, list[_Product]] = {}
    for p in kept:
        owned.setdefault(p.owner, []).append(p)
    names = {(alive[p.owner].unit.code, p.name) for p in kept}  # unique within a unit
    eligible = [c for c in active if c.sector in (AGRI, NON_AGRI, OTHER)]
    # Better-run cooperatives are likelier to get a product certified.
    weights = list(accumulate(max(1.0, c.quality - 45) for c in eligible))
    target = round(_ocop_share(index) * len(active))
    for _ in range(50 * target):
        if len(kept) >= target or not eligible:
            break
        owner = rng.choices(eligible, cum_weights=weights)[0]
        templates = _OCOP_AGRI if owner.sector == AGRI else _OCOP_OTHER
        stem, group = rng.choice(templates)
        name = f"{stem} {owner.place}"
        if len(owned.get(owner.code, [])) >= 3 or (owner.unit.code, name) in names:
            continue
        decision_no, decision_date = rng.choice(batches)
        product = _Product(owner.code, name, group, _stars(rng), decision_no, decision_date)
        kept.append(product)
        certified.append(product)
        owned.setdefault(owner.code, []).append(product)
        names.add((owner.unit.code, name))
    return kept, certified


def _support(
    active: Sequence[_Coop], certified: Sequence[_Product], year: int, rng: random.Random
) -> list[SupportLine]:
    """The year's programme support, 30–60 lines for a province of about 300."""

    def line(coop_code: str, program: str) -> SupportLine:
        contents, sources, (low, high) = _SUPPORT[program]
        return SupportLine(
            coop_code=coop_code,
            program=program,
            content=rng.choice(contents),
            funding_source=funding_in(rng.choice(sources), year),
            amount_mvnd=round(rng.uniform(low, high)),
            year=year,
        )

    lines = [line(c.code, DA167) for c in active if c.in_scheme and rng.random() < 0.8]
    lines += [line(p.owner, OCOP_PROGRAM) for p in certified if rng.random() < 0.5]
    farms = [c for c in active if c.sector == AGRI]
    makers = [c for c in active if c.sector != AGRI] or list(active)
    for program, pool, share in (
        (NTM, farms, 0.06),
        (CNNT, makers, 0.015),
        (OTHER_SUPPORT, list(active), 0.03),
    ):
        count = min(len(pool), round(share * len(active)))
        lines += [line(c.code, program) for c in rng.sample(pool, count)]
    return lines


def _offtake(coop: _Coop, rng: random.Random) -> list[OfftakeLine]:
    lines = []
    for contract in coop.contracts:
        price = _CROPS[contract.product] * rng.uniform(0.85, 1.25)
        volume = round(coop.revenue * contract.revenue_share / price, 1)
        lines.append(
            OfftakeLine(
                coop.code, contract.partner, contract.product, volume, round(volume * price, 1)
            )
        )
    return lines


def _coop_year(coop: _Coop, year: int, has_offtake: bool, rng: random.Random) -> CoopYear:
    new = coop.founded_on.year == year
    score: float | None = round(_clip(coop.quality + rng.gauss(0, 1.5), 0, 100), 1)
    if coop.band is not None:
        score = round(_clip(score, *coop.band), 1)
    if new and not coop.protected and rng.random() < 0.6:
        score = None
    basis = 55.0 if score is None else score
    margin = rng.gauss(0.01 + 0.003 * (basis - 50), 0.035)
    if coop.protected:
        margin = max(margin, 0.03)
    workers = max(3, min(coop.members, round(coop.members * coop.worker_ratio)))
    return CoopYear(
        coop_code=coop.code,
        name=coop.name,
        commune_name=coop.commune,
        founded_on=coop.founded_on,
        sector=coop.sector,
        in_da167=coop.in_scheme,
        members=coop.members,
        workers=workers,
        charter_capital_mvnd=round(coop.capital, 1),
        total_assets_mvnd=round(coop.capital * coop.asset_ratio, 1),
        revenue_mvnd=round(coop.revenue, 1),
        profit_before_tax_mvnd=round(coop.revenue * margin, 1),
        avg_income_mvnd=round(_clip(40 + (basis - 45) * 1.3 + rng.gauss(0, 7), 40, 120), 1),
        rating=UNRATED if score is None else rating_for(score),
        score=score,
        has_offtake_contract=has_offtake,
        note=coop.note,
    )


def build_population(
    units: Sequence[Unit],
    years: Iterable[int],
    rng: random.Random,
    scheme_size: int = SCHEME_SIZE,
    later: random.Random | None = None,
) -> list[UnitReport]:
    """Simulate the units' cooperatives over the years; one report per unit and year.

    The units are treated as one province: codes are unique across them, ``scheme_size``
    of their cooperatives are in the Decision 167 scheme and OCOP decisions are shared.
    With ``later``, the years from 2026 on draw from it instead of ``rng``, so that the
    earlier years, and whatever ``rng`` draws after the simulation, stay as they were.
    """
    years = list(years)
    first = rng
    registry = _Registry()
    qualities = iter(_qualities(sum(u.size for u in units), rng))
    active = {
        u.code: [
            _new_coop(u, years[0], rng, registry, initial=True, quality=next(qualities))
            for _ in range(u.size)
        ]
        for u in units
    }
    everyone = [c for coops in active.values() for c in coops]
    _assign_roles(everyone, rng, scheme_size, round(MODEL_SHARE * len(everyone)))
    changes = _plan_identity_changes([y for y in years if later is None or y < FIRST_NEW_YEAR], rng)
    preparers = {u.code: (_person(rng), _person(rng)) for u in units}
    products: list[_Product] = []
    reports: list[UnitReport] = []
    for index, year in enumerate(years):
        rng = later if later is not None and year >= FIRST_NEW_YEAR else first
        if index:
            active = {u.code: _turn_over(u, active[u.code], year, rng, registry) for u in units}
        province = [c for u in units for c in active[u.code]]
        veterans = [c for c in province if c.founded_on.year < year]
        for change in changes.get(year, []):
            for coop in rng.sample(veterans, len(veterans)):
                if _change_identity(coop, change, rng, registry):
                    veterans.remove(coop)
                    break
        products, certified = _certify(products, province, year, index, rng, registry)
        unit_of = {c.code: c.unit.code for c in province}
        ocop_by_unit: dict[str, list[_Product]] = {}
        for product in products:
            ocop_by_unit.setdefault(unit_of[product.owner], []).append(product)
        support_by_unit: dict[str, list[SupportLine]] = {}
        for line in _support(province, certified, year, rng):
            support_by_unit.setdefault(unit_of[line.coop_code], []).append(line)
        for unit in units:
            if rng.random() < 0.2:
                preparers[unit.code] = (_person(rng), preparers[unit.code][1])
            reports.append(
                _unit_report(
                    unit,
                    year,
                    active[unit.code],
                    ocop_by_unit.get(unit.code, []),
                    support_by_unit.get(unit.code, []),
                    preparers[unit.code],
                    rng,
                )
            )
    return reports


def _unit_report(
    unit: Unit,
    year: int,
    coops: Sequence[_Coop],
    products: Sequence[_Product],
    support: Sequence[SupportLine],
    preparers: tuple[str, str],
    rng: random.Random,
) -> UnitReport:
    """The unit's report; ``products`` and ``support`` are already the unit's own."""
    ordered = sorted(coops, key=lambda c: (c.founded_on, c.name))
    offtake = [line for c in ordered for line in _offtake(c, rng)]
    with_offtake = {line.coop_code for line in offtake}
    ocop = [
        OcopLine(p.owner, p.name, p.group, p.stars, p.decision_no, p.decision_date)
        for p in sorted(products, key=lambda p: (p.decision_date, p.name))
    ]
    prepared_by, head = preparers
    return UnitReport(
        unit=unit,
        year=year,
        prepared_on=_date_in(rng, year + 1, 1, 3),
        prepared_by=prepared_by,
        head_of_office=head,
        coops=tuple(_coop_year(c, year, c.code in with_offtake, rng) for c in ordered),
        support=tuple(support),
        ocop=tuple(ocop),
        offtake=tuple(offtake),
    )


# ---------------------------------------------------------------------------------------
# Writing

_YES_NO = {"in_da167": ("x", None), "has_offtake_contract": ("Có", "Không")}


def _formats(workbook: xlsxwriter.Workbook) -> dict[str, object]:
    return {
        "title": workbook.add_format({"bold": True, "align": "center"}),
        "header": workbook.add_format(
            {"bold": True, "text_wrap": True, "align": "center", "valign": "vcenter", "border": 1}
        ),
        "number_row": workbook.add_format({"italic": True, "align": "center", "border": 1}),
        "text": workbook.add_format({"border": 1}),
        "int": workbook.add_format({"num_format": "0", "border": 1}),
        "money": workbook.add_format({"num_format": "#,##0.0", "border": 1}),
        "number": workbook.add_format({"num_format": "0.0", "border": 1}),
        "date": workbook.add_format({"num_format": "dd/mm/yyyy", "border": 1}),
        "bold": workbook.add_format({"bold": True, "align": "center"}),
        "italic": workbook.add_format({"italic": True, "align": "center"}),
    }


def _write_cell(ws, row: int, col: int, column: layout.Column, value, fmts) -> None:
    # The cell type follows the value (dates as dates, numbers as numbers, codes as text);
    # the column's kind only picks the number format.
    if column.key in _YES_NO:
        value = _YES_NO[column.key][0 if value else 1]
    if value is None or value == "":
        ws.write_blank(row, col, None, fmts["text"])
    elif isinstance(value, date):
        ws.write_datetime(row, col, datetime(value.year, value.month, value.day), fmts["date"])
    elif isinstance(value, int | float):
        default = "int" if isinstance(value, int) else "number"
        ws.write_number(row, col, value, fmts.get(column.kind, fmts[default]))
    else:
        ws.write_string(row, col, str(value), fmts["text"])


def _has_number_row(sheet: Sheet) -> bool:
    """Whether a row of column numbers, ``(1) (2) (3)``, sits between header and data."""
    return sheet is HTX


def excel_row(sheet: Sheet, index: int) -> int:
    """The row number Excel shows for the data record at ``index`` (0-based) of ``sheet``."""
    header = HTX_HEADER_ROW if sheet is HTX else 0
    return header + 1 + _has_number_row(sheet) + index + 1


def _write_table(ws, sheet: Sheet, records: Sequence[object], first_row: int, fmts) -> int:
    """Header at ``first_row``, records below; returns the row after the last record."""
    for col, column in enumerate(sheet.columns):
        ws.write_string(first_row, col, column.header, fmts["header"])
        ws.set_column(col, col, max(10, min(32, len(column.header) + 4)))
    row = first_row + 1
    if _has_number_row(sheet):
        for col in range(len(sheet.columns)):
            ws.write_string(row, col, f"({col + 1})", fmts["number_row"])
        row += 1
    for stt, record in enumerate(records, start=1):
        for col, column in enumerate(sheet.columns):
            value = stt if column.key == "stt" else getattr(record, column.key)
            _write_cell(ws, row, col, column, value, fmts)
        row += 1
    return row


def _write_info(ws, report: UnitReport, fmts) -> None:
    keys = layout.THONGTIN_KEYS
    ws.write_string(0, 0, "Thông tin", fmts["header"])
    ws.write_string(0, 1, "Giá trị", fmts["header"])
    d = report.prepared_on
    rows: list[tuple[str, object]] = [
        (keys["unit_code"], report.unit.code),
        (keys["unit_name"], report.unit.full_name),
        (keys["report_year"], report.year),
        (keys["prepared_on"], datetime(d.year, d.month, d.day)),
        (keys["prepared_by"], report.prepared_by),
        (keys["money_unit"], "triệu đồng"),
    ]
    for row, (key, value) in enumerate(rows, start=1):
        ws.write_string(row, 0, key)
        if isinstance(value, datetime):
            ws.write_datetime(row, 1, value, fmts["date"])
        elif isinstance(value, int):
            ws.write_number(row, 1, value, fmts["int"])
        else:
            ws.write_string(row, 1, str(value))
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 28)


def _write_htx(ws, report: UnitReport, fmts) -> None:
    last = len(HTX.columns) - 1
    heading = f"BÁO CÁO TÌNH HÌNH HOẠT ĐỘNG HỢP TÁC XÃ NĂM {report.year}"
    titles = (
        f"UBND {report.unit.full_name.upper()}",
        f"{heading} {report.title_note}" if report.title_note else heading,
        "(Đơn vị tính: triệu đồng)",
    )
    for row, title in enumerate(titles):
        ws.merge_range(row, 0, row, last, title, fmts["title"])
    row = _write_table(ws, HTX, report.coops, HTX_HEADER_ROW, fmts) + 1
    d = report.prepared_on
    place_date = f"{report.unit.name}, ngày {d.day:02d} tháng {d.month:02d} năm {d.year}"
    ws.write_string(row, SIGNATURE_HEAD_COL, place_date, fmts["italic"])
    ws.write_string(row + 1, 1, "Người lập biểu", fmts["bold"])
    ws.write_string(row + 1, SIGNATURE_HEAD_COL, "TRƯỞNG PHÒNG", fmts["bold"])
    ws.write_string(row + 2, 1, "(Ký, ghi rõ họ tên)", fmts["italic"])
    ws.write_string(row + 2, SIGNATURE_HEAD_COL, "(Ký, ghi rõ họ tên)", fmts["italic"])
    ws.write_string(row + 5, 1, report.prepared_by, fmts["bold"])
    ws.write_string(row + 5, SIGNATURE_HEAD_COL, report.head_of_office, fmts["bold"])


def write_workbook(path: Path, report: UnitReport) -> SampleFile:
    """Write one unit's report for one year as a district workbook."""
    d = report.prepared_on
    workbook = xlsxwriter.Workbook(str(path), {"in_memory": True})
    # A fixed creation date makes the file byte-identical across runs.
    workbook.set_properties(
        {
            "title": f"Báo cáo HTX năm {report.year}",
            "author": report.prepared_by,
            "company": f"UBND {report.unit.full_name}",
            "created": datetime(d.year, d.month, d.day, 8, 0, 0),
        }
    )
    fmts = _formats(workbook)
    _write_info(workbook.add_worksheet(layout.THONGTIN_NAMES[0]), report, fmts)
    _write_htx(workbook.add_worksheet(HTX.name), report, fmts)
    for sheet, records in (
        (HOTRO, report.support),
        (OCOP, report.ocop),
        (LIENKET, report.offtake),
    ):
        _write_table(workbook.add_worksheet(sheet.name), sheet, records, 0, fmts)
    workbook.close()
    return SampleFile(path, report.unit.code, report.year, report.rows())


def write_samples(
    out_dir: Path,
    seed: int = 2025,
    years: Iterable[int] | None = None,
    extras: bool = True,
    scale: str = PROVINCE_SCALE,
    *,
    limit: int | None = None,
    processes: int | None = None,
) -> list[SampleFile]:
    """Write ``<unit code>_<year>.xlsx`` for every Đắk Nông unit and year into ``out_dir``.

    ``scale="national"`` writes the benchmark corpus instead, every district unit of the
    country (see :func:`write_national_samples`, which takes ``limit`` and ``processes``;
    ``extras`` does not apply to it). The province scale below is the default.

    The 2025 report is one province workbook, ``68_2025.xlsx``, instead of eight district
    ones (see :func:`province_report`). From 2026 the new communes of :data:`COMMUNE_UNITS`
    report themselves (``24611_2026.xlsx``) and ``68_2026.xlsx`` holds the other communes
    (see :func:`new_geography_reports`). The earlier years are the same with or without the
    later ones: the years from 2026 draw from a generator of their own.
    With ``extras``, and 2023 and 2024 among the years, two resubmissions follow the clean
    files: ``663_2023_bosung.xlsx`` supersedes ``663_2023.xlsx`` and
    ``665_2024_sua.xlsx`` must be quarantined (see :func:`write_resubmissions`). The clean
    files are the same with or without them.
    """
    if scale == NATIONAL_SCALE:
        national_years = NATIONAL_YEARS if years is None else years
        return write_national_samples(
            out_dir, seed, national_years, limit=limit, processes=processes
        )
    if scale != PROVINCE_SCALE:
        raise ValueError(f"unknown sample scale {scale!r}: expected one of {SCALES}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    years = list(PROVINCE_YEARS if years is None else years)
    rng = random.Random(seed)
    later = random.Random(f"{seed}:{FIRST_NEW_YEAR}")
    reports = build_population(dak_nong_units(), years, rng, later=later)
    files = [
        write_workbook(out_dir / f"{r.unit.code}_{r.year}.xlsx", r)
        for r in sorted(reports, key=lambda r: (r.unit.code, r.year))
        if r.year < PROVINCE_YEAR
    ]
    if PROVINCE_YEAR in years:
        # A generator of its own, so that the resubmissions below stay as they were.
        province_rng = random.Random(f"{seed}:{PROVINCE_CODE}_{PROVINCE_YEAR}")
        report, warnings = province_report(reports, PROVINCE_YEAR, province_rng)
        written = write_workbook(out_dir / f"{PROVINCE_CODE}_{PROVINCE_YEAR}.xlsx", report)
        files.append(replace(written, expected_warnings=warnings))
    for year in sorted(y for y in years if y >= FIRST_NEW_YEAR):
        year_rng = random.Random(f"{seed}:new_geography_{year}")
        files += [
            write_workbook(out_dir / f"{r.unit.code}_{r.year}.xlsx", r)
            for r in new_geography_reports(reports, year, year_rng)
        ]
    if extras and {CORRECTED[1], BOTCHED[1]} <= set(years):
        files = write_resubmissions(out_dir, reports, files, rng)
    return files


def expected_counts(files: list[SampleFile]) -> dict[tuple[str, int], dict[str, int]]:
    """Data rows per sheet key for each (unit code, year), from the files a pipeline loads."""
    return {
        (f.unit_code, f.report_year): dict(f.rows) for f in files if f.expected_status == LOADED
    }


# ---------------------------------------------------------------------------------------
# The province report after the 2025 reorganisation


def province_report(
    reports: Sequence[UnitReport], year: int, rng: random.Random
) -> tuple[UnitReport, tuple[Cell, ...]]:
    """The districts' reports of ``year`` (2025) as one province-level report of 68, and
    its warnings (none).

    The same cooperatives with the same codes and figures, now in one HTX sheet, and the
    districts' support, OCOP and offtake lines in one workbook each. Each row names the new
    commune its cooperative is in since 01/07/2025 (``Xã Đắk Mil``), or, for about a
    quarter of them, its former commune (``Đắk Gằn``), as clerks do in 2025: both are
    communes of the new geography's year. A name the contract's comparison would find
    ambiguous in 2025 is not written; the other one is, or the commune's 5-digit code.
    """
    districts = sorted((r for r in reports if r.year == year), key=lambda r: r.unit.code)
    former = {c.coop_code: r.unit.code for r in districts for c in r.coops}
    coops = sorted(
        (c for r in districts for c in r.coops), key=lambda c: (c.founded_on, c.name, c.coop_code)
    )
    coops = [
        replace(c, commune_name=_commune_2025(former[c.coop_code], c.commune_name, rng))
        for c in coops
    ]
    report = _combined_report(province_unit(), districts, coops, year, rng, PROVINCE_SCOPE)
    return report, ()


def _commune_2025(district: str, commune: str, rng: random.Random) -> str:
    """What a 2025 clerk writes for a cooperative of a former commune: the new commune's
    full name, or (one time in four) the former commune's name; whichever of the two, or
    the code, names nothing else in a 2025 report of 68."""
    new = new_commune_of(district, commune)
    names = (new.full_name, commune)
    if rng.random() < FORMER_NAME_SHARE:
        names = names[::-1]
    for text in (*names, new.code):
        if _names_only(PROVINCE_CODE, PROVINCE_YEAR, text, new.code):
            return text
    raise ValueError(f"no unambiguous 2025 name for {commune} ({district})")


def _names_only(unit_code: str, year: int, text: str, new_code: str) -> bool:
    """Whether every commune ``text`` may mean in a report of ``unit_code`` for ``year``
    (the contract's comparison, :mod:`etl.contract.communes`) leads to ``new_code``."""
    from etl.contract.communes import candidates

    found = candidates(load_reference(), unit_code, year, text)
    placed = dak_nong_new_communes()
    return bool(found) and all(
        (c.code if c.current else getattr(placed.get(c.code), "code", None)) == new_code
        for c in found
    )


def new_geography_reports(
    reports: Sequence[UnitReport], year: int, rng: random.Random
) -> list[UnitReport]:
    """The reports of ``year`` (2026 on) in the new geography: one per commune of
    :data:`COMMUNE_UNITS` that has cooperatives, and one of the province (68) for the
    cooperatives of its other communes. Every row names its new commune by full name."""
    districts = sorted((r for r in reports if r.year == year), key=lambda r: r.unit.code)
    placed: dict[str, list[CoopYear]] = {}
    for r in districts:
        for c in r.coops:
            new = new_commune_of(r.unit.code, c.commune_name)
            placed.setdefault(new.code, []).append(replace(c, commune_name=new.full_name))

    def ordered(coops: Iterable[CoopYear]) -> list[CoopYear]:
        return sorted(coops, key=lambda c: (c.founded_on, c.name, c.coop_code))

    written = [
        _combined_report(commune_unit(code), districts, ordered(placed[code]), year, rng, "")
        for code in COMMUNE_UNITS
        if placed.get(code)
    ]
    rest = ordered(c for code, coops in placed.items() if code not in COMMUNE_UNITS for c in coops)
    written.append(_combined_report(province_unit(), districts, rest, year, rng, COMMUNE_SCOPE))
    return written


def _combined_report(
    unit: Unit,
    districts: Sequence[UnitReport],
    coops: Sequence[CoopYear],
    year: int,
    rng: random.Random,
    title_note: str,
) -> UnitReport:
    """``districts`` (sorted by unit code) as one report of ``unit`` holding ``coops``.

    Support lines stay in district order, OCOP lines are sorted by decision, offtake lines
    follow the order of ``coops``; lines of cooperatives not in ``coops`` are left out.
    """
    codes = {c.coop_code for c in coops}
    offtake: dict[str, list[OfftakeLine]] = {}
    for r in districts:
        for line in r.offtake:
            offtake.setdefault(line.coop_code, []).append(line)
    return UnitReport(
        unit=unit,
        year=year,
        prepared_on=_date_in(rng, year + 1, 1, 3),
        prepared_by=_person(rng),
        head_of_office=_person(rng),
        coops=tuple(coops),
        support=tuple(line for r in districts for line in r.support if line.coop_code in codes),
        ocop=tuple(
            sorted(
                (line for r in districts for line in r.ocop if line.coop_code in codes),
                key=lambda line: (line.decision_date, line.product_name, line.coop_code),
            )
        ),
        offtake=tuple(line for c in coops for line in offtake.get(c.coop_code, [])),
        title_note=title_note,
    )


# ---------------------------------------------------------------------------------------
# The national benchmark corpus
#
# Every district-level unit of the national reference list, sized DEFAULT_UNIT_SIZE, with
# its province's code as the tax-code prefix (so codes are unique nationally), reporting
# one workbook a year up to 2024. Each province is simulated on its own, with a generator
# seeded from (seed, province code): a province's files do not depend on which other
# provinces are written, nor on the order or the process they are written in. From 2025
# on (the district level is abolished) each province sends one province-level workbook a
# year under its own code, the way Đắk Nông's 2025 report is made at the province scale; a
# province merged into another by the 2025 reorganisation (MERGED_INTO: Đắk Nông into Lâm
# Đồng) reports inside the workbook of the province it merged into. No resubmissions, no
# commune renamed by a merger: only clean files.


@dataclass(frozen=True)
class ReportingGroup:
    """The provinces reporting in one province-level workbook from 2025 on."""

    code: str  # the province code the 2025 workbook carries
    name: str
    full_name: str
    provinces: tuple[tuple[str, tuple[Unit, ...]], ...]  # (province code, its units)


@cache
def _national_reference() -> tuple[tuple[Unit, ...], dict[str, tuple[str, str]]]:
    """District units with their province's code as tax prefix; province names by code."""
    path = config.REFERENCE_DIR / "vn_admin_units.csv"
    with path.open(encoding="utf-8", newline="") as f:
        records = list(csv.DictReader(f))
    province_of = {r["code"]: r["parent_code"] for r in records if r["level"] == "district"}
    names = {r["code"]: (r["name"], r["full_name"]) for r in records if r["level"] == "province"}
    units = tuple(replace(u, tax_prefix=province_of[u.code]) for u in read_units(path))
    return units, names


def national_units(limit: int | None = None) -> list[Unit]:
    """The district-level units of the national list in file order (696), or the first ``limit``.

    At this scale a unit's tax prefix is its province's code.
    """
    units, _names = _national_reference()
    return list(units if limit is None else units[:limit])


def national_groups(limit: int | None = None) -> list[ReportingGroup]:
    """The units of :func:`national_units` by province, provinces by their 2025 workbook."""
    _units, names = _national_reference()
    by_province: dict[str, list[Unit]] = {}
    for unit in national_units(limit):
        by_province.setdefault(unit.tax_prefix, []).append(unit)
    ref = load_reference()
    members: dict[str, list[str]] = {}
    for code in sorted(by_province):
        members.setdefault(ref.merged_into(code), []).append(code)
    in_force = {code: ref.current_unit(code) for code in members}
    return [
        ReportingGroup(
            code=target,
            name=getattr(in_force[target], "name", names.get(target, ("",))[0]),
            full_name=getattr(in_force[target], "full_name", names.get(target, ("", ""))[1]),
            provinces=tuple((code, tuple(by_province[code])) for code in codes),
        )
        for target, codes in sorted(members.items())
    ]


def national_report(
    group: ReportingGroup, districts: Sequence[UnitReport], year: int, rng: random.Random
) -> UnitReport:
    """The province-level workbook of ``group`` for ``year`` (2025 or later): every
    district report of ``year`` in one.

    A former commune whose name has no diacritics (``Minh Khai``) is written by its code: a
    name in plain letters counts only when one commune of the province fits it, and a
    province may have several of that name."""
    districts = sorted((r for r in districts if r.year == year), key=lambda r: r.unit.code)
    codes = {
        (r["parent_code"], r["name"]): r["code"]
        for r in _national_records()
        if r["level"] == "commune"
    }
    coops = sorted(
        (
            c if has_diacritics(c.commune_name)
            else replace(c, commune_name=codes.get((r.unit.code, c.commune_name), c.commune_name))
            for r in districts
            for c in r.coops
        ),
        key=lambda c: (c.founded_on, c.name, c.coop_code),
    )  # fmt: skip
    unit = Unit(
        code=group.code,
        name=group.name,
        full_name=group.full_name,
        communes=tuple(c for r in districts for c in r.unit.communes),
        size=sum(r.unit.size for r in districts),
        tax_prefix=group.code,
    )
    _units, names = _national_reference()
    former = [names[code][0] for code, _ in group.provinces if code != group.code]
    note = f"(gồm cả khu vực {', '.join(former)} cũ)" if former else ""
    return _combined_report(unit, districts, coops, year, rng, note)


def _write_group(
    out_dir: Path,
    seed: int,
    years: Sequence[int],
    group: ReportingGroup,
    commune_step: int = 0,
):
    """Simulate and write one reporting group's files; returns its SampleFiles.

    ``commune_step``: see :func:`national_new_geography` (0: the default step)."""
    files: list[SampleFile] = []
    later: list[UnitReport] = []  # from 2025 on the districts report inside the province
    for code, units in group.provinces:
        reports = build_population(
            units,
            years,
            random.Random(f"{seed}:national:{code}"),
            later=random.Random(f"{seed}:national:{code}:{FIRST_NEW_YEAR}"),
        )
        files += [
            write_workbook(out_dir / f"{r.unit.code}_{r.year}.xlsx", r)
            for r in sorted(reports, key=lambda r: (r.unit.code, r.year))
            if r.year < PROVINCE_YEAR
        ]
        later += [r for r in reports if r.year >= PROVINCE_YEAR]
    for year in sorted({r.year for r in later}):
        rng = random.Random(f"{seed}:national:{group.code}_{year}")
        if year < FIRST_NEW_YEAR:
            reports = [national_report(group, later, year, rng)]
        else:
            reports = national_new_geography(group, later, year, rng, commune_step)
        files += [write_workbook(out_dir / f"{r.unit.code}_{year}.xlsx", r) for r in reports]
    return files


# From 2026, one new commune in this many (by code, among those with cooperatives) sends
# its own report in the national corpus; the province reports for the others.
NATIONAL_COMMUNE_STEP = 10
# In the deep corpus (2021–2030) one in three does: the 2026–2030 phase is planned and
# reported by commune, and 1,100 or so commune reports a year bring the corpus to about
# 8,500 workbooks, three times the 100× corpus's 2,818.
DEEP_COMMUNE_STEP = 3


@cache
def _national_records() -> tuple[dict[str, str], ...]:
    with (config.REFERENCE_DIR / "vn_admin_units.csv").open(encoding="utf-8", newline="") as f:
        return tuple(csv.DictReader(f))


@cache
def national_new_communes(province_code: str) -> dict[tuple[str, str], NewCommune]:
    """(former district code, former commune name) -> the new commune of a province in
    force that the merger text says it went into, for the former provinces merged into it."""
    ref = load_reference()
    olds = set(ref.former_provinces(province_code))
    districts = {
        r["code"]
        for r in _national_records()
        if r["level"] == "district" and r["parent_code"] in olds
    }
    records = [
        r
        for r in _national_records()
        if r["code"] in districts or (r["level"] == "commune" and r["parent_code"] in districts)
    ]
    went = _went_into(province_code, records)
    return {
        (r["parent_code"], r["name"]): went[r["code"]]
        for r in records
        if r["level"] == "commune" and r["code"] in went
    }


@cache
def _commune_cell(province_code: str, year: int, commune: NewCommune) -> str:
    """A new commune as a clerk of ``year`` writes it: its full name, or its code where the
    name fits another commune of the province too (``Xã Cẩm Giang``, ``Xã Cẩm Giàng``)."""
    from etl.contract.communes import candidates

    found = candidates(load_reference(), province_code, year, commune.full_name)
    return commune.full_name if [c.code for c in found] == [commune.code] else commune.code


def national_new_geography(
    group: ReportingGroup,
    districts: Sequence[UnitReport],
    year: int,
    rng: random.Random,
    commune_step: int = 0,
) -> list[UnitReport]:
    """The reports of ``year`` (2026 on) of a province in force: every ``commune_step``-th
    new commune with cooperatives (by code; 0: :data:`NATIONAL_COMMUNE_STEP`, every tenth)
    reports itself, the province the others. A cooperative whose former commune the merger
    text does not name goes to the province's first new commune."""
    districts = sorted((r for r in districts if r.year == year), key=lambda r: r.unit.code)
    went = national_new_communes(group.code)
    first = min(new_communes(group.code).values(), key=lambda c: c.code)
    placed: dict[str, list[CoopYear]] = {}
    for r in districts:
        for c in r.coops:
            new = went.get((r.unit.code, c.commune_name), first)
            written = _commune_cell(group.code, year, new)
            placed.setdefault(new.code, []).append(replace(c, commune_name=written))

    def ordered(coops: Iterable[CoopYear]) -> list[CoopYear]:
        return sorted(coops, key=lambda c: (c.founded_on, c.name, c.coop_code))

    own = sorted(placed)[:: commune_step or NATIONAL_COMMUNE_STEP]
    communes = new_communes(group.code)
    written = [
        _combined_report(
            Unit(code, communes[code].name, communes[code].full_name, (communes[code].full_name,)),
            districts,
            ordered(placed[code]),
            year,
            rng,
            "",
        )
        for code in own
    ]
    rest = ordered(c for code, coops in placed.items() if code not in own for c in coops)
    if rest:
        province = Unit(group.code, group.name, group.full_name, (), tax_prefix=group.code)
        written.append(_combined_report(province, districts, rest, year, rng, ""))
    return written


def write_national_samples(
    out_dir: Path,
    seed: int = 2025,
    years: Iterable[int] = range(2021, 2026),
    *,
    limit: int | None = None,
    processes: int | None = None,
    commune_step: int = 0,
) -> list[SampleFile]:
    """Write the national benchmark corpus: ``<unit>_<year>.xlsx`` for every district unit
    and year before 2025, one ``<province>_<year>.xlsx`` per reporting province for 2025,
    and for 2026 on one ``<commune>_<year>.xlsx`` per commune reporting itself (one in
    ``commune_step``, default :data:`NATIONAL_COMMUNE_STEP`) beside its province's.

    About 700 units × 2021–2024 and 62 province workbooks (63 provinces, Đắk Nông inside
    Lâm Đồng's): about 150,000 cooperative-years. ``limit`` keeps the first ``limit``
    units of :func:`national_units` (their provinces' 2025 workbooks cover only them).
    Provinces are written in ``processes`` worker processes (default: up to 2); the files
    are byte-identical whatever the number. The years before 2026 are the same whatever
    the later years and ``commune_step``: the later years draw from generators of their own.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    years = list(years)
    groups = national_groups(limit)
    if processes is None:
        processes = min(2, os.cpu_count() or 1)
    if processes <= 1 or len(groups) <= 1:
        written = [_write_group(out_dir, seed, years, g, commune_step) for g in groups]
    else:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
            # The largest groups first, so that the two workers finish together.
            order = sorted(
                range(len(groups)),
                key=lambda i: -sum(len(units) for _code, units in groups[i].provinces),
            )
            futures = {
                i: pool.submit(_write_group, out_dir, seed, years, groups[i], commune_step)
                for i in order
            }
            written = [futures[i].result() for i in range(len(groups))]
    return [f for files in written for f in files]


def write_deep_national_samples(
    out_dir: Path,
    seed: int = 2025,
    *,
    limit: int | None = None,
    processes: int | None = None,
) -> list[SampleFile]:
    """The bench's 300× corpus: the national corpus ten years deep, 2021–2030.

    Its files up to 2025 are the 100× corpus's, byte for byte. From 2026 the districts are
    gone, and each of the 34 provinces in force reports for its communes in the new
    geography: one in :data:`DEEP_COMMUNE_STEP` of the new communes with cooperatives
    sends its own report, the province one for the others (the contract's complementary
    reports; no cooperative is in two reports of a year). With seed 2025: 2,818 + about
    5 × 1,135 = 8,492 workbooks, 301,546 cooperative-years (twice 100×'s: the commune
    reports are small), written in about 90 s on two cores.
    """
    return write_national_samples(
        out_dir,
        seed,
        DEEP_YEARS,
        limit=limit,
        processes=processes,
        commune_step=DEEP_COMMUNE_STEP,
    )


# ---------------------------------------------------------------------------------------
# Resubmissions


def write_resubmissions(
    out_dir: Path, reports: Sequence[UnitReport], files: list[SampleFile], rng: random.Random
) -> list[SampleFile]:
    """Write the correction and the botched resubmission; ``files`` with their statuses."""
    by_key = {(r.unit.code, r.year): r for r in reports}
    extras = []
    for (unit, year, suffix), derive, status in (
        (CORRECTED, _corrected, LOADED),
        (BOTCHED, _botched, QUARANTINED),
    ):
        report, errors, warnings = derive(by_key[(unit, year)], rng)
        written = write_workbook(out_dir / f"{unit}_{year}_{suffix}.xlsx", report)
        extras.append(
            replace(
                written,
                expected_status=status,
                expected_errors=errors,
                expected_warnings=warnings,
            )
        )
    superseded = (CORRECTED[0], CORRECTED[1])
    return [
        replace(f, expected_status=SUPERSEDED) if (f.unit_code, f.report_year) == superseded else f
        for f in files
    ] + extras


def _month_later(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, d.day)  # report days are 1–28


def _cell(sheet: Sheet, index: int, key: str) -> Cell:
    return (sheet.name, excel_row(sheet, index), sheet.column(key).header)


def _corrected(
    report: UnitReport, rng: random.Random
) -> tuple[UnitReport, tuple[Cell, ...], tuple[Cell, ...]]:
    """The correction: a month later, the same cooperatives, three of them revised.

    Two have their revenue and profit revised up 5%; one is left with 4 members, a warning
    and not an error (its rating and score stay as they were).
    """
    coops = list(report.coops)
    profitable = [i for i, c in enumerate(coops) if c.profit_before_tax_mvnd >= 2]
    revised = rng.sample(profitable, 2)
    for i in revised:
        c = coops[i]
        coops[i] = replace(
            c,
            revenue_mvnd=round(c.revenue_mvnd * 1.05, 1),
            profit_before_tax_mvnd=round(c.profit_before_tax_mvnd * 1.05, 1),
        )
    small = min((i for i in range(len(coops)) if i not in revised), key=lambda i: coops[i].members)
    coops[small] = replace(coops[small], members=4, workers=min(coops[small].workers, 4))
    corrected = replace(report, prepared_on=_month_later(report.prepared_on), coops=tuple(coops))
    return corrected, (), (_cell(HTX, small, "members"),)


def _botched(
    report: UnitReport, rng: random.Random
) -> tuple[UnitReport, tuple[Cell, ...], tuple[Cell, ...]]:
    """The botched resubmission: a month later, with four errors that reject it.

    The second cooperative's code pasted over the third's, a Tốt rating with a score of 55,
    a support line for a code not in the HTX sheet and a negative number of workers.
    """
    coops = list(report.coops)
    lost, copied = coops[2].coop_code, coops[1].coop_code
    coops[2] = replace(coops[2], coop_code=copied)

    # The other sheets' lines of the overwritten code follow it, so that they do not add
    # errors of their own (a cooperative missing from the HTX sheet) to the four intended.
    def follow(line):
        return replace(line, coop_code=copied) if line.coop_code == lost else line

    support = [follow(line) for line in report.support]
    misrated, negative = rng.sample(range(3, len(coops)), 2)
    coops[misrated] = replace(coops[misrated], rating=GOOD, score=55.0)
    coops[negative] = replace(coops[negative], workers=-coops[negative].workers)
    if support:
        stray = rng.randrange(len(support))
        support[stray] = replace(support[stray], coop_code=UNKNOWN_CODE)
    else:
        stray = 0
        contents, sources, _amounts = _SUPPORT[NTM]
        support = [SupportLine(UNKNOWN_CODE, NTM, contents[0], sources[0], 100.0, report.year)]
    botched = replace(
        report,
        prepared_on=_month_later(report.prepared_on),
        coops=tuple(coops),
        support=tuple(support),
        ocop=tuple(follow(line) for line in report.ocop),
        offtake=tuple(follow(line) for line in report.offtake),
    )
    errors = (
        _cell(HTX, 2, "coop_code"),
        _cell(HTX, misrated, "score"),
        _cell(HOTRO, stray, "coop_code"),
        _cell(HTX, negative, "workers"),
    )
    return botched, errors, ()


# ---------------------------------------------------------------------------------------
# Command line (not part of the installed `htx`: tools/ is not shipped)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tools.sample --out DIR [--seed N] [--scale province|national]``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m tools.sample", description="write sample district workbooks"
    )
    parser.add_argument("--out", required=True, help="folder to write the workbooks to")
    parser.add_argument("--seed", type=int, default=2025, help="random seed (default 2025)")
    parser.add_argument(
        "--scale",
        choices=SCALES,
        default=PROVINCE_SCALE,
        help="province: Đắk Nông's 8 units (default); national: every district unit",
    )
    args = parser.parse_args(argv)
    files = write_samples(Path(args.out), seed=args.seed, scale=args.scale)
    print(f"wrote {len(files)} sample workbooks ({args.scale} scale) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
