"""Annotated feedback: the clerk gets back a copy of the workbook with exactly the recorded
failing cells marked and every problem listed in `Loi`, and it travels with the alert."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import os
import shutil
import unicodedata
import zipfile
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest
from conftest import HTX_HEADER, htx_row, info_rows, query, run_steps, write_xlsx
from python_calamine import CalamineWorkbook

from etl.contract.findings import halves
from etl.quality import feedback, notify
from etl.quality.feedback import FILLS, LOI_HEADER, LOI_HEADER_ROW, SEVERITY_LABELS
from etl.warehouse import ledger

CORPUS = Path(__file__).parent / "corpus"
UNOPENABLE = ("r_corrupt.xlsx", "r_encrypted.xlsx", "r_empty.xlsx", "r_not_a_spreadsheet.xlsx")


def _warned_rows() -> list[list]:
    """A valid HTX sheet with two warnings (members, commune) and an unknown extra column."""
    return [
        [*HTX_HEADER, "Số điện thoại"],
        [*htx_row(1, "6400000001"), "0912 345 678"],
        [*htx_row(2, "6400000002", **{"Số thành viên": 3}), None],
        [*htx_row(3, "6400000003", **{"Xã/Phường": "Xã Không Có"}), None],
    ]


def _landing(settings, *corpus: str) -> dict[str, str]:
    """Corpus files plus one warned workbook in the landing folder; their SHA-256 by name."""
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    for name in corpus:
        shutil.copy(CORPUS / name, settings.landing_dir / name)
    write_xlsx(
        settings.landing_dir / "663_2023_canh_bao.xlsx",
        {"ThongTin": info_rows(), "HTX": _warned_rows()},
    )
    return {p.name: _sha(p) for p in settings.landing_dir.iterdir()}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _file(settings, file_name: str) -> tuple[int, str, str]:
    [row] = query(
        settings,
        "select file_id, status, sha256 from audit.file_ingestion where file_name = ?",
        [file_name],
    )
    return row


def _feedback_of(settings, file_name: str) -> Path:
    """`<original name without extension>_loi_<sha256[:8]>.xlsx` (the corpus names are plain)."""
    [(sha,)] = query(
        settings, "select sha256 from audit.file_ingestion where file_name = ?", [file_name]
    )
    return settings.export_dir / "feedback" / f"{Path(file_name).stem}_loi_{sha[:8]}.xlsx"


def _marks(path: Path) -> dict[tuple[str, str], str]:
    """Every filled cell outside `Loi`: (sheet, cell) -> fill colour."""
    workbook = openpyxl.load_workbook(path)
    return {
        (ws.title, cell.coordinate): cell.fill.fgColor.rgb
        for ws in workbook.worksheets
        if ws.title != "Loi"
        for row in ws.iter_rows()
        for cell in row
        if cell.fill.fill_type == "solid"
    }


def _loi(path: Path) -> list[dict]:
    ws = openpyxl.load_workbook(path)["Loi"]
    assert [c.value for c in ws[LOI_HEADER_ROW]][: len(LOI_HEADER)] == list(LOI_HEADER)
    rows = ws.iter_rows(min_row=LOI_HEADER_ROW + 1, max_col=len(LOI_HEADER), values_only=True)
    keys = ("severity", "sheet", "cell", "excel_row", "column_name", "value", "rule", "message")
    return [dict(zip(keys, row, strict=True)) for row in rows if row[0] is not None]


def _recorded(settings, file_id: int) -> list[tuple]:
    """A file's findings in the warehouse: its errors and warnings, and its information."""
    return query(
        settings,
        "select severity, sheet, cell, excel_row, column_name, value, rule, message "
        "from (from audit.rejected_row union all by name from audit.info_finding) "
        "where file_id = ?",
        [file_id],
    )


def _opens_with_calamine(path: Path) -> list[str]:
    workbook = CalamineWorkbook.from_path(str(path))
    try:
        for name in workbook.sheet_names:
            workbook.get_sheet_by_name(name).to_python()
        return workbook.sheet_names
    finally:
        workbook.close()


def test_feedback_marks_exactly_the_recorded_cells_and_lists_every_problem(settings):
    before = _landing(settings, "r_rule_errors.xlsx")
    run_steps(settings)

    for name, status in (
        ("r_rule_errors.xlsx", "quarantined"),
        ("663_2023_canh_bao.xlsx", "loaded"),
    ):
        file_id, recorded_status, _ = _file(settings, name)
        assert recorded_status == status
        path = _feedback_of(settings, name)
        recorded = _recorded(settings, file_id)
        expected = {
            (sheet, cell): FILLS[severity]
            for severity, sheet, cell, *_ in recorded
            if cell and severity in FILLS
        }
        assert expected, name  # the fixture has cell-level findings
        assert _marks(path) == expected

        workbook = openpyxl.load_workbook(path)
        assert workbook.sheetnames[0] == "Loi"
        for (sheet, cell), _ in expected.items():
            note = workbook[sheet][cell].comment.text
            messages = [r[7] for r in recorded if (r[1], r[2]) == (sheet, cell)]
            assert all(m in note for m in messages)
            assert " / " in note  # Vietnamese, then English

        listed = {
            (
                r["severity"],
                r["sheet"],
                r["cell"],
                r["excel_row"],
                r["column_name"],
                r["value"],
                r["rule"],
                r["message"],
            )
            for r in _loi(path)
            if r["rule"] != "file"
        }
        assert listed == {(SEVERITY_LABELS[r[0]], *r[1:]) for r in recorded}
        assert _opens_with_calamine(path)[0] == "Loi"

    # Info is listed, never coloured: the unknown extra column of the warned file.
    warned = _loi(_feedback_of(settings, "663_2023_canh_bao.xlsx"))
    assert [r["rule"] for r in warned if r["severity"] == SEVERITY_LABELS["info"]] == [
        "column_unknown"
    ]
    # The quarantined file's reason heads its list.
    rejected = _loi(_feedback_of(settings, "r_rule_errors.xlsx"))
    assert rejected[0]["rule"] == "file"
    assert rejected[0]["message"].startswith("Tệp bị từ chối")
    # The copy keeps the submitted values; the landing files are untouched.
    copy = openpyxl.load_workbook(_feedback_of(settings, "r_rule_errors.xlsx"))["HTX"]
    assert (copy["B2"].value, copy["B3"].value, copy["P4"].value) == (
        "6400123456",
        "6400123456",
        95,
    )
    assert {p.name: _sha(p) for p in settings.landing_dir.iterdir()} == before


def test_unopenable_workbooks_get_a_loi_only_workbook(settings):
    _landing(settings, *UNOPENABLE)
    run_steps(settings)
    for name in UNOPENABLE:
        file_id, status, _ = _file(settings, name)
        assert status == "quarantined"
        path = _feedback_of(settings, name)
        # neither unit nor year identified: named after the file the clerk sent
        assert path.name.startswith(f"{Path(name).stem}_loi_")
        assert path.exists()
        assert openpyxl.load_workbook(path).sheetnames == ["Loi"]
        assert _opens_with_calamine(path) == ["Loi"]
        listed = {(r["rule"], r["message"]) for r in _loi(path)}
        assert {(r[6], r[7]) for r in _recorded(settings, file_id)} <= listed
        note = openpyxl.load_workbook(path)["Loi"]["A4"].value
        assert note.startswith("Không tạo được bản sao đánh dấu")


