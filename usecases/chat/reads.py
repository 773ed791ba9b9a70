"""Read markers and unread counts (per member, per conversation)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.models import ConversationMember, Delivery, Message
from pipeline import status


def unread_count(session: Session, conversation_id: int, user_id: int, read_seq: int) -> int:
    """Messages after the read marker, not the member's own, not deleted."""
    return session.scalar(select(func.count()).select_from(Message).where(
        Message.conversation_id == conversation_id, Message.seq > read_seq,
        Message.sender_id != user_id, Message.deleted_at.is_(None))) or 0


def advance_read_marker(session: Session, member: ConversationMember, up_to_seq: int, last_seq: int,
                        now: datetime) -> bool:
    """Move the member's read marker forward (never back, never past the last
    message) and mark those deliveries read; True when it moved."""
    target = min(up_to_seq, last_seq)
    if target <= member.read_seq:
        return False
    member.read_seq = target
    read = select(Message.id).where(Message.conversation_id == member.conversation_id, Message.seq <= target)
    session.execute(update(Delivery).where(
        Delivery.recipient_id == member.user_id, Delivery.message_id.in_(read),
        Delivery.status.in_(status.predecessors(status.READ)))
        .values(status=status.READ, read_at=now, delivered_at=func.coalesce(Delivery.delivered_at, now)))
    session.flush()
    return True
