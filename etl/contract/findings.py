"""Findings: one problem in one place of a workbook, with a message a district clerk understands.

Structural problems (the file cannot be opened, a sheet or column is missing, the unit is
unknown) are found while reading; rule failures are found by the GX suites. Both end up as
`Finding` records and, in the warehouse, as rows of `audit.rejected_row`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

ERROR, WARNING, INFO = "error", "warning", "info"
# A severity as people read it, Vietnamese first: the feedback's `Loi`, the quality report,
# the alerts.
SEVERITY_LABELS = {
    ERROR: "Lỗi / error",
    WARNING: "Cảnh báo / warning",
    INFO: "Thông tin / info",
}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    message: str  # Vietnamese first, then English: "… / …"
    sheet: str | None = None
    excel_row: int | None = None
    column_name: str | None = None
    value: str | None = None
    cell: str | None = None  # the Excel address, such as `P37`, where one is known

    def as_row(self, file_id: str) -> dict:
        return {"file_id": file_id, **asdict(self)}


def cell_address(column_index: int, excel_row: int) -> str:
    """`P37` from a 0-based column index and an Excel row number."""
    letters, n = "", column_index + 1
    while n:
        n, remainder = divmod(n - 1, 26)
        letters = chr(65 + remainder) + letters
    return f"{letters}{excel_row}"


def bilingual(vi: str, en: str) -> str:
    return f"{vi} / {en}"


_SHEET_FIELDS = re.compile(r"\{(sheet|htx_sheet)\}")


def sheets_named(message: str, sheet: str, htx_sheet: str) -> str:
    """A suite's message with `{sheet}` (the sheet of the failing row) and `{htx_sheet}` (the
    file's HTX sheet) filled in: by the titles the workbook gives them (`Hỗ trợ`, `Biểu 01`),
    the tabs the clerk looks for, not the contract's names."""
    titles = {"sheet": sheet, "htx_sheet": htx_sheet}
    return _SHEET_FIELDS.sub(lambda m: titles[m[1]], message)


def halves(message: str) -> tuple[str, str]:
    """The Vietnamese and the English half of a `bilingual` message. A value quoted in both
    halves may hold " / " itself, once in each: the join is the middle one."""
    parts = message.split(" / ")
    if len(parts) < 2:
        return message, message
    middle = len(parts) // 2
    return " / ".join(parts[:middle]), " / ".join(parts[middle:])


def and_more(message: str, more: int) -> str:
    """A file's reason when it has several problems: the first's message and how many more
    its findings list, in each language, as a rule-errors reason counts the rules left out."""
    if not more:
        return message
    vi, en = halves(message)
    problems = "problem" if more == 1 else "problems"
    return bilingual(f"{vi} (+{more} lỗi khác)", f"{en} (+{more} more {problems})")


