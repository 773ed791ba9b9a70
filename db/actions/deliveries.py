"""Delivery rows: positions in the recipient's stream, and status changes
that only move forward (pipeline.status)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.actions.stream import lock_stream, message_payload, set_last_position
from db.models import Delivery, Message, Stream, User
from pipeline import status


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
    redelivered job finds nothing left to do.
    """
    last = lock_stream(session, recipient_id)
    pending = session.execute(
        select(Delivery, Message, User)
        .join(Message, Message.id == Delivery.message_id)
        .join(User, User.id == Message.sender_id)
        .where(Delivery.recipient_id == recipient_id, Delivery.position.is_(None),
               Delivery.message_id <= up_to_message_id,
               Delivery.status.in_(status.predecessors(status.SENT)))
        .order_by(Delivery.message_id)
    ).all()
    positioned = []
    for offset, (delivery, message, sender) in enumerate(pending, start=1):
        delivery.position = last + offset
        delivery.status = status.SENT
        delivery.sent_at = now
        positioned.append(Positioned(recipient_id, delivery.position, message_payload(message, sender)))
    if positioned:
        set_last_position(session, recipient_id, last + len(positioned))
    session.flush()
    return positioned


def mark_delivered(session: Session, user_id: int, up_to_position: int, now: datetime) -> int:
    """A cumulative ack: everything up to the position reached the device."""
    result = session.execute(
        update(Delivery).where(Delivery.recipient_id == user_id, Delivery.position <= up_to_position,
                               Delivery.status.in_(status.predecessors(status.DELIVERED)))
        .values(status=status.DELIVERED, delivered_at=now))
    session.execute(update(Stream).where(Stream.user_id == user_id)
                    .values(acked_position=func.max(Stream.acked_position, up_to_position)
                            if session.get_bind().dialect.name == "sqlite"
                            else func.greatest(Stream.acked_position, up_to_position)))
    return result.rowcount


def mark_read(session: Session, user_id: int, up_to_position: int, now: datetime) -> int:
    """A read marker: everything up to the position was read (and so delivered)."""
    result = session.execute(
        update(Delivery).where(Delivery.recipient_id == user_id, Delivery.position <= up_to_position,
                               Delivery.status.in_(status.predecessors(status.READ)))
        .values(status=status.READ, read_at=now,
                delivered_at=func.coalesce(Delivery.delivered_at, now)))
    return result.rowcount
