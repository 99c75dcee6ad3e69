"""`make crosscheck` end to end on a small corpus: the line it prints, the report it writes,
and the fact check catching a difference. No time is asserted (`make crosscheck` measures)."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from tools import crosscheck

LINE = re.compile(
    r"^crosscheck: seed=7 years=2022-2026 files=(\d+) rows=\d+ floor_s=\d+\.\d\d "
    r"airflow_floor_s=\d+\.\d\d full_s=\d+\.\d\d nothing_new_s=\d+\.\d\d one_file_s=\d+\.\d\d "
    r"marginal_ratio=\d+\.\d\d one_file_ratio=\d+\.\d\d fixed_ratio=\d+\.\d\d "
    r"peak_rss_mib=\d+ facts=exact$"
)


@pytest.fixture(scope="module")
def checked(tmp_path_factory) -> tuple[Path, str, int]:
    root = tmp_path_factory.mktemp("crosscheck")
    doc = root / "crosscheck.md"
    stale = root / "run-7-2"  # what an earlier cross-check left
    stale.mkdir()
    (stale / "stale.txt").write_text("an earlier run")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = crosscheck.main(["--limit", "2", "--root", str(root), "--doc", str(doc)])
    return root, out.getvalue(), code


def test_three_runs_and_every_fact_exact(checked) -> None:
    root, printed, code = checked
    assert code == 0
    line = printed.strip().splitlines()[-1]
    match = LINE.match(line)
    assert match, line
    files = sorted((root / "corpus-7-2022-2026-2").glob("*.xlsx"))
    # Every file but the held-out one in the full run; 2022–2024 per unit, 2025 and 2026 too.
    assert int(match.group(1)) == len(files) - 1
    assert {p.name.split("_")[1][:4] for p in files} == {"2022", "2023", "2024", "2025", "2026"}
    doc = (root / "crosscheck.md").read_text()
    assert line in doc
    assert f"{len(files)} loaded" in doc
    assert "held out of the full run" in doc


def test_the_earlier_run_is_deleted_only_after_the_measurements(checked) -> None:
    root, _printed, code = checked
    assert code == 0
    assert not (root / "run-7-2" / "stale.txt").exists()  # set aside, the name free
    assert (root / "run-7-2" / "warehouse" / "htx.duckdb").is_file()
    assert not (root / ".trash").exists()  # and deleted once the runs were measured


def test_a_missing_fact_row_is_a_difference(checked, tmp_path) -> None:
    root, _printed, _code = checked
    manifest = json.loads((root / "corpus-7-2022-2026-2" / "manifest.json").read_text())
    copy = tmp_path / "htx.duckdb"
    shutil.copyfile(root / "run-7-2" / "warehouse" / "htx.duckdb", copy)
    statuses, wrong = crosscheck.fact_differences(copy, manifest["files"])
    assert wrong == []
    assert statuses == {"loaded": len(manifest["files"])}
    con = duckdb.connect(str(copy))
    name = con.execute(
        "select i.file_name from core.fact_ocop_product f join audit.file_ingestion i "
        "using (file_id) order by 1 limit 1"
    ).fetchone()[0]
    con.execute(
        "delete from core.fact_ocop_product where rowid = (select min(f.rowid) from "
        "core.fact_ocop_product f join audit.file_ingestion i using (file_id) "
        "where i.file_name = ?)",
        [name],
    )
    con.close()
    _statuses, wrong = crosscheck.fact_differences(copy, manifest["files"])
    assert len(wrong) == 1
    assert wrong[0].startswith(f"{name} fact_ocop_product: ")
    assert wrong[0].endswith(
        f"written {next(f['rows']['ocop'] for f in manifest['files'] if f['name'] == name)}"
    )
