"""Chat messages: accepted with their conversation sequence number, fanned
out to the members by a worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import Conversation, Message
from pipeline.contract import DELIVER_MESSAGE, NORMAL, conversation_queue
from pipeline.jobs import Job, JobSpec
from usecases.outbox import write_job
from usecases.ports import OutboxPolicy

CLIENT_ID_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class AcceptedChat:
    message: Message
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
    return session.execute(
        update(Conversation).where(Conversation.id == conversation_id)
        .values(last_seq=Conversation.last_seq + 1, last_message_at=now)
        .returning(Conversation.last_seq)).scalar_one()


def accept_chat(session: Session, *, conversation: Conversation, sender_id: int, body: str,
                client_msg_id: str | None, policy: OutboxPolicy, now: datetime) -> AcceptedChat:
    """Record a chat message and the job that delivers it (a resend of the
    same `client_msg_id` returns the first message and no job)."""
    if client_msg_id is not None:
        earlier = previous_send(session, sender_id, client_msg_id, now)
        if earlier is not None:
            return AcceptedChat(earlier, [], True)
    try:
        # A savepoint: if a concurrent resend of the same client id wins,
        # the seq we took is given back too, so seq stays gap-free.
        with session.begin_nested():
            message = _insert(session, conversation.id, sender_id, body, client_msg_id, now)
    except IntegrityError:
        earlier = previous_send(session, sender_id, client_msg_id or "", now)
        if earlier is None:
            raise
        return AcceptedChat(earlier, [], True)
    spec = JobSpec(conversation_queue(conversation.id, policy.partitions), DELIVER_MESSAGE, (message.id,),
                   message_id=message.id)
    return AcceptedChat(message, write_job(session, spec, now, policy), False)


def _insert(session: Session, conversation_id: int, sender_id: int, body: str, client_msg_id: str | None,
            now: datetime) -> Message:
    seq = next_seq(session, conversation_id, now)
    message = Message(sender_id=sender_id, kind="chat", body=body, priority=NORMAL, recipient_ids=[],
                      created_at=now, conversation_id=conversation_id, seq=seq, client_msg_id=client_msg_id)
    session.add(message)
    session.flush()
    return message


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
