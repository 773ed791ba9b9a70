"""The one-way send path on the real PostgreSQL and Redis: accept, deliver,
acknowledge — with the delivery actor run in this process."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest
import redis
from sqlalchemy import func, select

from usecases.messaging.deliveries import mark_delivered, mark_read
from db.engine import UnitOfWork
from db.models import Delivery, IdempotencyKey, Message, Outbox, User
from pipeline.channels import user_channel
from pipeline.rings import unpack
from realtime import RedisRealtime
from workers.broker import install_ports, worker_ports
from workers.delivery import deliver_message


@pytest.fixture
def deliver(settings, sessions):
    """Run the delivery actor's function here, on the test database and Redis."""
    install_ports(worker_ports(settings, sessions, RedisRealtime.from_url(settings.redis_url, settings.redis_namespace)))
    return deliver_message.fn


@pytest.fixture
def business(auth):
    return auth.user("business", username="acme", name="Acme")


def send(client, auth, sender, **body):
    headers = {**auth.headers(sender), **body.pop("headers", {})}
    return client.post("/v1/messages", json=body, headers=headers)


def rows(sessions, model):
    with UnitOfWork(sessions) as uow:
        return uow.session.scalars(select(model).order_by(model.id)).all()


def test_a_business_message_is_committed_with_its_deliveries_and_outbox_before_the_202(
        client, auth, business, sessions, publisher):
    somchai = auth.user("mobile")
    response = send(client, auth, business, to=[somchai.id, "+66 81 234 9999"], body="Your booking is confirmed")
    assert response.status_code == 202
    assert response.json["status"] == "accepted"
    assert response.headers["Location"] == f"/v1/messages/{response.json['id']}"
    deliveries = rows(sessions, Delivery)
    assert [(d.message_id, d.status, d.position) for d in deliveries] == [
        (response.json["id"], "accepted", None)] * 2
    newcomer = [u for u in rows(sessions, User) if u.phone == "+66812349999"][0]
    assert newcomer.activated_at is None  # a placeholder until its owner logs in
    (outbox,) = rows(sessions, Outbox)
    assert publisher.jobs[0].outbox_id == outbox.id
    assert publisher.jobs[0].args == (response.json["id"],)
    assert outbox.queue_name.startswith("delivery.normal.p")


def test_delivery_positions_each_recipient_and_rings_their_sessions(client, auth, business, sessions,
                                                                     deliver, redis_url, settings):
    somchai = auth.user("mobile")
    listener = redis.Redis.from_url(redis_url).pubsub()
    listener.subscribe(user_channel(somchai.id, settings.redis_namespace))
    listener.get_message(timeout=1)
    message_id = send(client, auth, business, to=[somchai.id], body="hello").json["id"]
    deliver(message_id)
    (delivery,) = rows(sessions, Delivery)
    assert (delivery.status, delivery.position) == ("sent", 1)
    ring = unpack(somchai.id, _next_message(listener))
    assert (ring.position, ring.conversation_id) == (1, None)  # beside the frame: the edge never decodes it
    assert json.loads(ring.text) == {"type": "message", "position": 1, "message": {
        "id": message_id, "kind": "oneway", "conversation_id": None, "seq": None, "body": "hello",
        "priority": "normal", "sender": {"id": business.id, "name": "Acme", "role": "business"},
        "created_at": delivery.accepted_at.isoformat(), "edited_at": None, "deleted": False,
        "reply_allowed": False, "reactions": []}}


