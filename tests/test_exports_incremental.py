"""The officials' workbook written again from the chunks of rows that did not change
(etl.outputs.xlsx, etl.outputs.zip_parts): byte for byte the workbook a full write gives,
and what it holds reads back as the workbook the whole-file writer gives."""

from __future__ import annotations

import random
import zipfile
import zlib

import duckdb
import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from etl.outputs import xlsx, zip_parts
from etl.outputs.xlsx import Reuse, Sheet, write_workbook


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(xlsx, "CHUNK_ROWS", 4)


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        """
        create table marts.a as
        select i as id, 'ô ' || i || case when i % 7 = 0 then ' =1+1 _x0041_ <b>&' else '' end
                as name,
            case when i % 5 = 0 then null else i * 1.5 end as revenue_mvnd,
            case when i % 9 = 0 then -(0.0::double) when i % 11 = 0 then 'nan'::double
                else i / 3 end as growth,
            date '2024-01-01' + i::int as due_on, i % 2 = 0 as in_da167
        from range(1, 30) t(i) order by i
        """
    )
    con.execute("create table marts.b as select i as n, 'x' || i as code from range(3) t(i)")
    return con


SHEETS = [
    Sheet("Gioi_thieu", rows=(("a", "bảng a"),), widths=(10, 20), title_row="Tiêu đề"),
    Sheet("a", table="marts.a", labels={"id": "Mã", "name": "Tên"}),
    Sheet("b", table="marts.b"),
]


def _rendered(monkeypatch) -> list[list[tuple[int, int]]]:
    """The chunks each table sheet had to build, recorded while writing: (first row, rows)."""
    seen: list[list[tuple[int, int]]] = []
    render = xlsx._render_chunks

    def recording(con, sheet, columns, spans):
        seen.append([(span.start, span.rows) for span in sorted(spans, key=lambda s: s.start)])
        return render(con, sheet, columns, spans)

    monkeypatch.setattr(xlsx, "_render_chunks", recording)
    return seen


def _layout(con, table: str) -> list[tuple[int, int]]:
    """The table's chunks as the writer cuts them now: (first row, rows), in row order."""
    columns = con.execute(f"describe {table}").fetchall()
    return [(start, rows) for _, start, rows in xlsx._chunks(con, table, columns, "code")]


def _ids(con, table: str, spans: list[tuple[int, int]]) -> set[int]:
    """The ids of the rows in `spans` (row positions, in row order)."""
    ids = [i for (i,) in con.execute(f"select id from {table} order by rowid").fetchall()]
    return {i for start, rows in spans for i in ids[start : start + rows]}


def _near(con, table: str, changed: set[int]) -> set[int]:
    """The ids a change of the rows `changed` may build again: those of each chunk holding
    one of them, and of the chunk before it (which a changed row that now starts a chunk
    leaves shorter)."""
    layout = _layout(con, table)
    held = _ids(con, table, layout)
    assert changed <= held
    near: set[int] = set()
    for k, span in enumerate(layout):
        if _ids(con, table, [span]) & changed:
            near |= _ids(con, table, layout[max(k - 1, 0) : k + 1])
    return near


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def _read_back(path) -> dict:
    workbook = openpyxl.load_workbook(path)
    seen = {
        ws.title: [[(c.value, c.number_format) for c in row] for row in ws.iter_rows()]
        for ws in workbook.worksheets
    }
    calamine = CalamineWorkbook.from_path(str(path))
    seen["calamine"] = {n: calamine.get_sheet_by_name(n).to_python() for n in calamine.sheet_names}
    return seen


def _check(con, tmp_path, written, name: str) -> None:
    """`written` is the workbook a write from scratch gives, and holds what the whole-file
    writer (zipfile, streamed) writes."""
    fresh = tmp_path / f"fresh-{name}.xlsx"
    write_workbook(con, fresh, SHEETS)
    assert written.read_bytes() == fresh.read_bytes()
    whole = tmp_path / f"whole-{name}.xlsx"
    xlsx._write_whole(con, whole, SHEETS)
    assert _members(written) == _members(whole)
    assert _read_back(written) == _read_back(whole)


