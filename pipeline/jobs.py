"""Jobs as plain values, and the actor names they are addressed to.

The wire contract between the edge and the workers: every actor pins
`actor_name=` to one of these names, so renaming a Python function cannot
silently break messages already in the queues. `rabbitmq.jobs` turns a Job
into a Dramatiq message.
"""

from __future__ import annotations

from dataclasses import dataclass

DELIVER_MESSAGE = "deliver_message"
# One actor name per lane, same work: Dramatiq serves the jobs a worker
# process has prefetched by actor priority, so a high job overtakes the
# low ones already waiting in that process (one shared work queue).
DELIVER_MESSAGE_HIGH = "deliver_message_high"
DELIVER_MESSAGE_LOW = "deliver_message_low"
DELIVERY_ACTORS = {"high": DELIVER_MESSAGE_HIGH, "normal": DELIVER_MESSAGE, "low": DELIVER_MESSAGE_LOW}
# Dramatiq runs lower numbers first.
DELIVERY_ACTOR_PRIORITY = {DELIVER_MESSAGE_HIGH: 0, DELIVER_MESSAGE: 10, DELIVER_MESSAGE_LOW: 20}
SEND_PUSH = "send_push"

PUSH_QUEUE = "push"
MAINTENANCE_QUEUE = "maintenance"


@dataclass(frozen=True)
class Job:
    """One job for one queue; `outbox_id` ties it to its outbox row."""

    outbox_id: int | None
    queue_name: str
    actor_name: str
    args: tuple

FAN_OUT_EVENT = "fan_out_event"
