"""Presence at the edge, shared by sockets and GET /v1/presence.

A user's sessions add up to one state (pipeline.presence). A real change
of that state is rung, without a position (never stored), to each person
who shares a conversation with the user. Presence that cannot be read
(Redis away) counts as offline and is never an error for a client.
"""

from __future__ import annotations

import logging
import threading
import time

from usecases.presence.presence import contact_ids, hides_last_seen, last_seen_hidden, visible_subjects
from db.engine import UnitOfWork
from pipeline.frames import encode, event_frame
from pipeline.presence import (LAST_SEEN_TTL_SECONDS, OFFLINE, aggregate, live_states, presence_payload,
                               shown_last_seen)

log = logging.getLogger(__name__)


def current_state(store, user_id: int, now: float) -> tuple[str, float | None]:
    """The user's aggregate state and last seen; expired sessions are forgotten on the way."""
    sessions, last_seen = store.read_many([user_id])[user_id]
    live, expired = live_states(sessions, now)
    store.drop_sessions(user_id, expired)
    return aggregate(live), last_seen


def announce_if_changed(res, user_id: int) -> None:
    """Tell the user's contacts if their state changed since last told (best effort)."""
    try:
        state, last_seen = current_state(res.presence, user_id, time.time())
        # Atomic swap: of several processes seeing one change, one tells it.
        previous = res.presence.swap_announced(user_id, state, LAST_SEEN_TTL_SECONDS) or OFFLINE
        if previous != state:
            _tell_contacts(res, user_id, state, last_seen)
    except Exception as e:  # presence is a courtesy: never break a socket over it
        log.warning("could not announce presence of user %s: %r", user_id, e)


def _tell_contacts(res, user_id: int, state: str, last_seen: float | None) -> None:
    with UnitOfWork(res.sessions) as uow:
        contacts = contact_ids(uow.session, user_id)
        hidden = hides_last_seen(uow.session, user_id)
    payload = presence_payload(user_id, state, shown_last_seen(last_seen, hidden, viewer_is_subject=False))
    text = encode(event_frame("presence", None, payload))
    for contact in contacts:
        res.realtime.ring(contact, text)


def snapshot(res, viewer_id: int, user_ids: list[int], context: int | None) -> list[dict]:
    """Presence of the requested users the viewer may see, in the order asked."""
    with UnitOfWork(res.sessions) as uow:
        visible = visible_subjects(uow.session, viewer_id, user_ids, context)
        hidden = last_seen_hidden(uow.session, sorted(visible))
    subjects = [u for u in user_ids if u in visible]
    try:
        known = res.presence.read_many(subjects)
    except Exception as e:
        log.warning("presence unknown (%r): reporting offline", e)
        known = {}
    now = time.time()
    items = []
    for user_id in subjects:
        sessions, last_seen = known.get(user_id, ({}, None))
        state = aggregate(live_states(sessions, now)[0])
        items.append(presence_payload(user_id, state, shown_last_seen(last_seen, user_id in hidden,
                                                                      user_id == viewer_id)))
    return items


class PresenceSweeper:
    """Tells contacts `offline` for users whose sessions expired without a
    goodbye (their edge process died). Every edge process with sockets
    sweeps; the atomic swap makes only one of them announce."""

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
        for user_id in res.presence.due(now):
            res.presence.unwatch(user_id)  # a live session's next heartbeat watches it again
            announce_if_changed(res, user_id)

    def _run(self, res) -> None:
        while True:
            time.sleep(self._interval)
            try:
                self.sweep(res, time.time())
            except Exception as e:
                log.warning("presence sweep failed: %r", e)
