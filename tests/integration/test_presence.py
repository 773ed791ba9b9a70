"""Presence and typing on the real PostgreSQL and Redis: who sees whom,
hidden last seen, announcements of real changes only, typing relays."""

from __future__ import annotations

import dataclasses
import uuid

import json
import time
from datetime import datetime, timezone

import pytest
import redis as redis_lib

from db.engine import UnitOfWork
from db.models import Block
from pipeline.errors import NotFound
from pipeline.frames import parse_client_frame
from realtime import InProcessPresence, InProcessRealtime, RedisPresence
from tests.conftest import REDIS_NAMESPACE
from tests.support.tokens import bearer, scoped_token
from web import create_app
from usecases.presence.announce import announce_if_changed
from web.ws import commands
from web.ws.signals import SocketSignals


@pytest.fixture(autouse=True)
def clean_presence(redis_url):
    """User ids restart in every test: forget the presence of earlier tests' users."""
    client = redis_lib.Redis.from_url(redis_url)
    for pattern in ("presence*", "last_seen:*"):
        for key in client.scan_iter(f"{REDIS_NAMESPACE}:{pattern}"):
            client.delete(key)


def direct(client, auth, me, other) -> int:
    return client.post("/v1/conversations", json={"kind": "direct", "with": other.id},
                       headers=auth.headers(me)).json["id"]


def group(client, auth, owner, *members) -> int:
    return client.post("/v1/conversations", json={"kind": "group", "title": "trip", "members": [m.id for m in members]},
                       headers=auth.headers(owner)).json["id"]


def presence_of(client, headers, *users) -> dict:
    answer = client.get(f"/v1/presence?user_ids={','.join(str(u.id) for u in users)}", headers=headers)
    assert answer.status_code == 200, answer.json
    return {item["user_id"]: item for item in answer.json["items"]}


def go_online(app, user, session_id="s1", state="online"):
    app.extensions["herald"].ports.presence.refresh_session(user.id, session_id, state, time.time() + 30, time.time(), 3600)


def test_presence_is_shown_only_for_people_who_share_a_conversation(app, client, auth):
    me, friend, stranger = auth.user(), auth.user(), auth.user()
    direct(client, auth, me, friend)
    go_online(app, friend)
    go_online(app, stranger)
    seen = presence_of(client, auth.headers(me), friend, stranger, me)
    assert set(seen) == {friend.id, me.id}  # strangers are left out, not reported
    assert seen[friend.id]["state"] == "online" and seen[friend.id]["last_seen"] is not None
    assert (seen[me.id]["state"], seen[me.id]["last_seen"]) == ("offline", None)


def test_someone_who_blocked_the_caller_is_left_out(app, client, auth, sessions):
    me, blocker = auth.user(), auth.user()
    direct(client, auth, me, blocker)
    go_online(app, blocker)
    with UnitOfWork(sessions) as uow:
        uow.session.add(Block(blocker_id=blocker.id, blocked_id=me.id, created_at=datetime.now(timezone.utc)))
        uow.commit()
    assert presence_of(client, auth.headers(me), blocker) == {}
    assert set(presence_of(client, auth.headers(blocker), me)) == {me.id}  # the blocker still sees


def test_a_scoped_token_sees_only_the_members_of_its_conversation(app, client, auth):
    me, hotel_clerk, friend = auth.user(), auth.user(), auth.user()
    booking = direct(client, auth, me, hotel_clerk)
    direct(client, auth, me, friend)
    scoped = bearer(scoped_token(app.extensions["herald"].tokens, me, booking))
    assert set(presence_of(client, scoped, hotel_clerk, friend)) == {hotel_clerk.id}


def test_a_hidden_last_seen_is_null_for_others_but_not_for_its_owner(app, client, auth):
    me, friend = auth.user(), auth.user()
    direct(client, auth, me, friend)
    go_online(app, me)
    hidden = client.patch("/v1/me/privacy", json={"hide_last_seen": True}, headers=auth.headers(me))
    assert hidden.status_code == 200 and hidden.json == {"hide_last_seen": True}
    assert client.get("/v1/me/privacy", headers=auth.headers(me)).json == {"hide_last_seen": True}
    assert presence_of(client, auth.headers(friend), me)[me.id]["last_seen"] is None
    assert presence_of(client, auth.headers(me), me)[me.id]["last_seen"] is not None
    client.patch("/v1/me/privacy", json={"hide_last_seen": False}, headers=auth.headers(me))
    assert presence_of(client, auth.headers(friend), me)[me.id]["last_seen"] is not None


