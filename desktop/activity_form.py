"""新建 / 编辑科普活动: the activity form.

The rules of what an activity may hold live in :mod:`db.activities`; this form
turns widgets into an :class:`ActivityInput`, asks :func:`validate_activity`
(on save, and live for dates, 人次 and the per-group breakdown) and shows each
:class:`FieldError` in red under its field.
"""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from PySide6.QtCore import QDate, QRect, QSettings, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QCloseEvent,
    QFocusEvent,
    QKeySequence,
    QRegularExpressionValidator,
    QResizeEvent,
    QShortcut,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import select

from db.activities import (
    LABELS,
    ActivityInput,
    ActivityValidationError,
    FieldError,
    GroupShare,
    create_activity,
    entry_defaults,
    get_activity,
    update_activity,
    validate_activity,
)
from db.catalogs import CatalogItem, all_catalogs
from db.database import Database
from db.errors import KepuError
from db.ledger import village_choices
from db.models import Site
from db.offices import OfficeInfo
from desktop import messages
from desktop.evidence_panel import EvidencePanel
from desktop.field_errors import ERROR_STYLE, error_label

log = logging.getLogger(__name__)

HINT_STYLE = "color: #555555;"
BANNER_STYLE = ("background: #fdecea; color: #8a1c1c; border: 1px solid #f5c2c0;"
                " border-radius: 4px; padding: 6px 10px; font-weight: bold;")
MAX_COUNT = 10_000_000
MAX_HOURS = 100_000
NONE_TEXT = "（无）"
LOCKED_BANNER = "该月已上报，记录已锁定"
LOCKED_HINT = "如需修改，请先在“报表”中重新打开该月。"
DEFAULT_SIZE = QSize(1180, 690)  # fits a 1366×768 screen with a taskbar
EVIDENCE_WIDTH = (330, 440)  # the evidence column's default width range
SETTINGS_GEOMETRY = "activity_form/geometry"
SETTINGS_SPLITTER = "activity_form/splitter"
TITLES = {"new": "新建科普活动", "edit": "编辑科普活动", "copy": "复制为新活动"}
# The fields in the order they appear (the first bad one gets the focus).
FIELD_ORDER = ("title", "start_date", "end_date", "form_id", "campaign_id", "village",
               "address", "site_id", "organizer", "co_organizers", "attend", "views",
               "train_hours_x10", "groups", "topic_ids", "project_ids", "volunteers",
               "volunteer_hours_x10", "materials", "media_reports", "spending_fen",
               "description")
# Errors the form shows while the user types (the rest appear on save).
LIVE_FIELDS = ("start_date", "end_date", "attend", "views", "groups")
# Up to 9 digits of 元 and 2 of 角分; a Chinese IME may type 。 or ． for the point.
MONEY_PATTERN = r"^\d{0,9}([.。．]\d{0,2})?$"


def settings() -> QSettings:
    """The user's preferences (same store as the main window)."""
    return QSettings("kepu", "kepu")


def yuan_to_fen(text: str) -> int | None:
    """'1500.5' → 150050; '' → 0; None when the text is not an amount."""
    text = text.strip().replace("。", ".").replace("．", ".")
    if not text:
        return 0
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)


def fen_to_yuan(fen: int) -> str:
    """150050 → '1500.50'; 0 → '' (an empty box reads as 0)."""
    if not fen:
        return ""
    return f"{fen // 100}.{fen % 100:02d}"


def tenths(value: float) -> int:
    """2.5 (hours from a spin box) → 25, through Decimal."""
    return int((Decimal(str(value)) * 10).to_integral_value(rounding=ROUND_HALF_UP))


def from_tenths(x10: int) -> float:
    """25 → 2.5 for a spin box."""
    return float(Decimal(x10) / 10)


# -- small widgets ---------------------------------------------------------------


def _select_all_on_focus(widget: QAbstractSpinBox, event: QFocusEvent) -> None:
    """Typing into a number field replaces it (a click lands first, so select after)."""
    if event.reason() == Qt.FocusReason.MouseFocusReason:
        QTimer.singleShot(0, widget.selectAll)
    elif event.reason() != Qt.FocusReason.PopupFocusReason:
        widget.selectAll()


