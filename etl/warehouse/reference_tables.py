"""The reference temp tables of a build: what depends on the reference files and the code
only, no workbook. The units of both lists, the province mergers, the programmes, the
national commune crosswalk read from the merger texts and the units the checks across files
read (`REFERENCE_TABLES`), kept in the build cache as `reference-<key>.duckdb` (`register`,
prepared by `htx init`: `prepare`); and the candidates of each commune name the staged rows
of 2025 on give (`register_commune_candidates`), kept by name. The key of each is the
reference files and the code that computes it: this module among them, so a change to the
build's other code leaves them as they are.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from etl.contract.layout import PROGRAMS
from etl.warehouse.models import create_from_frame

log = logging.getLogger(__name__)


# The reference temp tables: they depend on the reference files and the code only.
REFERENCE_TABLES = (
    "ref_units",
    "ref_mergers",
    "ref_programs",
    "ref_units_current",
    "ref_crosswalk",
    "ref_crosswalk_unmatched",
    "ref_check_units",  # for the checks across files (etl.quality.validate._prepare_checks)
)
# Bump when what the reference cache holds changes; this module's text is in the key anyway.
REFERENCE_FORMAT = 2


def register(con, cache: Path | None = None) -> None:
    """The reference temp tables (`REFERENCE_TABLES`). With `cache` (the build passes
    `HTX_STATE_DIR/cache`), they are read back from `cache/reference-<key>.duckdb`, keyed by
    the reference files and the code that computes them (`_key`), and computed
    and stored there when that file is missing or unreadable: the same tables either way."""
    if cache is not None and _from_cache(con, cache):
        return
    lines = _compute(con, cache)
    _say(lines)
    if cache is not None:
        _store(con, cache, lines)


def prepare(cache: Path) -> bool:
    """Compute the reference tables into `cache` unless the file of the current key is
    there already; True when they were computed."""
    import duckdb

    if _file(cache).exists():
        return False
    con = duckdb.connect()
    try:
        register(con, cache)
    finally:
        con.close()
    return True


def _compute(con, cache: Path | None) -> list[str]:
    """Create the reference temp tables from the reference files; returns the crosswalk's
    match rates as log lines."""
    import pandas as pd

    from etl.contract.reference import MERGED_INTO, check_unit_frame, load_reference

    ref = load_reference()
    units = _unit_frame(ref.units.values())
    mergers = pd.DataFrame(
        [
            {"old_code": old, "new_code": new, "effective_from": pd.Timestamp("2025-07-01").date()}
            for old, new in (ref.province_merger or MERGED_INTO).items()
        ]
    )
    programs = pd.DataFrame(
        [
            {"program_key": i, "program_code": code, "name_vi": vi, "name_en": en}
            for i, (code, vi, en) in enumerate(PROGRAMS, start=1)
        ]
    )
    for name, frame in (("ref_units", units), ("ref_mergers", mergers), ("ref_programs", programs)):
        create_from_frame(con, name, frame)
    lines = _register_crosswalk(con, ref, cache)
    _register_units_in_force(con, ref)
    create_from_frame(con, "ref_check_units", check_unit_frame(ref))
    return lines


def _register_crosswalk(con, ref, cache: Path | None = None) -> list[str]:
    """`ref_crosswalk` and `ref_crosswalk_unmatched`: the commune crosswalk read from the
    merger text (`etl.contract.crosswalk`), for `core.bridge_commune_crosswalk` and
    `audit.crosswalk_unmatched`; returns its match rates, for the log. It depends on the
    reference files and the code only: kept under `cache` between builds (`load_crosswalk`)."""
    import dataclasses

    import pandas as pd

    from etl.contract.crosswalk import Link, Unmatched, load_crosswalk, values_of

    crosswalk = load_crosswalk(ref, cache)
    for name, rows, kind in (
        ("ref_crosswalk", crosswalk.links, Link),
        ("ref_crosswalk_unmatched", crosswalk.unmatched, Unmatched),
    ):
        columns = [f.name for f in dataclasses.fields(kind)]
        frame = pd.DataFrame([values_of(row) for row in rows], columns=columns)
        create_from_frame(con, name, frame, ", ".join(f"{c}::varchar as {c}" for c in columns))
    lines = [
        f"crosswalk: province {province}, {found} of {total} former communes matched"
        for province, (found, total) in crosswalk.rates().items()
    ]
    matched, total = crosswalk.national_rate()
    rate = 100 * matched / total if total else 0.0
    short = [
        f"{province}: {count - found}"
        for province, (found, count) in crosswalk.rates().items()
        if found < count
    ]
    where = f" (by former province {', '.join(short)}; audit.crosswalk_unmatched)" if short else ""
    lines.append(
        f"crosswalk: {matched} of {total} former communes matched nationally ({rate:.2f}%), "
        f"{len(crosswalk.unmatched)} unmatched{where}"
    )
    return lines


def _key() -> str:
    """What the reference tables are computed from: the crosswalk's inputs (every reference
    file, `etl.contract.reference`, which also makes the checks' units, `etl.text`, the
    crosswalk), the layout (the programs), this module and the DuckDB release that stores
    them."""
    import duckdb

    import etl.contract.layout
    import etl.contract.reference
    from etl.contract.crosswalk import cache_key

    digest = hashlib.sha256(
        f"reference tables {REFERENCE_FORMAT}\n{cache_key()}\n{duckdb.__version__}\n".encode()
    )
    code = (etl.contract.layout, etl.contract.reference)
    for path in (Path(__file__), *(Path(str(module.__file__)) for module in code)):
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def _file(cache: Path) -> Path:
    return cache / f"reference-{_key()}.duckdb"


def _from_cache(con, cache: Path) -> bool:
    """Create the reference temp tables from the cache file of the current key; False when
    there is none or it cannot be read whole (then nothing is left half-made that the
    computation would not replace)."""
    import duckdb

    path = _file(cache)
    if not path.exists():
        return False
    try:
        con.execute(f"attach '{path}' as reference_cache (read_only)")
    except duckdb.Error:
        log.warning("reference cache %s unreadable: computed again", path.name)
        return False
    try:
        for name in REFERENCE_TABLES:
            con.execute(
                f"create or replace temp table {name} as "  # noqa: S608  names are constants
                f"select * from reference_cache.{name}"
            )
        lines = [
            line
            for (line,) in con.execute(
                "select line from reference_cache.log_lines order by position"
            ).fetchall()
        ]
    except duckdb.Error:
        log.warning("reference cache %s incomplete: computed again", path.name)
        return False
    finally:
        con.execute("detach reference_cache")
    _say(lines)
    return True


def _say(lines: list[str]) -> None:
    """The crosswalk's match rates (`_register_crosswalk`): the national line, which names
    the provinces with unmatched communes, at info; each province's at debug."""
    for line in lines[:-1]:
        log.debug("%s", line)
    for line in lines[-1:]:
        log.info("%s", line)


