"""The quality report writes a file's page again only when what it shows changed or the
page is missing (`etl.outputs.quality_report`: stamps in `quality/.stamps.json`)."""

from __future__ import annotations

import shutil

from conftest import logged

from etl.config import settings_under
from etl.outputs.quality_report import write_quality_report


def _workbook(settings, name: str, unit: str, first: int) -> None:
    from conftest import HTX_HEADER, htx_row, info_rows, write_xlsx

    rows = [HTX_HEADER] + [htx_row(i + 1, f"64000{first + i:05d}") for i in range(3)]
    write_xlsx(settings.landing_dir / name, {"ThongTin": info_rows(unit, 2023), "HTX": rows})


def test_pages_written_again_only_when_changed_or_missing(tmp_path):
    from conftest import run_steps

    settings = settings_under(tmp_path / "run")
    settings.landing_dir.mkdir(parents=True)
    _workbook(settings, "663_2023.xlsx", "663", 1)
    _workbook(settings, "664_2023.xlsx", "664", 11)
    run_steps(settings, "run-1")
    pages = sorted((settings.export_dir / "quality").glob("*.html"))
    assert len(pages) == 2
    before = {page: page.read_bytes() for page in pages}

    with logged("etl.outputs.quality_report") as said:
        write_quality_report(settings)
        pages[0].unlink()
        write_quality_report(settings)
    assert [line for line in said if "file page(s) written" in line] == [
        "quality report: 0 of 2 file page(s) written",
        "quality report: 1 of 2 file page(s) written",  # the missing one
    ]
    assert {page: page.read_bytes() for page in pages} == before


def test_a_warehouse_of_the_release_before_info_finding_still_gets_its_report(tmp_path):
    """Exports retried on a warehouse an earlier release published (its findings all in
    `audit.rejected_row`, no `audit.info_finding`) still write the quality report."""
    import duckdb
    from conftest import run_steps

    settings = settings_under(tmp_path / "run")
    settings.landing_dir.mkdir(parents=True)
    _workbook(settings, "663_2023.xlsx", "663", 1)
    run_steps(settings, "run-1")
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute("drop table audit.info_finding")
    finally:
        con.close()
    (settings.export_dir / "quality_report.html").unlink()
    write_quality_report(settings)
    assert "663_2023.xlsx" in (settings.export_dir / "quality_report.html").read_text("utf-8")


