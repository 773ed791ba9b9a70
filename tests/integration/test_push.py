"""Push notifications on the real PostgreSQL and Redis: the devices API, and
the push actor sending through the real firebase-admin client to a local
fake FCM (tests/support/fake_fcm.py)."""

from __future__ import annotations

import logging
import threading
import time

import dramatiq
import pytest
from sqlalchemy import select

from config import load_settings
from db.engine import UnitOfWork
from db.models import Device, Outbox, Push
from pipeline.errors import PushProviderUnavailable, PushRejected, TransientError
from pipeline.contract import PUSH_QUEUE, SEND_PUSH
from pipeline.push import build_push
from pipeline.retry import RetryPolicy
from realtime import RedisPresence, RedisRealtime
from tests.integration.test_openapi import _Contract
from tests.support.fake_fcm import FakeFcm
from web.blueprints.apidocs import spec as load_spec
from workers.broker import install_ports, make_broker, worker_ports
from workers.delivery import deliver_message
from workers.push import send_push
from workers.broker import install_push_sender
from workers.push_sender import CircuitOpen, LoggingSender, ProviderBusy, make_push_sender


# --- the devices API --------------------------------------------------------

def register(client, auth, user, token="tok-1", platform="android"):
    return client.post("/v1/devices", json={"platform": platform, "token": token}, headers=auth.headers(user))


def listed(client, auth, user, **query):
    return client.get("/v1/devices", query_string=query, headers=auth.headers(user))


def test_a_mobile_user_registers_lists_and_deletes_a_device(client, auth):
    somchai = auth.user("mobile")
    created = register(client, auth, somchai)
    assert created.status_code == 201 and created.json["platform"] == "android"
    assert created.headers["Location"] == f"/v1/devices/{created.json['id']}"
    assert [d["token"] for d in listed(client, auth, somchai).json["items"]] == ["tok-1"]
    deleted = client.delete(f"/v1/devices/{created.json['id']}", headers=auth.headers(somchai))
    assert deleted.status_code == 204 and deleted.data == b""
    assert listed(client, auth, somchai).json == {"items": [], "next_cursor": None}


def test_registering_a_known_token_answers_200_and_moves_it_to_the_caller(client, auth):
    somchai, malee = auth.user("mobile"), auth.user("mobile")
    first = register(client, auth, somchai, platform="android")
    again = register(client, auth, somchai, platform="android")
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    moved = register(client, auth, malee, platform="ios")
    assert moved.status_code == 200 and moved.json["id"] == first.json["id"] and moved.json["platform"] == "ios"
    assert listed(client, auth, somchai).json["items"] == []
    assert [d["id"] for d in listed(client, auth, malee).json["items"]] == [first.json["id"]]


def test_the_device_list_is_paged_with_opaque_cursors(client, auth):
    somchai = auth.user("mobile")
    ids = [register(client, auth, somchai, token=f"tok-{n}").json["id"] for n in range(3)]
    first = listed(client, auth, somchai, limit=2).json
    rest = listed(client, auth, somchai, limit=2, cursor=first["next_cursor"]).json
    assert [d["id"] for d in first["items"] + rest["items"]] == ids and rest["next_cursor"] is None


def test_a_user_keeps_at_most_twenty_devices_the_least_recently_seen_goes(client, auth):
    somchai = auth.user("mobile")
    for n in range(21):
        register(client, auth, somchai, token=f"tok-{n}")
    tokens = [d["token"] for d in listed(client, auth, somchai, limit=100).json["items"]]
    assert len(tokens) == 20 and "tok-0" not in tokens and "tok-20" in tokens


