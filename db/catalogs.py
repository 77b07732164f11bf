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
    exists = session.scalar(
        select(CatalogEntry.id).where(CatalogEntry.kind == kind, CatalogEntry.code == code)
    )
    if exists:
        raise ValidationError(f"{KIND_LABELS[kind]}中已有“{code}”", field="名称")
    last = max((i.sort_order for i in list_catalog(session, kind)), default=0)
    entry = CatalogEntry(kind=kind, code=code, name=(name or code).strip(),
                         sort_order=last + 10, props=props or {})
    session.add(entry)
    session.flush()
    return _item(entry)
