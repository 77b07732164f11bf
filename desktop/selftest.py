"""``kepu --selftest``: prove in a few seconds that this installation works.

Meant for the packaged program (PyInstaller bundle, no Python installed, maybe
no display) as much as for a source checkout. In a fresh temporary folder it
goes through what a clerk does in a month, with the real code paths:

1. creates a database at the first released schema (Alembic upgrade to 0001);
2. opens it with :func:`db.database.open_database`, which backs it up and
   upgrades it to the newest schema (the migration scripts are data files in
   the bundle, so this proves they were packaged and run);
3. creates the office and writes the small demo year 2025;
4. computes the 2025-09 figures and checks a few invariants;
5. writes the monthly return (.xlsx) and reads the 汇总表 back with openpyxl;
6. writes the PDF summary and checks it is a PDF with the bundled fonts embedded;
7. starts Qt (offscreen when there is no display) and builds the main window on
   the database (Qt plugins, the bundled font, Qt's Chinese translations);
8. renders page 1 of the PDF with pypdfium2, as the reports page's preview does.

Each step prints ``自检：<step>…… 通过``; the first failure prints
``自检失败：<step>：<reason>`` to stderr (traceback in the log file) and the
result is 1. The temporary folder is removed, and the user's settings
(window geometry, last page…) are left as they were. Nothing here touches the
user's data folder except the log file, and only on failure.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import logging
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FIRST_REVISION = "0001"
DEMO_YEAR = 2025
PERIOD = "2025-09"
OFFICE = ("金井镇", "350582103", "镇", "福建省泉州市晋江市", 58000)
LOADER_TIMEOUT_S = 60.0
SHA256_KEPU = "b345cb794246a335980afbb13d428c50eb30ff17e3038c32dfc694baba03b6b3"  # of "科普"


class SelftestError(Exception):
    """A check failed; the message says what (in Chinese)."""


class Skipped(Exception):  # noqa: N818 - not an error: the step does not apply here
    """The step does not apply to this installation; the message says why."""


def _say(text: str, *, error: bool = False) -> None:
    """One line for the user: progress on stdout, failures on stderr."""
    print(text, file=sys.stderr if error else sys.stdout, flush=True)  # noqa: T201


def _check(condition: object, message: str) -> None:
    if not condition:
        raise SelftestError(message)


def is_frozen() -> bool:
    """Tell whether this is the PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def needs_offscreen(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Whether Qt must run offscreen: Linux/BSD with no X11 or Wayland display.

    An explicit ``QT_QPA_PLATFORM`` is kept as it is.
    """
    if environ.get("QT_QPA_PLATFORM"):
        return False
    if sys.platform.startswith(("win", "darwin")):
        return False
    return not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


@dataclass
class _Context:
    """What the steps share."""

    folder: Path
    db: Any = None  # db.database.Database
    office: Any = None  # db.offices.OfficeInfo
    figures: Any = None  # db.indicators.Figures
    report: Any = None  # reports.report_data.ReportData
    pdf: Path | None = None
    qt_messages: list[str] = field(default_factory=list)

    @property
    def db_path(self) -> Path:
        return self.folder / "自检" / "kepu.sqlite"  # a non-ASCII path, as users have

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


# ----------------------------------------------------------------------------- steps


def step_environment(_ctx: _Context) -> str:
    """Versions, and the hashes the program uses."""
    from desktop.version import app_version

    # Attachments and submission bundles are checksummed with sha256; the bundle
    # ships Python's own sha256 instead of OpenSSL's (see build.spec).
    digest = hashlib.sha256("科普".encode()).hexdigest()
    _check(digest == SHA256_KEPU, f"sha256 计算结果不对：{digest}")
    kind = "打包版" if is_frozen() else "源码版"
    return (f"科普台账 {app_version()}，{kind}，Python {platform.python_version()}，"
            f"{platform.system()} {platform.machine()}")


def step_first_schema(ctx: _Context) -> str:
    """Create a database at the first released schema."""
    from alembic import command

    from db.database import _alembic_config, make_engine, read_schema_info

    path = ctx.db_path
    path.parent.mkdir(parents=True)
    engine = make_engine(path, foreign_keys=False)
    try:
        with engine.connect() as conn:
            cfg = _alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, FIRST_REVISION)
    finally:
        engine.dispose()
    revision = read_schema_info(path).revision
    _check(revision == FIRST_REVISION,
           f"新建数据库的数据结构版本是 {revision}，应为 {FIRST_REVISION}")
    return f"数据结构版本 {FIRST_REVISION}"


def step_upgrade(ctx: _Context) -> str:
    """Open it: back it up and upgrade it to the newest schema."""
    from db.database import head_revision, open_database, read_schema_info
    from db.paths import backup_dir_for

    head = head_revision()
    ctx.db = open_database(ctx.db_path)
    revision = read_schema_info(ctx.db_path).revision
    _check(revision == head, f"升级后的数据结构版本是 {revision}，应为 {head}")
    backups = list(backup_dir_for(ctx.db_path).glob(f"*before-upgrade-{FIRST_REVISION}*.sqlite"))
    if head != FIRST_REVISION:
        _check(backups, "升级前没有留下备份")
    return f"{FIRST_REVISION} → {head}，升级前已备份"


def step_demo(ctx: _Context) -> str:
    """Create the office and write the small demo year."""
    from db.demo import generate_demo
    from db.offices import create_office, log_init

    with ctx.db.write() as s:
        ctx.office = create_office(s, *OFFICE)
        log_init(s, ctx.office)
    result = generate_demo(ctx.db, ctx.office, year=DEMO_YEAR, scale="small")
    _check(result.activities > 0 and result.trainees > 0, f"演示数据为空：{result}")
    return (f"{DEMO_YEAR}年：活动 {result.activities} 项，学员 {result.trainees} 人，"
            f"签到 {result.attendances} 人次")


def step_figures(ctx: _Context) -> str:
    """Compute a month's figures and check that they add up."""
    from db.indicators import compute_figures
    from db.periods import Period

    period = Period.parse(PERIOD)
    with ctx.db.session() as s:
        figs = compute_figures(s, ctx.office, period)
    ctx.figures = figs
    count = figs["act.count"]
    _check(isinstance(count.period, int) and count.period > 0,
           f"{period.label}科普活动次数应大于 0，得到 {count.period}")
    _check(isinstance(count.ytd, int) and count.ytd >= count.period,
           f"本年累计 {count.ytd} 小于本期 {count.period}")
    months = [m.month for m in figs.monthly]
    _check(months == list(range(1, period.end.month + 1)),
           f"按月统计的月份不对：{months}")
    monthly_sum = sum(m.count for m in figs.monthly)
    _check(monthly_sum == count.ytd,
           f"各月活动次数之和 {monthly_sum} 不等于本年累计 {count.ytd}")
    _check(figs.monthly[-1].count == count.period,
           f"9月的按月次数 {figs.monthly[-1].count} 不等于本期 {count.period}")
    return f"{period.label}：活动 {count.period} 次，本年累计 {count.ytd} 次"


def step_excel(ctx: _Context) -> str:
    """Write the monthly return and read its summary sheet back."""
    from openpyxl import load_workbook

    from db.periods import Period
    from reports.excel import SHEET_SUMMARY, write_return
    from reports.report_data import build_report_data

    ctx.report = build_report_data(ctx.db, ctx.office, Period.parse(PERIOD),
                                   report_date=dt.date(2025, 10, 5))
    path = write_return(ctx.report, ctx.folder / f"月报表{PERIOD}.xlsx")
    expected = ctx.figures["act.count"]
    wb = load_workbook(path, read_only=True)
    try:
        _check(SHEET_SUMMARY in wb.sheetnames, f"工作簿中没有“{SHEET_SUMMARY}”：{wb.sheetnames}")
        row = next((r for r in wb[SHEET_SUMMARY].iter_rows(values_only=True)
                    if len(r) > 5 and r[2] == "act.count"), None)
    finally:
        wb.close()
    _check(row is not None, f"“{SHEET_SUMMARY}”中没有 act.count 一行")
    assert row is not None
    _check(row[4] == expected.period and row[5] == expected.ytd,
           f"“{SHEET_SUMMARY}”中 act.count 为 本期 {row[4]}、本年累计 {row[5]}，"
           f"应为 {expected.period}、{expected.ytd}")
    # The same file through the import reader (python-calamine, a native module).
    from db.imports import read_workbook

    sheet = next((x for x in read_workbook(path) if x.name == SHEET_SUMMARY), None)
    _check(sheet is not None, f"导入读取器读不出“{SHEET_SUMMARY}”")
    assert sheet is not None
    again = next((r for r in sheet.rows if len(r) > 5 and r[2] == "act.count"), None)
    _check(again is not None and again[4] == expected.period,
           f"导入读取器读出的 act.count 一行不对：{again}")
    return f"{SHEET_SUMMARY} act.count 本期 {row[4]}，本年累计 {row[5]}；导入读取器读回一致"


def step_pdf(ctx: _Context) -> str:
    """Write the PDF summary; check it is a PDF with the bundled fonts."""
    from reportlab.pdfbase import pdfmetrics

    from reports import pdf_fonts
    from reports.pdf_summary import write_summary_pdf

    # A 填报人 with rare characters: 𡉃 (Ext B) and 䶮 (Ext A) come from the bundled
    # Hanazono fallback faces, which are stored compressed.
    header = dataclasses.replace(ctx.report.header, reporter="张𡉃䶮")
    result = write_summary_pdf(dataclasses.replace(ctx.report, header=header),
                               ctx.folder / f"汇总{PERIOD}.pdf")
    ctx.pdf = result.path
    _check(not result.warnings, f"PDF 中有无法显示的字符：{result.warnings}")
    from reportlab.lib import rl_accel

    _check("fp_str" in rl_accel._c_funcs,  # noqa: SLF001 - the only way to ask
           "reportlab 的 C 加速模块 _rl_accel 没有加载（PDF 会慢约 20%）")
    data = result.path.read_bytes()
    _check(data.startswith(b"%PDF-"), "文件不是 PDF（开头不是 %PDF）")
    _check(b"%%EOF" in data[-64:], "PDF 文件不完整（没有 %%EOF）")
    _check(result.pages > 0, "PDF 没有页面")
    embedded = data.count(b"/FontFile2")
    _check(embedded >= 2, f"PDF 中嵌入的 TrueType 字体只有 {embedded} 个")
    names = []
    for font in (pdf_fonts.SANS, pdf_fonts.SONG, pdf_fonts.EXT_A, pdf_fonts.EXT_B):
        name = pdfmetrics.getFont(font).face.name
        name = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        # a subset is named "AAAAAA+WenQuanYiMicroHei-0"
        _check(re.search(rb"/BaseFont\s*/[A-Z]{6}\+" + re.escape(name.encode("latin-1")), data),
               f"PDF 中没有嵌入字体 {name}")
        names.append(name)
    return f"{result.pages} 页，嵌入字体 {'、'.join(names)}"


@contextlib.contextmanager
def _qt_messages(ctx: _Context) -> Iterator[None]:
    """Collect Qt's warnings while the GUI step runs; a fatal one is reported first.

    qFatal (e.g. "could not load the Qt platform plugin") aborts the process
    once the handler returns, so the failure line is printed from here.
    """
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    previous: Callable[..., None] | None = None

    def handler(mode: QtMsgType, context: object, message: str) -> None:
        if mode == QtMsgType.QtFatalMsg:
            _say(f"自检失败：图形界面：{message}", error=True)
        if mode in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            ctx.qt_messages.append(message)
        if previous is not None:
            previous(mode, context, message)
        elif mode not in (QtMsgType.QtDebugMsg, QtMsgType.QtFatalMsg):
            _say(message, error=True)

    previous = qInstallMessageHandler(handler)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)


