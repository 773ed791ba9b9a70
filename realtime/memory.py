"""Embedded mode: the edge and the worker share one process, so a ring is
a direct call with the Ring value itself (nothing packed or decoded)."""

from __future__ import annotations

from typing import Iterable

from pipeline.control import RELOAD
from pipeline.rings import Peal, Ring
from realtime.base import ControlListener, Listener


class InProcessRealtime:
    def __init__(self) -> None:
        self._subscribed: set[int] = set()
        self._listener: Listener | None = None
        self._control_listener: ControlListener | None = None

    def ring(self, user_id: int, position: int | None, text: str, conversation_id: int | None = None) -> None:
        self._hand_over(Ring(user_id, position, text, conversation_id))

    def ring_many(self, rings: Iterable[Ring | Peal]) -> None:
        for item in rings:
            if isinstance(item, Peal):
                for ring in item.rings(self._subscribed):
                    self._hand_over(ring)
            else:
                self._hand_over(item)

    def _hand_over(self, ring: Ring) -> None:
        listener = self._listener
        if listener is not None and ring.user_id in self._subscribed:
            listener(ring)

    def control(self, text: str) -> None:
        if self._control_listener is not None:
            self._control_listener(text)

    def listen_control(self, listener: ControlListener) -> None:
        self._control_listener = listener
        listener(RELOAD)  # a restarted process re-reads what was revoked before

    def listen(self, listener: Listener) -> None:
        self._listener = listener

    def subscribe(self, user_id: int) -> None:
        self._subscribed.add(user_id)

    def unsubscribe(self, user_id: int) -> None:
        self._subscribed.discard(user_id)

    def ping(self) -> bool:
        return True
