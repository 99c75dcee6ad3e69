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
from etl.contract.reference import Reference, Unit, load_reference
from etl.contract.rules import current
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
    # The sources in force in the report year, from the one list of the rules.
    in_force = [e.label for e in current().funding_sources() if e.in_force(2023)]
    assert validation_items(support["Nguồn vốn"]) == in_force
    assert set(in_force) <= set(FUNDING_SOURCES)
    assert "Huyện" in in_force
    assert "Xã" not in in_force
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
    # More than 0 and, as `amount_mvnd_plausible` rejects more, at most 10^9 million VND: an
    # amount typed in đồng (1.500.000.000) is stopped at the keyboard, not after sending.
    amount = support["Kinh phí (triệu đồng)"]
    assert (amount.type, amount.formula1) == ("custom", "AND(ISNUMBER(E2),E2>0,E2<=1000000000)")
    # Its limit as each reader groups digits: `.` in Vietnamese (rule 5), `,` in English.
    assert amount.error == (
        "Triệu đồng, lớn hơn 0 và không quá 1.000.000.000. / "
        "Million VND, more than 0 and at most 1,000,000,000."
    )
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


def test_prefill_for_a_district_in_2025_lists_its_cooperatives_the_province_placed_anew(
    settings, monkeypatch, tmp_path
):
    """The 2025 province report names a former commune for one of 663's cooperatives and a
    new commune (no district) for the other: both stay 663's, as in
    marts.cooperative_district_year, and the district's 2025 template lists both."""
    before = [
        HTX_HEADER,
        htx_row(1, "6400000001", **{"Xã/Phường": "Đức Mạnh"}),
        htx_row(2, "6400000002", **{"Xã/Phường": "Thuận An"}),
    ]
    province = [
        HTX_HEADER,
        htx_row(1, "6400000001", **{"Xã/Phường": "Đức Mạnh"}),
        htx_row(2, "6400000002", **{"Xã/Phường": "Xã Đức Lập"}),
    ]
    write_xlsx(
        settings.landing_dir / "663_2024.xlsx", {"ThongTin": info_rows(year=2024), "HTX": before}
    )
    write_xlsx(
        settings.landing_dir / "68_2025.xlsx",
        {"ThongTin": info_rows(unit="68", year=2025), "HTX": province},
    )
    run_steps(settings)
    monkeypatch.setenv("HTX_WAREHOUSE", str(settings.warehouse))
    import duckdb

    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        attributed = con.execute(
            "select coop_code from marts.cooperative_district_year "
            "where year = 2025 and district_code = '663' order by coop_code"
        ).fetchall()
    assert attributed == [("6400000001",), ("6400000002",)]

    year, known = template.latest_cooperatives(
        settings.warehouse, template.reporting_unit("663"), 2025
    )
    assert year == 2025
    assert [k.coop_code for k in known] == ["6400000001", "6400000002"]


# --- the new geography (issue 15): communes from 2026, the lists by report year -----------


def _lists(path: Path) -> tuple[list[str], list[str], dict[str, object]]:
    """The template's commune drop-down, its `Nguồn vốn` list and ThongTin's values."""
    workbook = openpyxl.load_workbook(path)
    lists = workbook["DanhMuc"]
    communes = [
        lists.cell(row=r, column=1).value
        for r in range(2, lists.max_row + 1)
        if lists.cell(row=r, column=1).value is not None
    ]
    htx = template_validations(workbook["HTX"])
    assert htx["Xã/Phường"].formula1 == f"DanhMuc!$A$2:$A${len(communes) + 1}"
    funding = validation_items(template_validations(workbook["HoTro"])["Nguồn vốn"])
    info = {row[0]: row[1] for row in workbook["ThongTin"].iter_rows(min_row=2, values_only=True)}
    return communes, funding, info


def test_template_for_a_new_commune_in_2026(tmp_path, capsys):
    out = tmp_path / "24611_2026.xlsx"
    assert main.main(["template", "--unit", "24611", "--year", "2026", "--out", str(out)]) == 0
    assert "Phường Bắc Gia Nghĩa" in capsys.readouterr().out
    communes, funding, info = _lists(out)
    assert communes == ["Phường Bắc Gia Nghĩa"]
    assert (info["Mã đơn vị"], info["Tên đơn vị"], info["Năm báo cáo"]) == (
        "24611",
        "Phường Bắc Gia Nghĩa",
        2026,
    )
    assert funding == ["Trung ương", "Tỉnh", "Lồng ghép", "Khác", "Xã"]
    guide = "\n".join(str(c.value) for c in openpyxl.load_workbook(out)["HuongDan"]["A"] if c.value)
    assert "Phường Bắc Gia Nghĩa (mã 24611)" in guide


