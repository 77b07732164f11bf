"""The item model of the activity ledger (活动台账).

The model holds the ordered ids of the matching activities (one SQL query,
filtered and sorted by :func:`db.ledger.ledger_ids`) and fills a cache of plain
:class:`db.ledger.LedgerRow` values a page at a time, when the view first asks
for a row. ``rowCount()`` is the number of ids, so scrolling or jumping to the
end of 20 000 activities costs one page of rows, never the whole table.

Sorting and filtering re-run the id query; the rows move with
``layoutChanged`` and the persistent indexes (selection, current row) are
remapped by id, so whatever the clerk had selected stays selected if it is
still shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor

from db.database import Database
from db.ledger import LedgerFilter, LedgerRow, ledger_count, ledger_ids, ledger_rows
from db.offices import OfficeInfo
from desktop import table_model
from desktop.paged_model import IdRows
from desktop.table_model import CENTER, LEFT, RIGHT, ModelIndex, SqlSortedModel

ID_ROLE = int(Qt.ItemDataRole.UserRole) + 1
ROW_ROLE = int(Qt.ItemDataRole.UserRole) + 2
DISPLAY = int(Qt.ItemDataRole.DisplayRole)
ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ROLES = frozenset((DISPLAY, ALIGNMENT, TOOLTIP, FOREGROUND, ID_ROLE, ROW_ROLE))
_MISSING = object()

WARNING_COLOR = QColor(192, 80, 0)  # 缺 (no evidence): dark orange, readable on white
LOCKED_COLOR = QColor(96, 110, 130)  # 已上报: a quiet slate


@dataclass(frozen=True)
class Column(table_model.Column):
    """One column of the ledger; its ``key`` is also the SQL sort key.

    Attributes:
        hideable: whether the clerk may hide it.

    """

    hideable: bool = True


COLUMNS: tuple[Column, ...] = (
    Column("start_date", "日期", LEFT, "2025-09-16 至 09-18", descending_first=True),
    Column("title", "活动名称", LEFT, "防范电信诈骗知识讲座进社区（围头村）", hideable=False),
    Column("form", "活动形式", LEFT, "科普讲座/报告会"),
    Column("campaign", "主题活动", LEFT, "科技活动周"),
    Column("village", "村/社区", LEFT, "南沙岗村"),
    Column("attend", "人次", RIGHT, "浏览 12345", descending_first=True),
    Column("groups", "重点人群", LEFT, "老年人、社区居民"),
    Column("spending", "经费（元）", RIGHT, "12,345.00", descending_first=True),
    Column("evidence", "佐证", RIGHT, "缺"),
    Column("status", "状态", CENTER, "已上报"),
)
COLUMN_KEYS = tuple(c.key for c in COLUMNS)


def column_index(key: str) -> int:
    """The position of the column ``key``."""
    return COLUMN_KEYS.index(key)


# -- formatting (plain functions, tested on their own) ---------------------------------


def format_dates(start: dt.date, end: dt.date) -> str:
    """2025-09-16, or 2025-09-16 至 09-18 for an activity over several days."""
    if end <= start:
        return start.isoformat()
    if end.year == start.year:
        return f"{start.isoformat()} 至 {end.month:02d}-{end.day:02d}"
    return f"{start.isoformat()} 至 {end.isoformat()}"


def format_fen(fen: int) -> str:
    """Money in 分 as 元 with two decimals, from the integer (no float arithmetic)."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan:,}.{cents:02d}"


def format_attend(row: LedgerRow) -> str:
    """人次, or the page views of an online activity ("浏览 5000")."""
    if row.online:
        return f"浏览 {row.views}"
    return str(row.attend)


def _chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _display(row: LedgerRow, key: str) -> str:
    if key == "start_date":
        return format_dates(row.start_date, row.end_date)
    if key == "title":
        return row.title
    if key == "form":
        return row.form
    if key == "campaign":
        return row.campaign
    if key == "village":
        return row.village
    if key == "attend":
        return format_attend(row)
    if key == "groups":
        return row.groups
    if key == "spending":
        return format_fen(row.spending_fen)
    if key == "evidence":
        return str(row.evidence) if row.evidence else "缺"
    if key == "status":
        return "已上报" if row.locked else ""
    raise KeyError(key)


