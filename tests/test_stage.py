"""A stage task's batch split across forked processes stages exactly what one process does."""

from __future__ import annotations

import logging

import duckdb
from conftest import (
    HTX_HEADER,
    OCOP_HEADER,
    htx_row,
    info_rows,
    run_steps,
    snapshot,
    with_landing,
    write_xlsx,
)

from etl.contract import rules
from etl.contract.layout import DATA_SHEETS
from etl.flow.tasks import discover_files
from etl.read.discover import LandedFile
from etl.warehouse import staging
from etl.warehouse.staging import read_outcome, sheet_files, split, stage_batch


def test_split_keeps_order_and_a_minimum_chunk():
    files = list(range(10))
    assert split(files, 2, 5) == [files[:5], files[5:]]
    assert split(files, 2, 6) == [files]  # two chunks would be under the minimum
    assert split(files, 4, 3) == [files[:4], files[4:7], files[7:]]
    assert split(list(range(401)), 2, 25) == [list(range(201)), list(range(201, 401))]
    assert split([], 2, 1) == [[]]


def _rows(staging, outcome) -> list[tuple]:
    rows = []
    for key, path in sorted(sheet_files(staging, outcome).items()):
        found = duckdb.sql(
            f"select * exclude (file_id) from read_parquet('{path}') where file_id = "
            f"{outcome['file_id']} order by excel_row"
        ).fetchall()
        rows.append((key, found))
    return rows


def test_forked_processes_stage_what_one_process_stages(sample_landing, tmp_path, caplog):
    settings = with_landing(tmp_path / "w", sample_landing)
    files = [LandedFile(**f) for f in discover_files(settings)]
    alone = stage_batch(files, tmp_path / "one", "run", processes=1)
    caplog.clear()  # only the forked run's records below
    with caplog.at_level(logging.INFO, logger="etl"):
        forked = stage_batch(files, tmp_path / "two", "run", processes=3, min_chunk=5)
    assert forked == alone  # the same summaries, in the same order

    for summary in alone:
        one = read_outcome(tmp_path / "one", summary["file_id"])
        two = read_outcome(tmp_path / "two", summary["file_id"])
        assert (two["status"], two["reason"], two["findings"]) == (
            one["status"],
            one["reason"],
            one["findings"],
        )
        assert two.get("staged_digest") == one.get("staged_digest")
        if one["status"] == "valid":
            assert _rows(tmp_path / "two", two) == _rows(tmp_path / "one", one)
    # Three chunks read in forks, validated and staged together: one batch folder, as one
    # process makes it. The forks' log lines reach this process's log.
    folders = {read_outcome(tmp_path / "two", s["file_id"]).get("staged_in") for s in alone}
    assert folders - {None} == {
        read_outcome(tmp_path / "one", s["file_id"]).get("staged_in") for s in alone
    } - {None}
    assert len(folders - {None}) == 1
    reading = [r for r in caplog.records if r.getMessage().startswith("reading ")]
    assert len(reading) == len([f for f in files if f.duplicate_of is None])
    assert any("in 3 process(es)" in r.getMessage() for r in caplog.records)