def test_template_for_the_province_in_2026_lists_its_124_communes_by_full_name(tmp_path):
    out = tmp_path / "68_2026.xlsx"
    assert main.main(["template", "--unit", "68", "--year", "2026", "--out", str(out)]) == 0
    communes, funding, info = _lists(out)
    expected = [u.full_name for u in load_reference().current_communes("68")]
    assert len(expected) == 124
    assert communes == expected
    assert {"Phường Bắc Gia Nghĩa", "Phường 1 Bảo Lộc", "Xã Đắk Mil", "Xã Krông Nô"} <= set(
        communes
    )
    # No former ward shown by its number, no former commune.
    assert not [name for name in communes if not name.startswith(("Xã ", "Phường ", "Đặc khu "))]
    assert "Phường Nghĩa Đức" not in communes
    assert (info["Mã đơn vị"], info["Tên đơn vị"]) == ("68", "Tỉnh Lâm Đồng")
    assert "Xã" in funding
    assert "Huyện" not in funding


def test_template_for_the_province_in_2025_lists_the_communes_in_force_at_its_end(tmp_path):
    path = template.write_template(tmp_path / "68_2025.xlsx", "68", 2025)
    communes, funding, _ = _lists(path)
    # A name that also fits a former commune leading elsewhere carries its code, which
    # decides (2025 may name either).
    coded = {"Xã Hoà Thắng", "Xã Tân Thành", "Xã Hoài Đức", "Xã Đắk Mil", "Xã Lạc Dương"}
    assert communes == [
        f"{u.full_name} ({u.code})" if u.full_name in coded else u.full_name
        for u in load_reference().current_communes("68")
    ]
    # 2025 is the year both are known: Huyện up to 2025, Xã from 2025.
    assert funding == [e.label for e in current().funding_sources() if e.in_force(2025)]
    assert {"Huyện", "Xã"} <= set(funding)
    # Up to 2024 a unit lists its former communes, as before.
    former, funding_2024, _ = _lists(template.write_template(tmp_path / "67.xlsx", "67", 2024))
    assert {"Đức Mạnh", "Thuận An", "Nghĩa Đức"} <= set(former)
    assert "Xã" not in funding_2024


@pytest.mark.parametrize("unit", ["68", "663", "662"])
def test_every_commune_of_a_2025_template_list_loads_without_a_finding(settings, unit):
    """A 2025 report may name a former or a new commune, so a name of the list may fit both
    (`Xã Đắk Mil`, `Di Linh`): the list adds the code where the name alone would not decide,
    and a cooperative of each listed name, with no history, loads placed and unwarned."""
    path = template.write_template(settings.landing_dir / f"{unit}_2025.xlsx", unit, 2025)
    workbook = openpyxl.load_workbook(path)
    lists = workbook["DanhMuc"]
    names = [lists.cell(row=r, column=1).value for r in range(2, lists.max_row + 1)]
    names = [name for name in names if name]
    info = workbook["ThongTin"]
    labels = {info.cell(row=r, column=1).value: r for r in range(1, info.max_row + 1)}
    info.cell(row=labels["Ngày lập"], column=2).value = dt.date(2026, 1, 15)
    htx = workbook["HTX"]
    for r, name in enumerate(names, start=2):
        values = {**COOPS[0], "STT": r - 1, "Mã số HTX": f"64{r:08d}", "Xã/Phường": name}
        for c, header in enumerate(HTX_HEADER, start=1):
            htx.cell(row=r, column=c).value = values[header]
    workbook.save(path)
    run_steps(settings)
    assert query(settings, "select status from audit.file_ingestion") == [("loaded",)]
    assert query(settings, "select rule, value from audit.rejected_row") == []
    placed = query(
        settings,
        "select count(*), count(*) filter (where f.geo_key in "
        "(select geo_key from core.dim_geography where level = 'commune')) "
        "from core.fact_cooperative_year f",
    )
    assert placed == [(len(names), len(names))]


@pytest.mark.parametrize("unit", ["68", "663"])
def test_a_2025_template_says_a_former_or_a_new_commune_is_accepted(tmp_path, unit):
    """2025 may name either geography (the workbook contract) while the drop-down lists one:
    the cell's messages and HuongDan say the other is accepted too, not warned about."""
    workbook = openpyxl.load_workbook(template.write_template(tmp_path / "t.xlsx", unit, 2025))
    commune = template_validations(workbook["HTX"])["Xã/Phường"]
    assert commune.errorStyle == "warning"
    assert "tên xã cũ (trước 01/07/2025) hay xã mới" in commune.prompt
    assert "a former or a new commune's name is accepted" in commune.prompt
    assert "a former or a new commune's name is accepted; another name gets a warning" in (
        commune.error
    )
    guide = [row[0].value for row in workbook["HuongDan"].iter_rows() if row[0].value]
    [note] = [line for line in guide if line.startswith("• Xã/Phường:")]
    assert note.endswith(
        "Năm 2025: tên xã cũ (trước 01/07/2025) hay tên xã/phường mới đều được nhận."
    )
    # Another year lists the only geography it may name: another name is warned about.
    other = openpyxl.load_workbook(template.write_template(tmp_path / "o.xlsx", unit, 2024))
    assert template_validations(other["HTX"])["Xã/Phường"].error.endswith(
        "Not in the reference list: accepted with a warning."
    )


