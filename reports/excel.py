"""The monthly return (月报表) as an .xlsx workbook: 汇总表, 活动明细, 培训花名册.

Everything shown comes from a :class:`~reports.report_data.ReportData`; nothing
is counted here. The workbook is written in openpyxl's write-only mode (a year
of records streams through in seconds with little memory) to a temporary file
beside the target, which replaces the target only when complete.

Print layout: A4 landscape, one page wide (as many pages tall as needed), the
column header row repeated on every page, frozen panes, thin borders, 宋体.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from db.exports import ActivityRecord, RosterRecord
from db.indicators import Figure
from reports import xlsx_style as xs
from reports.report_data import ReportData, ReportHeader
from reports.xlsx_style import CellValue, Progress, StyleBook

TRAINING_FORM = "培训"  # the 活动形式 code of trainings (db/indicators.py counts the same)
SHEET_SUMMARY = "汇总表"
SHEET_ACTIVITIES = "活动明细"
SHEET_ROSTER = "培训花名册"
SUMMARY_HEADERS = ("序号", "指标", "代码", "单位", "本期", "本年累计", "年度目标", "完成率")
SECTION_NUMBERS = "一二三四五六七八九十"
PROGRESS_EVERY = 2000
ROW_HEIGHT = 18  # points: a summary row with room around 11-point text


def _noop(_percent: int, _message: str) -> None:
    pass


def return_title(header: ReportHeader) -> str:
    """金井镇2025年9月科普工作月报表（第1次修订）."""
    key = header.period_key
    kind = "季度报表" if "Q" in key.upper() else "年度报表" if len(key) == 4 else "月报表"
    title = f"{header.office_name}{header.period_label}科普工作{kind}"
    return f"{title}（{header.revision_label}）" if header.revision else title


def write_return(data: ReportData, path: Path, *, progress: Progress | None = None,
                 while_saving: Callable[[], object] | None = None) -> Path:
    """Write the period's return workbook to ``path`` (replaced only when complete).

    Args:
        data: the period's report data.
        path: the .xlsx file to write.
        progress: called with (percent, Chinese message) now and then.
        while_saving: other work (e.g. drawing the PDF summary) to run on this thread
            while the finished workbook is compressed on another; if it raises, the
            workbook is not written and its error is raised.

    Returns:
        ``path``.

    Raises:
        KepuError: the file cannot be written (open in Excel/WPS, no permission…).

    """
    report = progress or _noop

    def fill(wb: Workbook, book: StyleBook) -> None:
        wb.properties.title = return_title(data.header)
        report(0, "正在写入汇总表…")
        _summary_sheet(wb, book, data)
        total = max(len(data.activities) + len(data.roster), 1)
        span = 90 * len(data.activities) // total
        report(5, "正在写入活动明细…")
        _activity_sheet(wb, book, data, _scaled(report, 5, span, "活动明细"))
        report(5 + span, "正在写入培训花名册…")
        _roster_sheet(wb, book, data, _scaled(report, 5 + span, 90 - span, "培训花名册"))

    return _save_new(Path(path), fill, report, "月报表已生成", while_saving)


def write_activity_list(data: ReportData, path: Path, *,
                        progress: Progress | None = None) -> Path:
    """Write only the 活动明细 sheet (e.g. a year's activities) to ``path``.

    Same layout as the return's 活动明细; raises like :func:`write_return`.
    """
    report = progress or _noop

    def fill(wb: Workbook, book: StyleBook) -> None:
        _activity_sheet(wb, book, data, _scaled(report, 0, 95, "活动明细"))

    return _save_new(Path(path), fill, report, "活动明细已生成")


def _save_new(path: Path, fill: Callable[[Workbook, StyleBook], None], report: Progress,
              done: str, while_saving: Callable[[], object] | None = None) -> Path:
    """Build a write-only workbook with ``fill`` and save it safely to ``path``."""
    def build(tmp: Path) -> None:
        wb = Workbook(write_only=True)
        try:
            xs.use_default_font(wb)
            wb.properties.creator = "科普台账"
            fill(wb, StyleBook(wb))
            report(95, "正在保存文件…")
            if while_saving is None:
                xs.save_workbook(wb, tmp)
            else:
                xs.save_workbook_while(wb, tmp, while_saving)
        except BaseException:
            xs.discard_workbook(wb)  # its sheets' temporary files
            raise

    xs.atomic_save(path, build)
    report(100, done)
    return path


def _scaled(report: Progress, start: int, span: int, label: str) -> Callable[[int, int], None]:
    def step(done: int, total: int) -> None:
        report(start + span * done // max(total, 1), f"正在写入{label}（{done:,}/{total:,} 行）…")
    return step


# --- 汇总表 ------------------------------------------------------------------------------
class _SummaryStyles:
    def __init__(self, book: StyleBook) -> None:
        body, bold = xs.font(11), xs.font(11, bold=True)
        self.book = book
        self.body = body
        self.title = book.get(fnt=xs.font(18, bold=True), border=xs.NO_BORDER,
                              align=xs.CENTER_NOWRAP)
        self.info = book.get(fnt=body, border=xs.NO_BORDER, align=xs.LEFT_NOWRAP)
        self.header = book.get(fnt=bold, align=xs.CENTER, fill=xs.HEADER_FILL)
        self.section = book.get(fnt=bold, align=xs.LEFT_NOWRAP, fill=xs.SECTION_FILL)
        self.number = book.get(fnt=body, align=xs.CENTER_NOWRAP)
        self.name = book.get(fnt=body, align=xs.LEFT)
        self.unit = book.get(fnt=body, align=xs.CENTER_NOWRAP)
        self.note = book.get(fnt=xs.font(10), border=xs.NO_BORDER, align=xs.LEFT)
        self.sign = book.get(fnt=xs.font(12), border=xs.NO_BORDER,
                             align=Alignment(horizontal="left", vertical="bottom"))

    def value(self, fmt: str) -> int:
        return self.book.get(fnt=self.body, align=xs.RIGHT, fmt=fmt)


def _blank(text: str) -> str:
    return text or "\u3000" * 6  # room to write by hand


def summary_rows(data: ReportData) -> Iterator[tuple[str, list[Figure]]]:
    """The indicators grouped by section, in report order."""
    section: str | None = None
    group: list[Figure] = []
    for f in data.figures.items.values():
        if f.section != section:
            if group:
                yield section or "", group
            section, group = f.section, []
        group.append(f)
    if group:
        yield section or "", group


def _summary_sheet(wb: Workbook, book: StyleBook, data: ReportData) -> None:
    h = data.header
    st = _SummaryStyles(book)
    title = return_title(h)
    ws = wb.create_sheet(SHEET_SUMMARY)
    figures = list(data.figures.items.values())
    widths = [
        6,
        xs.fit_width((f.name for f in figures), "指标", cap=34, minimum=18),
        xs.fit_width((f.code for f in figures), "代码", cap=32, minimum=14),
        8, 13, 13, 13, 12,
    ]
    xs.set_widths(ws, widths)
    height = xs.RowHeights(widths, (1, 2), line=14.5)
    xs.setup_page(ws, title_rows="4:4", freeze="A5", page_header=title)
    merge = ws.merged_cells.add
    sink = xs.RowSink(ws)
    ncols = len(SUMMARY_HEADERS)

    sink.append([title] + [None] * (ncols - 1), [st.title] * ncols, height=36)
    merge("A1:H1")
    unit = f"填报单位：{h.office_name}（行政区划代码：{h.office_code}）"
    sink.append([unit, None, None, f"报表期：{h.period_label}", None, None, None, None],
                [st.info] * ncols, height=24)
    merge("A2:C2")
    merge("D2:H2")
    sink.append([f"填报人：{_blank(h.reporter)}", None, f"审核人：{_blank(h.reviewer)}",
                 f"联系电话：{_blank(h.phone)}", None, None,
                 f"报送日期：{xs.format_date_cn(h.report_date)}", None],
                [st.info] * ncols, height=24)
    merge("A3:B3")
    merge("D3:F3")
    merge("G3:H3")
    sink.append(list(SUMMARY_HEADERS), [st.header] * ncols, height=26)

    seq = 0
    for number, (section, group) in enumerate(summary_rows(data)):
        label = SECTION_NUMBERS[number] if number < len(SECTION_NUMBERS) else str(number + 1)
        sink.append([f"{label}、{section}"] + [None] * (ncols - 1), [st.section] * ncols,
                    ROW_HEIGHT)
        merge(f"A{sink.rows}:H{sink.rows}")
        for f in group:
            seq += 1
            values: list[CellValue] = [seq, f.name, f.code, f.unit]
            styles = [st.number, st.name, st.name, st.unit]
            for raw in (f.period, f.ytd, f.target):
                value, fmt = xs.number_cell(raw, f.kind)
                values.append(value)
                styles.append(st.value(fmt))
            value, fmt = xs.rate_cell(f.rate)
            values.append(value)
            styles.append(st.value(fmt))
            sink.append(values, styles, height(values) or ROW_HEIGHT)

    note = (f"说明：本期为{h.period_label}；本年累计自1月1日起至报表期末；“0”表示没有发生，"
            "“-”表示不适用或未设年度目标；完成率＝本年累计÷年度目标；"
            f"人均科普经费按常住人口{data.figures.population}人计算。")
    sink.append([note] + [None] * (ncols - 1), [st.note] * ncols, height=32)
    merge(f"A{sink.rows}:H{sink.rows}")
    sink.append(["单位负责人签字（盖章）：", None, None, None,
                 "日期：\u3000\u3000\u3000\u3000年\u3000\u3000月\u3000\u3000日", None, None, None],
                [st.sign] * ncols, height=48)
    merge(f"A{sink.rows}:D{sink.rows}")
    merge(f"E{sink.rows}:H{sink.rows}")


# --- detail sheets ----------------------------------------------------------------------
@dataclass(frozen=True)
class _Col:
    """A detail column: header, cell style kind, and width (fixed or measured)."""

    header: str
    style: str  # a key of _detail_styles
    width: float = 10
    measure: str = ""  # record attribute whose widest value sets the width
    cap: float = 30


def _detail_styles(book: StyleBook) -> dict[str, int]:
    body = xs.font(10)
    return {
        "title": book.get(fnt=xs.font(16, bold=True), border=xs.NO_BORDER,
                          align=xs.CENTER_NOWRAP),
        "header": book.get(fnt=xs.font(10, bold=True), align=xs.CENTER, fill=xs.HEADER_FILL),
        "text": book.get(fnt=body, align=xs.LEFT),
        "center": book.get(fnt=body, align=xs.CENTER_NOWRAP),
        "int": book.get(fnt=body, align=xs.RIGHT, fmt="0"),
        "num": book.get(fnt=body, align=xs.RIGHT),  # General: 2 or 2.5 as they are
        "money": book.get(fnt=body, align=xs.RIGHT, fmt="0.00"),
        "date": book.get(fnt=body, align=xs.CENTER_NOWRAP, fmt=xs.DATE_FORMAT),
        "textcode": book.get(fnt=body, align=xs.LEFT_NOWRAP, fmt=xs.TEXT_FORMAT),
    }


ACTIVITY_COLUMNS = (
    _Col("序号", "center", 5),
    _Col("日期", "date", 10.5),
    _Col("结束日期", "date", 10.5),
    _Col("活动名称", "text", measure="title", cap=16),
    _Col("活动形式", "text", measure="form", cap=9),
    _Col("主题活动", "text", measure="campaign", cap=9),
    _Col("线上", "center", 5),
    _Col("村/社区", "text", measure="village", cap=9),
    _Col("地点", "text", measure="address", cap=11),
    _Col("科普阵地", "text", measure="site", cap=9),
    _Col("主办单位", "text", measure="organizer", cap=9),
    _Col("协办单位", "text", measure="co_organizers", cap=9),
    _Col("参与人次", "int", measure="attend", cap=9),
    _Col("线上浏览量", "int", measure="views", cap=9),
    _Col("重点人群", "text", measure="groups", cap=11),
    _Col("主题领域", "text", measure="topics", cap=11),
    _Col("重点工程", "text", measure="projects", cap=9),
    _Col("志愿者人次", "int", measure="volunteers", cap=8),
    _Col("服务时长", "num", 5.5),
    _Col("发放资料", "int", measure="materials", cap=8),
    _Col("媒体报道", "int", measure="media_reports", cap=6),
    _Col("经费（元）", "money", measure="spending_fen", cap=12),
    _Col("培训学时", "num", 5.5),
    _Col("花名册人数", "int", measure="roster_size", cap=8),
    _Col("佐证材料数", "int", measure="evidence", cap=8),
    _Col("活动简介", "text", measure="description", cap=40),
)

ROSTER_COLUMNS = (
    _Col("序号", "center", 6),
    _Col("培训名称", "text", measure="training", cap=36),
    _Col("日期", "date", 10.5),
    _Col("姓名", "text", measure="name", cap=10),
    _Col("性别", "center", 5),
    _Col("身份证号", "textcode", 20),
    _Col("出生日期", "date", 10.5),
    _Col("类别", "text", measure="category", cap=16),
    _Col("村/社区", "text", measure="village", cap=10),
    _Col("联系电话", "textcode", 13.5),
    _Col("工作单位", "text", measure="employer", cap=24),
    _Col("学时", "num", 5),
)


def _hours(x10: int) -> int | float:
    """Tenths of an hour as a number: 20 → 2, 25 → 2.5."""
    return x10 // 10 if x10 % 10 == 0 else x10 / 10


def activity_row(seq: int, a: ActivityRecord) -> tuple[CellValue, ...]:
    """One 活动明细 row; "-" where a figure does not apply (人次 online, 学时 not a training)."""
    training = a.form_code == TRAINING_FORM
    return (
        seq, a.start_date, a.end_date, a.title, a.form, a.campaign,
        "是" if a.online else "否", a.village, a.address, a.site, a.organizer, a.co_organizers,
        "-" if a.online else a.attend, a.views, a.groups, a.topics, a.projects,
        a.volunteers, _hours(a.volunteer_hours_x10), a.materials, a.media_reports,
        a.spending_fen / 100,
        _hours(a.train_hours_x10) if training else "-",
        a.roster_size if training else "-",
        a.evidence, a.description,
    )


def _widths(columns: Sequence[_Col], records: Sequence[Any]) -> list[float]:
    widths = []
    for col in columns:
        if col.measure:
            values = set(map(attrgetter(col.measure), records))
            if col.measure == "spending_fen":
                values = {f"{v / 100:.2f}" for v in values}
            widths.append(xs.fit_width(values, col.header, col.cap, minimum=5))
        elif col.header == "序号":
            widths.append(max(col.width, len(str(len(records))) + xs.PADDING + 0.5))
        else:
            widths.append(col.width)
    return widths


def _detail_sheet(wb: Workbook, book: StyleBook, *, name: str, title: str,
                  columns: Sequence[_Col], records: Sequence[Any],
                  values: Sequence[Sequence[CellValue]], step: Callable[[int, int], None],
                  empty: str) -> None:
    """A sheet of one row per record; ``values[c][i]`` is column c of record i."""
    styles = _detail_styles(book)
    ws = wb.create_sheet(name)
    ncols = len(columns)
    last = get_column_letter(ncols)
    widths = _widths(columns, records)
    xs.set_widths(ws, widths)
    xs.setup_page(ws, title_rows="1:2", freeze="E3")
    sink = xs.RowSink(ws)
    sink.append([title] + [None] * (ncols - 1), [styles["title"]] * ncols, height=30)
    ws.merged_cells.add(f"A1:{last}1")
    headers = [c.header for c in columns]
    header_height = xs.RowHeights(widths, range(ncols), extra=6)(headers)
    sink.append(headers, [styles["header"]] * ncols, height=header_height or 20)
    height = xs.RowHeights(widths, [i for i, c in enumerate(columns) if c.style == "text"])
    row_styles = [styles[c.style] for c in columns]
    total = len(records)
    for start in range(0, total, PROGRESS_EVERY):
        batch = [column[start:start + PROGRESS_EVERY] for column in values]
        sink.append_columns(batch, row_styles, height.of_columns(batch))
        step(min(start + PROGRESS_EVERY, total), total)
    if total:
        ws.auto_filter.ref = f"A2:{last}{total + 2}"
    else:
        sink.append([empty] + [None] * (ncols - 1), [styles["center"]] * ncols, height=24)
        ws.merged_cells.add(f"A3:{last}3")
    step(total, total)


def _activity_sheet(wb: Workbook, book: StyleBook, data: ReportData,
                    step: Callable[[int, int], None]) -> None:
    h = data.header
    acts = data.activities
    _detail_sheet(
        wb, book, name=SHEET_ACTIVITIES,
        title=f"{h.office_name}{h.period_label}科普活动明细",
        columns=ACTIVITY_COLUMNS, records=acts,
        values=_transposed([activity_row(i, a) for i, a in enumerate(acts, 1)],
                           len(ACTIVITY_COLUMNS)),
        step=step, empty="本期没有科普活动记录")


def _transposed(rows: Sequence[Sequence[CellValue]], width: int) -> list[Sequence[CellValue]]:
    """Rows as columns (``width`` empty ones for no rows)."""
    return list(zip(*rows, strict=True)) if rows else [()] * width


def roster_columns(data: ReportData) -> list[Sequence[CellValue]]:
    """培训花名册 columns (ROSTER_COLUMNS): 身份证号 and phone as the export shows them
    (masked by default)."""
    roster = data.roster
    ids, phones = data.shown_ids, data.shown_phones
    hours = {h: _hours(h) for h in {r.hours_x10 for r in roster}}

    def column(field: str, shown: dict[Any, CellValue] | None = None) -> list[Any]:
        values = map(attrgetter(field), roster)  # C loops: a large month has 60 000 rows
        return list(values if shown is None else map(shown.__getitem__, values))

    return [range(1, len(roster) + 1), column("training"), column("start_date"),
            column("name"), column("gender"), column("id_number", ids), column("birth_date"),
            column("category"), column("village"), column("phone", phones),
            column("employer"), column("hours_x10", hours)]


def _roster_sheet(wb: Workbook, book: StyleBook, data: ReportData,
                  step: Callable[[int, int], None]) -> None:
    h = data.header
    roster: Sequence[RosterRecord] = data.roster
    masked = "" if data.full_ids else "（身份证号、联系电话已隐去部分数字）"
    _detail_sheet(
        wb, book, name=SHEET_ROSTER,
        title=f"{h.office_name}{h.period_label}培训花名册{masked}",
        columns=ROSTER_COLUMNS, records=roster, values=roster_columns(data), step=step,
        empty="本期没有培训花名册记录")
