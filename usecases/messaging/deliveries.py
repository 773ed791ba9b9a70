"""Delivery rows: positions in the recipient's stream, and status changes
that only move forward (pipeline.status)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import NamedTuple
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from db.sql import update_rows
from usecases.messaging.stream import message_payload, set_last_positions
from usecases.operations.dead_letters import record_unplaceable
from usecases.webhooks.status_events import (ConversationMessage, StatusChange, member_webhooked, report_changes,
                                             returning_flagged, webhooked)
from db.models import Delivery, Device, Message, Stream, User
from pipeline import status
from pipeline.schedule import is_expired

log = logging.getLogger(__name__)

# Worker and edge clocks may differ a little; a message due within this
# margin is treated as due.
CLOCK_SKEW = timedelta(seconds=5)


@dataclass(frozen=True)
class Positioned:
    recipient_id: int
    position: int
    payload: dict
    # Whether the recipient had a push device when placed (read with the
    # pending deliveries, for the push planner: no statement of its own).
    has_device: bool = True
    # From acceptance (or the scheduled time) to placing: the metrics' accept→sent.
    waited_seconds: float = 0.0


class _Sender(NamedTuple):
    id: int
    name: str | None
    role: str


# The columns message_payload reads (by these names), and the sender's.
_MESSAGE_COLUMNS = (Message.id, Message.kind, Message.conversation_id, Message.seq, Message.body,
                    Message.priority, Message.created_at, Message.edited_at, Message.deleted_at,
                    Message.expires_at, Message.send_at, Message.sender_id, User.name.label("sender_name"),
                    User.role.label("sender_role"))
_UNPLACEABLE = object()


def position_pending(session: Session, last: dict[int, int], up_to_message_id: int,
                     now: datetime, changes: list[StatusChange] | None = None,
                     chat_events: list[ConversationMessage] | None = None) -> list[Positioned]:
    """Give every unpositioned delivery of the recipients up to this message a
    stream position, in acceptance (message id) order per recipient, and
    mark it sent. `last` is {recipient: last position} of the recipients'
    streams, locked by the caller (usecases.messaging.stream.lock_streams:
    one statement, user-id order).

    The pending deliveries are read in one query, positions counted here and
    written in one statement, and the streams' ends in one more.

    Whichever job runs first positions the earlier messages too, so the
    stream keeps acceptance order whatever the worker concurrency; a
    redelivered job finds nothing left to do. Scheduled messages not yet
    due are left for their own job; expired ones become `expired` instead.
    A message that cannot be evaluated becomes a dead letter of its own
    (record_unplaceable) rather than failing the job, which would hold back
    every other message of the recipient until they all were dead letters.
    A chat message's copy in its own sender's stream (for their other
    devices) is `read` as it is placed: it needs no receipt. One-way
    deliveries whose sender has a webhook endpoint append their change to
    `changes`, chat messages placed for a member who has one append to
    `chat_events` (the caller writes the events, same transaction).
    """
    changes = [] if changes is None else changes
    chat_events = [] if chat_events is None else chat_events
    last = dict(last)
    payloads: dict[int, object] = {}
    placed, expired = [], []
    positioned: list[Positioned] = []
    for delivery_id, recipient_id, has_device, message in _pending(session, sorted(last), up_to_message_id, now):
        if message.id not in payloads:
            payloads[message.id] = _evaluate(session, message, now)
        payload = payloads[message.id]
        if payload is _UNPLACEABLE:
            continue  # its dead letter fails (and reports) its deliveries
        if message.webhooked:
            changes.append(StatusChange(message.id, recipient_id, status.EXPIRED if payload is None else status.SENT,
                                        now, message.requeues))
        if payload is None:
            expired.append(delivery_id)
            continue
        last[recipient_id] += 1
        own = message.conversation_id is not None and message.sender_id == recipient_id
        # Unplaced deliveries never have delivered_at / read_at: writing
        # None for the others changes nothing.
        placed.append({"id": delivery_id, "position": last[recipient_id],
                       "status": status.READ if own else status.SENT, "sent_at": now,
                       "delivered_at": now if own else None, "read_at": now if own else None})
        due = max(message.created_at, message.send_at or message.created_at)
        positioned.append(Positioned(recipient_id, last[recipient_id], payload, has_device,
                                     (now - due).total_seconds()))
        if message.member_webhooked and not own and message.conversation_id is not None:
            chat_events.append(ConversationMessage(recipient_id, payload))
    update_rows(session, Delivery, "id", placed)
    if expired:
        session.execute(update(Delivery).where(Delivery.id.in_(expired))
                        .values(status=status.EXPIRED, expired_at=now))
    set_last_positions(session, {item.recipient_id: last[item.recipient_id] for item in positioned})
    return positioned


def _evaluate(session: Session, message, now: datetime):
    """The frame's message, None when it has expired, _UNPLACEABLE when it
    cannot be evaluated (recorded as its own dead letter)."""
    try:
        return _payload_unless_expired(message, _Sender(message.sender_id, message.sender_name,
                                                        message.sender_role), now)
    except Exception as error:
        log.exception("message %s cannot be placed; recorded as a dead letter", message.id)
        record_unplaceable(session, session.get(Message, message.id), error, now)
        return _UNPLACEABLE


def _payload_unless_expired(message, sender, now: datetime) -> dict | None:
    """The frame's message, or None when the message has expired."""
    if is_expired(message.expires_at, now):
        return None
    return message_payload(message, sender)


