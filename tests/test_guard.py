"""The guard's shortcuts decide as its whole parse does: one zip open per file (`Package`),
the byte scan of references past `EMPTY_TAIL_ROWS`, and a long sheet let through without
the whole parse only when its tail shows a real value close enough to its end.

The reference below is the guard's decision taken the long way (every long sheet parsed
by `_extent`), as it was before the shortcuts.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from conftest import HTX_HEADER, htx_row, info_rows, write_xlsx

from etl.config import Limits
from etl.read import guard
from etl.read.reader import read_workbook

SHEET = "xl/worksheets/sheet2.xml"  # HTX, after ThongTin


def _long_way(path: Path, max_rows: int = 200_000) -> tuple[str, list[str]]:
    """('too_many_rows' | 'error' | 'ok', trims) by parsing every sheet past the short bound."""
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n)]
        short = min(guard.EMPTY_TAIL_ROWS, max_rows)
        long = [m for m in sheets if guard._row_bound(archive, m, 1 << 30) > short]
        trims = []
        try:
            blank = guard._blank_shared_strings(archive) if long else set()
            for member in long:
                last_real, last_row = guard._extent(archive, member, blank, 1 << 30)
                if last_real > max_rows:
                    return "too_many_rows", []
                if last_row > last_real + guard.EMPTY_TAIL_ROWS:
                    trims.append(member)
        except Exception:  # the reader makes any of them file_unreadable
            return "error", []
    return "ok", trims


def _guard_way(path: Path, work: Path, max_rows: int = 200_000) -> tuple[str, list[str]]:
    """The same answer from `guard.bounded`: the sheets its copy rewrote."""
    try:
        source = guard.bounded(path, work, max_rows)
    except guard.LimitExceeded as exc:
        return exc.rule, []
    except Exception:
        return "error", []
    if source == path:
        return "ok", []
    with zipfile.ZipFile(source) as copy, zipfile.ZipFile(path) as original:
        return "ok", [m for m in original.namelist() if copy.read(m) != original.read(m)]


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("seeds")
    rows = [HTX_HEADER] + [htx_row(i, f"64{i:08d}") for i in range(1, 1501)]
    return {
        "long": write_xlsx(folder / "long.xlsx", {"ThongTin": info_rows(), "HTX": rows}),
        "short": write_xlsx(folder / "short.xlsx", {"ThongTin": info_rows(), "HTX": rows[:40]}),
    }


def _edited(seed: Path, target: Path, edit) -> Path:
    with zipfile.ZipFile(seed) as archive:
        items = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in items:
            archive.writestr(name, edit(data) if name == SHEET else data)
    return target


def _append(xml: str):
    return lambda data: data.replace(b"</sheetData>", xml.encode() + b"</sheetData>")


def _blank_at(row: int, column: str = "A") -> str:
    return f'<row r="{row}"><c r="{column}{row}" t="inlineStr"><is><t> </t></is></c></row>'


CASES = {
    "plain long sheet": ("long", lambda d: d),
    "stray blank cell at the last row": ("long", _append(_blank_at(1_048_576))),
    "stray blank cell past the allowance": ("long", _append(_blank_at(2_600))),
    "stray blank cell within the allowance": ("long", _append(_blank_at(2_400))),
    "stray blank cell under a short table": ("short", _append(_blank_at(1_048_576))),
    "real value far below": ("long", _append('<row r="5000"><c r="B5000"><v>7</v></c></row>')),
    "last row text only": (
        "long",
        _append('<row r="2450"><c r="A2450" t="inlineStr"><is><t>Ký</t></is></c></row>'),
    ),
    "a cell placed past its row": (
        "long",
        _append('<row r="1502"><c r="A1048576" t="inlineStr"><is><t> </t></is></c></row>'),
    ),
    "a comment hiding a cell": (
        "long",
        lambda d: _append(_blank_at(1_048_576))(d).replace(
            b"</sheetData>", b'<!-- <c r="A9"><v>1</v></c> --></sheetData>'
        ),
    ),
    "rows without numbers": ("long", lambda d: re.sub(rb'<row r="\d+"', b"<row", d)),
    "single-quoted references": (
        "long",
        lambda d: re.sub(rb'r="([A-Z]*\d+)"', rb"r='\1'", _append(_blank_at(1_048_576))(d)),
    ),
    "spaced references": (
        "long",
        lambda d: re.sub(rb' r="([A-Z]*\d+)"', rb' r = "\1"', _append(_blank_at(1_048_576))(d)),
    ),
    "leading zeros": ("long", _append(_blank_at(3000).replace('"3000"', '"0003000"'))),
    "a row numbered like a cell": (
        "long",
        _append('<row r="A3000"><c r="A3000"><v>1</v></c></row>'),
    ),
    "a shared string index that is no number": (
        "long",
        _append('<row r="1600"><c r="A1600" t="s"><v>x</v></c></row>'),
    ),
    "broken XML in a long sheet": ("long", _append('<row r="3000"><c r="A3000"><v>1</c></row>')),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_guard_decides_as_the_whole_parse(tmp_path, seeds, case):
    seed, edit = CASES[case]
    path = _edited(seeds[seed], tmp_path / "case.xlsx", edit)
    assert _guard_way(path, tmp_path / "work") == _long_way(path)


def test_too_many_rows_is_found_with_or_without_the_shortcut(tmp_path, seeds):
    assert _guard_way(seeds["long"], tmp_path / "w", max_rows=1200) == ("too_many_rows", [])
    read = read_workbook(seeds["long"], Limits(rows=1200))
    assert read.rejection is not None
    assert read.rejection.rule == "too_many_rows"


def test_a_plain_long_sheet_is_not_parsed_whole(tmp_path, seeds, monkeypatch):
    def parsed(*args):
        raise AssertionError("the whole parse ran")

    monkeypatch.setattr(guard, "_extent", parsed)
    assert guard.bounded(seeds["long"], tmp_path / "work") == seeds["long"]


def test_a_broken_long_sheet_is_unreadable_with_the_parse_reason(tmp_path, seeds):
    path = _edited(seeds["long"], tmp_path / "broken.xlsx", CASES["broken XML in a long sheet"][1])
    read = read_workbook(path)
    assert read.rejection is not None
    assert read.rejection.rule == "file_unreadable"
    assert "mismatched tag" in read.rejection.message


def test_one_package_serves_every_check(tmp_path, seeds, monkeypatch):
    opened = []
    real = zipfile.ZipFile.__init__

    def counting(self, file, *args, **kwargs):
        if args[:1] in ((), ("r",)) and kwargs.get("mode", "r") == "r":
            opened.append(file)
        real(self, file, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "__init__", counting)
    read = read_workbook(seeds["long"])
    assert read.rejection is None
    assert len(read.sheets["htx"].rows) == 1500
    assert opened == [seeds["long"]]


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"", "empty"),
        (b"PK\x03\x04 not really a zip", "corrupt"),
        (guard.OLE_MAGIC + b"\0" * 100, "xls"),
        (guard.OLE_MAGIC + "EncryptedPackage".encode("utf-16-le"), "encrypted"),
        (b"name,value\n", "unknown"),
    ],
)
def test_sniff_tells_what_a_file_is(tmp_path, content, kind):
    path = tmp_path / "f.xlsx"
    path.write_bytes(content)
    assert guard.sniff(path) == kind
    with guard.Package(path) as package:
        assert package.kind == kind
        assert package.archive is None
