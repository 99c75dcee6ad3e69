"""The officials' report's charts: their Vega-Lite specs are those Altair builds and
validates (`etl.outputs.charts` writes them out without importing Altair), and at national
scale the revenue and candidates' charts draw the largest former districts one by one and
the others' average (`etl.outputs.officials_report._grouped`), the table listing them all."""

from __future__ import annotations

import json
import re

import altair as alt
import duckdb
import pytest

from etl.config import settings_under
from etl.outputs import charts, officials_report
from etl.outputs.officials_report import (
    OTHER_DISTRICTS,
    TOP_DISTRICTS,
    _grouped,
    write_dashboard,
)


def _scale(names: list[str], grouped: str | None = None) -> alt.Scale:
    colours = [
        charts.GROUPED_COLOUR if name == grouped else charts.PALETTE[i % len(charts.PALETTE)]
        for i, name in enumerate(names)
    ]
    return alt.Scale(domain=names, range=colours)


def _altair_line(years, series, unit, grouped=None) -> alt.Chart:
    """The line chart as Altair builds it (the project's code before it wrote the specs)."""
    return (
        alt.Chart(alt.Data(values=[]))
        .mark_line(point=True)
        .encode(
            x=alt.X("year:O", title=None, sort=[str(y) for y in years],
                    axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=unit),
            color=alt.Color("series:N", title=None, scale=_scale(list(series), grouped),
                            legend=alt.Legend(orient="bottom", columns=4)),
            description="label:N",
        )
        .properties(width=charts.WIDTH, height=charts.HEIGHT)
    )  # fmt: skip


def _altair_bars(categories, stacks, unit, counted=False) -> alt.Chart:
    legend = alt.Legend(orient="bottom") if len(stacks) > 1 else None
    whole = counted and all(float(v).is_integer() for values in stacks.values() for v in values)
    axis = alt.Axis(tickMinStep=1, format=",d") if whole else alt.Undefined
    return (
        alt.Chart(alt.Data(values=[]))
        .mark_bar()
        .encode(
            x=alt.X("category:N", title=None, sort=list(categories),
                    axis=alt.Axis(labelAngle=-40 if len(categories) > 8 else 0,
                                  labelLimit=140)),
            y=alt.Y("value:Q", title=unit, stack="zero", axis=axis),
            color=alt.Color("series:N", title=None, scale=_scale(list(stacks)),
                            legend=legend, sort=list(stacks)),
            order=alt.Order("order:Q"),
            description="label:N",
        )
        .properties(width=charts.WIDTH, height=charts.HEIGHT)
    )  # fmt: skip


def _as_altair(chart: alt.Chart, ours: dict) -> str:
    """Altair's spec, validated against its Vega-Lite schema, with our rows as its data (as
    `alt.Data(values=rows)` puts them), in Altair's order of keys."""
    spec = chart.to_dict(validate=True)
    spec["data"] = {"values": ours["data"]["values"]}
    return json.dumps(spec, ensure_ascii=False)


LINE_CASES = [
    ([2021, 2022], {"A": [1.0, None], "B": [2.0, 3.5]}, None),
    (list(range(2021, 2027)), {f"Huyện {i}": [float(i)] * 6 for i in range(12)}, None),
    ([2024, 2025], {"Huyện A": [1.0, 2.0], OTHER_DISTRICTS: [5.0, None]}, OTHER_DISTRICTS),
]
BAR_CASES = [
    (["2024", "2025"], {"Tốt": [1.0, 2.0], "Khá": [0.0, 3.0], "Yếu": [1.0, 1.0]}),
    (["DA167", "NTM"], {"Kinh phí": [800.0, 300.5]}),
    (["DA167", "NTM"], {"Kinh phí": [800.0, 300.0]}),
    ([f"Huyện {i} <&>" for i in range(11)], {"Số mô hình": [float(i) for i in range(11)]}),
]


