"""Names shared by the edge and the workers for the realtime layer.

Redis pub/sub channels are global to a Redis server — numbered databases do
not separate them — so every name carries the deployment's namespace
(REDIS_NAMESPACE): two deployments (or two test runs) on one Redis must
never hear each other's rings.
"""

from __future__ import annotations

DEFAULT_NAMESPACE = "herald"


def user_channel(user_id: int, namespace: str = DEFAULT_NAMESPACE) -> str:
    """The pub/sub channel that rings a user's live sessions."""
    return f"{namespace}:user:{user_id}"


def sessions_key(user_id: int, namespace: str = DEFAULT_NAMESPACE) -> str:
    """The sorted set of a user's live sessions (score: expiry, epoch seconds)."""
    return f"{namespace}:sessions:{user_id}"
