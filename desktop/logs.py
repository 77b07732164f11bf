"""The program's log file: warnings and errors with tracebacks, for bug reports."""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
from pathlib import Path

from db.paths import data_dir

LOG_FILE_NAME = "kepu.log"


# Personal numbers that may hide in an exception's text (a value echoed by a library, a
# path named after a person's ID): 18- and 15-digit 身份证号 and mainland mobile numbers.
# Digits inside longer digit runs (ids, timestamps, hashes) are left alone.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])"
                        r"|(?<![0-9A-Za-z])(\d{6})(\d{6})(\d{3})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def redact(text: str) -> str:
    """``text`` with 身份证号 and mobile numbers masked like the screen shows them."""
    def id_number(m: re.Match[str]) -> str:
        if m.group(1):
            return f"{m.group(1)}{'*' * 8}{m.group(3)[-4:]}"
        return f"{m.group(4)}{'*' * 6}{m.group(6)}"

    text = _ID_NUMBER.sub(id_number, text)
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


class RedactingFormatter(logging.Formatter):
    """Formats a record, traceback included, and masks personal numbers in the result.

    The program never logs personal data on purpose; this is the safety net for
    what an exception message may carry.
    """

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


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
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return path