def test_communes_sharing_a_full_name_are_told_apart():
    province = Unit("province", "99", "Thử", "Tỉnh Thử", "Thu", None, current=True)
    twins = [
        Unit("commune", code, "Tân Lập", "Xã Tân Lập", "Tan Lap", "99", current=True)
        for code in ("99001", "99002")
    ]
    other = Unit("commune", "99003", "Hoà Bình", "Xã Hoà Bình", "Hoa Binh", "99", current=True)
    ref = Reference(
        units={}, current_units={u.code: u for u in (province, *twins, other)}, province_merger={}
    )
    assert template.communes(province, 2026, ref) == [
        "Xã Tân Lập (99001)",
        "Xã Tân Lập (99002)",
        "Xã Hoà Bình",
    ]


@pytest.mark.parametrize(
    ("unit", "year", "said"),
    [
        ("663", 2026, "cấp huyện đã bỏ từ 01/07/2025"),  # a district after 2025
        ("24611", 2025, "xã/phường chỉ lập báo cáo riêng từ năm 2026"),  # a commune too early
        ("67", 2026, "đã hợp nhất vào Tỉnh Lâm Đồng"),  # a merged province
        ("99999", 2026, "mã xã/phường mới từ 01/07/2025 (5 chữ số"),  # no unit at all
        ("24611", 2024, "Phường Nghĩa Đức"),  # the code's former commune
    ],
)
def test_an_unknown_unit_names_the_year_and_who_may_report(tmp_path, capsys, unit, year, said):
    out = tmp_path / "x.xlsx"
    assert main.main(["template", "--unit", unit, "--year", str(year), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert str(year) in error
    assert said in error
    assert " / " in error  # Vietnamese, then English
    assert not out.exists()


# --- --prefill for a new commune: the cooperatives placed there ---------------------------


def _placed_warehouse(path: Path, placement: bool = True) -> Path:
    """A published warehouse with the two tables --prefill reads for a commune: a cooperative
    placed in 24611 from the 2025 province report, one placed there from an older report, one
    placed elsewhere, one under review; and a former version of a placed cooperative."""
    import duckdb

    placed = ", new_commune_code varchar, placement varchar" if placement else ""
    con = duckdb.connect(str(path))
    con.execute("create schema core")
    con.execute(
        "create table core.dim_cooperative (cooperative_key integer, coop_code varchar, "
        "name varchar, commune_name varchar, sector varchar, founded_on date, "
        f"is_current boolean{placed})"
    )
    con.execute(
        "create table core.fact_cooperative_year (cooperative_key integer, coop_code varchar, "
        "period_key integer, file_id varchar, excel_row integer, unit_code varchar)"
    )
    versions = [
        (1, "6400000001", "HTX Cũ tên", "Nghĩa Đức", "Nông nghiệp", False, "24611", "crosswalk"),
        (
            2,
            "6400000001",
            "HTX Cà phê Bắc Gia Nghĩa",
            "Nghĩa Đức",
            "Nông nghiệp",
            True,
            "24611",
            "crosswalk",
        ),
        (
            3,
            "6400000002",
            "HTX Dịch vụ Quảng Thành",
            "Bắc Gia Nghĩa",
            "Vận tải",
            True,
            "24611",
            "reported",
        ),
        (
            4,
            "6400000003",
            "HTX Nam Gia Nghĩa",
            "Nghĩa Trung",
            "Nông nghiệp",
            True,
            "24617",
            "reported",
        ),
        (5, "6400000004", "HTX Chưa rõ", "Đắk Nia", "Khác", True, None, "review"),
        (6, "6400000005", "HTX Đã giải thể", "Nghĩa Đức", "Khác", True, "24611", "crosswalk"),
    ]
    for key, code, name, commune, sector, current_row, new, how in versions:
        row = [key, code, name, commune, sector, "2015-03-01", current_row]
        row += [new, how] if placement else []
        con.execute(f"insert into core.dim_cooperative values ({', '.join('?' * len(row))})", row)
    facts = [
        (1, "6400000001", 2024, "f660", 7, "660"),
        (2, "6400000001", 2025, "f68", 3, "68"),
        (3, "6400000002", 2025, "f68", 2, "68"),
        (4, "6400000003", 2025, "f68", 4, "68"),
        (5, "6400000004", 2025, "f68", 5, "68"),
        (6, "6400000005", 2022, "f660", 2, "660"),  # last reported in 2022
    ]
    con.executemany("insert into core.fact_cooperative_year values (?, ?, ?, ?, ?, ?)", facts)
    con.close()
    return path


def test_prefill_for_a_new_commune_lists_the_cooperatives_placed_there(tmp_path, monkeypatch):
    warehouse = _placed_warehouse(tmp_path / "warehouse.duckdb")
    monkeypatch.setenv("HTX_WAREHOUSE", str(warehouse))
    out = tmp_path / "24611_2026.xlsx"
    args = ["template", "--unit", "24611", "--year", "2026", "--out", str(out), "--prefill"]
    assert main.main(args) == 0
    htx = openpyxl.load_workbook(out)["HTX"]
    rows = [[c.value for c in row[:4]] for row in htx.iter_rows(min_row=2) if row[1].value]
    # The latest year's cooperatives placed in 24611, in their report's order, each in the
    # new commune by its full name (its current version's name).
    assert rows == [
        [1, "6400000002", "HTX Dịch vụ Quảng Thành", "Phường Bắc Gia Nghĩa"],
        [2, "6400000001", "HTX Cà phê Bắc Gia Nghĩa", "Phường Bắc Gia Nghĩa"],
    ]
    year, known = template.latest_cooperatives(
        warehouse, template.reporting_unit("24611", 2026), 2023
    )
    assert (year, [k.coop_code for k in known]) == (2022, ["6400000005"])


def test_prefill_for_a_new_commune_says_when_the_warehouse_places_no_cooperative(
    tmp_path, monkeypatch, capsys
):
    warehouse = _placed_warehouse(tmp_path / "warehouse.duckdb", placement=False)
    monkeypatch.setenv("HTX_WAREHOUSE", str(warehouse))
    out = tmp_path / "24611_2026.xlsx"
    args = ["template", "--unit", "24611", "--year", "2026", "--out", str(out), "--prefill"]
    assert main.main(args) == 2
    error = capsys.readouterr().err
    assert "new_commune_code" in error
    assert "bỏ --prefill" in error
    assert not out.exists()
    # A commune where nothing is placed says so, naming the commune.
    warehouse = _placed_warehouse(tmp_path / "placed.duckdb")
    monkeypatch.setenv("HTX_WAREHOUSE", str(warehouse))
    args = ["template", "--unit", "24670", "--year", "2026", "--out", str(out), "--prefill"]
    assert main.main(args) == 2
    assert "24670 (Xã Đắk Mil)" in capsys.readouterr().err


def test_prefill_for_a_new_commune_from_a_real_build(settings, monkeypatch, tmp_path):
    """The 2025 province report names a new commune: the cooperative is placed there
    (`reported`), and the commune's 2026 template lists it."""
    coops = [
        HTX_HEADER,
        htx_row(1, "6400000011", **{"Tên HTX": "HTX Bắc Gia Nghĩa", "Xã/Phường": "Bắc Gia Nghĩa"}),
        htx_row(2, "6400000012", **{"Tên HTX": "HTX Đắk Mil", "Xã/Phường": "Xã Đắk Mil"}),
    ]
    write_xlsx(
        settings.landing_dir / "68_2025.xlsx",
        {"ThongTin": info_rows(unit="68", year=2025), "HTX": coops},
    )
    run_steps(settings)
    monkeypatch.setenv("HTX_WAREHOUSE", str(settings.warehouse))
    out = tmp_path / "24611_2026.xlsx"
    args = ["template", "--unit", "24611", "--year", "2026", "--out", str(out), "--prefill"]
    assert main.main(args) == 0
    htx = openpyxl.load_workbook(out)["HTX"]
    rows = [[c.value for c in row[:4]] for row in htx.iter_rows(min_row=2) if row[1].value]
    assert rows == [[1, "6400000011", "HTX Bắc Gia Nghĩa", "Phường Bắc Gia Nghĩa"]]
    # The province's 2026 template names each cooperative's new commune.
    out = tmp_path / "68_2026.xlsx"
    args = ["template", "--unit", "68", "--year", "2026", "--out", str(out), "--prefill"]
    assert main.main(args) == 0
    htx = openpyxl.load_workbook(out)["HTX"]
    rows = [[c.value for c in row[1:4:2]] for row in htx.iter_rows(min_row=2) if row[1].value]
    assert rows == [["6400000011", "Phường Bắc Gia Nghĩa"], ["6400000012", "Xã Đắk Mil"]]