def _store(con, cache: Path, lines: list[str]) -> None:
    """Write the connection's reference temp tables to the cache file of the current key
    (whole, then renamed into place), and remove the files of other keys."""
    import os

    target = _file(cache)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    partial.unlink(missing_ok=True)
    con.execute(f"attach '{partial}' as reference_cache")
    try:
        for name in REFERENCE_TABLES:
            con.execute(f"create table reference_cache.{name} as select * from {name}")  # noqa: S608  names are constants
        con.execute(
            "create table reference_cache.log_lines as select unnest(range(len($lines))) "
            "as position, unnest($lines::varchar[]) as line",
            {"lines": lines},
        )
    finally:
        con.execute("detach reference_cache")
    os.replace(partial, target)
    for stale in cache.glob("reference-*.duckdb"):
        if stale != target:
            stale.unlink(missing_ok=True)


def _unit_frame(units):
    """The rows of `ref_units` (or `ref_units_current`) of these units: level, code, names,
    parent and, for a commune, the accent-free key its name is matched by."""
    import pandas as pd

    from etl.text import match_key

    return pd.DataFrame(
        [
            {
                "level": u.level,
                "code": u.code,
                "name": u.name,
                "full_name": u.full_name,
                "parent_code": u.parent_code,
                "commune_key": match_key(u.name) if u.level == "commune" else None,
            }
            for u in units
        ],
        columns=["level", "code", "name", "full_name", "parent_code", "commune_key"],
    )