def test_an_archive_of_reports_is_quarantined_and_told_to_be_unpacked(settings):
    """The district zipped its two reports: the zip is quarantined, its Loi says it is an
    archive holding them and to send them unpacked; the zip itself is kept as sent."""
    _landing(settings)
    packed = settings.landing_dir / "bao_cao_2023.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        archive.write(settings.landing_dir / "663_2023_canh_bao.xlsx", "663_2023.xlsx")
        archive.writestr("664_2023.xlsx", b"x")
    sent = _sha(packed)
    run_steps(settings)
    file_id, status, _ = _file(settings, "bao_cao_2023.zip")
    assert status == "quarantined"
    [recorded] = _recorded(settings, file_id)
    assert recorded[6] == "file_is_archive"
    assert "chứa 663_2023.xlsx, 664_2023.xlsx" in recorded[7]
    path = _feedback_of(settings, "bao_cao_2023.zip")
    assert openpyxl.load_workbook(path).sheetnames == ["Loi"]
    [problem] = _loi(path)
    assert problem["rule"] == "file_is_archive"
    assert "giải nén" in problem["message"]
    assert "tệp nén" in openpyxl.load_workbook(path)["Loi"]["A4"].value
    assert _sha(packed) == sent


def test_problems_without_a_cell_are_listed(settings):
    _landing(settings, "r_missing_column.xlsx", "r_unknown_unit.xlsx")
    run_steps(settings)
    path = _feedback_of(settings, "r_missing_column.xlsx")
    assert _marks(path) == {}
    [problem] = _loi(path)
    assert problem["rule"] == "column_missing"
    assert problem["cell"] is None
    assert openpyxl.load_workbook(path).sheetnames == ["Loi", "ThongTin", "HTX"]
    # A unit code no unit has is a failing ThongTin cell: listed with its cell, and marked.
    path = _feedback_of(settings, "r_unknown_unit.xlsx")
    [problem] = _loi(path)
    assert (problem["rule"], problem["cell"]) == ("unit_unknown", "B2")
    assert list(_marks(path)) == [("ThongTin", "B2")]
    assert openpyxl.load_workbook(path).sheetnames == ["Loi", "ThongTin", "HTX"]


def test_a_workbook_over_the_size_limit_gets_a_loi_only_workbook(settings, monkeypatch):
    monkeypatch.setattr(feedback, "MAX_RAW_BYTES", 1000)
    _landing(settings, "r_rule_errors.xlsx")
    run_steps(settings)
    path = _feedback_of(settings, "r_rule_errors.xlsx")
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["Loi"]
    assert "quá lớn" in workbook["Loi"]["A4"].value
    assert [r["cell"] for r in _loi(path)] == [None, "B2", "B3", "P4"]


def test_feedback_is_written_once_for_the_same_inputs(settings):
    _landing(settings, "r_rule_errors.xlsx")
    run_steps(settings)
    paths = feedback.write_feedback(settings)
    assert sorted(p.name for p in paths) == sorted(
        p.name for p in (settings.export_dir / "feedback").iterdir()
    )
    stamps = {p: p.stat().st_mtime_ns for p in paths}
    lists = {p: _loi(p) for p in paths}

    assert feedback.write_feedback(settings) == paths  # up to date: nothing rewritten
    assert {p: p.stat().st_mtime_ns for p in paths} == stamps
    paths[0].unlink()
    assert feedback.write_feedback(settings) == paths
    assert {p: _loi(p) for p in paths} == lists


def test_a_returned_feedback_copy_gets_fresh_marks_only(settings):
    _landing(settings, "r_rule_errors.xlsx")
    run_steps(settings)
    first = _feedback_of(settings, "r_rule_errors.xlsx")
    workbook = openpyxl.load_workbook(first)
    workbook["HTX"]["P4"].value = 60  # the clerk fixes the score, not the duplicate code
    workbook.save(settings.landing_dir / "663_2023_sua.xlsx")
    run_steps(settings, run_id="second-run")

    second = _feedback_of(settings, "663_2023_sua.xlsx")
    assert second != first
    assert _marks(second) == {("HTX", "B2"): FILLS["error"], ("HTX", "B3"): FILLS["error"]}
    again = openpyxl.load_workbook(second)
    assert again.sheetnames.count("Loi") == 1
    assert again.sheetnames[0] == "Loi"
    assert again["HTX"]["P4"].comment is None
    assert [r["cell"] for r in _loi(second)] == [None, "B2", "B3"]


def _ods_cell(value: object) -> str:
    if value is None or value == "":
        return "<table:table-cell/>"
    if isinstance(value, dt.date):
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
            f"<text:p>{value:%d/%m/%Y}</text:p></table:table-cell>"
        )
    if isinstance(value, int | float):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return (
        f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p>'
        "</table:table-cell>"
    )


def write_ods(path: Path, sheets: dict[str, list[list]], hidden: Iterable[str] = ()) -> Path:
    """A minimal OpenDocument spreadsheet, written by code (no LibreOffice needed); the
    sheets named in `hidden` are hidden, as LibreOffice saves it (a table style whose
    `table:display` is false)."""
    hidden = set(hidden)
    styles = (
        '<office:automatic-styles><style:style style:name="hidden" style:family="table">'
        '<style:table-properties table:display="false"/></style:style></office:automatic-styles>'
        if hidden
        else ""
    )
    tables = "".join(
        f'<table:table table:name="{escape(name)}"'
        + (' table:style-name="hidden">' if name in hidden else ">")
        + "".join(
            "<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>"
            for row in rows
        )
        + "</table:table>"
        for name, rows in sheets.items()
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"{styles}<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


def _cells(path: Path) -> dict[str, dict[tuple[int, int], object]]:
    """Every non-empty value by sheet and (row, column), as calamine reads it."""
    workbook = CalamineWorkbook.from_path(str(path))
    try:
        grids = {n: workbook.get_sheet_by_name(n).to_python() for n in workbook.sheet_names}
    finally:
        workbook.close()
    return {
        name: {
            (r, c): v.date() if isinstance(v, dt.datetime) and v.time() == dt.time() else v
            for r, row in enumerate(grid)
            for c, v in enumerate(row)
            if v not in (None, "")
        }
        for name, grid in grids.items()
    }


def test_ods_with_a_warning_is_rebuilt_value_by_value_and_marked(settings):
    title = [["BÁO CÁO TÌNH HÌNH HOẠT ĐỘNG HỢP TÁC XÃ NĂM 2023"], []]
    rows = [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "6400000002", **{"Số thành viên": 2})]
    source = write_ods(
        settings.landing_dir / "663_2023.ods", {"ThongTin": info_rows(), "HTX": title + rows}
    )
    run_steps(settings)
    file_id, status, _ = _file(settings, "663_2023.ods")
    assert status == "loaded"
    assert [(r[0], r[2]) for r in _recorded(settings, file_id)] == [("warning", "H5")]

    path = _feedback_of(settings, "663_2023.ods")
    assert path.suffix == ".xlsx"
    assert _marks(path) == {("HTX", "H5"): FILLS["warning"]}
    rebuilt = _cells(path)
    assert {k: v for k, v in rebuilt.items() if k != "Loi"} == _cells(source)


