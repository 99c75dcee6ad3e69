"""Forked work: results in order, the forks' log lines here, and a failure told in full."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from etl import forks
from etl.forks import ForkFailed, imap_forked, map_forked, run_forked

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


_BUILT_BY_MEANWHILE: list[str] = []


def _wait_for_meanwhile(marker: str) -> tuple[bool, list[str], int]:
    """A fork's work that waits for `meanwhile` to write `marker` (bounded, so that a
    `meanwhile` run only after the work fails the test instead of hanging it), then says
    whether it saw the marker and what of `meanwhile`'s build it inherited."""
    seen = Path(marker)
    for _ in range(2400):
        if seen.exists():
            break
        time.sleep(0.05)
    return seen.exists(), list(_BUILT_BY_MEANWHILE), os.getpid()


def test_meanwhile_runs_here_while_the_forks_work(tmp_path):
    """The forks started before `meanwhile` ran, and did not inherit what it built."""
    marker = tmp_path / "meanwhile-ran"
    ran: list[int] = []

    def meanwhile() -> None:
        _BUILT_BY_MEANWHILE.append("built here")
        ran.append(os.getpid())
        marker.write_text("ran")

    try:
        done = map_forked(_wait_for_meanwhile, [str(marker), str(marker)], 2, meanwhile)
    finally:
        built, _BUILT_BY_MEANWHILE[:] = list(_BUILT_BY_MEANWHILE), []
    assert ran == [os.getpid()]
    assert built == ["built here"]
    # Both forks were at work when `meanwhile` ran (they waited for its marker and saw it)...
    assert [saw for saw, _, _ in done] == [True, True]
    # ...and had started before it: they hold nothing it built.
    assert [inherited for _, inherited, _ in done] == [[], []]
    assert os.getpid() not in {pid for _, _, pid in done}
    ran.clear()
    map_forked(_square, [1], 2, meanwhile)
    assert ran == []  # no forks: nothing runs meanwhile, the caller does what it needs


def test_a_failure_in_a_fork_raises_here_with_its_traceback_after_its_log_lines(caplog):
    with caplog.at_level(logging.INFO, logger="etl"), pytest.raises(ForkFailed) as failed:
        map_forked(_fails_on_three, [1, 2, 3, 4], 2)
    assert "ValueError: three is not allowed" in str(failed.value)
    assert "_fails_on_three" in str(failed.value)
    worked = [r.getMessage() for r in caplog.records if r.name == "etl.test_forks"]
    assert worked[:3] == ["working on 1", "working on 2", "working on 3"]


# `imap_forked`: results streamed back in order while the forks work on the next items.

# Set by a test before the forks start (they inherit it): each item says there it started.
_STARTED = None
_WORKED_HERE: list[int] = []


def _mark_started(job: tuple[str, int]) -> tuple[int, int]:
    folder, n = job
    Path(folder, str(n)).write_text("started")
    if _STARTED is not None:
        _STARTED.put(n)
    log.info("item %d", n)
    return n, os.getpid()


def _worked_here(n: int) -> int:
    _WORKED_HERE.append(n)
    return n * n


def test_imap_forked_streams_results_in_order_while_the_forks_work_on(tmp_path, caplog):
    """While the caller holds a result, the forks work on the items after it: here the
    caller waits, holding result 0, until item 3 has started (a fork tells it through an
    inherited queue). No more than `ahead` items are handed out beyond the last result."""
    import multiprocessing

    global _STARTED
    _STARTED = multiprocessing.get_context("fork").Queue()
    items = [(str(tmp_path), n) for n in range(10)]
    got = []
    try:
        with caplog.at_level(logging.INFO, logger="etl"):
            for n, pid in imap_forked(_mark_started, items, 2, ahead=3):
                got.append(n)
                assert pid != os.getpid()
                assert len(list(tmp_path.iterdir())) <= n + 1 + 3  # bounded: ahead
                if n == 0:
                    started = set()
                    while 3 not in started:  # until a fork starts item 3 (bounded)
                        started.add(_STARTED.get(timeout=120))
    finally:
        _STARTED = None
    assert got == list(range(10))
    lines = [r.getMessage() for r in caplog.records if r.name == "etl.test_forks"]
    assert lines == [f"item {n}" for n in range(10)]  # the forks' lines, in the items' order


def test_imap_forked_left_early_stops_the_forks(tmp_path):
    items = [(str(tmp_path), n) for n in range(20)]
    results = imap_forked(_mark_started, items, 2, ahead=2)
    assert next(results)[0] == 0
    results.close()  # the caller leaves the loop: the pool ends, its started items done
    started = sorted(int(p.name) for p in tmp_path.iterdir())
    assert started == list(range(len(started)))
    assert len(started) <= 1 + 2  # items never handed out are never worked on


