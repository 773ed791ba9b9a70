"""Traces exported over OTLP by real processes: with
OTEL_EXPORTER_OTLP_ENDPOINT set, gunicorn's server span, the publish span
and the dramatiq worker's actor span of one send reach the collector as
one trace, linked through the traceparent the job carried."""

from __future__ import annotations

import pytest
import requests

from pipeline.contract import DELIVER_MESSAGE
from tests.support.fake_otlp import FakeCollector

pytestmark = pytest.mark.e2e
TRACE_ID = "5b8efff798038103d269b633813fc60c"
CALLER_SPAN = "eee19b7ec3c1b174"
SERVER, PRODUCER, CONSUMER = 2, 4, 5  # opentelemetry.proto.trace.v1.Span.SpanKind


@pytest.fixture(scope="module")
def collector():
    with FakeCollector() as collector:
        yield collector


@pytest.fixture(scope="module")
def stack_env(stack_env, collector):
    # The SDK's own setting: export every 100 ms, not every 5 s.
    return {**stack_env, "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
            "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=secret", "OTEL_BSP_SCHEDULE_DELAY": "100"}


def test_a_send_is_one_trace_from_the_http_request_to_the_actor(stack, auth, sessions, collector):
    business, malee = auth.user("business", username="acme"), auth.user("mobile")
    answer = requests.post(f"{stack.base_url}/v1/messages", json={"to": [malee.id], "body": "hi"},
                           headers={**auth.headers(business), "traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01"},
                           timeout=10)
    assert answer.status_code == 202
    ours = lambda kind: lambda span: span.trace_id == TRACE_ID and span.kind == kind  # noqa: E731
    (server,) = collector.wait_for(ours(SERVER))
    (publish,) = collector.wait_for(ours(PRODUCER))
    (actor,) = collector.wait_for(ours(CONSUMER))
    assert (server.service, server.name, server.parent_span_id) == ("herald-edge", "POST /v1/messages", CALLER_SPAN)
    assert server.attributes["http.response.status_code"] == 202
    assert (publish.service, publish.parent_span_id) == ("herald-edge", server.span_id)
    assert (actor.service, actor.name, actor.parent_span_id) == (
        "herald-worker", f"{DELIVER_MESSAGE} process", publish.span_id)
    assert actor.attributes["herald.message_id"] == answer.json()["id"]
    assert all(headers.get("x-api-key") == "secret" for headers in collector.headers)
