"""Evidence (佐证材料): a content-addressed file store beside the database.

Files live in ``attachment_dir_for(db.path)`` (``<db file name>.files/``) under the
SHA-256 of their stored bytes: ``ab/abcdef….jpg``. The same photo attached twice
is stored once; ``attachment`` rows point at it by a relative POSIX path.

Photos are normalised on import so that reports print them quickly and no
location leaks out of the office: EXIF orientation applied, longest side at most
:data:`IMAGE_MAX_SIDE`, JPEG quality 85, metadata (EXIF, GPS, XMP, comments)
dropped. A small JPEG that carries no metadata is stored as is. With
``keep_original`` the untouched original is stored too (``original_path``).
Other files (PDF, Word, WPS, OFD, …) are stored byte for byte.

Crash safety: every file is written to a temporary name in the store, flushed
to disk and renamed into place; the rows of one import are then inserted in one
transaction. When anything fails, the files the import created and no row
references are removed again. Deleted rows leave their files in place (the GUI
can undo); :func:`collect_garbage` later moves unreferenced files to
``.trash/YYYYMMDD/`` and purges trash older than :data:`TRASH_KEEP_DAYS` days.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from PIL import Image, ImageOps, features
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from db.database import Database, is_disk_full
from db.errors import KepuError, PeriodLockedError, ValidationError
from db.models import PERIOD_SUBMITTED, Activity, Attachment, Period, Site
from db.paths import attachment_dir_for
from db.periods import month_key

IMAGE_MAX_SIDE = 2400  # px; A4 at about 200 dpi
JPEG_QUALITY = 85
SMALL_JPEG_BYTES = 1536 * 1024  # a JPEG up to 1.5 MB (and IMAGE_MAX_SIDE) is kept as is
MAX_FILE_BYTES = 200 * 1024 * 1024
CAPTION_MAX = 200

KIND_PHOTO = "照片"
KIND_SIGN_IN = "签到表"
KIND_DOCUMENT = "文档"
KINDS = (KIND_PHOTO, KIND_SIGN_IN, KIND_DOCUMENT)

TRASH_DIR = ".trash"
TRASH_KEEP_DAYS = 30
TEMP_PREFIX = ".import-"
TEMP_SUFFIX = ".part"
TEMP_MAX_AGE_S = 24 * 3600  # temp files older than this are leftovers of a crash
# An unreferenced file younger than this may belong to an import that has not
# committed yet; collect_garbage leaves it alone.
GC_GRACE_S = 3600

# The same text db.database uses when the lock trigger fires.
_LOCKED_MESSAGE = "该月已上报并锁定，不能修改其中的记录。如需修改，请先在“报表”中重新打开该月。"

_JPEG_EXTS = (".jpg", ".jpeg", ".jpe", ".jfif")
_IMAGE_FORMATS: dict[str, tuple[str, ...]] = {
    **{ext: ("JPEG",) for ext in _JPEG_EXTS},  # also opens MPO (multi-picture JPEG)
    ".png": ("PNG",),
    ".bmp": ("BMP",),
    ".gif": ("GIF",),
    ".webp": ("WEBP",),
    ".tif": ("TIFF",),
    ".tiff": ("TIFF",),
}
if features.check("avif"):
    _IMAGE_FORMATS[".avif"] = ("AVIF",)
# HEIC/HEIF is not here: Pillow cannot open it without a plug-in, so such a file
# is stored byte for byte like a document.
IMAGE_EXTENSIONS = frozenset(_IMAGE_FORMATS)
_PIL_FORMATS = tuple(sorted({f for fmts in _IMAGE_FORMATS.values() for f in fmts}))

# JPEG segments that may stay in a file stored as is: JFIF (APP0), ICC colour
# profile (APP2), Adobe colour transform (APP14). Anything else is metadata.
_HARMLESS_JPEG_APP = {"APP0", "APP2", "APP14"}
_EXT_RE = re.compile(r"^\.[a-z0-9]{1,10}$")
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class AttachmentInfo:
    """One attachment as plain values (for the GUI and the reports).

    ``original_path`` is set when an untouched original is available: either a
    separate copy (a normalised photo) or the stored file itself (a document or a
    photo stored as is), when the user asked to keep originals.
    """

    id: str
    activity_id: str | None
    site_id: str | None
    kind: str
    filename: str
    path: str
    original_path: str | None
    sha256: str
    size: int
    caption: str
    sort_order: int
    is_image: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class GarbageReport:
    """What :func:`collect_garbage` did."""

    moved: int  # unreferenced files moved into the trash
    purged_folders: int  # trash folders older than TRASH_KEEP_DAYS deleted
    missing: list[str] = field(default_factory=list)  # ids of rows whose file is gone


@dataclass(frozen=True)
class _Stored:
    path: str  # relative POSIX path in the store
    sha256: str
    size: int
    created: bool  # this call wrote the file (it did not exist before)


def store_dir(db: Database) -> Path:
    """The attachment store of ``db`` (not created here)."""
    return attachment_dir_for(db.path)


def _resolve(store: Path, rel: str) -> Path:
    parts = PurePosixPath(rel).parts
    if not parts or PurePosixPath(rel).is_absolute() or ".." in parts or "\\" in rel:
        raise KepuError(f"附件路径无效：{rel}")
    return store.joinpath(*parts)


def absolute_path(db: Database, info: AttachmentInfo, original: bool = False) -> Path:
    """Where the stored file (or the kept original) of an attachment is on disk.

    Raises:
        KepuError: ``original`` was asked for but no original was kept.
    """
    if original:
        if info.original_path is None:
            raise KepuError(f"“{info.filename}”导入时未保留原文件。")
        return _resolve(store_dir(db), info.original_path)
    return _resolve(store_dir(db), info.path)


def _is_image_path(rel: str) -> bool:
    return PurePosixPath(rel).suffix.lower() in IMAGE_EXTENSIONS


def _info(row: Attachment) -> AttachmentInfo:
    return AttachmentInfo(
        id=row.id,
        activity_id=row.activity_id,
        site_id=row.site_id,
        kind=row.kind,
        filename=row.filename,
        path=row.path,
        original_path=row.original_path,
        sha256=row.sha256,
        size=row.size,
        caption=row.caption,
        sort_order=row.sort_order,
        is_image=_is_image_path(row.path),
        created_at=row.created_at,
    )


# --------------------------------------------------------------------------- files


def _fsync_dir(path: Path) -> None:
    """Make a rename durable (POSIX only; Windows cannot open folders)."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _store_error(store: Path, err: OSError) -> KepuError:
    if is_disk_full(err):
        return KepuError("磁盘空间不足，佐证材料没有导入；已保存的数据不受影响。请清理磁盘后再试。")
    return KepuError(f"无法写入附件文件夹“{store}”：{err.strerror or err}")


