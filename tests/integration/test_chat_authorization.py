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
    res.realtime.listen(lambda user_id, payload: rung.append(user_id))
    for user_id in (world.amy.id, world.ben.id):
        res.realtime.subscribe(user_id)
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
