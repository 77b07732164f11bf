"""导入向导: a messy roster picked, columns checked, previewed and imported like a clerk would."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from sqlalchemy import func, select

from db.activities import ActivityInput, create_activity
from db.catalogs import find_entry
from db.database import Database
from db.idcard import make_id_number
from db.imports import INVALID, error_workbook_path
from db.models import Attendance, Trainee
from db.offices import OfficeInfo
from desktop import import_wizard
from desktop.import_wizard import ImportWizard, column_letter
from tests.desktop import helpers

ID_WANG = make_id_number("350582", dt.date(1955, 3, 12), 2)
ID_CHEN = make_id_number("350582", dt.date(1958, 11, 23), 3)


def messy_roster(path: Path) -> Path:
    """A title row, the header on row 2, three people; 李四 (row 4) has a bad 身份证号."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "签到表"
    ws.append(["金井镇智慧助老培训签到表"])
    ws.append(["序号", "姓名", "联系电话", "身份证号码"])
    ws.append([1, "王秀英", "13812345678", ID_WANG])
    ws.append([2, "李四", "13900001111", "123456"])
    ws.append([3, "陈建国", "13700002222", ID_CHEN])
    wb.save(path)
    return path


def trainee_count(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Trainee)) or 0)


def attendance_count(db: Database, activity_id: str) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Attendance)
                            .where(Attendance.activity_id == activity_id)) or 0)


def make_training(db: Database, office: OfficeInfo) -> str:
    with db.session() as s:
        form = find_entry(s, "form", "培训")
        assert form is not None
    day = dt.date(2025, 9, 16)
    return create_activity(db, office, ActivityInput(
        title="智慧助老培训", start_date=day, end_date=day, form_id=form.id,
        train_hours_x10=20))


class Boxes(helpers.Boxes):
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(monkeypatch)
        monkeypatch.setattr(import_wizard, "show_summary", self._summary)

    def _summary(self, _parent: Any, text: str, folder: Path | None) -> None:
        self.calls.append(("summary", text))
        self.folder = folder


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> Boxes:
    return Boxes(monkeypatch)


def wait_job(qtbot: Any, wizard: ImportWizard) -> None:
    assert wizard.job is not None
    qtbot.waitUntil(lambda: not wizard.job.is_running(), timeout=15000)


def open_file(qtbot: Any, wizard: ImportWizard, path: Path,
              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *_a, **_k: (str(path), "表格文件 (*.xlsx)"))
    qtbot.mouseClick(wizard.choose_button, Qt.MouseButton.LeftButton)
    wait_job(qtbot, wizard)


def to_preview(qtbot: Any, wizard: ImportWizard) -> None:
    assert wizard.step() == 1
    qtbot.keyClick(wizard, Qt.Key.Key_Return)  # Enter = 下一步
    wait_job(qtbot, wizard)
    assert wizard.step() == 2


def preview_rows(wizard: ImportWizard) -> list[list[str]]:
    t = wizard.preview_table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def make_wizard(qtbot: Any, db: Database, office: OfficeInfo, **kw: Any) -> ImportWizard:
    wizard = ImportWizard(db, office, **kw)
    qtbot.addWidget(wizard)
    wizard.show()
    return wizard


def test_column_letters() -> None:
    assert [column_letter(c) for c in (0, 2, 25, 26, 27)] == ["A", "C", "Z", "AA", "AB"]


