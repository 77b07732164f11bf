"""Opening, upgrading, refusing, checking and backing up database files; locking; audit."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import sqlite3
import textwrap
from pathlib import Path

import pytest

import db.database as database
from db.catalogs import find_entry
from db.database import Database, backup_file, check_file, head_revision, open_database
from db.errors import DatabaseFileError, NewerSchemaError, PeriodLockedError
from db.indicators import compute_figures
from db.models import Activity, Attendance, AuditLog, Period, Trainee
from db.offices import OfficeInfo, get_office
from db.periods import Period as ReportPeriod

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SCHEMA_FIXTURES = sorted(FIXTURES.glob("schema_*.sqlite"))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_database_has_pragmas_schema_and_catalogs(db: Database) -> None:
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == (
            head_revision()
        )
    with db.session() as s:
        assert find_entry(s, "form", "培训") is not None
        assert find_entry(s, "campaign", "全国科普日") is not None


def test_missing_file_is_not_created_unless_asked(tmp_path: Path) -> None:
    with pytest.raises(DatabaseFileError, match="不存在"):
        open_database(tmp_path / "none.sqlite")
    assert not (tmp_path / "none.sqlite").exists()


@pytest.mark.parametrize("fixture", SCHEMA_FIXTURES, ids=[p.stem for p in SCHEMA_FIXTURES])
def test_fixture_of_each_released_schema_opens_at_head_with_data(fixture: Path,
                                                                  tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    shutil.copy(fixture, path)
    with open_database(path) as db, db.session() as s:
        office = get_office(s)
        assert office.name == "金井镇"
        figs = compute_figures(s, office, ReportPeriod.parse("2025-09"))
        assert figs["act.count"].period == 2
        assert figs["act.attend"].period == 122  # 120 entered + roster of 2
        assert figs["train.people"].period == 2
        assert figs["fund.spent"].period == pytest.approx(1500.50)
        assert figs["act.count"].target == 40
    result = check_file(path)
    assert result.ok, result


def _migrations_with_extra_step(tmp_path: Path, body: str) -> Path:
    """A copy of the real migrations plus a revision after head with ``body``."""
    folder = tmp_path / "migrations"
    shutil.copytree(database.MIGRATIONS_DIR, folder,
                    ignore=shutil.ignore_patterns("__pycache__"))
    step = "\n".join(
        [
            "from alembic import op",
            "import sqlalchemy as sa",
            "",
            'revision = "9001"',
            f'down_revision = "{head_revision()}"',
            "branch_labels = None",
            "depends_on = None",
            "",
            "",
            "def upgrade():",
            textwrap.indent(textwrap.dedent(body).strip(), "    "),
            "",
            "",
            "def downgrade():",
            "    pass",
            "",
        ]
    )
    (folder / "versions" / "9001_test_step.py").write_text(step, encoding="utf-8")
    return folder


def test_upgrade_backs_up_first_then_applies_step(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "data" / "kepu.sqlite"
    path.parent.mkdir()
    shutil.copy(SCHEMA_FIXTURES[0], path)
    with sqlite3.connect(path) as con:
        old_rev = con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    con.close()
    folder = _migrations_with_extra_step(
        tmp_path, 'op.add_column("office", sa.Column("motto", sa.String(50)))'
    )
    monkeypatch.setattr(database, "MIGRATIONS_DIR", folder)
    with open_database(path) as db, db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "9001"
        cols = [r[1] for r in conn.exec_driver_sql("PRAGMA table_info(office)")]
        assert "motto" in cols
        assert conn.exec_driver_sql("SELECT count(*) FROM attendance").scalar() == 2
        triggers = {r[0] for r in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert {"trg_attachment_lock_insert", "trg_activity_lock_update",
                "trg_activity_fts_insert"} <= triggers
    backups = list((path.parent / "backups").glob(f"*before-upgrade-{old_rev}*.sqlite"))
    assert len(backups) == 1
    assert check_file(backups[0]).integrity == "ok"
    with sqlite3.connect(backups[0]) as con:
        assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == old_rev


def test_failed_upgrade_step_leaves_the_file_as_it_was(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "kepu.sqlite"
    shutil.copy(SCHEMA_FIXTURES[0], path)
    real_head = head_revision()
    folder = _migrations_with_extra_step(tmp_path, '''
        op.add_column("office", sa.Column("motto", sa.String(50)))
        op.execute("DELETE FROM attendance")
        raise RuntimeError("boom in the middle of a step")
    ''')
    monkeypatch.setattr(database, "MIGRATIONS_DIR", folder)
    with pytest.raises(RuntimeError, match="boom"):
        open_database(path)
    with sqlite3.connect(path) as con:
        # Each step commits with its version bump: the real steps are kept, the
        # failed one left no trace.
        assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == real_head
        assert con.execute("SELECT count(*) FROM attendance").fetchone()[0] == 2
        cols = [r[1] for r in con.execute("PRAGMA table_info(office)")]
        assert "motto" not in cols


def test_file_from_a_newer_version_is_refused_and_untouched(db: Database, db_path: Path) -> None:
    db.close()
    with sqlite3.connect(db_path) as con:
        con.execute("UPDATE alembic_version SET version_num = '9999_future'")
    con.close()
    before = sha(db_path)
    with pytest.raises(NewerSchemaError, match="更新版本") as err:
        open_database(db_path)
    assert "9999_future" in str(err.value)
    assert sha(db_path) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is a spreadsheet, not a database" * 100, "不是科普台账数据库文件"),
        (b"SQLite format 3\x00" + b"\xff" * 4000, "损坏"),
    ],
    ids=["text-file", "damaged-sqlite"],
)
def test_corrupt_files_are_refused_with_a_message(tmp_path: Path, content: bytes,
                                                  message: str) -> None:
    path = tmp_path / "bad.sqlite"
    path.write_bytes(content)
    with pytest.raises(DatabaseFileError, match=message):
        open_database(path)
    assert path.read_bytes() == content


def test_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    con.close()
    before = sha(path)
    with pytest.raises(DatabaseFileError, match="不是科普台账的数据库"):
        open_database(path)
    assert sha(path) == before


def test_backup_is_a_verified_complete_copy(db: Database, office: OfficeInfo,
                                            tmp_path: Path) -> None:
    with db.write() as s:
        s.add(Trainee(office_id=office.id, name="蔡明辉"))
    dest = backup_file(db.path, tmp_path / "bk")
    assert dest.parent == tmp_path / "bk" and dest.suffix == ".sqlite"
    assert not list((tmp_path / "bk").glob("*.part"))
    assert check_file(dest).ok
    with sqlite3.connect(dest) as con:
        assert con.execute("SELECT name FROM trainee").fetchall() == [("蔡明辉",)]
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def _activity(db: Database, office: OfficeInfo, day: dt.date, title: str = "讲座") -> str:
    with db.write() as s:
        form = find_entry(s, "form", "讲座")
        assert form is not None
        a = Activity(office_id=office.id, title=title, start_date=day, end_date=day,
                     form_id=form.id, attend=10)
        s.add(a)
        s.flush()
        return a.id


def _lock(db: Database, office: OfficeInfo, month: str, status: str = "submitted") -> None:
    with db.write() as s:
        p = s.get(Period, (office.id, month)) or Period(office_id=office.id, month=month)
        p.status = status
        s.add(p)


def test_locked_month_refuses_every_change_at_the_data_layer(db: Database,
                                                             office: OfficeInfo) -> None:
    sep = _activity(db, office, dt.date(2025, 9, 16), "九月讲座")
    aug = _activity(db, office, dt.date(2025, 8, 16), "八月讲座")
    with db.write() as s:
        t = Trainee(office_id=office.id, name="李明")
        s.add(t)
        s.flush()
        trainee_id = t.id
    _lock(db, office, "2025-09")

    with pytest.raises(PeriodLockedError, match="已上报并锁定"), db.write() as s:
        s.get(Activity, sep).attend = 999
    with pytest.raises(PeriodLockedError), db.write() as s:
        s.delete(s.get(Activity, sep))
    with pytest.raises(PeriodLockedError):
        _activity(db, office, dt.date(2025, 9, 30), "补录")
    with pytest.raises(PeriodLockedError), db.write() as s:  # move August into September
        s.get(Activity, aug).start_date = dt.date(2025, 9, 1)
    with pytest.raises(PeriodLockedError), db.write() as s:
        s.add(Attendance(activity_id=sep, trainee_id=trainee_id))
    # Also a raw SQL write that bypasses the ORM.
    with pytest.raises(sqlite3.IntegrityError, match="KEPU_LOCKED"), \
            sqlite3.connect(db.path) as con:
        con.execute("UPDATE activity SET attend = 1 WHERE id = ?", (sep,))

    with db.session() as s:
        assert s.get(Activity, sep).attend == 10
        assert s.query(Activity).count() == 2
    with db.write() as s:  # other months stay editable
        s.get(Activity, aug).attend = 11

    _lock(db, office, "2025-09", "reopened")
    with db.write() as s:
        s.get(Activity, sep).attend = 12
    with db.session() as s:
        assert s.get(Activity, sep).attend == 12


def test_changes_are_audited_old_to_new_and_deletions_keep_the_record(
        db: Database, office: OfficeInfo) -> None:
    aid = _activity(db, office, dt.date(2025, 9, 16), "防范电信诈骗讲座")
    with db.write(user="张文书") as s:
        s.get(Activity, aid).attend = 150
    with db.write(user="张文书") as s:
        s.delete(s.get(Activity, aid))
    with db.session() as s:
        rows = s.query(AuditLog).filter(AuditLog.record_id == aid).order_by(AuditLog.at).all()
        actions = [r.action for r in rows]
        assert actions == ["create", "update", "delete"]
        update = rows[1]
        assert update.user == "张文书"
        assert update.changes == {"attend": [10, 150]}
        deleted = rows[2].changes
        assert deleted["title"] == "防范电信诈骗讲座" and deleted["attend"] == 150
        assert deleted["start_date"] == "2025-09-16"


def test_failed_write_leaves_nothing_behind(db: Database, office: OfficeInfo) -> None:
    with pytest.raises(RuntimeError), db.write() as s:
        s.add(Trainee(office_id=office.id, name="半条记录"))
        s.flush()
        raise RuntimeError("power cut")
    with db.session() as s:
        assert s.query(Trainee).count() == 0
        assert s.query(AuditLog).filter(AuditLog.table_name == "trainee").count() == 0


def test_check_reports_integrity_and_version(db: Database) -> None:
    result = check_file(db.path)
    assert result.integrity == "ok" and result.revision == head_revision() and result.ok
