"""Fixtures in the flaskr style (app, client, auth) on the real services."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone

import pytest
import redis as redis_lib
from psycopg.errors import DeadlockDetected
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from config import load_settings
from usecases.accounts.users import create_user
from db.engine import UnitOfWork, make_engine, make_session_factory
from db.migrate import upgrade
from db.models import Base
from tests.support import services
from web import create_app
from web.auth.tokens import issue_access_token

JWT_SECRET = "test-secret-" + "x" * 40
# Pub/sub channels are global to the Redis server: each run gets its own names.
REDIS_NAMESPACE = f"herald-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def database_url():
    url = services.create_database()
    upgrade(url)
    yield url
    services.drop_database(url)


@pytest.fixture(scope="session")
def broker_url():
    url = services.create_vhost()
    yield url
    services.delete_vhost(url)


@pytest.fixture(scope="session")
def redis_url():
    url = services.redis_url()
    redis_lib.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def env(database_url, redis_url, tmp_path):
    """The environment of a full-mode process, minus the broker."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JWT_SECRET": JWT_SECRET,
        "HERALD_DATA_DIR": str(tmp_path / "data"),
        "RATE_LIMITS": "off",
        "HERALD_DEMO": "off",
        "REDIS_NAMESPACE": REDIS_NAMESPACE,
    }


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine, redis_url):
    _truncate_all(engine)
    _forget_presence(redis_url)
    return make_session_factory(engine)


def _forget_presence(redis_url: str) -> None:
    """User ids restart with every test: presence a socket of an earlier test
    left in this run's namespace would make a new user look online."""
    client = redis_lib.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{REDIS_NAMESPACE}*", count=1000))
    if keys:
        client.delete(*keys)


def _truncate_all(engine, attempts: int = 5) -> None:
    """Empty every table. An e2e stack's processes may still be reading (a
    socket closing at the end of the previous test tells contacts), and
    PostgreSQL may pick our TRUNCATE as the victim of that deadlock: retry."""
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    for attempt in range(attempts):
        try:
            with engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return
        except OperationalError as e:
            if not isinstance(e.orig, DeadlockDetected) or attempt == attempts - 1:
                raise


class RecordingPublisher:
    """Stands in for RabbitMQ where a test exercises only the edge."""

    def __init__(self):
        self.jobs = []

    def submit(self, jobs):
        self.jobs.extend(jobs)

    def flush(self, timeout=10.0):
        return True


@pytest.fixture
def publisher():
    return RecordingPublisher()


@pytest.fixture
def settings(env):
    return load_settings(env)


@pytest.fixture
def app(settings, sessions, publisher):
    return create_app(settings, publisher=publisher, test_config={"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


class Auth:
    """Creates users and bearer headers for them."""

    def __init__(self, app, sessions):
        self.app = app
        self.sessions = sessions
        self._phones = iter(f"+6681234{n:04d}" for n in range(10_000))

    def user(self, role: str = "mobile", **fields):
        if role == "mobile":
            fields.setdefault("phone", next(self._phones))
        with UnitOfWork(self.sessions) as uow:
            user = create_user(uow.session, role=role, now=datetime.now(timezone.utc), **fields)
            uow.commit()
        return user

    def headers(self, user) -> dict:
        token = issue_access_token(self.app.extensions["herald"].tokens, user_id=user.id, role=user.role)
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth(app, sessions):
    return Auth(app, sessions)


@pytest.fixture(autouse=True)
def _revocation_watches_end_with_their_test(monkeypatch):
    """A revocation watch re-reads the database every minute for as long as
    the process lives; one left behind by an earlier test would add its
    statement to a later test's statement counts (tests/support/statement_counts.py)."""
    from web.auth.revocations import RevocationWatch
    started = []
    original = RevocationWatch.start

    def start(self):
        started.append(self)
        original(self)

    monkeypatch.setattr(RevocationWatch, "start", start)
    yield
    for watch in started:
        watch.stop()
