"""佐证材料: the evidence panel of the activity form (photos, sign-in sheets, documents).

For a saved activity, files are imported at once (in the background: photos are
scaled down, ~0.25 s each) and removals can be undone while the panel lives.
For an activity that is not saved yet, files are queued (shown greyed, "保存后上传")
and :meth:`EvidencePanel.upload_queued` attaches them once the activity exists.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QFileInfo, QSettings, QSize, Qt, QUrl, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QIcon,
    QImageReader,
    QKeySequence,
    QPainter,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFileIconProvider,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from db.attachments import (
    IMAGE_EXTENSIONS,
    KIND_DOCUMENT,
    KIND_PHOTO,
    KINDS,
    AttachmentInfo,
    absolute_path,
    add_attachments,
    list_attachments,
    remove_attachment,
    restore_attachment,
    update_caption,
)
from db.database import Database
from db.errors import KepuError
from desktop import messages
from desktop.photo_grid import LocalFileDrops, thumbnail_list
from desktop.worker import BackgroundJob, Cancelled, IsCancelled, Progress, run_in_background

THUMB = QSize(104, 78)
GRID = QSize(122, 124)
AUTO_KIND = "自动识别"
SETTINGS_LAST_DIR = "evidence/last_dir"
SETTINGS_KEEP_ORIGINAL = "evidence/keep_original"
FILE_FILTERS = ";;".join((
    "图片 (" + " ".join(f"*{ext}" for ext in sorted(IMAGE_EXTENSIONS)) + ")",
    "文档 (*.pdf *.ofd *.doc *.docx *.wps *.xls *.xlsx *.et *.ppt *.pptx *.dps *.txt)",
    "全部文件 (*)",
))
EMPTY_HINT = ("还没有佐证材料。年终考核时，考核人员会查看活动照片和签到表，"
              "建议现在就添加（也可以把文件直接拖到这里）。")
QUEUED_TEXT = "保存后上传"


def settings() -> QSettings:
    """The user's preferences (same store as the main window)."""
    return QSettings("kepu", "kepu")


@dataclass(frozen=True)
class QueuedFile:
    """A file chosen for an activity that is not saved yet."""

    key: int
    path: Path
    kind: str | None  # None: 照片 for images, 文档 otherwise (db.attachments decides)
    keep_original: bool
    caption: str = ""


_keys = itertools.count(1)


