"""年度目标, 科普阵地 and 设置: drive the widgets, check what reached the database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from PIL import Image
from PySide6.QtCore import QDate, QMimeData, Qt
from PySide6.QtGui import QDragEnterEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from db.attachments import list_attachments
from db.catalogs import find_entry
from db.database import Database, check_file
from db.demo import generate_demo
from db.indicators import compute_figures
from db.models import Activity
from db.offices import OfficeInfo, get_office, year_populations
from db.paths import backup_dir_for
from db.periods import Period
from db.reporting import due_day
from db.sites import SiteInput, create_site, list_sites, site_kinds
from db.targets import list_targets, set_targets
from desktop import sites_page, targets_page
from desktop.settings_page import SettingsPage
from desktop.sites_page import SiteDialog, SitesModel, SitesPage
from desktop.targets_page import TargetsModel, TargetsPage, figures_period
from tests.desktop.helpers import drop_files, type_text
from reports.figures import format_rate, format_value

# -- helpers ---------------------------------------------------------------------------


def replace_text(qtbot: Any, edit: QLineEdit, text: str) -> None:
    """Select all and type over it."""
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    type_text(qtbot, edit, text)


class Questions:
    """Answers the pages' questions (``ask``) and records message boxes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.asked: list[tuple[str, list[str]]] = []
        self.answers: list[str | None] = []
        self.boxes: list[tuple[str, str]] = []
        for module in (targets_page, sites_page):
            monkeypatch.setattr(module, "ask", self._ask)
        for kind in ("information", "warning", "critical"):
            monkeypatch.setattr(QMessageBox, kind, self._recorder(kind))

    def _ask(self, _parent: Any, text: str, choices: list[str], **_kw: Any) -> str | None:
        self.asked.append((text, choices))
        assert self.answers, f"unexpected question: {text}"
        answer = self.answers.pop(0)
        assert answer is None or answer in choices, (answer, choices)
        return answer

    def _recorder(self, kind: str) -> Any:
        def record(_parent: Any, _title: str, text: str, *_args: Any) -> Any:
            self.boxes.append((kind, text))
            return QMessageBox.StandardButton.Ok

        return record


@pytest.fixture
def questions(monkeypatch: pytest.MonkeyPatch) -> Questions:
    return Questions(monkeypatch)


def show(qtbot: Any, widget: QWidget) -> None:
    """Show a page active (shortcuts need an active window)."""
    qtbot.addWidget(widget)
    widget.resize(1200, 680)
    with qtbot.waitActive(widget):
        widget.show()
        widget.activateWindow()


def targets(db: Database, office: OfficeInfo, year: int) -> dict[str, Decimal]:
    with db.session() as s:
        return {t.code: t.value for t in list_targets(s, office, year)}

# -- 年度目标 ------------------------------------------------------------------------------


@pytest.fixture
def tpage(qtbot: Any, db: Database, office: OfficeInfo, questions: Questions) -> TargetsPage:
    page = TargetsPage(db, office)
    show(qtbot, page)
    page.set_year(2025)
    return page


def type_target(qtbot: Any, page: TargetsPage, code: str, text: str, *,
                enter: bool = True) -> None:
    """Go to the 年度目标 cell of ``code``, press F2 and type."""
    index = page.index_of(code)
    assert index.isValid(), code
    page.view.setFocus()
    page.view.setCurrentIndex(index)
    qtbot.keyClick(page.view, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit) and editor.parent() is page.view.viewport()
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    if enter:
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        # Qt closes the editor after Enter from the event loop.
        qtbot.waitUntil(lambda: page.view.state() != QAbstractItemView.State.EditingState)


def test_targets_model(qtbot: Any, qtmodeltester: Any, db: Database, office: OfficeInfo) -> None:
    generate_demo(db, office, year=2025, scale="small")
    page = TargetsPage(db, office)
    qtbot.addWidget(page)
    page.set_year(2025)
    qtmodeltester.check(page.model)
    page.model.set_filter("培训", only_set=True)
    qtmodeltester.check(page.model)


