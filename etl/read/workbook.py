"""What the reader makes of one workbook: its ThongTin values and each layout sheet's typed
rows, with the findings and the rejection (`reader.read_workbook` fills it; `identify` and
`frames` read it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from etl.contract.findings import Finding
from etl.contract.layout import Sheet


@dataclass
class SheetRows:
    sheet: Sheet
    sheet_name: str  # as written in the workbook
    rows: list[dict]  # typed values by column key, plus `excel_row` and `*__unparsed`
    rows_skipped: int = 0  # empty, total and signature rows
    columns: dict[str, int] = field(default_factory=dict)  # column key -> 0-based index


@dataclass
class WorkbookRead:
    info: dict[str, object] = field(default_factory=dict)  # ThongTin values by key
    info_rows: dict[str, int] = field(default_factory=dict)  # their Excel rows, by key
    # Their 0-based columns, by key: B (1), or the cell after a label merged over B.
    info_columns: dict[str, int] = field(default_factory=dict)
    info_sheet: str | None = None  # the ThongTin sheet's name as the file spells it
    sheets: dict[str, SheetRows] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    rejection: Finding | None = None
    # Every structural problem of a workbook read through (a missing sheet, each sheet's
    # missing columns), `rejection` the first: the clerk hears of them all at once. Empty
    # when the file could not be read through, and `rejection` alone says why.
    problems: list[Finding] = field(default_factory=list)

    rows_scanned: int = 0  # rows taken from the file, blank ones included: the memory bound

    @property
    def rows_read(self) -> int:
        return sum(len(s.rows) for s in self.sheets.values())
