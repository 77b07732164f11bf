"""Starting the GUI: the QApplication, the first-run dialog, the main window."""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QLibraryInfo, QLocale, Qt, QTranslator
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QMessageBox, QWidget

import resources
from db.backup_settings import run_scheduled_backup
from db.backups import list_backups
from db.database import Database, open_database
from db.errors import KepuError
from db.lock import DatabaseBusyError, DatabaseLock
from db.offices import list_offices
from desktop import messages
from desktop.first_run import FirstRunDialog
from desktop.logs import setup_logging
from desktop.main_window import MainWindow
from desktop.version import APP_NAME, app_version

log = logging.getLogger(__name__)

ORGANIZATION = "kepu"
FONT_FAMILY = "WenQuanYi Micro Hei"
_CONFIGURED = "kepu_configured"  # dynamic property: configure an application once
MIN_POINT_SIZE = 10.0  # Chinese at 9 pt is hard to read for many clerks


def load_bundled_font() -> str | None:
    """Register the bundled WenQuanYi Micro Hei; returns its family name."""
    font_id = QFontDatabase.addApplicationFont(str(resources.FONT_SANS))
    if font_id < 0:
        log.warning("无法加载内置字体 %s", resources.FONT_SANS)
        return None
    families = QFontDatabase.applicationFontFamilies(font_id)
    if FONT_FAMILY in families:
        return FONT_FAMILY
    return families[0] if families else None


def _install_qt_translations(app: QApplication) -> None:
    """Qt's own texts (standard buttons, file dialogs) in Chinese, when shipped."""
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    translator = QTranslator(app)  # owned by the app, so it stays alive
    if translator.load(QLocale(QLocale.Language.Chinese, QLocale.Country.China), "qtbase",
                       "_", folder):
        app.installTranslator(translator)


def create_application(argv: list[str]) -> QApplication:
    """Create (or, if one exists already, configure) the QApplication.

    Sets the names QSettings and dialogs use, the bundled font as the
    application font (so Chinese never depends on system fonts), Chinese
    number formatting and Qt's own Chinese texts.
    """
    existing = QApplication.instance()
    if existing is None:
        # Qt 6 always scales for high DPI; keep fractional factors (125 %, 150 %)
        # as they are instead of rounding them, so text stays the size chosen.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
        app = QApplication(argv)
    elif isinstance(existing, QApplication):
        app = existing
    else:
        raise RuntimeError("a non-widget Qt application already exists")
    if app.property(_CONFIGURED) is True:
        return app
    app.setProperty(_CONFIGURED, True)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationVersion(app_version())
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    family = load_bundled_font()
    if family is not None:
        font = QFont(family)
        font.setPointSizeF(max(app.font().pointSizeF(), MIN_POINT_SIZE))
        font.setStyleHint(QFont.StyleHint.SansSerif)
        app.setFont(font)
    _install_qt_translations(app)
    return app


def _install_excepthook() -> None:
    """An exception escaping a slot: KepuError shown as is, anything else logged as a bug."""
    showing = False

    def hook(exc_type: type[BaseException], exc: BaseException,
             tb: TracebackType | None) -> None:
        nonlocal showing
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        parent = QApplication.activeWindow()
        if isinstance(exc, KepuError):
            if not showing:
                showing = True
                try:
                    messages.show_error(parent, exc)
                finally:
                    showing = False
            return
        log.error("未处理的程序错误", exc_info=(exc_type, exc, tb))
        if not showing:
            showing = True
            try:
                messages.show_bug(parent)
            finally:
                showing = False

    sys.excepthook = hook


# The writer's lock of each open database, held while the program has it open.
_LOCKS: dict[int, DatabaseLock] = {}


def hold_lock(db: Database) -> None:
    """Take the writer's lock of a database just created by the first-run dialog."""
    if id(db) not in _LOCKS:
        _LOCKS[id(db)] = DatabaseLock(db.path, "科普台账图形界面").acquire()


def release_lock(db: Database) -> None:
    lock = _LOCKS.pop(id(db), None)
    if lock is not None:
        lock.release()


def start_daily_backup(db: Database) -> threading.Thread | None:
    """The scheduled backup (设置 → 自动备份), in the background (verified, then rotated)."""
    if db.read_only:
        return None

    def work() -> None:
        try:
            result = run_scheduled_backup(db.path)
            if result.made is not None:
                log.info("自动备份完成：%s", result.made.path.name)
            if result.warning:
                log.warning(result.warning)
        except Exception:  # noqa: BLE001 - a failed backup must not stop the program
            log.exception("自动备份失败")

    thread = threading.Thread(target=work, name="daily-backup", daemon=True)
    thread.start()
    return thread


def _has_office(db: Database) -> bool:
    with db.session() as session:
        return bool(list_offices(session))


