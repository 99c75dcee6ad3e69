"""The report's charts: Altair (Vega-Lite) specs rendered offline to inline SVG by vl-convert.

vl-convert bundles Vega, Vega-Lite and its fonts; rendering fetches nothing. Each chart's
SVG is Vega's own (its marks in `role-mark` groups); its root's class `marks` becomes `chart`,
with an `aria-label` so the page (and its browser check) finds it. Every mark carries
an `aria-label` from its `description` ("category · series: value"), which Vega escapes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from html import escape
from pathlib import Path

from markupsafe import Markup

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]  # fmt: skip
WIDTH, HEIGHT = 640, 240


# Where rendered charts are kept between reports (`cached_in`), and the keys used since.
_CACHE: ContextVar[tuple[Path, set[str]] | None] = ContextVar("chart_cache", default=None)


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


def _spec(chart, rows: list[dict], validate: bool) -> dict:
    """The chart's Vega-Lite spec with its data: the chart is built and checked against
    Altair's schema without its rows (thousands of values checked one by one cost more than
    the rendering), then its rows go in as `data.values`, as `alt.Data(values=rows)` puts
    them: the same spec."""
    spec = chart.to_dict(validate=validate)
    spec["data"] = {"values": rows}
    return spec


def _svg(chart, rows: list[dict], title: str) -> Markup:
    cache = _CACHE.get()
    if cache is None:
        return _render(_spec(chart, rows, validate=True), title)
    folder, used = cache
    # The key from the spec unvalidated; a chart rendered is validated as before.
    key = _key(_spec(chart, rows, validate=False), title)
    used.add(key)
    path = folder / f"{key}.svg"
    try:
        return Markup(path.read_text(encoding="utf-8"))  # noqa: S704 - written by _render below
    except OSError:
        pass
    svg = _render(_spec(chart, rows, validate=True), title)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(str(svg), encoding="utf-8")
    os.replace(temporary, path)
    return svg


def _key(spec: dict, title: str) -> str:
    """The chart's spec and title, this module and the renderer's version."""
    from importlib.metadata import version

    digest = hashlib.sha256(json.dumps([spec, title], sort_keys=True, default=str).encode())
    digest.update(version("vl-convert-python").encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def _render(spec: dict, title: str) -> Markup:
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(spec, allowed_base_urls=[])
    svg = svg[svg.index("<svg") :]  # no XML prolog inside HTML
    head, rest = svg.split(">", 1)
    head = head.replace(' class="marks"', "")
    head = head.replace("<svg", f'<svg class="chart" role="img" aria-label="{escape(title)}"', 1)
    svg = f"{head}>{rest}"
    return Markup(svg)  # noqa: S704 - Vega's own SVG; every text in it is escaped by Vega


def _legend(names: list[str]):
    import altair as alt

    return alt.Scale(domain=names, range=[PALETTE[i % len(PALETTE)] for i in range(len(names))])


def line_chart(
    title: str, years: list[int], series: dict[str, list[float | None]], unit: str
) -> Markup:
    """One line per series over the years."""
    import altair as alt

    rows = [
        {"year": str(y), "series": name, "value": v, "label": f"{name} · {y}: {v:,.1f}"}
        for name, values in series.items()
        for y, v in zip(years, values, strict=True)
        if v is not None
    ]
    chart = (
        alt.Chart(alt.Data(values=[]))
        .mark_line(point=True)
        .encode(
            x=alt.X("year:O", title=None, sort=[str(y) for y in years],
                    axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=unit),
            color=alt.Color("series:N", title=None, scale=_legend(list(series)),
                            legend=alt.Legend(orient="bottom", columns=4)),
            description="label:N",
        )
        .properties(width=WIDTH, height=HEIGHT)
    )  # fmt: skip
    return _svg(chart, rows, title)


def bar_chart(
    title: str, categories: list[str], stacks: dict[str, list[float]], unit: str
) -> Markup:
    """Stacked bars: one bar per category (in the given order), one colour per stack."""
    import altair as alt

    rows = [
        {
            "category": category,
            "series": name,
            "order": n,
            "value": values[i],
            "label": f"{category} · {name}: {values[i]:,.1f}",
        }
        for i, category in enumerate(categories)
        for n, (name, values) in enumerate(stacks.items())
    ]
    legend = alt.Legend(orient="bottom") if len(stacks) > 1 else None
    chart = (
        alt.Chart(alt.Data(values=[]))
        .mark_bar()
        .encode(
            x=alt.X("category:N", title=None, sort=list(categories),
                    axis=alt.Axis(labelAngle=-40 if len(categories) > 8 else 0,
                                  labelLimit=140)),
            y=alt.Y("value:Q", title=unit, stack="zero"),
            color=alt.Color("series:N", title=None, scale=_legend(list(stacks)),
                            legend=legend, sort=list(stacks)),
            order=alt.Order("order:Q"),
            description="label:N",
        )
        .properties(width=WIDTH, height=HEIGHT)
    )  # fmt: skip
    return _svg(chart, rows, title)
