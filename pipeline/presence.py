"""Presence rules: how a user's sessions add up to one state, what others
may see of it, and the frames that tell them. Pure: `now` is passed in."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, Mapping

from pipeline.errors import BadRequest

ONLINE, AWAY, OFFLINE = "online", "away", "offline"
SESSION_STATES = (ONLINE, AWAY)
# Long enough for "last seen 3 weeks ago"; after that a user is just offline.
LAST_SEEN_TTL_SECONDS = 30 * 86400
MAX_SNAPSHOT_USERS = 100
# Presence changes are pushed to the members of conversations up to this
# size; a larger group's members ask (GET /v1/presence). Pushing them would
# cost every member's connect a frame to every other member: N² frames.
PUSHED_UP_TO_MEMBERS = 256
# A socket's own online/away switches are applied at once at most this often;
# faster switching waits for the next heartbeat, so contacts are not flooded.
MIN_SWITCH_INTERVAL_SECONDS = 1.0


def aggregate(session_states: Iterable[str]) -> str:
    """Online if any session is online, away if all are away, offline if none."""
    states = set(session_states)
    if not states:
        return OFFLINE
    return ONLINE if ONLINE in states else AWAY


def may_switch_now(last_switch_at: float | None, now: float) -> bool:
    """Whether a socket's online/away switch is applied now or at its next heartbeat."""
    return last_switch_at is None or now - last_switch_at >= MIN_SWITCH_INTERVAL_SECONDS


def live_states(sessions: Mapping[str, tuple[str, float]], now: float) -> tuple[list[str], list[str]]:
    """(states of the sessions still live, ids of the expired ones to forget)."""
    live = [state for state, expiry in sessions.values() if expiry > now]
    expired = [session_id for session_id, (_, expiry) in sessions.items() if expiry <= now]
    return live, expired


def shown_last_seen(last_seen: float | None, hidden: bool, viewer_is_subject: bool) -> str | None:
    """The last-seen time a viewer may see (ISO 8601), or None when hidden or unknown."""
    if last_seen is None or (hidden and not viewer_is_subject):
        return None
    return datetime.fromtimestamp(last_seen, timezone.utc).isoformat()


def presence_payload(user_id: int, state: str, last_seen: str | None) -> dict:
    return {"user_id": user_id, "state": state, "last_seen": last_seen}


def parse_user_ids(raw: str | None, limit: int = MAX_SNAPSHOT_USERS) -> list[int]:
    """`1,2,3` → [1, 2, 3], duplicates dropped, order kept.

    Raises:
        BadRequest: missing, not comma-separated positive integers, or over `limit`.
    """
    parts = [part.strip() for part in (raw or "").split(",") if part.strip()]
    if not parts or not all(part.isdigit() and int(part) > 0 for part in parts):
        raise BadRequest("user_ids must be comma-separated positive integers")
    ids = list(dict.fromkeys(int(part) for part in parts))
    if len(ids) > limit:
        raise BadRequest(f"at most {limit} user_ids per request")
    return ids
