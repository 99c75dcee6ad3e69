"""The load SQL and the marts, on small hand-made workbooks and real DuckDB files."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from pathlib import Path

import openpyxl
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


def workbook(settings, name, unit, year, coops, *, prepared=None, support=(), ocop=(), links=()):
    rows = [HTX_HEADER] + [htx_row(i, code, **values) for i, (code, values) in enumerate(coops, 1)]
    sheets = {"ThongTin": info_rows(unit, year, prepared), "HTX": rows}
    if support:
        sheets["HoTro"] = [SUPPORT_HEADER, *support]
    if ocop:
        sheets["OCOP"] = [OCOP_HEADER, *ocop]
    if links:
        sheets["LienKet"] = [LINK_HEADER, *links]
    return write_xlsx(settings.landing_dir / name, sheets)


def test_rename_opens_a_new_version_and_facts_point_to_their_year(settings):
    for year, name in ((2021, "HTX A"), (2022, "HTX A"), (2023, "HTX B")):
        workbook(settings, f"663_{year}.xlsx", "663", year, [("6400000001", {"Tên HTX": name})])
    run_steps(settings)
    versions = query(
        settings,
        "select name, valid_from_year, valid_to_year, is_current from core.dim_cooperative "
        "order by valid_from_year",
    )
    assert versions == [("HTX A", 2021, 2022, False), ("HTX B", 2023, None, True)]
    facts = query(
        settings,
        "select f.period_key, d.name from core.fact_cooperative_year f "
        "join core.dim_cooperative d using (cooperative_key) order by 1",
    )
    assert facts == [(2021, "HTX A"), (2022, "HTX A"), (2023, "HTX B")]


def test_resubmission_replaces_the_earlier_file_and_copies_are_duplicates(settings):
    coops = [("6400000001", {}), ("6400000002", {})]
    first = workbook(settings, "663_2023.xlsx", "663", 2023, coops, prepared=dt.date(2024, 1, 10))
    corrected = [("6400000001", {"Doanh thu": 2000}), ("6400000002", {}), ("6400000003", {})]
    workbook(settings, "663_2023_bosung.xlsx", "663", 2023, corrected, prepared=dt.date(2024, 2, 1))
    (settings.landing_dir / "copy of 663_2023.xlsx").write_bytes(first.read_bytes())
    run_steps(settings)
    statuses = dict(query(settings, "select file_name, status from audit.file_ingestion"))
    assert statuses == {
        "663_2023.xlsx": "superseded",
        "663_2023_bosung.xlsx": "loaded",
        "copy of 663_2023.xlsx": "duplicate",
    }
    facts = query(
        settings,
        "select coop_code, revenue_mvnd from core.fact_cooperative_year order by coop_code",
    )
    assert facts == [("6400000001", 2000.0), ("6400000002", 1650.0), ("6400000003", 1650.0)]
    superseded_reason = query(
        settings, "select reason from audit.file_ingestion where status = 'superseded'"
    )[0][0]
    assert "Đã được thay thế" in superseded_reason
    assert "Replaced by" in superseded_reason


def test_a_resubmission_without_its_date_is_judged_by_arrival(settings):
    """ "Later means: a later `Ngày lập`, or, where that is equal or missing, the later
    arrival": an undated correction replaces the dated file before it, and a dated file
    after it replaces it in turn."""
    workbook(
        settings, "663_2023.xlsx", "663", 2023, [("6400000001", {})], prepared=dt.date(2024, 1, 20)
    )
    run_steps(settings, "run-1")
    undated = [row for row in info_rows("663", 2023) if row[0] != "Ngày lập"]
    htx = [HTX_HEADER, htx_row(1, "6400000001", **{"Doanh thu": 2000})]
    write_xlsx(settings.landing_dir / "663_2023_bosung.xlsx", {"ThongTin": undated, "HTX": htx})
    run_steps(settings, "run-2")
    statuses = dict(query(settings, "select file_name, status from audit.file_ingestion"))
    assert statuses == {"663_2023.xlsx": "superseded", "663_2023_bosung.xlsx": "loaded"}
    assert query(settings, "select revenue_mvnd from core.fact_cooperative_year") == [(2000.0,)]
    third = [("6400000001", {"Doanh thu": 3000})]
    workbook(settings, "663_2023_lan3.xlsx", "663", 2023, third, prepared=dt.date(2024, 1, 5))
    run_steps(settings, "run-3")
    statuses = dict(query(settings, "select file_name, status from audit.file_ingestion"))
    assert statuses == {
        "663_2023.xlsx": "superseded",
        "663_2023_bosung.xlsx": "superseded",
        "663_2023_lan3.xlsx": "loaded",
    }
    assert query(settings, "select revenue_mvnd from core.fact_cooperative_year") == [(3000.0,)]


def test_a_ngay_lap_as_a_document_writes_it_orders_resubmissions(settings):
    """`ngày 01/02/2024` is that date: the earlier-dated file arriving later does not replace
    it. A Ngày lập that is no date loads, as a file without one, with a warning on its cell
    that says what then counts (the later arrival)."""

    def with_date(written: object) -> list[list]:
        return [
            [label, written if label == "Ngày lập" else value]
            for label, value in info_rows("663", 2023)
        ]

    htx = [HTX_HEADER, htx_row(1, "6400000001", **{"Doanh thu": 2000})]
    write_xlsx(
        settings.landing_dir / "663_2023.xlsx",
        {"ThongTin": with_date("Đắk Mil, ngày 01 tháng 02 năm 2024"), "HTX": htx},
    )
    run_steps(settings, "run-1")
    older = [HTX_HEADER, htx_row(1, "6400000001", **{"Doanh thu": 9})]
    write_xlsx(
        settings.landing_dir / "663_2023_cu.xlsx",
        {"ThongTin": with_date("ngày 10/01/2024"), "HTX": older},
    )
    write_xlsx(
        settings.landing_dir / "664_2023.xlsx",
        {"ThongTin": [[k, "sắp gửi" if k == "Ngày lập" else v] for k, v in info_rows("664")],
         "HTX": [HTX_HEADER, htx_row(1, "6400000002")]},
    )  # fmt: skip
    run_steps(settings, "run-2")
    files = query(
        settings,
        "select file_name, status, prepared_on from audit.file_ingestion order by file_name",
    )
    assert files == [
        ("663_2023.xlsx", "loaded", dt.date(2024, 2, 1)),
        ("663_2023_cu.xlsx", "superseded", dt.date(2024, 1, 10)),
        ("664_2023.xlsx", "loaded", None),
    ]
    revenues = query(
        settings, "select coop_code, revenue_mvnd from core.fact_cooperative_year order by 1"
    )
    assert revenues == [("6400000001", 2000.0), ("6400000002", 1650.0)]
    [warning] = query(
        settings,
        "select r.severity, r.sheet, r.excel_row, r.cell, r.value, r.message "
        "from audit.rejected_row r join audit.file_ingestion i using (file_id) "
        "where i.file_name = '664_2023.xlsx' and r.rule = 'prepared_on_unreadable'",
    )
    severity, sheet, row, cell, value, message = warning
    assert (severity, sheet, row, cell, value) == ("warning", "ThongTin", 5, "B5", "sắp gửi")
    vi, en = message.split(" / ")
    assert "Không đọc được 'Ngày lập' 'sắp gửi'" in vi
    assert "the file that arrives later counts" in en
    # the clerk's feedback workbook marks the cell
    [(sha,)] = query(
        settings, "select sha256 from audit.file_ingestion where file_name = ?", ["664_2023.xlsx"]
    )
    feedback = openpyxl.load_workbook(
        settings.export_dir / "feedback" / f"664_2023_loi_{sha[:8]}.xlsx"
    )
    assert feedback["ThongTin"]["B5"].fill.fgColor.rgb not in (None, "00000000")
    listed = [row for row in feedback["Loi"].iter_rows(values_only=True) if "sắp gửi" in row]
    assert len(listed) == 1


def test_an_earlier_dated_file_arriving_later_does_not_replace(settings):
    workbook(
        settings, "663_2023.xlsx", "663", 2023, [("6400000001", {})], prepared=dt.date(2024, 2, 1)
    )
    run_steps(settings, "run-1")
    older = [("6400000001", {"Doanh thu": 9})]
    workbook(settings, "663_2023_cu.xlsx", "663", 2023, older, prepared=dt.date(2024, 1, 10))
    run_steps(settings, "run-2")
    statuses = dict(query(settings, "select file_name, status from audit.file_ingestion"))
    assert statuses == {"663_2023.xlsx": "loaded", "663_2023_cu.xlsx": "superseded"}
    # The clerk is told which file counts and why: it came first, with a later Ngày lập.
    [(reason,)] = query(
        settings, "select reason from audit.file_ingestion where status = 'superseded'"
    )
    vietnamese, english = reason.split(" / ")
    assert "'663_2023.xlsx'" in vietnamese
    assert "Ngày lập 01/02/2024" in vietnamese
    assert "gửi sau" not in vietnamese
    assert "'663_2023.xlsx'" in english
    assert "later Ngày lập (01/02/2024" in english
    # ... and hears it: run 2's alert names the file as not used, with that reason and what
    # to do, never silence; no feedback workbook (no cell of it is wrong).
    [(subject, body)] = query(
        settings, "select subject, body from audit.quality_alert where run_id = 'run-2'"
    )
    assert subject == (
        "[HTX] 0 tệp bị từ chối, 0 tệp có cảnh báo, 1 tệp không được dùng / "
        "0 file(s) quarantined, 0 with warnings, 1 not used: 663_2023_cu.xlsx"
    )
    assert (
        f"- 663_2023_cu.xlsx (đơn vị / unit 663 Huyện Đắk Mil, năm / year 2023): {reason}" in body
    )
    assert "sửa Ngày lập trong trang ThongTin" in body
    assert "set its Ngày lập in the ThongTin sheet" in body
    from etl.quality.alerts import file_ids

    assert file_ids(body) == []


def test_an_earlier_dated_file_landing_later_in_the_same_run_is_named_not_used(settings):
    """Two files of a unit and year found by one run: the one that landed later (the clerk's
    correction, its Ngày lập mistyped older) does not count, and its clerk is told so, as
    when it arrives in a run of its own. The one that landed first needs no word."""
    for name, prepared, hour in (
        ("663_2023.xlsx", dt.date(2024, 2, 1), 8),
        ("663_2023_sua.xlsx", dt.date(2024, 1, 10), 9),
    ):
        path = workbook(settings, name, "663", 2023, [("6400000001", {})], prepared=prepared)
        landed = dt.datetime(2024, 2, 5, hour, tzinfo=dt.UTC).timestamp()
        os.utime(path, (landed, landed))
    run_steps(settings)
    statuses = dict(query(settings, "select file_name, status from audit.file_ingestion"))
    assert statuses == {"663_2023.xlsx": "loaded", "663_2023_sua.xlsx": "superseded"}
    bodies = [b for (b,) in query(settings, "select body from audit.quality_alert")]
    assert [b for b in bodies if "- 663_2023_sua.xlsx (đơn vị / unit 663" in b]


@pytest.mark.parametrize("later", ["663_2023.xlsx", "663_2023_a_sua.xlsx"])
def test_of_two_files_one_run_finds_the_one_that_landed_later_counts(settings, later):
    """Same `Ngày lập`, found by the same run: the later arrival is the one that landed later
    in the landing folder (its modification time), whatever the names' order."""
    prepared = dt.date(2024, 1, 20)
    for name, revenue in (("663_2023.xlsx", 100), ("663_2023_a_sua.xlsx", 200)):
        coops = [("6400000001", {"Doanh thu": revenue})]
        path = workbook(settings, name, "663", 2023, coops, prepared=prepared)
        landed = dt.datetime(2024, 1, 21, 8 if name != later else 9, tzinfo=dt.UTC).timestamp()
        os.utime(path, (landed, landed))
    run_steps(settings)
    statuses = dict(query(settings, "select file_name, status from audit.file_ingestion"))
    assert statuses[later] == "loaded"
    assert sorted(statuses.values()) == ["loaded", "superseded"]
    [(revenue,)] = query(settings, "select revenue_mvnd from core.fact_cooperative_year")
    assert revenue == (100.0 if later == "663_2023.xlsx" else 200.0)
    [(landed_at,)] = query(
        settings, "select landed_at from audit.file_ingestion where file_name = ?", [later]
    )
    assert landed_at == dt.datetime(2024, 1, 21, 9, tzinfo=dt.UTC)


