"""Authorization, table-driven: every conversation, message, block and
presence endpoint of the app's url_map, tried as

  (a) a stranger (not a member),
  (b) a user the other party of a direct conversation blocked,
  (c) a member whose token is scoped to another conversation (D24),
  (d) a member with an expired token,

must answer the refusal its row names (or show nothing of what it hides),
and change nothing: not a row of the database, not a queued job. A new
endpoint fails `test_every_chat_endpoint_has_a_row` until it gets one.
The socket's client frames get the same treatment.

Scoped tokens are denied by default: EVERY route of the url_map — admin,
devices, privacy, auth, ops included — is tried with a token scoped to the
very conversation its path names, and must answer 403 `forbidden` and
change nothing unless web.auth.scope.SCOPED_TOKEN_ENDPOINTS names it (and
those are tried out of scope by the table above).
"""

from __future__ import annotations

import dataclasses

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import Base, Block
from pipeline.frames import CLIENT_TYPES, parse_client_frame
from realtime import InProcessRealtime
from tests.integration.chat_authorization_table import (FRAMES, ROWS, Allowed, Refusal, Row, Shows,
                                                        chat_endpoints)
from tests.support.chat import direct, group, say
from tests.support.tokens import bearer, expired_token, scoped_token
from web.auth.scope import SCOPED_TOKEN_ENDPOINTS
from web.ws import commands
from web.ws.signals import SocketSignals

PERSONAS = ("stranger", "blocked", "scoped", "expired")


class World:
    """amy and ben chat directly (amy blocked ben); shop's group has amy and
    cat; ben's group has cat; shop and amy chat directly; shop sent amy a
    one-way message. stranger and rival (a business) belong to nothing."""

    def __init__(self, app, client, auth, sessions):
        self.app, self.tokens = app, app.extensions["herald"].tokens
        self.amy, self.ben, self.cat, self.stranger = (auth.user("mobile") for _ in range(4))
        self.shop, self.rival = auth.user("business"), auth.user("business")
        self.conversations = {"direct": direct(client, auth, self.amy, self.ben),
                              "group": group(client, auth, self.shop, [self.amy, self.cat]),
                              "bens_group": group(client, auth, self.ben, [self.cat]),
                              "shop_direct": direct(client, auth, self.shop, self.amy)}
        self.messages = {"amys": say(client, auth, self.amy, self.conversations["direct"])["id"],
                         "bens": say(client, auth, self.ben, self.conversations["direct"])["id"],
                         "oneway": client.post("/v1/messages", json={"to": [self.amy.id], "body": "Booked"},
                                               headers=auth.headers(self.shop)).json["id"]}
        with UnitOfWork(sessions) as uow:
            uow.session.add(Block(blocker_id=self.amy.id, blocked_id=self.ben.id,
                                  created_at=datetime.now(timezone.utc)))
            uow.commit()
        self.auth = auth

    def user(self, name):
        return getattr(self, name)

    def headers(self, row: Row, persona: str) -> dict:
        """Who calls: each persona's caller for this row's role."""
        member = self.shop if row.role == "business" else self.amy
        if persona == "stranger":
            return self.auth.headers(self.rival if row.role == "business" else self.stranger)
        if persona == "blocked":
            return self.auth.headers(self.ben)
        if persona == "expired":
            return bearer(expired_token(self.tokens, member))
        elsewhere = self.conversations[row.scoped_to]
        return bearer(scoped_token(self.tokens, member, elsewhere))

    def url(self, rule: str, row: Row, persona: str) -> str:
        values = {"conversation_id": self.conversations[row.target(persona, "conversation")],
                  "message_id": self.messages[row.target(persona, "message")],
                  "user_id": self.user(row.user).id, "emoji": "%F0%9F%91%8D"}
        path = rule
        for name, value in values.items():
            path = path.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
        return path + ("?" + row.query.format(amy=self.amy.id, ben=self.ben.id) if row.query else "")


def database_state(sessions) -> dict:
    with UnitOfWork(sessions) as uow:
        return {table.name: sorted(map(repr, uow.session.execute(select(table)).all()))
                for table in Base.metadata.sorted_tables}


