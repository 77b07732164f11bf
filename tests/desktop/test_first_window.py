"""The first window: first-run dialog, main window with the overview, backup, worker."""

from __future__ import annotations

import datetime as dt
import logging
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QWidget,
)

from db.catalogs import find_entry
from db.database import Database, check_file, open_database
from db.errors import KepuError
from db.models import Activity, Attendance, AuditLog, Trainee
from db.offices import get_office
from desktop import app as app_module
from desktop import first_run
from desktop.app import FONT_FAMILY, open_or_set_up, run_gui
from desktop.first_run import FirstRunDialog
from desktop.logs import setup_logging
from desktop.main_window import PAGES, MainWindow
from desktop.messages import BUG_MESSAGE
from desktop.overview_page import OverviewPage
from desktop.worker import Cancelled, run_in_background
from tests.desktop.helpers import Boxes, type_text

# -- helpers ---------------------------------------------------------------------


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> Boxes:
    return Boxes(monkeypatch)


def fill_first_run(qtbot: Any, dialog: FirstRunDialog, *, code: str = "350582103") -> None:
    type_text(qtbot, dialog.name_edit, "金井镇")
    type_text(qtbot, dialog.code_edit, code)
    type_text(qtbot, dialog.region_edit, "福建省泉州市晋江市")
    type_text(qtbot, dialog.population_edit, "58,000")


def add_records(db: Database) -> None:
    """Two activities (a lecture and a training) and two trainees on the training."""
    with db.write() as s:
        office = get_office(s)
        lecture = find_entry(s, "form", "讲座")
        training = find_entry(s, "form", "培训")
        assert lecture is not None and training is not None
        s.add(Activity(office_id=office.id, title="防灾减灾知识讲座", form_id=lecture.id,
                       start_date=dt.date(2025, 1, 3), end_date=dt.date(2025, 1, 3),
                       attend=120))
        course = Activity(office_id=office.id, title="智慧助老培训", form_id=training.id,
                          start_date=dt.date(2025, 12, 28), end_date=dt.date(2025, 12, 28),
                          train_hours_x10=20)
        people = [Trainee(office_id=office.id, name="陈美玲"),
                  Trainee(office_id=office.id, name="王建国")]
        s.add_all([course, *people])
        s.flush()
        s.add_all(Attendance(activity_id=course.id, trainee_id=p.id) for p in people)

# -- application -----------------------------------------------------------------


def test_application_uses_bundled_font(qapp: QApplication) -> None:
    assert qapp.applicationName() == "科普台账"
    assert qapp.organizationName() == "kepu"
    assert qapp.font().family() == FONT_FAMILY
    assert QFont(FONT_FAMILY).exactMatch()

# -- first run -------------------------------------------------------------------


def test_first_run_creates_database_with_office(qtbot: Any, db_path: Path) -> None:
    dialog = FirstRunDialog(db_path)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.windowTitle() == "首次使用：设置填报单位"
    assert dialog.path_label.text() == str(db_path)

    fill_first_run(qtbot, dialog)
    assert dialog.level_combo.currentText() == "镇"  # guessed from 金井镇
    # The user checks the level with the keyboard: down to 乡, back up to 镇.
    dialog.level_combo.setFocus()
    qtbot.keyClick(dialog.level_combo, Qt.Key.Key_Down)
    assert dialog.level_combo.currentText() == "乡"
    qtbot.keyClick(dialog.level_combo, Qt.Key.Key_Up)
    assert dialog.level_combo.currentText() == "镇"
    assert not db_path.exists()

    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.population_edit, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.database is not None
    dialog.database.close()

    with open_database(db_path) as db, db.session() as s:
        office = get_office(s)
        assert (office.name, office.code, office.level, office.region, office.population) == (
            "金井镇", "350582103", "镇", "福建省泉州市晋江市", 58000)
        actions = [a.action for a in s.query(AuditLog).filter_by(table_name="office")]
        assert "init" in actions


def test_first_run_level_choice_beats_guess(qtbot: Any, db_path: Path) -> None:
    dialog = FirstRunDialog(db_path)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.level_combo.setFocus()
    qtbot.keyClick(dialog.level_combo, Qt.Key.Key_End)  # the user picks 乡 first
    type_text(qtbot, dialog.name_edit, "金井镇")
    assert dialog.level_combo.currentText() == "乡"


def test_first_run_tab_order_top_to_bottom(qtbot: Any, db_path: Path) -> None:
    dialog = FirstRunDialog(db_path)
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    expected = [dialog.code_edit, dialog.level_combo, dialog.region_edit,
                dialog.population_edit]
    assert QApplication.focusWidget() is dialog.name_edit
    for widget in expected:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is widget


