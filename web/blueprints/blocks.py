"""Blocks (`/v1/blocks`): whom the caller blocked. A blocked user cannot open
or write to a direct conversation with the blocker, nor add them to a
group (docs/decisions.md, "Blocks")."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, request
from pydantic import BaseModel, ConfigDict, StrictInt

from usecases.chat.blocks import block_user, block_view, list_blocks, unblock_user
from db.engine import UnitOfWork
from db.models import User
from pipeline.errors import Forbidden
from web.auth.identity import caller, requires
from web.auth.scope import conversation_scope
from web.paging import page_limit
from web.requests import parse
from web.resources import resources

bp = Blueprint("blocks", __name__, url_prefix="/v1/blocks")


class BlockUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: StrictInt


def _account_wide() -> int:
    """The caller's id. Raises Forbidden for a token scoped to one conversation."""
    if conversation_scope() is not None:
        raise Forbidden("a token scoped to one conversation cannot manage blocks")
    return caller().user_id


@bp.post("")
@requires("mobile", "business")
def block():
    """201 for a new block, 200 when the user was already blocked."""
    command, _ = parse(BlockUser)
    me = _account_wide()
    with UnitOfWork(resources().sessions) as uow:
        row, created = block_user(uow.session, me, command.user_id, datetime.now(timezone.utc))
        answer = block_view(row, uow.session.get(User, command.user_id))
        uow.commit()
    return answer, 201 if created else 200


@bp.delete("/<int:user_id>")
@requires("mobile", "business")
def unblock(user_id: int):
    """204 whether or not the user was blocked."""
    me = _account_wide()
    with UnitOfWork(resources().sessions) as uow:
        unblock_user(uow.session, me, user_id)
        uow.commit()
    return "", 204


@bp.get("")
@requires("mobile", "business")
def list_own():
    """The caller's blocks, newest first, a page at a time."""
    me = _account_wide()
    with UnitOfWork(resources().sessions) as uow:
        page, next_cursor = list_blocks(uow.session, me, limit=page_limit(), cursor=request.args.get("cursor") or None)
        return {"items": [block_view(b, u) for b, u in page], "next_cursor": next_cursor}

