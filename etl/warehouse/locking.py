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
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("another pipeline run holds %s: waiting for it to finish", path)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)


def writer(state_dir: Path) -> contextlib.AbstractContextManager[None]:
    """The lock of whatever writes the ledger or a DuckDB file of the state directory: each
    task step, and a failure callback recording its alert (`state/writer.lock`)."""
    return exclusive(state_dir / "writer.lock")
