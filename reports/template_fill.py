"""Filling a county's own Excel form: ``{{act.count}}`` and friends become the period's values.

The template is read with openpyxl, every placeholder in every cell (and in the
page headers and footers) is checked first, and only when all are known is the
filled copy written, to a temporary file that replaces ``out`` when complete.
The template itself is never changed. Formulas are left as they are, so a
``=SUM(...)`` over filled cells works; Excel/WPS recalculate on opening.

openpyxl keeps cell formats, merged cells, column widths and row heights, print
settings, data validation, conditional formats, formulas, defined names,
comments and pictures; it drops shapes and text boxes and some newer Excel
extensions — those are reported as warnings in :class:`FillResult`.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.styles.numbers import is_date_format
from openpyxl.workbook.workbook import Workbook

from db.errors import KepuError
from reports import xlsx_style as xs
from reports.placeholders import (
    PLACEHOLDER_RE,
    BadPlaceholderError,
    Resolved,
    leftover_problem,
    resolve,
)
from reports.report_data import ReportData

Problem = tuple[str, str, str, str]  # (sheet, cell, placeholder, message)
TEMPLATE_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")
MAX_LISTED = 30
_HEADER_PARTS = (
    ("oddHeader", "页眉"), ("oddFooter", "页脚"), ("evenHeader", "偶数页页眉"),
    ("evenFooter", "偶数页页脚"), ("firstHeader", "首页页眉"), ("firstFooter", "首页页脚"),
)
_SIDES = (("left", "左"), ("center", "中"), ("right", "右"))


class PlaceholderError(KepuError):
    """Placeholders in a template that cannot be filled; nothing was written.

    Attributes:
        problems: (sheet, cell, placeholder, message) for every one of them.

    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = [f"工作表“{sheet}” {cell}：{text} —— {message}"
                 for sheet, cell, text, message in problems[:MAX_LISTED]]
        if len(problems) > MAX_LISTED:
            lines.append(f"……共 {len(problems)} 处")
        super().__init__(f"模板中有 {len(problems)} 处占位符无法填写，未生成文件：\n"
                         + "\n".join(lines))


@dataclass(frozen=True)
class FillResult:
    """What filling a template did."""

    path: Path
    cells: int  # cells (and header/footer parts) changed
    placeholders: int  # placeholders replaced
    names: tuple[str, ...] = ()  # the distinct placeholders used, as written
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass
class _Edit:
    cell: Cell
    value: Any
    number_format: str | None = None


def fill_template(data: ReportData, template: Path, out: Path) -> FillResult:
    """Write a copy of ``template`` with every placeholder replaced by its value.

    Args:
        data: the period's report data.
        template: the county's .xlsx form (unchanged).
        out: the filled copy to write.

    Returns:
        What was filled, and warnings about template content openpyxl cannot keep.

    Raises:
        PlaceholderError: unknown placeholders (all of them listed); nothing written.
        KepuError: the template cannot be read or the copy cannot be written.

    """
    template, out = Path(template), Path(out)
    if not template.is_file():
        raise KepuError(f"找不到模板文件“{template}”")
    if template.suffix.lower() not in TEMPLATE_SUFFIXES:
        raise KepuError(f"模板“{template.name}”不是 .xlsx 文件；.xls 或 .et 文件请先在 "
                        "Excel/WPS 中“另存为” Excel 工作簿（*.xlsx）")
    if out.exists() and out.resolve() == template.resolve():
        raise KepuError("填好的报表不能覆盖模板本身，请另选文件名")
    wb, notes = _load(template, macros=out.suffix.lower() == ".xlsm")

    edits: list[_Edit] = []
    problems: list[Problem] = []
    used: dict[str, None] = {}
    count = changed = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if cell.data_type == "f" or not isinstance(value, str | CellRichText):
                    continue
                text = str(value)
                if "{" not in text and "}" not in text and "｛" not in text:
                    continue
                edit, found = _plan_cell(data, ws.title, cell, value, text, problems)
                count += found
                used.update(dict.fromkeys(m.strip() for m in PLACEHOLDER_RE.findall(text)))
                if edit is not None:
                    edits.append(edit)
        found, parts = _plan_headers(data, ws, problems, used)
        count += found
        changed += parts
    if problems:
        raise PlaceholderError(problems)

    for edit in edits:
        _apply(edit)
    if edits:
        wb.calculation.fullCalcOnLoad = True  # formulas over filled cells show new totals
    if out.suffix.lower() in (".xlsx", ".xlsm"):
        wb.template = False
    xs.atomic_save(out, wb.save)
    return FillResult(out, len(edits) + changed, count, tuple(used), tuple(notes))


