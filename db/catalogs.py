"""Editable catalogs (活动形式, 主题活动, 重点人群, 主题领域, 重点工程, 阵地类型).

The built-in entries come from ``resources/catalogs.json`` and are added to a
database when it is opened and they are missing; the office can add its own,
rename and hide entries. An entry's ``code`` is what indicator codes use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

import resources
from db.errors import ValidationError
from db.models import CATALOG_KINDS, CatalogEntry, new_id

if TYPE_CHECKING:
    from db.database import Database

KIND_LABELS = {
    "form": "活动形式",
    "campaign": "主题活动",
    "group": "重点人群/人员类别",
    "topic": "主题领域",
    "project": "重点工程",
    "site_kind": "阵地类型",
}
FORBIDDEN_CODE_CHARS = set(".:{}") | {" ", "\t", "\n"}


@dataclass(frozen=True)
class CatalogItem:
    """A catalog entry as plain values."""

    id: str
    kind: str
    code: str
    name: str
    sort_order: int
    hidden: bool
    builtin: bool
    props: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def default_catalogs() -> dict[str, list[dict[str, Any]]]:
    """The built-in catalogs as shipped in resources."""
    with open(resources.CATALOGS, encoding="utf-8") as fh:
        data: dict[str, list[dict[str, Any]]] = json.load(fh)
    return data


def ensure_catalogs(db: Database) -> None:
    """Add the built-in entries a database does not have yet (by kind + code)."""
    with db.engine.connect() as conn:
        have = {(k, c) for k, c in conn.execute(select(CatalogEntry.kind, CatalogEntry.code))}
    rows = []
    for kind, entries in default_catalogs().items():
        for order, entry in enumerate(entries):
            if (kind, entry["code"]) in have:
                continue
            rows.append(
                {
                    "id": new_id(),
                    "kind": kind,
                    "code": entry["code"],
                    "name": entry.get("name", entry["code"]),
                    "sort_order": (order + 1) * 10,
                    "hidden": False,
                    "builtin": True,
                    "props": entry.get("props", {}),
                }
            )
    if rows:
        with db.engine.begin() as conn:
            conn.execute(insert(CatalogEntry), rows)


def _item(e: CatalogEntry) -> CatalogItem:
    return CatalogItem(e.id, e.kind, e.code, e.name, e.sort_order, e.hidden, e.builtin,
                       dict(e.props or {}))


def list_catalog(session: Session, kind: str, *, include_hidden: bool = True) -> list[CatalogItem]:
    """The entries of one catalog in display order."""
    stmt = select(CatalogEntry).where(CatalogEntry.kind == kind)
    if not include_hidden:
        stmt = stmt.where(CatalogEntry.hidden.is_(False))
    stmt = stmt.order_by(CatalogEntry.sort_order, CatalogEntry.code)
    return [_item(e) for e in session.scalars(stmt)]


def all_catalogs(session: Session) -> dict[str, list[CatalogItem]]:
    """Every catalog, keyed by kind, in display order (hidden entries included)."""
    out: dict[str, list[CatalogItem]] = {k: [] for k in CATALOG_KINDS}
    stmt = select(CatalogEntry).order_by(CatalogEntry.sort_order, CatalogEntry.code)
    for e in session.scalars(stmt):
        out[e.kind].append(_item(e))
    return out


def find_entry(session: Session, kind: str, code_or_name: str) -> CatalogItem | None:
    """An entry by its code or its display name."""
    for item in list_catalog(session, kind):
        if code_or_name in (item.code, item.name):
            return item
    return None


def validate_code(code: str) -> str:
    """Check a catalog code can be used inside an indicator code."""
    code = code.strip()
    if not code:
        raise ValidationError("名称不能为空", field="名称")
    bad = sorted(set(code) & FORBIDDEN_CODE_CHARS)
    if bad:
        shown = "、".join("空格" if ch.isspace() else ch for ch in bad)
        raise ValidationError(f"名称中不能含有 {shown}", field="名称")
    if len(code) > 50:
        raise ValidationError("名称不能超过50个字", field="名称")
    return code


def add_entry(session: Session, kind: str, code: str, name: str | None = None,
              props: dict[str, Any] | None = None) -> CatalogItem:
    """Add an office-defined entry at the end of a catalog."""
    if kind not in CATALOG_KINDS:
        raise ValidationError(f"未知的目录类型：{kind}")
    code = validate_code(code)
    display = (name or code).strip()
    same_code = session.scalar(
        select(CatalogEntry).where(CatalogEntry.kind == kind, CatalogEntry.code == code)
    )
    if same_code is not None:
        if same_code.name != code:
            raise ValidationError(
                f"{KIND_LABELS[kind]}中已有统计代码为“{code}”的项目（现名“{same_code.name}”），"
                "可以取消隐藏或改名使用它", field="名称")
        raise ValidationError(f"{KIND_LABELS[kind]}中已有“{code}”", field="名称")
    same_name = session.scalar(
        select(CatalogEntry.id).where(CatalogEntry.kind == kind, CatalogEntry.name == display)
    )
    if same_name:
        raise ValidationError(f"{KIND_LABELS[kind]}中已有“{display}”", field="名称")
    last = max((i.sort_order for i in list_catalog(session, kind)), default=0)
    entry = CatalogEntry(kind=kind, code=code, name=display,
                         sort_order=last + 10, props=props or {})
    session.add(entry)
    session.flush()
    return _item(entry)


_REFERENCES = {
    # kind → (table, column) pairs that point at an entry of that kind
    "form": (("activity", "form_id"),),
    "campaign": (("activity", "campaign_id"),),
    "group": (("activity_group", "group_id"), ("trainee", "category_id")),
    "topic": (("activity_topic", "topic_id"),),
    "project": (("activity_project", "project_id"),),
    "site_kind": (("site", "kind_id"),),
}


def usage_counts(session: Session, kind: str) -> dict[str, int]:
    """How many records use each entry of a catalog (entry id → count)."""
    from sqlalchemy import text

    counts: dict[str, int] = {}
    for table, column in _REFERENCES[kind]:
        rows = session.execute(
            text(f"SELECT {column}, COUNT(*) FROM {table} WHERE {column} IS NOT NULL"
                 f" GROUP BY {column}")
        )
        for entry_id, n in rows:
            counts[entry_id] = counts.get(entry_id, 0) + n
    return counts


def _entry(session: Session, entry_id: str) -> CatalogEntry:
    entry = session.get(CatalogEntry, entry_id)
    if entry is None:
        raise ValidationError("该目录项已不存在")
    return entry


def rename_entry(session: Session, entry_id: str, name: str) -> CatalogItem:
    """Change the display name of an entry.

    The code (used in indicator codes and county templates) stays as it is, so
    renaming never breaks a template or last year's figures.
    """
    entry = _entry(session, entry_id)
    name = name.strip()
    if not name:
        raise ValidationError("名称不能为空", field="名称")
    if len(name) > 100:
        raise ValidationError("名称不能超过100个字", field="名称")
    clash = session.scalar(
        select(CatalogEntry.id).where(CatalogEntry.kind == entry.kind,
                                      CatalogEntry.name == name, CatalogEntry.id != entry_id)
    )
    if clash:
        raise ValidationError(f"{KIND_LABELS[entry.kind]}中已有“{name}”", field="名称")
    entry.name = name
    session.flush()
    return _item(entry)


def set_hidden(session: Session, entry_id: str, hidden: bool) -> CatalogItem:
    """Hide an entry from drop-downs (records that use it keep it) or show it again."""
    entry = _entry(session, entry_id)
    if hidden and entry.kind == "form" and entry.code == "培训":
        raise ValidationError("“培训”是统计培训期数、学时和花名册所必需的，不能隐藏")
    entry.hidden = hidden
    session.flush()
    return _item(entry)


def delete_refusal(session: Session, entry_id: str) -> str | None:
    """Why an entry cannot be deleted (built-in or in use), or None if it can."""
    entry = _entry(session, entry_id)
    if entry.builtin:
        return f"“{entry.name}”是内置项目，不能删除，只能隐藏"
    used = usage_counts(session, entry.kind).get(entry_id, 0)
    if used:
        return f"“{entry.name}”已被 {used} 条记录使用，不能删除，只能隐藏"
    return None


def delete_entry(session: Session, entry_id: str) -> None:
    """Delete an office-defined entry nobody uses; built-in or used entries can only be hidden."""
    refusal = delete_refusal(session, entry_id)
    if refusal:
        raise ValidationError(refusal)
    session.delete(_entry(session, entry_id))
    session.flush()


def set_props(session: Session, entry_id: str, props: dict[str, Any]) -> CatalogItem:
    """Replace kind-specific settings of an entry (e.g. a campaign's usual month)."""
    entry = _entry(session, entry_id)
    month = props.get("month")
    if month is not None and (not isinstance(month, int) or not 1 <= month <= 12):
        raise ValidationError("常用月份应为1至12月", field="常用月份")
    entry.props = dict(props)
    session.flush()
    return _item(entry)


def move_entry(session: Session, entry_id: str, step: int) -> None:
    """Move an entry up (step -1) or down (step +1) within its catalog."""
    entry = _entry(session, entry_id)
    items = session.scalars(
        select(CatalogEntry).where(CatalogEntry.kind == entry.kind)
        .order_by(CatalogEntry.sort_order, CatalogEntry.code)
    ).all()
    index = next(i for i, e in enumerate(items) if e.id == entry_id)
    target = index + step
    if not 0 <= target < len(items):
        return
    items = list(items)
    items.insert(target, items.pop(index))
    for order, e in enumerate(items):
        if e.sort_order != (order + 1) * 10:
            e.sort_order = (order + 1) * 10
    session.flush()
