"""Each rule written once: the GX suites in `expectations/` are the rules, and every copy of a
list, bound or band (the template's drop-downs, checks, highlight and instructions, the
layout's lists, the sample generator's bands, the suites' own messages) agrees with them.

The comparisons read a real template workbook back with openpyxl. Each is also fed suites
changed on purpose, and must report the change: that is what makes the agreement a guard.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from conftest import (
    HTX_HEADER,
    LINK_HEADER,
    OCOP_HEADER,
    SUPPORT_HEADER,
    htx_row,
    info_rows,
    template_validations,
    validation_items,
    write_xlsx,
)

from etl.contract import layout, rules
from etl.contract.rules import Bounds, Rules, load_documents
from etl.outputs import template
from etl.read.discover import LandedFile, file_id_for, sha256_of
from etl.warehouse.staging import read_outcome, stage_batch
from tools import sample

YEAR = 2023
# Scores the band comparisons try: every half point of the scale and either side of an edge.
SCORES = sorted(
    {x / 2 for x in range(-2, 203)} | {e + d for e in range(101) for d in (-1e-6, 1e-6)}
)


# --- reading the template back ---------------------------------------------------------


def _number(text: str | None) -> float | None:
    return None if text is None else float(text)


def _n(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _guide(workbook) -> list[str]:
    return [str(c.value) for c in workbook[template.INSTRUCTIONS_SHEET]["A"] if c.value]


def _compiled(formula: str, letters: dict[str, str]):
    """The band highlight as Python: its few Excel functions (AND, OR, ISNUMBER, = < <= > >=)
    on one row, so the check judges what the formula does, not how it is spelt."""
    python = formula.lstrip("=")
    python = re.sub(r"\bAND\(", "_and(", python)
    python = re.sub(r"\bOR\(", "_or(", python)
    python = re.sub(r"\bISNUMBER\(", "_isnumber(", python)
    python = re.sub(r"(?<![<>=])=(?!=)", "==", python)
    python = re.sub(r"\b([A-Z]{1,3})2\b", lambda m: letters[m[1]], python)
    return compile(python, "<highlight>", "eval")


def _evaluate(code, values: dict[str, object]) -> bool:
    scope = {
        "_and": lambda *a: all(a),
        "_or": lambda *a: any(a),
        "_isnumber": lambda v: isinstance(v, int | float),
        **values,
    }
    return bool(eval(code, {"__builtins__": {}}, scope))  # noqa: S307 - our own formula


def _probes(suite: Bounds) -> list[float]:
    """Values either side of a range's ends (an open end: far beyond the other)."""
    low = suite.min if suite.min is not None else -1e12
    high = suite.max if suite.max is not None else 1e15
    return [low - 1, low, low + 1e-6, high - 1e-6, high, high + 1]


def _admitted(check, suite: Bounds) -> list[bool]:
    """Which `_probes` a template number check lets a clerk type."""
    values = _probes(suite)
    if check.type == "custom":
        letter = str(check.sqref).split()[0].split(":")[0].rstrip("0123456789")
        code = _compiled(check.formula1, {letter: "value"})
        return [_evaluate(code, {"value": v}) for v in values]
    low, high = _number(check.formula1), _number(check.formula2)
    admits = {
        "greaterThan": lambda v: v > low,
        "greaterThanOrEqual": lambda v: v >= low,
        "lessThan": lambda v: v < low,
        "lessThanOrEqual": lambda v: v <= low,
        "equal": lambda v: v == low,
        None: lambda v: low <= v <= high,
        "between": lambda v: low <= v <= high,
    }[check.operator]
    return [admits(v) for v in values]


def _spoken_band(text: str, scale: Bounds) -> Bounds:
    """`từ 65 đến dưới 80`, `điểm từ 80 trở lên`, `dưới 50` as a range on the scale."""
    low = re.search(r"(từ|trên) (\d+(?:\.\d+)?)", text)
    high = re.search(r"(đến dưới|dưới|đến) (\d+(?:\.\d+)?)", text)
    return Bounds(
        min=float(low[2]) if low else scale.min,
        max=float(high[2]) if high else scale.max,
        strict_min=bool(low and low[1] == "trên"),
        strict_max=bool(high and "dưới" in high[1]),
    )


