"""API keys: business users (or admins, for them) create, list and revoke
the keys their servers send with (docs/decisions.md D75–D77)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from flask import Blueprint, request
from pydantic import BaseModel, ConfigDict, StrictInt, StringConstraints

from pipeline.errors import BadRequest, Forbidden, ValidationFailed
from usecases.accounts import api_keys
from usecases.operations.audit import Actor
from web.auth.identity import caller, requires
from web.paging import page_limit
from web.requests import parse
from web.resources import resources

bp = Blueprint("api_keys", __name__, url_prefix="/v1/api-keys")


class CreateKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    user_id: StrictInt | None = None  # admins name the business user; a business user may name itself


def _owner(named: int | None) -> int:
    """Whose keys the caller means: its own, or for an admin the named user's.

    Raises:
        ValidationFailed: an admin who named nobody.
        Forbidden: a business user naming someone else.
    """
    if caller().role == "admin":
        if named is None:
            raise ValidationFailed("admins name the business user: user_id")
        return named
    if named is not None and named != caller().user_id:
        raise Forbidden("business users manage only their own API keys")
    return caller().user_id


def _actor() -> Actor:
    return Actor(caller().user_id, "api", request.remote_addr)


@bp.post("")
@requires("business", "admin")
def create():
    """201 with the key and its secret: the only time the secret is shown."""
    command, _ = parse(CreateKey)
    key = api_keys.create_key(resources().ports.sessions, _owner(command.user_id), command.name,
                              datetime.now(timezone.utc), _actor())
    return key, 201, {"Location": f"/v1/api-keys/{key['id']}", "Cache-Control": "no-store"}


@bp.get("")
@requires("business", "admin")
def list_keys():
    """The keys in use, oldest first, without their secrets; admins pass `?user_id=`."""
    raw = request.args.get("user_id")
    if raw is not None and not raw.isdigit():
        raise BadRequest("user_id must be a user id")
    return api_keys.keys_of(resources().ports, _owner(int(raw) if raw is not None else None),
                            limit=page_limit(), cursor=request.args.get("cursor") or None)


@bp.delete("/<int:key_id>")
@requires("business", "admin")
def revoke(key_id: int):
    """Revoke a key on every edge process at once; 204 again for a revoked key."""
    api_keys.revoke_key(resources().ports, key_id, _actor(), caller().role == "admin",
                        datetime.now(timezone.utc))
    return "", 204
