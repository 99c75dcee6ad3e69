"""The self-contained HTML report for officials: charts drawn as inline SVG, viewable offline.

Four charts from the marts: revenue per district and year, the rating mix per year, support
by programme, and the replication candidates per district, with the candidates' table.
No script, font or style is fetched from anywhere: the file is the whole report.
"""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path

from etl.config import Settings

log = logging.getLogger(__name__)

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")  # fmt: skip
WIDTH, HEIGHT, PAD = 720, 320, 56

# Marks the page once the browser has laid out every chart (checked by the browser test).
_RENDER_CHECK = """
<script>
window.addEventListener('load', function () {
  var drawn = 0;
  document.querySelectorAll('svg.chart').forEach(function (svg) {
    var box = svg.getBBox();
    if (box.width > 0 && box.height > 0 && svg.querySelectorAll('.mark').length > 0) drawn++;
  });
  document.body.setAttribute('data-charts-rendered', String(drawn));
});
</script>
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _frame(title: str, y_max: float, unit: str) -> list[str]:
    parts = [
        f'<svg class="chart" role="img" aria-label="{_e(title)}" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - 10}" y2="{HEIGHT - PAD}" '
        'stroke="#333"/>',
        f'<line x1="{PAD}" y1="10" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#333"/>',
    ]
    for i in range(5):
        value = y_max * i / 4
        y = _y(value, y_max)
        parts.append(
            f'<text x="{PAD - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
            f"{value:,.0f}</text>"
            f'<line x1="{PAD}" y1="{y:.1f}" x2="{WIDTH - 10}" y2="{y:.1f}" stroke="#eee"/>'
        )
    parts.append(f'<text x="8" y="14" font-size="11">{_e(unit)}</text>')
    return parts


def _y(value: float, y_max: float) -> float:
    return HEIGHT - PAD - (value / y_max if y_max else 0) * (HEIGHT - PAD - 20)


def _x(index: int, count: int) -> float:
    span = WIDTH - PAD - 70
    return PAD + 20 + (span * index / max(count - 1, 1))


def _legend(names: list[str]) -> str:
    items = "".join(
        f'<span style="display:inline-block;margin-right:14px"><span style="display:'
        f"inline-block;width:10px;height:10px;background:{PALETTE[i % len(PALETTE)]};"
        f'margin-right:4px"></span>{_e(n)}</span>'
        for i, n in enumerate(names)
    )
    return f'<div class="legend">{items}</div>'


def line_chart(title: str, years: list[int], series: dict[str, list[float | None]], unit: str):
    y_max = max((v for values in series.values() for v in values if v is not None), default=1)
    parts = _frame(title, y_max * 1.05, unit)
    for i, year in enumerate(years):
        parts.append(
            f'<text x="{_x(i, len(years)):.1f}" y="{HEIGHT - PAD + 16}" font-size="11" '
            f'text-anchor="middle">{year}</text>'
        )
    for n, (name, values) in enumerate(series.items()):
        color = PALETTE[n % len(PALETTE)]
        points = [
            f"{_x(i, len(years)):.1f},{_y(v, y_max * 1.05):.1f}"
            for i, v in enumerate(values)
            if v is not None
        ]
        parts.append(
            f'<polyline class="mark" fill="none" stroke="{color}" stroke-width="2" '
            f'points="{" ".join(points)}"><title>{_e(name)}</title></polyline>'
        )
    parts.append("</svg>")
    return "".join(parts) + _legend(list(series))


def bar_chart(title: str, categories: list[str], stacks: dict[str, list[float]], unit: str) -> str:
    """Stacked bars: one bar per category, one colour per stack."""
    totals = [sum(s[i] for s in stacks.values()) for i in range(len(categories))]
    y_max = max(totals, default=1) * 1.05 or 1
    parts = _frame(title, y_max, unit)
    slot = (WIDTH - PAD - 30) / max(len(categories), 1)
    for i, category in enumerate(categories):
        x = PAD + 10 + slot * i
        base = 0.0
        for n, (name, values) in enumerate(stacks.items()):
            value = values[i]
            top, bottom = _y(base + value, y_max), _y(base, y_max)
            parts.append(
                f'<rect class="mark" x="{x:.1f}" y="{top:.1f}" width="{slot * 0.7:.1f}" '
                f'height="{max(bottom - top, 0):.1f}" fill="{PALETTE[n % len(PALETTE)]}">'
                f"<title>{_e(category)} · {_e(name)}: {value:,.1f}</title></rect>"
            )
            base += value
        parts.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - PAD + 16}" font-size="10" '
            f'text-anchor="middle">{_e(category[:16])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts) + (_legend(list(stacks)) if len(stacks) > 1 else "")


def write_dashboard(settings: Settings) -> Path:
    import duckdb

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        trend = con.execute(
            "select coalesce(district_name, 'Không xác định'), year, revenue_mvnd::double "
            "from marts.district_year order by district_code nulls last, year"
        ).fetchall()
        ratings = con.execute(
            "select year, sum(rated_tot), sum(rated_kha), sum(rated_trung_binh), sum(rated_yeu), "
            "sum(unrated) from marts.district_year group by year order by year"
        ).fetchall()
        support = con.execute(
            "select program_code, sum(amount_mvnd)::double from marts.program_year "
            "group by program_code order by program_code"
        ).fetchall()
        candidates = con.execute(
            "select coalesce(district_name, 'Không xác định'), district_rank, coop_code, name, "
            "score, revenue_mvnd::double, in_da167 from marts.replication_candidates "
            "where is_candidate order by district_code nulls last, district_rank"
        ).fetchall()
    finally:
        con.close()

    years = sorted({y for _, y, _ in trend})
    series: dict[str, list[float | None]] = {}
    for district, year, revenue in trend:
        series.setdefault(district, [None] * len(years))[years.index(year)] = revenue
    per_district: dict[str, int] = {}
    for row in candidates:
        per_district[row[0]] = per_district.get(row[0], 0) + 1
    rating_names = ("Tốt", "Khá", "Trung bình", "Yếu", "Chưa xếp loại")

    sections = [
        ("Doanh thu HTX theo huyện / Cooperative revenue by district",
         line_chart("revenue", years, series, "triệu đồng / million VND")),
        ("Cơ cấu xếp loại / Rating mix",
         bar_chart("ratings", [str(r[0]) for r in ratings],
                   {name: [float(r[i + 1] or 0) for r in ratings]
                    for i, name in enumerate(rating_names)}, "số HTX / cooperatives")),
        ("Hỗ trợ theo chương trình / Support by programme",
         bar_chart("support", [r[0] for r in support], {"Kinh phí": [r[1] for r in support]},
                   "triệu đồng / million VND")),
        ("Mô hình đủ điều kiện nhân rộng theo huyện / Replication candidates by district",
         bar_chart("candidates", list(per_district),
                   {"Số mô hình": [float(v) for v in per_district.values()]},
                   "số HTX / cooperatives")),
    ]  # fmt: skip
    table = "".join(
        f"<tr><td>{_e(d)}</td><td>{_e(rank)}</td><td>{_e(code)}</td><td>{_e(name)}</td>"
        f"<td>{_e(score)}</td><td>{revenue:,.1f}</td><td>{'Có' if da167 else ''}</td></tr>"
        for d, rank, code, name, score, revenue, da167 in candidates
    )
    body = "".join(f"<section><h2>{_e(title)}</h2>{chart}</section>" for title, chart in sections)
    body += (
        "<section><h2>Danh sách mô hình đề xuất nhân rộng 2026-2030 / Replication candidates"
        "</h2><table><tr><th>Huyện</th><th>Hạng</th><th>Mã số HTX</th><th>Tên HTX</th>"
        "<th>Điểm</th><th>Doanh thu (triệu đồng)</th><th>Đề án 167</th></tr>"
        f"{table}</table></section>"
    )
    page = (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        "<title>Báo cáo HTX / HTX report</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:900px}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px}"
        "th{background:#eef}.legend{font-size:12px;margin:4px 0 16px}</style></head><body>"
        "<h1>Hợp tác xã Đắk Nông 2021-2025: kết quả và mô hình nhân rộng / Cooperatives "
        "2021-2025: results and models to replicate</h1>"
        f"{body}{_RENDER_CHECK}</body></html>\n"
    )
    target = settings.export_dir / "report.html"
    temporary = target.with_name(".report.html.tmp")
    temporary.write_text(page, encoding="utf-8")
    os.replace(temporary, target)
    log.info("HTML report: %s", target)
    return target
