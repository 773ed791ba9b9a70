"""The ids a job brought along, on every line logged while it runs (D51).

Dramatiq middleware, first in the list (its `before_*` hooks run first and
its `after_*` hooks last): binds the job's `request_id`, `trace_id`,
`message_id`, `job_id` and `actor` to the log context of the worker thread
for the run — so the actor's lines, Dramatiq's own ("Failed to process
message …"), the push attempts and any job the run writes through the
outbox (which then carries them on) have them — starts the actor span when
tracing is on, and logs one line per run with its outcome and duration.
"""

from __future__ import annotations

import logging
import threading
import time

from dramatiq.middleware import Middleware

from telemetry import context, tracing

log = logging.getLogger("herald.jobs")


def job_fields(message) -> dict:
    """The log fields of a Dramatiq message (also what the dead-letter record keeps)."""
    options = message.options
    return {"request_id": options.get("request_id"),
            "traceparent": context.valid_traceparent(options.get("traceparent")),
            "message_id": options.get("message_id"), "job_id": message.message_id, "actor": message.actor_name}


class JobContext(Middleware):
    def __init__(self):
        self._runs = threading.local()  # a worker thread runs one job at a time

    def before_process_message(self, broker, message):
        fields = job_fields(message)
        span, traceparent = tracing.start_span(
            f"{message.actor_name} process", tracing.CONSUMER, fields["traceparent"],
            {"messaging.system": "rabbitmq", "messaging.destination.name": message.queue_name,
             "messaging.operation.type": "process", "messaging.message.id": message.message_id,
             "herald.request_id": fields["request_id"], "herald.message_id": fields["message_id"]})
        # The actor span's traceparent: jobs this run writes are its children.
        token = context.bind(**{**fields, "traceparent": traceparent})
        self._runs.current = (token, span, time.perf_counter())

    def after_process_message(self, broker, message, *, result=None, exception=None):
        self._finish(message, "done" if exception is None else type(exception).__name__, exception)

    def after_skip_message(self, broker, message):
        self._finish(message, "skipped", None)

    def _finish(self, message, outcome: str, exception: BaseException | None) -> None:
        run = getattr(self._runs, "current", None)
        if run is None:
            return
        self._runs.current = None
        token, span, started = run
        try:
            log.info("job %s %s", message.actor_name, outcome, extra={
                "outcome": outcome, "attempt": message.options.get("retries", 0) + 1,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2)})
            tracing.end_span(span, error=exception)
        finally:
            context.unbind(token)
