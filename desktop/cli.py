"""The ``kepu`` command: the GUI with no arguments, otherwise a command-line tool.

This module must not import Qt at module level: every subcommand works with no
display. Only running ``kepu`` without a subcommand imports :mod:`desktop.app`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from sqlalchemy import exc as sa_exc

from db.errors import DatabaseFileError, KepuError
from db.paths import resolve_db_path
from desktop import cli_reports
from desktop.logs import setup_logging

log = logging.getLogger("kepu")

_ARGPARSE_MESSAGES = (
    (re.compile(r"argument 命令: invalid choice: '?([^' ]*)'? \(choose from (.+)\)"),
     "未知命令“{0}”，可用的命令：{1}"),
    (re.compile(r"the following arguments are required: (.+)"), "缺少必填参数：{0}"),
    (re.compile(r"unrecognized arguments: (.+)"), "无法识别的参数：{0}"),
    (re.compile(r"argument (\S+): invalid choice: '?([^' ]*)'? \(choose from (.+)\)"),
     "参数 {0} 的取值“{1}”无效，可选：{2}"),
    (re.compile(r"argument (\S+): invalid int value: '?([^']*)'?"), "参数 {0} 应为整数，收到“{1}”"),
    (re.compile(r"argument (\S+): expected one argument"), "参数 {0} 需要一个值"),
)


class UsageError(KepuError):
    """Wrong command-line usage."""


class ChineseArgumentParser(argparse.ArgumentParser):
    """argparse with Chinese headings and errors raised as :class:`UsageError`."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", help="显示本帮助并退出")

    def format_usage(self) -> str:
        return super().format_usage().replace("usage:", "用法：", 1)

    def format_help(self) -> str:
        return super().format_help().replace("usage:", "用法：", 1)

    def error(self, message: str) -> NoReturn:
        for pattern, template in _ARGPARSE_MESSAGES:
            m = pattern.search(message)
            if m:
                message = template.format(*m.groups())
                break
        raise UsageError(f"{message}\n用 “{self.prog} -h” 查看用法。")


