"""The Data Docs site of a new build rendered by htx run's warm validator in the background
(`etl.quality.data_docs.prepare_data_docs` submits it, `publish_prepared` settles it): the
same site as rendered in process, waited for before it is moved in place, a failed render
left to the export, and a validator killed mid-render leaving no part of a site in place.

A job is held where a test needs it by a named pipe: opening one blocks until the other end
is opened, so the test and the validator meet there without sleeping or polling."""

from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import duckdb
from conftest import htx_env, query, run_htx

from etl.config import settings_under
from etl.quality import data_docs, validator
from etl.warehouse.build import build_path
from tools.sample import write_samples


def _settings(root: Path):
    from etl.config import load_settings

    return load_settings(
        {
            "HTX_LANDING_DIR": str(root / "landing"),
            "HTX_WAREHOUSE": str(root / "warehouse.duckdb"),
            "HTX_STATE_DIR": str(root / "state"),
            "HTX_EXPORT_DIR": str(root / "exports"),
        }
    )


def _warehouse(path: Path, fingerprint: str, cells: int = 2) -> None:
    """A warehouse (or build) holding `audit.rejected_row` and its `audit.build_info`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "create schema audit; "
            "create table audit.rejected_row (file_id bigint, rule varchar, severity varchar); "
            "create table audit.build_info (fingerprint varchar, built_at timestamp)"
        )
        con.execute(
            "insert into audit.rejected_row select 1, 'coop_code_format', 'error' from range(?)",
            [cells],
        )
        con.execute("insert into audit.rejected_row values (2, 'coop_missing_next_year', 'w')")
        con.execute("alter table audit.rejected_row add column sheet varchar")
        con.execute("insert into audit.build_info values (?, now())", [fingerprint])
    finally:
        con.close()


def _built(settings, fingerprint: str, cells: int = 2) -> None:
    """A sealed build and the same warehouse published (as the swap leaves it)."""
    _warehouse(build_path(settings), fingerprint, cells)
    _warehouse(settings.warehouse, fingerprint, cells)


# GX names each stored result by its run's time and gives ids at random: the rest is equal.
_RUN = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|\d{8}T\d{6}\.\d+Z|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00)?"
    r"|_run_time_sort': [0-9.]+"
)


def _site(folder: Path) -> dict[str, str | bytes]:
    """Every file of a site, by its path; in its text, its run's times and GX's ids blanked
    (GX's static files, fonts among them, as they are)."""
    site: dict[str, str | bytes] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            content = path.read_bytes()
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError:
                site[_RUN.sub("-", path.relative_to(folder).as_posix())] = content
                continue
            site[_RUN.sub("-", path.relative_to(folder).as_posix())] = _RUN.sub("-", text)
    return site


def test_a_submitted_job_runs_after_its_answer_and_settle_waits_for_it(tmp_path, warm):
    pipe, done = tmp_path / "pipe", tmp_path / "done"
    os.mkfifo(pipe)
    # Answered before it runs: the job waits for this test to open the pipe's other end.
    assert validator.submit(_wait_then_write, pipe, done)
    with open(pipe, "w") as writer:  # returns once the job has opened the pipe to read
        writer.write("go")
    assert validator.settle() is None
    assert done.read_text() == "go"  # the job had ended when the settle was answered
    assert validator.settle() is None  # nothing submitted since


def test_a_failed_job_is_told_by_the_next_settle_only(warm):
    assert validator.submit(int, "not a number")
    failure = validator.settle()
    assert failure is not None
    assert "invalid literal" in failure
    assert validator.settle() is None
    assert validator.call(os.getpid) == warm.process.pid  # it serves on


def test_without_a_validator_nothing_is_submitted(tmp_path):
    assert validator.current() is None
    assert not validator.submit(_wait_then_write, tmp_path / "pipe", tmp_path / "done")
    assert validator.settle() is None


def test_the_site_rendered_in_the_background_is_the_one_rendered_in_process(tmp_path, warm):
    warehouse = tmp_path / "warehouse.duckdb"
    _warehouse(warehouse, "build-1")
    there, here = tmp_path / "there", tmp_path / "here"
    assert data_docs.build_site(warehouse, there, submit=True) == there / "index.html"
    assert validator.settle() is None
    validator.stop()
    data_docs.build_site(warehouse, here)  # no validator: rendered here, before it returns
    site = _site(here)
    assert len(site) > 10
    assert _site(there) == site
    assert not list(tmp_path.glob(".*building"))


def test_publish_prepared_waits_for_the_site_being_rendered(tmp_path, monkeypatch):
    settings = _settings(tmp_path)
    _built(settings, "build-1")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    render = data_docs._build

    def held(site, *args):  # in the validator: waits for the test, then renders
        pipe.read_text()
        render(site, *args)

    monkeypatch.setattr(data_docs, "_build", held)
    validator.start()  # the fork renders with `held`
    try:
        prepared = settings.build_dir / "data_docs"
        assert data_docs.prepare_data_docs(settings) == prepared / "index.html"
        release = threading.Thread(target=pipe.write_text, args=("go",))
        release.start()  # the render goes on once the job and this thread meet at the pipe
        try:
            index = data_docs.publish_prepared(settings)
        finally:
            release.join()
    finally:
        validator.stop()
    target = settings.export_dir / "data_docs"
    assert index == target / "index.html"
    assert (target / "htx_build_fingerprint.txt").read_text() == "build-1"
    assert not prepared.exists()
    monkeypatch.setattr(data_docs, "_build", render)
    data_docs.build_site(settings.warehouse, tmp_path / "here")
    assert _site(target) == _site(tmp_path / "here")


def test_a_failed_render_is_logged_and_left_to_the_export(tmp_path, warm, monkeypatch, caplog):
    settings = _settings(tmp_path)
    _built(settings, "build-1")
    # The documents are read here and sent: one GX cannot render fails there.
    monkeypatch.setattr(
        "etl.quality.validate.load_suite_documents", lambda: {"htx": {"name": "htx"}}
    )
    prepared = settings.build_dir / "data_docs"
    assert data_docs.prepare_data_docs(settings) == prepared / "index.html"
    assert data_docs.publish_prepared(settings) is None
    assert "GX Data Docs not prepared with the build" in caplog.text
    assert "KeyError: 'expectations'" in caplog.text
    assert not prepared.exists()
    assert not (settings.export_dir / "data_docs").exists()
    assert not list(settings.build_dir.glob(".data_docs*"))
    # The export's fallback (`write_exports`): the site built by a child process.
    index = data_docs.DataDocsBuild(settings).wait()
    assert index == settings.export_dir / "data_docs" / "index.html"
    assert (settings.export_dir / "data_docs" / "htx_content_key.txt").is_file()


def test_a_validator_killed_mid_render_leaves_no_part_of_a_site(tmp_path, monkeypatch):
    settings = _settings(tmp_path)
    prepared = settings.build_dir / "data_docs"
    # An earlier build's site beside the build, prepared in process.
    _built(settings, "build-1")
    data_docs.prepare_data_docs(settings)
    earlier = _site(prepared)
    assert earlier["htx_build_fingerprint.txt"] == "build-1"
    _built(settings, "build-2", cells=3)
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    render = data_docs._build

    def stuck(site, *args):  # in the validator: part of a site, then held until killed
        (site / "index.html").write_text("half")
        pipe.read_text()

    monkeypatch.setattr(data_docs, "_build", stuck)
    validator.start()
    try:
        data_docs.prepare_data_docs(settings)
        writer = os.open(pipe, os.O_WRONLY)  # returns once the render is held mid-way
    finally:
        validator.stop()  # the end of the run: the validator is killed
    os.close(writer)
    building = settings.build_dir / ".data_docs.building"
    assert (building / "index.html").read_text() == "half"  # left where it was being built
    assert _site(prepared) == earlier  # the earlier site, whole, not replaced
    assert data_docs.publish_prepared(settings) is None  # not the published build's site
    assert not (settings.export_dir / "data_docs").exists()
    # The next prepare (here in process) removes what was left and puts the whole site.
    monkeypatch.setattr(data_docs, "_build", render)
    data_docs.prepare_data_docs(settings)
    assert not building.exists()
    assert (prepared / "htx_build_fingerprint.txt").read_text() == "build-2"
    assert data_docs.publish_prepared(settings) == settings.export_dir / "data_docs" / "index.html"


def test_htx_run_renders_the_site_in_the_background_and_publishes_it_whole(tmp_path):
    """Three sample workbooks through `htx run` (both DAGs, its warm validator): the load
    hands the site over, the export puts it in place, the site the one built in process."""
    settings = settings_under(tmp_path / "run")
    every = tmp_path / "sample"
    write_samples(every, years=[2023], extras=False)
    settings.landing_dir.mkdir(parents=True)
    for path in sorted(every.glob("*.xlsx"))[:3]:
        shutil.copy(path, settings.landing_dir / path.name)
    done = run_htx("run", env=htx_env(settings, without=("HTX_", "AIRFLOW")), timeout=900)
    assert done.returncode == 0, done.stderr[-5000:]
    assert "being rendered by the warm validator" in done.stdout + done.stderr
    assert "GX Data Docs not prepared" not in done.stdout + done.stderr
    site = settings.export_dir / "data_docs"
    ((fingerprint,),) = query(
        settings, "select fingerprint from audit.build_info order by built_at desc limit 1"
    )
    assert (site / "htx_build_fingerprint.txt").read_text() == fingerprint
    assert not list(settings.build_dir.glob("*data_docs*"))  # moved, nothing left building
    data_docs.build_site(settings.warehouse, tmp_path / "here")
    assert _site(site) == _site(tmp_path / "here")


def _wait_then_write(pipe: Path, done: Path) -> None:
    """A job: what the other end of `pipe` writes, written to `done`."""
    done.write_text(pipe.read_text())
