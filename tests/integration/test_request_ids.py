"""Request ids and traces at the edge and in the worker, on the real
PostgreSQL (docs/operations.md, "Logs and traces"): every request is logged
once with its id, which comes back in `X-Request-ID`; a send's job carries
the id and the traceparent from its outbox row into the worker's log lines
and any dead letter; with tracing on, server → publish → actor spans form
one trace (the SDK's in-memory exporter)."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import dramatiq
import pytest
from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import DeadLetter, Outbox
from pipeline.contract import DELIVER_MESSAGE
from pipeline.jobs import Job
from pipeline.retry import RetryPolicy
from rabbitmq.jobs import to_message
from rabbitmq.publisher import BrokerPublisher
from realtime import InProcessRealtime
from telemetry import tracing
from telemetry.logs import make_handler
from tests.support.processes import ROOT
from usecases.outbox import sweep_outbox
from workers.broker import install_ports, make_broker, worker_ports
from workers.delivery import deliver_message

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
NEW_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_lines():
    """What Herald logs at INFO and above during the test, as parsed JSON lines."""
    buffer = io.StringIO()
    handler = make_handler("json", buffer)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def request_lines(lines, request_id):
    return [line for line in lines if line["logger"] == "herald.http" and line.get("request_id") == request_id]


def send(client, auth, sender, recipient, headers=None):
    answer = client.post("/v1/messages", json={"to": [recipient.id], "body": "hello"},
                         headers={**auth.headers(sender), **(headers or {})})
    assert answer.status_code == 202, answer.json
    return answer


def test_a_request_id_sent_comes_back_and_the_one_request_line_has_it(client, sessions, json_lines):
    answer = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a:42"})
    assert answer.status_code == 200 and answer.headers["X-Request-ID"] == "lb-7f3a:42"
    (line,) = request_lines(json_lines(), "lb-7f3a:42")
    assert {k: line[k] for k in ("level", "method", "route", "path", "status")} == {
        "level": "INFO", "method": "GET", "route": "/healthz", "path": "/healthz", "status": 200}
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["message"] == "GET /healthz 200" and line["time"]


@pytest.mark.parametrize("sent", ["two words", "x" * 129, "<img src=x>"])
def test_an_unacceptable_request_id_is_replaced_by_a_new_one(client, sessions, json_lines, sent):
    answer = client.get("/healthz", headers={"X-Request-ID": sent})
    given = answer.headers["X-Request-ID"]
    assert given != sent and NEW_ID.fullmatch(given)
    assert len(request_lines(json_lines(), given)) == 1
    assert not [line for line in json_lines() if line.get("request_id") == sent]


def test_without_one_every_request_gets_its_own_and_failures_are_logged_by_route_template(
        client, auth, sessions, json_lines):
    first, second = (client.get("/healthz").headers["X-Request-ID"] for _ in range(2))
    assert first != second and NEW_ID.fullmatch(first)
    business = auth.user("business", username="acme")
    missing = client.get("/v1/messages/987654", headers=auth.headers(business))
    assert missing.status_code == 404
    (line,) = request_lines(json_lines(), missing.headers["X-Request-ID"])
    assert (line["route"], line["path"], line["status"], line["user_id"]) == (
        "/v1/messages/<int:message_id>", "/v1/messages/987654", 404, business.id)
    unknown = client.get("/no/such/page")
    (line,) = request_lines(json_lines(), unknown.headers["X-Request-ID"])
    assert (line["route"], line["status"]) == (None, 404)


def test_a_send_stores_the_request_id_and_traceparent_with_its_job_in_the_same_insert(
        client, auth, sessions, publisher, json_lines):
    business, malee = auth.user("business", username="acme"), auth.user("mobile")
    answer = send(client, auth, business, malee, {"X-Request-ID": "send-1", "traceparent": TRACEPARENT})
    assert answer.headers["X-Request-ID"] == "send-1"
    (job,) = publisher.jobs
    assert (job.request_id, job.traceparent, job.message_id) == ("send-1", TRACEPARENT, answer.json["id"])
    with UnitOfWork(sessions) as uow:
        (row,) = uow.session.scalars(select(Outbox)).all()
    assert (row.request_id, row.traceparent) == ("send-1", TRACEPARENT)
    (line,) = request_lines(json_lines(), "send-1")
    assert (line["route"], line["status"], line["user_id"], line["trace_id"]) == (
        "/v1/messages", 202, business.id, TRACE_ID)


@pytest.fixture
def stub_broker(settings, sessions):
    """The production worker middleware on a StubBroker; jobs fail for good at once."""
    install_ports(worker_ports(settings, sessions, InProcessRealtime()))
    broker = make_broker(settings, RetryPolicy(max_retries=0, min_backoff_ms=10, max_backoff_ms=20))
    yield broker
    broker.close()


def run_jobs(broker, job: Job, jobs: list[Job]) -> None:
    """Publish `jobs` through the BrokerPublisher and run them on a stub worker."""
    dramatiq.actor(deliver_message.fn, broker=broker, actor_name=DELIVER_MESSAGE, queue_name=job.queue_name)
    BrokerPublisher(broker, lambda ids: None).submit(jobs)
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=1)
    worker.start()
    try:
        broker.join(job.queue_name, fail_fast=False, timeout=20_000)
        worker.join()
    finally:
        worker.stop()


def test_the_worker_logs_the_job_under_its_request_id_and_a_dead_letter_keeps_it(
        client, auth, sessions, publisher, stub_broker, json_lines, app):
    business, malee = auth.user("business", username="acme"), auth.user("mobile")
    sent = send(client, auth, business, malee, {"X-Request-ID": "send-2", "traceparent": TRACEPARENT}).json["id"]
    (job,) = publisher.jobs
    # The same send's job, and a job for a message that does not exist: a dead letter at once.
    doomed = Job(None, job.queue_name, job.actor_name, (sent + 1000,), sent + 1000, "send-3", TRACEPARENT)
    run_jobs(stub_broker, job, [job, doomed])
    runs = {line["request_id"]: line for line in json_lines() if line["logger"] == "herald.jobs"}
    assert (runs["send-2"]["outcome"], runs["send-2"]["actor"], runs["send-2"]["message_id"]) == (
        "done", DELIVER_MESSAGE, sent)
    assert runs["send-2"]["trace_id"] == TRACE_ID and runs["send-2"]["job_id"]
    assert runs["send-3"]["outcome"] == "MessageNotFound"
    (dead_line,) = [line for line in json_lines() if "is a dead letter" in line["message"]]
    assert dead_line["request_id"] == "send-3" and dead_line["level"] == "WARNING"
    with UnitOfWork(sessions) as uow:
        (letter,) = uow.session.scalars(select(DeadLetter)).all()
    assert (letter.request_id, letter.trace_id, letter.reason) == ("send-3", TRACE_ID, "MessageNotFound")
    admin = auth.headers(auth.user("admin", username="root"))
    shown = client.get(f"/v1/admin/dead-letters/{letter.id}", headers=admin).json
    assert (shown["request_id"], shown["trace_id"]) == ("send-3", TRACE_ID)
    requeued = client.post(f"/v1/admin/dead-letters/{letter.id}/requeue", headers={**admin, "X-Request-ID": "admin-1"})
    assert requeued.status_code == 200, requeued.json
    with UnitOfWork(sessions) as uow:
        again = uow.session.scalars(select(Outbox).order_by(Outbox.id.desc())).first()
    assert again.request_id == "send-3"  # the send's id goes on with the requeued job


def test_the_sweeper_publishes_a_job_with_the_ids_its_row_keeps(client, auth, sessions, publisher, settings):
    business, malee = auth.user("business", username="acme"), auth.user("mobile")
    send(client, auth, business, malee, {"X-Request-ID": "swept-1", "traceparent": TRACEPARENT})
    publisher.jobs.clear()  # as if the edge died before publishing

    class Sender:
        sent: list[Job] = []

        def send(self, jobs):
            self.sent.extend(jobs)

    later = datetime.now(timezone.utc) + timedelta(seconds=settings.outbox_sweep_after_seconds + 1)
    assert sweep_outbox(sessions, Sender(), later) == 1
    (job,) = Sender.sent
    assert (job.request_id, job.traceparent) == ("swept-1", TRACEPARENT)
    assert to_message(job).options == {"request_id": "swept-1", "traceparent": TRACEPARENT,
                                       "message_id": job.message_id}


@pytest.fixture
def spans():
    """Tracing on, into the SDK's in-memory exporter, for this test only."""
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    tracing.install(SimpleSpanProcessor(exporter), "herald-test")
    yield exporter
    tracing.uninstall()


