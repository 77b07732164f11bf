"""The plumbing shared by the flat, read-mostly table models of the pages.

:class:`SimpleTableModel` answers ``rowCount``/``columnCount``/``flags`` and the
column headers (title, alignment, tooltip) from a tuple of column titles and the
tuple of numeric (right-aligned) columns; a model only says what its cells show.
Models whose columns are :class:`Column` values (the ledger, the trainee
register, a roster) take the titles and alignments from those.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QGuiApplication

ModelIndex = QModelIndex | QPersistentModelIndex

RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
CENTER = int(Qt.AlignmentFlag.AlignCenter)

# Rows are selected and opened (edited through a dialog), never edited in place.
READ_ONLY_FLAGS = (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                   | Qt.ItemFlag.ItemNeverHasChildren)


@dataclass(frozen=True)
class Column:
    """One column of a table.

    Attributes:
        key: stable name, used for settings.
        title: the header text.
        align: the text alignment of its cells.
        sample: a typical widest value, for the default width.
        descending_first: whether a first click on the header sorts descending
            (dates, counts and money: the latest or largest first).

    """

    key: str
    title: str
    align: int = LEFT
    sample: str = ""
    descending_first: bool = False


class SimpleTableModel(QAbstractTableModel):
    """A flat table: no children, a header per column, numbers right-aligned.

    Subclasses set :attr:`COLUMNS` (the header titles) and :attr:`NUMERIC` (the
    right-aligned columns), hold their rows in :attr:`rows` (or override
    :meth:`row_count`) and answer :meth:`data`. :meth:`column_titles`,
    :meth:`alignment` and :meth:`header_tooltip` may be overridden for columns
    that change or are described otherwise.
    """

    COLUMNS: Sequence[str] = ()
    NUMERIC: Collection[int] = ()

    rows: Sequence[Any]

    def row_count(self) -> int:
        """How many rows are shown."""
        return len(self.rows)

    def column_titles(self) -> Sequence[str]:
        """The header titles, one per column shown."""
        return self.COLUMNS

    def alignment(self, column: int) -> int:
        """The alignment of a column's header and cells: numbers right, text left."""
        return RIGHT if column in self.NUMERIC else LEFT

    def header_tooltip(self, column: int) -> str | None:
        """The tooltip of a column's header (none by default)."""
        return None

    def cell_in_range(self, index: ModelIndex) -> bool:
        """Whether ``index`` is a valid cell of the rows and columns shown."""
        return (index.isValid() and 0 <= index.row() < self.row_count()
                and 0 <= index.column() < len(self.column_titles()))

    # -- QAbstractItemModel ----------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt API
        """Rows shown (a flat table: no children)."""
        return 0 if parent.isValid() else self.row_count()

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt API
        """Columns shown."""
        return 0 if parent.isValid() else len(self.column_titles())

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        """Selectable, not edited in place."""
        return READ_ONLY_FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Column titles, their alignment and tooltips."""
        titles = self.column_titles()
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(titles):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return titles[section]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(section)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.header_tooltip(section)
        return None


class ColumnTableModel(SimpleTableModel):
    """A :class:`SimpleTableModel` whose columns are :class:`Column` values."""

    def __init__(self, columns: Sequence[Column], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._columns = tuple(columns)
        self._titles = tuple(c.title for c in self._columns)

    @property
    def columns(self) -> tuple[Column, ...]:
        """The columns shown."""
        return self._columns

    def column_of(self, key: str) -> int:
        """Return the position of the column ``key`` (-1 when not shown)."""
        return next((i for i, c in enumerate(self._columns) if c.key == key), -1)

    def column_titles(self) -> Sequence[str]:
        """The titles of the columns shown."""
        return self._titles

    def alignment(self, column: int) -> int:
        """Each column's own alignment."""
        return self._columns[column].align


class SqlSortedModel(ColumnTableModel):
    """A :class:`ColumnTableModel` whose rows are sorted in SQL by one column.

    The subclass reads :attr:`sort_key` and :attr:`descending` when it queries its
    ids and reloads them in ``_reload_ids()``; :meth:`sortable` says which columns
    a header click may sort by (all by default).
    """

    def __init__(self, columns: Sequence[Column], parent: QObject | None = None, *,
                 sort: str, descending: bool = False) -> None:
        super().__init__(columns, parent)
        self._sort = sort
        self._descending = descending

    def _reload_ids(self) -> None:  # pragma: no cover - per model
        raise NotImplementedError

    @property
    def sort_key(self) -> str:
        """The key of the column the rows are sorted by."""
        return self._sort

    @property
    def descending(self) -> bool:
        """Whether the rows are sorted descending."""
        return self._descending

    def sortable(self, column: int) -> bool:
        """Whether a header click may sort by ``column``."""
        return 0 <= column < len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Titles, alignment and tooltips; the order a first click sorts in."""
        if (role == Qt.ItemDataRole.InitialSortOrderRole
                and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(self._columns)):
            order = (Qt.SortOrder.DescendingOrder if self._columns[section].descending_first
                     else Qt.SortOrder.AscendingOrder)
            return order.value
        return super().headerData(section, orientation, role)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort in SQL by ``column`` (selection kept by id); unsortable columns are ignored."""
        if not self.sortable(column):
            return
        key = self._columns[column].key
        descending = order == Qt.SortOrder.DescendingOrder
        if (key, descending) == (self._sort, self._descending) and self.rowCount():
            return
        self._sort, self._descending = key, descending
        if QGuiApplication.instance() is None:  # a model without a GUI (tests, tools)
            self._reload_ids()
            return
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # a large list: ~0.4 s
        try:
            self._reload_ids()
        finally:
            QGuiApplication.restoreOverrideCursor()


def swap_rows(model: QAbstractItemModel, old_ids: Sequence[str], new_ids: Sequence[str],
              apply: Callable[[], None]) -> None:
    """Replace a model's rows, moving persistent indexes (selection, current) by id.

    ``apply`` makes the model show ``new_ids`` instead of ``old_ids`` (the row
    keys before and after); an index whose id is gone becomes invalid.
    """
    # No arguments: PySide6 6.12 refuses emit([], hint) on these signals.
    model.layoutAboutToBeChanged.emit()
    old = model.persistentIndexList()
    apply()
    if old:
        invalid = QModelIndex()
        position = {key: row for row, key in enumerate(new_ids)}
        moved: dict[int, int | None] = {}  # old row → new row
        new = []
        for index in old:
            row = index.row()
            if row not in moved:
                moved[row] = position.get(old_ids[row]) if 0 <= row < len(old_ids) else None
            target = moved[row]
            # createIndex, not index(): no calls back into rowCount() for each one
            new.append(invalid if target is None else model.createIndex(target, index.column()))
        model.changePersistentIndexList(old, new)
    model.layoutChanged.emit()
