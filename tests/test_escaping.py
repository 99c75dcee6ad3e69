"""Markup or formulas in a submitted text stay text in everything the project writes.

Every free-text field a workbook can carry (cooperative name, commune, note, support
content, OCOP product, partner, product, `Người lập`, the file's name and its sheets'
names) holds `<script>`, `onerror=` and formula-looking text. After a real run, every
HTML page under the export folder and the alert e-mail show it escaped, as text; every
XLSX written (the officials' workbook, the feedback copies, a prefilled template) holds it
as a string, never a formula. docs/security.md: "markup or formulas in a submitted text".
"""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import (
    HTX_HEADER,
    LINK_HEADER,
    OCOP_HEADER,
    SUPPORT_HEADER,
    htx_row,
    query,
    run_steps,
    write_xlsx,
)
from conftest import info_rows as clean_info_rows

from etl.config import settings_under
from etl.quality.feedback import feedback_name

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
HYPERLINK = '=HYPERLINK("http://x","y")'

# One hostile text per field: each starts like a formula and carries markup.
NAME = f"{HYPERLINK} {SCRIPT}"
COMMUNE = f"@SUM(A1) {SCRIPT}"
NOTE = f"+1+1 {IMG}"
CONTENT = f"-2+3 {IMG}"
OCOP_PRODUCT = f"{HYPERLINK} {IMG}"
PARTNER = f"-2+3 {SCRIPT}"
PRODUCT = f"@SUM(A1) {IMG}"
PREPARED_BY = f"+1+1 {SCRIPT}"
# Excel forbids `/` in a sheet's name; an unclosed `<script>` is as dangerous on a page.
SHEETS = ("<script>alert(1)", IMG)
# A `/` in a landing path is a folder: the recorded name (relative to the folder) keeps it.
VALID_NAME = f"663_2023 {SCRIPT}.xlsx"
QUARANTINED_NAME = f"664_2023 {IMG}.xlsx"
# The quarantined file's cells that break rules, so that audit.rejected_row carries them.
BAD_RATING = SCRIPT
BAD_MEMBERS = HYPERLINK
BAD_SECTOR = f"@SUM(A1) {IMG}"

MARKERS = ("<script", "onerror", "alert(1)", "HYPERLINK", "+1+1", "-2+3", "@SUM")


def _info(unit: str, year: int) -> list[list]:
    rows = clean_info_rows(unit=unit, year=year)
    return [[key, PREPARED_BY if key == "Người lập" else value] for key, value in rows]


def _valid_sheets(year: int) -> dict[str, list[list]]:
    model = htx_row(
        1, "6630000001", **{"Tên HTX": NAME, "Xếp loại": "Tốt", "Điểm": 85, "Ghi chú": NOTE}
    )
    other = htx_row(2, "6630000002", **{"Xã/Phường": COMMUNE})
    ocop = [["6630000001", OCOP_PRODUCT, "Thực phẩm", 3, f"QĐ {NOTE}", dt.date(year, 6, 1)]]
    links = [["6630000001", PARTNER, PRODUCT, 12.5, 300]]
    return {
        "ThongTin": _info("663", year),
        "HTX": [HTX_HEADER, model, other],
        "HoTro": [SUPPORT_HEADER, ["6630000001", "DA167", CONTENT, "Tỉnh", 200, year]],
        "OCOP": [OCOP_HEADER, *ocop],
        "LienKet": [LINK_HEADER, *links],
        SHEETS[0]: [[SCRIPT], [HYPERLINK]],
        SHEETS[1]: [[IMG], ["+1+1"]],
    }


