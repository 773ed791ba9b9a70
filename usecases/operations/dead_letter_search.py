"""Finding dead letters: filters, newest-first pages with opaque cursors,
and what the admin API and pages show of each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from usecases.operations.audit import entries_for, entry_view
from db.models import DeadLetter
from pipeline.cursors import decode_cursor, encode_cursor
from pipeline.timestamps import iso
from pipeline.errors import NotFound

STATES = ("dead", "requeued", "discarded")


@dataclass(frozen=True)
class LetterFilter:
    """Which dead letters; None means any. Ages are counted back from `now`."""

    queue: str | None = None
    reason: str | None = None
    sender_id: int | None = None
    older_than_seconds: int | None = None
    newer_than_seconds: int | None = None
    state: str | None = "dead"


@dataclass(frozen=True)
class Page:
    letters: list[DeadLetter]
    next_cursor: str | None


def conditions(letter_filter: LetterFilter, now: datetime) -> list:
    """The filter as SQL conditions on dead_letters."""
    f, where = letter_filter, []
    if f.queue:
        where.append(DeadLetter.queue_name == f.queue)
    if f.reason:
        where.append(DeadLetter.reason == f.reason)
    if f.sender_id is not None:
        where.append(DeadLetter.sender_id == f.sender_id)
    if f.older_than_seconds is not None:
        where.append(DeadLetter.created_at < now - timedelta(seconds=f.older_than_seconds))
    if f.newer_than_seconds is not None:
        where.append(DeadLetter.created_at >= now - timedelta(seconds=f.newer_than_seconds))
    if f.state:
        where.append(DeadLetter.state == f.state)
    return where


def list_page(session: Session, letter_filter: LetterFilter, *, now: datetime, limit: int,
              cursor: str | None = None) -> Page:
    """One page, newest first, and the cursor of the next page (None at the end).

    Raises:
        BadRequest: a cursor that is not one of ours.
    """
    where = conditions(letter_filter, now)
    if cursor:
        created_at, letter_id = decode_cursor(cursor)
        where.append(or_(DeadLetter.created_at < created_at,
                         and_(DeadLetter.created_at == created_at, DeadLetter.id < letter_id)))
    rows = list(session.scalars(select(DeadLetter).where(*where)
                                .order_by(DeadLetter.created_at.desc(), DeadLetter.id.desc()).limit(limit + 1)))
    letters = rows[:limit]
    more = len(rows) > limit
    return Page(letters, encode_cursor(letters[-1].created_at, letters[-1].id) if more else None)


def get_letter(session: Session, letter_id: int) -> DeadLetter:
    """Raises: NotFound: no such dead letter."""
    letter = session.get(DeadLetter, letter_id)
    if letter is None:
        raise NotFound(f"no dead letter {letter_id}")
    return letter


def count_matching(session: Session, letter_filter: LetterFilter, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(DeadLetter).where(*conditions(letter_filter, now)))


def summaries_of(session: Session, ids: list[int]) -> list[dict]:
    """The summaries of those of `ids` that exist, newest first."""
    letters = session.scalars(select(DeadLetter).where(DeadLetter.id.in_(ids))
                              .order_by(DeadLetter.created_at.desc(), DeadLetter.id.desc()))
    return [letter_summary(letter) for letter in letters]


def distinct_values(session: Session, column, limit: int = 100) -> list[str]:
    """Values seen in a column (queues, reasons), for filter suggestions."""
    return list(session.scalars(select(column).distinct().order_by(column).limit(limit)))


def letter_summary(letter: DeadLetter) -> dict:
    """What a list shows of a dead letter."""
    return {"id": letter.id, "job_id": letter.job_id, "queue": letter.queue_name, "actor": letter.actor_name,
            "args": letter.job_args, "message_id": letter.message_id, "recipient_id": letter.recipient_id, "sender_id": letter.sender_id,
            "reason": letter.reason, "attempts": letter.attempts, "state": letter.state,
            "created_at": iso(letter.created_at), "last_error_line": _first_line(letter.last_error)}


def letter_detail(session: Session, letter: DeadLetter) -> dict:
    """Everything recorded of a dead letter, its audit history included."""
    return {**letter_summary(letter), "first_error": letter.first_error,
            "last_error": letter.last_error, "first_failed_at": iso(letter.first_failed_at),
            "resolved_at": iso(letter.resolved_at), "resolved_by": letter.resolved_by,
            "request_id": letter.request_id, "trace_id": letter.trace_id,
            "history": [entry_view(e) for e in entries_for(session, "dead_letter", letter.id)]}


def _first_line(text: str | None) -> str | None:
    return text.splitlines()[0][:300] if text else None
