"""`htx sql` and `htx tables`: analysts read, and nothing they type can write."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from conftest import HTX, HTX_HEADER, htx_row, info_rows, run_steps, write_xlsx

from etl.cli import analyst
from etl.cli.main import main


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """One warehouse of two cooperatives for every test here: each only reads it (the tests
    of refused writes check it still holds its rows), so it is built once, not per test."""
    from etl.config import settings_under

    settings = settings_under(tmp_path_factory.mktemp("analyst"))
    rows = [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "6400000002")]
    write_xlsx(settings.landing_dir / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": rows})
    run_steps(settings)
    return settings.warehouse


@pytest.fixture
def warehouse(built, monkeypatch):
    monkeypatch.setenv("HTX_WAREHOUSE", str(built))
    return built


def test_sql_prints_a_table(warehouse, capsys):
    assert main(["sql", "select count(*) as n from core.fact_cooperative_year"]) == 0
    out = capsys.readouterr().out
    assert "│   n   │" in out
    assert "│     2 │" in out


@pytest.mark.parametrize(
    "statement",
    [
        "delete from core.fact_cooperative_year",
        "insert into core.dim_period values (2031, 2031, 'x', true)",
        "update marts.replication_candidates set is_candidate = true",
        "drop table marts.district_year",
        "create table core.x as select 1",
        "copy core.dim_program to '/tmp/htx-leak.csv'",
        "attach '/tmp/other.duckdb' as other",
        "install httpfs",
        "select 1; delete from core.fact_cooperative_year",
    ],
)
def test_sql_refuses_any_statement_that_would_write(warehouse, statement, capsys):
    assert main(["sql", statement]) == 2
    assert "Read only" in capsys.readouterr().err
    assert analyst.connect(warehouse).execute(
        "select count(*) from core.fact_cooperative_year"
    ).fetchone() == (2,)


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("install httpfs", "INSTALL"),
        ("FORCE INSTALL httpfs", "FORCE INSTALL"),
        ("load httpfs", "LOAD"),
        ("update extensions", "UPDATE EXTENSIONS"),
    ],
)
def test_an_extension_statement_is_refused_by_what_was_typed_and_why(
    warehouse, statement, named, capsys
):
    """DuckDB calls INSTALL a LOAD statement: `install httpfs` was refused as "the LOAD
    statement", and `update extensions` (a type the Python API cannot name) ended in a
    traceback. The refusal names what the analyst typed and why."""
    assert main(["sql", statement]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"Chỉ được đọc: câu lệnh {named} bị từ chối")
    assert f"Read only: the {named} statement is refused" in err
    assert "no extension is downloaded or loaded at run time" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("show", ["show tables", "SHOW TABLES", "show tables;"])
def test_show_tables_lists_the_warehouse_s_tables(warehouse, show, capsys):
    """Every table lives in a schema (core, marts, audit…), none in DuckDB's default `main`:
    `show tables` printed an empty table. The schemas are on the search path, so it lists
    them, and a table's bare name reads it, as its schema.table does."""
    assert main(["sql", "--format", "csv", show]) == 0
    names = capsys.readouterr().out.splitlines()
    assert names[0] == "name"
    for table in ("fact_cooperative_year", "dim_geography", "district_year", "file_ingestion"):
        assert table in names
    assert main(["sql", "select count(*) as n from fact_cooperative_year"]) == 0
    assert "│     2 │" in capsys.readouterr().out


def test_external_access_is_off_even_in_a_select(warehouse):
    with pytest.raises(Exception, match=r"(?i)disabled|permission"):
        analyst.run(warehouse, "select * from read_csv('/etc/passwd')", out=lambda _: None)


def _typed(lines):
    """A prompt's `read` that types `lines` one by one, then ends the input (EOF)."""
    lines = iter(lines)

    def read(_prompt):
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    return read


def test_interactive_prompt_runs_statements_until_eof(warehouse):
    lines = ["select count(*) as n", "from core.dim_program;", "delete from core.dim_program;"]
    printed, errors = [], []
    analyst.repl(warehouse, read=_typed(lines), out=printed.append, err=errors.append)
    assert "5" in "\n".join(str(p) for p in printed)
    assert errors == [
        "Chỉ được đọc: câu lệnh DELETE bị từ chối. / Read only: the DELETE statement is refused."
    ]


def test_the_prompt_says_an_error_as_the_one_shot_command_does(warehouse, capsys):
    """Vietnamese first, the line `htx sql "…"` writes: a typo and a write refused. The
    session goes on."""
    statements = ["selec 1", "delete from core.dim_program", "select 42 as n"]
    said = []
    for statement in statements[:2]:
        assert main(["sql", statement]) != 0
        said.append(capsys.readouterr().err.rstrip("\n"))
    printed, errors = [], []
    analyst.repl(
        warehouse, read=_typed(f"{s};" for s in statements), out=printed.append, err=errors.append
    )
    assert errors == said
    assert said[0].startswith("Lỗi SQL / SQL error: Parser Error")
    assert "42" in str(printed)
    assert "Lỗi" not in str(printed)


