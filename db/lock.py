"""One writer per database: a lock file that says who holds it.

The program (GUI) holds ``<database>.lock`` while it has the database open; a CLI
command that writes holds it for its duration. The lock is an operating-system
file lock, so it disappears with the process that held it (a crash or power cut
never leaves a stale lock). The file's text names the holder, so a second
program can say who is using the database instead of racing it. Readers
(``kepu figures``, ``kepu check``) do not take the lock.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import socket
import sys
from pathlib import Path
from typing import IO, Any

from db.errors import KepuError

_LOCK_OFFSET = 1 << 20  # Windows locks a byte range: lock one far from the holder text


class DatabaseBusyError(KepuError):
    """Another program holds the database; ``holder`` describes it."""

    def __init__(self, message: str, holder: dict[str, Any]) -> None:
        super().__init__(message)
        self.holder = holder


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


def _try_lock(handle: IO[str]) -> bool:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(_LOCK_OFFSET)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(handle: IO[str]) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(_LOCK_OFFSET)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            pass
        return
    import fcntl

    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def read_holder(db_path: Path) -> dict[str, Any]:
    """What the lock file says about its holder ({} if nothing readable)."""
    try:
        text = lock_path(db_path).read_text(encoding="utf-8").strip("\0 \n")
        return dict(json.loads(text)) if text else {}
    except (OSError, ValueError):
        return {}


def describe_holder(holder: dict[str, Any]) -> str:
    """A Chinese description: 张文书 在 OFFICE-PC 上的科普台账（进程 1234，10:05 起）."""
    if not holder:
        return "另一个科普台账程序"
    since = holder.get("since", "")
    with_time = f"，{since[11:16]} 起" if len(since) >= 16 else ""
    return (f"{holder.get('user') or '某用户'} 在 {holder.get('host') or '另一台电脑'} 上的"
            f"{holder.get('purpose') or '科普台账'}（进程 {holder.get('pid', '?')}{with_time}）")


class DatabaseLock:
    """The writer's lock of one database file (use as a context manager)."""

    def __init__(self, db_path: Path, purpose: str = "科普台账") -> None:
        self.db_path = Path(db_path)
        self.purpose = purpose
        self._handle: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> DatabaseLock:
        """Take the lock or raise :class:`DatabaseBusyError` naming who has it."""
        if self._handle is not None:
            return self
        path = lock_path(self.db_path)
        try:
            handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
        except OSError as err:
            raise KepuError(f"无法创建锁文件“{path}”：{err.strerror or err}") from err
        if not _try_lock(handle):
            handle.close()
            holder = read_holder(self.db_path)
            raise DatabaseBusyError(
                f"数据库正被{describe_holder(holder)}使用。为避免数据冲突，"
                "请先关闭那边的程序再试；仍可以只读方式查看。", holder)
        info = {
            "user": _user(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "purpose": self.purpose,
            "since": dt.datetime.now().isoformat(timespec="seconds"),
        }
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(info, ensure_ascii=False))
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        """Let go of the lock (the file stays; its text is stale but harmless)."""
        if self._handle is None:
            return
        try:
            _unlock(self._handle)
        finally:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> DatabaseLock:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name is not an error
        return ""
