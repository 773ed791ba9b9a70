"""The one-way send of the API, and what its sender (or a recipient) may
ask of a one-way message afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from db.engine import UnitOfWork
from db.models import Delivery, Message
from pipeline.errors import NotFound, ReplyNotAllowed
from usecases.messaging.idempotency import RequestKey, remember, replay_of
from usecases.messaging.messages import Schedule, accept_oneway, message_status
from usecases.ports import Ports


@dataclass(frozen=True)
class OnewayRequest:
    sender_id: int
    targets: list[str | int]
    body: str
    priority: str
    schedule: Schedule = Schedule()


@dataclass(frozen=True)
class OnewayAnswer:
    """What the edge answers: the stored one when `replayed`."""

    status_code: int
    answer: dict
    replayed: bool = False


def accept_oneway_request(ports: Ports, request: OnewayRequest, key: RequestKey | None,
                          now: datetime) -> OnewayAnswer:
    """Accept (or replay) a one-way send: message, deliveries, outbox row and
    the key's answer in one commit, then publish; 202 means committed.

    Raises:
        NotFound: the sender's account is gone.
        RecipientNotFound, InvalidPhoneNumber: a target is not a mobile user.
        IdempotencyKeyReused, IdempotencyKeyInFlight.
    """
    with UnitOfWork(ports.sessions) as uow:
        if (replay := replay_of(uow.session, key, now)) is not None:
            return OnewayAnswer(replay.status_code, replay.response, replayed=True)
        accepted = accept_oneway(uow.session, sender_id=request.sender_id, targets=request.targets,
                                 body=request.body, priority=request.priority, policy=ports.outbox, now=now,
                                 schedule=request.schedule, region=ports.phones.default_region)
        answer = {"id": accepted.message_id, "status": "accepted"}
        remember(uow.session, key, 202, answer)
        uow.commit()
    ports.meter.accepted("oneway", request.priority)
    ports.publisher.submit(accepted.jobs)
    return OnewayAnswer(202, answer)


def message_status_for(ports: Ports, message_id: int, caller_id: int, caller_role: str, scope: int | None) -> dict:
    """The message and each recipient's status, for its sender or an admin.

    Raises:
        NotFound: anyone else, or a token scoped to another conversation (D24).
    """
    with UnitOfWork(ports.sessions) as uow:
        message = uow.session.get(Message, message_id)
        may_read = message is not None and (caller_role == "admin" or message.sender_id == caller_id)
        if not may_read or not _in_scope(message, scope):
            raise NotFound(f"no message {message_id}")
        return message_status(uow.session, message)


def refuse_reply(ports: Ports, message_id: int, caller_id: int, scope: int | None) -> NoReturn:
    """Replies are never taken here: chat happens in conversations.

    Raises:
        NotFound: not the sender's nor a recipient's message (or out of scope), or not one-way.
        ReplyNotAllowed: a one-way message, to its sender or a recipient.
    """
    with UnitOfWork(ports.sessions) as uow:
        message = uow.session.get(Message, message_id)
        is_recipient = message is not None and uow.session.query(Delivery.id).filter_by(
            message_id=message_id, recipient_id=caller_id).first() is not None
        if message is None or not (is_recipient or message.sender_id == caller_id) or not _in_scope(message, scope):
            raise NotFound(f"no message {message_id}")
        if message.kind == "oneway":
            raise ReplyNotAllowed("this is a one-way message: its recipients cannot reply")
    raise NotFound("reply in the message's conversation instead")


def _in_scope(message: Message, scope: int | None) -> bool:
    """A token scoped to one conversation sees only that conversation's messages (D24)."""
    return scope is None or message.conversation_id == scope
