"""目录设置: adding, renaming, hiding, deleting and reordering catalog entries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from db.catalogs import KIND_LABELS, CatalogItem, add_entry, find_entry, list_catalog
from db.database import Database
from db.models import Activity
from db.offices import OfficeInfo
from desktop import catalog_page
from desktop.catalog_page import CatalogModel, CatalogPage, EntryDialog, load_rows
from tests.desktop import helpers
from tests.desktop.helpers import type_text

# -- helpers ---------------------------------------------------------------------


class Boxes(helpers.Boxes):
    """Records message boxes and delete confirmations instead of showing them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(monkeypatch)
        self.confirm_answer = True
        monkeypatch.setattr(catalog_page, "confirm", self._confirm)

    def _confirm(self, _parent: Any, text: str, _ok_text: str) -> bool:
        self.calls.append(("confirm", text))
        return self.confirm_answer


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> Boxes:
    return Boxes(monkeypatch)


@pytest.fixture
def page(qtbot: Any, db: Database, office: OfficeInfo, boxes: Boxes) -> CatalogPage:
    """The page, shown and active (button shortcuts need an active window)."""
    widget = CatalogPage(db, office)
    qtbot.addWidget(widget)
    widget.resize(1000, 640)
    with qtbot.waitActive(widget):
        widget.show()
        widget.activateWindow()
    return widget


def entries(db: Database, kind: str, *, include_hidden: bool = True) -> list[CatalogItem]:
    with db.session() as s:
        return list_catalog(s, kind, include_hidden=include_hidden)


def entry(db: Database, kind: str, code_or_name: str) -> CatalogItem | None:
    with db.session() as s:
        return find_entry(s, kind, code_or_name)


def select(page: CatalogPage, kind: str, code: str) -> CatalogItem:
    """Show a catalog and select one of its entries (by code)."""
    page.select_kind(kind)
    item = entry(page.db, kind, code)
    assert item is not None
    page.select_entry(item.id)
    page.table.setFocus()
    assert page.current_item() == item
    return item


