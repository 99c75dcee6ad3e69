"""
### HTX ingest: district workbooks → the star schema, waiting to be published

Picks up the workbooks district clerks drop in the landing folder and loads them:

1. **discover**: lists the landing folder (`HTX_LANDING_DIR`, read only), hashes every
   file (SHA-256) and keeps an immutable raw copy of each new one under
   `HTX_STATE_DIR/raw`. Files already seen are skipped by hash before they are opened;
   a further copy of a seen file becomes a `duplicate`. A landing folder that does not
   exist, is a file or cannot be read (a mistyped path, a share not mounted, a folder
   closed to the pipeline's user) fails the task, and so alerts; an empty one is a run
   with nothing new.
2. **stage** (one mapped task per batch of `HTX_BATCH_SIZE` files, in parallel; 400 under
   a scheduler unless set, the whole landing under `htx run`): reads each workbook with
   python-calamine, identifies its unit and year, runs the Great Expectations suites of
   `expectations/` once per part of up to 700 files and writes Parquet staging
   files. A file breaking an error rule is `quarantined` with every failing cell; the
   others go on. With nothing new, one task stages an empty batch (a mapped task over
   nothing would be skipped, and `load` would wait for Airflow's next pass).
3. **load**: records every outcome in the audit trail (a resubmission for the same unit
   and year supersedes the earlier file), then builds the star schema in the build area
   in one transaction and runs the checks across files and years. It emits the asset
   `htx_star_schema`, which starts **htx_publish**. When nothing is new, `load` is
   *skipped*: nothing is built, no asset event, the publish DAG does not run.

**Params** (Trigger DAG w/ config):
`year` and `unit_code` narrow the run to one report year and/or unit (a former district code
such as `663` up to 2025, a province such as `68`, or from 2026 a commune code of the units in
force since 01/07/2025 such as `24611`); new files of other years and units
wait for the next run. `force` also reprocesses files already recorded (those of that year
and unit), from their raw copies: after a rule or reference-data change. A key that is not
one of these Params fails the run at `discover`, before anything is done.

Every task that writes DuckDB runs in the one-slot pool `htx_duckdb_writer`; one run at a
time (`max_active_runs=1`). A failed task alerts through the configured channels.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from airflow.sdk import (
    CronDataIntervalTimetable,
    CronTriggerTimetable,
    Param,
    dag,
    get_current_context,
    task,
)
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from etl.config import INGEST_DAG_ID, WRITER_POOL, YEARLY_DAG_ID, load_settings
from etl.flow.dagkit import ONE_XCOM, START, assets, dag_callbacks, default_args, retries

_SETTINGS = load_settings()  # this deployment's HTX_* variables, read once a parse
ASSETS = assets(_SETTINGS)  # file:// URIs of its HTX_* paths
RETRIES = retries(_SETTINGS)  # its HTX_RETRY_DELAY_SECONDS: `dagkit.retries`

_UNIT = Param(
    None,
    type=["null", "string"],
    # Empty, as a form or a REST call may send a cleared field: every unit, as null.
    pattern="^(?:[0-9]{2,3}|[0-9]{5})?$",
    title="Unit code",
    description="Only this unit's workbooks: GSO code of a province (68), a former district "
    "(663, report years up to 2025) or a commune in force since 01/07/2025 (24611, from "
    "2026). Empty: every unit.",
)
_FORCE = Param(
    False,
    type="boolean",
    title="Reprocess files already seen",
    description="Also re-read, re-validate and reload files already recorded.",
)
_YEAR = Param(
    None,
    type=["null", "integer"],
    minimum=2021,
    maximum=2030,
    title="Report year",
    description="Only workbooks reporting on this year. Empty: every year.",
)

_YEARLY_DOC = """
### HTX ingest by report year: the DAG to backfill

The same tasks as **htx_ingest**, one run per report year: the run's logical date names the
year. A scheduled or backfill run's data interval is that year (`2023-01-01` → `2024-01-01`
is report year 2023); a manual run is for the year of the logical date it is given
(`2023-01-01`: 2023). A scheduled run at the start of a year takes what is still arriving
for the year just ended. To (re)build history:

    airflow backfill create --dag-id htx_ingest_yearly \\
        --from-date 2021-01-01 --to-date 2025-12-31 --max-active-runs 1 \\
        --reprocess-behavior completed --dag-run-conf '{"force": true}'

