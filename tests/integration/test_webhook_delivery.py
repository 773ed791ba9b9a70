"""Status webhooks end to end in this process: real PostgreSQL, a real HTTP
receiver on a thread, the real requests client; the outbox pump plays the
publisher, the sweeper and the webhooks worker (tests/e2e runs the real
worker). Every status change arrives exactly once after de-duplication by
event id, per endpoint in order, never going back, signed."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import WebhookEvent
from pipeline.webhook_signing import verify
from tests.integration.webhook_support import WEBHOOK_ENV, now, pump
from tests.support.webhook_receiver import events_in_creation_order, start_receiver
from usecases.messaging.acks import record_acks
from usecases.messaging.deliver import deliver_message
from usecases.operations.audit import Actor
from workers.webhook_http import RequestsWebhookClient


@pytest.fixture
def env(env):
    return {**env, **WEBHOOK_ENV}


@pytest.fixture
def business(auth):
    return auth.user("business", username="acme", name="Acme")


@pytest.fixture
def receiver():
    receiver = start_receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def ports(app):
    return app.extensions["herald"].ports


@pytest.fixture
def http():
    return RequestsWebhookClient(fail_max=1000)


def endpoint_for(client, auth, owner, receiver) -> dict:
    answer = client.post("/v1/webhooks", json={"url": receiver.url, "events": ["message.status"]},
                         headers=auth.headers(owner))
    assert answer.status_code == 201
    return answer.json


def send(client, auth, sender, recipients, body="hi") -> int:
    answer = client.post("/v1/messages", json={"to": [r.id for r in recipients], "body": body},
                         headers=auth.headers(sender))
    assert answer.status_code == 202
    return answer.json["id"]


def fits_the_document(events: list[dict], schema: str) -> None:
    """The bodies sent are the ones web/openapi.yaml describes."""
    from openapi_schema_validator import OAS30Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    from web.blueprints.apidocs import spec

    document = spec()
    registry = Registry().with_resource("urn:spec", Resource.from_contents(document, default_specification=DRAFT4))
    validator = OAS30Validator({"$ref": f"urn:spec#/components/schemas/{schema}"}, registry=registry)
    for event in events:
        assert [e.message for e in validator.iter_errors(event)] == [], event


def statuses(events) -> dict:
    """(message, recipient) → the statuses in arrival order."""
    seen: dict = {}
    for event in events:
        if event["type"] == "message.status":
            key = (event["data"]["message_id"], event["data"]["recipient"]["user_id"])
            seen.setdefault(key, []).append((event["sequence"], event["data"]["status"]))
    return seen


def test_each_status_change_arrives_once_in_order_signed(client, auth, business, receiver, ports, http):
    endpoint = endpoint_for(client, auth, business, receiver)
    somchai, malee = auth.user("mobile"), auth.user("mobile")
    first = send(client, auth, business, [somchai, malee])
    second = send(client, auth, business, [somchai])
    deliver_message(ports, second, now())  # places both for somchai, in order
    deliver_message(ports, first, now())  # and the first for malee
    record_acks(ports, somchai.id, 2, 0, now())  # both delivered
    record_acks(ports, somchai.id, 0, 2, now())  # both read
    record_acks(ports, malee.id, 0, 1, now())  # read without an ack: delivered is reported too
    pump(ports, http)
    assert receiver.verified(endpoint["secret"])
    events = receiver.accepted()
    assert statuses(events) == {
        (first, somchai.id): [(1, "sent"), (2, "delivered"), (3, "read")],
        (second, somchai.id): [(1, "sent"), (2, "delivered"), (3, "read")],
        (first, malee.id): [(1, "sent"), (2, "delivered"), (3, "read")],
    }
    assert len(events) == len(receiver.received) == 9
    assert [e["id"] for e in events] == events_in_creation_order(ports.sessions)
    fits_the_document(events, "MessageStatusEvent")
    sample = events[0]
    assert sample["id"].startswith("evt_") and sample["data"]["recipient"]["phone"] == somchai.phone
    assert set(sample) == {"id", "type", "created_at", "sequence", "data"}
    assert set(sample["data"]) == {"message_id", "recipient", "status", "at"}


def test_a_message_from_a_sender_without_endpoint_makes_no_event(client, auth, business, ports, sessions):
    somchai = auth.user("mobile")
    message = send(client, auth, business, [somchai])
    deliver_message(ports, message, now())
    record_acks(ports, somchai.id, 1, 1, now())
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalars(select(WebhookEvent)).all() == []


def test_a_receiver_answering_500_for_a_while_holds_back_its_events_then_gets_them_all_in_order(
        client, auth, business, receiver, ports, http):
    endpoint = endpoint_for(client, auth, business, receiver)
    users = [auth.user("mobile") for _ in range(3)]
    receiver.fail_until = time.monotonic() + 0.6
    messages = [send(client, auth, business, users, body=f"m{n}") for n in range(3)]
    deliver_message(ports, messages[-1], now())
    for user in users:
        record_acks(ports, user.id, 3, 0, now())
    pump(ports, http, until=lambda: len(receiver.accepted()) == 18)
    events = receiver.accepted()
    assert len(events) == 18 == len(receiver.received)  # 9 sent + 9 delivered, none twice
    assert [e["id"] for e in events] == events_in_creation_order(ports.sessions)
    for sequence in statuses(events).values():
        assert sequence == [(1, "sent"), (2, "delivered")]
    attempts = client.get(f"/v1/webhooks/{endpoint['id']}/deliveries?limit=100",
                          headers=auth.headers(business)).json["items"]
    failures = [a for a in attempts if a["status_code"] == 500]
    assert failures and all(a["error"] == "answered 500" for a in failures)
    assert {a["event_id"] for a in failures} <= {events[0]["id"]}  # only the head event was tried while failing
    shown = client.get(f"/v1/webhooks/{endpoint['id']}", headers=auth.headers(business)).json
    assert shown["last_error"] == "answered 500" and shown["oldest_pending_event"] is None


def test_a_receiver_that_hangs_times_out_and_the_event_is_sent_again(client, auth, business, receiver, ports,
                                                                      http):
    endpoint = endpoint_for(client, auth, business, receiver)
    receiver.hang_next, receiver.hang_seconds = 1, 1.0
    somchai = auth.user("mobile")
    message = send(client, auth, business, [somchai])
    deliver_message(ports, message, now())
    record_acks(ports, somchai.id, 1, 0, now())
    pump(ports, http, until=lambda: len(receiver.received) >= 3)
    time.sleep(1.0)  # let the hung request finish on the receiver's side
    events = receiver.accepted()
    assert [(e["data"]["status"], e["sequence"]) for e in events] == [("sent", 1), ("delivered", 2)]
    assert len(receiver.received) == 3  # the hung `sent` was processed and sent again: same id
    attempts = client.get(f"/v1/webhooks/{endpoint['id']}/deliveries",
                          headers=auth.headers(business)).json["items"]
    assert attempts[-1]["error"] == "no answer within 0.5 s" and attempts[-1]["status_code"] is None


def test_during_a_rotation_both_secrets_verify(client, auth, business, receiver, ports, http):
    endpoint = endpoint_for(client, auth, business, receiver)
    old = endpoint["secret"]
    new = client.post(f"/v1/webhooks/{endpoint['id']}/rotate-secret", headers=auth.headers(business)).json["secret"]
    assert client.post(f"/v1/webhooks/{endpoint['id']}/test", headers=auth.headers(business)).status_code == 202
    pump(ports, http)
    (ping,) = receiver.received
    assert ping.event["type"] == "ping" and ping.signature.count("v1=") == 2
    fits_the_document([ping.event], "PingEvent")
    assert verify(ping.signature, old, ping.body, int(time.time()))
    assert verify(ping.signature, new, ping.body, int(time.time()))
    assert not verify(ping.signature, "whsec_other", ping.body, int(time.time()))
    assert not verify(ping.signature, new, ping.body + b" ", int(time.time()))
    assert not verify(ping.signature, new, ping.body, int(time.time()) + 301)  # outside the 5-minute tolerance


def test_a_redelivery_sends_the_same_event_again_after_the_others(client, auth, business, receiver, ports, http):
    endpoint = endpoint_for(client, auth, business, receiver)
    headers = auth.headers(business)
    ping = client.post(f"/v1/webhooks/{endpoint['id']}/test", headers=headers).json
    refused = client.post(f"/v1/webhooks/{endpoint['id']}/deliveries/{ping['id']}/redeliver", headers=headers)
    assert (refused.status_code, refused.json["code"]) == (409, "webhook_event_pending")
    pump(ports, http)
    again = client.post(f"/v1/webhooks/{endpoint['id']}/deliveries/{ping['id']}/redeliver", headers=headers)
    assert again.status_code == 202 and again.json["id"] == ping["id"]
    pump(ports, http)
    assert [r.event["id"] for r in receiver.received] == [ping["id"], ping["id"]]
    assert receiver.received[0].body == receiver.received[1].body
    missing = client.post(f"/v1/webhooks/{endpoint['id']}/deliveries/evt_nope/redeliver", headers=headers)
    assert missing.status_code == 404


def test_after_the_window_the_event_fails_and_the_endpoint_is_disabled(client, auth, business, receiver, app,
                                                                       http):
    from dataclasses import replace
    ports = app.extensions["herald"].ports
    ports = replace(ports, webhooks=replace(ports.webhooks, window_seconds=0.3))
    endpoint = endpoint_for(client, auth, business, receiver)
    receiver.fail_until = time.monotonic() + 60
    client.post(f"/v1/webhooks/{endpoint['id']}/test", headers=auth.headers(business))
    pump(ports, http, until=lambda: not client.get(f"/v1/webhooks/{endpoint['id']}",
                                                   headers=auth.headers(business)).json["enabled"])
    shown = client.get(f"/v1/webhooks/{endpoint['id']}", headers=auth.headers(business)).json
    assert shown["enabled"] is False and "failed for 0.3 s" in shown["disabled_reason"]
    assert shown["last_error"] == "answered 500" and shown["oldest_pending_event"] is None
    with UnitOfWork(ports.sessions) as uow:
        assert uow.session.scalars(select(WebhookEvent.state)).all() == ["failed"]


def test_an_address_that_turned_private_is_not_called(client, auth, business, receiver, app, http):
    from dataclasses import replace
    ports = app.extensions["herald"].ports
    endpoint = endpoint_for(client, auth, business, receiver)
    client.post(f"/v1/webhooks/{endpoint['id']}/test", headers=auth.headers(business))
    strict = replace(ports, webhooks=replace(ports.webhooks, allow_private=False))
    pump(strict, http, rounds=1)
    assert receiver.received == []
    attempts = client.get(f"/v1/webhooks/{endpoint['id']}/deliveries", headers=auth.headers(business)).json
    assert "private or reserved address (127.0.0.1)" in attempts["items"][0]["error"]


def test_https_connects_to_the_checked_address_and_verifies_the_name(app, auth, business, tmp_path):
    """The host is never resolved again after the check (DNS rebinding): the
    connection goes to the checked address, with SNI and certificate checks
    for the name."""
    import trustme

    from usecases.webhooks import endpoints, manual_events

    ca = trustme.CA()
    receiver = start_receiver(tls_cert=ca.issue_cert("hooks.test"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))

    class PinnedResolver(RequestsWebhookClient):
        def resolve(self, host):
            return ["127.0.0.1"] if host.endswith(".test") else []

    ports = app.extensions["herald"].ports
    try:
        good, bad = (endpoints.create(ports, lambda host: ["127.0.0.1"], Actor(business.id, "api"),
                                      f"https://{name}:{receiver.port}/hooks", ["message.status"], None)
                     for name in ("hooks.test", "other.test"))
        for endpoint in (good, bad):
            manual_events.send_ping(ports, Actor(business.id, "api"), endpoint["id"])
        pump(ports, PinnedResolver(verify=str(tmp_path / "ca.pem")), rounds=1)
        (ping,) = receiver.received
        assert ping.event["data"]["endpoint_id"] == good["id"] and verify(ping.signature, good["secret"], ping.body,
                                                                          int(time.time()))
        refused = endpoints.show(ports, business.id, bad["id"])["last_error"]
        assert "SSLError" in refused and "other.test" in refused
    finally:
        receiver.close()


def test_a_dead_letter_reports_failed_and_a_requeue_starts_a_higher_sequence(client, auth, business, receiver,
                                                                             ports, http, sessions):
    from pipeline.contract import DELIVER_MESSAGE, delivery_queue
    from usecases.operations.dead_letter_admin import AdminAction, requeue_letter
    from usecases.operations.dead_letters import FailedJob, record_dead_letter
    from db.models import DeadLetter

    endpoint_for(client, auth, business, receiver)
    somchai = auth.user("mobile")
    message = send(client, auth, business, [somchai])
    with UnitOfWork(sessions) as uow:
        record_dead_letter(uow.session, FailedJob("job-1", delivery_queue("normal", 0), DELIVER_MESSAGE, [message],
                                                  "DependencyUnavailable", 3, "down", "down", now()), now())
        uow.commit()
    with UnitOfWork(sessions) as uow:
        letter = uow.session.scalars(select(DeadLetter)).one()
        requeue_letter(uow.session, letter.id, AdminAction(None, "test", now()))
        uow.commit()
    deliver_message(ports, message, now())
    pump(ports, http)
    events = receiver.accepted()
    assert [(e["data"]["status"], e["sequence"]) for e in events] == [("failed", 4), ("sent", 11)]


def test_an_endpoint_deleted_during_a_post_records_nothing_and_stops(client, auth, business, receiver, ports):
    endpoint = endpoint_for(client, auth, business, receiver)
    client.post(f"/v1/webhooks/{endpoint['id']}/test", headers=auth.headers(business))

    class DeletingClient(RequestsWebhookClient):
        def post(self, *args, **kwargs):
            answer = super().post(*args, **kwargs)
            assert client.delete(f"/v1/webhooks/{endpoint['id']}", headers=auth.headers(business)).status_code == 204
            return answer

    pump(ports, DeletingClient())
    assert len(receiver.received) == 1
    with UnitOfWork(ports.sessions) as uow:
        assert uow.session.scalars(select(WebhookEvent)).all() == []


def test_a_business_member_gets_the_chat_messages_of_its_conversations_but_not_its_own(client, auth, business,
                                                                                       receiver, ports, http):
    from tests.support.chat import group, say

    answer = client.post("/v1/webhooks", json={"url": receiver.url, "events": ["conversation.message"]},
                         headers=auth.headers(business))
    somchai, malee = auth.user("mobile"), auth.user("mobile")
    trip = group(client, auth, business, [somchai, malee])
    own = say(client, auth, business, trip, "welcome")["id"]
    first = say(client, auth, somchai, trip, "thanks")["id"]
    second = say(client, auth, malee, trip, "hello")["id"]
    for message in (own, first, second):
        deliver_message(ports, message, now())
    pump(ports, http)
    events = receiver.accepted()
    assert [(e["type"], e["data"]["message"]["id"], e["sequence"]) for e in events] == [
        ("conversation.message", first, 2), ("conversation.message", second, 3)]
    assert events[0]["data"]["conversation_id"] == trip and events[0]["data"]["message"]["body"] == "thanks"
    assert receiver.verified(answer.json["secret"])
    fits_the_document(events, "ConversationMessageEvent")


def test_the_tick_wakes_an_endpoint_whose_due_head_nobody_works_on_once_per_stall(client, auth, business, receiver,
                                                                                  ports, sessions):
    from dataclasses import replace
    from datetime import timedelta

    from db.models import Outbox
    from usecases.operations.maintenance import wake_stalled_webhooks

    endpoint = endpoint_for(client, auth, business, receiver)
    client.post(f"/v1/webhooks/{endpoint['id']}/test", headers=auth.headers(business))  # its job is "lost"
    policy = replace(ports.webhooks, stall_seconds=60)
    assert wake_stalled_webhooks(sessions, now(), policy) == 0  # not due for long enough
    later = now() + timedelta(seconds=61)
    assert wake_stalled_webhooks(sessions, later, policy) == 1
    assert wake_stalled_webhooks(sessions, later + timedelta(seconds=1), policy) == 0  # once per stall period
    with UnitOfWork(sessions) as uow:
        woken = uow.session.scalars(select(Outbox).where(Outbox.actor_name == "deliver_webhooks")
                                    .order_by(Outbox.id)).all()
    assert [tuple(job.args) for job in woken] == [(endpoint["id"],)] * 2  # the ping's own job, and the wake-up


def test_a_redirect_is_not_followed_and_counts_as_a_failure(client, auth, business, receiver, ports, http):
    endpoint = endpoint_for(client, auth, business, receiver)
    receiver.redirect_next = 1
    client.post(f"/v1/webhooks/{endpoint['id']}/test", headers=auth.headers(business))
    pump(ports, http)
    attempts = client.get(f"/v1/webhooks/{endpoint['id']}/deliveries", headers=auth.headers(business)).json["items"]
    assert [(a["status_code"], a["error"]) for a in reversed(attempts)] == [(307, "answered 307"), (200, None)]
    assert receiver.started == 2 and len(receiver.received) == 1  # /elsewhere was never asked for


def test_a_long_drain_hands_over_to_a_fresh_job(client, auth, business, receiver, ports, http, monkeypatch):
    from usecases.webhooks import dispatch as dispatcher
    from usecases.webhooks import manual_events

    monkeypatch.setattr(dispatcher, "BATCH", 2)
    monkeypatch.setattr(dispatcher, "RUN_FOR", __import__("datetime").timedelta(0))
    endpoint = endpoint_for(client, auth, business, receiver)
    for _ in range(5):
        manual_events.send_ping(ports, Actor(business.id, "api"), endpoint["id"])
    handed = len(ports.publisher.jobs)
    assert dispatcher.dispatch(ports, http, endpoint["id"], now) == 2  # one batch, then a fresh job
    assert len(ports.publisher.jobs) == handed + 1
    pump(ports, http)
    assert len(receiver.accepted()) == 5
    assert [e["id"] for e in receiver.accepted()] == events_in_creation_order(ports.sessions)


def test_finished_events_and_their_attempts_are_forgotten_after_thirty_days(client, auth, business, receiver,
                                                                           ports, http, sessions):
    from datetime import timedelta

    from db.models import WebhookAttempt
    from usecases.operations.maintenance import tidy

    endpoint = endpoint_for(client, auth, business, receiver)
    client.post(f"/v1/webhooks/{endpoint['id']}/test", headers=auth.headers(business))
    pump(ports, http)
    client.post(f"/v1/webhooks/{endpoint['id']}/test", headers=auth.headers(business))  # still pending
    tidy(sessions, now() + timedelta(days=29))
    with UnitOfWork(sessions) as uow:
        assert len(uow.session.scalars(select(WebhookEvent)).all()) == 2
    tidy(sessions, now() + timedelta(days=31))
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalars(select(WebhookEvent.state)).all() == ["pending"]
        assert uow.session.scalars(select(WebhookAttempt)).all() == []
