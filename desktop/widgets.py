"""Small pieces several pages build the same way.

The page title; a table of rows to pick from (keyboard set-up, selecting a
row, column widths that persist in QSettings); and running a modal dialog to
learn whether it changed anything.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QSettings, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QDialog, QHeaderView, QLabel, QTableView

from desktop.table_model import ColumnTableModel


def settings() -> QSettings:
    """The user's preferences (same store as the main window)."""
    return QSettings("kepu", "kepu")


def page_title(text: str) -> QLabel:
    """The title at the top of a page: bold, 1.4 times the normal size."""
    title = QLabel(text)
    font = QFont(title.font())
    font.setPointSizeF(font.pointSizeF() * 1.4)
    font.setBold(True)
    title.setFont(font)
    return title


def setup_row_table(view: QTableView, model: ColumnTableModel, padding: int) -> None:
    """Show ``model`` in ``view`` as rows to pick from, never edited in place.

    Whole rows are selected; Tab leaves the table; each column starts as wide
    as its sample value (or title) plus ``padding``.
    """
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setTabKeyNavigation(False)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    metrics = view.fontMetrics()
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(metrics.height() + 8)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    for i, column in enumerate(model.columns):
        sample = max((column.sample, column.title), key=metrics.horizontalAdvance)
        header.resizeSection(i, metrics.horizontalAdvance(sample) + padding)


def select_row(view: QAbstractItemView, row: int) -> None:
    """Make ``row`` the current and only selected row, scrolled into view."""
    index = view.model().index(row, 0)
    view.selectionModel().setCurrentIndex(
        index, QItemSelectionModel.SelectionFlag.ClearAndSelect
        | QItemSelectionModel.SelectionFlag.Rows)
    view.scrollTo(index)


def restore_column_widths(header: QHeaderView, key: str) -> None:
    """Give the columns the widths saved under ``key`` (when saved for as many columns)."""
    widths = settings().value(key)
    if isinstance(widths, list) and len(widths) == header.count():
        for i, width in enumerate(widths):
            if str(width).isdigit() and int(width) > 10:
                header.resizeSection(i, int(width))


def save_column_widths(header: QHeaderView, key: str) -> None:
    """Save the columns' widths under ``key``."""
    settings().setValue(key, [header.sectionSize(i) for i in range(header.count())])


def exec_changed(dialog: QDialog) -> bool:
    """Run a modal dialog that has a ``changed`` signal, then delete it.

    Returns:
        Whether the dialog said it changed something (saved, imported).

    """
    changed: list[bool] = []
    dialog.changed.connect(lambda: changed.append(True))  # type: ignore[attr-defined]
    try:
        dialog.exec()
    finally:
        dialog.deleteLater()
    return bool(changed)
