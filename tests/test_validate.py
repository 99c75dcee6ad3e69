"""The GX suites: every failing cell found with sheet, Excel row, column, value and rule."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from conftest import (
    HTX_HEADER,
    LINK_HEADER,
    OCOP_HEADER,
    SUPPORT_HEADER,
    htx_row,
    info_rows,
    write_xlsx,
)

from etl.config import EXPECTATIONS_DIR
from etl.contract.layout import DATA_SHEETS
from etl.contract.reference import load_reference
from etl.quality.validate import load_suite_documents, validate_batch
from etl.read.discover import LandedFile, file_id_for, sha256_of
from etl.read.frames import ReadFile, build_frames
from etl.read.identify import identify
from etl.read.reader import read_workbook
from etl.warehouse.staging import read_outcome, stage_batch


def _stage(tmp_path, sheets: dict, name: str = "663_2023.xlsx") -> dict:
    path = write_xlsx(tmp_path / "landing" / name, sheets)
    sha = sha256_of(path)
    landed = LandedFile(file_id_for(sha), name, sha, path.stat().st_size, str(path))
    staging = tmp_path / "staging"
    [summary] = stage_batch([landed], staging, "test-run")
    return read_outcome(staging, summary["file_id"])


def _cells(outcome: dict, severity: str = "error") -> set[tuple]:
    return {
        (f["sheet"], f["excel_row"], f["column_name"], f["rule"])
        for f in outcome["findings"]
        if f["severity"] == severity
    }


def test_suite_documents_are_the_files_in_order_and_the_callers_own_copy():
    from etl.contract import rules
    from etl.quality.validate import WAREHOUSE_CHECKS

    documents = load_suite_documents()
    keys = [sheet.key for sheet in DATA_SHEETS] + [f"warehouse/{c}" for c in WAREHOUSE_CHECKS]
    assert list(documents) == keys
    for key, document in documents.items():
        assert document == json.loads((EXPECTATIONS_DIR / f"{key}.json").read_text("utf-8"))
    # GX writes into a suite's meta: what one caller changes, the rules and others never see.
    documents["htx"]["meta"]["written_by_gx"] = True
    assert "written_by_gx" not in rules.current().documents["htx"]["meta"]
    assert "written_by_gx" not in load_suite_documents()["htx"]["meta"]


def test_every_expectation_carries_severity_and_messages():
    for suite in load_suite_documents().values():
        for expectation in suite["expectations"]:
            meta = expectation["meta"]
            assert meta["severity"] in ("error", "warning"), expectation
            assert meta["message_vi"], expectation
            assert meta["message_en"], expectation
    assert sorted(p.name for p in EXPECTATIONS_DIR.glob("*.json")) == [
        "hotro.json",
        "htx.json",
        "lienket.json",
        "ocop.json",
    ]


def test_valid_workbook_passes_without_findings(tmp_path):
    rows = [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "6400000002")]
    outcome = _stage(tmp_path, {"ThongTin": info_rows(), "HTX": rows})
    assert outcome["status"] == "valid", outcome["findings"]
    assert outcome["findings"] == []
    assert outcome["rows_read"] == 2


def test_rule_failures_quarantine_the_file_with_each_cell(tmp_path):
    rows = [
        ["UBND HUYỆN ĐẮK MIL"],
        HTX_HEADER,
        htx_row(1, "6400000001"),
        htx_row(2, "6400000001"),  # duplicate code
        htx_row(3, "12345"),  # invalid code
        htx_row(4, "6400000004", **{"Xếp loại": "Tốt", "Điểm": 55}),  # rating vs score
        htx_row(5, "6400000005", **{"Số lao động": -3}),  # negative count
        htx_row(6, "6400000006", **{"Ngày thành lập": dt.date(2024, 5, 1)}),  # after the year
        htx_row(7, "6400000007", **{"Doanh thu": "nhiều"}),  # not a number
    ]
    support = [
        SUPPORT_HEADER,
        ["6400000001", "NTM", "Máy sấy", "Tỉnh", 100, 2023],
        ["6499999999", "NTM", "Kho", "Tỉnh", 50, 2023],  # not in the HTX sheet
        ["6400000004", "XYZ", "Kho", "Tỉnh", 0, 2022],  # unknown programme, 0, wrong year
    ]
    ocop = [
        OCOP_HEADER,
        ["6400000001", "Cà phê", "Đồ uống", 6, "1/QĐ", dt.date(2022, 1, 1)],  # 6 stars
    ]
    outcome = _stage(
        tmp_path, {"ThongTin": info_rows(), "HTX": rows, "HoTro": support, "OCOP": ocop}
    )
    assert outcome["status"] == "quarantined"
    assert _cells(outcome) == {
        ("HTX", 4, "Mã số HTX", "coop_code_unique"),
        ("HTX", 3, "Mã số HTX", "coop_code_unique"),
        ("HTX", 5, "Mã số HTX", "coop_code_format"),
        ("HTX", 6, "Điểm", "rating_matches_score"),
        ("HTX", 7, "Số lao động", "workers_not_negative"),
        ("HTX", 8, "Ngày thành lập", "founded_not_after_report_year"),
        ("HTX", 9, "Doanh thu", "revenue_mvnd_readable"),
        ("HoTro", 3, "Mã số HTX", "coop_in_htx_sheet"),
        ("HoTro", 4, "Chương trình", "program_known"),
        ("HoTro", 4, "Kinh phí", "amount_positive"),
        ("HoTro", 4, "Năm", "support_year_is_report_year"),
        ("OCOP", 2, "Số sao", "stars_3_to_5"),
    }
    assert outcome["rows_rejected"] == 10
    assert "Tệp bị từ chối" in outcome["reason"]
    assert "File rejected" in outcome["reason"]
    by_rule = {f["rule"]: f for f in outcome["findings"]}
    assert by_rule["workers_not_negative"]["value"] == "-3"
    assert by_rule["revenue_mvnd_readable"]["value"] == "nhiều"
    assert "Xếp loại không khớp với điểm" in by_rule["rating_matches_score"]["message"]


def test_a_message_names_the_sheets_by_the_titles_the_workbook_gives_them(tmp_path):
    """A clerk looks for the tabs whose titles they see: a code of `Hỗ trợ` missing from the
    HTX list names `Hỗ trợ` and the list's own title (an alias, or a sheet found by its
    header), not the contract's `HoTro` and `HTX`; the finding's sheet stays the title."""
    rows = [HTX_HEADER, htx_row(1, "6400000001")]
    support = [
        SUPPORT_HEADER,
        ["6499999999", "NTM", "Kho", "Tỉnh", 50, 2023],
        [None, "NTM", "Kho", "Tỉnh", 11, 2023],
    ]
    for htx_title in ("Danh sach HTX", "Biểu 01"):
        sheets = {"ThongTin": info_rows(), htx_title: rows, "Hỗ trợ": support}
        outcome = _stage(tmp_path / htx_title, sheets)
        assert _cells(outcome) == {
            ("Hỗ trợ", 2, "Mã số HTX", "coop_in_htx_sheet"),
            ("Hỗ trợ", 3, "Mã số HTX", "coop_code_required"),
        }
        by_rule = {f["rule"]: f["message"] for f in outcome["findings"]}
        for message in (
            by_rule["coop_in_htx_sheet"],
            by_rule["coop_code_required"],
            outcome["reason"],
        ):
            for named in ("trang 'Hỗ trợ'", f"trang '{htx_title}'"):  # Vietnamese
                assert named in message, message
            for named in ("sheet 'Hỗ trợ'", f"'{htx_title}' sheet"):  # English
                assert named in message, message
            assert "HoTro" not in message, message


def test_a_value_written_but_unreadable_is_unreadable_not_missing(tmp_path):
    """`4,5 sao` in `Số sao`, `nhiều` in `Kinh phí`: each cell fails its `…_readable` rule
    once, not also `…_required` ("Thiếu số sao": the clerk did write one); `12 tấn` in
    `Kinh phí` is `unit_mismatch` only."""
    rows = [HTX_HEADER, htx_row(1, "6400000001")]
    support = [SUPPORT_HEADER, ["6400000001", "NTM", "Máy sấy", "Tỉnh", "nhiều", 2023]]
    ocop = [OCOP_HEADER, ["6400000001", "Cà phê", "Đồ uống", 4.5, "1/QĐ", dt.date(2022, 1, 1)]]
    outcome = _stage(
        tmp_path, {"ThongTin": info_rows(), "HTX": rows, "HoTro": support, "OCOP": ocop}
    )
    assert _cells(outcome) == {
        ("HoTro", 2, "Kinh phí", "amount_mvnd_readable"),
        ("OCOP", 2, "Số sao", "stars_readable"),
    }
    mismatched = [SUPPORT_HEADER, ["6400000001", "NTM", "Máy sấy", "Tỉnh", "12 tấn", 2023]]
    outcome = _stage(tmp_path / "1", {"ThongTin": info_rows(), "HTX": rows, "HoTro": mismatched})
    assert _cells(outcome) == {("HoTro", 2, "Kinh phí", "unit_mismatch")}


def test_a_code_cell_of_words_fails_showing_the_cell_as_written(tmp_path):
    """`Đang cập nhật` or `6400 000 001 x` in `Mã số HTX`: no code. The finding shows the
    cell as the clerk wrote it; before, its spaces were taken out as a code's are
    (`Đangcậpnhật`), and the clerk could not find the cell's text in the reason."""
    rows = [
        HTX_HEADER,
        htx_row(1, "6400 000 001"),
        htx_row(2, "Đang cập nhật"),
        htx_row(3, "6400 000 003 x"),
    ]
    support = [SUPPORT_HEADER, ["HTX Nông nghiệp số 1", "NTM", "Máy sấy", "Tỉnh", 50, 2023]]
    outcome = _stage(tmp_path, {"ThongTin": info_rows(), "HTX": rows, "HoTro": support})
    found = {
        (f["sheet"], f["cell"], f["value"]) for f in outcome["findings"] if f["severity"] == "error"
    }
    assert found == {
        ("HTX", "B3", "Đang cập nhật"),
        ("HTX", "B4", "6400 000 003 x"),
        ("HoTro", "A2", "HTX Nông nghiệp số 1"),
    }


