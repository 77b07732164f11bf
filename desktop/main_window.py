"""The main window: navigation on the left, one page at a time on the right."""

from __future__ import annotations

import platform
from collections.abc import Callable
from pathlib import Path

import PySide6
from PySide6.QtCore import QSettings, QSize, Qt, QUrl, Slot, qVersion
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QStackedWidget,
    QWidget,
)

from db.database import Database, head_revision
from db.offices import OfficeInfo, get_office
from db.overview import Overview, database_overview
from desktop.catalog_page import CatalogPage
from desktop.dashboard_page import DashboardPage
from desktop.ledger_page import LedgerPage
from desktop.overview_page import OverviewPage
from desktop.reports_page import ReportsPage
from desktop.settings_page import SettingsPage
from desktop.sites_page import SitesPage
from desktop.targets_page import TargetsPage
from desktop.trainee_page import TraineePage
from desktop.version import app_version
from desktop.worker import BackgroundJob, Cancelled, IsCancelled, Progress, run_in_background

PageFactory = Callable[[Database, OfficeInfo], QWidget]

# The pages, in navigation order. Adding a page is adding a line here. A page may
# have a ``changed`` signal (emitted after it saved something) and a
# ``data_changed()`` slot (called when another page saved something).
PAGES: list[tuple[str, PageFactory]] = [
    ("首页", lambda db, office: DashboardPage(db, office)),
    ("活动台账", lambda db, office: LedgerPage(db, office)),
    ("学员", lambda db, office: TraineePage(db, office)),
    ("报表", lambda db, office: ReportsPage(db, office)),
    ("年度目标", lambda db, office: TargetsPage(db, office)),
    ("科普阵地", lambda db, office: SitesPage(db, office)),
    ("目录设置", lambda db, office: CatalogPage(db, office)),
    ("设置", lambda db, office: SettingsPage(db, office)),
    ("数据概况", lambda db, office: OverviewPage(db)),
]
START_PAGE = "首页"
OVERVIEW = "数据概况"
SETTINGS_PAGE = "main_window/page"

DEFAULT_SIZE = QSize(1200, 680)  # fits a 1366×768 screen with a taskbar
SETTINGS_GEOMETRY = "main_window/geometry"
SETTINGS_BACKUP_DIR = "backup/last_dir"


class _Pages(dict[str, QWidget]):
    """The pages built so far; looking one up builds it."""

    def __init__(self, build: Callable[[str], QWidget]) -> None:
        super().__init__()
        self._build = build

    def __missing__(self, title: str) -> QWidget:
        page = self._build(title)
        self[title] = page
        return page


def settings() -> QSettings:
    """The user's preferences (window geometry, last folders)."""
    return QSettings("kepu", "kepu")


