"""Fan a conversation event (receipt, reaction, edit, delete, membership
change) out into each audience member's stream — the `fan_out_event` job's work."""

from __future__ import annotations

import logging
from datetime import datetime

from db.engine import UnitOfWork
from pipeline.frames import encode, event_frame
from pipeline.rings import Ring
from usecases.chat.event_state import live_payloads, stored_payload
from usecases.messaging.stream import append_events, lock_streams
from usecases.ports import Ports

log = logging.getLogger(__name__)


def fan_out_event(ports: Ports, event_key: str, kind: str, payload: dict, user_ids: list[int],
                  now: datetime) -> list[tuple[int, int]]:
    """Append the event to each user's stream once (keyed), then ring them:
    one lock statement, one insert and one stream update for the whole audience."""
    audience = sorted(set(user_ids))  # sorted: the same lock order as deliveries
    with UnitOfWork(ports.sessions) as uow:
        # Every stream locked (one statement) before the event's fresh fields
        # are read: a later position always carries a later reading
        # (usecases.chat.event_state).
        last = lock_streams(uow.session, audience)
        stored = stored_payload(uow.session, kind, payload)
        placed = append_events(uow.session, last, event_key, kind, stored, now)
        live = live_payloads(uow.session, [(kind, stored)])[0]
        uow.commit()
    conversation_id = live.get("conversation_id")
    rings = [Ring(user_id, position, text, conversation_id)
             for (user_id, position), text in zip(placed, event_frame_texts(kind, live, [p for _, p in placed]))]
    try:
        ports.realtime.ring_many(rings)
    except Exception as e:  # the stream has it; the socket finds it by position
        log.warning("could not ring %d member(s) of a %s: %r", len(rings), kind, e)
    return placed


def event_frame_texts(kind: str, payload: dict, positions: list[int]) -> list[str]:
    """encode(event_frame(kind, position, payload)) for each position, the
    payload encoded once for the whole audience (the position is the frame's
    last key)."""
    if "position" in payload or not positions:
        return [encode(event_frame(kind, position, payload)) for position in positions]
    head = encode(event_frame(kind, None, payload))[:-1]
    return [f'{head},"position":{position}}}' for position in positions]
