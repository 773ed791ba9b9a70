"""The lost-ring check, once per process: a ring lost after its commit
(worker crash, Redis restart) is found here at the latest.

Every `interval` seconds one statement per few thousand users reads the
stream ends of every user with a socket in this process, and a socket
whose stream went further than it has sent re-reads it. Per socket this
was a query on each heartbeat: 10,000 sockets made 400 statements a
second and starved the connection pool (docs/performance.md, "Sockets").
"""

from __future__ import annotations

import logging
import threading
import time

from usecases.messaging.stream_reading import stream_ends

log = logging.getLogger(__name__)
USERS_PER_STATEMENT = 5000


class LostRingCheck:
    def __init__(self, interval_seconds: float):
        self._interval = interval_seconds
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def ensure_started(self, res) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, args=(res,), name="herald-lost-rings",
                                                daemon=True)
                self._thread.start()

    def check(self, res) -> int:
        """Ask every socket behind its stream's end to re-read it; how many were."""
        held = res.hub.by_user()
        users = sorted(held)
        behind = 0
        for start in range(0, len(users), USERS_PER_STATEMENT):
            ends = stream_ends(res.ports, users[start:start + USERS_PER_STATEMENT])
            for user_id, end in ends.items():
                for box in held[user_id]:
                    if end > box.delivered:
                        box.request_resync()
                        behind += 1
        return behind

    def _run(self, res) -> None:
        while True:
            time.sleep(self._interval)
            try:
                self.check(res)
            except Exception as e:  # the next round tries again
                log.warning("lost-ring check failed: %r", e)
