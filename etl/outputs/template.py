"""The official district workbook for one unit and year, written with xlsxwriter.

`htx template` hands a clerk this file: `ThongTin` filled in, every sheet of the layout with
its headers (`etl.contract.layout`), drop-down lists, number checks and rating-band
highlight derived from the GX suites' rules (`etl.contract.rules`), and `HuongDan`, the
instructions, which quote the same rules. With a warehouse, the `HTX` sheet can list the
unit's cooperatives of the latest loaded year, so the clerk only updates the figures.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from xlsxwriter.utility import xl_col_to_name

from etl.contract.communes import candidates
from etl.contract.findings import Finding
from etl.contract.layout import (
    DATA_SHEETS,
    FIRST_YEAR,
    HTX,
    LAST_YEAR,
    PROGRAMS,
    THONGTIN_KEYS,
    Column,
    Sheet,
)
from etl.contract.reference import (
    FIRST_NEW_YEAR,
    REORGANISED_ON,
    Reference,
    Unit,
    load_reference,
)
from etl.contract.rules import Bounds, RuleError, Rules, current

DATA_ROWS = 500  # pre-formatted and validated rows below each header
MONEY_UNIT = "triệu đồng"
# Upper ends the template adds where the suites state none (counts, tonnes): a guard
# against typing slips only. Every other bound is the suites'.
INPUT_CAPS = {"int": 10_000_000, "number": 1e9}
YES_NO = ("Có", "Không")
# The pattern `_code_formula` checks in Excel; tests/test_rules_agree.py holds it to the
# suite's `coop_code_format` regex, as a formula cannot be derived from a regex.
CODE_PATTERN = r"^\d{10}(?:-\d{3})?$"
LISTS_SHEET = "DanhMuc"
INSTRUCTIONS_SHEET = "HuongDan"
INFO_SHEET = "ThongTin"

# Header units the reader understands: money in million VND, income per person per year.
_HEADER_UNITS = {"avg_income_mvnd": "triệu đồng/người/năm"}
_NUMBER_FORMATS = {
    "money": "#,##0.0",
    "int": "#,##0",
    "number": "#,##0.0",
    "date": "dd/mm/yyyy",
}
_WIDTHS = {"code": 14, "date": 14, "money": 16, "int": 12, "number": 12, "yesno": 12}
_WIDE_TEXT = {"name", "content", "partner", "product_name", "note", "program"}


class TemplateError(ValueError):
    """The template cannot be written as asked; the message says why, in Vietnamese and English."""


@dataclass(frozen=True)
class KnownCooperative:
    """A cooperative as the warehouse last saw it: what `--prefill` writes into the HTX sheet."""

    coop_code: str
    name: str
    commune_name: str | None
    sector: str | None
    founded_on: dt.date | None


def reporting_unit(code: str, year: int | None = None, ref: Reference | None = None) -> Unit:
    """The unit that may send the workbook of `year` under a code (a province, a former
    district up to 2025, a commune from 2026), or a TemplateError that names the year and
    the units that may report then. Without a year: a province or a former district."""
    ref = ref or load_reference()
    text = str(code).strip()
    unit = ref.reporting_unit(text, year)
    if unit is not None:
        return unit
    if year is None:
        raise TemplateError(
            f"Mã đơn vị '{code}' không phải là mã huyện hay tỉnh trong danh mục. / "
            f"'{code}' is not a district or province code of the reference list."
        )
    from etl.read.identify import identify, who_reports

    found = identify({"unit_code": text, "report_year": year}, "", ref)
    if not isinstance(found, Finding) or found.rule != "unit_not_in_year":
        who = who_reports(year)
        raise TemplateError(
            f"Mã đơn vị '{code}' không phải là đơn vị báo cáo năm {year}. Năm {year}, đơn vị "
            f"báo cáo là {who['who']}. / '{code}' is no reporting unit of report year {year}. "
            f"Reports for {year} come from {who['who_en']}."
        )
    raise TemplateError(found.message)


def communes(unit: Unit, year: int, ref: Reference | None = None) -> list[str]:
    """The `Xã/Phường` drop-down of a unit's workbook for a report year.

    - a commune (from 2026): that commune;
    - a province from 2025: its communes in force at the end of the year (since
      01/07/2025), by full name (`Phường 1 Bảo Lộc`), a full name two of them share
      followed by the code;
    - a district (up to 2025), or a province up to 2024: its former communes, by name.
    """
    ref = ref or load_reference()
    if unit.current and unit.level == "commune":
        return [unit.full_name]
    if unit.level == "province" and year >= REORGANISED_ON.year:
        listed = [(c.full_name, c.code) for c in ref.current_communes(unit.code)]
    else:
        listed = sorted({(c.name, c.code) for c in ref.communes_of(unit).values()})
    shared = Counter(name for name, _ in listed)
    return [
        name if shared[name] == 1 and _decided(ref, unit, year, name) else f"{name} ({code})"
        for name, code in listed
    ]


def _decided(ref: Reference, unit: Unit, year: int, name: str) -> bool:
    """Whether a listed name tells its commune: in 2025 a name may fit a former and a new
    commune that lead apart (`Xã Đắk Mil`), and the list then adds the code, which decides
    (`etl.contract.communes`)."""
    if year != REORGANISED_ON.year:
        return True
    fits = candidates(ref, unit.code, year, name)
    return len({c.new_commune_code for c in fits}) == 1 and fits[0].new_commune_code is not None


def check_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise TemplateError(
            f"Năm báo cáo phải từ {FIRST_YEAR} đến {LAST_YEAR}, không phải {year}. / "
            f"The reporting year must be {FIRST_YEAR}–{LAST_YEAR}, not {year}."
        )
    return year


def header_text(column: Column) -> str:
    """The template's header: the layout's, with the money unit the reader scales by."""
    if column.kind != "money":
        return column.header
    return f"{column.header} ({_HEADER_UNITS.get(column.key, MONEY_UNIT)})"


def _index(sheet: Sheet, key: str) -> int:
    return next(i for i, c in enumerate(sheet.columns) if c.key == key)


def _position(sheet: Sheet, key: str) -> str:
    """The column letter of a layout column in the template."""
    return xl_col_to_name(_index(sheet, key))


def _code_formula(cell: str) -> str:
    """True for 10 digits, optionally `-` and 3 digits; text keeps a leading zero."""
    ten = f'IFERROR(TEXT(--LEFT({cell},10),"0000000000")=LEFT({cell},10),FALSE)'
    suffix = f'IFERROR(TEXT(--RIGHT({cell},3),"000")=RIGHT({cell},3),FALSE)'
    return f'=AND(OR(LEN({cell})=10,AND(LEN({cell})=14,MID({cell},11,1)="-",{suffix})),{ten})'


def _list(values: tuple[str, ...], title: str, message: str) -> dict:
    return {
        "validate": "list",
        "source": list(values),
        "input_title": title,
        "input_message": message,
        "error_title": "Giá trị không hợp lệ",
        "error_message": "Hãy chọn một giá trị trong danh sách. / Pick a value from the list.",
    }


def _decimal(criteria: str, title: str, message: str, **bounds: float | None) -> dict:
    return {
        "validate": "decimal",
        "criteria": criteria,
        **bounds,
        "input_title": title,
        "input_message": message,
        "error_title": "Số không hợp lệ",
        "error_message": message,
    }


def _whole(criteria: str, title: str, message: str, **bounds: float | None) -> dict:
    return {**_decimal(criteria, title, message, **bounds), "validate": "integer"}


def _n(value: float | None) -> str:
    """A rule's number as the clerk reads it: `80`, `0.5`, `1000000000`."""
    if value is None:
        raise RuleError("an open bound has no number to quote")
    return str(int(value)) if float(value).is_integer() else str(value)


