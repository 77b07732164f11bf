"""The item models of the trainee register (学员) and of a training's roster (花名册).

:class:`TraineeModel` holds the ordered ids of the matching people (one SQL
query through :func:`db.trainees.search_trainees`) and fills a cache of plain
:class:`db.trainees.TraineeRow` values a page at a time, when the view first
asks for a row, so 50 000 people cost one page of rows, never the whole table.
The same model, with a few columns and a limit, lists the matches when people
are added to a roster.

:class:`RosterModel` shows one training's roster (a few hundred people at
most, so it holds all rows); its 学时 column is editable.

身份证号 and phone numbers are shown masked. :meth:`TraineeModel.reveal`
shows the full numbers of one person only; nothing here logs them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QGuiApplication, QPalette

from db.activities import get_activity
from db.database import Database
from db.errors import KepuError
from db.offices import OfficeInfo
from db.trainees import trainee_villages as db_trainee_villages
from db.trainees import (
    SORT_KEYS,
    RosterRow,
    TraineeRow,
    roster,
    search_trainees,
    set_roster_hours,
    trainee_count,
    trainee_rows,
)
from desktop.paged_model import IdRows
from desktop.table_model import (
    CENTER,
    LEFT,
    RIGHT,
    Column,
    ColumnTableModel,
    ModelIndex,
    SqlSortedModel,
    swap_rows,
)

ID_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2

REVEALED_COLOR = QColor(176, 0, 32)  # full numbers on screen: hard to overlook


TRAINEE_COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", LEFT, "欧阳秀英"),
    Column("gender", "性别", CENTER, "性别"),
    Column("id_number", "身份证号", LEFT, "350582********0026"),
    Column("birth_date", "出生日期", LEFT, "1955-03-12"),
    Column("category", "人员类别", LEFT, "科技工作者"),
    Column("village", "村/社区", LEFT, "南沙岗村"),
    Column("phone", "联系电话", LEFT, "138****5678"),
    Column("employer", "工作单位", LEFT, "金井镇农业服务中心"),
    Column("trainings", "培训次数", RIGHT, "培训次数", descending_first=True),
    Column("hours", "累计学时", RIGHT, "累计学时", descending_first=True),
)
TRAINEE_KEYS = tuple(c.key for c in TRAINEE_COLUMNS)

# What the roster's "add people" list shows: enough to tell namesakes apart.
PICKER_KEYS = ("name", "gender", "id_number", "village", "category", "phone")

ROSTER_COLUMNS: tuple[Column, ...] = (
    Column("number", "序号", RIGHT, "序号"),
    Column("name", "姓名", LEFT, "欧阳秀英"),
    Column("gender", "性别", CENTER, "性别"),
    Column("id_number", "身份证号", LEFT, "350582********0026"),
    Column("category", "人员类别", LEFT, "领导干部和公务员"),
    Column("village", "村/社区", LEFT, "南沙岗村"),
    Column("phone", "联系电话", LEFT, "138****5678"),
    Column("hours", "学时", RIGHT, "学时 12.5"),
)


# -- formatting (plain functions) -------------------------------------------------------


def format_hours(hours_x10: int) -> str:
    """学时 stored in tenths, with one decimal: 35 → "3.5", 20 → "2.0"."""
    sign = "-" if hours_x10 < 0 else ""
    whole, tenth = divmod(abs(hours_x10), 10)
    return f"{sign}{whole:,}.{tenth}"


def format_hours_short(hours_x10: int) -> str:
    """学时 without a useless ".0": 20 → "2", 15 → "1.5"."""
    whole, tenth = divmod(abs(hours_x10), 10)
    return f"{whole}" if not tenth else f"{whole}.{tenth}"


def parse_hours(value: str) -> int | None:
    """学时 as typed ("1.5", "2", "２") in tenths; blank gives None.

    Raises:
        KepuError: not a number with at most one decimal.

    """
    clean = value.strip().translate(str.maketrans("０１２３４５６７８９．", "0123456789."))
    if not clean:
        return None
    match = re.fullmatch(r"(\d{1,4})(?:\.(\d?))?", clean)
    if match is None:
        raise KepuError(f"学时“{value.strip()}”格式不对，应为数字，最多一位小数（如 1.5）")
    return int(match.group(1)) * 10 + int(match.group(2) or 0)


def chinese_date(day: dt.date) -> str:
    """2025年9月16日."""
    return f"{day.year}年{day.month}月{day.day}日"


def _muted() -> QColor:
    return QGuiApplication.palette().color(QPalette.ColorGroup.Active,
                                           QPalette.ColorRole.PlaceholderText)


def trainee_villages(db: Database, office: OfficeInfo) -> list[str]:
    """List the 村/社区 of the registered people, most common first."""
    with db.session() as session:
        return db_trainee_villages(session, office.id)


# -- the register -----------------------------------------------------------------------


class TraineeModel(IdRows[TraineeRow], SqlSortedModel):
    """The people of one office matching a search, in SQL order (by name).

    Args:
        db: the open database.
        office: whose people.
        parent: the owning object.
        keys: the columns shown (keys of :data:`TRAINEE_COLUMNS`), all by default.
        limit: at most this many matches (the roster's picker uses ~50).
        require_query: show nobody until a search text is given.

    Signals:
        ids_changed: the set or order of rows changed (search, refresh).
        revealed_changed: a person's full numbers were shown or hidden again.

    """

    ids_changed = Signal()
    revealed_changed = Signal()

    IdRole = ID_ROLE
    RowRole = ROW_ROLE

    def __init__(self, db: Database, office: OfficeInfo, parent: QObject | None = None, *,
                 keys: Sequence[str] = TRAINEE_KEYS, limit: int | None = None,
                 require_query: bool = False) -> None:
        super().__init__([c for key in keys for c in TRAINEE_COLUMNS if c.key == key], parent,
                         sort="name")
        self._db = db
        self._office = office
        self._limit = limit
        self._require_query = require_query
        self._query = ""
        self._category_id: str | None = None
        self._village: str | None = None
        self._ids: list[str] = []
        self._rows: dict[str, TraineeRow | None] = {}  # None: the person no longer exists
        self._total = 0
        self._revealed: str | None = None
        self._marked: frozenset[str] = frozenset()
        self._marked_tip = ""
        self.refresh()

    # -- what is shown -----------------------------------------------------------------

    @property
    def query(self) -> str:
        """The search text."""
        return self._query

    def set_search(self, query: str, category_id: str | None = None,
                   village: str | None = None) -> None:
        """Show the people matching a search text, a 人员类别 and a 村/社区 (selection kept)."""
        search = (query.strip(), category_id or None, village or None)
        if search == (self._query, self._category_id, self._village):
            return
        self._query, self._category_id, self._village = search
        self._reload_ids()

    def _count_all(self) -> int:
        with self._db.session() as session:
            return trainee_count(session, self._office.id)

    def set_marked(self, ids: Sequence[str] | frozenset[str], tooltip: str = "") -> None:
        """Grey out these people (e.g. those already on the roster)."""
        marked = frozenset(ids)
        if marked == self._marked:
            return
        self._marked, self._marked_tip = marked, tooltip
        self._all_changed()

    def is_marked(self, trainee_id: str) -> bool:
        """Whether the person is greyed out (see :meth:`set_marked`)."""
        return trainee_id in self._marked

    # -- full numbers of one person ---------------------------------------------------------

    @property
    def revealed_id(self) -> str | None:
        """The one person whose full 身份证号 and phone are shown, if any."""
        return self._revealed

    def reveal(self, trainee_id: str | None) -> None:
        """Show the full numbers of this one person (None: of nobody); others stay masked."""
        if trainee_id == self._revealed:
            return
        rows = [self.row_of(i) for i in (self._revealed, trainee_id) if i is not None]
        self._revealed = trainee_id
        for row in rows:
            if row is not None:
                self.dataChanged.emit(self.index(row, 0),
                                      self.index(row, len(self._columns) - 1))
        self.revealed_changed.emit()

    # -- loading ---------------------------------------------------------------------------

    def _load_rows(self, ids: list[str]) -> list[TraineeRow]:
        with self._db.session() as session:
            return trainee_rows(session, ids)

    def _query_ids(self) -> list[str]:
        if self._require_query and not self._query:
            return []
        with self._db.session() as session:
            return search_trainees(session, self._office.id, self._query,
                                   category_id=self._category_id, village=self._village,
                                   limit=self._limit, sort=self._sort,
                                   descending=self._descending)

    def _reload_ids(self) -> None:
        self._set_ids(self._query_ids())
        if self._revealed is not None and self._revealed not in self._ids:
            self.reveal(None)
        self.ids_changed.emit()

    # -- QAbstractTableModel -----------------------------------------------------------------

    def header_tooltip(self, column: int) -> str | None:
        """The masked numbers say how to see them in full; the others that they sort."""
        key = self._columns[column].key
        if key in ("id_number", "phone"):
            return "号码已部分隐藏；选中一人后点“显示完整号码”可临时查看（此列不排序）"
        if key in SORT_KEYS:
            return f"点击按“{self._columns[column].title}”排序"
        return None

    # -- sorting (in SQL) ------------------------------------------------------------------

    def sortable(self, column: int) -> bool:
        """Whether the list can be sorted by ``column`` (not by the masked numbers)."""
        return super().sortable(column) and self._columns[column].key in SORT_KEYS

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Texts (numbers masked unless revealed), alignment, greying, id and row."""
        if not self.cell_in_range(index):
            return None
        if role == ID_ROLE:
            return self._ids[index.row()]
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return column.align
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole,
                        Qt.ItemDataRole.ForegroundRole, ROW_ROLE):
            return None
        row = self.row_at(index.row())
        if row is None:
            if role == Qt.ItemDataRole.DisplayRole and column.key == "name":
                return "（该学员已被删除，请刷新）"
            return None
        if role == ROW_ROLE:
            return row
        revealed = row.id == self._revealed
        if role == Qt.ItemDataRole.DisplayRole:
            return _trainee_text(row, column.key, revealed)
        if role == Qt.ItemDataRole.ToolTipRole:
            if row.id in self._marked and self._marked_tip:
                return self._marked_tip
            if column.key == "hours" and row.trainings:
                return f"参加培训 {row.trainings} 期，累计 {format_hours(row.hours_x10)} 学时"
            if column.key in ("category", "village", "employer", "name"):
                value = _trainee_text(row, column.key, False)
                return value if len(value) > 4 else None  # may be cut off
            return None
        # ForegroundRole
        if row.id in self._marked:
            return QBrush(_muted())
        if revealed and column.key in ("id_number", "phone"):
            return QBrush(REVEALED_COLOR)
        return None


