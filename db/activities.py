"""Activity commands: validate, create, update, delete (with undo), read as plain values.

The GUI and importers go through these functions; the rules of what an activity
may hold live here (and the month lock, which the database itself enforces too).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from db import audit
from db.catalogs import CatalogItem, all_catalogs
from db.database import Database
from db.errors import PeriodLockedError, ValidationError
from db.models import (
    PERIOD_SUBMITTED,
    Activity,
    ActivityGroup,
    ActivityProject,
    ActivityTopic,
    Attachment,
    Attendance,
    CatalogEntry,
    Period,
    new_id,
)
from db.offices import OfficeInfo
from db.periods import month_key

TITLE_MAX = 200
MAX_DAYS = 366
# A count, an amount in 分 or tenths of an hour this large is a typing error; it would
# also overflow SQLite's 64-bit INTEGER when saved.
MAX_NUMBER = 10**12
# Chinese field labels, for messages and for the form to put an error next to a field.
LABELS = {
    "title": "活动名称",
    "start_date": "开始日期",
    "end_date": "结束日期",
    "form_id": "活动形式",
    "campaign_id": "主题活动",
    "attend": "参与人次",
    "views": "线上浏览量",
    "volunteers": "志愿者人次",
    "volunteer_hours_x10": "志愿服务时长",
    "materials": "发放资料",
    "media_reports": "媒体报道",
    "spending_fen": "经费",
    "train_hours_x10": "培训学时",
    "groups": "重点人群",
    "topic_ids": "主题领域",
    "project_ids": "重点工程",
    "village": "村/社区",
    "address": "地点",
    "organizer": "主办单位",
    "co_organizers": "协办单位",
    "description": "活动简介",
}
NUMBER_FIELDS = ("attend", "views", "volunteers", "volunteer_hours_x10", "materials",
                 "media_reports", "spending_fen", "train_hours_x10")
TEXT_LIMITS = {"village": 100, "address": 200, "organizer": 100, "co_organizers": 300,
               "description": 20000}


@dataclass(frozen=True)
class GroupShare:
    """A target group of an activity, with its part of the 人次 if the clerk gave one."""

    group_id: str
    attend: int | None = None


@dataclass(frozen=True)
class ActivityInput:
    """Everything the clerk enters for an activity, as plain values."""

    title: str
    start_date: dt.date
    end_date: dt.date
    form_id: str
    campaign_id: str | None = None
    online: bool = False
    village: str = ""
    address: str = ""
    site_id: str | None = None
    organizer: str = ""
    co_organizers: str = ""
    attend: int = 0
    views: int = 0
    volunteers: int = 0
    volunteer_hours_x10: int = 0
    materials: int = 0
    media_reports: int = 0
    spending_fen: int = 0
    train_hours_x10: int = 0
    description: str = ""
    groups: tuple[GroupShare, ...] = ()
    topic_ids: tuple[str, ...] = ()
    project_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActivityDetail:
    """A stored activity: its input values plus what the database adds."""

    id: str
    office_id: str
    data: ActivityInput
    roster_size: int
    evidence_count: int
    locked: bool
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class FieldError:
    """One problem with one field (``field`` is an ActivityInput attribute name)."""

    field: str
    message: str


class ActivityValidationError(ValidationError):
    """The input breaks one or more rules; ``errors`` says which field and why."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__("；".join(e.message for e in self.errors), field=LABELS.get(first.field))


@dataclass(frozen=True)
class DeletedActivity:
    """Everything needed to put a deleted activity back (undo)."""

    activity: dict[str, Any]
    groups: list[dict[str, Any]] = field(default_factory=list)
    topics: list[dict[str, Any]] = field(default_factory=list)
    projects: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    attendances: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.activity["id"])

    @property
    def title(self) -> str:
        return str(self.activity["title"])


def locked_months(session: Session, office_id: str) -> set[str]:
    """The months ('2025-09') that are reported and therefore locked."""
    return set(
        session.scalars(
            select(Period.month).where(
                Period.office_id == office_id, Period.status == PERIOD_SUBMITTED
            )
        )
    )


def is_locked(session: Session, office_id: str, day: dt.date) -> bool:
    """Whether the month of ``day`` is reported (locked)."""
    return month_key(day) in locked_months(session, office_id)


def locked_message(day: dt.date) -> str:
    """The message for a change to a reported (locked) month."""
    return (f"{day.year}年{day.month}月已上报并锁定，不能新增或修改该月的活动；"
            "如需修改，请先在“报表”中重新打开该月。")


