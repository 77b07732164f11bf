"""Small helpers shared by the GUI tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QInputMethodEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget


def drop_files(widget: QWidget, files: list[Path]) -> None:
    """What the file manager sends when files are dropped onto ``widget``; both accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f)) for f in files])
    pos = widget.rect().center()
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    assert drop.isAccepted()


def type_text(qtbot: Any, widget: QWidget, text: str) -> None:
    """Type like a user: ASCII as key clicks, Chinese as an input method commits it.

    (QTest.keyClicks cannot type Chinese: it aborts the process; Chinese reaches a
    widget as a QInputMethodEvent commit string from the IME.)
    """
    widget.setFocus()
    for ch in text:
        if ch.isascii():
            qtbot.keyClicks(widget, ch)
        else:
            event = QInputMethodEvent()
            event.setCommitString(ch)
            QApplication.sendEvent(widget, event)


class Boxes:
    """QMessageBox static calls recorded instead of shown; ``question`` answers ``answer``."""

    KINDS = ("information", "warning", "critical", "question", "about")

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, str]] = []
        self.answer = QMessageBox.StandardButton.Yes
        for kind in self.KINDS:
            monkeypatch.setattr(QMessageBox, kind, self._recorder(kind))

    def _recorder(self, kind: str) -> Any:
        def record(_parent: Any, _title: str, text: str, *_args: Any) -> Any:
            self.calls.append((kind, text))
            return self.answer if kind == "question" else QMessageBox.StandardButton.Ok

        return record