@pytest.mark.parametrize(("years", "series", "grouped"), LINE_CASES)
def test_line_spec_is_altairs(years, series, grouped):
    ours = charts.line_spec(years, series, "triệu đồng", grouped)
    assert json.dumps(ours, ensure_ascii=False) == _as_altair(
        _altair_line(years, series, "triệu đồng", grouped), ours
    )


@pytest.mark.parametrize("counted", [False, True])
@pytest.mark.parametrize(("categories", "stacks"), BAR_CASES)
def test_bar_spec_is_altairs(categories, stacks, counted):
    ours = charts.bar_spec(categories, stacks, "số HTX", counted)
    assert json.dumps(ours, ensure_ascii=False) == _as_altair(
        _altair_bars(categories, stacks, "số HTX", counted), ours
    )


def test_schema_is_altairs():
    assert alt.SCHEMA_URL == charts.SCHEMA


def test_a_chart_drawn_here_is_known():
    chart = charts.bar_chart("t", ["a"], {"s": [1.0]}, "u")
    assert chart.startswith('<svg class="chart" role="img" aria-label="t"')
    assert charts.drawn_here()


def test_up_to_top_districts_are_drawn_as_they_are():
    values = {f"Huyện {i}": [float(i), None] for i in range(TOP_DISTRICTS)}
    assert _grouped(values) == (values, 0)


def test_beyond_top_districts_the_others_are_averaged():
    values = {f"Huyện {i:02d}": [float(i), None, 1.0] for i in range(TOP_DISTRICTS + 3)}
    values["Huyện 00"] = [None, None, None]
    values["Huyện 01"] = [1.0, 3.5, None]  # a total of 4.5: in the top ten, not 03's 4.0
    drawn, grouped = _grouped(values)
    assert grouped == 3
    kept = ["Huyện 01"] + [f"Huyện {i:02d}" for i in range(4, TOP_DISTRICTS + 3)]
    assert list(drawn) == [*kept, OTHER_DISTRICTS]  # in their order, the others last
    assert all(drawn[name] == values[name] for name in kept)
    # 00 (no value), 02 and 03: averaged place by place over those with a value there,
    # None where none has one.
    assert drawn[OTHER_DISTRICTS] == [2.5, None, 1.0]


def test_equal_totals_keep_the_first():
    values = {f"Huyện {i:02d}": [1.0] for i in range(TOP_DISTRICTS + 2)}
    drawn, grouped = _grouped(values)
    assert grouped == 2
    assert list(drawn)[:-1] == [f"Huyện {i:02d}" for i in range(TOP_DISTRICTS)]
    assert drawn[OTHER_DISTRICTS] == [1.0]


# Thirteen former districts, each with a candidate: three more than the charts draw.
DISTRICTS = 13
NATIONAL = f"""
create schema marts;
create table marts.district_year as
select lpad(d::varchar, 3, '0') as district_code, 'Huyện ' || d as district_name, y as year,
       (100.0 * d + y - 2024)::double as revenue_mvnd, 1 as rated_tot, 0 as rated_kha,
       0 as rated_trung_binh, 0 as rated_yeu, 0 as unrated
from range(1, {DISTRICTS + 1}) r(d), range(2024, 2026) t(y);
create table marts.program_year as
select * from (values ('DA167', 2025, 800.0)) as t(program_code, year, amount_mvnd);
create table marts.replication_candidates as
select lpad(c::varchar, 10, '0') as coop_code, 'HTX số ' || c as name,
       lpad(d::varchar, 3, '0') as district_code, 'Huyện ' || d as district_name,
       c as district_rank, 80.0 as score, 10.0::decimal(18, 6) as revenue_mvnd,
       false as in_da167, true as is_candidate
from range(1, {DISTRICTS + 1}) r(d), range(1, 1 + d % 3 + 1) s(c);
"""


def _warehouse(tmp_path, sql: str):
    """Settings under `tmp_path` whose published warehouse is what `sql` makes."""
    settings = settings_under(tmp_path)
    settings.warehouse.parent.mkdir(parents=True)
    con = duckdb.connect(str(settings.warehouse))
    con.execute(sql)
    con.close()
    return settings


