"""The wire contract between the edge and the workers, in one place.

Every queue name, actor name and lane table lives here, and nowhere else:
the edge reaches workers by these names, never by import, and every actor
pins `actor_name=` to one of them, so renaming a Python function cannot
silently break jobs already in the queues.

Each priority is its own lane (a separate queue), so a backlog of `low`
never sits in front of `high`. A stable hash of the ordering key picks the
partition: the recipient for one-way messages, the conversation for chat
and its events — `recipient_queue` and `conversation_queue` spell those
keys once, since jobs of one key must share a queue to keep their order.
"""

from __future__ import annotations

import zlib

HIGH = "high"
NORMAL = "normal"
LOW = "low"
PRIORITIES = (HIGH, NORMAL, LOW)

PUSH_QUEUE = "push"
WEBHOOKS_QUEUE = "webhooks"

DELIVER_MESSAGE = "deliver_message"
# One actor name per lane, same work: Dramatiq serves the jobs a worker
# process has prefetched by actor priority, so a high job overtakes the
# low ones already waiting in that process (one shared work queue).
DELIVER_MESSAGE_HIGH = "deliver_message_high"
DELIVER_MESSAGE_LOW = "deliver_message_low"
DELIVERY_ACTORS = {HIGH: DELIVER_MESSAGE_HIGH, NORMAL: DELIVER_MESSAGE, LOW: DELIVER_MESSAGE_LOW}
# Dramatiq runs lower numbers first.
DELIVERY_ACTOR_PRIORITY = {DELIVER_MESSAGE_HIGH: 0, DELIVER_MESSAGE: 10, DELIVER_MESSAGE_LOW: 20}
FAN_OUT_EVENT = "fan_out_event"
SEND_PUSH = "send_push"
DELIVER_WEBHOOKS = "deliver_webhooks"


def check_priority(priority: str) -> str:
    """Return `priority` when it is a known lane name.

    Raises:
        ValueError: for anything else (integers included: names only).
    """
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}")
    return priority


def partition_for(key: str | int, partitions: int) -> int:
    """A stable partition number in [0, partitions) for `key`."""
    if partitions < 1:
        raise ValueError("partitions must be at least 1")
    # crc32 is stable across processes and Python versions, unlike hash().
    return zlib.crc32(str(key).encode()) % partitions


def delivery_queue(priority: str, partition: int) -> str:
    """The queue name of one delivery lane partition."""
    return f"delivery.{check_priority(priority)}.p{partition}"


def recipient_queue(priority: str, recipient_id: int, partitions: int) -> str:
    """The delivery queue of a one-way message: one user's jobs share a queue."""
    return delivery_queue(priority, partition_for(recipient_id, partitions))


def conversation_queue(conversation_id: int, partitions: int) -> str:
    """The queue of a conversation's messages and events: they share it, in order."""
    return delivery_queue(NORMAL, partition_for(f"c{conversation_id}", partitions))


def delivery_queues(partitions: int, priorities: tuple[str, ...] = PRIORITIES) -> list[str]:
    """Every delivery queue name, high lanes first."""
    return [delivery_queue(p, n) for p in priorities for n in range(partitions)]


def all_queues(partitions: int) -> list[str]:
    """Every queue the workers consume and the edge publishes to."""
    return delivery_queues(partitions) + [PUSH_QUEUE, WEBHOOKS_QUEUE]


def parse_partitions(spec: str, partitions: int) -> list[int]:
    """Parse an operator's partition list such as "0-3" or "0,2"."""
    chosen: set[int] = set()
    for part in spec.split(","):
        start, _, end = part.strip().partition("-")
        low, high = int(start), int(end or start)
        chosen.update(range(low, high + 1))
    if not chosen or min(chosen) < 0 or max(chosen) >= partitions:
        raise ValueError(f"partitions must lie in 0-{partitions - 1}")
    return sorted(chosen)
