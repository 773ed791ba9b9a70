"""Sending and reading in a conversation, shared by HTTP and WebSocket:
each runs one unit of work, commits, then publishes."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session

from pipeline.errors import ValidationFailed
from pipeline.jobs import Job
from usecases.chat.chat_messages import AcceptedChat, accept_chat
from usecases.chat.conversations import active_member_ids, check_sendable, conversation_for_member
from usecases.chat.events import queue_event
from usecases.chat.reads import advance_read_marker, unread_count
from usecases.ports import OutboxPolicy, Ports
from db.engine import UnitOfWork


def send_chat(ports: Ports, user_id: int, conversation_id: int, body: str, client_msg_id: str | None,
              context: int | None = None) -> AcceptedChat:
    """Accept a chat message in a conversation the user belongs to: three
    statements (may send? seq and message; outbox row) and one commit.

    Raises:
        NotFound: not a member (or the token is scoped to another conversation).
        CannotMessage, ConversationClosed: the conversation takes no message now.
        ValidationFailed: the body is longer than the policy allows.
    """
    if len(body) > ports.chat.max_body_chars:
        raise ValidationFailed(f"body is limited to {ports.chat.max_body_chars} characters")
    now = datetime.now(timezone.utc)
    with UnitOfWork(ports.sessions) as uow:
        check_sendable(uow.session, conversation_id, user_id, context)
        accepted = accept_chat(uow.session, conversation_id=conversation_id, sender_id=user_id, body=body,
                               client_msg_id=client_msg_id, policy=ports.outbox, now=now)
        uow.commit()
    if not accepted.replayed:
        ports.meter.accepted("chat", "normal")
    ports.publisher.submit(accepted.jobs)
    return accepted


def read_conversation(ports: Ports, user_id: int, conversation_id: int, up_to_seq: int,
                      context: int | None = None) -> dict:
    """Move the read marker forward; members get a `receipt` event when it moved."""
    now = datetime.now(timezone.utc)
    jobs = []
    with UnitOfWork(ports.sessions) as uow:
        conversation, member = conversation_for_member(uow.session, conversation_id, user_id, context)
        if advance_read_marker(uow.session, member, up_to_seq, conversation.last_seq, now):
            jobs.append(receipt_job(uow.session, ports.outbox, conversation_id, user_id, "read",
                                    member.read_seq, now))
        answer = {"conversation_id": conversation_id, "read_seq": member.read_seq,
                  "unread": unread_count(uow.session, conversation_id, user_id, member.read_seq)}
        uow.commit()
    ports.publisher.submit(jobs)
    return answer


def receipt_job(session: Session, policy: OutboxPolicy, conversation_id: int, user_id: int, status: str,
                up_to_seq: int, now: datetime) -> Job:
    """The `receipt` event telling the conversation's members how far `user_id` got."""
    return queue_event(session, conversation_id=conversation_id, kind="receipt",
                       payload={"user_id": user_id, "status": status, "up_to_seq": up_to_seq},
                       user_ids=active_member_ids(session, conversation_id), policy=policy, now=now)
