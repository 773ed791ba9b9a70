"""The work one delivered message costs the workers, counted (not timed):
SQL statements, commits and jobs per one-way and per chat message.

Counts do not suffer from a busy machine, so they can be asserted: the
bounds below fail when someone brings back a statement per recipient.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import Outbox
from realtime import InProcessPresence, InProcessRealtime
from tests.support.chat import group
from tests.support.statement_counts import counting_statements
from workers.broker import install_ports, install_push_sender, worker_ports
from workers.delivery import deliver_message
from workers.fan_out import fan_out_event
from workers.push import send_push
from workers.push_sender import LoggingSender


@pytest.fixture
def presence():
    return InProcessPresence()


@pytest.fixture
def runtime(settings, sessions, presence):
    install_ports(worker_ports(settings, sessions, InProcessRealtime(), presence))
    install_push_sender(LoggingSender())
    yield
    install_push_sender(None)


def go_online(presence, user):
    presence.refresh_session(user.id, "socket-1", "online", time.time() + 60, time.time(), 60)


def register_device(client, auth, user, token):
    answer = client.post("/v1/devices", json={"platform": "android", "token": token}, headers=auth.headers(user))
    assert answer.status_code == 201


def push_jobs(sessions, message_id):
    with UnitOfWork(sessions) as uow:
        return [tuple(args) for args in uow.session.scalars(
            select(Outbox.args).where(Outbox.actor_name == "send_push", Outbox.message_id == message_id)
            .order_by(Outbox.id))]


def run_jobs(jobs) -> None:
    for args in jobs:
        send_push.fn(*args)


def test_a_one_way_message_to_one_offline_recipient_with_a_device(client, auth, sessions, runtime):
    business, somchai = auth.user("business", username="acme"), auth.user("mobile")
    register_device(client, auth, somchai, "tok-1")
    headers = auth.headers(business)
    warm = client.post("/v1/messages", json={"to": [somchai.id], "body": "warm"}, headers=headers).json["id"]
    deliver_message.fn(warm)
    message_id = client.post("/v1/messages", json={"to": [somchai.id], "body": "hi"}, headers=headers).json["id"]
    with counting_statements() as delivering:
        deliver_message.fn(message_id)
    jobs = push_jobs(sessions, message_id)
    with counting_statements() as pushing:
        run_jobs(jobs)
    delivering.show("one-way, 1 offline recipient: deliver_message (and the marker's commit)")
    pushing.show(f"one-way, 1 offline recipient: {len(jobs)} send_push job(s)")
    assert len(jobs) == 1
    # message, stream locks, pending (with devices), positions, stream ends, outbox; the marker's one
    assert (delivering.count, delivering.commits) == (7, 2)
    # content, push rows, open pushes; then per device: lock with its device, outcome
    assert (pushing.count, pushing.commits) == (5, 2)


def test_a_one_way_message_to_an_offline_recipient_without_a_device_starts_no_push(client, auth, sessions, runtime):
    business, somchai = auth.user("business", username="acme"), auth.user("mobile")
    headers = auth.headers(business)
    message_id = client.post("/v1/messages", json={"to": [somchai.id], "body": "hi"}, headers=headers).json["id"]
    with counting_statements() as delivering:
        deliver_message.fn(message_id)
    delivering.show("one-way, 1 offline recipient without a device: deliver_message")
    assert push_jobs(sessions, message_id) == []
    # message, stream locks, pending (with devices), positions, stream ends
    assert (delivering.count, delivering.commits) == (5, 1)


def chat_message_costs(client, auth, sessions, presence, members: int, with_devices: int):
    """The sender, one online member, the others offline (`with_devices` of them with a device)."""
    sender, online, *offline = [auth.user("mobile") for _ in range(members)]
    go_online(presence, online)
    for n, member in enumerate(offline[:with_devices]):
        register_device(client, auth, member, f"tok-{members}-{n}")
    conversation = group(client, auth, sender, [online, *offline])
    for body in ("warm", "hi"):
        message_id = client.post(f"/v1/conversations/{conversation}/messages", json={"body": body},
                                 headers=auth.headers(sender)).json["id"]
        with counting_statements() as delivering:
            deliver_message.fn(message_id)
        jobs = push_jobs(sessions, message_id)
        with counting_statements() as pushing:
            run_jobs(jobs)
    delivering.show(f"chat, {members} members (1 online; {with_devices} offline with devices): deliver_message")
    pushing.show(f"chat, {members} members: {len(jobs)} send_push job(s)")
    return delivering, pushing, jobs


def test_a_chat_message_costs_the_same_statements_whatever_the_number_of_members(
        client, auth, sessions, runtime, presence):
    small = chat_message_costs(client, auth, sessions, presence, 3, 1)
    large = chat_message_costs(client, auth, sessions, presence, 10, 3)
    (small_delivering, small_pushing, small_jobs), (delivering, pushing, jobs) = small, large
    # message, members' stream locks, catch-up rows, pending (with devices), positions, stream ends,
    # outbox; the marker's one
    assert (delivering.count, delivering.commits) == (small_delivering.count, small_delivering.commits) == (8, 2)
    assert len(jobs) == len(small_jobs) == 1 and len(jobs[0][1]) == 3
    # content, push rows, open pushes; then two statements and a commit per device
    assert (pushing.count, pushing.commits) == (3 + 2 * 3, 1 + 3)


def test_an_event_fans_out_in_the_same_statements_whatever_the_audience(client, auth, sessions, runtime):
    counts = []
    for members in (3, 10):
        sender, *others = [auth.user("mobile") for _ in range(members)]
        conversation = group(client, auth, sender, others)
        with counting_statements() as fanning:
            fan_out_event.fn(f"test-{members}", "member_joined",
                             {"conversation_id": conversation, "user_id": sender.id},
                             [sender.id, *(o.id for o in others)])
        fanning.show(f"fan-out of an event to {members} members")
        counts.append((fanning.count, fanning.commits))
    # lock, insert, stream ends
    assert counts == [(3, 1), (3, 1)]
