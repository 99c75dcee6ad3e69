"""The pipeline's steps as plain functions, one per Airflow task, testable without Airflow.

Ingest: landing → raw copy (`discover_files`) → read, validate, stage (`stage`) → record and
load the star schema into the build area (`load`).
Publish: deliver alerts (`alert`) → marts, integrity checks and the atomic swap
(`publish_build`) → exports and reports (`write_exports`).

Steps pass only small JSON-able values; the data moves through files under the state dir.
Run as an Airflow task, a step records its own wall time (`timings.task_work`): the benchmark
tells the work from what Airflow spends around it.
Every step that writes DuckDB holds `state/writer.lock` while it does: the Airflow pool keeps
one writer per Airflow deployment, the lock also keeps out `htx run` and a second deployment
pointed at the same state directory by mistake.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from etl.config import Settings
from etl.flow import timings
from etl.forks import quiet_gc
from etl.phases import phase
from etl.read.discover import LandedFile, discover
from etl.warehouse import ledger
from etl.warehouse.locking import writer

if TYPE_CHECKING:
    from airflow.sdk import Context

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Selection:
    """What a run takes on: the DAG run's Params.

    New landing files are always taken unless `year` or `unit_code` narrows the run, in which
    case the new files of other years or units are left for the next run. `force` also
    reprocesses files already recorded (of that year and unit, when given), from their raw
    copies: after a rule or reference change, or to re-run one district.
    """

    year: int | None = None
    unit_code: str | None = None
    force: bool = False

    @classmethod
    def from_params(cls, params: dict | None) -> Selection:
        params = params or {}
        year = params.get("year")
        unit = params.get("unit_code")
        return cls(
            year=int(year) if year not in (None, "") else None,
            unit_code=str(unit).strip() if unit not in (None, "") else None,
            force=bool(params.get("force", False)),
        )

    @property
    def narrowed(self) -> bool:
        return self.year is not None or self.unit_code is not None

    def __str__(self) -> str:
        parts = [
            f"year={self.year or 'any'}",
            f"unit={self.unit_code or 'any'}",
            f"force={str(self.force).lower()}",
        ]
        return " ".join(parts)


def refuse_unknown_params(dag_id: str, conf: dict | None, declared: set[str]) -> None:
    """Fail the run, without retries, when its conf names a Param the DAG does not declare.

    Airflow validates the declared Params but passes any other key through unnoticed, so a
    misspelt name (`{"unit": "663", "force": true}`, `{"yaer": 2023}`) was ignored and the
    run widened: every unit's files reprocessed instead of one's. `htx_ingest_yearly` takes
    its year from the run's logical date, so a `year` there is refused too."""
    from airflow.sdk.exceptions import AirflowFailException

    unknown = sorted(set(conf or {}) - declared)
    if not unknown:
        return
    hint = (
        "; its report year is the year of the run's logical date (trigger it with one, or "
        "backfill it), or use htx_ingest with `year`"
        if "year" in unknown and "year" not in declared
        else ""
    )
    raise AirflowFailException(
        f"{dag_id} does not take the Param(s) {', '.join(map(repr, unknown))}: it takes "
        f"{', '.join(sorted(declared))}{hint}. Nothing was done; trigger it again with "
        "those names."
    )


def _writer(settings: Settings):
    return writer(settings.state_dir)


@timings.task_work
def discover_files(settings: Settings, selection: Selection | None = None) -> list[dict]:
    """The files this run processes, with their raw copies, as dicts for XCom.

    Besides new files (and, forced, the selection's recorded ones), every recorded file an
    older reader or older rules staged is staged again, whatever the selection: a warehouse
    built from rows of two releases would be neither's.
    """
    from etl.warehouse.stamp import staging_stamp

    selection = selection or Selection()
    with _writer(settings):
        con = ledger.connect(settings.ledger)
        try:
            seen, first_ids = ledger.sightings(con)
            again = (
                ledger.recorded_files(con, selection.year, selection.unit_code)
                if selection.force
                else []
            )
            stale = ledger.stale_files(con, staging_stamp(settings.limits))
        finally:
            con.close()
        found = discover(settings.landing_dir, settings.raw_dir, seen, first_ids)
    new = [f.as_dict() for f in found]
    if selection.narrowed:
        new, left = _within(new, selection, settings)
        if left:
            log.info(
                "%d new file(s) outside %s are left for the next run: %s",
                len(left),
                selection,
                ", ".join(f["file_name"] for f in left[:20]) + (" …" if len(left) > 20 else ""),
            )
    new_ids = {f["file_id"] for f in new}
    again = [f for f in again if f["file_id"] not in new_ids]
    taken = new_ids | {f["file_id"] for f in again}
    restage = [f for f in stale if f["file_id"] not in taken]
    log.info(
        "discover (%s): %d new file(s), %d recorded file(s) to reprocess",
        selection,
        len(new),
        len(again),
    )
    if restage:
        log.info(
            "%d recorded file(s) were staged by an older reader or older rules: "
            "staged again from their raw copies",
            len(restage),
        )
        for f in restage:
            log.info(
                "restaging %s (file_id %d): staged by older rules", f["file_name"], f["file_id"]
            )
    return new + again + restage


