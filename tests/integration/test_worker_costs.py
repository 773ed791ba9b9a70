"""The work one delivered message costs the workers, counted (not timed):
SQL statements, commits and jobs per one-way and per chat message.

Counts do not suffer from a busy machine, so they can be asserted: the
bounds below fail when someone brings back a statement per recipient.
"""

from __future__ import annotations

import contextlib
import time

import pytest
from sqlalchemy import Engine, event, select

from db.engine import UnitOfWork
from db.models import Outbox
from realtime import InProcessPresence, InProcessRealtime
from tests.support.chat import group
from workers.broker import install_ports, install_push_sender, worker_ports
from workers.delivery import deliver_message
from workers.push import send_push
from workers.push_sender import LoggingSender


class Counter:
    def __init__(self):
        self.statements: list[str] = []
        self.commits = 0

    @property
    def count(self) -> int:
        return len(self.statements)

    def show(self, label: str) -> None:
        print(f"\n{label}: {self.count} statements, {self.commits} commits")
        for statement in self.statements:
            print("   ", statement)


@contextlib.contextmanager
def counting():
    """Counts on every engine (executemany counts once: one round trip)."""
    counter = Counter()

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        counter.statements.append(" ".join(statement.split())[:140])

    def on_commit(conn):
        counter.commits += 1

    event.listen(Engine, "before_cursor_execute", on_execute)
    event.listen(Engine, "commit", on_commit)
    try:
        yield counter
    finally:
        event.remove(Engine, "before_cursor_execute", on_execute)
        event.remove(Engine, "commit", on_commit)


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


def run_pushes(sessions, message_id) -> int:
    jobs = push_jobs(sessions, message_id)
    for args in jobs:
        send_push.fn(*args)
    return len(jobs)


def test_a_one_way_message_to_one_offline_recipient_with_a_device(client, auth, sessions, runtime):
    business, somchai = auth.user("business", username="acme"), auth.user("mobile")
    register_device(client, auth, somchai, "tok-1")
    headers = auth.headers(business)
    warm = client.post("/v1/messages", json={"to": [somchai.id], "body": "warm"}, headers=headers).json["id"]
    deliver_message.fn(warm)
    message_id = client.post("/v1/messages", json={"to": [somchai.id], "body": "hi"}, headers=headers).json["id"]
    with counting() as delivering:
        deliver_message.fn(message_id)
    with counting() as pushing:
        jobs = run_pushes(sessions, message_id)
    delivering.show("one-way, 1 offline recipient: deliver_message")
    pushing.show(f"one-way, 1 offline recipient: {jobs} send_push job(s)")
    assert jobs == 1


def test_a_one_way_message_to_one_offline_recipient_without_a_device(client, auth, sessions, runtime):
    business, somchai = auth.user("business", username="acme"), auth.user("mobile")
    headers = auth.headers(business)
    message_id = client.post("/v1/messages", json={"to": [somchai.id], "body": "hi"}, headers=headers).json["id"]
    with counting() as delivering:
        deliver_message.fn(message_id)
    delivering.show("one-way, 1 offline recipient without a device: deliver_message")
    print("send_push jobs:", len(push_jobs(sessions, message_id)))


def test_a_chat_message_to_a_ten_member_group(client, auth, sessions, runtime, presence):
    sender, online, *offline = [auth.user("mobile") for _ in range(10)]
    go_online(presence, online)
    for n, member in enumerate(offline[:3]):
        register_device(client, auth, member, f"tok-{n}")
    conversation = group(client, auth, sender, [online, *offline])
    warm = client.post(f"/v1/conversations/{conversation}/messages", json={"body": "warm"},
                       headers=auth.headers(sender)).json["id"]
    deliver_message.fn(warm)
    run_pushes(sessions, warm)
    message_id = client.post(f"/v1/conversations/{conversation}/messages", json={"body": "hi"},
                             headers=auth.headers(sender)).json["id"]
    with counting() as delivering:
        deliver_message.fn(message_id)
    with counting() as pushing:
        jobs = run_pushes(sessions, message_id)
    delivering.show("chat, 10 members (1 online, 8 offline + the sender; 3 with devices): deliver_message")
    pushing.show(f"chat, 10 members: {jobs} send_push job(s)")
