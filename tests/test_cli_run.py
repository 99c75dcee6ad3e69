"""`htx run`'s DAG runs: the ingest run in a fork whose memory ends with it, the publish run
here (etl.cli.main.run_dags). Airflow's `dag.test` is replaced by stand-ins that record where
they ran; the whole command runs through Airflow in tests/test_make_run.py."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from etl.cli import main
from etl.config import INGEST_DAG_ID, PUBLISH_DAG_ID, settings_under
from etl.forks import ForkFailed

# What the ingest run keeps in its process: it must never reach this one.
_KEPT_BY_INGEST: list[bytes] = []


@dataclass
class _Run:
    dag_id: str
    run_id: str
    state: str
    pid: int


class _Dag:
    def __init__(self, dag_id: str, fails: bool = False):
        self.dag_id = dag_id
        self.fails = fails
        self.confs: list[object] = []

    def test(self, run_conf=None):
        self.confs.append(run_conf)
        if self.fails:
            raise RuntimeError("the DAG run could not start")
        if self.dag_id == INGEST_DAG_ID:
            _KEPT_BY_INGEST.append(bytes(1 << 20))  # GX, frames, buffers: left behind
        return _Run(self.dag_id, f"manual__{self.dag_id}__{run_conf}", "success", os.getpid())


class _Bag:
    def __init__(self, ingest_fails: bool = False):
        self.dags = {
            INGEST_DAG_ID: _Dag(INGEST_DAG_ID, ingest_fails),
            PUBLISH_DAG_ID: _Dag(PUBLISH_DAG_ID),
        }

    def get_dag(self, dag_id: str) -> _Dag:
        return self.dags[dag_id]


@pytest.fixture
def fake_airflow(monkeypatch):
    """A bag of stand-in DAGs; the ingest run 'emits its asset' when `emitted` says so."""
    import etl.flow.lineage

    state = {"emitted": True, "stopped": [], "asked": [], "warmed": [], "ready": []}
    bag = _Bag()
    monkeypatch.setattr(main, "_dagbag", lambda settings: bag)
    monkeypatch.setattr(main, "_execution_api", lambda: state["warmed"].append(os.getpid()))
    monkeypatch.setattr(main, "_dag_test_ready", lambda bag: state["ready"].append(bag))

    def emitted(run):
        state["asked"].append(os.getpid())
        return state["emitted"]

    monkeypatch.setattr(main, "_asset_emitted", emitted)
    monkeypatch.setattr(
        etl.flow.lineage, "stop_listeners", lambda: state["stopped"].append(os.getpid())
    )
    state["bag"] = bag
    return state


def test_the_ingest_run_is_made_in_a_fork_and_the_publish_run_here(tmp_path, fake_airflow):
    runs = main.run_dags(settings_under(tmp_path), {"force": True})
    assert [(r.dag_id, r.run_id, r.state) for r in runs] == [
        (INGEST_DAG_ID, f"manual__{INGEST_DAG_ID}__{{'force': True}}", "success"),
        (PUBLISH_DAG_ID, f"manual__{PUBLISH_DAG_ID}__None", "success"),
    ]
    assert all(isinstance(r, main.DagRunResult) for r in runs)  # no ORM object kept
    # The ingest DAG ran elsewhere, with the run's conf (in its run id above): what it kept,
    # and what it asked, went with its process.
    assert fake_airflow["bag"].dags[INGEST_DAG_ID].confs == []  # not called in this process
    assert _KEPT_BY_INGEST == []
    assert fake_airflow["asked"] == []  # `_asset_emitted` was asked in the fork
    # The publish DAG ran here; the listeners stopped in both processes, as each ended.
    assert fake_airflow["bag"].dags[PUBLISH_DAG_ID].confs == [None]
    assert fake_airflow["stopped"] == [os.getpid()]  # this process's; the fork's was its own
    # Airflow's in-process execution API was built here, once, before the fork, and the
    # plugins loaded for the DAGs of this bag.
    assert fake_airflow["warmed"] == [os.getpid()]
    assert fake_airflow["ready"] == [fake_airflow["bag"]]


def test_nothing_emitted_no_publish_run(tmp_path, fake_airflow):
    fake_airflow["emitted"] = False
    runs = main.run_dags(settings_under(tmp_path))
    assert [r.dag_id for r in runs] == [INGEST_DAG_ID]
    assert fake_airflow["bag"].dags[PUBLISH_DAG_ID].confs == []
    assert fake_airflow["stopped"] == []  # nothing ran here


def test_an_ingest_run_that_raises_fails_the_command(tmp_path, fake_airflow):
    fake_airflow["bag"].dags[INGEST_DAG_ID].fails = True
    with pytest.raises(ForkFailed, match="the DAG run could not start"):
        main.run_dags(settings_under(tmp_path))
    assert fake_airflow["bag"].dags[PUBLISH_DAG_ID].confs == []


def test_the_execution_api_is_made_ready_without_a_thread_and_serves_a_fork(tmp_path, monkeypatch):
    """`_execution_api` leaves no thread running (a fork inherits no thread), and a fork can
    make its own transport and be answered at once."""
    import threading

    from etl.forks import run_forked

    for name, value in settings_under(tmp_path).airflow_environ().items():
        monkeypatch.setenv(name, value)
    from airflow.sdk.execution_time.supervisor import in_process_api_server

    threads = threading.active_count()
    main._execution_api()
    assert threading.active_count() == threads, [t.name for t in threading.enumerate()]
    api = in_process_api_server()

    def in_the_fork() -> tuple[int, dict]:
        import httpx

        with httpx.Client(transport=api.transport, base_url="http://in-process/") as client:
            response = client.get("/health")
            return response.status_code, response.json()

    assert run_forked(in_the_fork) == (200, {"status": "healthy"})


def test_plugins_are_loaded_before_the_fork_without_a_thread(tmp_path, monkeypatch):
    """After `_dag_test_ready`, no thread runs (a fork inherits none), and neither a fork nor
    this process imports anything more to deserialize the DAGs, as each `dag.test` does."""
    import sys
    import threading

    from etl.forks import run_forked

    settings = settings_under(tmp_path)
    for name, value in settings.airflow_environ().items():
        monkeypatch.setenv(name, value)
    bag = main._dagbag(settings)
    threads = threading.active_count()
    main._dag_test_ready(bag)
    assert threading.active_count() == threads, [t.name for t in threading.enumerate()]
    assert "airflow.providers.openlineage.plugins.listener" in sys.modules

    def imported_by_deserializing() -> list[str]:
        from airflow.serialization.serialized_objects import DagSerialization

        before = set(sys.modules)
        for dag_id in (INGEST_DAG_ID, PUBLISH_DAG_ID):
            DagSerialization.deserialize_dag(DagSerialization.serialize_dag(bag.dags[dag_id]))
        return sorted(set(sys.modules) - before)

    assert run_forked(imported_by_deserializing) == []
    assert imported_by_deserializing() == []


def _wait_line(tasks: set[str], created: float) -> logging.LogRecord:
    record = logging.LogRecord(
        "airflow.sdk.definitions.dag",
        logging.WARNING,
        "dag.py",
        1424,
        "No tasks to run. unrunnable tasks: %s",
        (tasks,),
        None,
    )
    record.created = created
    return record


def test_a_retry_wait_is_one_log_line_and_a_reminder_a_minute_not_one_a_second():
    """dag.test logs 'No tasks to run' each second while the alert task waits for its retry
    (30 s, then 60 s): the log keeps the first line of each wait and one a minute."""
    kept = main.OneLinePerWait(every=60)
    waiting = [kept.filter(_wait_line({"alert"}, float(second))) for second in range(0, 91)]
    assert [second for second, shown in enumerate(waiting) if shown] == [0, 60]
    # Another set of tasks waiting is a new wait: shown at once.
    assert kept.filter(_wait_line({"exports"}, 91.0)) is True
    # Any other line of the logger passes.
    other = logging.LogRecord("airflow.sdk.definitions.dag", logging.INFO, "", 0, "x", (), None)
    assert kept.filter(other) is True


def test_run_dags_quiets_the_waits_once(tmp_path, fake_airflow):
    logger = logging.getLogger("airflow.sdk.definitions.dag")
    before = list(logger.filters)
    try:
        main.run_dags(settings_under(tmp_path))
        main.run_dags(settings_under(tmp_path))
        assert sum(isinstance(f, main.OneLinePerWait) for f in logger.filters) == 1
    finally:
        logger.filters[:] = before


def test_htx_airflow_serves_on_the_port_its_command_line_names():
    """`htx airflow --port 8099` serves on 8099 even where AIRFLOW__API__PORT was exported
    before (`eval "$(htx env)"` in a profile, another deployment's shell): the flag the
    operator typed wins. Without the flag, the environment's port, else 8080. Before, an
    exported port silently won over the flag."""
    exported = {
        "AIRFLOW__API__PORT": "8080",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": "http://127.0.0.1:8080/execution/",
    }
    env = main.standalone_environ(exported, 8099)
    assert (env["AIRFLOW__API__PORT"], env["AIRFLOW__API__BASE_URL"]) == (
        "8099",
        "http://127.0.0.1:8099",
    )
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8099/execution/"
    assert main.standalone_environ(exported, None)["AIRFLOW__API__PORT"] == "8080"
    assert main.standalone_environ({}, None)["AIRFLOW__API__PORT"] == "8080"
    proxied = {"AIRFLOW__API__BASE_URL": "https://htx.example.vn/airflow"}
    assert (
        main.standalone_environ(proxied, 8099)["AIRFLOW__API__BASE_URL"]
        == proxied["AIRFLOW__API__BASE_URL"]
    )


def test_htx_run_whose_publish_failed_says_so_in_its_summary(tmp_path, monkeypatch, capsys):
    """The summary after a failed run neither says 'nothing new' nor 'run `htx run` first':
    it says the run failed, and the command exits 1."""
    from etl.quality import validator

    settings = settings_under(tmp_path)
    for name, value in settings.htx_environ().items():
        monkeypatch.setenv(name, value)
    settings.landing_dir.mkdir(parents=True)
    (settings.landing_dir / "663_2024.xlsx").write_bytes(b"not read here")
    runs = [
        main.DagRunResult(INGEST_DAG_ID, "run-1", "success"),
        main.DagRunResult(PUBLISH_DAG_ID, "run-p", "failed"),
    ]
    monkeypatch.setattr(main, "init_airflow", lambda settings: None)
    monkeypatch.setattr(main, "run_dags", lambda settings: runs)
    monkeypatch.setattr(main, "_record_command", lambda *args: None)
    monkeypatch.setattr(validator, "start", lambda *warm_ups: None)
    assert main.cmd_run(None) == 1
    out, err = capsys.readouterr()
    assert "this run failed" in out
    assert "run `htx run` first" not in out
    assert f"{PUBLISH_DAG_ID} run run-p ended failed" in err


def test_htx_help_names_every_setting_and_the_alert_channels(capsys):
    """A data engineer reading `htx --help` (or `htx run --help`) learns which variables
    configure it and their defaults, and where alerts are configured; before, no help named
    one. Every HTX_* variable the settings read is named, so a new one is not forgotten."""
    import re

    from etl import config
    from etl.cli.main import main

    read = set(re.findall(r'"(HTX_[A-Z_]+)"', Path(config.__file__).read_text()))
    for argv in (["--help"], ["run", "--help"]):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 0
        shown = capsys.readouterr().out
        assert read <= set(re.findall(r"HTX_[A-Z_]+", shown)), sorted(read)
        for said in ("data/landing", "smtp_default", "htx_alert_emails", "htx_alert_webhook"):
            assert said in shown
