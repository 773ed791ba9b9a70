"""The edge's publisher on the real RabbitMQ: pipelined confirms per batch,
marks coalesced on their own thread; every job published and marked once."""

from __future__ import annotations

import pika

from pipeline.jobs import Job
from rabbitmq.publisher import BatchPublisher

QUEUE = "publisher-test"


def test_every_submitted_job_is_confirmed_then_marked_once(broker_url):
    marks: list[list[int]] = []
    publisher = BatchPublisher(broker_url, [QUEUE], marks.append, batch_size=100)
    for start in range(0, 1000, 50):  # submitted while earlier batches are in flight
        publisher.submit(Job(n, QUEUE, "deliver_message", (n,)) for n in range(start + 1, start + 51))
    assert publisher.flush(30)
    marked = [outbox_id for call in marks for outbox_id in call]
    assert sorted(marked) == list(range(1, 1001))
    connection = pika.BlockingConnection(pika.URLParameters(broker_url))
    try:
        channel = connection.channel()
        assert channel.queue_declare(QUEUE, passive=True).method.message_count == 1000
        channel.queue_purge(QUEUE)
    finally:
        connection.close()


def test_a_failing_mark_is_left_to_the_sweeper_and_the_publisher_goes_on(broker_url):
    calls = []

    def flaky(ids):
        calls.append(ids)
        if len(calls) == 1:
            raise RuntimeError("database away")

    publisher = BatchPublisher(broker_url, [QUEUE], flaky)
    publisher.submit([Job(1, QUEUE, "deliver_message", (1,))])
    assert publisher.flush(10)
    publisher.submit([Job(2, QUEUE, "deliver_message", (2,))])
    assert publisher.flush(10)
    assert calls == [[1], [2]]
    connection = pika.BlockingConnection(pika.URLParameters(broker_url))
    try:
        connection.channel().queue_purge(QUEUE)
    finally:
        connection.close()
