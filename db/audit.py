"""The audit log: every change made through the ORM is written as old → new.

A listener on each session flush writes one ``audit_log`` row per created,
changed or deleted record, in the same transaction as the change itself, so a
change and its audit entry commit or roll back together. A deletion keeps the
full record, so a deleted activity stays recoverable from the log.
"""

from __future__ import annotations

import datetime as dt
import getpass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, event, insert, inspect
from sqlalchemy.orm import Session, UOWTransaction

from db.models import AuditLog, Base, new_id, utcnow

NOT_AUDITED = {"audit_log", "setting"}
# Columns holding personal numbers: the audit trail keeps them masked, so it never
# becomes a second copy of the register (a deleted person's number does not live on).
PERSONAL_COLUMNS = {"trainee": ("id_number", "phone")}


def _masked(table: str, values: dict[str, Any]) -> dict[str, Any]:
    columns = PERSONAL_COLUMNS.get(table)
    if not columns:
        return values
    from db.idcard import mask_id_number  # noqa: PLC0415 - db.trainees imports this module
    from db.trainees import mask_phone  # noqa: PLC0415

    mask = {"id_number": mask_id_number, "phone": mask_phone}
    out = dict(values)
    for key in columns:
        if key not in out:
            continue
        value = out[key]
        if isinstance(value, list):  # an update: [old, new]
            out[key] = [mask[key](v) if v else v for v in value]
        elif value:
            out[key] = mask[key](value)
    return out


def current_user() -> str:
    """The operating-system user name (the clerk's login), or '' if unknown."""
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name is not an error
        return ""


def jsonable(value: Any) -> Any:
    """A value as it is written into the JSON of the log."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def record_key(obj: Base) -> str:
    """The primary key of a record as text (composite keys joined by '/')."""
    identity = inspect(obj).identity
    if identity is None:
        mapper = inspect(obj).mapper
        identity = tuple(getattr(obj, col.key) for col in mapper.primary_key)
    return "/".join(str(part) for part in identity)


def snapshot(obj: Base) -> dict[str, Any]:
    """All column values of a record."""
    mapper = inspect(obj).mapper
    return {attr.key: jsonable(getattr(obj, attr.key)) for attr in mapper.column_attrs}


def _changes(obj: Base) -> dict[str, list[Any]]:
    state = inspect(obj)
    out: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        if attr.key == "updated_at":
            continue
        hist = state.attrs[attr.key].history
        if hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old != new:
                out[attr.key] = [jsonable(old), jsonable(new)]
    return out


def _after_flush(session: Session, _flush_context: UOWTransaction) -> None:
    user = session.info.get("user") or current_user()
    now = utcnow()
    rows: list[dict[str, Any]] = []

    def add(action: str, obj: Base, changes: dict[str, Any]) -> None:
        table = obj.__table__.name  # type: ignore[attr-defined]
        if table in NOT_AUDITED:
            return
        rows.append(
            {
                "id": new_id(),
                "at": now,
                "user": user,
                "action": action,
                "table_name": table,
                "record_id": record_key(obj),
                "changes": _masked(table, changes),
                "note": session.info.get("audit_note", ""),
            }
        )

    for obj in session.new:
        add("create", obj, snapshot(obj))
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            changes = _changes(obj)
            if changes:
                add("update", obj, changes)
    for obj in session.deleted:
        add("delete", obj, snapshot(obj))
    if rows:
        session.connection().execute(insert(AuditLog), rows)


def install(_engine: Engine) -> None:
    """Make sure the flush listener is registered (once per process)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


def log(session: Session, action: str, table: str, record_id: str, note: str = "",
        changes: dict[str, Any] | None = None) -> None:
    """Write one audit entry that is not a plain record change (import, reopen, demo ...)."""
    session.add(
        AuditLog(
            action=action,
            table_name=table,
            record_id=record_id,
            note=note,
            changes=changes or {},
            user=session.info.get("user") or current_user(),
        )
    )
