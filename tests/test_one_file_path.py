"""The one-file path (issue 17, point 3): what depends only on the reference data is kept
between builds, and the publish rewrites only the exports, report pages and feedback whose
inputs changed. Every test compares with what a full recomputation writes."""

from __future__ import annotations

import dataclasses

from etl.contract import crosswalk
from etl.contract.reference import load_reference


def _forget_seeded() -> None:
    crosswalk._seeded.clear()


def test_crosswalk_cache_reads_back_the_computed_crosswalk(tmp_path):
    ref = load_reference()
    computed = crosswalk._load(ref, crosswalk.REFERENCE_DIR / crosswalk.MERGER_FILE)
    stale = tmp_path / "crosswalk-0123.json"
    stale.write_text("{}", encoding="utf-8")
    _forget_seeded()
    try:
        first = crosswalk.load_crosswalk(ref, tmp_path)  # computed, stored
        stored = crosswalk.cache_file(tmp_path)
        assert stored.exists()
        assert not stale.exists()  # the crosswalk of another key is replaced
        _forget_seeded()
        second = crosswalk.load_crosswalk(ref, tmp_path)  # read from disk
        assert second is not computed
        for got in (first, second):
            assert got.links == computed.links
            assert got.unmatched == computed.unmatched
            assert got.unresolved == computed.unresolved
            assert got.former == computed.former
            assert got.national_rate() == computed.national_rate()
        # a later call without the cache folder gets the same crosswalk from memory
        assert crosswalk.load_crosswalk(ref) is second
        old = computed.links[0].old_commune_code
        assert second.whole_destination(old) == computed.whole_destination(old)
        # an unreadable file is computed again and rewritten
        stored.write_text("not json", encoding="utf-8")
        _forget_seeded()
        third = crosswalk.load_crosswalk(ref, tmp_path)
        assert third.links == computed.links
        assert [dataclasses.astuple(u) for u in third.unmatched] == [
            dataclasses.astuple(u) for u in computed.unmatched
        ]
    finally:
        _forget_seeded()


def test_crosswalk_cache_key_follows_the_reference_files_and_the_code():
    key = crosswalk.cache_key()
    assert key == crosswalk.cache_key()
    assert len(key) == 64


def _triples() -> list[tuple[str, int, str]]:
    """Commune names a 2025 province report and 2026 commune reports may carry: communes in
    force, former communes (some went whole to one new commune, some did not), unknown
    names and codes."""
    ref = load_reference()
    triples = []
    for province in ("01", "04", "68"):
        current = list(ref.current_communes(province))[:6]
        triples += [(province, 2025, unit.full_name) for unit in current]
        triples += [(province, 2025, unit.code) for unit in current[:2]]
        for old in ref.former_provinces(province)[:2]:
            triples += [(province, 2025, u.name) for u in list(ref.former_communes(old))[:8]]
        triples += [(province, 2025, "Xã Không Có Thật"), (province, 2026, current[0].name)]
        triples += [(current[1].code, 2026, current[1].full_name), (current[1].code, 2026, "?")]
    return sorted(set(triples))


def test_commune_candidates_cache_gives_the_frame_computed_from_scratch(tmp_path):
    import pandas as pd

    from etl.contract.communes import candidate_frame
    from etl.warehouse.reference_tables import candidates_cached

    triples = _triples()
    expected = candidate_frame(load_reference(), triples)
    assert len(expected) > len(triples) // 2  # names with one candidate, several, none
    assert expected["current"].any()
    assert not expected["current"].all()
    first = candidates_cached(triples[::2], tmp_path)  # half the names asked first
    pd.testing.assert_frame_equal(first, candidate_frame(load_reference(), triples[::2]))
    (stored,) = tmp_path.glob("commune_candidates-*.json")
    second = candidates_cached(triples, tmp_path)  # the other half computed, added
    third = candidates_cached(triples, tmp_path)  # every name from the file
    pd.testing.assert_frame_equal(second, expected)
    pd.testing.assert_frame_equal(third, expected)
    assert list(tmp_path.glob("commune_candidates-*.json")) == [stored]
    stored.write_text("[", encoding="utf-8")  # unreadable: computed again
    pd.testing.assert_frame_equal(candidates_cached(triples, tmp_path), expected)


