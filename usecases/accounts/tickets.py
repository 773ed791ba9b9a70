"""One-time WebSocket tickets: a browser trades its token for a ticket over
HTTP and puts only the ticket in the socket URL."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update

from db.models import WsTicket


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def issue_ticket(session, user_id: int, now: datetime, ttl_seconds: int) -> str:
    ticket = secrets.token_urlsafe(32)
    session.add(WsTicket(ticket_hash=_digest(ticket), user_id=user_id,
                         expires_at=now + timedelta(seconds=ttl_seconds)))
    return ticket


def redeem_ticket(session, ticket: str, now: datetime) -> int | None:
    """The ticket's user id, once; None when unknown, spent or expired."""
    return session.execute(
        update(WsTicket)
        .where(WsTicket.ticket_hash == _digest(ticket), WsTicket.used_at.is_(None), WsTicket.expires_at > now)
        .values(used_at=now).returning(WsTicket.user_id)
    ).scalar_one_or_none()