def cell(page: CatalogPage, entry_id: str, key: str, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
    model = page.model
    return model.index(model.row_of(entry_id), model.column_of(key)).data(role)


def open_dialog(qtbot: Any, page: CatalogPage, key: Qt.Key) -> EntryDialog:
    qtbot.keyClick(page.table, key, Qt.KeyboardModifier.ControlModifier
                   if key == Qt.Key.Key_N else Qt.KeyboardModifier.NoModifier)
    dialog = page.dialog
    assert dialog is not None
    # A window manager activates a new modal dialog; offscreen it takes a nudge.
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    assert dialog.name_edit.hasFocus()
    return dialog


def use_in_activity(db: Database, office: OfficeInfo, campaign: CatalogItem) -> None:
    with db.write() as s:
        lecture = find_entry(s, "form", "讲座")
        assert lecture is not None
        s.add(Activity(office_id=office.id, title="巡讲第一场", form_id=lecture.id,
                       campaign_id=campaign.id, start_date=dt.date(2025, 4, 2),
                       end_date=dt.date(2025, 4, 2), attend=90))

# -- the model -------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(KIND_LABELS))
def test_model_passes_model_tester(qtmodeltester: Any, db: Database, kind: str) -> None:
    model = CatalogModel()
    model.set_rows(kind, load_rows(db, kind))
    qtmodeltester.check(model, force_py=False)
    assert model.rowCount() == len(entries(db, kind))


def test_model_columns_and_texts(qtbot: Any, db: Database) -> None:
    model = CatalogModel()
    model.set_rows("campaign", load_rows(db, "campaign"))
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["名称", "统计代码", "常用时间", "类型", "使用次数", "状态"]
    row = model.rows.index(next(r for r in model.rows if r.item.code == "三下乡"))
    texts = [model.index(row, c).data() for c in range(model.columnCount())]
    assert texts == ["文化科技卫生“三下乡”", "三下乡", "1—2月（春节前后）", "内置", "0", "使用中"]
    tip = model.index(row, model.column_of("code")).data(Qt.ItemDataRole.ToolTipRole)
    assert "{{camp.三下乡.count}}" in tip and "不会改变" in tip
    usage = model.index(row, model.column_of("usage"))
    assert usage.data(Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight

    model.set_rows("topic", load_rows(db, "topic"))
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["名称", "统计代码", "类型", "使用次数", "状态"]

# -- the page ----------------------------------------------------------------------


def test_page_lists_the_six_catalogs(page: CatalogPage) -> None:
    labels = [page.kinds.item(i).text() for i in range(page.kinds.count())]
    assert labels == list(KIND_LABELS.values())
    assert page.kind == "form"
    assert page.model.rowCount() == len(entries(page.db, "form"))
    assert page.current_item() == entries(page.db, "form")[0]
    assert not page.up_button.isEnabled() and page.down_button.isEnabled()
    page.kinds.setCurrentRow(1)
    assert page.kind == "campaign"
    assert page.heading.text() == f"主题活动（共 {len(entries(page.db, 'campaign'))} 项）"


def test_add_campaign_with_month(qtbot: Any, page: CatalogPage, boxes: Boxes) -> None:
    page.select_kind("campaign")
    before = len(entries(page.db, "campaign"))
    dialog = open_dialog(qtbot, page, Qt.Key.Key_N)  # Ctrl+N
    assert dialog.month_combo is not None
    assert dialog.month_combo.currentText() == "不固定"
    type_text(qtbot, dialog.name_edit, "刺桐科学传播学者巡讲")
    dialog.month_combo.setFocus()
    dialog.month_combo.setCurrentIndex(dialog.month_combo.findText("4月"))
    with qtbot.waitSignal(page.changed):
        qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)

    added = entry(page.db, "campaign", "刺桐科学传播学者巡讲")
    assert added is not None
    assert added.code == added.name == "刺桐科学传播学者巡讲"
    assert added.props["month"] == 4
    assert not added.builtin and not added.hidden
    assert len(entries(page.db, "campaign")) == before + 1
    assert entries(page.db, "campaign")[-1] == added  # at the end
    assert page.current_item() == added
    assert cell(page, added.id, "type") == "本单位添加"
    assert cell(page, added.id, "when") == "4月"
    assert page.status_label.text() == "已新增“刺桐科学传播学者巡讲”"
    assert page.dialog is None
    assert boxes.calls == []


def test_add_campaign_without_month(qtbot: Any, page: CatalogPage) -> None:
    page.select_kind("campaign")
    dialog = open_dialog(qtbot, page, Qt.Key.Key_N)
    type_text(qtbot, dialog.name_edit, "海丝科普行")
    with qtbot.waitSignal(page.changed):
        qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)
    added = entry(page.db, "campaign", "海丝科普行")
    assert added is not None and "month" not in added.props
    assert cell(page, added.id, "when") == "不固定"


def test_add_existing_name_shows_error_and_adds_nothing(qtbot: Any, page: CatalogPage,
                                                        boxes: Boxes) -> None:
    page.select_kind("campaign")
    before = entries(page.db, "campaign")
    dialog = open_dialog(qtbot, page, Qt.Key.Key_N)
    type_text(qtbot, dialog.name_edit, "全国科普日")
    with qtbot.assertNotEmitted(page.changed):
        qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)

    error = dialog.error_labels["名称"]
    assert dialog.isVisible()
    assert not error.isHidden()
    assert error.text() == "主题活动中已有“全国科普日”"
    assert entries(page.db, "campaign") == before
    assert boxes.calls == []  # shown at the field, not in a popup
    # The name is selected, so typing replaces it; editing clears the message.
    assert dialog.name_edit.hasSelectedText()
    type_text(qtbot, dialog.name_edit, "巡讲")
    assert error.isHidden()


