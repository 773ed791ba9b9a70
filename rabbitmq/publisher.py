"""Publishers the edge hands committed jobs to.

`BatchPublisher` is the edge's bounded publisher for RabbitMQ: one AMQP
connection per process, owned by one thread (a greenlet under gevent). It
exists because Dramatiq's RabbitmqBroker opens a connection per thread —
per greenlet under gevent (dramatiq #381, #558) — and waits for each
publisher confirm on its own. It publishes whatever has queued up (up to
`batch_size`) with pipelined publisher confirms: every message of the batch
is written, then the broker's acks (one ack frame may cover many) are
awaited together — one round trip per batch, not per message.

Marking what RabbitMQ took is a second thread's work (`on_published`, one
database transaction for every id confirmed since its last one): the
publisher never waits on the database, and under load one mark covers many
batches. That kept marks within the outbox sweep grace, so the sweeper
repairs crashes and does not republish a steady run's jobs.

Publishing happens after the database commit; anything that fails to
publish (or is dropped because the in-memory queue is full) stays
unpublished in the outbox and the sweeper republishes it. A crash between
a confirm and its mark leaves the row unmarked: republished, delivered
once (delivery is idempotent).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable, Iterable

import pika

from pipeline.jobs import Job
from rabbitmq.jobs import publishing
from rabbitmq.topology import declare_all

log = logging.getLogger(__name__)
OnPublished = Callable[[list[int]], None]
PERSISTENT = pika.BasicProperties(delivery_mode=2)
# Waiting for a batch's confirms longer than this means the connection is
# unwell: it is dropped and the batch published again on a new one.
CONFIRM_TIMEOUT_SECONDS = 10.0
# An idle publisher still answers the broker's heartbeats this often.
IDLE_SECONDS = 5.0


class BatchPublisher:
    def __init__(self, url: str, queue_names: list[str], on_published: OnPublished,
                 batch_size: int = 500, max_pending: int = 20_000, attempts: int = 3):
        self._params = pika.URLParameters(url)
        self._queue_names = queue_names
        self._on_published = on_published
        self._batch_size = batch_size
        self._attempts = attempts
        self._pending: queue.Queue[Job] = queue.Queue(maxsize=max_pending)
        self._marks: queue.Queue[list[int]] = queue.Queue()
        # Jobs submitted and not yet marked (or given up): flush waits for 0.
        self._unfinished = 0
        self._settled = threading.Condition()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._connection = None
        self._channel = None
        self._confirm: _Confirms | None = None

    def submit(self, jobs: Iterable[Job]) -> None:
        """Queue jobs for publishing without waiting; never raises on overload."""
        self._start()
        for job in jobs:
            self._begin(1)
            try:
                self._pending.put_nowait(job)
            except queue.Full:
                log.warning("publisher queue full; outbox %s left to the sweeper", job.outbox_id)
                self._finish(1)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far was published and marked, or given up."""
        deadline = time.monotonic() + timeout
        with self._settled:
            while self._unfinished:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._settled.wait(min(left, 0.05))
        return True

    def _begin(self, n: int) -> None:
        with self._settled:
            self._unfinished += n

    def _finish(self, n: int) -> None:
        with self._settled:
            self._unfinished -= n
            if not self._unfinished:
                self._settled.notify_all()

    def _start(self) -> None:
        with self._lock:
            if not self._threads:
                self._threads = [threading.Thread(target=self._run, name="herald-publisher", daemon=True),
                                 threading.Thread(target=self._mark_loop, name="herald-marker", daemon=True)]
                for thread in self._threads:
                    thread.start()

    def _run(self) -> None:
        while True:
            batch = self._take_batch()
            if batch:
                self._publish(batch)

    def _take_batch(self) -> list[Job]:
        try:
            batch = [self._pending.get(timeout=IDLE_SECONDS)]
        except queue.Empty:
            self._keep_alive()
            return []
        while len(batch) < self._batch_size:
            try:
                batch.append(self._pending.get_nowait())
            except queue.Empty:
                break
        return batch

    def _keep_alive(self) -> None:
        """Answer heartbeats while idle, so the broker keeps the connection."""
        try:
            if self._connection is not None and self._connection.is_open:
                self._connection.process_data_events(0)
        except Exception as e:  # reconnect at the next publish
            log.info("publisher connection dropped while idle: %r", e)
            self._reset()

    def _publish(self, batch: list[Job]) -> None:
        for attempt in range(1, self._attempts + 1):
            try:
                self._publish_confirmed(batch)
                break
            except (pika.exceptions.AMQPError, _NotConfirmed) as e:
                log.warning("publish attempt %d/%d failed: %r", attempt, self._attempts, e)
                self._reset()
                time.sleep(min(0.2 * 2 ** attempt, 2.0))
        else:
            log.error("%d jobs left to the outbox sweeper", len(batch))
            self._finish(len(batch))
            return
        self._marks.put([job.outbox_id for job in batch])

    def _publish_confirmed(self, batch: list[Job]) -> None:
        """Write every message, then wait for the broker's acks of all of them.

        Raises:
            _NotConfirmed: a nack, or no answer within CONFIRM_TIMEOUT_SECONDS.
        """
        channel, confirms = self._ensure_channel()
        confirms.refused = False
        for job in batch:
            # The channel under pika's BlockingChannel: its basic_publish
            # only buffers the frame (the blocking one would await each confirm).
            with publishing(job) as message:
                channel.basic_publish(exchange="", routing_key=job.queue_name, body=message.encode(),
                                      properties=PERSISTENT)
            confirms.published += 1
            confirms.outstanding.add(confirms.published)
        self._wait(lambda: not confirms.outstanding, "the batch's confirms")
        if confirms.refused:
            raise _NotConfirmed("the broker refused a message of the batch")

    def _mark_loop(self) -> None:
        while True:
            ids = self._marks.get()
            while True:  # one transaction for every batch confirmed since the last
                try:
                    ids.extend(self._marks.get_nowait())
                except queue.Empty:
                    break
            try:
                self._on_published([outbox_id for outbox_id in ids if outbox_id is not None])
            except Exception:  # the sweeper repairs a missed mark; never kill the loop
                log.exception("could not mark %d outbox rows published", len(ids))
            finally:
                self._finish(len(ids))

    def _ensure_channel(self):
        if self._channel is None or not self._channel.is_open:
            self._reset()
            self._connection = pika.BlockingConnection(self._params)
            blocking = self._connection.channel()
            declare_all(blocking, self._queue_names)
            confirms = _Confirms()
            selected = []
            blocking._impl.confirm_delivery(ack_nack_callback=confirms.on_frame,
                                            callback=lambda _frame: selected.append(True))
            self._wait(lambda: bool(selected), "confirm mode")
            self._channel, self._confirm = blocking._impl, confirms
        return self._channel, self._confirm

    def _wait(self, done: Callable[[], bool], what: str) -> None:
        """Do the connection's I/O until `done()` (returning as soon as it
        is: process_data_events would sleep out its whole time limit, since
        confirm callbacks do not end it).

        Raises:
            _NotConfirmed: not done within CONFIRM_TIMEOUT_SECONDS.
        """
        expired: list[bool] = []
        ioloop = self._connection._impl.ioloop
        timer = ioloop.call_later(CONFIRM_TIMEOUT_SECONDS, lambda: expired.append(True))
        try:
            # pika's own wait for a blocking publish's confirm (BlockingChannel.basic_publish).
            self._connection._flush_output(done, lambda: bool(expired))
        finally:
            ioloop.remove_timeout(timer)
        if not done():
            raise _NotConfirmed(f"no answer in time for {what}")

    def _reset(self) -> None:
        try:
            if self._connection is not None and self._connection.is_open:
                self._connection.close()
        except Exception:
            pass
        self._connection = self._channel = self._confirm = None


class _NotConfirmed(Exception):
    pass


class _Confirms:
    """Delivery tags of one confirm-mode channel: the last one published,
    those still unconfirmed and whether any was refused (an ack or nack with
    `multiple` covers every tag up to its own)."""

    def __init__(self):
        self.published = 0
        self.outstanding: set[int] = set()
        self.refused = False

    def on_frame(self, frame) -> None:
        method = frame.method
        if isinstance(method, pika.spec.Basic.Nack):
            self.refused = True
        if method.multiple:
            self.outstanding = {tag for tag in self.outstanding if tag > method.delivery_tag}
        else:
            self.outstanding.discard(method.delivery_tag)


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
            with publishing(job) as message:
                self._broker.enqueue(message)

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
