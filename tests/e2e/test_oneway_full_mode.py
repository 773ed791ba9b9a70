"""One-way messages end to end in full mode: HTTP in, WebSocket out,
through gunicorn, RabbitMQ, a dramatiq worker, PostgreSQL and Redis."""

from __future__ import annotations

import re
import time

import pytest
import requests
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.support.clients import StreamClient, token_of

pytestmark = pytest.mark.e2e


def post_message(stack, auth, sender, headers=None, **body):
    return requests.post(f"{stack.base_url}/v1/messages", json=body,
                         headers={**auth.headers(sender), **(headers or {})}, timeout=10)


def status_of(stack, auth, sender, message_id):
    response = requests.get(f"{stack.base_url}/v1/messages/{message_id}", headers=auth.headers(sender), timeout=10)
    return [r["status"] for r in response.json()["recipients"]]


def wait_for_status(stack, auth, sender, message_id, wanted, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = status_of(stack, auth, sender, message_id)
        if statuses == wanted:
            return
        time.sleep(0.05)
    raise AssertionError(f"status stayed {statuses}, wanted {wanted}")



def test_an_online_user_receives_a_message_acks_it_and_the_sender_sees_delivered(stack, auth, sessions):
    business = auth.user("business", username="acme", name="Acme")
    somchai = auth.user("mobile")
    with StreamClient(stack.ws_url, token_of(auth, somchai)) as client:
        assert client.until_ready() == ([], {"type": "ready", "position": 0, "protocol": 1})
        response = post_message(stack, auth, business, to=[somchai.id], body="Your driver is here")
        assert response.status_code == 202
        frame = client.next()
        assert frame["type"] == "message" and frame["position"] == 1
        assert frame["message"]["id"] == response.json()["id"]
        assert frame["message"]["body"] == "Your driver is here"
        assert frame["message"]["sender"] == {"id": business.id, "name": "Acme", "role": "business"}
        wait_for_status(stack, auth, business, response.json()["id"], ["sent"])
        client.send({"type": "ack", "position": 1})
        wait_for_status(stack, auth, business, response.json()["id"], ["delivered"])
        client.send({"type": "read", "position": 1})
        wait_for_status(stack, auth, business, response.json()["id"], ["read"])


def test_an_offline_user_gets_every_message_in_order_on_reconnect_with_since(stack, auth, sessions):
    business = auth.user("business", username="acme")
    malee = auth.user("mobile")
    ids = [post_message(stack, auth, business, to=[malee.id], body=f"update {n}").json()["id"] for n in range(5)]
    for message_id in ids:
        wait_for_status(stack, auth, business, message_id, ["sent"])
    with StreamClient(stack.ws_url, token_of(auth, malee), since=0) as client:
        frames, ready = client.until_ready()
    assert [f["message"]["id"] for f in frames] == ids
    assert [f["position"] for f in frames] == [1, 2, 3, 4, 5] and ready["position"] == 5
    with StreamClient(stack.ws_url, token_of(auth, malee), since=3) as client:
        frames, ready = client.until_ready()
        assert [f["position"] for f in frames] == [4, 5]
        late = post_message(stack, auth, business, to=[malee.id], body="live again").json()["id"]
        frame = client.next()
        assert (frame["position"], frame["message"]["id"]) == (6, late)


def test_a_message_to_a_number_without_an_account_arrives_after_its_first_login(stack, auth, sessions):
    business = auth.user("business", username="acme")
    phone = "+66899990001"
    message_id = post_message(stack, auth, business, to=[phone], body="Welcome aboard").json()["id"]
    wait_for_status(stack, auth, business, message_id, ["sent"])
    assert requests.post(f"{stack.base_url}/v1/auth/otp", json={"phone": phone}, timeout=10).status_code == 202
    code = re.findall(rf"OTP for \{phone}: (\d{{6}})", stack.web.wait_for_log(f"OTP for {phone}"))[-1]
    login = requests.post(f"{stack.base_url}/v1/auth/otp/verify", json={"phone": phone, "code": code}, timeout=10)
    assert login.status_code == 200
    with StreamClient(stack.ws_url, login.json()["access_token"]) as client:
        frames, _ = client.until_ready()
    assert [f["message"]["id"] for f in frames] == [message_id]
    assert frames[0]["message"]["body"] == "Welcome aboard"


def test_a_replayed_idempotency_key_delivers_once(stack, auth, sessions):
    business = auth.user("business", username="acme")
    somchai = auth.user("mobile")
    key = {"Idempotency-Key": "order-7781"}
    answers = [post_message(stack, auth, business, headers=key, to=[somchai.id], body="Paid") for _ in range(3)]
    assert {a.json()["id"] for a in answers} == {answers[0].json()["id"]}
    assert [a.headers.get("Idempotent-Replayed") for a in answers] == [None, "true", "true"]
    wait_for_status(stack, auth, business, answers[0].json()["id"], ["sent"])
    with StreamClient(stack.ws_url, token_of(auth, somchai)) as client:
        frames, ready = client.until_ready()
    assert len(frames) == 1 and ready["position"] == 1


def test_a_browser_connects_with_a_one_time_ticket_and_the_origin_is_checked(stack, auth, sessions):
    somchai = auth.user("mobile")
    ticket = requests.post(f"{stack.base_url}/v1/ws/ticket", headers=auth.headers(somchai), timeout=10).json()
    with StreamClient(stack.ws_url, ticket=ticket["ticket"], origin=stack.base_url) as client:
        assert client.until_ready()[1]["type"] == "ready"
    with pytest.raises(InvalidStatus) as spent:
        StreamClient(stack.ws_url, ticket=ticket["ticket"])
    assert spent.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as foreign:
        StreamClient(stack.ws_url, token_of(auth, somchai), origin="https://evil.example")
    assert foreign.value.response.status_code == 403


def test_sockets_refuse_missing_and_wrong_credentials_before_the_upgrade(stack, auth, sessions):
    business = auth.user("business", username="acme")
    for token, status in ((None, 401), ("not-a-jwt", 401), (token_of(auth, business), 403)):
        with pytest.raises(InvalidStatus) as refused:
            StreamClient(stack.ws_url, token)
        assert refused.value.response.status_code == status


def test_the_full_stack_reports_ready(stack):
    response = requests.get(f"{stack.base_url}/readyz", timeout=10)
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "redis": "ok"}


