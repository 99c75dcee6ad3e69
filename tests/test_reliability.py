"""Reliability and security: hostile files, crashes and concurrent runs lose nothing."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from conftest import HTX, HTX_HEADER, htx_env, htx_row, info_rows, query, run_steps, write_xlsx

from etl.config import load_settings, settings_under
from etl.read import discover
from etl.warehouse import swap
from etl.warehouse.build import build_path

TESTS = Path(__file__).parent


def _good(path: Path, unit="663", year=2023, codes=("6400000001", "6400000002"), **values):
    rows = [HTX_HEADER] + [htx_row(i, c, **values) for i, c in enumerate(codes, 1)]
    return write_xlsx(path, {"ThongTin": info_rows(unit, year), "HTX": rows})


def _zip_bomb(path: Path) -> Path:
    """A valid-looking workbook whose sheet unpacks to 64 MB of spaces (a few KB on disk)."""
    seed = _good(path.with_suffix(".seed.xlsx"))
    with zipfile.ZipFile(seed) as source:
        members = {n: source.read(n) for n in source.namelist()}
    sheet = "xl/worksheets/sheet2.xml"
    head, tail = members[sheet].split(b"</sheetData>")
    members[sheet] = head + b" " * (64 << 20) + b"</sheetData>" + tail
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for name, data in members.items():
            bomb.writestr(name, data)
    seed.unlink()
    return path


def _many_rows(path: Path, rows: int) -> Path:
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("HTX")
    sheet.write_row(0, 0, HTX_HEADER)
    for r in range(1, rows + 1):
        sheet.write_row(r, 0, [r, f"64{r:08d}", f"HTX {r}"])
    workbook.close()
    return path


def _rewrite(path: Path, change) -> Path:
    """Rewrite a workbook's zip members with `change(members)`: what no Excel writer makes."""
    with zipfile.ZipFile(path) as source:
        members = {n: source.read(n) for n in source.namelist()}
    change(members)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in members.items():
            target.writestr(name, data)
    return path


def _long_cell(path: Path, chars: int) -> Path:
    """xlsxwriter stops at Excel's 32,767 characters; a hostile file need not."""
    _good(path, **{"Ghi chú": "LONGCELLMARKER"})

    def lengthen(members):
        strings = members["xl/sharedStrings.xml"]
        members["xl/sharedStrings.xml"] = strings.replace(b"LONGCELLMARKER", b"x" * chars)

    return _rewrite(path, lengthen)


