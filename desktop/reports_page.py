"""报表 (the reports page): the year's months and their state, exports, preview, 上报.

Left: the months of the chosen year from :func:`db.reporting.year_states`
(状态, 截止日期, 逾期, 修订), then the quarters and the year (exports only),
and under them what the selected period's state means, with 上报本月… and
重新打开…. Right: which files to write, the header fields (prefilled from the
office), 导出完整身份证号, the buttons, and the summary's preview.

All files come from :func:`reports.exports.export_period` and
:func:`reports.bundle.submit_period`, run through :mod:`desktop.worker`;
the page only collects choices and shows results.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QSettings, QStandardPaths, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QBrush, QDesktopServices, QFont, QGuiApplication, QPageSize
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressDialog,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import text

from db.catalogs import all_catalogs
from db.database import Database
from db.errors import KepuError
from db.models import PERIOD_REOPENED, PERIOD_SUBMITTED
from db.offices import OfficeInfo, list_offices
from db.periods import QUARTER_NAMES, Period
from db.reporting import MonthState, reopen_month, year_states
from desktop import messages
from desktop.charts import AMBER, GREEN, RED
from desktop.pdf_view import PdfView
from desktop.worker import BackgroundJob, Cancelled, IsCancelled, Progress, run_in_background
from reports.bundle import SubmissionResult, check_submittable, default_bundle_name, submit_period
from reports.exports import ExportCancelled, ExportResult, export_period
from reports.placeholders import PlaceholderInfo, placeholder_catalog
from reports.template_fill import PlaceholderError

SETTINGS_EXPORT_DIR = "reports/export_dir"
SETTINGS_TEMPLATE = "reports/template"
SUBMIT_FOLDER = "科普台账上报"
OUTPUTS = (  # kind, check box text, ticked at first
    ("xlsx", "月报表（Excel）", True),
    ("pdf", "工作汇总（PDF）", True),
    ("evidence", "佐证材料汇编（PDF）", False),
    ("template", "县级模板（Excel）", False),
)
TEMPLATE_FILTER = "Excel 模板 (*.xlsx *.xlsm *.xltx *.xltm)"
GREY = "#8a929c"
SENSITIVE_WARNING = ("导出的文件将包含完整的身份证号和联系电话，属于敏感个人信息："
                     "请只在确有需要时使用，妥善保管，用后删除。本次导出会记入操作日志。")
COLUMNS = ("报表期", "状态", "截止日期", "逾期", "修订")


def settings() -> QSettings:
    return QSettings("kepu", "kepu")


def documents_dir() -> Path:
    """The user's 文档 folder (home when the system has none)."""
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(location) if location else Path.home()


def default_bundle_path(month: str, office_name: str) -> Path:
    """<文档>/科普台账上报/2025-09_金井镇.zip."""
    return documents_dir() / SUBMIT_FOLDER / default_bundle_name(month, office_name)


def report_kind(period: Period) -> str:
    return {"month": "月报表", "quarter": "季度报表", "year": "年度报表"}[period.kind]


def export_names(period: Period, office_name: str, revision_label: str = "",
                 template: Path | None = None) -> dict[str, str]:
    """File names of the outputs in the chosen folder: 2025-09_金井镇_月报表.xlsx …"""
    stem = f"{period.key}_{office_name}"
    rev = f"_{revision_label}" if revision_label else ""
    names = {
        "xlsx": f"{stem}_{report_kind(period)}{rev}.xlsx",
        "pdf": f"{stem}_工作汇总{rev}.pdf",
        "evidence": f"{stem}_佐证材料汇编.pdf",
    }
    if template is not None:
        suffix = ".xlsm" if template.suffix.lower() in (".xlsm", ".xltm") else ".xlsx"
        names["template"] = f"{stem}_{template.stem}{rev}{suffix}"
    return names


