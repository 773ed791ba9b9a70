"""Operations: liveness, readiness and the metrics."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from pipeline.errors import InvalidToken
from usecases.operations.readiness import database_answers
from web.resources import resources

bp = Blueprint("ops", __name__)
OK, DOWN, NOT_CONFIGURED = "ok", "down", "not_configured"


@bp.get("/healthz")
def healthz():
    """Alive: the process answers. Nothing else is checked."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Ready: every configured dependency answers. Embedded mode has no
    broker or Redis server to reach: those are `not_configured`."""
    res = resources()
    checks = {"database": OK if database_answers(res.ports) else DOWN,
              "broker": _state(res.readiness.broker_configured, res.broker_answers),
              "redis": _state(res.readiness.redis_configured, _redis_ok)}
    ready = DOWN not in checks.values()
    response = jsonify({"status": "ready" if ready else "unavailable", "checks": checks})
    response.status_code = 200 if ready else 503
    return response


@bp.get("/metrics")
def metrics():
    """Prometheus exposition: this edge's (all its processes') metrics and the pipeline's gauges."""
    scrape = resources().scrape
    if scrape.token and request.headers.get("Authorization") != f"Bearer {scrape.token}":
        raise InvalidToken("/metrics needs the bearer token of METRICS_TOKEN")
    body, content_type = scrape.render()
    return Response(body, content_type=content_type)


def _state(configured: bool, answers) -> str:
    if not configured:
        return NOT_CONFIGURED
    return OK if answers() else DOWN


def _redis_ok() -> bool:
    try:
        return bool(resources().ports.realtime.ping())
    except Exception:
        return False
