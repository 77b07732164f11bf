"""The one indicator computation: office + period → every indicator of DOMAIN.md.

Every figure shown anywhere (reports, dashboard, JSON) comes from
:func:`compute_figures`. Counting rules:

- An activity belongs to the month of its start date.
- 次数 counts activities (online and offline). 人次 counts attendances of offline
  activities: a training's roster when it has one, the entered 人次 otherwise.
  Online activities count 线上浏览量, never 人次.
- 人数 counts distinct trainees on training rosters (by person, i.e. 身份证号).
- 人次 by target group: roster trainings by the trainees' 人员类别; otherwise the
  entered per-group breakdown, and what the breakdown leaves open is shared
  evenly (largest remainder, catalog order) among the selected groups that have
  no figure of their own. A single selected group gets the whole 人次. So the
  groups of one activity never add up to more than its 人次.
- 阵地 counts sites open at the period's end.
- 本年累计 runs from 1 January to the period's end; 完成率 = 本年累计 ÷ 年度目标.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Union

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from db.catalogs import CatalogItem, all_catalogs
from db.models import Target
from db.offices import OfficeInfo, population_for
from db.periods import Period

Number = Union[int, Decimal]  # noqa: UP007 - readable alias

# Value kinds: how a figure is stored, summed and shown.
COUNT = "count"  # integer
HOURS = "hours"  # tenths of an hour in the data, Decimal with one place shown
MONEY = "money"  # 分 in the data, Decimal 元 with two places shown
PER_CAPITA = "per_capita"  # 元/人, Decimal with two places
CENT = Decimal("0.01")


# The indicator codes an entry of each catalog appears in ({code} is the entry's code).
CATALOG_INDICATORS: dict[str, tuple[str, ...]] = {
    "form": ("form.{code}.count", "form.{code}.attend"),
    "campaign": ("camp.{code}.count", "camp.{code}.attend"),
    "group": ("group.{code}.attend", "train.{code}.attend", "train.{code}.people"),
    "site_kind": ("site.{code}.count",),
}


@dataclass(frozen=True)
class IndicatorDef:
    """One indicator: its stable code, Chinese name, unit and section."""

    code: str
    name: str
    unit: str
    section: str
    kind: str = COUNT
    applicable: bool = True  # False: always "-" (e.g. 人次 of online activities)


@dataclass(frozen=True)
class Figure:
    """The values of one indicator for a period (None shows as "-")."""

    code: str
    name: str
    unit: str
    section: str
    kind: str
    period: Number | None
    ytd: Number | None
    target: Number | None
    rate: Decimal | None  # fraction, e.g. Decimal("0.7512")


@dataclass(frozen=True)
class MonthFigures:
    """The monthly series used by charts: 次数, 人次, 培训人次, 培训人数 per month."""

    month: int
    count: int
    attend: int
    train_attend: int
    train_people: int


@dataclass(frozen=True)
class Figures:
    """Everything one period's reports need, as plain values."""

    office: OfficeInfo
    period: Period
    population: int
    items: dict[str, Figure]
    monthly: tuple[MonthFigures, ...]

    def __getitem__(self, code: str) -> Figure:
        return self.items[code]

    def value(self, code: str, which: str = "period") -> Number | Decimal | None:
        """One value: ``which`` is period, ytd, target or rate."""
        return getattr(self.items[code], which)  # type: ignore[no-any-return]


