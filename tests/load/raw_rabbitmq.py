"""Baseline: raw RabbitMQ throughput with pika, on the same machine and in
the same run as the end-to-end benchmark.

A fresh durable classic queue in its own vhost; persistent 512-byte
messages; one consumer with manual acks (prefetch 100) runs at the same time
in another process, so publisher and consumer do not share a GIL. Two ways
to publish:

- `batch` (the bench's baseline, issue #8): publisher confirms checked per
  batch of 100 — an asynchronous SelectConnection publishes 100 messages,
  waits until the broker confirmed all 100 (acks may cover several, the
  `multiple` flag), then publishes the next 100. What a publisher that
  batches its confirms can reach on this machine.
- `single`: BlockingConnection + confirm_delivery, one confirm awaited per
  publish (the per-message cost a naive send path pays). Kept as a second line.

    .venv/bin/python -m tests.load.raw_rabbitmq -n 20000 --mode batch
    .venv/bin/python -m tests.load.raw_rabbitmq -n 5000 --mode single
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time
from dataclasses import dataclass

import pika

from tests.load import cpu
from tests.support import services

QUEUE = "bench.raw"
BODY_BYTES = 512
PREFETCH = 100
CONFIRM_BATCH = 100
BATCH = "batch"
SINGLE = "single"


@dataclass
class RawResult:
    messages: int
    published: int
    consumed: int
    publish_seconds: float      # first publish → last confirm
    end_to_end_seconds: float   # first publish → last ack
    machine_busy: float = 0.0   # share of all CPUs busy (anything on the machine) meanwhile
    mode: str = SINGLE
    batch: int = 1              # messages per confirm wait
    nacked: int = 0

    @property
    def published_per_second(self) -> float:
        return self.published / self.publish_seconds if self.publish_seconds > 0 else 0.0

    @property
    def end_to_end_per_second(self) -> float:
        return self.consumed / self.end_to_end_seconds if self.end_to_end_seconds > 0 else 0.0

    @property
    def label(self) -> str:
        return (f"confirms per batch of {self.batch}" if self.mode == BATCH else "confirm per publish")

    def lines(self) -> list[str]:
        return [
            f"raw RabbitMQ ({self.label}): {self.published}/{self.messages} published"
            + (f" ({self.nacked} nacked)" if self.nacked else "") + f", {self.consumed} consumed",
            f"  published  {self.published_per_second:9.0f} msg/s  ({self.publish_seconds:.2f} s)",
            f"  end to end {self.end_to_end_per_second:9.0f} msg/s  ({self.end_to_end_seconds:.2f} s)",
            f"  machine CPU busy meanwhile {self.machine_busy:.0%} (of {os.cpu_count()} CPUs, every process)",
        ]


def _declare(channel) -> None:
    channel.queue_declare(QUEUE, durable=True, arguments={"x-queue-type": "classic"})


def _consume(url: str, expected: int, ready, results, timeout: float) -> None:
    """Child process: ack every message; report (count, last ack time).

    time.monotonic() is CLOCK_MONOTONIC, shared by all processes on Linux,
    so the parent can subtract its own timestamps from ours.
    """
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    _declare(channel)
    channel.basic_qos(prefetch_count=PREFETCH)
    ready.set()
    count, last_ack = 0, None
    deadline = time.monotonic() + timeout
    try:
        for method, _props, _body in channel.consume(QUEUE, auto_ack=False, inactivity_timeout=1.0):
            if method is not None:
                channel.basic_ack(method.delivery_tag)
                count += 1
                last_ack = time.monotonic()
                if count >= expected:
                    break
            if time.monotonic() > deadline:
                break
        channel.cancel()
    finally:
        results.put((count, last_ack))
        connection.close()


def _publish_single(url: str, messages: int, deadline: float) -> tuple[int, int, float, float]:
    """One confirm awaited per publish; (published, nacked, first, last confirm)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        _declare(channel)
        channel.confirm_delivery()
        body = b"x" * BODY_BYTES
        props = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent)
        published = 0
        first = time.monotonic()
        for _ in range(messages):
            # In confirm mode basic_publish returns once the broker confirmed
            # this message, and raises on a nack or an unroutable return.
            channel.basic_publish("", QUEUE, body, props, mandatory=True)
            published += 1
            if time.monotonic() > deadline:
                break
        return published, 0, first, time.monotonic()
    finally:
        if connection.is_open:
            connection.close()


