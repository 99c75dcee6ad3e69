"""`htx sql` and `htx tables`: analysts read, and nothing they type can write."""

from __future__ import annotations

import pytest
from conftest import HTX_HEADER, htx_row, info_rows, run_steps, write_xlsx

from etl.cli import analyst
from etl.cli.main import main


@pytest.fixture
def warehouse(settings, monkeypatch):
    rows = [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "6400000002")]
    write_xlsx(settings.landing_dir / "663_2023.xlsx", {"ThongTin": info_rows(), "HTX": rows})
    run_steps(settings)
    monkeypatch.setenv("HTX_WAREHOUSE", str(settings.warehouse))
    return settings.warehouse


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


def test_external_access_is_off_even_in_a_select(warehouse):
    with pytest.raises(Exception, match=r"(?i)disabled|permission"):
        analyst.run(warehouse, "select * from read_csv('/etc/passwd')", out=lambda _: None)


def test_interactive_prompt_runs_statements_until_eof(warehouse):
    lines = iter(
        ["select count(*) as n", "from core.dim_program;", "delete from core.dim_program;"]
    )
    printed = []

    def read(_prompt):
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    analyst.repl(warehouse, read=read, out=printed.append)
    shown = "\n".join(str(p) for p in printed)
    assert "5" in shown
    assert "error: Chỉ được đọc" in shown


def test_tables_lists_every_table_and_column_with_its_meaning(warehouse, capsys):
    assert main(["tables"]) == 0
    out = capsys.readouterr().out
    assert "core.fact_cooperative_year: One row per cooperative and year" in out
    assert "    revenue_mvnd (DECIMAL(18,6)): Revenue, million VND" in out
    assert "marts.replication_candidates:" in out
    assert "    is_candidate (BOOLEAN): All criteria met" in out


def test_the_htx_command_exits_with_main_s_code_and_all_its_output(warehouse):
    # `htx` leaves without Python's teardown (etl.cli.main.entry): its code and output must
    # still arrive whole, through a pipe.
    import os
    import subprocess
    import sys
    from pathlib import Path

    htx = str(Path(sys.executable).with_name("htx"))
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
