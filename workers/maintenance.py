"""Maintenance: the outbox sweeper, run as a thread beside each worker.

A crash of the edge between its commit and its publish leaves a job
committed but unpublished; the sweeper republishes such jobs after a few
seconds. Duplicates are harmless: delivery is idempotent.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

import dramatiq
from dramatiq.middleware import Middleware

from db.actions.outbox import claim_unpublished, mark_published, sweep_cutoff
from db.engine import UnitOfWork
from rabbitmq.jobs import to_message
from workers.broker import runtime

log = logging.getLogger(__name__)


def sweep_outbox_once(broker: dramatiq.Broker) -> int:
    """Republish committed-but-unpublished jobs; return how many."""
    rt = runtime()
    now = datetime.now(timezone.utc)
    with UnitOfWork(rt.sessions) as uow:
        jobs = claim_unpublished(uow.session, older_than=sweep_cutoff(now, rt.settings.outbox_sweep_after_seconds))
        for job in jobs:
            broker.enqueue(to_message(job))
        mark_published(uow.session, [job.outbox_id for job in jobs], now)
        uow.commit()
    if jobs:
        log.info("outbox sweeper republished %d jobs", len(jobs))
    return len(jobs)


class OutboxSweeper(Middleware):
    """Runs `sweep_outbox_once` every few seconds while the worker lives."""

    def __init__(self, interval_seconds: float):
        self.interval_seconds = interval_seconds
        self._stop = threading.Event()

    def after_worker_boot(self, broker, worker):
        threading.Thread(target=self._loop, args=(broker,), name="herald-sweeper", daemon=True).start()

    def before_worker_shutdown(self, broker, worker):
        self._stop.set()

    def _loop(self, broker) -> None:
        while not self._stop.wait(self.interval_seconds):
            try:
                sweep_outbox_once(broker)
            except Exception:
                log.exception("outbox sweep failed; retrying next tick")