def _within(
    files: list[dict], selection: Selection, settings: Settings
) -> tuple[list[dict], list[dict]]:
    """Split new files into those of the selected year and unit and the rest.

    A narrowed run must know a new file's unit and year before staging it, so it reads the
    file's ThongTin sheet (or its name) here; an unidentifiable file is left for an ordinary
    run, which quarantines it with its reason.
    """
    from etl.contract.reference import load_reference
    from etl.read.identify import Identity, identify_read
    from etl.read.reader import read_workbook

    ref = load_reference()
    inside: list[dict] = []
    outside: list[dict] = []
    for f in files:
        read = read_workbook(Path(f["raw_path"]), settings.limits)
        who = None if read.rejection else identify_read(read, Path(f["file_name"]).name, ref)
        fits = (
            isinstance(who, Identity)
            and selection.year in (None, who.report_year)
            and selection.unit_code in (None, who.unit.code)
        )
        (inside if fits else outside).append(f)
    return inside, outside


def batches(files: list[dict], size: int) -> list[list[dict]]:
    """Files split into batches of `size`, in landing order; one empty batch when there is
    no file. `stage` then runs once and stages nothing: a mapped task over no batch at all
    is skipped, and Airflow leaves `load` for its next pass over the run, a second's wait
    in `dag.test` (`htx run`) in every run with nothing new."""
    return [files[i : i + size] for i in range(0, len(files), size)] or [[]]


def stage(settings: Settings, batch: list[dict], run_id: str) -> list[dict]:
    if not batch:  # nothing new (`batches`)
        log.info("staged 0 file(s): nothing new")
        return []
    quiet_gc(freeze=False)  # collections every 50,000 objects, not 700
    from etl.warehouse.staging import stage_batch

    staged = stage_batch(
        [LandedFile(**f) for f in batch],
        settings.staging_dir,
        run_id,
        settings.limits,
        processes=settings.task_processes,
        timings_dir=timings.folder(settings.state_dir),
    )
    counts = Counter(s["status"] for s in staged)
    log.info(
        "staged %d file(s): %s",
        len(staged),
        ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none",
    )
    return staged


