"""The `deliver_message` actors: one per lane, the same use case."""

from __future__ import annotations

from datetime import datetime, timezone

import dramatiq

from pipeline.contract import DELIVER_MESSAGE, DELIVERY_ACTOR_PRIORITY, NORMAL, delivery_queue
from usecases.messaging import deliver
from workers.broker import runtime


def _deliver(message_id: int) -> None:
    """Whatever lane and partition queue the job came from, the work is the same."""
    deliver.deliver_message(runtime().ports, message_id, datetime.now(timezone.utc))


def _lane_actor(actor_name: str) -> dramatiq.Actor:
    """The same work under each lane's actor name and priority."""
    return dramatiq.actor(_deliver, actor_name=actor_name, queue_name=delivery_queue(NORMAL, 0),
                          priority=DELIVERY_ACTOR_PRIORITY[actor_name])


LANE_ACTORS = {name: _lane_actor(name) for name in DELIVERY_ACTOR_PRIORITY}
deliver_message = LANE_ACTORS[DELIVER_MESSAGE]
