"""Bundled files: fonts, default catalogs, icons.

Found next to this module in a source checkout or an installed package, and
under ``sys._MEIPASS`` in a PyInstaller bundle (the spec copies this folder).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent


def path(*parts: str) -> Path:
    """The path of a bundled resource, e.g. ``path("fonts", "wqy-microhei.ttc")``."""
    return ROOT.joinpath(*parts)


FONT_SANS = path("fonts", "wqy-microhei.ttc")
CATALOGS = path("catalogs.json")
