"""Acknowledgements, coalesced: a client that acks every frame costs one
transaction per burst, not one per frame.

The reader notes the highest ack and read positions; a flush a moment later
(or at close) writes both in one unit of work. Acks are cumulative, so
keeping only the highest loses nothing.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from usecases.messaging.deliveries import mark_delivered, mark_read
from usecases.chat.reads import delivered_upto
from db.engine import UnitOfWork
from usecases.chat.send import receipt_job

log = logging.getLogger(__name__)
FLUSH_AFTER_SECONDS = 0.1


class AckBuffer:
    def __init__(self, res, user_id: int, context: int | None = None):
        self._res = res
        self._context = context
        self._sessions = res.sessions
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
        """Write what was noted since the last flush (safe to call any time)."""
        with self._lock:
            self._timer = None
            acked, read = self._acked, self._read
            if (acked, read) == self._written:
                return
            self._written = (acked, read)
        try:
            self._write(acked, read)
        except Exception:
            log.exception("could not record acks of user %s up to %s/%s", self._user_id, acked, read)

    def _write(self, acked: int, read: int) -> None:
        now = datetime.now(timezone.utc)
        jobs = []
        with UnitOfWork(self._sessions) as uow:
            if acked:
                delivered = mark_delivered(uow.session, self._user_id, acked, now, self._context)
                # Chat senders learn "delivered" per conversation, up to a seq.
                for conversation_id, seq in delivered_upto(uow.session, self._user_id, delivered).items():
                    jobs.append(receipt_job(uow.session, self._res.ports.outbox, conversation_id, self._user_id,
                                            "delivered", seq, now))
            if read:
                mark_read(uow.session, self._user_id, read, now, self._context)
            uow.commit()
        self._res.publisher.submit(jobs)
