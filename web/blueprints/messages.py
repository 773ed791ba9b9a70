"""One-way messages: business → mobile users."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

from flask import Blueprint, request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from metrics.edge import BACKPRESSURE_REFUSALS
from pipeline.status import ALL as STATUSES
from pipeline.backpressure import refusal_retry_after
from pipeline.errors import Overloaded, ValidationFailed
from pipeline.schedule import check_schedule
from usecases.messaging.messages import Schedule
from usecases.messaging.oneway import OnewayRequest, accept_oneway_request, message_status_for, refuse_reply
from usecases.messaging.sent_messages import SentFilter, recipients_page, sent_messages
from web.admin.queries import query_args
from web.auth.identity import caller, requires
from web.auth.scope import conversation_scope
from web.extensions import limiter
from web.idempotency import REPLAYED, request_key
from web.paging import page_limit
from web.requests import parse
from web.resources import SendLimits, resources

bp = Blueprint("messages", __name__, url_prefix="/v1/messages")

Target = StrictInt | Annotated[str, StringConstraints(min_length=2, max_length=32)]


class SendOneWay(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: list[Target] = Field(min_length=1)
    body: Annotated[str, StringConstraints(min_length=1)]
    priority: Literal["high", "normal", "low"] = "normal"
    send_at: AwareDatetime | None = None
    ttl_seconds: StrictInt | None = None


class SentQuery(BaseModel):
    """GET /v1/messages's filters; `recipient` is a user id or a phone number."""

    model_config = ConfigDict(extra="forbid")
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    recipient: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    created_after: AwareDatetime | None = None
    created_before: AwareDatetime | None = None

    def to_filter(self) -> SentFilter:
        # An unescaped "+" in a query string arrives as a space: it was a phone number's.
        recipient = "+" + self.recipient[1:] if self.recipient and self.recipient.startswith(" ") else self.recipient
        return SentFilter(self.status, recipient, self.created_after, self.created_before)


def _check_limits(command: SendOneWay, limits: SendLimits, now: datetime) -> None:
    check_schedule(now, command.send_at, command.ttl_seconds)
    if len(command.to) > limits.max_recipients:
        raise ValidationFailed(f"at most {limits.max_recipients} recipients per message")
    if len(command.body) > limits.max_body_chars:
        raise ValidationFailed(f"body is limited to {limits.max_body_chars} characters")


def _check_backpressure(priority: str, limits: SendLimits) -> None:
    depth = resources().depths.deepest()
    retry_after = refusal_retry_after(priority, depth, limits.backpressure_depth, limits.backpressure_hard_depth)
    if retry_after is not None:
        BACKPRESSURE_REFUSALS.labels(priority).inc()
        raise Overloaded(f"delivery queues hold {depth} messages; {priority} sends wait",
                         retry_after=retry_after)


@bp.post("")
@requires("business")
@limiter.limit("600/minute", key_func=lambda: f"send:{caller().user_id}")
def send_oneway():
    """Accept a one-way message; 202 once it is committed."""
    command, body = parse(SendOneWay)
    limits, now = resources().limits, datetime.now(timezone.utc)
    _check_limits(command, limits, now)
    _check_backpressure(command.priority, limits)
    request = OnewayRequest(caller().user_id, command.to, command.body, command.priority,
                            Schedule(command.send_at, command.ttl_seconds))
    outcome = accept_oneway_request(resources().ports, request, request_key(caller().user_id, body), now)
    headers = {"Location": f"/v1/messages/{outcome.answer['id']}", **(REPLAYED if outcome.replayed else {})}
    return outcome.answer, outcome.status_code, headers


@bp.get("")
@requires("business")
def list_sent():
    """The caller's one-way messages, newest first, each with its counts per status."""
    query = SentQuery.model_validate(query_args(request.args, SentQuery))
    return sent_messages(resources().ports, caller().user_id, query.to_filter(), limit=page_limit(),
                         cursor=request.args.get("cursor") or None)


@bp.get("/<int:message_id>/recipients")
@requires("business", "admin")
def list_recipients(message_id: int):
    """A message's recipients and their status, a page at a time (past the 100 GET shows)."""
    return recipients_page(resources().ports, message_id, caller().user_id, caller().role, limit=page_limit(),
                           cursor=request.args.get("cursor") or None)


@bp.get("/<int:message_id>")
@requires()
def get_message(message_id: int):
    """The message and each recipient's status: for its sender or an admin."""
    return message_status_for(resources().ports, message_id, caller().user_id, caller().role, conversation_scope())


@bp.post("/<int:message_id>/replies")
@requires()
def reply(message_id: int):
    """Replies to one-way messages are refused; chat happens in conversations."""
    refuse_reply(resources().ports, message_id, caller().user_id, conversation_scope())
