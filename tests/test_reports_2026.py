"""The reports in the new geography: the summary's lines on new communes and the officials'
HTML report's 2026–2030 phase by new commune, on small warehouses written here, with and
without the tables of the new geography (a warehouse built before them still reports)."""

from __future__ import annotations

import re

import duckdb
import pytest

from etl.config import load_settings
from etl.outputs.officials_report import PHASE_CHART_COMMUNES, write_dashboard
from etl.outputs.summary import new_geography_lines, summary_lines

# The marts the four charts of 2021–2025 read, as an old warehouse has them.
OLD_MARTS = """
create schema marts;
create table marts.district_year as
select * from (values
    ('660', 'Thành phố Gia Nghĩa', 2024, 1200.0, 1, 5, 6, 0, 0),
    ('660', 'Thành phố Gia Nghĩa', 2025, 1300.0, 1, 5, 6, 0, 1),
    ('663', 'Huyện Đắk Mil', 2024, 2100.5, 0, 9, 10, 1, 0),
    ('663', 'Huyện Đắk Mil', 2025, 2300.5, 1, 9, 9, 1, 0)
) as t(district_code, district_name, year, revenue_mvnd, rated_tot, rated_kha,
       rated_trung_binh, rated_yeu, unrated);
create table marts.program_year as
select * from (values ('DA167', 2025, 800.0), ('NTM', 2025, 300.0))
    as t(program_code, year, amount_mvnd);
create table marts.replication_candidates as
select * from (values
    ('6400000001', 'HTX Nông nghiệp Đắk Gằn', '663', 'Huyện Đắk Mil', 1, 88.5,
     2500.0::decimal(18, 6), true, true)
) as t(coop_code, name, district_code, district_name, district_rank, score, revenue_mvnd,
       in_da167, is_candidate);
"""

# The 2026–2030 phase by new commune, as marts.commune_year holds it (warehouse contract).
COMMUNE_YEAR = """
create table marts.commune_year as
select * from (values
    ('68', '24611', 'Phường Bắc Gia Nghĩa', 2025, 12, 900.0),
    ('68', '24611', 'Phường Bắc Gia Nghĩa', 2026, 14, 1000.0),
    ('68', '24670', 'Xã Đắk Mil', 2026, 20, 2000.0),
    ('68', '24670', 'Xã Đắk Mil', 2027, 21, 2100.0),
    ('68', null, null, 2026, 3, 120.0)
) as t(new_province_code, new_commune_code, new_commune_name, year, cooperatives,
       revenue_mvnd);
alter table marts.replication_candidates add column new_commune_name varchar;
alter table marts.replication_candidates add column commune_rank integer;
update marts.replication_candidates set new_commune_name = 'Xã Đắk Mil', commune_rank = 1;
"""


def _settings(tmp_path, *scripts: str):
    settings = load_settings(
        {
            "HTX_LANDING_DIR": str(tmp_path / "landing"),
            "HTX_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
            "HTX_STATE_DIR": str(tmp_path / "state"),
            "HTX_EXPORT_DIR": str(tmp_path / "exports"),
        }
    )
    con = duckdb.connect(str(settings.warehouse))
    try:
        for script in scripts:
            con.execute(script)
    finally:
        con.close()
    return settings


def _phase_section(page: str) -> str:
    found = re.search(r'<section id="phase-2026-2030">(.*?)</section>', page, re.S)
    assert found, "the report has no 2026-2030 section"
    return found.group(1)


def _bars(html: str) -> list[str]:
    """The bars Vega drew, each its description (`aria-label`), in drawing order."""
    return re.findall(r'<path aria-label="([^"]*)" role="graphics-symbol" '
                      r'aria-roledescription="bar"', html)  # fmt: skip


def test_report_of_an_old_warehouse_says_the_phase_has_no_figures_by_new_commune(tmp_path):
    settings = _settings(tmp_path, OLD_MARTS)
    page = write_dashboard(settings).read_text()
    assert page.count('<svg class="chart"') == 4
    phase = _phase_section(page)
    assert "Chưa có số liệu giai đoạn 2026-2030 theo xã, phường mới" in phase
    assert "<svg" not in phase
    assert "Xã, phường mới" not in page  # the candidates' table has no new commune column
    assert "HTX Nông nghiệp Đắk Gằn" in page


