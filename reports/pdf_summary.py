"""The printed summary of a period (科普工作情况汇总), A4 portrait, ready to stamp.

A rendering of :class:`~reports.report_data.ReportData`: every number comes
from ``data.figures`` (formatted by :mod:`reports.figures`) or from the
activity records; nothing is counted here. Sections:

title (第N次修订) · 填报单位/报表期/填报人… · 一、主要指标 (本期, 本年累计) ·
二、逐月活动情况 (次数 and 人次 by month) · 三、重点人群参与人次 (本年累计, 本期 in
brackets) · 四、目标完成情况 (年度目标, 本年累计, 完成率 bar, time-elapsed marker) ·
五、活动明细 (repeated header row) · signature/stamp block · "第 X 页 共 Y 页".

The shared machinery of both PDFs (result type, page furniture, numbered canvas,
atomic write) lives here too; :mod:`reports.pdf_evidence` uses it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from db.errors import KepuError
from db.exports import ActivityRecord
from reports import charts
from reports.figures import format_rate, format_value
from reports.pdf_fonts import (
    SANS,
    SONG,
    MissingChars,
    draw_string,
    markup,
    needs_fallback,
    register_fonts,
    split_runs,
    wrap_lines,
)
from reports.report_data import ReportData

PAGE = A4
MARGIN_LEFT = 25 * mm  # room for binding
MARGIN_RIGHT = 20 * mm
MARGIN_TOP = 20 * mm
MARGIN_BOTTOM = 20 * mm
FRAME_WIDTH = PAGE[0] - MARGIN_LEFT - MARGIN_RIGHT
FRAME_HEIGHT = PAGE[1] - MARGIN_TOP - MARGIN_BOTTOM - 12  # less the frame's own padding
LINE = colors.HexColor("#555555")
HEAD_BG = colors.HexColor("#e8ecf2")
# A grid cell's padding (_grid_style): left and right together, top, bottom.
_CELL_PAD = 6.0
_PAD_TOP, _PAD_BOTTOM = 2.5, 3.0
_PAD_V = _PAD_TOP + _PAD_BOTTOM


@dataclass(frozen=True)
class PdfResult:
    """What a PDF writer produced."""

    path: Path
    pages: int
    warnings: tuple[str, ...] = ()
    size_bytes: int = 0


# ----------------------------------------------------------------------- styles


def table_style(commands: Sequence[tuple[Any, ...]]) -> TableStyle:
    """A TableStyle whose cells default to the bundled face: Table sets every cell's
    font, Paragraph or not, and its default (Helvetica) would be left unembedded.
    """
    return TableStyle([("FONT", (0, 0), (-1, -1), SANS, 9), *commands])


def make_style(name: str, font: str, size: float, leading: float | None = None,
           **kw: Any) -> ParagraphStyle:
    """A paragraph style with Chinese line breaking (``wordWrap="CJK"``)."""
    return ParagraphStyle(name, fontName=font, fontSize=size,
                          leading=leading or size * 1.35, wordWrap="CJK", **kw)


TITLE = make_style("title", SONG, 19, 26, alignment=TA_CENTER, spaceAfter=2)
SUBTITLE = make_style("subtitle", SONG, 12, 16, alignment=TA_CENTER, spaceAfter=4)
HEADING = make_style("heading", SANS, 12, 16, spaceBefore=10, spaceAfter=5, keepWithNext=1)
# Before the long activity table: keepWithNext would move the whole table to a new page.
HEADING_LIST = make_style("heading_list", SANS, 12, 16, spaceBefore=10, spaceAfter=5)
INFO = make_style("info", SANS, 10, 15)
BODY = make_style("body", SONG, 10.5, 16, firstLineIndent=21)
NOTE = make_style("note", SANS, 7.5, 10, textColor=colors.HexColor("#444444"))
CELL = make_style("cell", SANS, 8.5, 11)
CELL_HEAD = make_style("cell_head", SANS, 8.5, 11, alignment=TA_CENTER)
CELL_RIGHT = make_style("cell_right", SANS, 8.5, 11, alignment=TA_RIGHT)
SIGN = make_style("sign", SONG, 11, 18, alignment=TA_LEFT)


class Typesetter:
    """Paragraphs from user text with glyph fallback, noting unprintable characters."""

    def __init__(self) -> None:
        self.missing = MissingChars()

    def para(self, text: str, style: ParagraphStyle, record: str = "表头") -> Paragraph:
        """A Paragraph of plain ``text`` (escaped; rare characters in fallback faces)."""
        return Paragraph(markup(text, style.fontName, self.missing.collector(record)), style)

    def warnings(self) -> tuple[str, ...]:
        """The warnings about unprintable characters so far."""
        return tuple(self.missing.warnings())


# ------------------------------------------------------------- page furniture


def numbered_canvas(left: str, right: str, holder: list[int]) -> type[Canvas]:
    """A canvas class that prints "第 X 页 共 Y 页" (and ``left``/``right``) on every
    page once the page count is known: pages are kept until ``save``.
    """

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            # A bundled initial font: the default (Helvetica) would be referenced on
            # every page without being embedded.
            kwargs["initialFontName"] = SANS
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            holder.append(total)
            for number, state in enumerate(self._pages, 1):
                self.__dict__.update(state)
                self._footer(number, total)
                super().showPage()
            super().save()

        def _footer(self, number: int, total: int) -> None:
            y = 11 * mm
            self.saveState()
            self.setFillColor(colors.HexColor("#333333"))
            draw_string(self, PAGE[0] / 2, y, f"第 {number} 页 共 {total} 页", SANS, 9, "centre")
            self.setFillColor(colors.HexColor("#777777"))
            if left:
                draw_string(self, MARGIN_LEFT, y, left, SANS, 7.5)
            if right:
                draw_string(self, PAGE[0] - MARGIN_RIGHT, y, right, SANS, 7.5, "right")
            self.setStrokeColor(colors.HexColor("#bbbbbb"))
            self.setLineWidth(0.4)
            self.line(MARGIN_LEFT, y + 10, PAGE[0] - MARGIN_RIGHT, y + 10)
            self.restoreState()

    return NumberedCanvas


def write_atomically(path: Path, build: Callable[[Path], None]) -> int:
    """Run ``build(tmp)`` on a temporary file beside ``path``, then rename it into place.

    A failure leaves no file behind (and an existing ``path`` untouched).

    Returns:
        The size of the written file in bytes.

    Raises:
        KepuError: the folder does not exist or the file cannot be written.

    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise KepuError(f"文件夹“{folder}”不存在，无法保存 PDF。")
    tmp = folder / f".{path.stem}.{uuid.uuid4().hex[:8]}.pdf.part"
    try:
        build(tmp)
        size = tmp.stat().st_size
        os.replace(tmp, path)
        return size
    except PermissionError as err:
        raise KepuError(f"无法写入“{path}”：文件可能正在被其他程序打开，"
                        f"请关闭后重试（{err.strerror or err}）。") from err
    except OSError as err:
        raise KepuError(f"无法写入“{path}”：{err.strerror or err}") from err
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def build_document(path: Path, story: list[Flowable], *, title: str, author: str,
                   subject: str, footer_left: str, footer_right: str = "") -> int:
    """Lay ``story`` out on A4 portrait pages into ``path``; returns the page count."""
    holder: list[int] = []
    doc = SimpleDocTemplate(
        str(path), pagesize=PAGE, leftMargin=MARGIN_LEFT, rightMargin=MARGIN_RIGHT,
        topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM, title=title, author=author,
        subject=subject, creator="科普台账", lang="zh-CN",
    )
    doc.build(story, canvasmaker=numbered_canvas(footer_left, footer_right, holder))
    return holder[-1] if holder else doc.page


