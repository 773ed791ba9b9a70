"""`herald status`: the pipeline's figures at a glance (the same snapshot
as the admin dashboard): queue depths and consumers, the outbox's backlog
and oldest age, dead letters of the last hour, circuit breakers."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from cli.database import existing_sessions
from config import load_settings
from pipeline.contract import all_queues
from rabbitmq.probe import queue_figures
from realtime.breaker_board import make_breaker_board
from usecases.operations.pipeline_status import PipelineStatus, pipeline_status


class _ProbeNow:
    """Measures the queues once, when asked (this process polls nothing)."""

    def __init__(self, url: str, names: list[str]):
        self._url, self._names = url, names

    def figures(self):
        return queue_figures(self._url, self._names)


def snapshot() -> PipelineStatus:
    settings = load_settings()
    probe = _ProbeNow(settings.broker_url, all_queues(settings.delivery_partitions)) if settings.broker_url else None
    return pipeline_status(existing_sessions(settings.database_url), probe,
                           make_breaker_board(settings.redis_url, settings.redis_namespace),
                           datetime.now(timezone.utc))


def render(status: PipelineStatus, as_json: bool) -> str:
    if as_json:
        return json.dumps(status.as_dict(), indent=2)
    lines = [f"Herald pipeline at {status.taken_at:%Y-%m-%d %H:%M:%S} UTC", ""]
    if status.broker == "ok":
        lines.append(f"{'queue':<24} {'depth':>8} {'consumers':>10}")
        lines += [f"{q.name:<24} {q.depth:>8} {q.consumers:>10}" for q in status.queues]
    elif status.broker == "down":
        lines.append("queues: the broker does not answer")
    else:
        lines.append("queues: embedded mode (the in-process broker lives in `herald run`)")
    lines += ["", f"outbox backlog: {status.outbox_backlog} due, "
                  f"oldest due for {status.outbox_oldest_age_seconds:.1f} s",
              f"dead letters in the last hour: {status.dead_letters_last_hour}", ""]
    if not status.breakers_readable:
        lines.append("breakers: the reports cannot be read (Redis does not answer)")
    elif not status.breakers:
        lines.append("breakers: none reported (all closed)")
    else:
        lines += [f"breaker {b.service}: {b.state} since {b.since:%H:%M:%S} "
                  f"({b.open_processes} of {b.processes} processes open)" for b in status.breakers]
    return "\n".join(lines)
