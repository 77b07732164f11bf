"""Automatic, verified backups with rotation, and restoring one.

A backup is a verified copy of the database file (SQLite online backup API, then
``PRAGMA integrity_check`` of the copy) in ``backups/`` beside the database, plus
the attachment files it references, kept once each in ``backups/files/``
(content-addressed like the store, so a photo is copied only the first time).

Rotation keeps every backup of the last two days, the newest of each day for 14
days and the newest of each month for 12 months; attachment copies no remaining
backup refers to are then removed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from db.database import (
    BACKUP_DISK_FULL,
    backup_file,
    integrity_of,
    is_disk_full,
    read_schema_info,
)
from db.errors import DatabaseFileError, KepuError
from db.paths import attachment_dir_for, backup_dir_for

KEEP_ALL_DAYS = 2
KEEP_DAILY = 14
KEEP_MONTHLY = 12
FILES_DIR = "files"
LEFTOVER_AGE_S = 24 * 3600  # an unfinished copy older than this was cut short by a crash
_NAME = re.compile(r"^(?P<stem>.+)-(?P<stamp>\d{8}-\d{6})-(?P<reason>[\w-]+)\.sqlite$")
REASON_LABELS = {
    "daily": "每日自动备份",
    "manual": "手动备份",
    "import": "导入前",
    "submit": "上报前",
    "restore": "恢复前",
    "upgrade": "升级前",
}

Progress = Callable[[int, str], None]


@dataclass(frozen=True)
class BackupInfo:
    """One backup file and what it holds."""

    path: Path
    created: dt.datetime
    reason: str
    size: int
    activities: int | None = None  # None: could not be read
    trainees: int | None = None
    attachments: int | None = None
    revision: str | None = None

    @property
    def reason_label(self) -> str:
        base = self.reason.split("-")[0]
        return REASON_LABELS.get(self.reason, REASON_LABELS.get(base, self.reason))


def _parse_name(path: Path) -> tuple[dt.datetime, str] | None:
    m = _NAME.match(path.name)
    if not m:
        return None
    return dt.datetime.strptime(m["stamp"], "%Y%m%d-%H%M%S"), m["reason"]


def _referenced_files(sqlite_path: Path) -> set[str]:
    con = sqlite3.connect(f"{sqlite_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT path, original_path FROM attachment").fetchall()
    except sqlite3.DatabaseError:
        return set()
    finally:
        con.close()
    return {p for row in rows for p in row if p}


def _copy_attachments(db_path: Path, backup: Path, dest: Path) -> int:
    """Copy the attachment files ``backup`` references into ``dest`` (once each)."""
    store = attachment_dir_for(db_path)
    copied = 0
    for rel in sorted(_referenced_files(backup)):
        target = dest / rel
        if target.exists():
            continue
        source = store / rel
        if not source.exists():
            continue  # a missing file is reported by collect_garbage, not fatal here
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        try:
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
        except OSError:
            tmp.unlink(missing_ok=True)  # a half-written copy (full disk) is not kept
            raise
        copied += 1
    return copied


def make_backup(db_path: Path, reason: str = "manual", *,
                progress: Progress | None = None) -> BackupInfo:
    """A verified backup of the database and its attachments in ``backups/``.

    Raises:
        KepuError: the copy could not be written or did not verify (nothing kept).
    """
    folder = backup_dir_for(db_path)
    if progress:
        progress(10, "正在备份数据库…")
    path = backup_file(db_path, folder, reason=reason)
    try:
        if progress:
            progress(60, "正在备份佐证材料…")
        _copy_attachments(db_path, path, folder / FILES_DIR)
    except OSError as err:
        path.unlink(missing_ok=True)
        if is_disk_full(err):
            raise KepuError(BACKUP_DISK_FULL) from err
        raise KepuError(f"备份佐证材料失败：{err.strerror or err}") from err
    if progress:
        progress(100, "备份完成")
    return describe(path)


def describe(path: Path) -> BackupInfo:
    """What a backup file holds (counts read read-only; None if unreadable)."""
    parsed = _parse_name(path)
    created, reason = parsed if parsed else (
        dt.datetime.fromtimestamp(path.stat().st_mtime), "manual")
    counts: list[int | None] = [None, None, None]
    revision = None
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            counts = [con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                      for t in ("activity", "trainee", "attachment")]
            revision = con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        finally:
            con.close()
    except sqlite3.DatabaseError:
        pass
    return BackupInfo(path, created, reason, path.stat().st_size, *counts, revision=revision)


def list_backups(db_path: Path) -> list[BackupInfo]:
    """The backups of a database, newest first."""
    folder = backup_dir_for(db_path)
    if not folder.is_dir():
        return []
    found = [describe(p) for p in folder.glob("*.sqlite") if _parse_name(p)]
    return sorted(found, key=lambda b: b.created, reverse=True)


def daily_backup_due(db_path: Path, today: dt.date | None = None) -> bool:
    """Whether today's first-session backup has not been made yet."""
    today = today or dt.date.today()
    folder = backup_dir_for(db_path)
    if not folder.is_dir():
        return True
    return not any(
        parsed and parsed[0].date() == today and parsed[1] == "daily"
        for parsed in (_parse_name(p) for p in folder.glob("*-daily.sqlite"))
    )