# ------------------------------------------------------------- the sections


KEY_FIGURES = (
    ("act.count", "科普活动次数（次）"),
    ("act.attend", "参与人次"),
    ("act.online.views", "线上浏览量（次）"),
    ("train.count", "培训期数（期）"),
    ("train.attend", "培训人次"),
    ("train.people", "培训人数（人，去重）"),
    ("vol.attend", "志愿者人次"),
    ("material.copies", "发放资料（份）"),
    ("fund.spent", "经费支出（元）"),
    ("fund.per_capita", "人均科普经费（元/人）"),
)


def _date_text(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _title_block(data: ReportData, ts: Typesetter) -> list[Flowable]:
    h = data.header
    story: list[Flowable] = [ts.para(h.title, TITLE)]
    if h.revision:
        story.append(ts.para(f"（{h.revision_label}）", SUBTITLE))
    story.append(Spacer(1, 4))

    def cell(label: str, value: str) -> Paragraph:
        return Paragraph(f"{label}：" + markup(value, SANS, ts.missing.collector("表头")), INFO)

    rows = [
        [cell("填报单位", f"{h.office_name}（行政区划代码：{h.office_code}）"),
         cell("报表期", h.period_label)],
        [cell("填报人", h.reporter), cell("审核人", h.reviewer)],
        [cell("联系电话", h.phone), cell("报送日期", _date_text(h.report_date))],
    ]
    table = Table(rows, colWidths=[FRAME_WIDTH * 0.62, FRAME_WIDTH * 0.38])
    table.setStyle(table_style([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        ("LINEBELOW", (0, -1), (-1, -1), 0.8, LINE),
    ]))
    story.append(table)
    return story


def _grid_style(extra: Sequence[tuple[Any, ...]] = (), header: bool = True) -> TableStyle:
    return table_style([
        ("FONT", (0, 0), (-1, -1), SANS, 8.5, 11),
        ("GRID", (0, 0), (-1, -1), 0.5, LINE),
        *([("BACKGROUND", (0, 0), (-1, 0), HEAD_BG)] if header else []),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), _PAD_TOP),
        ("BOTTOMPADDING", (0, 0), (-1, -1), _PAD_BOTTOM),
        ("LEFTPADDING", (0, 0), (-1, -1), _CELL_PAD / 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), _CELL_PAD / 2),
        *extra,
    ])


