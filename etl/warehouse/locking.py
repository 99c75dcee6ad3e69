"""One pipeline run at a time on one state directory: an exclusive lock on a file.

A second run started by mistake waits for the first, then finds nothing new; neither
fails with a DuckDB or SQLite lock error. The lock is released by the kernel when its
process ends, even by SIGKILL, so a crash never leaves it stuck.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2  # how often a bounded wait tries the lock again


class LockBusy(TimeoutError):
    """The lock was still held when a bounded wait (`exclusive(..., wait=)`) ran out."""


@contextlib.contextmanager
def exclusive(path: Path, wait: float | None = None) -> Iterator[None]:
    """Hold the lock; wait for it without end (`wait` None, what the tasks do), or for
    `wait` seconds at most and then raise `LockBusy` (0: try once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if wait is None:
                log.warning("another pipeline run holds %s: waiting for it to finish", path)
                fcntl.flock(fd, fcntl.LOCK_EX)
            else:
                log.warning("another pipeline run holds %s: waiting %g s at most", path, wait)
                _within(fd, path, wait)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)


def _within(fd: int, path: Path, wait: float) -> None:
    """Take the lock on `fd` within `wait` seconds (flock itself has no timeout), or raise."""
    deadline = time.monotonic() + wait
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LockBusy(f"{path} is still held after {wait:g} s")
        time.sleep(min(POLL_SECONDS, remaining))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            continue


def writer(state_dir: Path, wait: float | None = None) -> contextlib.AbstractContextManager[None]:
    """The lock of whatever writes the ledger or a DuckDB file of the state directory: each
    task step (waits as long as it takes), and a failure callback recording its alert (waits
    `wait` seconds at most: it may run in the DAG processor, see etl.quality.notify)."""
    return exclusive(state_dir / "writer.lock", wait)
