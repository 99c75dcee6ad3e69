"""`make run` and `htx run` never write to a landing folder a deployment names: an empty one
is said so, and nothing runs; one that is not there fails the command, naming it. The sample
is only ever written by `python -m tools.sample` (which `make run` calls for the default
folder when no HTX_LANDING_DIR is set)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HTX, run_htx

from etl.cli.main import default_landing
from etl.config import PROJECT_ROOT, settings_under

EMPTY = "holds no workbook: nothing to do"


def _environ(root: Path) -> tuple[dict[str, str], object]:
    settings = settings_under(root)
    settings.landing_dir.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HTX_", "AIRFLOW"))}
    return {**env, **settings.htx_environ()}, settings


def _nothing_written(settings) -> None:
    assert list(settings.landing_dir.iterdir()) == []
    assert not settings.warehouse.exists()
    assert not settings.state_dir.exists()
    assert not settings.export_dir.exists()


def test_htx_run_on_an_empty_named_landing_folder_writes_nothing(tmp_path):
    env, settings = _environ(tmp_path)
    done = run_htx("run", env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == f"landing folder {settings.landing_dir} {EMPTY}"
    _nothing_written(settings)


def test_htx_run_on_a_landing_folder_that_does_not_exist_fails_naming_it(tmp_path):
    """A mistyped HTX_LANDING_DIR, or a share that is not mounted, is not an empty folder:
    a run that exits 0 there, under a scheduler, loads nothing for weeks with no one told."""
    env, settings = _environ(tmp_path)
    missing = tmp_path / "not_mounted"
    env["HTX_LANDING_DIR"] = str(missing)
    done = run_htx("run", env=env, timeout=300)
    assert done.returncode == 2, done.stdout[-3000:]
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"cannot read the landing folder {missing} (HTX_LANDING_DIR): it does not exist. "
        "Mount the share it is on, or point HTX_LANDING_DIR at the folder the workbooks "
        "land in"
    )
    assert done.stdout == ""
    _nothing_written(settings)


def test_the_default_landing_folder_is_made_and_a_named_one_never(tmp_path):
    """`htx init`, `htx airflow` and `htx run` on a fresh clone (no HTX_LANDING_DIR, no
    data/landing): the project's own folder is made, empty, so a scheduler there runs with
    nothing new instead of failing `discover` and alerting every hour. A folder a
    deployment names is never made: one that is not there is an error."""
    default = tmp_path / "data" / "landing"
    settings = settings_under(tmp_path, HTX_LANDING_DIR=str(default))
    default_landing(settings, {})
    assert default.is_dir()
    assert list(default.iterdir()) == []
    named = settings_under(tmp_path, HTX_LANDING_DIR=str(tmp_path / "share"))
    default_landing(named, {"HTX_LANDING_DIR": str(tmp_path / "share")})
    assert not (tmp_path / "share").exists()


def test_htx_run_on_a_landing_path_that_is_a_file_fails_naming_it(tmp_path):
    env, _ = _environ(tmp_path)
    file = tmp_path / "landing.xlsx"
    file.write_bytes(b"a workbook named where its folder should be")
    env["HTX_LANDING_DIR"] = str(file)
    done = run_htx("run", env=env, timeout=300)
    assert done.returncode == 2, done.stdout[-3000:]
    said = done.stderr.strip().splitlines()[-1]
    assert said.startswith(f"cannot read the landing folder {file} (HTX_LANDING_DIR): ")
    assert ": it is a file, not a folder. " in said


def test_htx_run_that_cannot_write_a_folder_names_its_variable_without_a_traceback(tmp_path):
    """A folder the run must write (state, warehouse, exports) that cannot be written is
    said before any work, with the variable that names it: not a traceback at the lock,
    nor a publish that fails after the whole load."""
    env, settings = _environ(tmp_path)
    (settings.landing_dir / "663_2024.xlsx").write_bytes(b"not read: the run stops before")
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    for name, path in (
        ("HTX_STATE_DIR", blocker / "state"),
        ("HTX_WAREHOUSE", blocker / "htx.duckdb"),
        ("HTX_EXPORT_DIR", blocker / "exports"),
    ):
        done = run_htx("run", env={**env, name: str(path)}, timeout=300)
        assert done.returncode == 2, done.stdout[-3000:]
        assert "Traceback" not in done.stderr
        assert (
            done.stderr.strip()
            .splitlines()[-1]
            .startswith(f"cannot write {blocker if name == 'HTX_WAREHOUSE' else path} ({name}): ")
        )


def test_make_run_with_an_empty_named_landing_folder_writes_nothing_and_says_so(tmp_path):
    env, settings = _environ(tmp_path)
    default_landing = PROJECT_ROOT / "data" / "landing"
    before = sorted(default_landing.rglob("*")) if default_landing.exists() else None
    # `-o .venv/.installed`: the virtual environment counts as up to date. Refreshing it
    # from the lock file is `make venv`'s job, and it may not go to the network here.
    done = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "run"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"landing folder {settings.landing_dir} {EMPTY}" in done.stdout
    assert "sample workbooks" not in done.stdout  # the sample was not written anywhere
    _nothing_written(settings)
    after = sorted(default_landing.rglob("*")) if default_landing.exists() else None
    assert after == before  # nor into the default landing folder


def test_the_sample_has_its_own_command_line_outside_htx(tmp_path):
    out = tmp_path / "landing"
    done = subprocess.run(
        [sys.executable, "-m", "tools.sample", "--out", str(out), "--seed", "7"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == f"wrote 40 sample workbooks (province scale) to {out}"
    assert len(list(out.glob("*.xlsx"))) == 40
    # The new geography from the first run: 2026 reports of new communes and of the province.
    assert {p.name for p in out.glob("*_2026.xlsx")} == {
        "24611_2026.xlsx",
        "24615_2026.xlsx",
        "24617_2026.xlsx",
        "24733_2026.xlsx",
        "68_2026.xlsx",
    }
    refused = subprocess.run(
        [str(HTX), "sample", "--out", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode == 2
    assert "invalid choice: 'sample'" in refused.stderr
    assert not (tmp_path / "x").exists()


def test_make_venv_leaves_the_project_compiled():
    """`make venv` (which `make run` and `make test` call) writes the bytecode of the project's
    own modules: with PYTHONDONTWRITEBYTECODE set, as on this project's machines, every
    `htx` process otherwise compiled etl/ and dags/ from source again. Each .pyc must be
    the one Python accepts for its source: stamped with the source's time and size."""
    import importlib.util

    done = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "venv"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    sources = sorted((PROJECT_ROOT / "etl").rglob("*.py")) + sorted(
        (PROJECT_ROOT / "dags").glob("*.py")
    )
    assert len(sources) > 40
    stale = []
    for source in sources:
        compiled = Path(importlib.util.cache_from_source(str(source)))
        header = compiled.read_bytes()[:16] if compiled.exists() else b""
        stat = source.stat()
        if header[:4] != importlib.util.MAGIC_NUMBER or header[4:16] != (
            (0).to_bytes(4, "little")  # flags 0: checked by the source's time and size
            + (int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
            + (stat.st_size & 0xFFFFFFFF).to_bytes(4, "little")
        ):
            stale.append(source.relative_to(PROJECT_ROOT))
    assert stale == []


def test_a_default_landing_path_that_is_a_file_is_said_as_a_named_one_is(tmp_path):
    """No HTX_LANDING_DIR, and data/landing a file (a download saved under the folder's
    name): `htx run` says what `landing_files` says of any such path, in one line (exit 2),
    not a FileExistsError's traceback from making the folder."""
    from etl.read.discover import LandingMissing, landing_files

    default = tmp_path / "data" / "landing"
    default.parent.mkdir()
    default.write_bytes(b"a workbook saved where the folder should be")
    settings = settings_under(tmp_path, HTX_LANDING_DIR=str(default))
    default_landing(settings, {})
    assert default.read_bytes() == b"a workbook saved where the folder should be"
    with pytest.raises(LandingMissing, match="it is a file, not a folder"):
        landing_files(settings.landing_dir)
