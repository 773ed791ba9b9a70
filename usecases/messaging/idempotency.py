"""Idempotency-Key: the first request's answer is stored in the same
transaction as its effects; a replay gets that answer back.

The unique (caller, key) index decides between concurrent requests: on
PostgreSQL the second INSERT waits for the first transaction and then sees
its committed answer — no read-then-write race.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from db.sql import is_postgresql
from db.models import IdempotencyKey
from pipeline.errors import IdempotencyKeyInFlight, IdempotencyKeyReused

LIFETIME = timedelta(hours=24)
# How long a request waits for a concurrent one holding the same key
# before it is told to come back (409): the first normally commits in ms.
IN_FLIGHT_WAIT = "250ms"


@dataclass(frozen=True)
class RequestKey:
    """A creating request's Idempotency-Key, for one caller, and what the request said."""

    caller_id: int
    key: str
    fingerprint: str  # pipeline.fingerprint.request_fingerprint of method, path and body


@dataclass(frozen=True)
class Replay:
    """The answer stored for an earlier request with the same key."""

    status_code: int
    response: dict


def replay_of(session: Session, request: RequestKey | None, now: datetime) -> Replay | None:
    """The stored answer to give back, or None: this request goes ahead (and owns the key).

    Raises:
        IdempotencyKeyReused, IdempotencyKeyInFlight.
    """
    if request is None:
        return None
    record = claim(session, caller_id=request.caller_id, key=request.key, fingerprint=request.fingerprint, now=now)
    return None if record is None else Replay(record.status_code, dict(record.response))


def remember(session: Session, request: RequestKey | None, status_code: int, response: dict) -> None:
    """Store the answer in the transaction of its effects (nothing without a key)."""
    if request is not None:
        record_answer(session, caller_id=request.caller_id, key=request.key, status_code=status_code,
                      response=response)


def claim(session: Session, *, caller_id: int, key: str, fingerprint: str,
          now: datetime) -> IdempotencyKey | None:
    """None when this request owns the key; the stored record for a replay.

    Raises:
        IdempotencyKeyReused: the key was used with a different request.
        IdempotencyKeyInFlight: a request with this key is still running.
    """
    inserted = _insert_waiting_briefly(session, {
        "caller_id": caller_id, "key": key, "fingerprint": fingerprint, "status_code": 0,
        "response": {}, "created_at": now}, expired_before=now - LIFETIME)
    if inserted:
        return None
    existing = session.scalars(select(IdempotencyKey).where(
        IdempotencyKey.caller_id == caller_id, IdempotencyKey.key == key)).one()
    if existing.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return existing


def record_answer(session: Session, *, caller_id: int, key: str, status_code: int, response: dict) -> None:
    """Store the answer of the request that claimed `key`."""
    session.execute(update(IdempotencyKey).where(IdempotencyKey.caller_id == caller_id, IdempotencyKey.key == key)
                    .values(status_code=status_code, response=response))


def _insert_waiting_briefly(session: Session, values: dict, expired_before: datetime) -> bool:
    """Insert the key, or take over a record of it past its lifetime (one
    statement); a concurrent holder makes PostgreSQL wait on the unique
    index, bounded by a lock timeout (SQLite serializes writers anyway)."""
    if not is_postgresql(session):
        return _claim_statement(session, values, expired_before)
    session.execute(text(f"SET LOCAL lock_timeout = '{IN_FLIGHT_WAIT}'"))
    try:
        inserted = _claim_statement(session, values, expired_before)
    except OperationalError as e:
        if getattr(e.orig, "sqlstate", None) == "55P03":  # lock_not_available
            raise IdempotencyKeyInFlight(retry_after=1) from None
        raise
    session.execute(text("SET LOCAL lock_timeout = 0"))
    return inserted


def _claim_statement(session: Session, values: dict, expired_before: datetime) -> bool:
    """INSERT … ON CONFLICT DO UPDATE … WHERE the stored record expired: a row
    comes back when this request owns the key."""
    insert = postgresql.insert if is_postgresql(session) else sqlite.insert
    statement = insert(IdempotencyKey).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=["caller_id", "key"],
        set_={name: statement.excluded[name] for name in ("fingerprint", "status_code", "response", "created_at")},
        where=IdempotencyKey.created_at < expired_before)
    return session.execute(statement.returning(IdempotencyKey.id)).first() is not None


def forget_older_than(session: Session, cutoff: datetime) -> int:
    """Drop keys past their lifetime (the maintenance tick calls this)."""
    return session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)).rowcount
