"""Importing messy sign-in sheets, rosters and activity ledgers (db.imports).

Every workbook is built here with openpyxl (xlwt for .xls; .ods by hand) the way
clerks' files really look: merged titles, the header on row 2—3, spaces,
full-width digits, numbers where text belongs, blank rows, 合计 and notes.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from db.activities import ActivityInput, create_activity
from db.catalogs import find_entry
from db.database import Database
from db.errors import KepuError, ValidationError
from db.idcard import make_id_number
from db.imports import (
    ACTIVITY_FIELDS,
    BLANK,
    DUPLICATE,
    EXISTING,
    INVALID,
    NEW,
    NOTE,
    TOTAL,
    TRAINEE_FIELDS,
    ImportCancelledError,
    ImportRefusedError,
    apply_activity_import,
    apply_trainee_import,
    best_sheet,
    detect_header,
    error_workbook_path,
    normalize_header,
    plan_activity_import,
    plan_trainee_import,
    read_workbook,
    remap,
    report_dict,
    write_error_workbook,
)
from db.imports.mapping import check_mapping
from db.imports.people import clean_person
from db.imports.values import (
    parse_count,
    parse_date,
    parse_date_range,
    parse_money_fen,
    parse_tenths,
)
from db.indicators import compute_figures
from db.models import Activity, Attendance, AuditLog, Period, Trainee
from db.offices import OfficeInfo
from db.periods import Period as ReportPeriod
from db.trainees import TraineeInput, clean_trainee, create_trainee
from tests.sqldump import dump
from tests.workbooks import ods_bytes

D = dt.date
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def person_id(year: int, seq: int, month: int = 5, day: int = 9) -> str:
    return make_id_number("350582", D(year, month, day), seq)


def id_ending_in_x() -> str:
    for seq in range(1000):
        number = person_id(1975, seq)
        if number.endswith("X"):
            return number
    raise AssertionError("no number ending in X")


def counts(db: Database) -> dict[str, int]:
    with sqlite3.connect(db.path) as con:
        return {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("trainee", "attendance", "activity", "activity_group", "audit_log")}


def rows_by_number(plan):  # noqa: ANN001, ANN201
    return {r.excel_row: r for r in plan.rows}


# --- the messy roster --------------------------------------------------------------------------

WOMAN = person_id(1970, 222)  # even 17th digit: 女
MAN = person_id(1960, 211)  # odd: 男
X_ID = id_ending_in_x()
REGISTERED = person_id(1950, 101)
OTHER = person_id(1982, 301)
WOMAN2 = person_id(1990, 402)


def messy_roster(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "签到表"
    ws["A1"] = "金井镇2025年农民实用技术培训签到表"
    ws.merge_cells("A1:H1")
    ws["A2"] = "培训时间：2025年9月16日    地点：坑口村村委会"
    ws.merge_cells("A2:H2")
    ws.append(["序号", "姓 名", "性别", "身份证号码\n（18位）", "联系电话/手机", "所在村（社区）",
               "类别", "签名"])
    spaced = f"{WOMAN[:6]} {WOMAN[6:14]} {WOMAN[14:]}"
    ws.append([1, "王 秀 英", "男", spaced, 13812345678, "坑口村", "村民", ""])  # row 4
    ws.append([2, "李四", "男", MAN.translate(FULL_WIDTH), "139 1234 5678", "塘东村", "农民"])  # 5
    ws.append([3, "张三", "男", float(OTHER), "", "", "教师"])  # 6: ID stored as a number
    ws.append([4, "赵六", "女", "3.50582E+17", "", "", ""])  # 7: ID typed as Excel showed it
    ws.append([])  # 8: blank row in the middle
    ws.append([5, "陈七", "", X_ID[:-1] + "x", "", "围头村", "老年人"])  # 9: lowercase x
    ws.append([6, "李 四", "男", MAN, "13912345678", "塘东村", "农民"])  # 10: 李四 again
    ws.append([7, "周八", "女", "", "13700000001", "围头村", "老年人"])  # 11: no ID
    ws.append([8, "周八", "女", "", 13700000001, "围头村", "老年人"])  # 12: same name + phone
    ws.append([9, "林一", "", REGISTERED, "", "", ""])  # 13: already registered
    ws.append([10, "吴九", "男", person_id(1988, 511), "12345", "", ""])  # 14: bad phone
    ws.append([11, "郑十", "女", WOMAN2, "", "", "外星人"])  # 15: unknown category
    ws.append(["合计", "11人"])  # 16
    ws["A17"] = "制表人：张文书            审核人：李主任"  # 17
    ws.merge_cells("A17:H17")
    wb.save(path)
    return path


@pytest.fixture
def registered(db: Database, office: OfficeInfo) -> str:
    with db.session() as s:
        old = find_entry(s, "group", "老年人")
        assert old is not None
    return create_trainee(db, office, TraineeInput(name="林一", id_number=REGISTERED,
                                                   category_id=old.id))


def test_header_is_found_under_merged_titles_with_varied_names(tmp_path: Path) -> None:
    sheets = read_workbook(messy_roster(tmp_path / "签到表.xlsx"))
    assert [s.name for s in sheets] == ["签到表"]
    guess = detect_header(sheets[0], TRAINEE_FIELDS)
    assert guess.excel_row == 3
    assert guess.mapping == {"name": 1, "gender": 2, "id_number": 3, "phone": 4,
                             "category": 6, "village": 5}
    assert guess.confidence == 1.0
    assert guess.columns[3] == "身份证号码 （18位）"
    assert remap(sheets[0], 2, TRAINEE_FIELDS) == guess


@pytest.mark.parametrize(("header", "field"), [
    ("公民身份号码", "id_number"), ("身份证号码（18位）", "id_number"), ("身份证号", "id_number"),
    ("联系电话/手机", "phone"), ("手机号", "phone"), ("电 话", "phone"),
    ("所在村（社区）", "village"), ("村/社区", "village"), ("社区", "village"),
    ("人员类别", "category"), ("类别", "category"), ("姓名", "name"), ("学员姓名", "name"),
    ("性别", "gender"), ("工作单位", "employer"), ("出生年月", "birth_date"),
])
def test_trainee_header_synonyms(header: str, field: str) -> None:
    from db.imports.mapping import guess_mapping

    mapping, _score = guess_mapping(["序号", header], TRAINEE_FIELDS)
    assert mapping == {field: 1}


def test_normalize_header_forms() -> None:
    assert normalize_header("身份证号码\n（18位）") == ("身份证号码18位", "身份证号码")
    assert "手机" in normalize_header("联系电话/手机")
    assert normalize_header("Ｎａｍｅ") == ("Name",)
    assert normalize_header(3.0) == ()
    assert normalize_header("金井镇2025年农民实用技术培训签到表（第一期）请各村认真填写") == ()


def test_every_row_of_a_messy_roster(db: Database, office: OfficeInfo, registered: str,
                                     tmp_path: Path) -> None:
    sheet = read_workbook(messy_roster(tmp_path / "签到表.xlsx"))[0]
    with db.session() as s:
        plan = plan_trainee_import(s, office, sheet)
    rows = rows_by_number(plan)
    assert plan.header_row == 3
    assert {n: r.status for n, r in rows.items()} == {
        4: NEW, 5: NEW, 6: INVALID, 7: INVALID, 8: BLANK, 9: NEW, 10: DUPLICATE, 11: NEW,
        12: NEW, 13: EXISTING, 14: INVALID, 15: NEW, 16: TOTAL, 17: NOTE}
    wang = rows[4].values
    assert (wang["name"], wang["id_number"], wang["gender"], wang["phone"]) == (
        "王秀英", WOMAN, "女", "13812345678")
    assert wang["birth_date"] == D(1970, 5, 9) and wang["category"] == "农民"
    assert rows[4].warnings == ("性别“男”与身份证号不符，已按身份证号改为“女”",)
    assert (rows[5].values["id_number"], rows[5].values["phone"]) == (MAN, "13912345678")
    for n, shown in ((6, "3.50582E+17"), (7, "3.50582E+17")):
        (issue,) = rows[n].errors
        assert issue.field == "身份证号" and issue.value == shown
        assert "精度丢失" in issue.message
    assert rows[9].values["id_number"] == X_ID
    assert rows[9].values["gender"] == ("男" if int(X_ID[16]) % 2 else "女")  # from the number
    assert "与第5行是同一人" in rows[10].note
    assert rows[11].warnings == ("未填身份证号，无法与已登记人员核对是否同一人",)
    assert any("与第11行姓名、电话相同" in w for w in rows[12].warnings)
    assert rows[13].values["trainee_id"] == registered
    assert rows[13].warnings == ()
    (phone_issue,) = rows[14].errors
    assert (phone_issue.field, phone_issue.value) == ("联系电话", "12345")
    assert rows[15].values["category_id"] is None
    assert "人员类别“外星人”不在目录中" in rows[15].warnings[0]
    assert rows[6].values["category"] == "科学教师/科技辅导员"  # 教师 → 科学教师
    assert plan.warnings == ("以下列不导入：签名",)

    report = report_dict(plan)
    assert (report["rows"], report["imported"], report["merged"],
            report["duplicates_in_file"], report["written"]) == (11, 6, 1, 1, False)
    assert [(i["row"], i["field"]) for i in report["invalid"]] == [
        (6, "身份证号"), (7, "身份证号"), (14, "联系电话")]
    assert {"row": 4, "message": "性别“男”与身份证号不符，已按身份证号改为“女”"} \
        in report["warnings"]


def test_all_or_nothing_then_skip_invalid_with_error_workbook(
        db: Database, office: OfficeInfo, registered: str, tmp_path: Path) -> None:
    source = messy_roster(tmp_path / "签到表.xlsx")
    sheet = read_workbook(source)[0]
    with db.session() as s:
        plan = plan_trainee_import(s, office, sheet)
    before = counts(db)
    with pytest.raises(ImportRefusedError, match="有 3 行数据无效（第6、7、14行），未导入任何数据"):
        apply_trainee_import(db, office, plan)
    assert counts(db) == before

    result = apply_trainee_import(db, office, plan, skip_invalid=True, user="张文书")
    assert (result.imported, result.merged, result.duplicates_in_file, result.invalid_skipped,
            result.written) == (6, 1, 1, 3, True)
    after = counts(db)
    assert after["trainee"] == before["trainee"] + 6
    assert after["audit_log"] == before["audit_log"] + 1  # one summary entry, not one per person
    with db.session() as s:
        entry = s.query(AuditLog).filter_by(action="import").one()
        assert entry.user == "张文书" and entry.changes["imported"] == 6
        assert "签到表.xlsx" in entry.note
        wang = s.query(Trainee).filter_by(id_number=WOMAN).one()
        assert (wang.name, wang.gender, wang.phone, wang.village) == (
            "王秀英", "女", "13812345678", "坑口村")
        assert s.query(Trainee).filter_by(name="林一").count() == 1

    book = write_error_workbook(plan, sheet, error_workbook_path(source))
    assert book == tmp_path / "签到表_错误行.xlsx"
    ws = openpyxl.load_workbook(book).active
    assert [c.value for c in ws[1]] == [
        "序号", "姓 名", "性别", "身份证号码\n（18位）", "联系电话/手机", "所在村（社区）", "类别",
        "签名", "错误说明"]
    filled = [r for r in ws.iter_rows(min_row=2) if any(c.value is not None for c in r)]
    assert len(filled) == 3  # exactly the three invalid rows
    assert [ws.cell(r, 2).value for r in (2, 3, 4)] == ["张三", "赵六", "吴九"]
    assert [ws.cell(r, 4).value for r in (2, 3)] == ["3.50582E+17", "3.50582E+17"]
    assert ws.cell(4, 5).value == "12345" and ws.cell(4, 5).data_type == "s"
    for r in (2, 3, 4, 10):
        assert ws.cell(r, 4).number_format == "@" and ws.cell(r, 5).number_format == "@"
    assert ws.cell(2, 9).value.startswith("（原第6行）身份证号")
    assert "精度丢失" in ws.cell(2, 9).value
    assert "（原第14行）" in ws.cell(4, 9).value and "联系电话" in ws.cell(4, 9).value

    # the clerk fixes the rows in the error workbook and imports it again
    wb = openpyxl.load_workbook(book)
    ws = wb.active
    ws.cell(2, 4).value = OTHER
    ws.cell(3, 4).value = person_id(1966, 612)
    ws.cell(4, 5).value = "13600000000"
    wb.save(book)
    with db.session() as s:
        again = plan_trainee_import(s, office, read_workbook(book)[0])
    assert [r.status for r in again.rows] == [NEW, NEW, NEW]
    assert again.warnings == ("以下列不导入：签名、错误说明",)


def test_error_workbook_keeps_user_text_as_text(db: Database, office: OfficeInfo,
                                                tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["姓名", "身份证号", "备注"])
    ws.append(["=SUM(A1:A3)", person_id(1970, 1), "=1+1"])
    ws.cell(2, 1).data_type = "s"
    ws.cell(2, 3).data_type = "s"
    wb.save(tmp_path / "f.xlsx")
    sheet = read_workbook(tmp_path / "f.xlsx")[0]
    with db.session() as s:
        plan = plan_trainee_import(s, office, sheet)
    assert plan.rows[0].status == INVALID  # a name with digits
    out = write_error_workbook(plan, sheet, tmp_path / "err.xlsx")
    ws = openpyxl.load_workbook(out).active
    assert ws.cell(2, 1).value == "=SUM(A1:A3)" and ws.cell(2, 1).data_type == "s"
    assert ws.cell(2, 3).value == "=1+1" and ws.cell(2, 3).data_type == "s"


SEPT_10 = D(2025, 9, 10)


def training(db: Database, office: OfficeInfo, day: D = SEPT_10) -> str:
    with db.session() as s:
        form = find_entry(s, "form", "培训")
        assert form is not None
    return create_activity(db, office, ActivityInput(
        title="茶叶病虫害绿色防控培训", start_date=day, end_date=day, form_id=form.id,
        train_hours_x10=20))


def roster_of_30(path: Path, people: list[str]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["序号", "姓名", "身份证号", "人员类别"])
    order = list(range(28)) + [0, 1]  # persons 1 and 2 signed twice
    for n, p in enumerate(order, start=1):
        ws.append([n, f"学员{'甲乙丙丁戊己庚辛壬癸'[p % 10]}{'一二三'[p // 10]}", people[p],
                   "农民" if p < 20 else "老年人"])
    wb.save(path)
    return path


def test_import_into_a_training_counts_attendances_and_people(
        db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    people = [person_id(1950 + p, 100 + p) for p in range(28)]
    with db.session() as s:
        old = find_entry(s, "group", "老年人")
        assert old is not None
    known = create_trainee(db, office, TraineeInput(name="预先登记", id_number=people[5],
                                                    category_id=old.id))
    tid = training(db, office)
    source = roster_of_30(tmp_path / "花名册.xlsx", people)
    sheet = read_workbook(source)[0]
    with db.session() as s:
        plan = plan_trainee_import(s, office, sheet, training_id=tid)
    assert (plan.new, plan.existing, plan.duplicates, plan.invalid) == (27, 1, 2, 0)
    assert plan.training_title == "茶叶病虫害绿色防控培训"
    assert rows_by_number(plan)[7].note == "已登记的人员，将加入该培训的花名册"
    result = apply_trainee_import(db, office, plan)
    assert (result.imported, result.merged, result.attendances) == (27, 1, 28)
    assert result.backup is not None and Path(result.backup).exists()  # > 20 rows written
    with db.session() as s:
        figs = compute_figures(s, office, ReportPeriod.parse("2025-09"))
        assert s.query(Trainee).count() == 28  # the registered person was merged, not copied
        assert s.query(Trainee).filter_by(id=known).one().name == "预先登记"
    assert figs.value("train.count") == 1
    assert figs.value("train.attend") == 28  # 30 rows − 2 signed twice
    assert figs.value("train.people") == 28
    assert figs.value("train.农民.attend") == 19  # person 6 is registered as 老年人
    assert figs.value("train.老年人.attend") == 9
    assert figs.value("act.attend") == 28

    # the same sheet again: everyone is already on the roster, nothing is added
    with db.session() as s:
        again = plan_trainee_import(s, office, sheet, training_id=tid)
    assert (again.new, again.existing, again.duplicates) == (0, 28, 2)
    assert rows_by_number(again)[2].note == "已在该培训的花名册中，不重复添加"
    result = apply_trainee_import(db, office, again)
    assert (result.imported, result.merged, result.attendances, result.written) == (
        0, 28, 0, False)
    with db.session() as s:
        assert s.query(Attendance).count() == 28
        assert compute_figures(s, office, ReportPeriod.parse("2025-09")).value(
            "train.attend") == 28


def test_import_into_register_only_and_nothing_to_write(db: Database, office: OfficeInfo,
                                                        tmp_path: Path) -> None:
    people = [person_id(1950 + p, 100 + p) for p in range(28)]
    sheet = read_workbook(roster_of_30(tmp_path / "r.xlsx", people))[0]
    with db.session() as s:
        plan = plan_trainee_import(s, office, sheet)
    result = apply_trainee_import(db, office, plan, backup=False)
    assert result.imported == 28 and result.backup is None
    with db.session() as s:
        plan = plan_trainee_import(s, office, sheet)
    before = counts(db)
    result = apply_trainee_import(db, office, plan)
    assert (result.imported, result.merged, result.written) == (0, 28, False)
    assert counts(db) == before


def test_training_checks(db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    sheet = read_workbook(roster_of_30(tmp_path / "r.xlsx", [person_id(1960, i) for i in
                                                             range(28)]))[0]
    with db.session() as s:
        lecture = find_entry(s, "form", "讲座")
        assert lecture is not None
    aid = create_activity(db, office, ActivityInput(
        title="讲座", start_date=D(2025, 3, 1), end_date=D(2025, 3, 1), form_id=lecture.id,
        attend=10))
    tid = training(db, office, D(2025, 4, 2))
    with db.write() as s:
        s.add(Period(office_id=office.id, month="2025-04", status="submitted"))
    with db.session() as s:
        with pytest.raises(ValidationError, match="不是“培训”"):
            plan_trainee_import(s, office, sheet, training_id=aid)
        with pytest.raises(ValidationError, match="已上报并锁定"):
            plan_trainee_import(s, office, sheet, training_id=tid)
        with pytest.raises(ValidationError, match="不存在"):
            plan_trainee_import(s, office, sheet, training_id="0" * 32)


def big_roster(path: Path, n: int) -> Path:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("花名册")
    ws.append(["姓名", "身份证号", "联系电话"])
    for i in range(n):
        ws.append([f"学员{chr(0x4e00 + i)}", make_id_number(
            "350582", D(1950, 1, 1) + dt.timedelta(days=i), i % 1000), 13800000000 + i])
    wb.save(path)
    return path


@pytest.mark.parametrize("cancel_at", ["start", "backup", "writing", "end"])
def test_cancel_leaves_the_database_as_it_was(db: Database, office: OfficeInfo, tmp_path: Path,
                                              cancel_at: str) -> None:
    tid = training(db, office)
    sheet = read_workbook(big_roster(tmp_path / "big.xlsx", 1200))[0]
    with db.session() as s:
        plan = plan_trainee_import(s, office, sheet, training_id=tid)
    assert plan.new == 1200
    before, content = counts(db), dump(db)
    messages: list[str] = []

    def is_cancelled() -> bool:
        last = messages[-1] if messages else ""
        return {"start": True,
                "backup": last.startswith("正在备份"),
                "writing": "（1000/2400）" in last,
                "end": "（2400/2400）" in last}[cancel_at]

    with pytest.raises(ImportCancelledError, match="已取消导入，数据库未改动"):
        apply_trainee_import(db, office, plan, progress=lambda _p, m: messages.append(m),
                             is_cancelled=is_cancelled)
    assert counts(db) == before
    assert dump(db) == content


def test_cancel_while_planning(db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    sheet = read_workbook(big_roster(tmp_path / "big.xlsx", 1200))[0]
    calls = []

    def is_cancelled() -> bool:
        calls.append(1)
        return len(calls) > 2

    with db.session() as s, pytest.raises(ImportCancelledError):
        plan_trainee_import(s, office, sheet, is_cancelled=is_cancelled)


def test_progress_is_reported(db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    sheet = read_workbook(big_roster(tmp_path / "big.xlsx", 1200))[0]
    seen: list[int] = []
    with db.session() as s:
        plan = plan_trainee_import(s, office, sheet, progress=lambda p, _m: seen.append(p))
    apply_trainee_import(db, office, plan, progress=lambda p, _m: seen.append(p))
    assert seen[-1] == 100 and all(0 <= p <= 100 for p in seen)


def test_mapping_can_be_corrected(db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["人员", "号码", "备注"])  # names nobody would guess
    ws.append(["王秀英", person_id(1970, 222), ""])
    wb.save(tmp_path / "odd.xlsx")
    sheet = read_workbook(tmp_path / "odd.xlsx")[0]
    guess = detect_header(sheet, TRAINEE_FIELDS)
    assert "name" not in guess.mapping
    with db.session() as s:
        with pytest.raises(ValidationError, match="没有找到“姓名”列"):
            plan_trainee_import(s, office, sheet, guess.mapping, header_index=guess.row_index)
        with pytest.raises(ValidationError, match="第1列同时对应了"):
            check_mapping({"name": 0, "id_number": 0}, TRAINEE_FIELDS)
        plan = plan_trainee_import(s, office, sheet, {"name": 0, "id_number": 1},
                                   header_index=0)
    assert plan.rows[0].status == NEW
    assert plan.rows[0].values["id_number"] == person_id(1970, 222)


def test_best_sheet_skips_an_instructions_sheet(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active["A1"] = "请按要求填写"
    ws = wb.create_sheet("学员")
    ws.append(["序号", "姓名", "身份证号"])
    wb.save(tmp_path / "two.xlsx")
    index, guess = best_sheet(read_workbook(tmp_path / "two.xlsx"), TRAINEE_FIELDS)
    assert index == 1 and guess.mapping == {"name": 1, "id_number": 2}


def test_two_row_header_with_a_merged_group_cell(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["花名册"])
    ws.append(["姓名", "性别", "联系方式", None])
    ws.append([None, None, "手机", "村（社区）"])
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:B3")
    ws.merge_cells("C2:D2")
    wb.save(tmp_path / "two-row.xlsx")
    guess = detect_header(read_workbook(tmp_path / "two-row.xlsx")[0], TRAINEE_FIELDS)
    assert guess.excel_row == 3
    assert guess.mapping == {"name": 0, "gender": 1, "phone": 2, "village": 3}


def test_repeated_header_and_pre_numbered_empty_rows_are_skipped(
        db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["序号", "姓名", "身份证号", "联系电话"])
    ws.append([1, "王秀英", person_id(1970, 222), ""])
    ws.append(["序号", "姓名", "身份证号", "联系电话"])  # the printout's second page
    ws.append([2, "李四", person_id(1960, 211), ""])
    ws.append([3])
    ws.append([4])
    wb.save(tmp_path / "pages.xlsx")
    with db.session() as s:
        plan = plan_trainee_import(s, office, read_workbook(tmp_path / "pages.xlsx")[0])
    assert [(r.excel_row, r.status) for r in plan.rows] == [
        (2, NEW), (3, NOTE), (4, NEW), (5, BLANK), (6, BLANK)]
    assert plan.rows[1].note == "重复的表头行，已跳过"


def test_merged_village_cells_belong_to_every_row(db: Database, office: OfficeInfo,
                                                  tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["姓名", "身份证号", "村"])
    ws.append(["甲", person_id(1970, 1), "坑口村"])
    ws.append(["乙", person_id(1970, 3), None])
    ws.append(["丙", person_id(1970, 5), None])
    ws.merge_cells("C2:C4")
    wb.save(tmp_path / "merged.xlsx")
    with db.session() as s:
        plan = plan_trainee_import(s, office, read_workbook(tmp_path / "merged.xlsx")[0])
    assert [r.values["village"] for r in plan.rows] == ["坑口村"] * 3


# --- other file types ---------------------------------------------------------------------------

def test_xls_roster(db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("花名册")
    ws.write_merge(0, 0, 0, 3, "2025年学员花名册")
    for col, text in enumerate(["姓名", "身份证号", "手机号", "性别"]):
        ws.write(1, col, text)
    ws.write(2, 0, "王秀英")
    ws.write(2, 1, WOMAN)
    ws.write(2, 2, 13812345678)
    ws.write(3, 0, "张三")
    ws.write(3, 1, float(OTHER))  # a number in the old format too
    ws.write(4, 0, "合计")
    path = tmp_path / "花名册.xls"
    book.save(str(path))
    sheet = read_workbook(path)[0]
    with db.session() as s:
        plan = plan_trainee_import(s, office, sheet)
    assert plan.header_row == 2
    assert [(r.excel_row, r.status) for r in plan.rows] == [(3, NEW), (4, INVALID), (5, TOTAL)]
    assert plan.rows[0].values["phone"] == "13812345678"
    assert "精度丢失" in plan.rows[1].errors[0].message


def write_ods(path: Path, rows: list[list[object]]) -> Path:
    """A minimal OpenDocument spreadsheet (what WPS / LibreOffice save)."""
    path.write_bytes(ods_bytes(rows))
    return path


def test_ods_roster(db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    path = write_ods(tmp_path / "花名册.ods", [
        ["金井镇学员花名册"], [], ["姓名", "公民身份号码", "联系电话"],
        ["王秀英", WOMAN, 13812345678], ["李四", MAN.lower(), "13912345678"]])
    sheet = read_workbook(path)[0]
    with db.session() as s:
        plan = plan_trainee_import(s, office, sheet)
    assert plan.header_row == 3
    assert [(r.excel_row, r.status, r.values["id_number"]) for r in plan.rows] == [
        (4, NEW, WOMAN), (5, NEW, MAN)]
    assert plan.rows[0].values["phone"] == "13812345678"


@pytest.mark.parametrize(("name", "message"), [
    ("名单.csv", "不支持的文件类型"), ("名单.et", "另存为 .xlsx"), ("~$名单.xlsx", "临时文件"),
    ("没有.xlsx", "文件不存在")])
def test_unreadable_files_are_explained(tmp_path: Path, name: str, message: str) -> None:
    from db.errors import KepuError

    if name.startswith("~$"):
        (tmp_path / name).write_bytes(b"x")
    with pytest.raises(KepuError, match=message):
        read_workbook(tmp_path / name)


def test_corrupt_file_is_explained(tmp_path: Path) -> None:
    from db.errors import KepuError

    (tmp_path / "坏.xlsx").write_bytes(b"not a zip at all")
    with pytest.raises(KepuError, match="无法读取“坏.xlsx”"):
        read_workbook(tmp_path / "坏.xlsx")


# --- the fast path agrees with clean_trainee ----------------------------------------------------

def test_fast_cleaning_agrees_with_clean_trainee() -> None:
    rng = random.Random(7)
    numbers = [make_id_number(rng.choice(("350582", "110101", "650102")),
                              D(1900, 1, 1) + dt.timedelta(days=rng.randrange(45000)),
                              rng.randrange(1000)) for _ in range(300)]
    broken = [n[:17] + ("0" if n[17] != "0" else "1") for n in numbers[:50]]  # check digit
    odd = ["990101199001011234", "350582199002301234", "35058218991231123X", "350582",
           "3505821990010112345", "３５０５８２１９９００１０１１２３４", " " + numbers[0] + " ",
           numbers[1].lower(), numbers[2][:17] + "x", "'" + numbers[3], float(numbers[4]),
           "3.50582E+17", 350582199001011.0, int(numbers[5]), "350582900101123", "", "  ",
           "35058219900101123Ｘ", "٣٥٠٥٨٢١٩٩٠٠١٠١١٢٣٤"]
    names = ["王秀英", "王 秀 英", "", "张3", "阿依古丽·买买提", "John  Smith", "李" * 51, 12.0]
    phones = ["", 13812345678.0, "13812345678", "138 1234 5678", "+8613812345678", "12345",
              "0595-85123456", 1381234567.5, "１３８１２３４５６７８", True]
    genders = ["", "男", "女", "M", "未知", "女性"]
    for i, raw_id in enumerate(numbers + broken + odd):
        raw = {"name": names[i % len(names)], "id_number": raw_id,
               "phone": phones[i % len(phones)], "gender": genders[i % len(genders)],
               "village": " 坑口村 ", "employer": "", "note": ""}
        values, errors, warnings = clean_person(raw)
        ref = clean_trainee(TraineeInput(**raw))  # type: ignore[arg-type]
        assert {e.field for e in errors} == {
            {"name": "姓名", "id_number": "身份证号", "phone": "联系电话",
             "gender": "性别"}[e.field] for e in ref.errors}, raw
        assert [e.message for e in errors] == [e.message for e in ref.errors], raw
        assert list(warnings) == list(ref.warnings), raw
        for key in ("name", "id_number", "gender", "birth_date", "phone", "village"):
            if not any(e.field == key for e in ref.errors):
                assert values[key] == getattr(ref.data, key), (key, raw)


# --- values -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "2025-09-16", "2025/09/16", "2025.9.16", "2025年9月16日", "2025年9月16号", "20250916",
    " 2025 - 9 - 16 ", "２０２５年９月１６日", "2025-09-16 09:30", "2025年9月16日（星期二）",
    "2025/9/16 上午", D(2025, 9, 16), dt.datetime(2025, 9, 16, 14, 0), 20250916.0])
def test_dates_in_every_form(value: object) -> None:
    assert parse_date(value) == (D(2025, 9, 16), None)  # type: ignore[arg-type]


def test_dates_that_need_a_word_or_are_wrong() -> None:
    day, warning = parse_date(45916.0)
    assert day == D(2025, 9, 16) and "Excel日期" in (warning or "")
    assert parse_date("9月16日", 2025) == (D(2025, 9, 16), "日期“9月16日”未写年份，按2025年计")
    assert parse_date_range("2025.9.16-9.18") == (D(2025, 9, 16), D(2025, 9, 18), None)
    assert parse_date_range("2025年9月16日至18日") == (D(2025, 9, 16), D(2025, 9, 18), None)
    assert parse_date_range("2025-09-16~2025-10-02")[:2] == (D(2025, 9, 16), D(2025, 10, 2))
    for bad, message in (("9月16日", "无法识别"), ("2025-02-30", "不存在"), ("下周三", "无法识别"),
                         ("", "未填日期"), (3.5, "无法识别")):
        with pytest.raises(ValidationError, match=message):
            parse_date(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "number", "approx"), [
    (200, 200, False), (200.0, 200, False), ("200", 200, False), ("200人", 200, False),
    ("约200人", 200, True), ("200余人", 200, True), ("1,200人次", 1200, False),
    ("1.2万人次", 12000, False), ("", 0, False), ("-", 0, False), ("无", 0, False),
    ("共计80人", 80, False), ("３０", 30, False)])
def test_counts(value: object, number: int, approx: bool) -> None:
    got, warning = parse_count(value)  # type: ignore[arg-type]
    assert got == number and (warning is not None) == approx


def test_bad_counts() -> None:
    for bad in ("二百人", 12.5, "12.5人", "很多"):
        with pytest.raises(ValidationError):
            parse_count(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "fen"), [
    (1500.5, 150050), ("1,500.50元", 150050), ("1500.5", 150050), ("¥1500", 150000),
    ("1.5万元", 1500000), (0.1 + 0.2, 30), (1500, 150000), ("", 0), (19.99, 1999)])
def test_money_is_decimal_fen(value: object, fen: int) -> None:
    assert parse_money_fen(value)[0] == fen  # type: ignore[arg-type]


def test_hours() -> None:
    assert parse_tenths("2学时", "学时") == 20
    assert parse_tenths(2.5, "学时") == 25
    assert parse_tenths("3小时", "学时") == 30
    assert parse_tenths("", "学时") == 0
    with pytest.raises(ValidationError, match="最多一位小数"):
        parse_tenths("2.25", "学时")
    assert Decimal("0.1") * 10 == 1  # (money and hours never go through float arithmetic)


# --- the activity ledger ------------------------------------------------------------------------

def ledger(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "活动台账"
    ws["A1"] = "金井镇2025年科普活动台账"
    ws.merge_cells("A1:J1")
    ws.append(["序号", "活动日期", "活动名称", "活动形式", "主题活动", "参与人数", "重点人群",
               "经费（元）", "学时", "活动地点"])
    ws.append([1, D(2025, 9, 16), "防范电信诈骗讲座", "报告会", "科普日", "约200人", "老年人、村民",
               "1,500.50元", "", "坑口村文化中心"])  # 3
    ws.append([2, "2025/09/17", "科普展", "展示", "科技周", "200人", "青少年", 1500.5, "",
               "金井中学"])  # 4
    ws.append([3, "2025.9.18", "茶叶种植技术", "培训班", "", 45.0, "农民", "", "2学时", ""])  # 5
    ws.append([4, "2025年9月19日", "科普知识竞赛", "知识竞答", "三下乡", "60", "学生", "", "", ""])
    ws.append([5, "2025-09-20", "科普座谈", "座谈会", "", 30, "", "", "", ""])  # 7: unknown form
    ws.append([6, "2025-03-05", "节水宣传", "宣传", "", 100, "", "", "", ""])  # 8: locked month
    ws.append([7, "2025/9/21", "健康科普直播", "直播", "", "3000", "", "", "", ""])  # 9: online
    ws.append([8, "2025-09-16", "防范电信诈骗讲座", "讲座", "科普日", 200, "", "", "", ""])  # 10
    ws.append([9, "2025年13月1日", "月份写错", "讲座", "", 10, "", "", "", ""])  # 11
    ws.append([10, "9月22日", "垃圾分类宣传", "", "文明实践", 80, "居民、外星人", "", "", ""])  # 12
    ws.append(["小计", "", "", "", "", 4725])  # 13
    ws["A14"] = "填报人：张文书"
    ws.merge_cells("A14:J14")
    wb.save(path)
    return path


@pytest.fixture
def locked_march(db: Database, office: OfficeInfo) -> None:
    with db.write() as s:
        s.add(Period(office_id=office.id, month="2025-03", status="submitted"))


def test_activity_ledger_rows(db: Database, office: OfficeInfo, locked_march: None,
                              tmp_path: Path) -> None:
    sheet = read_workbook(ledger(tmp_path / "台账.xlsx"))[0]
    guess = detect_header(sheet, ACTIVITY_FIELDS)
    assert guess.excel_row == 2
    assert guess.mapping == {"title": 2, "start_date": 1, "form": 3, "campaign": 4, "groups": 6,
                             "address": 9, "spending": 7, "train_hours": 8, "attend": 5}
    with db.session() as s:
        plan = plan_activity_import(s, office, sheet)
        cat = {(e.kind, e.code): e for e in
               (find_entry(s, k, c) for k, c in (("form", "讲座"), ("campaign", "全国科普日"),
                                                 ("group", "老年人"), ("group", "农民")))
               if e is not None}
    rows = rows_by_number(plan)
    assert {n: r.status for n, r in rows.items()} == {
        3: NEW, 4: NEW, 5: NEW, 6: NEW, 7: INVALID, 8: INVALID, 9: NEW, 10: DUPLICATE,
        11: INVALID, 12: NEW, 13: TOTAL, 14: NOTE}
    first = rows[3].values["input"]
    assert (first.start_date, first.form_id, first.campaign_id, first.attend,
            first.spending_fen) == (D(2025, 9, 16), cat["form", "讲座"].id,
                                    cat["campaign", "全国科普日"].id, 200, 150050)
    assert [g.group_id for g in first.groups] == [cat["group", "农民"].id,
                                                 cat["group", "老年人"].id]  # catalog order
    assert rows[3].warnings == ("参与人次“约200人”按 200 计",)
    second = rows[4].values
    assert (second["form"], second["campaign"], second["spending_fen"]) == (
        "科普展览", "科技活动周", 150050)
    assert rows[5].values["input"].train_hours_x10 == 20
    assert rows[5].values["form"] == "培训"
    assert (rows[6].values["campaign"], rows[6].values["groups"]) == (
        "文化科技卫生“三下乡”", "青少年")
    (unknown,) = rows[7].errors
    assert (unknown.field, unknown.value) == ("活动形式", "座谈会")
    assert "可选：科普讲座/报告会、科普展览" in unknown.message
    (locked,) = rows[8].errors
    assert locked.field == "开始日期" and "2025年3月已上报并锁定" in locked.message
    online = rows[9].values["input"]
    assert (online.online, online.attend, online.views) == (True, 0, 3000)
    assert "记为线上浏览量" in rows[9].warnings[0]
    assert "与第3行是同一活动" in rows[10].note
    assert rows[11].errors[0].message == "日期“2025年13月1日”不存在（2025年13月1日）"
    twelfth = rows[12]
    assert twelfth.values["input"].start_date == D(2025, 9, 22)
    assert twelfth.values["form"] == "科普宣传咨询"  # no form given: 宣传 in the title
    assert twelfth.values["campaign"] == "新时代文明实践科普行动"
    assert twelfth.values["groups"] == "社区居民"
    assert any("未写年份，按2025年计" in w for w in twelfth.warnings)
    assert any("未填活动形式，按活动名称判为“科普宣传咨询”" in w for w in twelfth.warnings)
    assert any("重点人群“外星人”不在目录中" in w for w in twelfth.warnings)
    report = report_dict(plan)
    assert [(i["row"], i["field"]) for i in report["invalid"]] == [
        (7, "活动形式"), (8, "开始日期"), (11, "开始日期")]


def test_activity_ledger_apply(db: Database, office: OfficeInfo, locked_march: None,
                               tmp_path: Path) -> None:
    source = ledger(tmp_path / "台账.xlsx")
    sheet = read_workbook(source)[0]
    with db.session() as s:
        plan = plan_activity_import(s, office, sheet)
    before = counts(db)
    with pytest.raises(ImportRefusedError):
        apply_activity_import(db, office, plan)
    assert counts(db) == before
    result = apply_activity_import(db, office, plan, skip_invalid=True)
    assert (result.imported, result.merged, result.duplicates_in_file, result.invalid_skipped) \
        == (6, 0, 1, 3)
    assert counts(db)["audit_log"] == before["audit_log"] + 1
    with db.session() as s:
        figs = compute_figures(s, office, ReportPeriod.parse("2025-09"))
        assert s.query(Activity).filter_by(title="茶叶种植技术").one().train_hours_x10 == 20
    assert figs.value("act.count") == 6
    assert figs.value("act.attend") == 200 + 200 + 45 + 60 + 80
    assert figs.value("act.online.views") == 3000
    assert figs.value("camp.全国科普日.count") == 1
    assert figs.value("form.讲座.count") == 1
    assert figs.value("fund.spent") == Decimal("3001.00")
    assert figs.value("train.hours") == Decimal("2.0")
    with db.session() as s:  # the search index follows bulk-inserted activities too
        from db.ledger import LedgerFilter, ledger_ids

        assert len(ledger_ids(s, office.id, LedgerFilter(text="电信诈骗"))) == 1

    book = write_error_workbook(plan, sheet, error_workbook_path(source))
    ws = openpyxl.load_workbook(book).active
    assert [ws.cell(r, 3).value for r in (2, 3, 4)] == ["科普座谈", "节水宣传", "月份写错"]
    assert ws.cell(1, 11).value == "错误说明"
    assert ws.cell(2, 11).value.startswith("（原第7行）活动形式")

    with db.session() as s:
        again = plan_activity_import(s, office, sheet)
    assert (again.new, again.existing, again.duplicates) == (0, 6, 1)
    assert apply_activity_import(db, office, again, skip_invalid=True).written is False


def test_activity_cancel_rolls_back(db: Database, office: OfficeInfo, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["日期", "活动名称", "活动形式", "参与人次", "重点人群"])
    for i in range(600):
        ws.append([D(2025, 1, 1) + dt.timedelta(days=i % 300), f"科普讲座第{i + 1}场", "讲座",
                   50, "老年人"])
    wb.save(tmp_path / "many.xlsx")
    with db.session() as s:
        plan = plan_activity_import(s, office, read_workbook(tmp_path / "many.xlsx")[0])
    assert plan.new == 600
    content = dump(db)
    messages: list[str] = []
    with pytest.raises(ImportCancelledError):
        apply_activity_import(db, office, plan, progress=lambda _p, m: messages.append(m),
                              is_cancelled=lambda: any("（1200/1200）" in m for m in messages))
    assert dump(db) == content


def test_fast_path_gives_exactly_the_careful_result(db: Database, office: OfficeInfo,
                                                    registered: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import db.imports.trainees as trainee_import

    rng = random.Random(3)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["序号", "姓名", "性别", "身份证号", "手机", "类别", "村", "工作单位", "备注",
               "出生日期"])
    names = ["王秀英", "王 秀 英", " 李四", "全红", "单雄", "合计", "张3", "阿依古丽·买买提", "",
             "姓名", "备注：无", "Lily Wang"]
    numbers = [person_id(1950 + i % 60, i % 1000) for i in range(400)]
    ids: list[object] = [*numbers, numbers[0].lower(), numbers[1][:17] + "x", float(numbers[2]),
                         " " + numbers[3], numbers[4].translate(FULL_WIDTH), "", REGISTERED,
                         "350582190001011234", "990101199001011234", numbers[5][:17] + "0"]
    phones: list[object] = ["", 13812345678.0, "13812345678", "138 1234 5678", 1381234567.0,
                            "0595-85123456", 12.5, 13812345678]
    genders = ["", "男", "女", "男性", "M", "未知", " 女"]
    categories = ["", "农民", "村民", "外星人", " 老年人", "教师", 3.0]
    villages = ["", "坑口村", " 塘东村 ", "村" * 101, 5.0]

    def pick(values: list[object], clean: int) -> object:
        """Mostly one of the first ``clean`` (tidy) values, now and then a messy one."""
        return rng.choice(values[:clean] if rng.random() < 0.93 else values[clean:])

    for n in range(1500):
        ws.append([n + 1, pick(names, 2), pick(genders, 3), pick(ids, 400), pick(phones, 3),
                   pick(categories, 3), pick(villages, 3), rng.choice(["", "金井中学"]),
                   rng.choice(["", "备注"]), pick(["", D(1970, 5, 9), "1970.5.9", "不详"], 1)])
    ws.append(["合计"])
    wb.save(tmp_path / "mixed.xlsx")
    sheet = read_workbook(tmp_path / "mixed.xlsx")[0]

    accepted = []
    make = trainee_import.fast_cleaner

    def counting(*args):  # noqa: ANN002, ANN202
        clean = make(*args)
        return lambda row: accepted.append(clean(row) is not None) or clean(row)

    monkeypatch.setattr(trainee_import, "fast_cleaner", counting)

    def plan_rows(fast: bool):  # noqa: ANN202
        monkeypatch.setattr(trainee_import, "FAST_PATH", fast)
        with db.session() as s:
            plan = plan_trainee_import(s, office, sheet)
        return [(r.excel_row, r.status, r.values, r.errors, r.warnings, r.note) for r in plan.rows]

    fast, careful = plan_rows(True), plan_rows(False)
    assert len({r[1] for r in fast}) >= 5  # the sheet really mixes new, duplicate, invalid ...
    assert 100 < sum(accepted) < len(accepted) - 100  # and both paths are taken
    for quick, slow in zip(fast, careful, strict=True):
        assert quick == slow


def test_a_ledger_with_only_activity_content_takes_it_as_the_name() -> None:
    from db.imports.mapping import guess_mapping

    mapping, _score = guess_mapping(["时间", "地点", "活动内容", "参加人数"], ACTIVITY_FIELDS)
    assert mapping == {"title": 2, "start_date": 0, "address": 1, "attend": 3}
    mapping, _score = guess_mapping(["活动名称", "活动内容", "日期"], ACTIVITY_FIELDS)
    assert mapping == {"title": 0, "start_date": 2, "description": 1}


def test_base_13_weighted_sum_is_the_gb11643_check() -> None:
    from db.idcard import check_digit
    from db.imports.people import _CHECK_CHARS, _weighted_sum

    rng = random.Random(11)
    for _ in range(2000):
        digits = "".join(rng.choice("0123456789") for _ in range(17))
        assert _CHECK_CHARS[_weighted_sum(digits) % 11] == check_digit(digits)


def test_the_fast_path_checks_every_id_number_like_the_careful_path(
        db: Database, office: OfficeInfo, monkeypatch: pytest.MonkeyPatch) -> None:
    """Right and wrong check characters (X and x too), impossible dates, unknown provinces."""
    import db.imports.trainees as trainee_import
    from db.imports.reader import SheetData

    rng = random.Random(5)
    numbers: list[object] = []
    for _ in range(1500):
        number = make_id_number(rng.choice(("350582", "110101", "650102", "820000")),
                                D(1900, 1, 1) + dt.timedelta(days=rng.randrange(46000)),
                                rng.randrange(1000))
        numbers.append(rng.choice([
            number, number.lower(), number[:17] + rng.choice("0123456789Xx"),
            number[:6] + rng.choice(["19000229", "20230230", "18991231", "21000101", "19991301",
                                     "19990100"]) + number[14:],
            rng.choice(["00", "10", "39", "99", "83", "71"]) + number[2:]]))
    numbers += numbers[::30]  # the same people again
    rows = [["序号", "姓名", "身份证号"], *([n + 1, "王秀英", v] for n, v in enumerate(numbers))]
    sheet = SheetData("名单", rows)

    def plan_rows(fast: bool):  # noqa: ANN202
        monkeypatch.setattr(trainee_import, "FAST_PATH", fast)
        with db.session() as s:
            plan = plan_trainee_import(s, office, sheet)
        return [(r.excel_row, r.status, r.values, r.errors, r.warnings, r.note)
                for r in plan.rows]

    fast, careful = plan_rows(True), plan_rows(False)
    assert {r[1] for r in fast} >= {NEW, DUPLICATE, INVALID}
    assert sum(r[1] == NEW for r in fast) > 300
    assert fast == careful


# --- big sheets: read without calamine's second pass ------------------------------------------

def _sheet_xml(rows: str, tail: str = "", head: str = "") -> str:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<dimension ref="A1:L400"/>{head}<sheetData>{rows}</sheetData>{tail}</worksheet>')


def _cells(r: int, *values: object, with_refs: bool = True) -> str:
    out = []
    for c, value in enumerate(values):
        ref = f' r="{chr(65 + c)}{r}"' if with_refs else ""
        if isinstance(value, str):
            out.append(f'<c{ref} t="inlineStr"><is><t>{value}</t></is></c>')
        elif value is not None:
            out.append(f"<c{ref}><v>{value}</v></c>")
    return "".join(out)


def _rows(count: int, *, refs: str = "all", gap: tuple[int, int] = (0, 0)) -> str:
    """``count`` roster rows; ``refs``: which rows carry r="…" (all / some / none)."""
    out = []
    for n in range(1, count + 1):
        if gap[0] <= n < gap[1]:
            continue
        attr = f' r="{n}"' if refs == "all" or (refs == "some" and n % 7 == 0) else ""
        values = ("王秀英" if n % 3 else "李 四", person_id(1950 + n % 50, n % 1000),
                  13800000000 + n, "坑口村&amp;塘东村" if n % 5 else "",
                  "合计" if n % 4 == 0 else None)
        out.append(f'<row{attr} spans="1:5">{_cells(n, n, *values, with_refs=refs != "none")}'
                   "</row>")
    return "".join(out)


MERGES = ('<mergeCells count="2"><mergeCell ref="A1:E1"/><mergeCell ref="E4:E5"/>'
          "</mergeCells>")
ROWS = _rows(400)
BUSY_TAIL = ('<conditionalFormatting sqref="A1:A9"><cfRule type="expression" priority="1">'
             "<formula>A1&lt;3</formula></cfRule></conditionalFormatting>" + MERGES
             + '<hyperlinks><hyperlink ref="B2" r:id="rId1"/></hyperlinks>'
             "<headerFooter><oddHeader>&amp;C第&amp;P页</oddHeader></headerFooter>")
NAMES = ["王秀英", "李四", "张三&amp;李四", "欧阳娜娜", " 陈七 "]
SHARED = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<sst xmlns="http://schemas.'
          'openxmlformats.org/spreadsheetml/2006/main" count="5" uniqueCount="5">'
          + "".join(f'<si><t xml:space="preserve">{n}</t></si>' for n in NAMES) + "</sst>")
EXCEL_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<worksheet xmlns="http://'
              'schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.open'
              'xmlformats.org/officeDocument/2006/relationships" xmlns:mc="http://schemas.open'
              'xmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac xr" xmlns:x14ac="'
              'http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" xmlns:xr="http://sch'
              'emas.microsoft.com/office/spreadsheetml/2014/revision" xr:uid="{00000000-0001-0000'
              '-0000-000000000000}"><sheetPr><pageSetUpPr fitToPage="1"/></sheetPr><dimension re'
              'f="A1:F400"/><sheetViews><sheetView tabSelected="1" workbookViewId="0"><selection'
              ' activeCell="B3" sqref="B3"/></sheetView></sheetViews><sheetFormatPr defaultRowHei'
              'ght="14.25" x14ac:dyDescent="0.2"/><cols><col min="1" max="1" width="6.625" cust'
              'omWidth="1"/></cols><sheetData>')
EXCEL_TAIL = ('</sheetData>' + MERGES + '<phoneticPr fontId="1" type="noConversion"/><pageMargins'
              ' left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/><page'
              'Setup paperSize="9" orientation="landscape" r:id="rId1"/><extLst><ext uri="{CCE6A5'
              '57-97BC-4b89-ADB6-D9C93CAAB3DF}" xmlns:x14="http://schemas.microsoft.com/office/spr'
              'eadsheetml/2009/9/main"><x14:dataValidations count="1" xmlns:xm="http://schemas.mi'
              'crosoft.com/office/excel/2006/main"><x14:dataValidation type="list"><x14:formula1>'
              '<xm:f>Sheet2!$A$1:$A$5</xm:f></x14:formula1><xm:sqref>C3:C400</xm:sqref></x14:data'
              "Validation></x14:dataValidations></ext></extLst></worksheet>")


def _shared_rows(count: int) -> str:
    return "".join(
        f'<row r="{n}" spans="1:6" x14ac:dyDescent="0.2"><c r="A{n}" s="1"><v>{n}</v></c>'
        f'<c r="B{n}" s="2" t="s"><v>{n % len(NAMES)}</v></c><c r="C{n}" t="str"><f>A{n}*2</f>'
        f'<v>{2 * n}</v></c><c r="D{n}" s="3"><v>{45000 + n}</v></c><c r="E{n}" t="b"><v>{n % 2}'
        f'</v></c><c r="F{n}" t="e"><v>#N/A</v></c></row>' for n in range(1, count + 1))


# layout → how it is read, rearranged / also in two halves: "whole", "halves" or "as it is"
WHOLE, HALVES, AS_IT_IS = ("whole", "whole"), ("whole", "halves"), ("as it is", "as it is")
SHEET_LAYOUTS = {
    "plain": (_sheet_xml(ROWS, MERGES + '<pageMargins left="0.7" right="0.7"/>'), HALVES),
    "no merged cells": (_sheet_xml(ROWS), HALVES),
    "no XML declaration": (_sheet_xml(ROWS, MERGES).split("\n", 1)[1], HALVES),
    "rows without numbers": (_sheet_xml(_rows(400, refs="none"), MERGES), WHOLE),
    "some rows numbered": (_sheet_xml(_rows(400, refs="some"), MERGES), HALVES),
    "a gap": (_sheet_xml(_rows(400, gap=(150, 330)), MERGES), HALVES),
    "wide at the end": (_sheet_xml(_rows(380) + '<row r="399">' + _cells(399, *range(12))
                                   + "</row>", MERGES), HALVES),
    "wide at the start": (_sheet_xml('<row r="2"><c r="L2"><v>7</v></c></row>'
                                     + ROWS[ROWS.index('<row r="3"'):]), HALVES),
    "the second half further right": (_sheet_xml(_rows(200) + "".join(
        f'<row r="{n}"><c r="C{n}"><v>{n}</v></c><c r="D{n}" t="inlineStr"><is><t>'
        f'{"长" * 200}</t></is></c></row>' for n in range(201, 401)), MERGES), HALVES),
    "pretty printed": (_sheet_xml(ROWS.replace("</row>", "</row>\n    "), "\n  " + MERGES + "\n"),
                       HALVES),
    # the halves overlap: calamine reads the file as it is
    "rows out of order": (_sheet_xml(ROWS[ROWS.index('<row r="201"'):] + _rows(200), MERGES),
                          ("whole", "as it is")),
    "a busy tail": (_sheet_xml(ROWS, BUSY_TAIL), HALVES),
    "nothing but a title": (_sheet_xml('<row r="1">' + _cells(1, "标题") + "</row>", MERGES),
                            WHOLE),
    "empty": (_sheet_xml(""), WHOLE),
    "as Excel writes it": (EXCEL_HEAD + _shared_rows(400) + EXCEL_TAIL, HALVES),
    "a comment in the tail": (_sheet_xml(ROWS, "<!-- x -->" + MERGES), AS_IT_IS),
    "a comment in the head": (_sheet_xml(ROWS, MERGES, "<!-- x -->"), AS_IT_IS),
    "two merge lists": (_sheet_xml(ROWS, MERGES + MERGES.replace("A1:E1", "A2:E2")), AS_IT_IS),
    "merged cells before the rows": (_sheet_xml(ROWS, head=MERGES), AS_IT_IS),
    "merged cells among the rows": (_sheet_xml(ROWS.replace('<row r="9"', MERGES + '<row r="9"'),
                                               MERGES.replace("A1:E1", "A2:E2")), AS_IT_IS),
    "a second sheetData": (_sheet_xml(ROWS, MERGES + "<sheetData></sheetData>"), AS_IT_IS),
    "not UTF-8": (_sheet_xml(ROWS, MERGES).replace('encoding="UTF-8"', 'encoding="GBK"'),
                  AS_IT_IS),
    "cells after the end": (_sheet_xml(ROWS, MERGES).replace(
        "</worksheet>", '<sheetData><row r="500"><c r="A500"><v>1</v></c></row></sheetData>'
        "</worksheet>"), AS_IT_IS),
}


def _workbook_with(path: Path, sheet_xml: str, *, more_sheets: bool = False,
                   shared: str = SHARED) -> Path:
    wb = openpyxl.Workbook()
    wb.active.title = "花名册"
    wb.active["A1"] = "x"
    if more_sheets:
        wb.create_sheet("说明")["A1"] = "填表说明"
        hidden = wb.create_sheet("隐藏")
        hidden["B2"] = 3.5
        hidden.sheet_state = "hidden"
    wb.save(path)
    with zipfile.ZipFile(path) as src:
        parts = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in parts:
            out.writestr(info, sheet_xml.encode() if info.filename == "xl/worksheets/sheet1.xml"
                         else data)
        if 't="s"' in sheet_xml:
            out.writestr("xl/sharedStrings.xml", shared)
    return path


def _read_three_ways(path: Path, monkeypatch: pytest.MonkeyPatch, threshold: int = 0
                     ) -> tuple[list, list, list, list[str]]:
    """read_workbook as calamine reads the file, rearranged, and rearranged in two halves."""
    import db.imports.reader as reader

    how: list[str] = []
    real_read, real_join = reader._read_big_sheet, reader._join_halves

    def read(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        how.append("whole")
        got = real_read(*args, **kwargs)
        if got is None:
            how[-1] = "as it is"
        return got

    def join(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        how[-1] = "halves"
        return real_join(*args, **kwargs)

    monkeypatch.setattr(reader, "_read_big_sheet", read)
    monkeypatch.setattr(reader, "_join_halves", join)
    monkeypatch.setattr(reader, "_cores", lambda: 2)
    out = []
    for rearrange, split in ((1 << 40, 1 << 40), (threshold, 1 << 40), (threshold, threshold)):
        monkeypatch.setattr(reader, "REARRANGE_MIN_BYTES", rearrange)
        monkeypatch.setattr(reader, "SPLIT_MIN_BYTES", split)
        out.append(read_workbook(path))
    return out[0], out[1], out[2], how[1:]


@pytest.mark.parametrize("layout", sorted(SHEET_LAYOUTS))
def test_big_sheets_read_exactly_as_calamine_reads_them(
        layout: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    xml, expected = SHEET_LAYOUTS[layout]
    path = _workbook_with(tmp_path / "名单.xlsx", xml)
    plain, whole, halves, how = _read_three_ways(path, monkeypatch)
    assert whole == plain
    assert halves == plain
    assert tuple(how) == expected
    if layout in ("plain", "a busy tail", "rows out of order"):
        assert plain[0].merged == ((0, 0, 0, 4), (3, 4, 4, 4))
        assert plain[0].rows[4][4] == plain[0].rows[3][4] == "坑口村&塘东村"  # filled in
    if layout == "as Excel writes it":  # shared strings, formulas, booleans
        assert plain[0].rows[2][:5] == [3.0, "欧阳娜娜", "6", 45003.0, True]


def test_the_big_sheet_among_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _workbook_with(tmp_path / "名单.xlsx", _sheet_xml(ROWS, BUSY_TAIL), more_sheets=True)
    plain, whole, halves, how = _read_three_ways(path, monkeypatch, threshold=4096)
    assert [s.name for s in plain] == ["花名册", "说明", "隐藏"]
    assert plain[2].hidden
    assert whole == plain and halves == plain and how == ["whole", "halves"]


def test_many_shared_strings_beside_a_small_sheet(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Read whole, calamine would read the shared strings twice: only in halves then."""
    names = [f"学员{n}号" for n in range(4000)]
    shared = SHARED.replace('count="5" uniqueCount="5"', 'count="4000" uniqueCount="4000"')
    shared = shared[:shared.index("<si>")] + "".join(f"<si><t>{n}</t></si>" for n in names) \
        + "</sst>"
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c><c r="B{n}" t="s"><v>{n * 7 % 4000}'
                   f'</v></c><c r="C{n}" t="inlineStr"><is><t>{"长" * 40}</t></is></c></row>'
                   for n in range(1, 1201))
    path = _workbook_with(tmp_path / "名单.xlsx", _sheet_xml(rows, MERGES), shared=shared)
    plain, whole, halves, how = _read_three_ways(path, monkeypatch)
    assert whole == plain and halves == plain and how == ["as it is", "halves"]
    assert plain[0].rows[1][1] == "学员14号"


