"""The monthly return workbook, read back with openpyxl: numbers, text rules, print setup."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet import _writer
from openpyxl.worksheet.worksheet import Worksheet

from db.activities import ActivityInput, create_activity
from db.catalogs import find_entry
from db.database import Database
from db.demo import generate_demo
from db.errors import KepuError
from db.exports import ActivityRecord
from db.idcard import make_id_number
from db.offices import OfficeInfo
from db.periods import Period
from db.reporting import reopen_month, submit_month
from db.trainees import TraineeInput, add_person_to_roster
from reports import excel, xlsx_style
from reports.excel import SHEET_ACTIVITIES, SHEET_ROSTER, SHEET_SUMMARY, write_return
from reports.figures import figures_to_dict
from reports.report_data import ReportData, build_report_data

SEP = dt.date(2025, 9, 16)
TRICKY_TITLES = ("=1+1", '=HYPERLINK("http://example.com","点我")', "+86 热线", "-5℃ 防寒",
                 "@所有人", "\t制表符开头", " 前后空格 ", "A&B <讲座> \"引号\"")


def _data(db: Database, office: OfficeInfo, period: str = "2025-09",
          **kwargs: object) -> ReportData:
    return build_report_data(db, office, Period.parse(period), reporter="张三", reviewer="李四",
                             phone="0595-85123456", report_date=dt.date(2025, 10, 5),
                             **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def demo(db: Database, office: OfficeInfo) -> Database:
    generate_demo(db, office, year=2025, scale="small")
    return db


@pytest.fixture
def data(demo: Database, office: OfficeInfo) -> ReportData:
    return _data(demo, office)


@pytest.fixture
def book(data: ReportData, tmp_path: Path) -> Iterator[object]:
    path = write_return(data, tmp_path / "月报.xlsx")
    wb = load_workbook(path)
    yield wb
    wb.close()


def _summary_rows(ws: Worksheet) -> dict[str, tuple]:
    """code → the row's cells, for every indicator row of the 汇总表."""
    rows = {}
    for row in ws.iter_rows(min_row=5):
        code = row[2].value
        if isinstance(code, str) and "." in code:
            assert code not in rows, f"{code} twice"
            rows[code] = row
    return rows


# --- 汇总表 ------------------------------------------------------------------------------
def test_summary_values_are_the_figures(book, data: ReportData) -> None:
    expected = figures_to_dict(data.figures)["figures"]
    rows = _summary_rows(book[SHEET_SUMMARY])
    assert list(rows) == list(expected)  # every code once, in report order
    seen_dash = seen_zero = seen_rate = 0
    for code, values in expected.items():
        cells = rows[code]
        figure = data.figures[code]
        assert cells[1].value == figure.name and cells[3].value == figure.unit
        for cell, which in zip(cells[4:8], ("period", "ytd", "target", "rate"), strict=True):
            want = values[which]
            if want is None:
                assert cell.value == "-" and cell.data_type == "s", (code, which)
                seen_dash += 1
                continue
            assert isinstance(cell.value, int | float), (code, which, cell.value)
            assert cell.value == want, (code, which)
            seen_zero += want == 0
            if which == "rate":
                assert cell.number_format == "0.0%"
                seen_rate += 1
            elif figure.kind in ("money", "per_capita"):
                assert cell.number_format == "0.00"
            elif isinstance(want, int):
                assert cell.number_format == "0"
            else:
                assert re.fullmatch(r"0\.0+", cell.number_format)
    assert seen_dash and seen_zero and seen_rate  # the demo exercises all three


def test_summary_sections_and_numbering(book, data: ReportData) -> None:
    ws = book[SHEET_SUMMARY]
    assert [c.value for c in ws[4]] == list(excel.SUMMARY_HEADERS)
    sections = [r[0].value for r in ws.iter_rows(min_row=5) if r[0].value and
                isinstance(r[0].value, str) and "、" in r[0].value[:3]]
    wanted = list(dict.fromkeys(f.section for f in data.figures.items.values()))
    assert [s.split("、", 1)[1] for s in sections] == wanted
    assert sections[0] == "一、科普活动"
    numbers = [r[0].value for r in ws.iter_rows(min_row=5) if isinstance(r[0].value, int)]
    assert numbers == list(range(1, len(data.figures.items) + 1))


