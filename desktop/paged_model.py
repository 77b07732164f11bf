"""The id-list part shared by the big table models (ledger, trainee register).

A model holds the ordered ids of what it shows (``_ids``) and a cache of plain
rows fetched a page at a time (``_rows``, filled by ``_fetch_page(row)``).
"""

from __future__ import annotations

from typing import Generic, TypeVar

Row = TypeVar("Row")


class IdRows(Generic[Row]):
    """Row ↔ id lookups over ``_ids`` and the row cache ``_rows``."""

    _ids: list[str]
    _rows: dict[str, Row | None]

    def _fetch_page(self, row: int) -> None:  # pragma: no cover - each model has its own
        raise NotImplementedError

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
