"""Queries behind the activity ledger: filter and sort in SQL, fetch rows in pages.

The ledger model holds the ordered ids of the matching activities and asks for
plain rows a page at a time, so 20 000 activities cost one id query plus the
rows on screen.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from db.activities import locked_months
from db.indicators import effective_attend
from db.periods import month_key

QUICK_RANGES = ("本月", "上月", "本季度", "本年", "上年")


@dataclass(frozen=True)
class LedgerFilter:
    """What the clerk filters by; every field is optional."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    form_id: str | None = None
    campaign_id: str | None = None
    group_id: str | None = None
    topic_id: str | None = None
    village: str | None = None
    text: str = ""
    missing_evidence: bool = False


@dataclass(frozen=True)
class LedgerRow:
    """One line of the ledger, as plain values."""

    id: str
    start_date: dt.date
    end_date: dt.date
    title: str
    form: str
    campaign: str
    village: str
    address: str
    online: bool
    is_training: bool
    attend: int  # the 人次 it counts for (0 for online)
    views: int
    groups: str  # "老年人、社区居民"
    spending_fen: int
    evidence: int
    roster: int
    locked: bool


# Sort keys → SQL expressions (all on the activity table ``a``).
SORTS = {
    "start_date": "a.start_date",
    "title": "a.title",
    "form": "(SELECT sort_order FROM catalog_entry WHERE id = a.form_id)",
    "campaign": "(SELECT sort_order FROM catalog_entry WHERE id = a.campaign_id)",
    "village": "a.village",
    "attend": "CASE WHEN a.online THEN -1 ELSE max(a.attend,"
              " (SELECT COUNT(*) FROM attendance t WHERE t.activity_id = a.id)) END",
    "groups": "(SELECT min(e.sort_order) FROM activity_group g JOIN catalog_entry e"
              " ON e.id = g.group_id WHERE g.activity_id = a.id)",
    "spending": "a.spending_fen",
    "evidence": "(SELECT COUNT(*) FROM attachment x WHERE x.activity_id = a.id)",
    "status": "a.start_date",
}