def test_walk_the_steps_skip_invalid_and_import_into_training(
        qtbot: Any, db: Database, office: OfficeInfo, tmp_path: Path, boxes: Boxes,
        monkeypatch: pytest.MonkeyPatch) -> None:
    tid = make_training(db, office)
    book = messy_roster(tmp_path / "签到表.xlsx")
    wizard = make_wizard(qtbot, db, office, kind="trainees", training_id=tid)
    assert wizard.target_label.text() == "导入到培训：智慧助老培训"
    assert not wizard.next_button.isEnabled()  # no file yet

    open_file(qtbot, wizard, book, monkeypatch)
    assert wizard.step() == 1
    assert wizard.header_spin.value() == 2  # the title row is skipped
    assert wizard.field_combos["name"].currentText() == "B列：姓名"
    assert wizard.field_combos["id_number"].currentText() == "D列：身份证号码"
    assert wizard.mapping_error.text() == ""
    assert "%" in wizard.confidence_label.text()

    to_preview(qtbot, wizard)
    rows = preview_rows(wizard)
    bad = next(r for r in rows if r[0] == "4")
    assert bad[1] == "无效" and bad[2] == "李四" and "身份证" in bad[-1]
    assert wizard.counts_label.text().startswith("共 3 行：新增 2")
    assert "无效 1" in wizard.counts_label.text()
    # invalid rows: 导入 is disabled until 跳过无效行 is ticked
    assert wizard.next_button.text() == "导入"
    assert not wizard.next_button.isEnabled()
    assert "跳过无效行" in wizard.hint_label.text()
    wizard.skip_check.setChecked(True)
    assert wizard.next_button.isEnabled() and wizard.hint_label.text() == ""

    with qtbot.waitSignal(wizard.changed, timeout=15000):
        qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
        wait_job(qtbot, wizard)
    assert wizard.result() == ImportWizard.DialogCode.Accepted
    assert trainee_count(db) == 2
    assert attendance_count(db, tid) == 2
    errors = error_workbook_path(book)
    assert errors.exists() and wizard.error_book == errors
    summary = [t for k, t in boxes.calls if k == "summary"]
    assert summary and "导入 2 人" in summary[0] and "加入培训名单 2 人" in summary[0]
    assert boxes.folder == errors.parent
    ws = openpyxl.load_workbook(errors).active
    assert any(c.value == "李四" for row in ws.iter_rows() for c in row)


