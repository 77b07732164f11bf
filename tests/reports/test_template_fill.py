"""Filling a county-provided template, and the placeholder list."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.comments import Comment
from openpyxl.drawing.image import Image
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from PIL import Image as PILImage

from db.catalogs import all_catalogs
from db.database import Database
from db.demo import generate_demo
from db.errors import KepuError
from db.offices import OfficeInfo
from db.periods import Period
from reports.figures import format_rate
from reports.placeholders import (
    HEADER_FIELDS,
    BadPlaceholderError,
    format_placeholder_list,
    placeholder_catalog,
    resolve,
    split_placeholder,
)
from reports.report_data import ReportData, build_report_data
from reports.template_fill import PlaceholderError, fill_template

TITLE = "{{office.name}}科普工作月报表（{{period}}）"


@pytest.fixture
def data(db: Database, office: OfficeInfo) -> ReportData:
    generate_demo(db, office, year=2025, scale="small")
    return build_report_data(db, office, Period.parse("2025-09"), reporter="张三",
                             phone="0595-85123456", report_date=dt.date(2025, 10, 5))


def _png() -> io.BytesIO:
    buf = io.BytesIO()
    PILImage.new("RGB", (40, 20), "red").save(buf, format="PNG")
    buf.seek(0)
    return buf


def _county_form(path: Path) -> Path:
    """A county's form as a clerk receives it."""
    wb = Workbook()
    ws = wb.active
    ws.title = "月报"
    ws["A1"] = TITLE
    ws.merge_cells("A1:F1")
    ws["A3"], ws["B3"] = "科普活动次数", "{{act.count}}"
    ws["A4"], ws["B4"] = "培训农民人次（累计）", "{{train.农民.attend:ytd}}"
    ws["A5"], ws["B5"] = "人均经费目标", "{{fund.per_capita:target}}"
    ws["A6"], ws["B6"] = "合计", "=SUM(B3:B4)"
    ws["A7"], ws["B7"] = "完成率", "{{act.count:rate}}"
    ws["A8"] = ("说明：本年已开展{{act.count:ytd}}次，完成率{{act.count:rate}}，"
                "目标{{act.count:target}}次")
    ws["A9"], ws["B9"] = "线上活动人次", "{{form.线上.attend}}"
    ws["A10"], ws["B10"] = "报送日期", "{{report_date}}"
    ws["B10"].number_format = "yyyy-mm-dd"
    ws["A11"], ws["B11"] = "填报人", "{{reporter}}（{{phone}}）"
    ws["B12"] = "{{ revision }}"
    ws["B13"] = "{{act.attend}}"
    ws["B13"].number_format = "#,##0"  # the county's own format is kept
    ws["B14"] = '="{{act.count}}"'  # a formula: left alone
    ws["B15"] = CellRichText([TextBlock(InlineFont(b=True), "单位："), "{{office.name}}"])
    ws["B16"] = "{{act.count：本年累计}}"  # full-width colon, Chinese suffix
    ws.merge_cells("C3:D4")
    ws.column_dimensions["B"].width = 18.5
    ws.row_dimensions[3].height = 30
    ws.print_area = "A1:F20"
    ws.page_setup.orientation = "landscape"
    ws.oddHeader.center.text = "{{office.name}} {{period}}"
    dv = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    ws.add_data_validation(dv)
    dv.add("E3")
    ws.add_image(Image(_png()), "H2")
    ws.conditional_formatting.add("B3:B5", CellIsRule(operator="lessThan", formula=["0"],
                                                      fill=PatternFill("solid", fgColor="FF0000")))
    ws["A3"].comment = Comment("按本月填写", "县科协")
    ws.freeze_panes = "A3"
    ws["B3"].font = Font(name="仿宋", size=12, bold=True)
    other = wb.create_sheet("阵地")
    other["A1"] = "科普e站：{{site.科普e站.count}}个"
    wb.save(path)
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fill_county_form(data: ReportData, tmp_path: Path) -> None:
    template = _county_form(tmp_path / "县科协月报模板.xlsx")
    before = _digest(template)
    out = tmp_path / "填好的.xlsx"
    result = fill_template(data, template, out)
    assert _digest(template) == before  # the county's form is untouched

    figs = data.figures
    wb = load_workbook(out)
    ws = wb["月报"]
    assert ws["A1"].value == "金井镇科普工作月报表（2025年9月）"
    assert ws["B3"].value == figs["act.count"].period and isinstance(ws["B3"].value, int)
    assert ws["B3"].number_format == "0"
    assert ws["B4"].value == figs["train.农民.attend"].ytd
    target = figs["fund.per_capita"].target
    assert target is not None and ws["B5"].value == float(target)
    assert ws["B5"].number_format == "0.00"
    assert ws["B6"].value == "=SUM(B3:B4)" and ws["B6"].data_type == "f"
    rate = figs["act.count"].rate
    assert rate is not None and ws["B7"].value == float(rate)
    assert ws["B7"].number_format == "0.0%"
    assert ws["A8"].value == (f"说明：本年已开展{figs['act.count'].ytd}次，"
                              f"完成率{format_rate(rate)}，目标{figs['act.count'].target}次")
    assert ws["B9"].value == "-"  # online activities have no 人次
    assert ws["B10"].value.date() == dt.date(2025, 10, 5)  # a date cell gets a date
    assert ws["B11"].value == "张三（0595-85123456）"
    assert ws["B12"].value is None  # first return: no revision
    assert ws["B13"].value == figs["act.attend"].period and ws["B13"].number_format == "#,##0"
    assert ws["B14"].value == '="{{act.count}}"'
    assert str(ws["B15"].value) == "单位：金井镇"
    assert ws["B16"].value == figs["act.count"].ytd
    assert wb["阵地"]["A1"].value == f"科普e站：{figs['site.科普e站.count'].period}个"

    # the template's layout survives
    assert {str(r) for r in ws.merged_cells.ranges} == {"A1:F1", "C3:D4"}
    assert ws.column_dimensions["B"].width == 18.5
    assert ws.row_dimensions[3].height == 30
    assert ws.print_area == "'月报'!$A$1:$F$20"
    assert ws.page_setup.orientation == "landscape"
    assert len(ws.data_validations.dataValidation) == 1
    assert len(ws._images) == 1
    assert ws.oddHeader.center.text == "金井镇 2025年9月"
    assert len(ws.conditional_formatting) == 1
    assert ws["A3"].comment.text == "按本月填写"
    assert ws.freeze_panes == "A3"
    assert ws["B3"].font.name == "仿宋" and ws["B3"].font.bold  # the cell keeps its style
    assert wb.calculation.fullCalcOnLoad

    assert result.path == out
    assert result.cells == 14 + 1  # 14 cells (formulas left alone) and one page header
    assert result.placeholders == 20
    assert "act.count:rate" in result.names and "office.name" in result.names
    assert result.warnings == ()

    rich = load_workbook(out, rich_text=True)["月报"]["B15"].value
    assert isinstance(rich, CellRichText)  # the bold run keeps its font
    assert rich[0].font.b and rich[0].text == "单位：" and rich[1] == "金井镇"