@contextlib.contextmanager
def _settings_kept() -> Iterator[None]:
    """Put the user's QSettings back as they were (the window saves its geometry on close)."""
    from desktop.main_window import settings

    s = settings()
    before = {key: s.value(key) for key in s.allKeys()}
    file = Path(s.fileName())  # an .ini/.conf file, or a registry key on Windows
    file_existed, folder_existed = file.is_file(), file.parent.is_dir()
    try:
        yield
    finally:
        s = settings()
        for key in s.allKeys():
            if key not in before:
                s.remove(key)
            elif s.value(key) != before[key]:
                s.setValue(key, before[key])
        for key, value in before.items():
            if not s.contains(key):
                s.setValue(key, value)
        s.sync()
        if not file_existed and not before:
            with contextlib.suppress(OSError):
                file.unlink(missing_ok=True)
                if not folder_existed:
                    file.parent.rmdir()  # only if empty


def _wait(app: Any, done: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SelftestError(f"{what}超过 {timeout:.0f} 秒仍未完成")
        app.processEvents()
        time.sleep(0.005)


def step_gui(ctx: _Context) -> str:
    """Start Qt and build the main window with all its pages."""
    from PySide6.QtCore import QCoreApplication, QEvent, QLibraryInfo, qVersion

    from desktop import dashboard_page
    from desktop.app import FONT_FAMILY, create_application
    from desktop.main_window import PAGES, MainWindow

    with _qt_messages(ctx), _settings_kept():
        app = create_application(["kepu"])
        family = app.font().family()
        _check(family == FONT_FAMILY, f"内置字体未加载：界面字体是“{family}”，应为“{FONT_FAMILY}”")
        translations = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))
        has_zh = (translations / "qtbase_zh_CN.qm").is_file()
        if is_frozen():
            _check(has_zh, f"没有 Qt 中文翻译：{translations / 'qtbase_zh_CN.qm'}")
        window = MainWindow(ctx.db)
        try:
            # Every page, not only the start page (the window builds them when first
            # shown): each imports and lays out its own widgets.
            pages = {title: window.pages[title] for title, _factory in PAGES}
            _check(len(pages) == len(PAGES), f"主窗口只有 {len(pages)} 页，应有 {len(PAGES)} 页")
            for title, page in pages.items():
                if hasattr(page, "is_loading"):  # the dashboard computes in a thread
                    _wait(app, lambda page=page: not page.is_loading(), LOADER_TIMEOUT_S,
                          f"“{title}”页的统计")
                    error = getattr(page, "error", None)
                    _check(error is None, f"“{title}”页出错：{error}")
            window.resize(1200, 680)
            image = window.grab().toImage()  # paints every widget: styles and fonts
            _check(not image.isNull() and image.width() > 0, "主窗口无法绘制")
            _wait(app, lambda: window.running_jobs() == 0, LOADER_TIMEOUT_S, "后台任务")
            _check(window.close(), "主窗口拒绝关闭")
        finally:
            dashboard_page.wait_for_loaders()
            window.deleteLater()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            app.processEvents()
        platform_name = app.platformName()
    zh = "，Qt 中文翻译" if has_zh else ""
    warned = f"，Qt 警告 {len(ctx.qt_messages)} 条（见上）" if ctx.qt_messages else ""
    return (f"Qt {qVersion()}，{platform_name} 平台，主窗口 {len(PAGES)} 页，"
            f"字体 {family}{zh}{warned}")