def test_an_ods_sheet_named_past_31_characters_is_marked_in_its_copy(settings):
    """LibreOffice takes a sheet name longer than Excel's 31 characters; the rebuilt .xlsx
    cuts it. The HTX list found by its header on such a sheet keeps its failing cell red
    and its link from `Loi`, while `Loi` names the sheet as the clerk's own file does.
    Before, the cut title named no recorded sheet: a rejected file without a red cell."""
    name = "Danh sách HTX năm 2023 của huyện Đắk Mil"  # 40 characters
    rows = [HTX_HEADER, htx_row(1, "6400000001", **{"Số lao động": -4})]
    write_ods(settings.landing_dir / "663_2023.ods", {"ThongTin": info_rows(), name: rows})
    run_steps(settings)
    file_id, status, _ = _file(settings, "663_2023.ods")
    assert status == "quarantined"
    assert [(r[1], r[2]) for r in _recorded(settings, file_id) if r[0] == "error"] == [(name, "I2")]

    path = _feedback_of(settings, "663_2023.ods")
    cut = name[:31]
    assert openpyxl.load_workbook(path).sheetnames == ["Loi", "ThongTin", cut]
    assert _marks(path) == {(cut, "I2"): FILLS["error"]}
    [listed] = [r for r in _loi(path) if r["cell"] == "I2"]
    assert listed["sheet"] == name
    link = openpyxl.load_workbook(path)["Loi"].cell(row=LOI_HEADER_ROW + 2, column=3)
    assert link.hyperlink.location == f"'{cut}'!I2"


def test_xls_copy_is_rebuilt_and_marked_from_the_recorded_addresses(settings):
    settings.landing_dir.mkdir(parents=True)
    shutil.copy(CORPUS / "f_template.xls", settings.landing_dir / "f_template.xls")
    run_steps(settings)
    file_id, status, _ = _file(settings, "f_template.xls")
    assert status == "loaded"
    # A recorded warning, as a later check across files and years could add it: the annotator
    # works from the address alone, never re-validating.
    con = ledger.connect(settings.ledger)
    try:
        con.execute(
            "insert into audit.rejected_row values (?, 'HTX', 8, 'Số thành viên', '8', "
            "'members_at_least_5', 'warning', ?, 'H8')",
            [file_id, "Ít hơn 5 thành viên. / Fewer than 5 members."],
        )
    finally:
        con.close()
    [path] = feedback.write_feedback(settings, [file_id])
    assert _marks(path) == {("HTX", "H8"): FILLS["warning"]}
    rebuilt = _cells(path)
    assert {k: v for k, v in rebuilt.items() if k != "Loi"} == _cells(CORPUS / "f_template.xls")


def test_alert_mail_carries_the_annotated_workbooks(
    settings, monkeypatch, smtp_server, webhook_receiver
):
    port, mails = smtp_server
    url, posts = webhook_receiver
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT", f"smtp://127.0.0.1:{port}?disable_ssl=true&disable_tls=true"
    )
    monkeypatch.setenv("AIRFLOW_VAR_HTX_ALERT_EMAILS", "kinhte.dakmil@huyen.example")
    monkeypatch.setenv("AIRFLOW_CONN_HTX_ALERT_WEBHOOK", url)
    _landing(settings, "r_rule_errors.xlsx")
    run_steps(settings)

    expected = {
        p.name: p.read_bytes()
        for p in (
            _feedback_of(settings, "r_rule_errors.xlsx"),
            _feedback_of(settings, "663_2023_canh_bao.xlsx"),
        )
    }
    [mail] = mails
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    attached = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert attached == expected
    for name, content in attached.items():
        copy = settings.state_dir / name
        copy.write_bytes(content)
        assert _opens_with_calamine(copy)[0] == "Loi"
    [post] = posts
    assert sorted(Path(p).name for p in post["feedback"]) == sorted(expected)

    run_steps(settings, run_id="rerun")
    assert len(mails) == 1
    assert len(posts) == 1


def test_attachments_stop_at_the_mail_size_limit(tmp_path):
    paths = []
    for name, size in (("a.xlsx", 600), ("b.xlsx", 500), ("c.xlsx", 300)):
        path = tmp_path / name
        path.write_bytes(b"x" * size)
        paths.append(str(path))
    assert notify.attachable((*paths, str(tmp_path / "gone.xlsx")), limit=1000) == [
        paths[0],
        paths[2],
    ]


def test_feedback_written_in_forks_is_the_feedback_written_here(
    sample_landing, tmp_path, monkeypatch, caplog
):
    from dataclasses import replace

    from conftest import with_landing

    settings = replace(with_landing(tmp_path / "w", sample_landing), processes=1)
    run_steps(settings)
    here = sorted((settings.export_dir / "feedback").glob("*.xlsx"))
    assert len(here) >= 2  # the sample has a quarantined file and warned ones

    monkeypatch.setattr(feedback, "FORK_FROM", 2)
    forked = replace(settings, export_dir=tmp_path / "forked", processes=2)
    with caplog.at_level("INFO", logger="etl"):
        paths = sorted(feedback.write_feedback(forked))
    assert [p.name for p in paths] == [p.name for p in here]
    for mine, theirs in zip(here, paths, strict=True):
        assert _loi(theirs) == _loi(mine)
        assert _marks(theirs) == _marks(mine)
    # Each fork's log line comes back to this process's log.
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("feedback for")]
    assert sorted(m.rsplit(" ", 1)[1] for m in logged if "/forked/" in m) == [str(p) for p in paths]


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("Báo cáo HTX 2023 (bản cuối).xlsx", "Báo_cáo_HTX_2023__bản_cuối__loi_0123abcd.xlsx"),
        ("Đắk Mil - HTX_2024 #2!.xls", "Đắk_Mil_-_HTX_2024__2__loi_0123abcd.xlsx"),
        ("nộp/ngày 5.1.ods", "ngày_5_1_loi_0123abcd.xlsx"),
        ("C:\\HTX\\Tuy Đức+Krông Nô.xlsx", "Tuy_Đức_Krông_Nô_loi_0123abcd.xlsx"),
        ("no_extension", "no_extension_loi_0123abcd.xlsx"),
        ("@@.xlsx", "___loi_0123abcd.xlsx"),
    ],
)
def test_feedback_names_keep_the_clerks_name(original, expected):
    assert feedback.feedback_name(original, "0123abcd" + "e" * 56) == expected


def test_feedback_names_compose_tone_marks_and_are_cut_at_100():
    decomposed = unicodedata.normalize("NFD", "Quảng Khê.xlsx")
    assert feedback.feedback_name(decomposed, "f" * 64) == "Quảng_Khê_loi_ffffffff.xlsx"
    name = feedback.feedback_name("Ư" * 150 + ".xlsx", "f" * 64)
    assert name == "Ư" * 100 + "_loi_ffffffff.xlsx"


def test_the_name_is_that_of_the_first_arrival_and_old_feedback_stays(settings):
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    first = "Kết quả HTX (gửi lần 1).xlsx"
    shutil.copy(CORPUS / "r_rule_errors.xlsx", settings.landing_dir / first)
    old = settings.export_dir / "feedback" / "664_2023_0123456789ab.xlsx"
    old.parent.mkdir(parents=True, exist_ok=True)
    old.write_bytes(b"feedback of an earlier version")
    run_steps(settings)
    # the same content again under another name: still named after its first arrival
    shutil.copy(CORPUS / "r_rule_errors.xlsx", settings.landing_dir / "copy 2.xlsx")
    run_steps(settings, run_id="again")
    sha = _sha(settings.landing_dir / first)
    paths = feedback.write_feedback(settings)
    expected = settings.export_dir / "feedback" / f"Kết_quả_HTX__gửi_lần_1__loi_{sha[:8]}.xlsx"
    assert expected in paths
    assert expected.exists()
    assert not (settings.export_dir / "feedback" / f"copy_2_loi_{sha[:8]}.xlsx").exists()
    assert old.read_bytes() == b"feedback of an earlier version"


