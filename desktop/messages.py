"""Showing errors to the user the same way everywhere.

Errors the user can act on (:class:`db.errors.KepuError`) are shown as they are;
anything else is a bug: it is logged with its traceback and the user is told
"程序错误，已记录日志" and where the log is.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from db.errors import KepuError
from desktop.logs import log_file

APP_TITLE = "科普台账"
BUG_MESSAGE = "程序错误，已记录日志"


def show_error(parent: QWidget | None, err: KepuError) -> None:
    """Show an error the user can act on, with its Chinese message as is."""
    QMessageBox.warning(parent, APP_TITLE, str(err))


def show_bug(parent: QWidget | None) -> None:
    """Tell the user that something went wrong in the program (already logged)."""
    text = BUG_MESSAGE
    path = log_file()
    if path is not None:
        text += f"。\n\n日志文件：{path}"
    QMessageBox.critical(parent, APP_TITLE, text)