def _publish_batched(url: str, messages: int, batch: int, deadline: float) -> tuple[int, int, float, float]:
    """Publish `batch` messages, wait for every one of their confirms, repeat
    (SelectConnection: the confirms arrive as callbacks, several per ack
    frame when the broker sets `multiple`); (confirmed, nacked, first, last)."""
    body = b"x" * BODY_BYTES
    props = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent)
    state = {"published": 0, "confirmed": 0, "nacked": 0, "first": 0.0, "last": 0.0, "error": None}
    pending: set[int] = set()
    holder: dict = {}

    def stop(error: str | None = None) -> None:
        if error and state["error"] is None:
            state["error"] = error
        connection = holder["connection"]
        if connection.is_open:
            connection.close()  # on_close stops the loop
        else:
            connection.ioloop.stop()

    def publish_batch() -> None:
        channel = holder["channel"]
        n = min(batch, messages - state["published"])
        for _ in range(n):
            state["published"] += 1
            pending.add(state["published"])  # delivery tags count publishes on the channel from 1
            channel.basic_publish("", QUEUE, body, props)

    def on_confirm(frame) -> None:
        method = frame.method
        tags = ({t for t in pending if t <= method.delivery_tag} if method.multiple else {method.delivery_tag})
        pending.difference_update(tags)
        if isinstance(method, pika.spec.Basic.Nack):
            state["nacked"] += len(tags)
        else:
            state["confirmed"] += len(tags)
        if pending:
            return
        state["last"] = time.monotonic()
        if state["published"] >= messages or time.monotonic() > deadline:
            stop()
        else:
            publish_batch()

    def start(_frame) -> None:
        state["first"] = time.monotonic()
        publish_batch()

    def on_channel(channel) -> None:
        holder["channel"] = channel
        channel.add_on_close_callback(lambda _ch, reason: stop(f"channel closed: {reason}")
                                      if state["published"] < messages or pending else None)
        channel.confirm_delivery(ack_nack_callback=on_confirm,
                                 callback=lambda _ok: channel.queue_declare(
                                     QUEUE, durable=True, arguments={"x-queue-type": "classic"}, callback=start))

    connection = pika.SelectConnection(
        pika.URLParameters(url),
        on_open_callback=lambda conn: conn.channel(on_open_callback=on_channel),
        on_open_error_callback=lambda _conn, error: (state.update(error=f"could not connect: {error!r}"),
                                                     _conn.ioloop.stop()),
        on_close_callback=lambda conn, _reason: conn.ioloop.stop())
    holder["connection"] = connection
    connection.ioloop.call_later(max(1.0, deadline - time.monotonic()), lambda: stop("timed out"))
    connection.ioloop.start()
    if state["error"] and state["error"] != "timed out":
        raise RuntimeError(f"raw batched publisher: {state['error']}")
    return state["confirmed"], state["nacked"], state["first"], state["last"] or time.monotonic()


def run_raw(messages: int = 5000, timeout: float = 60.0, mode: str = SINGLE,
            batch: int = CONFIRM_BATCH) -> RawResult:
    """Publish `messages` (confirm per publish, or per batch of `batch`)
    while another process consumes them."""
    url = services.create_vhost()
    ctx = mp.get_context("spawn")
    ready, results = ctx.Event(), ctx.Queue()
    consumer = ctx.Process(target=_consume, args=(url, messages, ready, results, timeout), daemon=True)
    try:
        consumer.start()
        if not ready.wait(30):
            raise RuntimeError("raw consumer did not start")
        deadline = time.monotonic() + timeout
        busy_before, started = cpu.machine_busy_seconds(), time.monotonic()
        if mode == BATCH:
            published, nacked, first, last_confirm = _publish_batched(url, messages, batch, deadline)
        else:
            published, nacked, first, last_confirm = _publish_single(url, messages, deadline)
        consumed, last_ack = results.get(timeout=timeout + 30)
        busy = (cpu.machine_busy_seconds() - busy_before) / ((time.monotonic() - started) * (os.cpu_count() or 1))
        consumer.join(10)
        return RawResult(messages, published, consumed, last_confirm - first,
                         (last_ack - first) if last_ack else 0.0, busy, mode,
                         batch if mode == BATCH else 1, nacked)
    finally:
        if consumer.is_alive():
            consumer.kill()
        services.delete_vhost(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--messages", type=int, default=None,
                        help="messages (default: 20000 batched, 5000 single)")
    parser.add_argument("--mode", choices=(BATCH, SINGLE), default=BATCH)
    parser.add_argument("--batch", type=int, default=CONFIRM_BATCH, help="messages per confirm wait (batch mode)")
    args = parser.parse_args()
    messages = args.messages or (20_000 if args.mode == BATCH else 5000)
    print("\n".join(run_raw(messages, mode=args.mode, batch=args.batch).lines()))


if __name__ == "__main__":
    main()
