"""A message's full story for the admin console: every recipient's
timeline, the pushes and the provider's answers, the jobs written for it,
its dead letters and what admins did with them — the answer to "why
wasn't this person notified".

A fixed number of queries, each bounded by the message (deliveries,
pushes and jobs by message id, indexed) and by RECIPIENTS for a broadcast;
for a one-way message whose sender has webhook endpoints, its
`message.status` events and their attempts (usecases.operations.message_webhooks).

Times: the deliveries table records accepted, sent, delivered, read,
failed and expired per recipient. `queued` is recorded once per message
(`messages.queued_at`, when RabbitMQ confirmed its delivery job) — the
job is one for all recipients, so that is every recipient's queued time
and no per-recipient statement is added (D56).
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import UnitOfWork
from db.models import (AuditEntry, Conversation, ConversationMember, DeadLetter, Delivery, Device, Message, Outbox,
                       Push, User)
from pipeline import status as statuses
from pipeline.diagnosis import PushFact, RecipientFacts, diagnose
from pipeline.errors import NotFound
from pipeline.timestamps import iso
from usecases.operations.dead_letter_search import letter_summary
from usecases.operations.dead_letters import DEAD
from usecases.operations.message_search import user_label
from usecases.operations.message_webhooks import message_webhooks
from usecases.ports import Ports

RECIPIENTS = 200
STEPS = ("accepted", "queued", "sent", "delivered", "read", "failed", "expired")


def message_story(ports: Ports, message_id: int, recipient: int | None = None) -> dict:
    """Everything recorded about one message; `recipient` narrows the
    timelines to one user (a broadcast's recipient found by phone).

    Raises:
        NotFound: no such message.
    """
    now = datetime.now(timezone.utc)
    with UnitOfWork(ports.sessions) as uow:
        session = uow.session
        row = session.execute(select(Message, User).join(User, User.id == Message.sender_id)
                              .where(Message.id == message_id)).first()
        if row is None:
            raise NotFound(f"message {message_id} does not exist")
        message, sender = row
        letters = _dead_letters(session, message.id)
        story = {"message": _message(session, message, sender), "jobs": _jobs(session, message.id),
                 "dead_letters": letters, "history": _history(session, message.id, [letter["id"] for letter in letters])}
        dead = sum(1 for letter in letters if letter["state"] == DEAD)
        story.update(_recipients(session, ports, message, recipient, dead, now))
        story["webhooks"] = None if message.conversation_id else message_webhooks(
            session, message.id, message.sender_id,
            {r["user_id"]: r["requeues"] for r in story["recipients"] if r["requeues"] is not None})
        return story


def _message(session: Session, message: Message, sender: User) -> dict:
    conversation = session.get(Conversation, message.conversation_id) if message.conversation_id else None
    return {
        "id": message.id, "kind": message.kind, "priority": message.priority,
        "body": None if message.deleted_at else message.body,
        "sender_id": sender.id, "sender": user_label(sender),
        "created_at": iso(message.created_at), "queued_at": iso(message.queued_at),
        "send_at": iso(message.send_at), "expires_at": iso(message.expires_at),
        "edited_at": iso(message.edited_at), "deleted_at": iso(message.deleted_at),
        "conversation_id": message.conversation_id, "seq": message.seq,
        "conversation": None if conversation is None else {
            "id": conversation.id, "kind": conversation.kind, "title": conversation.title,
            "status": conversation.status},
    }


def _recipients(session: Session, ports: Ports, message: Message, only: int | None, dead: int,
                now: datetime) -> dict:
    """The recipients' timelines, the sender's own copy left out."""
    where = [Delivery.message_id == message.id, Delivery.recipient_id != message.sender_id]
    if only is not None:
        where.append(Delivery.recipient_id == only)
    total = session.scalar(select(func.count()).select_from(Delivery).where(*where))
    counts = dict(session.execute(select(Delivery.status, func.count()).where(*where).group_by(Delivery.status)).all())
    rows = session.execute(select(Delivery, User).join(User, User.id == Delivery.recipient_id).where(*where)
                           .order_by(Delivery.recipient_id).limit(RECIPIENTS)).all()
    users = [(delivery.recipient_id, user, delivery) for delivery, user in rows]
    waiting = _members_without_rows(session, message, only) if message.conversation_id else []
    users += [(user.id, user, None) for user in waiting]
    ids = [user_id for user_id, _, _ in users]
    pushes, devices = _pushes(session, message.id, ids), _devices(session, ids)
    scheduled = message.send_at if message.send_at and message.send_at > now else None
    timelines = [_timeline(message, user, delivery, pushes.get(user.id, []), devices.get(user.id, 0), dead,
                           scheduled, ports.push.enabled) for _, user, delivery in users]
    if message.queued_at is not None and statuses.ACCEPTED in counts:
        counts[statuses.QUEUED] = counts.pop(statuses.ACCEPTED)
    return {"recipients": timelines, "recipient_total": total + len(waiting), "recipients_shown": len(timelines),
            "status_counts": [(s, counts[s]) for s in statuses.ALL if s in counts],
            "without_rows": len(waiting)}


def _members_without_rows(session: Session, message: Message, only: int | None) -> list[User]:
    """Chat: current members with no delivery row yet (the job has not run),
    the sender left out."""
    query = (select(User).join(ConversationMember, ConversationMember.user_id == User.id)
             .where(ConversationMember.conversation_id == message.conversation_id,
                    ConversationMember.left_at.is_(None), User.id != message.sender_id,
                    ~select(Delivery.id).where(Delivery.message_id == message.id,
                                               Delivery.recipient_id == User.id).exists())
             .order_by(User.id).limit(RECIPIENTS))
    if only is not None:
        query = query.where(User.id == only)
    return list(session.scalars(query))


def _pushes(session: Session, message_id: int, user_ids: list[int]) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = {}
    if not user_ids:
        return found
    for push, platform in session.execute(
            select(Push, Device.platform).outerjoin(Device, Device.id == Push.device_id)
            .where(Push.message_id == message_id, Push.user_id.in_(user_ids)).order_by(Push.id)):
        found.setdefault(push.user_id, []).append({
            "id": push.id, "device_id": push.device_id, "platform": platform or "removed device",
            "status": push.status, "attempts": push.attempts, "answer": push.last_error,
            "created_at": iso(push.created_at), "sent_at": iso(push.sent_at)})
    return found


def _devices(session: Session, user_ids: list[int]) -> dict[int, int]:
    if not user_ids:
        return {}
    return dict(session.execute(select(Device.user_id, func.count()).where(Device.user_id.in_(user_ids))
                                .group_by(Device.user_id)).all())


def _timeline(message: Message, user: User, delivery: Delivery | None, pushes: list[dict], devices: int,
              dead: int, scheduled: datetime | None, push_enabled: bool) -> dict:
    effective = None
    times = dict.fromkeys(STEPS)
    if delivery is not None:
        queued = delivery.status == statuses.ACCEPTED and message.queued_at is not None
        effective = statuses.QUEUED if queued else delivery.status
        times.update(accepted=iso(delivery.accepted_at), queued=iso(delivery.queued_at or message.queued_at),
                     sent=iso(delivery.sent_at), delivered=iso(delivery.delivered_at), read=iso(delivery.read_at),
                     failed=iso(delivery.failed_at), expired=iso(delivery.expired_at))
    facts = RecipientFacts(
        status=effective, placed=delivery is not None and delivery.position is not None,
        last_error=delivery.last_error if delivery else None,
        pushes=tuple(PushFact(p["status"], p["attempts"], p["answer"]) for p in pushes),
        devices=devices, dead_jobs=dead, scheduled_for=scheduled, push_enabled=push_enabled)
    why = diagnose(facts)
    return {"user_id": user.id, "user": user_label(user), "phone": user.phone, "status": effective or "no row yet",
            "position": delivery.position if delivery else None, "last_error": facts.last_error,
            "requeues": delivery.requeues if delivery else None,
            "steps": [(step, times[step]) for step in STEPS if times[step]], "pushes": pushes, "devices": devices,
            "why": {"tone": why.tone, "text": why.text, "hints": list(why.hints)}}


def _jobs(session: Session, message_id: int) -> list[dict]:
    """The outbox rows written for the message: its delivery job, its push
    jobs (and requeues), when each was written and published."""
    return [{"id": job.id, "queue": job.queue_name, "actor": job.actor_name, "args": job.args,
             "created_at": iso(job.created_at), "available_at": iso(job.available_at),
             "published_at": iso(job.published_at)}
            for job in session.scalars(select(Outbox).where(Outbox.message_id == message_id)
                                       .order_by(Outbox.id).limit(100))]


def _dead_letters(session: Session, message_id: int) -> list[dict]:
    return [letter_summary(letter) for letter in session.scalars(
        select(DeadLetter).where(DeadLetter.message_id == message_id).order_by(DeadLetter.id).limit(100))]


def _history(session: Session, message_id: int, letter_ids: list[int]) -> list[dict]:
    """What admins did about the message: requeues and discards of its dead
    letters, deliveries reset (the audit log)."""
    about = (AuditEntry.target_type == "message") & (AuditEntry.target_id == str(message_id))
    if letter_ids:
        about |= (AuditEntry.target_type == "dead_letter") & AuditEntry.target_id.in_([str(i) for i in letter_ids])
    return [{"created_at": iso(entry.created_at), "action": entry.action,
             "target": f"{entry.target_type} {entry.target_id}", "actor_id": entry.actor_id,
             "via": (entry.details or {}).get("via")}
            for entry in session.scalars(select(AuditEntry).where(about).order_by(AuditEntry.id).limit(200))]
