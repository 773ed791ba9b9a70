"""The maintenance tick as a thread beside each worker process, whatever
its pool: every live worker sweeps, so the outbox is swept as long as any
worker runs (claims use SKIP LOCKED, so sweepers never collide). The work
is `usecases.operations.maintenance.run_tick`."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from dramatiq.middleware import Middleware

from usecases.operations.maintenance import run_tick
from workers.broker import runtime

log = logging.getLogger(__name__)


class Maintenance(Middleware):
    """Runs the tick every few seconds while the worker lives."""

    def __init__(self, interval_seconds: float):
        self.interval_seconds = interval_seconds
        self._stop = threading.Event()

    def after_worker_boot(self, broker, worker):
        threading.Thread(target=self._loop, name="herald-maintenance", daemon=True).start()

    def before_worker_shutdown(self, broker, worker):
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            try:
                ports = runtime().ports
                run_tick(ports.sessions, ports.publisher, datetime.now(timezone.utc), ports.webhooks)
            except Exception:
                log.exception("maintenance tick failed; retrying next tick")