def _load(template: Path, *, macros: bool) -> tuple[Workbook, list[str]]:
    notes = _package_notes(template)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            wb = load_workbook(template, rich_text=True, keep_vba=macros, keep_links=True)
        except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as err:
            raise KepuError(f"无法读取模板“{template.name}”：文件已损坏，或不是 Excel 2007 "
                            f"及以上版本的 .xlsx 工作簿（{type(err).__name__}）") from None
    for w in caught:
        notes.append(f"模板中有本程序无法保留的内容，填好的文件中将缺失：{w.message}")
    return wb, notes


def _package_notes(template: Path) -> list[str]:
    """Warnings about drawing content openpyxl drops (shapes, text boxes)."""
    notes: list[str] = []
    try:
        with zipfile.ZipFile(template) as z:
            for name in z.namelist():
                if name.startswith("xl/drawings/") and name.endswith(".xml"):
                    xml = z.read(name).decode("utf-8", "replace")
                    if "<xdr:sp>" in xml or "<xdr:sp " in xml:
                        notes.append("模板中的图形、文本框不会保留在填好的文件中")
                        if "{{" in xml:
                            notes.append("图形、文本框中的占位符不会被替换，请改写在单元格中")
                        break
    except (zipfile.BadZipFile, OSError):
        pass  # load_workbook reports it
    return notes


def _resolve_all(data: ReportData, sheet: str, where: str, text: str,
                 problems: list[Problem]) -> dict[str, Resolved] | None:
    """Every placeholder of ``text`` resolved, or None after recording the problems."""
    found: dict[str, Resolved] = {}
    ok = True
    for inner in PLACEHOLDER_RE.findall(text):
        try:
            found[inner] = resolve(data, inner)
        except BadPlaceholderError as err:
            problems.append((sheet, where, f"{{{{{inner}}}}}", str(err)))
            ok = False
    leftover = leftover_problem(text)
    if leftover:
        problems.append((sheet, where, text if len(text) <= 60 else text[:57] + "…", leftover))
        ok = False
    return found if ok else None


def _plan_cell(data: ReportData, sheet: str, cell: Cell, value: str | CellRichText,
               text: str, problems: list[Problem]) -> tuple[_Edit | None, int]:
    found = _resolve_all(data, sheet, cell.coordinate, text, problems)
    if not found:
        return None, 0
    n = len(PLACEHOLDER_RE.findall(text))
    whole = PLACEHOLDER_RE.fullmatch(text.strip())
    if whole:  # alone in the cell: the value itself (a number stays a number)
        r = found[whole.group(1)]
        if r.date is not None and is_date_format(cell.number_format):
            return _Edit(cell, r.date), n
        general = cell.number_format == "General"
        return _Edit(cell, r.value, r.number_format if general else None), n

    def sub(s: str) -> str:
        return PLACEHOLDER_RE.sub(lambda m: found[m.group(1)].text, s)

    if isinstance(value, CellRichText):
        return _Edit(cell, _sub_rich(value, sub)), n
    return _Edit(cell, sub(value)), n


def _sub_rich(value: CellRichText, sub: Any) -> CellRichText | str:
    """Replace inside each run; flatten to plain text if a placeholder spans runs."""
    parts: list[str | TextBlock] = []
    for part in value:
        text = part.text if isinstance(part, TextBlock) else part
        if text.count("{{") != len(PLACEHOLDER_RE.findall(text)) or "}}" in PLACEHOLDER_RE.sub(
                "", text):
            return str(sub(str(value)))
        new = sub(text)
        parts.append(TextBlock(part.font, new) if isinstance(part, TextBlock) else new)
    return CellRichText(parts)


def _plan_headers(data: ReportData, ws: Any, problems: list[Problem],
                  used: dict[str, None]) -> tuple[int, int]:
    """Placeholders in page headers and footers (replaced as text, ``&`` escaped).

    Returns:
        (placeholders replaced, header/footer parts changed).

    """
    count = parts = 0
    for attr, label in _HEADER_PARTS:
        item = getattr(ws, attr)
        for side, side_label in _SIDES:
            part = getattr(item, side)
            text = part.text
            if not text or ("{" not in text and "}" not in text):
                continue
            found = _resolve_all(data, ws.title, f"{label}（{side_label}）", text, problems)
            if not found:
                continue
            used.update(dict.fromkeys(m.strip() for m in PLACEHOLDER_RE.findall(text)))
            count += len(PLACEHOLDER_RE.findall(text))
            parts += 1
            part.text = _sub_header(text, found)
    return count, parts


def _sub_header(text: str, found: dict[str, Resolved]) -> str:
    def value(m: re.Match[str]) -> str:
        return found[m.group(1)].text.replace("&", "&&")  # "&" starts a code in headers
    return PLACEHOLDER_RE.sub(value, text)


def _apply(edit: _Edit) -> None:
    cell = edit.cell
    value = edit.value
    if isinstance(value, str):
        value = xs.clean_text(value)
    cell.value = value
    if isinstance(value, str | CellRichText):
        cell.data_type = "s"  # replaced text is never a formula, whatever it starts with
    if edit.number_format:
        cell.number_format = edit.number_format
