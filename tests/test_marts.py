"""The scorecard and the phase summary on hand-computed fixtures."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import (
    HTX_HEADER,
    LINK_HEADER,
    OCOP_HEADER,
    SUPPORT_HEADER,
    htx_row,
    info_rows,
    query,
    run_mart,
    run_steps,
    write_xlsx,
)

CODE = "6400000001"


def _year(settings, year, revenue, profit, members, rating, score, **sheets):
    coops = [
        htx_row(
            1,
            CODE,
            **{
                "Doanh thu": revenue,
                "Lợi nhuận trước thuế": profit,
                "Số thành viên": members,
                "Xếp loại": rating,
                "Điểm": score,
            },
        ),
        htx_row(2, "6400000002", **{"Doanh thu": 100, "Số thành viên": 10}),
    ]
    workbook = {"ThongTin": info_rows("663", year), "HTX": [HTX_HEADER, *coops]}
    for name, header in (
        ("HoTro", SUPPORT_HEADER),
        ("OCOP", OCOP_HEADER),
        ("LienKet", LINK_HEADER),
    ):
        if name in sheets:
            workbook[name] = [header, *sheets[name]]
    write_xlsx(settings.landing_dir / f"663_{year}.xlsx", workbook)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Four years of one cooperative, built once: the tests here only query it."""
    from etl.config import settings_under

    settings = settings_under(tmp_path_factory.mktemp("history"))
    _year(settings, 2021, 1000, -10, 20, "Khá", 70,
          HoTro=[[CODE, "DA167", "Tư vấn", "Trung ương", 200, 2021]])  # fmt: skip
    _year(settings, 2022, 1100, 50, 22, "Khá", 75)
    _year(settings, 2023, 1210, 60, 25, "Tốt", 82,
          HoTro=[[CODE, "NTM", "Máy", "Tỉnh", 100, 2023]],
          OCOP=[[CODE, "Cà phê", "Đồ uống", 4, "9/QĐ", dt.date(2022, 6, 1)]])  # fmt: skip
    _year(settings, 2024, 1331, 70, 30, "Tốt", 88,
          LienKet=[[CODE, "Công ty CP Cà phê", "cà phê", 100, 500]])  # fmt: skip
    run_steps(settings)
    return settings


def test_scorecard_holds_latest_figures_trend_streak_history_ocop_offtake_support(history):
    [row] = query(
        history,
        "select latest_year, first_year, years_reported, revenue_mvnd, members_change, "
        "round(revenue_cagr, 6), consecutive_profitable_years, profitable_years, rating_history, "
        "ocop_products, ocop_max_stars, has_offtake_contract, support_total_mvnd, "
        "support_da167_mvnd, support_programs "
        "from marts.cooperative_scorecard where coop_code = ?",
        [CODE],
    )
    assert row == (
        2024, 2021, 4, 1331, 10, 0.1, 3, 3,
        "2021: Khá; 2022: Khá; 2023: Tốt; 2024: Tốt",
        0, None, True, 300, 200, "DA167, NTM",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("decided", "valid"),
    [(dt.date(2024, 12, 31), True), (dt.date(2025, 1, 10), False)],
)
def test_an_ocop_certificate_decided_after_the_latest_year_is_no_market_link(
    settings, decided, valid
):
    """A 2024 report made in January 2025 may list a certificate decided then: it was not
    valid in 2024, so it does not meet the market-link criterion of that year."""
    for year in (2022, 2023):
        _year(settings, year, 1000, 10, 20, "Tốt", 85)
    _year(settings, 2024, 1000, 10, 20, "Tốt", 85,
          OCOP=[[CODE, "Mật ong", "Thực phẩm", 3, "3/QĐ", decided]])  # fmt: skip
    run_steps(settings)
    [row] = query(
        settings,
        "select s.has_valid_ocop_product, c.meets_market_link_criterion, c.is_candidate "
        "from marts.cooperative_scorecard as s "
        "inner join marts.replication_candidates as c using (coop_code) where coop_code = ?",
        [CODE],
    )
    assert row == (valid, valid, valid)


