"""The error workbook: the rows an import could not take, as they were, plus 错误说明.

The clerk fixes the rows in Excel/WPS and imports the file again. The header is the
original one (so the same columns are found again); 身份证号 and 电话 columns are
text (“@”), so what is typed there stays as typed; user text is always written as
text, never as a formula, whatever it starts with.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from db.imports.common import ImportPlan, save_workbook
from db.imports.reader import Cell, SheetData, display_text

ERROR_COLUMN = "错误说明"
TEXT_FIELDS = ("id_number", "phone")
_ERROR_FILL = PatternFill("solid", fgColor="FFF2CC")


def error_workbook_path(source: str | Path) -> Path:
    """Where the error workbook of ``source`` goes: ``<name>_错误行.xlsx`` beside it."""
    source = Path(source)
    return source.with_name(f"{source.stem}_错误行.xlsx")


def _put(ws, row: int, col: int, value: Cell, text: bool = False) -> None:  # noqa: ANN001
    cell = ws.cell(row=row, column=col)
    if text:
        cell.number_format = "@"
    if value == "" or value is None:
        return
    if text or isinstance(value, str | dt.time | dt.timedelta):
        value = ILLEGAL_CHARACTERS_RE.sub("", display_text(value))
        cell.value = value
        cell.data_type = "s"  # never a formula, even when it starts with “=”
    elif isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        cell.value = int(value)
    elif isinstance(value, dt.datetime):
        cell.value = value
        cell.number_format = "yyyy-mm-dd hh:mm" if (value.hour or value.minute) else "yyyy-mm-dd"
    elif isinstance(value, dt.date):
        cell.value = value
        cell.number_format = "yyyy-mm-dd"
    else:
        cell.value = value


def write_error_workbook(plan: ImportPlan, sheet: SheetData, path: str | Path) -> Path:
    """Write the invalid rows of ``plan`` (read from ``sheet``) to ``path``.

    Returns:
        The path written.

    Raises:
        KepuError: the file cannot be written (e.g. it is open in Excel).
    """
    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = "错误行"
    width = sheet.width
    text_cols = {plan.mapping[k] for k in TEXT_FIELDS if k in plan.mapping}
    header = sheet.rows[plan.header_row - 1] if 0 < plan.header_row <= len(sheet.rows) else []
    bold = Font(bold=True)
    for col in range(width):
        value = header[col] if col < len(header) else ""
        _put(ws, 1, col + 1, display_text(value) if value != "" else "")
        ws.cell(row=1, column=col + 1).font = bold
    err_col = width + 1
    ws.cell(row=1, column=err_col, value=ERROR_COLUMN).font = bold
    ws.cell(row=1, column=err_col).fill = _ERROR_FILL
    out_row = 1
    for result in plan.invalid_rows:
        out_row += 1
        source = sheet.rows[result.excel_row - 1]
        for col in range(width):
            value = source[col] if col < len(source) else ""
            _put(ws, out_row, col + 1, value, text=col in text_cols)
        note = ws.cell(row=out_row, column=err_col,
                       value=f"（原第{result.excel_row}行）{result.explain()}")
        note.data_type = "s"
        note.fill = _ERROR_FILL
        note.alignment = Alignment(wrap_text=True, vertical="top")
    for col in text_cols:  # also the empty cells below, for rows the clerk adds
        letter = get_column_letter(col + 1)
        ws.column_dimensions[letter].number_format = "@"
        for r in range(out_row + 1, out_row + 21):
            ws.cell(row=r, column=col + 1).number_format = "@"
    for col in range(width):
        texts = [display_text(header[col]) if col < len(header) else ""]
        texts += [display_text(sheet.rows[r.excel_row - 1][col]) for r in plan.invalid_rows[:200]
                  if col < len(sheet.rows[r.excel_row - 1])]
        longest = max((len(t) for t in texts), default=4)
        ws.column_dimensions[get_column_letter(col + 1)].width = min(max(8, longest * 2 + 2), 40)
    ws.column_dimensions[get_column_letter(err_col)].width = 60
    ws.freeze_panes = "A2"
    return save_workbook(wb, path, "错误行文件")
