"""The process-wide registry of open sockets: user id → mailboxes.

One realtime subscription per user per process, however many sockets the
user holds here; a ring (its position and conversation beside the encoded
frame, never decoded here) is offered as is to each of the user's mailboxes.
"""

from __future__ import annotations

import threading

from pipeline.rings import RESYNC, Ring
from web.ws.mailbox import Mailbox


class Hub:
    def __init__(self, realtime):
        self._realtime = realtime
        self._lock = threading.Lock()
        self._boxes: dict[int, set[Mailbox]] = {}
        self._listening = False

    def attach(self, user_id: int, mailbox: Mailbox) -> None:
        with self._lock:
            if not self._listening:
                self._realtime.listen(self._on_ring)
                self._listening = True
            boxes = self._boxes.setdefault(user_id, set())
            first = not boxes
            boxes.add(mailbox)
        if first:
            self._realtime.subscribe(user_id)

    def detach(self, user_id: int, mailbox: Mailbox) -> None:
        with self._lock:
            boxes = self._boxes.get(user_id, set())
            boxes.discard(mailbox)
            last = not boxes
            if last:
                self._boxes.pop(user_id, None)
        if last:
            self._realtime.unsubscribe(user_id)

    def by_user(self) -> dict[int, list[Mailbox]]:
        with self._lock:
            return {user_id: list(boxes) for user_id, boxes in self._boxes.items()}

    def mailboxes(self) -> list[Mailbox]:
        with self._lock:
            return [box for boxes in self._boxes.values() for box in boxes]

    def close_all(self, code: int, reason: str) -> None:
        """Ask every socket of this process to close (shutdown)."""
        for box in self.mailboxes():
            box.close(code, reason)

    def close_user(self, user_id: int, code: int, reason: str) -> None:
        """Ask every socket of `user_id` on this process to close (a revocation)."""
        with self._lock:
            boxes = list(self._boxes.get(user_id, ()))
        for box in boxes:
            box.close(code, reason)

    def _on_ring(self, ring: Ring) -> None:
        with self._lock:
            boxes = list(self._boxes.get(ring.user_id, ()))
        if ring.text == RESYNC:
            for box in boxes:
                box.request_resync()
            return
        for box in boxes:
            box.offer(ring)
