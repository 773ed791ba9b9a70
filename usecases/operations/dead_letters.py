"""Dead letters: a job that failed for good, recorded once per job by the
worker that gives it up, with its message's unplaced deliveries failed.

The record is the source of truth; RabbitMQ's dead-letter queue is not
confirmed and expires its messages (DESIGN.md, known traps). Requeue and
discard are in usecases.operations.dead_letter_admin.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.sql import insert_ignoring_conflict
from db.models import DeadLetter, Delivery, Message, Outbox
from pipeline import status
from pipeline.contract import DELIVERY_ACTORS, NORMAL, SEND_PUSH, delivery_queue
from pipeline.failures import error_text
from telemetry.context import trace_id_of
from usecases.webhooks.status_events import StatusChange, report_changes, returning_flagged

DEAD, REQUEUED, DISCARDED = "dead", "requeued", "discarded"
# Deliveries a dead letter failed carry this prefix in last_error, so a
# requeue resets those and no delivery that failed for another reason.
FAILED_BY_DEAD_LETTER = "dead letter "
# The job id of a letter for a message that could not be placed (no Dramatiq job failed).
UNPLACEABLE = "unplaceable-"


@dataclass(frozen=True)
class FailedJob:
    """What the worker knows of a job it gives up on."""

    job_id: str
    queue_name: str
    actor_name: str
    args: list
    reason: str
    attempts: int
    first_error: str | None
    last_error: str | None
    first_failed_at: datetime | None
    request_id: str | None = None  # of the request that started the job (D51)
    trace_id: str | None = None


def record_dead_letter(session: Session, job: FailedJob, now: datetime) -> bool:
    """Record the job once (by Dramatiq message id) and fail its message's
    unplaced deliveries; True when this call recorded it."""
    message = message_of(session, job.actor_name, job.args)
    # A dead push job names its message too, so the message's page shows it
    # (its deliveries are placed already: nothing to fail).
    about = message or pushed_message_of(session, job.actor_name, job.args)
    inserted = insert_ignoring_conflict(session, DeadLetter, {
        "job_id": job.job_id, "queue_name": job.queue_name, "actor_name": job.actor_name,
        "job_args": list(job.args), "reason": job.reason[:100], "attempts": job.attempts,
        "first_error": job.first_error, "last_error": job.last_error,
        "first_failed_at": job.first_failed_at, "created_at": now, "state": DEAD,
        "request_id": job.request_id[:128] if job.request_id else None, "trace_id": job.trace_id,
        "message_id": about.id if about else None,
        "recipient_id": about.recipient_ids[0] if about and about.recipient_ids else None,
        "sender_id": about.sender_id if about else None}, ["job_id"])
    if inserted and message is not None:
        _fail_unplaced(session, message.id, _failed_by(job), now)
    return inserted


def record_unplaceable(session: Session, message: Message, error: Exception, now: datetime) -> None:
    """A message the delivery job could not place (evaluating it raised): a
    dead letter for its delivery job, its unplaced deliveries failed, so the
    job goes on with the recipients' other messages.

    The letter's job id counts the message's earlier such letters: jobs that
    fail the same message at once record one letter, and a requeued letter
    that fails again records a new one.
    """
    earlier = session.scalar(select(func.count()).select_from(DeadLetter).where(
        DeadLetter.message_id == message.id, DeadLetter.job_id.startswith(UNPLACEABLE, autoescape=True)))
    queue_name, actor_name, args, request_id, traceparent = _delivery_job(session, message)
    job = FailedJob(job_id=f"{UNPLACEABLE}{message.id}-{earlier}", queue_name=queue_name, actor_name=actor_name,
                    args=args, reason=type(error).__name__, attempts=1, first_error=None,
                    last_error=error_text(repr(error), "".join(traceback.format_exception(error))),
                    first_failed_at=now, request_id=request_id,
                    trace_id=trace_id_of(traceparent) if traceparent else None)
    if not record_dead_letter(session, job, now):
        # Another job recorded this letter first; its deliveries fail all the same.
        _fail_unplaced(session, message.id, _failed_by(job), now)


def _delivery_job(session: Session, message: Message) -> tuple[str, str, list, str | None, str | None]:
    """The queue, actor and args of the job that delivers `message` (its first
    delivery outbox row), so a requeue routes as the original send did; and
    the request id and traceparent of the send."""
    row = session.execute(select(Outbox.queue_name, Outbox.actor_name, Outbox.args, Outbox.request_id,
                                 Outbox.traceparent).where(
        Outbox.message_id == message.id, Outbox.actor_name.in_(DELIVERY_ACTORS.values()))
        .order_by(Outbox.id).limit(1)).first()
    if row is not None:
        return row.queue_name, row.actor_name, list(row.args), row.request_id, row.traceparent
    # Never raise here: the message's priority may be what was wrong with it.
    priority = message.priority if message.priority in DELIVERY_ACTORS else NORMAL
    return delivery_queue(priority, 0), DELIVERY_ACTORS[priority], [message.id], None, None


def _failed_by(job: FailedJob) -> str:
    return f"{FAILED_BY_DEAD_LETTER}{job.job_id}: {job.reason}"


def message_of(session: Session, actor_name: str, args: list) -> Message | None:
    """The Herald message a deliver_message job is about, if it exists."""
    if actor_name not in DELIVERY_ACTORS.values() or not args or type(args[0]) is not int:
        return None
    return session.get(Message, args[0])


def pushed_message_of(session: Session, actor_name: str, args: list) -> Message | None:
    """The Herald message a send_push job is about, if it exists."""
    if actor_name != SEND_PUSH or not args or type(args[0]) is not int:
        return None
    return session.get(Message, args[0])


def _fail_unplaced(session: Session, message_id: int, reason: str, now: datetime) -> None:
    # Only deliveries without a stream position: a placed one is in the
    # recipient's stream already (another job's catch-up, D2) and arrives.
    deliveries = Delivery.__table__
    rows = returning_flagged(session, update(deliveries).where(
        deliveries.c.message_id == message_id, deliveries.c.position.is_(None),
        deliveries.c.status.in_(status.predecessors(status.FAILED)))
        .values(status=status.FAILED, failed_at=now, last_error=reason),
        deliveries.c.message_id, deliveries.c.recipient_id, deliveries.c.requeues)
    report_changes(session, [StatusChange(message_id, row.recipient_id, status.FAILED, now, row.requeues)
                             for row in rows if row.webhooked], now)
