"""The roster (花名册) of one training: who attended, with their 学时.

At the top the clerk adds people: typing a name, the last digits of a
身份证号 or part of a phone number lists the registered people who match
(with the masked number and the 村/社区, to tell namesakes apart); Enter or a
double-click puts the selected one on the roster. 新学员… opens a quick entry
for someone not registered yet; a 身份证号 that is already registered selects
that person instead of creating a duplicate.

In the middle the roster, whose 学时 can be changed per person, and a summary:
a training with a roster counts its 人次 from the roster. A training in a
reported (locked) month is shown read-only.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSettings,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QFont, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from db.activities import ActivityDetail, get_activity
from db.database import Database
from db.errors import KepuError, ValidationError
from db.offices import OfficeInfo
from db.trainees import (
    FieldError,
    TraineeInput,
    TraineeValidationError,
    check_training,
    add_person_to_roster,
    add_to_roster,
    remove_from_roster,
    trainee_rows,
)
from desktop import messages
from desktop.field_errors import ERROR_STYLE, error_label
from desktop.trainee_dialog import (
    HINT_STYLE,
    IdNumberCheck,
    category_combo,
    gender_combo,
    registered_person,
    village_combo,
)
from desktop.trainee_model import (
    PICKER_KEYS,
    RosterModel,
    TraineeModel,
    chinese_date,
    format_hours,
    format_hours_short,
)
from desktop.widgets import (
    restore_column_widths,
    save_column_widths,
    select_row,
    setup_row_table,
)

log = logging.getLogger(__name__)

SEARCH_LIMIT = 50
SEARCH_DELAY_MS = 150
SETTINGS_WIDTHS = "roster/column_widths"
SETTINGS_GEOMETRY = "roster/geometry"
BANNER_STYLE = ("background: #fff4e5; color: #8a4b00; border: 1px solid #f0c36d;"
                " border-radius: 3px; padding: 6px;")
ROSTER_HINT = "有花名册的培训，人次按花名册统计"
OK_STYLE = "color: #2e7d32;"


def settings() -> QSettings:
    """Return the user's preferences."""
    return QSettings("kepu", "kepu")


def training_caption(detail: ActivityDetail) -> str:
    """智慧助老培训（2025年9月16日，2学时）."""
    data = detail.data
    when = chinese_date(data.start_date)
    if data.end_date > data.start_date:
        end = data.end_date
        when += (f"至{end.month}月{end.day}日" if end.year == data.start_date.year
                 else f"至{chinese_date(end)}")
    return f"{data.title}（{when}，{format_hours_short(data.train_hours_x10)}学时）"


class _HoursDelegate(QStyledItemDelegate):
    """The 学时 editor says what blank means."""

    def __init__(self, model: RosterModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = model

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex | QPersistentModelIndex) -> QWidget:
        editor = super().createEditor(parent, option, index)
        if isinstance(editor, QLineEdit):
            editor.setPlaceholderText(format_hours(self._model.training_hours_x10))
            editor.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            editor.setToolTip("本人学时；留空即为培训学时")
        return editor


