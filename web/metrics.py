"""The edge's HTTP metrics: every request counted by its route template
(the URL rule, never the path with its ids), method and status, and timed;
429s and idempotent replays counted by route. `/metrics` itself is served
by the ops blueprint."""

from __future__ import annotations

import time

from flask import Flask, g, request

from metrics.edge import HTTP_DURATION, HTTP_REQUESTS, IDEMPOTENT_REPLAYS, RATE_LIMITED

# A socket's "request" lasts as long as the socket: not a latency.
UNTIMED_ENDPOINTS = frozenset({"ws.socket"})


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_count)


def _start() -> None:
    g.herald_started = time.perf_counter()


def _count(response):
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    method = request.method
    HTTP_REQUESTS.labels(route, method, str(response.status_code)).inc()
    started = g.get("herald_started")
    if started is not None and request.endpoint not in UNTIMED_ENDPOINTS:
        HTTP_DURATION.labels(route, method).observe(time.perf_counter() - started)
    if response.status_code == 429:
        RATE_LIMITED.labels(route).inc()
    elif response.headers.get("Idempotent-Replayed") == "true":
        IDEMPOTENT_REPLAYS.labels(route).inc()
    return response