def _english_band(text: str, scale: Bounds) -> Bounds:
    """`≥ 80`, `65–<80`, `< 50` as a range on the scale."""
    if m := re.fullmatch(r"(\S+)–(<|≤)(\S+)", text):
        return Bounds(float(m[1]), float(m[3]), strict_max=m[2] == "<")
    m = re.fullmatch(r"(≥|>|<|≤) (\S+)", text)
    if m[1] in "≥>":
        return Bounds(float(m[2]), scale.max, strict_min=m[1] == ">")
    return Bounds(scale.min, float(m[2]), strict_max=m[1] == "<")


def _same_band(a: Bounds, b: Bounds, scale: Bounds) -> bool:
    return all(a.admits(s) == b.admits(s) for s in SCORES if scale.admits(s))


# --- the comparisons -------------------------------------------------------------------


def template_disagreements(r: Rules, path: Path, year: int) -> list[str]:
    """Where a template workbook's lists, bounds, bands and instructions differ from `r`."""
    workbook = openpyxl.load_workbook(path)
    found: list[str] = []

    def differ(what: str, template_says, suite_says) -> None:
        if template_says != suite_says:
            found.append(f"{what}: template {template_says!r}, suite {suite_says!r}")

    checks = {s.key: template_validations(workbook[s.name]) for s in layout.DATA_SHEETS}
    for sheet in layout.DATA_SHEETS:
        rules_of = checks[sheet.key]
        for column in sheet.columns:
            where = f"{sheet.name}.{column.header}"
            header = template.header_text(column)
            if column.kind == "category":
                differ(
                    where,
                    validation_items(rules_of[header]),
                    list(r.listed(sheet.key, column.key, year)),
                )
            elif column.kind == "program":
                differ(
                    where,
                    validation_items(rules_of[header]),
                    list(r.value_set(sheet.key, column.key)),
                )
            elif column.key == "stars":
                stars = [str(n) for n in r.bounds(sheet.key, column.key).whole_numbers()]
                differ(where, validation_items(rules_of[header]), stars)
            elif column.kind in ("int", "money", "number") and column.key != "year":
                check = rules_of[header]
                suite = r.bounds(sheet.key, column.key)
                if suite.strict_min or check.type == "custom":
                    # Excel's `between` includes its ends: judged on values either side of
                    # each end, whatever form the check takes (a custom formula).
                    differ(
                        where, _admitted(check, suite), [suite.admits(v) for v in _probes(suite)]
                    )
                    continue
                cap = template.INPUT_CAPS.get(column.kind) if suite.max is None else None
                differ(
                    where,
                    (check.operator, _number(check.formula1), _number(check.formula2)),
                    (None, suite.min, suite.max if cap is None else cap),
                )
    commune = checks["htx"][layout.HTX.column("commune_name").header]
    style = "warning" if r.severity("commune_known") == "warning" else "stop"
    differ("HTX.Xã/Phường severity", commune.errorStyle or "stop", style)
    differ("coop_code pattern", template.CODE_PATTERN, r.regex("htx", "coop_code"))

    # The hidden lists sheet.
    lists = workbook[template.LISTS_SHEET]
    columns = {col[0].value: [c.value for c in col[1:] if c.value] for col in lists.iter_cols()}
    differ("DanhMuc.Lĩnh vực", columns["Lĩnh vực"], list(r.value_set("htx", "sector")))
    differ("DanhMuc.Xếp loại", columns["Xếp loại"], list(r.value_set("htx", "rating")))
    codes = [item.split(":")[0] for item in columns["Chương trình"]]
    differ("DanhMuc.Chương trình", codes, list(r.value_set("hotro", "program")))

    # The highlight of a score outside its rating's band, judged on every score and rating.
    ws = workbook[layout.HTX.name]
    letters = {cell.column_letter: cell.value for cell in ws[1]}
    names = {
        letter: {"Xếp loại": "rating", "Điểm": "score"}.get(header)
        for letter, header in letters.items()
    }
    [formula] = [rule.formula[0] for cf in ws.conditional_formatting for rule in cf.rules]
    highlight = _compiled(formula, {k: v for k, v in names.items() if v})
    scale = r.bounds("htx", "score")
    bands = {band.rating: band.bounds for band in r.rating_bands()}
    for rating in r.value_set("htx", "rating"):
        for score in (s for s in SCORES if scale.admits(s)):
            marked = _evaluate(highlight, {"rating": rating, "score": score})
            wrong = rating in bands and not bands[rating].admits(score)
            if marked != wrong:
                found.append(f"highlight: {rating} with score {score} marked={marked}")
                break

    # HuongDan: the rating bands, in Vietnamese and English, and the numbers of the notes.
    guide = _guide(workbook)
    spoken = {}
    for line in guide:
        if m := re.fullmatch(r"• ([^:]+): (?:điểm )?((?:từ|trên|dưới|đến) .*)\.", line):
            spoken[m[1]] = _spoken_band(m[2], scale)
    differ("HuongDan ratings with a band", sorted(spoken), sorted(bands))
    for rating, band in bands.items():
        if rating in spoken and not _same_band(spoken[rating], band, scale):
            found.append(f"HuongDan band of {rating}: {spoken[rating]} vs suite {band}")
    [english] = [line for line in guide if line.startswith("Rating bands: ")]
    parts = english.removeprefix("Rating bands: ").split(" (")[0].split(", ")
    said = {}
    for part in parts:
        rating, _, text = part.rpartition(" ") if "–" in part else part.partition(" ")
        if "–" not in part:
            rating, text = re.fullmatch(r"(.+?) ((?:≥|>|<|≤) \S+)", part).groups()
        said[rating] = _english_band(text, scale)
    differ("HuongDan English ratings", sorted(said), sorted(bands))
    for rating, band in bands.items():
        if rating in said and not _same_band(said[rating], band, scale):
            found.append(f"HuongDan English band of {rating}: {said[rating]} vs suite {band}")
    text = "\n".join(guide)
    members, few = r.bounds("htx", "members"), r.bounds("htx", "members", "warning")
    stars = r.bounds("ocop", "stars")
    score = r.bounds("htx", "score")
    amount = r.bounds("hotro", "amount_mvnd")
    jump = r.bounds("warehouse/year_over_year", "revenue_ratio", "warning")
    for phrase in (
        f"Số thành viên: số nguyên ≥ {_n(members.min)}; dưới {_n(few.min)} thành viên",
        f"HTX có dưới {_n(few.min)} thành viên.",
        f"Điểm: điểm xếp loại từ {_n(score.min)} đến {_n(score.max)}.",
        f"sao ngoài {_n(stars.min)}–{_n(stars.max)}",
        f"Kinh phí (triệu đồng): triệu đồng, lớn hơn {_n(amount.min)}",
        f"tăng hơn {_n(jump.max)} lần hay giảm dưới 1/{_n(1 / jump.min)}",
    ):
        if phrase not in text:
            found.append(f"HuongDan lacks {phrase!r}")
    return found


