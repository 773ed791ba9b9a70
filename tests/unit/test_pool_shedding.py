"""The pool's bounded wait ends in EdgeOverloaded (a 503 with Retry-After at
the edge), not SQLAlchemy's TimeoutError: the one place the timeout is mapped."""

from __future__ import annotations

import time

import pytest

from db.engine import EXHAUSTED_RETRY_AFTER_SECONDS, SheddingQueuePool
from pipeline.errors import EdgeOverloaded, Overloaded, TransientError


class StandInConnection:
    """A DBAPI connection as far as the pool cares: reset on return, closed at disposal."""

    def rollback(self):
        pass

    def close(self):
        pass


def test_a_checkout_that_waits_past_the_timeout_is_refused_then_served_once_released():
    pool = SheddingQueuePool(StandInConnection, pool_size=1, max_overflow=0, timeout=0.05)
    held = pool.connect()
    started = time.monotonic()
    with pytest.raises(EdgeOverloaded) as refused:
        pool.connect()
    assert time.monotonic() - started < 1  # the bounded wait, not SQLAlchemy's 30 s
    error = refused.value
    assert (error.status, error.code, error.reason) == (503, "edge_overloaded", "db_pool")
    assert error.extra == {"retry_after": EXHAUSTED_RETRY_AFTER_SECONDS}
    assert isinstance(error, Overloaded) and isinstance(error, TransientError)  # workers retry it
    held.close()
    pool.connect().close()


def test_a_recreated_pool_still_sheds():
    pool = SheddingQueuePool(StandInConnection, pool_size=1, max_overflow=0, timeout=0.05).recreate()
    held = pool.connect()
    with pytest.raises(EdgeOverloaded):
        pool.connect()
    held.close()
