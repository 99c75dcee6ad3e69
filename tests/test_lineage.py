"""OpenLineage: `htx run` on three sample workbooks writes the provider's events to the default
file under HTX_STATE_DIR, and they name what each task read and wrote with the `file://`
assets (namespace `file`, name the absolute path): the landing folder into discover and stage,
the staged files into load, the build out of load and into publish, the warehouse out of
publish. An operator's own transport (Marquez) replaces the default file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from urllib.parse import unquote, urlsplit

import pytest
from conftest import htx_env, run_htx

from etl.config import (
    LANDING_ASSET,
    STAGING_ASSET,
    STAR_SCHEMA_ASSET,
    WAREHOUSE_ASSET,
    settings_under,
)
from etl.flow.dagkit import assets
from tools.sample import write_samples

# The test runner's own configuration that must not reach `htx run`.
UNSET = ("HTX_", "AIRFLOW", "OPENLINEAGE")
TASKS = {
    "htx_ingest": ("discover", "stage", "load"),
    "htx_publish": ("alert", "publish", "exports"),
}


@pytest.fixture(scope="module")
def lineage_run(tmp_path_factory):
    """Three sample workbooks of 2023 through `htx run` (both DAGs); the events it wrote."""
    root = tmp_path_factory.mktemp("lineage")
    settings = settings_under(root)
    every = tmp_path_factory.mktemp("sample")
    write_samples(every, years=[2023], extras=False)
    settings.landing_dir.mkdir(parents=True)
    for path in sorted(every.glob("*.xlsx"))[:3]:
        shutil.copy(path, settings.landing_dir / path.name)
    done = run_htx("run", env=htx_env(settings, without=UNSET), timeout=900)
    assert done.returncode == 0, done.stderr[-5000:]
    return settings, _events(settings), every


def _events(settings) -> list[dict]:
    lines = settings.lineage_events.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _datasets(event: dict, side: str) -> list[tuple[str, str]]:
    return [(d["namespace"], d["name"]) for d in event.get(side, [])]


def _task_events(events: list[dict], dag_id: str, task_id: str) -> list[dict]:
    return [e for e in events if e["job"]["name"] == f"{dag_id}.{task_id}"]


def test_every_task_of_both_dags_starts_and_completes_in_the_default_file(lineage_run):
    settings, events, _ = lineage_run
    assert settings.lineage_events == settings.state_dir / "lineage" / "events.jsonl"
    for dag_id, task_ids in TASKS.items():
        for task_id in task_ids:
            found = _task_events(events, dag_id, task_id)
            assert [e["eventType"] for e in found] == ["START", "COMPLETE"], (dag_id, task_id)
            assert len({e["run"]["runId"] for e in found}) == 1  # one task run, two events
            assert {e["job"]["namespace"] for e in found} == {"htx"}
        # The DAG run's own event, written before `htx run` exited (its listener pool stops).
        assert "COMPLETE" in [e["eventType"] for e in events if e["job"]["name"] == dag_id]
    assert {e["job"]["name"].split(".")[0] for e in events} == set(TASKS)


def test_ingest_reads_the_landing_folder_and_staged_files_and_writes_the_build(lineage_run):
    settings, events, _ = lineage_run
    landing = ("file", str(settings.landing_dir))
    for task_id in ("discover", "stage"):
        for event in _task_events(events, "htx_ingest", task_id):
            assert _datasets(event, "inputs") == [landing]
            assert _datasets(event, "outputs") == []
    build = ("file", str(settings.build_dir / "htx.duckdb"))
    for event in _task_events(events, "htx_ingest", "load"):
        assert _datasets(event, "inputs") == [("file", str(settings.staging_dir))]
        assert _datasets(event, "outputs") == [build]


def test_publish_reads_the_build_and_writes_the_warehouse_file(lineage_run):
    settings, events, _ = lineage_run
    build = ("file", str(settings.build_dir / "htx.duckdb"))
    warehouse = ("file", str(settings.warehouse))
    complete = _task_events(events, "htx_publish", "publish")[-1]
    assert complete["eventType"] == "COMPLETE"
    assert _datasets(complete, "inputs") == [build]
    assert _datasets(complete, "outputs") == [warehouse]
    assert settings.warehouse.is_file()  # the dataset is the file analysts query
    for event in _task_events(events, "htx_publish", "exports"):
        assert _datasets(event, "inputs") == [warehouse]
    for event in _task_events(events, "htx_publish", "alert"):
        assert _datasets(event, "inputs") == _datasets(event, "outputs") == []


def test_asset_uris_are_file_uris_of_the_settings_paths(tmp_path):
    from etl.warehouse.build import build_path

    settings = settings_under(tmp_path / "a b", HTX_WAREHOUSE=str(tmp_path / "wh" / "htx.duckdb"))
    found = assets(settings)
    assert (found.landing.name, found.landing.uri) == (
        LANDING_ASSET,
        f"file://{settings.landing_dir}",
    )
    assert (found.staging.name, found.staging.uri) == (
        STAGING_ASSET,
        f"file://{settings.staging_dir}",
    )
    # The build the ingest DAGs emit is the file the build writes (etl.warehouse.build).
    assert (found.star_schema.name, found.star_schema.uri) == (
        STAR_SCHEMA_ASSET,
        f"file://{build_path(settings)}",
    )
    assert (found.warehouse.name, found.warehouse.uri) == (
        WAREHOUSE_ASSET,
        f"file://{tmp_path / 'wh' / 'htx.duckdb'}",
    )


def test_folders_named_in_vietnamese_run_and_name_their_assets_in_ascii(tmp_path):
    """HTX_* folders with Vietnamese letters and spaces (a deployment's `/srv/Báo cáo/…`):
    Airflow's metadata DB takes only ASCII asset URIs, so what is not ASCII is percent-encoded
    and the URI still names the folder; `htx run` loads and publishes."""
    root = tmp_path / "Báo cáo HTX" / "Đắk Nông"
    settings = settings_under(root)
    for asset in vars(assets(settings)).values():
        assert asset.uri.isascii(), asset.uri
    uris = {a.name: a.uri for a in vars(assets(settings)).values()}
    assert unquote(urlsplit(uris[LANDING_ASSET]).path) == str(settings.landing_dir)
    assert unquote(urlsplit(uris[WAREHOUSE_ASSET]).path) == str(settings.warehouse)
    every = tmp_path / "sample"
    write_samples(every, years=[2023], extras=False)
    settings.landing_dir.mkdir(parents=True)
    for path in sorted(every.glob("*.xlsx"))[:2]:
        shutil.copy(path, settings.landing_dir / path.name)
    done = run_htx("run", env=htx_env(settings, without=UNSET), timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 new file(s)" in done.stdout, done.stdout
    assert settings.warehouse.is_file()


def test_default_transport_is_a_file_under_the_state_dir(tmp_path):
    environ = settings_under(tmp_path).airflow_environ()
    transport = json.loads(environ["AIRFLOW__OPENLINEAGE__TRANSPORT"])
    assert transport["type"] == "file"
    assert transport["log_file_path"] == str(tmp_path / "state" / "lineage" / "events.jsonl")
    assert transport["append"] is True
    assert environ["AIRFLOW__OPENLINEAGE__NAMESPACE"] == "htx"


@pytest.mark.parametrize(
    "operator",
    [
        {"OPENLINEAGE_URL": "http://marquez.internal:5000"},
        {"AIRFLOW__OPENLINEAGE__TRANSPORT": '{"type": "http", "url": "http://marquez:5000"}'},
        {"AIRFLOW__OPENLINEAGE__CONFIG_PATH": "/etc/openlineage.yml"},
        {"OPENLINEAGE__TRANSPORT__TYPE": "console"},
        {"AIRFLOW__OPENLINEAGE__DISABLED": "true"},
    ],
)
def test_an_operators_transport_or_switch_wins_over_the_default_file(tmp_path, operator):
    environ = settings_under(tmp_path, **operator).airflow_environ()
    transport = environ.get("AIRFLOW__OPENLINEAGE__TRANSPORT")
    assert transport == operator.get("AIRFLOW__OPENLINEAGE__TRANSPORT")  # theirs or none
    assert environ["AIRFLOW__OPENLINEAGE__NAMESPACE"] == "htx"


def test_an_operators_namespace_wins(tmp_path):
    environ = settings_under(tmp_path, OPENLINEAGE_NAMESPACE="tinh-lam-dong").airflow_environ()
    assert "AIRFLOW__OPENLINEAGE__NAMESPACE" not in environ
    environ = settings_under(
        tmp_path, AIRFLOW__OPENLINEAGE__NAMESPACE="tinh-lam-dong"
    ).airflow_environ()
    assert environ["AIRFLOW__OPENLINEAGE__NAMESPACE"] == "tinh-lam-dong"


_REPLACED = """
import json, sys
from sqlalchemy import delete, select
from airflow.models.asset import AssetActive, AssetModel
from airflow.utils.session import create_session
from etl.config import load_settings
from etl.flow.lineage import retire_replaced_assets

old = ("htx_warehouse", "htx://warehouse/published")  # the URI of the release before
with create_session() as session:
    current = session.scalars(select(AssetModel).where(AssetModel.name == old[0])).one()
    session.execute(delete(AssetActive).where(AssetActive.name == old[0]))
    session.add(AssetModel(name=old[0], uri=old[1]))
    session.flush()
    session.add(AssetActive(name=old[0], uri=old[1]))
retired = retire_replaced_assets(load_settings())
with create_session() as session:
    active = sorted(map(list, session.execute(select(AssetActive.name, AssetActive.uri))))
print(json.dumps({"retired": retired, "active": active}))
"""


def test_an_asset_whose_uri_changed_is_retired_and_the_next_run_publishes(lineage_run):
    """The upgrade from `htx://` URIs: the old asset of a name is still active in the metadata
    DB, so the new one could not be activated (a task naming it would fail). `htx init` and
    `htx run` retire it; the next run then loads and publishes through the new assets."""
    settings, before, sample = lineage_run
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HTX_", "AIRFLOW"))},
        **settings.airflow_environ(),
    }
    done = subprocess.run(
        [sys.executable, "-c", _REPLACED], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["retired"] == [["htx_warehouse", "htx://warehouse/published"]]
    uris = {a.name: a.uri for a in vars(assets(settings)).values()}
    assert sorted(map(tuple, found["active"])) == sorted(
        (name, uri) for name, uri in uris.items() if name != WAREHOUSE_ASSET
    )
    # A run with a new workbook: the publish task names the asset whose URI was replaced.
    new = sorted(sample.glob("*.xlsx"))[3]
    shutil.copy(new, settings.landing_dir / new.name)
    again = run_htx(
        "run", env={k: v for k, v in env.items() if not k.startswith("AIRFLOW")}, timeout=900
    )
    assert again.returncode == 0, again.stderr[-5000:]
    events = _events(settings)[len(before) :]
    published = _task_events(events, "htx_publish", "publish")
    assert [e["eventType"] for e in published] == ["START", "COMPLETE"]
    assert _datasets(published[-1], "outputs") == [("file", str(settings.warehouse))]
