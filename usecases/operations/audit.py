"""The audit log: who did what to which object, and when.

`actor_id` is None for the system actor (an operator at the `herald`
command); `details["via"]` says which door the action came through.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AuditEntry
from pipeline.timestamps import iso


def audit(session: Session, *, actor_id: int | None, action: str, target_type: str, target_id: str | int,
          details: dict, now: datetime) -> None:
    session.add(AuditEntry(actor_id=actor_id, action=action, target_type=target_type,
                           target_id=str(target_id), details=details, created_at=now))


def entries_for(session: Session, target_type: str, target_id: str | int) -> list[AuditEntry]:
    """Every entry about one object, oldest first."""
    return list(session.scalars(
        select(AuditEntry).where(AuditEntry.target_type == target_type,
                                 AuditEntry.target_id == str(target_id))
        .order_by(AuditEntry.id)))


def entry_view(entry: AuditEntry) -> dict:
    return {"id": entry.id, "actor_id": entry.actor_id, "action": entry.action,
            "target_type": entry.target_type, "target_id": entry.target_id, "details": entry.details,
            "created_at": iso(entry.created_at)}
