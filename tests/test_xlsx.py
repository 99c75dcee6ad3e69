"""The set-based .xlsx writer: every value comes back as written, with its format, from the
two readers officials' tools stand for (calamine, as Excel reads values; openpyxl, styles)."""

from __future__ import annotations

import datetime as dt
import zipfile
from math import inf

import duckdb
import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from etl.outputs.xlsx import MAX_CELL_CHARS, Sheet, column_letter, write_workbook


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        'create table marts.t ("name" varchar, "n" integer, "revenue_mvnd" decimal(18, 6), '
        '"score" double, "revenue_growth" double, "ok" boolean, "day" date, "at" timestamp, '
        '"say ""hi""" varchar)'
    )
    con.execute(
        """
        insert into marts.t values
        ('=SUM(A1) & <b>', 1, 1234.5, 2.0, 0.125, true, date '2025-07-01',
         timestamp '2025-07-01 12:00:00', ' leading and trailing '),
        ('tab' || chr(9) || 'bell' || chr(7) || 'end', null, null, 'nan'::double,
         'inf'::double, false, null, null, null),
        (repeat('x', 40000), 30000, 0.1, 2.5, null, null, date '1900-03-01', null, ''),
        ('_x0041_ and a' || chr(13) || chr(10) || 'b', 1, 1, 1, null, null,
         date '1900-01-15', timestamp '1900-02-28 06:00:00', null)
        """
    )
    con.execute("create table marts.empty (a varchar, b integer)")
    yield con
    con.close()


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == [
        "A", "Z", "AA", "AZ", "BA", "ZZ", "AAA",
    ]  # fmt: skip


def test_values_and_formats_come_back_as_written(con, tmp_path):
    path = tmp_path / "book.xlsx"
    sheets = [
        Sheet("Gioi_thieu", rows=(("t", "table <1>"),), widths=(32, 110), title_row="Tiêu đề"),
        Sheet("t", table="marts.t", labels={"name": "Tên HTX", "revenue_mvnd": "Doanh thu"}),
        Sheet("empty", table="marts.empty"),
    ]
    write_workbook(con, path, sheets)

    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == ["Gioi_thieu", "t", "empty"]
    about = book.get_sheet_by_name("Gioi_thieu").to_python()
    assert about[0][0] == "Tiêu đề"
    assert about[2] == ["t", "table <1>"]
    rows = book.get_sheet_by_name("t").to_python()
    assert rows[0] == [
        "Tên HTX", "n", "Doanh thu", "score", "revenue_growth", "ok", "day", "at", 'say "hi"',
    ]  # fmt: skip
    first, second, third, fourth = rows[1:]
    assert first[:6] == ["=SUM(A1) & <b>", 1.0, 1234.5, 2.0, 0.125, "Có"]
    assert first[6] == dt.date(2025, 7, 1)
    assert first[7] == dt.datetime(2025, 7, 1, 12, 0)
    assert first[8] == " leading and trailing "  # spaces kept
    # Control characters come back (escaped as Excel escapes them). NULL, NaN, inf: empty.
    assert second == ["tab\tbell\x07end", "", "", "", "", "Không", "", "", ""]
    assert third[0] == "x" * MAX_CELL_CHARS
    assert third[1:4] == [30000.0, 0.1, 2.5]
    assert third[6] == dt.date(1900, 3, 1)
    # Text that looks like Excel's own escape, and a carriage return, come back as written;
    # dates before March 1900 too (Excel counts a 29 February 1900).
    assert fourth[0] == "_x0041_ and a\r\nb"
    assert fourth[6] == dt.date(1900, 1, 15)
    assert fourth[7] == dt.datetime(1900, 2, 28, 6, 0)
    assert book.get_sheet_by_name("empty").to_python() == [["a", "b"]]

    styles = openpyxl.load_workbook(path)["t"]
    assert styles.freeze_panes == "A2"
    assert styles["A1"].font.b
    assert styles["A1"].fill.fgColor.rgb == "FFDDEBF7"
    assert styles["B2"].number_format == "#,##0"  # a whole number
    assert styles["C2"].number_format == "#,##0.0"  # money, by its name
    assert styles["D4"].number_format == "#,##0.0"  # not whole
    assert styles["E2"].number_format == "0.0%"  # a ratio, by its name
    assert styles["G2"].number_format == "dd/mm/yyyy"
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet2.xml")
    # Data rows and their cells carry no reference (a chunk of rows is the same wherever it
    # lands); a NULL is an empty `<c/>`, which keeps the next value in its own column.
    assert b'<row><c t="inlineStr">' in sheet
    assert b"<c/>" in sheet
    assert b'<c r="A2"' not in sheet
    assert b"<f>" not in sheet


