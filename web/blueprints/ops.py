"""Operations: liveness and readiness."""

from __future__ import annotations

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
    checks = {"database": database_answers(resources().ports), "broker": resources().broker_answers(), "redis": _redis_ok()}
    ready = all(checks.values())
    response = jsonify({"status": "ready" if ready else "unavailable", "checks": checks})
    response.status_code = 200 if ready else 503
    return response


def _redis_ok() -> bool:
    try:
        return bool(resources().ports.realtime.ping())
    except Exception:
        return False
