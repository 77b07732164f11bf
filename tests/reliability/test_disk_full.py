"""A full disk: a clear Chinese message, nothing saved before is harmed, and it recovers.

The database's disk fills up through SQLite's ``PRAGMA max_page_count`` (set on every
new connection of the engine to a few pages above the current size), which fails
writes exactly as a full disk does (SQLITE_FULL, "database or disk is full"); raising
the limit again is "freeing space". The attachment store's disk fills up through a
file ``open`` in db.attachments whose writes raise ``OSError(ENOSPC)`` after a budget
of bytes. Where the test may mount a tiny tmpfs (root on Linux), one more test runs
everything on a really full filesystem.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from PIL import Image
from sqlalchemy import event

import db.attachments as attachments
from db.activities import ActivityInput, create_activity, get_activity
from db.attachments import add_attachments, list_attachments, store_dir
from db.backups import make_backup
from db.catalogs import find_entry
from db.database import Database, check_file, open_database
from db.errors import KepuError
from db.idcard import make_id_number
from db.imports import (
    apply_activity_import,
    apply_trainee_import,
    plan_activity_import,
    plan_trainee_import,
    read_workbook,
)
from db.offices import OfficeInfo, create_office
from tests.sqldump import dump

FULL = "磁盘空间不足"
DAY = dt.date(2025, 9, 16)


# --- helpers -------------------------------------------------------------------------------


@contextlib.contextmanager
def full_disk(db: Database, spare_pages: int = 4) -> Iterator[None]:
    """Only ``spare_pages`` more pages fit into the database until the block ends."""

    def limit(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        cur = dbapi_connection.cursor()
        pages = cur.execute("PRAGMA page_count").fetchone()[0]
        cur.execute(f"PRAGMA max_page_count = {pages + spare_pages}")
        cur.close()

    db.engine.dispose()  # pooled connections would not get the limit
    event.listen(db.engine, "connect", limit)
    try:
        yield
    finally:
        event.remove(db.engine, "connect", limit)
        db.engine.dispose()  # "space freed": new connections have no limit


def assert_intact(db: Database, before: str) -> None:
    result = check_file(db.path)
    assert result.ok, result
    after = dump(db)
    assert hashlib.sha256(after.encode()).hexdigest() == hashlib.sha256(
        before.encode()).hexdigest(), "the database changed"


def training(db: Database, office: OfficeInfo) -> str:
    with db.session() as s:
        form = find_entry(s, "form", "培训")
        assert form is not None
    return create_activity(db, office, ActivityInput(
        title="茶叶病虫害绿色防控培训", start_date=DAY, end_date=DAY, form_id=form.id,
        train_hours_x10=20))


def lecture(db: Database, office: OfficeInfo, title: str = "防范电信诈骗科普讲座",
            description: str = "") -> str:
    with db.session() as s:
        form = find_entry(s, "form", "讲座")
        assert form is not None
    return create_activity(db, office, ActivityInput(
        title=title, start_date=DAY, end_date=DAY, form_id=form.id, attend=40,
        description=description))


def roster(path: Path, n: int, first: int = 0) -> Path:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("花名册")
    ws.append(["姓名", "身份证号", "联系电话", "工作单位"])
    for i in range(first, first + n):
        ws.append([f"学员{chr(0x4E00 + i % 20000)}",
                   make_id_number("350582", dt.date(1940, 1, 1) + dt.timedelta(days=i // 500),
                                  i % 500),
                   13800000000 + i, "晋江市金井镇人民政府农业农村服务中心"])
    wb.save(path)
    return path


def ledger(path: Path, n: int) -> Path:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("活动台账")
    ws.append(["序号", "活动名称", "活动日期", "活动形式", "村/社区", "参与人次", "活动简介"])
    for i in range(n):
        ws.append([i + 1, f"农业实用技术讲座第{i + 1}期", f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
                   "讲座", f"第{i % 40}村", 30 + i % 50, "讲解茶叶病虫害绿色防控技术。" * 40])
    wb.save(path)
    return path


@pytest.fixture
def saved(db: Database, office: OfficeInfo, tmp_path: Path) -> dict[str, Any]:
    """What the clerk saved before the disk filled up: activities, a roster, a photo."""
    ids = [lecture(db, office, f"讲座{i}", "已保存的活动简介。" * 50) for i in range(5)]
    tid = training(db, office)
    sheet = read_workbook(roster(tmp_path / "已导入.xlsx", 30))[0]
    with db.session() as s:
        plan = plan_trainee_import(s, office, sheet, training_id=tid)
    assert apply_trainee_import(db, office, plan, backup=False).imported == 30
    photo = tmp_path / "现场照片.jpg"
    Image.new("RGB", (640, 480), (40, 160, 60)).save(photo, "JPEG", quality=85)
    add_attachments(db, activity_id=ids[0], files=[photo])
    return {"activities": ids, "training": tid}


# --- the database's disk -------------------------------------------------------------------


def test_roster_import_of_5000_rows_on_a_full_disk(db: Database, office: OfficeInfo,
                                                   saved: dict[str, Any], tmp_path: Path) -> None:
    sheet = read_workbook(roster(tmp_path / "花名册.xlsx", 5000, first=1000))[0]
    before = dump(db)
    with full_disk(db):
        with db.session() as s:  # planning only reads: it works on a full disk
            plan = plan_trainee_import(s, office, sheet, training_id=saved["training"])
        assert plan.new == 5000
        with pytest.raises(KepuError, match=FULL) as info:
            apply_trainee_import(db, office, plan, backup=False)
        assert type(info.value) is KepuError
        assert str(info.value).startswith(FULL)
        assert_intact(db, before)
    # space freed: the same plan goes through
    result = apply_trainee_import(db, office, plan, backup=False)
    assert (result.imported, result.attendances) == (5000, 5000)
    with db.session() as s:
        assert get_activity(s, saved["training"]).roster_size == 5030  # type: ignore[union-attr]
    assert check_file(db.path).ok


def test_activity_ledger_import_on_a_full_disk(db: Database, office: OfficeInfo,
                                               saved: dict[str, Any], tmp_path: Path) -> None:
    sheet = read_workbook(ledger(tmp_path / "台账.xlsx", 2000))[0]
    with db.session() as s:
        plan = plan_activity_import(s, office, sheet)
    assert plan.new == 2000, [r.errors for r in plan.rows if r.errors][:3]
    before = dump(db)
    with full_disk(db, spare_pages=20), pytest.raises(KepuError, match=FULL):
        apply_activity_import(db, office, plan, backup=False)
    assert_intact(db, before)
    assert apply_activity_import(db, office, plan, backup=False).imported == 2000


def test_saving_activities_until_the_disk_is_full(db: Database, office: OfficeInfo,
                                                  saved: dict[str, Any]) -> None:
    written: dict[str, str] = {}
    with full_disk(db, spare_pages=120):
        with pytest.raises(KepuError, match=FULL):
            for i in range(1000):
                text = f"第{i}次活动的简介：" + "科普进村入户，讲解防范电信诈骗知识。" * 1000
                written[lecture(db, office, f"长简介活动{i}", text)] = text
        assert 1 < len(written) < 1000  # some fitted, then the disk was full
        before = dump(db)
        # saving it again is refused the same way and changes nothing
        with pytest.raises(KepuError, match=FULL):
            lecture(db, office, "再保存一次", "科普进村入户，讲解防范电信诈骗知识。" * 1001)
        assert_intact(db, before)
    with db.session() as s:
        for aid, text in written.items():
            detail = get_activity(s, aid)
            assert detail is not None and detail.data.description == text
        for aid in saved["activities"]:
            assert get_activity(s, aid) is not None
    aid = lecture(db, office, "清理磁盘之后")  # space freed
    assert aid not in written
    assert check_file(db.path).ok


# --- the attachment store's disk -----------------------------------------------------------


class _FillingFile:
    """A file whose writes fail with ENOSPC once the disk's bytes are used up."""

    def __init__(self, fh: Any, disk: dict[str, int]) -> None:
        self._fh = fh
        self._disk = disk

    def write(self, data: bytes) -> int:
        room = self._disk["free"]
        if len(data) > room:
            if room:
                self._fh.write(data[:room])  # a full disk takes what fits, then fails
                self._fh.flush()
            self._disk["free"] = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._disk["free"] -= len(data)
        return self._fh.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)

    def __enter__(self) -> _FillingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()


