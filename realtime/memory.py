"""Embedded mode: the edge and the worker share one process, so a ring is a
direct call and the session registry is a dictionary."""

from __future__ import annotations

import threading
import time

from realtime.base import Listener


class InProcessRealtime:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[int, dict[str, float]] = {}
        self._subscribed: set[int] = set()
        self._listener: Listener | None = None

    def ring(self, user_id: int, payload: str) -> None:
        listener = self._listener
        if listener is not None and user_id in self._subscribed:
            listener(user_id, payload)

    def is_online(self, user_id: int) -> bool:
        now = time.time()
        with self._lock:
            return any(expiry > now for expiry in self._sessions.get(user_id, {}).values())

    def register_session(self, user_id: int, session_id: str, ttl_seconds: int) -> None:
        with self._lock:
            self._sessions.setdefault(user_id, {})[session_id] = time.time() + ttl_seconds

    def unregister_session(self, user_id: int, session_id: str) -> None:
        with self._lock:
            sessions = self._sessions.get(user_id, {})
            sessions.pop(session_id, None)
            if not sessions:
                self._sessions.pop(user_id, None)

    def listen(self, listener: Listener) -> None:
        self._listener = listener

    def subscribe(self, user_id: int) -> None:
        self._subscribed.add(user_id)

    def unsubscribe(self, user_id: int) -> None:
        self._subscribed.discard(user_id)

    def ping(self) -> bool:
        return True
