"""学员: the register of the people who attended trainings.

A search box (name, the last digits of a 身份证号, part of a phone number or a
村/社区; searched in SQL as the clerk types), 人员类别 and 村/社区 filters, the
table of matching people (身份证号 and phone masked) and, beside it, the selected
person's details with the trainings they attended and their 学时.

The full 身份证号 and phone of ONE person are shown on request (显示完整号码),
until another row is selected or 10 seconds have passed.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QPoint,
    QSettings,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QFont, QHideEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from db.catalogs import list_catalog
from db.database import Database
from db.errors import KepuError
from db.offices import OfficeInfo
from db.trainees import TrainingRecordsAndPerson, delete_trainee, get_trainee
from desktop import messages
from desktop.roster_dialog import RosterDialog
from desktop.trainee_dialog import TraineeDialog
from desktop.trainee_model import TraineeModel, format_hours, trainee_villages
from desktop.widgets import (
    exec_changed,
    page_title,
    restore_column_widths,
    save_column_widths,
    select_row,
    setup_row_table,
)

log = logging.getLogger(__name__)

SEARCH_DELAY_MS = 150
REVEAL_MS = 10_000
SETTINGS_WIDTHS = "trainees/column_widths"
SETTINGS_SPLITTER = "trainees/splitter"
SEARCH_PLACEHOLDER = "姓名、身份证号（可输后几位）、电话、村/社区"
ALL_CATEGORIES = "全部人员类别"
ALL_VILLAGES = "全部村/社区"
MUTED_STYLE = "color: palette(placeholder-text);"


def settings() -> QSettings:
    """Return the user's preferences."""
    return QSettings("kepu", "kepu")


def _age(birth: dt.date, today: dt.date | None = None) -> int:
    today = today or dt.date.today()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


