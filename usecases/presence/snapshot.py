"""Presence of the people one shares a conversation with, as
`GET /v1/presence` answers it: a snapshot to start from; changes then
arrive as `presence` frames on the socket. Presence that cannot be read
(Redis away) counts as offline and is never an error for a client."""

from __future__ import annotations

import logging

from db.engine import UnitOfWork
from pipeline.presence import aggregate, live_states, presence_payload, shown_last_seen
from usecases.ports import Ports
from usecases.presence.presence import last_seen_hidden, visible_subjects

log = logging.getLogger(__name__)


def snapshot(ports: Ports, viewer_id: int, user_ids: list[int], context: int | None, now: float) -> list[dict]:
    """Presence of the requested users the viewer may see, in the order asked."""
    with UnitOfWork(ports.sessions) as uow:
        visible = visible_subjects(uow.session, viewer_id, user_ids, context)
        hidden = last_seen_hidden(uow.session, sorted(visible))
    subjects = [u for u in user_ids if u in visible]
    try:
        known = ports.presence.read_many(subjects)
    except Exception as e:
        log.warning("presence unknown (%r): reporting offline", e)
        known = {}
    items = []
    for user_id in subjects:
        sessions, last_seen = known.get(user_id, ({}, None))
        state = aggregate(live_states(sessions, now)[0])
        items.append(presence_payload(user_id, state, shown_last_seen(last_seen, user_id in hidden,
                                                                      user_id == viewer_id)))
    return items
