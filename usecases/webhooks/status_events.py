"""`message.status` events, written in the transaction of the status change.

The hot path pays nothing when the sender has no endpoint: the statements
that change statuses already return, per row, whether the message's sender
has an enabled endpoint (`webhooked`, a correlated EXISTS on an indexed
column); only flagged changes reach `write_status_events`, which costs
three statements (endpoints, phones, one multi-row insert) plus the outbox
row that wakes each endpoint's dispatcher.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from types import SimpleNamespace
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.orm import Session

from db.models import Message, User, WebhookEndpoint, WebhookEvent
from db.sql import insert_ignoring_conflicts_returning, is_postgresql
from pipeline.contract import DELIVER_WEBHOOKS, WEBHOOKS_QUEUE
from pipeline.jobs import Job, JobSpec
from pipeline.webhook_events import CONVERSATION_MESSAGE, MESSAGE_STATUS, reached, status_data, status_sequence
from usecases.outbox import write_jobs
from usecases.ports import OutboxPolicy

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True)
class StatusChange:
    """One delivery's status moved to `status` at `at`."""

    message_id: int
    recipient_id: int
    status: str
    at: datetime
    requeues: int = 0
    skipped_delivered: bool = False  # a `read` that was never `delivered` before


def webhooked(message_id: ColumnElement) -> ColumnElement:
    """Per row: the message is one-way and its sender has an enabled endpoint.
    Aliased: SQLite renders RETURNING columns unqualified, so the subquery's
    own columns must not share names with the updated table's."""
    message, endpoint = Message.__table__.alias("wh_m"), WebhookEndpoint.__table__.alias("wh_e")
    return exists().where(message.c.id == message_id, message.c.conversation_id.is_(None),
                          endpoint.c.user_id == message.c.sender_id, endpoint.c.enabled)


def returning_flagged(session: Session, statement, message_id: ColumnElement, *columns) -> list:
    """Run an UPDATE of deliveries returning `columns` and, per row,
    `webhooked`. PostgreSQL: in the same statement. SQLite renders RETURNING
    columns unqualified, which makes the correlated EXISTS ambiguous there,
    so one SELECT follows (in-process, no round trip)."""
    if is_postgresql(session):
        return session.execute(statement.returning(*columns, webhooked(message_id).label("webhooked"))).all()
    rows = session.execute(statement.returning(message_id.label("flag_message_id"), *columns)).all()
    ids = {row.flag_message_id for row in rows}
    hooked = set(session.scalars(
        select(Message.id).join(WebhookEndpoint, and_(WebhookEndpoint.user_id == Message.sender_id,
                                                      WebhookEndpoint.enabled))
        .where(Message.id.in_(ids), Message.conversation_id.is_(None)))) if ids else set()
    return [SimpleNamespace(**dict(row._mapping), webhooked=row.flag_message_id in hooked) for row in rows]


def member_webhooked(recipient_id: ColumnElement) -> ColumnElement:
    """Per row: the recipient has an enabled endpoint (for `conversation.message`)."""
    endpoint = WebhookEndpoint.__table__.alias("wh_r")
    return exists().where(endpoint.c.user_id == recipient_id, endpoint.c.enabled)


@dataclass(frozen=True)
class ConversationMessage:
    """A chat message placed in the stream of a member who has an endpoint."""

    recipient_id: int
    message: dict  # the frame's message (usecases.messaging.stream.message_payload)


def write_conversation_events(session: Session, items: list[ConversationMessage], now: datetime) -> list[int]:
    """`conversation.message` events for the members' subscribed endpoints
    (one statement to find them, one insert); the endpoints that got one.
    `sequence` is the message's seq in its conversation."""
    if not items:
        return []
    endpoints: dict[int, list[int]] = {}
    for endpoint_id, user_id, kinds in session.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.user_id, WebhookEndpoint.events)
            .where(WebhookEndpoint.user_id.in_(sorted({i.recipient_id for i in items})), WebhookEndpoint.enabled)
            .order_by(WebhookEndpoint.id)):
        if CONVERSATION_MESSAGE in kinds:
            endpoints.setdefault(user_id, []).append(endpoint_id)
    rows = [{"endpoint_id": endpoint_id, "public_id": new_event_id(), "kind": CONVERSATION_MESSAGE,
             "sequence": item.message["seq"], "data": {"conversation_id": item.message["conversation_id"],
                                                      "message": item.message},
             "dedup_key": f"conversation:{item.message['id']}", "state": PENDING, "attempts": 0,
             "created_at": now, "next_attempt_at": now}
            for item in items for endpoint_id in endpoints.get(item.recipient_id, ())]
    inserted = insert_ignoring_conflicts_returning(session, WebhookEvent, rows, ["endpoint_id", "dedup_key"],
                                                   [WebhookEvent.endpoint_id])
    return sorted({row[0] for row in inserted})


