"""Dead letters on the real PostgreSQL: the worker middleware records one
row per job given up on, with its first and last error, and fails the
message's unplaced deliveries. Run with Dramatiq's StubBroker and a stub
worker carrying the production middleware and a tiny retry policy."""

from __future__ import annotations

import dramatiq
import pytest
from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import DeadLetter, Delivery
from pipeline.errors import DependencyUnavailable
from pipeline.retry import RetryPolicy
from pipeline.contract import delivery_queue
from pipeline.contract import DELIVER_MESSAGE
from realtime import InProcessRealtime
from workers.broker import install_ports, make_broker, worker_ports
from workers.dead_letters import DeadLetters
from workers.delivery import deliver_message

QUEUE = delivery_queue("normal", 0)


@pytest.fixture
def stub_broker(settings, sessions):
    """The production middleware on a StubBroker: 2 retries, 10-20 ms apart."""
    install_ports(worker_ports(settings, sessions, InProcessRealtime()))
    broker = make_broker(settings, RetryPolicy(max_retries=2, min_backoff_ms=10, max_backoff_ms=20))
    yield broker
    broker.close()


@pytest.fixture
def run_jobs(stub_broker):
    """Run what is enqueued on a stub worker until the queue and its delay queue are empty."""
    def run():
        worker = dramatiq.Worker(stub_broker, worker_timeout=50, worker_threads=2)
        worker.start()
        try:
            stub_broker.join(QUEUE, fail_fast=False, timeout=20_000)
            worker.join()
        finally:
            worker.stop()
    return run


def actor(broker, fn):
    return dramatiq.actor(fn, broker=broker, actor_name=DELIVER_MESSAGE, queue_name=QUEUE)


def letters(sessions):
    with UnitOfWork(sessions) as uow:
        return uow.session.scalars(select(DeadLetter).order_by(DeadLetter.id)).all()


def deliveries(sessions):
    with UnitOfWork(sessions) as uow:
        return uow.session.scalars(select(Delivery).order_by(Delivery.id)).all()


def test_a_job_for_a_message_that_does_not_exist_fails_at_once_into_one_dead_letter(stub_broker, run_jobs,
                                                                                     sessions):
    job = actor(stub_broker, deliver_message.fn).send(424242)
    run_jobs()
    (letter,) = letters(sessions)
    assert (letter.job_id, letter.queue_name, letter.actor_name, letter.job_args) == (
        job.message_id, QUEUE, DELIVER_MESSAGE, [424242])
    assert (letter.reason, letter.attempts, letter.state) == ("MessageNotFound", 1, "dead")
    assert letter.message_id is None  # nothing to point at: the message is missing
    assert letter.first_error == letter.last_error
    assert letter.last_error.startswith("MessageNotFound('message 424242 does not exist')")
    assert "Traceback" in letter.last_error and letter.first_failed_at is not None


def test_retries_exhausted_record_one_dead_letter_with_first_and_last_error_and_fail_the_deliveries(
        stub_broker, run_jobs, sessions, client, auth):
    business, somchai, malee = auth.user("business", username="acme"), auth.user("mobile"), auth.user("mobile")
    message_id = client.post("/v1/messages", json={"to": [somchai.id, malee.id], "body": "hi"},
                             headers=auth.headers(business)).json["id"]
    attempts = []

    def flaky_delivery(message_id: int) -> None:
        attempts.append(message_id)
        raise DependencyUnavailable(f"database away (attempt {len(attempts)})")

    actor(stub_broker, flaky_delivery).send(message_id)
    run_jobs()
    assert len(attempts) == 3  # the first run and 2 retries
    (letter,) = letters(sessions)
    assert (letter.reason, letter.attempts, letter.message_id) == ("DependencyUnavailable", 3, message_id)
    assert (letter.sender_id, letter.recipient_id) == (business.id, somchai.id)
    assert "attempt 1" in letter.first_error and "attempt 3" in letter.last_error
    assert letter.first_failed_at < letter.created_at
    assert [(d.status, d.failed_at is not None) for d in deliveries(sessions)] == [("failed", True)] * 2
    assert deliveries(sessions)[0].last_error == f"dead letter {letter.job_id}: DependencyUnavailable"


def test_a_placed_delivery_is_not_failed_by_its_message_dying(stub_broker, run_jobs, sessions, client, auth):
    business, somchai = auth.user("business", username="acme"), auth.user("mobile")
    message_id = client.post("/v1/messages", json={"to": [somchai.id], "body": "hi"},
                             headers=auth.headers(business)).json["id"]
    actor(stub_broker, deliver_message.fn).send(message_id)
    run_jobs()
    stub_broker.actors.pop(DELIVER_MESSAGE)

    def broken(message_id: int) -> None:
        raise RuntimeError("boom")

    actor(stub_broker, broken).send(message_id)
    run_jobs()
    (letter,) = letters(sessions)
    assert letter.reason == "RuntimeError"
    assert [d.status for d in deliveries(sessions)] == ["sent"]


def test_rejecting_the_same_job_twice_records_it_once(stub_broker, sessions):
    message = dramatiq.Message(queue_name=QUEUE, actor_name=DELIVER_MESSAGE, args=(7,), kwargs={}, options={})
    middleware = next(m for m in stub_broker.middleware if isinstance(m, DeadLetters))
    for _ in range(2):
        middleware.before_nack(stub_broker, dramatiq.broker.MessageProxy(message))
    (letter,) = letters(sessions)
    assert (letter.job_id, letter.reason, letter.attempts) == (message.message_id, "Rejected", 0)