class SpinBox(QSpinBox):
    """A count: right-aligned, 0..10^7, no wheel changes unless focused."""

    def __init__(self, maximum: int = MAX_COUNT, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(0, maximum)
        self.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccelerated(True)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()  # let the form scroll

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        _select_all_on_focus(self, event)


class HoursSpinBox(QDoubleSpinBox):
    """Hours in 0.5 steps (stored as tenths), right-aligned, no wheel unless focused."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(0, MAX_HOURS)
        self.setDecimals(1)
        self.setSingleStep(0.5)
        self.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        _select_all_on_focus(self, event)


class DateEdit(QDateEdit):
    """yyyy-MM-dd with a calendar popup; no wheel changes unless focused."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDisplayFormat("yyyy-MM-dd")
        self.setCalendarPopup(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumDate(QDate(1990, 1, 1))

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: A002 - Qt's name
        # Tab leaves the field (QDateEdit would step through 年/月/日 first);
        # typing 20250916 fills the sections one after the other anyway.
        return QWidget.focusNextPrevChild(self, next)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()


class ComboBox(QComboBox):
    """A combo box that ignores the wheel unless focused (scrolling the form is safe)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(8)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()


class FlowLayout(QLayout):
    """Lays widgets out left to right, wrapping into new lines (Qt's flow layout example)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            if not item.isEmpty():
                size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _arrange(self, rect: QRect, *, apply: bool) -> int:
        x, y, line_height = rect.x(), rect.y(), 0
        for item in self._items:
            if item.isEmpty():  # hidden widgets take no room
                continue
            hint = item.sizeHint()
            if x + hint.width() > rect.right() + 1 and line_height > 0:
                x = rect.x()
                y += line_height + self._spacing
                line_height = 0
            if apply:
                item.setGeometry(QRect(x, y, hint.width(), hint.height()))
            x += hint.width() + self._spacing * 2
            line_height = max(line_height, hint.height())
        return y + line_height - rect.y()


class CheckList(QWidget):
    """A multi-select of catalog entries shown as check boxes that wrap ("chips").

    With ``with_counts`` each entry also has a 人次 spin box, shown while it is
    ticked (重点人群 with its optional breakdown; 0 means "not given").
    """

    changed = Signal()

    def __init__(self, items: list[CatalogItem], *, with_counts: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.items = items
        self.checks: dict[str, QCheckBox] = {}
        self.spins: dict[str, SpinBox] = {}
        self._online = False
        layout = FlowLayout(self)
        for item in items:
            cell = QWidget()
            row = QHBoxLayout(cell)
            row.setContentsMargins(0, 0, 0, 0)
            row.setSpacing(2)
            check = QCheckBox(item.name)
            check.setObjectName(f"check_{item.kind}_{item.code}")
            check.toggled.connect(self._on_toggled)
            row.addWidget(check)
            self.checks[item.id] = check
            if with_counts:
                spin = SpinBox()
                spin.setObjectName(f"attend_{item.code}")
                spin.setSpecialValueText("—")
                spin.setFixedWidth(spin.fontMetrics().horizontalAdvance("0000000") + 36)
                spin.setToolTip(f"“{item.name}”的人次（可不填；未分配的人次将平均计入所选人群）")
                spin.setVisible(False)
                spin.valueChanged.connect(self.changed)
                row.addWidget(spin)
                self.spins[item.id] = spin
            layout.addWidget(cell)

    @Slot(bool)
    def _on_toggled(self, _checked: bool) -> None:
        self._update_spins()
        self.changed.emit()

    def _update_spins(self) -> None:
        for item_id, spin in self.spins.items():
            checked = self.checks[item_id].isChecked()
            # A value already given is never hidden (the form would save it unseen).
            spin.setVisible(checked and (not self._online or spin.value() > 0))
        self._fit_height()

    def _fit_height(self) -> None:
        """Ask for the height the wrapped lines need at the current width.

        Nested grid and box layouts do not always pass height-for-width on, so
        the widget states it as its minimum height (updated on every resize).
        """
        layout = self.layout()
        layout.activate()
        height = layout.heightForWidth(max(self.width(), 1))
        if height != self.minimumHeight():
            self.setMinimumHeight(height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_height()

    def set_online(self, online: bool) -> None:
        """An online activity is not broken down by group: hide the empty 人次 boxes."""
        self._online = online
        self._update_spins()

    def checked_ids(self) -> tuple[str, ...]:
        return tuple(i for i, c in self.checks.items() if c.isChecked())

    def shares(self) -> tuple[GroupShare, ...]:
        return tuple(
            GroupShare(i, (self.spins[i].value() or None) if i in self.spins else None)
            for i in self.checked_ids())

    def set_checked(self, ids: tuple[str, ...]) -> None:
        for item_id, check in self.checks.items():
            check.setChecked(item_id in ids)

    def set_shares(self, shares: tuple[GroupShare, ...]) -> None:
        wanted = {s.group_id: s.attend for s in shares}
        for item_id, check in self.checks.items():
            if item_id in self.spins:
                self.spins[item_id].setValue(wanted.get(item_id) or 0)
            check.setChecked(item_id in wanted)
        self._update_spins()

    def focus_chain(self) -> list[QWidget]:
        chain: list[QWidget] = []
        for item_id, check in self.checks.items():
            chain.append(check)
            if item_id in self.spins:
                chain.append(self.spins[item_id])
        return chain

    def first_focus(self) -> QWidget:
        checked = self.checked_ids()
        return self.checks[checked[0]] if checked else next(iter(self.checks.values()))

    def set_read_only(self, read_only: bool) -> None:
        for widget in self.focus_chain():
            widget.setEnabled(not read_only)


# -- the dialog ----------------------------------------------------------------------


class ActivityDialog(QDialog):
    """The form for one activity: new, edit (``activity_id``) or copy (``initial``).

    After ``exec()`` returned ``Accepted``, :attr:`saved_id` is the id of the
    saved activity. If the activity was saved but attaching its queued evidence
    failed, the dialog stays open in edit mode; closing it then still returns
    ``Accepted`` (the activity exists).

    Raises:
        KepuError: ``activity_id`` names an activity that no longer exists.

    """

    def __init__(self, db: Database, office: OfficeInfo, *, activity_id: str | None = None,
                 initial: ActivityInput | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.office = office
        self.saved_id: str | None = None
        self._activity_id = activity_id
        self._mode = "edit" if activity_id else ("copy" if initial is not None else "new")
        self._read_only = False
        self.error_labels: dict[str, QLabel] = {}
        self._focus_for: dict[str, QWidget] = {}
        self._shown_errors: dict[str, str] = {}
        self._online_forced = False  # the 线上活动 tick was set by an online form

        data, locked = self._load(activity_id, initial)
        self._build(data)
        self._fill(data)
        self.setWindowTitle(TITLES[self._mode])
        self._baseline = self._state()
        self._live_validate()
        if locked:
            self._set_locked(data)
        self._restore_geometry()
        self.title_edit.setFocus()

    # -- loading ---------------------------------------------------------------

    def _load(self, activity_id: str | None,
              initial: ActivityInput | None) -> tuple[ActivityInput, bool]:
        with self.db.session() as s:
            self._catalogs = all_catalogs(s)
            self._villages = village_choices(s, self.office.id)
            self._sites = list(s.execute(
                select(Site.id, Site.name, Site.closed_on)
                .where(Site.office_id == self.office.id).order_by(Site.name)
            ).all())
            locked = False
            if activity_id is not None:
                detail = get_activity(s, activity_id)
                if detail is None or detail.office_id != self.office.id:
                    raise KepuError("该活动已不存在（可能已被删除）")
                data, locked = detail.data, detail.locked
            elif initial is not None:
                data = initial
            else:
                defaults = entry_defaults(s, self.office)
                forms = [f for f in self._catalogs["form"] if not f.hidden]
                data = ActivityInput(
                    title="", start_date=defaults.start_date, end_date=defaults.start_date,
                    form_id=forms[0].id if forms else "", village=defaults.village,
                    address=defaults.address, organizer=defaults.organizer)
        return data, locked

    def _offered(self, kind: str, used: tuple[str | None, ...]) -> list[CatalogItem]:
        """Visible entries, plus hidden ones this activity already uses."""
        return [e for e in self._catalogs[kind] if not e.hidden or e.id in used]

    # -- building --------------------------------------------------------------

    def _error_label(self, field: str, focus: QWidget) -> QLabel:
        label = error_label()
        label.setObjectName(f"error_{field}")
        self.error_labels[field] = label
        self._focus_for[field] = focus
        return label

    def _cell(self, field: str, widget: QWidget, focus: QWidget | None = None,
              extra: QWidget | None = None) -> QWidget:
        """A field with its (hidden) red message underneath."""
        box = QWidget()
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        if extra is not None:
            row = QHBoxLayout()
            row.setSpacing(12)
            row.addWidget(widget, 1)
            row.addWidget(extra)
            col.addLayout(row)
        else:
            col.addWidget(widget)
        col.addWidget(self._error_label(field, focus or widget))
        col.addStretch(1)  # in a row made taller by a message beside it, stay on top
        return box

    @staticmethod
    def _label(text: str) -> QLabel:
        label = QLabel(f"{text}：")
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        label.setContentsMargins(0, 4, 0, 0)
        return label

    @staticmethod
    def _grid() -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(6)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        return grid

    def _build(self, data: ActivityInput) -> None:
        used = (data.form_id, data.campaign_id, *(g.group_id for g in data.groups),
                *data.topic_ids, *data.project_ids)
        self._forms = self._offered("form", used)
        self._campaigns = self._offered("campaign", used)

        # 基本信息
        self.title_edit = QLineEdit()
        self.title_edit.setPlaceholderText("如 防灾减灾知识讲座")
        self.start_edit = DateEdit()
        self.end_edit = DateEdit()
        self.form_combo = ComboBox()
        for form in self._forms:
            self.form_combo.addItem(form.name, form.id)
        self.online_check = QCheckBox("线上活动")
        self.online_check.setToolTip("直播、推文、短视频等：按浏览量统计，不计参与人次")
        self.campaign_combo = ComboBox()
        self.village_combo = ComboBox()
        self.village_combo.setEditable(True)
        self.village_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.village_combo.addItems(self._villages)
        completer = self.village_combo.completer()
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.village_combo.lineEdit().setPlaceholderText("如 金井村、塘东社区")
        self.address_edit = QLineEdit()
        self.address_edit.setPlaceholderText("如 村委会二楼会议室")
        self.site_combo = ComboBox()
        self.site_combo.addItem(NONE_TEXT, None)
        for site_id, name, closed_on in self._sites:
            if closed_on is None or site_id == data.site_id:
                self.site_combo.addItem(name, site_id)
        self.organizer_edit = QLineEdit()
        self.co_edit = QLineEdit()
        self.co_edit.setPlaceholderText("多个单位用顿号分隔")

        basic = QGroupBox("基本信息")
        g = self._grid()
        g.addWidget(self._label(LABELS["title"]), 0, 0)
        g.addWidget(self._cell("title", self.title_edit), 0, 1, 1, 3)
        g.addWidget(self._label(LABELS["start_date"]), 1, 0)
        g.addWidget(self._cell("start_date", self.start_edit), 1, 1)
        g.addWidget(self._label(LABELS["end_date"]), 1, 2)
        g.addWidget(self._cell("end_date", self.end_edit), 1, 3)
        g.addWidget(self._label(LABELS["form_id"]), 2, 0)
        g.addWidget(self._cell("form_id", self.form_combo, extra=self.online_check), 2, 1)
        g.addWidget(self._label(LABELS["campaign_id"]), 2, 2)
        g.addWidget(self._cell("campaign_id", self.campaign_combo), 2, 3)
        g.addWidget(self._label(LABELS["village"]), 3, 0)
        g.addWidget(self._cell("village", self.village_combo), 3, 1)
        g.addWidget(self._label("地点/地址"), 3, 2)
        g.addWidget(self._cell("address", self.address_edit), 3, 3)
        self.site_label = self._label("科普阵地")
        self.site_cell = self._cell("site_id", self.site_combo)
        g.addWidget(self.site_label, 4, 0)
        g.addWidget(self.site_cell, 4, 1)
        has_sites = self.site_combo.count() > 1
        self.site_label.setVisible(has_sites)
        self.site_cell.setVisible(has_sites)
        g.addWidget(self._label(LABELS["organizer"]), 5, 0)
        g.addWidget(self._cell("organizer", self.organizer_edit), 5, 1)
        g.addWidget(self._label(LABELS["co_organizers"]), 5, 2)
        g.addWidget(self._cell("co_organizers", self.co_edit), 5, 3)
        basic.setLayout(g)

        # 人次与人群
        self.attend_spin = SpinBox()
        self.views_spin = SpinBox()
        self.train_hours_spin = HoursSpinBox()
        self.groups_list = CheckList(self._offered("group", used), with_counts=True)
        self.topics_list = CheckList(self._offered("topic", used))
        self.projects_list = CheckList(self._offered("project", used))
        self.alloc_label = self._error_label("groups", self.groups_list)
        self.alloc_label.setStyleSheet(HINT_STYLE)

        people = QGroupBox("人次与对象")
        g = self._grid()
        self.attend_label = self._label(LABELS["attend"])
        self.attend_cell = self._cell("attend", self.attend_spin)
        self.views_label = self._label(LABELS["views"])
        self.views_cell = self._cell("views", self.views_spin)
        self.train_hours_label = self._label(LABELS["train_hours_x10"])
        self.train_hours_cell = self._cell("train_hours_x10", self.train_hours_spin)
        counts = QHBoxLayout()
        counts.setSpacing(8)
        for label, cell in ((self.attend_label, self.attend_cell),
                            (self.views_label, self.views_cell),
                            (self.train_hours_label, self.train_hours_cell)):
            counts.addWidget(label)
            counts.addWidget(cell)
            counts.addSpacing(16)
        counts.addStretch(1)
        g.addLayout(counts, 0, 0, 1, 4)
        g.addWidget(self._label(LABELS["groups"]), 1, 0)
        groups_box = QWidget()
        col = QVBoxLayout(groups_box)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(4)
        col.addWidget(self.groups_list)
        col.addWidget(self.alloc_label)
        g.addWidget(groups_box, 1, 1, 1, 3)
        g.addWidget(self._label(LABELS["topic_ids"]), 2, 0)
        g.addWidget(self._cell("topic_ids", self.topics_list), 2, 1, 1, 3)
        g.addWidget(self._label(LABELS["project_ids"]), 3, 0)
        g.addWidget(self._cell("project_ids", self.projects_list), 3, 1, 1, 3)
        people.setLayout(g)

        # 其他数量与经费
        self.volunteers_spin = SpinBox()
        self.volunteer_hours_spin = HoursSpinBox()
        self.materials_spin = SpinBox()
        self.media_spin = SpinBox()
        self.spending_edit = QLineEdit()
        self.spending_edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.spending_edit.setPlaceholderText("0.00")
        self.spending_edit.setValidator(QRegularExpressionValidator(MONEY_PATTERN, self))
        self.spending_edit.setToolTip("单位：元，最多两位小数，如 1500 或 1500.50")
        numbers = QGroupBox("志愿服务、资料与经费")
        g = self._grid()
        for i, (text, field, widget) in enumerate((
            ("志愿者人次", "volunteers", self.volunteers_spin),
            ("志愿服务时长（小时）", "volunteer_hours_x10", self.volunteer_hours_spin),
            ("发放资料（份）", "materials", self.materials_spin),
            ("媒体报道（篇）", "media_reports", self.media_spin),
            ("经费（元）", "spending_fen", self.spending_edit),
        )):
            r, c = divmod(i, 2)
            g.addWidget(self._label(text), r, c * 2)
            g.addWidget(self._cell(field, widget), r, c * 2 + 1)
        numbers.setLayout(g)

        self.description_edit = QPlainTextEdit()
        self.description_edit.setTabChangesFocus(True)
        self.description_edit.setPlaceholderText("活动内容、过程和效果（可选；Ctrl+Enter 保存）")
        self.description_edit.setMinimumHeight(64)
        about = QGroupBox(LABELS["description"])
        col = QVBoxLayout(about)
        col.addWidget(self._cell("description", self.description_edit))

        form = QWidget()
        form_layout = QVBoxLayout(form)
        form_layout.setContentsMargins(0, 0, 6, 0)
        for box in (basic, people, numbers):
            form_layout.addWidget(box)
        form_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(form)
        for widget in (self.start_edit, self.end_edit):
            widget.setMaximumWidth(200)
        for widget in (self.attend_spin, self.views_spin, self.train_hours_spin,
                       self.volunteers_spin, self.volunteer_hours_spin, self.materials_spin,
                       self.media_spin, self.spending_edit):
            widget.setMinimumWidth(110)
            widget.setMaximumWidth(170)
        self.scroll.setMinimumWidth(form.minimumSizeHint().width()
                                    + self.scroll.verticalScrollBar().sizeHint().width())

        # 活动简介 and 佐证材料 in the right-hand column
        self.evidence = EvidencePanel(self.db, self._activity_id)
        evidence_box = QGroupBox("佐证材料")
        col = QVBoxLayout(evidence_box)
        col.addWidget(self.evidence)
        right = QWidget()
        right.setMinimumWidth(290)
        col = QVBoxLayout(right)
        col.setContentsMargins(6, 0, 0, 0)
        col.addWidget(about, 1)
        col.addWidget(evidence_box, 4)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.scroll)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)

        self.banner = QLabel()
        self.banner.setObjectName("lock_banner")
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.general_error = error_label()
        self.general_error.setObjectName("general_error")

        self.buttons = QDialogButtonBox()
        self.save_button = QPushButton("保存")
        self.save_button.setToolTip("保存（Ctrl+S 或 Enter）")
        self.save_button.setDefault(True)
        self.cancel_button = QPushButton("取消")
        self.cancel_button.setToolTip("关闭，不保存（Esc）")
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        keys = QLabel("Ctrl+S 保存 · Esc 取消")
        keys.setStyleSheet(HINT_STYLE)
        bottom = QHBoxLayout()
        bottom.addWidget(keys)
        bottom.addWidget(self.general_error, 1)
        bottom.addWidget(self.buttons)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 8)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(bottom)

        for sequence in (QKeySequence(QKeySequence.StandardKey.Save),
                         QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")):
            shortcut = QShortcut(sequence, self)
            shortcut.activated.connect(self.save)

        self._set_tab_order()
        self._connect()
        self.setMinimumHeight(540)  # the width: what the two columns need
        self.setSizeGripEnabled(True)

    def _set_tab_order(self) -> None:
        chain: list[QWidget] = [
            self.title_edit, self.start_edit, self.end_edit, self.form_combo,
            self.online_check, self.campaign_combo, self.village_combo, self.address_edit,
            self.site_combo, self.organizer_edit, self.co_edit, self.attend_spin,
            self.views_spin, self.train_hours_spin, *self.groups_list.focus_chain(),
            *self.topics_list.focus_chain(), *self.projects_list.focus_chain(),
            self.volunteers_spin, self.volunteer_hours_spin, self.materials_spin,
            self.media_spin, self.spending_edit, self.description_edit,
            self.evidence.add_button, self.evidence.kind_combo, self.evidence.keep_check,
            self.evidence.list, self.evidence.open_button, self.evidence.caption_button,
            self.evidence.delete_button, self.evidence.undo_button,
            self.save_button, self.cancel_button,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def _connect(self) -> None:
        self.start_edit.dateChanged.connect(self._start_changed)
        self.end_edit.dateChanged.connect(self._live_validate)
        self.form_combo.currentIndexChanged.connect(self._form_changed)
        self.online_check.toggled.connect(self._online_toggled)
        self.attend_spin.valueChanged.connect(self._live_validate)
        self.views_spin.valueChanged.connect(self._live_validate)
        self.groups_list.changed.connect(self._live_validate)
        for field, signal in (
            ("title", self.title_edit.textChanged),
            ("campaign_id", self.campaign_combo.currentIndexChanged),
            ("village", self.village_combo.editTextChanged),
            ("address", self.address_edit.textChanged),
            ("site_id", self.site_combo.currentIndexChanged),
            ("organizer", self.organizer_edit.textChanged),
            ("co_organizers", self.co_edit.textChanged),
            ("train_hours_x10", self.train_hours_spin.valueChanged),
            ("topic_ids", self.topics_list.changed),
            ("project_ids", self.projects_list.changed),
            ("volunteers", self.volunteers_spin.valueChanged),
            ("volunteer_hours_x10", self.volunteer_hours_spin.valueChanged),
            ("materials", self.materials_spin.valueChanged),
            ("media_reports", self.media_spin.valueChanged),
            ("spending_fen", self.spending_edit.textChanged),
            ("description", self.description_edit.textChanged),
        ):
            signal.connect(lambda *_args, f=field: self._clear_error(f))

    # -- filling -----------------------------------------------------------------

    def _fill(self, data: ActivityInput) -> None:
        widgets = (self.start_edit, self.form_combo, self.online_check)
        for widget in widgets:
            widget.blockSignals(True)
        self.title_edit.setText(data.title)
        self.start_edit.setDate(QDate(data.start_date))
        self._previous_start = data.start_date
        self.end_edit.setDate(QDate(data.end_date))
        index = self.form_combo.findData(data.form_id)
        self.form_combo.setCurrentIndex(max(index, 0))
        self.online_check.setChecked(data.online)
        for widget in widgets:
            widget.blockSignals(False)
        self._fill_campaigns(data.campaign_id)
        self.village_combo.setEditText(data.village)
        self.address_edit.setText(data.address)
        self.site_combo.setCurrentIndex(max(self.site_combo.findData(data.site_id), 0))
        self.organizer_edit.setText(data.organizer)
        self.co_edit.setText(data.co_organizers)
        self.attend_spin.setValue(data.attend)
        self.views_spin.setValue(data.views)
        self.train_hours_spin.setValue(from_tenths(data.train_hours_x10))
        self.groups_list.set_shares(data.groups)
        self.topics_list.set_checked(data.topic_ids)
        self.projects_list.set_checked(data.project_ids)
        self.volunteers_spin.setValue(data.volunteers)
        self.volunteer_hours_spin.setValue(from_tenths(data.volunteer_hours_x10))
        self.materials_spin.setValue(data.materials)
        self.media_spin.setValue(data.media_reports)
        self.spending_edit.setText(fen_to_yuan(data.spending_fen))
        self.description_edit.setPlainText(data.description)
        self._online_forced = self._form_is_online() and not data.online
        self._apply_form_rules()
        self._update_visibility()

    def _fill_campaigns(self, selected: str | None) -> None:
        """（无）, then the campaigns of the start month (marked 本月), then the rest."""
        month = self.start_edit.date().month()
        this_month = [c for c in self._campaigns if c.props.get("month") == month]
        others = [c for c in self._campaigns if c.props.get("month") != month]
        combo = self.campaign_combo
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(NONE_TEXT, None)
        for c in this_month:
            combo.addItem(f"{c.name}（本月）", c.id)
            combo.setItemData(combo.count() - 1, c.props.get("when", ""),
                              Qt.ItemDataRole.ToolTipRole)
        if this_month and others:
            combo.insertSeparator(combo.count())
        for c in others:
            combo.addItem(c.name, c.id)
            if c.props.get("when"):
                combo.setItemData(combo.count() - 1, c.props["when"],
                                  Qt.ItemDataRole.ToolTipRole)
        combo.setCurrentIndex(max(combo.findData(selected), 0))
        combo.blockSignals(False)

    # -- reacting ---------------------------------------------------------------

    def _current_form(self) -> CatalogItem | None:
        form_id = self.form_combo.currentData()
        return next((f for f in self._forms if f.id == form_id), None)

    def _form_is_online(self) -> bool:
        form = self._current_form()
        return bool(form and form.props.get("online"))

    def _is_training(self) -> bool:
        form = self._current_form()
        return bool(form and form.code == "培训")

    def _is_online(self) -> bool:
        return self.online_check.isChecked() or self._form_is_online()

    @Slot(QDate)
    def _start_changed(self, day: QDate) -> None:
        """Move the end date along when it was the same day (or is now before the start)."""
        new_start = day.toPython()
        end = self.end_edit.date().toPython()
        if end <= self._previous_start or end < new_start:
            self.end_edit.blockSignals(True)
            self.end_edit.setDate(day)
            self.end_edit.blockSignals(False)
        if new_start.month != self._previous_start.month:
            self._fill_campaigns(self.campaign_combo.currentData())
        self._previous_start = new_start
        self._live_validate()

    @Slot()
    def _form_changed(self) -> None:
        self._clear_error("form_id")
        self._clear_error("train_hours_x10")
        self._apply_form_rules()
        self._update_visibility()
        self._live_validate()

    def _apply_form_rules(self) -> None:
        """An online form ticks 线上活动 (and fixes it); leaving it restores the tick."""
        online_form = self._form_is_online()
        self.online_check.blockSignals(True)
        if online_form and not self.online_check.isChecked():
            self.online_check.setChecked(True)
            self._online_forced = True
        elif not online_form and self._online_forced:
            self.online_check.setChecked(False)
            self._online_forced = False
        self.online_check.setEnabled(not online_form and not self._read_only)
        self.online_check.blockSignals(False)

    @Slot(bool)
    def _online_toggled(self, _checked: bool) -> None:
        self._online_forced = False
        self._update_visibility()
        self._live_validate()

    def _update_visibility(self) -> None:
        """参与人次 or 线上浏览量 (a field holding a value is never hidden); 学时 for training."""
        online = self._is_online()
        show_attend = not online or self.attend_spin.value() > 0
        show_views = online or self.views_spin.value() > 0
        for widget in (self.attend_label, self.attend_cell):
            widget.setVisible(show_attend)
        for widget in (self.views_label, self.views_cell):
            widget.setVisible(show_views)
        training = self._is_training()
        for widget in (self.train_hours_label, self.train_hours_cell):
            widget.setVisible(training)
        self.groups_list.set_online(online)

    # -- values -------------------------------------------------------------------

    def _input(self, spending_fen: int) -> ActivityInput:
        return ActivityInput(
            title=self.title_edit.text(),
            start_date=self.start_edit.date().toPython(),
            end_date=self.end_edit.date().toPython(),
            form_id=self.form_combo.currentData() or "",
            campaign_id=self.campaign_combo.currentData(),
            online=self.online_check.isChecked(),
            village=self.village_combo.currentText(),
            address=self.address_edit.text(),
            site_id=self.site_combo.currentData() if self.site_cell.isVisibleTo(self) else None,
            organizer=self.organizer_edit.text(),
            co_organizers=self.co_edit.text(),
            attend=self.attend_spin.value(),
            views=self.views_spin.value(),
            volunteers=self.volunteers_spin.value(),
            volunteer_hours_x10=tenths(self.volunteer_hours_spin.value()),
            materials=self.materials_spin.value(),
            media_reports=self.media_spin.value(),
            spending_fen=spending_fen,
            # 学时 only belongs to a training; a hidden box is not saved.
            train_hours_x10=tenths(self.train_hours_spin.value()) if self._is_training() else 0,
            description=self.description_edit.toPlainText(),
            groups=self.groups_list.shares(),
            topic_ids=self.topics_list.checked_ids(),
            project_ids=self.projects_list.checked_ids(),
        )

    def _state(self) -> tuple[ActivityInput, str, int]:
        """What the user sees, to tell whether anything changed."""
        return (self._input(0), self.spending_edit.text(), len(self.evidence.queued_files()))

    def is_modified(self) -> bool:
        """Whether the form differs from what was loaded (or last saved)."""
        return self._state() != self._baseline

    def _validate(self, data: ActivityInput) -> list[FieldError]:
        with self.db.session() as s:
            return validate_activity(s, self.office, data, activity_id=self._activity_id)

    # -- errors -----------------------------------------------------------------

    def _set_error(self, field: str, message: str | None) -> None:
        label = self.error_labels.get(field)
        if label is None:
            return
        if field == "groups":
            self._update_alloc_line(message)
            return
        if message:
            label.setText(message)
            label.show()
        else:
            label.clear()
            label.hide()

    def _clear_error(self, field: str) -> None:
        self._shown_errors.pop(field, None)
        self._set_error(field, None)

    def _update_alloc_line(self, error: str | None) -> None:
        """已分配 X / 共 Y 人次 under the groups, or the breakdown error in red."""
        label = self.alloc_label
        if error:
            label.setStyleSheet(ERROR_STYLE)
            label.setText(error)
            label.show()
            return
        label.setStyleSheet(HINT_STYLE)
        shares = self.groups_list.shares()
        given = sum(s.attend or 0 for s in shares)
        total = self.attend_spin.value()
        if not shares or self._is_online():
            label.hide()
            return
        text = f"已分配 {given} / 共 {total} 人次"
        if given < total:
            text += "，未分配的人次将平均计入所选人群"
        label.setText(text)
        label.show()

    def show_errors(self, errors: list[FieldError]) -> None:
        """Put each message under its field and focus the first bad field."""
        for field in list(self._shown_errors):
            self._clear_error(field)
        self.general_error.hide()
        by_field: dict[str, list[str]] = {}
        for e in errors:
            by_field.setdefault(e.field, []).append(e.message)
        general: list[str] = []
        for field, texts in by_field.items():
            message = "；".join(dict.fromkeys(texts))
            if field in self.error_labels:
                self._shown_errors[field] = message
                self._set_error(field, message)
            else:
                general.append(f"{LABELS.get(field, field)}：{message}")
        if general:
            self.general_error.setText("；".join(general))
            self.general_error.show()
        bad = sorted((f for f in by_field if f in self._focus_for), key=FIELD_ORDER.index)
        if bad:
            widget = self._focus_for[bad[0]]
            if isinstance(widget, CheckList):
                widget = widget.first_focus()
            widget.setFocus(Qt.FocusReason.OtherFocusReason)
            self.scroll.ensureWidgetVisible(self.error_labels[bad[0]])
            self.scroll.ensureWidgetVisible(widget)
            if isinstance(widget, QLineEdit):
                widget.selectAll()

    @Slot()
    def _live_validate(self) -> None:
        """Dates, 人次 and the breakdown are checked while the user types."""
        if self._read_only:
            return
        fen = yuan_to_fen(self.spending_edit.text())
        errors = self._validate(self._input(fen if fen is not None else 0))
        live: dict[str, list[str]] = {}
        for e in errors:
            if e.field in LIVE_FIELDS:
                live.setdefault(e.field, []).append(e.message)
        for field in LIVE_FIELDS:
            message = "；".join(dict.fromkeys(live.get(field, []))) or None
            if message:
                self._shown_errors[field] = message
            else:
                self._shown_errors.pop(field, None)
            self._set_error(field, message)

    # -- saving -----------------------------------------------------------------

    @Slot()
    def save(self) -> None:
        """Validate, save, attach queued evidence, then close with Accepted."""
        if self._read_only or self.evidence.is_busy():
            return
        fen = yuan_to_fen(self.spending_edit.text())
        data = self._input(fen if fen is not None else 0)
        errors = self._validate(data)
        if fen is None:
            errors.append(FieldError("spending_fen", "经费请填写金额（元），如 1500 或 1500.50"))
        if errors:
            self.show_errors(errors)
            return
        try:
            if self._activity_id is None:
                self._activity_id = create_activity(self.db, self.office, data)
            else:
                update_activity(self.db, self.office, self._activity_id, data)
        except ActivityValidationError as err:
            self.show_errors(err.errors)
            return
        except KepuError as err:
            self.general_error.setText(str(err))
            self.general_error.show()
            return
        except Exception:  # noqa: BLE001 - a bug: logged, the form stays open
            log.exception("保存活动失败")
            messages.show_bug(self)
            return
        self.saved_id = self._activity_id
        if self.evidence.queued_files():
            self.save_button.setEnabled(False)
            self.evidence.upload_queued(self._activity_id, self._uploaded)
            return
        super().accept()

    def _uploaded(self, outcome: str) -> None:
        self.save_button.setEnabled(True)
        if outcome == "ok" and not self.evidence.queued_files():
            super().accept()
            return
        # The activity is saved; what was not attached stays queued in edit mode.
        self._mode = "edit"
        self.setWindowTitle(TITLES["edit"])
        self._baseline = self._state()
        left = len(self.evidence.queued_files())
        reason = "已取消上传" if outcome == "cancelled" else "上传未成功"
        self.general_error.setText(
            f"活动已保存，但佐证材料{reason}，还有 {left} 个文件未上传。"
            "可删除有问题的文件后再次保存，或关闭窗口以后再添加。")
        self.general_error.show()

    def accept(self) -> None:
        """Enter / 保存 go through :meth:`save`."""
        self.save()

    def reject(self) -> None:
        """Esc / 取消 / close: ask before throwing changes away."""
        if self.evidence.is_busy():
            return
        if not self._read_only and self.is_modified():
            answer = QMessageBox.question(
                self, "放弃修改？", "所做的修改还没有保存。\n放弃这些修改并关闭窗口吗？",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
        if self.saved_id is not None:
            self.done(QDialog.DialogCode.Accepted)  # it was saved before the upload failed
        else:
            super().reject()

    def done(self, result: int) -> None:
        settings().setValue(SETTINGS_GEOMETRY, self.saveGeometry())
        settings().setValue(SETTINGS_SPLITTER, self.splitter.saveState())
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.evidence.is_busy():
            event.ignore()
            return
        super().closeEvent(event)

    # -- locked ---------------------------------------------------------------

    def _set_locked(self, data: ActivityInput) -> None:
        """A reported month: everything read-only, the lock message at the date."""
        lock_errors = [e for e in self._validate(data) if e.field == "start_date"]
        self._read_only = True
        self.banner.setText(f"{LOCKED_BANNER}。{LOCKED_HINT}")
        self.banner.show()
        for edit in (self.title_edit, self.address_edit, self.organizer_edit, self.co_edit,
                     self.spending_edit):
            edit.setReadOnly(True)
        self.description_edit.setReadOnly(True)
        for spin in (self.start_edit, self.end_edit, self.attend_spin, self.views_spin,
                     self.train_hours_spin, self.volunteers_spin, self.volunteer_hours_spin,
                     self.materials_spin, self.media_spin):
            spin.setReadOnly(True)
            spin.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
        for widget in (self.form_combo, self.online_check, self.campaign_combo,
                       self.village_combo, self.site_combo):
            widget.setEnabled(False)
        for checklist in (self.groups_list, self.topics_list, self.projects_list):
            checklist.set_read_only(True)
        self.evidence.set_read_only(True)
        self.save_button.setEnabled(False)
        self.cancel_button.setText("关闭")
        self.cancel_button.setDefault(True)
        if lock_errors:
            self._set_error("start_date", lock_errors[0].message)

    def is_read_only(self) -> bool:
        """Whether the activity is locked (its month is reported)."""
        return self._read_only

    # -- geometry -------------------------------------------------------------

    def _restore_geometry(self) -> None:
        geometry = settings().value(SETTINGS_GEOMETRY)
        if geometry is None or not self.restoreGeometry(geometry):
            size = QSize(DEFAULT_SIZE)
            screen = self.screen()
            if screen is not None:
                size = size.boundedTo(screen.availableGeometry().size())
            self.resize(size)
        state = settings().value(SETTINGS_SPLITTER)
        if state is None or not self.splitter.restoreState(state):
            evidence = max(EVIDENCE_WIDTH[0], min(EVIDENCE_WIDTH[1], self.width() * 36 // 100))
            self.splitter.setSizes([self.width() - evidence, evidence])

    def sizeHint(self) -> QSize:
        return QSize(DEFAULT_SIZE)
