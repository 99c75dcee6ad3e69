"""GX Data Docs: built by GX's site builder from one stored summary result per suite, once per
publish, into HTX_EXPORT_DIR/data_docs/, and linked from the quality report."""

from __future__ import annotations

import json
import re

import duckdb
import pytest
from conftest import query, run_steps

from tools.sample import write_samples


def _settings(root):
    from etl.config import load_settings

    return load_settings(
        {
            "HTX_LANDING_DIR": str(root / "landing"),
            "HTX_WAREHOUSE": str(root / "warehouse.duckdb"),
            "HTX_STATE_DIR": str(root / "state"),
            "HTX_EXPORT_DIR": str(root / "exports"),
        }
    )


def _observed(page: str, rule: str) -> int:
    """The observed value Data Docs shows for a rule's summary expectation (its cells)."""
    text = re.sub(r"<script.*?</script>", " ", page, flags=re.S)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))
    found = re.search(rf" {rule} Status Expectation Observed Value .*? \. (\d+) ", text)
    assert found, rule
    return int(found.group(1))


def _suite_names() -> list[str]:
    from etl.quality.validate import load_suite_documents

    return [document["name"] for document in load_suite_documents().values()]


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    settings = _settings(tmp_path_factory.mktemp("data_docs"))
    write_samples(settings.landing_dir)
    result = run_steps(settings)
    return settings, result


def test_site_index_names_every_suite(published):
    settings, result = published
    index = settings.export_dir / "data_docs" / "index.html"
    assert result["data_docs"] == str(index)
    page = index.read_text()
    names = _suite_names()
    assert {"htx", "hotro", "lienket", "ocop", "warehouse_coop_continuity"} <= set(names)
    for name in names:
        # Each suite's own page (its expectations) and its one stored validation result.
        assert f'href="expectations/{name}.html"' in page
        assert re.search(rf"validations/{name}/[^\"']+\.html", page), name
        pages = list((settings.export_dir / "data_docs" / "validations" / name).rglob("*.html"))
        assert len(pages) == 1, name  # one result per suite per publish, not one per batch


def test_the_index_lists_every_suite_without_scripts(published):
    """GX's index draws its tables with scripts from CDNs; offline, the plain table at its
    top still names every suite with its result and links to its pages, which exist."""
    settings, _ = published
    docs = settings.export_dir / "data_docs"
    page = (docs / "index.html").read_text()
    (block,) = re.findall(r'<section id="htx-plain-index".*?</section>', page, flags=re.S)
    for name in _suite_names():
        assert re.search(rf"<td>{re.escape(name)}</td>", block), name
    links = re.findall(r'href="([^"]+)"', block)
    assert len(links) == 2 * len(_suite_names())
    assert all((docs / link).is_file() for link in links)
    assert "Không đạt / Failed" in block  # the sample has files with errors
    assert "Đạt / Passed" in block


def test_site_is_prepared_with_the_build_and_moved_at_publish(published):
    settings, _ = published
    # The load built the site beside the build (GX already imported there); the publish's
    # export moved it in place: nothing left beside the build, the site names its build.
    assert not (settings.build_dir / "data_docs").exists()
    ((fingerprint,),) = query(
        settings, "select fingerprint from audit.build_info order by built_at desc limit 1"
    )
    stamp = settings.export_dir / "data_docs" / "htx_build_fingerprint.txt"
    assert stamp.read_text() == fingerprint


def test_stored_result_counts_the_cells_of_each_rule(published):
    settings, _ = published
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        counts = dict(
            con.execute("select rule, count(*) from audit.rejected_row group by rule").fetchall()
        )
    finally:
        con.close()
    assert counts  # the sample has rejected and warned files
    (page,) = (settings.export_dir / "data_docs" / "validations" / "htx").rglob("*.html")
    text = page.read_text()
    for rule in ("coop_code_required", "coop_code_format", "coop_code_unique"):
        # Each rule of the suite is one expectation of the summary; its value, the cells.
        assert _observed(text, rule) == counts.get(rule, 0)


