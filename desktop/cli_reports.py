"""The report commands of ``kepu``: report, submit, reopen, placeholders.

:func:`register` adds them to the ``kepu`` parser and :data:`COMMANDS` maps
their names to handlers with the signature of :mod:`desktop.cli`'s own
(``handler(args, db_path) -> exit code``); ``desktop.cli`` includes both. As
there, errors are :class:`~db.errors.KepuError` with a Chinese message, which
``kepu`` prints and exits with 2, having changed nothing.

No Qt here, and no import of :mod:`desktop.cli` (which imports this module).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from db.errors import DatabaseFileError, ValidationError

Handler = Callable[[argparse.Namespace, Path], int]

SENSITIVE = ("注意：文件中含完整身份证号和联系电话（敏感个人信息），请妥善保管、用后删除；"
             "本次导出已记入操作日志。")


def register(subparsers: Any) -> None:
    """Add the report commands to ``kepu``'s subparsers (an ``add_subparsers()`` result)."""
    s = subparsers.add_parser(
        "report", help="生成某一报表期的月报表（Excel）、工作汇总（PDF）、佐证材料汇编"
                       "或县级模板报表")
    s.add_argument("period", metavar="PERIOD",
                   help="报表期：2025-09（月）、2025-Q3（季度）、2025（全年）")
    s.add_argument("--xlsx", metavar="OUT.xlsx", help="月报表（Excel）写入的文件")
    s.add_argument("--pdf", metavar="OUT.pdf", help="工作汇总（PDF）写入的文件")
    s.add_argument("--evidence", metavar="OUT.pdf", help="佐证材料汇编（PDF）写入的文件")
    s.add_argument("--template", metavar="IN.xlsx",
                   help="县区下发的报表模板（含 {{act.count}} 等占位符）")
    s.add_argument("--out", metavar="OUT.xlsx",
                   help="填好的县级模板报表写入的文件（与 --template 一起用）")
    _common(s)

    s = subparsers.add_parser("submit", help="上报某月：生成上报文件（.zip）并锁定该月数据")
    s.add_argument("period", metavar="MONTH", help="月份，如 2025-09")
    s.add_argument("--out", required=True, metavar="BUNDLE.zip", help="上报文件（.zip）")
    _common(s)

    s = subparsers.add_parser("reopen", help="重新打开已上报的月份以便修改（须说明原因）")
    s.add_argument("period", metavar="MONTH", help="月份，如 2025-09")
    s.add_argument("--reason", required=True, metavar="TEXT", help="重新打开的原因（记入操作日志）")
    s.add_argument("--office-code", metavar="CODE", help="数据库中有多个单位时指定行政区划代码")

    subparsers.add_parser("placeholders", help="列出县级报表模板可用的占位符")


def _common(s: argparse.ArgumentParser) -> None:
    s.add_argument("--full-ids", action="store_true",
                   help="输出完整身份证号和联系电话（默认隐去中间部分；导出记入操作日志）")
    s.add_argument("--reporter", metavar="NAME", help="填报人（默认：单位设置中的填报人）")
    s.add_argument("--reviewer", metavar="NAME", help="审核人（默认：单位设置中的审核人）")
    s.add_argument("--phone", metavar="PHONE", help="联系电话（默认：单位设置中的联系电话）")
    s.add_argument("--date", metavar="YYYY-MM-DD", help="报送日期（默认：今天）")
    s.add_argument("--office-code", metavar="CODE", help="数据库中有多个单位时指定行政区划代码")


# --- helpers ----------------------------------------------------------------------------
def _open_existing(path: Path) -> Any:  # db.database.Database
    from db.database import open_database

    if not path.exists():
        raise DatabaseFileError(
            f"数据库文件不存在：{path}\n请先用 “kepu init” 创建，或用 --db 指定已有的数据库。"
        )
    return open_database(path)


def _office(db: Any, code: str | None) -> Any:  # db.offices.OfficeInfo
    from db.offices import get_office

    with db.session() as s:
        return get_office(s, code)


def _report_date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"报送日期“{text}”格式不对，应为 2025-10-05",
                              field="报送日期") from None


def _header(args: argparse.Namespace) -> dict[str, Any]:
    return {"reporter": args.reporter, "reviewer": args.reviewer, "phone": args.phone,
            "report_date": _report_date(args.date)}


def _month(text: str) -> str:
    from db.periods import Period

    period = Period.parse(text)
    if period.kind != "month":
        raise ValidationError(f"只能按月上报或重新打开：“{text}”不是月份（应写成 2025-09）",
                              field="报表期")
    return period.key


