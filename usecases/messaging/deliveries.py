"""Delivery rows: positions in the recipient's stream, and status changes
that only move forward (pipeline.status)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from usecases.messaging.stream import lock_stream, message_payload, set_last_position
from usecases.operations.dead_letters import record_unplaceable
from db.models import Delivery, Message, Stream, User
from pipeline import status
from pipeline.schedule import is_expired

log = logging.getLogger(__name__)

# Worker and edge clocks may differ a little; a message due within this
# margin is treated as due.
CLOCK_SKEW = timedelta(seconds=5)


@dataclass(frozen=True)
class Positioned:
    recipient_id: int
    position: int
    payload: dict


def position_pending(session: Session, recipient_id: int, up_to_message_id: int,
                     now: datetime) -> list[Positioned]:
    """Give every unpositioned delivery of the recipient up to this message a
    stream position, in acceptance (message id) order, and mark it sent.

    Whichever job runs first positions the earlier messages too, so the
    stream keeps acceptance order whatever the worker concurrency; a
    redelivered job finds nothing left to do. Scheduled messages not yet
    due are left for their own job; expired ones become `expired` instead.
    A message that cannot be evaluated becomes a dead letter of its own
    (record_unplaceable) rather than failing the job, which would hold back
    every other message of the recipient until they all were dead letters.
    """
    last = lock_stream(session, recipient_id)
    positioned = []
    for delivery, message, sender in _pending(session, recipient_id, up_to_message_id, now):
        try:
            payload = _payload_unless_expired(message, sender, now)
        except Exception as error:
            log.exception("message %s cannot be placed; recorded as a dead letter", message.id)
            record_unplaceable(session, message, error, now)
            continue
        if payload is None:
            delivery.status, delivery.expired_at = status.EXPIRED, now
            continue
        last += 1
        delivery.position, delivery.status, delivery.sent_at = last, status.SENT, now
        positioned.append(Positioned(recipient_id, last, payload))
    if positioned:
        set_last_position(session, recipient_id, last)
    session.flush()
    return positioned


def _payload_unless_expired(message: Message, sender: User, now: datetime) -> dict | None:
    """The frame's message, or None when the message has expired."""
    if is_expired(message.expires_at, now):
        return None
    return message_payload(message, sender)


def _pending(session: Session, recipient_id: int, up_to_message_id: int, now: datetime):
    return session.execute(
        select(Delivery, Message, User)
        .join(Message, Message.id == Delivery.message_id)
        .join(User, User.id == Message.sender_id)
        .where(Delivery.recipient_id == recipient_id, Delivery.position.is_(None),
               Delivery.message_id <= up_to_message_id,
               Delivery.status.in_(status.predecessors(status.SENT)),
               or_(Message.send_at.is_(None), Message.send_at <= now + CLOCK_SKEW))
        .order_by(Delivery.message_id)
    ).all()


def expire_overdue(session: Session, now: datetime) -> int:
    """Undelivered deliveries of expired messages become `expired` (never delivered after)."""
    expired = select(Message.id).where(Message.expires_at <= now)
    return session.execute(
        update(Delivery).where(Delivery.message_id.in_(expired),
                               Delivery.status.in_(status.predecessors(status.EXPIRED)))
        .values(status=status.EXPIRED, expired_at=now)).rowcount


def mark_delivered(session: Session, user_id: int, up_to_position: int, now: datetime,
                   conversation_id: int | None = None) -> list[int]:
    """A cumulative ack: everything up to the position reached the device.

    The stream row is locked first, as the delivery actor does, so the two
    never wait on each other in opposite orders (deadlock).
    """
    greatest = func.max if session.get_bind().dialect.name == "sqlite" else func.greatest
    session.execute(update(Stream).where(Stream.user_id == user_id)
                    .values(acked_position=greatest(Stream.acked_position, up_to_position)))
    result = session.execute(
        update(Delivery).where(Delivery.recipient_id == user_id, Delivery.position <= up_to_position,
                               Delivery.status.in_(status.predecessors(status.DELIVERED)),
                               *_in_conversation(conversation_id))
        .values(status=status.DELIVERED, delivered_at=now).returning(Delivery.message_id))
    return list(result.scalars())


def mark_read(session: Session, user_id: int, up_to_position: int, now: datetime,
              conversation_id: int | None = None) -> int:
    """A read marker: everything up to the position was read (and so delivered)."""
    result = session.execute(
        update(Delivery).where(Delivery.recipient_id == user_id, Delivery.position <= up_to_position,
                               Delivery.status.in_(status.predecessors(status.READ)),
                               *_in_conversation(conversation_id))
        .values(status=status.READ, read_at=now,
                delivered_at=func.coalesce(Delivery.delivered_at, now)))
    return result.rowcount


def _in_conversation(conversation_id: int | None) -> list:
    """A scoped token's acks cover only its conversation's messages."""
    if conversation_id is None:
        return []
    return [Delivery.message_id.in_(select(Message.id).where(Message.conversation_id == conversation_id))]