def validate_activity(session: Session, office: OfficeInfo, data: ActivityInput, *,
                      activity_id: str | None = None,
                      catalogs: dict[str, list[CatalogItem]] | None = None,
                      locked: set[str] | None = None) -> list[FieldError]:
    """All problems of ``data`` (an empty list means it can be saved).

    Groups, topics and projects are kept in catalog order once saved. Importers
    checking many rows pass ``catalogs`` and ``locked`` (the locked months) once.

    Checks names and lengths, dates (end before start, more than a year long,
    a locked month — also the month the activity is moved out of), catalog
    references, negative numbers, online vs offline counting (an online activity
    counts 浏览量, not 人次), a training without 学时, and a per-group breakdown
    that adds up to more than the total.
    """
    errors: list[FieldError] = []

    def err(name: str, message: str) -> None:
        errors.append(FieldError(name, message))

    catalogs = catalogs if catalogs is not None else all_catalogs(session)
    by_id: dict[str, CatalogItem] = {e.id: e for kind in catalogs.values() for e in kind}

    title = data.title.strip()
    if not title:
        err("title", "请填写活动名称")
    elif len(title) > TITLE_MAX:
        err("title", f"活动名称不能超过{TITLE_MAX}个字（现有{len(title)}个）")
    for name, limit in TEXT_LIMITS.items():
        value = getattr(data, name)
        if len(value) > limit:
            err(name, f"{LABELS[name]}不能超过{limit}个字")

    if data.end_date < data.start_date:
        err("end_date", "结束日期不能早于开始日期")
    elif (data.end_date - data.start_date).days >= MAX_DAYS:
        err("end_date", "一项活动不能超过一年；长期展览请按月分别登记")
    if data.start_date.year < 2000:
        err("start_date", "开始日期不能早于2000年")
    elif data.start_date > dt.date.today() + dt.timedelta(days=366):
        err("start_date", "开始日期不能晚于明年")

    locked = locked if locked is not None else locked_months(session, office.id)
    if month_key(data.start_date) in locked:
        err("start_date", locked_message(data.start_date))
    if activity_id is not None:
        old_start = session.scalar(select(Activity.start_date).where(Activity.id == activity_id))
        if old_start is not None and month_key(old_start) in locked and (
                month_key(old_start) != month_key(data.start_date)):
            err("start_date", locked_message(old_start))

    form = by_id.get(data.form_id)
    if form is None or form.kind != "form":
        err("form_id", "请选择活动形式")
    if data.campaign_id is not None and (
            data.campaign_id not in by_id or by_id[data.campaign_id].kind != "campaign"):
        err("campaign_id", "主题活动不在目录中")

    for name in NUMBER_FIELDS:
        value = getattr(data, name)
        if not isinstance(value, int) or isinstance(value, bool):
            err(name, f"{LABELS[name]}应为整数")
        elif value < 0:
            err(name, f"{LABELS[name]}不能为负数")
        elif value >= MAX_NUMBER:
            err(name, f"{LABELS[name]}数值过大，请核对")
    if errors and any(e.field in NUMBER_FIELDS for e in errors):
        return errors

    online = data.online or bool(form and form.props.get("online"))
    if online and data.attend > 0:
        err("attend", "线上活动按浏览量统计，不填参与人次；请把人数填在“线上浏览量”中")
    if not online and data.views > 0:
        err("views", "线下活动的浏览量不计入统计；如有线上直播，请另登记一条线上活动")
    if form is not None and form.code == "培训" and data.train_hours_x10 <= 0:
        err("train_hours_x10", "培训请填写学时（大于0）")

    seen: set[str] = set()
    given = 0
    for share in data.groups:
        entry = by_id.get(share.group_id)
        if entry is None or entry.kind != "group":
            err("groups", "重点人群不在目录中")
            continue
        if share.group_id in seen:
            err("groups", f"重点人群“{entry.name}”选了两次")
        seen.add(share.group_id)
        if share.attend is not None:
            if share.attend < 0:
                err("groups", f"“{entry.name}”的人次不能为负数")
            given += max(share.attend, 0)
    if given and online:
        err("groups", "线上活动不按人群分人次")
    elif given > data.attend and not online:
        err("groups", f"分人群人次合计（{given}）超过了参与人次（{data.attend}）")
    for name, kind in (("topic_ids", "topic"), ("project_ids", "project")):
        ids = getattr(data, name)
        if len(set(ids)) != len(ids):
            err(name, f"{LABELS[name]}有重复")
        if any(i not in by_id or by_id[i].kind != kind for i in ids):
            err(name, f"{LABELS[name]}不在目录中")
    return errors