def status_dedup_key(message_id: int, recipient_id: int, sequence: int) -> str:
    """What makes a `message.status` event unique per endpoint; the admin
    console finds a message's events by it (an exact match on the index)."""
    return f"status:{message_id}:{recipient_id}:{sequence}"


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


def write_status_events(session: Session, changes: list[StatusChange], now: datetime) -> list[int]:
    """Event rows for every subscribed endpoint of the changes' senders, in
    (message, recipient, sequence) order; the endpoints that got one. A
    change written twice (a redelivered job, an ack and a read marker in one
    burst) is one event: rows are unique per endpoint and status step."""
    if not changes:
        return []
    message_ids = sorted({c.message_id for c in changes})
    endpoints: dict[int, list[int]] = {}
    for message_id, endpoint_id, kinds in session.execute(
            select(Message.id, WebhookEndpoint.id, WebhookEndpoint.events)
            .join(WebhookEndpoint, and_(WebhookEndpoint.user_id == Message.sender_id, WebhookEndpoint.enabled))
            .where(Message.id.in_(message_ids), Message.conversation_id.is_(None))
            .order_by(WebhookEndpoint.id)):
        if MESSAGE_STATUS in kinds:
            endpoints.setdefault(message_id, []).append(endpoint_id)
    if not endpoints:
        return []
    recipients = sorted({c.recipient_id for c in changes if c.message_id in endpoints})
    phones = dict(session.execute(select(User.id, User.phone).where(User.id.in_(recipients))).all())
    rows = []
    for change in sorted(changes, key=lambda c: (c.message_id, c.recipient_id, status_sequence(c.status, c.requeues))):
        for step in reached(change.status, change.skipped_delivered):
            sequence = status_sequence(step, change.requeues)
            data = status_data(change.message_id, change.recipient_id, phones.get(change.recipient_id), step,
                               change.at)
            for endpoint_id in endpoints.get(change.message_id, ()):
                rows.append({"endpoint_id": endpoint_id, "public_id": new_event_id(), "kind": MESSAGE_STATUS,
                             "sequence": sequence, "data": data,
                             "dedup_key": status_dedup_key(change.message_id, change.recipient_id, sequence),
                             "state": PENDING, "attempts": 0, "created_at": now, "next_attempt_at": now})
    inserted = insert_ignoring_conflicts_returning(session, WebhookEvent, rows, ["endpoint_id", "dedup_key"],
                                                   [WebhookEvent.endpoint_id])
    return sorted({row[0] for row in inserted})


def wake_jobs(session: Session, endpoint_ids: list[int], now: datetime, policy: OutboxPolicy) -> list[Job]:
    """One dispatcher job per endpoint, through the outbox (same transaction)."""
    return write_jobs(session, [JobSpec(WEBHOOKS_QUEUE, DELIVER_WEBHOOKS, (endpoint_id,))
                                for endpoint_id in endpoint_ids], now, policy)


def status_event_jobs(session: Session, changes: list[StatusChange], now: datetime, policy: OutboxPolicy,
                      conversation_messages: list[ConversationMessage] = ()) -> list[Job]:
    """Write the changes' (and chat messages') events and the jobs that send
    them; no statement when there is nothing to report."""
    if not changes and not conversation_messages:
        return []
    woken = set(write_status_events(session, changes, now))
    woken.update(write_conversation_events(session, list(conversation_messages), now))
    return wake_jobs(session, sorted(woken), now, policy)


def report_changes(session: Session, changes: list[StatusChange], now: datetime) -> None:
    """For the rare paths (expiry, dead letters), which publish nothing
    themselves: events and their jobs are written, and the sweeper's next
    tick publishes the jobs (no grace to wait for)."""
    status_event_jobs(session, changes, now, OutboxPolicy(grace_seconds=0))