def _either(values, word: str) -> str:
    """`3, 4 hoặc 5`: a short list joined for a sentence."""
    items = [str(v) for v in values]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def stars(rules: Rules | None = None) -> tuple[str, ...]:
    """The OCOP stars a product may have, from the suite's bounds (`3`, `4`, `5`)."""
    return tuple(str(n) for n in (rules or current()).bounds("ocop", "stars").whole_numbers())


def allowed(sheet: Sheet, column: Column, year: int, rules: Rules | None = None) -> tuple:
    """The values a category column's drop-down offers in a report year: the suite's."""
    return (rules or current()).listed(sheet.key, column.key, year)


def _range(kind: str, bounds: Bounds, title: str, message: str, cap: float | None = None) -> dict:
    """An Excel number check of a suite's bounds; `cap` closes an open upper end."""
    check = _whole if kind == "integer" else _decimal
    if bounds.strict_min:
        # Excel's `between` includes its ends: a strict lower bound is `greater than`
        # alone, and the suite's upper end then stays the pipeline's to check.
        return check("greater than", title, message, value=bounds.min)
    return check(
        "between",
        title,
        message,
        minimum=bounds.min,
        maximum=cap if bounds.max is None else bounds.max,
    )


def validation(sheet: Sheet, column: Column, year: int, rows: int = DATA_ROWS) -> dict | None:
    """The Excel data validation of one column's `rows` data rows from row 2 (xlsxwriter
    options), or None for free text."""
    key, kind = column.key, column.kind
    last_day = dt.date(year, 12, 31)
    if kind == "code" and sheet is HTX:
        return {
            "validate": "custom",
            "value": _code_formula(f"{_position(sheet, key)}2"),
            "input_title": "Mã số HTX",
            "input_message": "10 chữ số, có thể thêm '-' và 3 chữ số (ghi dạng văn bản). / "
            "10 digits, optionally '-' and 3 digits (as text).",
            "error_title": "Mã số HTX không hợp lệ",
            "error_message": "Mã số HTX phải gồm 10 chữ số (có thể thêm '-' và 3 chữ số). / "
            "The code must be 10 digits, optionally '-' and 3 digits.",
        }
    if kind == "code":
        column_ref = _position(HTX, "coop_code")
        return {
            "validate": "list",
            "source": f"={HTX.name}!${column_ref}$2:${column_ref}${rows + 1}",
            "input_title": "Mã số HTX",
            "input_message": "Chọn mã của một HTX đã ghi ở trang HTX. / "
            "Pick the code of a cooperative listed in the HTX sheet.",
            "error_title": "HTX không có trong trang HTX",
            "error_message": "Mã này phải có trong trang HTX. / "
            "This code must appear in the HTX sheet.",
        }
    if key == "commune_name":
        return None  # the unit's communes: see commune_validation
    rules = current()
    if kind == "category":
        return _list(
            allowed(sheet, column, year, rules),
            column.header[:32],
            "Chọn trong danh sách. / Pick from the list.",
        )
    if kind == "program":
        names = "; ".join(code for code, _, _ in PROGRAMS)
        return _list(
            tuple(code for code, _, _ in PROGRAMS),
            "Mã chương trình",
            f"Chọn mã chương trình ({names}), xem trang HuongDan. / Programme code.",
        )
    if kind == "yesno":
        return _list(YES_NO, column.header[:32], "Có hoặc Không (trống = Không). / Yes or no.")
    if key == "stars":
        values = stars(rules)
        return _list(
            values,
            "Số sao OCOP",
            f"{_either(values, 'hoặc')} sao. / {_either(values, 'or')} stars.",
        )
    if key == "year":
        return _whole(
            "equal to",
            "Năm giải ngân",
            f"Bằng năm báo cáo {year}. / Equal to the reporting year {year}.",
            value=year,
        )
    if kind == "date":
        return _date_validation(column, last_day)
    if kind not in ("int", "money", "number"):
        return None
    bounds = rules.bounds(sheet.key, key)
    low = _n(bounds.min)
    if kind == "int":
        message = f"Số nguyên ≥ {low}. / A whole number ≥ {low}."
        return _range("integer", bounds, column.header[:32], message, INPUT_CAPS["int"])
    if key == "score":
        high = _n(bounds.max)
        message = f"Điểm từ {low} đến {high}. / A score from {low} to {high}."
        return _range("decimal", bounds, "Điểm xếp loại", message)
    if kind == "number":
        message = f"Số ≥ {low}. / A number ≥ {low}."
        return _range("decimal", bounds, column.header[:32], message, INPUT_CAPS["number"])
    if bounds.strict_min and bounds.max is not None:
        # Excel's `between` includes its ends and `greater than` has no upper one: a formula
        # keeps both, so an amount the suite rejects as implausible (typed in đồng) is
        # stopped at the keyboard.
        high, cell = _n(bounds.max), f"{_position(sheet, key)}2"
        below = "<" if bounds.strict_max else "<="
        # The limit as each reader groups it: 1.000.000.000 (rule 5), 1,000,000,000.
        grouped = f"{int(bounds.max):,}" if float(bounds.max).is_integer() else high
        message = (
            f"Triệu đồng, lớn hơn {low} và không quá {grouped.replace(',', '.')}. / "
            f"Million VND, more than {low} and at most {grouped}."
        )
        return {
            "validate": "custom",
            "value": f"=AND(ISNUMBER({cell}),{cell}>{low},{cell}{below}{high})",
            "input_title": column.header[:32],
            "input_message": message,
            "error_title": "Số không hợp lệ",
            "error_message": message,
        }
    if bounds.strict_min:
        message = f"Triệu đồng, lớn hơn {low}. / Million VND, more than {low}."
    elif bounds.min is not None and bounds.min < 0:  # never None: `low` quoted it
        message = "Triệu đồng, có thể âm (lỗ). / Million VND, may be negative (a loss)."
    else:
        message = f"Triệu đồng, ≥ {low}. / Million VND, ≥ {low}."
    return _range("decimal", bounds, column.header[:32], message)