def test_a_rule_several_sheets_share_counts_on_its_own_sheet_only(published):
    """`coop_in_htx_sheet` is a rule of the HoTro, OCOP and LienKet suites: each suite's
    result counts the cells of its own sheet, and a suite none of whose cells failed passes."""
    settings, _ = published
    failed = dict(
        query(
            settings,
            "select sheet, count(*) from audit.rejected_row where rule = 'coop_in_htx_sheet' "
            "group by sheet",
        )
    )
    assert failed.get("HoTro", 0) > 0  # the sample's quarantined file, on its HoTro sheet
    docs = settings.export_dir / "data_docs"
    for name, sheet in (("hotro", "HoTro"), ("ocop", "OCOP"), ("lienket", "LienKet")):
        (page,) = (docs / "validations" / name).rglob("*.html")
        assert _observed(page.read_text(), "coop_in_htx_sheet") == failed.get(sheet, 0), name
    stored = {
        path.stem: json.loads(json.loads(path.read_text())["result"])["success"]
        for path in (docs / "htx_results").glob("*.json")
    }
    assert stored["hotro"] is False
    if not failed.get("OCOP") and not failed.get("LienKet"):
        assert stored["ocop"] is True
        assert stored["lienket"] is True


def test_quality_report_links_to_the_data_docs(published):
    settings, _ = published
    page = settings.quality_report.read_text()
    (href,) = re.findall(r'<a id="data-docs" href="([^"]+)"', page)
    assert (settings.quality_report.parent / href).resolve() == (
        settings.export_dir / "data_docs" / "index.html"
    ).resolve()


def test_nothing_new_run_does_not_rebuild_the_site(published):
    settings, _ = published
    index = settings.export_dir / "data_docs" / "index.html"
    before = index.stat().st_mtime_ns
    again = run_steps(settings, run_id="test-run-2")
    assert not again.get("changed")
    assert "data_docs" not in again
    assert index.stat().st_mtime_ns == before


# Rows of `audit.rejected_row` as the Data Docs read them (a sheet only where it matters).
REJECTED = "insert into audit.rejected_row (file_id, rule, severity) values "


def _audit_warehouse(settings, statements: str) -> None:
    """A published warehouse holding `audit.rejected_row` and what `statements` add to it."""
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute(
            "create schema audit; "
            "create table audit.rejected_row "
            "(file_id bigint, rule varchar, severity varchar, sheet varchar); " + statements
        )
    finally:
        con.close()