@pytest.mark.parametrize(
    ("decided", "valid"),
    [(dt.date(2023, 6, 1), True), (dt.date(2020, 12, 1), False)],
)
def test_an_ocop_certificate_an_earlier_report_listed_counts_while_it_is_valid(
    settings, decided, valid
):
    """The OCOP sheet is optional: a certificate the 2023 report listed, decided 01/06/2023
    (valid 36 months, to 01/06/2026), is a valid product in 2024, whose report has no OCOP
    sheet, and meets the market-link criterion; one decided 01/12/2020 expired in 2023.
    The products the latest report lists stay 0."""
    _year(settings, 2022, 1000, 10, 20, "Tốt", 85)
    _year(settings, 2023, 1000, 10, 20, "Tốt", 85,
          OCOP=[[CODE, "Mật ong", "Thực phẩm", 4, "3/QĐ", decided]])  # fmt: skip
    _year(settings, 2024, 1000, 10, 20, "Tốt", 85)
    run_steps(settings)
    [row] = query(
        settings,
        "select s.latest_year, s.ocop_products, s.has_valid_ocop_product, "
        "s.ocop_valid_max_stars, c.meets_market_link_criterion, c.is_candidate "
        "from marts.cooperative_scorecard as s "
        "inner join marts.replication_candidates as c using (coop_code) where coop_code = ?",
        [CODE],
    )
    assert row == (2024, 0, valid, 4 if valid else None, valid, valid)


def test_an_ocop_product_certified_again_counts_by_its_latest_decision(settings):
    """A product the 2022 report listed at 5 stars (decided 10/01/2022) and the 2023 report
    at 3 (certified again 01/02/2023): in 2024, whose report has no OCOP sheet, its valid
    stars are its new certificate's 3, though the first is still within its 36 months."""
    _year(settings, 2022, 1000, 10, 20, "Tốt", 85,
          OCOP=[[CODE, "Mật ong", "Thực phẩm", 5, "1/QĐ", dt.date(2022, 1, 10)]])  # fmt: skip
    _year(settings, 2023, 1000, 10, 20, "Tốt", 85,
          OCOP=[[CODE, "Mật ong", "Thực phẩm", 3, "7/QĐ", dt.date(2023, 2, 1)]])  # fmt: skip
    _year(settings, 2024, 1000, 10, 20, "Tốt", 85)
    run_steps(settings)
    [row] = query(
        settings,
        "select has_valid_ocop_product, ocop_valid_max_stars from marts.cooperative_scorecard "
        "where coop_code = ?",
        [CODE],
    )
    assert row == (True, 3)


def test_phase_summary_sets_the_phase_against_the_configured_targets(history):
    [row] = query(
        history,
        "select district_code, phase_first_year, phase_last_year, cooperatives_last_year, "
        "revenue_first_year_mvnd, revenue_last_year_mvnd, round(revenue_cagr_phase1, 6), "
        "support_total_mvnd, replication_candidates, target_cooperatives_2030, "
        "target_members_2030, target_revenue_2030_mvnd, target_model_cooperatives_2030, "
        "has_enough_candidates from marts.phase_summary",
    )
    # 2024 revenue 1331 + 100 = 1431; members 30 + 10 = 40; targets +20%, +15%, +50%.
    assert row == (
        "663", 2021, 2024, 2, 1100, 1431, round((1431 / 1100) ** (1 / 3) - 1, 6),
        300, 1, 2, 46, 2146.5, 2, False,
    )  # fmt: skip


def test_phase_summary_rounds_a_target_of_a_half_up(tmp_path):
    """50 members grown by 15% are 57.5: a target of 58 members, not the 57 that rounding
    57.49999999999999 (the product in binary floating point) gives."""
    [row] = run_mart(
        tmp_path / "phase.duckdb",
        "phase_summary",
        [
            "create table marts.district_year as select '663' as district_code, "
            "'Huyện Cư Jút' as district_name, '67' as province_code, "
            "unnest([2021, 2025]) as year, "
            "unnest([10, 10]) as cooperatives, unnest([40, 50])::hugeint as members, "
            "1000::decimal(38, 6) as revenue_mvnd, 0::decimal(38, 6) as support_total_mvnd, "
            "0::decimal(38, 6) as support_da167_mvnd, 0 as new_cooperatives, "
            "0 as da167_cooperatives",
            "create table marts.replication_candidates as "
            "select '663' as district_code, '67' as province_code, false as is_candidate",
        ],
        "select members_last_year, target_members_2030, target_cooperatives_2030 "
        "from marts.phase_summary",
    )
    assert row == (50, 58.0, 12.0)