def test_report_shows_the_2026_2030_phase_by_new_commune(tmp_path):
    settings = _settings(tmp_path, OLD_MARTS, COMMUNE_YEAR)
    page = write_dashboard(settings).read_text()
    assert page.count('<svg class="chart"') == 5
    phase = _phase_section(page)
    # 2025 is history: the phase's years are 2026 and 2027, the chart the latest year's.
    assert re.findall(r"<th>Số HTX (\d{4})</th>", phase) == ["2026", "2027"]
    rows = re.findall(
        r"<tr><td>68</td><td>(\d*)</td><td>([^<]*)</td><td>(\d+)</td><td>(\d+)</td>", phase
    )
    assert rows == [
        ("24611", "Phường Bắc Gia Nghĩa", "14", "0"),
        ("24670", "Xã Đắk Mil", "20", "21"),
        ("", "Chưa xác định xã (đang rà soát)", "3", "0"),
    ]
    # Only placed communes are drawn; the cooperatives under review are not guessed into one.
    assert _bars(phase) == ["Xã Đắk Mil · 2027: 21", "Phường Bắc Gia Nghĩa · 2027: 0"]
    # The chart is Vega's SVG (rendered by vl-convert from an Altair spec): its bar marks'
    # group, the communes as axis labels and the count axis titled with its unit.
    chart = re.search(r'<svg class="chart"(.*?)</svg>', phase, re.S).group(1)
    assert 'class="mark-rect role-mark' in chart
    assert ">Xã Đắk Mil</text>" in chart
    assert ">Phường Bắc Gia Nghĩa</text>" in chart
    assert ">số HTX / cooperatives</text>" in chart
    assert "Đang rà soát" not in chart
    assert "Chưa xác định" not in chart
    assert "<th>Xã, phường mới</th><th>Hạng trong xã</th>" in page
    assert "<td>Xã Đắk Mil</td><td>1</td><td>6400000001</td>" in page


# The phase judged against its 2030 targets, as marts.commune_phase holds it.
COMMUNE_PHASE = """
create table marts.commune_phase as
select * from (values
    ('68', '24611', 900.0::decimal(38, 6), 1350.0, false, 2026, 0, 1),
    ('68', '24670', null, null, null, 2027, 2, 1),
    ('68', null, 100.0::decimal(38, 6), 150.0, true, 2026, 1, 1)
) as t(new_province_code, new_commune_code, revenue_baseline_mvnd, target_revenue_2030_mvnd,
       revenue_on_track, latest_year, replication_candidates, target_model_cooperatives_2030);
"""


def test_report_sets_each_commune_against_its_2030_target(tmp_path):
    settings = _settings(tmp_path, OLD_MARTS, COMMUNE_YEAR, COMMUNE_PHASE)
    phase = _phase_section(write_dashboard(settings).read_text())
    assert "<th>Mục tiêu doanh thu 2030 (triệu đồng)</th>" in phase
    cells = re.findall(
        r"<tr><td>68</td><td>(\d*)</td>(?:<td>[^<]*</td>){4}((?:<td>[^<]*</td>){4})", phase
    )
    assert cells == [
        # judged on its own latest year (2026), beside the table's latest (2027)
        ("24611", "<td>900.0</td><td>1,350.0</td><td>Chưa đạt (2026)</td><td>0 / 1</td>"),
        # a commune with no baseline year (its cooperatives report from 2026): no target yet
        ("24670", "<td></td><td></td><td></td><td>2 / 1</td>"),
        ("", "<td>100.0</td><td>150.0</td><td>Đạt (2026)</td><td>1 / 1</td>"),
    ]


def test_report_of_a_warehouse_without_commune_phase_has_no_target_columns(tmp_path):
    phase = _phase_section(
        write_dashboard(_settings(tmp_path, OLD_MARTS, COMMUNE_YEAR)).read_text()
    )
    assert "Mục tiêu doanh thu 2030" not in phase


