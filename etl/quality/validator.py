"""A warm validator for `htx run`: a forked process that imports GX and builds the sheets'
suites while Airflow starts, then validates the frames sent to it.

Importing GX and building the suites costs about 2.5 s of CPU. In `htx run` the stage task
would pay it in the ingest run's process, serially, after Airflow's start-up (its metadata
DB checked, the DAGs parsed, the DAG run made), while the machine's other core is idle.
`start` forks a process that pays it there, in parallel, when a run may have files to
validate (the warm-ups `htx run` gives it: the suites built, `validate.prepare`, and the
charts' renderer started, `charts.warm`); `etl.quality.validate` then calls it for each
batch of validations (its arguments in, the findings out, pickled over a Unix socket)
instead of importing GX. The
findings are those of the same code on the same frames: the frames arrive as they were
(pickle keeps dtypes and index), and an exception the validation raises there is raised
here. The other work that needs GX in a run, the Data Docs site of a new build, is done
there too: GX is imported in that process alone. So are the report's charts: the validator
starts vl-convert after GX (`etl.outputs.charts.warm`), whose first drawing costs 0.7 s.
This module knows none of that work: it runs the module-level functions it is sent.
`call` waits for such work; `submit` returns as soon as the validator has it (once the
work submitted before it has ended), and `settle` waits for it to end and tells the first
failure since the last `settle`, if any (the load hands the site's rendering over and
ends, the publish hands over the report's new charts on the build; the export settles
them).

The validator is what this process and its forks share (the ingest run's fork inherits
`current()`); a scheduler's workers, tests and any process without one validate in
process, as before. A validator that cannot be reached (it died, or ended) is given up
for the life of the process, with a warning, and the validation runs in process. It is
killed with its parent (PR_SET_PDEATHSIG) and stopped by `stop` at the end of the run.
One process uses it at a time (`htx run` waits for its ingest fork); each request is its
own connection, so a client killed mid-request leaves the validator serving the next. It
serves one connection at a time, in order: a request made after a `submit` is answered
once the submitted work has ended.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TypeVar, cast

log = logging.getLogger(__name__)

R = TypeVar("R")


class Validator:
    """A running validator process and the socket it serves on."""

    def __init__(self, process, folder: Path) -> None:
        self.process = process
        self.folder = folder
        self.address = str(folder / "socket")
        self.broken = False

    def ask(self, request: tuple) -> object:
        """The answer to a request (`_answer`), computed there. Raises `Unavailable` when
        the validator cannot answer, or what the work raised there."""
        if self.broken:
            raise Unavailable("the validator was given up earlier")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.connect(self.address)
                connection = Connection(sock.detach())
            try:
                connection.send(request)
                status, answer = connection.recv()
            finally:
                connection.close()
        except (OSError, EOFError) as exc:
            self.broken = True
            raise Unavailable(f"the validator did not answer: {exc!r}") from exc
        if status != "ok":
            raise answer
        return answer

    def stop(self) -> None:
        """End the process and remove its socket's folder."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        shutil.rmtree(self.folder, ignore_errors=True)


class Unavailable(RuntimeError):
    """The validator cannot be reached: validate in process."""


_current: Validator | None = None


def current() -> Validator | None:
    """This process's validator, inherited or started here; None when there is none."""
    return _current


def start(*warm_ups: Callable[[], object]) -> Validator:
    """Fork the validator: it runs each warm-up (GX imported and the suites built, the
    charts' renderer started: a failure is logged, and the work it would have readied is
    readied when asked for), then serves requests until `stop`, or until this process ends.
    It becomes `current()`."""
    global _current
    if _current is not None:
        return _current
    # pandas and Arrow, which `htx run` imports anyway before its ingest fork, imported
    # here first: the validator inherits them instead of importing them again (~0.4 s).
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401

    folder = Path(tempfile.mkdtemp(prefix="htx-validator-"))  # 0700: this user's alone
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(folder / "socket"))
        listener.listen(8)
        context = multiprocessing.get_context("fork")
        process = context.Process(
            target=_serve,
            args=(listener, os.getpid(), warm_ups),
            name="htx-validator",
            daemon=True,
        )
        process.start()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        # Only the validator listens: once it has ended, a connection is refused at once.
        listener.close()
    _current = Validator(process, folder)
    log.info(
        "warm validator started (pid %d): %s",
        process.pid,
        ", ".join(_name(w) for w in warm_ups) or "no warm-up",
    )
    return _current