class MainWindow(QMainWindow):
    """The window of one open database."""

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        with db.session() as session:
            self.office = get_office(session)
        self.setWindowTitle("科普台账")

        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.stack = QStackedWidget()
        # Pages are built when first shown (start-up builds only the start page);
        # ``self.pages[title]`` builds one on demand, iterating sees the built ones.
        self.pages = _Pages(self._build_page)
        self._holders: dict[str, QScrollArea] = {}
        for title, _factory in PAGES:
            # On a screen narrower than a page needs (1024×768), scroll rather than
            # force the window wider than the screen.
            holder = QScrollArea()
            holder.setWidgetResizable(True)
            holder.setFrameShape(QFrame.Shape.NoFrame)
            self._holders[title] = holder
            self.stack.addWidget(holder)
            self.nav.addItem(title)
        metrics = self.nav.fontMetrics()
        for row in range(self.nav.count()):
            self.nav.item(row).setSizeHint(QSize(0, metrics.height() + 16))
        widest = max(metrics.horizontalAdvance(t) for t, _ in PAGES)
        self.nav.setFixedWidth(max(128, widest + 48))
        self._row = -1
        self.nav.currentRowChanged.connect(self._show_page)
        titles = [t for t, _ in PAGES]
        start = settings().value(SETTINGS_PAGE, START_PAGE, type=str)
        self.nav.setCurrentRow(titles.index(start) if start in titles else
                               titles.index(START_PAGE))

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self._build_menus()

        self.path_label = QLabel(str(db.path))
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.records_label = QLabel()
        self.statusBar().addWidget(self.path_label, 1)
        self.statusBar().addPermanentWidget(self.records_label)

        self.show_overview(database_overview(db))

        self._restore_geometry()

    # -- menus -----------------------------------------------------------------

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("文件(&F)")
        self.backup_action = QAction("备份数据库(&B)…", self)
        self.backup_action.setShortcut(QKeySequence("Ctrl+B"))
        self.backup_action.triggered.connect(self.backup)
        file_menu.addAction(self.backup_action)
        self.restore_action = QAction("从备份恢复(&R)…", self)
        self.restore_action.triggered.connect(self.restore_from_backup)
        file_menu.addAction(self.restore_action)
        self.open_folder_action = QAction("打开数据所在文件夹(&O)", self)
        self.open_folder_action.triggered.connect(self.open_data_folder)
        file_menu.addAction(self.open_folder_action)
        file_menu.addSeparator()
        self.quit_action = QAction("退出(&X)", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.quit_action)

        help_menu = self.menuBar().addMenu("帮助(&H)")
        self.about_action = QAction("关于科普台账(&A)", self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.about)
        help_menu.addAction(self.about_action)

    # -- pages -------------------------------------------------------------------

    def _build_page(self, title: str) -> QWidget:
        factory = dict(PAGES)[title]
        page = factory(self.db, self.office)
        self._holders[title].setWidget(page)
        changed = getattr(page, "changed", None)
        if changed is not None:
            changed.connect(lambda source=page: self.data_changed(source))
        office_saved = getattr(page, "office_saved", None)
        if office_saved is not None:
            office_saved.connect(self._office_saved)
        if isinstance(page, OverviewPage):
            page.overview_changed.connect(self.show_overview)
        if isinstance(page, DashboardPage):
            self._route_dashboard(page)
        return page

    def _route_dashboard(self, dashboard: DashboardPage) -> None:
        dashboard.open_ledger.connect(self.open_ledger)
        dashboard.open_targets.connect(lambda: self.show_page("年度目标"))
        dashboard.new_activity.connect(self.new_activity)
        dashboard.open_reports.connect(self.open_reports)

    @Slot(object)
    def open_ledger(self, request: dict[str, object]) -> None:
        """Show the ledger filtered as another page asks."""
        ledger = self.show_page("活动台账")
        if isinstance(ledger, LedgerPage):
            ledger.apply_request(request)

    @Slot(str)
    def open_reports(self, month: str) -> None:
        """Show the reports page on a month."""
        if "报表" not in dict(PAGES):
            return
        page = self.show_page("报表")
        show_month = getattr(page, "show_month", None)
        if show_month is not None:
            show_month(month)

    @Slot(object)
    def new_activity(self, initial: object) -> None:
        """Open the activity form pre-filled (e.g. for an upcoming campaign)."""
        from desktop.activity_form import ActivityDialog

        dialog = ActivityDialog(self.db, self.office, initial=initial, parent=self)  # type: ignore[arg-type]
        try:
            if dialog.exec() == QDialog.DialogCode.Accepted:
                self.data_changed(None)
        finally:
            dialog.deleteLater()

    @Slot(int)
    def _show_page(self, row: int) -> None:
        if row == self._row or row < 0:
            return
        if self._row >= 0 and not self._can_leave(self.pages[PAGES[self._row][0]]):
            self.nav.blockSignals(True)  # stay: the page has unsaved changes
            self.nav.setCurrentRow(self._row)
            self.nav.blockSignals(False)
            return
        self._row = row
        self.pages[PAGES[row][0]]  # noqa: B018 - build it before it shows
        self.stack.setCurrentIndex(row)
        settings().setValue(SETTINGS_PAGE, PAGES[row][0])

    @staticmethod
    def _can_leave(page: QWidget) -> bool:
        """Ask a page with unsaved edits whether to save them (it may refuse to go)."""
        can_leave = getattr(page, "can_leave", None)
        return bool(can_leave()) if can_leave is not None else True

    @Slot(object)
    def _office_saved(self, office: OfficeInfo) -> None:
        self.office = office
        self.setWindowTitle(f"科普台账 — {office.name}")
        self.data_changed()

    def show_page(self, title: str) -> QWidget:
        """Switch to a page by its navigation title and return it."""
        self.nav.setCurrentRow([t for t, _ in PAGES].index(title))
        return self.pages[title]

    def data_changed(self, source: QWidget | None = None) -> None:
        """Something was saved: let the other pages and the status bar catch up."""
        for page in self.pages.values():
            if page is source:
                continue
            refresh = getattr(page, "data_changed", None)
            if refresh is not None:
                refresh()
        overview_page = self.pages.get(OVERVIEW)
        if isinstance(overview_page, OverviewPage):
            overview_page.refresh()
        else:
            self.show_overview(database_overview(self.db))

    # -- overview / status bar ---------------------------------------------------

    @Slot(object)
    def show_overview(self, overview: Overview) -> None:
        """Title and status bar from the latest overview."""
        names = "、".join(o.name for o in overview.offices) or "未设置填报单位"
        self.setWindowTitle(f"科普台账 — {names}")
        self.records_label.setText(f"共 {overview.total_records:,} 条记录")

    # -- actions -----------------------------------------------------------------

    @Slot()
    def backup(self) -> None:
        """Ask for a folder, back the database up into it and say where the copy is."""
        start = settings().value(SETTINGS_BACKUP_DIR, "", type=str) or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "选择备份保存到的文件夹", start)
        if not folder:
            return
        settings().setValue(SETTINGS_BACKUP_DIR, folder)
        db = self.db

        def work(progress: Progress, is_cancelled: IsCancelled) -> Path:
            progress(-1, "正在备份并校验数据库…")
            dest = db.backup(Path(folder))
            if is_cancelled():  # the copy cannot be interrupted; don't keep it
                dest.unlink(missing_ok=True)
                raise Cancelled
            return dest

        self.backup_action.setEnabled(False)
        job = run_in_background(self, work, self._backup_done, title="备份数据库",
                                label="正在备份数据库…",
                                on_cancelled=self._backup_cancelled)
        job.finished.connect(lambda: self.backup_action.setEnabled(True))

    def _backup_done(self, dest: Path) -> None:
        self.statusBar().showMessage(f"已备份到 {dest}", 10_000)
        QMessageBox.information(
            self, "备份完成", f"数据库已备份，备份文件已通过完整性校验：\n\n{dest}"
        )

    def _backup_cancelled(self) -> None:
        self.statusBar().showMessage("已取消备份，未保留备份文件", 10_000)

    @Slot()
    def restore_from_backup(self) -> None:
        """Replace the database with a chosen backup, then reload every page."""
        from desktop.restore_dialog import RestoreDialog

        if self.running_jobs():
            QMessageBox.information(self, "科普台账", "后台任务还在进行，请等它完成后再恢复。")
            return
        if self.db.read_only:
            QMessageBox.information(self, "科普台账", "数据库以只读方式打开，不能恢复。")
            return
        if not all(self._can_leave(page) for page in self.pages.values()):
            return
        self.db.engine.dispose()  # no connection may hold the old file
        dialog = RestoreDialog(self.db.path, self)
        restored = dialog.exec() == QDialog.DialogCode.Accepted
        self.db.engine.dispose()
        if not restored:
            return
        self.data_changed()
        QMessageBox.information(
            self, "恢复完成",
            f"已用 {dialog.restored_from.name if dialog.restored_from else '备份'} 恢复数据库。\n"
            f"恢复前的数据库另存为：\n{dialog.kept_aside}")

    @Slot()
    def open_data_folder(self) -> None:
        """Show the folder of the database file in the system's file manager."""
        folder = self.db.path.parent
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            QMessageBox.warning(self, "科普台账", f"无法打开文件夹：\n{folder}")

    @Slot()
    def about(self) -> None:
        """Version, schema version, database path, Python and Qt versions."""
        QMessageBox.about(
            self,
            "关于科普台账",
            "<h3>科普台账</h3>"
            "<p>街道、乡镇科普工作台账、月报与汇总（离线使用，不联网）。</p>"
            "<table>"
            f"<tr><td>程序版本：</td><td>{app_version()}</td></tr>"
            f"<tr><td>数据结构版本：</td><td>{head_revision()}</td></tr>"
            f"<tr><td>数据库：</td><td>{_html(str(self.db.path))}</td></tr>"
            f"<tr><td>Python：</td><td>{platform.python_version()}</td></tr>"
            f"<tr><td>Qt：</td><td>{qVersion()}（PySide6 {PySide6.__version__}）</td></tr>"
            "</table>",
        )

    # -- window state --------------------------------------------------------------

    def _restore_geometry(self) -> None:
        geometry = settings().value(SETTINGS_GEOMETRY)
        if geometry is not None and self.restoreGeometry(geometry):
            return
        size = QSize(DEFAULT_SIZE)
        screen = self.screen()
        if screen is not None:
            size = size.boundedTo(screen.availableGeometry().size())
        self.resize(size)

    def running_jobs(self) -> int:
        """How many background jobs of this window are still running."""
        return sum(1 for job in self.findChildren(BackgroundJob) if job.is_running())

    def closeEvent(self, event: QCloseEvent) -> None:
        """Refuse while background work runs; remember the geometry."""
        if self.running_jobs():
            QMessageBox.information(self, "科普台账", "后台任务还在进行，请等它完成后再退出。")
            event.ignore()
            return
        if not all(self._can_leave(page) for page in self.pages.values()):
            event.ignore()
            return
        settings().setValue(SETTINGS_GEOMETRY, self.saveGeometry())
        super().closeEvent(event)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
