"""The marts in the geography in force since 01/07/2025: marts.commune_year,
marts.replication_candidates' new columns and commune_rank, marts.placement_review.

A small warehouse file on disk from the project's DDL with hand-made core rows (placement
reported, crosswalk and review; 2020-2026), then the intermediate and mart models run in build
order as the build's publish step runs them (criteria, targets, macros).

Former Đắk Nông (67) went into Lâm Đồng (68); Đắk Lắk (66) is in force as before.
- 6700000001 A: former Phường Nghĩa Đức (24611) 2020-2025, then its 2026 report names Phường
  Bắc Gia Nghĩa (24611, the code reused): reported.
- 6700000002 B: former Phường Nghĩa Đức 2022-2024, which went whole into Phường Bắc Gia
  Nghĩa: crosswalk.
- 6700000003 C: former Phường Nghĩa Phú (24614), split between Bắc and Nam Gia Nghĩa: review.
- 6700000004 D: former Xã Đắk Nia (24617), unmatched in the merger text: review.
- 6600000005 E: a district-level fact of district 643 (Đắk Lắk), commune unknown: review,
  counted under province 66.
- 6700000006 F: a 2025 province report naming the new Phường Nam Gia Nghĩa (24615), and a
  name change in 2026 (two versions, the same placement): reported.
OCOP: C's 4 stars of 2024; in 2026 A's expired 3 stars, F's expired 4 and valid 2 stars.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import unicodedata
from pathlib import Path

import pytest
from conftest import run_mart

from etl.cli import analyst
from etl.config import CONFIG_DIR, SQL_DIR, labels_vi
from etl.contract import layout
from etl.contract.layout import PROGRAMS, RATINGS
from etl.outputs import charts, officials_report
from etl.warehouse import build
from etl.warehouse.models import run_sql_file

BEFORE = dt.date(1900, 1, 1)
ENDED = dt.date(2025, 6, 30)
IN_FORCE = dt.date(2025, 7, 1)

PROVINCES = {"66": "Tỉnh Đắk Lắk", "67": "Tỉnh Đắk Nông", "68": "Tỉnh Lâm Đồng"}
DISTRICTS = {"660": ("67", "Thành phố Gia Nghĩa"), "643": ("66", "Thành phố Buôn Ma Thuột")}
# geo_key: (level, code, name, parent, in force since 01/07/2025). A former district's parent
# is its province, a former commune's its district, a commune in force's its province.
GEOGRAPHY = {
    1: ("province", "67", None, None, False),
    2: ("province", "68", None, None, False),
    3: ("province", "68", None, None, True),
    4: ("province", "66", None, None, False),
    5: ("province", "66", None, None, True),
    10: ("district", "660", None, "67", False),
    11: ("district", "643", None, "66", False),
    20: ("commune", "24611", "Phường Nghĩa Đức", "660", False),
    21: ("commune", "24614", "Phường Nghĩa Phú", "660", False),
    22: ("commune", "24617", "Xã Đắk Nia", "660", False),
    30: ("commune", "24611", "Phường Bắc Gia Nghĩa", "68", True),
    31: ("commune", "24615", "Phường Nam Gia Nghĩa", "68", True),
}

BRIDGE = [
    ("24611", "660", "67", "24611", "68", "whole", "Phường Nghĩa Đức"),
    ("24614", "660", "67", "24611", "68", "partial", "một phần phường Nghĩa Phú"),
    ("24614", "660", "67", "24615", "68", "partial", "phần còn lại của phường Nghĩa Phú"),
]

# coop: (name, placement, new_commune_code, versions: [(name, from, to)] or None)
COOPS = {
    "6700000001": ("HTX A", "reported", "24611"),
    "6700000002": ("HTX B", "crosswalk", "24611"),
    "6700000003": ("HTX C", "review", None),
    "6700000004": ("HTX D", "review", None),
    "6600000005": ("HTX E", "review", None),
    "6700000006": ("HTX F", "reported", "24615"),
}

# (coop, year, geo_key, unit_code, members, workers, revenue, profit, rating, score, offtake)
FACTS = [
    ("6700000001", 2020, 20, "660", 5, 2, 100, 1, "Khá", 70, False),
    ("6700000001", 2023, 20, "660", 10, 4, 1000, 10, "Tốt", 85, True),
    ("6700000001", 2024, 20, "660", 11, 4, 1100, 20, "Tốt", 88, True),
    ("6700000001", 2025, 20, "68", 12, 5, 1200, 30, "Tốt", 89, True),
    ("6700000001", 2026, 30, "24611", 13, 5, 1300, 40, "Tốt", 90, True),
    ("6700000002", 2022, 20, "660", 20, 8, 500, 5, "Tốt", 80, True),
    ("6700000002", 2023, 20, "660", 21, 8, 550, 6, "Tốt", 82, True),
    ("6700000002", 2024, 20, "660", 22, 9, 600, 7, "Tốt", 85, True),
    ("6700000003", 2022, 21, "660", 30, 10, 700, 8, "Tốt", 86, True),
    ("6700000003", 2023, 21, "660", 31, 10, 750, 9, "Tốt", 87, True),
    ("6700000003", 2024, 21, "660", 32, 11, 800, 10, "Tốt", 88, True),
    ("6700000004", 2024, 22, "660", 40, 12, 300, -5, "Yếu", 40, False),
    ("6600000005", 2024, 11, "643", 50, 15, 900, 12, None, None, False),
    ("6700000006", 2025, 31, "68", 60, 20, 2000, 50, "Khá", 75, False),
    ("6700000006", 2026, 31, "68", 61, 21, 2100, 55, "Tốt", 81, False),
]


def _ddl(con) -> None:
    run_sql_file(con, SQL_DIR / "ddl" / "schemas.sql")
    for model in build.models():
        if model.schema == "core":
            run_sql_file(con, SQL_DIR / "ddl" / "core" / f"{model.name}.sql")


def _rows(con) -> None:
    for key, (level, code, name, parent, in_force) in GEOGRAPHY.items():
        province = district = commune = None
        if level == "province":
            province = code
        elif level == "district":
            province, district = parent, code
        elif in_force:
            province, commune = parent, code
        else:
            province, district, commune = DISTRICTS[parent][0], parent, code
        con.execute(
            "insert into core.dim_geography by name select ? as geo_key, ? as level, "
            "? as province_code, ? as province_name, ? as district_code, ? as district_name, "
            "? as commune_code, ? as commune_name, ? as valid_from, ? as valid_to",
            [
                key,
                level,
                province,
                PROVINCES[province],
                district,
                DISTRICTS[district][1] if district else None,
                commune,
                name,
                IN_FORCE if in_force else BEFORE,
                None if in_force else ENDED,
            ],
        )
    con.executemany(
        "insert into core.bridge_commune_crosswalk values (?, ?, ?, ?, ?, ?, ?)", BRIDGE
    )
    for i, (code, vi, en) in enumerate(PROGRAMS, start=1):
        con.execute("insert into core.dim_program values (?, ?, ?, ?)", [i, code, vi, en])
    keys = {}
    for n, (coop, (name, placement, new_commune)) in enumerate(COOPS.items(), start=1):
        years = sorted(y for c, y, *_ in FACTS if c == coop)
        # The former commune the placement went by: here, that of its latest fact naming one
        # (each year's only report is the one that wins).
        former = [
            GEOGRAPHY[geo][1]
            for c, _, geo, *_ in sorted(FACTS, key=lambda f: f[1])
            if c == coop and GEOGRAPHY[geo][0] == "commune" and not GEOGRAPHY[geo][4]
        ]
        placed = (new_commune, placement, former[-1] if former else None)
        versions = [(name, years[0], None)]
        if coop == "6700000006":  # renamed in 2026: a second version, the same placement
            versions = [(name, years[0], 2025), ("HTX F mới", 2026, None)]
        for v, (version_name, start, end) in enumerate(versions):
            key = n * 10 + v
            for year in years:
                if start <= year <= (end or 9999):
                    keys[coop, year] = key
            con.execute(
                "insert into core.dim_cooperative by name select ? as cooperative_key, "
                "? as coop_code, ? as name, 'Nông nghiệp' as sector, false as in_da167, "
                "? as valid_from_year, ? as valid_to_year, ? as is_current, "
                "? as new_commune_code, ? as placement, ? as former_commune_code",
                [key, coop, version_name, start, end, end is None, *placed],
            )
    for row, fact in enumerate(FACTS, start=2):
        coop, year, *figures = fact
        con.execute(
            "insert into core.fact_cooperative_year by name select ? as cooperative_key, "
            "? as geo_key, ? as period_key, ? as coop_code, ? as unit_code, ? as members, "
            "? as workers, ? as revenue_mvnd, ? as profit_before_tax_mvnd, ? as rating, "
            "? as score, ? as has_offtake_contract, 1 as file_id, 'HTX' as source_sheet, "
            "? as excel_row",
            [keys[coop, year], figures[0], year, coop, *figures[1:], row],
        )
    da167 = next(i for i, (code, _, _) in enumerate(PROGRAMS, start=1) if code == "DA167")
    con.execute(
        "insert into core.fact_program_support by name select ? as cooperative_key, "
        "? as program_key, 2026 as period_key, '6700000001' as coop_code, 100 as amount_mvnd, "
        "1 as file_id, 'HoTro' as source_sheet, 2 as excel_row",
        [keys["6700000001", 2026], da167],
    )
    con.execute(
        "insert into core.fact_ocop_product by name select ? as cooperative_key, "
        "'6700000003' as coop_code, 'Cà phê' as product_name, 4 as stars, "
        "date '2023-06-01' as decision_date, date '2026-06-01' as valid_until, "
        "2024 as period_key, 1 as file_id, 'OCOP' as source_sheet, 2 as excel_row",
        [keys["6700000003", 2024]],
    )
    # 2026 reports listing certificates valid 36 months from their decision: A's 3 stars of
    # 01/12/2022 expired before 2026; F's 4 stars of 2021 expired, its 2 stars of 2025 hold.
    for coop, product, stars, decided, valid_until, row in (
        ("6700000001", "Mật ong", 3, dt.date(2022, 12, 1), dt.date(2025, 12, 1), 2),
        ("6700000006", "Cà phê", 4, dt.date(2021, 1, 1), dt.date(2024, 1, 1), 3),
        ("6700000006", "Tiêu", 2, dt.date(2025, 3, 1), dt.date(2028, 3, 1), 4),
    ):
        con.execute(
            "insert into core.fact_ocop_product by name select ? as cooperative_key, "
            "? as coop_code, ? as product_name, ? as stars, ? as decision_date, "
            "? as valid_until, 2026 as period_key, 1 as file_id, 'OCOP' as source_sheet, "
            "? as excel_row",
            [keys[coop, 2026], coop, product, stars, decided, valid_until, row],
        )


def _columns(con, table: str) -> list[str]:
    return [
        c
        for (c,) in con.execute(
            "select column_name from duckdb_columns() "
            "where schema_name || '.' || table_name = ? order by column_index",
            [table],
        ).fetchall()
    ]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    """The warehouse file: the hand-made core, then the intermediate and mart models."""
    import duckdb

    path = tmp_path_factory.mktemp("marts2026") / "htx.duckdb"
    con = duckdb.connect(str(path))
    try:
        _ddl(con)
        _rows(con)
        build._set_criteria(con, CONFIG_DIR / "replication_criteria.toml")
        build._register_targets(con, CONFIG_DIR / "phase_targets.toml")
        build._register_reporting(con)
        build._register_unmatched(con)
        build._register_first_half(con)
        build._register_ratings(con)
        build._create_macros(con)
        for model in build.models():
            if model.schema != "core":
                run_sql_file(con, model.path)
    finally:
        con.close()
    return path


@pytest.fixture
def con(warehouse):
    import duckdb

    connection = duckdb.connect(str(warehouse), read_only=True)
    yield connection
    connection.close()


def test_commune_year_expresses_every_year_through_the_new_commune(con):
    rows = con.execute(
        "select new_province_code, new_commune_code, new_commune_name, year, cooperatives, "
        "placed_by_crosswalk, members, workers, revenue_mvnd::double, "
        "profit_before_tax_mvnd::double from marts.commune_year "
        "order by new_province_code, new_commune_code nulls last, year"
    ).fetchall()
    review = "Chưa xác định xã/phường mới / New commune under review"
    assert rows == [
        ("66", None, review, 2024, 1, 0, 50, 15, 900.0, 12.0),
        # B before its new commune existed, through the crosswalk; A's 2020 is no phase year.
        ("68", "24611", "Phường Bắc Gia Nghĩa", 2022, 1, 1, 20, 8, 500.0, 5.0),
        ("68", "24611", "Phường Bắc Gia Nghĩa", 2023, 2, 1, 31, 12, 1550.0, 16.0),
        ("68", "24611", "Phường Bắc Gia Nghĩa", 2024, 2, 1, 33, 13, 1700.0, 27.0),
        ("68", "24611", "Phường Bắc Gia Nghĩa", 2025, 1, 0, 12, 5, 1200.0, 30.0),
        ("68", "24611", "Phường Bắc Gia Nghĩa", 2026, 1, 0, 13, 5, 1300.0, 40.0),
        ("68", "24615", "Phường Nam Gia Nghĩa", 2025, 1, 0, 60, 20, 2000.0, 50.0),
        ("68", "24615", "Phường Nam Gia Nghĩa", 2026, 1, 0, 61, 21, 2100.0, 55.0),
        # C (split) and D (unmatched), never guessed into a commune: one row per province.
        ("68", None, review, 2022, 1, 0, 30, 10, 700.0, 8.0),
        ("68", None, review, 2023, 1, 0, 31, 10, 750.0, 9.0),
        ("68", None, review, 2024, 2, 0, 72, 23, 1100.0, 5.0),
    ]


def test_commune_year_has_the_rating_mix_ocop_and_support_of_district_year(con):
    columns = _columns(con, "marts.commune_year")
    district = _columns(con, "marts.district_year")
    shared = [
        "cooperatives", "members", "workers", "revenue_mvnd", "profit_before_tax_mvnd",
        "rated_tot", "rated_kha", "rated_trung_binh", "rated_yeu", "unrated", "ocop_products",
    ]  # fmt: skip
    support = [c for c in district if c.startswith("support_")]
    assert support[-1] == "support_total_mvnd"
    assert set(shared + support) <= set(columns)
    assert [c for c in columns if c.startswith("support_")] == support
    assert columns[:5] == [
        "new_province_code", "new_province_name", "new_commune_code", "new_commune_name", "year"
    ]  # fmt: skip
    mix = con.execute(
        "select new_commune_code, year, rated_tot, rated_kha, rated_yeu, unrated, ocop_products, "
        "support_da167_mvnd::double, support_total_mvnd::double from marts.commune_year "
        "where year in (2024, 2026) order by new_province_code, new_commune_code nulls last, year"
    ).fetchall()
    assert mix == [
        (None, 2024, 0, 0, 0, 1, 0, 0.0, 0.0),  # E, unrated
        ("24611", 2024, 2, 0, 0, 0, 0, 0.0, 0.0),
        ("24611", 2026, 1, 0, 0, 0, 1, 100.0, 100.0),
        ("24615", 2026, 1, 0, 0, 0, 2, 0.0, 0.0),
        (None, 2024, 1, 0, 1, 0, 1, 0.0, 0.0),  # C's OCOP product, D rated Yếu
    ]


def test_no_sql_file_or_report_spells_a_rating():
    """The ratings are the suite's (`etl.contract.layout.RATINGS`): the marts count them
    through `ref_ratings` and the officials' report names them from `RATING_MIX`, so a rating
    renamed in the suite leaves no copy behind. (Before, district_year.sql, commune_year.sql
    and officials_report.py each spelled all five.)"""
    spelled = re.compile("|".join(rf"['\"]{re.escape(r)}['\"]" for r in RATINGS))
    files = [*sorted(SQL_DIR.rglob("*.sql")), Path(officials_report.__file__)]
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in files
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if spelled.search(line)
    ]
    assert found == []


def test_the_rating_mix_counts_each_rating_under_the_column_ref_ratings_gives_it(
    con, warehouse, tmp_path
):
    """`rated_tot` counts the rating `ref_ratings` (built from the suite's bands, best first)
    names for it, not a name typed in the SQL: with `Tốt` and `Khá` swapped there, the two
    columns swap."""
    mix = "select rated_tot, rated_kha, unrated from marts.{} order by all"
    swapped = tuple(
        (
            {"rated_tot": "rated_kha", "rated_kha": "rated_tot"}.get(column, column),
            rating,
        )
        for column, rating in layout.RATING_MIX
    )
    for mart in ("district_year", "commune_year"):
        (tmp_path / mart).mkdir()
        rows = con.execute(mix.format(mart)).fetchall()
        assert any(tot or kha for tot, kha, _ in rows)
        again = _mart_on_a_copy(
            warehouse,
            tmp_path / mart,
            lambda c: build._register_ratings(c, swapped),
            mart,
            mix.format(mart),
        )
        assert again == sorted((kha, tot, unrated) for tot, kha, unrated in rows)


def test_the_rating_mix_s_columns_labels_comments_and_report_name_the_suite_s_ratings(
    con, warehouse
):
    """Every rating of the suite has its column in both marts; the copies still written by
    hand (the officials' headers, the columns' descriptions) name that rating, and the
    officials' report draws the ratings in the suite's order from those columns."""
    assert sorted(rating for _, rating in layout.RATING_MIX) == sorted(RATINGS)
    columns = [column for column, _ in layout.RATING_MIX]
    assert dict.fromkeys(columns) == dict.fromkeys(
        ["rated_tot", "rated_kha", "rated_trung_binh", "rated_yeu", "unrated"]
    )
    for mart in ("marts.district_year", "marts.commune_year"):
        assert set(columns) <= set(_columns(con, mart))
    labels = labels_vi()
    described = dict(
        con.execute(
            "select column_name, comment from duckdb_columns() "
            "where schema_name = 'marts' and table_name = 'commune_year'"
        ).fetchall()
    )
    for column, rating in layout.RATING_MIX:
        assert rating.lower() in labels[column].lower()
        if described[column]:  # its own in the SQL, else its label (the build's)
            assert rating.lower() in described[column].lower()
    with charts.collected() as drawn:
        officials_report._contents(warehouse)
    [spec] = [spec for spec, title in drawn if title == "ratings"]
    assert spec["encoding"]["color"]["sort"] == list(dict.fromkeys(r for _, r in layout.RATING_MIX))


def test_ocop_stars_and_products_valid_in_the_year_leave_expired_certificates_out(con):
    scorecard = con.execute(
        "select coop_code, ocop_products, ocop_max_stars, ocop_valid_max_stars, "
        "has_valid_ocop_product from marts.cooperative_scorecard "
        "where coop_code in ('6700000001', '6700000006') order by coop_code"
    ).fetchall()
    assert scorecard == [
        ("6700000001", 1, 3, None, False),  # every certificate reported; none valid in 2026
        ("6700000006", 2, 4, 2, True),
    ]
    communes = con.execute(
        "select new_commune_code, ocop_products, ocop_valid_products from marts.commune_year "
        "where year = 2026 order by new_commune_code"
    ).fetchall()
    assert communes == [("24611", 1, 0), ("24615", 2, 1)]
    districts = con.execute(
        "select district_code, province_code, ocop_products, ocop_valid_products "
        "from marts.district_year where year = 2026 order by district_code nulls last"
    ).fetchall()
    assert districts == [("660", "67", 1, 0), (None, "68", 2, 1)]
    described = dict(
        con.execute(
            "select table_name || '.' || column_name, comment from duckdb_columns() "
            "where schema_name = 'marts' and column_name like 'ocop%'"
        ).fetchall()
    )
    for column in (
        "cooperative_scorecard.ocop_max_stars",
        "district_year.ocop_products",
        "commune_year.ocop_products",
    ):
        assert "expired" in described[column]
    for column in (
        "cooperative_scorecard.ocop_valid_max_stars",
        "district_year.ocop_valid_products",
        "commune_year.ocop_valid_products",
    ):
        assert "valid" in described[column]


def test_the_officials_headers_of_the_ocop_stars_say_which_certificates_count():
    """The officials' workbook heads `ocop_max_stars` as its COMMENT describes it, every
    certificate reported, the expired ones included, beside the valid-only
    `ocop_valid_max_stars`. (Before, `Số sao OCOP cao nhất` alone, read as valid stars.)"""
    labels = labels_vi()
    assert labels["ocop_max_stars"] == "Số sao OCOP cao nhất (kể cả hết hiệu lực)"
    assert labels["ocop_valid_max_stars"] == "Số sao OCOP cao nhất (còn hiệu lực)"


def test_replication_candidates_rank_within_the_new_commune(con):
    rows = con.execute(
        "select coop_code, new_province_code, new_commune_code, new_commune_name, placement, "
        "is_candidate, district_code, district_rank, commune_rank "
        "from marts.replication_candidates order by coop_code"
    ).fetchall()
    assert rows == [
        ("6600000005", "66", None, None, "review", False, "643", None, None),
        ("6700000001", "68", "24611", "Phường Bắc Gia Nghĩa", "reported", True, "660", 1, 1),
        ("6700000002", "68", "24611", "Phường Bắc Gia Nghĩa", "crosswalk", True, "660", 3, 2),
        # Under review: ranked in its former district, in no commune.
        ("6700000003", "68", None, None, "review", True, "660", 2, None),
        ("6700000004", "68", None, None, "review", False, "660", None, None),
        # F never reported a former district: no legacy district, but a new commune.
        ("6700000006", "68", "24615", "Phường Nam Gia Nghĩa", "reported", False, None, None, None),
    ]


def test_commune_phase_judges_2026_2030_against_targets_from_the_2025_baseline(con):
    """Default targets (config/phase_targets.toml [commune_default]: +20% cooperatives, +15%
    members, +50% revenue, one new-model cooperative); a straight line from the baseline year
    to 2030 says where the latest year should stand."""
    rows = con.execute(
        "select new_province_code, new_commune_code, baseline_year, cooperatives_baseline, "
        "members_baseline, revenue_baseline_mvnd::double, latest_year, cooperatives_latest, "
        "members_latest, revenue_latest_mvnd::double, target_cooperatives_2030, "
        "target_members_2030, target_revenue_2030_mvnd, target_model_cooperatives_2030, "
        "round(members_on_path, 6), round(revenue_on_path_mvnd, 6), cooperatives_on_track, "
        "members_on_track, revenue_on_track, replication_candidates, has_enough_candidates, "
        "targets_from from marts.commune_phase"
    ).fetchall()
    assert rows == [
        # E, under review in Đắk Lắk, last reported 2024: no year of the phase yet.
        ("66", None, 2024, 1, 50, 900.0, None, None, None, None, 1.0, 58.0, 1350.0, 1, None,
         None, None, None, None, 0, False, "default"),
        # A in 2025, then 2026 (1/5 of the way): 13 members against 12 + (14 - 12) / 5 = 12.4,
        # revenue 1,300 against 1,200 + (1,800 - 1,200) / 5 = 1,320. A and B are candidates.
        ("68", "24611", 2025, 1, 12, 1200.0, 2026, 1, 13, 1300.0, 1.0, 14.0, 1800.0, 1, 12.4,
         1320.0, True, True, False, 2, True, "default"),
        ("68", "24615", 2025, 1, 60, 2000.0, 2026, 1, 61, 2100.0, 1.0, 69.0, 3000.0, 1, 61.8,
         2200.0, True, False, False, 0, False, "default"),
        # C and D under review in Lâm Đồng: C is a candidate, counted in its province's row.
        ("68", None, 2024, 2, 72, 1100.0, None, None, None, None, 2.0, 83.0, 1650.0, 1, None,
         None, None, None, None, 1, True, "default"),
    ]  # fmt: skip
    names = con.execute(
        "select new_province_name, new_commune_name from marts.commune_phase "
        "where new_commune_code = '24611'"
    ).fetchall()
    assert names == [("Tỉnh Lâm Đồng", "Phường Bắc Gia Nghĩa")]


def _mart_on_a_copy(warehouse, tmp_path, configure, mart: str, query: str) -> list[tuple]:
    """`query`'s rows after `sql/marts/<mart>.sql` runs again on a copy of the test warehouse,
    its configuration set by `configure(con)` (the build's macros created after it)."""
    import duckdb

    copy = tmp_path / "htx.duckdb"
    shutil.copyfile(warehouse, copy)
    con = duckdb.connect(str(copy))
    try:
        configure(con)
        build._create_macros(con)
        run_sql_file(con, SQL_DIR / "marts" / f"{mart}.sql")
        return con.execute(query).fetchall()
    finally:
        con.close()


def test_commune_phase_targets_a_province_and_a_commune_override_key_by_key(warehouse, tmp_path):

    config = tmp_path / "phase_targets.toml"
    config.write_text(
        "[default]\ncooperatives_growth = 0.2\nmembers_growth = 0.15\n"
        "revenue_growth = 0.5\nmodel_cooperatives = 2\n"
        "[commune_default]\nmodel_cooperatives = 1\n"
        '[province."68"]\nrevenue_growth = 1.0\n'
        '[commune."24615"]\nmembers_growth = 0.5\nmodel_cooperatives = 3\n',
        encoding="utf-8",
    )
    rows = _mart_on_a_copy(
        warehouse,
        tmp_path,
        lambda con: build._register_targets(con, config),
        "commune_phase",
        "select new_province_code, new_commune_code, target_members_2030, "
        "target_revenue_2030_mvnd, target_model_cooperatives_2030, targets_from "
        "from marts.commune_phase",
    )
    assert rows == [
        ("66", None, 58.0, 1350.0, 1, "default"),  # [commune_default] over [default]
        ("68", "24611", 14.0, 2400.0, 1, "province"),
        ("68", "24615", 90.0, 4000.0, 3, "commune"),  # the province's revenue rate kept
        ("68", None, 83.0, 2200.0, 1, "province"),
    ]


def test_commune_phase_keeps_a_row_whose_province_is_unknown(tmp_path):
    """Every row of marts.commune_year is judged, one whose province in force is unknown too
    (keys compared with `is not distinct from`): never dropped by a join on NULL."""
    rows = run_mart(
        tmp_path / "phase.duckdb",
        "commune_phase",
        [
            "create table marts.commune_year as select * from (values "
            "(null, null, null, 'review', 2024, 2, 0, 20, 100.0), "
            "('68', 'Tỉnh Lâm Đồng', '24611', 'Phường Bắc Gia Nghĩa', 2025, 1, 0, 10, 50.0)) "
            "as t(new_province_code, new_province_name, new_commune_code, new_commune_name, "
            "year, cooperatives, new_cooperatives, members, revenue_mvnd)",
            "alter table marts.commune_year add column da167_cooperatives integer",
            "create table marts.replication_candidates as select null::varchar as "
            "new_province_code, null::varchar as new_commune_code, true as is_candidate",
        ],
        "select new_province_code, new_commune_code, baseline_year, members_baseline, "
        "target_members_2030, replication_candidates, targets_from from marts.commune_phase",
    )
    assert rows == [
        ("68", "24611", 2025, 10, 12.0, 0, "default"),
        (None, None, 2024, 20, 23.0, 1, "default"),
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[commune."24611"]\nrevenue_grwth = 0.5\n', "[commune.24611] sets revenue_grwth"),
        ('[province."68"]\nrevenue_growth = "50%"\n', "revenue_growth = '50%' is not a number"),
        ("[commune_default]\nmodel_cooperatives = true\n", "model_cooperatives = True"),
    ],
)
def test_a_mistyped_target_is_an_error_naming_the_table(tmp_path, text, says):
    import duckdb

    config = tmp_path / "phase_targets.toml"
    shipped = (CONFIG_DIR / "phase_targets.toml").read_text(encoding="utf-8")
    config.write_text(shipped.split("\n[commune_default]")[0] + "\n" + text, encoding="utf-8")
    con = duckdb.connect()
    try:
        with pytest.raises(ValueError, match=r"phase_targets\.toml") as raised:
            build._register_targets(con, config)
    finally:
        con.close()
    assert says in str(raised.value)


def _criteria(tmp_path: Path, rating: str) -> Path:
    path = tmp_path / "replication_criteria.toml"
    text = (CONFIG_DIR / "replication_criteria.toml").read_text(encoding="utf-8")
    path.write_text(text.replace('required = "Tốt"', f'required = "{rating}"'), encoding="utf-8")
    return path


def test_a_rating_criterion_saved_decomposed_still_meets_the_rating(warehouse, tmp_path):
    """An editor on macOS may save `Tốt` decomposed (NFD): the same rating, not a new one."""

    decomposed = unicodedata.normalize("NFD", "Tốt")
    assert decomposed != "Tốt"
    path = _criteria(tmp_path, decomposed)
    met = _mart_on_a_copy(
        warehouse,
        tmp_path,
        lambda con: build._set_criteria(con, path),
        "replication_candidates",
        "select coop_code from marts.replication_candidates "
        "where meets_rating_criterion order by coop_code",
    )
    assert met == [("6700000001",), ("6700000002",), ("6700000003",), ("6700000006",)]
    assert build.read_criteria(path)["crit_rating"] == "Tốt"


@pytest.mark.parametrize("rating", ["Tot", "Giỏi", "tốt"])
def test_a_rating_criterion_that_is_no_rating_is_an_error_naming_file_and_key(tmp_path, rating):
    with pytest.raises(ValueError, match=r"replication_criteria\.toml: \[rating\] required") as e:
        build.read_criteria(_criteria(tmp_path, rating))
    assert repr(rating) in str(e.value)


def test_replication_candidates_keep_every_column_they_had(con):
    columns = _columns(con, "marts.replication_candidates")
    before = [
        "coop_code", "name", "sector", "district_code", "district_name", "in_da167",
        "latest_year", "consecutive_profitable_years", "rating", "score", "revenue_mvnd",
        "profit_before_tax_mvnd", "members", "has_offtake_contract", "has_valid_ocop_product",
        "meets_profit_criterion", "meets_rating_criterion", "meets_market_link_criterion",
        "is_candidate", "district_rank",
    ]  # fmt: skip
    assert [c for c in columns if c in before] == before
    new = ["new_province_code", "new_commune_code", "new_commune_name", "placement"]
    assert {*new, "commune_rank"} <= set(columns)


def test_placement_review_says_what_is_known_and_what_would_settle_it(con):
    rows = con.execute(
        "select coop_code, name, former_commune_code, former_commune_name, former_district_code, "
        "new_province_code, last_reported_year, possible_new_commune_count, "
        "possible_new_communes, why_under_review, what_would_settle_it "
        "from marts.placement_review order by coop_code"
    ).fetchall()
    assert [r[0] for r in rows] == ["6600000005", "6700000003", "6700000004"]
    by_code = {r[0]: r for r in rows}
    next_report = (
        "Báo cáo năm tới ghi xã/phường mới của HTX / Its next report naming its new commune"
    )

    e = by_code["6600000005"]
    assert e[1:9] == ("HTX E", None, None, "643", "66", 2024, 0, None)
    assert e[9].startswith("Không rõ xã cũ của HTX")
    assert " / Its former commune is not known" in e[9]
    assert e[10] == next_report

    c = by_code["6700000003"]
    assert c[1:9] == (
        "HTX C", "24614", "Phường Nghĩa Phú", "660", "68", 2024, 2,
        "24611 Phường Bắc Gia Nghĩa; 24615 Phường Nam Gia Nghĩa",
    )  # fmt: skip
    assert c[9] == (
        "Xã cũ được chia cho nhiều xã/phường mới / Its former commune was split between new "
        "communes"
    )
    assert c[10] == next_report

    d = by_code["6700000004"]
    assert d[1:9] == ("HTX D", "24617", "Xã Đắk Nia", "660", "68", 2024, 0, None)
    assert d[9] == (
        "Xã cũ không khớp được với xã/phường mới nào trong văn bản sắp xếp "
        "(audit.crosswalk_unmatched) / Its former commune is unmatched in the merger text "
        "(audit.crosswalk_unmatched)"
    )
    assert d[10].startswith("Xã cũ chưa khớp với xã/phường mới nào (audit.crosswalk_unmatched)")
    assert d[10].endswith("its next report naming its new commune")


def test_placement_is_the_cooperative_s_not_a_version_s(con):
    # F has two versions; it appears once everywhere, under its latest name.
    assert con.execute(
        "select name, placement, new_commune_code from intermediate.cooperative_placement "
        "where coop_code = '6700000006'"
    ).fetchall() == [("HTX F mới", "reported", "24615")]
    assert con.execute(
        "select count(*) from marts.replication_candidates where coop_code = '6700000006'"
    ).fetchone() == (1,)


def test_new_tables_and_columns_are_described_and_labelled(con):
    labels = labels_vi()
    for table in ("commune_year", "placement_review", "commune_phase"):
        [(comment,)] = con.execute(
            "select comment from duckdb_tables() where schema_name = 'marts' and table_name = ?",
            [table],
        ).fetchall()
        assert comment
        columns = _columns(con, f"marts.{table}")
        assert [c for c in columns if c not in labels] == []
    new = ["new_province_code", "new_commune_code", "new_commune_name", "placement", "commune_rank"]
    described = dict(
        con.execute(
            "select column_name, comment from duckdb_columns() "
            "where schema_name = 'marts' and table_name = 'replication_candidates'"
        ).fetchall()
    )
    assert all(described[c] for c in new)
    assert all(c in labels for c in new)
    assert con.execute(
        "select comment from duckdb_tables() where schema_name = 'intermediate' "
        "and table_name = 'cooperative_placement'"
    ).fetchone()[0]


def test_htx_tables_lists_the_intermediate_schema_and_the_new_tables(warehouse):
    lines = analyst.describe_tables(warehouse)
    tables = [line.split(":")[0] for line in lines if not line.startswith(" ")]
    schemas = [t.split(".")[0] for t in tables]
    assert schemas == sorted(schemas, key=["core", "intermediate", "marts", "audit"].index)
    assert "intermediate.cooperative_placement" in tables
    assert "intermediate.support_cooperative_year" in tables
    assert {"marts.commune_year", "marts.placement_review"} <= set(tables)
    shown = "\n".join(lines)
    assert "    commune_rank (BIGINT): Rank among the candidates of the commune in force" in shown


# A real build: Tuy Phong (595, Bình Thuận, now part of Lâm Đồng) and Đắk Song (665, Đắk
# Nông) report 2023-2024, commune 24611 reports 2026.
PHAN_DUNG = "6000000001"  # Xã Phan Dũng, went whole into 22978 Xã Tuy Phong: crosswalk
PHONG_PHU = "6000000002"  # Xã Phong Phú (former 22978), split: review
NO_COMMUNE = "6000000003"  # a commune of no list: review, its former district known
DAK_N_DUNG = "6700000009"  # Xã Đắk N'Dung, unmatched in the merger text: review
BAC_GIA_NGHIA = "6700000010"  # commune 24611's 2026 report, commune column empty: reported


@pytest.fixture(scope="module")
def real_build(tmp_path_factory):
    from conftest import HTX_HEADER, htx_row, info_rows, run_steps, write_xlsx

    from etl.config import settings_under

    settings = settings_under(tmp_path_factory.mktemp("marts2026_build"))
    for year in (2023, 2024):
        rows = [
            htx_row(1, PHAN_DUNG, **{"Xã/Phường": "Phan Dũng", "Doanh thu": 100 * year - 202000}),
            htx_row(2, PHONG_PHU, **{"Xã/Phường": "Phong Phú"}),
            htx_row(3, NO_COMMUNE, **{"Xã/Phường": "Xóm Mới"}),
        ]
        write_xlsx(
            settings.landing_dir / f"595_{year}.xlsx",
            {"ThongTin": info_rows("595", year), "HTX": [HTX_HEADER, *rows]},
        )
    write_xlsx(
        settings.landing_dir / "665_2024.xlsx",
        {
            "ThongTin": info_rows("665", 2024),
            "HTX": [HTX_HEADER, htx_row(1, DAK_N_DUNG, **{"Xã/Phường": "Đắk N'Dung"})],
        },
    )
    write_xlsx(
        settings.landing_dir / "24611_2026.xlsx",
        {
            "ThongTin": info_rows("24611", 2026),
            "HTX": [HTX_HEADER, htx_row(1, BAC_GIA_NGHIA, **{"Xã/Phường": None})],
        },
    )
    run_steps(settings)
    return settings


def test_a_real_build_places_and_reviews_in_the_marts(real_build):
    from conftest import query

    assert query(
        real_build,
        "select new_province_code, new_commune_code, new_commune_name, year, cooperatives, "
        "placed_by_crosswalk, revenue_mvnd::double from marts.commune_year "
        "order by new_province_code, new_commune_code nulls last, year",
    ) == [
        ("68", "22978", "Xã Tuy Phong", 2023, 1, 1, 300.0),
        ("68", "22978", "Xã Tuy Phong", 2024, 1, 1, 400.0),
        ("68", "24611", "Phường Bắc Gia Nghĩa", 2026, 1, 0, 1650.0),
        ("68", None, "Chưa xác định xã/phường mới / New commune under review", 2023, 2, 0, 3300.0),
        ("68", None, "Chưa xác định xã/phường mới / New commune under review", 2024, 3, 0, 4950.0),
    ]
    assert query(
        real_build,
        "select coop_code, former_commune_code, former_commune_name, former_district_code, "
        "new_province_code, last_reported_year, possible_new_communes, what_would_settle_it "
        "from marts.placement_review order by coop_code",
    ) == [
        (
            PHONG_PHU,
            "22978",
            "Xã Phong Phú",
            "595",
            "68",
            2024,
            "22972 Xã Phan Rí Cửa; 22978 Xã Tuy Phong",
            "Báo cáo năm tới ghi xã/phường mới của HTX / Its next report naming its new commune",
        ),
        (
            NO_COMMUNE,
            None,
            None,
            "595",
            "68",
            2024,
            None,
            "Báo cáo năm tới ghi xã/phường mới của HTX / Its next report naming its new commune",
        ),
        (
            DAK_N_DUNG,
            "24727",
            "Xã Đắk N'Dung",
            "665",
            "68",
            2024,
            # unmatched: the new commune whose text spells it nearly (`Xã Đắk N’Drung`)
            "24717 Xã Đức An",
            "Xã cũ chưa khớp với xã/phường mới nào (audit.crosswalk_unmatched); báo cáo năm tới "
            "ghi xã/phường mới của HTX / Its former commune is unmatched "
            "(audit.crosswalk_unmatched); its next report naming its new commune",
        ),
    ]
    assert query(
        real_build,
        "select coop_code, placement, new_commune_code, new_province_code "
        "from marts.replication_candidates order by coop_code",
    ) == [
        (PHAN_DUNG, "crosswalk", "22978", "68"),
        (PHONG_PHU, "review", None, "68"),
        (NO_COMMUNE, "review", None, "68"),
        (DAK_N_DUNG, "review", None, "68"),
        (BAC_GIA_NGHIA, "reported", "24611", "68"),
    ]


def test_the_officials_workbook_has_the_new_marts_with_vietnamese_headers(real_build):
    from openpyxl import load_workbook

    workbook = load_workbook(real_build.export_dir / "marts.xlsx", read_only=True)
    assert {"commune_year", "placement_review"} <= set(workbook.sheetnames)
    header = [c.value for c in next(workbook["commune_year"].iter_rows(max_row=1))]
    assert header[:5] == [
        "Mã tỉnh (từ 01/07/2025)",
        "Tỉnh (từ 01/07/2025)",
        "Mã xã/phường mới (từ 01/07/2025)",
        "Xã/Phường mới (từ 01/07/2025)",
        "Năm",
    ]
    review = [c.value for c in next(workbook["placement_review"].iter_rows(max_row=1))]
    assert review[-2:] == ["Lý do chưa xác định", "Cần gì để xác định"]
    workbook.close()


def test_the_officials_workbook_shows_codes_in_vietnamese_and_parquet_keeps_them(real_build):
    """An official reads `Nộp muộn (late)`, not `late`; the analysts' tables and the Parquet
    files keep the codes the warehouse contract names."""
    import duckdb
    from conftest import query
    from openpyxl import load_workbook

    workbook = load_workbook(real_build.export_dir / "marts.xlsx", read_only=True)

    def column(sheet: str, header: str) -> list:
        rows = list(workbook[sheet].iter_rows(values_only=True))
        return [row[rows[0].index(header)] for row in rows[1:]]

    placements = column("replication_candidates", "Cách xác định xã/phường mới")
    statuses = column("reporting_status", "Tình trạng nộp báo cáo")
    sources = column("commune_phase", "Nguồn mục tiêu (xã/tỉnh/mặc định)")
    workbook.close()
    assert placements == [
        "Theo xã cũ nhập nguyên vẹn (crosswalk)",
        "Đang xem xét (review)",
        "Đang xem xét (review)",
        "Đang xem xét (review)",
        "Theo báo cáo ghi xã/phường mới (reported)",
    ]
    codes = query(real_build, "select status from marts.reporting_status")
    shown = {
        "received": "Đã nộp đúng hạn (received)",
        "late": "Nộp muộn (late)",
        "quarantined": "Chỉ có tệp bị từ chối (quarantined)",
        "due": "Chưa đến hạn (due)",
        "missing": "Quá hạn chưa nộp (missing)",
    }
    assert codes
    assert statuses == [shown[code] for (code,) in codes]
    assert sources
    assert set(sources) == {"Mục tiêu mặc định (default)"}
    parquet = real_build.export_dir / "parquet" / "marts.replication_candidates.parquet"
    kept = duckdb.sql(f"select distinct placement from '{parquet}' order by all").fetchall()
    assert kept == [("crosswalk",), ("reported",), ("review",)]


def test_commune_phase_new_cooperatives_since_2026_says_what_it_counts(con):
    """new_cooperatives_since_2026 sums marts.commune_year.new_cooperatives, the cooperatives
    founded in each year (founded_year = year): its comment says so, never "first reported"
    (a cooperative founded in 2015 and first reported in 2026 is not counted)."""
    comment = con.execute(
        "select comment from duckdb_columns() where schema_name = 'marts' "
        "and table_name = 'commune_phase' and column_name = 'new_cooperatives_since_2026'"
    ).fetchone()[0]
    assert "first reported" not in comment
    assert "founded" in comment
