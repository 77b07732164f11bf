"""The 新增学员 / 编辑学员 dialog, and the live 身份证号 check it shares with the roster.

The 身份证号 is checked while it is typed: once it has 15 or 18 characters
the field says "有效：女，1955年3月12日" in green or the reason it is wrong in
red (the message of :mod:`db.idcard`). A valid number decides 性别 and
出生日期, which are then filled in and greyed. Saving goes through
:func:`db.trainees.create_trainee` / :func:`db.trainees.update_trainee`; their
errors are shown next to the fields and nothing is saved.

An existing person's 身份证号 is shown masked until the clerk asks to change it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from db.catalogs import CatalogItem, list_catalog
from db.database import Database
from db.errors import KepuError, ValidationError
from db.idcard import IdNumberInfo, mask_id_number, parse_id_number
from db.offices import OfficeInfo
from db.trainees import (
    GENDERS,
    FieldError,
    TraineeInput,
    TraineeValidationError,
    clean_trainee,
    create_trainee,
    find_by_id_number,
    get_trainee,
    trainee_rows,
    update_trainee,
)
from desktop import messages
from desktop.field_errors import ERROR_STYLE, FieldErrors, error_label, ok_cancel_buttons
from desktop.trainee_model import chinese_date, trainee_villages

log = logging.getLogger(__name__)

OK_STYLE = "color: #2e7d32;"
HINT_STYLE = "color: palette(placeholder-text);"
NO_GENDER = "未填"
NO_CATEGORY = "（未选择）"
AUTO_TIP = "由身份证号自动得出"

_DATE_FORMS = (
    re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


def parse_birth_date(value: str) -> dt.date | None:
    """Parse a birth date typed as 1955-03-12, 1955/3/12, 1955.3.12, 19550312 or 1955年3月12日.

    Raises:
        ValidationError: not such a date, or not between 1900 and today.

    """
    clean = value.strip().replace(" ", "")
    if not clean:
        return None
    for form in _DATE_FORMS:
        match = form.fullmatch(clean)
        if match:
            try:
                day = dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                break
            if dt.date(1900, 1, 1) <= day <= dt.date.today():
                return day
            break
    raise ValidationError(f"出生日期“{clean}”无效（如 1955-03-12）", field="出生日期")


def _id_text(value: str) -> str:
    """Drop the spaces from a typed 身份证号 (its length is counted without them)."""
    return "".join(value.split())


class IdNumberCheck(QObject):
    """Checks a 身份证号 field as it is typed and says so in a label under it.

    Fewer than 15 characters: a grey count; 15 or 18: green "有效：女，1955年3月12日"
    or the red reason; an illegal character or more than 18: red at once. When
    the field is left with an incomplete number, the red reason is shown too.

    Args:
        edit: the 身份证号 field.
        label: where the result is shown (also used for save errors).
        parent: the owning object.
        lookup: called with a valid number; may return ``(text, style)`` to show
            instead of "有效：…" (e.g. that the number is already registered).

    Signals:
        info_changed: the number became valid or stopped being valid; see :attr:`info`.

    """

    info_changed = Signal()

    def __init__(self, edit: QLineEdit, label: QLabel, parent: QObject | None = None,
                 lookup: Callable[[IdNumberInfo], tuple[str, str] | None] | None = None) -> None:
        super().__init__(parent)
        self.lookup = lookup
        self.edit = edit
        self.label = label
        self.info: IdNumberInfo | None = None
        self.stored: IdNumberInfo | None = None
        label.setWordWrap(False)  # a wrapped label squeezes the fields above it
        label.hide()
        edit.textChanged.connect(lambda _text: self.check())
        edit.editingFinished.connect(lambda: self.check(final=True))

    @Slot()
    def check(self, final: bool = False) -> None:
        """Check the field's text now; ``final`` also flags an unfinished number."""
        raw = _id_text(self.edit.text())
        info: IdNumberInfo | None = None
        if self.stored is not None:  # a stored number shown masked: it was checked on save
            info = self.stored
            self._show(f"有效：{info.gender}，{chinese_date(info.birth_date)}", OK_STYLE)
        elif not raw:
            self._show("", "")
        else:
            try:
                info = parse_id_number(raw)
            except ValidationError as err:
                complete = len(raw) in (15, 18) or len(raw) > 18
                illegal = "非法字符" in err.message
                if len(raw) == 15 and not final:
                    # Maybe an 18-digit number on its way: not wrong yet.
                    self._show(f"已输入 {len(raw)} 位", HINT_STYLE)
                elif complete or illegal or final:
                    self._show(err.message, ERROR_STYLE)
                else:
                    self._show(f"已输入 {len(raw)} 位", HINT_STYLE)
            else:
                found = self.lookup(info) if self.lookup is not None else None
                if found is not None:
                    self._show(*found)
                else:
                    self._show(f"有效：{info.gender}，{chinese_date(info.birth_date)}", OK_STYLE)
        if info != self.info:
            self.info = info
            self.info_changed.emit()

    def set_stored(self, number: str | None) -> None:
        """Treat the field as showing this stored number (masked); None: check the text."""
        try:
            self.stored = parse_id_number(number) if number else None
        except ValidationError:
            self.stored = None
        self.check()

    def show_error(self, message: str) -> None:
        """Show an error about the number (e.g. from saving) in red."""
        self._show(message, ERROR_STYLE)

    def is_error(self) -> bool:
        """Whether the label shows an error."""
        return not self.label.isHidden() and self.label.styleSheet() == ERROR_STYLE

    def _show(self, text: str, style: str) -> None:
        self.label.setText(text)
        self.label.setStyleSheet(style)
        self.label.setVisible(bool(text))