def test_names_asked_for_the_first_time_use_the_crosswalk_kept_on_disk(tmp_path, monkeypatch):
    """New names' candidates name where a former commune went whole: the crosswalk is read
    from the cache folder (as `htx init` or an earlier build left it), not matched from the
    merger text again in this process."""
    import pandas as pd

    from etl.contract import crosswalk
    from etl.contract.communes import candidate_frame
    from etl.warehouse.reference_tables import candidates_cached

    triples = _triples()
    expected = candidate_frame(load_reference(), triples)
    assert expected["new_commune_code"].notna().any()
    assert not expected["current"].all()
    crosswalk._seeded.clear()
    crosswalk.load_crosswalk(load_reference(), tmp_path)  # on disk, as a build keeps it
    assert crosswalk.cache_file(tmp_path).exists()
    crosswalk._seeded.clear()  # a new process: nothing in memory
    crosswalk._load.cache_clear()

    def matched_again(*args, **kwargs):
        raise AssertionError("the merger text was matched again")

    monkeypatch.setattr(crosswalk, "build_crosswalk", matched_again)
    pd.testing.assert_frame_equal(candidates_cached(triples, tmp_path), expected)


def _warned(settings, name: str, unit: str, year: int, first: int) -> None:
    """A workbook of `unit` and `year` whose HTX sheet warns (members below the minimum)."""
    from conftest import HTX_HEADER, htx_row, info_rows, write_xlsx

    rows = [
        HTX_HEADER,
        htx_row(1, f"64000{first:05d}"),
        htx_row(2, f"64000{first + 1:05d}", **{"Số thành viên": 3}),
    ]
    write_xlsx(settings.landing_dir / name, {"ThongTin": info_rows(unit, year), "HTX": rows})


def _exported_tables(folder) -> dict[str, list[tuple]]:
    import duckdb

    con = duckdb.connect()
    return {
        path.name: con.execute(f"select * from read_parquet('{path}') order by all").fetchall()
        for path in sorted((folder / "parquet").glob("*.parquet"))
    }


def _workbook_parts(path) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in sorted(archive.namelist())}


def test_a_new_file_rewrites_only_the_exports_pages_and_feedback_it_changes(settings, tmp_path):
    import shutil

    from conftest import query, run_steps

    from etl.config import settings_under
    from etl.outputs.exports import FINGERPRINTS, export
    from etl.outputs.quality_report import write_quality_report

    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    _warned(settings, "663_2023.xlsx", "663", 2023, 1)
    _warned(settings, "664_2023.xlsx", "664", 2023, 11)
    first = run_steps(settings, "run-1")
    assert first["feedback"] == 2
    exports = settings.export_dir
    assert (exports / FINGERPRINTS).exists()
    ids = dict(query(settings, "select file_name, file_id from audit.file_ingestion"))
    pages = {name: exports / "quality" / f"{file_id}.html" for name, file_id in ids.items()}
    feedback_dir = exports / "feedback"
    old_feedback = sorted(feedback_dir.iterdir())
    assert len(old_feedback) == 2
    for path in old_feedback:
        path.unlink()  # an earlier run's feedback: a later run does not write it again
    program = exports / "parquet" / "marts.program_year.parquet"
    before = {
        path: path.stat().st_mtime_ns for path in [*pages.values(), program, exports / "marts.xlsx"]
    }

    _warned(settings, "665_2024.xlsx", "665", 2024, 21)  # one new file, another year
    second = run_steps(settings, "run-2")
    assert second["changed"] is True
    assert second["feedback"] == 1  # the new file's only
    assert [p.name[: len("665_2024_loi_")] for p in feedback_dir.iterdir()] == ["665_2024_loi_"]
    for path in pages.values():  # the earlier files' pages are kept as they were
        assert path.stat().st_mtime_ns == before[path]
    new_id = query(
        settings, "select file_id from audit.file_ingestion where file_name = ?", ["665_2024.xlsx"]
    )[0][0]
    assert (exports / "quality" / f"{new_id}.html").exists()
    assert program.stat().st_mtime_ns == before[program]  # no support rows: unchanged
    assert (exports / "marts.xlsx").stat().st_mtime_ns != before[exports / "marts.xlsx"]

    # What the incremental exports hold is what exports written from scratch hold.
    fresh = dataclasses.replace(settings_under(tmp_path / "fresh"), warehouse=settings.warehouse)
    export(fresh)
    write_quality_report(fresh)
    assert _exported_tables(exports) == _exported_tables(fresh.export_dir)
    assert _workbook_parts(exports / "marts.xlsx") == _workbook_parts(
        fresh.export_dir / "marts.xlsx"
    )
    for page in sorted((fresh.export_dir / "quality").glob("*.html")):
        assert (exports / "quality" / page.name).read_text() == page.read_text()

    # Nothing changed since: a third publish of the same warehouse writes no export.
    written = export(settings)
    assert written == []
    shutil.rmtree(fresh.export_dir)