def test_only_changed_chunks_are_built_and_the_file_is_a_full_writes(
    con, tmp_path, small_chunks, monkeypatch
):
    rendered = _rendered(monkeypatch)
    path = tmp_path / "marts.xlsx"
    parts = write_workbook(con, path, SHEETS)
    assert rendered == [_layout(con, "marts.a"), _layout(con, "marts.b")]  # every chunk
    assert len(rendered[0]) > 3  # 29 rows, about 4 a chunk
    assert sum(rows for _, rows in rendered[0]) == 29
    _check(con, tmp_path, path, "first")

    def again(changed: set[int], name: str) -> None:
        """Write with the earlier file's chunks: only chunks near `changed` rows of marts.a
        are built, none of marts.b, and the file is a full write's."""
        nonlocal parts
        rendered.clear()
        parts = write_workbook(con, path, SHEETS, Reuse(path, parts))
        built = _ids(con, "marts.a", rendered[0])
        assert built <= _near(con, "marts.a", changed), name
        assert bool(built) == bool(changed), name
        assert rendered[1] == [], name
        _check(con, tmp_path, path, name)

    # Nothing changed: every chunk comes from the earlier file.
    again(set(), "same")
    # One value of id 10, one of id 19.
    con.execute("update marts.a set revenue_mvnd = 99 where id = 10")
    con.execute("update marts.a set growth = 7 where id = 19")
    again({10, 19}, "changed")
    # 0.0 where -0.0 was (equal, and written differently: `0.0` and `-0.0`).
    assert con.execute("select signbit(growth) from marts.a where id = 18").fetchone()[0]
    con.execute(
        "create or replace table marts.a as select * replace "
        "(case when id = 18 then 0.0::double else growth end as growth) from marts.a order by id"
    )
    again({18}, "signed zero")
    # Rows appended: the last chunk and the new one; the others are kept.
    con.execute("insert into marts.a select 30, 'mới', 1, 2, date '2025-01-01', true")
    con.execute("insert into marts.a select 31, 'mới', null, null, null, null")
    again({30, 31}, "appended")
    # Rows inserted in the middle (every later row moves down): only the chunk they fall
    # in is built again, not the chunks after them.
    con.execute(
        "create or replace table marts.a as select * from marts.a union all "
        "select 1000 + i, 'chèn', i, i, null, null from range(2) t(i) "
        "order by case when id >= 1000 then 5.5 else id end, id"
    )
    again({1000, 1001}, "inserted")
    # A row deleted: row ids with a gap (rows numbered by a window); the chunk it left.
    con.execute("delete from marts.a where id = 30")
    rendered.clear()
    parts = write_workbook(con, path, SHEETS, Reuse(path, parts))
    assert sum(rows for _, rows in rendered[0]) <= 2 * max(
        rows for _, rows in _layout(con, "marts.a")
    )
    assert rendered[1] == []
    _check(con, tmp_path, path, "deleted")

    # Two rows swapped within a chunk: a chunk is its rows in order.
    con.execute(
        "create or replace table marts.b as "
        "select * from (values (1, 'x1'), (0, 'x0'), (2, 'x2')) t(n, code)"
    )
    rendered.clear()
    parts = write_workbook(con, path, SHEETS, Reuse(path, parts))
    assert rendered[0] == []
    assert rendered[1] != []
    _check(con, tmp_path, path, "swapped")


def test_a_workbook_the_parts_do_not_describe_is_not_reused(
    con, tmp_path, small_chunks, monkeypatch
):
    rendered = _rendered(monkeypatch)
    path = tmp_path / "marts.xlsx"
    parts = write_workbook(con, path, SHEETS)
    other = tmp_path / "other.xlsx"
    con.execute("update marts.b set code = 'y'")
    write_workbook(con, other, SHEETS)
    other.replace(path)  # replaced behind the parts' back
    con.execute("update marts.b set code = 'x' || n")
    for earlier in (Reuse(path, parts), Reuse(path, None), Reuse(tmp_path / "gone.xlsx", parts)):
        rendered.clear()
        write_workbook(con, tmp_path / "new.xlsx", SHEETS, earlier)
        assert rendered == [_layout(con, "marts.a"), _layout(con, "marts.b")]
        _check(con, tmp_path, tmp_path / "new.xlsx", "unreused")


def test_what_a_code_shows_is_in_its_chunks_key(con, tmp_path, small_chunks, monkeypatch):
    """A sheet's value map (`Sheet.values`: a code's text in its place) changes what its
    cells show: the chunks of that sheet are built again, with the new text, and a chunk
    made under the old map is never reused; the other sheets' chunks are."""
    from dataclasses import replace

    rendered = _rendered(monkeypatch)
    path = tmp_path / "marts.xlsx"
    shown = [*SHEETS[:2], replace(SHEETS[2], values={"code": {"x1": "Một (x1)"}})]
    parts = write_workbook(con, path, shown)
    renamed = [*SHEETS[:2], replace(SHEETS[2], values={"code": {"x1": "Mốt (x1)"}})]
    rendered.clear()
    write_workbook(con, path, renamed, Reuse(path, parts))
    assert rendered == [[], _layout(con, "marts.b")]  # marts.a's chunks reused, b's built
    codes = [row[1] for row in openpyxl.load_workbook(path)["b"].iter_rows(values_only=True)]
    assert codes == ["code", "x0", "Mốt (x1)", "x2"]