def test_with_tracing_on_the_server_publish_and_actor_spans_form_one_trace(
        client, auth, sessions, publisher, stub_broker, spans):
    business, malee = auth.user("business", username="acme"), auth.user("mobile")
    send(client, auth, business, malee, {"traceparent": TRACEPARENT})
    (job,) = publisher.jobs
    run_jobs(stub_broker, job, [job])
    by_kind = {span.kind.name: span for span in spans.get_finished_spans()}
    server, publish, actor = by_kind["SERVER"], by_kind["PRODUCER"], by_kind["CONSUMER"]
    assert {format(s.context.trace_id, "032x") for s in (server, publish, actor)} == {TRACE_ID}
    assert server.parent.span_id == 0x00f067aa0ba902b7  # the caller's span
    assert publish.parent.span_id == server.context.span_id
    assert actor.parent.span_id == publish.context.span_id
    assert (server.name, server.attributes["http.route"], server.attributes["http.response.status_code"]) == (
        "POST /v1/messages", "/v1/messages", 202)
    assert publish.name == f"publish {DELIVER_MESSAGE}" and actor.name == f"{DELIVER_MESSAGE} process"
    # The job stored the server span's traceparent, not the caller's.
    assert job.traceparent == f"00-{TRACE_ID}-{server.context.span_id:016x}-01"


def test_without_an_endpoint_no_tracer_or_exporter_is_even_loaded(env):
    # (redis-py imports OpenTelemetry's metrics SDK when it is installed; it stays idle unless initialised.)
    code = ("import sys; from config import load_settings; from web.app import create_app; "
            "create_app(load_settings(), publisher=object()); import workers.broker, telemetry.tracing as t; "
            "assert not t.enabled(); print(sorted(m for m in sys.modules "
            "if m.startswith(('opentelemetry.sdk.trace', 'opentelemetry.exporter'))))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**env, "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
