"""The work one accepted message costs the edge, counted (not timed):
SQL statements and commits per one-way send, chat send and ack burst."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.integration.chat_support import group
from tests.support.statement_counts import counting_statements


@pytest.fixture
def business(auth):
    return auth.user("business", username="acme", name="Acme")


def test_a_one_way_send_to_one_user(client, auth, business, engine):
    somchai = auth.user("mobile")
    headers = auth.headers(business)
    client.post("/v1/messages", json={"to": [somchai.id], "body": "warm"}, headers=headers)
    with counting_statements() as counter:
        answer = client.post("/v1/messages", json={"to": [somchai.id], "body": "hi"}, headers=headers)
    assert answer.status_code == 202
    counter.show("one-way, 1 id")
    # sender and recipients; message; deliveries; outbox (was 5: the sender and each recipient by Session.get)
    assert (counter.count, counter.commits) == (4, 1)


def test_a_one_way_send_with_a_key_to_ids_and_phones(client, auth, business, engine):
    users = [auth.user("mobile") for _ in range(3)]
    headers = auth.headers(business)
    targets = [u.id for u in users] + ["+66 81 234 9998", "+66 81 234 9999"]
    with counting_statements() as counter:
        answer = client.post("/v1/messages", json={"to": targets, "body": "hi"},
                             headers={**headers, "Idempotency-Key": "k-1"})
    assert answer.status_code == 202
    counter.show("one-way, 3 ids + 2 phones, with a key")
    # key (lock timeout, claim, timeout reset); numbers' accounts, their streams; sender and recipients;
    # message; deliveries; outbox; the key's answer (was 19: one lookup or upsert per target)
    assert (counter.count, counter.commits) == (10, 1)


def test_a_chat_send_to_a_group(client, auth, engine):
    owner, *members = [auth.user("mobile") for _ in range(10)]
    conversation = group(client, auth, owner, *members)
    headers = auth.headers(owner)
    with counting_statements() as counter:
        answer = client.post(f"/v1/conversations/{conversation}/messages",
                             json={"body": "hi", "client_msg_id": "c-1"}, headers=headers)
    assert answer.status_code == 202
    counter.show("chat, 10-member group, client_msg_id")
    # may send (membership, state, blocks); seq and message; outbox (was 8)
    assert (counter.count, counter.commits) == (3, 1)


def test_an_ack_burst(client, auth, business, sessions, settings):
    from usecases.messaging.acks import record_acks
    somchai = auth.user("mobile")
    headers = auth.headers(business)
    ids = [client.post("/v1/messages", json={"to": [somchai.id], "body": f"m{n}"}, headers=headers).json["id"]
           for n in range(3)]
    _deliver(settings, sessions, ids[-1])
    ports = client.application.extensions["herald"].ports
    with counting_statements() as counter:
        record_acks(ports, somchai.id, 3, 0, datetime.now(timezone.utc))
    counter.show("ack burst, 3 one-way frames")
    assert (counter.count, counter.commits) == (1, 1)  # stream, deliveries and their chats: one statement (was 3)
    with counting_statements() as counter:
        record_acks(ports, somchai.id, 3, 3, datetime.now(timezone.utc))
    counter.show("read burst, 3 one-way frames")
    assert (counter.count, counter.commits) == (2, 1)


def _deliver(settings, sessions, message_id):
    from realtime import RedisRealtime
    from workers.broker import install_ports, worker_ports
    from workers.delivery import deliver_message
    install_ports(worker_ports(settings, sessions, RedisRealtime.from_url(settings.redis_url,
                                                                          settings.redis_namespace)))
    deliver_message.fn(message_id)
