"""The package installed as a deployment installs it (a Docker image, an Airflow worker):
built from the checkout (sdist, then the wheel from the sdist), installed, not editable,
into a fresh virtual environment outside the checkout; then `htx run` from another folder
with only the HTX_* settings, and the checkout's tests run against the installed copy.

Nothing is downloaded: the new environment gets the lock's packages, and the build gets
setuptools, from uv's default cache, which `make venv` fills. Nothing is cached across
runs: the environment, the build and the run are made afresh under a temporary folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tools.sample import expected_counts, write_samples

CHECKOUT = Path(__file__).resolve().parent.parent
UV = Path(sys.executable).with_name("uv")
RESOURCE_FOLDERS = ("sql", "expectations", "config", "dags", "reference")
# Checkout tests that need no tool beside the product, run against the installed package:
# the DAG files parsed from the packaged dags/, the SQL models, suites, criteria and
# reference data loaded from the packaged copies, the reader and the template.
INSTALLED_TESTS = ("test_dag.py", "test_load.py", "test_template.py", "test_values.py")


def _run(command: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=1800, **kwargs
    )
    assert result.returncode == 0, (command, result.stdout[-5000:], result.stderr[-5000:])
    return result


def _files(root: Path) -> dict[Path, bytes]:
    """Every file under `root`, relative, with its bytes; no bytecode a local run left."""
    return {
        path.relative_to(root): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment outside the checkout holding the lock's packages and the
    project's wheel; returns its python."""
    root = tmp_path_factory.mktemp("install")
    assert not root.resolve().is_relative_to(CHECKOUT)
    venv = root / "venv"
    _run([UV, "venv", "--offline", "--quiet", "--python", sys.executable, venv])
    python = venv / "bin" / "python"
    lock = CHECKOUT / "requirements.lock"
    # `pip sync`, as `make venv` does, not `pip install -r`: install resolves, which needs each
    # wheel's metadata, and uv caches that (wheels-v7/.../*.msgpack) only when a resolve fetched
    # it online (`make lock`); a machine that only ran `make venv` has the wheels and the index
    # pages but no metadata, so an offline resolve fails ("needs to be downloaded from a
    # registry"). Sync installs the lock's pins as they are, from what `make venv` cached.
    _run([UV, "pip", "sync", "--offline", "--quiet", "--require-hashes", "--python", python,
          lock])  # fmt: skip
    # `uv build` builds the sdist, then the wheel from the unpacked sdist: what MANIFEST.in
    # leaves out of the sdist is missing from the wheel too. A fresh build each time (no
    # cached wheel of the checkout), with setuptools from the cache.
    dist = root / "dist"
    _run([UV, "build", "--offline", "--quiet", "--out-dir", dist, CHECKOUT])
    [wheel] = dist.glob("*.whl")
    _run([UV, "pip", "install", "--offline", "--quiet", "--no-deps", "--python", python, wheel])
    return python


def _installed_config(python: Path, cwd: Path) -> dict:
    probe = (
        "import importlib.util, json, sysconfig, etl, etl.config as c\n"
        "s = c.load_settings({})\n"
        "print(json.dumps({'etl': etl.__file__, 'in_checkout': c.IN_CHECKOUT,\n"
        "  'site_packages': sysconfig.get_paths()['purelib'],\n"
        "  'dirs': [str(d) for d in (c.SQL_DIR, c.EXPECTATIONS_DIR, c.CONFIG_DIR, c.DAGS_DIR,\n"
        "           c.REFERENCE_DIR)],\n"
        "  'warehouse': str(s.warehouse), 'landing': str(s.landing_dir),\n"
        "  'tools': importlib.util.find_spec('tools.sample') is not None}))\n"
    )
    return json.loads(_run([python, "-P", "-c", probe], cwd=cwd, env={}).stdout)


def test_the_installed_package_is_the_wheel_in_the_new_environment(installed, tmp_path):
    found = _installed_config(installed, tmp_path)
    site_packages = Path(found["site_packages"])
    assert site_packages.is_relative_to(installed.parent.parent)
    assert Path(found["etl"]) == site_packages / "etl" / "__init__.py"
    assert found["in_checkout"] is False
    resources = site_packages / "etl" / "_resources"
    assert found["dirs"] == [str(resources / name) for name in RESOURCE_FOLDERS]
    # Tools beside the product are not shipped in it.
    assert found["tools"] is False


