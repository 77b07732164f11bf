"""Shared test setup: headless Qt, an isolated home, a fresh database per test."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Headless Qt before anything imports it; never touch the real user's data folder.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("KEPU_DB", None)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from db.database import Database, open_database  # noqa: E402
from db.offices import OfficeInfo, create_office  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("LOCALAPPDATA", str(home / "AppData" / "Local"))
    monkeypatch.delenv("KEPU_DB", raising=False)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Path of a database file that does not exist yet."""
    return tmp_path / "data" / "kepu.sqlite"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    """A fresh database with the demo office 金井镇 (350582103, 镇, 常住人口 58000)."""
    database = open_database(db_path, create=True)
    with database.write() as s:
        info = create_office(s, "金井镇", "350582103", "镇", "福建省泉州市晋江市", 58000)
        # the tests live in 2025: the office has used the program since before then, so
        # empty months count as unreported (see db.reporting.MonthState.before_use)
        from db.models import Office

        s.get(Office, info.id).created_at = dt.datetime(2024, 12, 1, 9, 0)
    yield database
    database.close()


@pytest.fixture
def office(db: Database) -> OfficeInfo:
    from db.offices import get_office

    with db.session() as s:
        return get_office(s)