def _next_message(pubsub, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message and message["type"] == "message":
            return message["data"].decode()
    raise AssertionError("no ring arrived")


def test_a_redelivered_job_changes_nothing(client, auth, business, sessions, deliver):
    somchai = auth.user("mobile")
    message_id = send(client, auth, business, to=[somchai.id], body="once").json["id"]
    deliver(message_id)
    before = [(d.position, d.status, d.sent_at) for d in rows(sessions, Delivery)]
    deliver(message_id)
    deliver(message_id)
    assert [(d.position, d.status, d.sent_at) for d in rows(sessions, Delivery)] == before


def test_positions_follow_acceptance_order_whatever_order_the_jobs_run_in(client, auth, business,
                                                                          sessions, deliver):
    somchai = auth.user("mobile")
    ids = [send(client, auth, business, to=[somchai.id], body=f"m{n}").json["id"] for n in range(4)]
    for message_id in (ids[2], ids[3], ids[0], ids[1]):
        deliver(message_id)
    by_message = {d.message_id: d.position for d in rows(sessions, Delivery)}
    assert [by_message[i] for i in ids] == [1, 2, 3, 4]


def test_acks_and_reads_only_move_status_forward(client, auth, business, sessions, deliver):
    somchai = auth.user("mobile")
    ids = [send(client, auth, business, to=[somchai.id], body=f"m{n}").json["id"] for n in range(3)]
    for message_id in ids:
        deliver(message_id)
    now = datetime.now(timezone.utc)
    with UnitOfWork(sessions) as uow:
        assert mark_read(uow.session, somchai.id, 1, now) == 1
        assert len(mark_delivered(uow.session, somchai.id, 2, now)) == 1  # position 1 is already read
        assert mark_delivered(uow.session, somchai.id, 2, now) == []
        uow.commit()
    assert [d.status for d in rows(sessions, Delivery)] == ["read", "delivered", "sent"]
    response = client.get(f"/v1/messages/{ids[0]}", headers=auth.headers(business))
    (recipient,) = response.json["recipients"]
    assert recipient["status"] == "read" and recipient["delivered_at"] and recipient["read_at"]


def test_a_replayed_idempotency_key_returns_the_first_answer_and_creates_nothing(client, auth, business,
                                                                                 sessions, publisher):
    somchai = auth.user("mobile")
    key = {"Idempotency-Key": "booking-42"}
    first = send(client, auth, business, to=[somchai.id], body="hi", headers=key)
    again = send(client, auth, business, body="hi", to=[somchai.id], headers=key)
    assert again.status_code == 202 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(rows(sessions, Message)) == 1 and len(publisher.jobs) == 1
    other = send(client, auth, business, to=[somchai.id], body="changed", headers=key)
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"
    assert len(rows(sessions, Message)) == 1


def test_idempotency_keys_are_scoped_per_caller(client, auth, business, sessions):
    other = auth.user("business", username="globex")
    somchai = auth.user("mobile")
    key = {"Idempotency-Key": "same"}
    assert send(client, auth, business, to=[somchai.id], body="a", headers=key).status_code == 202
    assert send(client, auth, other, to=[somchai.id], body="b", headers=key).status_code == 202
    assert len(rows(sessions, Message)) == 2 and len(rows(sessions, IdempotencyKey)) == 2


@pytest.mark.parametrize("body, status, code", [
    ({"to": [], "body": "x"}, 422, "validation_failed"),
    ({"to": ["+66812345678"], "body": ""}, 422, "validation_failed"),
    ({"to": ["+66812345678"], "body": "x" * 10_001}, 422, "validation_failed"),
    ({"to": [f"+6681200{n:04d}" for n in range(101)], "body": "x"}, 422, "validation_failed"),
    ({"to": ["0812345678"], "body": "x"}, 422, "invalid_phone_number"),
    ({"to": ["+1234"], "body": "x"}, 422, "invalid_phone_number"),
    ({"to": [999999], "body": "x"}, 422, "recipient_not_found"),
    ({"to": ["+66812345678"], "body": "x", "priority": 1}, 422, "validation_failed"),
    ({"to": ["+66812345678"], "body": "x", "priority": "urgent"}, 422, "validation_failed"),
    ({"to": ["+66812345678"], "body": "x", "extra": True}, 422, "validation_failed"),
    ({"to": "+66812345678", "body": "x"}, 422, "validation_failed"),
])
def test_bad_input_gets_a_problem_and_changes_nothing(client, auth, business, sessions, body, status, code):
    response = send(client, auth, business, **body)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == code and response.json["status"] == status
    assert rows(sessions, Message) == [] and rows(sessions, Outbox) == []
    assert [u.phone for u in rows(sessions, User)] == [None]  # only the business itself


def test_a_business_message_to_a_business_account_id_is_refused(client, auth, business, sessions):
    other = auth.user("business", username="globex")
    response = send(client, auth, business, to=[other.id], body="x")
    assert response.json["code"] == "recipient_not_found"


def test_non_json_bodies_are_refused(client, auth, business):
    response = client.post("/v1/messages", data="to=me", headers=auth.headers(business),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and response.json["code"] == "unsupported_media_type"
    response = client.post("/v1/messages", data="{nope", headers=auth.headers(business),
                           content_type="application/json")
    assert response.status_code == 400 and response.json["code"] == "bad_request"


def test_oversized_requests_are_refused_with_413(client, auth, business):
    response = client.post("/v1/messages", data="x" * (2 * 1024 * 1024), headers=auth.headers(business),
                           content_type="application/json")
    assert response.status_code == 413 and response.json["code"] == "payload_too_large"


def test_only_the_sender_or_an_admin_sees_a_message_status(client, auth, business):
    somchai = auth.user("mobile")
    message_id = send(client, auth, business, to=[somchai.id], body="private").json["id"]
    admin = auth.user("admin", username="root")
    stranger = auth.user("business", username="globex")
    assert client.get(f"/v1/messages/{message_id}", headers=auth.headers(business)).status_code == 200
    assert client.get(f"/v1/messages/{message_id}", headers=auth.headers(admin)).status_code == 200
    for who in (stranger, somchai):
        response = client.get(f"/v1/messages/{message_id}", headers=auth.headers(who))
        assert response.status_code == 404 and response.json["code"] == "not_found"


def test_recipients_cannot_reply_to_a_one_way_message(client, auth, business, sessions):
    somchai = auth.user("mobile")
    stranger = auth.user("mobile")
    message_id = send(client, auth, business, to=[somchai.id], body="read only").json["id"]
    response = client.post(f"/v1/messages/{message_id}/replies", json={"body": "thanks!"},
                           headers=auth.headers(somchai))
    assert response.status_code == 403 and response.json["code"] == "reply_not_allowed"
    response = client.post(f"/v1/messages/{message_id}/replies", json={"body": "hi"},
                           headers=auth.headers(stranger))
    assert response.status_code == 404
    assert len(rows(sessions, Message)) == 1


def test_only_businesses_send_one_way_messages(client, auth):
    somchai = auth.user("mobile")
    response = send(client, auth, somchai, to=[somchai.id], body="x")
    assert response.status_code == 403 and response.json["code"] == "forbidden"


def test_unknown_routes_and_methods_answer_with_problems(client):
    assert client.get("/v1/nothing").json["code"] == "not_found"
    assert client.delete("/healthz").json["code"] == "method_not_allowed"


def test_the_same_number_written_twice_is_one_recipient(client, auth, business, sessions):
    response = send(client, auth, business, to=["+66812349999", "+66 81 234 9999"], body="x")
    assert response.status_code == 202
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Delivery)) == 1


def test_a_token_outliving_its_account_sends_nothing(client, auth, sessions):
    from sqlalchemy import delete

    from db.models import Stream
    gone = auth.user("business", username="gone", name="Gone")
    headers = auth.headers(gone)
    somchai = auth.user("mobile")
    with UnitOfWork(sessions) as uow:
        uow.session.execute(delete(Stream).where(Stream.user_id == gone.id))
        uow.session.execute(delete(User).where(User.id == gone.id))
        uow.commit()
    answer = client.post("/v1/messages", json={"to": [somchai.id, "+66 81 234 7777"], "body": "hi"},
                         headers=headers)
    assert answer.status_code == 404
    assert rows(sessions, Message) == [] and rows(sessions, Outbox) == []
    assert [u.id for u in rows(sessions, User)] == [somchai.id]  # the new number's account rolled back too
