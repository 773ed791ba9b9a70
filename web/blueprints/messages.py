"""One-way messages: business → mobile users."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

from flask import Blueprint
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from usecases.messaging.messages import Schedule, accept_oneway, message_status
from db.engine import UnitOfWork
from db.models import Delivery, Message, User
from pipeline.backpressure import refusal_retry_after
from pipeline.errors import NotFound, Overloaded, ReplyNotAllowed, ValidationFailed
from pipeline.schedule import check_schedule
from web.auth.identity import caller, requires
from web.auth.scope import conversation_scope
from web.extensions import limiter
from web.idempotency import REPLAYED, IdempotentRequest
from web.requests import parse
from web.resources import resources

bp = Blueprint("messages", __name__, url_prefix="/v1/messages")

Target = StrictInt | Annotated[str, StringConstraints(min_length=2, max_length=32)]


class SendOneWay(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: list[Target] = Field(min_length=1)
    body: Annotated[str, StringConstraints(min_length=1)]
    priority: Literal["high", "normal", "low"] = "normal"
    send_at: AwareDatetime | None = None
    ttl_seconds: StrictInt | None = None


def _check_limits(command: SendOneWay, now: datetime) -> None:
    settings = resources().settings
    check_schedule(now, command.send_at, command.ttl_seconds)
    if len(command.to) > settings.max_recipients:
        raise ValidationFailed(f"at most {settings.max_recipients} recipients; use a broadcast for more")
    if len(command.body) > settings.max_body_chars:
        raise ValidationFailed(f"body is limited to {settings.max_body_chars} characters")


def _check_backpressure(priority: str) -> None:
    res = resources()
    depth = res.depths.deepest()
    retry_after = refusal_retry_after(priority, depth, res.settings.backpressure_depth,
                                      res.settings.backpressure_hard_depth)
    if retry_after is not None:
        raise Overloaded(f"delivery queues hold {depth} messages; {priority} sends wait",
                         retry_after=retry_after)


@bp.post("")
@requires("business")
@limiter.limit("600/minute", key_func=lambda: f"send:{caller().user_id}")
def send_oneway():
    """Accept a one-way message; 202 once it is committed."""
    command, body = parse(SendOneWay)
    user_id, now = caller().user_id, datetime.now(timezone.utc)
    _check_limits(command, now)
    _check_backpressure(command.priority)
    res = resources()
    with UnitOfWork(res.sessions) as uow:
        idempotent = IdempotentRequest(uow.session, user_id, body, now)
        if (replay := idempotent.replay()) is not None:
            return replay.response, replay.status_code, {
                **REPLAYED, "Location": f"/v1/messages/{replay.response['id']}"}
        sender = uow.session.get(User, user_id)
        if sender is None:
            raise NotFound("the calling account no longer exists")
        accepted = accept_oneway(uow.session, sender=sender, targets=command.to, body=command.body,
                                 priority=command.priority, policy=res.ports.outbox,
                                 now=now, schedule=Schedule(command.send_at, command.ttl_seconds))
        answer = {"id": accepted.message.id, "status": "accepted"}
        idempotent.remember(202, answer)
        uow.commit()
    res.publisher.submit(accepted.jobs)
    return answer, 202, {"Location": f"/v1/messages/{accepted.message.id}"}


@bp.get("/<int:message_id>")
@requires()
def get_message(message_id: int):
    """The message and each recipient's status: for its sender or an admin."""
    with UnitOfWork(resources().sessions) as uow:
        message = uow.session.get(Message, message_id)
        if message is None or not _may_read_status(message) or not _in_scope(message):
            raise NotFound(f"no message {message_id}")
        return message_status(uow.session, message)


@bp.post("/<int:message_id>/replies")
@requires()
def reply(message_id: int):
    """Replies to one-way messages are refused; chat happens in conversations."""
    with UnitOfWork(resources().sessions) as uow:
        message = uow.session.get(Message, message_id)
        is_recipient = message is not None and uow.session.query(Delivery.id).filter_by(
            message_id=message_id, recipient_id=caller().user_id).first() is not None
        if message is None or not (is_recipient or message.sender_id == caller().user_id) or not _in_scope(message):
            raise NotFound(f"no message {message_id}")
        if message.kind == "oneway":
            raise ReplyNotAllowed("this is a one-way message: its recipients cannot reply")
        raise NotFound("reply in the message's conversation instead")


def _may_read_status(message: Message) -> bool:
    return caller().role == "admin" or message.sender_id == caller().user_id


def _in_scope(message: Message) -> bool:
    """A token scoped to one conversation sees only that conversation's messages (D24)."""
    scope = conversation_scope()
    return scope is None or message.conversation_id == scope
