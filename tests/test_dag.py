"""The DAG file: parses in Airflow's DagBag without errors, and imports nothing heavy."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from etl.config import DAG_ID, DAGS_DIR, WRITER_POOL

_PROBE = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
before = set(sys.modules)
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags[sys.argv[2]]
heavy = sorted(m for m in ("pandas", "great_expectations", "duckdb", "python_calamine", "pyarrow")
               if m in sys.modules and m not in before)
print(json.dumps({
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "heavy": heavy,
    "tasks": sorted(t.task_id for t in dag.tasks),
    "max_active_runs": dag.max_active_runs,
    "pools": {t.task_id: t.pool for t in dag.tasks},
    "doc": bool(dag.doc_md),
}))
"""


def _probe(tmp_path) -> dict:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
    }
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(DAGS_DIR), DAG_ID],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_dag_parses_without_heavy_top_level_imports(tmp_path):
    found = _probe(tmp_path)
    assert found["errors"] == {}
    assert found["heavy"] == [], "the DAG file must import pandas, GX and duckdb inside tasks"
    assert found["tasks"] == ["alert", "discover", "load", "marts", "publish", "stage"]
    assert found["max_active_runs"] == 1
    assert found["doc"]


def test_every_task_that_writes_duckdb_uses_the_writer_pool(tmp_path):
    pools = _probe(tmp_path)["pools"]
    assert {t for t, p in pools.items() if p == WRITER_POOL} == {
        "alert",
        "discover",
        "load",
        "marts",
        "publish",
    }
    assert pools["stage"] != WRITER_POOL  # staging writes Parquet only, in parallel