def _quarantined_sheets() -> dict[str, list[list]]:
    bad = htx_row(
        1,
        "6640000001",
        **{
            "Tên HTX": NAME,
            "Xếp loại": BAD_RATING,
            "Số thành viên": BAD_MEMBERS,
            "Lĩnh vực": BAD_SECTOR,
            "Ghi chú": NOTE,
        },
    )
    duplicate = htx_row(2, "6640000001", **{"Xã/Phường": COMMUNE})
    return {"ThongTin": _info("664", 2023), "HTX": [HTX_HEADER, bad, duplicate]}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """The pipeline run on three years of a hostile unit's reports and a quarantined file,
    with its alert's e-mail body and a template prefilled from the warehouse."""
    settings = settings_under(tmp_path_factory.mktemp("escaping"))
    landing = settings.landing_dir
    for year in (2021, 2022):
        write_xlsx(landing / f"663_{year}.xlsx", _valid_sheets(year))
    write_xlsx(landing / VALID_NAME, _valid_sheets(2023))
    write_xlsx(landing / QUARANTINED_NAME, _quarantined_sheets())
    run_steps(settings)

    from etl.outputs import template
    from etl.quality import notify
    from etl.quality.alerts import Alert

    emails = [
        notify.email_notifier(
            Alert(alert_id, severity, subject, body), ["x@example.vn"], _no_extras()
        ).html_content
        for alert_id, severity, subject, body in query(
            settings, "select alert_id, severity, subject, body from audit.quality_alert"
        )
    ]
    unit = template.reporting_unit("663")
    _, known = template.latest_cooperatives(settings.warehouse, unit, 2024)
    prefilled = template.write_template(
        settings.export_dir.parent / "mau_663_2024.xlsx", "663", 2024, known
    )
    return SimpleNamespace(settings=settings, emails=emails, template=prefilled)


def _no_extras():
    return SimpleNamespace(extra_dejson={})