def test_add_name_with_dot_shows_error(qtbot: Any, page: CatalogPage) -> None:
    page.select_kind("group")
    dialog = open_dialog(qtbot, page, Qt.Key.Key_N)
    assert dialog.month_combo is None  # only campaigns have a usual month
    type_text(qtbot, dialog.name_edit, "外来务工人员.新")
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert dialog.error_labels["名称"].text() == "名称中不能含有 ."
    assert entry(page.db, "group", "外来务工人员.新") is None
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Escape)
    assert entry(page.db, "group", "外来务工人员.新") is None


def test_rename_keeps_code(qtbot: Any, page: CatalogPage) -> None:
    item = select(page, "campaign", "全国科普日")
    dialog = open_dialog(qtbot, page, Qt.Key.Key_F2)
    assert dialog.name_edit.text() == "全国科普日"
    assert dialog.name_edit.selectedText() == "全国科普日"
    type_text(qtbot, dialog.name_edit, "全国科普日（晋江）")
    with qtbot.waitSignal(page.changed):
        qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Enter)

    renamed = entry(page.db, "campaign", "全国科普日")
    assert renamed is not None
    assert renamed.id == item.id
    assert renamed.code == "全国科普日"
    assert renamed.name == "全国科普日（晋江）"
    assert page.current_item() == renamed
    assert cell(page, item.id, "name") == "全国科普日（晋江）"
    assert cell(page, item.id, "code") == "全国科普日"
    assert "统计代码仍为“全国科普日”" in page.status_label.text()


def test_enter_on_table_opens_rename(qtbot: Any, page: CatalogPage) -> None:
    item = select(page, "topic", "心理健康")
    dialog = open_dialog(qtbot, page, Qt.Key.Key_Return)
    assert dialog.item == item
    with qtbot.assertNotEmitted(page.changed), qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)  # unchanged: nothing written
    assert entry(page.db, "topic", "心理健康") == item


def test_rename_to_another_entrys_name_is_refused(qtbot: Any, page: CatalogPage) -> None:
    select(page, "group", "妇女")
    dialog = open_dialog(qtbot, page, Qt.Key.Key_F2)
    type_text(qtbot, dialog.name_edit, "老年人")
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert dialog.error_labels["名称"].text() == "重点人群/人员类别中已有“老年人”"
    item = entry(page.db, "group", "妇女")
    assert item is not None and item.name == "妇女"


