"""A period's records as plain values (the input of every report)."""

from __future__ import annotations

import datetime as dt

from db.activities import ActivityInput, GroupShare, create_activity
from db.catalogs import find_entry
from db.database import Database
from db.exports import activity_records, roster_records
from db.idcard import make_id_number
from db.offices import OfficeInfo
from db.trainees import TraineeInput, add_person_to_roster


def test_records_of_a_period(db: Database, office: OfficeInfo) -> None:
    with db.session() as s:
        def cat(kind: str, code: str) -> str:
            return find_entry(s, kind, code).id

        lecture, training, old = cat("form", "讲座"), cat("form", "培训"), cat("group", "老年人")
        farmers, health = cat("group", "农民"), cat("topic", "卫生健康")
    sep = dt.date(2025, 9, 16)
    create_activity(db, office, ActivityInput(
        title="=1+1 防诈讲座", start_date=sep, end_date=sep, form_id=lecture, attend=120,
        groups=(GroupShare(old, 70), GroupShare(farmers)), topic_ids=(health,),
        spending_fen=150050))
    tid = create_activity(db, office, ActivityInput(
        title="智慧助老培训", start_date=dt.date(2025, 9, 5), end_date=dt.date(2025, 9, 5),
        form_id=training, train_hours_x10=20, attend=999))
    create_activity(db, office, ActivityInput(
        title="八月讲座", start_date=dt.date(2025, 8, 5), end_date=dt.date(2025, 8, 5),
        form_id=lecture, attend=10))
    number = make_id_number("350582", dt.date(1955, 3, 12), 2)
    add_person_to_roster(db, office, tid, TraineeInput(name="王秀英", id_number=number,
                                                       phone="13812345678"))
    with db.session() as s:
        acts = activity_records(s, office.id, dt.date(2025, 9, 1), dt.date(2025, 9, 30))
        people = roster_records(s, office.id, dt.date(2025, 9, 1), dt.date(2025, 9, 30))
    assert [a.title for a in acts] == ["智慧助老培训", "=1+1 防诈讲座"]
    training_rec, lecture_rec = acts
    assert training_rec.attend == 1 and training_rec.entered_attend == 999  # roster wins
    assert training_rec.roster_size == 1 and training_rec.train_hours_x10 == 20
    assert lecture_rec.groups == "农民、老年人（70）" and lecture_rec.topics == "卫生健康"
    assert lecture_rec.spending_fen == 150050 and lecture_rec.form == "科普讲座/报告会"
    assert [(p.name, p.id_number, p.phone, p.hours_x10) for p in people] == [
        ("王秀英", number, "13812345678", 20)]
