"""Fan-out of chat messages to the members' streams (worker side)."""

from __future__ import annotations

from sqlalchemy import Select, func, literal, select
from sqlalchemy.orm import Session, aliased

from db.sql import insert_from_select_ignoring_conflict
from db.models import ConversationMember, Delivery, Message
from pipeline import status

# How far back a job creates rows for earlier messages of its conversation
# whose own jobs have not run yet (so members see them in seq order).
CATCH_UP_MESSAGES = 100


def current_members(conversation_id: int) -> Select:
    """The ids of the conversation's current members, as a query: the
    delivery job locks their streams with it (lock_streams) in the statement
    that reads them."""
    return select(ConversationMember.user_id).where(ConversationMember.conversation_id == conversation_id,
                                                    ConversationMember.left_at.is_(None))


def ensure_chat_deliveries(session: Session, conversation_id: int, seq: int, members: list[int]) -> None:
    """Delivery rows for each of `members` (the current members, streams
    locked), for this message and any earlier one of the conversation still
    without rows.

    One INSERT … SELECT: the rows are made in the database. Two jobs that
    would insert the same (message, member) row both hold that member's
    stream lock first, so they never wait on each other's rows in a cycle.

    (The sender's own copy — for their other devices — needs no receipt:
    position_pending marks it read as it places it.)
    """
    if not members:
        return
    rows = (select(Message.id, ConversationMember.user_id, literal(status.ACCEPTED), Message.created_at)
            .join(ConversationMember, (ConversationMember.conversation_id == Message.conversation_id)
                  & ConversationMember.user_id.in_(members))
            .where(Message.conversation_id == conversation_id, Message.seq <= seq,
                   Message.seq > _last_with_rows(conversation_id, seq),
                   ~_has_rows(Message))
            .order_by(Message.id, ConversationMember.user_id))
    insert_from_select_ignoring_conflict(session, Delivery, ["message_id", "recipient_id", "status", "accepted_at"],
                                         rows, ["message_id", "recipient_id"])


def _has_rows(message):
    return select(Delivery.id).where(Delivery.message_id == message.id).exists()


def _last_with_rows(conversation_id: int, seq: int):
    """The seq of the latest earlier message of the window that has rows (or
    the window's start): only the messages after it can lack rows, since
    every job makes rows for all the messages of its window that lack them.
    Found walking down from seq - 1 — usually one probe, not one per
    message of the window."""
    earlier = aliased(Message)
    latest = (select(earlier.seq)
              .where(earlier.conversation_id == conversation_id, earlier.seq < seq,
                     earlier.seq > seq - CATCH_UP_MESSAGES, _has_rows(earlier))
              .order_by(earlier.seq.desc()).limit(1).scalar_subquery())
    return func.coalesce(latest, seq - CATCH_UP_MESSAGES)
