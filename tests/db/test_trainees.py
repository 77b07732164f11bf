"""Trainees and rosters: cleaning, dedupe by 身份证号, search, 人次 and 人数."""

from __future__ import annotations

import datetime as dt

import pytest

from db.activities import ActivityInput, create_activity
from db.catalogs import find_entry
from db.database import Database
from db.errors import ValidationError
from db.idcard import make_id_number
from db.indicators import compute_figures
from db.offices import OfficeInfo
from db.periods import Period
from db.trainees import (
    TraineeInput,
    TraineeValidationError,
    add_person_to_roster,
    add_to_roster,
    clean_trainee,
    create_trainee,
    delete_trainee,
    get_trainee,
    mask_phone,
    normalize_gender,
    normalize_name,
    normalize_phone,
    remove_from_roster,
    roster,
    search_trainees,
    set_roster_hours,
    trainee_rows,
    update_trainee,
)

ID_WANG = make_id_number("350582", dt.date(1955, 3, 12), 2)  # 女
ID_CHEN = make_id_number("350582", dt.date(1958, 11, 23), 3)  # 男


@pytest.mark.parametrize(("raw", "expected"), [
    ("王 秀 英", "王秀英"), ("\u3000陈建国\xa0", "陈建国"), ("阿依古丽•买买提", "阿依古丽·买买提"),
    ("John  Smith", "John Smith"), ("ＬＩ　Ｍｉｎｇ", "LI Ming"),
])
def test_normalize_name(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


@pytest.mark.parametrize(("raw", "fragment"), [("", "姓名为空"), ("张三1", "含有数字"),
                                               ("名" * 51, "不能超过50个字")])
def test_bad_names(raw: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        normalize_name(raw)


@pytest.mark.parametrize(("raw", "expected"), [
    (13812345678.0, "13812345678"), (13812345678, "13812345678"), ("138 1234 5678", "13812345678"),
    ("+86 138-1234-5678", "13812345678"), ("13812345678.0", "13812345678"),
    ("0595-85123456", "0595-85123456"), ("85123456", "85123456"), ("", ""), (None, ""),
    ("１３８１２３４５６７８", "13812345678"),
])
def test_normalize_phone(raw: object, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "2381234567", "1.3812345678E10x", 1.5, True])
def test_bad_phones(raw: object) -> None:
    with pytest.raises(ValidationError, match="联系电话"):
        normalize_phone(raw)


def test_masks_and_gender_words() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0595-85123456") == "*********3456"
    assert [normalize_gender(v) for v in ("男", "女性", "F", "", None)] == ["男", "女", "女", "", ""]
    with pytest.raises(ValidationError, match="无法识别"):
        normalize_gender("未知")


def test_clean_trainee_derives_from_id_and_warns_on_contradiction() -> None:
    result = clean_trainee(TraineeInput(name="王 秀英", id_number=" 350582 1955 0312 0026 ",
                                        gender="男", phone=13812345678.0))
    assert result.ok
    assert result.data.name == "王秀英" and result.data.id_number == ID_WANG
    assert result.data.gender == "女" and result.data.birth_date == dt.date(1955, 3, 12)
    assert result.data.phone == "13812345678"
    assert result.warnings == ("性别“男”与身份证号不符，已按身份证号改为“女”",)


def test_clean_trainee_rejects_numbers_that_lost_digits() -> None:
    result = clean_trainee(TraineeInput(name="陈建国", id_number=3.50582195811230e17))
    assert not result.ok
    assert result.errors[0].field == "id_number" and "精度丢失" in result.errors[0].message


def test_register_dedupes_by_id_number(db: Database, office: OfficeInfo) -> None:
    wang = create_trainee(db, office, TraineeInput(name="王秀英", id_number=ID_WANG))
    with pytest.raises(TraineeValidationError, match="已登记为“王秀英”"):
        create_trainee(db, office, TraineeInput(name="王秀英", id_number=ID_WANG.lower()))
    chen = create_trainee(db, office, TraineeInput(name="陈建国", id_number=ID_CHEN))
    with pytest.raises(TraineeValidationError, match="已登记"):
        update_trainee(db, office, chen, TraineeInput(name="陈建国", id_number=ID_WANG))
    update_trainee(db, office, wang, TraineeInput(name="王秀英", id_number=ID_WANG,
                                                   village="坑口村", phone="13812345678"))
    with db.session() as s:
        row = trainee_rows(s, [wang])[0]
    assert row.village == "坑口村" and row.id_masked == "350582********0026"
    assert row.phone_masked == "138****5678"


def test_audit_trail_keeps_personal_numbers_masked(db: Database, office: OfficeInfo) -> None:
    """Creating, editing and deleting a person leaves no full 身份证号 or phone in audit_log."""
    import json

    from sqlalchemy import select

    from db.models import AuditLog

    wang = create_trainee(db, office, TraineeInput(name="王秀英", id_number=ID_WANG,
                                                   phone="13812345678"))
    update_trainee(db, office, wang, TraineeInput(name="王秀英", id_number=ID_WANG,
                                                   phone="13900001111", village="坑口村"))
    delete_trainee(db, wang)
    with db.session() as s:
        entries = s.execute(select(AuditLog.action, AuditLog.changes)
                            .where(AuditLog.table_name == "trainee")).all()
    assert [a for a, _c in entries] == ["create", "update", "delete"]
    text = json.dumps([c for _a, c in entries], ensure_ascii=False)
    for secret in (ID_WANG, "13812345678", "13900001111"):
        assert secret not in text
    assert "350582********0026" in text
    assert entries[1][1]["phone"] == ["138****5678", "139****1111"]
    assert entries[1][1]["village"] == ["", "坑口村"]  # other changes stay readable


def _training(db: Database, office: OfficeInfo, day: dt.date, title: str = "智慧助老培训") -> str:
    with db.session() as s:
        form = find_entry(s, "form", "培训").id
    return create_activity(db, office, ActivityInput(
        title=title, start_date=day, end_date=day, form_id=form, train_hours_x10=20))


def test_roster_people_and_attendances(db: Database, office: OfficeInfo) -> None:
    sessions = [_training(db, office, dt.date(2025, 9, d)) for d in (5, 12, 26)]
    wang, created = add_person_to_roster(db, office, sessions[0],
                                         TraineeInput(name="王秀英", id_number=ID_WANG))
    assert created
    again, created = add_person_to_roster(db, office, sessions[1],
                                          TraineeInput(name="王 秀英（重复录入）",
                                                       id_number=ID_WANG))
    assert again == wang and not created  # the same person, not a duplicate
    assert add_to_roster(db, sessions[2], [wang, wang]) == 1
    assert add_to_roster(db, sessions[2], [wang]) == 0
    chen = create_trainee(db, office, TraineeInput(name="陈建国", id_number=ID_CHEN))
    add_to_roster(db, sessions[0], [chen])
    with db.session() as s:
        figs = compute_figures(s, office, Period.parse("2025-09"))
        assert [r.name for r in roster(s, sessions[0])] == ["王秀英", "陈建国"]
    assert figs["train.attend"].period == 4  # 王 ×3 + 陈 ×1
    assert figs["train.people"].period == 2
    assert remove_from_roster(db, sessions[0], [chen]) == 1
    with db.session() as s:
        assert compute_figures(s, office, Period.parse("2025-09"))["train.people"].period == 1


def test_person_hours_and_trainings(db: Database, office: OfficeInfo) -> None:
    first = _training(db, office, dt.date(2025, 9, 5), "第一期")
    second = _training(db, office, dt.date(2025, 10, 5), "第二期")
    wang = create_trainee(db, office, TraineeInput(name="王秀英", id_number=ID_WANG))
    add_to_roster(db, first, [wang])
    add_to_roster(db, second, [wang])
    set_roster_hours(db, second, wang, 15)
    with db.session() as s:
        person = get_trainee(s, wang)
        assert person is not None
        assert [t.title for t in person.trainings] == ["第二期", "第一期"]
        assert person.total_hours_x10 == 35
        assert person.person.trainings == 2 and person.person.hours_x10 == 35
        own = {r.trainee_id: r for r in roster(s, second)}[wang]
        assert own.hours_x10 == 15 and own.own_hours
    with pytest.raises(ValidationError, match="参加过 2 期培训"):
        delete_trainee(db, wang)


def test_roster_only_on_trainings(db: Database, office: OfficeInfo) -> None:
    with db.session() as s:
        lecture = find_entry(s, "form", "讲座").id
    aid = create_activity(db, office, ActivityInput(
        title="讲座", start_date=dt.date(2025, 9, 1), end_date=dt.date(2025, 9, 1),
        form_id=lecture, attend=10))
    wang = create_trainee(db, office, TraineeInput(name="王秀英", id_number=ID_WANG))
    with pytest.raises(ValidationError, match="只有活动形式为“培训”"):
        add_to_roster(db, aid, [wang])


def test_search_by_name_id_tail_phone_village(db: Database, office: OfficeInfo) -> None:
    with db.session() as s:
        farmer = find_entry(s, "group", "农民").id
    wang = create_trainee(db, office, TraineeInput(name="王秀英", id_number=ID_WANG,
                                                   phone="13812345678", village="坑口村"))
    chen = create_trainee(db, office, TraineeInput(name="陈建国", id_number=ID_CHEN,
                                                   village="塘东村", category_id=farmer))
    nobody = create_trainee(db, office, TraineeInput(name="王大力"))
    with db.session() as s:
        def find(q: str = "", **kw: object) -> set[str]:
            return set(search_trainees(s, office.id, q, **kw))  # type: ignore[arg-type]

        assert find("王") == {wang, nobody}
        assert find(ID_CHEN) == {chen}
        assert find("0026") == {wang}  # last digits of the 身份证号
        assert find("1234567") == {wang}  # part of the phone
        assert find("塘东") == {chen}
        assert find(category_id=farmer) == {chen}
        assert find() == {wang, chen, nobody}
