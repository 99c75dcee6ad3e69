"""
### HTX deadlines: who has not reported, checked every day

Runs daily (00:00 UTC, 07:00 in Asia/Ho_Chi_Minh), never rebuilds the warehouse:

1. **check**: judges every required report of `config/reporting.toml` (Đắk Nông's 8
   districts up to 2024, province 68 from 2025; due 20 January of the next year) at the
   run's logical date (a manual run without one: the time it was made) in Asia/Ho_Chi_Minh
   time, from the ledger, as `marts.reporting_status` does. A report past its due date with
   nothing loaded (`missing`, or only `quarantined` files) raises ONE alert per unit and
   report year in `audit.quality_alert` (a second run raises none); only due dates within
   `[alert] window_days` (60) before the logical date alert, so history never floods anyone.
   A late report is `late` and raises no alert.
2. **alert**: delivers the waiting alerts through the configured channels.

Both tasks run in the one-slot pool `htx_duckdb_writer`; one run at a time.
"""

from __future__ import annotations

from airflow.sdk import dag, get_current_context, task

from etl.config import WRITER_POOL
from etl.flow.dagkit import ONE_XCOM, START, dag_callbacks, default_args, retries

RETRIES = retries()  # this deployment's (HTX_RETRY_DELAY_SECONDS): `dagkit.retries`

DEADLINES_DAG_ID = "htx_deadlines"


@dag(
    dag_id=DEADLINES_DAG_ID,
    schedule="@daily",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["htx", "deadlines"],
    default_args=default_args(),
    **dag_callbacks(),
)
def htx_deadlines():
    @task(
        pool=WRITER_POOL,
        doc_md="Judge the required reports at the logical date.",
        **RETRIES,
        **ONE_XCOM,
    )
    def check() -> dict:
        from etl.config import load_settings
        from etl.flow.tasks import check_deadlines

        context = get_current_context()
        # A manual run Airflow 3 made without a logical date (REST API, UI) has none in its
        # context: it is judged at the time it was made, which a re-run keeps.
        judged = context.get("logical_date") or context["dag_run"].run_after
        return check_deadlines(load_settings(), judged, context["run_id"])

    @task(
        pool=WRITER_POOL,
        doc_md="Deliver waiting alerts on every channel.",
        **RETRIES,
        **ONE_XCOM,
    )
    def alert() -> dict:
        from etl.config import load_settings
        from etl.flow.tasks import alert as deliver_alerts

        return deliver_alerts(load_settings(), get_current_context())

    check() >> alert()


htx_deadlines()