def _write_stream(store: Path, chunks: Iterable[bytes], ext: str) -> _Stored:
    """Write bytes into the store under their SHA-256 (temp name, fsync, rename)."""
    digest = hashlib.sha256()
    size = 0
    tmp = store / f"{TEMP_PREFIX}{uuid.uuid4().hex}{TEMP_SUFFIX}"
    try:
        store.mkdir(parents=True, exist_ok=True)
        with open(tmp, "xb") as out:
            for chunk in chunks:
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha = digest.hexdigest()
        rel = f"{sha[:2]}/{sha}{ext}"
        final = _resolve(store, rel)
        if final.is_file():
            tmp.unlink()
            # A fresh mtime keeps a reused, so far unreferenced file safe from a
            # concurrent collect_garbage until this import has committed.
            os.utime(final)
            return _Stored(rel, sha, size, created=False)
        final.parent.mkdir(exist_ok=True)
        os.replace(tmp, final)
        _fsync_dir(final.parent)
        return _Stored(rel, sha, size, created=True)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise _store_error(store, err) from err


def _read_chunks(fh: BinaryIO) -> Iterable[bytes]:
    while chunk := fh.read(_CHUNK):
        yield chunk


def _store_copy(store: Path, src: Path, ext: str) -> _Stored:
    """Store a file byte for byte."""
    try:
        fh = open(src, "rb")  # noqa: SIM115 - closed below, errors reported per side
    except OSError as err:
        raise ValidationError(f"无法读取文件“{src.name}”：{err.strerror or err}") from err
    with fh:
        return _write_stream(store, _read_chunks(fh), ext)