def test_every_fact_leads_back_to_its_file_and_excel_row(settings):
    workbook(settings, "663_2023.xlsx", "663", 2023, [("6400000001", {}), ("6400000002", {})])
    run_steps(settings)
    rows = query(
        settings,
        "select f.coop_code, i.file_name, f.source_sheet, f.excel_row "
        "from core.fact_cooperative_year f "
        "join audit.file_ingestion i using (file_id) order by f.excel_row",
    )
    assert rows == [
        ("6400000001", "663_2023.xlsx", "HTX", 2),
        ("6400000002", "663_2023.xlsx", "HTX", 3),
    ]


def test_replication_candidates_follow_the_configured_criteria(settings):
    good = {"Xếp loại": "Tốt", "Điểm": 85, "Liên kết tiêu thụ": "Có"}
    years = {
        # code: per-year overrides 2021, 2022, 2023
        "6400000001": [{}, {}, good],  # profitable 3 years, Tốt, offtake: candidate
        "6400000002": [{"Lợi nhuận trước thuế": -5}, {}, good],  # loss in 2021
        "6400000003": [{}, {}, {}],  # Khá
        "6400000004": [{}, {}, {**good, "Liên kết tiêu thụ": "Không"}],  # no market link
        "6400000005": [{}, {}, {**good, "Điểm": 92, "Liên kết tiêu thụ": "Không"}],  # OCOP
        "6400000006": [None, {}, good],  # two reported years only
    }
    for i, year in enumerate((2021, 2022, 2023)):
        coops = [(code, v[i]) for code, v in years.items() if v[i] is not None]
        ocop = (
            [["6400000005", "Mật ong", "Thực phẩm", 4, "5/QĐ", dt.date(2022, 6, 1)]]
            if year == 2023
            else ()
        )
        workbook(settings, f"663_{year}.xlsx", "663", year, coops, ocop=ocop)
    run_steps(settings)
    assessed = query(
        settings,
        "select coop_code, meets_profit_criterion, meets_rating_criterion, "
        "meets_market_link_criterion, is_candidate, district_rank "
        "from marts.replication_candidates order by coop_code",
    )
    assert assessed == [
        ("6400000001", True, True, True, True, 2),
        ("6400000002", False, True, True, False, None),
        ("6400000003", True, False, False, False, None),
        ("6400000004", True, True, False, False, None),
        ("6400000005", True, True, True, True, 1),
        ("6400000006", False, True, True, False, None),
    ]


