"""The reference CSVs ship byte-identical to the published ones, and take part in the
build's fingerprint, so a new release of them rebuilds the warehouse."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from etl.config import REFERENCE_DIR

# SHA-256 of the files as published in the shared reference folder (../shared/reference/).
PUBLISHED = {
    "vn_admin_units.csv": "07e3c236418ae3a048ccf52f3329a7a3f6f3b204bd5aa76448c79e5d3684d5ca",
    "dak_nong_admin_units.csv": "645e73f71b080fbbd445ebbb42d41eeadbdc6619c2c07bd452f2b1c7e7b884cf",
    "vn_admin_units_2025.csv": "e1e8568fb57d9c2703c15f3da0fe220c63bd18a6dcff529db48e6ecd4b8ff93b",
    "province_merger_2025.csv": "27999d902a6ee9a324866a7ca754678a4130e696eeeb9872f224b6b9445ba7a7",
    "commune_merger_2025.csv": "de279566d5cb44f0456cea5c211017c0cc9cef75cf92d910d07afa6cdf48751c",
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_reference_file_is_the_published_one(name):
    digest = hashlib.sha256((REFERENCE_DIR / name).read_bytes()).hexdigest()
    assert digest == PUBLISHED[name], f"reference/{name} differs from the published file"


def test_shared_reference_matches_when_present():
    """In the project's own workspace the published folder sits beside the checkout."""
    shared = Path(__file__).resolve().parents[2] / "shared" / "reference"
    for name in PUBLISHED:
        if (shared / name).exists():
            assert (shared / name).read_bytes() == (REFERENCE_DIR / name).read_bytes(), name


def test_a_new_release_of_the_reference_changes_the_fingerprint(tmp_path, monkeypatch):
    import shutil

    import duckdb

    from etl.config import SQL_DIR
    from etl.warehouse import build
    from etl.warehouse.models import run_sql_file

    con = duckdb.connect()
    run_sql_file(con, SQL_DIR / "ddl" / "schemas.sql")
    run_sql_file(con, SQL_DIR / "ddl" / "audit" / "file_ingestion.sql")
    copy = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, copy)
    monkeypatch.setattr(build, "REFERENCE_DIR", copy)
    before = build.fingerprint(con, [])
    path = copy / "commune_merger_2025.csv"
    path.write_bytes(path.read_bytes() + b"99999,Xa Moi,68,giu nguyen\n")
    assert build.fingerprint(con, []) != before
