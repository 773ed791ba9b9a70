"""`/metrics` on the edge after real sends (real PostgreSQL, Redis and
RabbitMQ): the counters and histograms move by what happened, the gauges
computed at scrape time show the pipeline, and the workers' middleware
counts jobs and dead letters. The registry is this test process's: every
assertion compares a scrape before with one after."""

from __future__ import annotations

from datetime import datetime, timezone

import dramatiq
import pytest

from config import load_settings
from pipeline.contract import DELIVER_MESSAGE, delivery_queue
from pipeline.retry import RetryPolicy
from rabbitmq.depths import FixedDepth
from realtime import InProcessRealtime
from tests.support.scrapes import parse, value
from usecases.messaging.acks import record_acks
from web import create_app
from workers.broker import install_ports, make_broker, worker_ports
from workers.delivery import deliver_message

SEND = "/v1/messages"


def scrape(client, **headers):
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/plain"
    return parse(response.get_data(as_text=True))


@pytest.fixture
def business(auth):
    return auth.user("business", username="acme")


def test_a_send_is_counted_by_route_kind_and_priority(client, auth, business):
    somchai = auth.user("mobile")
    before = scrape(client)
    answer = client.post(SEND, json={"to": [somchai.id], "body": "hi", "priority": "high"},
                         headers=auth.headers(business))
    assert answer.status_code == 202
    after = scrape(client)
    assert value(after, "herald_messages_accepted_total", kind="oneway", priority="high") == \
        value(before, "herald_messages_accepted_total", kind="oneway", priority="high") + 1
    labels = {"route": SEND, "method": "POST"}
    assert value(after, "herald_http_requests_total", status="202", **labels) == \
        value(before, "herald_http_requests_total", status="202", **labels) + 1
    assert value(after, "herald_http_request_duration_seconds_count", **labels) == \
        value(before, "herald_http_request_duration_seconds_count", **labels) + 1
    # Routes are templates, never paths with ids.
    client.get(f"{SEND}/{answer.json['id']}", headers=auth.headers(business))
    assert value(scrape(client), "herald_http_requests_total", route="/v1/messages/<int:message_id>",
                 method="GET", status="200") >= 1


def test_delivery_ack_and_read_move_the_pipeline_counters_and_latencies(client, auth, business, settings,
                                                                      sessions):
    somchai = auth.user("mobile")
    install_ports(worker_ports(settings, sessions, InProcessRealtime()))
    message_id = client.post(SEND, json={"to": [somchai.id], "body": "hi", "priority": "low"},
                             headers=auth.headers(business)).json["id"]
    before = scrape(client)
    deliver_message.fn(message_id)
    ports = client.application.extensions["herald"].ports
    record_acks(ports, somchai.id, 1, 0, datetime.now(timezone.utc))
    record_acks(ports, somchai.id, 0, 1, datetime.now(timezone.utc))
    after = scrape(client)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("herald_accept_to_sent_seconds_count", priority="low") == 1
    assert moved("herald_messages_delivered_total", kind="oneway", priority="low") == 1
    assert moved("herald_sent_to_delivered_seconds_count", priority="low") == 1
    assert moved("herald_messages_read_total", kind="oneway", priority="low") == 1


def test_replays_backpressure_and_rate_limits_are_counted(env, auth, business, sessions, publisher):
    overloaded = create_app(load_settings(env), publisher=publisher, depths=FixedDepth(10**9),
                            test_config={"TESTING": True})
    client = overloaded.test_client()
    headers = {**auth.headers(business), "Idempotency-Key": "k-1"}
    somchai = auth.user("mobile")
    before = scrape(client)
    assert client.post(SEND, json={"to": [somchai.id], "body": "x", "priority": "low"},
                       headers=auth.headers(business)).status_code == 503
    high = {"to": [somchai.id], "body": "x", "priority": "high"}  # past the hard depth too: refused
    assert client.post(SEND, json=high, headers=headers).status_code == 503
    after = scrape(client)
    assert value(after, "herald_backpressure_refusals_total", lane="low") == \
        value(before, "herald_backpressure_refusals_total", lane="low") + 1
    assert value(after, "herald_backpressure_refusals_total", lane="high") == \
        value(before, "herald_backpressure_refusals_total", lane="high") + 1

    calm = create_app(load_settings(env), publisher=publisher, test_config={"TESTING": True}).test_client()
    body = {"to": [somchai.id], "body": "once"}
    assert calm.post(SEND, json=body, headers=headers).status_code == 202
    assert calm.post(SEND, json=body, headers=headers).headers["Idempotent-Replayed"] == "true"
    assert value(scrape(calm), "herald_idempotent_replays_total", route=SEND) == \
        value(before, "herald_idempotent_replays_total", route=SEND) + 1

    limited = create_app(load_settings({k: v for k, v in env.items() if k != "RATE_LIMITS"}), publisher=publisher,
                         test_config={"TESTING": True, "RATELIMIT_STORAGE_URI": "memory://"}).test_client()
    for _ in range(6):
        last = limited.post("/v1/auth/otp", json={"phone": "+66812340000"})
    assert last.status_code == 429
    assert value(scrape(limited), "herald_rate_limit_refusals_total", route="/v1/auth/otp") == \
        value(before, "herald_rate_limit_refusals_total", route="/v1/auth/otp") + 1


