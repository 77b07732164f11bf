"""The activity form (新建/编辑科普活动) and its evidence panel, driven like a clerk would.

Every test types into the real widgets and then reads the database back.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, QSize, Qt, QUrl
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QInputDialog,
    QListWidgetItem,
    QMessageBox,
    QWidget,
)
from sqlalchemy import func, select

from db.activities import (
    ActivityInput,
    GroupShare,
    create_activity,
    duplicate_input,
    get_activity,
)
from db.attachments import absolute_path, add_attachments, list_attachments, store_dir
from db.catalogs import CatalogItem, find_entry, set_hidden
from db.database import Database
from db.errors import KepuError
from db.models import Activity, AuditLog, Period, Site
from db.offices import OfficeInfo
from tests.desktop import helpers
from tests.desktop.helpers import Boxes, drop_files
from desktop.activity_form import (
    DEFAULT_SIZE,
    ActivityDialog,
    fen_to_yuan,
    tenths,
    yuan_to_fen,
)
from desktop import evidence_panel
from desktop.evidence_panel import QUEUED_TEXT, EvidencePanel
from desktop.worker import IsCancelled

SEPT = dt.date(2025, 9, 16)
CTRL = Qt.KeyboardModifier.ControlModifier

# -- helpers ---------------------------------------------------------------------


def type_text(qtbot: Any, widget: QWidget, text: str) -> None:
    """helpers.type_text into what takes the focus (an editable combo's line edit)."""
    widget.setFocus()
    helpers.type_text(qtbot, QApplication.focusWidget() or widget, text)


def retype(qtbot: Any, widget: QWidget, text: str) -> None:
    """Select what is in a field (Ctrl+A) and type over it."""
    widget.setFocus()
    qtbot.keyClick(QApplication.focusWidget() or widget, Qt.Key.Key_A, CTRL)
    type_text(qtbot, widget, text)


class Questions:
    """Answers QMessageBox.question (放弃修改？) without showing a modal box."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.asked: list[str] = []
        self.answer = QMessageBox.StandardButton.Yes
        monkeypatch.setattr(QMessageBox, "question", self._question)

    def _question(self, _parent: Any, title: str, *_args: Any) -> QMessageBox.StandardButton:
        self.asked.append(title)
        return self.answer


@pytest.fixture(autouse=True)
def questions(monkeypatch: pytest.MonkeyPatch) -> Questions:
    # Also keeps a modified dialog from blocking the test teardown (qtbot closes it).
    return Questions(monkeypatch)


@pytest.fixture(autouse=True)
def boxes(monkeypatch: pytest.MonkeyPatch) -> Boxes:
    # A real modal box would block the test; tests that expect none assert it.
    return Boxes(monkeypatch)


def entry(db: Database, kind: str, code: str) -> CatalogItem:
    with db.session() as s:
        item = find_entry(s, kind, code)
    assert item is not None
    return item


def open_dialog(qtbot: Any, db: Database, office: OfficeInfo, **kwargs: Any) -> ActivityDialog:
    dialog = ActivityDialog(db, office, **kwargs)
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):  # shortcuts (Ctrl+S) need an active window
        dialog.show()
        dialog.activateWindow()
    return dialog


def pick(combo: Any, data: str | None) -> None:
    """Choose an entry of a combo box by its id (as the user would from the list)."""
    index = combo.findData(data)
    assert index >= 0
    combo.setCurrentIndex(index)


def set_date(qtbot: Any, edit: Any, day: dt.date) -> None:
    """Type a date into a QDateEdit from its first section."""
    edit.setFocus()
    edit.setCurrentSectionIndex(0)
    edit.setSelectedSection(edit.sectionAt(0))
    qtbot.keyClicks(edit, day.strftime("%Y%m%d"))
    assert edit.date().toPython() == day


def ctrl_s(qtbot: Any, dialog: ActivityDialog) -> None:
    qtbot.keyClick(QApplication.focusWidget() or dialog, Qt.Key.Key_S, CTRL)


def activity_count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Activity)) or 0


def error(dialog: ActivityDialog, field: str) -> str:
    """The red message shown under a field ('' when none is shown)."""
    label = dialog.error_labels[field]
    return label.text() if label.isVisibleTo(dialog) else ""


def make_jpeg(path: Path, size: tuple[int, int] = (1600, 1200),
              color: tuple[int, int, int] = (30, 120, 200)) -> Path:
    Image.new("RGB", size, color).save(path, "JPEG", quality=90)
    return path


def make_pdf(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
    return path


def saved_lecture(db: Database, office: OfficeInfo, **changes: Any) -> str:
    lecture = entry(db, "form", "讲座")
    values: dict[str, Any] = {"title": "防灾减灾知识讲座", "start_date": SEPT,
                              "end_date": SEPT, "form_id": lecture.id, "attend": 80,
                              "village": "塘东村", "spending_fen": 150050}
    values.update(changes)
    return create_activity(db, office, ActivityInput(**values))

# -- pure helpers -------------------------------------------------------------------


def test_money_and_hours_conversions() -> None:
    assert yuan_to_fen("1500.5") == 150050
    assert yuan_to_fen("1500。50") == 150050  # a Chinese IME's full stop
    assert yuan_to_fen("0.07") == 7
    assert yuan_to_fen("") == 0
    assert yuan_to_fen(".") is None
    assert fen_to_yuan(150050) == "1500.50"
    assert fen_to_yuan(7) == "0.07"
    assert fen_to_yuan(0) == ""
    assert tenths(2.5) == 25
    assert tenths(0.1 + 0.2) == 3  # no float noise reaches the database

# -- new activity ------------------------------------------------------------------


def test_new_activity_typed_and_saved(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    lecture = entry(db, "form", "讲座")
    day = entry(db, "campaign", "全国科普日")
    elderly = entry(db, "group", "老年人")
    residents = entry(db, "group", "社区居民")
    health = entry(db, "topic", "卫生健康")

    dialog = open_dialog(qtbot, db, office)
    assert dialog.windowTitle() == "新建科普活动"
    assert QApplication.focusWidget() is dialog.title_edit
    assert dialog.organizer_edit.text() == "金井镇科协"  # entry_defaults
    assert dialog.start_edit.date().toPython() == dt.date.today()

    type_text(qtbot, dialog.title_edit, "智慧助老 防诈骗知识讲座")
    set_date(qtbot, dialog.start_edit, SEPT)
    assert dialog.end_edit.date().toPython() == SEPT  # moved along with the start
    set_date(qtbot, dialog.end_edit, dt.date(2025, 9, 17))
    pick(dialog.form_combo, lecture.id)
    # The September campaigns come first and are marked 本月.
    assert dialog.campaign_combo.itemText(0) == "（无）"
    assert dialog.campaign_combo.itemText(1) == "全国科普日（本月）"
    pick(dialog.campaign_combo, day.id)
    type_text(qtbot, dialog.village_combo, "塘东社区")
    type_text(qtbot, dialog.attend_spin, "120")
    assert dialog.attend_spin.value() == 120

    qtbot.mouseClick(dialog.groups_list.checks[elderly.id], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.groups_list.checks[residents.id], Qt.MouseButton.LeftButton)
    elderly_spin = dialog.groups_list.spins[elderly.id]
    assert elderly_spin.isVisibleTo(dialog)  # the 人次 box appears once ticked
    type_text(qtbot, elderly_spin, "70")
    assert dialog.alloc_label.text() == "已分配 70 / 共 120 人次，未分配的人次将平均计入所选人群"
    qtbot.mouseClick(dialog.topics_list.checks[health.id], Qt.MouseButton.LeftButton)
    type_text(qtbot, dialog.volunteer_hours_spin, "2.5")
    type_text(qtbot, dialog.spending_edit, "1500.5")

    with qtbot.waitSignal(dialog.accepted):
        ctrl_s(qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.saved_id is not None
    with db.session() as s:
        detail = get_activity(s, dialog.saved_id)
    assert detail is not None
    assert detail.data == ActivityInput(
        title="智慧助老 防诈骗知识讲座", start_date=SEPT, end_date=dt.date(2025, 9, 17),
        form_id=lecture.id, campaign_id=day.id, online=False, village="塘东社区",
        address="", site_id=None, organizer="金井镇科协", co_organizers="", attend=120,
        views=0, volunteers=0, volunteer_hours_x10=25, materials=0, media_reports=0,
        spending_fen=150050, train_hours_x10=0, description="",
        groups=(GroupShare(residents.id, None), GroupShare(elderly.id, 70)),
        topic_ids=(health.id,), project_ids=())


def test_enter_saves_except_in_description(qtbot: Any, db: Database,
                                           office: OfficeInfo) -> None:
    dialog = open_dialog(qtbot, db, office)
    type_text(qtbot, dialog.title_edit, "科普讲座")
    type_text(qtbot, dialog.description_edit, "第一行")
    qtbot.keyClick(dialog.description_edit, Qt.Key.Key_Return)  # a new line, not save
    type_text(qtbot, dialog.description_edit, "第二行")
    assert dialog.isVisible()
    assert dialog.description_edit.toPlainText() == "第一行\n第二行"
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.description_edit, Qt.Key.Key_Return, CTRL)
    with db.session() as s:
        detail = get_activity(s, dialog.saved_id or "")
    assert detail is not None and detail.data.description == "第一行\n第二行"

    second = open_dialog(qtbot, db, office)
    assert second.village_combo.currentText() == ""  # the first had no village
    type_text(qtbot, second.title_edit, "科普展览")
    with qtbot.waitSignal(second.accepted):
        qtbot.keyClick(second.title_edit, Qt.Key.Key_Return)
    assert activity_count(db) == 2


def test_tab_order_top_to_bottom(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    dialog = open_dialog(qtbot, db, office)
    expected = [dialog.start_edit, dialog.end_edit, dialog.form_combo, dialog.online_check,
                dialog.campaign_combo, dialog.village_combo.lineEdit(), dialog.address_edit,
                dialog.organizer_edit, dialog.co_edit, dialog.attend_spin.lineEdit()]
    for widget in expected:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        focused = QApplication.focusWidget()
        assert focused is widget or focused.focusProxy() is widget or (
            widget.parent() is focused), (focused, widget)

# -- validation --------------------------------------------------------------------


def test_empty_title_blocks_saving(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    dialog = open_dialog(qtbot, db, office)
    type_text(qtbot, dialog.attend_spin, "50")
    ctrl_s(qtbot, dialog)
    assert dialog.isVisible()
    assert error(dialog, "title") == "请填写活动名称"
    assert QApplication.focusWidget() is dialog.title_edit
    assert activity_count(db) == 0
    type_text(qtbot, dialog.title_edit, "讲座")
    assert error(dialog, "title") == ""  # typing clears it


def test_end_before_start_shown_while_typing(qtbot: Any, db: Database,
                                             office: OfficeInfo) -> None:
    dialog = open_dialog(qtbot, db, office)
    type_text(qtbot, dialog.title_edit, "科普展览")
    set_date(qtbot, dialog.start_edit, SEPT)
    set_date(qtbot, dialog.end_edit, dt.date(2025, 9, 10))
    assert error(dialog, "end_date") == "结束日期不能早于开始日期"  # before saving
    ctrl_s(qtbot, dialog)
    assert dialog.isVisible()
    assert QApplication.focusWidget() is dialog.end_edit
    assert activity_count(db) == 0
    set_date(qtbot, dialog.end_edit, dt.date(2025, 9, 18))
    assert error(dialog, "end_date") == ""


def test_breakdown_above_total_blocks_saving(qtbot: Any, db: Database,
                                            office: OfficeInfo) -> None:
    elderly = entry(db, "group", "老年人")
    dialog = open_dialog(qtbot, db, office)
    type_text(qtbot, dialog.title_edit, "健康讲座")
    type_text(qtbot, dialog.attend_spin, "60")
    qtbot.mouseClick(dialog.groups_list.checks[elderly.id], Qt.MouseButton.LeftButton)
    type_text(qtbot, dialog.groups_list.spins[elderly.id], "70")
    # A red warning instead of the 已分配 line, at once.
    assert dialog.alloc_label.text() == "分人群人次合计（70）超过了参与人次（60）"
    assert "c62828" in dialog.alloc_label.styleSheet()
    ctrl_s(qtbot, dialog)
    assert dialog.isVisible()
    assert activity_count(db) == 0
    retype(qtbot, dialog.attend_spin, "75")
    assert dialog.alloc_label.text() == "已分配 70 / 共 75 人次，未分配的人次将平均计入所选人群"


def test_online_form_swaps_counts_and_refuses_attendance(qtbot: Any, db: Database,
                                                        office: OfficeInfo) -> None:
    online = entry(db, "form", "线上")
    lecture = entry(db, "form", "讲座")
    dialog = open_dialog(qtbot, db, office)
    assert dialog.attend_spin.isVisibleTo(dialog)
    assert not dialog.views_spin.isVisibleTo(dialog)
    pick(dialog.form_combo, online.id)
    assert dialog.online_check.isChecked() and not dialog.online_check.isEnabled()
    assert dialog.views_spin.isVisibleTo(dialog)
    assert not dialog.attend_spin.isVisibleTo(dialog)  # 人次 is swapped for 浏览量
    pick(dialog.form_combo, lecture.id)
    assert not dialog.online_check.isChecked()  # the tick the online form made goes too

    # 人次 typed first, then the form changed: the number stays visible, with the error.
    type_text(qtbot, dialog.title_edit, "防范电信诈骗直播")
    type_text(qtbot, dialog.attend_spin, "300")
    pick(dialog.form_combo, online.id)
    assert dialog.attend_spin.isVisibleTo(dialog)
    assert error(dialog, "attend").startswith("线上活动按浏览量统计")
    ctrl_s(qtbot, dialog)
    assert dialog.isVisible()
    assert activity_count(db) == 0

    retype(qtbot, dialog.attend_spin, "0")
    type_text(qtbot, dialog.views_spin, "5200")
    with qtbot.waitSignal(dialog.accepted):
        ctrl_s(qtbot, dialog)
    with db.session() as s:
        detail = get_activity(s, dialog.saved_id or "")
    assert detail is not None
    assert (detail.data.form_id, detail.data.views, detail.data.attend) == (online.id, 5200, 0)


def test_training_needs_hours(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    training = entry(db, "form", "培训")
    dialog = open_dialog(qtbot, db, office)
    assert not dialog.train_hours_spin.isVisibleTo(dialog)
    type_text(qtbot, dialog.title_edit, "农民实用技术培训")
    pick(dialog.form_combo, training.id)
    assert dialog.train_hours_spin.isVisibleTo(dialog)
    type_text(qtbot, dialog.attend_spin, "45")
    ctrl_s(qtbot, dialog)
    assert dialog.isVisible()
    assert error(dialog, "train_hours_x10") == "培训请填写学时（大于0）"
    assert QApplication.focusWidget() is dialog.train_hours_spin.lineEdit() or (
        dialog.train_hours_spin.hasFocus())
    assert activity_count(db) == 0

    type_text(qtbot, dialog.train_hours_spin, "3.5")
    assert error(dialog, "train_hours_x10") == ""
    with qtbot.waitSignal(dialog.accepted):
        ctrl_s(qtbot, dialog)
    with db.session() as s:
        detail = get_activity(s, dialog.saved_id or "")
    assert detail is not None and detail.data.train_hours_x10 == 35


def test_bad_money_is_shown_at_the_field(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    dialog = open_dialog(qtbot, db, office)
    type_text(qtbot, dialog.title_edit, "讲座")
    type_text(qtbot, dialog.spending_edit, "12.345abc")
    assert dialog.spending_edit.text() == "12.34"  # the validator refuses the rest
    dialog.spending_edit.setText(".")
    ctrl_s(qtbot, dialog)
    assert error(dialog, "spending_fen").startswith("经费请填写金额")
    assert activity_count(db) == 0

# -- edit, duplicate ----------------------------------------------------------------


def test_edit_changes_attendance_and_is_audited(qtbot: Any, db: Database,
                                                office: OfficeInfo) -> None:
    elderly = entry(db, "group", "老年人")
    activity_id = saved_lecture(db, office, groups=(GroupShare(elderly.id, 50),),
                                volunteer_hours_x10=15)
    dialog = open_dialog(qtbot, db, office, activity_id=activity_id)
    assert dialog.windowTitle() == "编辑科普活动"
    assert dialog.title_edit.text() == "防灾减灾知识讲座"
    assert dialog.spending_edit.text() == "1500.50"
    assert dialog.volunteer_hours_spin.value() == 1.5
    assert dialog.groups_list.checks[elderly.id].isChecked()
    assert dialog.groups_list.spins[elderly.id].value() == 50
    assert not dialog.is_modified()

    type_text(qtbot, dialog.attend_spin, "95")
    with qtbot.waitSignal(dialog.accepted):
        ctrl_s(qtbot, dialog)
    assert dialog.saved_id == activity_id
    with db.session() as s:
        detail = get_activity(s, activity_id)
        updates = s.scalars(select(AuditLog).where(AuditLog.action == "update",
                                                   AuditLog.table_name == "activity",
                                                   AuditLog.record_id == activity_id)).all()
    assert detail is not None
    assert detail.data.attend == 95
    assert detail.data.spending_fen == 150050  # untouched fields stay exact
    assert detail.data.volunteer_hours_x10 == 15
    assert detail.data.groups == (GroupShare(elderly.id, 50),)
    assert [u.changes for u in updates] == [{"attend": [80, 95]}]


def test_duplicate_prefills_and_saves_new(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    elderly = entry(db, "group", "老年人")
    farmers = entry(db, "group", "农民")
    source = saved_lecture(db, office, groups=(GroupShare(farmers.id, 30),
                                               GroupShare(elderly.id, 50)))
    with db.session() as s:
        detail = get_activity(s, source)
    assert detail is not None
    dialog = open_dialog(qtbot, db, office,
                         initial=duplicate_input(detail, dt.date(2025, 10, 9)))
    assert dialog.windowTitle() == "复制为新活动"
    assert dialog.title_edit.text() == "防灾减灾知识讲座"
    assert dialog.village_combo.currentText() == "塘东村"
    assert dialog.groups_list.checked_ids() == (farmers.id, elderly.id)
    assert dialog.attend_spin.value() == 0 and dialog.spending_edit.text() == ""
    type_text(qtbot, dialog.attend_spin, "66")
    with qtbot.waitSignal(dialog.accepted):
        ctrl_s(qtbot, dialog)
    assert dialog.saved_id not in (None, source)
    with db.session() as s:
        copy = get_activity(s, dialog.saved_id or "")
    assert copy is not None
    assert copy.data.title == "防灾减灾知识讲座"
    assert copy.data.start_date == dt.date(2025, 10, 9)
    assert copy.data.groups == (GroupShare(farmers.id, None), GroupShare(elderly.id, None))
    assert copy.data.attend == 66
    assert activity_count(db) == 2


def test_hidden_catalog_entries_only_when_used(qtbot: Any, db: Database,
                                               office: OfficeInfo) -> None:
    exhibition = entry(db, "form", "展览")
    activity_id = saved_lecture(db, office, form_id=exhibition.id)
    with db.write() as s:
        set_hidden(s, exhibition.id, True)
    new = open_dialog(qtbot, db, office)
    assert new.form_combo.findData(exhibition.id) == -1
    edit = open_dialog(qtbot, db, office, activity_id=activity_id)
    assert edit.form_combo.currentData() == exhibition.id


def test_sites_row_only_when_the_office_has_sites(qtbot: Any, db: Database,
                                                  office: OfficeInfo) -> None:
    dialog = open_dialog(qtbot, db, office)
    assert not dialog.site_combo.isVisibleTo(dialog)
    kind = entry(db, "site_kind", "科普e站")
    with db.write() as s:
        site = Site(office_id=office.id, name="塘东社区科普e站", kind_id=kind.id)
        s.add(site)
        s.flush()
        site_id = site.id
    dialog = open_dialog(qtbot, db, office)
    assert dialog.site_combo.isVisibleTo(dialog)
    assert dialog.site_combo.currentText() == "（无）"
    type_text(qtbot, dialog.title_edit, "科普e站开放日")
    pick(dialog.site_combo, site_id)
    with qtbot.waitSignal(dialog.accepted):
        ctrl_s(qtbot, dialog)
    with db.session() as s:
        detail = get_activity(s, dialog.saved_id or "")
    assert detail is not None and detail.data.site_id == site_id


def test_wheel_does_not_change_unfocused_numbers(qtbot: Any, db: Database,
                                                 office: OfficeInfo) -> None:
    dialog = open_dialog(qtbot, db, office)
    dialog.title_edit.setFocus()
    spin = dialog.attend_spin
    spin.setValue(10)
    wheel = QWheelEvent(QPointF(5, 5), QPointF(spin.mapToGlobal(QPoint(5, 5))), QPoint(0, 0),
                        QPoint(0, 120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(spin, wheel)
    assert spin.value() == 10
    assert not wheel.isAccepted()  # left to the scroll area

# -- locked months --------------------------------------------------------------------


def lock(db: Database, office: OfficeInfo, month: str) -> None:
    with db.write() as s:
        s.add(Period(office_id=office.id, month=month, status="submitted"))


def test_locked_activity_is_read_only(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    activity_id = saved_lecture(db, office)
    lock(db, office, "2025-09")
    dialog = open_dialog(qtbot, db, office, activity_id=activity_id)
    assert dialog.is_read_only()
    assert dialog.banner.isVisibleTo(dialog)
    assert "该月已上报，记录已锁定" in dialog.banner.text()
    assert "2025年9月已上报并锁定" in error(dialog, "start_date")
    assert dialog.title_edit.isReadOnly() and dialog.attend_spin.isReadOnly()
    assert not dialog.form_combo.isEnabled()
    assert not dialog.save_button.isEnabled()
    assert not dialog.evidence.add_button.isVisibleTo(dialog)

    dialog.title_edit.setFocus()
    ctrl_s(qtbot, dialog)
    assert dialog.isVisible() and dialog.saved_id is None
    with qtbot.waitSignal(dialog.rejected):  # Enter is 关闭 here, Esc too
        qtbot.keyClick(dialog.title_edit, Qt.Key.Key_Return)
    with db.session() as s:
        detail = get_activity(s, activity_id)
    assert detail is not None and detail.data.attend == 80


def test_new_activity_in_locked_month_shows_lock(qtbot: Any, db: Database,
                                                 office: OfficeInfo) -> None:
    lock(db, office, "2025-09")
    dialog = open_dialog(qtbot, db, office)
    assert not dialog.is_read_only()
    type_text(qtbot, dialog.title_edit, "科普日活动")
    set_date(qtbot, dialog.start_edit, SEPT)
    assert "2025年9月已上报并锁定" in error(dialog, "start_date")  # at once
    ctrl_s(qtbot, dialog)
    assert dialog.isVisible()
    assert activity_count(db) == 0
    set_date(qtbot, dialog.start_edit, dt.date(2025, 10, 8))
    assert error(dialog, "start_date") == ""
    with qtbot.waitSignal(dialog.accepted):
        ctrl_s(qtbot, dialog)
    assert activity_count(db) == 1

# -- cancel ----------------------------------------------------------------------------


def test_escape_with_changes_asks_first(qtbot: Any, db: Database, office: OfficeInfo,
                                        questions: Questions) -> None:
    dialog = open_dialog(qtbot, db, office)
    with qtbot.waitSignal(dialog.rejected):  # nothing changed: no question
        qtbot.keyClick(dialog.title_edit, Qt.Key.Key_Escape)
    assert questions.asked == []

    dialog = open_dialog(qtbot, db, office)
    type_text(qtbot, dialog.title_edit, "未保存的活动")
    questions.answer = QMessageBox.StandardButton.No
    qtbot.keyClick(dialog.title_edit, Qt.Key.Key_Escape)
    assert questions.asked == ["放弃修改？"]
    assert dialog.isVisible()  # 否: keep editing
    questions.answer = QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(dialog.rejected):
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert questions.asked == ["放弃修改？", "放弃修改？"]
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert dialog.saved_id is None
    assert activity_count(db) == 0

# -- evidence --------------------------------------------------------------------------


def wait_idle(qtbot: Any, panel: EvidencePanel) -> None:
    """Wait for the import to end and the form to be the active window again."""
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=20_000)
    window = panel.window()
    if window.isVisible():
        qtbot.waitUntil(window.isActiveWindow)


def test_evidence_added_deleted_and_restored(qtbot: Any, db: Database, office: OfficeInfo,
                                            tmp_path: Path, boxes: Boxes,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    activity_id = saved_lecture(db, office)
    photo = make_jpeg(tmp_path / "现场照片.jpg", size=(3000, 2000))
    sheet = make_pdf(tmp_path / "签到表.pdf")
    asked: list[str] = []

    def get_files(_parent: Any, _caption: str, _dir: str, filters: str) -> tuple[list[str], str]:
        asked.append(filters)
        return [str(photo), str(sheet)], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", get_files)
    dialog = open_dialog(qtbot, db, office, activity_id=activity_id)
    panel = dialog.evidence
    assert panel.count_label.text() == "佐证材料 0 个"
    assert panel.hint_label.isVisibleTo(dialog) and "签到表" in panel.hint_label.text()

    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert "图片 (" in asked[0] and "文档 (" in asked[0] and "全部文件 (*)" in asked[0]
    wait_idle(qtbot, panel)
    assert boxes.calls == []
    with db.session() as s:
        rows = list_attachments(s, activity_id=activity_id)
    assert [(r.filename, r.kind) for r in rows] == [("现场照片.jpg", "照片"),
                                                    ("签到表.pdf", "文档")]
    store = store_dir(db)
    for row in rows:
        path = absolute_path(db, row)
        assert path.is_file() and store in path.parents
    with Image.open(absolute_path(db, rows[0])) as stored:
        assert max(stored.size) == 2400  # scaled down on import
    assert panel.list.count() == 2
    assert panel.count_label.text() == "佐证材料 2 个"
    assert not panel.hint_label.isVisibleTo(dialog)
    assert not panel.list.item(0).icon().isNull()

    # Delete the photo with the Delete key, then undo with Ctrl+Z.
    panel.list.setFocus()
    panel.list.setCurrentRow(0)
    qtbot.keyClick(panel.list, Qt.Key.Key_Delete)
    with db.session() as s:
        assert [r.filename for r in list_attachments(s, activity_id=activity_id)] == ["签到表.pdf"]
    assert panel.count_label.text() == "佐证材料 1 个"
    assert panel.undo_button.isEnabled()
    qtbot.keyClick(panel.list, Qt.Key.Key_Z, CTRL)
    with db.session() as s:
        restored = list_attachments(s, activity_id=activity_id)
    assert [r.id for r in restored] == [r.id for r in rows]
    assert panel.list.count() == 2 and not panel.undo_button.isEnabled()

    # 编辑说明 on the PDF.
    monkeypatch.setattr(QInputDialog, "getText",
                        lambda *_a, **_k: ("9月16日签到表（共2页）", True))
    panel.list.setCurrentRow(1)
    qtbot.mouseClick(panel.caption_button, Qt.MouseButton.LeftButton)
    with db.session() as s:
        assert list_attachments(s, activity_id=activity_id)[1].caption == "9月16日签到表（共2页）"
    assert panel.list.item(1).text() == "9月16日签到表（共2页）"

    # The form itself did not change: Esc closes without asking.
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(dialog.title_edit, Qt.Key.Key_Escape)


def test_evidence_kind_and_keep_original(qtbot: Any, db: Database, office: OfficeInfo,
                                        tmp_path: Path) -> None:
    activity_id = saved_lecture(db, office)
    scan = make_jpeg(tmp_path / "scan.jpg", size=(2600, 1800))
    dialog = open_dialog(qtbot, db, office, activity_id=activity_id)
    panel = dialog.evidence
    pick(panel.kind_combo, "签到表")
    qtbot.mouseClick(panel.keep_check, Qt.MouseButton.LeftButton)
    drop_files(panel, [scan])
    wait_idle(qtbot, panel)
    with db.session() as s:
        (row,) = list_attachments(s, activity_id=activity_id)
    assert row.kind == "签到表"
    assert row.original_path is not None
    assert absolute_path(db, row, original=True).read_bytes() == scan.read_bytes()


def test_new_activity_queues_dropped_files_until_saved(qtbot: Any, db: Database,
                                                       office: OfficeInfo,
                                                       tmp_path: Path, boxes: Boxes) -> None:
    photo = make_jpeg(tmp_path / "合影.jpg")
    sheet = make_pdf(tmp_path / "签到表.pdf")
    dialog = open_dialog(qtbot, db, office)
    panel = dialog.evidence
    drop_files(panel, [photo, sheet])
    assert panel.count_label.text() == "佐证材料 2 个（2 个保存后上传）"
    assert QUEUED_TEXT in panel.list.item(0).text()
    assert panel.list.item(0).foreground().color() == panel.palette().color(
        panel.palette().ColorGroup.Disabled, panel.palette().ColorRole.Text)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Activity)) == 0
    assert dialog.is_modified()  # queued files count as a change

    # A queued file can be taken off the list and put back (Delete, Ctrl+Z).
    panel.list.setFocus()
    panel.list.setCurrentRow(1)
    qtbot.keyClick(panel.list, Qt.Key.Key_Delete)
    assert [q.path.name for q in panel.queued_files()] == ["合影.jpg"]
    qtbot.keyClick(panel.list, Qt.Key.Key_Z, CTRL)
    assert [q.path.name for q in panel.queued_files()] == ["合影.jpg", "签到表.pdf"]

    type_text(qtbot, dialog.title_edit, "青少年科学实验秀")
    type_text(qtbot, dialog.attend_spin, "150")
    with qtbot.waitSignal(dialog.accepted, timeout=20_000):
        ctrl_s(qtbot, dialog)
    assert boxes.calls == []
    with db.session() as s:
        rows = list_attachments(s, activity_id=dialog.saved_id or "")
    assert [r.filename for r in rows] == ["合影.jpg", "签到表.pdf"]
    assert all(absolute_path(db, r).is_file() for r in rows)


def test_failed_upload_keeps_dialog_open_in_edit_mode(qtbot: Any, db: Database,
                                                      office: OfficeInfo, tmp_path: Path,
                                                      boxes: Boxes) -> None:
    good = make_jpeg(tmp_path / "合影.jpg")
    broken = tmp_path / "损坏的照片.jpg"
    broken.write_bytes(b"not really a jpeg")
    dialog = open_dialog(qtbot, db, office)
    panel = dialog.evidence
    drop_files(panel, [good, broken])
    type_text(qtbot, dialog.title_edit, "科技活动周开幕式")
    ctrl_s(qtbot, dialog)
    wait_idle(qtbot, panel)

    assert dialog.isVisible()
    assert dialog.windowTitle() == "编辑科普活动"
    assert dialog.saved_id is not None
    assert activity_count(db) == 1  # the activity itself is saved
    assert boxes.calls and "损坏的照片.jpg" in boxes.calls[0][1]
    assert "活动已保存" in dialog.general_error.text()
    with db.session() as s:
        assert list_attachments(s, activity_id=dialog.saved_id) == []  # all or nothing
    assert len(panel.queued_files()) == 2

    # Remove the broken file from the queue and save again: the good one is attached.
    broken_row = next(i for i in range(panel.list.count())
                      if "损坏的照片" in panel.list.item(i).text())
    panel.list.setCurrentRow(broken_row)
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.accepted, timeout=20_000):
        ctrl_s(qtbot, dialog)
    with db.session() as s:
        rows = list_attachments(s, activity_id=dialog.saved_id)
    assert [r.filename for r in rows] == ["合影.jpg"]
    assert activity_count(db) == 1


def test_cancelled_upload_keeps_files_queued(qtbot: Any, db: Database, office: OfficeInfo,
                                             tmp_path: Path, boxes: Boxes,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    photo = make_jpeg(tmp_path / "合影.jpg")
    started: list[bool] = []

    def slow_add(*_args: Any, is_cancelled: IsCancelled, **_kwargs: Any) -> list[Any]:
        # Stands in for a long import of big photos; stops like add_attachments does.
        started.append(True)
        while not is_cancelled():
            threading.Event().wait(0.01)
        raise KepuError("已取消")

    monkeypatch.setattr(evidence_panel, "add_attachments", slow_add)
    dialog = open_dialog(qtbot, db, office)
    drop_files(dialog.evidence, [photo])
    type_text(qtbot, dialog.title_edit, "科普大篷车进村")
    ctrl_s(qtbot, dialog)
    job = dialog.evidence._job
    assert job is not None
    qtbot.waitUntil(job.dialog.isVisible)  # progress, with 取消
    with qtbot.waitSignal(job.finished, timeout=10_000):
        qtbot.keyClick(job.dialog, Qt.Key.Key_Escape)
    assert started and boxes.calls == []  # cancelling is not an error
    assert dialog.isVisible() and dialog.windowTitle() == "编辑科普活动"
    assert "已取消上传" in dialog.general_error.text()
    assert [q.path.name for q in dialog.evidence.queued_files()] == ["合影.jpg"]
    assert activity_count(db) == 1
    # Closing now still reports the saved activity to the ledger.
    with qtbot.waitSignal(dialog.finished) as blocker:
        qtbot.keyClick(dialog.title_edit, Qt.Key.Key_Escape)
    assert blocker.args == [QDialog.DialogCode.Accepted.value]


def test_locked_activity_evidence_can_only_be_opened(qtbot: Any, db: Database,
                                                     office: OfficeInfo, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    activity_id = saved_lecture(db, office)
    add_attachments(db, activity_id=activity_id, files=[make_jpeg(tmp_path / "a.jpg")])
    lock(db, office, "2025-09")
    opened: list[QUrl] = []
    monkeypatch.setattr("desktop.evidence_panel.QDesktopServices.openUrl",
                        lambda url: opened.append(url) or True)
    dialog = open_dialog(qtbot, db, office, activity_id=activity_id)
    panel = dialog.evidence
    assert not panel.acceptDrops()
    item: QListWidgetItem = panel.list.item(0)
    panel.list.setCurrentItem(item)
    qtbot.keyClick(panel.list, Qt.Key.Key_Delete)
    with db.session() as s:
        assert len(list_attachments(s, activity_id=activity_id)) == 1
    qtbot.mouseClick(panel.open_button, Qt.MouseButton.LeftButton)
    assert len(opened) == 1 and opened[0].toLocalFile().endswith(".jpg")

# -- looks -----------------------------------------------------------------------------


def settle(qtbot: Any, dialog: ActivityDialog) -> None:
    """Wait until the wrapped check lists have taken the height they need."""
    lists = (dialog.groups_list, dialog.topics_list, dialog.projects_list)
    qtbot.waitUntil(lambda: all(c.height() == c.minimumHeight() for c in lists))


def shot(widget: QWidget, path: Path) -> None:
    assert widget.grab().save(str(path))
    folder = os.environ.get("KEPU_SCREENSHOTS")  # to look at them: KEPU_SCREENSHOTS=/tmp/x
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(folder) / path.name)


def inside(dialog: QDialog, widget: QWidget) -> bool:
    top_left = widget.mapTo(dialog, QPoint(0, 0))
    return dialog.rect().contains(top_left) and dialog.rect().contains(
        top_left + QPoint(widget.width() - 1, widget.height() - 1))


def test_screenshots_fit_1366x768(qtbot: Any, db: Database, office: OfficeInfo,
                                  tmp_path: Path) -> None:
    dialog = open_dialog(qtbot, db, office)
    settle(qtbot, dialog)
    shot(dialog, tmp_path / "form_new_default.png")
    dialog.resize(1366, 768)
    qtbot.waitUntil(lambda: dialog.size().width() == 1366)
    settle(qtbot, dialog)
    # Everything fits on a 1366×768 screen without scrolling.
    assert not dialog.scroll.verticalScrollBar().isVisible()
    dialog.save()  # with errors shown
    assert error(dialog, "title")
    shot(dialog, tmp_path / "form_new_errors_1366.png")
    for widget in (dialog.title_edit, dialog.save_button, dialog.cancel_button,
                   dialog.evidence.add_button):
        assert inside(dialog, widget)

    activity_id = saved_lecture(db, office, description="在村委会开展防灾减灾知识讲座。")
    add_attachments(db, activity_id=activity_id, files=[
        make_jpeg(tmp_path / f"photo{i}.jpg", size=(1800, 1200), color=(40 * i, 90, 160))
        for i in range(1, 4)])
    edit = open_dialog(qtbot, db, office, activity_id=activity_id)
    settle(qtbot, edit)
    shot(edit, tmp_path / "form_edit_default.png")  # bounded by the 800×800 test screen
    for size in (DEFAULT_SIZE, QSize(1366, 768)):
        edit.resize(size)
        qtbot.waitUntil(lambda size=size: edit.size() == size)
        settle(qtbot, edit)
        # Three thumbnails fit side by side without scrolling.
        qtbot.waitUntil(lambda: not edit.evidence.list.verticalScrollBar().isVisible())
        shot(edit, tmp_path / f"form_edit_{size.width()}x{size.height()}.png")
        assert not edit.scroll.verticalScrollBar().isVisible()
    assert edit.evidence.list.count() == 3
    assert edit.evidence.count_label.text() == "佐证材料 3 个"
    assert edit.minimumSizeHint().width() <= 1366 and edit.minimumSizeHint().height() <= 728