def test_program_year_compares_three_year_growth_of_supported_and_unsupported(history):
    [row] = query(
        history,
        "select amount_mvnd, cooperatives_reached, round(supported_revenue_growth_3y, 6), "
        "round(unsupported_revenue_growth_3y, 6), round(supported_member_growth_3y, 6), "
        "round(unsupported_member_growth_3y, 6), supported_with_outcome, unsupported_with_outcome "
        "from marts.program_year where program_code = 'DA167' and year = 2021",
    )
    # Supported: revenue 1000 -> 1331 in 2024, members 20 -> 30; the other: 100 -> 100, 10 -> 10.
    assert row == (200, 1, 0.331, 0.0, 0.5, 0.0, 1, 1)
    [(growth,)] = query(
        history,
        "select supported_revenue_growth_3y from marts.program_year "
        "where program_code = 'NTM' and year = 2023",
    )
    assert growth is None  # 2026 not reported yet


def test_a_revenue_that_fell_to_0_is_a_growth_of_minus_100_percent(settings):
    """A cooperative whose revenue fell from 1000 to 0 is the model that failed: its growth
    is -100% a year in the scorecard, as in the phase summary, not unknown."""
    _year(settings, 2021, 1000, 10, 20, "Khá", 70)
    _year(settings, 2023, 0, -5, 20, "Yếu", 40)
    run_steps(settings)
    [(cagr,)] = query(
        settings,
        "select revenue_cagr from marts.cooperative_scorecard where coop_code = ?",
        [CODE],
    )
    assert cagr == -1.0


def test_phase_summary_says_what_its_growth_and_targets_mean(history):
    """The growth is between the district's own first and last years, as a fraction, and
    each target grows the last year's figure: the label alone said 2021-2025."""
    comments = dict(
        query(
            history,
            "select column_name, comment from duckdb_columns() "
            "where schema_name = 'marts' and table_name = 'phase_summary'",
        )
    )
    assert "from phase_first_year to phase_last_year" in comments["revenue_cagr_phase1"]
    assert "0.05 = +5% a year" in comments["required_revenue_growth_per_year"]
    assert "cooperatives_last_year grown by" in comments["target_cooperatives_2030"]
    assert "revenue_last_year_mvnd grown by" in comments["target_revenue_2030_mvnd"]


def test_program_year_says_what_its_comparison_columns_mean(history):
    """Each growth is a median fraction over three years; the counts say how many
    cooperatives each median stands on: the labels alone said neither."""
    comments = dict(
        query(
            history,
            "select column_name, comment from duckdb_columns() "
            "where schema_name = 'marts' and table_name = 'program_year'",
        )
    )
    for column in (
        "supported_revenue_growth_3y",
        "unsupported_revenue_growth_3y",
        "supported_member_growth_3y",
        "unsupported_member_growth_3y",
    ):
        assert "Median" in comments[column], column
        assert "three years later" in comments[column], column
    assert "the count behind supported_revenue_growth_3y" in comments["supported_with_outcome"]
    assert "the count behind unsupported_revenue_growth_3y" in comments["unsupported_with_outcome"]


def _report(settings, unit, year, coops, name=None, prepared=None, **sheets):
    rows = [htx_row(n, code, **{"Tên HTX": f"HTX {code[-2:]}", **cells})
            for n, (code, cells) in enumerate(coops, 1)]  # fmt: skip
    workbook = {"ThongTin": info_rows(unit, year, prepared), "HTX": [HTX_HEADER, *rows]}
    headers = {"HoTro": SUPPORT_HEADER, "OCOP": OCOP_HEADER, "LienKet": LINK_HEADER}
    workbook |= {sheet: [headers[sheet], *lines] for sheet, lines in sheets.items()}
    write_xlsx(settings.landing_dir / (name or f"{unit}_{year}.xlsx"), workbook)


def _fig(revenue, profit, score=85, commune=None, offtake=False, **cells):
    rating = "Tốt" if score >= 80 else "Khá"
    return {"Doanh thu": revenue, "Lợi nhuận trước thuế": profit, "Xếp loại": rating,
            "Điểm": score, "Liên kết tiêu thụ": "Có" if offtake else "Không",
            **({"Xã/Phường": commune} if commune is not None else {}), **cells}  # fmt: skip


