"""Jobs in Dramatiq's wire format, built without an actor object."""

from __future__ import annotations

import dramatiq

from pipeline.jobs import Job


def to_message(job: Job) -> dramatiq.Message:
    return dramatiq.Message(queue_name=job.queue_name, actor_name=job.actor_name, args=tuple(job.args),
                            kwargs={}, options={})


def encode(job: Job) -> bytes:
    return to_message(job).encode()