def test_type_target_and_save_with_ctrl_s(qtbot: Any, tpage: TargetsPage, db: Database,
                                          office: OfficeInfo) -> None:
    assert tpage.year_combo.currentData() == 2025
    type_target(qtbot, tpage, "train.农民.attend", "1560")
    # Enter moved on to the next target, like a spreadsheet.
    assert tpage.model.code_at(tpage.view.currentIndex().row()) == "train.农民.people"
    assert tpage.model.edits == {"train.农民.attend": "1560"}
    assert tpage.save_button.isEnabled()
    assert targets(db, office, 2025) == {}  # not before 保存

    with qtbot.waitSignal(tpage.changed):
        qtbot.keyClick(tpage.view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert targets(db, office, 2025) == {"train.农民.attend": Decimal(1560)}
    assert not tpage.model.is_dirty() and not tpage.save_button.isEnabled()
    assert tpage.index_of("train.农民.attend").data() == "1560"

    # Ctrl+S while still typing in the cell takes what is typed; blank removes.
    type_target(qtbot, tpage, "act.count", "120", enter=False)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert targets(db, office, 2025) == {"train.农民.attend": Decimal(1560),
                                         "act.count": Decimal(120)}
    tpage.view.setCurrentIndex(tpage.index_of("act.count"))
    qtbot.keyClick(tpage.view, Qt.Key.Key_Delete)
    assert tpage.model.edits == {"act.count": ""}
    qtbot.mouseClick(tpage.save_button, Qt.MouseButton.LeftButton)
    assert targets(db, office, 2025) == {"train.农民.attend": Decimal(1560)}


@pytest.mark.parametrize("bad", ["abc", "12.5"])
def test_bad_target_saves_nothing(qtbot: Any, tpage: TargetsPage, db: Database,
                                  office: OfficeInfo, bad: str) -> None:
    type_target(qtbot, tpage, "train.农民.attend", "1560")
    type_target(qtbot, tpage, "train.count", bad)
    # Marked red at once, with the reason as its tooltip.
    bad_cell = tpage.index_of("train.count")
    assert bad_cell.data(Qt.ItemDataRole.BackgroundRole) is not None
    assert "培训期数" in bad_cell.data(Qt.ItemDataRole.ToolTipRole)

    qtbot.keyClick(tpage.view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert targets(db, office, 2025) == {}  # all or nothing
    assert tpage.error_label.isVisible()
    expected = "不是数字" if bad == "abc" else "应为整数"
    assert expected in tpage.error_label.text() and "培训期数" in tpage.error_label.text()
    assert tpage.model.code_at(tpage.view.currentIndex().row()) == "train.count"
    assert tpage.model.is_dirty()  # the edits are still there to be corrected

    type_target(qtbot, tpage, "train.count", "12")
    assert tpage.index_of("train.count").data(Qt.ItemDataRole.BackgroundRole) is None
    qtbot.mouseClick(tpage.save_button, Qt.MouseButton.LeftButton)
    assert targets(db, office, 2025) == {"train.农民.attend": Decimal(1560),
                                         "train.count": Decimal(12)}
    assert not tpage.error_label.isVisible()


def test_revert_and_changing_year_ask_about_unsaved_edits(
        qtbot: Any, tpage: TargetsPage, db: Database, office: OfficeInfo,
        questions: Questions) -> None:
    type_target(qtbot, tpage, "act.count", "300")
    qtbot.mouseClick(tpage.revert_button, Qt.MouseButton.LeftButton)
    assert not tpage.model.is_dirty() and tpage.index_of("act.count").data() == ""

    type_target(qtbot, tpage, "act.count", "300")
    questions.answers = [None]  # 取消: stay on 2025 with the edit
    tpage.year_combo.setCurrentIndex(tpage.year_combo.findData(2024))
    assert tpage.year == 2025 and tpage.year_combo.currentData() == 2025
    assert tpage.model.edits == {"act.count": "300"}
    questions.answers = ["保存"]
    tpage.year_combo.setCurrentIndex(tpage.year_combo.findData(2024))
    assert tpage.year == 2024
    assert targets(db, office, 2025) == {"act.count": Decimal(300)}
    assert len(questions.asked) == 2

    type_target(qtbot, tpage, "act.count", "200")
    questions.answers = ["不保存"]
    assert tpage.can_leave()
    assert targets(db, office, 2024) == {} and not tpage.model.is_dirty()


def test_filter_and_only_set(qtbot: Any, tpage: TargetsPage, db: Database,
                             office: OfficeInfo) -> None:
    set_targets(db, office, 2025, {"train.农民.attend": "1560", "act.count": "100"})
    tpage.load()
    type_text(qtbot, tpage.search_edit, "农民")
    codes = {tpage.model.code_at(r) for r in range(tpage.model.rowCount())} - {None}
    assert codes == {"group.农民.attend", "train.农民.attend", "train.农民.people"}
    assert tpage.model.is_header(0) and tpage.model.index(0, 0).data() == "按重点人群"
    qtbot.mouseClick(tpage.only_set_check, Qt.MouseButton.LeftButton)
    codes = {tpage.model.code_at(r) for r in range(tpage.model.rowCount())} - {None}
    assert codes == {"train.农民.attend"}
    tpage.search_edit.clear()
    codes = {tpage.model.code_at(r) for r in range(tpage.model.rowCount())} - {None}
    assert codes == {"train.农民.attend", "act.count"}


def test_copy_previous_year(qtbot: Any, tpage: TargetsPage, db: Database, office: OfficeInfo,
                            questions: Questions) -> None:
    set_targets(db, office, 2024, {"train.农民.attend": "1560", "act.count": "100"})
    set_targets(db, office, 2025, {"act.count": "50"})
    tpage.load()
    questions.answers = ["只补充未设置的"]
    with qtbot.waitSignal(tpage.changed):
        qtbot.mouseClick(tpage.copy_button, Qt.MouseButton.LeftButton)
    assert "2024" in questions.asked[0][0]
    assert targets(db, office, 2025) == {"act.count": Decimal(50),
                                         "train.农民.attend": Decimal(1560)}
    assert tpage.index_of("train.农民.attend").data() == "1560"

    questions.answers = ["全部替换为上年目标"]
    qtbot.mouseClick(tpage.copy_button, Qt.MouseButton.LeftButton)
    assert targets(db, office, 2025) == {"act.count": Decimal(100),
                                         "train.农民.attend": Decimal(1560)}

    questions.answers = [None]  # 取消 changes nothing
    set_targets(db, office, 2025, {"act.count": "7"})
    tpage.load()
    qtbot.mouseClick(tpage.copy_button, Qt.MouseButton.LeftButton)
    assert targets(db, office, 2025)["act.count"] == Decimal(7)

    # Nothing to copy from: said so, nothing asked.
    tpage.set_year(2024)
    qtbot.mouseClick(tpage.copy_button, Qt.MouseButton.LeftButton)
    assert questions.boxes[-1] == ("information", "2023年没有设置目标，无法复制。")


def test_import_workbook(qtbot: Any, tpage: TargetsPage, db: Database, office: OfficeInfo,
                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                         questions: Questions) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["某某镇2025年科普工作目标"])
    sheet.append(["指标", "目标值"])
    sheet.append(["培训农民 人次", 1560])
    sheet.append(["act.count", "120次"])
    sheet.append(["人均科普经费", 2])
    path = tmp_path / "目标.xlsx"
    book.save(path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(path), ""))
    shown: list[list[tuple[str, str, str, str]]] = []
    answer = [False]

    def confirm(_parent: Any, year: int, rows: list[tuple[str, str, str, str]]) -> bool:
        assert year == 2025
        shown.append(rows)
        return answer[0]

    monkeypatch.setattr(targets_page, "confirm_import", confirm)
    set_targets(db, office, 2025, {"act.count": "100"})
    tpage.load()

    qtbot.mouseClick(tpage.import_button, Qt.MouseButton.LeftButton)  # 取消
    assert shown[0] == [("科普活动次数", "act.count", "100", "120"),
                        ("培训农民 人次", "train.农民.attend", "", "1560"),
                        ("人均科普经费", "fund.per_capita", "", "2.00")]
    assert targets(db, office, 2025) == {"act.count": Decimal(100)}

    answer[0] = True
    with qtbot.waitSignal(tpage.changed):
        qtbot.mouseClick(tpage.import_button, Qt.MouseButton.LeftButton)
    assert targets(db, office, 2025) == {"act.count": Decimal(120),
                                         "train.农民.attend": Decimal(1560),
                                         "fund.per_capita": Decimal("2.00")}

    # A bad row: the reader's message is shown, nothing imported.
    sheet.append(["培训期数", "十二"])
    book.save(path)
    qtbot.mouseClick(tpage.import_button, Qt.MouseButton.LeftButton)
    assert questions.boxes[-1][0] == "warning" and "第6行" in questions.boxes[-1][1]
    assert len(shown) == 2


