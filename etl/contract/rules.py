"""What the GX suites in `expectations/` say, as plain data: value sets, bounds, rating bands,
severities and messages, and the year-dependent lists their lookups name.

The suites are the rules, written once. The layout's lists (and so the reader's labels), the
template's drop-downs, checks and instructions, and the sample generator read them from here
instead of typing them again. JSON and CSV only, no GX import: the reader and the template
import this module.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from etl.config import EXPECTATIONS_DIR, PROJECT_ROOT

# The suite of each data sheet, by the layout's sheet key.
SHEET_SUITES = ("htx", "hotro", "ocop", "lienket")

# `rating=="Tốt"`: the row condition (pandas parser) of an expectation that holds for one value.


class RuleError(LookupError):
    """The suites do not state what was asked (a missing or ambiguous rule): a project defect."""


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite."""

    suite: str  # `htx`, `hotro`, ... or `warehouse/<check>`
    type: str
    kwargs: dict
    meta: dict

    @property
    def name(self) -> str:
        return self.meta.get("rule", self.type)

    @property
    def severity(self) -> str:
        return self.meta["severity"]

    @property
    def message_vi(self) -> str:
        return self.meta["message_vi"]

    @property
    def message_en(self) -> str:
        return self.meta["message_en"]

    @property
    def column(self) -> str | None:
        """The column the rule reports on: `meta.report_column`, else the judged column."""
        return (
            self.meta.get("report_column")
            or self.kwargs.get("column")
            or self.kwargs.get("column_A")
        )

    @property
    def condition(self) -> tuple[str, str] | None:
        """(column, value) of a row condition `column == "value"` (GX's comparison condition
        as data); None for a rule on every row."""
        condition = self.kwargs.get("row_condition")
        if not condition:
            return None
        if (
            not isinstance(condition, dict)
            or condition.get("type") != "comparison"
            or condition.get("operator") != "=="
        ):
            raise RuleError(f'{self.suite}: row condition {condition!r} is not column == "value"')
        return condition["column"]["name"], condition["parameter"]


@dataclass(frozen=True)
class Bounds:
    """A numeric range; None is open. Strict ends exclude the bound itself."""

    min: float | None = None
    max: float | None = None
    strict_min: bool = False
    strict_max: bool = False

    def admits(self, value: float) -> bool:
        above = self.min is None or value > self.min or (value == self.min and not self.strict_min)
        below = self.max is None or value < self.max or (value == self.max and not self.strict_max)
        return above and below

    def whole_numbers(self) -> tuple[int, ...]:
        """Every whole number in a closed range (`3..5` -> 3, 4, 5)."""
        if self.min is None or self.max is None:
            raise RuleError(f"{self} is open: it lists no whole numbers")
        low = int(self.min) + (1 if self.strict_min and self.min == int(self.min) else 0)
        high = int(self.max) - (1 if self.strict_max and self.max == int(self.max) else 0)
        return tuple(range(low, high + 1))


@dataclass(frozen=True)
class Band:
    """The score range one rating needs."""

    rating: str
    bounds: Bounds

    @property
    def lowest(self) -> float:
        """The score the band starts at; a band open below cannot be ranked."""
        if self.bounds.min is None:
            raise RuleError(f"the {self.rating} band states no lowest score")
        return self.bounds.min


@dataclass(frozen=True)
class YearLabel:
    """A list entry in force from `first_year` to `last_year` (report years; None is open)."""

    label: str
    first_year: int | None = None
    last_year: int | None = None

    def in_force(self, year: int) -> bool:
        return (self.first_year is None or self.first_year <= year) and (
            self.last_year is None or year <= self.last_year
        )


def load_documents(directory: Path = EXPECTATIONS_DIR) -> dict[str, dict]:
    """Every suite as data: sheet key or `warehouse/<check>` -> the JSON document."""
    paths = [directory / f"{key}.json" for key in SHEET_SUITES]
    paths += sorted((directory / "warehouse").glob("*.json"))
    return {
        path.relative_to(directory).with_suffix("").as_posix(): json.loads(
            path.read_text(encoding="utf-8")
        )
        for path in paths
    }


