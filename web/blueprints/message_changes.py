"""Edits and deletes of chat messages (`/v1/messages/{id}`): the sender's
corrections and tombstones, told to every member as stream events."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, StringConstraints

from usecases.chat.message_changes import Scope, delete_message, edit_message
from usecases.messaging.stream import message_payloads
from db.engine import UnitOfWork
from pipeline.frames import MAX_BODY_CHARS
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


def outbox_options() -> dict:
    return {"policy": resources().ports.outbox, "now": datetime.now(timezone.utc)}


@bp.patch("/<int:message_id>")
@requires()
def edit(message_id: int):
    """Replace a chat message's body: its sender, within EDIT_WINDOW_SECONDS, unless deleted."""
    command, _ = parse(EditMessage)
    res = resources()
    with UnitOfWork(res.sessions) as uow:
        message, jobs = edit_message(uow.session, message_id, caller_scope(), command.body,
                                     window_seconds=res.settings.edit_window_seconds, **outbox_options())
        answer = message_payloads(uow.session, [message], caller().user_id)[0]
        uow.commit()
    res.publisher.submit(jobs)
    return answer


@bp.delete("/<int:message_id>")
@requires()
def delete(message_id: int):
    """Tombstone a chat message (its sender, or a group's owners and admins); 204 again when repeated."""
    res = resources()
    with UnitOfWork(res.sessions) as uow:
        jobs = delete_message(uow.session, message_id, caller_scope(), **outbox_options())
        uow.commit()
    res.publisher.submit(jobs)
    return "", 204
