"""Jobs as plain values: what the outbox holds and the publishers send.

Names of queues and actors are in `pipeline.contract`; `rabbitmq.jobs`
turns a Job into a Dramatiq message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class JobSpec:
    """A job to write into the outbox: where it goes and what it carries.

    `available_at` None means "now": the edge's publisher sends it after
    commit and the sweeper steps in after the grace period; a later time
    (a scheduled send) waits for the sweeper.
    """

    queue_name: str
    actor_name: str
    args: tuple
    message_id: int | None = None
    available_at: datetime | None = None


@dataclass(frozen=True)
class Job:
    """One committed job for one queue; `outbox_id` ties it to its outbox row.

    `request_id` and `traceparent` are those of the request (or job) that
    wrote it: they go with the job into the worker's logs and traces.
    """

    outbox_id: int | None
    queue_name: str
    actor_name: str
    args: tuple
    message_id: int | None = None
    request_id: str | None = None
    traceparent: str | None = None
