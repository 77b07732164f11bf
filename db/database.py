"""Opening, creating, upgrading, checking and backing up a database file.

A database is one SQLite file, opened with foreign keys on, WAL, synchronous
NORMAL and a busy timeout. Its schema is managed by Alembic (``db/migrations``);
opening a file written by an older version backs it up (verified copy) and
upgrades it step by step, each step with its version bump in one transaction.
A file written by a newer version, or a file that is not ours, is refused
before anything is written to it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from db import audit
from db.errors import DatabaseFileError, KepuError, NewerSchemaError, PeriodLockedError
from db.paths import backup_dir_for

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 5000
LOCK_MARKER = "KEPU_LOCKED"
BACKUP_DISK_FULL = "备份失败：磁盘空间不足，备份没有保存。请清理磁盘后再试。"


def is_disk_full(err: BaseException) -> bool:
    """Whether an OS or SQLite error means the disk is full (shown in Chinese, not as is)."""
    if isinstance(err, OSError):
        return err.errno == errno.ENOSPC
    return "disk is full" in str(err).lower()


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    """The schema version this program writes."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    """Every schema version this program knows how to read or upgrade."""
    script = ScriptDirectory.from_config(_alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


CACHE_SIZE_KIB = -32768  # negative: KiB, as PRAGMA cache_size takes it


def _configure_connection(dbapi_connection: sqlite3.Connection, foreign_keys: bool,
                          read_only: bool = False) -> None:
    # Let SQLAlchemy emit BEGIN itself so DDL is transactional too (pysqlite
    # otherwise runs DDL outside any transaction).
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if not read_only:
        cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    # 32 MB page cache instead of 2 MB: a month's roster joins 60 000 attendances to the
    # register, and pooled connections keep their cache between reports.
    cur.execute(f"PRAGMA cache_size = {CACHE_SIZE_KIB}")
    cur.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
    cur.close()


def make_engine(path: Path, *, foreign_keys: bool = True, read_only: bool = False) -> Engine:
    """An engine on ``path`` with the project's connection settings."""
    url = (f"sqlite:///{path.resolve().as_uri()}?mode=ro&uri=true" if read_only
           else f"sqlite:///{path}")
    engine = create_engine(
        url,
        json_serializer=lambda obj: json.dumps(obj, ensure_ascii=False),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        _configure_connection(dbapi_connection, foreign_keys, read_only)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: object) -> None:
        conn.exec_driver_sql("BEGIN")  # type: ignore[attr-defined]

    return engine


@dataclass(frozen=True)
class SchemaInfo:
    """What a database file holds: its schema version and whether it must be upgraded."""

    revision: str | None  # None: empty file / no schema yet
    head: str

    @property
    def needs_upgrade(self) -> bool:
        return self.revision != self.head


def _is_sqlite_file(path: Path) -> bool:
    with open(path, "rb") as fh:
        header = fh.read(16)
    return header == b"SQLite format 3\x00" or header == b""


def read_schema_info(path: Path) -> SchemaInfo:
    """Read the schema version without writing anything to the file.

    Raises:
        DatabaseFileError: the file is not a database, or not a 科普台账 database.
        NewerSchemaError: the file was written by a newer version of the program.
    """
    head = head_revision()
    if path.stat().st_size == 0:
        return SchemaInfo(None, head)
    if not _is_sqlite_file(path):
        raise DatabaseFileError(f"“{path}”不是科普台账数据库文件（文件已损坏或不是 SQLite 数据库）。")
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as err:
        raise DatabaseFileError(f"无法打开数据库“{path}”：{err}") from err
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return SchemaInfo(None, head)
        if "alembic_version" not in tables:
            raise DatabaseFileError(f"“{path}”是 SQLite 数据库，但不是科普台账的数据库。")
        row = con.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as err:
        raise DatabaseFileError(f"数据库“{path}”已损坏，无法读取：{err}") from err
    finally:
        con.close()
    revision = row[0] if row else None
    if revision is not None and revision not in known_revisions():
        raise NewerSchemaError(
            f"数据库“{path}”由更新版本的科普台账写入（数据结构版本 {revision}，"
            f"本程序支持到 {head}）。请升级程序后再打开；文件未作任何改动。"
        )
    return SchemaInfo(revision, head)


def _upgrade(path: Path) -> None:
    engine = make_engine(path, foreign_keys=False)
    try:
        with engine.connect() as conn:
            cfg = _alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise DatabaseFileError(f"数据库升级后外键检查失败：{problems[:5]}")
    finally:
        engine.dispose()