def layout_disagreements(r: Rules) -> list[str]:
    """Where the layout's lists (the reader's labels) differ from `r`."""
    found = []
    pairs = {
        "SECTORS": (layout.SECTORS, r.value_set("htx", "sector")),
        "RATINGS": (layout.RATINGS, r.value_set("htx", "rating")),
        "OCOP_GROUPS": (layout.OCOP_GROUPS, r.value_set("ocop", "product_group")),
        "FUNDING_SOURCES": (layout.FUNDING_SOURCES, r.listed("hotro", "funding_source")),
        "PROGRAMS": (tuple(p[0] for p in layout.PROGRAMS), r.value_set("hotro", "program")),
    }
    for name, (ours, suite) in pairs.items():
        if tuple(ours) != tuple(suite):
            found.append(f"layout.{name}: {ours!r} vs suite {suite!r}")
    for sheet in layout.DATA_SHEETS:
        for column in sheet.columns:
            if column.kind == "category" and column.allowed != r.listed(sheet.key, column.key):
                found.append(f"layout {sheet.key}.{column.key}.allowed: {column.allowed!r}")
    return found


def sample_disagreements(r: Rules) -> list[str]:
    """Where the sample generator's ratings, score bands and stars differ from `r`."""
    found = []
    bands = {band.rating: band.bounds for band in r.rating_bands()}
    for score in SCORES:
        if sample.rating_for(score) != r.rating_for(score):
            found.append(f"sample.rating_for({score}) = {sample.rating_for(score)!r}")
            break
    shaped = [(rating, band) for rating, _share, band in sample._RATING_MIX]
    shaped += [(sample.GOOD, sample._GOOD_BAND), (sample.FAIR, sample._FAIR_BAND)]
    for rating, (low, high) in shaped:
        if rating not in bands or not (bands[rating].admits(low) and bands[rating].admits(high)):
            found.append(f"sample band {rating} {low}–{high} is outside the suite's")
    if r.bounds("ocop", "stars").whole_numbers() != sample.STARS:
        found.append(f"sample.STARS {sample.STARS}")
    unpacked = {
        "sectors": (sample.AGRI, sample.NON_AGRI, sample.CREDIT, sample.TRANSPORT),
        "ratings": (sample.GOOD, sample.FAIR, sample.AVERAGE, sample.WEAK, sample.UNRATED),
    }
    if unpacked["ratings"] != r.value_set("htx", "rating"):
        found.append(f"sample ratings {unpacked['ratings']}")
    if unpacked["sectors"] != r.value_set("htx", "sector")[:4]:
        found.append(f"sample sectors {unpacked['sectors']}")
    return found