def test_district_year_adds_up_a_hand_computed_fixture(settings):
    coops = [
        ("6400000001", {"Số thành viên": 10, "Doanh thu": 100, "Xếp loại": "Tốt", "Điểm": 90}),
        (
            "6400000002",
            {"Số thành viên": 20, "Doanh thu": "1.250", "Ngày thành lập": dt.date(2023, 2, 1)},
        ),
        ("6400000003", {"Số thành viên": 30, "Doanh thu": None, "Xếp loại": "Yếu", "Điểm": 30}),
    ]
    support = [
        ["6400000001", "DA167", "Tư vấn", "Trung ương", 300, 2023],
        ["6400000001", "NTM", "Máy", "Tỉnh", "1.000,5", 2023],
        ["6400000002", "NTM", "Kho", "Huyện", 50, 2023],
    ]
    ocop = [["6400000001", "Cà phê", "Đồ uống", 4, "1/QĐ", dt.date(2023, 3, 1)]]
    workbook(settings, "663_2023.xlsx", "663", 2023, coops, support=support, ocop=ocop)
    run_steps(settings)
    row = query(
        settings,
        "select district_code, cooperatives, new_cooperatives, members, revenue_mvnd, rated_tot, "
        "rated_kha, rated_yeu, ocop_products, support_da167_mvnd, support_ntm_mvnd, "
        "support_total_mvnd from marts.district_year",
    )
    assert row == [("663", 3, 1, 60, 1350.0, 1, 1, 1, 1, 300.0, 1050.5, 1350.5)]
    programs = query(
        settings,
        "select program_code, amount_mvnd, cooperatives_reached from marts.program_year "
        "order by program_code",
    )
    assert programs == [("DA167", 300.0, 1), ("NTM", 1050.5, 2)]


