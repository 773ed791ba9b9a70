"""Full mode: Redis pub/sub rings the edge processes. A ring's payload
carries its position and conversation before the frame's text
(pipeline.rings), so the subscriber never decodes the frame. A peal (one
frame to a large group) is published once on a channel every edge process
hears; each hands on the rings of the users it holds. Who is online
is the presence store's business (realtime.presence_redis), not this one's.

One subscriber thread per process owns the PubSub connection (redis-py's
PubSub is not thread-safe); other threads ask it to (un)subscribe through a
queue, applied between short reads.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from typing import Iterable

import redis

from pipeline.channels import DEFAULT_NAMESPACE, control_channel, peal_channel, user_channel
from pipeline.control import RELOAD
from pipeline.rings import RESYNC, Peal, Ring, pack, pack_peal, unpack, unpack_peal
from realtime.base import ControlListener, Listener
from realtime.redis_guard import RedisGuard

log = logging.getLogger(__name__)
POOL_SIZE = 64  # connections per process (the subscriber's included)


class RedisRealtime:
    def __init__(self, client: redis.Redis, namespace: str = DEFAULT_NAMESPACE, guard: RedisGuard | None = None):
        self._redis = client
        self._namespace = namespace
        self._peal_channel = peal_channel(namespace)
        # (action, user id, done: applied, late: the caller stopped waiting)
        self._changes: queue.Queue[tuple[str, int, threading.Event, threading.Event]] = queue.Queue()
        self._listener: Listener | None = None
        self._control_listener: ControlListener | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        # Fail fast while Redis is away: a lost ring is recovered from the stream.
        self.guard = guard or RedisGuard()

    @classmethod
    def from_url(cls, url: str, namespace: str = DEFAULT_NAMESPACE) -> "RedisRealtime":
        # A blocking pool: redis-py's default pool raises MaxConnectionsError
        # past 100 connections at once, which 10,000 sockets' heartbeats and
        # a burst of handshakes reach under gevent — and five such errors
        # open the breaker for everyone. Here a caller waits (up to 2 s) for
        # a connection instead; the subscriber holds one for good.
        pool = redis.BlockingConnectionPool.from_url(url, max_connections=POOL_SIZE, timeout=2, socket_timeout=2,
                                                     socket_connect_timeout=2, health_check_interval=30)
        return cls(redis.Redis(connection_pool=pool), namespace)

    def _channel(self, user_id: int) -> str:
        return user_channel(user_id, self._namespace)

    @property
    def client(self) -> redis.Redis:
        """The connection pool, shared with the presence store (make_presence)."""
        return self._redis

    def ring(self, user_id: int, position: int | None, text: str, conversation_id: int | None = None) -> None:
        ring = Ring(user_id, position, text, conversation_id)
        self.guard.call(self._redis.publish, self._channel(user_id), pack(ring))

    def ring_many(self, rings: Iterable[Ring | Peal]) -> None:
        """All the publishes in one pipeline: one round trip however many
        users; a peal is one publish however many users it rings."""
        pipe = self._redis.pipeline(transaction=False)
        for item in rings:
            if isinstance(item, Peal):
                pipe.publish(self._peal_channel, pack_peal(item))
            else:
                pipe.publish(self._channel(item.user_id), pack(item))
        if len(pipe):
            self.guard.call(pipe.execute)

    def control(self, text: str) -> None:
        """Tell every listening process (pipeline.control): this one first, at
        once, then the others through Redis (this one hears it again: control
        messages are idempotent)."""
        self._hand_over_control(text)
        self.guard.call(self._redis.publish, control_channel(self._namespace), text)

    def listen(self, listener: Listener) -> None:
        with self._lock:
            self._listener = listener
            self._start()

    def listen_control(self, listener: ControlListener) -> None:
        """Hear control messages from now on; `RELOAD` after every (re)connect."""
        with self._lock:
            self._control_listener = listener
            self._start()

    def _start(self) -> None:
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
            # The control and peal channels also keep PubSub in "subscribed"
            # state, so get_message() can be called before any user connects.
            pubsub.subscribe(control_channel(self._namespace), self._peal_channel,
                             *[self._channel(u) for u in subscribed])
            # Control messages sent while we were away are lost: re-read the store.
            self._hand_over_control(RELOAD)
            for user_id in subscribed:
                # Back after an outage: rings may have been lost meanwhile.
                self._resync(user_id)
            while True:
                self._apply_changes(pubsub, subscribed)
                message = pubsub.get_message(timeout=0.05)
                if message is not None and message["type"] == "message":
                    self._dispatch(message, subscribed)
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
                self._resync(user_id)

    def _dispatch(self, message: dict, subscribed: set[int]) -> None:
        channel = message["channel"].decode()
        if channel == control_channel(self._namespace):
            self._hand_over_control(message["data"].decode())
            return
        if channel == self._peal_channel:
            peal = unpack_peal(message["data"].decode())
            if peal is None:  # another version's format: the members' sockets re-read their streams
                log.warning("unreadable peal; its members here will re-read their streams")
                for user_id in subscribed:
                    self._resync(user_id)
                return
            for ring in peal.rings(subscribed):
                self._hand_over(ring)
            return
        self._hand_over(unpack(int(channel.rsplit(":", 1)[1]), message["data"].decode()))

    def _resync(self, user_id: int) -> None:
        self._hand_over(Ring(user_id, None, RESYNC))

    def _hand_over_control(self, text: str) -> None:
        listener = self._control_listener
        if listener is not None:
            try:
                listener(text)
            except Exception:
                log.exception("control listener failed for %r", text[:100])

    def _hand_over(self, ring: Ring) -> None:
        listener = self._listener
        if listener is not None:
            try:
                listener(ring)
            except Exception:
                log.exception("ring listener failed for user %s", ring.user_id)