def test_a_workbook_past_a_plain_zip_is_written_whole(con, tmp_path, monkeypatch):
    monkeypatch.setattr(zip_parts, "_LIMIT", 1000)
    path = tmp_path / "marts.xlsx"
    assert write_workbook(con, path, SHEETS) is None
    whole = tmp_path / "whole.xlsx"
    xlsx._write_whole(con, whole, SHEETS)
    assert _members(path) == _members(whole)


def test_segments_and_crcs_make_one_member():
    rng = random.Random(7)
    texts = [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 3000))) for _ in range(9)]
    member = zip_parts.Member.of_segments("x.bin", [zip_parts.segment(t) for t in texts])
    assert member.crc == zlib.crc32(b"".join(texts))
    for _ in range(50):
        a, b = rng.randbytes(rng.randrange(0, 500)), rng.randbytes(rng.randrange(0, 70000))
        assert zip_parts.crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_export_reuses_the_workbook_it_replaces(tmp_path):
    """Through `export`: the parts file beside the exports, a second export after one
    table changed copies the other chunks, and the file is what a fresh export writes."""
    from etl.config import settings_under
    from etl.outputs import exports
    from etl.warehouse.build import MART_MODELS

    warehouse = tmp_path / "htx.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts; create schema core")
    for name in [*MART_MODELS, *(f"core.{t}" for t in exports.EXPORTED_CORE)]:
        table = name if "." in name else f"marts.{name}"
        con.execute(
            f"create table {table} as select i as id, 'v' || i as label "
            "from range(2500) t(i) order by i"
        )
    con.close()
    settings = settings_under(tmp_path / "one", HTX_WAREHOUSE=str(warehouse))
    written = exports.export(settings)
    assert settings.export_dir / exports.XLSX in written
    assert (settings.export_dir / exports.XLSX_PARTS).exists()

    con = duckdb.connect(str(warehouse))
    con.execute("update marts.district_year set label = 'đổi' where id = 1500")
    con.close()
    counted: list[int] = []
    segment = zip_parts.segment

    def counting(text, level=zip_parts.LEVEL):
        counted.append(len(text))
        return segment(text, level)

    zip_parts.segment, keep = counting, zip_parts.segment
    try:
        written = exports.export(settings)
    finally:
        zip_parts.segment = keep
    assert sorted(p.name for p in written) == ["marts.district_year.parquet", "marts.xlsx"]
    # One chunk of rows built again; the heads and ends of the eight table sheets.
    assert len(counted) == 1 + 2 * len(exports.XLSX_MARTS)

    fresh = settings_under(tmp_path / "fresh", HTX_WAREHOUSE=str(warehouse))
    exports.export(fresh)
    one, two = settings.export_dir / exports.XLSX, fresh.export_dir / exports.XLSX
    assert one.read_bytes() == two.read_bytes()


class _Queries:
    """A connection that keeps the SQL it is given."""

    def __init__(self, con) -> None:
        self.con, self.sql = con, []

    def execute(self, sql, *args):
        self.sql.append(sql)
        return self.con.execute(sql, *args)


def test_a_table_filled_again_is_numbered_by_its_row_ids(con, tmp_path, small_chunks):
    """A table emptied and filled again in one insert (an incremental build's
    `marts.cooperative_scorecard`) has consecutive row ids that do not start at 0: its rows
    are numbered by their ids, not by a window that sorts every row, and the chunks and the
    workbook are those of the same table created whole."""
    path = tmp_path / "marts.xlsx"
    write_workbook(con, path, SHEETS)
    columns = con.execute("describe marts.a").fetchall()
    layout = xlsx._chunks(con, "marts.a", columns, "code")
    spans = [xlsx.Span(i, start, rows) for i, (_, start, rows) in enumerate(layout)][1:3]
    built = xlsx._render_chunks(con, SHEETS[1], columns, spans)
    before = path.read_bytes()
    con.execute("create temp table kept as select * from marts.a")
    con.execute("delete from marts.a")
    con.execute("insert into marts.a select * from kept")
    assert con.execute("select min(rowid) from marts.a").fetchone()[0] > 0
    seen = _Queries(con)
    assert xlsx._chunks(seen, "marts.a", columns, "code") == layout
    assert xlsx._render_chunks(seen, SHEETS[1], columns, spans) == built
    assert not [sql for sql in seen.sql if "row_number()" in sql]
    write_workbook(con, path, SHEETS)
    assert path.read_bytes() == before