def test_template_download_and_import(qtbot: Any, tpage: TargetsPage, db: Database,
                                      office: OfficeInfo, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    set_targets(db, office, 2025, {"act.count": "100", "fund.spent": "5000"})
    tpage.load()
    path = tmp_path / "模板.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(path), ""))
    qtbot.mouseClick(tpage.template_button, Qt.MouseButton.LeftButton)

    sheet = load_workbook(path).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("指标", "代码", "目标值", "单位")
    assert len(rows) == 1 + len(tpage.model.defs)
    by_code = {r[1]: r for r in rows[1:]}
    assert by_code["act.count"] == ("科普活动次数", "act.count", 100, "次")
    assert by_code["fund.spent"][2] == Decimal("5000.00") or by_code["fund.spent"][2] == 5000
    assert by_code["train.农民.attend"][2] is None
    for row in sheet.iter_rows(min_row=2, max_col=2):
        assert all(cell.data_type == "s" for cell in row)

    # The clerk fills the template in and imports it.
    book = load_workbook(path)
    sheet = book.worksheets[0]
    for r in range(2, sheet.max_row + 1):
        if sheet.cell(r, 2).value == "train.农民.attend":
            sheet.cell(r, 3).value = 1560
    book.save(path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(path), ""))
    monkeypatch.setattr(targets_page, "confirm_import", lambda *_a: True)
    qtbot.mouseClick(tpage.import_button, Qt.MouseButton.LeftButton)
    assert targets(db, office, 2025) == {"act.count": Decimal(100),
                                         "fund.spent": Decimal("5000.00"),
                                         "train.农民.attend": Decimal(1560)}