def indicator_definitions(catalogs: dict[str, list[CatalogItem]]) -> list[IndicatorDef]:
    """Every indicator code, in report order, for the given catalogs."""
    d: list[IndicatorDef] = []
    sec = "科普活动"
    d += [
        IndicatorDef("act.count", "科普活动次数", "次", sec),
        IndicatorDef("act.attend", "科普活动参与人次", "人次", sec),
        IndicatorDef("act.offline.count", "其中：线下活动次数", "次", sec),
        IndicatorDef("act.online.count", "线上活动次数", "次", sec),
        IndicatorDef("act.online.views", "线上浏览量", "次", sec),
    ]
    sec = "按活动形式"
    for f in catalogs["form"]:
        online = bool(f.props.get("online"))
        d.append(IndicatorDef(f"form.{f.code}.count", f"{f.name} 次数", "次", sec))
        d.append(IndicatorDef(f"form.{f.code}.attend", f"{f.name} 人次", "人次", sec,
                              applicable=not online))
    sec = "按主题活动"
    for c in catalogs["campaign"]:
        d.append(IndicatorDef(f"camp.{c.code}.count", f"{c.name} 次数", "次", sec))
        d.append(IndicatorDef(f"camp.{c.code}.attend", f"{c.name} 人次", "人次", sec))
    sec = "按重点人群"
    for g in catalogs["group"]:
        d.append(IndicatorDef(f"group.{g.code}.attend", f"{g.name} 人次", "人次", sec))
    sec = "培训"
    d += [
        IndicatorDef("train.count", "培训期数", "期", sec),
        IndicatorDef("train.hours", "培训学时", "学时", sec, HOURS),
        IndicatorDef("train.attend", "培训人次", "人次", sec),
        IndicatorDef("train.people", "培训人数（去重）", "人", sec),
    ]
    for g in catalogs["group"]:
        d.append(IndicatorDef(f"train.{g.code}.attend", f"培训{g.name} 人次", "人次", sec))
        d.append(IndicatorDef(f"train.{g.code}.people", f"培训{g.name} 人数", "人", sec))
    sec = "志愿服务与宣传"
    d += [
        IndicatorDef("vol.attend", "志愿者人次", "人次", sec),
        IndicatorDef("vol.hours", "志愿服务时长", "小时", sec, HOURS),
        IndicatorDef("material.copies", "发放资料", "份", sec),
        IndicatorDef("media.reports", "媒体报道", "篇", sec),
    ]
    sec = "经费"
    d += [
        IndicatorDef("fund.spent", "科普经费支出", "元", sec, MONEY),
        IndicatorDef("fund.per_capita", "人均科普经费", "元/人", sec, PER_CAPITA),
    ]
    sec = "科普阵地"
    for k in catalogs["site_kind"]:
        d.append(IndicatorDef(f"site.{k.code}.count", f"{k.name} 数量", "个", sec))
    return d


def effective_attend(is_training: bool, is_online: bool, roster_size: int, entered: int) -> int:
    """The 人次 an activity counts for: its roster for a training that has one, the
    entered figure otherwise, and none for an online activity (it counts 浏览量)."""
    if is_online:
        return 0
    if is_training and roster_size:
        return roster_size
    return entered


def split_evenly(total: int, slots: int) -> list[int]:
    """``total`` shared among ``slots`` as evenly as integers allow, first slots first."""
    if slots <= 0 or total <= 0:
        return [0] * max(slots, 0)
    base, extra = divmod(total, slots)
    return [base + (1 if i < extra else 0) for i in range(slots)]


def group_shares(total: int, groups: list[tuple[str, int | None]]) -> dict[str, int]:
    """Attribute an activity's 人次 to its target groups (see module docstring).

    Args:
        total: the activity's 人次.
        groups: (group id, entered 人次 or None) in catalog order.

    Returns:
        group id → 人次; the values never add up to more than ``total``.
    """
    shares: dict[str, int] = {}
    remaining = total
    open_groups: list[str] = []
    for gid, value in groups:
        if value is None:
            open_groups.append(gid)
            continue
        given = min(value, remaining)
        shares[gid] = given
        remaining -= given
    for gid, part in zip(open_groups, split_evenly(remaining, len(open_groups)), strict=True):
        shares[gid] = part
    return shares


_ACTIVITIES = text(
    "SELECT id, CAST(substr(start_date, 6, 2) AS INTEGER), form_id, campaign_id, online,"
    " attend, views, volunteers, volunteer_hours_x10, materials, media_reports,"
    " spending_fen, train_hours_x10"
    " FROM activity WHERE office_id = :office AND start_date BETWEEN :start AND :end"
)
_GROUPS = text(
    "SELECT g.activity_id, g.group_id, g.attend FROM activity_group g"
    " JOIN activity a ON a.id = g.activity_id"
    " WHERE a.office_id = :office AND a.start_date BETWEEN :start AND :end"
)
_ROSTER_SIZES = text(
    "SELECT activity_id, COUNT(*) FROM attendance WHERE activity_id IN"
    " (SELECT id FROM activity WHERE office_id = :office AND start_date BETWEEN :start AND :end"
    " AND form_id = :training_form)"
    " GROUP BY activity_id"
)
# One row per person on a training roster: the months attended as a bit mask (the
# sum of distinct powers of two is their bitwise OR) and the offline attendances in
# the year and in the period. Trainee categories are looked up in Python: joining
# the trainee table here would cost a lookup per attendance.
_PEOPLE = text(
    "SELECT t.trainee_id,"
    " SUM(DISTINCT 1 << CAST(substr(a.start_date, 6, 2) AS INTEGER)),"
    " SUM(a.online = 0),"
    " SUM(a.online = 0 AND a.start_date >= :period_start)"
    " FROM attendance t JOIN activity a ON a.id = t.activity_id"
    " WHERE a.office_id = :office AND a.start_date BETWEEN :start AND :end"
    " AND a.form_id = :training_form"
    " GROUP BY t.trainee_id"
)
_CATEGORIES = text("SELECT id, category_id FROM trainee WHERE office_id = :office")
_SITES = text(
    "SELECT kind_id, COUNT(*) FROM site WHERE office_id = :office"
    " AND (opened_on IS NULL OR opened_on <= :end)"
    " AND (closed_on IS NULL OR closed_on > :end)"
    " GROUP BY kind_id"
)


