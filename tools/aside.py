"""A benchmark's earlier run folder is set aside in one rename, and deleted once every
measurement is done, never just before a measured run.

On a file system without a journal (the ext4 of the machines these benchmarks run on), a
file created within about half a minute of thousands being deleted costs several times as
much: ext4's inode allocator passes over the inodes deleted recently (`recently_deleted` in
`fs/ext4/ialloc.c`, consulted only when there is no journal). The run folder of the last
bench holds one file per workbook several times over (raw copies, outcomes, quality pages,
feedback): deleting it right before the full run charged that run for the harness's own
clean-up. Measured at 100× on the bench machine, the same full run took 26.6 s (10.3 s of
system time) after the old folder was deleted, 23.1-23.3 s (5.9-6.6 s) with it set aside;
the second of two `make bench` runs in a row on d003ba5 had 26.2 s against the first's
20.3 s, the difference in the steps that create files (discover, stage's write, alert's
feedback, the exports' quality pages). A pipeline run deletes almost nothing (a full run at
100×: 67 files), so it is the harness alone that must keep its deletions away from what it
measures. Whatever runs within half a minute after a bench still pays for its deletions.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

TRASH = ".trash"


def set_aside(path: Path) -> None:
    """Move `path`, when it exists, into the trash folder beside it (`.trash/`), in one rename."""
    if not path.exists():
        return
    trash = path.parent / TRASH
    trash.mkdir(exist_ok=True)
    os.replace(path, trash / f"{path.name}-{time.time_ns()}")


def empty_trash(root: Path) -> None:
    """Delete what `set_aside` moved into `root`'s trash folder."""
    shutil.rmtree(root / TRASH, ignore_errors=True)