class RosterDialog(QDialog):
    """花名册 of one training.

    Every change is written at once (one transaction each); :attr:`changed` is
    emitted after each. For an activity that is not a training (or no longer
    exists) the dialog only shows why, in Chinese.

    Args:
        db: the open database.
        office: the office of the training.
        activity_id: the training.
        parent: the parent widget.

    Attributes:
        error: why there is no roster to edit (not a training), or None.
        read_only: the training's month is reported (locked).

    """

    changed = Signal()

    def __init__(self, db: Database, office: OfficeInfo, activity_id: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.office = office
        self.activity_id = activity_id
        self.error: str | None = None
        self.detail: ActivityDetail | None = None
        with db.session() as session:
            try:
                check_training(session, activity_id)
            except ValidationError as err:
                self.error = err.message
            self.detail = get_activity(session, activity_id)
        self.read_only = self.error is not None or bool(self.detail and self.detail.locked)

        caption = training_caption(self.detail) if self.detail and not self.error else ""
        self.setWindowTitle(f"花名册 — {caption}" if caption else "花名册")
        self.setMinimumSize(720, 480)

        self.banner = QLabel()
        self.banner.setObjectName("roster_banner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.hide()

        heading = QLabel(caption or "花名册")
        font = QFont(heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        heading.setFont(font)
        heading.setWordWrap(True)

        # -- adding people ------------------------------------------------------------
        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("roster_search")
        self.search_edit.setPlaceholderText("查找已登记的学员：姓名、身份证号后几位、电话")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.installEventFilter(self)
        self.search_timer = QTimer(self)
        self.search_timer.setSingleShot(True)
        self.search_timer.setInterval(SEARCH_DELAY_MS)
        self.search_timer.timeout.connect(self.run_search)
        self.search_edit.textChanged.connect(lambda _text: self.search_timer.start())
        self.search_edit.returnPressed.connect(self.add_selected)

        self.add_button = self._button("加入花名册", "把选中的学员加入本期花名册（回车）",
                                       self.add_selected)
        self.new_button = self._button(
            "新学员…", "登记一位学员库中还没有的人并加入花名册（Ctrl+N）", self.show_quick_entry)
        self.new_button.setShortcut(QKeySequence("Ctrl+N"))

        self.search_model = TraineeModel(db, office, self, keys=PICKER_KEYS,
                                         limit=SEARCH_LIMIT, require_query=True)
        self.results = QTableView()
        self.results.setObjectName("roster_results")
        setup_row_table(self.results, self.search_model, padding=24)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.horizontalHeader().setStretchLastSection(True)
        self.results.doubleClicked.connect(lambda _index: self.add_selected())
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            enter = QShortcut(QKeySequence(key), self.results)
            enter.setContext(Qt.ShortcutContext.WidgetShortcut)
            enter.activated.connect(self.add_selected)
        row_height = self.results.verticalHeader().defaultSectionSize()
        self.results.setFixedHeight(row_height * 6 + self.results.horizontalHeader()
                                    .sizeHint().height() + 4)
        self.search_model.ids_changed.connect(self._results_changed)
        self.results_label = QLabel()
        self.results_label.setStyleSheet(HINT_STYLE)

        self.quick = self._build_quick_entry()
        self.quick.hide()

        self.add_status = QLabel()
        self.add_status.setObjectName("roster_add_status")
        self.add_status.setWordWrap(True)
        self.add_status.hide()

        search_row = QHBoxLayout()
        search_row.addWidget(QLabel("添加学员："))
        search_row.addWidget(self.search_edit, 1)
        search_row.addWidget(self.add_button)
        search_row.addWidget(self.new_button)
        self.add_area = QWidget()
        add_layout = QVBoxLayout(self.add_area)
        add_layout.setContentsMargins(0, 0, 0, 0)
        add_layout.setSpacing(4)
        add_layout.addLayout(search_row)
        add_layout.addWidget(self.results)
        add_layout.addWidget(self.results_label)
        add_layout.addWidget(self.quick)
        add_layout.addWidget(self.add_status)

        # -- the roster ----------------------------------------------------------------
        self.model = RosterModel(db, activity_id, self)
        self.model.set_read_only(self.read_only)
        self.table = QTableView()
        self.table.setObjectName("roster_table")
        setup_row_table(self.table, self.model, padding=24)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.SelectedClicked)
        self.table.setItemDelegateForColumn(self.model.column_of("hours"),
                                            _HoursDelegate(self.model, self.table))
        self.model.changed.connect(self._roster_changed)
        self.model.error.connect(self._show_add_error)
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.remove_selected)
        header = self.table.horizontalHeader()
        restore_column_widths(header, SETTINGS_WIDTHS)
        header.sectionResized.connect(lambda: save_column_widths(header, SETTINGS_WIDTHS))

        self.remove_button = self._button("移出花名册", "把选中的学员移出本期花名册，"
                                          "他们仍保留在学员库中（Delete）", self.remove_selected)
        self.summary_label = QLabel()
        self.summary_label.setObjectName("roster_summary")
        summary_font = QFont(self.summary_label.font())
        summary_font.setBold(True)
        self.summary_label.setFont(summary_font)
        self.hint_label = QLabel()
        self.hint_label.setStyleSheet(HINT_STYLE)
        self.hint_label.setWordWrap(True)

        roster_title = QLabel("本期花名册")
        roster_title.setFont(summary_font)
        roster_head = QHBoxLayout()
        roster_head.addWidget(roster_title)
        roster_head.addStretch(1)
        roster_head.addWidget(self.summary_label)

        bottom = QHBoxLayout()
        bottom.addWidget(self.remove_button)
        bottom.addWidget(self.hint_label, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close = self.buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setText("关闭")
        close.setAutoDefault(False)
        self.buttons.rejected.connect(self.close_dialog)
        bottom.addWidget(self.buttons)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)

        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(heading)
        layout.addWidget(self.add_area)
        layout.addWidget(line)
        layout.addLayout(roster_head)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)

        self._apply_state()
        self._update_summary()
        self._results_changed()
        self._restore_geometry()
        self.search_edit.setFocus()

    # -- building ---------------------------------------------------------------------

    def _button(self, text: str, tooltip: str, slot: Any) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tooltip)
        button.setAutoDefault(False)  # Enter in a field must not press a button
        button.clicked.connect(slot)
        return button

    def _build_quick_entry(self) -> QFrame:
        box = QFrame()
        box.setObjectName("roster_quick_entry")
        box.setFrameShape(QFrame.Shape.StyledPanel)
        self.quick_name = QLineEdit()
        self.quick_name.setMaxLength(50)
        self.quick_id = QLineEdit()
        self.quick_id.setMaxLength(30)
        self.quick_id.setPlaceholderText("18位，可不填")
        self.quick_id_status = QLabel()
        self.quick_id_check = IdNumberCheck(self.quick_id, self.quick_id_status, self,
                                            lookup=self._registered)
        self.quick_gender = gender_combo()
        self.quick_phone = QLineEdit()
        self.quick_phone.setMaxLength(30)
        self.quick_category = category_combo(self.db)
        self.quick_village = village_combo(self.db, self.office)
        self.quick_add_button = self._button("登记并加入", "登记这位学员并加入本期花名册（回车）",
                                             self.add_new_person)
        self.quick_cancel_button = self._button("收起", "收起新学员录入（Esc）",
                                                self.hide_quick_entry)
        self.quick_error = error_label(word_wrap=False)
        self.quick_id_check.info_changed.connect(self._quick_id_changed)
        for edit in (self.quick_name, self.quick_id, self.quick_phone):
            edit.returnPressed.connect(self.add_new_person)
        village_line = self.quick_village.lineEdit()
        if village_line is not None:
            village_line.returnPressed.connect(self.add_new_person)

        grid = QGridLayout(box)
        grid.setContentsMargins(8, 6, 8, 6)
        title = QLabel("新学员")
        bold = QFont(title.font())
        bold.setBold(True)
        title.setFont(bold)
        grid.addWidget(title, 0, 0, 1, 2)
        grid.addWidget(QLabel("姓名："), 1, 0)
        grid.addWidget(self.quick_name, 1, 1)
        grid.addWidget(QLabel("身份证号："), 1, 2)
        grid.addWidget(self.quick_id, 1, 3)
        grid.addWidget(QLabel("性别："), 1, 4)
        grid.addWidget(self.quick_gender, 1, 5)
        grid.addWidget(self.quick_id_status, 2, 3, 1, 3)
        grid.addWidget(QLabel("电话："), 3, 0)
        grid.addWidget(self.quick_phone, 3, 1)
        grid.addWidget(QLabel("人员类别："), 3, 2)
        grid.addWidget(self.quick_category, 3, 3)
        grid.addWidget(QLabel("村/社区："), 3, 4)
        grid.addWidget(self.quick_village, 3, 5)
        buttons = QHBoxLayout()
        buttons.addWidget(self.quick_error, 1)
        buttons.addStretch(1)
        buttons.addWidget(self.quick_add_button)
        buttons.addWidget(self.quick_cancel_button)
        grid.addLayout(buttons, 4, 0, 1, 6)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(3, 3)
        grid.setColumnStretch(5, 2)
        return box

    def _apply_state(self) -> None:
        if self.error is not None:
            self.banner.setText(self.error)
            self.banner.show()
        elif self.detail is not None and self.detail.locked:
            day = self.detail.data.start_date
            self.banner.setText(f"{day.year}年{day.month}月已上报并锁定，花名册只能查看，不能增删学员或修改学时。"
                                "如需修改，请先在“报表”中重新打开该月。")
            self.banner.show()
        editable = not self.read_only
        self.add_area.setVisible(editable)
        self.add_area.setEnabled(editable)
        self.remove_button.setEnabled(editable)

    # -- state -----------------------------------------------------------------------

    def selected_ids(self) -> list[str]:
        """Return the trainee ids of the selected roster rows, in roster order."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.id_at(r) for r in rows]

    def _update_summary(self) -> None:
        n = self.model.rowCount()
        if self.error is not None:
            self.summary_label.setText("")
            self.hint_label.setText("")
            return
        self.summary_label.setText(f"本期 {n} 人次（= 人数 {n}）")
        entered = self.detail.data.attend if self.detail else 0
        if n:
            hint = ROSTER_HINT
            if entered and entered != n:
                hint += f"（活动登记的参与人次 {entered} 不再计入）"
        else:
            hint = f"{ROSTER_HINT}；花名册为空时，按活动登记的参与人次（{entered}）统计"
        self.hint_label.setText(hint)
        self.search_model.set_marked(self.model.ids, "已在本期花名册中")

    def _set_status(self, text: str, style: str = OK_STYLE) -> None:
        self.add_status.setText(text)
        self.add_status.setStyleSheet(style)
        self.add_status.setVisible(bool(text))

    @Slot(str)
    def _show_add_error(self, message: str) -> None:
        self._set_status(message, ERROR_STYLE)

    @Slot()
    def _roster_changed(self) -> None:
        self._update_summary()
        self.changed.emit()

    def _reload(self) -> None:
        self.model.refresh()
        self._update_summary()
        self.changed.emit()

    def _select_in_roster(self, trainee_id: str) -> None:
        row = self.model.row_of(trainee_id)
        if row is not None:
            select_row(self.table, row)

    # -- searching and adding registered people -------------------------------------------

    @Slot()
    def run_search(self) -> None:
        """Search now (normally 150 ms after the last key)."""
        self.search_timer.stop()
        self.search_model.set_search(self.search_edit.text())

    @Slot()
    def _results_changed(self) -> None:
        n = self.search_model.rowCount()
        query = self.search_model.query
        if not query:
            text = "输入姓名、身份证号后几位或电话号码查找；找不到时点“新学员…”登记"
        elif n == 0:
            text = f"学员库中没有找到“{query}”，可点“新学员…”登记"
        elif n >= SEARCH_LIMIT:
            text = f"只列出前 {SEARCH_LIMIT} 个，请多输入几个字缩小范围"
        else:
            text = f"找到 {n} 人；灰色的已在花名册中"
        self.results_label.setText(text)
        self.results.setVisible(bool(query))  # the roster gets the room while not searching
        if n and not self.results.selectionModel().hasSelection():
            self._select_result(self._first_unmarked())

    def _first_unmarked(self) -> int:
        for row in range(self.search_model.rowCount()):
            if not self.search_model.is_marked(self.search_model.id_at(row)):
                return row
        return 0

    def _select_result(self, row: int) -> None:
        if 0 <= row < self.search_model.rowCount():
            select_row(self.results, row)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Up/Down in the search field move through the matches."""
        if watched is self.search_edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1,
                    Qt.Key.Key_PageDown: 5, Qt.Key.Key_PageUp: -5}.get(Qt.Key(event.key()))
            if step is not None and self.search_model.rowCount():
                current = self.results.currentIndex()
                row = current.row() + step if current.isValid() else 0
                self._select_result(max(0, min(row, self.search_model.rowCount() - 1)))
                return True
        return super().eventFilter(watched, event)

    @Slot()
    def add_selected(self) -> None:
        """Put the selected match on the roster (Enter in the search field or the list)."""
        if self.read_only:
            return
        if self.search_timer.isActive():  # Enter typed faster than the search delay
            self.run_search()
        index = self.results.currentIndex()
        if not index.isValid() or not self.results.selectionModel().isRowSelected(index.row()):
            if self.search_model.rowCount():
                self._select_result(self._first_unmarked())
                index = self.results.currentIndex()
            else:
                if self.search_edit.text().strip():
                    self._set_status("没有找到这个人；可点“新学员…”登记", ERROR_STYLE)
                return
        trainee_id = self.search_model.id_at(index.row())
        person = self.search_model.row_at(index.row())
        label = person.name + (f"（{person.village}）" if person and person.village else "") \
            if person else ""
        if trainee_id in self.model.ids:
            self._set_status(f"{label}已在本期花名册中", HINT_STYLE)
            self._select_in_roster(trainee_id)
            return
        try:
            add_to_roster(self.db, self.activity_id, [trainee_id])
        except KepuError as err:
            messages.show_error(self, err)
            return
        self._reload()
        self._select_in_roster(trainee_id)
        self._set_status(f"已加入：{label}")
        self.search_edit.clear()
        self.run_search()
        self.search_edit.setFocus()

    # -- quick entry of a new person ----------------------------------------------------

    @Slot()
    def show_quick_entry(self) -> None:
        """Open the quick entry, with the searched name filled in."""
        if self.read_only:
            return
        query = self.search_edit.text().strip()
        if query and not any(ch.isdigit() for ch in query) and not self.quick_name.text():
            self.quick_name.setText(query)
        elif query.isdigit() and len(query) >= 15 and not self.quick_id.text():
            self.quick_id.setText(query)
        self.quick.show()
        self.quick_name.setFocus()
        self.quick_name.selectAll()

    @Slot()
    def hide_quick_entry(self) -> None:
        """Close the quick entry (what was typed is kept)."""
        self.quick.hide()
        self.search_edit.setFocus()

    def _registered(self, info: Any) -> tuple[str, str] | None:
        found = registered_person(self.db, self.office, info.number)
        if found is None:
            return None
        where = "已在本期花名册中" if found[0] in self.model.ids else "回车即加入花名册"
        return f"已在学员库中：{found[1]}，{where}", OK_STYLE

    @Slot()
    def _quick_id_changed(self) -> None:
        info = self.quick_id_check.info
        if info is not None:
            self.quick_gender.setCurrentIndex(self.quick_gender.findData(info.gender))
        self.quick_gender.setEnabled(info is None)
        self.quick_gender.setToolTip("由身份证号自动得出" if info else "")

    def _quick_input(self) -> TraineeInput:
        return TraineeInput(
            name=self.quick_name.text(),
            id_number="".join(self.quick_id.text().split()) or None,
            gender=str(self.quick_gender.currentData() or ""),
            phone=self.quick_phone.text(),
            category_id=self.quick_category.currentData(),
            village=self.quick_village.currentText(),
        )

    def _show_quick_errors(self, errors: list[FieldError]) -> None:
        texts = []
        focus: QWidget | None = None
        widgets: dict[str, QWidget] = {"name": self.quick_name, "id_number": self.quick_id,
                                       "phone": self.quick_phone, "gender": self.quick_gender,
                                       "category_id": self.quick_category,
                                       "village": self.quick_village}
        for error in errors:
            if error.field == "id_number":
                self.quick_id_check.show_error(error.message)
            else:
                texts.append(error.message)
            focus = focus or widgets.get(error.field)
        if texts:
            self.quick_error.setText("；".join(texts))
            self.quick_error.show()
        if focus is not None:
            focus.setFocus()
            if isinstance(focus, QLineEdit):
                focus.selectAll()

    @Slot()
    def add_new_person(self) -> None:
        """Register the quick entry's person (or find them by 身份证号) and add them."""
        if self.read_only:
            return
        self.quick_error.hide()
        self.quick_id_check.check()
        before = set(self.model.ids)
        try:
            trainee_id, created = add_person_to_roster(self.db, self.office, self.activity_id,
                                                       self._quick_input())
        except TraineeValidationError as err:
            self._show_quick_errors(err.errors)
            return
        except KepuError as err:
            self.quick_error.setText(str(err))
            self.quick_error.show()
            return
        except Exception:  # noqa: BLE001 - a bug: log it, tell the user, keep the entry
            log.exception("登记新学员失败")
            messages.show_bug(self)
            return
        with self.db.session() as session:
            rows = trainee_rows(session, [trainee_id])
        person = rows[0] if rows else None
        label = (person.name + (f"（{person.village}）" if person.village else "")
                 if person else "")
        if created:
            self._set_status(f"已登记新学员并加入花名册：{label}")
        elif trainee_id in before:
            self._set_status(f"已在学员库中：{label}，已在本期花名册中", HINT_STYLE)
        else:
            self._set_status(f"已在学员库中：{label}，已加入花名册")
        for edit in (self.quick_name, self.quick_id, self.quick_phone):
            edit.clear()
        self.quick_gender.setCurrentIndex(0)
        self._reload()
        if created:
            self.search_model.refresh()
        self._select_in_roster(trainee_id)
        self.quick_name.setFocus()

    # -- removing ------------------------------------------------------------------------

    @Slot()
    def remove_selected(self) -> None:
        """Take the selected people off the roster (asks first when more than one)."""
        if self.read_only:
            return
        ids = self.selected_ids()
        if not ids:
            return
        if len(ids) > 1:
            answer = QMessageBox.question(
                self, "移出花名册",
                f"把选中的 {len(ids)} 人移出本期花名册？\n他们仍保留在学员库中。",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
        first = min(self.model.row_of(i) or 0 for i in ids)
        names = [r.name for r in self.model.rows if r.trainee_id in set(ids)]
        try:
            removed = remove_from_roster(self.db, self.activity_id, ids)
        except KepuError as err:
            messages.show_error(self, err)
            return
        self._reload()
        shown = "、".join(names[:3]) + ("等" if len(names) > 3 else "")
        self._set_status(f"已移出 {removed} 人：{shown}", HINT_STYLE)
        if self.model.rowCount():
            self.table.selectRow(min(first, self.model.rowCount() - 1))

    # -- window state --------------------------------------------------------------------

    def _restore_geometry(self) -> None:
        geometry = settings().value(SETTINGS_GEOMETRY)
        if isinstance(geometry, QByteArray) and self.restoreGeometry(geometry):
            return
        self.resize(980, 640)

    def done(self, result: int) -> None:
        """Remember the size on closing."""
        settings().setValue(SETTINGS_GEOMETRY, self.saveGeometry())
        super().done(result)

    @Slot()
    def close_dialog(self) -> None:
        """关闭: close the dialog (even with the quick entry open)."""
        super().reject()

    def reject(self) -> None:
        """Esc closes the quick entry first, then the dialog; an open editor keeps Esc."""
        if self.quick.isVisible():
            self.hide_quick_entry()
            return
        super().reject()