def test_scorecard_and_candidates_over_2021_2026_agree_with_hand_computed_rows(settings):
    """Đắk Mil (663) reports 2021-2024 and resubmits 2023; Krông Nô (664) takes F in 2024;
    province 67 reports K and L without a commune (unattributed); province 68 reports 2025 and
    2026, commune 24664 (Đức Lập) G in 2026 (its report wins in every sheet)."""
    a, b, c, d, e, f, g, h, i, j, k, m = (f"64000000{n}" for n in (10, *range(11, 20), 20, 22))
    moved = {"Tên HTX": "HTX Phú Mỹ Mới", "Lĩnh vực": "Phi nông nghiệp"}
    for year in range(2021, 2025):
        coops = [(a, _fig(1000 + 100 * (year - 2021), 10 * (year - 2020))),
                 (b, _fig(800, 0 if year == 2024 else 5)), (c, _fig(700, 7)), (g, _fig(600, 6)),
                 (h, _fig(1300, 30, 90, offtake=True)), (i, _fig(1300, 30, 90, offtake=True)),
                 (m, _fig(900, 9, commune="Thuận An", offtake=True))]  # fmt: skip
        coops += [(e, _fig(500, 5, offtake=True))] if year != 2024 else []
        coops += [(j, _fig(200, 2, offtake=True))] if year <= 2023 else []
        f_cells = {"Tên HTX": "HTX Phú Mỹ"} if year == 2021 else moved
        if year == 2022:
            f_cells = {**moved, "Lĩnh vực": "Nông nghiệp"}
        if year < 2024:
            coops.append((f, _fig(400, 4, **f_cells)))
        else:
            _report(settings, "664", year, [(f, _fig(400, 4, commune="Nam Đà", **f_cells))])
        _report(settings, "663", year, coops, prepared=dt.date(year + 1, 1, 10))
        _report(settings, "67", year, [(k, _fig(1000, 10, offtake=True, **{"Xã/Phường": None})),
                                       (k[:-1] + "1", _fig(1000, 10, offtake=True,
                                                           **{"Xã/Phường": None}))])  # fmt: skip
    # The resubmission of 2023: A's figures change, J is left out.
    _report(settings, "663", 2023,
            [(a, _fig(1250, 35, 70)), (b, _fig(800, 5)), (c, _fig(700, 7)), (g, _fig(600, 6)),
             (h, _fig(1300, 30, 90, offtake=True)), (i, _fig(1300, 30, 90, offtake=True)),
             (m, _fig(900, 9, commune="Thuận An", offtake=True)), (e, _fig(500, 5, offtake=True)),
             (f, _fig(400, 4, **moved))],
            name="663_2023_bosung.xlsx", prepared=dt.date(2024, 2, 1))  # fmt: skip
    new = "Đức Lập"
    both = [(f, _fig(400, 4, commune="Nam Đà", **moved)),
            (k, _fig(1000, 10, commune=new, offtake=True)),
            (k[:-1] + "1", _fig(1000, 10, commune=new, offtake=True)),
            (m, _fig(900, 9, commune="Thuận An", offtake=True))]  # fmt: skip
    _report(settings, "68", 2025,
            [(a, _fig(1400, 50, commune=new)), (b, _fig(800, 10, commune=new)),
             (c, _fig(700, None, commune=new)), (d, _fig(300, 3, commune=new)),
             (e, _fig(500, 5, commune=new, offtake=True)), (g, _fig(600, 6, commune=new)),
             (h, _fig(1300, 30, 90, commune=new, offtake=True)),
             (i, _fig(1300, 30, 90, commune=new, offtake=True)), *both],
            OCOP=[[i, "Cà phê", "Đồ uống", 4, "1/QĐ", dt.date(2022, 12, 1)]])  # fmt: skip
    _report(settings, "68", 2026,
            [(a, _fig(1500, 60, 90, commune=new, offtake=True)),
             (b, _fig(800, 20, commune=new, offtake=True)),
             (c, _fig(700, 8, commune=new, offtake=True)),
             (d, _fig(300, 3, commune=new, offtake=True)), (e, _fig(500, 5, commune=new)),
             (g, _fig(9999, 999, commune=new, offtake=True, **{"Tên HTX": "HTX Sai Tên"})),
             (h, _fig(1500, 60, 90, commune=new)), (i, _fig(1500, 60, 90, commune=new)), *both],
            HoTro=[[g, "NTM", "Máy", "Tỉnh", 50, 2026],
                   [a, "DA167", "Tư vấn", "Trung ương", 100, 2026]],
            OCOP=[[h, "Mật ong", "Thực phẩm", 4, "2/QĐ", dt.date(2023, 6, 1)],
                  [i, "Cà phê", "Đồ uống", 3, "1/QĐ", dt.date(2022, 12, 1)],
                  [g, "Tiêu", "Thực phẩm", 5, "3/QĐ", dt.date(2025, 1, 1)]],
            LienKet=[[e, "Công ty X", "cà phê", 10, 300]])  # fmt: skip
    _report(settings, "24664", 2026, [(g, _fig(650, 7, 70, **{"Xã/Phường": None}))],
            HoTro=[[g, "DA167", "Tư vấn", "Trung ương", 30, 2026]])  # fmt: skip
    run_steps(settings)

    scorecard = query(
        settings,
        "select coop_code, name, sector, district_code, latest_year, years_reported, "
        "revenue_mvnd, profit_before_tax_mvnd, score, round(revenue_cagr, 6), "
        "consecutive_profitable_years, profitable_years, rating_history, ocop_max_stars, "
        "has_valid_ocop_product, has_offtake_contract, support_total_mvnd "
        "from marts.cooperative_scorecard order by coop_code",
    )
    history = "; ".join(f"{y}: Tốt" for y in range(2021, 2027))
    assert scorecard == [
        (a, "HTX 10", "Nông nghiệp", "663", 2026, 6, 1500, 60, 90, 0.084472, 6, 6,
         history.replace("2023: Tốt", "2023: Khá"), None, False, True, 100),
        (b, "HTX 11", "Nông nghiệp", "663", 2026, 6, 800, 20, 85, 0.0, 2, 5,
         history, None, False, True, 0),  # 0 in 2024
        (c, "HTX 12", "Nông nghiệp", "663", 2026, 6, 700, 8, 85, 0.0, 1, 5,
         history, None, False, True, 0),  # not reported in 2025
        (d, "HTX 13", "Nông nghiệp", None, 2026, 2, 300, 3, 85, 0.0, 2, 2,
         "2025: Tốt; 2026: Tốt", None, False, True, 0),
        (e, "HTX 14", "Nông nghiệp", "663", 2026, 5, 500, 5, 85, 0.0, 2, 5,
         history.replace("2024: Tốt; ", ""), None, False, True, 0),  # missing in 2024
        (f, "HTX Phú Mỹ Mới", "Phi nông nghiệp", "664", 2026, 6, 400, 4, 85, 0.0, 6, 6,
         history, None, False, False, 0),
        (g, "HTX 16", "Nông nghiệp", "663", 2026, 6, 650, 7, 70, 0.016137, 6, 6,
         history.replace("2026: Tốt", "2026: Khá"), None, False, False, 30),
        (h, "HTX 17", "Nông nghiệp", "663", 2026, 6, 1500, 60, 90, 0.029034, 6, 6,
         history, 4, True, False, 0),
        (i, "HTX 18", "Nông nghiệp", "663", 2026, 6, 1500, 60, 90, 0.029034, 6, 6,
         history, 3, False, False, 0),  # its certificate expired on 01/12/2025
        (j, "HTX 19", "Nông nghiệp", "663", 2022, 2, 200, 2, 85, 0.0, 2, 2,
         "2021: Tốt; 2022: Tốt", None, False, True, 0),
        (k, "HTX 20", "Nông nghiệp", None, 2026, 6, 1000, 10, 85, 0.0, 6, 6,
         history, None, False, True, 0),
        (k[:-1] + "1", "HTX 21", "Nông nghiệp", None, 2026, 6, 1000, 10, 85, 0.0, 6, 6,
         history, None, False, True, 0),
        (m, "HTX 22", "Nông nghiệp", "663", 2026, 6, 900, 9, 85, 0.0, 6, 6,
         history, None, False, True, 0),
    ]  # fmt: skip
    candidates = query(
        settings,
        "select coop_code, province_code, new_commune_code, district_rank, commune_rank "
        "from marts.replication_candidates where is_candidate order by coop_code",
    )
    # A and H tie on score and revenue: the code decides; K and L rank among the
    # unattributed of province 68.
    assert candidates == [
        (a, "67", "24664", 1, 1), (h, "67", "24664", 2, 2), (k, "68", "24664", 1, 3),
        (k[:-1] + "1", "68", "24664", 2, 4), (m, "67", "24682", 3, 1),
    ]  # fmt: skip
    assert query(
        settings,
        "select name, sector, commune_name, valid_from_year, valid_to_year, is_current, "
        "placement, new_commune_code from core.dim_cooperative where coop_code = ? "
        "order by valid_from_year",
        [f],
    ) == [
        ("HTX Phú Mỹ", "Nông nghiệp", "Đức Mạnh", 2021, 2021, False, "reported", "24697"),
        ("HTX Phú Mỹ Mới", "Nông nghiệp", "Đức Mạnh", 2022, 2022, False, "reported", "24697"),
        ("HTX Phú Mỹ Mới", "Phi nông nghiệp", "Đức Mạnh", 2023, 2023, False, "reported", "24697"),
        ("HTX Phú Mỹ Mới", "Phi nông nghiệp", "Nam Đà", 2024, None, True, "reported", "24697"),
    ]  # fmt: skip
