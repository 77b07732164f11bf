"""Writing the chosen files of one period: the one function the CLI and the GUI call.

:func:`export_period` builds the period's :class:`~reports.report_data.ReportData`
once and renders from it whatever was asked for: the return (.xlsx), the printed
summary (PDF), the 佐证材料汇编 (PDF) and a filled county template. It is all or
nothing: every file is first written under a hidden temporary name beside its
target and only when all of them are complete are they moved into place, so an
error (an unknown placeholder, a full disk, 取消) leaves no new file and every
existing file as it was.

Asking for full 身份证号 and phone numbers is recorded in the audit log.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from db import audit
from db.database import Database
from db.errors import KepuError, ValidationError
from db.offices import OfficeInfo
from db.periods import Period
from reports import excel, pdf_evidence, pdf_summary, template_fill
from reports.report_data import ReportData, build_report_data

Progress = Callable[[int, str], None]
IsCancelled = Callable[[], bool]

# What each output is called in messages, in the order they are written. The
# template goes first: it is the one most likely to be refused (unknown
# placeholders), and nothing else is computed for nothing.
LABELS = {
    "template": "县级模板报表（Excel）",
    "xlsx": "月报表（Excel）",
    "pdf": "工作汇总（PDF）",
    "evidence": "佐证材料汇编（PDF）",
}
# Relative work of each step, for one progress bar over all of them.
_WEIGHTS = {"data": 15, "template": 10, "xlsx": 35, "pdf": 25, "evidence": 40}


class ExportCancelled(KepuError):  # noqa: N818 - reads better at the raise site
    """The user cancelled the export; nothing was written."""

    def __init__(self) -> None:
        super().__init__("已取消，未生成任何文件")


@dataclass(frozen=True)
class ExportedFile:
    """One written file."""

    kind: str  # xlsx / pdf / evidence / template
    path: Path
    pages: int | None = None  # PDFs only

    @property
    def label(self) -> str:
        """月报表（Excel）, 工作汇总（PDF） …"""
        return LABELS[self.kind]


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_period` wrote."""

    files: tuple[ExportedFile, ...]
    warnings: tuple[str, ...]
    revision_label: str  # "" or 第N次修订 (months only)

    @property
    def paths(self) -> tuple[Path, ...]:
        return tuple(f.path for f in self.files)


def period_of(period: Period | str) -> Period:
    """A :class:`Period` from itself or its text (2025-09, 2025-Q3, 2025)."""
    return period if isinstance(period, Period) else Period.parse(period)


def log_full_ids(db: Database, office: OfficeInfo, period: Period, what: str,
                 user: str | None = None) -> None:
    """Record in the audit log that full 身份证号/phone numbers left the program."""
    with db.write(user) as s:
        audit.log(s, "export_full_ids", "period", f"{office.id}/{period.key}",
                  note=f"导出含完整身份证号、联系电话的{what}（{period.label}）")


def _temp_beside(path: Path) -> Path:
    """A hidden name in the target's folder, keeping the suffix (writers look at it)."""
    return path.with_name(f".{path.stem}.{secrets.token_hex(4)}.export{path.suffix}")


def _check_targets(targets: dict[str, Path], template: Path | None) -> None:
    seen: dict[Path, str] = {}
    for kind, path in targets.items():
        if path.is_dir():
            raise ValidationError(f"“{path}”是文件夹，请给{LABELS[kind]}指定文件名",
                                  field="输出文件")
        if not path.parent.is_dir():
            raise ValidationError(f"文件夹“{path.parent}”不存在，无法保存{LABELS[kind]}",
                                  field="输出文件")
        key = path.resolve()
        if key in seen:
            raise ValidationError(f"{LABELS[seen[key]]}和{LABELS[kind]}不能写到同一个文件“{path}”",
                                  field="输出文件")
        if template is not None and template.exists() and key == template.resolve():
            raise ValidationError("生成的文件不能覆盖县级模板本身，请另选文件名", field="输出文件")
        seen[key] = kind


