"""One writer per database: the lock says who holds it; readers stay possible."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from db.database import Database, open_database
from db.errors import KepuError
from db.lock import DatabaseBusyError, DatabaseLock, read_holder

ROOT = Path(__file__).resolve().parents[2]


def test_second_holder_is_told_who_holds_it(db: Database) -> None:
    first = DatabaseLock(db.path, "科普台账图形界面").acquire()
    try:
        with pytest.raises(DatabaseBusyError, match="科普台账图形界面") as err:
            DatabaseLock(db.path, "kepu import 命令").acquire()
        assert err.value.holder["purpose"] == "科普台账图形界面"
        assert read_holder(db.path)["pid"] > 0
    finally:
        first.release()
    with DatabaseLock(db.path, "again"):
        pass


def test_lock_held_by_another_process_and_released_when_it_dies(db: Database) -> None:
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from db.lock import DatabaseLock
        lock = DatabaseLock(Path({str(db.path)!r}), "另一个进程").acquire()
        print("locked", flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        with pytest.raises(DatabaseBusyError, match="另一个进程"):
            DatabaseLock(db.path).acquire()
        with db.session() as s:  # readers are not blocked
            from db.offices import get_office

            assert get_office(s).name == "金井镇"
    finally:
        child.kill()  # a killed holder leaves no stale lock
        child.wait()
        child.stdout.close()  # type: ignore[union-attr]
    with DatabaseLock(db.path):
        pass


def test_read_only_database_refuses_writes(db: Database) -> None:
    db.close()
    ro = open_database(db.path, read_only=True)
    with pytest.raises(KepuError, match="只读"), ro.write():
        pass
    ro.close()
