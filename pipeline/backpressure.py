"""Backpressure: refuse the lowest priorities first when the delivery
queues back up, so what is accepted can still be delivered in time."""

from __future__ import annotations

from pipeline.contract import HIGH, LOW, NORMAL, check_priority


def refusal_retry_after(priority: str, depth: int, soft_limit: int, hard_limit: int) -> int | None:
    """Seconds a sender should wait before retrying, or None to accept.

    `low` is refused from `soft_limit` on, `normal` from twice that, `high`
    only from `hard_limit` — transactional messages keep flowing longest.
    """
    threshold = {LOW: soft_limit, NORMAL: 2 * soft_limit, HIGH: hard_limit}[check_priority(priority)]
    if depth < threshold:
        return None
    # The deeper past its threshold, the longer to wait: 1 s up to 60 s.
    return max(1, min(60, (depth * 5) // max(threshold, 1) - 4))
