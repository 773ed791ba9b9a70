"""A socket routes rings by what they carry beside the frame (position,
conversation), never by decoding it: a socket scoped to one conversation
hears only that conversation's frames, live; its own answers always."""

from __future__ import annotations

import json
import queue
import threading
import time

import pytest
from simple_websocket import ConnectionClosed

from realtime import InProcessRealtime
from tests.support.chat import direct
from web import create_app
from web.ws.connection import Connection


class FakeSocket:
    """What Connection uses of a simple_websocket.Server."""

    def __init__(self):
        self.sent: list[dict] = []
        self.incoming: queue.Queue = queue.Queue()

    def send(self, text: str) -> None:
        self.sent.append(json.loads(text))

    def receive(self, timeout=None):
        data = self.incoming.get()
        if data is None:
            raise ConnectionClosed()
        return data

    def close(self, *args) -> None:
        self.closed_with = args
        self.incoming.put(None)

    def types(self) -> list[str]:
        return [frame["type"] for frame in self.sent]


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def edge(settings, sessions, publisher):
    realtime = InProcessRealtime()
    app = create_app(settings, publisher=publisher, realtime=realtime, presence=None,
                     test_config={"TESTING": True})
    return app, app.extensions["herald"], realtime


def open_socket(res, user, context=None) -> tuple[FakeSocket, threading.Thread]:
    ws = FakeSocket()
    thread = threading.Thread(target=Connection(ws, user.id, 0, res, context).run, daemon=True)
    thread.start()
    wait_for(lambda: "ready" in ws.types())
    return ws, thread


@pytest.mark.parametrize("scoped", [False, True])
def test_rings_reach_a_socket_by_their_conversation(edge, auth, scoped):
    app, res, realtime = edge
    me, hotel, friend = auth.user(), auth.user(), auth.user()
    booking = direct(app.test_client(), auth, me, hotel)
    elsewhere = direct(app.test_client(), auth, me, friend)
    ws, thread = open_socket(res, me, booking if scoped else None)

    def typing(conversation_id):
        return json.dumps({"type": "typing", "conversation_id": conversation_id})

    realtime.ring(me.id, None, typing(elsewhere), elsewhere)
    realtime.ring(me.id, None, json.dumps({"type": "presence", "user_id": friend.id}))  # about no conversation
    realtime.ring(me.id, 1, json.dumps({"type": "receipt", "position": 1}), elsewhere)
    realtime.ring(me.id, 2, json.dumps({"type": "receipt", "position": 2}), booking)
    realtime.ring(me.id, None, typing(booking), booking)
    ws.incoming.put(json.dumps({"type": "ping"}))  # an answer: always for this socket
    wait_for(lambda: "pong" in ws.types())
    ws.close()
    thread.join(5)
    heard = [(f["type"], f.get("conversation_id", f.get("position"))) for f in ws.sent if f["type"] != "ready"]
    if scoped:
        assert heard == [("receipt", 2), ("typing", booking), ("pong", None)]
    else:
        assert heard == [("typing", elsewhere), ("presence", None), ("receipt", 1), ("receipt", 2),
                         ("typing", booking), ("pong", None)]


def test_a_lost_ring_is_found_by_the_process_wide_check(edge, auth, settings, sessions, publisher):
    """The worker's rings go to a realtime this edge does not hear (as if
    Redis dropped them): the socket learns of the message from the one
    lost-ring check of its process, not from a query of its own."""
    from tests.support.chat import job_runner, say

    app, res, _ = edge
    me, friend = auth.user(), auth.user()
    conversation = direct(app.test_client(), auth, me, friend)
    run_jobs = job_runner(settings, sessions, publisher)
    run_jobs()
    ws, thread = open_socket(res, me)
    sent = say(app.test_client(), auth, friend, conversation, "lost ring")
    run_jobs()
    time.sleep(0.2)
    assert not [f for f in ws.sent if f["type"] == "message"]  # the ring was lost
    assert res.lost_rings.check(res) == 1
    wait_for(lambda: [f["message"]["id"] for f in ws.sent if f["type"] == "message"] == [sent["id"]])
    assert res.lost_rings.check(res) == 0  # caught up: nothing more to re-read
    ws.close()
    thread.join(5)


def test_a_socket_whose_replay_fails_is_closed_with_1011_not_answered_in_http(edge, auth, monkeypatch):
    from web.ws import connection

    def pool_timeout(*args, **kwargs):
        raise TimeoutError("QueuePool limit reached")
    monkeypatch.setattr(connection, "replay_page", pool_timeout)
    _, res, _ = edge
    me = auth.user()
    ws = FakeSocket()
    Connection(ws, me.id, 0, res).run()  # returns: nothing for flask-sock to turn into a 500
    assert ws.closed_with[0] == 1011 and "ready" not in ws.types()
    assert res.hub.by_user() == {}
