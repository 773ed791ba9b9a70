"""The admin console's message search: by id, sender, recipient phone,
status and time range, newest first, a page at a time.

Every query is bounded. The id, sender, recipient and time filters use
indexes (the primary key; messages (sender_id, id); deliveries
(recipient_id, message_id); messages (created_at)). The status filter has
no index of its own — an index on deliveries.status would cost every
delivered and read write its HOT update — so it is applied to at most
EXAMINED candidates that match the other filters, newest first; when that
window runs out the page says so and its cursor continues below it
(docs/decisions.md D55).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from db.engine import UnitOfWork
from db.models import Delivery, Message, User
from pipeline import status as statuses
from pipeline.errors import BadRequest
from pipeline.phones import normalize_phone
from pipeline.timestamps import iso
from usecases.ports import Ports

EXAMINED = 10_000
EXCERPT = 80


@dataclass(frozen=True)
class MessageQuery:
    message_id: int | None = None
    sender: str | None = None  # a user id, +E164 phone or username
    recipient_phone: str | None = None
    status: str | None = None  # a pipeline.status value ("queued" is derived)
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None  # the cursor: messages older than this id
    limit: int = 50


@dataclass(frozen=True)
class MessagePage:
    items: list[dict]
    next_cursor: int | None
    window_exhausted: bool  # the status filter ran out of candidates to examine
    recipient_id: int | None = None  # whose phone was searched: the message pages narrow to them


def search_messages(ports: Ports, query: MessageQuery) -> MessagePage:
    """Messages matching every given filter, newest first.

    Raises:
        BadRequest: an unknown status. InvalidPhoneNumber: a malformed phone number.
    """
    if query.status is not None and query.status not in statuses.ALL:
        raise BadRequest(f"status must be one of {', '.join(statuses.ALL)}")
    with UnitOfWork(ports.sessions) as uow:
        session = uow.session
        sender_id = _user_id(session, query.sender) if query.sender else None
        recipient_id = _phone_owner(session, query.recipient_phone) if query.recipient_phone else None
        if (query.sender and sender_id is None) or (query.recipient_phone and recipient_id is None):
            return MessagePage([], None, False)
        ids, cursor, exhausted = _matching_ids(session, query, sender_id, recipient_id)
        return MessagePage(_summaries(session, ids), cursor, exhausted, recipient_id)


def _user_id(session: Session, who: str) -> int | None:
    who = who.strip()
    if who.isdigit():
        return session.scalar(select(User.id).where(User.id == int(who)))
    if who.startswith("+"):
        return _phone_owner(session, who)
    return session.scalar(select(User.id).where(User.username == who))


def _phone_owner(session: Session, phone: str) -> int | None:
    return session.scalar(select(User.id).where(User.phone == normalize_phone(phone)))


def _matching_ids(session: Session, query: MessageQuery, sender_id: int | None,
                  recipient_id: int | None) -> tuple[list[int], int | None, bool]:
    candidates = _candidates(query, sender_id, recipient_id)
    if query.status is None:
        ids = list(session.scalars(candidates.limit(query.limit + 1)))
        more = len(ids) > query.limit
        return ids[:query.limit], (ids[query.limit - 1] if more else None), False
    window = candidates.limit(EXAMINED).subquery()
    ids = list(session.scalars(
        select(window.c.id).where(_has_status(window.c.id, query.status, recipient_id))
        .order_by(window.c.id.desc()).limit(query.limit + 1)))
    if len(ids) > query.limit:
        return ids[:query.limit], ids[query.limit - 1], False
    examined, lowest = session.execute(select(func.count(), func.min(window.c.id))).one()
    exhausted = examined == EXAMINED
    return ids, (lowest if exhausted else None), exhausted


def _candidates(query: MessageQuery, sender_id: int | None, recipient_id: int | None):
    """Message ids matching the indexed filters, newest first."""
    if recipient_id is not None:
        # Walk the recipient's deliveries (recipient_id, message_id) backwards.
        ids = (select(Delivery.message_id.label("id")).join(Message, Message.id == Delivery.message_id)
               .where(Delivery.recipient_id == recipient_id).order_by(Delivery.message_id.desc()))
        newest = Delivery.message_id
    else:
        ids = select(Message.id.label("id")).order_by(Message.id.desc())
        newest = Message.id
    if query.message_id is not None:
        ids = ids.where(newest == query.message_id)
    if query.before_id is not None:
        ids = ids.where(newest < query.before_id)
    if sender_id is not None:
        ids = ids.where(Message.sender_id == sender_id)
    if query.since is not None:
        ids = ids.where(Message.created_at >= query.since)
    if query.until is not None:
        ids = ids.where(Message.created_at < query.until)
    return ids


def _has_status(message_id, status: str, recipient_id: int | None):
    """Some recipient (or the one searched for) is in `status`; `queued` and
    `accepted` are one row status told apart by the message's queued_at."""
    if status in (statuses.QUEUED, statuses.ACCEPTED):
        queued = select(Message.id).where(Message.id == message_id, Message.queued_at.isnot(None)).exists()
        row_status = and_(Delivery.status == statuses.ACCEPTED, queued if status == statuses.QUEUED else ~queued)
    else:
        row_status = Delivery.status == status
    match = [Delivery.message_id == message_id, row_status]
    if recipient_id is not None:
        match.append(Delivery.recipient_id == recipient_id)
    return exists(select(Delivery.id).where(*match))


def _summaries(session: Session, ids: list[int]) -> list[dict]:
    if not ids:
        return []
    rows = session.execute(select(Message, User).join(User, User.id == Message.sender_id)
                           .where(Message.id.in_(ids)).order_by(Message.id.desc())).all()
    counts: dict[int, dict[str, int]] = {}
    queued = {message.id for message, _ in rows if message.queued_at is not None}
    for message_id, status, count in session.execute(
            select(Delivery.message_id, Delivery.status, func.count())
            .join(Message, Message.id == Delivery.message_id)
            .where(Delivery.message_id.in_(ids), Delivery.recipient_id != Message.sender_id)
            .group_by(Delivery.message_id, Delivery.status)):
        if status == statuses.ACCEPTED and message_id in queued:
            status = statuses.QUEUED
        counts.setdefault(message_id, {})[status] = count
    return [_summary(message, sender, counts.get(message.id, {})) for message, sender in rows]


def _summary(message: Message, sender: User, counts: dict[str, int]) -> dict:
    body = "(deleted)" if message.deleted_at else message.body
    return {
        "id": message.id, "kind": message.kind, "priority": message.priority,
        "created_at": iso(message.created_at), "sender_id": sender.id, "sender": user_label(sender),
        "conversation_id": message.conversation_id, "seq": message.seq,
        "excerpt": body if len(body) <= EXCERPT else body[:EXCERPT - 1] + "…",
        "statuses": [(s, counts[s]) for s in statuses.ALL if s in counts],
    }


def user_label(user: User) -> str:
    """How the console names a user: username, else phone, else name, then the role."""
    return f"{user.username or user.phone or user.name or 'user'} ({user.role})"
