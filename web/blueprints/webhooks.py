"""Webhooks: business users register endpoints for signed status callbacks,
rotate their secrets, ping them and inspect and repeat deliveries."""

from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint, request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pipeline.webhook_urls import MAX_URL_CHARS
from usecases.operations.audit import Actor
from usecases.webhooks import attempts, endpoints, manual_events
from web.auth.identity import caller, requires
from web.paging import page_limit
from web.requests import parse
from web.resources import resources

bp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks")

Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL_CHARS)]
Events = Annotated[list[Literal["message.status", "message.reply", "conversation.message"]],
                   Field(min_length=1, max_length=3)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class CreateEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Url
    events: Events
    description: Description | None = None


class ChangeEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Url | None = None
    events: Events | None = None
    description: Description | None = None
    enabled: bool | None = None


def _actor() -> Actor:
    """The owner acting on its endpoints, for their audit entries."""
    return Actor(caller().user_id, "api", request.remote_addr)


@bp.post("")
@requires("business")
def create():
    """201 with the endpoint and its signing secret, shown this once."""
    command, _ = parse(CreateEndpoint)
    endpoint = endpoints.create(resources().ports, resources().resolve_host, _actor(), command.url,
                                list(command.events), command.description)
    return endpoint, 201, {"Location": f"/v1/webhooks/{endpoint['id']}"}


@bp.get("")
@requires("business")
def list_own():
    return endpoints.list_own(resources().ports, caller().user_id)


@bp.get("/<int:endpoint_id>")
@requires("business")
def show(endpoint_id: int):
    return endpoints.show(resources().ports, caller().user_id, endpoint_id)


@bp.patch("/<int:endpoint_id>")
@requires("business")
def change(endpoint_id: int):
    command, _ = parse(ChangeEndpoint)
    changes = command.model_dump(exclude_unset=True, exclude_none=True)
    return endpoints.change(resources().ports, resources().resolve_host, _actor(), endpoint_id, changes)


@bp.delete("/<int:endpoint_id>")
@requires("business")
def delete(endpoint_id: int):
    endpoints.remove(resources().ports, _actor(), endpoint_id)
    return "", 204


@bp.post("/<int:endpoint_id>/rotate-secret")
@requires("business")
def rotate_secret(endpoint_id: int):
    """The new secret, once; the previous one keeps signing beside it for 24 h."""
    return endpoints.rotate(resources().ports, _actor(), endpoint_id)


@bp.post("/<int:endpoint_id>/test")
@requires("business")
def test(endpoint_id: int):
    """Queue a `ping` event behind the endpoint's pending ones."""
    return manual_events.send_ping(resources().ports, _actor(), endpoint_id), 202


@bp.get("/<int:endpoint_id>/deliveries")
@requires("business")
def deliveries(endpoint_id: int):
    """Attempts, newest first, a page at a time."""
    return attempts.attempts_of(resources().ports, caller().user_id, endpoint_id, limit=page_limit(),
                                cursor=request.args.get("cursor") or None)


@bp.post("/<int:endpoint_id>/deliveries/<event_id>/redeliver")
@requires("business")
def redeliver(endpoint_id: int, event_id: str):
    """Send the event again (same id) after the endpoint's pending ones."""
    return manual_events.redeliver(resources().ports, _actor(), endpoint_id, event_id), 202
