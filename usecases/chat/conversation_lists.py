"""A member's conversation list: newest activity first, with the last
message and the unread count of each, and the total for a badge."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.orm import Session

from db.models import Conversation, ConversationMember, Message, User
from pipeline.cursors import decode_cursor, encode_cursor
from pipeline.timestamps import iso

# Last activity: the last message, or the creation of a conversation still without one.
ACTIVITY = func.coalesce(Conversation.last_message_at, Conversation.created_at)


def conversations_page(session: Session, user_id: int, *, archived: bool, context: int | None, limit: int,
                       cursor: str | None) -> tuple[list[tuple[Conversation, ConversationMember]], str | None]:
    """One page of the user's current conversations (archived ones, or the
    others) and the next page's cursor.

    Raises:
        BadRequest: a cursor that is not one of ours.
    """
    query = (select(Conversation, ConversationMember, ACTIVITY)
             .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
             .where(ConversationMember.user_id == user_id, ConversationMember.left_at.is_(None),
                    ConversationMember.archived_at.is_not(None) if archived
                    else ConversationMember.archived_at.is_(None)))
    if context is not None:
        query = query.where(Conversation.id == context)
    if cursor:
        at, conversation_id = decode_cursor(cursor)
        query = query.where(or_(ACTIVITY < at, and_(ACTIVITY == at, Conversation.id < conversation_id)))
    rows = session.execute(query.order_by(ACTIVITY.desc(), Conversation.id.desc()).limit(limit + 1)).all()
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1][2], page[-1][0].id) if len(rows) > limit else None
    return [(conversation, member) for conversation, member, _ in page], next_cursor


def last_messages(session: Session, conversations: list[Conversation]) -> dict[int, dict]:
    """Each conversation's last message (the one with seq = last_seq), as a preview."""
    keys = [(c.id, c.last_seq) for c in conversations if c.last_seq > 0]
    if not keys:
        return {}
    rows = session.execute(select(Message, User).join(User, User.id == Message.sender_id)
                           .where(tuple_(Message.conversation_id, Message.seq).in_(keys))).all()
    return {message.conversation_id: preview(message, sender) for message, sender in rows}


def preview(message: Message, sender: User) -> dict:
    """What a list shows of a message: a deleted one keeps its place, not its body."""
    return {"id": message.id, "seq": message.seq,
            "sender": {"id": sender.id, "name": sender.name, "role": sender.role},
            "body": None if message.deleted_at else message.body, "deleted": message.deleted_at is not None,
            "created_at": iso(message.created_at)}


def _unread_messages(user_id: int):
    """Messages after the member's read marker, not their own, not deleted
    (the rule of usecases.chat.reads.unread_count), joined to the membership."""
    return (select(Message.conversation_id, func.count().label("unread"))
            .join(ConversationMember, and_(ConversationMember.conversation_id == Message.conversation_id,
                                           ConversationMember.user_id == user_id))
            .where(Message.seq > ConversationMember.read_seq, Message.sender_id != user_id,
                   Message.deleted_at.is_(None), ConversationMember.left_at.is_(None))
            .group_by(Message.conversation_id))


def unread_counts(session: Session, user_id: int, conversation_ids: list[int]) -> dict[int, int]:
    if not conversation_ids:
        return {}
    query = _unread_messages(user_id).where(Message.conversation_id.in_(conversation_ids))
    return {conversation_id: count for conversation_id, count in session.execute(query).all()}


def unread_badge(session: Session, user_id: int, context: int | None) -> dict:
    """Unread messages over the user's non-archived conversations, and how many conversations have some."""
    query = _unread_messages(user_id).where(ConversationMember.archived_at.is_(None))
    if context is not None:
        query = query.where(Message.conversation_id == context)
    per_conversation = query.subquery()
    total, conversations = session.execute(
        select(func.coalesce(func.sum(per_conversation.c.unread), 0), func.count())
        .select_from(per_conversation)).one()
    return {"unread": int(total), "conversations": conversations}


def summary(conversation: Conversation, member: ConversationMember, unread: int,
            last_message: dict | None) -> dict:
    """A conversation as its member sees it."""
    activity = conversation.last_message_at or conversation.created_at
    return {"id": conversation.id, "kind": conversation.kind, "title": conversation.title,
            "status": conversation.status, "context_ref": conversation.context_ref,
            "last_seq": conversation.last_seq, "role": member.role, "read_seq": member.read_seq,
            "unread": unread, "archived": member.archived_at is not None,
            "created_at": iso(conversation.created_at), "last_activity_at": iso(activity),
            "last_message": last_message}


def members_page(session: Session, conversation_id: int, *, limit: int,
                 cursor: str | None) -> tuple[list[tuple[ConversationMember, User]], str | None]:
    """One page of the current members, longest-standing first, and the next page's cursor."""
    query = (select(ConversationMember, User).join(User, User.id == ConversationMember.user_id)
             .where(ConversationMember.conversation_id == conversation_id, ConversationMember.left_at.is_(None)))
    if cursor:
        joined_at, user_id = decode_cursor(cursor)
        query = query.where(or_(ConversationMember.joined_at > joined_at,
                                and_(ConversationMember.joined_at == joined_at,
                                     ConversationMember.user_id > user_id)))
    rows = session.execute(query.order_by(ConversationMember.joined_at, ConversationMember.user_id)
                           .limit(limit + 1)).all()
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1][0].joined_at, page[-1][0].user_id) if len(rows) > limit else None
    return [(member, user) for member, user in page], next_cursor


def member_view(member: ConversationMember, user: User) -> dict:
    """A member: who they are (`user.role`: mobile or business) and their role in the group."""
    return {"user": {"id": user.id, "name": user.name, "role": user.role}, "role": member.role,
            "joined_at": iso(member.joined_at)}