def load_thumbnail(path: Path, size: QSize = THUMB) -> QPixmap | None:
    """A small pixmap of an image file, decoded at reduced size (fast for big photos)."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)  # EXIF orientation of not yet imported photos
    full = reader.size()
    if full.isValid() and not full.isEmpty():
        reader.setScaledSize(full.scaled(size, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        return None
    return QPixmap.fromImage(image)


def _framed(pixmap: QPixmap, size: QSize = THUMB) -> QPixmap:
    """Centre a pixmap on a transparent canvas of the thumbnail size (even grid)."""
    canvas = QPixmap(size)
    canvas.fill(QColor(0, 0, 0, 0))
    painter = QPainter(canvas)
    painter.drawPixmap((size.width() - pixmap.width()) // 2,
                       (size.height() - pixmap.height()) // 2, pixmap)
    painter.end()
    return canvas


class EvidencePanel(LocalFileDrops, QWidget):
    """Thumbnail grid of an activity's evidence, with add / open / delete / undo / caption.

    Args:
        db: the open database.
        activity_id: the saved activity, or None for a new one (files are queued).

    Signals:
        count_changed(int): the number of files shown (stored and queued) changed.
        busy_changed(bool): an import started or ended.

    """

    count_changed = Signal(int)
    busy_changed = Signal(bool)

    def __init__(self, db: Database, activity_id: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.activity_id = activity_id
        self._attachments: list[AttachmentInfo] = []
        self._queue: list[QueuedFile] = []
        # Undo stack: ("stored", AttachmentInfo, -) or ("queued", QueuedFile, position).
        self._undo: list[tuple[str, Any, int]] = []
        self._icons: dict[str, QIcon] = {}
        self._read_only = False
        self._job: BackgroundJob[Any] | None = None
        self._icon_provider = QFileIconProvider()
        self.setAcceptDrops(True)

        self.count_label = QLabel()
        font = self.count_label.font()
        font.setBold(True)
        self.count_label.setFont(font)
        self.hint_label = QLabel(EMPTY_HINT)
        self.hint_label.setWordWrap(True)
        self.hint_label.setStyleSheet("color: #6d4c00;")

        self.list = thumbnail_list("evidence_list", THUMB, GRID)
        self.list.setUniformItemSizes(True)
        self.list.setDragEnabled(False)
        self.list.setMinimumHeight(GRID.height() + 8)
        self.list.itemDoubleClicked.connect(lambda _item: self.open_selected())
        self.list.itemSelectionChanged.connect(self._update_buttons)

        self.add_button = QPushButton("添加照片/文件…")
        self.add_button.setToolTip("选择照片、签到表扫描件或文档（可多选），也可以把文件拖到这里")
        self.add_button.clicked.connect(self.choose_files)
        self.kind_combo = QComboBox()
        self.kind_combo.addItem(AUTO_KIND, None)
        for kind in KINDS:
            self.kind_combo.addItem(kind, kind)
        self.kind_combo.setToolTip("新添加文件的类型；自动识别：图片为照片，其他为文档")
        self.keep_check = QCheckBox("保留原图")
        self.keep_check.setToolTip("照片导入时会缩小并去掉位置信息；勾选后另存一份未处理的原图")
        self.keep_check.setChecked(settings().value(SETTINGS_KEEP_ORIGINAL, False, type=bool))
        self.keep_check.toggled.connect(
            lambda on: settings().setValue(SETTINGS_KEEP_ORIGINAL, on))

        self.open_button = QPushButton("打开")
        self.open_button.clicked.connect(self.open_selected)
        self.caption_button = QPushButton("编辑说明…")
        self.caption_button.clicked.connect(self.edit_caption)
        self.delete_button = QPushButton("删除")
        self.delete_button.setToolTip("删除所选文件（Delete）；关闭窗口前可撤销")
        self.delete_button.clicked.connect(self.delete_selected)
        self.undo_button = QPushButton("撤销")
        self.undo_button.setToolTip("恢复刚删除的文件（Ctrl+Z）")
        self.undo_button.clicked.connect(self.undo)
        for button in (self.add_button, self.open_button, self.caption_button,
                       self.delete_button, self.undo_button):
            button.setAutoDefault(False)  # Enter saves the form, not a panel button

        self.delete_shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list)
        self.delete_shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        self.delete_shortcut.activated.connect(self.delete_selected)
        self.undo_shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Undo), self)
        self.undo_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.undo_shortcut.activated.connect(self.undo)

        add_row = QHBoxLayout()
        add_row.addWidget(self.add_button)
        add_row.addSpacing(8)
        self.kind_label = QLabel("类型：")
        add_row.addWidget(self.kind_label)
        add_row.addWidget(self.kind_combo)
        add_row.addStretch(1)
        keep_row = QHBoxLayout()
        keep_row.addWidget(self.keep_check)
        keep_row.addStretch(1)
        item_row = QHBoxLayout()
        for button in (self.open_button, self.caption_button, self.delete_button,
                       self.undo_button):
            item_row.addWidget(button)
        item_row.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.count_label)
        layout.addLayout(add_row)
        layout.addLayout(keep_row)
        layout.addWidget(self.hint_label)
        layout.addWidget(self.list, 1)
        layout.addLayout(item_row)
        QWidget.setTabOrder(self.add_button, self.kind_combo)
        QWidget.setTabOrder(self.kind_combo, self.keep_check)
        QWidget.setTabOrder(self.keep_check, self.list)
        QWidget.setTabOrder(self.list, self.open_button)
        QWidget.setTabOrder(self.open_button, self.caption_button)
        QWidget.setTabOrder(self.caption_button, self.delete_button)
        QWidget.setTabOrder(self.delete_button, self.undo_button)
        self.refresh()

    # -- state -----------------------------------------------------------------

    def count(self) -> int:
        """Files shown: stored plus queued."""
        return len(self._attachments) + len(self._queue)

    def queued_files(self) -> list[QueuedFile]:
        """The files waiting for the activity to be saved."""
        return list(self._queue)

    def attachments(self) -> list[AttachmentInfo]:
        """The stored attachments as last read."""
        return list(self._attachments)

    def is_busy(self) -> bool:
        """Whether an import is running."""
        return self._job is not None and self._job.is_running()

    def set_activity(self, activity_id: str) -> None:
        """The activity has been saved: show its stored files (the queue stays)."""
        self.activity_id = activity_id
        self.refresh()

    def set_read_only(self, read_only: bool) -> None:
        """A locked activity: files can be looked at, not added, changed or deleted."""
        self._read_only = read_only
        self.setAcceptDrops(not read_only)
        for widget in (self.add_button, self.kind_label, self.kind_combo, self.keep_check,
                       self.caption_button, self.delete_button, self.undo_button):
            widget.setVisible(not read_only)
        self._rebuild()

    # -- showing ---------------------------------------------------------------

    @Slot()
    def refresh(self) -> None:
        """Re-read the stored attachments and rebuild the grid."""
        if self.activity_id is not None:
            with self.db.session() as s:
                self._attachments = list_attachments(s, activity_id=self.activity_id)
        else:
            self._attachments = []
        self._rebuild()

    def _rebuild(self) -> None:
        selected = {self._item_key(i) for i in self.list.selectedItems()}
        self.list.clear()
        for info in self._attachments:
            item = QListWidgetItem(self._stored_icon(info), info.caption or info.filename)
            item.setData(Qt.ItemDataRole.UserRole, ("stored", info.id))
            item.setToolTip(self._tooltip(info.filename, info.kind, info.caption, info.size))
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            self.list.addItem(item)
        for queued in self._queue:
            item = QListWidgetItem(self._queued_icon(queued.path),
                                   f"{queued.path.name}\n{QUEUED_TEXT}")
            item.setData(Qt.ItemDataRole.UserRole, ("queued", queued.key))
            item.setForeground(self.palette().color(self.palette().ColorGroup.Disabled,
                                                    self.palette().ColorRole.Text))
            # What add_attachments will choose when the kind is left to it.
            kind = queued.kind or (KIND_PHOTO if self._is_image(queued.path) else KIND_DOCUMENT)
            item.setToolTip(self._tooltip(queued.path.name, kind, queued.caption, None)
                            + f"\n{QUEUED_TEXT}")
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            self.list.addItem(item)
        for row in range(self.list.count()):
            if self._item_key(self.list.item(row)) in selected:
                self.list.item(row).setSelected(True)
        n = self.count()
        text = f"佐证材料 {n} 个"
        if self._queue:
            text += f"（{len(self._queue)} 个保存后上传）"
        self.count_label.setText(text)
        self.hint_label.setVisible(n == 0 and not self._read_only)
        self._update_buttons()
        self.count_changed.emit(n)

    @staticmethod
    def _tooltip(name: str, kind: str, caption: str, size: int | None) -> str:
        lines = [name, f"类型：{kind}"]
        if size is not None:
            lines.append(f"大小：{size / 1024 / 1024:.2f} MB" if size >= 102400
                         else f"大小：{max(1, round(size / 1024))} KB")
        if caption:
            lines.append(f"说明：{caption}")
        return "\n".join(lines)

    @staticmethod
    def _is_image(path: Path) -> bool:
        return path.suffix.lower() in IMAGE_EXTENSIONS

    def _file_icon(self, path: Path) -> QIcon:
        icon = self._icon_provider.icon(QFileInfo(str(path)))
        if icon.isNull() or not icon.availableSizes():
            icon = self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon)
        return QIcon(_framed(icon.pixmap(QSize(48, 48))))

    def _icon_for(self, path: Path, image: bool) -> QIcon:
        key = str(path)
        icon = self._icons.get(key)
        if icon is None:
            pixmap = load_thumbnail(path) if image else None
            icon = QIcon(_framed(pixmap)) if pixmap is not None else self._file_icon(path)
            self._icons[key] = icon
        return icon

    def _stored_icon(self, info: AttachmentInfo) -> QIcon:
        try:
            path = absolute_path(self.db, info)
        except KepuError:
            return self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        return self._icon_for(path, info.is_image)

    def _queued_icon(self, path: Path) -> QIcon:
        icon = self._icon_for(path, self._is_image(path))
        # Greyed: not stored yet.
        return QIcon(icon.pixmap(THUMB, QIcon.Mode.Disabled))

    @staticmethod
    def _item_key(item: QListWidgetItem) -> tuple[str, Any]:
        return tuple(item.data(Qt.ItemDataRole.UserRole))  # type: ignore[return-value]

    def _selected(self) -> tuple[list[AttachmentInfo], list[QueuedFile]]:
        keys = [self._item_key(i) for i in self.list.selectedItems()]
        stored_ids = {k[1] for k in keys if k[0] == "stored"}
        queued_keys = {k[1] for k in keys if k[0] == "queued"}
        return ([a for a in self._attachments if a.id in stored_ids],
                [q for q in self._queue if q.key in queued_keys])

    @Slot()
    def _update_buttons(self) -> None:
        stored, queued = self._selected()
        any_selected = bool(stored or queued)
        busy = self.is_busy()
        editable = not self._read_only and not busy
        self.add_button.setEnabled(editable)
        self.open_button.setEnabled(any_selected)
        self.delete_button.setEnabled(editable and any_selected)
        self.caption_button.setEnabled(editable and len(stored) + len(queued) == 1)
        self.undo_button.setEnabled(editable and bool(self._undo))

    # -- adding ----------------------------------------------------------------

    @Slot()
    def choose_files(self) -> None:
        """Ask for files (图片 / 文档 / 全部) and add them."""
        if self._read_only or self.is_busy():
            return
        start = settings().value(SETTINGS_LAST_DIR, "", type=str) or str(Path.home())
        names, _filter = QFileDialog.getOpenFileNames(self, "添加佐证材料", start, FILE_FILTERS)
        if not names:
            return
        settings().setValue(SETTINGS_LAST_DIR, str(Path(names[0]).parent))
        self.add_files([Path(n) for n in names])

    def add_files(self, paths: Sequence[Path]) -> None:
        """Import files now (saved activity) or queue them (new activity)."""
        if self._read_only or self.is_busy():
            return
        files = [Path(p) for p in paths if Path(p).is_file()]
        skipped = [Path(p).name for p in paths if not Path(p).is_file()]
        if skipped:
            QMessageBox.warning(self, messages.APP_TITLE,
                                "以下项目不是文件（文件夹或已不存在），已跳过：\n"
                                + "\n".join(skipped))
        if not files:
            return
        kind = self.kind_combo.currentData()
        keep = self.keep_check.isChecked()
        if self.activity_id is None:
            have = {q.path.resolve() for q in self._queue}
            for path in files:
                if path.resolve() not in have:
                    self._queue.append(QueuedFile(next(_keys), path, kind, keep))
                    have.add(path.resolve())
            self._rebuild()
            return
        queued = [QueuedFile(next(_keys), p, kind, keep) for p in files]
        self._start_import(self.activity_id, queued, on_finished=None)

    def upload_queued(self, activity_id: str,
                      on_finished: Callable[[str], None]) -> BackgroundJob[Any] | None:
        """Attach the queued files to the now saved activity, in the background.

        ``on_finished(outcome)`` is called on the GUI thread with "ok", "cancelled",
        "error" or "bug" (errors have been shown to the user by then). The files
        that were not stored stay queued.
        """
        self.activity_id = activity_id
        if not self._queue:
            self.refresh()
            on_finished("ok")
            return None
        return self._start_import(activity_id, list(self._queue), on_finished=on_finished)

    def _start_import(self, activity_id: str, files: list[QueuedFile],
                      on_finished: Callable[[str], None] | None) -> BackgroundJob[Any]:
        db = self.db
        total = len(files)
        # One add_attachments call per (kind, keep original) batch, in order.
        batches: list[list[QueuedFile]] = []
        for f in files:
            if batches and (batches[-1][0].kind, batches[-1][0].keep_original) == (
                    f.kind, f.keep_original):
                batches[-1].append(f)
            else:
                batches.append([f])

        stored: list[int] = []  # keys of the queued files already stored

        def work(progress: Progress, is_cancelled: IsCancelled) -> list[int]:
            for batch in batches:
                base = len(stored)

                def report(done: int, name: str, base: int = base) -> None:
                    if name:
                        progress((base + done) * 100 // total,
                                 f"正在导入第 {base + done + 1}/{total} 个文件：{name}")

                try:
                    add_attachments(db, activity_id=activity_id,
                                    files=[f.path for f in batch], kind=batch[0].kind,
                                    keep_original=batch[0].keep_original,
                                    captions=[f.caption for f in batch],
                                    progress=report, is_cancelled=is_cancelled)
                except KepuError as err:
                    if is_cancelled():
                        raise Cancelled from err
                    if stored:
                        raise KepuError(f"已导入 {len(stored)} 个文件，其余未导入：{err}") from err
                    raise
                stored.extend(f.key for f in batch)
            progress(100, "导入完成")
            return stored

        job: BackgroundJob[Any] = run_in_background(
            self.window(), work, lambda _keys: None, title="导入佐证材料",
            label=f"正在导入 {total} 个文件…")
        self._job = job
        self.busy_changed.emit(True)
        self._update_buttons()

        def finished() -> None:
            # Whatever the outcome: batches stored before an error or 取消 are not
            # queued any more (add_attachments is all or nothing per batch).
            self._forget_queued(stored)
            self._job = None
            self.refresh()
            window = self.window()
            if window.isVisible():  # back from the progress dialog
                window.activateWindow()
            self.busy_changed.emit(False)
            if on_finished is not None:
                on_finished(job.outcome or "bug")

        job.finished.connect(finished)
        return job

    def _forget_queued(self, keys: list[int]) -> None:
        gone = set(keys)
        self._queue = [q for q in self._queue if q.key not in gone]
        self._undo = [u for u in self._undo if not (u[0] == "queued" and u[1].key in gone)]

    # -- drag and drop ----------------------------------------------------------

    def _accepts_files(self) -> bool:
        """Dropped files are added unless the month is locked or an import runs."""
        return not self._read_only and not self.is_busy()

    # -- item actions -----------------------------------------------------------

    @Slot()
    def open_selected(self) -> None:
        """Open the selected files with the system's viewer."""
        stored, queued = self._selected()
        paths: list[Path] = []
        try:
            paths += [absolute_path(self.db, info) for info in stored]
        except KepuError as err:
            messages.show_error(self, err)
            return
        paths += [q.path for q in queued]
        for path in paths:
            if not path.is_file() or not QDesktopServices.openUrl(
                    QUrl.fromLocalFile(str(path))):
                QMessageBox.warning(self, messages.APP_TITLE, f"无法打开文件：\n{path}")
                return

    @Slot()
    def delete_selected(self) -> None:
        """Remove the selected files (undoable with 撤销 / Ctrl+Z while the form is open)."""
        if self._read_only or self.is_busy():
            return
        stored, queued = self._selected()
        try:
            for info in stored:
                self._undo.append(("stored", remove_attachment(self.db, info.id), 0))
        except KepuError as err:
            messages.show_error(self, err)
        for q in queued:
            self._undo.append(("queued", q, self._queue.index(q)))
            self._queue.remove(q)
        self.refresh()

    @Slot()
    def undo(self) -> None:
        """Bring back the file removed last."""
        if self._read_only or self.is_busy() or not self._undo:
            return
        what, value, position = self._undo.pop()
        if what == "stored":
            try:
                restore_attachment(self.db, value)
            except KepuError as err:
                messages.show_error(self, err)
        else:
            self._queue.insert(min(position, len(self._queue)), value)
        self.refresh()

    @Slot()
    def edit_caption(self) -> None:
        """Change the 说明 of the selected file."""
        if self._read_only or self.is_busy():
            return
        stored, queued = self._selected()
        if len(stored) + len(queued) != 1:
            return
        name = stored[0].filename if stored else queued[0].path.name
        old = stored[0].caption if stored else queued[0].caption
        text, ok = QInputDialog.getText(
            self, "编辑说明", f"“{name}”的说明（打印在佐证材料汇编中）：", text=old)
        if not ok or text.strip() == old:
            return
        if stored:
            try:
                update_caption(self.db, stored[0].id, text)
            except KepuError as err:
                messages.show_error(self, err)
                return
            self.refresh()
        else:
            index = self._queue.index(queued[0])
            self._queue[index] = replace(queued[0], caption=text.strip())
            self._rebuild()