def test_the_charts_of_2021_2025_hold_no_year_of_the_next_phase(tmp_path):
    """The first three charts are headed and introduced as 2021-2025 by former district:
    district_year and program_year carry 2026 on (carried forward to the former district),
    which belongs to the phase by new commune, not to these charts or their totals."""
    later = (
        "insert into marts.district_year values "
        "('663', 'Huyện Đắk Mil', 2026, 2400.5, 7, 9, 9, 1, 0); "
        "insert into marts.program_year values ('DA167', 2026, 500.0)"
    )
    page = write_dashboard(_settings(tmp_path, OLD_MARTS, later)).read_text()
    revenue, ratings, support = re.findall(r'<svg class="chart"(.*?)</svg>', page, re.S)[:3]
    assert ">2025</text>" in revenue
    assert ">2026</text>" not in revenue
    assert ">2026</text>" not in ratings
    assert _bars(support) == ["Đề án 167 · Kinh phí: 800.0", "Nông thôn mới · Kinh phí: 300.0"]


def test_phase_chart_draws_the_communes_with_most_cooperatives(tmp_path):
    many = "insert into marts.commune_year values " + ", ".join(
        f"('68', '{24000 + i}', 'Xã Số {i}', 2027, {i}, 1.0)" for i in range(1, 41)
    )
    settings = _settings(tmp_path, OLD_MARTS, COMMUNE_YEAR, many)
    phase = _phase_section(write_dashboard(settings).read_text())
    bars = _bars(phase)
    assert len(bars) == PHASE_CHART_COMMUNES
    assert bars[0] == "Xã Số 40 · 2027: 40"  # the latest year, most cooperatives first
    assert phase.count("<tr><td>68</td>") == 40 + 3


def test_phase_chart_draws_communes_of_one_name_apart(tmp_path):
    """Seven communes in force are Xã Tân Thành: two of them in the chart are two bars, each
    told by its code, not one bar of their sum under one name."""
    same_name = (
        "insert into marts.commune_year values "
        "('66', '24190', 'Xã Tân Thành', 2027, 7, 1.0), "
        "('80', '27880', 'Xã Tân Thành', 2027, 5, 1.0)"
    )
    phase = _phase_section(
        write_dashboard(_settings(tmp_path, OLD_MARTS, COMMUNE_YEAR, same_name)).read_text()
    )
    assert _bars(phase) == [
        "Xã Đắk Mil · 2027: 21",
        "Xã Tân Thành (24190) · 2027: 7",
        "Xã Tân Thành (27880) · 2027: 5",
        "Phường Bắc Gia Nghĩa · 2027: 0",
    ]


def test_titles_say_lam_dong_for_the_province_after_2025(tmp_path):
    page = write_dashboard(_settings(tmp_path, OLD_MARTS)).read_text()
    (title,) = re.findall(r"<h1>(.*?)</h1>", page)
    assert title.startswith("Hợp tác xã tỉnh Lâm Đồng")
    assert "(khu vực Đắk Nông cũ)" in title  # the 2021–2025 history is the former province's
    assert "theo huyện cũ" in page


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def test_summary_says_nothing_of_the_new_geography_without_its_tables(con):
    con.execute("create schema core; create schema marts")
    assert new_geography_lines(con) == []
    con.execute("create table core.dim_cooperative (coop_code varchar)")  # no placement yet
    assert new_geography_lines(con) == []


def test_summary_lines_on_new_communes_placement_and_the_phase(con):
    con.execute(
        """
        create schema core;
        create schema marts;
        create table core.dim_geography as
        select * from (values
            (1, 'district', '663', null, date '1900-01-01'),
            (2, 'commune', null, '24670', date '1900-01-01'),
            (3, 'commune', null, '24670', date '2025-07-01'),
            (4, 'commune', null, '24611', date '2025-07-01')
        ) as t(geo_key, level, district_code, commune_code, valid_from);
        create table core.fact_cooperative_year as
        select * from (values
            (1, 2024), (2, 2024), (2, 2025), (3, 2025), (3, 2026), (4, 2026), (4, 2026)
        ) as t(geo_key, period_key);
        create table core.dim_cooperative as
        select * from (values
            ('A', 'reported'), ('A', 'reported'), ('B', 'crosswalk'), ('C', 'review')
        ) as t(coop_code, placement);
        """
    )
    con.execute(COMMUNE_YEAR.split("alter table")[0])
    assert new_geography_lines(con) == [
        "Facts on new communes (in force since 01/07/2025), by report year:",
        "  2025: 1 cooperative(s) in 1 new commune(s)",
        "  2026: 3 cooperative(s) in 2 new commune(s)",
        "Placement in the new geography: 1 crosswalk, 1 reported, 1 review",
        "2026-2030 phase by new commune (marts.commune_year):",
        "  2026: 34 cooperative(s) in 2 new commune(s), 3 under review",
        "  2027: 21 cooperative(s) in 1 new commune(s), 0 under review",
    ]


