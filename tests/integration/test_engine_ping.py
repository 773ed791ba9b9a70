"""The pool pings only connections that sat idle: a connection used moments
ago goes straight to work, one idle past PING_IDLE_SECONDS is pinged, and a
dead one is replaced before anyone uses it."""

from __future__ import annotations

from sqlalchemy import text

import db.engine as engine_module
from db.engine import make_engine


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _pings(engine, monkeypatch):
    pings: list[object] = []
    real = engine.dialect.do_ping

    def counting(dbapi_connection):
        pings.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return pings


def test_a_connection_used_moments_ago_is_not_pinged(database_url, monkeypatch):
    engine = make_engine(database_url, pool_size=1)
    try:
        pings = _pings(engine, monkeypatch)
        first = _backend_pid(engine)
        assert _backend_pid(engine) == first
        assert pings == []
    finally:
        engine.dispose()


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(database_url, monkeypatch):
    engine = make_engine(database_url, pool_size=1)
    try:
        pings = _pings(engine, monkeypatch)
        clock = [0.0]
        real_monotonic = engine_module.time.monotonic
        monkeypatch.setattr(engine_module.time, "monotonic", lambda: real_monotonic() + clock[0])
        first = _backend_pid(engine)
        clock[0] += engine_module.PING_IDLE_SECONDS + 1
        assert _backend_pid(engine) == first  # idle: pinged, alive, kept
        assert len(pings) == 1

        other = make_engine(database_url)
        with other.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        other.dispose()
        clock[0] += engine_module.PING_IDLE_SECONDS + 1
        second = _backend_pid(engine)  # the ping finds it dead: a new connection, no error
        assert second != first
        assert len(pings) == 2
    finally:
        engine.dispose()
