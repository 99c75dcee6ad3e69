"""Forked work: results in order, the forks' log lines here, and a failure told in full."""

from __future__ import annotations

import logging
import os
import time

import pytest

from etl.forks import ForkFailed, map_forked

log = logging.getLogger("etl.test_forks")


def _square(n: int) -> tuple[int, int]:
    log.info("squaring %d", n)
    return n * n, os.getpid()


def _fails_on_three(n: int) -> int:
    log.info("working on %d", n)
    if n == 3:
        raise ValueError("three is not allowed")
    return n


def test_results_come_back_in_order_from_other_processes(caplog):
    with caplog.at_level(logging.INFO, logger="etl"):
        done = map_forked(_square, list(range(8)), 2)
    assert [value for value, _ in done] == [n * n for n in range(8)]
    assert os.getpid() not in {pid for _, pid in done}  # the work ran in forks
    lines = [r for r in caplog.records if r.name == "etl.test_forks"]
    assert [r.getMessage() for r in lines] == [f"squaring {n}" for n in range(8)]
    assert all(r.funcName == "_square" for r in lines)  # where it was written, not replayed


def test_one_process_works_here():
    assert {pid for _, pid in map_forked(_square, [1, 2], 1)} == {os.getpid()}


def _slow_square(n: int) -> tuple[int, int]:
    time.sleep(0.5)
    return n * n, os.getpid()


def test_meanwhile_runs_here_while_the_forks_work():
    """The forks started before `meanwhile` ran, and did not inherit what it built."""
    ran: list[tuple[int, float]] = []

    def meanwhile() -> None:
        ran.append((os.getpid(), time.monotonic()))

    started = time.monotonic()
    done = map_forked(_slow_square, [1, 2], 2, meanwhile)
    assert [value for value, _ in done] == [1, 4]
    [(pid, at)] = ran
    assert pid == os.getpid()
    assert at - started < 0.5  # not after the forks' work
    ran.clear()
    map_forked(_slow_square, [1], 2, meanwhile)
    assert ran == []  # no forks: nothing runs meanwhile, the caller does what it needs


def test_a_failure_in_a_fork_raises_here_with_its_traceback_after_its_log_lines(caplog):
    with caplog.at_level(logging.INFO, logger="etl"), pytest.raises(ForkFailed) as failed:
        map_forked(_fails_on_three, [1, 2, 3, 4], 2)
    assert "ValueError: three is not allowed" in str(failed.value)
    assert "_fails_on_three" in str(failed.value)
    worked = [r.getMessage() for r in caplog.records if r.name == "etl.test_forks"]
    assert worked[:3] == ["working on 1", "working on 2", "working on 3"]
