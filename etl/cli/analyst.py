"""Read-only access for analysts: `htx sql` and `htx tables`.

The warehouse is opened read-only with external access off (no files read or written, no
extensions loaded), and only statements that read are accepted, so nothing an analyst
types can change the warehouse or reach outside it.

`htx sql` prints each statement's result as a table (DuckDB's box, for people), or whole as
CSV, Markdown (a blank line between two results) or JSON (for pipes; several results: one
array of them). A SQL error is one line (`sql_error_line`).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import os
import re
import stat
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Statement types that only read. DESCRIBE, SHOW and SUMMARIZE are SELECTs to DuckDB.
READING = {"SELECT", "EXPLAIN"}
# The warehouse's schemas, in the order `htx tables` lists them. Every table lives in one,
# none in DuckDB's default `main`: they are the search path, so that `show tables` lists
# them and a table's bare name reads it (no name is in two of them).
SCHEMAS = ("core", "intermediate", "marts", "audit")
# The statements that install or load an extension, as typed: DuckDB calls INSTALL a LOAD
# statement, and `UPDATE EXTENSIONS` a type its Python API cannot name (a ValueError).
_EXTENSION = re.compile(
    r"(?:\s|--[^\n]*\n?|/\*.*?\*/)*(force\s+install|install|load|update\s+extensions)\b",
    re.IGNORECASE | re.DOTALL,
)
FORMATS = ("table", "csv", "markdown", "json")
_NUMERIC = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
)


class WriteRefused(ValueError):
    """A statement that would write or reach outside the warehouse."""


class WarehouseUnreadable(OSError):
    """The warehouse file is there but DuckDB cannot open it."""


def connect(warehouse: Path):
    import duckdb

    from etl.config import no_warehouse

    if not warehouse.exists():
        raise FileNotFoundError(no_warehouse(warehouse))
    try:
        con = duckdb.connect(
            str(warehouse),
            read_only=True,
            config={
                "enable_external_access": False,
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
            },
        )
    except duckdb.Error as exc:  # not a DuckDB file, damaged, or of a newer DuckDB
        raise WarehouseUnreadable(
            f"Không mở được kho dữ liệu {warehouse}: {sql_error_line(exc)}. Hãy chạy lại "
            f"`htx run` để xây lại kho. / Cannot open the warehouse {warehouse}: "
            f"{sql_error_line(exc)}. Run `htx run` again to build it anew."
        ) from exc
    con.execute(f"set search_path = '{','.join(SCHEMAS)}'")  # a connection's own setting
    return con


def check_reading(con, sql: str) -> None:
    """Refuse anything but reading statements, before running any of them."""
    for statement in con.extract_statements(sql):
        typed = _EXTENSION.match(statement.query)
        if typed:
            named = " ".join(typed[1].upper().split())
            raise WriteRefused(
                f"Chỉ được đọc: câu lệnh {named} bị từ chối: không tải hay nạp phần mở rộng nào "
                "khi chạy (kho chỉ đọc, không truy cập ra ngoài). / Read only: the "
                f"{named} statement is refused: no extension is downloaded or loaded at run "
                "time (the warehouse is read only and reaches nothing outside it)."
            )
        kind = statement.type.name
        if kind not in READING:
            raise WriteRefused(
                f"Chỉ được đọc: câu lệnh {kind} bị từ chối. / Read only: the {kind} statement "
                "is refused."
            )


def sql_error_line(exc: BaseException) -> str:
    """A DuckDB error as one line: its kind and message, without the caret drawing."""
    lines = []
    for line in str(exc).splitlines():
        if line.startswith("LINE "):  # the statement quoted with a caret under the place
            break
        if line.strip():
            lines.append(line.strip())
    return " ".join(lines) or type(exc).__name__


def _text(value: Any) -> str:
    """A value as CSV and Markdown show it: NULL empty, booleans as SQL writes them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=_json_value)
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.date, dt.time, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def as_csv(columns: list[str], rows: list[tuple]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_text(v) for v in row] for row in rows)
    return buffer.getvalue().rstrip("\n")


def as_markdown(columns: list[str], types: list[str], rows: list[tuple]) -> str:
    def cell(value: Any) -> str:
        return _text(value).replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>")

    rule = ["---:" if kind.startswith(_NUMERIC) else "---" for kind in types]
    lines = ["| " + " | ".join(cell(c) for c in columns) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _records(columns: list[str], rows: list[tuple]) -> list[dict[str, Any]]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=_json_value)


def as_json(columns: list[str], rows: list[tuple]) -> str:
    return _json(_records(columns, rows))


def render(relation, fmt: str = "table") -> str:
    """One statement's result in the format asked for; every row, except in `table`."""
    if relation is None:
        return "OK"
    if fmt == "table":
        return str(relation).rstrip("\n")
    columns, types = list(relation.columns), [str(t) for t in relation.types]
    rows = relation.fetchall()
    if fmt == "csv":
        return as_csv(columns, rows)
    if fmt == "markdown":
        return as_markdown(columns, types, rows)
    if fmt == "json":
        return as_json(columns, rows)
    raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")