def test_a_message_committed_but_never_published_is_swept_and_delivered(stack, auth, client, publisher, sessions):
    """An edge that dies between its commit and its publish: the in-process
    app here commits and publishes nothing; the running worker's outbox
    sweeper republishes the job."""
    business = auth.user("business", username="acme")
    somchai = auth.user("mobile")
    with StreamClient(stack.ws_url, token_of(auth, somchai)) as stream:
        stream.until_ready()
        response = client.post("/v1/messages", json={"to": [somchai.id], "body": "swept"},
                               headers=auth.headers(business))
        assert response.status_code == 202 and len(publisher.jobs) == 1  # recorded, never sent
        frame = stream.next(timeout=15)
    assert frame["message"]["id"] == response.json["id"]
    # The sweep marks and logs after it sent: the frame may come first.
    stack.worker.wait_for_log("outbox sweeper republished 1 jobs", timeout=10)


def test_the_socket_answers_pings_reports_bad_frames_and_closes_on_oversized_ones(stack, auth, sessions):
    somchai = auth.user("mobile")
    with StreamClient(stack.ws_url, token_of(auth, somchai)) as client:
        client.until_ready()
        client.send({"type": "ping"})
        assert client.next() == {"type": "pong"}
        client.send({"type": "ack", "position": "all"})
        frame = client.next()
        assert frame["type"] == "error" and frame["code"] == "bad_request"
        client.ws.send("x" * 70_000)  # over WS_MAX_FRAME_BYTES (64 KiB)
        with pytest.raises(ConnectionClosed) as closed:
            client.next()
        assert closed.value.rcvd.code == 1009


def test_a_client_cannot_ack_beyond_what_it_was_sent(stack, auth, sessions):
    business = auth.user("business", username="acme")
    somchai = auth.user("mobile")
    with StreamClient(stack.ws_url, token_of(auth, somchai)) as client:
        client.until_ready()
        first = post_message(stack, auth, business, to=[somchai.id], body="one").json()["id"]
        assert client.next()["position"] == 1
        client.send({"type": "ack", "position": 1_000})
        wait_for_status(stack, auth, business, first, ["delivered"])
        # A message positioned after the oversized ack is not covered by it.
        second = post_message(stack, auth, business, to=[somchai.id], body="two").json()["id"]
        assert client.next()["position"] == 2
        client.send({"type": "ping"})
        assert client.next() == {"type": "pong"}
    assert status_of(stack, auth, business, second) == ["sent"]
