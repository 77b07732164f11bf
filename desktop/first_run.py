"""The first-run dialog: set up the 填报单位 and create the database."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from db.database import Database, open_database
from db.errors import KepuError, ValidationError
from db.models import LEVELS
from db.offices import create_office, log_init, validate_office
from desktop import messages
from desktop.field_errors import FieldErrors, error_label, ok_cancel_buttons

log = logging.getLogger(__name__)


def _missing_dirs(folder: Path) -> list[Path]:
    """The folders from ``folder`` upwards that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _remove_new_database(path: Path, new_dirs: list[Path]) -> None:
    """Undo a failed first run: the file, its SQLite side files and new folders."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).unlink()
    for folder in new_dirs:
        with contextlib.suppress(OSError):  # not empty: something else is in it
            folder.rmdir()


class FirstRunDialog(FieldErrors, QDialog):
    """Ask for the office, then create the database file and the office in it.

    After ``exec()`` returned ``Accepted``, :attr:`database` is the open
    database with its office. On cancel nothing has been created.

    Args:
        path: where the database will be stored.
        database: an already open database that has no office yet (the file
            existed); then only the office is created and the file is kept
            whatever happens.

    """

    def __init__(self, path: Path, parent: QWidget | None = None,
                 database: Database | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self._existing = database
        self.database: Database | None = None
        self.setWindowTitle("首次使用：设置填报单位")
        self.setMinimumWidth(540)

        heading = QLabel("欢迎使用科普台账")
        font = QFont(heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        heading.setFont(font)
        intro = QLabel(
            "请先填写本单位（街道、镇或乡）的基本信息。单位名称和行政区划代码将出现在"
            "月报表、工作总结等材料的表头上；常住人口用于计算人均科普经费。"
        )
        intro.setWordWrap(True)

        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(100)
        self.name_edit.setPlaceholderText("如 金井镇")
        self.code_edit = QLineEdit()
        self.code_edit.setMaxLength(20)
        self.code_edit.setPlaceholderText("6、9 或 12 位数字，如 350582103")
        self.level_combo = QComboBox()
        self.level_combo.addItems(list(LEVELS))
        self.region_edit = QLineEdit()
        self.region_edit.setMaxLength(100)
        self.region_edit.setPlaceholderText("如 福建省泉州市晋江市")
        self.population_edit = QLineEdit()
        self.population_edit.setMaxLength(12)
        self.population_edit.setPlaceholderText("如 58000")
        self.population_edit.setAlignment(Qt.AlignmentFlag.AlignRight)

        # Field label (as ValidationError.field names it) → its red message.
        self.error_labels: dict[str, QLabel] = {}
        self._field_widgets: dict[str, QWidget] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for label, widget in (
            ("单位名称", self.name_edit),
            ("行政区划代码", self.code_edit),
            ("级别", self.level_combo),
            ("所属区县", self.region_edit),
            ("常住人口", self.population_edit),
        ):
            form.addRow(f"{label}：", self._with_error_label(label, widget))

        path_label = QLabel("数据将保存在：")
        self.path_label = QLabel(str(self.path))
        self.path_label.setWordWrap(True)
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setIndent(12)
        self.general_error = error_label()

        self.buttons = ok_cancel_buttons(self)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addSpacing(8)
        layout.addLayout(form)
        layout.addSpacing(8)
        layout.addWidget(path_label)
        layout.addWidget(self.path_label)
        layout.addWidget(self.general_error)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        self._level_chosen = False
        self.level_combo.activated.connect(self._on_level_chosen)
        self.name_edit.textEdited.connect(self._guess_level)
        QWidget.setTabOrder(self.name_edit, self.code_edit)
        QWidget.setTabOrder(self.code_edit, self.level_combo)
        QWidget.setTabOrder(self.level_combo, self.region_edit)
        QWidget.setTabOrder(self.region_edit, self.population_edit)
        QWidget.setTabOrder(self.population_edit, ok)
        self.name_edit.setFocus()

    @Slot()
    def _on_level_chosen(self) -> None:
        self._level_chosen = True
        self._clear_error("级别")

    @Slot(str)
    def _guess_level(self, name: str) -> None:
        """金井镇 → 镇, 某某街道 → 街道, until the user picks a level."""
        if self._level_chosen:
            return
        name = name.strip()
        for level in sorted(LEVELS, key=len, reverse=True):
            if name.endswith(level):
                self.level_combo.setCurrentText(level)
                return

    def _values(self) -> tuple[str, str, str, str, str]:
        population = self.population_edit.text()
        for separator in (",", "，", " "):  # 58,000 and 58 000 are 58000
            population = population.replace(separator, "")
        return (self.name_edit.text(), self.code_edit.text(), self.level_combo.currentText(),
                self.region_edit.text(), population)

    def accept(self) -> None:
        """Validate, then create the database and the office; stay open on error."""
        self._clear_errors()
        try:
            cleaned = validate_office(*self._values())
        except ValidationError as err:
            self.show_field_error(err)
            return
        try:
            self.database = self._create(*cleaned)
        except ValidationError as err:
            self.show_field_error(err)
            return
        except KepuError as err:
            messages.show_error(self, err)
            return
        except Exception:  # noqa: BLE001 - a bug: log it, tell the user, keep the dialog
            log.exception("首次设置失败")
            messages.show_bug(self)
            return
        super().accept()

    def _create(self, name: str, code: str, level: str, region: str,
                population: int) -> Database:
        new_file = self._existing is None and not self.path.exists()
        new_dirs = _missing_dirs(self.path.parent) if new_file else []
        db = self._existing
        try:
            if db is None:
                db = open_database(self.path, create=True)
            with db.write() as session:
                office = create_office(session, name, code, level, region, population)
                log_init(session, office)
        except BaseException:
            if db is not None and db is not self._existing:
                db.close()
            if new_file:
                _remove_new_database(self.path, new_dirs)
            raise
        return db
