"""The outbox: the one writer of jobs and the one marker of what was published.

Every job a use case starts — a delivery, an event fan-out, a push, a
requeued dead letter — is written here, in the same transaction as the
change that calls for it (`write_jobs`). After the commit a publisher sends
it and `mark_published` records that RabbitMQ took it; whatever stays
unmarked, the sweeper (`sweep_outbox`) publishes once its time has come.
Promise 1 — nothing accepted is lost — lives on this path.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from db.engine import UnitOfWork
from db.models import Message, Outbox
from db.sql import is_postgresql
from pipeline.jobs import Job, JobSpec
from telemetry.context import job_trace
from usecases.ports import OutboxPolicy, Sender, SessionFactory

# How long a sweeper holds the rows it is sending (it commits its claim first).
LEASE = timedelta(seconds=10)


def write_jobs(session: Session, specs: list[JobSpec], now: datetime, policy: OutboxPolicy) -> list[Job]:
    """Outbox rows for `specs`; the jobs to publish after commit.

    A spec with a later `available_at` (a scheduled send) is written but not
    returned: the sweeper publishes it when its time comes.

    Each row keeps the request id and traceparent bound to the log context
    (the request's at the edge, the job's in a worker), in the same INSERT,
    so they reach the worker whoever publishes the row (D51).
    """
    if not specs:
        return []
    grace = now + timedelta(seconds=policy.grace_seconds)
    request_id, traceparent = job_trace()
    rows = [{"message_id": spec.message_id, "queue_name": spec.queue_name, "actor_name": spec.actor_name,
             "args": list(spec.args), "created_at": now, "available_at": spec.available_at or grace,
             "request_id": request_id, "traceparent": traceparent}
            for spec in specs]
    # The table, not the mapped class: the ORM's bulk-insert layer costs CPU on every accept for the same SQL.
    outbox = Outbox.__table__
    ids = session.scalars(insert(outbox).returning(outbox.c.id, sort_by_parameter_order=True), rows).all()
    return [Job(outbox_id, spec.queue_name, spec.actor_name, tuple(spec.args), spec.message_id, request_id,
                traceparent)
            for outbox_id, spec in zip(ids, specs) if spec.available_at is None]


def write_job(session: Session, spec: JobSpec, now: datetime, policy: OutboxPolicy) -> list[Job]:
    """`write_jobs` for one spec."""
    return write_jobs(session, [spec], now, policy)


def mark_published(session: Session, outbox_ids: list[int], now: datetime) -> None:
    """Record that RabbitMQ took these jobs (their messages are then `queued`).

    Only outbox and message rows are touched, in id order: the delivery rows
    belong to the worker and the acks, which lock a stream before its
    deliveries — updating deliveries here deadlocked with both. A delivery
    still `accepted` in a queued message reads as `queued` (message_status).
    """
    if not outbox_ids:
        return
    ids = sorted(outbox_ids)
    if is_postgresql(session):
        # One statement: the messages of the rows this call marked.
        # (Core tables: the ORM's bulk UPDATE does not take a CTE.)
        outbox, messages = Outbox.__table__, Message.__table__
        marked = (update(outbox).where(outbox.c.id.in_(ids), outbox.c.published_at.is_(None))
                  .values(published_at=now).returning(outbox.c.message_id).cte("marked"))
        session.execute(update(messages).where(messages.c.id.in_(select(marked.c.message_id)),
                                               messages.c.queued_at.is_(None))
                        .values(queued_at=now).add_cte(marked))
        return
    session.execute(update(Outbox).where(Outbox.id.in_(ids), Outbox.published_at.is_(None))
                    .values(published_at=now))
    session.execute(update(Message).where(Message.id.in_(select(Outbox.message_id).where(Outbox.id.in_(ids))),
                                          Message.queued_at.is_(None))
                    .values(queued_at=now))


def make_marker(sessions: SessionFactory, clock: Callable[[], datetime]) -> Callable[[list[int]], None]:
    """What a publisher calls with the outbox ids RabbitMQ took: one
    transaction per call (the edge's publisher calls it once for every batch
    confirmed since its previous call)."""
    def on_published(outbox_ids: list[int]) -> None:
        if not outbox_ids:
            return
        with UnitOfWork(sessions) as uow:
            mark_published(uow.session, outbox_ids, clock())
            uow.commit()
    return on_published


def claim_unpublished(session: Session, *, now: datetime, limit: int = 500) -> list[Job]:
    """Unpublished jobs whose `available_at` has come, oldest first.

    On PostgreSQL the rows stay locked (SKIP LOCKED) until the caller's
    transaction ends, so concurrent sweepers do not republish the same rows.
    """
    query = (select(Outbox.id, Outbox.queue_name, Outbox.actor_name, Outbox.args, Outbox.message_id,
                    Outbox.request_id, Outbox.traceparent)
             .where(Outbox.published_at.is_(None), Outbox.available_at <= now)
             .order_by(Outbox.id).limit(limit))
    if is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    return [Job(row.id, row.queue_name, row.actor_name, tuple(row.args), row.message_id, row.request_id,
                row.traceparent) for row in session.execute(query)]


def sweep_outbox(sessions: SessionFactory, sender: Sender, now: datetime) -> int:
    """Publish every unpublished job whose time has come; return how many.

    No transaction stays open while RabbitMQ is sent to: the rows are
    claimed by leasing them (`available_at` moved LEASE on) and committed,
    then sent, then marked. Another sweeper skips leased rows; a sweeper that
    dies mid-send leaves them to be swept again when the lease ends; a send
    that fails hands them back at once.
    """
    with UnitOfWork(sessions) as uow:
        jobs = claim_unpublished(uow.session, now=now)
        ids = [job.outbox_id for job in jobs]
        if ids:
            uow.session.execute(update(Outbox).where(Outbox.id.in_(ids)).values(available_at=now + LEASE))
        uow.commit()
    if not jobs:
        return 0
    try:
        sender.send(jobs)
    except Exception:
        with UnitOfWork(sessions) as uow:
            uow.session.execute(update(Outbox).where(Outbox.id.in_(ids), Outbox.published_at.is_(None))
                                .values(available_at=now))
            uow.commit()
        raise
    with UnitOfWork(sessions) as uow:
        mark_published(uow.session, ids, now)
        uow.commit()
    return len(jobs)
