"""导入向导: import a sign-in sheet / roster (签到表/花名册) or an old activity ledger (历史台账).

Steps on one dialog (a stacked widget, not QWizard):

1. 选择文件 — pick the workbook (read in the worker), or write an import template;
2. 对应列 — sheet, header row and which column holds which field;
3. 预览 — what every row will do (planned in the worker, cancellable);
4. 导入 — apply in the worker; a summary, the error workbook for skipped rows,
   ``changed`` emitted and the dialog accepted.

    wizard = ImportWizard(db, office, kind="trainees", training_id=tid, parent=self)
    wizard.changed.connect(self.refresh)
    wizard.exec()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from db.database import Database
from db.errors import ValidationError
from db.imports import (
    ACTIVITY_FIELDS,
    BLANK,
    DUPLICATE,
    EXISTING,
    INVALID,
    NOTE,
    TOTAL,
    TRAINEE_FIELDS,
    FieldSpec,
    HeaderGuess,
    ImportCancelledError,
    ImportPlan,
    ImportResult,
    SheetData,
    apply_activity_import,
    apply_trainee_import,
    best_sheet,
    catalog_names,
    check_mapping,
    detect_header,
    display_text,
    error_workbook_path,
    plan_activity_import,
    plan_trainee_import,
    read_workbook,
    remap,
    write_activity_template,
    write_error_workbook,
    write_trainee_template,
)
from db.models import Activity
from db.offices import OfficeInfo
from desktop import messages
from desktop.worker import BackgroundJob, Cancelled, IsCancelled, Progress, run_in_background

FILE_FILTER = "表格文件 (*.xlsx *.xls *.ods *.xlsm);;所有文件 (*)"
NOT_IMPORTED = "（不导入）"
CANCELLED_TEXT = "已取消导入，数据库未改动"
STEP_TITLES = ("1. 选择文件", "2. 对应列", "3. 预览")
# The few values shown in the preview, per kind.
KEY_FIELDS = {"trainees": (("name", "姓名"), ("id_number", "身份证号"), ("phone", "联系电话")),
              "activities": (("title", "名称"), ("start_date", "日期"), ("village", "村/社区"))}
INVALID_COLOR = QColor("#c0392b")
WARNING_BACKGROUND = QColor("#fff3cd")
GREY_COLOR = QColor("#808080")
SETTINGS_DIR = "import/last_dir"


def column_letter(col: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def counts_text(plan: ImportPlan) -> str:
    skipped = plan.count(BLANK) + plan.count(TOTAL) + plan.count(NOTE)
    return (f"共 {len(plan.rows)} 行：新增 {plan.new}，已有 {plan.existing}（合并），"
            f"文件内重复 {plan.duplicates}，无效 {plan.invalid}，跳过 {skipped}")


def show_summary(parent: QWidget, text: str, folder: Path | None) -> None:
    """The result box; with an error workbook it offers 打开所在文件夹."""
    box = QMessageBox(QMessageBox.Icon.Information, messages.APP_TITLE, text,
                      QMessageBox.StandardButton.Ok, parent)
    open_button = None
    if folder is not None:
        open_button = box.addButton("打开所在文件夹", QMessageBox.ButtonRole.ActionRole)
    box.exec()
    if open_button is not None and box.clickedButton() is open_button:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


class ImportWizard(QDialog):
    """The import dialog; ``changed`` is emitted after a successful import."""

    changed = Signal()

    def __init__(self, db: Database, office: OfficeInfo, kind: str = "trainees",
                 training_id: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if kind not in KEY_FIELDS:
            raise ValueError(kind)
        self.db, self.office, self.kind = db, office, kind
        self.training_id = training_id if kind == "trainees" else None
        self.fields: tuple[FieldSpec, ...] = TRAINEE_FIELDS if kind == "trainees" else ACTIVITY_FIELDS
        self.path: Path | None = None
        self.sheets: list[SheetData] = []
        self.sheet_index = 0
        self.header_index = 0
        self.mapping: dict[str, int] = {}
        self.guess: HeaderGuess | None = None
        self.plan: ImportPlan | None = None
        self.import_result: ImportResult | None = None
        self.error_book: Path | None = None
        self.job: BackgroundJob[Any] | None = None
        self._updating = False
        self.setWindowTitle("导入花名册/签到表" if kind == "trainees" else "导入历史台账")
        self.resize(820, 560)

        self.step_label = QLabel()
        self.step_label.setStyleSheet("font-weight: bold;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self._file_page())
        self.stack.addWidget(self._mapping_page())
        self.stack.addWidget(self._preview_page())

        self.back_button = QPushButton("上一步")
        self.next_button = QPushButton("下一步")
        self.cancel_button = QPushButton("取消")
        self.next_button.setDefault(True)
        self.next_button.setAutoDefault(True)
        self.back_button.setAutoDefault(False)
        self.cancel_button.setAutoDefault(False)
        self.back_button.clicked.connect(self.back)
        self.next_button.clicked.connect(self.next_step)
        self.cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.back_button, self.next_button, self.cancel_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.step_label)
        layout.addWidget(self.stack, 1)
        layout.addLayout(buttons)
        self._go(0)

    # -- pages -------------------------------------------------------------------------

    def _file_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        what = "花名册或签到表（姓名必填，身份证号、电话等可选）" if self.kind == "trainees" \
            else "历史活动台账（活动名称、日期、活动形式等）"
        lay.addWidget(QLabel(f"请选择要导入的{what}。支持 .xlsx、.xls、.ods 文件。"))
        if self.kind == "trainees":
            self.target_label = QLabel(self._target_text())
            lay.addWidget(self.target_label)
        row = QHBoxLayout()
        self.choose_button = QPushButton("选择文件…")
        self.choose_button.setAutoDefault(False)
        self.choose_button.clicked.connect(self.choose_file)
        self.template_button = QPushButton("下载导入模板…")
        self.template_button.setAutoDefault(False)
        self.template_button.clicked.connect(self.save_template)
        row.addWidget(self.choose_button)
        row.addWidget(self.template_button)
        row.addStretch(1)
        lay.addLayout(row)
        self.file_label = QLabel("尚未选择文件")
        self.file_label.setWordWrap(True)
        lay.addWidget(self.file_label)
        lay.addStretch(1)
        return page

    def _mapping_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        form = QFormLayout()
        self.sheet_combo = QComboBox()
        self.sheet_combo.currentIndexChanged.connect(self._sheet_changed)
        self.header_spin = QSpinBox()
        self.header_spin.setMinimum(1)
        self.header_spin.setSuffix(" 行")
        self.header_spin.valueChanged.connect(self._header_changed)
        self.confidence_label = QLabel()
        form.addRow("工作表：", self.sheet_combo)
        form.addRow("表头在第：", self.header_spin)
        form.addRow("识别把握：", self.confidence_label)
        lay.addLayout(form)
        self.mapping_table = QTableWidget(len(self.fields), 2)
        self.mapping_table.setHorizontalHeaderLabels(["字段（*必填）", "表格中的列"])
        self.mapping_table.verticalHeader().setVisible(False)
        self.mapping_table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.Stretch)
        self.mapping_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.field_combos: dict[str, QComboBox] = {}
        for r, spec in enumerate(self.fields):
            item = QTableWidgetItem(spec.label + (" *" if spec.required else ""))
            self.mapping_table.setItem(r, 0, item)
            combo = QComboBox()
            combo.currentIndexChanged.connect(self._combo_changed)
            self.mapping_table.setCellWidget(r, 1, combo)
            self.field_combos[spec.key] = combo
        lay.addWidget(self.mapping_table, 1)
        self.mapping_error = QLabel()
        self.mapping_error.setStyleSheet("color: #c0392b;")
        self.mapping_error.setWordWrap(True)
        lay.addWidget(self.mapping_error)
        return page

    def _preview_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        self.counts_label = QLabel()
        lay.addWidget(self.counts_label)
        keys = KEY_FIELDS[self.kind]
        self.preview_table = QTableWidget(0, 3 + len(keys))
        self.preview_table.setHorizontalHeaderLabels(
            ["Excel行号", "状态", *[label for _k, label in keys], "问题"])
        self.preview_table.verticalHeader().setVisible(False)
        self.preview_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.preview_table.horizontalHeader().setStretchLastSection(True)
        lay.addWidget(self.preview_table, 1)
        self.skip_check = QCheckBox("跳过无效行（另存错误行以便修改后重新导入）")
        self.skip_check.toggled.connect(self._update_buttons)
        lay.addWidget(self.skip_check)
        self.hint_label = QLabel()
        self.hint_label.setStyleSheet("color: #c0392b;")
        self.hint_label.setWordWrap(True)
        lay.addWidget(self.hint_label)
        return page

    # -- navigation --------------------------------------------------------------------

    def _go(self, step: int) -> None:
        self.stack.setCurrentIndex(step)
        self.step_label.setText("　→　".join(
            f"【{t}】" if i == step else t for i, t in enumerate(STEP_TITLES)))
        self.next_button.setText("导入" if step == 2 else "下一步")
        self._update_buttons()

    def step(self) -> int:
        return self.stack.currentIndex()

    def _update_buttons(self) -> None:
        step = self.step()
        self.back_button.setEnabled(step > 0)
        if step == 0:
            ok = bool(self.sheets)
        elif step == 1:
            ok = not self.mapping_error.text()
        else:
            plan = self.plan
            ok = plan is not None and plan.new + plan.existing > 0 and (
                plan.invalid == 0 or self.skip_check.isChecked())
            if plan is not None and plan.invalid and not self.skip_check.isChecked():
                self.hint_label.setText(
                    f"有 {plan.invalid} 行无效：请勾选“跳过无效行”，或修改表格后重新选择文件。")
            elif plan is not None and plan.new + plan.existing == 0:
                self.hint_label.setText("没有可以导入的行。")
            else:
                self.hint_label.setText("")
        self.next_button.setEnabled(ok)

    def back(self) -> None:
        if self.step() > 0:
            self._go(self.step() - 1)

    def next_step(self) -> None:
        if not self.next_button.isEnabled() or self._busy():
            return
        if self.step() == 0:
            self._go(1)
        elif self.step() == 1:
            self.start_plan()
        else:
            self.start_apply()

    def _busy(self) -> bool:
        return self.job is not None and self.job.is_running()

    def reject(self) -> None:  # Esc / 取消
        if self._busy():
            return  # the progress dialog has its own 取消
        super().reject()

    # -- step 1: the file --------------------------------------------------------------

    def _target_text(self) -> str:
        if self.training_id is None:
            return "只导入学员库"
        with self.db.session() as s:
            training = s.get(Activity, self.training_id)
            title = training.title if training is not None else "（培训已删除）"
        return f"导入到培训：{title}"

    def _last_dir(self) -> str:
        return str(QSettings().value(SETTINGS_DIR, str(Path.home())))

    def choose_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "选择要导入的表格", self._last_dir(),
                                                    FILE_FILTER)
        if path:
            self.load_file(Path(path))

    def load_file(self, path: Path) -> None:
        """Read the workbook in the worker; on success go to 对应列."""
        QSettings().setValue(SETTINGS_DIR, str(path.parent))
        fields = self.fields

        def work(progress: Progress, _is_cancelled: IsCancelled) -> Any:
            progress(-1, f"正在读取 {path.name}…")
            sheets = read_workbook(path)
            if not sheets:
                raise ValidationError("文件中没有工作表")
            return sheets, best_sheet(sheets, fields)

        def done(value: Any) -> None:
            sheets, (index, guess) = value
            self.path, self.sheets = path, sheets
            self.file_label.setText(f"已选择：{path}")
            self._fill_mapping_page(index, guess)
            self._go(1)

        self.job = run_in_background(self, work, done, title="读取表格", label="正在读取…")

    def save_template(self) -> None:
        name = "花名册导入模板.xlsx" if self.kind == "trainees" else "活动台账导入模板.xlsx"
        path, _filter = QFileDialog.getSaveFileName(
            self, "保存导入模板", str(Path(self._last_dir()) / name), "Excel 文件 (*.xlsx)")
        if not path:
            return
        with self.db.session() as s:
            choices = catalog_names(s)
        writer = write_trainee_template if self.kind == "trainees" else write_activity_template
        try:
            written = writer(path, choices)
        except OSError as err:
            QMessageBox.warning(self, messages.APP_TITLE, f"无法保存模板：{err}")
            return
        QMessageBox.information(self, messages.APP_TITLE,
                                f"模板已保存：{written}\n填好后点“选择文件…”导入。")

    # -- step 2: the mapping -----------------------------------------------------------

    def sheet(self) -> SheetData:
        return self.sheets[self.sheet_index]

    def _fill_mapping_page(self, index: int, guess: HeaderGuess) -> None:
        self._updating = True
        try:
            self.sheet_combo.clear()
            for sheet in self.sheets:
                self.sheet_combo.addItem(sheet.name + ("（隐藏）" if sheet.hidden else ""))
            self.sheet_combo.setCurrentIndex(index)
        finally:
            self._updating = False
        self.sheet_index = index
        self._apply_guess(guess)

    def _apply_guess(self, guess: HeaderGuess) -> None:
        self.guess = guess
        self.header_index = guess.row_index
        self.mapping = dict(guess.mapping)
        self._updating = True
        try:
            self.header_spin.setMaximum(max(1, len(self.sheet().rows)))
            self.header_spin.setValue(guess.excel_row)
            for key, combo in self.field_combos.items():
                combo.clear()
                combo.addItem(NOT_IMPORTED, -1)
                for col, text in enumerate(guess.columns):
                    combo.addItem(f"{column_letter(col)}列：{text}", col)
                combo.setCurrentIndex(combo.findData(self.mapping.get(key, -1)))
        finally:
            self._updating = False
        percent = round(guess.confidence * 100)
        word = "高" if guess.confidence >= 0.8 else "中" if guess.confidence >= 0.5 else "低，请核对"
        self.confidence_label.setText(f"{percent}%（{word}）")
        self._mapping_changed()

    def _sheet_changed(self, index: int) -> None:
        if self._updating or index < 0:
            return
        self.sheet_index = index
        self._apply_guess(detect_header(self.sheet(), self.fields))

    def _header_changed(self, excel_row: int) -> None:
        if self._updating or not self.sheets:
            return
        try:
            guess = remap(self.sheet(), excel_row - 1, self.fields)
        except ValidationError as err:
            self.mapping_error.setText(str(err))
            self._update_buttons()
            return
        self._apply_guess(guess)

    def _combo_changed(self, _index: int) -> None:
        if self._updating:
            return
        self.mapping = {key: combo.currentData() for key, combo in self.field_combos.items()
                        if combo.currentData() is not None and combo.currentData() >= 0}
        self._mapping_changed()

    def _mapping_changed(self) -> None:
        """Anything changed on 对应列: check it; the plan is stale and made again."""
        self.plan = None
        try:
            check_mapping(self.mapping, self.fields, self.sheet().width)
        except ValidationError as err:
            self.mapping_error.setText(str(err))
        else:
            self.mapping_error.setText("")
        self._update_buttons()

    def set_column(self, key: str, col: int | None) -> None:
        """Choose the column of a field (None: not imported), as the combo would."""
        combo = self.field_combos[key]
        combo.setCurrentIndex(combo.findData(-1 if col is None else col))

    # -- step 3: the plan --------------------------------------------------------------

    def start_plan(self) -> None:
        sheet, mapping, header = self.sheet(), dict(self.mapping), self.header_index
        db, office, kind, training_id = self.db, self.office, self.kind, self.training_id

        def work(progress: Progress, is_cancelled: IsCancelled) -> ImportPlan:
            try:
                with db.session() as s:
                    if kind == "trainees":
                        return plan_trainee_import(s, office, sheet, mapping, header_index=header,
                                                   training_id=training_id, progress=progress,
                                                   is_cancelled=is_cancelled)
                    return plan_activity_import(s, office, sheet, mapping, header_index=header,
                                                progress=progress, is_cancelled=is_cancelled)
            except ImportCancelledError as err:
                raise Cancelled from err

        self.job = run_in_background(self, work, self._show_plan, title="检查数据",
                                     label="正在逐行检查…")

    def _show_plan(self, plan: ImportPlan) -> None:
        self.plan = plan
        self.counts_label.setText(counts_text(plan))
        sheet = self.sheet()
        keys = KEY_FIELDS[self.kind]
        table = self.preview_table
        table.setRowCount(0)
        table.setRowCount(len(plan.rows))
        for r, row in enumerate(plan.rows):
            problems = [e.message if e.message.startswith(e.field) else f"{e.field}：{e.message}"
                        for e in row.errors]
            problems += list(row.warnings)
            if row.note:
                problems.append(row.note)
            texts = [str(row.excel_row), row.status_label]
            for key, _label in keys:
                col = plan.mapping.get(key)
                texts.append("" if col is None
                             else display_text(sheet.cell(row.excel_row - 1, col)).strip())
            texts.append("；".join(problems))
            for c, text in enumerate(texts):
                item = QTableWidgetItem(text)
                if row.status == INVALID:
                    item.setForeground(INVALID_COLOR)
                elif row.warnings:
                    item.setBackground(WARNING_BACKGROUND)
                if row.status in (DUPLICATE, EXISTING, BLANK, TOTAL, NOTE):
                    item.setForeground(GREY_COLOR)
                table.setItem(r, c, item)
        table.resizeColumnsToContents()
        self._go(2)

    # -- step 4: apply -----------------------------------------------------------------

    def start_apply(self) -> None:
        plan = self.plan
        if plan is None or self.path is None:
            return
        skip = self.skip_check.isChecked() and plan.invalid > 0
        db, office, kind, sheet, path = self.db, self.office, self.kind, self.sheet(), self.path
        apply = apply_trainee_import if kind == "trainees" else apply_activity_import

        def work(progress: Progress, is_cancelled: IsCancelled) -> Any:
            try:
                result = apply(db, office, plan, skip_invalid=skip, progress=progress,
                               is_cancelled=is_cancelled)
            except ImportCancelledError as err:
                raise Cancelled from err
            book = None
            if skip:
                progress(-1, "正在保存错误行…")
                try:
                    book = write_error_workbook(plan, sheet, error_workbook_path(path))
                except OSError:
                    book = None
            return result, book

        self.job = run_in_background(self, work, self._applied, title="导入",
                                     label="正在导入…", on_cancelled=self._apply_cancelled)

    def _apply_cancelled(self) -> None:
        QMessageBox.information(self, messages.APP_TITLE, CANCELLED_TEXT)

    def _applied(self, value: Any) -> None:
        result, book = value
        self.import_result, self.error_book = result, book
        unit = "人" if self.kind == "trainees" else "项"
        lines = [f"导入 {result.imported} {unit}，合并 {result.merged} {unit}（已有）"]
        if result.duplicates_in_file:
            lines.append(f"文件内重复 {result.duplicates_in_file} 行，只导入一次")
        if self.kind == "trainees" and self.training_id is not None:
            lines.append(f"加入培训名单 {result.attendances} 人")
        if result.invalid_skipped:
            lines.append(f"跳过无效行 {result.invalid_skipped} 行")
            if book is not None:
                lines.append(f"错误行已另存为：{book}\n修改后可重新导入。")
            else:
                lines.append("错误行未能另存（文件被占用或无写入权限）。")
        self.changed.emit()
        show_summary(self, "\n".join(lines), book.parent if book is not None else None)
        self.accept()
