"""Reactions on chat messages (`/v1/messages/{id}/reactions/{emoji}`):
PUT places the caller's, DELETE takes it back; both are idempotent."""

from __future__ import annotations

from flask import Blueprint

from usecases.chat.reactions import add_reaction, reaction_summaries, remove_reaction
from db.engine import UnitOfWork
from pipeline.reactions import check_emoji
from web.auth.identity import caller, requires
from web.blueprints.message_changes import caller_scope, outbox_options
from web.resources import resources

bp = Blueprint("reactions", __name__, url_prefix="/v1/messages/<int:message_id>/reactions")


@bp.put("/<emoji>")
@requires()
def place(message_id: int, emoji: str):
    """201 when placed, 200 when it was already there; the message's reactions either way."""
    emoji = check_emoji(emoji)
    res = resources()
    with UnitOfWork(res.sessions) as uow:
        added, jobs = add_reaction(uow.session, message_id, caller_scope(), emoji, **outbox_options())
        answer = {"message_id": message_id,
                  "reactions": reaction_summaries(uow.session, [message_id], caller().user_id).get(message_id, [])}
        uow.commit()
    res.publisher.submit(jobs)
    return answer, 201 if added else 200


@bp.delete("/<emoji>")
@requires()
def take_back(message_id: int, emoji: str):
    """204 whether or not the caller had placed it."""
    emoji = check_emoji(emoji)
    res = resources()
    with UnitOfWork(res.sessions) as uow:
        jobs = remove_reaction(uow.session, message_id, caller_scope(), emoji, **outbox_options())
        uow.commit()
    res.publisher.submit(jobs)
    return "", 204
