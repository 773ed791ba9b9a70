"""A conversation's status: archive and unarchive (the caller's own
filing), close (for everyone), and tokens scoped to it."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, StrictInt

from usecases.operations.audit import audit
from usecases.chat.conversation_status import close_conversation, set_archived
from usecases.chat.conversations import conversation_for_member, member
from db.engine import UnitOfWork
from db.models import User
from pipeline.errors import RecipientNotFound
from web.auth.identity import caller, requires
from web.auth.scope import conversation_scope
from web.auth.tokens import issue_access_token
from web.blueprints.conversations import view
from usecases.chat.changes import run_change
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
    return _set_archived(conversation_id, True)


@bp.post("/<int:conversation_id>/unarchive")
@requires()
def unarchive(conversation_id: int):
    return _set_archived(conversation_id, False)


def _set_archived(conversation_id: int, archived: bool) -> dict:
    with UnitOfWork(resources().sessions) as uow:
        _, membership = conversation_for_member(uow.session, conversation_id, caller().user_id,
                                                conversation_scope())
        set_archived(membership, archived, datetime.now(timezone.utc))
        uow.commit()
    return view(conversation_id)


@bp.post("/<int:conversation_id>/close")
@requires()
def close(conversation_id: int):
    """Close for everyone: sending then fails with 409 conversation_closed."""
    run_change(resources().ports, conversation_id, caller().user_id, conversation_scope(), lambda session, conversation, me, now: close_conversation(session, conversation, me))
    return view(conversation_id)


@bp.post("/<int:conversation_id>/scoped-tokens")
@requires("business")
def scoped_token(conversation_id: int):
    """An access token for a mobile member that sees only this conversation (audited)."""
    command, _ = parse(ScopedTokenRequest)
    res, now = resources(), datetime.now(timezone.utc)
    with UnitOfWork(res.sessions) as uow:
        conversation_for_member(uow.session, conversation_id, caller().user_id, conversation_scope())
        user = _mobile_member(uow.session, conversation_id, command.user_id)
        audit(uow.session, actor_id=caller().user_id, action="conversation.scoped_token", target_type="user",
              target_id=user.id, details={"conversation_id": conversation_id, "via": "api"}, now=now)
        uow.commit()
    token = issue_access_token(res.tokens, user_id=user.id, role=user.role, now=now, context=conversation_id)
    answer = {"access_token": token, "token_type": "Bearer", "expires_in": res.tokens.ttl_seconds,
              "conversation_id": conversation_id}
    return answer, 201, {"Cache-Control": "no-store"}


def _mobile_member(session, conversation_id: int, user_id: int) -> User:
    """Raises RecipientNotFound unless the user is a mobile member of the conversation."""
    user = session.get(User, user_id)
    if user is None or user.role != "mobile" or member(session, conversation_id, user_id) is None:
        raise RecipientNotFound(f"user {user_id} is not a mobile member of conversation {conversation_id}")
    return user
