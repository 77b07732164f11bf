"""``kepu import trainees|activities`` and ``kepu template``: JSON shape, exit codes, nothing
written on error."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import openpyxl
import pytest

from db.activities import ActivityInput, create_activity
from db.catalogs import find_entry
from db.database import Database
from db.idcard import make_id_number
from db.offices import OfficeInfo
from desktop import cli

KEYS = ["rows", "imported", "merged", "duplicates_in_file", "invalid", "warnings", "written"]
A = make_id_number("350582", dt.date(1970, 5, 9), 222)
B = make_id_number("350582", dt.date(1960, 1, 2), 211)
C = make_id_number("350582", dt.date(1985, 3, 4), 33)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def counts(path: Path) -> tuple[int, int, int, int]:
    with sqlite3.connect(path) as con:
        return tuple(con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # type: ignore[return-value]
                     for t in ("trainee", "attendance", "activity", "audit_log"))


def roster(path: Path, *, bad: bool = True) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "金井镇学员签到表"
    ws.merge_cells("A1:E1")
    ws.append(["序号", "姓名", "性别", "身份证号", "联系电话"])
    ws.append([1, "王秀英", "女", A, 13812345678])
    ws.append([2, "李四", "男", B, "13912345678"])
    if bad:
        ws.append([3, "张三", "男", float(C), ""])  # row 5: 精度丢失
    ws.append([4, "李 四", "男", B, ""])  # 李四 again
    ws.append(["合计"])
    wb.save(path)
    return path


def test_dry_run_prints_the_json_shape_and_writes_nothing(capsys, db: Database,  # noqa: ANN001
                                                          tmp_path: Path) -> None:
    source = roster(tmp_path / "签到表.xlsx")
    db.close()
    before = counts(db.path)
    code, out, err = run(capsys, "--db", str(db.path), "import", "trainees", str(source),
                         "--dry-run", "--json")
    assert code == 1, err  # invalid rows: the import would be refused
    doc = json.loads(out)
    assert list(doc) == KEYS
    assert doc == {
        "rows": 4, "imported": 2, "merged": 0, "duplicates_in_file": 1,
        "invalid": [{"row": 5, "field": "身份证号", "value": "3.50582E+17",
                     "message": doc["invalid"][0]["message"]}],
        "warnings": [], "written": False}
    assert "精度丢失" in doc["invalid"][0]["message"]
    assert counts(db.path) == before
    assert not (tmp_path / "签到表_错误行.xlsx").exists()

    clean = roster(tmp_path / "clean.xlsx", bad=False)
    code, out, _err = run(capsys, "--db", str(db.path), "import", "trainees", str(clean),
                          "--dry-run", "--json")
    assert code == 0
    assert json.loads(out)["written"] is False and json.loads(out)["imported"] == 2
    assert counts(db.path) == before


def test_invalid_rows_exit_1_and_nothing_is_written(capsys, db: Database,  # noqa: ANN001
                                                   tmp_path: Path) -> None:
    source = roster(tmp_path / "签到表.xlsx")
    db.close()
    before = counts(db.path)
    code, out, err = run(capsys, "--db", str(db.path), "import", "trainees", str(source))
    assert code == 1
    assert "第5行 身份证号“3.50582E+17”" in out and "精度丢失" in out
    assert "有无效行，未写入任何数据" in out and "Traceback" not in err
    assert counts(db.path) == before
    code, out, _err = run(capsys, "--db", str(db.path), "import", "trainees", str(source),
                          "--json")
    assert code == 1 and json.loads(out)["written"] is False
    assert counts(db.path) == before


def test_skip_invalid_writes_the_rest_and_the_error_workbook(capsys, db: Database,  # noqa: ANN001
                                                             tmp_path: Path) -> None:
    source = roster(tmp_path / "签到表.xlsx")
    db.close()
    before = counts(db.path)
    code, out, err = run(capsys, "--db", str(db.path), "import", "trainees", str(source),
                         "--skip-invalid", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["imported"], doc["merged"], doc["written"]) == (2, 0, True)
    assert [i["row"] for i in doc["invalid"]] == [5]
    book = tmp_path / "签到表_错误行.xlsx"
    assert f"无效行已另存为：{book}" in err
    ws = openpyxl.load_workbook(book).active
    assert ws["B2"].value == "张三" and ws["F1"].value == "错误说明"
    assert ws["D2"].number_format == "@"
    after = counts(db.path)
    assert after[0] == before[0] + 2 and after[3] == before[3] + 1

    # again, as text: both people are now registered
    code, out, _err = run(capsys, "--db", str(db.path), "import", "trainees", str(source),
                          "--skip-invalid")
    assert code == 0
    assert "共 4 行数据：新增 0 人，已有 2 人，表内重复 1 行，无效 1 行" in out
    assert counts(db.path)[0] == after[0]


def test_import_into_a_training(capsys, db: Database, office: OfficeInfo,  # noqa: ANN001
                                tmp_path: Path) -> None:
    with db.session() as s:
        form = find_entry(s, "form", "培训")
        assert form is not None
    tid = create_activity(db, office, ActivityInput(
        title="智能手机使用培训", start_date=dt.date(2025, 9, 3), end_date=dt.date(2025, 9, 3),
        form_id=form.id, train_hours_x10=20))
    db.close()
    source = roster(tmp_path / "签到表.xlsx", bad=False)
    code, out, err = run(capsys, "--db", str(db.path), "import", "trainees", str(source),
                         "--training", tid)
    assert code == 0, err
    assert "导入到培训：智能手机使用培训" in out and "加入花名册 2 人次" in out
    assert counts(db.path)[:2] == (2, 2)
    code, _out, err = run(capsys, "--db", str(db.path), "import", "trainees", str(source),
                          "--training", "nope")
    assert code == 2 and "要导入的培训不存在" in err


def test_import_activities(capsys, db: Database, tmp_path: Path) -> None:  # noqa: ANN001
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2025年科普活动台账"])
    ws.append(["活动日期", "活动名称", "活动形式", "参与人次", "经费"])
    ws.append([dt.date(2025, 9, 16), "防范电信诈骗讲座", "讲座", "约200人", "1,500.50元"])
    ws.append(["2025.9.17", "科普座谈", "座谈会", 30, ""])
    wb.save(tmp_path / "台账.xlsx")
    db.close()
    before = counts(db.path)
    code, out, _err = run(capsys, "--db", str(db.path), "import", "activities",
                          str(tmp_path / "台账.xlsx"), "--json")
    doc = json.loads(out)
    assert code == 1 and list(doc) == KEYS
    assert doc["invalid"][0]["row"] == 4 and doc["invalid"][0]["field"] == "活动形式"
    assert doc["warnings"] == [{"row": 3, "message": "参与人次“约200人”按 200 计"}]
    assert counts(db.path) == before
    code, out, _err = run(capsys, "--db", str(db.path), "import", "activities",
                          str(tmp_path / "台账.xlsx"), "--skip-invalid")
    assert code == 0 and "已导入：新增 1 项" in out
    assert counts(db.path)[2] == before[2] + 1
    assert (tmp_path / "台账_错误行.xlsx").exists()


def test_bad_input_files_and_usage(capsys, db: Database, tmp_path: Path) -> None:  # noqa: ANN001
    db.close()
    code, _out, err = run(capsys, "--db", str(db.path), "import", "trainees",
                          str(tmp_path / "没有.xlsx"))
    assert code == 2 and "文件不存在" in err
    code, _out, err = run(capsys, "--db", str(db.path), "import")
    assert code == 2 and "缺少必填参数" in err
    code, _out, err = run(capsys, "--db", str(db.path), "import", "people", "x.xlsx")
    assert code == 2 and "无效" in err
    roster(tmp_path / "r.xlsx")
    code, _out, err = run(capsys, "--db", str(db.path), "import", "trainees",
                          str(tmp_path / "r.xlsx"), "--sheet", "第二页")
    assert code == 2 and "没有名为“第二页”的工作表" in err
    missing = tmp_path / "none.sqlite"
    code, _out, err = run(capsys, "--db", str(missing), "import", "trainees",
                          str(tmp_path / "r.xlsx"))
    assert code == 2 and "数据库文件不存在" in err and not missing.exists()


def test_template_commands(capsys, tmp_path: Path, db: Database) -> None:  # noqa: ANN001
    out_file = tmp_path / "out.xlsx"
    code, out, err = run(capsys, "--db", str(tmp_path / "none.sqlite"), "template", "trainees",
                         str(out_file))
    assert code == 0, err
    assert "已生成导入模板" in out
    ws = openpyxl.load_workbook(out_file)["花名册"]
    assert ws["C2"].number_format == "@"
    assert not (tmp_path / "none.sqlite").exists()  # a template needs no database
    db.close()
    code, _out, err = run(capsys, "--db", str(db.path), "template", "activities",
                          str(tmp_path / "a.xlsx"))
    assert code == 0, err
    assert openpyxl.load_workbook(tmp_path / "a.xlsx").sheetnames[0] == "活动台账"
    code, _out, err = run(capsys, "template", "trainees", str(tmp_path / "t.csv"))
    assert code == 2 and ".xlsx" in err
