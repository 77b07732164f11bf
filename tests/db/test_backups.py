"""Verified backups with attachments, rotation, listing and restoring."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from db.activities import ActivityInput, create_activity
from db.attachments import add_attachments, store_dir
from db.backups import (
    daily_backup_due,
    ensure_daily_backup,
    list_backups,
    make_backup,
    restore_backup,
    rotate_backups,
)
from db.catalogs import find_entry
from db.database import Database, check_file, open_database
from db.errors import DatabaseFileError
from db.offices import OfficeInfo
from db.paths import backup_dir_for


def _activity(db: Database, office: OfficeInfo, title: str) -> str:
    with db.session() as s:
        form = find_entry(s, "form", "讲座").id
    day = dt.date(2025, 9, 16)
    return create_activity(db, office, ActivityInput(title, day, day, form, attend=10))


def test_backup_holds_database_and_attachments(db: Database, office: OfficeInfo,
                                               tmp_path: Path) -> None:
    aid = _activity(db, office, "讲座")
    doc = tmp_path / "签到表.pdf"
    doc.write_bytes(b"%PDF-1.4 sign-in sheet")
    [info] = add_attachments(db, activity_id=aid, files=[doc])
    backup = make_backup(db.path, "manual")
    assert check_file(backup.path).integrity == "ok"
    assert (backup.activities, backup.attachments, backup.reason_label) == (1, 1, "手动备份")
    copy = backup_dir_for(db.path) / "files" / info.path
    assert copy.read_bytes() == doc.read_bytes()
    assert [b.path for b in list_backups(db.path)] == [backup.path]


def test_backups_within_one_second_keep_each_other(db: Database, office: OfficeInfo,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import db.database as database

    monkeypatch.setattr(database, "_timestamp", lambda: "20250916-101500")
    first = make_backup(db.path, "import")
    _activity(db, office, "讲座")
    second = make_backup(db.path, "import")
    assert first.path != second.path and first.path.exists() and second.path.exists()
    assert second.path.name.endswith("-20250916-101500-import-2.sqlite")
    assert (first.activities, second.activities) == (0, 1)
    assert {b.reason_label for b in list_backups(db.path)} == {first.reason_label}


def test_daily_backup_once_a_day(db: Database) -> None:
    today = dt.date.today()
    assert daily_backup_due(db.path, today)
    assert ensure_daily_backup(db.path, today) is not None
    assert not daily_backup_due(db.path, today)
    assert ensure_daily_backup(db.path, today) is None


def _fake_backup(db: Database, when: dt.datetime, reason: str = "daily") -> Path:
    path = backup_dir_for(db.path) / f"kepu-{when:%Y%m%d-%H%M%S}-{reason}.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(db.path.read_bytes())
    return path


def test_rotation_keeps_14_daily_and_12_monthly(db: Database) -> None:
    today = dt.date(2026, 11, 25)
    made = []
    for days_ago in range(0, 500, 1):  # one backup a day for 500 days
        when = dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(9, 0))
        made.append(_fake_backup(db, when))
    extra = _fake_backup(db, dt.datetime(2026, 11, 25, 8, 0), "import")  # earlier today
    rotate_backups(db.path, today=today)
    kept = {b.path for b in list_backups(db.path)}
    days = sorted({b.created.date() for b in list_backups(db.path)}, reverse=True)
    assert extra in kept  # everything of the last two days stays
    assert days[:14] == [today - dt.timedelta(days=i) for i in range(14)]
    months = {(d.year, d.month) for d in days}
    assert len(months) == 12
    assert len(kept) == 14 + 1 + (12 - 1)  # 14 days (+1 same-day) + older months


def test_restore_replaces_database_and_keeps_the_current_one(db: Database, office: OfficeInfo,
                                                             tmp_path: Path) -> None:
    aid = _activity(db, office, "备份时已有")
    doc = tmp_path / "photo.pdf"
    doc.write_bytes(b"%PDF-1.4 evidence")
    [info] = add_attachments(db, activity_id=aid, files=[doc])
    backup = make_backup(db.path, "manual")
    _activity(db, office, "备份之后才加")
    (store_dir(db) / info.path).unlink()  # the file got lost too
    db.close()
    aside = restore_backup(db.path, backup.path)
    assert aside.exists()
    reopened = open_database(db.path)
    with reopened.session() as s:
        from db.models import Activity

        assert [a.title for a in s.query(Activity)] == ["备份时已有"]
    assert (store_dir(reopened) / info.path).read_bytes() == doc.read_bytes()
    reopened.close()
    kept = open_database(aside)
    with kept.session() as s:
        assert s.query(Activity).count() == 2
    kept.close()
    assert any(b.reason == "restore" for b in list_backups(db.path))


def test_a_damaged_backup_is_refused_and_nothing_changes(db: Database, tmp_path: Path) -> None:
    bad = tmp_path / "kepu-20251101-090000-daily.sqlite"
    bad.write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
    db.close()
    before = db.path.read_bytes()
    with pytest.raises(DatabaseFileError):
        restore_backup(db.path, bad)
    assert db.path.read_bytes() == before
