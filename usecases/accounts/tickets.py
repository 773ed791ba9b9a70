"""One-time WebSocket tickets: a browser trades its token for a ticket over
HTTP and puts only the ticket in the socket URL."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update

from db.engine import UnitOfWork
from db.models import WsTicket
from usecases.ports import Ports


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def issue_ticket(ports: Ports, user_id: int, now: datetime, ttl_seconds: int) -> str:
    """A ticket for one socket of `user_id`; only its digest is stored."""
    ticket = secrets.token_urlsafe(32)
    with UnitOfWork(ports.sessions) as uow:
        uow.session.add(WsTicket(ticket_hash=_digest(ticket), user_id=user_id,
                                 expires_at=now + timedelta(seconds=ttl_seconds)))
        uow.commit()
    return ticket


def redeem_ticket(ports: Ports, ticket: str, now: datetime) -> int | None:
    """The ticket's user id, once; None when unknown, spent or expired."""
    with UnitOfWork(ports.sessions) as uow:
        user_id = uow.session.execute(
            update(WsTicket)
            .where(WsTicket.ticket_hash == _digest(ticket), WsTicket.used_at.is_(None), WsTicket.expires_at > now)
            .values(used_at=now).returning(WsTicket.user_id)
        ).scalar_one_or_none()
        uow.commit()
    return user_id
