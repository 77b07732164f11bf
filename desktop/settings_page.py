"""设置: the 填报单位, report signature defaults, the due day and the data file.

Only settings that take effect now are shown: the office profile and
signature defaults (:func:`db.offices.update_office`), 常住人口 by year
(:func:`db.offices.set_year_population`, used for 人均科普经费), the monthly due
day (:func:`db.reporting.set_due_day`), and where the database and its backups
are, with a verified 立即备份; the automatic backup schedule and an extra
folder (e.g. a USB stick) for a copy of each backup
(:mod:`db.backup_settings`); and 更改数据文件位置…, which writes a verified copy
of the database and its attachments to another folder and records it in
QSettings ``database/path`` for the next start.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication, QIntValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from db.backup_settings import (
    OFF_WARNING,
    SCHEDULES,
    BackupSettings,
    check_folder_writable,
    copy_to_extra_folder,
    get_backup_settings,
    set_backup_settings,
)
from db.backups import list_backups, make_backup
from db.database import Database, backup_file
from db.errors import KepuError, ValidationError
from db.models import LEVELS
from db.offices import (
    OfficeInfo,
    get_office,
    set_year_population,
    update_office,
    year_populations,
)
from db.paths import attachment_dir_for, backup_dir_for
from db.reporting import DEFAULT_DUE_DAY, due_day, set_due_day
from desktop import messages
from desktop.field_errors import ERROR_STYLE, FieldErrors, error_label
from desktop.widgets import page_title
from desktop.worker import BackgroundJob, Cancelled, IsCancelled, Progress, run_in_background

log = logging.getLogger(__name__)

HINT_STYLE = "color: #555555;"
OK_STYLE = "color: #2e7d32;"
WARN_STYLE = "color: #e65100;"

# Where the program should open the database at the next start (read by run_gui when
# neither --db nor KEPU_DB is given).
DB_PATH_SETTING = "database/path"


def next_start_setting() -> QSettings:
    return QSettings("kepu", "kepu")


def copy_data_to(db_path: Path, folder: Path) -> Path:
    """A verified copy of the database, and its attachment store, in ``folder``.

    The database goes through :func:`db.database.backup_file` (online backup API,
    integrity check); the ``<name>.files`` store is copied to a temporary folder,
    checked file by file (sizes), then renamed. Nothing half-written is left.

    Raises:
        KepuError: the target exists already, or the copy failed.
    """
    target = folder / db_path.name
    store = attachment_dir_for(db_path)
    new_store = attachment_dir_for(target)
    if target.exists() or new_store.exists():
        raise KepuError(f"所选文件夹里已经有“{target.name}”，为免覆盖，请选择别的文件夹")
    backup_file(db_path, target)
    if not store.is_dir():
        return target
    tmp = new_store.with_name(new_store.name + ".part")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(store, tmp)
        for src in store.rglob("*"):
            if src.is_file():
                copy = tmp / src.relative_to(store)
                if not copy.is_file() or copy.stat().st_size != src.stat().st_size:
                    raise KepuError(f"佐证材料“{src.name}”复制后校验不一致")
        os.replace(tmp, new_store)
    except (OSError, KepuError) as err:
        shutil.rmtree(tmp, ignore_errors=True)
        target.unlink(missing_ok=True)
        if isinstance(err, KepuError):
            raise
        raise KepuError(f"复制佐证材料失败：{err.strerror or err}") from err
    return target

# The ValidationError.field names of db.offices → the page's fields.
OFFICE_FIELDS = ("单位名称", "行政区划代码", "级别", "所属区县", "常住人口", "填报人", "审核人",
                 "联系电话")


def _pop_text(value: int) -> str:
    return f"{value:,}"


def _latest_backup(db_path: Path) -> Path | None:
    try:
        backups = list_backups(db_path)
    except OSError:
        return None
    return backups[0].path if backups else None


class SettingsPage(FieldErrors, QWidget):
    """设置: office profile, signature defaults, 常住人口 by year, due day, data file.

    Signals:
        changed: emitted after something was saved.
        office_saved(OfficeInfo): the office profile was saved (title, reports).
    """

    changed = Signal()
    office_saved = Signal(object)
    clear_errors_on_edit = False  # a message stays until the next 保存

    def __init__(self, db: Database, office: OfficeInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.office = office
        self.backup_job: BackgroundJob[tuple[Path, Path | None, str]] | None = None
        self.last_extra_copy: Path | None = None
        self.last_backup: Path | None = None
        self.error_labels: dict[str, QLabel] = {}
        self._field_widgets: dict[str, QWidget] = {}

        title = page_title("设置")

        # -- 填报单位 ------------------------------------------------------------------
        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(100)
        self.code_edit = QLineEdit()
        self.code_edit.setMaxLength(12)
        self.code_edit.setPlaceholderText("6、9或12位数字，如 350582103")
        self.level_combo = QComboBox()
        self.level_combo.addItems(list(LEVELS))
        self.region_edit = QLineEdit()
        self.region_edit.setMaxLength(100)
        self.region_edit.setPlaceholderText("如 福建省泉州市晋江市")
        self.population_edit = QLineEdit()
        self.population_edit.setAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
        self.population_edit.setToolTip("未按年份单独设置时使用；用于计算人均科普经费")
        office_box = QGroupBox("填报单位")
        office_form = self._form(office_box)
        self.code_edit.setMaximumWidth(240)
        self.level_combo.setMaximumWidth(120)
        self.population_edit.setMaximumWidth(160)
        office_form.addRow(self._label("单位名称："), self._with_error_label("单位名称", self.name_edit))
        office_form.addRow(self._label("行政区划代码："),
                           self._with_error_label("行政区划代码", self.code_edit))
        office_form.addRow(self._label("级别："), self._with_error_label("级别", self.level_combo))
        office_form.addRow(self._label("所属区县："),
                           self._with_error_label("所属区县", self.region_edit))
        office_form.addRow(self._label("常住人口（默认）："),
                           self._with_error_label("常住人口", self.population_edit))

        # -- 报表签字默认值 --------------------------------------------------------------
        self.reporter_edit = QLineEdit()
        self.reporter_edit.setMaxLength(50)
        self.reviewer_edit = QLineEdit()
        self.reviewer_edit.setMaxLength(50)
        self.phone_edit = QLineEdit()
        self.phone_edit.setMaxLength(30)
        self.phone_edit.setPlaceholderText("手机或座机，如 0595-85123456")
        sign_box = QGroupBox("报表签字默认值")
        sign_form = self._form(sign_box)
        for edit in (self.reporter_edit, self.reviewer_edit):
            edit.setMaximumWidth(240)
        self.phone_edit.setMaximumWidth(240)
        sign_form.addRow(self._label("填报人："), self._with_error_label("填报人", self.reporter_edit))
        sign_form.addRow(self._label("审核人："), self._with_error_label("审核人", self.reviewer_edit))
        sign_form.addRow(self._label("联系电话："), self._with_error_label("联系电话", self.phone_edit))
        sign_hint = QLabel("月报表表头和汇总PDF的签字栏默认填写这些内容。")
        sign_hint.setWordWrap(True)
        sign_hint.setStyleSheet(HINT_STYLE)
        sign_form.addRow(sign_hint)

        self.general_error = error_label()  # about the office, no particular field
        self.office_status = QLabel()
        self.office_status.setStyleSheet(OK_STYLE)
        self.save_button = QPushButton("保存单位信息")
        self.save_button.setToolTip("保存“填报单位”和“报表签字默认值”")
        self.save_button.clicked.connect(self.save_office)
        self.reset_button = QPushButton("撤销修改")
        self.reset_button.clicked.connect(self.load_office)
        for edit in (self.name_edit, self.code_edit, self.region_edit, self.population_edit,
                     self.reporter_edit, self.reviewer_edit, self.phone_edit):
            edit.returnPressed.connect(self.save_office)
            edit.textEdited.connect(self._office_edited)
        self.level_combo.activated.connect(self._office_edited)
        office_buttons = QHBoxLayout()
        office_buttons.addWidget(self.save_button)
        office_buttons.addWidget(self.reset_button)
        office_buttons.addWidget(self.office_status, 1)

        # -- 常住人口（按年份） ------------------------------------------------------------
        self.pop_table = QTableWidget(0, 2)
        self.pop_table.setObjectName("population_table")
        self.pop_table.setHorizontalHeaderLabels(["年份", "常住人口"])
        self.pop_table.verticalHeader().hide()
        self.pop_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.pop_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.pop_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.pop_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Stretch)
        self.pop_table.itemSelectionChanged.connect(self._pop_selected)
        rows = self.pop_table.fontMetrics().height() + 10
        self.pop_table.verticalHeader().setDefaultSectionSize(rows)
        self.pop_table.setMinimumHeight(rows * 4)
        self.pop_year = QSpinBox()
        self.pop_year.setRange(2000, 2100)
        self.pop_year.setValue(dt.date.today().year)
        self.pop_year.setSuffix(" 年")
        self.pop_edit = QLineEdit()
        self.pop_edit.setValidator(QIntValidator(1, 100_000_000, self))
        self.pop_edit.setPlaceholderText("常住人口")
        self.pop_edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.pop_edit.returnPressed.connect(self.set_population)
        self.pop_set_button = QPushButton("设置")
        self.pop_set_button.setToolTip("添加或修改该年份的常住人口")
        self.pop_set_button.clicked.connect(self.set_population)
        self.pop_remove_button = QPushButton("删除所选")
        self.pop_remove_button.setToolTip("删除后该年份使用默认常住人口")
        self.pop_remove_button.clicked.connect(self.remove_population)
        self.pop_error = error_label()
        pop_box = QGroupBox("常住人口（按年份）")
        pop_layout = QVBoxLayout(pop_box)
        pop_hint = QLabel("人口变化较大时按年份设置；未设置的年份使用默认常住人口。"
                          "人均科普经费 = 本年经费累计 ÷ 该年常住人口。")
        pop_hint.setWordWrap(True)
        pop_hint.setStyleSheet(HINT_STYLE)
        pop_layout.addWidget(pop_hint)
        pop_layout.addWidget(self.pop_table, 1)
        pop_row = QHBoxLayout()
        pop_row.addWidget(self.pop_year)
        pop_row.addWidget(self.pop_edit, 1)
        pop_row.addWidget(self.pop_set_button)
        pop_row.addWidget(self.pop_remove_button)
        pop_layout.addLayout(pop_row)
        pop_layout.addWidget(self.pop_error)

        # -- 报送 --------------------------------------------------------------------------
        self.due_spin = QSpinBox()
        self.due_spin.setRange(1, 28)
        self.due_spin.setPrefix("次月 ")
        self.due_spin.setSuffix(" 日")
        self.due_spin.valueChanged.connect(self._due_edited)
        self.due_button = QPushButton("保存")
        self.due_button.clicked.connect(self.save_due_day)
        self.due_status = QLabel()
        due_box = QGroupBox("报送")
        due_layout = QVBoxLayout(due_box)
        due_row = QHBoxLayout()
        due_row.addWidget(QLabel("每月报送日："))
        due_row.addWidget(self.due_spin)
        due_row.addWidget(self.due_button)
        due_row.addWidget(self.due_status, 1)
        due_layout.addLayout(due_row)
        due_hint = QLabel(f"每月报表在次月此日前报送（默认次月{DEFAULT_DUE_DAY}日），"
                          "过了这一天仍未上报的月份算作逾期。可选1—28日，每个月都有这一天。")
        due_hint.setWordWrap(True)
        due_hint.setStyleSheet(HINT_STYLE)
        due_layout.addWidget(due_hint)

        # -- 数据 ----------------------------------------------------------------------------
        self.db_path_label = QLabel(str(db.path))
        self.db_path_label.setObjectName("db_path")
        self.db_path_label.setWordWrap(True)
        self.db_path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_db_folder_button = QPushButton("打开所在文件夹")
        self.open_db_folder_button.clicked.connect(self.open_db_folder)
        self.copy_path_button = QPushButton("复制路径")
        self.copy_path_button.clicked.connect(self.copy_path)
        self.backup_dir = backup_dir_for(db.path)
        self.backup_dir_label = QLabel(str(self.backup_dir))
        self.backup_dir_label.setWordWrap(True)
        self.backup_dir_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_backup_button = QPushButton("打开")
        self.open_backup_button.clicked.connect(self.open_backup_folder)
        self.backup_button = QPushButton("立即备份")
        self.backup_button.setToolTip("复制一份数据库到备份文件夹，并校验副本完整")
        self.backup_button.clicked.connect(self.backup_now)
        self.backup_label = QLabel()
        self.backup_label.setObjectName("backup_result")
        self.backup_label.setWordWrap(True)
        self.backup_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.move_button = QPushButton("更改数据文件位置…")
        self.move_button.setToolTip("把数据库和佐证材料复制到另一个文件夹，下次启动时使用新位置")
        self.move_button.clicked.connect(self.move_data)
        self.move_job: BackgroundJob[Path] | None = None
        self.move_status = QLabel()
        self.move_status.setObjectName("move_status")
        self.move_status.setWordWrap(True)
        self.move_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.schedule_combo = QComboBox()
        for key, label in SCHEDULES.items():
            self.schedule_combo.addItem(label, key)
        self.schedule_combo.currentIndexChanged.connect(self._backup_settings_edited)
        self.schedule_warning = error_label(OFF_WARNING)
        self.extra_label = QLabel()
        self.extra_label.setObjectName("extra_folder")
        self.extra_label.setWordWrap(True)
        self.extra_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.extra_choose_button = QPushButton("选择…")
        self.extra_choose_button.setToolTip("例如U盘：每次备份后再存一份校验过的副本到这里")
        self.extra_choose_button.clicked.connect(self.choose_extra_folder)
        self.extra_clear_button = QPushButton("清除")
        self.extra_clear_button.clicked.connect(self.clear_extra_folder)
        self.backup_settings_button = QPushButton("保存")
        self.backup_settings_button.clicked.connect(self.save_backup_settings)
        self.backup_settings_status = QLabel()
        self.backup_settings_status.setWordWrap(True)
        self._extra_folder: Path | None = None
        self._saved_backup_settings = BackupSettings()
        data_box = QGroupBox("数据")
        data_layout = QVBoxLayout(data_box)
        data_layout.addWidget(self._caption("数据库文件"))
        data_layout.addWidget(self.db_path_label)
        db_buttons = QHBoxLayout()
        db_buttons.addWidget(self.open_db_folder_button)
        db_buttons.addWidget(self.copy_path_button)
        db_buttons.addWidget(self.move_button)
        db_buttons.addStretch(1)
        data_layout.addLayout(db_buttons)
        data_layout.addWidget(self.move_status)
        data_layout.addWidget(self._caption("备份文件夹"))
        data_layout.addWidget(self.backup_dir_label)
        backup_buttons = QHBoxLayout()
        backup_buttons.addWidget(self.open_backup_button)
        backup_buttons.addWidget(self.backup_button)
        backup_buttons.addStretch(1)
        data_layout.addLayout(backup_buttons)
        data_layout.addWidget(self.backup_label)
        auto_form = QFormLayout()
        auto_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        auto_form.addRow("自动备份：", self.schedule_combo)
        auto_form.addRow("", self.schedule_warning)
        extra_row = QHBoxLayout()
        extra_row.addWidget(self.extra_label, 1)
        extra_row.addWidget(self.extra_choose_button)
        extra_row.addWidget(self.extra_clear_button)
        auto_form.addRow("另存一份到：", extra_row)
        save_row = QHBoxLayout()
        save_row.addWidget(self.backup_settings_button)
        save_row.addWidget(self.backup_settings_status, 1)
        auto_form.addRow("", save_row)
        data_layout.addLayout(auto_form)

        # -- layout --------------------------------------------------------------------------
        left = QVBoxLayout()
        left.addWidget(office_box)
        left.addWidget(sign_box)
        left.addWidget(self.general_error)
        left.addLayout(office_buttons)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(pop_box, 1)
        right.addWidget(due_box)
        right.addWidget(data_box)
        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addSpacing(8)
        columns.addLayout(right, 1)
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addLayout(columns)
        scroll = QScrollArea()  # a small screen or large fonts: scroll, never squash
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(scroll, 1)

        QWidget.setTabOrder(self.name_edit, self.code_edit)
        QWidget.setTabOrder(self.code_edit, self.level_combo)
        QWidget.setTabOrder(self.level_combo, self.region_edit)
        QWidget.setTabOrder(self.region_edit, self.population_edit)
        QWidget.setTabOrder(self.population_edit, self.reporter_edit)
        QWidget.setTabOrder(self.reporter_edit, self.reviewer_edit)
        QWidget.setTabOrder(self.reviewer_edit, self.phone_edit)
        QWidget.setTabOrder(self.phone_edit, self.save_button)

        self.load()

    # -- building ---------------------------------------------------------------------

    @staticmethod
    def _form(box: QGroupBox) -> QFormLayout:
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return form

    def _label(self, text: str) -> QLabel:
        """A form label as wide as the widest, so the two boxes line up."""
        label = QLabel(text)
        label.setMinimumWidth(label.fontMetrics().horizontalAdvance("常住人口（默认）：") + 4)
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return label

    @staticmethod
    def _caption(text: str) -> QLabel:
        label = QLabel(text)
        font = label.font()
        font.setBold(True)
        label.setFont(font)
        return label

    # -- loading ------------------------------------------------------------------------

    def load(self) -> None:
        """Read everything shown again."""
        self.load_office()
        self.load_populations()
        with self.db.session() as s:
            day = due_day(s)
        self.due_spin.blockSignals(True)
        self.due_spin.setValue(day)
        self.due_spin.blockSignals(False)
        self._saved_due_day = day
        self._due_edited()
        self.due_status.clear()
        self._show_latest_backup()
        self.load_backup_settings()
        self._show_next_location()

    @Slot()
    def data_changed(self) -> None:
        """Another page saved something: read again, keeping unsaved office edits."""
        if not self.office_dirty():
            self.load_office()
        self.load_populations()

    @Slot()
    def load_office(self) -> None:
        """The office profile as stored (unsaved edits are dropped)."""
        with self.db.session() as s:
            self.office = get_office(s, self.office.code)
        o = self.office
        self.name_edit.setText(o.name)
        self.code_edit.setText(o.code)
        self.level_combo.setCurrentIndex(max(self.level_combo.findText(o.level), 0))
        self.region_edit.setText(o.region)
        self.population_edit.setText(_pop_text(o.population))
        self.reporter_edit.setText(o.reporter)
        self.reviewer_edit.setText(o.reviewer)
        self.phone_edit.setText(o.phone)
        self._clear_errors()
        self.office_status.clear()
        self._office_edited()

    def load_populations(self) -> None:
        """Fill the 常住人口 table from the database."""
        with self.db.session() as s:
            pops = year_populations(s, self.office.id)
        self.pop_table.setRowCount(len(pops))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for r, (year, pop) in enumerate(sorted(pops.items(), reverse=True)):
            year_item = QTableWidgetItem(f"{year}年")
            year_item.setData(Qt.ItemDataRole.UserRole, year)
            pop_item = QTableWidgetItem(_pop_text(pop))
            pop_item.setTextAlignment(right)
            self.pop_table.setItem(r, 0, year_item)
            self.pop_table.setItem(r, 1, pop_item)
        self.pop_remove_button.setEnabled(bool(self.pop_table.selectedItems()))

    # -- 填报单位 and signature defaults -----------------------------------------------------

    def office_values(self) -> dict[str, str]:
        """Return the office fields as typed, keyed like update_office's arguments."""
        return {
            "name": self.name_edit.text(),
            "code": self.code_edit.text(),
            "level": self.level_combo.currentText(),
            "region": self.region_edit.text(),
            "population": self.population_edit.text(),
            "reporter": self.reporter_edit.text(),
            "reviewer": self.reviewer_edit.text(),
            "phone": self.phone_edit.text(),
        }

    def office_dirty(self) -> bool:
        """Whether the office fields differ from what is stored."""
        o = self.office
        v = self.office_values()
        stored = {"name": o.name, "code": o.code, "level": o.level, "region": o.region,
                  "population": _pop_text(o.population), "reporter": o.reporter,
                  "reviewer": o.reviewer, "phone": o.phone}
        return any(v[k].strip() != stored[k] for k in stored)

    @Slot()
    def _office_edited(self, *_args: object) -> None:
        dirty = self.office_dirty()
        self.save_button.setEnabled(dirty)
        self.reset_button.setEnabled(dirty)
        if dirty:
            self.office_status.clear()

    @Slot()
    def save_office(self) -> bool:
        """update_office with the fields shown; a wrong field is marked, nothing saved."""
        self._clear_errors()
        values = self.office_values()
        try:
            with self.db.write() as s:
                office = update_office(s, self.office.id, **values)
        except ValidationError as err:
            self.show_field_error(err)
            return False
        except KepuError as err:
            messages.show_error(self, err)
            return False
        self.office = office
        self.load_office()
        self.office_status.setText("已保存。")
        self.office_saved.emit(office)
        self.changed.emit()
        return True

    # -- 常住人口 by year --------------------------------------------------------------------

    @Slot()
    def _pop_selected(self) -> None:
        items = self.pop_table.selectedItems()
        self.pop_remove_button.setEnabled(bool(items))
        if items:
            row = items[0].row()
            self.pop_year.setValue(int(self.pop_table.item(row, 0).data(Qt.ItemDataRole.UserRole)))
            self.pop_edit.setText(self.pop_table.item(row, 1).text().replace(",", ""))

    def _population_write(self, year: int, value: str | None) -> bool:
        self.pop_error.hide()
        try:
            with self.db.write() as s:
                set_year_population(s, self.office.id, year, value)
        except ValidationError as err:
            self.pop_error.setText(err.message)
            self.pop_error.show()
            self.pop_edit.setFocus()
            return False
        except KepuError as err:
            messages.show_error(self, err)
            return False
        self.load_populations()
        self.changed.emit()
        return True

    @Slot()
    def set_population(self) -> None:
        """Add or change 常住人口 of the year chosen."""
        value = self.pop_edit.text().replace(",", "").strip()
        if not value:
            self.pop_error.setText("请填写常住人口")
            self.pop_error.show()
            self.pop_edit.setFocus()
            return
        if self._population_write(self.pop_year.value(), value):
            self.pop_edit.clear()
            self.pop_table.clearSelection()

    @Slot()
    def remove_population(self) -> None:
        """Remove the selected year's figure: the default 常住人口 applies again."""
        items = self.pop_table.selectedItems()
        if not items:
            return
        year = int(self.pop_table.item(items[0].row(), 0).data(Qt.ItemDataRole.UserRole))
        if self._population_write(year, None):
            self.pop_edit.clear()

    # -- 报送 ----------------------------------------------------------------------------------

    @Slot()
    def _due_edited(self, *_args: object) -> None:
        changed = self.due_spin.value() != getattr(self, "_saved_due_day", DEFAULT_DUE_DAY)
        self.due_button.setEnabled(changed)
        if changed:
            self.due_status.clear()

    @Slot()
    def save_due_day(self) -> None:
        """Write the due day (1–28)."""
        day = self.due_spin.value()
        try:
            set_due_day(self.db, day)
        except KepuError as err:
            messages.show_error(self, err)
            return
        self._saved_due_day = day
        self._due_edited()
        self.due_status.setText("已保存。")
        self.due_status.setStyleSheet(OK_STYLE)
        self.changed.emit()

    # -- 数据 -----------------------------------------------------------------------------------

    def _open_folder(self, folder: Path) -> None:
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            QMessageBox.warning(self, messages.APP_TITLE, f"无法打开文件夹：\n{folder}")

    @Slot()
    def open_db_folder(self) -> None:
        """Show the database's folder in the file manager."""
        self._open_folder(self.db.path.parent)

    @Slot()
    def copy_path(self) -> None:
        """Put the database path on the clipboard."""
        QGuiApplication.clipboard().setText(str(self.db.path))
        self.backup_label.setStyleSheet(HINT_STYLE)
        self.backup_label.setText("数据库文件路径已复制。")

    @Slot()
    def open_backup_folder(self) -> None:
        """Show the backups folder (created if there is none yet)."""
        try:
            self.backup_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            messages.show_error(self, KepuError(
                f"无法创建备份文件夹“{self.backup_dir}”：{err.strerror or err}"))
            return
        self._open_folder(self.backup_dir)

    def _show_latest_backup(self) -> None:
        latest = _latest_backup(self.db.path)
        self.backup_label.setStyleSheet(HINT_STYLE)
        if latest is None:
            self.backup_label.setText("还没有备份。建议每月报送前备份一次。")
            return
        when = dt.datetime.fromtimestamp(latest.stat().st_mtime)
        self.backup_label.setText(f"最近一次备份：{when:%Y-%m-%d %H:%M}\n{latest.name}")

    @Slot()
    def backup_now(self) -> None:
        """立即备份 into the backups folder, in the background; show the verified copy."""
        if self.backup_job is not None and self.backup_job.is_running():
            return
        db = self.db

        extra = self._saved_backup_settings.extra_folder

        def work(progress: Progress, is_cancelled: IsCancelled) -> tuple[Path, Path | None, str]:
            progress(-1, "正在备份并校验数据库和佐证材料…")
            dest = make_backup(db.path, "manual").path
            if is_cancelled():  # the copy cannot be interrupted; don't keep it
                dest.unlink(missing_ok=True)
                raise Cancelled
            if extra is None:
                return dest, None, ""
            progress(-1, "正在另存一份并校验…")
            copy, warning = copy_to_extra_folder(dest, extra)
            return dest, copy, warning

        self.backup_button.setEnabled(False)
        job = run_in_background(self, work, self._backup_done, title="备份数据库",
                                label="正在备份数据库…", on_cancelled=self._backup_cancelled)
        self.backup_job = job
        job.finished.connect(lambda: self.backup_button.setEnabled(True))

    def _backup_cancelled(self) -> None:
        self.backup_label.setStyleSheet(HINT_STYLE)
        self.backup_label.setText("已取消备份，未保留备份文件。")

    def _backup_done(self, result: tuple[Path, Path | None, str]) -> None:
        dest, copy, warning = result
        self.last_backup = dest
        self.last_extra_copy = copy
        text = f"已备份并通过完整性校验：\n{dest}"
        if copy is not None:
            text += f"\n另存的一份（已校验）：\n{copy}"
        if warning:
            text += f"\n{warning}"
        self.backup_label.setStyleSheet(WARN_STYLE if warning else OK_STYLE)
        self.backup_label.setText(text)

    # -- 自动备份 and 另存一份到 ------------------------------------------------------------------

    def load_backup_settings(self) -> None:
        """Show the stored schedule and extra folder."""
        with self.db.session() as s:
            stored = get_backup_settings(s)
        self._saved_backup_settings = stored
        self.schedule_combo.blockSignals(True)
        self.schedule_combo.setCurrentIndex(self.schedule_combo.findData(stored.schedule))
        self.schedule_combo.blockSignals(False)
        self._extra_folder = stored.extra_folder
        self.backup_settings_status.clear()
        self._backup_settings_edited()

    def backup_settings_values(self) -> BackupSettings:
        return BackupSettings(self.schedule_combo.currentData(), self._extra_folder)

    @Slot()
    def _backup_settings_edited(self, *_args: object) -> None:
        values = self.backup_settings_values()
        self.schedule_warning.setVisible(values.schedule == "off")
        folder = values.extra_folder
        self.extra_label.setText(str(folder) if folder else "（不另存）")
        self.extra_clear_button.setEnabled(folder is not None)
        dirty = values != self._saved_backup_settings
        self.backup_settings_button.setEnabled(dirty)
        if dirty:
            self.backup_settings_status.clear()

    @Slot()
    def choose_extra_folder(self) -> None:
        """Pick the folder (e.g. a USB stick) that gets a copy of each backup."""
        start = str(self._extra_folder or Path.home())
        folder = QFileDialog.getExistingDirectory(self, "选择另存备份的文件夹（如U盘）", start)
        if folder:
            self._extra_folder = Path(folder)
            self._backup_settings_edited()

    @Slot()
    def clear_extra_folder(self) -> None:
        self._extra_folder = None
        self._backup_settings_edited()

    @Slot()
    def save_backup_settings(self) -> bool:
        """Store the schedule and the extra folder (the folder must be writable)."""
        values = self.backup_settings_values()
        try:
            set_backup_settings(self.db, values.schedule, values.extra_folder)
        except ValidationError as err:
            self.backup_settings_status.setStyleSheet(ERROR_STYLE)
            self.backup_settings_status.setText(err.message)
            return False
        except KepuError as err:
            messages.show_error(self, err)
            return False
        self.load_backup_settings()
        self.backup_settings_status.setStyleSheet(OK_STYLE)
        self.backup_settings_status.setText("已保存。")
        self.changed.emit()
        return True

    # -- 更改数据文件位置 ----------------------------------------------------------------------------

    def _show_next_location(self) -> None:
        stored = next_start_setting().value(DB_PATH_SETTING)
        if stored and Path(str(stored)) != self.db.path:
            self.move_status.setStyleSheet(WARN_STYLE)
            self.move_status.setText(f"下次启动时将使用：{stored}")
        else:
            self.move_status.clear()

    @Slot()
    def move_data(self) -> None:
        """复制到新位置: a verified copy there, used from the next start on."""
        if self.move_job is not None and self.move_job.is_running():
            return
        chosen = QFileDialog.getExistingDirectory(
            self, "选择新的数据文件夹", str(self.db.path.parent))
        if not chosen:
            return
        folder = Path(chosen)
        if folder.resolve() == self.db.path.parent.resolve():
            QMessageBox.warning(self, messages.APP_TITLE, "这就是数据文件现在所在的文件夹。")
            return
        problem = check_folder_writable(folder)
        if problem:
            QMessageBox.warning(self, messages.APP_TITLE, problem)
            return
        db_path = self.db.path

        def work(progress: Progress, _is_cancelled: IsCancelled) -> Path:
            progress(-1, "正在复制并校验数据库和佐证材料…")
            return copy_data_to(db_path, folder)

        self.move_button.setEnabled(False)
        job = run_in_background(self, work, self._move_done, title="更改数据文件位置",
                                label="正在复制数据…")
        self.move_job = job
        job.finished.connect(lambda: self.move_button.setEnabled(True))

    def _move_done(self, target: Path) -> None:
        settings = next_start_setting()
        settings.setValue(DB_PATH_SETTING, str(target))
        settings.sync()
        self.move_status.setStyleSheet(WARN_STYLE)
        self.move_status.setText(
            f"已复制到：{target}\n请立即关闭并重新打开程序，之后使用新位置的数据。")
        QMessageBox.information(
            self, messages.APP_TITLE,
            f"数据已复制到新位置并通过校验：\n{target}\n\n"
            "请现在关闭并重新打开程序，重新打开后将使用新位置的数据。\n"
            "注意：在重新打开之前所做的修改只保存在原位置，不会出现在新位置。\n"
            f"原位置的文件仍然保留：\n{self.db.path}")
