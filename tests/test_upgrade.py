"""Upgrades in place: the state folder and warehouse of the previous release are taken over.

The previous release is extracted from this checkout's history (`git archive`) and runs its
own `htx run` on the sample corpus and the test corpus; this code's `htx run` then takes the
same state folder over. Its ledger migrates, no file, raw copy or arrival is lost, every file
the old reader and rules staged is staged again, and the warehouse equals a fresh build of
the same landing folder by this code.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import duckdb
import pyarrow
import pytest
from conftest import htx_env, run_htx

from etl.config import Settings, settings_under
from etl.warehouse import ledger
from etl.warehouse.stamp import staging_stamp

# The release before this one: its ledger has no layout version and its outcomes no stamp.
# Keep this pinned to the last release whenever a new one is made.
PREVIOUS_RELEASE = "90c1f148d6d6d36be4d384ae19917975f32828d6"
CHECKOUT = Path(__file__).resolve().parents[1]
CORPUS = CHECKOUT / "tests" / "corpus"
WORKBOOKS = (".xlsx", ".xls", ".ods")

# Audit columns that say when or in which run something happened, not what: an upgraded
# state keeps its old arrival times and run ids, a fresh build has its own.
VOLATILE = {
    "audit.file_ingestion": {"run_id", "ingested_at", "landed_at"},
    "audit.file_sighting": {"first_seen"},
    "audit.build_info": {"built_at", "run_id"},
}


def previous_release(folder: Path) -> Path:
    """The previous release's tree, from this checkout's history."""
    archive = subprocess.run(
        ["git", "-C", str(CHECKOUT), "archive", "--format=tar", PREVIOUS_RELEASE],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        # Extraction filters came with Python 3.11.4 (Debian 12 ships 3.11.2): this archive
        # is the checkout's own history, so without them the plain extraction is as safe.
        if hasattr(tarfile, "data_filter"):
            tar.extractall(folder, filter="data")
        else:
            tar.extractall(folder)  # noqa: S202
    return folder


def run_previous(old: Path, settings: Settings, *args: str) -> subprocess.CompletedProcess:
    """The previous release's `htx` (its console entry was etl.cli:entry) with this venv's
    Python. `-P` and PYTHONPATH put the old tree first on sys.path, before this checkout's
    editable install (a meta-path finder consulted after sys.path)."""
    code = (
        "import sys, etl; print('etl imported from', etl.__file__, file=sys.stderr); "
        "from etl.cli import entry; entry()"
    )
    env = {**htx_env(settings), "PYTHONPATH": str(old)}
    return subprocess.run(
        [sys.executable, "-P", "-c", code, *args],
        env=env,
        cwd=old,
        capture_output=True,
        text=True,
        timeout=1800,
    )


def run_current(settings: Settings) -> subprocess.CompletedProcess:
    return run_htx("run", env=htx_env(settings))


def task_logs(settings: Settings, skip: set[Path] = frozenset()) -> str:
    """The task logs Airflow wrote under the state folder (but those in `skip`)."""
    found = sorted(p for p in (settings.airflow_home / "logs").rglob("*") if p.is_file())
    return "\n".join(p.read_text(errors="replace") for p in found if p not in skip)


def rows(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def tables(path: Path) -> dict[str, list[str]]:
    """Every table of core, marts and audit, with its columns in order."""
    found: dict[str, list[str]] = {}
    for schema, table, column in rows(
        path,
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema in ('core', 'marts', 'audit') "
        "order by table_schema, table_name, ordinal_position",
    ):
        found.setdefault(f"{schema}.{table}", []).append(column)
    return found


def content(path: Path, table: str, columns: list[str]) -> list[tuple]:
    """A table's rows without its volatile columns; a raw copy by its name (its folder is
    the state folder's)."""
    keep = [
        f"regexp_extract(\"{c}\", '[^/]*$')" if c == "raw_path" else f'"{c}"'
        for c in columns
        if c not in VOLATILE.get(table, set())
    ]
    return rows(path, f"select {', '.join(keep)} from {table} order by all")