def _register_units_in_force(con, ref) -> None:
    """`ref_units_current`: the provinces and communes in force since 01/07/2025, in the
    columns of `ref_units` (a commune's parent is its province)."""

    frame = _unit_frame((ref.current_units or {}).values())
    create_from_frame(
        con,
        "ref_units_current",
        frame,
        "level::varchar as level, code::varchar as code, name::varchar as name, "
        "full_name::varchar as full_name, parent_code::varchar as parent_code, "
        "commune_key::varchar as commune_key",
    )


def register_commune_candidates(con, cache: Path | None = None, htx: str = "stg_htx") -> None:
    """`ref_commune_candidates`: the communes each distinct (unit, year, commune name) of
    the staged HTX rows of 2025 and later may mean (`etl.contract.communes.candidate_frame`),
    of the rows of `htx` (a relation of `stg_htx`'s columns: a build from the published
    warehouse asks only the names of the rows it reads them for).
    Rows up to 2024 name former communes only and keep their own matching, by the accent-free
    key (`sql/staging/htx_commune.sql`): their names are asked here only when that key fits
    no former commune of the unit (`Xa Dak Nia`, a name typed plainly with its prefix), so
    that a name validation knows is never left unknown by the load. The answer for a name
    depends on the reference data and the code only: kept under `cache` between builds
    (`candidates_cached`). A code in the cell (`24611`, `24 611`) is such a name: whether a
    cell is a code is the contract's to say, as it is for `ref_commune_numbers`, registered
    here too (`_register_commune_numbers`)."""
    from etl.contract.communes import candidate_frame
    from etl.contract.reference import REORGANISED_ON, load_reference

    triples = con.execute(
        f"select distinct h.unit_code, h.report_year, h.commune_name from {htx} as h "  # noqa: S608  a relation of the build's code
        "where h.commune_name is not null and (h.report_year >= ? or not exists ("
        "select 1 from ref_units as c inner join ref_units as d on c.parent_code = d.code "
        "where c.level = 'commune' and d.level = 'district' "
        "and c.commune_key = h.commune_key and h.unit_code in (d.code, d.parent_code))) "
        "order by all",
        [REORGANISED_ON.year],
    ).fetchall()
    frame = (
        candidate_frame(load_reference(), triples)
        if cache is None
        else candidates_cached(triples, cache)
    )
    create_from_frame(
        con,
        "ref_commune_candidates",
        frame,
        "unit_code::varchar as unit_code, report_year::integer as report_year, "
        "commune_name::varchar as commune_name, commune_code::varchar as commune_code, "
        "current::boolean as current, district_code::varchar as district_code, "
        "new_commune_code::varchar as new_commune_code",
    )
    _register_commune_numbers(con, htx)


def _register_commune_numbers(con, htx: str) -> None:
    """`ref_commune_numbers`: the distinct commune cells of the rows of `htx` that give a
    commune by a number (`etl.contract.communes.is_number`: `24611`, `103`, `4`), whose
    commune `core.dim_cooperative` names rather than the number."""
    import pandas as pd

    from etl.contract.communes import is_number

    names = con.execute(
        f"select distinct commune_name from {htx} where commune_name is not null order by all"  # noqa: S608  a relation of the build's code
    ).fetchall()
    frame = pd.DataFrame({"commune_name": [n for (n,) in names if is_number(n)]}, dtype="string")
    create_from_frame(con, "ref_commune_numbers", frame, "commune_name::varchar as commune_name")


