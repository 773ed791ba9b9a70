"""How deep the delivery queues are, for backpressure at the edge.

`QueueDepths` polls RabbitMQ (passive declares on its own connection) once a
second in a background thread, so a request reads a number, never the
network. `StubDepths` reads the embedded broker's in-process queues.
"""

from __future__ import annotations

import logging
import threading
import time

import pika

log = logging.getLogger(__name__)


class QueueDepths:
    def __init__(self, url: str, queue_names: list[str], interval_seconds: float = 1.0):
        self._params = pika.URLParameters(url)
        self._queue_names = queue_names
        self._interval = interval_seconds
        self._deepest = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def deepest(self) -> int:
        """Ready messages in the deepest delivery queue, as last measured."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="herald-depths", daemon=True)
                self._thread.start()
            return self._deepest

    def _run(self) -> None:
        while True:
            try:
                self._poll_forever()
            except Exception as e:  # unknown depth keeps the last value; never refuse on a blip
                log.warning("queue depth polling failed: %r", e)
                time.sleep(self._interval)

    def _poll_forever(self) -> None:
        connection = pika.BlockingConnection(self._params)
        try:
            channel = connection.channel()
            while True:
                depths = [channel.queue_declare(queue=name, passive=True).method.message_count
                          for name in self._queue_names]
                with self._lock:
                    self._deepest = max(depths, default=0)
                connection.sleep(self._interval)
        finally:
            if connection.is_open:
                connection.close()


class StubDepths:
    """Embedded mode: the in-process broker's queue sizes."""

    def __init__(self, broker, queue_names: list[str]):
        self._broker = broker
        self._queue_names = queue_names

    def deepest(self) -> int:
        return max((self._broker.queues[name].qsize() for name in self._queue_names
                    if name in self._broker.queues), default=0)


class FixedDepth:
    """A depth that does not move (tests of the edge alone)."""

    def __init__(self, depth: int = 0):
        self.depth = depth

    def deepest(self) -> int:
        return self.depth
