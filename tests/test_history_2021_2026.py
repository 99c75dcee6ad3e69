"""A few cooperatives of Đắk Nông across the 2025 reorganisation, as the province lives it
in early 2027: district reports 2022-2024, province 68's reports 2025 and 2026, a commune's
own report 2026. Every expected value is worked out by hand from the contracts
(docs: district-workbook.md "Reports after the 2025 reorganisation", warehouse-contract.md).

- A 6700000101: district 663, former Xã Long Sơn (24678 before the merger) 2022-2024; the
  province's 2025 report names its new commune Đắk Sắk (24678 since 01/07/2025, which Long
  Sơn went into), and commune 24678's own 2026 report has it. A loss in 2023, a profit in
  2024, 2025 and 2026: three consecutive years only across the reorganisation. District
  663 also reports it for 2025 (a loss) and the province for 2026 (a loss): the province
  wins in 2025, the commune in 2026.
- B 6000000102: district 595 (Tuy Phong, Bình Thuận, now Lâm Đồng), former Xã Phong Phú
  (22978), split between 22972 and 22978; the province's reports never name a new commune:
  under review. Otherwise like A.
- C 6700000103: district 663, former Xã Đức Mạnh (24676), went whole into 24664 Xã Đức Lập,
  reported up to 2024 only: placed by the crosswalk.
- E 6700000105: district 663, former Xã Đắk Gằn (24673), which went whole into 24670 Xã Đắk
  Mil; commune 24670's own 2026 report names it `Xã Đắk Mil` (in 2026 a new commune).
- D 6700000104: district 663, Xã Thuận An (24682) 2022-2024, the province 2025-2026 (new
  Xã Thuận An, 24682); renamed and another sector in 2026: a second type-2 version.
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import HTX_HEADER, htx_row, info_rows, query, run_steps, write_xlsx

A, B, C, D, E = "6700000101", "6000000102", "6700000103", "6700000104", "6700000105"
YEARS = (2022, 2023, 2024, 2025, 2026)
A_PROFIT = {2022: 30, 2023: -20, 2024: 100, 2025: 110, 2026: 130}
B_PROFIT = {2022: 10, 2023: -5, 2024: 40, 2025: 45, 2026: 50}


def _rated(n: int, code: str, good: bool, score: int, **fields) -> list:
    """A cooperative's row: in a good year rated Tốt with `score` and an offtake contract,
    otherwise Khá (70) without one."""
    return htx_row(
        n,
        code,
        **{
            "Xếp loại": "Tốt" if good else "Khá",
            "Điểm": score if good else 70,
            "Liên kết tiêu thụ": "Có" if good else "Không",
            **fields,
        },
    )


def _a(year: int, n: int, **more) -> list:
    return _rated(
        n,
        A,
        year == 2026,
        85,
        **{
            "Tên HTX": "HTX Nông nghiệp Long Sơn",
            "Xã/Phường": "Long Sơn" if year <= 2024 else "Đắk Sắk",
            "Doanh thu": 1000 + 100 * (year - 2022),
            "Lợi nhuận trước thuế": A_PROFIT[year],
            "Số thành viên": 40 + year - 2022,
            **more,
        },
    )


def _b(year: int, n: int, **more) -> list:
    return _rated(
        n,
        B,
        year == 2026,
        90,
        **{
            "Tên HTX": "HTX Nông nghiệp Phong Phú",
            "Xã/Phường": "Phong Phú" if year <= 2025 else None,
            "Doanh thu": 500 + 10 * (year - 2022),
            "Lợi nhuận trước thuế": B_PROFIT[year],
            "Số thành viên": 20,
            **more,
        },
    )


def _c(year: int, n: int) -> list:
    return _rated(
        n,
        C,
        year == 2024,
        88,
        **{
            "Tên HTX": "HTX Cà phê Đức Mạnh",
            "Xã/Phường": "Đức Mạnh",
            "Doanh thu": 800,
            "Lợi nhuận trước thuế": 60,
            "Số thành viên": 30,
        },
    )


def _d(year: int, n: int) -> list:
    renamed = year == 2026
    return htx_row(
        n,
        D,
        **{
            "Tên HTX": "HTX Thương mại Thuận An" if renamed else "HTX Dịch vụ Thuận An",
            "Lĩnh vực": "Phi nông nghiệp" if renamed else "Nông nghiệp",
            "Xã/Phường": "Thuận An",
            "Doanh thu": 300,
            "Lợi nhuận trước thuế": 5,
            "Số thành viên": 10,
        },
    )


def _e(year: int, n: int) -> list:
    commune = {2025: "Đắk Mil", 2026: "Xã Đắk Mil"}.get(year, "Đắk Gằn")
    return htx_row(n, E, **{"Tên HTX": "HTX Tiêu Đắk Gằn", "Xã/Phường": commune, "Doanh thu": 200})


def _file(settings, name: str, unit: str, year: int, rows: list[list]) -> None:
    write_xlsx(
        settings.landing_dir / name,
        {"ThongTin": info_rows(unit, year), "HTX": [HTX_HEADER, *rows]},
    )


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    from etl.config import settings_under

    settings = settings_under(tmp_path_factory.mktemp("history_2021_2026"))
    for year in (2022, 2023, 2024):
        _file(
            settings,
            f"663_{year}.xlsx",
            "663",
            year,
            [_a(year, 1), _c(year, 2), _d(year, 3), _e(year, 4)],
        )
        _file(settings, f"595_{year}.xlsx", "595", year, [_b(year, 1)])
    # District 663 for the months before 01/07/2025: the province's report wins for A.
    _file(
        settings,
        "663_2025.xlsx",
        "663",
        2025,
        [_a(2025, 1, **{"Xã/Phường": "Long Sơn", "Lợi nhuận trước thuế": -5})],
    )
    _file(
        settings, "68_2025.xlsx", "68", 2025, [_a(2025, 1), _b(2025, 2), _d(2025, 3), _e(2025, 4)]
    )
    # The province's 2026 report also names A (a loss): the commune's report wins for A.
    loss = {"Lợi nhuận trước thuế": -1, "Xếp loại": "Khá", "Điểm": 70, "Liên kết tiêu thụ": "Không"}
    _file(settings, "68_2026.xlsx", "68", 2026, [_a(2026, 1, **loss), _b(2026, 2), _d(2026, 3)])
    _file(settings, "24670_2026.xlsx", "24670", 2026, [_e(2026, 1)])
    _file(settings, "24678_2026.xlsx", "24678", 2026, [_a(2026, 1, **{"Xã/Phường": None})])
    run_steps(settings)
    return settings


def _rows(settings, sql: str) -> list[tuple]:
    return query(settings, sql)


def test_dim_cooperative_versions_and_placement(history):
    assert _rows(
        history,
        "select coop_code, name, sector, valid_from_year, valid_to_year, is_current, "
        "new_commune_code, placement from core.dim_cooperative order by coop_code, valid_from_year",
    ) == [
        (B, "HTX Nông nghiệp Phong Phú", "Nông nghiệp", 2022, None, True, None, "review"),
        (A, "HTX Nông nghiệp Long Sơn", "Nông nghiệp", 2022, None, True, "24678", "reported"),
        (C, "HTX Cà phê Đức Mạnh", "Nông nghiệp", 2022, None, True, "24664", "crosswalk"),
        (D, "HTX Dịch vụ Thuận An", "Nông nghiệp", 2022, 2025, False, "24682", "reported"),
        (D, "HTX Thương mại Thuận An", "Phi nông nghiệp", 2026, None, True, "24682", "reported"),
        (E, "HTX Tiêu Đắk Gằn", "Nông nghiệp", 2022, None, True, "24670", "reported"),
    ]


def _facts(settings) -> dict[tuple[str, int], tuple]:
    rows = _rows(
        settings,
        "select c.coop_code, p.year, c.name, g.province_code, g.district_code, g.commune_code, "
        "g.commune_name, f.profit_before_tax_mvnd::double, fi.file_name "
        "from core.fact_cooperative_year as f "
        "join core.dim_cooperative as c using (cooperative_key) "
        "join core.dim_geography as g using (geo_key) "
        "join core.dim_period as p using (period_key) "
        "join audit.file_ingestion as fi using (file_id)",
    )
    return {(r[0], r[1]): r[2:] for r in rows}


def test_each_fact_lands_on_the_geography_in_force_for_its_report(history):
    facts = _facts(history)
    assert len(facts) == 5 * 4 + 3  # A, B, D, E 2022-2026; C 2022-2024
    long_son = ("67", "663", "24678", "Xã Long Sơn")
    dak_sak = ("68", None, "24678", "Xã Đắk Sắk")
    for year in (2022, 2023, 2024):
        assert facts[A, year][1:5] == long_son
        assert facts[B, year][1:5] == ("60", "595", "22978", "Xã Phong Phú")
        assert facts[C, year][1:5] == ("67", "663", "24676", "Xã Đức Mạnh")
        assert facts[D, year][1:5] == ("67", "663", "24682", "Xã Thuận An")
        assert facts[E, year][1:5] == ("67", "663", "24673", "Xã Đắk Gằn")
    # 2025: the province's report wins over district 663's for A (a profit, not the loss).
    assert facts[A, 2025] == ("HTX Nông nghiệp Long Sơn", *dak_sak, 110.0, "68_2025.xlsx")
    # B's 2025 row names its former commune (2025 reports may use either).
    assert facts[B, 2025][1:5] == ("60", "595", "22978", "Xã Phong Phú")
    # D's names Thuận An, a former and a new commune that lead to the same new commune: which
    # geography row the fact lands on is not fixed by the contract, only where it leads.
    assert facts[D, 2025][0] == "HTX Dịch vụ Thuận An"
    assert facts[D, 2025][3] == "24682"
    # 2026: the commune's report wins over the province's for A.
    assert facts[A, 2026] == ("HTX Nông nghiệp Long Sơn", *dak_sak, 130.0, "24678_2026.xlsx")
    assert facts[B, 2026][1:5] == ("68", None, None, None)
    assert facts[D, 2026][:5] == ("HTX Thương mại Thuận An", "68", None, "24682", "Xã Thuận An")
    assert facts[E, 2026][1:6] == ("68", None, "24670", "Xã Đắk Mil", 120.0)


def test_replication_candidates_across_the_reorganisation(history):
    assert _rows(
        history,
        "select coop_code, latest_year, consecutive_profitable_years, meets_profit_criterion, "
        "meets_rating_criterion, meets_market_link_criterion, is_candidate, district_code, "
        "district_rank, new_province_code, new_commune_code, placement, commune_rank "
        "from marts.replication_candidates order by coop_code",
    ) == [
        (B, 2026, 3, True, True, True, True, "595", 1, "68", None, "review", None),
        # 2024, 2025 and 2026: three consecutive profitable years across the reorganisation
        (A, 2026, 3, True, True, True, True, "663", 2, "68", "24678", "reported", 1),
        (C, 2024, 3, True, True, True, True, "663", 1, "68", "24664", "crosswalk", 1),
        (D, 2026, 5, True, False, False, False, "663", None, "68", "24682", "reported", None),
        (E, 2026, 5, True, False, False, False, "663", None, "68", "24670", "reported", None),
    ]


def test_commune_year_expresses_every_year_in_the_new_geography(history):
    rows = _rows(
        history,
        "select new_province_code, new_commune_code, year, cooperatives, placed_by_crosswalk, "
        "revenue_mvnd::double, profit_before_tax_mvnd::double from marts.commune_year "
        "order by new_commune_code nulls last, year",
    )
    expected = [("68", "24664", y, 1, 1, 800.0, 60.0) for y in (2022, 2023, 2024)]
    expected += [("68", "24670", y, 1, 0, 200.0, 120.0) for y in YEARS]
    expected += [
        ("68", "24678", y, 1, 0, 1000.0 + 100 * (y - 2022), float(A_PROFIT[y])) for y in YEARS
    ]
    expected += [("68", "24682", y, 1, 0, 300.0, 5.0) for y in YEARS]
    expected += [("68", None, y, 1, 0, 500.0 + 10 * (y - 2022), float(B_PROFIT[y])) for y in YEARS]
    assert rows == expected


def test_placement_review_lists_the_split_commune(history):
    assert _rows(
        history,
        "select coop_code, former_commune_code, former_district_code, new_province_code, "
        "possible_new_communes from marts.placement_review",
    ) == [(B, "22978", "595", "68", "22972 Xã Phan Rí Cửa; 22978 Xã Tuy Phong")]


def test_district_year_and_phase_summary_keep_the_former_districts(history):
    assert _rows(
        history,
        "select district_code, year, cooperatives, members, revenue_mvnd::double, "
        "profit_before_tax_mvnd::double from marts.district_year order by all",
    ) == [
        *[("595", y, 1, 20, 500.0 + 10 * (y - 2022), float(B_PROFIT[y])) for y in YEARS],
        ("663", 2022, 4, 120, 2300.0, 215.0),
        ("663", 2023, 4, 121, 2400.0, 165.0),
        ("663", 2024, 4, 122, 2500.0, 285.0),
        ("663", 2025, 3, 93, 1800.0, 235.0),  # A, D, E from the province's report
        ("663", 2026, 3, 94, 1900.0, 255.0),
    ]
    assert _rows(
        history,
        "select district_code, phase_last_year, cooperatives_last_year, members_last_year, "
        "revenue_last_year_mvnd::double, replication_candidates, target_cooperatives_2030, "
        "target_members_2030, target_revenue_2030_mvnd::double, has_enough_candidates "
        "from marts.phase_summary order by all",
    ) == [
        ("595", 2025, 1, 20, 530.0, 1, 1.0, 23.0, 795.0, False),
        ("663", 2025, 3, 93, 1800.0, 2, 4.0, 107.0, 2700.0, True),
    ]


def test_reporting_status_requires_province_68_from_2025(history):
    assert _rows(
        history,
        "select unit_code, report_year, due_on from marts.reporting_status "
        "where report_year in (2025, 2026) order by all",
    ) == [("68", 2025, dt.date(2026, 1, 20)), ("68", 2026, dt.date(2027, 1, 20))]


def test_reporting_status_judged_in_early_2027(history):
    from etl.quality import deadlines
    from etl.warehouse import ledger

    con = ledger.connect(history.ledger)
    try:
        for name, when in {
            "663_2025.xlsx": dt.datetime(2025, 8, 1, 3, tzinfo=dt.UTC),
            "68_2025.xlsx": dt.datetime(2026, 1, 10, 3, tzinfo=dt.UTC),
            "24670_2026.xlsx": dt.datetime(2027, 1, 5, 3, tzinfo=dt.UTC),
            "24678_2026.xlsx": dt.datetime(2027, 1, 5, 3, tzinfo=dt.UTC),
            "68_2026.xlsx": dt.datetime(2027, 1, 25, 3, tzinfo=dt.UTC),
        }.items():
            con.execute(
                "update audit.file_sighting set first_seen = ? where sha256 = "
                "(select sha256 from audit.file_ingestion where file_name = ?)",
                [when, name],
            )
        found = {
            (r["unit_code"], r["report_year"]): (
                r["status"],
                r["arrived_on"],
                r["loaded_file_name"],
            )
            for r in deadlines.statuses(con, dt.date(2027, 2, 15))
            if r["report_year"] >= 2025
        }
    finally:
        con.close()
    assert found == {
        ("68", 2025): ("received", dt.date(2026, 1, 10), "68_2025.xlsx"),
        ("68", 2026): ("late", dt.date(2027, 1, 25), "68_2026.xlsx"),
        ("68", 2027): ("due", None, None),  # due on 20/01/2028
    }