@timings.task_work
def load(settings: Settings, summaries: list[dict], run_id: str) -> dict:
    """Record this run's outcomes, build the star schema if anything changed, run the checks
    across files and years on it, and raise the run's alert (delivered by `alert`).

    `changed` is False when the published warehouse is already what these files make: then
    nothing is built and nothing needs publishing. A finished build that is still waiting to
    be published is not built again, but `changed` is True: it still needs publishing; so
    is a published warehouse whose exports failed: the publish DAG writes them.

    The files a load that died recorded before its alert (`_loading`) count as this run's:
    their checks across files, alert and feedback are made now.
    """
    quiet_gc(freeze=False)  # collections every 50,000 objects, not 700
    from etl.quality import deadlines
    from etl.quality.validate import cross_rules
    from etl.warehouse.build import (
        build_fingerprint,
        build_path,
        fingerprint,
        published_fingerprint,
        remove_build,
    )
    from etl.warehouse.staging import read_outcome

    with _writer(settings):
        staging = settings.staging_dir
        outcomes = [read_outcome(staging, s["file_id"]) for s in summaries]
        read = {o["file_id"]: o for o in outcomes}  # the build's store reads these no more
        with phase("outcomes recorded in the ledger"):
            con = ledger.connect(settings.ledger)
            try:
                _record_held_alerts(con, settings)  # failure alerts a callback could not record
                dead = _dead_load(settings, con)
                states = ledger.states(con, [o["file_id"] for o in outcomes]) if outcomes else {}
                if outcomes or dead:
                    _write_loading(settings, run_id, outcomes, states, dead)
                else:
                    _loading(settings).unlink(missing_ok=True)  # none, or its alert was recorded
                if outcomes:
                    before = {file_id: stamp for file_id, (stamp, _) in states.items()}
                    changes = ledger.record(con, outcomes, keep_rules=cross_rules())
                    outcomes = _worth_alerting(outcomes, before, changes)
                # What a load that died recorded without its checks across files and its alert:
                # this run's, as if staged by it.
                left, worth = _left_by_dead_load(con, staging, dead, set(read))
                read.update(left)
                outcomes += worth
                loaded = ledger.loaded_files(con)
                wanted = fingerprint(con, loaded)
                current = wanted == published_fingerprint(settings.warehouse)
                # Nothing new, but a due date passed since the mart was judged, or an alert
                # (a task's failure) is not in the published audit.quality_alert: build again.
                # Not for the alert while the last exports failed: the publish run retries
                # them alone (exports that keep failing would otherwise rebuild every run);
                # the first run after they succeed publishes the alerts.
                rejudge = current and (
                    deadlines.rejudged(con, settings.warehouse, deadlines.judging_date())
                    or (not settings.exports_failed.exists() and _alerts_to_publish(con, settings))
                )
            finally:
                con.close()
        waiting = build_fingerprint(settings)
        if current and not rejudge:
            if build_path(settings).exists():
                # Built from another state (e.g. a publish cleared by hand): never publish it.
                log.info("removing a stale build that is not what the files make now")
                remove_build(settings)
            _loading(settings).unlink(missing_ok=True)  # nothing to build: nothing to alert
            if settings.exports_failed.exists():
                # The last publish swapped its warehouse in, but its exports failed: the
                # publish run writes them now.
                log.warning("the exports of the last publish failed: the publish DAG writes them")
                return {"changed": True, "files": len(outcomes), "rows": {}}
            log.info("nothing new: the published warehouse is up to date (%d file(s))", len(loaded))
            return {"changed": False, "files": len(outcomes)}
        if wanted == waiting:
            # Built, not yet published: a publish run is waiting, or was killed before its
            # swap. Ask again; a publish run that finds no build left has nothing to do.
            _loading(settings).unlink(missing_ok=True)  # its load raised the alert
            log.info("the build waiting to be published is up to date: publish it")
            return {"changed": True, "files": len(outcomes), "rows": {}}
        run_files = sorted({s["file_id"] for s in summaries} | set(left))
        counts = _build(settings, loaded, wanted, run_id, outcomes, run_files, read)
    log.info(
        "loaded %d file(s) into the build: %s",
        len(loaded),
        ", ".join(f"{table} {n:,}" for table, n in counts.items()),
    )
    return {"changed": True, "files": len(outcomes), "rows": counts}


def _record_held_alerts(con, settings: Settings) -> None:
    from etl.quality import alerts

    alerts.record_held(con, settings.state_dir)


def _alerts_to_publish(con, settings: Settings) -> bool:
    from etl.quality import alerts

    missing = alerts.unpublished(con, settings.warehouse)
    if missing:
        log.info(
            "%d alert(s) recorded since the last publish (%s): the warehouse is built again "
            "to hold them",
            len(missing),
            ", ".join(missing[:3]) + (", …" if len(missing) > 3 else ""),
        )
    return bool(missing)


def _loading(settings: Settings) -> Path:
    """The files a load is recording, written before the ledger records them and removed
    once the run's alert is recorded (`_build`) or the load ends with nothing to build: left
    behind, the load died in between (each load holds `state/writer.lock`, so none is
    running), and the next load makes the checks across files and the alert of those files
    (`_left_by_dead_load`). JSON: the run's id, the files in their order, and the stamp and
    status each file was recorded with before (absent: a new file)."""
    return settings.state_dir / "loading.json"


