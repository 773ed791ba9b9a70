"""When the edge itself is the bottleneck it sheds: a request that finds no
free database connection within DB_POOL_TIMEOUT_SECONDS (D89), or no slot
among EDGE_MAX_CONCURRENT_POSTS (D90), is answered 503 edge_overloaded with
Retry-After, and nothing was written."""

from __future__ import annotations

import json
import threading

import pytest
from flask import request
from sqlalchemy import func, select, text

from config import load_settings
from db.engine import UnitOfWork
from db.models import Delivery, IdempotencyKey, Message, Outbox
from pipeline.frames import parse_client_frame
from tests.support.scrapes import parse, value
from web import create_app
from web.ws import commands


TINY_POOL = {"DB_POOL_SIZE": "1", "DB_POOL_TIMEOUT_SECONDS": "0.2"}  # one connection plus one overflow


@pytest.fixture
def overrides():
    return TINY_POOL


@pytest.fixture
def app(env, sessions, publisher, overrides):
    settings = load_settings({**env, **overrides})
    return create_app(settings, publisher=publisher, test_config={"TESTING": True})


def _refusals(client, reason: str = "db_pool") -> float:
    scrape = client.get("/metrics")
    assert scrape.status_code == 200
    return value(parse(scrape.get_data(as_text=True)), "herald_edge_overload_refusals_total", reason=reason)


def _rows(sessions) -> tuple[int, ...]:
    with UnitOfWork(sessions) as uow:
        return tuple(uow.session.scalar(select(func.count()).select_from(model))
                     for model in (Message, Delivery, Outbox, IdempotencyKey))


def _hold_every_connection(app) -> list:
    """Check out all the edge's pooled connections (size + overflow), as a burst would."""
    engine = app.extensions["herald"].ports.sessions.kw["bind"]
    held = []
    for _ in range(engine.pool.size() + engine.pool._max_overflow):
        connection = engine.connect()
        connection.execute(text("SELECT 1"))
        held.append(connection)
    return held


def test_a_post_that_finds_no_free_connection_is_refused_and_writes_nothing(app, client, auth, sessions,
                                                                               publisher):
    business, somchai = auth.user("business", username="acme"), auth.user("mobile")
    headers = {**auth.headers(business), "Idempotency-Key": "overload-1"}
    send = {"to": [somchai.id], "body": "hello"}
    before_rows, before_refusals = _rows(sessions), _refusals(client)
    held = _hold_every_connection(app)
    try:
        refused = client.post("/v1/messages", json=send, headers=headers)
    finally:
        for connection in held:
            connection.close()
    assert refused.status_code == 503
    assert refused.mimetype == "application/problem+json"
    assert refused.json["code"] == "edge_overloaded" and refused.headers["Retry-After"] == "1"
    assert _rows(sessions) == before_rows and publisher.jobs == []
    assert _refusals(client) == before_refusals + 1
    # The unit of work never began: the same Idempotency-Key is fresh, not in flight.
    accepted = client.post("/v1/messages", json=send, headers=headers)
    assert accepted.status_code == 202, accepted.json
    assert _rows(sessions)[:3] == (before_rows[0] + 1, before_rows[1] + 1, before_rows[2] + len(publisher.jobs))


@pytest.mark.parametrize("overrides", [{"DB_POOL_SIZE": "1", "DB_POOL_TIMEOUT_SECONDS": "5",
                                        "EDGE_MAX_CONCURRENT_POSTS": "1", "EDGE_POST_WAIT_SECONDS": "0.1"}])
def test_a_post_past_the_concurrency_cap_is_refused_while_the_admitted_one_completes(app, client, auth,
                                                                                    sessions):
    slot_taken = threading.Event()
    # After web.overload's hook (registered first): this POST holds the slot.
    app.before_request(lambda: slot_taken.set() if request.method == "POST" else None)
    business, somchai = auth.user("business", username="acme"), auth.user("mobile")
    headers, send = auth.headers(business), {"to": [somchai.id], "body": "hello"}
    before_rows, before_refusals = _rows(sessions), _refusals(client, "in_flight")
    held = _hold_every_connection(app)
    first: list = []
    admitted = threading.Thread(target=lambda: first.append(app.test_client().post("/v1/messages", json=send,
                                                                                   headers=headers)))
    try:
        admitted.start()
        assert slot_taken.wait(5)  # the first POST holds the one slot, then waits for a connection
        refused = client.post("/v1/messages", json=send, headers=headers)
    finally:
        for connection in held:
            connection.close()
    admitted.join(10)
    assert refused.status_code == 503, refused.json
    assert refused.json["code"] == "edge_overloaded" and refused.headers["Retry-After"] == "1"
    assert _refusals(client, "in_flight") == before_refusals + 1
    assert first[0].status_code == 202  # admitted, it got its connection once one was free
    assert _rows(sessions)[0] == before_rows[0] + 1
    # The slot came back: the next POST is accepted.
    assert client.post("/v1/messages", json=send, headers=headers).status_code == 202


def test_a_socket_send_that_finds_no_free_connection_is_answered_with_an_error_frame(app, auth, sessions):
    somchai = auth.user("mobile")
    frame = parse_client_frame(json.dumps({"type": "send", "conversation_id": 1, "body": "hi",
                                           "client_msg_id": "c-1"}), 10_000)
    before_rows = _rows(sessions)
    held = _hold_every_connection(app)
    try:
        answers = commands.handle(app.extensions["herald"], somchai.id, frame, None)
    finally:
        for connection in held:
            connection.close()
    assert [(a["type"], a["code"], a["client_msg_id"]) for a in answers] == [("error", "edge_overloaded", "c-1")]
    assert _rows(sessions) == before_rows
