"""Conversation events queued by the edge: an outbox row per event, fanned
out into the audience's streams by the `fan_out_event` worker."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from pipeline.contract import FAN_OUT_EVENT, conversation_queue
from pipeline.jobs import Job, JobSpec
from usecases.outbox import write_job
from usecases.ports import OutboxPolicy


def queue_event(session: Session, *, conversation_id: int, kind: str, payload: dict, user_ids: list[int],
                policy: OutboxPolicy, now: datetime) -> Job:
    """Record the event's job in this transaction; publish it after commit.

    The event key is fixed here, so a republished or redelivered job adds
    the event to each stream at most once.
    """
    event_key = f"{kind}:{uuid.uuid4().hex}"
    args = [event_key, kind, {"conversation_id": conversation_id, **payload}, sorted(set(user_ids))]
    spec = JobSpec(conversation_queue(conversation_id, policy.partitions), FAN_OUT_EVENT, tuple(args))
    return write_job(session, spec, now, policy)[0]