def test_copies_found_by_one_run_name_the_feedback_after_the_one_that_landed_first(settings):
    """The copy that landed first is the original (README); its name names the feedback,
    whichever copy's file_id sorts first (hashes of the names)."""
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    names = ("z_gui_lan_1.xlsx", "a_ban_sao.xlsx", "m_ban_sao.xlsx", "b_ban_sao.xlsx")
    for minute, name in enumerate(names):
        path = settings.landing_dir / name
        shutil.copy(CORPUS / "r_rule_errors.xlsx", path)
        os.utime(path, (1_700_000_000 + 60 * minute,) * 2)
    run_steps(settings)
    assert query(
        settings, "select file_name from audit.file_ingestion where status <> 'duplicate'"
    ) == [(names[0],)]
    sha = _sha(settings.landing_dir / names[0])
    assert [p.name for p in (settings.export_dir / "feedback").iterdir()] == [
        f"z_gui_lan_1_loi_{sha[:8]}.xlsx"
    ]


# --- the copy at the zip level (issue 17) -------------------------------------------------


def _clerk_view(path: Path) -> dict:
    """Everything a clerk sees of a feedback workbook, as openpyxl and python-calamine read it:
    sheets, values, fills, notes, links, number formats, merges and the stamp."""
    workbook = openpyxl.load_workbook(path)
    seen: dict = {
        "sheetnames": workbook.sheetnames,
        "active": workbook.active.title,
        "states": [ws.sheet_state for ws in workbook.worksheets],
        "stamp": [p.value for p in workbook.custom_doc_props.props],
    }
    for ws in workbook.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for cell in row:
                fill = cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None
                note = (cell.comment.text, cell.comment.author) if cell.comment else None
                link = cell.hyperlink.location if cell.hyperlink is not None else None
                # openpyxl's own round trip drops text cells that are empty: "" is no value
                value = None if cell.value == "" else cell.value
                if value is not None or fill or note or link:
                    cells[cell.coordinate] = (value, fill, note, link, cell.number_format)
        seen[ws.title] = {
            "cells": cells,
            "merged": sorted(map(str, ws.merged_cells.ranges)),
            "hidden": _hidden_of(ws),
        }
    seen["calamine"] = _cells(path)
    return seen


def _package_problems(path: Path) -> list[str]:
    """What Excel would repair in a package: parts without a content type, overrides and
    relationship targets that do not exist, XML that does not parse, duplicate ids, cell
    styles past the end of cellXfs, more than one selected sheet."""
    import posixpath
    import re
    import xml.etree.ElementTree as ET

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    pkg = "{http://schemas.openxmlformats.org/package/2006/relationships}"
    found = []
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        parsed = {}
        for name in names:
            if name.endswith((".xml", ".rels", ".vml")):
                try:
                    parsed[name] = ET.fromstring(archive.read(name))  # noqa: S314  our own output
                except ET.ParseError as exc:
                    found.append(f"{name}: {exc}")
    types = parsed["[Content_Types].xml"]
    ct = "{http://schemas.openxmlformats.org/package/2006/content-types}"
    defaults = {e.get("Extension").lower() for e in types.iter(f"{ct}Default")}
    overrides = {e.get("PartName").lstrip("/") for e in types.iter(f"{ct}Override")}
    for name in names - {"[Content_Types].xml"}:
        if name not in overrides and name.rsplit(".", 1)[-1].lower() not in defaults:
            found.append(f"{name}: no content type")
    found += [f"{p}: overridden but missing" for p in overrides - names]
    for name, root in parsed.items():
        if not name.endswith(".rels"):
            continue
        source_dir = posixpath.dirname(posixpath.dirname(name))
        ids = [r.get("Id") for r in root.iter(f"{pkg}Relationship")]
        if len(ids) != len(set(ids)):
            found.append(f"{name}: duplicate ids")
        for r in root.iter(f"{pkg}Relationship"):
            if r.get("TargetMode") == "External":
                continue
            target = r.get("Target")
            resolved = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(source_dir, target))
            )
            if resolved not in names:
                found.append(f"{name}: {r.get('Id')} -> {resolved} missing")
    workbook = parsed["xl/workbook.xml"]
    rels = {r.get("Id") for r in parsed["xl/_rels/workbook.xml.rels"].iter(f"{pkg}Relationship")}
    sheets = list(workbook.iter(f"{main}sheet"))
    if len({s.get("sheetId") for s in sheets}) != len(sheets):
        found.append("duplicate sheetIds")
    found += [f"sheet {s.get('name')}: no part" for s in sheets if s.get(f"{rel}id") not in rels]
    styles = parsed["xl/styles.xml"]
    for tag, child in (("cellXfs", "xf"), ("fills", "fill"), ("fonts", "font")):
        [section] = styles.iter(f"{main}{tag}")
        if int(section.get("count")) != len(section.findall(f"{main}{child}")):
            found.append(f"styles.xml: {tag} count")
    xfs = len(next(styles.iter(f"{main}cellXfs")).findall(f"{main}xf"))
    selected = 0
    for name, root in parsed.items():
        if re.fullmatch(r"xl/worksheets/[^/]+\.xml", name):
            if any(int(c.get("s", 0)) >= xfs for c in root.iter(f"{main}c")):
                found.append(f"{name}: a cell style past cellXfs")
            selected += sum(
                v.get("tabSelected") in ("1", "true") for v in root.iter(f"{main}sheetView")
            )
    if selected != 1:
        found.append(f"{selected} selected sheets")
    return found


def _both_ways(tmp_path: Path, monkeypatch, submission, problems) -> tuple[Path, Path]:
    """The feedback of `submission` written at the zip level and with openpyxl."""
    stamp = feedback.fingerprint(submission, problems)
    used = []
    zip_copy = feedback._zip_copy
    monkeypatch.setattr(feedback, "_zip_copy", lambda *a: used.append(zip_copy(*a)) or used[-1])
    fast = feedback.write_one(tmp_path / "zip" / "f.xlsx", submission, problems, stamp)
    assert used == [True]  # the zip level made this copy
    monkeypatch.setattr(feedback, "ZIP_COPY", False)
    slow = feedback.write_one(tmp_path / "openpyxl" / "f.xlsx", submission, problems, stamp)
    monkeypatch.setattr(feedback, "ZIP_COPY", True)
    return fast, slow