def alert_files(path: Path) -> set[int]:
    """The files the alerts of a warehouse or ledger name (`… file_id 123)`)."""
    return {
        int(found)
        for (body,) in rows(path, "select body from audit.quality_alert")
        for found in re.findall(r"\bfile_id (\d+)\)", body)
    }


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory):
    """The previous release runs the corpus; this code takes its state over; and this code
    builds the same landing folder from nothing. Three `htx run`s."""
    from tools.sample import write_samples

    root = tmp_path_factory.mktemp("upgrade")
    old = previous_release(root / "previous")
    upgraded = settings_under(root / "upgraded", HTX_LANDING_DIR=str(root / "landing"))
    fresh = settings_under(root / "fresh", HTX_LANDING_DIR=str(root / "landing"))
    write_samples(upgraded.landing_dir)
    for workbook in sorted(CORPUS.iterdir()):
        if workbook.suffix in WORKBOOKS:
            shutil.copy2(workbook, upgraded.landing_dir / f"corpus_{workbook.name}")

    before = run_previous(old, upgraded, "run")
    assert before.returncode == 0, before.stderr[-5000:]
    con = duckdb.connect(str(upgraded.ledger), read_only=True)
    try:
        old_version = ledger.version(con)
        old_files = con.execute(
            "select file_id, file_name, sha256, raw_path, status, ingested_at "
            "from audit.file_ingestion order by file_id"
        ).fetchall()
        old_columns = [d[0] for d in con.execute("describe audit.file_ingestion").fetchall()]
        old_sightings = con.execute("select * from audit.file_sighting order by all").fetchall()
        old_alerts = con.execute("select * from audit.quality_alert order by all").fetchall()
    finally:
        con.close()
    old_logs = set((upgraded.airflow_home / "logs").rglob("*"))

    after = run_current(upgraded)
    assert after.returncode == 0, after.stderr[-5000:]
    built = run_current(fresh)
    assert built.returncode == 0, built.stderr[-5000:]
    return {
        "old": old,
        "upgraded": upgraded,
        "fresh": fresh,
        "before": before,
        "after": after,
        "old_version": old_version,
        "old_files": old_files,
        "old_columns": old_columns,
        "old_sightings": old_sightings,
        "old_alerts": old_alerts,
        # What the upgrading run said: its output and its own task logs.
        "upgrade_log": after.stdout + after.stderr + task_logs(upgraded, old_logs),
    }


def test_the_previous_release_ran_from_its_own_tree(upgrade):
    old = upgrade["old"]
    imported = re.search(r"etl imported from (\S+)", upgrade["before"].stderr)
    assert imported
    assert Path(imported.group(1)).is_relative_to(old)
    # Its ledger is the old layout: no version table, no staging stamp.
    assert upgrade["old_version"] == 0
    assert "staged_by" not in upgrade["old_columns"]
    assert {f[1] for f in upgrade["old_files"]} >= {
        f"corpus_{p.name}" for p in CORPUS.iterdir() if p.suffix in WORKBOOKS
    }


def test_the_ledger_migrates_and_loses_no_file_arrival_or_sighting(upgrade):
    settings = upgrade["upgraded"]
    con = duckdb.connect(str(settings.ledger), read_only=True)
    try:
        assert ledger.version(con) == ledger.LEDGER_VERSION
        files = con.execute(
            "select file_id, file_name, sha256, raw_path, ingested_at, staged_by "
            "from audit.file_ingestion order by file_id"
        ).fetchall()
        sightings = set(con.execute("select * from audit.file_sighting").fetchall())
    finally:
        con.close()
    kept = {f[0]: (*f[:4], f[4]) for f in files}
    for file_id, name, sha, raw, _status, arrived in upgrade["old_files"]:
        # Same file, same raw copy, same arrival (which of two submissions is later must
        # not change because the file was staged again).
        assert kept[file_id] == (file_id, name, sha, raw, arrived)
    assert len(files) == len(upgrade["old_files"])
    assert sightings >= set(upgrade["old_sightings"])
    # Every file is now stamped by this code's reader and rules.
    assert {f[5] for f in files} == {staging_stamp(settings.limits)}


def test_every_raw_copy_is_kept_unchanged(upgrade):
    from etl.read.discover import sha256_of

    for _file_id, _name, sha, raw, _status, _arrived in upgrade["old_files"]:
        assert Path(raw).is_file()
        assert sha256_of(Path(raw)) == sha