def _marks(svg: str, role: str) -> list[str]:
    return re.findall(rf'aria-label="([^"]*)" role="graphics-symbol" '
                      rf'aria-roledescription="{role}"', svg)  # fmt: skip


def test_national_report_draws_the_top_districts_and_the_others_together(tmp_path):
    settings = _warehouse(tmp_path, NATIONAL)
    page = write_dashboard(settings).read_text()
    svgs = re.findall(r'<svg class="chart".*?</svg>', page, re.S)
    assert len(svgs) == 4
    revenue, _, _, candidates = svgs

    # Revenue: districts 4..13 (the most revenue) by name, 1..3 averaged, year by year.
    points = _marks(revenue, "point")
    drawn = [f"Huyện {d}" for d in range(4, DISTRICTS + 1)]
    assert {label.split(" · ")[0] for label in points} == {*drawn, OTHER_DISTRICTS}
    assert f"{OTHER_DISTRICTS} · 2024: 200.0" in points  # (100 + 200 + 300) / 3
    assert f"{OTHER_DISTRICTS} · 2025: 201.0" in points

    # Candidates: 1, 2 or 3 a district (d % 3 + 1); the ten with the most drawn one by one.
    counts = {f"Huyện {d}": d % 3 + 1 for d in range(1, DISTRICTS + 1)}
    top = sorted(counts, key=lambda name: -counts[name])[:TOP_DISTRICTS]
    others = [n for name, n in counts.items() if name not in top]
    rest = sum(others) / len(others)
    bars = _marks(candidates, "bar")
    assert bars == [
        *(f"{name} · Số mô hình: {counts[name]}" for name in counts if name in top),
        f"{OTHER_DISTRICTS} · Số mô hình: {rest:.0f}",  # 1.0: whole, as the counts
    ]

    notes = re.findall(r'<p class="legend">(.*?)</p>', page)
    assert len(notes) == 2
    assert "the other 3 are drawn together as their average per district" in notes[0]
    assert "the other 3 are drawn together as their average per district" in notes[1]
    # The table lists every candidate, of every district.
    assert page.count("<td>HTX số ") == sum(counts.values())


def test_province_report_has_no_grouped_districts(tmp_path):
    settings = _warehouse(
        tmp_path, NATIONAL.replace(f"range(1, {DISTRICTS + 1})", f"range(1, {TOP_DISTRICTS + 1})")
    )
    page = write_dashboard(settings).read_text()
    assert OTHER_DISTRICTS not in page
    assert 'class="legend"' not in page.split("<h2>")[1]  # no note under the charts
    assert page.count('aria-roledescription="bar"') >= TOP_DISTRICTS


# Two former districts of one name in two provinces (Huyện Châu Thành is the name of ten).
SAME_NAME = """
create schema marts;
create table marts.district_year as
select * from (values
    ('811', 'Huyện Châu Thành', 2024, 100.0, 1, 0, 0, 0, 0),
    ('811', 'Huyện Châu Thành', 2025, 110.0, 1, 0, 0, 0, 0),
    ('907', 'Huyện Châu Thành', 2024, 900.0, 1, 0, 0, 0, 0),
    ('907', 'Huyện Châu Thành', 2025, 990.0, 1, 0, 0, 0, 0)
) as t(district_code, district_name, year, revenue_mvnd, rated_tot, rated_kha,
       rated_trung_binh, rated_yeu, unrated);
create table marts.program_year as
select * from (values ('DA167', 2025, 800.0)) as t(program_code, year, amount_mvnd);
create table marts.replication_candidates as
select * from (values
    ('8110000001', 'HTX A', '811', 'Huyện Châu Thành', 1, 80.0, 10.0, false, true),
    ('9070000001', 'HTX B', '907', 'Huyện Châu Thành', 1, 80.0, 10.0, false, true),
    ('9070000002', 'HTX C', '907', 'Huyện Châu Thành', 2, 80.0, 10.0, false, true)
) as t(coop_code, name, district_code, district_name, district_rank, score, revenue_mvnd,
       in_da167, is_candidate);
"""