def test_build_is_offline_and_replaces_the_site_whole(tmp_path, monkeypatch):
    import socket

    from etl.quality.data_docs import build_data_docs

    settings = _settings(tmp_path)
    _audit_warehouse(
        settings,
        REJECTED + "(1, 'coop_code_format', 'error'), "
        "(1, 'coop_code_format', 'error'), (2, 'coop_missing_next_year', 'warning')",
    )
    stale = settings.export_dir / "data_docs" / "validations" / "old_run.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")

    def no_network(*args, **kwargs):
        raise AssertionError("the Data Docs build tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    index = build_data_docs(settings)
    assert index == settings.export_dir / "data_docs" / "index.html"
    assert not stale.exists()
    (page,) = (settings.export_dir / "data_docs" / "validations" / "htx").rglob("*.html")
    assert _observed(page.read_text(), "coop_code_format") == 2
    assert _observed(page.read_text(), "coop_code_required") == 0
    (page,) = (settings.export_dir / "data_docs" / "validations").rglob("*coop_continuity.html")
    assert _observed(page.read_text(), "coop_missing_next_year") == 1
    assert not list(tmp_path.glob("exports/.data_docs*"))


def test_export_builds_the_site_in_a_child_process_when_none_was_prepared(tmp_path):
    from etl.quality.data_docs import DataDocsBuild, publish_prepared

    settings = _settings(tmp_path)
    _audit_warehouse(
        settings,
        # A rule the HTX, HoTro, OCOP and LienKet suites share counts on its sheet's suite.
        "insert into audit.rejected_row (file_id, sheet, rule, severity) values "
        "(1, 'HTX', 'coop_code_required', 'error')",
    )
    assert publish_prepared(settings) is None  # no build prepared one
    index = DataDocsBuild(settings).wait()
    assert index == settings.export_dir / "data_docs" / "index.html"
    (page,) = (settings.export_dir / "data_docs" / "validations" / "htx").rglob("*.html")
    assert _observed(page.read_text(), "coop_code_required") == 1


def test_a_site_showing_the_same_is_copied_not_rendered(tmp_path, monkeypatch):
    import etl.quality.data_docs as data_docs

    settings = _settings(tmp_path)
    _audit_warehouse(
        settings,
        REJECTED + "(1, 'coop_code_format', 'error'); "
        "create table audit.build_info (fingerprint varchar, built_at timestamp); "
        "insert into audit.build_info values ('build-1', now())",
    )
    published = data_docs.build_data_docs(settings).parent
    rendered = []
    render = data_docs._build
    monkeypatch.setattr(data_docs, "_build", lambda *a: rendered.append(a) or render(*a))
    # A new build showing the same counts: the published pages, its own fingerprint.
    con = duckdb.connect(str(settings.warehouse))
    con.execute("insert into audit.build_info values ('build-2', now() + interval 1 second)")
    con.close()
    prepared = tmp_path / "prepared"
    data_docs.build_site(settings.warehouse, prepared, reuse=published)
    assert not rendered
    assert (prepared / "htx_build_fingerprint.txt").read_text() == "build-2"
    (page,) = (prepared / "validations" / "htx").rglob("*.html")
    (before,) = (published / "validations" / "htx").rglob("*.html")
    assert page.read_text() == before.read_text()
    # One more cell: rendered again, with the new count.
    con = duckdb.connect(str(settings.warehouse))
    con.execute(REJECTED + "(2, 'coop_code_format', 'error')")
    con.close()
    import great_expectations as gx

    runs = []
    run = gx.ValidationDefinition.run
    monkeypatch.setattr(
        gx.ValidationDefinition, "run", lambda self, **k: runs.append(self.name) or run(self, **k)
    )
    data_docs.build_site(settings.warehouse, prepared, reuse=published)
    assert len(rendered) == 1
    (page,) = (prepared / "validations" / "htx").rglob("*.html")
    assert _observed(page.read_text(), "coop_code_format") == 2
    # Only the suite whose counts changed is validated and rendered again; the others keep
    # their pages and results, and the index names every suite's result.
    assert runs == ["htx"]
    (kept,) = (prepared / "validations" / "ocop").rglob("*.html")
    (earlier,) = (published / "validations" / "ocop").rglob("*.html")
    assert kept.relative_to(prepared) == earlier.relative_to(published)
    index = (prepared / "index.html").read_text()
    for name in _suite_names():
        assert f'href="expectations/{name}.html"' in index
        assert re.search(rf"validations/{name}/[^\"']+\.html", index), name
    assert str(page.relative_to(prepared)) in index
    assert len(list((prepared / "validations").rglob("*.html"))) == len(_suite_names())


def test_pages_take_the_logo_from_the_site_not_from_gx_s3(tmp_path):
    """GX's navbar loads its logo from GX's S3 bucket with a timestamp (`?d=…`) on every page
    view (and a dark one in dark mode), although the image ships in the site's
    `static/images`: offline, every page shows a broken image; online, each view is a request
    to GX. The pages and the site's styles take the site's own copy, by a relative path."""
    import os

    from etl.quality.data_docs import build_data_docs

    settings = _settings(tmp_path)
    _audit_warehouse(settings, REJECTED + "(1, 'coop_code_format', 'error')")
    docs = build_data_docs(settings).parent
    pages = sorted(docs.rglob("*.html"))
    assert len(pages) > 2 * len(_suite_names())  # the index, per suite two pages
    for path in [*pages, *docs.rglob("*.css")]:
        text = path.read_text(encoding="utf-8")
        assert "great-expectations-web-assets" not in text, path.relative_to(docs)
        for logo in re.findall(r"""(?:src="|url\(')([^"']*logo[^"']*\.png)""", text):
            assert os.path.isfile(path.parent / logo), (path.relative_to(docs), logo)
    for page in pages:
        assert re.search(r'src="[^"]*static/images/logo-long\.png"', page.read_text()), page