@pytest.mark.parametrize("who, method, expected", [
    ("nobody", "post", 401), ("nobody", "get", 401), ("nobody", "delete", 401),
    ("business", "post", 403), ("business", "get", 403), ("business", "delete", 403),
    ("admin", "post", 403), ("admin", "get", 403), ("admin", "delete", 403),
    ("stranger", "delete", 404),  # another mobile user's device: as if it did not exist
    ("owner", "delete", 204),
])
def test_only_the_owner_reaches_a_device(client, auth, who, method, expected):
    owner = auth.user("mobile")
    device_id = register(client, auth, owner).json["id"]
    callers = {"owner": owner, "stranger": auth.user("mobile"), "business": auth.user("business", username="acme"),
               "admin": auth.user("admin", username="root")}
    headers = auth.headers(callers[who]) if who in callers else {}
    response = {"post": lambda: client.post("/v1/devices", json={"platform": "web", "token": "t"}, headers=headers),
                "get": lambda: client.get("/v1/devices", headers=headers),
                "delete": lambda: client.delete(f"/v1/devices/{device_id}", headers=headers)}[method]()
    assert response.status_code == expected
    if expected >= 400:
        assert response.mimetype == "application/problem+json"
    assert [d["id"] for d in listed(client, auth, owner).json["items"]] == ([] if expected == 204 else [device_id])


def test_a_stranger_listing_devices_sees_only_their_own(client, auth):
    owner, stranger = auth.user("mobile"), auth.user("mobile")
    register(client, auth, owner)
    assert listed(client, auth, stranger).json["items"] == []


@pytest.mark.parametrize("body, code", [
    ({"platform": "blackberry", "token": "t"}, "validation_failed"),
    ({"platform": "android", "token": ""}, "validation_failed"),
    ({"platform": "android", "token": "   "}, "validation_failed"),
    ({"platform": "android", "token": "x" * 513}, "validation_failed"),
    ({"platform": "android"}, "validation_failed"),
    ({"platform": "android", "token": "t", "user_id": 1}, "validation_failed"),
])
def test_bad_device_registrations_get_a_problem_and_change_nothing(client, auth, sessions, body, code):
    somchai = auth.user("mobile")
    response = client.post("/v1/devices", json=body, headers=auth.headers(somchai))
    assert response.status_code == 422 and response.json["code"] == code
    assert rows(sessions, Device) == []


def test_the_devices_api_matches_its_openapi_document(client, auth):
    contract = _Contract(load_spec())
    somchai, business = auth.user("mobile"), auth.user("business", username="acme")
    as_mobile = auth.headers(somchai)
    created = contract.check(register(client, auth, somchai), "post", "/v1/devices")
    contract.check(register(client, auth, somchai), "post", "/v1/devices")
    contract.check(client.post("/v1/devices", json={"platform": "x", "token": "t"}, headers=as_mobile),
                   "post", "/v1/devices", "validation_failed")
    contract.check(client.post("/v1/devices", data="t", headers=as_mobile), "post", "/v1/devices",
                   "unsupported_media_type")
    contract.check(client.post("/v1/devices", json={}, headers=auth.headers(business)), "post", "/v1/devices",
                   "forbidden")
    contract.check(client.get("/v1/devices", headers=as_mobile), "get", "/v1/devices")
    contract.check(client.get("/v1/devices?limit=0", headers=as_mobile), "get", "/v1/devices", "bad_request")
    contract.check(client.get("/v1/devices?cursor=nope", headers=as_mobile), "get", "/v1/devices", "bad_request")
    contract.check(client.get("/v1/devices"), "get", "/v1/devices", "unauthenticated")
    one = "/v1/devices/{device_id}"
    contract.check(client.delete("/v1/devices/999999", headers=as_mobile), "delete", one, "not_found")
    contract.check(client.delete(f"/v1/devices/{created.json['id']}", headers=as_mobile), "delete", one)


# --- the push actor against the fake FCM ------------------------------------

def rows(sessions, model):
    with UnitOfWork(sessions) as uow:
        return uow.session.scalars(select(model).order_by(model.id)).all()


@pytest.fixture
def fake_fcm():
    with FakeFcm() as fake:
        yield fake


@pytest.fixture
def fcm_settings(env, fake_fcm, tmp_path):
    def make(**extra):
        return load_settings({**env, "FCM_CREDENTIALS_FILE": str(fake_fcm.service_account(tmp_path)),
                              "FCM_PROJECT_ID": fake_fcm.project_id, "FCM_ENDPOINT": fake_fcm.base_url,
                              **{k: str(v) for k, v in extra.items()}})
    return make


@pytest.fixture
def senders():
    """Build FCM senders from settings, installed for the actor; closed afterwards."""
    made = []

    def make(settings):
        sender = make_push_sender(settings)
        made.append(sender)
        install_push_sender(sender)
        return sender
    yield make
    install_push_sender(None)
    for sender in made:
        sender.close()