def store_files(db: Database) -> list[str]:
    store = store_dir(db)
    return sorted(p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file())


def photos(folder: Path) -> list[Path]:
    """A clean JPEG (stored as is), a JPEG with EXIF (re-encoded) and a PDF."""
    folder.mkdir(exist_ok=True)
    plain = folder / "合影.jpg"
    Image.effect_noise((400, 300), 60).convert("RGB").save(plain, "JPEG", quality=90)
    exif = Image.Exif()
    exif[0x010F] = "HUAWEI"
    tagged = folder / "签到表.jpg"
    Image.effect_noise((500, 400), 40).convert("RGB").save(tagged, "JPEG", quality=90, exif=exif)
    pdf = folder / "活动方案.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + os.urandom(30000) + b"\n%%EOF\n")
    return [plain, tagged, pdf]


@pytest.mark.parametrize("free", [0, 5000, 40000, 90000])
def test_attachments_on_a_full_disk(db: Database, office: OfficeInfo, saved: dict[str, Any],
                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    free: int) -> None:
    aid = saved["activities"][1]
    files = photos(tmp_path / "files")
    # the first file is already in the store (attached to another activity): it is reused,
    # and must stay when the import fails
    add_attachments(db, activity_id=saved["activities"][2], files=files[:1])
    before, stored = dump(db), store_files(db)
    disk = {"free": free}
    real_open = open

    def filling_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        fh = real_open(file, mode, *args, **kwargs)
        return _FillingFile(fh, disk) if "x" in mode or "w" in mode else fh

    monkeypatch.setattr(attachments, "open", filling_open, raising=False)
    with pytest.raises(KepuError, match=FULL) as info:
        add_attachments(db, activity_id=aid, files=files)
    assert type(info.value) is KepuError
    assert disk["free"] == 0  # the disk really filled up during the import
    assert_intact(db, before)  # no row
    assert store_files(db) == stored  # no file, no temporary file left
    monkeypatch.undo()  # space freed
    infos = add_attachments(db, activity_id=aid, files=files)
    with db.session() as s:
        assert [i.id for i in list_attachments(s, activity_id=aid)] == [i.id for i in infos]


