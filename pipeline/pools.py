"""Worker pools: which queues an operator's pool consumes.

Each concern has its own queues so each pool scales on its own: delivery
pools on chosen lanes and partitions, a push pool and a webhooks pool. The maintenance
tick (outbox sweep, expiry) runs beside every worker, whatever its pool.
"""

from __future__ import annotations

from pipeline.contract import PRIORITIES, PUSH_QUEUE, WEBHOOKS_QUEUE, check_priority, delivery_queue, parse_partitions

POOLS = ("delivery", "push", "webhooks", "all")


def pool_queues(pool: str, partitions: int, partition_spec: str | None = None,
                lanes: tuple[str, ...] = PRIORITIES) -> list[str]:
    """The queue names a pool consumes.

    Raises:
        ValueError: an unknown pool, lane or partition.
    """
    if pool not in POOLS:
        raise ValueError(f"pool must be one of {', '.join(POOLS)}")
    chosen = parse_partitions(partition_spec, partitions) if partition_spec else list(range(partitions))
    delivery = [delivery_queue(check_priority(lane), n) for lane in lanes for n in chosen]
    return {"delivery": delivery, "push": [PUSH_QUEUE], "webhooks": [WEBHOOKS_QUEUE],
            "all": delivery + [PUSH_QUEUE, WEBHOOKS_QUEUE]}[pool]
