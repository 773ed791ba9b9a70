"""Every error leaves the edge as problem-details JSON (RFC 9457) with a
stable `code`. Views raise; this module is the one place that answers."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from flask_limiter.errors import RateLimitExceeded
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from sqlalchemy.exc import InterfaceError, OperationalError

from metrics.edge import EDGE_OVERLOAD_REFUSALS
from pipeline.errors import DependencyUnavailable, EdgeOverloaded, HeraldError, RateLimited, ValidationFailed

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"

# Werkzeug's own errors (routing, body size) mapped to our stable codes.
_HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
               415: "unsupported_media_type", 429: "rate_limited"}


def problem(status: int, code: str, title: str, detail: str, headers: dict | None = None, **extra):
    body = {"type": f"https://herald.dev/problems/{code}", "title": title, "status": status,
            "detail": detail, "code": code, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def validation_errors(error: ValidationError) -> list[dict]:
    return [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in error.errors()]


def init_app(app: Flask) -> None:
    @app.errorhandler(HeraldError)
    def herald_error(error: HeraldError):
        if error.status >= 500:
            log.warning("answering %s: %s", error.code, error.detail)
        headers = {"Retry-After": str(error.extra.pop("retry_after"))} if "retry_after" in error.extra else None
        return problem(error.status, error.code, error.title, error.detail, headers, **error.extra)

    @app.errorhandler(EdgeOverloaded)
    def edge_overloaded(error: EdgeOverloaded):
        # Raised by the database pool's bounded wait (db.engine) or the cap
        # on concurrent writes (web.overload), before any statement: shed,
        # count, and say when to come back. Not logged per request: under
        # overload that would add work; the counter tells.
        EDGE_OVERLOAD_REFUSALS.labels(error.reason).inc()
        headers = {"Retry-After": str(error.extra.pop("retry_after", 1))}
        return problem(error.status, error.code, error.title, error.detail, headers, **error.extra)

    @app.errorhandler(ValidationError)
    def pydantic_error(error: ValidationError):
        failed = ValidationFailed()
        return problem(422, failed.code, failed.title, "the request body is not valid",
                       errors=validation_errors(error))

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(error: RateLimitExceeded):
        limited = RateLimited()
        response = problem(429, limited.code, limited.title, f"rate limit exceeded: {error.description}")
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = _HTTP_CODES.get(error.code or 500, "http_error")
        return problem(error.code or 500, code, error.name, error.description or error.name)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(error: Exception):
        # The database is restarting, unreachable, or chose this transaction
        # as a deadlock victim: nothing was committed, so a retry is safe.
        log.warning("database unavailable: %s", error.__class__.__name__)
        unavailable = DependencyUnavailable()
        return problem(503, unavailable.code, unavailable.title, "the database is unavailable; retry shortly",
                       {"Retry-After": "1"})

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error")
        return problem(500, "internal_error", "Internal error", "an unexpected error occurred")