def test_a_batch_staged_in_parts_while_forks_read_stages_what_one_process_stages(
    sample_landing, tmp_path, monkeypatch
):
    """The pipelined path: two forks read chunks of two files, taking the next as they
    finish, while this process validates and writes parts of seven files. Every file gets
    the outcome, findings and staged rows that one process gives it validating the whole
    batch at once; each part is validated once per suite and staged in a folder of its own."""
    settings = with_landing(tmp_path / "w", sample_landing)
    files = [LandedFile(**f) for f in discover_files(settings)]
    alone = stage_batch(files, tmp_path / "one", "run", processes=1, part_files=len(files))
    validated: list[list[int]] = []
    real = staging.validate_frames

    def counted(frames, columns):
        validated.append(list(columns))
        return real(frames, columns)

    monkeypatch.setattr(staging, "validate_frames", counted)
    monkeypatch.setattr(staging, "CHUNK_FILES", 2)
    piped = stage_batch(files, tmp_path / "two", "run", processes=2, min_chunk=1, part_files=7)
    assert piped == alone  # the same summaries, in the same order

    parts = split(files, -(-len(files) // 7), 1)  # at most 7 files a part, balanced
    assert len(parts) > 3
    assert max(len(p) for p in parts) == 7
    read = [f.file_id for f in files if f.duplicate_of is None]
    assert [i for ids in validated for i in ids] == [  # once a part, in order
        i for i in read if read_outcome(tmp_path / "one", i)["identified_by"]
    ]
    assert len(validated) == sum(1 for p in parts if any(f.duplicate_of is None for f in p))
    for summary in alone:
        one = read_outcome(tmp_path / "one", summary["file_id"])
        two = read_outcome(tmp_path / "two", summary["file_id"])
        assert {k: v for k, v in two.items() if k != "staged_in"} == {
            k: v for k, v in one.items() if k != "staged_in"
        }
        if one["status"] == "valid":
            assert _rows(tmp_path / "two", two) == _rows(tmp_path / "one", one)
    # One folder for the batch in one process; one per part with a valid file in parts.
    for part in parts:
        folders = {read_outcome(tmp_path / "two", f.file_id).get("staged_in") for f in part}
        assert len(folders - {None}) <= 1
    staged = {read_outcome(tmp_path / "two", s["file_id"]).get("staged_in") for s in alone}
    assert len(staged - {None}) > 3


def test_a_run_staged_in_parts_by_forks_makes_the_single_run_warehouse(
    sample_landing, single_run, tmp_path, monkeypatch
):
    monkeypatch.setattr(staging, "MIN_CHUNK", 1)
    monkeypatch.setattr(staging, "CHUNK_FILES", 2)
    monkeypatch.setattr(staging, "PART_FILES", 3)
    settings = with_landing(tmp_path / "w", sample_landing)
    from dataclasses import replace

    run_steps(replace(settings, processes=2, batch_size=25))
    assert snapshot(settings) == single_run


def test_a_run_staged_in_processes_makes_the_single_run_warehouse(
    sample_landing, single_run, tmp_path, monkeypatch
):
    monkeypatch.setattr(staging, "MIN_CHUNK", 5)
    settings = with_landing(tmp_path / "w", sample_landing)
    from dataclasses import replace

    run_steps(replace(settings, processes=2))
    assert snapshot(settings) == single_run


def test_a_batch_read_in_forks_is_validated_once_per_suite(sample_landing, tmp_path, monkeypatch):
    """One GX validation per suite for the whole batch, whatever the number of forks, of
    the rows of the batch its suite can fail (`etl.quality.narrow`); the frames of the
    chunks concatenated are the frames of the batch."""
    from etl.quality import narrow, validate

    settings = with_landing(tmp_path / "w", sample_landing)
    files = [LandedFile(**f) for f in discover_files(settings)]
    narrowed: list[tuple[str, int, int]] = []
    runs: list[tuple[str, int]] = []
    real_narrow, real_run = narrow.rows_to_validate, validate._run

    def narrowing(frame, document):
        kept = real_narrow(frame, document)
        narrowed.append((document["name"], len(frame), len(kept)))
        return kept

    def counted(key, frame, *args, **kwargs):
        runs.append((key, len(frame)))
        return real_run(key, frame, *args, **kwargs)

    monkeypatch.setattr(narrow, "rows_to_validate", narrowing)
    monkeypatch.setattr(validate, "_run", counted)
    stage_batch(files, tmp_path / "s", "run", processes=3, min_chunk=5)
    names = {sheet.key: rules.current().documents[sheet.key]["name"] for sheet in DATA_SHEETS}
    assert [name for name, _, _ in narrowed] == list(names.values())  # once per suite
    assert runs  # the sample breaks rules: GX validates
    assert runs == [(key, kept) for key, (_, _, kept) in zip(names, narrowed, strict=True) if kept]
    rows = {key: whole for key, (_, whole, _) in zip(names, narrowed, strict=True)}
    for key, count in rows.items():
        [(staged,)] = duckdb.sql(
            f"select count(*) from read_parquet('{tmp_path}/s/batches/*/{key}.parquet')"
        ).fetchall()
        assert 0 < staged <= count  # every row of the batch at once; quarantined ones not staged


def test_frames_of_chunks_concatenated_are_the_frames_of_all_files(sample_landing, tmp_path):
    import pandas as pd

    from etl.contract.reference import load_reference
    from etl.read.frames import concat_frames

    settings = with_landing(tmp_path / "w", sample_landing)
    files = [LandedFile(**f) for f in discover_files(settings)]
    read = [staging._read_chunk(chunk, None)[0] for chunk in split(files, 4, 5)]
    load_reference()
    merged = staging._Read.merge(read)
    alone = staging._read_chunk(files, None)[0]
    assert list(merged.outcomes) == list(alone.outcomes)
    assert merged.columns == alone.columns
    for key, frame in alone.frames.items():
        pd.testing.assert_frame_equal(merged.frames[key], frame)
    # A column empty in one part and numbers in another is inferred again from all values.
    numbers = {k: f.iloc[:0] for k, f in alone.frames.items()}
    numbers["htx"] = pd.DataFrame({"x": [1, None]})
    empty = {k: f.iloc[:0] for k, f in alone.frames.items()}
    empty["htx"] = pd.DataFrame({"x": [None, None]})
    together = concat_frames([empty, numbers])["htx"]["x"]
    assert str(together.dtype) == "float64"
    assert together.isna().tolist() == [True, True, False, True]


def test_a_batch_of_duplicates_only_never_imports_great_expectations(tmp_path):
    """Nothing new to validate: GX is not imported (it costs seconds)."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from etl.read.discover import LandedFile
        from etl.warehouse.staging import stage_batch, read_outcome
        files = [
            LandedFile(file_id=n, file_name=f"{{n}}.xlsx", sha256="ab" * 32, size_bytes=1,
                       raw_path="/nonexistent.xlsx", duplicate_of=7)
            for n in (1, 2)
        ]
        summaries = stage_batch(files, Path({str(tmp_path)!r}), "run", processes=2, min_chunk=1)
        assert [s["status"] for s in summaries] == ["duplicate", "duplicate"], summaries
        assert read_outcome(Path({str(tmp_path)!r}), 2)["status"] == "duplicate"
        print("great_expectations" in sys.modules)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False", done.stderr


def test_an_outcome_is_written_beside_another_writers_temporary_file(tmp_path):
    """Two stage tasks may stage the same new file at once (the hourly ingest beside a
    yearly backfill): each writes its outcome through a temporary file of its own. Before,
    both used `<id>.json.tmp`, so one moved the other's file, half-written, in place."""
    target = staging.outcome_path(tmp_path, 7)
    target.parent.mkdir(parents=True)
    other = target.with_suffix(".json.tmp")  # another process's, still being written
    other.write_text('{"file_id": 7, "status": "lo', encoding="utf-8")
    staging._write_outcome(target, {"file_id": 7, "status": "loaded"})
    assert read_outcome(tmp_path, 7) == {"file_id": 7, "status": "loaded"}
    assert other.read_text(encoding="utf-8") == '{"file_id": 7, "status": "lo'
    assert [p.name for p in target.parent.iterdir() if p.suffix == ".tmp"] == [other.name]


def test_an_outcome_is_written_beside_the_temporary_file_of_a_writer_with_the_same_pid(
    tmp_path, monkeypatch
):
    """Stage tasks on two machines, or in two Kubernetes pods (one process tree each: the
    same small pids), share the staging folder: a temporary named by the pid alone is the
    other writer's too, overwritten and moved in place half-written."""
    import os

    monkeypatch.setattr(os, "getpid", lambda: 7)  # the other pod's task process: pid 7 too
    target = staging.outcome_path(tmp_path, 7)
    target.parent.mkdir(parents=True)
    other = target.with_name(f".{target.name}.7.tmp")  # the other pod's, still being written
    other.write_text('{"file_id": 7, "status": "lo', encoding="utf-8")
    staging._write_outcome(target, {"file_id": 7, "status": "loaded"})
    assert read_outcome(tmp_path, 7) == {"file_id": 7, "status": "loaded"}
    assert other.read_text(encoding="utf-8") == '{"file_id": 7, "status": "lo'
    assert [p.name for p in target.parent.iterdir() if p.suffix == ".tmp"] == [other.name]


def _quarantined(path, file_id: int = 1) -> dict:
    landed = LandedFile(
        file_id=file_id,
        file_name=path.name,
        sha256="ab" * 32,
        size_bytes=path.stat().st_size,
        raw_path=str(path),
    )
    return staging._read_chunk([landed], None)[0].outcomes[file_id]


# What a clerk is told of a workbook without its HTX sheet: what is wrong, then what to do.
_NO_HTX_VI = (
    "Thiếu trang tính bắt buộc 'HTX'. Hãy thêm trang 'HTX' như mẫu báo cáo (hoặc đổi tên "
    "trang đang chứa bảng này thành 'HTX') rồi gửi lại."
)
_NO_HTX_EN = (
    "The required sheet 'HTX' is missing. Add the sheet 'HTX' as in the report template "
    "(or rename the sheet that holds this table to 'HTX') and resubmit."
)


def test_a_rejected_file_lists_every_structural_problem_and_its_reason_counts_them(tmp_path):
    """No HTX sheet, OCOP without `Số sao` and a unit no unit has: three findings (the audit's
    rejected rows), and a reason that leads with the first and says how many more there
    are. Before, the clerk heard of the HTX sheet, resubmitted, and heard of the next."""
    ocop = [[h for h in OCOP_HEADER if h != "Số sao"], ["6400000001", "Cà phê"]]
    path = write_xlsx(tmp_path / "999_2023.xlsx", {"ThongTin": info_rows("999"), "OCOP": ocop})
    outcome = _quarantined(path)
    assert outcome["status"] == "quarantined"
    assert [(f["rule"], f["sheet"], f["excel_row"]) for f in outcome["findings"]] == [
        ("sheet_missing", "HTX", None),
        ("column_missing", "OCOP", 1),
        ("unit_unknown", "ThongTin", 2),
    ]
    assert outcome["reason"] == (f"{_NO_HTX_VI} (+2 lỗi khác) / {_NO_HTX_EN} (+2 more problems)")
    # One problem: the reason is its message, as before.
    path = write_xlsx(tmp_path / "663_2023.xlsx", {"ThongTin": info_rows()})
    outcome = _quarantined(path)
    assert [f["rule"] for f in outcome["findings"]] == ["sheet_missing"]
    assert outcome["reason"] == f"{_NO_HTX_VI} / {_NO_HTX_EN}"


def test_a_file_rejected_on_its_unit_keeps_the_report_year_it_gave(tmp_path):
    """`999` is no unit, but the year 2023 was read: the audit record (and so the clerk's
    feedback, the alert and the quality report) says 2023, not `?`; the unit stays unknown."""
    path = write_xlsx(
        tmp_path / "baocao.xlsx",
        {"ThongTin": info_rows("999"), "HTX": [HTX_HEADER, htx_row(1, "6400000001")]},
    )
    outcome = _quarantined(path)
    assert [f["rule"] for f in outcome["findings"]] == ["unit_unknown"]
    assert (outcome["unit_code"], outcome["report_year"]) == (None, 2023)
    # Nor when the file is also rejected for its sheets.
    path = write_xlsx(tmp_path / "999_2023.xlsx", {"ThongTin": info_rows("999")})
    assert (_quarantined(path)["unit_code"], _quarantined(path)["report_year"]) == (None, 2023)