def _key_figures(data: ReportData) -> list[Flowable]:
    items = data.figures.items
    cells = []
    for code, label in KEY_FIGURES:
        f = items.get(code)
        if f is None:
            continue
        cells.append([label, format_value(f.period, f.kind),
                      format_value(f.ytd, f.kind)])
    half = (len(cells) + 1) // 2
    left, right = cells[:half], cells[half:]
    right += [["", "", ""]] * (half - len(right))
    head = ["指标", "本期", "本年累计"] * 2
    rows = [head] + [a + b for a, b in zip(left, right, strict=True)]
    w = FRAME_WIDTH / 2
    widths = [w * 0.5, w * 0.22, w * 0.28] * 2
    table = Table(rows, colWidths=widths)
    table.setStyle(_grid_style([
        ("FONT", (0, 1), (-1, -1), SANS, 9, 12),
        ("ALIGN", (0, 0), (-1, 0), "CENTER"),
        ("ALIGN", (1, 1), (2, -1), "RIGHT"),
        ("ALIGN", (4, 1), (5, -1), "RIGHT"),
        ("LINEAFTER", (2, 0), (2, -1), 1.2, LINE),
        ("TOPPADDING", (0, 1), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 1), (-1, -1), 4.5),
    ]))
    period = data.figures.period
    return [Paragraph("一、主要指标", HEADING), table,
            Paragraph(f"本期为{period.label}；本年累计为{period.year}年1月1日至"
                      f"{_date_text(period.end)}。", NOTE)]


def _months_text(months: Sequence[int]) -> str:
    if not months:
        return ""
    return f"{months[0]}月" if len(months) == 1 else f"{months[0]}—{months[-1]}月"


