"""OpenLineage in a process that runs DAGs itself (`htx run`: `dag.test()`).

The OpenLineage provider's listener emits each task's events from the task's own process,
and each DAG run's events (the scheduler's part) through a process pool it starts in the
process that drives the runs. A scheduler stops that pool through Airflow's
`before_stopping` listener hook when it ends; `htx run` must do the same: it leaves through
`os._exit` after the exit handlers (etl/cli/main.py `entry`), which skips the shutdown of
`concurrent.futures` pools, and the idle pool worker would keep the process waiting forever.
"""

from __future__ import annotations


class HtxRun:
    """The component that stops: `htx run` driving the DAGs (listeners see its class name)."""


def stop_listeners() -> None:
    """Tell Airflow's listeners (OpenLineage's) that this process stops driving DAG runs: the
    DAG-run events still waiting are written, and the listener's process pool ends."""
    from airflow.listeners.listener import get_listener_manager

    manager = get_listener_manager()
    if manager.has_listeners:
        manager.hook.before_stopping(component=HtxRun())
