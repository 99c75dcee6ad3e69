"""The report's charts: Vega-Lite specs rendered offline to inline SVG by vl-convert.

The specs are those Altair builds and validates for these charts, written out as plain
dicts (`tests/test_charts.py` holds each equal to Altair's, validated against its
Vega-Lite schema): importing Altair and validating a spec cost more than drawing it.
vl-convert bundles Vega, Vega-Lite and its fonts; rendering fetches nothing. Each chart's
SVG is Vega's own (its marks in `role-mark` groups); its root's class `marks` becomes `chart`,
with an `aria-label` so the page (and its browser check) finds it. Every mark carries
an `aria-label` from its `description` ("category · series: value"), which Vega escapes.

vl-convert draws on a thread of its own, started by its first drawing: a process forked
after that has no such thread, and would wait for it forever (it raises instead). `drawn_here`
says whether this process (or the one it was forked from) has drawn already; a process that
has not may fork processes that each draw. In `htx run` the charts are drawn by its warm
validator (`etl.quality.validator`), which started vl-convert while Airflow started
(`warm`): the first drawing in a process costs about 0.7 s, the others a few milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from html import escape
from pathlib import Path

from markupsafe import Markup

from etl.outputs.html import number

log = logging.getLogger(__name__)

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]  # fmt: skip
# The colour of a series that groups the others (`grouped` of `line_chart`): none of the
# palette's, which repeats from the eleventh series on.
GROUPED_COLOUR = "#c7c7c7"
WIDTH, HEIGHT = 640, 240
# The Vega-Lite version of the specs (Altair 6's; `tests/test_charts.py` checks it).
SCHEMA = "https://vega.github.io/schema/vega-lite/v6.4.1.json"
# Altair's default view size, in every spec it writes.
CONFIG = {"view": {"continuousWidth": 300, "continuousHeight": 300}}


# Where rendered charts are kept between reports (`cached_in`), and the keys used since.
_CACHE: ContextVar[tuple[Path, set[str]] | None] = ContextVar("chart_cache", default=None)
# The charts asked for within `collected`, when in it.
_COLLECTED: ContextVar[list[tuple[dict, str]] | None] = ContextVar("charts_wanted", default=None)
# The process that started vl-convert's thread in this process's memory, if one did: this
# one, or the one it was forked from (`drawn_here`).
_DRAWN_BY: int | None = None


def drawn_here() -> bool:
    """Whether a chart was drawn in this process, or in the process it was forked from
    before the fork: then no process forked from it can draw."""
    return _DRAWN_BY is not None


@contextmanager
def cached_in(folder: Path) -> Iterator[None]:
    """Within this block a chart whose spec (data included) was rendered before is read
    from `folder` instead of being rendered again; charts no report of this block used
    are removed from it at the end."""
    folder.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    token = _CACHE.set((folder, used))
    try:
        yield
    finally:
        _CACHE.reset(token)
    for stale in folder.glob("*.svg"):
        if stale.stem not in used:
            stale.unlink(missing_ok=True)
    for left in folder.glob(".*.svg.*.tmp"):  # of a drawing killed mid-write (`_keep`)
        left.unlink(missing_ok=True)


@contextmanager
def collected() -> Iterator[list[tuple[dict, str]]]:
    """Within this block no chart is drawn: each one's spec and title are added to the list
    this yields, and an empty SVG stands for it (`draw_ahead` hands them over)."""
    wanted: list[tuple[dict, str]] = []
    token = _COLLECTED.set(wanted)
    try:
        yield wanted
    finally:
        _COLLECTED.reset(token)


def draw_ahead(folder: Path, wanted: list[tuple[dict, str]]) -> int:
    """Hand the charts of `wanted` that `folder` (a `cached_in` folder) does not hold yet
    to the warm validator, which draws them into it meanwhile (`_draw_into`): a report
    drawn in that folder once the validator's work has ended (`validator.settle`) reads
    them back. Returns how many were handed over: none when there is no validator."""
    from etl.quality import validator

    keys = {}
    for spec, title in wanted:
        key = _key(spec, title)
        if not (folder / f"{key}.svg").exists():
            keys[key] = (spec, title)
    if not keys:
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    missing = [(key, spec, title) for key, (spec, title) in keys.items()]
    return len(missing) if validator.submit(_draw_into, str(folder), missing) else 0


def _draw_into(folder: str, missing: list[tuple[str, dict, str]]) -> None:
    """In the validator: each chart drawn and kept in `folder` under its key. A chart that
    cannot be drawn is logged and left out: the report draws it (and fails) as before.
    Never raises: the failure the exports' `validator.settle` tells is the Data Docs'."""
    for key, spec, title in missing:
        try:
            _keep(Path(folder), key, _finished(draw(spec), title))
        except Exception:
            log.warning("chart %r not drawn ahead: the report draws it", title, exc_info=True)


def _svg(spec: dict, title: str) -> Markup:
    wanted = _COLLECTED.get()
    if wanted is not None:
        wanted.append((spec, title))
        return Markup("")
    cache = _CACHE.get()
    if cache is None:
        return _render(spec, title)
    folder, used = cache
    key = _key(spec, title)
    used.add(key)
    try:
        return Markup((folder / f"{key}.svg").read_text(encoding="utf-8"))  # noqa: S704 - written by _keep
    except OSError:
        pass
    svg = _render(spec, title)
    _keep(folder, key, svg)
    return svg


def _keep(folder: Path, key: str, svg: str) -> None:
    path = folder / f"{key}.svg"
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(str(svg), encoding="utf-8")
    os.replace(temporary, path)


def _key(spec: dict, title: str) -> str:
    """The chart's spec and title, this module and the renderer's version."""
    digest = hashlib.sha256(json.dumps([spec, title], sort_keys=True, default=str).encode())
    digest.update(_code())
    return digest.hexdigest()


@cache
def _code() -> bytes:
    from etl.outputs.stamps import code_digest

    return code_digest([Path(__file__)], packages=("vl-convert-python",)).encode()


def _render(spec: dict, title: str) -> Markup:
    from etl.quality import validator

    # By `htx run`'s warm validator when there is one, where vl-convert was started while
    # Airflow started (`warm`); else, or when it cannot draw, here.
    try:
        svg = validator.call(draw, spec)
    except ForkedAfterDrawing:
        svg = draw(spec)
    return _finished(svg, title)


def _finished(svg: str, title: str) -> Markup:
    """Vega's SVG as the page holds it: no prolog, the class `chart`, an `aria-label`."""
    svg = svg[svg.index("<svg") :]  # no XML prolog inside HTML
    head, rest = svg.split(">", 1)
    head = head.replace(' class="marks"', "")
    head = head.replace("<svg", f'<svg class="chart" role="img" aria-label="{escape(title)}"', 1)
    svg = f"{head}>{rest}"
    return Markup(svg)  # noqa: S704 - Vega's own SVG; every text in it is escaped by Vega