def test_districts_of_one_name_are_drawn_apart(tmp_path):
    """Two former districts that share a name are two lines and two bars, each told by its
    code, not one line holding whichever came last and one bar of their sum."""
    page = write_dashboard(_warehouse(tmp_path, SAME_NAME)).read_text()
    revenue, _, _, candidates = re.findall(r'<svg class="chart".*?</svg>', page, re.S)
    assert set(_marks(revenue, "point")) == {
        "Huyện Châu Thành (811) · 2024: 100.0",
        "Huyện Châu Thành (811) · 2025: 110.0",
        "Huyện Châu Thành (907) · 2024: 900.0",
        "Huyện Châu Thành (907) · 2025: 990.0",
    }
    assert _marks(candidates, "bar") == [
        "Huyện Châu Thành (811) · Số mô hình: 1",
        "Huyện Châu Thành (907) · Số mô hình: 2",
    ]


# The unattributed cooperatives (no former district) of two provinces: a row per province and
# year in marts.district_year, their candidates ranked within their province.
UNATTRIBUTED = """
create schema marts;
create table marts.district_year as
select * from (values
    ('663', 'Huyện Đắk Mil', '67', 2025, 50.0, 1, 0, 0, 0, 0),
    (null, 'Không xác định / Unattributed', '68', 2025, 100.0, 1, 0, 0, 0, 0),
    (null, 'Không xác định / Unattributed', '01', 2025, 30.0, 1, 0, 0, 0, 0)
) as t(district_code, district_name, province_code, year, revenue_mvnd, rated_tot,
       rated_kha, rated_trung_binh, rated_yeu, unrated);
create table marts.program_year as
select * from (values ('DA167', 2025, 800.0)) as t(program_code, year, amount_mvnd);
create table marts.replication_candidates as
select * from (values
    ('6800000001', 'HTX A', null, 'Không xác định / Unattributed', '68', 1, 90.0, 10.0),
    ('0100000001', 'HTX B', null, 'Không xác định / Unattributed', '01', 1, 85.0, 10.0),
    ('6800000002', 'HTX C', null, 'Không xác định / Unattributed', '68', 2, 80.0, 10.0)
) as t(coop_code, name, district_code, district_name, province_code, district_rank, score,
       revenue_mvnd), (select false as in_da167, true as is_candidate);
"""


def test_the_unattributed_rows_of_two_provinces_are_one_line_and_ranked_by_province(tmp_path):
    """The unattributed rows of marts.district_year (one per province and year) are one
    revenue line, their sum; their candidates, ranked within their province, are listed
    province by province, each named with its province: two first ranks, not one unit's."""
    page = write_dashboard(_warehouse(tmp_path, UNATTRIBUTED)).read_text()
    revenue = re.findall(r'<svg class="chart".*?</svg>', page, re.S)[0]
    assert "Không xác định / Unattributed · 2025: 130.0" in _marks(revenue, "point")
    table = page.split("Replication candidates")[-1]
    rows = re.findall(r"<tr><td>([^<]*)</td><td>(\d+)</td>.*?<td>(HTX \w)</td>", table)
    assert rows == [
        ("Không xác định / Unattributed (tỉnh 01)", "1", "HTX B"),
        ("Không xác định / Unattributed (tỉnh 68)", "1", "HTX A"),
        ("Không xác định / Unattributed (tỉnh 68)", "2", "HTX C"),
    ]


# Run by a fresh interpreter: a process that drew may not fork a validator that draws.
_WARM_DRAWING = """
import json, os
from etl.outputs import charts
from etl.quality import validator

started = validator.start()
try:
    there = charts.bar_chart("t", ["a", "b"], {"s": [1.0, 2.5]}, "u")
    result = {
        "drawn_here_after": charts.drawn_here(),
        "drawn_in_validator": validator.call(charts.drawn_here),
        "validator_pid": started.process.pid,
        "pid": os.getpid(),
    }
finally:
    validator.stop()
here = charts.bar_chart("t", ["a", "b"], {"s": [1.0, 2.5]}, "u")
result["same_svg"] = str(here) == str(there)
result["starts"] = str(there)[:60]
print(json.dumps(result))
"""