def step_preview(ctx: _Context) -> str:
    """Render page 1 of the PDF with pypdfium2, as the preview does."""
    try:
        import pypdfium2  # noqa: F401 - only: is it there?
    except ImportError as err:
        if is_frozen():
            raise SelftestError(f"无法加载 pypdfium2：{err}") from err
        raise Skipped(f"没有安装 pypdfium2：{err}") from err
    from desktop.pdf_view import open_document, render_page

    assert ctx.pdf is not None
    doc = open_document(ctx.pdf)
    try:
        _check(len(doc) > 0, "pypdfium2 读出的 PDF 没有页面")
        page = doc[0]
        try:
            textpage = page.get_textpage()
            try:
                text = textpage.get_text_range()
            finally:
                textpage.close()
        finally:
            page.close()
        title = ctx.report.header.title
        _check(title in re.sub(r"\s+", "", text), f"第 1 页的文字中没有标题“{title}”")
        image = render_page(doc, 0, 1.0)
    finally:
        doc.close()
    _check(not image.isNull() and image.width() > 500 and image.height() > 700,
           f"第 1 页渲染出的图像大小不对：{image.width()}×{image.height()}")
    pixels = bytes(image.constBits())
    _check(min(pixels) < 96, "第 1 页渲染出来是空白")
    return f"pypdfium2 渲染第 1 页 {image.width()}×{image.height()}，标题文字可读"


