"""The self-contained HTML report for officials: charts drawn as inline SVG, viewable offline.

Four charts from the marts for 2021–2025, in the former geography (the comparison is by
former district): revenue per district and year, the rating mix per year, support by
programme, and the replication candidates per district, with the candidates' table. Then
the 2026–2030 phase in the geography in force since 01/07/2025: cooperatives per new
commune (`marts.commune_year`), a chart and a table, and the candidates' new commune and
rank in it (`marts.replication_candidates.new_commune_name`, `commune_rank`). A warehouse
built before those tables and columns existed gets the four charts and a line saying the
phase has no figures by new commune yet.
No script, font or style is fetched from anywhere: the file is the whole report. The charts
are Vega-Lite specs (those Altair writes) rendered offline to inline SVG by vl-convert
(`etl.outputs.charts`); the template `report.html.j2` puts every other text on the page,
escaped.

At national scale there are hundreds of former districts: the revenue chart and the
candidates' chart draw the `TOP_DISTRICTS` first (by revenue, by candidates) and one more
line or bar, `OTHER_DISTRICTS`: the others' average per district (their sum would dwarf
the ten and flatten them against the axis), with a note under the chart saying so; with at
most `TOP_DISTRICTS` (a province) they draw every district. The candidates' table lists
them all. A name several former districts (or new communes) share is followed by each one's
code in the charts (`_unit_labels`). The cooperatives of no former district (unattributed, a
row per province in `marts.district_year`) are one line of the revenue chart; their
candidates, ranked within their province, are named with it where there are several
(`_name_unattributed_provinces`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from etl.config import Settings
from etl.contract.layout import PROGRAM_SHORT_NAMES, RATING_MIX
from etl.outputs.charts import bar_chart, cached_in, line_chart
from etl.outputs.html import compiled_in, write_page

log = logging.getLogger(__name__)

# The 2026–2030 phase starts with report year 2026.
PHASE_FIRST_YEAR = 2026
# New communes drawn in the phase chart (most cooperatives first); the table lists them all.
PHASE_CHART_COMMUNES = 30
# Former districts drawn one by one in the revenue and candidates' charts; beyond them, the
# others are drawn together as one, their average per district (`_grouped`).
TOP_DISTRICTS = 10
OTHER_DISTRICTS = "Bình quân các huyện khác / Average of the other former districts"
# The rating mix's columns of marts.district_year, each named in the legend by its rating
# (the suite's, `etl.contract.layout.RATING_MIX`), the ratings it counts joined by ` / `.
RATING_MIX_NAMES = {
    column: " / ".join(r for c, r in RATING_MIX if c == column)
    for column in dict.fromkeys(c for c, _ in RATING_MIX)
}


def _columns(con, schema: str, table: str) -> set[str]:
    return {
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    }


def _title(con, kept: Path | None = None) -> dict[str, str]:
    """The report's title, by the provinces the warehouse holds: one province in force
    (with the former provinces its 2021-2025 districts lay in, where it took in others: `tỉnh
    Lâm Đồng ... (khu vực Đắk Nông cũ)`), or how many. Never the first deployment's name
    over another province's or the whole country's figures.

    Reading the reference units costs 0.1 to 0.2 s, for one line: given `kept` (a JSON file),
    the title is kept there with a key of what it is made of (the districts and provinces in
    force the marts hold, this module, the reference's code and files), and read back while
    that key stays."""
    districts: list[str] = []
    if "district_code" in _columns(con, "marts", "district_year"):
        districts = sorted(
            code
            for (code,) in con.execute(
                # The unattributed rows (no district, one per province) are where their
                # cooperatives are now (68 for new communes of Lâm Đồng), not former provinces.
                "select distinct district_code from marts.district_year "
                "where district_code is not null"
            ).fetchall()
        )
    provinces: list[str] = []
    if "new_province_code" in _columns(con, "marts", "commune_year"):
        provinces = sorted(
            code
            for (code,) in con.execute(
                "select distinct new_province_code from marts.commune_year "
                "where new_province_code is not null"
            ).fetchall()
        )
    if kept is None:
        return _title_of(districts, provinces)
    import hashlib

    from etl.config import REFERENCE_DIR
    from etl.contract import reference
    from etl.outputs.stamps import code_digest, read_json, write_json

    made_of = code_digest(
        [Path(__file__), Path(reference.__file__), *sorted(REFERENCE_DIR.glob("*.csv"))]
    )
    key = hashlib.sha256(repr((made_of, districts, provinces)).encode()).hexdigest()
    before = read_json(kept)
    if before.get("key") == key and isinstance(before.get("title"), dict):
        return before["title"]
    title = _title_of(districts, provinces)
    kept.parent.mkdir(parents=True, exist_ok=True)
    write_json(kept, {"key": key, "title": title})
    return title


def _title_of(districts: list[str], provinces: list[str]) -> dict[str, str]:
    """`_title` of the marts' former districts and provinces in force, by the reference."""
    from etl.contract.reference import load_reference

    ref = load_reference()
    former: set[str] = set()  # the former districts' provinces, from the reference
    for code in districts:
        district = ref.unit(code)
        if district is not None and district.level == "district":
            former.add(ref.province_of(district).code)
    in_force = {ref.merged_into(code) for code in former} | set(provinces)
    where_vi = where_en = before_vi = before_en = ""
    if len(in_force) == 1:
        unit = ref.current_unit(next(iter(in_force)))
        if unit is not None:
            where_vi = f" {unit.full_name[:1].lower()}{unit.full_name[1:]}"
            where_en = f" of {unit.name}"
            names = sorted(u.name for code in former if (u := ref.unit(code)) is not None)
            if former - {unit.code} and names:
                before_vi = f" (khu vực {', '.join(names)} cũ)"
                before_en = f" (former {', '.join(names)})"
    elif in_force:
        where_vi = f" {len(in_force)} tỉnh, thành phố"
        where_en = f" of {len(in_force)} provinces"
    return {
        "vi": f"Hợp tác xã{where_vi}: kết quả 2021-2025{before_vi} và giai đoạn 2026-2030",
        "en": f"Cooperatives{where_en}: results 2021-2025{before_en} and the 2026-2030 phase",
    }


def _phase(con) -> dict | None:
    """The 2026–2030 phase by new commune from `marts.commune_year`: per commune, its
    cooperatives per report year of the phase, and the latest year's revenue; None when the
    table is absent or holds no year of the phase."""
    if not {"new_commune_code", "new_commune_name", "year", "cooperatives"} <= _columns(
        con, "marts", "commune_year"
    ):
        return None
    rows = con.execute(
        """
        select
            new_province_code,
            new_commune_code,
            coalesce(new_commune_name, 'Chưa xác định xã (đang rà soát)') as commune,
            year,
            cooperatives,
            revenue_mvnd::double as revenue_mvnd
        from marts.commune_year
        where year >= ?
        order by new_province_code, new_commune_code nulls last, year
        """,
        [PHASE_FIRST_YEAR],
    ).fetchall()
    if not rows:
        return None
    years = sorted({r[3] for r in rows})
    communes: dict[tuple, dict] = {}
    for province, code, name, year, coops, revenue in rows:
        c = communes.setdefault(
            (province, code),
            {"province_code": province, "code": code, "name": name, "by_year": {}},
        )
        c["by_year"][year] = {"cooperatives": coops or 0, "revenue_mvnd": revenue}
    latest = years[-1]
    table = [
        {
            **c,
            "cooperatives": [c["by_year"].get(y, {}).get("cooperatives", 0) for y in years],
            "revenue_mvnd": c["by_year"].get(latest, {}).get("revenue_mvnd"),
        }
        for c in communes.values()
    ]
    placed = sorted(
        (c for c in table if c["code"] is not None),
        key=lambda c: (-c["cooperatives"][-1], c["name"]),
    )
    drawn = placed[:PHASE_CHART_COMMUNES]
    label = _unit_labels([(c["code"], c["name"]) for c in placed])
    chart = bar_chart(
        "Số HTX theo xã, phường mới / Cooperatives per new commune",
        [label[c["code"], c["name"]] for c in drawn],
        {str(latest): [float(c["cooperatives"][-1]) for c in drawn]},
        "số HTX / cooperatives",
        counted=True,
    )
    judged = _judged(con)
    for c in table:
        c["judged"] = judged.get((c["province_code"], c["code"]))
    return {
        "years": years,
        "latest": latest,
        "communes": table,
        "chart": chart,
        "judged": bool(judged),
    }


def _judged(con) -> dict[tuple, dict]:
    """Each commune's 2030 revenue target and whether it is on its path in its own latest year
    of the phase (a commune whose cooperatives stopped reporting is judged on an earlier
    year, which the report shows beside the verdict), and its replication
    candidates against the new-model cooperatives to replicate (`marts.commune_phase`), by
    (province, commune); none when the warehouse has no such table."""
    wanted = {
        "revenue_baseline_mvnd",
        "target_revenue_2030_mvnd",
        "revenue_on_track",
        "latest_year",
    }
    if not wanted <= _columns(con, "marts", "commune_phase"):
        return {}
    rows = con.execute(
        """
        select
            new_province_code,
            new_commune_code,
            revenue_baseline_mvnd::double,
            target_revenue_2030_mvnd,
            revenue_on_track,
            latest_year,
            replication_candidates,
            target_model_cooperatives_2030
        from marts.commune_phase
        """
    ).fetchall()
    return {
        (province, code): {
            "revenue_baseline_mvnd": baseline,
            "target_revenue_2030_mvnd": target,
            "revenue_on_track": on_track,
            "judged_year": year,  # the commune's own latest year of the phase
            "candidates": candidates,
            "target_models": models,
        }
        for province, code, baseline, target, on_track, year, candidates, models in rows
    }


def write_dashboard(settings: Settings, facts: dict[str, str] | None = None) -> Path:
    """Write `report.html`. A chart whose data did not change since the last report is read
    back instead of being rendered again (`etl.outputs.charts.cached_in`).

    A report whose inputs did not change (`_stamp`: the marts it reads, the reference units
    and the code that draws it) is kept as it is: a new file that changes no mart (a
    resubmission of the same figures, a quarantined file) redraws nothing. Its stamp is kept
    beside it (`STAMP`), written after it. `facts`: those of marts of this very warehouse
    (`etl.outputs.stamps.tables_facts`) the caller read already (the exports, in the same
    process, under the same writer's lock): not read again."""
    target = settings.export_dir / REPORT
    stamp = _stamp(settings.warehouse, facts or {})
    if target.exists() and _read_stamp(settings.export_dir) == stamp:
        log.info("HTML report: %s (unchanged)", target)
        return target
    cache = settings.state_dir / "cache"
    with cached_in(cache / "charts"), compiled_in(cache / "templates"):
        written = _write_dashboard(settings)
    _write_stamp(settings.export_dir, stamp)
    return written


REPORT = "report.html"
# The report's title as last made, and what it was made of (`_title`), in the state's cache.
TITLE = "report_title.json"
# The stamp of what `report.html` was drawn from (`_stamp`), beside it.
STAMP = ".report.html.stamp"
# Every mart `_contents` reads.
REPORT_MARTS = (
    "marts.district_year",
    "marts.commune_year",
    "marts.program_year",
    "marts.replication_candidates",
    "marts.commune_phase",
)


def _stamp(warehouse: Path, known: dict[str, str] | None = None) -> str:
    """What the report is drawn from: the facts of the marts it reads (columns, comments,
    a digest of every row: `etl.outputs.stamps.tables_facts`, as the exports; those of
    `known` taken as they are), the reference units its title names, and the code and
    templates that draw it. When in doubt, more: every template and every reference file,
    not only those this report reads today."""
    import hashlib

    import duckdb

    from etl.outputs import stamps  # the exports' own facts

    known = known or {}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        present = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select schema_name, table_name from duckdb_tables()"
            ).fetchall()
        }
        tables = [table for table in REPORT_MARTS if table in present]
        unknown = [table for table in tables if table not in known]
        facts = {table: known[table] for table in tables if table in known}
        facts.update(stamps.tables_facts(con, unknown) if unknown else {})
    finally:
        con.close()
    digest = hashlib.sha256(_code_stamp())
    digest.update(repr([(table, facts.get(table)) for table in REPORT_MARTS]).encode())
    return digest.hexdigest()


