"""A group's members: list, add, remove, change a role, leave.

Every change runs through usecases.chat.changes.run_change and tells
the members (and whoever was removed or left) through their streams.
"""

from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint, request
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from usecases.chat.conversation_lists import member_view, members_page
from usecases.chat.conversations import conversation_for_member
from usecases.chat.memberships import active_seat, add_members, change_role, leave, remove_member
from db.engine import UnitOfWork
from db.models import User
from web.auth.identity import caller, requires
from web.auth.scope import conversation_scope
from usecases.chat.changes import run_change
from web.paging import page_limit
from web.requests import parse
from web.resources import resources

bp = Blueprint("conversation_members", __name__, url_prefix="/v1/conversations")


class AddMembers(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_ids: Annotated[list[StrictInt], Field(min_length=1, max_length=256)]


class ChangeRole(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["owner", "admin", "member"]


@bp.get("/<int:conversation_id>/members")
@requires()
def list_members(conversation_id: int):
    """The current members, longest-standing first, a page at a time."""
    limit = page_limit()
    with UnitOfWork(resources().sessions) as uow:
        conversation_for_member(uow.session, conversation_id, caller().user_id, conversation_scope())
        rows, next_cursor = members_page(uow.session, conversation_id, limit=limit,
                                         cursor=request.args.get("cursor") or None)
        return {"items": [member_view(m, u) for m, u in rows], "next_cursor": next_cursor}


@bp.post("/<int:conversation_id>/members")
@requires()
def add(conversation_id: int):
    """Owners and admins add users; someone who left comes back; current members are skipped."""
    command, _ = parse(AddMembers)
    limit = resources().settings.group_member_limit
    events = run_change(resources().ports, conversation_id, caller().user_id, conversation_scope(), lambda session, conversation, me, now: add_members(
        session, conversation, me, command.user_ids, limit, now))
    return {"conversation_id": conversation_id, "added": events[0].payload["user_ids"] if events else []}


@bp.delete("/<int:conversation_id>/members/<int:user_id>")
@requires()
def remove(conversation_id: int, user_id: int):
    """Remove a member (owners and admins), or yourself: the same as leaving."""
    if user_id == caller().user_id:
        return leave_group(conversation_id)
    run_change(resources().ports, conversation_id, caller().user_id, conversation_scope(), lambda session, conversation, me, now: remove_member(
        session, conversation, me, user_id, now))
    return "", 204


@bp.post("/<int:conversation_id>/leave")
@requires()
def leave_group(conversation_id: int):
    """Leave a group; the last owner hands it to the longest-standing admin, else member."""
    run_change(resources().ports, conversation_id, caller().user_id, conversation_scope(), lambda session, conversation, me, now: leave(session, conversation, me, now))
    return "", 204


@bp.patch("/<int:conversation_id>/members/<int:user_id>")
@requires()
def set_role(conversation_id: int, user_id: int):
    """Change a member's role (pipeline.conversations.check_role_change says who may)."""
    command, _ = parse(ChangeRole)
    run_change(resources().ports, conversation_id, caller().user_id, conversation_scope(), lambda session, conversation, me, now: change_role(
        session, conversation, me, user_id, command.role))
    with UnitOfWork(resources().sessions) as uow:
        return member_view(active_seat(uow.session, conversation_id, user_id), uow.session.get(User, user_id))
