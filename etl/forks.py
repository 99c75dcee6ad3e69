"""Independent work spread over the machine's cores, in forked processes.

A fork starts in milliseconds and inherits what this process already imported and built
(pandas, GX and its suites, the reference units), where a fresh interpreter would spend
seconds importing them again. The forks never write to this process's log channel (under
Airflow it belongs to the task's process alone): their log records come back with their
results and are logged here, in the order of the items.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Sequence
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def map_forked(function: Callable[[T], R], items: Sequence[T], processes: int) -> list[R]:
    """`[function(item) for item in items]`, over at most `processes` forked processes.

    `function` must be a module-level function (it is sent to the forks by name). With one
    process, or one item, everything runs here. An exception in a fork is raised here.
    """
    if processes <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    results: list[R] = []
    workers = min(processes, len(items))
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_collect_logs) as pool:
        jobs = [pool.submit(_logged, function, item) for item in items]
        for job in jobs:
            result, records = job.result()
            for name, level, path, line, message, function in records:
                logger = logging.getLogger(name)
                if logger.isEnabledFor(level):  # logged where it was written, not from here
                    logger.handle(
                        logger.makeRecord(name, level, path, line, message, None, None, function)
                    )
            results.append(result)
    return results


class _Collected(logging.Handler):
    """The log records of one item's work in a fork, to be handed back."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(
            (
                record.name,
                record.levelno,
                record.pathname,
                record.lineno,
                record.getMessage(),
                record.funcName,
            )
        )


_COLLECTED = _Collected()


def _collect_logs() -> None:
    """In a new fork: every record goes to `_COLLECTED`, none to inherited handlers."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_COLLECTED)
    root.setLevel(logging.INFO)
    for logger in logging.root.manager.loggerDict.values():
        if isinstance(logger, logging.Logger):
            logger.handlers.clear()  # e.g. Airflow's own task handlers
            logger.propagate = True
    logging.getLogger("great_expectations").setLevel(logging.WARNING)


def _logged(function: Callable[[T], R], item: T) -> tuple[R, list[tuple]]:
    _COLLECTED.records = []
    result = function(item)
    return result, _COLLECTED.records
