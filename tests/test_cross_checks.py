"""Checks across files and years, run by GX on the loaded warehouse: warnings, never rejections."""

from __future__ import annotations

import datetime as dt

import openpyxl
from conftest import (
    HTX_HEADER,
    SUPPORT_HEADER,
    htx_row,
    info_rows,
    query,
    run_steps,
    write_xlsx,
)

from etl.contract.findings import halves


def _workbook(settings, name, unit, year, coops):
    rows = [HTX_HEADER] + [htx_row(i, code, **v) for i, (code, v) in enumerate(coops, 1)]
    write_xlsx(settings.landing_dir / name, {"ThongTin": info_rows(unit, year), "HTX": rows})


def _warnings(settings) -> set[tuple]:
    return set(
        query(
            settings,
            "select i.file_name, r.rule, r.excel_row, r.column_name from audit.rejected_row r "
            "join audit.file_ingestion i using (file_id) where r.severity = 'warning'",
        )
    )


def _warnings_with_values(settings) -> set[tuple]:
    return set(
        query(
            settings,
            "select i.file_name, r.rule, r.excel_row, r.value from audit.rejected_row r "
            "join audit.file_ingestion i using (file_id) where r.severity = 'warning'",
        )
    )


def test_tenfold_revenue_jump_is_a_warning_on_the_later_row(settings):
    coops = [(f"64000000{i:02d}", {}) for i in range(1, 6)]
    _workbook(settings, "663_2022.xlsx", "663", 2022, coops)
    jumped = [*coops[:4], ("6400000005", {"Doanh thu": 16500})]  # 1650 -> 16500: 10x
    _workbook(
        settings, "663_2023.xlsx", "663", 2023, [*jumped[:4], ("6400000005", {"Doanh thu": 17000})]
    )
    run_steps(settings)
    assert ("663_2023.xlsx", "revenue_jump", 6, "Doanh thu") in _warnings(settings)
    [(value,)] = query(settings, "select value from audit.rejected_row where rule = 'revenue_jump'")
    assert value == "17000 (2022: 1650)"  # as the clerk wrote them, not `17000.000000`
    statuses = set(query(settings, "select status from audit.file_ingestion"))
    assert statuses == {("loaded",)}


def test_revenue_from_zero_the_year_before_is_a_jump_and_zero_again_is_not(settings):
    """Any revenue is more than ten times 0: 0 in 2022 and 1650 in 2023 is `revenue_jump`;
    0 both years is no change."""
    coops = [(f"64000000{i:02d}", {"Doanh thu": 0}) for i in range(1, 6)]
    _workbook(settings, "663_2022.xlsx", "663", 2022, coops)
    _workbook(settings, "663_2023.xlsx", "663", 2023, [*coops[:4], ("6400000005", {})])
    run_steps(settings)
    jumps = [w for w in _warnings_with_values(settings) if w[1] == "revenue_jump"]
    assert [w[:3] for w in jumps] == [("663_2023.xlsx", "revenue_jump", 6)]
    assert jumps[0][3] == "1650 (2022: 0)"


def test_code_reported_by_two_units_in_one_year_is_a_warning(settings):
    _workbook(settings, "663_2023.xlsx", "663", 2023, [("6400000001", {}), ("6400000002", {})])
    _workbook(settings, "664_2023.xlsx", "664", 2023, [("6400000001", {"Xã/Phường": "Nâm Nung"})])
    run_steps(settings)
    found = {w for w in _warnings_with_values(settings) if w[1] == "coop_code_in_two_units"}
    # The value names the units and the one whose row counts (no history: the lower code),
    # so that each clerk knows whom to agree with and whether their row is in the warehouse.
    assert found == {
        ("663_2023.xlsx", "coop_code_in_two_units", 2, "6400000001 (663, 664; tính/counted: 663)"),
        ("664_2023.xlsx", "coop_code_in_two_units", 2, "6400000001 (663, 664; tính/counted: 663)"),
    }
    assert query(
        settings, "select unit_code from core.fact_cooperative_year where coop_code = '6400000001'"
    ) == [("663",)]


