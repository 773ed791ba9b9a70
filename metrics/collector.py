"""Gauges computed when scraped, from the pipeline snapshot
(usecases.operations.pipeline_status): queue depths and consumers, the
outbox, recent dead letters. Only the edge (and the embedded process)
registers it; its cost is the snapshot's (two indexed aggregates, one
Redis read, queue figures the edge already polls)."""

from __future__ import annotations

import logging
from typing import Callable

from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)


class PipelineCollector:
    def __init__(self, snapshot: Callable[[], object]):
        self._snapshot = snapshot  # () -> PipelineStatus

    def collect(self):
        up = GaugeMetricFamily("herald_pipeline_status_up", "1 when the pipeline snapshot could be taken")
        try:
            status = self._snapshot()
        except Exception as e:  # the database is away: say so, keep the rest of the scrape
            log.warning("pipeline snapshot failed: %r", e)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        depth = GaugeMetricFamily("herald_queue_depth", "Ready messages in a queue", labels=["queue"])
        consumers = GaugeMetricFamily("herald_queue_consumers", "Consumers of a queue", labels=["queue"])
        for queue in status.queues:
            depth.add_metric([queue.name], queue.depth)
            consumers.add_metric([queue.name], queue.consumers)
        broker = GaugeMetricFamily("herald_broker_up", "1 when the broker's queues could be measured")
        broker.add_metric([], 1 if status.broker == "ok" else 0)
        yield from (depth, consumers, broker)
        backlog = GaugeMetricFamily("herald_outbox_backlog", "Unpublished outbox jobs whose time has come")
        backlog.add_metric([], status.outbox_backlog)
        age = GaugeMetricFamily("herald_outbox_oldest_age_seconds",
                                "How long the oldest unpublished outbox job has been due")
        age.add_metric([], status.outbox_oldest_age_seconds)
        dead = GaugeMetricFamily("herald_dead_letters_last_hour", "Dead letters recorded in the last hour")
        dead.add_metric([], status.dead_letters_last_hour)
        yield from (backlog, age, dead)
