"""学员 page, 新增/编辑学员 dialog and the 花名册 dialog, driven like a clerk would."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLineEdit, QMessageBox, QWidget
from sqlalchemy import func, select

from db.activities import ActivityInput, create_activity
from db.catalogs import find_entry
from db.database import Database
from db.demo import generate_demo
from db.idcard import make_id_number
from db.indicators import compute_figures
from db.models import Attendance, Period, Trainee
from db.offices import OfficeInfo
from db.periods import Period as ReportPeriod
from db.trainees import TraineeInput, add_to_roster, create_trainee, set_roster_hours
from desktop.roster_dialog import RosterDialog
from desktop.trainee_dialog import TraineeDialog
from desktop.trainee_model import RosterModel, TraineeModel, format_hours, parse_hours
from desktop.trainee_page import TraineePage
from tests.desktop.helpers import Boxes, type_text

ID_WANG = make_id_number("350582", dt.date(1955, 3, 12), 2)  # 女
ID_CHEN = make_id_number("350582", dt.date(1958, 11, 23), 3)  # 男
ID_LIN = make_id_number("350582", dt.date(1990, 6, 1), 5)  # 男

# -- helpers ---------------------------------------------------------------------------


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> Boxes:
    return Boxes(monkeypatch)


def group_id(db: Database, name: str) -> str:
    with db.session() as s:
        entry = find_entry(s, "group", name)
        assert entry is not None
        return entry.id


def make_training(db: Database, office: OfficeInfo, day: dt.date = dt.date(2025, 9, 16),
                  title: str = "智慧助老培训", hours_x10: int = 20, attend: int = 0) -> str:
    with db.session() as s:
        form = find_entry(s, "form", "培训")
        assert form is not None
    return create_activity(db, office, ActivityInput(
        title=title, start_date=day, end_date=day, form_id=form.id,
        train_hours_x10=hours_x10, attend=attend))


def people(db: Database, office: OfficeInfo) -> dict[str, str]:
    """王秀英 (坑口村, 13812345678), 陈建国 (塘东村, 农民), 王大力 (no number)."""
    return {
        "王秀英": create_trainee(db, office, TraineeInput(
            name="王秀英", id_number=ID_WANG, phone="13812345678", village="坑口村",
            category_id=group_id(db, "老年人"))),
        "陈建国": create_trainee(db, office, TraineeInput(
            name="陈建国", id_number=ID_CHEN, phone="13900001111", village="塘东村",
            category_id=group_id(db, "农民"))),
        "王大力": create_trainee(db, office, TraineeInput(name="王大力", village="坑口村")),
    }


def trainee_count(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Trainee)) or 0)


def attendance(db: Database, activity_id: str) -> dict[str, int | None]:
    with db.session() as s:
        rows = s.execute(select(Attendance.trainee_id, Attendance.hours_x10)
                         .where(Attendance.activity_id == activity_id)).all()
    return {tid: hours for tid, hours in rows}


def column_texts(model: Any, key: str) -> list[str]:
    column = model.column_of(key)
    return [model.index(r, column).data() for r in range(model.rowCount())]


def show(qtbot: Any, widget: QWidget) -> None:
    qtbot.addWidget(widget)
    with qtbot.waitExposed(widget):
        widget.show()

# -- plain helpers -----------------------------------------------------------------------


def test_hours_format_and_parse() -> None:
    assert format_hours(35) == "3.5" and format_hours(20) == "2.0" and format_hours(0) == "0.0"
    assert parse_hours("1.5") == 15 and parse_hours(" 2 ") == 20 and parse_hours("") is None
    assert parse_hours("２．５") == 25
    with pytest.raises(Exception, match="最多一位小数"):
        parse_hours("1.25")

# -- TraineeDialog ---------------------------------------------------------------------


def test_new_trainee_through_dialog(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    dialog = TraineeDialog(db, office)
    show(qtbot, dialog)
    type_text(qtbot, dialog.name_edit, "王秀英")
    qtbot.keyClicks(dialog.id_edit, ID_WANG[:10])
    assert dialog.id_status.text() == "已输入 10 位"
    qtbot.keyClicks(dialog.id_edit, ID_WANG[10:])
    assert dialog.id_status.text() == "有效：女，1955年3月12日"
    assert not dialog.gender_combo.isEnabled() and dialog.gender_combo.currentText() == "女"
    assert not dialog.birth_edit.isEnabled() and dialog.birth_edit.text() == "1955-03-12"
    qtbot.keyClicks(dialog.phone_edit, "13812345678")
    dialog.category_combo.setCurrentIndex(dialog.category_combo.findText("老年人"))
    type_text(qtbot, dialog.village_combo.lineEdit(), "坑口村")

    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.phone_edit, Qt.Key.Key_Return)  # Enter saves

    with db.session() as s:
        person = s.get(Trainee, dialog.saved_id)
        assert person is not None
        assert (person.name, person.id_number, person.gender, person.birth_date) == (
            "王秀英", ID_WANG, "女", dt.date(1955, 3, 12))
        assert (person.phone, person.village) == ("13812345678", "坑口村")
        assert person.category_id == group_id(db, "老年人")


def test_bad_id_number_shows_message_and_saves_nothing(qtbot: Any, db: Database,
                                                      office: OfficeInfo) -> None:
    dialog = TraineeDialog(db, office)
    show(qtbot, dialog)
    type_text(qtbot, dialog.name_edit, "王秀英")
    wrong = ID_WANG[:17] + ("0" if ID_WANG[17] != "0" else "1")
    qtbot.keyClicks(dialog.id_edit, wrong)
    assert f"校验码错误（最后一位应为 {ID_WANG[17]}）" in dialog.id_status.text()
    assert dialog.id_check.is_error()
    assert dialog.gender_combo.isEnabled()  # nothing derived from a wrong number

    qtbot.keyClick(dialog.id_edit, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert dialog.isVisible()
    assert "校验码错误" in dialog.id_status.text()
    assert dialog.saved_id is None
    assert trainee_count(db) == 0

    # The field has the focus, its text selected; fixing the last digit clears the error.
    assert dialog.id_edit.hasFocus() and dialog.id_edit.selectedText() == wrong
    qtbot.keyClick(dialog.id_edit, Qt.Key.Key_End)
    qtbot.keyClick(dialog.id_edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(dialog.id_edit, ID_WANG[17])
    assert dialog.id_status.text() == "有效：女，1955年3月12日"
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.id_edit, Qt.Key.Key_Return)
    assert trainee_count(db) == 1


def test_dialog_errors_next_to_fields(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    people(db, office)
    dialog = TraineeDialog(db, office)
    show(qtbot, dialog)
    qtbot.keyClicks(dialog.phone_edit, "12345")
    qtbot.keyClicks(dialog.id_edit, ID_WANG)  # already registered
    dialog.accept()
    assert dialog.error_labels["name"].text() == "姓名为空"
    assert "联系电话" in dialog.error_labels["phone"].text()
    assert "已登记为“王秀英（坑口村）”" in dialog.id_status.text()
    assert dialog.isVisible() and trainee_count(db) == 3
    # Typing in a field clears its message.
    type_text(qtbot, dialog.name_edit, "林")
    assert dialog.error_labels["name"].isHidden()


def test_edit_keeps_the_masked_number(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    wang = people(db, office)["王秀英"]
    dialog = TraineeDialog(db, office, wang)
    show(qtbot, dialog)
    assert dialog.windowTitle() == "编辑学员 — 王秀英"
    assert dialog.id_edit.text() == "350582********" + ID_WANG[-4:]
    assert dialog.id_edit.isReadOnly() and dialog.id_number_locked
    assert dialog.id_status.text() == "有效：女，1955年3月12日"
    assert dialog.gender_combo.currentText() == "女" and not dialog.gender_combo.isEnabled()
    dialog.phone_edit.clear()
    qtbot.keyClicks(dialog.phone_edit, "0595-85123456")
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.phone_edit, Qt.Key.Key_Return)
    with db.session() as s:
        person = s.get(Trainee, wang)
        assert person is not None
        assert person.id_number == ID_WANG and person.phone == "0595-85123456"

    # 修改号码 shows the full number for correcting it.
    again = TraineeDialog(db, office, wang)
    show(qtbot, again)
    qtbot.mouseClick(again.id_change_button, Qt.MouseButton.LeftButton)
    assert again.id_edit.text() == ID_WANG and not again.id_edit.isReadOnly()

# -- TraineePage -------------------------------------------------------------------------


def test_register_search(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    ids = people(db, office)
    page = TraineePage(db, office)
    show(qtbot, page)
    assert page.search_edit.placeholderText() == "姓名、身份证号（可输后几位）、电话、村/社区"
    assert page.count_label.text() == "共 3 人"

    def search(text: str) -> set[str]:
        page.search_edit.clear()
        type_text(qtbot, page.search_edit, text)
        qtbot.waitUntil(lambda: page.model.query == text)  # after the debounce
        return set(page.model.ids)

    assert search("王") == {ids["王秀英"], ids["王大力"]}
    assert page.count_label.text() == "找到 2 人（共 3 人）"
    assert search(ID_CHEN[-4:]) == {ids["陈建国"]}  # the last 4 digits
    assert search("1234567") == {ids["王秀英"]}  # part of the phone
    assert search("塘东") == {ids["陈建国"]}
    page.search_edit.clear()
    page.apply_search()
    page.category_filter.setCurrentIndex(page.category_filter.findText("农民"))
    assert set(page.model.ids) == {ids["陈建国"]}
    page.category_filter.setCurrentIndex(0)
    page.village_filter.setCurrentIndex(page.village_filter.findText("坑口村"))
    assert set(page.model.ids) == {ids["王秀英"], ids["王大力"]}


def test_register_columns_masked_and_reveal_one_row(qtbot: Any, db: Database,
                                                    office: OfficeInfo) -> None:
    ids = people(db, office)
    training = make_training(db, office)
    add_to_roster(db, training, [ids["王秀英"]])
    set_roster_hours(db, training, ids["王秀英"], 35)
    page = TraineePage(db, office)
    show(qtbot, page)
    model = page.model
    id_texts = column_texts(model, "id_number")
    assert sorted(id_texts) == sorted(["350582********" + ID_WANG[-4:],
                                       "350582********" + ID_CHEN[-4:], ""])
    assert ID_WANG not in id_texts and "13812345678" not in column_texts(model, "phone")
    wang_row = model.row_of(ids["王秀英"])
    assert wang_row is not None
    hours = model.index(wang_row, model.column_of("hours"))
    assert hours.data() == "3.5"
    assert hours.data(Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight
    assert model.index(wang_row, model.column_of("trainings")).data() == "1"
    assert model.index(wang_row, model.column_of("birth_date")).data() == "1955-03-12"

    # The detail pane: fields and the training attended, masked too.
    assert page.select_trainee(ids["王秀英"])
    assert page.detail.name_label.text() == "王秀英"
    assert page.detail.values["id_number"].text() == "350582********" + ID_WANG[-4:]
    assert page.detail.trainings.topLevelItemCount() == 1
    item = page.detail.trainings.topLevelItem(0)
    assert [item.text(i) for i in range(3)] == ["2025-09-16", "智慧助老培训", "3.5"]
    assert page.detail.total_label.text() == "共 1 期，累计 3.5 学时"

    # 显示完整号码 (context menu): that one row only.
    menu = page.build_context_menu()
    action = next(a for a in menu.actions() if a.text() == "显示完整号码")
    action.trigger()
    id_texts = column_texts(model, "id_number")
    assert id_texts[wang_row] == ID_WANG
    assert ID_CHEN not in id_texts
    assert sum(1 for t in id_texts if "*" in t) == 1  # 陈建国 still masked (王大力 has none)
    assert column_texts(model, "phone")[wang_row] == "13812345678"
    assert "13900001111" not in column_texts(model, "phone")
    assert page.detail.values["id_number"].text() == ID_WANG
    assert page.reveal_button.text() == "隐藏完整号码"

    # Another selection hides it again.
    page.select_trainee(ids["陈建国"])
    assert ID_WANG not in column_texts(model, "id_number")
    assert model.revealed_id is None
    assert page.detail.values["id_number"].text() == "350582********" + ID_CHEN[-4:]

    # And so do the 10 seconds (shortened here).
    page.reveal_timer.setInterval(50)
    qtbot.mouseClick(page.reveal_button, Qt.MouseButton.LeftButton)
    assert ID_CHEN in column_texts(model, "id_number")
    qtbot.waitUntil(lambda: model.revealed_id is None)
    assert ID_CHEN not in column_texts(model, "id_number")
    assert page.reveal_button.text() == "显示完整号码"

    # Leaving the page hides them too.
    page.reveal_selected()
    assert model.revealed_id == ids["陈建国"]
    page.hide()
    assert model.revealed_id is None


def test_register_add_edit_delete(qtbot: Any, db: Database, office: OfficeInfo,
                                  boxes: Boxes, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = people(db, office)
    training = make_training(db, office)
    add_to_roster(db, training, [ids["王秀英"]])
    page = TraineePage(db, office)
    show(qtbot, page)
    changes: list[bool] = []
    page.changed.connect(lambda: changes.append(True))

    # 新增学员: the dialog saves, the page shows and selects the new person.
    def fake_exec(dialog: TraineeDialog) -> int:
        dialog.name_edit.setText("林晓")
        dialog.id_edit.setText(ID_LIN)
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(TraineeDialog, "exec", fake_exec)
    page.add_new()
    assert trainee_count(db) == 4 and changes == [True]
    current = page.current_id()
    assert current is not None and page.detail.name_label.text() == "林晓"
    assert page.count_label.text() == "共 4 人"

    # 删除 of someone who attended a training: refused, in Chinese.
    page.select_trainee(ids["王秀英"])
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert boxes.calls[-1][0] == "warning"
    assert "参加过 1 期培训，不能删除" in boxes.calls[-1][1]
    assert trainee_count(db) == 4

    # 删除 of someone else: asked first; 否 keeps, 是 deletes.
    page.select_trainee(ids["王大力"])
    boxes.answer = QMessageBox.StandardButton.No
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert boxes.calls[-1] == ("question", "删除学员“王大力”？删除后不能恢复。")
    assert trainee_count(db) == 4
    boxes.answer = QMessageBox.StandardButton.Yes
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert trainee_count(db) == 3
    assert ids["王大力"] not in page.model.ids


def test_register_column_widths_persist(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    people(db, office)
    first = TraineePage(db, office)
    show(qtbot, first)
    first.table.horizontalHeader().resizeSection(0, 177)
    second = TraineePage(db, office)
    qtbot.addWidget(second)
    assert second.table.horizontalHeader().sectionSize(0) == 177


def test_register_sorts_by_clicked_column_but_not_by_masked_numbers(
        qtbot: Any, db: Database, office: OfficeInfo) -> None:
    ids = people(db, office)
    course = make_training(db, office, hours_x10=35)
    add_to_roster(db, course, [ids["陈建国"]])
    page = TraineePage(db, office)
    show(qtbot, page)
    header = page.table.horizontalHeader()
    model = page.model
    assert column_texts(model, "name") == ["王大力", "王秀英", "陈建国"]  # code-point order

    hours = model.column_of("hours")
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=header.rect().topLeft() + _section_centre(header, hours))
    assert (model.sort_key, model.descending) == ("hours", True)  # largest first
    assert column_texts(model, "name")[0] == "陈建国"
    assert header.sortIndicatorSection() == hours

    village = model.column_of("village")
    header.setSortIndicator(village, Qt.SortOrder.AscendingOrder)  # as a click does
    assert column_texts(model, "village") == ["坑口村", "坑口村", "塘东村"]
    header.setSortIndicator(village, Qt.SortOrder.DescendingOrder)
    assert column_texts(model, "village")[0] == "塘东村"

    before = column_texts(model, "name")
    ident = model.column_of("id_number")
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=header.rect().topLeft() + _section_centre(header, ident))
    assert column_texts(model, "name") == before  # the masked numbers never sort
    assert header.sortIndicatorSection() == village
    assert "不排序" in model.headerData(ident, Qt.Orientation.Horizontal,
                                        Qt.ItemDataRole.ToolTipRole)


def _section_centre(header: Any, section: int) -> Any:
    from PySide6.QtCore import QPoint

    return QPoint(header.sectionViewportPosition(section) + header.sectionSize(section) // 2,
                  header.height() // 2)


def test_register_model_on_demo_data(qtbot: Any, qtmodeltester: Any, db: Database,
                                     office: OfficeInfo) -> None:
    generate_demo(db, office, year=2025, scale="small")
    model = TraineeModel(db, office)
    assert model.rowCount() == 800 == model.total
    qtmodeltester.check(model)
    model.reveal(model.id_at(5))
    model.set_search("王")
    assert 0 < model.rowCount() < 800
    qtmodeltester.check(model)
    picker = TraineeModel(db, office, limit=50, require_query=True,
                          keys=("name", "gender", "id_number", "village"))
    assert picker.rowCount() == 0
    picker.set_search("村")
    assert picker.rowCount() == 50
    qtmodeltester.check(picker)

# -- RosterDialog ------------------------------------------------------------------------


def test_roster_search_and_enter_adds_existing_person(qtbot: Any, db: Database,
                                                      office: OfficeInfo) -> None:
    ids = people(db, office)
    training = make_training(db, office, attend=120)
    dialog = RosterDialog(db, office, training)
    show(qtbot, dialog)
    assert dialog.windowTitle() == "花名册 — 智慧助老培训（2025年9月16日，2学时）"
    assert dialog.summary_label.text() == "本期 0 人次（= 人数 0）"
    changes: list[bool] = []
    dialog.changed.connect(lambda: changes.append(True))

    type_text(qtbot, dialog.search_edit, "王秀")
    qtbot.keyClick(dialog.search_edit, Qt.Key.Key_Return)  # faster than the debounce
    assert attendance(db, training) == {ids["王秀英"]: None}
    assert dialog.search_edit.text() == ""
    assert dialog.add_status.text() == "已加入：王秀英（坑口村）"
    assert dialog.summary_label.text() == "本期 1 人次（= 人数 1）"
    assert dialog.hint_label.text().startswith("有花名册的培训，人次按花名册统计")
    assert "120" in dialog.hint_label.text()
    assert changes == [True]

    # The second 王 is found by the last digits? No number: by name; the one on the
    # roster is greyed and listed, Down moves to the other one.
    type_text(qtbot, dialog.search_edit, "王")
    qtbot.waitUntil(lambda: dialog.search_model.rowCount() == 2)
    assert dialog.search_model.is_marked(ids["王秀英"])
    masked = column_texts(dialog.search_model, "id_number")
    assert "350582********" + ID_WANG[-4:] in masked and ID_WANG not in masked
    assert dialog.search_model.id_at(dialog.results.currentIndex().row()) == ids["王大力"]
    qtbot.keyClick(dialog.search_edit, Qt.Key.Key_Return)
    assert set(attendance(db, training)) == {ids["王秀英"], ids["王大力"]}

    # Double-click in the list adds too; by the last 4 digits of the number.
    type_text(qtbot, dialog.search_edit, ID_CHEN[-4:])
    qtbot.waitUntil(lambda: dialog.search_model.rowCount() == 1)
    rect = dialog.results.visualRect(dialog.search_model.index(0, 0))
    qtbot.mouseClick(dialog.results.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(dialog.results.viewport(), Qt.MouseButton.LeftButton,
                      pos=rect.center())
    assert set(attendance(db, training)) == set(ids.values())
    assert [r.name for r in dialog.model.rows] == ["王大力", "王秀英", "陈建国"]

    with db.session() as s:
        figures = compute_figures(s, office, ReportPeriod.parse("2025-09"))
    assert figures["train.attend"].period == 3  # the roster, not the 120 entered
    assert figures["train.people"].period == 3


def test_roster_quick_entry_selects_registered_person(qtbot: Any, db: Database,
                                                      office: OfficeInfo) -> None:
    ids = people(db, office)
    training = make_training(db, office)
    dialog = RosterDialog(db, office, training)
    show(qtbot, dialog)
    before = trainee_count(db)

    qtbot.mouseClick(dialog.new_button, Qt.MouseButton.LeftButton)
    assert dialog.quick.isVisible()
    type_text(qtbot, dialog.quick_name, "王秀")  # typed differently from the register
    qtbot.keyClicks(dialog.quick_id, ID_WANG)
    assert dialog.quick_id_status.text() == "已在学员库中：王秀英（坑口村），回车即加入花名册"
    qtbot.keyClick(dialog.quick_id, Qt.Key.Key_Return)

    assert dialog.add_status.text() == "已在学员库中：王秀英（坑口村），已加入花名册"
    assert trainee_count(db) == before  # no duplicate
    assert attendance(db, training) == {ids["王秀英"]: None}

    # A new person is registered and added.
    type_text(qtbot, dialog.quick_name, "林晓")
    qtbot.keyClicks(dialog.quick_id, ID_LIN)
    qtbot.keyClicks(dialog.quick_phone, "13700001234")
    qtbot.keyClick(dialog.quick_phone, Qt.Key.Key_Return)
    assert dialog.add_status.text() == "已登记新学员并加入花名册：林晓"
    assert trainee_count(db) == before + 1
    with db.session() as s:
        lin = s.scalar(select(Trainee).where(Trainee.name == "林晓"))
        assert lin is not None and lin.gender == "男" and lin.phone == "13700001234"
    assert len(attendance(db, training)) == 2

    # A wrong number: the message at the field, nothing saved.
    type_text(qtbot, dialog.quick_name, "张三")
    qtbot.keyClicks(dialog.quick_id, ID_LIN[:17] + ("1" if ID_LIN[17] != "1" else "2"))
    qtbot.keyClick(dialog.quick_id, Qt.Key.Key_Return)
    assert "校验码错误" in dialog.quick_id_status.text()
    assert trainee_count(db) == before + 1 and len(attendance(db, training)) == 2

    # Esc closes the quick entry first, then the dialog; 关闭 closes at once.
    qtbot.keyClick(dialog.quick_name, Qt.Key.Key_Escape)
    assert not dialog.quick.isVisible() and dialog.isVisible()
    qtbot.keyClick(dialog.search_edit, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    dialog.show()
    dialog.show_quick_entry()
    with qtbot.waitSignal(dialog.rejected):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Close).click()


def test_roster_remove_and_hours(qtbot: Any, db: Database, office: OfficeInfo,
                                 boxes: Boxes) -> None:
    ids = people(db, office)
    training = make_training(db, office)
    add_to_roster(db, training, list(ids.values()))
    dialog = RosterDialog(db, office, training)
    show(qtbot, dialog)
    model = dialog.model
    assert dialog.summary_label.text() == "本期 3 人次（= 人数 3）"
    assert column_texts(model, "hours") == ["2.0", "2.0", "2.0"]
    assert all("*" in t for t in column_texts(model, "id_number") if t)

    # 学时 of one person, typed into the table.
    row = model.row_of(ids["陈建国"])
    assert row is not None
    index = model.index(row, model.column_of("hours"))
    dialog.table.setCurrentIndex(index)
    dialog.table.edit(index)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit) and editor.text() == ""
    qtbot.keyClicks(editor, "1.5")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits (queued)
    qtbot.waitUntil(lambda: attendance(db, training)[ids["陈建国"]] == 15)
    assert index.data() == "1.5"
    # Bad input: a message, nothing written.
    assert not model.setData(index, "一点五")
    assert "学时" in dialog.add_status.text()
    assert attendance(db, training)[ids["陈建国"]] == 15
    # Blank: back to the training's.
    assert model.setData(index, "")
    assert attendance(db, training)[ids["陈建国"]] is None

    # One person: removed without asking.
    dialog.table.selectRow(model.row_of(ids["王大力"]))
    dialog.table.setFocus()
    qtbot.keyClick(dialog.table, Qt.Key.Key_Delete)
    assert not [c for c in boxes.calls if c[0] == "question"]
    assert set(attendance(db, training)) == {ids["王秀英"], ids["陈建国"]}

    # Several: asked first.
    dialog.table.selectAll()
    boxes.answer = QMessageBox.StandardButton.No
    qtbot.keyClick(dialog.table, Qt.Key.Key_Delete)
    assert boxes.calls[-1][0] == "question" and "2 人" in boxes.calls[-1][1]
    assert len(attendance(db, training)) == 2
    boxes.answer = QMessageBox.StandardButton.Yes
    qtbot.keyClick(dialog.table, Qt.Key.Key_Delete)
    assert attendance(db, training) == {}
    assert dialog.summary_label.text() == "本期 0 人次（= 人数 0）"
    assert trainee_count(db) == 3  # still in the register


def test_roster_figures_from_rosters(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    ids = people(db, office)
    first = make_training(db, office, dt.date(2025, 9, 5), "第一期")
    second = make_training(db, office, dt.date(2025, 9, 19), "第二期")
    for training, names in ((first, ("王秀英", "陈建国")), (second, ("王秀英",))):
        dialog = RosterDialog(db, office, training)
        show(qtbot, dialog)
        for name in names:
            type_text(qtbot, dialog.search_edit, ID_WANG[-4:] if name == "王秀英"
                      else ID_CHEN[-4:])
            qtbot.keyClick(dialog.search_edit, Qt.Key.Key_Return)
        dialog.close()
    with db.session() as s:
        figures = compute_figures(s, office, ReportPeriod.parse("2025-09"))
    assert figures["train.attend"].period == 3  # 人次: 王 ×2 + 陈 ×1
    assert figures["train.people"].period == 2  # 人数
    assert figures["train.老年人.attend"].period == 2
    assert figures["train.农民.people"].period == 1
    assert set(attendance(db, second)) == {ids["王秀英"]}


def test_roster_locked_month_is_read_only(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    ids = people(db, office)
    training = make_training(db, office)
    add_to_roster(db, training, [ids["王秀英"]])
    with db.write() as s:
        s.add(Period(office_id=office.id, month="2025-09", status="submitted"))
    dialog = RosterDialog(db, office, training)
    show(qtbot, dialog)
    assert dialog.read_only
    assert dialog.banner.isVisible() and "2025年9月已上报并锁定" in dialog.banner.text()
    assert not dialog.add_area.isVisible()
    assert not dialog.remove_button.isEnabled()
    hours = dialog.model.index(0, dialog.model.column_of("hours"))
    assert not dialog.model.flags(hours) & Qt.ItemFlag.ItemIsEditable
    dialog.search_edit.setText("陈")
    dialog.add_selected()
    dialog.table.selectAll()
    dialog.remove_selected()
    assert not dialog.model.setData(hours, "1.0")
    assert attendance(db, training) == {ids["王秀英"]: None}


def test_roster_of_a_non_training(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    with db.session() as s:
        lecture = find_entry(s, "form", "讲座")
        assert lecture is not None
    aid = create_activity(db, office, ActivityInput(
        title="防诈骗讲座", start_date=dt.date(2025, 9, 1), end_date=dt.date(2025, 9, 1),
        form_id=lecture.id, attend=50))
    dialog = RosterDialog(db, office, aid)
    show(qtbot, dialog)
    assert dialog.error == "只有活动形式为“培训”的活动才有花名册"
    assert dialog.banner.text() == dialog.error and dialog.banner.isVisible()
    assert dialog.read_only and not dialog.add_area.isVisible()
    assert dialog.windowTitle() == "花名册"


def test_roster_model(qtbot: Any, qtmodeltester: Any, db: Database, office: OfficeInfo) -> None:
    ids = people(db, office)
    training = make_training(db, office)
    model = RosterModel(db, training)
    qtmodeltester.check(model)  # empty
    add_to_roster(db, training, list(ids.values()))
    set_roster_hours(db, training, ids["王秀英"], 35)
    model.refresh()
    assert model.rowCount() == 3
    qtmodeltester.check(model)
    row = model.row_of(ids["王秀英"])
    assert row is not None
    index = model.index(row, model.column_of("hours"))
    assert index.data() == "3.5" and index.data(Qt.ItemDataRole.EditRole) == "3.5"
    assert index.data(Qt.ItemDataRole.FontRole).bold()


def test_roster_selection_survives_refresh(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    ids = people(db, office)
    training = make_training(db, office)
    add_to_roster(db, training, [ids["王秀英"], ids["陈建国"]])
    dialog = RosterDialog(db, office, training)
    show(qtbot, dialog)
    row = dialog.model.row_of(ids["陈建国"])
    assert row is not None
    dialog.table.selectionModel().setCurrentIndex(
        dialog.model.index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    add_to_roster(db, training, [ids["王大力"]])  # sorts before both
    dialog.model.refresh()
    assert dialog.selected_ids() == [ids["陈建国"]]


def test_register_enter_and_double_click_edit(qtbot: Any, db: Database, office: OfficeInfo,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    ids = people(db, office)
    opened: list[str | None] = []

    def fake_exec(dialog: TraineeDialog) -> int:
        opened.append(dialog.trainee_id)
        return TraineeDialog.DialogCode.Rejected

    monkeypatch.setattr(TraineeDialog, "exec", fake_exec)
    page = TraineePage(db, office)
    show(qtbot, page)
    # Search, Enter goes to the first match, Enter again edits it.
    type_text(qtbot, page.search_edit, "陈")
    qtbot.keyClick(page.search_edit, Qt.Key.Key_Return)
    assert page.current_id() == ids["陈建国"] and page.table.hasFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert opened == [ids["陈建国"]]
    rect = page.table.visualRect(page.model.index(0, 0))
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened == [ids["陈建国"], ids["陈建国"]]
    assert trainee_count(db) == 3  # cancelled: nothing changed
