"""Shared pieces of the Excel writers: styles, text rules, fast rows, page setup, safe saving.

The detail sheets of a year can hold 20 000 activities and 500 000 attendances, so
rows are streamed into openpyxl's write-only worksheets by :class:`RowSink`. It
writes each row's XML directly into openpyxl's stream (styles registered once,
no cell objects), which is several times faster than a cell per value; where that
stream is not the standard-library one (openpyxl running on lxml) it falls back to
openpyxl's own cell writer. Both produce the same file content.

User text is always stored as a literal string (``inlineStr``), never as a
formula, whatever it starts with.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import re
import secrets
import shutil
import zipfile
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from itertools import repeat
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

from openpyxl import LXML, Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.writer.excel import ExcelWriter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties

from db.concurrency import InBackground, quick_handoffs
from db.errors import KepuError

Progress = Callable[[int, str], None]
RAW_ROWS = True  # write rows as XML text where openpyxl's stream allows (see RowSink)
CellValue = str | int | float | dt.date | None
T = TypeVar("T")

# --- the palette ----------------------------------------------------------------------
FONT_NAME = "宋体"  # Excel/WPS substitute a Song face on machines without it
GB2312 = 134  # font charset: tells Excel/WPS the face is a Chinese one


def font(size: float = 10, bold: bool = False) -> Font:
    """A 宋体 font (one object per size/weight; styles are registered by value)."""
    return Font(name=FONT_NAME, size=size, bold=bold, charset=GB2312)


THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
NO_BORDER = Border()
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
RIGHT = Alignment(horizontal="right", vertical="center")
LEFT_NOWRAP = Alignment(horizontal="left", vertical="center")
CENTER_NOWRAP = Alignment(horizontal="center", vertical="center")
HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
SECTION_FILL = PatternFill("solid", fgColor="F2F2F2")
NO_FILL = PatternFill()

TEXT_FORMAT = "@"  # 身份证号, phones: text even when retyped
DATE_FORMAT = "yyyy-mm-dd"
PAPER_A4 = 9
FOOTER = "第 &P 页 共 &N 页"
MAX_CELL_TEXT = 32_767  # Excel's limit for one cell
PADDING = 1.5  # column width units beside the text
LINE_HEIGHT = 13.5  # points per line of 10-point 宋体
MAX_ROW_HEIGHT = 409  # Excel's limit

# Control characters XML 1.0 cannot hold, lone surrogates, and CR (stored as LF).
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\r\ud800-\udfff\ufffe\uffff]")


# Text that needs more than copying: bad characters, XML specials, edge whitespace.
_NEEDS_WORK = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\r&<>\ud800-\udfff\ufffe\uffff]|^\s|\s$")
# the same over texts joined with "\n" (which the class above leaves out), per line
_NEEDS_WORK_LINES = re.compile(_NEEDS_WORK.pattern, re.MULTILINE)


def clean_text(value: str) -> str:
    """User text as a cell can hold it: no control characters, CRLF → LF, length capped."""
    if _BAD_CHARS.search(value):
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        value = _BAD_CHARS.sub("", value)
    if len(value) > MAX_CELL_TEXT:
        value = value[: MAX_CELL_TEXT - 1] + "…"
    return value


def text_width(text: str) -> int:
    """Display width of text in character columns: CJK (3 bytes in UTF-8) count double."""
    if "\n" in text:
        return max(text_width(line) for line in text.split("\n"))
    return (len(text.encode("utf-8", "surrogatepass")) + len(text)) // 2


def fit_width(values: Iterable[object], header: str, cap: float, minimum: float = 4) -> float:
    """A column width for the widest value (CJK counted double), capped.

    The header may wrap onto two lines, so a long header over short numbers
    does not widen its column.
    """
    widest = max((text_width(str(v)) for v in values if v not in (None, "")), default=0)
    head = 2 * math.ceil(text_width(header) / 4)  # half the header, on a CJK character boundary
    return float(min(cap, max(minimum, widest + PADDING, head + PADDING)))


def line_count(text: str, width: float) -> int:
    """Lines a wrapped text takes in a column of ``width`` (CJK characters break anywhere)."""
    per_line = max(width - PADDING, 1)
    return sum(max(1, math.ceil(text_width(part) / per_line)) for part in text.split("\n"))


class RowHeights:
    """Row heights for wrapped text, so every program prints whole rows.

    Excel, WPS and LibreOffice do not all grow a row for wrapped text when
    opening a file, so rows that wrap get an explicit height.
    """

    def __init__(self, widths: Sequence[float], wrapped: Sequence[int],
                 line: float = LINE_HEIGHT, extra: float = 2) -> None:
        # (column, width, room, cache of line counts: names and places repeat a lot)
        self._cols: list[tuple[int, float, float, dict[str, int]]] = [
            (i, widths[i], widths[i] - PADDING, {}) for i in wrapped]
        self._line = line
        self._extra = extra

    def __call__(self, values: Sequence[CellValue]) -> float | None:
        """The height of a row of ``values`` (None: one line, the default height)."""
        return self.of_columns([(v,) for v in values])[0]

    def of_columns(self, columns: Sequence[Sequence[CellValue]]) -> list[float | None]:
        """The height of each row of rows given a column at a time (``columns[c][i]``;
        None: one line, the default height); each distinct text is measured once.
        """
        rows = len(columns[0]) if columns else 0
        if not rows:
            return []
        counts = []
        for i, width, room, cache in self._cols:
            values = columns[i]
            # only texts that may wrap are measured (len * 2 bounds the display width)
            wrapping = {v: cache[v] if v in cache else cache.setdefault(v, line_count(v, width))
                        for v in set(values)
                        if type(v) is str and (len(v) * 2 > room or "\n" in v)}
            if wrapping:
                counts.append(map(wrapping.get, values, repeat(1)))
        if not counts:
            return [None] * rows
        line, extra = self._line, self._extra
        return [None if n == 1 else min(MAX_ROW_HEIGHT, n * line + extra)
                for n in (map(max, zip(*counts)) if len(counts) > 1 else counts[0])]


def format_date_cn(day: dt.date) -> str:
    """2025年10月5日."""
    return f"{day.year}年{day.month}月{day.day}日"


def use_default_font(wb: Workbook, size: float = 11) -> None:
    """Make 宋体 the workbook's Normal font (empty cells, row heights, width units)."""
    base = font(size)
    # openpyxl keeps the default font as the first entry of the font list and
    # in the Normal named style; both are replaced before any style is registered.
    wb._fonts = IndexedList([base])
    wb._named_styles["Normal"].font = base


