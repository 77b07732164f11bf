"""Where the data lives: the user's data folder, or ``--db`` / ``KEPU_DB``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_DIR_NAME = "kepu"
DB_FILE_NAME = "kepu.sqlite"


def data_dir() -> Path:
    """The per-user data folder (not created here).

    Windows: ``%LOCALAPPDATA%\\kepu``; macOS: ``~/Library/Application Support/kepu``;
    elsewhere ``$XDG_DATA_HOME/kepu`` or ``~/.local/share/kepu``.
    """
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.environ.get("APPDATA")
        root = Path(base) if base else Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        root = Path.home() / "Library" / "Application Support"
    else:
        xdg = os.environ.get("XDG_DATA_HOME")
        root = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return root / APP_DIR_NAME


def default_db_path() -> Path:
    """The database used when neither ``--db`` nor ``KEPU_DB`` is given."""
    return data_dir() / DB_FILE_NAME


def resolve_db_path(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """``--db`` wins over ``KEPU_DB``, which wins over the default file."""
    if cli_value:
        return Path(cli_value).expanduser()
    env = os.environ.get("KEPU_DB")
    if env:
        return Path(env).expanduser()
    return default_db_path()


def backup_dir_for(db_path: Path) -> Path:
    """Backups of a database go into ``backups/`` beside the file."""
    return db_path.parent / "backups"


def attachment_dir_for(db_path: Path) -> Path:
    """The attachment store of a database: ``<name>.files/`` beside the file."""
    return db_path.with_name(db_path.name + ".files")
