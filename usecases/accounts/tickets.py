"""One-time WebSocket tickets: a browser trades its token for a ticket over
HTTP and puts only the ticket in the socket URL."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update

from db.engine import UnitOfWork
from db.models import User, WsTicket
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


def redeem_ticket(ports: Ports, ticket: str, now: datetime) -> tuple[int, int] | None:
    """The ticket's user id and token generation, once; None when unknown,
    spent, expired, or the account is disabled.

    A revocation spends the user's tickets in its transaction; it waits for
    this one's row lock, so the generation read here is the one before it
    and the revocation's control message closes the socket (D60)."""
    with UnitOfWork(ports.sessions) as uow:
        user_id = uow.session.execute(
            update(WsTicket)
            .where(WsTicket.ticket_hash == _digest(ticket), WsTicket.used_at.is_(None), WsTicket.expires_at > now)
            .values(used_at=now).returning(WsTicket.user_id)
        ).scalar_one_or_none()
        user = uow.session.get(User, user_id) if user_id is not None else None
        uow.commit()
        if user is None or user.disabled_at is not None:
            return None
        return user.id, user.token_generation


def spend_tickets(session, user_id: int, now: datetime) -> None:
    """Spend every unused ticket of the user (a revocation)."""
    session.execute(update(WsTicket).where(WsTicket.user_id == user_id, WsTicket.used_at.is_(None))
                    .values(used_at=now))