class ForkedAfterDrawing(RuntimeError):
    """This process was forked from one that had drawn: vl-convert's thread is not here."""


def draw(spec: dict) -> str:
    """Vega's SVG of a Vega-Lite spec, drawn by vl-convert in this process."""
    global _DRAWN_BY
    import vl_convert as vlc

    if _DRAWN_BY not in (None, os.getpid()):
        raise ForkedAfterDrawing(
            "vl-convert cannot draw in a process forked from one that drew: its thread is not here"
        )
    _DRAWN_BY = os.getpid()  # from the first call on: its thread may be starting
    return str(vlc.vegalite_to_svg(spec, allowed_base_urls=[]))


def warm() -> None:
    """Start vl-convert in this process: its first drawing costs about 0.7 s of CPU (its
    JavaScript engine starts), every later one a few milliseconds. The warm validator does
    it while Airflow starts, so that a report's charts cost it only their drawing. After
    this, a process forked from this one cannot draw."""
    draw(_chart([{"value": 1}], {"type": "bar"}, {"y": {"field": "value", "type": "quantitative"}}))


def _scale(names: list[str], grouped: str | None = None) -> dict:
    """One colour a series, in the palette's order; `grouped` in grey."""
    colours = [
        GROUPED_COLOUR if name == grouped else PALETTE[i % len(PALETTE)]
        for i, name in enumerate(names)
    ]
    return {"domain": names, "range": colours}


