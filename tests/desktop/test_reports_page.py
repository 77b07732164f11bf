"""The reports page: month states, 上报, 重新打开, preview, print, export, county template."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QFileDialog
from pypdf import PdfReader
from sqlalchemy import select

from db.activities import ActivityInput, create_activity
from db.catalogs import find_entry
from db.database import Database
from db.demo import generate_demo
from db.indicators import compute_figures
from db.models import AuditLog
from db.offices import OfficeInfo
from db.periods import Period
from db.reporting import month_state, reopen_month, submit_month
from desktop import reports_page
from desktop.charts import GREEN, RED
from desktop.pdf_view import PAGE_GAP
from desktop.reports_page import PlaceholderDialog, ProblemsDialog, ReopenDialog, ReportsPage
from reports.bundle import read_bundle, verify_bundle
from reports.pdf_summary import write_summary_pdf
from reports.report_data import build_report_data
from tests.desktop import helpers
from tests.desktop.helpers import type_text

TODAY = dt.date(2025, 10, 20)


class Dialogs(helpers.Boxes):
    """Stands in for message boxes, confirmations and file dialogs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(monkeypatch)
        self.confirm_answer = True
        self.save_name = ""
        self.open_name = ""
        self.folder = ""
        self.save_defaults: list[str] = []
        monkeypatch.setattr(reports_page, "confirm", self._confirm)
        monkeypatch.setattr(reports_page, "show_done", self._done)
        monkeypatch.setattr(QFileDialog, "getSaveFileName", self._save)
        monkeypatch.setattr(QFileDialog, "getOpenFileName", self._open)
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", self._dir)

    def _confirm(self, _parent: Any, _title: str, text: str, _ok: str) -> bool:
        self.calls.append(("confirm", text))
        return self.confirm_answer

    def _done(self, _parent: Any, title: str, text: str, _folder: Path) -> None:
        self.calls.append(("done", f"{title}\n{text}"))

    def _save(self, _parent: Any, _caption: str, default: str = "", *_args: Any) -> tuple[str, str]:
        self.save_defaults.append(default)
        return self.save_name, ""

    def _open(self, *_args: Any) -> tuple[str, str]:
        return self.open_name, ""

    def _dir(self, *_args: Any) -> str:
        return self.folder

    def kinds(self) -> list[str]:
        return [k for k, _t in self.calls]

    def text(self, kind: str) -> str:
        return "\n".join(t for k, t in self.calls if k == kind)


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch) -> Dialogs:
    return Dialogs(monkeypatch)


@pytest.fixture
def demo(db: Database, office: OfficeInfo) -> Database:
    generate_demo(db, office, year=2025, scale="small")
    return db


@pytest.fixture
def page(qtbot: Any, demo: Database, office: OfficeInfo) -> ReportsPage:
    widget = ReportsPage(demo, office, today=lambda: TODAY)
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def wait_job(qtbot: Any, page: ReportsPage) -> None:
    assert page.job is not None
    qtbot.waitUntil(lambda: not page.job.is_running(), timeout=60_000)


def cells(page: ReportsPage, key: str) -> list[str]:
    item = page.item_for(key)
    assert item is not None, key
    return [item.text(c) for c in range(item.columnCount())]


def color(page: ReportsPage, key: str, column: int) -> QColor:
    return page.item_for(key).foreground(column).color()


def state(db: Database, office: OfficeInfo, month: str = "2025-09"):  # noqa: ANN201
    with db.session() as s:
        return month_state(s, office, month)

# -- the list of periods -----------------------------------------------------------------


