"""活动台账: the ledger model (ids + paged rows, SQL filter/sort) and the page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox
from sqlalchemy import func, insert, select

from db.activities import ActivityInput, GroupShare, create_activity, get_activity
from db.catalogs import find_entry
from db.database import Database
from db.ledger import LedgerFilter, ledger_ids
from db.models import Activity, Attachment, Attendance, CatalogEntry, Period, Trainee
from db.offices import OfficeInfo
from desktop import ledger_page
from desktop.activity_form import ActivityDialog
from desktop.ledger_model import (
    ID_ROLE,
    WARNING_COLOR,
    LedgerModel,
    column_index,
    format_dates,
    format_fen,
)
from desktop.ledger_page import EMPTY_TEXT, LedgerPage
from tests.desktop.helpers import Boxes, type_text

D = dt.date
TODAY = D(2025, 9, 20)  # the page's "today" in these tests

# -- data --------------------------------------------------------------------------------


def cat(db: Database, kind: str, code: str) -> str:
    with db.session() as s:
        entry = find_entry(s, kind, code)
        assert entry is not None, code
        return entry.id


def add(db: Database, office: OfficeInfo, title: str, start: dt.date, form: str, *,
        end: dt.date | None = None, **fields: Any) -> str:
    groups = tuple(GroupShare(cat(db, "group", g)) for g in fields.pop("groups", ()))
    topics = tuple(cat(db, "topic", t) for t in fields.pop("topics", ()))
    campaign = fields.pop("campaign", None)
    data = ActivityInput(title=title, start_date=start, end_date=end or start,
                         form_id=cat(db, "form", form),
                         campaign_id=cat(db, "campaign", campaign) if campaign else None,
                         groups=groups, topic_ids=topics, **fields)
    return create_activity(db, office, data)


def add_evidence(db: Database, activity_id: str, count: int) -> None:
    with db.write() as s:
        for i in range(count):
            s.add(Attachment(activity_id=activity_id, filename=f"照片{i}.jpg",
                             path=f"ab/{activity_id}{i}.jpg", sha256="0" * 64, size=1))


def add_roster(db: Database, office: OfficeInfo, activity_id: str, names: list[str]) -> None:
    with db.write() as s:
        people = [Trainee(office_id=office.id, name=n) for n in names]
        s.add_all(people)
        s.flush()
        s.add_all(Attendance(activity_id=activity_id, trainee_id=p.id) for p in people)


@pytest.fixture
def sample(db: Database, office: OfficeInfo) -> dict[str, str]:
    """Six activities covering forms, campaigns, groups, villages, dates and evidence."""
    ids = {
        "lecture": add(db, office, "防范电信诈骗讲座", D(2025, 9, 16), "讲座",
                       village="金井社区", attend=120, spending_fen=150050,
                       campaign="全国科普日", groups=["老年人"], topics=["智能技术运用"]),
        "training": add(db, office, "智慧助老培训", D(2025, 9, 18), "培训",
                        end=D(2025, 9, 19), village="坑口村", train_hours_x10=20,
                        groups=["老年人"], topics=["智能技术运用"]),
        "consult": add(db, office, "垃圾分类宣传咨询", D(2025, 8, 5), "宣传咨询",
                       village="塘东村", attend=300, groups=["社区居民"], topics=["生态环保"]),
        "online": add(db, office, "科普日线上直播", D(2025, 9, 20), "线上", views=5000,
                      campaign="全国科普日", online=True),
        "exhibit": add(db, office, "农业技术展览", D(2024, 12, 10), "展览",
                       village="坑口村", attend=80, groups=["农民"], topics=["农业实用技术"]),
        "5g": add(db, office, "5G与数字生活讲座", D(2025, 7, 1), "讲座", village="塘东村",
                  attend=60, groups=["青少年"], topics=["前沿科技"]),
    }
    add_roster(db, office, ids["training"], ["陈美玲", "王建国"])
    add_evidence(db, ids["training"], 1)
    add_evidence(db, ids["consult"], 2)
    add_evidence(db, ids["exhibit"], 1)
    return ids


def titles(model: LedgerModel) -> list[str]:
    column = column_index("title")
    return [model.index(r, column).data() for r in range(model.rowCount())]


def cell(model: LedgerModel, activity_id: str, key: str,
         role: Qt.ItemDataRole = Qt.ItemDataRole.DisplayRole) -> Any:
    row = model.row_of(activity_id)
    assert row is not None
    return model.index(row, column_index(key)).data(role)


@pytest.fixture
def page(qtbot: Any, db: Database, office: OfficeInfo, sample: dict[str, str]) -> LedgerPage:
    widget = LedgerPage(db, office)
    qtbot.addWidget(widget)
    widget.filter_bar.today = lambda: TODAY
    widget.resize(1200, 700)
    with qtbot.waitActive(widget):  # shortcuts need an active window
        widget.show()
        widget.activateWindow()
    return widget


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> Boxes:
    return Boxes(monkeypatch)


def select_title(page: LedgerPage, title: str) -> None:
    row = titles(page.model).index(title)
    page.view.setFocus()
    page.view.selectRow(row)
    assert page.current_id() == page.model.id_at(row)

# -- formatting ----------------------------------------------------------------------------


def test_format_dates_and_money() -> None:
    assert format_dates(D(2025, 9, 16), D(2025, 9, 16)) == "2025-09-16"
    assert format_dates(D(2025, 9, 16), D(2025, 9, 18)) == "2025-09-16 至 09-18"
    assert format_dates(D(2025, 12, 30), D(2026, 1, 2)) == "2025-12-30 至 2026-01-02"
    assert format_fen(0) == "0.00"
    assert format_fen(5) == "0.05"
    assert format_fen(150050) == "1,500.50"
    assert format_fen(123456789) == "1,234,567.89"

# -- model ---------------------------------------------------------------------------------


def test_model_passes_modeltester(qtmodeltester: Any, db: Database, office: OfficeInfo,
                                  sample: dict[str, str]) -> None:
    model = LedgerModel(db, office)
    assert model.rowCount() == 6
    qtmodeltester.check(model)
    # The tester stays attached: filtering, sorting and refreshing are checked too.
    model.set_filter(LedgerFilter(text="讲座"))
    assert model.rowCount() == 2
    model.sort(column_index("attend"), Qt.SortOrder.AscendingOrder)
    model.set_filter(LedgerFilter())
    model.refresh()
    assert model.rowCount() == 6


def test_model_cells(db: Database, office: OfficeInfo, sample: dict[str, str]) -> None:
    with db.write() as s:
        s.add(Period(office_id=office.id, month="2024-12", status="submitted"))
    model = LedgerModel(db, office)
    # Newest first, as SQL orders them.
    assert titles(model) == ["科普日线上直播", "智慧助老培训", "防范电信诈骗讲座",
                             "垃圾分类宣传咨询", "5G与数字生活讲座", "农业技术展览"]
    lecture, training, online = sample["lecture"], sample["training"], sample["online"]
    assert cell(model, lecture, "start_date") == "2025-09-16"
    assert cell(model, training, "start_date") == "2025-09-18 至 09-19"
    assert cell(model, lecture, "form") == "科普讲座/报告会"
    assert cell(model, lecture, "campaign") == "全国科普日"
    assert cell(model, lecture, "village") == "金井社区"
    assert cell(model, lecture, "attend") == "120"
    assert cell(model, training, "attend") == "2"  # the roster counts for a training
    assert "花名册" in cell(model, training, "attend", Qt.ItemDataRole.ToolTipRole)
    assert cell(model, online, "attend") == "浏览 5000"
    assert cell(model, lecture, "groups") == "老年人"
    assert cell(model, lecture, "spending") == "1,500.50"
    assert cell(model, training, "spending") == "0.00"
    assert cell(model, training, "evidence") == "1"
    assert cell(model, lecture, "evidence") == "缺"
    assert cell(model, lecture, "evidence", Qt.ItemDataRole.ToolTipRole) == "缺少佐证材料"
    assert QColor(cell(model, lecture, "evidence", Qt.ItemDataRole.ForegroundRole)) == \
        WARNING_COLOR
    assert cell(model, training, "evidence", Qt.ItemDataRole.ForegroundRole) is None
    assert cell(model, lecture, "status") == ""
    assert cell(model, sample["exhibit"], "status") == "已上报"
    assert cell(model, lecture, "title", ID_ROLE) == lecture
    right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    for key in ("attend", "spending"):
        assert Qt.AlignmentFlag(cell(model, lecture, key, Qt.ItemDataRole.TextAlignmentRole)) \
            == right
        assert Qt.AlignmentFlag(model.headerData(
            column_index(key), Qt.Orientation.Horizontal,
            Qt.ItemDataRole.TextAlignmentRole)) == right
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())] \
        == ["日期", "活动名称", "活动形式", "主题活动", "村/社区", "人次", "重点人群", "经费（元）",
            "佐证", "状态"]


def test_model_keeps_selection_by_id(qtbot: Any, page: LedgerPage,
                                     sample: dict[str, str]) -> None:
    page.select_ids([sample["consult"]])
    page.model.sort(column_index("title"), Qt.SortOrder.AscendingOrder)
    assert page.selected_ids() == [sample["consult"]]
    page.model.set_filter(LedgerFilter(village="塘东村"))
    assert page.selected_ids() == [sample["consult"]]
    page.model.refresh()
    assert page.selected_ids() == [sample["consult"]]
    page.model.set_filter(LedgerFilter(village="坑口村"))
    assert page.selected_ids() == []

# -- filters -------------------------------------------------------------------------------


def choose(combo: Any, text: str) -> None:
    index = combo.findText(text)
    assert index > 0, text
    combo.setCurrentIndex(index)


def test_filters(qtbot: Any, page: LedgerPage, db: Database) -> None:
    bar, model = page.filter_bar, page.model
    assert page.count_label.text() == "共 6 项"
    assert not bar.clear_button.isEnabled()

    choose(bar.form_combo, "科普讲座/报告会")
    assert set(titles(model)) == {"5G与数字生活讲座", "防范电信诈骗讲座"}
    assert page.count_label.text() == "共 6 项，筛选后 2 项"
    assert bar.clear_button.isEnabled()
    bar.clear_button.click()
    assert len(titles(model)) == 6

    choose(bar.campaign_combo, "全国科普日")
    assert set(titles(model)) == {"防范电信诈骗讲座", "科普日线上直播"}
    bar.clear()

    choose(bar.group_combo, "老年人")
    assert set(titles(model)) == {"智慧助老培训", "防范电信诈骗讲座"}
    choose(bar.topic_combo, "智能技术运用（智慧助老）")
    assert set(titles(model)) == {"智慧助老培训", "防范电信诈骗讲座"}
    bar.clear()

    choose(bar.village_combo, "坑口村")
    assert titles(model) == ["智慧助老培训", "农业技术展览"]
    bar.clear()

    bar.missing_check.click()
    assert set(titles(model)) == {"5G与数字生活讲座", "科普日线上直播", "防范电信诈骗讲座"}
    bar.clear()

    # Quick date picks, with the keyboard on the date combo (today is 2025-09-20).
    bar.date_combo.setFocus()
    qtbot.keyClick(bar.date_combo, Qt.Key.Key_Down)
    assert bar.date_combo.currentText() == "本月"
    assert (bar.date_from.value(), bar.date_to.value()) == (D(2025, 9, 1), D(2025, 9, 30))
    assert titles(model) == ["科普日线上直播", "智慧助老培训", "防范电信诈骗讲座"]
    bar.pick_dates("上月")
    assert titles(model) == ["垃圾分类宣传咨询"]
    bar.pick_dates("本季度")
    assert len(titles(model)) == 5
    bar.pick_dates("上年")
    assert titles(model) == ["农业技术展览"]
    bar.pick_dates("全部日期")
    assert bar.date_from.text() == "不限"
    assert len(titles(model)) == 6

    # Editing a date by hand makes it a custom range.
    bar.date_from.setDate(bar.date_from.date().fromString("2025-09-17", "yyyy-MM-dd"))
    assert bar.date_combo.currentText() == "自定义"
    assert titles(model) == ["科普日线上直播", "智慧助老培训"]


def test_hidden_catalog_entries_not_offered(qtbot: Any, db: Database, office: OfficeInfo,
                                            sample: dict[str, str]) -> None:
    with db.write() as s:
        entry = s.get(CatalogEntry, cat(db, "form", "竞赛"))
        assert entry is not None
        entry.hidden = True
    widget = LedgerPage(db, office)
    qtbot.addWidget(widget)
    forms = [widget.filter_bar.form_combo.itemText(i)
             for i in range(widget.filter_bar.form_combo.count())]
    assert forms[0] == "全部形式"
    assert "科普竞赛" not in forms
    assert "科普展览" in forms
    villages = [widget.filter_bar.village_combo.itemText(i)
                for i in range(widget.filter_bar.village_combo.count())]
    assert villages[0] == "全部村/社区"
    assert set(villages[1:]) == {"金井社区", "坑口村", "塘东村"}


def test_search_filters_while_typing(qtbot: Any, page: LedgerPage) -> None:
    search = page.filter_bar.search_edit
    assert search.placeholderText() == "搜索名称、地点、简介…"
    # The first key after a pause filters at once; the next one, typed straight
    # after it, waits until the typing pauses.
    type_text(qtbot, search, "5G")
    assert page.model.filter.text == "5"
    assert page.filter_bar.search_timer.isActive()
    qtbot.waitUntil(lambda: page.model.filter.text == "5G", timeout=2000)
    assert titles(page.model) == ["5G与数字生活讲座"]

    qtbot.wait(200)  # a pause
    search.clear()
    type_text(qtbot, search, "诈骗")
    qtbot.waitUntil(lambda: titles(page.model) == ["防范电信诈骗讲座"], timeout=2000)
    assert page.count_label.text() == "共 6 项，筛选后 1 项"

    # Three or more characters go through the full-text index.
    type_text(qtbot, search, "讲座")
    qtbot.waitUntil(lambda: page.model.filter.text == "诈骗讲座", timeout=2000)
    assert titles(page.model) == ["防范电信诈骗讲座"]
    search.selectAll()
    type_text(qtbot, search, "线上直播")
    qtbot.waitUntil(lambda: titles(page.model) == ["科普日线上直播"], timeout=2000)

    # Esc clears the search; Down goes into the results.
    qtbot.keyClick(search, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: len(titles(page.model)) == 6, timeout=2000)
    type_text(qtbot, search, "5G")
    qtbot.keyClick(search, Qt.Key.Key_Down)  # applies at once, no waiting
    assert titles(page.model) == ["5G与数字生活讲座"]
    assert page.view.hasFocus()
    assert page.current_id() is not None


def test_empty_states(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    widget = LedgerPage(db, office)
    qtbot.addWidget(widget)
    widget.show()
    assert widget.model.rowCount() == 0
    assert not widget.empty_label.isHidden()
    assert "Ctrl+N" in widget.empty_label.text()
    assert EMPTY_TEXT.splitlines()[1] in widget.empty_label.text()
    assert widget.count_label.text() == "共 0 项"

    add(db, office, "防范电信诈骗讲座", D(2025, 9, 16), "讲座", attend=50)
    widget.refresh()
    assert widget.empty_label.isHidden()
    widget.filter_bar.search_edit.setText("不存在的活动")
    widget.filter_bar.apply_search_now()
    assert not widget.empty_label.isHidden()
    assert "没有符合筛选条件的活动" in widget.empty_label.text()
    widget.empty_label.linkActivated.emit("clear")  # the 清除筛选 link
    assert widget.filter_bar.search_edit.text() == ""
    assert widget.empty_label.isHidden()
    assert titles(widget.model) == ["防范电信诈骗讲座"]

# -- sorting ---------------------------------------------------------------------------------


def click_header(qtbot: Any, page: LedgerPage, key: str) -> None:
    header = page.view.horizontalHeader()
    column = column_index(key)
    pos = QPoint(header.sectionViewportPosition(column) + header.sectionSize(column) // 2,
                 header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def sql_titles(db: Database, office: OfficeInfo, sort: str, descending: bool) -> list[str]:
    with db.session() as s:
        ids = ledger_ids(s, office.id, LedgerFilter(), sort, descending)
        return [s.get(Activity, i).title for i in ids]


def test_sort_by_header_click(qtbot: Any, page: LedgerPage, db: Database,
                              office: OfficeInfo) -> None:
    header = page.view.horizontalHeader()
    click_header(qtbot, page, "attend")  # numbers: largest first on the first click
    assert header.sortIndicatorSection() == column_index("attend")
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert titles(page.model) == sql_titles(db, office, "attend", True)
    assert titles(page.model)[0] == "垃圾分类宣传咨询"
    click_header(qtbot, page, "attend")
    assert titles(page.model) == sql_titles(db, office, "attend", False)
    assert titles(page.model)[0] == "科普日线上直播"  # online: counts no 人次

    click_header(qtbot, page, "title")  # text: A→Z first
    assert header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
    assert titles(page.model) == sql_titles(db, office, "title", False)

    # The sort is remembered.
    again = LedgerPage(db, office)
    qtbot.addWidget(again)
    assert again.model.sort_key == "title" and not again.model.descending
    assert again.view.horizontalHeader().sortIndicatorSection() == column_index("title")
    assert titles(again.model) == titles(page.model)

# -- delete and undo ---------------------------------------------------------------------------


def roster_size(db: Database, activity_id: str) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Attendance)
                        .where(Attendance.activity_id == activity_id)) or 0


def test_delete_undo_redo(qtbot: Any, page: LedgerPage, db: Database, boxes: Boxes,
                          sample: dict[str, str]) -> None:
    training = sample["training"]
    select_title(page, "智慧助老培训")
    with qtbot.waitSignal(page.changed):
        qtbot.keyClick(page.view, Qt.Key.Key_Delete)
    assert boxes.calls[0][0] == "question"
    assert "智慧助老培训" in boxes.calls[0][1]
    assert "智慧助老培训" not in titles(page.model)
    assert page.count_label.text() == "共 5 项"
    with db.session() as s:
        assert get_activity(s, training) is None
    assert roster_size(db, training) == 0
    assert page.undo_action.text() == "撤销删除“智慧助老培训”"
    assert page.buttons["undo"].isEnabled()
    assert page.current_id() is not None  # the next row is selected, ready for the next key

    with qtbot.waitSignal(page.changed):
        qtbot.keyClick(page.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "智慧助老培训" in titles(page.model)
    assert page.selected_ids() == [training]
    with db.session() as s:
        detail = get_activity(s, training)
        assert detail is not None and detail.evidence_count == 1
    assert roster_size(db, training) == 2
    assert cell(page.model, training, "attend") == "2"
    assert page.undo_action.text() == "撤销"
    assert page.redo_action.text() == "重做删除“智慧助老培训”"

    with qtbot.waitSignal(page.changed):
        page.redo_action.trigger()
    assert "智慧助老培训" not in titles(page.model)
    with db.session() as s:
        assert get_activity(s, training) is None
    page.undo_action.trigger()
    assert roster_size(db, training) == 2


def test_delete_cancelled_keeps_row(qtbot: Any, page: LedgerPage, db: Database,
                                    boxes: Boxes) -> None:
    boxes.answer = QMessageBox.StandardButton.No
    select_title(page, "防范电信诈骗讲座")
    page.delete_action.trigger()
    assert boxes.calls and boxes.calls[0][0] == "question"
    assert "防范电信诈骗讲座" in titles(page.model)
    assert not page.undo_stack.canUndo()


def test_delete_in_locked_month_is_refused(qtbot: Any, db: Database, office: OfficeInfo,
                                           sample: dict[str, str], boxes: Boxes) -> None:
    with db.write() as s:
        s.add(Period(office_id=office.id, month="2025-09", status="submitted"))
    widget = LedgerPage(db, office)
    qtbot.addWidget(widget)
    with qtbot.waitActive(widget):  # shortcuts need an active window
        widget.show()
        widget.activateWindow()
    select_title(widget, "防范电信诈骗讲座")
    qtbot.keyClick(widget.view, Qt.Key.Key_Delete)
    assert [kind for kind, _text in boxes.calls] == ["warning"]  # no question first
    assert "2025年9月已上报并锁定" in boxes.calls[0][1]
    assert "防范电信诈骗讲座" in titles(widget.model)
    with db.session() as s:
        assert get_activity(s, sample["lecture"]) is not None
    assert not widget.undo_stack.canUndo()


def test_delete_several_is_one_undo(qtbot: Any, page: LedgerPage, db: Database,
                                    boxes: Boxes, sample: dict[str, str]) -> None:
    page.select_ids([sample["consult"], sample["5g"]])
    page.delete_action.trigger()
    assert "2 项活动" in boxes.calls[0][1]
    assert len(titles(page.model)) == 4
    assert page.undo_action.text() == "撤销删除 2 项活动"
    page.undo_action.trigger()
    assert len(titles(page.model)) == 6
    assert sorted(page.selected_ids()) == sorted([sample["consult"], sample["5g"]])

# -- the activity form -------------------------------------------------------------------------


def on_dialog(qtbot: Any, act: Any) -> list[QDialog]:
    """Run ``act(dialog)`` on the modal activity form as soon as it is open."""
    seen: list[QDialog] = []
    tries = iter(range(300))

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, ActivityDialog):
            seen.append(dialog)
            act(dialog)
        elif next(tries, None) is not None:
            QTimer.singleShot(10, poll)

    QTimer.singleShot(0, poll)
    return seen


def test_new_activity_with_ctrl_n(qtbot: Any, page: LedgerPage, db: Database) -> None:
    def fill(dialog: Any) -> None:
        type_text(qtbot, dialog.title_edit, "应急救护培训演练")
        dialog.save()

    seen = on_dialog(qtbot, fill)
    page.view.setFocus()
    with qtbot.waitSignal(page.changed):
        qtbot.keyClick(page.view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert seen
    assert "应急救护培训演练" in titles(page.model)
    new_id = seen[0].saved_id
    assert page.selected_ids() == [new_id]
    assert page.count_label.text() == "共 7 项"


def test_edit_with_enter_and_duplicate_with_ctrl_d(qtbot: Any, page: LedgerPage,
                                                    db: Database,
                                                    sample: dict[str, str]) -> None:
    select_title(page, "防范电信诈骗讲座")

    def rename(dialog: Any) -> None:
        assert dialog.title_edit.text() == "防范电信诈骗讲座"
        dialog.title_edit.selectAll()
        type_text(qtbot, dialog.title_edit, "防范电信诈骗专题讲座")
        dialog.save()

    on_dialog(qtbot, rename)
    with qtbot.waitSignal(page.changed):
        qtbot.keyClick(page.view, Qt.Key.Key_Return)
    assert cell(page.model, sample["lecture"], "title") == "防范电信诈骗专题讲座"
    assert page.selected_ids() == [sample["lecture"]]

    def copy(dialog: Any) -> None:
        assert dialog.title_edit.text() == "防范电信诈骗专题讲座"
        dialog.save()

    seen = on_dialog(qtbot, copy)
    page.activateWindow()  # back from the modal form (offscreen does not do it by itself)
    qtbot.waitUntil(page.isActiveWindow)
    with qtbot.waitSignal(page.changed):
        qtbot.keyClick(page.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert titles(page.model).count("防范电信诈骗专题讲座") == 2
    copied = seen[0].saved_id
    assert copied != sample["lecture"] and page.selected_ids() == [copied]
    assert cell(page.model, copied, "attend") == "0"  # counts start empty in a copy


def test_double_click_opens_the_form(qtbot: Any, page: LedgerPage,
                                     monkeypatch: pytest.MonkeyPatch,
                                     sample: dict[str, str]) -> None:
    opened: list[dict[str, Any]] = []

    class FakeDialog(QDialog):
        def __init__(self, *_args: Any, **kwargs: Any) -> None:
            super().__init__(kwargs.get("parent"))
            opened.append(kwargs)
            self.saved_id = None

        def exec(self) -> int:
            return QDialog.DialogCode.Rejected

    monkeypatch.setattr(ledger_page, "activity_dialog_class", lambda: FakeDialog)
    row = titles(page.model).index("农业技术展览")
    rect = page.view.visualRect(page.model.index(row, column_index("title")))
    # (QTest's double click needs the press of a first click before it, as a mouse does.)
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert [k.get("activity_id") for k in opened] == [sample["exhibit"]]

# -- keyboard, columns, settings -----------------------------------------------------------------


def test_tab_order_through_filters_into_table(qtbot: Any, page: LedgerPage) -> None:
    with qtbot.waitActive(page):
        page.activateWindow()
    bar = page.filter_bar
    bar.search_edit.setFocus()
    expected = [bar.date_combo, bar.date_from, bar.date_to, *bar.combos(), bar.missing_check,
                page.view]
    for widget in expected:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is widget, widget
    # Ctrl+F comes back to the search box.
    qtbot.keyClick(page.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert bar.search_edit.hasFocus()


def test_columns_persist(qtbot: Any, db: Database, office: OfficeInfo,
                         sample: dict[str, str]) -> None:
    first = LedgerPage(db, office)
    qtbot.addWidget(first)
    menu = first.column_menu()
    actions = {a.text(): a for a in menu.actions() if a.text()}
    assert not actions["活动名称"].isEnabled()  # the title always shows
    actions["重点人群"].trigger()
    assert not first.is_column_visible("groups")
    header = first.view.horizontalHeader()
    header.resizeSection(column_index("village"), 150)
    assert QSettings("kepu", "kepu").value("ledger/hidden_columns") == "groups"

    second = LedgerPage(db, office)
    qtbot.addWidget(second)
    assert not second.is_column_visible("groups")
    assert second.is_column_visible("village")
    assert second.view.horizontalHeader().sectionSize(column_index("village")) == 150

    second.reset_columns()
    assert second.is_column_visible("groups")
    assert second.view.horizontalHeader().sectionSize(column_index("village")) == \
        second.default_width(column_index("village"))

# -- many rows -------------------------------------------------------------------------------------


def test_jump_to_last_of_2000_rows(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    form = cat(db, "form", "讲座")
    start = D(2025, 1, 1)
    rows = [{"office_id": office.id, "title": f"第{i + 1}场科普讲座", "form_id": form,
             "start_date": start + dt.timedelta(days=i % 360),
             "end_date": start + dt.timedelta(days=i % 360), "attend": i}
            for i in range(2000)]
    with db.engine.begin() as conn:
        conn.execute(insert(Activity), rows)
    widget = LedgerPage(db, office)
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()
    qtbot.waitExposed(widget)
    model = widget.model
    assert model.rowCount() == 2000
    last = model.index(1999, 0)
    widget.view.setCurrentIndex(last)
    widget.view.scrollTo(last)
    widget.view.viewport().repaint()
    assert widget.view.rowAt(widget.view.viewport().height() - 2) in (1999, -1)
    assert widget.view.visualRect(last).isValid()
    with db.session() as s:
        oldest = ledger_ids(s, office.id)[-1]
    assert model.id_at(1999) == oldest
    with db.session() as s:
        oldest_title = s.get(Activity, oldest).title
    assert model.index(1999, column_index("title")).data() == oldest_title
    assert len(model._rows) <= 300  # only the pages seen were fetched, not 2000 rows
    assert widget.count_label.text() == "共 2,000 项"


def test_typing_dates_in_the_filter(qtbot: Any, page: LedgerPage) -> None:
    bar = page.filter_bar
    for typed in ("2025-09-18", "20250918", "2025/9/18"):
        bar.date_from.set_value(None)
        bar.date_from.setFocus()
        qtbot.keyClicks(bar.date_from, typed)
        assert bar.date_from.value() == D(2025, 9, 18), typed
        assert bar.date_combo.currentText() == "自定义"
        assert set(titles(page.model)) == {"智慧助老培训", "科普日线上直播"}
    # Clearing the whole text is 不限 again.
    qtbot.keyClick(bar.date_from, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(bar.date_from, Qt.Key.Key_Backspace)
    assert bar.date_from.value() is None
    assert bar.date_from.text() == "不限"
    assert bar.date_combo.currentText() == "全部日期"
    assert len(titles(page.model)) == 6


def test_changes_elsewhere_show_up(qtbot: Any, page: LedgerPage, db: Database,
                                   office: OfficeInfo, sample: dict[str, str]) -> None:
    page.select_ids([sample["consult"]])
    add(db, office, "应急避险演练", D(2025, 9, 30), "讲座", village="围头村", attend=40)
    page.data_changed()  # what the main window calls after another page saved
    assert titles(page.model)[0] == "应急避险演练"
    assert page.selected_ids() == [sample["consult"]]
    assert page.count_label.text() == "共 7 项"
    assert page.filter_bar.village_combo.findText("围头村") > 0


def test_bench_hook_reports_first_paint(qtbot: Any, db: Database, office: OfficeInfo,
                                        sample: dict[str, str],
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    quits: list[bool] = []
    monkeypatch.setenv(ledger_page.BENCH_ENV, "1")
    monkeypatch.setattr(QApplication, "quit", lambda: quits.append(True))
    widget = LedgerPage(db, office)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: quits == [True])
    line = capsys.readouterr().out.strip()
    assert line.startswith("KEPU_BENCH_PAINTED ")
    assert 0 < float(line.split()[1]) < 600