class TraineeDetail(QWidget):
    """The selected person: fields, and the trainings attended with the total 学时.

    Signals:
        training_activated: a training in the list was double-clicked (its activity id).
    """

    training_activated = Signal(str)

    FIELDS = (("id_number", "身份证号"), ("birth_date", "出生日期"), ("category", "人员类别"),
              ("village", "村/社区"), ("phone", "联系电话"), ("employer", "工作单位"),
              ("note", "备注"))

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stack = QStackedWidget()
        self.empty_label = QLabel("选择一位学员，这里显示其信息和参加过的培训。")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet(MUTED_STYLE)

        body = QWidget()
        self.name_label = QLabel()
        self.name_label.setObjectName("detail_name")
        font = QFont(self.name_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.name_label.setFont(font)
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle_label = QLabel()
        self.subtitle_label.setStyleSheet(MUTED_STYLE)
        self.values: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setContentsMargins(0, 4, 0, 4)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        for key, label in self.FIELDS:
            value = QLabel()
            value.setObjectName(f"detail_{key}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[key] = value
            form.addRow(f"{label}：", value)

        trainings_title = QLabel("参加的培训")
        bold = QFont(trainings_title.font())
        bold.setBold(True)
        trainings_title.setFont(bold)
        self.trainings = QTreeWidget()
        self.trainings.setObjectName("detail_trainings")
        self.trainings.setRootIsDecorated(False)
        self.trainings.setUniformRowHeights(True)
        self.trainings.setAlternatingRowColors(True)
        self.trainings.setHeaderLabels(["日期", "培训名称", "学时"])
        self.trainings.headerItem().setTextAlignment(
            2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.trainings.setToolTip("双击打开该期培训的花名册")
        header = self.trainings.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.trainings.itemActivated.connect(self._activated)
        self.total_label = QLabel()
        self.total_label.setObjectName("detail_total")
        self.total_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 0, 0, 0)
        layout.addWidget(self.name_label)
        layout.addWidget(self.subtitle_label)
        layout.addLayout(form)
        layout.addWidget(trainings_title)
        layout.addWidget(self.trainings, 1)
        layout.addWidget(self.total_label)

        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)
        self.person: TrainingRecordsAndPerson | None = None
        self.show_person(None)

    def show_person(self, person: TrainingRecordsAndPerson | None,
                    revealed: bool = False) -> None:
        """Show a person (None: the empty state); full numbers only if ``revealed``."""
        self.person = person
        if person is None:
            self.stack.setCurrentIndex(0)
            return
        p = person.person
        self.name_label.setText(p.name)
        parts = [p.gender] if p.gender else []
        if p.birth_date:
            parts.append(f"{_age(p.birth_date)}岁")
        self.subtitle_label.setText("，".join(parts))
        values = {
            "id_number": (p.id_number or "") if revealed else p.id_masked,
            "birth_date": p.birth_date.isoformat() if p.birth_date else "",
            "category": p.category,
            "village": p.village,
            "phone": p.phone if revealed else p.phone_masked,
            "employer": p.employer,
            "note": p.note,
        }
        for key, value in values.items():
            self.values[key].setText(value or "—")
        self.trainings.clear()
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for record in person.trainings:
            item = QTreeWidgetItem([record.start_date.isoformat(), record.title,
                                    format_hours(record.hours_x10)])
            item.setTextAlignment(2, right)
            item.setToolTip(1, record.title)
            item.setData(0, Qt.ItemDataRole.UserRole, record.activity_id)
            self.trainings.addTopLevelItem(item)
        n = len(person.trainings)
        self.total_label.setText(f"共 {n} 期，累计 {format_hours(person.total_hours_x10)} 学时"
                                 if n else "尚未参加培训")
        self.stack.setCurrentIndex(1)

    @Slot(QTreeWidgetItem, int)
    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        activity_id = item.data(0, Qt.ItemDataRole.UserRole)
        if activity_id:
            self.training_activated.emit(str(activity_id))


class TraineePage(QWidget):
    """学员: search, filter, view, add, edit and delete registered people.

    ``changed`` is emitted after every change written to the database here
    (including changes made in a roster opened from the detail pane).

    Args:
        db: the open database.
        office: the office whose people are shown.
        parent: the parent widget.

    """

    changed = Signal()

    def __init__(self, db: Database, office: OfficeInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.office = office
        self._shown_once = False

        title = page_title("学员")

        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("trainee_search")
        self.search_edit.setPlaceholderText(SEARCH_PLACEHOLDER)
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMinimumWidth(320)
        self.search_timer = QTimer(self)
        self.search_timer.setSingleShot(True)
        self.search_timer.setInterval(SEARCH_DELAY_MS)
        self.search_timer.timeout.connect(self.apply_search)
        self.search_edit.textChanged.connect(lambda _text: self.search_timer.start())
        self.search_edit.returnPressed.connect(self._search_entered)

        self.category_filter = QComboBox()
        self.category_filter.setObjectName("trainee_category_filter")
        self.category_filter.setToolTip("按人员类别筛选")
        self.village_filter = QComboBox()
        self.village_filter.setObjectName("trainee_village_filter")
        self.village_filter.setToolTip("按村/社区筛选")
        for combo, widest in ((self.category_filter, ALL_CATEGORIES),
                              (self.village_filter, ALL_VILLAGES)):
            # Wide enough for "全部…", not for the longest entry (a long category name).
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(1)
            combo.setMinimumWidth(combo.fontMetrics().horizontalAdvance(widest) + 48)
        self._fill_filters()
        self.category_filter.currentIndexChanged.connect(lambda _i: self.apply_search())
        self.village_filter.currentIndexChanged.connect(lambda _i: self.apply_search())

        self.model = TraineeModel(db, office, self)
        self.table = QTableView()
        self.table.setObjectName("trainee_table")
        setup_row_table(self.table, self.model, padding=16)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(lambda _index: self.edit_selected())
        header = self.table.horizontalHeader()
        # 工作单位 takes what is left (and gives way first on a small screen).
        header.setSectionResizeMode(self.model.column_of("employer"),
                                    QHeaderView.ResizeMode.Stretch)
        restore_column_widths(header, SETTINGS_WIDTHS)
        header.sectionResized.connect(lambda: save_column_widths(header, SETTINGS_WIDTHS))
        # Click a header to sort (in SQL); not by the masked 身份证号 / phone columns.
        header.setSortIndicator(self.model.column_of("name"), Qt.SortOrder.AscendingOrder)
        header.sortIndicatorChanged.connect(self._sort_clicked)
        self.table.setSortingEnabled(True)
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):  # Enter = 编辑
            enter = QShortcut(QKeySequence(key), self.table)
            enter.setContext(Qt.ShortcutContext.WidgetShortcut)
            enter.activated.connect(self.edit_selected)
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.delete_selected)
        find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self)
        find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.activated.connect(self._focus_search)
        refresh = QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self)
        refresh.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        refresh.activated.connect(self.refresh)

        self.detail = TraineeDetail()
        self.detail.setObjectName("trainee_detail")
        self.detail.training_activated.connect(self.open_roster)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([960, 320])
        state = settings().value(SETTINGS_SPLITTER)
        if isinstance(state, QByteArray):
            self.splitter.restoreState(state)
        self.splitter.splitterMoved.connect(
            lambda _pos, _index: settings().setValue(SETTINGS_SPLITTER,
                                                     self.splitter.saveState()))

        self.add_button = self._button("新增学员…", "Ctrl+N", "登记一位新学员（Ctrl+N）",
                                       self.add_new)
        self.edit_button = self._button("编辑…", "", "修改选中学员的信息（回车 或 双击）",
                                        self.edit_selected)
        self.delete_button = self._button("删除", "", "删除选中的学员；参加过培训的不能删除"
                                          "（Delete）", self.delete_selected)
        self.reveal_button = self._button("显示完整号码", "",
                                          "临时显示选中学员的完整身份证号和电话（10秒后自动隐藏）",
                                          self.toggle_reveal)
        self.reveal_timer = QTimer(self)
        self.reveal_timer.setSingleShot(True)
        self.reveal_timer.setInterval(REVEAL_MS)
        self.reveal_timer.timeout.connect(self.conceal)

        self.import_button = self._button("导入花名册…", "",
                                          "从 Excel/WPS 签到表或花名册导入学员（可先下载模板）",
                                          self.import_roster)

        self.count_label = QLabel()
        self.count_label.setObjectName("trainee_count")
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        filters = QHBoxLayout()
        filters.addWidget(self.search_edit, 1)
        filters.addWidget(self.category_filter)
        filters.addWidget(self.village_filter)

        buttons = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addSpacing(16)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.reveal_button)
        buttons.addStretch(1)
        buttons.addWidget(self.count_label)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(filters)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(buttons)

        previous: QWidget = self.search_edit
        for widget in (self.category_filter, self.village_filter, self.table, self.add_button,
                       self.edit_button, self.delete_button, self.reveal_button):
            QWidget.setTabOrder(previous, widget)
            previous = widget

        self.model.ids_changed.connect(self._update_count)
        self.model.revealed_changed.connect(self._revealed_changed)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self._update_count()
        self._selection_changed()

    def _button(self, text: str, shortcut: str, tooltip: str, slot: Any) -> QPushButton:
        button = QPushButton(text)
        if shortcut:
            button.setShortcut(QKeySequence(shortcut))
        button.setToolTip(tooltip)
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        return button

    # -- filters -------------------------------------------------------------------------

    def _fill_filters(self) -> None:
        """(Re)fill the two filter lists, keeping what is chosen."""
        category = self.category_filter.currentData()
        village = self.village_filter.currentData()
        with self.db.session() as session:
            groups = list_catalog(session, "group")
        villages = trainee_villages(self.db, self.office)
        for combo in (self.category_filter, self.village_filter):
            combo.blockSignals(True)
            combo.clear()
        self.category_filter.addItem(ALL_CATEGORIES, None)
        for item in groups:
            self.category_filter.addItem(item.name, item.id)
        self.village_filter.addItem(ALL_VILLAGES, None)
        for name in villages:
            self.village_filter.addItem(name, name)
        self.category_filter.setCurrentIndex(max(self.category_filter.findData(category), 0))
        self.village_filter.setCurrentIndex(max(self.village_filter.findData(village), 0))
        for combo in (self.category_filter, self.village_filter):
            combo.blockSignals(False)

    @Slot()
    def apply_search(self) -> None:
        """Search now with the text and the filters (normally 150 ms after the last key)."""
        self.search_timer.stop()
        self.model.set_search(self.search_edit.text(), self.category_filter.currentData(),
                              self.village_filter.currentData())

    @Slot()
    def _search_entered(self) -> None:
        self.apply_search()
        if self.model.rowCount():
            self.select_trainee(self.model.id_at(0))
            self.table.setFocus()

    @Slot()
    def _sort_clicked(self, column: int, _order: Qt.SortOrder) -> None:
        """A click on a column the list cannot sort by puts the arrow back."""
        if self.model.sortable(column):
            return
        header = self.table.horizontalHeader()
        order = (Qt.SortOrder.DescendingOrder if self.model.descending
                 else Qt.SortOrder.AscendingOrder)
        blocked = header.blockSignals(True)
        header.setSortIndicator(self.model.column_of(self.model.sort_key), order)
        header.blockSignals(blocked)
        header.viewport().update()

    def _focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    def is_filtered(self) -> bool:
        """Whether a search text or a filter limits the list."""
        return bool(self.model.query or self.category_filter.currentData()
                    or self.village_filter.currentData())

    @Slot()
    def _update_count(self) -> None:
        shown, total = self.model.rowCount(), self.model.total
        if total == 0:
            text = "学员库还是空的：点“新增学员”登记，或在培训的花名册中添加"
        elif self.is_filtered():
            text = f"找到 {shown:,} 人（共 {total:,} 人）"
        else:
            text = f"共 {total:,} 人"
        self.count_label.setText(text)

    # -- selection and the detail pane ------------------------------------------------------

    def current_id(self) -> str | None:
        """Return the id of the selected person, or None."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.id_at(rows[0].row())

    def select_trainee(self, trainee_id: str) -> bool:
        """Select a person if shown; returns whether they are."""
        row = self.model.row_of(trainee_id)
        if row is None:
            return False
        select_row(self.table, row)
        return True

    @Slot()
    def _selection_changed(self) -> None:
        trainee_id = self.current_id()
        if self.model.revealed_id is not None and self.model.revealed_id != trainee_id:
            self.conceal()
        has = trainee_id is not None
        for button in (self.edit_button, self.delete_button, self.reveal_button):
            button.setEnabled(has)
        self._show_detail()

    def _show_detail(self) -> None:
        trainee_id = self.current_id()
        person = None
        if trainee_id is not None:
            with self.db.session() as session:
                person = get_trainee(session, trainee_id)
        self.detail.show_person(person, revealed=trainee_id is not None
                                and trainee_id == self.model.revealed_id)

    # -- full numbers of one person ----------------------------------------------------------

    @Slot()
    def toggle_reveal(self) -> None:
        """Show the selected person's full numbers for 10 seconds, or hide them again."""
        if self.model.revealed_id is not None:
            self.conceal()
        else:
            self.reveal_selected()

    @Slot()
    def reveal_selected(self) -> None:
        """Show the full 身份证号 and phone of the selected person only."""
        trainee_id = self.current_id()
        if trainee_id is None:
            return
        self.model.reveal(trainee_id)
        self.reveal_timer.start()

    @Slot()
    def conceal(self) -> None:
        """Mask every number again."""
        self.reveal_timer.stop()
        self.model.reveal(None)

    @Slot()
    def _revealed_changed(self) -> None:
        revealed = self.model.revealed_id is not None
        self.reveal_button.setText("隐藏完整号码" if revealed else "显示完整号码")
        self._show_detail()

    # -- context menu --------------------------------------------------------------------------

    @Slot(QPoint)
    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if index.isValid():
            self.select_trainee(self.model.id_at(index.row()))
        menu = self.build_context_menu()
        menu.exec(self.table.viewport().mapToGlobal(pos))
        menu.deleteLater()

    def build_context_menu(self) -> QMenu:
        """Build the table's context menu for the selected person."""
        menu = QMenu(self)
        has = self.current_id() is not None
        edit = QAction("编辑…", menu)
        edit.triggered.connect(self.edit_selected)
        reveal = QAction("隐藏完整号码" if self.model.revealed_id else "显示完整号码", menu)
        reveal.setObjectName("reveal_action")
        reveal.triggered.connect(self.toggle_reveal)
        delete = QAction("删除", menu)
        delete.triggered.connect(self.delete_selected)
        new = QAction("新增学员…", menu)
        new.triggered.connect(self.add_new)
        for action in (edit, reveal, delete):
            action.setEnabled(has)
        menu.addAction(edit)
        menu.addAction(reveal)
        menu.addSeparator()
        menu.addAction(delete)
        menu.addSeparator()
        menu.addAction(new)
        return menu

    # -- commands --------------------------------------------------------------------------

    def _open_dialog(self, trainee_id: str | None) -> str | None:
        dialog = TraineeDialog(self.db, self.office, trainee_id, self)
        try:
            if dialog.exec() != TraineeDialog.DialogCode.Accepted:
                return None
            return dialog.saved_id
        finally:
            dialog.deleteLater()

    @Slot()
    def add_new(self) -> None:
        """新增学员: the dialog, then show and select the new person."""
        saved = self._open_dialog(None)
        if saved is None:
            return
        self.after_change(saved)

    @Slot()
    def edit_selected(self) -> None:
        """编辑 the selected person."""
        trainee_id = self.current_id()
        if trainee_id is None:
            return
        self.conceal()
        if self._open_dialog(trainee_id) is not None:
            self.after_change(trainee_id)

    @Slot()
    def delete_selected(self) -> None:
        """删除 the selected person, after asking; refused when they attended trainings."""
        trainee_id = self.current_id()
        if trainee_id is None:
            return
        row = self.model.row_at(self.model.row_of(trainee_id) or 0)
        if row is not None and row.trainings == 0:
            answer = QMessageBox.question(
                self, "删除学员", f"删除学员“{row.name}”？删除后不能恢复。",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
        position = self.model.row_of(trainee_id) or 0
        try:
            delete_trainee(self.db, trainee_id)  # refuses, in Chinese, if on a roster
        except KepuError as err:
            messages.show_error(self, err)
            return
        self.after_change(None)
        if self.model.rowCount():
            self.select_trainee(self.model.id_at(min(position, self.model.rowCount() - 1)))

    def import_roster(self) -> None:
        """导入花名册: the import wizard into the register."""
        from desktop.import_wizard import ImportWizard

        wizard = ImportWizard(self.db, self.office, kind="trainees", parent=self)
        if exec_changed(wizard):
            self.after_change(None)
            self.changed.emit()

    def after_change(self, trainee_id: str | None) -> None:
        """Reload after a change and select ``trainee_id`` (clearing filters if needed)."""
        self._fill_filters()
        self.apply_search()  # a filter value may have gone
        self.model.refresh()
        if trainee_id is not None and not self.select_trainee(trainee_id):
            self.search_edit.blockSignals(True)
            self.search_edit.clear()
            self.search_edit.blockSignals(False)
            self.category_filter.setCurrentIndex(0)
            self.village_filter.setCurrentIndex(0)
            self.apply_search()
            self.select_trainee(trainee_id)
        self._show_detail()
        self._update_count()
        self.changed.emit()

    @Slot(str)
    def open_roster(self, activity_id: str) -> None:
        """Open the roster of a training (from the detail pane)."""
        dialog = RosterDialog(self.db, self.office, activity_id, self)
        if exec_changed(dialog):
            self.after_change(self.current_id())

    @Slot()
    def refresh(self) -> None:
        """Read everything again (F5; also when the page is shown)."""
        self._fill_filters()
        self.apply_search()
        self.model.refresh()
        self._show_detail()
        self._update_count()

    def showEvent(self, event: QShowEvent) -> None:
        """Rosters may have changed on other pages: refresh when shown again."""
        super().showEvent(event)
        if self._shown_once:
            self.refresh()
        self._shown_once = True

    def hideEvent(self, event: QHideEvent) -> None:
        """Full numbers never stay on a page the clerk has left."""
        self.conceal()
        super().hideEvent(event)

