"""Yearly targets: indicator code + year + value, per office.

Values are kept as decimal text ("1560", "2.00"); progress is computed by the
indicator computation (完成率 = 本年累计 ÷ 年度目标).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.catalogs import all_catalogs
from db.database import Database
from db.errors import KepuError, ValidationError
from db.indicators import COUNT, IndicatorDef, indicator_definitions
from db.models import Target
from db.offices import OfficeInfo


@dataclass(frozen=True)
class TargetRow:
    """One target as plain values."""

    code: str
    name: str
    unit: str
    value: Decimal


def target_indicators(session: Session) -> list[IndicatorDef]:
    """The indicators a target can be set for (all but the not-applicable ones)."""
    return [d for d in indicator_definitions(all_catalogs(session)) if d.applicable]


def parse_target_value(raw: object, indicator: IndicatorDef) -> Decimal:
    """A target value from text or a number: ≥ 0, whole for counts, two places for money.

    Raises:
        ValidationError: not a number, negative, or a fraction for a count.
    """
    text = str(raw).strip().replace(",", "").replace("，", "")
    for unit in (indicator.unit, "元", "人次", "人", "次", "%"):
        if unit and text.endswith(unit):
            text = text[: -len(unit)].strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationError(f"“{indicator.name}”的目标“{raw}”不是数字",
                              field=indicator.code) from None
    if not value.is_finite() or value < 0:
        raise ValidationError(f"“{indicator.name}”的目标不能为负数", field=indicator.code)
    if indicator.kind == COUNT:
        if value != value.to_integral_value():
            raise ValidationError(f"“{indicator.name}”的目标应为整数", field=indicator.code)
        return value.quantize(Decimal(1))
    if indicator.kind in ("money", "per_capita"):
        return value.quantize(Decimal("0.01"))
    return value.quantize(Decimal("0.1"))


def target_years(session: Session, office: OfficeInfo) -> list[int]:
    """The years that have targets, newest first."""
    return sorted(set(session.scalars(select(Target.year).where(
        Target.office_id == office.id))), reverse=True)


def list_targets(session: Session, office: OfficeInfo, year: int) -> list[TargetRow]:
    """The targets of a year, in report order."""
    defs = {d.code: d for d in target_indicators(session)}
    stored = dict(session.execute(
        select(Target.code, Target.value).where(Target.office_id == office.id,
                                                Target.year == year)).all())
    out = [TargetRow(code, d.name, d.unit, Decimal(stored[code]))
           for code, d in defs.items() if code in stored]
    # Targets for codes no longer in the catalogs (an entry was deleted) stay visible.
    out += [TargetRow(code, code, "", Decimal(value)) for code, value in stored.items()
            if code not in defs]
    return out


def set_targets(db: Database, office: OfficeInfo, year: int, values: Mapping[str, object],
                user: str | None = None) -> int:
    """Set (or with an empty value, remove) targets of a year, all or nothing.

    Returns:
        How many targets the year has afterwards.

    Raises:
        ValidationError: an unknown code or a bad value (nothing saved).
    """
    if not 2000 <= int(year) <= 2100:
        raise ValidationError("年份不对", field="年份")
    with db.write(user) as s:
        defs = {d.code: d for d in target_indicators(s)}
        parsed: dict[str, Decimal | None] = {}
        for code, raw in values.items():
            if code not in defs:
                raise ValidationError(f"没有代码为“{code}”的指标", field=code)
            blank = raw is None or (isinstance(raw, str) and not raw.strip())
            parsed[code] = None if blank else parse_target_value(raw, defs[code])
        for code, value in parsed.items():
            row = s.get(Target, (office.id, year, code))
            if value is None:
                if row is not None:
                    s.delete(row)
            elif row is None:
                s.add(Target(office_id=office.id, year=year, code=code, value=str(value)))
            elif Decimal(row.value) != value:
                row.value = str(value)
        s.flush()
        return len(s.scalars(select(Target.code).where(Target.office_id == office.id,
                                                       Target.year == year)).all())


def copy_targets(db: Database, office: OfficeInfo, from_year: int, to_year: int, *,
                 replace: bool = False, user: str | None = None) -> int:
    """Copy a year's targets to another year; returns how many were copied.

    Without ``replace`` targets already set in ``to_year`` are kept.
    """
    with db.write(user) as s:
        source = dict(s.execute(select(Target.code, Target.value).where(
            Target.office_id == office.id, Target.year == from_year)).all())
        if not source:
            raise KepuError(f"{from_year}年没有设置目标，无法复制")
        if replace:
            s.execute(delete(Target).where(Target.office_id == office.id,
                                           Target.year == to_year))
        existing = set(s.scalars(select(Target.code).where(
            Target.office_id == office.id, Target.year == to_year)))
        copied = 0
        for code, value in source.items():
            if code in existing:
                continue
            s.add(Target(office_id=office.id, year=to_year, code=code, value=value))
            copied += 1
        return copied


def _match_indicator(label: str, defs: Iterable[IndicatorDef]) -> IndicatorDef | None:
    label = "".join(label.split())
    for d in defs:
        if label in (d.code, "".join(d.name.split())):
            return d
    for d in defs:  # "农民培训人次" written without the space, or with a unit
        name = "".join(d.name.split())
        if label.replace("（", "(").replace("）", ")") == name.replace("（", "(").replace("）", ")"):
            return d
    return None


def read_targets_workbook(session: Session, path: Path) -> dict[str, object]:
    """Targets from an .xlsx/.xls/.ods: one row per target, indicator name or code + value.

    The first column holding an indicator name or code and the next non-empty
    cell to its right are used; header and blank rows are skipped.

    Raises:
        ValidationError: rows whose indicator is unknown or value is bad, listed together.
    """
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as err:  # noqa: BLE001 - any reader error is a bad file to the user
        raise ValidationError(f"无法读取“{path.name}”：{err}") from err
    defs = target_indicators(session)
    found: dict[str, object] = {}
    problems: list[str] = []
    # Our own template (and similar forms) names its columns: 指标 | 代码 | 单位 | 目标值.
    columns: tuple[int, int] | None = None
    for number, row in enumerate(rows, start=1):
        labels = ["".join(str(c or "").split()) for c in row]
        if columns is None and "目标值" in labels and ("代码" in labels or "指标" in labels):
            key = labels.index("代码") if "代码" in labels else labels.index("指标")
            columns = (key, labels.index("目标值"))
            continue
        if columns is not None:
            key_col, value_col = columns
            label = row[key_col] if key_col < len(row) else None
            raw = row[value_col] if value_col < len(row) else None
            if label in (None, "") or raw is None or (isinstance(raw, str) and not raw.strip()):
                continue  # no target set on this row
            cells = [label, raw]
        else:
            cells = [c for c in row if c not in (None, "")]
            if len(cells) < 2:
                continue
        indicator = _match_indicator(str(cells[0]), defs)
        if indicator is None:
            # A title or header row has no number in it; a data row does.
            value = str(cells[1]).strip().rstrip("元人次%").replace(",", "")
            if columns is not None or value.replace(".", "", 1).isdigit():
                problems.append(f"第{number}行：未知指标“{cells[0]}”")
            continue
        try:
            found[indicator.code] = str(parse_target_value(cells[1], indicator))
        except ValidationError as err:
            problems.append(f"第{number}行：{err.message}")
    if problems:
        raise ValidationError("目标表中有无法识别的行，未导入任何目标：\n" + "\n".join(problems))
    if not found:
        raise ValidationError("目标表中没有找到任何指标（第一列应为指标名称或代码，第二列为目标值）")
    return found