def test_ytd_and_rate_come_from_compute_figures(qtbot: Any, db: Database,
                                                office: OfficeInfo) -> None:
    generate_demo(db, office, year=2025, scale="small")
    page = TargetsPage(db, office)
    qtbot.addWidget(page)
    page.set_year(2025)
    assert figures_period(2025, dt.date(2026, 3, 1)) == Period(2025, "month", 12)
    assert figures_period(2026, dt.date(2026, 3, 1)) == Period(2026, "month", 3)
    with db.session() as s:
        figures = compute_figures(s, office, figures_period(2025)).items
    checked = 0
    for row in range(page.model.rowCount()):
        code = page.model.code_at(row)
        if code is None:
            continue
        f = figures[code]
        assert page.model.index(row, TargetsModel.YTD).data() == format_value(f.ytd, f.kind)
        assert page.model.index(row, TargetsModel.RATE).data() == format_rate(f.rate)
        checked += 1
    assert checked == len(page.model.defs) > 100
    assert page.index_of("act.count", TargetsModel.YTD).data() == str(figures["act.count"].ytd)
    assert page.index_of("site.科普e站.count", TargetsModel.TARGET).data() != ""

# -- 科普阵地 ------------------------------------------------------------------------------


@pytest.fixture
def spage(qtbot: Any, db: Database, office: OfficeInfo, questions: Questions) -> SitesPage:
    page = SitesPage(db, office)
    show(qtbot, page)
    return page


def kind_id(db: Database, code: str) -> str:
    with db.session() as s:
        return next(k.id for k in site_kinds(s) if k.code == code)


def sites(db: Database, office: OfficeInfo) -> list[Any]:
    with db.session() as s:
        return list_sites(s, office)


def photo(tmp_path: Path, name: str = "外景.jpg") -> Path:
    path = tmp_path / name
    Image.new("RGB", (320, 240), (30, 120, 200)).save(path, "JPEG")
    return path


def save_dialog(qtbot: Any, dialog: SiteDialog) -> None:
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)


def opened_dialog(qtbot: Any, page: SitesPage) -> SiteDialog:
    """The dialog the page opened, once it is the active window with its widgets shown."""
    dialog = page.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    return dialog


def test_sites_model(qtbot: Any, qtmodeltester: Any, db: Database, office: OfficeInfo) -> None:
    generate_demo(db, office, year=2025, scale="small")
    page = SitesPage(db, office)
    qtbot.addWidget(page)
    page.closed_check.setChecked(True)
    assert page.model.rowCount() == 15
    qtmodeltester.check(page.model)


def test_add_e_station_with_three_of_five(qtbot: Any, spage: SitesPage, db: Database,
                                          office: OfficeInfo, tmp_path: Path) -> None:
    qtbot.keyClick(spage.view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = opened_dialog(qtbot, spage)
    assert dialog.windowTitle() == "新增科普阵地"
    type_text(qtbot, dialog.name_edit, "石圳村科普e站")
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findText("科普画廊/宣传栏"))
    assert not dialog.checklist_box.isVisibleTo(dialog)  # only kinds with a checklist
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findText("科普e站"))
    assert dialog.checklist_box.isVisibleTo(dialog)
    assert list(dialog.checks) == ["网络", "人员", "场所", "活动", "终端"]
    qtbot.waitUntil(lambda: dialog.checks["终端"].isVisible())
    for item in ("网络", "人员", "终端"):
        qtbot.mouseClick(dialog.checks[item], Qt.MouseButton.LeftButton)
    assert "还缺：场所、活动" in dialog.checklist_hint.text()
    type_text(qtbot, dialog.village_edit, "石圳村")
    type_text(qtbot, dialog.area_edit, "60")
    qtbot.mouseClick(dialog.opened.check, Qt.MouseButton.LeftButton)
    dialog.opened.edit.setDate(QDate(2025, 3, 1))
    dialog.photos.add_files([photo(tmp_path)])
    assert dialog.photos.list.count() == 1

    with qtbot.waitSignal(spage.changed, timeout=10_000):
        save_dialog(qtbot, dialog)
    rows = sites(db, office)
    assert len(rows) == 1
    row = rows[0]
    assert row.data.name == "石圳村科普e站" and row.kind == "科普e站"
    assert row.data.checklist == {"网络": True, "人员": True, "场所": False, "活动": False,
                                  "终端": True}
    assert row.data.village == "石圳村" and row.data.area_m2 == 60
    assert row.data.opened_on == dt.date(2025, 3, 1) and row.data.closed_on is None
    assert row.photos == 1
    with db.session() as s:
        assert len(list_attachments(s, site_id=row.id)) == 1
        figures = compute_figures(s, office, Period(2025, "month", 9))
    assert figures["site.科普e站.count"].period == 1
    assert figures["site.科普e站.count"].ytd == 1

    model = spage.model
    assert model.index(0, SitesModel.CHECKLIST).data() == "3/5"
    assert model.index(0, SitesModel.CHECKLIST).data(
        Qt.ItemDataRole.ToolTipRole) == "五有缺：场所、活动"
    assert model.index(0, SitesModel.STATUS).data() == "使用中"
    assert model.index(0, SitesModel.PHOTOS).data() == "1"
    assert spage.selected_id() == row.id
    assert spage.summary_label.text() == (
        "共 1 处阵地，其中使用中 1 处（科普e站 1 处，五有齐全 0 处）")


