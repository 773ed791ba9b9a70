"""Edits and deletes of chat messages (`/v1/messages/{id}`): the sender's
corrections and tombstones, told to every member as stream events."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, StringConstraints

from pipeline.frames import MAX_BODY_CHARS
from usecases.chat import message_actions
from usecases.chat.message_changes import Scope
from web.auth.identity import caller, requires
from web.auth.scope import conversation_scope
from web.requests import parse
from web.resources import resources

bp = Blueprint("message_changes", __name__, url_prefix="/v1/messages")


class EditMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: Annotated[str, StringConstraints(min_length=1, max_length=MAX_BODY_CHARS)]


def caller_scope() -> Scope:
    """The caller, and the one conversation a scoped token may touch."""
    return Scope(caller().user_id, conversation_scope())


@bp.patch("/<int:message_id>")
@requires()
def edit(message_id: int):
    """Replace a chat message's body: its sender, within EDIT_WINDOW_SECONDS, unless deleted."""
    command, _ = parse(EditMessage)
    return message_actions.edit(resources().ports, message_id, caller_scope(), command.body)


@bp.delete("/<int:message_id>")
@requires()
def delete(message_id: int):
    """Tombstone a chat message (its sender, or a group's owners and admins); 204 again when repeated."""
    message_actions.delete(resources().ports, message_id, caller_scope())
    return "", 204
