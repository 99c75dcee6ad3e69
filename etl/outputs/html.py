"""HTML from Jinja2 templates kept as files in `templates/`, escaped by default.

Every page the project writes itself (the quality report, the officials' report, the alert
e-mail) is rendered here with autoescape on, so a value from a workbook reaches the page as
text without its caller having to remember to escape it. A name the template uses but the
caller did not pass fails the render instead of printing nothing. Templates compiled by one
process are kept for the next in the state folder (`compiled_in`).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).with_name("templates")


def number(value: float | int | Decimal | None, spec: str) -> str:
    """`{{ x | number(",.1f") }}`: Python's format spec; None stays empty. A fixed number of
    decimals is rounded half up on the value as the warehouse holds it (a double by its
    shortest decimal form), as the officials' workbook shows it (`#,##0.0`): 12,770.25 is
    12,770.3 and 46,782.45 is 46,782.5, where `format` would round half to even (12,770.2)
    on the binary double just under it (46,782.4)."""
    if value is None:
        return ""
    places = re.search(r"\.(\d+)f$", spec)
    if places is None or (isinstance(value, float) and not math.isfinite(value)):
        return format(value, spec)
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return format(exact.quantize(Decimal(1).scaleb(-int(places[1])), ROUND_HALF_UP), spec)


# The name of a subfolder of `compiled_in`.
_DIGEST = re.compile("[0-9a-f]{16}")
# Where templates compiled are kept within a `compiled_in` block; None: nowhere.
_COMPILED: ContextVar[Path | None] = ContextVar("compiled", default=None)


@contextmanager
def compiled_in(folder: Path) -> Iterator[None]:
    """Within this block a template compiled before (by any process) is read back from
    `folder` (Jinja's bytecode cache; a template whose source changed is compiled again)
    rather than compiled: 0.075 s a process for the reports. Kept in a subfolder of this
    module's and Jinja's digest: Jinja tells a template's bytecode by its source alone, not
    by the environment's options that shape it (`_environment`). The first process to
    enter a new digest's subfolder removes those of earlier digests (an upgrade's leftovers)."""
    shaped_by = Path(__file__).read_bytes() + jinja2.__version__.encode()
    where = folder / hashlib.sha256(shaped_by).hexdigest()[:16]
    if not where.is_dir():
        where.mkdir(parents=True, exist_ok=True)
        for earlier in folder.iterdir():
            if earlier != where and earlier.is_dir() and _DIGEST.fullmatch(earlier.name):
                shutil.rmtree(earlier, ignore_errors=True)
    token = _COMPILED.set(where)
    try:
        yield
    finally:
        _COMPILED.reset(token)


def environment() -> jinja2.Environment:
    return _environment(_COMPILED.get())


@cache
def _environment(compiled: Path | None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(compiled)) if compiled else None,
        # Every template here is HTML or SVG: escape in all of them, whatever the suffix.
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        finalize=lambda value: "" if value is None else value,  # NULL prints as empty
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["number"] = number
    return env


def render(template: str, **context: object) -> str:
    """The page `template` renders with `context`; every value in it is escaped."""
    return environment().get_template(template).render(**context)


def write_page(path: Path, template: str, **context: object) -> Path:
    """Render `template` to `path`, replaced whole (written beside it, then renamed)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(render(template, **context), encoding="utf-8")
    os.replace(temporary, path)
    return path