def test_with_a_warm_validator_the_charts_are_drawn_there_the_same():
    """In `htx run` the warm validator started vl-convert while Airflow started: a chart is
    drawn there, the same SVG as drawn in process, and the process asking has not drawn
    (it may still fork processes that draw)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _WARM_DRAWING], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["drawn_in_validator"] is True  # warmed, then drew the chart
    assert result["drawn_here_after"] is False
    assert result["same_svg"] is True
    assert result["starts"].startswith('<svg class="chart" role="img" aria-label="t"')


def test_a_validator_forked_after_drawing_leaves_the_drawing_here(monkeypatch):
    """A validator forked from a process that had drawn cannot draw (vl-convert's thread
    is not in it): the chart is drawn in process instead."""
    import os

    from etl.quality import validator

    monkeypatch.setattr(charts, "_DRAWN_BY", os.getpid())  # as if this process had drawn
    started = validator.start()  # forked after that: it refuses to draw
    try:
        assert validator.call(charts.drawn_here) is True
        chart = charts.bar_chart("t", ["a"], {"s": [1.0]}, "u")
        assert started.process.is_alive()  # it refused, and serves on
    finally:
        validator.stop()
    assert chart.startswith('<svg class="chart" role="img" aria-label="t"')


# Run by a fresh interpreter: a process that drew may not fork a validator that draws.
_DRAWN_AHEAD = """
import json, sys
from pathlib import Path
from etl.config import settings_under
from etl.outputs import charts, officials_report
from etl.quality import validator

settings = settings_under(Path(sys.argv[1]))
folder = settings.state_dir / "cache" / "charts"
started = validator.start()
try:
    handed = officials_report.draw_ahead(settings, settings.warehouse)
    failure = validator.settle()
    drawn_here_after = charts.drawn_here()  # the validator drew: this process may still fork
    drawn = sorted(p.name for p in folder.glob("*.svg"))
    again = officials_report.draw_ahead(settings, settings.warehouse)  # all drawn already
    asked = []
    real_call = validator.call
    validator.call = lambda function, *args: asked.append(function) or real_call(function, *args)
    page = officials_report.write_dashboard(settings).read_text()
    validator.call = real_call
finally:
    validator.stop()
without = officials_report.draw_ahead(settings, settings.warehouse)  # no validator
fresh = settings_under(Path(sys.argv[1]) / "fresh")
fresh = type(settings)(**{**settings.__dict__, "state_dir": fresh.state_dir,
                          "export_dir": fresh.export_dir})
drawn_here = officials_report.write_dashboard(fresh).read_text()
print(json.dumps({
    "handed": handed, "failure": failure, "drawn": len(drawn), "again": again,
    "asked": len(asked), "without": without, "same_page": page == drawn_here,
    "charts_in_page": page.count('<svg class="chart"'),
    "drawn_here_after": drawn_here_after,
}))
"""


def test_the_publish_hands_the_new_charts_to_the_validator_and_the_report_reads_them(tmp_path):
    """In `htx run` the publish hands the charts of the build that are not drawn yet to the
    warm validator (`officials_report.draw_ahead`): they are drawn there into the charts'
    cache, the report then reads every one of them back and asks the validator for none,
    and its page is the one drawn without them. With nothing new to draw, or without a
    validator, nothing is handed over."""
    import subprocess
    import sys

    _warehouse(tmp_path, NATIONAL)
    done = subprocess.run(
        [sys.executable, "-c", _DRAWN_AHEAD, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["handed"] == 4  # the four charts, drawn there
    assert result["drawn"] == 4
    assert result["failure"] is None
    assert result["again"] == 0
    assert result["asked"] == 0  # the report drew nothing: it read the four back
    assert result["charts_in_page"] == 4
    assert result["without"] == 0
    assert result["same_page"] is True
    assert result["drawn_here_after"] is False


def test_charts_asked_for_while_collecting_are_not_drawn(monkeypatch):
    def refuse(spec, title):
        raise AssertionError("drawn while collecting")

    monkeypatch.setattr(charts, "_render", refuse)
    with charts.collected() as wanted:
        chart = charts.bar_chart("t", ["a", "b"], {"s": [1.0, 2.5]}, "u")
    assert str(chart) == ""
    assert wanted == [(charts.bar_spec(["a", "b"], {"s": [1.0, 2.5]}, "u"), "t")]


# Two provinces of the national corpus: Hà Nội (01) and the new An Giang (91), which took
# in the former An Giang (89).
TWO_PROVINCES = """
create schema marts;
create table marts.district_year as
select * from (values
    ('001', 'Quận Ba Đình', '01', 2024, 100.0, 1, 0, 0, 0, 0),
    ('883', 'Thành phố Long Xuyên', '89', 2024, 900.0, 1, 0, 0, 0, 0)
) as t(district_code, district_name, province_code, year, revenue_mvnd, rated_tot,
       rated_kha, rated_trung_binh, rated_yeu, unrated);