@pytest.mark.parametrize("blank", [None, "-", "–", "x"])
def test_a_blank_amount_or_stars_is_not_reported_a_warning_not_a_rejection(tmp_path, blank):
    """Rule 6: an empty `Kinh phí` or `Số sao` (or `-`, `–`, `x`) is not reported, never 0 and
    no reason to reject the file: `amount_required` and `stars_required` warn, naming the
    sheet and Excel row and saying the row loads without the value. The other numbers of
    the optional sheets (HoTro `Năm`, LienKet `Sản lượng (tấn)`, `Giá trị hợp đồng`) may be
    blank without a word: a support line is of the report year it came in."""
    rows = [HTX_HEADER, htx_row(1, "6400000001")]
    support = [
        SUPPORT_HEADER,
        ["6400000001", "NTM", "Kho", "Tỉnh", 50, blank],
        ["6400000001", "NTM", "Máy sấy", "Tỉnh", blank, 2023],
    ]
    ocop = [OCOP_HEADER, ["6400000001", "Cà phê", "Đồ uống", blank, "1/QĐ", dt.date(2022, 1, 1)]]
    links = [LINK_HEADER, ["6400000001", "Công ty A", "Cà phê", blank, blank]]
    outcome = _stage(
        tmp_path,
        {"ThongTin": info_rows(), "HTX": rows, "HoTro": support, "OCOP": ocop, "LienKet": links},
    )
    assert outcome["status"] == "valid"
    assert _cells(outcome) == set()
    assert _cells(outcome, "warning") == {
        ("HoTro", 3, "Kinh phí", "amount_required"),
        ("OCOP", 2, "Số sao", "stars_required"),
    }
    by_rule = {f["rule"]: f["message"] for f in outcome["findings"]}
    assert "Chưa ghi kinh phí hỗ trợ: dòng vẫn được nạp" in by_rule["amount_required"]
    assert "the row is loaded without an amount" in by_rule["amount_required"]
    assert "Chưa ghi số sao: dòng vẫn được nạp" in by_rule["stars_required"]
    assert "the row is loaded without its stars" in by_rule["stars_required"]


