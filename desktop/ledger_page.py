"""活动台账: the clerk's daily screen — filter, find, open, copy and delete activities.

The table shows a :class:`~desktop.ledger_model.LedgerModel`; every filter and
sort runs in SQL. Deleting goes through a :class:`QUndoStack` (Ctrl+Z puts the
activity back with its roster and evidence). Column widths, hidden columns and
the sort order persist in ``QSettings("kepu", "kepu")`` under ``ledger/``.

Benchmark hook: with the environment variable ``KEPU_BENCH_PAINTED=1`` the page
prints ``KEPU_BENCH_PAINTED <seconds>`` (time since the process started) once
its table has first painted rows, and quits the application
(see ``bench/bench_ledger.py``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence

from PySide6.QtCore import (
    QDate,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPoint,
    QSettings,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAction,
    QKeyEvent,
    QKeySequence,
    QPalette,
    QShowEvent,
    QUndoCommand,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from db.activities import (
    DeletedActivity,
    delete_activity,
    duplicate_input,
    get_activity,
    restore_activity,
)
from db.catalogs import list_catalog
from db.database import Database
from db.errors import KepuError
from db.ledger import QUICK_RANGES, LedgerFilter, quick_range, village_choices
from db.offices import OfficeInfo
from desktop import messages
from desktop.ledger_model import COLUMNS, ID_ROLE, LedgerModel, column_index, format_dates
from desktop.widgets import exec_changed, select_row

log = logging.getLogger(__name__)

SEARCH_DEBOUNCE_MS = 150
SETTINGS_GROUP = "ledger"
BENCH_ENV = "KEPU_BENCH_PAINTED"
ALL_DATES = "全部日期"
CUSTOM_DATES = "自定义"
NO_DATE = QDate(2000, 1, 1)  # a date edit at this minimum means 不限 (no bound)
UNDO_TITLE_CHARS = 24
MAX_DELETE = 500  # one delete is one transaction per activity; keep a slip of Ctrl+A harmless

EMPTY_TEXT = "还没有登记活动。\n点击“新建活动”或按 Ctrl+N 登记第一项活动。"
NO_MATCH_TEXT = "没有符合筛选条件的活动。<br><a href=\"clear\">清除筛选</a>"


def activity_dialog_class() -> type[QDialog]:
    """The activity form (imported late: it is a separate, heavier module)."""
    from desktop.activity_form import ActivityDialog

    return ActivityDialog


def _short(title: str) -> str:
    return title if len(title) <= UNDO_TITLE_CHARS else title[:UNDO_TITLE_CHARS - 1] + "…"


# -- filter bar --------------------------------------------------------------------------


class DateEdit(QDateEdit):
    """A date with a 不限 state (its minimum), opening on today rather than on 2000."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setCalendarPopup(True)
        self.setDisplayFormat("yyyy-MM-dd")
        self.setDateRange(NO_DATE, QDate(2099, 12, 31))
        self.setSpecialValueText("不限")
        self.setDate(NO_DATE)
        self._advanced = False
        self.calendarWidget().installEventFilter(self)

    def value(self) -> dt.date | None:
        """The date, or None for 不限."""
        date = self.date()
        return None if date == NO_DATE else date.toPython()

    def set_value(self, day: dt.date | None) -> None:
        """Show ``day`` (None: 不限)."""
        self.setDate(NO_DATE if day is None else QDate(day.year, day.month, day.day))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Type a date as 2025-09-18, 2025/9/18 or 20250918; clearing it all means 不限."""
        key, text = event.key(), event.text()
        if self.date() == NO_DATE and text.isdigit():
            self.setDate(QDate.currentDate())
            self.setSelectedSection(QDateEdit.Section.YearSection)
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and (
                self.lineEdit().selectedText() == self.lineEdit().text()):
            self.setDate(NO_DATE)
            self.selectAll()
            return
        elif text in ("-", "/", ".") and text:
            if not self._advanced:  # (else the section moved on by itself after its digits)
                following = {QDateEdit.Section.YearSection: QDateEdit.Section.MonthSection,
                             QDateEdit.Section.MonthSection: QDateEdit.Section.DaySection}
                section = following.get(self.currentSection())
                if section is not None:
                    self.setSelectedSection(section)
            self._advanced = False
            return
        before = self.currentSection()
        super().keyPressEvent(event)
        self._advanced = text.isdigit() and self.currentSection() != before

    def stepBy(self, steps: int) -> None:
        """Arrow keys on 不限 start from today instead of from 2000-01-01."""
        if self.date() == NO_DATE:
            self.setDate(QDate.currentDate())
            return
        super().stepBy(steps)

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: A002 - Qt's name
        """Let Tab move on to the next filter.

        QDateEdit would step through its sections, and on 不限 it would never
        let go of the focus.
        """
        return QWidget.focusNextPrevChild(self, next)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show and self.date() == NO_DATE:
            today = QDate.currentDate()
            self.calendarWidget().setCurrentPage(today.year(), today.month())
        return super().eventFilter(watched, event)


class FilterBar(QWidget):
    """The ledger's filters; ``changed`` is emitted when the filter changes.

    The search box filters as the clerk types: a keystroke (or an input-method
    word) after a pause at once, keystrokes in quick succession once typing pauses
    for :data:`SEARCH_DEBOUNCE_MS`. The search box is created here but laid out by
    the page (on the top row).
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.today: Callable[[], dt.date] = dt.date.today
        self._quiet = False

        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("搜索名称、地点、简介…")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setToolTip("输入后自动筛选（Ctrl+F）；多个词用空格分开")
        self.search_timer = QTimer(self)
        self.search_timer.setSingleShot(True)
        self.search_timer.setInterval(SEARCH_DEBOUNCE_MS)
        self.search_timer.timeout.connect(self._search_due)
        self.search_edit.textChanged.connect(self._search_edited)
        self._searched_at = -1.0  # time.monotonic() when the search text was last applied

        self.date_combo = QComboBox()
        self.date_combo.addItems([ALL_DATES, *QUICK_RANGES, CUSTOM_DATES])
        self.date_combo.setToolTip("日期范围（按活动开始日期）")
        self.date_combo.activated.connect(self._quick_picked)
        self.date_from = DateEdit()
        self.date_from.setToolTip("开始日期不早于")
        self.date_to = DateEdit()
        self.date_to.setToolTip("开始日期不晚于")
        self.date_from.dateChanged.connect(self._date_edited)
        self.date_to.dateChanged.connect(self._date_edited)

        self.form_combo = self._combo("全部形式", "活动形式")
        self.campaign_combo = self._combo("全部主题活动", "主题活动")
        self.group_combo = self._combo("全部人群", "重点人群")
        self.topic_combo = self._combo("全部主题领域", "主题领域")
        self.village_combo = self._combo("全部村/社区", "村/社区")
        self.missing_check = QCheckBox("只看缺佐证")
        self.missing_check.setToolTip("只显示还没有佐证材料（照片、签到表等）的活动")
        self.missing_check.toggled.connect(self._emit)
        self.clear_button = QPushButton("清除筛选")
        self.clear_button.setToolTip("显示全部活动")
        self.clear_button.clicked.connect(self.clear)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.date_combo)
        layout.addWidget(self.date_from)
        to_label = QLabel("至")
        layout.addWidget(to_label)
        layout.addWidget(self.date_to)
        layout.addSpacing(6)
        for combo in self.combos():
            layout.addWidget(combo, 1)
        layout.addSpacing(6)
        layout.addWidget(self.missing_check)
        layout.addWidget(self.clear_button)

    def _combo(self, all_text: str, label: str) -> QComboBox:
        combo = QComboBox()
        combo.addItem(all_text, None)
        combo.setToolTip(label)
        combo.setAccessibleName(label)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(len(all_text))
        combo.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        combo.currentIndexChanged.connect(self._emit)
        return combo

    def combos(self) -> tuple[QComboBox, ...]:
        """The catalog and village combos, left to right."""
        return (self.form_combo, self.campaign_combo, self.group_combo, self.topic_combo,
                self.village_combo)

    def focus_chain(self) -> list[QWidget]:
        """The filter widgets in Tab order."""
        return [self.search_edit, self.date_combo, self.date_from, self.date_to,
                *self.combos(), self.missing_check, self.clear_button]

    # -- choices -------------------------------------------------------------------------

    def load_choices(self, db: Database, office: OfficeInfo) -> None:
        """Fill the combos (visible catalog entries, villages in use), keeping choices."""
        with db.session() as session:
            choices: list[list[tuple[str, str]]] = [
                [(e.name, e.id) for e in list_catalog(session, kind, include_hidden=False)]
                for kind in ("form", "campaign", "group", "topic")
            ]
            choices.append([(v, v) for v in village_choices(session, office.id)])
        before = self.current_filter()
        self._quiet = True
        try:
            for combo, items in zip(self.combos(), choices, strict=True):
                chosen, all_text = combo.currentData(), combo.itemText(0)
                combo.clear()
                combo.addItem(all_text, None)
                for name, value in items:
                    combo.addItem(name, value)
                found = combo.findData(chosen) if chosen is not None else 0
                combo.setCurrentIndex(max(found, 0))
                # The popup is as wide as its longest entry, the box stays compact.
                view = combo.view()
                view.setMinimumWidth(view.sizeHintForColumn(0) + 24)
        finally:
            self._quiet = False
        if self.current_filter() != before:
            self.changed.emit()

    # -- the filter ----------------------------------------------------------------------

    def current_filter(self) -> LedgerFilter:
        """What the widgets say."""
        return LedgerFilter(
            date_from=self.date_from.value(),
            date_to=self.date_to.value(),
            form_id=self.form_combo.currentData(),
            campaign_id=self.campaign_combo.currentData(),
            group_id=self.group_combo.currentData(),
            topic_id=self.topic_combo.currentData(),
            village=self.village_combo.currentData(),
            text=self.search_edit.text().strip(),
            missing_evidence=self.missing_check.isChecked(),
        )

    def is_active(self) -> bool:
        """Whether any filter is set."""
        return self.current_filter() != LedgerFilter()

    @Slot()
    def apply_search_now(self) -> None:
        """Apply the search text without waiting for the debounce."""
        if self.search_timer.isActive():
            self._search_due()

    @Slot()
    def _search_edited(self) -> None:
        if self._quiet:
            return
        pause = time.monotonic() - self._searched_at >= SEARCH_DEBOUNCE_MS / 1000
        if pause and not self.search_timer.isActive():
            self._search_due()  # the first key after a pause (or an IME word): at once
        else:
            self.search_timer.start()  # typing on: wait until it pauses

    @Slot()
    def _search_due(self) -> None:
        self.search_timer.stop()
        self.changed.emit()
        self._searched_at = time.monotonic()

    @Slot()
    def clear(self) -> None:
        """Show everything again."""
        self.search_timer.stop()
        self._quiet = True
        try:
            self.search_edit.clear()
            self.date_combo.setCurrentIndex(0)
            self.date_from.set_value(None)
            self.date_to.set_value(None)
            for combo in self.combos():
                combo.setCurrentIndex(0)
            self.missing_check.setChecked(False)
        finally:
            self._quiet = False
        self.search_timer.stop()  # clearing the text restarted it
        self.changed.emit()

    def set_request(self, request: dict[str, object]) -> None:
        """Show what a request from another page asks for (see LedgerPage.apply_request)."""
        self._quiet = True
        try:
            self.search_edit.clear()
            for combo in self.combos():
                combo.setCurrentIndex(0)
            first, last = request.get("date_from"), request.get("date_to")
            self.date_combo.setCurrentIndex(
                self.date_combo.findText(CUSTOM_DATES if first or last else ALL_DATES))
            self.date_from.set_value(first if isinstance(first, dt.date) else None)
            self.date_to.set_value(last if isinstance(last, dt.date) else None)
            for key, combo in (("form_id", self.form_combo),
                               ("campaign_id", self.campaign_combo),
                               ("group_id", self.group_combo)):
                value = request.get(key)
                if value:
                    combo.setCurrentIndex(max(combo.findData(value), 0))
            self.missing_check.setChecked(bool(request.get("missing_evidence")))
        finally:
            self._quiet = False
        self.search_timer.stop()
        self.changed.emit()

    def pick_dates(self, name: str) -> None:
        """Choose a quick range (本月, 上月, 本季度, 本年, 上年) or 全部日期."""
        index = self.date_combo.findText(name)
        if index < 0:
            raise ValueError(name)
        self.date_combo.setCurrentIndex(index)
        self._quick_picked(index)

    @Slot(int)
    def _quick_picked(self, index: int) -> None:
        name = self.date_combo.itemText(index)
        if name == CUSTOM_DATES:
            if self.date_from.value() is None and self.date_to.value() is None:
                first, last = quick_range("本月", self.today())
                self._set_dates(first, last)
                self.changed.emit()
            self.date_from.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        if name == ALL_DATES:
            self._set_dates(None, None)
        else:
            self._set_dates(*quick_range(name, self.today()))
        self.changed.emit()

    def _set_dates(self, first: dt.date | None, last: dt.date | None) -> None:
        self._quiet = True
        try:
            self.date_from.set_value(first)
            self.date_to.set_value(last)
        finally:
            self._quiet = False

    @Slot()
    def _date_edited(self) -> None:
        if self._quiet:
            return
        first, last = self.date_from.value(), self.date_to.value()
        if first and last and first > last:  # keep the range the right way round
            edited_from = self.sender() is self.date_from
            self._set_dates(first if edited_from else last, first if edited_from else last)
            first, last = self.date_from.value(), self.date_to.value()
        name = CUSTOM_DATES
        if first is None and last is None:
            name = ALL_DATES
        else:
            for quick in QUICK_RANGES:
                if quick_range(quick, self.today()) == (first, last):
                    name = quick
                    break
        self.date_combo.setCurrentIndex(self.date_combo.findText(name))
        self.changed.emit()

    @Slot()
    def _emit(self) -> None:
        if not self._quiet:
            self.changed.emit()


