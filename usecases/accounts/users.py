"""Accounts: creation, and the placeholder account of a number that has
received messages before its owner signed up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.sql import insert_ignoring_conflict, insert_ignoring_conflicts_returning
from db.models import Stream, User
from pipeline.errors import Conflict, ValidationFailed

ROLES = ("business", "mobile", "admin")


def create_user(session: Session, *, role: str, now: datetime, phone: str | None = None,
                name: str | None = None, username: str | None = None,
                password_hash: str | None = None) -> User:
    """Create an activated account with its delivery stream.

    Raises:
        ValidationFailed: unknown role, or a mobile user without a phone.
        Conflict: the phone number or username is taken.
    """
    if role not in ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(ROLES)}")
    if role == "mobile" and not phone:
        raise ValidationFailed("mobile users need a phone number")
    if phone and session.scalar(select(User.id).where(User.phone == phone)):
        raise Conflict(f"{phone} already has an account")
    if username and session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"username {username!r} is taken")
    user = User(role=role, phone=phone, name=name, username=username, password_hash=password_hash,
                created_at=now, activated_at=now)
    session.add(user)
    session.flush()
    session.add(Stream(user_id=user.id, last_position=0, acked_position=0))
    session.flush()
    return user


def claim_placeholder(session: Session, *, phone: str, now: datetime, name: str | None = None,
                      username: str | None = None, password_hash: str | None = None) -> User | None:
    """Make the placeholder account of `phone` (E.164) a real one — same id,
    its waiting messages kept — or None when the number has no placeholder.

    One conditional UPDATE: of two concurrent claims (or a claim and the
    number's first sign-in) one wins; the other finds no placeholder.

    Raises:
        Conflict: the username is taken.
    """
    if username and session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"username {username!r} is taken")
    changes = {"activated_at": now, **{k: v for k, v in {"name": name, "username": username,
                                                          "password_hash": password_hash}.items() if v}}
    user_id = session.execute(update(User).where(User.phone == phone, User.role == "mobile",
                                                 User.activated_at.is_(None))
                              .values(**changes).returning(User.id)).scalar()
    return session.get(User, user_id, populate_existing=True) if user_id is not None else None


def mobile_user_for_phone(session: Session, phone: str, now: datetime) -> User:
    """The account of `phone` (E.164), created unactivated if it has none.

    Safe under concurrent calls: the unique phone index decides the winner.
    """
    insert_ignoring_conflict(session, User, {"role": "mobile", "phone": phone, "created_at": now},
                             ["phone"])
    user = session.scalars(select(User).where(User.phone == phone)).one()
    insert_ignoring_conflict(session, Stream, {"user_id": user.id, "last_position": 0,
                                               "acked_position": 0}, ["user_id"])
    return user


def ensure_phone_accounts(session: Session, phones: list[str], now: datetime) -> None:
    """`mobile_user_for_phone` for many numbers (E.164) in one upsert: an
    unactivated account, with its stream, for each number that has none.

    Numbers are inserted in sorted order, so two concurrent sends to the same
    new numbers wait on the unique index in the same order (no deadlock).
    """
    rows = [{"role": "mobile", "phone": phone, "created_at": now} for phone in sorted(set(phones))]
    created = insert_ignoring_conflicts_returning(session, User, rows, ["phone"], [User.id])
    # An existing account always has its stream (made in the transaction that made it).
    insert_ignoring_conflicts_returning(
        session, Stream, [{"user_id": row.id, "last_position": 0, "acked_position": 0} for row in created],
        ["user_id"], [Stream.user_id])


def activate(session: Session, user: User, now: datetime) -> None:
    """Mark the first login of an account (a no-op afterwards)."""
    if user.activated_at is None:
        user.activated_at = now