def test_closing_before_opening_is_refused(qtbot: Any, spage: SitesPage, db: Database,
                                           office: OfficeInfo) -> None:
    qtbot.mouseClick(spage.add_button, Qt.MouseButton.LeftButton)
    dialog = opened_dialog(qtbot, spage)
    save_dialog(qtbot, dialog)  # nothing filled in
    assert dialog.error_labels["name"].isVisibleTo(dialog)
    assert dialog.error_labels["name"].text() == "请填写阵地名称"
    type_text(qtbot, dialog.name_edit, "洋下村科普画廊")
    qtbot.mouseClick(dialog.opened.check, Qt.MouseButton.LeftButton)
    dialog.opened.edit.setDate(QDate(2025, 6, 1))
    qtbot.mouseClick(dialog.closed.check, Qt.MouseButton.LeftButton)
    dialog.closed.edit.setDate(QDate(2025, 5, 1))
    save_dialog(qtbot, dialog)
    assert not dialog.error_labels["name"].isVisibleTo(dialog)
    assert dialog.error_labels["closed_on"].isVisibleTo(dialog)
    assert dialog.error_labels["closed_on"].text() == "停用日期不能早于启用日期"
    assert dialog.isVisible() and sites(db, office) == []

    dialog.closed.edit.setDate(QDate(2025, 7, 1))
    save_dialog(qtbot, dialog)
    assert not dialog.isVisible()
    assert [r.data.closed_on for r in sites(db, office)] == [dt.date(2025, 7, 1)]
    # Saved closed while closed sites were hidden: the filter opened up to show it.
    assert spage.closed_check.isChecked() and spage.model.rowCount() == 1
    assert spage.model.index(0, SitesModel.STATUS).data() == "已停用"


def test_edit_with_enter(qtbot: Any, spage: SitesPage, db: Database, office: OfficeInfo,
                         tmp_path: Path) -> None:
    site_id = create_site(db, office, SiteInput("岩峰村科普书屋", kind_id(db, "科普书屋")))
    spage.refresh()
    assert spage.select(site_id)
    spage.view.setFocus()
    qtbot.keyClick(spage.view, Qt.Key.Key_Return)
    dialog = opened_dialog(qtbot, spage)
    assert dialog.name_edit.text() == "岩峰村科普书屋"
    assert not dialog.checklist_box.isVisibleTo(dialog)
    type_text(qtbot, dialog.address_edit, "岩峰村党群服务中心二楼")
    type_text(qtbot, dialog.note_edit, "与农家书屋合建")
    dialog.photos.add_files([photo(tmp_path, "a.jpg"), photo(tmp_path, "b.png")])
    with qtbot.waitSignal(spage.changed, timeout=10_000):
        qtbot.keyClick(dialog.address_edit, Qt.Key.Key_Return)  # Enter saves
    row = sites(db, office)[0]
    assert row.data.address == "岩峰村党群服务中心二楼" and row.data.note == "与农家书屋合建"
    assert row.photos == 2

    # Take one photo out again; 取消 keeps it, 保存 removes it.
    spage.edit_selected()
    dialog = opened_dialog(qtbot, spage)
    assert dialog.photos.list.count() == 2
    dialog.photos.list.item(0).setSelected(True)
    qtbot.mouseClick(dialog.photos.remove_button, Qt.MouseButton.LeftButton)
    assert dialog.photos.list.count() == 1
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert sites(db, office)[0].photos == 2
    spage.edit_selected()
    dialog = opened_dialog(qtbot, spage)
    dialog.photos.list.setFocus()
    dialog.photos.list.setCurrentRow(0)
    qtbot.keyClick(dialog.photos.list, Qt.Key.Key_Delete)
    assert dialog.photos.list.count() == 1
    save_dialog(qtbot, dialog)
    assert sites(db, office)[0].photos == 1


def test_photos_dropped_from_the_file_manager_are_queued(qtbot: Any, db: Database,
                                                         tmp_path: Path) -> None:
    photos = sites_page.SitePhotos(db, None)
    qtbot.addWidget(photos)
    drop_files(photos, [photo(tmp_path)])
    assert photos.queued == [tmp_path / "外景.jpg"]
    assert photos.list.count() == 1 and sites_page.QUEUED_TEXT in photos.list.item(0).text()

    not_files = QMimeData()
    not_files.setText("外景")
    pos = photos.rect().center()
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, not_files, Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(photos, enter)
    assert not enter.isAccepted()


