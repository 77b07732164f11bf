"""Charts of the PDF summary, as reportlab ``Drawing`` flowables.

Plain values in, drawings out: nothing is counted here. Text uses the bundled
faces (:mod:`reports.pdf_fonts`); category labels that come from user data
(group names) are drawn run by run so a rare character never prints as a box.
Colours are chosen to stay distinguishable when printed in grey.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics

from reports.pdf_fonts import SANS, split_runs

BAR = colors.HexColor("#4a78b0")  # prints as a mid grey
BAR_CURRENT = colors.HexColor("#1f3f66")  # the report's own period: darker
BAR_LIGHT = colors.HexColor("#dfe5ee")
MARKER = colors.HexColor("#b22222")
GRID = colors.HexColor("#c8c8c8")
TEXT = colors.black


def _drawing(width: float, height: float) -> Drawing:
    d = Drawing(width, height)
    d.initialFontName = SANS  # the renderer's default would be Helvetica, not embedded
    return d


def _text(d: Drawing, x: float, y: float, text: str, size: float, anchor: str = "start",
          colour: colors.Color = TEXT) -> float:
    """Add ``text`` at (x, y) as one String per font run; returns its width."""
    runs = split_runs(text, SANS)
    widths = [pdfmetrics.stringWidth(r.text, r.font, size) for r in runs]
    total = sum(widths)
    if anchor == "middle":
        x -= total / 2
    elif anchor == "end":
        x -= total
    for run, w in zip(runs, widths, strict=True):
        d.add(String(x, y, run.text, fontName=run.font, fontSize=size, fillColor=colour))
        x += w
    return total


def _nice_max(value: float) -> tuple[float, float]:
    """An axis maximum at or above ``value`` and a round step (4–6 steps)."""
    if value <= 0:
        return 1, 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10):
        s = step * magnitude
        if value / s <= 5:
            s = max(s, 1)
            top = s * -(-value // s)
            return top, s
    return value, value  # pragma: no cover - the loop always returns


def monthly_bars(months: Sequence[int], values: Sequence[int], title: str, *,
                 current: Sequence[int] = (), width: float = 230,
                 height: float = 150) -> Drawing:
    """A vertical bar chart of one figure by month (e.g. 活动次数 for 1–9月).

    Args:
        months: month numbers, one per bar.
        values: the figure for each month.
        title: printed above the chart.
        current: months of the report's own period (drawn darker).

    """
    d = _drawing(width, height)
    _text(d, width / 2, height - 11, title, 9, "middle")
    chart = VerticalBarChart()
    chart.x, chart.y = 34, 20
    chart.width, chart.height = width - 42, height - 42
    chart.data = [list(values) or [0]]
    # "10月11月12月" would run together under twelve narrow bars.
    names = [f"{m}月" for m in months] if len(months) <= 9 else [str(m) for m in months]
    chart.categoryAxis.categoryNames = names or [""]
    for axis in (chart.categoryAxis.labels, chart.valueAxis.labels):
        axis.fontName = SANS
        axis.fontSize = 7
    chart.categoryAxis.labels.dy = -2
    top, step = _nice_max(max(values, default=0) * 1.12)
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top
    chart.valueAxis.valueStep = step
    chart.valueAxis.labelTextFormat = lambda v: f"{v:,.0f}" if v == int(v) else f"{v:g}"
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = GRID
    chart.valueAxis.gridStrokeWidth = 0.3
    chart.bars[0].fillColor = BAR
    chart.bars[0].strokeColor = None
    for i, m in enumerate(months):
        if m in current:
            chart.bars[(0, i)].fillColor = BAR_CURRENT
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = SANS
    chart.barLabels.fontSize = 6
    chart.barLabels.nudge = 5
    chart.barSpacing = 1
    chart.groupSpacing = 6 if len(values) > 6 else 14
    d.add(chart)
    return d


def group_bars(items: Sequence[tuple[str, int]], *, width: float = 480,
               bar_height: float = 9, gap: float = 4, label_width: float = 130) -> Drawing:
    """Horizontal bars, one per target group, in the given order (top down).

    Args:
        items: (group name, 人次); names may contain rare characters.

    """
    rows = max(len(items), 1)
    height = rows * (bar_height + gap) + 16
    d = _drawing(width, height)
    left = label_width
    room = width - left - 60  # space for the value after the longest bar
    top_value = max((v for _n, v in items), default=0)
    scale = room / top_value if top_value else 0
    axis_bottom = 14
    d.add(Line(left, axis_bottom, left, height, strokeColor=colors.grey, strokeWidth=0.5))
    y = height - bar_height - gap / 2
    for name, value in items:
        _text(d, left - 6, y + 2.2, name, 8, "end")
        w = max(value * scale, 0.5 if value else 0)
        d.add(Rect(left, y, w, bar_height, fillColor=BAR, strokeColor=None))
        _text(d, left + w + 4, y + 2.2, f"{value:,}", 7.5)
        y -= bar_height + gap
    if not items:
        _text(d, left + 6, y + 2.2, "（暂无数据）", 8)
    return d


def progress_bar(rate: Decimal | None, elapsed: float, *, width: float = 120,
                 height: float = 12) -> Drawing:
    """完成率 as a bar with the time-elapsed marker (e.g. 9月末 = 75%).

    The bar is filled up to the rate (capped at 100 %; an arrowhead shows more),
    darker when on schedule (rate ≥ elapsed), hatched-light when behind.
    """
    d = _drawing(width, height)
    bar_y, bar_h = 2.5, height - 5
    d.add(Rect(0, bar_y, width, bar_h, fillColor=BAR_LIGHT, strokeColor=colors.grey,
               strokeWidth=0.4))
    if rate is not None and rate > 0:
        fill = float(min(rate, Decimal(1)))
        colour = BAR_CURRENT if rate >= Decimal(str(elapsed)) else BAR
        d.add(Rect(0, bar_y, width * fill, bar_h, fillColor=colour, strokeColor=None))
        if rate > 1:
            d.add(String(width - 1, bar_y + 1.6, "+", fontName=SANS, fontSize=7,
                         fillColor=colors.white, textAnchor="end"))
    x = width * min(max(elapsed, 0.0), 1.0)
    d.add(Line(x, 0, x, height, strokeColor=MARKER, strokeWidth=1.2))
    return d
