"""Backup schedule and the extra (USB) folder: db.backup_settings."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from db.backup_settings import (
    BackupSettings,
    auto_backup_due,
    get_backup_settings,
    read_backup_settings,
    run_scheduled_backup,
    set_backup_settings,
)
from db.backups import list_backups, make_backup
from db.database import Database, check_file
from db.errors import ValidationError
from db.paths import backup_dir_for


def fake_backup(db: Database, day: dt.date, reason: str = "daily") -> Path:
    """A backup file named as if made on ``day``."""
    real = make_backup(db.path, "manual").path
    name = f"{db.path.stem}-{day:%Y%m%d}-090000-{reason}.sqlite"
    return real.rename(real.with_name(name))


def settings(db: Database) -> BackupSettings:
    with db.session() as s:
        return get_backup_settings(s)


def test_defaults_and_round_trip(db: Database, tmp_path: Path) -> None:
    assert settings(db) == BackupSettings("daily", None)
    assert read_backup_settings(db.path) == BackupSettings("daily", None)
    usb = tmp_path / "usb"
    usb.mkdir()
    set_backup_settings(db, "weekly", usb)
    assert settings(db) == BackupSettings("weekly", usb.resolve())
    assert read_backup_settings(db.path) == BackupSettings("weekly", usb.resolve())
    set_backup_settings(db, "off", None)
    assert settings(db) == BackupSettings("off", None)
    assert read_backup_settings(db.path).schedule == "off"


def test_validation(db: Database, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="自动备份方式"):
        set_backup_settings(db, "hourly", None)
    with pytest.raises(ValidationError, match="不存在") as info:
        set_backup_settings(db, "daily", tmp_path / "nowhere")
    assert info.value.field == "另存一份到"
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(ValidationError, match="不是文件夹"):
        set_backup_settings(db, "daily", a_file)
    assert settings(db) == BackupSettings()  # nothing stored


def test_daily_schedule(db: Database) -> None:
    today = dt.date.today()
    assert auto_backup_due(db.path, "daily", today)
    fake_backup(db, today - dt.timedelta(days=1))
    assert auto_backup_due(db.path, "daily", today)
    result = run_scheduled_backup(db.path, today)
    assert result.made is not None and result.made.reason == "daily"
    assert check_file(result.made.path).ok
    assert result.extra_copy is None and result.warning == ""
    assert not auto_backup_due(db.path, "daily", today)
    assert run_scheduled_backup(db.path, today).made is None  # once a day
    # A manual backup does not count as the day's automatic one.
    assert auto_backup_due(db.path, "daily", today + dt.timedelta(days=1))


def test_weekly_schedule(db: Database) -> None:
    today = dt.date.today()
    set_backup_settings(db, "weekly", None)
    fake_backup(db, today - dt.timedelta(days=6))
    assert not auto_backup_due(db.path, "weekly", today)
    assert run_scheduled_backup(db.path, today).made is None
    assert auto_backup_due(db.path, "weekly", today + dt.timedelta(days=1))
    assert auto_backup_due(db.path, "daily", today)  # daily would want one today
    # A manual backup does not count either.
    fake_backup(db, today - dt.timedelta(days=1), reason="manual")
    later = today + dt.timedelta(days=1)
    assert auto_backup_due(db.path, "weekly", later)


def test_weekly_made_when_last_is_old(db: Database) -> None:
    today = dt.date.today()
    set_backup_settings(db, "weekly", None)
    fake_backup(db, today - dt.timedelta(days=7))
    result = run_scheduled_backup(db.path, today)
    assert result.made is not None
    assert not auto_backup_due(db.path, "weekly", today + dt.timedelta(days=6))


def test_off_schedule(db: Database) -> None:
    set_backup_settings(db, "off", None)
    assert not auto_backup_due(db.path, "off", dt.date.today())
    assert run_scheduled_backup(db.path).made is None
    assert list_backups(db.path) == []


def test_extra_folder_gets_verified_copy(db: Database, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    set_backup_settings(db, "daily", usb)
    result = run_scheduled_backup(db.path)
    assert result.made is not None and result.warning == ""
    assert result.extra_copy == usb.resolve() / result.made.path.name
    assert result.extra_copy.read_bytes() == result.made.path.read_bytes()
    con = sqlite3.connect(result.extra_copy)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    assert not list(usb.glob("*.part"))


def test_missing_or_unwritable_extra_folder_only_warns(db: Database, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    set_backup_settings(db, "daily", usb)
    usb.rmdir()  # the stick was pulled out
    result = run_scheduled_backup(db.path)
    assert result.made is not None and result.made.path.exists()
    assert result.extra_copy is None
    assert "备份已完成" in result.warning and "不存在" in result.warning

    # A path that cannot be written to (here: a file where the folder should be).
    usb.write_text("not a folder")
    for b in backup_dir_for(db.path).glob("*-daily.sqlite"):
        b.unlink()
    result = run_scheduled_backup(db.path)
    assert result.made is not None and result.made.path.exists()
    assert result.extra_copy is None and "不是文件夹" in result.warning


def test_no_database_no_backup(tmp_path: Path) -> None:
    assert run_scheduled_backup(tmp_path / "none.sqlite").made is None
