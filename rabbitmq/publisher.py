"""Publishers the edge hands committed jobs to.

`BatchPublisher` is the edge's bounded publisher for RabbitMQ: one AMQP
connection per process, owned by one thread (a greenlet under gevent),
publishing in AMQP transactions of up to `batch_size` messages. It exists
because Dramatiq's RabbitmqBroker opens a connection per thread — per
greenlet under gevent (dramatiq #381, #558) — and waits for each publisher
confirm on its own. A transaction commit answers only once RabbitMQ has
taken every message of the batch, so one round trip covers the batch.

Publishing happens after the database commit; anything that fails to
publish (or is dropped because the in-memory queue is full) stays
unpublished in the outbox and the sweeper republishes it. `on_published`
receives the outbox ids that RabbitMQ took.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable, Iterable

import pika

from pipeline.jobs import Job
from rabbitmq.jobs import encode, to_message
from rabbitmq.topology import declare_all

log = logging.getLogger(__name__)
OnPublished = Callable[[list[int]], None]


class BatchPublisher:
    def __init__(self, url: str, queue_names: list[str], on_published: OnPublished,
                 batch_size: int = 200, max_pending: int = 20_000, attempts: int = 3):
        self._params = pika.URLParameters(url)
        self._queue_names = queue_names
        self._on_published = on_published
        self._batch_size = batch_size
        self._attempts = attempts
        self._pending: queue.Queue[Job] = queue.Queue(maxsize=max_pending)
        self._idle = threading.Event()
        self._idle.set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._connection = None
        self._channel = None

    def submit(self, jobs: Iterable[Job]) -> None:
        """Queue jobs for publishing without waiting; never raises on overload."""
        self._start()
        for job in jobs:
            try:
                self._idle.clear()
                self._pending.put_nowait(job)
            except queue.Full:
                log.warning("publisher queue full; outbox %s left to the sweeper", job.outbox_id)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far was published or given up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._pending.empty() and self._idle.wait(0.05):
                return True
        return False

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="herald-publisher", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = self._take_batch()
            self._publish(batch)
            if self._pending.empty():
                self._idle.set()

    def _take_batch(self) -> list[Job]:
        batch = [self._pending.get()]
        while len(batch) < self._batch_size:
            try:
                batch.append(self._pending.get_nowait())
            except queue.Empty:
                break
        return batch

    def _publish(self, batch: list[Job]) -> None:
        for attempt in range(1, self._attempts + 1):
            try:
                channel = self._ensure_channel()
                for job in batch:
                    channel.basic_publish(exchange="", routing_key=job.queue_name, body=encode(job),
                                          properties=pika.BasicProperties(delivery_mode=2))
                channel.tx_commit()
                break
            except pika.exceptions.AMQPError as e:
                log.warning("publish attempt %d/%d failed: %r", attempt, self._attempts, e)
                self._reset()
                time.sleep(min(0.2 * 2 ** attempt, 2.0))
        else:
            log.error("%d jobs left to the outbox sweeper", len(batch))
            return
        self._report([job.outbox_id for job in batch if job.outbox_id is not None])

    def _report(self, outbox_ids: list[int]) -> None:
        try:
            self._on_published(outbox_ids)
        except Exception:  # the sweeper repairs a missed mark; never kill the loop
            log.exception("could not mark %d outbox rows published", len(outbox_ids))

    def _ensure_channel(self):
        if self._channel is None or not self._channel.is_open:
            self._reset()
            self._connection = pika.BlockingConnection(self._params)
            channel = self._connection.channel()
            declare_all(channel, self._queue_names)
            channel.tx_select()
            self._channel = channel
        return self._channel

    def _reset(self) -> None:
        try:
            if self._connection is not None and self._connection.is_open:
                self._connection.close()
        except Exception:
            pass
        self._connection = self._channel = None


class BrokerPublisher:
    """Publishes through a Dramatiq broker: the in-process stub broker
    (embedded mode) or, in worker processes, the worker's own RabbitmqBroker
    (confirm_delivery on; one connection per worker thread, a bounded set).

    `submit` publishes now and marks what went out; `send` is the sweeper's
    way: it raises when the broker did not take every job.
    """

    def __init__(self, broker, on_published: OnPublished):
        self._broker = broker
        self._on_published = on_published

    def send(self, jobs: list[Job]) -> None:
        for job in jobs:
            self._broker.enqueue(to_message(job))

    def submit(self, jobs: Iterable[Job]) -> None:
        jobs = list(jobs)
        if not jobs:
            return
        try:
            self.send(jobs)
        except Exception as e:  # the rows stay unmarked: the sweeper publishes them
            log.warning("left %d jobs to the outbox sweeper: %r", len(jobs), e)
            return
        try:
            self._on_published([job.outbox_id for job in jobs if job.outbox_id is not None])
        except Exception:
            log.exception("could not mark %d outbox rows published", len(jobs))

    def flush(self, timeout: float = 10.0) -> bool:
        return True