def run(warehouse: Path, sql: str, out=print, fmt: str = "table") -> None:
    """Run every statement of `sql` (all refused unless all read); raises duckdb.Error."""
    con = connect(warehouse)
    try:
        check_reading(con, sql)
        statements = con.extract_statements(sql)
        if fmt == "json" and len(statements) > 1:
            # One document for a JSON reader: an array of each statement's array of records.
            results = []
            for statement in statements:
                relation = con.sql(statement.query)
                results.append(_records(list(relation.columns), relation.fetchall()))
            out(_json(results))
            return
        for n, statement in enumerate(statements):
            if n and fmt == "markdown":
                out("")  # a table right under another would read as its rows
            out(render(con.sql(statement.query), fmt))
    finally:
        con.close()


def excel_bom(out: Callable[[str], Any]) -> Callable[[str], Any]:
    """`out` with a UTF-8 byte order mark before its first text when stdout is a new, empty
    file (`htx sql --format csv … > file.csv`): Excel reads a CSV without one in
    the ANSI code page, Vietnamese as mojibake. A pipe, a terminal or a file appended to gets
    no mark, which a program would take for part of the first column's name."""
    try:
        seen = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError):  # no file behind it (a test's capture)
        return out
    if not stat.S_ISREG(seen.st_mode) or seen.st_size:
        return out
    first = True

    def write(text: str) -> Any:
        nonlocal first
        if first:
            text, first = "\ufeff" + text, False
        return out(text)

    return write


def history_path() -> Path:
    from etl.config import load_settings

    return load_settings().sql_history


def prompt_reader(history: Path | None = None, **session_args) -> Callable[[str], str]:
    """prompt-toolkit's line editing with a history kept in a file, as a `read(prompt)`.

    `session_args` go to `PromptSession` (tests pass a pipe `input` and a dummy `output`).
    """
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, History, InMemoryHistory

    path = history or history_path()
    kept: History
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
        kept = FileHistory(str(path))
    except OSError:  # a read-only home: history for this session only
        kept = InMemoryHistory()
    session: PromptSession[str] = PromptSession(history=kept, **session_args)
    return session.prompt


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def repl(
    warehouse: Path,
    read: Callable[[str], str] | None = None,
    out=print,
    fmt: str = "table",
    err: Callable[[str], Any] | None = None,
) -> None:
    """An interactive prompt: statements end with `;`, an empty line or EOF ends it.

    On a terminal it edits lines and keeps a history (prompt-toolkit); when stdin is not a
    terminal, plain `input`. Ctrl-C drops the statement being typed. Results go to `out`,
    errors to `err` (stderr), each said as `htx sql "…"` says it, so that results piped or
    saved to a file hold no error line.
    """
    import duckdb

    if err is None:
        err = _to_stderr

    if read is None:
        # Not a terminal: plain lines, no prompt written into the output.
        read = prompt_reader() if _interactive() else (lambda _prompt: input())
    print(
        f"htx sql: {warehouse} (chỉ đọc / read only). Kết thúc câu lệnh bằng ';', thoát bằng "
        "Ctrl-D. / End statements with ';', quit with Ctrl-D.",
        file=sys.stderr,
    )
    buffer: list[str] = []
    while True:
        try:
            line = read("htx> " if not buffer else "...> ")
        except EOFError:
            break
        except KeyboardInterrupt:
            buffer.clear()
            continue
        buffer.append(line)
        text = "\n".join(buffer).strip()
        if not text:
            buffer.clear()
            continue
        if text.endswith(";"):
            buffer.clear()
            try:
                run(warehouse, text, out, fmt)
            except duckdb.Error as exc:  # said as `htx sql "…"` says it; the session goes on
                err(f"Lỗi SQL / SQL error: {sql_error_line(exc)}")
            except (WriteRefused, WarehouseUnreadable, FileNotFoundError) as exc:
                err(str(exc))  # in Vietnamese and English already
            except Exception as exc:
                err(f"Lỗi / Error: {exc}")


def _to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def describe_tables(warehouse: Path) -> list[str]:
    """Every table and column of the warehouse's schemas (`SCHEMAS`) with its meaning (COMMENT
    ON): core, intermediate (the tables that feed the marts), marts, then audit."""
    con = connect(warehouse)
    try:
        tables = con.execute(
            """
            select schema_name, table_name, coalesce(comment, '')
            from duckdb_tables()
            where list_contains(?, schema_name)
            order by list_position(?, schema_name), table_name
            """,
            [list(SCHEMAS), list(SCHEMAS)],
        ).fetchall()
        columns = con.execute(
            """
            select schema_name, table_name, column_name, data_type, coalesce(comment, '')
            from duckdb_columns()
            where list_contains(?, schema_name)
            order by schema_name, table_name, column_index
            """,
            [list(SCHEMAS)],
        ).fetchall()
    finally:
        con.close()
    lines = []
    for schema, table, comment in tables:
        lines.append(f"{schema}.{table}: {comment}")
        for s, t, column, kind, text in columns:
            if (s, t) == (schema, table):
                lines.append(f"    {column} ({kind}){': ' + text if text else ''}")
    return lines
