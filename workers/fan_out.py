"""Fan-out of conversation events (receipts, reactions, edits, deletes,
membership changes) into each audience member's stream."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import dramatiq

from db.actions.stream import append_event
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
    with UnitOfWork(rt.sessions) as uow:
        for user_id in sorted(set(user_ids)):  # sorted: the same lock order as deliveries
            position = append_event(uow.session, user_id, event_key, kind, payload, now)
            if position is not None:
                placed.append((user_id, position))
        uow.commit()
    for user_id, position in placed:
        try:
            rt.realtime.ring(user_id, encode(event_frame(kind, position, payload)))
        except Exception as e:  # the stream has it; the socket finds it by position
            log.warning("could not ring user %s: %r", user_id, e)
