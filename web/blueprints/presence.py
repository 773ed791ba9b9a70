"""Presence of the people one shares a conversation with: a snapshot to
start from; changes then arrive as `presence` frames on the socket."""

from __future__ import annotations

import time

from flask import Blueprint, request

from pipeline.presence import parse_user_ids
from web.auth.identity import caller, requires
from web.auth.scope import conversation_scope
from usecases.presence.snapshot import snapshot
from web.resources import resources

bp = Blueprint("presence", __name__)


@bp.get("/v1/presence")
@requires()
def get_presence():
    """State and last seen of the requested users the caller may see; the others are left out."""
    user_ids = parse_user_ids(request.args.get("user_ids"))
    return {"items": snapshot(resources().ports, caller().user_id, user_ids, conversation_scope(), time.time())}