def quick_range(name: str, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The dates of a quick pick: 本月, 上月, 本季度, 本年, 上年."""
    today = today or dt.date.today()
    y, m = today.year, today.month
    if name == "本月":
        return dt.date(y, m, 1), dt.date(y, m, calendar.monthrange(y, m)[1])
    if name == "上月":
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        return dt.date(y, m, 1), dt.date(y, m, calendar.monthrange(y, m)[1])
    if name == "本季度":
        first = 3 * ((m - 1) // 3) + 1
        return dt.date(y, first, 1), dt.date(y, first + 2,
                                             calendar.monthrange(y, first + 2)[1])
    if name == "本年":
        return dt.date(y, 1, 1), dt.date(y, 12, 31)
    if name == "上年":
        return dt.date(y - 1, 1, 1), dt.date(y - 1, 12, 31)
    raise ValueError(name)


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _where(office_id: str, flt: LedgerFilter) -> tuple[list[str], dict[str, Any]]:
    where = ["a.office_id = :office"]
    params: dict[str, Any] = {"office": office_id}
    if flt.date_from:
        where.append("a.start_date >= :date_from")
        params["date_from"] = flt.date_from.isoformat()
    if flt.date_to:
        where.append("a.start_date <= :date_to")
        params["date_to"] = flt.date_to.isoformat()
    for name in ("form_id", "campaign_id"):
        value = getattr(flt, name)
        if value:
            where.append(f"a.{name} = :{name}")
            params[name] = value
    if flt.group_id:
        where.append("EXISTS (SELECT 1 FROM activity_group g WHERE g.activity_id = a.id"
                     " AND g.group_id = :group_id)")
        params["group_id"] = flt.group_id
    if flt.topic_id:
        where.append("EXISTS (SELECT 1 FROM activity_topic p WHERE p.activity_id = a.id"
                     " AND p.topic_id = :topic_id)")
        params["topic_id"] = flt.topic_id
    if flt.village:
        where.append("a.village = :village")
        params["village"] = flt.village
    if flt.missing_evidence:
        where.append("NOT EXISTS (SELECT 1 FROM attachment x WHERE x.activity_id = a.id)")
    # Each word must appear somewhere in the text columns. Words of three or more
    # characters use the trigram index; shorter ones a scan with instr().
    for i, term in enumerate(flt.text.split()):
        key = f"t{i}"
        if len(term) >= 3:
            where.append(f"a.rowid IN (SELECT rowid FROM activity_fts WHERE activity_fts"
                         f" MATCH :{key})")
            params[key] = _fts_phrase(term)
        else:
            where.append(
                f"(instr(a.title, :{key}) OR instr(a.village, :{key}) OR instr(a.address, :{key})"
                f" OR instr(a.organizer, :{key}) OR instr(a.co_organizers, :{key})"
                f" OR instr(a.description, :{key}))"
            )
            params[key] = term
    return where, params


def ledger_ids(session: Session, office_id: str, flt: LedgerFilter | None = None,
               sort: str = "start_date", descending: bool = True) -> list[str]:
    """Ids of the matching activities in display order (newest first by default)."""
    flt = flt or LedgerFilter()
    where, params = _where(office_id, flt)
    direction = "DESC" if descending else "ASC"
    order = SORTS.get(sort, SORTS["start_date"])
    sql = (f"SELECT a.id FROM activity a WHERE {' AND '.join(where)}"
           f" ORDER BY {order} {direction}, a.start_date {direction}, a.rowid {direction}")
    return list(session.scalars(text(sql), params))


_ROWS = text(
    "SELECT a.id, a.start_date, a.end_date, a.title, f.name, f.code, f.props,"
    " COALESCE(c.name, ''), a.village, a.address, a.online, a.attend, a.views,"
    " a.spending_fen,"
    " (SELECT COUNT(*) FROM attendance t WHERE t.activity_id = a.id),"
    " (SELECT COUNT(*) FROM attachment x WHERE x.activity_id = a.id),"
    " (SELECT group_concat(name, '、') FROM (SELECT e.name FROM activity_group g"
    "   JOIN catalog_entry e ON e.id = g.group_id WHERE g.activity_id = a.id"
    "   ORDER BY e.sort_order))"
    " FROM activity a JOIN catalog_entry f ON f.id = a.form_id"
    " LEFT JOIN catalog_entry c ON c.id = a.campaign_id"
    " WHERE a.id IN :ids"
).bindparams(bindparam("ids", expanding=True))


def ledger_rows(session: Session, office_id: str, ids: Sequence[str]) -> list[LedgerRow]:
    """The rows of ``ids``, in the same order (ids that no longer exist are skipped)."""
    if not ids:
        return []
    locked = locked_months(session, office_id)
    found: dict[str, LedgerRow] = {}
    for (aid, start, end, title, form, form_code, props, campaign, village, address, online,
         attend, views, spending, roster, evidence, groups) in session.execute(
            _ROWS, {"ids": list(ids)}):
        start_date = dt.date.fromisoformat(start)
        form_props = json.loads(props) if isinstance(props, str) else (props or {})
        is_online = bool(online) or bool(form_props.get("online"))
        is_training = form_code == "培训"
        found[aid] = LedgerRow(
            id=aid,
            start_date=start_date,
            end_date=dt.date.fromisoformat(end),
            title=title,
            form=form,
            campaign=campaign,
            village=village,
            address=address,
            online=is_online,
            is_training=is_training,
            attend=effective_attend(is_training, is_online, roster, attend),
            views=views,
            groups=groups or "",
            spending_fen=spending,
            evidence=evidence,
            roster=roster,
            locked=month_key(start_date) in locked,
        )
    return [found[i] for i in ids if i in found]


def ledger_count(session: Session, office_id: str) -> int:
    """How many activities the office has in all."""
    return int(session.scalar(text("SELECT COUNT(*) FROM activity WHERE office_id = :o"),
                              {"o": office_id}) or 0)


def village_choices(session: Session, office_id: str) -> list[str]:
    """The 村/社区 names used so far, most used first (for filters and completion)."""
    rows = session.execute(
        text("SELECT village FROM activity WHERE office_id = :o AND village != ''"
             " GROUP BY village ORDER BY COUNT(*) DESC, village"),
        {"o": office_id},
    )
    return [r[0] for r in rows]
