"""A socket's bounded inbox of rings.

A slow consumer cannot grow server memory: past `limit` items the mailbox
stops keeping frames and only remembers to re-read the stream from the
database, which is the store anyway.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from pipeline.rings import Ring


class Mailbox:
    def __init__(self, limit: int, delivered: int = 0):
        self._limit = limit
        # The stream position its socket has sent up to (kept by the
        # socket's writer; read by the process's lost-ring check).
        self.delivered = delivered
        self._items: deque[Ring] = deque()
        self._resync = False
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._oldest_at: float | None = None  # when the oldest waiting item came (monotonic)
        self.drained_oldest_at: float | None = None
        self.close_request: tuple[int, str] | None = None

    def offer(self, ring: Ring) -> None:
        """Queue a ring (without a position: an ephemeral or control frame, always kept)."""
        with self._lock:
            if ring.position is not None and len(self._items) >= self._limit:
                self._resync = True
            else:
                if not self._items:
                    self._oldest_at = time.monotonic()
                self._items.append(ring)
        self._ready.set()

    def request_resync(self) -> None:
        with self._lock:
            self._resync = True
        self._ready.set()

    def wait(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def drain(self) -> tuple[list[Ring], bool]:
        """Everything queued so far, and whether a re-read is needed;
        `drained_oldest_at` says when the oldest of those items came."""
        with self._lock:
            items, resync = list(self._items), self._resync
            self.drained_oldest_at, self._oldest_at = self._oldest_at, None
            self._items.clear()
            self._resync = False
            self._ready.clear()
        return items, resync

    def wake(self) -> None:
        """Wake the writer (the socket closed)."""
        self._ready.set()

    def close(self, code: int, reason: str) -> None:
        """Ask the socket's writer to close with `code`."""
        self.close_request = (code, reason)
        self._ready.set()
