"""Rotating refresh tokens: random, stored as SHA-256, one family per sign-in.

Each use spends the token and issues the next of its family. A spent token
presented again means one of its copies was stolen: the whole family is
revoked, the thief's and the owner's alike.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import RefreshToken
from pipeline.errors import InvalidToken


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_refresh_token(session: Session, user_id: int, *, now: datetime, ttl_seconds: int,
                        family: str | None = None) -> str:
    """A new token for `user_id`, in `family` or in a new family."""
    token = secrets.token_urlsafe(32)
    session.add(RefreshToken(user_id=user_id, token_hash=_digest(token),
                             family=family or secrets.token_hex(16), created_at=now,
                             expires_at=now + timedelta(seconds=ttl_seconds)))
    session.flush()
    return token


def rotate_refresh_token(session: Session, token: str, *, now: datetime,
                         ttl_seconds: int) -> tuple[int, str] | InvalidToken:
    """(user id, next token) for a live token; otherwise the refusal to raise.

    A replayed token revokes its family, so the caller commits before raising.
    """
    row = session.execute(
        select(RefreshToken, RefreshToken.expires_at > now)
        .where(RefreshToken.token_hash == _digest(token)).with_for_update()
    ).first()
    if row is None or row[0].revoked_at is not None or not row[1]:
        return InvalidToken("the refresh token is unknown, revoked or expired")
    spent = row[0]
    if spent.used_at is not None:
        revoke_family(session, spent.family, now)
        return InvalidToken("the refresh token was already used; sign in again")
    spent.used_at = now
    return spent.user_id, issue_refresh_token(session, spent.user_id, now=now, ttl_seconds=ttl_seconds,
                                              family=spent.family)


def revoke_family(session: Session, family: str, now: datetime) -> None:
    """Revoke every token of `family` that is not revoked yet."""
    session.execute(update(RefreshToken)
                    .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=now))
