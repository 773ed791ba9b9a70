"""Ending a user's sessions at once (docs/decisions.md D60): in the
caller's transaction, the user's token generation goes up (every access
token signed before is void), and optionally their refresh tokens and
unused socket tickets are spent; after the commit, every edge process is
told, and closes the user's sockets."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from db.models import RefreshToken, User
from pipeline import control
from pipeline.control import Revocation
from usecases.accounts.tickets import spend_tickets
from usecases.ports import Ports

log = logging.getLogger(__name__)


def revoke_tokens(session: Session, user: User, now: datetime, reason: str, *,
                  refresh_tokens: bool = True) -> tuple[Revocation, int]:
    """The revocation to announce after commit, and how many refresh tokens it spent.

    `refresh_tokens=False` (a role change) voids only access tokens: the
    client's next refresh signs one with the new role."""
    user.token_generation += 1
    user.tokens_revoked_at = now
    spent = 0
    if refresh_tokens:
        spent = session.execute(update(RefreshToken)
                                .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None),
                                       RefreshToken.expires_at > now)
                                .values(revoked_at=now)).rowcount
    spend_tickets(session, user.id, now)
    return Revocation(user.id, user.token_generation, reason), spent


def announce(ports: Ports, revocation: Revocation) -> None:
    """Tell every edge process, after the commit. If Redis cannot be
    reached, each edge re-reads the database within a minute, and at once
    when its subscriber reconnects."""
    try:
        ports.realtime.control(control.pack(revocation))
    except Exception as e:
        log.warning("could not announce the revocation of user %s (%r); edges re-read it from the database",
                    revocation.user_id, e)