@pytest.fixture
def worker_runtime(settings, sessions):
    install_ports(worker_ports(settings, sessions, RedisRealtime.from_url(settings.redis_url)))


@pytest.fixture
def fcm(fcm_settings, senders, worker_runtime):
    """The default FCM sender: one SDK retry, a breaker opening after 5 failures."""
    return senders(fcm_settings())


@pytest.fixture
def business(auth):
    return auth.user("business", username="acme", name="Acme Hotels")


def a_message(client, auth, business, user, body="Your room is ready"):
    return client.post("/v1/messages", json={"to": [user.id], "body": body},
                       headers=auth.headers(business)).json["id"]


def user_with_devices(client, auth, *tokens):
    user = auth.user("mobile")
    for token in tokens:
        register(client, auth, user, token=token)
    return user


def test_a_push_reaches_every_device_of_an_offline_user_through_firebase_admin(
        client, auth, business, sessions, fake_fcm, fcm):
    somchai = user_with_devices(client, auth, "tok-a", "tok-b")
    message_id = a_message(client, auth, business, somchai)
    send_push.fn(message_id, somchai.id)
    assert sorted(m["token"] for m in fake_fcm.delivered) == ["tok-a", "tok-b"]
    sent = fake_fcm.delivered[0]
    assert sent["notification"] == {"title": "Acme Hotels", "body": "Your room is ready"}
    assert sent["data"]["message_id"] == str(message_id)
    assert [(p.status, p.attempts, p.sent_at is not None) for p in rows(sessions, Push)] == [("sent", 1, True)] * 2
    # The real client authenticated at the fake's token endpoint first.
    assert fake_fcm.requests[0].path == "/token"
    assert fake_fcm.sends[0].headers["authorization"].startswith("Bearer fake-access-")


def test_the_fcm_url_override_lives_in_the_adapter_and_is_used(fake_fcm, fcm):
    """The one private attribute (workers/fcm.point_messaging_at) really redirects the SDK."""
    from firebase_admin import messaging
    service = messaging._get_messaging_service(fcm.app)
    assert service._fcm_url == f"{fake_fcm.base_url}/v1/projects/{fake_fcm.project_id}/messages:send"
    fcm.send(build_push({"id": 1, "kind": "oneway", "body": "b", "sender": {}}, 1, "tok", "web"))
    assert [r.path for r in fake_fcm.sends] == [f"/v1/projects/{fake_fcm.project_id}/messages:send"]


def test_an_unregistered_token_is_deleted_at_once_and_its_push_pruned(
        client, auth, business, sessions, fake_fcm, fcm):
    somchai = user_with_devices(client, auth, "tok-dead", "tok-live")
    fake_fcm.unregister("tok-dead")
    send_push.fn(a_message(client, auth, business, somchai), somchai.id)
    assert [d.token for d in rows(sessions, Device)] == ["tok-live"]
    assert [(p.status, p.device_id is None) for p in rows(sessions, Push)] == [("pruned", True), ("sent", False)]
    assert "UNREGISTERED" in rows(sessions, Push)[0].last_error


def test_a_sender_id_mismatch_also_prunes_the_token(client, auth, business, sessions, fake_fcm, fcm):
    somchai = user_with_devices(client, auth, "tok-other-project")
    fake_fcm.fail_next(1, "sender_id_mismatch")
    send_push.fn(a_message(client, auth, business, somchai), somchai.id)
    assert rows(sessions, Device) == [] and rows(sessions, Push)[0].status == "pruned"


def test_quota_exceeded_is_transient_honours_retry_after_and_prunes_nothing(
        client, auth, business, sessions, fake_fcm, fcm):
    somchai = user_with_devices(client, auth, "tok-a")
    fake_fcm.fail_next(1, "quota", retry_after="7")
    with pytest.raises(ProviderBusy) as raised:
        send_push.fn(a_message(client, auth, business, somchai), somchai.id)
    assert isinstance(raised.value, TransientError) and isinstance(raised.value, dramatiq.Retry)
    assert raised.value.delay == 7_000  # Dramatiq's Retries middleware waits this long
    assert len(fake_fcm.sends) == 1  # the SDK does not retry a 429 itself
    assert [d.token for d in rows(sessions, Device)] == ["tok-a"]
    (push,) = rows(sessions, Push)
    assert (push.status, push.attempts) == ("sending", 1) and "QUOTA_EXCEEDED" in push.last_error


