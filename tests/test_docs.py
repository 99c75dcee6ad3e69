"""The README's flow diagram and the docs name modules and folders that exist."""

from __future__ import annotations

import io
import re
import shlex
import sys
from pathlib import Path

import pytest
from conftest import run_steps, with_landing

from etl.cli import analyst
from etl.cli.main import main
from etl.config import PROJECT_ROOT

DOCS = ["README.md", *(f"docs/{p.name}" for p in (PROJECT_ROOT / "docs").glob("*.md"))]
# etl/read/reader.py, etl/outputs/templates/, sql/marts/*.sql …, and bare names the
# diagram writes beside their folder's module (headers.py after etl/read/reader.py).
_PATH = re.compile(r"\b((?:etl|sql|tools|dags|expectations|config|reference|tests)/[\w/.*-]*\w/?)")


@pytest.mark.parametrize("doc", DOCS)
def test_every_project_path_a_doc_names_exists(doc):
    text = (PROJECT_ROOT / doc).read_text(encoding="utf-8")
    missing = []
    for found in sorted(set(_PATH.findall(text))):
        path = found.split("::")[0].rstrip(".")
        if any(part in path for part in ("<", "{")) or path.startswith("etl/_resources"):
            continue  # placeholders; the copies only a built wheel holds
        if not any(PROJECT_ROOT.glob(path.rstrip("/"))):
            missing.append(path)
    assert not missing, f"{doc} names paths that do not exist: {missing}"