@pytest.fixture
def world(app, client, auth, sessions, publisher):
    built = World(app, client, auth, sessions)
    publisher.jobs.clear()
    return built


def test_every_chat_endpoint_has_a_row(app):
    missing = sorted(set(chat_endpoints(app)) - set(ROWS))
    assert not missing, f"add a row to tests/integration/chat_authorization_table.py for: {missing}"
    stale = sorted(set(ROWS) - set(chat_endpoints(app)))
    assert not stale, f"rows for endpoints the app no longer has: {stale}"


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_endpoint_refuses_or_hides_and_changes_nothing(persona, app, client, world, sessions, publisher):
    problems, tried = [], 0
    for (method, rule) in chat_endpoints(app):
        row = ROWS[(method, rule)]
        expected = row.expect(persona)
        if isinstance(expected, Allowed):
            continue
        before = database_state(sessions)
        url = world.url(rule, row, persona)
        answer = client.open(url, method=method, json=row.body(world) if method != "GET" else None,
                             headers=world.headers(row, persona))
        where = f"{persona}: {method} {url}"
        tried += 1
        problems += expected.problems(answer, world, where)
        if database_state(sessions) != before:
            problems.append(f"{where} changed the database")
        if publisher.jobs:
            problems.append(f"{where} queued {len(publisher.jobs)} job(s)")
            publisher.jobs.clear()
    assert not problems, "\n".join(problems)
    assert tried >= (5 if persona == "blocked" else 15)  # the table is not quietly empty


def test_every_client_frame_has_a_row():
    assert set(FRAMES) == set(CLIENT_TYPES) | {"read_conversation"}


@pytest.mark.parametrize("caller", ["stranger", "scoped"])
def test_client_frames_about_a_conversation_one_may_not_see_get_not_found(caller, world, sessions, publisher):
    res = world.app.extensions["herald"]
    res.ports = dataclasses.replace(res.ports, realtime=InProcessRealtime())  # rings recorded in this process
    user = world.stranger if caller == "stranger" else world.amy
    context = world.conversations["group"] if caller == "scoped" else None  # scoped to the group
    signals = SocketSignals(res, user.id, "socket", context)
    rung = []
    res.ports.realtime.listen(lambda ring: rung.append(ring.user_id))
    for user_id in (world.amy.id, world.ben.id):
        res.ports.realtime.subscribe(user_id)
    before = database_state(sessions)
    for kind, frame in FRAMES.items():
        if isinstance(frame, Allowed):
            continue
        text = json.dumps(frame(world.conversations["direct"]))
        answers = commands.handle(res, user.id, parse_client_frame(text, 10_000), context, signals)
        assert [(a["type"], a["code"]) for a in answers] == [("error", "not_found")], kind
    assert database_state(sessions) == before and not publisher.jobs and not rung


def test_the_table_names_a_reason_for_everything_it_lets_through():
    for key, row in ROWS.items():
        for persona in PERSONAS:
            expected = row.expect(persona)
            assert isinstance(expected, (Allowed, Refusal, Shows)), (key, persona)
            if isinstance(expected, Allowed):
                assert expected.reason, (key, persona)


def every_route(app) -> list[tuple[str, str, str]]:
    """(method, rule, endpoint) of every route the app serves."""
    return sorted((method, rule.rule, rule.endpoint) for rule in app.url_map.iter_rules()
                  for method in rule.methods - {"HEAD", "OPTIONS"})


# Bodies that would succeed with the user's own token: the refusal is the scope's, not validation's.
BODIES = {("POST", "/v1/devices"): {"platform": "android", "token": "the-business-phone"},
          ("PATCH", "/v1/me/privacy"): {"hide_last_seen": True},
          ("POST", "/v1/ws/ticket"): {}}


def test_the_scoped_endpoints_are_routes_and_each_is_tried_out_of_scope(app):
    endpoints = {endpoint for _, _, endpoint in every_route(app)}
    assert SCOPED_TOKEN_ENDPOINTS <= endpoints, SCOPED_TOKEN_ENDPOINTS - endpoints
    socket_only = {"ws.socket"}  # tried by the frame test above and tests/e2e/test_scoped_sockets.py
    for method, rule, endpoint in every_route(app):
        if endpoint in SCOPED_TOKEN_ENDPOINTS - socket_only:
            assert not isinstance(ROWS[(method, rule)].scoped, Allowed), (method, rule)


