"""A group's members: list, add, remove, change a role, leave.

Every change runs through usecases.chat.member_changes and tells the
members (and whoever was removed or left) through their streams.
"""

from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint, request
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from usecases.chat import member_changes
from usecases.chat.conversation_pages import members
from web.auth.identity import caller, requires
from web.auth.scope import conversation_scope
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
    return members(resources().ports, conversation_id, caller().user_id, conversation_scope(), limit=page_limit(),
                   cursor=request.args.get("cursor") or None)


@bp.post("/<int:conversation_id>/members")
@requires()
def add(conversation_id: int):
    """Owners and admins add users; someone who left comes back; current members are skipped."""
    command, _ = parse(AddMembers)
    added = member_changes.add_to_group(resources().ports, conversation_id, caller().user_id, conversation_scope(),
                                        command.user_ids)
    return {"conversation_id": conversation_id, "added": added}


@bp.delete("/<int:conversation_id>/members/<int:user_id>")
@requires()
def remove(conversation_id: int, user_id: int):
    """Remove a member (owners and admins), or yourself: the same as leaving."""
    member_changes.remove_from_group(resources().ports, conversation_id, caller().user_id, conversation_scope(),
                                     user_id)
    return "", 204


@bp.post("/<int:conversation_id>/leave")
@requires()
def leave_group(conversation_id: int):
    """Leave a group; the last owner hands it to the longest-standing admin, else member."""
    member_changes.leave_group(resources().ports, conversation_id, caller().user_id, conversation_scope())
    return "", 204


@bp.patch("/<int:conversation_id>/members/<int:user_id>")
@requires()
def set_role(conversation_id: int, user_id: int):
    """Change a member's role (pipeline.conversations.check_role_change says who may)."""
    command, _ = parse(ChangeRole)
    return member_changes.set_member_role(resources().ports, conversation_id, caller().user_id,
                                          conversation_scope(), user_id, command.role)