def export_period(db: Database, office: OfficeInfo, period: Period | str, *,
                  xlsx: Path | None = None, pdf: Path | None = None,
                  evidence: Path | None = None, template: Path | None = None,
                  template_out: Path | None = None, full_ids: bool = False,
                  progress: Progress | None = None, is_cancelled: IsCancelled | None = None,
                  reporter: str | None = None, reviewer: str | None = None,
                  phone: str | None = None, report_date: dt.date | None = None,
                  user: str | None = None) -> ExportResult:
    """Write the chosen outputs of a period (month, quarter or year).

    Args:
        db: the open database.
        office: the 填报单位.
        period: the period or its text.
        xlsx: the return workbook to write.
        pdf: the printed summary to write.
        evidence: the 佐证材料汇编 to write.
        template: a county template (.xlsx) to fill; needs ``template_out``.
        template_out: where the filled template goes.
        full_ids: full 身份证号 and phone numbers (audited) instead of masked ones.
        progress: ``progress(percent, message)`` now and then.
        is_cancelled: polled between steps; when it returns True the export stops
            with :class:`ExportCancelled` and nothing is written.
        reporter: 填报人 (default: the office's).
        reviewer: 审核人 (default: the office's).
        phone: 联系电话 (default: the office's).
        report_date: 报送日期 (default: today).
        user: who is exporting, for the audit log.

    Returns:
        The files written (in the order above), warnings (characters no font can
        print, template content Excel keeps but this program cannot, missing
        photos) and the revision label of the period.

    Raises:
        ValidationError: nothing asked for, or unusable output paths.
        PlaceholderError: the template has placeholders that cannot be filled
            (every one listed).
        ExportCancelled: ``is_cancelled()`` became true.
        KepuError: a file cannot be read or written.

    """
    period = period_of(period)
    if (template is None) != (template_out is None):
        raise ValidationError("填写县级模板需要同时指定模板文件和输出文件", field="县级模板")
    targets = {kind: Path(path).expanduser() for kind, path in
               (("template", template_out), ("xlsx", xlsx), ("pdf", pdf),
                ("evidence", evidence)) if path is not None}
    if not targets:
        raise ValidationError("请至少选择一种要生成的文件：Excel 月报表、PDF 汇总、"
                              "佐证材料汇编或县级模板", field="输出文件")
    template = Path(template).expanduser() if template is not None else None
    _check_targets(targets, template)

    report: Progress = progress or (lambda _p, _m: None)
    cancelled: IsCancelled = is_cancelled or (lambda: False)
    total = _WEIGHTS["data"] + sum(_WEIGHTS[k] for k in targets)
    done = 0

    def scaled(kind: str) -> Progress:
        start, span = done, _WEIGHTS[kind]
        return lambda p, m: report(min(99, (start + span * max(p, 0) // 100) * 100 // total), m)

    def check() -> None:
        if cancelled():
            raise ExportCancelled

    report(0, f"正在统计{period.label}的数据…")
    data = build_report_data(db, office, period, full_ids=full_ids, reporter=reporter,
                             reviewer=reviewer, phone=phone, report_date=report_date)
    done += _WEIGHTS["data"]
    check()

    temps: dict[str, Path] = {}
    written: list[ExportedFile] = []
    warnings: list[str] = []
    drawn: dict[str, int | None] = {}  # outputs already written alongside another

    def draw_pdf_too() -> None:
        """The summary PDF, drawn while the return is compressed (see write_return)."""
        tmp = temps["pdf"] = _temp_beside(targets["pdf"])
        drawn["pdf"] = _write_one(db, data, "pdf", tmp, template, scaled("pdf"), cancelled,
                                  warnings)

    try:
        for kind, path in targets.items():
            step = scaled(kind)
            if kind in drawn:
                pages = drawn[kind]
            else:
                tmp = temps[kind] = _temp_beside(path)
                step(0, f"正在生成{LABELS[kind]}…")
                also = draw_pdf_too if kind == "xlsx" and "pdf" in targets else None
                pages = _write_one(db, data, kind, tmp, template, step, cancelled, warnings,
                                   also)
            written.append(ExportedFile(kind, path, pages))
            done += _WEIGHTS[kind]
            check()
        if full_ids:
            names = "、".join(LABELS[k] for k in targets)
            log_full_ids(db, office, period, names, user)
        report(99, "正在保存文件…")
        for kind, path in targets.items():
            _move_into_place(temps.pop(kind), path)
    finally:
        for tmp in temps.values():
            with contextlib.suppress(OSError):
                tmp.unlink()
    report(100, "完成")
    return ExportResult(tuple(written), tuple(dict.fromkeys(warnings)),
                        data.header.revision_label)


def _write_one(db: Database, data: ReportData, kind: str, tmp: Path, template: Path | None,
               step: Progress, cancelled: IsCancelled, warnings: list[str],
               while_saving: Callable[[], None] | None = None) -> int | None:
    """Write one output to ``tmp``; returns its page count for PDFs.

    ``while_saving`` (xlsx only) runs while the workbook is being compressed.
    """
    if kind == "xlsx":
        excel.write_return(data, tmp, progress=step, while_saving=while_saving)
        return None
    if kind == "pdf":
        result = pdf_summary.write_summary_pdf(data, tmp)
        warnings.extend(result.warnings)
        return result.pages
    if kind == "evidence":
        try:
            result = pdf_evidence.write_evidence_pdf(db, data, tmp, progress=step,
                                                     is_cancelled=cancelled)
        except KepuError:
            if cancelled():
                raise ExportCancelled from None
            raise
        warnings.extend(result.warnings)
        return result.pages
    assert template is not None
    filled = template_fill.fill_template(data, template, tmp)
    warnings.extend(filled.warnings)
    return None


def _move_into_place(tmp: Path, path: Path) -> None:
    try:
        os.replace(tmp, path)
    except PermissionError:
        raise KepuError(f"无法写入“{path}”：文件可能正在被其他程序（Excel/WPS、PDF 阅读器）打开，"
                        "请关闭后重试") from None
    except OSError as err:
        raise KepuError(f"无法写入“{path}”：{err.strerror or err}") from None