def test_first_run_bad_code_shows_field_message(qtbot: Any, db_path: Path,
                                                 boxes: Boxes) -> None:
    dialog = FirstRunDialog(db_path)
    qtbot.addWidget(dialog)
    dialog.show()
    fill_first_run(qtbot, dialog, code="35058")
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok),
                     Qt.MouseButton.LeftButton)

    error = dialog.error_labels["行政区划代码"]
    assert dialog.isVisible()
    assert not error.isHidden()
    assert "6位、9位或12位数字" in error.text()
    assert all(label.isHidden() for field, label in dialog.error_labels.items()
               if field != "行政区划代码")
    assert dialog.database is None
    assert not db_path.exists()
    assert not db_path.parent.exists()
    assert boxes.calls == []  # shown at the field, not only in a popup

    # The field has the focus with its text selected: typing the right code
    # replaces it and clears the message; then Enter goes through.
    assert dialog.code_edit.hasSelectedText()
    type_text(qtbot, dialog.code_edit, "350582103")
    assert dialog.code_edit.text() == "350582103"
    assert error.isHidden()
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.code_edit, Qt.Key.Key_Enter)
    assert dialog.database is not None
    dialog.database.close()
    assert db_path.exists()


def test_first_run_bad_population_shows_field_message(qtbot: Any, db_path: Path) -> None:
    dialog = FirstRunDialog(db_path)
    qtbot.addWidget(dialog)
    dialog.show()
    type_text(qtbot, dialog.name_edit, "金井镇")
    type_text(qtbot, dialog.code_edit, "350582103")
    type_text(qtbot, dialog.population_edit, "约5万")
    qtbot.keyClick(dialog.population_edit, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert dialog.error_labels["常住人口"].text() == "常住人口应为正整数"
    assert not db_path.exists()


def test_first_run_cancel_creates_nothing(qtbot: Any, db_path: Path) -> None:
    dialog = FirstRunDialog(db_path)
    qtbot.addWidget(dialog)
    dialog.show()
    fill_first_run(qtbot, dialog)
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Escape)
    assert dialog.database is None
    assert not db_path.exists()
    assert not db_path.parent.exists()


