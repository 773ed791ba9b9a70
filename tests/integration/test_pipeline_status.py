"""The pipeline snapshot (`usecases.operations.pipeline_status`) and `herald
status`, on the real PostgreSQL, RabbitMQ and Redis."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pika
import pytest
import redis

from db.engine import UnitOfWork
from db.models import DeadLetter, Outbox
from pipeline.contract import all_queues
from rabbitmq.depths import QueueDepths
from rabbitmq.probe import queue_figures
from realtime.breaker_board import RedisBreakerBoard, STALE_SECONDS
from tests.conftest import REDIS_NAMESPACE
from usecases.operations.pipeline_status import pipeline_status

HERALD = str(Path(sys.executable).parent / "herald")
NOW = datetime.now(timezone.utc)


class Probe:
    def __init__(self, url, names):
        self.url, self.names = url, names

    def figures(self):
        return queue_figures(self.url, self.names)


@pytest.fixture
def board(redis_url):
    namespace = f"{REDIS_NAMESPACE}-status-{time.monotonic_ns()}"
    yield RedisBreakerBoard.from_url(redis_url, namespace)
    redis.Redis.from_url(redis_url).delete(f"{namespace}:breakers")


@pytest.fixture
def two_jobs_on_push(broker_url):
    connection = pika.BlockingConnection(pika.URLParameters(broker_url))
    channel = connection.channel()
    # An earlier test's broker may have declared it with Dramatiq's arguments: start anew.
    channel.queue_delete("push")
    channel.queue_declare("push", durable=True)
    for n in range(2):
        channel.basic_publish("", "push", f"job {n}".encode())
    yield
    channel.queue_delete("push")
    connection.close()


def add_outbox(sessions, *, due_seconds_ago: float, published: bool = False):
    with UnitOfWork(sessions) as uow:
        uow.session.add(Outbox(queue_name="push", actor_name="send_push", args=[1, 2], created_at=NOW,
                               available_at=NOW - timedelta(seconds=due_seconds_ago),
                               published_at=NOW if published else None))
        uow.commit()


def add_dead_letter(sessions, job_id: str, age: timedelta):
    with UnitOfWork(sessions) as uow:
        uow.session.add(DeadLetter(job_id=job_id, queue_name="push", actor_name="send_push", job_args=[1, 2],
                                   reason="PushRejected", attempts=1, created_at=NOW - age, state="dead"))
        uow.commit()


def test_an_idle_pipeline(sessions, broker_url, board):
    status = pipeline_status(sessions, Probe(broker_url, all_queues(2)), board, NOW)
    assert status.broker == "ok"
    assert {q.name for q in status.queues} == set(all_queues(2))
    assert all((q.depth, q.consumers) == (0, 0) for q in status.queues)  # not declared yet: empty
    assert (status.outbox_backlog, status.outbox_oldest_age_seconds, status.dead_letters_last_hour) == (0, 0.0, 0)
    assert (status.breakers, status.breakers_readable) == ((), True)


def test_the_figures_of_a_busy_pipeline(sessions, broker_url, board, two_jobs_on_push):
    add_outbox(sessions, due_seconds_ago=30)
    add_outbox(sessions, due_seconds_ago=90, published=True)   # published: not backlog
    add_outbox(sessions, due_seconds_ago=-3600)                 # scheduled in an hour: not due
    add_dead_letter(sessions, "recent", timedelta(minutes=10))
    add_dead_letter(sessions, "old", timedelta(hours=2))
    board.report("fcm", "open")
    board.report("redis", "closed")
    status = pipeline_status(sessions, Probe(broker_url, ["push", "delivery.high.p0"]), board, NOW)
    assert [(q.name, q.depth, q.consumers) for q in status.queues] == [("delivery.high.p0", 0, 0), ("push", 2, 0)]
    assert status.outbox_backlog == 1
    assert status.outbox_oldest_age_seconds == pytest.approx(30, abs=1)
    assert status.dead_letters_last_hour == 1
    assert [(b.service, b.state, b.open_processes, b.processes) for b in status.breakers] == [
        ("fcm", "open", 1, 1), ("redis", "closed", 0, 1)]


def test_breakers_across_processes_show_the_worst_state_and_forget_stale_reports(sessions, broker_url, board,
                                                                                redis_url):
    board.report("fcm", "closed")
    raw = redis.Redis.from_url(redis_url)
    key = board._key
    raw.hset(key, "fcm|other-host:7", f"open|{time.time() - 60}")
    raw.hset(key, "fcm|gone-host:9", f"open|{time.time() - STALE_SECONDS - 5}")
    status = pipeline_status(sessions, None, board, NOW)
    (fcm,) = status.breakers
    assert (fcm.state, fcm.open_processes, fcm.processes) == ("open", 1, 2)
    assert not raw.hexists(key, "fcm|gone-host:9")  # the stale report is removed
    assert status.broker == "not_measured"


def test_a_broker_or_redis_that_does_not_answer_is_said_so(sessions):
    status = pipeline_status(sessions, Probe("amqp://guest:guest@127.0.0.1:1/%2F", ["push"]),
                             RedisBreakerBoard.from_url("redis://127.0.0.1:1/0", "nowhere"), NOW)
    assert (status.broker, status.queues) == ("down", ())
    assert (status.breakers, status.breakers_readable) == ((), False)


def test_the_edge_poller_measures_every_queue_with_its_consumers(broker_url, two_jobs_on_push):
    connection = pika.BlockingConnection(pika.URLParameters(broker_url))
    channel = connection.channel()
    channel.basic_consume("push", lambda *a: None)  # one consumer on push (unacked: prefetch)
    depths = QueueDepths(broker_url, ["push"], interval_seconds=0.2, other_queues=["push"])
    deadline = time.monotonic() + 5
    while depths.figures() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    figures = depths.figures()
    connection.close()
    assert figures is not None and figures["push"][1] == 1


def run_herald(env, *args):
    return subprocess.run([HERALD, *args], env={**env, "PATH": "/usr/bin:/bin"}, capture_output=True,
                          text=True, timeout=60)


def test_herald_status_prints_the_snapshot(env, sessions, broker_url, two_jobs_on_push):
    add_outbox(sessions, due_seconds_ago=12)
    add_dead_letter(sessions, "recent", timedelta(minutes=1))
    full = {**env, "BROKER_URL": broker_url, "REDIS_NAMESPACE": f"{REDIS_NAMESPACE}-cli"}
    text = run_herald(full, "status")
    assert text.returncode == 0, text.stderr
    assert "push" in text.stdout and "outbox backlog: 1 due" in text.stdout
    assert "dead letters in the last hour: 1" in text.stdout
    as_json = run_herald(full, "status", "--json")
    figures = json.loads(as_json.stdout)
    assert {q["name"]: q["depth"] for q in figures["queues"]}["push"] == 2
    assert figures["outbox"]["backlog"] == 1 and figures["dead_letters_last_hour"] == 1
    assert figures["broker"] == "ok" and figures["breakers_readable"] is True


def test_the_edge_offers_the_snapshot_to_its_views(client, sessions):
    """The admin dashboard reads `resources().pipeline_status()`: the same snapshot, taken now."""
    add_outbox(sessions, due_seconds_ago=5)
    status = client.application.extensions["herald"].pipeline_status()
    assert status.outbox_backlog == 1 and status.broker == "ok" and status.queues == ()  # no broker: no queues