def test_summary_header_block(book) -> None:
    ws = book[SHEET_SUMMARY]
    assert ws["A1"].value == "金井镇2025年9月科普工作月报表"
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert "A1:H1" in merged
    texts = [c.value for row in ws.iter_rows(max_row=3) for c in row if c.value]
    joined = " ".join(texts)
    for part in ("填报单位：金井镇", "行政区划代码：350582103", "报表期：2025年9月",
                 "填报人：张三", "审核人：李四", "联系电话：0595-85123456",
                 "报送日期：2025年10月5日"):
        assert part in joined
    tail = [c.value for row in ws.iter_rows(min_row=ws.max_row - 2) for c in row if c.value]
    assert any(str(t).startswith("单位负责人签字（盖章）：") for t in tail)
    assert ws["A1"].font.bold and ws["A4"].font.bold
    for cell in (ws["A1"], ws["A2"], ws["B6"], ws["E6"]):
        assert cell.font.name == "宋体"


def test_revision_in_title_after_reopen(demo: Database, office: OfficeInfo,
                                        tmp_path: Path) -> None:
    submit_month(demo, office, "2025-09", today=dt.date(2025, 10, 6))
    reopen_month(demo, office, "2025-09", "更正全国科普日人次")
    path = write_return(_data(demo, office), tmp_path / "r.xlsx")
    wb = load_workbook(path)
    assert wb[SHEET_SUMMARY]["A1"].value == "金井镇2025年9月科普工作月报表（第1次修订）"


def test_quarter_and_year_titles(data: ReportData) -> None:
    q = dataclasses.replace(data.header, period_key="2025-Q3", period_label="2025年第三季度")
    assert excel.return_title(q) == "金井镇2025年第三季度科普工作季度报表"
    y = dataclasses.replace(data.header, period_key="2025", period_label="2025年", revision=2)
    assert excel.return_title(y) == "金井镇2025年科普工作年度报表（第2次修订）"


# --- 活动明细 ------------------------------------------------------------------------------
def test_activity_rows(book, data: ReportData) -> None:
    ws = book[SHEET_ACTIVITIES]
    assert ws["A1"].value == "金井镇2025年9月科普活动明细"
    headers = [c.value for c in ws[2]]
    assert headers == [c.header for c in excel.ACTIVITY_COLUMNS]
    for name in ("日期", "结束日期", "活动名称", "活动形式", "主题活动", "线上", "村/社区", "地点",
                 "科普阵地", "主办单位", "协办单位", "参与人次", "线上浏览量", "重点人群",
                 "主题领域", "重点工程", "志愿者人次", "服务时长", "发放资料", "媒体报道",
                 "经费（元）", "培训学时", "花名册人数", "佐证材料数", "活动简介"):
        assert name in headers
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    assert len(rows) == len(data.activities) > 0
    col = {h: i for i, h in enumerate(headers)}
    for row, a in zip(rows, data.activities, strict=True):
        assert row[col["日期"]].date() == a.start_date
        assert row[col["结束日期"]].date() == a.end_date
        assert row[col["活动名称"]] == a.title
        assert row[col["线上"]] == ("是" if a.online else "否")
        assert row[col["参与人次"]] == ("-" if a.online else a.attend)
        assert row[col["线上浏览量"]] == a.views
        assert row[col["经费（元）"]] == pytest.approx(a.spending_fen / 100, abs=1e-9)
        assert row[col["服务时长"]] == a.volunteer_hours_x10 / 10
        assert row[col["佐证材料数"]] == a.evidence
        assert row[col["活动简介"]] == (a.description or None)
        if a.form_code == "培训":
            assert row[col["培训学时"]] == a.train_hours_x10 / 10
            assert row[col["花名册人数"]] == a.roster_size
        else:
            assert row[col["培训学时"]] == "-" and row[col["花名册人数"]] == "-"
    assert ws["B3"].number_format == "yyyy-mm-dd"
    assert ws["A3"].border.left.style == "thin" and ws["Z3"].border.bottom.style == "thin"
    assert ws.auto_filter.ref == f"A2:Z{len(rows) + 2}"