def _xlsm_with_macro_and_external_link(path: Path) -> Path:
    seed = _good(path.with_suffix(".seed.xlsx"), unit="665", codes=("6400000065",))
    with zipfile.ZipFile(seed) as source:
        members = {n: source.read(n) for n in source.namelist()}
    members["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0" + b'Sub AutoOpen(): Shell "rm -rf /"' * 4
    members["xl/externalLinks/externalLink1.xml"] = (
        b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<externalBook r:id="rId1" xmlns:r="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships"/></externalLink>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in members.items():
            target.writestr(name, data)
    seed.unlink()
    return path


SQL_NAME = "667_2023'); drop table audit.file_ingestion; --.xlsx"
# Starts with a letter: a leading apostrophe is Excel's text mark, which the reader drops.
SQL_TEXT = "x'; DROP TABLE core.dim_cooperative; --"
HOSTILE_LIMITS = {"HTX_MAX_EXPANDED_MB": "32", "HTX_MAX_ROWS": "5000"}


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    """A landing folder of hostile files, run twice; returns (settings, landing snapshot)."""
    for name, value in HOSTILE_LIMITS.items():
        monkeypatch.setenv(name, value)
    root = tmp_path
    settings = load_settings(
        {
            "HTX_LANDING_DIR": str(root / "landing"),
            "HTX_WAREHOUSE": str(root / "warehouse.duckdb"),
            "HTX_STATE_DIR": str(root / "state"),
            "HTX_EXPORT_DIR": str(root / "exports"),
            **HOSTILE_LIMITS,
        }
    )
    landing = settings.landing_dir
    landing.mkdir(parents=True)
    _zip_bomb(landing / "663_2021_bomb.xlsx")
    _many_rows(landing / "663_2022_rows.xlsx", 6000)
    _long_cell(landing / "663_2023_longcell.xlsx", 100_000)
    _good(
        landing / "663_2024_formula.xlsx",
        codes=("6400000001",),
        **{"Tên HTX": '=HYPERLINK("http://evil","bấm")', "Ghi chú": "@cmd|' /c calc'!A0"},
    )
    (landing / "664_2023_encrypted.xlsx").write_bytes(
        (TESTS / "corpus" / "r_encrypted.xlsx").read_bytes()
    )
    _xlsm_with_macro_and_external_link(landing / "665_2023_macro.xlsm")
    _good(
        landing / "..\\..\\666_2023.xlsx",
        unit="666",
        codes=("6400000066",),
        **{"Xã/Phường": "Kiến Đức"},
    )
    _good(landing / SQL_NAME, unit="667", codes=("6400000067",), **{"Tên HTX": SQL_TEXT})
    _good(
        landing / "660_2023 \u202egnp.xlsx",
        unit="660",
        codes=("6400000060",),
        **{"Xã/Phường": "Nghĩa Đức"},
    )
    outside = _good(root / "outside" / "661_2023.xlsx", unit="661", codes=("6400000061",))
    (landing / "661_2023_link.xlsx").symlink_to(outside)
    snapshot = {p.name: p.read_bytes() for p in landing.iterdir() if not p.is_symlink()}
    run_steps(settings, "run-1")
    run_steps(settings, "run-2")
    return settings, snapshot


def test_hostile_files_are_quarantined_with_reasons_or_loaded_inert(hostile):
    settings, _ = hostile
    outcome = {
        name: (status, reason or "")
        for name, status, reason in query(
            settings, "select file_name, status, reason from audit.file_ingestion"
        )
    }
    assert outcome["663_2021_bomb.xlsx"][0] == "quarantined"
    assert "giải nén ra quá lớn" in outcome["663_2021_bomb.xlsx"][1]
    assert outcome["663_2022_rows.xlsx"][0] == "quarantined"
    assert "quá nhiều dòng" in outcome["663_2022_rows.xlsx"][1]
    assert outcome["663_2023_longcell.xlsx"][0] == "quarantined"
    assert "vượt giới hạn 32767 ký tự của Excel" in outcome["663_2023_longcell.xlsx"][1]
    assert outcome["664_2023_encrypted.xlsx"][0] == "quarantined"
    assert "mật khẩu" in outcome["664_2023_encrypted.xlsx"][1]
    inert = ("663_2024_formula.xlsx", "665_2023_macro.xlsm", "..\\..\\666_2023.xlsx", SQL_NAME)
    for name in (*inert, "660_2023 \u202egnp.xlsx"):
        assert outcome[name][0] == "loaded", (name, outcome[name])
    assert "661_2023_link.xlsx" not in outcome  # a symlink is never followed


def test_text_that_looks_like_formulas_or_sql_is_stored_verbatim(hostile):
    settings, _ = hostile
    names = dict(query(settings, "select coop_code, name from core.dim_cooperative"))
    assert names["6400000001"] == '=HYPERLINK("http://evil","bấm")'
    assert names["6400000067"] == SQL_TEXT
    [(note,)] = query(
        settings, "select note from core.fact_cooperative_year where coop_code = '6400000001'"
    )
    assert note == "@cmd|' /c calc'!A0"
    assert query(settings, "select count(*) from audit.file_ingestion")[0][0] == 9


def test_nothing_is_lost_and_the_landing_folder_is_unchanged(hostile):
    settings, snapshot = hostile
    landing = settings.landing_dir
    assert {p.name: p.read_bytes() for p in landing.iterdir() if not p.is_symlink()} == snapshot
    rows = query(settings, "select file_name, sha256, raw_path from audit.file_ingestion")
    assert {r[0] for r in rows} == set(snapshot)
    for name, sha, raw in rows:
        assert hashlib.sha256(snapshot[name]).hexdigest() == sha
        assert Path(raw).name.startswith(sha)
        assert Path(raw).read_bytes() == snapshot[name]
    raw_files = list(settings.raw_dir.iterdir())
    assert len(raw_files) == len({r[1] for r in rows})  # exactly one raw copy per content


def test_a_file_name_that_is_not_utf8_is_recorded_with_its_bytes_escaped(settings):
    """A name written in a legacy code page (bytes that are not UTF-8) once made the run
    fail at the hand-over between tasks (JSON), on every run while the file stayed."""
    path = _good(settings.landing_dir / "663_2023.xlsx")
    odd = os.fsencode(settings.landing_dir) + b"/663_2023_\xff\xfe.xlsx"
    os.rename(path, odd)
    content = Path(os.fsdecode(odd)).read_bytes()
    run_steps(settings, "run-1")
    [(name, status)] = query(settings, "select file_name, status from audit.file_ingestion")
    assert name == "663_2023_\\xff\\xfe.xlsx"
    assert json.dumps(name).encode("utf-8")
    assert status == "loaded"
    assert run_steps(settings, "run-2")["changed"] is False  # seen: not a new file again
    assert Path(os.fsdecode(odd)).read_bytes() == content  # the landing file is untouched


def test_a_file_that_changes_while_it_is_read_is_left_for_the_next_run(settings, monkeypatch):
    path = _good(settings.landing_dir / "663_2023.xlsx")
    final = path.read_bytes()
    original = discover.shutil.copyfile

    def copy_while_the_clerk_saves(source, target):
        with open(source, "ab") as growing:  # the clerk's Excel is still writing
            growing.write(b"\0")
        original(source, target)

    monkeypatch.setattr(discover.shutil, "copyfile", copy_while_the_clerk_saves)
    assert run_steps(settings, "run-1")["files"] == 0
    assert not settings.raw_dir.exists() or not any(settings.raw_dir.iterdir())
    monkeypatch.setattr(discover.shutil, "copyfile", original)
    path.write_bytes(final)  # the save finished
    run_steps(settings, "run-2")
    assert query(settings, "select file_name, status from audit.file_ingestion") == [
        ("663_2023.xlsx", "loaded")
    ]


def test_a_file_removed_while_the_run_reads_the_landing_folder_stops_no_other_file(
    settings, monkeypatch
):
    """A clerk deletes or renames a file between the listing and its copy: the run failed
    with FileNotFoundError, and no file of the landing folder was taken."""
    _good(settings.landing_dir / "663_2023.xlsx")
    going = _good(settings.landing_dir / "664_2023.xlsx", unit="664", codes=("6400000064",))
    content = going.read_bytes()
    original = discover.sha256_of

    def removed_meanwhile(path):
        if path.name == going.name:
            path.unlink()
        return original(path)

    monkeypatch.setattr(discover, "sha256_of", removed_meanwhile)
    run_steps(settings, "run-1")
    assert query(settings, "select file_name, status from audit.file_ingestion") == [
        ("663_2023.xlsx", "loaded")
    ]
    monkeypatch.setattr(discover, "sha256_of", original)
    going.write_bytes(content)  # put back: the next run takes it
    run_steps(settings, "run-2")
    assert query(
        settings, "select file_name, status from audit.file_ingestion order by file_name"
    ) == [("663_2023.xlsx", "loaded"), ("664_2023.xlsx", "loaded")]


def test_what_the_landing_folder_holds_but_cannot_read_is_said_in_the_log(
    settings, monkeypatch, caplog
):
    """A subfolder closed to the pipeline's user (its permissions: simulated, as the tests
    may run as root, whom none stop), a pipe and a link: each is said in the run's log, and
    the readable files are taken. Before, rglob passed over an unreadable subfolder and a
    pipe in silence: a district's files there were never seen, and no one was told."""
    _good(settings.landing_dir / "663_2023.xlsx")
    closed = settings.landing_dir / "huyen_dak_song"
    _good(closed / "667_2023.xlsx", unit="667", codes=("6700000067",))
    os.mkfifo(settings.landing_dir / "pipe.xlsx")
    (settings.landing_dir / "elsewhere").symlink_to(closed, target_is_directory=True)
    real_scandir = os.scandir

    def permission_denied(path="."):
        if Path(path) == closed:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", permission_denied)
    with caplog.at_level("WARNING", logger="etl.read.discover"):
        assert discover.landing_files(settings.landing_dir) == [
            settings.landing_dir / "663_2023.xlsx"
        ]
    said = caplog.text
    assert f"cannot read folder {closed} (Permission denied)" in said
    assert "skipping pipe.xlsx: not a file" in said
    assert "skipping elsewhere: a symbolic link is not a submitted file" in said
    monkeypatch.setattr(os, "scandir", real_scandir)
    assert discover.landing_files(settings.landing_dir) == [
        settings.landing_dir / "663_2023.xlsx",
        closed / "667_2023.xlsx",
    ]


def test_a_landing_folder_that_cannot_be_read_is_no_empty_one(settings, monkeypatch):
    """The landing folder itself closed to the pipeline's user (simulated, as above): before,
    its error was logged as a subfolder's and the run said it held no workbook, exit 0, hour
    after hour. It is `LandingMissing`, as a folder that is not there (`htx run` exits 2,
    the DAG's discover fails and alerts)."""
    _good(settings.landing_dir / "663_2023.xlsx")
    real_scandir = os.scandir

    def permission_denied(path="."):
        if Path(path) == settings.landing_dir:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", permission_denied)
    with pytest.raises(discover.LandingMissing) as raised:
        discover.landing_files(settings.landing_dir)
    assert str(raised.value).startswith(
        f"cannot read the landing folder {settings.landing_dir} (HTX_LANDING_DIR): "
        "Permission denied. Let the pipeline's user read it, or point HTX_LANDING_DIR at "
    )


def test_what_office_programs_and_macos_leave_beside_a_report_is_not_a_submission(settings):
    """Lock files, desktop files and the AppleDouble companion (`._name`, macOS's metadata
    of a file copied to a share or zipped) are not reports. Before, the companion was
    recorded as a quarantined `663_2023` report, with an alert and a feedback workbook for
    the clerk. A workbook whose name starts with `._` is still a report."""
    _good(settings.landing_dir / "663_2023.xlsx")
    landing = settings.landing_dir
    (landing / "~$663_2023.xlsx").write_bytes(b"\x0cNguyen Van A" + b" " * 150)
    (landing / ".~lock.663_2023.xlsx#").write_text(",Nguyen Van A,MAY-01,05.12.2025 10:00;")
    (landing / ".DS_Store").write_bytes(b"\0\0\0\1Bud1" + b"\0" * 60)
    apple_double = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\0" * 60
    (landing / "._663_2023.xlsx").write_bytes(apple_double)
    (landing / "__MACOSX").mkdir()
    (landing / "__MACOSX" / "._663_2023.xlsx").write_bytes(apple_double)
    _good(landing / "._664_2023.xlsx", unit="664", codes=("6400000064",))
    run_steps(settings, "run-1")
    assert query(
        settings, "select file_name, status from audit.file_ingestion order by file_name"
    ) == [("._664_2023.xlsx", "loaded"), ("663_2023.xlsx", "loaded")]


def test_a_download_or_copy_in_progress_is_not_a_submission(settings, caplog):
    """What a browser, rsync or WinSCP writes while a file arrives, before renaming it to its
    name: half a workbook. Before, each was quarantined as a report (`file_unreadable`, or
    its unit guessed from the name), with an alert to a clerk who did nothing wrong; the
    renamed file is what is read, in the run that finds it."""
    landing = settings.landing_dir
    _good(landing / "663_2023.xlsx")
    half = (landing / "663_2023.xlsx").read_bytes()[:500]
    in_progress = [
        "664_2023.xlsx.crdownload",  # Chrome, Edge
        "Unconfirmed 812345.crdownload",
        "665_2023.xlsx.part",  # Firefox
        "666_2023.xlsx.filepart",  # WinSCP
        ".667_2023.xlsx.Ab12Cd",  # rsync's temporary name
    ]
    for name in in_progress:
        (landing / name).write_bytes(half)
    _good(landing / "667_2023.part.xlsx", unit="667", codes=("6700000067",))
    with caplog.at_level("INFO", logger="etl.read.discover"):
        run_steps(settings, "run-1")
    assert query(
        settings, "select file_name, status from audit.file_ingestion order by file_name"
    ) == [("663_2023.xlsx", "loaded"), ("667_2023.part.xlsx", "loaded")]
    for name in in_progress:
        assert f"skipping {name}: a download or copy still in progress" in caplog.text
        assert (landing / name).read_bytes() == half  # never touched


def test_the_empty_file_a_download_holds_its_name_with_is_not_a_submission(settings, caplog):
    """Firefox creates the file's name empty beside the `.part` it downloads into: read, that
    placeholder was rejected as an empty file (`file_empty`), with an alert to a clerk who did
    nothing wrong. An empty file is still a submission when no download is beside it."""
    landing = settings.landing_dir
    landing.mkdir(parents=True, exist_ok=True)
    (landing / "665_2023.xlsx").write_bytes(b"")
    (landing / "665_2023.xlsx.part").write_bytes(b"PK\x03\x04half")
    (landing / "666_2023.xlsx").write_bytes(b"")
    with caplog.at_level("INFO", logger="etl.read.discover"):
        assert discover.landing_files(landing) == [landing / "666_2023.xlsx"]
    assert "skipping 665_2023.xlsx: a download or copy still in progress" in caplog.text


def test_the_size_recorded_is_the_size_of_the_content_hashed(settings, monkeypatch):
    """A file that grows after its raw copy was taken: its size was read from the landing
    folder afterwards, so the row said a size that is not its content's."""
    path = _good(settings.landing_dir / "663_2023.xlsx")
    original = discover.keep_raw_copy

    def saved_again_after_the_copy(source, sha256, raw_dir):
        raw = original(source, sha256, raw_dir)
        with open(source, "ab") as growing:
            growing.write(b"\0" * 4096)
        return raw

    monkeypatch.setattr(discover, "keep_raw_copy", saved_again_after_the_copy)
    run_steps(settings, "run-1")
    [(size, raw)] = query(settings, "select size_bytes, raw_path from audit.file_ingestion")
    assert size == Path(raw).stat().st_size
    assert path.stat().st_size == size + 4096


def test_fuzzed_workbooks_end_read_or_rejected_never_crash(tmp_path):
    def bounded():
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))  # memory bound

    done = subprocess.run(
        [sys.executable, str(TESTS / "fuzz_reader.py"), "2000"],
        capture_output=True, text=True, timeout=900, preexec_fn=bounded, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    summary = done.stdout.strip().splitlines()[-1]
    total = int(summary.split()[1])
    assert total >= 2000, summary


def _killed_env(settings) -> dict[str, str]:
    """`htx_env` for a process the test kills: no exit handler of its runs, so its temporary
    folders (an Airflow home, the reader's work folder) are made under the test's own folder,
    which pytest removes, not left in the machine's."""
    folder = settings.state_dir.parent / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    return {**htx_env(settings), "TMPDIR": str(folder)}


_CRASHING_RUN = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, sys.argv[2])
    from conftest import run_steps
    from etl.config import load_settings
    from etl.warehouse import staging
    from etl.warehouse import models
    from etl.warehouse import swap
    point = sys.argv[1]

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "raw copy":
        from etl.read import discover
        def crash(source, target):  # half of a landing file copied, then the kill
            data = open(source, "rb").read()
            with open(target, "wb") as out:
                out.write(data[: len(data) // 2])
            die()
        discover.shutil.copyfile = crash
    elif point == "staging":
        original = os.replace
        written = []
        def crash(src, dst):
            if str(dst).endswith(".parquet"):
                written.append(dst)
                if len(written) == 3:  # some sheets of the batch staged, others not
                    die()
            return original(src, dst)
        staging.os.replace = crash
    elif point == "load":
        original = models.run_sql_file
        def crash(con, path):
            if path.name == "fact_program_support.sql" and "load" in path.parts:
                original(con, path)
                die()
            return original(con, path)
        models.run_sql_file = crash
        import etl.warehouse.build
        etl.warehouse.build.run_sql_file = crash
    elif point == "swap":
        original = os.replace
        def crash(src, dst):
            if str(dst).endswith("htx.duckdb"):
                die()
            return original(src, dst)
        swap.os.replace = crash
    run_steps(load_settings(), "crash-" + point)
    """
)


@pytest.mark.parametrize("point", ["raw copy", "staging", "load", "swap"])
def test_sigkill_mid_run_leaves_the_old_warehouse_whole_and_the_next_run_completes(
    settings, point, monkeypatch
):
    for year in (2021, 2022):
        _good(settings.landing_dir / f"663_{year}.xlsx", year=year)
    run_steps(settings, "first")
    old = settings.warehouse.read_bytes()
    for year in (2023, 2024):
        _good(
            settings.landing_dir / f"663_{year}.xlsx", year=year, codes=("6400000001", "6400000003")
        )
    env = _killed_env(settings)
    crashed = subprocess.run(
        [sys.executable, "-c", _CRASHING_RUN, point, str(TESTS)],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert crashed.returncode == -9, crashed.stderr[-2000:]
    assert settings.warehouse.read_bytes() == old  # the old warehouse, whole
    swap.verify(settings.warehouse)
    run_steps(settings, "after-crash")
    swap.verify(settings.warehouse)
    facts = query(
        settings,
        "select period_key, count(*) from core.fact_cooperative_year group by all order by 1",
    )
    assert facts == [(2021, 2), (2022, 2), (2023, 2), (2024, 2)]  # no fact lost or doubled
    statuses = query(settings, "select status, count(*) from audit.file_ingestion group by all")
    assert statuses == [("loaded", 4)]
    assert not build_path(settings).with_name("htx.duckdb.wal").exists()
    # One hash-named raw copy per file: no half-written copy is left beside them.
    shas = {sha for (sha,) in query(settings, "select sha256 from audit.file_ingestion")}
    assert sorted(p.name for p in settings.raw_dir.iterdir()) == sorted(f"{s}.xlsx" for s in shas)


def test_two_runs_started_together_end_like_one(settings, tmp_path):
    for year in (2022, 2023):
        _good(settings.landing_dir / f"663_{year}.xlsx", year=year)
    env = htx_env(settings)
    htx = str(HTX)
    logs = [(tmp_path / f"run{i}.out", tmp_path / f"run{i}.err") for i in range(2)]
    runs = []
    for out, err in logs:  # files, not pipes: Airflow's logs would fill a pipe and block
        with out.open("w") as stdout, err.open("w") as stderr:
            runs.append(subprocess.Popen([htx, "run"], env=env, stdout=stdout, stderr=stderr))
    codes = [r.wait(timeout=900) for r in runs]
    results = [(c, o.read_text(), e.read_text()) for c, (o, e) in zip(codes, logs, strict=True)]
    assert [code for code, _, _ in results] == [0, 0], [err[-2000:] for _, _, err in results]
    assert sum("nothing new" in out for _, out, _ in results) == 1
    assert query(settings, "select count(*) from audit.file_ingestion") == [(2,)]
    assert query(settings, "select count(*) from core.fact_cooperative_year") == [(4,)]
    swap.verify(settings.warehouse)


_KILLED_BEFORE_EXPORTS = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, sys.argv[1])
    from conftest import run_steps
    from etl.config import load_settings
    from etl.outputs import exports

    def die(*args, **kwargs):  # after the swap, as the exports begin
        os.kill(os.getpid(), signal.SIGKILL)

    exports.write_all = die
    run_steps(load_settings(), "killed")
    """
)


def _exported_rows(settings, table: str) -> int:
    import duckdb

    (path,) = settings.export_dir.rglob(f"{table}.parquet")
    con = duckdb.connect()
    try:
        return con.execute("select count(*) from read_parquet(?)", [str(path)]).fetchone()[0]
    finally:
        con.close()


def test_a_run_killed_after_its_swap_has_its_exports_written_by_the_next_htx_run(
    settings, monkeypatch
):
    """`htx run` killed between the swap and the end of the exports: the next `htx run`,
    with nothing new, still writes the exports of the published warehouse (before, every
    later run found the warehouse up to date and the exports stayed stale for good)."""
    from etl.cli import main
    from etl.quality import validator

    for year in (2021, 2022):
        _good(settings.landing_dir / f"663_{year}.xlsx", year=year)
    run_steps(settings, "first")
    assert _exported_rows(settings, "core.fact_cooperative_year") == 4
    for year in (2023, 2024):
        _good(settings.landing_dir / f"663_{year}.xlsx", year=year)
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_BEFORE_EXPORTS, str(TESTS)],
        env=_killed_env(settings), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert query(settings, "select count(*) from core.fact_cooperative_year") == [(8,)]
    assert _exported_rows(settings, "core.fact_cooperative_year") == 4  # stale: never written
    assert len(list((settings.export_dir / "quality").glob("*.html"))) == 2
    assert (settings.state_dir / "published_files.json").exists()

    # The next `htx run`, its DAG runs in this process (`run_steps`).
    results = []

    def run_dags(_settings):
        results.append(run_steps(load_settings(), f"after-{len(results)}"))
        return [main.DagRunResult("htx_ingest", f"after-{len(results)}", "success")]

    for name, value in settings.htx_environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(main, "init_airflow", lambda settings: None)
    monkeypatch.setattr(main, "run_dags", run_dags)
    monkeypatch.setattr(main, "_record_command", lambda *args: None)
    monkeypatch.setattr("etl.outputs.summary.print_summary", lambda *args, **kwargs: None)
    monkeypatch.setattr(validator, "start", lambda *warm_ups: None)
    assert main.cmd_run(None) == 0
    assert results[0]["changed"] is True
    assert results[0]["published"] is False  # nothing to build: only the exports were owed
    assert _exported_rows(settings, "core.fact_cooperative_year") == 8
    assert _exported_rows(settings, "marts.cooperative_district_year") == 8
    pages = {p.name for p in (settings.export_dir / "quality").glob("*.html")}
    ids = [i for (i,) in query(settings, "select file_id from audit.file_ingestion order by 1")]
    assert pages >= {f"{i}.html" for i in ids}  # a quality page for every file
    assert not (settings.state_dir / "published_files.json").exists()
    assert not (settings.state_dir / "exports_failed").exists()
    assert main.cmd_run(None) == 0
    assert results[1]["changed"] is False  # the run after is quiet