def test_rows_are_planned_without_the_common_subexpression_pass(con, tmp_path):
    """DuckDB's search for common subexpressions in a sheet's row SQL (each cell's casts
    and escapes, repeated) cost more than building the rows of a changed chunk (0.1 s of
    0.15 s for 2,000 rows of 37 columns): the rows are planned without it, the same rows
    either way, and the connection's own setting is back after."""
    con.execute("set disabled_optimizers = 'join_order'")
    planned: list[str] = []

    class Watching(_Queries):
        def execute(self, sql, *args):
            if "'<row>'" in sql:
                setting = "select current_setting('disabled_optimizers')"
                planned.append(self.con.execute(setting).fetchone()[0])
            return super().execute(sql, *args)

    path = tmp_path / "marts.xlsx"
    write_workbook(Watching(con), path, SHEETS)
    # Each sheet's rows, and marts.a's rows that need escapes built again.
    assert planned == ["join_order,common_subexpressions"] * 3
    assert con.execute("select current_setting('disabled_optimizers')").fetchone()[0] == (
        "join_order"
    )
    con.execute("reset disabled_optimizers")
    _check(con, tmp_path, path, "plain")


def test_the_report_takes_the_exports_facts_and_is_drawn_again_when_a_mart_changed(
    tmp_path, monkeypatch
):
    """`write_all` in one process: the officials' report's stamp is made of the facts the
    exports read (`stamps.tables_facts` hashes no mart a third time), it is the stamp the
    report computes alone, and a changed mart still draws the report again."""
    from etl.config import settings_under
    from etl.outputs import exports, officials_report, stamps
    from etl.warehouse.build import MART_MODELS

    warehouse = tmp_path / "htx.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts; create schema core")
    for name in [*MART_MODELS, *(f"core.{t}" for t in exports.EXPORTED_CORE)]:
        table = name if "." in name else f"marts.{name}"
        con.execute(f"create table {table} as select i as id, 'v' || i as label from range(5) t(i)")
    con.close()
    settings = settings_under(tmp_path / "one", HTX_WAREHOUSE=str(warehouse))
    drawn: list[int] = []

    def draw(settings):  # the page itself: tests/test_charts.py
        drawn.append(1)
        path = settings.export_dir / officials_report.REPORT
        path.write_text("report", encoding="utf-8")
        return path

    hashed: list[list[str]] = []
    tables_facts = stamps.tables_facts

    def counting(con, tables):
        hashed.append(list(tables))
        return tables_facts(con, tables)

    monkeypatch.setattr(officials_report, "_write_dashboard", draw)
    monkeypatch.setattr(stamps, "tables_facts", counting)
    monkeypatch.setattr(exports, "tables_facts", counting)
    for change in ("", "update marts.district_year set label = 'đổi' where id = 3"):
        if change:
            con = duckdb.connect(str(warehouse))
            con.execute(change)
            con.close()
        hashed.clear()
        exports.write_all(settings, 1, quality_report=False)
        assert len(hashed) == 2  # the workbook's marts, then the other tables: no third
        stamp = officials_report._read_stamp(settings.export_dir)
        assert stamp == officials_report._stamp(settings.warehouse)
    assert drawn == [1, 1]


def test_rows_whose_text_needs_no_escapes_are_built_without_the_escapes_sql(con, tmp_path):
    """A text cell's escapes of control characters and of Excel's own `_xHHHH_` (30 nested
    `replace`s a column) cost more to plan than the rows of a changed chunk take to build,
    and almost no text needs them: rows are built with plain text cells, and only the rows
    whose text needs escapes are built again with them. The file is the same either way."""
    seen = _Queries(con)
    path = tmp_path / "marts.xlsx"
    plain = Sheet("b", table="marts.b")
    write_workbook(seen, path, [plain])
    rows = [sql for sql in seen.sql if "'<row>'" in sql]
    assert rows
    assert not [sql for sql in rows if "chr(1)" in sql]
    # marts.a: every 7th row holds `_x0041_`, its row is built again with the escapes.
    seen.sql.clear()
    write_workbook(seen, path, SHEETS)
    escaping = [sql for sql in seen.sql if "'<row>'" in sql and "chr(1)" in sql]
    assert len(escaping) == 1
    assert "marts.a" in escaping[0]
    # The file a full write gives, holding what the whole-file writer (escapes in every
    # row's SQL) writes.
    _check(con, tmp_path, path, "escapes")