class StyleBook:
    """Registers cell styles in a workbook once and hands out their ids."""

    def __init__(self, wb: Workbook) -> None:
        self._wb = wb
        self._ids: dict[tuple[Any, ...], int] = {}
        self._dummy_parent = SimpleNamespace(parent=wb)

    def get(self, *, fnt: Font, border: Border = BORDER, align: Alignment = LEFT,
            fmt: str = "General", fill: PatternFill = NO_FILL) -> int:
        """The id of a style (registered on first use)."""
        key = (fnt, border, align, fmt, fill)
        sid = self._ids.get(key)
        if sid is None:
            cell = Cell(self._dummy_parent)
            cell.font = fnt
            cell.border = border
            cell.alignment = align
            cell.number_format = fmt
            cell.fill = fill
            sid = self._ids[key] = self._wb._cell_styles.add(cell._style)
        return sid


class _Cell(Cell):  # type: ignore[misc]
    """A reusable cell for openpyxl's own writer, its style id fixed in advance."""

    __slots__ = ("style_id", "has_style")


def _excel_date(day: dt.date) -> int | float:
    """Serial day number in the 1900 date system (the value Excel stores)."""
    if isinstance(day, dt.datetime):
        delta = day - dt.datetime(1899, 12, 30)
        serial: int | float = delta.days + delta.seconds / 86400
    else:
        serial = day.toordinal() - 693594  # 1899-12-30
    return serial - 1 if 0 < serial <= 60 else serial  # Excel's 1900 leap-year bug