def test_date_placeholder_as_text_in_a_general_cell(data: ReportData, tmp_path: Path) -> None:
    wb = Workbook()
    wb.active["A1"] = "{{report_date}}"
    wb.active["A2"] = "{{office.code}}"
    wb.active["A3"] = "{{population}}"
    wb.save(tmp_path / "t.xlsx")
    fill_template(data, tmp_path / "t.xlsx", tmp_path / "o.xlsx")
    ws = load_workbook(tmp_path / "o.xlsx").active
    assert ws["A1"].value == "2025年10月5日"
    assert ws["A2"].value == "350582103" and ws["A2"].data_type == "s"  # a code stays text
    assert ws["A3"].value == data.figures.population


def test_unknown_placeholders_are_all_listed(data: ReportData, tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.title = "表一"
    wb.active["B3"] = "{{act.cnt}}"
    wb.active["B4"] = "{{act.count}}"  # fine
    second = wb.create_sheet("表二")
    second["C7"] = "合计{{act.count:foo}}次"
    second["C8"] = "{{office.name:ytd}}"
    second["C9"] = "{{act.count"
    second["C10"] = "｛｛act.count｝｝"
    template = tmp_path / "t.xlsx"
    wb.save(template)
    out = tmp_path / "o.xlsx"
    with pytest.raises(PlaceholderError) as err:
        fill_template(data, template, out)
    problems = err.value.problems
    where = [(sheet, cell) for sheet, cell, _, _ in problems]
    assert where == [("表一", "B3"), ("表二", "C7"), ("表二", "C8"), ("表二", "C9"),
                     ("表二", "C10")]
    assert problems[0][2] == "{{act.cnt}}" and "act.count" in problems[0][3]  # a suggestion
    assert problems[1][2] == "{{act.count:foo}}" and "后缀" in problems[1][3]
    assert "不能带后缀" in problems[2][3]
    assert "不完整" in problems[3][3] and "半角" in problems[4][3]
    assert "表一" in str(err.value) and "B3" in str(err.value)
    assert isinstance(err.value, KepuError)
    assert not out.exists()


def test_template_errors(data: ReportData, tmp_path: Path) -> None:
    with pytest.raises(KepuError, match="找不到"):
        fill_template(data, tmp_path / "none.xlsx", tmp_path / "o.xlsx")
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(KepuError, match="另存为"):
        fill_template(data, old, tmp_path / "o.xlsx")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(KepuError, match="无法读取模板"):
        fill_template(data, broken, tmp_path / "o.xlsx")
    good = _county_form(tmp_path / "good.xlsx")
    with pytest.raises(KepuError, match="不能覆盖模板"):
        fill_template(data, good, good)


def test_fill_failure_leaves_no_file(data: ReportData, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    template = _county_form(tmp_path / "t.xlsx")
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    def explode(self: Workbook, filename: str) -> None:
        Path(filename).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Workbook, "save", explode)
    with pytest.raises(KepuError, match="No space left"):
        fill_template(data, template, out_dir / "o.xlsx")
    assert list(out_dir.iterdir()) == []


def test_shapes_are_warned_about(tmp_path: Path) -> None:
    from reports.template_fill import _package_notes

    path = tmp_path / "shapes.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/drawings/drawing1.xml",
                   '<xdr:wsDr><xdr:sp><a:t>{{act.count}}</a:t></xdr:sp></xdr:wsDr>')
    notes = _package_notes(path)
    assert len(notes) == 2 and "文本框" in notes[0] and "占位符" in notes[1]


