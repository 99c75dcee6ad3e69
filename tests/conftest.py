"""Shared fixtures: project settings in a temporary folder and workbooks written by code."""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import xlsxwriter

from etl.config import Settings, settings_under
from etl.contract.layout import HOTRO, HTX, LIENKET, OCOP
from etl.contract.reference import load_reference

# Tests that import Airflow in this process get a throwaway home, never ~/airflow, removed
# when the test run ends (the subprocesses the tests start end before it).
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="htx-test-airflow-")
atexit.register(shutil.rmtree, os.environ["AIRFLOW_HOME"], True)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"


class _Said(logging.Handler):
    """The messages a logger says (caplog's handler does not outlive Airflow's logging set-up,
    which an earlier step of a test may have made in this process)."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def logged(name: str, level: int = logging.INFO) -> Iterator[list[str]]:
    """What the logger `name` says at `level` and above inside the block."""
    said, logger = _Said(level), logging.getLogger(name)
    kept = logger.level
    logger.addHandler(said)
    logger.setLevel(level)
    try:
        yield said.messages
    finally:
        logger.removeHandler(said)
        logger.setLevel(kept)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose every folder lives under the test's temporary directory."""
    return settings_under(tmp_path)


def write_xlsx(path: Path, sheets: dict[str, list[list]], then=None) -> Path:
    """A workbook with the given rows per sheet; dates become real date cells. `then(sheets)`,
    given, adds to the written sheets (by name) before the file is closed: a formula, an
    image, a drop-down list."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path))
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    written = {}
    for name, rows in sheets.items():
        sheet = written[name] = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
                elif isinstance(value, str):
                    sheet.write_string(r, c, value)  # text stays text, even `=…`
                elif value is not None:
                    sheet.write(r, c, value)
    if then is not None:
        then(written)
    workbook.close()
    return path


HTX_HEADER = [c.header for c in HTX.columns]
SUPPORT_HEADER = [c.header for c in HOTRO.columns]
OCOP_HEADER = [c.header for c in OCOP.columns]
LINK_HEADER = [c.header for c in LIENKET.columns]


def htx_row(n: int, code: str, **overrides) -> list:
    """One valid HTX data row in template column order; override by header text."""
    values = {
        "STT": n,
        "Mã số HTX": code,
        "Tên HTX": f"HTX Nông nghiệp số {n}",
        "Xã/Phường": "Đức Mạnh",
        "Ngày thành lập": dt.date(2015, 3, 1),
        "Lĩnh vực": "Nông nghiệp",
        "Tham gia Đề án 167": "",
        "Số thành viên": 40,
        "Số lao động": 12,
        "Vốn điều lệ": 1500,
        "Tổng tài sản": 2500,
        "Doanh thu": 1650,
        "Lợi nhuận trước thuế": 120,
        "Thu nhập bình quân": 60,
        "Xếp loại": "Khá",
        "Điểm": 70,
        "Liên kết tiêu thụ": "Không",
        "Ghi chú": None,
    }
    values.update(overrides)
    return [values[h] for h in HTX_HEADER]


def info_rows(unit: str = "663", year: int = 2023, prepared: dt.date | None = None) -> list[list]:
    # `Tên đơn vị` names the unit of the code (another unit's name rejects the file); blank
    # for a code that names no unit of the year.
    known = load_reference().reporting_unit(str(unit), year)
    return [
        ["Thông tin", "Giá trị"],
        ["Mã đơn vị", unit],
        ["Tên đơn vị", known.full_name if known else None],
        ["Năm báo cáo", year],
        ["Ngày lập", prepared or dt.date(year + 1, 1, 15)],
        ["Người lập", "Nguyễn Văn A"],
    ]


# The `htx` command of this virtual environment.
HTX = Path(sys.executable).with_name("htx")


def htx_env(settings: Settings, without: tuple[str, ...] = ()) -> dict[str, str]:
    """This process's environment with the contract's settings, for `htx` subprocesses;
    `without`: the prefixes of this process's variables left out (`("HTX_", "AIRFLOW")`: none
    of the test runner's own configuration reaches the command)."""
    kept = {k: v for k, v in os.environ.items() if not without or not k.startswith(without)}
    return {**kept, **settings.htx_environ()}


