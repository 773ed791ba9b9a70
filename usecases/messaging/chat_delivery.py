"""Fan-out of chat messages to the members' streams (worker side)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from usecases.chat.conversations import active_member_ids
from db.sql import insert_ignoring_conflict
from db.models import Delivery, Message
from pipeline import status

# How far back a job creates rows for earlier messages of its conversation
# whose own jobs have not run yet (so members see them in seq order).
CATCH_UP_MESSAGES = 100


def ensure_chat_deliveries(session: Session, message: Message) -> list[int]:
    """Delivery rows for every current member, for this message and any earlier
    one of the conversation still without rows; returns the member ids."""
    members = active_member_ids(session, message.conversation_id)
    earlier = session.scalars(select(Message).where(
        Message.conversation_id == message.conversation_id, Message.seq <= message.seq,
        Message.seq > message.seq - CATCH_UP_MESSAGES,
        ~select(Delivery.id).where(Delivery.message_id == Message.id).exists())).all()
    rows = [{"message_id": m.id, "recipient_id": uid, "status": status.ACCEPTED, "accepted_at": m.created_at}
            for m in sorted(earlier, key=lambda m: m.seq) for uid in members]
    if rows:
        insert_ignoring_conflict(session, Delivery, rows, ["message_id", "recipient_id"])
    return members


def mark_own_copies_read(session: Session, sender_id: int, conversation_id: int, now: datetime) -> None:
    """The sender's own copy (for their other devices) needs no receipt."""
    own = select(Message.id).where(Message.conversation_id == conversation_id, Message.sender_id == sender_id)
    session.execute(update(Delivery).where(
        Delivery.recipient_id == sender_id, Delivery.message_id.in_(own),
        Delivery.status.in_(status.predecessors(status.READ)), Delivery.position.is_not(None))
        .values(status=status.READ, delivered_at=now, read_at=now))
