"""Conversations: create direct (one per pair) or group, list, show, unread badge.

Messages, members and status live in conversation_messages.py,
conversation_members.py and conversation_status.py.
"""

from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint, request
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from pipeline.errors import ValidationFailed
from usecases.chat.conversation_changes import StartConversation, start_conversation
from usecases.chat import conversation_pages as pages
from web.auth.identity import caller, requires
from web.auth.scope import conversation_scope
from web.idempotency import REPLAYED, request_key
from web.paging import flag, page_limit
from web.requests import parse
from web.resources import resources

bp = Blueprint("conversations", __name__, url_prefix="/v1/conversations")
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class CreateConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["direct", "group"]
    with_: StrictInt | Text | None = Field(default=None, alias="with")
    title: Text | None = None
    members: list[StrictInt] = []
    context_ref: Text | None = None


@bp.post("")
@requires("mobile", "business")
def create():
    """Get or create the direct conversation with a user (200/201), or create a group (201)."""
    command, body = parse(CreateConversation)
    if command.context_ref and caller().role != "business":
        raise ValidationFailed("only businesses set a context reference")
    me = caller()
    start = StartConversation(me.user_id, me.role, command.kind, command.with_, command.title,
                              tuple(command.members), command.context_ref)
    started = start_conversation(resources().ports, start, request_key(me.user_id, body))
    return started.conversation, started.status_code, REPLAYED if started.replayed else {}


@bp.get("")
@requires()
def list_own():
    """The caller's conversations, latest activity first, a page at a time."""
    return pages.my_conversations(resources().ports, caller().user_id, archived=flag("archived"),
                                  scope=conversation_scope(), limit=page_limit(),
                                  cursor=request.args.get("cursor") or None)


@bp.get("/unread-count")
@requires()
def unread_total():
    """For a badge: unread messages over the caller's non-archived conversations."""
    return pages.unread_total(resources().ports, caller().user_id, conversation_scope())


@bp.get("/<int:conversation_id>")
@requires()
def get(conversation_id: int):
    """The conversation as the caller sees it (404 unless a member)."""
    return pages.conversation_view(resources().ports, conversation_id, caller().user_id, conversation_scope())