def _pending(session: Session, recipient_ids: list[int], up_to_message_id: int, now: datetime):
    """(delivery id, recipient, whether they have a device, message columns)
    of every unplaced delivery of the recipients up to the message, by
    recipient then acceptance."""
    if not recipient_ids:
        return []
    rows = session.execute(
        select(Delivery.id.label("delivery_id"), Delivery.recipient_id,
               select(Device.id).where(Device.user_id == Delivery.recipient_id).exists().label("has_device"),
               Delivery.requeues, webhooked(Delivery.message_id).label("webhooked"),
               member_webhooked(Delivery.recipient_id).label("member_webhooked"), *_MESSAGE_COLUMNS)
        .join(Message, Message.id == Delivery.message_id)
        .join(User, User.id == Message.sender_id)
        .where(Delivery.recipient_id.in_(recipient_ids), Delivery.position.is_(None),
               Delivery.message_id <= up_to_message_id,
               Delivery.status.in_(status.predecessors(status.SENT)),
               or_(Message.send_at.is_(None), Message.send_at <= now + CLOCK_SKEW))
        .order_by(Delivery.recipient_id, Delivery.message_id)
    ).all()
    return [(row.delivery_id, row.recipient_id, bool(row.has_device), row) for row in rows]


def expire_overdue(session: Session, now: datetime) -> int:
    """Undelivered deliveries of expired messages become `expired` (never delivered after)."""
    expired = select(Message.id).where(Message.expires_at <= now)
    deliveries = Delivery.__table__
    rows = returning_flagged(session, update(deliveries).where(
        deliveries.c.message_id.in_(expired), deliveries.c.status.in_(status.predecessors(status.EXPIRED)))
        .values(status=status.EXPIRED, expired_at=now),
        deliveries.c.message_id, deliveries.c.message_id, deliveries.c.recipient_id, deliveries.c.requeues)
    report_changes(session, [StatusChange(row.message_id, row.recipient_id, status.EXPIRED, now, row.requeues)
                             for row in rows if row.webhooked], now)
    return len(rows)


def mark_delivered(session: Session, user_id: int, up_to_position: int, now: datetime,
                   conversation_id: int | None = None) -> list[int]:
    """A cumulative ack: everything up to the position reached the device;
    the ids of the messages it marked."""
    return mark_delivered_with_receipts(session, user_id, up_to_position, now, conversation_id)[0]