def test_province_report_after_the_merger_keeps_history_attributable(settings):
    workbook(settings, "663_2024.xlsx", "663", 2024, [("6400000001", {}), ("6400000002", {})])
    coops = [
        ("6400000001", {}),  # legacy commune Đức Mạnh of district 663
        ("6400000002", {"Xã/Phường": "Xã Đức Lập Mới"}),  # a new commune: carried forward
        ("6400000009", {"Xã/Phường": "Xã Đức Lập Mới"}),  # first seen in 2025: unattributed
    ]
    workbook(settings, "68_2025.xlsx", "68", 2025, coops)
    run_steps(settings)
    rows = query(
        settings,
        "select coop_code, district_code, attribution_carried_forward "
        "from marts.cooperative_district_year where year = 2025 order by coop_code",
    )
    assert rows == [
        ("6400000001", "663", False),
        ("6400000002", "663", True),
        ("6400000009", None, False),
    ]
    unattributed = query(
        settings, "select cooperatives from marts.district_year where district_code is null"
    )
    assert unattributed == [(1,)]


def test_a_units_losing_report_is_no_history_for_the_next_year(settings):
    """Krông Nô (664) alone reports the cooperative in 2021; Đắk Mil (663, the lower code)
    reports it too in 2022 and 2023. 664 wins 2022 by the cooperative's history, and only
    that winning report is history: 664 wins 2023 as well, so the cooperative neither moves
    district nor opens a second version."""
    krong_no = [("6400000001", {"Xã/Phường": "Nam Đà"})]
    dak_mil = [("6400000001", {"Xã/Phường": "Đức Mạnh"})]
    for year in (2021, 2022, 2023):
        workbook(settings, f"664_{year}.xlsx", "664", year, krong_no)
    for year in (2022, 2023):
        workbook(settings, f"663_{year}.xlsx", "663", year, dak_mil)
    run_steps(settings)
    winners = query(
        settings,
        "select distinct p.report_year, f.file_name from audit.report_precedence as p "
        "join audit.file_ingestion as f on f.file_id = p.winner_file_id order by 1",
    )
    assert winners == [(2021, "664_2021.xlsx"), (2022, "664_2022.xlsx"), (2023, "664_2023.xlsx")]
    versions = query(
        settings,
        "select commune_name, valid_from_year, valid_to_year from core.dim_cooperative",
    )
    assert versions == [("Nam Đà", 2021, None)]


