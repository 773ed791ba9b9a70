"""Where each process's circuit breakers say how they stand, so one place
(`herald status`, the admin dashboard) sees every process's breakers.

A breaker writes only when its state changes (never per call). Redis in
full mode: one hash, field `service|process`, value `state|since` (epoch
seconds); in-process when embedded. The Redis breaker cannot report its
own opening to the Redis it lost: each process's `herald_breaker_state`
metric shows that one.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

import redis

log = logging.getLogger(__name__)

# An open breaker re-reports at every trial call (open → half-open → open),
# so an entry this old without a change belongs to a process that is gone
# or to a breaker nobody calls any more: it is not shown.
STALE_SECONDS = 600

Report = tuple[str, str, str, float]  # service, process, state, since (epoch seconds)


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class MemoryBreakerBoard:
    def __init__(self):
        self._states: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def report(self, service: str, state: str, since: float | None = None) -> None:
        with self._lock:
            self._states[(service, this_process())] = (state, since or time.time())

    def read(self) -> list[Report]:
        with self._lock:
            return [(service, process, state, since) for (service, process), (state, since) in self._states.items()]


class RedisBreakerBoard:
    def __init__(self, client: redis.Redis, namespace: str):
        self._client = client
        self._key = f"{namespace}:breakers"

    @classmethod
    def from_url(cls, url: str, namespace: str) -> "RedisBreakerBoard":
        # Short timeouts: a report is written from inside a breaker's state
        # change, and must not hold the caller long when Redis is the trouble.
        return cls(redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5), namespace)

    def report(self, service: str, state: str, since: float | None = None) -> None:
        try:
            self._client.hset(self._key, f"{service}|{this_process()}", f"{state}|{since or time.time()}")
        except redis.RedisError as e:  # the Redis breaker's own opening, typically
            log.info("breaker %s is %s (not reported: %r)", service, state, e)

    def read(self) -> list[Report]:
        """Every fresh report; stale ones are removed.

        Raises:
            redis.RedisError: Redis cannot be read.
        """
        now, reports, stale = time.time(), [], []
        for field, value in self._client.hgetall(self._key).items():
            service, process = field.decode().split("|", 1)
            state, since = value.decode().split("|", 1)
            if now - float(since) > STALE_SECONDS:
                stale.append(field)
            else:
                reports.append((service, process, state, float(since)))
        if stale:
            self._client.hdel(self._key, *stale)
        return reports


_PROCESS_BOARD = MemoryBreakerBoard()


def make_breaker_board(redis_url: str | None, namespace: str):
    """Redis when there is one; else this process's board (embedded mode:
    the edge and the in-process worker share it)."""
    return RedisBreakerBoard.from_url(redis_url, namespace) if redis_url else _PROCESS_BOARD
