"""A cap on the writing requests one edge process runs at once (D90).

Under gevent every accepted request is a greenlet; past the process's
capacity they all become runnable at once, and a greenlet holding a
database connection waits for the CPU behind hundreds of others — so
connections are held longer, the pool empties, and the pool's bounded wait
(D89) refuses nearly everything while what it admits is slow. Admitting at
most `limit` POSTs at a time keeps the runnable set, and so the time a
connection is held, small; the rest wait for a slot, not runnable, at most
`wait_seconds`, then get the same 503 `edge_overloaded` with Retry-After.
Reads, sockets and probes are not capped.
"""

from __future__ import annotations

import threading

from flask import Flask, g, request

from pipeline.errors import EdgeOverloaded

RETRY_AFTER_SECONDS = 1


def init_app(app: Flask, limit: int, wait_seconds: float) -> None:
    """Cap this process's concurrent POSTs at `limit` (0: no cap). Under
    gunicorn's gevent worker `threading` is gevent's: a waiter yields."""
    if limit <= 0:
        return
    slots = threading.BoundedSemaphore(limit)

    @app.before_request
    def _take_slot() -> None:
        if request.method != "POST":
            return
        if not slots.acquire(timeout=wait_seconds):
            raise EdgeOverloaded(f"more than {limit} writes in progress here for {wait_seconds:g} s",
                                 reason="in_flight", retry_after=RETRY_AFTER_SECONDS)
        g.herald_post_slot = True

    @app.teardown_request
    def _give_slot_back(_error) -> None:
        if g.pop("herald_post_slot", False):
            slots.release()
