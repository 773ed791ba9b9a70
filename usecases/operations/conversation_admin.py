"""The admin console's conversations: search them, read one (members and
roles, message counts, status, latest messages, what admins did), close
or reopen it.

An admin is not a member, so closing is not `close_conversation` (whose
rule is about members' roles): the admin closes any conversation, the
members get the same `conversation_closed` event (by: the admin's id),
and the change is audited. Reopening is the admin's alone (members have no
reopen): status back to active, a `conversation_reopened` event (D57).

Searches are bounded like the message search: member, id and context ref
use indexes; title, kind and status filter at most EXAMINED of the newest
conversations that match the rest (D55).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import UnitOfWork
from db.models import AuditEntry, Conversation, ConversationMember, Message, User
from pipeline.conversations import ACTIVE, CLOSED, DIRECT, GROUP
from pipeline.errors import BadRequest, NotFound
from pipeline.memberships import CONVERSATION_CLOSED, CONVERSATION_REOPENED
from pipeline.phones import looks_like_phone, normalize_phone
from pipeline.timestamps import iso
from usecases.chat.conversations import active_member_ids
from usecases.chat.events import queue_event
from usecases.operations.audit import audit
from usecases.operations.message_search import user_label
from usecases.ports import Ports

EXAMINED = 10_000
LATEST_MESSAGES = 20
MEMBERS = 500


@dataclass(frozen=True)
class ConversationQuery:
    conversation_id: int | None = None
    member: str | None = None  # a user id, +E164 phone or username
    title: str | None = None  # contained, case-insensitive
    context_ref: str | None = None
    kind: str | None = None
    status: str | None = None
    before_id: int | None = None
    limit: int = 50


@dataclass(frozen=True)
class ConversationPage:
    items: list[dict]
    next_cursor: int | None
    window_exhausted: bool


def search_conversations(ports: Ports, query: ConversationQuery) -> ConversationPage:
    """Conversations matching every given filter, newest first.

    Raises:
        BadRequest: an unknown kind or status. InvalidPhoneNumber: a malformed phone.
    """
    if query.kind not in (None, DIRECT, GROUP) or query.status not in (None, ACTIVE, CLOSED):
        raise BadRequest("kind is direct or group; status is active or closed")
    with UnitOfWork(ports.sessions) as uow:
        session = uow.session
        member_id = _user_id(session, query.member) if query.member else None
        if query.member and member_id is None:
            return ConversationPage([], None, False)
        ids, cursor, exhausted = _matching_ids(session, query, member_id)
        return ConversationPage(_summaries(session, ids), cursor, exhausted)


def _user_id(session: Session, who: str) -> int | None:
    who = who.strip()
    if who.isdigit():
        where = User.id == int(who)
    elif looks_like_phone(who):
        where = User.phone == normalize_phone(who)
    else:
        where = User.username == who
    return session.scalar(select(User.id).where(where))


def _matching_ids(session: Session, query: ConversationQuery, member_id: int | None):
    ids = select(Conversation.id.label("id")).order_by(Conversation.id.desc())
    if member_id is not None:
        ids = ids.join(ConversationMember, ConversationMember.conversation_id == Conversation.id).where(
            ConversationMember.user_id == member_id)
    for column, value in ((Conversation.id, query.conversation_id), (Conversation.context_ref, query.context_ref)):
        if value is not None:
            ids = ids.where(column == value)
    if query.before_id is not None:
        ids = ids.where(Conversation.id < query.before_id)
    unindexed = [clause for clause, given in (
        (Conversation.title.ilike(f"%{_escaped(query.title or '')}%", escape="\\"), query.title),
        (Conversation.kind == query.kind, query.kind), (Conversation.status == query.status, query.status)) if given]
    if not unindexed:
        found = list(session.scalars(ids.limit(query.limit + 1)))
        more = len(found) > query.limit
        return found[:query.limit], (found[query.limit - 1] if more else None), False
    window = ids.add_columns(Conversation.title, Conversation.kind, Conversation.status).limit(EXAMINED).subquery()
    narrowed = [clause for clause in (
        window.c.title.ilike(f"%{_escaped(query.title)}%", escape="\\") if query.title else None,
        window.c.kind == query.kind if query.kind else None,
        window.c.status == query.status if query.status else None) if clause is not None]
    found = list(session.scalars(select(window.c.id).where(*narrowed).order_by(window.c.id.desc())
                                 .limit(query.limit + 1)))
    if len(found) > query.limit:
        return found[:query.limit], found[query.limit - 1], False
    examined, lowest = session.execute(select(func.count(), func.min(window.c.id))).one()
    exhausted = examined == EXAMINED
    return found, (lowest if exhausted else None), exhausted


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _summaries(session: Session, ids: list[int]) -> list[dict]:
    if not ids:
        return []
    members = (select(func.count()).where(ConversationMember.conversation_id == Conversation.id,
                                          ConversationMember.left_at.is_(None)).scalar_subquery())
    return [{"id": c.id, "kind": c.kind, "title": c.title, "status": c.status, "context_ref": c.context_ref,
             "created_at": iso(c.created_at), "last_message_at": iso(c.last_message_at), "messages": c.last_seq,
             "members": count}
            for c, count in session.execute(select(Conversation, members).where(Conversation.id.in_(ids))
                                            .order_by(Conversation.id.desc()))]


def conversation_detail(ports: Ports, conversation_id: int) -> dict:
    """One conversation as an admin sees it.

    Raises:
        NotFound: no such conversation.
    """
    with UnitOfWork(ports.sessions) as uow:
        session = uow.session
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        creator = session.get(User, conversation.created_by)
        return {
            "id": conversation.id, "kind": conversation.kind, "title": conversation.title,
            "status": conversation.status, "context_ref": conversation.context_ref,
            "created_at": iso(conversation.created_at), "created_by": user_label(creator),
            "created_by_id": creator.id, "last_message_at": iso(conversation.last_message_at),
            "messages": conversation.last_seq, "deleted_messages": _deleted(session, conversation.id),
            "members": _members(session, conversation), "latest": _latest(session, conversation.id),
            "history": _history(session, conversation.id),
        }


def _deleted(session: Session, conversation_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Message).where(
        Message.conversation_id == conversation_id, Message.deleted_at.isnot(None)))


def _members(session: Session, conversation: Conversation) -> list[dict]:
    rows = session.execute(select(ConversationMember, User).join(User, User.id == ConversationMember.user_id)
                           .where(ConversationMember.conversation_id == conversation.id)
                           .order_by(ConversationMember.left_at.isnot(None), ConversationMember.joined_at,
                                     User.id).limit(MEMBERS))
    return [{"user_id": user.id, "user": user_label(user), "phone": user.phone, "role": seat.role,
             "joined_at": iso(seat.joined_at), "left_at": iso(seat.left_at), "read_seq": seat.read_seq,
             "unread": max(conversation.last_seq - seat.read_seq, 0) if seat.left_at is None else None,
             "archived": seat.archived_at is not None}
            for seat, user in rows]


def _latest(session: Session, conversation_id: int) -> list[dict]:
    rows = session.execute(select(Message, User).join(User, User.id == Message.sender_id)
                           .where(Message.conversation_id == conversation_id)
                           .order_by(Message.seq.desc()).limit(LATEST_MESSAGES))
    return [{"id": m.id, "seq": m.seq, "sender": user_label(u), "created_at": iso(m.created_at),
             "excerpt": "(deleted)" if m.deleted_at else (m.body[:79] + "…" if len(m.body) > 80 else m.body)}
            for m, u in rows]


def _history(session: Session, conversation_id: int) -> list[dict]:
    return [{"created_at": iso(e.created_at), "action": e.action, "actor_id": e.actor_id,
             "via": (e.details or {}).get("via")}
            for e in session.scalars(select(AuditEntry).where(AuditEntry.target_type == "conversation",
                                                              AuditEntry.target_id == str(conversation_id))
                                     .order_by(AuditEntry.id).limit(100))]


def set_status_as_admin(ports: Ports, conversation_id: int, admin_id: int, new_status: str, via: str) -> bool:
    """Close or reopen a conversation as an admin; True when it changed
    (setting the status it has is a no-op, not audited). The members are
    told through their streams.

    Raises:
        NotFound: no such conversation. BadRequest: a status other than active or closed.
    """
    if new_status not in (ACTIVE, CLOSED):
        raise BadRequest("status is active or closed")
    now = datetime.now(timezone.utc)
    with UnitOfWork(ports.sessions) as uow:
        session = uow.session
        conversation = session.scalars(select(Conversation).where(Conversation.id == conversation_id)
                                       .with_for_update()).one_or_none()
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        if conversation.status == new_status:
            return False
        previous, conversation.status = conversation.status, new_status
        kind = CONVERSATION_CLOSED if new_status == CLOSED else CONVERSATION_REOPENED
        job = queue_event(session, conversation_id=conversation_id, kind=kind, payload={"by": admin_id},
                          user_ids=active_member_ids(session, conversation_id), policy=ports.outbox, now=now)
        audit(session, actor_id=admin_id, action=f"conversation.{'close' if new_status == CLOSED else 'reopen'}",
              target_type="conversation", target_id=conversation_id,
              details={"via": via, "from": previous, "to": new_status}, now=now)
        uow.commit()
    ports.publisher.submit([job])
    return True
