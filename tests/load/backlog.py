"""Preloaded backlogs for the pipeline benchmarks, built without HTTP.

What the edge's accept transaction and publisher leave behind, in bulk:
mobile users with their `streams` rows, one-way messages with one
`deliveries` row each (status `accepted`, no position) and an `outbox` row
already marked published (the message `queued`), written with COPY; then
one `deliver_message` job per message in Dramatiq's wire format
(`rabbitmq.jobs.encode`) published with pika straight into the
`delivery.<lane>.p<n>` queue the edge would have chosen
(`pipeline.contract`), persistent, one AMQP transaction per batch (as the
edge's BatchPublisher does), on queues declared with Dramatiq's own
arguments (`rabbitmq.topology`).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pika
import psycopg

from pipeline.contract import DELIVERY_ACTORS, PUSH_QUEUE
from pipeline.jobs import Job
from pipeline.contract import delivery_queue, delivery_queues, partition_for
from rabbitmq.jobs import encode
from rabbitmq.topology import declare_all

BODY_CHARS = 400


@dataclass
class Backlog:
    jobs: list[Job]
    first_message_id: int
    last_message_id: int
    insert_seconds: float = 0.0
    publish_seconds: float = 0.0

    @property
    def count(self) -> int:
        return len(self.jobs)

    def line(self, what: str) -> str:
        return (f"  backlog: {self.count:,} {what} — SQL (COPY) {self.insert_seconds:.1f} s "
                f"({self.count / max(self.insert_seconds, 1e-9):,.0f} messages/s), publish "
                f"{self.publish_seconds:.1f} s ({self.count / max(self.publish_seconds, 1e-9):,.0f} jobs/s)")


def sender_id(database_url: str, username: str = "bench") -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT id FROM users WHERE username = %s", (username,)).fetchone()[0]


def create_offline_users(database_url: str, count: int, phone_prefix: str = "+6695") -> list[int]:
    """`count` activated mobile users with their streams (nobody connects as them)."""
    now = datetime.now(timezone.utc)
    with psycopg.connect(database_url) as conn:
        seq = "pg_get_serial_sequence('users', 'id')"
        ids = [row[0] for row in conn.execute(f"SELECT nextval({seq}) FROM generate_series(1, %s)", (count,))]
        with conn.cursor().copy("COPY users (id, role, phone, created_at, activated_at) FROM STDIN") as copy:
            for n, user_id in enumerate(ids):
                copy.write_row((user_id, "mobile", f"{phone_prefix}{n:07d}", now, now))
        with conn.cursor().copy("COPY streams (user_id, last_position, acked_position) FROM STDIN") as copy:
            for user_id in ids:
                copy.write_row((user_id, 0, 0))
        conn.commit()
    return ids


def insert_messages(database_url: str, sender: int, recipients: list[int], count: int, priority: str,
                    partitions: int, body_prefix: str) -> Backlog:
    """`count` one-way messages, round robin over `recipients` (one each), as
    accepted and published; returns their jobs in message-id order."""
    started = time.monotonic()
    now = datetime.now(timezone.utc)
    padding = "x" * BODY_CHARS
    with psycopg.connect(database_url) as conn:
        seq = "pg_get_serial_sequence('messages', 'id')"
        ids = [row[0] for row in conn.execute(f"SELECT nextval({seq}) FROM generate_series(1, %s)", (count,))]
        pairs = [(message_id, recipients[i % len(recipients)]) for i, message_id in enumerate(ids)]
        queues = {r: delivery_queue(priority, partition_for(r, partitions)) for r in set(recipients)}
        with conn.cursor().copy("COPY messages (id, sender_id, kind, body, priority, recipient_ids, created_at, "
                                "queued_at) FROM STDIN") as copy:
            for message_id, recipient in pairs:
                copy.write_row((message_id, sender, "oneway", f"{body_prefix}{message_id} {padding}"[:BODY_CHARS],
                                priority, json.dumps([recipient]), now, now))
        with conn.cursor().copy("COPY deliveries (message_id, recipient_id, status, accepted_at) FROM STDIN") as copy:
            for message_id, recipient in pairs:
                copy.write_row((message_id, recipient, "accepted", now))
        available = now + timedelta(seconds=5)
        with conn.cursor().copy("COPY outbox (message_id, queue_name, actor_name, args, created_at, available_at, "
                                "published_at) FROM STDIN") as copy:
            for message_id, recipient in pairs:
                copy.write_row((message_id, queues[recipient], DELIVERY_ACTORS[priority], json.dumps([message_id]),
                                now, available, now))
        conn.commit()
        conn.execute("ANALYZE messages")
        conn.execute("ANALYZE deliveries")
        conn.execute("ANALYZE outbox")
        conn.commit()
    jobs = [Job(None, queues[recipient], DELIVERY_ACTORS[priority], (message_id,)) for message_id, recipient in pairs]
    return Backlog(jobs, ids[0], ids[-1], insert_seconds=time.monotonic() - started)


def all_queue_names(partitions: int) -> list[str]:
    return delivery_queues(partitions) + [PUSH_QUEUE]


def _publish_part(broker_url: str, jobs: list[Job], batch: int) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(broker_url))
    try:
        channel = connection.channel()
        channel.tx_select()
        props = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent)
        for start in range(0, len(jobs), batch):
            for job in jobs[start:start + batch]:
                channel.basic_publish(exchange="", routing_key=job.queue_name, body=encode(job), properties=props)
            channel.tx_commit()
    finally:
        if connection.is_open:
            connection.close()


def publish(broker_url: str, backlog: Backlog, partitions: int, batch: int = 1000,
            processes: int | None = None) -> Backlog:
    """Publish the backlog's jobs, persistent, one AMQP transaction per batch
    (tx.commit-ok means RabbitMQ has the whole batch), from `processes`
    connections in parallel, each taking whole queues, so every queue
    keeps message-id order."""
    started = time.monotonic()
    connection = pika.BlockingConnection(pika.URLParameters(broker_url))
    try:
        declare_all(connection.channel(), all_queue_names(partitions))
    finally:
        connection.close()
    if processes is None:  # a second process costs its start-up (imports): worth it for big backlogs only
        processes = 2 if len(backlog.jobs) >= 20_000 else 1
    queues = sorted({job.queue_name for job in backlog.jobs})
    parts = [[job for job in backlog.jobs if queues.index(job.queue_name) % processes == n] for n in range(processes)]
    parts = [part for part in parts if part]
    if len(parts) == 1:
        _publish_part(broker_url, parts[0], batch)
    else:
        ctx = mp.get_context("spawn")
        children = [ctx.Process(target=_publish_part, args=(broker_url, part, batch), daemon=True) for part in parts]
        try:
            for child in children:
                child.start()
            for child in children:
                child.join(600)
            if any(child.exitcode != 0 for child in children):
                raise RuntimeError(f"a publisher failed: exit codes {[c.exitcode for c in children]}")
        finally:
            for child in children:
                if child.is_alive():
                    child.kill()
    backlog.publish_seconds = time.monotonic() - started
    return backlog


def queue_depths(broker_url: str, queue_names: list[str]) -> dict[str, int]:
    """Ready messages per queue (passive declares; unacknowledged ones are not counted)."""
    connection = pika.BlockingConnection(pika.URLParameters(broker_url))
    try:
        channel = connection.channel()
        return {name: channel.queue_declare(queue=name, passive=True).method.message_count for name in queue_names}
    finally:
        if connection.is_open:
            connection.close()


def purge(broker_url: str, queue_name: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(broker_url))
    try:
        return connection.channel().queue_purge(queue_name).method.message_count
    finally:
        if connection.is_open:
            connection.close()


def positioned_count(database_url: str, first_id: int, last_id: int) -> int:
    """Deliveries of messages first_id..last_id that a worker has positioned."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM deliveries WHERE message_id BETWEEN %s AND %s "
                            "AND position IS NOT NULL", (first_id, last_id)).fetchone()[0]


