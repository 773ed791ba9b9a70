"""Conversation events queued by the edge: an outbox row per event, fanned
out into the audience's streams by the `fan_out_event` worker."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from db.models import Outbox
from pipeline.jobs import FAN_OUT_EVENT, Job
from pipeline.routing import NORMAL, delivery_queue, partition_for


def queue_event(session: Session, *, conversation_id: int, kind: str, payload: dict, user_ids: list[int],
                partitions: int, now: datetime, sweep_grace_seconds: int = 5) -> Job:
    """Record the event's job in this transaction; publish it after commit.

    The event key is fixed here, so a republished or redelivered job adds
    the event to each stream at most once.
    """
    event_key = f"{kind}:{uuid.uuid4().hex}"
    args = [event_key, kind, {"conversation_id": conversation_id, **payload}, sorted(set(user_ids))]
    queue_name = delivery_queue(NORMAL, partition_for(f"c{conversation_id}", partitions))
    outbox = Outbox(message_id=None, queue_name=queue_name, actor_name=FAN_OUT_EVENT, args=args,
                    created_at=now, available_at=now + timedelta(seconds=sweep_grace_seconds))
    session.add(outbox)
    session.flush()
    return Job(outbox.id, queue_name, FAN_OUT_EVENT, tuple(args))
