"""Idempotency-Key: the first request's answer is stored in the same
transaction as its effects; a replay gets that answer back.

The unique (caller, key) index decides between concurrent requests: on
PostgreSQL the second INSERT waits for the first transaction and then sees
its committed answer — no read-then-write race.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.actions.sql import insert_ignoring_conflict
from db.models import IdempotencyKey
from pipeline.errors import IdempotencyKeyReused


def claim(session: Session, *, caller_id: int, key: str, fingerprint: str,
          now: datetime) -> IdempotencyKey | None:
    """None when this request owns the key; the stored record for a replay.

    Raises:
        IdempotencyKeyReused: the key was used with a different request.
    """
    inserted = insert_ignoring_conflict(
        session, IdempotencyKey,
        {"caller_id": caller_id, "key": key, "fingerprint": fingerprint, "status_code": 0,
         "response": {}, "created_at": now},
        ["caller_id", "key"],
    )
    if inserted:
        return None
    existing = session.scalars(select(IdempotencyKey).where(
        IdempotencyKey.caller_id == caller_id, IdempotencyKey.key == key)).one()
    if existing.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return existing


def record_answer(session: Session, *, caller_id: int, key: str, status_code: int, response: dict) -> None:
    """Store the answer of the request that claimed `key`."""
    record = session.scalars(select(IdempotencyKey).where(
        IdempotencyKey.caller_id == caller_id, IdempotencyKey.key == key)).one()
    record.status_code = status_code
    record.response = response
