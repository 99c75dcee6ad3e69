"""The officials' HTML report renders its charts in a real headless Chromium, offline."""

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


def test_report_is_self_contained(published):
    page = (published.export_dir / "report.html").read_text()
    assert not re.search(r"""(src|href)=["']https?:""", page)
    assert page.count('<svg class="chart"') == 4


@pytest.mark.chromium
def test_charts_render_in_headless_chromium(published, tmp_path):
    report = published.export_dir / "report.html"
    dom = subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=180, check=True,
    ).stdout  # fmt: skip
    assert 'data-charts-rendered="4"' in dom
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