def message_disagreements(r: Rules) -> list[str]:
    """A suite message that names values of its rule's list names all of them, in order; a
    rating band's message names the ends of its band."""
    found = []
    for rule in r.all:
        if rule.type != "expect_column_values_to_be_in_set":
            continue
        if rule.meta.get("lookup_file"):
            values = r.listed(rule.suite, rule.column)
        else:
            values = tuple(v for v in rule.kwargs["value_set"] if isinstance(v, str))
        for message in (rule.message_vi, rule.message_en):
            at = [re.search(rf"(?<!\w){re.escape(v)}(?!\w)", message) for v in values]
            if any(at) and (
                not all(at) or [m.start() for m in at] != sorted(m.start() for m in at)
            ):
                found.append(f"{rule.suite}.{rule.name} message {message!r} vs {values!r}")
    scale = r.bounds("htx", "score")
    for rule in r.named("rating_matches_score"):
        kw = rule.kwargs
        ends = [kw["min_value"]] if kw["min_value"] != scale.min else []
        ends += [kw["max_value"]] if kw["max_value"] != scale.max else []
        for message in (rule.message_vi, rule.message_en):
            if not all(re.search(rf"(?<!\d){_n(e)}(?!\d)", message) for e in ends):
                found.append(f"{rule.suite}.{rule.name} message {message!r} vs {ends}")
    return found


# --- the real project agrees -----------------------------------------------------------


@pytest.fixture(scope="module")
def real_template(tmp_path_factory) -> Path:
    return template.write_template(tmp_path_factory.mktemp("t") / "663.xlsx", "663", YEAR)


def test_the_template_agrees_with_the_suites(real_template):
    assert template_disagreements(rules.current(), real_template, YEAR) == []


def test_the_layout_and_the_reader_labels_agree_with_the_suites():
    assert layout_disagreements(rules.current()) == []


