"""The realtime layer shared by the edge and the workers: a doorbell
(pub/sub) that rings a user's live sessions, a control channel every edge
process hears (token revocations, pipeline.control), and the presence
store — the one session registry — that says whether a user has any, and
in which state. Redis in full mode, in-process when embedded.

Pub/sub is at-most-once: a ring may be lost, so it carries the frame only as
a shortcut; the database stream is the store a socket falls back on.
"""

import redis

from realtime.base import Realtime
from realtime.key_cache import InProcessKeyCache, RedisKeyCache
from realtime.memory import InProcessRealtime
from realtime.presence_memory import InProcessPresence
from realtime.presence_redis import RedisPresence
from realtime.redis_backend import RedisRealtime

__all__ = ["Realtime", "InProcessRealtime", "RedisRealtime", "make_realtime",
           "InProcessPresence", "RedisPresence", "make_presence", "InProcessKeyCache", "RedisKeyCache",
           "make_key_cache"]


def make_realtime(redis_url: str | None, namespace: str) -> Realtime:
    return RedisRealtime.from_url(redis_url, namespace) if redis_url else InProcessRealtime()


def make_presence(realtime: Realtime, redis_url: str | None, namespace: str):
    """Presence lives where the rings go: in this process when the rings do
    (embedded mode holds every socket), in Redis otherwise — on the rings'
    connection pool and behind their breaker: one Redis, one breaker."""
    if isinstance(realtime, RedisRealtime):
        return RedisPresence(realtime.client, namespace, realtime.guard)
    if isinstance(realtime, InProcessRealtime) or not redis_url:
        return InProcessPresence()
    return RedisPresence.from_url(redis_url, namespace)


def make_key_cache(realtime: Realtime, redis_url: str | None, namespace: str):
    """The API keys' cache lives where presence does, on the rings' pool and breaker."""
    if isinstance(realtime, RedisRealtime):
        return RedisKeyCache(realtime.client, namespace, realtime.guard)
    if isinstance(realtime, InProcessRealtime) or not redis_url:
        return InProcessKeyCache()
    return RedisKeyCache(redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2), namespace)
