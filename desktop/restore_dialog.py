"""从备份恢复: list a database's backups with their date and contents; restore one."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from db.backups import BackupInfo, list_backups, restore_backup
from db.errors import KepuError
from desktop import messages

COLUMNS = ("备份时间", "原因", "活动", "学员", "佐证材料", "大小")


def _cell(text: str, right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class RestoreDialog(QDialog):
    """Choose a backup and restore it over the database at ``db_path``.

    The database must not be open in this program while restoring (the caller
    closes it first). The current file is kept aside by :func:`restore_backup`.
    """

    def __init__(self, db_path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db_path = db_path
        self.restored_from: Path | None = None
        self.kept_aside: Path | None = None
        self.setWindowTitle("从备份恢复")
        self.resize(760, 420)
        self.backups: list[BackupInfo] = list_backups(db_path)

        intro = QLabel(
            f"数据库：{db_path}\n选择一个备份，用它替换当前数据库。当前数据库会先另存一份，"
            "恢复后仍可找回。")
        intro.setWordWrap(True)
        self.table = QTableWidget(len(self.backups), len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        for row, b in enumerate(self.backups):
            unreadable = b.activities is None
            self.table.setItem(row, 0, _cell(f"{b.created:%Y-%m-%d %H:%M}"))
            self.table.setItem(row, 1, _cell(b.reason_label + ("（无法读取）" if unreadable else "")))
            self.table.setItem(row, 2, _cell("" if unreadable else f"{b.activities}", True))
            self.table.setItem(row, 3, _cell("" if unreadable else f"{b.trainees}", True))
            self.table.setItem(row, 4, _cell("" if unreadable else f"{b.attachments}", True))
            self.table.setItem(row, 5, _cell(f"{b.size / 1_048_576:.1f} MB", True))
        if self.backups:
            self.table.selectRow(0)
        self.table.doubleClicked.connect(self.accept)

        self.empty = QLabel("还没有备份。程序每天第一次打开时会自动备份。")
        self.empty.setVisible(not self.backups)

        buttons = QDialogButtonBox()
        self.restore_button = buttons.addButton("恢复所选备份",
                                                QDialogButtonBox.ButtonRole.AcceptRole)
        self.restore_button.setEnabled(bool(self.backups))
        buttons.addButton("取消", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addWidget(buttons)

    def selected(self) -> BackupInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.backups[rows[0].row()] if rows else None

    def confirm(self, backup: BackupInfo) -> bool:
        """Ask before replacing the database (tests replace this)."""
        answer = QMessageBox.question(
            self, "从备份恢复",
            f"用 {backup.created:%Y-%m-%d %H:%M} 的备份替换当前数据库？\n"
            "之后录入的内容会从当前数据库中消失（当前数据库会另存，可以找回）。",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def accept(self) -> None:
        """Restore the selected backup; stay open if it fails."""
        backup = self.selected()
        if backup is None or not self.confirm(backup):
            return
        try:
            self.kept_aside = restore_backup(self.db_path, backup.path)
        except KepuError as err:
            messages.show_error(self, err)
            return
        self.restored_from = backup.path
        super().accept()
