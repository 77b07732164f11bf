"""上报 (submitting a month): the bundle handed to the county, and checking one.

A submission bundle is one .zip file holding

- ``2025-09_350582103_return.xlsx`` — the return (月报表),
- ``2025-09_350582103_summary.pdf`` — the printed summary,
- ``data.json`` — a machine-readable copy of the month: figures (the
  ``kepu figures --json`` document), activities, roster (身份证号 and phones
  masked unless full numbers were asked for), attachment metadata,
- ``manifest.json`` — the bundle format and the SHA-256 and size of every
  other file, so the county can tell a complete, unaltered bundle.

Names inside the zip are ASCII (every unzip tool and every Windows code page
reads them the same); the Chinese title is in ``data.json``.

:func:`submit_period` is all or nothing: when anything fails before the month
is locked, nothing is locked and no bundle is left (an existing file at the
target stays as it was).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import secrets
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from db.attachments import AttachmentInfo, list_attachments
from db.concurrency import InBackground, quick_handoffs
from db.database import Database
from db.errors import KepuError, ValidationError
from db.exports import ActivityRecord
from db.offices import OfficeInfo
from db.periods import Period
from db.reporting import MonthState, month_state, submit_month
from reports import excel, pdf_summary
from reports.exports import log_full_ids
from reports.figures import figures_to_dict
from reports.report_data import ReportData, build_report_data

Progress = Callable[[int, str], None]
IsCancelled = Callable[[], bool]

BUNDLE_FORMAT = "kepu-taizhang.submission"
BUNDLE_VERSION = 1
DATA_NAME = "data.json"
MANIFEST_NAME = "manifest.json"
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class BundleFile:
    """One file of a bundle, as the manifest lists it."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class SubmissionResult:
    """What :func:`submit_period` did."""

    path: Path  # the bundle
    state: MonthState  # the month after submitting (已上报, locked)
    backup: Path  # the verified backup taken first
    files: tuple[BundleFile, ...]  # everything in the zip but the manifest
    sha256: str  # of the bundle file itself (to quote on the phone or in a letter)
    size: int
    title: str  # 金井镇2025年9月科普工作月报表（第1次修订）
    warnings: tuple[str, ...] = ()

    @property
    def revision_label(self) -> str:
        return self.state.revision_label


def bundle_names(month: str, office_code: str) -> tuple[str, str]:
    """The names of the return and the summary inside the bundle."""
    return f"{month}_{office_code}_return.xlsx", f"{month}_{office_code}_summary.pdf"


def default_bundle_name(month: str, office_name: str) -> str:
    """The bundle's file name as offered to the user: 2025-09_金井镇.zip."""
    return f"{month}_{office_name}.zip"


def check_submittable(db: Database, office: OfficeInfo, month: str,
                      today: dt.date | None = None) -> MonthState:
    """The month's state if it can be submitted now (the rules of ``submit_month``).

    Raises:
        ValidationError: not a month, the month has not ended, or it is already submitted.

    """
    period = Period.parse(month)
    if period.kind != "month":
        raise ValidationError(f"只能按月上报：“{month}”不是月份（应写成 2025-09）", field="报表期")
    today = today or dt.date.today()
    if (period.year, period.number) >= (today.year, today.month):
        raise ValidationError(f"{period.label}还没有结束，不能上报")
    with db.session() as s:
        state = month_state(s, office, period.key)
    if state.locked:
        raise ValidationError(f"{period.label}已上报，不能重复上报；如需修改，请先重新打开该月")
    return state


# --- data.json --------------------------------------------------------------------------
def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _record(obj: Any, **replace: Any) -> dict[str, Any]:
    # vars(), not dataclasses.asdict(): the records are flat, and asdict's deep copy
    # takes a second for a large month's roster.
    row = {k: _jsonable(v) for k, v in vars(obj).items()}
    row.update(replace)
    return row


def activity_dicts(data: ReportData) -> list[dict[str, Any]]:
    """The activities as JSON objects (money in 分, hours in tenths, as stored)."""
    return [_record(a) for a in data.activities]


def roster_dicts(data: ReportData) -> list[dict[str, Any]]:
    """The roster as JSON objects, 身份证号 and phone as the export shows them."""
    ids, phones = data.shown_ids, data.shown_phones
    out = []
    for r in data.roster:
        row = r._asdict()  # flat and fast: a large month has 60 000 rows
        row.update(start_date=r.start_date.isoformat(), id_number=ids[r.id_number],
                   phone=phones[r.phone],
                   birth_date=r.birth_date.isoformat() if r.birth_date else None)
        out.append(row)
    return out