def build_parser() -> ChineseArgumentParser:
    """The whole ``kepu`` command line."""
    p = ChineseArgumentParser(
        prog="kepu",
        description="科普台账：街道/乡镇科普活动、培训学员台账与月报。不带命令时打开图形界面。",
    )
    p.add_argument("--db", metavar="PATH",
                   help="数据库文件（默认：用户数据文件夹中的 kepu.sqlite；也可用环境变量 KEPU_DB）")
    p.add_argument("--version", action="store_true", help="显示版本号并退出")
    p.add_argument("--selftest", action="store_true",
                   help="自检：在临时文件夹中建库、升级、写演示数据、计算指标、导出 Excel 和 PDF，成功则退出码为 0")
    sub = p.add_subparsers(dest="command", metavar="命令", parser_class=ChineseArgumentParser)

    s = sub.add_parser("init", help="创建数据库并设置填报单位")
    s.add_argument("--office", required=True, metavar="NAME", help="填报单位名称，如 金井镇")
    s.add_argument("--code", required=True, metavar="CODE", help="行政区划代码（6/9/12位）")
    s.add_argument("--level", required=True, choices=["镇", "街道", "乡"], help="单位级别")
    s.add_argument("--region", default="", metavar="NAME", help="所属区县，如 福建省泉州市晋江市")
    s.add_argument("--population", required=True, type=int, metavar="N", help="常住人口")

    s = sub.add_parser("demo", help="写入演示数据（只能写入空数据库）")
    s.add_argument("--year", type=int, default=dt.date.today().year, metavar="Y", help="年份")
    s.add_argument("--scale", choices=["small", "large"], default="small",
                   help="规模：small 约300项活动；large 约2万项活动、5万学员、50万人次")
    s.add_argument("--seed", type=int, default=1, metavar="N", help="随机种子（相同种子数据相同）")

    s = sub.add_parser("figures", help="计算并显示某一报表期的全部指标")
    s.add_argument("period", metavar="PERIOD", help="报表期：2025-09（月）、2025-Q3（季度）、2025（全年）")
    s.add_argument("--json", action="store_true", help="以 JSON 输出")
    s.add_argument("--office-code", metavar="CODE", help="数据库中有多个单位时指定行政区划代码")

    s = sub.add_parser("backup", help="备份数据库和佐证材料（经校验的完整副本）")
    s.add_argument("--to", metavar="PATH",
                   help="另存一份数据库副本到此文件或文件夹（默认：数据库旁的 backups 文件夹，含佐证材料）")

    sub.add_parser("backups", help="列出已有的备份（日期、原因、记录数）")

    s = sub.add_parser("restore", help="用备份恢复数据库（当前数据库先另存）")
    s.add_argument("file", metavar="FILE", help="备份文件（kepu backups 列出的文件）")

    s = sub.add_parser("check", help="检查数据库完整性与数据结构版本")
    s.add_argument("--repair", action="store_true", help="重建与活动记录不一致的全文检索索引")

    s = sub.add_parser("import", help="从Excel/WPS表格导入签到表/花名册或历史活动台账")
    kinds = s.add_subparsers(dest="what", metavar="类型", required=True,
                             parser_class=ChineseArgumentParser)
    t = kinds.add_parser("trainees", help="导入签到表/花名册（学员）")
    t.add_argument("file", metavar="FILE", help="表格文件（.xlsx、.xls、.ods）")
    t.add_argument("--training", metavar="ACTIVITY_ID",
                   help="同时加入该培训的花名册（活动编号）；不填则只登记到学员登记册")
    a = kinds.add_parser("activities", help="导入历史活动台账")
    a.add_argument("file", metavar="FILE", help="表格文件（.xlsx、.xls、.ods）")
    for k in (t, a):
        k.add_argument("--dry-run", action="store_true", help="只检查并显示结果，不写入数据库")
        k.add_argument("--skip-invalid", action="store_true",
                       help="跳过无效行，导入其余各行；无效行另存为“<文件名>_错误行.xlsx”")
        k.add_argument("--json", action="store_true", help="以 JSON 输出结果")
        k.add_argument("--sheet", metavar="NAME", help="工作表名称（默认：自动选择）")
        k.add_argument("--office-code", metavar="CODE", help="数据库中有多个单位时指定行政区划代码")

    s = sub.add_parser("template", help="下载导入模板（.xlsx）")
    s.add_argument("what", choices=["trainees", "activities"], metavar="trainees|activities",
                   help="trainees：花名册模板；activities：活动台账模板")
    s.add_argument("out", metavar="OUT.xlsx", help="要写入的模板文件")
    cli_reports.register(sub)
    return p


def _err(message: str) -> None:
    print(f"错误：{message}", file=sys.stderr)


def _open_existing(path: Path):  # noqa: ANN202 - returns db.database.Database
    from db.database import open_database

    if not path.exists():
        raise DatabaseFileError(
            f"数据库文件不存在：{path}\n请先用 “kepu init” 创建，或用 --db 指定已有的数据库。"
        )
    return open_database(path)


def cmd_init(args: argparse.Namespace, path: Path) -> int:
    from db.database import open_database
    from db.offices import create_office, log_init, validate_office

    validate_office(args.office, args.code, args.level, args.region, args.population)
    existed = path.exists()
    if existed:
        from db.offices import list_offices

        with open_database(path) as db, db.session() as s:
            offices = list_offices(s)
        if offices:
            names = "、".join(f"{o.name}（{o.code}）" for o in offices)
            raise KepuError(f"数据库 {path} 已设置填报单位：{names}，无需重复初始化。")
    try:
        with open_database(path, create=True) as db, db.write() as s:
            office = create_office(s, args.office, args.code, args.level, args.region,
                                   args.population)
            log_init(s, office)
    except BaseException:
        if not existed:
            _remove_database_files(path)
        raise
    print(f"已创建数据库：{path}")
    print(f"填报单位：{office.name}（{office.code}，{office.level}），常住人口 {office.population} 人")
    return 0


def _remove_database_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(str(path) + suffix).unlink()


