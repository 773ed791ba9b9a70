"""One id from the request to the frame, with real processes: gunicorn
(gevent) logs each request once as JSON with its X-Request-ID; the job
carries the id through RabbitMQ into the dramatiq worker's JSON lines for
the delivery, the push it starts, the push attempt, and the dead letter
the rejected push becomes. Sockets are logged at open and at close."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import redis
import requests
from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import DeadLetter
from pipeline.channels import presence_key
from pipeline.contract import DELIVER_MESSAGE, SEND_PUSH
from tests.support.clients import StreamClient, token_of
from tests.support.fake_fcm import FakeFcm

pytestmark = pytest.mark.e2e
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


@pytest.fixture(scope="module")
def fake_fcm():
    with FakeFcm() as fake:
        yield fake


@pytest.fixture(scope="module")
def stack_env(stack_env, fake_fcm, tmp_path_factory):
    """The shared full-mode environment, with FCM pointed at the fake."""
    folder = tmp_path_factory.mktemp("fcm")
    return {**stack_env, "FCM_CREDENTIALS_FILE": str(fake_fcm.service_account(folder)),
            "FCM_PROJECT_ID": fake_fcm.project_id, "FCM_ENDPOINT": fake_fcm.base_url}


def json_lines(process) -> list[dict]:
    """The process's log lines that are JSON (Dramatiq's supervisor writes a few of its own)."""
    lines = []
    for text in process.log().splitlines():
        try:
            lines.append(json.loads(text))
        except json.JSONDecodeError:
            continue
    return lines


def wait_for_lines(process, matches, count=1, timeout=15.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [line for line in json_lines(process) if matches(line)]
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{process.name} never logged the line:\n{process.log()[-3000:]}")


def test_a_sends_request_id_reaches_the_workers_lines_the_push_attempt_and_the_dead_letter(
        stack, auth, sessions, fake_fcm):
    business = auth.user("business", username="acme", name="Acme")
    malee = auth.user("mobile")
    redis.Redis.from_url(stack.env["REDIS_URL"]).delete(presence_key(malee.id, stack.env["REDIS_NAMESPACE"]))
    assert requests.post(f"{stack.base_url}/v1/devices", json={"platform": "android", "token": "e2e-rid-token"},
                         headers=auth.headers(malee), timeout=10).status_code == 201
    fake_fcm.fail_next(1, kind="invalid")  # FCM refuses the notification: the push job dead-letters at once
    request_id = f"e2e-{uuid.uuid4().hex[:12]}"
    answer = requests.post(f"{stack.base_url}/v1/messages", json={"to": [malee.id], "body": "Room ready"},
                           headers={**auth.headers(business), "X-Request-ID": request_id,
                                    "traceparent": f"00-{TRACE_ID}-b7ad6b7169203331-01"}, timeout=10)
    assert answer.status_code == 202 and answer.headers["X-Request-ID"] == request_id
    message_id = answer.json()["id"]

    (edge_line,) = wait_for_lines(stack.web, lambda line: line.get("request_id") == request_id)
    assert {k: edge_line[k] for k in ("logger", "level", "method", "route", "status", "user_id", "trace_id")} == {
        "logger": "herald.http", "level": "INFO", "method": "POST", "route": "/v1/messages", "status": 202,
        "user_id": business.id, "trace_id": TRACE_ID}
    assert edge_line["duration_ms"] > 0 and edge_line["time"]

    ours = lambda line: line.get("request_id") == request_id  # noqa: E731
    wait_for_lines(stack.worker, lambda line: ours(line) and "is a dead letter" in line["message"])
    lines = [line for line in json_lines(stack.worker) if ours(line)]
    runs = {(line["actor"], line["outcome"]) for line in lines if line["logger"] == "herald.jobs"}
    assert (DELIVER_MESSAGE, "done") in runs and (SEND_PUSH, "PushRejected") in runs
    assert all(line["message_id"] == message_id and line["trace_id"] == TRACE_ID for line in lines)
    (attempt,) = [line for line in lines if line["logger"] == "usecases.messaging.push"]
    assert attempt["outcome"] == "PushRejected" and attempt["actor"] == SEND_PUSH
    with UnitOfWork(sessions) as uow:
        (letter,) = uow.session.scalars(select(DeadLetter)).all()
    assert (letter.actor_name, letter.request_id, letter.trace_id) == (SEND_PUSH, request_id, TRACE_ID)


def test_a_socket_is_logged_at_open_and_at_close_and_not_as_a_request(stack, auth, sessions):
    somchai = auth.user("mobile")
    with StreamClient(stack.ws_url, token_of(auth, somchai)) as client:
        client.until_ready()
        (opened,) = wait_for_lines(stack.web, lambda line: line["message"] == "socket open"
                                   and line.get("user_id") == somchai.id)
    (closed,) = wait_for_lines(stack.web, lambda line: line["message"] == "socket closed"
                               and line.get("user_id") == somchai.id)
    assert opened["route"] == closed["route"] == "/v1/ws" and opened["request_id"] == closed["request_id"]
    assert closed["duration_ms"] > 0
    assert not [line for line in json_lines(stack.web)
                if line.get("request_id") == opened["request_id"] and line["logger"] == "herald.http"
                and "status" in line]