def test_unavailable_is_transient_within_the_sdk_budget_and_prunes_nothing(
        client, auth, business, sessions, fake_fcm, fcm):
    somchai = user_with_devices(client, auth, "tok-a")
    fake_fcm.fail_next(5, "unavailable")
    with pytest.raises(PushProviderUnavailable):
        send_push.fn(a_message(client, auth, business, somchai), somchai.id)
    assert len(fake_fcm.sends) == 2  # FCM_HTTP_RETRIES=1: one SDK retry, not firebase-admin's default 4
    assert [d.token for d in rows(sessions, Device)] == ["tok-a"]
    assert rows(sessions, Push)[0].status == "sending"


def test_the_sdk_does_not_sleep_on_a_503_retry_after(client, auth, business, fake_fcm, fcm):
    somchai = user_with_devices(client, auth, "tok-a")
    fake_fcm.fail_next(2, "unavailable", retry_after="30")
    started = time.monotonic()
    with pytest.raises(ProviderBusy) as raised:
        send_push.fn(a_message(client, auth, business, somchai), somchai.id)
    assert time.monotonic() - started < 5 and raised.value.delay == 30_000


def test_an_invalid_argument_is_permanent_and_keeps_the_device(client, auth, business, sessions, fake_fcm, fcm):
    somchai = user_with_devices(client, auth, "tok-a")
    fake_fcm.fail_next(1, "invalid")
    with pytest.raises(PushRejected):
        send_push.fn(a_message(client, auth, business, somchai), somchai.id)
    assert rows(sessions, Push)[0].status == "failed" and len(rows(sessions, Device)) == 1


def test_a_push_recovers_after_failures_and_skips_devices_already_notified(
        client, auth, business, sessions, fake_fcm, fcm_settings, senders, worker_runtime):
    senders(fcm_settings(FCM_HTTP_RETRIES=0))
    somchai = user_with_devices(client, auth, "tok-a", "tok-b")
    message_id = a_message(client, auth, business, somchai)
    fake_fcm.fail_next(1, "internal")  # tok-a's first try; tok-b goes through
    with pytest.raises(PushProviderUnavailable):
        send_push.fn(message_id, somchai.id)
    assert [m["token"] for m in fake_fcm.delivered] == ["tok-b"]
    fake_fcm.fail_next(1, "unavailable")  # the retry (Dramatiq runs the job again) fails too
    with pytest.raises(PushProviderUnavailable):
        send_push.fn(message_id, somchai.id)
    send_push.fn(message_id, somchai.id)
    assert sorted(m["token"] for m in fake_fcm.delivered) == ["tok-a", "tok-b"]
    assert [(p.status, p.attempts) for p in rows(sessions, Push)] == [("sent", 3), ("sent", 1)]


def test_a_redelivered_job_never_pushes_twice(client, auth, business, sessions, fake_fcm, fcm):
    somchai = user_with_devices(client, auth, "tok-a")
    message_id = a_message(client, auth, business, somchai)
    for _ in range(3):
        send_push.fn(message_id, somchai.id)
    assert len(fake_fcm.delivered) == 1 and len(rows(sessions, Push)) == 1