def test_second_run_with_nothing_new_changes_nothing(settings):
    workbook(settings, "663_2023.xlsx", "663", 2023, [("6400000001", {})])
    assert run_steps(settings, "run-1")["changed"] is True
    before = hashlib.sha256(settings.warehouse.read_bytes()).hexdigest()
    assert run_steps(settings, "run-2")["changed"] is False
    assert hashlib.sha256(settings.warehouse.read_bytes()).hexdigest() == before


def test_landing_files_are_never_modified(settings):
    path = workbook(settings, "663_2023.xlsx", "663", 2023, [("6400000001", {})])
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    run_steps(settings)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    [(raw_path,)] = query(settings, "select raw_path from audit.file_ingestion")
    assert Path(raw_path).read_bytes() == before[0]


@pytest.mark.parametrize("criteria_years", [2, 4])
def test_profit_criterion_reads_the_configuration_file(
    settings, criteria_years, monkeypatch, tmp_path
):
    from etl.warehouse import build

    # Every configuration file (the build's fingerprint reads them too), one criterion changed.
    config = tmp_path / "config"
    shutil.copytree(build.CONFIG_DIR, config)
    criteria = config / "replication_criteria.toml"
    text = criteria.read_text()
    criteria.write_text(
        text.replace("consecutive_years = 3", f"consecutive_years = {criteria_years}")
    )
    monkeypatch.setattr(build, "CONFIG_DIR", config)
    good = {"Xếp loại": "Tốt", "Điểm": 85, "Liên kết tiêu thụ": "Có"}
    for year in (2021, 2022, 2023):
        workbook(settings, f"663_{year}.xlsx", "663", year, [("6400000001", good)])
    run_steps(settings)
    [(met,)] = query(settings, "select meets_profit_criterion from marts.replication_candidates")
    assert met is (criteria_years <= 3)


def test_commune_named_in_two_districts_of_a_province_report_goes_to_the_coops_own(settings):
    # `Tân Thành` is a commune of Krông Nô (664, old Đắk Nông) and of 678 (old Lâm Đồng).
    for year in (2023, 2024):
        workbook(
            settings, f"664_{year}.xlsx", "664", year, [("6400000001", {"Xã/Phường": "Tân Thành"})]
        )
    workbook(settings, "68_2025.xlsx", "68", 2025, [("6400000001", {"Xã/Phường": "Tân Thành"})])
    for run in ("run-1", "run-2"):
        run_steps(settings, run)
        rows = query(
            settings,
            "select year, district_code, attribution_carried_forward "
            "from marts.cooperative_district_year order by year",
        )
        assert rows == [(2023, "664", False), (2024, "664", False), (2025, "664", False)]