def test_the_log_says_which_files_were_staged_again(upgrade):
    log = upgrade["upgrade_log"]
    assert "ledger migrated from version 0" in log
    for _file_id, name, *_ in upgrade["old_files"]:
        assert f"restaging {name} (file_id" in log, name
    # A status that changed is said so, with why.
    statuses = dict(
        rows(upgrade["upgraded"].ledger, "select file_name, status from audit.file_ingestion")
    )
    for _file_id, name, _sha, _raw, status, _arrived in upgrade["old_files"]:
        if statuses[name] != status:
            assert f"{name}: status {status} -> {statuses[name]} after" in log, name


def test_the_upgraded_warehouse_equals_a_fresh_build(upgrade):
    upgraded, fresh = upgrade["upgraded"].warehouse, upgrade["fresh"].warehouse
    assert tables(upgraded) == tables(fresh)
    for table, columns in tables(fresh).items():
        if table == "audit.quality_alert":
            continue  # a record of messages sent, not of the files: see the next test
        assert content(upgraded, table, columns) == content(fresh, table, columns), table
    # The fingerprint says what a build was made from (audit trail without run ids, staged
    # rows' digests, SQL, configuration): the two builds were made from the same.
    fingerprint = "select fingerprint, files_loaded from audit.build_info"
    assert rows(upgraded, fingerprint) == rows(fresh, fingerprint)


def test_the_alerts_already_sent_are_kept_and_no_file_goes_unreported(upgrade):
    # audit.quality_alert is the history of what was sent in which run (every column but
    # severity and subject names the run or its time), so an upgraded state holds the old
    # release's alerts and its own. What must hold: nothing sent is forgotten, and every
    # file a fresh build alerts about was alerted about in the upgraded state.
    settings = upgrade["upgraded"]
    kept = set(rows(settings.ledger, "select * from audit.quality_alert"))
    assert kept >= set(upgrade["old_alerts"])
    assert alert_files(upgrade["fresh"].warehouse) <= alert_files(settings.warehouse)


def test_a_second_run_after_the_upgrade_finds_nothing_new(upgrade):
    settings = upgrade["upgraded"]
    digest = settings.warehouse.read_bytes()
    again = run_current(settings)
    assert again.returncode == 0, again.stderr[-5000:]
    assert "nothing new" in again.stdout
    assert settings.warehouse.read_bytes() == digest


# Cheap checks of the pieces, without Airflow.


def _outcome(file_id: int, stamp: str | None, raw: Path) -> dict:
    return {
        "file_id": file_id,
        "file_name": f"{file_id}.xlsx",
        "sha256": f"{file_id:064x}",
        "size_bytes": 1,
        "raw_path": str(raw),
        "status": "quarantined",
        "rows_read": 0,
        "rows_rejected": 0,
        "warnings": 0,
        "reason": "test",
        "run_id": "test-run",
        "findings": [],
        "staged_by": stamp,
    }


def test_an_old_stamped_file_is_picked_for_restage_and_a_current_one_is_not(settings):
    from etl.flow.tasks import discover_files

    current = staging_stamp(settings.limits)
    raw = settings.raw_dir / "x.xlsx"
    settings.landing_dir.mkdir(parents=True)  # empty: only the restage picks files
    con = ledger.connect(settings.ledger)
    try:
        ledger.record(
            con,
            [
                _outcome(1, "0123456789abcdef0123", raw),
                _outcome(2, current, raw),
                _outcome(3, None, raw),
            ],
        )
        assert [f["file_id"] for f in ledger.stale_files(con, current)] == [1, 3]
    finally:
        con.close()
    assert sorted(f["file_id"] for f in discover_files(settings)) == [1, 3]


def test_a_status_that_changes_on_restage_is_reported_with_its_cause(settings):
    raw = settings.raw_dir / "x.xlsx"
    con = ledger.connect(settings.ledger)
    try:
        ledger.record(con, [_outcome(1, "older", raw), _outcome(2, "older", raw)])
        restaged = [{**_outcome(1, "newer", raw), "reason": None}, _outcome(2, "newer", raw)]
        restaged[0].update(status="valid", unit_code="663", report_year=2023)
        changes = ledger.record(con, restaged)
    finally:
        con.close()
    assert [str(c) for c in changes] == ["1.xlsx: status quarantined -> loaded after rules changed"]