def test_imap_forked_in_one_process_works_here_one_item_at_a_time():
    _WORKED_HERE.clear()
    results = imap_forked(_worked_here, [1, 2, 3], 1)
    assert _WORKED_HERE == []  # nothing until the caller asks
    assert next(results) == 1
    assert _WORKED_HERE == [1]
    assert list(results) == [4, 9]
    assert _WORKED_HERE == [1, 2, 3]


# `run_forked`: one piece of work whose memory and imports must not stay in this process.

_HELD: list[bytes] = []


def _hold_and_import(size: int) -> tuple[int, int, bool]:
    """Allocate and keep `size` bytes, import a module this process has not imported."""
    import sys

    _HELD.append(bytes(size))
    import tomllib  # noqa: F401  the fork's import

    return os.getpid(), len(_HELD), "tomllib" in sys.modules


def test_run_forked_returns_the_result_and_leaves_nothing_here():
    import sys

    sys.modules.pop("tomllib", None)  # not imported here (another test may have)
    pid, held, imported = run_forked(_hold_and_import, 1 << 20)
    assert pid != os.getpid()  # it ran in a fork
    assert (held, imported) == (1, True)  # what it did there
    assert _HELD == []  # what it kept, it kept there: freed with the fork
    assert "tomllib" not in sys.modules  # its imports too


def test_run_forked_takes_any_callable_and_logs_through_inherited_handlers(tmp_path):
    target = tmp_path / "fork.log"
    handler = logging.FileHandler(target)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        # a closure: a fork needs no pickling of what it runs
        result = run_forked(lambda n: (log.info("in the fork: %d", n), n + 1)[1], 41)
    finally:
        log.removeHandler(handler)
        handler.close()
    assert result == 42
    assert target.read_text().splitlines() == ["in the fork: 41"]


def test_run_forked_raises_the_forks_failure_with_its_traceback():
    with pytest.raises(ForkFailed) as failed:
        run_forked(_fails_on_three, 3)
    assert "ValueError: three is not allowed" in str(failed.value)
    assert "_fails_on_three" in str(failed.value)


def test_run_forked_raises_when_the_fork_dies_without_a_result():
    with pytest.raises(ForkFailed, match=r"without a result \(exit code 7\)"):
        run_forked(os._exit, 7)


def _work_that_outlives(started: str) -> None:
    Path(started).write_text(str(os.getpid()))
    time.sleep(60)  # killed long before


def test_a_fork_of_run_forked_ends_with_its_parent(tmp_path):
    """The parent killed: its fork is killed too, as the work would be had it run there."""
    import multiprocessing
    import signal

    started = tmp_path / "started"
    parent = multiprocessing.get_context("fork").Process(
        target=run_forked, args=(_work_that_outlives, str(started))
    )
    parent.start()
    deadline = time.monotonic() + 30
    while not (started.exists() and started.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    fork = int(started.read_text())  # the fork's work began
    os.kill(parent.pid, signal.SIGKILL)
    parent.join()
    deadline = time.monotonic() + 30
    while _alive(fork) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(fork)  # and ended with its parent, not 60 s later


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _collector_state(_item: object = None) -> tuple[int, int]:
    """This process's youngest generation's threshold and how many objects it froze."""
    import gc

    return gc.get_threshold()[0], gc.get_freeze_count()


@pytest.fixture
def default_gc():
    """Python's own collector settings here, before and after the test."""
    import gc

    threshold = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, *threshold[1:])
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_quiet_gc_collects_less_often_and_never_what_is_held_now(default_gc):
    import gc

    held = [[i] for i in range(1000)]  # containers the collector tracks
    assert _collector_state() == (700, 0)
    forks.quiet_gc(freeze=False)  # as a task calls it: what it holds stays collectable
    assert _collector_state() == (forks.GC_THRESHOLD, 0)
    forks.quiet_gc()
    threshold, frozen = _collector_state()
    assert threshold == forks.GC_THRESHOLD
    assert frozen >= len(held)  # out of every later collection
    gc.collect()
    # A full collection leaves them where they are: none is back in a generation it scans.
    # (Not the frozen count itself: a frozen object another thread of this process frees
    # meanwhile leaves the permanent generation, and the count with it.)
    ids = {id(item) for item in held}
    assert not any(id(tracked) in ids for tracked in gc.get_objects())
    assert gc.get_freeze_count() >= len(held)
    forks.quiet_gc()  # again: nothing lowers the threshold
    assert gc.get_threshold()[0] == forks.GC_THRESHOLD


def test_forks_start_with_a_quiet_collector(default_gc):
    """The forks of a pool and of `run_forked` freeze what they inherit, and collect at
    `GC_THRESHOLD`, whatever this process does."""
    assert _collector_state() == (700, 0)
    for threshold, frozen in forks.map_forked(_collector_state, [1, 2], 2):
        assert threshold == forks.GC_THRESHOLD
        assert frozen > 0
    threshold, frozen = forks.run_forked(_collector_state)
    assert threshold == forks.GC_THRESHOLD
    assert frozen > 0
    assert _collector_state() == (700, 0)  # this process is left as it was
