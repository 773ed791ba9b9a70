"""The `fan_out_event` actor: conversation events into the audience's streams."""

from __future__ import annotations

from datetime import datetime, timezone

import dramatiq

from pipeline.contract import FAN_OUT_EVENT, NORMAL, delivery_queue
from usecases.chat import fan_out
from workers.broker import runtime


@dramatiq.actor(actor_name=FAN_OUT_EVENT, queue_name=delivery_queue(NORMAL, 0))
def fan_out_event(event_key: str, kind: str, payload: dict, user_ids: list[int]) -> None:
    """Append the event to each user's stream once (keyed), then ring them."""
    fan_out.fan_out_event(runtime().ports, event_key, kind, payload, user_ids, datetime.now(timezone.utc))