def _previous_ledger(path: Path) -> None:
    """A ledger with the previous release's own DDL and a row in it."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema audit")
        for table in ledger.AUDIT_TABLES:
            ddl = subprocess.run(
                [
                    "git",
                    "-C",
                    str(CHECKOUT),
                    "show",
                    f"{PREVIOUS_RELEASE}:sql/ddl/audit/{table}.sql",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            con.execute(ddl)
        con.execute(
            "insert into audit.file_ingestion (file_id, file_name, sha256, size_bytes, status, "
            "run_id, ingested_at) values (7, 'a.xlsx', 'ab', 1, 'loaded', 'old', now())"
        )
    finally:
        con.close()


def test_a_previous_release_ledger_is_recognised_and_migrated_once(tmp_path, caplog):
    path = tmp_path / "ledger.duckdb"
    _previous_ledger(path)
    with caplog.at_level("INFO", logger="etl.warehouse.ledger"):
        con = ledger.connect(path)
        con.close()
        con = ledger.connect(path)  # a second open changes nothing
    try:
        assert ledger.version(con) == ledger.LEDGER_VERSION
        versions = con.execute("select version from audit.ledger_version").fetchall()
        assert versions == [(n,) for n, _, _ in ledger.MIGRATIONS]
        row = con.execute(
            "select file_id, file_name, status, staged_by from audit.file_ingestion"
        ).fetchall()
        assert row == [(7, "a.xlsx", "loaded", None)]
        # The ledger's columns are in the DDL's order: the build copies them by position.
        columns = [d[0] for d in con.execute("describe audit.file_ingestion").fetchall()]
        fresh = duckdb.connect()
        fresh.execute("create schema audit")
        from etl.config import SQL_DIR

        fresh.execute((SQL_DIR / "ddl" / "audit" / "file_ingestion.sql").read_text())
        assert columns == [d[0] for d in fresh.execute("describe audit.file_ingestion").fetchall()]
    finally:
        con.close()
    migrated = [r.message for r in caplog.records if "ledger migrated" in r.message]
    assert len(migrated) == len(ledger.MIGRATIONS)


def test_a_new_ledger_starts_at_the_current_version(tmp_path):
    con = ledger.connect(tmp_path / "ledger.duckdb")
    try:
        assert ledger.version(con) == ledger.LEDGER_VERSION
    finally:
        con.close()


def test_a_ledger_from_a_newer_release_is_refused(tmp_path):
    path = tmp_path / "ledger.duckdb"
    ledger.connect(path).close()
    con = duckdb.connect(str(path))
    con.execute("insert into audit.ledger_version values (?, now(), 'from the future')", [99])
    con.close()
    with pytest.raises(RuntimeError, match="newer than this release"):
        ledger.connect(path)
    assert os.path.exists(path)


def test_a_current_ledger_opens_without_its_ddl_and_a_lost_table_comes_back(tmp_path, monkeypatch):
    """Every load opens the ledger three times or more: one at this release's layout runs no
    DDL (each run cost ~40 ms), but one missing a table is brought up to date again."""
    path = tmp_path / "ledger.duckdb"
    ledger.connect(path).close()
    ran: list[str] = []
    run_sql_file = ledger.run_sql_file

    def spied(con, sql_path):
        ran.append(sql_path.name)
        run_sql_file(con, sql_path)

    monkeypatch.setattr(ledger, "run_sql_file", spied)
    con = ledger.connect(path)
    try:
        # No result left unfinished: `record` registers Arrow tables on the connection.
        con.register("outcomes", pyarrow.table({"file_id": [1]}))
        assert ledger.version(con) == ledger.LEDGER_VERSION
        con.execute("drop table audit.file_sighting")
    finally:
        con.close()
    assert ran == []
    con = ledger.connect(path)
    try:
        assert con.execute("select count(*) from audit.file_sighting").fetchone() == (0,)
        versions = con.execute("select version from audit.ledger_version").fetchall()
        assert versions == [(n,) for n, _, _ in ledger.MIGRATIONS]  # recorded once
    finally:
        con.close()
    assert "file_sighting.sql" in ran
