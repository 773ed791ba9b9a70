"""A socket's acknowledgements: delivered up to a stream position
(cumulative) and read up to one, written in one unit of work; chat senders
learn "delivered" through receipt events."""

from __future__ import annotations

from datetime import datetime

from db.engine import UnitOfWork
from usecases.chat.send import receipt_job
from usecases.messaging.deliveries import mark_delivered_with_receipts, mark_read_copies
from usecases.ports import Ports
from usecases.webhooks.status_events import StatusChange, status_event_jobs


def record_acks(ports: Ports, user_id: int, acked: int, read: int, now: datetime,
                conversation_id: int | None = None) -> None:
    """Mark the user's deliveries delivered up to `acked` and read up to
    `read` (0: nothing to mark), then publish the receipts. A socket scoped
    to one conversation marks only that conversation's deliveries."""
    jobs, delivered, read_copies = [], [], []
    changes: list[StatusChange] = []  # one-way deliveries whose sender has a webhook endpoint
    with UnitOfWork(ports.sessions) as uow:
        if acked:
            # Chat senders learn "delivered" per conversation, up to a seq.
            _, delivered_upto, delivered = mark_delivered_with_receipts(uow.session, user_id, acked, now,
                                                                        conversation_id, changes)
            for chat_id, seq in delivered_upto.items():
                jobs.append(receipt_job(uow.session, ports.outbox, chat_id, user_id, "delivered", seq, now))
        if read:
            read_copies = mark_read_copies(uow.session, user_id, read, now, conversation_id, changes)
        jobs += status_event_jobs(uow.session, changes, now, ports.outbox)
        uow.commit()
    ports.meter.delivered([(kind, priority, (now - sent_at).total_seconds() if sent_at else None)
                           for kind, priority, sent_at in delivered])
    ports.meter.read(read_copies)
    ports.publisher.submit(jobs)