def test_delete_asks_and_suggests_closing(qtbot: Any, spage: SitesPage, db: Database,
                                          office: OfficeInfo, questions: Questions) -> None:
    unused = create_site(db, office, SiteInput("坑口村科普画廊", kind_id(db, "科普画廊")))
    used = create_site(db, office, SiteInput("福全村科普活动室", kind_id(db, "科普活动室")))
    with db.write() as s:
        form = find_entry(s, "form", "讲座")
        assert form is not None
        s.add(Activity(office_id=office.id, title="防灾减灾知识讲座", form_id=form.id,
                       start_date=dt.date(2025, 5, 12), end_date=dt.date(2025, 5, 12),
                       attend=80, site_id=used))
    spage.refresh()
    assert spage.model.index(spage.model.row_of(used), SitesModel.ACTIVITIES).data() == "1"

    spage.select(unused)
    questions.answers = [None]  # 取消
    qtbot.mouseClick(spage.delete_button, Qt.MouseButton.LeftButton)
    assert len(sites(db, office)) == 2
    questions.answers = ["删除"]
    spage.view.setFocus()
    with qtbot.waitSignal(spage.changed):
        qtbot.keyClick(spage.view, Qt.Key.Key_Delete)
    assert [r.id for r in sites(db, office)] == [used]

    # A site with activities: closing it is offered first.
    spage.select(used)
    questions.answers = ["设置停用日期"]
    qtbot.mouseClick(spage.delete_button, Qt.MouseButton.LeftButton)
    assert "1 次活动" in questions.asked[-1][0]
    dialog = opened_dialog(qtbot, spage)
    assert dialog.closed.check.isChecked()
    dialog.closed.edit.setDate(QDate(2025, 12, 31))
    save_dialog(qtbot, dialog)
    assert sites(db, office)[0].data.closed_on == dt.date(2025, 12, 31)

    questions.answers = ["仍然删除"]
    spage.select(used)
    qtbot.mouseClick(spage.delete_button, Qt.MouseButton.LeftButton)
    assert sites(db, office) == []
    with db.session() as s:
        assert s.query(Activity).one().site_id is None  # the activity stays


def test_filters_and_summary(qtbot: Any, db: Database, office: OfficeInfo,
                             questions: Questions) -> None:
    generate_demo(db, office, year=2025, scale="small")
    page = SitesPage(db, office)
    show(qtbot, page)
    assert page.summary_label.text() == (
        "共 15 处阵地，其中使用中 14 处（科普e站 3 处，五有齐全 2 处）")
    assert page.model.rowCount() == 14  # the closed 画廊 is hidden
    qtbot.mouseClick(page.closed_check, Qt.MouseButton.LeftButton)
    assert page.model.rowCount() == 15
    page.kind_filter.setCurrentIndex(page.kind_filter.findText("科普e站"))
    assert page.model.rowCount() == 3
    assert {page.model.index(r, SitesModel.CHECKLIST).data() for r in range(3)} == {"4/5", "5/5"}

# -- 设置 ------------------------------------------------------------------------------------


@pytest.fixture
def settings_page(qtbot: Any, db: Database, office: OfficeInfo,
                  questions: Questions) -> SettingsPage:
    page = SettingsPage(db, office)
    show(qtbot, page)
    return page


def stored_office(db: Database) -> OfficeInfo:
    with db.session() as s:
        return get_office(s)


def test_office_and_signature_saved(qtbot: Any, settings_page: SettingsPage,
                                    db: Database) -> None:
    page = settings_page
    assert page.population_edit.text() == "58,000"
    assert not page.save_button.isEnabled()
    replace_text(qtbot, page.population_edit, "60,500")
    type_text(qtbot, page.reviewer_edit, "王建国")
    type_text(qtbot, page.reporter_edit, "陈美玲")
    type_text(qtbot, page.phone_edit, "0595-85123456")
    assert page.save_button.isEnabled()
    with qtbot.waitSignal(page.changed):
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    o = stored_office(db)
    assert (o.population, o.reviewer, o.reporter, o.phone) == (60500, "王建国", "陈美玲",
                                                               "0595-85123456")
    assert o.name == "金井镇" and o.code == "350582103"
    assert page.office_status.text() == "已保存。" and not page.save_button.isEnabled()


def test_bad_code_shows_field_error_and_saves_nothing(qtbot: Any, settings_page: SettingsPage,
                                                      db: Database) -> None:
    page = settings_page
    type_text(qtbot, page.reviewer_edit, "王建国")
    replace_text(qtbot, page.code_edit, "35058")
    qtbot.keyClick(page.code_edit, Qt.Key.Key_Return)  # Enter saves
    label = page.error_labels["行政区划代码"]
    assert label.isVisible() and "6位、9位或12位数字" in label.text()
    assert page.code_edit.hasFocus()
    o = stored_office(db)
    assert o.code == "350582103" and o.reviewer == ""

    replace_text(qtbot, page.code_edit, "350582103001")
    replace_text(qtbot, page.phone_edit, "12345")
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert not label.isVisible() and page.error_labels["联系电话"].isVisible()
    assert stored_office(db).code == "350582103"
    page.phone_edit.clear()
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert stored_office(db).code == "350582103001"


