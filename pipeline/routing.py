"""Priority lanes and partitions: which queue a job goes to.

Each priority is its own lane (a separate queue), so a backlog of `low`
never sits in front of `high`. A stable hash of the ordering key (the
recipient for one-way messages, the conversation for chat) picks the
partition, so jobs for one key always land on the same queue.
"""

from __future__ import annotations

import zlib

HIGH = "high"
NORMAL = "normal"
LOW = "low"
PRIORITIES = (HIGH, NORMAL, LOW)


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


def delivery_queues(partitions: int, priorities: tuple[str, ...] = PRIORITIES) -> list[str]:
    """Every delivery queue name, high lanes first."""
    return [delivery_queue(p, n) for p in priorities for n in range(partitions)]


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