def _ext_of(name: str) -> str:
    ext = Path(name).suffix.lower()
    return ext if _EXT_RE.match(ext) else ""


# -------------------------------------------------------------------------- images


def _keep_as_is(im: Image.Image, size: int) -> bool:
    """A small, upright, metadata-free baseline JPEG needs no re-encoding."""
    if im.format != "JPEG" or size > SMALL_JPEG_BYTES or max(im.size) > IMAGE_MAX_SIDE:
        return False
    if im.mode not in ("RGB", "L"):
        return False
    applist = getattr(im, "applist", [])
    return all(marker in _HARMLESS_JPEG_APP for marker, _data in applist) and not im.info.get(
        "comment"
    )


def _flatten(img: Image.Image) -> Image.Image:
    """An RGB or L image; transparency is flattened on white."""
    if img.mode in ("RGB", "L"):
        return img
    if img.mode == "1":
        return img.convert("L")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        img.mode == "P" and "transparency" in img.info
    ):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if img.mode == "I" or img.mode.startswith("I;16"):
        # 16-bit grey (scanners): scale to 8 bits instead of clipping to white.
        return img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    return img.convert("RGB")


def _reencode(im: Image.Image) -> bytes:
    """Apply orientation, scale down, flatten and save as JPEG without metadata."""
    icc = im.info.get("icc_profile")
    longest = max(im.size)
    if longest > IMAGE_MAX_SIDE and im.format in ("JPEG", "MPO"):
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: much less memory and time
        # for 50-200 megapixel photos. It never goes below the requested size.
        scale = IMAGE_MAX_SIDE / longest
        im.draft(None, (max(1, int(im.width * scale)), max(1, int(im.height * scale))))
    img = ImageOps.exif_transpose(im)
    img = _flatten(img)
    if max(img.size) > IMAGE_MAX_SIDE:
        img.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    # No exif=/xmp= arguments: metadata (GPS!) is dropped; comment=b"" stops
    # Pillow from copying a JPEG comment over.
    img.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True, icc_profile=icc, comment=b"")
    return buf.getvalue()


def _prepare_image(src: Path, size: int) -> bytes | None:
    """The normalised JPEG bytes of an image, or None to store the file as is.

    Raises:
        ValidationError: the file cannot be decoded as an image.
    """
    name = src.name
    try:
        # Any supported format, whatever the extension says: chat apps often save
        # a PNG or WebP under a .jpg name.
        with Image.open(src, formats=_PIL_FORMATS) as im:
            if _keep_as_is(im, size):
                im.load()  # decode fully: a truncated file is refused, not stored
                return None
            return _reencode(im)
    except Image.DecompressionBombError as err:
        raise ValidationError(f"图片“{name}”像素过多，无法导入，请先缩小后再试。") from err
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError) as err:
        raise ValidationError(f"无法读取图片文件“{name}”：文件已损坏或格式不受支持") from err


# ------------------------------------------------------------------------ database


def _check_owner(activity_id: str | None, site_id: str | None) -> None:
    if (activity_id is None) == (site_id is None):
        raise ValueError("exactly one of activity_id and site_id must be given")


def _check_owner_writable(
    session: Session, activity_id: str | None, site_id: str | None
) -> None:
    """Refuse a missing owner or a locked month before any file is processed."""
    if activity_id is not None:
        activity = session.get(Activity, activity_id)
        if activity is None:
            raise ValidationError("所选活动不存在或已被删除。")
        locked = session.scalar(
            select(Period.month).where(
                Period.office_id == activity.office_id,
                Period.month == month_key(activity.start_date),
                Period.status == PERIOD_SUBMITTED,
            )
        )
        if locked is not None:
            raise PeriodLockedError(_LOCKED_MESSAGE)
    elif site_id is not None and session.get(Site, site_id) is None:
        raise ValidationError("所选阵地不存在或已被删除。")


def _owner_filter(activity_id: str | None, site_id: str | None) -> ColumnElement[bool]:
    if activity_id is not None:
        return Attachment.activity_id == activity_id
    return Attachment.site_id == site_id


def _clean_caption(caption: str) -> str:
    caption = caption.strip()
    if len(caption) > CAPTION_MAX:
        raise ValidationError(f"说明不能超过 {CAPTION_MAX} 个字。", field="说明")
    return caption


