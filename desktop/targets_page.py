"""年度目标: the office's yearly targets next to 本年累计 and 完成率.

Every indicator a target can be set for is one row, grouped by section as in
the report. The 年度目标 cells are edited in place and written together with
:func:`db.targets.set_targets` (all or nothing) on 保存; 本年累计 and 完成率
come from :func:`db.indicators.compute_figures` for the year's latest month.
Targets can also be copied from the year before or imported from a workbook
(the template this page writes, or any sheet of indicator name/code + value).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QSettings,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QGuiApplication,
    QHideEvent,
    QKeyEvent,
    QKeySequence,
    QPalette,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from db.database import Database
from db.errors import KepuError, ValidationError
from db.indicators import COUNT, Figure, IndicatorDef, compute_figures
from db.offices import OfficeInfo
from db.periods import Period
from db.targets import (
    target_years,
    copy_targets,
    list_targets,
    parse_target_value,
    read_targets_workbook,
    set_targets,
    target_indicators,
)
from desktop import messages
from desktop.field_errors import error_label
from desktop.table_model import ModelIndex, SimpleTableModel
from desktop.widgets import page_title
from reports.figures import format_rate, format_value

log = logging.getLogger(__name__)

HINT_STYLE = "color: #555555;"
ERROR_BACKGROUND = QColor("#fdecea")
DONE_COLOUR = QColor("#2e7d32")
SETTINGS_LAST_DIR = "targets/last_dir"
TEMPLATE_HEADER = ("指标", "代码", "目标值", "单位")
WORKBOOK_FILTER = "Excel 工作簿 (*.xlsx *.xls *.ods);;所有文件 (*)"


def settings() -> QSettings:
    """The user's preferences (same store as the main window)."""
    return QSettings("kepu", "kepu")


