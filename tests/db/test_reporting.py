"""Month states, submission locking and audited reopening."""

from __future__ import annotations

import datetime as dt

import pytest

from db.activities import ActivityInput, create_activity, update_activity
from db.catalogs import find_entry
from db.database import Database
from db.errors import PeriodLockedError, ValidationError
from db.models import AuditLog
from db.offices import OfficeInfo
from db.reporting import (
    due_date,
    month_state,
    reopen_month,
    set_due_day,
    submit_month,
    year_states,
)

TODAY = dt.date(2025, 10, 20)


def lecture(db: Database, attend: int = 50) -> ActivityInput:
    with db.session() as s:
        form = find_entry(s, "form", "讲座").id
    return ActivityInput(title="讲座", start_date=dt.date(2025, 9, 16),
                         end_date=dt.date(2025, 9, 16), form_id=form, attend=attend)


def _office_started(db: Database, office: OfficeInfo, when: dt.datetime) -> None:
    from db.models import Office

    with db.write() as s:
        s.get(Office, office.id).created_at = when


def test_due_dates_and_overdue(db: Database, office: OfficeInfo) -> None:
    assert due_date("2025-09", 5) == dt.date(2025, 10, 5)
    assert due_date("2025-12", 5) == dt.date(2026, 1, 5)
    _office_started(db, office, dt.datetime(2025, 1, 2, 9, 0))
    with db.session() as s:
        states = year_states(s, office, 2025)
    assert [m.month for m in states][:2] == ["2025-01", "2025-02"]
    sep = states[8]
    assert sep.label == "未上报" and sep.overdue(TODAY) and not sep.overdue(dt.date(2025, 10, 5))
    set_due_day(db, 10)
    with db.session() as s:
        assert month_state(s, office, "2025-09").due == dt.date(2025, 10, 10)
    with pytest.raises(ValidationError, match="1日至28日"):
        set_due_day(db, 31)


def test_months_before_first_use_with_nothing_recorded_are_not_overdue(
        db: Database, office: OfficeInfo) -> None:
    """An office set up in November does not see January–October as 逾期 ..."""
    _office_started(db, office, dt.datetime(2025, 11, 3, 9, 0))
    today = dt.date(2025, 11, 20)
    with db.session() as s:
        states = year_states(s, office, 2025)
    assert not any(m.overdue(today) for m in states)
    assert states[8].before_use and not states[10].before_use  # September, November
    # ... unless something was recorded for the month afterwards: that return is due
    create_activity(db, office, lecture(db))
    with db.session() as s:
        sep, aug = month_state(s, office, "2025-09"), month_state(s, office, "2025-08")
    assert sep.overdue(today) and not sep.before_use
    assert not aug.overdue(today) and aug.label == "未上报"


def test_submit_locks_and_reopen_is_audited(db: Database, office: OfficeInfo) -> None:
    aid = create_activity(db, office, lecture(db))
    state = submit_month(db, office, "2025-09", user="张文书", today=TODAY)
    assert state.locked and state.label == "已上报" and not state.overdue(TODAY)
    assert state.revision_label == ""
    with pytest.raises(PeriodLockedError):
        with db.write() as s:
            from db.models import Activity

            s.get(Activity, aid).attend = 1
    with pytest.raises(ValidationError, match="已上报"):
        submit_month(db, office, "2025-09", today=TODAY)
    with pytest.raises(ValidationError, match="必须填写原因"):
        reopen_month(db, office, "2025-09", " ")
    state = reopen_month(db, office, "2025-09", "漏报一场讲座", user="张文书")
    assert state.label == "已重新打开" and state.revision == 1
    assert state.revision_label == "第1次修订" and state.overdue(TODAY)
    update_activity(db, office, aid, lecture(db, attend=60))
    state = submit_month(db, office, "2025-09", today=TODAY)
    assert state.locked and state.revision_label == "第1次修订"
    with db.session() as s:
        log = [(r.action, r.note) for r in s.query(AuditLog).filter(
            AuditLog.table_name == "period", AuditLog.action.in_(("submit", "reopen")))
            .order_by(AuditLog.at)]
        # Every field change of the period row is in the log too (status, revision).
        changes = [r.changes for r in s.query(AuditLog).filter_by(
            table_name="period", action="update").order_by(AuditLog.at)]
    assert changes[0]["status"] == ["submitted", "reopened"]
    assert log == [("submit", "上报 2025-09"), ("reopen", "漏报一场讲座"),
                   ("submit", "上报 2025-09（第1次修订）")]


def test_cannot_submit_a_month_that_has_not_ended(db: Database, office: OfficeInfo) -> None:
    with pytest.raises(ValidationError, match="还没有结束"):
        submit_month(db, office, "2025-10", today=TODAY)
    with pytest.raises(ValidationError, match="格式不对"):
        submit_month(db, office, "2025-13", today=TODAY)
    with pytest.raises(ValidationError, match="无需重新打开"):
        reopen_month(db, office, "2025-08", "原因")