def _check_files(files: Sequence[Path]) -> list[Path]:
    out: list[Path] = []
    for raw in files:
        path = Path(raw)
        try:
            st = path.stat()
        except OSError as err:
            raise ValidationError(f"找不到文件“{path.name}”。") from err
        if not path.is_file():
            raise ValidationError(f"“{path.name}”不是文件，不能作为佐证材料导入。")
        if st.st_size == 0:
            raise ValidationError(f"文件“{path.name}”是空文件，不能作为佐证材料导入。")
        if st.st_size > MAX_FILE_BYTES:
            raise ValidationError(
                f"文件“{path.name}”超过 {MAX_FILE_BYTES // (1024 * 1024)} MB，"
                "不能作为佐证材料导入，请压缩或拆分后再试。"
            )
        out.append(path)
    return out


def _referenced(db: Database, paths: set[str]) -> set[str]:
    """Which of ``paths`` some attachment row references."""
    if not paths:
        return set()
    found: set[str] = set()
    chunk = sorted(paths)
    with db.session() as s:
        for i in range(0, len(chunk), 400):
            part = chunk[i : i + 400]
            rows = s.execute(
                select(Attachment.path, Attachment.original_path).where(
                    or_(Attachment.path.in_(part), Attachment.original_path.in_(part))
                )
            )
            for path, original in rows:
                found.add(path)
                if original:
                    found.add(original)
    return found & paths


def _remove_unreferenced(db: Database, created: set[str]) -> None:
    """Undo an import: delete the files it created that no row references."""
    try:
        keep = _referenced(db, created)
    except Exception:  # noqa: BLE001 - the database is unusable: leave files to GC
        return
    store = store_dir(db)
    for rel in created - keep:
        with contextlib.suppress(OSError):
            _resolve(store, rel).unlink()