def registered_person(db: Database, office: OfficeInfo, number: str) -> tuple[str, str] | None:
    """(id, "王秀英（坑口村）") of the person registered with this valid number, if any."""
    with db.session() as session:
        found = find_by_id_number(session, office.id, number)
        rows = trainee_rows(session, [found]) if found else []
    if not rows:
        return None
    person = rows[0]
    return person.id, person.name + (f"（{person.village}）" if person.village else "")


def category_combo(db: Database, current: str | None = None) -> QComboBox:
    """Build the 人员类别 drop-down: (未选择) and the visible entries (and a hidden ``current``)."""
    combo = QComboBox()
    combo.addItem(NO_CATEGORY, None)
    with db.session() as session:
        items: Sequence[CatalogItem] = list_catalog(session, "group")
    for item in items:
        if not item.hidden or item.id == current:
            combo.addItem(item.name, item.id)
    if current is not None:
        combo.setCurrentIndex(max(combo.findData(current), 0))
    return combo


def village_combo(db: Database, office: OfficeInfo, current: str = "") -> QComboBox:
    """Build the editable 村/社区 field offering the names used so far."""
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.addItems(trainee_villages(db, office))
    completer = combo.completer()
    if completer is not None:
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
    combo.setEditText(current)
    line = combo.lineEdit()
    if line is not None:
        line.setMaxLength(100)
        line.setPlaceholderText("如 坑口村")
    return combo


def gender_combo() -> QComboBox:
    """性别: 未填 / 男 / 女 (data "", 男, 女)."""
    combo = QComboBox()
    combo.addItem(NO_GENDER, "")
    for gender in GENDERS:
        combo.addItem(gender, gender)
    return combo


