"""Activity commands and ledger queries."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from db.activities import (
    ActivityInput,
    ActivityValidationError,
    GroupShare,
    create_activity,
    delete_activity,
    duplicate_input,
    entry_defaults,
    get_activity,
    restore_activity,
    update_activity,
    validate_activity,
)
from db.catalogs import find_entry
from db.database import Database
from db.errors import PeriodLockedError
from db.indicators import compute_figures
from db.ledger import LedgerFilter, ledger_ids, ledger_rows, quick_range, village_choices
from db.models import Activity, Attendance, AuditLog, Period, Trainee
from db.offices import OfficeInfo
from db.periods import Period as ReportPeriod

D = dt.date


def cat(db: Database, kind: str, code: str) -> str:
    with db.session() as s:
        entry = find_entry(s, kind, code)
        assert entry is not None
        return entry.id


def lecture(db: Database, **changes: object) -> ActivityInput:
    base = ActivityInput(
        title="防范电信诈骗科普讲座",
        start_date=D(2025, 9, 16),
        end_date=D(2025, 9, 16),
        form_id=cat(db, "form", "讲座"),
        village="坑口村",
        address="坑口村文化活动中心",
        organizer="金井镇科协",
        attend=120,
    )
    return dataclasses.replace(base, **changes)


def errors_of(db: Database, office: OfficeInfo, data: ActivityInput) -> dict[str, str]:
    with db.session() as s:
        return {e.field: e.message for e in validate_activity(s, office, data)}


def test_create_read_update(db: Database, office: OfficeInfo) -> None:
    old, farmers = cat(db, "group", "老年人"), cat(db, "group", "农民")
    data = lecture(db, groups=(GroupShare(farmers), GroupShare(old, 70)),  # catalog order
                   topic_ids=(cat(db, "topic", "智能技术运用"),), spending_fen=150050,
                   campaign_id=cat(db, "campaign", "全国科普日"))
    aid = create_activity(db, office, data, user="张文书")
    with db.session() as s:
        detail = get_activity(s, aid)
    assert detail is not None and detail.data == data and not detail.locked
    changed = dataclasses.replace(data, attend=150, groups=(GroupShare(farmers, 20),),
                                  title="  防范电信诈骗讲座（第二场）  ")
    update_activity(db, office, aid, changed, user="张文书")
    with db.session() as s:
        detail = get_activity(s, aid)
        assert detail is not None
        assert detail.data.title == "防范电信诈骗讲座（第二场）"  # trimmed
        assert detail.data.groups == (GroupShare(farmers, 20),)
        update = s.query(AuditLog).filter_by(record_id=aid, action="update").one()
        assert update.changes["attend"] == [120, 150]
        figs = compute_figures(s, office, ReportPeriod.parse("2025-09"))
    assert figs["group.农民.attend"].period == 20
    assert figs["camp.全国科普日.attend"].period == 150


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"title": "   "}, "title", "请填写活动名称"),
        ({"title": "讲" * 201}, "title", "不能超过200个字"),
        ({"end_date": D(2025, 9, 15)}, "end_date", "结束日期不能早于开始日期"),
        ({"end_date": D(2026, 9, 20)}, "end_date", "不能超过一年"),
        ({"attend": -5}, "attend", "参与人次不能为负数"),
        ({"spending_fen": -1}, "spending_fen", "经费不能为负数"),
        ({"attend": 10**12}, "attend", "参与人次数值过大"),
        ({"spending_fen": 10**19}, "spending_fen", "经费数值过大"),  # beyond SQLite's INTEGER
        ({"views": 300}, "views", "线下活动的浏览量不计入统计"),
        ({"form_id": "nope"}, "form_id", "请选择活动形式"),
    ],
)
def test_validation_messages(db: Database, office: OfficeInfo, changes: dict, field: str,
                             fragment: str) -> None:
    errors = errors_of(db, office, lecture(db, **changes))
    assert fragment in errors[field]


def test_online_activity_counts_views_not_attendance(db: Database, office: OfficeInfo) -> None:
    online = lecture(db, form_id=cat(db, "form", "线上"), attend=200)
    assert "线上活动按浏览量统计" in errors_of(db, office, online)["attend"]
    flagged = lecture(db, online=True, attend=200)  # an online lecture (live stream)
    assert "attend" in errors_of(db, office, flagged)
    assert errors_of(db, office, lecture(db, online=True, attend=0, views=3000)) == {}


def test_training_needs_hours_and_breakdown_cannot_exceed_total(db: Database,
                                                                office: OfficeInfo) -> None:
    training = lecture(db, form_id=cat(db, "form", "培训"))
    assert "培训请填写学时" in errors_of(db, office, training)["train_hours_x10"]
    over = lecture(db, attend=100, groups=(GroupShare(cat(db, "group", "老年人"), 80),
                                           GroupShare(cat(db, "group", "农民"), 30)))
    assert "分人群人次合计（110）超过了参与人次（100）" in errors_of(db, office, over)["groups"]
    dup = lecture(db, groups=(GroupShare(cat(db, "group", "老年人")),
                              GroupShare(cat(db, "group", "老年人"))))
    assert "选了两次" in errors_of(db, office, dup)["groups"]


def test_invalid_input_saves_nothing(db: Database, office: OfficeInfo) -> None:
    with pytest.raises(ActivityValidationError) as err:
        create_activity(db, office, lecture(db, title="", attend=-1))
    assert {e.field for e in err.value.errors} == {"title", "attend"}
    with db.session() as s:
        assert s.query(Activity).count() == 0


def test_locked_month_is_refused_in_validation_and_on_delete(db: Database,
                                                             office: OfficeInfo) -> None:
    aid = create_activity(db, office, lecture(db))
    aug = create_activity(db, office, lecture(db, start_date=D(2025, 8, 5),
                                              end_date=D(2025, 8, 5)))
    with db.write() as s:
        s.add(Period(office_id=office.id, month="2025-09", status="submitted"))
    assert "2025年9月已上报并锁定" in errors_of(db, office, lecture(db))["start_date"]
    with pytest.raises(ActivityValidationError, match="已上报并锁定"):
        update_activity(db, office, aid, lecture(db, attend=1))
    with pytest.raises(ActivityValidationError, match="已上报并锁定"):  # moving out of it
        update_activity(db, office, aid, lecture(db, start_date=D(2025, 10, 1),
                                                 end_date=D(2025, 10, 1)))
    with pytest.raises(ActivityValidationError, match="已上报并锁定"):  # moving into it
        update_activity(db, office, aug, lecture(db))
    with pytest.raises(PeriodLockedError):
        delete_activity(db, aid)
    with db.session() as s:
        detail = get_activity(s, aid)
        assert detail is not None and detail.locked and detail.data.attend == 120


def test_delete_and_restore_bring_back_roster_and_groups(db: Database,
                                                         office: OfficeInfo) -> None:
    data = lecture(db, form_id=cat(db, "form", "培训"), train_hours_x10=20, attend=0,
                   groups=(GroupShare(cat(db, "group", "老年人")),))
    aid = create_activity(db, office, data)
    with db.write() as s:
        t = Trainee(office_id=office.id, name="王秀英")
        s.add(t)
        s.flush()
        s.add(Attendance(activity_id=aid, trainee_id=t.id))
    snapshot = delete_activity(db, aid, user="张文书")
    with db.session() as s:
        assert get_activity(s, aid) is None
        assert s.query(Attendance).count() == 0
        deleted = s.query(AuditLog).filter_by(record_id=aid, action="delete").first()
        assert deleted is not None and deleted.changes["title"] == "防范电信诈骗科普讲座"
    restore_activity(db, snapshot)
    with db.session() as s:
        detail = get_activity(s, aid)
        assert detail is not None and detail.data == data and detail.roster_size == 1
        figs = compute_figures(s, office, ReportPeriod.parse("2025-09"))
    assert figs["train.attend"].period == 1


def test_duplicate_keeps_content_and_clears_counts(db: Database, office: OfficeInfo) -> None:
    aid = create_activity(db, office, lecture(db, spending_fen=5000, end_date=D(2025, 9, 17),
                                              groups=(GroupShare(cat(db, "group", "老年人"), 50),)))
    with db.session() as s:
        detail = get_activity(s, aid)
    assert detail is not None
    copy = duplicate_input(detail, D(2025, 10, 9))
    assert copy.title == detail.data.title and copy.village == "坑口村"
    assert (copy.start_date, copy.end_date) == (D(2025, 10, 9), D(2025, 10, 10))
    assert copy.attend == 0 and copy.spending_fen == 0
    assert copy.groups == (GroupShare(cat(db, "group", "老年人"), None),)


def test_entry_defaults_come_from_the_last_activity(db: Database, office: OfficeInfo) -> None:
    with db.session() as s:
        first = entry_defaults(s, office)
    assert first.organizer == "金井镇科协" and first.village == ""
    create_activity(db, office, lecture(db, village="塘东村", organizer="镇卫生院"))
    with db.session() as s:
        later = entry_defaults(s, office)
    assert (later.village, later.organizer) == ("塘东村", "镇卫生院")


@pytest.fixture
def ledger(db: Database, office: OfficeInfo) -> dict[str, str]:
    old, farmers = cat(db, "group", "老年人"), cat(db, "group", "农民")
    health = cat(db, "topic", "卫生健康")
    made = {
        "fraud": create_activity(db, office, lecture(db, groups=(GroupShare(old),))),
        "tea": create_activity(db, office, lecture(
            db, title="茶叶病虫害绿色防控培训", form_id=cat(db, "form", "培训"),
            train_hours_x10=20, attend=40, village="塘东村", start_date=D(2025, 8, 3),
            end_date=D(2025, 8, 3), groups=(GroupShare(farmers),))),
        "health": create_activity(db, office, lecture(
            db, title="高血压防治义诊", form_id=cat(db, "form", "宣传咨询"), attend=300,
            description="镇卫生院医生现场测血压", topic_ids=(health,), start_date=D(2025, 9, 2),
            end_date=D(2025, 9, 2), campaign_id=cat(db, "campaign", "全国科普日"))),
        "online": create_activity(db, office, lecture(
            db, title="防溺水安全短视频", form_id=cat(db, "form", "线上"), attend=0, views=5000,
            village="", start_date=D(2025, 7, 1), end_date=D(2025, 7, 1))),
    }
    return made


def test_ledger_filters_and_search(db: Database, office: OfficeInfo, ledger: dict) -> None:
    def ids(**kw: object) -> list[str]:
        with db.session() as s:
            return ledger_ids(s, office.id, LedgerFilter(**kw))  # type: ignore[arg-type]

    assert ids() == [ledger["fraud"], ledger["health"], ledger["tea"], ledger["online"]]
    assert ids(date_from=D(2025, 9, 1), date_to=D(2025, 9, 30)) == [ledger["fraud"],
                                                                    ledger["health"]]
    assert ids(form_id=cat(db, "form", "培训")) == [ledger["tea"]]
    assert ids(campaign_id=cat(db, "campaign", "全国科普日")) == [ledger["health"]]
    assert ids(group_id=cat(db, "group", "老年人")) == [ledger["fraud"]]
    assert ids(topic_id=cat(db, "topic", "卫生健康")) == [ledger["health"]]
    assert ids(village="塘东村") == [ledger["tea"]]
    assert ids(text="诈骗") == [ledger["fraud"]]  # two characters: scan
    assert ids(text="病虫害") == [ledger["tea"]]  # three: trigram index
    assert ids(text="测血压") == [ledger["health"]]  # found in the description
    assert ids(text="坑口 义诊") == [ledger["health"]]  # every word must match
    assert ids(text="不存在的词") == []
    assert ids(missing_evidence=True) == ids()


def test_ledger_search_follows_edits(db: Database, office: OfficeInfo, ledger: dict) -> None:
    update_activity(db, office, ledger["tea"], lecture(
        db, title="柑橘栽培技术培训", form_id=cat(db, "form", "培训"), train_hours_x10=20,
        attend=40, village="塘东村", start_date=D(2025, 8, 3), end_date=D(2025, 8, 3)))
    with db.session() as s:
        assert ledger_ids(s, office.id, LedgerFilter(text="病虫害")) == []
        assert ledger_ids(s, office.id, LedgerFilter(text="柑橘栽培")) == [ledger["tea"]]
    delete_activity(db, ledger["tea"])
    with db.session() as s:
        assert ledger_ids(s, office.id, LedgerFilter(text="柑橘栽培")) == []


def test_ledger_sorting_and_rows(db: Database, office: OfficeInfo, ledger: dict) -> None:
    with db.session() as s:
        by_attend = ledger_ids(s, office.id, sort="attend", descending=True)
        assert by_attend[0] == ledger["health"] and by_attend[-1] == ledger["online"]
        by_title = ledger_ids(s, office.id, sort="title", descending=False)
        rows = ledger_rows(s, office.id, by_title)
    assert [r.title for r in rows] == sorted(r.title for r in rows)
    row = {r.id: r for r in rows}
    assert row[ledger["fraud"]].groups == "老年人" and row[ledger["fraud"]].attend == 120
    assert row[ledger["online"]].online and row[ledger["online"]].attend == 0
    assert row[ledger["health"]].campaign == "全国科普日"
    assert row[ledger["tea"]].is_training and row[ledger["tea"]].form == "培训"
    with db.session() as s:
        assert village_choices(s, office.id)[0] == "坑口村"


def test_quick_ranges() -> None:
    today = D(2025, 1, 15)
    assert quick_range("本月", today) == (D(2025, 1, 1), D(2025, 1, 31))
    assert quick_range("上月", today) == (D(2024, 12, 1), D(2024, 12, 31))
    assert quick_range("本季度", D(2025, 8, 9)) == (D(2025, 7, 1), D(2025, 9, 30))
    assert quick_range("本年", today) == (D(2025, 1, 1), D(2025, 12, 31))
    assert quick_range("上年", today) == (D(2024, 1, 1), D(2024, 12, 31))