def _date_validation(column: Column, last_day: dt.date) -> dict:
    return {
        "validate": "date",
        "criteria": "between",
        "minimum": dt.date(1900, 1, 1),
        "maximum": last_day,
        "input_title": column.header[:32],
        "input_message": f"Ngày dd/mm/yyyy, không sau {last_day:%d/%m/%Y}. / "
        f"A date, not after {last_day:%d/%m/%Y}.",
        "error_title": "Ngày không hợp lệ",
        "error_message": f"Nhập ngày dạng dd/mm/yyyy, không sau {last_day:%d/%m/%Y}. / "
        f"Enter a date dd/mm/yyyy, not after {last_day:%d/%m/%Y}.",
    }


def number_format(column: Column) -> str:
    if column.key == "score":
        return "0.0"
    if column.key in ("year", "stars"):
        return "0"
    return _NUMBER_FORMATS.get(column.kind, "@")  # text and codes stay text: `0100…` keeps its 0


def column_width(column: Column) -> int:
    if column.key in _WIDE_TEXT:
        return 34
    return max(_WIDTHS.get(column.kind, 16), min(len(header_text(column)) + 2, 30))


# --- the unit's cooperatives from the warehouse -------------------------------------------

_LATEST_COOPERATIVES = """
with

facts as (
    select * from core.fact_cooperative_year
),

cooperatives as (
    select * from core.dim_cooperative
),

geography as (
    select * from core.dim_geography
),

located as (
    -- A fact in a commune with no district (a new commune, named by a province report of
    -- 2025) stays with the cooperative's last district, as in marts.cooperative_district_year.
    select
        f.*,
        g.province_code,
        last_value(g.district_code ignore nulls) over (
            partition by f.coop_code order by f.period_key
            rows between unbounded preceding and current row
        ) as district_code
    from facts as f
    inner join geography as g using (geo_key)
),

unit_rows as (
    select
        f.period_key as year,
        f.coop_code,
        c.name,
        c.commune_name,
        c.sector,
        c.founded_on,
        f.file_id,
        f.excel_row
    from located as f
    inner join cooperatives as c using (cooperative_key)
    where (f.unit_code = $unit or f.district_code = $unit
           or list_contains($provinces, f.province_code))
        and f.period_key <= $year
),

latest as (
    select max(year) as year from unit_rows
)

select
    u.year,
    u.coop_code,
    u.name,
    u.commune_name,
    u.sector,
    u.founded_on
from unit_rows as u
inner join latest as l using (year)
order by u.file_id, u.excel_row, u.coop_code
"""


# The cooperatives placed in a new commune (`dim_cooperative.new_commune_code`, the same on
# every version), with the row of their latest report up to the year.
_PLACED_COOPERATIVES = """
with

placed as (
    select * from core.dim_cooperative
    where new_commune_code = $unit and is_current
),

facts as (
    select
        f.coop_code,
        f.period_key as year,
        f.file_id,
        f.excel_row,
        row_number() over (
            partition by f.coop_code order by f.period_key desc, f.file_id, f.excel_row
        ) as recency
    from core.fact_cooperative_year as f
    where f.period_key <= $year and f.coop_code in (select p.coop_code from placed as p)
),

last_rows as (
    select * from facts where recency = 1
),

latest as (
    select max(year) as year from last_rows
)

select
    r.year,
    p.coop_code,
    p.name,
    p.sector,
    p.founded_on
from placed as p
inner join last_rows as r using (coop_code)
inner join latest as l using (year)
order by r.file_id, r.excel_row, p.coop_code
"""