def test_privacy_changes_are_validated_and_not_for_scoped_tokens(app, client, auth):
    me, friend = auth.user(), auth.user()
    booking = direct(client, auth, me, friend)
    bad = client.patch("/v1/me/privacy", json={"hide_last_seen": "yes"}, headers=auth.headers(me))
    assert (bad.status_code, bad.json["code"]) == (422, "validation_failed")
    scoped = bearer(scoped_token(app.extensions["herald"].tokens, me, booking))
    refused = client.patch("/v1/me/privacy", json={"hide_last_seen": True}, headers=scoped)
    assert (refused.status_code, refused.json["code"]) == (403, "forbidden")
    assert client.get("/v1/me/privacy", headers=auth.headers(me)).json == {"hide_last_seen": False}


def test_bad_or_missing_user_ids_are_refused(client, auth):
    me = auth.user()
    for query in ("", "?user_ids=", "?user_ids=a,b", "?user_ids=" + ",".join(map(str, range(1, 102)))):
        answer = client.get(f"/v1/presence{query}", headers=auth.headers(me))
        assert (answer.status_code, answer.json["code"]) == (400, "bad_request"), query
    assert client.get("/v1/presence?user_ids=1").json["code"] == "unauthenticated"


def test_presence_reads_offline_when_redis_is_down(app, client, auth):
    me, friend = auth.user(), auth.user()
    direct(client, auth, me, friend)
    go_online(app, friend)
    res = app.extensions["herald"]
    res.ports = dataclasses.replace(res.ports, presence=RedisPresence.from_url("redis://127.0.0.1:1/0", REDIS_NAMESPACE))
    seen = presence_of(client, auth.headers(me), friend)
    assert seen[friend.id] == {"user_id": friend.id, "state": "offline", "last_seen": None}


@pytest.fixture(params=["in-process", "redis"])
def live(request, settings, sessions, publisher, redis_url):
    """An edge whose rings are recorded, with presence in-process (embedded) or in Redis."""
    realtime = InProcessRealtime()
    app = create_app(settings, publisher=publisher, realtime=realtime, test_config={"TESTING": True})
    res = app.extensions["herald"]
    assert isinstance(res.ports.presence, InProcessPresence)  # embedded mode's choice
    if request.param == "redis":
        # A namespace of its own: presence sweepers that sockets of earlier tests
        # started keep running in this process and would sweep the same users.
        namespace = f"{REDIS_NAMESPACE}-live-{uuid.uuid4().hex[:6]}"
        res.ports = dataclasses.replace(res.ports, presence=RedisPresence.from_url(redis_url, namespace))
    rung: list[tuple[int, dict]] = []
    realtime.listen(lambda ring: rung.append((ring.user_id, json.loads(ring.text))))
    return app, res, realtime, rung


def frames_to(rung, user, kind):
    return [frame for user_id, frame in rung if user_id == user.id and frame["type"] == kind]


def test_only_real_changes_of_presence_reach_contacts_and_never_strangers(live, auth):
    app, res, realtime, rung = live
    me, friend, stranger = auth.user(), auth.user(), auth.user()
    direct(app.test_client(), auth, me, friend)
    for user in (me, friend, stranger):
        realtime.subscribe(user.id)
    phone, tablet = SocketSignals(res, me.id, "phone", None), SocketSignals(res, me.id, "tablet", None)
    phone.beat()
    tablet.beat()  # a second device: still online, nothing to tell
    phone.beat()  # a heartbeat: nothing to tell
    phone.on_presence({"type": "presence", "state": "away"})  # the tablet is still online
    tablet.on_presence({"type": "presence", "state": "away"})
    tablet.leave()  # the phone is still connected (away)
    phone.on_presence({"type": "presence", "state": "online"})  # a second switch within a second …
    told = [(f["user_id"], f["state"]) for f in frames_to(rung, friend, "presence")]
    assert told == [(me.id, "online"), (me.id, "away")]
    phone.beat()  # … is told at the next heartbeat
    phone.leave()
    told = [(f["user_id"], f["state"]) for f in frames_to(rung, friend, "presence")]
    assert told == [(me.id, "online"), (me.id, "away"), (me.id, "online"), (me.id, "offline")]
    assert frames_to(rung, stranger, "presence") == [] and frames_to(rung, me, "presence") == []
    assert all("position" not in frame for _, frame in rung)
    assert frames_to(rung, friend, "presence")[-1]["last_seen"] is not None