create table marts.program_year as
select * from (values ('DA167', 2024, 800.0)) as t(program_code, year, amount_mvnd);
create table marts.replication_candidates as
select * from (values
    ('0100000001', 'HTX A', '001', 'Quận Ba Đình', 1, 80.0, 10.0, false, true)
) as t(coop_code, name, district_code, district_name, district_rank, score, revenue_mvnd,
       in_da167, is_candidate);
create table marts.commune_year as
select * from (values
    ('01', 'Thành phố Hà Nội', '00097', 'Phường Hồng Hà', 2024, 1, 100.0),
    ('91', 'Tỉnh An Giang', '30307', 'Phường Long Xuyên', 2024, 1, 900.0)
) as t(new_province_code, new_province_name, new_commune_code, new_commune_name, year,
       cooperatives, revenue_mvnd);
"""


def _title(page: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", page, re.S)[1]


def test_the_report_is_titled_by_the_provinces_its_warehouse_holds(tmp_path):
    """The report's title names the provinces the warehouse covers, not the first
    deployment's: a run on Hà Nội and An Giang is no report of Lâm Đồng."""
    title = _title(write_dashboard(_warehouse(tmp_path / "two", TWO_PROVINCES)).read_text())
    assert "Lâm Đồng" not in title
    assert "Đắk Nông" not in title
    assert "Hợp tác xã 2 tỉnh, thành phố" in title
    assert "Cooperatives of 2 provinces" in title

    one = TWO_PROVINCES.replace(
        "('91', 'Tỉnh An Giang', '30307', 'Phường Long Xuyên'",
        "('01', 'Thành phố Hà Nội', '00004', 'Phường X'",
    )
    one = one.replace("'883', 'Thành phố Long Xuyên', '89'", "'002', 'Quận Hoàn Kiếm', '01'")
    title = _title(write_dashboard(_warehouse(tmp_path / "one", one)).read_text())
    assert title.startswith("Hợp tác xã thành phố Hà Nội: kết quả 2021-2025 và giai đoạn")
    assert "Cooperatives of Hà Nội: results 2021-2025 and the 2026-2030 phase" in title

    # The first deployment's title: former Đắk Nông's districts, and cooperatives first
    # seen in Lâm Đồng's new communes (the unattributed row, province 68 where they are now).
    sample = TWO_PROVINCES.replace("'001', 'Quận Ba Đình', '01'", "'663', 'Huyện Đắk Mil', '67'")
    sample = sample.replace("('883', 'Thành phố Long Xuyên', '89'", "(null, 'Không xác định', '68'")
    sample = sample.replace("'01', 'Thành phố Hà Nội', '00097'", "'68', 'Tỉnh Lâm Đồng', '24611'")
    sample = sample.replace("'91', 'Tỉnh An Giang', '30307'", "'68', 'Tỉnh Lâm Đồng', '24670'")
    assert _title(write_dashboard(_warehouse(tmp_path / "sample", sample)).read_text()) == (
        "Hợp tác xã tỉnh Lâm Đồng: kết quả 2021-2025 (khu vực Đắk Nông cũ) và giai đoạn "
        "2026-2030 / Cooperatives of Lâm Đồng: results 2021-2025 (former Đắk Nông) and the "
        "2026-2030 phase"
    )

    # A province that took in others names the former ones (the first deployment's title).
    merged = TWO_PROVINCES.replace(
        "'01', 'Thành phố Hà Nội', '00097', 'Phường Hồng Hà'",
        "'91', 'Tỉnh An Giang', '30295', 'Phường Y'",
    )
    merged = merged.replace("'001', 'Quận Ba Đình', '01'", "'903', 'Huyện Hòn Đất', '91'")
    title = _title(write_dashboard(_warehouse(tmp_path / "merged", merged)).read_text())
    assert title.startswith(
        "Hợp tác xã tỉnh An Giang: kết quả 2021-2025 (khu vực An Giang, Kiên Giang cũ)"
    )
    assert "Cooperatives of An Giang: results 2021-2025 (former An Giang, Kiên Giang)" in title