@pytest.mark.parametrize(
    ("amount", "stars", "expected"),
    [
        (0, 4, {("HoTro", 2, "Kinh phí", "amount_positive")}),
        (-5, 4, {("HoTro", 2, "Kinh phí", "amount_positive")}),
        (50, 2, {("OCOP", 2, "Số sao", "stars_3_to_5")}),
        (50, 6, {("OCOP", 2, "Số sao", "stars_3_to_5")}),
        (
            "nhiều",
            "nhiều sao",
            {
                ("HoTro", 2, "Kinh phí", "amount_mvnd_readable"),
                ("OCOP", 2, "Số sao", "stars_readable"),
            },
        ),
    ],
)
def test_an_amount_or_stars_written_wrong_still_rejects(tmp_path, amount, stars, expected):
    """Only a blank is not reported: a value present but wrong (0, negative, 2 or 6 stars,
    unreadable text) stays an error of its cell, with no `…_required` warning beside it."""
    rows = [HTX_HEADER, htx_row(1, "6400000001")]
    support = [SUPPORT_HEADER, ["6400000001", "NTM", "Kho", "Tỉnh", amount, 2023]]
    ocop = [OCOP_HEADER, ["6400000001", "Cà phê", "Đồ uống", stars, "1/QĐ", dt.date(2022, 1, 1)]]
    outcome = _stage(
        tmp_path, {"ThongTin": info_rows(), "HTX": rows, "HoTro": support, "OCOP": ocop}
    )
    assert outcome["status"] == "quarantined"
    assert _cells(outcome) == expected
    assert _cells(outcome, "warning") == set()


def test_a_support_ocop_or_offtake_row_without_code_or_programme_is_never_dropped(tmp_path):
    """A HoTro, OCOP or LienKet row with figures but no `Mã số HTX`, or a HoTro row with no
    `Chương trình`, cannot be loaded (no cooperative, no programme): it fails its cell, never
    vanishes from the warehouse in silence. A subtotal under a group title (sums alone, no
    text) stays no data."""
    rows = [HTX_HEADER, htx_row(1, "6400000001")]
    support = [
        SUPPORT_HEADER,
        [None, "NTM", "Kho", "Tỉnh", 11, 2023],  # no code
        ["6400000001", None, "Máy sấy", "Tỉnh", 10, 2023],  # no programme
        ["Chương trình nông thôn mới:"],  # a group title
        ["6400000001", "NTM", "Đường", "Tỉnh", 5, 2023],
        [None, None, None, None, 5],  # its subtotal: no data
        # Texts that begin as `Cộng`/`Tổng` would without their accents, or as words of
        # their own: no total rows either.
        [None, "NTM", "Công trình thủy lợi", "Tỉnh", 7, 2023],
        [None, "NTM", "Cộng tác viên khuyến nông", "Tỉnh", 3, 2023],
        [None, "NTM", "Tổng kết mô hình HTX", "Tỉnh", 50, 2023],  # a review, no total
        ["Cộng", None, None, None, 15],  # the sheet's total: no data
    ]
    ocop = [OCOP_HEADER, [None, "Cà phê", "Đồ uống", 4, "1/QĐ", dt.date(2022, 1, 1)]]
    links = [
        LINK_HEADER,
        [None, "Công ty A", "Cà phê", 5, 100],  # `Công …` is no total row (`Cộng`)
        [None, "Tổng công ty Cà phê Việt Nam", "Cà phê", 8, 300],  # nor `Tổng …`
        [None, "Tổng đại lý Phân bón Minh Phát", "Phân bón", 5, 100],
        [None, "Cộng đồng Đắk Sắk", "Cà phê", 2, 40],
        ["Tổng cộng", None, None, 20, 540],  # the sheet's total: no data
    ]
    outcome = _stage(
        tmp_path,
        {"ThongTin": info_rows(), "HTX": rows, "HoTro": support, "OCOP": ocop, "LienKet": links},
    )
    assert outcome["status"] == "quarantined"
    assert _cells(outcome) == {
        ("HoTro", 2, "Mã số HTX", "coop_code_required"),
        ("HoTro", 3, "Chương trình", "program_required"),
        ("HoTro", 7, "Mã số HTX", "coop_code_required"),
        ("HoTro", 8, "Mã số HTX", "coop_code_required"),
        ("HoTro", 9, "Mã số HTX", "coop_code_required"),
        ("OCOP", 2, "Mã số HTX", "coop_code_required"),
        ("LienKet", 2, "Mã số HTX", "coop_code_required"),
        ("LienKet", 3, "Mã số HTX", "coop_code_required"),
        ("LienKet", 4, "Mã số HTX", "coop_code_required"),
        ("LienKet", 5, "Mã số HTX", "coop_code_required"),
    }
    assert "Thiếu mã số HTX" in outcome["reason"]