def test_zip_level_copies_give_what_the_openpyxl_copies_give(settings, tmp_path, monkeypatch):
    before = _landing(settings, "r_rule_errors.xlsx")
    run_steps(settings)
    con = ledger.connect(settings.ledger, read_only=True)
    try:
        files = feedback.submissions(con)
        recorded = feedback.recorded_problems(con, [f.file_id for f in files])
    finally:
        con.close()
    assert {f.file_name for f in files} == {"r_rule_errors.xlsx", "663_2023_canh_bao.xlsx"}
    for submission in files:
        problems = feedback.problems_of(submission, recorded[submission.file_id])
        # also: an empty cell of an existing row, a cell of a row the sheet lacks, a sheet
        # named loosely, a cell on a sheet that does not exist, a second note on one cell
        extra = [
            feedback.Problem("warning", "r1", "Ô trống. / Empty cell.", "HTX", 2, "X", "", "Z2"),
            feedback.Problem("error", "r2", "Dòng mới. / New row.", "HTX", 40, "C", "", "C40"),
            feedback.Problem("warning", "r3", "Tên trang. / Sheet name.", " htx", 3, "B", "", "B3"),
            feedback.Problem("warning", "r4", "Không có. / None.", "Khac", 3, "B", "", "B3"),
            feedback.Problem("info", "r5", "Ghi chú <&> / Note", "HTX", 3, "A", "=1+1", "A3"),
        ]
        problems = feedback.problems_of(submission, recorded[submission.file_id] + extra)
        tag = submission.file_name
        fast, slow = _both_ways(tmp_path / tag, monkeypatch, submission, problems)
        assert _package_problems(fast) == [], tag
        assert _clerk_view(fast) == _clerk_view(slow), tag
        view = _clerk_view(fast)
        assert view["HTX"]["cells"]["Z2"][1] == FILLS["warning"]
        assert view["HTX"]["cells"]["C40"][1] == FILLS["error"]
        assert "Tên trang" in view["HTX"]["cells"]["B3"][2][0]
        assert view["sheetnames"][0] == view["active"] == "Loi"
        assert feedback.is_up_to_date(fast, feedback.fingerprint(submission, problems))
        # the parts a mark does not touch are the clerk's own, byte for byte
        with zipfile.ZipFile(fast) as copy, zipfile.ZipFile(submission.raw_path) as raw:
            assert copy.read("xl/sharedStrings.xml") == raw.read("xl/sharedStrings.xml")
            assert set(raw.namelist()) < set(copy.namelist())
    assert {p.name: _sha(p) for p in settings.landing_dir.iterdir()} == before


def _submission(raw: Path, name: str = "663_2023.xlsx") -> feedback.Submission:
    return feedback.Submission(1, name, _sha(raw), "663", 2023, "loaded", None, str(raw), name)


def test_zip_level_copy_keeps_merges_print_areas_and_hidden_sheets(tmp_path, monkeypatch):
    workbook = openpyxl.Workbook()
    first = workbook.active
    first.title = "ThongTin"
    first["A1"] = "Thông tin"
    ws = workbook.create_sheet("HTX")
    for r in range(1, 8):
        for c in range(1, 6):
            ws.cell(row=r, column=c, value=r * 10 + c)
    ws["B2"].number_format = "0.00"
    ws.merge_cells("A6:C7")
    ws.print_area = "A1:E7"
    workbook.create_sheet("An").sheet_state = "hidden"
    workbook.active = 1  # the clerk saved it on HTX
    raw = tmp_path / "raw.xlsx"
    workbook.save(raw)
    sha = _sha(raw)

    problems = [
        feedback.Problem("warning", "r", "Gộp. / Merged.", "HTX", 7, "B", "72", "B7"),  # inside
        feedback.Problem("error", "r", "Góc. / Corner.", "HTX", 6, "A", "61", "A6"),
        feedback.Problem("warning", "r", "Số. / Number.", "HTX", 2, "B", "22", "B2"),
        feedback.Problem("warning", "r", "Ẩn. / Hidden.", "An", 1, "A", "", "A1"),
    ]
    fast, slow = _both_ways(tmp_path, monkeypatch, _submission(raw), problems)
    assert _package_problems(fast) == []
    assert _clerk_view(fast) == _clerk_view(slow)
    copy = openpyxl.load_workbook(fast)
    assert copy["HTX"]["B7"].fill.fill_type is None  # inside a merged range: listed only
    assert copy["HTX"]["A6"].fill.fgColor.rgb == FILLS["error"]
    assert copy["HTX"]["B2"].number_format == "0.00"  # the cell keeps its format
    assert copy["HTX"].print_area == "'HTX'!$A$1:$E$7"  # still HTX's, not Loi's
    assert copy["An"].sheet_state == "hidden"
    assert _sha(raw) == sha


def test_xlsx_the_zip_level_does_not_take_is_copied_with_openpyxl(tmp_path):
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "HTX"
    ws["A1"], ws["A2"] = 1, "=A1+1"  # a formula: the copy keeps values only
    workbook.create_sheet("loi")["A1"] = "the clerk's own sheet"
    raw = tmp_path / "raw.xlsx"
    workbook.save(raw)
    problems = [feedback.Problem("warning", "r", "Cảnh báo. / Warning.", "HTX", 1, "A", "1", "A1")]
    submission = _submission(raw)
    path = tmp_path / "out" / "f.xlsx"
    assert not feedback._zip_copy(path, submission, problems, "stamp")
    assert not path.exists()
    feedback.write_one(path, submission, problems, "stamp")
    copy = openpyxl.load_workbook(path)
    assert copy.sheetnames == ["Loi", "HTX", "Loi_goc"]
    assert copy["HTX"]["A1"].fill.fgColor.rgb == FILLS["warning"]
    assert copy["HTX"]["A2"].value is None  # never calculated: no cached value


def test_every_xlsx_of_the_corpus_gets_the_same_copy_both_ways(tmp_path, monkeypatch):
    """The test corpus's workbooks (titles, merges, two-row headers, dates, blanks...), marked
    on every sheet at cells that exist and cells that do not."""
    copied = 0
    for raw in sorted(CORPUS.glob("*.xlsx")):
        if raw.name in UNOPENABLE:
            continue
        names = openpyxl.load_workbook(raw, read_only=True).sheetnames
        recorded = [
            feedback.Problem("warning", "r", f"Ô {a}. / Cell {a}.", name, None, None, "v", a)
            for name in names
            for a in ("A1", "B2", "D12", "AA300")
        ]
        recorded.append(
            feedback.Problem("error", "r", "Lỗi. / Error.", names[-1], 2, "B", "", "B2")
        )
        submission = _submission(raw, raw.name)
        problems = feedback.problems_of(submission, recorded)
        fast, slow = _both_ways(tmp_path / raw.stem, monkeypatch, submission, problems)
        assert _package_problems(fast) == [], raw.name
        assert _clerk_view(fast) == _clerk_view(slow), raw.name
        copied += 1
    assert copied >= 25


def test_a_warning_across_years_marks_its_cell_where_the_file_has_its_column(settings):
    """A revenue jump is found on the loaded warehouse, not in the file; its cell is where
    the file has `Doanh thu` (here moved last) on the row, marked and listed like any other."""
    landing = settings.landing_dir
    write_xlsx(
        landing / "664_2024.xlsx",
        {"ThongTin": info_rows("664", 2024), "HTX": [HTX_HEADER, htx_row(1, "6400000001")]},
    )
    run_steps(settings, run_id="first")
    moved = HTX_HEADER.index("Doanh thu")
    header = [h for h in HTX_HEADER if h != "Doanh thu"] + ["Doanh thu"]
    row = htx_row(1, "6400000001", **{"Doanh thu": 30000})
    row = [v for i, v in enumerate(row) if i != moved] + [row[moved]]
    write_xlsx(
        landing / "664_2025.xlsx",
        {"ThongTin": info_rows("664", 2025), "HTX": [header, row]},
    )
    run_steps(settings, run_id="second")
    file_id, _, _ = _file(settings, "664_2025.xlsx")
    [(cell,)] = query(
        settings,
        "select cell from audit.rejected_row where file_id = ? and rule = 'revenue_jump'",
        [file_id],
    )
    column = chr(ord("A") + len(header) - 1)
    assert cell == f"{column}2"
    path = _feedback_of(settings, "664_2025.xlsx")
    assert _marks(path)[("HTX", f"{column}2")] == FILLS["warning"]
    [listed] = [p for p in _loi(path) if p["rule"] == "revenue_jump"]
    assert (listed["cell"], listed["excel_row"]) == (f"{column}2", 2)
    comment = openpyxl.load_workbook(path)["HTX"][f"{column}2"].comment
    assert comment is not None
    assert "Doanh thu gấp hơn 10 lần" in comment.text
    assert "Revenue is more than 10 times" in comment.text


