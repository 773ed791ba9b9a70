"""A conversation's status: archive and unarchive (the caller's own
filing), close (for everyone), and tokens scoped to it."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, StrictInt

from usecases.chat.conversation_changes import close_for_everyone, file_conversation, grant_scoped_access
from web.auth.identity import caller, requires
from web.auth.scope import conversation_scope
from web.auth.tokens import issue_access_token
from web.requests import parse
from web.resources import resources

bp = Blueprint("conversation_status", __name__, url_prefix="/v1/conversations")


class ScopedTokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: StrictInt


@bp.post("/<int:conversation_id>/archive")
@requires()
def archive(conversation_id: int):
    """File the conversation away for the caller only; it stays archived when new messages arrive."""
    return file_conversation(resources().ports, conversation_id, caller().user_id, conversation_scope(), True)


@bp.post("/<int:conversation_id>/unarchive")
@requires()
def unarchive(conversation_id: int):
    return file_conversation(resources().ports, conversation_id, caller().user_id, conversation_scope(), False)


@bp.post("/<int:conversation_id>/close")
@requires()
def close(conversation_id: int):
    """Close for everyone: sending then fails with 409 conversation_closed."""
    return close_for_everyone(resources().ports, conversation_id, caller().user_id, conversation_scope())


@bp.post("/<int:conversation_id>/scoped-tokens")
@requires("business")
def scoped_token(conversation_id: int):
    """An access token for a mobile member that sees only this conversation (audited)."""
    command, _ = parse(ScopedTokenRequest)
    res, now = resources(), datetime.now(timezone.utc)
    user_id, role, generation = grant_scoped_access(res.ports, conversation_id, caller().user_id, conversation_scope(),
                                        command.user_id, via="api")
    token = issue_access_token(res.tokens, user_id=user_id, role=role, now=now, context=conversation_id,
                               generation=generation)
    answer = {"access_token": token, "token_type": "Bearer", "expires_in": res.tokens.ttl_seconds,
              "conversation_id": conversation_id}
    return answer, 201, {"Cache-Control": "no-store"}
