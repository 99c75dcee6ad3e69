"""What the DAG files share: failure alerts, retry policy, assets (`file://` URIs), run logging.

Imported at DAG parse time, so it imports nothing heavy: only the Airflow SDK and config.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from airflow.sdk import Asset

from etl.config import (
    LANDING_ASSET,
    STAGING_ASSET,
    STAR_SCHEMA_ASSET,
    WAREHOUSE_ASSET,
    Settings,
    load_settings,
)

# The file the build area's star schema is loaded into (etl.warehouse.build.build_path, which
# is not imported here: it pulls in the warehouse code at parse time; a test checks both agree).
BUILD_FILE = "htx.duckdb"


# Every printable ASCII character, the space included: kept as written in an asset's URI.
_URI_AS_WRITTEN = "".join(chr(c) for c in range(0x20, 0x7F))


def file_asset(name: str, path: Path) -> Asset:
    """An asset named `name` whose URI is `file://` and the absolute path, as written: common-io's
    converter makes it the OpenLineage dataset (namespace `file`, name the path) lineage tools
    know. The HTX_* paths are absolute and the same on every worker and the scheduler
    (docs/deploy.md), so every process names the same asset.

    Only what is not printable ASCII is percent-encoded (as UTF-8): Airflow's metadata DB
    refuses an asset URI that is not ASCII ("URI must be ascii"), so a folder named in
    Vietnamese (`/srv/Báo cáo/landing`) failed every DAG sync: `htx run`, the DAG processor.
    """
    return Asset(name=name, uri="file://" + quote(os.path.normpath(path), safe=_URI_AS_WRITTEN))


@dataclass(frozen=True)
class Assets:
    """The DAGs' assets, with URIs from the settings of the process parsing the DAGs."""

    landing: Asset  # HTX_LANDING_DIR: the workbooks clerks drop (inlet: lineage only)
    staging: Asset  # HTX_STATE_DIR/staging: the staged files `load` reads (inlet only)
    # The star schema loaded in the build area, waiting to be published: emitted by the
    # ingest DAGs' `load`, the publish DAG's schedule.
    star_schema: Asset
    warehouse: Asset  # HTX_WAREHOUSE, published: emitted by the publish DAG's `publish`


def assets(settings: Settings | None = None) -> Assets:
    """The assets, from `load_settings()` unless given: cheap (no heavy import), called by
    each DAG file when it is parsed, so a change of HTX_* paths is seen at the next parse."""
    settings = settings or load_settings()
    return Assets(
        landing=file_asset(LANDING_ASSET, settings.landing_dir),
        staging=file_asset(STAGING_ASSET, settings.staging_dir),
        star_schema=file_asset(STAR_SCHEMA_ASSET, settings.build_dir / BUILD_FILE),
        warehouse=file_asset(WAREHOUSE_ASSET, settings.warehouse),
    )


# A task that returns a dict pushes it as one XCom. TaskFlow infers `multiple_outputs` from
# the annotation `-> dict` and would push each key as an XCom of its own as well: nothing
# reads those, and each is a request to Airflow's API (14 in a run with one new file).
ONE_XCOM = {"multiple_outputs": False}


def retries(settings: Settings | None = None) -> dict[str, object]:
    """The retries of tasks that touch shared storage, the network or a busy database: two,
    the first HTX_RETRY_DELAY_SECONDS (30 s) after the failure, the second twice that, each
    up to as much again (Airflow's jitter, by task, run and try), and never past the longer
    of 5 minutes and twice the first delay. Tasks whose failure would only repeat itself (a
    broken build) have none. From `load_settings()` unless given, like `assets`.

    The backoff is a multiplier since Airflow 3.3: the scheduler reads `True` as 2, the
    task object keeps `True`; the number says what is meant to both."""
    settings = settings or load_settings()
    delay = settings.retry_delay_seconds
    return {
        "retries": 2,
        "retry_delay": dt.timedelta(seconds=delay),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": dt.timedelta(seconds=max(300, 2 * delay)),
    }


START = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)  # the first report year of Decision 167


def on_failure(context) -> None:
    """Task failure callback: the notifier is built only when a task fails."""
    from etl.quality.notify import FailureNotifier

    FailureNotifier().notify(context)


def on_run_failure(context) -> None:
    """DAG failure callback: an alert for a failed run whose failed tasks sent none (a task
    killed with SIGKILL gets no task callback), run by Airflow in the DAG processor."""
    from etl.quality.notify import RunFailureNotifier

    RunFailureNotifier().notify(context)


def default_args() -> dict:
    return {"on_failure_callback": on_failure, "owner": "htx-data"}


def dag_callbacks() -> dict:
    """The DAG's own callbacks (`@dag(**dag_callbacks())`): a failed run always alerts."""
    return {"on_failure_callback": on_run_failure}
