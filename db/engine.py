"""Engines, sessions and the unit of work.

Callers pass the URL in: nothing here reads settings.
"""

from __future__ import annotations

import time
from typing import Callable

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import PoolProxiedConnection, QueuePool

from pipeline.errors import EdgeOverloaded

# A pooled connection idle longer than this is pinged before use; one used
# more recently is not (SQLAlchemy's pool_pre_ping would cost a round trip
# on every checkout, ~4 % of the edge's CPU under load).
PING_IDLE_SECONDS = 5.0


def normalize_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# SQLAlchemy's own default: how long a checkout waits for a free connection.
# The edge passes a shorter wait (DB_POOL_TIMEOUT_SECONDS); workers keep this.
DEFAULT_POOL_TIMEOUT_SECONDS = 30.0
# What a refused caller is told to wait before retrying (Retry-After).
EXHAUSTED_RETRY_AFTER_SECONDS = 1


class SheddingQueuePool(QueuePool):
    """A QueuePool whose checkout, when no connection came free within the
    pool's timeout, raises EdgeOverloaded (a 503 with Retry-After at the
    edge, an error frame on a socket, a retried job in a worker) instead of
    SQLAlchemy's TimeoutError. The one place the timeout is translated: it
    happens before a unit of work's first statement, so nothing was written.
    (recreate() builds `self.__class__`, so a pool rebuilt after a
    disconnect sheds too.)"""

    def connect(self) -> PoolProxiedConnection:
        try:
            return super().connect()
        except exc.TimeoutError as e:
            raise EdgeOverloaded(f"no database connection came free within {self._timeout:g} s",
                                 retry_after=EXHAUSTED_RETRY_AFTER_SECONDS) from e


def make_engine(url: str, pool_size: int = 10, pool_timeout: float = DEFAULT_POOL_TIMEOUT_SECONDS) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and foreign keys.
    PostgreSQL gets `pool_size` connections plus as many overflow ones, and a
    checkout waits at most `pool_timeout` seconds (then EdgeOverloaded)."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, poolclass=SheddingQueuePool, pool_size=pool_size, max_overflow=pool_size,
                           pool_timeout=pool_timeout)
    _ping_when_idle(engine, PING_IDLE_SECONDS)
    return engine


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Pre-ping only connections that sat in the pool longer than `idle_seconds`.

    A dead connection found by the ping invalidates the pool (as
    pool_pre_ping does) and the checkout retries with a new one. A
    connection used moments before the server went away is not pinged: its
    first statement fails, SQLAlchemy sees the disconnect and invalidates
    the pool, and that one request fails as the ones in flight do.
    """
    @event.listens_for(engine, "checkin")
    def _stamp(_dbapi_connection, record) -> None:
        record.info["herald_checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, record, _proxy) -> None:
        checked_in_at = record.info.get("herald_checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at <= idle_seconds:
            return  # new, or used moments ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as e:
            if engine.dialect.is_disconnect(e, dbapi_connection, None):
                raise exc.InvalidatePoolError() from e
            raise


def on_pool_use(engine: Engine, checked_out: Callable[[], None], checked_in: Callable[[], None]) -> None:
    """Call `checked_out` / `checked_in` as the pool hands a connection out and
    takes it back (the metrics' connections in use: counted as it happens, as
    a scrape of one process could not see the other processes' pools)."""
    event.listen(engine, "checkout", lambda *_: checked_out())
    event.listen(engine, "checkin", lambda *_: checked_in())


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


class UnitOfWork:
    """A session that rolls back unless `commit()` is called."""

    def __init__(self, session_factory: sessionmaker[Session]):
        self._factory = session_factory
        self.session: Session | None = None

    def __enter__(self) -> "UnitOfWork":
        self.session = self._factory()
        return self

    def __exit__(self, *exc_info) -> None:
        assert self.session is not None
        # close() rolls back whatever was not committed; unlike rollback()
        # it leaves loaded objects readable after the block.
        self.session.close()

    def commit(self) -> None:
        assert self.session is not None
        self.session.commit()
