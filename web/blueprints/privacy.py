"""The caller's privacy settings: whether others see their last-seen time.
Account-wide, so not for tokens scoped to one conversation (web.auth.scope)."""

from __future__ import annotations

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, StrictBool

from usecases.presence.privacy import privacy_of, set_privacy
from web.auth.identity import caller, requires
from web.requests import parse
from web.resources import resources

bp = Blueprint("privacy", __name__, url_prefix="/v1/me/privacy")


class Privacy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hide_last_seen: StrictBool


@bp.get("")
@requires()
def get_privacy():
    return privacy_of(resources().ports, caller().user_id)


@bp.patch("")
@requires()
def update_privacy():
    """Hide (or show) the caller's last-seen time from everyone else."""
    command, _ = parse(Privacy)
    return set_privacy(resources().ports, caller().user_id, command.hide_last_seen)
