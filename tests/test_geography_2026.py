"""The warehouse core in the geography in force since 01/07/2025 (issue 15): the units in
force beside the former ones in `core.dim_geography`, facts of 2025 and later on the commune
they name, the order of precedence between reports, and each cooperative's placement.

One build of real workbooks (2021-2024 district reports, a 2025 district and a 2025 province
report, a 2026 commune and a 2026 province report), and the staging SQL on small hand-made
tables for the rules a workbook cannot reach alone.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from conftest import (
    HTX_HEADER,
    LINK_HEADER,
    OCOP_HEADER,
    SUPPORT_HEADER,
    htx_row,
    info_rows,
    query,
    run_steps,
    write_xlsx,
)

from etl.config import SQL_DIR, settings_under
from etl.warehouse.build import run_staging
from etl.warehouse.models import run_sql_file

A = "6400000001"  # Đức Mạnh (663) up to 2024, the former name again in 2025: crosswalk
B = "6400000002"  # Nghĩa Đức (660) in 2024, Bắc Gia Nghĩa from 2025, commune 24611 in 2026
C = "6400000003"  # in the 2025 district and province reports: the province's wins
E = "6400000005"  # first seen in commune 24611's 2026 report, naming its commune
F = "6400000006"  # Phong Phú (595), split between two new communes: review
G = "6400000007"  # Tuy Phong in 2025: the new commune 22978, not the former Phong Phú
H = "6400000008"  # first seen in 2026, commune unknown: the province, review
U = "6400000009"  # Đắk N'Dung (665), unmatched by the crosswalk: review
K = "6400000010"  # Buôn Choah (664) in 2024, `Xã Nam Đà` in 2025: the new commune it went into


def workbook(settings, name, unit, year, coops, *, support=(), ocop=(), links=()):
    rows = [HTX_HEADER] + [htx_row(i, code, **values) for i, (code, values) in enumerate(coops, 1)]
    sheets = {"ThongTin": info_rows(unit, year), "HTX": rows}
    if support:
        sheets["HoTro"] = [SUPPORT_HEADER, *support]
    if ocop:
        sheets["OCOP"] = [OCOP_HEADER, *ocop]
    if links:
        sheets["LienKet"] = [LINK_HEADER, *links]
    return write_xlsx(settings.landing_dir / name, sheets)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    settings = settings_under(tmp_path_factory.mktemp("geography_2026"))
    for year in (2023, 2024):
        workbook(
            settings,
            f"663_{year}.xlsx",
            "663",
            year,
            [(A, {"Xã/Phường": "Đức Mạnh"}), (C, {"Xã/Phường": "Đức Mạnh", "Tên HTX": "HTX C"})],
        )
    workbook(settings, "660_2024.xlsx", "660", 2024, [(B, {"Xã/Phường": "Nghĩa Đức"})])
    workbook(settings, "595_2024.xlsx", "595", 2024, [(F, {"Xã/Phường": "Phong Phú"})])
    workbook(settings, "665_2024.xlsx", "665", 2024, [(U, {"Xã/Phường": "Đắk N'Dung"})])
    workbook(
        settings,
        "664_2024.xlsx",
        "664",
        2024,
        [(K, {"Xã/Phường": "Buôn Choah", "Tên HTX": "HTX K"})],
    )
    # 2025: the district's report of the first half, and the province's.
    workbook(
        settings,
        "663_2025.xlsx",
        "663",
        2025,
        [(C, {"Xã/Phường": "Đức Mạnh", "Tên HTX": "HTX C huyện", "Doanh thu": 111})],
        support=[[C, "NTM", "Máy", "Tỉnh", 10, 2025]],
    )
    workbook(
        settings,
        "68_2025.xlsx",
        "68",
        2025,
        [
            (A, {"Xã/Phường": "Đức Mạnh", "Tên HTX": "HTX A mới"}),  # a former commune
            (B, {"Xã/Phường": "Phường Bắc Gia Nghĩa"}),  # a new commune
            (C, {"Xã/Phường": "Đức Lập", "Tên HTX": "HTX C tỉnh", "Doanh thu": 999}),
            (G, {"Xã/Phường": "Tuy Phong"}),
            (K, {"Xã/Phường": "Xã Nam Đà", "Tên HTX": "HTX K"}),
        ],
        support=[[C, "NTM", "Kho", "Tỉnh", 20, 2025]],
    )
    # 2026: commune 24611's report and the province's both name B.
    workbook(
        settings,
        "24611_2026.xlsx",
        "24611",
        2026,
        [(B, {"Xã/Phường": None, "Doanh thu": 700}), (E, {"Xã/Phường": "Bắc Gia Nghĩa"})],
        support=[[B, "NTM", "Máy xã", "Xã", 7, 2026]],
        ocop=[[B, "Cà phê xã", "Đồ uống", 4, "7/QĐ", dt.date(2026, 3, 1)]],
        links=[[B, "Công ty xã", "Cà phê", 70, 700]],
    )
    workbook(
        settings,
        "68_2026.xlsx",
        "68",
        2026,
        [
            (B, {"Xã/Phường": "Bắc Gia Nghĩa", "Doanh thu": 500}),
            (H, {"Xã/Phường": "Xã Không Có Thật"}),
        ],
        support=[[B, "NTM", "Máy tỉnh", "Tỉnh", 5, 2026], [H, "NTM", "Kho", "Tỉnh", 3, 2026]],
        ocop=[[B, "Cà phê tỉnh", "Đồ uống", 3, "5/QĐ", dt.date(2026, 2, 1)]],
        links=[[B, "Công ty tỉnh", "Cà phê", 50, 500]],
    )
    run_steps(settings)
    statuses = query(settings, "select file_name, status from audit.file_ingestion order by 1")
    assert {status for _, status in statuses} == {"loaded"}, statuses
    return settings


def fact_geography(settings, coop_code: str) -> list[tuple]:
    return query(
        settings,
        "select f.period_key, f.unit_code, g.level, g.province_code, g.district_code, "
        "g.commune_code, g.commune_name from core.fact_cooperative_year f "
        "join core.dim_geography g using (geo_key) where f.coop_code = ? order by 1",
        [coop_code],
    )


# --- dim_geography -------------------------------------------------------------------------


def test_the_units_in_force_stand_beside_the_former_ones(built):
    in_force = query(
        built,
        "select level, count(*), count(district_code), min(valid_from), max(valid_from), "
        "count(valid_to) from core.dim_geography where valid_from = date '2025-07-01' "
        "group by level order by level",
    )
    assert in_force == [
        ("commune", 3321, 0, dt.date(2025, 7, 1), dt.date(2025, 7, 1), 0),
        ("province", 34, 0, dt.date(2025, 7, 1), dt.date(2025, 7, 1), 0),
    ]
    former_ends = query(
        built,
        "select level, count(*), min(valid_to), max(valid_to) from core.dim_geography "
        "where valid_from = date '1900-01-01' group by level order by level",
    )
    assert [(level, end, last) for level, _, end, last in former_ends] == [
        ("commune", dt.date(2025, 6, 30), dt.date(2025, 6, 30)),
        ("district", dt.date(2025, 6, 30), dt.date(2025, 6, 30)),
        ("province", dt.date(2025, 6, 30), dt.date(2025, 6, 30)),
    ]
    assert {level: n for level, n, _, _ in former_ends}["province"] == 63


def test_a_reused_code_is_two_units_the_report_year_tells_apart(built):
    rows = query(
        built,
        "select commune_code, commune_name, district_code, province_code, valid_from, valid_to "
        "from core.dim_geography where commune_code in ('22978', '24611') order by 1, 5",
    )
    assert rows == [
        ("22978", "Xã Phong Phú", "595", "60", dt.date(1900, 1, 1), dt.date(2025, 6, 30)),
        ("22978", "Xã Tuy Phong", None, "68", dt.date(2025, 7, 1), None),
        ("24611", "Phường Nghĩa Đức", "660", "67", dt.date(1900, 1, 1), dt.date(2025, 6, 30)),
        ("24611", "Phường Bắc Gia Nghĩa", None, "68", dt.date(2025, 7, 1), None),
    ]
    # F named Phong Phú in 2024, G Tuy Phong in 2025: the same code, two communes.
    assert fact_geography(built, F) == [
        (2024, "595", "commune", "60", "595", "22978", "Xã Phong Phú")
    ]
    assert fact_geography(built, G) == [
        (2025, "68", "commune", "68", None, "22978", "Xã Tuy Phong")
    ]


# --- facts on the commune they name ----------------------------------------------------------


def test_commune_24611_is_phuong_nghia_duc_in_2024_and_bac_gia_nghia_in_2026(built):
    assert fact_geography(built, B) == [
        (2024, "660", "commune", "67", "660", "24611", "Phường Nghĩa Đức"),
        (2025, "68", "commune", "68", None, "24611", "Phường Bắc Gia Nghĩa"),
        # the commune unit's row with an empty commune column: that commune
        (2026, "24611", "commune", "68", None, "24611", "Phường Bắc Gia Nghĩa"),
    ]
    assert fact_geography(built, E) == [
        (2026, "24611", "commune", "68", None, "24611", "Phường Bắc Gia Nghĩa")
    ]


def test_a_2025_province_report_lands_on_the_commune_it_names_former_or_new(built):
    assert fact_geography(built, A) == [
        (2023, "663", "commune", "67", "663", "24676", "Xã Đức Mạnh"),
        (2024, "663", "commune", "67", "663", "24676", "Xã Đức Mạnh"),
        (2025, "68", "commune", "67", "663", "24676", "Xã Đức Mạnh"),  # the former commune
    ]
    last = fact_geography(built, C)[-1]
    assert last == (2025, "68", "commune", "68", None, "24664", "Xã Đức Lập")  # a new commune


def test_a_name_of_a_former_and_a_new_commune_is_the_new_one_its_own_commune_went_into(built):
    """`Xã Nam Đà` in the province's 2025 report fits the former Xã Nam Đà and the new one,
    made of Buôn Choáh, Đắk Sôr and Nam Đà. A cooperative of Buôn Choah did not move to the
    former Nam Đà: it is in the new commune, and it opens no version."""
    assert fact_geography(built, K) == [
        (2024, "664", "commune", "67", "664", "24694", "Xã Buôn Choah"),
        (2025, "68", "commune", "68", None, "24697", "Xã Nam Đà"),
    ]
    versions = query(
        built,
        "select valid_from_year, valid_to_year, new_commune_code, placement "
        "from core.dim_cooperative where coop_code = ?",
        [K],
    )
    assert versions == [(2024, None, "24697", "reported")]


def test_an_unknown_commune_lands_on_the_reporting_unit(built):
    assert fact_geography(built, H) == [(2026, "68", "province", "68", None, None, None)]


# --- precedence ------------------------------------------------------------------------------


def test_in_2025_the_province_report_wins_over_the_district_report(built):
    [(unit, revenue, name)] = query(
        built,
        "select f.unit_code, f.revenue_mvnd, d.name from core.fact_cooperative_year f "
        "join core.dim_cooperative d using (cooperative_key) "
        "where f.coop_code = ? and f.period_key = 2025",
        [C],
    )
    assert (unit, revenue, name) == ("68", 999.0, "HTX C tỉnh")
    support = query(
        built,
        "select s.content, s.amount_mvnd, i.file_name from core.fact_program_support s "
        "join audit.file_ingestion i using (file_id) where s.coop_code = ?",
        [C],
    )
    assert support == [("Kho", 20.0, "68_2025.xlsx")]


def test_from_2026_the_communes_report_wins_in_every_sheet(built):
    files = """
        select i.file_name, count(*) from core.{table} t
        join audit.file_ingestion i using (file_id)
        where t.coop_code = ? and t.period_key = 2026 group by 1 order by 1
    """
    for table in (
        "fact_cooperative_year",
        "fact_program_support",
        "fact_ocop_product",
        "fact_offtake_contract",
    ):
        assert query(built, files.format(table=table), [B]) == [("24611_2026.xlsx", 1)], table
    [(revenue,)] = query(
        built,
        "select revenue_mvnd from core.fact_cooperative_year where coop_code = ? "
        "and period_key = 2026",
        [B],
    )
    assert revenue == 700.0
    # the province's other cooperative keeps its rows
    assert query(
        built, "select amount_mvnd from core.fact_program_support where coop_code = ?", [H]
    ) == [(3.0,)]


# --- placement -------------------------------------------------------------------------------


def test_each_cooperative_is_placed_reported_crosswalk_or_review(built):
    placed = query(
        built,
        "select coop_code, any_value(new_commune_code), any_value(placement), "
        "count(distinct coalesce(new_commune_code, '-') || placement) "
        "from core.dim_cooperative group by coop_code order by coop_code",
    )
    assert placed == [
        (A, "24664", "crosswalk", 1),  # Đức Mạnh went whole into Xã Đức Lập
        (B, "24611", "reported", 1),  # commune 24611's report of 2026
        (C, "24664", "reported", 1),  # Đức Lập, named by the 2025 province report
        (E, "24611", "reported", 1),
        (F, None, "review", 1),  # Phong Phú was split
        (G, "22978", "reported", 1),
        (H, None, "review", 1),  # unknown commune, no history
        (U, None, "review", 1),  # Đắk N'Dung is unmatched
        (K, "24697", "reported", 1),  # the new Xã Nam Đà, named by the 2025 province report
    ]


def test_placement_opens_no_version_and_is_on_every_one(built):
    versions = query(
        built,
        "select name, valid_from_year, valid_to_year, new_commune_code, placement "
        "from core.dim_cooperative where coop_code = ? order by valid_from_year",
        [A],
    )
    assert versions == [
        ("HTX Nông nghiệp số 1", 2023, 2024, "24664", "crosswalk"),
        ("HTX A mới", 2025, None, "24664", "crosswalk"),
    ]


# --- the staging SQL on hand-made rows ------------------------------------------------------

STAGED = [
    # file_id, unit_code, report_year, excel_row, coop_code, commune_name
    (1, "663", 2024, 2, "X1", "Alpha"),
    (2, "663", 2025, 2, "X1", "Alpha"),
    (3, "68", 2025, 5, "X1", "Alpha"),
    (4, "68", 2026, 2, "X1", "Gamma"),
    (5, "24611", 2026, 9, "X1", None),
    (6, "24612", 2026, 3, "X1", None),
    (4, "68", 2026, 3, "X2", "Gamma"),
    (3, "68", 2025, 6, "X3", "Beta"),
    (3, "68", 2025, 7, "X4", "Beta"),
    (3, "68", 2025, 8, "X5", "Delta"),
    (1, "663", 2024, 3, "X5", "Alpha"),
    # X6, X7, X8: in district 663 up to 2024, then a name fitting a former and a new commune
    (1, "663", 2024, 4, "X6", "Alpha"),
    (3, "68", 2025, 9, "X6", "Epsilon"),
    (1, "663", 2024, 5, "X7", "Alpha"),
    (3, "68", 2025, 10, "X7", "Zeta"),
    (1, "663", 2024, 6, "X8", "Alpha"),
    (3, "68", 2025, 11, "X8", "Eta"),
    (1, "663", 2024, 7, "X9", "Alpha"),
    (3, "68", 2025, 12, "X9", "Theta"),
    # X10: in Kappa (663) up to 2024, then the name of the new commune Kappa went into, which
    # is also the name of another former commune that went there (as a cooperative of Buôn
    # Choah writing `Xã Nam Đà` in the province's 2025 report)
    (1, "663", 2024, 8, "X10", "Kappa"),
    (3, "68", 2025, 13, "X10", "Iota"),
    # X11: in Lambda (663) up to 2024, which went into the new Epsilon; then `Epsilon`, also
    # the name of another former commune (as a cooperative of Đắk Gằn writing `Xã Đắk Mil`)
    (1, "663", 2024, 9, "X11", "Lambda"),
    (3, "68", 2025, 14, "X11", "Epsilon"),
]
CANDIDATES = [
    # unit_code, report_year, commune_name, commune_code, current, district_code, new_code
    ("68", 2025, "Alpha", "10001", False, "663", "20001"),
    ("663", 2025, "Alpha", "10001", False, "663", "20001"),
    ("68", 2026, "Gamma", "20003", True, None, "20003"),
    # Beta: two former communes that went whole into the same new commune
    ("68", 2025, "Beta", "10002", False, "660", "20002"),
    ("68", 2025, "Beta", "10003", False, "661", "20002"),
    # Delta: two former communes going to different new communes; X5's district decides
    ("68", 2025, "Delta", "10004", False, "663", "20004"),
    ("68", 2025, "Delta", "10005", False, "664", "20005"),
    # Epsilon: a former commune of 663 and a new commune made of others of 663 (as `Đắk Mil`
    # in 2025: Thị trấn Đắk Mil, and Xã Đắk Mil of Đắk Gằn, Đắk N'Drót and Đắk R'La)
    ("68", 2025, "Epsilon", "10006", False, "663", "20006"),
    ("68", 2025, "Epsilon", "20007", True, None, "20007"),
    # Zeta: a former commune of 664, and a new commune made of communes of 663
    ("68", 2025, "Zeta", "10009", False, "664", "20009"),
    ("68", 2025, "Zeta", "20010", True, None, "20010"),
    # Eta: a commune of 663 kept unchanged, former and new
    ("68", 2025, "Eta", "10011", False, "663", "20011"),
    ("68", 2025, "Eta", "20011", True, None, "20011"),
    # Theta: a commune of 663 split in two, one part keeping its name (as Xã Hòa Thắng, 596)
    ("68", 2025, "Theta", "10012", False, "663", None),
    ("68", 2025, "Theta", "20012", True, None, "20012"),
    # Iota: a former commune of 663 and the new commune it went into with Kappa
    ("68", 2025, "Iota", "10014", False, "663", "20014"),
    ("68", 2025, "Iota", "20014", True, None, "20014"),
]
CROSSWALK = [
    # old_commune_code, old_district_code, new_commune_code
    ("10006", "663", "20006"),
    ("10007", "663", "20007"),
    ("10008", "663", "20007"),
    ("10009", "664", "20009"),
    ("10010", "663", "20010"),
    ("10011", "663", "20011"),
    ("10012", "663", "20012"),
    ("10012", "663", "20013"),
    ("10013", "663", "20014"),
    ("10014", "663", "20014"),
]


@pytest.fixture
def staged():
    con = duckdb.connect()
    con.execute(
        "create temp table stg_htx (file_id bigint, unit_code varchar, report_year integer, "
        "excel_row integer, coop_code varchar, commune_name varchar, commune_key varchar, "
        "sheet_name varchar)"
    )
    con.executemany(
        "insert into stg_htx values (?, ?, ?, ?, ?, ?, lower(?), 'HTX')",
        [(*row, row[-1]) for row in STAGED],
    )
    con.execute(
        "create temp table ref_commune_candidates (unit_code varchar, report_year integer, "
        "commune_name varchar, commune_code varchar, current boolean, district_code varchar, "
        "new_commune_code varchar)"
    )
    con.executemany("insert into ref_commune_candidates values (?, ?, ?, ?, ?, ?, ?)", CANDIDATES)
    con.execute(
        "create temp table ref_crosswalk (old_commune_code varchar, old_district_code varchar, "
        "new_commune_code varchar)"
    )
    con.executemany("insert into ref_crosswalk values (?, ?, ?)", CROSSWALK)
    con.execute(
        "create temp table ref_units as select * from (values "
        "('district', '663', 'D', 'Huyện D', '67', null), "
        "('commune', '10001', 'Alpha', 'Xã Alpha', '663', 'alpha'), "
        "('commune', '10013', 'Kappa', 'Xã Kappa', '663', 'kappa'), "
        "('commune', '10007', 'Lambda', 'Xã Lambda', '663', 'lambda')) "
        "as t (level, code, name, full_name, parent_code, commune_key)"
    )
    for path in sorted((SQL_DIR / "macros").glob("*.sql")):
        run_sql_file(con, path)
    run_staging(con)
    yield con
    con.close()


def test_report_precedence_by_year_and_unit_level(staged):
    rows = staged.execute(
        "select coop_code, report_year, file_id, unit_level, wins, winner_file_id, "
        "winner_unit_code from stg_report_precedence where coop_code = 'X1' order by 2, 3"
    ).fetchall()
    assert rows == [
        ("X1", 2024, 1, "district", True, 1, "663"),
        ("X1", 2025, 2, "district", False, 3, "68"),  # 2025: the province wins
        ("X1", 2025, 3, "province", True, 3, "68"),
        ("X1", 2026, 4, "province", False, 5, "24611"),  # 2026: a commune wins
        ("X1", 2026, 5, "commune", True, 5, "24611"),
        ("X1", 2026, 6, "commune", False, 5, "24611"),  # equal rank: the lower unit code
    ]


def _stage_again(con, rows: list[tuple]) -> None:
    """These HTX rows (file_id, unit, year, excel_row, coop_code, commune name) staged too,
    and the staging models run again."""
    con.executemany(
        "insert into stg_htx values (?, ?, ?, ?, ?, ?, lower(?), 'HTX')",
        [(*row, row[-1]) for row in rows],
    )
    run_staging(con)


def test_a_report_naming_a_cooperative_twice_wins_with_its_first_row_only(staged):
    _stage_again(staged, [(30, "664", 2024, 12, "Y9", None), (30, "664", 2024, 9, "Y9", None)])
    rows = staged.execute(
        "select coop_code, excel_row, wins, winner_file_id, winner_unit_code, first_winning_row "
        "from stg_report_precedence where coop_code in ('X1', 'Y9') and report_year = 2024 "
        "order by coop_code, excel_row"
    ).fetchall()
    assert rows == [
        ("X1", 2, True, 1, "663", True),  # alone in its year: its row wins
        ("Y9", 9, True, 30, "664", True),
        ("Y9", 12, True, 30, "664", False),
    ]


def test_a_former_commune_name_of_two_districts_is_the_one_of_the_cooperative_s_district(staged):
    staged.execute(
        "insert into ref_units values ('district', '664', 'E', 'Huyện E', '67', null), "
        "('commune', '10101', 'Alpha', 'Xã Alpha', '664', 'alpha')"
    )
    _stage_again(
        staged,
        [
            (20, "664", 2023, 5, "Y1", "Alpha"),
            (21, "663", 2023, 5, "Y2", "Alpha"),
            # The province's report: Alpha is a former commune of 663 and of 664.
            (22, "67", 2024, 7, "Y1", "Alpha"),
            (22, "67", 2024, 8, "Y2", "Alpha"),
        ],
    )
    rows = staged.execute(
        "select coop_code, file_id, commune_code from stg_htx_commune "
        "where coop_code in ('Y1', 'Y2') order by all"
    ).fetchall()
    assert rows == [
        ("Y1", 20, "10101"),
        ("Y1", 22, "10101"),  # its district, 664, reported it the year before
        ("Y2", 21, "10001"),
        ("Y2", 22, "10001"),
    ]


def test_the_commune_a_row_names(staged):
    rows = staged.execute(
        "select coop_code, file_id, commune_code, commune_current from stg_htx_commune "
        "order by length(coop_code), coop_code, file_id"
    ).fetchall()
    assert rows == [
        ("X1", 1, "10001", False),  # 2024: the district's former commune
        ("X1", 2, "10001", False),
        ("X1", 3, "10001", False),
        ("X1", 4, "20003", True),
        ("X1", 5, "24611", True),  # a commune unit's empty commune column: that commune
        ("X1", 6, "24612", True),
        ("X2", 4, "20003", True),
        ("X3", 3, "20002", True),  # candidates leading to the same new commune
        ("X4", 3, "20002", True),
        ("X5", 1, "10001", False),
        ("X5", 3, "10004", False),  # two candidates: its own district (663) decides
        ("X6", 1, "10001", False),
        # Both candidates are of its district and lead apart: its history does not decide.
        ("X6", 3, None, None),
        ("X7", 1, "10001", False),
        ("X7", 3, "20010", True),  # the new commune made of its district's communes
        ("X8", 1, "10001", False),
        # Former and new are one commune (kept unchanged), in the province's report: the new
        # one, which the report names (placement `reported`, as for X10), not the former.
        ("X8", 3, "20011", True),
        ("X9", 1, "10001", False),
        ("X9", 3, "10012", False),  # the new one is part of the former one: the former
        ("X10", 1, "10013", False),
        # Where its own former commune went: the new commune, not the other former one.
        ("X10", 3, "20014", True),
        ("X11", 1, "10007", False),
        ("X11", 3, "20007", True),  # candidates leading apart: where its commune went
    ]


def test_candidates_without_history_or_a_common_new_commune_are_unknown(staged):
    staged.execute("delete from stg_htx where coop_code = 'X5' and report_year = 2024")
    run_staging(staged)
    assert staged.execute(
        "select commune_code from stg_htx_commune where coop_code = 'X5'"
    ).fetchall() == [(None,)]


def test_a_commune_unit_s_row_with_an_empty_commune_column_names_that_commune(settings):
    """A cooperative first seen in a commune's report, its commune cell empty: it is placed
    in that commune, and its version names it too, not NULL."""
    workbook(settings, "24611_2026.xlsx", "24611", 2026, [(E, {"Xã/Phường": None})])
    run_steps(settings)
    rows = query(
        settings,
        "select coop_code, commune_name, new_commune_code, placement from core.dim_cooperative "
        "where coop_code = ? and is_current",
        [E],
    )
    assert rows == [(E, "Phường Bắc Gia Nghĩa", "24611", "reported")]


def test_a_name_of_a_former_and_a_new_commune_in_the_province_s_2025_report_is_the_new(settings):
    """`Nam Đà` in Lâm Đồng's 2025 report fits the former Xã Nam Đà and the new one it went
    into whole: the report names the new commune, whatever the cooperative's former one
    (Đắk Drô, which went into 24688), so the placement is `reported`, as for a cooperative
    of Buôn Choah writing the same. Before, a cooperative of Đắk Drô was placed
    `crosswalk` by the former Nam Đà, with that as its former commune (helper BG)."""
    dro, choah = "6400000601", "6400000603"
    workbook(
        settings,
        "664_2024.xlsx",
        "664",
        2024,
        [(dro, {"Xã/Phường": "Đắk Drô"}), (choah, {"Xã/Phường": "Buôn Choah"})],
    )
    workbook(
        settings,
        "68_2025.xlsx",
        "68",
        2025,
        [(dro, {"Xã/Phường": "Nam Đà"}), (choah, {"Xã/Phường": "Nam Đà"})],
    )
    run_steps(settings)
    rows = query(
        settings,
        "select coop_code, new_commune_code, placement, former_commune_code "
        "from core.dim_cooperative where is_current order by coop_code",
    )
    assert rows == [(dro, "24697", "reported", "24700"), (choah, "24697", "reported", "24694")]


def test_a_district_s_first_half_report_gives_the_2025_district_the_province_s_outranks(
    settings,
):
    """Moved in 2025: in 663 (Đức Mạnh) in 2024, then named by 664's report of the first
    half of 2025 and by the province's, both `Nam Đà`; the province's report wins and names
    the new Xã Nam Đà (no district), but the cooperative's 2025 district is 664, whose
    report names it, not 663 carried forward from 2024 (helper BK). So for a cooperative
    back in 661 (Quảng Sơn, kept unchanged) after a year in 663."""
    moved, back = "6400000901", "6400000907"
    workbook(settings, "661_2023.xlsx", "661", 2023, [(back, {"Xã/Phường": "Quảng Sơn"})])
    workbook(
        settings,
        "663_2024.xlsx",
        "663",
        2024,
        [(moved, {"Xã/Phường": "Đức Mạnh"}), (back, {"Xã/Phường": "Đức Mạnh"})],
    )
    workbook(settings, "664_2025.xlsx", "664", 2025, [(moved, {"Xã/Phường": "Nam Đà"})])
    workbook(settings, "661_2025.xlsx", "661", 2025, [(back, {"Xã/Phường": "Quảng Sơn"})])
    workbook(
        settings,
        "68_2025.xlsx",
        "68",
        2025,
        [(moved, {"Xã/Phường": "Nam Đà"}), (back, {"Xã/Phường": "Quảng Sơn"})],
    )
    run_steps(settings)
    assert query(
        settings,
        "select coop_code, district_code, attribution_carried_forward, unit_code "
        "from marts.cooperative_district_year where year = 2025 order by 1",
    ) == [(moved, "664", False, "68"), (back, "661", False, "68")]
    assert query(
        settings,
        "select coop_code, placement, former_district_code from intermediate.cooperative_placement "
        "order by 1",
    ) == [(moved, "reported", "664"), (back, "reported", "661")]


def test_a_first_half_report_of_another_province_s_district_gives_no_2025_district(settings):
    """In 663 in 2024; in 2025 Lâm Đồng's report and Hà Nội's district Ba Đình (001, the first
    half) both name it. 68 wins (663's history is its province's), and the cooperative's 2025
    district is 663 carried forward: not Ba Đình, a district of another province whose report
    lost (it named Ba Đình before, as the lowest code of the first half's districts)."""
    coop = "6400000911"
    workbook(settings, "663_2024.xlsx", "663", 2024, [(coop, {"Xã/Phường": "Đức Mạnh"})])
    workbook(settings, "68_2025.xlsx", "68", 2025, [(coop, {"Xã/Phường": None})])
    workbook(settings, "001_2025.xlsx", "001", 2025, [(coop, {"Xã/Phường": None})])
    run_steps(settings)
    assert query(
        settings,
        "select district_code, attribution_carried_forward, unit_code "
        "from marts.cooperative_district_year where year = 2025",
    ) == [("663", True, "68")]


def test_a_2025_district_report_naming_a_new_commune_stays_with_that_district(settings):
    """A district's report of 2025 (the first half) may name the new commune: its rows are
    still that district's for the 2021-2025 comparisons, and it is the cooperative's former
    district. Before, the fact on a commune in force (no district) was carried forward from
    an earlier district, or left unattributed."""
    moved, first = "6400000302", "6400000301"
    workbook(settings, "663_2024.xlsx", "663", 2024, [(moved, {"Xã/Phường": "Đức Mạnh"})])
    workbook(
        settings,
        "660_2025.xlsx",
        "660",
        2025,
        [
            (first, {"Xã/Phường": "Phường Bắc Gia Nghĩa"}),
            (moved, {"Xã/Phường": "Phường Nam Gia Nghĩa"}),
        ],
    )
    run_steps(settings)
    attributed = query(
        settings,
        "select coop_code, year, district_code, attribution_carried_forward "
        "from marts.cooperative_district_year order by 1, 2",
    )
    assert attributed == [
        (first, 2025, "660", False),
        (moved, 2024, "663", False),
        (moved, 2025, "660", False),
    ]
    assert query(
        settings, "select district_code, cooperatives from marts.district_year order by 1"
    ) == [("660", 2), ("663", 1)]
    assert query(
        settings,
        "select coop_code, former_district_code, former_district_name, new_commune_code "
        "from intermediate.cooperative_placement order by 1",
    ) == [
        (first, "660", "Thành phố Gia Nghĩa", "24611"),
        (moved, "660", "Thành phố Gia Nghĩa", "24615"),
    ]


def test_a_cooperative_first_in_a_2025_district_report_the_province_outranks_keeps_its_district(
    settings,
):
    """A cooperative first seen in 2025, in district 664's report of the first half (Đắk
    Drô) and in the province's, which wins and names a new commune (Xã Krông Nô, which Đắk Drô
    went into) or an unknown one: its 2025 legacy district is 664, whose report names it
    that year (not carried forward), and 664 is carried forward to 2026. Before, it was
    counted as never seen in a legacy district (district_code NULL)."""
    new, unknown = "6400000311", "6400000312"
    workbook(
        settings,
        "664_2025.xlsx",
        "664",
        2025,
        [(new, {"Xã/Phường": "Đắk Drô"}), (unknown, {"Xã/Phường": "Đắk Drô"})],
    )
    workbook(
        settings,
        "68_2025.xlsx",
        "68",
        2025,
        [(new, {"Xã/Phường": "Xã Krông Nô"}), (unknown, {"Xã/Phường": "Xã Không Có Thật"})],
    )
    workbook(settings, "68_2026.xlsx", "68", 2026, [(new, {"Xã/Phường": "Xã Krông Nô"})])
    run_steps(settings)
    assert query(
        settings,
        "select coop_code, year, district_code, province_code, attribution_carried_forward "
        "from marts.cooperative_district_year order by 1, 2",
    ) == [
        (new, 2025, "664", "67", False),
        (new, 2026, "664", "67", True),
        (unknown, 2025, "664", "67", False),
    ]
    assert query(
        settings,
        "select district_code, year, cooperatives, carried_forward_cooperatives "
        "from marts.district_year order by all",
    ) == [("664", 2025, 2, 0), ("664", 2026, 1, 1)]
    assert query(
        settings,
        "select coop_code, district_code from marts.replication_candidates order by 1",
    ) == [(new, "664"), (unknown, "664")]
    # The placement's former district is the same one (marts.placement_review shows it).
    assert query(
        settings,
        "select coop_code, former_district_code, former_district_name "
        "from intermediate.cooperative_placement order by 1",
    ) == [(new, "664", "Huyện Krông Nô"), (unknown, "664", "Huyện Krông Nô")]


def test_placement_review_explains_the_placement_from_the_report_it_went_by(settings):
    """marts.placement_review says why core.dim_cooperative put a cooperative under review
    from the evidence the placement used: its latest report before 01/07/2025 naming a
    former commune, a losing report included. Here the district's report of 2025 names Phong
    Phú (split) and the province's, which wins, names no commune; before, the review took
    the former commune of the winning facts (Phan Dũng of 2024, which went whole into
    22978) and gave a reason that was false."""
    coop = "6400000401"
    workbook(settings, "595_2024.xlsx", "595", 2024, [(coop, {"Xã/Phường": "Phan Dũng"})])
    workbook(settings, "595_2025.xlsx", "595", 2025, [(coop, {"Xã/Phường": "Phong Phú"})])
    workbook(settings, "68_2025.xlsx", "68", 2025, [(coop, {"Xã/Phường": None})])
    run_steps(settings)
    assert query(
        settings, "select distinct placement, new_commune_code from core.dim_cooperative"
    ) == [("review", None)]
    assert query(
        settings,
        "select coop_code, former_commune_code, former_commune_name, former_district_code, "
        "new_province_code, last_reported_year, possible_new_commune_count, "
        "possible_new_communes, why_under_review, what_would_settle_it "
        "from marts.placement_review",
    ) == [
        (
            coop,
            "22978",
            "Xã Phong Phú",
            "595",
            "68",
            2025,
            2,
            "22972 Xã Phan Rí Cửa; 22978 Xã Tuy Phong",
            "Xã cũ được chia cho nhiều xã/phường mới / Its former commune was split between new "
            "communes",
            "Báo cáo năm tới ghi xã/phường mới của HTX / Its next report naming its new commune",
        )
    ]
    # The cooperative's former commune is the one its placement went by, in the marts too.
    assert query(
        settings,
        "select distinct d.former_commune_code, p.former_commune_code "
        "from core.dim_cooperative as d join intermediate.cooperative_placement as p "
        "using (coop_code)",
    ) == [("22978", "22978")]


def test_a_commune_of_a_district_the_cooperative_left_does_not_place_it(settings):
    """Its former commune is the one in its latest report before 01/07/2025. Đắk Mil (663)
    named Đức Mạnh for both up to 2023; in 2024 Krông Nô (664) reports `moved` without a
    commune: it left Đức Mạnh, which places it no more (under review, never guessed). Before,
    it went by Đức Mạnh into Xã Đức Lập (24664), a commune of the district it had left.
    `stayed`, with an empty commune cell in Đắk Mil's own 2024 report, keeps Đức Mạnh."""
    moved, stayed = "6400000501", "6400000502"
    for year in (2021, 2022, 2023):
        workbook(
            settings,
            f"663_{year}.xlsx",
            "663",
            year,
            [(moved, {"Xã/Phường": "Đức Mạnh"}), (stayed, {"Xã/Phường": "Đức Mạnh"})],
        )
    workbook(settings, "663_2024.xlsx", "663", 2024, [(stayed, {"Xã/Phường": None})])
    workbook(settings, "664_2024.xlsx", "664", 2024, [(moved, {"Xã/Phường": None})])
    run_steps(settings)
    assert query(
        settings,
        "select distinct coop_code, placement, new_commune_code, former_commune_code "
        "from core.dim_cooperative order by 1",
    ) == [(moved, "review", None, None), (stayed, "crosswalk", "24664", "24676")]
    assert query(
        settings,
        "select coop_code, former_district_code, new_province_code, why_under_review "
        "from marts.placement_review",
    ) == [
        (
            moved,
            "664",
            "68",
            "Không rõ xã cũ của HTX: báo cáo không ghi xã/phường nào trong danh mục, hoặc báo "
            "cáo sau đó của huyện khác không ghi xã/phường / Its former commune is not known: "
            "no report names a commune of the list, or a later report of another district "
            "names none",
        )
    ]