@dataclass(frozen=True)
class _RosterAggregates:
    """What the rosters contribute, per category id (None: no category)."""

    roster_sizes: dict[str, int]
    # category id → [people in period, people in year, 人次 in period, 人次 in year]
    by_category: dict[str | None, tuple[int, int, int, int]]
    monthly_people: list[int]


# Per-person aggregates are the expensive part (one pass over every attendance of
# the year). They only change when a roster changes, which the ``data_version``
# counter (kept by triggers) tells; so they are cached under it.
_ROSTER_CACHE: dict[tuple[str, ...], tuple[int, _RosterAggregates]] = {}
_ROSTER_CACHE_SIZE = 16


def _roster_version(session: Session) -> int | None:
    try:
        return session.execute(
            text("SELECT n FROM data_version WHERE name = 'roster'")).scalar()
    except Exception:  # noqa: BLE001 - an older schema without the counter: no caching
        return None


def _roster_aggregates(session: Session, params: dict[str, str],
                       period: Period) -> _RosterAggregates:
    key = (str(session.get_bind().url), params["office"], params["start"], params["end"],
           period.start.isoformat(), params["training_form"])
    version = _roster_version(session)
    cached = _ROSTER_CACHE.get(key)
    if version is not None and cached is not None and cached[0] == version:
        return cached[1]
    roster_sizes: dict[str, int] = dict(session.execute(_ROSTER_SIZES, params).all())
    period_mask = sum(1 << m for m in period.months)
    category_of = dict(session.execute(_CATEGORIES, params).all())
    mask_counts: defaultdict[int, int] = defaultdict(int)
    sums: defaultdict[str | None, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for trainee_id, mask, attend_ytd, attend_period in session.execute(
        _PEOPLE, {**params, "period_start": period.start.isoformat()}
    ):
        mask_counts[mask] += 1
        row = sums[category_of.get(trainee_id)]
        row[0] += 1 if mask & period_mask else 0
        row[1] += 1
        row[2] += attend_period
        row[3] += attend_ytd
    monthly_people = [0] * 13
    for mask, n in mask_counts.items():
        for m in range(1, 13):
            if mask >> m & 1:
                monthly_people[m] += n
    result = _RosterAggregates(roster_sizes, {k: (v[0], v[1], v[2], v[3])
                                              for k, v in sums.items()}, monthly_people)
    if version is not None:
        if len(_ROSTER_CACHE) >= _ROSTER_CACHE_SIZE:
            _ROSTER_CACHE.pop(next(iter(_ROSTER_CACHE)))
        _ROSTER_CACHE[key] = (version, result)
    return result


class _Months:
    """Per-code sums for months 1..12 (index 0 unused)."""

    def __init__(self) -> None:
        self.data: defaultdict[str, list[int]] = defaultdict(lambda: [0] * 13)

    def add(self, code: str, month: int, value: int) -> None:
        if value:
            self.data[code][month] += value

    def total(self, code: str, months: Iterable[int]) -> int:
        row = self.data.get(code)
        return sum(row[m] for m in months) if row else 0


def _scale(kind: str, raw: int) -> Number:
    if kind == HOURS:
        value = Decimal(raw) / 10
        return int(value) if value == value.to_integral_value() else value
    if kind == MONEY:
        return (Decimal(raw) / 100).quantize(CENT)
    return raw


def _rate(ytd: Number | None, target: Number | None) -> Decimal | None:
    if ytd is None or target is None or target <= 0:
        return None
    return (Decimal(ytd) / Decimal(target)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def _target_value(kind: str, raw: str) -> Number:
    value = Decimal(raw)
    if kind in (MONEY, PER_CAPITA):
        return value.quantize(CENT, ROUND_HALF_UP)
    if value == value.to_integral_value():
        return int(value)
    return value


def compute_figures(session: Session, office: OfficeInfo, period: Period) -> Figures:
    """Compute every indicator for ``office`` and ``period``.

    Reads the year from 1 January to the period's end in a few aggregate
    queries and sums month by month, so 本期 and 本年累计 come from one pass.
    """
    catalogs = all_catalogs(session)
    by_id = {e.id: e for kind in catalogs.values() for e in kind}
    order = {e.id: i for i, e in enumerate(catalogs["group"])}
    training_forms = {e.id for e in catalogs["form"] if e.code == "培训"}
    training_form = next(iter(training_forms), "")
    online_forms = {e.id for e in catalogs["form"] if e.props.get("online")}
    params = {
        "office": office.id,
        "start": period.year_start.isoformat(),
        "end": period.end.isoformat(),
        "training_form": training_form,
    }

    rosters = _roster_aggregates(session, params, period)
    roster_sizes = rosters.roster_sizes
    groups: defaultdict[str, list[tuple[str, int | None]]] = defaultdict(list)
    for activity_id, group_id, value in session.execute(_GROUPS, params):
        groups[activity_id].append((group_id, value))

    acc = _Months()
    add = acc.add
    for (aid, month, form_id, campaign_id, online, attend, views, volunteers, vol_hours,
         materials, media, spending, train_hours) in session.execute(_ACTIVITIES, params):
        form = by_id[form_id].code
        campaign = by_id[campaign_id].code if campaign_id else None
        is_training = form_id in training_forms
        is_online = bool(online) or form_id in online_forms
        roster = roster_sizes.get(aid, 0) if is_training else 0
        people = effective_attend(is_training, is_online, roster, attend)
        add("act.count", month, 1)
        add(f"form.{form}.count", month, 1)
        if campaign:
            add(f"camp.{campaign}.count", month, 1)
        shares: dict[str, int] = {}  # by group; roster trainings are done per person below
        if is_online:
            add("act.online.count", month, 1)
            add("act.online.views", month, views)
        else:
            add("act.offline.count", month, 1)
            if not roster:
                picked = sorted(groups.get(aid, ()), key=lambda g: order.get(g[0], 0))
                shares = group_shares(attend, picked)
            add("act.attend", month, people)
            add(f"form.{form}.attend", month, people)
            if campaign:
                add(f"camp.{campaign}.attend", month, people)
            for gid, n in shares.items():
                add(f"group.{by_id[gid].code}.attend", month, n)
        if is_training:
            add("train.count", month, 1)
            add("train.hours", month, train_hours)
            add("train.attend", month, people)
            for gid, n in shares.items():
                add(f"train.{by_id[gid].code}.attend", month, n)
        add("vol.attend", month, volunteers)
        add("vol.hours", month, vol_hours)
        add("material.copies", month, materials)
        add("media.reports", month, media)
        add("fund.spent", month, spending)

    # Per person on the rosters: distinct people per month, period, year and
    # category, and roster 人次 by category. ``direct`` holds [period, ytd].
    direct: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
    for category_id, (people_p, people_y, attend_p, attend_y) in rosters.by_category.items():
        key = by_id[category_id].code if category_id else None
        for code, values in (("train.people", (people_p, people_y)),
                             (f"train.{key}.people", (people_p, people_y)),
                             (f"train.{key}.attend", (attend_p, attend_y)),
                             (f"group.{key}.attend", (attend_p, attend_y))):
            if key is None and code != "train.people":
                continue
            row = direct[code]
            row[0] += values[0]
            row[1] += values[1]
    monthly_people = rosters.monthly_people

    sites = {
        f"site.{by_id[kind_id].code}.count": n
        for kind_id, n in session.execute(_SITES, {"office": office.id,
                                                   "end": period.end.isoformat()})
    }
    targets = {
        code: value
        for code, value in session.execute(
            select(Target.code, Target.value).where(
                Target.office_id == office.id, Target.year == period.year
            )
        )
    }
    population = population_for(session, office, period.year)

    ytd_months = range(1, period.months[-1] + 1)
    items: dict[str, Figure] = {}
    for ind in indicator_definitions(catalogs):
        code = ind.code
        p: Number | None
        y: Number | None
        if not ind.applicable:
            p = y = None
        elif ind.kind == PER_CAPITA:
            spent_p = acc.total("fund.spent", period.months)
            spent_y = acc.total("fund.spent", ytd_months)
            p = (Decimal(spent_p) / 100 / population).quantize(CENT, ROUND_HALF_UP)
            y = (Decimal(spent_y) / 100 / population).quantize(CENT, ROUND_HALF_UP)
        elif code.startswith("site."):
            p = y = sites.get(code, 0)
        else:
            extra_p, extra_y = direct.get(code, (0, 0))
            p = _scale(ind.kind, acc.total(code, period.months) + extra_p)
            y = _scale(ind.kind, acc.total(code, ytd_months) + extra_y)
        raw_target = targets.get(code)
        target = _target_value(ind.kind, raw_target) if raw_target is not None else None
        items[code] = Figure(code, ind.name, ind.unit, ind.section, ind.kind, p, y, target,
                             _rate(y, target))

    monthly = tuple(
        MonthFigures(
            m,
            acc.total("act.count", (m,)),
            acc.total("act.attend", (m,)),
            acc.total("train.attend", (m,)),
            monthly_people[m],
        )
        for m in ytd_months
    )
    return Figures(office, period, population, items, monthly)
