"""What a business sent (docs/decisions.md D78): GET /v1/messages newest
first with counts per status, filtered and paged; GET /v1/messages/{id}
with the same counts and its first 100 recipients; the rest through
GET /v1/messages/{id}/recipients."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from sqlalchemy import text, update

from config import load_settings
from db.engine import UnitOfWork
from db.models import Delivery, Message
from tests.support.statement_counts import counting_statements
from web import create_app


@pytest.fixture
def shop(auth):
    return auth.user("business", username="shop")


def send(client, headers, to, body="hi") -> int:
    answer = client.post("/v1/messages", json={"to": to, "body": body}, headers=headers)
    assert answer.status_code == 202, answer.json
    return answer.json["id"]


def set_status(sessions, message_id, recipient_id, state, **times):
    with UnitOfWork(sessions) as uow:
        uow.session.execute(update(Delivery).where(Delivery.message_id == message_id,
                                                   Delivery.recipient_id == recipient_id)
                            .values(status=state, **times))
        uow.commit()


def mark_queued(sessions, message_id):
    with UnitOfWork(sessions) as uow:
        uow.session.execute(update(Message).where(Message.id == message_id)
                            .values(queued_at=datetime.now(timezone.utc)))
        uow.commit()


def test_the_list_is_newest_first_with_counts_per_status(client, auth, shop, sessions):
    amy, ben, cat = (auth.user("mobile") for _ in range(3))
    headers = auth.headers(shop)
    first = send(client, headers, [amy.id, ben.id, cat.id], "first")
    second = send(client, headers, [amy.id], "second")
    mark_queued(sessions, first)
    set_status(sessions, first, amy.id, "delivered")
    set_status(sessions, first, ben.id, "read")
    page = client.get("/v1/messages", headers=headers).json
    assert [m["id"] for m in page["items"]] == [second, first] and page["next_cursor"] is None
    listed = page["items"][1]
    assert listed["counts"] == {"accepted": 0, "queued": 1, "sent": 0, "delivered": 1, "read": 1,
                                "failed": 0, "expired": 0}
    assert listed["recipient_count"] == 3 and listed["body"] == "first"
    assert page["items"][0]["counts"]["accepted"] == 1
    assert client.get(f"/v1/messages/{first}", headers=headers).json["counts"] == listed["counts"]


def test_filters_by_status_recipient_and_time(client, auth, shop, sessions):
    amy, ben = auth.user("mobile"), auth.user("mobile")
    headers = auth.headers(shop)
    to_amy = send(client, headers, [amy.id])
    to_ben = send(client, headers, [ben.id])
    to_both = send(client, headers, [amy.id, ben.id])
    set_status(sessions, to_both, ben.id, "failed")
    mark_queued(sessions, to_ben)

    def ids(query: str) -> list[int]:
        answer = client.get(f"/v1/messages?{query}", headers=headers)
        assert answer.status_code == 200, answer.json
        return [m["id"] for m in answer.json["items"]]

    assert ids("status=failed") == [to_both]
    assert ids("status=queued") == [to_ben]
    assert ids("status=accepted") == [to_both, to_amy]
    assert ids(f"recipient={amy.id}") == [to_both, to_amy]
    assert ids(f"recipient={quote(ben.phone)}") == [to_both, to_ben]
    assert ids(f"recipient={ben.phone}") == [to_both, to_ben]  # an unescaped "+" arrives as a space
    assert ids(f"recipient={amy.id}&status=failed") == []
    with UnitOfWork(sessions) as uow:
        uow.session.execute(update(Message).where(Message.id == to_amy)
                            .values(created_at=datetime.now(timezone.utc) - timedelta(days=2)))
        uow.commit()
    yesterday = quote((datetime.now(timezone.utc) - timedelta(days=1)).isoformat())
    assert ids(f"created_before={yesterday}") == [to_amy]
    assert ids(f"created_after={yesterday}") == [to_both, to_ben]


def test_pages_follow_the_cursor_without_gaps_or_repeats(client, auth, shop):
    amy = auth.user("mobile")
    headers = auth.headers(shop)
    sent = [send(client, headers, [amy.id], f"m{n}") for n in range(7)]
    seen, cursor = [], None
    while True:
        page = client.get("/v1/messages?limit=3" + (f"&cursor={cursor}" if cursor else ""), headers=headers).json
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sent[::-1]


def test_only_one_way_messages_of_the_caller_are_listed(client, auth, shop):
    from tests.support.chat import direct, say
    amy = auth.user("mobile")
    rival = auth.user("business")
    mine = send(client, auth.headers(shop), [amy.id])
    send(client, auth.headers(rival), [amy.id])
    say(client, auth, shop, direct(client, auth, shop, amy))  # a chat message: not a one-way send
    assert [m["id"] for m in client.get("/v1/messages", headers=auth.headers(shop)).json["items"]] == [mine]


@pytest.mark.parametrize("query, code", [
    ("status=lost", "validation_failed"), ("created_after=yesterday", "validation_failed"),
    ("created_after=2026-01-01T00:00:00", "validation_failed"),  # no offset: which moment is it?
    ("cursor=nonsense", "bad_request"), ("limit=0", "bad_request"), ("limit=101", "bad_request"),
    ("recipient=%2B1", "invalid_phone_number"),
])
def test_bad_queries_are_refused(client, auth, shop, query, code):
    answer = client.get(f"/v1/messages?{query}", headers=auth.headers(shop))
    assert (answer.status_code // 100, answer.json["code"]) == (4, code), answer.json


def test_a_page_costs_two_statements_whatever_its_size(client, auth, shop):
    users = [auth.user("mobile") for _ in range(5)]
    headers = auth.headers(shop)
    for n in range(20):
        send(client, headers, [u.id for u in users], f"m{n}")
    with counting_statements() as counter:
        assert len(client.get("/v1/messages?limit=20&status=accepted", headers=headers).json["items"]) == 20
    counter.show("a page of 20 sent messages")
    assert counter.count == 2  # the page; its counts


def test_the_list_query_is_served_by_the_sender_index(engine, client, auth, shop):
    amy = auth.user("mobile")
    send(client, auth.headers(shop), [amy.id])
    with engine.connect() as connection:
        connection.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(row[0] for row in connection.execute(text(
            "EXPLAIN SELECT * FROM messages WHERE sender_id = :s AND kind = 'oneway' "
            "ORDER BY id DESC LIMIT 51"), {"s": shop.id}))
    assert "ix_message_sender_newest" in plan, plan


@pytest.fixture
def big_client(env, sessions, publisher):
    settings = load_settings({**env, "MAX_RECIPIENTS": "250"})
    return create_app(settings, publisher=publisher, test_config={"TESTING": True}).test_client()


def test_recipients_past_the_first_hundred_are_paged(big_client, auth, shop):
    headers = auth.headers(shop)
    numbers = [f"+6689{n:07d}" for n in range(130)]
    message = send(big_client, headers, numbers)
    shown = big_client.get(f"/v1/messages/{message}", headers=headers).json
    assert len(shown["recipients"]) == 100 and shown["counts"]["accepted"] == 130
    assert [r["phone"] for r in shown["recipients"]] == numbers[:100]
    rest = big_client.get(f"/v1/messages/{message}/recipients?cursor={shown['recipients_next_cursor']}",
                          headers=headers).json
    assert [r["phone"] for r in rest["items"]] == numbers[100:] and rest["next_cursor"] is None
    first = big_client.get(f"/v1/messages/{message}/recipients?limit=60", headers=headers).json
    assert [r["phone"] for r in first["items"]] == numbers[:60] and first["next_cursor"]
    small = send(big_client, headers, numbers[:3])
    assert big_client.get(f"/v1/messages/{small}", headers=headers).json["recipients_next_cursor"] is None


def test_an_admin_reads_any_message_recipients_and_nobody_else_does(client, auth, shop):
    amy = auth.user("mobile")
    message = send(client, auth.headers(shop), [amy.id])
    admin = auth.user("admin", username="root")
    assert client.get(f"/v1/messages/{message}/recipients", headers=auth.headers(admin)).status_code == 200
    rival = client.get(f"/v1/messages/{message}/recipients", headers=auth.headers(auth.user("business")))
    assert (rival.status_code, rival.json["code"]) == (404, "not_found")
    mobile = client.get(f"/v1/messages/{message}/recipients", headers=auth.headers(amy))
    assert (mobile.status_code, mobile.json["code"]) == (403, "forbidden")
    assert client.get("/v1/messages", headers=auth.headers(amy)).status_code == 403
