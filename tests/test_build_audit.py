"""The build's audit tables brought up to date with the ledger (`build.refresh_build_audit`):
only the tables whose rows changed are copied again, and the result is what a copy of every
table makes, row for row in the same order. The checks' units (`check_units`) read from the
build's reference tables are the ones computed from the reference data."""

from __future__ import annotations

from pathlib import Path

import duckdb

from etl.config import SQL_DIR
from etl.quality import validate
from etl.warehouse import build, ledger, reference_tables
from etl.warehouse.models import run_sql_file


def _empty_build(settings) -> None:
    target = build.build_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(target))
    try:
        run_sql_file(con, SQL_DIR / "ddl" / "schemas.sql")
        for table in build.AUDIT_TABLES:
            run_sql_file(con, SQL_DIR / "ddl" / "audit" / f"{table}.sql")
    finally:
        con.close()


def _rows(path, table: str, where: str = "true") -> list[tuple]:
    """A table's rows in the order a scan reads them."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"select * from audit.{table} where {where}").fetchall()
    finally:
        con.close()


# A build's findings tables, from the ledger's one table of findings.
_FROM_LEDGER = {
    "rejected_row": ("rejected_row", "severity <> 'info'"),
    "info_finding": ("rejected_row", "severity = 'info'"),
}


def _same_as_ledger(settings) -> None:
    for table in build.AUDIT_TABLES:
        source, where = _FROM_LEDGER.get(table, (table, "true"))
        built = _rows(build.build_path(settings), table)
        assert built == _rows(settings.ledger, source, where), table


def _finding(con, file_id: int, rule: str, severity: str) -> None:
    con.execute(
        "insert into audit.rejected_row (file_id, sheet, excel_row, rule, severity, message) "
        "values (?, 'HTX', 7, ?, ?, 'm')",
        [file_id, rule, severity],
    )


def _alert(con, alert_id: str, subject: str = "s", delivered=None) -> None:
    con.execute(
        "insert into audit.quality_alert (alert_id, raised_at, severity, subject, body, "
        "email_delivered) values (?, timestamptz '2026-01-02 03:04:05+00', 'warning', ?, 'b', ?)",
        [alert_id, subject, delivered],
    )


def _sighting(con, sha: str, name: str, file_id: int) -> None:
    con.execute(
        "insert into audit.file_sighting values (?, ?, ?, timestamptz '2026-01-02 00:00:00+00')",
        [sha, name, file_id],
    )


def test_refresh_copies_only_the_tables_that_changed(settings):
    _empty_build(settings)
    con = ledger.connect(settings.ledger)
    try:
        _alert(con, "a1")
        _sighting(con, "s1", "one.xlsx", 1)
        _sighting(con, "s2", "two.xlsx", 2)
    finally:
        con.close()
    assert build.refresh_build_audit(settings) == ["quality_alert", "file_sighting"]
    _same_as_ledger(settings)
    assert build.refresh_build_audit(settings) == []  # nothing changed
    _same_as_ledger(settings)

    con = ledger.connect(settings.ledger)
    try:  # a delivery: one value of one row
        con.execute("update audit.quality_alert set email_delivered = true")
    finally:
        con.close()
    assert build.refresh_build_audit(settings) == ["quality_alert"]
    _same_as_ledger(settings)

    con = ledger.connect(settings.ledger)
    try:  # a NULL set where there was a value: a change too
        con.execute("update audit.quality_alert set email_delivered = null")
    finally:
        con.close()
    assert build.refresh_build_audit(settings) == ["quality_alert"]
    _same_as_ledger(settings)

    con = ledger.connect(settings.ledger)
    try:  # the same rows in another order: copied, so the build reads them in that order
        con.execute("delete from audit.file_sighting where file_id = 1")
        _sighting(con, "s1", "one.xlsx", 1)
    finally:
        con.close()
    assert sorted(_rows(settings.ledger, "file_sighting")) == sorted(
        _rows(build.build_path(settings), "file_sighting")
    )
    assert build.refresh_build_audit(settings) == ["file_sighting"]
    _same_as_ledger(settings)

    con = ledger.connect(settings.ledger)
    try:  # one row more, then one row fewer
        _alert(con, "a2", subject="another")
    finally:
        con.close()
    assert build.refresh_build_audit(settings) == ["quality_alert"]
    _same_as_ledger(settings)
    con = ledger.connect(settings.ledger)
    try:
        con.execute("delete from audit.quality_alert where alert_id = 'a1'")
    finally:
        con.close()
    assert build.refresh_build_audit(settings) == ["quality_alert"]
    _same_as_ledger(settings)


def test_findings_are_split_by_severity_and_copied_only_when_changed(settings):
    """The ledger keeps a file's findings in one table; a build's `rejected_row` holds its
    errors and warnings (the warehouse contract's severities), `info_finding` the rest."""
    _empty_build(settings)
    con = ledger.connect(settings.ledger)
    try:
        _finding(con, 1, "coop_code_unique", "error")
        _finding(con, 1, "column_unknown", "info")
        _finding(con, 2, "members_min", "warning")
    finally:
        con.close()
    assert build.refresh_build_audit(settings) == ["rejected_row", "info_finding"]
    _same_as_ledger(settings)
    assert [r[5:7] for r in _rows(build.build_path(settings), "rejected_row")] == [
        ("coop_code_unique", "error"),
        ("members_min", "warning"),
    ]
    assert [r[5:7] for r in _rows(build.build_path(settings), "info_finding")] == [
        ("column_unknown", "info")
    ]
    assert build.refresh_build_audit(settings) == []

    con = ledger.connect(settings.ledger)
    try:  # a new information finding changes the one table that holds it
        _finding(con, 3, "value_from_section", "info")
    finally:
        con.close()
    assert build.refresh_build_audit(settings) == ["info_finding"]
    _same_as_ledger(settings)


def test_check_units_from_the_build_are_the_computed_ones(settings):
    def check_units(with_reference: bool) -> list[tuple]:
        con = duckdb.connect()
        try:
            con.execute("create schema core; create schema audit")
            con.execute("create table audit.file_ingestion (file_id bigint)")
            con.execute("create table core.fact_cooperative_year (file_id bigint)")
            con.execute("create temp table stg_report_precedence (file_id bigint)")
            con.execute("create temp table stg_htx (file_id bigint)")
            if with_reference:
                reference_tables.register(con, build.cache_dir(settings))
            validate._prepare_checks(con)
            return (
                con.execute("describe check_units").fetchall()
                + con.execute("select * from check_units").fetchall()
            )
        finally:
            con.close()

    computed = check_units(with_reference=False)
    assert len(computed) > 5
    assert check_units(with_reference=True) == computed  # computed with the reference tables
    assert check_units(with_reference=True) == computed  # read back from their cache


def _precedence(rows: list[tuple]):
    """An in-memory connection holding stg_report_precedence of staged HTX rows (file, row,
    code, year, unit), with their units' provinces (`ref_unit_regions`): the caller's to
    close."""
    con = duckdb.connect()
    con.execute(
        "create temp table stg_htx (file_id bigint, sheet_name varchar, excel_row integer, "
        "coop_code varchar, report_year integer, unit_code varchar)"
    )
    con.executemany("insert into stg_htx values (?, 'HTX', ?, ?, ?, ?)", [list(r) for r in rows])
    reference_tables.register_unit_regions(con)
    run_sql_file(con, SQL_DIR / "staging" / "report_precedence.sql")
    return con


def test_first_winning_row_is_the_winning_reports_first_row():
    """`stg_report_precedence.first_winning_row` marks, per cooperative and year, the row the
    core models took before as the first (by file, then row) of the winning report's rows."""
    rows = [
        # file, row, code, year, unit: a district's and its province's report of 2025
        # (the province wins), the province's naming X1 twice
        (1, 5, "X1", 2025, "663"),
        (2, 9, "X1", 2025, "68"),
        (2, 7, "X1", 2025, "68"),
        (1, 6, "X2", 2025, "663"),
        # 2026: the commune's report wins over the province's, and names X1 twice
        (3, 4, "X1", 2026, "68"),
        (4, 8, "X1", 2026, "24611"),
        (4, 3, "X1", 2026, "24611"),
        # up to 2024, no earlier year: the lower unit code (not the lower file_id), its
        # lowest row
        (6, 7, "X1", 2024, "663"),
        (6, 2, "X1", 2024, "663"),
        (5, 8, "X1", 2024, "664"),
        (5, 4, "X1", 2024, "664"),
        (5, 9, None, 2024, "664"),
    ]
    con = _precedence(rows)
    try:
        marked = con.execute(
            "select coop_code, report_year, file_id, excel_row from stg_report_precedence "
            "where first_winning_row order by all"
        ).fetchall()
        before = con.execute(
            "select coop_code, report_year, file_id, excel_row from stg_report_precedence "
            "where wins qualify row_number() over ("
            "partition by coop_code, report_year order by file_id, excel_row) = 1 order by all"
        ).fetchall()
    finally:
        con.close()
    assert marked == before
    assert marked == [
        ("X1", 2024, 6, 2),
        ("X1", 2025, 2, 7),
        ("X1", 2026, 4, 3),
        ("X2", 2025, 1, 6),
    ]


def _winners(rows: list[tuple]) -> list[tuple]:
    """stg_report_precedence's winning unit of each cooperative and year, for staged HTX rows
    (file, row, code, year, unit)."""
    con = _precedence(rows)
    try:
        return con.execute(
            "select distinct coop_code, report_year, winner_unit_code "
            "from stg_report_precedence order by all"
        ).fetchall()
    finally:
        con.close()


def test_the_unit_that_won_a_cooperative_last_keeps_it():
    """Among units of equal rank, history is the years a unit's report won: X1's 664 won 2021
    and 2022 (663's losing 2022 report is no history), so it wins 2023 against the lower
    code. X2's 664 won 2021, 660 alone 2022: of 663 and 664 in 2023, 664 won it last."""
    rows = [
        (1, 2, "X1", 2021, "664"),
        (2, 2, "X1", 2022, "664"),
        (3, 2, "X1", 2022, "663"),
        (4, 2, "X1", 2023, "663"),
        (5, 2, "X1", 2023, "664"),
        (1, 3, "X2", 2021, "664"),
        (6, 3, "X2", 2022, "660"),
        (4, 3, "X2", 2023, "663"),
        (5, 3, "X2", 2023, "664"),
    ]
    assert _winners(rows) == [
        ("X1", 2021, "664"),
        ("X1", 2022, "664"),
        ("X1", 2023, "664"),
        ("X2", 2021, "664"),
        ("X2", 2022, "660"),
        ("X2", 2023, "664"),
    ]


def test_of_a_province_and_a_district_up_to_2024_the_province_wins():
    """Up to 2024 a province and a district are of equal rank; with no history the lower code
    wins, the level first: as text Đắk Nông's 67 came after its district 664, Hà Giang's 02
    before its 024."""
    rows = [
        (1, 2, "X1", 2023, "664"),
        (2, 2, "X1", 2023, "67"),
        (3, 2, "X2", 2023, "024"),
        (4, 2, "X2", 2023, "02"),
        (5, 2, "X3", 2023, "001"),  # Hà Nội's district 001 and province 01: equal as numbers
        (6, 2, "X3", 2023, "01"),
    ]
    assert _winners(rows) == [("X1", 2023, "67"), ("X2", 2023, "02"), ("X3", 2023, "01")]


def test_a_report_outranks_only_the_units_of_its_own_province():
    """The order of precedence ranks a province and its own units: in 2025 Lâm Đồng's 68
    outranks its (former Đắk Nông) district 663, not Hà Nội's district 001; from 2026 a
    commune outranks its own province only, so Hà Nội's ward 00004 does not take a
    cooperative of 68 from 68's report. A province is chosen first, by its units' history
    (663's 2024 is 68's), then the unit within it: whoever else reports the cooperative, a
    report of 68's own never hands it to another province. Up to 2024 each unit stands
    alone, as the contract orders no units then."""
    rows = [
        # X1: 68 reports it in 2025 and 2026, Hà Nội's district in 2025 and ward in 2026
        (1, 2, "X1", 2025, "68"),
        (2, 2, "X1", 2025, "001"),
        (3, 2, "X1", 2026, "68"),
        (4, 2, "X1", 2026, "00004"),
        # X2: Hà Nội's ward won it in 2026 (alone); in 2027 68 reports it too: the ward keeps it
        (4, 3, "X2", 2026, "00004"),
        (5, 3, "X2", 2027, "00004"),
        (6, 3, "X2", 2027, "68"),
        # X3: 68 and its own commune 24611 in 2026, and Hà Nội's ward, no history: of the two
        # provinces, the one of the lower code, level first (68's), and within it the
        # commune over its province
        (3, 4, "X3", 2026, "68"),
        (7, 4, "X3", 2026, "24611"),
        (4, 4, "X3", 2026, "00004"),
        # X4: 68 won 2025; in 2026 68, its commune 24611 and Đắk Lắk's 66: 68's province
        # keeps it by its history, and within it the commune wins (66 won without 24611's
        # report, when only the province's rank counted)
        (1, 5, "X4", 2025, "68"),
        (3, 5, "X4", 2026, "68"),
        (7, 5, "X4", 2026, "24611"),
        (8, 5, "X4", 2026, "66"),
        # X5: 663 won 2024; in 2025 68 (663 merged into it), 663 and 66: 68's province by
        # 663's history, then 68 over its district
        (9, 6, "X5", 2024, "663"),
        (1, 6, "X5", 2025, "68"),
        (10, 6, "X5", 2025, "663"),
        (8, 6, "X5", 2025, "66"),
        # X6: 663 won 2024; in 2025 663 and 66: 66 outranks no district of another province
        (9, 7, "X6", 2024, "663"),
        (10, 7, "X6", 2025, "663"),
        (8, 7, "X6", 2025, "66"),
        # X7: up to 2024 each unit stands alone: Lâm Đồng's district 672 won 2021, which is
        # no history of Đắk Nông's 663 in 2022 (two provinces then): the lower code, 643
        (11, 8, "X7", 2021, "672"),
        (12, 8, "X7", 2022, "663"),
        (13, 8, "X7", 2022, "643"),
    ]
    assert _winners(rows) == [
        ("X1", 2025, "68"),
        ("X1", 2026, "68"),
        ("X2", 2026, "00004"),
        ("X2", 2027, "00004"),
        ("X3", 2026, "24611"),
        ("X4", 2025, "68"),
        ("X4", 2026, "24611"),
        ("X5", 2024, "663"),
        ("X5", 2025, "68"),
        ("X6", 2024, "663"),
        ("X6", 2025, "663"),
        ("X7", 2021, "672"),
        ("X7", 2022, "643"),
    ]
    # Without the commune's report, its province's own: never the other province's.
    without_commune = [row for row in rows if row[2] in ("X3", "X4") and row[4] != "24611"]
    assert _winners(without_commune) == [
        ("X3", 2026, "68"),
        ("X4", 2025, "68"),
        ("X4", 2026, "68"),
    ]
    con = _precedence(rows)
    try:
        ranks = con.execute(
            "select distinct coop_code, report_year, unit_code, unit_rank "
            "from stg_report_precedence where unit_rank = 1 order by all"
        ).fetchall()
        regions = con.execute("select * from ref_unit_regions order by all").fetchall()
    finally:
        con.close()
    # only a province under its own commune, a district under its own province
    assert ranks == [("X3", 2026, "68", 1), ("X4", 2026, "68", 1), ("X5", 2025, "663", 1)]
    assert regions == [
        ("00004", 2026, "01"),
        ("00004", 2027, "01"),
        ("001", 2025, "01"),
        ("24611", 2026, "68"),
        ("643", 2022, "66"),
        ("66", 2025, "66"),
        ("66", 2026, "66"),
        ("663", 2022, "68"),
        ("663", 2024, "68"),
        ("663", 2025, "68"),
        ("672", 2021, "68"),
        ("68", 2025, "68"),
        ("68", 2026, "68"),
        ("68", 2027, "68"),
    ]


def test_an_outranked_row_is_warned_once_though_the_winning_report_names_it_twice():
    """68's row of X1 is outranked by its commune 24611's report, which names X1 on rows 4
    and 9: one `commune_report_wins`, caused by the winning report's first row (before, one
    for each of the winning report's rows)."""
    rows = [(3, 2, "X1", 2026, "68"), (7, 9, "X1", 2026, "24611"), (7, 4, "X1", 2026, "24611")]
    con = _precedence(rows)
    try:
        con.execute("create temp table check_run_files as select 3::bigint as file_id")
        query = (SQL_DIR / "checks" / "report_outranked.sql").read_text(encoding="utf-8")
        warned = con.execute(
            f"select file_id, excel_row, commune_report_wins, winner_value, causes from ({query})"
        ).fetchall()
    finally:
        con.close()
    assert warned == [
        (3, 2, True, "X1 (24611)", '[{"file_id":7,"sheet":"HTX","excel_row":4}]'),
    ]


def test_in_run_keeps_the_rows_on_or_caused_by_the_runs_files():
    """`_in_run` reads a row's causes only when its text names a run file's digits: the rows
    it keeps are those whose parsed causes name a file of the run, or that are on one."""
    import json

    import pandas as pd

    def causes(*file_ids) -> str:
        return json.dumps([{"file_id": f, "sheet": "HTX", "excel_row": 7} for f in file_ids])

    frame = pd.DataFrame(
        {
            "file_id": [1, 2, 3, 4, 5, 6, 7, 8],
            "causes": [
                causes(9),  # on no run file, caused by none
                causes(12),  # caused by a run file
                causes(123, 9),  # the digits of 12 and 9, no run file
                None,
                "",
                causes(9, 12),  # its second cause in the run
                causes(120),  # 12's digits again
                causes(),
            ],
        }
    )
    run = {12, 8}
    kept = validate._in_run(frame, run)
    assert kept["file_id"].tolist() == [2, 6, 8]
    parsed = frame[
        [
            file_id in run or any(c.file_id in run for c in validate._causes(text))
            for file_id, text in zip(frame["file_id"], frame["causes"], strict=True)
        ]
    ]
    assert kept.equals(parsed)


def test_seal_build_brings_the_audit_tables_up_to_date_as_it_marks_the_build(settings):
    """The last step of a load copies what the checks across files and the alert recorded
    in the ledger, and marks the build finished, in one open of the build file."""
    _empty_build(settings)
    con = duckdb.connect(str(build.build_path(settings)))
    try:
        run_sql_file(con, SQL_DIR / "ddl" / "audit" / "build_info.sql")
    finally:
        con.close()
    con = ledger.connect(settings.ledger)
    try:
        _finding(con, 1, "coop_code_unique", "error")
        _alert(con, "a1")
    finally:
        con.close()
    build.seal_build(settings, "f1", "run-1", 1)
    _same_as_ledger(settings)
    assert [r[0] for r in _rows(build.build_path(settings), "build_info")] == ["f1"]
    assert build.build_fingerprint(settings) == "f1"


def test_the_audit_tables_the_checks_read_are_copied_before_them():
    """`load_star_schema` copies from the ledger only the audit tables the checks across
    files read (`CHECKED_AUDIT`); `seal_build` copies the others once, after the checks'
    warnings and the alert are recorded. A check reading another would see a stale one."""
    import re

    read = set()
    for path in [*(SQL_DIR / "checks").glob("*.sql"), Path(validate.__file__)]:
        read |= set(re.findall(r"\baudit\.(\w+)", path.read_text(encoding="utf-8")))
    assert read & set(build.AUDIT_TABLES) <= set(build.CHECKED_AUDIT)
    assert "file_ingestion" in read
