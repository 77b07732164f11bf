"""Qt-native chart widgets for the dashboard: month bars, horizontal bars, target progress.

Drawn with QPainter (only PySide6-Essentials is installed, so there is no QtCharts).
The widgets draw the plain values they are given and never count anything: every
number comes from :func:`db.indicators.compute_figures` through the page.

Each chart works with the mouse (hover tooltip, click) and the keyboard (Tab to
focus, ←/→ or ↑/↓ to move, Enter or Space to open what a click opens).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from db.indicators import MonthFigures

# Colours: calm series colours, traffic-light status colours, quiet greys for axes.
SERIES_COLORS = (QColor("#3a78c9"), QColor("#2a9d8f"))
GROUP_COLOR = QColor("#5b7fd6")
GREEN = QColor("#2e7d32")
AMBER = QColor("#e08a00")
RED = QColor("#c62828")
NO_TARGET = QColor("#9aa1ab")
TRACK = QColor("#e9edf2")
GRID = QColor("#e6e9ee")
AXIS = QColor("#c3c9d1")
MUTED = QColor("#67707c")
TEXT = QColor("#1f2329")
MARKER = QColor("#2f3a48")
HOVER = QColor(58, 120, 201, 28)

BEHIND_LIMIT = 15.0  # points behind the elapsed share before a target turns red

# Progress status: how completion compares with the share of the year gone by.
ON_TRACK, BEHIND, FAR_BEHIND, NO_RATE = "on_track", "behind", "far_behind", "none"
STATUS_COLORS = {ON_TRACK: GREEN, BEHIND: AMBER, FAR_BEHIND: RED, NO_RATE: NO_TARGET}


# -- number text ----------------------------------------------------------------------


def group_digits(text: str) -> str:
    """Thousands separators for a number already formatted: '1234567.80' → '1,234,567.80'.

    Text that is not a plain number ("-") is returned as is.
    """
    sign = "-" if text.startswith("-") and len(text) > 1 else ""
    body = text[len(sign):]
    whole, dot, frac = body.partition(".")
    if not whole.isdigit():
        return text
    return f"{sign}{int(whole):,}{dot}{frac}"


def short_number(value: int) -> str:
    """A bar label: 9,876 as is, 12,345 as 1.2万 (the exact figure is in the tooltip)."""
    if abs(value) < 10_000:
        return f"{value:,}"
    wan = value / 10_000
    text = f"{wan:.1f}" if abs(wan) < 100 else f"{wan:.0f}"
    return text.removesuffix(".0") + "万"


def nice_scale(maximum: float, ticks: int = 4) -> tuple[float, float]:
    """The top of an axis and its tick step: a round step (1, 2, 2.5, 5 × 10ⁿ).

    >>> nice_scale(1234)
    (1500.0, 500.0)
    """
    if maximum <= 0:
        return float(ticks), 1.0
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if step < 1:
        step = 1.0  # counts: no fractional ticks
    return float(step * math.ceil(maximum / step)), float(step)


def progress_status(rate: Decimal | None, elapsed: float) -> tuple[str, float]:
    """Completion against time: the status and the gap in percentage points.

    Args:
        rate: 完成率 as a fraction (本年累计 ÷ 年度目标), None without a target.
        elapsed: the share of the year gone by (0–1).

    Returns:
        (status, gap): gap = completion % − elapsed %; on track when ≥ 0, behind
        when less than :data:`BEHIND_LIMIT` points behind, far behind otherwise.
    """
    if rate is None:
        return NO_RATE, 0.0
    gap = float(rate) * 100 - elapsed * 100
    if gap >= 0:
        return ON_TRACK, gap
    if gap > -BEHIND_LIMIT:
        return BEHIND, gap
    return FAR_BEHIND, gap


def progress_tip(gap: float, status: str) -> str:
    """进度落后时间 X 个百分点 / 进度超前时间 X 个百分点 / 与时间进度同步."""
    if status == NO_RATE:
        return "未设置年度目标"
    if abs(gap) < 0.05:
        return "与时间进度同步"
    if gap < 0:
        return f"进度落后时间 {-gap:.1f} 个百分点"
    return f"进度超前时间 {gap:.1f} 个百分点"


def _scaled_font(base: QFont, factor: float, bold: bool = False) -> QFont:
    font = QFont(base)
    font.setPointSizeF(max(base.pointSizeF() * factor, 8.0))
    font.setBold(bold)
    return font


# -- a base for focusable, clickable charts ----------------------------------------------


class _ChartBase(QWidget):
    """Hover, focus and keyboard handling shared by the bar charts.

    Subclasses define ``_hit(pos) -> int | None`` (the item under the mouse),
    ``_count()`` (items that can be picked), ``_tooltip(index)`` and ``_activate(index)``.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._hover: int | None = None
        self._current = 0  # the keyboard's item

    def _hit(self, pos: QPointF) -> int | None:
        raise NotImplementedError

    def _count(self) -> int:
        raise NotImplementedError

    def _tooltip(self, index: int) -> str:
        raise NotImplementedError

    def _activate(self, index: int) -> None:
        raise NotImplementedError

    def _clickable(self, index: int) -> bool:
        return True

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self._hit(QPointF(event.pos()))
            if index is None:
                QToolTip.hideText()
                event.ignore()
            else:
                QToolTip.showText(event.globalPos(), self._tooltip(index), self)
            return True
        return super().event(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        index = self._hit(event.position())
        if index != self._hover:
            self._hover = index
            clickable = index is not None and self._clickable(index)
            self.setCursor(Qt.CursorShape.PointingHandCursor if clickable
                           else Qt.CursorShape.ArrowCursor)
            self.update()
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self._hover = None
        self.update()
        super().leaveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            index = self._hit(event.position())
            if index is not None and self._clickable(index):
                self._current = index
                self._activate(index)
                event.accept()
                return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        n = self._count()
        key = event.key()
        if n and key in (Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_Right, Qt.Key.Key_Down):
            step = -1 if key in (Qt.Key.Key_Left, Qt.Key.Key_Up) else 1
            self._current = max(0, min(n - 1, self._current + step))
            self.update()
            return
        if n and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            if self._clickable(self._current):
                self._activate(self._current)
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: object) -> None:
        self.update()
        super().focusInEvent(event)  # type: ignore[arg-type]

    def focusOutEvent(self, event: object) -> None:
        self.update()
        super().focusOutEvent(event)  # type: ignore[arg-type]

    def _highlighted(self, index: int) -> bool:
        return index == self._hover or (self.hasFocus() and index == self._current)


