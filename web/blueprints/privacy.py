"""The caller's privacy settings: whether others see their last-seen time."""

from __future__ import annotations

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, StrictBool

from usecases.presence.presence import hides_last_seen, set_hide_last_seen
from db.engine import UnitOfWork
from pipeline.errors import Forbidden
from web.auth.identity import caller, requires
from web.auth.scope import conversation_scope
from web.requests import parse
from web.resources import resources

bp = Blueprint("privacy", __name__, url_prefix="/v1/me/privacy")


class Privacy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hide_last_seen: StrictBool


@bp.get("")
@requires()
def get_privacy():
    with UnitOfWork(resources().sessions) as uow:
        return {"hide_last_seen": hides_last_seen(uow.session, caller().user_id)}


@bp.patch("")
@requires()
def update_privacy():
    """Hide (or show) the caller's last-seen time from everyone else."""
    command, _ = parse(Privacy)
    if conversation_scope() is not None:
        raise Forbidden("a token scoped to one conversation cannot change account settings")
    with UnitOfWork(resources().sessions) as uow:
        set_hide_last_seen(uow.session, caller().user_id, command.hide_last_seen)
        uow.commit()
    return {"hide_last_seen": command.hide_last_seen}
