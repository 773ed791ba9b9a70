"""Reactions: one row per (message, user, emoji); counts are aggregated on read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from usecases.chat.conversations import active_member_ids, check_can_send
from usecases.chat.events import queue_event
from usecases.ports import OutboxPolicy
from usecases.chat.message_changes import Scope, visible_chat_message
from db.sql import insert_ignoring_conflict
from db.models import Message, Reaction
from pipeline import reactions as rules
from pipeline.errors import MessageDeleted
from pipeline.jobs import Job

REACTION = "reaction"


def add_reaction(session: Session, message_id: int, scope: Scope, emoji: str, *, policy: OutboxPolicy,
                 now: datetime) -> tuple[bool, list[Job]]:
    """Place the caller's reaction; (added, jobs). Placing it again is a no-op.

    Raises:
        NotFound, MessageReadOnly, MessageDeleted, ConversationClosed,
        CannotMessage, UserBlocked, ValidationFailed (too many reactions).
    """
    # A shared lock: a delete (FOR UPDATE) waits, so no reaction outlives its message.
    target = visible_chat_message(session, message_id, scope)
    message = _share_lock(session, message_id)
    if message.deleted_at is not None:
        raise MessageDeleted("the message was deleted")
    check_can_send(session, target.conversation, scope.user_id)
    rules.check_reaction_limit(_placed_by(session, message_id, scope.user_id, emoji))
    added = insert_ignoring_conflict(session, Reaction, {
        "message_id": message_id, "user_id": scope.user_id, "emoji": emoji, "created_at": now},
        ["message_id", "user_id", "emoji"])
    if not added:
        return False, []
    return True, [_tell(session, message, scope.user_id, emoji, rules.ADDED, policy, now)]


def remove_reaction(session: Session, message_id: int, scope: Scope, emoji: str, *, policy: OutboxPolicy,
                    now: datetime) -> list[Job]:
    """Take the caller's reaction back; nothing to take back is a no-op.

    Raises:
        NotFound, MessageReadOnly.
    """
    target = visible_chat_message(session, message_id, scope)
    removed = session.execute(delete(Reaction).where(
        Reaction.message_id == message_id, Reaction.user_id == scope.user_id, Reaction.emoji == emoji)
        .returning(Reaction.emoji)).first()
    if removed is None:
        return []
    return [_tell(session, target.message, scope.user_id, emoji, rules.REMOVED, policy, now)]


def reaction_summaries(session: Session, message_ids: list[int], viewer_id: int) -> dict[int, list[dict]]:
    """message id → [{emoji, count, me}], in the order each emoji was first placed.

    One query for a whole page of messages.
    """
    if not message_ids:
        return {}
    first_placed = func.min(Reaction.created_at)
    rows = session.execute(
        select(Reaction.message_id, Reaction.emoji, func.count(),
               func.max(case((Reaction.user_id == viewer_id, 1), else_=0)))
        .where(Reaction.message_id.in_(message_ids))
        .group_by(Reaction.message_id, Reaction.emoji)
        .order_by(Reaction.message_id, first_placed, Reaction.emoji)).all()
    summaries: dict[int, list[dict]] = {}
    for message_id, emoji, count, me in rows:
        summaries.setdefault(message_id, []).append({"emoji": emoji, "count": count, "me": bool(me)})
    return summaries


def reaction_count(session: Session, message_id: int, emoji: str) -> int:
    return session.scalar(select(func.count()).select_from(Reaction).where(
        Reaction.message_id == message_id, Reaction.emoji == emoji)) or 0


def _share_lock(session: Session, message_id: int) -> Message:
    return session.scalars(select(Message).where(Message.id == message_id).with_for_update(read=True)
                           .execution_options(populate_existing=True)).one()


def _placed_by(session: Session, message_id: int, user_id: int, emoji: str) -> int:
    """The caller's other reactions on the message (re-placing one is not a new one)."""
    return session.scalar(select(func.count()).select_from(Reaction).where(
        Reaction.message_id == message_id, Reaction.user_id == user_id, Reaction.emoji != emoji)) or 0


def _tell(session: Session, message: Message, user_id: int, emoji: str, action: str, policy: OutboxPolicy,
          now: datetime) -> Job:
    # The emoji's count is added by the fan-out, read under the members' stream locks.
    return queue_event(session, conversation_id=message.conversation_id, kind=REACTION,
                       payload={"message_id": message.id, "emoji": emoji, "user_id": user_id, "action": action},
                       user_ids=active_member_ids(session, message.conversation_id),
                       policy=policy, now=now)