_PLACEMENT_COLUMNS = """
select count(*) from information_schema.columns
where table_schema = 'core' and table_name = 'dim_cooperative'
    and column_name in ('new_commune_code', 'placement')
"""


def latest_cooperatives(
    warehouse: Path, unit: Unit, year: int, ref: Reference | None = None
) -> tuple[int, list[KnownCooperative]]:
    """The unit's cooperatives of the latest year up to `year` in the warehouse, read only.
    For a commune in force since 01/07/2025: the cooperatives placed there
    (`core.dim_cooperative.new_commune_code`), with the commune's full name."""
    import duckdb

    if not warehouse.exists():
        raise TemplateError(
            f"Chưa có kho dữ liệu tại {warehouse}: hãy chạy `htx run` trước, hoặc bỏ --prefill. / "
            f"No warehouse at {warehouse}: run `htx run` first, or leave out --prefill."
        )
    ref = ref or load_reference()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        if unit.current and unit.level == "commune":
            rows = _placed_cooperatives(con, warehouse, unit, year)
        else:
            provinces = ref.former_provinces(unit.code) if unit.level == "province" else []
            rows = con.execute(
                _LATEST_COOPERATIVES, {"unit": unit.code, "provinces": provinces, "year": year}
            ).fetchall()
            if year >= FIRST_NEW_YEAR and rows:
                rows = _in_new_communes(con, rows, ref)
    finally:
        con.close()
    if not rows:
        raise TemplateError(
            f"Kho dữ liệu chưa có HTX nào của đơn vị {unit.code} ({unit.full_name}) đến năm "
            f"{year}. / The warehouse holds no cooperative of unit {unit.code} "
            f"({unit.full_name}) up to {year}."
        )
    return rows[0][0], [KnownCooperative(*row[1:]) for row in rows]


def _in_new_communes(con, rows: list[tuple], ref: Reference) -> list[tuple]:
    """A province's rows from 2026 name the new commune each cooperative is placed in (a
    report of 2026 names communes in force); one under review keeps its former commune,
    for the clerk to settle."""
    (found,) = con.execute(_PLACEMENT_COLUMNS).fetchone()
    if found < 2:
        return rows
    placed = dict(
        con.execute(
            "select coop_code, new_commune_code from core.dim_cooperative "
            "where is_current and new_commune_code is not null"
        ).fetchall()
    )
    renamed = []
    for year, code, name, commune, sector, founded in rows:
        new = ref.current_unit(placed.get(code) or "")
        renamed.append((year, code, name, new.full_name if new else commune, sector, founded))
    return renamed


def _placed_cooperatives(con, warehouse: Path, unit: Unit, year: int) -> list[tuple]:
    """(year, code, name, commune, sector, founded on) of the cooperatives placed in a new
    commune; a TemplateError when the warehouse predates placement."""
    (found,) = con.execute(_PLACEMENT_COLUMNS).fetchone()
    if found < 2:
        raise TemplateError(
            f"Kho dữ liệu tại {warehouse} chưa có vị trí của HTX theo xã mới (cột "
            "core.dim_cooperative.new_commune_code và placement): hãy chạy `htx run` với phiên "
            "bản này để xây lại kho, hoặc bỏ --prefill. / The warehouse at "
            f"{warehouse} does not place cooperatives in the new communes yet (no "
            "core.dim_cooperative.new_commune_code and placement): run `htx run` with this "
            "release to rebuild it, or leave out --prefill."
        )
    placed = con.execute(_PLACED_COOPERATIVES, {"unit": unit.code, "year": year}).fetchall()
    return [
        (y, code, name, unit.full_name, sector, founded)
        for y, code, name, sector, founded in placed
    ]


# --- the workbook --------------------------------------------------------------------------


def write_template(
    path: Path,
    unit_code: str,
    year: int,
    cooperatives: list[KnownCooperative] | None = None,
    ref: Reference | None = None,
) -> Path:
    """Write the official workbook for one unit and year; `cooperatives` prefill the HTX sheet."""
    import xlsxwriter

    ref = ref or load_reference()
    check_year(year)
    unit = reporting_unit(unit_code, year, ref)
    cooperatives = cooperatives or []
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_urls": False}
    )
    workbook.set_properties(
        {
            "title": f"Báo cáo HTX năm {year}: {unit.full_name}",
            "subject": "Mẫu báo cáo hợp tác xã / Cooperative report template",
            "author": "Liên minh HTX tỉnh",
            "created": dt.datetime(year, 1, 1),
        }
    )
    formats = _formats(workbook)
    try:
        _write_instructions(workbook.add_worksheet(INSTRUCTIONS_SHEET), unit, year, formats)
        _write_info(workbook.add_worksheet(INFO_SHEET), unit, year, formats)
        names = communes(unit, year, ref)
        rows = max(DATA_ROWS, len(cooperatives) + 100)
        for sheet in DATA_SHEETS:
            ws = workbook.add_worksheet(sheet.name)
            _write_sheet(ws, sheet, year, rows, len(names), formats)
        _write_cooperatives(workbook.get_worksheet_by_name(HTX.name), cooperatives, formats)
        _write_lists(workbook.add_worksheet(LISTS_SHEET), names, formats)
    finally:
        workbook.close()
    return path