def test_of_two_units_reporting_a_code_the_one_that_reported_it_before_counts(settings):
    """The cooperative's own history decides which of two districts' rows of a year counts:
    664 reported it in 2022, so 664's 2023 row counts, not 663's (the lower code), whatever
    the files' hashes."""
    _workbook(settings, "664_2022.xlsx", "664", 2022, [("6400000001", {"Xã/Phường": "Nâm Nung"})])
    _workbook(settings, "663_2023.xlsx", "663", 2023, [("6400000001", {"Doanh thu": 111})])
    _workbook(settings, "664_2023.xlsx", "664", 2023, [("6400000001", {"Xã/Phường": "Nâm Nung"})])
    run_steps(settings)
    found = {w[3] for w in _warnings_with_values(settings) if w[1] == "coop_code_in_two_units"}
    assert found == {"6400000001 (663, 664; tính/counted: 664)"}
    assert query(
        settings,
        "select f.unit_code, f.revenue_mvnd from core.fact_cooperative_year as f "
        "join core.dim_period as p using (period_key) "
        "where f.coop_code = '6400000001' and p.year = 2023",
    ) == [("664", 1650.0)]


def test_unit_count_change_over_30_percent_and_missing_cooperatives_are_warnings(settings):
    ten = [(f"64000000{i:02d}", {}) for i in range(10)]
    _workbook(settings, "663_2022.xlsx", "663", 2022, ten)
    _workbook(settings, "663_2023.xlsx", "663", 2023, ten[:6])  # -40%
    _workbook(settings, "664_2022.xlsx", "664", 2022, [("6411111111", {"Xã/Phường": "Nâm Nung"})])
    run_steps(settings)
    rules = {(f, r) for f, r, _, _ in _warnings(settings)}
    assert ("663_2023.xlsx", "unit_count_change") in rules
    # The four cooperatives 663 no longer lists are warned on its 2023 report; 664 sent no
    # 2023 report, so nothing covers its area that year: no warning (no unit_missing_year).
    missing = {
        (f, v) for f, r, _, v in _warnings_with_values(settings) if r == "coop_missing_next_year"
    }
    assert missing == {("663_2023.xlsx", f"64000000{i:02d} (2022: 663)") for i in range(6, 10)}
    assert not {r for f, r in rules if f == "664_2022.xlsx"}


def test_cross_warnings_are_alerted_once(settings):
    coops = [(f"64000000{i:02d}", {}) for i in range(1, 6)]
    _workbook(settings, "663_2022.xlsx", "663", 2022, coops)
    run_steps(settings, "run-1")
    assert query(settings, "select count(*) from audit.quality_alert") == [(0,)]
    _workbook(
        settings, "663_2023.xlsx", "663", 2023, [*coops[:4], ("6400000005", {"Doanh thu": 99999})]
    )
    run_steps(settings, "run-2")
    [(subject, body)] = query(settings, "select subject, body from audit.quality_alert")
    assert "cảnh báo" in subject
    assert "revenue_jump" in body
    assert "663_2023.xlsx" in body
    run_steps(settings, "run-3")
    assert query(settings, "select count(*) from audit.quality_alert") == [(1,)]


def test_a_missing_cooperative_is_listed_under_the_sheet_the_clerk_named(settings):
    """The 2023 report's HTX table is on a sheet of another name (rule 17): the warning that
    it lacks a cooperative of 2022 names that sheet, one the clerk's workbook has."""
    coops = [(f"64000000{i:02d}", {}) for i in range(1, 7)]
    _workbook(settings, "663_2022.xlsx", "663", 2022, coops)
    rows = [HTX_HEADER] + [htx_row(i, code) for i, (code, _) in enumerate(coops[:5], 1)]
    write_xlsx(
        settings.landing_dir / "663_2023.xlsx",
        {"ThongTin": info_rows("663", 2023), "Danh sách HTX": rows},
    )
    run_steps(settings)
    found = query(
        settings,
        "select i.file_name, r.sheet, r.value from audit.rejected_row r "
        "join audit.file_ingestion i using (file_id) where r.rule = 'coop_missing_next_year'",
    )
    assert found == [("663_2023.xlsx", "Danh sách HTX", "6400000006 (2022: 663)")]


