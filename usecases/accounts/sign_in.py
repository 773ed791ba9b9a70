"""Signing in: the account behind a credential and the session it opens.

A session is a refresh-token family; the edge pairs each refresh token with
a short-lived access token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from usecases.accounts.refresh_tokens import issue_refresh_token, rotate_refresh_token
from usecases.accounts.users import activate, mobile_user_for_phone
from db.models import User
from pipeline.errors import InvalidOtp, InvalidToken


@dataclass(frozen=True)
class SignedIn:
    user: User
    refresh_token: str


def open_session(session: Session, user: User, *, now: datetime, ttl_seconds: int) -> SignedIn:
    """A new refresh-token family for `user`."""
    return SignedIn(user, issue_refresh_token(session, user.id, now=now, ttl_seconds=ttl_seconds))


def sign_in_mobile(session: Session, phone: str, *, now: datetime, ttl_seconds: int) -> SignedIn:
    """Open a session for the owner of a verified number, creating or activating the account.

    Raises:
        InvalidOtp: the number belongs to an account that signs in with a password.
    """
    user = mobile_user_for_phone(session, phone, now)
    if user.role != "mobile":
        raise InvalidOtp("this number signs in with a username and password")
    activate(session, user, now)
    return open_session(session, user, now=now, ttl_seconds=ttl_seconds)


def user_by_username(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def refresh_session(session: Session, token: str, *, now: datetime,
                    ttl_seconds: int) -> SignedIn | InvalidToken:
    """The session continued with the token after `token`; otherwise the refusal to raise.

    A replayed token revokes its family, so the caller commits before raising.
    """
    rotated = rotate_refresh_token(session, token, now=now, ttl_seconds=ttl_seconds)
    if isinstance(rotated, InvalidToken):
        return rotated
    user_id, next_token = rotated
    return SignedIn(session.get(User, user_id), next_token)
