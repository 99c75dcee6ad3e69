"""Runs the project's SQL files: one model or one table's DDL per file, under `sql/`."""

from __future__ import annotations

import logging
import time
from pathlib import Path

log = logging.getLogger(__name__)


def run_sql_file(con, path: Path) -> None:
    """Execute every statement of a SQL file; errors name the file."""
    started = time.perf_counter()
    try:
        con.execute(path.read_text(encoding="utf-8"))
    except Exception as exc:
        raise RuntimeError(f"{path.relative_to(path.parents[2])}: {exc}") from exc
    log.debug("%s in %.2fs", path.name, time.perf_counter() - started)
