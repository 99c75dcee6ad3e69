"""The official template: it carries the layout's headers, lists and checks, and a template
filled in by a clerk loads with no finding at all."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from conftest import (
    HTX_HEADER,
    htx_row,
    info_rows,
    query,
    run_steps,
    template_validations,
    validation_items,
    write_xlsx,
)

from etl.cli import main
from etl.contract.layout import (
    FUNDING_SOURCES,
    HOTRO,
    HTX,
    LIENKET,
    OCOP,
    OCOP_GROUPS,
    RATINGS,
    SECTORS,
)
from etl.outputs import template

COOPS = [
    {
        "Mã số HTX": "6400111111",
        "Tên HTX": "HTX Cà phê Thuận An",
        "Xã/Phường": "Thuận An",
        "Ngày thành lập": dt.date(2016, 4, 12),
        "Lĩnh vực": "Nông nghiệp",
        "Tham gia Đề án 167": "Có",
        "Số thành viên": 120,
        "Số lao động": 25,
        "Vốn điều lệ": 2100.5,
        "Tổng tài sản": 3800,
        "Doanh thu": 2450.25,
        "Lợi nhuận trước thuế": -35.5,
        "Thu nhập bình quân": 64,
        "Xếp loại": "Tốt",
        "Điểm": 86.5,
        "Liên kết tiêu thụ": "Có",
        "Ghi chú": "Mô hình điểm",
    },
    {
        "Mã số HTX": "0100222222",  # a leading zero, kept because the column is text
        "Tên HTX": "HTX Dịch vụ Đức Mạnh",
        "Xã/Phường": "Đức Mạnh",
        "Ngày thành lập": dt.date(2020, 1, 2),
        "Lĩnh vực": "Phi nông nghiệp",
        "Tham gia Đề án 167": "Không",
        "Số thành viên": 9,
        "Số lao động": 4,
        "Vốn điều lệ": 350,
        "Tổng tài sản": 420,
        "Doanh thu": 610,
        "Lợi nhuận trước thuế": 12,
        "Thu nhập bình quân": 48.5,
        "Xếp loại": "Khá",
        "Điểm": 70,
        "Liên kết tiêu thụ": "Không",
        "Ghi chú": None,
    },
    {
        "Mã số HTX": "6400333333-001",
        "Tên HTX": "HTX Hồ tiêu Đắk Sắk",
        "Xã/Phường": "Đắk Sắk",
        "Ngày thành lập": dt.date(2019, 9, 30),
        "Lĩnh vực": "Nông nghiệp",
        "Tham gia Đề án 167": "Không",
        "Số thành viên": 15,
        "Số lao động": None,
        "Vốn điều lệ": 800,
        "Tổng tài sản": None,
        "Doanh thu": 990,
        "Lợi nhuận trước thuế": 40,
        "Thu nhập bình quân": 52,
        "Xếp loại": "Trung bình",
        "Điểm": 58,
        "Liên kết tiêu thụ": "Có",
        "Ghi chú": None,
    },
]
SUPPORT = [
    ["6400111111", "DA167", "Xây dựng kho sơ chế", "Trung ương", 450.5, 2023],
    ["6400333333-001", "NTM", "Máy sấy", "Tỉnh", 120, 2023],
]
PRODUCTS = [
    ["6400111111", "Cà phê bột Thuận An", "Đồ uống", 4, "123/QĐ-UBND", dt.date(2022, 5, 20)]
]
CONTRACTS = [["6400333333-001", "Công ty CP Tiêu Việt", "Hồ tiêu", 35.5, 3200]]


def _fill(path: Path) -> None:
    """What a clerk does: open the template, type the figures from row 2, save."""
    workbook = openpyxl.load_workbook(path)
    info = workbook["ThongTin"]
    labels = {info.cell(row=r, column=1).value: r for r in range(1, info.max_row + 1)}
    info.cell(row=labels["Ngày lập"], column=2).value = dt.date(2024, 1, 20)
    info.cell(row=labels["Người lập"], column=2).value = "Nguyễn Thị Lan"
    htx = workbook["HTX"]
    for r, coop in enumerate(COOPS, start=2):
        values = {"STT": r - 1, **coop}
        for c, header in enumerate(HTX_HEADER, start=1):
            htx.cell(row=r, column=c).value = values[header]
    for name, rows in (("HoTro", SUPPORT), ("OCOP", PRODUCTS), ("LienKet", CONTRACTS)):
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row, start=1):
                workbook[name].cell(row=r, column=c).value = value
    workbook.save(path)


@pytest.fixture
def blank(tmp_path) -> Path:
    return template.write_template(tmp_path / "mau_663_2023.xlsx", "663", 2023)


def test_filled_template_loads_with_no_finding_and_the_facts_it_holds(settings):
    path = template.write_template(settings.landing_dir / "663_2023.xlsx", "663", 2023)
    _fill(path)
    run_steps(settings)

    [(file_id, status, unit, year)] = query(
        settings, "select file_id, status, unit_code, report_year from audit.file_ingestion"
    )
    assert (status, unit, year) == ("loaded", "663", 2023)
    assert query(settings, "select rule, cell, message from audit.rejected_row") == []

    facts = query(
        settings,
        """
        select f.coop_code, c.name, c.commune_name, c.founded_on, c.sector, c.in_da167,
               f.members, f.workers, f.charter_capital_mvnd::double, f.total_assets_mvnd::double,
               f.revenue_mvnd::double, f.profit_before_tax_mvnd::double,
               f.avg_income_mvnd::double, f.rating, f.score, f.has_offtake_contract, f.note,
               f.excel_row
        from core.fact_cooperative_year f join core.dim_cooperative c using (cooperative_key)
        order by f.excel_row
        """,
    )
    expected = [
        (
            coop["Mã số HTX"],
            coop["Tên HTX"],
            coop["Xã/Phường"],
            coop["Ngày thành lập"],
            coop["Lĩnh vực"],
            coop["Tham gia Đề án 167"] == "Có",
            coop["Số thành viên"],
            coop["Số lao động"],
            coop["Vốn điều lệ"],
            coop["Tổng tài sản"],
            coop["Doanh thu"],
            coop["Lợi nhuận trước thuế"],
            coop["Thu nhập bình quân"],
            coop["Xếp loại"],
            coop["Điểm"],
            coop["Liên kết tiêu thụ"] == "Có",
            coop["Ghi chú"],
            row,
        )
        for row, coop in enumerate(COOPS, start=2)
    ]
    assert facts == expected
    support = query(
        settings,
        "select s.coop_code, p.program_code, s.content, s.funding_source, s.amount_mvnd::double, "
        "s.period_key from core.fact_program_support s join core.dim_program p using "
        "(program_key) order by s.excel_row",
    )
    assert support == [tuple(row) for row in SUPPORT]
    products = query(
        settings,
        "select coop_code, product_name, product_group, stars, decision_no, decision_date "
        "from core.fact_ocop_product",
    )
    assert products == [tuple(row) for row in PRODUCTS]
    contracts = query(
        settings,
        "select coop_code, partner, product, volume_tonnes, contract_value_mvnd::double "
        "from core.fact_offtake_contract",
    )
    assert contracts == [tuple(row) for row in CONTRACTS]
    assert all(
        f == file_id for (f,) in query(settings, "select file_id from core.fact_ocop_product")
    )


def test_every_list_of_the_layout_is_a_drop_down(blank):
    workbook = openpyxl.load_workbook(blank)
    htx, support = template_validations(workbook["HTX"]), template_validations(workbook["HoTro"])
    ocop, links = template_validations(workbook["OCOP"]), template_validations(workbook["LienKet"])
    assert validation_items(htx["Lĩnh vực"]) == list(SECTORS)
    assert validation_items(htx["Xếp loại"]) == list(RATINGS)
    assert validation_items(htx["Tham gia Đề án 167"]) == ["Có", "Không"]
    assert validation_items(htx["Liên kết tiêu thụ"]) == ["Có", "Không"]
    assert validation_items(support["Chương trình"]) == ["DA167", "NTM", "OCOP", "CNNT", "KHAC"]
    assert validation_items(support["Nguồn vốn"]) == list(FUNDING_SOURCES)
    assert validation_items(ocop["Nhóm sản phẩm"]) == list(OCOP_GROUPS)
    assert validation_items(ocop["Số sao"]) == ["3", "4", "5"]
    # The other sheets' cooperative must be one of the HTX sheet's codes.
    for rules in (support, ocop, links):
        assert rules["Mã số HTX"].type == "list"
        assert rules["Mã số HTX"].formula1 == "HTX!$B$2:$B$501"
    # Communes of the unit come from the hidden list sheet; another name only warns.
    commune = htx["Xã/Phường"]
    assert commune.type == "list"
    assert commune.errorStyle == "warning"
    lists = workbook["DanhMuc"]
    assert lists.sheet_state == "hidden"
    names = {lists.cell(row=r, column=1).value for r in range(2, lists.max_row + 1)}
    assert {"Đức Mạnh", "Thuận An", "Đắk Sắk"} <= names


def test_numbers_dates_and_codes_are_checked_with_the_spec_bounds(blank):
    workbook = openpyxl.load_workbook(blank)
    htx, support = template_validations(workbook["HTX"]), template_validations(workbook["HoTro"])
    ocop, links = template_validations(workbook["OCOP"]), template_validations(workbook["LienKet"])

    def bounds(rule) -> tuple:
        return (rule.type, rule.operator, rule.formula1, rule.formula2)

    for header in ("Số thành viên", "Số lao động"):
        assert bounds(htx[header]) == ("whole", None, "0", "10000000")
    assert bounds(htx["Điểm"]) == ("decimal", None, "0", "100")
    for header in ("Vốn điều lệ (triệu đồng)", "Tổng tài sản (triệu đồng)"):
        assert bounds(htx[header])[:3] == ("decimal", None, "0")
    assert bounds(htx["Doanh thu (triệu đồng)"])[:3] == ("decimal", None, "0")
    assert bounds(htx["Thu nhập bình quân (triệu đồng/người/năm)"])[:3] == ("decimal", None, "0")
    assert float(htx["Lợi nhuận trước thuế (triệu đồng)"].formula1) < 0  # a loss is allowed
    assert bounds(support["Kinh phí (triệu đồng)"]) == ("decimal", "greaterThan", "0", None)
    assert bounds(support["Năm"]) == ("whole", "equal", "2023", None)
    assert bounds(links["Sản lượng (tấn)"])[:3] == ("decimal", None, "0")
    assert bounds(links["Giá trị hợp đồng (triệu đồng)"])[:3] == ("decimal", None, "0")
    for rule in (htx["Ngày thành lập"], ocop["Ngày quyết định"]):
        assert rule.type == "date"
        assert openpyxl.utils.datetime.from_excel(float(rule.formula2)).date() == dt.date(
            2023, 12, 31
        )
    code = htx["Mã số HTX"]
    assert code.type == "custom"
    assert "LEN(B2)=10" in code.formula1
    assert 'MID(B2,11,1)="-"' in code.formula1
    # Every validated range covers the pre-formatted rows.
    assert all(str(r.sqref).endswith("501") for r in htx.values())


def test_thongtin_is_filled_in_and_the_sheets_are_ready_to_type_in(blank):
    workbook = openpyxl.load_workbook(blank)
    info = workbook["ThongTin"]
    values = {row[0]: row[1] for row in info.iter_rows(min_row=2, values_only=True)}
    assert values == {
        "Mã đơn vị": "663",
        "Tên đơn vị": "Huyện Đắk Mil",
        "Năm báo cáo": 2023,
        "Ngày lập": None,
        "Người lập": None,
        "Đơn vị tính": "triệu đồng",
    }
    prompts = {str(r.sqref): r.promptTitle for r in info.data_validations.dataValidation}
    assert prompts["B5"] == "Ngày lập"
    assert prompts["B6"] == "Người lập"

    for sheet in (HTX, HOTRO, OCOP, LIENKET):
        ws = workbook[sheet.name]
        assert ws.freeze_panes == "A2"
        assert [c.value for c in ws[1]] == [template.header_text(c) for c in sheet.columns]
        assert all(ws.column_dimensions[c.column_letter].width >= 12 for c in ws[1])
    htx = workbook["HTX"]
    assert htx["J2"].number_format == "#,##0.0"
    assert htx["J501"].number_format == "#,##0.0"
    assert htx["B2"].number_format == "@"  # codes as text: the leading zero stays
    assert htx["E2"].number_format == "dd/mm/yyyy"

    assert workbook.sheetnames[0] == "HuongDan"
    guide = "\n".join(str(c.value) for c in workbook["HuongDan"]["A"] if c.value)
    assert "Tốt: điểm từ 80 trở lên" in guide
    assert "Yếu: dưới 50" in guide
    assert "triệu đồng" in guide
    assert "bị từ chối" in guide
    assert guide.index("HƯỚNG DẪN") < guide.index("English summary")  # Vietnamese first


def test_template_refuses_an_unknown_unit_or_year(tmp_path, capsys):
    assert main.main(["template", "--unit", "999", "--year", "2023", "--out", "x.xlsx"]) == 2
    assert "999" in capsys.readouterr().err
    with pytest.raises(template.TemplateError):
        template.write_template(tmp_path / "x.xlsx", "663", 2019)
    # A province reports too: Đắk Nông (67) before the merger, Lâm Đồng (68) after.
    path = template.write_template(tmp_path / "68_2025.xlsx", "68", 2025)
    info = openpyxl.load_workbook(path)["ThongTin"]
    assert (info["B2"].value, info["B3"].value) == ("68", "Tỉnh Lâm Đồng")


def test_prefill_without_a_warehouse_says_so(settings, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("HTX_WAREHOUSE", str(settings.warehouse))
    out = tmp_path / "663_2024.xlsx"
    args = ["template", "--unit", "663", "--year", "2024", "--out", str(out), "--prefill"]
    assert main.main(args) == 2
    error = capsys.readouterr().err
    assert "htx run" in error
    assert str(settings.warehouse) in error
    assert not out.exists()


def test_prefill_lists_the_unit_cooperatives_of_the_latest_year(settings, monkeypatch, tmp_path):
    first = [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "6400000002")]
    latest = [
        HTX_HEADER,
        htx_row(1, "6400000002", **{"Tên HTX": "HTX Mới tên", "Xã/Phường": "Thuận An"}),
        htx_row(2, "6400000003", **{"Lĩnh vực": "Vận tải"}),
    ]
    other = [HTX_HEADER, htx_row(1, "6400000009")]
    write_xlsx(
        settings.landing_dir / "663_2022.xlsx", {"ThongTin": info_rows(year=2022), "HTX": first}
    )
    write_xlsx(settings.landing_dir / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": latest})
    write_xlsx(
        settings.landing_dir / "664_2023.xlsx", {"ThongTin": info_rows(unit="664"), "HTX": other}
    )
    run_steps(settings)
    monkeypatch.setenv("HTX_WAREHOUSE", str(settings.warehouse))

    out = tmp_path / "663_2024.xlsx"
    assert (
        main.main(["template", "--unit", "663", "--year", "2024", "--out", str(out), "--prefill"])
        == 0
    )
    htx = openpyxl.load_workbook(out)["HTX"]
    rows = [
        [c.value for c in row[:6]] for row in htx.iter_rows(min_row=2) if row[1].value is not None
    ]
    assert rows == [
        [1, "6400000002", "HTX Mới tên", "Thuận An", dt.datetime(2015, 3, 1), "Nông nghiệp"],
        [2, "6400000003", "HTX Nông nghiệp số 2", "Đức Mạnh", dt.datetime(2015, 3, 1), "Vận tải"],
    ]
    assert htx["H2"].value is None  # the figures are the clerk's to fill in

    year, known = template.latest_cooperatives(
        settings.warehouse, template.reporting_unit("663"), 2022
    )
    assert year == 2022
    assert [k.coop_code for k in known] == ["6400000001", "6400000002"]
