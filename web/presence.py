"""The edge's presence sweeper: a thread that runs the expired-sessions
announcement (usecases.presence.announce) for users whose edge process
died without a goodbye."""

from __future__ import annotations

import logging
import threading
import time

from usecases.presence.announce import announce_expired

log = logging.getLogger(__name__)


class PresenceSweeper:
    """Every edge process with sockets sweeps; the atomic swap of the
    announced state makes only one of them tell each change."""

    def __init__(self, interval_seconds: float):
        self._interval = interval_seconds
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def ensure_started(self, res) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, args=(res,), name="herald-presence",
                                                daemon=True)
                self._thread.start()

    def sweep(self, res, now: float) -> None:
        announce_expired(res.ports, now)

    def _run(self, res) -> None:
        while True:
            time.sleep(self._interval)
            try:
                self.sweep(res, time.time())
            except Exception as e:
                log.warning("presence sweep failed: %r", e)
