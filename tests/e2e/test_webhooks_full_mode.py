"""Status webhooks in full mode: gunicorn, a delivery worker and a separate
webhooks worker (its own queue) on RabbitMQ, a local receiver in this
process; the webhooks worker is killed with SIGKILL in the middle of a POST
and a new one takes over. Every `sent` arrives, once after de-duplication by
event id, in creation order."""

from __future__ import annotations

import signal
import time

import pytest
import requests

from pipeline.contract import WEBHOOKS_QUEUE, delivery_queues, PUSH_QUEUE
from tests.support.processes import start_dramatiq, start_gunicorn
from tests.support.webhook_receiver import events_in_creation_order, start_receiver

pytestmark = pytest.mark.e2e
MESSAGES = 6


@pytest.fixture(scope="module")
def webhook_env(stack_env):
    return {**stack_env, "WEBHOOK_ALLOW_PRIVATE": "on", "WEBHOOK_ALLOW_HTTP": "on",
            "WEBHOOK_TIMEOUT_SECONDS": "1", "WEBHOOK_FIRST_DELAY_SECONDS": "0.2",
            "WEBHOOK_MAX_DELAY_SECONDS": "1", "WEBHOOK_STALL_SECONDS": "1"}


@pytest.fixture
def receiver():
    receiver = start_receiver()
    yield receiver
    receiver.close()


def test_a_webhooks_worker_killed_mid_delivery_loses_and_reorders_nothing(webhook_env, auth, receiver,
                                                                          sessions, tmp_path):
    web, base = start_gunicorn(webhook_env, tmp_path)
    # One delivery thread: its transactions commit in id order, so arrival order can be checked by id (D81).
    delivery = start_dramatiq(webhook_env, tmp_path, threads=1, queues=delivery_queues(4) + [PUSH_QUEUE],
                              name="delivery")
    hooks = start_dramatiq(webhook_env, tmp_path, queues=[WEBHOOKS_QUEUE], name="webhooks")
    replacement = None
    try:
        business = auth.user("business", username="acme", name="Acme")
        users = [auth.user("mobile") for _ in range(MESSAGES)]
        endpoint = requests.post(f"{base}/v1/webhooks", json={"url": receiver.url, "events": ["message.status"]},
                                 headers=auth.headers(business), timeout=10).json()
        receiver.hang_on, receiver.hang_seconds = {3}, 4.0
        for user in users:
            answer = requests.post(f"{base}/v1/messages", json={"to": [user.id], "body": "hi"},
                                   headers=auth.headers(business), timeout=10)
            assert answer.status_code == 202
        _wait(lambda: receiver.started >= 3, "the third POST never started")
        hooks.signal(signal.SIGKILL)  # in the middle of the hanging POST
        hooks.stop()
        replacement = start_dramatiq(webhook_env, tmp_path, queues=[WEBHOOKS_QUEUE], name="webhooks-2")
        _wait(lambda: len(receiver.accepted()) == MESSAGES, "not every status change arrived", timeout=40)
        time.sleep(1.0)  # nothing more should come
        events = receiver.accepted()
        assert len(events) == MESSAGES
        assert {e["data"]["recipient"]["user_id"] for e in events} == {u.id for u in users}
        assert all((e["type"], e["data"]["status"], e["sequence"]) == ("message.status", "sent", 1) for e in events)
        assert [e["id"] for e in events] == events_in_creation_order(sessions)
        assert receiver.verified(endpoint["secret"])
        shown = requests.get(f"{base}/v1/webhooks/{endpoint['id']}", headers=auth.headers(business),
                             timeout=10).json()
        assert shown["enabled"] and shown["oldest_pending_event"] is None
    finally:
        for process in (replacement, hooks, delivery, web):
            if process is not None:
                process.stop()


def _wait(condition, message: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(message)
