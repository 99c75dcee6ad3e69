"""What the DAG files share: failure alerts, retry policy, assets, run logging.

Imported at DAG parse time, so it imports nothing heavy: only the Airflow SDK and config.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Asset

from etl.config import STAR_SCHEMA_ASSET, WAREHOUSE_ASSET

# The loaded star schema waiting in the build area (emitted by the ingest DAGs' `load`), and
# the published warehouse (emitted by the publish DAG's `publish`).
STAR_SCHEMA = Asset(name=STAR_SCHEMA_ASSET[0], uri=STAR_SCHEMA_ASSET[1])
WAREHOUSE = Asset(name=WAREHOUSE_ASSET[0], uri=WAREHOUSE_ASSET[1])

# Tasks that touch shared storage, the network or a busy database retry with backoff:
# 30 s, then 60 s. Tasks whose failure would only repeat itself (a broken build) do not.
RETRIES = {
    "retries": 2,
    "retry_delay": dt.timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=5),
}

START = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)  # the first report year of Decision 167


def on_failure(context) -> None:
    """Task failure callback: the notifier is built only when a task fails."""
    from etl.quality.notify import FailureNotifier

    FailureNotifier().notify(context)


def default_args() -> dict:
    return {"on_failure_callback": on_failure, "owner": "htx-data"}
