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


@pytest.fixture
def history(settings):
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
