"""The ring subscriber across Redis failures, on a scripted Redis: a socket
that subscribed while Redis was away, or whose SUBSCRIBE failed half-way,
is told to re-read its stream (RESYNC) once the subscription is active —
not left to the heartbeat, WS_PING_SECONDS (25 s) later."""

from __future__ import annotations

import threading
import time

import redis

from pipeline.channels import user_channel
from pipeline.rings import RESYNC
from realtime.redis_backend import RedisRealtime

NAMESPACE = "faults-subscriber"


class ScriptedRedis:
    """Just what RedisRealtime's subscriber uses of redis-py."""

    def __init__(self):
        self.down = False
        self.fail_subscribe_to: str | None = None  # one SUBSCRIBE to this channel fails
        self.live: "ScriptedPubSub | None" = None

    def pubsub(self, ignore_subscribe_messages: bool = True):
        self.live = ScriptedPubSub(self)
        return self.live


class ScriptedPubSub:
    def __init__(self, server: ScriptedRedis):
        self.server = server
        self.channels: set[str] = set()

    def subscribe(self, *channels: str) -> None:
        if self.server.down:
            raise redis.ConnectionError("Redis is down")
        if self.server.fail_subscribe_to in channels:
            self.server.fail_subscribe_to = None
            raise redis.ConnectionError("connection lost during SUBSCRIBE")
        self.channels.update(channels)

    def unsubscribe(self, *channels: str) -> None:
        self.channels.difference_update(channels)

    def get_message(self, timeout: float):
        if self.server.down:
            raise redis.ConnectionError("Redis is down")
        time.sleep(timeout)
        return None

    def close(self) -> None:
        pass


def listening(server: ScriptedRedis) -> tuple[RedisRealtime, list, threading.Event]:
    realtime = RedisRealtime(server, NAMESPACE)
    heard, resynced = [], threading.Event()

    def listener(ring):
        heard.append((ring.user_id, ring.text))
        if ring.text == RESYNC:
            resynced.set()

    realtime.listen(listener)
    return realtime, heard, resynced


def test_a_subscription_made_while_redis_is_down_is_resynced_once_active():
    server = ScriptedRedis()
    server.down = True
    realtime, heard, resynced = listening(server)
    realtime.subscribe(7)  # gives up after 2 s: the socket replays without its subscription
    server.down = False
    assert resynced.wait(5), f"no RESYNC for the late subscription: {heard}"
    assert heard == [(7, RESYNC)]
    assert user_channel(7, NAMESPACE) in server.live.channels


def test_a_subscribe_that_fails_half_way_is_restored_and_resynced_on_reconnect():
    server = ScriptedRedis()
    realtime, heard, resynced = listening(server)
    time.sleep(0.2)  # the subscriber is connected
    server.fail_subscribe_to = user_channel(7, NAMESPACE)
    realtime.subscribe(7)
    assert resynced.wait(5), f"no RESYNC after the failed SUBSCRIBE: {heard}"
    assert user_channel(7, NAMESPACE) in server.live.channels