def test_a_file_quarantined_by_an_earlier_run_is_listed_under_the_warehouse_not_this_run(
    tmp_path,
):
    """A second `make run` finds nothing new: the file an earlier run quarantined is listed
    under the warehouse's files, not below 'This run', where it read as quarantined again."""
    ledger = """
    create schema audit;
    create table audit.file_ingestion as
    select * from (values
        (1, '665_2024.xlsx', 'loaded', 'run-1', null, null),
        (2, '665_2024_sua.xlsx', 'quarantined', 'run-1', 'Tệp bị từ chối / File rejected', null)
    ) as t(file_id, file_name, status, run_id, reason, superseded_by);
    """
    lines = summary_lines(_settings(tmp_path, ledger), run_id="run-2", landed=2)
    warehouse = lines.index(
        "Files in the warehouse: 1 loaded, 1 quarantined, 0 duplicate, 0 superseded"
    )
    assert lines[warehouse + 1] == "  quarantined 665_2024_sua.xlsx: Tệp bị từ chối / File rejected"
    assert lines[warehouse + 2].startswith("This run (run-2): nothing new")


def test_this_run_names_the_earlier_reports_its_files_replaced(tmp_path):
    """A resubmission loaded by this run supersedes a file of an earlier run: that file's
    status changes, its run_id stays the earlier one's, and 'This run' names it."""
    ledger = """
    create schema audit;
    create table audit.file_ingestion as
    select * from (values
        (1, '664_2024.xlsx', 'superseded', 'run-1', null, 2),
        (2, '664_2024_sua.xlsx', 'loaded', 'run-2', null, null),
        (3, '665_2024.xlsx', 'loaded', 'run-1', null, null)
    ) as t(file_id, file_name, status, run_id, reason, superseded_by);
    """
    lines = summary_lines(_settings(tmp_path, ledger), run_id="run-2", landed=3)
    this_run = next(n for n, line in enumerate(lines) if line.startswith("This run"))
    assert lines[this_run : this_run + 2] == [
        "This run (run-2): 1 new file(s): 1 loaded, 0 quarantined, 0 duplicate, 0 superseded; "
        "2 skipped (seen before)",
        "  replaced 664_2024.xlsx (by 664_2024_sua.xlsx)",
    ]


def test_a_failed_run_whose_files_were_not_published_does_not_read_as_nothing_new(tmp_path):
    """A run whose publish failed (a read-only warehouse folder, a full disk) found new files
    that the published warehouse does not hold yet: 'nothing new' would be false."""
    ledger = """
    create schema audit;
    create table audit.file_ingestion as
    select * from (values (1, '660_2023.xlsx', 'loaded', 'run-1', null, null))
        as t(file_id, file_name, status, run_id, reason, superseded_by);
    """
    lines = summary_lines(_settings(tmp_path, ledger), run_id="run-2", landed=2, failed=True)
    this_run = next(line for line in lines if line.startswith("This run"))
    assert this_run.startswith("This run (run-2) failed: ")
    assert "not in the published warehouse" in this_run
    assert not any("nothing new" in line for line in lines)


def test_a_failed_first_run_does_not_tell_to_run_htx_run_first(tmp_path):
    settings = load_settings({"HTX_WAREHOUSE": str(tmp_path / "none.duckdb")})
    (line,) = summary_lines(settings, run_id="run-1", landed=1, failed=True)
    assert "run `htx run` first" not in line
    assert line.startswith(f"No warehouse published at {tmp_path / 'none.duckdb'}: this run failed")


# Targets of 1.5 × a baseline: halves at the first decimal the report shows.
HALVES = """
create table marts.commune_phase as
select * from (values
    ('68', '24611', 8513.5::decimal(38, 6), 12770.25, false, 2026, 0, 1),
    ('68', '24670', 31188.3::decimal(38, 6), 46782.45, false, 2026, 0, 1),
    ('68', null, 0.25::decimal(38, 6), 0.375, true, 2026, 1, 1)
) as t(new_province_code, new_commune_code, revenue_baseline_mvnd, target_revenue_2030_mvnd,
       revenue_on_track, latest_year, replication_candidates, target_model_cooperatives_2030);
"""


