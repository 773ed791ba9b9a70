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


def peal_channel(namespace: str = DEFAULT_NAMESPACE) -> str:
    """The pub/sub channel every edge process hears: frames to many users at once (pipeline.rings.Peal)."""
    return f"{namespace}:peal"


def presence_key(user_id: int, namespace: str = DEFAULT_NAMESPACE) -> str:
    """The hash of a user's sessions' presence (field: session id, value: "state expiry")."""
    return f"{namespace}:presence:{user_id}"


def last_seen_key(user_id: int, namespace: str = DEFAULT_NAMESPACE) -> str:
    """When the user was last connected (epoch seconds)."""
    return f"{namespace}:last_seen:{user_id}"


def announced_key(user_id: int, namespace: str = DEFAULT_NAMESPACE) -> str:
    """The presence last told to the user's contacts: only changes are told."""
    return f"{namespace}:presence_announced:{user_id}"


def presence_watch_key(namespace: str = DEFAULT_NAMESPACE) -> str:
    """Sorted set of users with sessions (score: latest expiry), for the expiry sweep."""
    return f"{namespace}:presence_watch"


def api_key_entry_key(secret_hash: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    """What an API key's hash stands for, cached for every edge process (D76)."""
    return f"{namespace}:api_key:{secret_hash}"


def api_key_touch_key(secret_hash: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    """Present while an API key's last use is fresh enough: its absence asks for one write."""
    return f"{namespace}:api_key_used:{secret_hash}"
def control_channel(namespace: str = DEFAULT_NAMESPACE) -> str:
    """The pub/sub channel every edge process hears (pipeline.control)."""
    return f"{namespace}:control"
