"""The program's version, read from the installed package metadata (no Qt)."""

from __future__ import annotations

import platform
from importlib import metadata

APP_NAME = "科普台账"


def app_version() -> str:
    """The version of the kepu-taizhang package, or "开发版" when not installed."""
    try:
        return metadata.version("kepu-taizhang")
    except metadata.PackageNotFoundError:
        return "开发版"


def version_text() -> str:
    """One line for ``kepu --version``."""
    from db.database import head_revision

    return (f"{APP_NAME} {app_version()}（数据结构版本 {head_revision()}，"
            f"Python {platform.python_version()}）")