READ_ONLY = "read-only"
RESTORED = "restored"


def ask_after_open_error(err: KepuError, parent: QWidget | None = None, *,
                         path: Path | None = None,
                         offer_read_only: bool = False) -> Path | str | None:
    """Show why a file cannot be opened and offer the ways out.

    Returns:
        Another file chosen, ``READ_ONLY`` (open this one read-only),
        ``RESTORED`` (a backup was restored over it: try again), or None to quit.
    """
    backups = list_backups(path) if path is not None and path.exists() else []
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("无法打开数据库")
    box.setText(str(err))
    ways = []
    restore = read_only = None
    if backups and not isinstance(err, DatabaseBusyError):
        restore = box.addButton("从备份恢复…", QMessageBox.ButtonRole.AcceptRole)
        ways.append("从备份恢复")
    if offer_read_only:
        read_only = box.addButton("以只读方式打开", QMessageBox.ButtonRole.AcceptRole)
        ways.append("以只读方式打开")
    choose = box.addButton("选择其他文件…", QMessageBox.ButtonRole.AcceptRole)
    quit_button = box.addButton("退出", QMessageBox.ButtonRole.RejectRole)
    box.setInformativeText("可以" + "、".join([*ways, "选择其他数据库文件"]) + "，或退出程序。")
    box.setDefaultButton(restore or read_only or choose)
    box.setEscapeButton(quit_button)
    while True:
        box.exec()
        clicked = box.clickedButton()
        if clicked is read_only and read_only is not None:
            return READ_ONLY
        if clicked is restore and restore is not None and path is not None:
            from desktop.restore_dialog import RestoreDialog

            dialog = RestoreDialog(path, parent)
            if dialog.exec() == QDialog.DialogCode.Accepted:
                return RESTORED
            continue
        if clicked is not choose:
            return None
        chosen, _filter = QFileDialog.getOpenFileName(
            parent, "选择科普台账数据库文件", "",
            "科普台账数据库 (*.sqlite *.db);;所有文件 (*)",
        )
        if chosen:
            return Path(chosen)


def open_or_set_up(path: Path, parent: QWidget | None = None) -> tuple[Database | None, int]:
    """Open the database at ``path``, running the first-run dialog if needed.

    Returns:
        The open database, or ``None`` and the exit code: 0 when the user
        cancelled the first run (nothing was created), 1 when the file could
        not be opened and the user chose 退出.

    """
    read_only = False
    while True:
        if not path.exists():
            dialog = FirstRunDialog(path, parent)
            if dialog.exec() != QDialog.DialogCode.Accepted or dialog.database is None:
                return None, 0
            hold_lock(dialog.database)
            return dialog.database, 0
        try:
            if read_only:
                return open_database(path, read_only=True), 0
            if not os.access(path, os.W_OK):
                raise KepuError(f"数据库文件“{path}”是只读的（没有写入权限），不能保存修改。")
            lock = DatabaseLock(path, "科普台账图形界面").acquire()
            try:
                db = open_database(path)
            except BaseException:
                lock.release()
                raise
            _LOCKS[id(db)] = lock
        except KepuError as err:
            busy_or_read_only = isinstance(err, DatabaseBusyError) or "只读" in str(err)
            answer = ask_after_open_error(err, parent, path=path,
                                          offer_read_only=busy_or_read_only)
            if answer is None:
                return None, 1
            if answer == READ_ONLY:
                read_only = True
            elif isinstance(answer, Path):
                path, read_only = answer, False
            continue
        if _has_office(db):
            return db, 0
        dialog = FirstRunDialog(path, parent, database=db)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            db.close()
            return None, 0
        return db, 0


def run_gui(db_path: Path, *, explicit: bool = True) -> int:
    """The GUI entry point (``kepu`` with no subcommand); returns the exit code.

    Without an explicit ``--db``/``KEPU_DB``, a data location chosen in 设置
    (更改数据文件位置) is used when that file exists.
    """
    app = create_application(sys.argv[:1])
    if not explicit:
        from desktop.settings_page import DB_PATH_SETTING, next_start_setting

        chosen = next_start_setting().value(DB_PATH_SETTING, "", type=str)
        if chosen and Path(chosen).is_file():
            db_path = Path(chosen)
    setup_logging()
    _install_excepthook()
    db, code = open_or_set_up(Path(db_path))
    if db is None:
        return code
    backup = start_daily_backup(db)
    try:
        window = MainWindow(db)
        if db.read_only:
            window.setWindowTitle(window.windowTitle() + "（只读）")
            window.statusBar().showMessage("数据库以只读方式打开：可以查看和导出，不能修改。")
        window.show()
        return app.exec()
    finally:
        if backup is not None:
            backup.join(timeout=30)  # let a running copy finish (it is atomic anyway)
        db.close()
        release_lock(db)