def test_every_sheet_checks_a_cooperative_code_with_the_htx_sheets_pattern():
    """Rule 16's `coop_code_format` is written in each sheet's suite (GX validates a sheet's
    frame with its own suite): a code HoTro, OCOP or LienKet accepts is one HTX accepts."""
    current = rules.current()
    htx = current.regex("htx", "coop_code")
    assert {key: current.regex(key, "coop_code") for key in ("hotro", "ocop", "lienket")} == {
        key: htx for key in ("hotro", "ocop", "lienket")
    }


def test_the_sample_generator_agrees_with_the_suites():
    assert sample_disagreements(rules.current()) == []


def test_the_suites_messages_agree_with_their_lists_and_bands():
    assert message_disagreements(rules.current()) == []


# --- a broken copy is reported ----------------------------------------------------------


def _expectation(documents: dict, suite: str, rule: str, **kwargs) -> dict:
    return next(
        e
        for e in documents[suite]["expectations"]
        if e["meta"].get("rule") == rule and all(e["kwargs"].get(k) == v for k, v in kwargs.items())
    )


def _set_kwarg(suite, rule, key, value, **where):
    def change(documents):
        _expectation(documents, suite, rule, **where)["kwargs"][key] = value

    return change


def _rename(suite, rule, old, new):
    def change(documents):
        values = _expectation(documents, suite, rule)["kwargs"]["value_set"]
        values[values.index(old)] = new

    return change


def _set_meta(suite, rule, key, value):
    def change(documents):
        _expectation(documents, suite, rule)["meta"][key] = value

    return change


KHA = {
    "row_condition": {
        "type": "comparison",
        "column": {"name": "rating"},
        "operator": "==",
        "parameter": "Khá",
    }
}
# (what is broken, how, which comparisons must report it and a fragment of the report)
MUTATIONS = {
    "a sector renamed": (
        _rename("htx", "sector_known", "Vận tải", "Giao thông vận tải"),
        {"template": "Lĩnh vực", "layout": "SECTORS", "message": "sector_known"},
    ),
    "a rating band moved": (
        _set_kwarg("htx", "rating_matches_score", "min_value", 66, **KHA),
        {"template": "Khá", "sample": "rating_for", "message": "rating_matches_score"},
    ),
    "the score's upper bound": (
        _set_kwarg("htx", "score_0_100", "max_value", 10),
        {"template": "Điểm"},
    ),
    "the members' lower bound": (
        _set_kwarg("htx", "members_not_negative", "min_value", 1),
        {"template": "Số thành viên"},
    ),
    "the amount no longer strict": (
        _set_kwarg("hotro", "amount_positive", "strict_min", False),
        {"template": "Kinh phí"},
    ),
    "a plausibility bound": (
        _set_kwarg("htx", "revenue_mvnd_plausible", "max_value", 1e8),
        {"template": "Doanh thu"},
    ),
    "the stars": (_set_kwarg("ocop", "stars_3_to_5", "max_value", 4), {"template": "Số sao"}),
    "an OCOP group dropped": (
        lambda d: _expectation(d, "ocop", "product_group_known")["kwargs"]["value_set"].pop(),
        {"template": "Nhóm sản phẩm", "layout": "OCOP_GROUPS"},
    ),
    "a programme added": (
        lambda d: _expectation(d, "hotro", "program_known")["kwargs"]["value_set"].append("XA"),
        {"template": "Chương trình", "layout": "PROGRAMS"},
    ),
    "the commune rule made an error": (
        _set_meta("htx", "commune_known", "severity", "error"),
        {"template": "severity"},
    ),
    "the code pattern": (
        _set_kwarg("htx", "coop_code_format", "regex", r"^\d{10}$"),
        {"template": "pattern"},
    ),
    "a message listing old ratings": (
        _rename("htx", "rating_known", "Yếu", "Kém"),
        {"message": "rating_known", "layout": "RATINGS"},
    ),
    "the year-over-year ratio": (
        _set_kwarg("warehouse/year_over_year", "revenue_jump", "max_value", 5),
        {"template": "tăng hơn"},
    ),
}