def _number(value: object) -> int | float:
    """A date, datetime or Decimal as the number a cell stores."""
    if isinstance(value, dt.date):
        return _excel_date(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise TypeError(f"cannot write {type(value).__name__} to a cell")


def _escape(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


class RowSink:
    """Streams rows of (value, style id) into a write-only worksheet.

    Set column widths, freeze panes and anything else written before the rows
    first: they are written when the sink is created. Values are str, int,
    float, Decimal, date or None (an empty cell that keeps its border).

    Where openpyxl's stream allows it (no lxml), rows are written as XML text:
    the first row goes through openpyxl's row generator, which hands over the
    sheet's XML stream; later rows go straight to that stream. Each column's
    distinct values are turned into XML once, as the piece between two row
    numbers: a cell's XML after its ``r="B`` and the next cell's ``<c r="C``. A
    row is then one ``str.join`` of those pieces with its number as the
    separator — no string is built per cell, and a 60 000-row roster written
    with :meth:`append_columns` takes a fraction of a cell-by-cell writer's time.
    """

    def __init__(self, ws: Any, *, raw: bool | None = None) -> None:
        self.ws = ws
        self.rows = 0
        self._letters = [get_column_letter(i) for i in range(1, 703)]  # A … ZZ
        ws._values_to_row = _pass_through  # rows arrive already prepared
        ws._get_writer()
        self._openpyxl_write_row = ws._writer.write_row
        ws._writer.write_row = self._write_row
        self._raw = raw
        self._pieces_for: Sequence[int] | None = None  # the styles the pieces below are for
        self._piece_parts: list[tuple[str, str]] = []
        self._pieces: list[dict[Any, str]] = []  # per column: value → its XML piece
        self._heads: dict[float | None, str] = {}
        self._first_open = ""
        self._cell = _Cell(ws)
        self._cell.has_style = True
        self._write: Callable[[str], Any] | None = None  # the sheet's XML stream, once known

    def append(self, values: Sequence[CellValue], styles: Sequence[int],
               height: float | None = None) -> None:
        """Write one row; ``styles`` holds one style id per value."""
        self.rows += 1
        if self._write is not None:
            self._write(self._rows_xml(self.rows, [(v,) for v in values], styles, [height]))
        else:
            self.ws.append((values, styles, height))

    def append_columns(self, columns: Sequence[Sequence[CellValue]], styles: Sequence[int],
                       heights: Sequence[float | None]) -> None:
        """Write ``len(heights)`` rows of the same ``styles`` (a detail sheet's body),
        given a column at a time: ``columns[c][i]`` is the value of row i, column c.

        The XML is what :meth:`append` writes row by row, but for a number written
        as another equal one (1 for 1.0).
        """
        if self._write is None or not heights:  # openpyxl's own writer, or nothing to do
            for row, height in zip(zip(*columns, strict=True), heights, strict=True):
                self.append(row, styles, height)
            return
        first = self.rows + 1
        self.rows += len(heights)
        self._write(self._rows_xml(first, columns, styles, heights))

    def _rows_xml(self, first: int, columns: Sequence[Sequence[CellValue]],
                  styles: Sequence[int], heights: Sequence[float | None]) -> str:
        """The XML of ``len(heights)`` rows given by ``columns``, numbered from ``first``."""
        if styles is not self._pieces_for:
            self._pieces_for = styles
            opening = [f'<c r="{self._letters[i]}' for i in range(len(styles))]
            closing = [*opening[1:], "</row>"]
            self._piece_parts = [(f'" s="{s}"', closing[i]) for i, s in enumerate(styles)]
            self._pieces = [{} for _ in styles]
            self._heads = {None: f'">{opening[0]}'}  # height → what follows the row number
            self._first_open = opening[0]
        pieces = []
        for values, known, (attrs, after) in zip(columns, self._pieces, self._piece_parts,
                                                 strict=True):
            new = set(values).difference(known)
            if new:
                known.update(_pieces(new, attrs, after))
            pieces.append(map(known.__getitem__, values))
        heads = self._heads
        for height in set(heights).difference(heads):
            heads[height] = f'" ht="{height}" customHeight="1">{self._first_open}'
        return "".join([
            str(number).join(parts) for number, parts in zip(
                range(first, first + len(heights)),
                zip(repeat('<row r="'), map(heads.__getitem__, heights), *pieces))])

    def _write_row(self, xf: Any, row: tuple[Sequence[CellValue], Sequence[int], float | None],
                   row_idx: int) -> None:
        values, styles, height = row
        if self._raw is None:
            self._raw = RAW_ROWS and not LXML and callable(getattr(xf, "_file", None))
        if self._raw:
            xf._file(self._rows_xml(row_idx, [(v,) for v in values], styles, [height]))
            if row_idx == self.rows:  # numbering agrees: later rows may skip openpyxl
                self._write = xf._file
        else:
            if height:
                self.ws.row_dimensions[row_idx].height = height
            self._openpyxl_write_row(xf, self._cells(row_idx, values, styles), row_idx)

    def _cells(self, row_idx: int, values: Sequence[CellValue],
               styles: Sequence[int]) -> Iterable[Cell]:
        cell = self._cell
        cell.row = row_idx
        for i, v in enumerate(values, 1):
            cell.column = i
            cell.style_id = styles[i - 1]
            if isinstance(v, str) and v:
                cell._value = clean_text(v)
                cell.data_type = "s"  # literal text, even "=1+1"
            elif v is None or v == "":
                cell._value = None
                cell.data_type = "n"
            elif isinstance(v, Decimal):
                cell._value = int(v) if v == v.to_integral_value() else float(v)
                cell.data_type = "n"
            elif isinstance(v, dt.date):
                cell._value = v
                cell.data_type = "d"
            else:
                cell._value = v
                cell.data_type = "n"
            yield cell


def _any_tail(value: Any, attrs: str) -> str:
    """A cell's XML after its row number: ``" s="3" t="inlineStr">…</c>``."""
    kind = type(value)
    if kind is int or kind is float:
        return f'{attrs} t="n"><v>{value!r}</v></c>'
    if value is None:
        return f"{attrs}/>"
    if isinstance(value, str):
        if not value:
            return f"{attrs}/>"
        space = ""
        if _NEEDS_WORK.search(value) or len(value) > MAX_CELL_TEXT:
            value = clean_text(value)
            if value and (value[0].isspace() or value[-1].isspace()):
                space = ' xml:space="preserve"'
            value = _escape(value)
        return f'{attrs} t="inlineStr"><is><t{space}>{value}</t></is></c>'
    return f'{attrs} t="n"><v>{_number(value)!r}</v></c>'


def _pieces(values: set[Any], attrs: str, after: str) -> dict[Any, str]:
    """What _any_tail gives for each of ``values``, followed by ``after``.

    Most texts of a column need no cleaning or escaping: that is checked for all of
    them with one search over the joined texts (multi-line: ``^\\s``/``\\s$`` then
    apply to each text; a text with a line break of its own is merely sent the
    careful way), and then they are formatted in one comprehension.
    """
    texts = [v for v in values if type(v) is str and v]
    numbers = [v for v in values if type(v) is int or type(v) is float]
    out: dict[Any, str] = {}
    if texts and not _NEEDS_WORK_LINES.search("\n".join(texts)) \
            and max(map(len, texts)) <= MAX_CELL_TEXT:
        out = {v: f'{attrs} t="inlineStr"><is><t>{v}</t></is></c>{after}' for v in texts}
    out.update({v: f'{attrs} t="n"><v>{v!r}</v></c>{after}' for v in numbers})
    for value in values:
        if value not in out:
            out[value] = _any_tail(value, attrs) + after
    return out


def _pass_through(row: Any, _row_idx: int) -> Any:
    return row


def discard_workbook(wb: Workbook) -> None:
    """Close and delete the temporary files of a write-only workbook that will not be saved."""
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        if writer is None:
            continue
        for gen in (getattr(ws, "_rows", None), getattr(writer, "xf", None)):
            with contextlib.suppress(Exception):
                if gen is not None:
                    gen.close()
        with contextlib.suppress(Exception):
            writer.cleanup()  # deletes the sheet's temporary file


def setup_page(ws: Any, *, title_rows: str, freeze: str, landscape: bool = True,
               page_header: str = "") -> None:
    """A4, fit to one page wide, repeated title rows, frozen header, page-number footer.

    Args:
        ws: the worksheet (before its first row is written).
        title_rows: rows printed on every page, e.g. "1:2".
        freeze: the top-left cell that scrolls, e.g. "A3".
        landscape: landscape (default) or portrait.
        page_header: printed at the top of every page but the first (the first
            page carries the title itself).

    """
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = PAPER_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages tall as needed
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins = PageMargins(left=0.3, right=0.3, top=0.6, bottom=0.6,
                                  header=0.3, footer=0.3)
    ws.print_title_rows = title_rows
    ws.freeze_panes = freeze
    ws.oddFooter.center.text = FOOTER
    ws.oddFooter.center.size = 9
    if page_header:
        ws.HeaderFooter.differentFirst = True
        ws.firstFooter.center.text = FOOTER
        ws.firstFooter.center.size = 9
        ws.oddHeader.center.text = page_header.replace("&", "&&")
        ws.oddHeader.center.size = 10


def set_widths(ws: Any, widths: Sequence[float]) -> None:
    """Set the widths of columns A, B, … (before the first row of a write-only sheet)."""
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width


def atomic_save(path: Path, write: Callable[[Path], None]) -> Path:
    """Run ``write(tmp)`` on a temporary file beside ``path`` and move it into place.

    A failure leaves neither a half-written file nor the temporary one; an
    existing file at ``path`` stays as it was.

    Raises:
        KepuError: the folder is missing or not writable, or the file is open in
            Excel/WPS (Windows refuses to replace it), or the disk is full.

    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise KepuError(f"无法写入“{path}”：文件夹“{folder}”不存在")
    if path.is_dir():
        raise KepuError(f"无法写入“{path}”：这是一个文件夹，请另选文件名")
    # Same folder (so the final move is atomic), hidden name, default permissions.
    tmp = folder / f".{path.stem}.{secrets.token_hex(4)}.part"
    try:
        tmp.open("xb").close()
    except PermissionError:
        raise KepuError(f"无法在“{folder}”中写入文件：没有写入权限，请换一个文件夹") from None
    except OSError as err:
        raise KepuError(f"无法写入“{path}”：{err.strerror or err}") from None
    try:
        write(tmp)
        os.replace(tmp, path)
    except PermissionError:
        _remove(tmp)
        raise KepuError(
            f"无法写入“{path}”：文件可能正在被 Excel/WPS 打开，请关闭后重试") from None
    except OSError as err:
        _remove(tmp)
        raise KepuError(f"无法写入“{path}”：{err.strerror or err}") from None
    except BaseException:
        _remove(tmp)
        raise
    return path


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def number_cell(value: Decimal | int | None, kind: str) -> tuple[CellValue, str]:
    """A figure as a cell value and number format: "-" (text) when not applicable.

    Counts are integers ("0"); money and 元/人 have two places ("0.00"); other
    decimals (学时, 小时) show the places they have ("0.0"), integral ones "0".
    """
    if value is None:
        return "-", "General"
    if kind in ("money", "per_capita"):
        return float(value), "0.00"
    if isinstance(value, int):
        return value, "0"
    exponent = value.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if not places:
        return int(value), "0"
    return float(value), "0." + "0" * places


def rate_cell(rate: Decimal | None) -> tuple[CellValue, str]:
    """完成率 as a fraction shown as a percentage with one decimal, "-" without a target."""
    if rate is None:
        return "-", "General"
    return float(rate), "0.0%"


class _Archive(zipfile.ZipFile):
    """A zip that copies files in (a write-only sheet's XML) in pieces of up to 64 MB.

    zipfile's own 8 kB pieces mean ~6 000 read/crc/deflate calls for a large month's
    ~50 MB roster sheet, each giving up and taking back the GIL: with a PDF being
    drawn on another thread meanwhile (save_workbook_while), every take-back waits
    for that thread, and the save took three times as long. A few large calls run
    almost entirely without the GIL; a year's sheet still goes in 64 MB pieces.
    """

    CHUNK = 64 << 20

    def write(self, filename: Any, arcname: str | None = None,  # type: ignore[override]
              compress_type: int | None = None, compresslevel: int | None = None) -> None:
        zinfo = zipfile.ZipInfo.from_file(filename, arcname)
        if zinfo.is_dir() or compress_type is not None or compresslevel is not None:
            super().write(filename, arcname, compress_type, compresslevel)
            return
        zinfo.compress_type = self.compression
        zinfo._compresslevel = self.compresslevel  # type: ignore[attr-defined]  # as write() does
        with open(filename, "rb") as src, self.open(zinfo, "w") as dest:
            shutil.copyfileobj(src, dest, self.CHUNK)


def save_workbook_while(wb: Workbook, path: Path, work: Callable[[], T]) -> T:
    """Save ``wb`` on a helper thread while ``work()`` runs on this one; returns its result.

    Saving is mostly deflate, which runs without the GIL (see :class:`_Archive`), so
    Python work such as drawing a PDF goes on meanwhile. The GIL changes hands often
    meanwhile (:func:`~db.concurrency.quick_handoffs`), or the save would wait for it
    longer than it deflates. Both have finished when this returns or raises; an error
    of ``work`` wins over one of the save.
    """
    with quick_handoffs(), InBackground(lambda: save_workbook(wb, path), "kepu-save") as saving:
        result = work()
        saving.result()  # the save's own error, if any
    return result


def save_workbook(wb: Workbook, path: Path, compresslevel: int = 1) -> None:
    """Save like ``wb.save`` but with fast deflate (level 1: files ~15% larger, 3× quicker)."""
    with _Archive(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True,
                  compresslevel=compresslevel) as archive:
        wb.properties.modified = dt.datetime.now(tz=dt.UTC).replace(tzinfo=None)
        ExcelWriter(wb, archive).save()