def test_tables_lists_every_table_and_column_with_its_meaning(warehouse, capsys):
    assert main(["tables"]) == 0
    out = capsys.readouterr().out
    assert "core.fact_cooperative_year: One row per cooperative and year" in out
    assert "    revenue_mvnd (DECIMAL(18,6)): Revenue, million VND" in out
    assert "marts.replication_candidates:" in out
    assert "    is_candidate (BOOLEAN): All criteria met" in out


def test_without_a_warehouse_sql_tables_and_summary_say_so_in_one_line_and_exit_2(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("HTX_WAREHOUSE", str(tmp_path / "none.duckdb"))
    for args in (["sql", "select 1"], ["tables"], ["summary"]):
        assert main(args) == 2, args
        err = capsys.readouterr().err
        # Vietnamese first, as every message to an analyst.
        assert err == (
            f"Chưa có kho dữ liệu tại {tmp_path / 'none.duckdb'}: hãy chạy `htx run` trước "
            f"(`make run` trong thư mục dự án). / No warehouse at {tmp_path / 'none.duckdb'}: "
            "run `htx run` first (`make run` in a checkout)\n"
        )


def test_the_htx_command_exits_with_main_s_code_and_all_its_output(warehouse):
    # `htx` leaves without Python's teardown (etl.cli.main.entry): its code and output must
    # still arrive whole, through a pipe.
    import os
    import subprocess

    htx = str(HTX)
    env = {**os.environ, "HTX_WAREHOUSE": str(warehouse)}
    ok = subprocess.run(
        [htx, "sql", "select range as n from range(5000)"], env=env, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.rstrip().endswith("(20 shown)")  # the table's last line arrived
    assert "4999" in ok.stdout.split()
    refused = subprocess.run(
        [htx, "sql", "drop table marts.district_year"], env=env, capture_output=True, text=True
    )
    assert refused.returncode == 2
    assert "Read only" in refused.stderr


def test_a_reader_that_stops_early_ends_htx_quietly(warehouse):
    """`htx sql --format csv … | head`: the reader closes the pipe; htx ends as a Unix tool
    does (exit 141, SIGPIPE), with no traceback on stderr."""
    import os
    import subprocess

    htx = str(HTX)
    env = {**os.environ, "HTX_WAREHOUSE": str(warehouse)}
    csv = ["sql", "--format", "csv", "select * from range(200000)"]
    shell = subprocess.run(
        ["bash", "-c", 'set -o pipefail; "$@" | head -1 >/dev/null', "-", htx, *csv],
        env=env,
        capture_output=True,
        text=True,
    )
    assert shell.stderr == ""
    assert shell.returncode == 141


# ---------------------------------------------------------------------------------------
# Errors, output formats, -f and the prompt (issue 18, point 6)

SMALL = (
    "select v.code, v.label, v.amount, v.ok, v.missing, "
    "(select count(*) from core.fact_cooperative_year) as coops "
    "from (values (1, 'Đắk Mil', 12.5::decimal(18,6), true, null::varchar), "
    "(2, 'a|b, \"c\"', -3.25::decimal(18,6), false, null::varchar)) "
    "v(code, label, amount, ok, missing) order by code"
)

EXPECTED = {
    "table": """\
┌───────┬──────────┬───────────────┬─────────┬─────────┬───────┐
│ code  │  label   │    amount     │   ok    │ missing │ coops │
│ int32 │ varchar  │ decimal(18,6) │ boolean │ varchar │ int64 │
├───────┼──────────┼───────────────┼─────────┼─────────┼───────┤
│     1 │ Đắk Mil  │     12.500000 │ true    │ NULL    │     2 │
│     2 │ a|b, "c" │     -3.250000 │ false   │ NULL    │     2 │
└───────┴──────────┴───────────────┴─────────┴─────────┴───────┘
""",
    "csv": (
        "code,label,amount,ok,missing,coops\n"
        "1,Đắk Mil,12.500000,true,,2\n"
        '2,"a|b, ""c""",-3.250000,false,,2\n'
    ),
    "markdown": """\
| code | label | amount | ok | missing | coops |
| ---: | --- | ---: | --- | --- | ---: |
| 1 | Đắk Mil | 12.500000 | true |  | 2 |
| 2 | a\\|b, "c" | -3.250000 | false |  | 2 |
""",
    "json": """\
[
  {
    "code": 1,
    "label": "Đắk Mil",
    "amount": 12.5,
    "ok": true,
    "missing": null,
    "coops": 2
  },
  {
    "code": 2,
    "label": "a|b, \\"c\\"",
    "amount": -3.25,
    "ok": false,
    "missing": null,
    "coops": 2
  }
]
""",
}


def _htx(warehouse, *args, stdin=None):
    import os
    import subprocess

    htx = str(HTX)
    env = {**os.environ, "HTX_WAREHOUSE": str(warehouse)}
    return subprocess.run(
        [htx, *args], env=env, capture_output=True, text=True, input=stdin, timeout=120
    )


def test_a_typo_is_one_line_on_stderr_and_exit_1(warehouse):
    typo = _htx(warehouse, "sql", "selec 1")
    assert typo.returncode == 1
    assert typo.stdout == ""
    assert typo.stderr == 'Lỗi SQL / SQL error: Parser Error: syntax error at or near "selec"\n'


@pytest.mark.parametrize(
    ("statement", "said"),
    [
        ("select * from core.no_such_table", "Catalog Error: Table with name no_such_table"),
        ("select 'x'::int from core.dim_program", "Conversion Error: Could not convert"),
        ("select * from read_csv('/etc/passwd')", "Permission Error"),
    ],
)
def test_every_sql_error_is_one_line_without_traceback(warehouse, statement, said, capsys):
    assert main(["sql", statement]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith(f"Lỗi SQL / SQL error: {said}")
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown", "json"])
def test_each_format_prints_exactly(warehouse, fmt, capsys):
    args = ["sql", SMALL] if fmt == "table" else ["sql", "--format", fmt, SMALL]
    assert main(args) == 0
    assert capsys.readouterr().out == EXPECTED[fmt]


def test_csv_pipes_every_row(warehouse, capsys):
    assert main(["sql", "--format", "csv", "select range as n from range(5000)"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "n"
    assert lines[1:] == [str(n) for n in range(5000)]


def test_a_file_of_statements_runs_with_f(warehouse, tmp_path):
    script = tmp_path / "query.sql"
    script.write_text(
        "-- how many cooperatives\nselect count(*) as n from core.fact_cooperative_year;\n"
        "select 'Lâm Đồng' as tinh;\n",
        encoding="utf-8",
    )
    done = _htx(warehouse, "sql", "-f", str(script), "--format", "csv")
    assert (done.returncode, done.stdout) == (0, "n\n2\ntinh\nLâm Đồng\n"), done.stderr
    piped = _htx(warehouse, "sql", "-f", "-", "--format", "markdown", stdin="select 1 as a;")
    assert (piped.returncode, piped.stdout) == (0, "| a |\n| ---: |\n| 1 |\n")
    # Two results in Markdown are two tables: without a blank line between them, the second
    # one's header and rule would be rows of the first.
    two = _htx(warehouse, "sql", "-f", str(script), "--format", "markdown")
    assert (two.returncode, two.stdout) == (
        0,
        "| n |\n| ---: |\n| 2 |\n\n| tinh |\n| --- |\n| Lâm Đồng |\n",
    ), two.stderr
    refused = tmp_path / "refused.sql"
    refused.write_text("select 1;\ndrop table marts.district_year;\n", encoding="utf-8")
    denied = _htx(warehouse, "sql", "-f", str(refused))
    assert (denied.returncode, denied.stdout) == (2, "")
    assert "Read only" in denied.stderr
    missing = _htx(warehouse, "sql", "-f", str(tmp_path / "nowhere.sql"))
    assert missing.returncode == 2
    assert "nowhere.sql" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_json_of_several_statements_is_one_document(warehouse, tmp_path):
    script = tmp_path / "query.sql"
    script.write_text("select 2 as n;\nselect 'Lâm Đồng' as tinh where false;\n", "utf-8")
    done = _htx(warehouse, "sql", "-f", str(script), "--format", "json")
    assert done.returncode == 0, done.stderr
    # An array of each statement's array of records, which one `json.loads` reads.
    assert json.loads(done.stdout) == [[{"n": 2}], []]


@pytest.mark.parametrize(
    ("fmt", "printed"),
    [("csv", "tinh\n"), ("markdown", "| tinh |\n| --- |\n"), ("json", "[]\n")],
)
def test_an_empty_result_is_its_header_alone(warehouse, fmt, printed, capsys):
    query = "select 'Lâm Đồng' as tinh from core.fact_cooperative_year where false"
    assert main(["sql", "--format", fmt, query]) == 0
    assert capsys.readouterr().out == printed


def _csv_into(warehouse, path, *args, mode="w"):
    """`htx sql --format csv … > path` (`>>` with mode "a"), as an analyst saves for Excel."""
    import os
    import subprocess

    env = {**os.environ, "HTX_WAREHOUSE": str(warehouse)}
    with path.open(mode + "b") as stdout:
        subprocess.run(
            [str(HTX), "sql", "--format", "csv", *args], env=env, stdout=stdout, timeout=120
        )
    return path.read_bytes()


def test_csv_saved_to_a_file_starts_with_a_bom_so_excel_reads_vietnamese(warehouse, tmp_path):
    query = "select 'Đắk Mil' as huyen; select 'Lâm Đồng' as tinh"
    saved = _csv_into(warehouse, tmp_path / "out.csv", query)
    # Excel takes a CSV without a byte order mark for the ANSI code page: "ÄÄƒk Mil".
    assert saved == "\ufeffhuyen\nĐắk Mil\ntinh\nLâm Đồng\n".encode()
    # Appended to a file that holds text already: no mark in the middle of it.
    kept = tmp_path / "kept.csv"
    kept.write_bytes(saved)
    assert _csv_into(warehouse, kept, "select 1 as n", mode="a") == saved + b"n\n1\n"
    # Through a pipe, for a program: no mark (test_a_file_of_statements_runs_with_f too).
    piped = _htx(warehouse, "sql", "--format", "csv", "select 'Đắk Mil' as huyen")
    assert piped.stdout == "huyen\nĐắk Mil\n"


def test_without_a_terminal_the_prompt_reads_standard_input(warehouse):
    done = _htx(warehouse, "sql", "--format", "csv", stdin="select 40 + 2\n as n;\nselec 1;\n")
    assert done.returncode == 0, done.stderr
    # The results alone in the pipe; the greeting and the error on stderr, as `htx sql "…"`
    # says an error (and as psql and duckdb do), so a saved CSV holds no error line.
    assert done.stdout == "n\n42\n"
    assert "read only" in done.stderr
    assert done.stderr.endswith(
        'Lỗi SQL / SQL error: Parser Error: syntax error at or near "selec"\n'
    )


@contextlib.contextmanager
def _typing(history, script):
    """A prompt-toolkit reader on `history` that types each of `script` once it is ready.

    The keys are sent when a prompt starts (`pre_run`), so the history is loaded by then.
    """
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    typed = iter(script)
    with create_pipe_input() as keys:
        prompt = analyst.prompt_reader(history, input=keys, output=DummyOutput())

        def read(text):
            return prompt(text, pre_run=lambda: keys.send_text(next(typed)))

        yield read


def test_the_prompt_edits_lines_and_recalls_history(warehouse, tmp_path):
    history = tmp_path / "history"
    printed = []
    # a typo fixed with Backspace; the line recalled with the Up arrow (ESC [ A); Ctrl-D
    with _typing(history, ["select 7 as nn\x7f;\r", "\x1b[A\r", "\x04"]) as read:
        analyst.repl(warehouse, read=read, out=printed.append, fmt="csv")
    assert printed == ["n\n7", "n\n7"]
    assert "+select 7 as n;" in history.read_text(encoding="utf-8").splitlines()
    # A new session finds the last one's history.
    again = []
    with _typing(history, ["\x1b[A\r", "\x04"]) as read:
        analyst.repl(warehouse, read=read, out=again.append, fmt="csv")
    assert again == ["n\n7"]


def test_a_warehouse_duckdb_cannot_open_is_said_in_one_line_and_exits_2(
    tmp_path, monkeypatch, capsys
):
    """A file in the warehouse's place that is not a DuckDB database (damaged, copied
    half-way): one line, Vietnamese first, that says so, never a traceback."""
    broken = tmp_path / "htx.duckdb"
    broken.write_text("not a database", encoding="utf-8")
    monkeypatch.setenv("HTX_WAREHOUSE", str(broken))
    for args in (["sql", "select 1"], ["tables"], ["summary"]):
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err.startswith(f"Không mở được kho dữ liệu {broken}: "), err
        assert f" / Cannot open the warehouse {broken}: " in err
        assert err.endswith("Run `htx run` again to build it anew.\n")
        assert err.count("\n") == 1


def test_the_prompt_s_history_file_is_a_setting(monkeypatch, tmp_path):
    """`HTX_SQL_HISTORY` is read with the other settings (`etl.config`), as every HTX_
    variable is: by default `~/.htx_sql_history`."""
    from etl.config import load_settings

    assert load_settings({}).sql_history == Path("~/.htx_sql_history").expanduser()
    moved = tmp_path / "history"
    assert load_settings({"HTX_SQL_HISTORY": str(moved)}).sql_history == moved
    monkeypatch.setenv("HTX_SQL_HISTORY", str(moved))
    assert analyst.history_path() == moved