class _Page(HTMLParser):
    """What a browser would build from a page: its elements, attributes, scripts and text."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[str] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False
        self.feed(source)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)

    def handle_comment(self, data):
        self.text.append(data)

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def _assert_inert(source: str, where: str, scripts: int = 0) -> _Page:
    """No markup from data in the page: no injected element, handler or script."""
    assert "<script>alert" not in source, where
    assert "<img src=x" not in source, where
    assert "onerror=" not in source.replace("onerror=alert(1)&gt;", ""), where
    page = _Page(source)
    assert "img" not in page.tags, where
    assert not [a for a in page.attributes if a.startswith("on")], where
    # Only the page's own script (the officials' report marks that its charts rendered).
    assert len(page.scripts) == scripts, where
    assert all("alert(" not in s and "data-charts-rendered" in s for s in page.scripts), where
    return page


def _file_id(settings, file_name: str) -> int:
    [(file_id,)] = query(
        settings, "select file_id from audit.file_ingestion where file_name = ?", [file_name]
    )
    return file_id


def test_every_html_page_shows_hostile_text_escaped(hostile_run):
    settings = hostile_run.settings
    # GX Data Docs (data_docs/) is GX's own site with its scripts: suite and rule names and
    # counts only, never a workbook's text.
    docs = sorted((settings.export_dir / "data_docs").rglob("*.html"))
    assert docs
    for path in docs:
        source = path.read_text(encoding="utf-8")
        for value in (VALID_NAME, QUARANTINED_NAME, BAD_RATING, NAME):
            assert value not in source, path
    pages = sorted(set(settings.export_dir.rglob("*.html")) - set(docs))
    assert len(pages) == 2 + 4  # the two reports, one page a file
    texts = {}
    for path in pages:
        source = path.read_text(encoding="utf-8")
        scripts = 1 if path.name == "report.html" else 0
        texts[path.relative_to(settings.export_dir).as_posix()] = _assert_inert(
            source, str(path), scripts
        ).all_text

    # The values did reach the pages, as text.
    listing = texts["quality_report.html"]
    assert VALID_NAME in listing
    assert QUARANTINED_NAME in listing
    rejected = texts[f"quality/{_file_id(settings, QUARANTINED_NAME)}.html"]
    for value in (QUARANTINED_NAME, BAD_RATING, BAD_MEMBERS, BAD_SECTOR):
        assert value in rejected, value
    warned = texts[f"quality/{_file_id(settings, VALID_NAME)}.html"]
    assert VALID_NAME in warned
    assert COMMUNE in warned
    assert NAME in texts["report.html"]  # the replication candidate's name


def test_alert_email_body_shows_hostile_file_names_escaped(hostile_run):
    [email] = hostile_run.emails
    text = _assert_inert(email, "alert e-mail").all_text
    assert VALID_NAME in text
    assert QUARANTINED_NAME in text


def _strings_and_formulas(path: Path) -> tuple[set[str], list[str], set[str]]:
    """Every text cell's value, every formula, and every sheet's title of a workbook."""
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    strings, formulas = set(), []
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formulas.append(f"{ws.title}!{cell.coordinate}: {cell.value}")
                elif isinstance(cell.value, str):
                    strings.add(cell.value)
    return strings, formulas, set(workbook.sheetnames)


def _workbooks(hostile_run) -> list[Path]:
    found = sorted(hostile_run.settings.export_dir.rglob("*.xlsx"))
    return [*found, hostile_run.template]


def test_every_xlsx_holds_hostile_text_as_text_never_a_formula(hostile_run):
    settings = hostile_run.settings
    workbooks = _workbooks(hostile_run)
    names = {p.name for p in workbooks}
    assert "marts.xlsx" in names
    assert "mau_663_2024.xlsx" in names
    feedback = [p for p in workbooks if p.parent.name == "feedback"]
    assert len(feedback) == 4  # the quarantined file, and three years with a warning

    for path in workbooks:
        strings, formulas, _ = _strings_and_formulas(path)
        hostile = [f for f in formulas if any(m in f for m in MARKERS)]
        assert not hostile, (path.name, hostile)
        if path.parent.name == "feedback":
            assert not formulas, (path.name, formulas)  # nothing submitted was a formula
        assert any(NAME in s for s in strings), path.name

    # Each field's text came through whole, as a string, where the workbook carries it.
    copied = {NAME, COMMUNE, NOTE, CONTENT, OCOP_PRODUCT, PARTNER, PRODUCT, PREPARED_BY}
    [(sha,)] = query(
        settings, "select sha256 from audit.file_ingestion where file_name = ?", [VALID_NAME]
    )
    strings, _, sheets = _strings_and_formulas(
        settings.export_dir / "feedback" / feedback_name(VALID_NAME, sha)
    )
    assert copied <= strings, copied - strings
    assert {SCRIPT, HYPERLINK, IMG, "+1+1"} <= strings  # the extra sheets' cells
    assert set(SHEETS) <= sheets
    assert any(VALID_NAME in s for s in strings)  # the `Loi` sheet names the file
    assert any(COMMUNE in s for s in strings)

    [(sha,)] = query(
        settings, "select sha256 from audit.file_ingestion where file_name = ?", [QUARANTINED_NAME]
    )
    strings, _, _ = _strings_and_formulas(
        settings.export_dir / "feedback" / feedback_name(QUARANTINED_NAME, sha)
    )
    assert {NAME, NOTE, COMMUNE, BAD_RATING, BAD_MEMBERS, BAD_SECTOR, PREPARED_BY} <= strings

    strings, _, _ = _strings_and_formulas(hostile_run.template)
    assert {NAME, COMMUNE} <= strings  # prefilled from the warehouse

    strings, _, _ = _strings_and_formulas(settings.export_dir / "marts.xlsx")
    assert NAME in strings


def test_the_hostile_unit_was_loaded_and_the_other_file_quarantined(hostile_run):
    statuses = dict(
        query(hostile_run.settings, "select file_name, status from audit.file_ingestion")
    )
    assert statuses == {
        "663_2021.xlsx": "loaded",
        "663_2022.xlsx": "loaded",
        VALID_NAME: "loaded",
        QUARANTINED_NAME: "quarantined",
    }
    [(name,)] = query(
        hostile_run.settings,
        "select name from marts.replication_candidates where is_candidate",
    )
    assert name == NAME
