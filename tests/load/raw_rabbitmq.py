"""Baseline: raw RabbitMQ throughput with pika, on the same machine and in
the same run as the end-to-end benchmark.

A fresh durable classic queue in its own vhost; persistent 512-byte
messages; the publisher waits for one confirm per publish (BlockingConnection
+ confirm_delivery — the per-message cost our send path pays); one consumer
with manual acks (prefetch 100) runs at the same time in another process, so
the two do not share a GIL.

    .venv/bin/python -m tests.load.raw_rabbitmq -n 5000
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


@dataclass
class RawResult:
    messages: int
    published: int
    consumed: int
    publish_seconds: float      # first publish → last confirm
    end_to_end_seconds: float   # first publish → last ack
    machine_busy: float = 0.0   # share of all CPUs busy (anything on the machine) meanwhile

    @property
    def published_per_second(self) -> float:
        return self.published / self.publish_seconds if self.publish_seconds > 0 else 0.0

    @property
    def end_to_end_per_second(self) -> float:
        return self.consumed / self.end_to_end_seconds if self.end_to_end_seconds > 0 else 0.0

    def lines(self) -> list[str]:
        return [
            f"raw RabbitMQ: {self.published}/{self.messages} published, {self.consumed} consumed",
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


def run_raw(messages: int = 5000, timeout: float = 60.0) -> RawResult:
    url = services.create_vhost()
    ctx = mp.get_context("spawn")
    ready, results = ctx.Event(), ctx.Queue()
    consumer = ctx.Process(target=_consume, args=(url, messages, ready, results, timeout), daemon=True)
    connection = None
    try:
        consumer.start()
        if not ready.wait(30):
            raise RuntimeError("raw consumer did not start")
        connection = pika.BlockingConnection(pika.URLParameters(url))
        channel = connection.channel()
        _declare(channel)
        channel.confirm_delivery()
        body = b"x" * BODY_BYTES
        props = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent)
        deadline = time.monotonic() + timeout
        published = 0
        busy_before = cpu.machine_busy_seconds()
        first = time.monotonic()
        for _ in range(messages):
            # In confirm mode basic_publish returns once the broker confirmed
            # this message, and raises on a nack or an unroutable return.
            channel.basic_publish("", QUEUE, body, props, mandatory=True)
            published += 1
            if time.monotonic() > deadline:
                break
        last_confirm = time.monotonic()
        consumed, last_ack = results.get(timeout=timeout + 30)
        busy = (cpu.machine_busy_seconds() - busy_before) / ((time.monotonic() - first) * (os.cpu_count() or 1))
        consumer.join(10)
        return RawResult(messages, published, consumed, last_confirm - first,
                         (last_ack - first) if last_ack else 0.0, busy)
    finally:
        if connection is not None and connection.is_open:
            connection.close()
        if consumer.is_alive():
            consumer.kill()
        services.delete_vhost(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--messages", type=int, default=5000)
    args = parser.parse_args()
    print("\n".join(run_raw(args.messages).lines()))


if __name__ == "__main__":
    main()
