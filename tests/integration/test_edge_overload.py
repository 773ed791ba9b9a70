"""When the edge itself is the bottleneck it sheds: a request that finds no
free database connection within DB_POOL_TIMEOUT_SECONDS is answered 503
edge_overloaded with Retry-After, and nothing was written (D89)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from config import load_settings
from db.engine import UnitOfWork
from db.models import Delivery, IdempotencyKey, Message, Outbox
from tests.support.scrapes import parse, value
from web import create_app


@pytest.fixture
def app(env, sessions, publisher):
    # One connection plus one overflow, and a fifth of a second's wait.
    settings = load_settings({**env, "DB_POOL_SIZE": "1", "DB_POOL_TIMEOUT_SECONDS": "0.2"})
    return create_app(settings, publisher=publisher, test_config={"TESTING": True})


def _refusals(client) -> float:
    scrape = client.get("/metrics")
    assert scrape.status_code == 200
    return value(parse(scrape.get_data(as_text=True)), "herald_edge_overload_refusals_total", reason="db_pool")


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