def test_a_required_column_refused_for_its_header_unit_is_not_missing(tmp_path):
    """`Kinh phí (USD)`: the header cell is the error (its unit is no VND), and the column is
    not read. Its amounts are written, so no row is also `amount_required` ("Thiếu kinh
    phí"), which would send the clerk looking for empty cells that are not there."""
    header = [h.replace("Kinh phí", "Kinh phí (USD)") for h in SUPPORT_HEADER]
    support = [
        header,
        ["6400000001", "NTM", "Kho", "Tỉnh", 500, 2023],
        ["6400000001", "OCOP", "Máy sấy", "Tỉnh", 600, 2023],
    ]
    rows = [HTX_HEADER, htx_row(1, "6400000001")]
    outcome = _stage(tmp_path, {"ThongTin": info_rows(), "HTX": rows, "HoTro": support})
    assert outcome["status"] == "quarantined"
    assert _cells(outcome) == {("HoTro", 1, "Kinh phí", "header_unit_mismatch")}
    assert "Thiếu kinh phí" not in outcome["reason"]


def test_warnings_do_not_reject(tmp_path):
    rows = [
        HTX_HEADER,
        htx_row(1, "6400000001", **{"Số thành viên": 4}),
        htx_row(2, "6400000002", **{"Xã/Phường": "Xã Không Có"}),
    ]
    outcome = _stage(tmp_path, {"ThongTin": info_rows(), "HTX": rows})
    assert outcome["status"] == "valid"
    assert _cells(outcome, "warning") == {
        ("HTX", 2, "Số thành viên", "members_at_least_5"),
        ("HTX", 3, "Xã/Phường", "commune_known"),
    }
    assert outcome["warnings"] == 2


def test_expired_ocop_certificate_is_a_warning(tmp_path):
    rows = [HTX_HEADER, htx_row(1, "6400000001")]
    ocop = [
        OCOP_HEADER,
        ["6400000001", "Cà phê", "Đồ uống", 4, "1/QĐ", dt.date(2019, 6, 1)],  # valid to 06/2022
    ]
    outcome = _stage(tmp_path, {"ThongTin": info_rows(), "HTX": rows, "OCOP": ocop})
    assert outcome["status"] == "valid"
    assert _cells(outcome, "warning") == {
        ("OCOP", 2, "Ngày quyết định", "certificate_valid_in_report_year")
    }


def test_a_reason_says_when_it_leaves_rules_out(tmp_path):
    """Six rules broken once each: the reason names five and says one more, so a clerk does
    not take the list for all of it."""
    rows = [HTX_HEADER, htx_row(1, "6400000001")]
    ocop = [
        OCOP_HEADER,
        ["6400000009", "Cà phê", "Đồ uống", 3, "1/QĐ", dt.date(2023, 5, 1)],
        ["6400000001", None, "Đồ uống", 3, "1/QĐ", dt.date(2023, 5, 1)],
        [None, "Mật ong", "Thực phẩm", 4, "1/QĐ", dt.date(2023, 5, 1)],
        ["6400000001", "Mắc ca", "Thực phẩm", 6, "1/QĐ", dt.date(2023, 5, 1)],
        ["6400000001", "Sầu riêng", "Thực phẩm", "☆☆☆", "1/QĐ", dt.date(2023, 5, 1)],
        ["6400000001", "Bơ", "Thực phẩm", 4, "1/QĐ", "mùng 5 tết"],
    ]
    outcome = _stage(tmp_path, {"ThongTin": info_rows(), "HTX": rows, "OCOP": ocop})
    assert len({rule for *_, rule in _cells(outcome)}) == 6
    vi, en = outcome["reason"].split(" / ", 1)
    assert "6 ô" in vi
    assert "; … (+1 lỗi khác). Sửa các ô" in vi
    assert "; … (+1 more). Correct the" in en


def test_a_reason_counts_one_cell_in_the_singular(tmp_path):
    rows = [HTX_HEADER, htx_row(1, "6400000001", **{"Số lao động": -3})]
    outcome = _stage(tmp_path, {"ThongTin": info_rows(), "HTX": rows})
    vi, en = outcome["reason"].split(" / ", 1)
    assert vi.startswith("Tệp bị từ chối: 1 ô vi phạm")
    assert en.startswith("File rejected: 1 cell breaks mandatory rules: 'Số lao động' must not")


def test_a_reason_counts_cells_not_broken_rules(tmp_path):
    """A code `12345` given twice breaks two rules in each of its cells (B2, B3): with a
    negative worker count (I4) the clerk finds three red cells, and the reason says three
    cells, not five."""
    rows = [
        HTX_HEADER,
        htx_row(1, "12345"),
        htx_row(2, "12345"),
        htx_row(3, "6400000003", **{"Số lao động": -3}),
    ]
    outcome = _stage(tmp_path, {"ThongTin": info_rows(), "HTX": rows})
    errors = [f for f in outcome["findings"] if f["severity"] == "error"]
    assert sorted(f["cell"] for f in errors) == ["B2", "B2", "B3", "B3", "I4"]
    vi, en = outcome["reason"].split(" / ", 1)
    assert vi.startswith("Tệp bị từ chối: 3 ô vi phạm quy tắc bắt buộc: ")
    assert en.startswith("File rejected: 3 cells break mandatory rules: ")