def test_what_xlsxwriter_would_write_comes_back_the_same(con, tmp_path):
    """The writer this one replaced, on the same table: every value read back is equal."""
    import xlsxwriter

    rows = con.execute("select * from marts.t").fetchall()
    names = [d[0] for d in con.execute("select * from marts.t").description]
    reference = tmp_path / "xlsxwriter.xlsx"
    book = xlsxwriter.Workbook(str(reference), {"strings_to_formulas": False})
    sheet = book.add_worksheet("t")
    date = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, names)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, bool):
                sheet.write_string(r, c, "Có" if value else "Không")
            elif isinstance(value, dt.date):
                sheet.write_datetime(r, c, value, date)
            elif isinstance(value, str):
                sheet.write_string(r, c, value)
            elif value is not None and float(value) == float(value) and abs(float(value)) != inf:
                sheet.write_number(r, c, float(value))
    book.close()
    ours = tmp_path / "ours.xlsx"
    write_workbook(con, ours, [Sheet("t", table="marts.t")])
    read = [
        CalamineWorkbook.from_path(str(p)).get_sheet_by_name("t").to_python()
        for p in (reference, ours)
    ]
    assert read[1] == read[0]


def test_a_workbook_is_replaced_whole(con, tmp_path):
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"old")
    write_workbook(con, path, [Sheet("t", table="marts.t")])
    assert zipfile.is_zipfile(path)
    assert [p.name for p in tmp_path.iterdir()] == ["book.xlsx"]


def _one_table_book(tmp_path, table: str, values: str, columns: str):
    """`book.xlsx` of one sheet: the table `marts.<table>` of the rows `values` (SQL)."""
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(f"create table marts.{table} as select * from (values {values}) as t ({columns})")
    path = tmp_path / "book.xlsx"
    write_workbook(con, path, [Sheet(table, table=f"marts.{table}")])
    return path


def test_an_identifier_comes_back_digit_for_digit(tmp_path):
    """A file_id is 18 digits: as a number Excel keeps 15 of them (1.7157131938657216e+17,
    shown 171,571,319,386,572,000), so an analyst could not find the file again. A column
    named `*_id` is written as its digits, as text."""
    path = _one_table_book(
        tmp_path,
        "status",
        "('660', 171571319386572146, 2021), ('661', null, 2022)",
        "unit_code, file_id, year",
    )
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("status").to_python()
    assert rows[1:] == [["660", "171571319386572146", 2021.0], ["661", "", 2022.0]]


def test_a_year_shows_as_a_year_not_with_a_thousands_separator(tmp_path):
    """`#,##0` shows the year 2021 as `2,021` (`2.021` in a Vietnamese Excel). A column
    named `year`, or `*_year` after words that say which year (`report_year`,
    `phase_first_year`), is a year; `members_first_year` counts members in one."""
    path = _one_table_book(
        tmp_path,
        "phase",
        "(2021, 2023, 2021, 2025, 1600, 1672)",
        "year, report_year, phase_first_year, latest_year, members_first_year, members",
    )
    row = openpyxl.load_workbook(path)["phase"][2]
    assert [(c.value, c.number_format) for c in row] == [
        (2021, "General"), (2023, "General"), (2021, "General"), (2025, "General"),
        (1600, "#,##0"), (1672, "#,##0"),
    ]  # fmt: skip


def test_the_year_columns_are_those_the_officials_headers_name_a_year():
    """The rule by name agrees with config/labels_vi.csv: a header `Năm …` is a year."""
    from etl.config import labels_vi
    from etl.outputs.xlsx import is_year

    for column, label in labels_vi().items():
        assert is_year(column) == (label.split(" ")[0] == "Năm"), (column, label)


def test_a_null_of_every_kind_is_an_empty_cell_never_a_null_row():
    """A row is one `concat` of its cells (`_row_sql`), which would skip a NULL cell and
    shift the next values left: every kind of cell gives `<c/>` for NULL instead."""
    from etl.outputs.xlsx import _cell_sql, _row_sql

    kinds = {
        "name": "VARCHAR", "code": "VARCHAR", "ok": "BOOLEAN", "members": "INTEGER",
        "growth": "DOUBLE", "revenue_mvnd": "DECIMAL(18,6)", "report_year": "INTEGER",
        "file_id": "BIGINT", "due_on": "DATE", "at": "TIMESTAMP",
        "seen": "TIMESTAMP WITH TIME ZONE", "total": "HUGEINT",
    }  # fmt: skip
    con = duckdb.connect()
    con.execute(
        "create table t as select "
        + ", ".join(f"null::{kind} as {name}" for name, kind in kinds.items())
    )
    columns = con.execute("describe t").fetchall()
    shown = {"code": {"x": "Mã x"}}
    for name, kind, *_ in columns:
        cell = _cell_sql(name, kind, shown.get(name))
        assert con.execute(f"select {cell} from t").fetchone()[0] == "<c/>", name
    row = con.execute(f"select {_row_sql(columns, shown)} from t").fetchone()[0]
    assert row == "<row>" + "<c/>" * len(kinds) + "</row>"
