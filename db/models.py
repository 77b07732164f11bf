"""SQLAlchemy models: everything DOMAIN.md names.

Keys are random UUIDs (32 hex characters) so that the data of many offices can be
merged into one database later without renumbering. Money is integer 分; hours
(学时, 服务时长) are integer tenths of an hour; dates are ISO ``date`` values, so a
month is the 7-character prefix of a date's text in SQLite.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names so Alembic batch migrations can address them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    """A new primary key: 32 lowercase hex characters of a random UUID."""
    return uuid.uuid4().hex


def utcnow() -> dt.datetime:
    """Now in UTC, without tzinfo (SQLite stores naive timestamps)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


IdKey = String(32)

# Catalog kinds (catalog_entry.kind).
FORM = "form"  # 活动形式
CAMPAIGN = "campaign"  # 主题活动
GROUP = "group"  # 重点人群 / 人员类别
TOPIC = "topic"  # 主题领域
PROJECT = "project"  # 重点工程
SITE_KIND = "site_kind"  # 阵地类型
CATALOG_KINDS = (FORM, CAMPAIGN, GROUP, TOPIC, PROJECT, SITE_KIND)

# Office levels.
LEVELS = ("街道", "镇", "乡")

# Period states (period.status).
PERIOD_OPEN = "open"  # 未上报
PERIOD_SUBMITTED = "submitted"  # 已上报 (locked)
PERIOD_REOPENED = "reopened"  # 已重新打开


class Office(Base):
    """填报单位: a 街道办事处 or 镇/乡人民政府."""

    __tablename__ = "office"

    id: Mapped[str] = mapped_column(IdKey, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(12), unique=True)  # 行政区划代码
    level: Mapped[str] = mapped_column(String(4))
    region: Mapped[str] = mapped_column(String(100), default="")  # parent 区/县
    population: Mapped[int] = mapped_column(Integer)  # 常住人口 (default for any year)
    reporter: Mapped[str] = mapped_column(String(50), default="")  # 填报人
    reviewer: Mapped[str] = mapped_column(String(50), default="")  # 审核人
    phone: Mapped[str] = mapped_column(String(30), default="")  # 联系电话 (text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("level IN ('街道', '镇', '乡')", name="level"),
        CheckConstraint("population > 0", name="population"),
    )


