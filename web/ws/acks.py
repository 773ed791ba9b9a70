"""Acknowledgements, coalesced: a client that acks every frame costs one
transaction per burst, not one per frame.

The reader notes the highest ack and read positions; a flush a moment later
(or at close) records both with one use-case call
(usecases.messaging.acks). Acks are cumulative, so keeping only the
highest loses nothing.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from usecases.messaging.acks import record_acks

log = logging.getLogger(__name__)
FLUSH_AFTER_SECONDS = 0.1


class AckBuffer:
    def __init__(self, res, user_id: int, context: int | None = None):
        self._res = res
        self._context = context
        self._user_id = user_id
        self._lock = threading.Lock()
        self._acked = self._read = 0
        self._written = (0, 0)
        self._timer: threading.Timer | None = None

    def note(self, kind: str, position: int) -> None:
        with self._lock:
            if kind == "ack":
                self._acked = max(self._acked, position)
            else:
                self._read = max(self._read, position)
            if self._timer is None:
                self._timer = threading.Timer(FLUSH_AFTER_SECONDS, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Record what was noted since the last flush (safe to call any time)."""
        with self._lock:
            self._timer = None
            acked, read = self._acked, self._read
            if (acked, read) == self._written:
                return
            # Only what advanced: a read-only burst does not re-mark deliveries.
            new_acked = acked if acked != self._written[0] else 0
            new_read = read if read != self._written[1] else 0
            self._written = (acked, read)
        try:
            record_acks(self._res.ports, self._user_id, new_acked, new_read, datetime.now(timezone.utc),
                        self._context)
        except Exception:
            log.exception("could not record acks of user %s up to %s/%s", self._user_id, acked, read)