def _formats(workbook) -> dict:
    head = {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
    formats = {
        "head": workbook.add_format(head),
        "title": workbook.add_format({"bold": True, "font_size": 14}),
        "section": workbook.add_format({"bold": True, "font_size": 12, "font_color": "#1F4E79"}),
        "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
        "key": workbook.add_format({"bold": True}),
        "given": workbook.add_format({"num_format": "@", "bg_color": "#F2F2F2"}),
        "year": workbook.add_format({"num_format": "0", "bg_color": "#F2F2F2", "align": "left"}),
        "input": workbook.add_format({"num_format": "@", "bg_color": "#FFF2CC", "border": 1}),
        "input_date": workbook.add_format(
            {"num_format": "dd/mm/yyyy", "bg_color": "#FFF2CC", "border": 1, "align": "left"}
        ),
        "mismatch": workbook.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"}),
    }
    for name in {*_NUMBER_FORMATS.values(), "@", "0.0", "0"}:
        formats[name] = workbook.add_format({"num_format": name})
    return formats


def _write_info(ws, unit: Unit, year: int, formats: dict) -> None:
    ws.write_row(0, 0, ["Thông tin", "Giá trị", "Ghi chú / Note"], formats["head"])
    ws.freeze_panes(1, 0)
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 30)
    ws.set_column(2, 2, 70)
    notes = {
        "unit_code": "Điền sẵn, không sửa. / Filled in, do not change.",
        "unit_name": "Điền sẵn, không sửa. / Filled in, do not change.",
        "report_year": "Điền sẵn, không sửa. / Filled in, do not change.",
        "prepared_on": "Ngày lập báo cáo (dd/mm/yyyy). / Date the report was made.",
        "prepared_by": "Họ tên người lập. / Name of the preparer.",
        "money_unit": "Mọi số tiền trong tệp tính bằng triệu đồng. / All money in million VND.",
    }
    for r, (key, label) in enumerate(THONGTIN_KEYS.items(), start=1):
        ws.write_string(r, 0, label, formats["key"])
        ws.write_string(r, 2, notes[key], formats["wrap"])
        if key == "unit_code":
            ws.write_string(r, 1, unit.code, formats["given"])
        elif key == "unit_name":
            ws.write_string(r, 1, unit.full_name, formats["given"])
        elif key == "report_year":
            ws.write_number(r, 1, year, formats["year"])
            message = f"Năm báo cáo là {year}. / The reporting year is {year}."
            ws.data_validation(r, 1, r, 1, _whole("equal to", "Năm báo cáo", message, value=year))
        elif key == "money_unit":
            ws.write_string(r, 1, MONEY_UNIT, formats["given"])
        elif key == "prepared_on":
            ws.write_blank(r, 1, None, formats["input_date"])
            ws.data_validation(
                r,
                1,
                r,
                1,
                {
                    "validate": "date",
                    "criteria": "between",
                    "minimum": dt.date(year, 1, 1),
                    "maximum": dt.date(year + 1, 12, 31),
                    "input_title": "Ngày lập",
                    "input_message": "Ghi ngày lập báo cáo (dd/mm/yyyy). Tệp gửi lại có ngày "
                    "lập sau sẽ thay thế tệp trước. / The date the report was made.",
                    "error_title": "Ngày không hợp lệ",
                    "error_message": "Nhập ngày dạng dd/mm/yyyy. / Enter a date dd/mm/yyyy.",
                },
            )
        else:  # prepared_by
            ws.write_blank(r, 1, None, formats["input"])
            ws.data_validation(
                r,
                1,
                r,
                1,
                {
                    "validate": "any",
                    "input_title": "Người lập",
                    "input_message": "Ghi họ tên người lập báo cáo. / The preparer's name.",
                },
            )


def _write_sheet(ws, sheet: Sheet, year: int, rows: int, communes: int, formats: dict) -> None:
    last = rows  # 0-based index of the last data row: rows 2..rows+1 in Excel
    ws.set_row(0, 45)
    ws.freeze_panes(1, 0)
    for c, column in enumerate(sheet.columns):
        ws.write_string(0, c, header_text(column), formats["head"])
        cell_format = formats[number_format(column)]
        ws.set_column(c, c, column_width(column), cell_format)
        for r in range(1, last + 1):
            ws.write_blank(r, c, None, cell_format)
        rule = validation(sheet, column, year, rows)
        if column.key == "commune_name" and communes:
            rule = commune_validation(communes, year)
        if rule is not None:
            ws.data_validation(1, c, last, c, rule)
    if sheet is HTX:
        score = _index(HTX, "score")
        ws.conditional_format(
            1,
            score,
            last,
            score,
            {"type": "formula", "criteria": band_mismatch(), "format": formats["mismatch"]},
        )


def band_mismatch(rules: Rules | None = None) -> str:
    """The formula that marks a score outside its rating's band (the suite's
    `rating_matches_score`), for row 2 and relative below. Ends that the score's own range
    (0–100) already checks are left out."""
    rules = rules or current()
    rating, score = _position(HTX, "rating"), _position(HTX, "score")
    scale = rules.bounds("htx", "score")
    bands = []
    for band in rules.rating_bands():
        b = band.bounds
        outside = []
        if b.min is not None and (b.min != scale.min or b.strict_min):
            outside.append(f"{score}2{'<=' if b.strict_min else '<'}{_n(b.min)}")
        if b.max is not None and (b.max != scale.max or b.strict_max):
            outside.append(f"{score}2{'>=' if b.strict_max else '>'}{_n(b.max)}")
        if not outside:
            continue
        test = outside[0] if len(outside) == 1 else f"OR({','.join(outside)})"
        bands.append(f'AND({rating}2="{band.rating}",{test})')
    return f"=AND(ISNUMBER({score}2),OR({','.join(bands)}))"