def _mutated(change) -> Rules:
    documents = copy.deepcopy(load_documents())
    change(documents)
    return Rules(documents)


@pytest.mark.parametrize("name", MUTATIONS)
def test_a_suite_changed_alone_is_reported(name, real_template):
    change, expected = MUTATIONS[name]
    mutated = _mutated(change)
    reports = {
        "template": template_disagreements(mutated, real_template, YEAR),
        "layout": layout_disagreements(mutated),
        "sample": sample_disagreements(mutated),
        "message": message_disagreements(mutated),
    }
    for comparison, fragment in expected.items():
        assert any(fragment in line for line in reports[comparison]), (comparison, reports)


def _funding_root(tmp_path: Path, rows: str) -> Path:
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "funding_sources.csv").write_text(
        "label,first_year,last_year\n" + rows, encoding="utf-8"
    )
    return tmp_path


YEAR_BOUND = "Trung ương,,\nTỉnh,,\nHuyện,,2022\nLồng ghép,,\nKhác,,\nXã,2023,\n"


def test_a_funding_source_file_changed_alone_is_reported(tmp_path, real_template):
    # Other years than the real file's, and a source no suite message names.
    changed = Rules(load_documents(), root=_funding_root(tmp_path, YEAR_BOUND + "Quỹ HTX,2023,\n"))
    report = template_disagreements(changed, real_template, YEAR)
    assert any("Nguồn vốn" in line and "Xã" in line for line in report), report
    assert any("FUNDING_SOURCES" in line for line in layout_disagreements(changed))
    assert any("funding_source_known" in line for line in message_disagreements(changed))


# --- the template follows a changed suite -----------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "a sector renamed",
        "a rating band moved",
        "the score's upper bound",
        "the members' lower bound",
        "the amount no longer strict",
        "a plausibility bound",
        "the stars",
        "an OCOP group dropped",
        "the commune rule made an error",
        "the year-over-year ratio",
    ],
)
def test_the_template_follows_a_changed_suite(name, tmp_path, monkeypatch):
    mutated = _mutated(MUTATIONS[name][0])
    monkeypatch.setattr(template, "current", lambda: mutated)
    path = template.write_template(tmp_path / "663.xlsx", "663", YEAR)
    assert template_disagreements(mutated, path, YEAR) == []


def test_the_template_offers_the_funding_sources_of_its_year(tmp_path, monkeypatch):
    changed = Rules(load_documents(), root=_funding_root(tmp_path, YEAR_BOUND))
    monkeypatch.setattr(template, "current", lambda: changed)
    for year, expected in (
        (2022, ["Trung ương", "Tỉnh", "Huyện", "Lồng ghép", "Khác"]),
        (2023, ["Trung ương", "Tỉnh", "Lồng ghép", "Khác", "Xã"]),
    ):
        path = template.write_template(tmp_path / f"663_{year}.xlsx", "663", year)
        checks = template_validations(openpyxl.load_workbook(path)["HoTro"])
        assert validation_items(checks["Nguồn vốn"]) == expected
        assert template_disagreements(changed, path, year) == []


# --- the funding sources are judged by report year, through the GX suite ----------------


def _stage(tmp_path: Path, support: list[list], year: int = YEAR) -> dict:
    name = f"663_{year}.xlsx"
    sheets = {
        "ThongTin": info_rows(year=year),
        "HTX": [HTX_HEADER, htx_row(1, "6400000001")],
        "HoTro": [SUPPORT_HEADER, *support],
    }
    path = write_xlsx(tmp_path / "landing" / name, sheets)
    sha = sha256_of(path)
    landed = LandedFile(file_id_for(sha), name, sha, path.stat().st_size, str(path))
    [summary] = stage_batch([landed], tmp_path / "staging", "test-run")
    return read_outcome(tmp_path / "staging", summary["file_id"])