def attachment_dicts(db: Database, activities: Iterable[ActivityRecord]) -> list[dict[str, Any]]:
    """Metadata of the evidence of the activities (the files stay on this computer)."""
    out = []
    with db.session() as s:
        for a in activities:
            if not a.evidence:
                continue
            info: AttachmentInfo
            for info in list_attachments(s, activity_id=a.id):
                out.append({
                    "id": info.id, "activity_id": info.activity_id, "kind": info.kind,
                    "filename": info.filename, "caption": info.caption, "size": info.size,
                    "sha256": info.sha256, "is_image": info.is_image,
                    "created_at": _jsonable(info.created_at),
                })
    return out


FIELD_NOTES = {
    "spending_fen": "经费，单位：分（元×100）",
    "volunteer_hours_x10": "志愿服务时长，单位：0.1小时",
    "train_hours_x10": "培训学时，单位：0.1学时",
    "hours_x10": "该学员学时，单位：0.1学时",
    "attend": "计入统计的参与人次（有花名册的培训按花名册）",
    "entered_attend": "填报的参与人次",
    "trainee_id": "学员编号（同一人在各期、各月相同，可用于人数去重）",
    "id_number": "身份证号（除非导出时选择完整号码，否则已隐去中间8位）",
}


def data_document(db: Database, office: OfficeInfo, data: ReportData, files: dict[str, str],
                  title: str) -> dict[str, Any]:
    """The ``data.json`` of a bundle."""
    h = data.header
    return {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_VERSION,
        "title": title,
        "generator": f"科普台账 {_app_version()}",
        "generated_at": data.generated_at.isoformat(timespec="seconds"),
        "office": {"id": office.id, **office.as_dict()},
        "period": h.period_key,
        "period_label": h.period_label,
        "revision": h.revision,
        "revision_label": h.revision_label,
        "header": {"reporter": h.reporter, "reviewer": h.reviewer, "phone": h.phone,
                   "report_date": h.report_date.isoformat()},
        "full_ids": data.full_ids,
        "files": files,
        "figures": figures_to_dict(data.figures),
        "activities": activity_dicts(data),
        "roster": roster_dicts(data),
        "attachments": attachment_dicts(db, data.activities),
        "field_notes": FIELD_NOTES,
    }


def _app_version() -> str:
    try:
        return metadata.version("kepu-taizhang")
    except metadata.PackageNotFoundError:
        return "开发版"