class TraineeDialog(FieldErrors, QDialog):
    """新增学员 or 编辑学员; saved when 保存 (Enter, Ctrl+S) is pressed, Esc cancels.

    After ``accepted``, :attr:`saved_id` is the person's id.

    Args:
        db: the open database.
        office: the office the person belongs to.
        trainee_id: the person to edit; None to register a new one.
        parent: the parent widget.

    """

    FIELDS = ("name", "id_number", "gender", "birth_date", "phone", "category_id",
              "village", "employer", "note")
    error_word_wrap = False  # a wrapping label makes the dialog squeeze the fields

    def __init__(self, db: Database, office: OfficeInfo, trainee_id: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.office = office
        self.trainee_id = trainee_id
        self.saved_id: str | None = None
        self._stored_id_number: str | None = None
        self._manual_gender = ""
        self._manual_birth = ""
        self.error_labels: dict[str, QLabel] = {}
        self._field_widgets: dict[str, QWidget] = {}

        person = None
        if trainee_id is not None:
            with db.session() as session:
                found = get_trainee(session, trainee_id)
            if found is not None:
                person = found.person
        self.setWindowTitle("新增学员" if person is None else f"编辑学员 — {person.name}")
        self.setMinimumWidth(560)

        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(50)
        self.name_edit.setPlaceholderText("如 王秀英")
        self.id_edit = QLineEdit()
        self.id_edit.setMaxLength(30)
        self.id_edit.setPlaceholderText("18位，最后一位可能是 X")
        self.id_status = QLabel()
        self.id_check = IdNumberCheck(self.id_edit, self.id_status, self,
                                      lookup=self._registered_elsewhere)
        self.id_change_button = QPushButton("修改号码")
        self.id_change_button.setAutoDefault(False)
        self.id_change_button.setToolTip("显示完整号码以便修改")
        self.id_change_button.clicked.connect(self.unlock_id_number)
        self.id_change_button.hide()
        self.gender_combo = gender_combo()
        self.birth_edit = QLineEdit()
        self.birth_edit.setPlaceholderText("如 1955-03-12")
        self.phone_edit = QLineEdit()
        self.phone_edit.setMaxLength(30)
        self.phone_edit.setPlaceholderText("11位手机号或带区号的固话")
        self.category_combo = category_combo(db, person.category_id if person else None)
        self.village_combo = village_combo(db, office, person.village if person else "")
        self.employer_edit = QLineEdit()
        self.employer_edit.setMaxLength(100)
        self.note_edit = QLineEdit()
        self.note_edit.setMaxLength(300)

        id_row = QWidget()
        id_layout = QHBoxLayout(id_row)
        id_layout.setContentsMargins(0, 0, 0, 0)
        id_layout.addWidget(self.id_edit, 1)
        id_layout.addWidget(self.id_change_button)
        id_box = QWidget()
        id_box_layout = QVBoxLayout(id_box)
        id_box_layout.setContentsMargins(0, 0, 0, 0)
        id_box_layout.setSpacing(2)
        id_box_layout.addWidget(id_row)
        id_box_layout.addWidget(self.id_status)
        self.error_labels["id_number"] = self.id_status
        self._field_widgets["id_number"] = self.id_edit

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("姓名：", self._with_error_label("name", self.name_edit))
        form.addRow("身份证号：", id_box)
        form.addRow("性别：", self._with_error_label("gender", self.gender_combo))
        form.addRow("出生日期：", self._with_error_label("birth_date", self.birth_edit))
        form.addRow("联系电话：", self._with_error_label("phone", self.phone_edit))
        form.addRow("人员类别：", self._with_error_label("category_id", self.category_combo))
        form.addRow("村/社区：", self._with_error_label("village", self.village_combo))
        form.addRow("工作单位：", self._with_error_label("employer", self.employer_edit))
        form.addRow("备注：", self._with_error_label("note", self.note_edit))

        # Not word-wrapped: a wrapping label makes the dialog squeeze the fields
        # (a top-level window does not grow for height-for-width).
        hint = QLabel("身份证号有效时，性别和出生日期按身份证号自动填写。\n"
                      "身份证号属敏感个人信息，列表中只显示部分号码。")
        hint.setStyleSheet(HINT_STYLE)

        self.general_error = error_label(word_wrap=False)

        self.buttons = ok_cancel_buttons(self, QDialogButtonBox.StandardButton.Save, "保存")
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setToolTip("保存（回车 或 Ctrl+S）")
        save_shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self)
        save_shortcut.activated.connect(self.accept)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.general_error)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        self.id_check.info_changed.connect(self._id_info_changed)
        self.gender_combo.currentIndexChanged.connect(lambda _i: self._clear_error("gender"))

        if person is not None:
            self.name_edit.setText(person.name)
            self.phone_edit.setText(person.phone)
            self.employer_edit.setText(person.employer)
            self.note_edit.setText(person.note)
            self.gender_combo.setCurrentIndex(max(self.gender_combo.findData(person.gender), 0))
            self.birth_edit.setText(person.birth_date.isoformat() if person.birth_date else "")
            self._manual_gender = person.gender
            self._manual_birth = self.birth_edit.text()
            if person.id_number:
                self._stored_id_number = person.id_number
                self.id_check.set_stored(person.id_number)
                self.id_edit.setText(mask_id_number(person.id_number))
                self.id_edit.setReadOnly(True)
                self.id_edit.setToolTip("已隐藏中间8位；点“修改号码”显示完整号码")
                self.id_change_button.show()
        self.name_edit.setFocus()

    # -- fields ------------------------------------------------------------------------

    def _clear_error(self, field: str) -> None:
        if field == "id_number":
            return  # the live check owns that label
        super()._clear_error(field)

    def _registered_elsewhere(self, info: IdNumberInfo) -> tuple[str, str] | None:
        found = registered_person(self.db, self.office, info.number)
        if found is None or found[0] == self.trainee_id:
            return None
        return f"此身份证号已登记为“{found[1]}”", ERROR_STYLE

    @Slot()
    def unlock_id_number(self) -> None:
        """Show the full stored number so that it can be corrected."""
        if self._stored_id_number is None:
            return
        self.id_edit.setReadOnly(False)
        self.id_edit.setToolTip("")
        self.id_check.stored = None
        self.id_edit.setText(self._stored_id_number)
        self._stored_id_number = None
        self.id_change_button.hide()
        self.id_edit.setFocus()
        self.id_edit.selectAll()

    @property
    def id_number_locked(self) -> bool:
        """Whether the stored 身份证号 is shown masked (and kept as is on save)."""
        return self._stored_id_number is not None

    @Slot()
    def _id_info_changed(self) -> None:
        info = self.id_check.info
        derived = info is not None
        if derived and self.gender_combo.isEnabled():
            self._manual_gender = str(self.gender_combo.currentData() or "")
            self._manual_birth = self.birth_edit.text()
        if info is not None:
            self.gender_combo.setCurrentIndex(self.gender_combo.findData(info.gender))
            self.birth_edit.setText(info.birth_date.isoformat())
        elif not self.gender_combo.isEnabled():  # no longer derived: what was typed before
            self.gender_combo.setCurrentIndex(
                max(self.gender_combo.findData(self._manual_gender), 0))
            self.birth_edit.setText(self._manual_birth)
        for widget in (self.gender_combo, self.birth_edit):
            widget.setEnabled(not derived)
            widget.setToolTip(AUTO_TIP if derived else "")
        if derived:
            self._clear_error("gender")
            self._clear_error("birth_date")

    # -- saving ------------------------------------------------------------------------

    def collect(self) -> tuple[TraineeInput, list[FieldError]]:
        """Read the fields as a :class:`TraineeInput` (cleaned on save by the db).

        Returns:
            The input, and the problems found here (a birth date that is not a date).

        """
        if self._stored_id_number is not None:
            id_number: str | None = self._stored_id_number
        else:
            id_number = _id_text(self.id_edit.text()) or None
        birth: dt.date | None = None
        problems: list[FieldError] = []
        if self.birth_edit.isEnabled():
            try:
                birth = parse_birth_date(self.birth_edit.text())
            except ValidationError as err:
                problems.append(FieldError("birth_date", err.message))
        data = TraineeInput(
            name=self.name_edit.text(),
            id_number=id_number,
            gender=str(self.gender_combo.currentData() or ""),
            birth_date=birth,
            phone=self.phone_edit.text(),
            category_id=self.category_combo.currentData(),
            village=self.village_combo.currentText(),
            employer=self.employer_edit.text(),
            note=self.note_edit.text(),
        )
        return data, problems

    def show_errors(self, errors: Sequence[FieldError]) -> None:
        """Show each message next to its field; focus the first field with an error."""
        first: QWidget | None = None
        for error in errors:
            if error.field == "id_number":
                self.id_check.show_error(error.message)
            else:
                label = self.error_labels.get(error.field)
                if label is None:
                    self.general_error.setText(error.message)
                    self.general_error.show()
                    continue
                label.setText(error.message)
                label.show()
            if first is None:
                first = self._field_widgets.get(error.field)
        if first is not None:
            first.setFocus()
            if isinstance(first, QLineEdit):
                first.selectAll()

    def _clear_errors(self) -> None:
        super()._clear_errors()
        self.id_check.check()

    def accept(self) -> None:
        """Save in one transaction; on an error show it at its field and stay open."""
        self._clear_errors()
        try:
            data, problems = self.collect()
            if problems:  # not saved; show them with whatever else is wrong
                with self.db.session() as session:
                    groups = list_catalog(session, "group")
                raise TraineeValidationError(
                    problems + list(clean_trainee(data, groups).errors))
            if self.trainee_id is None:
                self.saved_id = create_trainee(self.db, self.office, data)
            else:
                update_trainee(self.db, self.office, self.trainee_id, data)
                self.saved_id = self.trainee_id
        except TraineeValidationError as err:
            self.show_errors(err.errors)
            return
        except KepuError as err:
            self.general_error.setText(str(err))
            self.general_error.show()
            return
        except Exception:  # noqa: BLE001 - a bug: log it, tell the user, keep the dialog
            log.exception("保存学员失败")
            messages.show_bug(self)
            return
        super().accept()
