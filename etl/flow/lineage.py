"""Assets and OpenLineage in the processes that set Airflow up and run DAGs themselves
(`htx init`, `htx run`: `dag.test()`).

An asset keeps its name when its URI changes: on the upgrade from the `htx://` URIs to
`file://` ones, or when an HTX_* path moves. Airflow keeps names and URIs of active assets
unique, so the asset of the old URI stays active and the new one cannot be activated until a
scheduler's asset clean-up retires the old one; a task naming the inactive new asset fails.
`htx run` has no scheduler: `retire_replaced_assets` does that clean-up for the project's
own asset names, before the DAGs are synced.

The OpenLineage provider's listener emits each task's events from the task's own process,
and each DAG run's events (the scheduler's part) through a process pool it starts in the
process that drives the runs. A scheduler stops that pool through Airflow's
`before_stopping` listener hook when it ends; `htx run` must do the same: it leaves through
`os._exit` after the exit handlers (etl/cli/main.py `entry`), which skips the shutdown of
`concurrent.futures` pools, and the idle pool worker would keep the process waiting forever.
"""

from __future__ import annotations

import logging

from etl.config import Settings

log = logging.getLogger(__name__)


def retire_replaced_assets(settings: Settings) -> list[tuple[str, str]]:
    """Deactivate the project's assets whose URI is no longer the one these settings give
    (as the scheduler's clean-up does for assets no DAG names); the next sync of the DAGs
    activates the current ones. Returns the (name, URI) pairs retired."""
    from dataclasses import fields

    from airflow.models.asset import AssetActive
    from airflow.utils.session import create_session
    from sqlalchemy import delete, select

    from etl.flow.dagkit import assets

    made = assets(settings)
    current = {a.name: a.uri for a in (getattr(made, f.name) for f in fields(made))}
    with create_session() as session:
        active = session.execute(
            select(AssetActive.name, AssetActive.uri).where(AssetActive.name.in_(current))
        ).all()
        retired = [(name, uri) for name, uri in active if uri != current[name]]
        for name, uri in retired:
            session.execute(
                delete(AssetActive).where(AssetActive.name == name, AssetActive.uri == uri)
            )
            log.info("asset %s: %s retired, now %s", name, uri, current[name])
    return retired


class HtxRun:
    """The component that stops: `htx run` driving the DAGs (listeners see its class name)."""


def stop_listeners() -> None:
    """Tell Airflow's listeners (OpenLineage's) that this process stops driving DAG runs: the
    DAG-run events still waiting are written, and the listener's process pool ends."""
    from airflow.listeners.listener import get_listener_manager

    manager = get_listener_manager()
    if manager.has_listeners:
        manager.hook.before_stopping(component=HtxRun())
