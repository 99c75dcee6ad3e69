"""Independent work spread over the machine's cores, in forked processes.

A fork starts in milliseconds and inherits what this process already imported and built
(pandas, GX and its suites, the reference units), where a fresh interpreter would spend
seconds importing them again. The forks' log records do not go to this process's log
handlers (under Airflow the task's log channel belongs to the task's process alone): they
come back with the results and are logged here, in the order of the items, with the time
and place they were written. (What a fork prints to stdout or stderr goes where this
process's does.) `imap_forked` streams the results back in order as they are done, the
forks taking the next item as soon as they finish one: the caller works on a result while
they work on the following items. `ForkPool` takes items as they are given, for work whose
items are not all known when the forks start.

`run_forked` is the other use: one piece of work whose memory must not stay behind. What a
process frees is rarely given back to the system (the allocators keep it, fragmented), and
an import is never undone: work run in a fork leaves this process as it was, and its memory
goes with the fork. That fork logs through the handlers it inherited, as this process would.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import traceback
from collections import deque
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar, cast

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def map_forked(
    function: Callable[[T], R],
    items: Sequence[T],
    processes: int,
    meanwhile: Callable[[], object] | None = None,
) -> list[R]:
    """`[function(item) for item in items]`, over at most `processes` forked processes.

    `function` must be a module-level function (it is sent to the forks by name). With one
    process, or one item, everything runs here. Work that fails in a fork raises
    `ForkFailed` here, with the fork's traceback, after the log lines it wrote.
    `meanwhile` runs here once the forks have started, while they work (what only this
    process needs, and the forks need not inherit); with no forks it does not run.
    """
    return list(imap_forked(function, items, processes, meanwhile))


def imap_forked(
    function: Callable[[T], R],
    items: Sequence[T],
    processes: int,
    meanwhile: Callable[[], object] | None = None,
    ahead: int | None = None,
) -> Generator[R, None, None]:
    """`function(item)` of each item, yielded in the items' order as soon as it is done,
    over at most `processes` forked processes that each take the next item when they finish
    one: while the caller works on a result, the forks work on the items after it.

    At most `ahead` items (all of them when None; never fewer than the forks) are handed
    to the forks beyond the last result yielded, so that what waits here stays bounded.
    `function`, one process or one item, `meanwhile` and failures: as `map_forked` (with
    no forks the items are worked on here one at a time, when the caller asks for the next
    result). Leaving the loop early stops the forks: items not started are never worked on.
    """
    if processes <= 1 or len(items) <= 1:
        for item in items:
            yield function(item)
        return
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    workers = min(processes, len(items))
    window = len(items) if ahead is None else max(workers, ahead)
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_collect_logs)
    try:
        jobs = deque(pool.submit(_logged, function, item) for item in items[:window])
        following = len(jobs)
        if meanwhile is not None:
            meanwhile()
        while jobs:
            result, records, failure = jobs.popleft().result()
            _replay(records)
            if failure is not None:
                raise ForkFailed(failure)
            if following < len(items):  # handed out before the caller works on this one
                jobs.append(pool.submit(_logged, function, items[following]))
                following += 1
            yield cast(R, result)  # no failure: `function` returned it
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class ForkPool(Generic[T, R]):
    """`processes` forked processes taking `function`'s items as they are given (`submit`),
    each item's result and log records handed back here (`result`), as `map_forked` hands
    them: for work whose items are not all known when the forks start. Use it as a context
    manager: leaving it waits for the forks and stops them."""

    def __init__(self, function: Callable[[T], R], processes: int) -> None:
        from concurrent.futures import ProcessPoolExecutor

        self.function = function
        self.pool = ProcessPoolExecutor(
            processes, mp_context=multiprocessing.get_context("fork"), initializer=_collect_logs
        )

    def __enter__(self) -> ForkPool[T, R]:
        return self

    def __exit__(self, *failure: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, item: T) -> Future:
        """Hand `item` to the forks; its result is `result` of what this returns."""
        return self.pool.submit(_logged, self.function, item)

    def result(self, submitted: Future) -> R:
        """The item's result, once done, its log records logged here first. An item that
        failed raises `ForkFailed` with the fork's traceback."""
        result, records, failure = submitted.result()
        _replay(records)
        if failure is not None:
            raise ForkFailed(failure)
        return cast(R, result)


