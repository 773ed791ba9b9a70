"""Push notifications end to end in full mode: gunicorn and a dramatiq worker
whose firebase-admin client talks to a fake FCM running in this process."""

from __future__ import annotations

import time

import pytest
import redis
import requests
from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import Push
from pipeline.channels import presence_key
from tests.support.clients import StreamClient, token_of
from tests.support.fake_fcm import FakeFcm

pytestmark = pytest.mark.e2e
QUIET_SECONDS = 1.5  # how long we watch for a second, unwanted push


@pytest.fixture(scope="module")
def fake_fcm():
    with FakeFcm() as fake:
        yield fake


@pytest.fixture(scope="module")
def stack_env(stack_env, fake_fcm, tmp_path_factory):
    """The shared full-mode environment, plus FCM pointed at the fake."""
    folder = tmp_path_factory.mktemp("fcm")
    return {**stack_env, "FCM_CREDENTIALS_FILE": str(fake_fcm.service_account(folder)),
            "FCM_PROJECT_ID": fake_fcm.project_id, "FCM_ENDPOINT": fake_fcm.base_url,
            # More Dramatiq retries than the outage has failures: the outage must
            # be absorbed, not dead-lettered (the shared e2e env allows only 1).
            "RETRY_MAX": "4"}



def register_device(stack, auth, user, token):
    response = requests.post(f"{stack.base_url}/v1/devices", json={"platform": "android", "token": token},
                             headers=auth.headers(user), timeout=10)
    assert response.status_code == 201


def post_message(stack, auth, sender, recipient, body):
    response = requests.post(f"{stack.base_url}/v1/messages", json={"to": [recipient.id], "body": body},
                             headers=auth.headers(sender), timeout=10)
    assert response.status_code == 202
    return response.json()["id"]


def wait_for_push(fake_fcm, token, timeout=15.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pushed := fake_fcm.delivered_to(token):
            return pushed
        time.sleep(0.05)
    raise AssertionError(f"no push reached {token}")


def wait_for_sent(stack, auth, sender, message_id, timeout=10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = requests.get(f"{stack.base_url}/v1/messages/{message_id}", headers=auth.headers(sender), timeout=10)
        if [r["status"] for r in answer.json()["recipients"]] == ["sent"]:
            return
        time.sleep(0.05)
    raise AssertionError("the message was never placed in the stream")


def test_an_offline_user_with_a_device_gets_exactly_one_push(stack, auth, sessions, fake_fcm):
    business = auth.user("business", username="acme", name="Acme Hotels")
    malee = auth.user("mobile")
    redis.Redis.from_url(stack.env["REDIS_URL"]).delete(presence_key(malee.id, stack.env["REDIS_NAMESPACE"]))  # ids are reused across tests
    register_device(stack, auth, malee, "e2e-offline-token")
    message_id = post_message(stack, auth, business, malee, "Your room 1204 is ready")
    (push,) = wait_for_push(fake_fcm, "e2e-offline-token")
    assert push["notification"] == {"title": "Acme Hotels", "body": "Your room 1204 is ready"}
    assert push["data"]["message_id"] == str(message_id) and push["data"]["position"] == "1"
    time.sleep(QUIET_SECONDS)
    assert len(fake_fcm.delivered_to("e2e-offline-token")) == 1
    with UnitOfWork(sessions) as uow:
        assert [(p.message_id, p.status) for p in uow.session.scalars(select(Push))] == [(message_id, "sent")]


def test_a_user_online_on_a_websocket_gets_the_frame_and_no_push(stack, auth, sessions, fake_fcm):
    business = auth.user("business", username="acme")
    somchai = auth.user("mobile")
    register_device(stack, auth, somchai, "e2e-online-token")
    with StreamClient(stack.ws_url, token_of(auth, somchai)) as client:
        client.until_ready()
        message_id = post_message(stack, auth, business, somchai, "Your driver is here")
        assert client.next()["message"]["id"] == message_id
        wait_for_sent(stack, auth, business, message_id)
        time.sleep(QUIET_SECONDS)
    assert fake_fcm.delivered_to("e2e-online-token") == []
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalars(select(Push)).all() == []


def test_a_provider_that_fails_for_a_while_then_recovers_delivers_each_push_once(stack, auth, sessions, fake_fcm):
    """The fault scenario of the pipeline issue: FCM answers 503 three times
    (the SDK's own retry and Dramatiq's retry absorb them), then recovers."""
    business = auth.user("business", username="acme", name="Acme")
    nok = auth.user("mobile")
    redis.Redis.from_url(stack.env["REDIS_URL"]).delete(presence_key(nok.id, stack.env["REDIS_NAMESPACE"]))
    register_device(stack, auth, nok, "e2e-flaky-token")
    fake_fcm.fail_next(3, kind="unavailable")
    ids = [post_message(stack, auth, business, nok, f"update {n}") for n in range(5)]
    deadline = time.monotonic() + 20
    while len(fake_fcm.delivered_to("e2e-flaky-token")) < len(ids) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(QUIET_SECONDS)
    pushed = [int(p["data"]["message_id"]) for p in fake_fcm.delivered_to("e2e-flaky-token")]
    assert sorted(pushed) == ids  # each message pushed exactly once, none lost to the outage
    with UnitOfWork(sessions) as uow:
        assert sorted((p.message_id, p.status) for p in uow.session.scalars(select(Push))) == [
            (i, "sent") for i in ids]
