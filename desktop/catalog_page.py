"""目录设置: the office's editable catalogs (活动形式, 主题活动, 重点人群, ...).

On the left the six catalogs, on the right the entries of the chosen one with
their 统计代码 (the ``code`` that indicator codes and county templates use; it
never changes), whether they are built in, how many records use them and
whether they are hidden. Every change is one :meth:`Database.write`
transaction through :mod:`db.catalogs`, and :attr:`CatalogPage.changed` is
emitted afterwards so pages with catalog drop-downs can reload them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QSize,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QFont, QGuiApplication, QKeySequence, QPalette, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from db.catalogs import (
    KIND_LABELS,
    CatalogItem,
    add_entry,
    delete_entry,
    delete_refusal,
    set_props,
    list_catalog,
    move_entry,
    rename_entry,
    set_hidden,
    usage_counts,
)
from db.database import Database
from db.errors import KepuError, ValidationError
from db.indicators import CATALOG_INDICATORS
from db.offices import OfficeInfo
from desktop import messages
from desktop.field_errors import FieldErrors, error_label, ok_cancel_buttons
from desktop.table_model import LEFT, RIGHT, ModelIndex, SimpleTableModel
from desktop.widgets import page_title, select_row

log = logging.getLogger(__name__)

EXPLANATION = "隐藏的项目不再出现在下拉列表中，已有记录不受影响；正在使用或内置的项目不能删除。"
NAME_FIELD = "名称"
MONTH_FIELD = "常用月份"
NO_MONTH = "不固定"

def code_tooltip(kind: str, code: str) -> str:
    """Why the 统计代码 matters, with the placeholders this entry appears in."""
    patterns = CATALOG_INDICATORS.get(kind)
    if patterns is None:
        return ("统计代码是该项目在数据中的固定标识，重命名时不会改变，"
                "已有记录和往年数据都不受影响。")
    shown = "、".join("{{" + p.format(code=code) + "}}" for p in patterns)
    return (f"统计代码用于报表模板中的占位符，如 {shown}。\n"
            "重命名只改变显示的名称，统计代码不会改变，县区下发的报表模板和往年数据都不受影响。")


def campaign_when(item: CatalogItem) -> str:
    """A campaign's usual time: 9月第三周, 4月, or 不固定."""
    when = item.props.get("when")
    if when:
        return str(when)
    month = item.props.get("month")
    return f"{month}月" if month else NO_MONTH


@dataclass(frozen=True)
class CatalogRow:
    """One entry as shown in the table: the entry and how many records use it."""

    item: CatalogItem
    usage: int


def load_rows(db: Database, kind: str) -> list[CatalogRow]:
    """The entries of a catalog in display order, hidden ones included, with usage."""
    with db.session() as session:
        items = list_catalog(session, kind)
        counts = usage_counts(session, kind)
    return [CatalogRow(item, counts.get(item.id, 0)) for item in items]


# -- the table model ---------------------------------------------------------------


