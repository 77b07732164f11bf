"""The one helper for long work off the GUI thread (backup, import, export ...).

The work is a plain Python callable that knows nothing about Qt::

    def work(progress: Progress, is_cancelled: IsCancelled) -> Path:
        progress(10, "正在复制…")
        if is_cancelled():
            raise Cancelled
        ...
        return dest

    run_in_background(window, work, on_done=lambda dest: ..., title="备份数据库")

It runs in a :class:`QThread`; ``progress(percent, message)`` reaches a
window-modal :class:`QProgressDialog` (shown only if the work takes longer than
:data:`SHOW_AFTER_MS`) through a queued signal, and the outcome is delivered on
the GUI thread: the result to ``on_done``, a :class:`KepuError` as a message
box, :class:`Cancelled` to ``on_cancelled``, anything else logged and shown as
"程序错误，已记录日志".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QShortcut
from PySide6.QtWidgets import QProgressBar, QProgressDialog, QPushButton, QWidget

from db.errors import KepuError
from desktop import messages

log = logging.getLogger(__name__)

T = TypeVar("T")
Progress = Callable[[int, str], None]
"""``progress(percent, message)``; a negative percent means "busy, no estimate"."""
IsCancelled = Callable[[], bool]

SHOW_AFTER_MS = 300


class Cancelled(Exception):  # noqa: N818 - reads better at the raise site
    """Raised by the work when it notices ``is_cancelled()`` and stops early."""


class _WorkerThread(QThread):
    """Runs the callable; the outcome is read on the GUI thread once it finished."""

    progressed = Signal(int, str)

    def __init__(self, fn: Callable[[Progress, IsCancelled], Any],
                 cancel_event: threading.Event, parent: QObject) -> None:
        super().__init__(parent)
        self._fn = fn
        self._cancel_event = cancel_event
        self._last_progress: tuple[int, str] | None = None
        self.outcome: str = "bug"  # ok / cancelled / error / bug
        self.value: Any = None

    def _progress(self, percent: int, message: str = "") -> None:
        update = (int(percent), str(message))
        if update != self._last_progress:  # don't flood the GUI with repeats
            self._last_progress = update
            self.progressed.emit(*update)

    def run(self) -> None:
        try:
            self.value = self._fn(self._progress, self._cancel_event.is_set)
            self.outcome = "ok"
        except Cancelled:
            self.outcome = "cancelled"
        except KepuError as err:
            self.outcome, self.value = "error", err
        except Exception as err:  # noqa: BLE001 - a bug: logged here, shown on the GUI thread
            log.exception("后台任务出错")
            self.outcome, self.value = "bug", err


class _ProgressDialog(QProgressDialog):
    """A progress dialog whose 取消 (button, Esc or close) asks the work to stop.

    A plain QProgressDialog hides itself at once on cancel (and Esc hides it
    without even cancelling) while the work goes on; this one stays up saying
    "正在取消…" until the work has really stopped.
    """

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None, title: str, label: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setLabelText(label)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setMinimumWidth(360)
        self.bar = QProgressBar(self)
        self.setBar(self.bar)
        self.cancel_button = QPushButton("取消", self)
        self.setCancelButton(self.cancel_button)
        # Replace QProgressDialog's own "clicked → canceled → cancel() (hide)",
        # and its Esc shortcut, so Esc goes to reject() below.
        self.cancel_button.clicked.disconnect()
        self.cancel_button.clicked.connect(self._request_cancel)
        for shortcut in self.findChildren(QShortcut):
            shortcut.setEnabled(False)
        # Any other way QProgressDialog cancels (it hides itself): undo the hiding.
        self.canceled.connect(self._request_cancel)
        self.setRange(0, 100)
        self.setMinimumDuration(SHOW_AFTER_MS)
        self.setValue(0)  # starts the timer that shows the dialog after SHOW_AFTER_MS

    @Slot(int, str)
    def update_progress(self, percent: int, message: str) -> None:
        if not self.cancel_button.isEnabled():
            return  # already cancelling; keep saying so
        if message:
            self.setLabelText(message)
        if percent < 0:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 100)
            # The bar directly: QProgressDialog.setValue() would process events
            # re-entrantly here, in a slot.
            self.bar.setValue(min(percent, 100))

    @Slot()
    def _request_cancel(self) -> None:
        if not self.cancel_button.isEnabled():
            return
        self.cancel_button.setEnabled(False)
        self.setLabelText("正在取消，请稍候…")
        self.bar.setRange(0, 0)
        if self.isHidden() and self.wasCanceled():
            self.show()  # QProgressDialog.cancel() hid it; keep it up until the work stops
        self.cancel_requested.emit()

    def reject(self) -> None:  # Esc
        self._request_cancel()

    def closeEvent(self, event: Any) -> None:  # the window's close button
        event.ignore()
        self._request_cancel()


class BackgroundJob(QObject, Generic[T]):
    """One piece of work running off the GUI thread; see :func:`run_in_background`.

    ``finished`` is emitted on the GUI thread after the outcome was delivered
    (tests wait for it with ``qtbot.waitSignal(job.finished)``). ``outcome`` is
    then "ok", "cancelled", "error" or "bug".
    """

    finished = Signal()

    def __init__(self, parent: QWidget, fn: Callable[[Progress, IsCancelled], T],
                 on_done: Callable[[T], None], *, title: str, label: str,
                 on_cancelled: Callable[[], None] | None = None) -> None:
        super().__init__(parent)
        self._parent_widget = parent
        self._on_done = on_done
        self._on_cancelled = on_cancelled
        self._cancel_event = threading.Event()
        self._running = True
        self.outcome: str | None = None
        self.dialog = _ProgressDialog(parent, title, label)
        self.dialog.cancel_requested.connect(self.cancel)
        self._thread = _WorkerThread(fn, self._cancel_event, self)
        self._thread.progressed.connect(self.dialog.update_progress)
        self._thread.finished.connect(self._deliver)
        self._thread.start()

    def is_running(self) -> bool:
        """False once the outcome has been delivered."""
        return self._running

    @Slot()
    def cancel(self) -> None:
        """Ask the work to stop (it checks ``is_cancelled()``)."""
        self._cancel_event.set()

    @Slot()
    def _deliver(self) -> None:
        self._thread.wait()  # `finished` comes just before the thread really ends
        self.dialog.reset()  # stops its show-after-300-ms timer
        self.dialog.hide()  # not close(): its closeEvent means "cancel"
        self.dialog.deleteLater()
        outcome, value = self._thread.outcome, self._thread.value
        self.outcome = outcome
        parent = self._parent_widget
        try:
            if outcome == "ok":
                self._on_done(value)
            elif outcome == "cancelled":
                if self._on_cancelled is not None:
                    self._on_cancelled()
            elif outcome == "error":
                messages.show_error(parent, value)
            else:
                messages.show_bug(parent)
        finally:
            self._running = False
            self._thread.deleteLater()
            # The job itself stays, a small child of the parent, so whoever holds
            # it (or is connected to ``finished``) never touches a deleted object.
            self.finished.emit()


def run_in_background(parent: QWidget, fn: Callable[[Progress, IsCancelled], T],
                      on_done: Callable[[T], None], *, title: str = "请稍候",
                      label: str = "正在处理…",
                      on_cancelled: Callable[[], None] | None = None) -> BackgroundJob[T]:
    """Run ``fn(progress, is_cancelled)`` in a thread, with a progress dialog.

    Args:
        parent: the window the progress dialog is modal to; it owns the job, so
            it must not be destroyed while the job runs (see ``is_running``).
        fn: plain Python, no Qt; reports with ``progress(percent, message)``,
            may stop early by raising :class:`Cancelled` when ``is_cancelled()``.
        on_done: called on the GUI thread with the result. A result is delivered
            even after 取消 if ``fn`` finished anyway.
        title: the progress dialog's title.
        label: its first message.
        on_cancelled: called on the GUI thread if ``fn`` raised :class:`Cancelled`.

    Returns:
        The running job.

    """
    return BackgroundJob(parent, fn, on_done, title=title, label=label,
                         on_cancelled=on_cancelled)
