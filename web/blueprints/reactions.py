"""Reactions on chat messages (`/v1/messages/{id}/reactions/{emoji}`):
PUT places the caller's, DELETE takes it back; both are idempotent."""

from __future__ import annotations

from flask import Blueprint

from pipeline.reactions import check_emoji
from usecases.chat import message_actions
from web.auth.identity import requires
from web.blueprints.message_changes import caller_scope
from web.resources import resources

bp = Blueprint("reactions", __name__, url_prefix="/v1/messages/<int:message_id>/reactions")


@bp.put("/<emoji>")
@requires()
def place(message_id: int, emoji: str):
    """201 when placed, 200 when it was already there; the message's reactions either way."""
    added, reactions = message_actions.react(resources().ports, message_id, caller_scope(), check_emoji(emoji))
    return {"message_id": message_id, "reactions": reactions}, 201 if added else 200


@bp.delete("/<emoji>")
@requires()
def take_back(message_id: int, emoji: str):
    """204 whether or not the caller had placed it."""
    message_actions.take_back_reaction(resources().ports, message_id, caller_scope(), check_emoji(emoji))
    return "", 204