def run_forked(function: Callable[..., R], *args: object) -> R:
    """`function(*args)` in one forked process, its result (pickled) returned here.

    For work whose memory, or whose imports, this process must not keep: all of it is freed
    when the fork ends. `function` may be any callable (a fork needs no pickling of it). The
    fork logs through the handlers it inherited. An exception in the fork raises
    `ForkFailed` here with its traceback; so does a fork that ends without a result (killed).
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_run_and_send, args=(sender, function, args, os.getpid()))
    child.start()
    sender.close()  # the fork's end: `recv` sees EOF if the fork dies without sending
    try:
        outcome, failure = receiver.recv()
    except EOFError:
        child.join()
        ended = f"the forked process ended without a result (exit code {child.exitcode})"
        raise ForkFailed(ended) from None
    finally:
        receiver.close()
    child.join()
    if failure is not None:
        raise ForkFailed(failure)
    return cast(R, outcome)


def _run_and_send(sender, function: Callable[..., R], args: tuple, parent: int) -> None:
    """In the fork: the result, or the traceback as text (not every exception pickles). The
    fork ends with its parent (killed, it is killed), as the work would had it run there."""
    die_with(parent)
    quiet_gc()
    try:
        sender.send((function(*args), None))
    except BaseException:
        sender.send((None, traceback.format_exc()))
    finally:
        sender.close()


# Container objects allocated between two collections of the youngest generation (Python's
# default: 700). The pipeline allocates millions (cells, rows, frames) and frees most of them
# by reference counting; at 700 a full run spent about 8 s of CPU collecting.
GC_THRESHOLD = 50_000


def quiet_gc(freeze: bool = True) -> None:
    """Collect garbage less often (`GC_THRESHOLD`), and (`freeze`) never again look at what
    this process holds now (`gc.freeze`: Airflow, the DAGs, GX's suites, the reference data,
    inherited by a fork or built before one, live until the process ends). A collection then
    walks only what was made since; a fork's collections no longer write into the pages it
    shares with its parent, which would copy them. A task calls it without `freeze`: under
    `htx run` it follows other tasks in the same process, whose garbage must stay
    collectable."""
    import gc

    if freeze:
        gc.freeze()
    if gc.get_threshold()[0] < GC_THRESHOLD:
        gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


def die_with(parent: int) -> None:
    """Ask Linux to kill this process when its parent ends (prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the fork may outlive a killed parent
        return
    if os.getppid() != parent:  # the parent ended before the request
        os._exit(1)


class ForkFailed(RuntimeError):
    """Work in a forked process raised; the message holds its traceback."""


def _replay(records: list[dict]) -> None:
    """Log a fork's records here, as written there: logger, level, place, time."""
    for fields in records:
        logger = logging.getLogger(fields["name"])
        if logger.isEnabledFor(fields["levelno"]):
            record = logger.makeRecord(
                fields["name"],
                fields["levelno"],
                fields["pathname"],
                fields["lineno"],
                fields["message"],
                (),  # the message is already formatted: no arguments, as from `log.info(text)`
                None,
                fields["funcName"],
            )
            record.created = fields["created"]
            record.msecs = fields["msecs"]
            logger.handle(record)


class _Collected(logging.Handler):
    """The log records of one item's work in a fork, to be handed back."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        self.records.append(
            {
                "name": record.name,
                "levelno": record.levelno,
                "pathname": record.pathname,
                "lineno": record.lineno,
                "funcName": record.funcName,
                "created": record.created,
                "msecs": record.msecs,
                "message": message,
            }
        )


_COLLECTED = _Collected()


def _collect_logs() -> None:
    """In a new fork: every record goes to `_COLLECTED`, none to inherited handlers; what
    it inherited is left out of garbage collection (`quiet_gc`)."""
    quiet_gc()
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_COLLECTED)
    root.setLevel(logging.INFO)
    for logger in logging.root.manager.loggerDict.values():
        if isinstance(logger, logging.Logger):
            logger.handlers.clear()  # e.g. Airflow's own task handlers
            logger.propagate = True


def _logged(function: Callable[[T], R], item: T) -> tuple[R | None, list[dict], str | None]:
    """Run in a fork: the result, the log records, and the traceback if it failed (as text:
    not every exception survives pickling back)."""
    _COLLECTED.records = []
    try:
        return function(item), _COLLECTED.records, None
    except BaseException:
        return None, _COLLECTED.records, traceback.format_exc()