def test_population_by_year(qtbot: Any, settings_page: SettingsPage, db: Database,
                            office: OfficeInfo) -> None:
    page = settings_page
    page.pop_year.setValue(2025)
    type_text(qtbot, page.pop_edit, "61000")
    qtbot.mouseClick(page.pop_set_button, Qt.MouseButton.LeftButton)
    page.pop_year.setValue(2024)
    type_text(qtbot, page.pop_edit, "59000")
    qtbot.keyClick(page.pop_edit, Qt.Key.Key_Return)
    with db.session() as s:
        assert year_populations(s, office.id) == {2025: 61000, 2024: 59000}
    assert page.pop_table.rowCount() == 2
    assert page.pop_table.item(0, 0).text() == "2025年"
    assert page.pop_table.item(0, 1).text() == "61,000"

    page.pop_table.selectRow(0)  # edit 2025
    assert page.pop_year.value() == 2025 and page.pop_edit.text() == "61000"
    replace_text(qtbot, page.pop_edit, "62000")
    qtbot.mouseClick(page.pop_set_button, Qt.MouseButton.LeftButton)
    page.pop_table.selectRow(1)  # remove 2024
    qtbot.mouseClick(page.pop_remove_button, Qt.MouseButton.LeftButton)
    with db.session() as s:
        assert year_populations(s, office.id) == {2025: 62000}

    # 人均科普经费 of 2025 now divides by the year's figure.
    with db.session() as s:
        assert compute_figures(s, office, Period(2025, "year")).population == 62000


def test_due_day(qtbot: Any, settings_page: SettingsPage, db: Database) -> None:
    page = settings_page
    assert page.due_spin.value() == 5 and not page.due_button.isEnabled()
    page.due_spin.setFocus()
    for _ in range(5):
        qtbot.keyClick(page.due_spin, Qt.Key.Key_Up)
    assert page.due_spin.value() == 10 and page.due_button.isEnabled()
    with qtbot.waitSignal(page.changed):
        qtbot.mouseClick(page.due_button, Qt.MouseButton.LeftButton)
    with db.session() as s:
        assert due_day(s) == 10
    assert page.due_spin.maximum() == 28 and page.due_spin.minimum() == 1


