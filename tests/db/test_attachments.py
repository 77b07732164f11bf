"""The evidence store: normalising photos, content addressing, all-or-nothing imports, GC."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, select

import db.attachments as attachments
from db.attachments import (
    IMAGE_MAX_SIDE,
    MAX_FILE_BYTES,
    AttachmentInfo,
    absolute_path,
    add_attachments,
    collect_garbage,
    evidence_counts,
    list_attachments,
    remove_attachment,
    restore_attachment,
    store_dir,
    update_caption,
)
from db.catalogs import find_entry
from db.database import Database
from db.errors import KepuError, PeriodLockedError, ValidationError
from db.models import Activity, Attachment, AuditLog, Period, Site
from db.offices import OfficeInfo

DAY = dt.date(2025, 9, 16)
OLD = time.time() - 2 * 24 * 3600  # older than the GC grace period and the temp age


# ---------------------------------------------------------------- helpers


def make_activity(db: Database, office: OfficeInfo, day: dt.date = DAY) -> str:
    with db.write() as s:
        form = find_entry(s, "form", "讲座")
        assert form is not None
        activity = Activity(office_id=office.id, title="防范电信诈骗科普讲座",
                            start_date=day, end_date=day, form_id=form.id)
        s.add(activity)
        s.flush()
        return activity.id


def make_site(db: Database, office: OfficeInfo) -> str:
    with db.write() as s:
        kind = find_entry(s, "site_kind", "科普e站")
        assert kind is not None
        site = Site(office_id=office.id, name="阳光社区科普e站", kind_id=kind.id)
        s.add(site)
        s.flush()
        return site.id


def store_files(db: Database) -> list[str]:
    """Relative paths of the files in the store, trash excluded."""
    store = store_dir(db)
    if not store.exists():
        return []
    return sorted(
        p.relative_to(store).as_posix()
        for p in store.rglob("*")
        if p.is_file() and p.relative_to(store).parts[0] != ".trash"
    )


def attachment_rows(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Attachment)) or 0


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def big_photo(path: Path) -> Path:
    """A 4000×3000 camera JPEG, lying on its side (EXIF orientation 6), with GPS.

    Stored rotated for display, the left (red) half of the sensor image is on top.
    """
    im = Image.new("RGB", (4000, 3000), (200, 30, 30))
    im.paste((30, 30, 200), (2000, 0, 4000, 3000))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "HUAWEI"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (24.0, 45.0, 10.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (118.0, 35.0, 2.0)
    im.save(path, "JPEG", quality=95, exif=exif)
    return path


def small_jpeg(path: Path, colour: tuple[int, int, int] = (40, 160, 60), **save: object) -> Path:
    Image.new("RGB", (800, 600), colour).save(path, "JPEG", quality=85, **save)
    return path


def pdf(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + bytes(range(256)))
    return path


def close(a: tuple[int, ...], b: tuple[int, ...], tol: int = 12) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


# ---------------------------------------------------------------- import


def test_big_photo_is_rotated_scaled_and_stripped(db: Database, office: OfficeInfo,
                                                   tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    src = big_photo(tmp_path / "IMG_20250916_093000.jpg")

    [info] = add_attachments(db, activity_id=activity_id, files=[src], user="张敏")

    assert info.kind == "照片" and info.is_image
    assert info.filename == "IMG_20250916_093000.jpg"
    assert info.original_path is None
    stored = absolute_path(db, info)
    assert info.path == f"{info.sha256[:2]}/{info.sha256}.jpg"
    assert store_files(db) == [info.path]
    assert info.sha256 == sha(stored) and info.size == stored.stat().st_size
    with Image.open(stored) as im:
        assert im.format == "JPEG"
        assert im.size == (1800, IMAGE_MAX_SIDE)  # upright: portrait
        assert close(im.getpixel((900, 300)), (200, 30, 30))  # red on top
        assert close(im.getpixel((900, 2100)), (30, 30, 200))
        assert "exif" not in im.info and not im.getexif()
        assert {marker for marker, _ in im.applist} <= {"APP0", "APP2"}
    assert b"HUAWEI" not in stored.read_bytes()
    with db.session() as s:
        assert list_attachments(s, activity_id=activity_id) == [info]
        logged = s.scalars(select(AuditLog).where(AuditLog.table_name == "attachment")).all()
        assert [(log.action, log.record_id, log.user) for log in logged] == [
            ("create", info.id, "张敏")
        ]


def test_keep_original_stores_the_untouched_bytes_too(db: Database, office: OfficeInfo,
                                                      tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    src = big_photo(tmp_path / "photo.JPG")

    [info] = add_attachments(db, activity_id=activity_id, files=[src], keep_original=True)

    assert info.original_path is not None and info.original_path != info.path
    original = absolute_path(db, info, original=True)
    assert original.read_bytes() == src.read_bytes()
    assert info.original_path == f"{sha(src)[:2]}/{sha(src)}.jpg"
    assert sorted(store_files(db)) == sorted([info.path, info.original_path])
    with Image.open(absolute_path(db, info)) as im:
        assert max(im.size) == IMAGE_MAX_SIDE


def test_original_is_refused_when_not_kept(db: Database, office: OfficeInfo,
                                           tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    [info] = add_attachments(db, activity_id=activity_id, files=[big_photo(tmp_path / "a.jpg")])
    with pytest.raises(KepuError, match="未保留原文件"):
        absolute_path(db, info, original=True)


def test_png_with_alpha_becomes_a_jpeg_on_white(db: Database, office: OfficeInfo,
                                                tmp_path: Path) -> None:
    # Decision: only JPEGs are ever kept as is; every other image is stored as a
    # JPEG so the reports can embed any photo directly.
    activity_id = make_activity(db, office)
    src = tmp_path / "海报.png"
    im = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    im.paste((0, 120, 255, 255), (0, 0, 150, 200))
    im.save(src)

    [info] = add_attachments(db, activity_id=activity_id, files=[src])

    assert info.path.endswith(".jpg") and info.kind == "照片" and info.filename == "海报.png"
    with Image.open(absolute_path(db, info)) as out:
        assert out.format == "JPEG" and out.mode == "RGB" and out.size == (300, 200)
        assert close(out.getpixel((250, 100)), (255, 255, 255))  # transparent → white
        assert close(out.getpixel((50, 100)), (0, 120, 255))


def test_small_clean_jpeg_is_stored_as_is(db: Database, office: OfficeInfo,
                                          tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    src = small_jpeg(tmp_path / "wechat.jpeg")

    [info] = add_attachments(db, activity_id=activity_id, files=[src], keep_original=True)

    assert absolute_path(db, info).read_bytes() == src.read_bytes()
    assert info.path == f"{sha(src)[:2]}/{sha(src)}.jpg"
    assert info.original_path == info.path  # the stored file is the original
    assert store_files(db) == [info.path]


def test_small_jpeg_with_gps_is_reencoded_without_it(db: Database, office: OfficeInfo,
                                                     tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] = "N"
    src = small_jpeg(tmp_path / "small.jpg", exif=exif)

    [info] = add_attachments(db, activity_id=activity_id, files=[src])

    assert info.sha256 != sha(src)
    with Image.open(absolute_path(db, info)) as im:
        assert im.size == (800, 600) and not im.getexif()


def test_pdf_is_stored_byte_for_byte(db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    site_id = make_site(db, office)
    src = pdf(tmp_path / "活动方案.PDF")

    [info] = add_attachments(db, site_id=site_id, files=[src], captions=["  活动方案  "])

    assert info.kind == "文档" and not info.is_image
    assert info.site_id == site_id and info.activity_id is None
    assert info.caption == "活动方案"
    assert info.path == f"{sha(src)[:2]}/{sha(src)}.pdf"
    assert absolute_path(db, info).read_bytes() == src.read_bytes()
    assert info.size == src.stat().st_size


def test_caller_kind_wins(db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    [info] = add_attachments(db, activity_id=activity_id, kind="签到表",
                             files=[small_jpeg(tmp_path / "签到.jpg")])
    assert info.kind == "签到表" and info.is_image
    with pytest.raises(ValidationError, match="类别"):
        add_attachments(db, activity_id=activity_id, kind="视频", files=[pdf(tmp_path / "x.pdf")])


def test_same_file_twice_is_stored_once(db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    photo = big_photo(tmp_path / "a.jpg")
    doc = pdf(tmp_path / "b.pdf")

    first = add_attachments(db, activity_id=activity_id, files=[photo, doc, photo])
    second = add_attachments(db, activity_id=activity_id, files=[doc])

    assert first[0].path == first[2].path
    assert second[0].path == first[1].path
    assert sorted(store_files(db)) == sorted({first[0].path, first[1].path})
    assert attachment_rows(db) == 4
    with db.session() as s:
        listed = list_attachments(s, activity_id=activity_id)
    assert [a.sort_order for a in listed] == [0, 1, 2, 3]
    assert [a.id for a in listed] == [a.id for a in first + second]


def test_owner_must_be_exactly_one_and_exist(db: Database, office: OfficeInfo,
                                             tmp_path: Path) -> None:
    src = pdf(tmp_path / "x.pdf")
    with pytest.raises(ValueError):
        add_attachments(db, files=[src])
    with pytest.raises(ValueError):
        add_attachments(db, activity_id="a", site_id="b", files=[src])
    with pytest.raises(ValidationError, match="活动不存在"):
        add_attachments(db, activity_id="0" * 32, files=[src])
    assert store_files(db) == []


# ---------------------------------------------------------------- refusing files


def test_corrupt_image_is_refused_and_nothing_is_kept(db: Database, office: OfficeInfo,
                                                      tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    good = big_photo(tmp_path / "good.jpg")
    bad = tmp_path / "x.jpg"
    bad.write_bytes(good.read_bytes()[:5000])  # truncated

    with pytest.raises(ValidationError) as err:
        add_attachments(db, activity_id=activity_id, files=[good, bad])

    assert str(err.value) == "无法读取图片文件“x.jpg”：文件已损坏或格式不受支持"
    assert store_files(db) == []
    assert attachment_rows(db) == 0


def test_garbage_with_an_image_name_is_refused(db: Database, office: OfficeInfo,
                                               tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    bad = tmp_path / "y.png"
    bad.write_bytes(b"this is not a picture")
    with pytest.raises(ValidationError, match="无法读取图片文件“y.png”"):
        add_attachments(db, activity_id=activity_id, files=[bad])
    assert store_files(db) == []


def test_png_named_jpg_is_still_read(db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    src = tmp_path / "mmexport1726.jpg"
    Image.new("RGB", (120, 80), "yellow").save(src, "PNG")
    [info] = add_attachments(db, activity_id=activity_id, files=[src])
    with Image.open(absolute_path(db, info)) as im:
        assert im.format == "JPEG" and im.size == (120, 80)


def test_empty_and_huge_files_are_refused(db: Database, office: OfficeInfo,
                                          tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    empty = tmp_path / "空.docx"
    empty.touch()
    with pytest.raises(ValidationError, match="空文件"):
        add_attachments(db, activity_id=activity_id, files=[empty])
    huge = tmp_path / "录像.zip"
    with open(huge, "wb") as fh:  # sparse: no disk space used
        fh.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(ValidationError, match="超过 200 MB"):
        add_attachments(db, activity_id=activity_id, files=[huge])
    with pytest.raises(ValidationError, match="找不到文件"):
        add_attachments(db, activity_id=activity_id, files=[tmp_path / "nope.pdf"])
    assert store_files(db) == []
    assert attachment_rows(db) == 0


def test_caption_too_long_is_refused(db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    with pytest.raises(ValidationError, match="说明"):
        add_attachments(db, activity_id=activity_id, files=[pdf(tmp_path / "a.pdf")],
                        captions=["长" * 201])
    assert store_files(db) == []


# ---------------------------------------------------------------- failures after writing


def lock_month(db: Database, office: OfficeInfo, month: str = "2025-09") -> None:
    with db.write() as s:
        s.add(Period(office_id=office.id, month=month, status="submitted"))


def test_locked_month_is_refused_before_any_work(db: Database, office: OfficeInfo,
                                                 tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    lock_month(db, office)
    with pytest.raises(PeriodLockedError):
        add_attachments(db, activity_id=activity_id, files=[big_photo(tmp_path / "a.jpg")])
    assert store_files(db) == []


def test_lock_trigger_after_files_are_written_leaves_no_files(
    db: Database, office: OfficeInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    activity_id = make_activity(db, office)
    lock_month(db, office)
    # Skip the early check so the database trigger refuses the insert itself.
    monkeypatch.setattr(attachments, "_check_owner_writable", lambda *_args: None)
    written: list[str] = []
    real_write = attachments._write_stream

    def spy(*args: object, **kwargs: object) -> attachments._Stored:
        stored = real_write(*args, **kwargs)  # type: ignore[arg-type]
        written.append(stored.path)
        return stored

    monkeypatch.setattr(attachments, "_write_stream", spy)

    with pytest.raises(PeriodLockedError):
        add_attachments(db, activity_id=activity_id, keep_original=True,
                        files=[big_photo(tmp_path / "a.jpg"), pdf(tmp_path / "b.pdf")])

    assert len(written) == 3  # photo, its original, the PDF: all were on disk
    assert store_files(db) == []
    assert attachment_rows(db) == 0


def test_failure_in_db_step_keeps_files_other_rows_use(
    db: Database, office: OfficeInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    activity_id = make_activity(db, office)
    doc = pdf(tmp_path / "a.pdf")
    [kept] = add_attachments(db, activity_id=activity_id, files=[doc])

    def boom(_row: Attachment) -> AttachmentInfo:
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr(attachments, "_info", boom)
    with pytest.raises(RuntimeError, match="disk I/O"):
        add_attachments(db, activity_id=activity_id,
                        files=[doc, big_photo(tmp_path / "new.jpg")])

    assert store_files(db) == [kept.path]
    assert attachment_rows(db) == 1


def test_cancel_mid_batch_keeps_nothing(db: Database, office: OfficeInfo,
                                        tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    files = [big_photo(tmp_path / "1.jpg"), pdf(tmp_path / "2.pdf"), pdf(tmp_path / "3.docx")]
    seen: list[tuple[int, str]] = []

    with pytest.raises(KepuError, match="^已取消$"):
        add_attachments(db, activity_id=activity_id, files=files,
                        progress=lambda done, name: seen.append((done, name)),
                        is_cancelled=lambda: len(seen) == 2)

    assert seen == [(0, "1.jpg"), (1, "2.pdf")]
    assert store_files(db) == []
    assert attachment_rows(db) == 0


def test_progress_reports_every_file_and_the_end(db: Database, office: OfficeInfo,
                                                 tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    seen: list[tuple[int, str]] = []
    add_attachments(db, activity_id=activity_id, files=[pdf(tmp_path / "a.pdf")],
                    progress=lambda done, name: seen.append((done, name)))
    assert seen == [(0, "a.pdf"), (1, "")]


# ---------------------------------------------------------------- edit, remove, undo


def test_update_caption(db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    [info] = add_attachments(db, activity_id=activity_id, files=[pdf(tmp_path / "a.pdf")])
    update_caption(db, info.id, " 现场照片 ")
    with db.session() as s:
        assert list_attachments(s, activity_id=activity_id)[0].caption == "现场照片"
    with pytest.raises(KepuError, match="不存在"):
        update_caption(db, "0" * 32, "x")


def test_remove_and_restore_round_trip(db: Database, office: OfficeInfo,
                                       tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    before = add_attachments(db, activity_id=activity_id, keep_original=True,
                             files=[big_photo(tmp_path / "a.jpg"), pdf(tmp_path / "b.pdf")],
                             captions=["开场", "方案"])

    removed = remove_attachment(db, before[0].id)

    assert removed == before[0]
    with db.session() as s:
        assert list_attachments(s, activity_id=activity_id) == [before[1]]
    assert absolute_path(db, removed).is_file()  # files stay for undo

    restore_attachment(db, removed)
    restore_attachment(db, removed)  # a second undo is harmless
    with db.session() as s:
        assert list_attachments(s, activity_id=activity_id) == before


def test_restore_brings_files_back_from_the_trash(db: Database, office: OfficeInfo,
                                                  tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    [info] = add_attachments(db, activity_id=activity_id, keep_original=True,
                             files=[big_photo(tmp_path / "a.jpg")])
    remove_attachment(db, info.id)
    for rel in store_files(db):
        os.utime(store_dir(db) / rel, (OLD, OLD))
    assert collect_garbage(db).moved == 2
    assert store_files(db) == []

    restore_attachment(db, info)

    assert sorted(store_files(db)) == sorted([info.path, info.original_path])
    assert collect_garbage(db).missing == []


def test_restore_refuses_when_activity_is_gone(db: Database, office: OfficeInfo,
                                               tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    [info] = add_attachments(db, activity_id=activity_id, files=[pdf(tmp_path / "a.pdf")])
    with db.write() as s:
        s.delete(s.get(Activity, activity_id))
    with pytest.raises(KepuError, match="活动已被删除"):
        restore_attachment(db, info)


# ---------------------------------------------------------------- garbage collection


def test_collect_garbage(db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    activity_id = make_activity(db, office)
    keep, drop, lost = add_attachments(
        db, activity_id=activity_id,
        files=[pdf(tmp_path / "keep.pdf"), big_photo(tmp_path / "drop.jpg"),
               small_jpeg(tmp_path / "lost.jpg", colour=(9, 9, 9))],
    )
    remove_attachment(db, drop.id)
    store = store_dir(db)
    absolute_path(db, lost).unlink()  # deleted by hand in Explorer
    for rel in store_files(db):
        os.utime(store / rel, (OLD, OLD))
    # A file written a moment ago may belong to an import still running: left alone.
    fresh = store / "ff" / ("f" * 64 + ".pdf")
    fresh.parent.mkdir()
    fresh.write_bytes(b"in flight")
    stale_tmp = store / ".import-dead.part"
    stale_tmp.write_bytes(b"x")
    os.utime(stale_tmp, (OLD, OLD))
    live_tmp = store / ".import-live.part"
    live_tmp.write_bytes(b"x")
    old_trash = store / ".trash" / "20000101"
    old_trash.mkdir(parents=True)
    (old_trash / "junk.jpg").write_bytes(b"x")
    recent = (dt.date.today() - dt.timedelta(days=29)).strftime("%Y%m%d")
    (store / ".trash" / recent).mkdir()

    report = collect_garbage(db)

    assert report.moved == 1
    assert report.purged_folders == 1
    assert report.missing == [lost.id]
    today = store / ".trash" / dt.date.today().strftime("%Y%m%d")
    assert (today / drop.path).read_bytes()
    assert absolute_path(db, keep).is_file()
    assert fresh.is_file() and live_tmp.is_file()
    assert not stale_tmp.exists() and not old_trash.exists()
    assert (store / ".trash" / recent).is_dir()
    assert not (store / drop.path).parent.exists() or drop.path[:2] == keep.path[:2]
    with db.session() as s:  # the missing row is reported, not changed
        assert [a.id for a in list_attachments(s, activity_id=activity_id)] == [keep.id, lost.id]


def test_collect_garbage_without_a_store(db: Database) -> None:
    report = collect_garbage(db)
    assert (report.moved, report.purged_folders, report.missing) == (0, 0, [])
    assert not store_dir(db).exists()


# ---------------------------------------------------------------- counts


def test_evidence_counts(db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    busy = make_activity(db, office)
    idle = make_activity(db, office)
    site_id = make_site(db, office)
    doc = pdf(tmp_path / "a.pdf")
    add_attachments(db, activity_id=busy, files=[doc, small_jpeg(tmp_path / "b.jpg")])
    add_attachments(db, site_id=site_id, files=[doc])

    with db.session() as s:
        assert evidence_counts(s, [busy, idle]) == {busy: 2, idle: 0}
        assert evidence_counts(s, []) == {}


def test_every_image_format_is_known_to_pillow() -> None:
    Image.init()
    assert set(attachments._PIL_FORMATS) <= set(Image.OPEN)
