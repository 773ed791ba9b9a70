"""Delivery: place a message in each recipient's stream and ring them."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import dramatiq

from db.actions.chat_delivery import ensure_chat_deliveries, mark_own_copies_read
from db.actions.deliveries import Positioned, position_pending
from db.actions.outbox import mark_published
from db.engine import UnitOfWork
from db.models import Message
from pipeline.errors import MessageNotFound
from pipeline.frames import encode, message_frame
from pipeline.jobs import Job
from pipeline.routing import NORMAL, delivery_queue
from pipeline.jobs import DELIVER_MESSAGE, DELIVERY_ACTOR_PRIORITY
from rabbitmq.jobs import to_message
from workers.broker import runtime
from workers.push import plan_push

log = logging.getLogger(__name__)


def _deliver(message_id: int) -> None:
    """Position the message for every recipient, then ring live sessions.

    The edge publishes this job to any lane/partition queue; the queue a
    message arrives on does not change what the actor does.
    """
    rt = runtime()
    now = datetime.now(timezone.utc)
    with UnitOfWork(rt.sessions) as uow:
        message = uow.session.get(Message, message_id)
        if message is None:
            raise MessageNotFound(f"message {message_id} does not exist")  # permanent: a dead letter
        recipients = _recipients(uow.session, message)
        positioned: list[Positioned] = []
        # Sorted, so two jobs lock overlapping streams in the same order.
        for recipient_id in sorted(recipients):
            positioned += position_pending(uow.session, recipient_id, message_id, now)
        if message.conversation_id is not None:
            mark_own_copies_read(uow.session, message.sender_id, message.conversation_id, now)
        pushes = [job for item in positioned if item.payload["sender"]["id"] != item.recipient_id
                  and (job := plan_push(uow.session, rt, item.recipient_id, item.payload["id"], now))]
        uow.commit()
    for item in positioned:
        ring(rt, item)
    publish(rt, pushes)


def _lane_actor(actor_name: str) -> dramatiq.Actor:
    """The same work under each lane's actor name and priority."""
    return dramatiq.actor(_deliver, actor_name=actor_name, queue_name=delivery_queue(NORMAL, 0),
                          priority=DELIVERY_ACTOR_PRIORITY[actor_name])


LANE_ACTORS = {name: _lane_actor(name) for name in DELIVERY_ACTOR_PRIORITY}
deliver_message = LANE_ACTORS[DELIVER_MESSAGE]


def _recipients(session, message: Message) -> list[int]:
    """One-way messages name their recipients; chat goes to the current members."""
    if message.conversation_id is None:
        return list(message.recipient_ids)
    return ensure_chat_deliveries(session, message)


def ring(rt, item: Positioned) -> None:
    """Best effort: a lost ring is recovered from the stream by position."""
    try:
        rt.realtime.ring(item.recipient_id, encode(message_frame(item.position, item.payload)))
    except Exception as e:
        log.warning("could not ring user %s: %r", item.recipient_id, e)


def publish(rt, jobs: list[Job]) -> None:
    """Publish committed jobs now; whatever fails here the sweeper publishes."""
    try:
        for job in jobs:
            dramatiq.get_broker().enqueue(to_message(job))
        with UnitOfWork(rt.sessions) as uow:
            mark_published(uow.session, [job.outbox_id for job in jobs], datetime.now(timezone.utc))
            uow.commit()
    except Exception as e:
        log.warning("left %d jobs to the outbox sweeper: %r", len(jobs), e)