def _code_stamp() -> bytes:
    """The code, templates and reference units that shape the report, the suites its
    legends come from (the rating mix is `expectations/htx.json`'s, `layout.RATING_MIX`),
    and the versions of what renders it (DuckDB's reads, Jinja's page, vl-convert's charts)."""
    from etl.config import EXPECTATIONS_DIR, REFERENCE_DIR
    from etl.contract import layout, reference
    from etl.outputs import charts, html
    from etl.outputs.stamps import code_digest

    sources = [Path(m.__file__) for m in (charts, html, layout, reference)]  # type: ignore[arg-type]
    paths = [
        Path(__file__),
        *sources,
        *sorted(html.TEMPLATES.glob("*.j2")),
        *sorted(REFERENCE_DIR.glob("*.csv")),
        *sorted(EXPECTATIONS_DIR.rglob("*.json")),
    ]
    return code_digest(paths, packages=("duckdb", "jinja2", "vl-convert-python")).encode()


def _read_stamp(export_dir: Path) -> str | None:
    try:
        return (export_dir / STAMP).read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _write_stamp(export_dir: Path, stamp: str) -> None:
    import os

    temporary = export_dir / f".{STAMP}.tmp"
    temporary.write_text(stamp + "\n", encoding="utf-8")
    os.replace(temporary, export_dir / STAMP)