# --- placeholders -------------------------------------------------------------------------
def test_split_placeholder() -> None:
    assert split_placeholder("act.count") == ("act.count", "period")
    assert split_placeholder(" act.count : ytd ") == ("act.count", "ytd")
    assert split_placeholder("act.count：完成率") == ("act.count", "rate")
    assert split_placeholder("act.count:目标") == ("act.count", "target")
    with pytest.raises(BadPlaceholderError):
        split_placeholder("act.count:foo")
    with pytest.raises(BadPlaceholderError):
        split_placeholder("  ")


def test_resolve_values(data: ReportData) -> None:
    figs = data.figures
    assert resolve(data, "act.count").value == figs["act.count"].period
    assert resolve(data, "fund.spent:ytd").text == f"{figs['fund.spent'].ytd:.2f}"
    assert resolve(data, "form.线上.attend").value == "-"
    assert resolve(data, "revision").value is None
    assert resolve(data, "period.key").value == "2025-09"
    assert resolve(data, "office.level").value == "镇"


def test_placeholder_catalog(data: ReportData, db: Database) -> None:
    infos = placeholder_catalog(data.figures)
    shown = [i.placeholder for i in infos]
    for code in data.figures.items:
        assert f"{{{{{code}}}}}" in shown
    for f in HEADER_FIELDS:
        assert f"{{{{{f.name}}}}}" in shown
    assert "{{act.count:ytd}}" in shown and "{{act.count:rate}}" in shown
    info = next(i for i in infos if i.placeholder == "{{train.农民.attend}}")
    assert info.meaning == "培训农民 人次" and info.unit == "人次" and info.group == "培训"
    with db.session() as s:
        from_catalogs = placeholder_catalog(all_catalogs(s))
    assert [i.placeholder for i in from_catalogs] == shown

    text = format_placeholder_list(data.figures)
    assert "【表头】" in text and "{{office.name}}" in text and "填报单位名称" in text
    assert "{{camp.全国科普日.attend}}" in text and "全国科普日 人次" in text
    assert format_placeholder_list(infos) == text