def stop() -> None:
    """Stop this process's validator, if it started one."""
    global _current
    validator, _current = _current, None
    if validator is not None:
        validator.stop()


def call(function: Callable[..., R], *args: object) -> R:
    """`function(*args)` in the validator when this process has one, else here: other work
    that needs GX (the Data Docs site, `etl.quality.data_docs`), so that GX is imported in
    one process only. `function` must be a module-level function (it is sent by name), and
    its result must pickle. What it raises there is raised here."""
    answer = _ask(("call", function, args))
    if answer is None:
        return function(*args)
    return cast(R, cast(tuple, answer)[0])


def submit(function: Callable[..., object], *args: object) -> bool:
    """Hand `function(*args)` to the validator and return before it runs (once the work
    submitted earlier has ended: the validator serves one request at a time): True
    when the validator took it; False when this process has none (or it cannot answer),
    and the caller does the work itself. As for `call`, `function` is sent by name. Any
    request after this one is answered once the work has ended; `settle` waits for it."""
    return _ask(("submit", function, args)) is not None


def settle() -> str | None:
    """Wait until the work `submit`ted has ended. The first failure of the work submitted
    since the last `settle` (the traceback, as text), or None: it succeeded, nothing was
    submitted since the last `settle`, or there is no validator (a validator that died
    meanwhile is logged as unavailable: its work may not have ended, and left what it
    left)."""
    return cast("str | None", _ask(("settle",)))


def _ask(request: tuple) -> object | None:
    validator = _current
    if validator is None or validator.broken:
        return None
    try:
        return validator.ask(request)
    except Unavailable:
        log.warning("the warm validator is unavailable: working in this process", exc_info=True)
        return None


def _answer(request: tuple) -> object:
    """In the validator: a request's answer. ("call", function, args): `(function(*args),)`."""
    if request[0] == "call":
        _, function, args = request
        return (function(*args),)
    raise ValueError(f"unknown request {request[0]!r}")


def _serve(
    listener: socket.socket, parent: int, warm_ups: tuple[Callable[[], object], ...]
) -> None:
    """In the fork: the warm-ups, then one request per connection, until killed. A
    submitted job runs once its request is answered and its connection closed, before the
    next connection is accepted; the first failure of the jobs submitted since the last
    "settle" is kept for the next one."""
    global _current
    from etl.forks import die_with

    die_with(parent)
    # Ctrl-C reaches the whole process group: the parent stops this process in its turn.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _current = None  # the parent's, if any: this process validates itself
    for warm_up in warm_ups:
        try:
            warm_up()
        except Exception:
            log.warning("warm-up %s failed in the validator", _name(warm_up), exc_info=True)
    failure: str | None = None  # the first of the jobs submitted, until a "settle" takes it
    while True:
        accepted, _ = listener.accept()
        connection = Connection(accepted.detach())
        try:
            request = connection.recv()
        except (OSError, EOFError):  # the client ended before its request was whole
            connection.close()
            continue
        job = None
        if request[0] == "submit":
            job = request[1:]
            answer: tuple = ("ok", "accepted")
        elif request[0] == "settle":
            answer, failure = ("ok", failure), None
        else:
            try:
                answer = ("ok", _answer(request))
            except Exception as exc:
                answer = ("error", exc)
        _send(connection, answer)
        if job is not None:
            function, args = job
            try:
                function(*args)
            except Exception:
                failure = failure or traceback.format_exc()


def _name(function: Callable) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def _send(connection: Connection, answer: tuple) -> None:
    """Send an answer and close the connection; an error that does not pickle goes as text."""
    try:
        try:
            connection.send(answer)
        except Exception:  # it does not pickle: the traceback as text
            failed = answer[1] if answer[0] == "error" else None
            text = traceback.format_exc()
            if failed is not None:
                text = "".join(traceback.format_exception(failed))
            connection.send(("error", RuntimeError(f"validation failed: {text}")))
    except OSError:
        pass  # the client is gone
    finally:
        connection.close()