def test_relative_defaults_resolve_against_the_working_directory(installed, tmp_path):
    found = _installed_config(installed, tmp_path)
    assert found["warehouse"] == str(tmp_path / "warehouse" / "htx.duckdb")
    assert found["landing"] == str(tmp_path / "data" / "landing")


def test_sql_suites_config_dags_reference_and_templates_ship_byte_identical(installed):
    etl = Path(_installed_config(installed, installed.parent)["etl"]).parent
    for name in RESOURCE_FOLDERS:
        shipped, source = _files(etl / "_resources" / name), _files(CHECKOUT / name)
        assert source, name
        assert shipped == source, name
    templates = _files(CHECKOUT / "etl" / "outputs" / "templates")
    assert _files(etl / "outputs" / "templates") == templates


@pytest.fixture(scope="module")
def installed_run(installed, tmp_path_factory):
    """The sample in a landing folder, then `htx run` from a folder outside the checkout
    with nothing but HTX_* settings in its environment (no PATH, no HOME)."""
    root = tmp_path_factory.mktemp("installed-run")
    files = write_samples(root / "landing")
    cwd = root / "elsewhere"
    cwd.mkdir()
    env = {
        "HTX_LANDING_DIR": str(root / "landing"),
        # Relative: under the working directory, since there is no checkout.
        "HTX_WAREHOUSE": "warehouse/htx.duckdb",
        "HTX_STATE_DIR": "warehouse/state",
        "HTX_EXPORT_DIR": str(root / "exports"),
    }
    htx = installed.with_name("htx")
    result = subprocess.run(
        [str(htx), "run"], cwd=cwd, env=env, capture_output=True, text=True, timeout=1800
    )
    return cwd, root / "exports", files, result


def test_htx_run_from_another_folder_with_only_htx_settings_loads_and_publishes(installed_run):
    cwd, exports, files, result = installed_run
    assert result.returncode == 0, result.stderr[-5000:]
    warehouse = cwd / "warehouse" / "htx.duckdb"
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        statuses = dict(
            con.execute("select file_name, status from audit.file_ingestion").fetchall()
        )
        loaded = {
            (unit, year): n
            for unit, year, n in con.execute(
                "select i.unit_code, i.report_year, count(*) from core.fact_cooperative_year "
                "join audit.file_ingestion i using (file_id) group by all"
            ).fetchall()
        }
    finally:
        con.close()
    assert statuses == {f.path.name: f.expected_status for f in files}
    assert loaded == {key: rows["htx"] for key, rows in expected_counts(files).items()}
    assert (cwd / "warehouse" / "state" / "airflow" / "airflow.db").exists()
    assert (exports / "quality_report.html").exists()
    assert (exports / "marts.xlsx").exists()
    assert (exports / "parquet" / "marts.replication_candidates.parquet").exists()
    assert "HTX warehouse summary" in result.stdout


def test_checkout_tests_pass_against_the_installed_package(installed, tmp_path):
    # -P: the checkout is not on sys.path, so `etl` can only come from the new environment;
    # the plugin fails the session if any etl module was imported from elsewhere.
    plugin = tmp_path / "installed_only.py"
    plugin.write_text(
        "import sys\n"
        f"PREFIX = {str(installed.parent.parent)!r}\n"
        "def pytest_sessionfinish(session, exitstatus):\n"
        "    stray = sorted(name for name, module in sys.modules.items()\n"
        "                   if name.split('.')[0] == 'etl'\n"
        "                   and not (getattr(module, '__file__', None) or PREFIX)"
        ".startswith(PREFIX))\n"
        "    if stray or 'etl' not in sys.modules:\n"
        "        print('etl modules outside the installed package:', stray or 'etl not loaded')\n"
        "        session.exitstatus = 1\n"
    )
    env = {"PYTHONPATH": str(tmp_path), "HOME": str(tmp_path)}
    tests = [CHECKOUT / "tests" / name for name in INSTALLED_TESTS]
    result = subprocess.run(
        [str(installed), "-P", "-m", "pytest", "-q", "-p", "installed_only",
         "-p", "no:cacheprovider", *map(str, tests)],
        cwd=CHECKOUT, env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-5000:]
    assert " passed" in result.stdout
    assert "failed" not in result.stdout