def register_unit_regions(con, htx: str = "stg_htx") -> None:
    """`ref_unit_regions`: for each unit reporting in `htx` (a relation of `stg_htx`'s
    columns) and its report year, the province in force since 01/07/2025 its area lies in
    (`Reference.region`: the district 663 of 2023, the province 67 and the commune 24611 of
    2026 are all in 68; 68 is itself). The order of precedence chooses a province, then a
    unit within it (`sql/staging/report_precedence.sql`): a unit outranks only those of its
    own province, and a province's history is its units' (Đắk Nông's districts' years are
    Lâm Đồng's). NULL for a code of no unit of that year: such a unit is a province of its
    own there."""
    import pandas as pd

    from etl.contract.reference import load_reference

    units = con.execute(
        f"select distinct unit_code, report_year from {htx} "  # noqa: S608  a relation of the build's code
        "where unit_code is not null and report_year is not null order by all"
    ).fetchall()
    region = load_reference().region
    frame = pd.DataFrame(
        [(code, year, region(code, year)) for code, year in units],
        columns=["unit_code", "report_year", "province_code"],
    )
    create_from_frame(
        con,
        "ref_unit_regions",
        frame,
        "unit_code::varchar as unit_code, report_year::integer as report_year, "
        "province_code::varchar as province_code",
    )


CANDIDATE_COLUMNS = ("commune_code", "current", "district_code", "new_commune_code")


def _candidates_key() -> str:
    """What a name's candidates are computed from: the crosswalk's inputs (the reference
    files, `etl.contract.reference`, `etl.text`, the crosswalk) and `etl.contract.communes`."""
    import etl.contract.communes
    from etl.contract.crosswalk import cache_key

    digest = hashlib.sha256(f"candidates 1\n{cache_key()}\n".encode())
    digest.update(Path(etl.contract.communes.__file__).read_bytes())
    return digest.hexdigest()[:32]


def candidates_cached(triples: list[tuple], cache: Path):
    """`candidate_frame` of `triples`, the same rows in the same order, computing only the
    names no earlier build asked about (`cache/commune_candidates-<key>.json`, replaced by
    a file holding every name asked so far)."""

    from etl.contract.communes import candidate_frame, candidate_rows_frame
    from etl.contract.crosswalk import load_crosswalk, store_json
    from etl.contract.reference import load_reference

    path = cache / f"commune_candidates-{_candidates_key()}.json"
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(known, dict):
            known = {}
    except (OSError, ValueError):
        known = {}

    def name(triple) -> str:
        unit_code, year, commune = triple
        return json.dumps([unit_code, int(year), commune], ensure_ascii=False)

    names = [name(t) for t in triples]  # once each: the keys cost more than the lookups
    missing = [t for t, key in zip(triples, names, strict=True) if key not in known]
    if missing:
        # The candidates name where a former commune went whole (the crosswalk): read it
        # from `cache` (`load_crosswalk`), which then serves it from memory, rather than
        # matching the merger text again here (seconds).
        load_crosswalk(load_reference(), cache)
        computed = candidate_frame(load_reference(), missing)
        found: dict[str, list] = {name(t): [] for t in missing}
        for row in computed.itertuples(index=False):
            key = name((row.unit_code, row.report_year, row.commune_name))
            found[key].append([_plain(c, getattr(row, c)) for c in CANDIDATE_COLUMNS])
        known.update(found)
        store_json(path, known, "commune_candidates-*.json")
    rows = [
        (unit_code, int(year), commune, *candidate)
        for (unit_code, year, commune), key in zip(triples, names, strict=True)
        for candidate in known[key]
    ]
    return candidate_rows_frame(rows)


def _plain(column: str, value):
    """A pandas cell as JSON keeps it: NA as None, `current` as bool, the codes as text."""
    import pandas as pd

    if value is None or value is pd.NA:
        return None
    return bool(value) if column == "current" else str(value)
