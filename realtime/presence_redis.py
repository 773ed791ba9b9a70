"""Presence in Redis: per user a hash of session id → "state expiry" beside
the session registry, a last-seen key that expires after 30 days, the
state last announced to contacts, and a sorted set of users to re-check
when their sessions expire (a crashed edge process never says goodbye).

Every key carries the deployment's namespace (pipeline.channels). Errors
are redis-py's: the caller decides that unknown presence means offline.
"""

from __future__ import annotations

import redis

from pipeline.channels import (DEFAULT_NAMESPACE, announced_key, last_seen_key, presence_key,
                               presence_watch_key)

Sessions = dict[str, tuple[str, float]]


class RedisPresence:
    def __init__(self, client: redis.Redis, namespace: str = DEFAULT_NAMESPACE):
        self._redis = client
        self._namespace = namespace

    @classmethod
    def from_url(cls, url: str, namespace: str = DEFAULT_NAMESPACE) -> "RedisPresence":
        return cls(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2), namespace)

    def set_session(self, user_id: int, session_id: str, state: str, expires_at: float) -> None:
        """Record (or refresh) one session's state until `expires_at` (epoch seconds)."""
        key = presence_key(user_id, self._namespace)
        pipe = self._redis.pipeline()
        pipe.hset(key, session_id, f"{state} {expires_at}")
        pipe.expireat(key, int(expires_at) + 1)  # every session's ttl is the same: the latest lives longest
        pipe.zadd(presence_watch_key(self._namespace), {str(user_id): expires_at}, gt=True)
        pipe.execute()

    def drop_sessions(self, user_id: int, session_ids: list[str]) -> None:
        if session_ids:
            self._redis.hdel(presence_key(user_id, self._namespace), *session_ids)

    def sessions(self, user_id: int) -> Sessions:
        return _decode(self._redis.hgetall(presence_key(user_id, self._namespace)))

    def touch_last_seen(self, user_id: int, at: float, ttl_seconds: int) -> None:
        self._redis.set(last_seen_key(user_id, self._namespace), repr(at), ex=ttl_seconds)

    def read_many(self, user_ids: list[int]) -> dict[int, tuple[Sessions, float | None]]:
        """Sessions and last seen of several users in one round trip."""
        pipe = self._redis.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.hgetall(presence_key(user_id, self._namespace))
            pipe.get(last_seen_key(user_id, self._namespace))
        answers = pipe.execute()
        return {user_id: (_decode(answers[2 * n]), _float(answers[2 * n + 1]))
                for n, user_id in enumerate(user_ids)}

    def swap_announced(self, user_id: int, state: str, ttl_seconds: int) -> str | None:
        """Store the announced state and return the previous one, atomically:
        of several processes seeing the same change, one announces it."""
        previous = self._redis.set(announced_key(user_id, self._namespace), state, ex=ttl_seconds, get=True)
        return previous.decode() if previous is not None else None

    def due(self, now: float) -> list[int]:
        """Users whose every session has expired by `now`."""
        return [int(u) for u in self._redis.zrangebyscore(presence_watch_key(self._namespace), "-inf", now)]

    def unwatch(self, user_id: int) -> None:
        self._redis.zrem(presence_watch_key(self._namespace), str(user_id))


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
