"""Each user's delivery stream: positions, replay and the frames' content."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from db.models import Delivery, Message, Stream, User
from pipeline import status


def lock_stream(session: Session, user_id: int) -> int:
    """Take the user's stream lock for this transaction; return its last position.

    A no-op UPDATE locks the row on PostgreSQL and takes SQLite's write
    lock, so positions are handed out in commit order: a client never sees
    position N+1 committed before N.
    """
    return session.execute(
        update(Stream).where(Stream.user_id == user_id)
        .values(last_position=Stream.last_position).returning(Stream.last_position)
    ).scalar_one()


def set_last_position(session: Session, user_id: int, position: int) -> None:
    session.execute(update(Stream).where(Stream.user_id == user_id).values(last_position=position))


def last_position(session: Session, user_id: int) -> int:
    return session.scalar(select(Stream.last_position).where(Stream.user_id == user_id)) or 0


def message_payload(message: Message, sender: User) -> dict:
    """What a recipient sees of a message (the `message` of a frame)."""
    return {
        "id": message.id,
        "kind": message.kind,
        "body": message.body,
        "priority": message.priority,
        "sender": {"id": sender.id, "name": sender.name, "role": sender.role},
        "created_at": _iso(message.created_at),
        "reply_allowed": message.kind != "oneway",
    }


def replay(session: Session, user_id: int, after: int, now: datetime,
           limit: int = 500) -> list[tuple[int, dict]]:
    """Stream items after position `after`, oldest first, at most `limit`.

    Expired messages are left out: an expired message is never delivered.
    """
    rows = session.execute(
        select(Delivery.position, Message, User)
        .join(Message, Message.id == Delivery.message_id)
        .join(User, User.id == Message.sender_id)
        .where(Delivery.recipient_id == user_id, Delivery.position > after,
               Delivery.status != status.EXPIRED,
               or_(Message.expires_at.is_(None), Message.expires_at > now))
        .order_by(Delivery.position).limit(limit)
    ).all()
    return [(position, message_payload(message, sender)) for position, message, sender in rows]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