def cmd_demo(args: argparse.Namespace, path: Path) -> int:
    from db.database import open_database
    from db.demo import generate_demo
    from db.offices import create_office, list_offices, log_init

    existed = path.exists()
    try:
        with open_database(path, create=True) as db:
            with db.session() as s:
                offices = list_offices(s)
            if not offices:
                with db.write() as s:
                    office = create_office(s, "金井镇", "350582103", "镇",
                                           "福建省泉州市晋江市", 58000)
                    log_init(s, office)
            elif len(offices) == 1:
                office = offices[0]
            else:
                raise KepuError("数据库中有多个单位，演示数据只能写入单一单位的数据库")

            def progress(percent: int, message: str) -> None:
                print(f"[{percent:3d}%] {message}", file=sys.stderr, flush=True)

            result = generate_demo(db, office, year=args.year, scale=args.scale, seed=args.seed,
                                   progress=progress)
    except BaseException:
        if not existed:
            _remove_database_files(path)
        raise
    print(
        f"已写入演示数据（{args.year}年，{args.scale}）：活动 {result.activities} 项"
        f"（其中培训 {result.trainings} 期），学员 {result.trainees} 人，"
        f"签到 {result.attendances} 人次，阵地 {result.sites} 处，目标 {result.targets} 项，"
        f"用时 {result.seconds:.1f} 秒。"
    )
    print(f"数据库：{path}")
    return 0