def test_a_score_out_of_its_range_is_not_also_judged_against_its_rating(tmp_path):
    """150 rated Tốt is only out of 0–100: "Tốt needs a score of 80 or more" would be false,
    and -5 rated Yếu likewise. Nor is 150 rated Yếu judged against Yếu's band: the score
    must be mended before its rating can be. A score in range still disagrees: 85 rated Yếu;
    an unreadable score is only unreadable."""
    rows = [
        HTX_HEADER,
        htx_row(1, "6400000001", **{"Xếp loại": "Tốt", "Điểm": 150}),
        htx_row(2, "6400000002", **{"Xếp loại": "Yếu", "Điểm": -5}),
        htx_row(3, "6400000003", **{"Xếp loại": "Yếu", "Điểm": 150}),
        htx_row(4, "6400000004", **{"Xếp loại": "Yếu", "Điểm": 85}),
        htx_row(5, "6400000005", **{"Xếp loại": "Tốt", "Điểm": "cao"}),
    ]
    outcome = _stage(tmp_path, {"ThongTin": info_rows(), "HTX": rows})
    assert _cells(outcome) == {
        ("HTX", 2, "Điểm", "score_0_100"),
        ("HTX", 3, "Điểm", "score_0_100"),
        ("HTX", 4, "Điểm", "score_0_100"),
        ("HTX", 5, "Điểm", "rating_matches_score"),
        ("HTX", 6, "Điểm", "score_readable"),
    }


def test_a_failing_money_cell_says_its_unit(tmp_path):
    """Money is staged in million VND: `-45.000.000 đ` fails as `-45 triệu đồng`, not as a
    bare -45 the clerk would read as đồng. Unreadable money text stays as written."""
    rows = [
        HTX_HEADER,
        htx_row(1, "6400000001", **{"Vốn điều lệ": "-45.000.000 đ"}),
        htx_row(2, "6400000002", **{"Doanh thu": "nhiều"}),
        htx_row(3, "6400000003", **{"Số lao động": -3}),
    ]
    outcome = _stage(tmp_path, {"ThongTin": info_rows(), "HTX": rows})
    values = {f["rule"]: f["value"] for f in outcome["findings"]}
    assert values["charter_capital_mvnd_not_negative"] == "-45 triệu đồng"
    assert values["revenue_mvnd_readable"] == "nhiều"
    assert values["workers_not_negative"] == "-3"


def test_a_failing_money_cell_is_written_as_a_vietnamese_reader_reads_it(tmp_path):
    """A part of a million is written with a decimal comma and thousands dots, never in
    Python's notation: `-1.234.567 đ` is -1,234567 triệu đồng (not `-1.234567`, which a
    Vietnamese reader takes for -1,234,567 million), `-5 đ` is -0,000005 (not `-5e-06`)."""
    rows = [
        HTX_HEADER,
        htx_row(1, "6400000001", **{"Vốn điều lệ": "-1.234.567 đ"}),
        htx_row(2, "6400000002", **{"Vốn điều lệ": "-5 đ"}),
        htx_row(3, "6400000003", **{"Vốn điều lệ": "-12.345.600.000 đ"}),
    ]
    outcome = _stage(tmp_path, {"ThongTin": info_rows(), "HTX": rows})
    values = [f["value"] for f in outcome["findings"] if f["rule"].startswith("charter")]
    assert values == [
        "-1,234567 triệu đồng",
        "-0,000005 triệu đồng",
        "-12.345,6 triệu đồng",
    ]


def test_a_failing_decimal_of_any_column_is_written_as_a_vietnamese_reader_reads_it(tmp_path):
    """A score or a tonnage the clerk typed `79,5` fails as `79,5`, as they wrote it: never
    Python's `79.5`, which a Vietnamese reader takes for 795 (the dot groups thousands)."""
    rows = [HTX_HEADER, htx_row(1, "6400000001", **{"Xếp loại": "Tốt", "Điểm": "79,5"})]
    link = [LINK_HEADER, ["6400000001", "Công ty A", "Cà phê", "-1.250,5", 500]]
    outcome = _stage(tmp_path, {"ThongTin": info_rows(), "HTX": rows, "LienKet": link})
    values = {f["rule"]: f["value"] for f in outcome["findings"] if f["severity"] == "error"}
    assert values == {
        "rating_matches_score": "79,5",
        "volume_tonnes_not_negative": "-1.250,5",
    }


def test_a_formula_error_in_a_name_or_code_is_its_own_error_not_also_missing(tmp_path):
    """`=VLOOKUP(…)` saved showing `#N/A` in Mã số HTX or `#REF!` in Tên HTX: calamine reads
    it as empty; the clerk is shown the error in that cell (`formula_error`), not told the
    code or the name is missing as well."""
    name, code = HTX_HEADER.index("Tên HTX"), HTX_HEADER.index("Mã số HTX")

    def broken(sheets) -> None:
        sheets["HTX"].write_formula(1, name, "=VLOOKUP(B2,DanhMuc!A:B,2,0)", None, "#REF!")
        sheets["HTX"].write_formula(2, code, "=VLOOKUP(C3,DanhMuc!A:B,2,0)", None, "#N/A")

    rows = [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "6400000002")]
    path = write_xlsx(
        tmp_path / "landing" / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": rows}, broken
    )
    sha = sha256_of(path)
    landed = LandedFile(file_id_for(sha), path.name, sha, path.stat().st_size, str(path))
    [summary] = stage_batch([landed], tmp_path / "staging", "test-run")
    outcome = read_outcome(tmp_path / "staging", summary["file_id"])
    assert outcome["status"] == "quarantined"
    found = [(f["cell"], f["rule"], f["value"]) for f in outcome["findings"]]
    assert found == [("C2", "formula_error", "#REF!"), ("B3", "formula_error", "#N/A")]
    assert outcome["reason"].startswith("Tệp bị từ chối: 2 ô vi phạm quy tắc bắt buộc: Ô 'Tên HTX'")


