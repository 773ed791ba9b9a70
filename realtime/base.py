"""The interface both realtime backends implement."""

from __future__ import annotations

from typing import Callable, Iterable, Protocol

from pipeline.rings import Peal, Ring

# Called with every ring heard by this process (pipeline.rings.RESYNC: its text is empty).
Listener = Callable[[Ring], None]
# Called with every control message (pipeline.control), or RELOAD when some may have been missed.
ControlListener = Callable[[str], None]


class Realtime(Protocol):
    def ring(self, user_id: int, position: int | None, text: str, conversation_id: int | None = None) -> None:
        """Tell the process(es) holding the user's sockets that a frame is ready."""

    def ring_many(self, rings: Iterable[Ring | Peal]) -> None:
        """Ring several users at once (one Redis round trip); a Peal rings
        many users with one frame, sent once to every edge process."""

    def listen(self, listener: Listener) -> None:
        """Start delivering rings for subscribed users to `listener`."""

    def subscribe(self, user_id: int) -> None:
        """Hear rings for `user_id` in this process."""

    def unsubscribe(self, user_id: int) -> None:
        """Stop hearing rings for `user_id` in this process."""

    def control(self, text: str) -> None:
        """Tell every process that listens for control messages (pipeline.control)."""

    def listen_control(self, listener: ControlListener) -> None:
        """Start delivering control messages to `listener`, RELOAD first."""

    def ping(self) -> bool:
        """True when the backend is reachable."""
