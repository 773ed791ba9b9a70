"""Conversations: get-or-create direct pairs, groups, membership checks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, exists, false, func, select
from sqlalchemy.orm import Session

from usecases.chat.blocks import check_not_blocked_by
from db.sql import insert_ignoring_conflict
from db.models import Block, Conversation, ConversationMember, User
from pipeline import conversations as rules
from pipeline.errors import CannotMessage, ConversationClosed, NotFound, RecipientNotFound, UserBlocked


def member(session: Session, conversation_id: int, user_id: int) -> ConversationMember | None:
    """The caller's current membership, or None (never a member, or left)."""
    return session.scalars(select(ConversationMember).where(
        ConversationMember.conversation_id == conversation_id, ConversationMember.user_id == user_id,
        ConversationMember.left_at.is_(None))).one_or_none()


def conversation_for_member(session: Session, conversation_id: int, user_id: int,
                            context: int | None = None) -> tuple[Conversation, ConversationMember]:
    """The conversation and membership, if the user may see it.

    Raises:
        NotFound: not a member (or outside the token's context): ids reveal nothing.
    """
    if context is not None and context != conversation_id:
        raise NotFound(f"no conversation {conversation_id}")
    membership = member(session, conversation_id, user_id)
    conversation = session.get(Conversation, conversation_id) if membership else None
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    return conversation, membership


def check_sendable(session: Session, conversation_id: int, user_id: int, context: int | None = None) -> None:
    """`conversation_for_member` and `check_can_send` in one query: the
    membership, the conversation's state and, in a direct conversation,
    blocks either way.

    Raises:
        NotFound: not a member (or outside the token's context).
        ConversationClosed, CannotMessage, UserBlocked: as check_can_send.
    """
    if context is not None and context != conversation_id:
        raise NotFound(f"no conversation {conversation_id}")
    others = (select(ConversationMember.user_id)
              .where(ConversationMember.conversation_id == conversation_id,
                     ConversationMember.left_at.is_(None), ConversationMember.user_id != user_id))
    is_direct = Conversation.kind == rules.DIRECT
    blocked_by_other = case((is_direct, exists().where(Block.blocked_id == user_id, Block.blocker_id.in_(others))),
                            else_=false())
    blocks_other = case((is_direct, exists().where(Block.blocker_id == user_id, Block.blocked_id.in_(others))),
                        else_=false())
    row = session.execute(
        select(Conversation.status, blocked_by_other.label("blocked_by_other"), blocks_other.label("blocks_other"))
        .join(ConversationMember, and_(ConversationMember.conversation_id == Conversation.id,
                                       ConversationMember.user_id == user_id, ConversationMember.left_at.is_(None)))
        .where(Conversation.id == conversation_id)).first()
    if row is None:
        raise NotFound(f"no conversation {conversation_id}")
    if row.status == rules.CLOSED:
        raise ConversationClosed()
    if row.blocked_by_other:
        raise CannotMessage()
    if row.blocks_other:
        raise UserBlocked()


def active_member_ids(session: Session, conversation_id: int) -> list[int]:
    return list(session.scalars(select(ConversationMember.user_id).where(
        ConversationMember.conversation_id == conversation_id, ConversationMember.left_at.is_(None))
        .order_by(ConversationMember.user_id)))


def is_blocked(session: Session, blocker_id: int, blocked_id: int) -> bool:
    return session.get(Block, (blocker_id, blocked_id)) is not None


def get_or_create_direct(session: Session, me: User, other: User, now: datetime,
                         context_ref: str | None = None) -> tuple[Conversation, bool]:
    """The one direct conversation of the pair; (conversation, created).

    Raises:
        CannotMessage: the other user blocked the caller.
    """
    if is_blocked(session, other.id, me.id):
        raise CannotMessage()
    key = rules.pair_key(me.id, other.id)
    created = insert_ignoring_conflict(session, Conversation, {
        "kind": rules.DIRECT, "pair_key": key, "created_by": me.id, "created_at": now,
        "status": rules.ACTIVE, "context_ref": context_ref, "last_seq": 0}, ["pair_key"])
    conversation = session.scalars(select(Conversation).where(Conversation.pair_key == key)).one()
    for user in (me, other):
        insert_ignoring_conflict(session, ConversationMember, {
            "conversation_id": conversation.id, "user_id": user.id, "role": rules.MEMBER,
            "joined_at": now, "read_seq": 0}, ["conversation_id", "user_id"])
    return conversation, created


def create_group(session: Session, owner: User, title: str, member_ids: list[int], limit: int,
                 now: datetime, context_ref: str | None = None) -> Conversation:
    """A group owned by `owner` with the given members.

    Raises:
        RecipientNotFound: an unknown user id.
        ValidationFailed: over the member limit.
        CannotMessage: a member blocked the owner.
    """
    others = sorted(set(member_ids) - {owner.id})
    rules.check_member_limit(1, len(others), limit)
    found = session.scalar(select(func.count()).select_from(User).where(User.id.in_(others))) if others else 0
    if found != len(others):
        raise RecipientNotFound("every member must be an existing user")
    check_not_blocked_by(session, owner.id, others)
    conversation = Conversation(kind=rules.GROUP, title=title, created_by=owner.id, created_at=now,
                                status=rules.ACTIVE, context_ref=context_ref, last_seq=0)
    session.add(conversation)
    session.flush()
    session.add(ConversationMember(conversation_id=conversation.id, user_id=owner.id, role=rules.OWNER,
                                   joined_at=now, read_seq=0))
    session.add_all(ConversationMember(conversation_id=conversation.id, user_id=user_id, role=rules.MEMBER,
                                       joined_at=now, read_seq=0) for user_id in others)
    session.flush()
    return conversation


def check_can_send(session: Session, conversation: Conversation, sender_id: int) -> None:
    """Raises ConversationClosed; in a direct conversation CannotMessage when the other side
    blocked the sender, UserBlocked when the sender blocked the other side."""
    if conversation.status == rules.CLOSED:
        raise ConversationClosed()
    if conversation.kind == rules.DIRECT:
        others = [uid for uid in active_member_ids(session, conversation.id) if uid != sender_id]
        if any(is_blocked(session, other, sender_id) for other in others):
            raise CannotMessage()
        if any(is_blocked(session, sender_id, other) for other in others):
            raise UserBlocked()