def test_a_reason_quotes_the_rules_in_the_clerks_words(tmp_path):
    """The reason says what is wrong, Vietnamese in its half and English in its own, with
    the number of cells each: not rule keys such as `workers_not_negative ×2`."""
    rows = [
        HTX_HEADER,
        htx_row(1, "6400000001", **{"Số lao động": -3}),
        htx_row(2, "6400000002", **{"Số lao động": -4}),
        htx_row(3, "6400000003", **{"Vốn điều lệ": -45}),
    ]
    outcome = _stage(tmp_path, {"ThongTin": info_rows(), "HTX": rows})
    vi, en = outcome["reason"].split(" / ", 1)
    assert vi == (
        "Tệp bị từ chối: 3 ô vi phạm quy tắc bắt buộc: 'Số lao động' không được âm (2 ô); "
        "'Vốn điều lệ' không được âm (1 ô). Sửa các ô được liệt kê rồi gửi lại cả tệp."
    )
    assert en == (
        "File rejected: 3 cells break mandatory rules: 'Số lao động' must not be negative "
        "(2 cells); 'Vốn điều lệ' must not be negative (1 cell). Correct the listed cells "
        "and resubmit the whole file."
    )
    assert "_not_negative" not in outcome["reason"]


def test_a_failing_date_shows_as_the_clerk_wrote_it(tmp_path):
    """A founding date after the report year, and an expired certificate, show their dates
    as the cell gave them (dd/mm/yyyy, a month or a year alone), not as ISO dates."""
    rows = [
        HTX_HEADER,
        htx_row(1, "6400000001", **{"Ngày thành lập": dt.date(2024, 3, 15)}),
        htx_row(2, "6400000002", **{"Ngày thành lập": "03/2025"}),
        htx_row(3, "6400000003", **{"Ngày thành lập": "2026"}),
    ]
    ocop = [OCOP_HEADER, ["6400000001", "Cà phê", "Đồ uống", 4, "1/QĐ", "12/2019"]]
    outcome = _stage(tmp_path, {"ThongTin": info_rows(), "HTX": rows, "OCOP": ocop})
    values = {(f["cell"], f["rule"]): f["value"] for f in outcome["findings"]}
    assert values == {
        ("E2", "founded_not_after_report_year"): "15/03/2024",
        ("E3", "founded_not_after_report_year"): "03/2025",
        ("E4", "founded_not_after_report_year"): "2026",
        ("F2", "certificate_valid_in_report_year"): "12/2019",
    }


def test_unknown_unit_quarantines_with_reason(tmp_path):
    rows = [HTX_HEADER, htx_row(1, "6400000001")]
    outcome = _stage(tmp_path, {"ThongTin": info_rows(unit="999"), "HTX": rows}, "baocao.xlsx")
    assert outcome["status"] == "quarantined"
    assert "Không xác định được đơn vị báo cáo" in outcome["reason"]
    assert json.dumps(outcome["findings"])  # recorded as a finding too


def test_amount_beyond_any_cooperative_is_rejected_not_a_crash(tmp_path):
    rows = [HTX_HEADER, htx_row(1, "6400000001", **{"Doanh thu": 5e15})]
    outcome = _stage(tmp_path, {"ThongTin": info_rows(), "HTX": rows})
    assert outcome["status"] == "quarantined"
    assert _cells(outcome) == {("HTX", 2, "Doanh thu", "revenue_mvnd_plausible")}


def test_suites_keep_every_rule_even_two_on_one_column():
    from etl.quality.validate import _validation

    for key, document in load_suite_documents().items():
        assert len(_validation(key).suite.expectations) == len(document["expectations"]), key


def test_prepare_builds_the_sheets_suites_only(monkeypatch):
    """The warehouse checks' suites are built when a check has rows, not with the sheets'."""
    import etl.quality.validate as validate

    built: list[str] = []
    monkeypatch.setattr(validate, "_validation", lambda key: built.append(key))
    validate.prepare()
    assert built == [sheet.key for sheet in DATA_SHEETS]
    assert list(validate._run("warehouse/year_over_year", pd.DataFrame(), {})) == []
    assert built == [sheet.key for sheet in DATA_SHEETS]


def _read_file(path, name: str) -> ReadFile:
    read = read_workbook(path)
    identity = identify(read.info, name, load_reference())
    return ReadFile(file_id=file_id_for(sha256_of(path)), identity=identity, read=read)


def _found(findings: dict) -> dict[int, set[tuple]]:
    return {
        file_id: {(f.sheet, f.excel_row, f.cell, f.rule, f.value) for f in found}
        for file_id, found in findings.items()
    }


def test_findings_point_at_their_rows_whatever_the_frame_order_or_index(tmp_path):
    """GX names a failing row by its file and Excel row (`unexpected_index_column_names`),
    never by its place in the frame: shuffled frames with any index give the same cells."""
    first = write_xlsx(
        tmp_path / "663_2023.xlsx",
        {
            "ThongTin": info_rows(),
            "HTX": [
                ["UBND HUYỆN ĐẮK MIL"],
                HTX_HEADER,
                htx_row(1, "6400000001"),
                htx_row(2, "6400000002", **{"Số lao động": -3}),
                htx_row(3, "6400000003"),
                htx_row(4, "6400000004", **{"Doanh thu": "nhiều"}),
                htx_row(5, "6400000005"),
            ],
        },
    )
    second = write_xlsx(
        tmp_path / "663_2022.xlsx",
        {
            "ThongTin": info_rows(year=2022),
            "HTX": [
                HTX_HEADER,
                htx_row(1, "6400000001", **{"Số lao động": -5}),
                htx_row(2, "6400000002"),
                htx_row(3, "12345"),
            ],
        },
    )
    files = [_read_file(first, "663_2023.xlsx"), _read_file(second, "663_2022.xlsx")]
    one, two = (f.file_id for f in files)
    expected = {
        one: {
            ("HTX", 4, "I4", "workers_not_negative", "-3"),
            ("HTX", 6, "L6", "revenue_mvnd_readable", "nhiều"),
        },
        two: {
            ("HTX", 2, "I2", "workers_not_negative", "-5"),
            ("HTX", 4, "B4", "coop_code_format", "12345"),
        },
    }
    frames = build_frames(files)
    assert _found(validate_batch(files, load_reference(), frames)) == expected

    def reordered(frame, seed):
        shuffled = frame.sample(frac=1, random_state=seed)
        return shuffled.set_index(pd.Index([f"r{n}" for n in range(len(frame))][::-1]))

    for seed in range(3):
        shuffled = {key: reordered(frame, seed) for key, frame in frames.items()}
        assert not shuffled["htx"]["excel_row"].is_monotonic_increasing
        assert _found(validate_batch(files, load_reference(), shuffled)) == expected
    # An index that repeats labels (frames concatenated without ignore_index) too.
    repeated = {key: frame.set_index(pd.Index([0] * len(frame))) for key, frame in frames.items()}
    assert _found(validate_batch(files, load_reference(), repeated)) == expected