# File-level reasons, each (Vietnamese, English) with str.format fields. A `{detail}` made of
# an exception's text (the XML parser's, the zip library's, in English) or naming a part of
# the zip stays out of the Vietnamese: the clerk reads what to do, the data team the detail.
REASONS: dict[str, tuple[str, str]] = {
    "file_unreadable": (
        "Không mở được tệp như một bảng tính: tệp bị hỏng hoặc chứa nội dung không được "
        "phép. Hãy mở tệp bằng Excel, lưu lại dạng .xlsx rồi gửi lại.",
        "The file cannot be opened as a spreadsheet: it is damaged or holds content that is "
        "not allowed. Save it again from Excel as .xlsx and resubmit (detail: {detail}).",
    ),
    "internal_error": (
        "Chương trình gặp lỗi khi đọc tệp này; đây không phải lỗi của tệp. Bộ phận dữ liệu "
        "của tỉnh đã được báo và sẽ đọc lại tệp sau khi sửa, không cần gửi lại.",
        "The program failed while reading this file; the file is not at fault. The "
        "province's data team has been told and will read it again once fixed: no need to "
        "resubmit (detail: {detail}).",
    ),
    "file_empty": (
        "Tệp rỗng (0 byte). Hãy gửi lại tệp báo cáo.",
        "The file is empty (0 bytes). Send the report file again.",
    ),
    "file_encrypted": (
        "Tệp được đặt mật khẩu nên không đọc được. Hãy gỡ mật khẩu rồi gửi lại: trong Excel, "
        "File > Info > Protect Workbook; trong LibreOffice, lưu lại (File > Save As) bỏ chọn "
        "'Save with password'; tệp nén có mật khẩu thì giải nén rồi gửi tệp bảng tính.",
        "The file is password-protected and cannot be read. Remove the password and "
        "resubmit: in Excel, File > Info > Protect Workbook; in LibreOffice, save it again "
        "(File > Save As) without 'Save with password'; a zip with a password: unzip it and "
        "send the spreadsheet.",
    ),
    "not_a_spreadsheet": (
        "Tệp không phải là bảng tính Excel hay LibreOffice (.xlsx, .xls, .ods). Hãy gửi "
        "đúng tệp báo cáo.",
        "The file is not an Excel or LibreOffice spreadsheet (.xlsx, .xls, .ods). Send the "
        "report workbook itself.",
    ),
    "file_is_archive": (
        "Tệp là một tệp nén (zip, rar, 7z){inside_vi}, không phải bảng tính. Hãy giải nén "
        "rồi gửi riêng từng tệp báo cáo (.xlsx), mỗi đơn vị và mỗi năm một tệp.",
        "The file is a compressed archive (zip, rar, 7z){inside_en}, not a spreadsheet. "
        "Unpack it and send each report workbook (.xlsx) on its own, one per unit and year.",
    ),
    "saved_in_other_format": (
        "Tệp không phải là bảng tính Excel mà là {what_vi}, dù tên tệp là bảng tính (phần "
        "mềm xuất báo cáo thường lưu như vậy). Hãy mở tệp bằng Excel, chọn File > Save As "
        "(Lưu thành), chọn kiểu Excel Workbook (*.xlsx), rồi gửi lại tệp .xlsx đó.",
        "The file is not an Excel workbook but {what_en}, though its name says spreadsheet "
        "(reporting software often saves it so). Open it in Excel, choose File > Save As, "
        "pick Excel Workbook (*.xlsx), and resubmit that .xlsx file.",
    ),
    "file_too_large": (
        "Tệp quá lớn ({detail}). Một báo cáo huyện chỉ vài trăm dòng: hãy xoá các trang, "
        "hình ảnh không cần thiết rồi gửi lại.",
        "The file is too large ({detail}). A district report has a few hundred rows: remove "
        "unneeded sheets and pictures and resubmit.",
    ),
    "file_too_expanded": (
        "Tệp giải nén ra quá lớn; có thể là tệp hỏng hoặc độc hại. Hãy lưu lại báo cáo từ "
        "mẫu của tỉnh rồi gửi lại.",
        "The file unpacks to far too much data ({detail}); it may be damaged or hostile. "
        "Save the report again from the province's template and resubmit.",
    ),
    "too_many_rows": (
        "Trang '{sheet}' có quá nhiều dòng dữ liệu ({count} dòng, giới hạn {limit} dòng). "
        "Hãy xoá các dòng thừa rồi gửi lại.",
        "Sheet '{sheet}' holds far too many rows ({count}, the limit is {limit}). Delete the "
        "stray rows and resubmit.",
    ),
    "too_many_cells": (
        "Trang '{sheet}' trải ra quá nhiều ô ({count} dòng × {columns} cột, giới hạn {limit} "
        "ô): có giá trị nằm ở ô rất xa bên phải hoặc bên dưới bảng. Hãy xoá các ô thừa ở xa "
        "rồi gửi lại.",
        "Sheet '{sheet}' spans far too many cells ({count} rows × {columns} columns, the "
        "limit is {limit} cells): a value sits in a cell far to the right of or below the "
        "table. Delete the stray far cells and resubmit.",
    ),
    "text_too_long": (
        "Tệp có một ô chứa văn bản quá dài (hơn 1 triệu ký tự), điều Excel không cho phép "
        "(tối đa 32.767 ký tự một ô): có thể là tệp hỏng hoặc độc hại. Hãy lưu lại báo cáo "
        "từ mẫu của tỉnh rồi gửi lại.",
        "A cell of the file holds a text far too long (over a million characters), which "
        "Excel does not allow (at most 32,767 characters a cell): the file may be damaged or "
        "hostile. Save the report again from the province's template and resubmit.",
    ),
    "cell_too_long": (
        "Ô có {chars} ký tự, vượt giới hạn {limit} ký tự của Excel.",
        "The cell holds {chars} characters, past Excel's limit of {limit}.",
    ),
    "unit_mismatch": (
        "Đơn vị '{unit}' ghi trong ô không hợp với cột '{column}' (ví dụ: tiền ghi 'tấn', "
        "số người ghi 'triệu'). Hãy ghi số theo đơn vị của cột, hoặc bỏ đơn vị khỏi ô.",
        "The unit '{unit}' written in the cell does not fit the column '{column}' (for "
        "example tonnes in an amount of money, millions in a count of people). Write the "
        "number in the column's unit, or leave the unit out of the cell.",
    ),
    "header_unit_mismatch": (
        "Tiêu đề cột '{column}' ghi đơn vị '{unit}', không phải đơn vị của cột ({fits_vi}): "
        "số liệu của cột không đọc được. Hãy đổi số liệu sang đơn vị của cột và sửa tiêu "
        "đề, rồi gửi lại.",
        "The header of column '{column}' gives the unit '{unit}', which is not the column's "
        "({fits_en}): the column's figures cannot be read. Convert them to the column's "
        "unit, correct the header and resubmit.",
    ),
    "formula_without_value": (
        "Ô '{column}' chứa công thức nhưng không có giá trị đã tính (tệp do một chương trình "
        "tạo ra và chưa được lưu bằng Excel), nên đọc ra là trống. Hãy mở tệp bằng Excel "
        "hoặc LibreOffice, lưu lại rồi gửi lại; hoặc ghi số thay cho công thức.",
        "The cell '{column}' holds a formula with no computed value (a program wrote the "
        "file and no spreadsheet saved it), so it reads as empty. Open the file in Excel or "
        "LibreOffice, save it and resubmit, or write the number instead of the formula.",
    ),
    "formula_error": (
        "Ô '{column}' hiện lỗi công thức {error} (công thức tham chiếu sai hoặc không tìm "
        "thấy giá trị), nên không có giá trị. Hãy sửa công thức hoặc ghi giá trị thay cho "
        "công thức rồi gửi lại.",
        "The cell '{column}' shows the formula error {error} (a broken reference, or a "
        "lookup that found nothing), so it holds no value. Correct the formula, or write the "
        "value instead of it, and resubmit.",
    ),
    "sheet_missing": (
        "Thiếu trang tính bắt buộc '{sheet}'. Hãy thêm trang '{sheet}' như mẫu báo cáo (hoặc "
        "đổi tên trang đang chứa bảng này thành '{sheet}') rồi gửi lại.",
        "The required sheet '{sheet}' is missing. Add the sheet '{sheet}' as in the report "
        "template (or rename the sheet that holds this table to '{sheet}') and resubmit.",
    ),
    "header_not_found": (
        "Không tìm thấy dòng tiêu đề của trang '{sheet}'. Thiếu các cột bắt buộc: {columns}. "
        "Hãy ghi tên các cột này ở dòng tiêu đề, như mẫu báo cáo, rồi gửi lại.",
        "No header row found in sheet '{sheet}'. Missing required columns: {columns}. Write "
        "these columns' names in the header row, as in the report template, and resubmit.",
    ),
    "column_missing": (
        "Trang '{sheet}' thiếu các cột bắt buộc: {columns}. Hãy thêm các cột này vào dòng "
        "tiêu đề, ghi tên cột như mẫu báo cáo, rồi gửi lại.",
        "Sheet '{sheet}' lacks the required columns: {columns}. Add these columns to the "
        "header row, named as in the report template, and resubmit.",
    ),
    "sheet_found_by_header": (
        "Không có trang tên 'HTX': danh sách HTX được đọc từ trang '{sheet}', vì dòng tiêu "
        "đề của trang này có đủ các cột bắt buộc.",
        "No sheet is named 'HTX': the cooperative list was read from sheet '{sheet}', "
        "whose header holds every required column.",
    ),
    # Rule 17 beside a hidden sheet named `HTX` (or an alias), not read: named, as the clerk
    # does not see it, and renaming another sheet `HTX` is refused while it keeps the name.
    "sheet_found_by_header_beside_hidden": (
        "Trang '{hidden}' bị ẩn trong Excel nên không được đọc: danh sách HTX được đọc từ "
        "trang '{sheet}', một trang không ẩn có dòng tiêu đề đủ các cột bắt buộc.",
        "Sheet '{hidden}' is hidden in Excel, so it was not read: the cooperative list was "
        "read from sheet '{sheet}', a visible sheet whose header holds every required column.",
    ),
    "sheet_found_hidden": (
        "Không có trang không ẩn nào chứa danh sách HTX: danh sách HTX được đọc từ trang "
        "'{sheet}', một trang bị ẩn trong Excel. Nếu đó là bản cũ, hãy để danh sách cần nộp "
        "ở một trang không ẩn tên 'HTX' rồi gửi lại.",
        "No visible sheet holds the cooperative list: it was read from sheet '{sheet}', which "
        "is hidden in Excel. If it is an old copy, put the list to submit on a visible sheet "
        "named 'HTX' and resubmit.",
    ),
    "sheet_read_hidden": (
        "Trang '{sheet}' bị ẩn trong Excel nhưng vẫn được đọc làm trang '{template}' của mẫu, "
        "vì không có trang không ẩn nào tên '{template}'. Nếu đó là bản cũ, hãy xoá trang "
        "này, để số liệu cần nộp ở một trang không ẩn tên '{template}' rồi gửi lại.",
        "Sheet '{sheet}' is hidden in Excel but was read as the template's '{template}' "
        "sheet, since no visible sheet is named '{template}'. If it is an old copy, delete "
        "it, put the figures to submit on a visible sheet named '{template}' and resubmit.",
    ),
    "column_like_missing": (
        "Cột '{column}' không có trong mẫu nên không được đọc, và tệp không có cột "
        "'{template}' của mẫu: số liệu của cột này bị bỏ trống. Nếu đây là cột "
        "'{template}', hãy đổi tiêu đề thành '{template}' rồi gửi lại.",
        "Column '{column}' is not in the template, so it was not read, and the file has no "
        "'{template}' column of the template: that column's figures are empty. If it is "
        "'{template}', rename the header to '{template}' and resubmit.",
    ),
    "column_repeated": (
        "Cột {letter} '{column}' trùng với cột {read_letter} '{read}' ('{template}' của "
        "mẫu): chỉ cột {read_letter} được đọc. Cột {letter} ghi số liệu khác ở dòng {rows}, "
        "không được đọc. Hãy giữ một cột '{template}' với số liệu đúng rồi gửi lại.",
        "Column {letter} '{column}' repeats column {read_letter} '{read}' (the template's "
        "'{template}'): only column {read_letter} was read. Column {letter} holds other "
        "figures in rows {rows}, which were not read. Keep one '{template}' column with the "
        "right figures and resubmit.",
    ),
    "column_repeated_same": (
        "Cột {letter} '{column}' trùng với cột {read_letter} '{read}' ('{template}' của "
        "mẫu) và không ghi số liệu nào khác: đã bỏ qua.",
        "Column {letter} '{column}' repeats column {read_letter} '{read}' (the template's "
        "'{template}') and holds no other figure: ignored.",
    ),
    "line_without_code": (
        "Dòng {row} của trang '{sheet}' có số thứ tự {number} nhưng không có mã số HTX hợp lệ "
        "và không có số liệu nào: dòng này không được đọc. Nếu đây là một dòng của bảng, hãy "
        "ghi mã số HTX (như trong trang HTX) rồi gửi lại.",
        "Row {row} of sheet '{sheet}' has the number {number} but no valid cooperative code "
        "and no figure: it was not read. If it is a line of the table, write the "
        "cooperative's code (as in the HTX sheet) and resubmit.",
    ),
    "money_unit_shown": (
        "Các ô của cột '{column}' hiển thị số tiền bằng '{unit}' (định dạng số của ô; {count} "
        "ô, từ ô {cell}) và cột không ghi đơn vị: các ô này được đọc theo đơn vị '{unit}'. "
        "Nếu đúng, hãy ghi đơn vị {place_vi} (ví dụ '{example}'); nếu số liệu tính bằng "
        "triệu đồng, hãy bỏ định dạng '{unit}' của các ô; rồi gửi lại.",
        "The cells of column '{column}' show their amounts in '{unit}' (the cells' number "
        "format; {count} cell(s), from {cell}) and the column names no unit: they were read "
        "in '{unit}'. If that is right, write the unit {place_en} (for example "
        "'{example}'); if the figures are in million VND, remove the cells' '{unit}' format; then "
        "resubmit.",
    ),
    "amount_merged": (
        "Ô {cell} của cột '{column}' được gộp qua các dòng {rows}: {count} dòng được đọc, mỗi "
        "dòng với số tiền {amount} triệu đồng của ô, tức {count} lần số tiền. Nếu đây là một "
        "khoản chung, hãy ghi số tiền ở một dòng và để trống các dòng kia (hoặc ghi số tiền "
        "của từng dòng), rồi gửi lại.",
        "Cell {cell} of column '{column}' is merged over rows {rows}: {count} rows were read, "
        "each with its amount of {amount} million VND, {count} times the amount in all. If "
        "it is one amount for them all, write it on one row and leave the others empty (or "
        "write each row's own amount), then resubmit.",
    ),
    "money_format_scaled": (
        "Định dạng số của {count} ô cột '{column}' (từ ô {cell}) hiển thị số đã ghi chia cho "
        "{divisor}: ô {cell} ghi {stored}, được đọc là {shown}. Các ô được đọc theo số hiển thị, "
        "tính bằng {unit_vi}. Hãy ghi số liệu đúng như số hiển thị và bỏ định dạng đó (hoặc "
        "sửa đơn vị của cột nếu số đã ghi mới đúng), rồi gửi lại.",
        "The number format of {count} cell(s) of column '{column}' (from {cell}) shows the "
        "stored figure divided by {divisor}: {cell} holds {stored}, read as {shown}. The "
        "cells were read as shown, in {unit_en}. Type the figures as shown and remove that "
        "format (or correct the column's unit if the stored figures are right), then "
        "resubmit.",
    ),
    "money_unit_default_differs": (
        "Cột '{column}' không ghi đơn vị nên được tính bằng triệu đồng, đơn vị của mẫu, nhưng "
        "{count} ô (từ ô {cell}) hiển thị số tiền bằng '{unit}' (định dạng số của ô): các ô được "
        "đọc theo triệu đồng, vì đọc theo '{unit}' thì không số tiền nào của tệp đến một triệu "
        "đồng. Nếu số liệu tính bằng '{unit}', hãy ghi đơn vị vào tiêu đề cột (ví dụ "
        "'{example}'); nếu không, hãy bỏ định dạng '{unit}' của các ô; rồi gửi lại.",
        "Column '{column}' names no unit, so it is in million VND, the template's unit, but "
        "{count} cell(s) (from {cell}) show their amounts in '{unit}' (the cells' number "
        "format): they were read in million VND, as read in '{unit}' no amount of the file "
        "comes to one million VND. If the figures are in '{unit}', write the unit in the "
        "column's header (for example '{example}'); if not, remove the cells' '{unit}' "
        "format; then resubmit.",
    ),
    "money_unit_format_differs": (
        "Cột '{column}' tính bằng '{own}', nhưng {count} ô (từ ô {cell}) hiển thị số tiền bằng "
        "'{unit}' (định dạng số của ô): các ô được đọc theo đơn vị '{own}' của cột. Nếu số "
        "liệu tính bằng '{unit}', hãy sửa đơn vị {place_vi}; nếu không, hãy bỏ định dạng "
        "'{unit}' của các ô; rồi gửi lại.",
        "Column '{column}' is in '{own}', but {count} cell(s) (from {cell}) show their amounts "
        "in '{unit}' (the cells' number format): they were read in the column's '{own}'. If "
        "the figures are in '{unit}', correct the unit {place_en}; if not, remove the cells' "
        "'{unit}' format; then resubmit.",
    ),
    "column_split": (
        "Cột '{column}' được chia thành các cột con ({subs}) mà không rõ cột nào là số liệu "
        "{year_vi}: {read_vi}. Hãy để một cột '{template}' với số liệu {year_vi} rồi gửi lại.",
        "Column '{column}' is split into sub-columns ({subs}) and it is not clear which holds "
        "the figures of {year_en}: {read_en}. Keep one '{template}' column with the figures "
        "of {year_en} and resubmit.",
    ),
    "row_hidden": (
        "{rows_vi} của trang '{sheet}' bị ẩn trong Excel nhưng vẫn được đọc như mọi dòng "
        "khác.{advice_vi}",
        "{rows_en} of sheet '{sheet}' {are_en} hidden in Excel, but read like any other "
        "row.{advice_en}",
    ),
    "sheet_without_table": (
        "Trang '{sheet}' chỉ có tiêu đề, không có bảng: coi như không gửi trang này.",
        "Sheet '{sheet}' holds only a title, no table: read as left out.",
    ),
    "htx_sheet_empty": (
        "Trang '{sheet}' không liệt kê HTX nào (chỉ có dòng tiêu đề): tệp được nạp như một "
        "báo cáo không có HTX. Nếu tệp này gửi lại báo cáo năm này của đơn vị, nó thay thế "
        "báo cáo trước và các HTX trong báo cáo đó không còn được tính. Hãy điền danh sách "
        "HTX rồi gửi lại; nếu đơn vị không có HTX nào, không cần làm gì.",
        "Sheet '{sheet}' lists no cooperative (only its header): the file is loaded as a "
        "report of no cooperative. If it resubmits the unit's report of the year, it replaces "
        "the earlier report, whose cooperatives are then no longer counted. Fill in the "
        "cooperative list and resubmit; if the unit has no cooperative, nothing needs doing.",
    ),
    "sheet_not_read": (
        "Trang '{sheet}' có bảng giống trang '{template}' của mẫu nhưng không được đọc (chỉ "
        "trang tên '{template}' được đọc): các dòng của trang này không được nhập. Nếu các "
        "dòng này thuộc báo cáo, hãy chuyển chúng sang trang '{template}' rồi gửi lại.",
        "Sheet '{sheet}' holds a table like the template's '{template}' sheet but was not "
        "read (only the sheet named '{template}' is): its rows were not loaded. If they "
        "belong to the report, move them to the '{template}' sheet and resubmit.",
    ),
    "sheet_ambiguous": (
        "Không có trang tên 'HTX' và nhiều trang cùng giống danh sách HTX: {sheets}. Hãy "
        "đổi tên trang danh sách cần nộp thành 'HTX' (hoặc xoá trang thừa) rồi gửi lại.",
        "No sheet is named 'HTX' and several sheets look like the cooperative list: "
        "{sheets}. Rename the list to submit 'HTX' (or delete the other) and resubmit.",
    ),
    "sheet_ambiguous_beside_hidden": (
        "Trang '{hidden}' bị ẩn trong Excel, và nhiều trang không ẩn cùng giống danh sách "
        "HTX: {sheets}. Nếu trang ẩn là bản cũ, hãy xoá trang ẩn '{hidden}', rồi đổi tên "
        "trang danh sách cần nộp thành 'HTX' (hoặc xoá trang thừa) và gửi lại.",
        "Sheet '{hidden}' is hidden in Excel, and several visible sheets look like the "
        "cooperative list: {sheets}. If the hidden one is an old copy, delete the hidden "
        "sheet '{hidden}', then rename the list to submit 'HTX' (or delete the other) and "
        "resubmit.",
    ),
    "sheet_named_twice": (
        "Tệp có nhiều trang cùng là trang '{name}': {sheets}. Không biết trang nào là báo "
        "cáo: hãy giữ một trang '{name}' (xoá hoặc đổi tên trang kia) rồi gửi lại.",
        "Several sheets of the file are the '{name}' sheet: {sheets}. Which one is the "
        "report is unknown: keep one '{name}' sheet (delete or rename the other) and "
        "resubmit.",
    ),
    "header_repeated_differs": (
        "Dòng tiêu đề lặp lại ở dòng {row} có các cột khác với dòng tiêu đề đầu tiên (dòng "
        "{first}): {detail}. Hãy sắp các cột của mọi trang giống nhau, hoặc xoá dòng tiêu đề "
        "lặp lại, rồi gửi lại.",
        "The header repeated on row {row} has other columns than the first header (row "
        "{first}): {detail}. Put every page's columns in the same order, or delete the "
        "repeated header, and resubmit.",
    ),
    "header_repeated_unit_differs": (
        "Dòng tiêu đề lặp lại ở dòng {row} ghi đơn vị khác với dòng tiêu đề đầu tiên (dòng "
        "{first}): {detail}. Không biết số liệu dưới nó tính theo đơn vị nào: hãy ghi số "
        "liệu của mọi trang theo cùng một đơn vị (hoặc xoá dòng tiêu đề lặp lại sau khi đổi "
        "số liệu), rồi gửi lại.",
        "The header repeated on row {row} gives other units than the first header (row "
        "{first}): {detail}. Which unit the figures under it are in is unclear: write every "
        "page's figures in one unit (or delete the repeated header once they are), and "
        "resubmit.",
    ),
    "coop_on_two_rows": (
        "Dòng {row} tiếp tục HTX của dòng trên: ô '{column}' được gộp qua các dòng {rows}, "
        "nên các dòng này là một HTX ghi trên nhiều dòng. Mỗi HTX ghi trên một dòng: hãy bỏ "
        "gộp ô, chuyển số liệu của dòng {row} lên dòng của HTX (hoặc ghi mã riêng nếu là HTX "
        "khác) rồi gửi lại.",
        "Row {row} goes on with the cooperative of the row above: its '{column}' cell is "
        "merged over rows {rows}, so they are one cooperative written on several rows. A "
        "cooperative takes one row: unmerge the cells, move row {row}'s figures to the "
        "cooperative's row (or give it its own code if it is another cooperative) and "
        "resubmit.",
    ),
    "column_without_header": (
        "Cột {column} không có tiêu đề nhưng có số liệu ở {rows} dòng (dòng đầu tiên: "
        "{first}): cột này không được đọc. Nếu đó là số liệu của một cột trong mẫu, hãy ghi "
        "tiêu đề cho cột rồi gửi lại.",
        "Column {column} has no header but holds values on {rows} rows (the first: row "
        "{first}): it was not read. If they belong to a column of the template, give the "
        "column its header and resubmit.",
    ),
    "total_without_label": (
        "Dòng {row} không có mã, tên hay chữ 'Tổng cộng', nhưng mỗi số của nó là tổng (hoặc "
        "trung bình) của cột đó ở các dòng phía trên: đã coi là dòng tổng cộng, không đọc "
        "như một dòng số liệu.",
        "Row {row} has no code, name or 'Tổng cộng' label, but each of its figures is the sum "
        "(or the average) of its column over the rows above: it was taken for a total row, "
        "not read as a row of data.",
    ),
    "value_from_section": (
        "Ô '{column}' để trống: đã lấy '{value}' từ dòng tiêu đề nhóm ở dòng {title_row}.",
        "The '{column}' cell is empty: '{value}' was taken from the group title on row "
        "{title_row}.",
    ),
    # `value`: the code, the unit name or the file name that named no unit.
    "unit_unknown": (
        "Không xác định được đơn vị báo cáo từ '{value}'. Hãy ghi đúng 'Mã đơn vị' trong "
        "trang ThongTin, hoặc đặt tên tệp theo mã đơn vị và năm, ví dụ 663_2023.xlsx.",
        "The reporting unit cannot be identified from '{value}'. Fill in 'Mã đơn vị' in the "
        "ThongTin sheet, or name the file by the unit code and year, for example "
        "663_2023.xlsx.",
    ),
    "unit_not_in_year": (
        "{value} không còn là đơn vị báo cáo trong năm {year}: cấp huyện đã bỏ từ "
        "01/07/2025. Báo cáo từ năm 2026 do tỉnh hoặc xã lập.",
        "{value} is no reporting unit in {year}: the district level was abolished on "
        "01/07/2025. Reports from 2026 come from the province or a commune.",
    ),
    "unit_unknown_in_year": (
        "Không xác định được đơn vị báo cáo: '{value}' không phải là đơn vị báo cáo của "
        "năm {year}. Năm {year} được báo cáo theo {who} (danh mục đơn vị hành chính). Hãy "
        "ghi đúng 'Mã đơn vị' trong trang ThongTin.",
        "The reporting unit cannot be identified: '{value}' is no reporting unit of report "
        "year {year}. Reports for {year} come from {who_en} (reference list). Fill in "
        "'Mã đơn vị' in the ThongTin sheet.",
    ),
    "commune_not_in_year": (
        "{units} là xã/phường: xã/phường chỉ lập báo cáo riêng từ năm {first}. Báo cáo năm "
        "{year} do {province} lập ({also}). Hãy ghi mã "
        "tỉnh trong 'Mã đơn vị', hoặc kiểm tra lại 'Năm báo cáo'.",
        "{units} is a commune: communes send their own report from report year {first} on. "
        "The {year} report comes from {province} ({also_en}). Put the province code in "
        "'Mã đơn vị', or check 'Năm báo cáo'.",
    ),
    # The unit the file name gives (the file has no `Mã đơn vị`): the name is to change,
    # or ThongTin to be added. The rule is the one without `_from_file_name`.
    "unit_unknown_in_year_from_file_name": (
        "Không xác định được đơn vị báo cáo: tên tệp ghi '{value}', không phải là đơn vị báo "
        "cáo của năm {year}. Năm {year} được báo cáo theo {who} (danh mục đơn vị hành "
        "chính). Hãy đặt tên tệp theo mã đơn vị và năm, ví dụ <mã đơn vị>_{year}.xlsx, hoặc "
        "ghi đúng 'Mã đơn vị' trong trang ThongTin (thêm trang này nếu tệp chưa có).",
        "The reporting unit cannot be identified: the file name gives '{value}', no "
        "reporting unit of report year {year}. Reports for {year} come from {who_en} "
        "(reference list). Name the file by the unit code and the year, for example "
        "<unit code>_{year}.xlsx, or fill in 'Mã đơn vị' in the ThongTin sheet (add the "
        "sheet if the file has none).",
    ),
    "commune_not_in_year_from_file_name": (
        "{units}, ghi trong tên tệp, là xã/phường: xã/phường chỉ lập báo cáo riêng từ năm "
        "{first}. Báo cáo năm {year} do {province} lập ({also}). Hãy đặt tên tệp theo mã "
        "tỉnh và năm, ví dụ <mã tỉnh>_{year}.xlsx, hoặc kiểm tra lại năm báo cáo.",
        "{units}, named in the file name, is a commune: communes send their own report from "
        "report year {first} on. The {year} report comes from {province} ({also_en}). Name "
        "the file by the province code and the year, for example <province code>_{year}.xlsx, "
        "or check the report year.",
    ),
    "province_merged_from_file_name": (
        "{province} (mã {code}), ghi trong tên tệp, đã hợp nhất vào {new_province} từ 01/07/2025: "
        "báo cáo năm {year} do {new_province} lập, mã {new_code}. Hãy đặt tên tệp theo mã "
        "{new_code}, ví dụ {new_code}_{year}.xlsx, hoặc ghi mã {new_code} trong 'Mã đơn vị' "
        "của trang ThongTin (thêm trang này nếu tệp chưa có).",
        "{province} ({code}), named in the file name, became part of {new_province} on 01/07/2025: "
        "the {year} report comes from {new_province}, code {new_code}. Name the file by the "
        "code {new_code}, for example {new_code}_{year}.xlsx, or put {new_code} in 'Mã đơn vị' "
        "of the ThongTin sheet (add the sheet if the file has none).",
    ),
    "province_merged": (
        "{province} (mã {code}) đã hợp nhất vào {new_province} từ 01/07/2025: báo cáo năm "
        "{year} do {new_province} lập, mã {new_code}. Hãy ghi mã {new_code} trong 'Mã đơn vị' "
        "và '{new_province}' trong 'Tên đơn vị'.",
        "{province} ({code}) became part of {new_province} on 01/07/2025: the {year} report "
        "comes from {new_province}, code {new_code}. Put {new_code} in 'Mã đơn vị' and "
        "'{new_province}' in 'Tên đơn vị'.",
    ),
    # A former commune's code or name in a report from 2026: the commune(s) in force it went
    # to (the crosswalk), whole or split.
    "commune_merged": (
        "{former} (mã {code}) là xã/phường cũ, nay thuộc {new_name} (mã {new_code}, "
        "{new_province}): báo cáo năm {year} ghi mã xã/phường có hiệu lực từ 01/07/2025. "
        "Hãy ghi mã {new_code} trong 'Mã đơn vị' và '{new_name}' trong 'Tên đơn vị'.",
        "{former} ({code}) is a former commune, now part of {new_name} (code {new_code}, "
        "{new_province}): reports for {year} give the code of a commune in force since "
        "01/07/2025. Put {new_code} in 'Mã đơn vị' and '{new_name}' in 'Tên đơn vị'.",
    ),
    "commune_merged_from_file_name": (
        "{former} (mã {code}), ghi trong tên tệp, là xã/phường cũ, nay thuộc {new_name} (mã "
        "{new_code}, {new_province}): báo cáo năm {year} ghi mã xã/phường có hiệu lực từ "
        "01/07/2025. Hãy đặt tên tệp theo mã {new_code}, ví dụ {new_code}_{year}.xlsx, hoặc "
        "ghi mã {new_code} trong 'Mã đơn vị' của trang ThongTin (thêm trang này nếu tệp chưa "
        "có).",
        "{former} ({code}), named in the file name, is a former commune, now part of "
        "{new_name} (code {new_code}, {new_province}): reports for {year} give the code of a "
        "commune in force since 01/07/2025. Name the file by the code {new_code}, for example "
        "{new_code}_{year}.xlsx, or put {new_code} in 'Mã đơn vị' of the ThongTin sheet (add "
        "the sheet if the file has none).",
    ),
    "commune_split": (
        "{former} (mã {code}) là xã/phường cũ, từ 01/07/2025 đã chia, từng phần thuộc: "
        "{units}. Báo cáo năm {year} ghi mã xã/phường có hiệu lực từ 01/07/2025: hãy ghi "
        "trong 'Mã đơn vị' mã của xã/phường lập báo cáo này.",
        "{former} ({code}) is a former commune, split on 01/07/2025, its parts now in: "
        "{units}. Reports for {year} give the code of a commune in force since 01/07/2025: "
        "put the code of the commune that makes this report in 'Mã đơn vị'.",
    ),
    "commune_split_from_file_name": (
        "{former} (mã {code}), ghi trong tên tệp, là xã/phường cũ, từ 01/07/2025 đã chia, "
        "từng phần thuộc: {units}. Báo cáo năm {year} ghi mã xã/phường có hiệu lực từ "
        "01/07/2025: hãy đặt tên tệp theo mã của xã/phường lập báo cáo này, ví dụ <mã "
        "xã>_{year}.xlsx, hoặc ghi mã đó trong 'Mã đơn vị' của trang ThongTin (thêm trang này "
        "nếu tệp chưa có).",
        "{former} ({code}), named in the file name, is a former commune, split on 01/07/2025, "
        "its parts now in: {units}. Reports for {year} give the code of a commune in force "
        "since 01/07/2025: name the file by the code of the commune that makes this report, "
        "for example <commune code>_{year}.xlsx, or put that code in 'Mã đơn vị' of the "
        "ThongTin sheet (add the sheet if the file has none).",
    ),
    "commune_unmatched": (
        "{former} (mã {code}) là xã/phường cũ, trước 01/07/2025; phương án sắp xếp không "
        "nêu rõ nó thuộc xã/phường nào, có thể nay thuộc: {units}. Báo cáo năm {year} ghi "
        "mã xã/phường có hiệu lực từ 01/07/2025: hãy ghi trong 'Mã đơn vị' mã của xã/phường "
        "lập báo cáo này.",
        "{former} ({code}) is a former commune, of before 01/07/2025; the merger text does "
        "not say clearly which commune it went to, it may now be part of: {units}. Reports "
        "for {year} give the code of a commune in force since 01/07/2025: put the code of "
        "the commune that makes this report in 'Mã đơn vị'.",
    ),
    "commune_unmatched_from_file_name": (
        "{former} (mã {code}), ghi trong tên tệp, là xã/phường cũ, trước 01/07/2025; phương "
        "án sắp xếp không nêu rõ nó thuộc xã/phường nào, có thể nay thuộc: {units}. Báo cáo "
        "năm {year} ghi mã xã/phường có hiệu lực từ 01/07/2025: hãy đặt tên tệp theo mã của "
        "xã/phường lập báo cáo này, ví dụ <mã xã>_{year}.xlsx, hoặc ghi mã đó trong 'Mã đơn "
        "vị' của trang ThongTin (thêm trang này nếu tệp chưa có).",
        "{former} ({code}), named in the file name, is a former commune, of before "
        "01/07/2025; the merger text does not say clearly which commune it went to, it may "
        "now be part of: {units}. Reports for {year} give the code of a commune in force "
        "since 01/07/2025: name the file by the code of the commune that makes this report, "
        "for example <commune code>_{year}.xlsx, or put that code in 'Mã đơn vị' of the "
        "ThongTin sheet (add the sheet if the file has none).",
    ),
    "commune_former": (
        "{former} (mã {code}) là xã/phường cũ, trước 01/07/2025. Báo cáo năm {year} ghi mã "
        "xã/phường có hiệu lực từ 01/07/2025: hãy ghi trong 'Mã đơn vị' mã của xã/phường "
        "lập báo cáo này.",
        "{former} ({code}) is a former commune, of before 01/07/2025. Reports for {year} "
        "give the code of a commune in force since 01/07/2025: put the code of the commune "
        "that makes this report in 'Mã đơn vị'.",
    ),
    "commune_former_from_file_name": (
        "{former} (mã {code}), ghi trong tên tệp, là xã/phường cũ, trước 01/07/2025. Báo "
        "cáo năm {year} ghi mã xã/phường có hiệu lực từ 01/07/2025: hãy đặt tên tệp theo mã "
        "của xã/phường lập báo cáo này, ví dụ <mã xã>_{year}.xlsx, hoặc ghi mã đó trong 'Mã "
        "đơn vị' của trang ThongTin (thêm trang này nếu tệp chưa có).",
        "{former} ({code}), named in the file name, is a former commune, of before "
        "01/07/2025. Reports for {year} give the code of a commune in force since "
        "01/07/2025: name the file by the code of the commune that makes this report, for "
        "example <commune code>_{year}.xlsx, or put that code in 'Mã đơn vị' of the "
        "ThongTin sheet (add the sheet if the file has none).",
    ),
    "unit_name_mismatch": (
        "'Mã đơn vị' {code} là {unit}, nhưng 'Tên đơn vị' ghi '{value}' là đơn vị khác: "
        "{named}. Hãy sửa cho mã và tên cùng chỉ một đơn vị rồi gửi lại.",
        "'Mã đơn vị' {code} is {unit}, but 'Tên đơn vị' '{value}' names another unit: "
        "{named}. Make the code and the name name the same unit and resubmit.",
    ),
    "unit_name_mismatch_in_code": (
        "'Mã đơn vị' ghi '{value}': mã {code} là {unit}, nhưng tên ghi kèm là đơn vị khác: "
        "{named}. Hãy ghi mã của đơn vị báo cáo (chỉ mã, hoặc mã và đúng tên của nó) rồi "
        "gửi lại.",
        "'Mã đơn vị' reads '{value}': the code {code} is {unit}, but the name beside it "
        "names another unit: {named}. Write the reporting unit's code (alone, or with its "
        "own name) and resubmit.",
    ),
    "unit_ambiguous": (
        "'{value}' chỉ nhiều đơn vị của năm {year}: {units}. Không xác định được đơn vị báo "
        "cáo. Hãy ghi 'Mã đơn vị' trong trang ThongTin, hoặc đặt tên tệp theo mã, ví dụ "
        "<mã đơn vị>_{year}.xlsx.",
        "'{value}' fits several units of {year}: {units}. The reporting unit cannot be "
        "identified. Fill in 'Mã đơn vị' in the ThongTin sheet, or name the file by the "
        "code, for example <unit code>_{year}.xlsx.",
    ),
    "file_name_differs": (
        "Tên tệp '{file}' ghi {named}, nhưng trang ThongTin ghi {said}: tệp được nạp theo "
        "trang ThongTin ({said}) và thay báo cáo đã có của đơn vị và năm đó. Nếu trang "
        "ThongTin sai, hãy sửa rồi gửi lại; nếu chỉ tên tệp sai, không cần làm gì.",
        "The file name '{file}' says {named}, but the ThongTin sheet says {said}: the file "
        "is loaded as the ThongTin sheet says ({said}) and replaces the report that unit and "
        "year had. If the ThongTin sheet is wrong, correct it and resubmit; if only the file "
        "name is, nothing needs doing.",
    ),
    "prepared_on_unreadable": (
        "Không đọc được 'Ngày lập' '{value}' là một ngày. Tệp vẫn được nạp, nhưng khi đơn vị "
        "gửi lại báo cáo năm này, tệp đến sau sẽ được tính. Hãy ghi ngày dạng 15/01/2024.",
        "'Ngày lập' '{value}' cannot be read as a date. The file is loaded, but if the unit "
        "resubmits this year's report, the file that arrives later counts. Write the date as "
        "15/01/2024.",
    ),
    "year_invalid": (
        "Không xác định được năm báo cáo hợp lệ (2021–2030), giá trị '{value}'. Hãy ghi "
        "đúng 'Năm báo cáo' trong trang ThongTin.",
        "No valid reporting year (2021–2030) found, value '{value}'. Fill in 'Năm báo cáo' "
        "in the ThongTin sheet.",
    ),
    "year_invalid_from_file_name": (
        "Không xác định được năm báo cáo hợp lệ (2021–2030): tệp không ghi 'Năm báo cáo' nên "
        "năm được lấy từ tên tệp, giá trị '{value}'. Hãy đặt tên tệp theo mã đơn vị và năm "
        "báo cáo, ví dụ 663_2023.xlsx, hoặc ghi 'Năm báo cáo' trong trang ThongTin (thêm "
        "trang này nếu tệp chưa có).",
        "No valid reporting year (2021–2030) found: the file gives no 'Năm báo cáo', so the "
        "year was taken from the file name, value '{value}'. Name the file by the unit code "
        "and the report year, for example 663_2023.xlsx, or fill in 'Năm báo cáo' in the "
        "ThongTin sheet (add the sheet if the file has none).",
    ),
    "rule_errors": (
        "Tệp bị từ chối: {count} ô vi phạm quy tắc bắt buộc: {rules_vi}. Sửa các ô được "
        "liệt kê rồi gửi lại cả tệp.",
        "File rejected: {cells_en} mandatory rules: {rules_en}. Correct the listed "
        "cells and resubmit the whole file.",
    ),
}


def reason(rule: str, **fields: object) -> str:
    vi, en = REASONS[rule]
    return bilingual(vi.format(**fields), en.format(**fields))