def test_the_flow_diagram_names_every_step_module():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    diagram = readme[readme.index("## How a workbook flows") :].split("```")[1]
    named = set(re.findall(r"etl/[\w/]+\.py", diagram))
    steps = {
        f"etl/{p.relative_to(PROJECT_ROOT / 'etl').as_posix()}"
        for folder in ("read", "quality", "warehouse")
        for p in (PROJECT_ROOT / "etl" / folder).glob("*.py")
        if p.name != "__init__.py"
    }
    # Helpers a step module calls, named beside it in the diagram (headers.py, cells.py) or
    # documented in docs/architecture.md instead.
    beside = {"etl/read/headers.py", "etl/read/cells.py", "etl/quality/feedback.py"}
    internal = {"etl/warehouse/locking.py", "etl/warehouse/models.py", "etl/warehouse/stamp.py"}
    assert steps - named - beside - internal == set()
    architecture = (PROJECT_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for module in steps:
        assert Path(module).name in architecture or module in readme, module


def test_the_schema_table_has_a_row_for_every_core_table_and_mart():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    schema = readme[readme.index("## The schema") : readme.index("## For analysts")]
    rows = set(re.findall(r"^\| `((?:core|marts)\.\w+)` \|", schema, re.MULTILINE))
    tables = {f"core.{p.stem}" for p in (PROJECT_ROOT / "sql" / "ddl" / "core").glob("*.sql")}
    tables |= {f"marts.{p.stem}" for p in (PROJECT_ROOT / "sql" / "marts").glob("*.sql")}
    assert tables - rows == set()


def test_deploy_s_table_of_dags_has_a_row_for_every_dag():
    deploy = (PROJECT_ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    table = deploy[deploy.index("## The DAGs an operator sees") : deploy.index("## 1.")]
    rows = set(re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE))
    # The DAG ids: etl/config.py's and those a DAG file names itself (htx_deadlines).
    sources = [PROJECT_ROOT / "etl" / "config.py", *(PROJECT_ROOT / "dags").glob("*.py")]
    dag_ids = {
        dag_id
        for path in sources
        for dag_id in re.findall(r'^\w+_DAG_ID = "(\w+)"', path.read_text("utf-8"), re.MULTILINE)
    }
    assert len(dag_ids) == 4
    assert dag_ids - rows == set()


def test_every_pip_install_of_the_lock_upgrades_pip_first():
    """pip 23.2.1 (what a Python 3.11.7 venv brings; 23.3.2 and later are fine) refuses the
    lock in hash-checking mode: `In --require-hashes mode, all requirements must have their
    versions pinned with ==. These do not: celery[redis]<6,>=5.5.0 … (from
    apache-airflow-providers-celery==3.26.0 …)`. A documented `pip install -r
    requirements.lock` upgrades pip in the same command first."""
    commands = []
    for doc in DOCS:
        text = " ".join((PROJECT_ROOT / doc).read_text(encoding="utf-8").split())
        for found in re.finditer(r"pip install -r [\w/.]*requirements\.lock", text):
            before = text[max(0, found.start() - 160) : found.start()]
            commands.append((doc, "pip>=23.3" in before))
    assert commands  # docs/deploy.md documents the wheel install
    assert all(ok for _, ok in commands), commands


def test_the_sample_make_run_writes_shows_the_outcomes_the_readme_names(sample_landing):
    """`make run` writes the sample when the landing folder is empty; the README says which
    outcomes its files show, and the summary a newcomer reads must agree (it said 'every
    outcome', and the summary printed '0 duplicate')."""
    readme = " ".join((PROJECT_ROOT / "README.md").read_text(encoding="utf-8").split())
    said = readme[readme.index("writes the sample workbooks into it") :]
    said = said[: said.index("A landing folder a deployment names")]
    _, files = sample_landing
    statuses = {f.expected_status for f in files}
    assert "every outcome" not in said or statuses >= {"loaded", "quarantined", "duplicate"}
    shown = set(re.findall(r"`(loaded|superseded|quarantined|duplicate)`", said))
    if "but `duplicate`" in said:
        shown.discard("duplicate")
    assert shown == statuses, said


@pytest.fixture(scope="module")
def sample_settings(sample_landing, tmp_path_factory):
    """The warehouse (and ledger) `make run` builds from the sample, as an analyst opens it."""
    settings = with_landing(tmp_path_factory.mktemp("docs_sample"), sample_landing)
    run_steps(settings)
    return settings


def _names(con) -> set[str]:
    found = con.execute(
        "select schema_name, table_name, column_name from duckdb_columns() "
        "where schema_name in ('core', 'intermediate', 'marts', 'audit')"
    ).fetchall()
    return {f"{s}.{t}" for s, t, _ in found} | {f"{s}.{t}.{c}" for s, t, c in found}


def test_every_sql_example_of_the_readme_runs_on_the_sample_and_returns_rows(sample_settings):
    """An analyst copies the README's queries: each runs read-only on the sample warehouse and
    returns rows (but the list of cooperatives under review: the sample places every one)."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    statements = [
        s.strip()
        for block in re.findall(r"```sql\n(.*?)```", readme, re.DOTALL)
        for s in block.split(";")
        if s.strip()
    ]
    assert len(statements) >= 12
    con = analyst.connect(sample_settings.warehouse)
    try:
        empty = []
        for statement in statements:
            analyst.check_reading(con, statement)
            if not con.sql(statement).fetchall() and "marts.placement_review" not in statement:
                empty.append(statement)
        assert not empty, empty
        # "One cooperative in both geographies (in the sample: a cooperative of Nghĩa Đức until
        # 2024, in Phường Bắc Gia Nghĩa since)"
        example = next(s for s in statements if "6402740821" in s)
        communes = {(year, commune) for year, _, _, commune, *_ in con.sql(example).fetchall()}
        assert {c for y, c in communes if y <= 2024} == {"Phường Nghĩa Đức"}
        assert {c for y, c in communes if y >= 2025} == {"Phường Bắc Gia Nghĩa"}
    finally:
        con.close()


def test_the_question_before_a_crosswalk_example_names_every_former_province_it_lists(
    sample_settings,
):
    """The README asked "Where did the former communes of Đắk Nông go, and which were not
    matched?" and listed the unmatched communes of Bình Thuận and Lâm Đồng too: the question
    says whose rows it shows."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    parts = readme.split("```")
    con = analyst.connect(sample_settings.warehouse)
    try:
        former = dict(
            con.sql(
                "select province_code, province_name from core.dim_geography "
                "where level = 'province' and valid_to < date '2025-07-01'"
            ).fetchall()
        )
        checked = 0
        for i in range(1, len(parts), 2):
            if not parts[i].startswith("sql\n"):
                continue
            question = " ".join(parts[i - 1].split())
            for statement in filter(str.strip, parts[i].removeprefix("sql\n").split(";")):
                result = con.sql(statement)
                if "old_province_code" not in result.columns:
                    continue
                codes = {row[0] for row in result.select("old_province_code").fetchall()}
                assert codes, statement
                names = {former[c].removeprefix("Tỉnh ").removeprefix("Thành phố ") for c in codes}
                assert all(name in question for name in names), (question, sorted(names))
                checked += 1
        assert checked
    finally:
        con.close()


def _htx_commands() -> list[tuple[str, list[str]]]:
    """The `htx` lines of the docs' shell blocks an analyst or a clerk runs on a warehouse
    (sql, tables, summary, template), as arguments: comments and redirections dropped."""
    found = []
    for doc in DOCS:
        text = (PROJECT_ROOT / doc).read_text(encoding="utf-8")
        for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL):
            for line in block.splitlines():
                if Path(line.split(" ", 1)[0]).name != "htx":
                    continue
                words = shlex.split(line, comments=True)
                if ">" in words:
                    words = words[: words.index(">")]
                if words[1] in ("sql", "tables", "summary", "template"):
                    found.append((doc, words[1:]))
    return found


def test_every_htx_command_of_the_docs_runs_on_the_sample(
    sample_settings, tmp_path, monkeypatch, capsys
):
    """The README's `htx sql --format markdown -f query.sql`, `htx template … --prefill`: each
    documented command, options as written, runs on the sample warehouse and says no error
    (the SQL examples alone did not hold the shell lines to the CLI and the tables)."""
    commands = _htx_commands()
    assert len(commands) >= 7
    for name, value in sample_settings.htx_environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    first_example = re.findall(r"```sql\n(.*?)```", readme, re.DOTALL)[0]
    for doc, args in commands:
        for option in ("-f", "--file"):
            if option in args and args[args.index(option) + 1] != "-":
                (tmp_path / args[args.index(option) + 1]).write_text(first_example, "utf-8")
        # The interactive prompt, fed from a pipe: one statement, then the end of input.
        monkeypatch.setattr(sys, "stdin", io.StringIO(first_example))
        assert main(args) == 0, (doc, args)
        out, err = capsys.readouterr()
        assert out.strip(), (doc, args)
        assert "SQL error" not in err, (doc, args, err)  # the prompt goes on after one
        if args[0] == "template":
            assert (tmp_path / args[args.index("--out") + 1]).stat().st_size > 0


@pytest.mark.parametrize("doc", DOCS)
def test_every_table_and_column_a_doc_names_is_in_the_warehouse(doc, sample_settings):
    """`core.dim_cooperative.former_commune_code`, `marts.placement_review`: every name a doc
    gives an analyst is a table (or column) of the sample warehouse, or of the ledger."""
    import duckdb

    names = set()
    for path in (sample_settings.warehouse, sample_settings.ledger):
        con = duckdb.connect(str(path), read_only=True)
        try:
            names |= _names(con)
        finally:
            con.close()
    text = (PROJECT_ROOT / doc).read_text(encoding="utf-8")
    # Not a file: `marts.xlsx`, `exports/.marts.xlsx.parts.json`; nor `core.fact_*`.
    named = re.findall(r"(?<![\w./])((?:core|intermediate|marts|audit)\.\w+(?:\.\w+)?)", text)
    files = (".xlsx", ".parquet", ".json", ".py", "_")
    missing = sorted({n for n in named if not n.endswith(files)} - names)
    assert not missing, f"{doc} names tables or columns the warehouse does not have: {missing}"


def test_htx_tables_explains_every_table_and_column_it_lists(sample_settings):
    """README: `htx tables` lists "every table and column, explained", and every column of
    core, intermediate, marts and audit carries a description."""
    lines = analyst.describe_tables(sample_settings.warehouse)
    assert len(lines) > 400
    described = re.compile(r"^\w+\.\w+: \S|^    \w+ \(.+\): \S")
    unexplained = [line.strip() for line in lines if not described.search(line)]
    assert not unexplained, unexplained
