"""“下载导入模板”: the .xlsx templates for rosters and activity ledgers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from db.catalogs import add_entry
from db.database import Database
from db.errors import KepuError
from db.idcard import make_id_number
from db.imports import (
    NEW,
    catalog_names,
    plan_activity_import,
    plan_trainee_import,
    read_workbook,
    write_activity_template,
    write_trainee_template,
)
from db.offices import OfficeInfo


def validations(ws) -> dict[str, str]:  # noqa: ANN001
    """Column letter → list formula of the data validations on a sheet."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        assert dv.type == "list"
        for rng in dv.sqref.ranges:
            out[get_column_letter(rng.min_col)] = dv.formula1
    return out


def test_trainee_template(tmp_path: Path) -> None:
    path = write_trainee_template(tmp_path / "花名册模板.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["花名册"]
    assert wb.sheetnames[0] == "花名册" and "填写说明" in wb.sheetnames
    headers = [c.value for c in ws[1]]
    assert headers == ["姓名", "性别", "身份证号", "联系电话", "人员类别", "所在村（社区）",
                       "工作单位", "备注"]
    assert not ws.merged_cells.ranges  # WPS-safe: nothing merged anywhere
    for letter in ("C", "D"):  # 身份证号, 联系电话
        assert all(ws[f"{letter}{r}"].number_format == "@" for r in range(2, 1002))
    lists = validations(ws)
    assert lists["B"] == '"男,女"'
    assert "农民" in lists["E"] and "老年人" in lists["E"] and "科学教师/科技辅导员" in lists["E"]
    assert ws.freeze_panes == "A2"


def test_activity_template_lists_follow_the_office_catalogs(db: Database,
                                                            tmp_path: Path) -> None:
    with db.write() as s:
        add_entry(s, "campaign", "金井海丝科普节")
        choices = catalog_names(s)
    wb = openpyxl.load_workbook(write_activity_template(tmp_path / "台账模板.xlsx", choices))
    ws = wb["活动台账"]
    assert not ws.merged_cells.ranges
    headers = [c.value for c in ws[1]]
    assert headers[:5] == ["活动名称", "开始日期", "结束日期", "活动形式", "主题活动"]
    lists = validations(ws)
    assert "科普讲座/报告会" in lists["D"] and "线上科普" in lists["D"]
    assert "金井海丝科普节" in lists["E"] and "全国科普日" in lists["E"]
    assert ws["B2"].number_format == "yyyy-mm-dd"
    assert ws["R2"].number_format == "0.00"  # 经费（元）


def test_a_long_list_goes_to_a_hidden_sheet(tmp_path: Path) -> None:
    names = [f"自定义人员类别第{i}类" for i in range(40)]
    wb = openpyxl.load_workbook(write_trainee_template(tmp_path / "t.xlsx", {"group": names}))
    assert wb["选项"].sheet_state == "hidden"
    assert validations(wb["花名册"])["E"] == "选项!$A$1:$A$40"
    assert wb["选项"]["A40"].value == names[-1]


def test_template_name_must_be_xlsx(tmp_path: Path) -> None:
    with pytest.raises(KepuError, match=r"\.xlsx"):
        write_trainee_template(tmp_path / "模板.xls")


def test_filled_templates_import_cleanly(db: Database, office: OfficeInfo,
                                         tmp_path: Path) -> None:
    path = write_trainee_template(tmp_path / "花名册.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["花名册"]
    number = make_id_number("350582", dt.date(1970, 5, 9), 222)
    for col, value in enumerate(["王秀英", "女", number, "13812345678", "农民", "坑口村"], 1):
        ws.cell(2, col).value = value
    wb.save(path)
    with db.session() as s:
        plan = plan_trainee_import(s, office, read_workbook(path)[0])
    assert plan.header_row == 1 and plan.warnings == ()
    assert [(r.excel_row, r.status) for r in plan.rows] == [(2, NEW)] + [
        (r, "skipped-blank") for r in range(3, len(plan.rows) + 2)]

    path = write_activity_template(tmp_path / "台账.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["活动台账"]
    row = {"活动名称": "防范电信诈骗讲座", "开始日期": dt.date(2025, 9, 16),
           "活动形式": "科普讲座/报告会",
           "主题活动": "全国科普日", "重点人群": "老年人、社区居民", "参与人次": 120,
           "经费（元）": 1500.5, "志愿服务时长（小时）": 6, "志愿者人次": 3}
    headers = [c.value for c in ws[1]]
    for name, value in row.items():
        ws.cell(2, headers.index(name) + 1).value = value
    wb.save(path)
    with db.session() as s:
        plan = plan_activity_import(s, office, read_workbook(path)[0])
    assert len(plan.mapping) == 20  # every template column is recognised
    first = plan.rows[0]
    assert first.status == NEW, first.errors
    data = first.values["input"]
    assert (data.attend, data.spending_fen, data.volunteer_hours_x10, data.volunteers) == (
        120, 150050, 60, 3)
