"""Blocks (`/v1/blocks`): whom the caller blocked. A blocked user cannot open
or write to a direct conversation with the blocker, nor add them to a
group (docs/decisions.md, "Blocks"). Account-wide, so not for tokens
scoped to one conversation (web.auth.scope)."""

from __future__ import annotations

from flask import Blueprint, request
from pydantic import BaseModel, ConfigDict, StrictInt

from usecases.chat import my_blocks
from web.auth.identity import caller, requires
from web.paging import page_limit
from web.requests import parse
from web.resources import resources

bp = Blueprint("blocks", __name__, url_prefix="/v1/blocks")


class BlockUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: StrictInt


@bp.post("")
@requires("mobile", "business")
def block():
    """201 for a new block, 200 when the user was already blocked."""
    command, _ = parse(BlockUser)
    answer, created = my_blocks.block(resources().ports, caller().user_id, command.user_id)
    return answer, 201 if created else 200


@bp.delete("/<int:user_id>")
@requires("mobile", "business")
def unblock(user_id: int):
    """204 whether or not the user was blocked."""
    my_blocks.unblock(resources().ports, caller().user_id, user_id)
    return "", 204


@bp.get("")
@requires("mobile", "business")
def list_own():
    """The caller's blocks, newest first, a page at a time."""
    return my_blocks.blocks_of(resources().ports, caller().user_id, limit=page_limit(),
                               cursor=request.args.get("cursor") or None)