def add_attachments(
    db: Database,
    *,
    activity_id: str | None = None,
    site_id: str | None = None,
    files: Sequence[Path],
    kind: str | None = None,
    keep_original: bool = False,
    captions: Sequence[str] | None = None,
    user: str | None = None,
    progress: Callable[[int, str], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> list[AttachmentInfo]:
    """Store files as evidence of one activity or one site, all or nothing.

    Args:
        db: the open database.
        activity_id: the activity the files belong to (exactly one of the two owners).
        site_id: the site the files belong to.
        files: the files to import, in display order.
        kind: 照片, 签到表 or 文档; default 照片 for images and 文档 otherwise.
        keep_original: also keep the untouched original of a normalised photo.
        captions: one caption per file.
        user: who imports (for the audit log).
        progress: called before each file with (files done, file name) and once
            at the end with (len(files), "").
        is_cancelled: polled between files; when it returns True nothing is kept.

    Returns:
        The new attachments, in the order of ``files``.

    Raises:
        ValidationError: an empty, too large, unreadable or corrupt file, a bad
            caption or kind, or a missing owner. Nothing is stored.
        PeriodLockedError: the activity's month is reported. Nothing is stored.
        KepuError: "已取消" when cancelled, or the store cannot be written.
    """
    _check_owner(activity_id, site_id)
    if kind is not None and kind not in KINDS:
        raise ValidationError(f"附件类别只能是{'、'.join(KINDS)}。", field="类别")
    if captions is not None and len(captions) != len(files):
        raise ValueError("captions must have one entry per file")
    clean_captions = [_clean_caption(c) for c in captions] if captions else [""] * len(files)
    paths = _check_files(files)
    if not paths:
        return []
    with db.session() as s:
        _check_owner_writable(s, activity_id, site_id)

    store = store_dir(db)
    created: set[str] = set()
    try:
        prepared: list[tuple[Path, _Stored, str | None, bool]] = []
        for done, src in enumerate(paths):
            if is_cancelled is not None and is_cancelled():
                raise KepuError("已取消")
            if progress is not None:
                progress(done, src.name)
            ext = _ext_of(src.name)
            is_image = ext in IMAGE_EXTENSIONS
            if is_image:
                data = _prepare_image(src, src.stat().st_size)
                if data is None:
                    stored = _store_copy(store, src, ".jpg")
                    original = stored if keep_original else None
                else:
                    stored = _write_stream(store, [data], ".jpg")
                    original = _store_copy(store, src, ext) if keep_original else None
            else:
                stored = _store_copy(store, src, ext)
                original = stored if keep_original else None
            for item in (stored, original):
                if item is not None and item.created:
                    created.add(item.path)
            prepared.append((src, stored, original.path if original else None, is_image))
        if is_cancelled is not None and is_cancelled():
            raise KepuError("已取消")

        with db.write(user) as s:
            start = s.scalar(
                select(func.max(Attachment.sort_order)).where(_owner_filter(activity_id, site_id))
            )
            next_order = 0 if start is None else start + 1
            rows = []
            for i, (src, stored, original_path, is_image) in enumerate(prepared):
                row = Attachment(
                    activity_id=activity_id,
                    site_id=site_id,
                    kind=kind or (KIND_PHOTO if is_image else KIND_DOCUMENT),
                    filename=src.name,
                    path=stored.path,
                    original_path=original_path,
                    sha256=stored.sha256,
                    size=stored.size,
                    caption=clean_captions[i],
                    sort_order=next_order + i,
                )
                s.add(row)
                rows.append(row)
            s.flush()
            result = [_info(row) for row in rows]
    except BaseException:
        _remove_unreferenced(db, created)
        raise
    if progress is not None:
        progress(len(paths), "")
    return result


def list_attachments(
    session: Session, *, activity_id: str | None = None, site_id: str | None = None
) -> list[AttachmentInfo]:
    """The attachments of one activity or one site, in display order."""
    _check_owner(activity_id, site_id)
    rows = session.scalars(
        select(Attachment)
        .where(_owner_filter(activity_id, site_id))
        .order_by(Attachment.sort_order, Attachment.created_at, Attachment.id)
    )
    return [_info(row) for row in rows]


def _get(session: Session, attachment_id: str) -> Attachment:
    row = session.get(Attachment, attachment_id)
    if row is None:
        raise KepuError("该附件不存在或已被删除。")
    return row


def update_caption(db: Database, attachment_id: str, caption: str,
                   user: str | None = None) -> None:
    """Change the caption (说明) of an attachment."""
    caption = _clean_caption(caption)
    with db.write(user) as s:
        _get(s, attachment_id).caption = caption


def remove_attachment(db: Database, attachment_id: str,
                      user: str | None = None) -> AttachmentInfo:
    """Delete an attachment row; its file stays until :func:`collect_garbage`.

    Returns:
        What was removed, for :func:`restore_attachment` (undo).
    """
    with db.write(user) as s:
        row = _get(s, attachment_id)
        info = _info(row)
        s.delete(row)
    return info


def _recover_from_trash(store: Path, rel: str) -> None:
    """Move a file back from the trash if collect_garbage took it away."""
    target = _resolve(store, rel)
    if target.is_file():
        return
    trash = store / TRASH_DIR
    if not trash.is_dir():
        return
    for folder in sorted((d for d in trash.iterdir() if d.is_dir()), reverse=True):
        candidate = _resolve(folder, rel)
        if candidate.is_file():
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(candidate, target)
            except OSError as err:
                raise _store_error(store, err) from err
            return


def restore_attachment(db: Database, info: AttachmentInfo, user: str | None = None) -> None:
    """Re-insert a removed attachment (same id); its files come back from the trash.

    Restoring an attachment that is already there does nothing.

    Raises:
        KepuError: its activity or site is gone, or its file no longer exists.
        PeriodLockedError: the activity's month has been reported meanwhile.
    """
    _check_owner(info.activity_id, info.site_id)
    store = store_dir(db)
    with db.session() as s:
        if s.get(Attachment, info.id) is not None:
            return
        if info.activity_id is not None and s.get(Activity, info.activity_id) is None:
            raise KepuError("该附件所属的活动已被删除，无法恢复。")
        if info.site_id is not None and s.get(Site, info.site_id) is None:
            raise KepuError("该附件所属的阵地已被删除，无法恢复。")
    for rel in (info.path, info.original_path):
        if rel is not None:
            _recover_from_trash(store, rel)
    if not _resolve(store, info.path).is_file():
        raise KepuError(f"附件“{info.filename}”的文件已不存在，无法恢复。")
    with db.write(user) as s:
        s.add(
            Attachment(
                id=info.id,
                activity_id=info.activity_id,
                site_id=info.site_id,
                kind=info.kind,
                filename=info.filename,
                path=info.path,
                original_path=info.original_path,
                sha256=info.sha256,
                size=info.size,
                caption=info.caption,
                sort_order=info.sort_order,
                created_at=info.created_at,
            )
        )


def evidence_counts(session: Session, activity_ids: Sequence[str]) -> dict[str, int]:
    """Number of attachments per activity (0 for an activity without any)."""
    counts = dict.fromkeys(activity_ids, 0)
    ids = list(counts)
    for i in range(0, len(ids), 400):
        rows = session.execute(
            select(Attachment.activity_id, func.count())
            .where(Attachment.activity_id.in_(ids[i : i + 400]))
            .group_by(Attachment.activity_id)
        )
        for activity_id, n in rows:
            counts[activity_id] = n
    return counts


# ------------------------------------------------------------------------- garbage


def _trash_folder_date(folder: Path) -> dt.date | None:
    try:
        return dt.datetime.strptime(folder.name, "%Y%m%d").date()
    except ValueError:
        try:
            return dt.date.fromtimestamp(folder.stat().st_mtime)
        except OSError:
            return None


def _unique(target: Path) -> Path:
    if not target.exists():
        return target
    for n in range(1, 1000):
        candidate = target.with_name(f"{target.stem}-{n}{target.suffix}")
        if not candidate.exists():
            return candidate
    return target


def collect_garbage(db: Database) -> GarbageReport:
    """Tidy the store: trash unreferenced files, purge old trash, find missing files.

    Every file in the store that no ``attachment.path``/``original_path``
    references (and that is older than :data:`GC_GRACE_S`, so an import still
    in progress is left alone) is moved to ``.trash/YYYYMMDD/`` under its
    relative path. Trash folders older than :data:`TRASH_KEEP_DAYS` days and
    temporary files older than a day are deleted. Rows whose file is missing
    are reported, not changed.
    """
    store = store_dir(db)
    with db.session() as s:
        rows = s.execute(select(Attachment.id, Attachment.path, Attachment.original_path)).all()
    refs: set[str] = set()
    missing: list[str] = []
    for att_id, path, original in rows:
        refs.add(path)
        if original:
            refs.add(original)
        try:
            gone = not _resolve(store, path).is_file() or (
                original is not None and not _resolve(store, original).is_file()
            )
        except KepuError:
            gone = True
        if gone:
            missing.append(att_id)
    missing.sort()
    if not store.is_dir():
        return GarbageReport(moved=0, purged_folders=0, missing=missing)

    now = time.time()
    today = dt.date.today()
    trash_today = store / TRASH_DIR / today.strftime("%Y%m%d")
    moved = 0
    for dirpath, dirnames, filenames in os.walk(store):
        here = Path(dirpath)
        if here == store:
            dirnames[:] = [d for d in dirnames if d != TRASH_DIR]
        for name in filenames:
            file = here / name
            try:
                age = now - file.stat().st_mtime
                if name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX):
                    if age > TEMP_MAX_AGE_S:
                        file.unlink()
                    continue
                rel = file.relative_to(store).as_posix()
                if rel in refs or age < GC_GRACE_S:
                    continue
                target = _unique(trash_today.joinpath(*PurePosixPath(rel).parts))
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(file, target)
                moved += 1
            except OSError:
                continue  # open in a viewer (Windows) or vanished: try again next time
    # Drop emptied hash folders (never the store itself or the trash).
    for sub in store.iterdir():
        if sub.is_dir() and sub.name != TRASH_DIR:
            with contextlib.suppress(OSError):
                sub.rmdir()

    purged = 0
    trash = store / TRASH_DIR
    if trash.is_dir():
        for folder in trash.iterdir():
            if not folder.is_dir():
                continue
            day = _trash_folder_date(folder)
            if day is not None and (today - day).days > TRASH_KEEP_DAYS:
                shutil.rmtree(folder, ignore_errors=True)
                if not folder.exists():
                    purged += 1
    return GarbageReport(moved=moved, purged_folders=purged, missing=missing)