def mark_delivered_with_receipts(session: Session, user_id: int, up_to_position: int, now: datetime,
                                 conversation_id: int | None = None,
                                 changes: list[StatusChange] | None = None
                                 ) -> tuple[list[int], dict[int, int], list[tuple[str, str, datetime | None]]]:
    """`mark_delivered`, and for the chat messages it marked (not the user's
    own): conversation → highest seq, what the senders' receipts say; and
    (kind, priority, sent_at) of each copy marked, for the metrics (returned
    by the same statement).

    The stream row is locked first, as the delivery actor does, so the two
    never wait on each other in opposite orders (deadlock). On PostgreSQL one
    statement: the deliveries' UPDATE finds its recipient through the stream's
    UPDATE (a CTE read by an InitPlan), so the stream row is locked before the
    scan of the deliveries starts, and returns its messages' conversation and
    seq (UPDATE … FROM messages). SQLite: three statements, in-process.
    Each row also says whether its sender has a webhook endpoint; those
    changes are appended to `changes` (the caller writes their events).
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    greatest = func.greatest if postgres else func.max
    # Core tables: the ORM's bulk UPDATE takes neither the CTE nor RETURNING from another table.
    streams, deliveries, messages = Stream.__table__, Delivery.__table__, Message.__table__
    acked = (update(streams).where(streams.c.user_id == user_id)
             .values(acked_position=greatest(streams.c.acked_position, up_to_position)))
    if postgres:
        acked = acked.returning(streams.c.user_id).cte("acked")
        recipient = select(acked.c.user_id).scalar_subquery()
    else:
        session.execute(acked)
        recipient = user_id
    statement = (update(deliveries).where(deliveries.c.recipient_id == recipient,
                                          deliveries.c.position <= up_to_position,
                                          deliveries.c.status.in_(status.predecessors(status.DELIVERED)),
                                          *_in_conversation(conversation_id))
                 .values(status=status.DELIVERED, delivered_at=now))
    if not postgres:
        marked = returning_flagged(session, statement, deliveries.c.message_id, deliveries.c.message_id,
                                   deliveries.c.requeues, deliveries.c.sent_at)
        sent = {row.message_id: row.sent_at for row in marked}
        ids = list(sent)
        rows = session.execute(select(messages.c.id, messages.c.conversation_id, messages.c.seq,
                                      messages.c.sender_id, messages.c.kind, messages.c.priority)
                               .where(messages.c.id.in_(ids))).all() if ids else []
        copies = [(row.kind, row.priority, sent[row.id]) for row in rows]
    else:
        rows = marked = session.execute(statement.where(deliveries.c.message_id == messages.c.id).add_cte(acked)
                                        .returning(deliveries.c.message_id, messages.c.conversation_id,
                                                   messages.c.seq, messages.c.sender_id, messages.c.kind,
                                                   messages.c.priority, deliveries.c.sent_at, deliveries.c.requeues,
                                                   webhooked(deliveries.c.message_id).label("webhooked"))).all()
        ids = [row.message_id for row in rows]
        copies = [(row.kind, row.priority, row.sent_at) for row in rows]
    if changes is not None:
        changes.extend(StatusChange(row.message_id, user_id, status.DELIVERED, now, row.requeues)
                       for row in marked if row.webhooked)
    upto: dict[int, int] = {}
    for row in rows:
        if row.conversation_id is not None and row.sender_id != user_id:
            upto[row.conversation_id] = max(upto.get(row.conversation_id, 0), row.seq)
    return ids, upto, copies


def mark_read(session: Session, user_id: int, up_to_position: int, now: datetime,
              conversation_id: int | None = None, changes: list[StatusChange] | None = None) -> int:
    """A read marker: everything up to the position was read (and so
    delivered); how many deliveries it marked."""
    return len(mark_read_copies(session, user_id, up_to_position, now, conversation_id, changes))


def mark_read_copies(session: Session, user_id: int, up_to_position: int, now: datetime,
                     conversation_id: int | None = None,
                     changes: list[StatusChange] | None = None) -> list[tuple[str, str]]:
    """`mark_read`, answering (kind, priority) of each copy it marked, for the
    metrics: returned by the same statement (UPDATE … FROM messages).
    Changes of senders with a webhook endpoint go to `changes`; a delivery
    that was never `delivered` reports both steps (its delivered_at is set
    to now here)."""
    deliveries, messages = Delivery.__table__, Message.__table__
    postgres = session.get_bind().dialect.name == "postgresql"
    # SQLite's RETURNING cannot name an UPDATE … FROM table: there the kinds
    # come from a SELECT after (in-process, no round trip).
    joined = [deliveries.c.message_id == messages.c.id] if postgres else []
    extra = [messages.c.kind, messages.c.priority] if postgres else []
    rows = returning_flagged(session, update(deliveries).where(
        deliveries.c.recipient_id == user_id, deliveries.c.position <= up_to_position,
        deliveries.c.status.in_(status.predecessors(status.READ)), *joined, *_in_conversation(conversation_id))
        .values(status=status.READ, read_at=now, delivered_at=func.coalesce(deliveries.c.delivered_at, now)),
        deliveries.c.message_id, deliveries.c.message_id, deliveries.c.delivered_at, deliveries.c.requeues, *extra)
    if postgres:
        copies = [(row.kind, row.priority) for row in rows]
    else:
        kinds = {row.id: (row.kind, row.priority) for row in session.execute(
            select(messages.c.id, messages.c.kind, messages.c.priority)
            .where(messages.c.id.in_([row.message_id for row in rows])))} if rows else {}
        copies = [kinds[row.message_id] for row in rows]
    if changes is not None:
        changes.extend(StatusChange(row.message_id, user_id, status.READ, now, row.requeues,
                                    skipped_delivered=row.delivered_at == now)
                       for row in rows if row.webhooked)
    return copies


def _in_conversation(conversation_id: int | None) -> list:
    """A scoped token's acks cover only its conversation's messages."""
    if conversation_id is None:
        return []
    return [Delivery.message_id.in_(select(Message.id).where(Message.conversation_id == conversation_id))]
