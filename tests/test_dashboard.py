"""The officials' HTML report renders its charts in a real headless Chromium, offline, and
shows the sample's 2026–2030 phase by new commune; the summary shows its facts on new
communes."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from conftest import run_steps

from tools.sample import write_samples

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=5000",
]


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    from etl.config import load_settings

    root = tmp_path_factory.mktemp("dashboard")
    settings = load_settings(
        {
            "HTX_LANDING_DIR": str(root / "landing"),
            "HTX_WAREHOUSE": str(root / "warehouse.duckdb"),
            "HTX_STATE_DIR": str(root / "state"),
            "HTX_EXPORT_DIR": str(root / "exports"),
        }
    )
    write_samples(settings.landing_dir)
    run_steps(settings)
    return settings


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, (
        "Debian's chromium is required; `make test` installs it when run as root, "
        "or run as root: apt-get update && apt-get install -y --no-install-recommends chromium"
    )
    return found


def _has_commune_year(settings) -> bool:
    """Whether the warehouse has `marts.commune_year` (the phase's chart needs it)."""
    from conftest import query

    return bool(
        query(
            settings,
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = 'commune_year'",
        )[0][0]
    )


def _charts(settings) -> int:
    return 4 + _has_commune_year(settings)  # 2021-2025's four, and the phase by new commune


def test_report_is_self_contained(published):
    page = (published.export_dir / "report.html").read_text()
    assert not re.search(r"""(src|href)=["']https?:""", page)
    assert page.count('<svg class="chart"') == _charts(published)


def test_the_2021_2025_charts_say_their_years(published):
    """The rating mix and the support by programme sum 2021-2025 only (the 2026 report's
    figures are in the phase's table): their headings say so, as the revenue's does.
    Before, 'Hỗ trợ theo chương trình' read as the support of every year."""
    page = (published.export_dir / "report.html").read_text()
    for heading in (
        "Doanh thu HTX theo huyện cũ, 2021-2025 /",
        "Cơ cấu xếp loại, 2021-2025 / Rating mix",
        "Hỗ trợ theo chương trình, 2021-2025 / Support by programme",
    ):
        assert heading in page


def test_report_charts_are_vega_svg_with_their_labels(published):
    """The charts come from the chart library: Vega's SVG (Altair specs rendered by
    vl-convert), with their marks, axis titles and labels."""
    page = (published.export_dir / "report.html").read_text()
    charts = re.findall(r'<svg class="chart"(.*?)</svg>', page, re.S)
    assert len(charts) == _charts(published)
    for chart in charts:
        assert 'class="mark-group role-frame root"' in chart
        assert re.search(r'class="mark-(rect|line) role-mark', chart)
    revenue, ratings = charts[0], charts[1]
    assert ">triệu đồng / million VND</text>" in revenue
    assert re.search(r">202[1-5]</text>", revenue)  # the years on the x axis
    assert 'aria-roledescription="line mark"' in revenue or "mark-line" in revenue
    for rating in ("Tốt", "Khá", "Trung bình", "Yếu"):
        assert f">{rating}</text>" in ratings  # the legend
    if _has_commune_year(published):
        phase = charts[4]
        assert ">số HTX / cooperatives</text>" in phase
        bars = re.findall(r'<path aria-label="([^"]*)" role="graphics-symbol" '
                          r'aria-roledescription="bar"', phase)  # fmt: skip
        assert bars
        assert all(re.fullmatch(r".+ · 2026: \d+", bar) for bar in bars)  # cooperatives, whole
        for commune in ("Phường Bắc Gia Nghĩa", "Xã Kiến Đức"):
            assert f">{commune}</text>" in phase


def test_report_shows_the_2026_2030_phase_by_new_commune(published):
    page = (published.export_dir / "report.html").read_text()
    phase = re.search(r'<section id="phase-2026-2030">(.*?)</section>', page, re.S).group(1)
    if not _has_commune_year(published):  # the marts of the new geography not built yet
        assert "Chưa có số liệu giai đoạn 2026-2030" in phase
        return
    # The sample's 2026 reports: four communes report themselves, 68 the others.
    for commune in ("Phường Bắc Gia Nghĩa", "Phường Nam Gia Nghĩa", "Xã Kiến Đức"):
        assert f"<td>{commune}</td>" in phase
    assert "<th>Số HTX 2026</th>" in phase
    assert "<th>Số HTX 2025</th>" not in phase


def test_summary_shows_facts_on_new_communes(published):
    from etl.outputs.summary import summary_lines

    lines = summary_lines(published)
    at = lines.index("Facts on new communes (in force since 01/07/2025), by report year:")
    by_year = dict(re.findall(r"^  (\d{4}): (.*)$", "\n".join(lines[at + 1 : at + 4]), re.M))
    # Every cooperative of 2026 is on one of the 28 new communes of the former Đắk Nông.
    assert re.fullmatch(r"\d+ cooperative\(s\) in 28 new commune\(s\)", by_year["2026"])
    assert int(by_year["2026"].split()[0]) >= 280


def test_the_new_geography_shows_from_the_first_run(published):
    from conftest import query

    # Facts of 2026 on the communes in force since 01/07/2025, the commune reports' own.
    by_unit = dict(
        query(
            published,
            "select f.unit_code, count(distinct g.commune_code) "
            "from core.fact_cooperative_year as f "
            "inner join core.dim_geography as g on f.geo_key = g.geo_key "
            "where f.period_key = 2026 and g.level = 'commune' "
            "and g.valid_from = date '2025-07-01' group by f.unit_code",
        )
    )
    assert by_unit == {"24611": 1, "24615": 1, "24617": 1, "24733": 1, "68": 24}
    if _has_commune_year(published):  # the marts of the new geography, once built
        [(communes, coops)] = query(
            published,
            "select count(distinct new_commune_code), sum(cooperatives) "
            "from marts.commune_year where year = 2026 and new_province_code = '68'",
        )
        assert communes == 28
        assert coops >= 280


@pytest.mark.chromium
def test_charts_render_in_headless_chromium(published, tmp_path):
    report = published.export_dir / "report.html"
    dom = subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=180, check=True,
    ).stdout  # fmt: skip
    assert f'data-charts-rendered="{_charts(published)}"' in dom
    screenshot = published.export_dir / "report.png"
    subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile2'}",
         f"--screenshot={screenshot}", "--window-size=1000,2600", report.as_uri()],
        capture_output=True, timeout=180, check=True,
    )  # fmt: skip
    assert screenshot.stat().st_size > 10_000


