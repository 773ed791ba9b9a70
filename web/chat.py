"""Use cases of the chat endpoints and socket frames, shared by HTTP and
WebSocket: each runs one unit of work, commits, then publishes. They take
the edge's resources explicitly: socket threads have no Flask context."""

from __future__ import annotations

from datetime import datetime, timezone

from db.actions.chat_messages import AcceptedChat, accept_chat
from db.actions.conversations import active_member_ids, check_can_send, conversation_for_member
from db.actions.events import queue_event
from db.actions.reads import advance_read_marker, unread_count
from db.engine import UnitOfWork


def _now() -> datetime:
    return datetime.now(timezone.utc)


def send_chat(res, user_id: int, conversation_id: int, body: str, client_msg_id: str | None,
              context: int | None = None) -> AcceptedChat:
    """Accept a chat message in a conversation the user belongs to."""
    now = _now()
    with UnitOfWork(res.sessions) as uow:
        conversation, _ = conversation_for_member(uow.session, conversation_id, user_id, context)
        check_can_send(uow.session, conversation, user_id)
        accepted = accept_chat(uow.session, conversation=conversation, sender_id=user_id, body=body,
                               client_msg_id=client_msg_id, partitions=res.settings.delivery_partitions,
                               now=now, sweep_grace_seconds=res.settings.outbox_sweep_after_seconds)
        uow.commit()
    res.publisher.submit(accepted.jobs)
    return accepted


def read_conversation(res, user_id: int, conversation_id: int, up_to_seq: int,
                      context: int | None = None) -> dict:
    """Move the read marker forward; members get a `receipt` event when it moved."""
    now = _now()
    jobs = []
    with UnitOfWork(res.sessions) as uow:
        conversation, member = conversation_for_member(uow.session, conversation_id, user_id, context)
        if advance_read_marker(uow.session, member, up_to_seq, conversation.last_seq, now):
            jobs.append(receipt_job(res.settings, uow.session, conversation_id, user_id, "read",
                                    member.read_seq, now))
        answer = {"conversation_id": conversation_id, "read_seq": member.read_seq,
                  "unread": unread_count(uow.session, conversation_id, user_id, member.read_seq)}
        uow.commit()
    res.publisher.submit(jobs)
    return answer


def receipt_job(settings, session, conversation_id: int, user_id: int, status: str, up_to_seq: int,
                now: datetime):
    return queue_event(session, conversation_id=conversation_id, kind="receipt",
                       payload={"user_id": user_id, "status": status, "up_to_seq": up_to_seq},
                       user_ids=active_member_ids(session, conversation_id),
                       partitions=settings.delivery_partitions, now=now,
                       sweep_grace_seconds=settings.outbox_sweep_after_seconds)
