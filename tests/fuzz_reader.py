"""Fuzzing the reader: thousands of mutated workbooks, bytes and structure.

Run by tests/test_reliability.py in a child process with a memory limit and a timeout, so
a crash, a hang or a runaway allocation fails the test instead of the test run. Every case
must end as a read workbook or a rejection with a reason; nothing may raise.
"""

from __future__ import annotations

import atexit
import io
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from conftest import HTX_HEADER, htx_row, info_rows, write_xlsx

from etl.config import Limits
from etl.contract.reference import load_reference
from etl.read.identify import identify
from etl.read.reader import read_workbook

CASES = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
WORK = Path(tempfile.mkdtemp(prefix="htx-fuzz-"))
atexit.register(shutil.rmtree, WORK, True)
SEED = write_xlsx(
    WORK / "seed.xlsx",
    {
        "ThongTin": info_rows(),
        "HTX": [HTX_HEADER, htx_row(1, "6400000001"), htx_row(2, "64000002")],
    },
).read_bytes()
LIMITS = Limits(file_bytes=5 << 20, expanded_bytes=20 << 20, rows=5000, cell_chars=32767)
REF = load_reference()
seen = {"read": 0, "rejected": 0}


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


MEMBERS = _members(SEED)


def _rezip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


byte_mutations = st.lists(
    st.tuples(st.integers(0, len(SEED) - 1), st.integers(0, 255)), min_size=1, max_size=20
).map(lambda flips: _flip(SEED, flips))


def _flip(data: bytes, flips) -> bytes:
    buffer = bytearray(data)
    for position, value in flips:
        buffer[position] = value
    return bytes(buffer)


@st.composite
def structure_mutations(draw) -> bytes:
    members = dict(MEMBERS)
    name = draw(st.sampled_from(sorted(members)))
    data = members[name]
    action = draw(st.sampled_from(["truncate", "splice", "drop", "garbage", "duplicate"]))
    if action == "truncate":
        members[name] = data[: draw(st.integers(0, len(data)))]
    elif action == "splice":
        at = draw(st.integers(0, len(data)))
        members[name] = data[:at] + draw(st.binary(max_size=64)) + data[at:]
    elif action == "drop":
        del members[name]
    elif action == "garbage":
        members[name] = draw(st.binary(max_size=512))
    else:
        members[name] = data + data
    return _rezip(members)


cases = st.one_of(
    byte_mutations,
    structure_mutations(),
    st.binary(max_size=2048),
    st.integers(0, len(SEED)).map(lambda n: SEED[:n]),
)


@settings(max_examples=CASES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(cases)
def fuzz(data: bytes) -> None:
    path = WORK / "case.xlsx"
    path.write_bytes(data)
    read = read_workbook(path, LIMITS)
    if read.rejection is None:
        identify(read.info, path.name, REF)
        seen["read"] += 1
    else:
        assert read.rejection.message
        assert " / " in read.rejection.message
        seen["rejected"] += 1


if __name__ == "__main__":
    fuzz()
    print(f"fuzz: {seen['read'] + seen['rejected']} cases, {seen['read']} read, "
          f"{seen['rejected']} rejected")  # fmt: skip