def format_day(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# -- small dialogs (module functions, so tests can stand in for them) ----------------------


def confirm(parent: QWidget | None, title: str, text: str, ok_text: str) -> bool:
    """Ask before something that matters; 取消 is the default."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(title)
    box.setText(text)
    ok = box.addButton(ok_text, QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton("取消", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.exec()
    return box.clickedButton() is ok


def show_done(parent: QWidget | None, title: str, text: str, folder: Path) -> None:
    """Say what was written, with a button that opens the folder."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle(title)
    box.setText(text)
    open_button = box.addButton("打开所在文件夹", QMessageBox.ButtonRole.ActionRole)
    close = box.addButton("关闭", QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(close)
    box.setEscapeButton(close)
    box.exec()
    if box.clickedButton() is open_button:
        open_folder(parent, folder)


def open_folder(parent: QWidget | None, folder: Path) -> None:
    if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
        QMessageBox.warning(parent, messages.APP_TITLE, f"无法打开文件夹：\n{folder}")


class ReopenDialog(QDialog):
    """Asks why a submitted month is reopened; refuses an empty reason."""

    def __init__(self, label: str, revision: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"重新打开{label}")
        intro = QLabel(
            f"{label}已上报并锁定。重新打开后可以修改该月的记录，修改全部记入操作日志；"
            f"改完后需要再次上报，报表将标注“第{revision + 1}次修订”。\n\n请填写重新打开的原因：")
        intro.setWordWrap(True)
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setPlaceholderText("例如：漏报9月16日的防诈骗讲座")
        self.reason_edit.setTabChangesFocus(True)
        self.reason_edit.setFixedHeight(80)
        self.error_label = QLabel()
        self.error_label.setStyleSheet(f"color: {RED.name()};")
        self.error_label.hide()
        buttons = QDialogButtonBox()
        self.ok_button = buttons.addButton("重新打开", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("取消", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.reason_edit)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)

    def reason(self) -> str:
        return self.reason_edit.toPlainText().strip()

    def accept(self) -> None:
        """Close only with a reason of 2 to 300 characters (the rule of reopen_month)."""
        reason = self.reason()
        if len(reason) < 2:
            self.error_label.setText("必须填写原因（至少2个字）")
        elif len(reason) > 300:
            self.error_label.setText(f"原因不能超过300个字（现在 {len(reason)} 个字）")
        else:
            super().accept()
            return
        self.error_label.show()
        self.reason_edit.setFocus()


class PlaceholderDialog(QDialog):
    """占位符说明: every placeholder a county template can use, searchable, copyable."""

    def __init__(self, infos: list[PlaceholderInfo], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("县级模板占位符说明")
        self.infos = infos
        intro = QLabel("在县区下发的 Excel/WPS 报表模板的单元格中写入占位符（如 {{act.count}}），"
                       "导出时替换为所选报表期的数值；在代码后加 :ytd、:target、:rate 取本年累计、"
                       "年度目标、完成率。")
        intro.setWordWrap(True)
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("搜索占位符或含义，如 农民、全国科普日、经费")
        self.search_edit.setClearButtonEnabled(True)
        self.table = QTableWidget(len(infos), 4)
        self.table.setHorizontalHeaderLabels(["占位符", "含义", "单位", "分组"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for row, info in enumerate(infos):
            for col, value in enumerate((info.placeholder, info.meaning, info.unit, info.group)):
                self.table.setItem(row, col, QTableWidgetItem(value))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.copy_button = QPushButton("复制所选占位符")
        self.status_label = QLabel()
        self.status_label.setStyleSheet(f"color: {GREY};")
        close = QPushButton("关闭")
        bottom = QHBoxLayout()
        bottom.addWidget(self.copy_button)
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.search_edit)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.search_edit.textChanged.connect(self.filter)
        self.copy_button.clicked.connect(self.copy_selected)
        self.table.itemDoubleClicked.connect(lambda _item: self.copy_selected())
        close.clicked.connect(self.accept)
        self.resize(760, 560)

    @Slot(str)
    def filter(self, needle: str) -> None:
        """Show the rows whose placeholder, meaning or group contains ``needle``."""
        needle = needle.strip().lower()
        for row, info in enumerate(self.infos):
            hay = f"{info.placeholder} {info.meaning} {info.group}".lower()
            self.table.setRowHidden(row, bool(needle) and needle not in hay)

    def visible_placeholders(self) -> list[str]:
        return [i.placeholder for row, i in enumerate(self.infos)
                if not self.table.isRowHidden(row)]

    @Slot()
    def copy_selected(self) -> None:
        """Copy the selected placeholders (one a line) to the clipboard."""
        rows = sorted({i.row() for i in self.table.selectedIndexes()
                       if not self.table.isRowHidden(i.row())})
        if not rows:
            self.status_label.setText("请先选中要复制的占位符")
            return
        copied = "\n".join(self.infos[r].placeholder for r in rows)
        QGuiApplication.clipboard().setText(copied)
        shown = copied if len(rows) == 1 else f"{len(rows)} 个占位符"
        self.status_label.setText(f"已复制 {shown}，可粘贴到模板单元格中")


class ProblemsDialog(QDialog):
    """The placeholders a template cannot fill, one a row (nothing was written)."""

    def __init__(self, err: PlaceholderError, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("县级模板无法填写")
        self.problems = list(err.problems)
        label = QLabel(f"模板中有 {len(self.problems)} 处占位符无法填写，未生成文件。"
                       "请在模板中改正后重试（“占位符说明”列出了全部可用的占位符）：")
        label.setWordWrap(True)
        self.table = QTableWidget(len(self.problems), 4)
        self.table.setHorizontalHeaderLabels(["工作表", "单元格", "占位符", "问题"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for row, problem in enumerate(self.problems):
            for col, value in enumerate(problem):
                self.table.setItem(row, col, QTableWidgetItem(value))
        header = self.table.horizontalHeader()
        for col in range(3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(720, 400)


# -- the page ----------------------------------------------------------------------------


_fonts_warming = threading.Lock()


def warm_pdf_fonts() -> None:
    """Load the PDF fonts on a background thread, once per process.

    Reading and decompressing them takes about half a second; done while the clerk
    looks at the page, the first preview or export does not wait for it. Loading is
    thread-safe (reports.pdf_fonts), and an export that starts first simply waits.
    """
    if not _fonts_warming.acquire(blocking=False):
        return  # already started
    from reports.pdf_fonts import register_fonts

    def load() -> None:
        try:
            register_fonts()
        except Exception:  # noqa: BLE001 - the export itself reports it, with a message
            logging.getLogger(__name__).warning("预先加载 PDF 字体失败", exc_info=True)

    threading.Thread(target=load, name="kepu-fonts", daemon=True).start()


class ReportsPage(QWidget):
    """报表: export, preview, print, 上报 and 重新打开 the periods of a year.

    Signals:
        changed: a month was submitted or reopened (other pages refresh).

    Args:
        db: the open database.
        office: the 填报单位.
        parent: the parent widget.
        today: what "today" is (tests); default the real date.

    """

    changed = Signal()

    def __init__(self, db: Database, office: OfficeInfo, parent: QWidget | None = None, *,
                 today: Callable[[], dt.date] | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.office = office
        self._today = today or dt.date.today
        self.states: dict[str, MonthState] = {}
        self.period = self._default_period()
        self.job: BackgroundJob[Any] | None = None
        self._preview_key: tuple[Any, ...] | None = None
        remembered = settings().value(SETTINGS_TEMPLATE, "", type=str)
        self._template: Path | None = Path(remembered) if remembered else None

        self._build()
        self._fill_years(self.period.year)
        self.show_period(self.period)  # reads the year's states
        warm_pdf_fonts()

    # -- building ----------------------------------------------------------------------

    def _build(self) -> None:
        # left: the periods of the year
        self.year_combo = QComboBox()
        self.year_combo.setAccessibleName("年份")
        self.month_list = QTreeWidget()
        self.month_list.setObjectName("monthList")
        self.month_list.setColumnCount(len(COLUMNS))
        self.month_list.setHeaderLabels(list(COLUMNS))
        self.month_list.setRootIsDecorated(False)
        self.month_list.setUniformRowHeights(True)
        self.month_list.setAlternatingRowColors(True)
        self.month_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.month_list.header()
        header.setStretchLastSection(True)
        header.setSectionsMovable(False)
        metrics = self.month_list.fontMetrics()
        samples = ("第三季度", "已重新打开", "2025-10-05", "逾期 365 天", "第10次修订")
        widths = [max(metrics.horizontalAdvance(t), metrics.horizontalAdvance(c)) + 14
                  for t, c in zip(samples, COLUMNS, strict=True)]
        for col, width in enumerate(widths):
            self.month_list.setColumnWidth(col, width)
        self.month_list.setMinimumWidth(
            sum(widths) + 2 * self.month_list.frameWidth()
            + self.month_list.verticalScrollBar().sizeHint().width())
        self.detail_label = QLabel()
        self.detail_label.setObjectName("periodDetail")
        self.detail_label.setWordWrap(True)
        self.detail_label.setTextFormat(Qt.TextFormat.RichText)
        self.detail_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.submit_button = QPushButton("上报本月…")
        self.submit_button.setToolTip("生成上报文件（Excel 月报表、PDF 汇总和数据文件），"
                                      "并锁定该月数据")
        self.reopen_button = QPushButton("重新打开…")
        self.reopen_button.setToolTip("已上报的月份需要修改时，填写原因后重新打开")

        year_row = QHBoxLayout()
        year_label = QLabel("年份：")
        year_label.setBuddy(self.year_combo)
        year_row.addWidget(year_label)
        year_row.addWidget(self.year_combo)
        year_row.addStretch(1)
        month_buttons = QHBoxLayout()
        month_buttons.addWidget(self.submit_button)
        month_buttons.addWidget(self.reopen_button)
        detail = QFrame()
        detail.setObjectName("detailFrame")
        detail.setFrameShape(QFrame.Shape.StyledPanel)
        detail_layout = QVBoxLayout(detail)
        detail_layout.addWidget(self.detail_label, 1)
        detail_layout.addLayout(month_buttons)
        detail.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 6, 0)
        left_layout.addLayout(year_row)
        left_layout.addWidget(self.month_list, 1)  # up to its rows' height (see load_states)
        left_layout.addWidget(detail)
        help_label = QLabel(
            "每月报表在截止日期前上报：“上报本月”生成上报文件（.zip，内含 Excel 月报表、"
            "PDF 工作汇总和数据文件）交给区县科协，并锁定该月记录。已上报的月份需要修改时，"
            "填写原因“重新打开”，改完再次上报，报表标注“第N次修订”。")
        help_label.setWordWrap(True)
        help_label.setStyleSheet(f"color: {GREY};")
        left_layout.addWidget(help_label)
        left_layout.addStretch(0)  # whatever the list does not need

        # right: choices, header fields, buttons, preview
        self.title_label = QLabel()
        font = QFont(self.title_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title_label.setFont(font)
        self.output_checks: dict[str, QCheckBox] = {}
        outputs = QHBoxLayout()
        for kind, label, ticked in OUTPUTS:
            box = QCheckBox(label)
            box.setChecked(ticked)
            self.output_checks[kind] = box
            outputs.addWidget(box)
        outputs.addStretch(1)
        self.template_label = QLabel()
        self.template_label.setStyleSheet(f"color: {GREY};")
        self.choose_template_button = QPushButton("选择模板…")
        self.placeholders_button = QPushButton("占位符说明")
        template_row = QHBoxLayout()
        template_row.addWidget(QLabel("县级模板："))
        template_row.addWidget(self.template_label, 1)
        template_row.addWidget(self.choose_template_button)
        template_row.addWidget(self.placeholders_button)

        self.reporter_edit = QLineEdit(self.office.reporter)
        self.reviewer_edit = QLineEdit(self.office.reviewer)
        self.phone_edit = QLineEdit(self.office.phone)
        self.date_edit = QDateEdit(QDate(self._today()))
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        fields = QGridLayout()
        fields.setHorizontalSpacing(8)
        for col, (label, widget) in enumerate((("填报人", self.reporter_edit),
                                               ("审核人", self.reviewer_edit),
                                               ("联系电话", self.phone_edit),
                                               ("报送日期", self.date_edit))):
            caption = QLabel(f"{label}：")
            caption.setBuddy(widget)
            fields.addWidget(caption, 0, 2 * col)
            fields.addWidget(widget, 0, 2 * col + 1)
            fields.setColumnStretch(2 * col + 1, 1)
        self.full_ids_check = QCheckBox("导出完整身份证号")
        self.full_ids_check.setToolTip("默认隐去身份证号、联系电话的中间部分")
        self.full_ids_warning = QLabel(SENSITIVE_WARNING)
        self.full_ids_warning.setObjectName("sensitiveWarning")
        self.full_ids_warning.setWordWrap(True)
        self.full_ids_warning.setStyleSheet(f"color: {RED.name()};")
        self.full_ids_warning.hide()

        self.preview_button = QPushButton("预览")
        self.preview_button.setToolTip("生成工作汇总（PDF）并在下方显示")
        self.print_button = QPushButton("打印…")
        self.export_button = QPushButton("导出…")
        self.export_button.setToolTip("把勾选的文件写入一个文件夹")
        self.template_button = QPushButton("县级模板…")
        self.template_button.setToolTip("选择县区下发的 Excel 模板，填入本期数值后另存")
        self.export_button.setDefault(True)
        actions = QHBoxLayout()
        for b in (self.preview_button, self.print_button, self.export_button,
                  self.template_button):
            actions.addWidget(b)
        actions.addStretch(1)

        options = QGroupBox("导出")
        options_layout = QVBoxLayout(options)
        options_layout.setSpacing(6)
        options_layout.addLayout(outputs)
        options_layout.addLayout(template_row)
        options_layout.addLayout(fields)
        full_ids_row = QHBoxLayout()
        full_ids_row.addWidget(self.full_ids_check)
        full_ids_row.addWidget(self.full_ids_warning, 1)
        options_layout.addLayout(full_ids_row)
        options_layout.addLayout(actions)

        self.preview_label = QLabel()
        self.preview_label.setStyleSheet(f"color: {GREY};")
        self.pdf_view = PdfView()
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(6, 0, 0, 0)
        right_layout.addWidget(self.title_label)
        right_layout.addWidget(options)
        right_layout.addWidget(self.preview_label)
        right_layout.addWidget(self.pdf_view, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([left.minimumSizeHint().width(), 10_000])  # the rest: preview
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        self.year_combo.currentIndexChanged.connect(self._year_changed)
        self.month_list.currentItemChanged.connect(self._item_changed)
        self.submit_button.clicked.connect(self.submit)
        self.reopen_button.clicked.connect(self.reopen)
        self.preview_button.clicked.connect(lambda: self.preview())
        self.print_button.clicked.connect(self.print_report)
        self.export_button.clicked.connect(self.export)
        self.template_button.clicked.connect(self.fill_county_template)
        self.choose_template_button.clicked.connect(self._pick_template)
        self.placeholders_button.clicked.connect(self.show_placeholders)
        self.full_ids_check.toggled.connect(self.full_ids_warning.setVisible)
        for edit in (self.reporter_edit, self.reviewer_edit, self.phone_edit):
            edit.textChanged.connect(self._preview_outdated)
        self.date_edit.dateChanged.connect(self._preview_outdated)
        self._show_template()
        self._set_busy(False)

    def _fill_years(self, wanted: int) -> None:
        with self.db.session() as s:
            first = s.scalar(text("SELECT MIN(substr(start_date, 1, 4)) FROM activity"
                                  " WHERE office_id = :office"), {"office": self.office.id})
        today = self._today()
        years = range(min(int(first) if first else today.year, wanted, today.year),
                      max(today.year, wanted) + 1)
        self.year_combo.blockSignals(True)
        self.year_combo.clear()
        for year in reversed(years):
            self.year_combo.addItem(f"{year}年", year)
        self.year_combo.setCurrentIndex(self.year_combo.findData(wanted))
        self.year_combo.blockSignals(False)

    def _default_period(self) -> Period:
        """Last month: the return due now."""
        first = self._today().replace(day=1)
        return Period.month_of(first - dt.timedelta(days=1))

    # -- the list of periods ---------------------------------------------------------------

    def year(self) -> int:
        return int(self.year_combo.currentData())

    def load_states(self) -> None:
        """Read the year's month states and fill the list (keeps the selection)."""
        year = self.year()
        with self.db.session() as s:
            states = year_states(s, self.office, year)
        self.states = {m.month: m for m in states}
        selected = self.period.key
        today = self._today()
        self.month_list.blockSignals(True)
        self.month_list.clear()
        for m in states:
            item = QTreeWidgetItem(self._month_cells(m, today))
            item.setData(0, Qt.ItemDataRole.UserRole, m.month)
            self._color_month(item, m, today)
            self.month_list.addTopLevelItem(item)
        for period in [Period(year, "quarter", q) for q in QUARTER_NAMES] + [Period(year, "year")]:
            item = QTreeWidgetItem([period.label.removeprefix(f"{year}年") or "全年",
                                    "仅导出", "", "", ""])
            item.setData(0, Qt.ItemDataRole.UserRole, period.key)
            item.setToolTip(0, f"{period.label}：季度和全年报表只用于导出，不需要上报")
            for col in range(1, len(COLUMNS)):
                item.setForeground(col, QBrush(Qt.GlobalColor.gray))
            self.month_list.addTopLevelItem(item)
        for col in range(1, len(COLUMNS)):
            alignment = Qt.AlignmentFlag.AlignRight if col == 3 else Qt.AlignmentFlag.AlignLeft
            self.month_list.headerItem().setTextAlignment(
                col, alignment | Qt.AlignmentFlag.AlignVCenter)
        self.month_list.blockSignals(False)
        self._fit_list_height()
        self._select(selected)

    def _fit_list_height(self) -> None:
        """As tall as its 17 rows (a small screen scrolls the list instead)."""
        rows = self.month_list.topLevelItemCount()
        row = self.month_list.sizeHintForRow(0)
        if row <= 0:
            row = self.month_list.fontMetrics().height() + 4
        height = (rows * row + self.month_list.header().sizeHint().height()
                  + 2 * self.month_list.frameWidth() + 2)
        self.month_list.setMinimumHeight(min(height, 8 * row))
        self.month_list.setMaximumHeight(height)

    @staticmethod
    def _month_cells(m: MonthState, today: dt.date) -> list[str]:
        name = f"{int(m.month[5:])}月"
        ended = (int(m.month[:4]), int(m.month[5:])) < (today.year, today.month)
        if not ended:
            current = (int(m.month[:4]), int(m.month[5:])) == (today.year, today.month)
            return [name, "本月" if current else "", m.due.isoformat(), "", ""]
        late = ""
        if m.overdue(today):
            late = f"逾期 {(today - m.due).days} 天"
        elif m.before_use and today > m.due:
            late = "启用前，无记录"
        elif m.status != PERIOD_SUBMITTED:
            late = f"还剩 {(m.due - today).days} 天"
        return [name, m.label, m.due.isoformat(), late, m.revision_label]

    @staticmethod
    def _color_month(item: QTreeWidgetItem, m: MonthState, today: dt.date) -> None:
        ended = (int(m.month[:4]), int(m.month[5:])) < (today.year, today.month)
        if not ended:
            for col in range(len(COLUMNS)):
                item.setForeground(col, QBrush(Qt.GlobalColor.gray))
            item.setToolTip(0, "该月还没有结束")
            return
        color = {PERIOD_SUBMITTED: GREEN, PERIOD_REOPENED: AMBER}.get(m.status)
        if color is not None:
            item.setForeground(1, QBrush(color))
        if m.before_use and today > m.due:
            for col in (1, 3):
                item.setForeground(col, QBrush(Qt.GlobalColor.gray))
            item.setToolTip(3, "本软件启用之前的月份，且没有录入记录：当时的报表已另行报送，"
                               "不算逾期。补录了该月的活动后，需要在这里上报。")
        elif m.overdue(today):
            item.setForeground(3, QBrush(RED))
            bold = QFont(item.font(3))
            bold.setBold(True)
            item.setFont(3, bold)
            item.setForeground(1, QBrush(RED) if m.status != PERIOD_REOPENED else QBrush(AMBER))
        elif m.status != PERIOD_SUBMITTED:
            item.setForeground(3, QBrush(AMBER))
        item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def _select(self, key: str) -> None:
        for row in range(self.month_list.topLevelItemCount()):
            item = self.month_list.topLevelItem(row)
            if item.data(0, Qt.ItemDataRole.UserRole) == key:
                self.month_list.setCurrentItem(item)
                return
        self.month_list.setCurrentItem(self.month_list.topLevelItem(0))

    def item_for(self, key: str) -> QTreeWidgetItem | None:
        """The list row of a period key ('2025-09', '2025-Q3', '2025')."""
        for row in range(self.month_list.topLevelItemCount()):
            item = self.month_list.topLevelItem(row)
            if item.data(0, Qt.ItemDataRole.UserRole) == key:
                return item
        return None

    def show_month(self, month: str) -> None:
        """Select a month ('2025-09'), switching the year if needed (the dashboard calls this)."""
        self.show_period(Period.parse(month))

    def show_period(self, period: Period) -> None:
        """Select any period of the list."""
        if self.year_combo.findData(period.year) < 0:
            self._fill_years(period.year)
        self.period = period
        self.year_combo.blockSignals(True)
        self.year_combo.setCurrentIndex(self.year_combo.findData(period.year))
        self.year_combo.blockSignals(False)
        self.load_states()  # selects self.period
        self._period_changed()

    @Slot(int)
    def _year_changed(self, _index: int) -> None:
        year = self.year()
        month = self.period.number if self.period.kind == "month" else 1
        self.period = Period(year, self.period.kind, self.period.number or month) \
            if self.period.kind != "year" else Period(year, "year")
        self.load_states()
        self._period_changed()

    @Slot(object, object)
    def _item_changed(self, current: QTreeWidgetItem | None, _previous: object) -> None:
        if current is None:
            return
        self.period = Period.parse(current.data(0, Qt.ItemDataRole.UserRole))
        self._period_changed()

    def _period_changed(self) -> None:
        p = self.period
        state = self.month_state()
        revision = f"（{state.revision_label}）" if state and state.revision else ""
        self.title_label.setText(f"{self.office.name}{p.label}{report_kind(p)}{revision}")
        self.detail_label.setText(self._detail_html())
        if self._preview_key is not None and self._preview_key[0] != p.key:
            self.pdf_view.clear()
            self._preview_key = None
        if self._preview_key is None:
            self.pdf_view.clear(f"点击“预览”查看{p.label}的工作汇总")
            self.preview_label.setText("")
        self._set_busy(self.busy)

    def month_state(self) -> MonthState | None:
        """The state of the selected month (None for a quarter or the year)."""
        return self.states.get(self.period.key) if self.period.kind == "month" else None

    def _detail_html(self) -> str:
        p = self.period
        state = self.month_state()
        if state is None:
            return (f"<b>{p.label}</b><br>季度和全年报表只用于导出、打印，不需要上报；"
                    "其中各月的数据以各月上报时为准。")
        today = self._today()
        lines = [f"<b>{p.label}</b>　截止日期：{format_day(state.due)}"]
        if (p.year, p.number) >= (today.year, today.month):
            lines.append(f"<span style='color:{GREY}'>该月还没有结束，月底后才能上报。</span>")
            return "<br>".join(lines)
        color = {PERIOD_SUBMITTED: GREEN, PERIOD_REOPENED: AMBER}.get(state.status)
        status = state.label + (f"（{state.revision_label}）" if state.revision else "")
        lines.append(f"状态：<span style='color:{color.name() if color else '#1f2329'}'>"
                     f"<b>{status}</b></span>")
        if state.submitted_at is not None and state.status == PERIOD_SUBMITTED:
            at = state.submitted_at.replace(tzinfo=dt.UTC).astimezone()
            lines.append(f"上报时间：{at:%Y-%m-%d %H:%M}，该月记录已锁定")
        if state.status == PERIOD_REOPENED and state.reopen_reason:
            lines.append(f"重新打开原因：{_html(state.reopen_reason)}")
        if state.overdue(today):
            lines.append(f"<span style='color:{RED.name()}'><b>已逾期 {(today - state.due).days} 天"
                         "</b></span>")
        return "<br>".join(lines)

    # -- busy state ------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.is_running()

    def _set_busy(self, busy: bool) -> None:
        for b in (self.preview_button, self.print_button, self.export_button,
                  self.template_button, self.choose_template_button):
            b.setEnabled(not busy)
        state = self.month_state()
        today = self._today()
        ended = self.period.kind == "month" and \
            (self.period.year, self.period.number) < (today.year, today.month)
        self.submit_button.setEnabled(not busy and state is not None and ended
                                      and not state.locked)
        self.reopen_button.setEnabled(not busy and state is not None and state.locked)
        self.submit_button.setText("再次上报…" if state is not None and state.revision
                                   else "上报本月…")

    def _start(self, work: Callable[[Progress, IsCancelled], Any],
               on_done: Callable[[Any], None], *, title: str, label: str) -> BackgroundJob[Any]:
        self.job = run_in_background(self, work, on_done, title=title, label=label,
                                     on_cancelled=lambda: self._status(f"已取消{title}"))
        self._set_busy(True)
        self.job.finished.connect(lambda: self._set_busy(self.busy))
        return self.job

    def _status(self, message: str) -> None:
        self.preview_label.setText(message)

    # -- values for the reports -------------------------------------------------------------

    def header_values(self) -> dict[str, Any]:
        """填报人, 审核人, 联系电话, 报送日期 as export_period takes them."""
        return {"reporter": self.reporter_edit.text().strip(),
                "reviewer": self.reviewer_edit.text().strip(),
                "phone": self.phone_edit.text().strip(),
                "report_date": self.date_edit.date().toPython()}

    def _preview_key_now(self) -> tuple[Any, ...]:
        return (self.period.key, tuple(sorted(self.header_values().items())))

    @Slot()
    def _preview_outdated(self) -> None:
        if self._preview_key is not None:
            self.preview_label.setText("表头已修改，点击“预览”更新")

    def _revision_label(self) -> str:
        state = self.month_state()
        return state.revision_label if state is not None else ""

    # -- preview and print ------------------------------------------------------------------

    def preview(self, then: Callable[[], None] | None = None) -> BackgroundJob[Any]:
        """Write the summary PDF to a temporary file in the background and show it."""
        db, office, period = self.db, self.office, self.period
        header = self.header_values()
        key = self._preview_key_now()
        folder = Path(tempfile.mkdtemp(prefix="kepu-preview-"))  # gone when the job ends
        target = folder / "preview.pdf"

        def work(progress: Progress, is_cancelled: IsCancelled) -> ExportResult:
            try:
                return export_period(db, office, period, pdf=target, progress=progress,
                                     is_cancelled=is_cancelled, **header)
            except ExportCancelled:
                raise Cancelled from None

        def done(result: ExportResult) -> None:
            pages = self.pdf_view.load(target)  # read into memory: the file can go
            self._preview_key = key
            notes = f"；{len(result.warnings)} 条提示" if result.warnings else ""
            self.preview_label.setText(f"工作汇总预览：{period.label}，共 {pages} 页{notes}")
            if result.warnings:
                self.preview_label.setToolTip("\n".join(result.warnings))
            if then is not None:
                then()

        job = self._start(work, done, title="预览", label=f"正在生成{period.label}工作汇总…")
        job.finished.connect(lambda: shutil.rmtree(folder, ignore_errors=True))
        return job

    @Slot()
    def print_report(self) -> None:
        """Print the summary (previewing it first when the preview is not current)."""
        if self._preview_key != self._preview_key_now() or self.pdf_view.document is None:
            self.preview(then=self._print_shown)
        else:
            self._print_shown()

    def _print_shown(self) -> None:
        count = self.pdf_view.page_count()
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        printer.setDocName(self.title_label.text())
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("打印工作汇总")
        dialog.setMinMax(1, count)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        progress = QProgressDialog("正在打印…", "取消", 0, count, self)
        progress.setWindowTitle("打印")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(500)

        def step(done: int, _total: int) -> bool:
            progress.setValue(done)
            return not progress.wasCanceled()

        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            pages = self.pdf_view.print_to(printer, progress=step)
        except KepuError as err:
            messages.show_error(self, err)
            return
        finally:
            QApplication.restoreOverrideCursor()
            progress.reset()
            progress.deleteLater()
        self.preview_label.setText(f"已打印 {pages} 页")

    # -- export ----------------------------------------------------------------------------

    def chosen_outputs(self) -> list[str]:
        return [kind for kind, box in self.output_checks.items() if box.isChecked()]

    @Slot()
    def export(self) -> None:
        """Ask for a folder and write the ticked files into it."""
        kinds = self.chosen_outputs()
        if not kinds:
            QMessageBox.information(self, "导出", "请至少勾选一种要导出的文件。")
            return
        template = None
        if "template" in kinds:
            template = self._template if self._template and self._template.is_file() \
                else self._pick_template()
            if template is None:
                return
        start = settings().value(SETTINGS_EXPORT_DIR, "", type=str) or str(documents_dir())
        folder = QFileDialog.getExistingDirectory(self, "选择导出到的文件夹", start)
        if not folder:
            return
        settings().setValue(SETTINGS_EXPORT_DIR, folder)
        names = export_names(self.period, self.office.name, self._revision_label(), template)
        targets = {kind: Path(folder) / names[kind] for kind in kinds}
        existing = [p.name for p in targets.values() if p.exists()]
        if existing and not confirm(self, "导出", "以下文件已存在，要覆盖吗？\n\n"
                                    + "\n".join(existing), "覆盖"):
            return
        self._run_export(targets, template, Path(folder), title="导出")

    def _run_export(self, targets: dict[str, Path], template: Path | None, folder: Path, *,
                    title: str) -> BackgroundJob[Any]:
        db, office, period = self.db, self.office, self.period
        header = self.header_values()
        full_ids = self.full_ids_check.isChecked()

        def work(progress: Progress, is_cancelled: IsCancelled) -> ExportResult | PlaceholderError:
            try:
                return export_period(
                    db, office, period, xlsx=targets.get("xlsx"), pdf=targets.get("pdf"),
                    evidence=targets.get("evidence"), template=template,
                    template_out=targets.get("template"), full_ids=full_ids,
                    progress=progress, is_cancelled=is_cancelled, **header)
            except PlaceholderError as err:
                return err  # shown as a list, not a message box
            except ExportCancelled:
                raise Cancelled from None

        def done(result: ExportResult | PlaceholderError) -> None:
            if isinstance(result, PlaceholderError):
                ProblemsDialog(result, self).exec()
                return
            lines = [f"{f.label}：{f.path.name}" + (f"（{f.pages} 页）" if f.pages else "")
                     for f in result.files]
            text_ = f"已导出{period.label}的 {len(result.files)} 个文件到：\n{folder}\n\n" \
                + "\n".join(lines)
            if result.warnings:
                text_ += "\n\n提示：\n" + "\n".join(result.warnings[:10])
                if len(result.warnings) > 10:
                    text_ += f"\n……共 {len(result.warnings)} 条"
            if full_ids:
                text_ += "\n\n文件中含完整身份证号和联系电话，请妥善保管。"
            self.preview_label.setText(f"已导出 {len(result.files)} 个文件到 {folder}")
            show_done(self, f"{title}完成", text_, folder)

        return self._start(work, done, title=title, label=f"正在导出{period.label}的报表…")

    # -- county template -------------------------------------------------------------------

    def _show_template(self) -> None:
        if self._template is not None:
            self.template_label.setText(self._template.name)
            self.template_label.setToolTip(str(self._template))
        else:
            self.template_label.setText("未选择（县区下发的含占位符的 Excel 表）")
            self.template_label.setToolTip("")

    @Slot()
    def _pick_template(self) -> Path | None:
        start = str(self._template.parent) if self._template else str(documents_dir())
        name, _filter = QFileDialog.getOpenFileName(self, "选择县级报表模板", start,
                                                    TEMPLATE_FILTER)
        if not name:
            return None
        self._template = Path(name)
        settings().setValue(SETTINGS_TEMPLATE, name)
        self._show_template()
        return self._template

    @Slot()
    def fill_county_template(self) -> None:
        """Choose a template and where the filled copy goes, then fill it."""
        template = self._pick_template()
        if template is None:
            return
        name = export_names(self.period, self.office.name, self._revision_label(),
                            template)["template"]
        out, _filter = QFileDialog.getSaveFileName(
            self, "保存填好的县级报表", str(template.parent / name),
            "Excel 工作簿 (*.xlsx *.xlsm)")
        if not out:
            return
        out_path = Path(out)
        if out_path.suffix.lower() not in (".xlsx", ".xlsm"):
            out_path = out_path.with_name(out_path.name + ".xlsx")
        self._run_export({"template": out_path}, template, out_path.parent, title="填写县级模板")

    @Slot()
    def show_placeholders(self) -> None:
        """占位符说明: the placeholders of this database's catalogs."""
        with self.db.session() as s:
            infos = placeholder_catalog(all_catalogs(s))
        PlaceholderDialog(infos, self).exec()

    # -- submit and reopen -----------------------------------------------------------------

    @Slot()
    def submit(self) -> BackgroundJob[Any] | None:
        """上报 the selected month: confirm, choose where the bundle goes, then submit."""
        state = self.month_state()
        if state is None:
            return None
        month, label = self.period.key, self.period.label
        today = self._today()
        try:
            check_submittable(self.db, self.office, month, today)
        except KepuError as err:
            messages.show_error(self, err)
            return None
        again = f"（{state.revision_label}）" if state.revision else ""
        text_ = (f"上报{label}{again}：\n\n"
                 "· 生成上报文件（.zip），内含 Excel 月报表、PDF 工作汇总和数据文件，"
                 "交给区县科协；\n"
                 f"· 上报后{label}的活动和培训记录将被锁定，不能再修改；如需修改，"
                 "要填写原因“重新打开”，再次上报时报表标注“第N次修订”；\n"
                 "· 上报前会自动备份数据库。")
        if self.full_ids_check.isChecked():
            text_ += "\n\n注意：已勾选“导出完整身份证号”，上报文件将包含完整身份证号和联系电话。"
        if not confirm(self, "上报本月", text_, "上报并锁定"):
            return None
        default = default_bundle_path(month, self.office.name)
        with contextlib.suppress(OSError):
            default.parent.mkdir(parents=True, exist_ok=True)
        name, _filter = QFileDialog.getSaveFileName(self, "保存上报文件", str(default),
                                                    "上报文件 (*.zip)")
        if not name:
            return None
        out = Path(name)
        if out.suffix.lower() != ".zip":
            out = out.with_name(out.name + ".zip")
        db, office = self.db, self.office
        header = self.header_values()
        full_ids = self.full_ids_check.isChecked()

        def work(progress: Progress, is_cancelled: IsCancelled) -> SubmissionResult:
            try:
                return submit_period(db, office, month, out, full_ids=full_ids, today=today,
                                     progress=progress, is_cancelled=is_cancelled, **header)
            except ExportCancelled:
                raise Cancelled from None

        def done(result: SubmissionResult) -> None:
            self.load_states()
            self._period_changed()
            self.changed.emit()
            rev = f"（{result.revision_label}）" if result.revision_label else ""
            lines = [f"{label}{rev}已上报，该月记录已锁定。",
                     "", f"上报文件：{result.path}", f"SHA-256：{result.sha256}",
                     "", f"上报前已备份数据库：{result.backup}"]
            if result.warnings:
                lines += ["", "提示：", *result.warnings[:10]]
            self.preview_label.setText(f"{label}已上报：{result.path.name}")
            show_done(self, "上报完成", "\n".join(lines), result.path.parent)

        return self._start(work, done, title="上报", label=f"正在上报{label}…")

    @Slot()
    def reopen(self) -> None:
        """Ask for a reason and reopen the selected (submitted) month."""
        state = self.month_state()
        if state is None or not state.locked:
            return
        dialog = ReopenDialog(self.period.label, state.revision, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            new = reopen_month(self.db, self.office, self.period.key, dialog.reason())
        except KepuError as err:
            messages.show_error(self, err)
            return
        self.load_states()
        self._period_changed()
        self.changed.emit()
        self.preview_label.setText(f"{self.period.label}已重新打开，修改后请再次上报"
                                   f"（{new.revision_label}）")

    # -- other pages -----------------------------------------------------------------------

    def data_changed(self) -> None:
        """Another page saved something: states, office defaults and the preview may be stale."""
        with self.db.session() as s:
            fresh = next((o for o in list_offices(s) if o.id == self.office.id), None)
        if fresh is not None and fresh != self.office:
            for edit, old, new in ((self.reporter_edit, self.office.reporter, fresh.reporter),
                                   (self.reviewer_edit, self.office.reviewer, fresh.reviewer),
                                   (self.phone_edit, self.office.phone, fresh.phone)):
                if edit.text() == old:
                    edit.setText(new)
            self.office = fresh
        self.load_states()
        self._period_changed()
        if self._preview_key is not None:
            self.preview_label.setText("数据已更改，点击“预览”更新")


def _html(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
