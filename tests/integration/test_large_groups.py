"""Large groups: the member limit is a setting enforced at the limit, and a
message to a group of 300 online members reaches every member's socket
once, in order — through real Redis, as one peal (pipeline.rings) heard by
the edge and split into each member's own frame."""

from __future__ import annotations

import dataclasses
import threading
import time

from pipeline.rings import PEAL_MIN_USERS, Peal
from realtime import make_realtime
from tests.integration.test_socket_rings import FakeSocket, wait_for
from tests.support.chat import group, say
from web import create_app
from web.ws.connection import Connection
from workers.broker import install_ports, worker_ports
from workers.delivery import deliver_message
from workers.fan_out import fan_out_event

MEMBERS = 300
MESSAGES = 3


class Recording:
    """The worker's realtime, noting what each ring_many call carried."""

    def __init__(self, inner):
        self.inner, self.peals = inner, 0

    def ring_many(self, rings):
        rings = list(rings)
        self.peals += sum(isinstance(r, Peal) for r in rings)
        self.inner.ring_many(rings)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_the_member_limit_comes_from_the_settings(settings, sessions, publisher):
    app = create_app(dataclasses.replace(settings, group_member_limit=4), publisher=publisher,
                     test_config={"TESTING": True})
    client = app.test_client()
    from tests.conftest import Auth

    auth = Auth(app, sessions)
    owner, *others = (auth.user() for _ in range(5))
    too_many = client.post("/v1/conversations", json={"kind": "group", "title": "Five",
                                                      "members": [u.id for u in others]}, headers=auth.headers(owner))
    assert (too_many.status_code, too_many.json["code"]) == (422, "group_full")
    conversation = group(client, auth, owner, others[:3])  # exactly at the limit
    refused = client.post(f"/v1/conversations/{conversation}/members", json={"user_ids": [others[3].id]},
                          headers=auth.headers(owner))
    assert (refused.status_code, refused.json["code"]) == (422, "group_full")


def test_a_message_to_a_large_online_group_reaches_each_member_once_in_order(settings, sessions, publisher):
    settings = dataclasses.replace(settings, group_member_limit=MEMBERS)
    app = create_app(settings, publisher=publisher, test_config={"TESTING": True})
    res, client = app.extensions["herald"], app.test_client()
    rung = Recording(make_realtime(settings.redis_url, settings.redis_namespace))  # the worker's own, as in full mode
    install_ports(worker_ports(settings, sessions, rung))
    actors = {"deliver_message": deliver_message.fn, "fan_out_event": fan_out_event.fn}

    def run_jobs():
        while publisher.jobs:
            job = publisher.jobs.pop(0)
            actors[job.actor_name](*job.args)

    from tests.conftest import Auth

    auth = Auth(app, sessions)
    owner, *others = (auth.user() for _ in range(MEMBERS))
    conversation = group(client, auth, owner, others)
    run_jobs()
    sockets = []
    for user in (owner, *others):
        ws = FakeSocket()
        thread = threading.Thread(target=Connection(ws, user.id, 0, res).run, daemon=True)
        thread.start()
        sockets.append((user, ws, thread))
    for _, ws, _ in sockets:
        wait_for(lambda: "ready" in ws.types(), timeout=30)

    seqs = [say(client, auth, owner, conversation, f"hello {n}")["seq"] for n in range(MESSAGES)]
    run_jobs()
    assert rung.peals == MESSAGES and MEMBERS >= PEAL_MIN_USERS  # each message went out once, as a peal

    def messages(ws):
        return [f for f in ws.sent if f["type"] == "message" and f["message"]["conversation_id"] == conversation]
    deadline = time.monotonic() + 30
    for _, ws, _ in sockets:
        wait_for(lambda: len(messages(ws)) >= MESSAGES, timeout=max(0.1, deadline - time.monotonic()))
    time.sleep(0.2)  # a duplicate would have arrived by now
    for user, ws, thread in sockets:
        got = messages(ws)
        assert [f["message"]["seq"] for f in got] == seqs, user.id  # once each, in order
        positions = [f["position"] for f in got]
        assert positions == sorted(set(positions)), user.id
        ws.close()
    for _, _, thread in sockets:
        thread.join(5)
    assert got[0]["message"]["body"] == "hello 0"


def test_presence_is_pushed_to_the_members_of_small_conversations_only(client, auth, sessions, monkeypatch):
    """Every connect in a large group would otherwise frame every other member (N²)."""
    from db.engine import UnitOfWork
    from tests.support.chat import direct
    from usecases.presence import presence

    me, a, b, c, friend = (auth.user() for _ in range(5))
    group(client, auth, me, [a, b, c])  # 4 members
    direct(client, auth, me, friend)
    with UnitOfWork(sessions) as uow:
        assert presence.contact_ids(uow.session, me.id) == sorted([a.id, b.id, c.id, friend.id])
        monkeypatch.setattr(presence, "PUSHED_UP_TO_MEMBERS", 3)
        assert presence.contact_ids(uow.session, me.id) == [friend.id]
        # Seeing presence is unchanged: a member of the large group may still ask.
        assert presence.visible_subjects(uow.session, a.id, [me.id]) == {me.id}
