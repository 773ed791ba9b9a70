"""Can the broker be reached right now? (the edge's readiness check)"""

from __future__ import annotations

import pika


def broker_answers(url: str, timeout_seconds: float = 2.0) -> bool:
    """True when an AMQP connection to `url` opens within the timeout."""
    params = pika.URLParameters(url)
    params.socket_timeout = params.blocked_connection_timeout = timeout_seconds
    params.connection_attempts = 1
    try:
        pika.BlockingConnection(params).close()
        return True
    except Exception:
        return False
