"""Dead letters, as Dramatiq middleware: each failed attempt is noted in
the job's options (first and last error, bounded), and a job the worker
rejects — retries exhausted, or a PermanentError the retry policy refuses
to retry — becomes one `dead_letters` row.

Recorded in `before_nack`, not `after_nack`: the row is committed before
the worker hands RabbitMQ the rejection, so a crash in between leaves the
job unacknowledged (RabbitMQ redelivers it, it fails again, the insert is
idempotent on the job id) instead of a dead job with no record.
"""

from __future__ import annotations

import logging
import time
import traceback
from datetime import datetime, timezone
from typing import Callable

from dramatiq.common import q_name
from dramatiq.middleware import Middleware

from metrics.workers import DEAD_LETTERS
from pipeline.failures import error_text, note_failure
from telemetry import context
from usecases.operations.dead_letters import FailedJob
from usecases.operations.failed_jobs import record_failed_job
from usecases.ports import SessionFactory
from workers.job_context import job_fields

log = logging.getLogger(__name__)
FAILURES = "herald_failures"  # the key of the failure record in a job's options


class DeadLetters(Middleware):
    """Add after Retries: `after_*` hooks run in reverse order, so the
    failure is noted before Retries re-enqueues the job with its options."""

    def __init__(self, sessions: Callable[[], SessionFactory]):
        self._sessions = sessions  # resolved at first use, never at import time

    def after_process_message(self, broker, message, *, result=None, exception=None):
        if exception is None:
            return
        text = error_text(repr(exception), "".join(traceback.format_exception(exception)))
        message.options[FAILURES] = note_failure(message.options.get(FAILURES), reason=type(exception).__name__,
                                                 text=text, at_ms=int(time.time() * 1000))

    def before_nack(self, broker, message):
        # The consumer thread nacks, outside the run: bind the job's ids for these lines.
        with context.bound(**job_fields(message)):
            self._record(message)

    def _record(self, message) -> None:
        job = failed_job(message)
        try:
            recorded = record_failed_job(self._sessions(), job, datetime.now(timezone.utc))
        except Exception:
            # RabbitMQ's dead-letter queue still holds the job (for 7 days).
            log.critical("could not record dead letter for job %s (%s)", job.job_id, job.actor_name, exc_info=True)
            return
        if recorded:
            DEAD_LETTERS.labels(job.actor_name, job.reason).inc()
            log.warning("job %s (%s%s) is a dead letter: %s after %d attempts", job.job_id, job.actor_name,
                        tuple(job.args), job.reason, job.attempts)


def failed_job(message) -> FailedJob:
    """What a rejected Dramatiq message says about its failures."""
    noted = message.options.get(FAILURES) or {}
    first_ms = noted.get("first_failed_at_ms")
    traceparent = job_fields(message)["traceparent"]
    return FailedJob(
        job_id=message.message_id, queue_name=q_name(message.queue_name), actor_name=message.actor_name,
        args=list(message.args), reason=noted.get("reason") or _unnoted_reason(message),
        attempts=noted.get("attempts", 0), first_error=noted.get("first_error"),
        last_error=noted.get("last_error"),
        first_failed_at=datetime.fromtimestamp(first_ms / 1000, timezone.utc) if first_ms else None,
        request_id=message.options.get("request_id"),
        trace_id=context.trace_id_of(traceparent) if traceparent else None)


def _unnoted_reason(message) -> str:
    # Failed without running (an unknown actor, an age limit): the worker
    # stuffed the exception, if any, into the message proxy.
    exception = getattr(message, "_exception", None)
    return type(exception).__name__ if exception is not None else "Rejected"
