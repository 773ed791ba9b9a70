"""Edits and deletes of chat messages, each telling the members through an event.

The message row is locked for the change, so two edits (or an edit and a
delete) of one message serialize; the event carries ids only and the body
is read when the event is sent (usecases.chat.event_state), never stored twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from usecases.chat.conversations import active_member_ids, check_can_send, member
from usecases.chat.events import queue_event
from usecases.ports import OutboxPolicy
from db.models import Conversation, ConversationMember, Delivery, Message, Reaction
from pipeline import message_changes as rules
from pipeline.errors import NotFound
from pipeline.jobs import Job

EDIT, DELETE = "edit", "delete"


@dataclass(frozen=True)
class Scope:
    """Who asks, and the one conversation a scoped token is limited to."""
    user_id: int
    context: int | None = None


@dataclass(frozen=True)
class Target:
    message: Message
    conversation: Conversation
    membership: ConversationMember


def visible_chat_message(session: Session, message_id: int, scope: Scope, *, lock: bool = False) -> Target:
    """The chat message, its conversation and the caller's membership.

    Raises:
        NotFound: no such message, or the caller may not see it (ids reveal nothing).
        MessageReadOnly: a one-way message the caller sent or received.
    """
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(f"no message {message_id}")
    if message.conversation_id is None:
        if scope.context is None and _took_part(session, message, scope.user_id):
            rules.check_changeable(message.kind)
        raise NotFound(f"no message {message_id}")
    membership = member(session, message.conversation_id, scope.user_id)
    if membership is None or scope.context not in (None, message.conversation_id):
        raise NotFound(f"no message {message_id}")
    rules.check_changeable(message.kind)
    if lock:  # after the checks: strangers lock nothing
        message = session.scalars(select(Message).where(Message.id == message_id).with_for_update()
                                  .execution_options(populate_existing=True)).one()
    return Target(message, session.get(Conversation, message.conversation_id), membership)


def _took_part(session: Session, message: Message, user_id: int) -> bool:
    if message.sender_id == user_id:
        return True
    return session.scalar(select(Delivery.id).where(
        Delivery.message_id == message.id, Delivery.recipient_id == user_id).limit(1)) is not None


def edit_message(session: Session, message_id: int, scope: Scope, body: str, *, window_seconds: int,
                 policy: OutboxPolicy, now: datetime) -> tuple[Message, list[Job]]:
    """Replace the body (sender only, within the window); one `edit` event to the members.

    Raises:
        NotFound, MessageReadOnly, NotSender, MessageDeleted, EditWindowPassed,
        ConversationClosed, CannotMessage, UserBlocked.
    """
    target = visible_chat_message(session, message_id, scope, lock=True)
    message = target.message
    rules.check_edit(is_sender=message.sender_id == scope.user_id, deleted=message.deleted_at is not None,
                     created_at=message.created_at, now=now, window_seconds=window_seconds)
    # An edit speaks to the others like a new message: closed conversations and blocks refuse it.
    check_can_send(session, target.conversation, scope.user_id)
    message.body = body
    message.edited_at = rules.next_edited_at(now, message.edited_at)
    session.flush()
    job = _tell(session, message, EDIT, {}, policy, now)
    return message, [job]


def delete_message(session: Session, message_id: int, scope: Scope, *, policy: OutboxPolicy, now: datetime) -> list[Job]:
    """Tombstone the message: the body and reactions go, the slot (id, seq) stays.

    Deleting a deleted message changes nothing and tells nobody.

    Raises:
        NotFound, MessageReadOnly, NotSender.
    """
    target = visible_chat_message(session, message_id, scope, lock=True)
    message = target.message
    rules.check_delete(is_sender=message.sender_id == scope.user_id, role=target.membership.role,
                       conversation_kind=target.conversation.kind)
    if message.deleted_at is not None:
        return []
    # "" rather than NULL keeps the column NOT NULL; the text itself is gone.
    message.body, message.deleted_at = "", now
    session.execute(delete(Reaction).where(Reaction.message_id == message.id))
    session.flush()
    return [_tell(session, message, DELETE, {"deleted_by": scope.user_id}, policy, now)]


def _tell(session: Session, message: Message, kind: str, extra: dict, policy: OutboxPolicy, now: datetime) -> Job:
    return queue_event(session, conversation_id=message.conversation_id, kind=kind,
                       payload={"message_id": message.id, "seq": message.seq, **extra},
                       user_ids=active_member_ids(session, message.conversation_id),
                       policy=policy, now=now)