def _dead_load(settings: Settings, con) -> dict:
    """What a load that died left in `_loading`, if anything; nothing when it recorded its
    alert (one of its run naming files) and only the steps after it were lost."""
    import json

    try:
        dead = json.loads(_loading(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(dead, dict) or not dead.get("files"):
        return {}
    from etl.quality import alerts

    bodies = con.execute(
        "select body from audit.quality_alert where run_id = ?", [dead.get("run_id")]
    ).fetchall()
    if any(alerts.file_ids(body) for (body,) in bodies):
        return {}
    return dead


def _write_loading(
    settings: Settings,
    run_id: str,
    outcomes: list[dict],
    states: dict[int, tuple[str | None, str]],
    dead: dict,
) -> None:
    """`_loading` for this run's outcomes, with the files a load that died left, if any
    (their earlier state as that load found it): this load may die too."""
    import json
    import os

    before = dict(dead.get("before") or {})
    for file_id, state in states.items():
        before.setdefault(str(file_id), list(state))
    files = list(dict.fromkeys([*dead.get("files", []), *(o["file_id"] for o in outcomes)]))
    path = _loading(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(
        json.dumps({"run_id": run_id, "files": files, "before": before}), encoding="utf-8"
    )
    os.replace(temporary, path)


def _left_by_dead_load(
    con, staging: Path, dead: dict, taken: set[int]
) -> tuple[dict[int, dict], list[dict]]:
    """The files a load that died recorded (`_dead_load`) and this run did not stage again:
    their staged outcomes by file_id, and those its alert speaks of (`_worth_alerting`, by
    the stamp and status they had before that load). A file the ledger does not hold was
    not recorded: it is found again as new."""
    from etl.warehouse.staging import read_outcome

    files = [int(f) for f in dead.get("files", []) if int(f) not in taken]
    if not files:
        return {}, []
    now = ledger.states(con, files)
    before = dead.get("before") or {}
    left: dict[int, dict] = {}
    worth: list[dict] = []
    for file_id in files:
        if file_id not in now:
            continue
        try:
            outcome = read_outcome(staging, file_id)
        except (OSError, ValueError):
            continue
        left[file_id] = outcome
        was = before.get(str(file_id))
        if was is None or was[0] == outcome.get("staged_by") or was[1] != now[file_id][1]:
            worth.append(outcome)
    if left:
        log.warning(
            "%d file(s) a load that ended early recorded without their checks across files "
            "and alert (run %s): checked and alerted with this run's",
            len(left),
            dead.get("run_id"),
        )
    return left, worth


def _worth_alerting(
    outcomes: list[dict], before: dict[int, str | None], changes: list[ledger.StatusChange]
) -> list[dict]:
    """The outcomes a run's alert speaks of: all but the files restaged only because an older
    release staged them (an upgrade), whose status stayed what it was. Their clerks were
    told when the file arrived; an upgrade must not write to every district again."""
    changed = {change.file_id for change in changes}
    return [
        o
        for o in outcomes
        if o["file_id"] not in before
        or before[o["file_id"]] == o.get("staged_by")
        or o["file_id"] in changed
    ]


def _build(
    settings, loaded, wanted, run_id, outcomes, run_files: list[int], read: dict | None = None
) -> dict[str, int]:
    """Load the star schema, store the warnings across files this run's files cause, and
    raise the run's alert. A warning on a file of an earlier run moves to the file of this
    run that causes it, or is dropped: a new file adds no warnings, alerts or feedback to
    files of earlier runs, but where the contract names the file warned (a province report
    a later commune report outranks: `on_warned_file_rules`), and then that file is alerted
    and its feedback written again; those of their stored warnings whose cause left the
    warehouse are withdrawn (the files holding any are checked again), those that still hold
    with another value take it, and the feedback of the files that lost or changed one is
    written again, or removed when nothing is left in it."""
    from etl.quality import alerts
    from etl.quality.data_docs import prepare_data_docs
    from etl.quality.validate import (
        ACROSS_PROVINCES_CHECKS,
        ACROSS_PROVINCES_IN_YEAR_CHECKS,
        at_cause_messages,
        cross_rules,
        current,
        for_run,
        holding,
        with_cells,
    )
    from etl.warehouse.build import load_star_schema, seal_build

    # The files whose outcome this build is the first to publish (with those of a build
    # never published, if any), recorded before building so that a failed build loses none:
    # the publish passes them to the exports, which write feedback for these only.
    pending = _read_files(_build_files(settings))
    _write_files(_build_files(settings), sorted(set(pending) | set(run_files)))
    from etl.contract.reference import load_reference

    with phase("warnings across files stored, alert composed"):
        con = ledger.connect(settings.ledger)
        try:
            earlier = ledger.cross_warned(
                con,
                cross_rules(),
                run_files,
                load_reference().region,
                cross_rules(ACROSS_PROVINCES_CHECKS),
                cross_rules(ACROSS_PROVINCES_IN_YEAR_CHECKS),
            )
        finally:
            con.close()
    counts, cross, in_facts = load_star_schema(
        settings, loaded, sorted({*run_files, *earlier}), read
    )
    with phase("warnings across files stored, alert composed"):
        con = ledger.connect(settings.ledger)
        try:
            ledger.set_rows_loaded(con, in_facts)
            mine = with_cells(for_run(cross, run_files), read or {})
            stored = ledger.replace_cross_findings(
                con,
                mine,
                cross_rules(),
                run_files,
                holding(cross, earlier),
                current(cross, earlier),
                at_cause_messages(),
            )
            new = stored.new
            # A file of an earlier run warned, or one that lost a warning or whose warning
            # now says another value: its feedback too (rewritten, or removed when nothing is
            # left to tell).
            if earlier_files := ({*new, *stored.withdrawn, *stored.changed} - set(run_files)):
                _write_files(_build_files(settings), sorted({*pending, *run_files, *earlier_files}))
            items = alerts.with_cross(outcomes, ledger.files(con, sorted(new)), new)
            ids = [i["file_id"] for i in items]
            items = alerts.recorded(items, ledger.states(con, ids), ledger.superseded(con, ids))
            alert = alerts.compose(items, run_id, str(settings.export_dir))
            if alert is not None:
                alerts.record(con, alert, run_id)
                log.warning("quality alert: %s", alert.subject)
        finally:
            con.close()
    _loading(settings).unlink(missing_ok=True)  # the run's alert is recorded
    with phase("build sealed"):
        seal_build(settings, wanted, run_id, len(loaded))  # with the audit the ledger has now
    # Rendered by htx run's warm validator meanwhile the publish DAG runs, else here; the
    # exports move it in place (etl.quality.data_docs).
    with phase("data docs prepared"):
        prepare_data_docs(settings)
    return counts


@timings.task_work
def alert(settings: Settings, context: Context | None = None) -> dict:
    """Deliver every alert not yet attempted through the configured channels.

    A channel that fails waits for the task's next try (Airflow's retries, for a server down
    for a moment), which sends on the failed channels only; the last try, or a run without
    Airflow's task instance, records the failure and goes on."""
    quiet_gc(freeze=False)  # collections every 50,000 objects, not 700
    from etl.quality import feedback
    from etl.quality.alerts import Alert, file_ids
    from etl.quality.notify import Delivery, deliver
    from etl.warehouse.build import build_path, refresh_build_audit

    ti = (context or {}).get("ti")
    retried = ti is not None and ti.try_number <= ti.max_tries  # another try will come
    waiting = []
    with _writer(settings):
        con = ledger.connect(settings.ledger)
        try:
            _record_held_alerts(con, settings)  # failure alerts a callback could not record
            pending = ledger.pending_alerts(con)
            for alert_id, severity, subject, body, *tried in pending:
                # The annotated workbooks travel with the alert: written now, from the ledger.
                with phase("feedback workbooks for the alert"):
                    attachments = feedback.for_alert(con, settings, file_ids(body))
                alert = Alert(alert_id, severity, subject, body, attachments=attachments)
                email, webhook, email_error, webhook_error = tried
                earlier = {"email": (email, email_error), "webhook": (webhook, webhook_error)}
                done = frozenset(c for c, (ok, _) in earlier.items() if ok is not None)
                with phase("alert delivered"):
                    results = deliver(alert, context, done)
                # A channel a try before failed for good is not sent again (those the e-mail
                # reached would have it twice): its failure stands.
                results.update(
                    {
                        c: Delivery(False, error, lasting=True)
                        for c, (ok, error) in earlier.items()
                        if ok is False
                    }
                )
                # An e-mail some recipients received is not sent again (they would have it
                # twice), nor one without recipients (until someone sets them).
                failed = [c for c, r in results.items() if r.retried]
                ledger.record_delivery(con, alert_id, results, final=not (failed and retried))
                log.info(
                    "alert %s (%s): %s",
                    alert_id,
                    severity,
                    "; ".join(f"{channel} {r.describe()}" for channel, r in results.items()),
                )
                if failed and retried:
                    waiting.append(f"{alert_id} ({', '.join(failed)})")
        finally:
            con.close()
        if pending and build_path(settings).exists():
            with phase("build's audit refreshed"):
                refresh_build_audit(settings)  # the build carries the delivery results
    if waiting:
        raise RuntimeError(
            f"alert channel failed, tried again at the task's next try: {'; '.join(waiting)}"
        )
    if not pending:
        log.info("no alert waiting to be delivered")
    return {"alerts": len(pending)}


@timings.task_work
def publish_build(settings: Settings) -> dict:
    """Build the marts in the waiting build, check it, and swap it in atomically.

    No build waiting (another publish run took it already) is not an error: nothing to do.
    """
    quiet_gc(freeze=False)  # collections every 50,000 objects, not 700
    from etl.warehouse.build import build_fingerprint, build_marts, build_path
    from etl.warehouse.swap import swap

    with _writer(settings):
        if not build_path(settings).exists():
            log.info("no build waiting: the published warehouse is already the latest")
            return {"published": False}
        if build_fingerprint(settings) is None:
            # A load that died before `seal_build`: the next ingest run builds again.
            log.warning("the build waiting was never finished: not published")
            return {"published": False}
        rows = build_marts(settings)
        with phase("report's charts drawn ahead"):
            _draw_charts_ahead(settings)
        with phase("integrity checks, swap"):
            swap(settings)
        files = _hand_over_files(settings)
    log.info(
        "published %s with marts: %s",
        settings.warehouse,
        ", ".join(f"{table} {n:,}" for table, n in rows.items()),
    )
    return {"published": True, "rows": rows, "file_ids": files}


def _draw_charts_ahead(settings: Settings) -> None:
    """The officials' report's charts of the build that are not drawn yet, handed to `htx
    run`'s warm validator, which draws them meanwhile the build is swapped in and the
    exports start (`officials_report.draw_ahead`; the hand-over itself waits for the Data
    Docs the load handed over, if the validator is still rendering them). A failure here
    costs only that: the report draws its charts itself."""
    from etl.quality import validator

    if validator.current() is None:
        return  # a task of its own process (a scheduler's): the exports draw them
    from etl.outputs.officials_report import draw_ahead
    from etl.warehouse.build import build_path

    try:
        handed = draw_ahead(settings, build_path(settings))
    except Exception:
        log.warning("the report's charts could not be drawn ahead", exc_info=True)
        return
    if handed:
        log.info("%d chart(s) of the report handed to the warm validator", handed)


@timings.task_work
def write_exports(settings: Settings, published: dict) -> dict:
    """Write the exports of a newly published warehouse, the quality report and the clerks'
    annotated feedback workbooks (those already up to date are kept).

    Exports that fail leave `settings.exports_failed` behind: the next run's load sees it (also
    with nothing new) and asks for a publish run, whose exports write everything, as a new
    publish's would. Exports still running leave nothing to see: no run redoes them; those
    of an `htx run` that was killed are owed by the next one (`owe_interrupted_exports`)."""
    failed = settings.exports_failed
    try:
        result = _write_exports(settings, published, redo=failed.exists())
    except BaseException as exc:
        failed.parent.mkdir(parents=True, exist_ok=True)
        failed.write_text(f"{type(exc).__name__}: {exc}\n", encoding="utf-8")
        raise
    failed.unlink(missing_ok=True)
    return result


def owe_interrupted_exports(settings: Settings) -> bool:
    """Exports a dead run never finished are owed as failed ones are; True when some are.

    Called by `htx run` holding `state/pipeline.lock`, before its DAGs run: no other run is
    under way, so a publish's list of files for its exports (`_published_files`, removed
    only when the exports succeed) still there means the run that published it died
    (killed, the machine lost power) between its swap and the end of its exports, and left
    no `settings.exports_failed`. That file is left now: the load asks for a publish run, whose
    exports write everything. Never called by the Airflow DAGs: there a publish run's
    exports may still be waiting for the writer pool (`test_exports_still_running_are_not_
    redone`), and a killed exports task is retried by Airflow."""
    failed = settings.exports_failed
    if not _published_files(settings).exists() or failed.exists():
        return False
    failed.parent.mkdir(parents=True, exist_ok=True)
    failed.write_text(
        "interrupted: the run that published the warehouse ended before its exports\n",
        encoding="utf-8",
    )
    log.warning("the last run ended before its exports were written: this run writes them")
    return True


def _write_exports(settings: Settings, published: dict, redo: bool) -> dict:
    """`write_exports`; `redo`: the last exports failed, so all are written again."""
    quiet_gc(freeze=False)  # collections every 50,000 objects, not 700
    from etl.outputs.exports import write_all
    from etl.outputs.quality_report import write_quality_report
    from etl.quality.data_docs import DataDocsBuild, publish_prepared
    from etl.quality.feedback import write_feedback

    if not settings.warehouse.exists():
        log.info("no warehouse published yet: nothing to export")
        return {**published, "exports": 0}
    with _writer(settings):
        result = dict(published)
        # A publish whose exports failed has them written now, whole, as a new publish would.
        fresh = bool(published.get("published")) or redo
        if redo:
            log.warning("writing again the exports that failed last time")
        # GX Data Docs: once per publish, never on a nothing-new run; built in a child
        # process meanwhile the other exports are written (etl.quality.data_docs).
        # Prepared by the load with the build (by htx run's warm validator: waited for
        # here), else built here.
        with phase("data docs put in place"):
            index = publish_prepared(settings) if published.get("published") else None
        docs = DataDocsBuild(settings) if fresh and not index else None
        report = None
        if fresh:
            # The table exports, the officials' report and the quality report (which links
            # to Data Docs: here only when they are in place already) side by side, in
            # forked processes; they only read the warehouse.
            with phase("tables, workbook, officials' report"):
                written = write_all(settings, settings.task_processes, quality_report=docs is None)
            result["exports"] = len(written.exports)
            result["dashboard"] = str(written.dashboard)
            report = written.report
        if docs is not None:
            with phase("data docs put in place"):
                index = docs.wait()
        if index is not None:
            result["data_docs"] = str(index)
        with phase("quality report"):
            result["report"] = str(report or write_quality_report(settings))
        # Feedback for the files whose outcome this publish is the first to show (None when
        # not known: every file's, those up to date kept). A new file changes the feedback
        # of a file of an earlier run only where it gave that file a warning (`_build`).
        files = _run_files(settings, published)
        with phase("feedback workbooks"):
            result["feedback"] = len(write_feedback(settings, files))
        _published_files(settings).unlink(missing_ok=True)
    log.info(
        "exports in %s: %d table file(s), quality report %s, %d feedback workbook(s)",
        settings.export_dir,
        result.get("exports", 0),
        result["report"],
        result["feedback"],
    )
    return result


def _build_files(settings: Settings) -> Path:
    """This build's files (see `_build`), beside the build."""
    return settings.build_dir / "run_files.json"


def _published_files(settings: Settings) -> Path:
    """The files of published builds whose exports are not written yet."""
    return settings.state_dir / "published_files.json"


def _read_files(path: Path) -> list[int]:
    import json

    try:
        files = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [int(f) for f in files] if isinstance(files, list) else []


def _write_files(path: Path, files: list[int]) -> None:
    import json
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(sorted(set(files))), encoding="utf-8")
    os.replace(temporary, path)


def _hand_over_files(settings: Settings) -> list[int]:
    """After the swap: the published build's files move to the exports' list (added to
    what an export that never ran left there); returns them."""
    source = _build_files(settings)
    files = sorted(set(_read_files(source)) | set(_read_files(_published_files(settings))))
    _write_files(_published_files(settings), files)
    source.unlink(missing_ok=True)
    return files


def _run_files(settings: Settings, published: dict) -> list[int] | None:
    """The files the exports write feedback for: those the publish handed over, and those
    a publish whose exports never ran left; None (every file) when the publish did not say
    (no build was published, or an older release published it)."""
    files = published.get("file_ids")
    if not published.get("published") or files is None:
        return None
    return sorted(set(files) | set(_read_files(_published_files(settings))))


def check_deadlines(settings: Settings, logical_date=None, run_id: str = "deadlines") -> dict:
    """The daily deadline check: judge every required report at the run's logical date
    (Asia/Ho_Chi_Minh) from the ledger and record one alert per unit and report year that is
    overdue (`missing` or only `quarantined`) within the alert window. Never rebuilds the
    warehouse; the `alert` task delivers what it recorded."""
    from etl.quality import deadlines

    judged_on = deadlines.judging_date(logical_date)
    with _writer(settings):
        con = ledger.connect(settings.ledger)
        try:
            return deadlines.check(con, judged_on, run_id)
        finally:
            con.close()