def test_user_text_is_never_a_formula(db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    with db.session() as s:
        lecture = find_entry(s, "form", "讲座").id
    for title in TRICKY_TITLES:
        create_activity(db, office, ActivityInput(
            title=title, start_date=SEP, end_date=SEP, form_id=lecture, attend=10,
            organizer="=A1", description="=cmd|' /C calc'!A0"))
    data = _data(db, office)
    wb = load_workbook(write_return(data, tmp_path / "r.xlsx"))
    ws = wb[SHEET_ACTIVITIES]
    titles = {}
    for row in ws.iter_rows(min_row=3):
        cell = row[3]
        assert cell.data_type == "s", cell.value
        titles[cell.value] = cell
        assert row[10].value == "=A1" and row[10].data_type == "s"
        assert row[25].value == "=cmd|' /C calc'!A0" and row[25].data_type == "s"
    stored = {a.title for a in data.activities}
    assert set(titles) == stored  # the titles exactly as the database holds them
    assert "=1+1" in titles and '=HYPERLINK("http://example.com","点我")' in titles


def test_text_edge_cases_round_trip(data: ReportData, tmp_path: Path) -> None:
    base = data.activities[0]
    texts = ["多行\r\n简介\n第三行", "控制\x07字符\x0b去掉", "  前导空格", "末尾空格  ", "a&b<c>d",
             "生僻字𡉃堃", "x" * 40_000]
    acts = tuple(dataclasses.replace(base, id=str(i), description=t) for i, t in enumerate(texts))
    wb = load_workbook(write_return(dataclasses.replace(data, activities=acts),
                                    tmp_path / "r.xlsx"))
    got = [r[25].value for r in wb[SHEET_ACTIVITIES].iter_rows(min_row=3)]
    assert got[:6] == ["多行\n简介\n第三行", "控制字符去掉", "  前导空格", "末尾空格  ", "a&b<c>d",
                       "生僻字𡉃堃"]
    assert len(got[6]) == xlsx_style.MAX_CELL_TEXT and got[6].endswith("…")


# --- 培训花名册 -----------------------------------------------------------------------------
def _roster_with_known_person(db: Database, office: OfficeInfo) -> str:
    with db.session() as s:
        training = find_entry(s, "form", "培训").id
    tid = create_activity(db, office, ActivityInput(
        title="智慧助老培训", start_date=SEP, end_date=SEP, form_id=training,
        train_hours_x10=25))
    number = make_id_number("350582", dt.date(1955, 3, 12), 2)
    add_person_to_roster(db, office, tid, TraineeInput(name="王秀英", id_number=number,
                                                       phone="13812345678"))
    return number


def test_roster_ids_and_phones_are_masked_text(db: Database, office: OfficeInfo,
                                               tmp_path: Path) -> None:
    number = _roster_with_known_person(db, office)
    data = _data(db, office)
    ws = load_workbook(write_return(data, tmp_path / "r.xlsx"))[SHEET_ROSTER]
    headers = [c.value for c in ws[2]]
    assert headers == ["序号", "培训名称", "日期", "姓名", "性别", "身份证号", "出生日期", "类别",
                       "村/社区", "联系电话", "工作单位", "学时"]
    row = ws[3]
    id_cell, phone_cell = row[5], row[9]
    assert id_cell.value == number[:6] + "********" + number[-4:]
    assert re.fullmatch(r"350582\*{8}\d{3}[\dX]", id_cell.value)
    assert id_cell.data_type == "s" and id_cell.number_format == "@"
    assert phone_cell.value == "138****5678"
    assert phone_cell.data_type == "s" and phone_cell.number_format == "@"
    assert row[3].value == "王秀英" and row[4].value == "女"
    assert row[6].value.date() == dt.date(1955, 3, 12)
    assert row[11].value == 2.5


def test_roster_full_ids_stay_text(db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    number = _roster_with_known_person(db, office)
    data = _data(db, office, full_ids=True)
    ws = load_workbook(write_return(data, tmp_path / "r.xlsx"))[SHEET_ROSTER]
    id_cell, phone_cell = ws["F3"], ws["J3"]
    assert id_cell.value == number and isinstance(id_cell.value, str)
    assert id_cell.number_format == "@"
    assert phone_cell.value == "13812345678" and isinstance(phone_cell.value, str)


def test_demo_roster_rows(book, data: ReportData) -> None:
    ws = book[SHEET_ROSTER]
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    assert len(rows) == len(data.roster) > 0
    for row, r in zip(rows, data.roster, strict=True):
        assert row[1] == r.training and row[3] == r.name
        assert row[5] == (data.id_text(r) or None)
        assert row[9] == (data.phone_text(r) or None)


def test_empty_period(db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    data = _data(db, office, "2025-02")
    wb = load_workbook(write_return(data, tmp_path / "r.xlsx"))
    assert wb[SHEET_ACTIVITIES]["A3"].value == "本期没有科普活动记录"
    assert wb[SHEET_ROSTER]["A3"].value == "本期没有培训花名册记录"
    rows = _summary_rows(wb[SHEET_SUMMARY])
    assert rows["act.count"][4].value == 0 and rows["act.count"][5].value == 0


# --- print layout ------------------------------------------------------------------------
def test_print_setup_on_every_sheet(book) -> None:
    assert book.sheetnames == [SHEET_SUMMARY, SHEET_ACTIVITIES, SHEET_ROSTER]
    for ws in book.worksheets:
        ps = ws.page_setup
        assert ps.orientation == "landscape", ws.title
        assert int(ps.paperSize) == 9
        assert ps.fitToWidth == 1 and ps.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows
        assert ws.freeze_panes
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
        widths = [d.width for d in ws.column_dimensions.values()]
        assert widths and all(4 <= w <= 45 for w in widths)
    assert book[SHEET_SUMMARY].print_title_rows == "$4:$4"
    assert book[SHEET_SUMMARY].freeze_panes == "A5"
    assert book[SHEET_SUMMARY].HeaderFooter.differentFirst  # title on later pages' header
    assert book[SHEET_ACTIVITIES].print_title_rows == "$1:$2"
    assert book[SHEET_ACTIVITIES].freeze_panes == "E3"


def test_default_font_is_song(book) -> None:
    assert book._fonts[0].name == "宋体"


def test_column_widths_fit_chinese_text() -> None:
    assert xlsx_style.text_width("科普") == 4
    assert xlsx_style.text_width("ab12") == 4
    assert xlsx_style.text_width("“三下乡”") == 10
    assert xlsx_style.fit_width(["科普讲座"], "活动形式", cap=30) == 8 + xlsx_style.PADDING
    assert xlsx_style.fit_width(["x" * 100], "名称", cap=30) == 30
    # a long header over short numbers wraps instead of widening the column
    assert xlsx_style.fit_width([12], "线上浏览量", cap=30, minimum=5) == 6 + xlsx_style.PADDING


def test_wrapped_rows_get_a_height() -> None:
    heights = xlsx_style.RowHeights([10, 10], [1])
    assert heights(["很长很长很长很长很长很长很长", "短"]) is None  # column 0 does not wrap
    assert heights(["x", "很长很长很长很长"]) == 2 * xlsx_style.LINE_HEIGHT + 2
    assert heights(["x", "一\n二\n三"]) == 3 * xlsx_style.LINE_HEIGHT + 2


# --- the two row writers -----------------------------------------------------------------
def test_fallback_cell_writer_gives_the_same_file_content(
        data: ReportData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = data.activities[0]
    acts = (*data.activities, *(dataclasses.replace(base, id=f"t{i}", title=t)
                                for i, t in enumerate(TRICKY_TITLES)))
    data = dataclasses.replace(data, activities=acts)
    fast = load_workbook(write_return(data, tmp_path / "fast.xlsx"))
    monkeypatch.setattr(xlsx_style, "RAW_ROWS", False)
    slow = load_workbook(write_return(data, tmp_path / "slow.xlsx"))
    for name in fast.sheetnames:
        a, b = fast[name], slow[name]
        assert a.max_row == b.max_row and a.max_column == b.max_column
        for ra, rb in zip(a.iter_rows(), b.iter_rows(), strict=True):
            for ca, cb in zip(ra, rb, strict=True):
                assert (ca.value, ca.data_type, ca.number_format, ca.style_id) == (
                    cb.value, cb.data_type, cb.number_format, cb.style_id), ca.coordinate
        assert [(k, d.height) for k, d in a.row_dimensions.items()] == [
            (k, d.height) for k, d in b.row_dimensions.items()]


def test_rows_in_bulk_give_the_same_xml_as_one_by_one() -> None:
    """RowSink.append_columns (rows joined from per-value pieces) writes the XML of each
    cell one after the other, whether rows come in batches of columns or alone."""
    from decimal import Decimal

    texts = [*TRICKY_TITLES, "", "一\n 二", "尾随换行\n", "\x07响铃", "坑口村", "坑口村",
             "x" * 40_000, "\ud800孤立代理"]
    rows = [(n, texts[n % len(texts)], dt.date(2025, 9, 1 + n % 28), None if n % 3 else "男",
             Decimal("2.5") if n % 4 else Decimal(3), 1.5 if n % 2 else 2, texts[-n % len(texts)])
            for n in range(1, 200)]
    styles = [3, 4, 5, 6, 7, 8, 9]

    class Stream(xlsx_style.RowSink):
        def __init__(self) -> None:  # only what the XML writers use
            self._letters = [f"{c}" for c in "ABCDEFGHIJ"]
            self._pieces_for = None
            self.rows, self.out = 2, []
            self._write = self.out.append

    heights = xlsx_style.RowHeights([10] * 7, [1, 6])

    def row_xml(number: int, row: tuple, height: float | None) -> str:
        tall = f' ht="{height}" customHeight="1"' if height else ""
        return (f'<row r="{number}"{tall}>' + "".join(
            f'<c r="{"ABCDEFG"[i]}{number}' + xlsx_style._any_tail(v, f'" s="{styles[i]}"')
            for i, v in enumerate(row)) + "</row>")

    expected = "".join(row_xml(i, row, heights(row)) for i, row in enumerate(rows, 3))
    one = Stream()
    for row in rows:
        one.append(row, styles, heights(row))
    assert "".join(one.out) == expected
    bulk = Stream()
    for part in (rows[:50], rows[50:]):
        columns = list(zip(*part))
        bulk.append_columns(columns, styles, heights.of_columns(columns))
    assert "".join(bulk.out) == expected
    assert bulk.rows == 2 + len(rows)
    every = list(zip(*rows))
    assert heights.of_columns(every) == [heights(row) for row in rows]
    assert any(h for h in heights.of_columns(every))
    assert heights.of_columns([]) == [] and heights.of_columns([(), ()]) == []


# --- failures ----------------------------------------------------------------------------
def test_failed_write_leaves_no_file(data: ReportData, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    real_append = xlsx_style.RowSink.append_columns

    def broken(sink: xlsx_style.RowSink, *args: object) -> None:
        if sink.ws.title == excel.SHEET_ROSTER:  # the activity sheet is already written
            raise RuntimeError("disk on fire")
        real_append(sink, *args)

    monkeypatch.setattr(xlsx_style.RowSink, "append_columns", broken)
    leftovers = set(_writer.ALL_TEMP_FILES)
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "月报.xlsx"
    with pytest.raises(RuntimeError):
        write_return(data, target)
    assert list(folder.iterdir()) == []

    target.write_bytes(b"the previous return")
    with pytest.raises(RuntimeError):
        write_return(data, target)
    assert target.read_bytes() == b"the previous return"
    assert list(folder.iterdir()) == [target]
    assert set(_writer.ALL_TEMP_FILES) == leftovers  # openpyxl's sheet files are gone too


def test_file_open_in_excel(data: ReportData, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(xlsx_style.os, "replace", refuse)
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "月报.xlsx"
    with pytest.raises(KepuError) as err:
        write_return(data, target)
    assert str(err.value) == (f"无法写入“{target}”：文件可能正在被 Excel/WPS 打开，请关闭后重试")
    assert list(folder.iterdir()) == []


def test_missing_folder(data: ReportData, tmp_path: Path) -> None:
    with pytest.raises(KepuError, match="不存在"):
        write_return(data, tmp_path / "nope" / "r.xlsx")


def test_progress_reports(data: ReportData, tmp_path: Path) -> None:
    seen: list[tuple[int, str]] = []
    write_return(data, tmp_path / "r.xlsx", progress=lambda p, m: seen.append((p, m)))
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[0] == 0 and percents[-1] == 100
    assert all(isinstance(m, str) and m for _, m in seen)


def test_number_cells() -> None:
    from decimal import Decimal

    assert xlsx_style.number_cell(None, "count") == ("-", "General")
    assert xlsx_style.number_cell(0, "count") == (0, "0")
    assert xlsx_style.number_cell(Decimal("12.5"), "hours") == (12.5, "0.0")
    assert xlsx_style.number_cell(12, "hours") == (12, "0")
    assert xlsx_style.number_cell(Decimal("2.00"), "per_capita") == (2.0, "0.00")
    assert xlsx_style.number_cell(Decimal("2.25"), "count") == (2.25, "0.00")
    assert xlsx_style.rate_cell(Decimal("0.7512")) == (0.7512, "0.0%")
    assert xlsx_style.rate_cell(None) == ("-", "General")


def test_activity_record_fields_all_shown() -> None:
    """Every recorded field of an activity has a column (ids and derived codes aside)."""
    shown = {"start_date", "end_date", "title", "form", "campaign", "online", "village",
             "address", "site", "organizer", "co_organizers", "attend", "views", "groups",
             "topics", "projects", "volunteers", "volunteer_hours_x10", "materials",
             "media_reports", "spending_fen", "train_hours_x10", "roster_size", "evidence",
             "description"}
    internal = {"id", "form_code", "entered_attend"}
    assert {f.name for f in dataclasses.fields(ActivityRecord)} == shown | internal


def test_activity_list_of_a_year(demo: Database, office: OfficeInfo, tmp_path: Path) -> None:
    data = _data(demo, office, "2025")
    path = excel.write_activity_list(data, tmp_path / "活动.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == [SHEET_ACTIVITIES]
    ws = wb[SHEET_ACTIVITIES]
    assert ws["A1"].value == "金井镇2025年科普活动明细"
    assert ws.max_row - 2 == len(data.activities) == data.figures["act.count"].period
