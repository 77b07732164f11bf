"""The indicator computation on a small dataset whose figures are worked out by hand.

The office 金井镇 has 常住人口 1000 in 2025 (a per-year figure). Report period
2025-09 unless a test says otherwise.

September 2025
  A1 讲座 09-16 全国科普日, 120 人次, groups 老年人 + 社区居民 without breakdown
     → 60 / 60; 经费 1500.50 元, 资料 200 份, 报道 1 篇, 志愿者 5 人次 12.5 小时
  A2 宣传咨询 09-20 全国科普日, 301 人次, groups 老年人 100 + 农民 (open) + 青少年 (open)
     → 老年人 100; the other 201 shared in catalog order: 青少年 101, 农民 100; 资料 500 份
  A3 线上 09-18, 3400 浏览量, group 青少年 → counts as online, no 人次
  T1 培训 09-05 2学时, entered 999 人次 (ignored: it has a roster) roster P1 P2
  T2 培训 09-12 2学时, roster P1 P3
  T3 培训 09-26 2学时, roster P1 P3 P4
     P1 老年人 (three sessions: 3 人次, 1 人), P2 老年人, P3 农民, P4 no category
  T4 培训 09-10 3.5学时, no roster, 50 人次: 农民 30 + 产业工人 (open) → 20
August 2025
  B1 讲座 08-10, 80 人次, group 老年人 → 80; 经费 500.00 元
  B2 培训 08-15 2学时, roster P1
October 2025
  C1 培训 10-08 2学时, roster P5 (农民)
December 2024
  D1 讲座 2024-12-30, 1000 人次 (another year: never counted)
Sites: 科普e站 open since 2020; 科普书屋 opened 2025-10-01; 科普画廊 closed 2025-06-30.
Targets 2025: act.count 40, act.attend 2000, train.农民.attend 1560, fund.per_capita 2.00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from db.catalogs import find_entry
from db.database import Database
from db.indicators import compute_figures, group_shares, split_evenly
from db.models import (
    Activity,
    ActivityGroup,
    Attendance,
    OfficePopulation,
    Site,
    Target,
    Trainee,
)
from db.offices import OfficeInfo
from db.periods import Period

D = dt.date


@pytest.fixture
def data(db: Database, office: OfficeInfo) -> dict[str, str]:
    ids: dict[str, str] = {}
    with db.write() as s:
        def cat(kind: str, code: str) -> str:
            entry = find_entry(s, kind, code)
            assert entry is not None
            return entry.id

        def act(key: str, form: str, day: dt.date, attend: int = 0, *, campaign: str | None = None,
                groups: tuple[tuple[str, int | None], ...] = (), **fields: object) -> None:
            a = Activity(office_id=office.id, title=key, start_date=day, end_date=day,
                         form_id=cat("form", form),
                         campaign_id=cat("campaign", campaign) if campaign else None,
                         attend=attend, **fields)
            a.groups = [ActivityGroup(group_id=cat("group", g), attend=v) for g, v in groups]
            s.add(a)
            s.flush()
            ids[key] = a.id

        def person(key: str, category: str | None) -> None:
            t = Trainee(office_id=office.id, name=key,
                        category_id=cat("group", category) if category else None)
            s.add(t)
            s.flush()
            ids[key] = t.id

        def roster(training: str, *people: str) -> None:
            for p in people:
                s.add(Attendance(activity_id=ids[training], trainee_id=ids[p]))

        s.add(OfficePopulation(office_id=office.id, year=2025, population=1000))
        act("A1", "讲座", D(2025, 9, 16), 120, campaign="全国科普日",
            groups=(("老年人", None), ("社区居民", None)), spending_fen=150050,
            materials=200, media_reports=1, volunteers=5, volunteer_hours_x10=125)
        act("A2", "宣传咨询", D(2025, 9, 20), 301, campaign="全国科普日",
            groups=(("老年人", 100), ("农民", None), ("青少年", None)), materials=500)
        act("A3", "线上", D(2025, 9, 18), online=True, views=3400, groups=(("青少年", None),))
        act("T1", "培训", D(2025, 9, 5), 999, train_hours_x10=20)
        act("T2", "培训", D(2025, 9, 12), train_hours_x10=20)
        act("T3", "培训", D(2025, 9, 26), train_hours_x10=20)
        act("T4", "培训", D(2025, 9, 10), 50, train_hours_x10=35,
            groups=(("农民", 30), ("产业工人", None)))
        act("B1", "讲座", D(2025, 8, 10), 80, groups=(("老年人", None),), spending_fen=50000)
        act("B2", "培训", D(2025, 8, 15), train_hours_x10=20)
        act("C1", "培训", D(2025, 10, 8), train_hours_x10=20)
        act("D1", "讲座", D(2024, 12, 30), 1000)
        person("P1", "老年人")
        person("P2", "老年人")
        person("P3", "农民")
        person("P4", None)
        person("P5", "农民")
        roster("T1", "P1", "P2")
        roster("T2", "P1", "P3")
        roster("T3", "P1", "P3", "P4")
        roster("B2", "P1")
        roster("C1", "P5")
        s.add(Site(office_id=office.id, name="坑口村科普e站", kind_id=cat("site_kind", "科普e站"),
                   opened_on=D(2020, 1, 1)))
        s.add(Site(office_id=office.id, name="金井社区科普书屋",
                   kind_id=cat("site_kind", "科普书屋"), opened_on=D(2025, 10, 1)))
        s.add(Site(office_id=office.id, name="塘东村宣传栏", kind_id=cat("site_kind", "科普画廊"),
                   opened_on=D(2019, 5, 1), closed_on=D(2025, 6, 30)))
        for code, value in (("act.count", "40"), ("act.attend", "2000"),
                            ("train.农民.attend", "1560"), ("fund.per_capita", "2.00")):
            s.add(Target(office_id=office.id, year=2025, code=code, value=value))
    return ids


def figures(db: Database, office: OfficeInfo, period: str):  # noqa: ANN201
    with db.session() as s:
        return compute_figures(s, office, Period.parse(period))


def pair(figs, code: str) -> tuple[object, object]:  # noqa: ANN001
    f = figs[code]
    return f.period, f.ytd


# (code, 本期 2025-09, 本年累计 to 2025-09-30), each worked out in the module docstring.
SEPTEMBER = [
    ("act.count", 7, 9),  # A1 A2 A3 T1-T4 | + B1 B2
    ("act.offline.count", 6, 8),
    ("act.online.count", 1, 1),
    ("act.online.views", 3400, 3400),
    ("act.attend", 478, 559),  # 120+301+2+2+3+50 | +80+1
    ("form.讲座.count", 1, 2),
    ("form.讲座.attend", 120, 200),
    ("form.宣传咨询.attend", 301, 301),
    ("form.培训.count", 4, 5),
    ("form.培训.attend", 57, 58),
    ("form.线上.count", 1, 1),
    ("form.线上.attend", None, None),  # not applicable: online counts 浏览量
    ("form.展览.count", 0, 0),
    ("camp.全国科普日.count", 2, 2),
    ("camp.全国科普日.attend", 421, 421),
    ("camp.科技活动周.count", 0, 0),
    ("group.老年人.attend", 164, 245),  # 60+100+2+1+1 | +80+1
    ("group.社区居民.attend", 60, 60),
    ("group.青少年.attend", 101, 101),  # A3 is online: nothing
    ("group.农民.attend", 132, 132),  # 100+1+1+30
    ("group.产业工人.attend", 20, 20),
    ("train.count", 4, 5),
    ("train.hours", Decimal("9.5"), Decimal("11.5")),
    ("train.attend", 57, 58),  # 2+2+3+50 | +1
    ("train.people", 4, 4),  # P1-P4; P1 again in August
    ("train.老年人.attend", 4, 5),
    ("train.老年人.people", 2, 2),
    ("train.农民.attend", 32, 32),  # roster 2 + T4 breakdown 30
    ("train.农民.people", 1, 1),
    ("train.产业工人.attend", 20, 20),
    ("train.产业工人.people", 0, 0),
    ("vol.attend", 5, 5),
    ("vol.hours", Decimal("12.5"), Decimal("12.5")),
    ("material.copies", 700, 700),
    ("media.reports", 1, 1),
    ("fund.spent", Decimal("1500.50"), Decimal("2000.50")),
    ("fund.per_capita", Decimal("1.50"), Decimal("2.00")),  # ÷ 1000 people
    ("site.科普e站.count", 1, 1),
    ("site.科普书屋.count", 0, 0),  # opened in October
    ("site.科普画廊.count", 0, 0),  # closed in June
]


@pytest.mark.parametrize(("code", "period", "ytd"), SEPTEMBER, ids=[r[0] for r in SEPTEMBER])
def test_september_figures(db, office, data, code, period, ytd) -> None:  # noqa: ANN001
    figs = figures(db, office, "2025-09")
    assert pair(figs, code) == (period, ytd)


def test_one_person_three_sessions_is_three_attendances_one_person(db, office, data) -> None:  # noqa: ANN001
    with db.write() as s:
        s.query(Attendance).filter(Attendance.trainee_id != data["P1"]).delete()
    figs = figures(db, office, "2025-09")
    assert pair(figs, "train.attend") == (3 + 50, 3 + 50 + 1)  # P1 ×3 + T4's entered 50
    assert pair(figs, "train.people") == (1, 1)


def test_targets_and_rates(db, office, data) -> None:  # noqa: ANN001
    figs = figures(db, office, "2025-09")
    assert figs["act.count"].target == 40
    assert figs["act.count"].rate == Decimal("0.2250")  # 9 / 40
    assert figs["act.attend"].rate == Decimal("0.2795")  # 559 / 2000
    assert figs["train.农民.attend"].rate == Decimal("0.0205")  # 32 / 1560
    assert figs["fund.per_capita"].target == Decimal("2.00")
    assert figs["fund.per_capita"].rate == Decimal("1.0000")  # 2.00 / 2.00
    assert figs["act.online.views"].target is None and figs["act.online.views"].rate is None


def test_year_and_quarter(db, office, data) -> None:  # noqa: ANN001
    year = figures(db, office, "2025")
    assert pair(year, "act.count") == (10, 10)  # + C1; D1 is 2024
    assert pair(year, "train.people") == (5, 5)  # + P5
    assert pair(year, "site.科普书屋.count") == (1, 1)
    q3 = figures(db, office, "2025-Q3")
    assert pair(q3, "act.count") == (9, 9)
    assert pair(q3, "act.attend") == (559, 559)
    q4 = figures(db, office, "2025-Q4")
    assert pair(q4, "act.count") == (1, 10)
    assert pair(q4, "train.people") == (1, 5)
    last = figures(db, office, "2024-12")
    assert pair(last, "act.attend") == (1000, 1000)


def test_monthly_series(db, office, data) -> None:  # noqa: ANN001
    figs = figures(db, office, "2025-09")
    series = {m.month: (m.count, m.attend, m.train_attend, m.train_people) for m in figs.monthly}
    assert sorted(series) == list(range(1, 10))
    assert series[8] == (2, 81, 1, 1)
    assert series[9] == (7, 478, 57, 4)
    assert all(series[m] == (0, 0, 0, 0) for m in range(1, 8))


def test_group_breakdown_never_exceeds_total(db, office, data) -> None:  # noqa: ANN001
    figs = figures(db, office, "2025-09")
    groups = sum(f.period for c, f in figs.items.items() if c.startswith("group."))
    assert groups <= figs["act.attend"].period
    train_groups = sum(f.ytd for c, f in figs.items.items()
                       if c.startswith("train.") and c.endswith(".attend") and c.count(".") == 2)
    assert train_groups <= figs["train.attend"].ytd


def test_every_domain_code_is_present(db, office) -> None:  # noqa: ANN001
    figs = figures(db, office, "2025-09")
    fixed = ["act.count", "act.attend", "act.offline.count", "act.online.count",
             "act.online.views", "train.count", "train.hours", "train.attend", "train.people",
             "vol.attend", "vol.hours", "material.copies", "media.reports", "fund.spent",
             "fund.per_capita"]
    forms = ["讲座", "展览", "竞赛", "宣传咨询", "培训", "参观研学", "线上", "志愿服务", "其他"]
    groups = ["青少年", "农民", "产业工人", "老年人", "领导干部和公务员", "社区居民"]
    codes = (fixed + [f"form.{f}.{k}" for f in forms for k in ("count", "attend")]
             + [f"group.{g}.attend" for g in groups]
             + [f"train.{g}.{k}" for g in groups for k in ("attend", "people")]
             + ["camp.全国科普日.count", "camp.科技活动周.attend", "site.科普e站.count"])
    missing = [c for c in codes if c not in figs.items]
    assert not missing
    assert all(f.period == 0 or f.period is None or f.code == "fund.per_capita"
               for f in figs.items.values())


def test_office_catalog_entry_gets_its_own_code(db, office) -> None:  # noqa: ANN001
    from db.catalogs import add_entry

    with db.write() as s:
        add_entry(s, "campaign", "刺桐科学传播学者巡讲")
    figs = figures(db, office, "2025-09")
    assert "camp.刺桐科学传播学者巡讲.count" in figs.items


@pytest.mark.parametrize(
    ("total", "groups", "expected"),
    [
        (120, [("a", None), ("b", None)], {"a": 60, "b": 60}),
        (121, [("a", None), ("b", None)], {"a": 61, "b": 60}),
        (301, [("a", 100), ("b", None), ("c", None)], {"a": 100, "b": 101, "c": 100}),
        (50, [("a", 30), ("b", 20)], {"a": 30, "b": 20}),
        (50, [("a", 30), ("b", 10)], {"a": 30, "b": 10}),  # 10 left unattributed
        (50, [("a", 40), ("b", 40)], {"a": 40, "b": 10}),  # capped at the total
        (80, [("a", None)], {"a": 80}),
        (0, [("a", None), ("b", 5)], {"a": 0, "b": 0}),
    ],
)
def test_group_shares(total: int, groups: list, expected: dict) -> None:  # noqa: ANN001
    assert group_shares(total, groups) == expected
    assert sum(group_shares(total, groups).values()) <= total


def test_split_evenly() -> None:
    assert split_evenly(10, 3) == [4, 3, 3]
    assert split_evenly(0, 2) == [0, 0]
    assert split_evenly(5, 0) == []


def test_cached_roster_figures_follow_every_roster_change(db, office, data) -> None:  # noqa: ANN001
    from sqlalchemy import text

    def version() -> int:
        with db.session() as s:
            return s.execute(text("SELECT n FROM data_version WHERE name = 'roster'")).scalar()

    assert pair(figures(db, office, "2025-09"), "train.老年人.people") == (2, 2)
    before = version()
    with db.write() as s:  # an ordinary lecture leaves the roster figures alone
        s.add(Activity(office_id=office.id, title="新讲座", start_date=D(2025, 9, 1),
                       end_date=D(2025, 9, 1), form_id=s.get(Activity, data["A1"]).form_id,
                       attend=10))
    assert version() == before
    assert figures(db, office, "2025-09")["act.attend"].period == 488
    with db.write() as s:  # P2 becomes a 农民
        farmer = find_entry(s, "group", "农民").id
        s.get(Trainee, data["P2"]).category_id = farmer
    assert version() > before
    figs = figures(db, office, "2025-09")
    assert pair(figs, "train.老年人.people") == (1, 1)
    assert pair(figs, "train.农民.people") == (2, 2)
    with db.write() as s:  # T3 (P1 P3 P4) moves to October
        t3 = s.get(Activity, data["T3"])
        t3.start_date = t3.end_date = D(2025, 10, 2)
    figs = figures(db, office, "2025-09")
    assert figs["train.attend"].period == 57 - 3
    assert figs["train.people"].period == 3  # P4 only attended T3
    with db.write() as s:  # another roster entry
        s.add(Attendance(activity_id=data["T1"], trainee_id=data["P5"]))
    assert figures(db, office, "2025-09")["train.people"].period == 4
