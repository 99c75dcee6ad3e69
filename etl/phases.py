"""Named parts of the task this process runs, timed: where a task's own time goes.

`etl.flow.timings.task_work` opens a task's parts (`begin`) and writes them into the task's
timing record (`end`); any code the task calls marks a part with `phase`, at no cost outside
a task (the tests, the tools). `make bench` shows them beside the task they belong to
(`tools/bench.py`). A process the task forks keeps none of its own: the task's wall time is
what is measured.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

# The parts of the task running now, by name (seconds); None outside a task.
_parts: dict[str, float] | None = None


def begin() -> dict[str, float] | None:
    """Start the parts of a task; returns those of the task around it, if any, for `end`."""
    global _parts  # one task at a time per process, as Airflow runs them
    outer, _parts = _parts, {}
    return outer


def end(outer: dict[str, float] | None) -> dict[str, float]:
    """The parts of the task `begin` started, in the order they first ran; those of the
    task around it (`outer`) are current again."""
    global _parts
    parts, _parts = _parts or {}, outer
    return parts


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Time the code inside as the part `name` of the current task (summed when it runs more
    than once); nothing outside a task."""
    parts = _parts
    if parts is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        parts[name] = parts.get(name, 0.0) + time.perf_counter() - started
