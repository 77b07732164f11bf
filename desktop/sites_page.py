"""科普阵地: the register of the office's sites (科普e站, 科普画廊, 科普书屋 …).

The table lists every site with its 五有 checklist, activities and photos; a
dialog adds or edits one (validation messages from :mod:`db.sites` under the
fields, nothing saved on an error). Site photos are stored with
:func:`db.attachments.add_attachments` in the background once the site is saved.
A closed site keeps its record with a 停用日期, so past figures still count it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QDate,
    QSize,
    Qt,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QDesktopServices,
    QGuiApplication,
    QIcon,
    QIntValidator,
    QKeySequence,
    QPalette,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from db.attachments import (
    IMAGE_EXTENSIONS,
    AttachmentInfo,
    absolute_path,
    add_attachments,
    list_attachments,
    remove_attachment,
)
from db.catalogs import CatalogItem
from db.database import Database
from db.errors import KepuError, ValidationError
from db.ledger import village_choices
from db.offices import OfficeInfo
from db.sites import (
    FIVE_HAVES,
    SiteInput,
    SiteRow,
    create_site,
    delete_site,
    list_sites,
    site_kinds,
    update_site,
    validate_site,
)
from desktop import messages
from desktop.evidence_panel import load_thumbnail
from desktop.field_errors import FieldErrors, error_label
from desktop.photo_grid import LocalFileDrops, thumbnail_list
from desktop.table_model import CENTER, ModelIndex, SimpleTableModel
from desktop.targets_page import ask, settings
from desktop.widgets import page_title
from desktop.worker import BackgroundJob, Cancelled, IsCancelled, Progress, run_in_background

log = logging.getLogger(__name__)

HINT_STYLE = "color: #555555;"
ALL_KINDS = "全部类型"
SETTINGS_LAST_DIR = "sites/last_photo_dir"
THUMB = QSize(96, 72)
GRID = QSize(116, 112)
PHOTO_FILTER = ("图片 (" + " ".join(f"*{ext}" for ext in sorted(IMAGE_EXTENSIONS)) + ");;"
                "全部文件 (*)")
IN_USE, CLOSED, NOT_YET = "使用中", "已停用", "未启用"
QUEUED_TEXT = "保存后上传"


def site_status(row: SiteRow, today: dt.date | None = None) -> str:
    """使用中, 已停用 (停用日期 reached) or 未启用 (启用日期 still ahead)."""
    today = today or dt.date.today()
    if row.data.closed_on is not None and row.data.closed_on <= today:
        return CLOSED
    if row.data.opened_on is not None and row.data.opened_on > today:
        return NOT_YET
    return IN_USE


def checklist_text(row: SiteRow) -> str:
    """"4/5" for a kind with a checklist (五有), "" otherwise."""
    if not row.checklist_items:
        return ""
    return f"{row.checklist_done}/{len(row.checklist_items)}"


def checklist_tooltip(row: SiteRow) -> str:
    """Which checklist items are missing."""
    if not row.checklist_items:
        return ""
    label = "五有" if tuple(row.checklist_items) == FIVE_HAVES else "检查项"
    missing = [i for i in row.checklist_items if not row.data.checklist.get(i)]
    if not missing:
        return f"{label}齐全：{'、'.join(row.checklist_items)}"
    return f"{label}缺：{'、'.join(missing)}"


def summary_text(rows: Sequence[SiteRow], today: dt.date | None = None) -> str:
    """共 N 处阵地，其中使用中 M 处（科普e站 X 处，五有齐全 Y 处）."""
    in_use = [r for r in rows if site_status(r, today) == IN_USE]
    text = f"共 {len(rows)} 处阵地，其中使用中 {len(in_use)} 处"
    parts = []
    kinds: dict[str, list[SiteRow]] = {}
    for r in in_use:
        if r.checklist_items:
            kinds.setdefault(r.kind, []).append(r)
    for kind, sites in kinds.items():
        label = "五有" if tuple(sites[0].checklist_items) == FIVE_HAVES else "检查项"
        complete = sum(1 for r in sites if r.checklist_done == len(r.checklist_items))
        parts.append(f"{kind} {len(sites)} 处，{label}齐全 {complete} 处")
    if parts:
        text += "（" + "；".join(parts) + "）"
    return text


def _date_text(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


# -- the table model -------------------------------------------------------------------------


class SitesModel(SimpleTableModel):
    """The sites shown (a register has tens of rows: all are held)."""

    COLUMNS = ("名称", "类型", "村/社区", "地址", "面积（㎡）", "启用日期", "停用日期", "状态",
               "五有", "活动次数", "照片")
    NAME, KIND, VILLAGE, ADDRESS, AREA, OPENED, CLOSED, STATUS, CHECKLIST, ACTIVITIES, PHOTOS = (
        range(11))
    NUMERIC = (AREA, ACTIVITIES, PHOTOS)
    IdRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[SiteRow] = []
        self.today = dt.date.today()

    def set_rows(self, rows: Sequence[SiteRow]) -> None:
        """Show these sites."""
        self.beginResetModel()
        self.rows = list(rows)
        self.today = dt.date.today()
        self.endResetModel()

    def row_of(self, site_id: str) -> int:
        """Return the row of a site, -1 when it is not shown."""
        return next((i for i, r in enumerate(self.rows) if r.id == site_id), -1)

    def site(self, row: int) -> SiteRow | None:
        """Return the site in a row, or None."""
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def header_tooltip(self, column: int) -> str | None:
        """What 五有 means."""
        return "科普e站“五有”：网络、人员、场所、活动、终端" if column == self.CHECKLIST else None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Texts, alignment, tooltips; closed sites greyed."""
        if not self.cell_in_range(index):
            return None
        column = index.column()
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == self.IdRole:
            return row.id
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return CENTER if column == self.CHECKLIST else self.alignment(column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.CHECKLIST:
                return checklist_tooltip(row) or None
            if column in (self.NAME, self.ADDRESS) and row.data.note:
                return f"备注：{row.data.note}"
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            status = site_status(row, self.today)
            if status != IN_USE:
                return QGuiApplication.palette().color(QPalette.ColorGroup.Active,
                                                       QPalette.ColorRole.PlaceholderText)
            if column == self.CHECKLIST and row.checklist_items and (
                    row.checklist_done < len(row.checklist_items)):
                return QBrush(QColor("#b26a00"))
        return None

    def _text(self, row: SiteRow, column: int) -> str:
        d = row.data
        if column == self.NAME:
            return d.name
        if column == self.KIND:
            return row.kind
        if column == self.VILLAGE:
            return d.village
        if column == self.ADDRESS:
            return d.address
        if column == self.AREA:
            return "" if d.area_m2 is None else f"{d.area_m2:,}"
        if column == self.OPENED:
            return _date_text(d.opened_on)
        if column == self.CLOSED:
            return _date_text(d.closed_on)
        if column == self.STATUS:
            return site_status(row, self.today)
        if column == self.CHECKLIST:
            return checklist_text(row)
        if column == self.ACTIVITIES:
            return str(row.activities)
        return str(row.photos) if row.photos else ""


# -- photos --------------------------------------------------------------------------------


class SitePhotos(LocalFileDrops, QWidget):
    """Thumbnails of a site's photos; additions and removals apply on 保存.

    New files are shown greyed ("保存后上传"); :meth:`apply` removes the
    photos taken out and stores the new ones in the background.
    """

    changed = Signal()

    def __init__(self, db: Database, site_id: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.site_id = site_id
        self.stored: list[AttachmentInfo] = []
        self.queued: list[Path] = []
        self.removed: list[AttachmentInfo] = []
        self.job: BackgroundJob[Any] | None = None
        self.setAcceptDrops(True)

        self.list = thumbnail_list("site_photos", THUMB, GRID)
        self.list.setMinimumHeight(GRID.height() + 10)
        self.list.itemDoubleClicked.connect(lambda _item: self.open_selected())
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self.hint = QLabel("还没有照片。可添加阵地外景、内景、设备照片（也可以把图片拖到这里）。")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(HINT_STYLE)
        self.add_button = QPushButton("添加照片…")
        self.add_button.clicked.connect(self.choose_files)
        self.remove_button = QPushButton("移除所选")
        self.remove_button.setToolTip("保存后生效（Delete）")
        self.remove_button.clicked.connect(self.remove_selected)
        for button in (self.add_button, self.remove_button):
            button.setAutoDefault(False)
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.remove_selected)

        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.hint)
        layout.addWidget(self.list, 1)
        self.refresh()

    def has_changes(self) -> bool:
        """Whether photos were added or taken out since the dialog opened."""
        return bool(self.queued or self.removed)

    def is_busy(self) -> bool:
        """Whether photos are being stored."""
        return self.job is not None and self.job.is_running()

    def refresh(self) -> None:
        """Read the stored photos again and rebuild the grid."""
        if self.site_id is not None:
            with self.db.session() as s:
                gone = {a.id for a in self.removed}
                self.stored = [a for a in list_attachments(s, site_id=self.site_id)
                               if a.id not in gone]
        self._rebuild()

    def _rebuild(self) -> None:
        self.list.clear()
        for info in self.stored:
            item = QListWidgetItem(self._icon_of_stored(info), info.caption or info.filename)
            item.setData(Qt.ItemDataRole.UserRole, ("stored", info.id))
            item.setToolTip(info.filename)
            self.list.addItem(item)
        for path in self.queued:
            icon = self._icon(path)
            item = QListWidgetItem(QIcon(icon.pixmap(THUMB, QIcon.Mode.Disabled)),
                                   f"{path.name}\n{QUEUED_TEXT}")
            item.setData(Qt.ItemDataRole.UserRole, ("queued", str(path)))
            item.setToolTip(f"{path}\n{QUEUED_TEXT}")
            self.list.addItem(item)
        self.hint.setVisible(self.list.count() == 0)
        self._update_buttons()

    def _icon(self, path: Path) -> QIcon:
        pixmap = load_thumbnail(path, THUMB) if path.suffix.lower() in IMAGE_EXTENSIONS else None
        if pixmap is None:
            return self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon)
        return QIcon(pixmap)

    def _icon_of_stored(self, info: AttachmentInfo) -> QIcon:
        try:
            return self._icon(absolute_path(self.db, info))
        except KepuError:
            return self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)

    def _update_buttons(self) -> None:
        busy = self.is_busy()
        self.add_button.setEnabled(not busy)
        self.remove_button.setEnabled(not busy and bool(self.list.selectedItems()))

    @Slot()
    def choose_files(self) -> None:
        """Ask for photos to add."""
        start = settings().value(SETTINGS_LAST_DIR, "", type=str) or str(Path.home())
        names, _filter = QFileDialog.getOpenFileNames(self, "添加阵地照片", start, PHOTO_FILTER)
        if names:
            settings().setValue(SETTINGS_LAST_DIR, str(Path(names[0]).parent))
            self.add_files([Path(n) for n in names])

    def add_files(self, paths: Sequence[Path]) -> None:
        """Queue files to be stored when the site is saved."""
        have = {p.resolve() for p in self.queued}
        for path in paths:
            path = Path(path)
            if path.is_file() and path.resolve() not in have:
                self.queued.append(path)
                have.add(path.resolve())
        self._rebuild()
        self.changed.emit()

    @Slot()
    def remove_selected(self) -> None:
        """Take the selected photos out (stored ones are removed on 保存)."""
        if self.is_busy():
            return
        keys = [tuple(i.data(Qt.ItemDataRole.UserRole)) for i in self.list.selectedItems()]
        ids = {k[1] for k in keys if k[0] == "stored"}
        paths = {k[1] for k in keys if k[0] == "queued"}
        self.removed += [a for a in self.stored if a.id in ids]
        self.stored = [a for a in self.stored if a.id not in ids]
        self.queued = [p for p in self.queued if str(p) not in paths]
        self._rebuild()
        self.changed.emit()

    @Slot()
    def open_selected(self) -> None:
        """Open the selected photos with the system's viewer."""
        for item in self.list.selectedItems():
            what, key = item.data(Qt.ItemDataRole.UserRole)
            if what == "stored":
                info = next(a for a in self.stored if a.id == key)
                try:
                    path = absolute_path(self.db, info)
                except KepuError as err:
                    messages.show_error(self, err)
                    return
            else:
                path = Path(key)
            if not path.is_file() or not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
                QMessageBox.warning(self, messages.APP_TITLE, f"无法打开文件：\n{path}")
                return

    def apply(self, site_id: str, on_finished: Any) -> BackgroundJob[Any] | None:
        """Remove the photos taken out, store the new ones in the background.

        ``on_finished(outcome)`` is called with "ok", "cancelled", "error" or "bug";
        None is returned (and ``on_finished`` called at once) when there is no file
        to store.
        """
        self.site_id = site_id
        for info in list(self.removed):
            remove_attachment(self.db, info.id)
            self.removed.remove(info)
        files = list(self.queued)
        if not files:
            self.refresh()
            on_finished("ok")
            return None
        db = self.db
        total = len(files)

        def work(progress: Progress, is_cancelled: IsCancelled) -> int:
            def report(done: int, name: str) -> None:
                if name:
                    progress(done * 100 // total, f"正在导入第 {done + 1}/{total} 张照片：{name}")

            try:
                add_attachments(db, site_id=site_id, files=files, progress=report,
                                is_cancelled=is_cancelled)
            except KepuError as err:
                if is_cancelled():
                    raise Cancelled from err
                raise
            return total

        job: BackgroundJob[Any] = run_in_background(
            self.window(), work, lambda _n: None, title="导入阵地照片",
            label=f"正在导入 {total} 张照片…")
        self.job = job
        self._update_buttons()

        def finished() -> None:
            if job.outcome == "ok":
                self.queued = []
            self.job = None
            self.refresh()
            on_finished(job.outcome or "bug")

        job.finished.connect(finished)
        return job

    # drag and drop

    def _accepts_files(self) -> bool:
        """Dropped files are queued unless photos are being stored."""
        return not self.is_busy()


# -- the dialog ------------------------------------------------------------------------------


class OptionalDate(QWidget):
    """A check box that enables a date: unchecked means "not known / not set"."""

    def __init__(self, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.check = QCheckBox(label)
        self.edit = QDateEdit()
        self.edit.setDisplayFormat("yyyy-MM-dd")
        self.edit.setCalendarPopup(True)
        self.edit.setMinimumDate(QDate(1950, 1, 1))
        self.edit.setMaximumDate(QDate(2099, 12, 31))
        self.edit.setDate(QDate.currentDate())
        self.edit.setEnabled(False)
        self.check.toggled.connect(self.edit.setEnabled)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.check)
        layout.addWidget(self.edit)
        layout.addStretch(1)

    def value(self) -> dt.date | None:
        """Return the date, or None when the box is not ticked."""
        return self.edit.date().toPython() if self.check.isChecked() else None  # type: ignore[no-any-return]

    def set_value(self, day: dt.date | None) -> None:
        """Show ``day`` (None: not ticked)."""
        self.check.setChecked(day is not None)
        if day is not None:
            self.edit.setDate(QDate(day.year, day.month, day.day))


class SiteDialog(FieldErrors, QDialog):
    """新增 or 编辑 one site; written on 保存, errors shown under the fields.

    After ``accepted``, :attr:`site_id` is the saved site.
    """

    FIELDS = ("name", "kind_id", "village", "address", "area_m2", "opened_on", "closed_on",
              "checklist", "note")
    clear_errors_on_edit = False  # a message stays until the next 保存

    def __init__(self, db: Database, office: OfficeInfo, row: SiteRow | None = None,
                 parent: QWidget | None = None, *, close_now: bool = False) -> None:
        super().__init__(parent)
        self.db = db
        self.office = office
        self.row = row
        self.site_id = row.id if row else None
        self.saved = False  # the site has been written (photos may still have failed)
        self._checked: dict[str, bool] = {}
        self.setWindowTitle("新增科普阵地" if row is None else f"编辑科普阵地：{row.data.name}")
        self.error_labels: dict[str, QLabel] = {}
        self._field_widgets: dict[str, QWidget] = {}

        with db.session() as s:
            kinds = site_kinds(s, include_hidden=True)
            villages = village_choices(s, office.id)
            villages += [r.data.village for r in list_sites(s, office)
                         if r.data.village and r.data.village not in villages]
        self.kinds: dict[str, CatalogItem] = {k.id: k for k in kinds}

        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(100)
        self.name_edit.setPlaceholderText("如 石圳村科普e站")
        self.kind_combo = QComboBox()
        for kind in kinds:
            if not kind.hidden or (row is not None and row.data.kind_id == kind.id):
                self.kind_combo.addItem(kind.name, kind.id)
        self.kind_combo.currentIndexChanged.connect(self._kind_chosen)
        self.village_edit = QLineEdit()
        self.village_edit.setMaxLength(100)
        completer = QCompleter(villages, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.village_edit.setCompleter(completer)
        self.address_edit = QLineEdit()
        self.address_edit.setMaxLength(200)
        self.area_edit = QLineEdit()
        self.area_edit.setValidator(QIntValidator(0, 10_000_000, self))
        self.area_edit.setPlaceholderText("可不填")
        self.area_edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.area_edit.setMaximumWidth(140)
        self.opened = OptionalDate("已知启用日期")
        self.closed = OptionalDate("已停用，停用日期")
        self.checklist_box = QGroupBox("五有")
        self.checklist_hint = QLabel()
        self.checklist_hint.setStyleSheet(HINT_STYLE)
        self.checklist_hint.setWordWrap(True)
        self.checklist_row = QHBoxLayout()
        box_layout = QVBoxLayout(self.checklist_box)
        box_layout.addLayout(self.checklist_row)
        box_layout.addWidget(self.checklist_hint)
        self.checks: dict[str, QCheckBox] = {}
        self.note_edit = QPlainTextEdit()
        self.note_edit.setTabChangesFocus(True)
        self.note_edit.setFixedHeight(self.note_edit.fontMetrics().lineSpacing() * 3 + 14)
        self.photos = SitePhotos(db, self.site_id)
        self.general_error = error_label()

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("名称：", self._with_error_label("name", self.name_edit))
        form.addRow("类型：", self._with_error_label("kind_id", self.kind_combo))
        form.addRow("村/社区：", self._with_error_label("village", self.village_edit))
        form.addRow("地址：", self._with_error_label("address", self.address_edit))
        area_row = QWidget()
        area_layout = QHBoxLayout(area_row)
        area_layout.setContentsMargins(0, 0, 0, 0)
        area_layout.addWidget(self.area_edit)
        area_layout.addWidget(QLabel("㎡"))
        area_layout.addStretch(1)
        form.addRow("面积：", self._with_error_label("area_m2", area_row, focus=self.area_edit))
        form.addRow("启用日期：",
                    self._with_error_label("opened_on", self.opened, focus=self.opened.check))
        form.addRow("停用日期：",
                    self._with_error_label("closed_on", self.closed, focus=self.closed.edit))
        closed_hint = QLabel("阵地撤销后请填写停用日期而不是删除：以往月份的报表仍会计入它。")
        closed_hint.setWordWrap(True)
        closed_hint.setStyleSheet(HINT_STYLE)
        form.addRow("", closed_hint)
        form.addRow("备注：", self._with_error_label("note", self.note_edit))

        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self._with_error_label("checklist", self.checklist_box))
        left.addStretch(1)
        photo_box = QGroupBox("照片")
        photo_layout = QVBoxLayout(photo_box)
        photo_layout.addWidget(self.photos)
        columns = QHBoxLayout()
        columns.addLayout(left, 3)
        columns.addWidget(photo_box, 2)

        self.buttons = QDialogButtonBox()
        self.save_button = self.buttons.addButton("保存", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setDefault(True)
        self.cancel_button = self.buttons.addButton("取消",
                                                    QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)
        self.resize(900, 560)

        if row is not None:
            self._fill(row.data)
        self._kind_chosen()
        if close_now:
            self.closed.check.setChecked(True)
            self.closed.edit.setFocus()
        else:
            self.name_edit.setFocus()

    def _fill(self, data: SiteInput) -> None:
        self.name_edit.setText(data.name)
        index = self.kind_combo.findData(data.kind_id)
        if index >= 0:
            self.kind_combo.setCurrentIndex(index)
        self.village_edit.setText(data.village)
        self.address_edit.setText(data.address)
        self.area_edit.setText("" if data.area_m2 is None else str(data.area_m2))
        self.opened.set_value(data.opened_on)
        self.closed.set_value(data.closed_on)
        self.note_edit.setPlainText(data.note)
        self._checked = dict(data.checklist)

    @Slot()
    def _kind_chosen(self, *_args: object) -> None:
        """Show the checklist (五有) of the chosen kind, keeping ticks already made."""
        ticked = {k: c.isChecked() for k, c in self.checks.items()}
        if not ticked:
            ticked = dict(self._checked)
        while self.checklist_row.count():
            item = self.checklist_row.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()
        self.checks = {}
        kind = self.kinds.get(self.kind_combo.currentData() or "")
        items = list(kind.props.get("checklist", ())) if kind else []
        self.checklist_box.setVisible(bool(items))
        if not items:
            return
        five = tuple(items) == FIVE_HAVES
        self.checklist_box.setTitle("五有" if five else "检查项")
        for name in items:
            check = QCheckBox(f"有{name}" if five else name)
            check.setChecked(bool(ticked.get(name)))
            check.toggled.connect(self._update_checklist_hint)
            self.checks[name] = check
            self.checklist_row.addWidget(check)
        self.checklist_row.addStretch(1)
        self._update_checklist_hint()

    @Slot()
    def _update_checklist_hint(self, *_args: object) -> None:
        missing = [k for k, c in self.checks.items() if not c.isChecked()]
        kind = self.kind_combo.currentText()
        if missing:
            self.checklist_hint.setText(f"已具备 {len(self.checks) - len(missing)}/"
                                        f"{len(self.checks)} 项，还缺：{'、'.join(missing)}")
        else:
            self.checklist_hint.setText(f"{kind}的检查项已全部具备。")

    def data(self) -> SiteInput:
        """The fields as entered."""
        area = self.area_edit.text().replace(",", "").strip()
        return SiteInput(
            name=self.name_edit.text(),
            kind_id=self.kind_combo.currentData() or "",
            village=self.village_edit.text(),
            address=self.address_edit.text(),
            area_m2=int(area) if area else None,
            opened_on=self.opened.value(),
            closed_on=self.closed.value(),
            checklist={k: c.isChecked() for k, c in self.checks.items()},
            note=self.note_edit.toPlainText(),
        )

    def show_errors(self, errors: list[tuple[str, str]]) -> None:
        """Each message under its field; the first such field gets the focus."""
        first: QWidget | None = None
        for field, message in errors:
            label = self.error_labels.get(field)
            if label is None:
                self.general_error.setText("\n".join(filter(None, (self.general_error.text(),
                                                                   message))))
                self.general_error.show()
                continue
            label.setText("\n".join(filter(None, (label.text(), message))))
            label.show()
            if first is None:
                first = self._field_widgets.get(field)
        if first is not None:
            first.setFocus()

    def accept(self) -> None:
        """Save the site, then its photos (in the background); stay open on an error."""
        if self.photos.is_busy():
            return
        self._clear_errors()
        data = self.data()
        with self.db.session() as s:
            errors = validate_site(s, data)
        if errors:
            self.show_errors(errors)
            return
        try:
            if self.site_id is None:
                self.site_id = create_site(self.db, self.office, data)
            else:
                update_site(self.db, self.office, self.site_id, data)
        except ValidationError as err:
            self.show_errors([(err.field or "", err.message)])
            return
        except KepuError as err:
            messages.show_error(self, err)
            return
        self.saved = True  # 取消 from now on keeps what was saved
        self.setWindowTitle(f"编辑科普阵地：{data.name.strip()}")
        self._set_busy(True)
        try:
            self.photos.apply(self.site_id, self._photos_done)
        except KepuError as err:
            self._set_busy(False)
            messages.show_error(self, err)

    def _set_busy(self, busy: bool) -> None:
        self.save_button.setEnabled(not busy)
        self.cancel_button.setEnabled(not busy)

    def _photos_done(self, outcome: str) -> None:
        self._set_busy(False)
        if outcome == "ok":
            super().accept()
            return
        # The site is saved; the photos that were not stored stay listed.
        self.general_error.setText("阵地信息已保存，但照片未能全部导入；可以重试或取消。")
        self.general_error.show()

    def reject(self) -> None:
        """取消 / Esc; not while photos are being stored."""
        if self.photos.is_busy():
            return
        if self.saved:
            super().accept()  # the site was saved before a photo import failed
            return
        super().reject()


def confirm_delete(parent: QWidget | None, row: SiteRow) -> str | None:
    """Ask before deleting; a site with activities is better closed (停用日期).

    Returns:
        "delete", "close" (set a 停用日期 instead) or None.

    """
    if row.activities:
        answer = ask(parent, f"“{row.data.name}”已有 {row.activities} 次活动记录。",
                     ["设置停用日期", "仍然删除"],
                     informative="阵地撤销时建议填写停用日期：以往月份的报表仍会计入它。"
                                 "删除后，这些活动不再关联该阵地，照片也一并删除。")
        return {"设置停用日期": "close", "仍然删除": "delete"}.get(answer or "")
    answer = ask(parent, f"删除阵地“{row.data.name}”？",
                 ["删除"], informative="阵地的照片也一并删除，此操作不能撤销。", default=0)
    return "delete" if answer == "删除" else None


# -- the page ----------------------------------------------------------------------------------


class SitesPage(QWidget):
    """科普阵地: the office's sites.

    Signals:
        changed: emitted after a site was added, edited or deleted.
    """

    changed = Signal()

    def __init__(self, db: Database, office: OfficeInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.office = office
        self.all_rows: list[SiteRow] = []
        self.dialog: SiteDialog | None = None

        title = page_title("科普阵地")
        self.kind_filter = QComboBox()
        self.kind_filter.currentIndexChanged.connect(self._apply_filter)
        self.closed_check = QCheckBox("显示已停用")
        self.closed_check.toggled.connect(self._apply_filter)
        self.add_button = QPushButton("新增")
        self.add_button.setToolTip("新增阵地（Ctrl+N）")
        self.add_button.clicked.connect(self.add_new)
        self.edit_button = QPushButton("编辑")
        self.edit_button.setToolTip("编辑所选阵地（Enter 或双击）")
        self.edit_button.clicked.connect(self.edit_selected)
        self.delete_button = QPushButton("删除")
        self.delete_button.setToolTip("删除所选阵地（Delete）")
        self.delete_button.clicked.connect(self.delete_selected)
        self.summary_label = QLabel()
        self.summary_label.setObjectName("sites_summary")

        self.model = SitesModel(self)
        self.view = QTableView()
        self.view.setObjectName("sites_table")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setWordWrap(False)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        metrics = self.view.fontMetrics()
        self.view.verticalHeader().setDefaultSectionSize(metrics.height() + 10)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        for column, sample in ((SitesModel.NAME, "岩峰村农家书屋（科普书屋）"),
                               (SitesModel.KIND, "新时代文明实践所/站"),
                               (SitesModel.VILLAGE, "村/社区名"),
                               (SitesModel.AREA, "面积（㎡）"),
                               (SitesModel.OPENED, "2025-09-16"),
                               (SitesModel.CLOSED, "2025-09-16"),
                               (SitesModel.STATUS, "使用中"),
                               (SitesModel.CHECKLIST, "五有 "),
                               (SitesModel.ACTIVITIES, "活动次数"),
                               (SitesModel.PHOTOS, "照片")):
            header.resizeSection(column, metrics.horizontalAdvance(sample) + 20)
        header.setSectionResizeMode(SitesModel.ADDRESS, QHeaderView.ResizeMode.Stretch)
        self.view.doubleClicked.connect(lambda _index: self.edit_selected())
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            enter = QShortcut(QKeySequence(key), self.view)
            enter.setContext(Qt.ShortcutContext.WidgetShortcut)
            enter.activated.connect(self.edit_selected)
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.view)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.delete_selected)
        new = QShortcut(QKeySequence(QKeySequence.StandardKey.New), self)
        new.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        new.activated.connect(self.add_new)

        top = QHBoxLayout()
        top.addWidget(title)
        top.addSpacing(16)
        top.addWidget(QLabel("类型："))
        top.addWidget(self.kind_filter)
        top.addWidget(self.closed_check)
        top.addStretch(1)
        top.addWidget(self.add_button)
        top.addWidget(self.edit_button)
        top.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.view, 1)
        hint = QLabel("科普e站须做到“五有”：有网络、有人员、有场所、有活动、有终端。"
                      "阵地撤销时请填写停用日期，以往月份的报表仍会计入它。")
        hint.setStyleSheet(HINT_STYLE)
        hint.setWordWrap(True)
        layout.addWidget(hint)
        QWidget.setTabOrder(self.kind_filter, self.closed_check)
        QWidget.setTabOrder(self.closed_check, self.add_button)
        QWidget.setTabOrder(self.add_button, self.edit_button)
        QWidget.setTabOrder(self.edit_button, self.delete_button)
        QWidget.setTabOrder(self.delete_button, self.view)
        self.refresh()

    # -- loading ---------------------------------------------------------------------

    def refresh(self, select: str | None = None) -> None:
        """Read the sites (and the kinds for the filter) again."""
        current = select or self.selected_id()
        with self.db.session() as s:
            self.all_rows = list_sites(s, self.office)
            kinds = site_kinds(s, include_hidden=True)
        chosen = self.kind_filter.currentData()
        self.kind_filter.blockSignals(True)
        self.kind_filter.clear()
        self.kind_filter.addItem(ALL_KINDS, None)
        used = {r.data.kind_id for r in self.all_rows}
        for kind in kinds:
            if not kind.hidden or kind.id in used:
                self.kind_filter.addItem(kind.name, kind.id)
        index = self.kind_filter.findData(chosen) if chosen else 0
        self.kind_filter.setCurrentIndex(max(index, 0))
        self.kind_filter.blockSignals(False)
        self.summary_label.setText(summary_text(self.all_rows))
        self._apply_filter(select=current)

    @Slot()
    def data_changed(self) -> None:
        """Another page saved something (activities, catalogs): read again."""
        self.refresh()

    def _apply_filter(self, *_args: object, select: str | None = None) -> None:
        current = select or self.selected_id()
        kind = self.kind_filter.currentData()
        show_closed = self.closed_check.isChecked()
        rows = [r for r in self.all_rows
                if (kind is None or r.data.kind_id == kind)
                and (show_closed or site_status(r) != CLOSED)]
        self.model.set_rows(rows)
        if current is not None:
            self.select(current)
        self._update_buttons()

    def selected_id(self) -> str | None:
        """Return the id of the selected site, or None."""
        rows = self.view.selectionModel().selectedRows() if self.view.selectionModel() else []
        if not rows:
            return None
        site = self.model.site(rows[0].row())
        return site.id if site else None

    def selected(self) -> SiteRow | None:
        """Return the selected site, or None."""
        site_id = self.selected_id()
        return next((r for r in self.all_rows if r.id == site_id), None)

    def select(self, site_id: str) -> bool:
        """Select a site's row (False when it is filtered out)."""
        row = self.model.row_of(site_id)
        if row < 0:
            return False
        index = self.model.index(row, 0)
        self.view.setCurrentIndex(index)
        self.view.selectRow(row)
        self.view.scrollTo(index)
        return True

    def _update_buttons(self, *_args: object) -> None:
        has = self.selected_id() is not None
        self.edit_button.setEnabled(has)
        self.delete_button.setEnabled(has)

    # -- actions ---------------------------------------------------------------------

    def _open_dialog(self, dialog: SiteDialog) -> None:
        """Open the dialog window-modal (not blocking); the table follows when it is saved."""
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._dialog_saved(dialog.site_id))
        dialog.finished.connect(self._dialog_finished)
        dialog.open()

    def _dialog_saved(self, site_id: str | None) -> None:
        if site_id is None:
            return
        self.refresh(select=site_id)
        if not self.select(site_id):
            # Saved as closed (or of another type) while the filter hides it.
            self.kind_filter.setCurrentIndex(0)
            self.closed_check.setChecked(True)
            self.select(site_id)
        self.changed.emit()

    @Slot()
    def _dialog_finished(self) -> None:
        self.dialog = None
        self.view.setFocus()

    @Slot()
    def add_new(self) -> None:
        """新增 a site (Ctrl+N)."""
        if self.dialog is not None:
            return
        self._open_dialog(SiteDialog(self.db, self.office, None, self))

    @Slot()
    def edit_selected(self, *, close_now: bool = False) -> None:
        """编辑 the selected site (Enter, double-click)."""
        row = self.selected()
        if row is None or self.dialog is not None:
            return
        self._open_dialog(SiteDialog(self.db, self.office, row, self, close_now=close_now))

    @Slot()
    def delete_selected(self) -> None:
        """删除 the selected site, after asking (or set its 停用日期 instead)."""
        row = self.selected()
        if row is None:
            return
        answer = confirm_delete(self, row)
        if answer == "close":
            self.edit_selected(close_now=True)
            return
        if answer != "delete":
            return
        try:
            delete_site(self.db, row.id)
        except KepuError as err:
            messages.show_error(self, err)
            return
        self.refresh()
        self.changed.emit()