def test_an_openpyxl_roster_with_dates_and_formulas(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "金井镇花名册"
    ws.merge_cells("A1:F1")
    ws.append(["序号", "姓名", "身份证号", "出生日期", "到场", "备注"])
    for n in range(600):
        ws.append([n + 1, f"王{n}", person_id(1960 + n % 40, n % 1000), D(1960 + n % 40, 5, 9),
                   n % 2 == 0, "=1+1" if n % 50 == 0 else dt.datetime(2025, 9, 16, 9, 30)])
    ws.append([])
    ws.append(["合计", "600人"])
    ws.merge_cells("A605:F605")
    wb.save(tmp_path / "名单.xlsx")
    plain, whole, halves, how = _read_three_ways(tmp_path / "名单.xlsx", monkeypatch)
    assert whole == plain and halves == plain and how == ["whole", "halves"]
    assert set(plain[0].merged) == {(0, 0, 0, 5), (604, 0, 604, 5)}
    assert isinstance(plain[0].rows[2][3], dt.date)


def test_a_damaged_big_sheet_is_refused_as_before(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Bytes changed inside the sheet's compressed data: the same outcome both ways."""
    import db.imports.reader as reader

    monkeypatch.setattr(reader, "_cores", lambda: 2)
    good = _workbook_with(tmp_path / "好.xlsx", _sheet_xml(ROWS, MERGES)).read_bytes()
    with zipfile.ZipFile(tmp_path / "好.xlsx") as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename)
    rng = random.Random(2)
    for n in range(12):
        data = bytearray(good)
        at = start + rng.randrange(info.compress_size)
        data[at] ^= rng.randrange(1, 256)
        path = tmp_path / f"坏{n}.xlsx"
        path.write_bytes(bytes(data))
        outcomes = []
        for rearrange, split in ((1 << 40, 1 << 40), (0, 1 << 40), (0, 0)):
            monkeypatch.setattr(reader, "REARRANGE_MIN_BYTES", rearrange)
            monkeypatch.setattr(reader, "SPLIT_MIN_BYTES", split)
            try:
                outcomes.append(read_workbook(path))
            except KepuError as err:
                outcomes.append(type(err))
        assert outcomes[0] == outcomes[1] == outcomes[2]


def test_a_big_roster_is_read_without_the_second_pass_by_default(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import db.imports.reader as reader

    path = _workbook_with(tmp_path / "名单.xlsx", _sheet_xml(_rows(5000), MERGES))
    with zipfile.ZipFile(path) as archive:
        size = archive.getinfo("xl/worksheets/sheet1.xml").file_size
    assert size >= reader.SPLIT_MIN_BYTES
    for halves in (True, False, None):
        assert reader._read_big_sheet(path, ["花名册"], halves=halves) is not None
    monkeypatch.setattr(reader, "REARRANGE_MIN_BYTES", 1 << 40)
    plain = read_workbook(path)
    monkeypatch.undo()
    assert read_workbook(path) == plain
