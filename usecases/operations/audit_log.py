"""Reading the audit log: filtered by who (actor), what (action) and when
(a time range), newest first, a page at a time with opaque cursors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select

from db.engine import UnitOfWork
from db.models import AuditEntry, User
from pipeline.cursors import decode_cursor, encode_cursor
from usecases.operations.audit import entry_view
from usecases.ports import Ports

SYSTEM = "system"  # the actor filter's name for entries without an actor (the herald command, failed sign-ins)


@dataclass(frozen=True)
class AuditFilter:
    """None means any. `actor_id` 0 means "no actor"; `action` ending in "."
    is a prefix ("sign_in." is every sign-in); times are aware, `since`
    included, `until` excluded."""

    actor_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    target_type: str | None = None
    target_id: str | None = None


def audit_page(ports: Ports, audit_filter: AuditFilter, *, limit: int, cursor: str | None = None) -> dict:
    """`items` (each with its actor's name) newest first, and `next_cursor`.

    Raises:
        BadRequest: a cursor that is not one of ours.
    """
    where = _conditions(audit_filter)
    if cursor:
        created_at, entry_id = decode_cursor(cursor)
        where.append(or_(AuditEntry.created_at < created_at,
                         and_(AuditEntry.created_at == created_at, AuditEntry.id < entry_id)))
    with UnitOfWork(ports.sessions) as uow:
        rows = list(uow.session.scalars(select(AuditEntry).where(*where)
                                        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
                                        .limit(limit + 1)))
        page = rows[:limit]
        names = _actor_names(uow.session, {e.actor_id for e in page if e.actor_id is not None})
    items = [{**entry_view(e), "actor": names.get(e.actor_id, SYSTEM if e.actor_id is None else None)}
             for e in page]
    more = len(rows) > limit
    return {"items": items, "next_cursor": encode_cursor(page[-1].created_at, page[-1].id) if more else None}


def actor_id_for(ports: Ports, who: str) -> int | None:
    """The actor a page's "who" field means: an id, a username, or "system" (0); None when unknown."""
    who = who.strip()
    if who.lower() == SYSTEM:
        return 0
    if who.isdigit():
        return int(who)
    with UnitOfWork(ports.sessions) as uow:
        return uow.session.scalar(select(User.id).where(User.username == who))


def _conditions(f: AuditFilter) -> list:
    where = []
    if f.actor_id == 0:
        where.append(AuditEntry.actor_id.is_(None))
    elif f.actor_id is not None:
        where.append(AuditEntry.actor_id == f.actor_id)
    if f.action:
        where.append(AuditEntry.action.startswith(f.action, autoescape=True) if f.action.endswith(".")
                     else AuditEntry.action == f.action)
    if f.since is not None:
        where.append(AuditEntry.created_at >= f.since)
    if f.until is not None:
        where.append(AuditEntry.created_at < f.until)
    if f.target_type is not None:
        where.append(AuditEntry.target_type == f.target_type)
    if f.target_id is not None:
        where.append(AuditEntry.target_id == f.target_id)
    return where


def _actor_names(session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.username, User.name, User.phone).where(User.id.in_(ids)))
    return {row.id: row.username or row.name or row.phone or f"user {row.id}" for row in rows}
