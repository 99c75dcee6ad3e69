"""The quality report writes a file's page again only when what it shows changed or the
page is missing (`etl.outputs.quality_report`: stamps in `quality/.stamps.json`)."""

from __future__ import annotations

import logging

from etl.config import settings_under
from etl.outputs.quality_report import write_quality_report


def _workbook(settings, name: str, unit: str, first: int) -> None:
    from conftest import HTX_HEADER, htx_row, info_rows, write_xlsx

    rows = [HTX_HEADER] + [htx_row(i + 1, f"64000{first + i:05d}") for i in range(3)]
    write_xlsx(settings.landing_dir / name, {"ThongTin": info_rows(unit, 2023), "HTX": rows})


class _Lines(logging.Handler):
    """The quality report's lines on the pages it wrote."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "file page(s) written" in record.getMessage():
            self.lines.append(record.getMessage())


def test_pages_written_again_only_when_changed_or_missing(tmp_path):
    from conftest import run_steps

    settings = settings_under(tmp_path / "run")
    settings.landing_dir.mkdir(parents=True)
    _workbook(settings, "663_2023.xlsx", "663", 1)
    _workbook(settings, "664_2023.xlsx", "664", 11)
    run_steps(settings, "run-1")
    pages = sorted((settings.export_dir / "quality").glob("*.html"))
    assert len(pages) == 2
    before = {page: page.read_bytes() for page in pages}

    logger = logging.getLogger("etl.outputs.quality_report")
    lines = _Lines()
    logger.addHandler(lines)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        write_quality_report(settings)
        pages[0].unlink()
        write_quality_report(settings)
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)
    assert lines.lines == [
        "quality report: 0 of 2 file page(s) written",
        "quality report: 1 of 2 file page(s) written",  # the missing one
    ]
    assert {page: page.read_bytes() for page in pages} == before
