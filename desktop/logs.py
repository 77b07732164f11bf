"""The program's log file: warnings and errors with tracebacks, for bug reports."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from db.paths import data_dir

LOG_FILE_NAME = "kepu.log"


class LogFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file that, with its folder, is created only when something is logged."""

    def _open(self):  # type: ignore[no-untyped-def]
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()


def log_file() -> Path | None:
    """The file the program logs to, if logging to a file was set up (by the CLI or here)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler) and handler.baseFilename != os.devnull:
            return Path(handler.baseFilename)
    return None


def setup_logging(folder: Path | None = None) -> Path:
    """Log warnings and errors to ``kepu.log`` in ``folder`` (default: the data folder).

    Nothing is created until something is logged, so a first run the user
    cancels leaves no trace. If a log file is already set up (``kepu`` sets one
    up before it starts the GUI), that one is kept.
    """
    existing = log_file()
    if existing is not None:
        return existing
    path = (folder or data_dir()) / LOG_FILE_NAME
    handler = LogFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8",
                             delay=True)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return path
