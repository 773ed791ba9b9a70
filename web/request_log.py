"""Every HTTP request logged once, and the ids the request passes on (D51).

Before anything else runs, the request gets its id — the client's
`X-Request-ID` when it is short and plain, a new one otherwise — and its
W3C `traceparent` (as sent, or the server span's when tracing is on); both
are bound to the log context, so every line logged for the request and
every job written for it (usecases.outbox.write_jobs) carries them. The
response returns the id in `X-Request-ID`.

The line is written at teardown, which Flask runs exactly once per
request, whatever failed: method, route (the URL rule's template, not the
path), status and duration. A WebSocket is logged at open and at close
instead (`socket_opened` / `socket_closed`).
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from telemetry import context, tracing

log = logging.getLogger("herald.http")
HEADER = "X-Request-ID"


def init_app(app: Flask) -> None:
    """Register first, so the id is bound before any other hook can fail."""
    app.before_request(_begin)
    app.after_request(_answer)
    app.teardown_request(_end)


def _begin() -> None:
    g.request_started = time.perf_counter()
    context.clear()
    request_id = context.request_id_from(request.headers.get(HEADER))
    sent_traceparent = context.valid_traceparent(request.headers.get("traceparent"))
    span, traceparent = tracing.start_span(
        f"{request.method} {_route() or ''}".strip(), tracing.SERVER, sent_traceparent,
        {"http.request.method": request.method, "http.route": _route(), "url.path": request.path})
    g.request_span = span
    context.bind(request_id=request_id, traceparent=traceparent)


def _answer(response: Response) -> Response:
    request_id = context.current().get("request_id")
    if request_id:
        response.headers[HEADER] = request_id
    g.response_status = response.status_code
    return response


def _end(error: BaseException | None) -> None:
    started = g.pop("request_started", None)
    if started is None:  # the request ended before `_begin` ran
        return
    status = g.pop("response_status", 500)
    tracing.end_span(g.pop("request_span", None), error=error, attributes={"http.response.status_code": status})
    if not g.pop("socket_started", None):  # a socket logged its own open and close
        level = logging.WARNING if status >= 500 else logging.INFO
        log.log(level, "%s %s %s", request.method, request.path, status,
                extra={"method": request.method, "route": _route(), "path": request.path, "status": status,
                       "duration_ms": round((time.perf_counter() - started) * 1000, 2)})
    context.clear()


def socket_opened(user_id: int) -> None:
    """Log a WebSocket's open (the request's own line is left out)."""
    context.bind(user_id=user_id)
    g.socket_started = time.perf_counter()
    log.info("socket open", extra={"method": request.method, "route": _route(), "path": request.path})


def socket_closed() -> None:
    log.info("socket closed", extra={
        "route": _route(), "duration_ms": round((time.perf_counter() - g.socket_started) * 1000, 2)})


def _route() -> str | None:
    return request.url_rule.rule if request.url_rule is not None else None
