"""
### HTX publish: the loaded star schema → the warehouse analysts query

Runs whenever an ingest DAG emits the asset `htx_star_schema` (a new build is waiting),
never on the clock:

1. **alert**: delivers every quality alert not yet sent (files quarantined, warnings across
   files and years) through each configured channel: `smtp_default` with the Airflow
   variable `htx_alert_emails`, and `htx_alert_webhook`. Deliveries are recorded in
   `audit.quality_alert`.
2. **publish**: builds the replication marts in the waiting build, runs the integrity
   checks of `sql/integrity/`, and swaps the build in place of `HTX_WAREHOUSE`
   atomically. Readers see the old warehouse or the new one, never half of one. Emits
   the asset `htx_warehouse`.
3. **exports**: writes the Parquet and XLSX exports, the HTML report, the quality report
   and the clerks' annotated feedback workbooks to `HTX_EXPORT_DIR`.

Every task runs in the one-slot pool `htx_duckdb_writer`; one run at a time.
"""

from __future__ import annotations

from airflow.sdk import dag, get_current_context, task

from etl.config import PUBLISH_DAG_ID, WRITER_POOL, load_settings
from etl.flow.dagkit import ONE_XCOM, START, assets, dag_callbacks, default_args, retries

_SETTINGS = load_settings()  # this deployment's HTX_* variables, read once a parse
ASSETS = assets(_SETTINGS)  # file:// URIs of its HTX_* paths
RETRIES = retries(_SETTINGS)  # its HTX_RETRY_DELAY_SECONDS: `dagkit.retries`


@dag(
    dag_id=PUBLISH_DAG_ID,
    schedule=[ASSETS.star_schema],
    start_date=START,
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["htx", "publish"],
    default_args=default_args(),
    **dag_callbacks(),
)
def htx_publish():
    @task(
        pool=WRITER_POOL,
        doc_md="Deliver waiting quality alerts on every channel.",
        **RETRIES,
        **ONE_XCOM,
    )
    def alert() -> dict:
        from etl.config import load_settings
        from etl.flow.tasks import alert as deliver_alerts

        return deliver_alerts(load_settings(), get_current_context())

    @task(
        pool=WRITER_POOL,
        inlets=[ASSETS.star_schema],
        outlets=[ASSETS.warehouse],
        doc_md="Build the marts, check the build, swap it in atomically.",
        **ONE_XCOM,
    )
    def publish() -> dict:
        from etl.config import load_settings
        from etl.flow.tasks import publish_build

        return publish_build(load_settings())

    @task(
        pool=WRITER_POOL,
        inlets=[ASSETS.warehouse],
        doc_md="Write exports, reports and feedback workbooks.",
        **RETRIES,
        **ONE_XCOM,
    )
    def exports(published: dict) -> dict:
        from etl.config import load_settings
        from etl.flow.tasks import write_exports

        return write_exports(load_settings(), published)

    published = publish()
    alert() >> published
    exports(published)


htx_publish()