def commune_validation(communes: int, year: int | None = None) -> dict:
    """The unit's communes from the lists sheet; another name is allowed after a warning, as
    the pipeline only warns about it (the suite's `commune_known` severity). In 2025 a report
    may name a former commune or a new one (the workbook contract), while the list holds
    one of the two: the messages say the other is accepted too."""
    rule = {
        "validate": "list",
        "source": f"={LISTS_SHEET}!$A$2:$A${communes + 1}",
        "error_type": "warning" if current().severity("commune_known") == "warning" else "stop",
        "input_title": "Xã/Phường",
        "input_message": "Chọn xã/phường của đơn vị; tên khác danh mục sẽ bị cảnh báo. / "
        "Pick a commune; other names are warned about.",
        "error_title": "Xã không có trong danh mục",
        "error_message": "Tên xã không có trong danh mục: tệp vẫn được nhận nhưng bị cảnh báo. / "
        "Not in the reference list: accepted with a warning.",
    }
    if year == REORGANISED_ON.year:
        rule["input_message"] = (
            "Chọn xã/phường trong danh mục; năm 2025 tên xã cũ (trước 01/07/2025) hay xã mới "
            "đều được nhận, tên khác bị cảnh báo. / Pick a commune; in 2025 a former or a new "
            "commune's name is accepted, other names are warned about."
        )
        rule["error_message"] = (
            "Không có trong danh mục: tên xã cũ (trước 01/07/2025) hay xã mới vẫn được nhận "
            "không cảnh báo; tên khác bị cảnh báo. / Not in the list: a former or a new "
            "commune's name is accepted; another name gets a warning."
        )
    return rule


def _write_cooperatives(ws, cooperatives: list[KnownCooperative], formats: dict) -> None:
    index = {c.key: i for i, c in enumerate(HTX.columns)}
    for r, coop in enumerate(cooperatives, start=1):
        ws.write_number(r, index["stt"], r, formats["0"])
        ws.write_string(r, index["coop_code"], coop.coop_code, formats["@"])
        ws.write_string(r, index["name"], coop.name, formats["@"])
        if coop.commune_name:
            ws.write_string(r, index["commune_name"], coop.commune_name, formats["@"])
        if coop.sector:
            ws.write_string(r, index["sector"], coop.sector, formats["@"])
        if coop.founded_on:
            moment = dt.datetime.combine(coop.founded_on, dt.time())
            ws.write_datetime(r, index["founded_on"], moment, formats["dd/mm/yyyy"])


def _write_lists(ws, communes: list[str], formats: dict) -> None:
    """The commune list the `Xã/Phường` drop-down reads; the other lists, for reference."""
    lists = {
        "Xã/Phường": communes,
        "Lĩnh vực": list(current().value_set("htx", "sector")),
        "Xếp loại": list(current().value_set("htx", "rating")),
        "Chương trình": [f"{code}: {vi}" for code, vi, _ in PROGRAMS],
    }
    for c, (title, values) in enumerate(lists.items()):
        ws.write_string(0, c, title, formats["head"])
        ws.set_column(c, c, 30 if c else 24)
        for r, value in enumerate(values, start=1):
            ws.write_string(r, c, value)
    ws.hide()


# --- HuongDan ------------------------------------------------------------------------------

_PURPOSE = "Mỗi năm mỗi đơn vị gửi Liên minh HTX tỉnh một tệp này."
_GENERAL = (
    "Giữ nguyên tên các trang tính và dòng tiêu đề; không đổi tên, xoá hay chèn cột. Điền từ "
    "dòng 2, mỗi dòng một đối tượng; không cần dòng tổng cộng.",
    "Đơn vị tiền: triệu đồng (ví dụ 1.250,5 là 1 tỷ 250 triệu 500 nghìn đồng). Ô để trống là "
    "không báo cáo (khác với 0).",
    "Ngày ghi dạng dd/mm/yyyy. Các ô có danh sách: chọn giá trị trong danh sách.",
    "Lưu tệp dạng .xlsx và gửi lại cả tệp. Tệp gửi sau cho cùng đơn vị và năm (Ngày lập sau) "
    "thay thế hoàn toàn tệp trước.",
)
_INFO = (
    "Mã đơn vị, Tên đơn vị, Năm báo cáo và Đơn vị tính đã điền sẵn: không sửa. Ghi Ngày lập và "
    "Người lập."
)

_SHEET_PURPOSE = {
    "htx": "mỗi dòng một hợp tác xã đang hoạt động trong năm báo cáo (bắt buộc)",
    "hotro": "mỗi dòng một khoản hỗ trợ HTX nhận được từ một chương trình (nếu có)",
    "ocop": "mỗi dòng một sản phẩm OCOP của HTX trong đơn vị (nếu có)",
    "lienket": "mỗi dòng một hợp đồng liên kết tiêu thụ (nếu có)",
}