# -- monthly bars ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Panel:
    attr: str  # MonthFigures attribute
    title: str
    unit: str
    color: QColor


class MonthlyChart(_ChartBase):
    """科普活动次数 and 参与人次 by month: two small bar panels with their own scales.

    :attr:`data` is the ``Figures.monthly`` tuple it shows. Every month of the year
    has a slot; months not yet reached have no bar. A click (or Enter) on a
    month emits :attr:`month_clicked` with the month (1–12).
    """

    month_clicked = Signal(int)

    PANELS = (
        _Panel("count", "科普活动次数", "次", SERIES_COLORS[0]),
        _Panel("attend", "参与人次", "人次", SERIES_COLORS[1]),
    )
    PANEL_HEIGHT = 180

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.year = 0
        self.data: tuple[MonthFigures, ...] = ()
        self.setAccessibleName("各月科普活动次数和参与人次")
        self.setMinimumHeight(len(self.PANELS) * self.PANEL_HEIGHT)

    def set_data(self, year: int, monthly: Sequence[MonthFigures]) -> None:
        """Show a year's monthly series (``Figures.monthly``)."""
        if year != self.year or not any(m.month == self._current + 1 for m in monthly):
            self._current = monthly[-1].month - 1 if monthly else 0  # the latest month
        self.year = year
        self.data = tuple(monthly)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(560, len(self.PANELS) * self.PANEL_HEIGHT)

    def _by_month(self) -> dict[int, MonthFigures]:
        return {m.month: m for m in self.data}

    # geometry ----------------------------------------------------------------

    def _panel_rects(self) -> list[QRectF]:
        h = self.height() / len(self.PANELS)
        return [QRectF(0, i * h, self.width(), h) for i in range(len(self.PANELS))]

    def _plot_rect(self, panel: QRectF, axis_width: float) -> QRectF:
        fm = QFontMetricsF(self.font())
        top = panel.top() + fm.height() + 4 + fm.height() * 0.9  # title, then value labels
        bottom = panel.bottom() - fm.height() - 8  # month labels
        return QRectF(panel.left() + axis_width + 6, top,
                      panel.width() - axis_width - 10, max(bottom - top, 10))

    def _axis_width(self, top_value: float) -> float:
        fm = QFontMetricsF(self._tick_font())
        return fm.horizontalAdvance(short_number(int(top_value))) + 4

    def _tick_font(self) -> QFont:
        return _scaled_font(self.font(), 0.9)

    def _scales(self) -> list[tuple[float, float]]:
        return [nice_scale(max((getattr(m, p.attr) for m in self.data), default=0))
                for p in self.PANELS]

    def _layout(self) -> list[QRectF]:
        scales = self._scales()
        axis = max(self._axis_width(top) for top, _ in scales)
        return [self._plot_rect(r, axis) for r in self._panel_rects()]

    def month_rect(self, panel: int, month: int) -> QRectF:
        """The slot of ``month`` (1–12) in panel ``panel`` (0 次数, 1 人次), as drawn."""
        plot = self._layout()[panel]
        slot = plot.width() / 12
        return QRectF(plot.left() + (month - 1) * slot, plot.top(), slot, plot.height())

    def bar_rect(self, panel: int, month: int) -> QRectF:
        """The bar of ``month`` in panel ``panel`` (empty for a month without data)."""
        plot = self._layout()[panel]
        top, _step = self._scales()[panel]
        fig = self._by_month().get(month)
        slot = plot.width() / 12
        width = min(slot * 0.6, 40.0)
        value = getattr(fig, self.PANELS[panel].attr) if fig else 0
        height = plot.height() * value / top if top else 0
        x = plot.left() + (month - 1) * slot + (slot - width) / 2
        return QRectF(x, plot.bottom() - height, width, height)

    def _hit(self, pos: QPointF) -> int | None:
        for panel in range(len(self.PANELS)):
            for month in range(1, 13):
                if self.month_rect(panel, month).adjusted(0, -8, 0, 8).contains(pos):
                    return month - 1
        return None

    def _count(self) -> int:
        return 12

    def _clickable(self, index: int) -> bool:
        return (index + 1) in self._by_month()

    def _activate(self, index: int) -> None:
        self.month_clicked.emit(index + 1)

    def _tooltip(self, index: int) -> str:
        month = index + 1
        fig = self._by_month().get(month)
        head = f"{self.year}年{month}月"
        if fig is None:
            return f"{head}\n尚无数据"
        return (f"{head}\n科普活动次数：{fig.count:,} 次\n参与人次：{fig.attend:,} 人次\n"
                f"其中培训人次：{fig.train_attend:,} 人次\n培训人数：{fig.train_people:,} 人\n"
                "点击查看该月的活动")

    # painting ----------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if not any(m.count or m.attend for m in self.data):
            p.setPen(MUTED)
            if self.year:
                p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                           f"{self.year}年暂无活动记录")
            p.end()
            return
        by_month = self._by_month()
        plots = self._layout()
        base = self.font()
        title_font = _scaled_font(base, 1.0, bold=True)
        tick_font = self._tick_font()
        value_font = _scaled_font(base, 0.9)
        fm = QFontMetricsF(base)
        for i, (panel, plot, (top, step)) in enumerate(
                zip(self.PANELS, plots, self._scales(), strict=True)):
            area = self._panel_rects()[i]
            # title with a colour key
            p.setFont(title_font)
            key = QRectF(area.left() + 2, area.top() + 4 + (fm.height() - 10) / 2, 10, 10)
            p.fillRect(key, panel.color)
            p.setPen(TEXT)
            p.drawText(QRectF(key.right() + 6, area.top() + 2, area.width(), fm.height() + 2),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       f"{panel.title}（{panel.unit}）")
            # grid and ticks
            p.setFont(tick_font)
            ticks = round(top / step)
            for t in range(ticks + 1):
                y = plot.bottom() - plot.height() * t / ticks
                p.setPen(QPen(AXIS if t == 0 else GRID, 1))
                p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
                p.setPen(MUTED)
                p.drawText(QRectF(area.left(), y - fm.height() / 2, plot.left() - 6 - area.left(),
                                  fm.height()),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                           short_number(int(t * step)))
            # bars, value labels, month labels
            slot = plot.width() / 12
            for month in range(1, 13):
                slot_rect = QRectF(plot.left() + (month - 1) * slot, plot.top(), slot,
                                   plot.height())
                fig = by_month.get(month)
                if self._highlighted(month - 1) and fig is not None:
                    p.fillRect(slot_rect, HOVER)
                if self.hasFocus() and month - 1 == self._current:
                    p.setPen(QPen(MARKER, 1, Qt.PenStyle.DotLine))
                    p.drawRect(slot_rect.adjusted(1, 1, -1, -1))
                p.setFont(tick_font)
                p.setPen(TEXT if fig is not None else MUTED)
                p.drawText(QRectF(slot_rect.left(), plot.bottom() + 3, slot, fm.height() + 2),
                           Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                           f"{month}月")
                if fig is None:
                    continue
                value = getattr(fig, panel.attr)
                bar = self.bar_rect(i, month)
                color = QColor(panel.color)
                if self._highlighted(month - 1):
                    color = color.darker(115)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(color)
                p.drawRoundedRect(bar.adjusted(0, 0, 0, 1), 2, 2)
                label = short_number(value)
                p.setFont(value_font)
                vfm = QFontMetricsF(value_font)
                if vfm.horizontalAdvance(label) <= slot + 4:
                    p.setPen(TEXT)
                    p.drawText(QRectF(slot_rect.left() - 4, bar.top() - vfm.height() - 1,
                                      slot + 8, vfm.height()),
                               Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                               label)
        p.end()


