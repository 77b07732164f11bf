"""An honest overview of a database: its office and how many records it holds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from db.database import Database, head_revision
from db.models import Activity, Attachment, Attendance, AuditLog, CatalogEntry, Site, Target, Trainee
from db.offices import OfficeInfo, list_offices


@dataclass(frozen=True)
class Overview:
    """Plain values for the overview page and ``kepu check``."""

    path: str
    size_bytes: int
    revision: str
    offices: tuple[OfficeInfo, ...]
    activities: int
    trainings: int
    trainees: int
    attendances: int
    attachments: int
    sites: int
    targets: int
    audit_entries: int
    first_date: dt.date | None
    last_date: dt.date | None

    @property
    def total_records(self) -> int:
        return self.activities + self.trainees + self.attendances + self.sites


def _size_on_disk(path: Path) -> int:
    """The database file plus its write-ahead log (recent changes live there)."""
    total = 0
    for suffix in ("", "-wal"):
        part = Path(str(path) + suffix)
        if part.exists():
            total += part.stat().st_size
    return total


def database_overview(db: Database) -> Overview:
    """Count what the database holds (a handful of COUNT queries)."""
    with db.session() as s:
        def count(model: type) -> int:
            return s.scalar(select(func.count()).select_from(model)) or 0

        training_form = select(CatalogEntry.id).where(
            CatalogEntry.kind == "form", CatalogEntry.code == "培训"
        ).scalar_subquery()
        trainings = s.scalar(
            select(func.count()).select_from(Activity).where(Activity.form_id == training_form)
        ) or 0
        first, last = s.execute(
            select(func.min(Activity.start_date), func.max(Activity.start_date))
        ).one()
        return Overview(
            path=str(db.path),
            size_bytes=_size_on_disk(db.path),
            revision=head_revision(),
            offices=tuple(list_offices(s)),
            activities=count(Activity),
            trainings=trainings,
            trainees=count(Trainee),
            attendances=count(Attendance),
            attachments=count(Attachment),
            sites=count(Site),
            targets=count(Target),
            audit_entries=count(AuditLog),
            first_date=first,
            last_date=last,
        )