# -- undo ----------------------------------------------------------------------------------


class DeleteCommand(QUndoCommand):
    """Deleting activities; undo puts them back exactly (same ids, roster, evidence).

    The activities are already deleted when the command is pushed (so a locked
    month is refused before anything reaches the stack); the first ``redo()``,
    which :meth:`QUndoStack.push` calls, does nothing.
    """

    def __init__(self, page: LedgerPage, snapshots: Sequence[DeletedActivity]) -> None:
        if len(snapshots) == 1:
            text = f"删除“{_short(snapshots[0].title)}”"
        else:
            text = f"删除 {len(snapshots)} 项活动"
        super().__init__(text)
        self._page = page
        self.snapshots = list(snapshots)
        self._done = True

    def redo(self) -> None:
        if self._done:
            return
        self._done = True
        try:
            self.snapshots = [delete_activity(self._page.db, s.id) for s in self.snapshots]
        except Exception as err:  # noqa: BLE001 - shown to the user, the command dropped
            self.setObsolete(True)
            self._page.show_failure(err)
            return
        self._page.after_change(deleted=[s.id for s in self.snapshots])

    def undo(self) -> None:
        self._done = False
        try:
            for snapshot in self.snapshots:
                restore_activity(self._page.db, snapshot)
        except Exception as err:  # noqa: BLE001 - shown to the user, the command dropped
            self.setObsolete(True)
            self._page.show_failure(err)
            return
        self._page.after_change(select=[s.id for s in self.snapshots])


