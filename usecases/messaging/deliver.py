"""Deliver a message: place it in each recipient's stream, ring the live
ones, and start a push for the others — the `deliver_message` job's work."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import Message
from pipeline.errors import MessageNotFound
from pipeline.frames import encode
from pipeline.rings import Ring, ring_all
from usecases.messaging.chat_delivery import current_members, ensure_chat_deliveries
from usecases.messaging.deliveries import Positioned, position_pending
from usecases.messaging.push_plan import push_jobs
from usecases.messaging.stream import lock_streams
from usecases.ports import Ports
from usecases.webhooks.status_events import ConversationMessage, StatusChange, status_event_jobs

log = logging.getLogger(__name__)


def deliver_message(ports: Ports, message_id: int, now: datetime) -> list[Positioned]:
    """Position the message (and any earlier one still waiting) for every
    recipient, commit, ring, then publish the pushes; a redelivered job
    finds nothing left to do.

    Raises:
        MessageNotFound: no such message (permanent: a dead letter).
    """
    with UnitOfWork(ports.sessions) as uow:
        message = uow.session.execute(
            select(Message.conversation_id, Message.seq, Message.recipient_ids).where(Message.id == message_id)
        ).first()
        if message is None:
            raise MessageNotFound(f"message {message_id} does not exist")
        # One-way messages name their recipients; chat goes to the current
        # members, their streams locked before their rows are made.
        if message.conversation_id is None:
            last = lock_streams(uow.session, message.recipient_ids)
        else:
            last = lock_streams(uow.session, current_members(message.conversation_id))
            ensure_chat_deliveries(uow.session, message.conversation_id, message.seq, sorted(last))
        changes: list[StatusChange] = []
        chat_events: list[ConversationMessage] = []
        positioned = position_pending(uow.session, last, message_id, now, changes, chat_events)
        jobs = push_jobs(uow.session, ports, positioned, now)
        jobs += status_event_jobs(uow.session, changes, now, ports.outbox, chat_events)
        uow.commit()
    ports.meter.sent([(item.payload["priority"], item.waited_seconds) for item in positioned])
    ring_positioned(ports, positioned)
    ports.publisher.submit(jobs)
    return positioned


def ring_positioned(ports: Ports, positioned: list[Positioned]) -> None:
    """Ring every recipient at once (one round trip). Best effort: a lost
    ring is recovered from the stream by position. Each message is encoded
    once for all its recipients; only the position differs per frame, and a
    large group's frame travels once, as a peal (pipeline.rings)."""
    by_message: dict[int, list[Positioned]] = {}
    for item in positioned:
        by_message.setdefault(item.payload["id"], []).append(item)
    rings: list = []
    # By message id: each recipient's frames go out in position order.
    for message_id in sorted(by_message):
        items = by_message[message_id]
        head, tail = message_frame_parts(encode(items[0].payload))
        rings += ring_all([(item.recipient_id, item.position) for item in items], head, tail,
                          items[0].payload["conversation_id"])
    try:
        ports.realtime.ring_many(rings)
    except Exception as e:
        log.warning("could not ring %d recipient(s): %r", len(positioned), e)


def message_frame_parts(encoded_message: str) -> tuple[str, str]:
    """The text of encode(message_frame(position, message)) before and after
    the position, from the message's encoding: the message is not encoded
    again for every recipient."""
    return '{"type":"message","position":', f',"message":{encoded_message}}}'


def message_frame_text(position: int, encoded_message: str) -> str:
    head, tail = message_frame_parts(encoded_message)
    return f"{head}{position}{tail}"
