"""Presence and typing over real WebSockets through the full stack
(gunicorn + gevent, Redis pub/sub): who hears what, several devices,
hidden last seen."""

from __future__ import annotations

import time

import pytest
import redis as redis_lib
import requests

from tests.conftest import REDIS_NAMESPACE
from tests.support.clients import StreamClient, token_of

pytestmark = pytest.mark.e2e
QUIET_SECONDS = 1.5  # long enough for a frame that should not come to have come


@pytest.fixture(autouse=True)
def clean_presence(redis_url):
    """User ids restart in every test: forget the presence of earlier tests' users.

    Afterwards, wait until the server has said goodbye to every socket: its
    last `offline` announcement reads the database, and the next test's
    TRUNCATE would deadlock with it."""
    client = redis_lib.Redis.from_url(redis_url)
    for pattern in ("presence*", "last_seen:*"):
        for key in client.scan_iter(f"{REDIS_NAMESPACE}:{pattern}"):
            client.delete(key)
    yield
    deadline = time.monotonic() + 10
    while any(client.scan_iter(f"{REDIS_NAMESPACE}:presence:*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the announcement follows the session's removal by a few milliseconds



def connect(stack, auth, user) -> StreamClient:
    client = StreamClient(stack.ws_url, token_of(auth, user))
    client.until_ready()
    return client


def conversation(stack, auth, owner, *others) -> int:
    body = ({"kind": "direct", "with": others[0].id} if len(others) == 1 else
            {"kind": "group", "title": "weekend", "members": [o.id for o in others]})
    answer = requests.post(f"{stack.base_url}/v1/conversations", json=body, headers=auth.headers(owner), timeout=10)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()["id"]


def next_matching(client, kind, about=None, timeout=10.0) -> dict:
    """The next frame of `kind` (about user `about`, if given); others are skipped."""
    deadline = time.monotonic() + timeout
    while True:
        frame = client.next(max(0.01, deadline - time.monotonic()))
        if frame["type"] == kind and (about is None or frame.get("user_id") == about.id):
            return frame


def frames_within(client, seconds=QUIET_SECONDS) -> list[dict]:
    frames, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            frames.append(client.next(left))
        except TimeoutError:
            break
    return frames


def about(frames, kind, user) -> list[dict]:
    return [f for f in frames if f["type"] == kind and f.get("user_id") == user.id]


def presence_of(stack, auth, viewer, user) -> dict | None:
    answer = requests.get(f"{stack.base_url}/v1/presence?user_ids={user.id}", headers=auth.headers(viewer), timeout=10)
    assert answer.status_code == 200
    return next(iter(answer.json()["items"]), None)


def test_typing_reaches_the_other_members_but_not_the_sender_nor_strangers(stack, auth):
    nok, lek, may, stranger = (auth.user("mobile") for _ in range(4))
    chat = conversation(stack, auth, nok, lek, may)
    with connect(stack, auth, nok) as a, connect(stack, auth, lek) as b, connect(stack, auth, may) as c, \
            connect(stack, auth, stranger) as s:
        a.send({"type": "typing", "conversation_id": chat, "state": "start"})
        a.send({"type": "typing", "conversation_id": chat, "state": "start"})  # within a second: dropped
        for member in (b, c):
            frame = next_matching(member, "typing")
            assert frame == {"type": "typing", "conversation_id": chat, "user_id": nok.id, "state": "start",
                             "expires_in": 5}
        s.send({"type": "typing", "conversation_id": chat, "state": "start"})
        refused = next_matching(s, "error")
        assert refused["code"] == "not_found"
        a.send({"type": "typing", "conversation_id": chat, "state": "stop"})
        assert next_matching(b, "typing")["state"] == "stop"  # not a second start, not the stranger's
        assert next_matching(c, "typing")["state"] == "stop"
        assert [f for f in frames_within(a) if f["type"] == "typing"] == []
        assert [f for f in frames_within(s, 0.2) if f["type"] == "typing"] == []


def test_a_contact_sees_online_away_and_offline_and_a_stranger_sees_nothing(stack, auth):
    nok, lek, stranger = auth.user("mobile"), auth.user("mobile"), auth.user("mobile")
    conversation(stack, auth, nok, lek)
    with connect(stack, auth, lek) as contact, connect(stack, auth, stranger) as outsider:
        with connect(stack, auth, nok) as phone:
            assert next_matching(contact, "presence", nok)["state"] == "online"
            assert presence_of(stack, auth, lek, nok)["state"] == "online"
            phone.send({"type": "presence", "state": "away"})
            assert next_matching(contact, "presence", nok)["state"] == "away"
            phone.send({"type": "presence", "state": "online"})
            assert next_matching(contact, "presence", nok)["state"] == "online"
        offline = next_matching(contact, "presence", nok)
        assert offline["state"] == "offline" and offline["last_seen"] is not None
        assert about(frames_within(outsider), "presence", nok) == []
        assert presence_of(stack, auth, stranger, nok) is None
        assert presence_of(stack, auth, lek, nok)["state"] == "offline"


def test_a_user_who_hides_last_seen_shows_null_to_contacts(stack, auth):
    nok, lek = auth.user("mobile"), auth.user("mobile")
    conversation(stack, auth, nok, lek)
    hidden = requests.patch(f"{stack.base_url}/v1/me/privacy", json={"hide_last_seen": True},
                            headers=auth.headers(nok), timeout=10)
    assert hidden.json() == {"hide_last_seen": True}
    with connect(stack, auth, lek) as contact:
        with connect(stack, auth, nok):
            assert next_matching(contact, "presence", nok)["last_seen"] is None
        assert next_matching(contact, "presence", nok) == {"type": "presence", "user_id": nok.id,
                                                           "state": "offline", "last_seen": None}
    assert presence_of(stack, auth, lek, nok)["last_seen"] is None
    assert presence_of(stack, auth, nok, nok)["last_seen"] is not None  # the owner still sees it


def test_closing_one_of_two_devices_keeps_the_user_online(stack, auth):
    nok, lek = auth.user("mobile"), auth.user("mobile")
    conversation(stack, auth, nok, lek)
    with connect(stack, auth, lek) as contact:
        phone, tablet = connect(stack, auth, nok), connect(stack, auth, nok)
        assert next_matching(contact, "presence", nok)["state"] == "online"
        phone.close()
        assert about(frames_within(contact), "presence", nok) == []  # the tablet is still online
        assert presence_of(stack, auth, lek, nok)["state"] == "online"
        tablet.send({"type": "presence", "state": "away"})
        assert next_matching(contact, "presence", nok)["state"] == "away"
        tablet.close()
        assert next_matching(contact, "presence", nok)["state"] == "offline"
