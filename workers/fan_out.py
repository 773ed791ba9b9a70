"""Fan-out of conversation events (receipts, reactions, edits, deletes,
membership changes) into each audience member's stream."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import dramatiq

from db.actions.event_state import live_payloads, stored_payload
from db.actions.stream import append_event, lock_stream
from db.engine import UnitOfWork
from pipeline.frames import encode, event_frame
from pipeline.jobs import FAN_OUT_EVENT
from pipeline.routing import NORMAL, delivery_queue
from workers.broker import runtime

log = logging.getLogger(__name__)


@dramatiq.actor(actor_name=FAN_OUT_EVENT, queue_name=delivery_queue(NORMAL, 0))
def fan_out_event(event_key: str, kind: str, payload: dict, user_ids: list[int]) -> None:
    """Append the event to each user's stream once (keyed), then ring them."""
    rt = runtime()
    now = datetime.now(timezone.utc)
    placed: list[tuple[int, int]] = []
    audience = sorted(set(user_ids))  # sorted: the same lock order as deliveries
    with UnitOfWork(rt.sessions) as uow:
        # Every stream locked before the event's fresh fields are read: a
        # later position always carries a later reading (db.actions.event_state).
        for user_id in audience:
            lock_stream(uow.session, user_id)
        stored = stored_payload(uow.session, kind, payload)
        for user_id in audience:
            position = append_event(uow.session, user_id, event_key, kind, stored, now)
            if position is not None:
                placed.append((user_id, position))
        live = live_payloads(uow.session, [(kind, stored)])[0]
        uow.commit()
    for user_id, position in placed:
        try:
            rt.realtime.ring(user_id, encode(event_frame(kind, position, live)))
        except Exception as e:  # the stream has it; the socket finds it by position
            log.warning("could not ring user %s: %r", user_id, e)
