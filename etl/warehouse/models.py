"""The SQL models under `sql/` as a graph: the table each file builds, the tables it reads,
and the order to build them in, each after every model it reads. Also runs SQL files.

A model is one file: `sql/load/<name>.sql` builds `core.<name>`, `sql/intermediate/<name>.sql`
builds `intermediate.<name>`, `sql/marts/<name>.sql` builds `marts.<name>`. What a model
reads is what its SQL names: other models by schema-qualified name, and the tables the build
registers for it (`stg_<sheet>`, `ref_<what>`). Nobody keeps the order by hand.
"""

from __future__ import annotations

import heapq
import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

# Folder under sql/ -> the schema its models build, and the build step that builds it: the
# load step builds core from the staged rows; the publish step builds intermediate and marts
# later, in another connection. A model may read models of its own step or earlier ones.
LAYERS: dict[str, tuple[str, int]] = {
    "load": ("core", 0),
    "intermediate": ("intermediate", 1),
    "marts": ("marts", 1),
}
STEP = {schema: step for schema, step in LAYERS.values()}

_COMMENT_OR_STRING = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.S)
_MODEL_REF = re.compile(r"\b(" + "|".join(STEP) + r')\s*\.\s*"?([a-z_][a-z0-9_]*)"?', re.I)
# What a file creates for itself (its table, a type its pivot needs) is not something it reads.
_CREATED = re.compile(
    r"\bcreate\s+(?:or\s+replace\s+)?(?:temp(?:orary)?\s+)?(?:table|view|type)\s+"
    r"(?:if\s+not\s+exists\s+)?(" + "|".join(STEP) + r')\s*\.\s*"?([a-z_][a-z0-9_]*)"?',
    re.I,
)
# Tables the build registers in the connection before a step's models run.
_SOURCE_REF = re.compile(r"\b((?:stg|ref)_[a-z0-9_]+)\b", re.I)


class ModelGraphError(ValueError):
    """The models cannot be ordered: a cycle, an unknown table, or a read across steps."""


@dataclass(frozen=True)
class Model:
    """One SQL file and the table it builds."""

    table: str  # schema-qualified: core.dim_cooperative
    path: Path
    reads: frozenset[str]  # the models it reads, schema-qualified
    sources: frozenset[str]  # the registered tables it reads (stg_htx, ref_units, ...)

    @property
    def schema(self) -> str:
        return self.table.split(".")[0]

    @property
    def name(self) -> str:
        return self.table.split(".")[1]

    @property
    def step(self) -> int:
        return STEP[self.schema]


def references(sql: str) -> tuple[set[str], set[str]]:
    """The models (schema-qualified, lower case) and the registered tables a SQL text reads:
    what it names, leaving out comments, string literals and what it creates itself."""
    code = _COMMENT_OR_STRING.sub(" ", sql)
    created = {f"{schema}.{name}".lower() for schema, name in _CREATED.findall(code)}
    models = {f"{schema}.{name}".lower() for schema, name in _MODEL_REF.findall(code)} - created
    sources = {name.lower() for name in _SOURCE_REF.findall(code)}
    return models, sources


def discover(sql_dir: Path) -> list[Model]:
    """Every model under `sql_dir`, by table name."""
    models = []
    for folder, (schema, _) in LAYERS.items():
        for path in sorted((sql_dir / folder).glob("*.sql")):
            table = f"{schema}.{path.stem}"
            reads, sources = references(path.read_text(encoding="utf-8"))
            models.append(Model(table, path, frozenset(reads - {table}), frozenset(sources)))
    return sorted(models, key=lambda m: m.table)


def build_order(
    models: Iterable[Model], sources: Mapping[str, Iterable[str]] | None = None
) -> list[Model]:
    """The models in an order where each comes after every model it reads; ties go by build
    step, then by table name, so the order is the same on every run.

    `sources` names, per schema, the registered tables its models may read; when given, a
    model reading any other is an error.
    """
    by_table = {m.table: m for m in models}
    problems = []
    for model in by_table.values():
        for read in sorted(model.reads):
            if read not in by_table:
                problems.append(f"{model.path.name}: {read} is not a model under sql/")
            elif by_table[read].step > model.step:
                problems.append(
                    f"{model.path.name}: {model.table} reads {read}, which is built in a later step"
                )
        if sources is not None:
            allowed = set(sources.get(model.schema, ()))
            for source in sorted(model.sources - allowed):
                problems.append(
                    f"{model.path.name}: {source} is not a table the build registers for "
                    f"{model.schema} models ({', '.join(sorted(allowed)) or 'none'})"
                )
    if problems:
        raise ModelGraphError("; ".join(problems))

    waiting = {t: set(m.reads) for t, m in by_table.items()}
    readers: dict[str, list[str]] = {t: [] for t in by_table}
    for table, reads in waiting.items():
        for read in reads:
            readers[read].append(table)
    ready = [(by_table[t].step, t) for t, reads in waiting.items() if not reads]
    heapq.heapify(ready)
    order = []
    while ready:
        _, table = heapq.heappop(ready)
        order.append(by_table[table])
        for reader in readers[table]:
            waiting[reader].discard(table)
            if not waiting[reader]:
                heapq.heappush(ready, (by_table[reader].step, reader))
    if len(order) < len(by_table):
        stuck = sorted(t for t, reads in waiting.items() if reads)
        raise ModelGraphError(f"the models read each other in a cycle: {_cycle(stuck, waiting)}")
    return order


def _cycle(stuck: list[str], waiting: dict[str, set[str]]) -> str:
    """One cycle among the models left unordered, as `a -> b -> a` (a reads b, b reads a)."""
    path = [stuck[0]]
    while path[-1] not in path[:-1]:
        path.append(min(waiting[path[-1]]))
    return " -> ".join(path[path.index(path[-1]) :])


def rollback(con) -> None:
    """Roll back the transaction an error ends, without hiding that error: a commit that
    failed (a full disk: `File too large`) has ended the transaction already, and its
    rollback's `cannot rollback - no transaction is active` would be raised in its place."""
    import duckdb

    try:
        con.execute("rollback")
    except duckdb.TransactionException as exc:
        log.debug("nothing to roll back: %s", exc)


def run_sql_file(con, path: Path) -> None:
    """Execute every statement of a SQL file; errors name the file."""
    started = time.perf_counter()
    try:
        con.execute(path.read_text(encoding="utf-8"))
    except Exception as exc:
        raise RuntimeError(f"{path.relative_to(path.parents[2])}: {exc}") from exc
    log.debug("%s in %.2fs", path.name, time.perf_counter() - started)


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    """The one value of a query that answers one row (a count, a check's violations)."""
    row = con.execute(sql).fetchone()
    if row is None:
        raise LookupError(f"no row from: {sql}")
    return row[0]


def create_from_frame(con, name: str, frame, select: str = "*") -> None:
    """A temp table from a DataFrame, selecting (and casting) `select`."""
    con.register("_frame", frame)
    try:
        con.execute(f"create or replace temp table {name} as select {select} from _frame")  # noqa: S608  staging names and casts from the layout
    finally:
        con.unregister("_frame")
