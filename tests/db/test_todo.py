"""The dashboard's to-do list."""

from __future__ import annotations

import datetime as dt

from db.activities import ActivityInput, create_activity
from db.attachments import add_attachments
from db.catalogs import find_entry
from db.database import Database
from db.offices import OfficeInfo
from db.reporting import submit_month
from db.todo import campaign_date, todo_list, upcoming_campaigns

TODAY = dt.date(2025, 10, 20)


def test_campaign_dates() -> None:
    assert campaign_date({"month": 6, "day": 5}, 2025) == dt.date(2025, 6, 5)
    assert campaign_date({"month": 9, "when": "9月第三周"}, 2025) == dt.date(2025, 9, 15)
    assert campaign_date({"month": 5}, 2025) == dt.date(2025, 5, 1)
    assert campaign_date({}, 2025) is None


def test_upcoming_campaigns(db: Database) -> None:
    with db.session() as s:
        names = [u.name for u in upcoming_campaigns(s, dt.date(2025, 8, 25))]
        assert names[0] == "全国科普日"
        october = [(u.name, u.day) for u in upcoming_campaigns(s, dt.date(2025, 10, 2))]
        assert october == [("世界粮食日", dt.date(2025, 10, 16))]


def test_todo_list(db: Database, office: OfficeInfo, tmp_path) -> None:  # noqa: ANN001
    with db.session() as s:
        lecture, training = find_entry(s, "form", "讲座").id, find_entry(s, "form", "培训").id
    day = dt.date(2025, 9, 16)
    with_photo = create_activity(db, office, ActivityInput("有照片", day, day, lecture, attend=5))
    bare = create_activity(db, office, ActivityInput("无照片", day, day, lecture, attend=5))
    course = create_activity(db, office, ActivityInput("培训", day, day, training,
                                                       train_hours_x10=20, attend=30))
    photo = tmp_path / "a.pdf"
    photo.write_bytes(b"%PDF-1.4 test")
    add_attachments(db, activity_id=with_photo, files=[photo])
    from db.models import Office

    with db.write() as s:  # an office that started using the program in October 2025
        s.get(Office, office.id).created_at = dt.datetime(2025, 10, 8, 9, 0)
    with db.session() as s:
        todo = todo_list(s, office, TODAY)
    assert [m.month for m in todo.unreported] == ["2025-09"]  # the only month with records
    with db.write() as s:  # one that has used it all year
        s.get(Office, office.id).created_at = dt.datetime(2025, 1, 2, 9, 0)
    with db.session() as s:
        todo = todo_list(s, office, TODAY)
    assert [m.month for m in todo.unreported] == [f"2025-{m:02d}" for m in range(1, 10)]
    assert [m.month for m in todo.overdue(TODAY)] == [f"2025-{m:02d}" for m in range(1, 10)]
    assert set(todo.missing_evidence) == {bare, course}
    assert todo.missing_roster == (course,)
    assert todo.upcoming == ()  # 世界粮食日 (10-16) is past; nothing before 11-19
    submit_month(db, office, "2025-09", today=TODAY)
    with db.session() as s:
        todo = todo_list(s, office, TODAY)
    assert "2025-09" not in [m.month for m in todo.unreported]