def _funding_findings(outcome: dict) -> list[tuple]:
    return [
        (f["severity"], f["excel_row"], f["column_name"], f["value"], f["cell"])
        for f in outcome["findings"]
        if f["rule"] == "funding_source_known"
    ]


def test_an_unknown_funding_source_is_a_warning_on_its_cell(tmp_path):
    support = [
        ["6400000001", "NTM", "Máy sấy", "Ngân hàng", 120, YEAR],
        ["6400000001", "DA167", "Kho", "tinh", 80, YEAR],  # read as `Tỉnh`
        ["6400000001", "KHAC", "Đào tạo", None, 20, YEAR],  # no source: nothing to judge
    ]
    outcome = _stage(tmp_path, support)
    assert outcome["status"] == "valid", outcome["findings"]
    assert _funding_findings(outcome) == [("warning", 2, "Nguồn vốn", "Ngân hàng", "D2")]


def test_a_funding_source_out_of_its_years_is_a_warning(tmp_path, monkeypatch):
    changed = Rules(load_documents(), root=_funding_root(tmp_path, YEAR_BOUND))
    monkeypatch.setattr(rules, "current", lambda: changed)
    support = [
        ["6400000001", "NTM", "Máy sấy", "Huyện", 120, YEAR],  # ended with 2022
        ["6400000001", "NTM", "Kho", "Xã", 80, YEAR],  # in force from 2023
    ]
    outcome = _stage(tmp_path / "2023", support)
    assert _funding_findings(outcome) == [("warning", 2, "Nguồn vốn", "Huyện", "D2")]
    earlier = [[*row[:5], 2022] for row in support]
    outcome = _stage(tmp_path / "2022", earlier, year=2022)
    assert _funding_findings(outcome) == [("warning", 3, "Nguồn vốn", "Xã", "D3")]


