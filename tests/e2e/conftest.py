"""A full-mode stack of real processes: gunicorn (gevent) and dramatiq, on
the real PostgreSQL, RabbitMQ and Redis."""

from __future__ import annotations

import pytest

from tests.conftest import JWT_SECRET, REDIS_NAMESPACE, _truncate_all
from tests.support.processes import start_dramatiq, start_gunicorn


class Stack:
    def __init__(self, base_url: str, env: dict, web, worker):
        self.base_url = base_url
        self.ws_url = base_url.replace("http", "ws", 1)
        self.env = env
        self.web = web
        self.worker = worker


@pytest.fixture(scope="module")
def stack_env(database_url, broker_url, redis_url, tmp_path_factory):
    return {
        "DATABASE_URL": database_url,
        "BROKER_URL": broker_url,
        "REDIS_URL": redis_url,
        "JWT_SECRET": JWT_SECRET,
        "HERALD_DATA_DIR": str(tmp_path_factory.mktemp("data")),
        "RATE_LIMITS": "off",
        "REDIS_NAMESPACE": REDIS_NAMESPACE,
        "WS_PING_SECONDS": "5",
        "OUTBOX_SWEEP_AFTER_SECONDS": "2",
        "OUTBOX_SWEEP_INTERVAL_SECONDS": "1",
        # A failing job turns into a dead letter within a second.
        "RETRY_MAX": "1",
        "RETRY_MIN_BACKOFF_MS": "100",
        "RETRY_MAX_BACKOFF_MS": "200",
    }


def fresh_database(engine) -> None:
    """Empty the database before an edge process starts: it reads recent
    token revocations at start (D60), and user ids restart with every test,
    so a user an earlier test disabled must not be there to be read for
    the next test's user with the same id."""
    _truncate_all(engine)


@pytest.fixture(scope="module")
def stack(stack_env, engine, tmp_path_factory):
    fresh_database(engine)
    logs = tmp_path_factory.mktemp("logs")
    web, base_url = start_gunicorn(stack_env, logs)
    worker = start_dramatiq(stack_env, logs)
    yield Stack(base_url, stack_env, web, worker)
    web.stop()
    worker.stop()
