"""“下载导入模板”: clean .xlsx templates for rosters (花名册) and activity ledgers.

The header is on row 1 with no title and no merged cells anywhere (WPS and the
importer both read such a sheet without guessing); 身份证号 and 电话 columns are
text (“@”) so Excel cannot turn an 18-digit number into 3.50582E+17; categories,
forms and campaigns have drop-down lists (Excel data validation) from the office's
own catalogs; a second sheet explains how to fill it in.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from db.catalogs import all_catalogs, default_catalogs
from db.errors import KepuError
from db.imports.common import save_workbook

INPUT_ROWS = 1000  # rows prepared with formats and drop-downs
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")

# (header, width, kind, required): kind is text / date / int / money / hours / list:<key>
TRAINEE_COLUMNS = (
    ("姓名", 12, "text", True),
    ("性别", 8, "list:gender", False),
    ("身份证号", 22, "id", False),
    ("联系电话", 16, "id", False),
    ("人员类别", 22, "list:group", False),
    ("所在村（社区）", 16, "text", False),
    ("工作单位", 20, "text", False),
    ("备注", 20, "text", False),
)
ACTIVITY_COLUMNS = (
    ("活动名称", 30, "text", True),
    ("开始日期", 12, "date", True),
    ("结束日期", 12, "date", False),
    ("活动形式", 16, "list:form", True),
    ("主题活动", 18, "list:campaign", False),
    ("重点人群", 18, "multi:group", False),
    ("主题领域", 18, "multi:topic", False),
    ("村（社区）", 14, "text", False),
    ("活动地点", 20, "text", False),
    ("主办单位", 18, "text", False),
    ("协办单位", 18, "text", False),
    ("参与人次", 10, "int", False),
    ("线上浏览量", 11, "int", False),
    ("志愿者人次", 11, "int", False),
    ("志愿服务时长（小时）", 12, "hours", False),
    ("发放资料（份）", 11, "int", False),
    ("媒体报道（篇）", 11, "int", False),
    ("经费（元）", 12, "money", False),
    ("培训学时", 10, "hours", False),
    ("活动简介", 40, "text", False),
)
TRAINEE_HELP = (
    "填写说明（花名册 / 签到表导入模板）",
    "1. 每行一人；第1行是表头，请勿修改、删除或合并单元格。姓名必填。",
    "2. 身份证号、联系电话两列已设为文本格式，请直接输入完整号码；"
    "从其他表格粘贴时请用“选择性粘贴→数值”，以免变成 3.50582E+17 丢失末几位。",
    "3. 身份证号决定性别和出生日期；同一身份证号在登记册中已有时，"
    "按已登记的人员处理，不会重复登记。",
    "4. 人员类别请从下拉列表中选择；也可填 村民、居民、教师、职工、干部、学生 等常用说法。",
    "5. 导入时可选择加入某一期培训的花名册，或只登记到学员登记册。",
)
ACTIVITY_HELP = (
    "填写说明（活动台账导入模板）",
    "1. 每行一项活动；第1行是表头，请勿修改、删除或合并单元格。活动名称、开始日期、活动形式必填。",
    "2. 日期可写 2025-09-16、2025/9/16、2025.9.16 或 2025年9月16日；一天的活动可不填结束日期。",
    "3. 活动形式、主题活动请从下拉列表中选择；重点人群、主题领域可填多个，用顿号“、”分隔。",
    "4. 人次、份数、篇数填整数（“约200人”也可识别）；经费以元为单位，可有两位小数；"
    "学时、时长可有一位小数。",
    "5. 线上活动（直播、推文、短视频）填线上浏览量，不填参与人次；培训须填培训学时。",
    "6. 已上报锁定月份的活动不能导入；如需补录，请先在“报表”中重新打开该月。",
)


def catalog_names(session: Session | None = None) -> dict[str, list[str]]:
    """Drop-down choices by catalog kind: the office's visible entries, or the built-in ones."""
    if session is not None:
        return {kind: [i.name for i in items if not i.hidden]
                for kind, items in all_catalogs(session).items()}
    return {kind: [e.get("name", e["code"]) for e in entries]
            for kind, entries in default_catalogs().items()}


def _list_validation(wb: Workbook, ws: Worksheet, col: int, names: Sequence[str],
                     strict: bool) -> None:
    inline = ",".join(names)
    if all("," not in n and '"' not in n for n in names) and len(inline) <= 250:
        formula = f'"{inline}"'
    else:  # long lists live on a hidden sheet
        lists = wb["选项"] if "选项" in wb.sheetnames else wb.create_sheet("选项")
        lists.sheet_state = "hidden"
        list_col = lists.max_column + 1 if lists.max_row > 1 or lists["A1"].value else 1
        for r, name in enumerate(names, start=1):
            lists.cell(row=r, column=list_col, value=name).data_type = "s"
        letter = get_column_letter(list_col)
        formula = f"选项!${letter}$1:${letter}${max(len(names), 1)}"
    dv = DataValidation(type="list", formula1=formula, allow_blank=True,
                        showErrorMessage=strict, showDropDown=False)
    if strict:
        dv.errorTitle = "输入有误"
        dv.error = "请从下拉列表中选择"
    else:
        dv.promptTitle = "可填多个"
        dv.prompt = "可从列表中选择，多个用顿号“、”分隔"
        dv.showInputMessage = True
    letter = get_column_letter(col)
    dv.add(f"{letter}2:{letter}{INPUT_ROWS + 1}")
    ws.add_data_validation(dv)


def _write(path: str | Path, title: str, columns: Sequence[tuple[str, int, str, bool]],
           choices: dict[str, list[str]], help_lines: Sequence[str]) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise KepuError(f"模板文件名应以 .xlsx 结尾：{path.name}")
    wb = Workbook()
    ws = wb.active
    ws.title = title
    formats = {"id": "@", "text": "@", "date": "yyyy-mm-dd", "int": "0", "money": "0.00",
               "hours": "0.0"}
    for col, (header, width, kind, required) in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=col, value=header)
        cell.font = Font(bold=True)
        cell.fill = _REQUIRED_FILL if required else _HEAD_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = width
        number_format = formats.get(kind, "@")
        ws.column_dimensions[letter].number_format = number_format
        for row in range(2, INPUT_ROWS + 2):
            ws.cell(row=row, column=col).number_format = number_format
        if kind.startswith(("list:", "multi:")):
            key = kind.split(":", 1)[1]
            names = ["男", "女"] if key == "gender" else choices.get(key, [])
            if names:
                _list_validation(wb, ws, col, names, strict=kind.startswith("list:"))
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 30
    help_ws = wb.create_sheet("填写说明")
    help_ws.column_dimensions["A"].width = 110
    for r, line in enumerate(help_lines, start=1):
        cell = help_ws.cell(row=r, column=1, value=line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if r == 1:
            cell.font = Font(bold=True, size=13)
    wb.active = 0
    return save_workbook(wb, path, "模板")


def write_trainee_template(path: str | Path, choices: dict[str, list[str]] | None = None
                           ) -> Path:
    """Write the roster (花名册) template; ``choices`` from :func:`catalog_names`."""
    return _write(path, "花名册", TRAINEE_COLUMNS, choices or catalog_names(), TRAINEE_HELP)


def write_activity_template(path: str | Path, choices: dict[str, list[str]] | None = None
                            ) -> Path:
    """Write the activity ledger (活动台账) template; ``choices`` from :func:`catalog_names`."""
    return _write(path, "活动台账", ACTIVITY_COLUMNS, choices or catalog_names(), ACTIVITY_HELP)