def test_revenue_exactly_ten_times_or_a_tenth_is_no_jump_just_beyond_is(settings):
    """The contract warns on revenue *more than* 10× or *less than* a tenth of the year
    before: exactly 10× or exactly a tenth is no jump, whatever the amounts' decimals
    (100,07 -> 1000,7 and 1001 -> 100,1 divide in binary to just past the bound);
    just beyond either bound is. Members alike: 10 -> 100 and 50 -> 5 are none, 101 is."""
    before = {
        "6400000001": {"Doanh thu": 1650},
        "6400000002": {"Doanh thu": 1650},
        "6400000003": {"Doanh thu": 100.07},
        "6400000004": {"Doanh thu": 1001},
        "6400000005": {"Doanh thu": 1001},
        "6400000006": {"Doanh thu": 100.07},
        "6400000007": {"Số thành viên": 10},
        "6400000008": {"Số thành viên": 50},
        "6400000009": {"Số thành viên": 10},
    }
    after = {
        "6400000001": {"Doanh thu": 16500},  # 10× exactly
        "6400000002": {"Doanh thu": 16500.01},  # just above 10×
        "6400000003": {"Doanh thu": 1000.7},  # 10× exactly
        "6400000004": {"Doanh thu": 100.1},  # a tenth exactly
        "6400000005": {"Doanh thu": 100.09},  # just under a tenth
        "6400000006": {"Doanh thu": 1000.71},  # just above 10×
        "6400000007": {"Số thành viên": 100},  # 10× exactly
        "6400000008": {"Số thành viên": 5},  # a tenth exactly
        "6400000009": {"Số thành viên": 101},  # just above 10×
    }
    _workbook(settings, "663_2022.xlsx", "663", 2022, list(before.items()))
    _workbook(settings, "663_2023.xlsx", "663", 2023, list(after.items()))
    run_steps(settings)
    jumps = {
        (r, row) for f, r, row, _ in _warnings(settings) if r in ("revenue_jump", "members_jump")
    }
    # Excel rows: the header is row 1, cooperative n is row n + 1.
    assert jumps == {
        ("revenue_jump", 3),
        ("revenue_jump", 6),
        ("revenue_jump", 7),
        ("members_jump", 10),
    }
    statuses = set(query(settings, "select status from audit.file_ingestion"))
    assert statuses == {("loaded",)}


def test_a_revenue_jump_writes_decimals_as_a_vietnamese_clerk_reads_them(settings):
    """`100.1 (2022: 1001)` reads to a Vietnamese clerk as 1001 against 1001 (`.` groups
    thousands, rule 5): the warning's value writes the decimal with a comma, as every
    other failing money value does."""
    coops = [(f"64000000{i:02d}", {}) for i in range(1, 5)]
    _workbook(settings, "663_2022.xlsx", "663", 2022, [*coops, ("6400000005", {"Doanh thu": 1001})])
    _workbook(settings, "663_2023.xlsx", "663", 2023, [*coops, ("6400000005", {"Doanh thu": 0.5})])
    run_steps(settings)
    [(value,)] = query(settings, "select value from audit.rejected_row where rule = 'revenue_jump'")
    assert value == "0,5 (2022: 1001)"


