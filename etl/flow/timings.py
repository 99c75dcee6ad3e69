"""What a run's steps spent, recorded as data: one small JSON record per writer.

A step writes `HTX_STATE_DIR/timings/<run>/<step>-<key>.json` (the key is the Airflow map
index, else what tells the step's writers apart, e.g. a stage batch), so that mapped tasks
running side by side never write the same file. `read_timings` returns the records as rows;
the benchmark (`tools/bench.py`) reads them instead of log text. A run's folder is kept
`KEEP_DAYS` days: the first record of a run deletes the folders of runs older than that (an
hourly schedule makes 24 a day).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from etl import phases as parts

if TYPE_CHECKING:
    from collections.abc import Callable

    from etl.config import Settings

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger(__name__)

FOLDER = "timings"
KEEP_DAYS = 30  # a run's records are kept this long after they were last written

# The `htx run` command's own record: set-up, DAG runs and summary, around the tasks.
COMMAND_STEP = "htx-run"
# A task's own work, keyed by its task id (`task_work`): the rest of the task's duration in
# Airflow's metadata DB is Airflow's (task start, rendered fields, XCom, lineage, state).
TASK_STEP = "task"


@dataclass(frozen=True)
class Timing:
    """One writer's timings in one run. Seconds are wall-clock unless named otherwise;
    `started` and `ended` are epoch seconds, comparable across processes."""

    run_id: str
    step: str
    key: str
    started: float
    ended: float
    files: int = 0
    processes: int = 1
    task_id: str | None = None
    map_index: int | None = None
    # Named phases of the step in seconds (stage: setup, then the process-seconds of read,
    # validate and write summed over the processes a batch was split across).
    phases: dict[str, float] = field(default_factory=dict)
    # Epoch seconds of named moments (htx run: Airflow set-up started and done, ...).
    marks: dict[str, float] = field(default_factory=dict)

    @property
    def wall_s(self) -> float:
        return self.ended - self.started


def folder(state_dir: Path) -> Path:
    return Path(state_dir) / FOLDER


def _safe(text: str) -> str:
    """A run id as a folder name (Airflow's hold ':' and '+')."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text) or "_"


def _task_instance():
    """The Airflow task instance this code runs in, if any. Airflow's task SDK is never
    imported for it: a step run without Airflow (the tests, a tool) has none."""
    if "airflow.sdk" not in sys.modules:
        return None
    try:
        from airflow.sdk import get_current_context

        return get_current_context()["ti"]
    except Exception:  # no task context: the step runs outside a task
        return None


def airflow_task() -> tuple[str | None, int | None]:
    """The Airflow task id and map index this code runs in, when it runs in one."""
    ti = _task_instance()
    if ti is None:
        return None, None
    index = getattr(ti, "map_index", None)
    return ti.task_id, (None if index is None or index < 0 else int(index))


def record(timings_dir: Path, timing: Timing) -> Path:
    """Write one record (atomically: a reader never sees half of one)."""
    target = (
        Path(timings_dir) / _safe(timing.run_id) / f"{_safe(timing.step)}-{_safe(timing.key)}.json"
    )
    first = not target.parent.is_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(asdict(timing), ensure_ascii=False, indent=1))
    os.replace(temporary, target)
    if first:
        prune(Path(timings_dir))
    return target


def prune(timings_dir: Path, keep_days: float = KEEP_DAYS) -> list[Path]:
    """Delete the folders of runs whose records were last written more than `keep_days`
    ago; returns them. What cannot be deleted now is left for a later run (logged)."""
    import shutil

    cutoff = time.time() - keep_days * 86400
    gone = []
    for run_dir in Path(timings_dir).iterdir():
        try:
            if run_dir.is_dir() and run_dir.stat().st_mtime < cutoff:
                shutil.rmtree(run_dir)
                gone.append(run_dir)
        except FileNotFoundError:  # deleted meanwhile by a task of the same run (mapped)
            continue
        except OSError:
            log.warning("timing records %s not deleted", run_dir, exc_info=True)
    return gone


def step_timing(
    run_id: str,
    step: str,
    started: float,
    *,
    key: str | None = None,
    **values,
) -> Timing:
    """A record of a step that started at `started` (epoch s) and ends now, keyed by its
    Airflow map index when it runs in a mapped task, else by `key`."""
    task_id, map_index = airflow_task()
    if map_index is not None:
        key = str(map_index)
    return Timing(
        run_id=run_id,
        step=step,
        key=key or "0",
        started=started,
        ended=time.time(),
        task_id=task_id,
        map_index=map_index,
        **values,
    )


def task_work(
    function: Callable[Concatenate[Settings, P], R],
) -> Callable[Concatenate[Settings, P], R]:
    """Record the wall time of a task's function (its first argument: the settings) as the
    task's own work (`TASK_STEP`, keyed by the task id) in the run it runs in, whether it
    returns or raises, with the parts it timed (`etl.phases.phase`). Outside an Airflow task
    nothing is recorded. A record that cannot be written is logged, never raised: it is only
    a measurement."""

    @functools.wraps(function)
    def timed(settings: Settings, /, *args: P.args, **kwargs: P.kwargs) -> R:
        started = time.time()
        outer = parts.begin()
        try:
            return function(settings, *args, **kwargs)
        finally:
            phases = parts.end(outer)
            ti = _task_instance()
            if ti is not None:
                try:
                    timing = step_timing(
                        str(ti.run_id), TASK_STEP, started, key=ti.task_id, phases=phases
                    )
                    record(folder(settings.state_dir), timing)
                except OSError:
                    log.warning("the timing of task %s was not recorded", ti.task_id, exc_info=True)

    return timed


def read_timings(timings_dir: Path, run_ids: set[str] | None = None) -> list[dict]:
    """Every record (of the given runs), as flat rows: the record's fields with each phase
    as `<phase>_s` (and all of them as `parts`, by name) and each mark as-is, plus `wall_s`;
    in (run, step, start) order."""
    base = Path(timings_dir)
    if not base.is_dir():
        return []
    wanted = None if run_ids is None else {_safe(r) for r in run_ids}
    rows = []
    for run_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        if wanted is not None and run_dir.name not in wanted:
            continue
        for path in sorted(run_dir.glob("*.json")):
            data = json.loads(path.read_text())
            if run_ids is not None and data["run_id"] not in run_ids:
                continue
            phases = data.pop("phases", {}) or {}
            marks = data.pop("marks", {}) or {}
            row = {**data, "wall_s": data["ended"] - data["started"], "parts": dict(phases)}
            row.update({f"{name}_s": value for name, value in phases.items()})
            row.update(marks)
            rows.append(row)
    rows.sort(key=lambda r: (r["run_id"], r["step"], r["started"]))
    return rows
