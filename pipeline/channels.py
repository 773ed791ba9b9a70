"""Names shared by the edge and the workers for the realtime layer."""

from __future__ import annotations

PREFIX = "herald"


def user_channel(user_id: int) -> str:
    """The pub/sub channel that rings a user's live sessions."""
    return f"{PREFIX}:user:{user_id}"


def sessions_key(user_id: int) -> str:
    """The sorted set of a user's live sessions (score: expiry, epoch seconds)."""
    return f"{PREFIX}:sessions:{user_id}"

