"""首页 (the dashboard): where the office stands against this year's targets, and what is due.

Every number on the page comes from :func:`db.indicators.compute_figures` (key
figures, target progress, charts) and :func:`db.todo.todo_list` (the to-do list);
the page only formats and draws them.

One computation per view: for the current year the period is *this month*, which
gives 本月 (``period``), 本年累计 (``ytd``) and the monthly series in one pass; for
an earlier year it is December, so ``ytd`` is the whole year. The computation runs
off the GUI thread (about 0.7 s on the 20 000-activity demo); meanwhile the page
keeps showing the previous values with "正在更新…" in its header. Requests made
while one runs are merged into one more run afterwards. When the page is hidden,
``data_changed()`` refreshes half a second later (after the page that saved has
refreshed itself), so the figures are usually fresh by the time the clerk returns.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QSize, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import (
    QCloseEvent,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from db.activities import ActivityInput, entry_defaults
from db.catalogs import all_catalogs, list_catalog
from db.database import Database
from db.errors import KepuError
from db.indicators import Figure, Figures, compute_figures
from db.offices import OfficeInfo
from db.periods import Period
from db.reporting import MonthState
from db.todo import TodoList, UpcomingCampaign, todo_list
from desktop.charts import (
    AMBER,
    GREEN,
    MARKER,
    RED,
    BarRow,
    HorizontalBarChart,
    MonthlyChart,
    TargetBar,
    group_digits,
)
from desktop.messages import BUG_MESSAGE
from reports.figures import format_rate, format_value

log = logging.getLogger(__name__)

LedgerRequest = dict[str, Any]


@dataclass(frozen=True)
class CardSpec:
    """A key-figure card: the indicator, its short title, and the ledger filter it opens."""

    code: str
    title: str
    form_code: str | None = None


KEY_FIGURES = (
    CardSpec("act.count", "科普活动次数"),
    CardSpec("act.attend", "参与人次"),
    CardSpec("act.online.views", "线上浏览量", "线上"),
    CardSpec("fund.spent", "经费支出"),
    CardSpec("train.count", "培训期数", "培训"),
    CardSpec("train.attend", "培训人次", "培训"),
    CardSpec("train.people", "培训人数", "培训"),
    CardSpec("fund.per_capita", "人均科普经费"),
)
CARD_COLUMNS = 4
UPCOMING_DAYS = 30
HIDDEN_REFRESH_DELAY_MS = 500  # see DashboardPage.data_changed

STYLE = f"""
#dashboardContent {{ background: #f4f6f9; }}
QFrame#panel, QFrame#card {{
    background: #ffffff; border: 1px solid #e1e5eb; border-radius: 8px;
}}
QLabel#muted, QLabel#cardCaption, QLabel#cardUnit {{ color: #67707c; }}
QLabel#legend {{ color: #67707c; }}
QPushButton#cardValue, QPushButton#cardMonth {{
    border: none; background: transparent; text-align: left; padding: 0px 2px;
}}
QPushButton#cardValue {{ color: #1f2329; }}
QPushButton#cardMonth {{ color: #4a5360; }}
QPushButton#cardValue:hover, QPushButton#cardMonth:hover {{ color: #2f6bbd; }}
QPushButton#cardValue:focus, QPushButton#cardMonth:focus {{
    background: #eaf1fb; border-radius: 4px;
}}
QFrame#todoRow {{ border-radius: 6px; }}
QFrame#todoRow:hover, QFrame#todoRow:focus {{ background: #eef3fb; }}
QLabel#overdue {{ color: {RED.name()}; font-weight: bold; }}
QLabel#due {{ color: #4a5360; }}
QLabel#count {{ color: #1f2329; font-weight: bold; }}
"""


def format_figure(value: object, kind: str) -> str:
    """A figure's text: :func:`reports.figures.format_value` with thousands separators."""
    return group_digits(format_value(value, kind))  # type: ignore[arg-type]


def format_day(day: dt.date) -> str:
    """2025年10月5日."""
    return f"{day.year}年{day.month}月{day.day}日"


def month_label(month: str) -> str:
    """'2025-09' → 2025年9月."""
    return f"{int(month[:4])}年{int(month[5:7])}月"