def test_negative_members_is_an_error_and_few_members_a_warning(tmp_path):
    rows = [
        HTX_HEADER,
        htx_row(1, "6400000001", **{"Số thành viên": -1}),
        htx_row(2, "6400000002", **{"Số thành viên": 3}),
    ]
    outcome = _stage(tmp_path, {"ThongTin": info_rows(), "HTX": rows})
    assert ("HTX", 2, "Số thành viên", "members_not_negative") in _cells(outcome)
    # The negative count is not also "fewer than 5 members": one cell, one finding.
    assert _cells(outcome, "warning") == {("HTX", 3, "Số thành viên", "members_at_least_5")}


def test_findings_name_their_excel_cell(tmp_path):
    rows = [["UBND"], HTX_HEADER, htx_row(1, "6400000001", **{"Xếp loại": "Tốt", "Điểm": 55})]
    outcome = _stage(tmp_path, {"ThongTin": info_rows(), "HTX": rows})
    [finding] = [f for f in outcome["findings"] if f["rule"] == "rating_matches_score"]
    assert finding["cell"] == "P3"  # Điểm is column 16 (P), the row is Excel row 3


def _breaking_every_kind_of_rule() -> dict:
    rows = [
        HTX_HEADER,
        htx_row(1, "6400000001"),
        htx_row(2, "6400000001"),
        htx_row(3, "12345"),
        htx_row(4, "6400000004", **{"Xếp loại": "Tốt", "Điểm": 55}),
        htx_row(5, "6400000005", **{"Số lao động": -3, "Số thành viên": 2}),
        htx_row(6, "6400000006", **{"Ngày thành lập": dt.date(2024, 5, 1)}),
        htx_row(7, "6400000007", **{"Doanh thu": "nhiều"}),
    ]
    support = [
        SUPPORT_HEADER,
        ["6400000001", "NTM", "Máy sấy", "Tỉnh", 100, 2023],
        ["6499999999", "NTM", "Kho", "Tỉnh", 50, 2023],
        ["6400000004", "XYZ", "Kho", "Nguồn lạ", 0, 2022],
    ]
    ocop = [
        OCOP_HEADER,
        ["6400000001", "Cà phê", "Đồ uống", 6, "1/QĐ", dt.date(2022, 1, 1)],
        ["6499999999", "Tiêu", "Gia vị", 3, "2/QĐ", dt.date(2019, 1, 1)],
    ]
    return {"ThongTin": info_rows(), "HTX": rows, "HoTro": support, "OCOP": ocop}


def test_configurations_kept_during_a_validation_change_no_finding(tmp_path, monkeypatch):
    """`_configurations_kept` (GX builds each expectation's configuration once per
    validation) gives every finding, in order, that GX's own behaviour gives."""
    from contextlib import nullcontext

    from great_expectations.expectations.expectation import Expectation

    from etl.quality import validate

    original = Expectation.__dict__["configuration"]
    kept = _stage(tmp_path / "kept", _breaking_every_kind_of_rule())
    assert Expectation.__dict__["configuration"] is original  # restored after each validation
    monkeypatch.setattr(validate, "_configurations_kept", nullcontext)
    plain = _stage(tmp_path / "plain", _breaking_every_kind_of_rule())
    assert kept["status"] == plain["status"] == "quarantined"
    assert len(kept["findings"]) >= 12
    assert {f["rule"] for f in kept["findings"]} >= {
        "coop_code_unique",
        "coop_code_format",
        "rating_matches_score",
        "workers_not_negative",
        "program_known",
        "amount_positive",
        "stars_3_to_5",
    }
    assert kept["findings"] == plain["findings"]


def test_configurations_kept_is_undone_when_a_validation_raises():
    from great_expectations.expectations.expectation import Expectation

    from etl.quality.validate import _configurations_kept

    original = Expectation.__dict__["configuration"]
    try:
        with _configurations_kept():
            assert Expectation.__dict__["configuration"] is not original
            raise KeyError("a validation that failed")
    except KeyError:
        pass
    assert Expectation.__dict__["configuration"] is original


def test_a_batch_is_made_without_fingerprinting_its_frame(tmp_path, monkeypatch):
    """GX hashes every DataFrame it makes a batch of, for a marker nothing here reads: a
    validation makes its batches without (`_unfingerprinted`), gives the findings it gave
    with the hashing, and leaves GX's threshold as it was."""
    from contextlib import nullcontext

    from great_expectations.execution_engine import pandas_execution_engine as engine

    from etl.quality import validate

    threshold = engine.HASH_THRESHOLD
    hashed: list[int] = []
    real = engine.hash_pandas_dataframe
    monkeypatch.setattr(
        engine, "hash_pandas_dataframe", lambda df: hashed.append(len(df)) or real(df)
    )
    lean = _stage(tmp_path / "lean", _breaking_every_kind_of_rule())
    assert hashed == []
    assert threshold == engine.HASH_THRESHOLD
    monkeypatch.setattr(validate, "_unfingerprinted", nullcontext)
    hashing = _stage(tmp_path / "hashing", _breaking_every_kind_of_rule())
    assert hashed  # GX's own behaviour: every batch hashed
    assert lean["status"] == hashing["status"] == "quarantined"
    assert len(lean["findings"]) >= 12
    assert lean["findings"] == hashing["findings"]