def test_a_page_says_each_cell_s_address_and_problem_and_counts_every_warning(tmp_path):
    """A rule of several messages (a rating's score band) shows each cell with its own; every
    cell has its address; the warnings counted for a file include those across years (a
    revenue jump found on the warehouse)."""
    import re

    from conftest import HTX_HEADER, htx_row, info_rows, query, run_steps, write_xlsx

    settings = settings_under(tmp_path / "run")
    rows = [
        HTX_HEADER,
        htx_row(1, "6400000001", **{"Xếp loại": "Khá", "Điểm": 90}),
        htx_row(2, "6400000002", **{"Xếp loại": "Yếu", "Điểm": 90}),
    ]
    write_xlsx(settings.landing_dir / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": rows})
    before = [HTX_HEADER, htx_row(1, "6400000003")]
    write_xlsx(
        settings.landing_dir / "664_2022.xlsx",
        {"ThongTin": info_rows("664", 2022), "HTX": before},
    )
    jump = [HTX_HEADER, htx_row(1, "6400000003", **{"Doanh thu": 1_650_000})]
    write_xlsx(
        settings.landing_dir / "664_2023.xlsx", {"ThongTin": info_rows("664", 2023), "HTX": jump}
    )
    run_steps(settings)
    ids = {
        name: file_id
        for file_id, name in query(settings, "select file_id, file_name from audit.file_ingestion")
    }
    [(own, every)] = query(
        settings,
        "select any_value(i.warnings), count(*) from audit.rejected_row r "
        "join audit.file_ingestion i using (file_id) "
        "where i.file_name = '664_2023.xlsx' and r.severity = 'warning'",
    )
    assert own < every  # the revenue jump is found across years, not in the file
    page = (settings.export_dir / "quality" / f"{ids['663_2023.xlsx']}.html").read_text()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert re.search(r"HTX 2 Điểm P2 90(\.0+)? .*Khá", text)
    assert re.search(r"HTX 3 Điểm P3 90(\.0+)? .*Yếu", text)
    report = settings.quality_report.read_text()
    [row] = [r for r in report.split("<tr") if "664_2023.xlsx" in r]
    cells = re.findall(r"<td>([^<]*)</td>", row)
    assert cells[-2] == str(every)  # Cảnh báo / Warnings: the revenue jump counts


def test_a_files_status_and_severity_read_in_vietnamese_first(tmp_path):
    """The page the alert sends the clerk to says the status and each rule's severity in
    Vietnamese then English, not the ledger's English key (`quarantined`, `error`)."""
    import html
    import re

    from conftest import HTX_HEADER, htx_row, info_rows, query, run_steps, write_xlsx

    settings = settings_under(tmp_path / "run")
    rows = [HTX_HEADER, htx_row(1, "6400000001", **{"Số lao động": -3})]
    write_xlsx(settings.landing_dir / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": rows})
    run_steps(settings)
    [(file_id,)] = query(settings, "select file_id from audit.file_ingestion")
    page = (settings.export_dir / "quality" / f"{file_id}.html").read_text(encoding="utf-8")
    [status] = re.findall(r"Trạng thái / Status</td><td><span[^>]*>([^<]*)</span>", page)
    assert (
        html.unescape(status) == "BỊ TỪ CHỐI, không nạp số liệu nào / quarantined, nothing loaded"
    )
    assert "workers_not_negative (Lỗi / error): 1 ô / cells" in html.unescape(page)
    # The file's table: a label and its value a row, with no empty header row above them,
    # and the rows loaded beside those read and rejected, as the listing has them.
    [facts] = re.findall(r"<table>(.*?)</table>", page, re.S)[:1]
    assert "<th>" not in facts
    labels = re.findall(r"<tr><td>([^<]*)</td><td>", facts)
    assert labels[-4:] == [
        "Dòng đọc / Rows read",
        "Dòng nạp / Rows loaded",
        "Dòng lỗi / Rows rejected",
        "Cảnh báo / Warnings",
    ]
    listing = html.unescape(settings.quality_report.read_text(encoding="utf-8"))
    assert "<td>BỊ TỪ CHỐI, không nạp số liệu nào / quarantined, nothing loaded</td>" in listing


def test_the_listing_totals_the_files_by_status_and_their_errors_and_warnings(tmp_path):
    """`quality_report.html` says, above the list, how many files the warehouse saw, how
    many of each status, and how many failing cells and warnings they have: the province
    team reads the state of the year there without counting rows."""
    import html
    import re

    from conftest import HTX_HEADER, htx_row, info_rows, run_steps, write_xlsx

    settings = settings_under(tmp_path / "run")
    broken = [
        HTX_HEADER,
        htx_row(1, "6400000001", **{"Số lao động": -3}),
        htx_row(2, "6400000002", **{"Số lao động": -4}),
    ]
    write_xlsx(settings.landing_dir / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": broken})
    warned = [
        HTX_HEADER,
        htx_row(1, "6400000011", **{"Xã/Phường": "Nâm Nung", "Số thành viên": 4}),
        htx_row(2, "6400000012", **{"Xã/Phường": "Nâm Nung", "Số thành viên": 3}),
        htx_row(3, "6400000013", **{"Xã/Phường": "Xã Không Có"}),
    ]
    write_xlsx(
        settings.landing_dir / "664_2023.xlsx", {"ThongTin": info_rows("664"), "HTX": warned}
    )
    run_steps(settings)
    listing = html.unescape(settings.quality_report.read_text(encoding="utf-8"))
    [totals] = re.findall(r'<table id="totals">(.*?)</table>', listing, re.S)
    cells = dict(re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td></tr>", totals))
    assert cells == {
        "Tệp / Files": "2",
        "đã nạp / loaded": "1",
        "BỊ TỪ CHỐI, không nạp số liệu nào / quarantined, nothing loaded": "1",
        "Dòng lỗi / Rows rejected": "2",
        "Cảnh báo / Warnings": "3",
    }


def test_a_one_file_run_writes_the_report_a_whole_render_writes(settings):
    """A file sent again supersedes the one of an earlier run: the run writes that file's
    page (its status) and the new one, the listing, and no other page; the report is then
    byte for byte the one written from scratch."""
    from conftest import HTX_HEADER, htx_row, info_rows, query, run_steps, write_xlsx

    def workbook(name: str, unit: str, year: int, codes: list[str]) -> None:
        rows = [HTX_HEADER] + [htx_row(i, code) for i, code in enumerate(codes, 1)]
        write_xlsx(settings.landing_dir / name, {"ThongTin": info_rows(unit, year), "HTX": rows})

    a, b, c, d = "6400000001", "6400000002", "6400000003", "6400000004"
    workbook("663_2022.xlsx", "663", 2022, [a, b])
    workbook("664_2022.xlsx", "664", 2022, [c])
    run_steps(settings, "run-1")
    ids = dict(query(settings, "select file_name, file_id from audit.file_ingestion"))
    pages = settings.export_dir / "quality"
    before = {path.name: path.read_bytes() for path in pages.glob("*.html")}

    workbook("663_2022.xlsx", "663", 2022, [a, b, d])  # sent again, with d
    with logged("etl.outputs.quality_report") as said:
        run_steps(settings, "run-2")
    assert "quality report: 2 of 3 file page(s) written" in said
    one_file = {path.name: path.read_bytes() for path in pages.glob("*.html")}
    changed = {name for name in before if one_file[name] != before[name]}
    assert changed == {f"{ids['663_2022.xlsx']}.html"}  # superseded now
    listing = settings.quality_report.read_bytes()

    shutil.rmtree(pages)
    settings.quality_report.unlink()
    with logged("etl.outputs.quality_report") as said:
        write_quality_report(settings)
    assert "quality report: 3 of 3 file page(s) written" in said
    assert {path.name: path.read_bytes() for path in pages.glob("*.html")} == one_file
    assert settings.quality_report.read_bytes() == listing


def test_listing_rows_are_drawn_again_only_when_their_file_s_page_stamp_changed(tmp_path):
    """The listing keeps each file's row as drawn (`state/cache/quality_rows.json`, not
    among the published pages) while the file's page stamp holds: a run that adds one file
    draws one row, and the page is the one a whole drawing gives."""
    import json

    from conftest import run_steps

    settings = settings_under(tmp_path / "run")
    settings.landing_dir.mkdir(parents=True)
    _workbook(settings, "663_2023.xlsx", "663", 1)
    _workbook(settings, "664_2023.xlsx", "664", 11)
    run_steps(settings, "run-1")
    whole = settings.quality_report.read_bytes()
    rows = settings.state_dir / "cache" / "quality_rows.json"
    assert not [p for p in settings.export_dir.rglob("*") if "rows" in p.name]
    kept = json.loads(rows.read_text(encoding="utf-8"))
    first, second = sorted(kept)

    kept[first][1] = "<tr><td>kept</td></tr>\n"  # as if drawn so: kept, not drawn again
    kept[second][0] = "another stamp"  # its file changed: drawn again
    rows.write_text(json.dumps(kept), encoding="utf-8")
    write_quality_report(settings)
    listing = settings.quality_report.read_text(encoding="utf-8")
    assert "<tr><td>kept</td></tr>" in listing
    assert json.loads(rows.read_text(encoding="utf-8"))[second][0] != "another stamp"

    rows.unlink()  # drawn whole again: the same page
    write_quality_report(settings)
    assert settings.quality_report.read_bytes() == whole


def test_a_process_reads_templates_another_compiled_from_the_state_folder(tmp_path, monkeypatch):
    """Compiling the reports' templates costs a process 0.075 s: their bytecode is kept in
    the state folder (never the source tree), and a new process reads it back instead of
    compiling them again. The pages are the same."""
    import jinja2
    from conftest import run_steps

    from etl.outputs import html

    settings = settings_under(tmp_path / "run")
    settings.landing_dir.mkdir(parents=True)
    _workbook(settings, "663_2023.xlsx", "663", 1)
    run_steps(settings, "run-1")
    report = settings.quality_report
    (settings.export_dir / "quality").joinpath(".stamps.json").unlink()
    before = report.read_bytes()
    assert list((settings.state_dir / "cache" / "templates").rglob("*.cache"))
    assert not list(html.TEMPLATES.rglob("*.cache"))

    def never(*args, **kwargs):
        raise AssertionError("a template was compiled again")

    html._environment.cache_clear()  # as a new process starts
    monkeypatch.setattr(jinja2.Environment, "compile", never)
    report.unlink()
    write_quality_report(settings)
    assert report.read_bytes() == before


def test_templates_compiled_by_an_earlier_release_are_removed_from_the_state_folder(tmp_path):
    """The compiled templates are kept under a digest of the code that shapes them: after
    an upgrade the folders of an earlier digest would stay forever. Entering a digest's
    folder for the first time removes the others (and nothing else in the folder)."""
    from etl.outputs import html

    cache = tmp_path / "templates"
    old = cache / "0123456789abcdef"
    old.mkdir(parents=True)
    (old / "__jinja2_x.cache").write_bytes(b"old")
    kept = cache / "notes.txt"
    kept.write_text("not ours")
    html._environment.cache_clear()
    try:
        with html.compiled_in(cache):
            pass
        folders = sorted(p.name for p in cache.iterdir() if p.is_dir())
        assert old.name not in folders
        assert len(folders) == 1
        assert kept.read_text() == "not ours"
        # Entered again: the digest's own folder and what it holds stay.
        (cache / folders[0] / "__jinja2_y.cache").write_bytes(b"new")
        with html.compiled_in(cache):
            pass
        assert [p.name for p in (cache / folders[0]).iterdir()] == ["__jinja2_y.cache"]
    finally:
        html._environment.cache_clear()