class CatalogModel(SimpleTableModel):
    """The entries of one catalog (catalogs are small: all rows are held)."""

    # Column key → header; 常用时间 only for 主题活动.
    BASE_COLUMNS = (("name", "名称"), ("code", "统计代码"), ("type", "类型"),
                    ("usage", "使用次数"), ("state", "状态"))
    CAMPAIGN_COLUMNS = (("name", "名称"), ("code", "统计代码"), ("when", "常用时间"),
                        ("type", "类型"), ("usage", "使用次数"), ("state", "状态"))
    IdRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = ""
        self.rows: list[CatalogRow] = []
        self._set_columns(self.BASE_COLUMNS)

    def set_rows(self, kind: str, rows: list[CatalogRow]) -> None:
        """Show the given rows of one catalog."""
        self.beginResetModel()
        self.kind = kind
        self.rows = list(rows)
        self._set_columns(self.CAMPAIGN_COLUMNS if kind == "campaign" else self.BASE_COLUMNS)
        self.endResetModel()

    def _set_columns(self, columns: tuple[tuple[str, str], ...]) -> None:
        self.columns = columns
        self._titles = tuple(label for _key, label in columns)

    def column_of(self, key: str) -> int:
        """The column index of a column key (``-1`` when not shown)."""
        return next((i for i, (k, _label) in enumerate(self.columns) if k == key), -1)

    def row_of(self, entry_id: str) -> int:
        """The row of an entry (``-1`` when not in this catalog)."""
        return next((i for i, r in enumerate(self.rows) if r.item.id == entry_id), -1)

    def item(self, row: int) -> CatalogItem | None:
        """The entry in a row, or None."""
        return self.rows[row].item if 0 <= row < len(self.rows) else None

    # -- QAbstractItemModel ------------------------------------------------------

    def column_titles(self) -> tuple[str, ...]:
        """The titles of the columns this catalog shows."""
        return self._titles

    def alignment(self, column: int) -> int:
        """使用次数 is a number: right-aligned."""
        return RIGHT if self.columns[column][0] == "usage" else LEFT

    def header_tooltip(self, column: int) -> str | None:
        """The 统计代码 header explains itself."""
        return code_tooltip(self.kind, "名称") if self.columns[column][0] == "code" else None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Texts, the code tooltip, and grey/italic for codes and hidden entries."""
        if not self.cell_in_range(index):
            return None
        row = self.rows[index.row()]
        item = row.item
        key = self.columns[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, key)
        if role == self.IdRole:
            return item.id
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "code":
                return code_tooltip(self.kind, item.code)
            if item.hidden:
                return "已隐藏：不再出现在下拉列表中，已有记录不受影响"
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(index.column())
        if role == Qt.ItemDataRole.ForegroundRole and (item.hidden or key == "code"):
            return QGuiApplication.palette().color(QPalette.ColorGroup.Active,
                                                   QPalette.ColorRole.PlaceholderText)
        if role == Qt.ItemDataRole.FontRole and item.hidden:
            font = QFont(QGuiApplication.font())
            font.setItalic(True)
            return font
        return None

    @staticmethod
    def _text(row: CatalogRow, key: str) -> str:
        item = row.item
        if key == "name":
            return item.name
        if key == "code":
            return item.code
        if key == "when":
            return campaign_when(item)
        if key == "type":
            return "内置" if item.builtin else "本单位添加"
        if key == "usage":
            return f"{row.usage:,}"
        return "已隐藏" if item.hidden else "使用中"


# -- dialogs ---------------------------------------------------------------------------


def confirm(parent: QWidget | None, text: str, ok_text: str) -> bool:
    """Ask before something that cannot be undone; 取消 is the default."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(messages.APP_TITLE)
    box.setText(text)
    ok = box.addButton(ok_text, QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton("取消", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.exec()
    return box.clickedButton() is ok


class EntryDialog(FieldErrors, QDialog):
    """新增 or 重命名 one catalog entry; the change is written when 确定 is pressed.

    A validation error is shown in red under its field and the dialog stays
    open. After ``accepted``, :attr:`result_item` is the entry as written.

    Args:
        db: the open database.
        kind: the catalog (a key of ``KIND_LABELS``).
        item: the entry to rename; ``None`` to add a new one.
        parent: the parent widget.

    """

    def __init__(self, db: Database, kind: str, item: CatalogItem | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.kind = kind
        self.item = item
        self.result_item: CatalogItem | None = None
        label = KIND_LABELS[kind]
        self.setWindowTitle(f"新增{label}项目" if item is None else f"重命名{label}项目")
        self.setMinimumWidth(480)

        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(50 if item is None else 100)
        self.month_combo: QComboBox | None = None
        self.error_labels: dict[str, QLabel] = {}
        self._field_widgets: dict[str, QWidget] = {}

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(f"{NAME_FIELD}：", self._with_error_label(NAME_FIELD, self.name_edit))
        if item is None:
            self.name_edit.setPlaceholderText(
                "如 刺桐科学传播学者巡讲" if kind == "campaign" else "")
            patterns = CATALOG_INDICATORS.get(kind)
            example = ("，报表模板中写作 {{" + patterns[0].format(code="名称") + "}}"
                       if patterns else "")
            hint = QLabel(f"名称同时作为统计代码{example}。统计代码创建后不再改变，以后改名也不变。"
                          "名称中不能有 . : { } 和空格。")
        else:
            self.name_edit.setText(item.name)
            self.name_edit.selectAll()
            code = QLabel(item.code)
            code.setEnabled(False)  # greyed: it cannot be changed
            code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            code.setToolTip(code_tooltip(kind, item.code))
            form.addRow("统计代码：", code)
            hint = QLabel("重命名只改变显示的名称；统计代码不变，已有记录、报表模板和往年数据都不受影响。")
        hint.setWordWrap(True)
        if kind == "campaign":
            self.month_combo = QComboBox()
            self.month_combo.addItem(NO_MONTH, None)
            for month in range(1, 13):
                self.month_combo.addItem(f"{month}月", month)
            if item is not None and item.props.get("month"):
                self.month_combo.setCurrentIndex(self.month_combo.findData(item.props["month"]))
            form.addRow(f"{MONTH_FIELD}：", self._with_error_label(MONTH_FIELD,
                                                                    self.month_combo))

        self.general_error = error_label()

        self.buttons = ok_cancel_buttons(self)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.general_error)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.name_edit.setFocus()

    def props(self) -> dict[str, Any]:
        """The new entry's props: ``{"month": 4}`` for a campaign in April, else ``{}``."""
        if self.month_combo is None:
            return {}
        month = self.month_combo.currentData()
        return {} if month is None else {"month": int(month)}

    def accept(self) -> None:
        """Write the entry in one transaction; stay open on an error."""
        self._clear_errors()
        name = self.name_edit.text().strip()
        if self.item is not None and name == self.item.name and (
                self.month_combo is None or self.props().get("month") == self.item.props.get(
                    "month")):
            super().reject()  # nothing to change
            return
        try:
            with self.db.write() as session:
                if self.item is None:
                    self.result_item = add_entry(session, self.kind, name, props=self.props())
                else:
                    if name != self.item.name:
                        self.result_item = rename_entry(session, self.item.id, name)
                    if self.month_combo is not None:
                        # A new month replaces the built-in description (“9月第三周”).
                        kept = {k: v for k, v in self.item.props.items()
                                if k not in ("month", "when")}
                        if self.props().get("month") != self.item.props.get("month"):
                            self.result_item = set_props(session, self.item.id,
                                                         {**kept, **self.props()})
        except ValidationError as err:
            self.show_field_error(err)
            return
        except KepuError as err:
            messages.show_error(self, err)
            return
        except Exception:  # noqa: BLE001 - a bug: log it, tell the user, keep the dialog
            log.exception("保存目录项目失败")
            messages.show_bug(self)
            return
        super().accept()


# -- the page ----------------------------------------------------------------------------


class CatalogPage(QWidget):
    """目录设置: add, rename, hide, delete and reorder catalog entries.

    ``changed`` is emitted after every change written to the database.

    Args:
        db: the open database.
        office: the office whose clerk edits the catalogs.
        parent: the parent widget.

    """

    changed = Signal()

    def __init__(self, db: Database, office: OfficeInfo | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.office = office
        self.dialog: EntryDialog | None = None
        self.shortcuts: dict[str, QShortcut] = {}  # button text → its shortcut

        title = page_title("目录设置")
        explanation = QLabel(EXPLANATION)
        explanation.setWordWrap(True)

        self.kinds = QListWidget()
        self.kinds.setObjectName("catalog_kinds")
        self.kinds.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        metrics = self.kinds.fontMetrics()
        for kind, label in KIND_LABELS.items():
            entry = QListWidgetItem(label)
            entry.setData(Qt.ItemDataRole.UserRole, kind)
            entry.setSizeHint(QSize(0, metrics.height() + 16))
            self.kinds.addItem(entry)
        widest = max(metrics.horizontalAdvance(label) for label in KIND_LABELS.values())
        self.kinds.setFixedWidth(widest + 40)

        self.heading = QLabel()
        heading_font = QFont(self.heading.font())
        heading_font.setBold(True)
        self.heading.setFont(heading_font)

        self.model = CatalogModel(self)
        self.table = QTableView()
        self.table.setObjectName("catalog_entries")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table for the buttons
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(metrics.height() + 10)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.doubleClicked.connect(self.rename_selected)
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):  # Enter = 重命名
            enter = QShortcut(QKeySequence(key), self.table)
            enter.setContext(Qt.ShortcutContext.WidgetShortcut)
            enter.activated.connect(self.rename_selected)

        self.add_button = self._button("新增…", "Ctrl+N", "新增一个本单位的项目（Ctrl+N）",
                                       self.add_new)
        self.rename_button = self._button("重命名…", "F2",
                                          "修改显示的名称，统计代码不变（F2 或 回车）",
                                          self.rename_selected)
        self.hide_button = self._button("隐藏", "Ctrl+H",
                                        "隐藏后不再出现在下拉列表中，已有记录不受影响（Ctrl+H）",
                                        self.toggle_hidden)
        self.delete_button = self._button("删除", "Delete",
                                          "删除未被使用的本单位项目（Delete）", self.delete_selected)
        self.up_button = self._button("上移", "Ctrl+Up", "在下拉列表中排前一位（Ctrl+↑）",
                                      self.move_up)
        self.down_button = self._button("下移", "Ctrl+Down", "在下拉列表中排后一位（Ctrl+↓）",
                                        self.move_down)
        buttons = QVBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.add_button, self.rename_button, self.hide_button):
            buttons.addWidget(button)
        buttons.addSpacing(12)
        buttons.addWidget(self.delete_button)
        buttons.addSpacing(12)
        buttons.addWidget(self.up_button)
        buttons.addWidget(self.down_button)
        buttons.addStretch(1)

        self.status_label = QLabel()
        self.status_label.setEnabled(False)  # greyed: secondary information

        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.heading)
        table_row = QHBoxLayout()
        table_row.addWidget(self.table, 1)
        table_row.addLayout(buttons)
        right.addLayout(table_row, 1)

        kinds_label = QLabel("目录")
        kinds_label.setFont(heading_font)
        kinds_label.setBuddy(self.kinds)
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(kinds_label)
        left.addWidget(self.kinds, 1)
        body = QHBoxLayout()
        body.addLayout(left)
        body.addLayout(right, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(explanation)
        layout.addSpacing(4)
        layout.addLayout(body, 1)
        layout.addWidget(self.status_label)

        QWidget.setTabOrder(self.kinds, self.table)
        previous: QWidget = self.table
        for button in (self.add_button, self.rename_button, self.hide_button,
                       self.delete_button, self.up_button, self.down_button):
            QWidget.setTabOrder(previous, button)
            previous = button

        self.kinds.currentRowChanged.connect(self._kind_chosen)
        self.table.selectionModel().currentRowChanged.connect(self._update_buttons)
        self.model.modelReset.connect(self._update_buttons)
        self.kinds.setCurrentRow(0)

    def _button(self, text: str, shortcut: str, tooltip: str, slot: Any) -> QPushButton:
        """A button with a shortcut that works while the focus is on this page.

        (A button's own shortcut would be window-wide: Delete pressed in the main
        window's navigation would delete an entry.)
        """
        button = QPushButton(text)
        button.setToolTip(tooltip)
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        key = QShortcut(QKeySequence(shortcut), self)
        key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        key.activated.connect(button.click)  # does nothing while the button is disabled
        self.shortcuts[text] = key
        return button

    # -- state ---------------------------------------------------------------------

    @property
    def kind(self) -> str:
        """The catalog shown (a key of ``KIND_LABELS``)."""
        return self.model.kind

    def select_kind(self, kind: str) -> None:
        """Show one catalog."""
        self.kinds.setCurrentRow(list(KIND_LABELS).index(kind))

    def current_item(self) -> CatalogItem | None:
        """The selected entry, or None."""
        index = self.table.currentIndex()
        if not index.isValid() or not self.table.selectionModel().isRowSelected(index.row()):
            return None
        return self.model.item(index.row())

    def select_entry(self, entry_id: str) -> None:
        """Make an entry of the shown catalog the current, selected row."""
        row = self.model.row_of(entry_id)
        if row >= 0:
            self._select_row(row)

    def _select_row(self, row: int) -> None:
        select_row(self.table, row)

    @Slot(int)
    def _kind_chosen(self, row: int) -> None:
        if row < 0:
            return
        self.reload(list(KIND_LABELS)[row])
        if self.model.rowCount():
            self._select_row(0)

    @Slot()
    def refresh(self) -> None:
        """Read the shown catalog again (usage counts change as records are added)."""
        self.reload(self.kind, keep_selection=True)

    def reload(self, kind: str, *, select: str | None = None,
               keep_selection: bool = False) -> None:
        """Load one catalog from the database into the table.

        Args:
            kind: the catalog to show.
            select: id of the entry to select afterwards.
            keep_selection: select the entry that was selected before.

        """
        if keep_selection and select is None:
            current = self.current_item()
            select = current.id if current is not None else None
        try:
            rows = load_rows(self.db, kind)
        except KepuError as err:
            messages.show_error(self, err)
            return
        self.model.set_rows(kind, rows)
        self._fit_columns()
        hidden = sum(1 for r in rows if r.item.hidden)
        text = f"{KIND_LABELS[kind]}（共 {len(rows)} 项"
        text += f"，其中 {hidden} 项已隐藏）" if hidden else "）"
        self.heading.setText(text)
        if select is not None:
            self.select_entry(select)
        self._update_buttons()

    def _fit_columns(self) -> None:
        """Columns as wide as their contents plus some air; 名称 takes the rest."""
        header = self.table.horizontalHeader()
        name_column = self.model.column_of("name")
        padding = self.table.fontMetrics().horizontalAdvance("中")
        for column in range(self.model.columnCount()):
            if column == name_column:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
                continue
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            width = max(self.table.sizeHintForColumn(column), header.sectionSizeHint(column))
            header.resizeSection(column, width + padding)

    @Slot()
    def _update_buttons(self) -> None:
        item = self.current_item()
        row = self.model.row_of(item.id) if item is not None else -1
        has = item is not None
        self.rename_button.setEnabled(has)
        self.hide_button.setEnabled(has)
        self.delete_button.setEnabled(has)
        self.hide_button.setText("取消隐藏" if item is not None and item.hidden else "隐藏")
        self.up_button.setEnabled(has and row > 0)
        self.down_button.setEnabled(has and 0 <= row < self.model.rowCount() - 1)

    def _done(self, entry_id: str | None, message: str) -> None:
        """After a change: reload, select the entry, say what happened, emit ``changed``."""
        self.reload(self.kind, select=entry_id)
        self.status_label.setText(message)
        self.changed.emit()

    def showEvent(self, event: QShowEvent) -> None:
        """Usage counts may have changed on other pages: read them again."""
        super().showEvent(event)
        if self.kind and not event.spontaneous():
            self.refresh()

    # -- actions ---------------------------------------------------------------------

    @Slot()
    def add_new(self) -> None:
        """Open the 新增 dialog for the shown catalog."""
        self._open_dialog(EntryDialog(self.db, self.kind, None, self))

    @Slot()
    def rename_selected(self) -> None:
        """Open the 重命名 dialog for the selected entry."""
        item = self.current_item()
        if item is None:
            return
        self._open_dialog(EntryDialog(self.db, self.kind, item, self))

    def _open_dialog(self, dialog: EntryDialog) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            return
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._dialog_accepted(dialog))
        dialog.finished.connect(self._dialog_finished)
        dialog.open()

    def _dialog_accepted(self, dialog: EntryDialog) -> None:
        item = dialog.result_item
        if item is None:
            return
        if dialog.item is None:
            self._done(item.id, f"已新增“{item.name}”")
        else:
            self._done(item.id, f"已将“{dialog.item.name}”改名为“{item.name}”，统计代码仍为“{item.code}”")

    @Slot()
    def _dialog_finished(self) -> None:
        self.dialog = None
        self.table.setFocus()

    @Slot()
    def toggle_hidden(self) -> None:
        """Hide the selected entry, or show it again if it is hidden."""
        item = self.current_item()
        if item is None:
            return
        try:
            with self.db.write() as session:
                changed = set_hidden(session, item.id, not item.hidden)
        except KepuError as err:
            messages.show_error(self, err)
            return
        self._done(changed.id, f"已隐藏“{changed.name}”" if changed.hidden
                   else f"已取消隐藏“{changed.name}”")

    @Slot()
    def delete_selected(self) -> None:
        """Delete the selected entry after asking; refused when built-in or used."""
        item = self.current_item()
        if item is None:
            return
        refusal = self._delete_refusal(item)
        if refusal is not None:
            messages.show_error(self, refusal)
            return
        if not confirm(self, f"确定删除“{item.name}”吗？删除后不能恢复。", "删除"):
            return
        row = self.model.row_of(item.id)
        try:
            with self.db.write() as session:
                delete_entry(session, item.id)
        except KepuError as err:
            messages.show_error(self, err)
            return
        # Select the row that took its place, so Delete can be pressed again.
        neighbour = self.model.item(row + 1) or self.model.item(row - 1)
        self._done(neighbour.id if neighbour is not None else None, f"已删除“{item.name}”")

    def _delete_refusal(self, item: CatalogItem) -> KepuError | None:
        """Why the entry cannot be deleted, asked of the data layer."""
        with self.db.session() as session:
            refusal = delete_refusal(session, item.id)
        return KepuError(refusal) if refusal else None

    @Slot()
    def move_up(self) -> None:
        """Move the selected entry one place up."""
        self._move(-1)

    @Slot()
    def move_down(self) -> None:
        """Move the selected entry one place down."""
        self._move(+1)

    def _move(self, step: int) -> None:
        item = self.current_item()
        if item is None:
            return
        row = self.model.row_of(item.id)
        if not 0 <= row + step < self.model.rowCount():
            return
        try:
            with self.db.write() as session:
                move_entry(session, item.id, step)
        except KepuError as err:
            messages.show_error(self, err)
            return
        self._done(item.id, f"已{'上移' if step < 0 else '下移'}“{item.name}”")

