"""Recording setting changes as AuditEvent rows (who, when, what, old -> new)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, col, select

from storage.models import AuditEvent

SECRET_MARK = "••••••"


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def record_changes(
    *, session: Session, actor: str, entity: str, entity_id: int | None,
    old: Mapping[str, Any], new: Mapping[str, Any], secret_fields: frozenset[str] = frozenset(),
    note: str | None = None,
) -> list[AuditEvent]:
    """Add one AuditEvent per field whose value differs; secrets are logged as changed, never shown."""
    events = []
    for field, new_value in new.items():
        old_value = old.get(field)
        if _text(old_value) == _text(new_value):
            continue
        shown_old, shown_new = _text(old_value), _text(new_value)
        if field in secret_fields:
            shown_old = SECRET_MARK if old_value else None
            shown_new = SECRET_MARK + " (changed)"
        event = AuditEvent(actor=actor, entity=entity, entity_id=entity_id, field=field,
                           old_value=shown_old, new_value=shown_new, note=note)
        session.add(event)
        events.append(event)
    return events


def audit_trail(*, session: Session, entity: str | None = None, limit: int = 200) -> list[AuditEvent]:
    """Newest setting changes first."""
    query = select(AuditEvent).order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit)
    if entity:
        query = query.where(AuditEvent.entity == entity)
    return list(session.exec(query).all())
