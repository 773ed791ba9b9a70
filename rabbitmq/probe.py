"""Can the broker be reached right now, and what do its queues hold?
(the edge's readiness check; `herald status`)"""

from __future__ import annotations

import pika


def _parameters(url: str, timeout_seconds: float) -> pika.URLParameters:
    params = pika.URLParameters(url)
    params.socket_timeout = params.blocked_connection_timeout = timeout_seconds
    params.connection_attempts = 1
    return params


def measure_queues(connection: pika.BlockingConnection, queue_names: list[str]) -> dict[str, tuple[int, int]]:
    """(ready messages, consumers) per queue by passive declares; a queue not
    declared (yet) is empty with no consumers (its 404 closes the channel:
    the next queue gets a new one)."""
    figures = {}
    channel = connection.channel()
    for name in queue_names:
        try:
            method = channel.queue_declare(queue=name, passive=True).method
            figures[name] = (method.message_count, method.consumer_count)
        except pika.exceptions.ChannelClosedByBroker:
            figures[name] = (0, 0)
            channel = connection.channel()
    if channel.is_open:
        channel.close()
    return figures


def broker_answers(url: str, timeout_seconds: float = 2.0) -> bool:
    """True when an AMQP connection to `url` opens within the timeout."""
    try:
        pika.BlockingConnection(_parameters(url, timeout_seconds)).close()
        return True
    except Exception:
        return False


def queue_figures(url: str, queue_names: list[str], timeout_seconds: float = 2.0) -> dict[str, tuple[int, int]] | None:
    """Each queue's (ready messages, consumers), measured now by passive
    declares on one connection; None when the broker cannot be reached.
    A queue that does not exist (yet) counts as empty with no consumers."""
    try:
        connection = pika.BlockingConnection(_parameters(url, timeout_seconds))
    except Exception:
        return None
    try:
        return measure_queues(connection, queue_names)
    except Exception:
        return None
    finally:
        if connection.is_open:
            connection.close()