def test_a_chart_of_counts_shows_whole_cooperatives():
    """Counts (cooperatives per rating, candidates per district) are whole: before, the axis
    ran 0.0, 0.5 … 4.0 cooperatives and a mark read `Huyện Cư Jút · Số mô hình: 2.0`. An
    average of other districts (1.5) keeps its decimal, as money does."""
    counts = charts.bar_spec(
        ["Huyện Cư Jút", "Huyện Đắk Mil"], {"Số mô hình": [2.0, 4.0]}, "u", counted=True
    )
    assert [r["label"] for r in counts["data"]["values"]] == [
        "Huyện Cư Jút · Số mô hình: 2",
        "Huyện Đắk Mil · Số mô hình: 4",
    ]
    assert counts["encoding"]["y"]["axis"] == {"format": ",d", "tickMinStep": 1}
    average = charts.bar_spec(
        ["Huyện A", OTHER_DISTRICTS], {"Số mô hình": [2.0, 1.5]}, "u", counted=True
    )
    assert [r["label"] for r in average["data"]["values"]] == [
        "Huyện A · Số mô hình: 2.0",
        f"{OTHER_DISTRICTS} · Số mô hình: 1.5",
    ]
    assert "axis" not in average["encoding"]["y"]
    money = charts.bar_spec(["DA167"], {"Kinh phí": [800.0]}, "triệu đồng")
    assert [r["label"] for r in money["data"]["values"]] == ["DA167 · Kinh phí: 800.0"]


def test_a_label_rounds_as_the_table_beside_the_chart():
    """A chart's label (its hover and screen-reader text) shows a figure as the report's
    tables and the officials' workbook do: half up, on the value the warehouse holds.
    Before, `format` gave 12,770.2 and 46,782.4 where the table says 12,770.3 and 46,782.5."""
    bars = charts.bar_spec(["Xã A"], {"2030": [12770.25]}, "triệu đồng")
    assert [r["label"] for r in bars["data"]["values"]] == ["Xã A · 2030: 12,770.3"]
    lines = charts.line_spec([2024, 2025], {"Xã B": [46782.45, None]}, "triệu đồng")
    assert [r["label"] for r in lines["data"]["values"]] == ["Xã B · 2024: 46,782.5"]


def test_a_report_whose_marts_did_not_change_is_kept_as_it_is(tmp_path, monkeypatch):
    """A new file that changes no mart redraws nothing: the report is kept, byte for byte."""
    settings = _warehouse(tmp_path, NATIONAL)
    page = write_dashboard(settings).read_bytes()

    def refuse(warehouse):
        raise AssertionError("the report was drawn again")

    monkeypatch.setattr(officials_report, "_contents", refuse)
    assert write_dashboard(settings).read_bytes() == page


def test_a_report_whose_marts_changed_is_drawn_again(tmp_path):
    settings = _warehouse(tmp_path, NATIONAL)
    first = write_dashboard(settings).read_text()
    con = duckdb.connect(str(settings.warehouse))
    con.execute(
        "update marts.district_year set district_name = 'Huyện Mới' where district_code = '013'"
    )
    con.close()
    again = write_dashboard(settings).read_text()
    assert "Huyện Mới" not in first
    assert "Huyện Mới" in again
    # Drawn again from scratch, it is the page kept.
    (settings.export_dir / officials_report.STAMP).unlink()
    assert write_dashboard(settings).read_text() == again