class Rules:
    """The rules of a set of suite documents. `root` resolves the files their lookups name."""

    def __init__(self, documents: dict[str, dict], root: Path = PROJECT_ROOT) -> None:
        self.documents = documents
        self.root = root
        self.all = tuple(
            Rule(suite, item["type"], item.get("kwargs", {}), item.get("meta", {}))
            for suite, document in documents.items()
            for item in document["expectations"]
        )
        self._files: dict[Path, tuple[YearLabel, ...]] = {}
        self._bands: tuple[Band, ...] | None = None

    def of(self, suite: str, column: str | None = None) -> list[Rule]:
        """The rules of a suite, or those of one column of it (by `Rule.column`)."""
        return [r for r in self.all if r.suite == suite and (column is None or r.column == column)]

    def named(self, name: str, suite: str | None = None) -> list[Rule]:
        """The expectations of one rule (`rating_matches_score` has one per rating)."""
        found = [r for r in self.all if r.name == name and (suite is None or r.suite == suite)]
        if not found:
            raise RuleError(f"no rule {name!r}" + (f" in suite {suite}" if suite else ""))
        return found

    def severity(self, name: str) -> str:
        """The severity of a rule; every expectation of it must agree."""
        severities = {r.severity for r in self.named(name)}
        if len(severities) != 1:
            raise RuleError(f"rule {name!r} has several severities: {sorted(severities)}")
        return severities.pop()

    def value_set(self, suite: str, column: str) -> tuple:
        """The values a column may hold: its `expect_column_values_to_be_in_set` on every row."""
        found = [
            r
            for r in self.of(suite)
            if r.type == "expect_column_values_to_be_in_set"
            and r.kwargs.get("column") == column
            and r.condition is None
        ]
        if len(found) != 1:
            raise RuleError(f"{suite}.{column}: {len(found)} value sets, expected one")
        return tuple(found[0].kwargs["value_set"])

    def bounds(self, suite: str, column: str, severity: str = "error") -> Bounds:
        """The range a column's values must keep at a severity: every unconditional
        `expect_column_values_to_be_between` of it, the tightest end of each."""
        found = [
            r
            for r in self.of(suite)
            if r.type == "expect_column_values_to_be_between"
            and r.kwargs.get("column") == column
            and r.condition is None
            and r.severity == severity
        ]
        if not found:
            raise RuleError(f"{suite}.{column}: no {severity} bounds")
        low: tuple[float, bool] | None = None
        high: tuple[float, bool] | None = None
        for rule in found:
            kw = rule.kwargs
            if kw.get("min_value") is not None:
                end = (kw["min_value"], bool(kw.get("strict_min", False)))
                low = end if low is None or end > low else low
            if kw.get("max_value") is not None:
                end = (kw["max_value"], not kw.get("strict_max", False))
                high = end if high is None or end < high else high
        return Bounds(
            min=None if low is None else low[0],
            max=None if high is None else high[0],
            strict_min=low is not None and low[1],
            strict_max=high is not None and not high[1],
        )

    def regex(self, suite: str, column: str) -> str:
        found = [
            r.kwargs["regex"]
            for r in self.of(suite)
            if r.type == "expect_column_values_to_match_regex" and r.kwargs.get("column") == column
        ]
        if len(found) != 1:
            raise RuleError(f"{suite}.{column}: {len(found)} patterns, expected one")
        return found[0]

    def conditional_bounds(self, suite: str, column: str, by: str) -> tuple[Band, ...]:
        """The range of `column` each value of `by` needs, from the between-expectations with
        a row condition `by=="value"`, in the suite's order."""
        bands = []
        for rule in self.of(suite):
            condition = rule.condition
            if (
                rule.type == "expect_column_values_to_be_between"
                and rule.kwargs.get("column") == column
                and condition is not None
                and condition[0] == by
            ):
                kw = rule.kwargs
                bounds = Bounds(
                    kw.get("min_value"),
                    kw.get("max_value"),
                    bool(kw.get("strict_min", False)),
                    bool(kw.get("strict_max", False)),
                )
                bands.append(Band(condition[1], bounds))
        return tuple(bands)

    def rating_bands(self) -> tuple[Band, ...]:
        """The score each rating needs (Thông tư 01/2020/TT-BKHĐT), best first."""
        if self._bands is None:
            bands = self.conditional_bounds("htx", "score", by="rating")
            if not bands:
                raise RuleError("htx: no expectation ties the rating to the score")
            self._bands = tuple(sorted(bands, key=lambda b: -b.lowest))
        return self._bands

    def rating_for(self, score: float) -> str:
        """The rating a score earns: the best band it reaches from below (a score past the
        scale's ends takes the nearest band)."""
        bands = self.rating_bands()
        for band in bands:
            low = band.lowest
            if score > low or (score == low and not band.bounds.strict_min):
                return band.rating
        return bands[-1].rating

    # --- lists that live in a file: year-dependent lookups -----------------------------

    def lookup_file(self, suite: str, column: str) -> Path:
        """The list file (`meta.lookup_file`) of the lookup rule reporting on a column."""
        found = [r.meta["lookup_file"] for r in self.of(suite, column) if "lookup_file" in r.meta]
        if len(found) != 1:
            raise RuleError(f"{suite}.{column}: {len(found)} lookup files, expected one")
        return self.root / found[0]

    def year_labels(self, suite: str, column: str) -> tuple[YearLabel, ...]:
        """The entries of a column's lookup file, each with the report years it is in force."""
        path = self.lookup_file(suite, column)
        if path not in self._files:
            self._files[path] = _read_year_labels(path)
        return self._files[path]

    def listed(self, suite: str, column: str, year: int | None = None) -> tuple[str, ...]:
        """The values a column may hold: its value set, or the entries of its lookup file
        in force in `year` (every entry of any year when None)."""
        has_set = any(
            r.type == "expect_column_values_to_be_in_set"
            and r.kwargs.get("column") == column
            and r.condition is None
            for r in self.of(suite)
        )
        if has_set:
            return self.value_set(suite, column)
        labels = self.year_labels(suite, column)
        return tuple(e.label for e in labels if year is None or e.in_force(year))

    def funding_sources(self) -> tuple[YearLabel, ...]:
        """`Nguồn vốn` with the report years each source is in force."""
        return self.year_labels("hotro", "funding_source")


def _read_year_labels(path: Path) -> tuple[YearLabel, ...]:
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(
            YearLabel(
                row["label"].strip(),
                int(row["first_year"]) if row["first_year"].strip() else None,
                int(row["last_year"]) if row["last_year"].strip() else None,
            )
            for row in csv.DictReader(handle)
        )


@cache
def current() -> Rules:
    """The project's rules, read once a process."""
    return Rules(load_documents())