def test_month_list_shows_states_due_dates_and_overdue_in_red(demo: Database, office: OfficeInfo,
                                                               qtbot: Any) -> None:
    submit_month(demo, office, "2025-07", today=TODAY)
    submit_month(demo, office, "2025-08", today=TODAY)
    reopen_month(demo, office, "2025-08", "漏报一场讲座")
    page = ReportsPage(demo, office, today=lambda: TODAY)
    qtbot.addWidget(page)

    assert page.period == Period.parse("2025-09")  # last month: the return due now
    assert page.year_combo.currentData() == 2025
    assert cells(page, "2025-07")[:5] == ["7月", "已上报", "2025-08-05", "", ""]
    assert color(page, "2025-07", 1) == GREEN
    assert cells(page, "2025-08") == ["8月", "已重新打开", "2025-09-05", "逾期 45 天", "第1次修订"]
    assert cells(page, "2025-09") == ["9月", "未上报", "2025-10-05", "逾期 15 天", ""]
    assert color(page, "2025-09", 3) == RED and color(page, "2025-09", 1) == RED
    assert cells(page, "2025-10")[:2] == ["10月", "本月"]
    assert cells(page, "2025-Q3")[:2] == ["第三季度", "仅导出"]
    assert cells(page, "2025")[:2] == ["全年", "仅导出"]
    assert page.month_list.topLevelItemCount() == 12 + 4 + 1

    assert "已逾期 15 天" in page.detail_label.text()
    assert page.submit_button.isEnabled() and not page.reopen_button.isEnabled()
    page.show_month("2025-07")
    assert page.month_list.currentItem() is page.item_for("2025-07")
    assert page.reopen_button.isEnabled() and not page.submit_button.isEnabled()
    assert "上报时间" in page.detail_label.text()
    page.show_month("2025-08")
    assert "重新打开原因：漏报一场讲座" in page.detail_label.text()
    assert page.submit_button.text() == "再次上报…"
    page.show_period(Period.parse("2025-Q3"))
    assert not page.submit_button.isEnabled() and not page.reopen_button.isEnabled()
    assert "不需要上报" in page.detail_label.text()
    page.show_month("2025-10")  # not ended yet
    assert not page.submit_button.isEnabled()


def test_months_before_the_program_was_used_are_grey_not_overdue(
        db: Database, office: OfficeInfo, qtbot: Any) -> None:
    from db.models import Office

    with db.write() as s:  # started in October 2025, with only a September lecture entered
        s.get(Office, office.id).created_at = dt.datetime(2025, 10, 8, 9, 0)
        form = find_entry(s, "form", "讲座").id
    day = dt.date(2025, 9, 16)
    create_activity(db, office, ActivityInput("补录讲座", day, day, form, attend=20))
    page = ReportsPage(db, office, today=lambda: TODAY)
    qtbot.addWidget(page)
    assert cells(page, "2025-08") == ["8月", "未上报", "2025-09-05", "启用前，无记录", ""]
    assert color(page, "2025-08", 3) == QColor(Qt.GlobalColor.gray)
    assert "不算逾期" in page.item_for("2025-08").toolTip(3)
    assert cells(page, "2025-09")[3] == "逾期 15 天"  # it has a record: its return is due
    assert color(page, "2025-09", 3) == RED


def test_show_month_switches_the_year(page: ReportsPage) -> None:
    page.show_month("2024-12")
    assert page.year_combo.currentData() == 2024
    assert page.month_list.currentItem() is page.item_for("2024-12")
    assert page.title_label.text() == "金井镇2024年12月月报表"
    page.show_month("2025-03")
    assert page.year_combo.currentData() == 2025 and page.period.key == "2025-03"


def test_header_fields_are_prefilled_from_the_office(demo: Database, office: OfficeInfo,
                                                     qtbot: Any) -> None:
    from db.offices import update_office

    with demo.write() as s:
        office = update_office(s, office.id, name=office.name, code=office.code,
                               level=office.level, region=office.region,
                               population=office.population, reporter="张文书",
                               reviewer="李镇长", phone="0595-85671234")
    page = ReportsPage(demo, office, today=lambda: TODAY)
    qtbot.addWidget(page)
    values = page.header_values()
    assert values == {"reporter": "张文书", "reviewer": "李镇长", "phone": "0595-85671234",
                      "report_date": TODAY}
    assert not page.full_ids_check.isChecked()

# -- 上报 and 重新打开 ---------------------------------------------------------------------