def test_backup_when_the_attachments_do_not_fit(db: Database, office: OfficeInfo,
                                               saved: dict[str, Any],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The database copy fits, the photos do not: no backup is kept, no half copy either."""
    import db.backups as backups

    def copy_half(src: Any, dst: Any) -> None:
        data = Path(src).read_bytes()
        Path(dst).write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(backups.shutil, "copyfile", copy_half)
    with pytest.raises(KepuError, match=FULL):
        make_backup(db.path)
    folder = db.path.parent / "backups"
    assert [p.name for p in folder.rglob("*") if p.is_file()] == []
    monkeypatch.undo()
    info = make_backup(db.path)
    assert info.attachments == 1


# --- a really full filesystem --------------------------------------------------------------


@contextlib.contextmanager
def tiny_filesystem(folder: Path, size: str) -> Iterator[Path]:
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True)
    if done.returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0
                    or shutil.which("mount") is None, reason="needs root to mount a tmpfs")
def test_a_really_full_filesystem(tmp_path: Path) -> None:
    noise = tmp_path / "照片.jpg"
    Image.effect_noise((900, 900), 60).convert("RGB").save(noise, "JPEG", quality=95)
    with tiny_filesystem(tmp_path / "disk", "8m") as disk:
        path = disk / "kepu.sqlite"
        db = open_database(path, create=True)
        try:
            with db.write() as s:
                office = create_office(s, "金井镇", "350582103", "镇", "福建省泉州市晋江市",
                                       58000)
            first = lecture(db, office, "磁盘满之前", "简介")
            ballast = disk / "其他文件.bin"  # the rest of the clerk's files on that disk
            ballast.write_bytes(b"\0" * (6 * 1024 * 1024))
            with pytest.raises(KepuError, match=FULL):
                for i in range(1000):
                    lecture(db, office, f"活动{i}", "长" * 20000)
            before = dump(db)
            with pytest.raises(KepuError, match=FULL):
                make_backup(path)  # the copy does not fit either: nothing half-written kept
            assert list((disk / "backups").iterdir()) == []
            with pytest.raises(KepuError, match=FULL):
                add_attachments(db, activity_id=first, files=[noise])
            assert store_files(db) == []
            assert_intact(db, before)
            ballast.unlink()  # space freed
            assert add_attachments(db, activity_id=first, files=[noise])
            assert lecture(db, office, "清理磁盘之后")
            make_backup(path)
        finally:
            db.close()
        assert check_file(path).ok