def cmd_figures(args: argparse.Namespace, path: Path) -> int:
    from db.indicators import compute_figures
    from db.offices import get_office
    from db.periods import Period
    from reports.figures import figures_to_dict, figures_to_text

    period = Period.parse(args.period)
    with _open_existing(path) as db, db.session() as s:
        office = get_office(s, args.office_code)
        figs = compute_figures(s, office, period)
    if args.json:
        json.dump(figures_to_dict(figs), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(figures_to_text(figs))
    return 0


def cmd_backup(args: argparse.Namespace, path: Path) -> int:
    from db.backups import make_backup
    from db.database import backup_file, read_schema_info

    if not path.exists():
        raise DatabaseFileError(f"数据库文件不存在：{path}")
    read_schema_info(path)  # refuse foreign / corrupt files with a clear message
    if args.to:
        dest = backup_file(path, Path(args.to).expanduser())
    else:
        dest = make_backup(path, "manual").path
    print(f"已备份并校验：{dest}")
    return 0


def cmd_backups(_args: argparse.Namespace, path: Path) -> int:
    from db.backups import list_backups

    backups = list_backups(path)
    if not backups:
        print(f"数据库 {path} 还没有备份。")
        return 0
    print(f"数据库 {path} 的备份（最新的在前）：")
    for b in backups:
        counts = ("无法读取" if b.activities is None else
                  f"活动 {b.activities} 项，学员 {b.trainees} 人，佐证材料 {b.attachments} 个")
        print(f"{b.created:%Y-%m-%d %H:%M}  {b.reason_label:<8}  {counts}  "
              f"{b.size / 1_048_576:.1f} MB  {b.path}")
    return 0


def cmd_restore(args: argparse.Namespace, path: Path) -> int:
    from db.backups import restore_backup

    backup = Path(args.file).expanduser()
    if not backup.exists():
        raise DatabaseFileError(f"备份文件不存在：{backup}")
    aside = restore_backup(path, backup)
    print(f"已用 {backup.name} 恢复数据库：{path}")
    if aside.exists():
        print(f"恢复前的数据库已另存为：{aside}")
    return 0


def cmd_check(args: argparse.Namespace, path: Path) -> int:
    from db.database import check_file, rebuild_search_index
    from db.overview import database_overview

    result = check_file(path)
    if args.repair and not result.search_index_ok and result.integrity == "ok":
        with _open_existing(path) as db:
            rebuild_search_index(db)
        print("已重建全文检索索引。")
        result = check_file(path)
    print(f"数据库：{path}")
    print(f"完整性检查：{'正常' if result.integrity == 'ok' else result.integrity}")
    print(f"外键检查：{'正常' if result.foreign_key_problems == 0 else f'{result.foreign_key_problems} 处问题'}")
    print(f"数据结构版本：{result.revision or '（空）'}（本程序：{result.head}）")
    if not result.search_index_ok:
        print("全文检索索引：与活动记录不一致（可用 kepu check --repair 重建）")
    if result.integrity == "ok" and result.revision == result.head:
        with _open_existing(path) as db:
            ov = database_overview(db)
        for o in ov.offices:
            print(f"填报单位：{o.name}（{o.code}，{o.level}）")
        print(f"活动 {ov.activities} 项（其中培训 {ov.trainings} 期），学员 {ov.trainees} 人，"
              f"签到 {ov.attendances} 人次，佐证材料 {ov.attachments} 个，阵地 {ov.sites} 处")
    if not result.ok:
        _err("数据库检查未通过")
        return 1
    print("检查通过。")
    return 0


def _pick_sheet(sheets, name: str | None, fields):  # noqa: ANN001, ANN202
    from db.imports import best_sheet, detect_header

    if name is None:
        index, guess = best_sheet(sheets, fields)
        return sheets[index], guess
    for sheet in sheets:
        if sheet.name == name:
            return sheet, detect_header(sheet, fields)
    names = "、".join(f"“{s.name}”" for s in sheets)
    raise KepuError(f"表格中没有名为“{name}”的工作表，现有：{names}")


def _print_import_text(plan, result, written_book: Path | None, refused: bool,  # noqa: ANN001
                       dry_run: bool) -> None:
    from db.imports import ACTIVITY_FIELDS, BLANK, NOTE, TOTAL, TRAINEE_FIELDS

    labels = {f.key: f.label for f in (*TRAINEE_FIELDS, *ACTIVITY_FIELDS)}
    print(f"文件：{plan.source}，工作表“{plan.sheet_name}”，表头在第{plan.header_row}行")
    if plan.training_id:
        print(f"导入到培训：{plan.training_title}")
    pairs = [f"{labels.get(k, k)}←“{plan.columns[c]}”" for k, c in plan.mapping.items()]
    print("列对应：" + "，".join(pairs))
    unit = "人" if plan.kind == "trainees" else "项"
    skipped = sum(plan.count(x) for x in (BLANK, TOTAL, NOTE))
    print(f"共 {plan.data_rows} 行数据：新增 {plan.new} {unit}，已有 {plan.existing} {unit}，"
          f"表内重复 {plan.duplicates} 行，无效 {plan.invalid} 行；"
          f"跳过空行、合计行和说明行 {skipped} 行")
    for w in plan.warnings:
        print(f"提示：{w}")
    if plan.invalid:
        print("无效行：")
        for r in plan.invalid_rows:
            for e in r.errors:
                shown = f"“{e.value}”" if e.value else ""
                print(f"  第{r.excel_row}行 {e.field}{shown}：{e.message}")
    warned = [(r.excel_row, w) for r in plan.rows for w in r.warnings]
    if warned:
        print("提示：")
        for row, w in warned[:50]:
            print(f"  第{row}行：{w}")
        if len(warned) > 50:
            print(f"  …另有 {len(warned) - 50} 条提示（用 --json 查看全部）")
    if dry_run:
        print("试运行：未写入任何数据。")
    elif refused:
        print("有无效行，未写入任何数据。请改正后重新导入，或加 --skip-invalid 跳过无效行。")
    elif result is not None and result.written:
        extra = f"，加入花名册 {result.attendances} 人次" if plan.training_id else ""
        print(f"已导入：新增 {result.imported} {unit}，已有 {result.merged} {unit}{extra}。")
        if result.backup:
            print(f"导入前已备份数据库：{result.backup}")
    else:
        print("没有需要写入的数据。")
    if written_book is not None:
        print(f"无效行已另存为：{written_book}（改正后可再次导入）")


def cmd_import(args: argparse.Namespace, path: Path) -> int:
    from db.imports import (
        ACTIVITY_FIELDS,
        TRAINEE_FIELDS,
        apply_activity_import,
        apply_trainee_import,
        error_workbook_path,
        plan_activity_import,
        plan_trainee_import,
        read_workbook,
        report_dict,
        write_error_workbook,
    )
    from db.offices import get_office

    trainees = args.what == "trainees"
    source = Path(args.file).expanduser()
    with _open_existing(path) as db:
        with db.session() as s:
            office = get_office(s, args.office_code)
        sheets = read_workbook(source)
        sheet, guess = _pick_sheet(sheets, args.sheet, TRAINEE_FIELDS if trainees
                                   else ACTIVITY_FIELDS)

        def progress(percent: int, message: str) -> None:
            if sys.stderr.isatty():
                print(f"[{percent:3d}%] {message}", file=sys.stderr, flush=True)

        with db.session() as s:
            if trainees:
                plan = plan_trainee_import(s, office, sheet, guess.mapping,
                                           header_index=guess.row_index,
                                           training_id=args.training, progress=progress)
            else:
                plan = plan_activity_import(s, office, sheet, guess.mapping,
                                            header_index=guess.row_index, progress=progress)
        refused = bool(plan.invalid) and not args.skip_invalid
        result = None
        book = None
        if not args.dry_run and not refused:
            apply = apply_trainee_import if trainees else apply_activity_import
            result = apply(db, office, plan, skip_invalid=args.skip_invalid, progress=progress)
            if plan.invalid:
                book = write_error_workbook(plan, sheet, error_workbook_path(source.resolve()))
    if args.json:
        json.dump(report_dict(plan, result), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        if book is not None:
            print(f"无效行已另存为：{book}", file=sys.stderr)
    else:
        _print_import_text(plan, result, book, refused, args.dry_run)
    return 1 if refused else 0


def cmd_template(args: argparse.Namespace, path: Path) -> int:
    from db.imports import catalog_names, write_activity_template, write_trainee_template

    choices = None
    if path.exists():  # the office's own catalogs; the built-in ones without a database
        with _open_existing(path) as db, db.session() as s:
            choices = catalog_names(s)
    write = write_trainee_template if args.what == "trainees" else write_activity_template
    out = write(Path(args.out).expanduser(), choices)
    print(f"已生成导入模板：{out}")
    return 0


COMMANDS = {
    "init": cmd_init,
    "demo": cmd_demo,
    "figures": cmd_figures,
    "backup": cmd_backup,
    "check": cmd_check,
    "import": cmd_import,
    "template": cmd_template,
    "backups": cmd_backups,
    "restore": cmd_restore,
}
COMMANDS.update(cli_reports.COMMANDS)
# Commands that write to the database take its lock (one writer at a time).
WRITE_COMMANDS = {"init", "demo", "import", "restore", "submit", "reopen"}


def _run(args: argparse.Namespace, path: Path) -> int:
    from db.lock import DatabaseLock

    writes = args.command in WRITE_COMMANDS and not getattr(args, "dry_run", False)
    if not writes:
        return COMMANDS[args.command](args, path)
    existed = path.parent.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = DatabaseLock(path, f"kepu {args.command} 命令")
    try:
        with lock:
            return COMMANDS[args.command](args, path)
    finally:
        if not path.exists():  # nothing was created: leave no lock file or folder behind
            with contextlib.suppress(OSError):
                lock_file = path.with_name(path.name + ".lock")
                lock_file.unlink(missing_ok=True)
                if not existed:
                    path.parent.rmdir()


def _database_error_message(err: sa_exc.OperationalError) -> str:
    text = str(err.orig).lower()
    if "locked" in text or "busy" in text:
        return "数据库正被其他程序使用，请稍后再试。"
    if "disk" in text and "full" in text:
        return "磁盘空间不足，操作已取消，已保存的数据未受影响。"
    if "readonly" in text or "read-only" in text:
        return "数据库文件是只读的，无法写入。"
    return f"数据库错误：{err.orig}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``kepu``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    log_path = setup_logging()
    try:
        args = build_parser().parse_args(argv)
        if args.version:
            from desktop.version import version_text

            print(version_text())
            return 0
        if args.selftest:
            from desktop.selftest import run_selftest

            return run_selftest()
        path = resolve_db_path(args.db)
        if args.command is None:
            from desktop.app import run_gui

            return run_gui(path, explicit=bool(args.db or os.environ.get("KEPU_DB")))
        return _run(args, path)
    except KepuError as err:
        _err(str(err))
        return 2
    except sa_exc.OperationalError as err:
        log.exception("database error")
        _err(_database_error_message(err))
        return 2
    except BrokenPipeError:
        # The reader went away (``kepu figures --json | head``): not an error.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the final flush
        return 0
    except KeyboardInterrupt:
        _err("已取消。")
        return 130
    except Exception:  # noqa: BLE001 - a bug: log it, never show a traceback
        log.exception("unexpected error")
        _err(f"程序错误，已记录日志：{log_path}")
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
