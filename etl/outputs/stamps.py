"""What the outputs keep beside the files they write, to know when one is up to date: a
digest of the code and data that shape a file (`code_digest`), what a table holds
(`tables_facts`), and small JSON records written atomically (`read_json`, `write_json`).
Shared by the exports, the quality report, the officials' report and its charts."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def code_digest(paths: Iterable[Path], packages: Iterable[str] = ()) -> str:
    """The SHA-256, in hex, of the installed versions of `packages` and of each file of
    `paths` (its name and content), in the order given. A file that changes, moves to
    another name or a library upgraded: another digest."""
    digest = hashlib.sha256()
    for package in packages:
        try:
            installed = version(package)
        except PackageNotFoundError:
            installed = "-"
        digest.update(f"{package}={installed}\0".encode())
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def read_json(path: Path) -> dict:
    """A record written by `write_json`; empty when it is missing, unreadable or not a
    mapping (then what it described is made again)."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stored if isinstance(stored, dict) else {}


def write_json(path: Path, value: dict) -> None:
    """Write a record atomically: a reader sees the old one or the new one, never a part."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(value, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)


def tables_facts(con, tables: list[str]) -> dict[str, str]:
    """What a fingerprint holds of each of `tables`, in three queries: each table's
    columns and types, its comment, its row count and two sums of a hash of each row (the
    rows' order is the SQL's own)."""
    columns: dict[str, list[tuple]] = {table: [] for table in tables}
    comments: dict[str, list[tuple]] = {table: [] for table in tables}
    for schema, name, *column in con.execute(
        "select schema_name, table_name, column_name, data_type, comment from duckdb_columns() "
        "order by schema_name, table_name, column_index"
    ).fetchall():
        columns.get(f"{schema}.{name}", []).append(tuple(column))
    for schema, name, comment in con.execute(
        "select schema_name, table_name, comment from duckdb_tables()"
    ).fetchall():
        comments.get(f"{schema}.{name}", []).append((comment,))
    totals = " union all ".join(
        f"select {i}, count(*), coalesce(sum(h::hugeint), 0)::varchar, "  # noqa: S608  table names are the project's own
        f"coalesce(bit_xor(hash(h, 7)), 0)::varchar from (select hash(t) as h from {table} t)"
        for i, table in enumerate(tables)
    )
    rows = {tables[i]: tuple(row) for i, *row in con.execute(totals).fetchall()}
    return {table: repr((table, columns[table], comments[table], rows[table])) for table in tables}