def elapsed_share(year: int, today: dt.date) -> float:
    """The share of ``year`` gone by on ``today``: day of year ÷ days in the year."""
    if year < today.year:
        return 1.0
    if year > today.year:
        return 0.0
    days = (dt.date(year, 12, 31) - dt.date(year, 1, 1)).days + 1
    return today.timetuple().tm_yday / days


def view_period(year: int, today: dt.date) -> Period:
    """The period computed for a year's view: this month for the current year, else December."""
    if year == today.year:
        return Period.month_of(today)
    return Period(year, "month", 12)


# -- loading (plain Python, runs off the GUI thread) ------------------------------------


@dataclass(frozen=True)
class DashboardData:
    """Everything the figure part of the page shows, as plain values."""

    year: int
    today: dt.date
    figures: Figures
    elapsed: float
    form_ids: dict[str, str]  # catalog code → id, for ledger requests
    campaign_ids: dict[str, str]
    group_ids: dict[str, str]
    group_names: dict[str, str]  # visible groups (and used hidden ones) in catalog order

    @property
    def period(self) -> Period:
        return self.figures.period

    @property
    def is_current_year(self) -> bool:
        return self.year == self.today.year

    def targets(self) -> list[Figure]:
        """The indicators that have a target this year, in report order."""
        return [f for f in self.figures.items.values() if f.target is not None]


def load_figures(db: Database, office: OfficeInfo, year: int, today: dt.date) -> DashboardData:
    """Compute a year's view (one :func:`compute_figures` call)."""
    with db.session() as s:
        figures = compute_figures(s, office, view_period(year, today))
        catalogs = all_catalogs(s)
    ids = {kind: {e.code: e.id for e in catalogs[kind]} for kind in ("form", "campaign", "group")}
    names = {}
    for g in catalogs["group"]:
        fig = figures.items.get(f"group.{g.code}.attend")
        if not g.hidden or (fig is not None and fig.ytd):
            names[g.code] = g.name
    return DashboardData(year, today, figures, elapsed_share(year, today), ids["form"],
                         ids["campaign"], ids["group"], names)


def load_todo(db: Database, office: OfficeInfo, today: dt.date) -> TodoList:
    """The to-do list for ``today``."""
    with db.session() as s:
        return todo_list(s, office, today)


def campaign_activity(db: Database, office: OfficeInfo,
                      campaign: UpcomingCampaign) -> ActivityInput:
    """A new activity for an upcoming campaign: its usual date, a title to edit, last place."""
    with db.session() as s:
        defaults = entry_defaults(s, office)
        forms = list_catalog(s, "form", include_hidden=False)
    return ActivityInput(
        title=f"“{campaign.name}”科普活动",
        start_date=campaign.day,
        end_date=campaign.day,
        form_id=forms[0].id if forms else "",
        campaign_id=campaign.campaign_id,
        village=defaults.village,
        address=defaults.address,
        organizer=defaults.organizer,
    )


class _Loader(QThread):
    """One refresh off the GUI thread: the to-do list (fast) first, then the figures.

    It has no parent: if the page goes away meanwhile the thread finishes on its
    own (kept alive by :data:`_LOADERS`) and its results go nowhere.
    """

    todo_ready = Signal(object)
    figures_ready = Signal(object)
    failed = Signal(str)

    def __init__(self, db: Database, office: OfficeInfo, year: int, today: dt.date,
                 with_todo: bool) -> None:
        super().__init__()
        self._args = (db, office, year, today)
        self._with_todo = with_todo

    def run(self) -> None:
        db, office, year, today = self._args
        try:
            if self._with_todo:
                self.todo_ready.emit(load_todo(db, office, today))
            self.figures_ready.emit(load_figures(db, office, year, today))
        except KepuError as err:
            self.failed.emit(str(err))
        except Exception:  # noqa: BLE001 - a bug: logged, the page says so
            log.exception("首页统计出错")
            self.failed.emit(BUG_MESSAGE)


_LOADERS: set[_Loader] = set()
_QUIT_HOOKED = False


def wait_for_loaders() -> None:
    """Let running computations end (the application is quitting)."""
    for loader in list(_LOADERS):
        loader.wait()


# -- small widgets ----------------------------------------------------------------------


def _font(base: QFont, factor: float = 1.0, bold: bool = False) -> QFont:
    font = QFont(base)
    font.setPointSizeF(base.pointSizeF() * factor)
    font.setBold(bold)
    return font