def test_contacts_hear_offline_when_a_dead_process_sessions_expire(live, auth):
    app, res, realtime, rung = live
    me, friend = auth.user(), auth.user()
    direct(app.test_client(), auth, me, friend)
    realtime.subscribe(friend.id)
    res.ports.presence.refresh_session(me.id, "phone", "online", time.time() + 0.2, time.time(), 3600)  # its last beat
    announce_if_changed(res.ports, me.id, time.time())
    res.presence_sweeper.sweep(res, time.time())  # not expired yet
    time.sleep(0.3)  # its process died: no goodbye
    res.presence_sweeper.sweep(res, time.time())
    assert [f["state"] for f in frames_to(rung, friend, "presence")] == ["online", "offline"]
    res.presence_sweeper.sweep(res, time.time())  # nothing new to tell
    assert len(frames_to(rung, friend, "presence")) == 2


def typing(conversation_id, state="start"):
    return parse_client_frame(json.dumps({"type": "typing", "conversation_id": conversation_id, "state": state}), 1000)


def test_typing_reaches_the_other_members_once_a_second_and_strangers_get_not_found(live, auth):
    app, res, realtime, rung = live
    me, friend, other, stranger = auth.user(), auth.user(), auth.user(), auth.user()
    chat = group(app.test_client(), auth, me, friend, other)
    for user in (me, friend, other, stranger):
        realtime.subscribe(user.id)
    mine = SocketSignals(res, me.id, "phone", None)
    for state in ("start", "start", "stop"):  # the second start is within the second: dropped
        assert commands.handle(res, me.id, typing(chat, state), None, mine) == []
    expected = [{"type": "typing", "conversation_id": chat, "user_id": me.id, "state": state,
                 "expires_in": res.ports.chat.typing_ttl_seconds} for state in ("start", "stop")]
    assert frames_to(rung, friend, "typing") == expected == frames_to(rung, other, "typing")
    assert frames_to(rung, me, "typing") == [] and frames_to(rung, stranger, "typing") == []
    theirs = SocketSignals(res, stranger.id, "phone", None)
    refused = commands.handle(res, stranger.id, typing(chat), None, theirs)
    assert [(f["type"], f["code"]) for f in refused] == [("error", "not_found")]
    scoped_elsewhere = SocketSignals(res, me.id, "web", context=chat + 1)
    with pytest.raises(NotFound):
        scoped_elsewhere.on_typing({"conversation_id": chat, "state": "start"})


def test_presence_answers_match_the_openapi_document(app, client, auth):
    from tests.integration.test_openapi import _Contract
    from web.blueprints.apidocs import spec

    contract = _Contract(spec())
    me, friend = auth.user(), auth.user()
    booking = direct(client, auth, me, friend)
    go_online(app, friend)
    snapshot = contract.check(client.get(f"/v1/presence?user_ids={friend.id},{me.id}", headers=auth.headers(me)),
                              "get", "/v1/presence")
    assert [item["state"] for item in snapshot.json["items"]] == ["online", "offline"]
    contract.check(client.get("/v1/presence?user_ids=x", headers=auth.headers(me)), "get", "/v1/presence",
                   "bad_request")
    contract.check(client.get("/v1/presence?user_ids=1"), "get", "/v1/presence", "unauthenticated")
    privacy = "/v1/me/privacy"
    contract.check(client.get(privacy, headers=auth.headers(me)), "get", privacy)
    contract.check(client.patch(privacy, json={"hide_last_seen": True}, headers=auth.headers(me)), "patch", privacy)
    contract.check(client.patch(privacy, json={}, headers=auth.headers(me)), "patch", privacy, "validation_failed")
    contract.check(client.patch(privacy, data="x", headers=auth.headers(me)), "patch", privacy,
                   "unsupported_media_type")
    scoped = bearer(scoped_token(app.extensions["herald"].tokens, me, booking))
    contract.check(client.patch(privacy, json={"hide_last_seen": True}, headers=scoped), "patch", privacy, "forbidden")
