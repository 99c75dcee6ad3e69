"""The report's charts: Altair (Vega-Lite) specs rendered offline to inline SVG by vl-convert.

vl-convert bundles Vega, Vega-Lite and its fonts; rendering fetches nothing. Each chart's
SVG is Vega's own (its marks in `role-mark` groups); its root's class `marks` becomes `chart`,
with an `aria-label` so the page (and its browser check) finds it. Every mark carries
an `aria-label` from its `description` ("category · series: value"), which Vega escapes.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]  # fmt: skip
WIDTH, HEIGHT = 640, 240


def _svg(chart, title: str) -> Markup:
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(chart.to_dict(), allowed_base_urls=[])
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
        alt.Chart(alt.Data(values=rows))
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
    return _svg(chart, title)


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
        alt.Chart(alt.Data(values=rows))
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
    return _svg(chart, title)