def _label(text: str = "", name: str = "", font: QFont | None = None) -> QLabel:
    label = QLabel(text)
    if name:
        label.setObjectName(name)
    if font is not None:
        label.setFont(font)
    return label


class Panel(QFrame):
    """A white section with a bold title, an optional right-hand note and a body layout."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(14, 10, 14, 12)
        outer.setSpacing(8)
        self.header = QHBoxLayout()
        self.title_label = _label(title, "panelTitle", _font(self.font(), 1.1, bold=True))
        self.header.addWidget(self.title_label)
        self.header.addStretch(1)
        outer.addLayout(self.header)
        self.body = QVBoxLayout()
        self.body.setSpacing(4)
        outer.addLayout(self.body)


class FigureCard(QFrame):
    """One key figure: 本年累计 (or 全年) big, 本月 underneath; both open the ledger."""

    BIG = 1.9  # the big number's size relative to the page font
    MARGINS = (12, 8, 10, 8)

    def __init__(self, spec: CardSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.setObjectName("card")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        base = self.font()
        self.title_label = _label(spec.title, "cardTitle")
        self.caption_label = _label("", "cardCaption", _font(base, 0.9))
        self.value_button = QPushButton("…")
        self.value_button.setObjectName("cardValue")
        self.value_button.setFont(_font(base, self.BIG, bold=True))
        self.value_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.value_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.value_button.setFixedHeight(
            QFontMetrics(self.value_button.font()).height() + 4)
        self.unit_label = _label("", "cardUnit")
        self.month_button = QPushButton("")
        self.month_button.setObjectName("cardMonth")
        self.month_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.month_button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

        top = QHBoxLayout()
        top.addWidget(self.title_label)
        top.addStretch(1)
        top.addWidget(self.caption_label)
        value_row = QHBoxLayout()
        value_row.setSpacing(4)
        value_row.addWidget(self.value_button)
        value_row.addWidget(self.unit_label, 0, Qt.AlignmentFlag.AlignBottom)
        value_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(*self.MARGINS)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addLayout(value_row)
        layout.addWidget(self.month_button)
        self._value_text = "…"

    def set_values(self, figure: Figure, current_year: bool, month_name: str) -> None:
        """Show a figure's 本年累计 and 本月 (only 全年 for an earlier year)."""
        self._value_text = format_figure(figure.ytd, figure.kind)
        self.value_button.setText(self._value_text)
        self.unit_label.setText(figure.unit)
        self.caption_label.setText("本年累计" if current_year else "全年")
        self.month_button.setVisible(current_year)
        if current_year:
            month_text = format_figure(figure.period, figure.kind)
            self.month_button.setText(f"{month_name} {month_text} {figure.unit}")
        self.setToolTip(f"{figure.name}（{figure.code}）\n点击数字查看相应的活动")
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        """Size the big number to its text, shrinking the font if the card is too narrow."""
        left, _top, right, _bottom = self.MARGINS
        unit = self.unit_label.sizeHint().width() if self.unit_label.text() else 0
        room = self.width() - left - right - unit - 10
        if room <= 0:
            return
        font = _font(self.font(), self.BIG, bold=True)
        smallest = self.font().pointSizeF()
        while (font.pointSizeF() > smallest
               and QFontMetrics(font).horizontalAdvance(self._value_text) + 8 > room):
            font.setPointSizeF(font.pointSizeF() - 1)
        if font != self.value_button.font():
            self.value_button.setFont(font)
        text_width = QFontMetrics(font).horizontalAdvance(self._value_text) + 8
        self.value_button.setFixedWidth(min(text_width, room))


class TodoRow(QFrame):
    """A clickable to-do line: text on the left, a status or count on the right."""

    clicked = Signal()

    def __init__(self, text: str, right: str = "", right_name: str = "due",
                 tip: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("todoRow")
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.text_label = QLabel(text)
        self.right_label = _label(right, right_name)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 5, 8, 5)
        row.addWidget(self.text_label, 1)
        row.addWidget(self.right_label)
        if tip:
            self.setToolTip(tip)
        self.setAccessibleName(f"{text} {right}")

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
                event.position().toPoint()):
            self.clicked.emit()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.clicked.emit()
            return
        super().keyPressEvent(event)


