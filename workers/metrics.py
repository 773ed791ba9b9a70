"""The workers' metrics: every job counted by actor and outcome and timed
(`JobMetrics`, Dramatiq middleware), push sends by the provider's answer,
and the exposition port each worker pool serves (a process Dramatiq forks
beside its workers, reading every worker process's values from
PROMETHEUS_MULTIPROC_DIR).

Ours rather than `dramatiq.middleware.prometheus.Prometheus` (D46): that
one counts errors and retries as separate totals without an outcome label,
times in milliseconds, reads its port and folder from environment variables
of its own at import time, and clears nothing of its files per run.
"""

from __future__ import annotations

import logging
import os
import time

from dramatiq.middleware import Middleware

from metrics.workers import JOB_DURATION, JOBS, PUSH_SENDS

log = logging.getLogger(__name__)
_STARTED = "herald_started"  # the key of a job's start time on its message proxy


class JobMetrics(Middleware):
    """Add before Retries: `after_*` hooks run in reverse order, so Retries
    has decided (message.failed) when this one counts."""

    def __init__(self, metrics_dir: str | None = None, port: int = 0):
        self._metrics_dir = metrics_dir
        self._port = port

    @property
    def forks(self):
        # The exposition server needs the processes' shared folder to see them.
        return [serve_worker_metrics] if self._port and self._metrics_dir else []

    def before_process_message(self, broker, message):
        setattr(message, _STARTED, time.perf_counter())

    def after_process_message(self, broker, message, *, result=None, exception=None):
        started = getattr(message, _STARTED, None)
        if started is not None:
            JOB_DURATION.labels(message.actor_name).observe(time.perf_counter() - started)
        if exception is None:
            outcome = "succeeded"
        else:
            outcome = "failed" if message.failed else "retried"
        JOBS.labels(message.actor_name, outcome).inc()

    def after_skip_message(self, broker, message):
        JOBS.labels(message.actor_name, "skipped").inc()

    def after_worker_shutdown(self, broker, worker):
        if self._metrics_dir:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid(), self._metrics_dir)


def serve_worker_metrics() -> None:
    """The fork function: serve the pool's metrics on WORKER_METRICS_PORT until stopped."""
    from wsgiref.simple_server import make_server

    from prometheus_client import make_wsgi_app
    from prometheus_client.multiprocess import MultiProcessCollector
    from prometheus_client.registry import CollectorRegistry

    from workers.broker import settings

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=settings.metrics_dir)
    server = make_server("0.0.0.0", settings.worker_metrics_port, make_wsgi_app(registry))
    log.info("worker metrics on :%d/metrics", settings.worker_metrics_port)
    server.serve_forever()


class CountedSender:
    """A push sender that counts each device's send by the provider's answer:
    the status it returns (sent, logged) or the kind of error it raises."""

    def __init__(self, sender):
        self._sender = sender

    def send(self, payload):
        try:
            status = self._sender.send(payload)
        except Exception as error:
            PUSH_SENDS.labels(_ANSWERS.get(type(error).__name__, "error")).inc()
            raise
        PUSH_SENDS.labels(status if status in ("sent", "logged") else "other").inc()
        return status


# Error classes of workers.push_sender / pipeline.errors → a bounded answer label.
_ANSWERS = {"PushTokenUnregistered": "unregistered", "PushRejected": "rejected", "CircuitOpen": "breaker_open",
            "PushCircuitOpen": "breaker_open", "ProviderBusy": "busy", "PushProviderUnavailable": "unavailable"}