def test_the_report_s_stamp_covers_the_suites_its_legends_come_from(tmp_path, monkeypatch):
    """The rating mix the report's legends name comes from `expectations/htx.json`
    (`layout.RATING_MIX`): a changed suite draws the report again, though no mart changed."""
    import shutil

    from etl import config
    from etl.outputs import officials_report

    copy = tmp_path / "expectations"
    shutil.copytree(config.EXPECTATIONS_DIR, copy)
    monkeypatch.setattr(config, "EXPECTATIONS_DIR", copy)
    before = officials_report._code_stamp()
    suite = copy / "htx.json"
    suite.write_bytes(suite.read_bytes() + b"\n")
    assert officials_report._code_stamp() != before


def test_a_report_given_the_exports_facts_hashes_no_mart_again(tmp_path, monkeypatch):
    """The exports read the facts of the report's marts (`stamps.tables_facts`) moments
    before, from the same warehouse: given them, the report's stamp is the one it computes
    itself, without hashing those marts again; a mart that changed is still drawn again."""
    from etl.outputs import stamps

    settings = _warehouse(tmp_path, NATIONAL)

    def exports_facts() -> dict[str, str]:
        con = duckdb.connect(str(settings.warehouse), read_only=True)
        try:
            present = {t for (t,) in con.execute("select schema_name || '.' || table_name "
                                                 "from duckdb_tables()").fetchall()}  # fmt: skip
            marts = officials_report.REPORT_MARTS
            return stamps.tables_facts(con, [t for t in marts if t in present])
        finally:
            con.close()

    first = write_dashboard(settings, exports_facts()).read_text()
    assert officials_report._read_stamp(settings.export_dir) == officials_report._stamp(
        settings.warehouse
    )
    con = duckdb.connect(str(settings.warehouse))
    con.execute(
        "update marts.district_year set district_name = 'Huyện Mới' where district_code = '013'"
    )
    con.close()
    facts = exports_facts()
    hashed: list[list[str]] = []
    tables_facts = stamps.tables_facts

    def counting(con, tables):
        hashed.append(list(tables))
        return tables_facts(con, tables)

    monkeypatch.setattr(stamps, "tables_facts", counting)
    again = write_dashboard(settings, facts).read_text()
    assert hashed == []
    assert "Huyện Mới" not in first
    assert "Huyện Mới" in again
    monkeypatch.setattr(stamps, "tables_facts", tables_facts)
    assert officials_report._read_stamp(settings.export_dir) == officials_report._stamp(
        settings.warehouse
    )


def test_the_title_is_kept_by_what_it_is_made_of_and_not_read_from_the_reference_again(
    tmp_path, monkeypatch
):
    """The report's title needs the reference units (0.1 to 0.2 s to read, for one line):
    it is kept in the state folder by the provinces and districts it names, the code and
    the reference files, and read back while they stay; another district, another title."""
    from etl.contract import reference

    ref = reference.load_reference()
    districts = sorted(code for code, unit in ref.units.items() if unit.level == "district")
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.district_year as select ? as district_code", [districts[0]])
    con.execute("create table marts.commune_year (new_province_code varchar)")
    kept = tmp_path / "cache" / "report_title.json"
    first = officials_report._title(con, kept)
    assert first == officials_report._title(con)

    def unread():
        raise AssertionError("the reference was read again")

    monkeypatch.setattr(reference, "load_reference", unread)
    assert officials_report._title(con, kept) == first
    monkeypatch.undo()
    other = next(
        code
        for code in districts
        if ref.province_of(ref.units[code]).code != ref.province_of(ref.units[districts[0]]).code
    )
    con.execute("insert into marts.district_year values (?)", [other])
    assert officials_report._title(con, kept) == officials_report._title(con) != first
