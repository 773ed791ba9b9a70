"""Chat on the real PostgreSQL: conversations, seq, fan-out, read markers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import Conversation, Delivery, Message, StreamEvent
from usecases.messaging.stream import replay
from tests.support.chat import job_runner


@pytest.fixture
def worker(settings, sessions, publisher):
    """Runs every job the edge published, in order, in this process."""
    return job_runner(settings, sessions, publisher)


def direct(client, auth, me, other):
    return client.post("/v1/conversations", json={"kind": "direct", "with": other.id}, headers=auth.headers(me))


def test_exactly_one_direct_conversation_per_pair_whoever_starts_it(client, auth, sessions):
    a, b = auth.user("mobile"), auth.user("mobile")
    first = direct(client, auth, a, b)
    again = direct(client, auth, b, a)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["id"] == again.json["id"]
    with UnitOfWork(sessions) as uow:
        assert len(uow.session.scalars(select(Conversation)).all()) == 1


def test_messages_get_gap_free_seq_and_reach_both_members_streams(client, auth, sessions, worker):
    a, b = auth.user("mobile"), auth.user("mobile")
    conversation = direct(client, auth, a, b).json["id"]
    sent = [client.post(f"/v1/conversations/{conversation}/messages", json={"body": f"hi {n}"},
                        headers=auth.headers(sender)).json for n, sender in enumerate((a, b, a))]
    assert [s["seq"] for s in sent] == [1, 2, 3]
    worker()
    with UnitOfWork(sessions) as uow:
        for user in (a, b):
            frames = [f for _, f in replay(uow.session, user.id, 0, __import__("datetime").datetime.now(
                __import__("datetime").timezone.utc))]
            assert [f["message"]["seq"] for f in frames] == [1, 2, 3]
        own = uow.session.scalars(select(Delivery).where(Delivery.recipient_id == a.id)).all()
    assert {d.message_id: d.status for d in own}[sent[0]["id"]] == "read"  # own copy needs no receipt


def test_a_resend_with_the_same_client_msg_id_is_a_no_op(client, auth, sessions, publisher):
    a, b = auth.user("mobile"), auth.user("mobile")
    conversation = direct(client, auth, a, b).json["id"]
    body = {"body": "once", "client_msg_id": "c-1"}
    first = client.post(f"/v1/conversations/{conversation}/messages", json=body, headers=auth.headers(a))
    again = client.post(f"/v1/conversations/{conversation}/messages", json=body, headers=auth.headers(a))
    assert first.json == again.json and again.headers["Idempotent-Replayed"] == "true"
    assert len(publisher.jobs) == 1
    with UnitOfWork(sessions) as uow:
        assert len(uow.session.scalars(select(Message)).all()) == 1


def test_read_markers_only_move_forward_and_tell_the_members(client, auth, sessions, worker):
    a, b = auth.user("mobile"), auth.user("mobile")
    conversation = direct(client, auth, a, b).json["id"]
    for n in range(3):
        client.post(f"/v1/conversations/{conversation}/messages", json={"body": f"m{n}"}, headers=auth.headers(a))
    worker()
    assert client.get(f"/v1/conversations/{conversation}", headers=auth.headers(b)).json["unread"] == 3
    read = client.post(f"/v1/conversations/{conversation}/read", json={"up_to_seq": 2}, headers=auth.headers(b))
    assert read.json == {"conversation_id": conversation, "read_seq": 2, "unread": 1}
    back = client.post(f"/v1/conversations/{conversation}/read", json={"up_to_seq": 1}, headers=auth.headers(b))
    assert back.json["read_seq"] == 2
    worker()
    with UnitOfWork(sessions) as uow:
        receipts = uow.session.scalars(select(StreamEvent).where(StreamEvent.user_id == a.id)).all()
    assert [(r.kind, r.payload["status"], r.payload["up_to_seq"]) for r in receipts] == [("receipt", "read", 2)]
    status = client.get(f"/v1/messages/{1}", headers=auth.headers(a)).json
    assert {r["user_id"]: r["status"] for r in status["recipients"]}[b.id] == "read"


def test_non_members_see_nothing(client, auth, sessions):
    a, b, stranger = auth.user("mobile"), auth.user("mobile"), auth.user("mobile")
    conversation = direct(client, auth, a, b).json["id"]
    for method, path, body in (("get", f"/v1/conversations/{conversation}", None),
                               ("post", f"/v1/conversations/{conversation}/messages", {"body": "x"}),
                               ("get", f"/v1/conversations/{conversation}/messages", None),
                               ("post", f"/v1/conversations/{conversation}/read", {"up_to_seq": 1})):
        response = getattr(client, method)(path, json=body, headers=auth.headers(stranger))
        assert response.status_code == 404 and response.json["code"] == "not_found"


def test_history_pages_by_seq(client, auth, sessions):
    a, b = auth.user("mobile"), auth.user("mobile")
    conversation = direct(client, auth, a, b).json["id"]
    for n in range(5):
        client.post(f"/v1/conversations/{conversation}/messages", json={"body": f"m{n}"}, headers=auth.headers(a))
    newest = client.get(f"/v1/conversations/{conversation}/messages?limit=2", headers=auth.headers(b)).json
    assert [m["seq"] for m in newest["items"]] == [4, 5]
    older = client.get(f"/v1/conversations/{conversation}/messages?limit=2&before={newest['before']}",
                       headers=auth.headers(b)).json
    assert [m["seq"] for m in older["items"]] == [2, 3]
    after = client.get(f"/v1/conversations/{conversation}/messages?after=3", headers=auth.headers(b)).json
    assert [m["seq"] for m in after["items"]] == [4, 5]


def test_an_idempotency_key_makes_a_chat_resend_a_no_op_too(client, auth, sessions, publisher):
    a, b = auth.user("mobile"), auth.user("mobile")
    conversation = direct(client, auth, a, b).json["id"]
    headers = {**auth.headers(a), "Idempotency-Key": "send-1"}
    first = client.post(f"/v1/conversations/{conversation}/messages", json={"body": "once"}, headers=headers)
    again = client.post(f"/v1/conversations/{conversation}/messages", json={"body": "once"}, headers=headers)
    assert again.json["id"] == first.json["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert len(publisher.jobs) == 1


def test_a_client_msg_id_older_than_a_day_is_refused_and_takes_no_seq(client, auth, sessions, publisher):
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update
    a, b = auth.user("mobile"), auth.user("mobile")
    conversation = direct(client, auth, a, b).json["id"]
    url, headers = f"/v1/conversations/{conversation}/messages", auth.headers(a)
    first = client.post(url, json={"body": "old", "client_msg_id": "c-old"}, headers=headers)
    with UnitOfWork(sessions) as uow:
        uow.session.execute(update(Message).values(created_at=datetime.now(timezone.utc) - timedelta(days=2)))
        uow.commit()
    again = client.post(url, json={"body": "old", "client_msg_id": "c-old"}, headers=headers)
    assert (first.status_code, again.status_code) == (202, 409)
    fresh = client.post(url, json={"body": "new", "client_msg_id": "c-new"}, headers=headers)
    assert fresh.json["seq"] == 2  # the refused resend gave its seq back
