"""The interface both realtime backends implement."""

from __future__ import annotations

from typing import Callable, Protocol

# Called with (user_id, payload) for every ring heard by this process.
Listener = Callable[[int, str], None]
# The payload of a ring that says "rings may have been lost: read the store".
RESYNC = ""


class Realtime(Protocol):
    def ring(self, user_id: int, payload: str) -> None:
        """Tell the process(es) holding the user's sockets that a frame is ready."""

    def is_online(self, user_id: int) -> bool:
        """True when the user has at least one live session anywhere."""

    def register_session(self, user_id: int, session_id: str, ttl_seconds: int) -> None:
        """Record (or refresh) a live session that expires unless refreshed."""

    def unregister_session(self, user_id: int, session_id: str) -> None:
        """Forget a session that closed."""

    def listen(self, listener: Listener) -> None:
        """Start delivering rings for subscribed users to `listener`."""

    def subscribe(self, user_id: int) -> None:
        """Hear rings for `user_id` in this process."""

    def unsubscribe(self, user_id: int) -> None:
        """Stop hearing rings for `user_id` in this process."""

    def ping(self) -> bool:
        """True when the backend is reachable."""
