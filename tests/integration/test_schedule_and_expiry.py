"""Scheduled sends, expiry and Idempotency-Key lifetimes on PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from usecases.messaging import deliveries as deliveries_module
from usecases.messaging import idempotency
from usecases.messaging.deliveries import expire_overdue
from usecases.operations.dead_letter_admin import AdminAction, requeue_letter
from usecases.outbox import claim_unpublished
from usecases.messaging.stream import replay
from db.engine import UnitOfWork
from db.models import DeadLetter, Delivery, IdempotencyKey, Message, Outbox
from realtime import InProcessRealtime
from workers.broker import install_ports, worker_ports
from workers.delivery import deliver_message


@pytest.fixture
def deliver(settings, sessions):
    install_ports(worker_ports(settings, sessions, InProcessRealtime()))
    return deliver_message.fn


@pytest.fixture
def business(auth):
    return auth.user("business", username="acme")


def post(client, auth, sender, headers=None, **body):
    return client.post("/v1/messages", json=body, headers={**auth.headers(sender), **(headers or {})})


def one(sessions, model):
    with UnitOfWork(sessions) as uow:
        return uow.session.scalars(select(model)).one()


def shift_message(sessions, message_id, **times):
    with UnitOfWork(sessions) as uow:
        uow.session.execute(update(Message).where(Message.id == message_id).values(**times))
        uow.commit()


def test_a_scheduled_message_is_not_published_until_it_is_due(client, auth, business, sessions, publisher):
    somchai = auth.user("mobile")
    send_at = datetime.now(timezone.utc) + timedelta(minutes=10)
    response = post(client, auth, business, to=[somchai.id], body="later", send_at=send_at.isoformat())
    assert response.status_code == 202 and publisher.jobs == []
    assert one(sessions, Outbox).available_at == send_at
    with UnitOfWork(sessions) as uow:
        assert claim_unpublished(uow.session, now=send_at - timedelta(seconds=1)) == []
        (job,) = claim_unpublished(uow.session, now=send_at)
    assert job.args == (response.json["id"],)


def test_a_scheduled_message_is_never_positioned_early_even_by_a_later_messages_job(
        client, auth, business, sessions, deliver):
    somchai = auth.user("mobile")
    later = datetime.now(timezone.utc) + timedelta(minutes=10)
    scheduled = post(client, auth, business, to=[somchai.id], body="later", send_at=later.isoformat()).json["id"]
    now_id = post(client, auth, business, to=[somchai.id], body="now").json["id"]
    deliver(now_id)
    with UnitOfWork(sessions) as uow:
        positions = dict(uow.session.execute(select(Delivery.message_id, Delivery.position)).all())
    assert positions == {scheduled: None, now_id: 1}


def test_an_expired_message_is_never_delivered(client, auth, business, sessions, deliver):
    somchai = auth.user("mobile")
    message_id = post(client, auth, business, to=[somchai.id], body="flash sale", ttl_seconds=60).json["id"]
    shift_message(sessions, message_id, expires_at=datetime.now(timezone.utc) - timedelta(seconds=1))
    deliver(message_id)
    delivery = one(sessions, Delivery)
    assert (delivery.status, delivery.position) == ("expired", None)


def test_a_message_that_expires_in_the_stream_is_expired_and_left_out_of_replay(
        client, auth, business, sessions, deliver):
    somchai = auth.user("mobile")
    message_id = post(client, auth, business, to=[somchai.id], body="soon gone", ttl_seconds=60).json["id"]
    deliver(message_id)
    now = datetime.now(timezone.utc)
    with UnitOfWork(sessions) as uow:
        assert [p for p, _ in replay(uow.session, somchai.id, 0, now)] == [1]
    shift_message(sessions, message_id, expires_at=now - timedelta(seconds=1))
    with UnitOfWork(sessions) as uow:
        assert replay(uow.session, somchai.id, 0, now) == []
        assert expire_overdue(uow.session, now) == 1
        uow.commit()
    assert one(sessions, Delivery).status == "expired"
    status = client.get(f"/v1/messages/{message_id}", headers=auth.headers(business)).json
    assert status["recipients"][0]["status"] == "expired" and status["expires_at"]


def test_a_delivered_message_does_not_expire(client, auth, business, sessions, deliver):
    somchai = auth.user("mobile")
    message_id = post(client, auth, business, to=[somchai.id], body="kept", ttl_seconds=60).json["id"]
    deliver(message_id)
    now = datetime.now(timezone.utc)
    with UnitOfWork(sessions) as uow:
        uow.session.execute(update(Delivery).values(status="delivered"))
        uow.commit()
    shift_message(sessions, message_id, expires_at=now - timedelta(seconds=1))
    with UnitOfWork(sessions) as uow:
        assert expire_overdue(uow.session, now) == 0


def test_a_message_that_cannot_be_evaluated_is_a_dead_letter_of_its_own_and_holds_back_no_other(
        client, auth, business, sessions, deliver, monkeypatch):
    somchai = auth.user("mobile")
    bad = post(client, auth, business, to=[somchai.id], body="poison").json["id"]
    good = [post(client, auth, business, to=[somchai.id], body=f"fine {n}").json["id"] for n in range(2)]
    real_payload = deliveries_module.message_payload

    def payload(message, sender):
        if message.id == bad:
            raise RuntimeError("cannot evaluate this one")
        return real_payload(message, sender)

    monkeypatch.setattr(deliveries_module, "message_payload", payload)
    deliver(good[-1])  # the last job catches up the earlier messages, the bad one included
    deliver(bad)  # the bad message's own job finds nothing left to do
    with UnitOfWork(sessions) as uow:
        rows = {d.message_id: d for d in uow.session.scalars(select(Delivery))}
        (letter,) = uow.session.scalars(select(DeadLetter)).all()
    assert [(rows[m].status, rows[m].position) for m in good] == [("sent", 1), ("sent", 2)]
    assert (rows[bad].status, rows[bad].position) == ("failed", None)
    assert rows[bad].last_error.startswith(f"dead letter {letter.job_id}: RuntimeError")
    assert (letter.message_id, letter.reason, letter.state) == (bad, "RuntimeError", "dead")
    assert "cannot evaluate this one" in letter.last_error
    outbox = [o for o in rows_of(sessions, Outbox) if o.message_id == bad][0]
    assert (letter.queue_name, letter.actor_name, letter.job_args) == (outbox.queue_name, outbox.actor_name, [bad])

    monkeypatch.setattr(deliveries_module, "message_payload", real_payload)  # the bug is fixed
    with UnitOfWork(sessions) as uow:
        requeue_letter(uow.session, letter.id, AdminAction(None, "test", datetime.now(timezone.utc)))
        uow.commit()
    deliver(bad)
    with UnitOfWork(sessions) as uow:
        redelivered = uow.session.scalars(select(Delivery).where(Delivery.message_id == bad)).one()
    assert (redelivered.status, redelivered.position) == ("sent", 3)


def rows_of(sessions, model):
    with UnitOfWork(sessions) as uow:
        return uow.session.scalars(select(model)).all()


@pytest.mark.parametrize("body, code", [
    ({"send_at": "2026-12-01T09:00:00"}, "validation_failed"),  # no timezone
    ({"send_at": "2099-01-01T00:00:00Z"}, "validation_failed"),  # past the 30-day horizon
    ({"ttl_seconds": 0}, "validation_failed"),
    ({"ttl_seconds": "60"}, "validation_failed"),
])
def test_impossible_schedules_are_refused(client, auth, business, sessions, body, code):
    response = post(client, auth, business, to=["+66812345678"], body="x", **body)
    assert response.status_code == 422 and response.json["code"] == code
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalars(select(Message)).all() == []


def test_a_request_whose_key_is_still_in_flight_gets_409_with_retry_after(client, auth, business, sessions):
    somchai = auth.user("mobile")
    body = {"to": [somchai.id], "body": "pay"}
    with UnitOfWork(sessions) as first:  # a concurrent request holding the key, not yet committed
        idempotency.claim(first.session, caller_id=business.id, key="k-1", now=datetime.now(timezone.utc),
                          fingerprint="whatever")
        response = post(client, auth, business, headers={"Idempotency-Key": "k-1"}, **body)
    assert response.status_code == 409 and response.json["code"] == "idempotency_key_in_flight"
    assert response.headers["Retry-After"] == "1"
    retried = post(client, auth, business, headers={"Idempotency-Key": "k-1"}, **body)
    assert retried.status_code == 202  # the first rolled back: the key is free again


def test_keys_are_forgotten_after_24_hours(client, auth, business, sessions):
    somchai = auth.user("mobile")
    key = {"Idempotency-Key": "daily"}
    first = post(client, auth, business, headers=key, to=[somchai.id], body="day one").json["id"]
    with UnitOfWork(sessions) as uow:
        uow.session.execute(update(IdempotencyKey).values(
            created_at=datetime.now(timezone.utc) - timedelta(hours=25)))
        uow.commit()
    second = post(client, auth, business, headers=key, to=[somchai.id], body="day two")
    assert second.status_code == 202 and second.json["id"] != first
    with UnitOfWork(sessions) as uow:
        assert idempotency.forget_older_than(uow.session, datetime.now(timezone.utc) + timedelta(seconds=1)) == 1
