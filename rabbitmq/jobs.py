"""Jobs in Dramatiq's wire format, built without an actor object.

The ids a job carries from the request that started it (D51) ride in the
message's options: `request_id`, `traceparent` and `message_id`; the
worker's JobContext middleware binds them to the log context of the run.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import dramatiq

from pipeline.jobs import Job
from telemetry import tracing


def to_message(job: Job, traceparent: str | None = None) -> dramatiq.Message:
    options = {key: value for key, value in (("request_id", job.request_id),
                                             ("traceparent", traceparent or job.traceparent),
                                             ("message_id", job.message_id)) if value is not None}
    return dramatiq.Message(queue_name=job.queue_name, actor_name=job.actor_name, args=tuple(job.args),
                            kwargs={}, options=options)


def encode(job: Job) -> bytes:
    return to_message(job).encode()


@contextmanager
def publishing(job: Job) -> Iterator[dramatiq.Message]:
    """The job's message, inside its publish span when tracing is on (the
    message then carries the publish span's traceparent, so the actor's
    span is its child)."""
    if not tracing.enabled():
        yield to_message(job)
        return
    with tracing.span(f"publish {job.actor_name}", tracing.PRODUCER, job.traceparent,
                      {"messaging.system": "rabbitmq", "messaging.destination.name": job.queue_name,
                       "messaging.operation.type": "send", "herald.request_id": job.request_id,
                       "herald.message_id": job.message_id}) as traceparent:
        yield to_message(job, traceparent)