def test_the_fingerprint_threshold_is_restored_when_a_batch_fails():
    from great_expectations.execution_engine import pandas_execution_engine as engine

    from etl.quality.validate import _unfingerprinted

    threshold = engine.HASH_THRESHOLD
    try:
        with _unfingerprinted():
            assert engine.HASH_THRESHOLD == 0
            raise KeyError("a batch that failed")
    except KeyError:
        pass
    assert threshold == engine.HASH_THRESHOLD


def test_an_unexpected_row_is_named_by_its_position_and_nothing_else():
    """GX names an unexpected row by its index label; the frame is indexed 0..n-1 when
    validated, so the label is the row's position. Anything else is a defect, told."""
    import pandas as pd

    from etl.quality.validate import _RowFinder

    rows = _RowFinder(pd.DataFrame({"file_id": [7, 8], "excel_row": [5, None]}))
    assert rows.position(1) == 1
    assert rows.cell(rows.position(0), "excel_row") == 5
    for label in ({"file_id": 7, "excel_row": 5}, 2, -1, True, "0"):
        with pytest.raises(RuntimeError, match="GX named"):
            rows.position(label)


def test_a_frame_of_any_index_gets_the_findings_of_its_rows(tmp_path):
    """A frame is validated indexed 0..n-1 whatever index it came with (a subset of rows, a
    named index), so that GX's labels are positions: the same findings either way."""
    from etl.quality import validate

    path = write_xlsx(tmp_path / "663_2023.xlsx", _breaking_every_kind_of_rule())
    read = read_workbook(path, None, path.name)
    item = ReadFile(file_id=1, identity=identify(read.info, path.name, load_reference()), read=read)
    frames = validate.with_lookups(build_frames([item]), [item], load_reference())
    columns = {1: validate.sheet_columns(item)}
    plain = validate.validate_frames(frames, columns)
    assert len(plain[1]) >= 12
    shifted = {key: frame.set_axis(frame.index * 3 + 5) for key, frame in frames.items()}
    named = {key: frame.rename_axis("row") for key, frame in frames.items()}
    assert validate.validate_frames(shifted, columns) == plain
    assert validate.validate_frames(named, columns) == plain


def test_a_formula_without_a_saved_value_fails_its_cell_not_read_as_empty(tmp_path):
    """A workbook a program wrote with formulas and no spreadsheet ever saved holds no
    value for them: calamine reads such a cell as empty. A record's cell is an error that
    tells the clerk to save the file in Excel, in place of `Thiếu …` (missing); a total
    row's `=SUM(…)` is no record's cell. Formulas Excel saved read as their values."""
    import openpyxl

    book = openpyxl.Workbook()
    info = book.active
    info.title = "ThongTin"
    for row in info_rows():
        info.append(row)
    htx = book.create_sheet("HTX")
    htx.append(HTX_HEADER)
    htx.append(htx_row(1, "6400000001", **{"Doanh thu": "=1000+650"}))
    htx.append(htx_row(2, "6400000002"))
    support = book.create_sheet("HoTro")
    support.append(SUPPORT_HEADER)
    support.append(["6400000001", "NTM", "Kho", "Tỉnh", "=100+50", 2023])
    support.append(["Tổng cộng", None, None, None, "=SUM(E2:E2)", None])
    path = tmp_path / "landing" / "663_2023.xlsx"
    path.parent.mkdir()
    book.save(path)
    sha = sha256_of(path)
    landed = LandedFile(file_id_for(sha), path.name, sha, path.stat().st_size, str(path))
    [summary] = stage_batch([landed], tmp_path / "staging", "test-run")
    outcome = read_outcome(tmp_path / "staging", summary["file_id"])
    assert outcome["status"] == "quarantined"
    found = {(f["sheet"], f["cell"], f["rule"]) for f in outcome["findings"]}
    assert found == {
        ("HTX", "L2", "formula_without_value"),
        ("HoTro", "E2", "formula_without_value"),  # not also `amount_required`
    }
    assert "chứa công thức nhưng không có giá trị đã tính" in outcome["reason"]

    # A formula saved with its value (as Excel saves it): read as that value.
    import xlsxwriter

    saved = tmp_path / "saved.xlsx"
    with xlsxwriter.Workbook(saved) as workbook:
        sheet = workbook.add_worksheet("HTX")
        sheet.write_row(0, 0, ["Mã số HTX", "Tên HTX", "Doanh thu"])
        sheet.write_row(1, 0, ["6400000001", "HTX A"])
        sheet.write_formula(1, 2, "=1000+650", None, 1650)
    assert read_workbook(saved).sheets["htx"].rows[0]["revenue_mvnd"] == 1650.0
    assert read_workbook(saved).findings == []


def test_a_file_without_its_unit_and_year_lists_the_cells_its_reader_found(tmp_path):
    """No unit and year (`Năm báo cáo` 2032, a name that says none): the suites cannot judge
    the rows, but a cell the reader could not read is listed beside the reason, so the
    clerk mends both at once."""
    info = [row if row[0] != "Năm báo cáo" else ["Năm báo cáo", 2032] for row in info_rows()]
    rows = [HTX_HEADER, htx_row(1, "6400000001", **{"Doanh thu": "12 tấn"})]
    outcome = _stage(tmp_path, {"ThongTin": info, "HTX": rows}, name="bao_cao.xlsx")
    assert outcome["status"] == "quarantined"
    found = {(f["rule"], f["sheet"], f["cell"]) for f in outcome["findings"]}
    assert ("unit_mismatch", "HTX", "L2") in found
    assert any(rule == "year_invalid" for rule, _, _ in found)