def ensure_daily_backup(db_path: Path, today: dt.date | None = None) -> BackupInfo | None:
    """Make the day's backup if it is due, then rotate; returns it (or None)."""
    if not db_path.exists() or not daily_backup_due(db_path, today):
        return None
    info = make_backup(db_path, "daily")
    rotate_backups(db_path, today=today)
    return info


def rotate_backups(db_path: Path, today: dt.date | None = None) -> list[Path]:
    """Delete backups the policy no longer keeps; returns the removed files."""
    today = today or dt.date.today()
    backups = [b for b in list_backups(db_path)]  # newest first
    keep: set[Path] = set()
    days: list[dt.date] = []
    months: list[tuple[int, int]] = []
    for b in backups:
        day = b.created.date()
        if (today - day).days < KEEP_ALL_DAYS:
            keep.add(b.path)
        if day not in days:
            days.append(day)
            if len(days) <= KEEP_DAILY:
                keep.add(b.path)
        month = (day.year, day.month)
        if month not in months:
            months.append(month)
            if len(months) <= KEEP_MONTHLY:
                keep.add(b.path)
    removed = []
    for b in backups:
        if b.path not in keep:
            b.path.unlink(missing_ok=True)
            removed.append(b.path)
    if removed:
        _prune_files(db_path)
    _remove_leftovers(db_path)
    return removed


def _remove_leftovers(db_path: Path) -> None:
    """Delete unfinished copies (``.part``) that a crash or power cut left behind.

    A backup killed half-way leaves its temporary file, as large as the database; only
    those older than :data:`LEFTOVER_AGE_S` go, so a backup under way is not touched.
    """
    folder = backup_dir_for(db_path)
    cutoff = time.time() - LEFTOVER_AGE_S
    for pattern in ("*.part", "*.part-journal", f"{FILES_DIR}/**/*.part"):
        for leftover in folder.glob(pattern):
            with contextlib.suppress(OSError):
                if leftover.is_file() and leftover.stat().st_mtime < cutoff:
                    leftover.unlink()


def _prune_files(db_path: Path) -> None:
    folder = backup_dir_for(db_path)
    files = folder / FILES_DIR
    if not files.is_dir():
        return
    wanted: set[str] = set()
    for b in folder.glob("*.sqlite"):
        wanted |= _referenced_files(b)
    for path in files.rglob("*"):
        if path.is_file() and path.relative_to(files).as_posix() not in wanted:
            path.unlink(missing_ok=True)


def restore_backup(db_path: Path, backup: Path, *, progress: Progress | None = None) -> Path:
    """Replace the database with a backup; the current file is kept aside first.

    The backup is verified before anything is touched, the current database is
    backed up (reason ``restore``) and also moved aside as
    ``<name>.before-restore-<time>``; attachment files the backup needs are copied
    back into the store. The program must not have the database open.

    Returns:
        Where the replaced database was kept.

    Raises:
        DatabaseFileError: the backup is damaged or not a 科普台账 database.
    """
    read_schema_info(backup)  # refuses foreign / newer files
    result = integrity_of(backup)
    if result != "ok":
        raise DatabaseFileError(f"备份文件“{backup.name}”已损坏（{result}），不能用来恢复")
    if progress:
        progress(10, "正在备份当前数据库…")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = db_path.with_name(f"{db_path.name}.before-restore-{stamp}")
    n = 2
    while aside.exists():  # two restores within one second: keep both earlier files
        aside = db_path.with_name(f"{db_path.name}.before-restore-{stamp}-{n}")
        n += 1
    if db_path.exists():
        try:
            make_backup(db_path, "restore")
            _checkpoint(db_path)
        except (KepuError, sqlite3.Error):
            pass  # a damaged current file cannot be copied: it is still kept aside below
        os.replace(db_path, aside)
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(str(db_path) + suffix).unlink()
    if progress:
        progress(50, "正在恢复数据库…")
    tmp = db_path.with_name(db_path.name + ".restoring")
    shutil.copyfile(backup, tmp)
    os.replace(tmp, db_path)
    if progress:
        progress(80, "正在恢复佐证材料…")
    store = attachment_dir_for(db_path)
    files = backup_dir_for(db_path) / FILES_DIR
    for rel in _referenced_files(db_path):
        target = store / rel
        source = files / rel
        if not target.exists() and source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    if progress:
        progress(100, "恢复完成")
    return aside


def _checkpoint(db_path: Path) -> None:
    """Fold the write-ahead log into the file so moving it loses nothing."""
    con = sqlite3.connect(db_path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
