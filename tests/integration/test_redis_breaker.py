"""Redis behind a circuit breaker: while it is away, calls fail fast and
the callers' fallbacks (offline presence, rings recovered from the stream) apply."""

import threading
import time

import pytest
import redis

from pipeline.errors import DependencyUnavailable
from pipeline.rings import Ring
from realtime import RedisPresence, RedisRealtime, make_presence


class CountingRedis(redis.Redis):
    """A client for a port nobody listens on, counting the commands it tried."""

    def __init__(self):
        super().__init__(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
        self.tried = 0

    def execute_command(self, *args, **options):
        self.tried += 1
        return super().execute_command(*args, **options)


def test_after_five_failures_redis_is_not_called_until_the_breaker_resets():
    client = CountingRedis()
    realtime = RedisRealtime(client, "breaker-test")
    presence = make_presence(realtime, "redis://127.0.0.1:1/0", "breaker-test")
    assert isinstance(presence, RedisPresence)  # on the rings' client, behind their breaker
    for _ in range(5):
        with pytest.raises(redis.ConnectionError):
            realtime.ring(1, None, "{}")
    started = time.monotonic()
    with pytest.raises(DependencyUnavailable):  # the push decision: offline, at once
        presence.online_among([1, 2], time.time())
    with pytest.raises(DependencyUnavailable):  # a heartbeat
        presence.refresh_session(1, "s1", "online", time.time() + 30, time.time(), 60)
    with pytest.raises(DependencyUnavailable):
        realtime.ring_many([Ring(1, 3, "{}"), Ring(2, 4, "{}", 9)])
    assert client.tried == 5 and time.monotonic() - started < 0.05


def test_the_breaker_does_not_serialize_threads(redis_url):
    realtime = RedisRealtime.from_url(redis_url, "breaker-test")
    original = realtime._redis.publish

    def slow_publish(*args):
        time.sleep(0.3)
        return original(*args)

    realtime._redis.publish = slow_publish
    threads = [threading.Thread(target=realtime.ring, args=(n, None, "{}")) for n in range(4)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started < 0.9  # four 0.3 s calls at once, not one after another