def test_the_scrape_computes_the_pipeline_gauges(env, publisher, sessions, broker_url, auth, business):
    app = create_app(load_settings({**env, "BROKER_URL": broker_url}), publisher=publisher,
                     test_config={"TESTING": True})
    client = app.test_client()
    client.post(SEND, json={"to": [auth.user("mobile").id], "body": "hi"}, headers=auth.headers(business))
    samples = scrape(client)
    assert value(samples, "herald_pipeline_status_up") == 1
    assert value(samples, "herald_outbox_backlog") == 0  # the job is not due for the sweeper yet
    assert ("herald_dead_letters_last_hour", ()) in samples and ("herald_outbox_oldest_age_seconds", ()) in samples
    # The edge polls every queue in the background: the first scrape may come before its first measure.
    import time
    deadline = time.monotonic() + 5
    while value(samples, "herald_broker_up") != 1 and time.monotonic() < deadline:
        time.sleep(0.2)
        samples = scrape(client)
    assert value(samples, "herald_broker_up") == 1
    assert ("herald_queue_depth", (("queue", "push"),)) in samples
    assert ("herald_queue_consumers", (("queue", delivery_queue("high", 0)),)) in samples


def test_a_metrics_token_closes_the_endpoint_to_others(env, publisher, sessions):
    client = create_app(load_settings({**env, "METRICS_TOKEN": "s3cret"}), publisher=publisher).test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused.json["code"] == "invalid_token"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert "herald_http_requests_total" in client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).get_data(
        as_text=True)


def test_the_workers_count_jobs_by_outcome_and_dead_letters_by_reason(client, settings, sessions):
    install_ports(worker_ports(settings, sessions, InProcessRealtime()))
    broker = make_broker(settings, RetryPolicy(max_retries=1, min_backoff_ms=10, max_backoff_ms=20))
    queue = delivery_queue("normal", 0)
    job = dramatiq.actor(deliver_message.fn, broker=broker, actor_name=DELIVER_MESSAGE, queue_name=queue)
    before = scrape(client)
    job.send(424242)  # no such message: a permanent error, a dead letter at once
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=1)
    worker.start()
    try:
        broker.join(queue, fail_fast=False, timeout=20_000)
        worker.join()
    finally:
        worker.stop()
        broker.close()
    after = scrape(client)
    assert value(after, "herald_jobs_total", actor=DELIVER_MESSAGE, outcome="failed") == \
        value(before, "herald_jobs_total", actor=DELIVER_MESSAGE, outcome="failed") + 1
    assert value(after, "herald_dead_letters_total", actor=DELIVER_MESSAGE, reason="MessageNotFound") == \
        value(before, "herald_dead_letters_total", actor=DELIVER_MESSAGE, reason="MessageNotFound") + 1
    assert value(after, "herald_job_duration_seconds_count", actor=DELIVER_MESSAGE) == \
        value(before, "herald_job_duration_seconds_count", actor=DELIVER_MESSAGE) + 1
    assert value(after, "herald_dead_letters_last_hour") == 1


def test_a_breaker_shows_its_state_in_the_metrics_and_on_the_board(client, redis_url):
    import pybreaker

    from metrics.breakers import watch
    from realtime.breaker_board import RedisBreakerBoard
    from usecases.operations.pipeline_status import pipeline_status

    board = RedisBreakerBoard.from_url(redis_url, f"herald-test-breakers-{id(client)}")
    breaker = pybreaker.CircuitBreaker(fail_max=1, reset_timeout=60, name="test", throw_new_error_on_trip=False)
    watch(breaker, "test-service", board)
    assert value(scrape(client), "herald_breaker_state", service="test-service") == 0
    with pytest.raises(RuntimeError):
        with breaker.calling():
            raise RuntimeError("the provider is down")
    assert value(scrape(client), "herald_breaker_state", service="test-service") == 2
    status = pipeline_status(client.application.extensions["herald"].ports.sessions, None, board,
                             datetime.now(timezone.utc))
    assert [(b.service, b.state, b.open_processes) for b in status.breakers] == [("test-service", "open", 1)]
    board._client.delete(board._key)


def test_push_sends_are_counted_by_the_providers_answer(client, auth, business, settings, sessions):
    from workers.broker import install_push_sender
    from workers.push import send_push
    from workers.push_sender import LoggingSender

    somchai = auth.user("mobile")
    client.post("/v1/devices", json={"platform": "android", "token": "tok-1"}, headers=auth.headers(somchai))
    install_ports(worker_ports(settings, sessions, InProcessRealtime()))
    install_push_sender(LoggingSender())
    try:
        message_id = client.post(SEND, json={"to": [somchai.id], "body": "hi"},
                                 headers=auth.headers(business)).json["id"]
        before = scrape(client)
        deliver_message.fn(message_id)  # offline with a device: one push job
        send_push.fn(message_id, [somchai.id])
    finally:
        install_push_sender(None)
    assert value(scrape(client), "herald_push_sends_total", answer="logged") == \
        value(before, "herald_push_sends_total", answer="logged") + 1


def test_a_socket_send_replayed_by_its_client_msg_id_is_counted(client, auth):
    import json

    from pipeline.frames import parse_client_frame
    from tests.integration.chat_support import group
    from web.ws import commands

    owner, member = auth.user("mobile"), auth.user("mobile")
    chat = group(client, auth, owner, member)
    res = client.application.extensions["herald"]
    frame = parse_client_frame(json.dumps({"type": "send", "conversation_id": chat, "body": "hi",
                                           "client_msg_id": "c-1"}), 10_000)
    before = scrape(client)
    first = commands.handle(res, owner.id, frame, None)
    again = commands.handle(res, owner.id, frame, None)
    assert (first[0]["replayed"], again[0]["replayed"]) == (False, True)
    after = scrape(client)
    assert value(after, "herald_idempotent_replays_total", route=commands.SOCKET_SEND) == \
        value(before, "herald_idempotent_replays_total", route=commands.SOCKET_SEND) + 1
    assert value(after, "herald_messages_accepted_total", kind="chat", priority="normal") == \
        value(before, "herald_messages_accepted_total", kind="chat", priority="normal") + 1
