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

from pipeline.errors import TransientError
from usecases.messaging.acks import record_acks

log = logging.getLogger(__name__)
FLUSH_AFTER_SECONDS = 0.1
# After a transient failure (the pool's bounded wait ran out, the database
# restarts), the positions are kept and the flush retried this much later,
# doubling up to the cap; past it the next ack (or the client's redelivery
# after a reconnect) carries them: acks are cumulative.
RETRY_AFTER_SECONDS = 1.0
MAX_RETRY_AFTER_SECONDS = 30.0


class AckBuffer:
    def __init__(self, res, user_id: int, context: int | None = None):
        self._res = res
        self._context = context
        self._user_id = user_id
        self._lock = threading.Lock()
        self._acked = self._read = 0
        self._written = (0, 0)
        self._timer: threading.Timer | None = None
        self._retry_after = 0.0  # 0: the last flush succeeded

    def note(self, kind: str, position: int) -> None:
        with self._lock:
            if kind == "ack":
                self._acked = max(self._acked, position)
            else:
                self._read = max(self._read, position)
            self._arm(FLUSH_AFTER_SECONDS)

    def _arm(self, seconds: float) -> None:
        """Flush in `seconds` unless a flush is already due (call under the lock)."""
        if self._timer is None:
            self._timer = threading.Timer(seconds, self.flush)
            self._timer.daemon = True
            self._timer.start()

    def flush(self) -> None:
        """Record what was noted since the last flush (safe to call any time)."""
        with self._lock:
            self._timer = None
            acked, read = self._acked, self._read
            before = self._written
            if (acked, read) == before:
                return
            # Only what advanced: a read-only burst does not re-mark deliveries.
            new_acked = acked if acked != before[0] else 0
            new_read = read if read != before[1] else 0
            self._written = (acked, read)
        try:
            record_acks(self._res.ports, self._user_id, new_acked, new_read, datetime.now(timezone.utc),
                        self._context)
        except TransientError as e:
            self._retry_later(before, (acked, read), e)
            return
        except Exception:
            log.exception("could not record acks of user %s up to %s/%s", self._user_id, acked, read)
        with self._lock:
            self._retry_after = 0.0

    def _retry_later(self, before: tuple[int, int], tried: tuple[int, int], error: TransientError) -> None:
        """Forget that `tried` was written so a later flush writes it again;
        one log line per failing spell, not one per try."""
        with self._lock:
            if self._written == tried:
                self._written = before
            first = self._retry_after == 0.0
            self._retry_after = min(MAX_RETRY_AFTER_SECONDS, 2 * self._retry_after or RETRY_AFTER_SECONDS)
            if self._retry_after < MAX_RETRY_AFTER_SECONDS:
                self._arm(self._retry_after)
        if first:
            log.warning("could not record acks of user %s up to %s/%s (%s); retrying",
                        self._user_id, tried[0], tried[1], error.code)