_KILLED_AFTER_RECORDING = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, sys.argv[1])
    from conftest import run_steps
    from etl.config import load_settings
    from etl.warehouse import ledger

    def die(*args, **kwargs):  # the run's files are in the ledger, nothing else of the load
        os.kill(os.getpid(), signal.SIGKILL)

    ledger.loaded_files = die
    run_steps(load_settings(), "killed")
    """
)


def _what_the_clerks_get(settings) -> tuple:
    """The warnings and rejections by file, the quality alerts (their run and folder aside)
    and the feedback workbooks with what they hold."""
    import re

    found = query(
        settings,
        "select i.file_name, r.rule, r.severity, r.sheet, r.excel_row, r.column_name, r.value, "
        "r.cell from audit.rejected_row r join audit.file_ingestion i using (file_id) order by all",
    )
    raised = query(
        settings, "select severity, subject, body from audit.quality_alert order by raised_at"
    )
    names = dict(query(settings, "select file_id, file_name from audit.file_ingestion"))

    def same_anywhere(body: str) -> str:  # file_ids are not the same in two folders
        body = re.sub(r"Run: \S+", "Run: …", body).replace(str(settings.export_dir), "…")
        return re.sub(r"\b(\d{6,})\b", lambda m: names.get(int(m[1]), m[1]), body)

    alerts = [(severity, subject, same_anywhere(body)) for severity, subject, body in raised]
    feedback = settings.export_dir / "feedback"
    workbooks = {}
    for path in sorted(feedback.rglob("*.xlsx")):
        with zipfile.ZipFile(path) as archive:
            workbooks[str(path.relative_to(feedback))] = {
                name: archive.read(name)
                for name in archive.namelist()
                if name != "docProps/custom.xml"  # a digest of the file's record, file_id too
            }
    return found, alerts, workbooks


def test_a_run_killed_after_recording_its_files_loses_no_warning_alert_or_feedback(tmp_path):
    """`htx run` killed in the load after the ledger recorded the run's files, before the
    checks across files and the alert: the next run, which finds nothing new, makes them
    for those files; the clerks get what an uninterrupted run gives (before, the warnings
    across files, the alert and the feedback of those files were lost for good)."""
    import shutil

    coops = [f"64000000{i:02d}" for i in range(1, 6)]
    files = tmp_path / "files"
    _good(files / "663_2022.xlsx", year=2022, codes=coops)
    # 2023: the fifth's revenue ten times (revenue_jump), the fourth missing
    # (coop_missing_next_year); a file of a unit that does not exist (quarantined).
    rows = [HTX_HEADER] + [htx_row(i, c) for i, c in enumerate(coops[:3], 1)]
    rows.append(htx_row(4, coops[4], **{"Doanh thu": 17000}))
    write_xlsx(files / "663_2023.xlsx", {"ThongTin": info_rows("663", 2023), "HTX": rows})
    _good(files / "999_2023.xlsx", unit="999", year=2023)
    runs = {}
    for name in ("reference", "killed"):
        settings = runs[name] = settings_under(tmp_path / name)
        settings.landing_dir.mkdir(parents=True)
        shutil.copy2(files / "663_2022.xlsx", settings.landing_dir)
        run_steps(settings, "first")
        for later in ("663_2023.xlsx", "999_2023.xlsx"):
            shutil.copy2(files / later, settings.landing_dir)
    run_steps(runs["reference"], "second")

    settings = runs["killed"]
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_AFTER_RECORDING, str(TESTS)],
        env=_killed_env(settings), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr[-2000:]
    after = run_steps(settings, "after-kill")
    assert after["changed"] is True
    assert run_steps(settings, "third")["changed"] is False

    found, alerts, workbooks = _what_the_clerks_get(settings)
    rules = {(name, rule) for name, rule, *_ in found}
    assert ("663_2023.xlsx", "revenue_jump") in rules
    assert ("663_2023.xlsx", "coop_missing_next_year") in rules
    assert any(name == "999_2023.xlsx" for name, *_ in found)
    assert len(alerts) == 1
    assert "999_2023.xlsx" in alerts[0][2]
    assert "663_2023.xlsx" in alerts[0][2]
    assert len(workbooks) == 2
    assert (found, alerts, workbooks) == _what_the_clerks_get(runs["reference"])


FULL_DISK = textwrap.dedent(
    """
    import json, resource, shutil, signal, sys
    from pathlib import Path
    from etl.warehouse import ledger

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, as on a full disk
    folder, errors = Path(sys.argv[1]), []
    for limit in range(4_000, 40_000, 500):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
        try:
            ledger.connect(folder / "ledger.duckdb").close()
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
    print(json.dumps(errors))
    """
)


def test_a_full_disk_while_the_ledger_is_made_says_so(tmp_path):
    """The disk fills up at every point of making a new ledger (a file-size limit from 4 kB
    to 40 kB): the error raised is the disk's. Before, a commit that failed had ended the
    transaction, and the rollback's `cannot rollback - no transaction is active` was raised
    in place of `File too large`."""
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(tmp_path / "ledger")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    errors = json.loads(done.stdout)
    assert errors  # the disk was full for some of them
    assert all("File too large" in error for error in errors), sorted(set(errors))
