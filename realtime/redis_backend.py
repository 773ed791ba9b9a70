"""Full mode: Redis pub/sub rings the edge processes; a sorted set per user
(member: session id, score: expiry) is the session registry.

One subscriber thread per process owns the PubSub connection (redis-py's
PubSub is not thread-safe); other threads ask it to (un)subscribe through a
queue, applied between short reads.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

import pybreaker
import redis

from pipeline.errors import DependencyUnavailable
from pipeline.channels import DEFAULT_NAMESPACE, sessions_key, user_channel
from realtime.base import RESYNC, Listener

log = logging.getLogger(__name__)


class RedisRealtime:
    def __init__(self, client: redis.Redis, namespace: str = DEFAULT_NAMESPACE):
        self._redis = client
        self._namespace = namespace
        # (action, user id, done: applied, late: the caller stopped waiting)
        self._changes: queue.Queue[tuple[str, int, threading.Event, threading.Event]] = queue.Queue()
        self._listener: Listener | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        # Fail fast while Redis is away (callers treat presence as unknown →
        # offline, and a lost ring is recovered from the stream). `calling()`,
        # not `call()`: pybreaker #55 holds its lock across `call()`.
        self._breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=5, name="redis",
                                                 throw_new_error_on_trip=False)

    def _guarded(self, call, *args):
        """Run one Redis command through the breaker.

        Raises:
            DependencyUnavailable: the breaker is open; Redis was not called.
        """
        try:
            with self._breaker.calling():
                return call(*args)
        except pybreaker.CircuitBreakerError:
            raise DependencyUnavailable("Redis calls are failing; the circuit is open") from None

    @classmethod
    def from_url(cls, url: str, namespace: str = DEFAULT_NAMESPACE) -> "RedisRealtime":
        return cls(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2,
                                        health_check_interval=30), namespace)

    def _channel(self, user_id: int) -> str:
        return user_channel(user_id, self._namespace)

    def _sessions(self, user_id: int) -> str:
        return sessions_key(user_id, self._namespace)

    def ring(self, user_id: int, payload: str) -> None:
        self._guarded(self._redis.publish, self._channel(user_id), payload)

    def is_online(self, user_id: int) -> bool:
        return self._guarded(self._redis.zcount, self._sessions(user_id), time.time(), "+inf") > 0

    def register_session(self, user_id: int, session_id: str, ttl_seconds: int) -> None:
        key = self._sessions(user_id)
        now = time.time()
        pipe = self._redis.pipeline()
        pipe.zadd(key, {session_id: now + ttl_seconds})
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.expire(key, ttl_seconds * 2)
        self._guarded(pipe.execute)

    def unregister_session(self, user_id: int, session_id: str) -> None:
        self._guarded(self._redis.zrem, self._sessions(user_id), session_id)

    def listen(self, listener: Listener) -> None:
        with self._lock:
            self._listener = listener
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="herald-ring", daemon=True)
                self._thread.start()

    def subscribe(self, user_id: int) -> None:
        """Returns once the subscription is active (or after 2 s), so a
        socket that replays from the database afterwards misses no ring.

        After 2 s (Redis away) the socket replays anyway and rings may be
        lost until the subscription is active; the subscriber then tells the
        user's sockets to re-read their stream (RESYNC), as it does for the
        users it held before an outage.
        """
        done, late = threading.Event(), threading.Event()
        self._changes.put(("subscribe", user_id, done, late))
        if not done.wait(2.0):
            late.set()

    def unsubscribe(self, user_id: int) -> None:
        self._changes.put(("unsubscribe", user_id, threading.Event(), threading.Event()))

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except redis.RedisError:
            return False

    def _run(self) -> None:
        subscribed: set[int] = set()
        while True:
            try:
                self._serve(subscribed)
            except redis.RedisError as e:
                # Rings missed while Redis is away are recovered from the
                # database by position; resubscribe and carry on.
                log.warning("ring subscriber lost Redis (%r); reconnecting", e)
                time.sleep(0.5)

    def _serve(self, subscribed: set[int]) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            # A placeholder channel keeps PubSub in "subscribed" state so
            # get_message() can be called before any user connects.
            pubsub.subscribe(self._channel(0), *[self._channel(u) for u in subscribed])
            for user_id in subscribed:
                # Back after an outage: rings may have been lost meanwhile.
                self._notify(user_id, RESYNC)
            while True:
                self._apply_changes(pubsub, subscribed)
                message = pubsub.get_message(timeout=0.05)
                if message is not None and message["type"] == "message":
                    self._dispatch(message)
        finally:
            pubsub.close()

    def _apply_changes(self, pubsub, subscribed: set[int]) -> None:
        while True:
            try:
                action, user_id, done, late = self._changes.get_nowait()
            except queue.Empty:
                return
            # `subscribed` first: if Redis fails during the call, the
            # reconnect still (re)subscribes the user and resyncs its sockets.
            if action == "subscribe" and user_id not in subscribed:
                subscribed.add(user_id)
                pubsub.subscribe(self._channel(user_id))
            elif action == "unsubscribe" and user_id in subscribed:
                subscribed.discard(user_id)
                pubsub.unsubscribe(self._channel(user_id))
            done.set()
            if late.is_set():
                # Its socket replayed before this subscription was active
                # (it arrived during an outage): rings may have been lost.
                self._notify(user_id, RESYNC)

    def _dispatch(self, message: dict) -> None:
        channel = message["channel"].decode()
        self._notify(int(channel.rsplit(":", 1)[1]), message["data"].decode())

    def _notify(self, user_id: int, payload: str) -> None:
        listener = self._listener
        if listener is not None:
            try:
                listener(user_id, payload)
            except Exception:
                log.exception("ring listener failed for user %s", user_id)
