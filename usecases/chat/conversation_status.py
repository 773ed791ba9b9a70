"""Per-member archive and per-conversation close."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from usecases.chat.conversations import active_member_ids
from db.models import Conversation, ConversationMember, User
from pipeline import memberships as groups
from pipeline.conversations import CLOSED
from pipeline.memberships import ConversationEvent


def set_archived(member: ConversationMember, archived: bool, now: datetime) -> None:
    """Archive is the member's own filing: nobody else is told. A new message
    leaves the conversation archived (docs/decisions.md D25)."""
    if archived and member.archived_at is None:
        member.archived_at = now
    elif not archived:
        member.archived_at = None


def close_conversation(session: Session, conversation: Conversation,
                       actor: ConversationMember) -> list[ConversationEvent]:
    """Close for good: no more messages or membership changes. Closing twice is a no-op.

    Raises:
        Forbidden: see pipeline.memberships.check_can_close.
    """
    groups.check_can_close(conversation.kind, actor.role, _with_business(session, conversation.id))
    if conversation.status == CLOSED:
        return []
    conversation.status = CLOSED
    session.flush()
    audience = tuple(active_member_ids(session, conversation.id))
    return [ConversationEvent(groups.CONVERSATION_CLOSED, {"by": actor.user_id}, audience)]


def _with_business(session: Session, conversation_id: int) -> bool:
    return session.scalar(select(User.id).join(ConversationMember, ConversationMember.user_id == User.id).where(
        ConversationMember.conversation_id == conversation_id, ConversationMember.left_at.is_(None),
        User.role == "business").limit(1)) is not None
