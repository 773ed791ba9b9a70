"""The outbox: jobs committed with their message, marked once RabbitMQ has
them; the sweeper republishes what stayed unmarked."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.actions.sql import is_postgresql
from db.models import Message, Outbox
from pipeline.jobs import Job


def mark_published(session: Session, outbox_ids: list[int], now: datetime) -> None:
    """Record that RabbitMQ took these jobs (the messages are then `queued`).

    Only outbox and message rows are touched, in id order: the delivery rows
    belong to the worker and the acks, which lock a stream before its
    deliveries — updating deliveries here deadlocked with both. A delivery
    still `accepted` in a queued message reads as `queued` (message_status).
    """
    if not outbox_ids:
        return
    ids = sorted(outbox_ids)
    message_ids = select(Outbox.message_id).where(Outbox.id.in_(ids))
    session.execute(update(Outbox).where(Outbox.id.in_(ids), Outbox.published_at.is_(None))
                    .values(published_at=now))
    session.execute(update(Message).where(Message.id.in_(message_ids), Message.queued_at.is_(None))
                    .values(queued_at=now))


def claim_unpublished(session: Session, *, now: datetime, limit: int = 500) -> list[Job]:
    """Unpublished jobs whose `available_at` has come, oldest first.

    On PostgreSQL the rows stay locked (SKIP LOCKED) until the caller's
    transaction ends, so concurrent sweepers do not republish the same rows.
    """
    query = (select(Outbox).where(Outbox.published_at.is_(None), Outbox.available_at <= now)
             .order_by(Outbox.id).limit(limit))
    if is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    return [Job(row.id, row.queue_name, row.actor_name, tuple(row.args)) for row in session.scalars(query)]



def queue_job(session: Session, *, queue_name: str, actor_name: str, args: list, now: datetime,
              grace_seconds: int, message_id: int | None = None) -> Job:
    """An outbox row for a job a worker starts: committed with the work that
    calls for it, published after commit, swept if that publish is lost."""
    outbox = Outbox(message_id=message_id, queue_name=queue_name, actor_name=actor_name, args=args,
                    created_at=now, available_at=now + timedelta(seconds=grace_seconds))
    session.add(outbox)
    session.flush()
    return Job(outbox.id, queue_name, actor_name, tuple(args))