def _timestamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def backup_file(path: Path, dest: Path | None = None, *, reason: str = "manual") -> Path:
    """Copy a database with SQLite's online backup API and verify the copy.

    The copy is written to a temporary name, checked with ``PRAGMA
    integrity_check`` and only then renamed, so a backup that exists is good.

    Args:
        path: the database file.
        dest: a file or folder; default ``backups/`` beside the database.
        reason: a word for the file name (manual, upgrade, import ...).

    Returns:
        The path of the verified copy.
    """
    if dest is None:
        dest = backup_dir_for(path)
    if dest.is_dir() or not dest.suffix:
        dest.mkdir(parents=True, exist_ok=True)
        folder, base = dest, f"{path.stem}-{_timestamp()}-{reason}"
        dest = folder / f"{base}.sqlite"
        n = 2
        while dest.exists():  # a second backup within the same second keeps the first
            dest = folder / f"{base}-{n}.sqlite"
            n += 1
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    try:
        src = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)
                result = dst.execute("PRAGMA integrity_check").fetchone()[0]
                dst.execute("PRAGMA journal_mode = DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        if result != "ok":
            raise DatabaseFileError(f"备份校验失败：{result}")
        os.replace(tmp, dest)
    except (sqlite3.Error, OSError) as err:
        if is_disk_full(err):
            raise KepuError(BACKUP_DISK_FULL) from err
        if isinstance(err, sqlite3.Error):
            raise KepuError(f"备份失败：{err}") from err
        raise KepuError(f"备份失败，无法写入“{dest}”：{err.strerror or err}") from err
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return dest


class Database:
    """An open database: the engine plus short-lived sessions on it."""

    def __init__(self, path: Path, engine: Engine, *, read_only: bool = False) -> None:
        self.path = path
        self.engine = engine
        self.read_only = read_only
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)

    def session(self) -> Session:
        """A new session for reading (use as a context manager)."""
        return self._sessions()

    @contextlib.contextmanager
    def write(self, user: str | None = None) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error.

        Changes are audited (see :mod:`db.audit`); a change to a locked month is
        refused by the database and raised as :class:`PeriodLockedError`.
        """
        if self.read_only:
            raise KepuError("数据库是以只读方式打开的，不能修改。请关闭程序后以正常方式打开。")
        with self._sessions() as session:
            if user:
                session.info["user"] = user
            try:
                with session.begin():
                    yield session
            except exc.IntegrityError as err:
                if LOCK_MARKER in str(err.orig):
                    raise PeriodLockedError(
                        "该月已上报并锁定，不能修改其中的记录。如需修改，请先在“报表”中重新打开该月。"
                    ) from err
                raise
            except exc.OperationalError as err:
                raise_friendly(err)
                raise

    def backup(self, dest: Path | None = None, *, reason: str = "manual") -> Path:
        """A verified backup copy; see :func:`backup_file`."""
        return backup_file(self.path, dest, reason=reason)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def raise_friendly(err: exc.OperationalError) -> None:
    """Raise a KepuError with a Chinese message for errors the user can act on."""
    text = str(err.orig).lower()
    if "disk is full" in text or "database or disk is full" in text:
        raise KepuError("磁盘空间不足，本次修改没有保存；已保存的数据不受影响。"
                        "请清理磁盘后再试。") from err
    if "readonly" in text or "read-only" in text:
        raise KepuError("数据库文件是只读的，无法保存修改。") from err
    if "locked" in text or "busy" in text:
        raise KepuError("数据库正被其他程序使用，请稍后再试。") from err


def open_database(path: Path, *, create: bool = False, read_only: bool = False) -> Database:
    """Open (and if needed create or upgrade) the database at ``path``.

    Args:
        path: the SQLite file.
        create: create the file if it does not exist; otherwise a missing file
            is an error.

    Raises:
        DatabaseFileError: missing, corrupt, foreign or newer file (nothing written).
    """
    path = Path(path)
    if read_only:
        if not path.exists():
            raise DatabaseFileError(f"数据库文件不存在：{path}")
        info = read_schema_info(path)
        if info.needs_upgrade:
            raise DatabaseFileError(
                f"“{path}”是旧版本的数据库，需要先升级才能打开，只读方式无法升级。")
        return Database(path, make_engine(path, read_only=True), read_only=True)
    if not path.exists():
        if not create:
            raise DatabaseFileError(f"数据库文件不存在：{path}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise DatabaseFileError(f"无法创建数据文件夹“{path.parent}”：{err}") from err
        _upgrade(path)
    else:
        if path.is_dir():
            raise DatabaseFileError(f"“{path}”是文件夹，不是数据库文件。")
        info = read_schema_info(path)
        if info.needs_upgrade:
            if info.revision is not None:
                backup_file(path, reason=f"before-upgrade-{info.revision}")
            _upgrade(path)
    engine = make_engine(path)
    audit.install(engine)
    from db.catalogs import ensure_catalogs  # late: catalogs needs models only

    db = Database(path, engine)
    ensure_catalogs(db)
    return db


@dataclass(frozen=True)
class CheckResult:
    """The result of ``kepu check``."""

    integrity: str
    foreign_key_problems: int
    revision: str | None
    head: str
    search_index_ok: bool = True

    @property
    def ok(self) -> bool:
        return (
            self.integrity == "ok"
            and self.foreign_key_problems == 0
            and self.revision == self.head
            and self.search_index_ok
        )


def integrity_of(path: Path) -> str:
    """``PRAGMA integrity_check`` of a database file, opened read-only: "ok" or the
    first problem it reports."""
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        con.close()


def check_file(path: Path) -> CheckResult:
    """Integrity, foreign keys and schema version of a file, read-only."""
    if not path.exists():
        raise DatabaseFileError(f"数据库文件不存在：{path}")
    info = read_schema_info(path)
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = con.execute("PRAGMA integrity_check").fetchall()
        integrity = "; ".join(r[0] for r in rows)
        fk = len(con.execute("PRAGMA foreign_key_check").fetchall())
    except sqlite3.DatabaseError as err:
        raise DatabaseFileError(f"数据库“{path}”已损坏：{err}") from err
    finally:
        con.close()
    return CheckResult(integrity, fk, info.revision, info.head, _search_index_ok(path))


def _search_index_ok(path: Path) -> bool:
    """Whether the full-text index agrees with the activities (it writes nothing)."""
    con = sqlite3.connect(path)
    try:
        has_fts = con.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'activity_fts'"
        ).fetchone()
        if not has_fts:
            return True
        con.execute("INSERT INTO activity_fts(activity_fts, rank) VALUES ('integrity-check', 1)")
        return True
    except sqlite3.DatabaseError:
        return False
    finally:
        con.close()


def rebuild_search_index(db: Database) -> None:
    """Rebuild the full-text index from the activities (after an outside VACUUM)."""
    with db.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO activity_fts(activity_fts) VALUES ('rebuild')")