def _check(session: Session, office: OfficeInfo, data: ActivityInput,
           activity_id: str | None = None) -> ActivityInput:
    errors = validate_activity(session, office, data, activity_id=activity_id)
    if errors:
        raise ActivityValidationError(errors)
    order = {e.id: (e.sort_order, e.code) for e in
             (item for kind in all_catalogs(session).values() for item in kind)}
    return dataclasses.replace(
        data,
        groups=tuple(sorted(data.groups, key=lambda g: order[g.group_id])),
        topic_ids=tuple(sorted(data.topic_ids, key=order.__getitem__)),
        project_ids=tuple(sorted(data.project_ids, key=order.__getitem__)),
        title=data.title.strip(),
        village=data.village.strip(),
        address=data.address.strip(),
        organizer=data.organizer.strip(),
        co_organizers=data.co_organizers.strip(),
        description=data.description.strip(),
    )


_SCALAR_FIELDS = tuple(
    f.name for f in dataclasses.fields(ActivityInput)
    if f.name not in ("groups", "topic_ids", "project_ids")
)


def _apply(activity: Activity, data: ActivityInput) -> None:
    for name in _SCALAR_FIELDS:
        if getattr(activity, name) != getattr(data, name):
            setattr(activity, name, getattr(data, name))
    wanted = {g.group_id: g.attend for g in data.groups}
    current = {g.group_id: g for g in activity.groups}
    for gid, group in current.items():
        if gid not in wanted:
            activity.groups.remove(group)
        elif group.attend != wanted[gid]:
            group.attend = wanted[gid]
    for gid, value in wanted.items():
        if gid not in current:
            activity.groups.append(ActivityGroup(group_id=gid, attend=value))
    topics = {t.topic_id: t for t in activity.topics}
    for tid, topic in topics.items():
        if tid not in data.topic_ids:
            activity.topics.remove(topic)
    for tid in data.topic_ids:
        if tid not in topics:
            activity.topics.append(ActivityTopic(topic_id=tid))
    projects = {p.project_id: p for p in activity.projects}
    for pid, project in projects.items():
        if pid not in data.project_ids:
            activity.projects.remove(project)
    for pid in data.project_ids:
        if pid not in projects:
            activity.projects.append(ActivityProject(project_id=pid))


def create_activity(db: Database, office: OfficeInfo, data: ActivityInput,
                    user: str | None = None) -> str:
    """Save a new activity; returns its id.

    Raises:
        ActivityValidationError: the input breaks a rule (nothing saved).
        PeriodLockedError: its month is locked.
    """
    with db.write(user) as s:
        clean = _check(s, office, data)
        activity = Activity(id=new_id(), office_id=office.id, groups=[], topics=[], projects=[])
        _apply(activity, clean)
        s.add(activity)
        s.flush()
        return activity.id


def update_activity(db: Database, office: OfficeInfo, activity_id: str, data: ActivityInput,
                    user: str | None = None) -> None:
    """Save changes to an activity (audited field by field)."""
    with db.write(user) as s:
        activity = s.get(Activity, activity_id)
        if activity is None or activity.office_id != office.id:
            raise ValidationError("该活动已不存在（可能已被删除）")
        clean = _check(s, office, data, activity_id)
        _apply(activity, clean)


def _input_of(session: Session, a: Activity) -> ActivityInput:
    order = dict(session.execute(select(CatalogEntry.id, CatalogEntry.sort_order)).all())
    return ActivityInput(
        **{name: getattr(a, name) for name in _SCALAR_FIELDS},
        groups=tuple(sorted((GroupShare(g.group_id, g.attend) for g in a.groups),
                            key=lambda g: order.get(g.group_id, 0))),
        topic_ids=tuple(sorted((t.topic_id for t in a.topics), key=lambda i: order.get(i, 0))),
        project_ids=tuple(sorted((p.project_id for p in a.projects),
                                 key=lambda i: order.get(i, 0))),
    )


def get_activity(session: Session, activity_id: str) -> ActivityDetail | None:
    """One activity as plain values, or None if it does not exist."""
    a = session.get(Activity, activity_id)
    if a is None:
        return None
    roster_size = session.scalar(
        select(func.count()).select_from(Attendance).where(Attendance.activity_id == a.id)
    ) or 0
    evidence = session.scalar(
        select(func.count()).select_from(Attachment).where(Attachment.activity_id == a.id)
    ) or 0
    return ActivityDetail(
        id=a.id,
        office_id=a.office_id,
        data=_input_of(session, a),
        roster_size=roster_size,
        evidence_count=evidence,
        locked=is_locked(session, a.office_id, a.start_date),
        created_at=a.created_at,
        updated_at=a.updated_at,
    )