def _tooltip(row: LedgerRow, key: str) -> str | None:
    if key == "start_date":
        if row.end_date > row.start_date:
            days = (row.end_date - row.start_date).days + 1
            return (f"{_chinese_date(row.start_date)} — {_chinese_date(row.end_date)}，"
                    f"共 {days} 天")
        return _chinese_date(row.start_date)
    if key == "title":
        lines = [row.title]
        if row.address:
            lines.append(f"地点：{row.address}")
        if row.is_training:
            lines.append(f"培训花名册：{row.roster} 人次" if row.roster else "培训：尚未登记花名册")
        return "\n".join(lines)
    if key == "attend":
        if row.online:
            return f"线上活动，按浏览量 {row.views} 统计"
        if row.is_training:
            if row.roster:
                return f"培训：按花名册签到 {row.roster} 人次统计"
            return "培训：尚未登记花名册，按填报的人次统计"
        return None
    if key in ("groups", "village", "campaign") and _display(row, key):
        text = _display(row, key)
        return text if key != "village" or not row.address else f"{text}（{row.address}）"
    if key == "evidence":
        return "缺少佐证材料" if not row.evidence else f"佐证材料 {row.evidence} 个"
    if key == "status" and row.locked:
        return f"{row.start_date.year}年{row.start_date.month}月已上报，已锁定，不能修改或删除"
    return None


class LedgerModel(IdRows[LedgerRow], SqlSortedModel):
    """The activities of one office matching a :class:`LedgerFilter`, in SQL order.

    Signals:
        ids_changed: the set or order of rows changed (filter, sort, refresh);
            the page updates its count line and empty state.
    """

    ids_changed = Signal()

    IdRole = ID_ROLE
    RowRole = ROW_ROLE

    def __init__(self, db: Database, office: OfficeInfo, parent: QObject | None = None, *,
                 sort: str = "start_date", descending: bool = True) -> None:
        super().__init__(COLUMNS, parent, sort=sort if sort in COLUMN_KEYS else "start_date",
                         descending=descending)
        self._db = db
        self._office = office
        self._filter = LedgerFilter()
        self._ids: list[str] = []
        self._rows: dict[str, LedgerRow | None] = {}  # None: the id no longer exists
        self._total = 0
        self.refresh()

    # -- what is shown -----------------------------------------------------------------

    @property
    def filter(self) -> LedgerFilter:
        """The current filter."""
        return self._filter

    def set_filter(self, flt: LedgerFilter) -> None:
        """Show the activities matching ``flt`` (selection kept by id)."""
        if flt == self._filter:
            return
        self._filter = flt
        self._reload_ids()

    def _count_all(self) -> int:
        with self._db.session() as session:
            return ledger_count(session, self._office.id)

    def drop_cache(self) -> None:
        """Forget the fetched rows; they are fetched again when next shown."""
        self._rows.clear()

    def _load_rows(self, ids: list[str]) -> list[LedgerRow]:
        with self._db.session() as session:
            return ledger_rows(session, self._office.id, ids)

    def _query_ids(self) -> list[str]:
        with self._db.session() as session:
            return ledger_ids(session, self._office.id, self._filter, self._sort,
                              self._descending)

    def _reload_ids(self) -> None:
        self._set_ids(self._query_ids())
        self.ids_changed.emit()

    # -- QAbstractTableModel -------------------------------------------------------------

    def header_tooltip(self, column: int) -> str:
        """Every header sorts; the context menu chooses the columns."""
        return f"按“{COLUMNS[column].title}”排序；右键选择显示的列"

    def data(self, index: ModelIndex, role: int = DISPLAY) -> Any:
        # Called for every role of every visible cell on each paint: cheap exits first.
        if role not in _ROLES or not index.isValid():
            return None
        number, col = index.row(), index.column()
        if number >= len(self._ids) or col >= len(COLUMNS):
            return None
        if role == ID_ROLE:
            return self._ids[number]
        column = COLUMNS[col]
        if role == ALIGNMENT:
            return column.align
        row = self._rows.get(self._ids[number], _MISSING)
        if row is _MISSING:
            row = self.row_at(number)
        if row is None:
            if role == DISPLAY and column.key == "title":
                return "（该活动已被删除，请刷新）"
            return None
        assert isinstance(row, LedgerRow)
        if role == DISPLAY:
            return _display(row, column.key)
        if role == FOREGROUND:
            if column.key == "evidence" and not row.evidence:
                return WARNING_COLOR
            if column.key == "status" and row.locked:
                return LOCKED_COLOR
            return None
        if role == TOOLTIP:
            return _tooltip(row, column.key)
        return row  # ROW_ROLE