def test_two_copies_of_a_job_running_at_once_push_once(client, auth, business, sessions, fake_fcm, fcm):
    somchai = user_with_devices(client, auth, "tok-a")
    message_id = a_message(client, auth, business, somchai)
    fake_fcm.script.delay_seconds = 0.5
    threads = [threading.Thread(target=send_push.fn, args=(message_id, somchai.id)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fake_fcm.delivered) == 1 and rows(sessions, Push)[0].status == "sent"


def test_the_breaker_opens_after_n_failures_and_then_retries_later_without_calling_fcm(
        client, auth, business, sessions, fake_fcm, fcm_settings, senders, worker_runtime):
    sender = senders(fcm_settings(FCM_HTTP_RETRIES=0, PUSH_BREAKER_FAIL_MAX=3, PUSH_BREAKER_RESET_SECONDS=30))
    somchai = user_with_devices(client, auth, "tok-a")
    message_id = a_message(client, auth, business, somchai)
    fake_fcm.fail_next(10, "unavailable")
    for _ in range(3):
        with pytest.raises(PushProviderUnavailable):
            send_push.fn(message_id, somchai.id)
    assert sender.breaker.current_state == "open"
    with pytest.raises(CircuitOpen) as raised:
        send_push.fn(message_id, somchai.id)
    assert isinstance(raised.value, TransientError) and raised.value.delay == 30_000
    assert len(fake_fcm.sends) == 3  # the open breaker did not call FCM
    assert len(rows(sessions, Device)) == 1 and rows(sessions, Push)[0].status == "sending"


def test_the_breaker_does_not_serialize_concurrent_sends(fake_fcm, fcm):
    payload = build_push({"id": 1, "kind": "oneway", "body": "b", "sender": {}}, 1, "tok", "android")
    fcm.send(payload)  # fetch the access token first
    fake_fcm.script.delay_seconds = 0.6
    threads = [threading.Thread(target=fcm.send, args=(payload,)) for _ in range(2)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert len(fake_fcm.delivered) == 3
    assert elapsed < 1.0, f"two 0.6 s sends took {elapsed:.2f} s: the breaker serialized them"


def test_a_quota_answer_is_retried_by_dramatiq_after_retry_after(
        client, auth, business, settings, sessions, fake_fcm, fcm):
    """The real Retries middleware on a stub broker reads the delay from Retry-After."""
    broker = make_broker(settings, RetryPolicy(max_retries=2, min_backoff_ms=10, max_backoff_ms=20))
    dramatiq.actor(send_push.fn, broker=broker, actor_name=SEND_PUSH, queue_name=PUSH_QUEUE)
    somchai = user_with_devices(client, auth, "tok-a")
    fake_fcm.fail_next(1, "quota", retry_after="1")
    broker.get_actor(SEND_PUSH).send(a_message(client, auth, business, somchai), somchai.id)
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=1)
    worker.start()
    started = time.monotonic()
    try:
        broker.join(PUSH_QUEUE, fail_fast=False, timeout=20_000)
        worker.join()
    finally:
        worker.stop()
        broker.close()
    assert time.monotonic() - started >= 1.0  # not the policy's 10-20 ms
    assert [m["token"] for m in fake_fcm.delivered] == ["tok-a"]
    assert rows(sessions, Push)[0].status == "sent"


# --- embedded mode and the hook in delivery ---------------------------------

def test_without_fcm_pushes_are_logged_to_the_pushes_table(client, auth, business, sessions, settings,
                                                           worker_runtime, caplog):
    assert isinstance(make_push_sender(settings), LoggingSender)  # no FCM_* settings: embedded default
    install_push_sender(LoggingSender())
    try:
        somchai = user_with_devices(client, auth, "tok-a")
        with caplog.at_level(logging.INFO, logger="workers.push_sender"):
            send_push.fn(a_message(client, auth, business, somchai, body="Checkout at 11"), somchai.id)
            send_push.fn(a_message(client, auth, business, somchai, body="Checkout at 11"), somchai.id)
    finally:
        install_push_sender(None)
    assert [p.status for p in rows(sessions, Push)] == ["logged", "logged"]
    assert sum("Checkout at 11" in r.getMessage() for r in caplog.records) == 2


def queued_pushes(sessions):
    """Push jobs the delivery actor committed to the outbox, and whether published."""
    with UnitOfWork(sessions) as uow:
        return [(tuple(row.args), row.published_at is not None) for row in uow.session.scalars(
            select(Outbox).where(Outbox.actor_name == "send_push").order_by(Outbox.id))]


def test_delivering_to_an_offline_user_commits_and_publishes_one_push(client, auth, business, worker_runtime,
                                                                       sessions):
    somchai = user_with_devices(client, auth, "tok-a")
    message_id = a_message(client, auth, business, somchai)
    deliver_message.fn(message_id)
    deliver_message.fn(message_id)  # redelivered: nothing positioned, nothing pushed
    assert queued_pushes(sessions) == [((message_id, [somchai.id]), True)]


def test_an_offline_user_without_a_device_costs_no_push_job(client, auth, business, worker_runtime, sessions):
    somchai = auth.user("mobile")
    deliver_message.fn(a_message(client, auth, business, somchai))
    assert queued_pushes(sessions) == []


def test_one_push_job_per_message_for_all_its_offline_recipients_with_devices(
        client, auth, business, settings, worker_runtime, sessions, fake_fcm, fcm):
    with_devices = [user_with_devices(client, auth, f"tok-{n}") for n in range(2)]
    online = user_with_devices(client, auth, "tok-online")
    without = auth.user("mobile")
    RedisPresence.from_url(settings.redis_url, settings.redis_namespace).refresh_session(
        online.id, "socket-1", "online", time.time() + 60, time.time(), 60)
    everyone = sorted(u.id for u in [*with_devices, online, without])
    message_id = client.post("/v1/messages", json={"to": everyone, "body": "Pool closes at 8"},
                             headers=auth.headers(business)).json["id"]
    deliver_message.fn(message_id)
    assert queued_pushes(sessions) == [((message_id, sorted(u.id for u in with_devices)), True)]
    (args, _), = queued_pushes(sessions)
    send_push.fn(*args)
    send_push.fn(*args)  # redelivered: every device notified once
    assert sorted(m["token"] for m in fake_fcm.delivered) == ["tok-0", "tok-1"]
    assert {m["data"]["position"] for m in fake_fcm.delivered} == {"1"}


def test_a_job_of_the_older_form_one_user_still_pushes(client, auth, business, sessions, fake_fcm, fcm):
    somchai = user_with_devices(client, auth, "tok-a")
    send_push.fn(a_message(client, auth, business, somchai), somchai.id)
    assert [m["token"] for m in fake_fcm.delivered] == ["tok-a"]


def test_a_push_the_broker_refuses_stays_in_the_outbox_for_the_sweeper(client, auth, business, worker_runtime,
                                                                        sessions, monkeypatch):
    import dramatiq

    def refuse(message, delay=None):
        raise ConnectionError("rabbitmq away")

    monkeypatch.setattr(dramatiq.get_broker(), "enqueue", refuse)
    somchai = user_with_devices(client, auth, "tok-a")
    message_id = a_message(client, auth, business, somchai)
    deliver_message.fn(message_id)
    assert queued_pushes(sessions) == [((message_id, [somchai.id]), False)]


def test_delivering_to_an_online_user_enqueues_no_push(client, auth, business, settings, worker_runtime, sessions):
    somchai = user_with_devices(client, auth, "tok-a")
    presence = RedisPresence.from_url(settings.redis_url, settings.redis_namespace)
    presence.refresh_session(somchai.id, "socket-1", "away", time.time() + 60, time.time(), 60)  # away is still live
    deliver_message.fn(a_message(client, auth, business, somchai))
    assert queued_pushes(sessions) == []


def test_unknown_presence_counts_as_offline(client, auth, business, settings, sessions):
    class PresenceDown(RedisPresence):
        def online_among(self, user_ids, now):
            raise ConnectionError("redis away")

    install_ports(worker_ports(settings, sessions, RedisRealtime.from_url(settings.redis_url),
                               PresenceDown.from_url(settings.redis_url, settings.redis_namespace)))
    somchai = user_with_devices(client, auth, "tok-a")
    message_id = a_message(client, auth, business, somchai)
    deliver_message.fn(message_id)
    assert [args for args, _ in queued_pushes(sessions)] == [(message_id, [somchai.id])]


def test_messages_positioned_by_a_later_messages_job_get_their_own_pushes(client, auth, business, worker_runtime,
                                                                           sessions, settings):
    somchai = user_with_devices(client, auth, "tok-a")
    # User ids restart in every test: forget a session an earlier test registered.
    RedisPresence.from_url(settings.redis_url, settings.redis_namespace).drop_sessions(somchai.id, ["socket-1"])
    first = a_message(client, auth, business, somchai, body="one")
    second = a_message(client, auth, business, somchai, body="two")
    deliver_message.fn(second)  # catches up `first` too (acceptance order)
    assert sorted(args for args, _ in queued_pushes(sessions)) == [(first, [somchai.id]), (second, [somchai.id])]