def _progress(percent: int, message: str) -> None:
    if sys.stderr.isatty():
        print(f"[{max(percent, 0):3d}%] {message}", file=sys.stderr, flush=True)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(n // 1024, 1)} KB"


# --- commands ---------------------------------------------------------------------------
def cmd_report(args: argparse.Namespace, path: Path) -> int:
    """``kepu report PERIOD --xlsx … --pdf … --evidence … --template … --out …``."""
    from db.periods import Period
    from reports.exports import export_period

    if args.template and not args.out:
        raise ValidationError("用 --template 填写县级模板时，还要用 --out 指定填好的报表写入的文件")
    if args.out and not args.template:
        raise ValidationError("--out 用于县级模板报表，需要同时用 --template 指定模板文件")
    if not (args.xlsx or args.pdf or args.evidence or args.template):
        raise ValidationError("请至少指定一种要生成的文件：--xlsx（月报表）、--pdf（工作汇总）、"
                              "--evidence（佐证材料汇编）或 --template 与 --out（县级模板）")
    period = Period.parse(args.period)
    header = _header(args)

    def opt(value: str | None) -> Path | None:
        return Path(value).expanduser() if value else None

    with _open_existing(path) as db:
        office = _office(db, args.office_code)
        result = export_period(
            db, office, period, xlsx=opt(args.xlsx), pdf=opt(args.pdf),
            evidence=opt(args.evidence), template=opt(args.template),
            template_out=opt(args.out), full_ids=args.full_ids, progress=_progress, **header)
    suffix = f"（{result.revision_label}）" if result.revision_label else ""
    print(f"{office.name}{period.label}{suffix}：")
    for f in result.files:
        pages = f"，{f.pages} 页" if f.pages is not None else ""
        print(f"已生成{f.label}：{f.path}（{_size(f.path.stat().st_size)}{pages}）")
    for w in result.warnings:
        print(f"提示：{w}")
    if args.full_ids:
        print(SENSITIVE)
    return 0


def cmd_submit(args: argparse.Namespace, path: Path) -> int:
    """``kepu submit MONTH --out BUNDLE.zip``."""
    from reports.bundle import submit_period

    month = _month(args.period)
    header = _header(args)
    out = Path(args.out).expanduser()
    if out.suffix.lower() != ".zip":
        raise ValidationError(f"上报文件应为 .zip 文件：“{out.name}”", field="上报文件")
    with _open_existing(path) as db:
        office = _office(db, args.office_code)
        result = submit_period(db, office, month, out, full_ids=args.full_ids,
                               progress=_progress, **header)
    revision = f"（{result.revision_label}）" if result.revision_label else ""
    print(f"已上报 {office.name}{int(month[:4])}年{int(month[5:])}月{revision}，该月数据已锁定。")
    print(f"上报文件：{result.path}（{_size(result.size)}）")
    print(f"SHA-256：{result.sha256}")
    print(f"上报前已备份数据库：{result.backup}")
    for w in result.warnings:
        print(f"提示：{w}")
    if args.full_ids:
        print(SENSITIVE)
    return 0


def cmd_reopen(args: argparse.Namespace, path: Path) -> int:
    """``kepu reopen MONTH --reason TEXT``."""
    from db.reporting import reopen_month

    month = _month(args.period)
    with _open_existing(path) as db:
        office = _office(db, args.office_code)
        state = reopen_month(db, office, month, args.reason)
    print(f"已重新打开 {office.name}{int(month[:4])}年{int(month[5:])}月，可以修改其中的记录；"
          f"再次上报时报表标注“{state.revision_label}”。")
    return 0


def builtin_catalogs() -> dict[str, list[Any]]:
    """The catalogs shipped in resources, as a database would hold them before any change."""
    from db.catalogs import CatalogItem, default_catalogs
    from db.models import CATALOG_KINDS

    out: dict[str, list[Any]] = {k: [] for k in CATALOG_KINDS}
    for kind, entries in default_catalogs().items():
        out[kind] = [CatalogItem("", kind, e["code"], e.get("name", e["code"]), (i + 1) * 10,
                                 False, True, dict(e.get("props", {})))
                     for i, e in enumerate(entries)]
    return out


def cmd_placeholders(_args: argparse.Namespace, path: Path) -> int:
    """``kepu placeholders``: the office's catalogs if the database exists, else the built-in."""
    from reports.placeholders import format_placeholder_list

    if path.exists():
        from db.catalogs import all_catalogs

        with _open_existing(path) as db, db.session() as s:
            catalogs: dict[str, list[Any]] = dict(all_catalogs(s))
    else:
        catalogs = builtin_catalogs()
    sys.stdout.write(format_placeholder_list(catalogs))
    return 0


COMMANDS: dict[str, Handler] = {
    "report": cmd_report,
    "submit": cmd_submit,
    "reopen": cmd_reopen,
    "placeholders": cmd_placeholders,
}

__all__ = ["COMMANDS", "register"]