def _column_notes(rules: Rules) -> dict[tuple[str, str], str]:
    """What HuongDan says of each column; its numbers are the suites'."""
    members, workers = rules.bounds("htx", "members"), rules.bounds("htx", "workers")
    few = rules.bounds("htx", "members", severity="warning")
    score = rules.bounds("htx", "score")
    amount = rules.bounds("hotro", "amount_mvnd")
    star_values = stars(rules)

    def money(sheet: str, key: str) -> str:
        return f"triệu đồng, ≥ {_n(rules.bounds(sheet, key).min)}"

    return {
        ("htx", "stt"): "số thứ tự (không bắt buộc).",
        ("htx", "coop_code"): "mã số đăng ký / mã số thuế: 10 chữ số, có thể thêm '-' và 3 chữ "
        "số; bắt buộc, không được trùng trong tệp. Ghi dạng văn bản để giữ số 0 ở đầu.",
        ("htx", "name"): "tên đầy đủ của HTX; bắt buộc.",
        ("htx", "commune_name"): "xã/phường nơi HTX đặt trụ sở, chọn trong danh sách; tên không "
        "có trong danh mục bị cảnh báo.",
        ("htx", "founded_on"): "ngày thành lập (dd/mm/yyyy), không sau năm báo cáo.",
        ("htx", "sector"): "chọn trong danh sách.",
        ("htx", "in_da167"): "Có nếu HTX tham gia Đề án 167; để trống là Không.",
        ("htx", "members"): f"số nguyên ≥ {_n(members.min)}; dưới {_n(few.min)} thành viên bị "
        "cảnh báo.",
        ("htx", "workers"): f"lao động thường xuyên, số nguyên ≥ {_n(workers.min)}.",
        ("htx", "charter_capital_mvnd"): f"{money('htx', 'charter_capital_mvnd')}.",
        ("htx", "total_assets_mvnd"): f"{money('htx', 'total_assets_mvnd')}.",
        ("htx", "revenue_mvnd"): f"{money('htx', 'revenue_mvnd')}; {_jump(rules)} so với năm "
        "trước bị cảnh báo.",
        ("htx", "profit_before_tax_mvnd"): "triệu đồng; được ghi số âm khi lỗ.",
        ("htx", "avg_income_mvnd"): "thu nhập bình quân của một lao động, triệu đồng/người/năm, "
        f"≥ {_n(rules.bounds('htx', 'avg_income_mvnd').min)}.",
        ("htx", "rating"): "xếp loại năm, phải khớp với điểm (xem bảng dưới).",
        ("htx", "score"): f"điểm xếp loại từ {_n(score.min)} đến {_n(score.max)}.",
        ("htx", "has_offtake_contract"): "Có nếu HTX có hợp đồng liên kết tiêu thụ.",
        ("htx", "note"): "ghi chú tự do.",
        ("hotro", "coop_code"): "mã của một HTX đã ghi ở trang HTX.",
        ("hotro", "program"): "mã chương trình: "
        + "; ".join(f"{code} = {vi}" for code, vi, _ in PROGRAMS)
        + ".",
        ("hotro", "content"): "nội dung được hỗ trợ.",
        ("hotro", "funding_source"): "chọn trong danh sách.",
        ("hotro", "amount_mvnd"): f"triệu đồng, lớn hơn {_n(amount.min)}; để trống là chưa ghi "
        "(dòng vẫn được nạp, bị cảnh báo).",
        ("hotro", "year"): "năm giải ngân, phải bằng năm báo cáo.",
        ("ocop", "coop_code"): "mã của một HTX đã ghi ở trang HTX.",
        ("ocop", "product_name"): "tên sản phẩm; bắt buộc.",
        ("ocop", "product_group"): "chọn trong danh sách.",
        ("ocop", "stars"): f"{_either(star_values, 'hoặc')} sao ({star_values[-1]} sao là cấp "
        "quốc gia); để trống là chưa ghi (dòng vẫn được nạp, bị cảnh báo).",
        ("ocop", "decision_no"): "số quyết định công nhận.",
        ("ocop", "decision_date"): "ngày quyết định (dd/mm/yyyy). Giấy chứng nhận có hiệu lực 36 "
        "tháng; hết hạn trước năm báo cáo bị cảnh báo.",
        ("lienket", "coop_code"): "mã của một HTX đã ghi ở trang HTX.",
        ("lienket", "partner"): "tên doanh nghiệp liên kết; bắt buộc.",
        ("lienket", "product"): "sản phẩm liên kết.",
        ("lienket", "volume_tonnes"): "sản lượng theo hợp đồng, tấn, "
        f"≥ {_n(rules.bounds('lienket', 'volume_tonnes').min)}.",
        ("lienket", "contract_value_mvnd"): "giá trị hợp đồng, "
        f"{money('lienket', 'contract_value_mvnd')}.",
    }


def _jump(rules: Rules) -> str:
    """`tăng hơn 10 lần hay giảm dưới 1/10`: the warehouse check's year-over-year ratios."""
    ratio = rules.bounds("warehouse/year_over_year", "revenue_ratio", severity="warning")
    if ratio.min is None:
        raise RuleError("warehouse/year_over_year: revenue_ratio states no lower ratio")
    return f"tăng hơn {_n(ratio.max)} lần hay giảm dưới 1/{_n(1 / ratio.min)}"


def rating_bands(rules: Rules | None = None) -> list[str]:
    """HuongDan's lines on the score each rating needs, then the ratings without a band."""
    rules = rules or current()
    scale = rules.bounds("htx", "score")
    lines = []
    for number, band in enumerate(rules.rating_bands()):
        b = band.bounds
        low = b.min is not None and (b.min != scale.min or b.strict_min)
        high = b.max is not None and (b.max != scale.max or b.strict_max)
        start = f"từ {_n(b.min)}" if not b.strict_min else f"trên {_n(b.min)}"
        end = f"dưới {_n(b.max)}" if b.strict_max else f"{_n(b.max)}"
        if low and high:
            text = f"{start} đến {end}"
        elif low:
            text = f"{start} trở lên"
        else:
            text = end if b.strict_max else f"đến {end}"
        lines.append(f"{band.rating}: {'điểm ' if number == 0 else ''}{text}.")
    banded = {band.rating for band in rules.rating_bands()}
    for rating in rules.value_set("htx", "rating"):
        if rating not in banded:
            lines.append(f"{rating}: HTX chưa được đánh giá.")
    return lines


def _rating_bands_en(rules: Rules) -> str:
    """`Tốt ≥ 80, Khá 65–<80, ...` for the English summary."""
    scale = rules.bounds("htx", "score")
    parts = []
    for band in rules.rating_bands():
        b = band.bounds
        low = b.min is not None and (b.min != scale.min or b.strict_min)
        high = b.max is not None and (b.max != scale.max or b.strict_max)
        start = f"{'>' if b.strict_min else '≥'} {_n(b.min)}"
        end = f"{'<' if b.strict_max else '≤'} {_n(b.max)}"
        text = f"{_n(b.min)}–{end.replace(' ', '')}" if low and high else start if low else end
        parts.append(f"{band.rating} {text}")
    return f"Rating bands: {', '.join(parts)} (Circular 01/2020/TT-BKHDT)."


