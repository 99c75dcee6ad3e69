"""Read-only access for analysts: `htx sql` and `htx tables`.

The warehouse is opened read-only with external access off (no files read or written, no
extensions loaded), and only statements that read are accepted, so nothing an analyst
types can change the warehouse or reach outside it.
"""

from __future__ import annotations

from pathlib import Path

# Statement types that only read. DESCRIBE, SHOW and SUMMARIZE are SELECTs to DuckDB.
READING = {"SELECT", "EXPLAIN"}


class WriteRefused(ValueError):
    """A statement that would write or reach outside the warehouse."""


def connect(warehouse: Path):
    import duckdb

    if not warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {warehouse}: run `make run` first")
    return duckdb.connect(
        str(warehouse),
        read_only=True,
        config={
            "enable_external_access": False,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        },
    )


def check_reading(con, sql: str) -> None:
    """Refuse anything but reading statements, before running any of them."""
    for statement in con.extract_statements(sql):
        kind = statement.type.name
        if kind not in READING:
            raise WriteRefused(
                f"Chỉ được đọc: câu lệnh {kind} bị từ chối. / Read only: a {kind} statement "
                "is refused."
            )


def run(warehouse: Path, sql: str, out=print) -> None:
    con = connect(warehouse)
    try:
        check_reading(con, sql)
        statements = con.extract_statements(sql)
        for statement in statements:
            relation = con.sql(statement.query)
            out(str(relation) if relation is not None else "OK")
    finally:
        con.close()


def repl(warehouse: Path, read=input, out=print) -> None:
    """An interactive prompt: statements end with `;`, an empty line or EOF ends it."""
    out(f"htx sql: {warehouse} (read only). End statements with ';', quit with Ctrl-D.")
    buffer: list[str] = []
    while True:
        try:
            line = read("htx> " if not buffer else "...> ")
        except EOFError:
            break
        buffer.append(line)
        text = "\n".join(buffer).strip()
        if not text:
            buffer.clear()
            continue
        if text.endswith(";"):
            buffer.clear()
            try:
                run(warehouse, text, out)
            except Exception as exc:  # show the error, keep the session
                out(f"error: {exc}")


def describe_tables(warehouse: Path) -> list[str]:
    """Every table and column of the warehouse's schemas with its meaning (COMMENT ON): core,
    intermediate (the tables that feed the marts), marts, then audit."""
    con = connect(warehouse)
    try:
        tables = con.execute(
            """
            select schema_name, table_name, coalesce(comment, '')
            from duckdb_tables()
            where schema_name in ('core', 'intermediate', 'marts', 'audit')
            order by schema_name = 'audit', schema_name, table_name
            """
        ).fetchall()
        columns = con.execute(
            """
            select schema_name, table_name, column_name, data_type, coalesce(comment, '')
            from duckdb_columns()
            where schema_name in ('core', 'intermediate', 'marts', 'audit')
            order by schema_name, table_name, column_index
            """
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
