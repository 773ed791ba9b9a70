"""The cache of API keys every edge process reads before the database (D76).

An entry maps the SHA-256 of a key's secret to what the key stands for
(or to "none": unknown or revoked). Revoking writes "none" over it, and an
entry is filled only where none is (SET NX): a lookup that read the key
from the database just before its revocation committed cannot put it back.
Beside the entry, a "touched" marker that lives one interval says whether
this use should refresh the key's last-used time; both are read and set in
one round trip. In Redis for a deployment; in this process when embedded.
"""

from __future__ import annotations

import threading
import time

import redis

from pipeline.channels import DEFAULT_NAMESPACE, api_key_entry_key, api_key_touch_key
from pipeline.errors import DependencyUnavailable
from realtime.redis_guard import RedisGuard

# A revocation outlives any entry filled before it by far.
REVOKED_SECONDS = 24 * 3600


class RedisKeyCache:
    def __init__(self, client: redis.Redis, namespace: str = DEFAULT_NAMESPACE, guard: RedisGuard | None = None):
        self._redis = client
        self._namespace = namespace
        self._guard = guard or RedisGuard()

    def lookup(self, secret_hash: str, touch_seconds: int) -> tuple[str | None, bool]:
        """(the cached entry or None, whether no use was noted in the last `touch_seconds`).

        Raises:
            DependencyUnavailable: Redis is away or failing (the caller reads the database).
        """
        pipe = self._redis.pipeline(transaction=False)
        pipe.get(api_key_entry_key(secret_hash, self._namespace))
        pipe.set(api_key_touch_key(secret_hash, self._namespace), b"1", nx=True, ex=touch_seconds)
        entry, first_use = self._call(pipe.execute)
        return (entry.decode() if entry is not None else None), bool(first_use)

    def fill(self, secret_hash: str, entry: str, ttl_seconds: int) -> None:
        """Cache `entry` unless one is there (a revocation wins)."""
        self._call(self._redis.set, api_key_entry_key(secret_hash, self._namespace), entry.encode(),
                   nx=True, ex=ttl_seconds)

    def revoke(self, secret_hash: str) -> None:
        """Every process refuses the key from now on.

        Raises:
            DependencyUnavailable: Redis is away; the caller must not say "revoked".
        """
        self._call(self._redis.set, api_key_entry_key(secret_hash, self._namespace), b"none", ex=REVOKED_SECONDS)

    def _call(self, command, *args, **kwargs):
        """Through the breaker; a failing Redis is DependencyUnavailable, which callers expect."""
        try:
            return self._guard.call(command, *args, **kwargs)
        except redis.RedisError as e:
            raise DependencyUnavailable(f"Redis failed: {e}") from None


class InProcessKeyCache:
    """The embedded mode's cache: one process holds every request."""

    def __init__(self, clock=time.monotonic):
        self._entries: dict[str, tuple[str, float]] = {}
        self._touched: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def lookup(self, secret_hash: str, touch_seconds: int) -> tuple[str | None, bool]:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(secret_hash)
            first_use = self._touched.get(secret_hash, 0.0) <= now
            if first_use:
                self._touched[secret_hash] = now + touch_seconds
            return (entry[0] if entry is not None and entry[1] > now else None), first_use

    def fill(self, secret_hash: str, entry: str, ttl_seconds: int) -> None:
        now = self._clock()
        with self._lock:
            current = self._entries.get(secret_hash)
            if current is None or current[1] <= now:
                self._entries[secret_hash] = (entry, now + ttl_seconds)

    def revoke(self, secret_hash: str) -> None:
        with self._lock:
            self._entries[secret_hash] = ("none", self._clock() + REVOKED_SECONDS)