def sent_span(database_url: str, first_id: int, last_id: int) -> tuple[float, float]:
    """Seconds between the first and the last `sent_at` (the workers' own clock)
    and the epoch of the first, for deliveries of messages first_id..last_id."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        first, last = conn.execute(
            "SELECT extract(epoch FROM min(sent_at)), extract(epoch FROM max(sent_at)) FROM deliveries "
            "WHERE message_id BETWEEN %s AND %s", (first_id, last_id)).fetchone()
    return float(first or 0), float(last or 0)


def verify(database_url: str, first_id: int, last_id: int) -> dict[str, int]:
    """Integrity of the deliveries of messages first_id..last_id."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        def one(sql: str) -> int:
            return conn.execute(sql, {"a": first_id, "b": last_id}).fetchone()[0]

        where = "message_id BETWEEN %(a)s AND %(b)s"
        recipients = f"SELECT DISTINCT recipient_id FROM deliveries WHERE {where}"
        return {
            "messages": one(f"SELECT count(*) FROM messages WHERE id BETWEEN %(a)s AND %(b)s"),
            "deliveries": one(f"SELECT count(*) FROM deliveries WHERE {where}"),
            "sent": one(f"SELECT count(*) FROM deliveries WHERE {where} AND status = 'sent'"),
            "unpositioned": one(f"SELECT count(*) FROM deliveries WHERE {where} AND position IS NULL"),
            # (message, recipient) and (recipient, position) are unique constraints; counted anyway
            "duplicate_rows": one(f"SELECT count(*) - count(DISTINCT (message_id, recipient_id)) "
                                  f"FROM deliveries WHERE {where}"),
            "position_reused": one(f"SELECT count(*) - count(DISTINCT (recipient_id, position)) FROM deliveries "
                                   f"WHERE recipient_id IN ({recipients}) AND position IS NOT NULL"),
            # each recipient's stream is 1..last_position with no hole, and last_position matches
            "stream_mismatch": one(f"SELECT count(*) FROM streams s JOIN (SELECT recipient_id, count(*) n, "
                                   f"max(position) m FROM deliveries WHERE recipient_id IN ({recipients}) "
                                   f"AND position IS NOT NULL GROUP BY recipient_id) d ON d.recipient_id = s.user_id "
                                   f"WHERE d.n <> d.m OR s.last_position <> d.m"),
            # positions follow acceptance (message id) order per recipient
            # jobs the deliveries queued through the outbox (send_push for offline recipients)
            "push_jobs": one(f"SELECT count(*) FROM outbox WHERE {where} AND actor_name = 'send_push'"),
            "push_jobs_unpublished": one(f"SELECT count(*) FROM outbox WHERE {where} AND actor_name = 'send_push' "
                                         f"AND published_at IS NULL"),
            "out_of_order": one(f"SELECT count(*) FROM (SELECT position, row_number() OVER (PARTITION BY "
                                f"recipient_id ORDER BY message_id) rn, rank() OVER (PARTITION BY recipient_id "
                                f"ORDER BY position) rp FROM deliveries WHERE recipient_id IN ({recipients}) "
                                f"AND position IS NOT NULL) x WHERE rn <> rp"),
        }