def draw_ahead(settings: Settings, warehouse: Path) -> int:
    """Hand the charts of the report `warehouse` makes that are not drawn yet to `htx run`'s
    warm validator, which draws them into the charts' cache meanwhile this process goes on
    (`etl.outputs.charts.draw_ahead`): the publish calls it on the build, before the swap,
    so that the exports' report finds them drawn. Returns how many were handed over: none
    without a warm validator (then the report draws them, as it always can)."""
    from etl.outputs import charts
    from etl.quality import validator

    if validator.current() is None:
        return 0
    with charts.collected() as wanted:
        _contents(warehouse, settings.state_dir / "cache")
    return charts.draw_ahead(settings.state_dir / "cache" / "charts", wanted)


def _write_dashboard(settings: Settings) -> Path:
    contents = _contents(settings.warehouse, settings.state_dir / "cache")
    settings.export_dir.mkdir(parents=True, exist_ok=True)
    target = write_page(settings.export_dir / REPORT, "report.html.j2", **contents)
    log.info("HTML report: %s", target)
    return target


def _contents(warehouse: Path, cache: Path | None = None) -> dict:
    """What the report's template shows of `warehouse`, its charts drawn (`_svg`); its title
    kept in the state folder's `cache`, if given (`_title`)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        phase = _phase(con)
        title = _title(con, cache / TITLE if cache is not None else None)
        by_commune = {"new_commune_name", "commune_rank"} <= _columns(
            con, "marts", "replication_candidates"
        )
        # The first three charts are 2021-2025's: the marts' later years (carried forward
        # to the former district) belong to the phase by new commune. The unattributed rows
        # (one per province and year) are drawn as one line, as a district's are.
        trend = con.execute(
            "select district_code, coalesce(any_value(district_name), 'Không xác định'), year, "
            "sum(revenue_mvnd)::double from marts.district_year where year < ? "
            "group by district_code, year order by district_code nulls last, year",
            [PHASE_FIRST_YEAR],
        ).fetchall()
        # One sum a column of the rating mix, in the order of RATING_MIX_NAMES.
        mix = ", ".join(f"sum({column})" for column in RATING_MIX_NAMES)
        ratings = con.execute(
            f"select year, {mix} from marts.district_year where year < ? "  # noqa: S608  columns of RATING_MIX
            "group by year order by year",
            [PHASE_FIRST_YEAR],
        ).fetchall()
        support = con.execute(
            "select program_code, sum(amount_mvnd)::double from marts.program_year "
            "where year < ? group by program_code order by program_code",
            [PHASE_FIRST_YEAR],
        ).fetchall()
        # Every column, so that a warehouse without the new commune's columns still reads.
        cursor = con.execute(
            "select * from marts.replication_candidates "
            "where is_candidate order by district_code nulls last, district_rank"
        )
        names = [column[0] for column in cursor.description]
        candidates = [
            {
                "district_code": row.get("district_code"),
                "district_name": row.get("district_name") or "Không xác định",
                "district_rank": row["district_rank"],
                "province_code": row.get("province_code"),
                "coop_code": row["coop_code"],
                "name": row["name"],
                "score": row["score"],
                "revenue_mvnd": None if row["revenue_mvnd"] is None else float(row["revenue_mvnd"]),
                "in_da167": row["in_da167"],
                "new_commune_name": row.get("new_commune_name"),
                "commune_rank": row.get("commune_rank"),
            }
            for row in (dict(zip(names, values, strict=True)) for values in cursor.fetchall())
        ]
    finally:
        con.close()
    _name_unattributed_provinces(candidates)

    years = sorted({y for _, _, y, _ in trend})
    label = _unit_labels(
        [(code, name) for code, name, _, _ in trend]
        + [(row["district_code"], row["district_name"]) for row in candidates]
    )
    series: dict[str, list[float | None]] = {}
    for code, name, year, revenue in trend:
        series.setdefault(label[code, name], [None] * len(years))[years.index(year)] = revenue
    per_district: dict[str, int] = {}
    for row in candidates:
        key = label[row["district_code"], row["district_name"]]
        per_district[key] = per_district.get(key, 0) + 1
    sections = _sections(years, series, ratings, support, per_district)
    return {
        "sections": [
            {"heading": heading, "chart": chart, "note": note} for heading, chart, note in sections
        ],
        "title": title,
        "phase": phase,
        "by_commune": by_commune,
        "candidates": candidates,
    }


def _name_unattributed_provinces(candidates: list[dict]) -> None:
    """The unattributed candidates (no former district) are ranked within their province
    (`marts.replication_candidates.province_code`): where they are in more than one, each
    one's name says its province, and they are listed province by province, so that two
    first ranks are not one unit's. In one province (or a warehouse without the column)
    they stay as they are."""
    unattributed = [row for row in candidates if row["district_code"] is None]
    provinces = {row["province_code"] for row in unattributed}
    if len(provinces) < 2:
        return
    for row in unattributed:
        row["district_name"] = f"{row['district_name']} (tỉnh {row['province_code'] or '?'})"
    first = len(candidates) - len(unattributed)  # listed last (nulls last)
    candidates[first:] = sorted(
        unattributed, key=lambda row: (row["province_code"] or "", row["district_rank"])
    )


def _unit_labels(units: list[tuple[str | None, str]]) -> dict[tuple, str]:
    """Each (code, name) of a unit (a former district, a new commune) as the charts name it:
    its name, followed by its code where other units share the name (ten former districts
    are Huyện Châu Thành, seven communes Xã Tân Thành), so that no two become one line or one
    bar."""
    codes: dict[str, set] = {}
    for code, name in units:
        codes.setdefault(name, set()).add(code)
    return {
        (code, name): name if len(codes[name]) == 1 or code is None else f"{name} ({code})"
        for code, name in units
    }


def _grouped(
    values: dict[str, list[float | None]],
) -> tuple[dict[str, list[float | None]], int]:
    """`values` as drawn: with more than `TOP_DISTRICTS` names, the `TOP_DISTRICTS` of the
    largest totals (the first of equal totals first), in their order, then
    `OTHER_DISTRICTS`: the others' average, place by place, over those that have a value
    there (None where none has); and how many it averages (0: `values` as they are)."""
    if len(values) <= TOP_DISTRICTS:
        return values, 0
    names = list(values)
    totals = {name: sum(v for v in values[name] if v is not None) for name in names}
    top = set(sorted(names, key=lambda name: -totals[name])[:TOP_DISTRICTS])
    rest = [values[name] for name in names if name not in top]
    averaged = []
    for place in zip(*rest, strict=True):
        known = [v for v in place if v is not None]
        averaged.append(sum(known) / len(known) if known else None)
    drawn = {name: values[name] for name in names if name in top}
    drawn[OTHER_DISTRICTS] = averaged
    return drawn, len(rest)


def _note(grouped: int, by: tuple[str, str]) -> str | None:
    """The note under a chart whose districts beyond the first are drawn together."""
    if not grouped:
        return None
    return (
        f"{TOP_DISTRICTS} huyện cũ {by[0]} nhất được vẽ riêng; {grouped} huyện còn lại được "
        f"vẽ bằng mức bình quân một huyện. / The {TOP_DISTRICTS} former districts with the "
        f"{by[1]} are drawn one by one; the other {grouped} are drawn together as their "
        f"average per district."
    )


def _sections(
    years, series, ratings, support, per_district
) -> list[tuple[str, object, str | None]]:
    rating_names = tuple(RATING_MIX_NAMES.values())
    series, lines_grouped = _grouped(series)
    bars, bars_grouped = _grouped({name: [float(n)] for name, n in per_district.items()})
    return [
        ("Doanh thu HTX theo huyện cũ, 2021-2025 / Cooperative revenue by former district",
         line_chart("revenue", years, series, "triệu đồng / million VND",
                    grouped=OTHER_DISTRICTS if lines_grouped else None),
         _note(lines_grouped, ("có doanh thu cao", "most revenue"))),
        ("Cơ cấu xếp loại, 2021-2025 / Rating mix",
         bar_chart("ratings", [str(r[0]) for r in ratings],
                   {name: [float(r[i + 1] or 0) for r in ratings]
                    for i, name in enumerate(rating_names)}, "số HTX / cooperatives",
                   counted=True),
         None),
        ("Hỗ trợ theo chương trình, 2021-2025 / Support by programme",
         bar_chart("support", [PROGRAM_SHORT_NAMES.get(r[0], r[0]) for r in support],
                   {"Kinh phí": [r[1] for r in support]},
                   "triệu đồng / million VND"),
         None),
        ("Mô hình đủ điều kiện nhân rộng theo huyện cũ / Replication candidates by former "
         "district",
         bar_chart("candidates", list(bars),
                   {"Số mô hình": [float(v[0] or 0) for v in bars.values()]},
                   "số HTX / cooperatives", counted=True),
         _note(bars_grouped, ("nhiều mô hình", "most candidates"))),
    ]  # fmt: skip
