"""What an admin or operator does with a dead letter: requeue it (a fresh
outbox row, its failed deliveries reset) or discard it; every action is
audited in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from usecases.operations.audit import audit
from usecases.operations.dead_letter_search import LetterFilter, conditions
from usecases.operations.dead_letters import DEAD, DISCARDED, FAILED_BY_DEAD_LETTER, REQUEUED, message_of
from db.models import DeadLetter, Delivery
from pipeline import status
from pipeline.errors import DeadLetterResolved, NotFound
from pipeline.jobs import Job, JobSpec
from telemetry import context
from usecases.outbox import write_job
from usecases.ports import OutboxPolicy


@dataclass(frozen=True)
class AdminAction:
    """Who acts (None: an operator at the herald command), through which
    door, when; and the outbox policy of requeued jobs (a grace of 0: the
    sweeper publishes them)."""

    actor_id: int | None
    via: str
    now: datetime
    outbox: OutboxPolicy = OutboxPolicy(grace_seconds=0)


@dataclass(frozen=True)
class Bulk:
    """The outcome of a requeue of many: jobs to publish after commit."""

    jobs: list[Job]
    requeued_ids: list[int]
    skipped: int
    truncated: bool


def requeue_letter(session: Session, letter_id: int, act: AdminAction) -> Job:
    """Requeue one dead letter.

    Raises:
        NotFound: no such dead letter.
        DeadLetterResolved: it was already requeued or discarded.
    """
    return _requeue(session, _lock_dead(session, letter_id), act)


def requeue_ids(session: Session, ids: list[int], act: AdminAction) -> Bulk:
    """Requeue those of `ids` that are dead; the others are counted as skipped."""
    letters = _lock(session, [DeadLetter.id.in_(ids), DeadLetter.state == DEAD], len(ids))
    jobs = [_requeue(session, letter, act) for letter in letters]
    return Bulk(jobs, [letter.id for letter in letters], len(set(ids)) - len(letters), False)


def requeue_matching(session: Session, letter_filter: LetterFilter, act: AdminAction, *, limit: int) -> Bulk:
    """Requeue the newest `limit` dead letters matching the filter."""
    letters = _lock(session, conditions(replace(letter_filter, state=DEAD), act.now), limit + 1)
    jobs = [_requeue(session, letter, act) for letter in letters[:limit]]
    return Bulk(jobs, [letter.id for letter in letters[:limit]], 0, len(letters) > limit)


def discard_letter(session: Session, letter_id: int, act: AdminAction) -> None:
    """Give up on a dead letter for good; its failed deliveries stay failed.

    Raises:
        NotFound: no such dead letter.
        DeadLetterResolved: it was already requeued or discarded.
    """
    _discard(session, _lock_dead(session, letter_id), act)


def discard_ids(session: Session, ids: list[int], act: AdminAction) -> list[int]:
    """Discard those of `ids` that are dead; return theirs."""
    letters = _lock(session, [DeadLetter.id.in_(ids), DeadLetter.state == DEAD], len(ids))
    for letter in letters:
        _discard(session, letter, act)
    return [letter.id for letter in letters]


def _discard(session: Session, letter: DeadLetter, act: AdminAction) -> None:
    letter.state, letter.resolved_at, letter.resolved_by = DISCARDED, act.now, act.actor_id
    _audit(session, act, "dead_letter.discard", "dead_letter", letter.id, job_id=letter.job_id)


def _lock(session: Session, where: list, limit: int) -> list[DeadLetter]:
    # Newest first, as listed; one order for every locker avoids deadlocks.
    return list(session.scalars(select(DeadLetter).where(*where).with_for_update()
                                .order_by(DeadLetter.created_at.desc(), DeadLetter.id.desc()).limit(limit)))


def _lock_dead(session: Session, letter_id: int) -> DeadLetter:
    letter = session.get(DeadLetter, letter_id, with_for_update=True)
    if letter is None:
        raise NotFound(f"no dead letter {letter_id}")
    if letter.state != DEAD:
        raise DeadLetterResolved(f"dead letter {letter_id} is already {letter.state}")
    return letter


def _requeue(session: Session, letter: DeadLetter, act: AdminAction) -> Job:
    """A fresh outbox row for the same job, the letter resolved, both audited."""
    message = message_of(session, letter.actor_name, letter.job_args)
    spec = JobSpec(letter.queue_name, letter.actor_name, tuple(letter.job_args),
                   message_id=message.id if message else None)
    # The job goes on under its send's request id (the admin's request logs under its own).
    with context.bound(request_id=letter.request_id):
        job = write_job(session, spec, act.now, act.outbox)[0]
    letter.state, letter.resolved_at, letter.resolved_by = REQUEUED, act.now, act.actor_id
    _audit(session, act, "dead_letter.requeue", "dead_letter", letter.id, job_id=letter.job_id, outbox_id=job.outbox_id)
    if message is not None:
        _reset_failed(session, message.id, letter.id, act)
    return job


def _reset_failed(session: Session, message_id: int, letter_id: int, act: AdminAction) -> None:
    """The one backward status move (docs/decisions.md): deliveries a dead
    letter failed go back to `accepted` so the requeued job places them."""
    reset = list(session.scalars(update(Delivery).where(
        Delivery.message_id == message_id, Delivery.status == status.FAILED, Delivery.position.is_(None),
        Delivery.last_error.startswith(FAILED_BY_DEAD_LETTER, autoescape=True))
        .values(status=status.ACCEPTED, failed_at=None, requeues=Delivery.requeues + 1).returning(Delivery.id)))
    if reset:
        _audit(session, act, "deliveries.reset_failed", "message", message_id, dead_letter_id=letter_id,
               delivery_ids=sorted(reset), **{"from": status.FAILED, "to": status.ACCEPTED})


def _audit(session: Session, act: AdminAction, action: str, target_type: str, target_id: int, **details) -> None:
    audit(session, actor_id=act.actor_id, action=action, target_type=target_type, target_id=target_id,
          details={"via": act.via, **details}, now=act.now)
