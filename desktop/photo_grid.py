"""What the evidence panel and a site's photos share: a grid of thumbnails, and files dropped on it.

:func:`thumbnail_list` builds the icon grid; :class:`LocalFileDrops` lets the
widget around it take local files dragged from the file manager.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget


def thumbnail_list(name: str, thumb: QSize, grid: QSize) -> QListWidget:
    """A static grid of ``thumb``-sized icons with their names under them.

    Several items can be selected at once; drops go to the widget around the
    list (see :class:`LocalFileDrops`), not to the list.
    """
    view = QListWidget()
    view.setObjectName(name)
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setMovement(QListView.Movement.Static)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setIconSize(thumb)
    view.setGridSize(grid)
    view.setWordWrap(True)
    view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    view.setAcceptDrops(False)
    return view


class LocalFileDrops:
    """Local files dropped on the widget go to its ``add_files``.

    Mixed into a QWidget (listed before it) that calls ``setAcceptDrops(True)``;
    :meth:`_accepts_files` says whether files can be added now.
    """

    def add_files(self, paths: Sequence[Path]) -> None:  # pragma: no cover - per widget
        raise NotImplementedError

    def _accepts_files(self) -> bool:
        """Whether dropped files are taken now (not while busy, say)."""
        return True

    @staticmethod
    def _local_files(event: QDragEnterEvent | QDropEvent) -> list[Path]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept local files."""
        if self._accepts_files() and self._local_files(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:
        """Keep accepting while dragging over."""
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Add the dropped files."""
        files = self._local_files(event)
        if not files or not self._accepts_files():
            event.ignore()
            return
        event.acceptProposedAction()
        self.add_files(files)