def _clear(layout: QVBoxLayout | QGridLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget()
        if widget is not None:
            widget.hide()
            widget.deleteLater()
        elif item.layout() is not None:
            _clear(item.layout())  # type: ignore[arg-type]


# -- the page ---------------------------------------------------------------------------


class DashboardPage(QWidget):
    """首页: key figures, target progress, monthly and group charts, and the to-do list.

    Signals (the main window routes them):
        open_ledger(dict): show the activity ledger filtered by a request. A plain
            dict; every key is optional and the keys combine (AND):

            - ``date_from``, ``date_to`` (``datetime.date``): activities starting
              within these dates, both inclusive.
            - ``form_code`` (catalog code: 培训, 线上, 讲座 …) and ``form_id``: 活动形式.
            - ``campaign_code`` and ``campaign_id``: 主题活动.
            - ``group_code`` (青少年, 农民 …) and ``group_id``: 重点人群.
            - ``missing_evidence`` (``True``): only activities without 佐证材料.
            - ``ids`` (list of activity ids): exactly these activities (e.g. the
              trainings without a 花名册).
            - ``label`` (str): what was clicked, in Chinese, e.g.
              “首页：2025年9月 培训”, for the ledger to show above its table.

            Codes and ids name the same entry; use whichever is convenient.
        open_reports(str): show the reports page for a month ('2025-09').
        new_activity(ActivityInput): open the activity form pre-filled
            (``ActivityDialog(db, office, initial=...)``) — a new activity of an
            upcoming campaign, title editable.
        open_targets(): show where the yearly targets are set.
        loaded(): the latest requested figures are on screen (tests, benchmarks).

    Slots: ``data_changed()`` (something was saved elsewhere) and ``refresh()``.
    """

    open_ledger = Signal(object)
    open_reports = Signal(str)
    new_activity = Signal(object)
    open_targets = Signal()
    loaded = Signal()

    def __init__(self, db: Database, office: OfficeInfo, parent: QWidget | None = None, *,
                 today: dt.date | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.office = office
        self._fixed_today = today
        self.year = self.today().year
        self.data: DashboardData | None = None
        self.todo: TodoList | None = None
        self.error: str | None = None
        self._loader: _Loader | None = None
        self._pending = False
        self._pending_todo = False
        self._stale = False
        self._hidden_timer = QTimer(self)
        self._hidden_timer.setSingleShot(True)
        self._hidden_timer.setInterval(HIDDEN_REFRESH_DELAY_MS)
        self._hidden_timer.timeout.connect(self._refresh_if_stale)
        _hook_quit()

        self._request(with_todo=True)  # start computing before building the widgets
        self._build()

    # -- construction ---------------------------------------------------------------

    def today(self) -> dt.date:
        """The date the page works with (fixed in tests and benchmarks)."""
        return self._fixed_today or dt.date.today()

    def _build(self) -> None:
        self.setStyleSheet(STYLE)
        base = self.font()
        title = _label("首页", "pageTitle", _font(base, 1.4, bold=True))
        self.subtitle_label = _label("", "muted")
        self.status_label = _label("", "muted")
        self.year_combo = QComboBox()
        self.year_combo.setAccessibleName("年度")
        this_year = self.today().year
        for year in (this_year, this_year - 1):
            self.year_combo.addItem(f"{year}年", year)
        self.year_combo.currentIndexChanged.connect(self._year_picked)
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.setShortcut(QKeySequence(Qt.Key.Key_F5))
        self.refresh_button.setToolTip("重新统计（F5）")
        self.refresh_button.clicked.connect(self.refresh)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addSpacing(12)
        header.addWidget(self.subtitle_label, 0, Qt.AlignmentFlag.AlignBottom)
        header.addStretch(1)
        header.addWidget(self.status_label)
        header.addSpacing(8)
        header.addWidget(_label("年度："))
        header.addWidget(self.year_combo)
        header.addWidget(self.refresh_button)

        # key figures
        self.cards: dict[str, FigureCard] = {}
        cards_box = QWidget()
        cards_grid = QGridLayout(cards_box)
        cards_grid.setContentsMargins(0, 0, 0, 0)
        cards_grid.setSpacing(10)
        for i, spec in enumerate(KEY_FIGURES):
            card = FigureCard(spec)
            card.value_button.clicked.connect(lambda _=False, s=spec: self._card_clicked(s, False))
            card.month_button.clicked.connect(lambda _=False, s=spec: self._card_clicked(s, True))
            cards_grid.addWidget(card, i // CARD_COLUMNS, i % CARD_COLUMNS)
            self.cards[spec.code] = card
        for col in range(CARD_COLUMNS):
            cards_grid.setColumnStretch(col, 1)

        # targets
        self.targets_panel = Panel("年度目标进度")
        self.legend_label = _label("", "legend", _font(base, 0.9))
        self.targets_panel.header.addWidget(self.legend_label)
        self.targets_grid = QGridLayout()
        self.targets_grid.setHorizontalSpacing(16)
        self.targets_grid.setVerticalSpacing(4)
        self.targets_panel.body.addLayout(self.targets_grid)
        self.target_bars: dict[str, TargetBar] = {}
        self.no_targets = QWidget()
        no_row = QHBoxLayout(self.no_targets)
        no_row.setContentsMargins(0, 4, 0, 4)
        self.no_targets_label = _label("", "muted")
        self.set_targets_button = QPushButton("设置年度目标")
        self.set_targets_button.clicked.connect(self.open_targets)
        no_row.addWidget(self.no_targets_label)
        no_row.addSpacing(8)
        no_row.addWidget(self.set_targets_button)
        no_row.addStretch(1)
        self.no_targets.hide()
        self.targets_panel.body.addWidget(self.no_targets)

        # to-do
        self.todo_panel = Panel("待办事项")
        self.todo_date_label = _label("", "muted", _font(base, 0.9))
        self.todo_panel.header.addWidget(self.todo_date_label)
        self.todo_box = QVBoxLayout()
        self.todo_box.setSpacing(2)
        self.todo_panel.body.addLayout(self.todo_box)
        self.todo_rows: dict[str, TodoRow] = {}
        self.campaign_buttons: dict[str, QPushButton] = {}
        self.todo_empty_label = _label("暂无待办事项", "muted")
        self.todo_empty_label.hide()
        self.todo_panel.body.addWidget(self.todo_empty_label)

        # charts
        self.monthly_panel = Panel("各月科普活动次数与参与人次")
        self.monthly_chart = MonthlyChart()
        self.monthly_chart.month_clicked.connect(self._month_clicked)
        self.monthly_panel.body.addWidget(self.monthly_chart)
        self.groups_panel = Panel("各重点人群参与人次")
        self.groups_note = _label("", "muted", _font(base, 0.9))
        self.groups_panel.header.addWidget(self.groups_note)
        self.group_chart = HorizontalBarChart("人次")
        self.group_chart.bar_clicked.connect(self._group_clicked)
        self.groups_panel.body.addWidget(self.group_chart)

        content = QWidget()
        content.setObjectName("dashboardContent")
        content.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        grid = QGridLayout(content)
        grid.setContentsMargins(12, 8, 12, 12)
        grid.setSpacing(12)
        # Two columns stacked independently: figures on the left; what is due and
        # the groups on the right, so both are in sight without scrolling.
        left = QVBoxLayout()
        left.setSpacing(12)
        left.addWidget(cards_box)
        left.addWidget(self.targets_panel)
        left.addWidget(self.monthly_panel)
        left.addStretch(1)
        right = QVBoxLayout()
        right.setSpacing(12)
        right.addWidget(self.todo_panel)
        right.addWidget(self.groups_panel)
        right.addStretch(1)
        grid.addLayout(header, 0, 0, 1, 2)
        grid.addLayout(left, 1, 0)
        grid.addLayout(right, 1, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll)
        self._update_header()

    def sizeHint(self) -> QSize:
        return QSize(1100, 680)

    # -- refreshing -----------------------------------------------------------------

    @Slot()
    def refresh(self) -> None:
        """Compute everything again (figures and to-do list)."""
        self._stale = False
        self._hidden_timer.stop()
        self._request(with_todo=True)

    @Slot()
    def data_changed(self) -> None:
        """Something was saved elsewhere: refresh.

        When the page is hidden (the clerk is working on another page) the
        refresh starts a moment later, so the page that saved refreshes first
        and a burst of saves costs one computation; showing the page refreshes
        at once if that has not happened yet.
        """
        if self.isVisible():
            self.refresh()
            return
        self._stale = True
        self._hidden_timer.start()

    @Slot()
    def _refresh_if_stale(self) -> None:
        if self._stale:
            self.refresh()

    def is_loading(self) -> bool:
        return self._loader is not None

    def _request(self, *, with_todo: bool) -> None:
        self._pending_todo |= with_todo
        if self._loader is not None:  # one more run after the current one
            self._pending = True
        else:
            self._start()
        self._update_header()

    def _start(self) -> None:
        with_todo, self._pending, self._pending_todo = self._pending_todo, False, False
        loader = _Loader(self.db, self.office, self.year, self.today(), with_todo)
        loader.todo_ready.connect(self._show_todo)
        loader.figures_ready.connect(self._show_figures)
        loader.failed.connect(self._failed)
        loader.finished.connect(self._loader_finished)
        self._loader = loader
        self.error = None
        _LOADERS.add(loader)
        loader.start()

    @Slot()
    def _loader_finished(self) -> None:
        loader = self._loader
        if loader is not None:
            loader.wait()
            _LOADERS.discard(loader)
            loader.deleteLater()
        self._loader = None
        if self._pending:
            self._start()
        self._update_header()
        if self._loader is None and self.error is None:
            self.loaded.emit()

    @Slot(str)
    def _failed(self, message: str) -> None:
        self.error = message
        self._update_header()

    @Slot(int)
    def _year_picked(self, index: int) -> None:
        year = self.year_combo.itemData(index)
        if isinstance(year, int) and year != self.year:
            self.year = year
            self._request(with_todo=False)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._loader is not None:
            self._loader.wait()
        super().closeEvent(event)

    def _update_header(self) -> None:
        if not hasattr(self, "status_label"):
            return
        today = self.today()
        self.subtitle_label.setText(f"{self.office.name} · 今天是{format_day(today)}")
        if self._loader is not None:
            self.status_label.setStyleSheet("")
            self.status_label.setText("正在统计…" if self.data is None else "正在更新…")
        elif self.error:
            self.status_label.setStyleSheet(f"color: {RED.name()};")
            self.status_label.setText(f"统计失败：{self.error}")
        else:
            self.status_label.setStyleSheet("")
            self.status_label.setText(f"更新于 {dt.datetime.now():%H:%M}")

    # -- showing --------------------------------------------------------------------

    @Slot(object)
    def _show_figures(self, data: DashboardData) -> None:
        if data.year != self.year:
            return  # the year was changed meanwhile; its own run is coming
        self.data = data
        figures = data.figures
        month_name = "本月" if data.is_current_year else ""
        for spec in KEY_FIGURES:
            self.cards[spec.code].set_values(figures[spec.code], data.is_current_year,
                                             month_name)
        self._show_targets(data)
        self.monthly_chart.set_data(data.year, figures.monthly)
        self.monthly_panel.title_label.setText(f"{data.year}年各月科普活动次数与参与人次")
        rows = [BarRow(code, name, int(figures[f"group.{code}.attend"].ytd or 0))
                for code, name in data.group_names.items()]
        rows.sort(key=lambda r: -r.value)  # stable: ties keep catalog order
        self.group_chart.set_rows(rows)
        self.groups_note.setText("本年累计" if data.is_current_year else "全年")
        self._update_tab_order()

    def _show_targets(self, data: DashboardData) -> None:
        _clear(self.targets_grid)
        self.target_bars = {}
        targets = data.targets()
        self.no_targets.setVisible(not targets)
        self.legend_label.setVisible(bool(targets))
        self.legend_label.setText(_legend_html(data.elapsed))
        self.no_targets_label.setText(
            f"尚未设置{data.year}年的年度目标，设置后这里显示各项目标的完成进度。")
        for i, fig in enumerate(targets):
            bar = TargetBar(fig.code, fig.name, format_figure(fig.ytd, fig.kind),
                            format_figure(fig.target, fig.kind), fig.unit, fig.rate,
                            format_rate(fig.rate), data.elapsed)
            bar.clicked.connect(lambda c=fig.code: self._target_clicked(c))
            self.targets_grid.addWidget(bar, i // 2, i % 2)
            if self.isVisible():
                bar.show()  # now, not at the next pass of the event loop
            self.target_bars[fig.code] = bar
        self.targets_grid.setColumnStretch(0, 1)
        self.targets_grid.setColumnStretch(1, 1)

    @Slot(object)
    def _show_todo(self, todo: TodoList) -> None:
        self.todo = todo
        today = self.today()
        _clear(self.todo_box)
        self.todo_rows = {}
        self.campaign_buttons = {}
        self.todo_date_label.setText(f"截至{format_day(today)}")
        for state in todo.unreported:
            self._add_month_row(state, today)
        if todo.missing_evidence:
            row = TodoRow("缺少佐证材料的活动", f"{len(todo.missing_evidence):,} 项", "count",
                          "今年已登记、还没有照片、签到表等佐证材料的活动；点击查看")
            row.clicked.connect(self._missing_evidence_clicked)
            self._add_row("missing_evidence", row)
        if todo.missing_roster:
            row = TodoRow("未录入花名册的培训", f"{len(todo.missing_roster):,} 期", "count",
                          "今年的培训中还没有录入学员花名册的；点击查看")
            row.clicked.connect(self._missing_roster_clicked)
            self._add_row("missing_roster", row)
        if todo.upcoming:
            heading = _label(f"近{UPCOMING_DAYS}天的主题活动", "muted", _font(self.font(), 0.9))
            heading.setContentsMargins(8, 8, 0, 2)
            self.todo_box.addWidget(heading)
            for campaign in todo.upcoming:
                self.todo_box.addWidget(self._campaign_row(campaign, today))
        self.todo_empty_label.setVisible(
            not (todo.unreported or todo.missing_evidence or todo.missing_roster
                 or todo.upcoming))
        if self.isVisible():  # now, not at the next pass of the event loop
            for i in range(self.todo_box.count()):
                widget = self.todo_box.itemAt(i).widget()
                if widget is not None:
                    widget.show()
        self._update_tab_order()

    def _update_tab_order(self) -> None:
        """Tab goes through the page top to bottom, left column first, then the right."""
        chain: list[QWidget] = [self.year_combo, self.refresh_button]
        for card in self.cards.values():
            chain += [card.value_button, card.month_button]
        chain += list(self.target_bars.values()) or [self.set_targets_button]
        chain.append(self.monthly_chart)
        campaign_buttons = list(self.campaign_buttons.values())
        chain += [*self.todo_rows.values(), *campaign_buttons]
        chain.append(self.group_chart)
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def _add_row(self, key: str, row: TodoRow) -> None:
        self.todo_rows[key] = row
        self.todo_box.addWidget(row)

    def _add_month_row(self, state: MonthState, today: dt.date) -> None:
        label = f"{month_label(state.month)}月报"
        if state.revision:
            label += f"（已重新打开，待报送第{state.revision}次修订）"
        else:
            label += "未上报"
        due = f"应于{format_day(state.due)}前报送"
        if state.overdue(today):
            right, name = f"逾期 {(today - state.due).days} 天", "overdue"
        else:
            right, name = f"{format_day(state.due)}前报送", "due"
        row = TodoRow(label, right, name, f"{due}；点击打开该月的报表")
        row.setProperty("overdue", state.overdue(today))
        row.setProperty("month", state.month)
        row.clicked.connect(lambda m=state.month: self.open_reports.emit(m))
        self._add_row(f"month:{state.month}", row)

    def _campaign_row(self, campaign: UpcomingCampaign, today: dt.date) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(8, 2, 4, 2)
        days = (campaign.day - today).days
        when = "今天" if days == 0 else f"还有 {days} 天"
        row.addWidget(QLabel(campaign.name))
        date_text = f"{campaign.day.month}月{campaign.day.day}日"
        if campaign.when not in ("", date_text, f"{campaign.day.month}月"):
            date_text += f"（{campaign.when}）"
        row.addWidget(_label(f"{date_text} · {when}", "muted"), 1)
        button = QPushButton("新建活动")
        button.setToolTip(f"登记一项“{campaign.name}”活动")
        button.clicked.connect(lambda _=False, c=campaign: self._new_campaign_activity(c))
        row.addWidget(button)
        self.campaign_buttons[campaign.campaign_id] = button
        return box

    # -- requests -------------------------------------------------------------------

    def _year_range(self) -> tuple[dt.date, dt.date]:
        """1 January to the end of the period computed (this month, or 31 December)."""
        assert self.data is not None
        return self.data.period.year_start, self.data.period.end

    def _request_for(self, label: str, *, month: bool = False,
                     **filters: Any) -> LedgerRequest:
        assert self.data is not None
        period = self.data.period
        first, last = (period.start, period.end) if month else self._year_range()
        when = period.label if month else (f"{self.data.year}年" if not
                                           self.data.is_current_year else
                                           f"{self.data.year}年1—{period.number}月")
        return {"date_from": first, "date_to": last, **filters,
                "label": f"首页：{when} {label}".rstrip()}

    def _form(self, code: str | None) -> dict[str, Any]:
        if code is None or self.data is None:
            return {}
        return {"form_code": code, "form_id": self.data.form_ids.get(code)}

    def _card_clicked(self, spec: CardSpec, month: bool) -> None:
        if self.data is None:
            return
        self.open_ledger.emit(self._request_for(spec.title, month=month,
                                                **self._form(spec.form_code)))

    def target_filters(self, code: str) -> dict[str, Any]:
        """The ledger filter an indicator maps to (empty: just the year's range)."""
        assert self.data is not None
        parts = code.split(".")
        if parts[0] == "camp" and len(parts) == 3:
            return {"campaign_code": parts[1],
                    "campaign_id": self.data.campaign_ids.get(parts[1])}
        if parts[0] == "form" and len(parts) == 3:
            return self._form(parts[1])
        if parts[0] == "group" and len(parts) == 3:
            return {"group_code": parts[1], "group_id": self.data.group_ids.get(parts[1])}
        if parts[0] == "train":
            filters = self._form("培训")
            if len(parts) == 3:
                filters |= {"group_code": parts[1],
                            "group_id": self.data.group_ids.get(parts[1])}
            return filters
        if parts[:2] == ["act", "online"]:
            return self._form("线上")
        return {}

    def _target_clicked(self, code: str) -> None:
        if self.data is None:
            return
        fig = self.data.figures[code]
        self.open_ledger.emit(self._request_for(fig.name, **self.target_filters(code)))

    @Slot(int)
    def _month_clicked(self, month: int) -> None:
        if self.data is None:
            return
        period = Period(self.data.year, "month", month)
        self.open_ledger.emit({"date_from": period.start, "date_to": period.end,
                               "label": f"首页：{period.label}"})

    @Slot(str)
    def _group_clicked(self, code: str) -> None:
        if self.data is None:
            return
        name = self.data.group_names.get(code, code)
        self.open_ledger.emit(self._request_for(
            name, group_code=code, group_id=self.data.group_ids.get(code)))

    def _todo_range(self) -> tuple[dt.date, dt.date]:
        today = self.today()
        return dt.date(today.year, 1, 1), today

    @Slot()
    def _missing_evidence_clicked(self) -> None:
        first, last = self._todo_range()
        self.open_ledger.emit({"date_from": first, "date_to": last, "missing_evidence": True,
                               "label": "首页：缺少佐证材料的活动"})

    @Slot()
    def _missing_roster_clicked(self) -> None:
        if self.todo is None:
            return
        first, last = self._todo_range()
        forms = self._form("培训") if self.data is not None else {"form_code": "培训"}
        self.open_ledger.emit({"ids": list(self.todo.missing_roster), "date_from": first,
                               "date_to": last, **forms, "label": "首页：未录入花名册的培训"})

    def _new_campaign_activity(self, campaign: UpcomingCampaign) -> None:
        self.new_activity.emit(campaign_activity(self.db, self.office, campaign))


def _legend_html(elapsed: float) -> str:
    def dot(color: str, text: str) -> str:
        return f"<span style='color:{color}'>■</span> {text}"

    return "&nbsp;&nbsp;".join((
        dot(GREEN.name(), "达到时间进度"),
        dot(AMBER.name(), "落后15个百分点以内"),
        dot(RED.name(), "落后较多"),
        f"<span style='color:{MARKER.name()}'><b>|</b></span> 时间进度 {elapsed * 100:.0f}%",
    ))


def _hook_quit() -> None:
    """Wait for running computations before the application quits (once)."""
    global _QUIT_HOOKED
    app = QCoreApplication.instance()
    if app is not None and not _QUIT_HOOKED:
        app.aboutToQuit.connect(wait_for_loaders)
        _QUIT_HOOKED = True