# -- horizontal bars ------------------------------------------------------------------


@dataclass(frozen=True)
class BarRow:
    """One horizontal bar: ``key`` is what a click emits, ``label`` what is shown."""

    key: str
    label: str
    value: int


class HorizontalBarChart(_ChartBase):
    """Labelled horizontal bars in the order given (e.g. 人次 by target group).

    A click (or Enter) on a row emits :attr:`bar_clicked` with the row's key.
    """

    bar_clicked = Signal(str)

    def __init__(self, unit: str = "人次", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.unit = unit
        self.rows: tuple[BarRow, ...] = ()
        self.empty_text = "暂无数据"
        self.setAccessibleName("各重点人群参与人次")

    def set_rows(self, rows: Sequence[BarRow]) -> None:
        self.rows = tuple(rows)
        self._current = min(self._current, max(len(self.rows) - 1, 0))
        self.updateGeometry()
        self.update()

    def _row_height(self) -> float:
        return QFontMetricsF(self.font()).height() + 10

    def sizeHint(self) -> QSize:
        fm = QFontMetricsF(self.font())
        rows = max(len(self.rows), 3)
        return QSize(360, int(rows * self._row_height() + fm.height() + 10))

    def minimumSizeHint(self) -> QSize:
        return QSize(240, self.sizeHint().height())

    def _geometry(self) -> tuple[float, float, float, float]:
        """(label width, bar left, bar max width, axis top)."""
        fm = QFontMetricsF(self.font())
        widest = max((fm.horizontalAdvance(r.label) for r in self.rows), default=0)
        label_w = min(widest, self.width() * 0.38)
        value_w = max((fm.horizontalAdvance(f"{r.value:,}") for r in self.rows), default=0)
        left = label_w + 12
        span = max(self.width() - left - value_w - 12, 10)
        return label_w, left, span, len(self.rows) * self._row_height() + 4

    def row_rect(self, index: int) -> QRectF:
        """The whole row ``index`` (label and bar), as drawn."""
        h = self._row_height()
        return QRectF(0, index * h, self.width(), h)

    def _hit(self, pos: QPointF) -> int | None:
        if not any(r.value for r in self.rows):
            return None  # "暂无数据" is shown instead of rows
        for i in range(len(self.rows)):
            if self.row_rect(i).contains(pos):
                return i
        return None

    def _count(self) -> int:
        return len(self.rows) if any(r.value for r in self.rows) else 0

    def _activate(self, index: int) -> None:
        self.bar_clicked.emit(self.rows[index].key)

    def _tooltip(self, index: int) -> str:
        row = self.rows[index]
        return f"{row.label}：{row.value:,} {self.unit}\n点击查看相关活动"

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = QFontMetricsF(self.font())
        if not any(r.value for r in self.rows):
            p.setPen(MUTED)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            p.end()
            return
        label_w, left, span, axis_top = self._geometry()
        top, step = nice_scale(max(r.value for r in self.rows))
        # vertical grid with tick labels underneath
        ticks = round(top / step)
        tick_font = _scaled_font(self.font(), 0.9)
        p.setFont(tick_font)
        for t in range(ticks + 1):
            x = left + span * t / ticks
            p.setPen(QPen(AXIS if t == 0 else GRID, 1))
            p.drawLine(QPointF(x, 0), QPointF(x, axis_top))
            p.setPen(MUTED)
            text = short_number(int(t * step))
            w = QFontMetricsF(tick_font).horizontalAdvance(text)
            p.drawText(QRectF(x - w / 2 - 2, axis_top + 2, w + 4, fm.height()),
                       Qt.AlignmentFlag.AlignCenter, text)
        p.setFont(self.font())
        h = self._row_height()
        for i, row in enumerate(self.rows):
            rect = self.row_rect(i)
            if self._highlighted(i):
                p.fillRect(rect, HOVER)
            if self.hasFocus() and i == self._current:
                p.setPen(QPen(MARKER, 1, Qt.PenStyle.DotLine))
                p.drawRect(rect.adjusted(1, 1, -1, -1))
            p.setPen(TEXT)
            label = fm.elidedText(row.label, Qt.TextElideMode.ElideRight, label_w)
            p.drawText(QRectF(4, rect.top(), label_w, h),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
            width = span * row.value / top if top else 0
            bar = QRectF(left, rect.top() + 5, width, h - 10)
            color = GROUP_COLOR.darker(115) if self._highlighted(i) else GROUP_COLOR
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(color)
            p.drawRoundedRect(bar, 2, 2)
            p.setPen(TEXT)
            p.drawText(QRectF(bar.right() + 6, rect.top(), self.width(), h),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       f"{row.value:,}")
        p.end()


# -- target progress ------------------------------------------------------------------


class TargetBar(QWidget):
    """One yearly target: name and 完成率, a bar with the time-elapsed marker, the figures.

    The bar is green when completion is at least the share of the year gone by,
    amber when it is less than 15 points behind, red when further behind; the
    thin dark line across it marks the share of the year gone by. The tooltip
    says by how many points progress lags (or leads) time. A click, Enter or
    Space emits :attr:`clicked`.
    """

    clicked = Signal()
    BAR_HEIGHT = 10

    def __init__(self, code: str, name: str, ytd_text: str, target_text: str, unit: str,
                 rate: Decimal | None, rate_text: str, elapsed: float,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.code = code
        self.name = name
        self.ytd_text = ytd_text
        self.target_text = target_text
        self.unit = unit
        self.rate = rate
        self.rate_text = rate_text
        self.elapsed = max(0.0, min(1.0, elapsed))
        self.status, self.gap = progress_status(rate, self.elapsed)
        self.figure_text = f"本年累计 {ytd_text} / 年度目标 {target_text} {unit}".rstrip()
        self.setObjectName(f"target_{code}")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._hover = False
        tip = progress_tip(self.gap, self.status)
        self.setToolTip(f"{name}\n{self.figure_text}\n完成率 {rate_text}，"
                        f"时间进度 {self.elapsed * 100:.1f}%\n{tip}\n点击查看相关活动")
        self.setAccessibleName(f"{name} 完成率 {rate_text}，{tip}")

    @property
    def color(self) -> QColor:
        return STATUS_COLORS[self.status]

    def sizeHint(self) -> QSize:
        fm = QFontMetricsF(self.font())
        return QSize(300, int(fm.height() + self.BAR_HEIGHT + 20))

    def minimumSizeHint(self) -> QSize:
        return QSize(200, self.sizeHint().height())

    def bar_rect(self) -> QRectF:
        """The bar's track, as drawn."""
        fm = QFontMetricsF(self.font())
        return QRectF(6, fm.height() + 9, self.width() - 12, self.BAR_HEIGHT)

    def marker_x(self) -> float:
        """Where the time-elapsed marker is drawn."""
        bar = self.bar_rect()
        return bar.left() + bar.width() * self.elapsed

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = QFontMetricsF(self.font())
        frame = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        if self._hover or self.hasFocus():
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(HOVER)
            p.drawRoundedRect(frame, 4, 4)
        if self.hasFocus():
            p.setPen(QPen(MARKER, 1, Qt.PenStyle.DotLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(frame, 4, 4)
        # line 1: name … 本年累计 / 年度目标 单位   完成率
        line = QRectF(6, 4, self.width() - 12, fm.height())
        bold = _scaled_font(self.font(), 1.0, bold=True)
        rate_w = QFontMetricsF(bold).horizontalAdvance(self.rate_text)
        p.setFont(bold)
        p.setPen(self.color)
        p.drawText(line, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                   self.rate_text)
        small = _scaled_font(self.font(), 0.9)
        sfm = QFontMetricsF(small)
        figures = f"{self.ytd_text} / {self.target_text} {self.unit}".rstrip()
        figures_w = sfm.horizontalAdvance(figures)
        p.setFont(small)
        p.setPen(MUTED)
        p.drawText(line.adjusted(0, 0, -rate_w - 10, 0),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, figures)
        p.setFont(self.font())
        p.setPen(TEXT)
        name = fm.elidedText(self.name, Qt.TextElideMode.ElideRight,
                             line.width() - rate_w - figures_w - 24)
        p.drawText(line, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
        # line 2: track, fill, elapsed marker
        bar = self.bar_rect()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(TRACK)
        p.drawRoundedRect(bar, bar.height() / 2, bar.height() / 2)
        share = min(float(self.rate), 1.0) if self.rate is not None else 0.0
        if share > 0:
            fill = QRectF(bar.left(), bar.top(), max(bar.width() * share, bar.height()),
                          bar.height())
            p.setBrush(self.color)
            p.drawRoundedRect(fill, bar.height() / 2, bar.height() / 2)
        x = self.marker_x()
        p.setPen(QPen(MARKER, 2))
        p.drawLine(QPointF(x, bar.top() - 4), QPointF(x, bar.bottom() + 4))
        p.end()

    def enterEvent(self, event: QEvent) -> None:
        self._hover = True
        self.update()
        super().enterEvent(event)  # type: ignore[arg-type]

    def leaveEvent(self, event: QEvent) -> None:
        self._hover = False
        self.update()
        super().leaveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
                event.position().toPoint()):
            self.clicked.emit()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.clicked.emit()
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: object) -> None:
        self.update()
        super().focusInEvent(event)  # type: ignore[arg-type]

    def focusOutEvent(self, event: object) -> None:
        self.update()
        super().focusOutEvent(event)  # type: ignore[arg-type]