def test_a_scoped_token_reaches_no_route_but_those_made_for_it(app, client, world, sessions, publisher):
    """Deny by default: a new endpoint is refused until SCOPED_TOKEN_ENDPOINTS names it."""
    amy = world.amy
    device = client.post("/v1/devices", json={"platform": "ios", "token": "amys-phone"},
                         headers=world.auth.headers(amy))
    scope = world.conversations["direct"]
    headers = bearer(scoped_token(world.tokens, amy, scope))
    values = {"conversation_id": scope, "message_id": world.messages["amys"], "user_id": world.cat.id,
              "emoji": "%F0%9F%91%8D", "device_id": device.json["id"], "letter_id": 1, "filename": "index.html",
              "key_id": 1, "endpoint_id": 1, "event_id": "evt_1"}
    problems, tried = [], 0
    for method, rule, endpoint in every_route(app):
        if endpoint in SCOPED_TOKEN_ENDPOINTS:
            continue
        path = rule
        for name, value in values.items():
            for converter in ("int:", "path:", ""):
                path = path.replace(f"<{converter}{name}>", str(value))
        row = ROWS.get((method, rule))
        body = BODIES.get((method, rule), row.body(world) if row else {})
        before = database_state(sessions)
        answer = client.open(path, method=method, json=body if method != "GET" else None, headers=headers)
        tried += 1
        # The admin pages answer their refusals as HTML pages, the API as problem details.
        got = (answer.status_code, (answer.get_json(silent=True) or {"code": answer.mimetype}).get("code"))
        if got not in {(403, "forbidden"), (403, "text/html")} or "scoped" not in answer.get_data(as_text=True):
            problems.append(f"{method} {path} ({endpoint}): expected 403 forbidden for a scoped token, got {got}")
        if database_state(sessions) != before or publisher.jobs:
            problems.append(f"{method} {path} ({endpoint}) changed something")
            publisher.jobs.clear()
    assert not problems, "\n".join(problems)
    assert tried >= 40
    assert client.get("/v1/nowhere", headers=headers).status_code == 404  # routing still answers first


def test_a_scoped_token_cannot_see_or_change_the_users_devices(app, client, world, sessions):
    """The hole this closes: a business held amy's scoped token, listed her push
    tokens, deleted her devices, or registered its own phone on her account."""
    amy = world.amy
    device = client.post("/v1/devices", json={"platform": "ios", "token": "amys-phone"},
                         headers=world.auth.headers(amy)).json
    scoped = bearer(scoped_token(world.tokens, amy, world.conversations["shop_direct"]))
    for method, path, body in (("GET", "/v1/devices", None),
                               ("POST", "/v1/devices", {"platform": "android", "token": "shops-phone"}),
                               ("DELETE", f"/v1/devices/{device['id']}", None)):
        answer = client.open(path, method=method, json=body, headers=scoped)
        assert (answer.status_code, answer.json["code"]) == (403, "forbidden"), (method, path)
        assert "amys-phone" not in answer.get_data(as_text=True)
    mine = client.get("/v1/devices", headers=world.auth.headers(amy)).json["items"]
    assert [d["token"] for d in mine] == ["amys-phone"]


def test_a_scoped_token_still_chats_in_its_conversation(client, world):
    scoped = bearer(scoped_token(world.tokens, world.amy, world.conversations["shop_direct"]))
    base = f"/v1/conversations/{world.conversations['shop_direct']}"
    assert client.get(base, headers=scoped).status_code == 200
    assert client.post(f"{base}/messages", json={"body": "see you at 8"}, headers=scoped).status_code == 202
    assert client.get(f"{base}/messages", headers=scoped).json["items"][-1]["body"] == "see you at 8"
    assert client.post(f"{base}/read", json={"up_to_seq": 1}, headers=scoped).status_code == 200
