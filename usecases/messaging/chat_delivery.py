"""Fan-out of chat messages to the members' streams (worker side)."""

from __future__ import annotations

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from usecases.chat.conversations import active_member_ids
from db.sql import insert_from_select_ignoring_conflict
from db.models import ConversationMember, Delivery, Message
from pipeline import status

# How far back a job creates rows for earlier messages of its conversation
# whose own jobs have not run yet (so members see them in seq order).
CATCH_UP_MESSAGES = 100


def ensure_chat_deliveries(session: Session, conversation_id: int, seq: int) -> list[int]:
    """Delivery rows for every current member, for this message and any earlier
    one of the conversation still without rows; returns the member ids.

    One INSERT … SELECT: the rows are made in the database, in (message,
    member) order, so concurrent jobs of the conversation insert in the
    same order and wait on each other's rows instead of deadlocking.

    (The sender's own copy — for their other devices — needs no receipt:
    position_pending marks it read as it places it.)
    """
    members = active_member_ids(session, conversation_id)
    if not members:
        return members
    rows = (select(Message.id, ConversationMember.user_id, literal(status.ACCEPTED), Message.created_at)
            .join(ConversationMember, (ConversationMember.conversation_id == Message.conversation_id)
                  & ConversationMember.user_id.in_(members))
            .where(Message.conversation_id == conversation_id, Message.seq <= seq,
                   Message.seq > seq - CATCH_UP_MESSAGES,
                   ~select(Delivery.id).where(Delivery.message_id == Message.id).exists())
            .order_by(Message.id, ConversationMember.user_id))
    insert_from_select_ignoring_conflict(session, Delivery, ["message_id", "recipient_id", "status", "accepted_at"],
                                         rows, ["message_id", "recipient_id"])
    return members