def _monthly_charts(data: ReportData) -> list[Flowable]:
    monthly = data.figures.monthly
    months = [m.month for m in monthly]
    current = list(data.figures.period.months)
    w = FRAME_WIDTH / 2 - 4
    count = charts.monthly_bars(months, [m.count for m in monthly], "科普活动次数（次）",
                                current=current, width=w)
    attend = charts.monthly_bars(months, [m.attend for m in monthly], "参与人次",
                                 current=current, width=w)
    table = Table([[count, attend]], colWidths=[FRAME_WIDTH / 2] * 2)
    table.setStyle(table_style([("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    year = data.figures.period.year
    return [
        Paragraph(f"二、逐月活动情况（{year}年{_months_text(months)}）", HEADING),
        table,
        Paragraph("深色柱为本期。参与人次不含线上活动（线上活动计浏览量）。", NOTE),
    ]


def _group_chart(data: ReportData, ts: Typesetter) -> list[Flowable]:
    items = []
    labels = []
    for code, f in data.figures.items.items():
        if not (code.startswith("group.") and code.endswith(".attend")) or not f.ytd:
            continue
        name = f.name.removesuffix(" 人次").removesuffix("人次").strip()
        split_runs(name, SANS, ts.missing.collector(f"重点人群：{name}"))  # note unprintables
        items.append((name, int(f.ytd)))
        labels.append(format_value(f.period, f.kind))
    period = data.figures.period
    drawing = charts.group_bars(items, width=FRAME_WIDTH, label_width=130)
    months = _months_text(list(range(1, period.months[-1] + 1)))
    story: list[Flowable] = [
        Paragraph(f"三、重点人群参与人次（本年累计，{period.year}年{months}）", HEADING),
        drawing,
    ]
    if items:
        detail = "；".join(f"{n} {p}" for (n, _v), p in zip(items, labels, strict=True))
        story.append(Paragraph(markup(f"本期（{period.label}）：{detail}。", SANS), NOTE))
    story.append(Paragraph("一次活动可面向多个人群，各人群人次之和不超过活动的参与人次；"
                           "未填分项的按所选人群平均分配。", NOTE))
    return story


def _targets(data: ReportData, ts: Typesetter) -> list[Flowable]:
    period = data.figures.period
    elapsed = period.months[-1] / 12
    with_target = [f for f in data.figures.items.values() if f.target is not None]
    story: list[Flowable] = [Paragraph("四、年度目标完成情况", HEADING)]
    if not with_target:
        story.append(Paragraph(f"{period.year}年未设置年度目标。", INFO))
        return story
    bar_w = 120.0
    rows: list[list[Any]] = [["指标", "单位", "年度目标", "本年累计", "完成率", "进度"]]
    for f in with_target:
        rows.append([
            ts.para(f.name, CELL, "指标"),
            f.unit,
            format_value(f.target, f.kind),
            format_value(f.ytd, f.kind),
            format_rate(f.rate),
            charts.progress_bar(f.rate, elapsed, width=bar_w),
        ])
    widths = [FRAME_WIDTH - bar_w - 8 - 34 - 56 - 56 - 44, 34, 56, 56, 44, bar_w + 8]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(_grid_style([
        ("ALIGN", (0, 0), (-1, 0), "CENTER"),
        ("ALIGN", (1, 1), (1, -1), "CENTER"),
        ("ALIGN", (2, 1), (4, -1), "RIGHT"),
        ("LEFTPADDING", (5, 1), (5, -1), 4),
    ]))
    story.append(table)
    story.append(Paragraph(
        f"完成率 = 本年累计 ÷ 年度目标。进度条中的红线为时间进度："
        f"{period.months[-1]}月末 = {elapsed:.1%}；深色表示完成率不低于时间进度。", NOTE))
    return story


def _place(a: ActivityRecord) -> str:
    place = a.address or a.site or a.village
    if a.village and a.village not in place:
        place = f"{a.village} {place}".strip()
    if a.online:
        return f"线上（{place}）" if place else "线上"
    return place


def _activity_date(a: ActivityRecord) -> str:
    text = a.start_date.isoformat()
    if a.end_date and a.end_date != a.start_date:
        end = a.end_date.isoformat()[5:] if a.end_date.year == a.start_date.year else \
            a.end_date.isoformat()
        text += f"\n至{end}"
    return text


def activity_label(a: ActivityRecord) -> str:
    """How warnings name an activity."""
    return f"活动：{a.start_date.isoformat()} {a.title}"


# Widths of the activity list (序号, 日期, 活动名称, 形式, 地点, 人次).
_ACT_WIDTHS = (24.0, 54.0, 0.0, 70.0, 116.0, 40.0)
_ACT_WIDTHS = (*_ACT_WIDTHS[:2], FRAME_WIDTH - sum(_ACT_WIDTHS), *_ACT_WIDTHS[3:])


def _cell(text: str, style: ParagraphStyle, width: float, ts: Typesetter,
          record: str) -> str | Paragraph:
    """A cell of user text: plain (possibly multi-line) text, which GridRows draws fast,
    or a Paragraph when it needs a fallback face for a rare character.
    """
    if needs_fallback(text, style.fontName):
        return ts.para(text, style, record)
    room = width - _CELL_PAD
    if "\n" not in text and len(text) * style.fontSize <= room:  # no glyph is over 1 em
        return text
    return "\n".join(wrap_lines(text, style.fontName, style.fontSize, room))


def _row_height(row: Sequence[Any], widths: Sequence[float], leadings: Sequence[float]) -> float:
    """The height a grid row of ``row`` needs: its tallest cell plus padding."""
    h = 0.0
    for value, width, leading in zip(row, widths, leadings, strict=True):
        if isinstance(value, Paragraph):
            t = value.wrap(width - _CELL_PAD, 1e6)[1]
        else:
            t = leading * (str(value).count("\n") + 1)
        h = max(h, t)
    return h + _PAD_V


@dataclass(frozen=True)
class _Column:
    """How a column of :class:`GridRows` is drawn."""

    width: float
    font: str
    size: float
    leading: float
    align: str = "LEFT"  # LEFT / CENTER / RIGHT


class GridRows(Flowable):
    """Rows of a long list drawn straight onto the canvas, in a grid like
    ``_grid_style``'s: it splits between pages and repeats its header row on each.

    A platypus Table lays out and draws every cell through generic machinery (style
    commands, spans, measuring), which made the list of a large month (2 400 rows,
    85 pages) the slowest part of the summary; here the rows come measured and
    wrapped (plain text lines or a Paragraph for rare characters) and a page's text
    is one text object. Looks as the Table did: cells vertically centred, padding
    3/2.5/3 points, 0.5-point grid, the header row shaded.

    ``header`` is "always" (every page) or "at_top" (only when the rows open a page:
    the last rows kept with the signature block).
    """

    def __init__(self, columns: Sequence[_Column], head: Sequence[str], head_height: float,
                 rows: Sequence[Sequence[str | Paragraph]], heights: Sequence[float],
                 header: str = "always") -> None:
        super().__init__()
        self.hAlign = "CENTER"  # as Table: FRAME_WIDTH is the frame's width with its padding
        self._columns, self._head, self._head_height = columns, head, head_height
        self._rows, self._heights, self._header = rows, heights, header
        self._tops = list(accumulate(heights, initial=0.0))  # row i spans tops[i]..tops[i+1]
        self._show_head = header == "always"
        self.width = sum(c.width for c in columns)

    def _head_for(self, avail_height: float) -> float:
        self._show_head = self._header == "always" or avail_height >= FRAME_HEIGHT - 1
        return self._head_height if self._show_head else 0.0

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.height = self._head_for(avail_height) + self._tops[-1]
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        """The rows that fit in ``avail_height`` (none: move to the next page) and the rest."""
        room = avail_height - self._head_for(avail_height)
        n = bisect_right(self._tops, room + 1e-6) - 1
        if n <= 0 or n >= len(self._rows):
            return []
        return [self._part(0, n), self._part(n, len(self._rows))]

    def _part(self, start: int, stop: int) -> GridRows:
        return GridRows(self._columns, self._head, self._head_height, self._rows[start:stop],
                        self._heights[start:stop], self._header)

    def draw(self) -> None:
        canv = self.canv
        lefts = list(accumulate((c.width for c in self._columns), initial=0.0))
        head = self._head_height if self._show_head else 0.0
        # the y of every horizontal rule, top down: the header's top, then each row's
        rules = [self.height - head - t for t in self._tops]
        if self._show_head:
            rules.insert(0, self.height)
            canv.setFillColor(HEAD_BG)
            canv.rect(0, rules[1], self.width, head, stroke=0, fill=1)
            canv.setFillColor(colors.black)
        rows: list[tuple[Sequence[str | Paragraph], Sequence[_Column]]] = [
            (row, self._columns) for row in self._rows]
        if self._show_head:
            head_style = [_Column(c.width, SANS, CELL.fontSize, CELL.leading, "CENTER")
                          for c in self._columns]
            rows.insert(0, (self._head, head_style))
        self._draw_cells(rows, lefts, rules)
        canv.setStrokeColor(LINE)
        canv.setLineWidth(0.5)
        path = canv.beginPath()
        for y in rules:
            path.moveTo(0, y)
            path.lineTo(self.width, y)
        for x in lefts:
            path.moveTo(x, rules[0])
            path.lineTo(x, rules[-1])
        canv.drawPath(path, stroke=1, fill=0)

    def _draw_cells(self, rows: Sequence[tuple[Sequence[str | Paragraph], Sequence[_Column]]],
                    lefts: Sequence[float], rules: Sequence[float]) -> None:
        """Every cell's text, vertically centred as Table's VALIGN MIDDLE places it."""
        canv = self.canv
        text = canv.beginText()
        font: tuple[str, float, float] | None = None
        paragraphs: list[tuple[Paragraph, float, float]] = []  # rare-character cells
        for (row, columns), (top, bottom) in zip(rows, pairwise(rules), strict=True):
            h = top - bottom
            for value, col, left in zip(row, columns, lefts, strict=False):  # lefts: one more
                if isinstance(value, Paragraph):
                    _w, ph = value.wrapOn(canv, col.width - _CELL_PAD, h)
                    paragraphs.append((value, left + _CELL_PAD / 2,
                                       bottom + (h + _PAD_BOTTOM - _PAD_TOP - ph) / 2))
                    continue
                if not value:
                    continue
                if font != (col.font, col.size, col.leading):
                    font = (col.font, col.size, col.leading)
                    text.setFont(*font)
                lines = value.split("\n")
                y = bottom + (h + _PAD_BOTTOM - _PAD_TOP + len(lines) * col.leading) / 2 - col.size
                for line in lines:
                    x = left + _CELL_PAD / 2
                    if col.align != "LEFT":
                        room = col.width - stringWidth(line, col.font, col.size)
                        x = left + (room - _CELL_PAD / 2 if col.align == "RIGHT" else room / 2)
                    text.setTextOrigin(x, y)
                    text._textOut(line)  # noqa: SLF001 - textOut without measuring the width
                    y -= col.leading
        canv.drawText(text)
        for para, x, y in paragraphs:
            para.drawOn(canv, x, y)


_TAIL_ROWS = 2  # rows of the list that stay on the page of the signature block


def activity_table(data: ReportData, ts: Typesetter,
                   activities: Sequence[ActivityRecord] | None = None,
                   closing: Sequence[Flowable] = ()) -> list[Flowable]:
    """五、活动明细: a long list whose header row repeats on every page, a 合计 row
    from ``data.figures`` (not summed here), then ``closing`` (the signature block),
    which is kept on one page with the 合计 row and the last rows of the list.
    """
    acts = data.activities if activities is None else activities
    w = list(_ACT_WIDTHS)
    columns = (
        _Column(w[0], SANS, CELL.fontSize, CELL.leading, "CENTER"),
        _Column(w[1], SANS, 8, 10),
        _Column(w[2], SANS, CELL.fontSize, CELL.leading),
        _Column(w[3], SANS, CELL.fontSize, CELL.leading),
        _Column(w[4], SANS, CELL.fontSize, CELL.leading),
        _Column(w[5], SANS, CELL.fontSize, CELL.leading, "RIGHT"),
    )
    leadings = [c.leading for c in columns]
    head = ["序号", "日期", "活动名称", "形式", "地点", "人次"]
    rows: list[list[Any]] = []
    for i, a in enumerate(acts, 1):
        record = activity_label(a)
        rows.append([
            str(i),
            _activity_date(a),
            _cell(a.title, CELL, w[2], ts, record),
            _cell(a.form, CELL, w[3], ts, record),
            _cell(_place(a), CELL, w[4], ts, record),
            "-" if a.online else str(a.attend),
        ])
    heights = [_row_height(r, w, leadings) for r in rows]
    head_height = _row_height(head, w, [CELL.leading] * len(head))

    split = max(len(rows) - _TAIL_ROWS, 0)
    story: list[Flowable] = []
    if split:
        story.append(GridRows(columns, head, head_height, rows[:split], heights[:split]))
    ending: list[Flowable] = []
    if rows[split:]:
        ending.append(GridRows(columns, head, head_height, rows[split:], heights[split:],
                               header="at_top" if split else "always"))
    items = data.figures.items
    count, attend = items.get("act.count"), items.get("act.attend")
    if activities is None and count is not None and attend is not None:
        total = Table([["合计", "", f"共 {format_value(count.period)} 项活动", "", "",
                        format_value(attend.period, attend.kind)]], colWidths=w)
        total.setStyle(_grid_style([
            ("SPAN", (0, 0), (1, 0)), ("SPAN", (2, 0), (4, 0)),
            ("ALIGN", (0, 0), (0, 0), "CENTER"), ("ALIGN", (5, 0), (5, 0), "RIGHT"),
        ]))
        ending.append(total)
    story.append(KeepTogether([*ending, *closing]))
    return story


def _signature_block() -> Flowable:
    blank = "＿＿＿＿＿＿＿＿"
    rows = [
        [Paragraph(f"填报人：{blank}", SIGN), Paragraph(f"审核人：{blank}", SIGN),
         Paragraph("（盖章）", make_style("stamp", SONG, 11, 18, alignment=TA_CENTER))],
        [Paragraph(f"单位负责人签字：{blank}", SIGN), "", ""],
        [Paragraph("日期：" + "&nbsp;" * 12 + "年" + "&nbsp;" * 6 + "月" + "&nbsp;" * 6 + "日",
                   SIGN), "", ""],
    ]
    table = Table(rows, colWidths=[FRAME_WIDTH * 0.36, FRAME_WIDTH * 0.34, FRAME_WIDTH * 0.30],
                  rowHeights=[30, 30, 30])
    table.setStyle(table_style([
        ("SPAN", (0, 1), (1, 1)),
        ("SPAN", (0, 2), (1, 2)),
        ("SPAN", (2, 0), (2, 2)),
        ("VALIGN", (0, 0), (1, -1), "BOTTOM"),
        ("VALIGN", (2, 0), (2, 2), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
    ]))
    return KeepTogether([Spacer(1, 14), table])


def summary_story(data: ReportData, ts: Typesetter,
                  activities: Sequence[ActivityRecord] | None = None) -> list[Flowable]:
    """Every flowable of the summary, in order."""
    story = _title_block(data, ts)
    story += _key_figures(data)
    story += _monthly_charts(data)
    story += _group_chart(data, ts)
    story += _targets(data, ts)
    acts = data.activities if activities is None else activities
    story.append(CondPageBreak(50 * mm))  # the heading and a few rows, not the heading alone
    story.append(Paragraph(f"五、活动明细（{data.header.period_label}，共 {len(acts)} 项）",
                           HEADING_LIST))
    if acts:
        story += activity_table(data, ts, activities, closing=[_signature_block()])
    else:
        story += [Paragraph("本期无活动记录。", INFO), _signature_block()]
    return story


def write_summary_pdf(data: ReportData, path: Path) -> PdfResult:
    """Write the printed summary of ``data``'s period to ``path`` (A4 portrait).

    Returns:
        The path, the page count and warnings (e.g. characters no bundled font has).

    Raises:
        KepuError: the file cannot be written (nothing is left behind).

    """
    register_fonts()
    ts = Typesetter()
    h = data.header
    title = h.title + (f"（{h.revision_label}）" if h.revision else "")
    pages: list[int] = []

    def build(tmp: Path) -> None:
        story = summary_story(data, ts)
        pages.append(build_document(
            tmp, story, title=title, author=h.office_name, subject=f"报表期 {h.period_label}",
            footer_left=title,
            footer_right=f"生成于 {data.generated_at:%Y-%m-%d %H:%M}",
        ))

    size = write_atomically(Path(path), build)
    return PdfResult(Path(path), pages[-1], ts.warnings(), size)