def test_report_rounds_halves_up_as_the_officials_workbook_shows_them(tmp_path):
    """A figure the report shows to one decimal is rounded half up, on the value the warehouse
    holds, as the officials' workbook shows it (`#,##0.0`): 12,770.25 is 12,770.3, not
    12,770.2 (Python's half to even), and 46,782.45 is 46,782.5, not 46,782.4 (the binary
    double just under it)."""
    settings = _settings(tmp_path, OLD_MARTS, COMMUNE_YEAR, HALVES)
    phase = _phase_section(write_dashboard(settings).read_text())
    cells = re.findall(
        r"<tr><td>68</td><td>(\d*)</td>(?:<td>[^<]*</td>){4}<td>([^<]*)</td><td>([^<]*)</td>",
        phase,
    )
    assert cells == [
        ("24611", "8,513.5", "12,770.3"),
        ("24670", "31,188.3", "46,782.5"),
        ("", "0.3", "0.4"),
    ]


def test_a_run_whose_exports_failed_says_so_and_names_only_what_exists(tmp_path):
    """The exports failed (a full disk): the summary named a quality report that was never
    written. It says the exports failed, and names only the outputs that are there."""
    ledger = """
    create schema audit;
    create table audit.file_ingestion as
    select * from (values (1, '660_2023.xlsx', 'loaded', 'run-1', null, null))
        as t(file_id, file_name, status, run_id, reason, superseded_by);
    """
    settings = _settings(tmp_path, ledger)
    (settings.state_dir / "exports_failed").parent.mkdir(parents=True)
    (settings.state_dir / "exports_failed").write_text("OSError: disk full\n")
    lines = summary_lines(settings, run_id="run-1", landed=1, failed=True)
    assert not any(str(settings.quality_report) in line for line in lines)
    assert not any(str(settings.export_dir) in line for line in lines)
    assert lines[-2:] == [
        f"Warehouse:       {settings.warehouse}",
        "Exports:         failed (OSError: disk full); the next run writes them again",
    ]

    (settings.state_dir / "exports_failed").unlink()  # the next run wrote them
    settings.quality_report.parent.mkdir(parents=True)
    settings.quality_report.write_text("<html></html>")
    lines = summary_lines(settings, run_id="run-2", landed=1)
    assert lines[-3:] == [
        f"Warehouse:       {settings.warehouse}",
        f"Exports:         {settings.export_dir}",
        f"Quality report:  {settings.quality_report}",
    ]


# Alerts as audit.quality_alert holds them: of this run (run-2), a long subject whose e-mail
# failed with an error of several lines, one whose webhook waits for the next try; of an
# earlier run (run-1), one the summary of run-2 does not name.
ALERTS = """
create table audit.quality_alert as
select * from (values
    ('a1', timestamptz '2026-01-05 08:00:00+00', 'error',
        '[HTX] 3 tệp bị từ chối / 3 file(s) quarantined: ' || repeat('664_2023_loi.xlsx, ', 8),
        false, true, 'run-2', now(),
        'smtp_default mail.example:25: SMTPRecipientsRefused: ' || chr(10) || 'trace', null),
    ('a2', timestamptz '2026-01-05 08:00:01+00', 'warning',
        '[HTX] 1 tệp có cảnh báo / 1 with warnings',
        true, null, 'run-2', null, null, 'ConnectionError: refused'),
    ('a0', timestamptz '2026-01-04 08:00:00+00', 'error', '[HTX] earlier',
        false, false, 'run-1', now(), 'old', 'old')
) as t(alert_id, raised_at, severity, subject, email_delivered, webhook_delivered, run_id,
       attempted_at, email_error, webhook_error);
"""


