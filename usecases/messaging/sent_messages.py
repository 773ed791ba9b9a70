"""What a sender sent: its one-way messages newest first with their counts
per status, and one message's recipients a page at a time
(docs/decisions.md D78). Every query is bounded by its page and served by
an index: `ix_message_sender_newest` (sender, id) for the list, the deliveries'
(message, recipient) and (recipient, message) indexes for the rest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from db.engine import UnitOfWork
from db.models import Delivery, Message, User
from pipeline import status
from pipeline.cursors import decode_cursor, encode_cursor
from pipeline.errors import NotFound
from pipeline.phones import normalize_phone
from pipeline.timestamps import iso
from usecases.ports import Ports

RECIPIENTS_SHOWN = 100  # GET /v1/messages/{id} shows this many; the rest page through /recipients


@dataclass(frozen=True)
class SentFilter:
    status: str | None = None
    recipient: str | None = None  # a user id or a phone number
    created_after: datetime | None = None
    created_before: datetime | None = None


def sent_messages(ports: Ports, sender_id: int, wanted: SentFilter, *, limit: int, cursor: str | None) -> dict:
    """The sender's one-way messages, newest first: `items` (each with its
    `counts`) and `next_cursor`. Two queries: the page, its counts.

    Raises:
        BadRequest: a cursor that is not one of ours.
        InvalidPhoneNumber: a recipient that is neither an id nor a number.
    """
    where = [Message.sender_id == sender_id, Message.kind == "oneway"]
    if wanted.created_after is not None:
        where.append(Message.created_at > wanted.created_after)
    if wanted.created_before is not None:
        where.append(Message.created_at < wanted.created_before)
    if cursor:
        # Newest first is acceptance order (ids): the sender index the console uses too serves it.
        where.append(Message.id < decode_cursor(cursor)[1])
    if wanted.status is not None or wanted.recipient is not None:
        where += _a_recipient_matching(wanted, ports.phones.default_region)
    with UnitOfWork(ports.sessions) as uow:
        rows = list(uow.session.scalars(select(Message).where(*where)
                                        .order_by(Message.id.desc()).limit(limit + 1)))
        page = rows[:limit]
        counts = status_counts(uow.session, page)
    next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if len(rows) > limit else None
    return {"items": [{**_summary(m), "counts": counts[m.id]} for m in page], "next_cursor": next_cursor}


def recipients_page(ports: Ports, message_id: int, caller_id: int, caller_role: str, *, limit: int,
                    cursor: str | None) -> dict:
    """A message's recipients with their status, in the order they were
    written: `items` and `next_cursor`; for its sender or an admin.

    Raises:
        NotFound: anyone else.
        BadRequest: a cursor that is not one of ours.
    """
    with UnitOfWork(ports.sessions) as uow:
        message = uow.session.get(Message, message_id)
        if message is None or not (caller_role == "admin" or message.sender_id == caller_id):
            raise NotFound(f"no message {message_id}")
        after = decode_cursor(cursor)[1] if cursor else None
        items, more = recipients_after(uow.session, message, after, limit)
    last = items[-1] if items else None
    next_cursor = encode_cursor(message.created_at, last["delivery_id"]) if more and last else None
    return {"items": [_public(item) for item in items], "next_cursor": next_cursor}


def recipients_after(session: Session, message: Message, after_delivery: int | None,
                     limit: int) -> tuple[list[dict], bool]:
    """Up to `limit` recipients after a delivery id (with it, as `delivery_id`), and whether more follow."""
    where = [Delivery.message_id == message.id, Delivery.recipient_id != message.sender_id]
    if after_delivery is not None:
        where.append(Delivery.id > after_delivery)
    rows = session.execute(select(Delivery, User.phone).join(User, User.id == Delivery.recipient_id)
                           .where(*where).order_by(Delivery.id).limit(limit + 1)).all()
    return [recipient_view(d, phone, message.queued_at) for d, phone in rows[:limit]], len(rows) > limit


def first_recipients(session: Session, message: Message) -> tuple[list[dict], str | None]:
    """The recipients GET /v1/messages/{id} shows, and the cursor of the rest."""
    items, more = recipients_after(session, message, None, RECIPIENTS_SHOWN)
    cursor = encode_cursor(message.created_at, items[-1]["delivery_id"]) if more else None
    return [_public(item) for item in items], cursor


def status_counts(session: Session, messages: list[Message]) -> dict[int, dict[str, int]]:
    """Per message, how many recipients are in each status (every status named, zeros too)."""
    counts = {m.id: dict.fromkeys(status.ALL, 0) for m in messages}
    if not messages:
        return counts
    queued = {m.id for m in messages if m.queued_at is not None}
    rows = session.execute(
        select(Delivery.message_id, Delivery.status, func.count())
        .join(Message, Message.id == Delivery.message_id)
        .where(Delivery.message_id.in_(list(counts)), Delivery.recipient_id != Message.sender_id)
        .group_by(Delivery.message_id, Delivery.status))
    for message_id, state, count in rows:
        # `queued` is recorded once per message (outbox.mark_published), not per row.
        shown = status.QUEUED if state == status.ACCEPTED and message_id in queued else state
        counts[message_id][shown] += count
    return counts


def recipient_view(delivery: Delivery, phone: str | None, queued_at: datetime | None) -> dict:
    queued = delivery.status == status.ACCEPTED and queued_at is not None
    return {
        "delivery_id": delivery.id,
        "user_id": delivery.recipient_id,
        "phone": phone,
        "status": status.QUEUED if queued else delivery.status,
        "position": delivery.position,
        "accepted_at": iso(delivery.accepted_at),
        "queued_at": iso(delivery.queued_at or queued_at),
        "sent_at": iso(delivery.sent_at),
        "delivered_at": iso(delivery.delivered_at),
        "read_at": iso(delivery.read_at),
        "failed_at": iso(delivery.failed_at),
        "expired_at": iso(delivery.expired_at),
    }


def _public(item: dict) -> dict:
    return {k: v for k, v in item.items() if k != "delivery_id"}


def _summary(message: Message) -> dict:
    return {"id": message.id, "kind": message.kind, "body": None if message.deleted_at else message.body,
            "priority": message.priority, "created_at": iso(message.created_at), "queued_at": iso(message.queued_at),
            "send_at": iso(message.send_at), "expires_at": iso(message.expires_at),
            "recipient_count": len(message.recipient_ids)}


def _a_recipient_matching(wanted: SentFilter, region: str | None) -> list:
    """One recipient of the message is `recipient` (when given) and in `status`
    (when given): both on the same delivery row."""
    row = [Delivery.message_id == Message.id]
    message = []
    if wanted.recipient is not None:
        row.append(Delivery.recipient_id == _recipient_id(wanted.recipient, region))
    if wanted.status in (status.ACCEPTED, status.QUEUED):
        # As shown: `queued` is an accepted row of a message the broker took.
        row.append(Delivery.status.in_((status.ACCEPTED, status.QUEUED)))
        message.append(Message.queued_at.is_(None) if wanted.status == status.ACCEPTED
                       else Message.queued_at.is_not(None))
    elif wanted.status is not None:
        row.append(Delivery.status == wanted.status)
    return [exists().where(*row), *message]


def _recipient_id(recipient: str, region: str | None):
    """A user id, or the account of a number: "+" and the country code, or a
    national number (a leading 0; no user id has one).

    Raises:
        InvalidPhoneNumber: neither.
    """
    text = recipient.strip()
    if text.isdigit() and not text.startswith("0"):
        return int(text)
    return select(User.id).where(User.phone == normalize_phone(text, region)).scalar_subquery()
