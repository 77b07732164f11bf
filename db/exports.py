"""A period's records as plain values, for reports and the submission bundle.

Raw values only (身份证号 unmasked, money in 分): the writers decide what to mask
and how to format. Names are resolved from the catalogs.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session

from db.indicators import effective_attend


@dataclass(frozen=True)
class ActivityRecord:
    """One activity with every recorded field, names resolved."""

    id: str
    start_date: dt.date
    end_date: dt.date
    title: str
    form: str
    form_code: str
    campaign: str
    online: bool
    village: str
    address: str
    site: str
    organizer: str
    co_organizers: str
    attend: int  # the 人次 it counts for (roster for trainings that have one)
    entered_attend: int
    views: int
    groups: str  # "老年人（70）、农民" — a breakdown in brackets when given
    topics: str
    projects: str
    volunteers: int
    volunteer_hours_x10: int
    materials: int
    media_reports: int
    spending_fen: int
    train_hours_x10: int
    roster_size: int
    evidence: int
    description: str


class RosterRecord(NamedTuple):
    """One attendance: a person at a training (personal data unmasked).

    A named tuple, not a dataclass: a large month has 60 000+ of them, and a frozen
    dataclass costs about ten times as much to create.
    """

    activity_id: str
    training: str
    start_date: dt.date
    trainee_id: str
    name: str
    gender: str
    id_number: str | None
    birth_date: dt.date | None
    phone: str
    category: str
    village: str
    employer: str
    hours_x10: int


_ACTIVITIES = text(
    "SELECT a.id, a.start_date, a.end_date, a.title, f.name, f.code, f.props,"
    " COALESCE(c.name, ''), a.online, a.village, a.address, COALESCE(st.name, ''),"
    " a.organizer, a.co_organizers, a.attend, a.views, a.volunteers, a.volunteer_hours_x10,"
    " a.materials, a.media_reports, a.spending_fen, a.train_hours_x10, a.description,"
    " (SELECT COUNT(*) FROM attendance t WHERE t.activity_id = a.id),"
    " (SELECT COUNT(*) FROM attachment x WHERE x.activity_id = a.id),"
    " (SELECT group_concat(label, '、') FROM (SELECT e.name || CASE WHEN g.attend IS NULL"
    "   THEN '' ELSE '（' || g.attend || '）' END AS label FROM activity_group g"
    "   JOIN catalog_entry e ON e.id = g.group_id WHERE g.activity_id = a.id"
    "   ORDER BY e.sort_order)),"
    " (SELECT group_concat(name, '、') FROM (SELECT e.name FROM activity_topic p"
    "   JOIN catalog_entry e ON e.id = p.topic_id WHERE p.activity_id = a.id"
    "   ORDER BY e.sort_order)),"
    " (SELECT group_concat(name, '、') FROM (SELECT e.name FROM activity_project p"
    "   JOIN catalog_entry e ON e.id = p.project_id WHERE p.activity_id = a.id"
    "   ORDER BY e.sort_order))"
    " FROM activity a JOIN catalog_entry f ON f.id = a.form_id"
    " LEFT JOIN catalog_entry c ON c.id = a.campaign_id"
    " LEFT JOIN site st ON st.id = a.site_id"
    " WHERE a.office_id = :office AND a.start_date BETWEEN :start AND :end"
    " ORDER BY a.start_date, a.title, a.id"
)

_ROSTER_SQL = (  # run on the DB-API level: a large month fetches 60 000+ rows
    "SELECT a.id, a.title, a.start_date, t.id, t.name, t.gender, t.id_number, t.birth_date,"
    " t.phone, COALESCE(c.name, ''), t.village, t.employer,"
    " COALESCE(x.hours_x10, a.train_hours_x10)"
    " FROM attendance x JOIN activity a ON a.id = x.activity_id"
    " JOIN trainee t ON t.id = x.trainee_id"
    " LEFT JOIN catalog_entry c ON c.id = t.category_id"
    " JOIN catalog_entry f ON f.id = a.form_id AND f.code = '培训'"
    " WHERE a.office_id = :office AND a.start_date BETWEEN :start AND :end"
    " ORDER BY a.start_date, a.title, a.id, t.name, t.id"
)


def _date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value  # type: ignore[return-value]
    return dt.date.fromisoformat(str(value))


def activity_records(session: Session, office_id: str, start: dt.date,
                     end: dt.date) -> list[ActivityRecord]:
    """Activities starting between ``start`` and ``end`` (inclusive), by date."""
    out = []
    params = {"office": office_id, "start": start.isoformat(), "end": end.isoformat()}
    for r in session.execute(_ACTIVITIES, params):
        props = json.loads(r[6]) if isinstance(r[6], str) else (r[6] or {})
        online = bool(r[8]) or bool(props.get("online"))
        is_training = r[5] == "培训"
        out.append(ActivityRecord(
            id=r[0], start_date=_date(r[1]), end_date=_date(r[2]), title=r[3],  # type: ignore[arg-type]
            form=r[4], form_code=r[5], campaign=r[7], online=online, village=r[9],
            address=r[10], site=r[11], organizer=r[12], co_organizers=r[13],
            attend=effective_attend(is_training, online, r[23], r[14]), entered_attend=r[14],
            views=r[15], volunteers=r[16], volunteer_hours_x10=r[17], materials=r[18],
            media_reports=r[19], spending_fen=r[20], train_hours_x10=r[21], description=r[22],
            roster_size=r[23], evidence=r[24], groups=r[25] or "", topics=r[26] or "",
            projects=r[27] or "",
        ))
    return out


def roster_records(session: Session, office_id: str, start: dt.date,
                   end: dt.date) -> list[RosterRecord]:
    """Every attendance at trainings starting between ``start`` and ``end``."""
    params = {"office": office_id, "start": start.isoformat(), "end": end.isoformat()}
    # plain DB-API tuples, in the session's transaction: no Row objects for 60 000 rows
    raw = session.connection().connection.driver_connection
    assert raw is not None
    rows = raw.execute(_ROSTER_SQL, params).fetchall()
    # few training days, and people share birthdays: parse each distinct date once
    dates = {v: _date(v) for v in {r[2] for r in rows} | {r[7] for r in rows}}
    return [
        RosterRecord(r[0], r[1], dates[r[2]], r[3], r[4], r[5], r[6], dates[r[7]],  # type: ignore[arg-type]
                     r[8], r[9], r[10], r[11], r[12] or 0)
        for r in rows
    ]