def test_hide_and_show_again(qtbot: Any, page: CatalogPage) -> None:
    item = select(page, "topic", "前沿科技")
    assert page.hide_button.text() == "隐藏"
    with qtbot.waitSignal(page.changed):
        qtbot.mouseClick(page.hide_button, Qt.MouseButton.LeftButton)

    with page.db.session() as s:
        assert item.id not in [i.id for i in list_catalog(s, "topic", include_hidden=False)]
        assert item.id in [i.id for i in list_catalog(s, "topic")]
    assert cell(page, item.id, "state") == "已隐藏"
    assert cell(page, item.id, "name", Qt.ItemDataRole.FontRole).italic()
    assert page.hide_button.text() == "取消隐藏"
    assert "1 项已隐藏" in page.heading.text()

    with qtbot.waitSignal(page.changed):
        qtbot.keyClick(page.table, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    shown = entry(page.db, "topic", "前沿科技")
    assert shown is not None and not shown.hidden
    assert cell(page, item.id, "state") == "使用中"
    assert cell(page, item.id, "name", Qt.ItemDataRole.FontRole) is None


def test_hiding_training_form_is_refused(qtbot: Any, page: CatalogPage, boxes: Boxes) -> None:
    select(page, "form", "培训")
    with qtbot.assertNotEmitted(page.changed):
        qtbot.mouseClick(page.hide_button, Qt.MouseButton.LeftButton)
    assert boxes.calls and boxes.calls[0][0] == "warning"
    assert "不能隐藏" in boxes.calls[0][1]
    item = entry(page.db, "form", "培训")
    assert item is not None and not item.hidden


def test_delete_builtin_is_refused(qtbot: Any, page: CatalogPage, boxes: Boxes) -> None:
    select(page, "campaign", "全国科普日")
    with qtbot.assertNotEmitted(page.changed):
        qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert boxes.calls == [("warning", "“全国科普日”是内置项目，不能删除，只能隐藏")]
    assert entry(page.db, "campaign", "全国科普日") is not None


def test_delete_used_entry_is_refused(qtbot: Any, page: CatalogPage, office: OfficeInfo,
                                      boxes: Boxes) -> None:
    with page.db.write() as s:
        campaign = add_entry(s, "campaign", "刺桐科学传播学者巡讲", props={"month": 4})
    use_in_activity(page.db, office, campaign)
    page.refresh()
    select(page, "campaign", "刺桐科学传播学者巡讲")
    assert cell(page, campaign.id, "usage") == "1"
    with qtbot.assertNotEmitted(page.changed):
        qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert boxes.calls == [("warning", "“刺桐科学传播学者巡讲”已被 1 条记录使用，不能删除，只能隐藏")]
    assert entry(page.db, "campaign", "刺桐科学传播学者巡讲") is not None


def test_delete_unused_office_entry(qtbot: Any, page: CatalogPage, boxes: Boxes) -> None:
    with page.db.write() as s:
        add_entry(s, "site_kind", "科普长廊")
        add_entry(s, "site_kind", "科普驿站")
    page.refresh()
    item = select(page, "site_kind", "科普长廊")

    boxes.confirm_answer = False  # 取消: nothing happens
    with qtbot.assertNotEmitted(page.changed):
        qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert boxes.calls == [("confirm", "确定删除“科普长廊”吗？删除后不能恢复。")]
    assert entry(page.db, "site_kind", "科普长廊") is not None

    boxes.confirm_answer = True
    with qtbot.waitSignal(page.changed):
        qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert entry(page.db, "site_kind", "科普长廊") is None
    assert page.model.row_of(item.id) == -1
    current = page.current_item()
    assert current is not None and current.code == "科普驿站"  # the next one, ready for Delete
    assert page.status_label.text() == "已删除“科普长廊”"


def test_move_up_and_down(qtbot: Any, page: CatalogPage) -> None:
    codes = [i.code for i in entries(page.db, "project")]
    select(page, "project", codes[2])
    with qtbot.waitSignal(page.changed):
        qtbot.keyClick(page.table, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    expected = [codes[0], codes[2], codes[1], *codes[3:]]
    assert [i.code for i in entries(page.db, "project")] == expected
    assert [r.item.code for r in page.model.rows] == expected
    assert page.current_item() is not None and page.current_item().code == codes[2]

    with qtbot.waitSignal(page.changed):
        qtbot.keyClick(page.table, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert [i.code for i in entries(page.db, "project")][0] == codes[2]
    assert not page.up_button.isEnabled()
    with qtbot.assertNotEmitted(page.changed):  # already first
        qtbot.keyClick(page.table, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)

    with qtbot.waitSignal(page.changed):
        qtbot.mouseClick(page.down_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(page.changed):
        qtbot.keyClick(page.table, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert [i.code for i in entries(page.db, "project")] == [codes[0], codes[1], codes[2],
                                                             *codes[3:]]


def test_tab_order(qtbot: Any, page: CatalogPage) -> None:
    page.kinds.setFocus()
    qtbot.waitUntil(page.kinds.hasFocus)
    order = []
    for _ in range(4):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        order.append(QApplication.focusWidget())
    assert order == [page.table, page.add_button, page.rename_button, page.hide_button]


def test_usage_counts_refresh_when_shown(qtbot: Any, page: CatalogPage,
                                         office: OfficeInfo) -> None:
    item = select(page, "campaign", "科技活动周")
    use_in_activity(page.db, office, item)
    page.hide()
    page.show()  # as when the user comes back to the page
    assert cell(page, item.id, "usage") == "1"
    assert page.current_item() == item