def test_changing_a_column_re_plans(qtbot: Any, db: Database, office: OfficeInfo,
                                    tmp_path: Path, boxes: Boxes,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    book = messy_roster(tmp_path / "签到表.xlsx")
    wizard = make_wizard(qtbot, db, office, kind="trainees")
    assert wizard.target_label.text() == "只导入学员库"
    open_file(qtbot, wizard, book, monkeypatch)
    to_preview(qtbot, wizard)
    assert wizard.plan is not None and wizard.plan.invalid == 1

    qtbot.mouseClick(wizard.back_button, Qt.MouseButton.LeftButton)
    assert wizard.step() == 1
    wizard.set_column("id_number", None)  # （不导入）
    assert wizard.field_combos["id_number"].currentText() == "（不导入）"
    assert wizard.plan is None  # stale
    to_preview(qtbot, wizard)
    assert wizard.plan.invalid == 0 and wizard.plan.new == 3
    assert all(r[1] == "新增" for r in preview_rows(wizard))
    assert wizard.next_button.isEnabled()

    # a required field without a column: red message, no 下一步
    qtbot.mouseClick(wizard.back_button, Qt.MouseButton.LeftButton)
    wizard.set_column("name", None)
    assert "姓名" in wizard.mapping_error.text()
    assert not wizard.next_button.isEnabled()
    # using one column twice
    wizard.set_column("name", 1)
    wizard.set_column("phone", 1)
    assert "同时对应" in wizard.mapping_error.text()
    wizard.set_column("phone", 2)
    assert wizard.mapping_error.text() == ""


def test_header_row_changed_by_hand(qtbot: Any, db: Database, office: OfficeInfo,
                                    tmp_path: Path, boxes: Boxes,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    book = messy_roster(tmp_path / "签到表.xlsx")
    wizard = make_wizard(qtbot, db, office)
    open_file(qtbot, wizard, book, monkeypatch)
    wizard.header_spin.setValue(1)  # the title row: nothing recognised
    assert wizard.field_combos["name"].currentText() == "（不导入）"
    assert wizard.mapping_error.text() and not wizard.next_button.isEnabled()
    wizard.header_spin.setValue(2)
    assert wizard.field_combos["name"].currentText() == "B列：姓名"
    assert wizard.next_button.isEnabled()


def test_cancel_during_apply_leaves_the_database_unchanged(
        qtbot: Any, db: Database, office: OfficeInfo, tmp_path: Path, boxes: Boxes,
        monkeypatch: pytest.MonkeyPatch) -> None:
    book = messy_roster(tmp_path / "签到表.xlsx")
    real = import_wizard.apply_trainee_import

    def cancelled_apply(*args: Any, **kw: Any) -> Any:
        kw["is_cancelled"] = lambda: True  # as if 取消 was pressed at once
        return real(*args, **kw)

    monkeypatch.setattr(import_wizard, "apply_trainee_import", cancelled_apply)
    wizard = make_wizard(qtbot, db, office)
    changed: list[bool] = []
    wizard.changed.connect(lambda: changed.append(True))
    open_file(qtbot, wizard, book, monkeypatch)
    to_preview(qtbot, wizard)
    wizard.skip_check.setChecked(True)
    qtbot.keyClick(wizard, Qt.Key.Key_Return)  # Enter = 导入
    wait_job(qtbot, wizard)
    assert wizard.job.outcome == "cancelled"
    assert ("information", "已取消导入，数据库未改动") in boxes.calls
    assert trainee_count(db) == 0 and not changed
    assert wizard.isVisible() and wizard.step() == 2
    assert not error_workbook_path(book).exists()
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)  # Esc = cancel
    assert wizard.result() == ImportWizard.DialogCode.Rejected


def test_import_all_valid_without_skipping(qtbot: Any, db: Database, office: OfficeInfo,
                                           tmp_path: Path, boxes: Boxes,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "身份证号"])
    wb.active.append(["王秀英", ID_WANG])
    path = tmp_path / "名单.xlsx"
    wb.save(path)
    wizard = make_wizard(qtbot, db, office)
    open_file(qtbot, wizard, path, monkeypatch)
    to_preview(qtbot, wizard)
    assert wizard.plan.invalid == 0 and wizard.next_button.isEnabled()
    qtbot.keyClick(wizard, Qt.Key.Key_Return)
    wait_job(qtbot, wizard)
    assert trainee_count(db) == 1
    assert wizard.error_book is None and not error_workbook_path(path).exists()
    assert wizard.result() == ImportWizard.DialogCode.Accepted


def test_template_download(qtbot: Any, db: Database, office: OfficeInfo, tmp_path: Path,
                           boxes: Boxes, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "模板.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *_a, **_k: (str(out), "Excel 文件 (*.xlsx)"))
    wizard = make_wizard(qtbot, db, office, kind="activities")
    qtbot.mouseClick(wizard.template_button, Qt.MouseButton.LeftButton)
    assert out.exists()
    assert boxes.calls and boxes.calls[-1][0] == "information"


def test_unreadable_file_shows_an_error(qtbot: Any, db: Database, office: OfficeInfo,
                                        tmp_path: Path, boxes: Boxes,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(b"not a workbook")
    wizard = make_wizard(qtbot, db, office)
    open_file(qtbot, wizard, bad, monkeypatch)
    assert wizard.step() == 0 and boxes.calls and boxes.calls[-1][0] == "warning"
    assert INVALID == "invalid"


def test_pages_open_the_wizard(qtbot, db, office, monkeypatch):  # noqa: ANN001, ANN201
    from desktop import import_wizard
    from desktop.ledger_page import LedgerPage
    from desktop.trainee_page import TraineePage

    opened: list[tuple[str, object]] = []

    def fake_exec(self):  # noqa: ANN001, ANN202
        opened.append((self.kind, self.training_id))
        return 0

    monkeypatch.setattr(import_wizard.ImportWizard, "exec", fake_exec)
    trainees = TraineePage(db, office)
    qtbot.addWidget(trainees)
    trainees.import_button.click()
    ledger = LedgerPage(db, office)
    qtbot.addWidget(ledger)
    ledger.buttons["import"].click()
    assert opened == [("trainees", None), ("activities", None)]
