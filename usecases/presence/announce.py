"""A user's presence as their sessions add up (pipeline.presence), and
its announcement: a real change of state is rung, without a position
(never stored), to each person who shares a conversation with the user.

A socket's heartbeat and goodbye cost one presence round trip when
nothing changed: the write reads back the sessions and the state last
announced. A change takes an atomic swap, so of several processes seeing
it one tells it. Presence is a courtesy: failures are logged, never raised.
"""

from __future__ import annotations

import logging

from db.engine import UnitOfWork
from pipeline.frames import encode, event_frame
from pipeline.presence import (LAST_SEEN_TTL_SECONDS, OFFLINE, aggregate, live_states, presence_payload,
                               shown_last_seen)
from pipeline.rings import Ring
from usecases.ports import Ports, Sessions
from usecases.presence.presence import contact_ids, hides_last_seen

log = logging.getLogger(__name__)


def record_heartbeat(ports: Ports, user_id: int, session_id: str, state: str, now: float,
                     expires_at: float) -> bool:
    """A socket is live (connect, heartbeat, online/away switch): refresh
    its session and the user's last seen; tell contacts of a change.
    False when presence could not be written (Redis away)."""
    try:
        sessions, announced = ports.presence.refresh_session(user_id, session_id, state, expires_at, now,
                                                             LAST_SEEN_TTL_SECONDS)
    except Exception as e:  # presence unknown → offline; the socket carries on
        log.warning("could not record presence of user %s: %r", user_id, e)
        return False
    _announce_if_changed(ports, user_id, sessions, announced, now, now)
    return True


def record_goodbye(ports: Ports, user_id: int, session_id: str, now: float) -> None:
    """A socket closed: forget its session; the user may now be offline."""
    try:
        sessions, announced = ports.presence.end_session(user_id, session_id, now, LAST_SEEN_TTL_SECONDS)
    except Exception as e:  # the session expires on its own; the sweep tells contacts
        log.warning("could not forget presence of user %s: %r", user_id, e)
        return
    _announce_if_changed(ports, user_id, sessions, announced, now, now)


def current_state(ports: Ports, user_id: int, now: float) -> tuple[str, float | None]:
    """The user's aggregate state and last seen; expired sessions are forgotten on the way."""
    sessions, last_seen = ports.presence.read_many([user_id])[user_id]
    return _state(ports, user_id, sessions, now), last_seen


def announce_if_changed(ports: Ports, user_id: int, now: float) -> None:
    """Tell the user's contacts if their state changed since last told (best effort)."""
    try:
        state, last_seen = current_state(ports, user_id, now)
        _swap_and_tell(ports, user_id, state, last_seen)
    except Exception as e:
        log.warning("could not announce presence of user %s: %r", user_id, e)


def announce_expired(ports: Ports, now: float) -> None:
    """Tell contacts `offline` for users whose sessions expired without a
    goodbye (their edge process died)."""
    for user_id in ports.presence.due(now):
        ports.presence.unwatch(user_id)  # a live session's next heartbeat watches it again
        announce_if_changed(ports, user_id, now)


def _announce_if_changed(ports: Ports, user_id: int, sessions: Sessions, announced: str | None,
                         last_seen: float | None, now: float) -> None:
    try:
        state = _state(ports, user_id, sessions, now)
        if state != (announced or OFFLINE):  # the usual heartbeat stops here: nothing changed
            _swap_and_tell(ports, user_id, state, last_seen)
    except Exception as e:
        log.warning("could not announce presence of user %s: %r", user_id, e)


def _state(ports: Ports, user_id: int, sessions: Sessions, now: float) -> str:
    live, expired = live_states(sessions, now)
    if expired:
        ports.presence.drop_sessions(user_id, expired)
    return aggregate(live)


def _swap_and_tell(ports: Ports, user_id: int, state: str, last_seen: float | None) -> None:
    # Atomic swap: of several processes seeing one change, one tells it.
    previous = ports.presence.swap_announced(user_id, state, LAST_SEEN_TTL_SECONDS) or OFFLINE
    if previous == state:
        return
    with UnitOfWork(ports.sessions) as uow:
        contacts = contact_ids(uow.session, user_id)
        hidden = hides_last_seen(uow.session, user_id)
    payload = presence_payload(user_id, state, shown_last_seen(last_seen, hidden, viewer_is_subject=False))
    text = encode(event_frame("presence", None, payload))
    # About no conversation: sockets scoped to one never hear presence.
    ports.realtime.ring_many([Ring(contact, None, text) for contact in contacts])