STEPS: list[tuple[str, Callable[[_Context], str]]] = [
    ("运行环境", step_environment),
    ("新建数据库", step_first_schema),
    ("升级数据库", step_upgrade),
    ("写入演示数据", step_demo),
    ("计算指标", step_figures),
    ("导出 Excel 月报表", step_excel),
    ("导出 PDF 汇总", step_pdf),
    ("图形界面", step_gui),
    ("PDF 预览", step_preview),
]


def _reason(err: BaseException) -> str:
    text = str(err).strip()
    if isinstance(err, SelftestError | Skipped):
        return text
    from db.errors import KepuError

    if isinstance(err, KepuError):
        return text
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def run_selftest() -> int:
    """Run every step; 0 when all pass, 1 at the first failure."""
    started = time.perf_counter()
    if needs_offscreen():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    folder = Path(tempfile.mkdtemp(prefix="kepu-selftest-"))
    ctx = _Context(folder)
    try:
        for name, step in STEPS:
            t0 = time.perf_counter()
            try:
                detail = step(ctx)
            except Skipped as err:
                _say(f"自检：{name}（{_reason(err)}）…… 跳过")
                continue
            except Exception as err:  # noqa: BLE001 - every failure is reported the same way
                log.error("自检失败：%s", name, exc_info=True)
                _say(f"自检失败：{name}：{_reason(err)}", error=True)
                from desktop.logs import log_file

                where = log_file()
                if where is not None:
                    _say(f"详细信息已记录在日志文件：{where}", error=True)
                return 1
            seconds = time.perf_counter() - t0
            _say(f"自检：{name}（{detail}）…… 通过 {seconds:.2f} 秒")
        _say(f"自检通过，用时 {time.perf_counter() - started:.1f} 秒")
        return 0
    finally:
        ctx.close()
        shutil.rmtree(folder, ignore_errors=True)
        if folder.exists():
            _say(f"自检：临时文件夹未能删除：{folder}", error=True)