Each run takes that year's workbooks (with `force`, also those already recorded); the
warehouse it leaves is the one a single run over every file makes, and running the
backfill again changes nothing. Params: `unit_code`, `force` (see htx_ingest).
"""


_LOCAL_TIME = "Asia/Ho_Chi_Minh"  # the province's: the hourly schedule, a run's report year


def _ingest(dag_id: str, schedule, params: dict, doc_md: str, year_of_interval: bool):
    declared = set(params)  # any other key in a run's conf is refused (`discover`)

    @dag(
        dag_id=dag_id,
        schedule=schedule,
        start_date=START,
        catchup=False,
        max_active_runs=1,
        params=params,
        doc_md=doc_md,
        tags=["htx", "ingest"],
        default_args=default_args(),
        **dag_callbacks(),
    )
    def ingest():
        @task(
            pool=WRITER_POOL,
            inlets=[ASSETS.landing],
            show_return_value_in_logs=False,
            doc_md="List the landing folder, keep raw copies of new files, choose the files "
            "this run processes (Params), and split them into batches for `stage`.",
            **RETRIES,
        )
        def discover() -> list[list[dict]]:
            from etl.config import load_settings
            from etl.flow.tasks import Selection, batches, discover_files, refuse_unknown_params

            context = get_current_context()
            refuse_unknown_params(dag_id, context["dag_run"].conf, declared)
            params = dict(context["params"])
            if year_of_interval:
                # The logical date names the report year. A scheduled or backfill run's is
                # the start of its data interval (2023-01-01 → 2024-01-01: 2023). A manual
                # run's data interval is not its year: Airflow infers the year before its
                # logical date (UI, REST API, `airflow dags test`), or the last year complete
                # when it was triggered (`airflow dags trigger --logical-date`). Its year is
                # read in the province's time: `2023-01-01T00:00+07:00`, as an operator in
                # Đắk Nông may give it, is 2023 (in UTC it is still 2022), and the schedule's
                # midnight UTC is 07:00 there, the same year.
                logical = context["dag_run"].logical_date
                if logical is None:
                    raise AirflowFailException(
                        f"{dag_id} takes its report year from the run's logical date; this "
                        "run has none. Trigger it with a logical date (e.g. 2023-01-01 for "
                        "2023) or backfill it; for an ad-hoc run use htx_ingest with `year`."
                    )
                params["year"] = logical.astimezone(ZoneInfo(_LOCAL_TIME)).year
            settings = load_settings()
            files = discover_files(settings, Selection.from_params(params))
            return batches(files, settings.stage_batch_size)

        @task(
            inlets=[ASSETS.landing],
            show_return_value_in_logs=False,
            doc_md="Read, identify, validate (GX, once for the batch) and stage one batch.",
            **RETRIES,
        )
        def stage(batch: list[dict]) -> list[dict]:
            from etl.config import load_settings
            from etl.flow.tasks import stage as stage_files

            return stage_files(load_settings(), batch, get_current_context()["run_id"])

        @task(
            pool=WRITER_POOL,
            inlets=[ASSETS.staging],
            outlets=[ASSETS.star_schema],
            # `stage` is never skipped (`batches` gives one empty batch when nothing is
            # new); a skipped upstream must still never skip `load`.
            trigger_rule="none_failed",
            doc_md="Record the outcomes, build the star schema in the build area, emit "
            "`htx_star_schema`. Skipped when nothing changed.",
            **ONE_XCOM,
        )
        def load(staged: list[list[dict]]) -> dict:
            from etl.config import load_settings
            from etl.flow.tasks import load as load_files

            # The batches' outcomes in one request (a slice), not one a batch: iterating
            # the mapped results asks for the item past the last, which Airflow's client
            # logs as an error ("XCom not found") in every run.
            summaries = [item for batch in staged[:] for item in batch]
            loaded = load_files(load_settings(), summaries, get_current_context()["run_id"])
            if not loaded["changed"]:
                raise AirflowSkipException(
                    f"nothing new ({len(summaries)} file(s) processed): nothing to publish"
                )
            return loaded

        load(stage.expand(batch=discover()))

    return ingest()


htx_ingest = _ingest(
    INGEST_DAG_ID,
    CronTriggerTimetable("@hourly", timezone=_LOCAL_TIME),
    {"year": _YEAR, "unit_code": _UNIT, "force": _FORCE},
    __doc__,
    year_of_interval=False,
)
htx_ingest_yearly = _ingest(
    YEARLY_DAG_ID,
    CronDataIntervalTimetable("@yearly", timezone="UTC"),  # report years: calendar years
    {"unit_code": _UNIT, "force": _FORCE},
    _YEARLY_DOC,
    year_of_interval=True,
)
