"""Fan a conversation event (receipt, reaction, edit, delete, membership
change) out into each audience member's stream — the `fan_out_event` job's work."""

from __future__ import annotations

import logging
from datetime import datetime

from db.engine import UnitOfWork
from pipeline.frames import encode, event_frame
from pipeline.rings import Ring, ring_all
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
    parts = event_frame_parts(kind, live)
    if parts is None:
        rings = [Ring(user_id, position, encode(event_frame(kind, position, live)), conversation_id)
                 for user_id, position in placed]
    else:
        rings = ring_all(placed, *parts, conversation_id)
    try:
        ports.realtime.ring_many(rings)
    except Exception as e:  # the stream has it; the socket finds it by position
        log.warning("could not ring %d member(s) of a %s: %r", len(placed), kind, e)
    return placed


def event_frame_parts(kind: str, payload: dict) -> tuple[str, str] | None:
    """The text of encode(event_frame(kind, position, payload)) before and
    after the position (its last key), the payload encoded once for the
    whole audience; None when the payload has a "position" of its own."""
    if "position" in payload:
        return None
    return encode(event_frame(kind, None, payload))[:-1] + ',"position":', "}"


def event_frame_texts(kind: str, payload: dict, positions: list[int]) -> list[str]:
    """encode(event_frame(kind, position, payload)) for each position."""
    parts = event_frame_parts(kind, payload)
    if parts is None:
        return [encode(event_frame(kind, position, payload)) for position in positions]
    return [f"{parts[0]}{position}{parts[1]}" for position in positions]
