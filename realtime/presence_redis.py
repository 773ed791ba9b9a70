"""Presence in Redis, the one session registry: per user a hash of session
id → "state expiry", a last-seen key that expires after 30 days, the state
last announced to contacts, and a sorted set of users to re-check when
their sessions expire (a crashed edge process never says goodbye).

A socket's heartbeat is one round trip: it writes its session and last
seen and reads back the user's sessions in the same pipeline. The delivery
worker asks which recipients have a live session, for any number of them,
in one round trip.

Every key carries the deployment's namespace (pipeline.channels). Every
call goes through the Redis breaker (realtime.redis_guard): while Redis is
away calls fail fast, and callers take unknown presence for offline.
"""

from __future__ import annotations

import redis

from pipeline.channels import (DEFAULT_NAMESPACE, announced_key, last_seen_key, presence_key,
                               presence_watch_key)
from realtime.redis_guard import RedisGuard

Sessions = dict[str, tuple[str, float]]


class RedisPresence:
    def __init__(self, client: redis.Redis, namespace: str = DEFAULT_NAMESPACE, guard: RedisGuard | None = None):
        self._redis = client
        self._namespace = namespace
        self._guard = guard or RedisGuard()

    @classmethod
    def from_url(cls, url: str, namespace: str = DEFAULT_NAMESPACE) -> "RedisPresence":
        return cls(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2), namespace)

    def refresh_session(self, user_id: int, session_id: str, state: str, expires_at: float,
                        seen_at: float, last_seen_ttl: int) -> tuple[Sessions, str | None]:
        """Record (or refresh) one session's state until `expires_at` (epoch
        seconds) and the user's last seen; return the user's sessions as
        written and the state last announced, read in the same round trip."""
        key = presence_key(user_id, self._namespace)
        pipe = self._redis.pipeline()
        pipe.hset(key, session_id, f"{state} {expires_at}")
        pipe.expireat(key, int(expires_at) + 1)  # every session's ttl is the same: the latest lives longest
        pipe.zadd(presence_watch_key(self._namespace), {str(user_id): expires_at}, gt=True)
        return self._written_then_read(pipe, user_id, seen_at, last_seen_ttl)

    def end_session(self, user_id: int, session_id: str, seen_at: float,
                    last_seen_ttl: int) -> tuple[Sessions, str | None]:
        """Forget a session that closed and note the last seen; as refresh_session."""
        pipe = self._redis.pipeline()
        pipe.hdel(presence_key(user_id, self._namespace), session_id)
        return self._written_then_read(pipe, user_id, seen_at, last_seen_ttl)

    def _written_then_read(self, pipe, user_id: int, seen_at: float, last_seen_ttl: int):
        """Finish a MULTI: last seen, then read the sessions and the announced state."""
        pipe.set(last_seen_key(user_id, self._namespace), repr(seen_at), ex=last_seen_ttl)
        pipe.hgetall(presence_key(user_id, self._namespace))
        pipe.get(announced_key(user_id, self._namespace))
        *_, sessions, announced = self._guard.call(pipe.execute)
        return _decode(sessions), announced.decode() if announced is not None else None

    def drop_sessions(self, user_id: int, session_ids: list[str]) -> None:
        if session_ids:
            self._guard.call(self._redis.hdel, presence_key(user_id, self._namespace), *session_ids)

    def read_many(self, user_ids: list[int]) -> dict[int, tuple[Sessions, float | None]]:
        """Sessions and last seen of several users in one round trip."""
        if not user_ids:
            return {}
        pipe = self._redis.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.hgetall(presence_key(user_id, self._namespace))
            pipe.get(last_seen_key(user_id, self._namespace))
        answers = self._guard.call(pipe.execute)
        return {user_id: (_decode(answers[2 * n]), _float(answers[2 * n + 1]))
                for n, user_id in enumerate(user_ids)}

    def online_among(self, user_ids: list[int], now: float) -> set[int]:
        """Which of `user_ids` have a live session (online or away), in one round trip."""
        if not user_ids:
            return set()
        pipe = self._redis.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.hvals(presence_key(user_id, self._namespace))
        answers = self._guard.call(pipe.execute)
        return {user_id for user_id, values in zip(user_ids, answers)
                if any((_float(v.decode().partition(" ")[2]) or 0.0) > now for v in values)}

    def is_online(self, user_id: int, now: float) -> bool:
        return user_id in self.online_among([user_id], now)

    def swap_announced(self, user_id: int, state: str, ttl_seconds: int) -> str | None:
        """Store the announced state and return the previous one, atomically:
        of several processes seeing the same change, one announces it."""
        previous = self._guard.call(self._redis.set, announced_key(user_id, self._namespace), state,
                                    ex=ttl_seconds, get=True)
        return previous.decode() if previous is not None else None

    def due(self, now: float) -> list[int]:
        """Users whose every session has expired by `now`."""
        return [int(u) for u in self._guard.call(self._redis.zrangebyscore, presence_watch_key(self._namespace),
                                                 "-inf", now)]

    def unwatch(self, user_id: int) -> None:
        self._guard.call(self._redis.zrem, presence_watch_key(self._namespace), str(user_id))

    def connected_count(self, now: float) -> int:
        """Users whose latest session expires after `now`: one ZCOUNT of the
        watch set (a user who said goodbye counts until that expiry)."""
        return self._guard.call(self._redis.zcount, presence_watch_key(self._namespace), f"({now}", "+inf")


def _decode(raw: dict[bytes, bytes]) -> Sessions:
    sessions = {}
    for field, value in raw.items():
        state, _, expiry = value.decode().partition(" ")
        sessions[field.decode()] = (state, _float(expiry) or 0.0)
    return sessions


def _float(raw) -> float | None:
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None