def _png() -> bytes:
    """A 1x1 red PNG, as a province's logo or a photo pasted into a workbook."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_a_workbook_with_drop_down_lists_keeps_its_image_in_the_feedback(settings, tmp_path):
    """A clerk's workbook with a data validation (the template's drop-down lists and checks:
    `<formula1>`) and an image, no formula in any cell: the feedback copy keeps the image,
    the drop-down list and the clerk's note, and marks the failing cell."""
    logo = tmp_path / "logo.png"
    logo.write_bytes(_png())
    rating = HTX_HEADER.index("Xếp loại")

    def drop_down_and_logo(sheets) -> None:
        sheets["HTX"].data_validation(
            1, rating, 500, rating, {"validate": "list", "source": ["Tốt", "Khá"]}
        )
        sheets["HTX"].insert_image("T1", str(logo))

    rows = [HTX_HEADER, htx_row(1, "6400000001", **{"Số lao động": -4})]
    path = settings.landing_dir / "663_2023_logo.xlsx"
    write_xlsx(path, {"ThongTin": info_rows(), "HTX": rows}, then=drop_down_and_logo)
    before = _sha(path)
    run_steps(settings)

    copy = _feedback_of(settings, path.name)
    assert _marks(copy) == {("HTX", "I2"): FILLS["error"]}
    with zipfile.ZipFile(copy) as package:
        images = [n for n in package.namelist() if n.startswith("xl/media/")]
        assert images == ["xl/media/image1.png"]
        assert package.read(images[0]) == _png()
    validations = openpyxl.load_workbook(copy)["HTX"].data_validations.dataValidation
    assert [(str(v.sqref), v.formula1) for v in validations] == [("O2:O501", '"Tốt,Khá"')]
    assert _sha(path) == before


def test_a_copy_that_cannot_keep_images_or_formats_says_so_in_loi(settings, tmp_path):
    """A workbook with a formula (the total row's SUM) goes through openpyxl, which keeps no
    image; an .ods is rebuilt from its values. `Loi` says what the copy lacks, in Vietnamese
    then English, and that the clerk's own file keeps it."""
    logo = tmp_path / "logo.png"
    logo.write_bytes(_png())
    revenue = HTX_HEADER.index("Doanh thu")

    def total_and_logo(sheets) -> None:
        sheets["HTX"].write(2, HTX_HEADER.index("Tên HTX"), "Tổng cộng")
        sheets["HTX"].write_formula(2, revenue, "=SUM(L2:L2)", None, 1650)
        sheets["HTX"].insert_image("T1", str(logo))

    rows = [HTX_HEADER, htx_row(1, "6400000001", **{"Số lao động": -4})]
    path = settings.landing_dir / "663_2023_tong.xlsx"
    write_xlsx(path, {"ThongTin": info_rows(), "HTX": rows}, then=total_and_logo)
    write_ods(settings.landing_dir / "664_2023.ods", {"ThongTin": info_rows("664"), "HTX": rows})
    run_steps(settings)

    copy = _feedback_of(settings, path.name)
    assert _marks(copy) == {("HTX", "I2"): FILLS["error"]}
    note = openpyxl.load_workbook(copy)["Loi"]["A4"].value
    assert note.startswith("Bản sao này không có 1 hình ảnh")
    assert "công thức" in note.split(" / ")[0]
    assert "This copy lacks the 1 image" in note
    ods = openpyxl.load_workbook(_feedback_of(settings, "664_2023.ods"))
    assert ods["HTX"]["I2"].fill.fgColor.rgb == FILLS["error"]
    note = ods["Loi"]["A4"].value
    assert note.startswith("Tệp .ods của bạn được chép lại chỉ với giá trị các ô")
    assert "values only" in note


def _merged_htx(settings, rows: list[list], merged: str) -> Path:
    """`663_2023.xlsx` in the landing folder: ThongTin, and an HTX sheet of `rows` whose
    cells `merged` (`P2:P3`) are one merged cell, as the clerk merged them in Excel."""
    workbook = openpyxl.Workbook()
    info = workbook.active
    info.title = "ThongTin"
    for row in info_rows():
        info.append(row)
    ws = workbook.create_sheet("HTX")
    for row in [HTX_HEADER, *rows]:
        ws.append(row)
    ws.merge_cells(merged)
    path = settings.landing_dir / "663_2023.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def test_a_failing_cell_inside_a_merged_range_is_marked_where_excel_shows_it(settings):
    """A score merged down over two cooperatives (P2:P3, 70) that the second one's rating
    (Tốt) disagrees with: the failing cell P3 is inside the merge, and its anchor P2 breaks
    nothing. The clerk sees the merge as P2, so P2 is marked with P3's note, P3 stays listed
    in `Loi` as recorded, and the file's only error is not left without a red cell."""
    rows = [
        htx_row(1, "6400000001", **{"Xếp loại": "Khá", "Điểm": 70}),
        htx_row(2, "6400000002", **{"Xếp loại": "Tốt", "Điểm": None}),
    ]
    path = _merged_htx(settings, rows, "P2:P3")
    before = _sha(path)
    run_steps(settings)

    file_id, status, _ = _file(settings, path.name)
    assert status == "quarantined"
    assert [(r[1], r[2], r[6]) for r in _recorded(settings, file_id)] == [
        ("HTX", "P3", "rating_matches_score")
    ]
    copy = _feedback_of(settings, path.name)
    assert _marks(copy) == {("HTX", "P2"): FILLS["error"]}
    note = openpyxl.load_workbook(copy)["HTX"]["P2"].comment.text
    assert "Tốt cần điểm từ 80 trở lên" in note
    assert [r["cell"] for r in _loi(copy) if r["rule"] != "file"] == ["P3"]
    assert _sha(path) == before


def test_a_commune_merged_down_gets_one_note_naming_the_rows_it_covers(settings):
    """An unknown commune merged down over three cooperatives (D2:D4, rule 12) fails on each
    row. The clerk sees one merged cell: its note says the message once, with the cells it
    stands for. Before, the note held the same long message three times, none saying which
    cooperative it was about."""
    rows = [
        htx_row(1, "6400000001", **{"Xã/Phường": "Xã Không Có"}),
        htx_row(2, "6400000002", **{"Xã/Phường": None}),
        htx_row(3, "6400000003", **{"Xã/Phường": None, "Số thành viên": 3}),
    ]
    path = _merged_htx(settings, rows, "D2:D4")
    run_steps(settings)

    file_id, status, _ = _file(settings, path.name)
    assert status == "loaded"
    recorded = _recorded(settings, file_id)
    assert sorted(r[2] for r in recorded if r[6] == "commune_known") == ["D2", "D3", "D4"]
    [message] = {r[7] for r in recorded if r[6] == "commune_known"}
    copy = _feedback_of(settings, path.name)
    assert _marks(copy) == {("HTX", "D2"): FILLS["warning"], ("HTX", "H4"): FILLS["warning"]}
    note = openpyxl.load_workbook(copy)["HTX"]["D2"].comment.text
    assert note.count(message) == 1
    assert "D2, D3, D4" in note
    # a cell of its own keeps its note as it was
    assert openpyxl.load_workbook(copy)["HTX"]["H4"].comment.text == (
        "[Cảnh báo / warning] HTX phải có ít nhất 5 thành viên. / A cooperative needs at least "
        "5 members. (members_at_least_5)"
    )


