"""
### HTX pipeline: district cooperative workbooks → DuckDB warehouse

Follows each workbook the district clerks send from the landing folder to the marts:

1. **discover**: lists the landing folder (`HTX_LANDING_DIR`, read only), hashes every
   file (SHA-256) and keeps an immutable raw copy of each new one under `HTX_STATE_DIR/raw`.
   Files already seen are skipped; a further copy of a seen file becomes a `duplicate`.
2. **stage** (one mapped task per batch of files): reads each workbook with
   python-calamine, identifies its unit and year, runs the Great Expectations suites of
   `expectations/` once per batch, and writes Parquet staging files. A file breaking an
   error rule is `quarantined` with every failing cell; the others go on.
3. **load**: records every outcome in the audit trail (a resubmission for the same unit
   and year supersedes the earlier file), then builds the star schema in the build area
   in one transaction. Nothing new → nothing is rebuilt.
   The checks across files and years (a code reported by two units, a tenfold revenue
   jump, a unit whose cooperative count moved by more than 30%, a missing year) run on
   the loaded star schema, as warnings.
4. **alert**: one alert per run that quarantined a file or raised warnings, sent through
   every configured channel (`smtp_default` with the variable `htx_alert_emails`,
   `htx_alert_webhook`) and recorded in `audit.quality_alert`. A failed task alerts too.
5. **marts**: computes the replication marts from the star schema.
6. **publish**: swaps the finished build in place of `HTX_WAREHOUSE` atomically, writes
   the Parquet/XLSX exports and the HTML quality report to `HTX_EXPORT_DIR`.

Every task that writes DuckDB runs in the one-slot pool `htx_duckdb_writer`.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import dag, get_current_context, task

from etl.config import DAG_ID, WRITER_POOL


def _on_failure(context):
    """Task failure callback: the notifier is built only when a task fails."""
    from etl.notify import FailureNotifier

    FailureNotifier().notify(context)


_RETRIES = {
    "retries": 2,
    "retry_delay": dt.timedelta(seconds=30),
    "retry_exponential_backoff": True,
}


@dag(
    dag_id=DAG_ID,
    schedule=None,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["htx", "warehouse"],
    default_args={"on_failure_callback": _on_failure},
)
def htx_pipeline():
    @task(
        pool=WRITER_POOL,
        show_return_value_in_logs=False,
        doc_md="List the landing folder; keep raw copies of new files.",
    )
    def discover() -> list[list[dict]]:
        from etl.config import load_settings
        from etl.pipeline import batches, discover_files

        settings = load_settings()
        return batches(discover_files(settings), settings.batch_size)

    @task(doc_md="Read, validate (GX) and stage one batch of files.", **_RETRIES)
    def stage(batch: list[dict]) -> list[dict]:
        from etl.config import load_settings
        from etl.pipeline import stage as stage_files

        return stage_files(load_settings(), batch, get_current_context()["run_id"])

    @task(
        pool=WRITER_POOL,
        trigger_rule="none_failed",  # runs when no file is new: the stage task is skipped
        doc_md="Record outcomes; load the star schema in the build area.",
    )
    def load(staged: list[list[dict]]) -> dict:
        from etl.config import load_settings
        from etl.pipeline import load as load_files

        summaries = [item for batch in staged for item in batch]
        return load_files(load_settings(), summaries, get_current_context()["run_id"])

    @task(pool=WRITER_POOL, doc_md="Deliver the run's alert through every configured channel.")
    def alert(loaded: dict) -> dict:
        from etl.config import load_settings
        from etl.pipeline import alert as deliver_alerts

        return deliver_alerts(load_settings(), loaded, get_current_context())

    @task(pool=WRITER_POOL, doc_md="Build the marts in the build area.")
    def marts(loaded: dict) -> dict:
        from etl.config import load_settings
        from etl.pipeline import marts as build_marts

        return build_marts(load_settings(), loaded)

    @task(pool=WRITER_POOL, doc_md="Swap the build in; write exports and the quality report.")
    def publish(built: dict) -> dict:
        from etl.config import load_settings
        from etl.pipeline import publish as publish_build

        return publish_build(load_settings(), built)

    staged = stage.expand(batch=discover())
    publish(marts(alert(load(staged))))


htx_pipeline()