def test_the_run_s_alerts_are_named_short_with_each_channel_s_errors_first_line(tmp_path):
    ledger = """
    create schema audit;
    create table audit.file_ingestion as
    select * from (values (1, '664_2023_loi.xlsx', 'quarantined', 'run-2', 'why', null))
        as t(file_id, file_name, status, run_id, reason, superseded_by);
    """
    lines = summary_lines(_settings(tmp_path, ledger, ALERTS), run_id="run-2", landed=1)
    start = lines.index("Alerts raised by this run: 2 (audit.quality_alert)")
    end = lines.index("Rows per table:")
    long = "[HTX] 3 tệp bị từ chối / 3 file(s) quarantined: " + "664_2023_loi.xlsx, " * 8
    assert lines[start + 1 : end] == [
        f"  1. {long[:99]}…",
        "  2. [HTX] 1 tệp có cảnh báo / 1 with warnings",
        "  e-mail (smtp_default):       1 delivered, 1 not delivered (not sent again)",
        "    1. smtp_default mail.example:25: SMTPRecipientsRefused:",
        "    To do: check the Airflow connection smtp_default and the variable htx_alert_emails; "
        "recorded in audit.quality_alert (why: email_error; the alert's text: body)",
        "  webhook (htx_alert_webhook): 1 delivered, 1 not delivered yet (the next run tries "
        "again)",
        "    2. ConnectionError: refused",
        "    To do: check the Airflow connection htx_alert_webhook; recorded in "
        "audit.quality_alert (why: webhook_error; the alert's text: body)",
    ]
    assert not any("earlier" in line for line in lines)


def test_a_run_that_raised_no_alert_says_nothing_of_alerts(tmp_path):
    """Only the alerts of this run: an earlier run's, delivered or not, are not told again."""
    ledger = """
    create schema audit;
    create table audit.file_ingestion as
    select * from (values (1, '660_2023.xlsx', 'loaded', 'run-3', null, null))
        as t(file_id, file_name, status, run_id, reason, superseded_by);
    """
    lines = summary_lines(_settings(tmp_path, ledger, ALERTS), run_id="run-3", landed=1)
    assert not any(line.startswith("Alerts") or "delivered" in line for line in lines)


def test_the_alerts_of_the_command_s_publish_run_are_named_too(tmp_path):
    """`htx run` runs the ingest DAG and then the publish DAG, each its own run: a failure
    alert of the publish run (exports that failed) is the command's too. Before, only the
    ingest run's alerts were read."""
    ledger = """
    create schema audit;
    create table audit.file_ingestion as
    select * from (values (1, '664_2023_loi.xlsx', 'quarantined', 'run-2', 'why', null))
        as t(file_id, file_name, status, run_id, reason, superseded_by);
    """
    settings = _settings(tmp_path, ledger, ALERTS)
    lines = summary_lines(settings, run_id="run-1", landed=1, also=("run-2",))
    assert "Alerts raised by this run: 3 (audit.quality_alert)" in lines
    assert "  1. [HTX] earlier" in lines


def test_a_run_that_failed_before_publishing_names_its_failure_alert_from_the_ledger(tmp_path):
    """A task's failure callback records its alert, with what each channel did, in the
    ledger; a run that failed before publishing never puts it in the warehouse, whose rows
    are of earlier runs. The summary names it all the same, and does so without any
    published warehouse (a first run that failed)."""
    from etl.quality.alerts import failure_alert, record
    from etl.quality.notify import Delivery
    from etl.warehouse import ledger

    earlier = """
    create schema audit;
    create table audit.file_ingestion as
    select * from (values (1, '661_2023.xlsx', 'loaded', 'run-1', null, null))
        as t(file_id, file_name, status, run_id, reason, superseded_by);
    """ + ALERTS.replace("run-2", "run-1")
    settings = _settings(tmp_path, earlier)
    alert = failure_alert("htx_ingest", "load", "run-3", "MemoryError")
    con = ledger.connect(settings.ledger)
    try:
        record(con, alert, alert.run_id)
        results = {
            "email": Delivery(False, "smtp_default mail:25: refused"),
            "webhook": Delivery(None),
        }
        ledger.record_delivery(con, alert.alert_id, results)
    finally:
        con.close()
    expected = [
        "Alerts raised by this run: 1 (audit.quality_alert)",
        "  1. [HTX] Lỗi pipeline: tác vụ load thất bại / Pipeline failure: task load failed",
        "  e-mail (smtp_default):       not delivered (not sent again)",
        "    1. smtp_default mail:25: refused",
    ]
    lines = summary_lines(settings, run_id="run-3", landed=1, failed=True)
    start = lines.index(expected[0])
    assert lines[start : start + 4] == expected
    settings.warehouse.unlink()
    lines = summary_lines(settings, run_id="run-3", landed=1, failed=True)
    assert lines[0].startswith("No warehouse published at")
    assert lines[1:5] == expected