# --- hashing and zipping ----------------------------------------------------------------
def file_digest(path: Path) -> BundleFile:
    """Size and SHA-256 of a file."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return BundleFile(path.name, size, h.hexdigest())


def manifest_document(files: Iterable[BundleFile], created_at: dt.datetime) -> dict[str, Any]:
    """The ``manifest.json`` of a bundle."""
    return {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_VERSION,
        "created_at": created_at.isoformat(timespec="seconds"),
        "hash": "sha256",
        "files": [dataclasses.asdict(f) for f in files],
    }


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    # json.dumps, not json.dump: only the one-shot encoder runs in C.
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def _zip(folder: Path, names: list[str], target: Path) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name in names:
            zf.write(folder / name, arcname=name)


# --- submitting -------------------------------------------------------------------------
def submit_period(db: Database, office: OfficeInfo, month: str, out_zip: Path, *,
                  full_ids: bool = False, user: str | None = None,
                  progress: Progress | None = None, today: dt.date | None = None,
                  is_cancelled: IsCancelled | None = None, reporter: str | None = None,
                  reviewer: str | None = None, phone: str | None = None,
                  report_date: dt.date | None = None) -> SubmissionResult:
    """上报 a month: back up, write the bundle, then lock the month.

    In this order: check the month can be submitted; take a verified backup of
    the database, and meanwhile compute the month once and write the return and
    the summary, ``data.json`` and ``manifest.json`` into a temporary folder and
    zip them into a temporary file beside ``out_zip``; once the backup is complete,
    move the bundle into place; lock the month. A failed backup leaves no bundle
    and nothing locked.

    Args:
        db: the open database.
        office: the 填报单位.
        month: ``2025-09``.
        out_zip: the bundle file to write (replaced if it exists).
        full_ids: full 身份证号 and phones in the bundle (audited).
        user: who submits, for the audit log.
        progress: ``progress(percent, message)`` now and then.
        today: the date the rules are checked against (default: today).
        is_cancelled: polled before the month is locked; True stops the
            submission with :class:`~reports.exports.ExportCancelled`.
        reporter: 填报人 (default: the office's).
        reviewer: 审核人 (default: the office's).
        phone: 联系电话 (default: the office's).
        report_date: 报送日期 (default: ``today``).

    Returns:
        The bundle, the month's new state, the backup and the file digests.

    Raises:
        ValidationError: the month cannot be submitted (not ended, already submitted).
        KepuError: a file cannot be written; nothing was locked and no bundle left.

    """
    from reports.exports import ExportCancelled

    report: Progress = progress or (lambda _p, _m: None)
    cancelled: IsCancelled = is_cancelled or (lambda: False)

    def check() -> None:
        if cancelled():
            raise ExportCancelled

    out_zip = Path(out_zip).expanduser()
    today = today or dt.date.today()
    report(0, "正在检查能否上报…")
    check_submittable(db, office, month, today)
    period = Period.parse(month)
    if out_zip.is_dir():
        raise ValidationError(f"“{out_zip}”是文件夹，请指定上报文件名（.zip）", field="上报文件")
    if not out_zip.parent.is_dir():
        raise ValidationError(f"文件夹“{out_zip.parent}”不存在，无法保存上报文件", field="上报文件")

    report(3, "正在备份数据库…")
    # SQLite copies and checks the database without the GIL: the files are made meanwhile,
    # and the backup is complete before anything is placed or locked
    with InBackground(lambda: db.backup(reason="submit"), "kepu-submit-backup") as backing_up, \
            quick_handoffs():
        report(10, f"正在统计{period.label}的数据…")
        data = build_report_data(db, office, period, full_ids=full_ids, reporter=reporter,
                                 reviewer=reviewer, phone=phone,
                                 report_date=report_date or today)
        title = excel.return_title(data.header)
        xlsx_name, pdf_name = bundle_names(period.key, office.code)
        check()

        tmp_zip = out_zip.with_name(f".{out_zip.stem}.{secrets.token_hex(4)}.zip.part")
        aside: Path | None = None
        placed = False
        try:
            with tempfile.TemporaryDirectory(prefix="kepu-submit-") as tmp:
                folder = Path(tmp)

                def xlsx_step(p: int, m: str) -> None:
                    report(15 + 40 * max(p, 0) // 100, m)

                drawn: list[pdf_summary.PdfResult] = []

                def draw_pdf() -> None:  # while the return is compressed
                    report(55, "正在生成工作汇总（PDF）…")
                    drawn.append(pdf_summary.write_summary_pdf(data, folder / pdf_name))

                excel.write_return(data, folder / xlsx_name, progress=xlsx_step,
                                   while_saving=draw_pdf)
                pdf = drawn[0]
                check()
                report(80, "正在写入数据文件…")
                files = {"return": xlsx_name, "summary": pdf_name}
                _write_json(folder / DATA_NAME, data_document(db, office, data, files, title))
                names = [xlsx_name, pdf_name, DATA_NAME]
                digests = tuple(file_digest(folder / n) for n in names)
                _write_json(folder / MANIFEST_NAME,
                            manifest_document(digests, data.generated_at))
                check()
                report(88, "正在打包上报文件…")
                _zip(folder, [*names, MANIFEST_NAME], tmp_zip)
            check()
            if backing_up.is_alive():
                report(92, "正在完成数据库备份…")
            backup = backing_up.result()  # complete and verified before anything changes
            if full_ids:
                log_full_ids(db, office, period, "上报文件", user)
            if out_zip.exists():  # kept aside until the month is locked, then dropped
                aside = out_zip.with_name(f".{out_zip.stem}.{secrets.token_hex(4)}.zip.old")
                os.replace(out_zip, aside)
            os.replace(tmp_zip, out_zip)
            placed = True
            report(96, "正在锁定本月数据…")
            state = submit_month(db, office, period.key, user=user, today=today)
        except BaseException as err:
            with contextlib.suppress(OSError):
                tmp_zip.unlink()
            with contextlib.suppress(OSError):
                if placed:
                    out_zip.unlink()
                if aside is not None:
                    os.replace(aside, out_zip)
            if isinstance(err, OSError):
                raise KepuError(f"无法写入上报文件“{out_zip}”：{err.strerror or err}。"
                                "本月未上报、未锁定。") from err
            raise
    if aside is not None:
        with contextlib.suppress(OSError):
            aside.unlink()
    digest = file_digest(out_zip)
    report(100, "上报完成")
    return SubmissionResult(out_zip, state, backup, digests, digest.sha256, digest.size, title,
                            pdf.warnings)


# --- checking and reading ---------------------------------------------------------------
def _digest_member(zf: zipfile.ZipFile, name: str) -> BundleFile:
    h = hashlib.sha256()
    size = 0
    with zf.open(name) as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return BundleFile(name, size, h.hexdigest())


def _load_json(zf: zipfile.ZipFile, name: str) -> Any:
    with zf.open(name) as fh:
        return json.loads(fh.read().decode("utf-8"))


def verify_bundle(zip_path: Path) -> list[str]:
    """Problems with a submission bundle, in Chinese; an empty list means it is intact.

    Checks that it is a zip with ``manifest.json`` of a known format, that every
    listed file is there with the listed size and SHA-256 (and nothing unlisted
    is), and that ``data.json`` parses and holds the figures.
    """
    zip_path = Path(zip_path)
    problems: list[str] = []
    try:
        zf = zipfile.ZipFile(zip_path)
    except FileNotFoundError:
        return [f"找不到上报文件“{zip_path}”"]
    except (zipfile.BadZipFile, OSError) as err:
        return [f"“{zip_path.name}”不是有效的 zip 上报文件（{err}）"]
    with zf:
        members = {i.filename for i in zf.infolist() if not i.is_dir()}
        if MANIFEST_NAME not in members:
            return [f"缺少清单文件 {MANIFEST_NAME}，无法校验"]
        try:
            manifest = _load_json(zf, MANIFEST_NAME)
            listed = [BundleFile(str(f["name"]), int(f["size"]), str(f["sha256"]).lower())
                      for f in manifest["files"]]
            version = int(manifest.get("format_version", 0))
        except (ValueError, KeyError, TypeError, zipfile.BadZipFile, OSError) as err:
            return [f"清单文件 {MANIFEST_NAME} 无法读取：{err}"]
        if manifest.get("format") != BUNDLE_FORMAT:
            problems.append(f"不是科普台账上报文件（格式“{manifest.get('format')}”）")
        elif version > BUNDLE_VERSION:
            problems.append(f"上报文件格式版本 {version} 比本程序支持的 {BUNDLE_VERSION} 新，"
                            "请升级程序")
        for want in listed:
            if want.name not in members:
                problems.append(f"缺少文件 {want.name}")
                continue
            try:
                got = _digest_member(zf, want.name)
            except (zipfile.BadZipFile, OSError) as err:
                problems.append(f"文件 {want.name} 已损坏：{err}")
                continue
            if got.size != want.size:
                problems.append(f"文件 {want.name} 大小不符：清单 {want.size} 字节，"
                                f"实际 {got.size} 字节")
            if got.sha256 != want.sha256:
                problems.append(f"文件 {want.name} 校验值（SHA-256）不符，内容已被改动")
        extra = sorted(members - {f.name for f in listed} - {MANIFEST_NAME})
        problems += [f"文件 {name} 不在清单中" for name in extra]
        if DATA_NAME not in {f.name for f in listed}:
            problems.append(f"清单中没有数据文件 {DATA_NAME}")
        elif DATA_NAME in members:
            try:
                doc = _load_json(zf, DATA_NAME)
            except (ValueError, zipfile.BadZipFile, OSError) as err:
                problems.append(f"数据文件 {DATA_NAME} 无法解析：{err}")
            else:
                figures = doc.get("figures") if isinstance(doc, dict) else None
                if not (isinstance(figures, dict) and isinstance(figures.get("figures"), dict)
                        and figures["figures"]):
                    problems.append(f"数据文件 {DATA_NAME} 中没有指标数据")
    return problems


def read_bundle(zip_path: Path) -> dict[str, Any]:
    """The ``data.json`` of a bundle (what a county imports), after checking the bundle.

    Raises:
        KepuError: the bundle is damaged or altered (every problem listed).

    """
    problems = verify_bundle(zip_path)
    if problems:
        raise KepuError(f"上报文件“{Path(zip_path).name}”校验未通过：\n" + "\n".join(problems))
    with zipfile.ZipFile(zip_path) as zf:
        doc: dict[str, Any] = _load_json(zf, DATA_NAME)
    return doc
