"""The DAG files as Airflow's DagBag sees them: no import errors, nothing heavy imported at
parse time, and the schedules, assets, params, pool and retries the operators rely on."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys

import pytest

from etl.config import (
    DAGS_DIR,
    INGEST_DAG_ID,
    LANDING_ASSET,
    PUBLISH_DAG_ID,
    STAGING_ASSET,
    STAR_SCHEMA_ASSET,
    WAREHOUSE_ASSET,
    WRITER_POOL,
    YEARLY_DAG_ID,
    settings_under,
)
from etl.flow.tasks import Selection

_PROBE = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
before = set(sys.modules)
bag = DagBag(dag_folder=sys.argv[1])
heavy = sorted(m for m in ("pandas", "great_expectations", "duckdb", "python_calamine", "pyarrow",
                           "openpyxl", "etl.flow.tasks", "etl.warehouse.staging")
               if m in sys.modules and m not in before)

def describe(dag):
    timetable = dag.timetable
    return {
        "timetable": type(timetable).__name__,
        "schedule": getattr(timetable, "expression", None),
        "asset_schedule": sorted(
            [a.name, a.uri] for a in timetable.asset_condition.objects
        ) if getattr(timetable, "asset_condition", None) is not None else [],
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "doc": len(dag.doc_md or ""),
        "run_failure_callback": getattr(dag.on_failure_callback, "__name__", None),
        "params": {k: dag.params.get_param(k).dump() for k in dag.params},
        "tasks": {
            t.task_id: {
                "pool": t.pool,
                "retries": t.retries,
                "retry_delay": t.retry_delay.total_seconds(),
                "backoff": t.retry_exponential_backoff,
                "outlets": sorted(a.name for a in t.outlets),
                "inlets": sorted(a.name for a in t.inlets),
                "uris": {a.name: a.uri for a in [*t.inlets, *t.outlets]},
                "doc": bool(t.doc_md),
                "upstream": sorted(t.upstream_task_ids),
                "failure_callback": bool(t.on_failure_callback),
                "multiple_outputs": getattr(t, "multiple_outputs", None),
            }
            for t in dag.tasks
        },
    }

print(json.dumps({
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "heavy": heavy,
    "dags": {dag_id: describe(dag) for dag_id, dag in bag.dags.items()},
}, default=str))
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("htx")


@pytest.fixture(scope="module")
def bag(tmp_path_factory, root) -> dict:
    home = tmp_path_factory.mktemp("airflow")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HTX_")},
        **settings_under(root).htx_environ(),  # the asset URIs are made of these paths
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
    }
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(DAGS_DIR)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_dag_files_parse_without_heavy_top_level_imports(bag):
    assert bag["errors"] == {}
    assert bag["heavy"] == [], "DAG files must import pandas, GX, duckdb and the ETL inside tasks"
    assert set(bag["dags"]) == {INGEST_DAG_ID, YEARLY_DAG_ID, PUBLISH_DAG_ID, "htx_deadlines"}


def test_schedules_hourly_ingest_yearly_backfill_and_asset_triggered_publish(bag, root):
    ingest, yearly, publish = (
        bag["dags"][d] for d in (INGEST_DAG_ID, YEARLY_DAG_ID, PUBLISH_DAG_ID)
    )
    assert (ingest["timetable"], ingest["schedule"]) == ("CronTriggerTimetable", "0 * * * *")
    # A data interval of one year: the run for 2023-01-01 → 2024-01-01 is report year 2023.
    assert (yearly["timetable"], yearly["schedule"]) == ("CronDataIntervalTimetable", "0 0 1 1 *")
    assert publish["timetable"] == "AssetTriggeredTimetable"
    assert publish["asset_schedule"] == [
        [STAR_SCHEMA_ASSET, f"file://{root / 'state' / 'build' / 'htx.duckdb'}"]
    ]
    for dag in (ingest, yearly, publish):
        assert dag["max_active_runs"] == 1
        assert dag["catchup"] is False
        assert dag["doc"] > 400  # the UI's DAG docs explain every step


def test_assets_link_the_ingest_dags_to_the_publish_dag(bag, root):
    # file:// URIs of the absolute HTX_* paths (lineage tools know the scheme).
    uris = {
        LANDING_ASSET: f"file://{root / 'landing'}",
        STAGING_ASSET: f"file://{root / 'state' / 'staging'}",
        STAR_SCHEMA_ASSET: f"file://{root / 'state' / 'build' / 'htx.duckdb'}",
        WAREHOUSE_ASSET: f"file://{root / 'warehouse' / 'htx.duckdb'}",
    }
    for dag_id in (INGEST_DAG_ID, YEARLY_DAG_ID):
        tasks = bag["dags"][dag_id]["tasks"]
        assert tasks["load"]["outlets"] == [STAR_SCHEMA_ASSET]
        assert tasks["load"]["upstream"] == ["stage"]
        assert tasks["stage"]["upstream"] == ["discover"]
        # Lineage only: inlets emit no asset event.
        assert tasks["discover"]["inlets"] == tasks["stage"]["inlets"] == [LANDING_ASSET]
        assert tasks["load"]["inlets"] == [STAGING_ASSET]
        for task in tasks.values():
            assert all(uris[name] == uri for name, uri in task["uris"].items())
        assert tasks["discover"]["outlets"] == tasks["stage"]["outlets"] == []
    tasks = bag["dags"][PUBLISH_DAG_ID]["tasks"]
    assert tasks["publish"]["outlets"] == [WAREHOUSE_ASSET]
    assert tasks["publish"]["inlets"] == [STAR_SCHEMA_ASSET]
    assert tasks["exports"]["inlets"] == [WAREHOUSE_ASSET]
    assert tasks["alert"]["outlets"] == tasks["exports"]["outlets"] == []
    for task in tasks.values():
        assert all(uris[name] == uri for name, uri in task["uris"].items())
    assert tasks["publish"]["upstream"] == ["alert"]
    assert tasks["exports"]["upstream"] == ["publish"]


def test_manual_runs_take_year_unit_and_force_params(bag):
    params = bag["dags"][INGEST_DAG_ID]["params"]
    assert set(params) == {"year", "unit_code", "force"}
    assert params["year"]["value"] is None
    assert params["year"]["schema"]["minimum"] == 2021
    pattern = params["unit_code"]["schema"]["pattern"]
    # A province, a former district, and from 2026 a commune (issue 15); empty, as a
    # cleared form field or a REST call's `"unit_code": ""` sends it, is every unit (as null)
    # and not refused.
    codes = ("68", "663", "24611", "", "6", "2461", "246110", " 68")
    assert [c for c in codes if re.match(pattern, c)] == ["68", "663", "24611", ""]
    assert Selection.from_params({"unit_code": ""}).unit_code is None
    assert params["force"]["value"] is False
    # The yearly DAG takes its year from the data interval: a backfill sets it.
    assert set(bag["dags"][YEARLY_DAG_ID]["params"]) == {"unit_code", "force"}


def test_every_task_that_writes_duckdb_uses_the_writer_pool(bag):
    for dag_id in (INGEST_DAG_ID, YEARLY_DAG_ID):
        pools = {t: v["pool"] for t, v in bag["dags"][dag_id]["tasks"].items()}
        assert pools == {"discover": WRITER_POOL, "load": WRITER_POOL, "stage": "default_pool"}
    publish = bag["dags"][PUBLISH_DAG_ID]["tasks"]
    assert {v["pool"] for v in publish.values()} == {WRITER_POOL}
    deadlines = bag["dags"]["htx_deadlines"]
    assert {v["pool"] for v in deadlines["tasks"].values()} == {WRITER_POOL}
    assert (deadlines["max_active_runs"], deadlines["catchup"]) == (1, False)


def test_transient_failures_retry_and_every_failure_alerts(bag):
    retries = {
        (dag_id, task): v["retries"]
        for dag_id, dag in bag["dags"].items()
        for task, v in dag["tasks"].items()
    }
    assert retries[(INGEST_DAG_ID, "discover")] == 2  # the landing share may hiccup
    assert retries[(INGEST_DAG_ID, "stage")] == 2
    assert retries[(PUBLISH_DAG_ID, "alert")] == 2  # SMTP or webhook down for a moment
    assert retries[(INGEST_DAG_ID, "load")] == 0  # a broken build would only break again
    # The first retry after 30 s (HTX_RETRY_DELAY_SECONDS unset), the second after 60 s:
    # Airflow 3.3's backoff is a multiplier, written as the number (`True` stays `True` on
    # the task object; only the scheduler's copy reads it as 2).
    retried = [v for d in bag["dags"].values() for v in d["tasks"].values() if v["retries"]]
    assert {(v["retry_delay"], v["backoff"]) for v in retried} == {(30.0, 2.0)}
    assert all(
        v["failure_callback"] and v["doc"]
        for dag in bag["dags"].values()
        for v in dag["tasks"].values()
    )
    # A failed run alerts even when no task callback ran (a task killed with SIGKILL).
    assert {d["run_failure_callback"] for d in bag["dags"].values()} == {"on_run_failure"}


def test_a_task_returning_a_dict_pushes_it_as_one_xcom(bag):
    # TaskFlow would infer `multiple_outputs` from `-> dict`: an XCom per key besides the
    # whole, each a request to Airflow's API, none read (etl.flow.dagkit.ONE_XCOM).
    outputs = {
        (dag_id, task): v["multiple_outputs"]
        for dag_id, dag in bag["dags"].items()
        for task, v in dag["tasks"].items()
    }
    assert set(outputs.values()) == {False}
    assert (PUBLISH_DAG_ID, "exports") in outputs


def test_htx_env_prints_the_project_environment_under_the_deployments_overrides(tmp_path):
    env = {
        **os.environ,
        "HTX_STATE_DIR": str(tmp_path / "state"),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg2://htx@db/htx",
    }
    htx = os.path.join(os.path.dirname(sys.executable), "htx")
    done = subprocess.run([htx, "env"], env=env, capture_output=True, text=True, check=True)
    exported = dict(line.removeprefix("export ").split("=", 1) for line in done.stdout.splitlines())
    assert exported["AIRFLOW_HOME"] == str(tmp_path / "state" / "airflow")
    assert exported["AIRFLOW__CORE__DAGS_FOLDER"] == str(DAGS_DIR)
    assert exported["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert exported["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "postgresql+psycopg2://htx@db/htx"
    assert exported["HTX_STATE_DIR"] == str(tmp_path / "state")


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory) -> dict:
    """An empty landing folder and a migrated Airflow home (`htx init`), for `airflow` CLI runs."""
    settings = settings_under(tmp_path_factory.mktemp("cli"))
    settings.landing_dir.mkdir(parents=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HTX_", "AIRFLOW"))},
        **settings.airflow_environ(),
    }
    htx = os.path.join(os.path.dirname(sys.executable), "htx")
    done = subprocess.run([htx, "init"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return env


@pytest.mark.parametrize(
    ("dag_id", "date", "conf", "unknown"),
    [
        # A misspelt `unit_code`: the forced reprocess would have taken every unit's files.
        (INGEST_DAG_ID, [], '{"unit": "663", "force": true}', "'unit'"),
        # The yearly DAG's year is its data interval: a `year` in conf was silently overridden.
        (YEARLY_DAG_ID, ["2023-01-01"], '{"year": 2022}', "'year'"),
    ],
)
def test_a_run_whose_conf_names_an_unknown_param_fails_with_the_names_it_takes(
    airflow_env, dag_id, date, conf, unknown
):
    airflow = os.path.join(os.path.dirname(sys.executable), "airflow")
    done = subprocess.run(
        [airflow, "dags", "test", dag_id, *date, "--conf", conf],
        env=airflow_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    said = done.stdout + done.stderr
    assert done.returncode != 0, said[-3000:]
    assert f"{dag_id} does not take the Param(s) {unknown}: it takes force, unit_code" in said


@pytest.mark.parametrize("logical_date", ["2023-01-01", "2023-01-01T00:00:00+07:00"])
def test_a_manual_yearly_run_takes_the_year_of_its_logical_date(airflow_env, logical_date):
    """A manual run's data interval is not its year: Airflow infers the year *before* the
    logical date (UI, REST API, `airflow dags test`), or the last year complete when it is
    triggered (`airflow dags trigger --logical-date`). The run for 2023-01-01 is 2023's, as
    the error for a run without a logical date tells the operator; given in the province's
    time (midnight there is 17:00 UTC the day before), still 2023's."""
    airflow = os.path.join(os.path.dirname(sys.executable), "airflow")
    done = subprocess.run(
        [airflow, "dags", "test", YEARLY_DAG_ID, logical_date],
        env=airflow_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    said = done.stdout + done.stderr
    assert done.returncode == 0, said[-3000:]
    [chosen] = re.findall(r"discover \((year=\d+) unit=any force=false\)", said)
    assert chosen == "year=2023"


def test_a_landing_folder_that_does_not_exist_fails_discover_and_alerts(tmp_path, webhook_receiver):
    """Under a scheduler, a mistyped HTX_LANDING_DIR or a share not mounted was a warning in
    a task log and a successful run, hour after hour: nothing loaded, no one told. The
    discover task fails with the folder and its variable (after its retries: the share may
    hiccup), and its failure alert reaches the configured channels, once."""
    url, posts = webhook_receiver
    missing = tmp_path / "not_mounted"
    # An Airflow home of its own, initialised with this landing folder: the asset of another
    # one, active there, would fail `discover` first (an inactive asset in its inlets).
    # Its retries after 1 s and 2-3 s, not 30 s and 60 s: the deployment sets the delay.
    settings = settings_under(tmp_path, HTX_LANDING_DIR=str(missing), HTX_RETRY_DELAY_SECONDS="1")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HTX_", "AIRFLOW"))},
        **settings.airflow_environ(),
        "AIRFLOW_CONN_HTX_ALERT_WEBHOOK": url,
    }
    bin_dir = os.path.dirname(sys.executable)
    init = subprocess.run(
        [os.path.join(bin_dir, "htx"), "init"], env=env, capture_output=True, text=True, timeout=300
    )
    assert init.returncode == 0, init.stderr[-3000:]
    done = subprocess.run(
        [os.path.join(bin_dir, "airflow"), "dags", "test", INGEST_DAG_ID],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    said = done.stdout + done.stderr
    assert done.returncode != 0, said[-3000:]
    told = f"cannot read the landing folder {missing} (HTX_LANDING_DIR): it does not exist."
    assert said.count(told) == 3  # tried three times: two retries, then failed
    # What the metadata DB keeps of the tries: each earlier try, failed, in the history, and
    # the task instance at its third and last.
    metadata = sqlite3.connect(settings.airflow_home / "airflow.db")
    try:
        last = metadata.execute(
            "select try_number, state from task_instance where dag_id = ? and task_id = ?",
            (INGEST_DAG_ID, "discover"),
        ).fetchall()
        earlier = metadata.execute(
            "select try_number, state from task_instance_history where dag_id = ? and "
            "task_id = ? order by try_number",
            (INGEST_DAG_ID, "discover"),
        ).fetchall()
    finally:
        metadata.close()
    assert last == [(3, "failed")]
    assert earlier == [(1, "failed"), (2, "failed")]
    assert [p["subject"] for p in posts] == [
        "[HTX] Lỗi pipeline: tác vụ discover thất bại / Pipeline failure: task discover failed"
    ]
    assert told in posts[0]["text"]
    # The run's failure callback reads the task states, as under a scheduler, and finds
    # the failed task alerted already.
    assert "could not be read" not in said
    assert "every failed task alerted already: ['discover']" in said