def test_backup_now_and_paths(qtbot: Any, settings_page: SettingsPage, db: Database) -> None:
    page = settings_page
    assert page.db_path_label.text() == str(db.path)
    assert page.backup_dir_label.text() == str(backup_dir_for(db.path))
    qtbot.mouseClick(page.copy_path_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == str(db.path)

    qtbot.mouseClick(page.backup_button, Qt.MouseButton.LeftButton)
    job = page.backup_job
    assert job is not None
    if job.is_running():
        with qtbot.waitSignal(job.finished, timeout=10_000):
            pass
    assert job.outcome == "ok"
    dest = page.last_backup
    assert dest is not None and dest.parent == backup_dir_for(db.path)
    assert check_file(dest).ok
    assert str(dest) in page.backup_label.text()
    assert page.backup_button.isEnabled()


def test_pages_reload_on_data_changed(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    tpage = TargetsPage(db, office)
    spage = SitesPage(db, office)
    settings = SettingsPage(db, office)
    for page in (tpage, spage, settings):
        qtbot.addWidget(page)
    tpage.set_year(2025)
    set_targets(db, office, 2025, {"act.count": "10"})
    create_site(db, office, SiteInput("金井青少年科技小馆", kind_id(db, "科技馆")))
    for page in (tpage, spage, settings):
        page.data_changed()
    assert spage.model.rowCount() == 1
    # The targets page reads again when it is shown (figures are not free).
    assert tpage.index_of("act.count").data() == ""
    tpage.show()
    assert tpage.index_of("act.count").data() == "10"
    tpage.data_changed()  # shown: at once
    set_targets(db, office, 2025, {"act.count": "20"})
    tpage.data_changed()
    assert tpage.index_of("act.count").data() == "20"


def test_leaving_the_targets_page_asks_to_save(qtbot: Any, db: Database, office: OfficeInfo,
                                               questions: Questions) -> None:
    from PySide6.QtWidgets import QLabel, QStackedWidget

    stack = QStackedWidget()
    page = TargetsPage(db, office)
    stack.addWidget(page)
    stack.addWidget(QLabel("概览"))
    show(qtbot, stack)
    page.set_year(2025)
    type_target(qtbot, page, "act.count", "100")
    questions.answers = ["保存"]
    stack.setCurrentIndex(1)
    qtbot.waitUntil(lambda: len(questions.asked) == 1)
    assert "离开" in questions.asked[0][0]
    assert targets(db, office, 2025) == {"act.count": Decimal(100)}

    stack.setCurrentIndex(0)
    type_target(qtbot, page, "act.count", "200")
    questions.answers = [None]  # 取消: the edit waits on the page
    stack.setCurrentIndex(1)
    qtbot.waitUntil(lambda: len(questions.asked) == 2)
    assert page.model.edits == {"act.count": "200"}
    assert targets(db, office, 2025) == {"act.count": Decimal(100)}


def wait_job(qtbot: Any, job: Any) -> None:
    assert job is not None
    if job.is_running():
        with qtbot.waitSignal(job.finished, timeout=10_000):
            pass
    assert job.outcome == "ok"


def test_backup_schedule_and_extra_folder(qtbot: Any, settings_page: SettingsPage, db: Database,
                                          tmp_path: Path, questions: Questions,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from db.backup_settings import BackupSettings, get_backup_settings

    page = settings_page
    assert page.schedule_combo.currentText() == "每天首次打开时"
    assert not page.backup_settings_button.isEnabled()
    assert not page.schedule_warning.isVisible()
    assert page.extra_label.text() == "（不另存）"

    page.schedule_combo.setCurrentIndex(page.schedule_combo.findText("不自动备份"))
    assert page.schedule_warning.isVisible() and "不建议" in page.schedule_warning.text()
    page.schedule_combo.setCurrentIndex(page.schedule_combo.findText("每周一次"))
    assert not page.schedule_warning.isVisible()

    usb = tmp_path / "usb"
    usb.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_a, **_k: str(usb))
    qtbot.mouseClick(page.extra_choose_button, Qt.MouseButton.LeftButton)
    assert page.extra_label.text() == str(usb) and page.backup_settings_button.isEnabled()
    with qtbot.waitSignal(page.changed):
        qtbot.mouseClick(page.backup_settings_button, Qt.MouseButton.LeftButton)
    with db.session() as s:
        assert get_backup_settings(s) == BackupSettings("weekly", usb.resolve())
    assert page.backup_settings_status.text() == "已保存。"
    assert not page.backup_settings_button.isEnabled()

    # 立即备份 now also writes a verified copy to the extra folder.
    qtbot.mouseClick(page.backup_button, Qt.MouseButton.LeftButton)
    wait_job(qtbot, page.backup_job)
    assert page.last_extra_copy is not None and page.last_extra_copy.parent == usb.resolve()
    assert check_file(page.last_extra_copy).ok
    assert str(page.last_extra_copy) in page.backup_label.text()

    # A folder that has gone away is refused with a message naming it; nothing stored.
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_a, **_k: str(gone))
    qtbot.mouseClick(page.extra_choose_button, Qt.MouseButton.LeftButton)
    gone.rmdir()
    qtbot.mouseClick(page.backup_settings_button, Qt.MouseButton.LeftButton)
    assert "不存在" in page.backup_settings_status.text()
    with db.session() as s:
        assert get_backup_settings(s).extra_folder == usb.resolve()

    qtbot.mouseClick(page.extra_clear_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(page.backup_settings_button, Qt.MouseButton.LeftButton)
    with db.session() as s:
        assert get_backup_settings(s) == BackupSettings("weekly", None)


def test_move_data_copies_and_records_next_start(qtbot: Any, settings_page: SettingsPage,
                                                 db: Database, office: OfficeInfo,
                                                 tmp_path: Path, questions: Questions,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtCore import QSettings

    from db.activities import ActivityInput, create_activity
    from db.attachments import add_attachments
    from db.paths import attachment_dir_for

    with db.session() as s:
        form = find_entry(s, "form", "讲座").id
    day = dt.date(2025, 9, 16)
    aid = create_activity(db, office, ActivityInput("讲座", day, day, form, attend=10))
    doc = tmp_path / "签到表.pdf"
    doc.write_bytes(b"%PDF-1.4 sign-in sheet")
    [info] = add_attachments(db, activity_id=aid, files=[doc])

    page = settings_page
    new_folder = tmp_path / "D盘" / "科普台账"
    new_folder.mkdir(parents=True)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda *_a, **_k: str(new_folder))
    qtbot.mouseClick(page.move_button, Qt.MouseButton.LeftButton)
    wait_job(qtbot, page.move_job)
    target = new_folder / db.path.name
    result = check_file(target)
    assert result.ok
    copied = attachment_dir_for(target) / info.path
    assert copied.read_bytes() == doc.read_bytes()
    assert not list(new_folder.glob("*.part"))
    assert QSettings("kepu", "kepu").value("database/path") == str(target)
    assert questions.boxes and "重新打开" in questions.boxes[-1][1]
    assert str(target) in page.move_status.text()
    assert db.path.exists()  # the current file stays where it was

    # Copying again into the same folder would overwrite: refused.
    qtbot.mouseClick(page.move_button, Qt.MouseButton.LeftButton)
    job = page.move_job
    assert job is not None
    if job.is_running():
        with qtbot.waitSignal(job.finished, timeout=10_000):
            pass
    assert job.outcome == "error" and "为免覆盖" in questions.boxes[-1][1]
    assert check_file(target).ok and page.move_button.isEnabled()
