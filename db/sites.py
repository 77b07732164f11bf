"""科普阵地 (sites): 科普e站, 科普画廊, 科普书屋, 科技(小)馆 … and the 五有 checklist.

``site.<kind>.count`` counts the sites open at a period's end (see indicators).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.catalogs import CatalogItem, list_catalog
from db.database import Database
from db.errors import ValidationError
from db.models import Activity, Attachment, CatalogEntry, Site, new_id
from db.offices import OfficeInfo

FIVE_HAVES = ("网络", "人员", "场所", "活动", "终端")  # 科普e站 “五有”


@dataclass(frozen=True)
class SiteInput:
    """A site's fields as entered."""

    name: str
    kind_id: str
    village: str = ""
    address: str = ""
    area_m2: int | None = None
    opened_on: dt.date | None = None
    closed_on: dt.date | None = None
    checklist: dict[str, bool] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class SiteRow:
    """A site as the register shows it."""

    id: str
    data: SiteInput
    kind: str  # display name of the kind
    kind_code: str
    checklist_items: tuple[str, ...]  # what the kind's checklist asks for (五有)
    activities: int
    photos: int

    def open_on(self, day: dt.date) -> bool:
        """Whether the site counts at ``day`` (opened by then and not yet closed)."""
        d = self.data
        return (d.opened_on is None or d.opened_on <= day) and (
            d.closed_on is None or d.closed_on > day)

    @property
    def checklist_done(self) -> int:
        return sum(1 for item in self.checklist_items if self.data.checklist.get(item))


def site_kinds(session: Session, *, include_hidden: bool = False) -> list[CatalogItem]:
    """The 阵地类型 catalog."""
    return list_catalog(session, "site_kind", include_hidden=include_hidden)


def validate_site(session: Session, data: SiteInput) -> list[tuple[str, str]]:
    """(field, message) for every problem; empty when the site can be saved."""
    errors: list[tuple[str, str]] = []
    if not data.name.strip():
        errors.append(("name", "请填写阵地名称"))
    elif len(data.name.strip()) > 100:
        errors.append(("name", "阵地名称不能超过100个字"))
    kind = session.get(CatalogEntry, data.kind_id)
    if kind is None or kind.kind != "site_kind":
        errors.append(("kind_id", "请选择阵地类型"))
    if data.area_m2 is not None and data.area_m2 < 0:
        errors.append(("area_m2", "面积不能为负数"))
    if data.opened_on and data.closed_on and data.closed_on < data.opened_on:
        errors.append(("closed_on", "停用日期不能早于启用日期"))
    for key in data.checklist:
        if kind is not None and key not in kind.props.get("checklist", ()):
            errors.append(("checklist", f"“{key}”不是该类型阵地的检查项"))
    return errors


def _checked(session: Session, data: SiteInput) -> SiteInput:
    errors = validate_site(session, data)
    if errors:
        raise ValidationError("；".join(m for _f, m in errors), field=errors[0][0])
    return dataclasses.replace(data, name=data.name.strip(), village=data.village.strip(),
                               address=data.address.strip(), note=data.note.strip(),
                               checklist={k: bool(v) for k, v in data.checklist.items()})


def create_site(db: Database, office: OfficeInfo, data: SiteInput,
                user: str | None = None) -> str:
    """Register a site; returns its id."""
    with db.write(user) as s:
        clean = _checked(s, data)
        site = Site(id=new_id(), office_id=office.id, **dataclasses.asdict(clean))
        s.add(site)
        s.flush()
        return site.id


def update_site(db: Database, office: OfficeInfo, site_id: str, data: SiteInput,
                user: str | None = None) -> None:
    """Save changes to a site (audited)."""
    with db.write(user) as s:
        site = s.get(Site, site_id)
        if site is None or site.office_id != office.id:
            raise ValidationError("该阵地已不存在")
        for name, value in dataclasses.asdict(_checked(s, data)).items():
            if getattr(site, name) != value:
                setattr(site, name, value)


def delete_site(db: Database, site_id: str, user: str | None = None) -> None:
    """Delete a site; activities held there keep their record but no longer name it.

    A site that has closed should rather get a 停用日期, so past figures keep it.
    """
    with db.write(user) as s:
        site = s.get(Site, site_id)
        if site is not None:
            s.delete(site)


def list_sites(session: Session, office: OfficeInfo) -> list[SiteRow]:
    """All sites of the office, by kind and name."""
    kinds = {k.id: k for k in site_kinds(session, include_hidden=True)}
    used = dict(session.execute(
        select(Activity.site_id, func.count()).where(Activity.site_id.is_not(None))
        .group_by(Activity.site_id)).all())
    photos = dict(session.execute(
        select(Attachment.site_id, func.count()).where(Attachment.site_id.is_not(None))
        .group_by(Attachment.site_id)).all())
    rows = []
    for site in session.scalars(select(Site).where(Site.office_id == office.id)):
        kind = kinds.get(site.kind_id)
        data = SiteInput(site.name, site.kind_id, site.village, site.address, site.area_m2,
                         site.opened_on, site.closed_on, dict(site.checklist or {}), site.note)
        rows.append(SiteRow(site.id, data, kind.name if kind else "", kind.code if kind else "",
                            tuple(kind.props.get("checklist", ())) if kind else (),
                            used.get(site.id, 0), photos.get(site.id, 0)))
    order = {k: i for i, k in enumerate(kinds)}
    rows.sort(key=lambda r: (order.get(r.data.kind_id, 99), r.data.name))
    return rows


def site_choices(session: Session, office: OfficeInfo,
                 day: dt.date | None = None) -> list[tuple[str, str]]:
    """(id, "name（kind）") of sites open on ``day`` (default: all), for drop-downs."""
    out = []
    for row in list_sites(session, office):
        if day is None or row.open_on(day):
            out.append((row.id, f"{row.data.name}（{row.kind}）"))
    return out

