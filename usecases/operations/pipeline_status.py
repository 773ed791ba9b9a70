"""One snapshot of the pipeline for operators: queue depths and consumers,
the outbox's backlog, recent dead letters, circuit breakers.

`herald status` prints it, the admin dashboard shows it, and the metrics
collector turns it into gauges at scrape time. Cheap by design: the queue
figures come from the caller's probe (the edge's is polled in the
background), the database answers two indexed aggregate queries, the
breakers one Redis read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select

from db.engine import UnitOfWork
from db.models import DeadLetter, Outbox
from usecases.ports import SessionFactory

DEAD_LETTER_WINDOW = timedelta(hours=1)
# How states rank when several processes report one service.
_SEVERITY = {"closed": 0, "half-open": 1, "open": 2}


class QueueProbe(Protocol):
    """Each queue's (ready messages, consumers); None when not measurable now."""

    def figures(self) -> dict[str, tuple[int, int]] | None: ...


class BreakerReports(Protocol):
    """(service, process, state, since epoch seconds) for every reporting process."""

    def read(self) -> list[tuple[str, str, str, float]]: ...


@dataclass(frozen=True)
class QueueStatus:
    name: str
    depth: int  # ready messages
    consumers: int


@dataclass(frozen=True)
class BreakerStatus:
    """A protected service's breakers across processes: the worst state, how
    many processes report each state, and since when the worst one holds."""

    service: str
    state: str  # closed | half-open | open
    open_processes: int
    processes: int
    since: datetime


@dataclass(frozen=True)
class PipelineStatus:
    taken_at: datetime
    # "ok": figures below; "down": the broker did not answer; "not_measured":
    # no broker this process can see (the embedded broker lives in `herald run`).
    broker: str
    queues: tuple[QueueStatus, ...]
    outbox_backlog: int  # unpublished jobs whose time has come
    outbox_oldest_age_seconds: float  # how long the oldest of those has been due; 0 when none
    dead_letters_last_hour: int
    breakers: tuple[BreakerStatus, ...]
    breakers_readable: bool  # False: the reports could not be read (Redis away)

    def as_dict(self) -> dict:
        return {
            "taken_at": self.taken_at.isoformat(),
            "broker": self.broker,
            "queues": [{"name": q.name, "depth": q.depth, "consumers": q.consumers} for q in self.queues],
            "outbox": {"backlog": self.outbox_backlog, "oldest_age_seconds": round(self.outbox_oldest_age_seconds, 3)},
            "dead_letters_last_hour": self.dead_letters_last_hour,
            "breakers": [{"service": b.service, "state": b.state, "open_processes": b.open_processes,
                          "processes": b.processes, "since": b.since.isoformat()} for b in self.breakers],
            "breakers_readable": self.breakers_readable,
        }


def pipeline_status(sessions: SessionFactory, queues: QueueProbe | None, breakers: BreakerReports,
                    now: datetime) -> PipelineStatus:
    """The pipeline as it stands at `now` (queues None: no broker to measure)."""
    backlog, oldest_due = _outbox(sessions, now)
    dead = _dead_letters_since(sessions, now - DEAD_LETTER_WINDOW)
    figures = queues.figures() if queues is not None else None
    broker = "not_measured" if queues is None else ("ok" if figures is not None else "down")
    breaker_list, readable = _breakers(breakers, now)
    return PipelineStatus(
        taken_at=now, broker=broker,
        queues=tuple(QueueStatus(name, depth, consumers)
                     for name, (depth, consumers) in sorted((figures or {}).items())),
        outbox_backlog=backlog,
        outbox_oldest_age_seconds=max((now - oldest_due).total_seconds(), 0.0) if oldest_due else 0.0,
        dead_letters_last_hour=dead, breakers=breaker_list, breakers_readable=readable)


def _outbox(sessions: SessionFactory, now: datetime) -> tuple[int, datetime | None]:
    # On ix_outbox_unpublished (partial: published_at IS NULL): only the backlog is read.
    with UnitOfWork(sessions) as uow:
        count, oldest = uow.session.execute(
            select(func.count(), func.min(Outbox.available_at))
            .where(Outbox.published_at.is_(None), Outbox.available_at <= now)).one()
    return count, oldest  # min() keeps the column's type: aware UTC on every backend


def _dead_letters_since(sessions: SessionFactory, since: datetime) -> int:
    with UnitOfWork(sessions) as uow:
        return uow.session.scalar(select(func.count()).select_from(DeadLetter).where(DeadLetter.created_at >= since))


def _breakers(board: BreakerReports, now: datetime) -> tuple[tuple[BreakerStatus, ...], bool]:
    try:
        reports = board.read()
    except Exception:  # Redis away: say so rather than fail the whole snapshot
        return (), False
    by_service: dict[str, list[tuple[str, float]]] = {}
    for service, _process, state, since in reports:
        by_service.setdefault(service, []).append((state, since))
    result = []
    for service, states in sorted(by_service.items()):
        worst = max(states, key=lambda s: (_SEVERITY.get(s[0], 0), -s[1]))
        result.append(BreakerStatus(
            service=service, state=worst[0], open_processes=sum(1 for s, _ in states if s == "open"),
            processes=len(states), since=datetime.fromtimestamp(worst[1], tz=now.tzinfo)))
    return tuple(result), True

