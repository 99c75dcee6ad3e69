"""Airflow's own services on loopback, for the tests that run the DAGs the way production does.

`AirflowCluster` migrates a metadata DB in a temporary AIRFLOW_HOME (through `htx init`, as
operators do), starts the api-server, the dag-processor, the scheduler and, for Celery, a
worker, each in its own process group with its log in the home; talks to the REST API; and
stops every process it started, also when the test fails. Failures carry the tail of every
service log and task log, so a red test says why.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import free_port

from etl.config import Settings

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
HTX = str(Path(sys.executable).with_name("htx"))
TERMINAL = {"success", "failed"}
# One REST call's hang guard, not a speed assertion: on a loaded machine (2 cores, other
# suites beside this one) the api-server has taken more than 30 s to answer a GET.
REQUEST_TIMEOUT = 120


class ServiceError(AssertionError):
    """A service did not come up, or a run did not end as it should."""


class AirflowCluster:
    def __init__(
        self,
        settings: Settings,
        extra_env: dict[str, str] | None = None,
        before: dict[str, list[str]] | None = None,
        workers: dict[str, list[str]] | None = None,
    ):
        """`settings`: the project's settings (HTX_STATE_DIR holds the Airflow home);
        `extra_env`: AIRFLOW__... settings of the deployment under test (executor, DB);
        `before`: servers to start first (a broker); `workers`: executor workers to start
        with the scheduler. Each is a name and a command."""
        self.settings = settings
        self.before = before or {}
        self.workers = workers or {}
        self.home = settings.airflow_home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            # The test decides which DAGs run: none is scheduled before it unpauses it.
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__PARSING_CLEANUP_INTERVAL": "5",
            **(extra_env or {}),
        }
        self.env.pop("AIRFLOW_HOME", None)  # `htx` puts it under HTX_STATE_DIR
        # What every Airflow process gets: the project's defaults under these overrides.
        overrides = {k: v for k, v in self.env.items() if k.startswith("AIRFLOW__")}
        project = dataclasses.replace(settings, airflow_overrides=tuple(overrides.items()))
        self.env.update(project.airflow_environ())
        self.processes: dict[str, subprocess.Popen] = {}
        self.survivors: list[str] = []
        self._token: str | None = None

    # -- life cycle -------------------------------------------------------------------------

    def __enter__(self) -> AirflowCluster:
        self.home.mkdir(parents=True, exist_ok=True)
        # A test run stopped by SIGTERM (a CI timeout) still stops the services it started.
        self._previous_sigterm = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            for name, command in self.before.items():
                self.start(name, command)
            self.run_cli([HTX, "init"])
            self.start(
                "api-server", [AIRFLOW, "api-server", "-H", "127.0.0.1", "-p", str(self.port)]
            )
            self.start("dag-processor", [AIRFLOW, "dag-processor"])
            self.start("scheduler", [AIRFLOW, "scheduler"])
            for name, command in self.workers.items():
                self.start(name, command)
            self.wait_for(self._healthy, 180, "the api-server to answer /api/v2/monitor/health")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        signal.signal(signal.SIGTERM, self._previous_sigterm)

    def run_cli(self, command: list[str]) -> str:
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise ServiceError(
                f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
            )
        return done.stdout

    def start(self, name: str, command: list[str]) -> None:
        log = (self.home / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            command,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: children stop with it
        )
        log.close()

    def stop(self) -> None:
        """SIGTERM to every process group started, then SIGKILL to what is left.

        Every descendant is listed first: a process that outlived its group's signals
        (Airflow runs each task in a group of its own) is killed and named in `survivors`.
        """
        import psutil

        family: list[psutil.Process] = []
        for process in self.processes.values():
            with contextlib.suppress(psutil.Error):
                family += psutil.Process(process.pid).children(recursive=True)
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            _signal_group(process, signal.SIGKILL)
            process.wait()
        _, alive = psutil.wait_procs(family, timeout=5)
        for child in alive:
            with contextlib.suppress(psutil.Error):
                self.survivors.append(" ".join(child.cmdline()) or str(child.pid))
                child.kill()
        self.processes.clear()

    def alive(self) -> list[str]:
        """Services still running, and processes that outlived `stop`'s group signals."""
        return [n for n, p in self.processes.items() if p.poll() is None] + self.survivors

    # -- REST API ---------------------------------------------------------------------------

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        if self._token is None:
            with urllib.request.urlopen(
                f"{self.url}/auth/token", timeout=REQUEST_TIMEOUT
            ) as response:
                self._token = json.loads(response.read())["access_token"]
        request = urllib.request.Request(
            f"{self.url}/api/v2{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise ServiceError(f"{method} {path}: {exc.code} {exc.read()[:2000]!r}") from exc

    def _healthy(self) -> bool:
        dead = [n for n, p in self.processes.items() if p.poll() is not None]
        if dead:
            raise ServiceError(f"{', '.join(dead)} exited\n{self.diagnostics()}")
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=5) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def _dag_known(self, dag_id: str) -> bool:
        try:
            self.api("GET", f"/dags/{dag_id}")
            return True
        except ServiceError:
            return False

    def unpause(self, *dag_ids: str) -> None:
        for dag_id in dag_ids:
            self.wait_for(lambda d=dag_id: self._dag_known(d), 180, f"{dag_id} to be parsed")
            self.api("PATCH", f"/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        run = self.api(
            "POST", f"/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}}
        )
        return run["dag_run_id"]

    def runs(self, dag_id: str) -> list[dict]:
        return self.api("GET", f"/dags/{dag_id}/dagRuns?order_by=id&limit=100")["dag_runs"]

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 600) -> dict:
        """Wait for a DAG run to end; fail with the logs unless it succeeded."""
        found: dict = {}

        def ended() -> bool:
            found.update(self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}"))
            return found["state"] in TERMINAL

        self.wait_for(ended, timeout, f"{dag_id} run {run_id} to end")
        if found["state"] != "success":
            raise ServiceError(
                f"{dag_id} run {run_id} ended {found['state']}\n{self.diagnostics()}"
            )
        return found

    def queued_asset_events(self, dag_id: str) -> int:
        """Asset events waiting to start a run of the DAG (held back by max_active_runs)."""
        try:
            found = self.api("GET", f"/dags/{dag_id}/assets/queuedEvents")
        except ServiceError as exc:
            if ": 404 " in str(exc):
                return 0  # none queued
            raise
        return int(found.get("total_entries", len(found.get("queued_events", []))))

    def task_states(self, dag_id: str, run_id: str) -> dict[str, list[str]]:
        tis = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=1000")
        states: dict[str, list[str]] = {}
        for ti in tis["task_instances"]:
            states.setdefault(ti["task_id"], []).append(ti["state"])
        return states

    def wait_quiet(self, dag_ids: tuple[str, ...], settled: int, timeout: float = 900) -> None:
        """Wait until `settled` runs in all of `dag_ids` have ended, and none is left running."""

        def quiet() -> bool:
            runs = [r for d in dag_ids for r in self.runs(d)]
            done = [r for r in runs if r["state"] in TERMINAL]
            waiting = sum(self.queued_asset_events(d) for d in dag_ids)
            return len(done) >= settled and len(done) == len(runs) and not waiting

        self.wait_for(quiet, timeout, f"{settled} runs of {', '.join(dag_ids)} to end")
        failed = [
            (r["dag_id"], r["dag_run_id"])
            for d in dag_ids
            for r in self.runs(d)
            if r["state"] != "success"
        ]
        if failed:
            raise ServiceError(f"runs failed: {failed}\n{self.diagnostics()}")

    def wait_backfills(self, dag_id: str, timeout: float = 900) -> list[dict]:
        """Wait until every backfill of the DAG has completed, then for its runs to end."""

        def completed() -> bool:
            found = self.api("GET", f"/backfills?dag_id={dag_id}")["backfills"]
            return bool(found) and all(b["completed_at"] for b in found)

        self.wait_for(completed, timeout, f"the backfills of {dag_id} to complete")
        self.wait_quiet((dag_id,), settled=1, timeout=timeout)
        return self.api("GET", f"/backfills?dag_id={dag_id}")["backfills"]

    # -- waiting and telling why -------------------------------------------------------------

    def wait_for(self, condition, timeout: float, what: str) -> None:
        """Poll `condition` until true. The timeout is a hang guard, not a speed assertion:
        it is generous enough for a slow machine, and a hang fails with the logs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            dead = [n for n, p in self.processes.items() if p.poll() is not None]
            if dead:
                raise ServiceError(
                    f"{', '.join(dead)} exited while waiting for {what}\n{self.diagnostics()}"
                )
            time.sleep(1)
        raise ServiceError(
            f"gave up waiting for {what} after {timeout:.0f} s\n{self.diagnostics()}"
        )

    def diagnostics(self) -> str:
        parts = []
        for name in self.processes:
            path = self.home / f"{name}.log"
            if path.exists():
                parts.append(f"--- {name}.log (tail) ---\n{_tail(path, 4000)}")
        logs = sorted((self.home / "logs").rglob("*.log"), key=lambda p: p.stat().st_mtime)
        for path in logs[-4:]:
            parts.append(f"--- {path.relative_to(self.home)} (tail) ---\n{_tail(path, 3000)}")
        return "\n".join(parts)


def _tail(path: Path, size: int) -> str:
    data = path.read_bytes()
    return data[-size:].decode(errors="replace")


def _exit_on_sigterm(signum, _frame) -> None:
    raise SystemExit(128 + signum)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