def test_a_copy_the_program_cannot_make_is_told_in_vietnamese_without_its_exception(
    settings, tmp_path, monkeypatch
):
    """openpyxl chokes on a hostile workbook: the Loi-only workbook's note tells the clerk
    in Vietnamese that the file could not be opened, and keeps the program's exception for
    the English half, where the data team reads it. Before, `RuntimeError: …` stood inside
    the Vietnamese sentence."""
    _landing(settings, "r_rule_errors.xlsx")
    run_steps(settings)
    con = ledger.connect(settings.ledger, read_only=True)
    try:
        [submission] = feedback.submissions(con, [_file(settings, "r_rule_errors.xlsx")[0]])
        problems = feedback.problems_of(
            submission, feedback.recorded_problems(con, [submission.file_id])[submission.file_id]
        )
    finally:
        con.close()

    def choke(*_):
        raise RuntimeError("openpyxl choked on the styles part")

    monkeypatch.setattr(feedback, "ZIP_COPY", False)
    monkeypatch.setattr(feedback, "annotate", choke)
    path = feedback.write_one(
        tmp_path / "f.xlsx", submission, problems, feedback.fingerprint(submission, problems)
    )
    vi, en = halves(openpyxl.load_workbook(path)["Loi"]["A4"].value)
    assert vi.startswith("Không tạo được bản sao đánh dấu của tệp (tệp không mở được)")
    assert "RuntimeError" not in vi
    assert "RuntimeError: openpyxl choked on the styles part" in en


@pytest.mark.parametrize(
    ("content", "said_vi", "said_en"),
    [
        (b"<html><body><table><tr><td>1</td></tr></table></body></html>", "trang web", "web page"),
        (b"Ma so HTX,Ten HTX\n6400000001,HTX A\n", "tệp văn bản CSV", "CSV text file"),
    ],
)
def test_a_loi_only_note_of_a_file_saved_in_another_format_names_that_format(
    tmp_path, content, said_vi, said_en
):
    """A web page or a CSV file named .xlsx (as reporting software saves it) gets a
    Loi-only workbook whose note says what the file is, in each language, as its rejection
    does (`saved_in_other_format`). Before, both halves held the sniffer's own kind:
    'Không tạo được bản sao đánh dấu của tệp (html)'."""
    raw = tmp_path / "663_2023.xlsx"
    raw.write_bytes(content)
    with pytest.raises(feedback.Unopenable) as refused:
        feedback.open_copy(str(raw), tmp_path)
    vi, en = halves(str(refused.value))
    assert said_vi in vi
    assert said_en in en
    assert "(html)" not in vi
    assert "(csv)" not in vi


@pytest.mark.parametrize(
    ("unit", "year", "problem", "shown"),
    [
        (
            None,
            2023,
            feedback.Problem("error", "unit_unknown", "…", "ThongTin", 2, "Mã đơn vị", "999", "B2"),
            "Đơn vị / Unit: '999' (không xác định / not identified)   Năm / Year: 2023",
        ),
        (
            None,
            None,
            feedback.Problem("error", "year_invalid", "…", "ThongTin", 4, "Năm báo cáo", "2035"),
            "Đơn vị / Unit: ?   Năm / Year: '2035' (không hợp lệ / invalid)",
        ),
        (
            ("664", None),
            None,
            feedback.Problem("error", "year_invalid", "…", "ThongTin", 4, "Năm báo cáo", "2035"),
            "Đơn vị / Unit: '664' (không xác định / not identified)   "
            "Năm / Year: '2035' (không hợp lệ / invalid)",
        ),
        (
            ("663", None),
            2023,
            feedback.Problem("error", "unit_name_mismatch", "…", "ThongTin", 3, "Tên đơn vị", "X"),
            "Đơn vị / Unit: '663' (mã và tên không khớp / code and name disagree)   "
            "Năm / Year: 2023",
        ),
        (
            None,
            2026,
            feedback.Problem("error", "unit_ambiguous", "…", None, None, "tên tệp", "krong_no"),
            "Đơn vị / Unit: 'krong_no' (không xác định / not identified)   Năm / Year: 2026",
        ),
        (
            "663",
            2023,
            feedback.Problem("warning", "members_min", "…", "HTX", 3, "Số thành viên", "3"),
            "Đơn vị / Unit: 663   Năm / Year: 2023",
        ),
    ],
)
def test_loi_says_the_unit_and_year_read_from_a_file_rejected_on_them(unit, year, problem, shown):
    """A file rejected because its unit or year was not identified: `Loi` shows what the file
    gave (the code or year the reason quotes, the year read beside an unknown unit, the code
    read beside an invalid year or a name of another unit), not `?`. `unit`: (read, kept) for
    a file whose unit the ledger does not record."""
    read, unit = unit if isinstance(unit, tuple) else (None, unit)
    submission = feedback.Submission(
        1, "a.xlsx", "ab" * 32, unit, year, "quarantined", "…", None, unit_read=read
    )
    workbook = openpyxl.Workbook()
    ws = feedback.add_loi_sheet(workbook, submission, [problem], None)
    assert ws.cell(row=2, column=1).value.startswith(shown)


def test_a_duplicate_code_note_names_the_other_rows_with_that_code(settings):
    """A code given three times, below two title rows (the header on row 3), once with
    spaces (rule 8: the same code): each red cell's note says on which other rows the code
    is, as Excel numbers them, so the clerk of a 300-row sheet need not search for them.
    The reason, which groups the cells by message, still counts one message."""
    rows = [["UBND HUYỆN ĐẮK MIL"], ["BÁO CÁO HTX NĂM 2023"], HTX_HEADER]
    rows += [htx_row(n, f"640000000{n}") for n in range(1, 6)]  # rows 4-8
    rows += [htx_row(6, "6400000002"), htx_row(7, "6400 000 002"), htx_row(8, "6400000009")]
    path = write_xlsx(
        settings.landing_dir / "663_2023_trung_ma.xlsx", {"ThongTin": info_rows(), "HTX": rows}
    )
    before = _sha(path)
    run_steps(settings)

    file_id, status, _ = _file(settings, path.name)
    assert status == "quarantined"
    assert sorted(r[2] for r in _recorded(settings, file_id)) == ["B10", "B5", "B9"]
    copy = openpyxl.load_workbook(_feedback_of(settings, path.name))["HTX"]
    notes = {cell: copy[cell].comment.text for cell in ("B5", "B9", "B10")}
    duplicate = (
        "[Lỗi / error] Mã số HTX bị trùng trong tệp. / The cooperative code appears more than "
        "once in the file. Cũng ở dòng {} / also on rows {}. (coop_code_unique)"
    )
    assert notes == {
        "B5": duplicate.format("9, 10", "9, 10"),
        "B9": duplicate.format("5, 10", "5, 10"),
        "B10": duplicate.format("5, 9", "5, 9"),
    }
    [(reason,)] = query(
        settings, "select reason from audit.file_ingestion where file_id = ?", [file_id]
    )
    assert "Mã số HTX bị trùng trong tệp (3 ô)" in reason
    assert _sha(path) == before