def test_tone_marks_do_not_decide_between_communes(settings):
    # New in 2025, no earlier district: tone marks do not count (workbook contract), so
    # `Tân Thành` fits Tân Thành of 598, 664 and 678, Tân Thanh of 676 and the new commune
    # Tân Thành, which lead to different new communes: the commune is unknown.
    workbook(settings, "68_2025.xlsx", "68", 2025, [("6400000002", {"Xã/Phường": "Tân Thành"})])
    run_steps(settings)
    assert query(
        settings,
        "select g.level, g.province_code from core.fact_cooperative_year "
        "join core.dim_geography g using (geo_key)",
    ) == [("province", "68")]


def test_a_commune_named_with_its_prefix_is_that_commune(settings):
    # `Xã Đắk Gằn` in a district report of 2023 is Đắk Gằn of Đắk Mil, as `Đắk Gằn` is.
    workbook(
        settings,
        "663_2023.xlsx",
        "663",
        2023,
        [
            ("6400000003", {"Xã/Phường": "Xã Đắk Gằn"}),
            ("6400000004", {"Xã/Phường": "Đắk Gằn"}),
        ],
    )
    run_steps(settings)
    assert query(
        settings,
        "select distinct g.level, g.commune_name, g.district_code from core.fact_cooperative_year "
        "join core.dim_geography g using (geo_key)",
    ) == [("commune", "Xã Đắk Gằn", "663")]


def test_a_commune_typed_plainly_with_its_prefix_is_that_commune(settings):
    # `Xa Dak Gan` (no diacritics, the prefix typed plainly) in a district report of 2023:
    # validation knows it (one commune fits in plain letters), so the load places it too.
    workbook(
        settings,
        "663_2023.xlsx",
        "663",
        2023,
        [
            ("6400000003", {"Xã/Phường": "Xa Dak Gan"}),
            ("6400000004", {"Xã/Phường": "Thi tran Dak Mil"}),
        ],
    )
    run_steps(settings)
    assert query(settings, "select rule from audit.rejected_row where rule = 'commune_known'") == []
    assert query(
        settings,
        "select c.coop_code, g.commune_name, g.district_code, c.placement "
        "from core.fact_cooperative_year f join core.dim_geography g using (geo_key) "
        "join core.dim_cooperative c using (cooperative_key) order by c.coop_code",
    ) == [
        ("6400000003", "Xã Đắk Gằn", "663", "crosswalk"),
        ("6400000004", "Thị trấn Đắk Mil", "663", "crosswalk"),
    ]


def test_of_identical_files_one_run_finds_the_first_landed_is_loaded(settings):
    """Byte-identical files found together: the one that landed first is ingested and the
    later copy is its duplicate, whatever the names' order."""
    first = workbook(settings, "663_2023.xlsx", "663", 2023, [("6400000001", {})])
    copy = settings.landing_dir / "0_ban_sao.xlsx"
    copy.write_bytes(first.read_bytes())
    for path, hour in ((first, 8), (copy, 9)):
        landed = dt.datetime(2024, 1, 21, hour, tzinfo=dt.UTC).timestamp()
        os.utime(path, (landed, landed))
    run_steps(settings)
    statuses = dict(query(settings, "select file_name, status from audit.file_ingestion"))
    assert statuses == {"663_2023.xlsx": "loaded", "0_ban_sao.xlsx": "duplicate"}
    [(file_name,)] = query(
        settings,
        "select i.file_name from core.fact_cooperative_year join audit.file_ingestion i "
        "using (file_id)",
    )
    assert file_name == "663_2023.xlsx"


def test_a_file_rejected_for_its_table_keeps_its_unit_and_year(settings):
    """A file whose HTX sheet lacks a required column is rejected, but its ThongTin names
    its unit and year: the audit, the alert and the reporting status say them."""
    header = [h for h in HTX_HEADER if h != "Tên HTX"]
    row = [v for h, v in zip(HTX_HEADER, htx_row(1, "6400400001"), strict=True) if h != "Tên HTX"]
    write_xlsx(
        settings.landing_dir / "666_2024.xlsx",
        {"ThongTin": info_rows("666", 2024), "HTX": [header, row]},
    )
    run_steps(settings)
    [(status, unit, year, reason)] = query(
        settings, "select status, unit_code, report_year, reason from audit.file_ingestion"
    )
    assert (status, unit, year) == ("quarantined", "666", 2024)
    assert "Tên HTX" in reason
    assert query(
        settings,
        "select status from marts.reporting_status where unit_code = '666' and report_year = 2024",
    ) == [("quarantined",)]
    [(body,)] = query(settings, "select body from audit.quality_alert")
    assert "666_2024.xlsx" in body
    assert "?" not in body.split("666_2024.xlsx", 1)[1].split("\n", 1)[0]


