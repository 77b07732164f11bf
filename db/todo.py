"""The dashboard's to-do list: returns due, evidence missing, rosters missing, campaigns ahead."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from db.catalogs import list_catalog
from db.offices import OfficeInfo
from db.reporting import MonthState, year_states


@dataclass(frozen=True)
class UpcomingCampaign:
    """A 主题活动 whose usual date falls in the coming days."""

    campaign_id: str
    name: str
    day: dt.date
    when: str  # "9月第三周", "5月12日"


@dataclass(frozen=True)
class TodoList:
    """What needs the clerk's attention."""

    # past months of the year not (re)submitted (but not those before the program was
    # used with nothing recorded in them: see MonthState.before_use)
    unreported: tuple[MonthState, ...]
    missing_evidence: tuple[str, ...]  # activity ids of the year without 佐证材料
    missing_roster: tuple[str, ...]  # training ids of the year without a 花名册
    upcoming: tuple[UpcomingCampaign, ...]

    def overdue(self, today: dt.date) -> tuple[MonthState, ...]:
        return tuple(m for m in self.unreported if m.overdue(today))


def campaign_date(props: dict[str, object], year: int) -> dt.date | None:
    """The usual date of a campaign in a year, from its catalog props.

    A fixed day (世界环境日 6月5日) is that day; "第三周" (全国科普日) is the Monday
    of the third full week; a month alone is its first day.
    """
    month = props.get("month")
    if not isinstance(month, int) or not 1 <= month <= 12:
        return None
    day = props.get("day")
    if isinstance(day, int):
        return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))
    when = str(props.get("when", ""))
    if "第三周" in when:
        first = dt.date(year, month, 1)
        first_monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
        return first_monday + dt.timedelta(days=14)
    return dt.date(year, month, 1)


def upcoming_campaigns(session: Session, today: dt.date,
                       days: int = 30) -> list[UpcomingCampaign]:
    """Campaigns whose usual date is within ``days`` from ``today`` (this or next year)."""
    out = []
    for c in list_catalog(session, "campaign", include_hidden=False):
        for year in (today.year, today.year + 1):
            day = campaign_date(c.props, year)
            if day is not None and today <= day <= today + dt.timedelta(days=days):
                out.append(UpcomingCampaign(c.id, c.name, day,
                                            str(c.props.get("when") or f"{day.month}月")))
    return sorted(out, key=lambda u: u.day)


def todo_list(session: Session, office: OfficeInfo, today: dt.date | None = None) -> TodoList:
    """Everything the dashboard lists for ``today`` (default: the real today)."""
    today = today or dt.date.today()
    this_month = (today.year, today.month)
    states = [m for m in year_states(session, office, today.year)
              if (int(m.month[:4]), int(m.month[5:])) < this_month]
    if today.month == 1:  # in January, December of last year is the one due
        states = [m for m in year_states(session, office, today.year - 1)
                  if m.month.endswith("-12")] + states
    unreported = tuple(m for m in states if not m.locked and not m.before_use)
    params = {"office": office.id, "start": f"{today.year}-01-01", "end": today.isoformat()}
    missing_evidence = tuple(session.scalars(text(
        "SELECT a.id FROM activity a WHERE a.office_id = :office"
        " AND a.start_date BETWEEN :start AND :end"
        " AND NOT EXISTS (SELECT 1 FROM attachment x WHERE x.activity_id = a.id)"
        " ORDER BY a.start_date DESC"), params))
    missing_roster = tuple(session.scalars(text(
        "SELECT a.id FROM activity a JOIN catalog_entry f ON f.id = a.form_id"
        " WHERE a.office_id = :office AND f.code = '培训'"
        " AND a.start_date BETWEEN :start AND :end"
        " AND NOT EXISTS (SELECT 1 FROM attendance t WHERE t.activity_id = a.id)"
        " ORDER BY a.start_date DESC"), params))
    return TodoList(unreported, missing_evidence, missing_roster,
                    tuple(upcoming_campaigns(session, today)))