def _trainee_text(row: TraineeRow, key: str, revealed: bool) -> str:
    if key == "name":
        return row.name
    if key == "gender":
        return row.gender
    if key == "id_number":
        return (row.id_number or "") if revealed else row.id_masked
    if key == "birth_date":
        return row.birth_date.isoformat() if row.birth_date else ""
    if key == "category":
        return row.category
    if key == "village":
        return row.village
    if key == "phone":
        return row.phone if revealed else row.phone_masked
    if key == "employer":
        return row.employer
    if key == "trainings":
        return f"{row.trainings:,}"
    if key == "hours":
        return format_hours(row.hours_x10)
    raise KeyError(key)


# -- a training's roster ----------------------------------------------------------------


class RosterModel(ColumnTableModel):
    """The people on one training's roster, by name; 学时 editable per person.

    Editing 学时 writes it at once through :func:`db.trainees.set_roster_hours`
    (blank: the training's 学时).

    Args:
        db: the open database.
        activity_id: the training.
        parent: the owning object.

    Signals:
        changed: a 学时 was written to the database.
        error: a 学时 could not be saved; the Chinese message to show.

    """

    changed = Signal()
    error = Signal(str)

    IdRole = ID_ROLE
    RowRole = ROW_ROLE

    def __init__(self, db: Database, activity_id: str, parent: QObject | None = None) -> None:
        super().__init__(ROSTER_COLUMNS, parent)
        self._db = db
        self._activity_id = activity_id
        self._rows: list[RosterRow] = []
        self.training_hours_x10 = 0
        self.read_only = False
        self.refresh()

    @property
    def ids(self) -> tuple[str, ...]:
        """The trainee ids on the roster, in order."""
        return tuple(r.trainee_id for r in self._rows)

    @property
    def rows(self) -> tuple[RosterRow, ...]:  # type: ignore[override]
        """The roster as plain values."""
        return tuple(self._rows)

    def row_count(self) -> int:
        """How many people are on the roster."""
        return len(self._rows)

    def row_of(self, trainee_id: str) -> int | None:
        """Return the row of a person, or None when they are not on the roster."""
        return next((i for i, r in enumerate(self._rows) if r.trainee_id == trainee_id), None)

    def id_at(self, row: int) -> str:
        """Return the trainee id of ``row``."""
        return self._rows[row].trainee_id

    def set_read_only(self, read_only: bool) -> None:
        """Refuse 学时 edits (a locked month)."""
        self.read_only = read_only

    def refresh(self) -> None:
        """Read the roster again (selection kept by id)."""
        with self._db.session() as session:
            rows = roster(session, self._activity_id)
            detail = get_activity(session, self._activity_id)
        self.training_hours_x10 = detail.data.train_hours_x10 if detail else 0
        old_ids, new_ids = self.ids, tuple(r.trainee_id for r in rows)
        if old_ids == new_ids:
            self._rows = rows
            if rows:
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(len(rows) - 1, len(ROSTER_COLUMNS) - 1))
            return

        def apply() -> None:
            self._rows = rows

        swap_rows(self, old_ids, new_ids, apply)

    # -- QAbstractTableModel -----------------------------------------------------------------

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        """Make cells selectable; 学时 editable unless the month is locked."""
        flags = super().flags(index)
        if (index.isValid() and ROSTER_COLUMNS[index.column()].key == "hours"
                and not self.read_only):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def header_tooltip(self, column: int) -> str | None:
        """The 学时 header explains editing."""
        if ROSTER_COLUMNS[column].key == "hours":
            return (f"本期培训 {format_hours(self.training_hours_x10)} 学时；"
                    "双击可为个别学员改学时，清空即恢复为培训学时")
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Texts (numbers masked), the editable 学时, alignment and emphasis."""
        if not self.cell_in_range(index):
            return None
        row = self._rows[index.row()]
        key = ROSTER_COLUMNS[index.column()].key
        if role == ID_ROLE:
            return row.trainee_id
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.DisplayRole:
            return _roster_text(row, key, index.row())
        if role == Qt.ItemDataRole.EditRole:
            if key == "hours":
                return format_hours_short(row.hours_x10) if row.own_hours else ""
            return _roster_text(row, key, index.row())
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return ROSTER_COLUMNS[index.column()].align
        if key == "hours" and row.own_hours:
            if role == Qt.ItemDataRole.FontRole:
                font = QFont(QGuiApplication.font())
                font.setBold(True)
                return font
            if role == Qt.ItemDataRole.ToolTipRole:
                return (f"本人 {format_hours(row.hours_x10)} 学时（培训为 "
                        f"{format_hours(self.training_hours_x10)} 学时）；清空即恢复")
        if key == "number" and role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(_muted())
        return None

    def setData(self, index: ModelIndex, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Write one person's 学时 (blank: the training's); errors go to :attr:`error`."""
        if (role != Qt.ItemDataRole.EditRole or not index.isValid() or self.read_only
                or ROSTER_COLUMNS[index.column()].key != "hours"
                or not 0 <= index.row() < len(self._rows)):
            return False
        row = self._rows[index.row()]
        try:
            hours = parse_hours(str(value if value is not None else ""))
            if hours == self.training_hours_x10:
                hours = None  # the same as the training's: not a personal value
            if hours == (row.hours_x10 if row.own_hours else None):
                return True
            set_roster_hours(self._db, self._activity_id, row.trainee_id, hours)
        except KepuError as err:
            self.error.emit(str(err))
            return False
        self.refresh()
        self.changed.emit()
        return True


def _roster_text(row: RosterRow, key: str, position: int) -> str:
    if key == "number":
        return str(position + 1)
    if key == "name":
        return row.name
    if key == "gender":
        return row.gender
    if key == "id_number":
        return row.id_masked
    if key == "category":
        return row.category
    if key == "village":
        return row.village
    if key == "phone":
        return row.phone_masked
    if key == "hours":
        return format_hours(row.hours_x10)
    raise KeyError(key)