def test_export_folder_holds_parquet_xlsx_and_html(published):
    names = {p.name for p in published.export_dir.rglob("*") if p.is_file()}
    assert {"marts.xlsx", "report.html", "quality_report.html"} <= names
    marts = ("district_year", "program_year", "cooperative_scorecard", "replication_candidates")
    assert {f"marts.{m}.parquet" for m in (*marts, "phase_summary")} <= names


def test_every_parquet_file_holds_its_table_with_whole_numbers_kept_whole(published):
    """Each Parquet export has its table's rows and columns, and a whole number stays a
    whole number: DuckDB's sums of counts (HUGEINT, which Parquet cannot hold) are written
    as BIGINT, not as DOUBLE (members 1600.0 for 1600 in every tool that reads them)."""
    import duckdb

    from etl.outputs.exports import EXPORTED_CORE
    from etl.warehouse.build import MART_MODELS

    con = duckdb.connect(str(published.warehouse), read_only=True)
    try:
        for table in [f"marts.{m}" for m in MART_MODELS] + [f"core.{t}" for t in EXPORTED_CORE]:
            path = published.export_dir / "parquet" / f"{table}.parquet"
            wanted = [
                (name, "BIGINT" if kind == "HUGEINT" else kind)
                for name, kind, *_ in con.execute(f"describe {table}").fetchall()
            ]
            written = con.execute(f"describe select * from read_parquet('{path}')").fetchall()
            assert [(name, kind) for name, kind, *_ in written] == wanted, table
            rows = con.execute(f"select * from {table} order by all").fetchall()
            read = con.execute(f"select * from read_parquet('{path}') order by all").fetchall()
            assert read == rows, table
        members = con.execute(
            "select members from read_parquet(?) where district_code = '660' and year = 2021",
            [str(published.export_dir / "parquet" / "marts.district_year.parquet")],
        ).fetchall()
        assert members == [(1600,)]
        assert isinstance(members[0][0], int)
    finally:
        con.close()
