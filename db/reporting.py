"""Reporting periods: each month's state, due date, submission lock and reopening.

A month moves 未上报 → 已上报. Submitting locks its records (database triggers
refuse changes); reopening needs a reason, is audited, and the next return of
that month is marked 第N次修订.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db import audit
from db.database import Database
from db.errors import ValidationError
from db.models import (
    Activity,
    Office,
    PERIOD_OPEN,
    PERIOD_REOPENED,
    PERIOD_SUBMITTED,
    Period,
    Setting,
    utcnow,
)
from db.offices import OfficeInfo

DUE_DAY_KEY = "report.due_day"
DEFAULT_DUE_DAY = 5
STATUS_LABELS = {PERIOD_OPEN: "未上报", PERIOD_SUBMITTED: "已上报", PERIOD_REOPENED: "已重新打开"}


@dataclass(frozen=True)
class MonthState:
    """One month of the reporting calendar."""

    month: str  # '2025-09'
    status: str  # open / submitted / reopened
    revision: int  # 0 for the first return; N after the N-th reopening
    due: dt.date
    submitted_at: dt.datetime | None
    reopen_reason: str
    # ended before this office started using the program, and nothing was recorded in it:
    # its return was made some other way, so it is not shown as overdue
    before_use: bool = False

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def locked(self) -> bool:
        return self.status == PERIOD_SUBMITTED

    def overdue(self, today: dt.date) -> bool:
        """Not (re)submitted and past its due date (months before the program was used
        and with nothing recorded in it excepted)."""
        return self.status != PERIOD_SUBMITTED and today > self.due and not self.before_use

    @property
    def revision_label(self) -> str:
        """"" for the first return, else 第N次修订."""
        return f"第{self.revision}次修订" if self.revision else ""


def due_day(session: Session) -> int:
    """The day of the following month a return is due (default the 5th)."""
    value = session.scalar(select(Setting.value).where(Setting.key == DUE_DAY_KEY))
    return int(value) if value else DEFAULT_DUE_DAY


def set_due_day(db: Database, day: int) -> None:
    """Change the due day (1–28, so it exists in every month)."""
    if not 1 <= int(day) <= 28:
        raise ValidationError("报送日应在每月1日至28日之间", field="报送日")
    with db.write() as s:
        row = s.get(Setting, DUE_DAY_KEY)
        if row is None:
            s.add(Setting(key=DUE_DAY_KEY, value=int(day)))
        else:
            row.value = int(day)


def due_date(month: str, day: int) -> dt.date:
    """The due date of a month's return: ``day`` of the following month."""
    year, m = int(month[:4]), int(month[5:7])
    year, m = (year + 1, 1) if m == 12 else (year, m + 1)
    return dt.date(year, m, min(day, calendar.monthrange(year, m)[1]))


def _check_month(month: str) -> str:
    try:
        dt.date(int(month[:4]), int(month[5:7]), 1)
    except (ValueError, IndexError):
        raise ValidationError(f"月份“{month}”格式不对，应为 2025-09", field="报表期") from None
    if len(month) != 7 or month[4] != "-":
        raise ValidationError(f"月份“{month}”格式不对，应为 2025-09", field="报表期")
    return month


def month_state(session: Session, office: OfficeInfo, month: str) -> MonthState:
    """The state of one month (未上报 when nothing was recorded)."""
    _check_month(month)
    return _states(session, office, [month])[0]


def year_states(session: Session, office: OfficeInfo, year: int) -> list[MonthState]:
    """All twelve months of a year."""
    return _states(session, office, [f"{year}-{m:02d}" for m in range(1, 13)])


def _states(session: Session, office: OfficeInfo, months: list[str]) -> list[MonthState]:
    day = due_day(session)
    rows = {p.month: p for p in session.scalars(
        select(Period).where(Period.office_id == office.id, Period.month.in_(months)))}
    started = session.scalar(select(Office.created_at).where(Office.id == office.id))
    first_used = f"{started:%Y-%m}" if started else ""
    idle = [m for m in months if m < first_used and m not in rows]
    if idle:  # of those, the months that have records after all (entered afterwards)
        used = set(session.scalars(
            select(func.substr(Activity.start_date, 1, 7)).distinct()
            .where(Activity.office_id == office.id,
                   Activity.start_date >= f"{min(idle)}-01",
                   Activity.start_date <= f"{max(idle)}-31")))
        idle = [m for m in idle if m not in used]
    out = []
    for month in months:
        due = due_date(month, day)
        row = rows.get(month)
        if row is None:
            out.append(MonthState(month, PERIOD_OPEN, 0, due, None, "", month in idle))
        else:
            out.append(MonthState(month, row.status, row.revision, due, row.submitted_at,
                                  row.reopen_reason))
    return out


def submit_month(db: Database, office: OfficeInfo, month: str, user: str | None = None,
                 today: dt.date | None = None) -> MonthState:
    """Mark a month 已上报 and lock its records.

    Raises:
        ValidationError: the month has not ended yet, or is already submitted.
    """
    _check_month(month)
    today = today or dt.date.today()
    first_of_month = dt.date(int(month[:4]), int(month[5:7]), 1)
    if (first_of_month.year, first_of_month.month) >= (today.year, today.month):
        raise ValidationError(f"{int(month[:4])}年{int(month[5:7])}月还没有结束，不能上报")
    with db.write(user) as s:
        row = s.get(Period, (office.id, month))
        if row is None:
            row = Period(office_id=office.id, month=month, status=PERIOD_OPEN, revision=0)
            s.add(row)
        if row.status == PERIOD_SUBMITTED:
            raise ValidationError(f"{month} 已上报")
        row.status = PERIOD_SUBMITTED
        row.submitted_at = utcnow()
        s.flush()
        audit.log(s, "submit", "period", f"{office.id}/{month}",
                  note=f"上报 {month}" + (f"（第{row.revision}次修订）" if row.revision else ""))
        return month_state(s, office, month)


def reopen_month(db: Database, office: OfficeInfo, month: str, reason: str,
                 user: str | None = None) -> MonthState:
    """Unlock a submitted month so it can be corrected; the next return is 第N次修订.

    Raises:
        ValidationError: no reason given, or the month is not submitted.
    """
    _check_month(month)
    reason = reason.strip()
    if len(reason) < 2:
        raise ValidationError("重新打开已上报的月份必须填写原因", field="原因")
    if len(reason) > 300:
        raise ValidationError("原因不能超过300个字", field="原因")
    with db.write(user) as s:
        row = s.get(Period, (office.id, month))
        if row is None or row.status != PERIOD_SUBMITTED:
            raise ValidationError(f"{month} 尚未上报，无需重新打开")
        row.status = PERIOD_REOPENED
        row.revision += 1
        row.reopen_reason = reason
        s.flush()
        audit.log(s, "reopen", "period", f"{office.id}/{month}", note=reason,
                  changes={"revision": row.revision})
        return month_state(s, office, month)