def _rejects(rules: Rules) -> tuple[str, ...]:
    star_range = rules.bounds("ocop", "stars")
    amount = rules.bounds("hotro", "amount_mvnd")
    return (
        "Không mở được tệp (hỏng, rỗng, đặt mật khẩu, không phải bảng tính).",
        "Không có trang HTX, hoặc thiếu cột bắt buộc (Mã số HTX, Tên HTX; ở HoTro: Chương "
        "trình, Kinh phí; ở OCOP: Tên sản phẩm, Số sao; ở LienKet: Doanh nghiệp liên kết).",
        "Không xác định được đơn vị hay năm báo cáo (trang ThongTin), hoặc 'Tên đơn vị' chỉ "
        "một đơn vị khác với 'Mã đơn vị', hoặc đơn vị không lập báo cáo năm đó (từ năm 2026: "
        "tỉnh hoặc xã/phường; cấp huyện chỉ đến năm 2025).",
        "Bất kỳ ô nào vi phạm quy tắc bắt buộc: mã HTX sai hay trùng, số âm, ô số ghi chữ, "
        "xếp loại không khớp điểm, mã HTX ở HoTro/OCOP/LienKet không có trong trang HTX, số "
        f"sao ngoài {_n(star_range.min)}–{_n(star_range.max)}, năm hỗ trợ khác năm báo cáo, "
        f"kinh phí không lớn hơn {_n(amount.min)}.",
    )


def _warns(rules: Rules) -> tuple[str, ...]:
    few = rules.bounds("htx", "members", severity="warning")
    return (
        "Xã/phường không có trong danh mục.",
        f"HTX có dưới {_n(few.min)} thành viên.",
        f"Doanh thu hay số thành viên {_jump(rules).replace(' hay ', ' hoặc ')} so với năm trước.",
        "Giấy chứng nhận OCOP đã hết hạn trước năm báo cáo.",
        "Kinh phí (HoTro) hay số sao (OCOP) để trống: dòng vẫn được nạp, không có số đó.",
    )


def _english(rules: Rules) -> tuple[str, ...]:
    return (
        "Fill one row per cooperative (HTX), support line (HoTro), OCOP product (OCOP) and "
        "offtake contract (LienKet), from row 2. Keep the sheet names and header rows. Money is "
        "in million VND; a blank cell means not reported, not 0. Dates are dd/mm/yyyy.",
        _rating_bands_en(rules),
        "A file is rejected when it cannot be opened, lacks the HTX sheet or a required column, "
        "its unit or year cannot be identified (or 'Tên đơn vị' names another unit than "
        "'Mã đơn vị', or the unit does not report for that year: from 2026 a province or a "
        "commune, districts up to 2025 only), or any cell breaks a mandatory rule. A rejected "
        "file comes back as an annotated copy: red cells are errors, yellow cells warnings, and "
        "the sheet 'Loi' lists every problem. Correct your own file and send the whole file "
        "again.",
    )


def instructions(unit: Unit, year: int) -> list[tuple[str, str]]:
    """The HuongDan sheet as (style, text) lines: title, section or text."""
    rules = current()
    notes = _column_notes(rules)
    if year == REORGANISED_ON.year:  # the workbook contract: 2025 may name either
        notes[("htx", "commune_name")] += (
            " Năm 2025: tên xã cũ (trước 01/07/2025) hay tên xã/phường mới đều được nhận."
        )
    lines: list[tuple[str, str]] = [
        ("title", f"HƯỚNG DẪN ĐIỀN BÁO CÁO HỢP TÁC XÃ NĂM {year}"),
        ("text", f"Đơn vị: {unit.full_name} (mã {unit.code}). {_PURPOSE}"),
        ("section", "1. Quy định chung"),
        *(("text", f"• {item}") for item in _GENERAL),
        ("section", "2. Trang ThongTin"),
        ("text", f"• {_INFO}"),
    ]
    for number, sheet in enumerate(DATA_SHEETS, start=3):
        lines.append(("section", f"{number}. Trang {sheet.name}: {_SHEET_PURPOSE[sheet.key]}"))
        for column in sheet.columns:
            lines.append(("text", f"• {header_text(column)}: {notes[(sheet.key, column.key)]}"))
    lines.append(("section", "7. Xếp loại và điểm (Thông tư 01/2020/TT-BKHĐT)"))
    lines += [("text", f"• {band}") for band in rating_bands(rules)]
    lines.append(("section", "8. Tệp bị từ chối (không nạp số liệu nào) khi"))
    lines += [("text", f"• {item}") for item in _rejects(rules)]
    lines.append(("section", "9. Cảnh báo (tệp vẫn được nhận, cần kiểm tra lại)"))
    lines += [("text", f"• {item}") for item in _warns(rules)]
    lines.append(("section", "10. Khi tệp bị từ chối hay có cảnh báo"))
    lines.append(
        (
            "text",
            "• Bạn nhận lại một bản sao của tệp: ô tô đỏ là lỗi, ô tô vàng là cảnh báo, mỗi ô có "
            "ghi chú giải thích; trang 'Loi' liệt kê mọi vấn đề. Sửa trong tệp của bạn (không "
            "sửa bản sao) rồi gửi lại cả tệp.",
        )
    )
    lines.append(("section", "English summary"))
    lines += [("text", text) for text in _english(rules)]
    return lines


def _write_instructions(ws, unit: Unit, year: int, formats: dict) -> None:
    ws.set_column(0, 0, 120, formats["wrap"])
    for r, (style, text) in enumerate(instructions(unit, year)):
        ws.write_string(r, 0, text, formats["wrap"] if style == "text" else formats[style])
    ws.activate()