def run_htx(*args: str, env: dict[str, str], timeout: float = 1800) -> subprocess.CompletedProcess:
    """`htx ARGS` in a subprocess with `env`, its output captured as text."""
    return subprocess.run(
        [str(HTX), *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def run_steps(settings: Settings, run_id: str = "test-run", selection=None) -> dict:
    """Both DAGs' steps in order, in this process, without Airflow (tests of the logic):
    ingest (discover, stage, load), then publish (alert, marts and swap, exports)."""
    from etl.flow import tasks

    files = tasks.discover_files(settings, selection)
    staged = [tasks.stage(settings, b, run_id) for b in tasks.batches(files, 50)]
    loaded = tasks.load(settings, [s for batch in staged for s in batch], run_id)
    if not loaded["changed"]:
        return loaded  # the ingest DAG emits no asset event: the publish DAG does not run
    tasks.alert(settings)
    return {**loaded, **tasks.write_exports(settings, tasks.publish_build(settings))}


def query(settings: Settings, sql: str, params: list | None = None) -> list[tuple]:
    import duckdb

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def warm():
    """htx run's warm validator (`etl.quality.validator`) for this test, stopped after it
    (none is left running)."""
    from etl.quality import validator

    started = validator.start()
    yield started
    validator.stop()
    assert not started.process.is_alive()
    assert not started.folder.exists()


# The modules that test the GX Data Docs site itself: every site they build is rendered.
_RENDER_EVERY_SITE = frozenset(
    {
        "test_data_docs",
        "test_data_docs_async",
        "test_escaping",
        "test_exports_parallel",
        "test_incremental",
        "test_validator",
    }
)


@pytest.fixture(scope="session")
def _rendered_sites(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data_docs_sites")


@pytest.fixture(autouse=True)
def _first_sites_rendered_once_per_content(request, monkeypatch, _rendered_sites):
    """GX renders the Data Docs site of every new build (`etl.quality.data_docs._build`:
    GX's validations of the summary suites and its site builder, about 1 s of a one-file
    run's 5: tests/test_load.py's 29 runs took 162 s, 135 s with this). What a site
    shows is its content key (the suites, the rule counts, GX's version:
    `data_docs.content_key`), and the pipeline itself copies a site of the same
    key rather than render it again (`data_docs.build_site`). Most of the tests' small
    warehouses show the same: in this session, the first site of a state (no earlier site
    to build on) is rendered once per content key by GX, and copied from that render after.
    A site built on an earlier one is always rendered, and so is every site in the modules
    that test the site itself (`_RENDER_EVERY_SITE`)."""
    if request.module.__name__.rsplit(".", 1)[-1] in _RENDER_EVERY_SITE:
        return
    from etl.quality import data_docs

    render = data_docs._build

    def build(site: Path, documents, counts, previous: Path | None = None) -> None:
        if previous is not None:
            render(site, documents, counts, previous)
            return
        kept = _rendered_sites / data_docs.content_key(documents, counts)
        if kept.is_dir():
            shutil.copytree(kept, site, dirs_exist_ok=True)
            return
        render(site, documents, counts, previous)
        copy = kept.with_name(f".{kept.name}.{os.getpid()}")
        shutil.copytree(site, copy)
        try:
            os.replace(copy, kept)  # whole: another process may have kept one meanwhile
        except OSError:
            shutil.rmtree(copy, ignore_errors=True)

    monkeypatch.setattr(data_docs, "_build", build)


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback; yields (port, list of received envelopes)."""
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, received
    finally:
        controller.stop()


@pytest.fixture
def webhook_receiver():
    """A real HTTP server on loopback; yields (url, list of received JSON bodies)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/alert", received
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------------------------
# Whole runs compared: the warehouse a deployment (scheduler, backfill, Celery) leaves must
# be the one a single run of the steps leaves.

# The warehouse's content, minus what names the run that wrote it (run ids, timestamps).
SNAPSHOT = {
    "core.dim_cooperative": "select * exclude (cooperative_key) from core.dim_cooperative",
    "core.fact_cooperative_year": "select * exclude (cooperative_key, geo_key, period_key) "
    "from core.fact_cooperative_year",
    "core.fact_program_support": "select * exclude (cooperative_key, program_key, period_key) "
    "from core.fact_program_support",
    "core.fact_ocop_product": "select * exclude (cooperative_key, period_key) "
    "from core.fact_ocop_product",
    "core.fact_offtake_contract": "select * exclude (cooperative_key, period_key) "
    "from core.fact_offtake_contract",
    "marts.district_year": "select * from marts.district_year",
    "marts.program_year": "select * from marts.program_year",
    "marts.cooperative_scorecard": "select * from marts.cooperative_scorecard",
    "marts.replication_candidates": "select * from marts.replication_candidates",
    "marts.phase_summary": "select * from marts.phase_summary",
    "marts.commune_year": "select * from marts.commune_year",
    "marts.commune_phase": "select * from marts.commune_phase",
    "audit.file_ingestion": "select file_id, file_name, unit_code, report_year, status, "
    "rows_read, rows_loaded, rows_rejected, reason, superseded_by from audit.file_ingestion",
    "audit.rejected_row": "select * from audit.rejected_row",
    "audit.info_finding": "select * from audit.info_finding",
}


def run_mart(path: Path, model: str, setup: list[str], query: str) -> list[tuple]:
    """One mart's SQL run in a new database at `path` on hand-made tables it reads (`setup`,
    SQL statements; the schema `marts` is made first), with the project's targets and macros
    registered as the build's publish step registers them; the rows `query` then gives."""
    import duckdb

    from etl.warehouse import build
    from etl.warehouse.models import run_sql_file

    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts")
        for statement in setup:
            con.execute(statement)
        build._register_targets(con, build.CONFIG_DIR / "phase_targets.toml")
        build._create_macros(con)
        run_sql_file(con, build.SQL_DIR / "marts" / f"{model}.sql")
        return con.execute(query).fetchall()
    finally:
        con.close()


def snapshot(settings: Settings) -> dict[str, list[tuple]]:
    return {table: query(settings, f"{sql} order by all") for table, sql in SNAPSHOT.items()}


def project_settings(root) -> Settings:
    return settings_under(root, HTX_BATCH_SIZE="10")


@pytest.fixture(scope="session")
def sample_landing(tmp_path_factory):
    """The province sample: 8 districts × 2021–2024, the 2025 province report, the 2026
    reports of four communes and of the province, and two resubmissions (one superseding,
    one broken)."""
    folder = tmp_path_factory.mktemp("landing")
    from tools.sample import write_samples

    return folder, write_samples(folder)


@pytest.fixture(scope="session")
def single_run(sample_landing, tmp_path_factory) -> dict:
    """The reference: every file in one run of the steps, without Airflow."""
    settings = with_landing(tmp_path_factory.mktemp("single"), sample_landing)
    run_steps(settings)
    return snapshot(settings)


@pytest.fixture(scope="session")
def sample_landing_to_2025(sample_landing, tmp_path_factory):
    """The province sample's files of report years 2021–2025: what a backfill over those
    years takes in (the 2026 reports wait for their own year)."""
    folder = tmp_path_factory.mktemp("landing_to_2025")
    files = [f for f in sample_landing[1] if f.report_year <= 2025]
    for item in files:
        shutil.copy2(item.path, folder / item.path.name)
    return folder, files


@pytest.fixture(scope="session")
def single_run_to_2025(sample_landing_to_2025, tmp_path_factory) -> dict:
    """The reference for a backfill over 2021–2025: those years' files in one run."""
    settings = with_landing(tmp_path_factory.mktemp("single_to_2025"), sample_landing_to_2025)
    run_steps(settings)
    return snapshot(settings)


def with_landing(root, landing) -> Settings:
    """Settings under `root` (batches of 10 files) with a copy of a landing folder."""
    settings = project_settings(root)
    shutil.copytree(landing[0], settings.landing_dir)
    return settings


def template_validations(ws) -> dict[str, object]:
    """A template sheet's data validations by the header text of the column they cover."""
    headers = {cell.column_letter: cell.value for cell in ws[1]}
    found = {}
    for rule in ws.data_validations.dataValidation:
        first = str(rule.sqref).split()[0].split(":")[0]
        found[headers[first.rstrip("0123456789")]] = rule
    return found


def validation_items(rule) -> list[str]:
    """The items of a list validation (`"a,b,c"`)."""
    return rule.formula1.strip('"').split(",")


# ---------------------------------------------------------------------------------------
# The servers a deployment uses, started by the tests themselves from wheels in the lock
# (tests/servers.py): nothing to install or start beforehand, as root or not.


@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL server for the session, on 127.0.0.1:<free port>, stopped at the end."""
    from servers import PostgresServer

    with PostgresServer() as server:
        yield server


@pytest.fixture
def postgres_database(postgres_server) -> str:
    """A new, empty database (Airflow's metadata DB under a scheduler); its URL. Dropped
    afterwards."""
    with postgres_server.database() as url:
        yield url


@pytest.fixture
def redis_server():
    """A Redis server (Valkey) for one test, on 127.0.0.1:<free port>; yields its URL."""
    from servers import RedisServer

    with RedisServer() as server:
        yield server.url