def test_two_ods_sheets_alike_in_their_first_31_characters_keep_their_own_marks(settings):
    """Two .ods sheet names that differ only past Excel's 31 characters: the rebuilt .xlsx
    gives each its own title of at most 31 characters, and the failing cell of the HTX list
    (found by its header on the second sheet) is marked, and linked from `Loi`, on that
    sheet's copy. Before, both were cut to the same title: openpyxl renamed the second one
    to 32 characters (a name Excel refuses), and the mark and the link went to the first
    sheet, a draft, on an empty cell."""
    draft = "Danh sách hợp tác xã năm 2023 - bản nháp"
    final = "Danh sách hợp tác xã năm 2023 - bản chính"
    assert draft[:31] == final[:31]
    rows = [HTX_HEADER, htx_row(1, "6400000001", **{"Số lao động": -4})]
    source = write_ods(
        settings.landing_dir / "663_2023.ods",
        {"ThongTin": info_rows(), draft: [["Bản nháp, không dùng"]], final: rows},
    )
    before = _sha(source)
    run_steps(settings)
    file_id, status, _ = _file(settings, "663_2023.ods")
    assert status == "quarantined"
    assert [(r[1], r[2]) for r in _recorded(settings, file_id) if r[0] == "error"] == [
        (final, "I2")
    ]

    path = _feedback_of(settings, "663_2023.ods")
    workbook = openpyxl.load_workbook(path)
    titles = workbook.sheetnames
    assert all(len(t) <= 31 for t in titles)
    assert len({t.lower() for t in titles}) == len(titles) == 4
    [copy] = [ws for ws in workbook.worksheets if ws["A1"].value == "STT"]
    assert copy.title != draft[:31]
    assert _marks(path) == {(copy.title, "I2"): FILLS["error"]}
    link = workbook["Loi"].cell(row=LOI_HEADER_ROW + 2, column=3)
    assert link.hyperlink.location == f"'{copy.title}'!I2"
    assert _sha(source) == before


def _hidden(path: Path, sheet: str) -> tuple[list[int], list[int]]:
    """The hidden rows and the hidden columns (by index) of a sheet of a workbook."""
    return _hidden_of(openpyxl.load_workbook(path)[sheet])


def _hidden_of(ws) -> tuple[list[int], list[int]]:
    rows = sorted(r for r, d in ws.row_dimensions.items() if d.hidden)
    columns = sorted(
        c
        for d in ws.column_dimensions.values()
        if d.hidden and d.min is not None
        for c in range(d.min, (d.max or d.min) + 1)
    )
    return rows, columns


def test_a_marked_cell_on_a_hidden_row_or_column_is_shown_in_the_copy(
    settings, tmp_path, monkeypatch
):
    """A failing cell on a row (or in a column) the clerk hid: both copies show that row and
    column, and only those, and `Loi` says so; the clerk's own file keeps them hidden. Before,
    the red cell stayed hidden and `Loi`'s link jumped to a cell no one could see."""
    workers = HTX_HEADER.index("Số lao động") + 1  # 1-based column of the failing cell
    rows = [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "6400000002", **{"Số lao động": -4})]
    rows.append(htx_row(3, "6400000003"))

    def hide(sheets):
        sheets["HTX"].set_row(2, None, None, {"hidden": True})  # Excel row 3: the error
        sheets["HTX"].set_row(3, None, None, {"hidden": True})  # Excel row 4: nothing marked
        sheets["HTX"].set_column(workers - 2, workers, None, None, {"hidden": True})

    source = write_xlsx(
        settings.landing_dir / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": rows}, hide
    )
    before = _sha(source)
    hidden_before = _hidden(source, "HTX")
    assert hidden_before == ([3, 4], [workers - 1, workers, workers + 1])
    run_steps(settings)
    file_id, status, _ = _file(settings, "663_2023.xlsx")
    assert status == "quarantined"
    letter = openpyxl.utils.get_column_letter(workers)
    assert [r[2] for r in _recorded(settings, file_id) if r[0] == "error"] == [f"{letter}3"]

    path = _feedback_of(settings, "663_2023.xlsx")
    assert _marks(path) == {("HTX", f"{letter}3"): FILLS["error"]}
    assert _hidden(path, "HTX") == ([4], [workers - 1, workers + 1])
    said = openpyxl.load_workbook(path)["Loi"]["A5"].value
    vi, en = halves(said)
    assert f"trang 'HTX': dòng 3; cột {letter}" in vi
    assert f"sheet 'HTX': row 3; column {letter}" in en
    assert _sha(source) == before
    assert _hidden(source, "HTX") == hidden_before

    # the openpyxl copy (an .xlsx the zip level does not take) shows the same
    con = ledger.connect(settings.ledger, read_only=True)
    try:
        [submission] = feedback.submissions(con, [file_id])
        problems = feedback.problems_of(
            submission, feedback.recorded_problems(con, [file_id])[file_id]
        )
    finally:
        con.close()
    fast, slow = _both_ways(tmp_path, monkeypatch, submission, problems)
    assert _package_problems(fast) == []
    assert _clerk_view(fast) == _clerk_view(slow)
    assert _hidden(slow, "HTX") == ([4], [workers - 1, workers + 1])
    assert openpyxl.load_workbook(slow)["Loi"]["A5"].value == said
    assert _sha(source) == before


def test_loi_quotes_the_unit_read_from_a_file_rejected_on_its_year_or_its_name(settings):
    """A file whose year is invalid, or whose `Tên đơn vị` names another unit than its code:
    `Loi` quotes the code it gave and why it counts for nothing, where it said `Unit: ?`; the
    audit trail still records no unit for it (it is no report of that unit)."""
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(CORPUS / "r_year_out_of_range.xlsx", settings.landing_dir / "663_2019.xlsx")
    info = info_rows("663")
    info[2] = ["Tên đơn vị", info_rows("664")[2][1]]  # another district's name
    write_xlsx(
        settings.landing_dir / "663_2023_ten.xlsx",
        {"ThongTin": info, "HTX": [HTX_HEADER, htx_row(1, "6400000001")]},
    )
    run_steps(settings)
    for name, rule, shown in (
        (
            "663_2019.xlsx",
            "year_invalid",
            "Đơn vị / Unit: '663' (không xác định / not identified)   "
            "Năm / Year: '2019' (không hợp lệ / invalid)",
        ),
        (
            "663_2023_ten.xlsx",
            "unit_name_mismatch",
            "Đơn vị / Unit: '663' (mã và tên không khớp / code and name disagree)   "
            "Năm / Year: 2023",
        ),
    ):
        file_id, status, _ = _file(settings, name)
        assert status == "quarantined"
        assert rule in {r[6] for r in _recorded(settings, file_id)}
        [(unit,)] = query(
            settings, "select unit_code from audit.file_ingestion where file_id = ?", [file_id]
        )
        assert unit is None
        head = openpyxl.load_workbook(_feedback_of(settings, name))["Loi"]["A2"].value
        assert head.startswith(shown), head