def test_an_empty_template_that_replaces_a_report_is_warned_and_names_it(settings):
    """A later file of the unit and year replaces its report, also an empty template (the HTX
    sheet's header, no cooperative): the contract does not reject it, so the unit's
    cooperatives of the year leave the warehouse. Never in silence: the template gets a
    warning that its sheet lists no cooperative, and one naming the report it replaces,
    recorded, alerted, in the quality report and marked in the clerk's feedback."""
    coops = [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "6400000002")]
    write_xlsx(
        settings.landing_dir / "663_2023.xlsx",
        {"ThongTin": info_rows("663", 2023, dt.date(2024, 1, 10)), "HTX": coops},
    )
    run_steps(settings, "run-1")
    [(real_id,)] = query(settings, "select file_id from audit.file_ingestion")
    write_xlsx(
        settings.landing_dir / "663_2023_mau.xlsx",
        {"ThongTin": info_rows("663", 2023, dt.date(2024, 2, 1)), "HTX": [HTX_HEADER]},
    )
    run_steps(settings, "run-2")
    statuses = dict(query(settings, "select file_name, status from audit.file_ingestion"))
    assert statuses == {"663_2023.xlsx": "superseded", "663_2023_mau.xlsx": "loaded"}
    assert query(settings, "select count(*) from core.fact_cooperative_year") == [(0,)]
    found = query(
        settings,
        "select r.rule, r.severity, r.sheet, r.excel_row, r.value, r.message "
        "from audit.rejected_row r join audit.file_ingestion i using (file_id) "
        "where i.file_name = '663_2023_mau.xlsx' order by r.rule",
    )
    assert [row[:5] for row in found] == [
        ("empty_report_replaces", "warning", "HTX", None, f"663_2023.xlsx (file_id {real_id})"),
        ("htx_sheet_empty", "warning", "HTX", 1, None),
    ]
    vi, en = halves(found[0][5])
    assert "không liệt kê HTX nào" in vi
    assert "không còn được tính" in vi
    assert "lists no cooperative" in en
    assert "no longer counted" in en
    # The alert names the template and both rules.
    [(body,)] = query(settings, "select body from audit.quality_alert")
    assert "663_2023_mau.xlsx" in body
    assert "empty_report_replaces" in body
    assert "htx_sheet_empty" in body
    # The quality report's page of the file shows them, with the file replaced.
    [(file_id, sha)] = query(
        settings,
        "select file_id, sha256 from audit.file_ingestion where file_name = '663_2023_mau.xlsx'",
    )
    page = (settings.export_dir / "quality" / f"{file_id}.html").read_text(encoding="utf-8")
    assert "empty_report_replaces" in page
    assert "htx_sheet_empty" in page
    assert "663_2023.xlsx (file_id" in page
    # The clerk's feedback lists both and marks the header of the code column.
    feedback = openpyxl.load_workbook(
        settings.export_dir / "feedback" / f"663_2023_mau_loi_{sha[:8]}.xlsx"
    )
    listed = {row[6] for row in feedback["Loi"].iter_rows(values_only=True)}
    assert {"empty_report_replaces", "htx_sheet_empty"} <= listed
    assert feedback["HTX"]["B1"].fill.fgColor.rgb not in (None, "00000000")


def test_an_empty_template_replacing_nothing_or_another_template_names_no_report(settings):
    """An empty first report, or one replacing another empty one, replaces no cooperative:
    only the warning that its sheet lists none."""
    for name, prepared in (("663_2023.xlsx", dt.date(2024, 1, 10)), ("663_2023_b.xlsx", None)):
        write_xlsx(
            settings.landing_dir / name,
            {"ThongTin": info_rows("663", 2023, prepared), "HTX": [HTX_HEADER]},
        )
    run_steps(settings)
    rules = {(f, r) for f, r, _, _ in _warnings(settings)}
    assert rules == {("663_2023.xlsx", "htx_sheet_empty"), ("663_2023_b.xlsx", "htx_sheet_empty")}


def test_a_rejected_file_with_an_empty_htx_sheet_is_not_told_it_loads(settings):
    """`htx_sheet_empty` says the file loads as a report of no cooperative and replaces the
    unit's report: said of a file that is rejected (its HoTro rows name cooperatives its
    empty HTX sheet lacks; or no unit or year), it says the opposite of what happened."""
    support = [SUPPORT_HEADER, ["6400000001", "NTM", "Máy sấy", "Tỉnh", 100, 2023]]
    write_xlsx(
        settings.landing_dir / "663_2023.xlsx",
        {"ThongTin": info_rows("663", 2023), "HTX": [HTX_HEADER], "HoTro": support},
    )
    write_xlsx(settings.landing_dir / "bao_cao.xlsx", {"HTX": [HTX_HEADER]})
    run_steps(settings)
    statuses = dict(query(settings, "select file_name, status from audit.file_ingestion"))
    assert statuses == {"663_2023.xlsx": "quarantined", "bao_cao.xlsx": "quarantined"}
    rules = query(
        settings,
        "select distinct i.file_name, r.rule from audit.rejected_row r "
        "join audit.file_ingestion i using (file_id) order by all",
    )
    assert ("663_2023.xlsx", "coop_in_htx_sheet") in rules
    assert [r for r in rules if r[1] == "htx_sheet_empty"] == []
