"""How deep the queues are, for backpressure at the edge and for the
pipeline's figures (`herald status`, the metrics).

`QueueDepths` polls RabbitMQ (passive declares on its own connection) once a
second in a background thread, so a request or a scrape reads numbers, never
the network. `StubDepths` reads the embedded broker's in-process queues.
"""

from __future__ import annotations

import logging
import threading
import time

import pika

from rabbitmq.probe import measure_queues

log = logging.getLogger(__name__)


# Figures older than this are not shown: the broker stopped answering.
STALE_SECONDS = 5.0


class QueueDepths:
    def __init__(self, url: str, queue_names: list[str], interval_seconds: float = 1.0,
                 other_queues: list[str] = ()):
        self._params = pika.URLParameters(url)
        self._queue_names = queue_names  # backpressure looks at these (the delivery queues)
        self._all_names = list(queue_names) + [name for name in other_queues if name not in queue_names]
        self._interval = interval_seconds
        self._deepest = 0
        self._figures: dict[str, tuple[int, int]] = {}
        self._measured_at = 0.0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def deepest(self) -> int:
        """Ready messages in the deepest delivery queue, as last measured."""
        with self._lock:
            self._start()
            return self._deepest

    def figures(self) -> dict[str, tuple[int, int]] | None:
        """Each queue's (ready messages, consumers) as last measured; None
        when the last measure is older than a few seconds (or there is none yet)."""
        with self._lock:
            self._start()
            if time.monotonic() - self._measured_at > max(STALE_SECONDS, 3 * self._interval):
                return None
            return dict(self._figures)

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="herald-depths", daemon=True)
            self._thread.start()

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
            while True:
                figures = measure_queues(connection, self._all_names)
                with self._lock:
                    self._deepest = max((figures[name][0] for name in self._queue_names), default=0)
                    self._figures = figures
                    self._measured_at = time.monotonic()
                connection.sleep(self._interval)
        finally:
            if connection.is_open:
                connection.close()


class StubDepths:
    """Embedded mode: the in-process broker's queue sizes; a queue has one
    consumer when the in-process worker (if given) consumes it."""

    def __init__(self, broker, queue_names: list[str], worker=None, other_queues: list[str] = ()):
        self._broker = broker
        self._queue_names = queue_names
        self._all_names = list(queue_names) + [name for name in other_queues if name not in queue_names]
        self._worker = worker

    def deepest(self) -> int:
        return max((self._broker.queues[name].qsize() for name in self._queue_names
                    if name in self._broker.queues), default=0)

    def figures(self) -> dict[str, tuple[int, int]]:
        consumed = set(getattr(self._worker, "consumers", {}) or {})
        return {name: (self._broker.queues[name].qsize() if name in self._broker.queues else 0,
                       1 if name in consumed else 0)
                for name in self._all_names}


class FixedDepth:
    """A depth that does not move (tests of the edge alone)."""

    def __init__(self, depth: int = 0):
        self.depth = depth

    def deepest(self) -> int:
        return self.depth

    def figures(self) -> dict[str, tuple[int, int]]:
        return {}  # no queues to show