def test_submit_through_the_page_locks_the_month(page: ReportsPage, demo: Database,
                                                 office: OfficeInfo, dialogs: Dialogs,
                                                 qtbot: Any, tmp_path: Path) -> None:
    page.show_month("2025-09")
    dialogs.confirm_answer = False
    page.submit_button.click()
    assert page.job is None and not state(demo, office).locked
    assert "锁定" in dialogs.text("confirm")

    dialogs.confirm_answer = True
    out = tmp_path / "上报" / "2025-09_金井镇.zip"
    out.parent.mkdir()
    dialogs.save_name = str(out)
    with qtbot.waitSignal(page.changed, timeout=60_000):
        page.submit_button.click()
        assert not page.preview_button.isEnabled()  # busy while it runs
        assert not page.submit_button.isEnabled()
    wait_job(qtbot, page)
    assert dialogs.save_defaults[-1].endswith("科普台账上报/2025-09_金井镇.zip")

    assert state(demo, office).locked
    assert verify_bundle(out) == [] and read_bundle(out)["period"] == "2025-09"
    assert cells(page, "2025-09")[:4] == ["9月", "已上报", "2025-10-05", ""]
    assert color(page, "2025-09", 1) == GREEN
    assert "已上报，该月记录已锁定" in dialogs.text("done") and str(out) in dialogs.text("done")
    assert page.reopen_button.isEnabled() and not page.submit_button.isEnabled()
    assert page.preview_button.isEnabled()


def test_submit_of_an_unfinished_month_is_refused(page: ReportsPage, dialogs: Dialogs,
                                                  demo: Database, office: OfficeInfo) -> None:
    page.show_month("2025-10")
    page.submit()  # the button is disabled; the rule holds anyway
    assert "还没有结束" in dialogs.text("warning")
    assert page.job is None


