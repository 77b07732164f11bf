"""The id-list part shared by the big table models (ledger, trainee register).

A model holds the ordered ids of what it shows (``_ids``, from the model's SQL
query ``_query_ids()``), how many records there are in all (``_total``) and a
cache of plain rows fetched a page at a time (``_rows``, filled by
``_fetch_page(row)`` through the model's ``_load_rows(ids)``), so 20 000 rows
cost one page, never the whole table. ``rowCount()`` is the number of ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, Protocol, TypeVar

from PySide6.QtCore import QAbstractItemModel

from desktop.table_model import swap_rows

PAGE_SIZE = 100  # rows fetched at once when the view first shows one of them
CACHE_LIMIT = 5_000  # rows kept; beyond this the cache starts over


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


Row = TypeVar("Row", bound=_HasId)


class IdRows(Generic[Row]):
    """Row ↔ id lookups over ``_ids`` and the row cache ``_rows``.

    Mixed into a :class:`QAbstractItemModel` (listed before it); the model
    provides ``_count_all()`` (the records there are in all), ``_load_rows(ids)``
    (the plain rows of those ids that still exist) and ``_reload_ids()`` (query
    the ids again and show them with :meth:`_set_ids`).
    """

    _ids: list[str]
    _rows: dict[str, Row | None]  # None: the id no longer exists
    _total: int

    def _count_all(self) -> int:  # pragma: no cover - per model
        raise NotImplementedError

    def _load_rows(self, ids: list[str]) -> Iterable[Row]:  # pragma: no cover - per model
        raise NotImplementedError

    def _reload_ids(self) -> None:  # pragma: no cover - per model
        raise NotImplementedError

    @property
    def total(self) -> int:
        """How many records there are in all (as of the last refresh)."""
        return self._total

    @property
    def ids(self) -> tuple[str, ...]:
        """The ids shown, in order."""
        return tuple(self._ids)

    def refresh(self) -> None:
        """Query again after the data changed: ids, total and rows (selection kept by id)."""
        self._rows.clear()
        self._total = self._count_all()
        self._reload_ids()

    def row_count(self) -> int:
        """How many ids are shown."""
        return len(self._ids)

    def id_at(self, row: int) -> str:
        """The id shown in ``row``."""
        return self._ids[row]

    def row_of(self, record_id: str) -> int | None:
        """The row showing ``record_id``, or None when it is not shown."""
        try:
            return self._ids.index(record_id)
        except ValueError:
            return None

    def row_at(self, row: int) -> Row | None:
        """The plain values of ``row`` (fetched if needed); None if deleted meanwhile."""
        if not 0 <= row < len(self._ids):
            return None
        record_id = self._ids[row]
        if record_id not in self._rows:
            self._fetch_page(row)
        return self._rows.get(record_id)

    def _fetch_page(self, row: int) -> None:
        """Fetch the page of rows around ``row`` (and ``row`` itself) into the cache."""
        start = (row // PAGE_SIZE) * PAGE_SIZE
        wanted = [i for i in self._ids[start:start + PAGE_SIZE] if i not in self._rows]
        if self._ids[row] not in wanted:  # always the row asked for
            wanted.append(self._ids[row])
        if len(self._rows) + len(wanted) > CACHE_LIMIT:
            self._rows.clear()
            wanted = self._ids[start:start + PAGE_SIZE]
        fetched = {r.id: r for r in self._load_rows(wanted)}
        for record_id in wanted:
            self._rows[record_id] = fetched.get(record_id)

    def _set_ids(self, new_ids: list[str]) -> None:
        """Show ``new_ids``, moving the selection and current row by id.

        The same ids in the same order: only their contents may be new.
        """
        assert isinstance(self, QAbstractItemModel)
        if new_ids == self._ids:
            self._all_changed()
            return

        def apply() -> None:
            self._ids = new_ids

        swap_rows(self, self._ids, new_ids, apply)

    def _all_changed(self) -> None:
        """Every shown cell may show something new."""
        assert isinstance(self, QAbstractItemModel)
        if self._ids:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self._ids) - 1, self.columnCount() - 1))
