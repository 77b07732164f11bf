"""The one object every report of a period is rendered from.

Excel, PDF, the filled county template and the submission bundle are renderings
of a :class:`ReportData`; none of them counts anything itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from db.database import Database
from db.exports import ActivityRecord, RosterRecord, activity_records, roster_records
from db.idcard import mask_id_number
from db.indicators import Figures, compute_figures
from db.offices import OfficeInfo
from db.periods import Period
from db.reporting import month_state
from db.trainees import mask_phone


@dataclass(frozen=True)
class ReportHeader:
    """The header block of every report (DOMAIN.md: the monthly return)."""

    office_name: str
    office_code: str
    office_level: str
    region: str
    period_key: str  # 2025-09
    period_label: str  # 2025年9月
    reporter: str  # 填报人
    reviewer: str  # 审核人
    phone: str  # 联系电话
    report_date: dt.date  # 报送日期
    revision: int = 0  # 0: first return; N: 第N次修订

    @property
    def revision_label(self) -> str:
        return f"第{self.revision}次修订" if self.revision else ""

    @property
    def title(self) -> str:
        """E.g. 金井镇2025年9月科普工作情况汇总."""
        return f"{self.office_name}{self.period_label}科普工作情况汇总"


@dataclass(frozen=True)
class ReportData:
    """Everything one period's reports show, as plain values."""

    header: ReportHeader
    figures: Figures
    activities: tuple[ActivityRecord, ...]
    roster: tuple[RosterRecord, ...]
    full_ids: bool = False  # the user asked for full 身份证号/phones in this export
    generated_at: dt.datetime = field(default_factory=dt.datetime.now)

    def id_text(self, record: RosterRecord) -> str:
        """A 身份证号 as this export shows it (masked unless full_ids)."""
        if not record.id_number:
            return ""
        return record.id_number if self.full_ids else mask_id_number(record.id_number)

    def phone_text(self, record: RosterRecord) -> str:
        """A phone number as this export shows it (masked unless full_ids)."""
        return record.phone if self.full_ids else mask_phone(record.phone)

    # Masking validates the number, so it is done once per person, not per row, and
    # once for all renderings (the return's roster, the bundle's data.json).
    @cached_property
    def shown_ids(self) -> dict[str | None, str]:
        """Each 身份证号 of the roster → :meth:`id_text`."""
        return {n: self.id_text(r) for n, r in {r.id_number: r for r in self.roster}.items()}

    @cached_property
    def shown_phones(self) -> dict[str, str]:
        """Each phone number of the roster → :meth:`phone_text`."""
        return {p: self.phone_text(r) for p, r in {r.phone: r for r in self.roster}.items()}


def build_report_data(db: Database, office: OfficeInfo, period: Period, *,
                      full_ids: bool = False, reporter: str | None = None,
                      reviewer: str | None = None, phone: str | None = None,
                      report_date: dt.date | None = None) -> ReportData:
    """Compute a period's figures and collect its records, in one read transaction."""
    with db.session() as s, s.begin():
        figures = compute_figures(s, office, period)
        activities = tuple(activity_records(s, office.id, period.start, period.end))
        roster = tuple(roster_records(s, office.id, period.start, period.end))
        revision = month_state(s, office, period.key).revision if period.kind == "month" else 0
    header = ReportHeader(
        office_name=office.name,
        office_code=office.code,
        office_level=office.level,
        region=office.region,
        period_key=period.key,
        period_label=period.label,
        reporter=office.reporter if reporter is None else reporter,
        reviewer=office.reviewer if reviewer is None else reviewer,
        phone=office.phone if phone is None else phone,
        report_date=report_date or dt.date.today(),
        revision=revision,
    )
    return ReportData(header, figures, activities, roster, full_ids)
