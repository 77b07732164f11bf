"""How often the automatic backup runs, and an extra folder to copy each backup to.

Both are kept with the data in the ``setting`` table (JSON values):

* ``backup.schedule``: ``"daily"`` (default, 每天首次打开时), ``"weekly"``
  (每周一次) or ``"off"`` (不自动备份; not recommended).
* ``backup.extra_folder``: a folder (e.g. a USB stick) that gets a verified copy
  of every automatic or manual backup file, or absent/None.

:func:`run_scheduled_backup` is what the program calls at start (in a thread):
it reads the settings with a plain read-only sqlite3 connection, makes the
backup if one is due (reason ``daily`` for both schedules, so the existing
“每日自动备份” label and :func:`db.backups.daily_backup_due` stay consistent),
rotates, and copies the new file to the extra folder. A missing or unwritable
extra folder never fails the backup: a warning is returned instead.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from db.backups import BackupInfo, _parse_name, make_backup, rotate_backups
from db.database import Database, integrity_of, is_disk_full
from db.errors import KepuError, ValidationError
from db.models import Setting
from db.paths import backup_dir_for

SCHEDULE_KEY = "backup.schedule"
EXTRA_FOLDER_KEY = "backup.extra_folder"
SCHEDULES = {
    "daily": "每天首次打开时",
    "weekly": "每周一次",
    "off": "不自动备份",
}
DEFAULT_SCHEDULE = "daily"
AUTO_REASON = "daily"
WEEK_DAYS = 7
OFF_WARNING = "已关闭自动备份，不建议这样做：电脑损坏或误删时数据可能无法找回。"


@dataclass(frozen=True)
class BackupSettings:
    schedule: str = DEFAULT_SCHEDULE
    extra_folder: Path | None = None

    @property
    def schedule_label(self) -> str:
        return SCHEDULES[self.schedule]


@dataclass(frozen=True)
class ScheduledResult:
    """What :func:`run_scheduled_backup` did.

    ``made``: the new backup (None: not due, schedule off, or no database);
    ``extra_copy``: the verified copy in the extra folder (None if none);
    ``warning``: a Chinese message if the extra copy failed ("" otherwise).
    """

    made: BackupInfo | None = None
    extra_copy: Path | None = None
    warning: str = ""


def _from_values(schedule: object, folder: object) -> BackupSettings:
    sched = schedule if isinstance(schedule, str) and schedule in SCHEDULES else DEFAULT_SCHEDULE
    extra = Path(folder) if isinstance(folder, str) and folder.strip() else None
    return BackupSettings(sched, extra)


def get_backup_settings(session: Session) -> BackupSettings:
    """The stored backup settings (defaults: daily, no extra folder)."""
    schedule_row = session.get(Setting, SCHEDULE_KEY)
    folder_row = session.get(Setting, EXTRA_FOLDER_KEY)
    return _from_values(schedule_row.value if schedule_row else None,
                        folder_row.value if folder_row else None)


def read_backup_settings(db_path: Path) -> BackupSettings:
    """The settings read straight from the file (read-only sqlite3; defaults on error)."""
    values: dict[str, object] = {}
    try:
        con = sqlite3.connect(f"{Path(db_path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT key, value FROM setting WHERE key IN (?, ?)",
                               (SCHEDULE_KEY, EXTRA_FOLDER_KEY)).fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return BackupSettings()
    for key, raw in rows:
        try:
            values[key] = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            values[key] = None
    return _from_values(values.get(SCHEDULE_KEY), values.get(EXTRA_FOLDER_KEY))


def check_folder_writable(folder: Path) -> str:
    """"" if files can be written into ``folder``, else a Chinese message why not."""
    if not folder.exists():
        return f"文件夹“{folder}”不存在（U盘是否已拔出？）"
    if not folder.is_dir():
        return f"“{folder}”不是文件夹"
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        return f"无法写入文件夹“{folder}”：{err.strerror or err}"
    return ""


def set_backup_settings(db: Database, schedule: str, extra_folder: Path | str | None) -> None:
    """Store the schedule and the extra folder (None or "" clears it).

    Raises:
        ValidationError: unknown schedule, or the folder is missing / not writable.
    """
    if schedule not in SCHEDULES:
        raise ValidationError(f"自动备份方式“{schedule}”无效，应为：每天首次打开时、每周一次或不自动备份",
                              field="自动备份")
    folder: str | None = None
    if extra_folder is not None and str(extra_folder).strip():
        path = Path(extra_folder).expanduser()
        problem = check_folder_writable(path)
        if problem:
            raise ValidationError(problem, field="另存一份到")
        folder = str(path.resolve())
    with db.write() as s:
        for key, value in ((SCHEDULE_KEY, schedule), (EXTRA_FOLDER_KEY, folder)):
            row = s.get(Setting, key)
            if row is None:
                s.add(Setting(key=key, value=value))
            else:
                row.value = value


def auto_backup_due(db_path: Path, schedule: str, today: dt.date | None = None) -> bool:
    """Whether the schedule calls for an automatic backup today."""
    if schedule == "off":
        return False
    today = today or dt.date.today()
    window = WEEK_DAYS if schedule == "weekly" else 1
    folder = backup_dir_for(db_path)
    if not folder.is_dir():
        return True
    for path in folder.glob("*.sqlite"):
        parsed = _parse_name(path)
        if parsed is None or parsed[1] not in ("daily", "weekly"):
            continue
        if 0 <= (today - parsed[0].date()).days < window:
            return False
    return True


def copy_to_extra_folder(backup: Path, folder: Path) -> tuple[Path | None, str]:
    """A verified copy of ``backup`` in ``folder``: (the copy, "") or (None, warning).

    Never raises for file-system problems: the backup itself is already safe.
    """
    problem = check_folder_writable(folder)
    if problem:
        return None, f"备份已完成，但未能另存到U盘/文件夹：{problem}"
    target = folder / backup.name
    tmp = target.with_name(target.name + ".part")
    try:
        with open(backup, "rb") as src, open(tmp, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        result = integrity_of(tmp)
        if result != "ok":
            raise KepuError(f"副本校验失败（{result}）")
        os.replace(tmp, target)
    except (OSError, sqlite3.Error, KepuError) as err:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(err, OSError) and is_disk_full(err):
            why = "空间不足"
        elif isinstance(err, OSError):
            why = str(err.strerror or err)
        else:
            why = str(err)
        return None, f"备份已完成，但未能另存到“{folder}”：{why}"
    return target, ""


def run_scheduled_backup(db_path: Path, today: dt.date | None = None) -> ScheduledResult:
    """The automatic backup at program start, as the settings say.

    Makes a backup (reason ``daily``) if due, rotates, and copies it to the extra
    folder. Raises KepuError only if the backup in ``backups/`` itself failed.
    """
    db_path = Path(db_path)
    if not db_path.exists():
        return ScheduledResult()
    settings = read_backup_settings(db_path)
    if not auto_backup_due(db_path, settings.schedule, today):
        return ScheduledResult()
    info = make_backup(db_path, AUTO_REASON)
    rotate_backups(db_path, today=today)
    if settings.extra_folder is None:
        return ScheduledResult(info)
    copy, warning = copy_to_extra_folder(info.path, settings.extra_folder)
    return ScheduledResult(info, copy, warning)
