"""Operations: liveness and readiness."""

from __future__ import annotations

import pika
from flask import Blueprint, jsonify

from usecases.operations.readiness import database_answers
from web.resources import resources

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    """Alive: the process answers. Nothing else is checked."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Ready: the database, the broker and Redis are reachable."""
    checks = {"database": database_answers(resources().ports), "broker": _broker_ok(), "redis": _redis_ok()}
    ready = all(checks.values())
    response = jsonify({"status": "ready" if ready else "unavailable", "checks": checks})
    response.status_code = 200 if ready else 503
    return response


def _broker_ok() -> bool:
    url = resources().settings.broker_url
    if url is None:
        return True  # embedded: the broker lives in this process
    params = pika.URLParameters(url)
    params.socket_timeout = params.blocked_connection_timeout = 2
    params.connection_attempts = 1
    try:
        pika.BlockingConnection(params).close()
        return True
    except Exception:
        return False


def _redis_ok() -> bool:
    try:
        return bool(resources().realtime.ping())
    except Exception:
        return False
