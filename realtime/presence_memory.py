"""Presence for the embedded mode: the same store as RedisPresence, in
dictionaries (one process holds every socket). Expiries are epoch seconds
compared by the caller's rules, as in Redis; last seen is kept for the
life of the process."""

from __future__ import annotations

import threading

Sessions = dict[str, tuple[str, float]]


class InProcessPresence:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[int, Sessions] = {}
        self._last_seen: dict[int, float] = {}
        self._announced: dict[int, str] = {}
        self._watch: dict[int, float] = {}

    def refresh_session(self, user_id: int, session_id: str, state: str, expires_at: float,
                        seen_at: float, last_seen_ttl: int) -> tuple[Sessions, str | None]:
        with self._lock:
            sessions = self._sessions.setdefault(user_id, {})
            sessions[session_id] = (state, expires_at)
            self._watch[user_id] = max(expires_at, self._watch.get(user_id, 0.0))
            self._last_seen[user_id] = seen_at
            return dict(sessions), self._announced.get(user_id)

    def end_session(self, user_id: int, session_id: str, seen_at: float,
                    last_seen_ttl: int) -> tuple[Sessions, str | None]:
        with self._lock:
            self._last_seen[user_id] = seen_at
            return self._drop(user_id, [session_id]), self._announced.get(user_id)

    def drop_sessions(self, user_id: int, session_ids: list[str]) -> None:
        with self._lock:
            self._drop(user_id, session_ids)

    def _drop(self, user_id: int, session_ids: list[str]) -> Sessions:
        sessions = self._sessions.get(user_id, {})
        for session_id in session_ids:
            sessions.pop(session_id, None)
        if not sessions:
            self._sessions.pop(user_id, None)
        return dict(sessions)

    def read_many(self, user_ids: list[int]) -> dict[int, tuple[Sessions, float | None]]:
        with self._lock:
            return {u: (dict(self._sessions.get(u, {})), self._last_seen.get(u)) for u in user_ids}

    def online_among(self, user_ids: list[int], now: float) -> set[int]:
        with self._lock:
            return {u for u in user_ids
                    if any(expiry > now for _, expiry in self._sessions.get(u, {}).values())}

    def is_online(self, user_id: int, now: float) -> bool:
        return user_id in self.online_among([user_id], now)

    def swap_announced(self, user_id: int, state: str, ttl_seconds: int) -> str | None:
        with self._lock:
            previous = self._announced.get(user_id)
            self._announced[user_id] = state
            return previous

    def due(self, now: float) -> list[int]:
        with self._lock:
            return [user_id for user_id, expiry in self._watch.items() if expiry <= now]

    def unwatch(self, user_id: int) -> None:
        with self._lock:
            self._watch.pop(user_id, None)

    def connected_count(self, now: float) -> int:
        with self._lock:
            return sum(1 for expiry in self._watch.values() if expiry > now)
