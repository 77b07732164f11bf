"""The 填报单位 (office): creating it on first run, reading it as plain values."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import audit
from db.errors import KepuError, ValidationError
from db.models import LEVELS, Office, OfficePopulation

_CODE_RE = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")


@dataclass(frozen=True)
class OfficeInfo:
    """An office as plain values."""

    id: str
    name: str
    code: str
    level: str
    region: str
    population: int
    reporter: str = ""
    reviewer: str = ""
    phone: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "code": self.code, "level": self.level,
                "region": self.region, "population": self.population}


def _info(o: Office) -> OfficeInfo:
    return OfficeInfo(o.id, o.name, o.code, o.level, o.region, o.population,
                      o.reporter, o.reviewer, o.phone)


def validate_office(name: str, code: str, level: str, region: str, population: object) -> tuple[
        str, str, str, str, int]:
    """Check the fields of an office; returns them cleaned.

    Raises:
        ValidationError: naming the field that is wrong.
    """
    name = (name or "").strip()
    code = (code or "").strip()
    region = (region or "").strip()
    if not name:
        raise ValidationError("请填写填报单位名称", field="单位名称")
    if len(name) > 100:
        raise ValidationError("单位名称不能超过100个字", field="单位名称")
    if not _CODE_RE.match(code):
        raise ValidationError(
            "行政区划代码应为6位、9位或12位数字（如 350582103）", field="行政区划代码"
        )
    if level not in LEVELS:
        raise ValidationError("单位级别应为 街道、镇 或 乡", field="级别")
    try:
        pop = int(str(population).replace(",", "").replace("，", "").strip())
    except ValueError:
        raise ValidationError("常住人口应为正整数", field="常住人口") from None
    if pop <= 0:
        raise ValidationError("常住人口应为正整数", field="常住人口")
    return name, code, level, region, pop


def create_office(session: Session, name: str, code: str, level: str, region: str,
                  population: object) -> OfficeInfo:
    """Create the office of this database (one per file for a township clerk)."""
    name, code, level, region, pop = validate_office(name, code, level, region, population)
    if session.scalar(select(Office.id).where(Office.code == code)):
        raise ValidationError(f"行政区划代码 {code} 的单位已存在", field="行政区划代码")
    office = Office(name=name, code=code, level=level, region=region, population=pop)
    session.add(office)
    session.flush()
    return _info(office)


def list_offices(session: Session) -> list[OfficeInfo]:
    return [_info(o) for o in session.scalars(select(Office).order_by(Office.code))]


def get_office(session: Session, code: str | None = None) -> OfficeInfo:
    """The office of this database, or the one with ``code`` when there are several.

    Raises:
        KepuError: no office yet, or several and no code given.
    """
    offices = list_offices(session)
    if code:
        for o in offices:
            if o.code == code:
                return o
        raise KepuError(f"数据库中没有行政区划代码为 {code} 的单位")
    if not offices:
        raise KepuError("数据库中还没有填报单位，请先运行 kepu init 或在程序中完成首次设置")
    if len(offices) > 1:
        codes = "、".join(f"{o.name}（{o.code}）" for o in offices)
        raise KepuError(f"数据库中有多个单位：{codes}，请用 --office 指定行政区划代码")
    return offices[0]


def population_for(session: Session, office: OfficeInfo, year: int) -> int:
    """常住人口 of a year: the per-year figure if set, else the office default."""
    pop = session.scalar(
        select(OfficePopulation.population).where(
            OfficePopulation.office_id == office.id, OfficePopulation.year == year
        )
    )
    return pop or office.population


def log_init(session: Session, office: OfficeInfo) -> None:
    audit.log(session, "init", "office", office.id, note=f"创建填报单位 {office.name}")


def update_office(session: Session, office_id: str, *, name: str, code: str, level: str,
                  region: str, population: object, reporter: str = "", reviewer: str = "",
                  phone: str = "") -> OfficeInfo:
    """Change the office profile and the report signature defaults (audited)."""
    name, code, level, region, pop = validate_office(name, code, level, region, population)
    office = session.get(Office, office_id)
    if office is None:
        raise KepuError("填报单位不存在")
    clash = session.scalar(select(Office.id).where(Office.code == code, Office.id != office_id))
    if clash:
        raise ValidationError(f"行政区划代码 {code} 已被另一个单位使用", field="行政区划代码")
    if phone.strip():
        from db.trainees import normalize_phone

        phone = normalize_phone(phone)
    for field_name, value in (("name", name), ("code", code), ("level", level),
                              ("region", region), ("population", pop),
                              ("reporter", reporter.strip()), ("reviewer", reviewer.strip()),
                              ("phone", phone.strip())):
        if getattr(office, field_name) != value:
            setattr(office, field_name, value)
    session.flush()
    return _info(office)


def year_populations(session: Session, office_id: str) -> dict[int, int]:
    """常住人口 set for particular years."""
    return dict(session.execute(
        select(OfficePopulation.year, OfficePopulation.population)
        .where(OfficePopulation.office_id == office_id)).all())


def set_year_population(session: Session, office_id: str, year: int,
                        population: object | None) -> None:
    """Set 常住人口 for one year (None or "" removes it: the default applies)."""
    row = session.get(OfficePopulation, (office_id, year))
    if population in (None, ""):
        if row is not None:
            session.delete(row)
        return
    try:
        pop = int(str(population).replace(",", "").strip())
    except ValueError:
        raise ValidationError("常住人口应为正整数", field="常住人口") from None
    if pop <= 0:
        raise ValidationError("常住人口应为正整数", field="常住人口")
    if row is None:
        session.add(OfficePopulation(office_id=office_id, year=year, population=pop))
    else:
        row.population = pop
    session.flush()
