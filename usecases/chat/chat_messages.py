"""Chat messages: accepted with their conversation sequence number, fanned
out to the members by a worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.models import Conversation, Message
from db.sql import is_postgresql
from pipeline.errors import Conflict
from pipeline.contract import DELIVER_MESSAGE, NORMAL, conversation_queue
from pipeline.jobs import Job, JobSpec
from usecases.outbox import write_job
from usecases.ports import OutboxPolicy

CLIENT_ID_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class SentMessage:
    """What the sender is answered about an accepted chat message."""

    id: int
    conversation_id: int
    seq: int
    client_msg_id: str | None


@dataclass(frozen=True)
class AcceptedChat:
    message: SentMessage
    jobs: list[Job]
    replayed: bool


def previous_send(session: Session, sender_id: int, client_msg_id: str, now: datetime) -> Message | None:
    """The message this client id already created in the last 24 hours."""
    return session.scalars(select(Message).where(
        Message.sender_id == sender_id, Message.client_msg_id == client_msg_id,
        Message.created_at > now - CLIENT_ID_LIFETIME)).one_or_none()


def next_seq(session: Session, conversation_id: int, now: datetime) -> int:
    """The conversation's next sequence number, under its row lock until commit:
    gap-free, in acceptance order."""
    return session.execute(_bump_seq(conversation_id, now).returning(Conversation.last_seq)).scalar_one()


def _bump_seq(conversation_id: int, now: datetime):
    return (update(Conversation).where(Conversation.id == conversation_id)
            .values(last_seq=Conversation.last_seq + 1, last_message_at=now))


def accept_chat(session: Session, *, conversation_id: int, sender_id: int, body: str,
                client_msg_id: str | None, policy: OutboxPolicy, now: datetime) -> AcceptedChat:
    """Record a chat message and the job that delivers it (a resend of the
    same `client_msg_id` returns the first message and no job).

    The seq is taken and the message inserted in one statement on PostgreSQL
    (two on SQLite). A resend loses on the (sender, client id) unique index
    after taking a seq: it gives the seq back under the same row lock, so
    seq stays gap-free (D21) — only a resend pays the extra statements.

    Raises:
        Conflict: the client id named a message older than 24 hours.
    """
    inserted = _insert(session, conversation_id, sender_id, body, client_msg_id, now)
    if inserted is None:
        session.execute(update(Conversation).where(Conversation.id == conversation_id)
                        .values(last_seq=Conversation.last_seq - 1))
        earlier = previous_send(session, sender_id, client_msg_id or "", now)
        if earlier is None:
            raise Conflict("client_msg_id was used more than 24 hours ago")
        return AcceptedChat(SentMessage(earlier.id, earlier.conversation_id, earlier.seq, earlier.client_msg_id),
                            [], True)
    message_id, seq = inserted
    spec = JobSpec(conversation_queue(conversation_id, policy.partitions), DELIVER_MESSAGE, (message_id,),
                   message_id=message_id)
    return AcceptedChat(SentMessage(message_id, conversation_id, seq, client_msg_id),
                        write_job(session, spec, now, policy), False)


def _insert(session: Session, conversation_id: int, sender_id: int, body: str, client_msg_id: str | None,
            now: datetime) -> tuple[int, int] | None:
    """(id, seq) of the new message, or None when the client id was taken."""
    values = {"sender_id": sender_id, "kind": "chat", "body": body, "priority": NORMAL, "recipient_ids": [],
              "created_at": now, "conversation_id": conversation_id, "client_msg_id": client_msg_id}
    if is_postgresql(session):
        bumped = _bump_seq(conversation_id, now).returning(Conversation.last_seq).cte("bumped")
        columns = [*values, "seq"]
        source = select(*(literal(value, Message.__table__.c[name].type) for name, value in values.items()),
                        bumped.c.last_seq)
        statement = postgresql.insert(Message).from_select(columns, source).add_cte(bumped)
    else:
        values["seq"] = next_seq(session, conversation_id, now)
        statement = sqlite.insert(Message).values(values)
    statement = statement.on_conflict_do_nothing(index_elements=["sender_id", "client_msg_id"])
    row = session.execute(statement.returning(Message.id, Message.seq)).first()
    return None if row is None else (row.id, row.seq)


def history(session: Session, conversation_id: int, *, before: int | None, after: int | None,
            limit: int) -> list[Message]:
    """Messages by seq: the newest `limit` before `before`, or the oldest after `after`.

    Stable under concurrent inserts: pages are bounded by seq, not offsets.
    """
    query = select(Message).where(Message.conversation_id == conversation_id)
    if after is not None:
        rows = session.scalars(query.where(Message.seq > after).order_by(Message.seq).limit(limit)).all()
        return list(rows)
    if before is not None:
        query = query.where(Message.seq < before)
    rows = session.scalars(query.order_by(Message.seq.desc()).limit(limit)).all()
    return list(reversed(rows))