def ask(parent: QWidget | None, text: str, choices: list[str], *,
        informative: str = "", default: int = 0) -> str | None:
    """A question with buttons; returns the label clicked, or None for 取消/Esc.

    ``取消`` is always added last and is what Esc chooses.
    """
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(messages.APP_TITLE)
    box.setText(text)
    if informative:
        box.setInformativeText(informative)
    buttons = [box.addButton(label, QMessageBox.ButtonRole.AcceptRole) for label in choices]
    cancel = box.addButton("取消", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(buttons[default] if buttons else cancel)
    box.setEscapeButton(cancel)
    box.exec()
    clicked = box.clickedButton()
    return next((label for label, b in zip(choices, buttons, strict=True) if b is clicked), None)


def target_text(value: Decimal, kind: str) -> str:
    """A stored target as the cell shows it: 1560, 2.00 (元), 120.5 (学时)."""
    if kind == COUNT:
        return str(int(value))
    if kind in ("money", "per_capita"):
        return f"{value:.2f}"
    return format_value(value, kind)


def figures_period(year: int, today: dt.date | None = None) -> Period:
    """The month whose 本年累计 the page shows: this month this year, December before."""
    today = today or dt.date.today()
    if year == today.year:
        return Period(year, "month", today.month)
    return Period(year, "month", 12 if year < today.year else 1)


# -- the table model -----------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """A row of the table: a section header (``indicator`` None) or an indicator."""

    section: str
    indicator: IndicatorDef | None = None


class TargetsModel(SimpleTableModel):
    """Indicators with their saved and edited targets, 本年累计 and 完成率.

    The model holds all indicators (about a hundred) and shows those that pass
    the filter, each section under a header row. Edits stay in :attr:`edits`
    until :meth:`TargetsPage.save`.
    """

    COLUMNS = ("指标", "代码", "单位", "年度目标", "本年累计", "完成率")
    NAME, CODE, UNIT, TARGET, YTD, RATE = range(6)
    NUMERIC = (TARGET, YTD, RATE)
    HEADER_TOOLTIPS = {
        TARGET: "双击或直接输入数字修改；清空表示不设目标",
        YTD: "从1月1日到统计月末的累计数，与月报表一致",
        RATE: "本年累计 ÷ 年度目标",
    }
    CodeRole = Qt.ItemDataRole.UserRole + 1

    dirty_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.defs: list[IndicatorDef] = []
        self.saved: dict[str, Decimal] = {}
        self.figures: dict[str, Figure] = {}
        self.edits: dict[str, str] = {}  # code → text typed, differing from the saved value
        self.errors: dict[str, str] = {}  # code → message (bad value, or refused on save)
        self.lines: list[Line] = []
        self.filter_text = ""
        self.only_set = False

    # -- data in -----------------------------------------------------------------

    def load(self, defs: list[IndicatorDef], saved: dict[str, Decimal],
             figures: dict[str, Figure]) -> None:
        """Show a year's targets; pending edits and errors are dropped."""
        was_dirty = self.is_dirty()
        self.beginResetModel()
        self.defs = list(defs)
        self.saved = dict(saved)
        self.figures = dict(figures)
        self.edits.clear()
        self.errors.clear()
        self.lines = self._visible_lines()
        self.endResetModel()
        if was_dirty:
            self.dirty_changed.emit(False)

    def set_filter(self, text: str, only_set: bool) -> None:
        """Show the indicators whose name or code contains ``text``."""
        self.beginResetModel()
        self.filter_text = text.strip().lower()
        self.only_set = only_set
        self.lines = self._visible_lines()
        self.endResetModel()

    def has_target(self, code: str) -> bool:
        """Whether an indicator has a target (saved or typed)."""
        if code in self.edits:
            return bool(self.edits[code].strip())
        return code in self.saved

    def _matches(self, d: IndicatorDef) -> bool:
        if self.only_set and not self.has_target(d.code) and d.code not in self.errors:
            return False
        needle = self.filter_text
        if not needle:
            return True
        return any(needle in text.lower() for text in (d.name, d.code, d.section, d.unit))

    def _visible_lines(self) -> list[Line]:
        lines: list[Line] = []
        section = None
        for d in self.defs:
            if not self._matches(d):
                continue
            if d.section != section:
                section = d.section
                lines.append(Line(section))
            lines.append(Line(section, d))
        return lines

    # -- state ---------------------------------------------------------------------

    def indicator(self, code: str) -> IndicatorDef | None:
        """Return the indicator of a code, or None."""
        return next((d for d in self.defs if d.code == code), None)

    def row_of(self, code: str) -> int:
        """The row showing an indicator, -1 when it is filtered out."""
        return next((i for i, line in enumerate(self.lines)
                     if line.indicator is not None and line.indicator.code == code), -1)

    def code_at(self, row: int) -> str | None:
        """Return the code shown in a row (None for a section header)."""
        if 0 <= row < len(self.lines) and self.lines[row].indicator is not None:
            return self.lines[row].indicator.code  # type: ignore[union-attr]
        return None

    def is_header(self, row: int) -> bool:
        """Whether a row is a section header."""
        return 0 <= row < len(self.lines) and self.lines[row].indicator is None

    def is_dirty(self) -> bool:
        """Whether there are edits not saved yet."""
        return bool(self.edits)

    def target_cell(self, code: str) -> str:
        """The text of a 年度目标 cell: the edit, the saved target, or ""."""
        if code in self.edits:
            return self.edits[code]
        d = self.indicator(code)
        value = self.saved.get(code)
        return "" if value is None or d is None else target_text(value, d.kind)

    def set_error(self, code: str, message: str | None) -> None:
        """Mark (or with None unmark) an indicator's row as wrong."""
        if message is None:
            self.errors.pop(code, None)
        else:
            self.errors[code] = message
        row = self.row_of(code)
        if row >= 0:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))

    def _preview_rate(self, d: IndicatorDef) -> str:
        """完成率 with the edited target (same rounding as the indicator computation)."""
        figure = self.figures.get(d.code)
        if d.code not in self.edits:
            return format_rate(figure.rate) if figure else "-"
        text = self.edits[d.code].strip()
        if not text or figure is None or figure.ytd is None or d.code in self.errors:
            return "-"
        try:
            target = parse_target_value(text, d)
        except ValidationError:
            return "-"
        if target <= 0:
            return "-"
        rate = (Decimal(figure.ytd) / target).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        return format_rate(rate)

    # -- QAbstractItemModel -----------------------------------------------------------

    def row_count(self) -> int:
        """Header and indicator rows shown."""
        return len(self.lines)

    def header_tooltip(self, column: int) -> str | None:
        """How 年度目标 is edited and what 本年累计 and 完成率 are."""
        return self.HEADER_TOOLTIPS.get(column)

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        """Only the 年度目标 cells of indicator rows are editable."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if self.is_header(index.row()):
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren
        flags = super().flags(index)
        if index.column() == self.TARGET:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Texts, alignment, grey codes, bold section headers, red rows with errors."""
        if not self.cell_in_range(index):
            return None
        column = index.column()
        line = self.lines[index.row()]
        d = line.indicator
        if d is None:
            return self._header_data(line, column, role)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._text(d, column)
        if role == self.CodeRole:
            return d.code
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(column)
        if role == Qt.ItemDataRole.BackgroundRole and d.code in self.errors:
            return QBrush(ERROR_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole:
            if d.code in self.errors:
                return QBrush(QColor("#8a1c1c"))
            if column == self.CODE:
                return QGuiApplication.palette().color(QPalette.ColorGroup.Active,
                                                       QPalette.ColorRole.PlaceholderText)
            if column == self.RATE and self._rate_done(d):
                return QBrush(DONE_COLOUR)
        if role == Qt.ItemDataRole.FontRole and column == self.TARGET and d.code in self.edits:
            font = QFont(QGuiApplication.font())
            font.setBold(True)  # changed, not saved yet
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if d.code in self.errors:
                return self.errors[d.code]
            if column == self.TARGET and d.code in self.edits:
                return "已修改，尚未保存"
            if column == self.CODE:
                return f"统计代码；报表模板中写作 {{{{{d.code}}}}}"
        return None

    def _rate_done(self, d: IndicatorDef) -> bool:
        figure = self.figures.get(d.code)
        return (d.code not in self.edits and figure is not None and figure.rate is not None
                and figure.rate >= 1)

    def _header_data(self, line: Line, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and column == 0:
            return line.section
        if role == Qt.ItemDataRole.FontRole:
            font = QFont(QGuiApplication.font())
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.BackgroundRole:
            return QGuiApplication.palette().brush(QPalette.ColorGroup.Active,
                                                   QPalette.ColorRole.AlternateBase)
        return None

    def _text(self, d: IndicatorDef, column: int) -> str:
        if column == self.NAME:
            return d.name
        if column == self.CODE:
            return d.code
        if column == self.UNIT:
            return d.unit
        if column == self.TARGET:
            return self.target_cell(d.code)
        figure = self.figures.get(d.code)
        if column == self.YTD:
            return format_value(figure.ytd, figure.kind) if figure else "-"
        return self._preview_rate(d)

    def setData(self, index: ModelIndex, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Keep a typed target as an edit; a bad value turns the row red at once."""
        if (role != Qt.ItemDataRole.EditRole or not index.isValid()
                or index.column() != self.TARGET):
            return False
        code = self.code_at(index.row())
        d = self.indicator(code) if code else None
        if d is None:
            return False
        was_dirty = self.is_dirty()
        text = "" if value is None else str(value).strip()
        saved = self.saved.get(d.code)
        saved_text = "" if saved is None else target_text(saved, d.kind)
        unchanged = text == saved_text
        if not unchanged and text and saved is not None:
            with contextlib.suppress(ValidationError):
                unchanged = parse_target_value(text, d) == saved
        if unchanged:
            self.edits.pop(d.code, None)
        else:
            self.edits[d.code] = text
        message = None
        if text and not unchanged:
            try:
                parse_target_value(text, d)
            except ValidationError as err:
                message = err.message
        self.set_error(d.code, message)
        row = index.row()
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))
        if was_dirty != self.is_dirty():
            self.dirty_changed.emit(self.is_dirty())
        return True

    def revert_edits(self) -> None:
        """Forget every edit (撤销修改)."""
        if not self.edits and not self.errors:
            return
        self.beginResetModel()
        self.edits.clear()
        self.errors.clear()
        self.lines = self._visible_lines()
        self.endResetModel()
        self.dirty_changed.emit(False)


# -- the view ------------------------------------------------------------------------


class _TargetDelegate(QStyledItemDelegate):
    """A right-aligned line edit for the 年度目标 cells."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: ModelIndex) -> QWidget:
        editor = QLineEdit(parent)
        editor.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        editor.setMaxLength(20)
        editor.setFrame(False)
        return editor


class TargetsView(QTableView):
    """The table; Enter moves down to the next target like a spreadsheet, Tab edits it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setItemDelegateForColumn(TargetsModel.TARGET, _TargetDelegate(self))
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.AnyKeyPressed
                             | QAbstractItemView.EditTrigger.SelectedClicked)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setWordWrap(False)
        self.setCornerButtonEnabled(False)
        self.verticalHeader().hide()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Delete (or Backspace) on a 年度目标 cell clears it: no target."""
        index = self.currentIndex()
        if (event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
                and self.state() != QAbstractItemView.State.EditingState
                and index.isValid() and index.flags() & Qt.ItemFlag.ItemIsEditable):
            self.model().setData(index, "")
            return
        super().keyPressEvent(event)

    def next_target(self, row: int, step: int) -> QModelIndex:
        """The 年度目标 cell of the next indicator row up or down from ``row``."""
        model = self.model()
        r = row + step
        while 0 <= r < model.rowCount():
            index = model.index(r, TargetsModel.TARGET)
            if index.flags() & Qt.ItemFlag.ItemIsEditable:
                return index
            r += step
        return QModelIndex()

    def closeEditor(self, editor: QWidget, hint: QAbstractItemDelegate.EndEditHint) -> None:
        """After Enter go to the next target; after Tab/Shift+Tab edit the next/previous."""
        row = self.currentIndex().row()
        hints = QAbstractItemDelegate.EndEditHint
        if hint not in (hints.EditNextItem, hints.EditPreviousItem, hints.SubmitModelCache):
            super().closeEditor(editor, hint)
            return
        super().closeEditor(editor, hints.NoHint)
        step = -1 if hint == hints.EditPreviousItem else 1
        target = self.next_target(row, step)
        if not target.isValid():
            return
        self.setCurrentIndex(target)
        self.scrollTo(target)
        if hint != hints.SubmitModelCache:
            self.edit(target)


# -- dialogs ---------------------------------------------------------------------------


class ImportPreviewDialog(QDialog):
    """What an import will set: 指标, 代码, 现有目标 → 导入后; 导入 or 取消."""

    def __init__(self, year: int, rows: list[tuple[str, str, str, str]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"导入{year}年目标")
        self.resize(760, 480)
        label = QLabel(f"将为 {year} 年设置以下 {len(rows)} 项目标（表中没有的指标保持不变）：")
        label.setWordWrap(True)
        table = QTableWidget(len(rows), 4)
        table.setHorizontalHeaderLabels(["指标", "代码", "现有目标", "导入后"])
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c >= 2:
                    item.setTextAlignment(right)
                if c == 3 and cells[2] != cells[3]:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                table.setItem(r, c, item)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in (1, 2, 3):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox()
        ok = buttons.addButton(f"导入 {len(rows)} 项目标", QDialogButtonBox.ButtonRole.AcceptRole)
        ok.setDefault(True)
        buttons.addButton("取消", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(table, 1)
        layout.addWidget(buttons)


def confirm_import(parent: QWidget | None, year: int,
                   rows: list[tuple[str, str, str, str]]) -> bool:
    """Show what an import will set; True to go ahead."""
    dialog = ImportPreviewDialog(year, rows, parent)
    return dialog.exec() == QDialog.DialogCode.Accepted


# -- workbooks ---------------------------------------------------------------------------


def write_template(path: Path, defs: list[IndicatorDef], saved: dict[str, Decimal],
                   year: int) -> None:
    """Write the 目标模板: a row per indicator (指标, 代码, 目标值, 单位), targets filled in.

    Names and codes are written as text (a catalog name the office typed that
    starts with "=" must not become a formula); target values as numbers.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"{year}年目标"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for c, title in enumerate(TEMPLATE_HEADER, start=1):
        cell = sheet.cell(row=1, column=c, value=title)
        cell.font = bold
        cell.fill = fill
    for r, d in enumerate(defs, start=2):
        for c, text in ((1, d.name), (2, d.code), (4, d.unit)):
            cell = sheet.cell(row=r, column=c)
            cell.value = text
            cell.data_type = "s"  # always text, never a formula
        value = saved.get(d.code)
        if value is not None:
            cell = sheet.cell(row=r, column=3, value=int(value) if d.kind == COUNT else value)
            cell.number_format = "0" if d.kind == COUNT else "0.00"
        sheet.cell(row=r, column=3).alignment = Alignment(horizontal="right")
    sheet.freeze_panes = "A2"
    for column, width in (("A", 44), ("B", 30), ("C", 12), ("D", 8)):
        sheet.column_dimensions[column].width = width
    notes = book.create_sheet("填写说明")
    for r, text in enumerate((
        f"{year}年度目标模板：在“目标值”一列填写数字，不设目标的指标留空。",
        "人次、次数等只能填整数；经费（元）可以有两位小数。",
        "请不要修改“代码”一列；可以删除不需要的行。",
        "填好后在“年度目标”页面点“从Excel导入…”选择本文件。",
    ), start=1):
        cell = notes.cell(row=r, column=1)
        cell.value = text
        cell.data_type = "s"
    notes.column_dimensions["A"].width = 80
    book.save(path)


def read_workbook(db: Database, path: Path) -> dict[str, object]:
    """Targets from a workbook: the page's template or any name/code + value sheet.

    Raises:
        ValidationError: unreadable file, unknown indicators or bad values.

    """
    with db.session() as session:
        return read_targets_workbook(session, path)


# -- the page ----------------------------------------------------------------------------


class TargetsPage(QWidget):
    """年度目标: set, copy and import the targets of a year.

    Signals:
        changed: emitted after targets were written.
    """

    changed = Signal()

    def __init__(self, db: Database, office: OfficeInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.office = office
        self.year = dt.date.today().year
        self._asking = False  # a save question is up: hide/show must not ask again
        # Figures are computed when the page is shown (not for every save elsewhere
        # while it is hidden): ``_stale`` says the shown data must be read again.
        self._stale = True

        title = page_title("年度目标")

        self.year_combo = QComboBox()
        self.year_combo.setToolTip("切换年份；有未保存的修改时会先询问")
        self.year_combo.currentIndexChanged.connect(self._year_chosen)
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("搜索指标（名称或代码，Ctrl+F）")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMinimumWidth(220)
        self.search_edit.textChanged.connect(self._apply_filter)
        self.only_set_check = QCheckBox("只显示已设目标的指标")
        self.only_set_check.toggled.connect(self._apply_filter)
        self.period_label = QLabel()
        self.period_label.setStyleSheet(HINT_STYLE)

        self.model = TargetsModel(self)
        self.model.dirty_changed.connect(self._update_state)
        self.model.dataChanged.connect(self._update_state)
        self.model.modelReset.connect(self._spans)
        self.view = TargetsView()
        self.view.setObjectName("targets_table")
        self.view.setModel(self.model)
        metrics = self.view.fontMetrics()
        self.view.verticalHeader().setDefaultSectionSize(metrics.height() + 10)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(TargetsModel.NAME, QHeaderView.ResizeMode.Stretch)
        for column, sample in ((TargetsModel.CODE, "train.领导干部和公务员.people"),
                               (TargetsModel.UNIT, "元/人"),
                               (TargetsModel.TARGET, "年度目标 000000"),
                               (TargetsModel.YTD, "本年累计 00000"),
                               (TargetsModel.RATE, "完成率 00")):
            header.resizeSection(column, metrics.horizontalAdvance(sample) + 24)
        header.setStretchLastSection(False)

        self.error_label = error_label()
        self.status_label = QLabel()
        self.status_label.setStyleSheet(HINT_STYLE)

        self.save_button = QPushButton("保存")
        self.save_button.setToolTip("保存本页修改的全部目标（Ctrl+S）；有一项不对则都不保存")
        self.save_button.clicked.connect(self.save)
        self.revert_button = QPushButton("撤销修改")
        self.revert_button.setToolTip("放弃尚未保存的修改")
        self.revert_button.clicked.connect(self.revert)
        self.copy_button = QPushButton("复制上年目标")
        self.copy_button.clicked.connect(self.copy_previous_year)
        self.import_button = QPushButton("从Excel导入…")
        self.import_button.setToolTip("读取一个工作表：第一列为指标名称或代码，第二列为目标值；"
                                      "也可以是本页下载的目标模板")
        self.import_button.clicked.connect(self.import_workbook)
        self.template_button = QPushButton("下载目标模板")
        self.template_button.setToolTip("保存一个列出全部指标的 Excel 模板，填好后再导入")
        self.template_button.clicked.connect(self.download_template)
        for button in (self.save_button, self.revert_button, self.copy_button,
                       self.import_button, self.template_button):
            button.setAutoDefault(False)

        save = QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self)
        save.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        save.activated.connect(self.save)
        find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self)
        find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.activated.connect(self._focus_search)

        top = QHBoxLayout()
        top.addWidget(title)
        top.addSpacing(16)
        top.addWidget(QLabel("年份："))
        top.addWidget(self.year_combo)
        top.addSpacing(16)
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.only_set_check)
        actions = QHBoxLayout()
        actions.addWidget(self.save_button)
        actions.addWidget(self.revert_button)
        actions.addSpacing(16)
        actions.addWidget(self.copy_button)
        actions.addWidget(self.import_button)
        actions.addWidget(self.template_button)
        actions.addStretch(1)
        actions.addWidget(self.period_label)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(actions)
        layout.addWidget(self.error_label)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status_label)
        QWidget.setTabOrder(self.year_combo, self.search_edit)
        QWidget.setTabOrder(self.search_edit, self.only_set_check)
        QWidget.setTabOrder(self.only_set_check, self.view)

        self._fill_years()

    # -- loading ---------------------------------------------------------------------

    def _fill_years(self) -> None:
        this_year = dt.date.today().year
        with self.db.session() as s:
            years = set(target_years(s, self.office))
        years |= set(range(this_year - 5, this_year + 2))
        years.add(self.year)
        self.year_combo.blockSignals(True)
        self.year_combo.clear()
        for year in sorted(years, reverse=True):
            self.year_combo.addItem(f"{year}年", year)
        self.year_combo.setCurrentIndex(self.year_combo.findData(self.year))
        self.year_combo.blockSignals(False)

    def load(self) -> None:
        """Read the year's targets and figures again (pending edits are dropped)."""
        period = figures_period(self.year)
        with self.db.session() as s:
            defs = target_indicators(s)
            saved = {t.code: t.value for t in list_targets(s, self.office, self.year)}
            figures = compute_figures(s, self.office, period).items
        self.model.load(defs, saved, figures)
        self._stale = False
        self.period_label.setText(f"本年累计统计至{period.label}底")
        self._clear_error()
        self._update_state()

    @Slot()
    def data_changed(self) -> None:
        """Another page saved something: reload unless the user is editing targets."""
        if self.model.is_dirty():
            return  # keep the user's edits; figures catch up on the next load
        if self.isVisible():
            self.load()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        """Read the year's targets and figures when first shown or after changes elsewhere."""
        super().showEvent(event)
        if self._stale and not event.spontaneous():
            self.load()

    def _spans(self) -> None:
        self.view.clearSpans()
        for row in range(self.model.rowCount()):
            if self.model.is_header(row):
                self.view.setSpan(row, 0, 1, self.model.columnCount())

    @Slot()
    def _apply_filter(self) -> None:
        current = self.model.code_at(self.view.currentIndex().row())
        self.model.set_filter(self.search_edit.text(), self.only_set_check.isChecked())
        if current is not None:
            row = self.model.row_of(current)
            if row >= 0:
                self.view.setCurrentIndex(self.model.index(row, TargetsModel.TARGET))
        self._update_state()

    @Slot()
    def _focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    def _update_state(self, *_args: object) -> None:
        dirty = self.model.is_dirty()
        self.save_button.setEnabled(dirty)
        self.revert_button.setEnabled(dirty)
        total = len(self.model.defs)
        set_count = sum(1 for d in self.model.defs if self.model.has_target(d.code))
        text = f"{self.year}年：共 {total} 项指标，已设目标 {set_count} 项"
        done = sum(1 for f in self.model.figures.values()
                   if f.code in self.model.saved and f.rate is not None and f.rate >= 1)
        if self.model.saved:
            text += f"，其中已完成 {done} 项"
        if dirty:
            text += f"；{len(self.model.edits)} 项修改尚未保存（Ctrl+S 保存）"
        else:
            text += "。在“年度目标”一列直接输入数字即可修改，清空表示不设目标"
        shown = sum(1 for line in self.model.lines if line.indicator is not None)
        if shown != total:
            text += f"；当前显示 {shown} 项"
        self.status_label.setText(text)

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    def _clear_error(self) -> None:
        self.error_label.clear()
        self.error_label.hide()

    # -- helpers for tests and the main window ------------------------------------------

    def index_of(self, code: str, column: int = TargetsModel.TARGET) -> QModelIndex:
        """The cell of an indicator (invalid when it is filtered out)."""
        row = self.model.row_of(code)
        return self.model.index(row, column) if row >= 0 else QModelIndex()

    def has_unsaved_changes(self) -> bool:
        """Whether targets were typed but not saved."""
        return self.model.is_dirty()

    def set_year(self, year: int) -> bool:
        """Switch to ``year`` (asking about unsaved changes); False if the user stayed."""
        if year == self.year:
            return True
        if not self.maybe_save():
            return False
        self.year = year
        if self.year_combo.findData(year) < 0:
            self._fill_years()
        self.year_combo.blockSignals(True)
        self.year_combo.setCurrentIndex(self.year_combo.findData(year))
        self.year_combo.blockSignals(False)
        self.load()
        return True

    def can_leave(self) -> bool:
        """Ask about unsaved changes before the page is left; False to stay."""
        return self.maybe_save()

    def maybe_save(self) -> bool:
        """保存 / 不保存 / 取消 when there are unsaved edits; True to go on."""
        if not self.model.is_dirty() or self._asking:
            return True
        self._asking = True
        try:
            answer = ask(self, f"{self.year}年的目标有 {len(self.model.edits)} 项修改尚未保存，"
                         "是否保存？", ["保存", "不保存"])
        finally:
            self._asking = False
        if answer == "保存":
            return self.save()
        if answer == "不保存":
            self.model.revert_edits()
            self._clear_error()
            return True
        return False

    # -- year ----------------------------------------------------------------------------

    @Slot(int)
    def _year_chosen(self, index: int) -> None:
        year = self.year_combo.itemData(index)
        if year is None or year == self.year:
            return
        if not self.set_year(int(year)):
            self.year_combo.blockSignals(True)  # stay on the year with the edits
            self.year_combo.setCurrentIndex(self.year_combo.findData(self.year))
            self.year_combo.blockSignals(False)

    # -- actions ---------------------------------------------------------------------------

    @Slot()
    def save(self) -> bool:
        """Write every edited target at once; on a bad value nothing is saved."""
        if self.view.state() == QAbstractItemView.State.EditingState:
            # Ctrl+S while typing in a cell: take what is typed.
            editor = self.view.focusWidget()
            if isinstance(editor, QLineEdit) and editor is not self.search_edit:
                self.view.commitData(editor)
                self.view.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)
        if not self.model.is_dirty():
            return True
        self._clear_error()
        values = dict(self.model.edits)
        try:
            set_targets(self.db, self.office, self.year, values)
        except ValidationError as err:
            self._refused(err)
            return False
        except KepuError as err:
            messages.show_error(self, err)
            return False
        count = len(values)
        self.load()
        self.status_label.setText(f"已保存 {count} 项目标。  " + self.status_label.text())
        self.changed.emit()
        return True

    def _refused(self, err: ValidationError) -> None:
        code = err.field
        self._show_error(f"未保存：{err.message}")
        if code and self.model.indicator(code) is not None:
            self.model.set_error(code, err.message)
            index = self.index_of(code)
            if not index.isValid():  # filtered out: show everything again
                self.search_edit.clear()
                self.only_set_check.setChecked(False)
                index = self.index_of(code)
            if index.isValid():
                self.view.setCurrentIndex(index)
                self.view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
                self.view.setFocus()

    @Slot()
    def revert(self) -> None:
        """Forget the unsaved edits."""
        self.model.revert_edits()
        self._clear_error()

    @Slot()
    def copy_previous_year(self) -> None:
        """Copy last year's targets, asking whether targets already set are replaced."""
        if not self.maybe_save():
            return
        source = self.year - 1
        with self.db.session() as s:
            have_source = bool(list_targets(s, self.office, source))
        if not have_source:
            QMessageBox.information(self, messages.APP_TITLE,
                                    f"{source}年没有设置目标，无法复制。")
            return
        replace = False
        if self.model.saved:
            answer = ask(self, f"{self.year}年已设置 {len(self.model.saved)} 项目标。"
                         f"复制{source}年的目标时：",
                         ["全部替换为上年目标", "只补充未设置的"], default=1,
                         informative="“全部替换”会先删除本年已设的目标。")
            if answer is None:
                return
            replace = answer == "全部替换为上年目标"
        try:
            copied = copy_targets(self.db, self.office, source, self.year, replace=replace)
        except KepuError as err:
            messages.show_error(self, err)
            return
        self.load()
        self.status_label.setText(f"已从{source}年复制 {copied} 项目标。  "
                                  + self.status_label.text())
        self.changed.emit()

    def _last_dir(self) -> str:
        return settings().value(SETTINGS_LAST_DIR, "", type=str) or str(Path.home())

    @Slot()
    def import_workbook(self) -> None:
        """从Excel导入: read a workbook, show what will be set, then set it."""
        if not self.maybe_save():
            return
        name, _filter = QFileDialog.getOpenFileName(
            self, f"选择{self.year}年目标表", self._last_dir(), WORKBOOK_FILTER)
        if not name:
            return
        path = Path(name)
        settings().setValue(SETTINGS_LAST_DIR, str(path.parent))
        try:
            found = read_workbook(self.db, path)
        except KepuError as err:
            messages.show_error(self, err)
            return
        rows = []
        for d in self.model.defs:
            if d.code in found:
                old = self.model.saved.get(d.code)
                new = parse_target_value(found[d.code], d)
                rows.append((d.name, d.code, "" if old is None else target_text(old, d.kind),
                             target_text(new, d.kind)))
        if not confirm_import(self, self.year, rows):
            return
        try:
            set_targets(self.db, self.office, self.year, found)
        except KepuError as err:
            messages.show_error(self, err)
            return
        self.load()
        self.status_label.setText(f"已从“{path.name}”导入 {len(found)} 项目标。  "
                                  + self.status_label.text())
        self.changed.emit()

    @Slot()
    def download_template(self) -> None:
        """Save an .xlsx listing every indicator, this year's targets filled in."""
        start = str(Path(self._last_dir()) / f"{self.office.name}{self.year}年度目标.xlsx")
        name, _filter = QFileDialog.getSaveFileName(self, "保存目标模板", start,
                                                    "Excel 工作簿 (*.xlsx)")
        if not name:
            return
        path = Path(name)
        if path.suffix.lower() != ".xlsx":
            path = path.with_name(path.name + ".xlsx")
        settings().setValue(SETTINGS_LAST_DIR, str(path.parent))
        try:
            write_template(path, self.model.defs, self.model.saved, self.year)
        except OSError as err:
            messages.show_error(self, KepuError(
                f"无法保存“{path}”：{err.strerror or err}（文件是否正在 Excel/WPS 中打开？）"))
            return
        self.status_label.setText(f"模板已保存到 {path}")

    # -- leaving -----------------------------------------------------------------------------

    def hideEvent(self, event: QHideEvent) -> None:
        """Leaving the page with unsaved edits: ask once the switch is done."""
        super().hideEvent(event)
        if not event.spontaneous() and self.model.is_dirty() and not self._asking:
            QTimer.singleShot(0, self._ask_after_leaving)

    @Slot()
    def _ask_after_leaving(self) -> None:
        window = self.window()
        if window is self or not window.isVisible() or self.isVisible():
            return  # the window closed, or the user came back already
        if not self.model.is_dirty() or self._asking:
            return
        self._asking = True
        try:
            answer = ask(self, f"离开“年度目标”页面：{self.year}年的目标有 "
                         f"{len(self.model.edits)} 项修改尚未保存，是否保存？",
                         ["保存", "不保存"],
                         informative="选择“取消”则保留修改，回到本页后仍可保存。")
        finally:
            self._asking = False
        if answer == "保存":
            self.save()
        elif answer == "不保存":
            self.model.revert_edits()
            self._clear_error()
