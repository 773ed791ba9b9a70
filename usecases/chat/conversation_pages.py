"""What the API reads of conversations, each in its own unit of work: one
conversation as a member sees it, the member's list and badge, history,
members. `scope` is the one conversation a scoped token may see (D24)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from db.engine import UnitOfWork
from db.models import User
from usecases.chat.chat_messages import history
from usecases.chat.conversation_lists import (conversations_page, last_messages, member_view, members_page, summary,
                                              unread_badge, unread_counts)
from usecases.chat.conversations import conversation_for_member
from usecases.chat.memberships import active_seat
from usecases.chat.reads import unread_count
from usecases.messaging.stream import message_payloads
from usecases.ports import Ports


def conversation_view(ports: Ports, conversation_id: int, user_id: int, scope: int | None) -> dict:
    """The conversation as the user sees it.

    Raises:
        NotFound: not a member (or out of scope).
    """
    with UnitOfWork(ports.sessions) as uow:
        return summary_for(uow.session, conversation_id, user_id, scope)


def summary_for(session: Session, conversation_id: int, user_id: int, scope: int | None) -> dict:
    conversation, member = conversation_for_member(session, conversation_id, user_id, scope)
    unread = unread_count(session, conversation.id, member.user_id, member.read_seq)
    return summary(conversation, member, unread, last_messages(session, [conversation]).get(conversation.id))


def my_conversations(ports: Ports, user_id: int, *, archived: bool, scope: int | None, limit: int,
                     cursor: str | None) -> dict:
    """Latest activity first: `items` and `next_cursor`.

    Raises:
        BadRequest: a cursor that is not one of ours.
    """
    with UnitOfWork(ports.sessions) as uow:
        rows, next_cursor = conversations_page(uow.session, user_id, archived=archived, context=scope, limit=limit,
                                               cursor=cursor)
        previews = last_messages(uow.session, [conversation for conversation, _ in rows])
        unread = unread_counts(uow.session, user_id, [conversation.id for conversation, _ in rows])
        items = [summary(c, m, unread.get(c.id, 0), previews.get(c.id)) for c, m in rows]
    return {"items": items, "next_cursor": next_cursor}


def unread_total(ports: Ports, user_id: int, scope: int | None) -> dict:
    """Unread messages over the user's non-archived conversations, for a badge."""
    with UnitOfWork(ports.sessions) as uow:
        return unread_badge(uow.session, user_id, scope)


def conversation_history(ports: Ports, conversation_id: int, user_id: int, scope: int | None, *,
                         before: int | None, after: int | None, limit: int) -> dict:
    """Messages by seq as the member sees them, reactions included.

    Raises:
        NotFound: not a member (or out of scope).
    """
    with UnitOfWork(ports.sessions) as uow:
        conversation_for_member(uow.session, conversation_id, user_id, scope)
        messages = history(uow.session, conversation_id, before=before, after=after, limit=limit)
        items = message_payloads(uow.session, messages, user_id)  # reactions batch-loaded
    return {"items": items,
            "before": items[0]["seq"] if items else None, "after": items[-1]["seq"] if items else None}


def members(ports: Ports, conversation_id: int, user_id: int, scope: int | None, *, limit: int,
            cursor: str | None) -> dict:
    """The current members, longest-standing first, a page at a time.

    Raises:
        NotFound: not a member (or out of scope).
    """
    with UnitOfWork(ports.sessions) as uow:
        conversation_for_member(uow.session, conversation_id, user_id, scope)
        rows, next_cursor = members_page(uow.session, conversation_id, limit=limit, cursor=cursor)
        return {"items": [member_view(m, u) for m, u in rows], "next_cursor": next_cursor}


def member(ports: Ports, conversation_id: int, user_id: int) -> dict:
    """One current member (the answer of a role change).

    Raises:
        NotFound: not a current member.
    """
    with UnitOfWork(ports.sessions) as uow:
        return member_view(active_seat(uow.session, conversation_id, user_id), uow.session.get(User, user_id))