def duplicate_input(detail: ActivityDetail, day: dt.date | None = None) -> ActivityInput:
    """The values for "复制为新活动": everything but the date, the 人次 and the money spent.

    Clerks repeat the same lecture in several villages, so the title, form, groups,
    topics, organizers and description carry over; the new date is ``day``
    (default today) and the counts start empty.
    """
    day = day or dt.date.today()
    span = detail.data.end_date - detail.data.start_date
    return dataclasses.replace(
        detail.data,
        start_date=day,
        end_date=day + span,
        attend=0,
        views=0,
        volunteers=0,
        volunteer_hours_x10=0,
        materials=0,
        media_reports=0,
        spending_fen=0,
        groups=tuple(GroupShare(g.group_id, None) for g in detail.data.groups),
    )


@dataclass(frozen=True)
class EntryDefaults:
    """Defaults for a new activity: today, and the place and organizer used last."""

    start_date: dt.date
    village: str
    address: str
    organizer: str


def entry_defaults(session: Session, office: OfficeInfo) -> EntryDefaults:
    """Defaults for the activity form, from the most recently entered activity."""
    last = session.execute(
        select(Activity.village, Activity.address, Activity.organizer)
        .where(Activity.office_id == office.id)
        .order_by(Activity.created_at.desc())
        .limit(1)
    ).first()
    if last is None:
        return EntryDefaults(dt.date.today(), "", "", f"{office.name}科协")
    return EntryDefaults(dt.date.today(), last[0], last[1], last[2])


def _rows(session: Session, model: type, activity_id: str) -> list[dict[str, Any]]:
    table = model.__table__  # type: ignore[attr-defined]
    result = session.execute(select(table).where(table.c.activity_id == activity_id))
    return [dict(r._mapping) for r in result]


def delete_activity(db: Database, activity_id: str, user: str | None = None) -> DeletedActivity:
    """Delete an activity with its groups, topics, evidence rows and roster.

    Returns what was deleted so the GUI can undo it; the audit log keeps the full
    record too. Attachment files stay in the store (see db.attachments) so an
    undo brings the photos back.

    Raises:
        PeriodLockedError: the activity's month is locked.
    """
    with db.write(user) as s:
        activity = s.get(Activity, activity_id)
        if activity is None:
            raise ValidationError("该活动已不存在（可能已被删除）")
        if is_locked(s, activity.office_id, activity.start_date):
            raise PeriodLockedError(locked_message(activity.start_date))
        snapshot = DeletedActivity(
            activity={attr.key: getattr(activity, attr.key)
                      for attr in sa_inspect(Activity).column_attrs},
            groups=_rows(s, ActivityGroup, activity_id),
            topics=_rows(s, ActivityTopic, activity_id),
            projects=_rows(s, ActivityProject, activity_id),
            attachments=_rows(s, Attachment, activity_id),
            attendances=_rows(s, Attendance, activity_id),
        )
        s.delete(activity)
        s.flush()
        # The roster and evidence go with it (ON DELETE CASCADE); log them too.
        if snapshot.attendances or snapshot.attachments:
            audit.log(s, "delete", "activity", activity_id,
                      note=f"随活动删除：签到 {len(snapshot.attendances)} 人次，"
                           f"佐证材料 {len(snapshot.attachments)} 个",
                      changes={"attendance": [audit.jsonable(r["trainee_id"])
                                              for r in snapshot.attendances],
                               "attachment": [r["id"] for r in snapshot.attachments]})
        return snapshot


def restore_activity(db: Database, snapshot: DeletedActivity, user: str | None = None) -> None:
    """Put a deleted activity back exactly as it was (same id, roster and evidence)."""
    with db.write(user) as s:
        s.add(Activity(**snapshot.activity))
        s.flush()
        for model, rows in ((ActivityGroup, snapshot.groups), (ActivityTopic, snapshot.topics),
                            (ActivityProject, snapshot.projects),
                            (Attachment, snapshot.attachments),
                            (Attendance, snapshot.attendances)):
            if rows:
                s.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]
        audit.log(s, "restore", "activity", snapshot.id, note="撤销删除")
