"""Maintenance: the outbox sweeper, expiry and key clean-up, run as a
thread beside each worker.

A crash of the edge between its commit and its publish leaves a job
committed but unpublished, and scheduled sends wait in the outbox until
`send_at`; the sweeper publishes every row whose `available_at` has come.
Duplicates are harmless: delivery is idempotent. The same tick turns
overdue undelivered messages `expired` and forgets Idempotency-Keys after
24 hours.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone

import dramatiq
from dramatiq.middleware import Middleware

from db.actions.deliveries import expire_overdue
from db.actions.idempotency import forget_older_than
from db.actions.outbox import claim_unpublished, mark_published
from db.engine import UnitOfWork
from rabbitmq.jobs import to_message
from workers.broker import runtime

log = logging.getLogger(__name__)
IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=24)


def sweep_outbox_once(broker: dramatiq.Broker) -> int:
    """Publish every unpublished job whose time has come; return how many."""
    now = datetime.now(timezone.utc)
    with UnitOfWork(runtime().sessions) as uow:
        jobs = claim_unpublished(uow.session, now=now)
        for job in jobs:
            broker.enqueue(to_message(job))
        mark_published(uow.session, [job.outbox_id for job in jobs], now)
        uow.commit()
    if jobs:
        log.info("outbox sweeper republished %d jobs", len(jobs))
    return len(jobs)


def tidy_once() -> tuple[int, int]:
    """Expire overdue deliveries and forget old Idempotency-Keys."""
    now = datetime.now(timezone.utc)
    with UnitOfWork(runtime().sessions) as uow:
        expired = expire_overdue(uow.session, now)
        forgotten = forget_older_than(uow.session, now - IDEMPOTENCY_KEY_LIFETIME)
        uow.commit()
    return expired, forgotten


class Maintenance(Middleware):
    """Runs the sweeper and the tidy-up every few seconds while the worker lives."""

    def __init__(self, interval_seconds: float):
        self.interval_seconds = interval_seconds
        self._stop = threading.Event()

    def after_worker_boot(self, broker, worker):
        threading.Thread(target=self._loop, args=(broker,), name="herald-maintenance", daemon=True).start()

    def before_worker_shutdown(self, broker, worker):
        self._stop.set()

    def _loop(self, broker) -> None:
        while not self._stop.wait(self.interval_seconds):
            try:
                sweep_outbox_once(broker)
                tidy_once()
            except Exception:
                log.exception("maintenance tick failed; retrying next tick")