def test_a_blank_amount_or_stars_loads_the_row_without_it_and_counts_no_zero(settings):
    """Rule 6: a blank `Kinh phí` or `Số sao` is not reported. The file loads, each such row
    is a fact with a NULL and a warning naming its sheet and Excel row. Sums count the
    amounts reported (a line without one adds nothing, and a programme or cooperative with
    none reported has no amount, not 0); a product without stars is a product, at no level."""
    coops = [("6400000001", {}), ("6400000002", {})]
    support = [
        ["6400000001", "NTM", "Máy", "Tỉnh", 300, 2023],
        ["6400000001", "DA167", "Tư vấn", "Trung ương", None, 2023],
        ["6400000002", "NTM", "Kho", "Tỉnh", "-", 2023],
    ]
    ocop = [
        ["6400000001", "Cà phê", "Đồ uống", 4, "1/QĐ", dt.date(2023, 3, 1)],
        ["6400000002", "Mật ong", "Thực phẩm", None, "2/QĐ", dt.date(2023, 3, 1)],
    ]
    links = [["6400000002", "Công ty A", "Cà phê", "–", None]]
    workbook(settings, "663_2023.xlsx", "663", 2023, coops, support=support, ocop=ocop, links=links)
    run_steps(settings)
    assert query(settings, "select status, warnings from audit.file_ingestion") == [("loaded", 3)]
    assert query(
        settings,
        "select sheet, excel_row, column_name, rule, severity from audit.rejected_row "
        "order by sheet, excel_row",
    ) == [
        ("HoTro", 3, "Kinh phí", "amount_required", "warning"),
        ("HoTro", 4, "Kinh phí", "amount_required", "warning"),
        ("OCOP", 3, "Số sao", "stars_required", "warning"),
    ]
    assert query(
        settings,
        "select coop_code, excel_row, amount_mvnd::double from core.fact_program_support "
        "order by excel_row",
    ) == [("6400000001", 2, 300.0), ("6400000001", 3, None), ("6400000002", 4, None)]
    assert query(
        settings, "select coop_code, stars from core.fact_ocop_product order by excel_row"
    ) == [("6400000001", 4), ("6400000002", None)]
    assert query(
        settings, "select volume_tonnes, contract_value_mvnd from core.fact_offtake_contract"
    ) == [(None, None)]
    programs = query(
        settings,
        "select program_code, amount_mvnd::double, support_lines, "
        "support_lines_without_amount, cooperatives_reached from marts.program_year "
        "order by program_code",
    )
    assert programs == [("DA167", None, 1, 1, 1), ("NTM", 300.0, 2, 1, 2)]
    district = query(
        settings,
        "select ocop_products, ocop_valid_products, support_ntm_mvnd::double, "
        "support_total_mvnd::double, support_da167_mvnd::double, support_ocop_mvnd::double "
        "from marts.district_year",
    )
    # DA167's one line lacks its amount: not reported, as in program_year, never 0; OCOP
    # has no line: 0.
    assert district == [(2, 2, 300.0, 300.0, None, 0.0)]
    communes = query(
        settings,
        "select sum(cooperatives)::int, sum(support_ntm_mvnd)::double, "
        "bool_and(support_da167_mvnd is null), sum(support_ocop_mvnd)::double "
        "from marts.commune_year where year = 2023",
    )
    assert communes == [(2, 300.0, True, 0.0)]
    scorecard = query(
        settings,
        "select coop_code, ocop_products, ocop_max_stars, ocop_valid_max_stars, "
        "support_total_mvnd::double, support_da167_mvnd::double, support_ntm_mvnd::double, "
        "support_ocop_mvnd::double, support_programs "
        "from marts.cooperative_scorecard order by coop_code",
    )
    assert scorecard == [
        ("6400000001", 1, 4, 4, 300.0, None, 300.0, 0.0, "DA167, NTM"),
        ("6400000002", 1, None, None, None, 0.0, None, 0.0, "NTM"),
    ]
    page = (settings.export_dir / "report.html").read_text()
    assert "Hỗ trợ theo chương trình" in page