def test_rules_read_only_json_and_answer_what_the_copies_need():
    r = rules.current()
    assert r.value_set("htx", "rating")[0] == "Tốt"
    assert r.bounds("hotro", "amount_mvnd") == Bounds(0, 1e9, strict_min=True)
    assert [b.rating for b in r.rating_bands()] == ["Tốt", "Khá", "Trung bình", "Yếu"]
    assert (r.rating_for(80), r.rating_for(79.99), r.rating_for(101)) == ("Tốt", "Khá", "Tốt")
    assert r.severity("funding_source_known") == "warning"
    # The reader knows every source of any year; a year offers those in force then.
    assert r.listed("hotro", "funding_source") == layout.FUNDING_SOURCES
    assert "Xã" not in r.listed("hotro", "funding_source", 2024)
    assert "Huyện" not in r.listed("hotro", "funding_source", 2026)
    # The reader and the template import the rules; GX stays out of them.
    probe = (
        "import sys, etl.read.reader, etl.outputs.template; "
        "print('great_expectations' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def _repeated_findings(outcome: dict) -> list[tuple]:
    return [
        (f["rule"], f["severity"], f["sheet"], f["excel_row"], f["cell"])
        for f in outcome["findings"]
        if f["rule"].endswith("_line_repeated")
    ]


def test_a_support_line_typed_twice_is_a_warning_on_both_lines(tmp_path):
    """A support line that repeats another exactly (its cooperative, programme, content,
    source, amount and year) is a warning on both, saying the amount counts twice: both are
    read (they may be two grants), never doubled in silence. A line differing in one cell
    (the amount) repeats nothing. Before, NTM's support of the year counted 240 for 120."""
    line = ["6400000001", "NTM", "Máy sấy", "Tỉnh", 120, YEAR]
    support = [line, [*line[:4], 100, YEAR], list(line)]
    outcome = _stage(tmp_path, support)
    assert outcome["status"] == "valid", outcome["findings"]
    assert _repeated_findings(outcome) == [
        ("support_line_repeated", "warning", "HoTro", 2, "E2"),
        ("support_line_repeated", "warning", "HoTro", 4, "E4"),
    ]
    [message] = {f["message"] for f in outcome["findings"] if f["excel_row"] == 2}
    assert message.startswith("Dòng hỗ trợ này trùng hoàn toàn với một dòng khác của trang")
    assert "both lines were read, so the amount counts twice" in message


def test_an_ocop_or_offtake_line_typed_twice_is_a_warning_on_both_lines(tmp_path):
    product = ["6400000001", "Cà phê bột", "Đồ uống", 4, "123/QĐ-UBND", f"15/03/{YEAR}"]
    contract = ["6400000001", "Công ty A", "Cà phê", 12, 300]
    sheets = {
        "ThongTin": info_rows(year=YEAR),
        "HTX": [HTX_HEADER, htx_row(1, "6400000001")],
        "OCOP": [OCOP_HEADER, product, [*product[:3], 3, *product[4:]], list(product)],
        "LienKet": [LINK_HEADER, list(contract), list(contract), [*contract[:3], 12, 250]],
    }
    path = write_xlsx(tmp_path / "landing" / "663_2023.xlsx", sheets)
    sha = sha256_of(path)
    landed = LandedFile(file_id_for(sha), path.name, sha, path.stat().st_size, str(path))
    [summary] = stage_batch([landed], tmp_path / "staging", "test-run")
    outcome = read_outcome(tmp_path / "staging", summary["file_id"])
    assert outcome["status"] == "valid", outcome["findings"]
    assert _repeated_findings(outcome) == [
        ("ocop_line_repeated", "warning", "OCOP", 2, "B2"),
        ("ocop_line_repeated", "warning", "OCOP", 4, "B4"),
        ("offtake_line_repeated", "warning", "LienKet", 2, "B2"),
        ("offtake_line_repeated", "warning", "LienKet", 3, "B3"),
    ]


def test_lines_told_apart_by_what_could_not_be_read_are_no_repeats(tmp_path):
    """Two cells that could not be read are both empty as values, but not as the clerk wrote
    them: lines that differ there (`nhiều`, `ít`), or in how much of a date they give
    (`03/2023`, `01/03/2023`), repeat nothing (helper CB). Blank cells are the same blank."""
    sheets = {
        "ThongTin": info_rows(year=YEAR),
        "HTX": [HTX_HEADER, htx_row(1, "6400000001")],
        "HoTro": [
            SUPPORT_HEADER,
            ["6400000001", "NTM", "Máy sấy", "Tỉnh", "khoảng 120", YEAR],
            ["6400000001", "NTM", "Máy sấy", "Tỉnh", "chưa rõ", YEAR],
            ["6400000001", "NTM", "", "Tỉnh", 50, YEAR],
            ["6400000001", "NTM", None, "Tỉnh", 50, YEAR],
        ],
        "OCOP": [
            OCOP_HEADER,
            ["6400000001", "Cà phê", "Đồ uống", 4, "123/QĐ-UBND", f"03/{YEAR}"],
            ["6400000001", "Cà phê", "Đồ uống", 4, "123/QĐ-UBND", f"01/03/{YEAR}"],
        ],
        "LienKet": [
            LINK_HEADER,
            ["6400000001", "Công ty A", "Cà phê", "nhiều", 300],
            ["6400000001", "Công ty A", "Cà phê", "ít", 300],
        ],
    }
    path = write_xlsx(tmp_path / "landing" / "663_2023.xlsx", sheets)
    sha = sha256_of(path)
    landed = LandedFile(file_id_for(sha), path.name, sha, path.stat().st_size, str(path))
    [summary] = stage_batch([landed], tmp_path / "staging", "test-run")
    outcome = read_outcome(tmp_path / "staging", summary["file_id"])
    assert _repeated_findings(outcome) == [
        ("support_line_repeated", "warning", "HoTro", 4, "E4"),
        ("support_line_repeated", "warning", "HoTro", 5, "E5"),
    ]