class OfficePopulation(Base):
    """常住人口 of one year, when it differs from the office's default."""

    __tablename__ = "office_population"

    office_id: Mapped[str] = mapped_column(
        ForeignKey("office.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    population: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("population > 0", name="population"),)


class CatalogEntry(Base):
    """One entry of an editable catalog (活动形式, 主题活动, 重点人群, ...).

    ``code`` is the name used in indicator codes (``form.讲座.count``); it never
    contains ``.``, ``:`` or braces. ``props`` holds kind-specific settings such as
    a campaign's usual month or whether a form is online.
    """

    __tablename__ = "catalog_entry"

    id: Mapped[str] = mapped_column(IdKey, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(100))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    props: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        UniqueConstraint("kind", "code", name="kind_code"),
        CheckConstraint(
            "kind IN ('form', 'campaign', 'group', 'topic', 'project', 'site_kind')",
            name="kind",
        ),
    )


class Activity(Base):
    """A 科普活动. A training (form code 培训) also has 学时 and a roster."""

    __tablename__ = "activity"

    id: Mapped[str] = mapped_column(IdKey, primary_key=True, default=new_id)
    office_id: Mapped[str] = mapped_column(ForeignKey("office.id"))
    title: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    form_id: Mapped[str] = mapped_column(ForeignKey("catalog_entry.id"))
    campaign_id: Mapped[str | None] = mapped_column(ForeignKey("catalog_entry.id"))
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    village: Mapped[str] = mapped_column(String(100), default="")  # 村/社区
    address: Mapped[str] = mapped_column(String(200), default="")
    site_id: Mapped[str | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"))
    organizer: Mapped[str] = mapped_column(String(100), default="")
    co_organizers: Mapped[str] = mapped_column(String(300), default="")
    attend: Mapped[int] = mapped_column(Integer, default=0)  # entered 人次
    views: Mapped[int] = mapped_column(Integer, default=0)  # 线上浏览量
    volunteers: Mapped[int] = mapped_column(Integer, default=0)  # 志愿者人次
    volunteer_hours_x10: Mapped[int] = mapped_column(Integer, default=0)  # 服务时长 ×10
    materials: Mapped[int] = mapped_column(Integer, default=0)  # 发放资料 份
    media_reports: Mapped[int] = mapped_column(Integer, default=0)  # 媒体报道 篇
    spending_fen: Mapped[int] = mapped_column(Integer, default=0)  # 经费 分
    train_hours_x10: Mapped[int] = mapped_column(Integer, default=0)  # 培训学时 ×10
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    groups: Mapped[list[ActivityGroup]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", passive_deletes=True
    )
    topics: Mapped[list[ActivityTopic]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    projects: Mapped[list[ActivityProject]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        Index("ix_activity_office_date", "office_id", "start_date"),
        CheckConstraint("end_date >= start_date", name="dates"),
        CheckConstraint(
            "attend >= 0 AND views >= 0 AND volunteers >= 0 AND volunteer_hours_x10 >= 0"
            " AND materials >= 0 AND media_reports >= 0 AND spending_fen >= 0"
            " AND train_hours_x10 >= 0",
            name="non_negative",
        ),
    )


class ActivityGroup(Base):
    """A target group (重点人群) of an activity, with its optional share of 人次."""

    __tablename__ = "activity_group"

    activity_id: Mapped[str] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(ForeignKey("catalog_entry.id"), primary_key=True)
    attend: Mapped[int | None] = mapped_column(Integer)  # None: no breakdown given

    activity: Mapped[Activity] = relationship(back_populates="groups")

    __table_args__ = (CheckConstraint("attend IS NULL OR attend >= 0", name="attend"),)


class ActivityTopic(Base):
    """A topic (主题领域) of an activity."""

    __tablename__ = "activity_topic"

    activity_id: Mapped[str] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[str] = mapped_column(ForeignKey("catalog_entry.id"), primary_key=True)


class ActivityProject(Base):
    """A key project (重点工程) an activity belongs to."""

    __tablename__ = "activity_project"

    activity_id: Mapped[str] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[str] = mapped_column(ForeignKey("catalog_entry.id"), primary_key=True)


class Attachment(Base):
    """Evidence (佐证材料) kept in the database's own attachment store.

    ``path`` is relative to the store folder beside the database file.
    """

    __tablename__ = "attachment"

    id: Mapped[str] = mapped_column(IdKey, primary_key=True, default=new_id)
    activity_id: Mapped[str | None] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[str | None] = mapped_column(
        ForeignKey("site.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10), default="照片")  # 照片/签到表/文档
    filename: Mapped[str] = mapped_column(String(255))  # original file name
    path: Mapped[str] = mapped_column(String(255))
    original_path: Mapped[str | None] = mapped_column(String(255))  # kept original, if any
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    caption: Mapped[str] = mapped_column(String(200), default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    activity: Mapped[Activity | None] = relationship(back_populates="attachments")

    __table_args__ = (
        CheckConstraint(
            "(activity_id IS NULL) <> (site_id IS NULL)", name="owner"
        ),
    )


class Trainee(Base):
    """A person on a training roster (学员). Personal information."""

    __tablename__ = "trainee"

    id: Mapped[str] = mapped_column(IdKey, primary_key=True, default=new_id)
    office_id: Mapped[str] = mapped_column(ForeignKey("office.id"))
    name: Mapped[str] = mapped_column(String(50))
    id_number: Mapped[str | None] = mapped_column(String(18))  # normalized, text
    gender: Mapped[str] = mapped_column(String(1), default="")  # 男/女/''
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    phone: Mapped[str] = mapped_column(String(30), default="")  # text, never a number
    category_id: Mapped[str | None] = mapped_column(ForeignKey("catalog_entry.id"))
    village: Mapped[str] = mapped_column(String(100), default="")
    employer: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("office_id", "id_number", name="office_id_number"),
        Index("ix_trainee_name", "name"),
    )


class Attendance(Base):
    """One trainee at one training (人次 comes from these rows)."""

    __tablename__ = "attendance"

    activity_id: Mapped[str] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True
    )
    trainee_id: Mapped[str] = mapped_column(
        ForeignKey("trainee.id", ondelete="RESTRICT"), primary_key=True
    )
    hours_x10: Mapped[int | None] = mapped_column(Integer)  # None: the training's 学时

    __table_args__ = (
        Index("ix_attendance_trainee", "trainee_id"),
        {"sqlite_with_rowid": False},
    )


class Target(Base):
    """A yearly target: indicator code + year + value (as decimal text)."""

    __tablename__ = "target"

    office_id: Mapped[str] = mapped_column(
        ForeignKey("office.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(String(20))  # Decimal as text, e.g. "1560", "2.00"


class Site(Base):
    """A 科普阵地 (科普e站, 科普画廊, 科技馆 ...)."""

    __tablename__ = "site"

    id: Mapped[str] = mapped_column(IdKey, primary_key=True, default=new_id)
    office_id: Mapped[str] = mapped_column(ForeignKey("office.id"))
    name: Mapped[str] = mapped_column(String(100))
    kind_id: Mapped[str] = mapped_column(ForeignKey("catalog_entry.id"))
    village: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    area_m2: Mapped[int | None] = mapped_column(Integer)
    opened_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    checklist: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # 科普e站 五有
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        CheckConstraint(
            "closed_on IS NULL OR opened_on IS NULL OR closed_on >= opened_on", name="dates"
        ),
    )


class Period(Base):
    """The reporting state of one month. A month with status 'submitted' is locked."""

    __tablename__ = "period"

    office_id: Mapped[str] = mapped_column(
        ForeignKey("office.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # '2025-09'
    status: Mapped[str] = mapped_column(String(10), default=PERIOD_OPEN)
    revision: Mapped[int] = mapped_column(Integer, default=0)  # 第N次修订 once reopened
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    reopen_reason: Mapped[str] = mapped_column(String(300), default="")

    __table_args__ = (
        CheckConstraint("status IN ('open', 'submitted', 'reopened')", name="status"),
    )


class AuditLog(Base):
    """Who changed what, when: old → new per field; deletions keep a full snapshot."""

    __tablename__ = "audit_log"

    id: Mapped[str] = mapped_column(IdKey, primary_key=True, default=new_id)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user: Mapped[str] = mapped_column(String(50), default="")
    action: Mapped[str] = mapped_column(String(20))  # create/update/delete/lock/reopen/...
    table_name: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(80), index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(String(300), default="")


class Setting(Base):
    """Small key → value settings kept with the data (e.g. the report due day)."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class DataVersion(Base):
    """Counters bumped by triggers when data that cached figures depend on changes."""

    __tablename__ = "data_version"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