def test_reopen_needs_a_reason(page: ReportsPage, demo: Database, office: OfficeInfo,
                               qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    submit_month(demo, office, "2025-09", today=TODAY)
    page.data_changed()
    page.show_month("2025-09")
    assert page.reopen_button.isEnabled()
    typed = {"reason": ""}
    seen: list[ReopenDialog] = []

    def fake_exec(dialog: ReopenDialog) -> int:
        seen.append(dialog)
        type_text(qtbot, dialog.reason_edit, typed["reason"])
        dialog.ok_button.click()
        return dialog.result()

    monkeypatch.setattr(ReopenDialog, "exec", fake_exec)
    page.reopen_button.click()
    assert seen[-1].result() == QDialog.DialogCode.Rejected
    assert not seen[-1].error_label.isHidden()
    assert "必须填写原因" in seen[-1].error_label.text()
    assert state(demo, office).locked

    typed["reason"] = "漏报一场讲座"
    with qtbot.waitSignal(page.changed):
        page.reopen_button.click()
    st = state(demo, office)
    assert st.label == "已重新打开" and st.revision == 1 and st.reopen_reason == "漏报一场讲座"
    assert cells(page, "2025-09") == ["9月", "已重新打开", "2025-10-05", "逾期 15 天", "第1次修订"]
    assert page.title_label.text() == "金井镇2025年9月月报表（第1次修订）"
    assert page.submit_button.isEnabled() and page.submit_button.text() == "再次上报…"
    assert not page.reopen_button.isEnabled()

# -- preview, print, export ----------------------------------------------------------------


def expected_pages(db: Database, office: OfficeInfo, page: ReportsPage, tmp_path: Path) -> int:
    data = build_report_data(db, office, page.period, **page.header_values())
    return write_summary_pdf(data, tmp_path / "expected.pdf").pages


def test_preview_shows_every_page_of_the_summary(page: ReportsPage, demo: Database,
                                                 office: OfficeInfo, qtbot: Any,
                                                 tmp_path: Path) -> None:
    page.show_month("2025-09")
    page.preview_button.click()
    assert not page.export_button.isEnabled()
    wait_job(qtbot, page)
    view = page.pdf_view
    pages = expected_pages(demo, office, page, tmp_path)
    assert pages >= 2
    assert view.page_count() == pages
    assert view.count_label.text() == f"/ {pages} 页" and view.current_page() == 1
    assert page.preview_label.text().startswith(f"工作汇总预览：2025年9月，共 {pages} 页")
    assert page.export_button.isEnabled()

    # rendered: the first page has dark (text) pixels on white
    image = view.canvas.grab(view.page_rects[0]).toImage()
    dark = sum(1 for x in range(0, image.width(), 4) for y in range(0, image.height(), 4)
               if image.pixelColor(x, y).lightness() < 100)
    assert dark > 50

    # zoom: fit width follows the view; 100% is true size; 放大 by steps
    assert view.is_fit_width()
    assert view.page_rects[0].width() == view.scroll.viewport().width() - 2 * PAGE_GAP
    view.actual_button.click()
    assert view.zoom() == 1.0 and not view.fit_button.isChecked()
    assert view.page_rects[0].width() == round(595.2756 * view.logicalDpiX() / 72)
    view.zoom_in_button.click()
    assert view.zoom() == pytest.approx(1.25) and view.zoom_label.text() == "125%"
    view.zoom_out_button.click()
    view.zoom_out_button.click()
    assert view.zoom() == pytest.approx(0.8)
    view.go_to_page(pages)
    assert view.current_page() == pages and view.page_spin.value() == pages
    view.fit_button.click()
    assert view.is_fit_width()

    # another period: the old preview goes
    page.show_month("2025-08")
    assert view.page_count() == 0 and "2025年8月" in view.placeholder.text()


def test_print_to_pdf_gives_the_same_page_count(page: ReportsPage, qtbot: Any, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "printed.pdf"
    asked: list[tuple[int, int]] = []

    def fake_exec(dialog: QPrintDialog) -> int:
        asked.append((dialog.minPage(), dialog.maxPage()))
        printer = dialog.printer()
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(out))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(QPrintDialog, "exec", fake_exec)
    page.show_month("2025-09")
    page.print_button.click()  # previews first, then prints
    wait_job(qtbot, page)
    pages = page.pdf_view.page_count()
    assert pages >= 2 and asked == [(1, pages)]
    printed = PdfReader(out)
    assert len(printed.pages) == pages
    box = printed.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    assert page.preview_label.text() == f"已打印 {pages} 页"

    out.unlink()
    job = page.job
    page.print_button.click()  # the preview is current: straight to the printer
    assert page.job is job
    assert len(PdfReader(out).pages) == pages


def test_export_writes_the_chosen_files(page: ReportsPage, demo: Database, office: OfficeInfo,
                                        dialogs: Dialogs, qtbot: Any, tmp_path: Path) -> None:
    folder = tmp_path / "导出"
    folder.mkdir()
    dialogs.folder = str(folder)
    page.show_month("2025-09")
    page.output_checks["evidence"].setChecked(True)
    page.export_button.click()
    wait_job(qtbot, page)
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["2025-09_金井镇_佐证材料汇编.pdf", "2025-09_金井镇_工作汇总.pdf",
                     "2025-09_金井镇_月报表.xlsx"]
    assert "已导出2025年9月的 3 个文件" in dialogs.text("done")

    wb = load_workbook(folder / "2025-09_金井镇_月报表.xlsx", read_only=True)
    values = {row[2]: row[4] for row in wb["汇总表"].iter_rows(min_row=5, values_only=True)}
    wb.close()
    with demo.session() as s:
        figs = compute_figures(s, office, Period.parse("2025-09"))
    assert values["act.count"] == figs.items["act.count"].period
    with demo.session() as s:
        assert not s.scalars(select(AuditLog).where(AuditLog.action == "export_full_ids")).all()

    # existing files: asked before overwriting; 取消 leaves them as they were
    before = (folder / "2025-09_金井镇_月报表.xlsx").read_bytes()
    dialogs.confirm_answer = False
    page.export_button.click()
    assert "已存在" in dialogs.text("confirm")
    assert (folder / "2025-09_金井镇_月报表.xlsx").read_bytes() == before


def test_full_ids_warn_and_are_audited(page: ReportsPage, demo: Database, dialogs: Dialogs,
                                       qtbot: Any, tmp_path: Path) -> None:
    dialogs.folder = str(tmp_path)
    page.show_month("2025-09")
    assert page.full_ids_warning.isHidden()
    page.full_ids_check.click()
    assert not page.full_ids_warning.isHidden()
    assert "敏感个人信息" in page.full_ids_warning.text()
    page.output_checks["pdf"].setChecked(False)
    page.export_button.click()
    wait_job(qtbot, page)
    assert (tmp_path / "2025-09_金井镇_月报表.xlsx").exists()
    with demo.session() as s:
        notes = s.scalars(select(AuditLog.note).where(AuditLog.action == "export_full_ids")).all()
    assert len(notes) == 1 and "月报表" in notes[0]
    assert "完整身份证号" in dialogs.text("done")


def test_nothing_chosen_and_cancel(page: ReportsPage, dialogs: Dialogs, qtbot: Any,
                                   tmp_path: Path) -> None:
    for box in page.output_checks.values():
        box.setChecked(False)
    page.export_button.click()
    assert "请至少勾选" in dialogs.text("information") and page.job is None

    page.output_checks["xlsx"].setChecked(True)
    page.output_checks["evidence"].setChecked(True)
    folder = tmp_path / "out"
    folder.mkdir()
    dialogs.folder = str(folder)
    page.export_button.click()
    page.job.cancel()  # as the progress dialog's 取消 does
    wait_job(qtbot, page)
    assert page.job.outcome == "cancelled"
    assert list(folder.iterdir()) == []
    assert page.preview_label.text() == "已取消导出"


def county_template(path: Path, *cells: str) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "月报"
    ws["A1"], ws["B1"] = "{{office.name}}", "{{act.count}}"
    for i, text in enumerate(cells, 2):
        ws[f"B{i}"] = text
    wb.save(path)
    return path


def test_county_template(page: ReportsPage, dialogs: Dialogs, qtbot: Any, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[ProblemsDialog] = []
    monkeypatch.setattr(ProblemsDialog, "exec", lambda d: shown.append(d) or 0)
    page.show_month("2025-09")

    dialogs.open_name = str(county_template(tmp_path / "坏模板.xlsx", "{{act.cont}}", "{{x.y}}"))
    dialogs.save_name = str(tmp_path / "填好.xlsx")
    page.template_button.click()
    wait_job(qtbot, page)
    assert len(shown) == 1 and len(shown[0].problems) == 2
    assert [shown[0].table.item(r, 2).text() for r in range(2)] == ["{{act.cont}}", "{{x.y}}"]
    assert not (tmp_path / "填好.xlsx").exists()

    dialogs.open_name = str(county_template(tmp_path / "县模板.xlsx"))
    page.template_button.click()
    wait_job(qtbot, page)
    assert dialogs.save_defaults[-1].endswith("2025-09_金井镇_县模板.xlsx")
    wb = load_workbook(tmp_path / "填好.xlsx")
    assert wb["月报"]["A1"].value == "金井镇" and isinstance(wb["月报"]["B1"].value, int)
    assert "县级模板报表（Excel）：填好.xlsx" in dialogs.text("done")
    assert page.template_label.text() == "县模板.xlsx"  # remembered for 导出

    # ticked in 导出: the remembered template is filled into the folder too
    folder = tmp_path / "out"
    folder.mkdir()
    dialogs.folder = str(folder)
    page.output_checks["template"].setChecked(True)
    page.output_checks["pdf"].setChecked(False)
    page.export_button.click()
    wait_job(qtbot, page)
    assert sorted(p.name for p in folder.iterdir()) == ["2025-09_金井镇_县模板.xlsx",
                                                        "2025-09_金井镇_月报表.xlsx"]


def test_placeholder_dialog_searches_and_copies(page: ReportsPage, qtbot: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[PlaceholderDialog] = []
    monkeypatch.setattr(PlaceholderDialog, "exec", lambda d: opened.append(d) or 0)
    page.placeholders_button.click()
    dialog = opened[0]
    qtbot.addWidget(dialog)
    everything = dialog.visible_placeholders()
    assert "{{act.count}}" in everything and "{{office.name}}" in everything
    type_text(qtbot, dialog.search_edit, "全国科普日")
    found = dialog.visible_placeholders()
    assert found == ["{{camp.全国科普日.count}}", "{{camp.全国科普日.attend}}"]
    row = next(r for r in range(dialog.table.rowCount()) if not dialog.table.isRowHidden(r))
    dialog.table.selectRow(row)
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == "{{camp.全国科普日.count}}"
    assert "已复制" in dialog.status_label.text()
    dialog.search_edit.clear()
    assert dialog.visible_placeholders() == everything


def test_reports_page_is_keyboard_reachable(page: ReportsPage) -> None:
    for widget in (page.month_list, page.reporter_edit, page.preview_button, page.export_button,
                   page.submit_button, page.full_ids_check):
        assert widget.focusPolicy() & Qt.FocusPolicy.TabFocus