def test_first_run_failure_leaves_nothing(qtbot: Any, db_path: Path, boxes: Boxes,
                                          monkeypatch: pytest.MonkeyPatch,
                                          caplog: pytest.LogCaptureFixture) -> None:
    def broken_log_init(*_args: Any) -> None:
        raise RuntimeError("simulated failure after the file was created")

    monkeypatch.setattr(first_run, "log_init", broken_log_init)
    dialog = FirstRunDialog(db_path)
    qtbot.addWidget(dialog)
    dialog.show()
    fill_first_run(qtbot, dialog)
    with caplog.at_level(logging.ERROR):
        qtbot.keyClick(dialog.population_edit, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert boxes.calls and boxes.calls[0][0] == "critical"
    assert boxes.calls[0][1].startswith(BUG_MESSAGE)
    assert "simulated failure" in caplog.text
    assert not db_path.parent.exists()  # no file, no -wal/-shm, no new folder

# -- what run_gui does before the main window -------------------------------------


def test_open_or_set_up_cancelled_first_run(qtbot: Any, db_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FirstRunDialog, "exec", lambda self: QDialog.DialogCode.Rejected)
    assert open_or_set_up(db_path) == (None, 0)
    assert not db_path.parent.exists()


def test_open_or_set_up_existing_database(db: Database) -> None:
    opened, code = open_or_set_up(db.path)
    assert opened is not None and code == 0
    opened.close()


def test_open_or_set_up_file_without_office(qtbot: Any, db_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    open_database(db_path, create=True).close()
    seen: list[Database | None] = []

    def cancel(self: FirstRunDialog) -> int:
        seen.append(self._existing)
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(FirstRunDialog, "exec", cancel)
    assert open_or_set_up(db_path) == (None, 0)
    assert seen and seen[0] is not None  # the dialog got the open file
    assert db_path.exists()  # the user's file is kept


def test_open_or_set_up_corrupt_file(tmp_path: Path, db: Database,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "坏文件.sqlite"
    bad.write_bytes(b"this is not a database at all")
    errors: list[str] = []
    answers = iter([db.path, None])

    def ask(err: KepuError, _parent: Any = None, **_kw: Any) -> Path | None:
        errors.append(str(err))
        return next(answers)

    monkeypatch.setattr(app_module, "ask_after_open_error", ask)
    opened, code = open_or_set_up(bad)  # 选择其他文件… → the good one
    assert opened is not None and opened.path == db.path and code == 0
    opened.close()
    assert "不是科普台账数据库文件" in errors[0]
    assert open_or_set_up(bad) == (None, 1)  # 退出
    assert bad.read_bytes() == b"this is not a database at all"


def test_run_gui_cancelled_first_run_creates_nothing(qtbot: Any, db_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # run_gui installs its own
    monkeypatch.setattr(app_module, "setup_logging", lambda: None)
    monkeypatch.setattr(FirstRunDialog, "exec", lambda self: QDialog.DialogCode.Rejected)
    assert run_gui(db_path) == 0
    assert not db_path.parent.exists()


def test_run_gui_shows_main_window_until_closed(qtbot: Any, db: Database,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(app_module, "setup_logging", lambda: None)
    seen: list[str] = []

    def close_main_window() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible():
                seen.append(widget.windowTitle())
                widget.close()
                widget.deleteLater()

    QTimer.singleShot(0, close_main_window)
    assert run_gui(db.path) == 0
    assert seen == ["科普台账 — 金井镇"]


def test_log_file_is_created_only_when_something_is_logged(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    folder = tmp_path / "logs"
    try:
        path = setup_logging(folder)
        assert path == folder / "kepu.log"
        assert not folder.exists()
        logging.getLogger("desktop.test").error("测试错误")
        assert "测试错误" in path.read_text(encoding="utf-8")
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()

# -- main window and overview ----------------------------------------------------


def test_main_window_title_and_overview_counts(qtbot: Any, db: Database) -> None:
    add_records(db)
    window = MainWindow(db)
    qtbot.addWidget(window)
    with qtbot.waitActive(window):  # shortcuts (F5) need an active window
        window.show()
        window.activateWindow()

    assert window.windowTitle() == "科普台账 — 金井镇"
    assert [window.nav.item(i).text() for i in range(window.nav.count())] == [
        title for title, _ in PAGES]
    assert window.stack.currentWidget().widget() is window.pages["首页"]  # the dashboard first
    page = window.show_page("数据概况")
    assert isinstance(page, OverviewPage)
    counts = {attr: label.text() for attr, label in page.count_labels.items()}
    assert counts["activities"] == "2"
    assert counts["trainings"] == "1"
    assert counts["trainees"] == "2"
    assert counts["attendances"] == "2"
    assert counts["sites"] == "0"
    assert page.count_labels["activities"].alignment() & Qt.AlignmentFlag.AlignRight
    assert page.date_range_label.text() == "2025年1月3日 — 2025年12月28日"
    assert page.findChild(QWidget, "office_常住人口").text() == "58,000"
    assert page.path_label.text() == str(db.path)
    assert window.records_label.text() == "共 6 条记录"
    assert str(db.path) in window.path_label.text()

    # A new record shows after 刷新 (F5).
    with db.write() as s:
        office = get_office(s)
        s.add(Trainee(office_id=office.id, name="林晓"))
    with qtbot.waitSignal(page.overview_changed):  # a shortcut animates the click
        qtbot.keyClick(page, Qt.Key.Key_F5)
    assert page.count_labels["trainees"].text() == "3"
    assert window.records_label.text() == "共 7 条记录"


def test_overview_of_empty_database(qtbot: Any, db: Database) -> None:
    page = OverviewPage(db)
    qtbot.addWidget(page)
    assert page.date_range_label.text() == "暂无活动记录"
    assert page.count_labels["activities"].text() == "0"
    assert page.revision_label.text()


def test_backup_action_writes_verified_copy(qtbot: Any, db: Database, tmp_path: Path,
                                            boxes: Boxes,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    add_records(db)
    folder = tmp_path / "U盘备份"
    folder.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda *_args, **_kwargs: str(folder))
    window = MainWindow(db)
    qtbot.addWidget(window)
    window.show()

    window.backup_action.trigger()
    assert not window.backup_action.isEnabled()
    qtbot.waitUntil(lambda: boxes.calls != [] and window.running_jobs() == 0)

    copies = list(folder.glob("*.sqlite"))
    assert len(copies) == 1
    assert check_file(copies[0]).ok
    assert boxes.calls[0][0] == "information"
    assert str(copies[0]) in boxes.calls[0][1]
    assert window.backup_action.isEnabled()


def test_window_geometry_is_restored(qtbot: Any, db: Database) -> None:
    first = MainWindow(db)
    qtbot.addWidget(first)
    first.show()
    available = first.screen().availableGeometry()
    first.resize(available.width() - 10, available.height() - 40)
    expected = first.size()
    first.close()
    second = MainWindow(db)
    qtbot.addWidget(second)
    assert second.size() == expected

# -- worker ----------------------------------------------------------------------


@pytest.fixture
def parent(qtbot: Any) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_worker_delivers_result(qtbot: Any, parent: QWidget, boxes: Boxes) -> None:
    results: list[int] = []
    threads: list[bool] = []

    def work(progress: Any, is_cancelled: Any) -> int:
        threads.append(threading.current_thread() is threading.main_thread())
        progress(50, "算到一半")
        return 6 * 7

    job = run_in_background(parent, work, results.append)
    with qtbot.waitSignal(job.finished):
        pass
    assert results == [42]
    assert threads == [False]
    assert boxes.calls == []


def test_worker_shows_kepu_error(qtbot: Any, parent: QWidget, boxes: Boxes) -> None:
    def work(progress: Any, is_cancelled: Any) -> None:
        raise KepuError("备份失败，无法写入“E:\\”：磁盘已满")

    results: list[object] = []
    job = run_in_background(parent, work, results.append)
    with qtbot.waitSignal(job.finished):
        pass
    assert results == []
    assert boxes.calls == [("warning", "备份失败，无法写入“E:\\”：磁盘已满")]


def test_worker_logs_bug(qtbot: Any, parent: QWidget, boxes: Boxes,
                         caplog: pytest.LogCaptureFixture) -> None:
    def work(progress: Any, is_cancelled: Any) -> None:
        raise ZeroDivisionError("division by zero")

    job = run_in_background(parent, work, lambda _r: None)
    with caplog.at_level(logging.ERROR), qtbot.waitSignal(job.finished):
        pass
    assert boxes.calls[0][0] == "critical"
    assert boxes.calls[0][1].startswith(BUG_MESSAGE)
    assert "ZeroDivisionError" in caplog.text


def test_worker_progress_dialog_and_cancel(qtbot: Any, parent: QWidget) -> None:
    never = threading.Event()
    results: list[object] = []
    cancelled: list[bool] = []

    def work(progress: Any, is_cancelled: Any) -> str:
        progress(40, "正在处理第 2 步…")
        while not is_cancelled():
            never.wait(0.01)  # stands in for a slice of real work
        raise Cancelled

    job = run_in_background(parent, work, results.append, title="测试",
                            on_cancelled=lambda: cancelled.append(True))
    dialog = job.dialog
    assert not dialog.isVisible()  # not for work that ends within 300 ms
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.windowModality() == Qt.WindowModality.WindowModal
    qtbot.waitUntil(lambda: dialog.labelText() == "正在处理第 2 步…")
    assert dialog.bar.value() == 40
    assert dialog.cancel_button.text() == "取消"

    with qtbot.waitSignal(job.finished):
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # Esc = 取消
    assert cancelled == [True]
    assert results == []


def test_close_refused_while_job_runs(qtbot: Any, db: Database, boxes: Boxes) -> None:
    window = MainWindow(db)
    qtbot.addWidget(window)
    window.show()
    release = threading.Event()
    job = run_in_background(window, lambda _p, _c: release.wait(10), lambda _r: None)
    assert not window.close()
    assert boxes.calls and "后台任务" in boxes.calls[0][1]
    release.set()
    with qtbot.waitSignal(job.finished):
        pass
    assert window.close()


def test_pages_with_unsaved_edits_can_keep_the_user(qtbot: Any, db: Database,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    window = MainWindow(db)
    qtbot.addWidget(window)
    targets = window.show_page("年度目标")
    monkeypatch.setattr(targets, "can_leave", lambda: False)
    window.nav.setCurrentRow([t for t, _ in PAGES].index("学员"))
    assert window.stack.currentWidget().widget() is targets  # stayed
    monkeypatch.setattr(targets, "can_leave", lambda: True)
    window.nav.setCurrentRow([t for t, _ in PAGES].index("学员"))
    assert window.stack.currentWidget().widget() is window.pages["学员"]


def test_saving_the_office_profile_updates_the_title(qtbot: Any, db: Database) -> None:
    window = MainWindow(db)
    qtbot.addWidget(window)
    settings_page = window.pages["设置"]
    office = window.office
    from db.offices import update_office

    with db.write() as s:
        saved = update_office(s, office.id, name="金井镇人民政府", code=office.code,
                              level=office.level, region=office.region,
                              population=office.population)
    settings_page.office_saved.emit(saved)
    assert window.windowTitle() == "科普台账 — 金井镇人民政府"