# -- the page --------------------------------------------------------------------------------


class LedgerPage(QWidget):
    """The activity ledger of one office: ``LedgerPage(db, office, parent)``.

    Signals:
        changed: emitted after anything was saved, deleted, undone or redone
            (the main window refreshes its status bar and the other pages).

    Attributes:
        undo_stack: deleting is undoable (Ctrl+Z / Ctrl+Y, or ``undo_action``
            and ``redo_action`` in a menu).

    """

    changed = Signal()

    def __init__(self, db: Database, office: OfficeInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.office = office
        self._shown_once = False
        self._restoring = False
        self.undo_stack = QUndoStack(self)

        settings = QSettings("kepu", "kepu")
        settings.beginGroup(SETTINGS_GROUP)
        sort_key = str(settings.value("sort_column", "start_date"))
        descending = str(settings.value("sort_order", "descending")) != "ascending"
        settings.endGroup()
        self.model = LedgerModel(db, office, self, sort=sort_key, descending=descending)

        self._build_actions()
        self.filter_bar = FilterBar()
        self.filter_bar.load_choices(db, office)
        self.filter_bar.changed.connect(self._filter_changed)
        self._build_view()
        self._build_layout()

        self.model.ids_changed.connect(self._update_counts)
        self.view.selectionModel().selectionChanged.connect(self._update_actions)
        self.view.selectionModel().currentChanged.connect(self._update_actions)
        self._update_counts()
        self._update_actions()
        if self.model.rowCount():
            self.view.setCurrentIndex(self.model.index(0, 0))
        self.setFocusProxy(self.view)

        if os.environ.get(BENCH_ENV):
            self._bench_probe = _PaintProbe(self)

    # -- construction ------------------------------------------------------------------------

    def _action(self, text: str, slot: Callable[[], None],
                shortcut: QKeySequence | None = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        if tip:
            action.setToolTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.new_action = self._action("新建活动", self.new_activity, QKeySequence("Ctrl+N"),
                                       "登记一项新活动（Ctrl+N）")
        self.edit_action = self._action("编辑", self.edit_activity,
                                        tip="打开选中的活动（Enter 或双击）")
        self.duplicate_action = self._action(
            "复制为新活动", self.duplicate_activity, QKeySequence("Ctrl+D"),
            "以选中的活动为模板登记新活动：名称、形式、人群等沿用，日期和人次重填（Ctrl+D）")
        self.delete_action = self._action("删除", self.delete_selected,
                                          tip="删除选中的活动（Delete），可撤销")
        self.import_action = self._action(
            "导入…", self.import_activities, tip="从 Excel/WPS 导入历史活动台账；"
            "选中一期培训时导入它的签到表")
        self.roster_action = self._action(
            "花名册…", self.open_roster, QKeySequence("Ctrl+R"),
            "查看和编辑选中培训的学员花名册（Ctrl+R）；有花名册的培训按花名册统计人次")
        self.undo_action = self._action("撤销", self.undo_stack.undo,
                                        QKeySequence(QKeySequence.StandardKey.Undo))
        self.redo_action = self._action("重做", self.undo_stack.redo,
                                        QKeySequence(QKeySequence.StandardKey.Redo))
        self.refresh_action = self._action("刷新", self.refresh, QKeySequence(Qt.Key.Key_F5),
                                           "重新读取台账（F5）")
        self.find_action = self._action("查找", self.focus_search,
                                        QKeySequence(QKeySequence.StandardKey.Find))
        self.undo_stack.undoTextChanged.connect(self._update_undo_texts)
        self.undo_stack.redoTextChanged.connect(self._update_undo_texts)
        self.undo_stack.canUndoChanged.connect(self._update_undo_texts)
        self.undo_stack.canRedoChanged.connect(self._update_undo_texts)
        self._update_undo_texts()

    def _build_view(self) -> None:
        view = QTableView()
        view.setObjectName("ledger_table")
        view.setModel(self.model)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.setTextElideMode(Qt.TextElideMode.ElideRight)
        view.setTabKeyNavigation(False)  # Tab leaves the table, as everywhere else
        view.setCornerButtonEnabled(False)
        view.setShowGrid(False)
        view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        vertical = view.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # never measure 20 000 rows
        vertical.setDefaultSectionSize(view.fontMetrics().height() + 10)
        header = view.horizontalHeader()
        header.setHighlightSections(False)
        # The headers get a selection model of their own that stays empty: with the
        # view's, each header repaint asks the model about every selected cell (after
        # Ctrl+A that is 200 000 calls into Python, 0.4 s).
        self._header_selection = QItemSelectionModel(self.model, view)
        header.setSelectionModel(self._header_selection)
        vertical.setSelectionModel(self._header_selection)
        header.setStretchLastSection(False)
        # 活动名称 takes whatever room the other columns leave.
        header.setSectionResizeMode(column_index("title"), QHeaderView.ResizeMode.Stretch)
        header.setSectionsClickable(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        view.activated.connect(self.edit_activity)  # Enter, double-click
        # Delete acts on the table only (in a text box it deletes text).
        delete_key = QAction(self.delete_action.text(), view)
        delete_key.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        delete_key.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete_key.triggered.connect(self.delete_selected)
        view.addAction(delete_key)
        self.view = view

        self.empty_label = QLabel(view.viewport())
        self.empty_label.setObjectName("ledger_empty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setTextFormat(Qt.TextFormat.RichText)
        font = self.empty_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.empty_label.setFont(font)
        palette = self.empty_label.palette()
        palette.setColor(QPalette.ColorRole.WindowText,
                         palette.color(QPalette.ColorRole.PlaceholderText))
        self.empty_label.setPalette(palette)
        self.empty_label.linkActivated.connect(lambda _link: self.filter_bar.clear())
        self.empty_label.hide()
        view.viewport().installEventFilter(self)

        self._restore_columns()
        header.sectionResized.connect(self._column_resized)
        header.sortIndicatorChanged.connect(self._save_sort)
        view.setSortingEnabled(True)

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.setSpacing(6)
        self.buttons: dict[str, QPushButton] = {}
        for key, action in (("new", self.new_action), ("edit", self.edit_action),
                            ("duplicate", self.duplicate_action),
                            ("delete", self.delete_action), ("roster", self.roster_action),
                            ("import", self.import_action),
                            ("undo", self.undo_action)):
            button = QPushButton(action.text())
            button.setToolTip(action.toolTip())
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keep the focus in the table
            button.clicked.connect(action.trigger)
            action.enabledChanged.connect(button.setEnabled)
            button.setEnabled(action.isEnabled())
            self.buttons[key] = button
            top.addWidget(button)
        self.buttons["new"].setDefault(True)
        self.undo_action.changed.connect(self._sync_undo_button)
        self._sync_undo_button()
        top.addStretch(1)
        search = self.filter_bar.search_edit
        search.setMinimumWidth(search.fontMetrics().horizontalAdvance("搜索名称、地点、简介…") + 60)
        search.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        search.setMaximumWidth(420)
        search.installEventFilter(self)
        top.addWidget(search, 1)

        self.count_label = QLabel()
        self.count_label.setObjectName("ledger_count")
        self.note_label = QLabel()
        self.note_label.setEnabled(False)
        hint = QLabel("Enter 编辑　Delete 删除　Ctrl+Z 撤销　Ctrl+F 查找")
        hint.setEnabled(False)  # greyed: secondary
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label)
        bottom.addSpacing(12)
        bottom.addWidget(self.note_label, 1)
        bottom.addWidget(hint)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.view, 1)
        layout.addLayout(bottom)

        chain = [*self.filter_bar.focus_chain(), self.view]
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)

    # -- columns and settings --------------------------------------------------------------------

    def default_width(self, column: int) -> int:
        """A column's width for a 1366×768 screen, from the font in use."""
        metrics = self.view.fontMetrics()
        spec = COLUMNS[column]
        header_metrics = self.view.horizontalHeader().fontMetrics()
        return max(header_metrics.horizontalAdvance(spec.title) + 30,
                   metrics.horizontalAdvance(spec.sample) + 16)

    def _restore_columns(self) -> None:
        header = self.view.horizontalHeader()
        settings = QSettings("kepu", "kepu")
        settings.beginGroup(SETTINGS_GROUP)
        hidden = str(settings.value("hidden_columns", "") or "").split(",")
        self._restoring = True
        try:
            for column, spec in enumerate(COLUMNS):
                width = settings.value(f"widths/{spec.key}", 0, type=int)
                header.resizeSection(column, int(width) if width and width > 20
                                     else self.default_width(column))
                header.setSectionHidden(column, spec.hideable and spec.key in hidden)
            order = (Qt.SortOrder.DescendingOrder if self.model.descending
                     else Qt.SortOrder.AscendingOrder)
            header.setSortIndicator(column_index(self.model.sort_key), order)
        finally:
            self._restoring = False
            settings.endGroup()

    def is_column_visible(self, key: str) -> bool:
        """Whether the column ``key`` is shown."""
        return not self.view.horizontalHeader().isSectionHidden(column_index(key))

    def set_column_visible(self, key: str, visible: bool) -> None:
        """Show or hide a column (remembered)."""
        column = column_index(key)
        if not COLUMNS[column].hideable:
            return
        self.view.horizontalHeader().setSectionHidden(column, not visible)
        hidden = [c.key for i, c in enumerate(COLUMNS)
                  if self.view.horizontalHeader().isSectionHidden(i)]
        settings = QSettings("kepu", "kepu")
        settings.setValue(f"{SETTINGS_GROUP}/hidden_columns", ",".join(hidden))

    def reset_columns(self) -> None:
        """Default widths, every column shown."""
        settings = QSettings("kepu", "kepu")
        settings.remove(f"{SETTINGS_GROUP}/widths")
        settings.remove(f"{SETTINGS_GROUP}/hidden_columns")
        self._restore_columns()

    def column_menu(self) -> QMenu:
        """The header's context menu: which columns are shown."""
        menu = QMenu(self)
        for column, spec in enumerate(COLUMNS):
            action = menu.addAction(spec.title)
            action.setCheckable(True)
            action.setChecked(not self.view.horizontalHeader().isSectionHidden(column))
            action.setEnabled(spec.hideable)
            action.toggled.connect(lambda on, key=spec.key: self.set_column_visible(key, on))
        menu.addSeparator()
        menu.addAction("恢复默认列宽和列", self.reset_columns)
        return menu

    @Slot(QPoint)
    def _header_menu(self, pos: QPoint) -> None:
        menu = self.column_menu()
        menu.exec(self.view.horizontalHeader().mapToGlobal(pos))
        menu.deleteLater()

    @Slot(int, int, int)
    def _column_resized(self, column: int, _old: int, new: int) -> None:
        if self._restoring or new <= 0 or column == column_index("title"):
            return  # the title column stretches; its width is not the clerk's choice
        QSettings("kepu", "kepu").setValue(f"{SETTINGS_GROUP}/widths/{COLUMNS[column].key}", new)

    @Slot(int, Qt.SortOrder)
    def _save_sort(self, column: int, order: Qt.SortOrder) -> None:
        if self._restoring or not 0 <= column < len(COLUMNS):
            return
        settings = QSettings("kepu", "kepu")
        settings.setValue(f"{SETTINGS_GROUP}/sort_column", COLUMNS[column].key)
        settings.setValue(f"{SETTINGS_GROUP}/sort_order",
                          "descending" if order == Qt.SortOrder.DescendingOrder else "ascending")

    # -- selection -----------------------------------------------------------------------------

    def selected_rows(self) -> list[int]:
        """The selected row numbers, top to bottom (the current row if none is selected)."""
        # From the ranges: selectedRows() asks the model about every cell (slow for 20 000).
        selected: set[int] = set()
        for part in self.view.selectionModel().selection():
            selected.update(range(part.top(), part.bottom() + 1))
        rows = sorted(selected)
        if not rows and self.view.currentIndex().isValid():
            rows = [self.view.currentIndex().row()]
        return rows

    def selected_ids(self) -> list[str]:
        """The ids of the selected rows, top to bottom."""
        return [self.model.id_at(r) for r in self.selected_rows()]

    def current_id(self) -> str | None:
        """The activity the clerk is on (the current row if selected, else the first selected)."""
        current = self.view.currentIndex()
        selection = self.view.selectionModel()
        if current.isValid() and selection.isRowSelected(current.row(), QModelIndex()):
            return str(current.data(ID_ROLE))
        ids = self.selected_ids()
        return ids[0] if ids else None

    def apply_request(self, request: dict[str, object]) -> None:
        """Show the activities another page points at (the dashboard's cards and to-dos).

        Keys (all optional): ``date_from``/``date_to`` (dates), ``form_id``,
        ``campaign_id``, ``group_id``, ``missing_evidence`` (bool), ``ids`` (the
        activities to select) and ``label`` (what the request is, shown above the
        table).
        """
        self.filter_bar.set_request(request)
        ids = request.get("ids")
        if isinstance(ids, list | tuple) and ids:
            self.select_ids([str(i) for i in ids])
        label = request.get("label")
        if label:
            self.note_label.setText(str(label))
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def select_ids(self, ids: Iterable[str]) -> bool:
        """Select the rows of ``ids`` (those shown) and scroll to the first; False if none."""
        rows = sorted(r for r in (self.model.row_of(i) for i in ids) if r is not None)
        if not rows:
            return False
        selection = QItemSelection()
        last = self.model.columnCount() - 1
        for row in rows:
            selection.select(self.model.index(row, 0), self.model.index(row, last))
        model = self.view.selectionModel()
        model.setCurrentIndex(self.model.index(rows[0], 0),
                              QItemSelectionModel.SelectionFlag.NoUpdate)
        model.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.view.scrollTo(self.model.index(rows[0], 0))
        return True

    def _select_row(self, row: int) -> None:
        count = self.model.rowCount()
        if count == 0:
            return
        select_row(self.view, min(max(row, 0), count - 1))

    # -- filtering -----------------------------------------------------------------------------

    @Slot()
    def _filter_changed(self) -> None:
        self.model.set_filter(self.filter_bar.current_filter())
        current = self.view.currentIndex()
        if current.isValid():
            self.view.scrollTo(current)
        else:
            self.view.scrollToTop()

    @Slot()
    def focus_search(self) -> None:
        """Ctrl+F: to the search box, its text selected."""
        self.filter_bar.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_bar.search_edit.selectAll()

    @Slot()
    def data_changed(self) -> None:
        """Another page saved something (the main window calls this)."""
        if self.isVisible():
            self.refresh()
        else:  # showEvent() reads again when the clerk comes to the page
            self._stale = True

    @Slot()
    def refresh(self) -> None:
        """Read everything again (after changes elsewhere), keeping the selection."""
        self.filter_bar.load_choices(self.db, self.office)
        self.model.set_filter(self.filter_bar.current_filter())
        self.model.refresh()
        self._update_actions()

    # -- commands --------------------------------------------------------------------------------

    @Slot()
    def new_activity(self) -> None:
        """新建活动 (Ctrl+N)."""
        self._run_dialog()

    @Slot()
    def edit_activity(self) -> None:
        """编辑 (Enter, double-click): the form for the current activity."""
        activity_id = self.current_id()
        if activity_id is not None:
            self._run_dialog(activity_id=activity_id)

    @Slot()
    def duplicate_activity(self) -> None:
        """复制为新活动 (Ctrl+D): a new activity prefilled from the current one."""
        activity_id = self.current_id()
        if activity_id is None:
            return
        with self.db.session() as session:
            detail = get_activity(session, activity_id)
        if detail is None:
            self.show_failure(KepuError("该活动已不存在（可能已被删除）"))
            return
        self._run_dialog(initial=duplicate_input(detail))

    @Slot()
    def import_activities(self) -> None:
        """导入: a historical ledger, or the sign-in sheet of the selected training."""
        from desktop.import_wizard import ImportWizard

        current = self.view.currentIndex()
        row = self.model.row_at(current.row()) if current.isValid() else None
        kind, training = "activities", None
        if row is not None and row.is_training and not row.locked:
            answer = QMessageBox.question(
                self, "导入", f"导入“{row.title}”的签到表（学员和签到）？\n选“否”则导入历史活动台账。",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
                | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes)
            if answer == QMessageBox.StandardButton.Cancel:
                return
            if answer == QMessageBox.StandardButton.Yes:
                kind, training = "trainees", row.id
        wizard = ImportWizard(self.db, self.office, kind=kind, training_id=training, parent=self)
        if exec_changed(wizard):
            self.after_change(select=[training] if training else [])

    @Slot()
    def open_roster(self) -> None:
        """花名册 (Ctrl+R): the roster of the current training."""
        from desktop.roster_dialog import RosterDialog

        activity_id = self.current_id()
        if activity_id is None:
            return
        dialog = RosterDialog(self.db, self.office, activity_id, parent=self)
        if dialog.error:
            self.show_failure(KepuError(dialog.error))
            dialog.deleteLater()
            return
        if exec_changed(dialog):
            self.after_change(select=[activity_id])
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _run_dialog(self, **kwargs: object) -> None:
        """Open the activity form; after a save, reload and select what was saved."""
        try:
            dialog = activity_dialog_class()(self.db, self.office, parent=self, **kwargs)
        except KepuError as err:  # e.g. deleted meanwhile
            self.show_failure(err)
            return
        try:
            accepted = dialog.exec() == QDialog.DialogCode.Accepted
            saved = getattr(dialog, "saved_id", None) or kwargs.get("activity_id")
        finally:
            dialog.deleteLater()
        if accepted:
            self.after_change(select=[str(saved)] if saved else [])
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    @Slot()
    def delete_selected(self) -> None:
        """删除 (Delete): confirm, delete, and put it on the undo stack."""
        numbers = self.selected_rows()
        if len(numbers) > MAX_DELETE:
            messages.show_error(self, KepuError(
                f"一次最多删除 {MAX_DELETE} 项活动（现选中 {len(numbers):,} 项），"
                "请缩小选择范围。"))
            return
        rows = [r for r in (self.model.row_at(n) for n in numbers) if r is not None]
        if not rows:
            return
        locked = [r for r in rows if r.locked]
        if locked:
            # The database owns the lock rule and its message: it refuses a locked
            # month before deleting anything, and we show what it says.
            try:
                snapshot = delete_activity(self.db, locked[0].id)
            except KepuError as err:
                messages.show_error(self, err)
                return
            # Reopened meanwhile: it is deleted, so keep it undoable.
            self.undo_stack.push(DeleteCommand(self, [snapshot]))
            self.after_change(deleted=[snapshot.id], next_row=numbers[0])
            return
        if len(rows) == 1:
            row = rows[0]
            when = format_dates(row.start_date, row.end_date)
            question = f"确定删除活动“{row.title}”（{when}）吗？"
        else:
            names = "\n".join(f"· {_short(r.title)}" for r in rows[:5])
            more = f"\n…等共 {len(rows)} 项" if len(rows) > 5 else ""
            question = f"确定删除选中的 {len(rows)} 项活动吗？\n\n{names}{more}"
        question += "\n\n签到记录和佐证材料会一并删除；删除后可按 Ctrl+Z 撤销。"
        answer = QMessageBox.question(
            self, "删除活动", question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes)
        if answer != QMessageBox.StandardButton.Yes:
            return
        first_row = numbers[0]
        done: list[DeletedActivity] = []
        error: Exception | None = None
        for row in rows:
            try:
                done.append(delete_activity(self.db, row.id))
            except Exception as err:  # noqa: BLE001 - shown below, what was done stays undoable
                error = err
                break
        if done:
            self.undo_stack.push(DeleteCommand(self, done))
            self.after_change(deleted=[s.id for s in done], next_row=first_row)
        if error is not None:
            self.show_failure(error)

    def show_failure(self, err: Exception) -> None:
        """A KepuError as is; anything else logged as a bug."""
        if isinstance(err, KepuError):
            messages.show_error(self, err)
        else:
            log.error("台账操作出错", exc_info=err)
            messages.show_bug(self)
        self.refresh()

    def after_change(self, *, select: Sequence[str] = (), deleted: Sequence[str] = (),
                     next_row: int | None = None) -> None:
        """Reload after a save, delete, undo or redo, and tell the main window."""
        if deleted and next_row is None:
            rows = [r for r in (self.model.row_of(i) for i in deleted) if r is not None]
            next_row = min(rows) if rows else None
        self.filter_bar.load_choices(self.db, self.office)
        self.model.refresh()
        self.note_label.clear()
        if select and not self.select_ids(select):
            self.note_label.setText("已保存；该活动不在当前筛选结果中")
        elif deleted and not self.view.selectionModel().hasSelection() and next_row is not None:
            self._select_row(next_row)
        self._update_actions()
        self.changed.emit()

    # -- state -----------------------------------------------------------------------------------

    @Slot()
    def _update_counts(self) -> None:
        total, shown = self.model.total, self.model.rowCount()
        text = f"共 {total:,} 项"
        if self.filter_bar.is_active():
            text += f"，筛选后 {shown:,} 项"
        self.count_label.setText(text)
        self.filter_bar.clear_button.setEnabled(self.filter_bar.is_active())
        if shown:
            self.empty_label.hide()
        else:
            self.empty_label.setText(NO_MATCH_TEXT if total else EMPTY_TEXT.replace("\n", "<br>"))
            self.empty_label.setGeometry(self.view.viewport().rect())
            self.empty_label.show()

    @Slot()
    def _update_actions(self) -> None:
        has_selection = self.view.selectionModel().hasSelection()
        self.edit_action.setEnabled(has_selection)
        self.duplicate_action.setEnabled(has_selection)
        self.delete_action.setEnabled(has_selection)
        current = self.view.currentIndex()
        row = self.model.row_at(current.row()) if current.isValid() else None
        self.roster_action.setEnabled(bool(has_selection and row is not None and row.is_training))
        count = len(self.selected_rows()) if has_selection else 0
        if count > 1:
            self.note_label.setText(f"已选 {count} 项")
        elif self.note_label.text().startswith("已选"):
            self.note_label.clear()

    @Slot()
    def _update_undo_texts(self) -> None:
        undo, redo = self.undo_stack.undoText(), self.undo_stack.redoText()
        self.undo_action.setEnabled(self.undo_stack.canUndo())
        self.undo_action.setText(f"撤销{undo}" if self.undo_stack.canUndo() else "撤销")
        self.undo_action.setToolTip(f"撤销{undo}（Ctrl+Z）" if undo else "撤销（Ctrl+Z）")
        self.redo_action.setEnabled(self.undo_stack.canRedo())
        self.redo_action.setText(f"重做{redo}" if self.undo_stack.canRedo() else "重做")

    @Slot()
    def _sync_undo_button(self) -> None:
        button = self.buttons.get("undo")
        if button is not None:
            button.setEnabled(self.undo_action.isEnabled())
            button.setToolTip(self.undo_action.toolTip())

    # -- events -----------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Keep the empty-state text over the table; search box keys (Down, Enter, Esc)."""
        if watched is self.view.viewport() and event.type() == QEvent.Type.Resize:
            self.empty_label.setGeometry(self.view.viewport().rect())
        elif watched is self.filter_bar.search_edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Return, Qt.Key.Key_Enter):
                # From the search box straight into the results.
                self.filter_bar.apply_search_now()
                if self.model.rowCount():
                    if not self.view.selectionModel().hasSelection():
                        self._select_row(0)
                    self.view.setFocus(Qt.FocusReason.OtherFocusReason)
                return True
            if key == Qt.Key.Key_Escape and self.filter_bar.search_edit.text():
                self.filter_bar.search_edit.clear()
                return True
        return super().eventFilter(watched, event)

    def showEvent(self, event: QShowEvent) -> None:
        """Coming back to the page: read again, other pages may have changed things."""
        super().showEvent(event)
        if self._shown_once or getattr(self, "_stale", False):
            self.refresh()
        self._shown_once = True
        self._stale = False


# -- benchmark hook ------------------------------------------------------------------------


def process_age() -> float:
    """Seconds since this process started (Linux: /proc; elsewhere since import)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            stat = fh.read()
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22: starttime
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - _IMPORTED_AT


_IMPORTED_AT = time.perf_counter()


class _PaintProbe(QObject):
    """Reports when the table first paints with rows, then quits (``KEPU_BENCH_PAINTED``)."""

    def __init__(self, page: LedgerPage) -> None:
        super().__init__(page)
        self._page = page
        page.view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._page.model.rowCount():
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self._report)  # after this paint has been done
        return False

    @Slot()
    def _report(self) -> None:
        sys.stdout.write(f"{BENCH_ENV} {process_age():.3f}\n")
        sys.stdout.flush()
        QApplication.quit()
