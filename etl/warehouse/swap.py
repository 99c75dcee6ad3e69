"""Publishes a finished build: its integrity checks, then the atomic swap of the warehouse file.

Readers never see a half-finished load: the build is complete and checkpointed before
`os.replace` puts it in place in one step. A reader that opened the old file keeps
reading it, undisturbed, until it closes. When the warehouse's folder is on another file
system than the build area (`HTX_WAREHOUSE` and `HTX_STATE_DIR` on two disks), a rename
cannot cross them: the build is first copied beside the warehouse, then renamed there.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
from pathlib import Path

from etl.config import SQL_DIR, Settings
from etl.warehouse.build import build_path, changed_cooperatives_path, record_published
from etl.warehouse.models import scalar

log = logging.getLogger(__name__)


class BuildCheckFailed(RuntimeError):
    """The build breaks an integrity check; the published warehouse stays as it was."""


def verify(build: Path) -> dict[str, int]:
    """Run every `sql/integrity/*.sql` on the build: each counts violations, all must be 0."""
    import duckdb

    con = duckdb.connect(str(build), read_only=True)
    try:
        found = {
            path.stem: scalar(con, path.read_text())
            for path in sorted((SQL_DIR / "integrity").glob("*.sql"))
        }
    finally:
        con.close()
    broken = {name: n for name, n in found.items() if n}
    if broken:
        raise BuildCheckFailed(f"build {build} not published, integrity checks failed: {broken}")
    return found


def swap(settings: Settings) -> Path:
    """Check the build, then replace the published warehouse with it, atomically."""
    build = build_path(settings)
    if not build.exists():
        raise FileNotFoundError(f"no finished build at {build}")
    wal = build.with_name(build.name + ".wal")
    if wal.exists():
        raise RuntimeError(f"build {build} was not checkpointed; refusing to publish it")
    verify(build)
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    _fsync(build)
    try:
        os.replace(build, settings.warehouse)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        _replace_from_another_file_system(build, settings.warehouse)
    _fsync(settings.warehouse.parent)
    changed_cooperatives_path(settings).unlink(missing_ok=True)  # of the build just published
    record_published(settings)  # a later build may start from this file while it is unchanged
    log.info("published %s", settings.warehouse)
    return settings.warehouse


def _replace_from_another_file_system(build: Path, warehouse: Path) -> None:
    """Publish `build` where a rename cannot reach `warehouse` (another file system): a
    hidden copy in the warehouse's own folder, synced, then renamed over the warehouse (one
    step, as readers need), then the build removed. A copy a crash left is overwritten by
    the next publish; the warehouse is the old one or the new one, whole."""
    partial = warehouse.with_name(f".{warehouse.name}.publishing")
    try:
        shutil.copyfile(build, partial)
        _fsync(partial)
        os.replace(partial, warehouse)
    except BaseException:
        # The copy's error is what to fix (a full disk): a failing clean-up (the file system
        # read-only since) must not take its place. The next publish overwrites the copy.
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise
    build.unlink()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