def _chart(rows: list[dict], mark: dict, encoding: dict) -> dict:
    """The spec as Altair writes it (`Chart(...).to_dict()`), its rows as `data.values`."""
    return {
        "config": CONFIG,
        "data": {"values": rows},
        "mark": mark,
        "encoding": encoding,
        "height": HEIGHT,
        "width": WIDTH,
        "$schema": SCHEMA,
    }


def line_spec(
    years: list[int],
    series: dict[str, list[float | None]],
    unit: str,
    grouped: str | None = None,
) -> dict:
    """One line per series over the years; the series named `grouped` in grey."""
    rows = [
        {"year": str(y), "series": name, "value": v, "label": f"{name} · {y}: {number(v, ',.1f')}"}
        for name, values in series.items()
        for y, v in zip(years, values, strict=True)
        if v is not None
    ]
    encoding = {
        "color": {
            "field": "series",
            "legend": {"columns": 4, "orient": "bottom"},
            "scale": _scale(list(series), grouped),
            "title": None,
            "type": "nominal",
        },
        "description": {"field": "label", "type": "nominal"},
        "x": {
            "axis": {"labelAngle": 0},
            "field": "year",
            "sort": [str(y) for y in years],
            "title": None,
            "type": "ordinal",
        },
        "y": {"field": "value", "title": unit, "type": "quantitative"},
    }
    return _chart(rows, {"type": "line", "point": True}, encoding)


def line_chart(
    title: str,
    years: list[int],
    series: dict[str, list[float | None]],
    unit: str,
    grouped: str | None = None,
) -> Markup:
    """One line per series over the years (`line_spec`), drawn."""
    return _svg(line_spec(years, series, unit, grouped), title)


def bar_spec(
    categories: list[str], stacks: dict[str, list[float]], unit: str, counted: bool = False
) -> dict:
    """Stacked bars: one bar per category (in the given order), one colour per stack.
    `counted` (cooperatives): shown whole, on an axis of whole steps, unless a value is not
    (the others' average per district)."""
    whole = counted and all(float(v).is_integer() for vs in stacks.values() for v in vs)
    shown = ",.0f" if whole else ",.1f"
    rows = [
        {
            "category": category,
            "series": name,
            "order": n,
            "value": values[i],
            "label": f"{category} · {name}: {number(values[i], shown)}",
        }
        for i, category in enumerate(categories)
        for n, (name, values) in enumerate(stacks.items())
    ]
    encoding = {
        "color": {
            "field": "series",
            "legend": {"orient": "bottom"} if len(stacks) > 1 else None,
            "scale": _scale(list(stacks)),
            "sort": list(stacks),
            "title": None,
            "type": "nominal",
        },
        "description": {"field": "label", "type": "nominal"},
        "order": {"field": "order", "type": "quantitative"},
        "x": {
            "axis": {"labelAngle": -40 if len(categories) > 8 else 0, "labelLimit": 140},
            "field": "category",
            "sort": list(categories),
            "title": None,
            "type": "nominal",
        },
        "y": {
            **({"axis": {"format": ",d", "tickMinStep": 1}} if whole else {}),
            "field": "value",
            "stack": "zero",
            "title": unit,
            "type": "quantitative",
        },
    }
    return _chart(rows, {"type": "bar"}, encoding)


def bar_chart(
    title: str,
    categories: list[str],
    stacks: dict[str, list[float]],
    unit: str,
    counted: bool = False,
) -> Markup:
    """Stacked bars (`bar_spec`), drawn."""
    return _svg(bar_spec(categories, stacks, unit, counted), title)
